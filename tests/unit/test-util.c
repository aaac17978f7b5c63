/* SPDX-License-Identifier: MIT */
/* Unit tests for src/shared/util.c: parsers, formatters, command splitting, buffers and files. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <limits.h>
#include <sys/stat.h>

#include "util.h"
#include "tmpdir.h"

/* Fails the current test with the table row that broke, since cmocka only prints the values. */
#define check_int_eq(actual, expected, what)                                                        \
        do {                                                                                        \
                long long _a = (long long) (actual), _e = (long long) (expected);                  \
                if (_a != _e)                                                                       \
                        fail_msg("%s: got %lld, expected %lld", (what), _a, _e);                    \
        } while (0)

#define check_str_eq(actual, expected, what)                                                        \
        do {                                                                                        \
                const char *_a = (actual), *_e = (expected);                                        \
                if (!streq_ptr(_a, _e))                                                             \
                        fail_msg("%s: got '%s', expected '%s'", (what), strempty(_a), strempty(_e)); \
        } while (0)

/* ---- parse_duration ---- */

static void test_parse_duration_good(void **state) {
        static const struct {
                const char *text;
                usec_t usec;
        } cases[] = {
                { "500ms",          500 * USEC_PER_MSEC },
                { "30s",            30 * USEC_PER_SEC },
                { "5min",           5 * USEC_PER_MINUTE },
                { "5m",             5 * USEC_PER_MINUTE },
                { "1h",             USEC_PER_HOUR },
                { "2",              2 * USEC_PER_SEC },
                { "1.5s",           1500 * USEC_PER_MSEC },
                { "0.5",            500 * USEC_PER_MSEC },
                { "1h 30min",       90 * USEC_PER_MINUTE },
                { "1h30min",        90 * USEC_PER_MINUTE },
                { "100us",          100 },
                { "0",              0 },
                { "0s",             0 },
                { "1.5ms",          1500 },
                { "0.000001s",      1 },
                { "2.25min",        135 * USEC_PER_SEC },
                { "1min 30s 500ms", 90 * USEC_PER_SEC + 500 * USEC_PER_MSEC },
                { " 30s ",          30 * USEC_PER_SEC },
                { "1h\t1s",         USEC_PER_HOUR + USEC_PER_SEC },
                /* The largest value there is, as format_duration() writes it. */
                { "5124095576h 1min 49s 551ms 615us", UINT64_MAX },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                usec_t u = 4242;
                int r = parse_duration(cases[i].text, &u);

                check_int_eq(r, 0, cases[i].text);
                if (u != cases[i].usec)
                        fail_msg("'%s': got %" PRIu64 ", expected %" PRIu64, cases[i].text, u, cases[i].usec);
        }
}

static void test_parse_duration_bad(void **state) {
        static const struct {
                const char *text;
                int error;
        } cases[] = {
                { "",                      -EINVAL },
                { " ",                     -EINVAL },
                { "abc",                   -EINVAL },
                { "5 parsecs",             -EINVAL },
                { "5sec",                  -EINVAL },
                { "5hours",                -EINVAL },
                { "-1s",                   -EINVAL },
                { "+1s",                   -EINVAL },
                { "1.2.3",                 -EINVAL },
                { "1s.5",                  -EINVAL },
                { "s",                     -EINVAL },
                { ".",                     -EINVAL },
                { "1s.",                   -EINVAL },
                { "ms",                    -EINVAL },
                { "1h 30 min x",           -EINVAL },
                { "30s5",                  -EINVAL },   /* plain seconds only when alone */
                { "10 20",                 -EINVAL },
                { "99999999999999999999h", -ERANGE },
                { "99999999999999999999",  -ERANGE },
                { "5124095577h",           -ERANGE },
                /* The whole part alone fits, the fraction on top does not. */
                { "5124095576.9h",         -ERANGE },
                { "5124095576h 1h",        -ERANGE },
                { "5124095576h 1min 49s 551ms 616us", -ERANGE },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                usec_t u = 4242;
                int r = parse_duration(cases[i].text, &u);

                check_int_eq(r, cases[i].error, cases[i].text);
                check_int_eq(u, 4242, cases[i].text); /* untouched on failure */
        }
}

/* ---- format_uint64 ---- */

