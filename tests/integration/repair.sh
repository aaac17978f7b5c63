#!/bin/bash
# Repairs come before failing: a repair-command that fixes the fault keeps the device fed; one
# that does not is tried repair-max times, then the check fails and the feeding stops. An
# environmental check that fails is reported but never stops the feeding.
source "$(dirname "$0")/lib.sh"

write_config <<EOF
[watchdog]
device = $DEV
timeout = 1s
interval = 100ms

[supervisor]
state-directory = $STATE
startup-grace = 0

# Repaired by recreating the file.
[check.fixable]
type = file
path = $T/fixable
interval = 100ms
fail-after = 2
repair-command = /bin/sh -c 'echo recreating; touch "$T/fixable"'

# The repair runs but does not help.
[check.broken]
type = file
path = $T/broken
interval = 100ms
fail-after = 2
repair-command = /bin/sh -c 'echo "\$HEALTHDOG_CHECK" >>"$T/repairs"'
repair-max = 2

# The network is down: shown, never a reason to reset.
[check.uplink]
type = file
path = $T/uplink
interval = 100ms
fail-after = 1
environmental = yes
EOF

touch "$T/fixable" "$T/broken"
start_standin 1
start_daemon
sleep 0.4

rm "$T/fixable"
wait_for_log "$DAEMON_LOG" "Required check 'fixable' is failing .*: repair attempt 1 of 1" 10
wait_for_log "$DAEMON_LOG" "Repair 1 of check 'fixable' done: exit 0: recreating" 10
[ -e "$T/fixable" ] || fail "the repair did not run"
sleep 0.5
assert_no_grep "$DAEMON_LOG" "check 'fixable' is now failing"
wait_for_log "$DAEMON_LOG" "Environmental check 'uplink' is now failing"
assert_cmp "RESET events while repaired" "$(count_events RESET)" "==" 0

t_fail=$(now)
rm "$T/broken"
wait_for_log "$DAEMON_LOG" "Required check 'broken' is failing .*: repair attempt 2 of 2" 10
wait_for_log "$DAEMON_LOG" "Required check 'broken' is now failing" 10
wait_for_log "$STANDIN_LOG" ' RESET ' 10
crossing=$(reason_time)
note "broken removed at $t_fail, final crossing at $crossing"
# Three rounds of fail-after 2 at 100 ms: two repaired, the third final; five intervals, one of
# which may be up to half an interval short (a run moves onto the nearest ping tick, once).
assert_cmp "crossing - removal (s)" "$(calc "$crossing - $t_fail")" ">=" 0.45
assert_cmp "crossing - removal (s)" "$(calc "$crossing - $t_fail")" "<=" "$(calc "1.0 + $LOAD_SLACK")"
[ "$(grep -c broken "$T/repairs")" = 2 ] || fail "expected 2 repairs, log: $(cat "$T/repairs")"
[ "$(reason_field check)" = broken ] || fail "reset-reason.json names $(reason_field check), not broken"
assert_cmp "pings after the crossing" "$(pings "$(calc "$crossing + 0.05")")" "==" 0
stop_daemon
check_sanitizers
echo "repair OK"
