#!/bin/bash
# type=disk against a real filesystem: a 4M tmpfs with 100 inodes that the test fills with dd and
# with files, so free space and free inodes go from passing to failing for real.
source "$(dirname "$0")/lib.sh"

MNT=$T/mnt
mkdir -p "$MNT"
mount -t tmpfs -o size=4M,nr_inodes=100 healthdog-test "$MNT" 2>"$T/mount.err" ||
        skip "cannot mount a tmpfs: $(cat "$T/mount.err") (needs root)"
trap 'umount -l "$MNT" 2>/dev/null; lib_cleanup 2>/dev/null' EXIT

write_config <<EOF
[watchdog]
device = none

[check.space]
type = disk
path = $MNT
min-free = 1M

[check.space-pct]
type = disk
path = $MNT
min-free = 50%

[check.space-low-pct]
type = disk
path = $MNT
min-free = 10%

[check.inodes]
type = disk
path = $MNT
min-free-inodes = 50

[check.both]
type = disk
path = $MNT
min-free = 10%
min-free-inodes = 50%

[check.gone]
type = disk
path = $T/no-such-dir
min-free = 1M
EOF

# Empty: 4M free, and 99 of 100 inodes (the root directory takes one).
df -k "$MNT" | sed 's/^/  /'
expect_check space 0 "$MNT: 4M free \(100%\) >= min 1M"
expect_check space-pct 0 "$MNT: 4M free \(100%\) >= min 50%"
expect_check inodes 0 "$MNT: 99 inodes free \(99%\) >= min 50"
expect_check both 0 "$MNT: 4M free \(100%\) >= min 10%, 99 inodes free \(99%\) >= min 50%"

# 3.5M written: 512K left, 12.5% of the filesystem.
dd if=/dev/zero of="$MNT/fill" bs=512K count=7 status=none || fail "cannot write 3.5M to $MNT"
df -k "$MNT" | sed 's/^/  /'
expect_check space 1 "$MNT: 512K free \(12\.5%\) < min 1M"
expect_check space-pct 1 "$MNT: 512K free \(12\.5%\) < min 50%"
expect_check space-low-pct 0 "$MNT: 512K free \(12\.5%\) >= min 10%"

# 60 more files: 38 inodes left (the fill file took one too).
for i in $(seq 60); do : >"$MNT/f$i" || fail "cannot create $MNT/f$i"; done
expect_check inodes 1 "$MNT: 38 inodes free \(38%\) < min 50"
# Space still passes here: the verdict is the inode half's.
expect_check both 1 "$MNT: 512K free \(12\.5%\) >= min 10%, 38 inodes free \(38%\) < min 50%"

# Freed again: passes again.
rm -f "$MNT"/f* "$MNT/fill"
expect_check space 0 "$MNT: 4M free \(100%\) >= min 1M"
expect_check both 0 "$MNT: 4M free \(100%\) >= min 10%, 99 inodes free \(99%\) >= min 50%"

expect_check gone 1 "$T/no-such-dir: No such file or directory"

umount "$MNT" || fail "cannot unmount $MNT"
check_sanitizers
echo "PASS"
