#!/bin/bash
# Exec probes: user = switches uid, gid and groups; expect-exit = decides what passes; the first
# bytes of the output land in the detail (and a chatty probe never blocks); the environment is
# small and names the check.
source "$(dirname "$0")/lib.sh"

root=$([ "$(id -u)" = 0 ] && echo yes || echo no)
export LEAK_TEST=from-the-test

write_config <<EOF
[watchdog]
device = none

[supervisor]
state-directory = $STATE

[check.as-nobody]
type = exec
command = /bin/sh -c 'test "\$(id -u):\$(id -g):\$(id -G)" = 65534:65534:65534'
user = nobody

[check.nobody-is-root]
type = exec
command = /bin/sh -c 'test "\$(id -u)" = 0'
user = nobody

[check.as-daemon-user]
type = exec
command = /bin/sh -c 'test "\$(id -u)" = $(id -u)'

[check.exit-3]
type = exec
command = /bin/sh -c 'exit 3'
expect-exit = 3

[check.exit-0-wants-3]
type = exec
command = /bin/true
expect-exit = 3

[check.exit-3-of-list]
type = exec
command = /bin/sh -c 'exit 3'
expect-exit = 0 3

[check.says-why]
type = exec
command = /bin/sh -c 'echo "disk almost full"; exit 1'

[check.chatty]
type = exec
command = /bin/sh -c 'head -c 300000 /dev/zero | tr "\\0" x'
timeout = 2s

[check.env]
type = exec
command = /bin/sh -c 'echo "check=\$HEALTHDOG_CHECK leak=\${LEAK_TEST-unset} path=\$PATH"'
EOF

"$HEALTHDOG" check -c "$CONF" >"$T/out" 2>"$T/err"
note "healthdog check:"
sed 's/^/    /' "$T/out"
grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' "$T/err" && fail "sanitizer: $(cat "$T/err")"
# result NAME: "RESULT DETAIL" of a row.
result() {
        awk -v n="$1" 'NR == 1 { col = index($0, "DETAIL") } $1 == n { print $4, substr($0, col) }' "$T/out"
}
expect() {
        [ "$(result "$1")" = "$2" ] || fail "check '$1': '$(result "$1")', expected '$2'"
        note "ok: $1: $2"
}

expect exit-3 "pass exit 3"
expect exit-0-wants-3 "FAIL exit 0"
expect exit-3-of-list "pass exit 3"
expect says-why "FAIL exit 1: disk almost full"
expect env "pass exit 0: check=env leak=unset path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# 300000 bytes through a 64 KiB pipe: passes (never blocked), and only the first bytes are kept.
chatty=$(result chatty)
[[ "$chatty" == "pass exit 0: xxxxxxxx"* ]] || fail "chatty: $chatty"
xs=$(printf %s "${chatty#pass exit 0: }" | tr -cd x | wc -c)
assert_cmp "bytes of output kept" "$xs" ">=" 100
assert_cmp "bytes of output kept" "$xs" "<=" 200

if [ "$root" = yes ]; then
        expect as-nobody "pass exit 0"
        expect nobody-is-root "FAIL exit 1"
        expect as-daemon-user "pass exit 0"

        # The same under the daemon, over several runs.
        write_config "$T/run.conf" <<EOF
[watchdog]
device = none

[supervisor]
state-directory = $STATE
startup-grace = 0

[check.as-nobody]
type = exec
command = /bin/sh -c 'test "\$(id -u)" = 65534 && test "\$HEALTHDOG_CHECK" = as-nobody'
user = nobody
# A loaded machine may take hundreds of milliseconds to start a shell as another user.
interval = 1s
timeout = 900ms
fail-after = 1
EOF
        CONF=$T/run.conf LOG_LEVEL=debug start_daemon
        wait_until 20 log_count_ge "$DAEMON_LOG" "^<7>Check 'as-nobody': pass: exit 0$" 3 ||
                fail "the probe did not pass 3 times as nobody under the daemon within 20 s"
        assert_no_grep "$DAEMON_LOG" "fail|^<[0-3]>"
        stop_daemon 0
else
        expect nobody-is-root "FAIL exit 126: cannot switch to user nobody: Operation not permitted"
        skip "not root: user = nobody cannot be tested (everything else passed)"
fi
echo "PASS"
