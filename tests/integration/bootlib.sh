# shellcheck shell=bash
# Sourced by the boot-*.sh integration scripts instead of lib.sh (which it sources): the boot
# assessment against real U-Boot environment images (made with mkenvimage, read back with
# fw_printenv -c) and simulated boots.
#
# A simulated boot is what a reboot changes for the daemon: an empty runtime directory ($RUN, a
# tmpfs on a device) and a new boot id. The daemon runs in a private mount namespace in which
# $T/boot_id is bind-mounted over /proc/sys/kernel/random/boot_id (the id in reset-reason.json and
# in the verdict history); RO_FILES (space-separated paths) are bind-mounted read-only in it too.
# The next boot after a RESET is: stop the daemon, change the env as U-Boot would (fw_setenv),
# start_boot again with the same state directory. A daemon restart within a boot is
# stop_daemon + start_daemon.
#
# libubootenv locks every access with the fixed /var/lock/fw_printenv.lock, shared by every test
# and tool on this machine: another suite holding it would stall the daemon here. So each test
# has its own, $ENV_LOCK, bind-mounted over that path for the daemon and, through the
# fw_printenv/fw_setenv functions below, for this script's own reads and writes.
#
# Globals: ENV (the image, or the first of two files), FW_CONFIG, HOOKS (hooks-directory),
# HOOK_LOG, RUN (runtime-directory), BOOT_N, BOOT_ID, RO_FILES.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

for tool in mkenvimage fw_printenv fw_setenv unshare python3; do
        command -v "$tool" >/dev/null || skip "$tool is not installed (tests/install-deps test)"
done
[ "$(id -u)" = 0 ] || skip "simulated boots need root (a mount namespace per boot)"

ENV=$T/uboot.env
FW_CONFIG=$T/fw_env.config
HOOKS=$T/hooks
HOOK_LOG=$T/hooks.log
RUN=$T/run
BOOT_N=0
BOOT_ID=
RO_FILES=
export RO_FILES

ENV_LOCK=$T/fw_printenv.lock
: >"$ENV_LOCK"
# The mount point must exist; libubootenv creates it the same way.
[ -e /var/lock/fw_printenv.lock ] || : >>/var/lock/fw_printenv.lock ||
        skip "cannot create /var/lock/fw_printenv.lock"

REAL_HEALTHDOG=$HEALTHDOG
HEALTHDOG=$T/healthdog-boot
cat >"$HEALTHDOG" <<EOF
#!/bin/sh
# healthdog in a simulated boot: a private mount namespace with its own boot id.
if [ -z "\${BOOTLIB_IN_NS:-}" ]; then
        BOOTLIB_IN_NS=1 exec unshare -m --propagation private "\$0" "\$@"
fi
unset BOOTLIB_IN_NS
mount --bind "$T/boot_id" /proc/sys/kernel/random/boot_id || exit 90
mount --bind "$ENV_LOCK" /var/lock/fw_printenv.lock || exit 92
for f in \$RO_FILES; do
        mount --bind -o ro "\$f" "\$f" || exit 91
done
exec "$REAL_HEALTHDOG" "\$@"
EOF
chmod 0755 "$HEALTHDOG"
mkdir -p "$HOOKS/green.d" "$HOOKS/red.d"
chmod 0755 "$HOOKS" "$HOOKS/green.d" "$HOOKS/red.d"

# boot_config ASSESSMENT-LINE...: $CONF for the stand-in (timeout WDT_TIMEOUT, 1 s by default,
# pinged every 100 ms),
# STATE, RUN, the env at FW_CONFIG, HOOKS, plus the lines given in [assessment]; the checks
# come on stdin.
boot_config() {
        {
                cat <<EOF
[watchdog]
device = $DEV
timeout = ${WDT_TIMEOUT:-1}s
interval = 100ms

[supervisor]
state-directory = $STATE
runtime-directory = $RUN
startup-grace = 0

[bootloader]
$(if [ -n "${GRUBENV:-}" ]; then printf 'type = grub\ngrubenv = %s' "$GRUBENV"; else printf 'type = uboot\nfw-env-config = %s' "$FW_CONFIG"; fi)

[assessment]
hooks-directory = $HOOKS
EOF
                printf '%s\n' "$@"
                echo
                cat
        } | write_config
}

