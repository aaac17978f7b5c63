# shellcheck shell=bash disable=SC2154 # run's globals (top, T, OUT, INTERVAL, ...)
# Sourced by tests/bench/run: healthdog beside a peer, Debian's watchdog 5.16 (issue 18), with the
# same 7 probes at the same interval. Each daemon runs in a sandbox of its own
# (tests/bench/sandbox) with its own copy of the application and its own stand-in, both at once,
# so that the machine's load is the same for both, and both are measured the same way; then both
# applications die and the stand-ins tell when the last ping came. peer_part writes PEER_ROWS for
# the table; cost.sh runs the same set-up under valgrind and strace.
#
# The probes: a heartbeat file that must change within 5 s, the application's pidfile, a ping
# to 127.0.0.1, interface lo, the 1-minute load, available memory, and a test program. The
# application (inside the sandbox, so that the peer's pidfile check sees its pid) writes its pid
# and touches the heartbeat every second.

PEER=${BENCH_PEER:-/usr/sbin/watchdog}
P=$T/peer
PEER_ROWS=$OUT/peer-table.txt
SUTS=(healthdog peer)
declare -A SUT_PID SUT_APP SUT_SANDBOX SUT_STANDIN SUT_COMM

# peer_setup: for each of healthdog and the peer, a directory $P/NAME with the stand-in's FIFO,
# the application's files, the test program and the config.
peer_setup() {
        local memtotal_kb name d
        rm -rf "$P"
        for name in "${SUTS[@]}"; do
                d=$P/$name
                mkdir -p "$d/log" "$d/test.d"
                printf '#!/bin/sh\n# the application'\''s self-test: its heartbeat file is there\ntest -f %s/alive\n' \
                        "$d" >"$d/app-test"
                chmod 0755 "$d/app-test"
        done
        memtotal_kb=$(awk '$1 == "MemTotal:" { print $2 }' /proc/meminfo)
        d=$P/peer
        # min-memory is in pages: 1% of the memory, as healthdog's min-available = 1%. A failure
        # counts after 3 runs in a row, as healthdog's fail-after = 3: the retry timer acts when
        # more than retry-timeout seconds passed since the first failure. No mail (admin =).
        printf '%s\n' "watchdog-device = $d/watchdog" "watchdog-timeout = $((INTERVAL * 3))" \
                "interval = $INTERVAL" "realtime = no" "admin =" "log-dir = $d/log" "test-directory = $d/test.d" \
                "retry-timeout = 1" "file = $d/alive" "change = 5" "pidfile = $d/app.pid" "ping = 127.0.0.1" \
                "interface = lo" "max-load-1 = 100" "min-memory = $((memtotal_kb / 100 / 4))" \
                "test-binary = $d/app-test" "test-timeout = $INTERVAL" >"$d/watchdog.conf"
        d=$P/healthdog
        {
                printf '[watchdog]\ndevice = %s\ntimeout = %ss\ninterval = %ss\n\n' "$d/watchdog" $((INTERVAL * 3)) "$INTERVAL"
                printf '[supervisor]\nstate-directory = %s\nruntime-directory = %s\nstartup-grace = 0\nrealtime-priority = 0\n' \
                        "$d/state" "$d/run"
                printf '\n[check.heartbeat]\ntype = file\npath = %s\nmax-age = 5s\n' "$d/alive"
                printf '\n[check.app-process]\ntype = process\npidfile = %s\n' "$d/app.pid"
                printf '\n[check.loopback-ping]\ntype = ping\nhost = 127.0.0.1\ncount = 1\nreply-timeout = 500ms\n'
                printf '\n[check.loopback]\ntype = link\ninterface = lo\n'
                printf '\n[check.load]\ntype = loadavg\nmax-load = 100\n'
                printf '\n[check.memory]\ntype = memory\nmin-available = 1%%\n'
                printf '\n[check.app-test]\ntype = exec\ncommand = %s\n' "$d/app-test"
        } | sed "/^\[check\./a interval = ${INTERVAL}s" | write_config "$d/healthdog.conf"
}

