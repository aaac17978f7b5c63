#!/bin/bash
# The daemon and the helper together, on a system booted from OSTree: after U-Boot rolled back
# (the previous deployment booted while an update was pending), healthdog clears the variables and has
# healthdog-ostree remove the failed default deployment; after a confirmed trial it prunes the
# rollback deployments to keep-rollback. Both are checked from outside with ostree admin status.
source "$(dirname "$0")/../ostree/lib.sh"

can_boot || skip "cannot create a private mount + PID namespace (unshare -mpf) here"
DAEMON=${HEALTHDOG:-$ostree_top/build/asan/healthdog}
[ -x "$DAEMON" ] || skip "missing $DAEMON: build it first (make check)"
command -v mkenvimage >/dev/null && command -v fw_printenv >/dev/null || skip "mkenvimage/fw_printenv missing"

S=$T/sysroot
sysroot_with "$S" 3
v3=$(csum_of "$S" 3)
v2=$(csum_of "$S" 2)

# setup VARS: the daemon, its config and a U-Boot environment image in the stateroot's /var,
# which the booted system sees as /var.
setup() {
        local var=$S/ostree/deploy/$OSNAME/var
        rm -rf "$var/hd"
        mkdir -p "$var/hd/state"
        cp "$DAEMON" "$var/hd/healthdog"
        printf '%s\n' "$@" >"$var/hd/env.txt"
        mkenvimage -s 0x4000 -o "$var/hd/uboot.env" "$var/hd/env.txt"
        echo "/var/hd/uboot.env 0x0 0x4000" >"$var/hd/fw_env.config"
        echo "$var/hd/uboot.env 0x0 0x4000" >"$T/fw_env.config"
        cat >"$var/hd/healthdog.conf" <<EOF
[watchdog]
device = none
[supervisor]
state-directory = /var/hd/state
startup-grace = 0
[bootloader]
type = uboot
fw-env-config = /var/hd/fw_env.config
[assessment]
confirm-after = 1s
hooks-directory = /var/hd
# enable = auto: /run/ostree-booted is there
[ostree]
helper = /run/healthdog-ostree
keep-rollback = 0
[check.root]
type = file
path = /usr
interval = 200ms
EOF
}

# boot CHECKSUM.SERIAL SECONDS UNTIL [COMMAND...]: runs the daemon in that booted deployment for
# at least SECONDS and until its log has a line matching the ERE UNTIL (60 s at most: a loaded
# machine takes long over an OSTree transaction), then stops it with SIGTERM (after COMMAND,
# started in the background there; with WAIT_SOCKET set, once COMMAND listens on that socket,
# at most 5 s later). The daemon's log is in ERR.
boot() {
        local d=$1 t=$2 until=$3
        shift 3
        booted "$S" "$d" /usr/bin/env WAIT_SOCKET="${WAIT_SOCKET:-}" T_MIN="$t" UNTIL="$until" /bin/bash -c '"$@" &
                for _ in $(seq 100); do [ -z "$WAIT_SOCKET" ] || [ -S "$WAIT_SOCKET" ] && break; sleep 0.05; done
                /var/hd/healthdog run -c /var/hd/healthdog.conf 2>/run/hd-daemon.log &
                pid=$!
                start=$SECONDS
                until [ $((SECONDS - start)) -ge 60 ] ||
                        { [ $((SECONDS - start)) -ge "$T_MIN" ] && grep -Eq -- "$UNTIL" /run/hd-daemon.log; }; do
                        sleep 0.1
                done
                kill -TERM "$pid"
                wait "$pid"
                rc=$?
                cat /run/hd-daemon.log >&2
                exit "$rc"' \
                bash "${@:-true}"
        echo "$ERR" | sed 's/^/    | /'
        # 0: stopped by SIGTERM, as planned.
        [ "$RC" = 0 ] || fail "the daemon exited $RC"
}

echo "== rolled back, told by the deployment: 2 booted, 3 (the default) failed, no rollback flag"
# A boot script whose altbootcmd does not set rollback=1, with bootcount not (yet) past bootlimit:
# the variables alone would say "trial"; the booted deployment says the bootloader fell back.
setup upgrade_available=1 bootcount=2 bootlimit=3
boot "$v2.0" 3 "OSTree remove-failed done"
grep -q "The previous (not the default) OSTree deployment is booted" <<<"$ERR" || fail "deployment not asked"
grep -q "Boot phase: rolled-back (an older deployment was booted" <<<"$ERR" || fail "not seen as rolled back"
grep -q "Removing the failed deployment $v3" <<<"$ERR" || fail "did not remove version 3"
grep -q "OSTree remove-failed done" <<<"$ERR" || fail "remove-failed did not finish"
expect_deployments "$S" 2 1
expect_uenv_entries "$S" 2
[ "$(fw_printenv -c "$T/fw_env.config" -n upgrade_available bootcount 2>/dev/null | tr '\n' ' ')" = "0 0 " ] ||
        fail "env not cleared: $(fw_printenv -c "$T/fw_env.config")"
# The daemon hands the helper its own state directory: the quarantine sits beside its records.
grep -qx "$v3" "$S/ostree/deploy/$OSNAME/var/hd/state/quarantine" || fail "version 3 not quarantined"
[ ! -e "$S/ostree/deploy/$OSNAME/var/hd/state/deploy-pending" ] || fail "the removal is still noted as pending"
note "ok: version 3 removed and quarantined, 2 and 1 kept, the variables cleared"

