#!/bin/bash
# upgrade_available is read exactly as U-Boot's bootcount reads it (env_get_ulong: the leading
# decimal digits, not 0 counts), and a value U-Boot and a boot script's `test "$v" = 1` read
# differently is an error in the journal and in status (issue 15 #8):
# - "01": U-Boot counts the boot, so healthdog must assess it as a trial (and confirm it), never
#   call it steady and leave the good update to be rolled back after bootlimit plain reboots;
# - "yes": U-Boot never counts it, so it is no trial (a reset would loop for ever, no rollback).
source "$(dirname "$0")/bootlib.sh"

boot_config "confirm-after = 1s" <<EOF
[check.app]
type = file
path = $T/app
interval = 100ms
EOF
touch "$T/app"

echo "== upgrade_available=01"
redundant_env upgrade_available=01 bootcount=1 bootlimit=3
start_boot 5
assert_grep "$DAEMON_LOG" "^<5>Boot phase: trial "
assert_grep "$DAEMON_LOG" "^<3>Boot environment through .*upgrade_available='01' is neither 0 nor 1"
OUT=$("$HEALTHDOG" status -c "$CONF") || fail "status failed: $OUT"
grep -q "WARNING: upgrade_available='01' is neither 0 nor 1: U-Boot's bootcount reads it as set" <<<"$OUT" ||
        fail "status does not warn: $OUT"
wait_for_log "$DAEMON_LOG" "Boot confirmed" 10
assert_env upgrade_available 0
stop_daemon

echo "== upgrade_available=yes"
redundant_env upgrade_available=yes bootcount=1 bootlimit=3
sig=$(file_sig "$ENV")
start_boot 5
assert_grep "$DAEMON_LOG" "^<5>Boot phase: steady \\(nothing pending \\(upgrade_available reads as 0 to U-Boot"
assert_grep "$DAEMON_LOG" "upgrade_available='yes' is neither 0 nor 1: U-Boot's bootcount reads it as not set"
assert_verdict env_warning "upgrade_available='yes' is neither 0 nor 1: U-Boot's bootcount reads it as not set, a boot script's test \"\${upgrade_available}\" = 1 as not set; write 1 or 0"
sleep 1
assert_sig_same "a steady boot with upgrade_available=yes" "$ENV" "$sig"
stop_daemon

echo "== offline status reads it the same way"
OUT=$("$HEALTHDOG" status --json -c "$CONF") || fail "status failed: $OUT"
python3 -c 'import json, sys
b = json.loads(sys.argv[1])["boot"]
assert b["phase"] == "steady", b
assert "neither 0 nor 1" in b["env_warning"], b' "$OUT" || fail "offline status: $OUT"
check_sanitizers
echo "PASS"
