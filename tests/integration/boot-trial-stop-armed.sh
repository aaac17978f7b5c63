#!/bin/bash
# A stop during an unconfirmed trial leaves the watchdog armed whatever disarm-on-stop says
# (issue 15 #10): the magic close would let a trial boot escape its verdict. On a steady boot,
# disarm-on-stop = yes still disarms on a clean stop.
source "$(dirname "$0")/bootlib.sh"

boot_config "confirm-after = 60s" <<EOF
[check.app]
type = file
path = $T/app
interval = 100ms
EOF
sed -i "0,/^interval = 100ms\$/s//&\ndisarm-on-stop = yes/" "$CONF"
grep -q "^disarm-on-stop = yes" "$CONF" || fail "the config has no disarm-on-stop"
touch "$T/app"

echo "== an unconfirmed trial, stopped"
redundant_env upgrade_available=1 bootcount=1 bootlimit=3
start_boot 30
assert_grep "$DAEMON_LOG" "^<5>Boot phase: trial "
stop_daemon
assert_cmp "magic closes" "$(count_events MAGIC)" "==" 0
assert_grep "$STANDIN_LOG" "CLOSE magic=no"
assert_grep "$DAEMON_LOG" "Leaving .* armed"

echo "== a steady boot, stopped"
redundant_env upgrade_available=0 bootcount=0 bootlimit=3
start_boot 30
assert_grep "$DAEMON_LOG" "^<5>Boot phase: steady "
stop_daemon
assert_grep "$STANDIN_LOG" "CLOSE magic=yes"
assert_grep "$DAEMON_LOG" "Watchdog disarmed"
check_sanitizers
echo "PASS"
