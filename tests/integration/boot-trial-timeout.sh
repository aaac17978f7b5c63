#!/bin/bash
# A trial that cannot be confirmed because only an environmental check fails (the uplink is down):
# at trial-timeout (2 s here) trial-timeout-action decides. wait: the feeding goes on, the boot
# stays unconfirmed and the environment untouched (and it still confirms once the uplink is
# back); reject: the feeding stops with reason trial-timeout, verdict rejected, red hooks;
# accept: confirmed, upgrade_available and bootcount cleared, green hooks.
source "$(dirname "$0")/bootlib.sh"

CONFIRM=1
TIMEOUT=2
# sd-event may fire the trial timer up to its accuracy (1 s) late, and a loaded machine later.
TIMER_SLACK=$(calc "1 + $LOAD_SLACK")

# config ACTION
config() {
        boot_config "confirm-after = ${CONFIRM}s" "trial-timeout = ${TIMEOUT}s" "trial-timeout-action = $1" \
                "hook-timeout = 5s" <<EOF
[check.app]
type = file
path = $T/app
interval = 100ms
fail-after = 2

[check.uplink]
type = file
path = $T/uplink
interval = 100ms
fail-after = 1
environmental = yes
EOF
}
recording_hook green.d 10-green
recording_hook red.d 10-red
touch "$T/app"

# trial_boot ACTION: a fresh trial environment, the uplink down, the daemon started.
trial_boot() {
        echo "== trial-timeout-action = $1"
        config "$1"
        single_env upgrade_available=1 bootcount=2 bootlimit=3 'bootcmd=run distro_bootcmd'
        sig=$(file_sig "$ENV")
        rm -f "$T/uplink" "$HOOK_LOG" "$T"/hook.*.env
        start_boot 1
        assert_grep "$DAEMON_LOG" "^<5>Boot phase: trial"
}

trial_boot wait
wait_for_log "$DAEMON_LOG" "^<4>The trial was not confirmed within ${TIMEOUT}s: feeding on, unconfirmed \\(trial-timeout-action = wait\\)" 10
t_timeout=$(now)
assert_cmp "wait: timeout seen - start (s)" "$(calc "$t_timeout - $BOOT_T0")" ">=" "$TIMEOUT"
assert_cmp "wait: timeout seen - start (s)" "$(calc "$t_timeout - $BOOT_T0")" "<=" "$(calc "$TIMEOUT + $TIMER_SLACK")"
sleep 1.5
t_end=$(now)
assert_fed "wait: after the timeout" "$t_timeout" "$t_end" 0.1
assert_fed "wait" "$(first_ping)" "$t_end" 0.1
assert_cmp "wait: RESET events" "$(count_events RESET)" "==" 0
assert_sig_same "wait: after the timeout" "$ENV" "$sig"
assert_no_grep "$DAEMON_LOG" "Boot confirmed|no longer feeding"
assert_verdict verdict pending
assert_verdict verdict_reason "not confirmed within ${TIMEOUT}s; waiting"
[ -e "$HOOK_LOG" ] && fail "hooks ran: $(hook_order)"
# The uplink comes back: the proof is there now.
t_up_real=$(date +%s.%N)
touch "$T/uplink"
wait_for_log "$DAEMON_LOG" "^<5>Boot confirmed \\(required checks healthy for ${CONFIRM}s\\)" 10
confirmed=$(awk -v u="$(verdict_field confirmed_usec)" 'BEGIN { printf "%.6f\n", u / 1e6 }')
assert_cmp "wait: confirmation - uplink back (s)" "$(calc "$confirmed - $t_up_real")" ">=" "$CONFIRM"
assert_cmp "wait: confirmation - uplink back (s)" "$(calc "$confirmed - $t_up_real")" "<=" "$(calc "$CONFIRM + $LOAD_SLACK")"
assert_env upgrade_available 0
assert_verdict verdict confirmed
stop_daemon

trial_boot reject
wait_for_log "$STANDIN_LOG" ' RESET ' 30
load_reason
last=$(last_ping)
[ "$(reason_field reason)" = trial-timeout ] || fail "reason: $(cat "$REASON")"
grep -q '"check":null' "$REASON" || fail "a check named in $(cat "$REASON")"
[ "$REASON_DETAIL" = "not confirmed within trial-timeout" ] || fail "detail: $(cat "$REASON")"
assert_cmp "reject: decision - start (s)" "$(calc "$CROSSING - $BOOT_T0")" ">=" "$TIMEOUT"
assert_cmp "reject: decision - start (s)" "$(calc "$CROSSING - $BOOT_T0")" "<=" "$(calc "$TIMEOUT + $TIMER_SLACK")"
assert_cmp "reject: pings after the decision" "$(pings "$(calc "$CROSSING + 0.05")")" "==" 0
assert_fed "reject: until the decision" "$(first_ping)" "$CROSSING"
assert_cmp "reject: RESET - last ping (s)" "$(calc "$(event_time RESET) - $last")" ">=" 1.0
assert_grep "$DAEMON_LOG" "^<4>The trial was not confirmed within ${TIMEOUT}s: rejecting it \\(trial-timeout-action = reject\\)$"
wait_for_log "$DAEMON_LOG" "1 hooks ran, 0 failed" 10
assert_verdict verdict rejected
assert_verdict verdict_reason "trial-timeout: not confirmed within trial-timeout"
[ "$(hook_order)" = "red.d/10-red" ] || fail "hooks ran as: $(hook_order)"
assert_hook_var red.d 10-red HEALTHDOG_VERDICT rejected
assert_hook_var red.d 10-red HEALTHDOG_CHECK "(unset)"
assert_hook_var red.d 10-red HEALTHDOG_BOOTCOUNT 2
assert_sig_same "reject" "$ENV" "$sig"
stop_daemon

trial_boot accept
wait_for_log "$DAEMON_LOG" "^<5>Boot confirmed \\(trial-timeout-action = accept\\): cleared upgrade_available and bootcount" 30
t_confirmed=$(now)
assert_grep "$DAEMON_LOG" "^<4>The trial was not confirmed within ${TIMEOUT}s: accepting it \\(trial-timeout-action = accept\\)$"
assert_cmp "accept: confirmation seen - start (s)" "$(calc "$t_confirmed - $BOOT_T0")" ">=" "$TIMEOUT"
assert_cmp "accept: confirmation seen - start (s)" "$(calc "$t_confirmed - $BOOT_T0")" "<=" "$(calc "$TIMEOUT + $TIMER_SLACK")"
assert_env upgrade_available 0
assert_env bootcount 0
assert_env bootlimit 3
assert_verdict verdict confirmed
assert_verdict verdict_reason "trial-timeout-action = accept"
wait_for_log "$DAEMON_LOG" "1 hooks ran, 0 failed" 10
[ "$(hook_order)" = "green.d/10-green" ] || fail "hooks ran as: $(hook_order)"
assert_hook_var green.d 10-green HEALTHDOG_VERDICT confirmed
assert_hook_var green.d 10-green HEALTHDOG_BOOTCOUNT 2
sleep 0.5
assert_cmp "accept: RESET events" "$(count_events RESET)" "==" 0
assert_fed "accept" "$(first_ping)" "$(now)" 0.1
stop_daemon
check_sanitizers
echo "PASS"
