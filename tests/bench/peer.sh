# shellcheck shell=bash disable=SC2154 # run's globals (top, T, OUT, DEV, INTERVAL, ...)
# Sourced by tests/bench/run: healthdog beside a peer, Debian's watchdog 5.16 (issue 18), with the
# same 7 probes at the same interval, each daemon in the same sandbox (tests/bench/sandbox) with
# the same application, against the same stand-in, measured the same way; then the application
# dies and the stand-in tells when the last ping came. Adds PEER_ROWS for the final table.
#
# The probes: a heartbeat file that must change within 5 s, the application's pidfile, a ping
# to 127.0.0.1, interface lo, the 1-minute load, available memory, and a test program. The
# application (inside the sandbox, so that the peer's pidfile check sees its pid) writes its pid
# and touches the heartbeat every second.

PEER=${BENCH_PEER:-/usr/sbin/watchdog}
P=$T/peer
PEER_ROWS=$OUT/peer-table.txt
: >"$PEER_ROWS"

peer_setup() {
        local memtotal_kb
        rm -rf "$P"
        mkdir -p "$P/peer-log" "$P/peer-test.d"
        printf '#!/bin/sh\n# the application'\''s self-test: its heartbeat file is there\ntest -f %s/alive\n' "$P" >"$P/app-test"
        chmod 0755 "$P/app-test"
        PEER_APP="echo \$\$ >$P/app.pid; while :; do touch $P/alive; sleep 1; done"
        memtotal_kb=$(awk '$1 == "MemTotal:" { print $2 }' /proc/meminfo)
        # min-memory is in pages: 1% of the memory, as healthdog's min-available = 1%.
        cat >"$P/watchdog.conf" <<EOF
watchdog-device = $DEV
watchdog-timeout = $((INTERVAL * 3))
interval = $INTERVAL
realtime = no
# no mail, its own log and test directories
admin =
log-dir = $P/peer-log
test-directory = $P/peer-test.d
# a failure counts after 3 runs in a row, as healthdog's fail-after = 3 (the retry timer acts
# when more than retry-timeout seconds passed since the first failure)
retry-timeout = 1
file = $P/alive
change = 5
pidfile = $P/app.pid
ping = 127.0.0.1
interface = lo
max-load-1 = 100
min-memory = $((memtotal_kb / 100 / 4))
test-binary = $P/app-test
test-timeout = $INTERVAL
EOF
        {
                printf '[watchdog]\ndevice = %s\ntimeout = %ss\ninterval = %ss\n\n' "$DEV" $((INTERVAL * 3)) "$INTERVAL"
                printf '[supervisor]\nstate-directory = %s\nstartup-grace = 0\nrealtime-priority = 0\n' "$P/state"
                printf '\n[check.heartbeat]\ntype = file\npath = %s\nmax-age = 5s\n' "$P/alive"
                printf '\n[check.app-process]\ntype = process\npidfile = %s\n' "$P/app.pid"
                printf '\n[check.loopback-ping]\ntype = ping\nhost = 127.0.0.1\ncount = 1\nreply-timeout = 500ms\n'
                printf '\n[check.loopback]\ntype = link\ninterface = lo\n'
                printf '\n[check.load]\ntype = loadavg\nmax-load = 100\n'
                printf '\n[check.memory]\ntype = memory\nmin-available = 1%%\n'
                printf '\n[check.app-test]\ntype = exec\ncommand = %s\n' "$P/app-test"
        } | sed "/^\[check\./a interval = ${INTERVAL}s" | write_config "$P/healthdog.conf"
}

# sandbox_start NAME COMMAND...: COMMAND in the sandbox beside the application, stderr to
# $OUT/peer-NAME.log; sets SANDBOX_PID (unshare's), SUT_PID and SUT_APP_PID (pids outside).
sandbox_start() {
        local name=$1
        shift
        "$top/tests/bench/sandbox" --app "$PEER_APP" -- "$@" >"$OUT/peer-$name.log" 2>&1 &
        SANDBOX_PID=$!
        lib_pids+=("$SANDBOX_PID")
        SUT_PID="" SUT_APP_PID=""
        wait_until 5 sandbox_found "$(basename "$1")" || fail "$name did not start in the sandbox: $(cat "$OUT/peer-$name.log")"
}
sandbox_found() {
        local init
        init=$(pgrep -P "$SANDBOX_PID" | head -n 1)
        [ -n "$init" ] || return 1
        SUT_PID=$(pgrep -P "$init" -x "$1" | head -n 1)
        SUT_APP_PID=$(pgrep -P "$init" -x sh | head -n 1)
        [ -n "$SUT_PID" ] && [ -n "$SUT_APP_PID" ]
}
sandbox_stop() {
        # unshare --fork ignores SIGTERM; with --kill-child its end kills the namespace's init, and
        # with it everything inside.
        kill -KILL "$SANDBOX_PID" 2>/dev/null
        wait "$SANDBOX_PID" 2>/dev/null
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
        awk -v f="$2" -v t="$3" '$2 == "PING" && $1 >= f && $1 <= t { if (p != "") print $1 - p; p = $1 }' "$1" | sort -n | awk '{ d[++n] = $1 } END {
                if (!n) exit; m = n % 2 ? d[(n + 1) / 2] : (d[n / 2] + d[n / 2 + 1]) / 2
                printf "%.6f %.6f\n", d[n], m }'
}

