#!/bin/bash
# A configuration that does not load (an update ships a drop-in healthdog refuses) no longer
# stops the supervision (issue 16 #2):
# - every configuration that loads is kept as STATE/last-good.conf;
# - on a steady boot, healthdog runs on it: still fed, no reset, degraded, the error in
#   `healthdog status` (text and JSON) and in the verdict;
# - on an unconfirmed trial, it runs on it and fails closed: reset-reason.json and the verdict
#   say "configuration invalid: FILE:LINE: ...", no ping after the decision, the device fires;
# - with no last-good.conf at all, a trial still fails closed (the device armed with what the
#   files still say), and a steady boot exits as before without opening the device.
source "$(dirname "$0")/bootlib.sh"

DROPINS=$T/conf.d
mkdir -p "$DROPINS"
chmod 0755 "$DROPINS"
LAST_GOOD=$STATE/last-good.conf

boot_config "confirm-after = 30s" <<EOF
[check.app]
type = file
path = $T/app
interval = 100ms
fail-after = 2
EOF
touch "$T/app"

broken_dropin() {
        printf '[check.app]\nno-such-key = 1\n' | write_config "$DROPINS/50-update.conf"
}
BROKEN="$DROPINS/50-update.conf:2: unknown key 'no-such-key' in \\[check.app\\] \\(type file\\)"

echo "== boot 1: steady, the configuration loads and is kept"
single_env upgrade_available=0 bootcount=0 bootlimit=3
start_boot 1
wait_until 3 pings_ge 5 || fail "boot 1 is not fed"
[ -f "$LAST_GOOD" ] || fail "no $LAST_GOOD after a start with a valid configuration"
assert_grep "$LAST_GOOD" "^path = $T/app\$"
"$REAL_HEALTHDOG" config check -c "$LAST_GOOD" >/dev/null || fail "last-good.conf does not load: $(cat "$LAST_GOOD")"
stop_daemon

echo "== boot 2: steady, an update brings a drop-in that does not load: fed on, degraded"
broken_dropin
"$REAL_HEALTHDOG" config check -c "$CONF" >/dev/null 2>&1 && fail "the broken drop-in loads"
start_boot 1
assert_grep "$DAEMON_LOG" "does not load \\(1 error, the first: $BROKEN\\): running with the last one that loaded"
t0=$(now)
sleep 2.5
assert_cmp "RESETs on a steady boot with an invalid configuration" "$(count_events RESET)" "==" 0
assert_cmp "pings in 2.5 s" "$(pings "$t0")" ">=" 10
OUT=$("$HEALTHDOG" status --json -c "$CONF" 2>/dev/null) || fail "status failed: $OUT"
python3 -c 'import json, sys
s = json.loads(sys.argv[1])
assert s["daemon"]["running"] is True, s["daemon"]
assert "50-update.conf:2: unknown key" in s["config_error"], s.get("config_error")
assert s["config_errors"] == 1, s["config_errors"]
assert s["boot"]["degraded"] is True, s["boot"]
assert s["watchdog"]["feeding"] is True, s["watchdog"]
assert s["checks"][0]["name"] == "app", s["checks"]' "$OUT" || fail "status --json: $OUT"
note "ok: status --json: config_error, degraded, feeding"
"$HEALTHDOG" status -c "$CONF" >"$T/status.txt" 2>/dev/null || fail "status failed"
assert_grep "$T/status.txt" "Config: INVALID \\(1 error\\): $BROKEN"
assert_grep "$T/status.txt" "DEGRADED"
assert_verdict verdict degraded
case "$(verdict_field verdict_reason)" in
"configuration invalid: $DROPINS/50-update.conf:2: unknown key"*) note "ok: verdict reason $(verdict_field verdict_reason)" ;;
*) fail "verdict reason: $(verdict_field verdict_reason)" ;;
esac
[ -e "$REASON" ] && fail "a reset reason on a steady boot: $(cat "$REASON")"
stop_daemon

echo "== boot 3: a trial with the same drop-in fails closed"
single_env upgrade_available=1 bootcount=1 bootlimit=3
start_boot 1
wait_for_log "$STANDIN_LOG" ' RESET ' 5
load_reason
[ "$(reason_field reason)" = "configuration invalid" ] || fail "reason: $(cat "$REASON")"
case "$REASON_DETAIL" in
"$DROPINS/50-update.conf:2: unknown key"*) ;;
*) fail "detail in reset-reason.json: $(cat "$REASON")" ;;
esac
assert_cmp "pings after the decision" "$(pings "$(calc "$CROSSING + 0.05")")" "==" 0
assert_verdict verdict rejected
case "$(verdict_field verdict_reason)" in
"configuration invalid: $DROPINS/50-update.conf:2: unknown key"*) note "ok: verdict reason $(verdict_field verdict_reason)" ;;
*) fail "verdict reason: $(verdict_field verdict_reason)" ;;
esac
stop_daemon

echo "== boot 4: a trial with no last-good.conf at all still fails closed"
rm -f "$LAST_GOOD" "$REASON"
printf '%s\n' "bootcount=2" >"$T/uboot.script"
fw_setenv -c "$FW_CONFIG" -s "$T/uboot.script" || fail "fw_setenv failed"
start_boot 1
wait_for_log "$STANDIN_LOG" ' RESET ' 5
load_reason
[ "$(reason_field reason)" = "configuration invalid" ] || fail "reason: $(cat "$REASON")"
assert_cmp "pings after the decision" "$(pings "$(calc "$CROSSING + 0.05")")" "==" 0
assert_cmp "pings in boot 4 (the one that armed it)" "$(pings)" "<=" 1
assert_verdict verdict rejected
[ -e "$LAST_GOOD" ] && fail "a configuration that does not load was kept as $LAST_GOOD"
stop_daemon

echo "== boot 5: a steady boot with no last-good.conf exits as before, the device never opened"
single_env upgrade_available=0 bootcount=0 bootlimit=3
rm -f "$REASON"
new_boot
start_standin 1
HEALTHDOG_LOG_LEVEL=info "$HEALTHDOG" run -c "$CONF" 2>"$DAEMON_LOG" &
DAEMON_PID=$!
lib_pids+=("$DAEMON_PID")
wait_exit "$DAEMON_PID" 10
DAEMON_PID=
[ "$EXIT_STATUS" = 1 ] || fail "the daemon exited with $EXIT_STATUS, expected 1"
assert_grep "$DAEMON_LOG" "Refusing to start with an invalid configuration"
sleep 1.5
assert_cmp "pings on boot 5" "$(pings)" "==" 0
assert_cmp "RESETs on boot 5" "$(count_events RESET)" "==" 0
check_sanitizers
echo "PASS"