# ---- images (make_image is lib.sh's)

# fw_config LINE...: writes FW_CONFIG ("device offset size" per line).
fw_config() { printf '%s\n' "$@" >"$FW_CONFIG"; }

# single_env VAR=VALUE...: ENV as a single environment.
single_env() {
        make_image "$ENV" "$@"
        fw_config "$ENV 0x0 $ENV_SIZE"
}

# redundant_env VAR=VALUE...: ENV holds both copies of a redundant environment, one after the
# other (flags 1 both, as mkenvimage -r writes them).
redundant_env() {
        make_image "$T/copy.img" -r "$@"
        cat "$T/copy.img" "$T/copy.img" >"$ENV"
        rm -f "$T/copy.img"
        fw_config "$ENV 0x0 $ENV_SIZE" "$ENV $ENV_SIZE $ENV_SIZE"
}

# copy_sum FILE INDEX: sha256 of copy INDEX (0 or 1) of a redundant environment in FILE.
copy_sum() {
        dd if="$1" bs=$((ENV_SIZE)) skip="$2" count=1 status=none | sha256sum | cut -c1-64
}

# flags_byte FILE INDEX: the flags byte of copy INDEX.
flags_byte() { od -An -tu1 -j $(($2 * ENV_SIZE + 4)) -N1 "$1" | tr -d ' '; }

