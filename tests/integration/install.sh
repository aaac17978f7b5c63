#!/bin/bash
# `make install DESTDIR= PREFIX=` lays out what a Yocto recipe packages, and what it installs works:
# the binary runs, the shipped config validates, the unit passes systemd-analyze verify, the
# manuals and the units' Documentation= name the installed paths, the bash completion loads.
set -euo pipefail
root=$TEST_TMPDIR/root
fail() { echo "FAIL: $*" >&2; exit 1; }

make -s -C "$SRCDIR" install DESTDIR="$root" PREFIX=/usr >/dev/null

units=usr/lib/systemd/system
for f in usr/sbin/healthdog:755 usr/libexec/healthdog-ostree:755 etc/healthdog/healthdog.conf:644 \
         $units/healthdog.service:644 $units/healthdog-arm.service:644 $units/healthdog-update.service:644 $units/healthdog-update.timer:644 \
         $units/healthdog-ostree.socket:644 $units/healthdog-ostree@.service:644 \
         usr/share/doc/healthdog/examples/app-heartbeat.conf:644 usr/share/doc/healthdog/README.md:644 \
         usr/share/man/man8/healthdog.8:644 usr/share/man/man5/healthdog.conf.5:644 \
         usr/share/man/man8/healthdog-ostree.8:644 usr/share/bash-completion/completions/healthdog:644 \
         usr/share/healthdog/grub/healthdog.cfg:644 usr/share/healthdog/grub/14_healthdog:755; do
        path=$root/${f%:*}
        [ -f "$path" ] || fail "missing $path"
        mode=$(stat -c %a "$path")
        [ "$mode" = "${f#*:}" ] || fail "$path has mode $mode, expected ${f#*:}"
done
[ -d "$root/etc/healthdog/conf.d" ] || fail "missing /etc/healthdog/conf.d"
[ -d "$root/usr/lib/healthdog/conf.d" ] || fail "missing /usr/lib/healthdog/conf.d"

"$root/usr/sbin/healthdog" version | grep -q '^healthdog ' || fail "installed binary does not run"
# The shipped config is valid as installed (its drop-in directory is the installed conf.d).
out=$("$root/usr/sbin/healthdog" config check -c "$root/etc/healthdog/healthdog.conf")
[ "$out" = "configuration OK" ] || fail "shipped config: $out"

unit=$root/$units/healthdog.service
grep -q '^ExecStart=/usr/sbin/healthdog run$' "$unit" || fail "ExecStart not substituted: $(grep ExecStart "$unit")"
grep -q '^ExecStart=/usr/libexec/healthdog-ostree serve$' "$root/$units/healthdog-ostree@.service" ||
        fail "helper ExecStart not substituted"
grep -q '^ExecStart=/usr/sbin/healthdog arm$' "$root/$units/healthdog-arm.service" || fail "healthdog-arm ExecStart not substituted"
grep -q '^ExecStart=/usr/sbin/healthdog update$' "$root/$units/healthdog-update.service" || fail "healthdog-update ExecStart not substituted"
grep -q '^ConditionPathExists=!/var/lib/healthdog/update-armed$' "$root/$units/healthdog-update.service" ||
        fail "healthdog-update: $(grep Condition "$root/$units/healthdog-update.service")"
grep -q '@[A-Z]*@' "$root/$units"/healthdog* && fail "unsubstituted placeholder in $(grep -l '@[A-Z]*@' "$root/$units"/healthdog*)"
grep -qx 'Documentation=man:healthdog(8) man:healthdog.conf(5) file:/usr/share/doc/healthdog/README.md' "$unit" ||
        fail "healthdog.service: $(grep Documentation "$unit")"
for u in healthdog-ostree.socket healthdog-ostree@.service; do
        grep -q '^Documentation=man:healthdog-ostree(8) .*file:/usr/share/doc/healthdog/README.md$' "$root/$units/$u" ||
                fail "$u: $(grep Documentation "$root/$units/$u")"
done

