#!/bin/bash
# healthdog-ostree --json and serve, as the daemon uses them: each verb prints one JSON object on
# stdout and nothing else (libostree's own messages, even with --verbose, stay on stderr); serve
# answers a request with RESULT NUL MESSAGES NUL CODE. remove-failed --deployment CHECKSUM.SERIAL
# removes that deployment and never a redeploy of the same commit.
source "$(dirname "$0")/../ostree/lib.sh"

can_boot || skip "cannot create a private mount + PID namespace (unshare -mpf) here"

S=$T/sysroot
Q=$T/state

# expect_json_line WHAT: $T/out is exactly one line, one JSON object.
expect_json_line() {
        python3 - "$T/out" <<'PY' || fail "$1: stdout is not one JSON object on one line: $(cat "$T/out")"
import json, sys
data = open(sys.argv[1], "rb").read()
assert data.endswith(b"\n") and data.count(b"\n") == 1, data
assert isinstance(json.loads(data), dict)
PY
}

# serve_request ARGS...: pipes ARGS (each ended by NUL) into `healthdog-ostree serve`; leaves the
# reply in $T/reply.
serve_request() {
        printf '%s\0' "$@" | "$HELPER" serve >"$T/reply" 2>"$T/serve.err"
        RC=$?
        check_reply
}

# check_reply: splits $T/reply (exactly two NUL bytes, then decimal digits) into RESULT, MESSAGES
# and CODE; the helper's exit code (RC) is CODE.
check_reply() {
        python3 - "$T/reply" "$T" <<'PY' || fail "bad frame: $(od -c "$T/reply" | head -n 20)"
import os, re, sys
data = open(sys.argv[1], "rb").read()
parts = data.split(b"\0")
assert len(parts) == 3, "%d NUL bytes" % (len(parts) - 1)
assert re.fullmatch(rb"[0-9]{1,3}", parts[2]), parts[2]
for name, part in zip(("result", "messages", "code"), parts):
    open(os.path.join(sys.argv[2], name), "wb").write(part)
PY
        RESULT=$(cat "$T/result")
        MESSAGES=$(cat "$T/messages")
        CODE=$(cat "$T/code")
        if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' "$T/messages" "$T/serve.err" 2>/dev/null; then
                fail "sanitizer report from serve: $MESSAGES $(cat "$T/serve.err" 2>/dev/null)"
        fi
}

expect_code() {
        [ "$CODE" = "$1" ] || fail "$2: code $CODE, expected $1; result: $RESULT; messages: $MESSAGES"
        note "ok: $2 -> code $CODE${MESSAGES:+ ($(tail -n 1 <<<"$MESSAGES"))}"
}

echo "== a sysroot from outside: versions 1-3 and a redeploy of version 3"
sysroot_with "$S" 3
deploy "$S"
v3=$(csum_of "$S" 3)
v2=$(csum_of "$S" 2)
v1=$(csum_of "$S" 1)
[ "$(deployments "$S" | awk '{ printf "%s%s", sep, $1; sep = " " }')" = "$v3.1 $v3.0 $v2.0 $v1.0" ] ||
        fail "deployments: $(deployments "$S")"

echo "== identify-failed --json: nothing booted is exit 3 and no result"
run_helper --sysroot "$S" --json identify-failed
expect_rc 3 "identify-failed --json, nothing booted"
[ -z "$OUT" ] || fail "stdout: $OUT"

echo "== remove-failed --deployment CHECKSUM.SERIAL keeps the redeploy of the same commit"
run_helper --sysroot "$S" --state-dir "$Q" remove-failed --deployment "$v3.0" --json
expect_rc 0 "remove-failed --deployment $v3.0 --json"
expect_json_line "remove-failed"
[ "$(json_get "$OUT" '(j["removed"], j["quarantined"], sorted(j))')" = \
  "(['$v3.0'], '$v3', ['bytes_freed', 'objects_pruned', 'objects_total', 'quarantined', 'removed'])" ] ||
        fail "remove-failed: $OUT"
