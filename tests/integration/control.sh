#!/bin/bash
# The control socket and `healthdog hold`: the socket is root's alone (mode 0600, and the peer's
# credentials are checked too); bad requests get an error reply; clients that connect and say
# nothing neither stall the pings nor hold a connection for more than 1 s; in a steady boot a
# hold keeps the watchdog fed while a required check fails, survives a restart of the daemon,
# and once cancelled the checks decide again (the feeding stops); a hold is refused during an
# unconfirmed trial; a socket left by a killed daemon is replaced.
source "$(dirname "$0")/lib.sh"

command -v mkenvimage >/dev/null || skip "mkenvimage (u-boot-tools) missing"
command -v python3 >/dev/null || skip "python3 missing"
command -v setpriv >/dev/null || skip "setpriv missing"
[ "$(id -u)" = 0 ] || skip "needs root (a non-root client is part of the test)"

ENV_IMG=$T/env.img
FW_CONFIG=$T/fw_env.config
RUN=$T/run
SOCK=$RUN/control
echo "$ENV_IMG 0x0 $ENV_SIZE" >"$FW_CONFIG"
CLI_CONF=$CONF
NOBODY=$(healthdog_via nobody setpriv --reuid=65534 --regid=65534 --clear-groups)

# cli_nobody ARGS...: cli as nobody, without groups.
cli_nobody() { HEALTHDOG=$NOBODY cli "$@"; }

# raw REQUEST [shut]: sends REQUEST (Python string escapes allowed) as it is to the socket and
# prints the reply; with shut, closes the sending side instead of a newline.
raw() {
        python3 - "$SOCK" "$1" "${2:-}" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(3)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
if sys.argv[3] == "shut":
    s.shutdown(socket.SHUT_WR)
reply = b""
while True:
    try:
        b = s.recv(65536)
    except ConnectionResetError:
        # The daemon closed with part of an over-long request unread: the reply came first.
        break
    if not b:
        break
    reply += b
print(reply.decode(), end="")
EOF
}
expect_raw() {
        local got
        got=$(raw "$1" "${3:-}")
        [ "$got" = "$2" ] || fail "request '$1' got '$got', expected '$2'"
        note "ok: '$1' -> $got"
}

config() {
        write_config <<EOF
[watchdog]
device = $1
timeout = 2s
interval = 100ms

[supervisor]
state-directory = $STATE
runtime-directory = $RUN
startup-grace = 0

[bootloader]
type = uboot
fw-env-config = $FW_CONFIG

[assessment]
confirm-after = 1h
trial-timeout = 0
hooks-directory = $T/hooks

[check.app]
type = file
path = $T/app
interval = 100ms
fail-after = 2
EOF
}

make_image "$ENV_IMG" upgrade_available=0 bootcount=0 bootlimit=3
config "$DEV"
touch "$T/app"
start_standin 2
start_daemon

echo "1. the socket is root's"
[ -S "$SOCK" ] || fail "no socket at $SOCK"
[ "$(stat -c '%a %U' "$SOCK")" = "600 root" ] || fail "socket mode/owner: $(stat -c '%a %U' "$SOCK")"
[ "$(stat -c '%a' "$RUN")" = 755 ] || fail "runtime directory mode: $(stat -c '%a' "$RUN")"
note "ok: $(stat -c '%A %U %n' "$SOCK")"
# nobody must reach the config and the socket's directory to get as far as the socket.
chmod 0755 "$T"
cli_nobody status
expect_rc 1 "status (as nobody)"
[[ "$ERR" == *"cannot connect to '$SOCK': Permission denied"* ]] || fail "unexpected message: $ERR"
cli_nobody hold --for 1min
expect_rc 1 "hold (as nobody)"
# With the mode relaxed, the daemon still refuses by the peer's credentials.
chmod 0666 "$SOCK"
cli_nobody mark-good
expect_rc 1 "mark-good (as nobody, socket 0666)"
expect_err "healthdog mark-good: permission denied: only root may control healthdog"
assert_grep "$DAEMON_LOG" "^<5>Refused a control connection from PID [0-9]+ \(UID 65534\): only root may control healthdog"
chmod 0600 "$SOCK"

echo "2. bad requests"
expect_raw 'bogus\n' '{"ok":false,"error":"unknown request '\''bogus'\'' (known: status, mark-good, hold USEC, hold-cancel, reload)"}'
expect_raw 'hold 0\n' '{"ok":false,"error":"bad duration '\''0'\'': expected a positive number of microseconds"}'
expect_raw 'hold -5\n' '{"ok":false,"error":"bad duration '\''-5'\'': expected a positive number of microseconds"}'
expect_raw 'hold-cancel\r\n' '{"ok":false,"error":"no hold"}'
expect_raw "$(printf 'x%.0s' {1..300})" '{"ok":false,"error":"request too long (at most 255 bytes)"}'
expect_raw 'mark-good' '{"ok":false,"error":"not a trial boot (this boot is steady)"}' shut
reply=$(raw 'status\n')
python3 -c 'import json, sys; d = json.loads(sys.argv[1]); assert d["ok"] is True and d["status"]["version"] == 1' \
        "$reply" || fail "bad status reply: $reply"
