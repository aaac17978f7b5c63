/* SPDX-License-Identifier: MIT */
/* Unit tests for bootenv_read() and bootenv_write() on real U-Boot environment images made with
 * mkenvimage in a throwaway directory, with the results checked from outside with fw_printenv and
 * by comparing the image bytes. The lock tests hold libubootenv's real lock file with flock(1);
 * the lock file's own mode is tested on a tmpfs mounted over its directory in a private mount
 * namespace, so the system's lock file is never touched. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <linux/fs.h>

#include "bootenv.h"
#include "tmpdir.h"

#define ENV_SIZE 0x4000
#define VARS "upgrade_available=1\nbootcount=2\nfoo=bar baz\n"
#define VARS_LISTING "bootcount=2\nfoo=bar baz\nupgrade_available=1\n"

/* ---- helpers ---- */

static bool unshared; /* the read-only test made a private mount namespace */

static char *test_path(const char *dir, const char *name) {
        char *p;

        assert_true(asprintf(&p, "%s/%s", dir, name) >= 0);
        return p;
}

static void write_text(const char *path, const char *text) {
        assert_int_equal(write_file_atomic(path, text, strlen(text), 0644), 0);
}

/* Makes dir/name from the variables in vars ("a=1\nb=2\n") with mkenvimage; redundant adds the
 * flags byte (mkenvimage -r writes flags 1). Returns the image path. */
static char *make_image(const char *dir, const char *name, const char *vars, bool redundant) {
        _cleanup_(freep) char *txt = NULL, *cmd = NULL;
        char *image = test_path(dir, name);

        assert_true(asprintf(&txt, "%s.txt", image) >= 0);
        write_text(txt, vars);
        assert_true(asprintf(&cmd, "mkenvimage %s -s 0x%x -o '%s' '%s'", redundant ? "-r" : "", ENV_SIZE, image,
                             txt) >= 0);
        assert_int_equal(system(cmd), 0);
        return image;
}

/* Writes dir/fw_env.config with one line per image (offsets and sizes as given). */
static char *make_config(const char *dir, const char *text) {
        char *config = test_path(dir, "fw_env.config");

        write_text(config, text);
        return config;
}

static char *config_line(const char *image, unsigned offset, unsigned size) {
        char *line;

        assert_true(asprintf(&line, "%s 0x%x 0x%x\n", image, offset, size) >= 0);
        return line;
}

static char *make_config1(const char *dir, const char *image) {
        _cleanup_(freep) char *line = config_line(image, 0, ENV_SIZE);

        return make_config(dir, line);
}

static char *make_config2(const char *dir, const char *image0, unsigned offset0, const char *image1,
                          unsigned offset1) {
        _cleanup_(freep) char *l0 = config_line(image0, offset0, ENV_SIZE), *l1 = config_line(image1, offset1, ENV_SIZE);
        _cleanup_(freep) char *text = NULL;

        assert_true(asprintf(&text, "%s%s", l0, l1) >= 0);
        return make_config(dir, text);
}

/* The whole file; *size gets its length. */
static uint8_t *slurp(const char *path, size_t *size) {
        _cleanup_(fclosep) FILE *f = fopen(path, "re");
        uint8_t *buf;
        long l;

        assert_non_null(f);
        assert_int_equal(fseek(f, 0, SEEK_END), 0);
        l = ftell(f);
        assert_true(l > 0);
        rewind(f);
        buf = malloc(l);
        assert_non_null(buf);
        assert_int_equal(fread(buf, 1, l, f), (size_t) l);
        *size = l;
        return buf;
}

/* The whole file as a string, "" when it is empty; *size gets its length. */
static char *slurp_or_empty(const char *path, size_t *size) {
        _cleanup_(fclosep) FILE *f = fopen(path, "re");
        char *buf;

        assert_non_null(f);
        buf = calloc(1, 4096);
        assert_non_null(buf);
        *size = fread(buf, 1, 4095, f);
        return buf;
}

static void assert_same_bytes(const uint8_t *before, size_t size, const char *path) {
        size_t now_size;
        _cleanup_(freep) uint8_t *now_bytes = slurp(path, &now_size);

        assert_int_equal(now_size, size);
        assert_memory_equal(now_bytes, before, size);
}

/* Flips a byte in the variable area of the copy at offset: its CRC no longer matches. */
static void corrupt(const char *image, unsigned offset) {
        _cleanup_(closep) int fd = open(image, O_RDWR | O_CLOEXEC);
        uint8_t b;

        assert_true(fd >= 0);
        assert_int_equal(pread(fd, &b, 1, offset + 8), 1);
        b ^= 0xff;
        assert_int_equal(pwrite(fd, &b, 1, offset + 8), 1);
}