[ "$(json_get "$OUT" 'all(type(j[k]) is int and j[k] >= 0 for k in ("objects_pruned", "objects_total", "bytes_freed"))')" = True ] ||
        fail "remove-failed counts: $OUT"
[ "$(deployments "$S" | awk '{ printf "%s%s", sep, $1; sep = " " }')" = "$v3.1 $v2.0 $v1.0" ] ||
        fail "deployments after: $(deployments "$S")"
[ -d "$(deploy_dir "$S" "$v3.1")" ] && [ ! -e "$(deploy_dir "$S" "$v3.0")" ] || fail "deployment directories"
note "ok: $v3.0 removed, $v3.1 (the same commit, deployed again) stays"
grep -qx "$v3" "$Q/quarantine" || fail "quarantine: $(cat "$Q/quarantine")"

echo "== --checksum is an alias; --json before the verb; quarantined null when it was there"
run_helper --json --sysroot "$S" --state-dir "$Q" remove-failed --checksum "$v3.1"
expect_rc 0 "--json remove-failed --checksum $v3.1"
expect_json_line "remove-failed"
[ "$(json_get "$OUT" '(j["removed"], j["quarantined"])')" = "(['$v3.1'], None)" ] || fail "remove-failed: $OUT"
expect_deployments "$S" 2 1
deploy "$S" # version 3 again, as an OTA client would: it is healthdog's to remove it
v3_serial=$(deployments "$S" | awk 'NR == 1 { print $1 }')

echo "== errors: an exit code, the reason on stderr, nothing on stdout"
run_helper --sysroot "$S" --state-dir "$Q" --json remove-failed --deployment "$v3.7"
expect_rc 8 "remove-failed --json of an unknown serial"
[ -z "$OUT" ] || fail "stdout: $OUT"
grep -q "No deployment $v3.7 in '$S'" <<<"$ERR" || fail "message: $ERR"
run_helper --sysroot "$S" --json prune --keep-rollback 0
expect_rc 3 "prune --json, nothing booted"
[ -z "$OUT" ] || fail "stdout: $OUT"

echo "== libostree's messages (--verbose, G_MESSAGES_DEBUG=all) stay on stderr"
G_MESSAGES_DEBUG=all run_helper --sysroot "$S" --state-dir "$Q" --json --verbose remove-failed --deployment "$v3_serial"
expect_rc 0 "remove-failed --json --verbose, libostree debugging on"
expect_json_line "remove-failed --verbose"
grep -q 'OSTree-DEBUG' <<<"$ERR" || fail "no libostree message on stderr: $ERR"
note "ok: $(grep -c 'OSTree-DEBUG' <<<"$ERR") libostree debug lines on stderr, stdout only the JSON"
[ "$(json_get "$OUT" 'j["removed"]')" = "['$v3_serial']" ] || fail "remove-failed: $OUT"
G_MESSAGES_DEBUG=all run_helper --sysroot "$S" --state-dir "$Q" --json status
expect_rc 0 "status --json, libostree debugging on"
expect_json_line "status"
expect_deployments "$S" 2 1

echo "== booted: identify-failed --json"
deploy "$S"
v3_serial=$(deployments "$S" | awk 'NR == 1 { print $1 }')
booted "$S" "$v2.0" /run/healthdog-ostree --json identify-failed
expect_rc 0 "identify-failed --json, version 2 booted, version 3 the default"
expect_json_line "identify-failed"
[ "$(json_get "$OUT" '(j["booted"]["name"], j["default"]["name"], j["failed"] == j["default"])')" = \
  "('$v2.0', '$v3_serial', True)" ] || fail "identify-failed: $OUT"
[ "$(json_get "$OUT" 'j["failed"]')" = \
  "{'name': '$v3_serial', 'checksum': '$v3', 'serial': ${v3_serial##*.}, 'osname': '$OSNAME', 'version': '3', 'staged': False, 'pinned': False}" ] ||
        fail "the failed deployment: $OUT"
