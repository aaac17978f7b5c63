#!/bin/bash
# `healthdog status` and `healthdog mark-good` against a real U-Boot environment image: the
# running daemon's status in a trial and once confirmed (mark-good clears the variables, read back
# with fw_printenv); the status while the daemon is stopped (the same phase, computed read only:
# the image is byte for byte unchanged); mark-good refused in a steady boot and without a daemon.
source "$(dirname "$0")/lib.sh"

command -v mkenvimage >/dev/null && command -v fw_printenv >/dev/null ||
        skip "mkenvimage (u-boot-tools) or fw_printenv (libubootenv-tool) missing"
command -v python3 >/dev/null || skip "python3 missing"

ENV_IMG=$T/env.img
FW_CONFIG=$T/fw_env.config
echo "$ENV_IMG 0x0 $ENV_SIZE" >"$FW_CONFIG"
CLI_CONF=$CONF

fenv() { fw_printenv -c "$FW_CONFIG" -n "$1" 2>/dev/null; }

expect_out() {
        grep -Eq -- "$1" "$T/out" || fail "no line matching /$1/ in the output of healthdog status:
$OUT"
        note "ok: status shows: $(grep -Em1 -- "$1" "$T/out" | sed 's/^ *//')"
}

write_config <<EOF
[watchdog]
device = $DEV
timeout = 2s
interval = 200ms

[supervisor]
state-directory = $STATE
runtime-directory = $T/run
startup-grace = 0

[bootloader]
type = uboot
fw-env-config = $FW_CONFIG

[assessment]
confirm-after = 1h
trial-timeout = 0
hooks-directory = $T/hooks

[check.app]
type = file
path = $T/app
interval = 100ms

[check.extra]
type = file
path = $T/extra
interval = 100ms
required = no

# Probes print any bytes: the status stays valid JSON (UTF-8), with U+FFFD for what is not.
[check.bytes]
type = exec
command = /bin/sh -c 'printf "caf\\303\\251 \\377 \\342\\202 end"'
# A shell may take hundreds of milliseconds to start on a loaded machine.
interval = 1s
timeout = 900ms
required = no
EOF

echo "1. a trial boot: the running daemon's status"
make_image "$ENV_IMG" upgrade_available=1 bootcount=1 bootlimit=3
touch "$T/app"
start_standin 2
start_daemon
extra_failing() {
        status_json "$T/s.json" && [ "$(js "$T/s.json" '[d["checks"][1]["state"], d["checks"][2]["result"]]')" = '["failing", "pass"]' ]
}
wait_until 20 extra_failing || fail "check 'extra' not failing, or 'bytes' not passed, within 20 s: $(cat "$T/s.json")"
S=$T/s1.json
t_a=$(date +%s.%N)
status_json "$S"
t_b=$(date +%s.%N)
note "status: $(cat "$S")"
expect_js "$S" 'd["version"]' 1
expect_js "$S" 'd["daemon"]' "{\"running\": true, \"pid\": $DAEMON_PID}"
expect_js "$S" 'd["boot"]["phase"]' trial
expect_js "$S" 'd["boot"]["confirmed"]' false
expect_js "$S" 'd["boot"]["degraded"]' false
expect_js "$S" 'd["boot"]["verdict"]' pending
expect_js "$S" 'd["boot"]["env"]' '{"upgrade_available": "1", "bootcount": "1", "bootlimit": "3", "rollback": null}'
expect_js "$S" 'd["boot"]["env_error"]' null
expect_js "$S" 'd["boot"]["boot_id"] == open("/proc/sys/kernel/random/boot_id").read().strip().replace("-", "")' true
expect_js "$S" 'd["watchdog"]["device"]' "$DEV"
expect_js "$S" 'd["checks"][2]["detail"].endswith("caf\u00e9 \ufffd \ufffd\ufffd end")' true
expect_js "$S" 'd["watchdog"]["feeding"]' true
expect_js "$S" 'd["watchdog"]["timeout_usec"]' 2000000
expect_js "$S" 'd["watchdog"]["interval_usec"]' 200000
expect_js "$S" 'd["hold"]' null
expect_js "$S" '[c["name"] for c in d["checks"]]' '["app", "extra", "bytes"]'
expect_js "$S" '[d["checks"][0][k] for k in ("type", "required", "environmental", "state", "result")]' \
        '["file", true, false, "healthy", "pass"]'
