#!/bin/bash
# Broken U-Boot environments, one boot each, as a table: every one is reported with what is wrong
# (the file, the line of fw_env.config, the CRC, the lock), and none is changed: the image keeps
# its bytes and times (or stays missing), nothing is confirmed, the watchdog is fed throughout,
# and the boot is recorded as steady with the error. Each environment says upgrade_available=1
# and the checks pass for longer than confirm-after, so a daemon that wrote anything would.
source "$(dirname "$0")/bootlib.sh"

CONFIRM=1
boot_config "confirm-after = ${CONFIRM}s" <<EOF
[check.app]
type = file
path = /
interval = 100ms
EOF
VARS=(upgrade_available=1 bootcount=1 bootlimit=3)
FILES=

# The table: NAME, a function that breaks the environment, and the reason the warning must give.
# The setup functions write FW_CONFIG and the images, and list the files to watch in FILES.
trial() { single_env "${VARS[@]}"; FILES=$ENV; }
crc_single() { trial; flip_byte "$ENV" 0; }
crc_redundant() { redundant_env "${VARS[@]}"; flip_byte "$ENV" 0; flip_byte "$ENV" $((ENV_SIZE + 10)); FILES=$ENV; }
erased() { trial; head -c $((ENV_SIZE)) /dev/zero | tr '\0' '\377' >"$ENV"; }
zeroed() { trial; head -c $((ENV_SIZE)) /dev/zero >"$ENV"; }
short() { trial; truncate -s 100 "$ENV"; }
empty() { trial; : >"$ENV"; }
smaller_image() { ENV_SIZE=0x2000 make_image "$ENV" "${VARS[@]}"; fw_config "$ENV 0x0 $ENV_SIZE"; FILES=$ENV; }
smaller_config() { trial; fw_config "$ENV 0x0 0x2000"; }
offset_beyond() { trial; fw_config "$ENV 0x4000 $ENV_SIZE"; }
directory() { rm -rf "$ENV"; mkdir "$ENV"; fw_config "$ENV 0x0 $ENV_SIZE"; FILES=; }
missing_image() { rm -rf "$ENV"; fw_config "$ENV 0x0 $ENV_SIZE"; FILES=; }
missing_config() { trial; rm -f "$FW_CONFIG"; }
garbage_config() { trial; fw_config "this is not an fw_env.config"; }
zero_size() { trial; fw_config "$ENV 0x0 0x0"; }
sizes_differ() { trial; fw_config "$ENV 0x0 $ENV_SIZE" "$ENV $ENV_SIZE 0x2000"; }
redundant_as_single() { redundant_env "${VARS[@]}"; fw_config "$ENV 0x0 $ENV_SIZE"; FILES=$ENV; }
single_as_redundant() { make_image "$T/a.img" "${VARS[@]}"; cp "$T/a.img" "$T/b.img"
        fw_config "$T/a.img 0x0 $ENV_SIZE" "$T/b.img 0x0 $ENV_SIZE"; FILES="$T/a.img $T/b.img"; }
# -o: the lock is flock's own, released when it is killed.
locked() { trial; flock -o "$ENV_LOCK" sleep 30 & LOCK_PID=$!; lib_pids+=("$LOCK_PID"); sleep 0.2; }

CASES=(
        "crc_single|no copy has a valid CRC"
        "crc_redundant|no copy has a valid CRC"
        "erased|no copy has a valid CRC"
        "zeroed|no copy has a valid CRC"
        "short|'$T/uboot.env' is 100 bytes, shorter than offset 0x0 + size 0x4000 (line 1)"
        "empty|'$T/uboot.env' is 0 bytes, shorter than offset 0x0 + size 0x4000 (line 1)"
        "smaller_image|'$T/uboot.env' is 8192 bytes, shorter than offset 0x0 + size 0x4000 (line 1)"
        "smaller_config|no copy has a valid CRC"
        "offset_beyond|'$T/uboot.env' is 16384 bytes, shorter than offset 0x4000 + size 0x4000 (line 1)"
        "directory|'$T/uboot.env' (line 1) is a directory"
        "missing_image|No such file or directory"
        "missing_config|No such file or directory"
        "garbage_config|no line of the form 'DEVICE OFFSET SIZE' in it"
        "zero_size|line 1: the size must be more than 5 bytes and less than 2 GiB"
        "sizes_differ|line 2: the size differs from line 1's (0x4000): the two copies of a redundant environment have one size"
        "redundant_as_single|no copy has a valid CRC"
        "single_as_redundant|no copy has a valid CRC"
        "locked|another process holds /var/lock/fw_printenv.lock"
)