# sut_start NAME COMMAND...: NAME's stand-in (SCHED_FIFO 90, as start_standin_rt), then COMMAND in
# a sandbox beside NAME's application, stderr to $OUT/peer-NAME.log; the daemon's process is
# the one named SUT_COMM[NAME], by default COMMAND's basename. Sets SUT_PID[NAME] and
# SUT_APP[NAME] (pids outside the sandbox), SUT_SANDBOX[NAME] (unshare's), SUT_STANDIN[NAME].
sut_start() {
        local name=$1 d=$P/$1 log=$OUT/peer-$1-standin.log
        shift
        chrt -f 90 "$STANDIN" --device "$d/watchdog" --timeout "$((INTERVAL * 3))" --log "$log" &
        SUT_STANDIN[$name]=$!
        lib_pids+=("$!")
        wait_until 3 grep -qs ' READY ' "$log" || fail "$name's stand-in did not start"
        "$top/tests/bench/sandbox" --app "echo \$\$ >$d/app.pid; while :; do touch $d/alive; sleep 1; done" \
                -- "$@" >"$OUT/peer-$name.log" 2>&1 &
        SUT_SANDBOX[$name]=$!
        lib_pids+=("$!")
        wait_until 5 sut_found "$name" "${SUT_COMM[$name]:-$(basename "$1")}" || fail "$name did not start in the sandbox: $(cat "$OUT/peer-$name.log")"
}
sut_found() {
        local init
        init=$(pgrep -P "${SUT_SANDBOX[$1]}" | head -n 1)
        [ -n "$init" ] || return 1
        SUT_PID[$1]=$(pgrep -P "$init" -x "$2" | head -n 1)
        SUT_APP[$1]=$(pgrep -P "$init" -x sh | head -n 1)
        [ -n "${SUT_PID[$1]}" ] && [ -n "${SUT_APP[$1]}" ]
}
sut_stop() {
        # unshare --fork ignores SIGTERM; with --kill-child its end kills the namespace's init, and
        # with it everything inside.
        kill -KILL "${SUT_SANDBOX[$1]}" 2>/dev/null
        wait "${SUT_SANDBOX[$1]}" 2>/dev/null
        kill -TERM "${SUT_STANDIN[$1]}" 2>/dev/null
        wait "${SUT_STANDIN[$1]}" 2>/dev/null
}

# sandbox_verify PID: refuses to go on unless PID is in a PID and a mount namespace of its own
# and has neither CAP_SYS_BOOT (22) nor CAP_SYS_ADMIN (21) in its effective or bounding set.
sandbox_verify() {
        local nspid bnd eff
        nspid=$(awk '$1 == "NSpid:" { print NF - 1 }' "/proc/$1/status")
        [ "$nspid" -ge 2 ] || fail "sandbox: $1 is in this PID namespace"
        [ "$(readlink "/proc/$1/ns/pid")" != "$(readlink /proc/self/ns/pid)" ] || fail "sandbox: shared PID namespace"
        [ "$(readlink "/proc/$1/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ] || fail "sandbox: shared mount namespace"
        bnd=$(awk '$1 == "CapBnd:" { print $2 }' "/proc/$1/status")
        eff=$(awk '$1 == "CapEff:" { print $2 }' "/proc/$1/status")
        (((0x$bnd | 0x$eff) & (1 << 22 | 1 << 21))) && fail "sandbox: $1 keeps CAP_SYS_BOOT or CAP_SYS_ADMIN ($bnd)"
        echo "$1 NSpid $(awk '$1 == "NSpid:" { $1 = ""; print }' "/proc/$1/status") CapBnd $bnd CapEff $eff" >>"$OUT/peer-sandbox.txt"
}

