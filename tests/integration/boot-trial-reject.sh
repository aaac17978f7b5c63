#!/bin/bash
# A trial boot whose required check fails is rejected: healthdog stops feeding, and before the
# watchdog can fire it has recorded reset-reason.json and the verdict "rejected" and run the red
# hooks (HEALTHDOG_VERDICT=rejected, HEALTHDOG_CHECK); it leaves the environment alone, U-Boot
# does the counting. U-Boot then gives up (bootcount past bootlimit, altbootcmd sets rollback=1):
# the next boot is rolled-back, clears upgrade_available, bootcount and rollback in one store,
# records which check failed in the boot before and runs the red hooks again. The boot after
# that is steady and writes nothing.
source "$(dirname "$0")/bootlib.sh"

# The watchdog's timeout: the red hooks and the records must come before the RESET, one timeout
# after the last ping, also when a loaded machine is slow to start the hooks.
WDT_TIMEOUT=3

redundant_env upgrade_available=1 bootcount=1 bootlimit=3 'bootcmd=run distro_bootcmd' \
        'altbootcmd=setenv rollback 1; run bootcmd'
boot_config "confirm-after = 2s" "trial-timeout = 30s" "hook-timeout = 5s" <<EOF
[check.app]
type = file
path = $T/app
interval = 100ms
fail-after = 2
EOF
# The first red hook also keeps what the state directory held when it ran.
recording_hook red.d 10-red "cp \"$STATE/verdicts.jsonl\" \"$T/seen.\$HEALTHDOG_BOOT_ID.verdicts\"
cp \"$STATE/reset-reason.json\" \"$T/seen.\$HEALTHDOG_BOOT_ID.reason\" 2>/dev/null || :"
recording_hook red.d 20-red
recording_hook green.d 10-green

echo "== boot 1: trial, the application fails"
sig=$(file_sig "$ENV")
touch "$T/app"
start_boot "$WDT_TIMEOUT"
boot1=$(boot_id_hex)
assert_grep "$DAEMON_LOG" "^<5>Boot phase: trial \\(.*\\); upgrade_available=1 bootcount=1 bootlimit=3"
sleep 0.5
t_fail=$(now)
rm "$T/app"
wait_for_log "$STANDIN_LOG" ' RESET ' 10
wait_for_log "$DAEMON_LOG" "2 hooks ran, 0 failed" 10
load_reason
last=$(last_ping)
reset=$(event_time RESET)
note "app removed at +$(calc "$t_fail - $BOOT_T0")s, decision at +$(calc "$CROSSING - $BOOT_T0")s, last ping +$(calc "$last - $BOOT_T0")s, RESET +$(calc "$reset - $BOOT_T0")s"
[ "$(reason_field reason)" = check-failed ] || fail "reason: $(cat "$REASON")"
[ "$REASON_CHECK" = app ] || fail "check in reset-reason.json: $(cat "$REASON")"
assert_cmp "decision - removal (s)" "$(calc "$CROSSING - $t_fail")" "<=" "$(calc "0.35 + $LOAD_SLACK")"
assert_fed "until the decision" "$(first_ping)" "$CROSSING"
assert_cmp "pings after the decision" "$(pings "$(calc "$CROSSING + 0.05")")" "==" 0
assert_cmp "RESET - last ping (s)" "$(calc "$reset - $last")" ">=" "$WDT_TIMEOUT"
assert_grep "$DAEMON_LOG" "^<2>Required check 'app' is failing \\($T/app: No such file or directory\\): no longer feeding"

# Recorded before the RESET: the hooks saw both files, and both were written before it.
offset=$(awk -v r="$(reason_field realtime_usec)" -v m="$(reason_field monotonic_usec)" 'BEGIN { printf "%.6f\n", (r - m) / 1e6 }')
verdict_written=$(calc "$(stat -c %.9Y "$VERDICTS") - $offset")
reason_written=$(calc "$(stat -c %.9Y "$REASON") - $offset")
assert_cmp "RESET - reset-reason.json written (s)" "$(calc "$reset - $reason_written")" ">" 0
assert_cmp "RESET - verdicts.jsonl written (s)" "$(calc "$reset - $verdict_written")" ">" 0
for h in red.d/10-red red.d/20-red; do
        t=$(awk -v h="$h" '$2 == h { print $1 }' "$HOOK_LOG")
        assert_cmp "RESET - $h ran (s)" "$(calc "$reset - ${t:-1e9}")" ">" 0
done
seen=$T/seen.$boot1
grep -q "\"boot_id\":\"$boot1\".*\"verdict\":\"rejected\"" "$seen.verdicts" ||
        fail "the red hook did not see the rejected verdict: $(cat "$seen.verdicts")"
grep -q '"check":"app"' "$seen.reason" 2>/dev/null || fail "the red hook did not see reset-reason.json"
note "ok: the red hook saw the verdict and the reset reason"

assert_verdict verdict rejected
assert_verdict phase trial
assert_verdict verdict_reason "check-failed: check app: $T/app: No such file or directory"
[ "$(hook_order)" = "red.d/10-red red.d/20-red" ] || fail "hooks ran as: $(hook_order)"
assert_hook_var red.d 10-red HEALTHDOG_VERDICT rejected
assert_hook_var red.d 20-red HEALTHDOG_VERDICT rejected
assert_hook_var red.d 10-red HEALTHDOG_CHECK app
assert_hook_var red.d 10-red HEALTHDOG_DETAIL "$T/app: No such file or directory"
assert_hook_var red.d 10-red HEALTHDOG_PHASE trial
assert_hook_var red.d 10-red HEALTHDOG_BOOTCOUNT 1
assert_sig_same "rejected trial" "$ENV" "$sig"
alive "$DAEMON_PID" || fail "the daemon exited after the decision"
stop_daemon

