# Sourced by the integration scripts: the daemon against the watchdog stand-in, timed on
# CLOCK_MONOTONIC (the stand-in's log, $MONOTIME and reset-reason.json's monotonic_usec share it).
#
# Globals a script may use: T (its private directory), DEV (the stand-in FIFO), STATE (the state
# directory), CONF (the config), DAEMON_LOG, STANDIN_LOG, DAEMON_PID, STANDIN_PID,
# STANDIN_TIMEOUT, LOAD_SLACK; CHECK_CONF and CLI_CONF for run_check and cli.
# Every wait is bounded; everything started here is stopped on EXIT, by pid. Bounds hold on a
# loaded 2-core machine (see assert_fed and LOAD_SLACK); precise timing is make bench's.

set -u
# A misspelt helper or a missing tool (exit 127) must fail the test, not be skipped over by a
# script that then ends with exit 0.
set -o errtrace
trap 'rc=$?; [ $rc -eq 127 ] && { echo "FAIL: command not found (line $LINENO of $0)"; exit 1; }; true' ERR

lib_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${HEALTHDOG:=$lib_top/build/asan/healthdog}"
: "${STANDIN:=$lib_top/build/tests/wdt-standin}"
: "${MONOTIME:=$lib_top/build/tests/monotime}"
: "${ASAN_OPTIONS:=detect_leaks=1:abort_on_error=0:exitcode=99}"
: "${UBSAN_OPTIONS:=print_stacktrace=1:halt_on_error=1:exitcode=99}"
export ASAN_OPTIONS UBSAN_OPTIONS
if [ -z "${TEST_TMPDIR:-}" ]; then
        TEST_TMPDIR=$(mktemp -d "/tmp/healthdog-test.$(basename "$0" .sh).XXXXXX")
        lib_own_tmpdir=1
fi
# The daemon logs to stderr only when not under systemd, and talks to no service manager here.
unset JOURNAL_STREAM NOTIFY_SOCKET WATCHDOG_USEC WATCHDOG_PID

T=$TEST_TMPDIR
DEV=$T/watchdog
STATE=$T/state
CONF=$T/healthdog.conf
DAEMON_LOG=$T/daemon.log
STANDIN_LOG=$T/standin.log
DAEMON_PID=
STANDIN_PID=
STANDIN_TIMEOUT=
lib_pids=()

for f in "$HEALTHDOG" "$STANDIN" "$MONOTIME"; do
        if [ ! -x "$f" ]; then
                echo "missing $f: build it first (make check)"
                exit 77
        fi
done

now() { "$MONOTIME"; }

