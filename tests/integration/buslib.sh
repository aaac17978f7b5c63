# Sourced by the systemd-* check tests, after lib.sh: a private dbus-daemon of the test's own and
# tests/tools/fake-systemd1 claiming org.freedesktop.systemd1 on it, with helpers to drive them.

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
        wait_until 10 test -S "$T/bus" || fail "dbus-daemon did not listen on $T/bus within 10 s"
}

start_fake() {
        local before
        before=$(grep -c '^READY' "$FAKE_LOG" 2>/dev/null)
        "$FAKE" --address "$BUS" --state "$FAKE_STATE" --log "$FAKE_LOG" 2>>"$T/fake-stderr.log" &
        FAKE_PID=$!
        lib_pids+=("$FAKE_PID")
        wait_until 10 fake_ready "${before:-0}" || fail "fake-systemd1 not ready within 10 s"
}
fake_ready() { [ "$(grep -c '^READY' "$FAKE_LOG" 2>/dev/null)" -gt "$1" ]; }

stop_pid() { # PID
        [ -n "$1" ] || return 0
        kill -TERM "$1" 2>/dev/null
        wait_exit "$1" 10
}

# set_state < TEXT: what the fake reports from its next call on.
set_state() { cat >"$FAKE_STATE.tmp" && mv "$FAKE_STATE.tmp" "$FAKE_STATE"; }

# expect NAME EXIT RESULT DETAIL: the check's exit code, result and exact detail (lib.sh's
# run_check, on CHECK_CONF).
expect() {
        run_check "$1"
        [ "$RC" = "$2" ] && [ "$RESULT" = "$3" ] && [ "$DETAIL" = "$4" ] ||
                fail "check $1: exit $RC, $RESULT '$DETAIL'; expected exit $2, $3 '$4'; output: $(cat "$T/check.out")"
        note "ok: $1: exit $RC, $RESULT '$DETAIL' in ${SECS}s"
}

# expect_hung NAME TIMEOUT: the check's run, on a peer that never answers, ended at its timeout
# (seconds): FAIL with "timed out after ...", or with the bus call's own timeout, which is set to
# what is left of the check's and so may come first on a loaded machine.
expect_hung() {
        run_check "$1"
        [ "$RC" = 1 ] && [ "$RESULT" = FAIL ] && [[ "$DETAIL" =~ ^(timed\ out\ after\ .*|.*:\ Method\ call\ timed\ out)$ ]] ||
                fail "check $1: exit $RC, $RESULT '$DETAIL'; expected exit 1, FAIL, timed out; output: $(cat "$T/check.out")"
        note "ok: $1: exit $RC, $RESULT '$DETAIL' in ${SECS}s"
        assert_cmp "$1: probe time (s; timeout $2 s)" "$RUN_SECS" ">=" "$(calc "$2 - 0.02")"
        assert_cmp "$1: probe time (s; timeout $2 s)" "$RUN_SECS" "<" "$(calc "$2 + 1")"
        assert_cmp "$1: wall time of healthdog check (s)" "$SECS" "<" "$(calc "$2 + 4")"
}

fake_calls() { grep -c -- "$1" "$FAKE_LOG"; }
