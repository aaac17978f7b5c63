/* SPDX-License-Identifier: MIT */
/* Unit tests for the value types of src/daemon/conf-parser.c that the resource checks use
 * (decimals, sizes, counts, percentages): what they accept and refuse, and that a dump reads back. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>

#include "conf-parser.h"

typedef struct Values {
        uint64_t decimal;
        uint64_t bounded;
        uint64_t positive;
        Amount size;
        Amount count;
} Values;

static const ConfigKey keys[] = {
        { "decimal",  &config_type_decimal,          offsetof(Values, decimal) },
        { "bounded",  &config_type_decimal,          offsetof(Values, bounded), "60", .min = 500, .max = 300000 },
        { "positive", &config_type_decimal,          offsetof(Values, positive), .min = 1 },
        { "size",     &config_type_size_or_percent,  offsetof(Values, size) },
        { "count",    &config_type_count_or_percent, offsetof(Values, count) },
        {}
};

static const ConfigKey *key(const char *name) {
        const ConfigKey *k = config_key_find(keys, name);

        assert_non_null(k);
        return k;
}

/* Parses text into a fresh Values; returns the result, *reason set (or NULL). */
static int parse(const char *name, const char *text, Values *v, char **reason) {
        *v = (Values) {};
        return config_key_parse(key(name), v, text, reason);
}

/* The key as config_keys_dump() prints it, without "name = " and the newline. */
static char *format(const char *name, const Values *v) {
        const ConfigKey one[] = { *key(name), {} };
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);
        size_t l;

        assert_non_null(f);
        config_keys_dump(one, v, f);
        assert_int_equal(fclose(f), 0);
        l = strlen(name) + 3;
        assert_true(strlen(text) > l);
        memmove(text, text + l, strlen(text + l) + 1);
        text[strlen(text) - 1] = '\0';
        return text;
}

/* ---- config_type_decimal ---- */

