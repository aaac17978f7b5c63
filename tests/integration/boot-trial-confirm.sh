#!/bin/bash
# A trial boot (upgrade_available=1) is confirmed once every required check, the environmental
# one included, has passed continuously for confirm-after: upgrade_available=0 and bootcount=0
# in ONE store of a redundant environment (one copy rewritten, its flags byte one up, every other
# variable as it was), one verdict record "confirmed" for the boot, the green hooks in lexical
# order with the verdict and the env values. A failing environmental check blocks the
# confirmation without stopping the feeding; a required check failing once in between postpones
# it by a full confirm-after.
source "$(dirname "$0")/bootlib.sh"

CONFIRM=4       # confirm-after, s: the test fails a check within it, also on a loaded machine
CHECK=0.1       # check interval, s

redundant_env upgrade_available=1 bootcount=1 bootlimit=3 'bootcmd=run distro_bootcmd' \
        'altbootcmd=setenv rollback 1; run bootcmd' ethaddr=02:00:00:00:00:01
boot_config "confirm-after = ${CONFIRM}s" "trial-timeout = 30s" "hook-timeout = 5s" <<EOF
[check.app]
type = file
path = $T/app
interval = 100ms
fail-after = 5

[check.uplink]
type = file
path = $T/uplink
interval = 100ms
fail-after = 1
environmental = yes
EOF
# Created in reverse order: the order they run in is strcmp()'s, not the directory's.
recording_hook green.d b-last
recording_hook green.d 2-second
recording_hook green.d 10-report
recording_hook red.d 10-red

env_before=$(env_dump)
sig_before=$(file_sig "$ENV")
copy0=$(copy_sum "$ENV" 0)
copy1=$(copy_sum "$ENV" 1)
flags0=$(flags_byte "$ENV" 0)
flags1=$(flags_byte "$ENV" 1)
note "before: flags $flags0/$flags1; $(echo "$env_before" | tr '\n' ' ')"

touch "$T/app"
start_boot 1
assert_grep "$DAEMON_LOG" "^<5>Boot phase: trial \\(.*\\); upgrade_available=1 bootcount=1 bootlimit=3 rollback=\\(unset\\)$"
wait_for_log "$DAEMON_LOG" "Environmental check 'uplink' is now failing" 10

# Two confirm-afters with the uplink down: no confirmation, no write, the feeding goes on.
sleep_until "$(calc "$BOOT_T0 + 2 * $CONFIRM")"
t_blocked=$(now)
assert_no_grep "$DAEMON_LOG" "Boot confirmed|Every required check passes"
assert_sig_same "uplink down for $(calc "$t_blocked - $BOOT_T0")s" "$ENV" "$sig_before"
assert_fed "while the uplink is down" "$(first_ping)" "$t_blocked" 0.1
assert_cmp "RESET events while the uplink is down" "$(count_events RESET)" "==" 0
assert_verdict verdict pending

# The uplink comes back: the countdown starts ...
t_up=$(now)
t_up_real=$(date +%s.%N)
touch "$T/uplink"
wait_for_log "$DAEMON_LOG" "Every required check passes: confirming this boot in ${CONFIRM}s unless one fails" 10
# ... and a required check failing once (of fail-after 5) half-way through stops it.
sleep 0.3
rm "$T/app"
wait_for_log "$DAEMON_LOG" "Confirmation postponed: a required check failed" 10
t_restore=$(now)
t_restore_real=$(date +%s.%N)
touch "$T/app"
assert_no_grep "$DAEMON_LOG" "Boot confirmed"
note "uplink back at +$(calc "$t_up - $BOOT_T0")s, app failed and back at +$(calc "$t_restore - $BOOT_T0")s"
assert_cmp "countdown before the postponement (s)" "$(calc "$t_restore - $t_up")" "<" "$CONFIRM"

wait_for_log "$DAEMON_LOG" "^<5>Boot confirmed \\(required checks healthy for ${CONFIRM}s\\): cleared upgrade_available and bootcount" 30
t_seen=$(now)
wait_for_log "$DAEMON_LOG" "3 hooks ran, 0 failed" 10
confirmed=$(awk -v u="$(verdict_field confirmed_usec)" 'BEGIN { printf "%.6f\n", u / 1e6 }')
delay=$(calc "$confirmed - $t_restore_real")
note "confirmed at +$(calc "$confirmed - $BOOT_T0_REAL")s (realtime), seen in the log $(calc "$t_seen - $t_restore")s after the restore"
assert_cmp "confirmation - last failure (s)" "$delay" ">=" "$CONFIRM"
assert_cmp "confirmation - last failure (s)" "$delay" "<=" "$(calc "$CONFIRM + $CHECK + $LOAD_SLACK")"
# Both sides in realtime: t_up and t_restore are monotonic, each read a process spawn apart from
# its realtime twin, which under load differs by more than the margin this bound has.
assert_cmp "confirmation - uplink back (s)" "$(calc "$confirmed - $t_up_real")" ">=" "$(calc "$CONFIRM + $t_restore_real - $t_up_real")"
assert_cmp "'Every required check passes' lines" "$(grep -c 'Every required check passes' "$DAEMON_LOG")" "==" 2
assert_grep "$DAEMON_LOG" "Required check 'app' failed \\(1 of 5 before it counts\\)"
assert_no_grep "$DAEMON_LOG" "check 'app' is now failing|no longer feeding"

