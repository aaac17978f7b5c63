#!/bin/bash
# Healthy file and exec checks keep the watchdog fed, for well over 20 intervals, and run on
# their own schedules; no ping and no run is more than the schedule asks for.
source "$(dirname "$0")/lib.sh"

INTERVAL=0.1    # [watchdog] interval
RUN=2.6         # seconds observed: 26 intervals

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
max-age = 3s
interval = 100ms
fail-after = 2

[check.selftest]
type = exec
command = /bin/sh -c 'echo run >>$T/selftest-runs'
# A shell may take hundreds of milliseconds to start on a loaded machine.
interval = 500ms
timeout = 450ms
EOF

# The application: touches its heartbeat every 100 ms (bounded: at most 10 s; max-age leaves a
# loaded machine seconds to run it).
touch "$T/alive"
( for _ in $(seq 100); do touch "$T/alive"; sleep 0.1; done ) &
lib_pids+=($!)

start_standin 1
LOG_LEVEL=debug start_daemon
wait_until 10 pings_ge 1 || fail "no first ping within 10 s"
t0=$(first_ping)
sleep "$RUN"
t1=$(now)

elapsed=$(calc "$t1 - $t0")
expected=$(awk -v e="$elapsed" -v i="$INTERVAL" 'BEGIN { printf "%d\n", e / i }')
n=$(pings "$t0" "$t1")
note "observed $elapsed s: $n pings, $expected intervals"
assert_cmp "intervals observed" "$expected" ">=" 20
assert_fed "healthy checks" "$t0" "$t1" "$INTERVAL"
# One ping at arming plus one per interval, never more (a late ping is not made up for).
assert_cmp "pings" "$n" "<=" "$((expected + 2))"
assert_cmp "RESET events" "$(count_events RESET)" "==" 0
assert_cmp "CLOSE events" "$(count_events CLOSE)" "==" 0

# Both checks really ran, and passed every time: at least half the runs their intervals ask for
# (the machine may be loaded), never more than those. The count is read once the daemon stopped.
stop_daemon 0
runs=$(wc -l <"$T/selftest-runs")
assert_cmp "selftest runs" "$runs" ">=" "$(awk -v e="$elapsed" 'BEGIN { printf "%d\n", e / 0.5 / 2 }')"
assert_cmp "selftest runs" "$runs" "<=" "$(awk -v e="$(calc "$(now) - $t0")" 'BEGIN { printf "%d\n", e / 0.5 + 2 }')"
hb=$(grep -c "^<7>Check 'heartbeat': pass: " "$DAEMON_LOG")
assert_cmp "heartbeat passes" "$hb" ">=" "$((expected / 2))"
assert_no_grep "$DAEMON_LOG" "fail:|failed|failing|^<[0-3]>"
[ -e "$REASON" ] && fail "reset-reason.json written while healthy"
assert_grep "$DAEMON_LOG" "^<5>Leaving '$DEV' armed"
echo "PASS"