static uint8_t flags_byte(const char *image, unsigned offset) {
        _cleanup_(closep) int fd = open(image, O_RDONLY | O_CLOEXEC);
        uint8_t b;

        assert_true(fd >= 0);
        assert_int_equal(pread(fd, &b, 1, offset + 4), 1);
        return b;
}

/* Runs "fw_printenv -c config args" and returns what it printed to stdout (allocated). With
 * want_ok the exit status must be 0. */
static char *printenv(const char *config, const char *args, bool want_ok) {
        _cleanup_(freep) char *cmd = NULL;
        char *out = NULL;
        size_t len = 0, cap = 0;
        char buf[4096];
        FILE *p;
        size_t k;
        int status;

        assert_true(asprintf(&cmd, "fw_printenv -c '%s' %s 2>/dev/null", config, args) >= 0);
        p = popen(cmd, "re");
        assert_non_null(p);
        assert_int_equal(buf_appendf(&out, &len, &cap, "%s", ""), 0);
        while ((k = fread(buf, 1, sizeof(buf) - 1, p)) > 0) {
                buf[k] = '\0';
                assert_int_equal(buf_appendf(&out, &len, &cap, "%s", buf), 0);
        }
        status = pclose(p);
        if (want_ok && status != 0)
                fail_msg("'%s' failed with status %d, printed '%s'", cmd, status, out);
        return out;
}

static void assert_listing(const char *config, const char *expected) {
        _cleanup_(freep) char *out = printenv(config, "", true);

        assert_string_equal(out, expected);
}

static void free_values(char **values, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(values[i]);
                values[i] = NULL;
        }
}

static void assert_read_fails(const char *config, int error) {
        static const char *const names[] = { "bootcount", "upgrade_available" };
        char *values[2] = { (char *) 1, (char *) 1 };

        assert_int_equal(bootenv_read(config, names, 2, values), error);
        assert_null(values[0]);
        assert_null(values[1]);
}

/* A write attempt of bootcount=0 that must fail with error and leave image untouched. */
static void assert_write_fails(const char *config, const char *image, int error) {
        static const char *const names[] = { "bootcount", "upgrade_available" };
        static const char *const values[] = { "0", NULL };
        size_t size;
        _cleanup_(freep) uint8_t *before = slurp(image, &size);

        assert_int_equal(bootenv_write(config, names, values, NULL, 2), error);
        assert_same_bytes(before, size, image);
}

/* ---- reading ---- */

static void test_read(void **state) {
        const char *dir = *state;
        _cleanup_(freep) char *image = make_image(dir, "uboot.env", VARS, false);
        _cleanup_(freep) char *config = make_config1(dir, image);
        static const char *const names[] = { "bootcount", "foo", "nosuch", "upgrade_available" };
        char *values[4];

        assert_int_equal(bootenv_read(config, names, 4, values), 0);
        assert_string_equal(values[0], "2");
        assert_string_equal(values[1], "bar baz");
        assert_null(values[2]);
        assert_string_equal(values[3], "1");
        free_values(values, 4);

        assert_int_equal(bootenv_read(config, names, 0, values), 0);
}

static void test_read_redundant_layouts(void **state) {
        const char *dir = *state;
        _cleanup_(freep) char *a = make_image(dir, "a.env", VARS, true);
        _cleanup_(freep) char *b = make_image(dir, "b.env", VARS, true);
        _cleanup_(freep) char *both = test_path(dir, "both.env"), *cmd = NULL;
        static const char *const names[] = { "bootcount" };
        char *value;

        /* Two files. */
        _cleanup_(freep) char *config = make_config2(dir, a, 0, b, 0);
        assert_int_equal(bootenv_read(config, names, 1, &value), 0);
        assert_string_equal(value, "2");
        free(value);
        assert_listing(config, VARS_LISTING);

        /* One file with both copies, as on a raw partition. */
        assert_true(asprintf(&cmd, "cat '%s' '%s' > '%s'", a, b, both) >= 0);
        assert_int_equal(system(cmd), 0);
        free(config);
        config = make_config2(dir, both, 0, both, ENV_SIZE);
        assert_int_equal(bootenv_read(config, names, 1, &value), 0);
        assert_string_equal(value, "2");
        free(value);
        assert_listing(config, VARS_LISTING);
}

