#!/bin/bash
# start-delay= delays a check's first run: an exec probe that writes the time of each run to a
# file first runs DELAY after the daemon started, not before; until then status --json shows it
# pending, with no run and no result, while a check without a delay has run many times and the
# pings go on as usual.
source "$(dirname "$0")/lib.sh"

command -v python3 >/dev/null || skip "python3 missing"
DELAY=6

write_config <<CONF
[watchdog]
device = $DEV
timeout = 2s
interval = 100ms

[supervisor]
state-directory = $STATE
runtime-directory = $T/run
startup-grace = 0

[check.delayed]
type = exec
command = /bin/sh -c '$MONOTIME >>$T/delayed-runs'
start-delay = ${DELAY}s
interval = 500ms

[check.prompt]
type = exec
command = /bin/sh -c '$MONOTIME >>$T/prompt-runs'
interval = 200ms
CONF

# status_json FILE: the daemon's status document.
status_json() {
        "$HEALTHDOG" status --json -c "$CONF" >"$1" 2>"$T/status-cli.log" ||
                fail "healthdog status --json: exit $?: $(cat "$T/status-cli.log")"
}
start_standin 2
t_start=$(now)
start_daemon

# Inside the delay: nothing has run yet, and the status says so (one document, read at once).
sleep 1
status_json "$T/s1.json"
t=$(now)
[ "$(calc "$t - $t_start < $DELAY - 0.5")" = 1.000000 ] ||
        skip "this machine is too slow to look inside the delay ($(calc "$t - $t_start") s after the start)"
[ -e "$T/delayed-runs" ] && fail "the delayed check ran $(calc "$(head -n 1 "$T/delayed-runs") - $t_start") s after the start"
summary=$(python3 - "$T/s1.json" <<'PY'
import json, sys
d = {c["name"]: c for c in json.load(open(sys.argv[1]))["checks"]}
c = d["delayed"]
print(c["runs"], c["state"], c["result"], json.dumps(c["last_run_usec"]), d["prompt"]["runs"] >= 2)
PY
) || fail "cannot read $T/s1.json: $(cat "$T/s1.json")"
[ "$summary" = "0 pending none null True" ] ||
        fail "inside the delay: delayed runs, state, result, last run, prompt ran: '$summary', expected '0 pending none null True'"
note "ok: $(calc "$t - $t_start") s after the start: delayed runs 0, pending, result none, no last run; the prompt check ran"

wait_until $((DELAY + 3)) test -s "$T/delayed-runs" || fail "the delayed check never ran"
first=$(head -n 1 "$T/delayed-runs")
note "daemon started at $t_start, delayed check first ran at $first, prompt check at $(head -n 1 "$T/prompt-runs")"
assert_cmp "first run of the delayed check - start (s)" "$(calc "$first - $t_start")" ">=" "$DELAY"
assert_cmp "first run of the delayed check - start (s)" "$(calc "$first - $t_start")" "<" "$(calc "$DELAY + 2")"
assert_cmp "first run of the prompt check - start (s)" "$(calc "$(head -n 1 "$T/prompt-runs") - $t_start")" "<" 2
# After the delay it runs at its interval.
wait_until 3 log_count_ge "$T/delayed-runs" . 3 || fail "the delayed check did not go on running"
status_json "$T/s3.json"
summary=$(python3 - "$T/s3.json" <<'PY'
import json, sys
c = {c["name"]: c for c in json.load(open(sys.argv[1]))["checks"]}["delayed"]
print(c["state"], c["result"], c["runs"] >= 3)
PY
) || fail "cannot read $T/s3.json: $(cat "$T/s3.json")"
[ "$summary" = "healthy pass True" ] || fail "after the delay: '$summary', expected 'healthy pass True'"
note "ok: after the delay: healthy, pass, 3 runs or more"
assert_cmp "longest ping gap (s)" "$(max_gap "$(first_ping)" "$(now)")" "<" 0.5
stop_daemon 0
echo "PASS"
