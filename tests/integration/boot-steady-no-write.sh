#!/bin/bash
# Flash wear: a steady boot (nothing pending) writes nothing to the boot environment, however
# long its checks pass, across a daemon restart and across a reboot: the image keeps its bytes,
# mtime and ctime. Both layouts: a single environment with upgrade_available=0, and a redundant
# one with upgrade_available unset and a stale bootcount (U-Boot counts only while an upgrade is
# pending: a leftover count is no reason to write).
source "$(dirname "$0")/bootlib.sh"

CONFIRM=1
RUN_FOR=$((3 * CONFIRM))

boot_config "confirm-after = ${CONFIRM}s" "trial-timeout = 30s" <<EOF
[check.app]
type = file
path = $T/app
interval = 100ms
fail-after = 2
EOF
recording_hook green.d 10-green
recording_hook red.d 10-red
touch "$T/app"

# run_steady LABEL SECONDS: the daemon is up and steady; after SECONDS of passing checks the
# image is as it was and the feeding never paused.
run_steady() {
        local t_end first
        sleep_until "$(calc "$BOOT_T0 + $2")"
        t_end=$(now)
        first=$(awk -v t="$BOOT_T0" '$2 == "PING" && $1 >= t + 0 { print $1; exit }' "$STANDIN_LOG")
        assert_sig_same "$1 after $(calc "$t_end - $BOOT_T0")s" "$ENV" "$sig"
        assert_fed "$1" "$first" "$t_end" 0.1
        assert_no_grep "$DAEMON_LOG" "is now failing|Boot confirmed|Cleared|Failed"
}

echo "== single environment, upgrade_available=0"
single_env upgrade_available=0 bootcount=0 bootlimit=3 'bootcmd=run distro_bootcmd'
sig=$(file_sig "$ENV")
start_boot 1
assert_grep "$DAEMON_LOG" "^<5>Boot phase: steady \\(.*\\); upgrade_available=0 bootcount=0 bootlimit=3 rollback=\\(unset\\)$"
run_steady "boot 1" "$RUN_FOR"
assert_verdict verdict steady
assert_verdict phase steady
assert_verdict env.upgrade_available 0

stop_daemon
DAEMON_LOG=$T/daemon-boot1-restart.log
BOOT_T0=$(now)
start_daemon
assert_grep "$DAEMON_LOG" "^<5>Boot phase: steady"
run_steady "boot 1, daemon restarted" 1.5
assert_cmp "records of boot 1 after the restart" "$(verdict_records)" "==" 1
stop_daemon

start_boot 1
assert_grep "$DAEMON_LOG" "^<5>Boot phase: steady"
run_steady "boot 2" 1.5
assert_cmp "records of boot 2" "$(verdict_records)" "==" 1
assert_verdict verdict steady
stop_daemon

echo "== redundant environment, upgrade_available unset, bootcount=2 left over"
redundant_env bootcount=2 bootlimit=3 rollback=0 'bootcmd=run distro_bootcmd'
sig=$(file_sig "$ENV")
start_boot 1
assert_grep "$DAEMON_LOG" "^<5>Boot phase: steady \\(.*\\); upgrade_available=\\(unset\\) bootcount=2 bootlimit=3 rollback=0$"
run_steady "boot 3" "$RUN_FOR"
assert_verdict verdict steady
assert_verdict env.upgrade_available null
stop_daemon
assert_env bootcount 2
assert_env upgrade_available "(unset)"
[ -f "$HOOK_LOG" ] && fail "hooks ran in a steady boot: $(cat "$HOOK_LOG")"
note "ok: no hook ran"
check_sanitizers
echo "PASS"
