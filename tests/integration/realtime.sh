#!/bin/bash
# realtime-priority=: the daemon runs SCHED_FIFO with reset-on-fork and locked memory while its
# probes run with normal scheduling. A policy already in place, as systemd's
# CPUSchedulingPolicy= sets it (the unit's system call filter then keeps the daemon from changing
# it), is kept; one without reset-on-fork, which probes would inherit, is named in a warning.
# The plain build: mlockall() under AddressSanitizer would try to lock its terabytes of shadow.
build=$(cd "$(dirname "$0")/../.." && pwd)/build
HEALTHDOG=${HEALTHDOG:-$build/asan/healthdog}
HEALTHDOG=${HEALTHDOG%/asan/healthdog}/healthdog
source "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root (SCHED_FIFO, mlockall)"
command -v chrt >/dev/null || skip "no chrt (util-linux)"
chrt -f 1 true 2>/dev/null || skip "SCHED_FIFO is not allowed here"

write_config <<EOF
[watchdog]
device = none

[supervisor]
state-directory = $STATE
realtime-priority = 10

[check.probe]
type = exec
command = /bin/sh -c 'chrt -p \$\$ >$T/probe.sched'
interval = 200ms
EOF

# sched PID: "POLICY PRIORITY" as chrt reports them.
sched() { chrt -p "$1" | awk -F': ' '/policy/ { p = $2 } /priority/ { print p, $2 }'; }
expect_sched() {
        local got
        got=$(sched "$DAEMON_PID")
        [ "$got" = "$1" ] || fail "daemon scheduling: '$got', expected '$1'"
        note "ok: daemon runs $got"
}

# start_under NAME CHRT-ARGS...: the daemon started by chrt with these arguments, as systemd's
# CPUScheduling*= settings start it; its log is $T/daemon-NAME.log.
start_under() {
        local name=$1
        shift
        rm -f "$T/probe.sched"
        DAEMON_LOG=$T/daemon-$name.log
        HEALTHDOG=$(healthdog_via "$name" chrt "$@") start_daemon
}
# probe_sched POLICY: the probe ran with POLICY.
probe_sched() {
        wait_until 10 test -s "$T/probe.sched" || fail "the probe did not run"
        assert_grep "$T/probe.sched" "policy: $1\$"
}

# 1. Normal scheduling at start: the daemon switches itself.
start_daemon
wait_for_log "$DAEMON_LOG" "Running with SCHED_FIFO priority 10 and locked memory"
expect_sched "SCHED_FIFO|SCHED_RESET_ON_FORK 10"
locked=$(awk '$1 == "VmLck:" { print $2 }' "/proc/$DAEMON_PID/status")
assert_cmp "locked memory (kB)" "$locked" ">" 0
probe_sched SCHED_OTHER
stop_daemon

# 2. Realtime already, with reset-on-fork, as the unit's drop-in sets it: kept as it is.
start_under rt-reset --reset-on-fork -f 30
wait_for_log "$DAEMON_LOG" "Running with SCHED_FIFO priority 30 and locked memory"
expect_sched "SCHED_FIFO|SCHED_RESET_ON_FORK 30"
probe_sched SCHED_OTHER
assert_no_grep "$DAEMON_LOG" "reset-on-fork"
stop_daemon

# 3. Realtime without reset-on-fork: kept, and the warning says what probes get.
start_under rt-plain -f 30
wait_for_log "$DAEMON_LOG" "Running SCHED_FIFO without reset-on-fork: probes and hooks inherit it"
expect_sched "SCHED_FIFO 30"
probe_sched SCHED_FIFO
stop_daemon