/* ---- writing ---- */

static void test_write_single(void **state) {
        const char *dir = *state;
        _cleanup_(freep) char *image = make_image(dir, "uboot.env", VARS, false);
        _cleanup_(freep) char *config = make_config1(dir, image);
        static const char *const names[] = { "upgrade_available", "bootcount", "new" };
        static const char *const values[] = { "0", "0", "a=b c" };
        char *got[3];

        assert_int_equal(bootenv_write(config, names, values, NULL, 3), 0);
        assert_listing(config, "bootcount=0\nfoo=bar baz\nnew=a=b c\nupgrade_available=0\n");

        assert_int_equal(bootenv_read(config, names, 3, got), 0);
        for (size_t i = 0; i < 3; i++)
                assert_string_equal(got[i], values[i]);
        free_values(got, 3);
}

/* Several variables go to the storage in one store: with a redundant environment every store
 * writes the non-current copy with the flags byte incremented, so one store changes exactly one
 * copy and the flags by one, two stores would change both. */
static void test_write_one_store(void **state) {
        const char *dir = *state;
        _cleanup_(freep) char *a = make_image(dir, "a.env", VARS, true);
        _cleanup_(freep) char *b = make_image(dir, "b.env", VARS, true);
        _cleanup_(freep) char *config = make_config2(dir, a, 0, b, 0);
        static const char *const names[] = { "upgrade_available", "bootcount", "new" };
        static const char *const values1[] = { "0", "0", "x" };
        static const char *const values2[] = { "1", "3", "y" };
        size_t size_a, size_b;
        _cleanup_(freep) uint8_t *a0 = slurp(a, &size_a), *b0 = slurp(b, &size_b);
        uint8_t *b1;

        assert_int_equal(flags_byte(a, 0), 1);
        assert_int_equal(flags_byte(b, 0), 1);

        /* Equal flags: copy 0 is current, so copy 1 is written. */
        assert_int_equal(bootenv_write(config, names, values1, NULL, 3), 0);
        assert_same_bytes(a0, size_a, a);
        assert_int_equal(flags_byte(b, 0), 2);
        assert_listing(config, "bootcount=0\nfoo=bar baz\nnew=x\nupgrade_available=0\n");

        /* Now copy 1 is current: the next store goes to copy 0. */
        b1 = slurp(b, &size_b);
        assert_int_equal(bootenv_write(config, names, values2, NULL, 3), 0);
        assert_same_bytes(b1, size_b, b);
        free(b1);
        assert_int_equal(flags_byte(a, 0), 3);
        assert_listing(config, "bootcount=3\nfoo=bar baz\nnew=y\nupgrade_available=1\n");
}

static void test_write_unchanged(void **state) {
        const char *dir = *state;
        _cleanup_(freep) char *image = make_image(dir, "uboot.env", VARS, false);
        _cleanup_(freep) char *config = make_config1(dir, image);
        static const char *const names[] = { "bootcount", "upgrade_available", "nosuch" };
        static const char *const values[] = { "2", "1", NULL };
        struct stat st0, st1;
        size_t size;
        _cleanup_(freep) uint8_t *before = slurp(image, &size);

        assert_int_equal(stat(image, &st0), 0);
        assert_int_equal(bootenv_write(config, names, values, NULL, 3), 1);
        assert_same_bytes(before, size, image);
        assert_int_equal(stat(image, &st1), 0);
        assert_int_equal(st0.st_mtim.tv_sec, st1.st_mtim.tv_sec);
        assert_int_equal(st0.st_mtim.tv_nsec, st1.st_mtim.tv_nsec);
        assert_int_equal(bootenv_write(config, names, values, NULL, 0), 1);
}

static void test_write_remove(void **state) {
        const char *dir = *state;
        _cleanup_(freep) char *image = make_image(dir, "uboot.env", VARS, false);
        _cleanup_(freep) char *config = make_config1(dir, image);
        static const char *const names[] = { "upgrade_available", "bootcount" };
        static const char *const values[] = { NULL, "0" };
        char *got[2];

        assert_int_equal(bootenv_write(config, names, values, NULL, 2), 0);
        /* fw_printenv NAME prints "NAME=" for an unset variable too: compare the whole listing. */
        assert_listing(config, "bootcount=0\nfoo=bar baz\n");
        assert_int_equal(bootenv_read(config, names, 2, got), 0);
        assert_null(got[0]);
        assert_string_equal(got[1], "0");
        free_values(got, 2);

        /* Removing what is not there is "already so". */
        assert_int_equal(bootenv_write(config, names, values, NULL, 1), 1);
}

