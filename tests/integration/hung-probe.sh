#!/bin/bash
# An exec probe that hangs (and leaves a grandchild behind in its group) is killed at its
# timeout, every run, without ever delaying a ping; as a required check it then stops the feeding.
source "$(dirname "$0")/lib.sh"

PING=0.1
INTERVAL=0.5    # the probe's interval
TIMEOUT=0.3     # the probe's timeout
KILL_SLACK=0.15

# The probe: notes when it started, leaves a grandchild behind and hangs. Everything it runs
# has $T/bin/ in its command line, for pgrep.
mkdir -p "$T/bin"
ln -s "$(command -v sleep)" "$T/bin/hang"
cat >"$T/bin/probe" <<EOF
#!/bin/sh
echo "\$($MONOTIME) \$\$" >>"\$1"
$T/bin/hang 30 &
$T/bin/hang 30
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

# sample UNTIL: every ~20 ms, "<t> <pid>:<process group>..." of the probe processes alive, to
# $T/samples. Each run is a process group led by the probe's shell (healthdog calls setsid()), so
# the group says which run a process belongs to, whatever the timing.
sample() {
        while awk -v a="$(now)" -v b="$1" 'BEGIN { exit !(a < b) }'; do
                echo "$(now) $(ps -eo pid=,pgid=,args= | awk -v d="$T/bin/" 'index($0, d) { printf "%s:%s ", $1, $2 }')" \
                        >>"$T/samples"
                sleep 0.02
        done
}

# Phase 1: not required, so it is only reported; several runs, each killed on time.
config no "$T/starts"
start_standin 1
start_daemon
t0=$(now)
sample "$(calc "$t0 + 2.4")"
t1=$(now)

runs=$(wc -l <"$T/starts")
assert_cmp "probe runs" "$runs" ">=" 4
# Each probe process: "<pid> <run start> <seconds from the run start to the last sample that saw
# it>", the run found by the process group (the shell's pid, which it noted with its start).
lifetimes=$(awk 'NR == FNR { start[$2] = $1; next }
        { for (i = 2; i <= NF; i++) { split($i, a, ":"); group[a[1]] = a[2]; last[a[1]] = $1 } }
        END { for (p in last) if (group[p] in start)
                      printf "%s %s %.6f %d\n", p, start[group[p]], last[p] - start[group[p]], p == group[p] }' \
        "$T/starts" "$T/samples")
note "probe pids, run start, last seen after: $(echo $lifetimes)"
assert_cmp "probe processes seen (sh, child, grandchild per run)" "$(echo "$lifetimes" | grep -c .)" ">=" "$((3 * (runs - 1)))"
assert_cmp "longest probe lifetime (s)" "$(echo "$lifetimes" | sort -k3 -n | tail -n 1 | cut -d' ' -f3)" \
        "<=" "$(calc "$TIMEOUT + $KILL_SLACK")"
# Not killed early either (runs that had the time to reach their timeout while sampled): last
# seen no earlier than the timeout less one sampling period.
period=$(awk 'NR > 1 && $1 - prev > max { max = $1 - prev } { prev = $1 } END { printf "%.6f\n", max }' "$T/samples")
note "longest sampling period: $period s"
# The shell's own short-lived helper (the subshell of its $(monotime), gone before the start is
# noted) is no probe process that could be killed early: it is left out, the shell never is.
assert_cmp "shortest probe lifetime (s)" "$(echo "$lifetimes" | awk -v end="$t1" -v to="$TIMEOUT" \
        '$2 + to + 0.1 < end + 0 && ($3 > 0.05 || $4)' | sort -k3 -n | head -n 1 | cut -d' ' -f3)" ">=" \
        "$(calc "$TIMEOUT - $period - 0.05")"
assert_cmp "max gap between pings (s)" "$(max_gap "$t0" "$t1")" "<=" "$(calc "$PING + 0.15")"
assert_cmp "pings" "$(pings "$t0" "$t1")" ">=" "$(awk -v e="$(calc "$t1 - $t0")" 'BEGIN { printf "%d\n", e / 0.1 - 1 }')"
assert_cmp "RESET events" "$(count_events RESET)" "==" 0
assert_grep "$DAEMON_LOG" "^<5>Wanted check 'slow' failed \\(1 of 2 before it counts\\): timed out after 300ms$"
assert_grep "$DAEMON_LOG" "^<4>Wanted check 'slow' is now failing: timed out after 300ms$"
assert_no_grep "$DAEMON_LOG" "^<2>"
stop_daemon 0
stop_standin
wait_until 1 no_process "$T/bin/" || fail "probe processes outlived the daemon: $(pgrep -af -- "$T/bin/"); runs started at: $(echo $(cat "$T"/starts*))"

# Phase 2: required with fail-after 2: the second timeout stops the feeding.
DAEMON_LOG=$T/daemon2.log
config yes "$T/starts2"
start_standin 1 "$T/standin2.log"
start_daemon
wait_for_log "$DAEMON_LOG" "^<2>Required check 'slow' is failing" 3
wait_for_log "$STANDIN_LOG" ' RESET ' 3
load_reason
crossing=$CROSSING
first_run=$(head -n 1 "$T/starts2" | cut -d" " -f1)
last=$(last_ping)
note "first run at $first_run, crossing at $crossing, last ping $last, RESET $(event_time RESET)"
assert_cmp "crossing - first run (s)" "$(calc "$crossing - $first_run")" ">=" "$(calc "$INTERVAL + $TIMEOUT - 0.05")"
assert_cmp "crossing - first run (s)" "$(calc "$crossing - $first_run")" "<=" "$(calc "$INTERVAL + $TIMEOUT + 0.15")"
assert_cmp "max gap until the crossing (s)" "$(max_gap -1 "$crossing")" "<=" "$(calc "$PING + 0.15")"
assert_cmp "pings after the crossing" "$(pings "$(calc "$crossing + 0.05")")" "==" 0
assert_cmp "RESET - last ping (s)" "$(calc "$(event_time RESET) - $last")" "<=" 1.1
[ "$REASON_CHECK" = slow ] || fail "check in reset-reason.json: $(cat "$REASON")"
[ "$REASON_DETAIL" = "timed out after 300ms" ] || fail "detail in reset-reason.json: $(cat "$REASON")"
stop_daemon 0
wait_until 1 no_process "$T/bin/" || fail "probe processes outlived the daemon: $(pgrep -af -- "$T/bin/"); runs started at: $(echo $(cat "$T"/starts*))"
echo "PASS"
