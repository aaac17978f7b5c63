#!/bin/bash
# A device that cannot be opened (a directory, a missing path) is a clear startup error naming
# the path, exit 1. A device another process holds (EBUSY) gets the diagnosis of who usually
# holds a watchdog and how to hand it over: the kernel's watchdog core answers a second open with
# EBUSY, and so does a terminal held with TIOCEXCL to anyone without CAP_SYS_ADMIN, which is how
# it is made here (a pty whose holder set TIOCEXCL; the daemon started without CAP_SYS_ADMIN).
# device = none is a dry run: the checks run, nothing is armed, SIGTERM exits 0.
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

# Busy: a pty held with TIOCEXCL, opened by a daemon without CAP_SYS_ADMIN.
PY=$(command -v /usr/bin/python3 || command -v python3) || skip "the first cases passed; no python3 for the busy device"
cat >"$T/holder.py" <<'EOF'
import fcntl, os, sys, termios, time
master, slave = os.openpty()
fcntl.ioctl(slave, termios.TIOCEXCL)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(os.ttyname(slave) + "\n")
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
time.sleep(60)
EOF
"$PY" "$T/holder.py" "$T/busy-tty" 2>"$T/holder-err.log" &
lib_pids+=($!)
wait_until 3 test -s "$T/busy-tty" || fail "the pty holder did not start: $(cat "$T/holder-err.log")"
busy=$(cat "$T/busy-tty")
setpriv --bounding-set=-sys_admin true 2>/dev/null || skip "the first cases passed; cannot drop CAP_SYS_ADMIN for the busy device"
DAEMON_LOG=$T/daemon-busy.log
rm -f "$T/runs"
HEALTHDOG=$(healthdog_via no-sys-admin setpriv --bounding-set=-sys_admin) \
        cannot_open "$busy" "Device or resource busy\\. Another process holds the watchdog: most often systemd \\(RuntimeWatchdogSec= in /etc/systemd/system\\.conf: set it to off and run 'systemctl daemon-reexec'\\) or a watchdog daemon \\(wd_keepalive, watchdog, watchdogd: stop and disable it\\)\\. Only one process can feed the device\\."
echo "PASS"