# children_ticks PID: CPU time of PID's reaped children (cutime + cstime), clock ticks.
children_ticks() { awk '{ print $16 + $17 }' "/proc/$1/stat"; }
# gap_stats LOG FROM TO: "MAX MEDIAN" of the ping gaps within [FROM, TO].
gap_stats() {
        awk -v f="$2" -v t="$3" '$2 == "PING" && $1 >= f && $1 <= t { if (p != "") print $1 - p; p = $1 }' "$1" |
                sort -n | awk '{ d[++n] = $1 } END { if (!n) exit
                        printf "%.6f %.6f\n", d[n], n % 2 ? d[(n + 1) / 2] : (d[n / 2] + d[n / 2 + 1]) / 2 }'
}
# sample NAME: "<t> <cpu ns> <children ticks> <ctx switches>" of NAME's daemon.
sample() { echo "$(now) $(cpu_ns "${SUT_PID[$1]}") $(children_ticks "${SUT_PID[$1]}") $(ctxsw "${SUT_PID[$1]}")"; }

# peer_measure: both daemons at once, the steady window then the failure; writes one line per
# daemon to $P/results: "NAME RSS USS USS_ALONE CPU CHILDREN CTXSW MAXGAP MEDGAP FAULT_TO_LAST THREADS".
peer_measure() {
        local name pid hz sentinel t0 t1 c0 c1 k0 k1 s0 s1 uss_alone uss_shared gmax gmed perf_pid='' faults=''
        local -A uss sample0 sample1 rss_kb n_threads fault lastping
        sut_start healthdog "$HEALTHDOG" run -c "$P/healthdog/healthdog.conf"
        sut_start peer "$PEER" -F -c "$P/peer/watchdog.conf"
        for name in "${SUTS[@]}"; do
                sandbox_verify "${SUT_PID[$name]}"
        done
        # Which functions fault healthdog's pages back in after it unmapped them (tests/bench/windows).
        if [ -n "${BENCH_FAULTS:-}" ]; then
                # From 3 s on: start-up is over, the release is still to come.
                perf record -q -e page-faults -c 1 -d -D 3000 -p "${SUT_PID[healthdog]}" ${BENCH_FAULTS_CALLERS:+--call-graph dwarf,16384} \
                        -o "$OUT/peer-healthdog-faults.data" -- sleep $((SECONDS_STEADY + 5)) 2>"$OUT/peer-healthdog-perf.log" &
                perf_pid=$!
                lib_pids+=("$perf_pid")
        fi
        # Past start-up: healthdog gives back its start-up pages 5 s after it started (main.c).
        sleep 6
        for name in "${SUTS[@]}"; do
                dead "${SUT_PID[$name]}" && fail "$name ended: $(cat "$OUT/peer-$name.log")"
                uss[$name]=$(uss_pair "${SUT_PID[$name]}")
        done
        hz=$(getconf CLK_TCK)
        for name in "${SUTS[@]}"; do sample0[$name]=$(sample "$name"); done
        sleep "$SECONDS_STEADY"
        if [ -n "$perf_pid" ]; then
                wait "$perf_pid"
                faults=$OUT/peer-healthdog-faults.txt
                perf script -F time,ip,addr -i "$OUT/peer-healthdog-faults.data" >"$faults" 2>>"$OUT/peer-healthdog-perf.log"
        fi
        for name in "${SUTS[@]}"; do
                pid=${SUT_PID[$name]}
                sample1[$name]=$(sample "$name")
                rss_kb[$name]=$(smaps_kb "$pid" Rss)
                n_threads[$name]=$(status_field "$pid" Threads)
                cp "/proc/$pid/smaps" "$OUT/peer-$name-smaps.txt"
                cp "/proc/$pid/status" "$OUT/peer-$name-status.txt"
        done
        # What of each object is resident, window by window, and (BENCH_FAULTS) what brought it in.
        "$top/tests/bench/windows" "${SUT_PID[healthdog]}" ${faults:+"$faults"} >"$OUT/peer-healthdog-windows.txt" 2>&1
        "$top/tests/bench/windows" "${SUT_PID[peer]}" >"$OUT/peer-peer-windows.txt" 2>&1
        # The failure: the applications die; a process outside the sandboxes must outlive whatever
        # the daemons do about it (the peer kills every process it sees, then calls reboot()).
        sleep 600 &
        sentinel=$!
        lib_pids+=("$sentinel")
        for name in "${SUTS[@]}"; do
                fault[$name]=$(now)
                kill -KILL "${SUT_APP[$name]}"
        done
        for name in "${SUTS[@]}"; do
                STANDIN_LOG=$OUT/peer-$name-standin.log
                wait_until 30 grep -q ' RESET ' "$STANDIN_LOG" || fail "$name: no reset 30 s after the application died"
                lastping[$name]=$(last_ping)
                echo "$name fault ${fault[$name]} last-ping ${lastping[$name]} reset $(event_time RESET)" >>"$OUT/peer-failure.txt"
        done
        alive "$sentinel" || fail "a process outside the sandboxes died after the failure"
        kill "$sentinel" 2>/dev/null
        wait "$sentinel" 2>/dev/null
        cp "$P/healthdog/state/reset-reason.json" "$OUT/peer-healthdog-reset-reason.json" 2>/dev/null
        for name in "${SUTS[@]}"; do
                sut_stop "$name"
                read -r t0 c0 k0 s0 <<<"${sample0[$name]}"
                read -r t1 c1 k1 s1 <<<"${sample1[$name]}"
                read -r uss_alone uss_shared <<<"${uss[$name]}"
                read -r gmax gmed < <(gap_stats "$OUT/peer-$name-standin.log" "$t0" "$t1")
                echo "$name ${rss_kb[$name]} $uss_shared $uss_alone $(calc "($c1 - $c0) / 1e9 / ($t1 - $t0) * 60")" \
                        "$(calc "($k1 - $k0) / $hz / ($t1 - $t0) * 60")" "$(calc "($s1 - $s0) / ($t1 - $t0)")" \
                        "$gmax $gmed $(calc "${lastping[$name]} - ${fault[$name]}") ${n_threads[$name]}" >>"$P/results"
        done
}

