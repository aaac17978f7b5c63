#!/bin/bash
# type = systemd-system over a real D-Bus: a private dbus-daemon and tests/fake-systemd1, which
# claims org.freedesktop.systemd1 on it and reports the SystemState and units of a state file the
# test rewrites. running; degraded with the failed units named (some ignored, all ignored, too
# many to list); starting; maintenance; a peer that never answers the first or the second question.
source "$(dirname "$0")/lib.sh"

FAKE=${FAKE_SYSTEMD1:-$lib_top/build/tests/fake-systemd1}
[ -x "$FAKE" ] || skip "missing $FAKE: build it first (make check)"
command -v dbus-daemon >/dev/null || skip "no dbus-daemon (Debian package dbus-daemon)"

BUS=unix:path=$T/bus
FAKE_STATE=$T/systemd.state
FAKE_LOG=$T/fake-systemd1.log
CHECK_CONF=$T/check.conf
BUS_PID= FAKE_PID=

# A bus of our own: anyone may own any name and call anything.
start_bus() {
        cat >"$T/bus.xml" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>$BUS</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
EOF
        rm -f "$T/bus"
        dbus-daemon --config-file="$T/bus.xml" --nofork 2>>"$T/dbus-daemon.log" &
        BUS_PID=$!
        lib_pids+=("$BUS_PID")
        wait_until 3 test -S "$T/bus" || fail "dbus-daemon did not listen on $T/bus within 3 s"
}

start_fake() {
        local before
        before=$(grep -c '^READY' "$FAKE_LOG" 2>/dev/null)
        "$FAKE" --address "$BUS" --state "$FAKE_STATE" --log "$FAKE_LOG" 2>>"$T/fake-stderr.log" &
        FAKE_PID=$!
        lib_pids+=("$FAKE_PID")
        wait_until 3 fake_ready "${before:-0}" || fail "fake-systemd1 not ready within 3 s"
}
fake_ready() { [ "$(grep -c '^READY' "$FAKE_LOG" 2>/dev/null)" -gt "$1" ]; }

stop_pid() { # PID
        [ -n "$1" ] || return 0
        kill -TERM "$1" 2>/dev/null
        wait_exit "$1" 3
}

# set_state < TEXT: what the fake reports from its next call on.
set_state() { cat >"$FAKE_STATE.tmp" && mv "$FAKE_STATE.tmp" "$FAKE_STATE"; }

# run_check NAME: one `healthdog check -c $CHECK_CONF NAME`; sets RC, RESULT, DETAIL, SECS.
run_check() {
        local start
        start=$(now)
        "$HEALTHDOG" check -c "$CHECK_CONF" "$1" >"$T/check.out" 2>>"$T/check-stderr.log"
        RC=$?
        SECS=$(calc "$(now) - $start")
        RESULT=$(awk -v n="$1" '$1 == n { print $4 }' "$T/check.out")
        # CHECK TYPE REQUIRED RESULT, then TIME ("4ms", "1s 1ms") and two blanks before DETAIL.
        DETAIL=$(awk -v n="$1" '$1 == n { r = $0; for (i = 0; i < 4; i++) sub(/^ *[^ ]+ */, "", r)
                                           print substr(r, index(r, "  ") + 2) }' "$T/check.out")
}

# expect NAME EXIT RESULT DETAIL: the check's exit code, result and exact detail.
expect() {
        run_check "$1"
        [ "$RC" = "$2" ] && [ "$RESULT" = "$3" ] && [ "$DETAIL" = "$4" ] ||
                fail "check $1: exit $RC, $RESULT '$DETAIL'; expected exit $2, $3 '$4'; output: $(cat "$T/check.out")"
        note "ok: $1: exit $RC, $RESULT '$DETAIL' in ${SECS}s"
}

fake_calls() { grep -c -- "$1" "$FAKE_LOG"; }

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
expect slow 1 FAIL "timed out after 500ms"
assert_cmp "hung call: seconds until the verdict" "$SECS" ">=" 0.48
assert_cmp "hung call: seconds until the verdict" "$SECS" "<" 1.2
assert_grep "$FAKE_LOG" "^HANG org.freedesktop.DBus.Properties.Get /org/freedesktop/systemd1$"

# A hang in the second question (degraded, then the list) counts the same.
set_state <<EOF
system degraded
unit a.service failed failed loaded exit-code
hang ListUnitsFiltered
EOF
expect slow 1 FAIL "timed out after 500ms"
assert_grep "$FAKE_LOG" "^HANG org.freedesktop.systemd1.Manager.ListUnitsFiltered"

check_sanitizers
echo "check-systemd-system OK"
