# shellcheck shell=bash
# Sourced after lib.sh by the tests that run `healthdog update` on a booted sysroot: a redundant
# U-Boot environment made by mkenvimage ($ENV, two copies of $ENV_SIZE, described by
# $T/fw_env.config), read back with fw_printenv; the state directory $STATE; healthdog copied to
# $T/bin (the booted namespace sees $T through BOOT_INTO_SHARE).

for tool in mkenvimage fw_printenv; do
        command -v "$tool" >/dev/null || skip "$tool is not installed (make test-deps)"
done
STATE=$T/state
ENV=$T/uboot.env
ENV_SIZE=0x4000
mkdir -p "$STATE" "$T/bin" "$T/hooks"
chmod 0755 "$T" "$T/hooks"
cp "${HEALTHDOG:-$ostree_top/build/asan/healthdog}" "$T/bin/healthdog"
printf '%s 0x0 %s\n%s %s %s\n' "$ENV" "$ENV_SIZE" "$ENV" "$ENV_SIZE" "$ENV_SIZE" >"$T/fw_env.config"

# env_image VAR=VALUE...: a fresh redundant environment (both copies).
env_image() {
        printf '%s\n' "$@" >"$T/vars.txt"
        mkenvimage -r -s "$ENV_SIZE" -o "$T/copy.img" "$T/vars.txt" || fail "mkenvimage"
        cat "$T/copy.img" "$T/copy.img" >"$ENV"
}
# env_get NAME: its value as fw_printenv reads it, or "(unset)".
env_get() {
        local line
        line=$(fw_printenv -c "$T/fw_env.config" 2>/dev/null | grep -m1 "^$1=") || { echo "(unset)"; return; }
        echo "${line#*=}"
}
expect_env() {
        local v
        v=$(env_get "$1")
        [ "$v" = "$2" ] || fail "$1 = '$v' in the environment, expected '$2'"
        note "ok: fw_printenv: $1=$v"
}
# env_sig: the environment's bytes, to tell that nothing wrote it.
env_sig() { sha256sum <"$ENV" | cut -c1-64; }
