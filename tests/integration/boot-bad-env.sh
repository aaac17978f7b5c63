#!/bin/bash
# Environments healthdog must not make worse: one that fails its CRC (no valid copy) is reported
# with the path and never written, even when it says upgrade_available=1 and the checks pass for
# longer than confirm-after (U-Boot would take a rewritten one for its default environment); a
# redundant environment with one bad copy is used normally (a trial confirms over the bad copy);
# a missing image is a warning and a steady boot; a read-only image in a trial is a logged
# confirmation failure, and the daemon goes on feeding.
source "$(dirname "$0")/bootlib.sh"

CONFIRM=1

boot_config "confirm-after = ${CONFIRM}s" "trial-timeout = 30s" <<EOF
[check.app]
type = file
path = $T/app
interval = 100ms
fail-after = 2
EOF
recording_hook green.d 10-green
touch "$T/app"
VARS=(upgrade_available=1 bootcount=1 bootlimit=3 'bootcmd=run distro_bootcmd')

# unusable_boot LABEL: the environment cannot be read: a steady boot that warns, feeds and
# writes nothing for 2.5 confirm-afters. Expects the warning's reason in $why.
unusable_boot() {
        local sig t_end
        sig=$(file_sig "$ENV")
        start_boot 1
        assert_grep "$DAEMON_LOG" "^<4>Failed to read the boot environment through '$FW_CONFIG': $why; assessing nothing and writing nothing to it this boot$"
        assert_grep "$DAEMON_LOG" "^<5>Boot phase: steady \\(the boot environment cannot be read.*\\); upgrade_available=\\(unset\\)"
        sleep_until "$(calc "$BOOT_T0 + 2.5 * $CONFIRM")"
        t_end=$(now)
        assert_sig_same "$1, checks passing for $(calc "$t_end - $BOOT_T0")s" "$ENV" "$sig"
        assert_no_grep "$DAEMON_LOG" "Boot confirmed|Every required check passes|Failed to confirm"
        assert_fed "$1" "$(first_ping)" "$t_end" 0.1
        assert_cmp "$1: RESET events" "$(count_events RESET)" "==" 0
        assert_verdict verdict steady
        assert_verdict phase steady
        stop_daemon
}

echo "== single environment, CRC flipped"
single_env "${VARS[@]}"
flip_byte "$ENV" 0
fw_printenv -c "$FW_CONFIG" >/dev/null 2>&1 && [ "$(env_get upgrade_available)" = 1 ] &&
        fail "fw_printenv still reads the damaged image"
why="no copy has a valid CRC"
unusable_boot "bad CRC"
assert_verdict env_error "Bad message"

echo "== redundant environment, both copies bad"
redundant_env "${VARS[@]}"
flip_byte "$ENV" 0
flip_byte "$ENV" $((ENV_SIZE + 10))
unusable_boot "bad CRC in both copies"

echo "== missing image"
fw_config "$T/missing.env 0x0 $ENV_SIZE"
ENV_SAVED=$ENV
ENV=$T/missing.env
start_boot 1
assert_grep "$DAEMON_LOG" "^<4>Failed to read the boot environment through '$FW_CONFIG': No such file or directory; assessing nothing"
assert_grep "$DAEMON_LOG" "^<5>Boot phase: steady \\(the boot environment cannot be read"
sleep 1.5
[ -e "$ENV" ] && fail "the daemon created $ENV"
assert_cmp "missing image: RESET events" "$(count_events RESET)" "==" 0
assert_fed "missing image" "$(first_ping)" "$(now)" 0.1
assert_verdict verdict steady
assert_verdict env_error "No such file or directory"
stop_daemon
ENV=$ENV_SAVED