note "ok: 'status' -> {\"ok\":true,\"status\":{...}} (${#reply} bytes)"
cli hold --for 1x
expect_rc 2 "hold --for 1x"
cli hold
expect_rc 2 "hold (neither --for nor --cancel)"
CLI_CONF= cli hold -c "$CONF" --for
expect_rc 2 "hold --for (no value)"
[[ "$ERR" == "healthdog hold: option '--for' needs a value"* ]] || fail "unexpected message: $ERR"

echo "3. silent clients: no stall, no connection kept for more than 1 s"
# Five connections that send nothing; the daemon serves 4 at once and answers the fifth "busy".
# Per connection, in order: its index, the seconds from its connect until the daemon closed it,
# the reply.
python3 - "$SOCK" >"$T/idle.out" <<'EOF' &
import select, socket, sys, time
conns, start, replies, closed = [], {}, {}, {}
for i in range(5):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    start[s], replies[s] = time.monotonic(), b""
    conns.append(s)
    time.sleep(0.02)
while len(closed) < len(conns):
    ready, _, _ = select.select([s for s in conns if s not in closed], [], [], 10)
    if not ready:
        break
    for s in ready:
        b = s.recv(4096)
        if b:
            replies[s] += b
        else:
            closed[s] = time.monotonic()
for i, s in enumerate(conns):
    print("%d %.3f %s" % (i, closed.get(s, float("inf")) - start[s], replies[s].decode().strip()))
EOF
idle_pid=$!
lib_pids+=("$idle_pid")
t_idle=$(now)
wait_exit "$idle_pid" 20
t_idle_end=$(now)
[ "$EXIT_STATUS" = 0 ] || fail "the idle client failed: $(cat "$T/idle.out")"
sed 's/^/    idle client: /' "$T/idle.out"
[ "$(sed -n 5p "$T/idle.out" | cut -d' ' -f3-)" = '{"ok":false,"error":"busy: too many control connections, try again"}' ] ||
        fail "the fifth connection was not answered busy"
[ "$(head -n 4 "$T/idle.out" | grep -c '"no request within 1s"')" = 4 ] || fail "expected 4 timed-out connections"
# Busy is answered at once, not at the 1 s timeout; the silent ones are closed at it, not before
# (the daemon's timer starts at accept, after the connect), with seconds of scheduling delay
# allowed after it.
assert_cmp "busy connection closed after (s)" "$(sed -n 5p "$T/idle.out" | cut -d' ' -f2)" "<" 0.9
for i in 1 2 3 4; do
        assert_cmp "silent connection $i closed after (s)" "$(sed -n "${i}p" "$T/idle.out" | cut -d' ' -f2)" ">=" 0.99
        assert_cmp "silent connection $i closed after (s)" "$(sed -n "${i}p" "$T/idle.out" | cut -d' ' -f2)" "<" 3
done
# No stall: a second without pings would leave fewer than half of them.
assert_fed "silent clients" "$t_idle" "$t_idle_end" 0.1
cli status
expect_rc 0 "status after the silent clients"

echo "4. a hold keeps the watchdog fed while a required check fails"
# Times on CLOCK_REALTIME around each command: what the daemon computed lies between them.
t_a=$(date +%s.%N)
cli hold --for 1min
t_b=$(date +%s.%N)
expect_rc 0 "hold --for 1min"
assert_grep "$DAEMON_LOG" "^<4>Maintenance hold for 1min: feeding the watchdog whatever the checks say"
t_a2=$(date +%s.%N)
status_json "$T/s1.json"
t_b2=$(date +%s.%N)
expect_js "$T/s1.json" "$t_a + 60 - 0.001 <= d[\"hold\"][\"until_usec\"] / 1e6 <= $t_b + 60 + 0.001" true
expect_js "$T/s1.json" "d[\"hold\"][\"until_usec\"] / 1e6 - $t_b2 - 0.001 <= d[\"hold\"][\"remaining_usec\"] / 1e6 <= d[\"hold\"][\"until_usec\"] / 1e6 - $t_a2 + 0.001" true
until_usec=$(js "$T/s1.json" 'd["hold"]["until_usec"]')
t_a2=$(date +%s.%N)
cli status
t_b2=$(date +%s.%N)
expect_rc 0 status
[[ "$OUT" =~ Hold:\ until\ [0-9-]+\ [0-9:]+\ \(([0-9]+)s\ left\) ]] || fail "no hold in: $OUT"
left=${BASH_REMATCH[1]}
assert_cmp "hold: seconds left shown" "$left" ">=" "$(calc "$until_usec / 1e6 - $t_b2 - 1")"
assert_cmp "hold: seconds left shown" "$left" "<=" "$(calc "$until_usec / 1e6 - $t_a2 + 1")"
rm "$T/app"
wait_for_log "$DAEMON_LOG" "Required check 'app' is now failing" 10
t_fail=$(now)
sleep 2.5
t_end=$(now)
assert_fed "under the hold, the check failing (2 s timeout)" "$t_fail" "$t_end" 0.1
status_json "$T/s2.json"
expect_js "$T/s2.json" '[d["checks"][0]["state"], d["checks"][0]["result"]]' '["failing", "fail"]'
expect_js "$T/s2.json" 'd["watchdog"]["feeding"]' true
expect_js "$T/s2.json" 'd["hold"] is not None' true

