#!/bin/bash
# The command line: `check` (table, exit codes, named checks), `config check`, `version`, usage
# errors and --help.
source "$(dirname "$0")/lib.sh"

# row NAME: the table row of a check, as "TYPE REQUIRED RESULT".
row() { awk -v n="$1" '$1 == n { print $2, $3, $4 }' "$T/out"; }
expect_row() {
        [ "$(row "$1")" = "$2" ] || fail "row of '$1' is '$(row "$1")', expected '$2'; table:
$OUT"
}

write_config <<EOF
[watchdog]
device = none

[supervisor]
state-directory = $STATE

[check.file-ok]
type = file
path = $T/present

[check.exec-ok]
type = exec
command = /bin/sh -c 'echo ran >>$T/exec-ok-runs'

[check.wanted-missing]
type = file
path = $T/absent
required = no
EOF
touch "$T/present"
mkdir -p "$T/bin"
ln -s "$(command -v sleep)" "$T/bin/hang"
write_config "$T/failing.conf" <<EOF
[watchdog]
device = none

[check.file-ok]
type = file
path = $T/present

[check.required-missing]
type = file
path = $T/absent

[check.hang]
type = exec
command = $T/bin/hang 30
interval = 2s
timeout = 500ms
EOF

# All required checks pass; the failing one is not required.
cli check -c "$CONF"
expect_rc 0 "check (only a required = no check fails)"
[ "$(echo "$OUT" | head -n 1 | tr -s ' ')" = "CHECK TYPE REQUIRED RESULT TIME DETAIL" ] ||
        fail "table header: $(echo "$OUT" | head -n 1)"
assert_cmp "table rows" "$(echo "$OUT" | wc -l)" "==" 4
expect_row file-ok "file yes pass"
expect_row exec-ok "exec yes pass"
expect_row wanted-missing "file no FAIL"
echo "$OUT" | grep -q "^wanted-missing .*$T/absent: No such file or directory$" || fail "detail missing: $OUT"
assert_cmp "exec-ok runs" "$(wc -l <"$T/exec-ok-runs")" "==" 1

# A required check fails: exit 1.
cli check -c "$T/failing.conf" file-ok required-missing
expect_rc 1 "check (a required check fails)"
expect_row required-missing "file yes FAIL"
expect_row file-ok "file yes pass"

# Only the named check runs.
cli check -c "$T/failing.conf" file-ok
expect_rc 0 "check NAME (the failing ones not named)"
assert_cmp "table rows" "$(echo "$OUT" | wc -l)" "==" 2
cli check -c "$CONF" file-ok
assert_cmp "exec-ok runs after 'check file-ok'" "$(wc -l <"$T/exec-ok-runs")" "==" 1

# A hung probe is cut at its timeout, also here, and leaves nothing behind.
t0=$(now)
cli check -c "$T/failing.conf" hang
t1=$(now)
expect_rc 1 "check hang"
expect_row hang "exec yes FAIL"
echo "$OUT" | grep -q "^hang .* timed out after 500ms$" || fail "hang detail: $OUT"
assert_cmp "duration of 'check hang' (s)" "$(calc "$t1 - $t0")" ">=" 0.5
assert_cmp "duration of 'check hang' (s)" "$(calc "$t1 - $t0")" "<=" "$(calc "0.5 + $LOAD_SLACK")"
wait_until 10 no_process "$T/bin/hang" || fail "'check hang' left its probe: $(pgrep -af -- "$T/bin/hang")"

# Unknown check name.
cli check -c "$CONF" no-such-check
expect_rc 2 "check no-such-check"
echo "$ERR" | grep -q "no check named 'no-such-check'" || fail "stderr: $ERR"
[ -z "$OUT" ] || fail "stdout for an unknown check: $OUT"

# Usage errors: exit 2, usage on stderr, nothing on stdout.
cli frobnicate
expect_rc 2 "frobnicate"
echo "$ERR" | grep -q "unknown verb 'frobnicate'" || fail "stderr: $ERR"
echo "$ERR" | grep -q "^Usage: healthdog VERB" || fail "no usage on stderr: $ERR"
[ -z "$OUT" ] || fail "stdout for an unknown verb: $OUT"
cli check --frobnicate -c "$CONF"
expect_rc 2 "check --frobnicate"
echo "$ERR" | grep -q "unknown option '--frobnicate'" || fail "stderr: $ERR"
echo "$ERR" | grep -q "^Usage: healthdog check" || fail "no usage on stderr: $ERR"
[ -z "$OUT" ] || fail "stdout for an unknown option: $OUT"
cli
expect_rc 2 "(no verb)"
echo "$ERR" | grep -q "^Usage: healthdog VERB" || fail "no usage on stderr: $ERR"
cli config -c "$CONF" frobnicate
expect_rc 2 "config frobnicate"
cli version extra
expect_rc 2 "version extra"

# version
cli version
expect_rc 0 version
echo "$OUT" | grep -Eq '^healthdog [0-9]+(\.[0-9]+)+' || fail "version: $OUT"
note "version: $OUT"
version=$OUT
cli --version
expect_rc 0 --version
[ "$OUT" = "$version" ] || fail "--version says '$OUT', version says '$version'"

# config check
cli config -c "$CONF" check
expect_rc 0 "config check"
[ "$OUT" = "configuration OK" ] || fail "config check: $OUT"
cli config check -c "$T/failing.conf"
expect_rc 0 "config check (options after the argument)"
printf '[watchdog]\ndevice = none\nfrobnicate = 1\n' | write_config "$T/bad.conf"
cli config -c "$T/bad.conf" check
expect_rc 1 "config check (bad config)"
echo "$ERR" | grep -q "^$T/bad.conf:3: unknown key 'frobnicate' in \\[watchdog\\]$" || fail "stderr: $ERR"
[ -z "$OUT" ] || fail "stdout for a bad config: $OUT"
cli config -c "$CONF" dump
expect_rc 0 "config dump"
echo "$OUT" | grep -q '^\[check.exec-ok\]$' || fail "config dump: $OUT"

# --help for each verb (and the top level): exit 0, usage on stdout.
for verb in run check config version; do
        cli "$verb" --help
        expect_rc 0 "$verb --help"
        echo "$OUT" | grep -q "^Usage: healthdog $verb" || fail "$verb --help: $OUT"
done
cli --help
expect_rc 0 --help
for verb in run check config version; do
        echo "$OUT" | grep -q "^  $verb " || fail "--help does not list $verb: $OUT"
done
echo "PASS"
