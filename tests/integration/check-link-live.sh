#!/bin/bash
# type=link in the running daemon, whose link checks answer from one table that rtnetlink's
# notifications keep current: in a network namespace of its own, the test changes a veth pair
# (up/down, carrier, addresses, a rename, the interface deleted and made again) and each check's
# detail in `healthdog status --json` must follow. Then a flood of address changes overflows the
# socket's queue (ENOBUFS): the next run reads everything again and is right, with no failed run.
source "$(dirname "$0")/lib.sh"

NS=hd-live-$$
A=hlA$$
B=hlB$$
RUN=$T/run

command -v ip >/dev/null || skip "no ip command (iproute2)"
command -v python3 >/dev/null || skip "python3 missing"
ip netns add "$NS" 2>"$T/netns.err" || skip "cannot create a network namespace: $(cat "$T/netns.err")"
trap 'ip netns del "$NS" 2>/dev/null; lib_cleanup 2>/dev/null' EXIT
ip -n "$NS" link add "$A" type veth peer name "$B" || fail "cannot create a veth pair in $NS"
ip netns exec "$NS" sysctl -qw "net.ipv6.conf.all.accept_dad=0" "net.ipv6.conf.default.accept_dad=0" 2>/dev/null

write_config <<EOF
[watchdog]
device = none

[supervisor]
state-directory = $STATE
runtime-directory = $RUN
startup-grace = 0

[check.a]
type = link
interface = $A
interval = 1s
environmental = yes

[check.a-ipv4]
type = link
interface = $A
address = ipv4
interval = 1s
environmental = yes
EOF

HEALTHDOG=$(in_netns "$NS") LOG_LEVEL=debug start_daemon

# detail NAME: the check's detail in the daemon's status.
detail() {
        "$HEALTHDOG" status --json -c "$CONF" 2>"$T/status.err" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(next(c["detail"] for c in d["checks"] if c["name"] == sys.argv[1]))' "$1"
}
# expect NAME DETAIL: the daemon's detail for NAME becomes DETAIL within 10 s (runs every 1 s).
expect() {
        wait_until 10 sh -c '[ "$("$0" "$1")" = "$2" ]' "$T/detail" "$1" "$2" ||
                fail "check $1: detail '$(detail "$1")', expected '$2'"
        note "ok: $1 -> '$2'"
}
cat >"$T/detail" <<EOF
#!/bin/bash
$(declare -f detail)
HEALTHDOG=$HEALTHDOG CONF=$CONF T=$T detail "\$1"
EOF
chmod +x "$T/detail"

expect a "$A down"
ip -n "$NS" link set "$A" up
expect a "$A up, no carrier"
ip -n "$NS" link set "$B" up
expect a "$A up, carrier"
expect a-ipv4 "$A up, carrier, no IPv4 address"
ip -n "$NS" addr add 10.202.7.1/24 dev "$A"
expect a-ipv4 "$A up, carrier, 10.202.7.1/24"
ip -n "$NS" addr add 10.202.8.1/24 dev "$A"
ip -n "$NS" addr del 10.202.7.1/24 dev "$A"
expect a-ipv4 "$A up, carrier, 10.202.8.1/24"
ip -n "$NS" link set "$B" down
expect a "$A up, no carrier, 10.202.8.1/24"
ip -n "$NS" link set "$B" up

# A rename: the old name is gone, the new one is not the check's.
ip -n "$NS" link set "$A" down
ip -n "$NS" link set "$A" name "${A}x"
expect a "no such interface $A"
ip -n "$NS" link set "${A}x" name "$A"
ip -n "$NS" link set "$A" up
expect a-ipv4 "$A up, carrier, 10.202.8.1/24"

# Deleted and made again: a new interface index, and none of the old addresses.
ip -n "$NS" link del "$A"
expect a "no such interface $A"
ip -n "$NS" link add "$A" type veth peer name "$B"
ip -n "$NS" link set "$A" up
ip -n "$NS" link set "$B" up
expect a-ipv4 "$A up, carrier, no IPv4 address"

# The flood: thousands of notifications between two runs overflow the socket's queue. The
# addresses on another interface come and go; one stays on A, added in the middle of the flood.
ip -n "$NS" link add hlD$$ type veth peer name hlE$$ || fail "cannot create a second veth pair"
{
        for i in $(seq 1 1500); do echo "addr add 10.203.$((i / 250)).$((i % 250 + 1))/32 dev hlD$$"; done
        echo "addr add 10.202.9.1/24 dev $A"
        for i in $(seq 1 1500); do echo "addr del 10.203.$((i / 250)).$((i % 250 + 1))/32 dev hlD$$"; done
} >"$T/flood.batch"
before=$(grep -c "" "$DAEMON_LOG")
ip -n "$NS" -batch "$T/flood.batch" || fail "ip -batch failed"
expect a-ipv4 "$A up, carrier, 10.202.9.1/24"
expect a "$A up, carrier, 10.202.9.1/24"
tail -n +"$((before + 1))" "$DAEMON_LOG" >"$T/flood.log"
assert_grep "$T/flood.log" "rtnetlink: No buffer space available, reading interfaces and addresses again"
# Reading again is part of the run: no run failed for it, but for one whose dump the flood made
# start over more than 3 times (EBUSY, by design: a flood that outlasts a run's dumps, as on a
# loaded machine); and the check never counts as failing.
grep "failed.*rtnetlink" "$T/flood.log" | grep -v "rtnetlink: Device or resource busy$" >"$T/flood-failures.txt"
[ -s "$T/flood-failures.txt" ] && fail "runs failed on rtnetlink: $(cat "$T/flood-failures.txt")"
note "runs that failed as the flood outlasted their dumps: $(grep -c "failed.*rtnetlink: Device or resource busy$" "$T/flood.log")"
# a-ipv4 has had no IPv4 address since A was made again, and gets one only half-way through the
# flood: on a loaded machine its third failing run can come before that, which is the truth. No
# other failure, and no other detail, may show up.
grep "is now failing" "$T/flood.log" |
        grep -v "^<4>Environmental check 'a-ipv4' is now failing: $A up, carrier, no IPv4 address$" >"$T/flood-failing.txt"
[ -s "$T/flood-failing.txt" ] && fail "the flood made a check fail: $(cat "$T/flood-failing.txt")"
note "ok: no check failed for the flood"

stop_daemon
check_sanitizers
