/* SPDX-License-Identifier: MIT */
/* Unit tests for check_state_update(): the fail-after / pass-after policy as a pure function.
 *
 * Each case is a sequence of probe results and the state after each of them:
 *   results: 'P' passed, 'F' failed
 *   failing: 'F' the check counts as failing after that run, '.' it is healthy
 * A count in front of a character repeats it ("62P" is 62 passes), for the 64-run windows. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "check.h"

typedef struct StateCase {
        unsigned n, window;   /* fail-after = n/window */
        unsigned pass_after;
        const char *results;
        const char *failing;
} StateCase;

/* Expands "3F2P" to "FFFPP"; the result is owned by the caller. */
static char *expand(const char *s) {
        char *out = NULL;
        size_t len = 0, cap = 0;

        assert_int_equal(buf_appendf(&out, &len, &cap, "%s", ""), 0);
        while (*s) {
                unsigned count = 1;

                if (*s >= '0' && *s <= '9') {
                        char *end;
                        count = (unsigned) strtoul(s, &end, 10);
                        s = end;
                        assert_true(*s != '\0');
                }
                for (unsigned i = 0; i < count; i++)
                        assert_int_equal(buf_appendf(&out, &len, &cap, "%c", *s), 0);
                s++;
        }
        return out;
}

static void run_case(const StateCase *c) {
        _cleanup_(freep) char *results = expand(c->results), *failing = expand(c->failing);
        const FailAfter fa = { .n = c->n, .window = c->window };
        CheckState st = {};
        size_t n = strlen(results);

        if (strlen(failing) != n)
                fail_msg("bad table row %u/%u pass-after %u '%s': %zu results but %zu states", c->n, c->window,
                         c->pass_after, c->results, n, strlen(failing));

        for (size_t i = 0; i < n; i++) {
                bool was = st.failing, changed;
                bool expected = failing[i] == 'F';

                assert_true(results[i] == 'P' || results[i] == 'F');
                changed = check_state_update(&st, &fa, c->pass_after, results[i] == 'P');

                if (st.failing != expected || changed != (was != expected))
                        fail_msg("fail-after %u/%u pass-after %u, results '%s': after run %zu ('%c') failing=%d "
                                 "changed=%d, expected failing=%d changed=%d (expected states '%s')",
                                 c->n, c->window, c->pass_after, c->results, i + 1, results[i], st.failing, changed,
                                 expected, was != expected, c->failing);
                assert_int_equal(st.runs, i + 1);
        }
}

static void run_cases(const StateCase *cases, size_t n) {
        for (size_t i = 0; i < n; i++)
                run_case(&cases[i]);
}

static void test_fail_after_consecutive(void **state) {
        static const StateCase cases[] = {
                /* n  M  K  results      failing */
                { 3, 3, 1, "",          "" },
                { 3, 3, 1, "PPPPP",     "....." },
                { 3, 3, 1, "FF",        ".." },
                { 3, 3, 1, "FFF",       "..F" },
                { 3, 3, 1, "FFFF",      "..FF" },
                { 3, 3, 1, "PFFF",      "...F" },
                { 3, 3, 1, "FFPFF",     "....." },   /* a pass in between resets the count */
                { 3, 3, 1, "FFPFFF",    ".....F" },
                { 3, 3, 1, "FPFPFPFPF", "........." },
                { 3, 3, 1, "FFFP",      "..F." },
                { 1, 1, 1, "F",         "F" },
                { 1, 1, 1, "PFPFFP",    ".F.FF." },
                { 2, 2, 1, "FPFPFF",    ".....F" },
        };

        run_cases(cases, ELEMENTSOF(cases));
}

static void test_fail_after_window(void **state) {
        static const StateCase cases[] = {
                /* n  M  K  results      failing */
                { 3, 5, 1, "FPFPF",     "....F" },     /* not consecutive, but 3 of the last 5 */
                { 3, 5, 1, "FFPPF",     "....F" },
                { 3, 5, 1, "FPPFPF",    "......" },    /* the first failure fell out of the window */
                { 3, 5, 1, "FPPFPFF",   "......F" },
                { 3, 5, 1, "FPPPPFF",   "......." },
                { 3, 5, 1, "FPPFF",     "....F" },     /* exactly 5 runs back still counts */
                { 3, 5, 1, "FPPPFF",    "......" },
                { 3, 5, 1, "FFF",       "..F" },       /* fewer runs than the window */
                { 2, 4, 1, "FPPF",      "...F" },
                { 2, 4, 1, "FPPPF",     "....." },
                { 1, 5, 1, "PPPPF",     "....F" },
                { 5, 5, 1, "FFFFPFFFF", "........." },  /* N == M: consecutive again */
        };

        run_cases(cases, ELEMENTSOF(cases));
}

