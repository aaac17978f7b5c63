#!/bin/bash
# `healthdog update` with [bootloader] type = grub on a booted OSTree sysroot whose origin is an
# update server on 127.0.0.1: the trial is armed in one store of GRUB's environment block
# (boot_counter = [update] bootlimit, boot_success=0), read back with grub-editenv, before the
# new deployment becomes the default; a second update waits for the reboot; a bootlimit the
# GRUB fragment cannot count is refused before anything is pulled, and nothing is written.
source "$(dirname "$0")/../ostree/lib.sh"
source "$(dirname "$0")/../ostree/remote.sh"

can_boot || skip "cannot make private mount + PID namespaces here"
command -v grub-editenv >/dev/null || fail "grub-editenv is missing (tests/install-deps test installs grub-common)"
S=$T/sysroot
STATE=$T/state
GRUBENV=$T/boot/grub/grubenv
mkdir -p "$STATE" "$T/bin" "$T/hooks" "$T/boot/grub"
chmod 0755 "$T" "$T/hooks"
cp "${HEALTHDOG:-$ostree_top/build/asan/healthdog}" "$T/bin/healthdog"

write_conf() {
        cat >"$T/healthdog.conf" <<EOF
[watchdog]
device = none

[supervisor]
state-directory = $STATE
runtime-directory = $T/run

[bootloader]
type = grub
grubenv = $GRUBENV

[assessment]
hooks-directory = $T/hooks

[ostree]
helper = ${HELPER_PATH:-/run/healthdog-ostree}
sysroot = /

[update]
bootlimit = $1
EOF
}
update() {
        BOOT_INTO_SHARE=$T booted "$S" "$B1" "$T/bin/healthdog" update -c "$T/healthdog.conf" "$@"
}
grub_list() { grub-editenv "$GRUBENV" list | LC_ALL=C sort | tr '\n' ' '; }
grub_sig() { sha256sum <"$GRUBENV" | cut -c1-64; }

remote_start
sysroot_from_remote "$S" 1
B1=$(deployments "$S" | awk 'NR == 1 { print $1 }')
grub-editenv "$GRUBENV" create
grub-editenv "$GRUBENV" set boot_success=1
remote_commit 2

echo "== a bootlimit GRUB's fragment cannot count: refused before the pull"
write_conf 12
sig=$(grub_sig)
update --no-reboot
expect_rc 1 "update with bootlimit = 12"
grep -q "Refusing to update: GRUB's fragment counts 1 to 9 boots, not 12 (\[update\] bootlimit = 12)" <<<"$ERR" ||
        fail "not said: $ERR"
[ "$(grub_sig)" = "$sig" ] || fail "grubenv was written"
expect_deployments "$S" 1
grep -q "Pulling\|Pulled" <<<"$ERR" && fail "it pulled: $ERR"
note "ok: nothing pulled, nothing written"

echo "== update: armed in grubenv, then deployed"
write_conf 3
update --no-reboot
expect_rc 0 "update --no-reboot"
grep -q "Armed the trial: boot_counter=3 boot_success=0" <<<"$ERR" || fail "arming not said: $ERR"
[ "$(grub_list)" = "boot_counter=3 boot_success=0 " ] || fail "grubenv: $(grub_list)"
[ "$(stat -c %s "$GRUBENV")" = 1024 ] || fail "grubenv is $(stat -c %s "$GRUBENV") bytes"
note "ok: grub-editenv lists $(grub_list)"
expect_deployments "$S" 2 1
order=$(grep -o 'Armed the trial\|Deployed 2' <<<"$ERR" | paste -sd,)
[ "$order" = "Armed the trial,Deployed 2" ] || fail "order: $order"

echo "== a second update before the reboot is refused"
remote_commit 3
sig=$(grub_sig)
update --no-reboot
expect_rc 4 "a second update"
grep -q "armed and deployed already, waiting for its reboot" <<<"$OUT$ERR" || fail "not said: $ERR"
[ "$(grub_sig)" = "$sig" ] || fail "grubenv was written"
echo "PASS"
