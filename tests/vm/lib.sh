# shellcheck shell=bash
# Sourced by tests/vm/check-vm and tests/vm/demo: runs the device image ($VM, made by
# `make vm-image`) with a scenario and reads back what happened.
#
# A scenario is a bash fragment put on the image's FAT partition as /scenario; the guest's agent
# (tests/vm/guest/usr/lib/healthdog-vm/agent) runs it once per boot with $boot and $version set
# and its functions (update, finish, ...). At its end the guest prints its report (lines starting
# with "@@") and leaves through isa-debug-exit; the host then reads the console, the QMP counts
# (tests/vm/qemu-run) and the U-Boot environment on the disk with fw_printenv.
#
# BOOT=grub (set by a scenario) runs the GRUB image instead ($VM/disk-grub.img, booted by QEMU's
# SeaBIOS; build-image makes both): the same sysroot with GRUB in the MBR and /boot on its own
# partition, whose grubenv vm_grubenv reads on the host.

set -u
vm_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VM=${VM:-$vm_top/${B:-build}/vm}
# The agent's finish: QEMU exits with this code when the guest says the scenario ran to its end.
VM_DONE=10
# The partition holding uboot.env (1 MiB into the disk, see tests/vm/build-image).
VM_FAT_OFFSET=1M
# The arm64 device in a box (`make vm-image-arm64`): a scenario that sets ARCH=arm64 runs there,
# on QEMU's virt board with the U-Boot environment in its second flash bank (a copy of
# $VM_ARM64/u-boot/flash1.img per run, DIR/flash.img).
VM_ARM64=${VM_ARM64:-$vm_top/${B:-build}/vm-arm64}
# Where conf/uboot/fw_env-arm64.config's offsets start in flash.img: /dev/mtd0 is both banks.
VM_FLASH_BANK=$((0x4000000))