echo "== a trial of 2 (now the default) confirmed: the rollback deployment pruned"
setup upgrade_available=1 bootcount=1 bootlimit=3
boot "$v2.0" 4 "OSTree prune done"
grep -q "The default OSTree deployment is booted" <<<"$ERR" || fail "deployment not asked"
grep -q "Boot confirmed" <<<"$ERR" || fail "not confirmed"
grep -q "OSTree prune done" <<<"$ERR" || fail "prune did not finish"
expect_deployments "$S" 2
note "ok: pruned to the booted deployment (keep-rollback = 0)"

echo "== an update deployed and armed before its reboot, then healthdog restarts (issue 15 #1)"
# A steady boot of 3. An OTA client deploys 4 without staging (it is the default now) and sets
# upgrade_available=1; then the daemon restarts in the same boot. Its phase is the one decided
# when the boot started: steady. The old daemon read "default is not booted" as a rollback,
# cleared the variables and removed 4 before it ever booted.
S=$T/sysroot-pending
sysroot_with "$S" 3
setup upgrade_available=0 bootcount=0 bootlimit=3
boot "$(deployments "$S" | awk 'NR == 1 { print $1 }')" 2 "Boot phase: steady"
grep -q "Boot phase: steady" <<<"$ERR" || fail "boot of 3 is not steady"
booted3=$(deployments "$S" | awk 'NR == 1 { print $1 }')
commit_version "$S" 4 >/dev/null
deploy "$S"
expect_deployments "$S" 4 3 2 1
printf '%s\n' upgrade_available=1 bootcount=0 >"$T/arm.script"
fw_setenv -c "$T/fw_env.config" -s "$T/arm.script" || fail "fw_setenv failed"
boot "$booted3" 3 "as decided when this boot started"
grep -q "Boot phase: steady (.*), as decided when this boot started" <<<"$ERR" || fail "the restart decided the phase anew"
grep -q "rolled-back\|Removing the failed deployment" <<<"$ERR" && fail "the pending update was taken for a rollback"
expect_deployments "$S" 4 3 2 1
[ "$(fw_printenv -c "$T/fw_env.config" -n upgrade_available 2>/dev/null)" = 1 ] ||
        fail "the armed trial was cleared: $(fw_printenv -c "$T/fw_env.config")"
note "ok: the update deployed before the reboot stays, its trial stays armed"

echo "== rolled back, but the variables cannot be cleared: nothing is removed (issue 15 #3)"
# With the variables still set, the next boot runs altbootcmd again and boots an older deployment:
# removing the failed one now would make the known-good one look failed then.
S=$T/sysroot-roenv
sysroot_with "$S" 3
v2=$(csum_of "$S" 2)
setup upgrade_available=1 bootcount=4 bootlimit=3 rollback=1
WAIT_SOCKET=/run/ro.sock boot "$v2.0" 4 "removing nothing until then" /bin/sh -c 'mount --bind -o ro /var/hd/uboot.env /var/hd/uboot.env &&
        exec python3 -c "import socket, time; s = socket.socket(socket.AF_UNIX); s.bind(\"/run/ro.sock\"); time.sleep(30)"'
grep -q "Boot phase: rolled-back" <<<"$ERR" || fail "not seen as rolled back"
grep -q "Failed to clear the rollback state .*removing nothing until then" <<<"$ERR" || fail "the failed clear was not reported"
grep -q "Removing the failed deployment" <<<"$ERR" && fail "a deployment was removed before the variables were cleared"
expect_deployments "$S" 3 2 1
[ "$(fw_printenv -c "$T/fw_env.config" -n rollback 2>/dev/null)" = 1 ] || fail "the read-only environment changed"
note "ok: the variables could not be cleared, every deployment stays"

echo "== through healthdog-ostree.socket: the helper is not the daemon's child"
# As under systemd: a socket whose connections each start `healthdog-ostree serve` (here
# systemd-socket-activate in inetd mode; healthdog-ostree@.service on a device). The daemon has
# no helper to run itself: everything must go through the socket.
command -v systemd-socket-activate >/dev/null || fail "systemd-socket-activate missing (package systemd)"
S=$T/sysroot-socket
sysroot_with "$S" 3
v3=$(csum_of "$S" 3)
v2=$(csum_of "$S" 2)
setup upgrade_available=1 bootcount=4 bootlimit=3 rollback=1
sed -i 's|^helper = .*|helper = /nonexistent/healthdog-ostree\nhelper-socket = /run/hd-ostree.sock|' "$S/ostree/deploy/$OSNAME/var/hd/healthdog.conf"
WAIT_SOCKET=/run/hd-ostree.sock boot "$v2.0" 4 "OSTree remove-failed done" systemd-socket-activate --inetd -a -l /run/hd-ostree.sock \
        /run/healthdog-ostree serve
grep -q "Removing the failed deployment $v3" <<<"$ERR" || fail "did not remove version 3 through the socket"
grep -q "OSTree remove-failed done" <<<"$ERR" || fail "remove-failed through the socket did not finish"
grep -q "Spawned /run/healthdog-ostree" <<<"$ERR" || fail "the socket did not start the helper"
expect_deployments "$S" 2 1
grep -qx "$v3" "$S/ostree/deploy/$OSNAME/var/hd/state/quarantine" || fail "version 3 not quarantined"
note "ok: version 3 removed through the socket, the daemon never ran the helper"
echo "PASS"
