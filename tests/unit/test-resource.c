/* SPDX-License-Identifier: MIT */
/* Unit tests for src/checks/resource.c: the helpers the resource checks read and print their
 * figures with. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <inttypes.h>
#include <unistd.h>

#include "check.h"
#include "resource.h"

static void test_format_size(void **state) {
        static const struct {
                uint64_t bytes;
                const char *text;
        } cases[] = {
                { 0,                         "0B" },
                { 1023,                      "1023B" },
                { 1024,                      "1K" },
                { 1536,                      "1.5K" },
                { 1048575,                   "1023.9K" },  /* rounded down, never up to 1024K */
                { 64 << 20,                  "64M" },
                { (64 << 20) - 1,            "63.9M" },
                { UINT64_C(24377276) * 1024, "23.2G" },
                { UINT64_C(1) << 60,         "1E" },
                { UINT64_MAX,                "15.9E" },
        };
        char buf[RESOURCE_NUMBER_MAX];

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                if (!streq(resource_format_size(buf, cases[i].bytes), cases[i].text))
                        fail_msg("%" PRIu64 " formatted as '%s', expected '%s'", cases[i].bytes, buf, cases[i].text);
}

static void test_format_numbers(void **state) {
        char buf[RESOURCE_NUMBER_MAX];
        const Amount pct = { .value = 1250, .percent = true, .set = true };
        const Amount size = { .value = 64 << 20, .set = true }, count = { .value = 5000, .set = true };

        assert_string_equal(resource_format_share(buf, 1, 3), "33.33%");
        assert_string_equal(resource_format_share(buf, 1, 1), "100%");
        assert_string_equal(resource_format_share(buf, 1, 10000), "0.01%");
        assert_string_equal(resource_format_share(buf, 1, 10001), "0%");
        assert_string_equal(resource_format_share(buf, 0, 0), "0%");
        /* Beyond 64-bit products: approximately, which is all a message needs. */
        assert_string_equal(resource_format_share(buf, UINT64_MAX / 3, UINT64_MAX), "33.33%");

        assert_string_equal(resource_format_fixed(buf, 2500, 3, 2), "2.50");
        assert_string_equal(resource_format_fixed(buf, 3100, 3, 2), "3.10");
        assert_string_equal(resource_format_fixed(buf, 125, 3, 2), "0.125");
        assert_string_equal(resource_format_fixed(buf, 45000, 3, 1), "45.0");
        assert_string_equal(resource_format_fixed(buf, 4100, 2, 0), "41");

        assert_string_equal(resource_format_amount(buf, &pct, true), "12.5%");
        assert_string_equal(resource_format_amount(buf, &size, true), "64M");
        assert_string_equal(resource_format_amount(buf, &count, false), "5000");
        /* Thresholds read as the config wrote them, not rounded like measured sizes. */
        assert_string_equal(resource_format_amount(buf, &(Amount) { .value = 1536 << 10, .set = true }, true), "1536K");
        assert_string_equal(resource_format_amount(buf, &(Amount) { .value = 1000, .set = true }, true), "1000");
        assert_string_equal(resource_format_amount(buf, &(Amount) { .value = 0, .set = true }, true), "0");
        assert_string_equal(resource_format_amount(buf, &(Amount) { .value = UINT64_C(5) << 50, .set = true }, true),
                            "5120T");
        assert_string_equal(resource_format_amount(buf, &(Amount) { .value = 1024, .set = true }, false), "1024");
}

static void test_compare(void **state) {
        const Amount ten_pct = { .value = 1000, .percent = true, .set = true };
        const Amount half = { .value = 5000, .percent = true, .set = true };
        const Amount all = { .value = 10000, .percent = true, .set = true };
        const Amount abs = { .value = 4096, .set = true };

        assert_int_equal(resource_compare(4095, 0, &abs), -1);
        assert_int_equal(resource_compare(4096, 0, &abs), 0);
        assert_int_equal(resource_compare(4097, 0, &abs), 1);

        /* Exact at the boundary: 10 of 100 is 10%, 999 of 10000 is not. */
        assert_int_equal(resource_compare(10, 100, &ten_pct), 0);
        assert_int_equal(resource_compare(999, 10000, &ten_pct), -1);
        assert_int_equal(resource_compare(1001, 10000, &ten_pct), 1);

        /* Products beyond 64 bits still compare the right way. */
        assert_int_equal(resource_compare(UINT64_MAX, UINT64_MAX, &all), 0);
        assert_int_equal(resource_compare(UINT64_MAX / 4, UINT64_MAX, &half), -1);
        assert_int_equal(resource_compare(UINT64_MAX / 4 * 3, UINT64_MAX, &half), 1);
}