# vm_require [ARCH]: the tools and the image of x86_64 (default) or arm64.
vm_require() {
        local t missing=()
        if [ "${1:-x86_64}" = arm64 ]; then
                for t in qemu-system-aarch64 mcopy fw_printenv python3 socat; do
                        command -v "$t" >/dev/null || missing+=("$t")
                done
                [ ${#missing[@]} -eq 0 ] || { echo "FAIL: missing tools: ${missing[*]} (tests/install-deps vm-arm64)"; return 1; }
                for t in "$VM_ARM64/disk.img" "$VM_ARM64/u-boot/u-boot.bin" "$VM_ARM64/u-boot/u-boot-script.bin" \
                        "$VM_ARM64/u-boot/flash1.img"; do
                        [ -f "$t" ] || { echo "FAIL: missing $t: run make vm-image-arm64"; return 1; }
                done
                return 0
        fi
        for t in qemu-system-x86_64 mcopy fw_printenv python3 socat; do
                command -v "$t" >/dev/null || missing+=("$t")
        done
        [ ${#missing[@]} -eq 0 ] || { echo "FAIL: missing tools: ${missing[*]} (tests/install-deps vm)"; return 1; }
        command -v debugfs >/dev/null || { echo "FAIL: missing tools: debugfs (tests/install-deps vm)"; return 1; }
        for t in "$VM/disk.img" "$VM/u-boot/u-boot.rom" "$VM/u-boot/u-boot-script.rom" "$VM/disk-grub.img"; do
                [ -f "$t" ] || { echo "FAIL: missing $t: run make vm-image"; return 1; }
        done
}

# The update server the guest sees at http://$VM_SERVER/ (the image's remote "origin"): QEMU's
# user network with restrict=on and one guestfwd, a connection to that address and port at a time
# handed to socat, which connects to the server on this machine's loopback. The guest reaches
# nothing else, and nothing leaves the machine.
VM_SERVER=10.0.2.100:80

# vm_serve_start DIR: $VM/server (the archive repo build-image made) served on 127.0.0.1 at a
# free port, its log in DIR/server.log; sets VM_SERVER_PID and VM_NET (the QEMU arguments).
vm_serve_start() {
        local port i
        port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        python3 -m http.server --bind 127.0.0.1 --directory "$VM/server" "$port" >"$1/server.log" 2>&1 &
        VM_SERVER_PID=$!
        for ((i = 0; i < 100; i++)); do
                python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' \
                        "http://127.0.0.1:$port/repo/config" 2>/dev/null && break
                sleep 0.1
        done
        VM_NET=(-netdev "user,id=n0,restrict=on,guestfwd=tcp:$VM_SERVER-cmd:socat STDIO TCP:127.0.0.1:$port"
                -device virtio-net-pci,netdev=n0)
}

vm_serve_stop() {
        [ -z "${VM_SERVER_PID:-}" ] || kill "$VM_SERVER_PID" 2>/dev/null
        wait "$VM_SERVER_PID" 2>/dev/null
        VM_SERVER_PID=
}

# vm_run DIR ROM SCENARIO-FILE TIMEOUT [qemu-run options...]: a fresh copy of the disk in DIR
# with the scenario on it, booted until the guest finishes; leaves DIR/console.log, DIR/run.json
# and the disk. With SERVE=1 the guest has a network and the update server (vm_serve_start).
# With BOOT=grub the disk is disk-grub.img and ROM is not used (SeaBIOS boots GRUB from the MBR;
# a boot starts at GRUB's "Booting `ENTRY'"). With ARCH=arm64, the arm64 image with a fresh copy of
# the flash in DIR/flash.img; "@@flash-copy NAME" from the guest copies it to DIR/NAME.img.
# A line "@@power-cut ..." from the guest cuts its power (QMP system_reset). BOOT_TIMEOUT: the
# hang guard of one boot, 150 s (a GRUB scenario's boot that deploys runs grub-mkconfig, ~30 s
# more under TCG, and up to a minute beside other work; 300 s on arm64, where a boot under TCG
# takes 60-80 s, twice that beside other work). Returns qemu-run's status.
vm_run() {
        local dir=$1 rom=$2 scenario=$3 timeout=$4 rc disk=$VM/disk.img machine=() firmware boot_timeout
        shift 4
        firmware=(--bios "$rom")
        boot_timeout=${BOOT_TIMEOUT:-150}
        mkdir -p "$dir"
        if [ "${ARCH:-x86_64}" = arm64 ]; then
                disk=$VM_ARM64/disk.img
                cp "$VM_ARM64/u-boot/flash1.img" "$dir/flash.img"
                machine=(--arch arm64 --flash "$dir/flash.img" --flash-copies "$dir")
                boot_timeout=${BOOT_TIMEOUT:-300}
        elif [ "${BOOT:-uboot}" = grub ]; then
                disk=$VM/disk-grub.img
                firmware=(--banner 'Booting `')
        fi
        rm -f "$dir/disk.img"
        cp --sparse=always "$disk" "$dir/disk.img"
        mcopy -o -i "$dir/disk.img@@$VM_FAT_OFFSET" "$scenario" ::scenario || return 1
        VM_NET=()
        [ "${SERVE:-}" != 1 ] || vm_serve_start "$dir"
        "$vm_top/tests/vm/qemu-run" "${machine[@]}" "${firmware[@]}" --disk "$dir/disk.img" --disk-format raw \
                --serial-log "$dir/console.log" --json "$dir/run.json" --power-cut-on '@@power-cut' \
                --timeout "$timeout" --boot-timeout "$boot_timeout" "$@" -- "${VM_NET[@]}" </dev/null
        rc=$?
        [ "${SERVE:-}" != 1 ] || vm_serve_stop
        return $rc
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
        if [ "${ARCH:-x86_64}" = arm64 ]; then
                vm_flash_config "$dir/flash.img" >"$dir/fw_env.config"
        elif [ ! -f "$dir/fw_env.config" ]; then
                mcopy -o -i "$dir/disk.img@@$VM_FAT_OFFSET" ::uboot.env ::uboot-redund.env "$dir/" || return 1
                printf '%s 0x0 0x4000\n' "$dir/uboot.env" "$dir/uboot-redund.env" >"$dir/fw_env.config"
        fi
        line=$(fw_printenv -c "$dir/fw_env.config" 2>/dev/null | grep -m1 "^$2=") || { echo "(unset)"; return; }
        echo "${line#*=}"
}

# vm_grubenv_cat DISK: the GRUB environment block (/grub/grubenv on the /boot partition, p3) of
# the disk image DISK, its bytes as they are, read on the host with debugfs.
vm_grubenv_cat() {
        local start
        start=$(sfdisk -d "$1" | sed -n 's|^.*\.img3 : start= *\([0-9]*\),.*|\1|p')
        [ -n "$start" ] || { echo "(no partition 3 on $1)" >&2; return 1; }
        debugfs -R 'cat /grub/grubenv' "$1?offset=$((start * 512))" 2>/dev/null
}

# vm_grubenv DISK NAME: NAME in that block, or "(unset)".
vm_grubenv() {
        vm_grubenv_cat "$1" | sed -n "s/^$2=//p" | grep . || echo "(unset)"
}

# vm_flash_config FLASH: conf/uboot/fw_env-arm64.config for a copy of the second flash bank.
vm_flash_config() {
        local dev off size rest
        while read -r dev off size rest; do
                case $dev in "" | "#"*) continue ;; esac
                printf '%s 0x%x %s\n' "$1" $((off - VM_FLASH_BANK)) "$size"
        done <"$vm_top/conf/uboot/fw_env-arm64.config"
}

# vm_flash_copies FLASH: one line per copy of the environment in a copy of the flash bank, read
# byte by byte: "OFFSET valid flag=F upgrade_available=U bootcount=C" (CRC right) or
# "OFFSET invalid" (CRC wrong: erased, or written in part).
vm_flash_copies() {
        vm_flash_config "$1" | python3 -c 'import sys, zlib, struct
for line in sys.stdin:
    path, off, size = line.split()
    off, size = int(off, 16), int(size, 16)
    with open(path, "rb") as f:
        f.seek(off)
        b = f.read(size)
    crc, flag, data = struct.unpack("<I", b[:4])[0], b[4], b[5:]
    if zlib.crc32(data) != crc:
        print("0x%x invalid" % off)
        continue
    env = dict(v.split(b"=", 1) for v in data.split(b"\0\0")[0].split(b"\0") if b"=" in v)
    print("0x%x valid flag=%d" % (off, flag), " ".join("%s=%s" % (k, env.get(k.encode(), b"(unset)").decode())
          for k in ("upgrade_available", "bootcount")))'
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
