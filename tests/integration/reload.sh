#!/bin/bash
# SIGHUP with a broken config is rejected with FILE:LINE errors and the running config stays in
# force (its feeding included); SIGHUP with a valid config applies it: a new failing required
# check stops the feeding.
source "$(dirname "$0")/lib.sh"

PING=0.1

base() {
        cat <<EOF
[watchdog]
device = $DEV
timeout = 1s
interval = 100ms

[supervisor]
state-directory = $STATE
startup-grace = 0
EOF
}
checks() {
        cat <<EOF

[check.heartbeat]
type = file
path = $T/alive
interval = 100ms

[check.missing]
type = file
path = $T/missing
interval = 100ms
fail-after = 2
EOF
}

touch "$T/alive"
{ base; echo; echo "[check.heartbeat]"; echo "type = file"; echo "path = $T/alive"; echo "interval = 100ms"; } |
        write_config
start_standin 1
start_daemon
sleep 0.3

# 1. Broken: a check that would fail at once, and an unknown key. None of it may take effect.
{ base; echo "bogus = 1"; checks; } | write_config
line=$(grep -n '^bogus = 1$' "$CONF" | cut -d: -f1)
t_hup1=$(now)
kill -HUP "$DAEMON_PID"
wait_for_log "$DAEMON_LOG" "keeping the running configuration" 10
assert_grep "$DAEMON_LOG" "^<3>$CONF:$line: unknown key 'bogus' in \\[supervisor\\]$"
assert_grep "$DAEMON_LOG" "^<3>Reload failed: .*; keeping the running configuration$"
sleep 1.2
t1=$(now)
note "rejected reload at $t_hup1, watched until $t1"
assert_fed "after the rejected reload" "$t_hup1" "$t1" "$PING"
assert_cmp "RESET events" "$(count_events RESET)" "==" 0
assert_no_grep "$DAEMON_LOG" "^<2>|Configuration reloaded|missing"
[ -e "$REASON" ] && fail "reset-reason.json written by a rejected config: $(cat "$REASON")"
alive "$DAEMON_PID" || fail "the daemon exited on a bad reload"
# `healthdog reload` (the unit's ExecReload) says so and fails, so `systemctl reload` does too.
out=$("$HEALTHDOG" reload -c "$CONF" 2>&1)
rc=$?
[ "$rc" = 1 ] || fail "healthdog reload of a bad config exited $rc: $out"
[ "$out" = "$CONF:$line: unknown key 'bogus' in [supervisor]
healthdog reload: not reloaded: the daemon keeps its running configuration" ] || fail "healthdog reload said: $out"
note "ok: healthdog reload: $out"

# 2. Valid, with the failing required check: applied, the feeding stops. Through `healthdog
# reload` this time, which returns once it runs.
{ base; checks; } | write_config
t_hup2=$(now)
out=$("$HEALTHDOG" reload -c "$CONF" 2>&1) || fail "healthdog reload of a valid config failed: $out"
[ "$out" = "Configuration reloaded." ] || fail "healthdog reload said: $out"
wait_for_log "$DAEMON_LOG" "^<6>Configuration reloaded: 2 checks$" 10
wait_for_log "$DAEMON_LOG" "^<2>Required check 'missing' is failing" 10
wait_for_log "$STANDIN_LOG" ' RESET ' 10
load_reason
crossing=$CROSSING
last=$(last_ping)
note "valid reload at $t_hup2, crossing $crossing, last ping $last, RESET $(event_time RESET)"
# Runs at once after the reload, fails the second time 100 ms later.
# fail-after 2 at 100 ms: the second run comes at least half an interval after the first, which
# runs at the reload (a run moves onto the nearest ping tick within half an interval, once).
assert_cmp "crossing - reload (s)" "$(calc "$crossing - $t_hup2")" ">=" 0.05
assert_cmp "crossing - reload (s)" "$(calc "$crossing - $t_hup2")" "<=" "$(calc "0.35 + $LOAD_SLACK")"
assert_fed "until the crossing" "$t_hup2" "$crossing"
assert_cmp "pings after the crossing" "$(pings "$(calc "$crossing + 0.05")")" "==" 0
assert_cmp "RESET - last ping (s)" "$(calc "$(event_time RESET) - $last")" "<=" 1.5
[ "$REASON_CHECK" = missing ] || fail "check in reset-reason.json: $(cat "$REASON")"
stop_daemon 0
echo "PASS"
