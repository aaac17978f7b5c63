#!/bin/bash
# `healthdog update` (issue 17) when the pull itself fails on bad input, and changes nothing: an
# object corrupt on the update server (bytes overwritten in an incompressible file: it
# decompresses, and its checksum does not match; in a compressible one: it does not decompress),
# and a file system too small for the new version (the sysroot on a tmpfs of the test's own:
# libostree's min-free-space refusal, then, with that turned off, the file system really full).
# Each time: exit 1 with the reason, nothing deployed (ostree admin status), the U-Boot
# environment untouched, no update note, `healthdog status` shows the update failed with the
# reason, and the space the failed pull took is given back (libostree keeps a failed pull's
# staging directory for the next pull of the same boot, also when the disk is full: the helper
# removes it then). Repaired (the object put back, a smaller version published), the next update
# succeeds.
source "$(dirname "$0")/../ostree/lib.sh"
source "$(dirname "$0")/../ostree/remote.sh"

can_boot || skip "cannot make private mount + PID namespaces here"
source "$(dirname "$0")/../ostree/uboot-env.sh"
mkdir -p "$T/fs"

# The sysroot on a file system of 32 MiB: version 5 (three files of 12 MiB that do not compress)
# does not fit.
mount -t tmpfs -o size=32M healthdog-test "$T/fs" 2>"$T/mount.err" || skip "cannot mount a tmpfs: $(cat "$T/mount.err")"
at_exit 'find "$T/fs" -path "*/ostree/deploy/*/deploy/*" -prune -type d -exec chattr -i {} + 2>/dev/null; umount -l "$T/fs"'
S=$T/fs/sysroot

cat >"$T/healthdog.conf" <<EOF
[watchdog]
device = none

[supervisor]
state-directory = $STATE
runtime-directory = $T/run

[bootloader]
type = uboot
fw-env-config = $T/fw_env.config

[assessment]
hooks-directory = $T/hooks

[ostree]
helper = /run/healthdog-ostree
sysroot = /

[update]
bootlimit = 2

[check.root]
type = file
path = /usr
EOF

# Versions 2 and 3 have a file of their own, one that compresses and one that does not (each in
# a version of its own: a failed pull keeps the objects it fetched for the next one, which then
# does not fetch them again); version 4 a large one that does not, version 5 three.
commit_tree_extra() {
        local t=$1 v=$2 i
        mkdir -p "$t/usr/share/data"
        case "$v" in
        2) seq 1 20000 | sed "s/\$/: a line of text of version $v/" >"$t/usr/share/data/text" ;;
        3) head -c 256K /dev/urandom >"$t/usr/share/data/random" ;;
        4) head -c 12M /dev/urandom >"$t/usr/share/data/big" ;;
        5) for i in 1 2 3; do
                head -c 12M /dev/urandom >"$t/usr/share/data/big$i"
           done ;;
        esac
        return 0
}

