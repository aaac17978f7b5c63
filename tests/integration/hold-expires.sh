#!/bin/bash
# A maintenance hold ends by itself: `healthdog hold --for 3s` in a steady boot, then a required
# check fails. The watchdog stays fed for the rest of the hold (no decision, no reset reason);
# when the hold's time is up the checks decide again, and the failing check stops the feeding
# then, not before; the runtime file of the hold is gone and status shows no hold.
source "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || skip "python3 missing"
RUN=$T/run
HOLD=3

write_config <<CONF
[watchdog]
device = $DEV
timeout = 2s
interval = 100ms

[supervisor]
state-directory = $STATE
runtime-directory = $RUN
startup-grace = 0

[check.app]
type = file
path = $T/app
interval = 100ms
fail-after = 2
CONF

touch "$T/app"
start_standin 2
start_daemon

t_hold=$(now)
"$HEALTHDOG" hold --for ${HOLD}s -c "$CONF" >"$T/hold.out" 2>"$T/hold-cli.log" ||
        fail "healthdog hold --for ${HOLD}s: exit $?: $(cat "$T/hold.out" "$T/hold-cli.log")"
t_hold_set=$(now)
assert_grep "$DAEMON_LOG" "^<4>Maintenance hold for ${HOLD}s: feeding the watchdog whatever the checks say"
[ -s "$RUN/hold" ] || fail "no $RUN/hold while the hold is on"

rm "$T/app"
wait_for_log "$DAEMON_LOG" "^<3>Required check 'app' is now failing" 3
t_fail=$(now)
note "hold set at $t_hold (reply at $t_hold_set), check failing at $t_fail"
[ -e "$REASON" ] && fail "a reset reason was written during the hold: $(cat "$REASON")"
assert_no_grep "$DAEMON_LOG" "no longer feeding"

# The hold's end: a timer of 1 s accuracy, so up to HOLD + 1 s after it was set; then the
# failing check decides at once.
wait_for_log "$DAEMON_LOG" "^<5>The maintenance hold is over: the checks decide again" $((HOLD + 4))
wait_for_log "$DAEMON_LOG" "^<2>Required check 'app' is failing \\($T/app: No such file or directory\\): no longer feeding" 2
wait_for_log "$STANDIN_LOG" ' RESET ' 4
load_reason
last=$(last_ping)
note "decision at $CROSSING, last ping at $last, RESET at $(event_time RESET)"

# Not before the hold's time was up, and not long after.
assert_cmp "decision - hold set (s)" "$(calc "$CROSSING - $t_hold")" ">=" "$HOLD"
assert_cmp "decision - hold set (s)" "$(calc "$CROSSING - $t_hold_set")" "<=" "$(calc "$HOLD + 1 + 1.5")"
[ "$REASON_CHECK" = app ] || fail "check in reset-reason.json: $(cat "$REASON")"
# Fed all through the hold, with the check failing; no ping after the decision.
assert_cmp "pings between the failure and the end of the hold" \
        "$(pings "$t_fail" "$(calc "$t_hold + $HOLD")")" ">=" "$(awk -v a="$t_fail" -v b="$t_hold" -v h="$HOLD" 'BEGIN { printf "%d", (b + h - a) / 0.1 * 0.6 }')"
assert_cmp "longest ping gap while the hold covered the failure (s)" "$(max_gap "$t_fail" "$(calc "$t_hold + $HOLD")")" "<" 0.5
assert_cmp "last ping - hold set (s)" "$(calc "$last - $t_hold")" ">=" "$(calc "$HOLD - 0.2")"
assert_cmp "pings after the decision" "$(pings "$(calc "$CROSSING + 0.05")")" "==" 0

# The hold is gone, for the daemon and for the next one.
[ -e "$RUN/hold" ] && fail "$RUN/hold is still there: $(cat "$RUN/hold")"
"$HEALTHDOG" status --json -c "$CONF" >"$T/status.json" 2>"$T/status-cli.log" || fail "status --json failed"
python3 - "$T/status.json" <<'PY' || fail "status after the hold: $(cat "$T/status.json")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d.get("hold") is None, d.get("hold")
assert d["watchdog"]["feeding"] is False, d["watchdog"]
PY
note "ok: status shows no hold, not feeding"
alive "$DAEMON_PID" || fail "the daemon exited after it stopped feeding"
stop_daemon 0
echo "PASS"
