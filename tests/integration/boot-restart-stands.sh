#!/bin/bash
# A reset decided in a boot stands for the rest of that boot, whatever happens to the daemon:
# - a restart (crash, systemctl restart) must not touch the device again: opening and programming
#   it pings it, and a crash loop of restarts would keep the board alive for ever (issue 15 #6);
# - `systemctl stop` empties the runtime directory: a later start in the same boot is still the
#   same boot, told apart by the kernel's boot id, and must not resume feeding (issue 15 #9).
# In both, the boot keeps one verdict record, "rejected", and the reason stays for the next boot.
source "$(dirname "$0")/bootlib.sh"

redundant_env upgrade_available=1 bootcount=1 bootlimit=3
boot_config "confirm-after = 30s" <<EOF
[check.app]
type = file
path = $T/app
interval = 100ms
fail-after = 2
EOF

echo "== boot 1: a trial whose application fails"
touch "$T/app"
# The stand-in's own timeout is long: what matters here is whether anything pings at all.
start_boot 60
boot1=$(boot_id_hex)
rm "$T/app"
wait_for_log "$DAEMON_LOG" "no longer feeding" 10
[ -e "$STATE/reset-reason.json" ] || fail "no reset-reason.json after the decision"
assert_verdict verdict rejected
sleep 0.5
decided=$(pings)
note "pings up to the decision: $decided"

echo "== the daemon restarts in the same boot"
stop_daemon
touch "$T/app" # the application is back: that must not matter any more
DAEMON_LOG=$T/daemon-restart.log
start_daemon
assert_grep "$DAEMON_LOG" "A reset was decided earlier in this boot"
assert_no_grep "$DAEMON_LOG" "^<6>Armed "
sleep 1.5
assert_cmp "pings after the restart" "$(pings)" "==" "$decided"
stop_daemon

echo "== systemctl stop empties the runtime directory; a start later in the same boot"
rm -rf "$RUN"
DAEMON_LOG=$T/daemon-after-stop.log
start_daemon
assert_grep "$DAEMON_LOG" "A reset was decided earlier in this boot"
sleep 1.5
assert_cmp "pings after the stop and start" "$(pings)" "==" "$decided"
OUT=$("$HEALTHDOG" status --json -c "$CONF") || fail "status failed: $OUT"
python3 -c 'import json, sys
w = json.loads(sys.argv[1])["watchdog"]
assert w["feeding"] is False, w
assert w["starve_reason"], w' "$OUT" || fail "status does not say the feeding stopped: $OUT"
stop_daemon

[ -e "$STATE/reset-reason.json" ] || fail "reset-reason.json was taken within its own boot"
assert_cmp "records of boot 1" "$(verdict_records "$boot1")" "==" 1
assert_verdict verdict rejected "$boot1"

echo "== boot 2: the reason is the previous boot's now"
printf '%s\n' "bootcount=2" >"$T/uboot.script"
fw_setenv -c "$FW_CONFIG" -s "$T/uboot.script" || fail "fw_setenv failed"
start_boot 60
assert_grep "$DAEMON_LOG" "^<5>Boot phase: trial"
assert_no_grep "$DAEMON_LOG" "decided earlier in this boot"
wait_until 5 pings_ge 5 || fail "boot 2 is not fed"
assert_verdict previous_reset.check app
[ -e "$STATE/reset-reason.json" ] && fail "reset-reason.json of boot 1 was not taken by boot 2"
stop_daemon
check_sanitizers
echo "PASS"