expect_js "$S" 'd["checks"][0]["detail"]' "$T/app exists"
expect_js "$S" 'd["checks"][0]["runs"] >= 3 and d["checks"][0]["consecutive_failures"] == 0' true
# The last run (every 100 ms) came before the snapshot, at most seconds before it (load).
expect_js "$S" "$t_a - 5 <= d[\"checks\"][0][\"last_run_usec\"] / 1e6 <= $t_b" true
expect_js "$S" 'd["checks"][0]["duration_usec"] < 1000000 and d["checks"][0]["repairs"] == 0' true
expect_js "$S" '[d["checks"][1][k] for k in ("required", "state", "result")]' '[false, "failing", "fail"]'
expect_js "$S" 'd["checks"][1]["consecutive_failures"] >= 3' true
expect_js "$S" '[(v["phase"], v["verdict"]) for v in d["verdicts"]][-1]' '["trial", "pending"]'
expect_js "$S" 'd["verdicts"][-1]["boot_id"] == d["boot"]["boot_id"]' true

cli status
expect_rc 0 status
echo "$OUT" | sed 's/^/    | /'
expect_out "Daemon: running \(PID $DAEMON_PID\)"
expect_out "Boot: trial \(not confirmed\), verdict pending: on probation"
expect_out "Environment: upgrade_available=1 bootcount=1 bootlimit=3 rollback=\(unset\)"
expect_out "Watchdog: $DEV, timeout 2s, pinged every 200ms: feeding"
expect_out "Hold: none"
expect_out "Checks: 2 of 3 healthy"
expect_out " app +file +required +healthy +pass .*$T/app exists"
expect_out " extra +file +wanted +failing +fail "
expect_out "Verdicts: the last [0-9]+, newest last"

cli status --json=pretty
expect_rc 0 "status --json=pretty"
[ "$(wc -l <"$T/out")" -gt 20 ] || fail "--json=pretty printed $(wc -l <"$T/out") lines"
cp "$T/out" "$T/pretty.json"
# Not an OSTree system here: the deployments cannot be listed, and that is said, not failed.
expect_js "$T/pretty.json" 'list(d)' '["version", "daemon", "boot", "watchdog", "config_error", "config_errors", "hold", "checks", "verdicts", "update", "deployments", "deployments_error"]'
expect_js "$T/pretty.json" '[d["update"], d["deployments"], d["deployments_error"]]' '[null, null, "not an OSTree system (no /run/ostree-booted)"]'
cli status --json --no-deployments
expect_rc 0 "status --json --no-deployments"
cp "$T/out" "$T/nodeploy.json"
expect_js "$T/nodeploy.json" 'list(d)' '["version", "daemon", "boot", "watchdog", "config_error", "config_errors", "hold", "checks", "verdicts", "update"]'
expect_js "$T/pretty.json" 'd["boot"]["phase"]' trial
cli status --json=wide
expect_rc 2 "status --json=wide"

echo "2. mark-good confirms the trial"
t_a=$(date +%s.%N)
cli mark-good
t_b=$(date +%s.%N)
expect_rc 0 mark-good
[ "$(fenv upgrade_available)" = 0 ] || fail "upgrade_available=$(fenv upgrade_available) after mark-good"
[ "$(fenv bootcount)" = 0 ] || fail "bootcount=$(fenv bootcount) after mark-good"
[ "$(fenv bootlimit)" = 3 ] || fail "bootlimit=$(fenv bootlimit) after mark-good"
note "ok: fw_printenv: $(fw_printenv -c "$FW_CONFIG" | tr '\n' ' ')"
assert_grep "$DAEMON_LOG" "^<5>Boot confirmed \(healthdog mark-good\): cleared upgrade_available and bootcount"
S=$T/s2.json
status_json "$S"
expect_js "$S" 'd["boot"]["phase"]' trial
expect_js "$S" 'd["boot"]["confirmed"]' true
expect_js "$S" 'd["boot"]["verdict"]' confirmed
expect_js "$S" 'd["boot"]["verdict_reason"]' "healthdog mark-good"
expect_js "$S" "$t_a <= d[\"boot\"][\"confirmed_usec\"] / 1e6 <= $t_b" true
expect_js "$S" 'd["verdicts"][-1]["verdict"]' confirmed
cli status
expect_out "Boot: trial \(confirmed\), verdict confirmed: healthdog mark-good"
cli mark-good
expect_rc 1 "mark-good (again)"
[ "$ERR" = "healthdog mark-good: already confirmed" ] || fail "unexpected message: $ERR"
stop_daemon
stop_standin

