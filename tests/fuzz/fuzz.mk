# The libFuzzer build (clang), read after the Makefile, whose PATHS, PKG_CFLAGS, PKG_LIBS and
# DAEMON_SRCS it uses:  make -f Makefile -f tests/fuzz/fuzz.mk B=DIR fuzz-build
# tests/fuzz/run does that; the targets land in $(B)/fuzz/.

FUZZ_TARGETS := fuzz-config fuzz-helper-json fuzz-state
# The daemon's objects, plus the helper's quarantine file (no libostree in either).
FUZZ_SRCS := $(DAEMON_SRCS) src/ostree/ostree-quarantine.c src/ostree/ostree-deploy.c
FUZZ_OBJS := $(FUZZ_SRCS:src/%.c=$(B)/fuzz/obj/%.o)
FUZZ_CC ?= clang
FUZZ_SAN := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS = -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wstrict-prototypes -Wvla -Wno-unused-parameter -Wno-sign-compare \
	-Wno-missing-field-initializers $(PATHS) $(INCLUDES) $(PKG_CFLAGS) $(FUZZ_SAN)

.PHONY: fuzz-build
fuzz-build: $(FUZZ_TARGETS:%=$(B)/fuzz/%)

$(B)/fuzz/obj/%.o: src/%.c $(HEADERS) $(B)/paths.stamp
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_TARGETS:%=$(B)/fuzz/%): $(B)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(FUZZ_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $(filter %.c %.o,$^) $(PKG_LIBS)
