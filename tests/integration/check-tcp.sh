#!/bin/bash
# type=tcp against real listeners on loopback: an accepting one (by IP literal, by name, over
# IPv6), a port with nothing behind it (refused, fast), a listener whose accept queue is full so
# the handshake really hangs (the timeout, and under the daemon no socket left behind by the runs
# it abandons), and, in a mount namespace with its own /etc/hosts, a name whose first address
# refuses and whose second one accepts.
source "$(dirname "$0")/lib.sh"

PY=$(command -v /usr/bin/python3 || command -v python3) || skip "no python3"

# The peer: "accept ADDR" accepts and closes every connection; "hang ADDR" listens with a
# backlog of 0 and fills that queue itself, so later handshakes get no answer. The port goes to
# the file given; each peer ends by itself after 60 s.
cat >"$T/peer.py" <<'EOF'
import socket, sys, os, time
mode, addr, portfile = sys.argv[1:4]
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.bind((addr, int(sys.argv[4]) if len(sys.argv) > 4 else 0))
if mode == "hang":
    s.listen(0)
    filler = socket.create_connection(s.getsockname()[:2])
else:
    s.listen(64)
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
os.rename(portfile + ".tmp", portfile)
s.settimeout(1)
end = time.time() + 60
while time.time() < end:
    if mode == "hang":
        time.sleep(1)
        continue
    try:
        c, _ = s.accept()
        c.close()
    except socket.timeout:
        pass
EOF

# peer MODE ADDR NAME [PORT]: starts a peer; sets PORT to its port.
peer() {
        "$PY" "$T/peer.py" "$1" "$2" "$T/$3.port" ${4:+"$4"} 2>>"$T/peer.log" &
        lib_pids+=($!)
        wait_until 10 test -s "$T/$3.port" || fail "peer $3 did not start"
        PORT=$(cat "$T/$3.port")
}

peer accept 127.0.0.1 accept
ACCEPT=$PORT
peer hang 127.0.0.1 hang
HANG=$PORT
# A port nothing listens on: bound for a moment to get a free number, then released.
CLOSED=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
ipv6=no
if "$PY" -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
        peer accept ::1 accept6
        ACCEPT6=$PORT
        ipv6=yes
fi

write_config <<EOF
[watchdog]
device = none

[check.literal]
type = tcp
host = 127.0.0.1
port = $ACCEPT

[check.name]
type = tcp
host = localhost
port = $ACCEPT

[check.v6]
type = tcp
host = [::1]
port = ${ACCEPT6:-1}

[check.refused]
type = tcp
host = 127.0.0.1
port = $CLOSED
timeout = 5s

[check.hang]
type = tcp
host = 127.0.0.1
port = $HANG
timeout = 500ms
EOF

expect_check literal 0 "127\\.0\\.0\\.1:$ACCEPT connected in [0-9.]+ms"
expect_check name 0 "localhost:$ACCEPT \\(127\\.0\\.0\\.1\\) connected in [0-9.]+ms"
if [ "$ipv6" = yes ]; then
        expect_check v6 0 "\\[::1\\]:$ACCEPT6 connected in [0-9.]+ms"
else
        note "no IPv6 on loopback: [::1] not probed"
fi

# Refused: a failure at once, not at the timeout.
expect_check refused 1 "127\\.0\\.0\\.1:$CLOSED: Connection refused"
assert_cmp "refused: probe time (s; timeout 5s)" "$RUN_SECS" "<" 2.5

# The handshake never completes: the probe is abandoned at its timeout, not before, not much after.
expect_check hang 1 "timed out after 500ms"
assert_gave_up hang 0.5

# Under the daemon, every abandoned run must release its socket: 15 timeouts later the daemon
# holds as many descriptors as after the first few, and the pings never stopped.
write_config <<EOF
[watchdog]
device = $DEV
timeout = 1s
interval = 100ms

[supervisor]
state-directory = $STATE
startup-grace = 0

[check.hang]
type = tcp
host = 127.0.0.1
port = $HANG
interval = 200ms
timeout = 100ms
required = no
EOF
start_standin 1
LOG_LEVEL=debug start_daemon
assert_fds_flat hang 10
stop_daemon 0
stop_standin

# A name with two addresses, the first of which refuses: the second is tried within the same
# run. Needs a private /etc/hosts: a mount namespace (root).
if ! unshare --mount true 2>"$T/unshare.err"; then
        skip "the other cases passed; the fallback case needs a mount namespace: $(cat "$T/unshare.err")"
fi
printf '127.0.0.1 localhost\n127.0.0.2 svc.test\n127.0.0.3 svc.test\n' >"$T/hosts"
first=$(unshare --mount sh -c "mount --bind '$T/hosts' /etc/hosts && getent ahostsv4 svc.test" | awk 'NR == 1 { print $1 }')
case "$first" in
127.0.0.2) second=127.0.0.3 ;;
127.0.0.3) second=127.0.0.2 ;;
*) fail "getent in the namespace gave '$first' first for svc.test" ;;
esac
# The same port on the first address is refused: nothing listens there.
peer accept "$second" second
write_config "$T/fallback.conf" <<EOF
[watchdog]
device = none

[check.fallback]
type = tcp
host = svc.test
port = $PORT
EOF
CHECK_CONF=$T/fallback.conf expect_check fallback 0 "svc\\.test:$PORT \\(${second//./\\.}\\) connected in [0-9.]+ms" \
        unshare --mount sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' "$T/hosts"
note "ok: $first refuses, $second accepts"
echo "PASS"