/* Compare-and-store: confirming writes 0/0 only while the variables still hold what this boot
 * read; an OTA client that armed a new trial since (fw_setenv) keeps it (issue 15 #4). */
static void test_write_expected(void **state) {
        const char *dir = *state;
        _cleanup_(freep) char *image = make_image(dir, "uboot.env", VARS, true);
        _cleanup_(freep) char *config = make_config2(dir, image, 0, image, ENV_SIZE);
        _cleanup_(freep) char *cmd = NULL;
        _cleanup_(freep) uint8_t *before = NULL;
        static const char *const names[] = { "upgrade_available", "bootcount" };
        static const char *const cleared[] = { "0", "0" };
        static const char *const read_at_boot[] = { "1", "2" };
        size_t size;

        assert_true(asprintf(&cmd, "cat '%s' '%s' > '%s.2' && mv '%s.2' '%s' && "
                             "fw_setenv -c '%s' bootcount 0 >/dev/null 2>&1", image, image, image, image, image,
                             config) >= 0);
        assert_int_equal(system(cmd), 0);
        before = slurp(image, &size);
        /* bootcount is 0 now (a new trial armed), no longer 2 as read: nothing is written. */
        assert_int_equal(bootenv_write(config, names, cleared, read_at_boot, 2), -ESTALE);
        assert_same_bytes(before, size, image);
        /* As read: the store goes through. */
        assert_int_equal(bootenv_write(config, names, cleared, (const char *const[]) { "1", "0" }, 2), 0);
        assert_listing(config, "bootcount=0\nfoo=bar baz\nupgrade_available=0\n");
        /* Already so: nothing to compare, nothing written. */
        assert_int_equal(bootenv_write(config, names, cleared, read_at_boot, 2), 1);
}

static void test_write_no_space(void **state) {
        const char *dir = *state;
        _cleanup_(freep) char *image = make_image(dir, "uboot.env", VARS, false);
        _cleanup_(freep) char *config = make_config1(dir, image);
        _cleanup_(freep) char *big = malloc(ENV_SIZE);
        const char *names[] = { "big" };
        const char *values[] = { big };
        size_t size;
        _cleanup_(freep) uint8_t *before = slurp(image, &size);

        assert_non_null(big);
        memset(big, 'x', ENV_SIZE - 1);
        big[ENV_SIZE - 1] = '\0';
        assert_int_equal(bootenv_write(config, names, values, NULL, 1), -ENOSPC);
        assert_same_bytes(before, size, image);
}

static void test_write_flags_read_only(void **state) {
        const char *dir = *state;
        _cleanup_(freep) char *image = make_image(dir, "uboot.env", "bootcount=1\nfoo=x\n.flags=bootcount:dr\n", false);
        _cleanup_(freep) char *config = make_config1(dir, image);
        static const char *const names[] = { "foo", "bootcount" };
        static const char *const values[] = { "y", "0" };
        size_t size;
        _cleanup_(freep) uint8_t *before = slurp(image, &size);

        assert_int_equal(bootenv_write(config, names, values, NULL, 2), -EPERM);
        assert_same_bytes(before, size, image);
}

/* ---- broken environments ---- */

static void test_bad_crc_single(void **state) {
        const char *dir = *state;
        _cleanup_(freep) char *image = make_image(dir, "uboot.env", VARS, false);
        _cleanup_(freep) char *config = make_config1(dir, image);

        corrupt(image, 0);
        assert_read_fails(config, -EBADMSG);
        assert_write_fails(config, image, -EBADMSG);
}

static void test_redundant_one_bad(void **state) {
        const char *dir = *state;

        for (unsigned bad = 0; bad < 2; bad++) {
                _cleanup_(freep) char *good = make_image(dir, "good.env", "bootcount=1\nupgrade_available=1\n", true);
                _cleanup_(freep) char *broken = make_image(dir, "bad.env", "bootcount=9\nupgrade_available=1\n", true);
                _cleanup_(freep) char *config = bad == 0 ? make_config2(dir, broken, 0, good, 0)
                                                         : make_config2(dir, good, 0, broken, 0);
                static const char *const names[] = { "bootcount", "upgrade_available" };
                static const char *const values[] = { "0", NULL };
                char *got[2];
                size_t size;
                _cleanup_(freep) uint8_t *good_bytes = slurp(good, &size);

                corrupt(broken, 0);
                assert_int_equal(bootenv_read(config, names, 2, got), 0);
                assert_string_equal(got[0], "1");
                assert_string_equal(got[1], "1");
                free_values(got, 2);

                /* The store overwrites the bad copy; the good one stays as it was. */
                assert_int_equal(bootenv_write(config, names, values, NULL, 2), 0);
                assert_same_bytes(good_bytes, size, good);
                assert_int_equal(flags_byte(broken, 0), 2);
                assert_listing(config, "bootcount=0\n");
        }
}

