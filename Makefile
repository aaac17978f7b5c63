# healthdog — plain GNU make. `make`, `make check`, `make demo`, `make install DESTDIR=... PREFIX=...`

PREFIX         ?= /usr
SBINDIR        ?= $(PREFIX)/sbin
LIBEXECDIR     ?= $(PREFIX)/libexec
SYSCONFDIR     ?= /etc
DATADIR        ?= $(PREFIX)/share
DOCDIR         ?= $(DATADIR)/doc/healthdog
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
VENDORCONFDIR  ?= $(PREFIX)/lib/healthdog/conf.d
MANDIR         ?= $(DATADIR)/man
BASHCOMPLETIONDIR ?= $(DATADIR)/bash-completion/completions
LOCALSTATEDIR  ?= /var
DESTDIR        ?=

VERSION := 0.1
B ?= build
PKG_CONFIG ?= pkg-config
SCDOC ?= scdoc
PKGS := libsystemd inih libubootenv

CFLAGS ?= -O2 -g
WARNINGS := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wmissing-declarations \
	-Wpointer-arith -Wformat=2 -Wformat-truncation=1 -Wundef -Wcast-align -Wwrite-strings -Wvla \
	-Wimplicit-fallthrough -Wno-unused-parameter -Wno-missing-field-initializers
ifneq ($(CI),)
WARNINGS += -Werror
endif

PATHS := -DHEALTHDOG_VERSION='"$(VERSION)"' \
	-DHEALTHDOG_CONFIG_FILE='"$(SYSCONFDIR)/healthdog/healthdog.conf"' \
	-DHEALTHDOG_ADMIN_DROPIN_DIR='"$(SYSCONFDIR)/healthdog/conf.d"' \
	-DHEALTHDOG_VENDOR_DROPIN_DIR='"$(VENDORCONFDIR)"' \
	-DHEALTHDOG_OSTREE_HELPER='"$(LIBEXECDIR)/healthdog-ostree"'

# The paths are compiled in: rebuild when they change between `make` and `make install`.
ifneq ($(file <$(B)/paths.stamp),$(PATHS))
$(shell mkdir -p $(B))
$(file >$(B)/paths.stamp,$(PATHS))
endif

# The manuals (scdoc sources in src/man/) and the units name the installed paths: filled in here,
# rebuilt when they change.
SUBST := -e 's|@VERSION@|$(VERSION)|g' -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@LIBEXECDIR@|$(LIBEXECDIR)|g' \
	-e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' -e 's|@VENDORCONFDIR@|$(VENDORCONFDIR)|g' -e 's|@DOCDIR@|$(DOCDIR)|g' \
	-e 's|@LOCALSTATEDIR@|$(LOCALSTATEDIR)|g'
ifneq ($(file <$(B)/subst.stamp),$(SUBST))
$(shell mkdir -p $(B))
$(file >$(B)/subst.stamp,$(SUBST))
endif
MAN_PAGES := healthdog.8 healthdog.conf.5 healthdog-ostree.8
UNITS := healthdog.service healthdog-arm.service healthdog-update.service healthdog-update.timer \
	healthdog-ostree.socket healthdog-ostree@.service

PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS))
PKG_LIBS = $(shell $(PKG_CONFIG) --libs $(PKGS))
ALL_CFLAGS = -std=gnu11 -D_GNU_SOURCE $(WARNINGS) $(PATHS) $(INCLUDES) $(PKG_CFLAGS) $(CFLAGS) $(CPPFLAGS)
# -z now: every symbol is bound at start-up, before the daemon unmaps start-up's pages (main.c);
# lazy binding would walk the libraries' hash tables (and fault them back in) on each first call.
ALL_LDFLAGS = -Wl,--as-needed -Wl,-z,now $(LDFLAGS)

SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

# One line per file (`CC src/...`); V=1 prints the whole commands.
ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @printf '  %-6s %s\n' $(1) $(2)
endif

