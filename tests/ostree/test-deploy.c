/* SPDX-License-Identifier: MIT */
/* Unit tests for the OSTree deployment rules (src/ostree/ostree-deploy.c) on plain lists: which
 * deployment failed on a rolled-back boot, what remove-failed may remove and what prune keeps. The
 * same rules run against real sysroots in tests/integration/ostree-*.sh. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "ostree-deploy.h"
#include "util.h"

#define MAX 16

/* A list from words, one a deployment in libostree's order: "." plain, or any of b (booted),
 * s (staged), p (pinned). Deployment i has checksum "iii...i" (its index as a hex digit). */
static size_t make(Deployment *d, const char *spec) {
        _cleanup_(strv_freep) char **words = NULL;
        size_t n;

        assert_int_equal(split_command(spec, &words), 0);
        n = strv_length(words);
        assert_true(n <= MAX);
        memset(d, 0, MAX * sizeof(Deployment));
        for (size_t i = 0; i < n; i++) {
                memset(d[i].checksum, "0123456789abcdef"[i], DEPLOY_CHECKSUM_LEN);
                d[i].booted = strchr(words[i], 'b');
                d[i].staged = strchr(words[i], 's');
                d[i].pinned = strchr(words[i], 'p');
        }
        deploy_classify(d, n);
        return n;
}

/* The remove[] marks as a word: "x" removed, "." kept. */
static const char *marks(const bool *remove, size_t n) {
        static char buf[MAX + 1];

        for (size_t i = 0; i < n; i++)
                buf[i] = remove[i] ? 'x' : '.';
        buf[n] = 0;
        return buf;
}

static const char *name_of(size_t i, const char *suffix) {
        static char buf[DEPLOY_CHECKSUM_LEN + 16];

        memset(buf, "0123456789abcdef"[i], DEPLOY_CHECKSUM_LEN);
        snprintf(buf + DEPLOY_CHECKSUM_LEN, 16, "%s", suffix);
        return buf;
}

static void test_classify(void **state) {
        Deployment d[MAX];
        size_t n;

        n = make(d, "s . b .");
        assert_int_equal(deploy_booted(d, n), 2);
        assert_int_equal(deploy_default(d, n), 1);
        assert_false(d[0].is_default);
        assert_true(d[1].is_default);
        assert_true(d[0].pending && d[1].pending);
        assert_false(d[2].pending || d[2].rollback);
        assert_true(d[3].rollback);

        /* Nothing booted (a sysroot looked at from outside): nothing pending or rollback. */
        n = make(d, ". .");
        assert_int_equal(deploy_booted(d, n), -ESRCH);
        assert_int_equal(deploy_default(d, n), 0);
        assert_false(d[0].pending || d[1].rollback);

        n = make(d, "");
        assert_int_equal(deploy_default(d, n), -ENOENT);
}

static void test_find_failed(void **state) {
        Deployment d[MAX];
        size_t n;

        /* Rolled back: the default entry failed. */
        n = make(d, ". b .");
        assert_int_equal(deploy_find_failed(d, n), 0);
        /* Booted the default: nothing failed. */
        n = make(d, "b . .");
        assert_int_equal(deploy_find_failed(d, n), -ENOENT);
        /* A staged update waits for its reboot: it looks pending, but it was never booted. */
        n = make(d, "s b .");
        assert_int_equal(deploy_find_failed(d, n), -ENOENT);
        /* Staged after a rollback: the failed one is still the default entry, behind the staged. */
        n = make(d, "s . b .");
        assert_int_equal(deploy_find_failed(d, n), 1);
        /* Booted an older rollback still: the default failed. */
        n = make(d, ". . b");
        assert_int_equal(deploy_find_failed(d, n), 0);
        /* Pinned or not, the failed one is identified (remove-failed refuses it later). */
        n = make(d, "p b");
        assert_int_equal(deploy_find_failed(d, n), 0);
        /* Nothing booted: nothing to judge by. */
        n = make(d, ". .");
        assert_int_equal(deploy_find_failed(d, n), -ESRCH);
        /* The default deploys the booted commit again: its content is not to blame. */
        n = make(d, ". b .");
        memcpy(d[0].checksum, d[1].checksum, sizeof(d[0].checksum));
        assert_int_equal(deploy_find_failed(d, n), -ENOENT);
}