echo "5. the hold survives a restart of the daemon"
stop_daemon
DAEMON_LOG=$T/daemon2.log
t_restart=$(now)
start_daemon
assert_grep "$DAEMON_LOG" "^<4>A maintenance hold set earlier in this boot is still on"
status_json "$T/s3.json"
expect_js "$T/s3.json" "abs(d[\"hold\"][\"until_usec\"] - $until_usec) < 1000000" true
wait_for_log "$DAEMON_LOG" "Required check 'app' is now failing" 10
t_fail2=$(now)
sleep 2.5
t_end=$(now)
# From the restarted daemon's first ping on.
first2=$(awk -v t="$t_restart" '$2 == "PING" && $1 >= t + 0 { print $1; exit }' "$STANDIN_LOG")
[ -n "$first2" ] || fail "no ping from the restarted daemon"
assert_fed "under the hold, restarted" "$(calc "($first2 > $t_fail2 ? $first2 : $t_fail2)")" "$t_end" 0.1
# How long the restart itself took is the machine's (kill9.sh judges a restart).
note "longest time without a ping across the restart: $(max_gap "$t_fail" "$t_end") s"

echo "6. hold --cancel: the checks decide again"
t_cancel=$(now)
cli hold --cancel
t_cancelled=$(now)
expect_rc 0 "hold --cancel"
wait_for_log "$STANDIN_LOG" ' RESET ' 10
note "cancel from $t_cancel to $t_cancelled, last ping $(last_ping), RESET $(event_time RESET)"
assert_cmp "pings after hold --cancel returned" "$(pings "$t_cancelled")" "==" 0
# The last ping came before the cancel returned, the RESET one timeout (2 s) after it.
assert_cmp "RESET - cancel returned (s)" "$(calc "$(event_time RESET) - $t_cancelled")" "<=" 2.3
assert_cmp "RESET - last ping (s)" "$(calc "$(event_time RESET) - $(last_ping)")" ">=" 2
[ "$(reason_field check)" = app ] || fail "reset-reason.json names '$(reason_field check)', not app"
cli hold --cancel
expect_rc 1 "hold --cancel (again)"
expect_err "healthdog hold: no hold"
cli hold --for 1min
expect_rc 1 "hold --for 1min (feeding stopped)"
expect_err "healthdog hold: refused: healthdog stopped feeding the watchdog, the reset is already on its way"
status_json "$T/s4.json"
expect_js "$T/s4.json" '[d["watchdog"]["feeding"], d["hold"], d["boot"]["verdict"]]' '[false, null, "reset"]'
expect_js "$T/s4.json" '"app" in d["watchdog"]["starve_reason"]' true
stop_daemon
stop_standin

echo "7. a trial: no hold; a socket left by a killed daemon is replaced"
rm -rf "$RUN" "$STATE"
make_image "$ENV_IMG" upgrade_available=1 bootcount=1 bootlimit=3
config none
touch "$T/app"
DAEMON_LOG=$T/daemon3.log
start_daemon
cli hold --for 10min
expect_rc 1 "hold --for 10min (trial)"
expect_err "healthdog hold: refused during a trial boot: the hold would hide the verdict"
[ -e "$RUN/hold" ] && fail "a refused hold left $RUN/hold"
kill -KILL "$DAEMON_PID"
wait_exit "$DAEMON_PID" 10
DAEMON_PID=
[ -S "$SOCK" ] || fail "the killed daemon's socket is gone (the test needs it stale)"
status_json "$T/s5.json"
expect_js "$T/s5.json" '[d["daemon"]["running"], d["boot"]["phase"]]' '[false, "trial"]'
cli mark-good
expect_rc 1 "mark-good (daemon killed)"
expect_err "healthdog mark-good: healthdog is not running (nothing answers on '$SOCK')"
DAEMON_LOG=$T/daemon4.log
start_daemon
assert_no_grep "$DAEMON_LOG" "control socket"
[ "$(stat -c '%a' "$SOCK")" = 600 ] || fail "the replaced socket has mode $(stat -c '%a' "$SOCK")"
status_json "$T/s6.json"
expect_js "$T/s6.json" "[d[\"daemon\"][\"running\"], d[\"daemon\"][\"pid\"]]" "[true, $DAEMON_PID]"
stop_daemon
[ -e "$SOCK" ] && fail "the socket is still there after a clean stop"
check_sanitizers
echo "control OK"
