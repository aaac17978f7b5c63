#!/bin/bash
# pretimeout= on a device that cannot do it: the stand-in is a FIFO, which answers every watchdog
# ioctl (WDIOC_SETPRETIMEOUT included) with ENOTTY. The daemon must say the pretimeout is not
# supported and keep going: it arms the device, pings it at its interval, and status says it
# feeds. (The stand-in cannot answer ioctls, so a device that takes the pretimeout is left to
# the VM tests.)
source "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || skip "python3 missing"

write_config <<CONF
[watchdog]
device = $DEV
timeout = 3s
pretimeout = 1s
interval = 200ms

[supervisor]
state-directory = $STATE
runtime-directory = $T/run
startup-grace = 0

[check.app]
type = file
path = $T/app
interval = 200ms
CONF

touch "$T/app"
start_standin 3
start_daemon
t0=$(now)
sleep 2
t1=$(now)
alive "$DAEMON_PID" || fail "the daemon exited"
assert_grep "$DAEMON_LOG" "^<6>Armed '${DEV//./\\.}', timeout 3s"
assert_grep "$DAEMON_LOG" "^<4>'${DEV//./\\.}' answers no watchdog ioctl"
assert_cmp "pings in 2 s (interval 200ms)" "$(pings "$t0" "$t1")" ">=" 7
assert_cmp "longest ping gap (s)" "$(max_gap "$t0" "$t1")" "<" 0.6
assert_cmp "RESET events" "$(count_events RESET)" "==" 0
"$HEALTHDOG" status --json -c "$CONF" >"$T/status.json" 2>"$T/status-cli.log" || fail "status --json failed"
python3 - "$T/status.json" <<'PY' || fail "status: $(cat "$T/status.json")"
import json, sys
w = json.load(open(sys.argv[1]))["watchdog"]
assert w["feeding"] is True, w
PY
note "ok: status says it feeds"
stop_daemon 0
assert_no_grep "$DAEMON_LOG" "^<[0-3]>"

# What the pretimeout became must be in the log: asked for, not supported. (The paths name this
# test, and so contain "pretimeout" themselves: they are taken out first.)
sed "s|$T|\$T|g" "$DAEMON_LOG" >"$T/messages"
assert_grep "$T/messages" "^<4>.*(pretimeout.*(not supported|unsupported)|does not support a pretimeout)"
echo "PASS"