static void test_pass_after(void **state) {
        static const StateCase cases[] = {
                /* n  M  K  results       failing */
                { 2, 2, 3, "FFPPP",      ".FFF." },     /* failing until 3 consecutive passes */
                { 2, 2, 3, "FFPPFPPP",   ".FFFFFF." },  /* a failure restarts the count */
                { 2, 2, 3, "FFPPPF",     ".FFF.." },
                { 2, 2, 3, "FFPPPFF",    ".FFF..F" },
                { 2, 2, 3, "FFFFFPPP",   ".FFFFFF." },  /* more failures while failing change nothing */
                { 2, 2, 3, "PPPPP",      "....." },     /* pass-after only matters once failing */
                { 1, 1, 1, "FPFP",       "F.F." },
                { 1, 1, 2, "FPFPP",      "FFFF." },
                { 3, 5, 2, "FPFPFPP",    "....FF." },
        };

        run_cases(cases, ELEMENTSOF(cases));
}

static void test_history_reset_after_recovery(void **state) {
        static const StateCase cases[] = {
                /* n  M  K  results        failing */
                /* Without the reset, the window would still hold 3 failures and fail at once. */
                { 3, 5, 1, "FFFPF",       "..F.." },
                { 3, 5, 1, "FFFPFF",      "..F..." },
                { 3, 5, 1, "FFFPFFF",     "..F...F" },
                { 3, 5, 1, "FPFPFPF",     "....F.." },
                { 3, 5, 1, "FPFPFPFPF",   "....F...." },
                { 3, 5, 1, "FPFPFPFPFPF", "....F.....F" },
                { 2, 10, 2, "FFPPFPPFPF", ".FF....FFF" },
                { 3, 3, 1, "FFFPF",       "..F.." },
                { 1, 64, 1, "FPF",        "F.F" },
                { 4, 64, 1, "4FP3F",      "...F...." },
                { 4, 64, 1, "4FP4F",      "...F....F" },
        };

        run_cases(cases, ELEMENTSOF(cases));
}

static void test_window_64(void **state) {
        static const StateCase cases[] = {
                /* n   M   K   results         failing */
                { 2,  64, 1,  "F62PF",        "63.F" },     /* 64 runs: both failures inside */
                { 2,  64, 1,  "F63PF",        "65." },      /* 65 runs: the first fell out */
                { 2,  64, 1,  "F63PFF",       "65.F" },
                { 64, 64, 1,  "63F",          "63." },
                { 64, 64, 1,  "64F",          "63.F" },
                { 64, 64, 1,  "100F",         "63.37F" },
                { 64, 64, 1,  "63FP64F",      "127.F" },
                { 32, 64, 1,  "31FP",         "32." },
                { 32, 64, 1,  "31F32PF",      "63.F" },     /* 32 failures within exactly 64 runs */
                { 32, 64, 1,  "31F33PF",      "65." },
                { 32, 64, 1,  "16F32P16F",    "63.F" },
                { 1,  64, 64, "F63P",         "64F" },      /* pass-after 64 */
                { 1,  64, 64, "F64PF",        "64F.F" },
                { 2,  64, 1,  "F200PF",       "202." },     /* old failures do not linger in the bits */
        };

        run_cases(cases, ELEMENTSOF(cases));
}

/* Every failing-state change is reported exactly once, over a long pseudo-random run, and the
 * state matches a straightforward model of the policy that keeps the whole result list. */
static void test_against_model(void **state) {
        static const struct {
                unsigned n, window, pass_after;
        } policies[] = {
                { 1, 1, 1 }, { 3, 3, 1 }, { 3, 5, 1 }, { 3, 5, 3 }, { 2, 64, 2 }, { 10, 64, 5 }, { 64, 64, 1 },
        };
        uint64_t x = 0x2545f4914f6cdd1dULL;

        for (size_t p = 0; p < ELEMENTSOF(policies); p++) {
                const FailAfter fa = { .n = policies[p].n, .window = policies[p].window };
                /* The model: results since the last recovery, newest last. */
                bool since[4096];
                size_t n_since = 0;
                unsigned passes = 0, transitions = 0;
                bool failing = false;
                CheckState st = {};

                for (unsigned i = 0; i < 4000; i++) {
                        bool passed, changed, was = failing;

                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        /* Phases of mostly passing, mixed and only failing runs, so that every
                         * policy, even 64 of 64, goes both ways. */
                        passed = (x % 100) < (unsigned[]) { 90, 40, 0 }[(i / 150) % 3];

                        since[n_since++] = passed;
                        passes = passed ? passes + 1 : 0;
                        if (!failing) {
                                unsigned fails = 0;
                                for (size_t j = n_since > fa.window ? n_since - fa.window : 0; j < n_since; j++)
                                        fails += !since[j];
                                failing = fails >= fa.n;
                        } else if (passes >= policies[p].pass_after) {
                                failing = false;
                                n_since = 0;
                        }

                        changed = check_state_update(&st, &fa, policies[p].pass_after, passed);
                        if (st.failing != failing || changed != (was != failing))
                                fail_msg("policy %u/%u pass-after %u, run %u: failing=%d changed=%d, model %d %d",
                                         fa.n, fa.window, policies[p].pass_after, i + 1, st.failing, changed, failing,
                                         was != failing);
                        transitions += changed;
                }
                /* The generator must actually exercise the policy. */
                assert_true(transitions >= 4);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_fail_after_consecutive),
                cmocka_unit_test(test_fail_after_window),
                cmocka_unit_test(test_pass_after),
                cmocka_unit_test(test_history_reset_after_recovery),
                cmocka_unit_test(test_window_64),
                cmocka_unit_test(test_against_model),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
