#!/bin/bash
# What the helper costs, against the daemon: the peak resident memory of healthdog-ostree (the
# optimized build, as installed) doing status --json and remove-failed on a booted system,
# measured with /usr/bin/time -v, and that of an idle daemon (VmHWM); the daemon must not link
# libostree or GLib at all. Prints the figures.
top=$(cd "$(dirname "$0")/../.." && pwd)
HELPER=${HELPER_PLAIN:-$top/build/healthdog-ostree}
DAEMON=${DAEMON_PLAIN:-$top/build/healthdog}
source "$top/tests/ostree/lib.sh"

[ -x /usr/bin/time ] || skip "/usr/bin/time is not installed (make test-deps)"
can_boot || skip "cannot create a private mount + PID namespace (unshare -mpf) here"

if [ -x "$DAEMON" ]; then
        if ldd "$DAEMON" | grep -E 'libostree|libglib|libgio|libgobject'; then
                fail "$DAEMON links libostree or GLib"
        fi
        note "ok: the daemon links neither libostree nor GLib"
fi

S=$T/sysroot
sysroot_with "$S" 3
v2=$(csum_of "$S" 2)
booted "$S" "$v2.0" /bin/bash -c '
        h=/run/healthdog-ostree
        /usr/bin/time -v $h status --json 2>/tmp/time.status >/dev/null || exit 10
        /usr/bin/time -v $h remove-failed --checksum "$($h identify-failed)" 2>/tmp/time.remove >/dev/null || exit 11
        for f in status remove; do
                echo "$f $(sed -n "s/.*Maximum resident set size (kbytes): //p" /tmp/time.$f)" \
                        "$(sed -n "s/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p" /tmp/time.$f)"
        done'
expect_rc 0 "status and remove-failed under /usr/bin/time -v"
status_kb=$(awk '$1 == "status" { print $2 }' <<<"$OUT")
remove_kb=$(awk '$1 == "remove" { print $2 }' <<<"$OUT")
[ -n "$status_kb" ] && [ -n "$remove_kb" ] || fail "no figures: $OUT"
note "healthdog-ostree status --json: peak RSS ${status_kb} kB, $(awk '$1 == "status" { print $3 }' <<<"$OUT") s"
note "healthdog-ostree remove-failed: peak RSS ${remove_kb} kB, $(awk '$1 == "remove" { print $3 }' <<<"$OUT") s"
[ "$remove_kb" -lt 65536 ] || fail "remove-failed peaked at ${remove_kb} kB"
expect_deployments "$S" 2 1

if [ -x "$DAEMON" ]; then
        mkdir -p "$T/state"
        touch "$T/present"
        cat >"$T/healthdog.conf" <<CONF
[watchdog]
device = none

[supervisor]
state-directory = $T/state

[check.file]
type = file
path = $T/present
interval = 100ms
CONF
        chmod 0644 "$T/healthdog.conf"
        "$DAEMON" run -c "$T/healthdog.conf" 2>"$T/daemon.log" &
        pid=$!
        sleep 1.5
        hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
        kill -TERM "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        [ -n "$hwm" ] || fail "the daemon did not run: $(cat "$T/daemon.log")"
        note "healthdog run (idle, one file check): peak RSS ${hwm} kB"
        note "the helper peaks at $(awk -v a="$remove_kb" -v b="$hwm" 'BEGIN { printf "%.1f", a / b }')x the daemon, for its short life only"
fi
echo "PASS"
