#!/bin/bash
# Confirming compares before it stores (issue 15 #4): upgrade_available=0 and bootcount=0 go into
# the environment only while the variables still hold what this boot read, compared under the
# lock in the same read as the store. An OTA client that armed a new trial meanwhile (fw_setenv
# upgrade_available=1 bootcount=0 while this boot was counted 2) keeps it: nothing is written,
# the boot stays unconfirmed and says why, and no retry overwrites it later.
source "$(dirname "$0")/bootlib.sh"

redundant_env upgrade_available=1 bootcount=2 bootlimit=3
boot_config "confirm-after = 2s" "trial-timeout = 60s" <<EOF
[check.app]
type = file
path = $T/app
interval = 100ms
EOF

touch "$T/app"
start_boot 5
assert_grep "$DAEMON_LOG" "^<5>Boot phase: trial .*bootcount=2"
# The OTA client arms its next update before the confirmation is due.
printf '%s\n' "upgrade_available=1" "bootcount=0" >"$T/uboot.script"
fw_setenv -c "$FW_CONFIG" -s "$T/uboot.script" || fail "fw_setenv failed"
sig=$(file_sig "$ENV")
wait_for_log "$DAEMON_LOG" "Not confirming the boot: the boot environment changed" 10
assert_no_grep "$DAEMON_LOG" "Boot confirmed"
assert_env upgrade_available 1
assert_env bootcount 0
assert_sig_same "after the refused confirmation" "$ENV" "$sig"
assert_verdict verdict pending
assert_verdict verdict_reason "not confirmed: the boot environment changed since this boot started"
# Nothing tries again: the next boot is the new trial's.
sleep 3
assert_sig_same "3 s later" "$ENV" "$sig"
assert_cmp "RESET events" "$(count_events RESET)" "==" 0
stop_daemon

echo "== the same boot, unchanged: confirmed as before"
redundant_env upgrade_available=1 bootcount=2 bootlimit=3
start_boot 5
wait_for_log "$DAEMON_LOG" "Boot confirmed" 10
assert_env upgrade_available 0
assert_env bootcount 0
stop_daemon
check_sanitizers
echo "PASS"
