#!/bin/bash
# A green hook that hangs (and leaves a child behind) is killed with its process group at
# hook-timeout, the next hook runs right after it, and the watchdog is fed all along.
source "$(dirname "$0")/bootlib.sh"

HOOK_TIMEOUT=0.5
# Between a hook's exec and its first command (where it notes the time): the start of the hung
# hook may be noted that much late on a loaded machine.
HOOK_LATENCY=0.3

single_env upgrade_available=1 bootcount=1 bootlimit=3
boot_config "confirm-after = 1s" "trial-timeout = 30s" "hook-timeout = 500ms" <<EOF
[check.app]
type = file
path = $T/app
interval = 100ms
fail-after = 2
EOF
recording_hook green.d 10-hang "sleep 30 &
echo \$! >\"$T/hang.child\"
echo \$\$ >\"$T/hang.pid\"
wait"
recording_hook green.d 20-next
touch "$T/app"

start_boot 1
wait_for_log "$DAEMON_LOG" "^<5>Boot confirmed" 10
wait_for_log "$DAEMON_LOG" "2 hooks ran, 1 failed" 10
t_done=$(now)
assert_grep "$DAEMON_LOG" "^<4>Hook 10-hang timed out after 500ms$"
assert_grep "$DAEMON_LOG" "^<6>Hook 20-next exited 0$"
[ "$(hook_order)" = "green.d/10-hang green.d/20-next" ] || fail "hooks ran as: $(hook_order)"
assert_hook_var green.d 20-next HEALTHDOG_VERDICT confirmed
t_hang=$(awk '$2 == "green.d/10-hang" { print $1 }' "$HOOK_LOG")
t_next=$(awk '$2 == "green.d/20-next" { print $1 }' "$HOOK_LOG")
note "hang started at +$(calc "$t_hang - $BOOT_T0")s, next at +$(calc "$t_next - $BOOT_T0")s"
assert_cmp "next hook - hanging hook (s)" "$(calc "$t_next - $t_hang")" ">=" "$(calc "$HOOK_TIMEOUT - $HOOK_LATENCY")"
assert_cmp "next hook - hanging hook (s)" "$(calc "$t_next - $t_hang")" "<=" "$(calc "$HOOK_TIMEOUT + $LOAD_SLACK")"

# The hook and the child it left are gone.
hang_pid=$(cat "$T/hang.pid")
child_pid=$(cat "$T/hang.child")
wait_until 10 dead "$hang_pid" || fail "the hung hook $hang_pid still runs"
wait_until 10 dead "$child_pid" || fail "the hung hook's child $child_pid still runs"
note "ok: the hook ($hang_pid) and its child ($child_pid) were killed"

sleep 1
t_end=$(now)
alive "$DAEMON_PID" || fail "the daemon exited"
assert_fed "while the hook hung" "$t_hang" "$t_next" 0.1
assert_fed "boot" "$(first_ping)" "$t_end" 0.1
assert_fed "after the hooks" "$t_done" "$t_end" 0.1
assert_cmp "RESET events" "$(count_events RESET)" "==" 0
assert_env upgrade_available 0
assert_verdict verdict confirmed
stop_daemon
check_sanitizers
echo "PASS"
