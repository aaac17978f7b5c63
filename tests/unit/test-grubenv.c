/* SPDX-License-Identifier: MIT */
/* Unit tests for the GRUB environment block: blocks made by grub-editenv (GRUB's own tool) read,
 * healthdog's stores read back by grub-editenv, and broken blocks (short, no header, overlong,
 * not padded, ...) refused for reading and never written over. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "grubenv.h"
#include "tmpdir.h"

/* ---- helpers ---- */

static char *test_path(const char *dir, const char *name) {
        char *p;

        assert_true(asprintf(&p, "%s/%s", dir, name) >= 0);
        return p;
}

static void run(const char *fmt, ...) _printf_(1, 2);
static void run(const char *fmt, ...) {
        _cleanup_(freep) char *cmd = NULL;
        va_list ap;

        va_start(ap, fmt);
        assert_true(vasprintf(&cmd, fmt, ap) >= 0);
        va_end(ap);
        assert_int_equal(system(cmd), 0);
}

/* What grub-editenv lists for path, sorted: "a=1\nb=2\n". */
static char *editenv_list(const char *path) {
        _cleanup_(freep) char *cmd = NULL;
        char *out = NULL;
        size_t len = 0;
        FILE *f;

        assert_true(asprintf(&cmd, "grub-editenv '%s' list | LC_ALL=C sort", path) >= 0);
        f = popen(cmd, "r");
        assert_non_null(f);
        assert_int_equal(getdelim(&out, &len, '\0', f) < 0 ? 0 : 0, 0);
        assert_int_equal(pclose(f), 0);
        return out ?: strdup("");
}

/* A block made by grub-editenv with the variables given ("a=1 b=2"). */
static char *make_block(const char *dir, const char *name, const char *vars) {
        char *path = test_path(dir, name);

        (void) unlink(path);
        run("grub-editenv '%s' create", path);
        if (vars && *vars)
                run("grub-editenv '%s' set %s", path, vars);
        return path;
}

static char *read_bytes(const char *path, size_t *size) {
        char *data = NULL;
        struct stat st;

        assert_int_equal(read_file(path, 1 << 20, &data), 0);
        assert_int_equal(stat(path, &st), 0);
        *size = (size_t) st.st_size;
        return data;
}

static void write_bytes(const char *path, const char *data, size_t size) {
        _cleanup_(closep) int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, data, size), (ssize_t) size);
}

static void read_two(const char *path, int expect, const char *a, const char *b) {
        const char *names[] = { "boot_counter", "boot_success" };
        char *values[2];

        assert_int_equal(grubenv_read(path, names, 2, values), expect);
        if (expect == 0) {
                assert_true(streq_ptr(values[0], a));
                assert_true(streq_ptr(values[1], b));
        } else
                assert_true(!values[0] && !values[1]);
        free(values[0]);
        free(values[1]);
}

/* ---- reading what GRUB's tool wrote ---- */

static void test_read_editenv_block(void **state) {
        _cleanup_(freep) char *path = make_block(*state, "grubenv", "boot_counter=2 other=x");

        read_two(path, 0, "2", NULL);
}

static void test_escapes_as_grub(void **state) {
        _cleanup_(freep) char *path = make_block(*state, "escapes", "");
        _cleanup_(freep) char *list = NULL, *data = NULL;
        const char *names[] = { "v" };
        const char *values[] = { "a\\b\nc" };
        char *got[1];
        size_t size;

        /* grub-editenv's own escaping of a backslash, read by healthdog. */
        run("grub-editenv '%s' set 'w=x\\y'", path);
        data = read_bytes(path, &size);
        assert_non_null(strstr(data, "w=x\\\\y\n"));
        {
                const char *n[] = { "w" };
                assert_int_equal(grubenv_read(path, n, 1, got), 0);
                assert_string_equal(got[0], "x\\y");
                free(got[0]);
        }
        /* healthdog's escaping of a backslash and a newline, read back by both. */
        assert_int_equal(grubenv_write(path, names, values, NULL, 1), 0);
        assert_int_equal(grubenv_read(path, names, 1, got), 0);
        assert_string_equal(got[0], "a\\b\nc");
        free(got[0]);
        list = editenv_list(path);
        assert_non_null(strstr(list, "w=x\\y\n"));
}

