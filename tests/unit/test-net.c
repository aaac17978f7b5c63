/* SPDX-License-Identifier: MIT */
/* Unit tests for src/checks/net.c: how the network checks print their latencies. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "net.h"

static void test_format_decimal(void **state) {
        char buf[32];

        assert_string_equal(net_format_decimal(buf, sizeof(buf), 42, USEC_PER_MSEC, 2, "ms"), "0.04ms");
        assert_string_equal(net_format_decimal(buf, sizeof(buf), 45, USEC_PER_MSEC, 2, "ms"), "0.05ms");
        assert_string_equal(net_format_decimal(buf, sizeof(buf), 9999, USEC_PER_MSEC, 2, "ms"), "10.00ms");
        assert_string_equal(net_format_decimal(buf, sizeof(buf), 1250, USEC_PER_MSEC, 1, "ms"), "1.3ms");
        assert_string_equal(net_format_decimal(buf, sizeof(buf), 1500000, USEC_PER_SEC, 0, "s"), "2s");
        assert_string_equal(net_format_decimal(buf, sizeof(buf), 0, USEC_PER_SEC, 2, "s"), "0.00s");
}

static void test_format_latency(void **state) {
        char buf[32];

        assert_string_equal(net_format_latency(buf, sizeof(buf), 37), "0.04ms");
        assert_string_equal(net_format_latency(buf, sizeof(buf), 400), "0.40ms");
        assert_string_equal(net_format_latency(buf, sizeof(buf), 4321), "4.3ms");
        assert_string_equal(net_format_latency(buf, sizeof(buf), 12900), "12ms");
        assert_string_equal(net_format_latency(buf, sizeof(buf), 1254000), "1.25s");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_format_decimal),
                cmocka_unit_test(test_format_latency),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