static void test_format_uint64(void **state) {
        static const struct {
                uint64_t v;
                unsigned width;
                const char *text;
        } cases[] = {
                { 0, 0, "0" }, { 0, 2, "00" }, { 7, 3, "007" }, { 125, 3, "125" }, { 1234, 2, "1234" },
                { UINT64_MAX, 0, "18446744073709551615" }, { 5, 22, "0000000000000000000005" },
        };
        char buf[32];

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                memset(buf, 'x', sizeof(buf));
                *format_uint64(buf, cases[i].v, cases[i].width) = '\0';
                check_str_eq(buf, cases[i].text, cases[i].text);
        }
}

/* ---- format_duration ---- */

static void test_format_duration_exact(void **state) {
        static const struct {
                usec_t usec;
                const char *text;
        } cases[] = {
                { 0,                                   "0" },
                { 1,                                   "1us" },
                { 500 * USEC_PER_MSEC,                 "500ms" },
                { 30 * USEC_PER_SEC,                   "30s" },
                { 90 * USEC_PER_SEC,                   "1min 30s" },
                { 1500 * USEC_PER_MSEC,                "1s 500ms" },
                { USEC_PER_HOUR,                       "1h" },
                { 90 * USEC_PER_MINUTE,                "1h 30min" },
                { USEC_PER_HOUR + USEC_PER_MINUTE + USEC_PER_SEC + USEC_PER_MSEC + 1, "1h 1min 1s 1ms 1us" },
                { 48 * USEC_PER_HOUR,                  "48h" },
                { UINT64_MAX,                          "5124095576h 1min 49s 551ms 615us" },
        };
        char buf[DURATION_MAX];

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                memset(buf, 'x', sizeof(buf));
                check_str_eq(format_duration(buf, sizeof(buf), cases[i].usec), cases[i].text, cases[i].text);
        }
}

static void test_format_duration_round_trip(void **state) {
        static const usec_t fixed[] = {
                0, 1, 999, 1000, 1001, 999999, 1000000, 1000001, 59999999, 60000000, 61000000,
                3599999999ULL, 3600000000ULL, 3600000001ULL, 86400000000ULL, UINT64_MAX - 1, UINT64_MAX,
        };
        uint64_t x = 0x9e3779b97f4a7c15ULL;

        for (size_t i = 0; i < ELEMENTSOF(fixed) + 2000; i++) {
                char buf[DURATION_MAX];
                usec_t u, back = 0;
                int r;

                if (i < ELEMENTSOF(fixed))
                        u = fixed[i];
                else {
                        /* xorshift64: values of every magnitude, reproducibly. */
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        u = x >> (x % 64);
                }
                format_duration(buf, sizeof(buf), u);
                r = parse_duration(buf, &back);
                if (r < 0 || back != u)
                        fail_msg("%" PRIu64 " formatted as '%s' parsed back as %" PRIu64 " (r=%d)", u, buf, back, r);
        }
}

static void test_format_duration_small_buffers(void **state) {
        const usec_t u = USEC_PER_HOUR + USEC_PER_MINUTE + USEC_PER_SEC + USEC_PER_MSEC + 1;
        const char *full = "1h 1min 1s 1ms 1us";

        /* Exactly sized heap buffers, so that AddressSanitizer sees any write past the end. */
        for (size_t size = 1; size <= strlen(full) + 1; size++) {
                char *buf = malloc(size);

                assert_non_null(buf);
                format_duration(buf, size, u);
                assert_true(strlen(buf) < size);
                assert_true(strncmp(buf, full, strlen(buf)) == 0);
                free(buf);
        }
}

/* ---- parse_uint, parse_int, parse_boolean ---- */