/* ---- writing ---- */

static void test_write_read_by_editenv(void **state) {
        _cleanup_(freep) char *path = make_block(*state, "write", "keep=me");
        _cleanup_(freep) char *list = NULL, *data = NULL;
        const char *names[] = { "boot_counter", "boot_success" };
        const char *armed[] = { "3", "0" };
        const char *confirm[] = { NULL, "1" };
        struct stat st;
        size_t size;

        assert_int_equal(chmod(path, 0600), 0);
        assert_int_equal(grubenv_write(path, names, armed, (const char *[]) { NULL, NULL }, 2), 0);
        list = editenv_list(path);
        assert_string_equal(list, "boot_counter=3\nboot_success=0\nkeep=me\n");
        data = read_bytes(path, &size);
        assert_int_equal(size, GRUBENV_SIZE);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);

        /* Unset one, set the other, compared with what was read. */
        assert_int_equal(grubenv_write(path, names, confirm, armed, 2), 0);
        free(list);
        list = editenv_list(path);
        assert_string_equal(list, "boot_success=1\nkeep=me\n");
        /* GRUB's tool can still write into what healthdog wrote. */
        run("grub-editenv '%s' set boot_counter=2", path);
        read_two(path, 0, "2", "1");
}

static void test_nothing_to_write(void **state) {
        _cleanup_(freep) char *path = make_block(*state, "same", "boot_success=1");
        const char *names[] = { "boot_success", "boot_counter" };
        const char *values[] = { "1", NULL };
        struct stat before, after;

        assert_int_equal(stat(path, &before), 0);
        assert_int_equal(grubenv_write(path, names, values, values, 2), 1);
        assert_int_equal(stat(path, &after), 0);
        /* The same file, not rewritten. */
        assert_int_equal(before.st_ino, after.st_ino);
        assert_int_equal(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
}

static void test_stale_not_written(void **state) {
        _cleanup_(freep) char *path = make_block(*state, "stale", "boot_counter=3 boot_success=0");
        _cleanup_(freep) char *before = NULL, *after = NULL;
        const char *names[] = { "boot_success", "boot_counter" };
        const char *values[] = { "1", NULL };
        const char *expected[] = { "0", "2" };
        size_t a, b;

        before = read_bytes(path, &a);
        assert_int_equal(grubenv_write(path, names, values, expected, 2), -ESTALE);
        after = read_bytes(path, &b);
        assert_memory_equal(before, after, GRUBENV_SIZE);
}

static void test_no_space(void **state) {
        _cleanup_(freep) char *path = make_block(*state, "full", "");
        _cleanup_(freep) char *before = NULL, *after = NULL, *big = malloc(GRUBENV_SIZE);
        const char *names[] = { "big" };
        size_t a, b;

        assert_non_null(big);
        memset(big, 'x', GRUBENV_SIZE - 1);
        big[GRUBENV_SIZE - 1] = '\0';
        before = read_bytes(path, &a);
        assert_int_equal(grubenv_write(path, names, (const char *[]) { big }, NULL, 1), -ENOSPC);
        after = read_bytes(path, &b);
        assert_memory_equal(before, after, GRUBENV_SIZE);
}

static void test_leftover_new_file(void **state) {
        _cleanup_(freep) char *path = make_block(*state, "left", ""), *tmp = NULL;
        const char *names[] = { "boot_counter" };

        /* A power cut after the new block was written, before the rename. */
        assert_true(asprintf(&tmp, "%s.healthdog-new", path) >= 0);
        write_bytes(tmp, "junk", 4);
        assert_int_equal(grubenv_write(path, names, (const char *[]) { "1" }, NULL, 1), 0);
        read_two(path, 0, "1", NULL);
        assert_int_equal(access(tmp, F_OK), -1);
}

static void test_missing_and_directory(void **state) {
        _cleanup_(freep) char *missing = test_path(*state, "missing"), *dir = test_path(*state, "adir");
        char buf[GRUBENV_STRERROR_MAX];

        read_two(missing, -ENOENT, NULL, NULL);
        assert_non_null(strstr(grubenv_strerror(missing, -ENOENT, buf, sizeof(buf)), "does not exist"));
        assert_int_equal(mkdir(dir, 0755), 0);
        read_two(dir, -EISDIR, NULL, NULL);
}

/* The lock is held by another process (flock(1) on the directory): -EBUSY, soon. */
static void test_lock_busy(void **state) {
        _cleanup_(freep) char *path = make_block(*state, "locked", "boot_counter=1");
        sigset_t set;
        usec_t start;
        pid_t pid;
        int fd, sig;

        /* Blocked before the fork: the child's signal must not find it unblocked. */
        sigemptyset(&set);
        sigaddset(&set, SIGUSR1);
        assert_int_equal(sigprocmask(SIG_BLOCK, &set, NULL), 0);
        fd = open(*state, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                /* The child holds the lock: flock locks belong to the open file, so a fresh one. */
                int cfd = open(*state, O_RDONLY | O_DIRECTORY);
                if (cfd < 0 || flock(cfd, LOCK_EX) < 0)
                        _exit(1);
                (void) kill(getppid(), SIGUSR1);
                pause();
                _exit(0);
        }
        assert_int_equal(sigwait(&set, &sig), 0);
        start = now(CLOCK_MONOTONIC);
        read_two(path, -EBUSY, NULL, NULL);
        assert_true(now(CLOCK_MONOTONIC) - start >= GRUBENV_LOCK_TIMEOUT_USEC);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        close(fd);
        read_two(path, 0, "1", NULL);
}

/* ---- broken blocks ---- */

/* A block of GRUBENV_SIZE bytes: text, then '#' up to the end. */
static char *padded(const char *text) {
        char *b = malloc(GRUBENV_SIZE);

        assert_non_null(b);
        memset(b, '#', GRUBENV_SIZE);
        memcpy(b, text, strlen(text));
        return b;
}

static void expect_broken(const char *dir, const char *name, const char *data, size_t size, const char *why) {
        _cleanup_(freep) char *path = test_path(dir, name), *after = NULL;
        const char *names[] = { "boot_counter" };
        char buf[GRUBENV_STRERROR_MAX];
        size_t n;

        write_bytes(path, data, size);
        read_two(path, -EBADMSG, NULL, NULL);
        assert_int_equal(grubenv_write(path, names, (const char *[]) { "3" }, NULL, 1), -EBADMSG);
        after = read_bytes(path, &n);
        assert_int_equal(n, size);
        assert_memory_equal(after, data, size);
        grubenv_strerror(path, -EBADMSG, buf, sizeof(buf));
        if (!strstr(buf, why))
                fail_msg("'%s' does not say '%s'", buf, why);
        assert_non_null(strstr(buf, path));
}

static void test_broken_blocks(void **state) {
        _cleanup_(freep) char *good = padded(GRUBENV_HEADER "boot_counter=1\n");
        _cleanup_(freep) char *no_header = padded("# GRUB Environment\nboot_counter=1\n");
        _cleanup_(freep) char *no_eq = padded(GRUBENV_HEADER "boot_counter\n");
        _cleanup_(freep) char *twice = padded(GRUBENV_HEADER "boot_counter=1\nboot_counter=2\n");
        _cleanup_(freep) char *long_line = padded(GRUBENV_HEADER "boot_counter=1\n");
        _cleanup_(freep) char *unpadded = padded(GRUBENV_HEADER "boot_counter=1\n");
        _cleanup_(freep) char *nul = padded(GRUBENV_HEADER "boot_counter=1\n");
        char overlong[GRUBENV_SIZE + 16];

        memset(long_line + strlen(GRUBENV_HEADER), 'x', GRUBENV_SIZE - strlen(GRUBENV_HEADER));
        memcpy(long_line + strlen(GRUBENV_HEADER), "v=", 2);
        unpadded[GRUBENV_SIZE - 3] = 'x';
        nul[GRUBENV_SIZE - 1] = '\0';
        memcpy(overlong, good, GRUBENV_SIZE);
        memset(overlong + GRUBENV_SIZE, '#', sizeof(overlong) - GRUBENV_SIZE);

        expect_broken(*state, "short", good, GRUBENV_SIZE - 24, "shorter than the 1024 bytes");
        expect_broken(*state, "empty", "", 0, "shorter than the 1024 bytes");
        expect_broken(*state, "overlong", overlong, sizeof(overlong), "longer than the 1024 bytes");
        expect_broken(*state, "no-header", no_header, GRUBENV_SIZE, "no '# GRUB Environment Block' header");
        expect_broken(*state, "no-eq", no_eq, GRUBENV_SIZE, "not name=value");
        expect_broken(*state, "twice", twice, GRUBENV_SIZE, "appears twice");
        expect_broken(*state, "long-line", long_line, GRUBENV_SIZE, "runs past the end");
        expect_broken(*state, "unpadded", unpadded, GRUBENV_SIZE, "not padded");
        expect_broken(*state, "nul", nul, GRUBENV_SIZE, "NUL byte");

        /* The good one, for contrast, is read. */
        {
                _cleanup_(freep) char *path = test_path(*state, "good");
                write_bytes(path, good, GRUBENV_SIZE);
                read_two(path, 0, "1", NULL);
        }
}

/* ---- the block alone ---- */

static void test_format_parse(void **state) {
        char *vars[] = { (char *) "a", (char *) "1", (char *) "b", (char *) "x\\y\nz", NULL };
        _cleanup_(strv_freep) char **back = NULL;
        char block[GRUBENV_SIZE];
        const char *why;

        assert_int_equal(grubenv_format(vars, block), 0);
        assert_int_equal(block[GRUBENV_SIZE - 1], '#');
        assert_int_equal(grubenv_parse(block, GRUBENV_SIZE, &back, &why), 0);
        assert_int_equal(strv_length(back), 4);
        assert_string_equal(back[3], "x\\y\nz");
        /* A block with no room left after its last line is still a block (no padding at all). */
        {
                char full[GRUBENV_SIZE];
                size_t h = strlen(GRUBENV_HEADER);
                memcpy(full, GRUBENV_HEADER, h);
                full[h] = 'v';
                full[h + 1] = '=';
                memset(full + h + 2, 'y', GRUBENV_SIZE - h - 3);
                full[GRUBENV_SIZE - 1] = '\n';
                strv_freep(&back);
                back = NULL;
                assert_int_equal(grubenv_parse(full, GRUBENV_SIZE, &back, &why), 0);
                assert_int_equal(strlen(back[1]), GRUBENV_SIZE - h - 3);
        }
        /* Names GRUB could not read back. */
        char *bad[] = { (char *) "a=b", (char *) "1", NULL };
        assert_int_equal(grubenv_format(bad, block), -EINVAL);
        (void) state;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_read_editenv_block),
                cmocka_unit_test(test_escapes_as_grub),
                cmocka_unit_test(test_write_read_by_editenv),
                cmocka_unit_test(test_nothing_to_write),
                cmocka_unit_test(test_stale_not_written),
                cmocka_unit_test(test_no_space),
                cmocka_unit_test(test_leftover_new_file),
                cmocka_unit_test(test_missing_and_directory),
                cmocka_unit_test(test_lock_busy),
                cmocka_unit_test(test_broken_blocks),
                cmocka_unit_test(test_format_parse),
        };

        return cmocka_run_group_tests(tests, setup_tmpdir, teardown_tmpdir);
}
