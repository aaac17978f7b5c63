#!/bin/bash
# A reload cancels the running probes: their whole process groups are killed, also when the
# reload lands right after a probe was forked. Reloads are sent one to two check intervals apart,
# around when the next run starts (a reloaded check runs again one interval after the reload).
source "$(dirname "$0")/lib.sh"

RELOADS=50

mkdir -p "$T/bin"
ln -s "$(command -v sleep)" "$T/bin/hang"
cat >"$T/bin/probe" <<EOF
#!/bin/sh
echo run >>$T/starts
$T/bin/hang 30 &
$T/bin/hang 30
EOF
chmod +x "$T/bin/probe"

write_config <<EOF
[watchdog]
device = none

[supervisor]
state-directory = $STATE
startup-grace = 0

[check.slow]
type = exec
command = $T/bin/probe
interval = 100ms
timeout = 50ms
required = no
EOF

start_daemon
for _ in $(seq "$RELOADS"); do
        kill -HUP "$DAEMON_PID"
        # 100-190 ms: mostly just after the reloaded check started its next run (one interval
        # after the reload), sometimes just before, whatever the load on the machine.
        sleep "0.1$((RANDOM % 10))"
done
wait_until 10 log_count_ge "$DAEMON_LOG" '^<6>Configuration reloaded' "$RELOADS" ||
        fail "only $(grep -c '^<6>Configuration reloaded' "$DAEMON_LOG") of $RELOADS reloads logged"
# The probes did run, so that there was something to cancel.
assert_cmp "probe runs started" "$(cat "$T/starts" 2>/dev/null | wc -l)" ">=" "$((RELOADS / 4))"
stop_daemon 0
# Every probe run ends within its 50 ms timeout, and the stop kills what runs; anything still
# there once a loaded machine had seconds to reap them leaked.
wait_until 10 no_process "$T/bin/"
left=$(pgrep -f -- "$T/bin/" | wc -l)
[ "$left" -eq 0 ] && note "ok: no probe process left"
[ "$left" -eq 0 ] || fail "$left probe processes outlived their check: $(pgrep -af -- "$T/bin/")"
echo "PASS"
