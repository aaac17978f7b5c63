#!/bin/bash
# A daemon that keeps failing on a trial boot is a failed trial (issue 16 #3): every start counts
# in RUNTIME/starts (boot id, count), cleared by a clean stop. Here each start is killed with
# SIGKILL, as a crash would end it: each opened the device, which pings it, so a crash loop would
# keep a bad trial alive for ever. Past 5 starts the next one decides the reset ("start failed
# repeatedly: 6 starts in this boot", in reset-reason.json and the verdict) and the device is not
# pinged after that decision, nor by any later start in the boot. On a steady boot the same
# crash loop resets nothing: the daemon feeds as ever.
source "$(dirname "$0")/bootlib.sh"

boot_config "confirm-after = 30s" <<EOF
[check.app]
type = file
path = $T/app
interval = 100ms
EOF
touch "$T/app"

# crash N: starts the daemon N times, killing each with SIGKILL once it is supervising.
crash() {
        local i
        for i in $(seq "$1"); do
                DAEMON_LOG=$T/daemon-boot$BOOT_N-start$i.log
                start_daemon
                kill -KILL "$DAEMON_PID"
                wait_exit "$DAEMON_PID" 3
                DAEMON_PID=
        done
}

echo "== boot 1: a trial whose daemon crashes 5 times"
single_env upgrade_available=1 bootcount=1 bootlimit=3
# A long timeout: what matters is whether anything pings, not the stand-in's reset.
start_boot 60
kill -KILL "$DAEMON_PID"
wait_exit "$DAEMON_PID" 3
DAEMON_PID=
crash 4
[ "$(cat "$RUN/starts" 2>/dev/null)" = "$(boot_id_hex) 5" ] || fail "RUN/starts: $(cat "$RUN/starts" 2>&1)"
[ -e "$REASON" ] && fail "a reset decided within 5 starts: $(cat "$REASON")"
before=$(pings)
note "pings of the first 5 starts: $before"
assert_cmp "pings of the first 5 starts" "$before" ">=" 5

echo "== the 6th start decides the reset"
DAEMON_LOG=$T/daemon-boot1-start6.log
start_daemon
wait_until 5 test -e "$REASON" || fail "no reset-reason.json after the 6th start"
load_reason
[ "$(reason_field reason)" = "start failed repeatedly" ] || fail "reason: $(cat "$REASON")"
[ "$REASON_DETAIL" = "6 starts in this boot" ] || fail "detail: $(cat "$REASON")"
assert_grep "$DAEMON_LOG" "healthdog started 6 times in this boot"
assert_verdict verdict rejected
assert_verdict verdict_reason "start failed repeatedly: 6 starts in this boot"
sleep 1.5
assert_cmp "pings after the decision" "$(pings "$(calc "$CROSSING + 0.05")")" "==" 0
kill -KILL "$DAEMON_PID"
wait_exit "$DAEMON_PID" 3
DAEMON_PID=

echo "== a 7th start stands by it"
n=$(pings)
DAEMON_LOG=$T/daemon-boot1-start7.log
start_daemon
assert_grep "$DAEMON_LOG" "A reset was decided earlier in this boot"
sleep 1.5
assert_cmp "pings after the 7th start" "$(pings)" "==" "$n"
stop_daemon

echo "== boot 2: steady, the same crash loop resets nothing"
single_env upgrade_available=0 bootcount=0 bootlimit=3
rm -f "$REASON"
# The restarts themselves take longer than a short timeout under the sanitizers.
start_boot 60
kill -KILL "$DAEMON_PID"
wait_exit "$DAEMON_PID" 3
DAEMON_PID=
crash 5
DAEMON_LOG=$T/daemon-boot2-start7.log
start_daemon
assert_grep "$DAEMON_LOG" "healthdog started 7 times in this boot"
t0=$(now)
sleep 2
assert_cmp "pings in 2 s after the 7th start" "$(pings "$t0")" ">=" 8
[ -e "$REASON" ] && fail "a reset reason on a steady boot: $(cat "$REASON")"
assert_verdict verdict steady
echo "== a clean stop clears the count"
stop_daemon
[ -e "$RUN/starts" ] && fail "RUN/starts after a clean stop: $(cat "$RUN/starts")"
check_sanitizers
echo "PASS"