# object_of VERSION PATH: the served file of the content object of PATH in VERSION.
object_of() {
        local c
        c=$(ostree ls --repo="$T/srv-sysroot/ostree/repo" -C "$(remote_csum "$1")" "$2" | awk '{ print $5 }')
        [ ${#c} = 64 ] || fail "no object for $2 in version $1"
        echo "$SRV/repo/objects/${c:0:2}/${c:2}.filez"
}

# update ARGS...: `healthdog update ARGS` with the first deployment booted; OUT, ERR, RC.
update() {
        BOOT_INTO_SHARE=$T booted "$S" "$B1" "$T/bin/healthdog" update -c "$T/healthdog.conf" "$@"
}
status_json() {
        "$T/bin/healthdog" status -c "$T/healthdog.conf" --json --no-deployments >"$T/status.out" 2>"$T/status.err" ||
                fail "healthdog status: $(cat "$T/status.err")"
        cat "$T/status.out"
}
used_kib() { df -k --output=used "$T/fs" | tail -n 1 | tr -d ' '; }

# pull_fails VERSION WHAT PATTERN: `healthdog update --no-reboot` fails (exit 1) saying PATTERN
# (grep -E), and changes nothing: the deployments, the environment, no update note; healthdog
# status says it failed, with that reason.
pull_fails() {
        local v=$1 what=$2 pattern=$3 sig deployed status
        sig=$(env_sig)
        deployed=$(deployments "$S")
        update --no-reboot
        expect_rc 1 "$what"
        grep -Eq -- "$pattern" <<<"$ERR" || fail "$what: not said: /$pattern/ in: $ERR"
        note "ok: said: $(grep -Eo -- "$pattern.{0,60}" <<<"$ERR" | head -n 1)"
        grep -q "Armed the trial" <<<"$ERR" && fail "$what: the trial was armed: $ERR"
        [ "$(deployments "$S")" = "$deployed" ] || fail "$what: the deployments changed:
$(ostree admin status --sysroot="$S" 2>&1)"
        note "ok: the deployments did not change"
        [ "$(env_sig)" = "$sig" ] || fail "$what: the environment was written"
        note "ok: the environment was not written"
        [ -e "$STATE/update-armed" ] && fail "$what: an update note was left"
        status=$(status_json)
        [ "$(json_get "$status" 'j["update"]["step"]')" = failed ] || fail "$what: status: $status"
        [ "$(json_get "$status" 'j["update"]["version"]')" = "$v" ] || fail "$what: status: $status"
        json_get "$status" 'j["update"]["reason"]' | grep -Eq -- "$pattern" ||
                fail "$what: the reason in healthdog status is not /$pattern/: $status"
        note "ok: healthdog status: failed: $(json_get "$status" 'j["update"]["reason"]' | cut -c1-120)..."
}

remote_start
sysroot_from_remote "$S" 1
B1=$(deployments "$S" | awk 'NR == 1 { print $1 }')
env_image upgrade_available=0 bootcount=0 bootlimit=3

echo "== a corrupt object on the server: one that does not decompress"
remote_commit 2
TEXT_OBJ=$(object_of 2 /usr/share/data/text)
cp "$TEXT_OBJ" "$T/text.filez"
printf 'corrupt corrupt!' | dd of="$TEXT_OBJ" bs=1 seek=200 conv=notrunc status=none
pull_fails 2 "an object that does not decompress" "a corrupt object from the remote: .*Invalid compressed data"

echo "== a corrupt object on the server: bytes overwritten in one that decompresses"
remote_commit 3
RANDOM_OBJ=$(object_of 3 /usr/share/data/random)
RANDOM_CSUM=$(basename "$(dirname "$RANDOM_OBJ")")$(basename "$RANDOM_OBJ" .filez)
cp "$RANDOM_OBJ" "$T/random.filez"
printf 'corrupt corrupt!' | dd of="$RANDOM_OBJ" bs=1 seek=100000 conv=notrunc status=none
pull_fails 3 "an object that does not match its checksum" "Corrupted file object; checksum expected='$RANDOM_CSUM'"

echo "== repaired on the server: the update goes through"
cp "$T/text.filez" "$TEXT_OBJ"
cp "$T/random.filez" "$RANDOM_OBJ"
update --no-reboot
expect_rc 0 "update after the repair"
expect_deployments "$S" 3 1
[ -e "$STATE/update-armed" ] || fail "no update note after the update"
ostree fsck --repo="$S/ostree/repo" >/dev/null 2>&1 || fail "the repository does not fsck"
note "ok: the repository fscks"
rm "$STATE/update-armed"
env_image upgrade_available=0 bootcount=0 bootlimit=3

echo "== version 4 does not fit: libostree's min-free-space refusal"
# 25 MB to be kept free: the 12 MiB file of version 4 is fetched, and refused before it is written.
ostree config --repo="$S/ostree/repo" set core.min-free-space-size 25MB
remote_commit 4
before=$(used_kib)
pull_fails 4 "a pull refused by min-free-space-size" \
        "No space left on device \(.*min-free-space-size 25MB would be exceeded.*\); the pull left nothing behind"
after=$(used_kib)
[ "$after" -le $((before + 512)) ] || fail "the failed pull kept $((after - before)) KiB"
note "ok: used on the file system: $before KiB before, $after KiB after"
ostree config --repo="$S/ostree/repo" unset core.min-free-space-size

echo "== version 5 does not fit: the file system fills up, and what the pull wrote is removed"
remote_commit 5
before=$(used_kib)
# Which comes first depends on the order of the fetches: libostree's refusal (3 % kept free) or
# the file system full.
pull_fails 5 "a pull that fills the file system" \
        "No space left on device.*; (removed the [0-9.]+ MiB the pull wrote|the pull left nothing behind)"
after=$(used_kib)
[ "$after" -le $((before + 512)) ] || fail "the failed pull kept $((after - before)) KiB:
$(find "$S/ostree/repo/tmp" -ls)"
note "ok: used on the file system: $before KiB before, $after KiB after"
[ -z "$(find "$S/ostree/repo/tmp" -path '*/staging-*' -type f)" ] || fail "staging files are left:
$(find "$S/ostree/repo/tmp" -ls)"
note "ok: no staging directory left"

echo "== a smaller version 6: the update goes through"
remote_commit 6
update --no-reboot
expect_rc 0 "update to 6"
expect_deployments "$S" 6 1
[ -e "$STATE/update-armed" ] || fail "no update note after the update"
echo "PASS"
