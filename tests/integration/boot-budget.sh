#!/bin/bash
# The reboot budget of a steady device: with steady-action = reset and max-resets = 2 per hour, a
# required check that keeps failing resets the board twice (the budget persisted in the state
# directory across the simulated reboots); the third boot stays up, fed, degraded, and says why.
# A device is never reset in a loop. steady-action = degrade never resets. A trial boot is not
# held back by a spent budget: rejecting new software does not count against it.
source "$(dirname "$0")/bootlib.sh"

BUDGET=$STATE/reset-budget

# config STEADY-ACTION
config() {
        boot_config "confirm-after = 1s" "trial-timeout = 30s" "steady-action = $1" "max-resets = 2" \
                "reset-window = 1h" <<EOF
[check.app]
type = file
path = $T/app
interval = 100ms
fail-after = 2
EOF
}

budget_stamps() { [ -f "$BUDGET" ] && grep -c . "$BUDGET" || echo 0; }

# reset_boot N: a steady boot whose app is down: health reset N of 2.
reset_boot() {
        start_boot 1
        assert_grep "$DAEMON_LOG" "^<5>Boot phase: steady"
        wait_for_log "$STANDIN_LOG" ' RESET ' 10
        load_reason
        [ "$REASON_CHECK" = app ] || fail "reset-reason.json: $(cat "$REASON")"
        assert_grep "$DAEMON_LOG" "^<5>Health reset $1 of at most 2 within 1h$"
        assert_cmp "boot $BOOT_N: decision - start (s)" "$(calc "$CROSSING - $BOOT_T0")" "<=" "$(calc "0.6 + $LOAD_SLACK")"
        assert_cmp "boot $BOOT_N: pings after the decision" "$(pings "$(calc "$CROSSING + 0.05")")" "==" 0
        assert_cmp "boot $BOOT_N: budget stamps" "$(budget_stamps)" "==" "$1"
        assert_verdict verdict reset
        stop_daemon
}

echo "== steady-action = reset, max-resets = 2 per 1h"
single_env upgrade_available=0 bootcount=0 bootlimit=3
sig=$(file_sig "$ENV")
config reset
t_start_real=$(date +%s)
reset_boot 1
reset_boot 2
assert_verdict previous_reset.check app
# Both stamps are wall-clock times of this run.
awk -v t="$t_start_real" -v n="$(date +%s)" '{ s = $1 / 1e6; if (s < t - 1 || s > n + 1) exit 1 }' "$BUDGET" ||
        fail "budget stamps out of this run's time: $(cat "$BUDGET")"

echo "== boot 3: the budget is spent"
budget_sig=$(file_sig "$BUDGET")
start_boot 1
wait_for_log "$DAEMON_LOG" "but the reboot budget is spent" 10
t_degraded=$(now)
assert_grep "$DAEMON_LOG" "^<2>Required check 'app' is failing \\($T/app: No such file or directory\\), but the reboot budget is spent \\(2 resets within 1h\\): staying up degraded$"
sleep 2
t_end=$(now)
note "degraded at +$(calc "$t_degraded - $BOOT_T0")s, watched until +$(calc "$t_end - $BOOT_T0")s"
assert_cmp "RESET events with the budget spent" "$(count_events RESET)" "==" 0
assert_fed "after the degraded decision" "$t_degraded" "$t_end" 0.1
assert_fed "fed" "$(first_ping)" "$t_end" 0.1
[ -e "$REASON" ] && fail "a reset reason was recorded with the budget spent: $(cat "$REASON")"
assert_sig_same "reset-budget with the budget spent" "$BUDGET" "$budget_sig"
assert_no_grep "$DAEMON_LOG" "no longer feeding|Health reset"
assert_verdict verdict degraded
assert_verdict verdict_reason "check app: $T/app: No such file or directory; reboot budget spent"
assert_verdict previous_reset.check app
# It comes back, then fails again: degraded again, still no reset.
touch "$T/app"
wait_for_log "$DAEMON_LOG" "^<5>Every required check is healthy again: no longer degraded" 10
assert_verdict verdict steady
rm "$T/app"
wait_for_log "$DAEMON_LOG" "^<5>Required check 'app' failed \\(1 of 2" 10
wait_until 10 log_count_ge "$DAEMON_LOG" "but the reboot budget is spent" 2 || fail "not degraded again"
sleep 0.3
assert_cmp "RESET events after the second failure" "$(count_events RESET)" "==" 0
assert_verdict verdict degraded
assert_cmp "records of boot 3" "$(verdict_records)" "==" 1
stop_daemon
assert_sig_same "steady boots with resets" "$ENV" "$sig"

echo "== steady-action = degrade"
STATE=$T/state-degrade
REASON=$STATE/reset-reason.json
VERDICTS=$STATE/verdicts.jsonl
config degrade
start_boot 1
wait_for_log "$DAEMON_LOG" "^<2>Required check 'app' is failing \\($T/app: No such file or directory\\): staying up degraded \\(steady-action = degrade\\)$" 10
t_degraded=$(now)
sleep 2
t_end=$(now)
assert_cmp "steady-action = degrade: RESET events" "$(count_events RESET)" "==" 0
assert_fed "steady-action = degrade" "$t_degraded" "$t_end" 0.1
[ -e "$STATE/reset-budget" ] && fail "steady-action = degrade used the budget: $(cat "$STATE/reset-budget")"
[ -e "$REASON" ] && fail "steady-action = degrade recorded a reset reason"
assert_verdict verdict degraded
stop_daemon

echo "== a trial boot with the budget spent"
STATE=$T/state
REASON=$STATE/reset-reason.json
VERDICTS=$STATE/verdicts.jsonl
config reset
single_env upgrade_available=1 bootcount=1 bootlimit=3
sig=$(file_sig "$ENV")
start_boot 1
assert_grep "$DAEMON_LOG" "^<5>Boot phase: trial"
wait_for_log "$STANDIN_LOG" ' RESET ' 10
load_reason
[ "$REASON_CHECK" = app ] || fail "reset-reason.json: $(cat "$REASON")"
assert_cmp "trial: decision - start (s)" "$(calc "$CROSSING - $BOOT_T0")" "<=" "$(calc "0.6 + $LOAD_SLACK")"
assert_cmp "trial: pings after the decision" "$(pings "$(calc "$CROSSING + 0.05")")" "==" 0
assert_sig_same "reset-budget after a rejected trial" "$BUDGET" "$budget_sig"
assert_no_grep "$DAEMON_LOG" "Health reset|reboot budget|staying up degraded"
assert_verdict verdict rejected
stop_daemon
assert_sig_same "rejected trial" "$ENV" "$sig"
check_sanitizers
echo "PASS"
