#!/bin/bash
# A device that cannot be opened (a directory, a missing path) is a clear startup error naming
# the path, exit 1. device = none is a dry run: the checks run, nothing is armed, SIGTERM exits 0.
# (EBUSY, another process holding the device, needs a real watchdog driver: see the VM tests.)
source "$(dirname "$0")/lib.sh"

# config DEVICE
config() {
        write_config <<EOF
[watchdog]
device = $1
timeout = 1s
interval = 100ms

[supervisor]
state-directory = $STATE
startup-grace = 0

[check.counted]
type = exec
command = /bin/sh -c 'echo run >>$T/runs'
interval = 100ms

[check.missing]
type = file
path = $T/missing-heartbeat
interval = 100ms
fail-after = 2
EOF
}

# cannot_open DEVICE ERROR
cannot_open() {
        config "$1"
        HEALTHDOG_LOG_LEVEL=info "$HEALTHDOG" run -c "$CONF" 2>"$DAEMON_LOG" &
        DAEMON_PID=$!
        lib_pids+=("$DAEMON_PID")
        wait_exit "$DAEMON_PID" 10
        DAEMON_PID=
        [ "$EXIT_STATUS" = 1 ] || fail "device = $1: exit $EXIT_STATUS, expected 1"
        note "ok: device = $1: exit 1"
        assert_grep "$DAEMON_LOG" "^<3>Failed to open '$1': $2$"
        assert_no_grep "$DAEMON_LOG" "Supervising|^<2>"
        check_sanitizers
        [ -e "$T/runs" ] && fail "checks ran although the device could not be opened"
        return 0
}

mkdir "$T/a-directory"
cannot_open "$T/a-directory" "Is a directory"
DAEMON_LOG=$T/daemon-missing.log
cannot_open "$T/no-such-device" "No such file or directory"

DAEMON_LOG=$T/daemon-none.log
config none
start_daemon
assert_grep "$DAEMON_LOG" "^<5>device = none: dry run"
wait_for_log "$DAEMON_LOG" "^<2>Required check 'missing' is failing .*: dry run, a watchdog would now stop being fed" 10
# Nothing will reset, so nothing may claim a reset is coming.
[ -e "$STATE/reset-reason.json" ] && fail "a dry run recorded a reset reason: $(cat "$STATE/reset-reason.json")"
# The checks go on running after the (simulated) decision.
runs_before=$(wc -l <"$T/runs")
wait_until 10 log_count_ge "$T/runs" . "$((runs_before + 3))" || fail "fewer than 3 exec runs after the decision within 10 s"
note "ok: $(( $(wc -l <"$T/runs") - runs_before )) exec runs after the decision"
stop_daemon 0
assert_no_grep "$DAEMON_LOG" "Leaving|disarmed|Armed"
echo "PASS"
