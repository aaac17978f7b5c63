#!/bin/bash
# A required heartbeat that goes away stops the feeding after fail-after runs, the reason is
# recorded before the last ping, the stand-in resets one timeout after it, and the decision holds
# when the heartbeat comes back.
source "$(dirname "$0")/lib.sh"

CHECK=0.1       # heartbeat interval
FAIL_AFTER=3

write_config <<EOF
[watchdog]
device = $DEV
timeout = 1s
interval = 100ms

[supervisor]
state-directory = $STATE
startup-grace = 0

[check.heartbeat]
type = file
path = $T/alive
interval = 100ms
fail-after = $FAIL_AFTER
EOF

touch "$T/alive"
start_standin 1
start_daemon
wait_until 10 pings_ge 5 || fail "fewer than 5 pings within 10 s"

t_fail=$(now)
rm "$T/alive"
wait_for_log "$DAEMON_LOG" "^<2>Required check 'heartbeat' is failing" 10
# The application comes back: too late, the decision is final for this run.
touch "$T/alive"
wait_for_log "$DAEMON_LOG" "^<5>Required check 'heartbeat' is healthy again" 10
wait_for_log "$STANDIN_LOG" ' RESET ' 10
sleep 0.3

load_reason
crossing=$CROSSING
last=$(last_ping)
reset=$(event_time RESET)
note "heartbeat removed at $t_fail, crossing at $crossing, last ping $last, RESET $reset"
# The feeding stops at the FAIL_AFTERth failed run, not before, not after: counted in the log, as
# the time it takes depends on how loaded the machine is.
fails=$(awk "/^<2>Required check 'heartbeat' is failing/ { exit }
        /^<[35]>Required check 'heartbeat' (failed \\([0-9]+ of $FAIL_AFTER |is now failing)/ { n++ } END { print n + 0 }" "$DAEMON_LOG")
assert_cmp "failed runs before the feeding stopped" "$fails" "==" "$FAIL_AFTER"
assert_cmp "crossing - removal (s)" "$(calc "$crossing - $t_fail")" ">=" "$(calc "($FAIL_AFTER - 1) * $CHECK - 0.01")"
assert_fed "until the crossing" "$(first_ping)" "$crossing"
assert_cmp "pings after the crossing" "$(pings "$(calc "$crossing + 0.05")")" "==" 0
assert_cmp "crossing - last ping (s)" "$(calc "$crossing - $last")" ">=" -0.05
assert_cmp "RESET - last ping (s)" "$(calc "$reset - $last")" ">=" 1.0
assert_cmp "RESET - last ping (s)" "$(calc "$reset - $last")" "<=" 1.5
assert_cmp "CLOSE events" "$(count_events CLOSE)" "==" 0

[ "$(reason_field reason)" = check-failed ] || fail "reason: $(cat "$REASON")"
[ "$REASON_CHECK" = heartbeat ] || fail "check in reset-reason.json: $(cat "$REASON")"
[ "$REASON_DETAIL" = "$T/alive: No such file or directory" ] || fail "detail: $(cat "$REASON")"
# realtime_usec was taken together with monotonic_usec: both clocks are as far apart now as then
# (read together, in one process).
read -r wall mono < <(python3 -c 'import time; print(time.time(), time.clock_gettime(time.CLOCK_MONOTONIC))')
skew=$(awk -v r="$(reason_field realtime_usec)" -v c="$crossing" -v w="$wall" -v m="$mono" \
        'BEGIN { d = (r / 1e6 - c) - (w - m); printf "%.6f\n", d < 0 ? -d : d }')
assert_cmp "realtime_usec - monotonic_usec vs. the clocks' offset now (s)" "$skew" "<=" 0.05
assert_grep "$DAEMON_LOG" "^<2>Required check 'heartbeat' is failing \\($T/alive: No such file or directory\\): no longer feeding '?$DEV"

alive "$DAEMON_PID" || fail "the daemon exited after it stopped feeding"
stop_daemon 0
echo "PASS"