# The environment: the two variables, nothing else, one copy.
env_after=$(env_dump)
[ -s "$T/fw_printenv.err" ] && fail "fw_printenv complains: $(cat "$T/fw_printenv.err")"
assert_env upgrade_available 0
assert_env bootcount 0
assert_env bootlimit 3
assert_env rollback "(unset)"
changed=$(diff <(echo "$env_before") <(echo "$env_after") | grep '^[<>]' | LC_ALL=C sort | tr '\n' ' ')
[ "$changed" = "< bootcount=1 < upgrade_available=1 > bootcount=0 > upgrade_available=0 " ] ||
        fail "the environment changed in more than the two variables: $changed"
note "ok: env diff: $changed"
new0=$(copy_sum "$ENV" 0)
new1=$(copy_sum "$ENV" 1)
if [ "$new0" = "$copy0" ] && [ "$new1" != "$copy1" ]; then
        written=1
elif [ "$new1" = "$copy1" ] && [ "$new0" != "$copy0" ]; then
        written=0
else
        fail "expected exactly one copy rewritten: copy 0 $([ "$new0" = "$copy0" ] && echo same || echo changed), copy 1 $([ "$new1" = "$copy1" ] && echo same || echo changed)"
fi
assert_cmp "flags byte of the rewritten copy $written" "$(flags_byte "$ENV" "$written")" "==" "$(( (flags0 > flags1 ? flags0 : flags1) + 1 ))"
note "ok: one store: copy $written rewritten, the other byte-identical"

# The record and the hooks.
assert_cmp "verdict records of this boot" "$(verdict_records)" "==" 1
assert_verdict verdict confirmed
assert_verdict phase trial
assert_verdict env.upgrade_available 1
assert_verdict env.bootcount 1
assert_verdict verdict_reason "required checks healthy for ${CONFIRM}s"
order=$(hook_order)
[ "$order" = "green.d/10-report green.d/2-second green.d/b-last" ] || fail "hooks ran as: $order"
note "ok: hooks ran in order: $order"
for h in 10-report 2-second b-last; do
        assert_hook_var green.d $h HEALTHDOG_VERDICT confirmed
done
assert_hook_var green.d 10-report HEALTHDOG_PHASE trial
assert_hook_var green.d 10-report HEALTHDOG_UPGRADE_AVAILABLE 1
assert_hook_var green.d 10-report HEALTHDOG_BOOTCOUNT 1
assert_hook_var green.d 10-report HEALTHDOG_BOOTLIMIT 3
assert_hook_var green.d 10-report HEALTHDOG_BOOT_ID "$(boot_id_hex)"
assert_hook_var green.d 10-report HEALTHDOG_CHECK "(unset)"
hook_t=$(awk 'NR == 1 { print $1 }' "$HOOK_LOG")
assert_cmp "first green hook - confirmation seen (s)" "$(calc "$hook_t - $t_seen")" "<=" "$LOAD_SLACK"

# Confirmed stays confirmed: no second store, the feeding never paused.
sig_confirmed=$(file_sig "$ENV")
sleep 0.5
assert_sig_same "0.5 s after the confirmation" "$ENV" "$sig_confirmed"
assert_fed "fed" "$(first_ping)" "$(now)" 0.1
assert_cmp "RESET events" "$(count_events RESET)" "==" 0
alive "$DAEMON_PID" || fail "the daemon exited"

# A daemon restart in the same boot: the boot's phase as decided when it started (a confirmed
# trial), nothing written, still one record.
stop_daemon
DAEMON_LOG=$T/daemon-boot1-restart.log
start_daemon
assert_grep "$DAEMON_LOG" "^<5>Boot phase: trial \\(.*\\), as decided when this boot started"
sleep 1.2
assert_sig_same "daemon restarted after the confirmation" "$ENV" "$sig_confirmed"
assert_cmp "verdict records of this boot after the restart" "$(verdict_records)" "==" 1
assert_verdict verdict confirmed
[ "$(hook_order)" = "$order" ] || fail "hooks ran again after the restart: $(hook_order)"
stop_daemon

# Without any check there is no result to start the countdown with: still confirmed after
# confirm-after, or U-Boot would roll a good update back after bootlimit ordinary reboots.
echo "== a trial with no checks configured"
single_env upgrade_available=1 bootcount=1 bootlimit=3
boot_config "confirm-after = ${CONFIRM}s" "trial-timeout = 30s" </dev/null
start_boot 1
wait_for_log "$DAEMON_LOG" "^<5>Boot confirmed \\(required checks healthy for ${CONFIRM}s\\)" 30
confirmed=$(awk -v u="$(verdict_field confirmed_usec)" 'BEGIN { printf "%.6f\n", u / 1e6 }')
assert_cmp "no checks: confirmation - daemon start (s)" "$(calc "$confirmed - $BOOT_T0_REAL")" ">=" "$CONFIRM"
assert_cmp "no checks: confirmation - daemon start (s)" "$(calc "$confirmed - $BOOT_T0_REAL")" "<=" "$(calc "$CONFIRM + $LOAD_SLACK")"
assert_env upgrade_available 0
assert_env bootcount 0
assert_verdict verdict confirmed
stop_daemon
check_sanitizers
echo "PASS"