echo "== redundant environment in two files, the newer copy bad (a store cut short)"
make_image "$T/env-a.img" -r "${VARS[@]}"
make_image "$T/env-b.img" -r "${VARS[@]}"
# Copy A says it is newer (flags 2) but its data is damaged: B (flags 1) is the valid one.
printf '\002' | dd of="$T/env-a.img" bs=1 seek=4 conv=notrunc status=none
flip_byte "$T/env-a.img" 20
fw_config "$T/env-a.img 0x0 $ENV_SIZE" "$T/env-b.img 0x0 $ENV_SIZE"
env_before=$(env_dump)
[ -s "$T/fw_printenv.err" ] && fail "fw_printenv does not take the valid copy: $(cat "$T/fw_printenv.err")"
sig_b=$(file_sig "$T/env-b.img")
start_boot 1
assert_grep "$DAEMON_LOG" "^<5>Boot phase: trial \\(.*\\); upgrade_available=1 bootcount=1 bootlimit=3"
wait_for_log "$DAEMON_LOG" "^<5>Boot confirmed" 10
assert_env upgrade_available 0
assert_env bootcount 0
[ -s "$T/fw_printenv.err" ] && fail "fw_printenv complains after the confirmation: $(cat "$T/fw_printenv.err")"
assert_sig_same "the valid copy B" "$T/env-b.img" "$sig_b"
assert_cmp "flags byte of copy A, rewritten" "$(flags_byte "$T/env-a.img" 0)" "==" 2
# Copy A alone is now a valid environment (a config naming it twice reads only A).
fw_config "$T/env-a.img 0x0 $ENV_SIZE" "$T/env-a.img 0x0 $ENV_SIZE"
a_alone=$(env_dump)
[ -s "$T/fw_printenv.err" ] && fail "copy A is not valid on its own: $(cat "$T/fw_printenv.err")"
expected=$(echo "$env_before" | sed -e 's/^upgrade_available=1$/upgrade_available=0/' -e 's/^bootcount=1$/bootcount=0/')
[ "$a_alone" = "$expected" ] || fail "copy A holds: $a_alone; expected: $expected"
note "ok: copy A holds the confirmed environment: $(echo "$a_alone" | tr '\n' ' ')"
assert_verdict verdict confirmed
stop_daemon

echo "== read-only image in a trial"
single_env "${VARS[@]}"
ro_how=
if unshare -m --propagation private sh -c "mount --bind -o ro '$ENV' '$ENV' && ! sh -c ': >>\"$ENV\"' 2>/dev/null"; then
        RO_FILES=$ENV
        ro_how="read-only bind mount"
        why_ro="Read-only file system"
elif chattr +i "$ENV" 2>/dev/null; then
        trap "chattr -i '$ENV' 2>/dev/null; lib_cleanup 2>/dev/null" EXIT
        ro_how="chattr +i"
        why_ro="Operation not permitted"
else
        skip "cannot make $ENV read-only: neither a read-only bind mount in a mount namespace nor chattr +i works here"
fi
note "read-only by: $ro_how"
sig=$(file_sig "$ENV")
: >"$HOOK_LOG"
start_boot 1
assert_grep "$DAEMON_LOG" "^<5>Boot phase: trial"
wait_for_log "$DAEMON_LOG" "Failed to confirm the boot" 10
t_failed=$(now)
assert_grep "$DAEMON_LOG" "^<3>Failed to confirm the boot: cannot write the boot environment through '$FW_CONFIG': $why_ro; retrying in 1min$"
note "the failed confirmation came $(calc "$t_failed - $BOOT_T0")s after the start"
sleep 1.5
t_end=$(now)
alive "$DAEMON_PID" || fail "the daemon exited after the failed confirmation"
assert_fed "after the failed confirmation" "$t_failed" "$t_end" 0.1
assert_fed "fed" "$(first_ping)" "$t_end" 0.1
assert_cmp "RESET events" "$(count_events RESET)" "==" 0
assert_no_grep "$DAEMON_LOG" "Boot confirmed"
assert_verdict verdict pending
[ -s "$HOOK_LOG" ] && fail "green hooks ran without a confirmation: $(hook_order)"
stop_daemon
[ "$ro_how" = "chattr +i" ] && chattr -i "$ENV"
assert_sig_same "read-only image" "$ENV" "$sig"
assert_env upgrade_available 1
check_sanitizers
echo "PASS"
