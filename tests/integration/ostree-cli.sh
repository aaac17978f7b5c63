#!/bin/bash
# healthdog-ostree's command line on sysroots looked at from outside (nothing booted): usage
# errors, "not an OSTree system" (3), a locked sysroot (4), a pinned deployment (7), an unknown
# checksum (8), removal from an offline sysroot with the quarantine file, and a clean stdout.
source "$(dirname "$0")/../ostree/lib.sh"

S=$T/sysroot
Q=$T/state

echo "== usage"
run_helper
expect_rc 2 "no verb"
run_helper frobnicate
expect_rc 2 "unknown verb"
run_helper remove-failed --sysroot "$T"
expect_rc 2 "remove-failed without --deployment"
run_helper remove-failed --checksum 1234
expect_rc 2 "remove-failed --checksum 1234"
run_helper prune
expect_rc 2 "prune without --keep-rollback"
run_helper prune --keep-rollback many
expect_rc 2 "prune --keep-rollback many"
run_helper status extra
expect_rc 2 "status extra"
run_helper status --sysroot
expect_rc 2 "status --sysroot (no value)"
run_helper --help
expect_rc 0 "--help"
grep -q "^  4  the sysroot is locked" <<<"$OUT" || fail "--help does not document the exit codes: $OUT"
run_helper remove-failed --help
expect_rc 0 "remove-failed --help"
grep -q -- "--deployment NAME" <<<"$OUT" && grep -q "^  6  refused: that is the staged" <<<"$OUT" || fail "verb help: $OUT"

echo "== not an OSTree system: exit 3, one line naming the path"
mkdir -p "$T/plain/ostree"
for verb in "status --json" identify-failed "prune --keep-rollback 1" \
            "remove-failed --checksum $(printf 'a%.0s' $(seq 64))"; do
        # shellcheck disable=SC2086
        run_helper --sysroot "$T/plain" $verb --state-dir "$Q"
        expect_rc 3 "$verb on a plain directory"
        [ "$ERR" = "healthdog-ostree ${verb%% *}: '$T/plain' is not an OSTree sysroot: no ostree/repo directory" ] ||
                fail "message: $ERR"
        [ -z "$OUT" ] || fail "stdout: $OUT"
done
run_helper --sysroot "$T/missing" status
expect_rc 3 "status on a missing path"
if [ ! -e /ostree/repo ]; then
        run_helper status --json
        expect_rc 3 "status on this machine's / (not OSTree)"
fi
[ ! -e "$Q" ] || fail "the state directory was created"

echo "== a sysroot from outside: nothing booted"
sysroot_with "$S" 3
v3=$(csum_of "$S" 3)
v1=$(csum_of "$S" 1)
run_helper --sysroot "$S" status --json --state-dir "$Q"
expect_rc 0 "status --json"
[ "$(json_get "$OUT" '(j["booted"], j["default"], len(j["deployments"]), j["quarantined"])')" = "(None, 0, 3, [])" ] ||
        fail "status: $OUT"
[ "$(json_get "$OUT" '[(d["version"], d["pending"], d["rollback"], d["default"]) for d in j["deployments"]]')" = \
  "[('3', False, False, True), ('2', False, False, False), ('1', False, False, False)]" ] || fail "flags: $OUT"
run_helper --sysroot "$S" status
expect_rc 0 "status (table)"
grep -q "^0 .* 3 .*$v3.0 (default)$" <<<"$OUT" || fail "table: $OUT"
run_helper --sysroot "$S" identify-failed
expect_rc 3 "identify-failed, nothing booted"
run_helper --sysroot "$S" prune --keep-rollback 0
expect_rc 3 "prune, nothing booted"
expect_deployments "$S" 3 2 1

echo "== refusals"
ostree admin pin --sysroot="$S" 2 >>"$T/ostree.log" 2>&1 || fail "ostree admin pin 2"
run_helper --sysroot "$S" remove-failed --checksum "$v1" --state-dir "$Q"
expect_rc 7 "remove-failed of a pinned deployment"
grep -q "Refusing to remove $v1: it is pinned" <<<"$ERR" || fail "message: $ERR"
run_helper --sysroot "$S" remove-failed --checksum "$(printf 'b%.0s' $(seq 64))" --state-dir "$Q"
expect_rc 8 "remove-failed of an unknown checksum"
run_helper --sysroot "$S" remove-failed --checksum "$v3.7" --state-dir "$Q"
expect_rc 8 "remove-failed of an unknown serial"
[ ! -e "$Q/quarantine" ] || fail "a refused removal wrote the quarantine"

echo "== locked: exit 4 at once, and no change"
hold_lock "$S"
start=$(date +%s%N)
run_helper --sysroot "$S" remove-failed --checksum "$v3" --state-dir "$Q"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
expect_rc 4 "remove-failed while an OFD lock is held on ostree/lock"
grep -q "The sysroot '$S' is locked by another process ($S/ostree/lock), try later" <<<"$ERR" || fail "message: $ERR"
[ "$ms" -lt 3000 ] || fail "waited ${ms} ms for the lock"
note "ok: answered in $ms ms"
run_helper --sysroot "$S" prune --keep-rollback 0
expect_rc 4 "prune while locked"
run_helper --sysroot "$S" status --json
expect_rc 0 "status while locked (takes no lock)"
release_lock
expect_deployments "$S" 3 2 1

echo "== offline removal, quarantine kept and deduplicated, stdout clean"
mkdir -p "$Q"
printf '# quarantined by the integrator\n%s\n' "$v1" >"$Q/quarantine"
run_helper --sysroot "$S" remove-failed --checksum "$v3" --state-dir "$Q"
expect_rc 0 "remove-failed (offline)"
[ "$OUT" = "Quarantined $v3 in $Q/quarantine
Removed deployment $v3.0 (version 3)
$(tail -n 1 "$T/out")" ] || fail "stdout: $OUT"
grep -q '^Pruned [0-9]* of [0-9]* objects' "$T/out" || fail "stdout: $OUT"
grep -q 'Freed objects\|Transaction complete' "$T/out" && fail "libostree's chatter on stdout: $OUT"
expect_deployments "$S" 2 1
deployments "$S" | grep -q ' 1 pinned' || fail "version 1 is no longer pinned"
expect_uenv_entries "$S" 2
[ "$(cat "$Q/quarantine")" = "# quarantined by the integrator
$v1
$v3" ] || fail "quarantine: $(cat "$Q/quarantine")"
note "ok: the quarantine keeps the integrator's lines and adds version 3"
deploy "$S"
expect_deployments "$S" 3 2 1
run_helper --sysroot "$S" remove-failed --checksum "$v3" --state-dir "$Q" --verbose
expect_rc 0 "remove-failed of version 3, deployed again"
grep -q "Quarantined" <<<"$OUT" && fail "quarantined twice: $OUT"
[ "$(grep -c "$v3" "$Q/quarantine")" = 1 ] || fail "quarantine: $(cat "$Q/quarantine")"
note "ok: version 3 is in the quarantine once"
run_helper --sysroot "$S" status --json --state-dir "$Q"
[ "$(json_get "$OUT" '(j["quarantined"], [d["quarantined"] for d in j["deployments"]])')" = "(['$v1', '$v3'], [False, True])" ] ||
        fail "status: $OUT"
note "ok: status --json lists the quarantine and marks version 1"
echo "PASS"
