/* SPDX-License-Identifier: MIT */
/* Unit tests for feed_decide(): whether the watchdog is fed, as a pure function of the check
 * states, the boot phase, the trial's deadline, a hold, the reboot budget and a reset already
 * decided in this boot, whether the configuration loads and whether healthdog keeps failing to
 * start. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "config.h"
#include "feed.h"

#define S BOOT_PHASE_STEADY
#define T BOOT_PHASE_TRIAL
#define R BOOT_PHASE_ROLLED_BACK
#define WAIT TRIAL_TIMEOUT_WAIT
#define REJ TRIAL_TIMEOUT_REJECT
#define ACC TRIAL_TIMEOUT_ACCEPT
#define RST STEADY_ACTION_RESET
#define DEG STEADY_ACTION_DEGRADE

typedef struct FeedCase {
        const char *failing;
        bool grace, hold;
        BootPhase phase;
        bool confirmed, expired;
        int timeout_action, steady_action;
        bool budget_spent, decided;
        bool feed;
        FeedReason reason;
        bool invalid, start_failed;  /* last, so the rows that leave them out read as false */
} FeedCase;

static const FeedCase cases[] = {
        /* failing  grace  hold   phase confirmed expired timeout steady spent  decided  feed   reason */
        { NULL,     false, false, S,    false,    false,  WAIT,   RST,   false, false,   true,  FEED_HEALTHY },
        { NULL,     false, false, T,    false,    false,  WAIT,   RST,   false, false,   true,  FEED_HEALTHY },
        { NULL,     false, false, R,    false,    false,  WAIT,   RST,   false, false,   true,  FEED_HEALTHY },
        /* a failing required check: the verdict of a trial, a rationed reset of a steady boot */
        { "app",    false, false, T,    false,    false,  WAIT,   RST,   false, false,   false, STARVE_TRIAL_CHECK },
        { "app",    false, false, S,    false,    false,  WAIT,   RST,   false, false,   false, STARVE_STEADY_CHECK },
        { "app",    false, false, R,    false,    false,  WAIT,   RST,   false, false,   false, STARVE_STEADY_CHECK },
        { "app",    false, false, T,    true,     false,  WAIT,   RST,   false, false,   false, STARVE_STEADY_CHECK },
        { "app",    false, false, S,    false,    false,  WAIT,   RST,   true,  false,   true,  FEED_BUDGET_SPENT },
        { "app",    false, false, S,    false,    false,  WAIT,   DEG,   false, false,   true,  FEED_DEGRADED },
        { "app",    false, false, T,    false,    false,  WAIT,   DEG,   true,  false,   false, STARVE_TRIAL_CHECK },
        { "app",    false, false, T,    true,     false,  WAIT,   DEG,   false, false,   true,  FEED_DEGRADED },
        /* startup grace: failures do not count yet, in any phase */
        { "app",    true,  false, T,    false,    false,  WAIT,   RST,   false, false,   true,  FEED_GRACE },
        { "app",    true,  false, S,    false,    false,  WAIT,   RST,   false, false,   true,  FEED_GRACE },
        /* a hold feeds whatever the checks say, but not during an unconfirmed trial */
        { "app",    false, true,  S,    false,    false,  WAIT,   RST,   false, false,   true,  FEED_HOLD },
        { "app",    false, true,  T,    true,     false,  WAIT,   RST,   false, false,   true,  FEED_HOLD },
        { "app",    false, true,  T,    false,    false,  WAIT,   RST,   false, false,   false, STARVE_TRIAL_CHECK },
        { NULL,     false, true,  T,    false,    true,   REJ,    RST,   false, false,   false, STARVE_TRIAL_TIMEOUT },
        /* the trial's deadline: only reject stops the feeding */
        { NULL,     false, false, T,    false,    true,   REJ,    RST,   false, false,   false, STARVE_TRIAL_TIMEOUT },
        { NULL,     true,  false, T,    false,    true,   REJ,    RST,   false, false,   false, STARVE_TRIAL_TIMEOUT },
        { NULL,     false, false, T,    false,    true,   WAIT,   RST,   false, false,   true,  FEED_HEALTHY },
        { NULL,     false, false, T,    false,    true,   ACC,    RST,   false, false,   true,  FEED_HEALTHY },
        { NULL,     false, false, T,    true,     true,   REJ,    RST,   false, false,   true,  FEED_HEALTHY },
        { NULL,     false, false, S,    false,    true,   REJ,    RST,   false, false,   true,  FEED_HEALTHY },
        /* a reset already decided in this boot stands: nothing brings the feeding back */
        { NULL,     false, false, S,    false,    false,  WAIT,   RST,   false, true,    false, STARVE_DECIDED },
        { NULL,     false, true,  S,    false,    false,  WAIT,   DEG,   false, true,    false, STARVE_DECIDED },
        { "app",    true,  false, T,    true,     false,  WAIT,   RST,   true,  true,    false, STARVE_DECIDED },
        /* the configuration does not load (running on the last one that did): an unconfirmed trial
         * fails closed whatever else holds; any other boot feeds on, degraded, and its checks
         * still decide                                                                   invalid start_failed */
        { NULL,     false, false, T,    false,    false,  WAIT,   RST,   false, false,   false, STARVE_CONFIG_INVALID, true,  false },
        { NULL,     true,  false, T,    false,    false,  WAIT,   RST,   false, false,   false, STARVE_CONFIG_INVALID, true,  false },
        { "app",    true,  true,  T,    false,    true,   ACC,    DEG,   false, false,   false, STARVE_CONFIG_INVALID, true,  false },
        { NULL,     false, false, T,    true,     false,  WAIT,   RST,   false, false,   true,  FEED_CONFIG_INVALID,   true,  false },
        { NULL,     false, false, S,    false,    false,  WAIT,   RST,   false, false,   true,  FEED_CONFIG_INVALID,   true,  false },
        { NULL,     false, false, R,    false,    false,  WAIT,   RST,   false, false,   true,  FEED_CONFIG_INVALID,   true,  false },
        { "app",    false, false, S,    false,    false,  WAIT,   RST,   false, false,   false, STARVE_STEADY_CHECK,   true,  false },
        { "app",    false, false, S,    false,    false,  WAIT,   RST,   true,  false,   true,  FEED_BUDGET_SPENT,     true,  false },
        { "app",    false, false, S,    false,    false,  WAIT,   DEG,   false, false,   true,  FEED_DEGRADED,         true,  false },
        { "app",    false, true,  S,    false,    false,  WAIT,   RST,   false, false,   true,  FEED_HOLD,             true,  false },
        { NULL,     false, false, S,    false,    false,  WAIT,   RST,   false, true,    false, STARVE_DECIDED,        true,  false },
        /* healthdog started more than STARTS_MAX times in this boot: the same for a trial, nothing
         * for any other boot */
        { NULL,     false, false, T,    false,    false,  WAIT,   RST,   false, false,   false, STARVE_START_FAILED,   false, true },
        { NULL,     true,  false, T,    false,    false,  WAIT,   RST,   false, false,   false, STARVE_START_FAILED,   true,  true },
        { NULL,     false, false, T,    true,     false,  WAIT,   RST,   false, false,   true,  FEED_HEALTHY,          false, true },
        { NULL,     false, false, S,    false,    false,  WAIT,   RST,   false, false,   true,  FEED_HEALTHY,          false, true },
        { NULL,     false, false, R,    false,    false,  WAIT,   RST,   false, false,   true,  FEED_HEALTHY,          false, true },
        { NULL,     false, false, T,    false,    false,  WAIT,   RST,   false, true,    false, STARVE_DECIDED,        false, true },
};

