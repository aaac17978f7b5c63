#!/bin/bash
# type=memory against the real MemAvailable: sizes and percentages either side of it, page cache
# counted as available, and a check that passes turning into one that fails when the test really
# takes memory away.
source "$(dirname "$0")/lib.sh"

meminfo() { awk -v k="$1:" '$1 == k { print $2; exit }' /proc/meminfo; } # in kB
avail=$(meminfo MemAvailable)
total=$(meminfo MemTotal)
[ -n "$avail" ] || skip "no MemAvailable in /proc/meminfo (Linux before 3.14)"
pct=$(awk -v a="$avail" -v t="$total" 'BEGIN { printf "%.2f\n", a * 100 / t }')
note "MemAvailable ${avail}kB of ${total}kB ($pct%)"

# Half and twice what is available, as sizes in K; half and (at most) 100% as percentages.
half_k=$((avail / 2))K
twice_k=$((avail * 2))K
half_pct=$(awk -v p="$pct" 'BEGIN { printf "%.0f%%\n", p / 2 }')
more_pct=$(awk -v p="$pct" 'BEGIN { m = p * 1.5; if (m > 100) m = 100; printf "%.0f%%\n", m }')

write_config <<EOF
[watchdog]
device = none

[check.half]
type = memory
min-available = $half_k

[check.twice]
type = memory
min-available = $twice_k

[check.half-pct]
type = memory
min-available = $half_pct

[check.more-pct]
type = memory
min-available = $more_pct
EOF

# The figures reported are the kernel's: the share within a point of what the test read.
size='[0-9]+(\.[0-9])?[KMGTE]'
share='([0-9]+(\.[0-9]+)?)%'
expect_check half 0 "available $size \($share\) >= min $size"
awk -v s="${BASH_REMATCH[2]}" -v p="$pct" 'BEGIN { exit !(s > p - 1 && s < p + 1) }' ||
        fail "reported share ${BASH_REMATCH[2]}%, /proc/meminfo said $pct%"
expect_check twice 1 "available $size \($share\) < min $size"
expect_check half-pct 0 "available $size \($share\) >= min ${half_pct//./\\.}"
expect_check more-pct 1 "available $size \($share\) < min ${more_pct//./\\.}"

# MemAvailable, not MemFree: page cache is memory the kernel can have back. 384M written to a
# file on disk sit in the cache, lowering MemFree only; a limit between the two still passes.
dd if=/dev/zero of="$T/cache-fill" bs=1M count=384 status=none || fail "cannot write $T/cache-fill"
free_k=$(meminfo MemFree)
avail=$(meminfo MemAvailable)
if [ $((avail - free_k)) -ge $((256 * 1024)) ]; then
        limit=$(((free_k + (avail - free_k) / 2) / 1024))M
        write_config <<EOF
[watchdog]
device = none

[check.cache]
type = memory
min-available = $limit
EOF
        note "MemFree ${free_k}kB, MemAvailable ${avail}kB, limit $limit between them"
        expect_check cache 0 "available $size \($share\) >= min $limit"
else
        note "skipped the page-cache case: MemFree ${free_k}kB is within 256M of MemAvailable ${avail}kB"
fi
rm -f "$T/cache-fill"

# Real memory pressure: a limit 64M under what is available passes; 256M written to a tmpfs
# (not reclaimable, unlike page cache) takes it under the limit.
shm=$T/shm
mkdir -p "$shm"
if [ "$avail" -lt $((1024 * 1024)) ]; then
        note "skipped the pressure case: less than 1G available, too little to take 256M away"
elif ! mount -t tmpfs -o size=300M healthdog-test "$shm" 2>/dev/null; then
        note "skipped the pressure case: cannot mount a tmpfs (not root?)"
else
        trap 'umount -l "$shm" 2>/dev/null; lib_cleanup 2>/dev/null' EXIT
        avail=$(meminfo MemAvailable)
        limit=$(((avail - 64 * 1024) / 1024))M
        write_config <<EOF
[watchdog]
device = none

[check.pressure]
type = memory
min-available = $limit
EOF
        expect_check pressure 0 "available $size \($share\) >= min $limit"
        dd if=/dev/zero of="$shm/fill" bs=1M count=256 status=none || fail "cannot fill $shm"
        note "MemAvailable ${avail}kB before, $(meminfo MemAvailable)kB after writing 256M to a tmpfs"
        expect_check pressure 1 "available $size \($share\) < min $limit"
        rm -f "$shm/fill"
        umount "$shm" || fail "cannot unmount $shm"
fi

check_sanitizers
echo "PASS"
