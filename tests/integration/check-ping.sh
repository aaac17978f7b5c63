#!/bin/bash
# type=ping against real peers, all inside two network namespaces the test makes (nothing leaves
# the machine): loopback (127.0.0.1, ::1), a peer namespace over a veth pair that answers from
# its kernel or from a scripted responder (partial loss, late, duplicate and forged replies), and
# an address with no host behind it. Each through a raw socket (CAP_NET_RAW) and through an
# unprivileged ICMP datagram socket (no CAP_NET_RAW, net.ipv4.ping_group_range), and without
# either, which must say why.
source "$(dirname "$0")/lib.sh"

NSC=hd-pingc-$$ # the client: healthdog runs here
NSP=hd-pingp-$$ # the peer
C=hdC$$ P=hdP$$
C_ADDR=10.202.7.1 P_ADDR=10.202.7.2 NOBODY=10.202.7.99

command -v ip >/dev/null || skip "no ip command (iproute2)"
command -v setpriv >/dev/null || skip "no setpriv (util-linux)"
command -v python3 >/dev/null || skip "no python3"
ip netns add "$NSC" 2>"$T/netns.err" || skip "cannot create a network namespace: $(cat "$T/netns.err")"
trap 'ip netns del "$NSC" 2>/dev/null; ip netns del "$NSP" 2>/dev/null; lib_cleanup 2>/dev/null' EXIT
ip netns add "$NSP" || fail "cannot create a second network namespace"
ip -n "$NSC" link set lo up && ip -n "$NSP" link set lo up || fail "cannot bring up lo"
ip -n "$NSC" link add "$C" type veth peer name "$P" netns "$NSP" || fail "cannot create a veth pair"
ip -n "$NSC" addr add "$C_ADDR/24" dev "$C" && ip -n "$NSP" addr add "$P_ADDR/24" dev "$P" &&
        ip -n "$NSC" link set "$C" up && ip -n "$NSP" link set "$P" up || fail "cannot set up the veth pair"

ipv6=yes
if [ ! -e /proc/sys/net/ipv6 ]; then
        ipv6="no IPv6 in this kernel"
elif ! wait_until 10 sh -c "ip -n $NSC -6 addr show dev lo | grep -q '::1/128'"; then
        ipv6="no ::1 on lo in a new namespace: $(ip -n "$NSC" -6 addr show dev lo)"
fi

# Each namespace starts with net.ipv4.ping_group_range = "1 0": nobody may open ICMP datagram
# sockets. Per socket path, how healthdog runs, and the range that goes with it.
AS_RAW=()                                       # root, with CAP_NET_RAW: raw socket
AS_DGRAM=(setpriv --bounding-set -net_raw)      # root without it: datagram socket, if the range allows
ping_range() { ip netns exec "$NSC" sysctl -qw "net.ipv4.ping_group_range=$1 $2" || fail "cannot set ping_group_range"; }

write_config <<EOF
[watchdog]
device = none

[check.lo4]
type = ping
host = 127.0.0.1

[check.lo6]
type = ping
host = ::1
count = 5
spacing = 50ms

[check.peer]
type = ping
host = $P_ADDR

# For the responder, which only sees requests: 3 echoes, 200ms apart, 150ms to answer.
[check.scripted]
type = ping
host = $P_ADDR
spacing = 200ms
reply-timeout = 150ms

[check.scripted-strict]
type = ping
host = $P_ADDR
spacing = 200ms
reply-timeout = 150ms
max-loss = 0

[check.scripted-lenient]
type = ping
host = $P_ADDR
spacing = 200ms
reply-timeout = 150ms
max-loss = 67

[check.nobody]
type = ping
host = $NOBODY
spacing = 200ms
reply-timeout = 300ms
timeout = 2s
EOF

# expect_ping NAME EXIT DETAIL-ERE [PREFIX...]: expect_check in the client namespace, under PREFIX.
expect_ping() { expect_check "$1" "$2" "$3" ip netns exec "$NSC" "${@:4}"; }

# responder MODE: answers echo requests to the peer in place of its kernel, request k by the
# letter k of MODE (cycled): 1 = reply, 2 = reply twice, 0 = drop, l = reply 250ms late,
# f = forged replies only (another id, a sequence never sent, a wrong payload).
RESPONDER_PID=
responder() {
        stop_responder
        : >"$T/responder.log"
        ip netns exec "$NSP" python3 "$T/responder.py" "$1" "$T/responder.log" &
        RESPONDER_PID=$!
        lib_pids+=("$RESPONDER_PID")
        wait_for_log "$T/responder.log" '^ready' 10
}
stop_responder() {
        [ -n "$RESPONDER_PID" ] || return 0
        kill "$RESPONDER_PID" 2>/dev/null
        wait "$RESPONDER_PID" 2>/dev/null
        RESPONDER_PID=
}
cat >"$T/responder.py" <<'EOF'
import socket, struct, sys, threading

mode, log = sys.argv[1], open(sys.argv[2], "w", buffering=1)
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)

def checksum(b):
    if len(b) % 2:
        b += b"\0"
    n = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while n >> 16:
        n = (n & 0xFFFF) + (n >> 16)
    return ~n & 0xFFFF

def reply(dst, ident, seq, payload):
    p = struct.pack("!BBHHH", 0, 0, 0, ident, seq) + payload
    s.sendto(p[:2] + struct.pack("!H", checksum(p)) + p[4:], (dst, 0))

