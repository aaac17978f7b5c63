/* SPDX-License-Identifier: MIT */
/* Unit tests for check.c with a real sd_event loop, real configs and real probes: a check whose
 * run timer cannot be re-armed must count failed runs and retry, never keep its last verdict.
 *
 * sd-event gives no way to make re-arming a timer fail (sd_event_source_set_time() allocates
 * nothing), so these tests call check_schedule_failed(), the function on_run_timer() hands such
 * a failure to, and watch what the check and the loop do next. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "check.h"
#include "config.h"
#include "tmpdir.h"

#define MSEC(n) ((usec_t) (n) * USEC_PER_MSEC)

/* What the owner of the check heard. */
typedef struct Heard {
        CheckEvent events[16];
        size_t n;
} Heard;

static void on_result(Check *c, CheckEvent event, void *userdata) {
        Heard *h = userdata;

        assert_true(h->n < ELEMENTSOF(h->events));
        h->events[h->n++] = event;
}

/* Runs the loop (one iteration at a time: sd_event_exit() would end it for good) until the
 * handler heard n events in all, or for limit; returns the number heard. */
static size_t run_until(sd_event *e, Heard *h, size_t n, usec_t limit) {
        usec_t end = now(CLOCK_MONOTONIC) + limit;

        while (h->n < n && now(CLOCK_MONOTONIC) < end)
                assert_true(sd_event_run(e, end - now(CLOCK_MONOTONIC)) >= 0);
        return h->n;
}

/* Loads a config of one check from text (a [check.x] section) written to dir. */
static Config *load_check(const char *dir, const char *section) {
        _cleanup_(config_errors_clear) ConfigErrors errors = {};
        _cleanup_(freep) char *path = NULL, *text = NULL;
        Config *config = NULL;

        assert_true(asprintf(&path, "%s/healthdog.conf", dir) >= 0);
        assert_true(asprintf(&text, "[watchdog]\ndevice = none\n\n%s", section) >= 0);
        assert_int_equal(write_file_atomic(path, text, strlen(text), 0644), 0);
        assert_int_equal(config_load(path, NULL, &config, &errors), 0);
        assert_int_equal(config->n_checks, 1);
        return config;
}

static void test_schedule_failure_counts_and_retries(void **state) {
        const char *dir = *state;
        _cleanup_(freep) char *beat = NULL, *section = NULL;
        _cleanup_(config_freep) Config *config = NULL;
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        CheckContext ctx = {};
        Heard heard = {};
        Check *c = NULL;
        usec_t failed_at;

        assert_true(asprintf(&beat, "%s/beat", dir) >= 0);
        assert_int_equal(write_file_atomic(beat, "", 0, 0644), 0);
        assert_true(asprintf(&section, "[check.beat]\ntype = file\npath = %s\ninterval = 200ms\nfail-after = 2\n",
                             beat) >= 0);
        config = load_check(dir, section);
        assert_int_equal(sd_event_new(&e), 0);
        ctx.event = e;
        assert_int_equal(check_new(&c, &ctx, config->checks[0], on_result, &heard), 0);

        /* A healthy check, as it would stand forever if its timer stopped. */
        assert_int_equal(check_schedule(c, 0), 0);
        assert_int_equal(run_until(e, &heard, 1, MSEC(2000)), 1);
        assert_int_equal(heard.events[0], CHECK_EVENT_RESULT);
        assert_int_equal(c->result, CHECK_RESULT_PASS);

        /* The timer cannot be re-armed: a failed run at once, with the reason. */
        failed_at = now(CLOCK_MONOTONIC);
        check_schedule_failed(c, -ENOMEM);
        assert_int_equal(heard.n, 2);
        assert_int_equal(heard.events[1], CHECK_EVENT_RESULT);
        assert_int_equal(c->result, CHECK_RESULT_FAIL);
        assert_string_equal(c->detail, "cannot schedule the next run: Cannot allocate memory");
        assert_int_equal(c->state.runs, 2);
        assert_int_equal(c->state.consecutive_failures, 1);
        assert_false(c->state.failing);
        assert_false(c->running);

        /* The retry runs the check again, an interval later, not at once. */
        assert_int_equal(run_until(e, &heard, 3, MSEC(2000)), 3);
        assert_true(now(CLOCK_MONOTONIC) - failed_at >= MSEC(190));
        assert_int_equal(c->result, CHECK_RESULT_PASS);
        assert_int_equal(c->state.runs, 3);

        /* Failing again and again crosses fail-after like any failure: the check fails. */
        check_schedule_failed(c, -ENOMEM);
        check_schedule_failed(c, -ENOMEM);
        assert_int_equal(heard.n, 5);
        assert_int_equal(heard.events[4], CHECK_EVENT_FAILING);
        assert_true(c->state.failing);

        /* And it keeps running from the newest timer: one run an interval on, which heals it. */
        assert_int_equal(run_until(e, &heard, 6, MSEC(2000)), 6);
        assert_int_equal(heard.events[5], CHECK_EVENT_HEALTHY);
        assert_int_equal(c->state.runs, 6);

        check_free(c);
        check_context_done(&ctx);
}

