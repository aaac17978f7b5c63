#!/bin/bash
# `healthdog arm` (issue 16 #1): the earliest step of a boot. On an unconfirmed trial it opens
# the watchdog, pings it once and closes it without the magic 'V', so the device keeps running
# and resets the board unless the daemon takes it over; every other boot leaves the device
# alone (not even opened: opening starts it). A configuration the update broke still arms the
# trial; a device whose driver comes late is waited for; the daemon takes the armed device over.
source "$(dirname "$0")/bootlib.sh"

DROPINS=$T/conf.d
mkdir -p "$DROPINS"
chmod 0755 "$DROPINS"
ARM_LOG=$T/arm.log

boot_config <<EOF
[check.app]
type = file
path = $T/app
interval = 100ms
EOF
touch "$T/app"

# arm_boot [ARGS...]: a new boot with `healthdog arm` as its first step; sets ARM_RC.
arm_boot() {
        "$HEALTHDOG" arm -c "$CONF" "$@" >"$ARM_LOG" 2>&1
        ARM_RC=$?
        sed 's/^/    arm: /' "$ARM_LOG"
}

# expect_untouched LABEL: the stand-in saw no open at all within a second.
expect_untouched() {
        sleep 1
        assert_cmp "$1: pings" "$(pings)" "==" 0
        assert_cmp "$1: closes" "$(count_events CLOSE)" "==" 0
        assert_cmp "$1: resets" "$(count_events RESET)" "==" 0
}

echo "== a trial boot that never reaches the daemon: armed, closed without the magic 'V', reset"
single_env upgrade_available=1 bootcount=1 bootlimit=3
new_boot
start_standin 2
t0=$(now)
arm_boot
[ "$ARM_RC" = 0 ] || fail "arm exited with $ARM_RC"
assert_grep "$ARM_LOG" "Trial boot: armed '$DEV' with its own timeout \\(boot-deadline = 3min\\)"
wait_for_log "$STANDIN_LOG" ' RESET ' 10
assert_cmp "pings from arm" "$(pings)" "==" 1
[ "$(close_magic)" = no ] || fail "arm closed the device with the magic 'V': $(cat "$STANDIN_LOG")"
assert_cmp "the reset comes a timeout after arm's ping" "$(calc "$(event_time RESET) - $(first_ping)")" ">=" 1.9
note "ok: armed at +$(calc "$(first_ping) - $t0") s, reset $(calc "$(event_time RESET) - $(first_ping)") s later"

echo "== a trial boot that reaches the daemon: it takes the running device over, no reset"
new_boot
start_standin 2
arm_boot
[ "$ARM_RC" = 0 ] || fail "arm exited with $ARM_RC"
start_daemon
wait_until 5 pings_ge 20 || fail "the daemon did not take the device over"
assert_cmp "resets with the daemon running" "$(count_events RESET)" "==" 0
stop_daemon

echo "== a steady boot: the device is not opened"
single_env upgrade_available=0 bootcount=0 bootlimit=3
new_boot
start_standin 1
arm_boot
[ "$ARM_RC" = 0 ] || fail "arm exited with $ARM_RC on a steady boot"
assert_grep "$ARM_LOG" "A steady boot \\(nothing pending \\(upgrade_available is not set\\)\\): the watchdog is left alone"
expect_untouched "steady boot"

echo "== a rolled-back boot (bootcount past bootlimit): the known-good software is not put at risk"
single_env upgrade_available=1 bootcount=4 bootlimit=3 rollback=1
new_boot
start_standin 1
arm_boot
[ "$ARM_RC" = 0 ] || fail "arm exited with $ARM_RC on a rolled-back boot"
assert_grep "$ARM_LOG" "A rolled-back boot .*: the watchdog is left alone"
expect_untouched "rolled-back boot"

echo "== an environment that cannot be read: nothing known, nothing armed"
fw_config "$T/no-such-env 0x0 $ENV_SIZE"
new_boot
start_standin 1
arm_boot
[ "$ARM_RC" = 0 ] || fail "arm exited with $ARM_RC with an unreadable environment"
assert_grep "$ARM_LOG" "A steady boot \\(the boot environment cannot be read"
expect_untouched "unreadable environment"

echo "== a trial whose update broke the configuration is armed all the same"
single_env upgrade_available=1 bootcount=1 bootlimit=3
printf '[check.app]\nno-such-key = 1\n' | write_config "$DROPINS/50-update.conf"
new_boot
start_standin 1
arm_boot
[ "$ARM_RC" = 0 ] || fail "arm exited with $ARM_RC"
assert_grep "$ARM_LOG" "50-update.conf:2: unknown key 'no-such-key'"
assert_grep "$ARM_LOG" "Trial boot: armed '$DEV' .*; the configuration does not load: $DROPINS/50-update.conf:2: unknown key"
wait_for_log "$STANDIN_LOG" ' RESET ' 10
rm "$DROPINS/50-update.conf"

echo "== boot-deadline = 0: the integrator opted out"
printf '[assessment]\nboot-deadline = 0\n' | write_config "$DROPINS/60-no-arm.conf"
new_boot
start_standin 1
arm_boot
[ "$ARM_RC" = 0 ] || fail "arm exited with $ARM_RC"
assert_grep "$ARM_LOG" "A trial boot, but boot-deadline = 0: not arming the watchdog"
expect_untouched "boot-deadline = 0"
rm "$DROPINS/60-no-arm.conf"

echo "== a deadline too short to reach user space is refused by config check"
printf '[assessment]\nboot-deadline = 5s\n' | write_config "$DROPINS/60-short.conf"
"$REAL_HEALTHDOG" config check -c "$CONF" >"$T/check.out" 2>&1 && fail "boot-deadline = 5s was taken"
assert_grep "$T/check.out" "60-short.conf:2: boot-deadline= \\(5s\\) in \\[assessment\\] must be at least 30s, or 0 for no arming"
rm "$DROPINS/60-short.conf"

echo "== a watchdog driver that comes late is waited for"
new_boot
( sleep 1.5; start_standin 2 ) &
waiter=$!
arm_boot
wait "$waiter"
[ "$ARM_RC" = 0 ] || fail "arm exited with $ARM_RC while the device appeared after 1.5 s"
assert_cmp "pings from arm" "$(pings)" "==" 1
stop_standin

echo "== no watchdog device at all: a clear error, exit 1"
fw_config "$ENV 0x0 $ENV_SIZE"
printf '[watchdog]\ndevice = %s\n' "$T/no-such-watchdog" | write_config "$DROPINS/70-device.conf"
new_boot
arm_boot
[ "$ARM_RC" = 1 ] || fail "arm exited with $ARM_RC without a device"
assert_grep "$ARM_LOG" "Failed to arm '$T/no-such-watchdog' for this trial boot: No such file or directory"
check_sanitizers
echo "PASS"