static void test_parse_uint(void **state) {
        static const struct {
                const char *text;
                int r;
                unsigned value;
        } cases[] = {
                { "0",                    0,       0 },
                { "42",                   0,       42 },
                { "007",                  0,       7 },
                { "4294967295",           0,       UINT_MAX },
                { "4294967296",           -ERANGE, 0 },
                { "18446744073709551615", -ERANGE, 0 },
                { "99999999999999999999", -ERANGE, 0 },
                { "",                     -EINVAL, 0 },
                { "+1",                   -EINVAL, 0 },
                { "-1",                   -EINVAL, 0 },
                { "-0",                   -EINVAL, 0 },
                { " 1",                   -EINVAL, 0 },
                { "1 ",                   -EINVAL, 0 },
                { "\t1",                  -EINVAL, 0 },
                { "0x10",                 -EINVAL, 0 },
                { "1e3",                  -EINVAL, 0 },
                { "12abc",                -EINVAL, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                unsigned v = 4242;
                int r = parse_uint(cases[i].text, &v);

                check_int_eq(r, cases[i].r, cases[i].text);
                check_int_eq(v, r == 0 ? cases[i].value : 4242, cases[i].text);
        }
}

static void test_parse_int(void **state) {
        static const struct {
                const char *text;
                int r;
                int value;
        } cases[] = {
                { "0",                    0,       0 },
                { "-0",                   0,       0 },
                { "17",                   0,       17 },
                { "-17",                  0,       -17 },
                { "2147483647",           0,       INT_MAX },
                { "-2147483648",          0,       INT_MIN },
                { "2147483648",           -ERANGE, 0 },
                { "-2147483649",          -ERANGE, 0 },
                { "99999999999999999999", -ERANGE, 0 },
                { "-99999999999999999999", -ERANGE, 0 },
                { "",                     -EINVAL, 0 },
                { "-",                    -EINVAL, 0 },
                { "+1",                   -EINVAL, 0 },
                { "--1",                  -EINVAL, 0 },
                { "- 1",                  -EINVAL, 0 },
                { " -1",                  -EINVAL, 0 },
                { " 1",                   -EINVAL, 0 },
                { "1 ",                   -EINVAL, 0 },
                { "1.0",                  -EINVAL, 0 },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int v = 4242;
                int r = parse_int(cases[i].text, &v);

                check_int_eq(r, cases[i].r, cases[i].text);
                check_int_eq(v, r == 0 ? cases[i].value : 4242, cases[i].text);
        }
}

static void test_parse_boolean(void **state) {
        static const struct {
                const char *text;
                int r;
        } cases[] = {
                { "1", 1 },     { "yes", 1 },  { "true", 1 },  { "on", 1 },
                { "YES", 1 },   { "True", 1 }, { "On", 1 },
                { "0", 0 },     { "no", 0 },   { "false", 0 }, { "off", 0 },
                { "NO", 0 },    { "False", 0 }, { "OFF", 0 },
                { "", -EINVAL }, { "y", -EINVAL }, { "n", -EINVAL }, { "2", -EINVAL }, { "yess", -EINVAL },
                { " yes", -EINVAL }, { "yes ", -EINVAL }, { "enable", -EINVAL }, { "-1", -EINVAL },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                check_int_eq(parse_boolean(cases[i].text), cases[i].r, cases[i].text);
}

/* ---- split_command, quote_word ---- */

/* Compares a vector with the expected words, given as a NULL-terminated list. */
static void check_strv(char **l, const char *const *expected, const char *what) {
        size_t n = 0;

        while (expected[n])
                n++;
        if (strv_length(l) != n)
                fail_msg("%s: got %zu words, expected %zu", what, strv_length(l), n);
        for (size_t i = 0; i < n; i++)
                if (!streq(l[i], expected[i]))
                        fail_msg("%s: word %zu is '%s', expected '%s'", what, i, l[i], expected[i]);
        assert_null(l[n]);
}

#define WORDS(...) ((const char *const[]) { __VA_ARGS__, NULL })

static void test_split_command_good(void **state) {
        const struct {
                const char *text;
                const char *const *words;
        } cases[] = {
                { "",                        WORDS(NULL) },
                { " \t  ",                   WORDS(NULL) },
                { "a",                       WORDS("a") },
                { "a b  c",                  WORDS("a", "b", "c") },
                { "  a\tb\t\tc  ",           WORDS("a", "b", "c") },
                { "/bin/echo \"a b\" c",     WORDS("/bin/echo", "a b", "c") },
                { "'a b' c",                 WORDS("a b", "c") },
                { "a\"b c\"d",               WORDS("ab cd") },
                { "\"a\\\"b\"",              WORDS("a\"b") },
                { "\"a\\\\b\"",              WORDS("a\\b") },
                { "'a\\b'",                  WORDS("a\\b") },     /* no escapes inside '...' */
                { "a\\ b",                   WORDS("a b") },
                { "a\\\\",                   WORDS("a\\") },
                { "\\'x",                    WORDS("'x") },
                { "\"\"",                    WORDS("") },
                { "a '' b",                  WORDS("a", "", "b") },
                { "\"it's\"",                WORDS("it's") },
                { "'say \"hi\"'",            WORDS("say \"hi\"") },
                { "\"tab\there\"",           WORDS("tab\there") },
                { "sh -c 'exit 3'",          WORDS("sh", "-c", "exit 3") },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(strv_freep) char **l = NULL;
                int r = split_command(cases[i].text, &l);

                check_int_eq(r, 0, cases[i].text);
                assert_non_null(l); /* an empty line still gives a vector */
                check_strv(l, cases[i].words, cases[i].text);
        }
}

static void test_split_command_bad(void **state) {
        static const char *const cases[] = {
                "\"abc", "'abc", "a \"b", "a 'b c", "abc\\", "\"abc\\", "a b\\", "\\", "\"", "'",
                "\"a\\\"",
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char **l = (char **) 0x1; /* untouched on failure */

                check_int_eq(split_command(cases[i], &l), -EINVAL, cases[i]);
                assert_ptr_equal(l, (char **) 0x1);
        }
}

static void test_quote_word(void **state) {
        static const struct {
                const char *word;
                const char *quoted;
        } exact[] = {
                { "plain",         "plain" },
                { "/usr/bin/x",    "/usr/bin/x" },
                { "",              "\"\"" },
                { "a b",           "\"a b\"" },
                { "say \"hi\"",    "\"say \\\"hi\\\"\"" },
                { "back\\slash",   "\"back\\\\slash\"" },
                { "it's",          "\"it's\"" },
        };
        static const char *const words[] = {
                "plain", "", " ", "a b", "a\tb", "it's", "say \"hi\"", "back\\slash", "trailing\\", "\\",
                "'", "\"", "''", "\"\"", "$HOME", "new\nline", "a'b\"c\\d e\tf", "--opt=va lue",
        };
        _cleanup_(freep) char *line = NULL;
        size_t len = 0, cap = 0;
        _cleanup_(strv_freep) char **all = NULL;

        for (size_t i = 0; i < ELEMENTSOF(exact); i++) {
                _cleanup_(freep) char *q = quote_word(exact[i].word);
                check_str_eq(q, exact[i].quoted, exact[i].word);
        }

        /* Each word alone, and all of them joined on one line, come back as they were. */
        for (size_t i = 0; i < ELEMENTSOF(words); i++) {
                _cleanup_(freep) char *q = quote_word(words[i]);
                _cleanup_(strv_freep) char **l = NULL;

                assert_non_null(q);
                check_int_eq(split_command(q, &l), 0, q);
                check_strv(l, (const char *const[]) { words[i], NULL }, q);
                assert_int_equal(buf_appendf(&line, &len, &cap, "%s%s", i > 0 ? " " : "", q), 0);
        }
        check_int_eq(split_command(line, &all), 0, line);
        assert_int_equal(strv_length(all), ELEMENTSOF(words));
        for (size_t i = 0; i < ELEMENTSOF(words); i++)
                check_str_eq(all[i], words[i], line);
}

/* ---- sanitize_line ---- */

/* Runs sanitize_line() into an exactly sized heap buffer and returns a copy of the result. */
static char *sanitize(size_t size, const char *s, size_t len) {
        char *dst = malloc(size), *copy;

        assert_non_null(dst);
        memset(dst, 'X', size);
        sanitize_line(dst, size, s, len);
        assert_true(memchr(dst, '\0', size) != NULL);
        copy = strdup(dst);
        assert_non_null(copy);
        free(dst);
        return copy;
}

static void test_sanitize_line(void **state) {
        static const struct {
                const char *text;
                size_t size;
                const char *expected;
        } cases[] = {
                { "hello",                64, "hello" },
                { "hello\n",              64, "hello" },
                { "hello\r\n\n",          64, "hello" },
                { "\n\n",                 64, "" },
                { "",                     64, "" },
                { "a\x01" "b\x7f" "c\x1b[1m", 64, "a?b?c?[1m" },
                { "tab\there",            64, "tab?here" },
                { "line1\nline2\nline3\n", 64, "line1 | line2 | line3" },
                { "caf\xc3\xa9",          64, "caf\xc3\xa9" }, /* UTF-8 passes through */
                /* Truncation: at most size-1 characters, a " | " only when it fits whole. */
                { "abcdef",               4,  "abc" },
                { "abcdef",               7,  "abcdef" },
                { "abcdef",               6,  "abcde" },
                { "abcdef",               1,  "" },
                { "ab\ncd",               5,  "ab" },
                { "ab\ncd",               6,  "ab | " },
                { "ab\ncd",               7,  "ab | c" },
                { "ab\ncd",               8,  "ab | cd" },
                { "\nx",                  3,  "" },
                { "\nx",                  4,  " | " },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(freep) char *got = sanitize(cases[i].size, cases[i].text, strlen(cases[i].text));
                check_str_eq(got, cases[i].expected, cases[i].text);
        }
}

static void test_sanitize_line_bounds(void **state) {
        /* Input that is not NUL-terminated, read through an exactly sized copy: len is obeyed. */
        static const char text[] = "x\ny\x02z\n\n\nw";
        const size_t len = sizeof(text) - 1;
        char *src = malloc(len);

        assert_non_null(src);
        memcpy(src, text, len);
        for (size_t size = 1; size <= 3 * len + 2; size++)
                for (size_t l = 0; l <= len; l++) {
                        _cleanup_(freep) char *got = sanitize(size, src, l);

                        assert_true(strlen(got) < size);
                        assert_null(strchr(got, '\n'));
                        for (const char *p = got; *p; p++)
                                assert_true((unsigned char) *p >= 0x20);
                }
        {
                _cleanup_(freep) char *got = sanitize(64, src, 3);
                check_str_eq(got, "x | y", "first 3 bytes");
        }
        free(src);
}

/* ---- json_append_string, buf_appendf ---- */

static void test_json_append_string(void **state) {
        static const struct {
                const char *text;
                const char *json;
        } cases[] = {
                { "",                 "\"\"" },
                { "plain",            "\"plain\"" },
                { "a\"b",             "\"a\\\"b\"" },
                { "a\\b",             "\"a\\\\b\"" },
                { "a\nb",             "\"a\\nb\"" },
                { "\t",               "\"\\u0009\"" },
                { "\r",               "\"\\u000d\"" },
                { "\x01\x1f\x7f",     "\"\\u0001\\u001f\\u007f\"" },
                { "caf\xc3\xa9",      "\"caf\xc3\xa9\"" },
                { "/path/to",         "\"/path/to\"" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(freep) char *buf = NULL;
                size_t len = 0, cap = 0;

                assert_int_equal(json_append_string(&buf, &len, &cap, cases[i].text), 0);
                check_str_eq(buf, cases[i].json, cases[i].text);
                assert_int_equal(len, strlen(cases[i].json));
                assert_true(cap > len);
        }
}

static void test_json_object(void **state) {
        _cleanup_(freep) char *buf = NULL, *big = NULL, *expected = NULL;
        size_t len = 0, cap = 0;

        /* How state.c uses it: appends into one growing buffer. */
        assert_int_equal(buf_appendf(&buf, &len, &cap, "{\"reason\":"), 0);
        assert_int_equal(json_append_string(&buf, &len, &cap, "check \"app\" failed"), 0);
        assert_int_equal(buf_appendf(&buf, &len, &cap, ",\"n\":%d}", 3), 0);
        assert_string_equal(buf, "{\"reason\":\"check \\\"app\\\" failed\",\"n\":3}");
        assert_int_equal(len, strlen(buf));

        /* Growth over many reallocations. */
        big = malloc(10001);
        expected = malloc(2 * 10000 + 3);
        assert_non_null(big);
        assert_non_null(expected);
        for (size_t i = 0; i < 10000; i++)
                big[i] = i % 2 ? '"' : 'a';
        big[10000] = '\0';
        len = 0;
        buf[0] = '\0';
        assert_int_equal(json_append_string(&buf, &len, &cap, big), 0);
        assert_int_equal(len, 2 + 10000 + 5000);
        assert_int_equal(buf[0], '"');
        assert_int_equal(buf[len - 1], '"');
        assert_int_equal(buf[len], '\0');
        assert_memory_equal(buf + 1, "a\\\"a\\\"", 6);
}

/* ---- write_file_atomic, mkdir_p ---- */

static char *test_path(const char *dir, const char *name) {
        char *p;

        assert_true(asprintf(&p, "%s/%s", dir, name) >= 0);
        return p;
}

static char *read_all(const char *path, size_t *size) {
        _cleanup_(fclosep) FILE *f = fopen(path, "re");
        char *data;

        assert_non_null(f);
        data = calloc(1, 4097);
        assert_non_null(data);
        *size = fread(data, 1, 4096, f);
        return data;
}

/* The names in dir, sorted and joined with spaces. */
static char *list_dir(const char *dir) {
        _cleanup_(closedirp) DIR *d = opendir(dir);
        _cleanup_(strv_freep) char **names = NULL;
        char *s = NULL;
        size_t len = 0, cap = 0;
        struct dirent *de;

        assert_non_null(d);
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        assert_int_equal(strv_extend(&names, de->d_name), 0);
        for (size_t i = 0; names && names[i]; i++)
                for (size_t j = i + 1; names[j]; j++)
                        if (strcmp(names[i], names[j]) > 0) {
                                char *t = names[i];
                                names[i] = names[j];
                                names[j] = t;
                        }
        assert_int_equal(buf_appendf(&s, &len, &cap, "%s", ""), 0);
        for (size_t i = 0; names && names[i]; i++)
                assert_int_equal(buf_appendf(&s, &len, &cap, "%s%s", i > 0 ? " " : "", names[i]), 0);
        return s;
}

static void test_write_file_atomic(void **state) {
        const char *dir = *state;
        _cleanup_(freep) char *path = test_path(dir, "state.json"), *data = NULL, *names = NULL;
        static const char binary[] = { 'a', '\0', 'b', '\n', '\xff' };
        struct stat st;
        size_t size;

        assert_int_equal(write_file_atomic(path, "hello\n", 6, 0640), 0);
        data = read_all(path, &size);
        assert_int_equal(size, 6);
        assert_memory_equal(data, "hello\n", 6);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0640);
        names = list_dir(dir);
        assert_string_equal(names, "state.json"); /* no .tmp left behind */

        /* Replacing: new content and new mode, still nothing left over. */
        free(data);
        free(names);
        assert_int_equal(write_file_atomic(path, binary, sizeof(binary), 0600), 0);
        data = read_all(path, &size);
        assert_int_equal(size, sizeof(binary));
        assert_memory_equal(data, binary, sizeof(binary));
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        names = list_dir(dir);
        assert_string_equal(names, "state.json");

        /* Empty content. */
        free(data);
        assert_int_equal(write_file_atomic(path, "", 0, 0644), 0);
        data = read_all(path, &size);
        assert_int_equal(size, 0);
}

static void test_write_file_atomic_errors(void **state) {
        const char *dir = *state;
        _cleanup_(freep) char *missing = test_path(dir, "no/such/dir/file"), *names = NULL;
        _cleanup_(freep) char *asdir = test_path(dir, "adir");

        assert_int_equal(write_file_atomic(missing, "x", 1, 0644), -ENOENT);

        /* rename() onto a directory fails: the temporary file must not stay behind. */
        assert_int_equal(mkdir(asdir, 0755), 0);
        assert_int_equal(write_file_atomic(asdir, "x", 1, 0644), -EISDIR);
        names = list_dir(dir);
        assert_string_equal(names, "adir");
}

static void test_mkdir_p(void **state) {
        const char *dir = *state;
        _cleanup_(freep) char *deep = test_path(dir, "a/b/c"), *slash = test_path(dir, "x/y/"),
                           *file = test_path(dir, "file"), *under_file = test_path(dir, "file/sub"),
                           *mid = test_path(dir, "a/b");
        struct stat st;

        assert_int_equal(mkdir_p(deep, 0750), 0);
        assert_int_equal(stat(deep, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_int_equal(st.st_mode & 07777, 0750);
        assert_int_equal(stat(mid, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0750);
        /* Existing: fine. */
        assert_int_equal(mkdir_p(deep, 0750), 0);
        assert_int_equal(mkdir_p(mid, 0750), 0);
        assert_int_equal(mkdir_p(dir, 0750), 0);
        assert_int_equal(mkdir_p("/", 0755), 0);

        assert_int_equal(mkdir_p(slash, 0755), 0);
        assert_int_equal(stat(slash, &st), 0);
        assert_true(S_ISDIR(st.st_mode));

        assert_int_equal(write_file_atomic(file, "x", 1, 0644), 0);
        assert_int_equal(mkdir_p(under_file, 0755), -ENOTDIR);
        /* A file where the directory should be is not a directory that "exists afterwards". */
        assert_int_equal(mkdir_p(file, 0755), -ENOTDIR);

        assert_int_equal(mkdir_p("", 0755), -ENOENT);
}

/* ---- strv ---- */

static void test_strv(void **state) {
        _cleanup_(strv_freep) char **l = NULL, **copy = NULL, **empty = NULL;
        char *s;

        assert_int_equal(strv_length(NULL), 0);
        assert_false(strv_contains(NULL, "a"));
        assert_null(strv_free(NULL));

        assert_int_equal(strv_extend(&l, "a"), 0);
        assert_int_equal(strv_extend(&l, ""), 0);
        s = strdup("c");
        assert_non_null(s);
        assert_int_equal(strv_consume(&l, s), 0);
        check_strv(l, WORDS("a", "", "c"), "built");
        assert_true(strv_contains(l, "a"));
        assert_true(strv_contains(l, ""));
        assert_true(strv_contains(l, "c"));
        assert_false(strv_contains(l, "b"));
        assert_false(strv_contains(l, "A"));

        /* A NULL string (a failed strdup) is -ENOMEM and leaves the vector alone. */
        assert_int_equal(strv_consume(&l, NULL), -ENOMEM);
        assert_int_equal(strv_length(l), 3);

        copy = strv_copy(l);
        assert_non_null(copy);
        check_strv(copy, WORDS("a", "", "c"), "copy");
        assert_ptr_not_equal(copy[0], l[0]);
        copy[0][0] = 'z';
        assert_string_equal(l[0], "a");

        empty = strv_copy(NULL);
        assert_non_null(empty);
        assert_null(empty[0]);
        assert_int_equal(strv_length(empty), 0);
}

static void test_startswith(void **state) {
        assert_string_equal(strempty(startswith("check.app", "check.")), "app");
        assert_string_equal(strempty(startswith("check.", "check.")), "");
        assert_null(startswith("chec", "check."));
        assert_string_equal(strempty(startswith("abc", "")), "abc");
        assert_true(streq_ptr(NULL, NULL));
        assert_false(streq_ptr("a", NULL));
        assert_true(streq_ptr("a", "a"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_duration_good),
                cmocka_unit_test(test_parse_duration_bad),
                cmocka_unit_test(test_format_uint64),
                cmocka_unit_test(test_format_duration_exact),
                cmocka_unit_test(test_format_duration_round_trip),
                cmocka_unit_test(test_format_duration_small_buffers),
                cmocka_unit_test(test_parse_uint),
                cmocka_unit_test(test_parse_int),
                cmocka_unit_test(test_parse_boolean),
                cmocka_unit_test(test_split_command_good),
                cmocka_unit_test(test_split_command_bad),
                cmocka_unit_test(test_quote_word),
                cmocka_unit_test(test_sanitize_line),
                cmocka_unit_test(test_sanitize_line_bounds),
                cmocka_unit_test(test_json_append_string),
                cmocka_unit_test(test_json_object),
                cmocka_unit_test_setup_teardown(test_write_file_atomic, setup_tmpdir, teardown_tmpdir),
                cmocka_unit_test_setup_teardown(test_write_file_atomic_errors, setup_tmpdir, teardown_tmpdir),
                cmocka_unit_test_setup_teardown(test_mkdir_p, setup_tmpdir, teardown_tmpdir),
                cmocka_unit_test(test_strv),
                cmocka_unit_test(test_startswith),
        };

        /* Modes in the file tests are exact only under a known umask. */
        umask(022);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
