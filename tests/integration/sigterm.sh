#!/bin/bash
# SIGTERM stops the daemon cleanly (exit 0). By default the device stays armed (no magic close)
# and resets; with disarm-on-stop = yes it is disarmed ('V', then close) and never resets; but
# not when the feeding had already stopped: then the reset must still come.
source "$(dirname "$0")/lib.sh"

# config DISARM-ON-STOP HEARTBEAT-PATH
config() {
        write_config <<EOF
[watchdog]
device = $DEV
timeout = 1s
interval = 100ms
disarm-on-stop = $1

[supervisor]
state-directory = $STATE
startup-grace = 0

[check.heartbeat]
type = file
path = $2
interval = 100ms
fail-after = 1
EOF
}

# term: SIGTERM, exit 0 within 10 s; sets t_term.
term() {
        t_term=$(now)
        stop_daemon 0
        assert_grep "$DAEMON_LOG" "^<6>Received TERM, stopping$"
}

touch "$T/alive"

echo "1. defaults: left armed"
config no "$T/alive"
start_standin 1
start_daemon
sleep 0.5
term
wait_for_log "$STANDIN_LOG" ' RESET ' 10
last=$(last_ping)
note "SIGTERM at $t_term, CLOSE $(event_time CLOSE), last ping $last, RESET $(event_time RESET)"
assert_cmp "MAGIC events" "$(count_events MAGIC)" "==" 0
[ "$(close_magic)" = no ] || fail "CLOSE magic=$(close_magic), expected no"
assert_cmp "CLOSE - SIGTERM (s)" "$(calc "$(event_time CLOSE) - $t_term")" "<=" "$LOAD_SLACK"
assert_cmp "RESET - last ping (s)" "$(calc "$(event_time RESET) - $last")" ">=" 1.0
assert_cmp "RESET - last ping (s)" "$(calc "$(event_time RESET) - $last")" "<=" 1.5
assert_grep "$DAEMON_LOG" "^<5>Leaving '$DEV' armed"
stop_standin

echo "2. disarm-on-stop = yes: disarmed"
config yes "$T/alive"
DAEMON_LOG=$T/daemon2.log
start_standin 1 "$T/standin2.log"
start_daemon
sleep 0.5
term
wait_for_log "$STANDIN_LOG" ' CLOSE ' 10
magic=$(event_time MAGIC)
close=$(event_time CLOSE)
note "SIGTERM at $t_term, MAGIC $magic, CLOSE $close"
assert_cmp "MAGIC events" "$(count_events MAGIC)" "==" 1
assert_cmp "MAGIC - SIGTERM (s)" "$(calc "$magic - $t_term")" ">=" 0
assert_cmp "CLOSE - MAGIC (s)" "$(calc "$close - $magic")" ">=" 0
[ "$(close_magic)" = yes ] || fail "CLOSE magic=$(close_magic), expected yes"
# Nothing may come after the close, and no reset for twice the timeout.
sleep 2
assert_cmp "RESET events within 2 s of the close" "$(count_events RESET)" "==" 0
assert_cmp "pings after the close" "$(pings "$close")" "==" 0
assert_grep "$DAEMON_LOG" "^<6>Watchdog disarmed"
stop_standin

echo "3. disarm-on-stop = yes after the feeding stopped: left armed"
config yes "$T/gone"
DAEMON_LOG=$T/daemon3.log
start_standin 1 "$T/standin3.log"
start_daemon
wait_for_log "$DAEMON_LOG" "^<2>Required check 'heartbeat' is failing" 10
term
wait_for_log "$STANDIN_LOG" ' RESET ' 10
note "SIGTERM at $t_term, CLOSE $(event_time CLOSE), RESET $(event_time RESET)"
assert_cmp "MAGIC events" "$(count_events MAGIC)" "==" 0
[ "$(close_magic)" = no ] || fail "CLOSE magic=$(close_magic), expected no"
assert_cmp "RESET - last ping (s)" "$(calc "$(event_time RESET) - $(last_ping)")" "<=" 1.5
assert_grep "$DAEMON_LOG" "^<5>Leaving '$DEV' armed"
echo "PASS"
