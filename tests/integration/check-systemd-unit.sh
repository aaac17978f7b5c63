#!/bin/bash
# type = systemd-unit over a real D-Bus: a private dbus-daemon and tests/tools/fake-systemd1,
# which claims org.freedesktop.systemd1 on it and reports the units of a state file the test
# rewrites. Active, failed and missing units; a oneshot that must be inactive with Result=success;
# a peer that never answers; no bus at all; the connection reopened after the bus daemon
# restarted; and repair = restart-unit under `healthdog run`: a restart that helps keeps the
# device fed, one that does not is tried repair-max times before the feeding stops, one that gets
# no answer times out.
source "$(dirname "$0")/lib.sh"

source "$(dirname "$0")/buslib.sh"

start_bus
set_state <<EOF
system running
unit myapp.service active running loaded success
unit broken.service failed failed loaded exit-code
unit once.service inactive dead loaded success
unit oncebad.service inactive dead loaded exit-code
EOF
start_fake

write_config "$CHECK_CONF" <<EOF
[watchdog]
device = none

[supervisor]
dbus-address = $BUS

[check.app]
type = systemd-unit
unit = myapp.service

[check.broken]
type = systemd-unit
unit = broken.service

[check.ghost]
type = systemd-unit
unit = ghost.service

[check.once]
type = systemd-unit
unit = once.service
states = inactive
result = success

[check.oncebad]
type = systemd-unit
unit = oncebad.service
states = inactive
result = success

[check.slow]
type = systemd-unit
unit = myapp.service
timeout = 1s
EOF

# ---- verdicts and details
expect app 0 pass "myapp.service active (running)"
expect broken 1 FAIL "broken.service failed (failed), Result=exit-code"
expect ghost 1 FAIL "ghost.service: no such unit"
expect once 0 pass "once.service inactive (dead), Result=success"
expect oncebad 1 FAIL "oncebad.service inactive (dead), Result=exit-code (expected success)"
assert_grep "$FAKE_LOG" "^GetUnit ghost.service$"
assert_grep "$FAKE_LOG" "GetAll /org/freedesktop/systemd1/unit/myapp_2eservice$"
# Result is asked for only when it matters: never for the healthy app.
assert_cmp "Get(Result) calls for myapp.service" "$(fake_calls 'Properties.Get /org/freedesktop/systemd1/unit/myapp_2eservice$')" "==" 0

# All at once on one connection: every probe gets its own answer.
"$HEALTHDOG" check -c "$CHECK_CONF" app broken ghost once oncebad >"$T/all.out" 2>>"$T/check-stderr.log"
rc=$?
[ "$rc" = 1 ] || fail "all checks at once exited $rc, expected 1"
for pair in "app pass" "broken FAIL" "ghost FAIL" "once pass" "oncebad FAIL"; do
        set -- $pair
        [ "$(awk -v n="$1" '$1 == n { print $4 }' "$T/all.out")" = "$2" ] || fail "all at once: $1 is not $2: $(cat "$T/all.out")"
done
note "ok: five checks at once on one connection: $(awk 'NR > 1 { printf "%s=%s ", $1, $4 }' "$T/all.out")"

# The state is asked for at every run, not remembered.
sed -i 's/^unit myapp.service active running/unit myapp.service failed failed/; s/ success$/ signal/' "$FAKE_STATE"
expect app 1 FAIL "myapp.service failed (failed), Result=signal"

# ---- a peer that never answers: the run ends at its timeout, not at sd-bus's 25 s default
echo hang >>"$FAKE_STATE"
expect_hung slow 1
assert_grep "$FAKE_LOG" "^HANG org.freedesktop.systemd1.Manager.GetUnit"
sed -i '/^hang/d' "$FAKE_STATE"

# ---- no bus at all: said at once
write_config "$T/nobus.conf" <<EOF
[watchdog]
device = none
[supervisor]
dbus-address = unix:path=$T/nothing-here
[check.app]
type = systemd-unit
unit = myapp.service
EOF
CHECK_CONF=$T/nobus.conf expect app 1 FAIL "cannot connect to unix:path=$T/nothing-here: No such file or directory"
assert_cmp "no bus: probe time (s)" "$RUN_SECS" "<" 1

# ---- healthdog run: the connection is reopened after dbus-daemon restarted
set_state <<EOF
unit myapp.service active running loaded success
EOF
write_config <<EOF
[watchdog]
device = none

[supervisor]
state-directory = $STATE
startup-grace = 0
dbus-address = $BUS

[check.app]
type = systemd-unit
unit = myapp.service
interval = 100ms
fail-after = 30
EOF
DAEMON_LOG=$T/daemon-reconnect.log
LOG_LEVEL=debug start_daemon
wait_for_log "$DAEMON_LOG" "Check 'app': pass: myapp.service active \(running\)" 10
stop_pid "$FAKE_PID"
stop_pid "$BUS_PID"
wait_for_log "$DAEMON_LOG" "check 'app' failed \(1 of 30" 10
sleep 0.3
t_back=$(now)
start_bus
start_fake
passes_before=$(grep -c "Check 'app': pass" "$DAEMON_LOG")
wait_until 10 eval '[ "$(grep -c "Check '"'app'"': pass" "$DAEMON_LOG")" -gt "$passes_before" ]' ||
        fail "no pass within 10 s after the bus came back"
