# Sourced by the ostree-*.sh tests: throwaway OSTree sysroots made with the ostree CLI, the
# U-Boot backend on, and a way to run a command with one of their deployments booted.
#
# Globals: T (the test's directory), HELPER (the healthdog-ostree under test), OUT, ERR, RC (set
# by run_helper). Every deployment directory is made mutable again on EXIT, so that the test
# runner can remove $T (ostree sets the immutable attribute on deployment roots).

set -u
# A misspelt helper or a missing tool (exit 127) must fail the test, not be skipped over by a
# script that then ends with exit 0.
set -o errtrace
trap 'rc=$?; [ $rc -eq 127 ] && { echo "FAIL: command not found (line $LINENO of $0)"; exit 1; }; true' ERR

ostree_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${HELPER:=$ostree_top/build/asan/healthdog-ostree}"
: "${ASAN_OPTIONS:=detect_leaks=1:abort_on_error=0:exitcode=99}"
: "${UBSAN_OPTIONS:=print_stacktrace=1:halt_on_error=1:exitcode=99}"
export ASAN_OPTIONS UBSAN_OPTIONS
if [ -z "${TEST_TMPDIR:-}" ]; then
        TEST_TMPDIR=$(mktemp -d "/tmp/healthdog-test.$(basename "$0" .sh).XXXXXX")
        ostree_own_tmpdir=1
fi
T=$TEST_TMPDIR
OSNAME=os
REF=os/x86_64
KVER=6.1.0-test

