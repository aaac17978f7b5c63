#!/bin/bash
# [bootloader] type = grub: the phase from GRUB's environment block as grub-editenv makes it
# (boot_counter counted down by conf/grub/healthdog.cfg, boot_success), read back with
# grub-editenv after every store. A steady boot writes nothing (the block keeps its bytes, inode
# and times); a trial is confirmed in one store (boot_success=1, boot_counter unset, every other
# variable kept); a failing trial is rejected without touching the block (counting is GRUB's);
# a fallback (boot_counter=-1) is cleared; a broken block is never written and says why; `healthdog
# status` shows the GRUB variables; `healthdog mark-good` confirms.
source "$(dirname "$0")/bootlib.sh"

command -v grub-editenv >/dev/null || fail "grub-editenv is missing (tests/install-deps test installs grub-common)"
mkdir -p "$T/boot/grub"
GRUBENV=$T/boot/grub/grubenv
CONFIRM=2
WDT_TIMEOUT=1

# config CONFIRM-AFTER TRIAL-TIMEOUT: the GRUB block, one check on $T/app.
config() {
        boot_config "confirm-after = $1" "trial-timeout = $2" "hook-timeout = 5s" <<EOF
[check.app]
type = file
path = $T/app
interval = 100ms
fail-after = 2
EOF
}
config "${CONFIRM}s" 60s
recording_hook green.d 10-green
recording_hook red.d 10-red
CLI_CONF=$CONF

grubenv() { grub-editenv "$GRUBENV" "$@" || fail "grub-editenv $*"; }
grub_list() { grub-editenv "$GRUBENV" list | LC_ALL=C sort | tr '\n' ' '; }
assert_grub() {
        [ "$(grub_list)" = "$1" ] || fail "grubenv holds '$(grub_list)', expected '$1'"
        [ "$(stat -c %s "$GRUBENV")" = 1024 ] || fail "grubenv is $(stat -c %s "$GRUBENV") bytes"
        note "ok: grub-editenv lists $1"
}
grub_sig() { echo "$(file_sig "$GRUBENV") $(stat -c %i "$GRUBENV")"; }

echo "== steady: boot_counter unset, nothing is written"
grubenv create
grubenv set boot_success=1 other=kept
sig=$(grub_sig)
touch "$T/app"
start_boot "$WDT_TIMEOUT"
assert_grep "$DAEMON_LOG" "^<5>Boot phase: steady \\(nothing pending \\(boot_counter is not set\\)\\); boot_counter=\\(unset\\) boot_success=1$"
sleep_until "$(calc "$BOOT_T0 + 2 * $CONFIRM + 1")"
[ "$(grub_sig)" = "$sig" ] || fail "a steady boot changed grubenv: $(grub_sig), was $sig"
note "ok: grubenv keeps its bytes, times and inode"
assert_no_grep "$DAEMON_LOG" "Boot confirmed|Cleared|Failed"
assert_verdict verdict steady
stop_daemon

echo "== trial: GRUB counted 3 -> 2, the checks pass, one store confirms it"
grubenv set boot_counter=2 boot_success=0
start_boot "$WDT_TIMEOUT"
assert_grep "$DAEMON_LOG" "^<5>Boot phase: trial \\(boot_counter is set: the new software is on probation\\); boot_counter=2 boot_success=0$"
cli status
expect_rc 0 "status in a trial"
grep -q "boot_counter=2 boot_success=0" "$T/out" || fail "status does not show the GRUB variables: $OUT"
note "ok: status shows $(grep -o 'boot_counter=2 boot_success=0' "$T/out")"
wait_for_log "$DAEMON_LOG" "^<5>Boot confirmed \\(required checks healthy for ${CONFIRM}s\\): cleared boot_counter \\(boot_success=1\\)$" 30
assert_grub "boot_success=1 other=kept "
assert_verdict verdict confirmed
assert_verdict env.boot_counter 2
assert_hook_var green.d 10-green HEALTHDOG_BOOT_COUNTER 2
assert_hook_var green.d 10-green HEALTHDOG_BOOT_SUCCESS 0
stop_daemon

echo "== trial confirmed by healthdog mark-good"
grubenv set boot_counter=0 boot_success=0
# Long enough that the checks cannot confirm it first, however slow the machine.
config "10min" 60min
start_boot "$WDT_TIMEOUT"
assert_grep "$DAEMON_LOG" "^<5>Boot phase: trial .*; boot_counter=0 boot_success=0$"
cli mark-good
expect_rc 0 mark-good
[ "$OUT" = "Boot confirmed: boot_counter (boot_success=1) cleared." ] || fail "mark-good said: $OUT"
assert_grub "boot_success=1 other=kept "
stop_daemon
config "${CONFIRM}s" 60s

echo "== a failing trial: rejected, the block left to GRUB's counting"
grubenv set boot_counter=1 boot_success=0
sig=$(grub_sig)
rm -f "$T/app"
start_boot "$WDT_TIMEOUT"
assert_grep "$DAEMON_LOG" "^<5>Boot phase: trial .*; boot_counter=1 boot_success=0$"
wait_for_log "$STANDIN_LOG" ' RESET ' 15
assert_verdict verdict rejected
assert_hook_var red.d 10-red HEALTHDOG_BOOT_COUNTER 1
[ "$(grub_sig)" = "$sig" ] || fail "the rejected trial changed grubenv"
note "ok: grubenv untouched by the rejected trial"
stop_daemon

echo "== GRUB fell back (boot_counter=-1): the fallback is cleared"
grubenv set boot_counter=-1
touch "$T/app"
start_boot "$WDT_TIMEOUT"
assert_grep "$DAEMON_LOG" "^<5>Boot phase: rolled-back \\(boot_counter=-1: GRUB's fallback booted the previous deployment\\); boot_counter=-1 boot_success=0$"
wait_for_log "$DAEMON_LOG" "^<6>Cleared boot_counter \\(boot_success=1\\): the next reboot boots this software without counting" 15
assert_grub "boot_success=1 other=kept "
assert_verdict verdict rolled-back
stop_daemon

echo "== broken blocks: steady, never written, the reason named"
for broken in short unpadded; do
        rm -f "$GRUBENV"
        grubenv create
        grubenv set boot_counter=2 boot_success=0
        case $broken in
        short) truncate -s 1000 "$GRUBENV"; why="shorter than the 1024 bytes" ;;
        unpadded) printf 'x' | dd of="$GRUBENV" bs=1 seek=1020 conv=notrunc status=none; why="not padded" ;;
        esac
        sig=$(grub_sig)
        start_boot "$WDT_TIMEOUT"
        assert_grep "$DAEMON_LOG" "Failed to read the boot environment through '$GRUBENV': '$GRUBENV' is not a valid GRUB environment block: .*$why"
        assert_grep "$DAEMON_LOG" "^<5>Boot phase: steady \\(the boot environment cannot be read"
        cli mark-good
        expect_rc 1 "mark-good on a $broken block"
        [ "$(grub_sig)" = "$sig" ] || fail "the $broken block was written"
        note "ok: the $broken block kept its bytes"
        stop_daemon
done

check_sanitizers
echo "PASS"
