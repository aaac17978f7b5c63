#!/bin/bash
# kill -9 of the daemon: the device is closed at once without the magic 'V' (no probe holds it
# open), it stays armed, and it resets one timeout after the last ping.
source "$(dirname "$0")/lib.sh"

mkdir -p "$T/bin"
ln -s "$(command -v sleep)" "$T/bin/hang"

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

# Running when the daemon dies: it must not have inherited the device.
[check.slow]
type = exec
command = $T/bin/hang 5
interval = 2s
timeout = 1500ms
required = no
EOF

touch "$T/alive"
start_standin 1
start_daemon
wait_until 10 has_process "$T/bin/hang" || fail "the probe did not start"
wait_until 10 pings_ge 5 || fail "fewer than 5 pings before the kill"
t_kill=$(now)
kill -KILL "$DAEMON_PID"
t_killed=$(now)
wait_exit "$DAEMON_PID" 10
DAEMON_PID=
[ "$EXIT_STATUS" = 137 ] || fail "exit status $EXIT_STATUS after SIGKILL, expected 137"
wait_for_log "$STANDIN_LOG" ' CLOSE ' 10
wait_for_log "$STANDIN_LOG" ' RESET ' 10

close=$(event_time CLOSE)
last=$(last_ping)
reset=$(event_time RESET)
note "killed at $t_kill, CLOSE $close, last ping $last, RESET $reset"
[ "$(close_magic)" = no ] || fail "CLOSE magic=$(close_magic) after kill -9"
assert_cmp "MAGIC events" "$(count_events MAGIC)" "==" 0
# The close is the kernel's, when the killed process is gone (an ASan process takes a while to
# be torn down on a loaded machine); after kill(2) returned, the daemon ran no code of its own.
assert_cmp "CLOSE - kill (s)" "$(calc "$close - $t_kill")" ">=" 0
assert_cmp "CLOSE - kill (s)" "$(calc "$close - $t_kill")" "<=" "$LOAD_SLACK"
assert_cmp "pings after the kill" "$(pings "$(calc "$t_killed + 0.05")")" "==" 0
assert_cmp "RESET - last ping (s)" "$(calc "$reset - $last")" ">=" 1.0
assert_cmp "RESET - last ping (s)" "$(calc "$reset - $last")" "<=" 1.5
pgrep -f -- "$T/bin/hang" >/dev/null || fail "the probe was gone before the check (test is not testing fd inheritance)"
echo "PASS"