static void test_redundant_both_bad(void **state) {
        const char *dir = *state;
        _cleanup_(freep) char *both = test_path(dir, "both.env"), *cmd = NULL;
        _cleanup_(freep) char *a = make_image(dir, "a.env", VARS, true);
        _cleanup_(freep) char *config = make_config2(dir, both, 0, both, ENV_SIZE);

        assert_true(asprintf(&cmd, "cat '%s' '%s' > '%s'", a, a, both) >= 0);
        assert_int_equal(system(cmd), 0);
        corrupt(both, 0);
        corrupt(both, ENV_SIZE);
        assert_read_fails(config, -EBADMSG);
        assert_write_fails(config, both, -EBADMSG);
}

/* U-Boot and Linux must agree on the size: libubootenv cannot find the right one. */
static void test_size_mismatch(void **state) {
        const char *dir = *state;
        _cleanup_(freep) char *image = make_image(dir, "uboot.env", VARS, false);
        _cleanup_(freep) char *redundant = make_image(dir, "r.env", VARS, true);
        _cleanup_(freep) char *line = NULL;
        char *config;

        /* Smaller: the CRC is computed over the wrong length. */
        line = config_line(image, 0, ENV_SIZE / 2);
        config = make_config(dir, line);
        assert_read_fails(config, -EBADMSG);
        assert_write_fails(config, image, -EBADMSG);
        free(config);
        free(line);

        /* Larger than the file: a short read. */
        line = config_line(image, 0, ENV_SIZE * 2);
        config = make_config(dir, line);
        assert_read_fails(config, -EIO);
        assert_write_fails(config, image, -EIO);
        free(config);

        /* A redundant image (5-byte header) described as a single one. */
        config = make_config1(dir, redundant);
        assert_read_fails(config, -EBADMSG);
        assert_write_fails(config, redundant, -EBADMSG);
        free(config);
}

static void test_missing(void **state) {
        const char *dir = *state;
        _cleanup_(freep) char *image = make_image(dir, "uboot.env", VARS, true);
        _cleanup_(freep) char *nosuch = test_path(dir, "nosuch.env");
        _cleanup_(freep) char *noconfig = test_path(dir, "nosuch.config");
        _cleanup_(freep) char *config = NULL;
        static const char *const names[] = { "bootcount" };
        static const char *const values[] = { "0" };

        assert_read_fails(noconfig, -ENOENT);
        assert_int_equal(bootenv_write(noconfig, names, values, NULL, 1), -ENOENT);

        config = make_config1(dir, nosuch);
        assert_read_fails(config, -ENOENT);
        assert_int_equal(bootenv_write(config, names, values, NULL, 1), -ENOENT);
        free(config);

        /* The second copy is missing. */
        config = make_config2(dir, image, 0, nosuch, 0);
        assert_read_fails(config, -ENOENT);
        assert_write_fails(config, image, -ENOENT);
}

static void test_bad_arguments(void **state) {
        const char *dir = *state;
        _cleanup_(freep) char *image = make_image(dir, "uboot.env", VARS, false);
        _cleanup_(freep) char *config = NULL, *line = NULL;
        static const char *const empty[] = { "" }, *const eq[] = { "a=b" }, *const twice[] = { "a", "a" };
        static const char *const values[] = { "1", "2" };
        char *got[2];

        config = make_config1(dir, image);
        assert_int_equal(bootenv_read(config, empty, 1, got), -EINVAL);
        assert_int_equal(bootenv_read(config, eq, 1, got), -EINVAL);
        assert_int_equal(bootenv_read(config, twice, 2, got), -EINVAL);
        assert_int_equal(bootenv_write(config, empty, values, NULL, 1), -EINVAL);
        assert_int_equal(bootenv_write(config, eq, values, NULL, 1), -EINVAL);
        assert_int_equal(bootenv_write(config, twice, values, NULL, 2), -EINVAL);
        free(config);

        /* A config without a usable line, and one with a zero size. */
        config = make_config(dir, "# nothing here\n\n");
        assert_read_fails(config, -EINVAL);
        free(config);
        assert_true(asprintf(&line, "%s 0x0 0\n", image) >= 0);
        config = make_config(dir, line);
        assert_read_fails(config, -EINVAL);
}

