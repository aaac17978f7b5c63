#!/bin/bash
# realtime-priority=: the daemon runs SCHED_FIFO with reset-on-fork and locked memory while its
# probes run with normal scheduling. A policy already in place, as systemd's
# CPUSchedulingPolicy= sets it (the unit's system call filter then keeps the daemon from changing
# it), is kept; one without reset-on-fork is named in a warning, and the children still get
# SCHED_OTHER: the exec probe, and the child a name lookup runs in (in a network namespace whose
# DNS server never answers, so the child stays long enough to be looked at).
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
command = /bin/sh -c 'chrt -p \$\$ >>$T/probe-sched.log'
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
        rm -f "$T/probe-sched.log"
        DAEMON_LOG=$T/daemon-$name.log
        HEALTHDOG=$(healthdog_via "$name" chrt "$@") start_daemon
}
# probe_sched POLICY: the probe ran, every time, with POLICY (it appends: a run that truncated
# the file while it was being read would fail the test for nothing).
probe_sched() {
        wait_until 10 test -s "$T/probe-sched.log" || fail "the probe did not run"
        assert_grep "$T/probe-sched.log" "policy: $1\$"
        other=$(grep 'policy:' "$T/probe-sched.log" | grep -v "policy: $1\$")
        [ -z "$other" ] || fail "a probe ran with another policy: $other"
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

# 3. Realtime without reset-on-fork: kept, with a warning; the probe is set back to normal
# scheduling all the same.
start_under rt-plain -f 30
wait_for_log "$DAEMON_LOG" "Running SCHED_FIFO without reset-on-fork"
expect_sched "SCHED_FIFO 30"
probe_sched SCHED_OTHER
stop_daemon

# 4. The same, for the child a name lookup runs in: a dns check in mount and network namespaces
# of its own, whose /etc/resolv.conf points at a DNS server that never answers.
PY=$(command -v /usr/bin/python3 || command -v python3) || skip "the first cases passed; no python3 for the rest"
unshare --mount --net true 2>"$T/unshare.err" ||
        skip "the first cases passed; the rest needs mount and network namespaces: $(cat "$T/unshare.err")"
cat >"$T/silent-dns.py" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
open(sys.argv[1], "w").close()
end = time.time() + 60
while time.time() < end:
    s.settimeout(1)
    try:
        s.recvfrom(512)  # and never answer
    except socket.timeout:
        pass
EOF
printf 'nameserver 127.0.0.1\noptions timeout:5 attempts:1\n' >"$T/resolv.conf"
# Inside the namespaces: lo, the resolv.conf, the silent server, then chrt -f 30 healthdog ARGS.
cat >"$T/in-netns" <<EOF
#!/bin/sh
ip link set lo up && mount --bind "$T/resolv.conf" /etc/resolv.conf || exit 1
"$PY" "$T/silent-dns.py" "$T/dns.ready" 2>"$T/dns.log" &
i=0
while [ ! -e "$T/dns.ready" ] && [ \$i -lt 100 ]; do sleep 0.05; i=\$((i + 1)); done
exec chrt -f 30 "\$@"
EOF
chmod +x "$T/in-netns"
write_config <<EOF
[watchdog]
device = none

[supervisor]
state-directory = $STATE
realtime-priority = 10

[check.lookup]
type = dns
name = app.example
interval = 4s
timeout = 3s
required = no
EOF
DAEMON_LOG=$T/daemon-rt-lookup.log
HEALTHDOG=$(healthdog_via rt-lookup unshare --mount --net "$T/in-netns") start_daemon
wait_for_log "$DAEMON_LOG" "Running SCHED_FIFO without reset-on-fork"
expect_sched "SCHED_FIFO 30"
# The resolver child is a fork of the daemon (comm healthdog); the silent server is python.
resolver() { pgrep -P "$DAEMON_PID" -x healthdog | head -n 1; }
has_resolver() { [ -n "$(resolver)" ]; }
wait_until 5 has_resolver || fail "no resolver child appeared"
child=$(resolver)
got=$(sched "$child")
[ "$got" = "SCHED_OTHER 0" ] || fail "the resolver child $child runs '$got', expected 'SCHED_OTHER 0'"
note "ok: the resolver child runs $got"
stop_daemon
