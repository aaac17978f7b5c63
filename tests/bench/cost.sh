# shellcheck shell=bash disable=SC2154 # run's and peer.sh's globals (OUT, P, SUTS, SUT_PID, ...)
# Sourced by tests/bench/run after peer.sh (BENCH_ONLY=cost): what one check cycle costs
# healthdog and the peer, counted rather than timed, so that the machine's load does not enter
# it. The same sandboxes, probes and stand-ins as peer.sh, in two runs of both daemons at once:
#
#   1. each daemon under valgrind's callgrind: after the warm-up its counts are zeroed, after the
#      window dumped; user-space instructions (the program and its libraries) per ping. The
#      children (the test program) run natively, not counted: their pre-exec part runs in the
#      child valgrind leaves at exec, so none of it is in the dump either;
#   2. each daemon natively under `strace -ff`: its own system calls per ping, and apart those of
#      its children (the forked child before exec, then the test program).
#
# A cycle is one run of the test program, the one probe both run exactly once a cycle (not the
# pings: the peer also pings while it waits for its children, and under valgrind its cycle,
# sleep(interval) after the probes, is longer than a second). Under callgrind the test program
# counts its runs in a file; under strace they are its execve()s in the traces. Writes
# COST_ROWS (the table) and, per daemon, $OUT/cost-NAME-functions.txt (callgrind's functions by
# own instructions, per cycle), cost-NAME-syscalls.txt (per system call, per cycle, daemon and
# children) and the raw dumps and traces.

COST_ROWS=$OUT/cost-table.txt
COST_WARMUP=${BENCH_COST_WARMUP:-10}

# test_runs NAME: how often NAME's test program ran so far (cost_callgrind makes it count).
test_runs() { wc -l <"$P/$1/test-runs"; }
# inner_pid PID: PID's number in its own (the sandbox's) PID namespace.
inner_pid() { awk '$1 == "NSpid:" { print $NF }' "/proc/$1/status"; }
# in_sandbox NAME COMMAND...: COMMAND in NAME's PID and mount namespaces (callgrind_control finds
# valgrind by the pid it knows itself by).
in_sandbox() {
        local name=$1
        shift
        nsenter -t "${SUT_PID[$name]}" -p -m -- "$@"
}

# cost_callgrind: part 1; "NAME INSTRUCTIONS CYCLES" lines in $OUT/cost-instructions.txt.
cost_callgrind() {
        local name dump total
        local -A from
        peer_setup
        for name in "${SUTS[@]}"; do
                : >"$P/$name/test-runs"
                printf 'echo >>%s\n' "$P/$name/test-runs" >>"$P/$name/app-test"
        done
        rm -f "$OUT"/cost-*-callgrind.* "$OUT"/peer-*-standin.log
        for name in "${SUTS[@]}"; do
                SUT_COMM[$name]=callgrind-amd64
        done
        # Both are pid 6 in their sandboxes: each its own vgdb FIFOs.
        sut_start healthdog valgrind --tool=callgrind --callgrind-out-file="$OUT/cost-healthdog-callgrind.%p" \
                --vgdb-prefix="$OUT/cost-healthdog-vgdb" \
                "$HEALTHDOG" run -c "$P/healthdog/healthdog.conf"
        sut_start peer valgrind --tool=callgrind --callgrind-out-file="$OUT/cost-peer-callgrind.%p" \
                --vgdb-prefix="$OUT/cost-peer-vgdb" \
                "$PEER" -F -c "$P/peer/watchdog.conf"
        for name in "${SUTS[@]}"; do
                sandbox_verify "${SUT_PID[$name]}"
        done
        # Past start-up (healthdog gives back its start-up pages 5 s after it started).
        sleep "$COST_WARMUP"
        for name in "${SUTS[@]}"; do
                dead "${SUT_PID[$name]}" && fail "$name ended under valgrind: $(cat "$OUT/peer-$name.log")"
                in_sandbox "$name" timeout 30 callgrind_control --vgdb-prefix="$OUT/cost-$name-vgdb" -z "$(inner_pid "${SUT_PID[$name]}")" >>"$OUT/cost-callgrind.log" 2>&1 ||
                        fail "$name: callgrind_control -z failed: $(tail -3 "$OUT/cost-callgrind.log")"
                from[$name]=$(test_runs "$name")
        done
        sleep "$SECONDS_STEADY"
        for name in "${SUTS[@]}"; do
                in_sandbox "$name" timeout 30 callgrind_control --vgdb-prefix="$OUT/cost-$name-vgdb" -d "$(inner_pid "${SUT_PID[$name]}")" >>"$OUT/cost-callgrind.log" 2>&1 ||
                        fail "$name: callgrind_control -d failed: $(tail -3 "$OUT/cost-callgrind.log")"
                # Dumps on request are numbered: NAME's first.
                dump=$OUT/cost-$name-callgrind.$(inner_pid "${SUT_PID[$name]}").1
                wait_until 5 test -s "$dump" || fail "$name: no callgrind dump $dump"
                total=$(awk '$1 == "summary:" || $1 == "totals:" { print $2; exit }' "$dump")
                echo "$name $total $(($(test_runs "$name") - from[$name]))" >>"$OUT/cost-instructions.txt"
                callgrind_annotate --threshold=99 "$dump" 2>/dev/null >"$OUT/cost-$name-functions.txt"
                callgrind_annotate --inclusive=yes --threshold=99 "$dump" 2>/dev/null >"$OUT/cost-$name-functions-inclusive.txt"
        done
        for name in "${SUTS[@]}"; do
                sut_stop "$name"
                unset "SUT_COMM[$name]"
        done
}