# flip_byte FILE OFFSET: inverts one byte in place.
flip_byte() {
        local v
        v=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
        printf "$(printf '\\%03o' $((255 - v)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# file_sig FILE: content hash, mtime and ctime (nanoseconds): equal only when nothing wrote it.
file_sig() { echo "$(sha256sum <"$1" | cut -c1-64) $(stat -c '%.9Y %.9Z' "$1")"; }

# ---- reading the environment back, from outside, as an integrator would

# The tools, with this test's lock.
fw_printenv() {
        unshare -m --propagation private sh -c 'mount --bind "$0" /var/lock/fw_printenv.lock && exec fw_printenv "$@"' \
                "$ENV_LOCK" "$@"
}
fw_setenv() {
        unshare -m --propagation private sh -c 'mount --bind "$0" /var/lock/fw_printenv.lock && exec fw_setenv "$@"' \
                "$ENV_LOCK" "$@"
}

env_dump() { fw_printenv -c "$FW_CONFIG" 2>"$T/fw_printenv.err" | LC_ALL=C sort; }

# env_get NAME: the value, or "(unset)".
env_get() {
        local line
        line=$(fw_printenv -c "$FW_CONFIG" 2>/dev/null | grep -m1 "^$1=") || { echo "(unset)"; return; }
        echo "${line#*=}"
}

# assert_env NAME VALUE
assert_env() {
        local v
        v=$(env_get "$1")
        [ "$v" = "$2" ] || fail "$1 = '$v' in the environment, expected '$2'"
        note "ok: fw_printenv: $1=$v"
}

# assert_sig_same LABEL FILE SIG: FILE still has SIG (file_sig).
assert_sig_same() {
        local now_sig
        now_sig=$(file_sig "$2")
        [ "$now_sig" = "$3" ] || fail "$1: $2 was written: before '$3', now '$now_sig'"
        note "ok: $1: $(basename "$2") unchanged (bytes, mtime, ctime)"
}

# ---- simulated boots

# sleep_until T: sleeps until CLOCK_MONOTONIC T (seconds), at once when it is past.
sleep_until() {
        local d
        d=$(calc "$1 - $(now)")
        awk -v d="$d" 'BEGIN { exit !(d > 0) }' && sleep "$d"
        return 0
}

# new_boot: a fresh boot id, an empty RUN, logs of their own (daemon-bootN.log,
# standin-bootN.log) and no stand-in yet (the board powers up: the watchdog is disarmed).
new_boot() {
        stop_standin
        BOOT_N=$((BOOT_N + 1))
        BOOT_ID=$(cat /proc/sys/kernel/random/uuid)
        echo "$BOOT_ID" >"$T/boot_id"
        rm -rf "$RUN"
        DAEMON_LOG=$T/daemon-boot$BOOT_N.log
        STANDIN_LOG=$T/standin-boot$BOOT_N.log
}

# start_boot TIMEOUT [ARGS...]: new_boot, the stand-in with TIMEOUT, the daemon; sets BOOT_T0
# (CLOCK_MONOTONIC) and BOOT_T0_REAL (CLOCK_REALTIME) just before the daemon starts.
start_boot() {
        local timeout=$1
        shift
        new_boot
        start_standin "$timeout"
        BOOT_T0=$(now)
        BOOT_T0_REAL=$(date +%s.%N)
        start_daemon "$@"
        note "boot $BOOT_N ($BOOT_ID) started at $BOOT_T0"
}

# boot_id_hex [ID]: ID (default this boot's) in the dashless form healthdog writes.
boot_id_hex() { echo "${1:-$BOOT_ID}" | tr -d -- -; }

# ---- the verdict history

VERDICTS=$STATE/verdicts.jsonl

# verdict_field FIELD [BOOT_ID]: FIELD (a dotted path: env.bootcount, previous_reset.check) of
# the record of BOOT_ID (default this boot); fails the test unless there is exactly one.
verdict_field() {
        python3 - "$VERDICTS" "$(boot_id_hex "${2:-}")" "$1" <<'EOF' || fail "verdict_field $1: $(cat "$VERDICTS" 2>&1)"
import json, sys
path, boot, field = sys.argv[1:]
recs = [json.loads(l) for l in open(path) if l.strip()]
mine = [r for r in recs if r.get("boot_id") == boot]
if len(mine) != 1:
    print(f"{len(mine)} records for boot {boot} in {path}", file=sys.stderr)
    sys.exit(1)
v = mine[0]
for k in field.split("."):
    v = v.get(k) if isinstance(v, dict) else None
print("null" if v is None else json.dumps(v) if isinstance(v, (dict, list, bool)) else v)
EOF
}

# verdict_records [BOOT_ID]: how many records BOOT_ID has (default this boot).
verdict_records() {
        [ -f "$VERDICTS" ] || { echo 0; return; }
        python3 -c 'import json, sys
print(sum(1 for l in open(sys.argv[1]) if l.strip() and json.loads(l).get("boot_id") == sys.argv[2]))' \
                "$VERDICTS" "$(boot_id_hex "${1:-}")" || fail "cannot parse $VERDICTS: $(cat "$VERDICTS")"
}

assert_verdict() {
        local v
        v=$(verdict_field "$1" "${3:-}")
        [ "$v" = "$2" ] || fail "verdict record field $1 = '$v', expected '$2'; record: $(grep "$(boot_id_hex "${3:-}")" "$VERDICTS")"
        note "ok: verdict record $1 = $v"
}

# ---- hooks

# recording_hook SET NAME [EXTRA-SHELL]: a hook that logs "<t> SET/NAME HEALTHDOG_VERDICT" to
# HOOK_LOG (t: when it started, CLOCK_MONOTONIC) and its HEALTHDOG_* variables to
# $T/hook.SET.NAME.env, then runs EXTRA-SHELL.
recording_hook() {
        local f=$HOOKS/$1/$2
        cat >"$f" <<EOF
#!/bin/sh
t=\$("$MONOTIME")
env | grep '^HEALTHDOG_' | LC_ALL=C sort >"$T/hook.$1.$2.env"
echo "\$t $1/$2 \$HEALTHDOG_VERDICT" >>"$HOOK_LOG"
${3:-}
EOF
        chmod 0755 "$f"
}

# hook_var SET NAME VAR: VAR as the hook saw it, or "(unset)".
hook_var() {
        local f=$T/hook.$1.$2.env line
        [ -f "$f" ] || fail "hook $1/$2 did not run"
        line=$(grep -m1 "^$3=" "$f") || { echo "(unset)"; return; }
        echo "${line#*=}"
}

assert_hook_var() {
        local v
        v=$(hook_var "$1" "$2" "$3")
        [ "$v" = "$4" ] || fail "hook $1/$2 got $3='$v', expected '$4'"
        note "ok: hook $1/$2: $3=$v"
}

# hook_order: the hooks that ran, in order, one line.
hook_order() { [ -f "$HOOK_LOG" ] && awk '{ printf "%s%s", sep, $2; sep = " " } END { print "" }' "$HOOK_LOG"; }