static void test_table(void **state) {
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                const FeedCase *c = &cases[i];
                FeedInputs in = {
                        .failing_check = c->failing,
                        .in_grace = c->grace,
                        .hold = c->hold,
                        .phase = c->phase,
                        .confirmed = c->confirmed,
                        .trial_expired = c->expired,
                        .trial_timeout_action = c->timeout_action,
                        .steady_action = c->steady_action,
                        .budget_spent = c->budget_spent,
                        .reset_decided = c->decided,
                        .config_invalid = c->invalid,
                        .start_failed = c->start_failed,
                };
                FeedDecision d = feed_decide(&in);

                if (d.feed != c->feed || d.reason != c->reason)
                        fail_msg("case %zu: got %s (%s), expected %s (%s)", i, d.feed ? "feed" : "starve",
                                 feed_reason_to_string(d.reason), c->feed ? "feed" : "starve",
                                 feed_reason_to_string(c->reason));
        }
}

/* Every reason has a name, and the feed flag agrees with it. */
static void test_reasons(void **state) {
        for (int r = 0; r < _FEED_REASON_MAX; r++)
                assert_string_not_equal(feed_reason_to_string((FeedReason) r), "unknown");
        assert_string_equal(feed_reason_to_string(_FEED_REASON_MAX), "unknown");
        assert_true(feed_degraded(FEED_DEGRADED) && feed_degraded(FEED_BUDGET_SPENT) &&
                    feed_degraded(FEED_CONFIG_INVALID));
        assert_false(feed_degraded(FEED_HEALTHY) || feed_degraded(FEED_HOLD) || feed_degraded(STARVE_STEADY_CHECK));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_table),
                cmocka_unit_test(test_reasons),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
