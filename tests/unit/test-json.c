/* SPDX-License-Identifier: MIT */
/* Unit tests for the JSON reader the command line uses on the control socket's replies and on
 * the status document: what it accepts, what it refuses, and that writing back is faithful. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "json.h"

static JsonValue *parse_ok(const char *text) {
        JsonValue *v = NULL;

        assert_int_equal(json_parse(text, &v), 0);
        assert_non_null(v);
        return v;
}

/* Parses text and writes it back on one line. */
static void assert_round_trip(const char *text, const char *expected) {
        _cleanup_(json_freep) JsonValue *v = parse_ok(text);
        _cleanup_(freep) char *out = NULL;

        assert_int_equal(json_format(v, false, &out), 0);
        assert_string_equal(out, expected);
}

static void test_values(void **state) {
        assert_round_trip("null", "null");
        assert_round_trip(" true ", "true");
        assert_round_trip("false\n", "false");
        assert_round_trip("0", "0");
        assert_round_trip("-12.5e+3", "-12.5e+3");
        assert_round_trip("18446744073709551615", "18446744073709551615");
        assert_round_trip("\"a\\\"b\\\\c\\/d\\n\"", "\"a\\\"b\\\\c/d\\n\"");
        assert_round_trip("[]", "[]");
        assert_round_trip("{}", "{}");
        assert_round_trip("{ \"a\" : [1, {\"b\": null}], \"c\": \"d\" }", "{\"a\":[1,{\"b\":null}],\"c\":\"d\"}");
}

static void test_unicode(void **state) {
        _cleanup_(json_freep) JsonValue *v = parse_ok("\"\\u00e9\\u20ac\\ud83d\\ude00x\"");

        /* é, €, and a character beyond the BMP from its surrogate pair. */
        assert_string_equal(json_string(v), "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80x");
}

/* What the writer makes of text, as a JSON string. */
static void assert_written(const char *text, const char *expected) {
        _cleanup_(freep) char *out = NULL;
        _cleanup_(json_freep) JsonValue *v = NULL;
        size_t len = 0, cap = 0;

        assert_int_equal(json_append_string(&out, &len, &cap, text), 0);
        assert_string_equal(out, expected);
        /* And it reads back. */
        v = parse_ok(out);
}

/* Probe output is any bytes: the writer keeps valid UTF-8 and replaces the rest with U+FFFD. */
static void test_write_utf8(void **state) {
        assert_written("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb6", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\xb6\"");
        assert_written("a\xff" "b", "\"a\\ufffdb\"");
        /* A sequence cut short, by the end of the string or by another character. */
        assert_written("\xc3", "\"\\ufffd\"");
        assert_written("\xe2\x82", "\"\\ufffd\\ufffd\"");
        assert_written("\xe2\x82x", "\"\\ufffd\\ufffdx\"");
        /* Overlong forms, UTF-16 surrogates, beyond U+10FFFF, a lone continuation byte. */
        assert_written("\xc0\xaf", "\"\\ufffd\\ufffd\"");
        assert_written("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"");
        assert_written("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
        assert_written("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
        assert_written("\x80", "\"\\ufffd\"");
        /* Control characters and the escapes. */
        assert_written("\"\\\n\t\x7f", "\"\\\"\\\\\\n\\u0009\\u007f\"");
}

static void test_refused(void **state) {
        static const char *const bad[] = {
                "", " ", "nul", "tru", "01", "-", "1.", "1e", ".5", "+1", "\"abc", "\"a\\x\"", "\"tab\there\"",
                "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\u0000\"", "[1,]", "[1 2]", "{\"a\"}", "{\"a\":1,}",
                "{a:1}", "{\"a\":1", "[", "1 2", "{\"a\":1}x", "'a'",
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                JsonValue *v = NULL;

                if (json_parse(bad[i], &v) != -EBADMSG)
                        fail_msg("accepted '%s'", bad[i]);
                assert_null(v);
        }
}

static void test_depth(void **state) {
        char deep[2 * (JSON_DEPTH_MAX + 1) + 1], ok[2 * JSON_DEPTH_MAX + 1];
        JsonValue *v = NULL;

        memset(deep, '[', JSON_DEPTH_MAX + 1);
        memset(deep + JSON_DEPTH_MAX + 1, ']', JSON_DEPTH_MAX + 1);
        deep[sizeof(deep) - 1] = '\0';
        assert_int_equal(json_parse(deep, &v), -EBADMSG);

        memset(ok, '[', JSON_DEPTH_MAX);
        memset(ok + JSON_DEPTH_MAX, ']', JSON_DEPTH_MAX);
        ok[sizeof(ok) - 1] = '\0';
        assert_int_equal(json_parse(ok, &v), 0);
        json_free(v);
}

static void test_get(void **state) {
        _cleanup_(json_freep) JsonValue *v =
                parse_ok("{\"ok\":true,\"status\":{\"boot\":{\"phase\":\"trial\",\"n\":42,\"f\":1.5,\"neg\":-1}}}");
        uint64_t u = 0;

        assert_true(json_true(json_get(v, "ok", NULL)));
        assert_string_equal(json_string(json_get(v, "status", "boot", "phase", NULL)), "trial");
        assert_null(json_get(v, "status", "nope", "phase", NULL));
        assert_null(json_get(v, "ok", "deeper", NULL));
        assert_null(json_string(json_get(v, "status", NULL)));
        assert_false(json_true(json_get(v, "status", NULL)));
        assert_int_equal(json_uint(json_get(v, "status", "boot", "n", NULL), &u), 0);
        assert_int_equal(u, 42);
        assert_int_equal(json_uint(json_get(v, "status", "boot", "f", NULL), &u), -EINVAL);
        assert_int_equal(json_uint(json_get(v, "status", "boot", "neg", NULL), &u), -EINVAL);
        assert_int_equal(json_uint(NULL, &u), -EINVAL);
}

static void test_pretty(void **state) {
        _cleanup_(json_freep) JsonValue *v = parse_ok("{\"a\":[1,2],\"b\":{},\"c\":[]}");
        _cleanup_(freep) char *out = NULL;

        assert_int_equal(json_format(v, true, &out), 0);
        assert_string_equal(out, "{\n"
                                 "  \"a\": [\n"
                                 "    1,\n"
                                 "    2\n"
                                 "  ],\n"
                                 "  \"b\": {},\n"
                                 "  \"c\": []\n"
                                 "}");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_values),
                cmocka_unit_test(test_unicode),
                cmocka_unit_test(test_write_utf8),
                cmocka_unit_test(test_refused),
                cmocka_unit_test(test_depth),
                cmocka_unit_test(test_get),
                cmocka_unit_test(test_pretty),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