/* ---- the outside world ---- */

/* Makes image read-only for root too: a read-only bind mount in a private mount namespace, or
 * the immutable attribute; for others a mode without write permission. Returns the error a
 * write must give, or 0 when none of it is possible here. */
static int make_read_only(const char *image) {
        _cleanup_(closep) int fd = -1;
        int attr;

        if (geteuid() != 0) {
                assert_int_equal(chmod(image, 0444), 0);
                return -EACCES;
        }

        if (unshared || unshare(CLONE_NEWNS) >= 0) {
                unshared = true;
                if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) >= 0 &&
                    mount(image, image, NULL, MS_BIND, NULL) >= 0) {
                        if (mount(NULL, image, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) >= 0)
                                return -EROFS;
                        (void) umount2(image, MNT_DETACH);
                }
        }
        print_message("no read-only bind mount possible (%m), trying the immutable attribute\n");

        fd = open(image, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        assert_true(fd >= 0);
        if (ioctl(fd, FS_IOC_GETFLAGS, &attr) >= 0) {
                attr |= FS_IMMUTABLE_FL;
                if (ioctl(fd, FS_IOC_SETFLAGS, &attr) >= 0)
                        return -EPERM;
        }
        print_message("no immutable attribute either (%m)\n");
        return 0;
}

static void undo_read_only(const char *image, int how) {
        _cleanup_(closep) int fd = -1;
        int attr;

        switch (how) {
        case -EACCES:
                assert_int_equal(chmod(image, 0644), 0);
                break;
        case -EROFS:
                assert_int_equal(umount2(image, 0), 0);
                break;
        case -EPERM:
                fd = open(image, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
                assert_true(fd >= 0);
                assert_int_equal(ioctl(fd, FS_IOC_GETFLAGS, &attr), 0);
                attr &= ~FS_IMMUTABLE_FL;
                assert_int_equal(ioctl(fd, FS_IOC_SETFLAGS, &attr), 0);
                break;
        }
}

static void test_read_only(void **state) {
        const char *dir = *state;
        _cleanup_(freep) char *image = make_image(dir, "uboot.env", VARS, false);
        _cleanup_(freep) char *config = make_config1(dir, image);
        static const char *const names[] = { "bootcount" };
        static const char *const same[] = { "2" };
        char *got;
        int how;

        how = make_read_only(image);
        if (how == 0) {
                print_message("cannot make a file read-only here, skipping\n");
                skip();
        }
        print_message("read-only via %s\n", how == -EROFS ? "bind mount" : how == -EPERM ? "chattr +i" : "chmod 444");

        assert_write_fails(config, image, how);
        /* Reading and confirming what is already there need no write access. */
        assert_int_equal(bootenv_read(config, names, 1, &got), 0);
        assert_string_equal(got, "2");
        free(got);
        assert_int_equal(bootenv_write(config, names, same, NULL, 1), 1);

        undo_read_only(image, how);
        assert_int_equal(bootenv_write(config, names, (const char *const[]) { "5" }, NULL, 1), 0);
}

/* Starts "flock -o BOOTENV_LOCK_FILE sh -c ..." in its own process group and returns once it holds
 * the lock; it keeps it for hold (a sleep(1) argument) or until this process dies. Returns the
 * pid, or 0 when flock(1) cannot take the lock file here. */
static pid_t hold_lock(const char *hold) {
        int pipefd[2];
        char c = 0;
        pid_t pid;

        assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                /* Only flock itself holds the lock (-o), and it dies with the test. */
                (void) setpgid(0, 0);
                if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || dup2(pipefd[1], STDOUT_FILENO) < 0)
                        _exit(127);
                execlp("flock", "flock", "-o", BOOTENV_LOCK_FILE, "sh", "-c", "echo locked; exec sleep \"$0\"", hold,
                       (char *) NULL);
                _exit(127);
        }
        (void) setpgid(pid, pid);
        close(pipefd[1]);
        if (read(pipefd[0], &c, 1) != 1) {
                close(pipefd[0]);
                (void) waitpid(pid, NULL, 0);
                return 0;
        }
        close(pipefd[0]);
        assert_int_equal(c, 'l');
        return pid;
}

