#!/bin/bash
# type=loadavg against the real /proc/loadavg: limits above and below the load the test reads,
# the 15min period, and per-cpu dividing by the online CPUs.
source "$(dirname "$0")/lib.sh"

load() { awk -v f="$1" '{ print $f }' /proc/loadavg; }
# in_range VALUE A B: VALUE lies between the readings A and B taken before and after it, give or
# take 0.01 (the kernel moves the figures every 5 s, up or down: other work on the machine counts).
in_range() {
        awk -v v="$1" -v a="$2" -v b="$3" 'BEGIN { lo = a < b ? a : b; hi = a < b ? b : a
                exit !(v >= lo - 0.011 && v <= hi + 0.011) }'
}

load_at_least() { awk -v l="$(load 1)" -v m="$1" 'BEGIN { exit !(l >= m) }'; }

# A measurable load: busy loops until the 1min figure is at least 0.30 (each 5 s sample adds
# about 8% of the running tasks). They stop before the checks; the load then mostly decays.
if ! load_at_least 0.30; then
        for _ in 1 2 3 4; do
                timeout 12 sh -c 'while :; do :; done' &
                lib_pids+=($!)
        done
        wait_until 12 load_at_least 0.30 || fail "the 1min load stayed at $(load 1) with 4 busy loops for 12 s"
        for pid in "${lib_pids[@]}"; do kill "$pid" 2>/dev/null; done
        wait 2>/dev/null
        lib_pids=()
fi
L=$(load 1)
CPUS=$(getconf _NPROCESSORS_ONLN)
note "load $(cat /proc/loadavg), $CPUS online CPUs"

above=$(awk -v l="$L" 'BEGIN { printf "%.2f\n", l + 50 }')
# 70% of the load: the load cannot decay that far in the second the checks take.
below=$(awk -v l="$L" 'BEGIN { printf "%.2f\n", l * 0.7 }')

write_config <<EOF
[watchdog]
device = none

[check.above]
type = loadavg
max-load = $above

[check.below]
type = loadavg
max-load = $below

[check.zero]
type = loadavg
max-load = 0

[check.quarter-hour]
type = loadavg
max-load = 1000
period = 15min

[check.per-cpu]
type = loadavg
max-load = $below
per-cpu = yes

[check.per-cpu-low]
type = loadavg
max-load = 0.001
per-cpu = yes
EOF

n='([0-9]+\.[0-9]{2})'
a=$(load 1)
expect_check above 0 "load $n <= max $above \(1min\)"
in_range "${BASH_REMATCH[1]}" "$(load 1)" "$a" || fail "reported load ${BASH_REMATCH[1]}, /proc/loadavg said $a then $(load 1)"
a=$(load 1)
expect_check below 1 "load $n > max $below \(1min\)"
in_range "${BASH_REMATCH[1]}" "$(load 1)" "$a" || fail "reported load ${BASH_REMATCH[1]}, /proc/loadavg said $a then $(load 1)"
expect_check zero 1 "load $n > max 0.00 \(1min\)"

# The 15min figure, not the 1min one: after the busy loops they differ.
a=$(load 3)
expect_check quarter-hour 0 "load $n <= max 1000.00 \(15min\)"
in_range "${BASH_REMATCH[1]}" "$(load 3)" "$a" || fail "reported 15min load ${BASH_REMATCH[1]}, /proc/loadavg said $a then $(load 3)"

# per-cpu: the same limit that fails for the whole system passes per CPU when there are two or more.
c='CPUs?'
# Divided, the figure may need a third decimal: 0.71 / 2 = 0.355.
p='([0-9]+\.[0-9]{2,3})'
if [ "$CPUS" -ge 2 ]; then
        expect_check per-cpu 0 "load $n / $CPUS $c = $p <= max $below \(1min\)"
else
        expect_check per-cpu 1 "load $n / 1 CPU = $p > max $below \(1min\)"
fi
awk -v l="${BASH_REMATCH[1]}" -v p="${BASH_REMATCH[2]}" -v n="$CPUS" 'BEGIN { exit !(p <= l / n && p > l / n - 0.01) }' ||
        fail "per-CPU load ${BASH_REMATCH[2]} is not ${BASH_REMATCH[1]} / $CPUS"
expect_check per-cpu-low 1 "load $n / $CPUS $c = $p > max 0.001 \(1min\)"

check_sanitizers
echo "PASS"