note "ok: failed is $v3_serial, with every member"
booted "$S" "$v3_serial" /run/healthdog-ostree identify-failed --json
expect_rc 0 "identify-failed --json, the default booted"
[ "$(json_get "$OUT" '(j["booted"]["name"], j["default"]["name"], j["failed"])')" = "('$v3_serial', '$v3_serial', None)" ] ||
        fail "identify-failed: $OUT"
run_helper --sysroot "$S" identify-failed
expect_rc 3 "identify-failed without --json, nothing booted (the text form is unchanged)"

echo "== serve: RESULT NUL MESSAGES NUL CODE"
serve_request --sysroot "$S" --state-dir "$Q" --json status
expect_code 0 "serve status --json"
[ "$RC" = 0 ] || fail "serve exited $RC"
run_helper --sysroot "$S" --state-dir "$Q" --json status
[ "$RESULT" = "$OUT" ] || fail "serve's result differs from the command line's: $RESULT / $OUT"
[ -z "$MESSAGES" ] || fail "messages: $MESSAGES"
serve_request --sysroot "$S" --json identify-failed
expect_code 3 "serve identify-failed --json, nothing booted"
[ "$RC" = 3 ] && [ -z "$RESULT" ] || fail "exit $RC, result: $RESULT"
grep -q "identify-failed: No deployment of '$S' is booted" <<<"$MESSAGES" || fail "messages: $MESSAGES"
printf -- '--sysroot\0%s\0status' "$S" | "$HELPER" serve >"$T/reply" 2>"$T/serve.err"
check_reply
expect_code 2 "serve with an unterminated argument"
grep -q "malformed request" <<<"$MESSAGES" && [ -z "$RESULT" ] || fail "result: $RESULT; messages: $MESSAGES"
: | "$HELPER" serve >"$T/reply" 2>"$T/serve.err"
check_reply
expect_code 2 "serve with an empty request"

echo "== serve: libostree's messages are MESSAGES, bounded; the result stays one JSON object"
# The booted system's /var is the stateroot's var/: the reply is written there.
VAR=$S/ostree/deploy/$OSNAME/var
booted "$S" "$v2.0" /bin/sh -c "printf '%s\0' --json --verbose --state-dir /var/hd-q prune --keep-rollback 0 |
        G_MESSAGES_DEBUG=all /run/healthdog-ostree serve >/var/reply"
expect_rc 0 "serve prune --json --verbose in a boot of version 2, libostree debugging on"
mv "$VAR/reply" "$T/reply"
cp "$T/err" "$T/serve.err"
check_reply
expect_code 0 "serve prune"
printf '%s\n' "$RESULT" >"$T/out"
expect_json_line "serve prune"
[ "$(json_get "$RESULT" 'j["removed"]')" = "['$v1.0']" ] || fail "prune: $RESULT"
grep -q 'OSTree-DEBUG' <<<"$MESSAGES" || fail "no libostree message in MESSAGES: $MESSAGES"
size=$(stat -c %s "$T/messages")
[ "$size" -le 8300 ] || fail "MESSAGES is $size bytes"
if grep -q '^\[[0-9]* bytes of messages dropped\]$' "$T/messages"; then
        note "ok: MESSAGES bounded ($size bytes kept, $(head -n 1 "$T/messages"))"
else
        note "ok: MESSAGES $size bytes"
fi
expect_deployments "$S" 3 2

echo "== serve: identify-failed --json in a booted system, as the daemon asks"
booted "$S" "$v2.0" /bin/sh -c "printf '%s\0' --sysroot / --state-dir /var/hd-q --json identify-failed |
        /run/healthdog-ostree serve >/var/reply"
mv "$VAR/reply" "$T/reply"
cp "$T/err" "$T/serve.err"
check_reply
expect_code 0 "serve identify-failed --json"
[ "$(json_get "$RESULT" '(j["booted"]["name"], j["failed"]["name"])')" = "('$v2.0', '$v3_serial')" ] ||
        fail "identify-failed: $RESULT"
echo "PASS"
