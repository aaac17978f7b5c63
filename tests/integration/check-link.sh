#!/bin/bash
# type=link against a real veth pair in a network namespace of its own: the test brings the ends
# up and down and adds addresses, and `healthdog check`, run inside the namespace, must see each
# state: missing interface, down, up without and with carrier, without and with an address
# (IPv6 link-local addresses do not count).
source "$(dirname "$0")/lib.sh"

NS=hd-link-$$
A=hdA$$         # the end the checks watch
B=hdB$$         # its peer: down = no carrier on A

command -v ip >/dev/null || skip "no ip command (iproute2)"
ip netns add "$NS" 2>"$T/netns.err" || skip "cannot create a network namespace: $(cat "$T/netns.err")"
trap 'ip netns del "$NS" 2>/dev/null; lib_cleanup 2>/dev/null' EXIT
ip -n "$NS" link add "$A" type veth peer name "$B" || fail "cannot create a veth pair in $NS"
# No duplicate address detection: addresses are usable at once, including A's link-local one,
# which must not count.
for dev in "$A" default; do
        ip netns exec "$NS" sysctl -qw "net.ipv6.conf.$dev.accept_dad=0" 2>/dev/null
done

write_config <<EOF
[watchdog]
device = none

[check.a]
type = link
interface = $A

[check.a-nocarrier-ok]
type = link
interface = $A
carrier = no

[check.a-ipv4]
type = link
interface = $A
address = ipv4

[check.a-ipv6]
type = link
interface = $A
address = ipv6

[check.a-any]
type = link
interface = $A
address = any

[check.missing]
type = link
interface = nope$$
EOF

# expect_link NAME EXIT DETAIL: `healthdog check NAME` in the namespace exits EXIT with exactly
# DETAIL.
expect_link() {
        expect_check "$1" "$2" "$(ere_quote "$3")" ip netns exec "$NS"
        # Reading netlink is immediate: a slow probe would mean it waited for something.
        assert_cmp "check $1: probe time (s)" "$RUN_SECS" "<" 1
}

# Both ends down.
expect_link a 1 "$A down"
expect_link a-nocarrier-ok 1 "$A down"
expect_link missing 1 "no such interface nope$$"

# A up, its peer down: no carrier.
ip -n "$NS" link set "$A" up
expect_link a 1 "$A up, no carrier"
expect_link a-nocarrier-ok 0 "$A up, no carrier"

# Both up: carrier. The link-local IPv6 address A has now is not an address that counts.
ip -n "$NS" link set "$B" up
wait_until 10 sh -c "ip -n $NS link show $A | grep -q LOWER_UP" || fail "$A got no carrier: $(ip -n "$NS" link show "$A")"
expect_link a 0 "$A up, carrier"
expect_link a-ipv4 1 "$A up, carrier, no IPv4 address"
expect_link a-any 1 "$A up, carrier, no address"
if [ -e /proc/sys/net/ipv6 ]; then
        wait_until 10 sh -c "ip -n $NS -6 addr show dev $A scope link | grep -q fe80" ||
                fail "$A got no IPv6 link-local address: $(ip -n "$NS" addr show "$A")"
        note "link-local: $(ip -n "$NS" -6 -br addr show dev "$A")"
        expect_link a-ipv6 1 "$A up, carrier, no IPv6 address"
fi

# Addresses.
ip -n "$NS" addr add 10.201.7.1/24 dev "$A"
expect_link a 0 "$A up, carrier, 10.201.7.1/24"
expect_link a-ipv4 0 "$A up, carrier, 10.201.7.1/24"
expect_link a-any 0 "$A up, carrier, 10.201.7.1/24"
if [ -e /proc/sys/net/ipv6 ]; then
        expect_link a-ipv6 1 "$A up, carrier, no IPv6 address"
        ip -n "$NS" addr add 2001:db8:7::1/64 dev "$A" nodad
        expect_link a-ipv6 0 "$A up, carrier, 2001:db8:7::1/64"
fi

# The peer goes down again: carrier lost, the address stays.
ip -n "$NS" link set "$B" down
wait_until 10 sh -c "! ip -n $NS link show $A | grep -q LOWER_UP" || fail "$A kept its carrier"
expect_link a-ipv4 1 "$A up, no carrier, 10.201.7.1/24"
expect_link a-nocarrier-ok 0 "$A up, no carrier, 10.201.7.1/24"

# A down: down, whatever it has.
ip -n "$NS" link set "$A" down
expect_link a-ipv4 1 "$A down"

# All at once: the table has every check, the exit code is that of the required ones.
out=$(ip netns exec "$NS" "$HEALTHDOG" check -c "$CONF" 2>&1)
rc=$?
[ "$rc" = 1 ] || fail "all checks: exit $rc, expected 1"
[ "$(printf '%s\n' "$out" | grep -c ' link ')" = 6 ] || fail "all checks: expected 6 rows:"$'\n'"$out"
check_sanitizers
echo "PASS"
