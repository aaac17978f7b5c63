#!/bin/bash
# An exec probe that hangs (and leaves a grandchild behind in its group) is killed at its
# timeout, every run, without ever delaying a ping; as a required check it then stops the feeding.
source "$(dirname "$0")/lib.sh"

INTERVAL=0.5    # the probe's interval
TIMEOUT=0.3     # the probe's timeout
RUNS=5          # runs watched in phase 1

# The probe: notes when it started and whether a process of the run before is still alive (not a
# zombie), leaves a grandchild behind and hangs. Its processes' pids go to $T/pids for the next
# run. Everything it runs has $T/bin/ in its command line, for pgrep.
mkdir -p "$T/bin"
ln -s "$(command -v sleep)" "$T/bin/hang"
cat >"$T/bin/probe" <<EOF
#!/bin/sh
t=\$($MONOTIME)
for p in \$(cat "$T/pids" 2>/dev/null); do
        s=\$(awk '{ print \$3 }' /proc/\$p/stat 2>/dev/null)
        [ -n "\$s" ] && [ "\$s" != Z ] && echo "\$t \$p \$s" >>"$T/survivors"
done
$T/bin/hang 30 &
g=\$!
$T/bin/hang 30 &
c=\$!
echo "\$\$ \$g \$c" >"$T/pids"
echo "\$t \$\$" >>"\$1"
wait \$c
EOF
chmod +x "$T/bin/probe"

# config REQUIRED STARTS-FILE
config() {
        write_config <<EOF
[watchdog]
device = $DEV
timeout = 1s
interval = 100ms

[supervisor]
state-directory = $STATE
startup-grace = 0

[check.slow]
type = exec
command = $T/bin/probe $2
interval = 500ms
timeout = 300ms
fail-after = 2
required = $1
EOF
}

# Phase 1: not required, so it is only reported; several runs, each killed on time.
config no "$T/starts"
start_standin 1
LOG_LEVEL=debug start_daemon
t0=$(now)
wait_until 60 log_count_ge "$T/starts" . "$((RUNS + 1))" || fail "fewer than $((RUNS + 1)) runs within 60 s"
t1=$(now)

# Killed at the timeout, every run, the grandchild too: when a run starts (an interval after the
# one before, whose timeout is shorter), no process of the run before is alive. How soon after the
# timeout they are gone depends on the machine's load and is not judged here.
runs=$(wc -l <"$T/starts")
note "runs started at: $(cut -d' ' -f1 "$T/starts" | tr '\n' ' ')"
assert_cmp "runs checked by the run after them" "$((runs - 1))" ">=" "$RUNS"
[ -e "$T/survivors" ] && fail "probe processes alive when the next run started (time pid state): $(cat "$T/survivors")"
note "ok: no probe process of a run was alive when the next one started"
assert_fed "hung probes" "$t0" "$t1" 0.1
assert_cmp "RESET events" "$(count_events RESET)" "==" 0
assert_grep "$DAEMON_LOG" "^<5>Wanted check 'slow' failed \\(1 of 2 before it counts\\): timed out after 300ms$"
assert_grep "$DAEMON_LOG" "^<4>Wanted check 'slow' is now failing: timed out after 300ms$"
assert_no_grep "$DAEMON_LOG" "^<2>"
stop_daemon 0
# One line a run: the first failures at notice, the crossing at warning, the later ones at debug.
assert_cmp "runs timed out (log)" "$(grep -Ec "^<[457]>.*'slow'.*: timed out after 300ms$" "$DAEMON_LOG")" ">=" "$RUNS"
stop_standin
wait_until 10 no_process "$T/bin/" || fail "probe processes outlived the daemon: $(pgrep -af -- "$T/bin/"); runs started at: $(echo $(cat "$T"/starts*))"

# Phase 2: required with fail-after 2: the second timeout stops the feeding.
DAEMON_LOG=$T/daemon2.log
config yes "$T/starts2"
start_standin 1 "$T/standin2.log"
start_daemon
wait_for_log "$DAEMON_LOG" "^<2>Required check 'slow' is failing" 10
wait_for_log "$STANDIN_LOG" ' RESET ' 10
load_reason
crossing=$CROSSING
first_run=$(head -n 1 "$T/starts2" | cut -d" " -f1)
last=$(last_ping)
note "first run at $first_run, crossing at $crossing, last ping $last, RESET $(event_time RESET)"
# The second run's timeout stops the feeding (counted in the log: a probe killed at its timeout
# may not have had the time to note its start on a loaded machine).
fails=$(awk "/^<2>Required check 'slow' is failing/ { exit }
        /^<[35]>Required check 'slow' (failed \\([0-9]+ of 2 |is now failing)/ { n++ } END { print n + 0 }" "$DAEMON_LOG")
assert_cmp "timed-out runs before the feeding stopped" "$fails" "==" 2
assert_fed "until the crossing" "$(first_ping)" "$crossing"
assert_cmp "pings after the crossing" "$(pings "$(calc "$crossing + 0.05")")" "==" 0
assert_cmp "RESET - last ping (s)" "$(calc "$(event_time RESET) - $last")" "<=" 1.5
[ "$REASON_CHECK" = slow ] || fail "check in reset-reason.json: $(cat "$REASON")"
[ "$REASON_DETAIL" = "timed out after 300ms" ] || fail "detail in reset-reason.json: $(cat "$REASON")"
stop_daemon 0
wait_until 10 no_process "$T/bin/" || fail "probe processes outlived the daemon: $(pgrep -af -- "$T/bin/"); runs started at: $(echo $(cat "$T"/starts*))"
echo "PASS"