# The manuals name the paths this build uses, and every page the units point to is installed.
man=$root/usr/share/man
# scdoc writes "conf.\&d": the text without roff's zero-width escapes.
text() { sed 's/\\&//g' "$1"; }
grep -q '@[A-Z]*@' "$man"/man*/* && fail "unsubstituted placeholder in $(grep -l '@[A-Z]*@' "$man"/man*/*)"
grep -q '/usr/lib/healthdog/conf.d/' <(text "$man/man5/healthdog.conf.5") || fail "healthdog.conf(5) does not name the vendor drop-ins"
grep -q '/usr/libexec/healthdog-ostree' <(text "$man/man5/healthdog.conf.5") || fail "healthdog.conf(5) does not name the helper"
for ref in $(grep -ho 'man:[a-z.-]*([0-9])' "$root/$units"/healthdog*); do
        name=${ref#man:}; section=${name#*(}; section=${section%)}; name=${name%(*}
        [ -f "$man/man$section/$name.$section" ] || fail "the units point to $ref, which is not installed"
done

# verify wants ExecStart to exist on this machine: point it at the installed binaries.
command -v systemd-analyze >/dev/null || fail "systemd-analyze missing (package systemd): make check installs it"
mkdir -p "$TEST_TMPDIR/unit"
for u in healthdog.service healthdog-arm.service healthdog-update.service healthdog-update.timer healthdog-ostree.socket \
        healthdog-ostree@.service; do
        sed -e "s|^\(Exec[A-Za-z]*\)=/usr/|\1=$root/usr/|" "$root/$units/$u" >"$TEST_TMPDIR/unit/$u"
done
# It also runs man(1) for each Documentation=man: page: the installed ones.
(cd "$TEST_TMPDIR/unit" && MANPATH=$root/usr/share/man systemd-analyze verify healthdog.service healthdog-arm.service healthdog-update.service \
        healthdog-update.timer healthdog-ostree.socket) ||
        fail "systemd-analyze verify"

bash -c "source '$root/usr/share/bash-completion/completions/healthdog' && complete -p healthdog" >/dev/null ||
        fail "the installed bash completion does not load"

# The GRUB fragment, as grub-mkconfig runs it: 14_healthdog linked into a grub.d directory prints
# healthdog.cfg from beside its real path.
mkdir -p "$TEST_TMPDIR/grub.d"
ln -s "$root/usr/share/healthdog/grub/14_healthdog" "$TEST_TMPDIR/grub.d/14_healthdog"
"$TEST_TMPDIR/grub.d/14_healthdog" | cmp -s - "$root/usr/share/healthdog/grub/healthdog.cfg" ||
        fail "14_healthdog linked into grub.d does not print healthdog.cfg"

# Overridable directories, compiled in as well (in a build directory of its own).
make -s -C "$SRCDIR" install B="$TEST_TMPDIR/build" DESTDIR="$root.2" PREFIX=/opt/hd \
        SYSTEMDUNITDIR=/lib/systemd/system MANDIR=/opt/hd/man DOCDIR=/opt/hd/doc BASHCOMPLETIONDIR=/opt/hd/bash >/dev/null
grep -qa /opt/hd/lib/healthdog/conf.d "$root.2/opt/hd/sbin/healthdog" || fail "PREFIX not compiled in"
[ -x "$root.2/opt/hd/sbin/healthdog" ] || fail "PREFIX not honoured"
[ -f "$root.2/lib/systemd/system/healthdog.service" ] || fail "SYSTEMDUNITDIR not honoured"
grep -q '^ExecStart=/opt/hd/sbin/healthdog run$' "$root.2/lib/systemd/system/healthdog.service" ||
        fail "ExecStart does not follow SBINDIR"
[ -f "$root.2/opt/hd/man/man5/healthdog.conf.5" ] || fail "MANDIR not honoured"
grep -q '/opt/hd/lib/healthdog/conf.d/' <(text "$root.2/opt/hd/man/man5/healthdog.conf.5") ||
        fail "healthdog.conf(5) does not follow VENDORCONFDIR"
[ -f "$root.2/opt/hd/doc/README.md" ] || fail "DOCDIR not honoured"
[ -f "$root.2/opt/hd/bash/healthdog" ] || fail "BASHCOMPLETIONDIR not honoured"
grep -q 'file:/opt/hd/doc/README.md$' "$root.2/lib/systemd/system/healthdog.service" ||
        fail "Documentation= does not follow DOCDIR"
echo "install layout OK"
