#!/bin/bash
# type=fds against the real /proc/sys/fs/file-nr: limits either side of the handles in use, as a
# count and as a share of file-max, and a passing check that fails once the test really opens
# a few hundred more files.
source "$(dirname "$0")/lib.sh"

used() { awk '{ print $1 - $2 }' /proc/sys/fs/file-nr; }
read -r _ _ max </proc/sys/fs/file-nr
U=$(used)
note "file-nr: $(cat /proc/sys/fs/file-nr)"
# Share in use in hundredths of a percent; a percentage limit below it needs at least 0.02%.
share=$(awk -v u="$U" -v m="$max" 'BEGIN { printf "%d\n", u * 10000 / m }')

half=$((U / 2))
room=$((U + 1000))
write_config <<EOF
[watchdog]
device = none

[check.all]
type = fds
max-used = 100%

[check.half]
type = fds
max-used = $half

[check.room]
type = fds
max-used = $room
EOF
# Twice the current share and a bit: a percentage limit above the use.
above_pct=$(awk -v s="$share" 'BEGIN {
        v = 2 * s + 1; t = sprintf("%d.%02d", v / 100, v % 100); sub(/\.?0+$/, "", t); print t "%" }')
printf '\n[check.above-pct]\ntype = fds\nmax-used = %s\n' "$above_pct" >>"$CONF"
if [ "$share" -ge 2 ]; then
        below_pct=$(awk -v s="$share" 'BEGIN {
                v = int(s / 2); t = sprintf("%d.%02d", v / 100, v % 100); sub(/\.?0+$/, "", t); print t "%" }')
        printf '\n[check.below-pct]\ntype = fds\nmax-used = %s\n' "$below_pct" >>"$CONF"
fi

n='([0-9]+)'
expect_check all 0 "$n of $max file handles in use \(([0-9.]+)%\) <= max 100%"
awk -v r="${BASH_REMATCH[1]}" -v u="$U" 'BEGIN { exit !(r > u - 200 && r < u + 200) }' ||
        fail "reported ${BASH_REMATCH[1]} handles in use, file-nr said $U"
expect_check half 1 "$n of $max file handles in use \(([0-9.]+)%\) > max $half"
expect_check room 0 "$n of $max file handles in use \(([0-9.]+)%\) <= max $room"
expect_check above-pct 0 "$n of $max file handles in use \(([0-9.]+)%\) <= max $above_pct"
if [ "$share" -ge 2 ]; then
        expect_check below-pct 1 "$n of $max file handles in use \(([0-9.]+)%\) > max $below_pct"
else
        note "skipped a percentage limit under the current use: $U of $max is under 0.02%"
fi

# Other processes come and go by a hundred handles or two: the test adds 2400 more, /dev/null
# opened 600 times by each of 4 shells that then wait on a FIFO nobody writes (no children).
room=$(($(used) + 1200))
write_config <<EOF
[watchdog]
device = none

[check.room]
type = fds
max-used = $room
EOF
expect_check room 0 "$n of $max file handles in use \(([0-9.]+)%\) <= max $room"
mkfifo "$T/hold"
holders=()
for _ in 1 2 3 4; do
        bash -c 'for i in $(seq 600); do exec {fd}</dev/null || exit 1; done; exec {w}<>"$1"; read -r -t 30 -u "$w"' \
                holder "$T/hold" &
        holders+=($!)
        lib_pids+=($!)
done
holding() {
        local pid
        for pid in "${holders[@]}"; do [ "$(ls "/proc/$pid/fd" 2>/dev/null | wc -l)" -ge 600 ] || return 1; done
}
wait_until 10 holding || fail "the holders did not open 600 files each"
note "file-nr with the holders: $(cat /proc/sys/fs/file-nr)"
expect_check room 1 "$n of $max file handles in use \(([0-9.]+)%\) > max $room"
kill "${holders[@]}"
wait "${holders[@]}" 2>/dev/null
expect_check room 0 "$n of $max file handles in use \(([0-9.]+)%\) <= max $room"

check_sanitizers
echo "PASS"