echo "3. the daemon stopped: the status is computed, read only"
# A reason with this boot's id (the kernel's) is this boot's: its reset is still to come.
reason() {
        printf '{"reason":"check-failed","check":"app","detail":"gone","realtime_usec":1700000000000000,"monotonic_usec":5,"boot_id":"%s"}\n' \
                "$1" >"$STATE/reset-reason.json"
}
reason "$(tr -d -- - </proc/sys/kernel/random/boot_id)"
cli status
expect_rc 0 "status (offline, a reset pending in this boot)"
expect_out "Watchdog: .*: not fed by healthdog; a reset was decided earlier in this boot: app: gone"
# One of another boot's id is the previous boot's.
reason 00000000000000000000000000000000
rm -rf "$T/run"
make_image "$ENV_IMG" upgrade_available=1 bootcount=2 bootlimit=3
cp "$ENV_IMG" "$T/env.before"
cp "$STATE/reset-reason.json" "$T/reason.before"
S=$T/s3.json
status_json "$S"
note "status: $(cat "$S")"
expect_js "$S" 'd["daemon"]' '{"running": false}'
expect_js "$S" 'd["boot"]["phase"]' trial
expect_js "$S" 'd["boot"]["env"]' '{"upgrade_available": "1", "bootcount": "2", "bootlimit": "3", "rollback": null}'
expect_js "$S" 'd["boot"]["confirmed"]' false
expect_js "$S" 'd["boot"]["verdict"]' unknown
expect_js "$S" 'd["boot"]["previous_reset"]["check"]' app
expect_js "$S" 'd["watchdog"]["feeding"]' false
expect_js "$S" 'd["watchdog"]["starve_reason"]' null
expect_js "$S" 'd["watchdog"]["timeout_usec"]' 2000000
expect_js "$S" 'd["hold"]' null
expect_js "$S" '[(c["name"], c["state"], c["result"], c["runs"], c["last_run_usec"]) for c in d["checks"]]' \
        '[["app", "pending", "none", 0, null], ["extra", "pending", "none", 0, null], ["bytes", "pending", "none", 0, null]]'
expect_js "$S" 'd["verdicts"][-1]["verdict"]' confirmed
cli status
expect_rc 0 "status (offline)"
echo "$OUT" | sed 's/^/    | /'
expect_out "Daemon: not running"
expect_out "Boot: trial \(not confirmed\), verdict unknown"
expect_out "Environment: upgrade_available=1 bootcount=2 bootlimit=3 rollback=\(unset\)"
expect_out "Last reset: 2023-11-1[45] [0-9:]+ \(check-failed\): check app: gone"
cli mark-good
expect_rc 1 "mark-good (no daemon)"
[[ "$ERR" == "healthdog mark-good: healthdog is not running"* ]] || fail "unexpected message: $ERR"
cmp "$ENV_IMG" "$T/env.before" || fail "the offline status or mark-good changed the environment image"
cmp "$STATE/reset-reason.json" "$T/reason.before" || fail "the offline status took the reset reason"
note "ok: env image and reset-reason.json unchanged ($(stat -c %s "$ENV_IMG") bytes compared)"

echo "4. a steady boot: mark-good is refused"
# Another boot: on a board the kernel's boot id tells it from this one, whose record (a trial)
# a restarted daemon would take over; here the test's one boot forgets its record instead.
rm -f "$STATE/verdicts.jsonl"
make_image "$ENV_IMG" upgrade_available=0 bootcount=0 bootlimit=3
cp "$ENV_IMG" "$T/env.before"
DAEMON_LOG=$T/daemon2.log
start_standin 2 "$T/standin2.log"
start_daemon
S=$T/s4.json
status_json "$S"
expect_js "$S" 'd["boot"]["phase"]' steady
expect_js "$S" 'd["boot"]["confirmed"]' false
# The daemon took the reason of the earlier boot.
expect_js "$S" 'd["boot"]["previous_reset"]["detail"]' gone
[ -e "$STATE/reset-reason.json" ] && fail "the daemon did not take reset-reason.json"
cli mark-good
expect_rc 1 "mark-good (steady)"
[ "$ERR" = "healthdog mark-good: not a trial boot (this boot is steady)" ] || fail "unexpected message: $ERR"
cmp "$ENV_IMG" "$T/env.before" || fail "a refused mark-good changed the environment image"
assert_cmp "RESET events" "$(count_events RESET)" "==" 0
stop_daemon
stop_standin
check_sanitizers
echo "status OK"