static void release_lock(pid_t pid) {
        (void) kill(-pid, SIGKILL);
        assert_int_equal(waitpid(pid, NULL, 0), pid);
}

static void test_lock_held(void **state) {
        const char *dir = *state;
        _cleanup_(freep) char *image = make_image(dir, "uboot.env", VARS, false);
        _cleanup_(freep) char *config = make_config1(dir, image);
        static const char *const names[] = { "bootcount" };
        static const char *const values[] = { "0" };
        usec_t start, took;
        int status;
        pid_t pid;

        /* Held for a moment, as by a concurrent fw_setenv: the write waits and goes through. The
         * holder's 50 ms can become more than the 100 ms timeout on a loaded machine (its sleep and
         * exit are another process's): then the write must have waited the whole timeout and
         * failed with -EBUSY, and the case is tried again, up to 10 times. */
        for (int attempt = 1;; attempt++) {
                int r;

                pid = hold_lock("0.05");
                if (pid == 0) {
                        print_message("flock(1) cannot take %s here, skipping\n", BOOTENV_LOCK_FILE);
                        skip();
                }
                start = now(CLOCK_MONOTONIC);
                r = bootenv_write(config, names, values, NULL, 1);
                took = now(CLOCK_MONOTONIC) - start;
                assert_int_equal(waitpid(pid, &status, 0), pid);
                assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
                if (r == 0) {
                        /* It waited for the holder (the write itself, with its fsync, may take
                         * long on a loaded machine: its time is no measure of the wait). */
                        assert_true(took >= 20 * USEC_PER_MSEC);
                        break;
                }
                assert_int_equal(r, -EBUSY);
                assert_true(took >= BOOTENV_LOCK_TIMEOUT_USEC);
                print_message("attempt %d: the holder kept the lock past the timeout (loaded machine)\n", attempt);
                assert_true(attempt < 10);
        }
        assert_listing(config, "bootcount=0\nfoo=bar baz\nupgrade_available=1\n");

        /* Held by a hung process: -EBUSY after the timeout instead of blocking forever. */
        pid = hold_lock("60");
        assert_true(pid > 0);
        start = now(CLOCK_MONOTONIC);
        assert_read_fails(config, -EBUSY);
        took = now(CLOCK_MONOTONIC) - start;
        release_lock(pid);
        assert_true(took >= BOOTENV_LOCK_TIMEOUT_USEC);
        assert_true(took < BOOTENV_LOCK_TIMEOUT_USEC + USEC_PER_SEC);
}

/* Runs bootenv_read() of bootcount with stderr going to the file output; returns its result. */
static int read_capturing_stderr(const char *config, const char *output) {
        static const char *const names[] = { "bootcount" };
        _cleanup_(closep) int out = -1, saved_err = -1;
        char *got = NULL;
        int r;

        out = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(out >= 0);
        fflush(stderr);
        saved_err = dup(STDERR_FILENO);
        assert_true(saved_err >= 0);
        assert_true(dup2(out, STDERR_FILENO) >= 0);
        r = bootenv_read(config, names, 1, &got);
        fflush(stderr);
        assert_true(dup2(saved_err, STDERR_FILENO) >= 0);
        free(got);
        return r;
}

static mode_t lock_mode(void) {
        struct stat st;

        assert_int_equal(stat(BOOTENV_LOCK_FILE, &st), 0);
        return st.st_mode & 07777;
}

/* Whoever can open the lock file can flock() it and hold off every read and store of the
 * environment, a boot's confirmation included, for as long as they like: healthdog creates it
 * 0600 and takes group and other access away from one it owns; one someone else owns is named
 * in a warning, and used all the same. */