peer_table() {
        awk 'function r(a, b) { return b > 0 ? sprintf("%.2f", a / b) : "-" }
        { for (i = 1; i <= NF; i++) v[NR, i] = $i }
        END {
                printf "%-22s %8s %8s %10s %10s %8s %8s %8s %9s\n", "same 7 probes, 1 s", "RSS kB", "USS kB",
                        "CPU s/min", "children", "ctxsw/s", "max gap", "med gap", "fault->last ping"
                for (n = 1; n <= NR; n++)
                        printf "%-22s %8d %8d %10.4f %10.4f %8.2f %8.4f %8.4f %9.3f\n", v[n, 1] == "peer" ? "Debian watchdog 5.16" : v[n, 1],
                                v[n, 2], v[n, 3], v[n, 5], v[n, 6], v[n, 7], v[n, 8], v[n, 9], v[n, 10]
                printf "%-22s %8s %8s %10s %10s %8s %8s %8s %9s\n", "ratio healthdog/peer", r(v[1, 2], v[2, 2]),
                        r(v[1, 3], v[2, 3]), r(v[1, 5], v[2, 5]), r(v[1, 6], v[2, 6]), r(v[1, 7], v[2, 7]),
                        r(v[1, 8], v[2, 8]), r(v[1, 9], v[2, 9]), r(v[1, 10], v[2, 10])
        }' "$P/results" >"$PEER_ROWS"
}

# peer_part: the comparison, its table in $PEER_ROWS.
peer_part() {
        : >"$PEER_ROWS"
        if [ -x "$PEER" ]; then
                say "peer: healthdog and Debian's watchdog at once, the same 7 probes at ${INTERVAL}s, each sandboxed, ${SECONDS_STEADY}s"
                peer_setup
                : >"$P/results"
                peer_measure
                peer_table
        else
                echo "no peer: $PEER is missing (tests/install-deps bench installs Debian's watchdog)" >"$PEER_ROWS"
        fi
}
