#!/bin/bash
# type=dns: first with this machine's own resolver (localhost from /etc/hosts, with and without
# expect-address, and a name under .invalid that must fail fast); then in a mount and network
# namespace of its own, with a private /etc/hosts and /etc/resolv.conf pointing at a scripted DNS
# server on its loopback: names from hosts (several addresses, per family), a name answered over
# DNS, NXDOMAIN, and a server that never answers: the probe is abandoned at its timeout and,
# under the daemon, every resolver child is killed then, not left hanging.
source "$(dirname "$0")/lib.sh"

PY=$(command -v /usr/bin/python3 || command -v python3) || skip "no python3"

if [ -z "${HD_IN_NAMESPACE:-}" ]; then
        # ---- This machine's resolver.
        INVALID=no-such-host-$$.invalid
        write_config <<EOF
[watchdog]
device = none

[check.localhost]
type = dns
name = localhost

[check.localhost-v4]
type = dns
name = localhost
family = ipv4
expect-address = 127.0.0.1

[check.localhost-wrong]
type = dns
name = localhost
expect-address = 192.0.2.1

[check.invalid]
type = dns
name = $INVALID
timeout = 5s
EOF
        # /etc/hosts may list ::1 for localhost as well.
        A='([0-9a-f.:]+ )*'
        expect_check localhost 0 "localhost resolved to ${A}127\\.0\\.0\\.1( [0-9a-f.:]+)* in [0-9.]+m?s"
        expect_check localhost-v4 0 "localhost \\(ipv4\\) resolved to 127\\.0\\.0\\.1 in [0-9.]+m?s"
        expect_check localhost-wrong 1 "localhost resolved to ${A}127\\.0\\.0\\.1( [0-9a-f.:]+)* \\(expected 192\\.0\\.2\\.1\\)"
        # RFC 6761: .invalid never resolves. A clear resolver message, well before the timeout.
        expect_check invalid 1 "${INVALID//./\\.}: [A-Z][a-z].*[a-z]"
        [[ "$DETAIL" == *"timed out"* ]] && fail "the .invalid lookup hung"
        assert_cmp "invalid: probe time (s; timeout 5s)" "$RUN_SECS" "<" 2.5

        # ---- The namespace part: this script again, inside it.
        unshare --mount --net true 2>"$T/unshare.err" ||
                skip "the first cases passed; the rest needs mount and network namespaces: $(cat "$T/unshare.err")"
        mkdir -p "$T/ns"
        HD_IN_NAMESPACE=1 TEST_TMPDIR=$T/ns unshare --mount --net "$0"
        rc=$?
        [ "$rc" = 0 ] || exit "$rc"
        exit 0
fi

# ---- Inside the namespaces (private mounts and network; this directory is $T = outer $T/ns).
ip link set lo up || fail "cannot bring lo up"
printf '127.0.0.1 localhost\n::1 localhost\n10.1.2.3 multi.test\n10.1.2.4 multi.test\nfd00::5 multi.test\n' >"$T/hosts"
# One try, a 5 s wait per query: a lookup the server ignores hangs far beyond the check timeouts.
printf 'nameserver 127.0.0.1\noptions timeout:5 attempts:1\n' >"$T/resolv.conf"
mount --bind "$T/hosts" /etc/hosts && mount --bind "$T/resolv.conf" /etc/resolv.conf ||
        fail "cannot bind-mount hosts and resolv.conf"

# The DNS server: dns.test has A 10.9.8.7 (and no AAAA); names under hang.test get no answer;
# everything else is NXDOMAIN. Each query is logged as "<name> <type>".
cat >"$T/dns.py" <<'EOF'
import socket, struct, sys, time
log, ready = sys.argv[1:3]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
open(ready, "w").close()
s.settimeout(1)
end = time.time() + 60
while time.time() < end:
    try:
        data, peer = s.recvfrom(512)
    except socket.timeout:
        continue
    i, labels = 12, []
    while data[i]:
        labels.append(data[i + 1:i + 1 + data[i]].decode())
        i += 1 + data[i]
    name = ".".join(labels).lower()
    qtype = struct.unpack(">H", data[i + 1:i + 3])[0]
    with open(log, "a") as f:
        f.write("%s %d\n" % (name, qtype))
    if name.endswith("hang.test"):
        continue
    qid, flags = struct.unpack(">HH", data[:4])
    question, answer, rcode = data[12:i + 5], b"", 3
    if name == "dns.test":
        rcode = 0
        if qtype == 1:
            answer = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + socket.inet_aton("10.9.8.7")
    header = struct.pack(">HHHHHH", qid, 0x8080 | (flags & 0x0100) | rcode, 1, 1 if answer else 0, 0, 0)
    s.sendto(header + question + answer, peer)
EOF
"$PY" "$T/dns.py" "$T/queries.log" "$T/dns.ready" 2>"$T/dns.log" &
lib_pids+=($!)
wait_until 10 test -e "$T/dns.ready" || fail "the DNS server did not start"

