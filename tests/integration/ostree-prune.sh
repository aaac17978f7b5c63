#!/bin/bash
# After a confirmed trial, `prune --keep-rollback N` keeps the booted deployment and the N newest
# rollbacks; pinned deployments survive every prune (and do not count among the N), and so does a
# newer deployment waiting for its trial. The unreferenced objects are pruned; with one
# deployment left, U-Boot's uEnv.txt has no kernel_image2 any more.
source "$(dirname "$0")/../ostree/lib.sh"

can_boot || skip "cannot create a private mount + PID namespace (unshare -mpf) here"
S=$T/sysroot
sysroot_with "$S" 4
ostree admin pin --sysroot="$S" 3 >>"$T/ostree.log" 2>&1 || fail "ostree admin pin 3"
expect_deployments "$S" "4 3 2 1"
deployments "$S" | grep -q ' 1 pinned' || fail "version 1 is not pinned: $(deployments "$S")"
v4=$(csum_of "$S" 4)
v1=$(csum_of "$S" 1)

echo "== booted 4 (confirmed), prune --keep-rollback 1"
booted "$S" "$v4.0" /run/healthdog-ostree prune --keep-rollback 1
expect_rc 0 "prune --keep-rollback 1"
echo "$OUT" | sed 's/^/    | /'
[ "$(grep -c '^Removed deployment' <<<"$OUT")" = 1 ] && grep -q "(version 2)$" <<<"$OUT" ||
        fail "expected exactly version 2 removed: $OUT"
pruned=$(sed -n 's/^Pruned \([0-9]*\) of.*/\1/p' <<<"$OUT")
[ "${pruned:-0}" -gt 0 ] || fail "no object pruned: $OUT"
note "ok: version 2 removed, $pruned objects pruned"
expect_deployments "$S" 4 3 1
expect_uenv_entries "$S" 3

echo "== prune --keep-rollback 0: the pinned one stays"
booted "$S" "$v4.0" /run/healthdog-ostree prune --keep-rollback 0
expect_rc 0 "prune --keep-rollback 0"
expect_deployments "$S" 4 1
expect_uenv_entries "$S" 2

echo "== a newer deployment (not staged) waits for its trial: prune leaves it"
commit_version "$S" 5 >/dev/null
deploy "$S"
expect_deployments "$S" 5 4 1
booted "$S" "$v4.0" /run/healthdog-ostree status --json
[ "$(json_get "$OUT" '[(d["version"], d["pending"], d["booted"], d["pinned"]) for d in j["deployments"]]')" = \
  "[('5', True, False, False), ('4', False, True, False), ('1', False, False, True)]" ] || fail "status: $OUT"
booted "$S" "$v4.0" /run/healthdog-ostree prune --keep-rollback 0
expect_rc 0 "prune --keep-rollback 0 with version 5 pending"
expect_deployments "$S" 5 4 1

echo "== unpinned, version 5 undeployed: down to the booted one"
ostree admin pin --unpin --sysroot="$S" 2 >>"$T/ostree.log" 2>&1 || fail "ostree admin pin --unpin 2"
booted "$S" "$v4.0" /run/healthdog-ostree remove-failed --checksum "$(csum_of "$S" 5)" --state-dir /run/state
expect_rc 0 "remove-failed version 5"
booted "$S" "$v4.0" /run/healthdog-ostree prune --keep-rollback 0
expect_rc 0 "prune --keep-rollback 0, nothing pinned"
grep -q "(version 1)$" <<<"$OUT" || fail "version 1 not removed: $OUT"
expect_deployments "$S" 4
expect_uenv_entries "$S" 1
[ ! -e "$(deploy_dir "$S" "$v1.0")" ] || fail "the directory of version 1 is still there"
ostree show --repo="$S/ostree/repo" "$v1" >/dev/null 2>&1 && fail "commit of version 1 not pruned"
note "ok: the commit of version 1 is pruned from the repository"

echo "== nothing left to prune"
booted "$S" "$v4.0" /run/healthdog-ostree prune --keep-rollback 2
expect_rc 0 "prune with nothing to remove"
grep -q '^Removed' <<<"$OUT" && fail "removed something: $OUT"
expect_deployments "$S" 4
echo "PASS"