static void test_parse_u64(void **state) {
        const char *p = "  551\t0 18446744073709551615 x 18446744073709551616";
        uint64_t a, b, c, d;

        assert_int_equal(resource_parse_u64(&p, &a), 0);
        assert_int_equal(resource_parse_u64(&p, &b), 0);
        assert_int_equal(resource_parse_u64(&p, &c), 0);
        assert_int_equal(a, 551);
        assert_int_equal(b, 0);
        assert_true(c == UINT64_MAX);
        assert_int_equal(resource_parse_u64(&p, &d), -EINVAL);
        p += 2;
        assert_int_equal(resource_parse_u64(&p, &d), -ERANGE);
}

static void test_read_file(void **state) {
        const char *base = getenv("TEST_TMPDIR");
        _cleanup_(freep) char *path = NULL;
        char small[5], big[64];
        struct stat st;

        assert_true(asprintf(&path, "%s/test-resource.%d", base && *base ? base : "/tmp", getpid()) >= 0);
        assert_int_equal(write_file_atomic(path, "45000\n", 6, 0644), 0);

        assert_int_equal(resource_read_file(path, big, sizeof(big), &st), 6);
        assert_string_equal(big, "45000\n");
        assert_int_equal(st.st_size, 6);
        /* A small buffer gets the start of the file, terminated. */
        assert_int_equal(resource_read_file(path, small, sizeof(small), NULL), 4);
        assert_string_equal(small, "4500");
        assert_int_equal(unlink(path), 0);
        assert_int_equal(resource_read_file(path, big, sizeof(big), NULL), -ENOENT);

        /* A real kernel file, read in one go. */
        assert_true(resource_read_file("/proc/loadavg", big, sizeof(big), NULL) > 0);
        assert_non_null(strchr(big, '/'));
}

static size_t count_fds(void) {
        DIR *d = opendir("/proc/self/fd");
        size_t n = 0;

        assert_non_null(d);
        while (readdir(d))
                n++;
        closedir(d);
        return n;
}

/* A /proc file kept open gives fresh figures on each read, from one descriptor. */
static void test_read_proc(void **state) {
        char a[128], b[128];
        size_t fds;

        assert_true(resource_read_proc("/proc/uptime", a, sizeof(a)) > 0);
        fds = count_fds();
        usleep(50 * 1000);
        assert_true(resource_read_proc("/proc/uptime", b, sizeof(b)) > 0);
        /* Seconds since boot, to the hundredth: 50 ms later it reads differently. */
        assert_string_not_equal(a, b);
        assert_int_equal(count_fds(), fds);
        /* A buffer shorter than the file: its start, NUL-terminated. */
        assert_int_equal(resource_read_proc("/proc/uptime", a, 3), 2);
        assert_int_equal(strlen(a), 2);
        assert_int_equal(resource_read_proc("/nonexistent/proc-file", a, sizeof(a)), -ENOENT);
        assert_int_equal(count_fds(), fds);
}

static void test_verdict(void **state) {
        char detail[CHECK_DETAIL_MAX];
        char long_text[CHECK_DETAIL_MAX * 2];

        assert_false(check_verdict(detail, false, "load %s > max %s", "3.10", "2.00"));
        assert_string_equal(detail, "load 3.10 > max 2.00");
        assert_true(check_verdict(detail, true, "ok"));
        assert_string_equal(detail, "ok");

        memset(long_text, 'x', sizeof(long_text) - 1);
        long_text[sizeof(long_text) - 1] = '\0';
        assert_true(check_verdict(detail, true, "%s", long_text));
        assert_int_equal(strlen(detail), CHECK_DETAIL_MAX - 1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_format_size),
                cmocka_unit_test(test_format_numbers),
                cmocka_unit_test(test_compare),
                cmocka_unit_test(test_parse_u64),
                cmocka_unit_test(test_read_file),
                cmocka_unit_test(test_read_proc),
                cmocka_unit_test(test_verdict),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