# cost_strace: part 2; "NAME DAEMON-SYSCALLS CHILDREN-SYSCALLS CHILDREN CYCLES" lines in
# $OUT/cost-syscalls.txt, and $OUT/cost-NAME-syscalls.txt.
cost_strace() {
        local name pid cycles f who
        local -A tracer
        peer_setup
        rm -f "$OUT"/cost-*-strace.* "$OUT"/peer-*-standin.log
        sut_start healthdog "$HEALTHDOG" run -c "$P/healthdog/healthdog.conf"
        sut_start peer "$PEER" -F -c "$P/peer/watchdog.conf"
        for name in "${SUTS[@]}"; do
                sandbox_verify "${SUT_PID[$name]}"
        done
        sleep 6
        for name in "${SUTS[@]}"; do
                timeout -s INT "$SECONDS_STEADY" strace -qq -ff -o "$OUT/cost-$name-strace" -p "${SUT_PID[$name]}" \
                        2>"$OUT/cost-$name-strace-stderr.txt" &
                tracer[$name]=$!
                lib_pids+=("$!")
        done
        for name in "${SUTS[@]}"; do
                wait "${tracer[$name]}"
        done
        for name in "${SUTS[@]}"; do
                pid=${SUT_PID[$name]}
                dead "$pid" && fail "$name ended under strace: $(cat "$OUT/peer-$name.log")"
                cycles=$(grep -l "^execve(\"$P/$name/app-test\"" "$OUT/cost-$name-strace".* | wc -l)
                [ "$cycles" -gt 0 ] || fail "$name: the test program never ran under strace"
                # One file per process: the daemon's is named after its pid, the rest are its
                # children's. A line that starts with a name and "(" is one system call.
                for f in "$OUT/cost-$name-strace".*; do
                        who=children
                        [ "$f" = "$OUT/cost-$name-strace.$pid" ] && who=daemon
                        sed -n 's/^\([a-z_0-9]*\)(.*/\1/p' "$f" | sed "s/^/$who /"
                done | awk -v c="$cycles" -v name="$name" -v nchildren="$(($(find "$OUT" -maxdepth 1 -name "cost-$name-strace.*" | wc -l) - 1))" '
                        { n[$1, $2]++; total[$1]++; calls[$2] = 1 }
                        END {
                                printf "%-20s %10s %10s   (%s, system calls per cycle, %d cycles)\n", "call", "daemon", "children", name, c
                                for (s in calls)
                                        printf "%-20s %10.2f %10.2f\n", s, n["daemon", s] / c, n["children", s] / c | "sort -k2,2nr -k3,3nr"
                                close("sort -k2,2nr -k3,3nr")
                                printf "%-20s %10.2f %10.2f\n", "total", total["daemon"] / c, total["children"] / c
                                printf "%s %d %d %d %d\n", name, total["daemon"], total["children"], nchildren, c > "/dev/stderr"
                        }' 2>>"$OUT/cost-syscalls.txt" >"$OUT/cost-$name-syscalls.txt"
        done
        for name in "${SUTS[@]}"; do
                sut_stop "$name"
        done
}

cost_table() {
        awk 'function r(a, b) { return b > 0 ? sprintf("%.2f", a / b) : "-" }
        FILENAME ~ /instructions.txt$/ { ir[$1] = $2 / $3; icyc[$1] = $3; next }
        { sc[$1] = $2 / $5; ch[$1] = $3 / $5; forks[$1] = $4 / $5; scyc[$1] = $5 }
        END {
                printf "%-22s %12s %10s %10s %9s %s\n", "per cycle (7 probes)", "instructions", "syscalls",
                        "children", "children", "cycles"
                printf "%-22s %12s %10s %10s %9s %s\n", "", "(user)", "(daemon)", "syscalls", "", "(callgrind, strace)"
                n = split("healthdog peer", who, " ")
                for (i = 1; i <= n; i++)
                        printf "%-22s %12.0f %10.2f %10.2f %9.2f %d, %d\n", who[i] == "peer" ? "Debian watchdog 5.16" : who[i],
                                ir[who[i]], sc[who[i]], ch[who[i]], forks[who[i]], icyc[who[i]], scyc[who[i]]
                printf "%-22s %12s %10s %10s %9s\n", "ratio healthdog/peer", r(ir["healthdog"], ir["peer"]),
                        r(sc["healthdog"], sc["peer"]), r(ch["healthdog"], ch["peer"]), r(forks["healthdog"], forks["peer"])
        }' "$OUT/cost-instructions.txt" "$OUT/cost-syscalls.txt" >"$COST_ROWS"
}

# cost_part: both parts, the table in $COST_ROWS.
cost_part() {
        local tool
        : >"$COST_ROWS"
        for tool in valgrind callgrind_control callgrind_annotate strace nsenter; do
                command -v "$tool" >/dev/null || { echo "no cost comparison: $tool is missing (tests/install-deps bench)" >"$COST_ROWS"; return 0; }
        done
        if [ ! -x "$PEER" ]; then
                echo "no cost comparison: $PEER is missing (tests/install-deps bench installs Debian's watchdog)" >"$COST_ROWS"
                return 0
        fi
        say "cost: healthdog and Debian's watchdog at once, instructions (callgrind) then system calls (strace), ${SECONDS_STEADY}s each"
        : >"$OUT/cost-instructions.txt"
        : >"$OUT/cost-syscalls.txt"
        cost_callgrind
        cost_strace
        cost_table
}