static void test_lock_file_mode(void **state) {
        const char *dir = *state;
        _cleanup_(freep) char *image = make_image(dir, "uboot.env", VARS, false);
        _cleanup_(freep) char *config = make_config1(dir, image);
        _cleanup_(freep) char *output = test_path(dir, "stderr");
        _cleanup_(freep) char *lockdir = strdup(BOOTENV_LOCK_FILE), *text = NULL;
        size_t size;

        assert_non_null(lockdir);
        *strrchr(lockdir, '/') = '\0';
        if (geteuid() != 0 || (!unshared && unshare(CLONE_NEWNS) < 0)) {
                print_message("needs root and a private mount namespace (%m), skipping\n");
                skip();
        }
        unshared = true;
        assert_int_equal(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
        assert_int_equal(mount("tmpfs", lockdir, "tmpfs", 0, "mode=1777"), 0);

        /* Created: 0600 whatever the umask. */
        assert_int_equal(read_capturing_stderr(config, output), 0);
        assert_int_equal(lock_mode(), 0600);

        /* Made 0666 by an older healthdog or fw_setenv: taken back to 0600. */
        assert_int_equal(chmod(BOOTENV_LOCK_FILE, 0666), 0);
        assert_int_equal(read_capturing_stderr(config, output), 0);
        assert_int_equal(lock_mode(), 0600);
        text = slurp_or_empty(output, &size);
        assert_int_equal(size, 0);
        free(text);

        /* Someone else's (the directory is world-writable): a warning naming it, and read anyway. */
        assert_int_equal(chown(BOOTENV_LOCK_FILE, 4321, 4321), 0);
        assert_int_equal(chmod(BOOTENV_LOCK_FILE, 0644), 0);
        assert_int_equal(read_capturing_stderr(config, output), 0);
        assert_int_equal(lock_mode(), 0644);
        text = slurp_or_empty(output, &size);
        print_message("%s", text);
        assert_non_null(strstr(text, "'" BOOTENV_LOCK_FILE "' (owner uid 4321, mode 0644)"));
        assert_non_null(strstr(text, ", ignoring\n"));

        assert_int_equal(umount2(lockdir, MNT_DETACH), 0);
}

/* libubootenv prints nothing itself, also on errors (the tools do). */
static void test_quiet(void **state) {
        const char *dir = *state;
        _cleanup_(freep) char *image = make_image(dir, "uboot.env", VARS, false);
        _cleanup_(freep) char *output = test_path(dir, "output");
        _cleanup_(freep) char *good = make_config1(dir, image);
        _cleanup_(freep) char *line = config_line(image, 0, ENV_SIZE * 2);
        _cleanup_(freep) char *big = NULL, *bad = NULL;
        _cleanup_(closep) int out = -1, saved_out = -1, saved_err = -1;
        static const char *const names[] = { "bootcount" };
        static const char *const values[] = { "7" };
        char *got;
        struct stat st;
        int r[5];

        big = test_path(dir, "big.config");
        write_text(big, line);
        bad = test_path(dir, "bad.config");
        write_text(bad, "/nonexistent/uboot.env 0x0 0x4000\n");

        out = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(out >= 0);
        fflush(stdout);
        fflush(stderr);
        saved_out = dup(STDOUT_FILENO);
        saved_err = dup(STDERR_FILENO);
        assert_true(saved_out >= 0 && saved_err >= 0);
        assert_true(dup2(out, STDOUT_FILENO) >= 0 && dup2(out, STDERR_FILENO) >= 0);

        r[0] = bootenv_write(good, names, values, NULL, 1);
        r[1] = bootenv_read(big, names, 1, &got);
        r[2] = bootenv_read(bad, names, 1, &got);
        corrupt(image, 0);
        r[3] = bootenv_read(good, names, 1, &got);
        r[4] = bootenv_write(good, names, values, NULL, 1);
        fflush(stdout);
        fflush(stderr);

        assert_true(dup2(saved_out, STDOUT_FILENO) >= 0 && dup2(saved_err, STDERR_FILENO) >= 0);
        assert_int_equal(r[0], 0);
        assert_int_equal(r[1], -EIO);
        assert_int_equal(r[2], -ENOENT);
        assert_int_equal(r[3], -EBADMSG);
        assert_int_equal(r[4], -EBADMSG);
        assert_int_equal(stat(output, &st), 0);
        assert_int_equal(st.st_size, 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup_tmpdir, teardown_tmpdir)
                T(test_read),
                T(test_read_redundant_layouts),
                T(test_write_single),
                T(test_write_one_store),
                T(test_write_unchanged),
                T(test_write_remove),
                T(test_write_expected),
                T(test_write_no_space),
                T(test_write_flags_read_only),
                T(test_bad_crc_single),
                T(test_redundant_one_bad),
                T(test_redundant_both_bad),
                T(test_size_mismatch),
                T(test_missing),
                T(test_bad_arguments),
                T(test_read_only),
                T(test_lock_held),
                T(test_lock_file_mode),
                T(test_quiet),
#undef T
        };

        if (system("command -v mkenvimage >/dev/null && command -v fw_printenv >/dev/null") != 0) {
                printf("mkenvimage (u-boot-tools) or fw_printenv (libubootenv-tool) missing, skipping\n");
                return 77;
        }
        umask(022);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
