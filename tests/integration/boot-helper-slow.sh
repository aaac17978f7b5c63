#!/bin/bash
# Asking the OSTree helper which deployment booted never holds up the pings (issue 15 #7): the
# old daemon asked in a private event loop for up to 5 s at start, without a ping, which resets a
# good trial on a watchdog with a shorter timeout, and never reaped a helper it killed. Here the
# helper is a stand-in program (`[ostree] helper`, speaking the helper's reply frame), reached as
# the daemon's child because the socket file it is configured with is stale: nobody listens on it
# (issue 15 #10: a stale socket falls back to the child instead of failing).
# - It answers after 3 s: the pings go on meanwhile, then the phase is decided with its answer.
# - It hangs: it is killed at [ostree] timeout and reaped, and the environment alone decides: a
#   trial stays a trial.
# - It prints something other than its result, with exit 0 (issue 15 #2: the old daemon took any
#   output with exit 0 for "an older deployment is booted", and a library warning made a trial
#   "rolled-back", its variables cleared): a malformed reply proves nothing, the trial stays.
source "$(dirname "$0")/bootlib.sh"

HELPER=$T/fake-helper
cat >"$HELPER" <<'EOF'
#!/bin/bash
# healthdog-ostree serve, as the daemon runs it: the request on stdin until its end, the reply
# (result, NUL, messages, NUL, exit code) on stdout.
cat >/dev/null
read -r delay <"${0%/*}/helper-delay"
sleep "$delay"
d='{"name":"1111111111111111111111111111111111111111111111111111111111111111.0","serial":0}'
if [ -e "${0%/*}/helper-garbage" ]; then
        printf '%s\0%s\0%d' "(ostree:42): GLib-WARNING **: something" "" 0
        exit 0
fi
printf '%s\0%s\0%d' "{\"booted\":$d,\"default\":$d,\"failed\":null}" "a libostree warning on stderr" 0
EOF
chmod 0755 "$HELPER"
# A socket file nobody listens on, as a crashed or stopped socket unit leaves it.
python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$T/stale.sock"
[ -S "$T/stale.sock" ] || fail "no stale socket"

redundant_env upgrade_available=1 bootcount=1 bootlimit=3
boot_config "confirm-after = 60s" <<EOF
[ostree]
enable = yes
helper = $HELPER
helper-socket = $T/stale.sock
timeout = 2s

[check.app]
type = file
path = $T/app
interval = 100ms
EOF
touch "$T/app"

echo "== the helper answers after 3 s (its timeout is 2 s: here 10 s)"
sed -i 's/^timeout = 2s$/timeout = 10s/' "$CONF"
echo 3 >"$T/helper-delay"
start_boot 1
t0=$(now)
wait_for_log "$DAEMON_LOG" "^<5>Boot phase: trial" 10
t_phase=$(now)
note "phase decided $(calc "$t_phase - $t0") s after the daemon was up"
assert_grep "$DAEMON_LOG" "The default OSTree deployment is booted"
assert_cmp "seconds until the phase was decided" "$(calc "$t_phase - $t0")" ">=" 2
assert_cmp "max gap between pings while the helper worked (s)" "$(max_gap "$t0" "$t_phase")" "<=" 0.6
assert_cmp "RESET events" "$(count_events RESET)" "==" 0
# What the helper printed on stderr is a message, never the answer.
assert_no_grep "$DAEMON_LOG" "rolled-back"
assert_verdict verdict pending
stop_daemon

echo "== the helper hangs: killed at its timeout, reaped, the environment decides"
sed -i 's/^timeout = 10s$/timeout = 2s/' "$CONF"
echo 300 >"$T/helper-delay"
start_boot 1
t0=$(now)
wait_for_log "$DAEMON_LOG" "Cannot tell which OSTree deployment is booted \\(timed out\\): deciding from the environment alone" 10
t_phase=$(now)
assert_grep "$DAEMON_LOG" "^<5>Boot phase: trial "
assert_cmp "max gap between pings while the helper hung (s)" "$(max_gap "$t0" "$t_phase")" "<=" 0.6
assert_cmp "RESET events" "$(count_events RESET)" "==" 0
no_helper() { ! pgrep -f -- "$HELPER" >/dev/null; }
wait_until 3 no_helper || fail "the killed helper is still there: $(pgrep -af -- "$HELPER")"
zombies=$(ps -o stat=,pid= --ppid "$DAEMON_PID" | grep -c '^Z')
assert_cmp "zombie children of the daemon" "$zombies" "==" 0
assert_verdict verdict pending
stop_daemon

echo "== the helper prints a warning where its result belongs, and exits 0"
echo 0 >"$T/helper-delay"
: >"$T/helper-garbage"
sig=$(file_sig "$ENV")
start_boot 1
wait_for_log "$DAEMON_LOG" "Cannot tell which OSTree deployment is booted \\(a malformed reply" 10
assert_grep "$DAEMON_LOG" "^<5>Boot phase: trial "
assert_no_grep "$DAEMON_LOG" "rolled-back|Cleared upgrade_available"
assert_env upgrade_available 1
assert_sig_same "the environment" "$ENV" "$sig"
assert_verdict verdict pending
stop_daemon
check_sanitizers
echo "PASS"