echo "== U-Boot: bootcount past bootlimit, altbootcmd sets rollback=1"
# libubootenv's fw_setenv -s takes name=value lines (U-Boot's own took "name value").
printf '%s\n' "bootcount=4" "rollback=1" >"$T/uboot.script"
fw_setenv -c "$FW_CONFIG" -s "$T/uboot.script" || fail "fw_setenv failed"
assert_env bootcount 4
assert_env rollback 1
env_before=$(env_dump)
sig=$(file_sig "$ENV")
copy0=$(copy_sum "$ENV" 0)
copy1=$(copy_sum "$ENV" 1)
flags0=$(flags_byte "$ENV" 0)
flags1=$(flags_byte "$ENV" 1)
: >"$HOOK_LOG"

echo "== boot 2: rolled back, the old software is fine"
touch "$T/app"
start_boot "$WDT_TIMEOUT"
assert_grep "$DAEMON_LOG" "^<5>Boot phase: rolled-back \\(rollback is set.*\\); upgrade_available=1 bootcount=4 bootlimit=3 rollback=1$"
assert_grep "$DAEMON_LOG" "^<2>U-Boot rolled back .*What made the new software fail: .*\"check\":\"app\""
assert_grep "$DAEMON_LOG" "^<6>Cleared upgrade_available, bootcount and rollback"
wait_for_log "$DAEMON_LOG" "2 hooks ran, 0 failed" 10
[ -e "$REASON" ] && fail "reset-reason.json is still there: it belongs to the boot before"
assert_env upgrade_available 0
assert_env bootcount 0
assert_env rollback 0
assert_env bootlimit 3
changed=$(diff <(echo "$env_before") <(env_dump) | grep '^[<>]' | LC_ALL=C sort | tr '\n' ' ')
[ "$changed" = "< bootcount=4 < rollback=1 < upgrade_available=1 > bootcount=0 > rollback=0 > upgrade_available=0 " ] ||
        fail "the environment changed in more than the three variables: $changed"
note "ok: env diff: $changed"
n_changed=0
[ "$(copy_sum "$ENV" 0)" != "$copy0" ] && n_changed=$((n_changed + 1)) && written=0
[ "$(copy_sum "$ENV" 1)" != "$copy1" ] && n_changed=$((n_changed + 1)) && written=1
assert_cmp "copies rewritten" "$n_changed" "==" 1
assert_cmp "flags byte of the rewritten copy $written" "$(flags_byte "$ENV" "$written")" "==" "$(( (flags0 > flags1 ? flags0 : flags1) + 1 ))"

assert_verdict verdict rolled-back
assert_verdict phase rolled-back
assert_verdict env.bootcount 4
assert_verdict env.rollback 1
assert_verdict previous_reset.check app
assert_verdict previous_reset.reason check-failed
assert_verdict previous_reset.boot_id "$boot1"
assert_cmp "records of boot 1" "$(verdict_records "$boot1")" "==" 1
assert_verdict verdict rejected "$boot1"
[ "$(hook_order)" = "red.d/10-red red.d/20-red" ] || fail "hooks ran as: $(hook_order)"
assert_hook_var red.d 10-red HEALTHDOG_VERDICT rolled-back
assert_hook_var red.d 20-red HEALTHDOG_VERDICT rolled-back
assert_hook_var red.d 10-red HEALTHDOG_PHASE rolled-back
assert_hook_var red.d 10-red HEALTHDOG_BOOTCOUNT 4
case $(hook_var red.d 10-red HEALTHDOG_PREVIOUS_RESET) in
*'"check":"app"'*) note "ok: HEALTHDOG_PREVIOUS_RESET names the check" ;;
*) fail "HEALTHDOG_PREVIOUS_RESET: $(hook_var red.d 10-red HEALTHDOG_PREVIOUS_RESET)" ;;
esac
# Then it supervises as steady: fed, and nothing more written.
sig=$(file_sig "$ENV")
sleep 1.5
assert_sig_same "rolled-back boot after clearing" "$ENV" "$sig"
assert_cmp "RESET events in the rolled-back boot" "$(count_events RESET)" "==" 0
assert_fed "fed" "$(first_ping)" "$(now)" 0.1
stop_daemon

echo "== boot 3: steady"
: >"$HOOK_LOG"
start_boot "$WDT_TIMEOUT"
assert_grep "$DAEMON_LOG" "^<5>Boot phase: steady \\(.*\\); upgrade_available=0 bootcount=0 bootlimit=3 rollback=0$"
sleep 1.5
assert_sig_same "steady boot after the rollback" "$ENV" "$sig"
assert_verdict verdict steady
assert_verdict previous_reset null
[ -s "$HOOK_LOG" ] && fail "hooks ran in the steady boot: $(hook_order)"
assert_cmp "RESET events in the steady boot" "$(count_events RESET)" "==" 0
stop_daemon
check_sanitizers
echo "PASS"