note "ok: passing again $(calc "$(now) - $t_back")s after the bus came back"
note "while it was gone: $(grep -m1 "check 'app' failed" "$DAEMON_LOG" | sed 's/^<[0-9]>//')"

# A reload with another dbus-address drops the open connection for one to the new address.
sed "s|^dbus-address = .*|dbus-address = unix:path=$T/other-bus|" "$CONF" | write_config
kill -HUP "$DAEMON_PID"
wait_for_log "$DAEMON_LOG" "check 'app' failed \(.*\): cannot connect to unix:path=$T/other-bus: No such file" 10
note "ok: after the reload: $(grep -m1 "other-bus" "$DAEMON_LOG" | sed 's/^<[0-9]>//')"
stop_daemon

# ---- healthdog run: repair = restart-unit
set_state <<EOF
unit fixable.service active running loaded success
unit stuck.service active running loaded success
EOF
write_config <<EOF
[watchdog]
device = $DEV
timeout = 1s
interval = 100ms

[supervisor]
state-directory = $STATE
startup-grace = 0
dbus-address = $BUS

# The restart brings it back.
[check.fixable]
type = systemd-unit
unit = fixable.service
interval = 100ms
fail-after = 2
repair = restart-unit

# The restart does not help.
[check.stuck]
type = systemd-unit
unit = stuck.service
interval = 100ms
fail-after = 2
repair = restart-unit
repair-max = 2
EOF
start_standin 1
DAEMON_LOG=$T/daemon-repair.log
LOG_LEVEL=debug start_daemon
sleep 0.4

set_state <<EOF
unit fixable.service failed failed loaded exit-code restart=active/running
unit stuck.service active running loaded success
EOF
wait_for_log "$DAEMON_LOG" "Required check 'fixable' is failing \(fixable.service failed \(failed\), Result=exit-code\): repair attempt 1 of 1" 10
wait_for_log "$DAEMON_LOG" "Repair 1 of check 'fixable' done: restart of fixable.service queued as /org/freedesktop/systemd1/job/[0-9]+" 10
assert_cmp "RestartUnit calls for fixable.service" "$(fake_calls '^RestartUnit fixable.service replace$')" "==" 1
t_repaired=$(now)
wait_for_log "$DAEMON_LOG" "Check 'fixable': pass: fixable.service active \(running\)" 10
sleep 0.5
assert_no_grep "$DAEMON_LOG" "check 'fixable' is now failing"
assert_cmp "RESET events after the restart" "$(count_events RESET)" "==" 0
assert_fed "after the restart" "$t_repaired" "$(now)" 0.1

t_fail=$(now)
set_state <<EOF
unit fixable.service failed failed loaded exit-code restart=active/running
unit stuck.service failed failed loaded exit-code
EOF
wait_for_log "$DAEMON_LOG" "Required check 'stuck' is failing .*: repair attempt 2 of 2" 10
wait_for_log "$DAEMON_LOG" "Required check 'stuck' is now failing: stuck.service failed \(failed\), Result=exit-code" 10
wait_for_log "$STANDIN_LOG" ' RESET ' 10
crossing=$(reason_time)
assert_cmp "RestartUnit calls for stuck.service" "$(fake_calls '^RestartUnit stuck.service replace$')" "==" 2
# Three rounds of fail-after 2 at 100 ms: two repaired, the third final; five intervals, one of
# which may be up to half an interval short (a run moves onto the nearest ping tick, once).
assert_cmp "crossing - failure (s)" "$(calc "$crossing - $t_fail")" ">=" 0.45
assert_cmp "crossing - failure (s)" "$(calc "$crossing - $t_fail")" "<=" "$(calc "1.2 + $LOAD_SLACK")"
[ "$(reason_field check)" = stuck ] || fail "reset-reason.json names $(reason_field check), not stuck"
assert_cmp "pings after the crossing" "$(pings "$(calc "$crossing + 0.05")")" "==" 0
stop_daemon
stop_standin

# ---- a RestartUnit that gets no answer ends with the check's timeout
set_state <<EOF
unit hung.service failed failed loaded exit-code
hang RestartUnit
EOF
write_config <<EOF
[watchdog]
device = none

[supervisor]
state-directory = $STATE
startup-grace = 0
dbus-address = $BUS

[check.hung]
type = systemd-unit
unit = hung.service
interval = 300ms
timeout = 300ms
fail-after = 1
repair = restart-unit
required = no
EOF
DAEMON_LOG=$T/daemon-hung-repair.log
start_daemon
wait_for_log "$DAEMON_LOG" "check 'hung' is failing .*: repair attempt 1 of 1" 10
t_start=$(now)
wait_for_log "$DAEMON_LOG" "Repair 1 of check 'hung' failed: RestartUnit hung.service failed: Method call timed out" 10
assert_cmp "unanswered RestartUnit: seconds until it failed (timeout 300 ms)" "$(calc "$(now) - $t_start")" "<" "$(calc "0.3 + $LOAD_SLACK")"
assert_grep "$FAKE_LOG" "^HANG org.freedesktop.systemd1.Manager.RestartUnit"
stop_daemon

check_sanitizers
echo "check-systemd-unit OK"
