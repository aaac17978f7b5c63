#!/bin/bash
# type = systemd-system over a real D-Bus: a private dbus-daemon and tests/tools/fake-systemd1,
# which claims org.freedesktop.systemd1 on it and reports the SystemState and units of a state file
# the test rewrites. running; degraded with the failed units named (some ignored, all ignored, too
# many to list); starting; maintenance; a peer that never answers the first or the second question.
source "$(dirname "$0")/lib.sh"

source "$(dirname "$0")/buslib.sh"

start_bus
set_state <<EOF
system running
unit a.service failed failed loaded exit-code
EOF
start_fake

write_config "$CHECK_CONF" <<EOF
[watchdog]
device = none

[supervisor]
dbus-address = $BUS

[check.system]
type = systemd-system

[check.some-ignored]
type = systemd-system
ignore-units = a.service

[check.all-ignored]
type = systemd-system
ignore-units = *.service user@*.service

[check.slow]
type = systemd-system
timeout = 500ms
EOF

expect system 0 pass "running"
# The failed units are listed only when the system is degraded.
assert_cmp "ListUnitsFiltered calls while running" "$(fake_calls '^ListUnitsFiltered')" "==" 0

set_state <<EOF
system degraded
unit a.service failed failed loaded exit-code
unit b.socket failed failed loaded resources
unit c.service active running loaded success
EOF
expect system 1 FAIL "degraded: 2 failed units: a.service, b.socket"
assert_grep "$FAKE_LOG" "^ListUnitsFiltered failed$"
expect some-ignored 1 FAIL "degraded: 1 failed unit: b.socket"
expect all-ignored 1 FAIL "degraded: 1 failed unit: b.socket"

set_state <<EOF
system degraded
unit a.service failed failed loaded exit-code
unit user@1000.service failed failed loaded exit-code
unit c.service active running loaded success
EOF
expect all-ignored 0 pass "degraded by ignored units only: a.service, user@1000.service"
expect some-ignored 1 FAIL "degraded: 1 failed unit: user@1000.service"

# Too many to list: the detail stays one short line and says how many it left out.
{
        echo "system degraded"
        for i in $(seq -w 1 40); do
                echo "unit a-rather-long-unit-name-for-the-detail-$i.service failed failed loaded exit-code"
        done
} | set_state
run_check system
[ "$RC" = 1 ] && [ "$RESULT" = FAIL ] || fail "40 failed units: exit $RC, $RESULT"
case "$DETAIL" in
"degraded: 40 failed units: a-rather-long-unit-name-for-the-detail-01.service, "*", +"*" more") ;;
*) fail "40 failed units: unexpected detail '$DETAIL'" ;;
esac
assert_cmp "40 failed units: detail length" "${#DETAIL}" "<" 256
shown=$(grep -o '\.service' <<<"$DETAIL" | wc -l)
more=$(sed -n 's/.*, +\([0-9]*\) more$/\1/p' <<<"$DETAIL")
assert_cmp "40 failed units: names shown + more" "$((shown + more))" "==" 40
note "detail: $DETAIL"

set_state <<EOF
system starting
EOF
expect system 1 FAIL "not yet running (starting)"
set_state <<EOF
system initializing
EOF
expect system 1 FAIL "not yet running (initializing)"
set_state <<EOF
system maintenance
EOF
expect system 1 FAIL "SystemState=maintenance"
set_state <<EOF
system stopping
EOF
expect system 1 FAIL "SystemState=stopping"

# A peer that never answers: the run ends at its timeout.
set_state <<EOF
system running
hang
EOF
expect_hung slow 0.5
assert_grep "$FAKE_LOG" "^HANG org.freedesktop.DBus.Properties.Get /org/freedesktop/systemd1$"

# A hang in the second question (degraded, then the list) counts the same.
set_state <<EOF
system degraded
unit a.service failed failed loaded exit-code
hang ListUnitsFiltered
EOF
expect_hung slow 0.5
assert_grep "$FAKE_LOG" "^HANG org.freedesktop.systemd1.Manager.ListUnitsFiltered"

check_sanitizers
echo "check-systemd-system OK"