# Prints everything a reader needs to see why a test failed, then exits 1.
fail() {
        local f
        echo "FAIL: $*"
        for f in "$T"/*.conf; do
                [ -f "$f" ] && { echo "--- config $f"; cat "$f"; }
        done
        for f in "$T"/*.log; do
                [ -f "$f" ] && { echo "--- $f"; cat "$f"; }
        done
        echo "--- FAIL: $*"
        exit 1
}

skip() {
        echo "SKIP: $*"
        exit 77
}

# Prints a measured figure, so that passing runs document what they saw.
note() { echo "  $*"; }

# assert_cmp LABEL VALUE OP BOUND: numeric comparison (OP one of < <= > >= ==), values may be
# fractional seconds.
assert_cmp() {
        local label=$1 value=$2 op=$3 bound=$4
        if [ -z "$value" ]; then
                fail "$label: no value measured (expected $op $bound)"
        fi
        if awk -v a="$value" -v b="$bound" -v op="$op" 'BEGIN {
                if (op == "<") ok = a + 0 < b + 0; else if (op == "<=") ok = a + 0 <= b + 0;
                else if (op == ">") ok = a + 0 > b + 0; else if (op == ">=") ok = a + 0 >= b + 0;
                else if (op == "==") ok = a + 0 == b + 0; else exit 2;
                exit !ok }'; then
                note "ok: $label = $value ($op $bound)"
        else
                fail "$label = $value, expected $op $bound"
        fi
}

# Arithmetic on seconds: calc 'a - b' with awk.
calc() { awk "BEGIN { printf \"%.6f\n\", $* }"; }

assert_grep() {
        local file=$1 pattern=$2
        grep -Eq -- "$pattern" "$file" || fail "no line matching /$pattern/ in $file"
        note "ok: $(basename "$file") has: $(grep -Em1 -- "$pattern" "$file")"
}

assert_no_grep() {
        local file=$1 pattern=$2
        if grep -Eq -- "$pattern" "$file"; then
                fail "unexpected line in $file: $(grep -Em1 -- "$pattern" "$file")"
        fi
}

# write_config [FILE]: stdin to the config file (default $CONF), which must belong to root and
# not be writable by others, or the daemon refuses it.
write_config() {
        local f=${1:-$CONF}
        cat >"$f.tmp" && chmod 0644 "$f.tmp" && mv "$f.tmp" "$f"
}

# wait_until TIMEOUT CMD...: runs CMD every 20 ms until it succeeds; 1 when TIMEOUT seconds pass.
wait_until() {
        local deadline
        deadline=$(calc "$(now) + $1")
        shift
        while :; do
                "$@" && return 0
                awk -v a="$(now)" -v b="$deadline" 'BEGIN { exit !(a >= b) }' && break
                sleep 0.02
        done
        "$@"
}

# Conditions for wait_until (a "$(...)" argument would be expanded only once).
# healthdog_via NAME CMD...: the path of a wrapper that runs $HEALTHDOG under CMD (which execs
# it, so a daemon started through it keeps its pid): HEALTHDOG=$(healthdog_via ...) start_daemon.
healthdog_via() {
        local w=$T/healthdog-via-$1
        shift
        printf '#!/bin/sh\nexec %s %s "$@"\n' "$*" "$HEALTHDOG" >"$w"
        chmod +x "$w"
        echo "$w"
}
# in_netns NS: $HEALTHDOG inside network namespace NS.
in_netns() { healthdog_via "netns-$1" ip netns exec "$1"; }

no_process() { ! pgrep -f -- "$1" >/dev/null; }
has_process() { pgrep -f -- "$1" >/dev/null; }
log_count_ge() { [ "$(grep -Ec -- "$2" "$1")" -ge "$3" ]; }
pings_ge() { [ "$(pings)" -ge "$1" ]; }

# wait_for_log FILE ERE [TIMEOUT]: waits for a matching line (10 s by default), fails the test if
# none comes. Waits are guards against a hang, not measurements: what a test measures, it
# measures with assert_cmp, with bounds that hold on a loaded machine.
wait_for_log() {
        wait_until "${3:-10}" grep -Eq -- "$2" "$1" || fail "timed out after ${3:-10}s waiting for /$2/ in $1"
}

# True while PID exists and is not a zombie waiting to be reaped.
alive() {
        local state
        state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
        [ -n "$state" ] && [ "$state" != Z ]
}
dead() { ! alive "$1"; }

# wait_exit PID TIMEOUT: waits for a child of this shell to end; sets EXIT_STATUS. Fails the
# test when it is still running after TIMEOUT seconds.
wait_exit() {
        wait_until "$2" dead "$1" || fail "process $1 still running after $2 s"
        { wait "$1"; } 2>/dev/null
        EXIT_STATUS=$?
}

# The stand-in is the measuring instrument: where this machine allows it (root), it runs at
# SCHED_FIFO 90, above everything a test starts, so that load delays the daemon's pings and not
# their timestamps or the stand-in's RESET.
lib_standin_rt=()
chrt -f 90 true 2>/dev/null && lib_standin_rt=(chrt -f 90)

# start_standin TIMEOUT [LOG]: a fresh stand-in on $DEV; returns once it logged READY.
start_standin() {
        [ -n "${2:-}" ] && STANDIN_LOG=$2
        rm -f "$STANDIN_LOG"
        STANDIN_TIMEOUT=$1
        "${lib_standin_rt[@]}" "$STANDIN" --device "$DEV" --timeout "$1" --log "$STANDIN_LOG" &
        STANDIN_PID=$!
        lib_pids+=("$STANDIN_PID")
        wait_for_log "$STANDIN_LOG" ' READY ' 10
}

stop_standin() {
        [ -n "$STANDIN_PID" ] || return 0
        kill -TERM "$STANDIN_PID" 2>/dev/null
        wait_exit "$STANDIN_PID" 10
        STANDIN_PID=
}

# start_daemon [ARGS...]: `healthdog run -c $CONF ARGS` in the background, stderr to
# $DAEMON_LOG (set DAEMON_LOG first for a second run; LOG_LEVEL=debug for more). Returns once it
# is supervising.
start_daemon() {
        rm -f "$DAEMON_LOG"
        HEALTHDOG_LOG_LEVEL=${LOG_LEVEL:-info} "$HEALTHDOG" run -c "$CONF" "$@" 2>"$DAEMON_LOG" &
        DAEMON_PID=$!
        lib_pids+=("$DAEMON_PID")
        wait_until 10 lib_daemon_up_or_gone || fail "the daemon did not start within 10 s"
        if dead "$DAEMON_PID"; then
                wait "$DAEMON_PID"
                fail "the daemon exited with $? at startup"
        fi
}
lib_daemon_up_or_gone() { grep -q '^<6>Supervising ' "$DAEMON_LOG" || dead "$DAEMON_PID"; }

# Sanitizer reports make a test fail even when the behaviour was right.
check_sanitizers() {
        local f
        for f in "$T"/*.log; do
                [ -f "$f" ] || continue
                if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' "$f"; then
                        fail "sanitizer report in $f"
                fi
        done
}

# stop_daemon [EXPECTED_STATUS]: SIGTERM, waits up to 10 s, checks the exit status (default 0).
stop_daemon() {
        local want=${1:-0}
        [ -n "$DAEMON_PID" ] || return 0
        kill -TERM "$DAEMON_PID" 2>/dev/null
        wait_exit "$DAEMON_PID" 10
        DAEMON_PID=
        [ "$EXIT_STATUS" = "$want" ] || fail "the daemon exited with $EXIT_STATUS, expected $want"
        check_sanitizers
}

lib_cleanup() {
        local pid
        for pid in "${lib_pids[@]}"; do
                alive "$pid" && kill -KILL "$pid" 2>/dev/null
        done
        # Probes the daemon left behind: every process whose command line names this directory.
        for pid in $(pgrep -f -- "$T/" 2>/dev/null); do
                [ "$pid" != $$ ] && kill -KILL "$pid" 2>/dev/null
        done
        wait 2>/dev/null
        [ -n "${lib_own_tmpdir:-}" ] && rm -rf "$T"
}
trap "lib_cleanup 2>/dev/null" EXIT

# ---- one check at a time: `healthdog check`

# run_check NAME [CMD...]: `healthdog check -c $CHECK_CONF NAME` (CHECK_CONF defaults to $CONF),
# run under CMD when one is given (`ip netns exec NS`); sets RC, RESULT (the table's RESULT),
# DETAIL (its DETAIL column, as printed), RUN_SECS (its TIME column: the probe's own duration, in
# seconds) and SECS (the wall time of the whole command, process start included). The table is
# left in $T/check.out; a sanitizer report or anything on stderr ($T/check-stderr.log) fails it.
run_check() {
        local name=$1 start
        shift
        start=$(now)
        "$@" "$HEALTHDOG" check -c "${CHECK_CONF:-$CONF}" "$name" >"$T/check.out" 2>"$T/check-stderr.log"
        RC=$?
        SECS=$(calc "$(now) - $start")
        RESULT=$(awk -v n="$name" 'NR > 1 && $1 == n { print $4 }' "$T/check.out")
        DETAIL=$(awk -v n="$name" 'NR == 1 { i = index($0, "DETAIL") } NR > 1 && $1 == n { print substr($0, i) }' \
                "$T/check.out")
        # TIME is "0", "450ms", "1s 209ms", ...: the columns between RESULT and DETAIL.
        RUN_SECS=$(awk -v n="$name" 'NR == 1 { i = index($0, "DETAIL") }
                NR > 1 && $1 == n { split(substr($0, 1, i - 1), f, " +"); t = 0
                        for (k = 5; k in f; k++) { v = f[k] + 0
                                if (f[k] ~ /ms$/) t += v / 1e3; else if (f[k] ~ /us$/) t += v / 1e6
                                else if (f[k] ~ /min$/) t += v * 60
                                else if (f[k] ~ /h$/) t += v * 3600; else t += v }
                        printf "%.6f\n", t }' "$T/check.out")
        check_sanitizers
        [ -s "$T/check-stderr.log" ] && fail "healthdog check $name wrote to stderr: $(cat "$T/check-stderr.log")"
        return 0
}

# expect_check NAME EXIT DETAIL-ERE [CMD...]: run_check; the test fails unless the check exited
# EXIT with a detail matching ^DETAIL-ERE$ (the groups are left in BASH_REMATCH).
expect_check() {
        local name=$1 want_rc=$2 want=$3
        shift 3
        run_check "$name" "$@"
        [ "$RC" = "$want_rc" ] ||
                fail "check $name exited $RC, expected $want_rc: $(cat "$T/check.out" "$T/check-stderr.log")"
        [[ "$DETAIL" =~ ^$want$ ]] || fail "check $name: detail '$DETAIL' does not match /^$want\$/"
        note "ok: $name${1:+ (under $*)}: exit $RC in ${SECS}s: $DETAIL"
}

# assert_gave_up LABEL TIMEOUT: the last run_check gave up at its TIMEOUT (seconds): the probe's
# own time is at least that and within a second of it (scheduling delay), and the command ended
# within 4 s of it (what the probe gave up on would have taken far longer).
assert_gave_up() {
        assert_cmp "$1: probe time (s; timeout $2 s)" "$RUN_SECS" ">=" "$2"
        assert_cmp "$1: probe time (s; timeout $2 s)" "$RUN_SECS" "<" "$(calc "$2 + 1")"
        assert_cmp "$1: wall time of healthdog check (s)" "$SECS" "<" "$(calc "$2 + 4")"
}

# ere_quote TEXT: TEXT as an extended regular expression that matches exactly it.
ere_quote() { printf '%s\n' "$1" | sed 's/[][\.*^$+?(){}|]/\\&/g'; }

# fd_max SECONDS: the most descriptors the daemon held, sampled every 50 ms for that long.
fd_max() {
        local end max=0 n
        end=$(calc "$(now) + $1")
        while awk -v a="$(now)" -v b="$end" 'BEGIN { exit !(a < b) }'; do
                n=$(ls "/proc/$DAEMON_PID/fd" | wc -l)
                [ "$n" -gt "$max" ] && max=$n
                sleep 0.05
        done
        echo "$max"
}

# assert_fds_flat NAME RUNS: the daemon (started with LOG_LEVEL=debug) runs check NAME, every run
# of which times out after 100 ms: the most descriptors it holds (sampled for 0.6 s) after RUNS
# more timed-out runs is at most one more than before them (a run in flight holds one socket,
# which one sampling may catch and the other not; a descriptor leaked per run would show RUNS
# times), and it kept feeding meanwhile.
assert_fds_flat() {
        local t0 early late runs ere="[Cc]heck '$1'.*: timed out after 100ms$"
        t0=$(now)
        sleep 0.3
        early=$(fd_max 0.6)
        runs=$(grep -Ec -- "$ere" "$DAEMON_LOG")
        wait_until 60 log_count_ge "$DAEMON_LOG" "$ere" "$((runs + $2))" ||
                fail "fewer than $2 more timed-out runs of '$1' within 60 s"
        late=$(fd_max 0.6)
        note "most descriptors held: $early early on, $late after $2 more timed-out runs"
        assert_cmp "descriptors gained over $2 timed-out runs" "$((late - early))" "<=" 1
        assert_fed "'$1' timing out" "$t0" "$(now)" 0.1
}

# ---- the command line

# cli ARGS...: `healthdog ARGS`, then `-c $CLI_CONF` when CLI_CONF is set; leaves RC, OUT and ERR
# (also in $T/out and $T/err). A sanitizer report fails the test.
cli() {
        "$HEALTHDOG" "$@" ${CLI_CONF:+-c "$CLI_CONF"} >"$T/out" 2>"$T/err"
        RC=$?
        OUT=$(cat "$T/out")
        ERR=$(cat "$T/err")
        if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' "$T/err"; then
                fail "sanitizer report from healthdog $*: $ERR"
        fi
}

# expect_rc EXIT WHAT: the last cli exited EXIT (WHAT names it in the messages).
expect_rc() {
        [ "$RC" = "$1" ] || fail "healthdog $2: exit $RC, expected $1; stdout: $OUT; stderr: $ERR"
        note "ok: healthdog $2 -> exit $RC${ERR:+: ${ERR%%$'\n'*}}"
}

# expect_err TEXT: the last cli's stderr is exactly TEXT.
expect_err() {
        [ "$ERR" = "$1" ] || fail "stderr is '$ERR', expected '$1'"
}

# status_json FILE: `healthdog status --json` into FILE (exit 0 expected).
status_json() {
        cli status --json
        expect_rc 0 "status --json"
        cp "$T/out" "$1"
}

# js FILE EXPR: EXPR in Python with d = the JSON document in FILE (and the modules time and
# json); a string prints as it is, anything else as JSON (true, null, 3, ...).
js() {
        python3 - "$1" "$2" <<'PY'
import json, sys, time
d = json.load(open(sys.argv[1]))
v = eval(sys.argv[2], {"d": d, "time": time, "json": json})
print(v if isinstance(v, str) else json.dumps(v))
PY
}

# expect_js FILE EXPR VALUE: EXPR on FILE prints VALUE.
expect_js() {
        local got
        got=$(js "$1" "$2") || fail "cannot evaluate $2 on $(cat "$1")"
        [ "$got" = "$3" ] || fail "$2 is '$got', expected '$3'; document: $(cat "$1")"
        note "ok: $2 = $got"
}

# ---- U-Boot environment images

ENV_SIZE=0x4000

# make_image FILE [-r] VAR=VALUE...: an environment image of ENV_SIZE bytes holding exactly these
# variables (-r: one copy of a redundant environment, with its flags byte, 1). Needs mkenvimage.
make_image() {
        local out=$1 redundant=
        shift
        if [ "${1:-}" = -r ]; then
                redundant=-r
                shift
        fi
        printf '%s\n' "$@" >"$T/vars.txt"
        mkenvimage $redundant -s "$ENV_SIZE" -o "$out" "$T/vars.txt" || fail "mkenvimage failed"
}

# ---- the stand-in's log: "<t> PING gap=<s>|-", "<t> MAGIC", "<t> CLOSE magic=yes|no", "<t> RESET gap=<s>"

# pings [FROM [TO]]: number of pings with FROM <= t <= TO.
pings() {
        awk -v from="${1:--1}" -v to="${2:-1e18}" \
                '$2 == "PING" && $1 >= from + 0 && $1 <= to + 0 { n++ } END { print n + 0 }' "$STANDIN_LOG"
}

# max_gap [FROM [TO]]: the longest time without a ping within [FROM, TO]: the gaps of the pings in
# the window, and with TO the stretch from the last ping to TO.
max_gap() {
        awk -v from="${1:--1}" -v to="${2:-}" '
                $2 == "PING" { t = $1 + 0 }
                $2 == "PING" && t >= from + 0 && (to == "" || t <= to + 0) {
                        split($3, g, "="); if (g[2] != "-" && g[2] + 0 > max) max = g[2] + 0; last = t }
                END { if (to != "" && last != "" && to - last > max) max = to - last; printf "%.6f\n", max }' \
                "$STANDIN_LOG"
}

# Seconds a loaded 2-core machine may add to any reaction a test times (a timer firing, a check
# run, a process start, the test noticing): an upper bound on a reaction time is the nominal time
# plus this. The nominal figures themselves are make bench's.
LOAD_SLACK=3

# assert_fed LABEL FROM TO [INTERVAL]: the watchdog was fed throughout [FROM, TO], as a loaded
# 2-core machine can promise it: no RESET, no stretch of the window without a ping as long as 3/4
# of the stand-in's timeout (the daemon pings well inside it), and, given the ping INTERVAL, at
# least half the pings it asks for. How regular the pings are is measured by `make bench`.
assert_fed() {
        local label=$1 from=$2 to=$3 interval=${4:-}
        assert_cmp "$label: longest stretch without a ping (s; timeout ${STANDIN_TIMEOUT}s)" \
                "$(fed_gap "$from" "$to")" "<" "$(calc "$STANDIN_TIMEOUT * 0.75")"
        assert_cmp "$label: RESET events" "$(awk -v f="$from" -v t="$to" \
                '$2 == "RESET" && $1 >= f + 0 && $1 <= t + 0 { n++ } END { print n + 0 }' "$STANDIN_LOG")" "==" 0
        [ -n "$interval" ] && assert_cmp "$label: pings (every ${interval}s)" "$(pings "$from" "$to")" ">=" \
                "$(calc "int(($to - $from) / $interval / 2)")"
        return 0
}
# fed_gap FROM TO: the longest stretch of [FROM, TO] without a ping (FROM to the first ping, between
# pings, the last ping to TO).
fed_gap() {
        awk -v from="$1" -v to="$2" '
                BEGIN { last = from + 0 }
                $2 == "PING" && $1 >= from + 0 && $1 <= to + 0 { if ($1 - last > max) max = $1 - last; last = $1 + 0 }
                END { if (to - last > max) max = to - last; printf "%.6f\n", max }' "$STANDIN_LOG"
}

first_ping() { awk '$2 == "PING" { print $1; exit }' "$STANDIN_LOG"; }

# last_ping [BEFORE]: the time of the last ping (before BEFORE).
last_ping() {
        awk -v before="${1:-1e18}" '$2 == "PING" && $1 < before + 0 { t = $1 } END { print t }' "$STANDIN_LOG"
}

# event_time WORD: the time of the first WORD event (RESET, MAGIC, CLOSE, READY), empty if none.
event_time() { awk -v w="$1" '$2 == w { print $1; exit }' "$STANDIN_LOG"; }

count_events() { awk -v w="$1" '$2 == w { n++ } END { print n + 0 }' "$STANDIN_LOG"; }

# The magic= of the first CLOSE.
close_magic() { awk '$2 == "CLOSE" { sub("magic=", "", $3); print $3; exit }' "$STANDIN_LOG"; }

# ---- reset-reason.json

REASON=$STATE/reset-reason.json

# reason_field KEY: a string or number field of reset-reason.json.
reason_field() {
        [ -f "$REASON" ] || fail "no $REASON"
        sed -n -e "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" -e "t" -e "s/.*\"$1\":\\([0-9][0-9]*\\).*/\\1/p" "$REASON"
}

# The moment the daemon decided to stop feeding, in seconds on the stand-in's clock.
reason_time() { awk -v u="$(reason_field monotonic_usec)" 'BEGIN { printf "%.6f\n", u / 1e6 }'; }

# load_reason: reads reset-reason.json into CROSSING (reason_time), REASON_CHECK and
# REASON_DETAIL; fails the test when it is missing or incomplete.
load_reason() {
        [ -f "$REASON" ] || fail "no $REASON"
        [ -n "$(reason_field monotonic_usec)" ] || fail "no monotonic_usec in $REASON: $(cat "$REASON")"
        CROSSING=$(reason_time)
        REASON_CHECK=$(reason_field check)
        REASON_DETAIL=$(reason_field detail)
        note "reset-reason.json: $(cat "$REASON")"
}
