#!/bin/bash
# What reaches systemd: the daemon started as systemd starts a Type=notify service with
# WatchdogSec= (NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID = its own pid), with a listener on the
# notification socket that logs every assignment on the stand-in's clock. READY=1 comes once the
# device is armed (after the stand-in saw the first ping); WATCHDOG=1 keeps coming well inside
# WATCHDOG_USEC, also after the feeding stopped (the loop is alive: systemd must not restart a
# daemon that deliberately lets the device fire); STATUS= says what is going on and changes to
# "Not feeding ..." when a required check fails; a reload is RELOADING=1 then READY=1; a stop
# is STOPPING=1.
source "$(dirname "$0")/lib.sh"

PY=$(command -v /usr/bin/python3 || command -v python3) || skip "no python3"
WATCHDOG_USEC=2000000
NLOG=$T/notify.log

cat >"$T/listener.py" <<'PY'
import socket, sys, time
path, log, ready = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(1)
open(ready, "w").close()
end = time.monotonic() + 120
with open(log, "a", buffering=1) as f:
    while time.monotonic() < end:
        try:
            data = s.recv(65536)
        except socket.timeout:
            continue
        t = time.monotonic()  # CLOCK_MONOTONIC, as the stand-in's log
        for line in data.decode(errors="replace").split("\n"):
            if line:
                f.write("%.6f %s\n" % (t, line))
PY
"$PY" "$T/listener.py" "$T/notify.sock" "$NLOG" "$T/listener.ready" 2>"$T/listener-err.log" &
lib_pids+=($!)
wait_until 5 test -e "$T/listener.ready" || fail "the notification listener did not start"

# As systemd starts it: WATCHDOG_PID is the daemon's own pid (the wrapper execs it).
cat >"$T/as-service" <<SH
#!/bin/sh
export NOTIFY_SOCKET="$T/notify.sock" WATCHDOG_USEC=$WATCHDOG_USEC WATCHDOG_PID=\$\$
exec "$HEALTHDOG" "\$@"
SH
chmod +x "$T/as-service"

write_config <<CONF
[watchdog]
device = $DEV
timeout = 2s
interval = 100ms

[supervisor]
state-directory = $STATE
runtime-directory = $T/run
startup-grace = 0

[check.app]
type = file
path = $T/app
interval = 100ms
fail-after = 2
CONF

# first NAME=VALUE-ERE [AFTER]: the time of the first matching assignment (after AFTER).
first() { awk -v re="^$1" -v after="${2:--1}" '$1 >= after + 0 { l = $0; sub(/^[^ ]* /, "", l); if (l ~ re) { print $1; exit } }' "$NLOG"; }
count() { awk -v re="^$1" -v from="$2" -v to="$3" '$1 >= from + 0 && $1 <= to + 0 { l = $0; sub(/^[^ ]* /, "", l); if (l ~ re) n++ } END { print n + 0 }' "$NLOG"; }
# max_watchdog_gap FROM TO: the longest time without WATCHDOG=1 within [FROM, TO].
max_watchdog_gap() {
        awk -v from="$1" -v to="$2" '$2 == "WATCHDOG=1" && $1 >= from + 0 && $1 <= to + 0 {
                        if (last != "" && $1 - last > max) max = $1 - last; last = $1 }
                END { if (last != "" && to - last > max) max = to - last; printf "%.6f\n", max }' "$NLOG"
}
has() { [ -n "$(first "$@")" ]; }

touch "$T/app"
start_standin 2
t_start=$(now)
HEALTHDOG=$T/as-service start_daemon

echo "1. READY=1 once the device is armed"
wait_until 3 has 'READY=1' || fail "no READY=1 within 3 s of 'Supervising'"
ready=$(first 'READY=1')
armed=$(first_ping)
note "started at $t_start, device armed (first ping) at $armed, READY=1 at $ready"
assert_cmp "READY=1 - first ping (s)" "$(calc "$ready - $armed")" ">=" 0
assert_cmp "READY=1 - start (s)" "$(calc "$ready - $t_start")" "<" 5
status=$(first "STATUS=steady boot: feeding ${DEV//./\\.} every 100ms; 1 of 1 required checks healthy$")
[ -n "$status" ] || fail "no STATUS= saying it feeds $DEV"
assert_cmp "first STATUS= - READY=1 (s)" "$(calc "$status - $ready")" "<=" 0

echo "2. WATCHDOG=1 keeps coming"
sleep 3
t=$(now)
assert_cmp "WATCHDOG=1 in the 3 s after READY=1" "$(count 'WATCHDOG=1$' "$ready" "$t")" ">=" 3
assert_cmp "longest time without WATCHDOG=1 (s; WATCHDOG_USEC = 2 s)" "$(max_watchdog_gap "$ready" "$t")" "<" 1.5

echo "3. a reload: RELOADING=1, then READY=1"
t_reload=$(now)
"$HEALTHDOG" reload -c "$CONF" >"$T/reload.out" 2>"$T/reload-cli.log" || fail "healthdog reload: exit $?"
wait_until 3 has 'READY=1' "$t_reload" || fail "no READY=1 after the reload"
seq=$(awk -v from="$t_reload" '$1 >= from + 0 && ($2 == "RELOADING=1" || $2 == "READY=1") { printf "%s%s", sep, $2; sep = " " }' "$NLOG")
[ "$seq" = "RELOADING=1 READY=1" ] || fail "around the reload: '$seq', expected 'RELOADING=1 READY=1'"
note "ok: around the reload: $seq ($(calc "$(first 'READY=1' "$t_reload") - $(first 'RELOADING=1' "$t_reload")") s apart)"
assert_grep "$DAEMON_LOG" "Configuration reloaded: 1 checks"

echo "4. a required check fails: STATUS= says the feeding stopped; WATCHDOG=1 goes on"
t_fail=$(now)
rm "$T/app"
re_starved="STATUS=Not feeding ${DEV//./\\.} \\(steady boot\\): app: ${T//./\\.}/app: No such file or directory$"
wait_until 3 has "$re_starved" "$t_fail" || fail "no STATUS= saying the feeding stopped"
starved=$(first "$re_starved" "$t_fail")
load_reason
note "check failing, decision at $CROSSING, STATUS= at $starved"
assert_cmp "STATUS= - decision (s)" "$(calc "$starved - $CROSSING")" ">=" 0
assert_cmp "STATUS= - decision (s)" "$(calc "$starved - $CROSSING")" "<" 1
sleep 2.5
t=$(now)
assert_cmp "WATCHDOG=1 in the 2.5 s after the feeding stopped" "$(count 'WATCHDOG=1$' "$starved" "$t")" ">=" 2
assert_cmp "longest time without WATCHDOG=1 after the feeding stopped (s)" "$(max_watchdog_gap "$starved" "$t")" "<" 1.5
[ "$(count 'STATUS=.*feeding .* every' "$starved" "$t")" = 0 ] || fail "STATUS= said it feeds again after it stopped"

echo "5. a stop: STOPPING=1"
t_stop=$(now)
stop_daemon 0
wait_until 2 has 'STOPPING=1' "$t_stop" || fail "no STOPPING=1"
note "ok: STOPPING=1 after SIGTERM"
assert_no_grep "$T/listener-err.log" "."
echo "PASS"