write_config <<EOF
[watchdog]
device = none

[check.multi]
type = dns
name = multi.test

[check.multi-v4]
type = dns
name = multi.test
family = ipv4
expect-address = 10.1.2.4

[check.multi-v6]
type = dns
name = multi.test
family = ipv6
expect-address = fd00::5

[check.localhost-v6]
type = dns
name = localhost
family = ipv6

[check.over-dns]
type = dns
name = dns.test
family = ipv4
expect-address = 10.9.8.7

[check.nxdomain]
type = dns
name = nope.invalid
timeout = 3s

[check.hang]
type = dns
name = a.hang.test
timeout = 500ms

[check.tcp-by-name]
type = tcp
host = b.hang.test
port = 80
timeout = 500ms
EOF

expect_check multi 0 "multi\\.test resolved to (10\\.1\\.2\\.3 10\\.1\\.2\\.4 fd00::5|fd00::5 10\\.1\\.2\\.3 10\\.1\\.2\\.4) in [0-9.]+m?s"
expect_check multi-v4 0 "multi\\.test \\(ipv4\\) resolved to 10\\.1\\.2\\.3 10\\.1\\.2\\.4 in [0-9.]+m?s"
expect_check multi-v6 0 "multi\\.test \\(ipv6\\) resolved to fd00::5 in [0-9.]+m?s"
expect_check localhost-v6 0 "localhost \\(ipv6\\) resolved to ::1 in [0-9.]+m?s"
expect_check over-dns 0 "dns\\.test \\(ipv4\\) resolved to 10\\.9\\.8\\.7 in [0-9.]+m?s"
assert_grep "$T/queries.log" "^dns\\.test 1$"
expect_check nxdomain 1 "nope\\.invalid: Name or service not known"
assert_cmp "nxdomain: probe time (s; timeout 3s)" "$RUN_SECS" "<" 1.5
assert_grep "$T/queries.log" "^nope\\.invalid "

# The server ignores the query: the probe is abandoned at its timeout.
expect_check hang 1 "timed out after 500ms"
assert_gave_up hang 0.5
assert_grep "$T/queries.log" "^a\\.hang\\.test "
# The same for a tcp check whose name does not resolve in time.
expect_check tcp-by-name 1 "timed out after 500ms"
assert_gave_up tcp-by-name 0.5
assert_grep "$T/queries.log" "^b\\.hang\\.test "

# Under the daemon, the resolver child of every abandoned run is killed at the timeout: while 12
# runs ask the server (A and AAAA; it never answers), the children alive at once, sampled every
# 20 ms or as often as a loaded machine lets the sampler run, are never more than two (the
# resolver itself would wait 5 s: children left to it would pile up, 20 at this interval); none
# is seen for as long as a second; and none is left at the end.
write_config <<EOF
[watchdog]
device = $DEV
timeout = 1s
interval = 100ms

[supervisor]
state-directory = $STATE
startup-grace = 0

[check.hang]
type = dns
name = c.hang.test
interval = 250ms
timeout = 100ms
required = no
EOF
: >"$T/samples"
queries() { grep -c '^c\.hang\.test ' "$T/queries.log"; }
start_standin 1
start_daemon
t0=$(now)
end=$(calc "$t0 + 60")
while [ "$(queries)" -lt 24 ] && awk -v a="$(now)" -v b="$end" 'BEGIN { exit !(a < b) }'; do
        # Live children only: a zombie has been killed already and is reaped next.
        echo "$(now) $(ps -o pid=,stat= --ppid "$DAEMON_PID" | awk '$2 !~ /^Z/ { print $1 }' | tr '\n' ' ')" >>"$T/samples"
        sleep 0.02
done
t1=$(now)
lifetimes=$(awk '{ for (i = 2; i <= NF; i++) { if (!($i in first)) first[$i] = $1; last[$i] = $1 } }
        END { for (p in first) printf "%.3f\n", last[p] - first[p] }' "$T/samples" | sort -n)
note "$(wc -l <"$T/samples") samples; resolver children seen: $(echo "$lifetimes" | grep -c .), seconds each was seen alive: $(echo $lifetimes)"
assert_cmp "queries for c.hang.test (A and AAAA: each child really asked)" "$(queries)" ">=" 24
assert_cmp "resolver children seen" "$(echo "$lifetimes" | grep -c .)" ">=" 1
assert_cmp "most resolver children alive at once" "$(awk '{ if (NF - 1 > max) max = NF - 1 } END { print max + 0 }' "$T/samples")" "<=" 2
assert_cmp "longest a resolver child was seen alive (s)" "$(echo "$lifetimes" | tail -n 1)" "<" 1
assert_fed "resolver children killed" "$t0" "$t1" 0.1
pid=$DAEMON_PID
stop_daemon 0
stop_standin
left=$(pgrep -f -- "$CONF" | grep -vx "$pid")
[ -z "$left" ] || fail "processes left behind by the daemon: $(ps -o pid,stat,args -p "$left")"
echo "PASS"