static void test_name_valid(void **state) {
        assert_true(deploy_name_valid(name_of(10, "")));
        assert_true(deploy_name_valid(name_of(1, ".0")));
        assert_true(deploy_name_valid(name_of(1, ".12")));
        assert_false(deploy_name_valid(name_of(1, ".")));
        assert_false(deploy_name_valid(name_of(1, ".x")));
        assert_false(deploy_name_valid(name_of(1, "0")));
        assert_false(deploy_name_valid(name_of(1, ".12345678901")));
        assert_false(deploy_name_valid("abc"));
        assert_false(deploy_name_valid(""));
        assert_false(deploy_name_valid("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
}

static void test_plan_remove(void **state) {
        bool remove[MAX];
        Deployment d[MAX];
        size_t n;

        n = make(d, ". b .");
        assert_int_equal(deploy_plan_remove(d, n, name_of(0, ""), remove), 1);
        assert_string_equal(marks(remove, n), "x..");
        assert_int_equal(deploy_plan_remove(d, n, name_of(2, ".0"), remove), 1);
        assert_string_equal(marks(remove, n), "..x");
        assert_int_equal(deploy_plan_remove(d, n, name_of(2, ".1"), remove), -ENOENT);
        assert_int_equal(deploy_plan_remove(d, n, name_of(1, ""), remove), -EBUSY);
        assert_int_equal(deploy_plan_remove(d, n, name_of(5, ""), remove), -ENOENT);
        assert_int_equal(deploy_plan_remove(d, n, "0000", remove), -EINVAL);

        n = make(d, "s . b p");
        assert_int_equal(deploy_plan_remove(d, n, name_of(0, ""), remove), -EINPROGRESS);
        assert_int_equal(deploy_plan_remove(d, n, name_of(3, ""), remove), -EPERM);
        assert_int_equal(deploy_plan_remove(d, n, name_of(1, ""), remove), 1);
        assert_string_equal(marks(remove, n), ".x..");

        /* One commit deployed twice (serials 0 and 1): the checksum names both, a serial one. */
        n = make(d, ". . b");
        memcpy(d[1].checksum, d[0].checksum, sizeof(d[0].checksum));
        d[1].serial = 1;
        assert_int_equal(deploy_plan_remove(d, n, name_of(0, ""), remove), 2);
        assert_string_equal(marks(remove, n), "xx.");
        assert_int_equal(deploy_plan_remove(d, n, name_of(0, ".1"), remove), 1);
        assert_string_equal(marks(remove, n), ".x.");
        /* ... and when one of them is booted, the commit is not removed at all. */
        memcpy(d[2].checksum, d[0].checksum, sizeof(d[0].checksum));
        d[2].serial = 2;
        assert_int_equal(deploy_plan_remove(d, n, name_of(0, ""), remove), -EBUSY);
}

static void test_plan_prune(void **state) {
        bool remove[MAX];
        Deployment d[MAX];
        size_t n;

        n = make(d, "b . . .");
        assert_int_equal(deploy_plan_prune(d, n, 1, remove), 2);
        assert_string_equal(marks(remove, n), "..xx");
        assert_int_equal(deploy_plan_prune(d, n, 0, remove), 3);
        assert_string_equal(marks(remove, n), ".xxx");
        assert_int_equal(deploy_plan_prune(d, n, 5, remove), 0);
        assert_string_equal(marks(remove, n), "....");

        /* Pinned ones stay and do not count among the kept rollbacks. */
        n = make(d, "b p . . p .");
        assert_int_equal(deploy_plan_prune(d, n, 1, remove), 2);
        assert_string_equal(marks(remove, n), "...x.x");

        /* A staged update and a newer deployment waiting for its trial stay. */
        n = make(d, "s . b . .");
        assert_int_equal(deploy_plan_prune(d, n, 0, remove), 2);
        assert_string_equal(marks(remove, n), "...xx");

        n = make(d, ". .");
        assert_int_equal(deploy_plan_prune(d, n, 0, remove), -ESRCH);
        assert_string_equal(marks(remove, n), "..");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_classify),
                cmocka_unit_test(test_find_failed),
                cmocka_unit_test(test_name_valid),
                cmocka_unit_test(test_plan_remove),
                cmocka_unit_test(test_plan_prune),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
