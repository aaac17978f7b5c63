#!/bin/bash
# type=process against real processes: pidfiles of a live, a dead, a zombie and a recycled-looking
# pid, and processes found by name (a copy of sleep under a name of its own), with min-count.
source "$(dirname "$0")/lib.sh"

# Starts a process in the background, remembered for cleanup; its pid in $!.
bg() {
        "$@" &
        lib_pids+=($!)
}

# The wall-clock time a process started, in seconds: boot time + its start in clock ticks.
start_time() {
        awk -v tck="$(getconf CLK_TCK)" -v up="$(cut -d' ' -f1 /proc/uptime)" -v now="$(date +%s.%N)" '
                { sub(/.*\) /, ""); printf "%.6f\n", now - up + $20 / tck; exit }' "/proc/$1/stat"
}

write_config <<EOF
[watchdog]
device = none

[check.live]
type = process
pidfile = $T/live.pid

[check.dead]
type = process
pidfile = $T/dead.pid

[check.zombie]
type = process
pidfile = $T/zombie.pid

[check.missing]
type = process
pidfile = $T/missing.pid

[check.garbage]
type = process
pidfile = $T/garbage.pid

[check.recycled]
type = process
pidfile = $T/recycled.pid

[check.recycled-unchecked]
type = process
pidfile = $T/recycled.pid
check-start-time = no

[check.init]
type = process
pidfile = $T/init.pid
EOF

# ---- pidfiles

bg sleep 30
live=$!
echo "$live" >"$T/live.pid"
expect_check live 0 "pid $live \(sleep\) alive"

# A pid that really ended (and was reaped): no process of that number now.
sleep 30 &
dead=$!
kill -KILL "$dead"
wait "$dead" 2>/dev/null
[ -e "/proc/$dead" ] && fail "pid $dead is still there after kill and wait"
printf '%s\n' "$dead" >"$T/dead.pid"
expect_check dead 1 "pidfile names pid $dead, not running"

# A zombie: the child of a parent (sleep, after exec) that never reaps it. The child lives a
# second, so that it ends after the exec also on a loaded machine (bash would reap it).
bg bash -c "sleep 1 & echo \$! >'$T/zombie.pid'; exec sleep 30"
wait_until 10 test -s "$T/zombie.pid" || fail "no zombie pidfile"
zombie=$(cat "$T/zombie.pid")
wait_until 10 grep -q ') Z ' "/proc/$zombie/stat" || fail "pid $zombie did not become a zombie"
expect_check zombie 1 "pidfile names pid $zombie \(sleep\), a zombie"

expect_check missing 1 "$T/missing.pid: No such file or directory"
printf 'not a pid\n' >"$T/garbage.pid"
expect_check garbage 1 "$T/garbage.pid does not hold a pid"
printf -- '-5\n' >"$T/garbage.pid"
expect_check garbage 1 "$T/garbage.pid does not hold a pid"
: >"$T/garbage.pid"
expect_check garbage 1 "$T/garbage.pid does not hold a pid"

# A recycled pid: the pidfile was written a minute before its process started, as happens when a
# service died and a later process got its number.
uptime=$(cut -d' ' -f1 /proc/uptime)
if awk -v u="$uptime" 'BEGIN { exit !(u > 90) }'; then
        echo "$live" >"$T/recycled.pid"
        started=$(start_time "$live")
        touch -d "@$(calc "$started - 60")" "$T/recycled.pid"
        expect_check recycled 1 "pid $live \(sleep\) started (59s|1min) after the pidfile was written: recycled pid"
        expect_check recycled-unchecked 0 "pid $live \(sleep\) alive"
        # Written 5 s before the start, within the tolerance for coarse timestamps: still the same.
        touch -d "@$(calc "$started - 5")" "$T/recycled.pid"
        expect_check recycled 0 "pid $live \(sleep\) alive"
else
        note "skipped the recycled-pid case: up only ${uptime}s, it needs a pidfile time after boot"
fi

# pid 1 with a pidfile "older than the boot": on a board without a real-time clock that is
# what every early pidfile looks like once the clock is set. Not compared, so not a failure.
echo 1 >"$T/init.pid"
touch -d "2001-01-01" "$T/init.pid"
expect_check init 0 "pid 1 \(.+\) alive"

# ---- by name

name=hd-$$-$RANDOM
name=${name:0:15}
cp /bin/sleep "$T/$name"
write_config <<EOF
[watchdog]
device = none

[check.one]
type = process
name = $name

[check.two]
type = process
name = $name
min-count = 2
EOF

expect_check one 1 "no process named '$name'"
bg "$T/$name" 30
first=$!
wait_until 10 grep -q "($name)" "/proc/$first/stat" || fail "pid $first is not named $name"
expect_check one 0 "pid $first \($name\) alive"
expect_check two 1 "1 process named '$name' alive, min 2"
bg "$T/$name" 30
second=$!
wait_until 10 grep -q "($name)" "/proc/$second/stat" || fail "pid $second is not named $name"
expect_check two 0 "2 processes named '$name' alive \(min 2\)"
expect_check one 0 "2 processes named '$name' alive \(min 1\)"

kill -KILL "$first" "$second"
wait "$first" "$second" 2>/dev/null
expect_check one 1 "no process named '$name'"

# A zombie of that name does not count (it ends a second after the exec, as above).
bg bash -c "'$T/$name' 1 & exec sleep 30"
wait_until 10 bash -c "grep -ls '($name) Z ' /proc/[0-9]*/stat | grep -q ." || fail "no zombie named $name"
expect_check one 1 "no process named '$name' \(only zombies\)"

check_sanitizers
echo "PASS"