static void test_decimal_valid(void **state) {
        static const struct {
                const char *text;
                uint64_t value;
                const char *formatted;
        } cases[] = {
                { "0",                     0,          "0" },
                { "2",                     2000,       "2" },
                { "2.5",                   2500,       "2.5" },
                { "2.50",                  2500,       "2.5" },
                { "0.001",                 1,          "0.001" },
                { "0.75",                  750,        "0.75" },
                { "007.250",               7250,       "7.25" },
                { "18446744073709551.615", UINT64_MAX, "18446744073709551.615" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(freep) char *reason = NULL, *text = NULL;
                Values v;

                if (parse("decimal", cases[i].text, &v, &reason) < 0 || v.decimal != cases[i].value)
                        fail_msg("'%s' parsed as %" PRIu64 " (%s), expected %" PRIu64, cases[i].text, v.decimal,
                                 strempty(reason), cases[i].value);
                text = format("decimal", &v);
                if (!streq(text, cases[i].formatted))
                        fail_msg("'%s' formatted as '%s', expected '%s'", cases[i].text, text, cases[i].formatted);
        }
}

static void test_decimal_invalid(void **state) {
        static const struct {
                const char *text;
                int r;
                const char *reason;
        } cases[] = {
                { "-1",                    -EINVAL, "is not a decimal number (e.g. 2, 2.5 or 0.75)" },
                { "+1",                    -EINVAL, "is not a decimal number (e.g. 2, 2.5 or 0.75)" },
                { ".5",                    -EINVAL, "is not a decimal number (e.g. 2, 2.5 or 0.75)" },
                { "5.",                    -EINVAL, "is not a decimal number (e.g. 2, 2.5 or 0.75)" },
                { "1e3",                   -EINVAL, "is not a decimal number (e.g. 2, 2.5 or 0.75)" },
                { "2,5",                   -EINVAL, "is not a decimal number (e.g. 2, 2.5 or 0.75)" },
                { "2.5x",                  -EINVAL, "is not a decimal number (e.g. 2, 2.5 or 0.75)" },
                { " 2",                    -EINVAL, "is not a decimal number (e.g. 2, 2.5 or 0.75)" },
                { "1.2.3",                 -EINVAL, "is not a decimal number (e.g. 2, 2.5 or 0.75)" },
                { "1.2345",                -EINVAL, "has more than 3 decimal places" },
                { "18446744073709551.616", -ERANGE, "is too large" },
                { "99999999999999999999",  -ERANGE, "is too large" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(freep) char *reason = NULL;
                Values v;
                int r = parse("decimal", cases[i].text, &v, &reason);

                if (r != cases[i].r || !streq_ptr(reason, cases[i].reason))
                        fail_msg("'%s': r=%d reason '%s', expected r=%d '%s'", cases[i].text, r, strempty(reason),
                                 cases[i].r, cases[i].reason);
                assert_int_equal(v.decimal, 0); /* untouched on failure */
        }
}

static void test_decimal_bounds(void **state) {
        _cleanup_(freep) char *r1 = NULL, *r2 = NULL, *r3 = NULL, *r4 = NULL, *r5 = NULL;
        Values v;

        /* The bounds are thousandths, and said the way the value is written. */
        assert_int_equal(parse("bounded", "0.4", &v, &r1), -ERANGE);
        assert_string_equal(r1, "must be between 0.5 and 300");
        assert_int_equal(parse("bounded", "300.001", &v, &r2), -ERANGE);
        assert_string_equal(r2, "must be between 0.5 and 300");
        assert_int_equal(parse("bounded", "300", &v, &r3), 0);
        assert_int_equal(v.bounded, 300000);
        assert_int_equal(parse("positive", "0", &v, &r4), -ERANGE);
        assert_string_equal(r4, "must be at least 0.001");

        /* An empty value resets the key to its default. */
        v.bounded = 1234;
        assert_int_equal(config_key_parse(key("bounded"), &v, "", &r5), 0);
        assert_int_equal(v.bounded, 60000);
}

/* ---- config_type_size_or_percent, config_type_count_or_percent ---- */

static void test_amount_valid(void **state) {
        static const struct {
                const char *name;
                const char *text;
                uint64_t value;
                bool percent;
                const char *formatted;
        } cases[] = {
                { "size",  "0",                    0,                     false, "0" },
                { "size",  "512",                  512,                   false, "512" },
                { "size",  "1000",                 1000,                  false, "1000" },
                { "size",  "1024",                 1024,                  false, "1K" },
                { "size",  "512K",                 512 << 10,             false, "512K" },
                { "size",  "1536K",                1536 << 10,            false, "1536K" },
                { "size",  "1024K",                1 << 20,               false, "1M" },
                { "size",  "64M",                  64 << 20,              false, "64M" },
                { "size",  "1G",                   UINT64_C(1) << 30,     false, "1G" },
                { "size",  "3T",                   UINT64_C(3) << 40,     false, "3T" },
                { "size",  "16777215T",            UINT64_C(16777215) << 40, false, "16777215T" },
                { "size",  "18446744073709551615", UINT64_MAX,            false, "18446744073709551615" },
                { "size",  "10%",                  1000,                  true,  "10%" },
                { "size",  "12.5%",                1250,                  true,  "12.5%" },
                { "size",  "0.01%",                1,                     true,  "0.01%" },
                { "size",  "0%",                   0,                     true,  "0%" },
                { "size",  "100%",                 10000,                 true,  "100%" },
                { "size",  "100.00%",              10000,                 true,  "100%" },
                { "count", "0",                    0,                     false, "0" },
                { "count", "5000",                 5000,                  false, "5000" },
                { "count", "1024",                 1024,                  false, "1024" },
                { "count", "80%",                  8000,                  true,  "80%" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(freep) char *reason = NULL, *text = NULL;
                Values v;
                const Amount *a;

                if (parse(cases[i].name, cases[i].text, &v, &reason) < 0)
                        fail_msg("%s '%s' refused: %s", cases[i].name, cases[i].text, strempty(reason));
                a = streq(cases[i].name, "size") ? &v.size : &v.count;
                if (!a->set || a->value != cases[i].value || a->percent != cases[i].percent)
                        fail_msg("%s '%s' parsed as %" PRIu64 "%s (set=%d)", cases[i].name, cases[i].text, a->value,
                                 a->percent ? " hundredths of a percent" : "", a->set);
                text = format(cases[i].name, &v);
                if (!streq(text, cases[i].formatted))
                        fail_msg("%s '%s' formatted as '%s', expected '%s'", cases[i].name, cases[i].text, text,
                                 cases[i].formatted);
        }
}

static void test_amount_invalid(void **state) {
        static const char size_help[] = "is not a size or a percentage (e.g. 512K, 64M, 1G, plain bytes, or 10%)";
        static const char count_help[] = "is not a count or a percentage (e.g. 5000 or 10%)";
        static const char percent_help[] = "is not a percentage (e.g. 10% or 2.5%)";
        static const struct {
                const char *name;
                const char *text;
                int r;
                const char *reason;
        } cases[] = {
                { "size",  "64m",                  -EINVAL, size_help },
                { "size",  "64MB",                 -EINVAL, size_help },
                { "size",  "64 M",                 -EINVAL, size_help },
                { "size",  "1.5G",                 -EINVAL, size_help },
                { "size",  "K",                    -EINVAL, size_help },
                { "size",  "-5",                   -EINVAL, size_help },
                { "size",  "0x10",                 -EINVAL, size_help },
                { "size",  "16777216T",            -ERANGE, "is too large" },
                { "size",  "18446744073709551616", -ERANGE, "is too large" },
                { "size",  "%",                    -EINVAL, percent_help },
                { "size",  "x%",                   -EINVAL, percent_help },
                { "size",  "10 %",                 -EINVAL, percent_help },
                { "size",  "-1%",                  -EINVAL, percent_help },
                { "size",  "10%%",                 -EINVAL, percent_help },
                { "size",  "1.234%",               -EINVAL, "has more than 2 decimal places in the percentage" },
                { "size",  "101%",                 -ERANGE, "is more than 100%" },
                { "size",  "100.01%",              -ERANGE, "is more than 100%" },
                { "size",  "99999999999999999999%", -ERANGE, "is more than 100%" },
                { "count", "5K",                   -EINVAL, count_help },
                { "count", "1M",                   -EINVAL, count_help },
                { "count", "five",                 -EINVAL, count_help },
                { "count", "200%",                 -ERANGE, "is more than 100%" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(freep) char *reason = NULL;
                Values v;
                int r = parse(cases[i].name, cases[i].text, &v, &reason);

                if (r != cases[i].r || !streq_ptr(reason, cases[i].reason))
                        fail_msg("%s '%s': r=%d reason '%s', expected r=%d '%s'", cases[i].name, cases[i].text, r,
                                 strempty(reason), cases[i].r, cases[i].reason);
                assert_false(v.size.set || v.count.set); /* untouched on failure */
        }
}

static void test_amount_unset(void **state) {
        _cleanup_(freep) char *reason = NULL, *text = NULL;
        Values v;

        /* Unset prints as an empty value, which reads back as unset: dumps survive a round trip. */
        assert_int_equal(parse("size", "64M", &v, &reason), 0);
        assert_true(v.size.set);
        assert_int_equal(config_key_parse(key("size"), &v, "", &reason), 0);
        assert_false(v.size.set);
        text = format("size", &v);
        assert_string_equal(text, "");
}

static void test_amount_round_trip(void **state) {
        uint64_t x = 0x9e3779b97f4a7c15ULL;

        for (size_t i = 0; i < 2000; i++) {
                _cleanup_(freep) char *reason = NULL, *text = NULL;
                Values v = {}, back;

                /* xorshift64: values of every magnitude, often with many trailing zero bits. */
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                v.size = (Amount) { .value = (x >> (x % 64)) << (x % 41), .set = true };
                if (i % 3 == 0)
                        v.size = (Amount) { .value = x % 10001, .percent = true, .set = true };
                text = format("size", &v);
                if (parse("size", text, &back, &reason) < 0 || back.size.value != v.size.value ||
                    back.size.percent != v.size.percent)
                        fail_msg("%" PRIu64 "%s formatted as '%s' read back as %" PRIu64 " (%s)", v.size.value,
                                 v.size.percent ? " hundredths of a percent" : "", text, back.size.value,
                                 strempty(reason));
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_decimal_valid),
                cmocka_unit_test(test_decimal_invalid),
                cmocka_unit_test(test_decimal_bounds),
                cmocka_unit_test(test_amount_valid),
                cmocka_unit_test(test_amount_invalid),
                cmocka_unit_test(test_amount_unset),
                cmocka_unit_test(test_amount_round_trip),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