static void test_schedule_failure_abandons_running_probe(void **state) {
        const char *dir = *state;
        _cleanup_(config_freep) Config *config = NULL;
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        CheckContext ctx = {};
        Heard heard = {};
        Check *c = NULL;

        config = load_check(dir, "[check.slow]\ntype = exec\ncommand = sleep 30\ninterval = 60s\ntimeout = 40s\n");
        assert_int_equal(sd_event_new(&e), 0);
        ctx.event = e;
        assert_int_equal(check_new(&c, &ctx, config->checks[0], on_result, &heard), 0);

        assert_int_equal(check_run(c), 0);
        assert_true(c->running);
        assert_non_null(c->probe);

        /* The run in progress is abandoned (the core frees its probe) and counts as failed. */
        check_schedule_failed(c, -ESTALE);
        assert_false(c->running);
        assert_null(c->probe);
        assert_int_equal(heard.n, 1);
        assert_int_equal(c->result, CHECK_RESULT_FAIL);
        assert_string_equal(c->detail, "cannot schedule the next run: Stale file handle");

        /* The killed sleep is reaped in the loop without reporting a second time. */
        assert_int_equal(run_until(e, &heard, 2, MSEC(300)), 1);
        assert_int_equal(c->state.runs, 1);

        check_free(c);
        check_context_done(&ctx);
}

/* Checks due at the same time run in one turn of the loop, each once, whichever timer fires: the
 * daemon's checks fall due together on the ping's grid, and a turn each cost an epoll_wait(). */
static void test_due_checks_run_in_one_turn(void **state) {
        const char *dir = *state;
        _cleanup_(config_errors_clear) ConfigErrors errors = {};
        _cleanup_(freep) char *path = NULL, *text = NULL;
        _cleanup_(config_freep) Config *config = NULL;
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        CheckContext ctx = {};
        Heard heard = {};
        Check *c[3] = {};

        assert_true(asprintf(&path, "%s/healthdog.conf", dir) >= 0);
        assert_true(asprintf(&text, "[watchdog]\ndevice = none\n"
                                    "[check.a]\ntype = file\npath = %s\ninterval = 1h\n"
                                    "[check.b]\ntype = memory\nmin-available = 0\ninterval = 1h\n"
                                    "[check.c]\ntype = file\npath = %s\ninterval = 1h\n",
                             dir, dir) >= 0);
        assert_int_equal(write_file_atomic(path, text, strlen(text), 0644), 0);
        assert_int_equal(config_load(path, NULL, &config, &errors), 0);
        assert_int_equal(config->n_checks, 3);
        assert_int_equal(sd_event_new(&e), 0);
        ctx.event = e;
        for (size_t i = 0; i < 3; i++) {
                assert_int_equal(check_new(&c[i], &ctx, config->checks[i], on_result, &heard), 0);
                assert_int_equal(check_schedule(c[i], 0), 0);
        }
        /* All three are due by the time the loop wakes. */
        usleep(20 * 1000);

        /* One turn: one timer dispatched, and the others due with it run too. */
        assert_int_equal(sd_event_run(e, USEC_PER_SEC), 1);
        assert_int_equal(heard.n, 3);
        for (size_t i = 0; i < 3; i++) {
                assert_int_equal(c[i]->state.runs, 1);
                assert_int_equal(c[i]->result, CHECK_RESULT_PASS);
        }
        /* Their timers moved on an interval: nothing is left to run now. */
        assert_int_equal(sd_event_run(e, 0), 0);
        assert_int_equal(heard.n, 3);

        /* A freed check leaves the context's list: the rest still run together. */
        c[1] = check_free(c[1]);
        assert_ptr_equal(ctx.checks, c[2]);
        assert_ptr_equal(c[2]->next, c[0]);
        assert_null(c[0]->next);
        check_free(c[0]);
        check_free(c[2]);
        assert_null(ctx.checks);
        check_context_done(&ctx);
}

int main(void) {
        sigset_t mask;
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_schedule_failure_counts_and_retries),
                cmocka_unit_test(test_schedule_failure_abandons_running_probe),
                cmocka_unit_test(test_due_checks_run_in_one_turn),
        };

        /* As the daemon does: sd-event watches children through a blocked SIGCHLD. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        assert_int_equal(sigprocmask(SIG_BLOCK, &mask, NULL), 0);
        return cmocka_run_group_tests(tests, setup_tmpdir, teardown_tmpdir);
}