# The parts, one folder each: src/shared (both binaries), src/checks (the check kinds),
# src/boot (boot assessment, the boot environment, the daemon's side of the OSTree helper),
# src/daemon (the daemon and its command line; main.c is the binary) and src/ostree (the
# healthdog-ostree helper, the only program that links libostree).
SRC_DIRS := shared checks boot daemon ostree
INCLUDES := $(SRC_DIRS:%=-Isrc/%)
HEADERS := $(wildcard $(SRC_DIRS:%=src/%/*.h))

# What runs in the steady state is linked first, together, right after the PLT it calls through:
# the kernel maps code 64 kB around each fault, so the windows this code spans are what stays
# resident (README, "What the RSS is made of"); start-up, reload and the CLI come after it.
STEADY_SRCS := src/shared/log.c src/shared/spawn.c src/shared/util.c $(wildcard src/checks/*.c) \
	src/daemon/feed.c src/daemon/hold.c src/daemon/manager.c src/daemon/pages.c src/daemon/wdt.c
DAEMON_SRCS := $(STEADY_SRCS) $(filter-out $(STEADY_SRCS) src/daemon/main.c,$(wildcard src/shared/*.c src/boot/*.c src/daemon/*.c))
DAEMON_OBJS := $(DAEMON_SRCS:src/%.c=$(B)/obj/%.o)
SAN_OBJS := $(DAEMON_SRCS:src/%.c=$(B)/asan/%.o)

# healthdog-ostree: only ostree-admin.c includes libostree (and GLib).
OSTREE_SRCS := $(wildcard src/ostree/*.c) src/shared/util.c src/shared/verbs.c
OSTREE_CFLAGS = $(patsubst -I%,-isystem %,$(shell $(PKG_CONFIG) --cflags ostree-1))
OSTREE_LIBS = $(shell $(PKG_CONFIG) --libs ostree-1)

FUZZ_TARGETS := fuzz-config fuzz-helper-json fuzz-state
UNIT_TESTS := test-util test-config test-conf-parser test-check test-check-run test-resource test-net test-bus test-bootenv test-grubenv test-boot test-feed test-hooks test-json test-spawn-stdio
TOOLS := wdt-standin monotime fake-systemd1

.PHONY: all install uninstall check check-host check-vm check-vm-full demo bench fuzz soak vm-image vm-demo deps test-deps clean
.PHONY: vm-image-arm64 check-vm-arm64
all: $(B)/healthdog $(B)/healthdog-ostree $(MAN_PAGES:%=$(B)/man/%)

$(B)/obj/%.o: src/%.c $(HEADERS) $(B)/paths.stamp
	@mkdir -p $(@D)
	$(call say,CC,$<)
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<
$(B)/asan/%.o: src/%.c $(HEADERS) $(B)/paths.stamp
	@mkdir -p $(@D)
	$(call say,CC,$< [asan])
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -c -o $@ $<
$(B)/tests:
	@mkdir -p $@

# scdoc turns hyphenation off before .TH, which turns it on again: off once more after it, so
# that no path or variable name is split at the end of a line.
$(B)/man/%: src/man/%.scd $(B)/subst.stamp
	@mkdir -p $(@D)
	@command -v $(SCDOC) >/dev/null || { echo "$(SCDOC) not found: the manuals need scdoc (Debian package scdoc; make deps installs it)" >&2; exit 1; }
	$(call say,SCDOC,$<)
	$(Q)sed $(SUBST) $< >$@.scd && $(SCDOC) <$@.scd >$@.tmp && sed -i '/^\.TH /a .nh' $@.tmp && mv $@.tmp $@ && rm $@.scd
$(B)/units/%: units/%.in $(B)/subst.stamp
	@mkdir -p $(@D)
	$(Q)sed $(SUBST) $< >$@

$(B)/healthdog: $(DAEMON_OBJS) $(B)/obj/daemon/main.o
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)
$(B)/asan/healthdog: $(SAN_OBJS) $(B)/asan/daemon/main.o
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/obj/ostree/ostree-admin.o $(B)/asan/ostree/ostree-admin.o: ALL_CFLAGS += $(OSTREE_CFLAGS)
$(B)/healthdog-ostree: $(OSTREE_SRCS:src/%.c=$(B)/obj/%.o)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(OSTREE_LIBS)
$(B)/asan/healthdog-ostree: $(OSTREE_SRCS:src/%.c=$(B)/asan/%.o)
	$(call say,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) $(ALL_LDFLAGS) -o $@ $^ $(OSTREE_LIBS)

# Unit tests link the real objects (sanitized) with cmocka.
$(B)/tests/test-%: tests/unit/test-%.c tests/unit/*.h $(SAN_OBJS) | $(B)/tests
	$(call say,CCLD,$<)
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) $(ALL_LDFLAGS) -o $@ $(filter %.c %.o,$^) $(PKG_LIBS) $(shell $(PKG_CONFIG) --libs cmocka)
# The OSTree deployment rules, on plain arrays (no libostree).
$(B)/tests/test-ostree-deploy: tests/ostree/test-deploy.c $(B)/asan/ostree/ostree-deploy.o $(B)/asan/shared/util.o | $(B)/tests
	$(call say,CCLD,$<)
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) $(ALL_LDFLAGS) -o $@ $^ $(shell $(PKG_CONFIG) --libs cmocka)
# The fuzz targets without libFuzzer (gcc, ASan/UBSan): tests/fuzz/replay-check feeds them the
# seed corpus and every input the fuzzers found.
$(B)/tests/fuzz-%: tests/fuzz/fuzz-%.c tests/fuzz/replay.c tests/fuzz/fuzz.h $(SAN_OBJS) \
		$(B)/asan/ostree/ostree-quarantine.o $(B)/asan/ostree/ostree-deploy.o | $(B)/tests
	$(call say,CCLD,$<)
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) $(ALL_LDFLAGS) -o $@ $(filter %.c %.o,$^) $(PKG_LIBS)
# The test tools (tests/tools/), built into $(B)/tests/: the watchdog stand-in and a CLOCK_MONOTONIC
# clock for the scripts.
$(B)/tests/%: tests/tools/%.c | $(B)/tests
	$(call say,CCLD,$<)
	$(Q)$(CC) -std=gnu11 $(WARNINGS) $(CFLAGS) -o $@ $<
# The bench's floor: the steady state's probes without healthdog (tests/bench/floor.c).
$(B)/tests/bench-floor: tests/bench/floor.c | $(B)/tests
	$(call say,CCLD,$<)
	$(Q)$(CC) -std=gnu11 $(WARNINGS) $(CFLAGS) $(PKG_CFLAGS) -o $@ $< -lsystemd
# A stand-in for systemd's D-Bus API, for the systemd-* checks' tests.
$(B)/tests/fake-systemd1: tests/tools/fake-systemd1.c | $(B)/tests
	$(call say,CCLD,$<)
	$(Q)$(CC) -std=gnu11 -D_GNU_SOURCE $(WARNINGS) $(shell $(PKG_CONFIG) --cflags libsystemd) $(CFLAGS) -o $@ $< \
		$(shell $(PKG_CONFIG) --libs libsystemd)

install: $(B)/healthdog $(B)/healthdog-ostree $(MAN_PAGES:%=$(B)/man/%) $(UNITS:%=$(B)/units/%)
	install -Dm755 $(B)/healthdog $(DESTDIR)$(SBINDIR)/healthdog
	install -Dm755 $(B)/healthdog-ostree $(DESTDIR)$(LIBEXECDIR)/healthdog-ostree
	install -Dm644 conf/healthdog.conf $(DESTDIR)$(SYSCONFDIR)/healthdog/healthdog.conf
	install -dm755 $(DESTDIR)$(SYSCONFDIR)/healthdog/conf.d $(DESTDIR)$(VENDORCONFDIR) \
		$(DESTDIR)$(SYSCONFDIR)/healthdog/green.d $(DESTDIR)$(SYSCONFDIR)/healthdog/red.d
	install -dm755 $(DESTDIR)$(DOCDIR)/examples
	install -m644 conf/examples/*.conf $(DESTDIR)$(DOCDIR)/examples/
	install -m644 README.md $(DESTDIR)$(DOCDIR)/README.md
	for u in $(UNITS); do install -Dm644 $(B)/units/$$u $(DESTDIR)$(SYSTEMDUNITDIR)/$$u || exit 1; done
	for m in $(MAN_PAGES); do install -Dm644 $(B)/man/$$m $(DESTDIR)$(MANDIR)/man$${m##*.}/$$m || exit 1; done
	install -Dm644 conf/bash-completion/healthdog $(DESTDIR)$(BASHCOMPLETIONDIR)/healthdog
	install -Dm644 conf/grub/healthdog.cfg $(DESTDIR)$(DATADIR)/healthdog/grub/healthdog.cfg
	install -Dm755 conf/grub/14_healthdog $(DESTDIR)$(DATADIR)/healthdog/grub/14_healthdog

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/healthdog $(DESTDIR)$(LIBEXECDIR)/healthdog-ostree \
		$(UNITS:%=$(DESTDIR)$(SYSTEMDUNITDIR)/%) $(DESTDIR)$(DOCDIR)/examples/*.conf $(DESTDIR)$(DOCDIR)/README.md \
		$(DESTDIR)$(BASHCOMPLETIONDIR)/healthdog $(DESTDIR)$(DATADIR)/healthdog/grub/healthdog.cfg \
		$(DESTDIR)$(DATADIR)/healthdog/grub/14_healthdog
	for m in $(MAN_PAGES); do rm -f $(DESTDIR)$(MANDIR)/man$${m##*.}/$$m; done

# The Debian packages the build and the tests need; installed when missing (needs root).
deps:
	@tests/install-deps build
test-deps:
	@tests/install-deps test

# Everything: the tests on this machine and both devices' fast sets, the x86 one after the host
# tests and the arm64 one beside them (tests/check).
check:
	B=$(B) tests/check

# LOAD=1: the host tests beside stress-ng (2 CPU workers, 1 I/O worker; tests/under-load).
UNDER_LOAD := $(if $(filter 1,$(LOAD)),tests/under-load)
check-host: test-deps
	$(MAKE) $(B)/healthdog $(B)/asan/healthdog $(UNIT_TESTS:%=$(B)/tests/%) $(TOOLS:%=$(B)/tests/%) \
		$(B)/healthdog-ostree $(B)/asan/healthdog-ostree $(B)/tests/test-ostree-deploy \
		$(FUZZ_TARGETS:%=$(B)/tests/%) $(MAN_PAGES:%=$(B)/man/%)
	$(UNDER_LOAD) tests/run
	$(UNDER_LOAD) env B=$(B) SOAK_CYCLES=5000 tests/soak/run

# The device in a box (tests/vm/): U-Boot with bootcount and an OSTree-deployed Debian with
# healthdog installed, in $(VM). The first build debootstraps (needs root and Debian's mirror);
# after a healthdog change it takes seconds.
VM ?= $(B)/vm
vm-image: $(B)/healthdog $(B)/healthdog-ostree
	@tests/install-deps vm
	tests/vm/build-uboot $(VM)
	HEALTHDOG_BUILD=$(abspath $(B)) tests/vm/build-image $(VM)
# The hardware watchdog scenarios on it: `make check` runs the fast set (one scenario per claim,
# SET=fast in the file), `make check-vm-full` all of them, the arm64 board's too.
check-vm: vm-image
	VM=$(abspath $(VM)) VM_SET=fast tests/vm/check-vm
check-vm-full: vm-image vm-image-arm64
	VM=$(abspath $(VM)) tests/vm/check-vm
	VM_ARCH=arm64 VM_ARM64=$(abspath $(VM_ARM64)) tests/vm/check-vm

# The arm64 device in a box: QEMU's virt board, U-Boot with its environment in NOR flash (MTD).
# Its scenarios (ARCH=arm64, or both boards): `make check` runs them beside the x86 ones.
VM_ARM64 ?= $(B)/vm-arm64
vm-image-arm64:
	@tests/install-deps vm-arm64
	tests/vm/build-uboot $(VM_ARM64) arm64
	ARCH=arm64 GUEST_EXTRA=tests/vm/guest-arm64 tests/vm/build-image $(VM_ARM64)

check-vm-arm64: vm-image-arm64
	VM_ARCH=arm64 VM_ARM64=$(abspath $(VM_ARM64)) VM_SET=$(VM_SET) tests/vm/check-vm
# The story of an update, good then bad, on the console.
vm-demo: vm-image
	VM=$(abspath $(VM)) tests/vm/demo

demo:
	@tests/install-deps demo
	$(MAKE) $(B)/healthdog $(B)/healthdog-ostree $(B)/tests/wdt-standin
	tests/demo

# Not part of `make check`: measures, prints a table, keeps the raw data under $(B)/bench/.
# BENCH_SECONDS (default 60) is the steady-state window.
bench:
	@tests/install-deps bench
	$(MAKE) $(B)/healthdog $(B)/tests/wdt-standin $(B)/tests/monotime $(B)/tests/bench-floor
	B=$(B) BENCH_SECONDS=$(or $(BENCH_SECONDS),60) tests/bench/run

# 100,000 check runs of every kind under ASan/LSan/UBSan with probes, repairs and reloads: no
# leak, flat descriptors and heap (`make check` runs 5,000). SOAK_VALGRIND=1: valgrind memcheck;
# SOAK_PLAIN=1: the plain build's memory. Data in $(B)/soak/.
soak: test-deps
	$(MAKE) $(B)/asan/healthdog $(B)/healthdog $(B)/tests/wdt-standin $(B)/tests/monotime $(B)/tests/fake-systemd1
	B=$(B) tests/soak/run

# Not part of `make check`: libFuzzer (clang) over the config loader, the helper's replies and
# the state records, FUZZ_SECONDS (default 60) per target. Findings land in tests/fuzz/regressions/.
fuzz:
	@tests/install-deps fuzz
	B=$(B) FUZZ_SECONDS=$(or $(FUZZ_SECONDS),60) tests/fuzz/run

# OSTree makes deployment roots immutable; the device image's sysroot has some.
clean:
	-find $(B) -path '*/ostree/deploy/*/deploy/*' -prune -type d -exec chattr -i {} + 2>/dev/null
	rm -rf $(B)
