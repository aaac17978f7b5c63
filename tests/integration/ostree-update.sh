#!/bin/bash
# healthdog-ostree's update verbs against a real remote: an archive repository served over HTTP
# on 127.0.0.1 (python3 -m http.server), a sysroot whose deployment has it as its origin, booted
# (tests/ostree/boot-into). update-check pulls the commit object alone and compares; pull fetches
# the commit whole with progress; deploy makes it the new default with the booted /etc and kernel
# arguments and keeps the booted one as the rollback. A remote that is down is "try later" (9),
# an unknown ref a clear error, an unsigned remote refused under --require-signature (10), a
# signed one (ed25519, keys made here) verified, a commit signed with another key refused.
source "$(dirname "$0")/../ostree/lib.sh"
source "$(dirname "$0")/../ostree/remote.sh"

can_boot || skip "cannot make private mount + PID namespaces here"
S=$T/sysroot
remote_start
sysroot_from_remote "$S" 1
B1=$(deployments "$S" | awk 'NR == 1 { print $1 }')

echo "== nothing new: up to date"
booted "$S" "$B1" /run/healthdog-ostree update-check --json
expect_rc 0 "update-check with nothing new"
[ "$(json_get "$OUT" 'j["available"]')" = False ] || fail "an update is available: $OUT"
[ "$(json_get "$OUT" 'j["refspec"]')" = "origin:$REF" ] || fail "refspec: $OUT"
[ "$(json_get "$OUT" 'j["booted"]["version"]')" = 1 ] || fail "booted: $OUT"

echo "== version 2 on the server: available; the check pulls the commit object alone"
remote_commit 2
C2=$(remote_csum 2)
booted "$S" "$B1" /run/healthdog-ostree update-check --json
expect_rc 0 "update-check"
[ "$(json_get "$OUT" 'j["available"]')" = True ] || fail "no update available: $OUT"
[ "$(json_get "$OUT" 'j["checksum"]')" = "$C2" ] || fail "checksum: $OUT"
[ "$(json_get "$OUT" 'j["version"]')" = 2 ] || fail "version: $OUT"
[ "$(json_get "$OUT" 'j["deployed"]')" = None ] || fail "deployed: $OUT"
[ -e "$S/ostree/repo/state/$C2.commitpartial" ] || fail "the check pulled more than the commit object"
expect_deployments "$S" 1

echo "== pull: the whole commit, with progress on stderr"
booted "$S" "$B1" /run/healthdog-ostree pull --checksum "$C2" --json
expect_rc 0 "pull"
[ "$(json_get "$OUT" 'j["checksum"]')" = "$C2" ] || fail "pulled: $OUT"
[ "$(json_get "$OUT" 'j["objects_fetched"] > 0')" = True ] || fail "objects fetched: $OUT"
grep -q '^Pulling: [0-9]* of [0-9]* objects' <<<"$ERR" || fail "no progress on stderr: $ERR"
ostree fsck --repo="$S/ostree/repo" >/dev/null 2>&1 || fail "the repository does not fsck after the pull"
expect_deployments "$S" 1

echo "== deploy: the new default, the booted one kept as rollback, its kernel arguments kept"
booted "$S" "$B1" /run/healthdog-ostree deploy --checksum "$C2" --json
expect_rc 0 "deploy"
NEW=$(json_get "$OUT" 'j["deployment"]')
[ "${NEW%.*}" = "$C2" ] || fail "deployed $NEW"
expect_deployments "$S" 2 1
[ "$(grep -c '^kernel_image[0-9]*=' "$S/boot/loader/uEnv.txt")" = 2 ] || fail "uEnv.txt: $(uenv "$S")"
grep -q "^bootargs=panic=5 ostree=" "$S/boot/loader/uEnv.txt" ||
        fail "the new default's kernel arguments: $(uenv "$S")"
[ "$(ostree admin status --sysroot="$S" 2>/dev/null | awk '/origin refspec/ { print $3; exit }')" = "origin:$REF" ] ||
        fail "origin: $(ostree admin status --sysroot="$S")"
booted "$S" "$B1" /run/healthdog-ostree update-check --json
expect_rc 0 "update-check after the deploy"
[ "$(json_get "$OUT" 'j["deployed"]["name"]')" = "$NEW" ] || fail "deployed: $OUT"

echo "== bad input: usage, an unknown ref, a remote that is down"
booted "$S" "$B1" /run/healthdog-ostree pull
expect_rc 2 "pull without --checksum"
booted "$S" "$B1" /run/healthdog-ostree deploy --checksum 1234
expect_rc 2 "deploy --checksum 1234"
booted "$S" "$B1" /run/healthdog-ostree update-check --ref origin:no/such/ref
expect_rc 1 "update-check of an unknown ref"
grep -q 'no/such/ref' <<<"$ERR" || fail "the error does not name the ref: $ERR"
booted "$S" "$B1" /run/healthdog-ostree update-check --ref nowhere:$REF
expect_rc 1 "update-check from an unknown remote"
grep -q "nowhere" <<<"$ERR" || fail "the error does not name the remote: $ERR"
remote_stop
booted "$S" "$B1" /run/healthdog-ostree update-check
expect_rc 9 "update-check with the server down"
remote_start_again

echo "== signatures: --require-signature refuses an unsigned remote; a signed one verifies"
booted "$S" "$B1" /run/healthdog-ostree update-check --require-signature
expect_rc 10 "update-check --require-signature from an unsigned remote"
grep -q "Refusing to pull from the remote 'origin': it verifies no signature" <<<"$ERR" || fail "$ERR"
remote_sign_setup "$S"
remote_commit 3 --sign
booted "$S" "$B1" /run/healthdog-ostree update-check --require-signature --json
expect_rc 0 "update-check of a signed commit"
[ "$(json_get "$OUT" 'j["version"]')" = 3 ] || fail "version: $OUT"
remote_commit 4 --sign-with-other-key
booted "$S" "$B1" /run/healthdog-ostree update-check --require-signature --json
expect_rc 1 "update-check of a commit signed with another key"
grep -qi 'signature' <<<"$ERR" || fail "the error does not say signature: $ERR"
echo "PASS"
