# shellcheck shell=bash
# Sourced by tests/vm/check-vm and tests/vm/demo: runs the device image ($VM, made by
# `make vm-image`) with a scenario and reads back what happened.
#
# A scenario is a bash fragment put on the image's FAT partition as /scenario; the guest's agent
# (tests/vm/guest/usr/lib/healthdog-vm/agent) runs it once per boot with $boot and $version set
# and its functions (update, finish, ...). At its end the guest prints its report (lines starting
# with "@@") and leaves through isa-debug-exit; the host then reads the console, the QMP counts
# (tests/vm/qemu-run) and the U-Boot environment on the disk with fw_printenv.

set -u
vm_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VM=${VM:-$vm_top/${B:-build}/vm}
# The agent's finish: QEMU exits with this code when the guest says the scenario ran to its end.
VM_DONE=10
# The partition holding uboot.env (1 MiB into the disk, see tests/vm/build-image).
VM_FAT_OFFSET=1M

vm_require() {
        local t missing=()
        for t in qemu-system-x86_64 mcopy fw_printenv python3; do
                command -v "$t" >/dev/null || missing+=("$t")
        done
        [ ${#missing[@]} -eq 0 ] || { echo "FAIL: missing tools: ${missing[*]} (tests/install-deps vm)"; return 1; }
        for t in "$VM/disk.img" "$VM/u-boot/u-boot.rom" "$VM/u-boot/u-boot-script.rom"; do
                [ -f "$t" ] || { echo "FAIL: missing $t: run make vm-image"; return 1; }
        done
}

# vm_run DIR ROM SCENARIO-FILE TIMEOUT [qemu-run options...]: a fresh copy of the disk in DIR
# with the scenario on it, booted until the guest finishes; leaves DIR/console.log, DIR/run.json
# and the disk. Returns qemu-run's status.
vm_run() {
        local dir=$1 rom=$2 scenario=$3 timeout=$4
        shift 4
        mkdir -p "$dir"
        rm -f "$dir/disk.img"
        cp --sparse=always "$VM/disk.img" "$dir/disk.img"
        mcopy -o -i "$dir/disk.img@@$VM_FAT_OFFSET" "$scenario" ::scenario || return 1
        "$vm_top/tests/vm/qemu-run" --bios "$rom" --disk "$dir/disk.img" --disk-format raw \
                --serial-log "$dir/console.log" --json "$dir/run.json" \
                --timeout "$timeout" --boot-timeout 150 "$@" </dev/null
}

# vm_json DIR KEY: a field of qemu-run's summary (boots, watchdog_resets, duration_s, end, ...).
vm_json() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1/run.json" "$2"; }

# vm_report DIR TAG: the guest's "@@TAG ..." lines of the last report, without the tag (the
# console puts the journal's "[time] agent[pid]: " before them).
vm_report() {
        tr -d '\r' <"$1/console.log" | sed -n "s/^.*@@$2\\( \\|\$\\)//p"
}

# vm_status DIR PATH: a field of the last `healthdog status --json` the guest printed, by a
# Python expression on j (e.g. 'j["boot"]["verdict"]').
vm_status() {
        vm_report "$1" status | tail -n 1 | python3 -c 'import json, sys
j = json.loads(sys.stdin.read())
v = eval(sys.argv[1])
print(json.dumps(v) if isinstance(v, (bool, dict, list)) or v is None else v)' "$2"
}

# vm_env DIR NAME: NAME in the U-Boot environment on the disk, read on the host with fw_printenv
# (both copies copied out of the FAT partition), or "(unset)".
vm_env() {
        local dir=$1 line
        if [ ! -f "$dir/fw_env.config" ]; then
                mcopy -o -i "$dir/disk.img@@$VM_FAT_OFFSET" ::uboot.env ::uboot-redund.env "$dir/" || return 1
                printf '%s 0x0 0x4000\n' "$dir/uboot.env" "$dir/uboot-redund.env" >"$dir/fw_env.config"
        fi
        line=$(fw_printenv -c "$dir/fw_env.config" 2>/dev/null | grep -m1 "^$2=") || { echo "(unset)"; return; }
        echo "${line#*=}"
}

# Assertions: they print what they checked; the first failure ends the scenario (exit 1).
vm_fail() {
        echo "FAIL: $*"
        echo "--- the console's last lines ($VM_DIR/console.log):"
        tr -d '\r' <"$VM_DIR/console.log" | tail -n 40 | sed 's/^/    | /'
        exit 1
}
expect_eq() {
        [ "$2" = "$3" ] || vm_fail "$1 is '$2', expected '$3'"
        echo "  ok: $1 = $2"
}
expect_match() {
        grep -Eq -- "$3" <<<"$2" || vm_fail "$1: '$2' does not match /$3/"
        echo "  ok: $1: $(grep -Em1 -- "$3" <<<"$2")"
}
expect_console() {
        tr -d '\r' <"$VM_DIR/console.log" | grep -Eq -- "$1" || vm_fail "no console line matches /$1/"
        echo "  ok: console: $(tr -d '\r' <"$VM_DIR/console.log" | grep -Em1 -- "$1")"
}

# expect_rolled_back_once: a trial that failed before healthdog could judge it (bootlimit=1):
# three boots, the last one the previous deployment (version 1), seen as rolled back, the failed
# deployment removed and the known-good one kept, the variables cleared on the disk.
expect_rolled_back_once() {
        local v
        expect_eq "boots" "$(vm_json "$VM_DIR" boots)" 3
        expect_eq "verdict of the last boot" "$(vm_status "$VM_DIR" 'j["boot"]["verdict"]')" rolled-back
        expect_eq "deployments left" "$(vm_report "$VM_DIR" ostree | grep -c '^[* ] debian ')" 1
        expect_match "the deployment left" "$(vm_report "$VM_DIR" ostree)" "Version: 1$"
        expect_eq "quarantined commits" "$(vm_report "$VM_DIR" quarantine | grep -c .)" 1
        for v in upgrade_available bootcount rollback; do
                expect_eq "$v (fw_printenv on the host)" "$(vm_env "$VM_DIR" $v)" 0
        done
}