# peer_measure NAME COMMAND...: the steady window and the failure for one daemon; appends
# "NAME RSS USS USS_ALONE CPU CHILDREN CTXSW MAXGAP MEDGAP FAULT_TO_LAST THREADS" to $P/results.
peer_measure() {
        local name=$1 pid t0 t1 c0 c1 k0 k1 s0 s1 uss_alone uss_shared rss hz gmax gmed
        local sentinel t_fault last threads
        shift
        rm -rf "$P/state" "$P/alive" "$P/app.pid"
        start_standin_rt "$OUT/peer-$name-standin.log"
        sandbox_start "$name" "$@"
        pid=$SUT_PID
        sandbox_verify "$pid"
        sleep 3
        dead "$pid" && fail "$name ended: $(cat "$OUT/peer-$name.log")"
        read -r uss_alone uss_shared < <(uss_pair "$pid")
        hz=$(getconf CLK_TCK)
        t0=$(now); c0=$(cpu_ns "$pid"); k0=$(children_ticks "$pid"); s0=$(ctxsw "$pid")
        sleep "$SECONDS_STEADY"
        t1=$(now); c1=$(cpu_ns "$pid"); k1=$(children_ticks "$pid"); s1=$(ctxsw "$pid")
        rss=$(smaps_kb "$pid" Rss)
        threads=$(status_field "$pid" Threads)
        cp "/proc/$pid/smaps" "$OUT/peer-$name-smaps.txt"
        cp "/proc/$pid/status" "$OUT/peer-$name-status.txt"
        read -r gmax gmed < <(gap_stats "$STANDIN_LOG" "$t0" "$t1")
        # The failure: the application dies; a process outside the sandbox must outlive whatever
        # the daemon does about it (the peer kills every process it sees, then calls reboot()).
        sleep 600 &
        sentinel=$!
        lib_pids+=("$sentinel")
        sleep 0.3
        t_fault=$(now)
        kill -KILL "$SUT_APP_PID"
        wait_until 30 grep -q ' RESET ' "$STANDIN_LOG" || fail "$name: no reset 30 s after the application died"
        last=$(last_ping)
        alive "$sentinel" || fail "$name: a process outside the sandbox died after the failure"
        kill "$sentinel" 2>/dev/null
        wait "$sentinel" 2>/dev/null
        echo "$name fault $t_fault last-ping $last reset $(event_time RESET)" >>"$OUT/peer-failure.txt"
        [ -f "$P/state/reset-reason.json" ] && cp "$P/state/reset-reason.json" "$OUT/peer-$name-reset-reason.json"
        sandbox_stop
        stop_supervision
        echo "$name $rss $uss_shared $uss_alone $(calc "($c1 - $c0) / 1e9 / ($t1 - $t0) * 60")" \
                "$(calc "($k1 - $k0) / $hz / ($t1 - $t0) * 60")" "$(calc "($s1 - $s0) / ($t1 - $t0)")" \
                "$gmax $gmed $(calc "$last - $t_fault") $threads" >>"$P/results"
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

if [ -x "$PEER" ]; then
        say "peer: healthdog and Debian's watchdog, the same 7 probes at ${INTERVAL}s, sandboxed, ${SECONDS_STEADY}s each"
        peer_setup
        : >"$P/results"
        peer_measure healthdog "$HEALTHDOG" run -c "$P/healthdog.conf"
        peer_measure peer "$PEER" -F -c "$P/watchdog.conf"
        peer_table
else
        echo "no peer: $PEER is missing (tests/install-deps bench installs Debian's watchdog)" >"$PEER_ROWS"
fi
