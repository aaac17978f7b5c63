#!/bin/bash
# A staged update (ostree admin deploy --stage: written as the default only at shutdown) looks
# newer than the booted deployment, like a failed one, but is never removed: after a rolled-back
# boot where an OTA client already staged version 4, identify-failed still names version 3 (the
# default boot entry), remove-failed refuses version 4 (6), and neither remove-failed nor prune
# touch it: /run/ostree/staged-deployment and its directory stay.
source "$(dirname "$0")/../ostree/lib.sh"

can_boot || skip "cannot create a private mount + PID namespace (unshare -mpf) here"
S=$T/sysroot
sysroot_with "$S" 3
v3=$(csum_of "$S" 3)
v2=$(csum_of "$S" 2)
v1=$(csum_of "$S" 1)
commit_version "$S" 4 >/dev/null
v4=$(csum_of "$S" 4)

# Staging needs a booted system; libostree then asks systemd to start ostree-finalize-staged,
# which OSTREE_SYSROOT_DEBUG=test-staged-path (ostree's own test suite's switch) skips.
booted "$S" "$v2.0" /usr/bin/env v4="$v4" OSTREE_SYSROOT_DEBUG=test-staged-path /bin/bash -c '
        h=/run/healthdog-ostree
        ostree admin deploy --stage --os=os os/x86_64 >/dev/null 2>&1 || { echo "staging failed"; exit 10; }
        echo "staged-file=$(test -s /run/ostree/staged-deployment && echo yes)"
        echo "before=$($h status --json)"
        echo "failed=$($h identify-failed)"
        $h remove-failed --checksum "$v4" 2>&1; echo "staged-rc=$?"
        $h remove-failed --checksum "$($h identify-failed)" 2>&1 || exit 11
        $h prune --keep-rollback 0 2>&1 || exit 12
        echo "after=$($h status --json)"
        echo "staged-file-after=$(test -s /run/ostree/staged-deployment && echo yes)"
        ostree admin status'
expect_rc 0 "the booted session"
echo "$OUT" | sed 's/^/    | /'
grep -qx "staged-file=yes" <<<"$OUT" || fail "staging did not happen"
before=$(sed -n 's/^before=//p' <<<"$OUT")
[ "$(json_get "$before" '[(d["version"], d["staged"], d["pending"], d["booted"], d["default"]) for d in j["deployments"]]')" = \
  "[('4', True, True, False, False), ('3', False, True, False, True), ('2', False, False, True, False), ('1', False, False, False, False)]" ] ||
        fail "status before: $before"
note "ok: status: 4 staged (pending, not default), 3 the default, 2 booted"
grep -qx "failed=$v3" <<<"$OUT" || fail "identify-failed did not name version 3"
note "ok: identify-failed names version 3, not the staged 4"
grep -qx "staged-rc=6" <<<"$OUT" || fail "removing the staged deployment: not refused with 6"
grep -q "Refusing to remove $v4: it is the staged deployment of '/'" <<<"$OUT" || fail "refusal message"
note "ok: remove-failed refuses the staged deployment (6)"
grep -qx "Removed deployment $v3.0 (version 3)" <<<"$OUT" || fail "version 3 not removed"
grep -qx "Removed deployment $v1.0 (version 1)" <<<"$OUT" || fail "prune did not remove version 1"
after=$(sed -n 's/^after=//p' <<<"$OUT")
[ "$(json_get "$after" '[(d["version"], d["staged"], d["booted"]) for d in j["deployments"]]')" = \
  "[('4', True, False), ('2', False, True)]" ] || fail "status after: $after"
grep -qx "staged-file-after=yes" <<<"$OUT" || fail "/run/ostree/staged-deployment is gone"
note "ok: after remove-failed and prune: 4 still staged, 2 booted"
[ -d "$(deploy_dir "$S" "$v4.0")" ] || fail "the staged deployment's directory is gone"
note "ok: the staged deployment's directory is there"
expect_deployments "$S" 2
expect_uenv_entries "$S" 1
echo "PASS"