log.write("ready\n")
k = 0
while True:
    data, (src, _) = s.recvfrom(4096)
    icmp = data[(data[0] & 15) * 4:]
    if len(icmp) < 8 or icmp[0] != 8:
        continue
    _, _, _, ident, seq = struct.unpack("!BBHHH", icmp[:8])
    payload, action = icmp[8:], mode[k % len(mode)]
    k += 1
    log.write("request %d id=%d seq=%d: %s\n" % (k, ident, seq, action))
    if action in "12":
        for _ in range(int(action)):
            reply(src, ident, seq, payload)
    elif action == "l":
        threading.Timer(0.25, reply, (src, ident, seq, payload)).start()
    elif action == "f":
        reply(src, ident ^ 0x5A5A, seq, payload)
        reply(src, ident, seq + 7, payload)
        reply(src, ident, seq, bytes(b ^ 0xFF for b in payload))
EOF

# ---- Without CAP_NET_RAW and outside ping_group_range: no socket, and the detail says why.
expect_ping lo4 1 "no ICMP socket: group 0 is not in net.ipv4.ping_group_range and no CAP_NET_RAW" "${AS_DGRAM[@]}"

for path in raw dgram; do
        if [ $path = raw ]; then
                as=("${AS_RAW[@]}")
                ping_range 1 0
        else
                as=("${AS_DGRAM[@]}")
                ping_range 0 0
        fi
        note "---- $path socket"

        # Loopback.
        expect_ping lo4 0 "3/3 replies from 127\.0\.0\.1, avg [0-9.]+ms" "${as[@]}"
        assert_cmp "lo4 probe time (s), 3 echoes 200ms apart" "$RUN_SECS" ">=" 0.4
        assert_cmp "lo4 probe time (s)" "$RUN_SECS" "<" 1.4
        if [ "$ipv6" = yes ]; then
                expect_ping lo6 0 "5/5 replies from ::1, avg [0-9.]+ms" "${as[@]}"
        fi

        # The peer's kernel answers.
        ip netns exec "$NSP" sysctl -qw net.ipv4.icmp_echo_ignore_all=0
        expect_ping peer 0 "3/3 replies from $P_ADDR, avg [0-9.]+ms" "${as[@]}"

        # The scripted responder instead of the peer's kernel.
        ip netns exec "$NSP" sysctl -qw net.ipv4.icmp_echo_ignore_all=1
        responder 100
        expect_ping scripted 1 "1/3 replies from $P_ADDR \(67% loss > max 50%\)" "${as[@]}"
        assert_cmp "requests the responder saw" "$(grep -c '^request' "$T/responder.log")" "==" 3
        expect_ping scripted-lenient 0 "1/3 replies from $P_ADDR \(67% loss\), avg [0-9.]+ms" "${as[@]}"
        responder 110
        expect_ping scripted 0 "2/3 replies from $P_ADDR \(33% loss\), avg [0-9.]+ms" "${as[@]}"
        expect_ping scripted-strict 1 "2/3 replies from $P_ADDR \(33% loss > max 0%\)" "${as[@]}"
        # Two copies of every reply: still 3 replies, not 6.
        responder 2
        expect_ping scripted-strict 0 "3/3 replies from $P_ADDR, avg [0-9.]+ms" "${as[@]}"
        # Forgeries only: none may count.
        responder f
        expect_ping scripted 1 "0/3 replies from $P_ADDR \(100% loss > max 50%\)" "${as[@]}"
        assert_cmp "forged replies sent" "$(grep -c ': f$' "$T/responder.log")" "==" 3
        # Replies 250ms after each request, 150ms allowed: the first two come while the probe
        # still listens (at 0.25 and 0.45s; it ends at 0.4 + 0.15s) and are counted as late; the
        # third (0.65s) too when a loaded machine makes the probe end late, one when it delays
        # the responder. None counts as a reply.
        responder l
        expect_ping scripted 1 "0/3 replies from $P_ADDR \(100% loss > max 50%\): [1-3] late" "${as[@]}"
        stop_responder

        # Nobody behind the address: every echo waits out its reply-timeout, and the run ends
        # with the loss (the detail), not with the check's timeout (2s).
        expect_ping nobody 1 "0/3 replies from $NOBODY \(100% loss > max 50%\)" "${as[@]}"
        assert_cmp "nobody probe time (s), >= 2 x 200ms + 300ms" "$RUN_SECS" ">=" 0.7
done

# ---- In the daemon, from the client namespace: results are logged, and a stop in the middle of
# a probe releases everything (socket, timers, memory: LeakSanitizer watches) and exits at once.
ping_range 1 0
HEALTHDOG=$(in_netns "$NSC")
write_config <<EOF
[watchdog]
device = none

[supervisor]
state-directory = $STATE
startup-grace = 0

[check.gw]
type = ping
host = $NOBODY
spacing = 2s
reply-timeout = 3s
interval = 20s
timeout = 10s
required = no

[check.lo]
type = ping
host = 127.0.0.1
spacing = 50ms
reply-timeout = 100ms
interval = 500ms
EOF
LOG_LEVEL=debug start_daemon
t_start=$(now)
wait_for_log "$DAEMON_LOG" "^<7>Check 'lo': pass: 3/3 replies from 127\.0\.0\.1, avg [0-9.]+ms$" 10
# gw's first run takes 7 s (3 echoes 2 s apart, then 3 s for the last reply): stop inside it, with
# at least 2 s of it left.
start=$(now)
assert_cmp "stop issued after the daemon started (s)" "$(calc "$start - $t_start")" "<" 5
stop_daemon 0
assert_cmp "stop during a probe (s)" "$(calc "$(now) - $start")" "<" 2
assert_no_grep "$DAEMON_LOG" "Check 'gw'"

check_sanitizers
if [ "$ipv6" != yes ]; then
        skip "everything over IPv4 passed, but ::1 was not tested: $ipv6"
fi
echo "PASS"