n=0
for c in "${CASES[@]}"; do
        name=${c%%|*}
        why=${c#*|}
        echo "== $name"
        rm -rf "$ENV" "$T/a.img" "$T/b.img"
        LOCK_PID=
        "$name"
        cfg=$FW_CONFIG
        sigs=()
        for f in $FILES; do sigs+=("$(file_sig "$f")"); done
        start_boot 1
        sleep_until "$(calc "$BOOT_T0 + 2 * $CONFIRM")"
        t_end=$(now)
        if [ "$name" = locked ]; then
                # Held by another process: read again every 5 s, feeding meanwhile; no verdict yet.
                assert_grep "$DAEMON_LOG" "^<4>Failed to read the boot environment through '$FW_CONFIG': $why; reading it again in 5s \\(attempt 1 of 12\\), feeding meanwhile$"
        else
                line="Failed to read the boot environment through '$cfg': $why; assessing nothing and writing nothing to it this boot"
                grep -qxF "<4>$line" "$DAEMON_LOG" || fail "$name: no line '<4>$line' in $DAEMON_LOG:
$(grep '^<[0-4]>' "$DAEMON_LOG")"
                assert_grep "$DAEMON_LOG" "^<5>Boot phase: steady \\(the boot environment cannot be read"
                assert_verdict verdict steady
        fi
        note "ok: $(grep -m1 'Failed to read the boot environment' "$DAEMON_LOG" | sed 's/^<4>//')"
        assert_no_grep "$DAEMON_LOG" "Boot confirmed|Every required check passes|Failed to confirm"
        assert_fed "$name" "$(first_ping)" "$t_end" 0.1
        assert_cmp "$name: RESET events" "$(count_events RESET)" "==" 0
        alive "$DAEMON_PID" || fail "$name: the daemon exited"
        i=0
        for f in $FILES; do
                assert_sig_same "$name" "$f" "${sigs[$i]}"
                i=$((i + 1))
        done
        [ "$name" = missing_image ] && [ -e "$ENV" ] && fail "missing_image: the daemon created $ENV"
        stop_daemon
        [ -n "$LOCK_PID" ] && kill "$LOCK_PID" 2>/dev/null && wait "$LOCK_PID" 2>/dev/null
        n=$((n + 1))
done

echo "== a lock held for a while: read again, then assessed as usual"
trial
# Held until the daemon found it held (however long a loaded machine takes to start it), then
# released: flock and the sleep that inherited its descriptor.
flock "$ENV_LOCK" sleep 60 &
lock_pid=$!
lib_pids+=("$lock_pid")
wait_until 10 sh -c '! flock -n "$0" true' "$ENV_LOCK" || fail "flock did not take $ENV_LOCK"
start_boot 1
wait_for_log "$DAEMON_LOG" "reading it again in 5s \\(attempt 1 of 12\\)" 30
kill $(pgrep -P "$lock_pid") "$lock_pid" 2>/dev/null
wait "$lock_pid" 2>/dev/null
wait_for_log "$DAEMON_LOG" "^<5>Boot confirmed" 30
assert_grep "$DAEMON_LOG" "^<5>Boot phase: trial"
assert_fed "lock released" "$(first_ping)" "$(now)" 0.1
assert_env upgrade_available 0
assert_verdict verdict confirmed
stop_daemon

echo "== upgrade_available neither 0 nor 1: steady, as U-Boot reads it, nothing written"
single_env upgrade_available=maybe bootcount=abc bootlimit=3
sig=$(file_sig "$ENV")
start_boot 1
sleep_until "$(calc "$BOOT_T0 + 2 * $CONFIRM")"
assert_grep "$DAEMON_LOG" "^<5>Boot phase: steady \\(nothing pending \\(upgrade_available reads as 0 to U-Boot: it does not count this boot\\)\\); upgrade_available=maybe bootcount=abc"
assert_sig_same "garbage values" "$ENV" "$sig"
stop_daemon
n=$((n + 2))

check_sanitizers
echo "PASS: $n broken environments"