fail() {
        echo "FAIL: $*"
        for f in "$T"/*.log; do
                [ -f "$f" ] && { echo "--- $f"; cat "$f"; }
        done
        exit 1
}
skip() {
        echo "SKIP: $*"
        exit 77
}
note() { echo "  $*"; }

ostree_exit_hooks=()
# at_exit CMD: runs CMD (eval'd) on EXIT, after the deployments are made mutable again.
at_exit() { ostree_exit_hooks+=("$1"); }

ostree_cleanup() {
        local d h
        while read -r d; do
                chattr -i "$d" 2>/dev/null
        done < <(find "$T" -xdev -path '*/ostree/deploy/*/deploy/*' -prune -type d 2>/dev/null)
        # The sysroots on a tmpfs of the test's own (-xdev skipped them above).
        for h in "${ostree_exit_hooks[@]}"; do
                eval "$h"
        done
        [ -n "${ostree_own_tmpdir:-}" ] && rm -rf "$T"
        return 0
}
trap ostree_cleanup EXIT

for tool in ostree unshare chattr; do
        command -v "$tool" >/dev/null || skip "$tool is not installed (make test-deps)"
done
[ -x "$HELPER" ] || skip "missing $HELPER: build it first (make check)"
[ "$(id -u)" = 0 ] || skip "needs root: ostree deploys as root, and the tests bind-mount"

# sysroot_new DIR: an empty sysroot with the stateroot $OSNAME, U-Boot backend on. The backend
# writes boot/loader/uEnv.txt only when that file exists, so it is made as a board's image would.
sysroot_new() {
        local s=$1
        mkdir -p "$s"
        ostree admin init-fs "$s" >/dev/null || fail "ostree admin init-fs $s"
        ostree admin os-init --sysroot="$s" "$OSNAME" >/dev/null || fail "ostree admin os-init"
        ostree config --repo="$s/ostree/repo" set sysroot.bootloader uboot
        mkdir -p "$s/boot/loader.0"
        : >"$s/boot/loader.0/uEnv.txt"
        ln -sfn loader.0 "$s/boot/loader"
}

# commit_version SYSROOT VERSION: commits a small bootable tree as $REF, with VERSION in the
# commit metadata; prints the checksum. The tree is shaped like an OSTree OS: the kernel and
# initramfs under usr/lib/modules/$KVER, the defaults in usr/etc, /ostree -> sysroot/ostree, and
# the mount points ostree-prepare-root and the test's "boot" use. A function commit_tree_extra,
# when the caller defines one, is called with the tree's directory and VERSION before the commit
# (the demo adds its application's configuration there).
commit_version() {
        local s=$1 v=$2 t=$T/tree.$2
        rm -rf "$t"
        mkdir -p "$t/usr/lib/modules/$KVER" "$t/usr/etc" "$t/usr/bin" "$t/usr/sbin" "$t/usr/lib64" \
                "$t/sysroot" "$t/boot" "$t/var" "$t/run" "$t/proc" "$t/dev" "$t/sys" "$t/tmp"
        echo "kernel $v" >"$t/usr/lib/modules/$KVER/vmlinuz"
        echo "initramfs $v" >"$t/usr/lib/modules/$KVER/initramfs.img"
        printf 'ID=testos\nPRETTY_NAME="Test OS %s"\nVERSION_ID=%s\n' "$v" "$v" >"$t/usr/lib/os-release"
        ln -s ../lib/os-release "$t/usr/etc/os-release"
        echo "$v" >"$t/usr/etc/build"
        ln -s usr/bin "$t/bin"
        ln -s usr/sbin "$t/sbin"
        ln -s usr/lib "$t/lib"
        ln -s usr/lib64 "$t/lib64"
        ln -s sysroot/ostree "$t/ostree"
        if declare -F commit_tree_extra >/dev/null; then
                commit_tree_extra "$t" "$v" || fail "commit_tree_extra $v"
        fi
        ostree commit --repo="$s/ostree/repo" -b "$REF" --tree=dir="$t" \
                --add-metadata-string=version="$v" -s "version $v" || fail "ostree commit $v"
        rm -rf "$t"
}

# deploy SYSROOT [ARGS...]: deploys the head of $REF as the new default, keeping every existing
# deployment (as an OTA client that leaves pruning to healthdog would).
deploy() {
        local s=$1
        shift
        ostree admin deploy --sysroot="$s" --os="$OSNAME" --retain "$@" "$REF" >>"$T/ostree.log" 2>&1 ||
                fail "ostree admin deploy $*"
}

# sysroot_with SYSROOT N: a new sysroot with versions 1..N deployed, N the default.
sysroot_with() {
        local s=$1 n=$2 i
        sysroot_new "$s"
        for i in $(seq 1 "$n"); do
                commit_version "$s" "$i" >/dev/null
                deploy "$s"
        done
}

# deployments SYSROOT: one line per deployment, in order, as `ostree admin status` shows it from
# outside: "CHECKSUM.SERIAL VERSION[ pinned][ (staged)...]".
deployments() {
        ostree admin status --sysroot="$1" 2>/dev/null | awk '
                function flush() { if (d != "") print d " " v f; d = "" }
                $1 == "*" { $1 = "" ; $0 = $0 }
                $2 ~ /^[0-9a-f]+\.[0-9]+$/ { flush(); d = $2; v = "-"; f = ""
                        for (i = 3; i <= NF; i++) f = f " " $i }
                $1 == "Version:" { v = $2 }
                /Pinned: yes/ { f = " pinned" f }
                END { flush() }'
}

# deploy_dir SYSROOT CHECKSUM.SERIAL: the deployment's directory.
deploy_dir() { echo "$1/ostree/deploy/$OSNAME/deploy/$2"; }

# csum_of SYSROOT VERSION: the checksum of the commit with that version.
csum_of() {
        ostree log --repo="$1/ostree/repo" "$REF" 2>/dev/null | awk -v v="$2" '
                /^commit / { c = $2 } /^Version: / { if ($2 == v) { print c; exit } }'
}

# uenv SYSROOT: the U-Boot environment ostree wrote, one "name=value" a line.
uenv() { cat "$1/boot/loader/uEnv.txt"; }

# run_helper ARGS...: runs the helper; leaves OUT, ERR and RC.
run_helper() {
        "$HELPER" "$@" >"$T/out" 2>"$T/err"
        RC=$?
        OUT=$(cat "$T/out")
        ERR=$(cat "$T/err")
        if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' "$T/err"; then
                fail "sanitizer report from healthdog-ostree $*: $ERR"
        fi
}

# expect_rc RC WHAT: the last run_helper/booted exited RC.
expect_rc() {
        [ "$RC" = "$1" ] || fail "$2: exit $RC, expected $1; stdout: $OUT; stderr: $ERR"
        note "ok: $2 -> exit $RC${ERR:+ ($(echo "$ERR" | head -n 1))}"
}

# can_boot: whether this machine lets the test make private mount + PID namespaces.
can_boot() {
        unshare -mpf --mount-proc true 2>/dev/null
}

# booted SYSROOT CHECKSUM.SERIAL CMD...: runs CMD (with the helper at /run/healthdog-ostree)
# with that deployment booted; leaves OUT, ERR and RC. See tests/ostree/boot-into.
booted() {
        local s=$1 d=$2
        shift 2
        "$ostree_top/tests/ostree/boot-into" "$s" "$d" "$HELPER" "$@" >"$T/out" 2>"$T/err"
        RC=$?
        OUT=$(cat "$T/out")
        ERR=$(cat "$T/err")
        if grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' "$T/err"; then
                fail "sanitizer report in the booted namespace: $ERR"
        fi
}

# expect_deployments SYSROOT VERSION...: the deployments, from outside, are exactly these
# versions, in this order.
expect_deployments() {
        local s=$1 got
        shift
        got=$(deployments "$s" | awk '{ printf "%s%s", sep, $2; sep = " " }')
        [ "$got" = "$*" ] || fail "deployments of $s: versions '$got', expected '$*'
$(ostree admin status --sysroot="$s" 2>&1)"
        note "ok: deployments (outside): $got"
}

# expect_uenv_entries SYSROOT N: U-Boot's uEnv.txt lists N kernels (kernel_image, kernel_image2...)
# whose bootargs point at the first N boot entries.
expect_uenv_entries() {
        local s=$1 n=$2 got
        got=$(grep -c '^kernel_image[0-9]*=' "$s/boot/loader/uEnv.txt")
        [ "$got" = "$n" ] || fail "uEnv.txt has $got kernels, expected $n:
$(uenv "$s")"
        [ "$(grep -c '^bootargs[0-9]*=ostree=' "$s/boot/loader/uEnv.txt")" = "$n" ] ||
                fail "uEnv.txt: bootargs do not match the kernels: $(uenv "$s")"
        if [ "$n" -eq 1 ] && grep -q '^kernel_image2=' "$s/boot/loader/uEnv.txt"; then
                fail "uEnv.txt still has kernel_image2"
        fi
        note "ok: uEnv.txt lists $n kernel(s)"
}

# json_get JSON PYTHON-EXPRESSION: evaluates the expression on the parsed document (j).
json_get() {
        python3 -c 'import json, sys; j = json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2" ||
                fail "not JSON, or no $2: $1"
}

# hold_lock SYSROOT: takes the sysroot lock as libostree does (an OFD write lock on ostree/lock)
# in a background python3, until release_lock. Sets LOCK_PID.
hold_lock() {
        rm -f "$T/lock.ready"
        python3 - "$1/ostree/lock" "$T/lock.ready" <<'PY' &
import fcntl, os, struct, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
# struct flock: l_type, l_whence, l_start, l_len (0: the whole file), l_pid (0 for OFD locks)
fcntl.fcntl(fd, fcntl.F_OFD_SETLK, struct.pack("hhqqi4x", fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0))
open(sys.argv[2], "w").close()
time.sleep(60)
PY
        LOCK_PID=$!
        for _ in $(seq 100); do
                [ -e "$T/lock.ready" ] && return 0
                sleep 0.05
        done
        fail "python3 did not take the lock on $1/ostree/lock"
}
release_lock() {
        kill "$LOCK_PID" 2>/dev/null
        wait "$LOCK_PID" 2>/dev/null
        LOCK_PID=
}
