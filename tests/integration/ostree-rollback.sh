#!/bin/bash
# A rolled-back boot: U-Boot gave up on the default deployment (version 3) and booted the
# previous one (2). healthdog-ostree, run on that booted system with the default sysroot /,
# identifies version 3 as the failed one, quarantines it and removes exactly that deployment:
# the boot entries and U-Boot's uEnv.txt list 2 (now the default) and 1. It refuses to remove the
# booted deployment, and a second removal finds nothing ("unknown", as a retry would).
# Then the same with /sysroot and /boot read-only (sysroot.readonly): the helper's writes go
# through its own mount namespace, and its caller still sees them read-only.
source "$(dirname "$0")/../ostree/lib.sh"

can_boot || skip "cannot create a private mount + PID namespace (unshare -mpf) here"
S=$T/sysroot
sysroot_with "$S" 3
expect_deployments "$S" 3 2 1
expect_uenv_entries "$S" 3
v3=$(csum_of "$S" 3)
v2=$(csum_of "$S" 2)
v1=$(csum_of "$S" 1)

echo "== booted 2, default 3: status"
booted "$S" "$v2.0" /run/healthdog-ostree status --json
expect_rc 0 "status --json (booted 2)"
[ "$(json_get "$OUT" '(j["booted"], j["default"], j["sysroot"], j["quarantined"])')" = "(1, 0, '/', [])" ] ||
        fail "status: $OUT"
[ "$(json_get "$OUT" '[(d["version"], d["pending"], d["booted"], d["rollback"], d["staged"]) for d in j["deployments"]]')" = \
  "[('3', True, False, False, False), ('2', False, True, False, False), ('1', False, False, True, False)]" ] ||
        fail "flags: $OUT"
[ "$(json_get "$OUT" 'j["deployments"][0]["checksum"]')" = "$v3" ] || fail "checksum of index 0: $OUT"
note "ok: index 0 is version 3, pending; 1 booted; 2 rollback"

echo "== identify-failed, refusals and remove-failed, in one boot"
booted "$S" "$v2.0" /usr/bin/env v2="$v2" /bin/bash -c '
        h=/run/healthdog-ostree
        failed=$($h identify-failed) || exit 10
        echo "failed=$failed"
        $h remove-failed --checksum "$v2" 2>&1; echo "booted-rc=$?"
        $h remove-failed --checksum "$failed" 2>&1 || exit 11
        echo "after=$($h identify-failed; echo "rc=$?")"
        $h remove-failed --checksum "$failed" 2>&1; echo "unknown-rc=$?"
        $h status --json'
expect_rc 0 "the booted session"
echo "$OUT" | sed 's/^/    | /'
grep -qx "failed=$v3" <<<"$OUT" || fail "identify-failed did not name version 3 ($v3)"
note "ok: identify-failed named version 3"
grep -qx "booted-rc=5" <<<"$OUT" || fail "removing the booted deployment: not refused with 5"
grep -q "Refusing to remove $v2: it is the booted deployment of '/'" <<<"$OUT" || fail "refusal message"
note "ok: the booted deployment is refused (5)"
grep -qx "Removed deployment $v3.0 (version 3)" <<<"$OUT" || fail "no removal reported"
grep -qx "after=rc=0" <<<"$OUT" || fail "identify-failed after the removal should print nothing"
grep -qx "unknown-rc=8" <<<"$OUT" || fail "a second removal should say unknown (8)"
grep -q "No deployment $v3 in '/'" <<<"$OUT" || fail "unknown message"
note "ok: afterwards nothing failed; a retry says unknown (8)"
status=$(tail -n 1 <<<"$OUT")
[ "$(json_get "$status" '(j["booted"], j["default"], j["quarantined"])')" = "(0, 0, ['$v3'])" ] ||
        fail "status after: $status"

echo "== from outside"
expect_deployments "$S" 2 1
expect_uenv_entries "$S" 2
grep -q "bootargs=ostree=/ostree/boot.[01]/os/.*" "$S/boot/loader/uEnv.txt" || fail "uEnv.txt: $(uenv "$S")"
[ ! -e "$(deploy_dir "$S" "$v3.0")" ] || fail "the directory of version 3 is still there"
[ -d "$(deploy_dir "$S" "$v2.0")" ] && [ -d "$(deploy_dir "$S" "$v1.0")" ] || fail "a kept deployment lost its directory"
note "ok: the deployment directory of version 3 is gone, 2 and 1 are there"
q=$S/ostree/deploy/os/var/lib/healthdog/quarantine
[ "$(cat "$q")" = "$v3" ] || fail "quarantine file: $(cat "$q" 2>&1)"
note "ok: /var/lib/healthdog/quarantine holds version 3, once"

echo "== read-only /sysroot and /boot"
# libostree makes them writable with a remount in its own mount namespace; a remount changes the
# filesystem's superblock, so the sysroot is on a tmpfs of the test's own, not on this machine's /.
mkdir -p "$T/fs"
mount -t tmpfs -o size=64M healthdog-test "$T/fs" || skip "cannot mount a tmpfs for the read-only case"
at_exit 'find "$T/fs" -path "*/ostree/deploy/*/deploy/*" -prune -type d -exec chattr -i {} +; umount -l "$T/fs"'
R=$T/fs/sysroot
sysroot_with "$R" 3
r3=$(csum_of "$R" 3)
BOOT_INTO_READONLY=1 booted "$R" "$(csum_of "$R" 2).0" /bin/bash -c '
        touch /sysroot/probe 2>/dev/null && echo "sysroot writable before"
        /run/healthdog-ostree remove-failed --checksum "$(/run/healthdog-ostree identify-failed)" 2>&1
        echo "rc=$?"
        touch /sysroot/probe /boot/probe 2>/dev/null && echo "writable after"
        grep -E " /(sysroot|boot) " /proc/self/mountinfo'
expect_rc 0 "the booted session, read-only sysroot"
echo "$OUT" | sed 's/^/    | /'
grep -qx "rc=0" <<<"$OUT" || fail "remove-failed with a read-only /sysroot failed"
grep -q "writable" <<<"$OUT" && fail "/sysroot or /boot was writable in the caller's namespace"
[ "$(grep -c ' ro,' <<<"$OUT")" = 2 ] || fail "mounts: $OUT"
expect_deployments "$R" 2 1
expect_uenv_entries "$R" 2
[ ! -e "$(deploy_dir "$R" "$r3.0")" ] || fail "the directory of version 3 is still there"
note "ok: removed through the helper's own mount namespace; /sysroot and /boot stay read-only"
echo "PASS"
