#!/bin/bash
# A required check that fails from the start does not stop the feeding during startup-grace, and
# stops it as soon as the grace is over.
source "$(dirname "$0")/lib.sh"

PING=0.1
GRACE=2

write_config <<EOF
[watchdog]
device = $DEV
timeout = 1s
interval = 100ms

[supervisor]
state-directory = $STATE
startup-grace = ${GRACE}s

[check.app-ready]
type = file
path = $T/ready
interval = 100ms
fail-after = 1
EOF

start_standin 1
LOG_LEVEL=debug start_daemon
wait_for_log "$DAEMON_LOG" "^<3>Required check 'app-ready' is now failing: .*\\(startup grace: still feeding\\)$" 10
wait_for_log "$DAEMON_LOG" "^<2>Required check 'app-ready' is failing" "$((GRACE + 10))"
wait_for_log "$STANDIN_LOG" ' RESET ' 10

# The daemon armed the device (first ping) just before it started the grace timer.
armed=$(first_ping)
grace_end=$(calc "$armed + $GRACE")
load_reason
crossing=$CROSSING
last=$(last_ping)
reset=$(event_time RESET)
note "armed $armed, grace ends ~$grace_end, crossing $crossing, last ping $last, RESET $reset"
# (the daemon pings a little after it started the grace timer: more so on a loaded machine)
assert_cmp "crossing - arming (s)" "$(calc "$crossing - $armed")" ">=" "$(calc "$GRACE - 0.25")"
assert_cmp "crossing - arming (s)" "$(calc "$crossing - $armed")" "<=" "$(calc "$GRACE + $LOAD_SLACK")"
# Fed all through the grace ...
assert_fed "during the grace" "$armed" "$crossing" "$PING"
# ... and not a moment longer: the decision is taken when the grace ends, before any further run
# of the check (in the debug log), and nothing is pinged after it.
runs_between=$(awk "/^<6>Startup grace is over/ { on = 1 } /^<2>Required check 'app-ready' is failing/ { exit }
        on && /^<7>Check 'app-ready':/ { n++ } END { print n + 0 }" "$DAEMON_LOG")
assert_cmp "check runs between the grace's end and the decision" "$runs_between" "==" 0
assert_cmp "pings after the crossing" "$(pings "$(calc "$crossing + 0.05")")" "==" 0
assert_cmp "RESET - last ping (s)" "$(calc "$reset - $last")" "<=" 1.5
assert_cmp "RESET - last ping (s)" "$(calc "$reset - $last")" ">=" 1.0
[ "$REASON_CHECK" = app-ready ] || fail "check in reset-reason.json: $(cat "$REASON")"
assert_grep "$DAEMON_LOG" "^<6>Startup grace is over"
# The failure was known long before the grace ended: it is the grace that held the decision back.
first_failure=$(grep -n "is now failing" "$DAEMON_LOG" | cut -d: -f1)
grace_over=$(grep -n "Startup grace is over" "$DAEMON_LOG" | cut -d: -f1)
assert_cmp "log line of the failure" "$first_failure" "<" "$grace_over"
stop_daemon 0
echo "PASS"
