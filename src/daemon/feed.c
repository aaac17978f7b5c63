/* SPDX-License-Identifier: MIT */
#include "config.h"
#include "feed.h"

static FeedDecision feed(FeedReason reason) {
        return (FeedDecision) { .feed = true, .reason = reason };
}

static FeedDecision starve(FeedReason reason) {
        return (FeedDecision) { .feed = false, .reason = reason };
}

FeedDecision feed_decide(const FeedInputs *in) {
        bool on_trial = in->phase == BOOT_PHASE_TRIAL && !in->confirmed;

        /* The reset it leads to is what tells U-Boot the boot was bad: a check that flaps back,
         * a hold or a restart of the daemon must not undo it half-way. */
        if (in->reset_decided)
                return starve(STARVE_DECIDED);
        /* Whatever keeps healthdog from supervising a trial as configured is the trial's verdict:
         * the update brought it. A steady device is not reset for it. */
        if (on_trial && in->start_failed)
                return starve(STARVE_START_FAILED);
        if (on_trial && in->config_invalid)
                return starve(STARVE_CONFIG_INVALID);
        /* A hold is refused during an unconfirmed trial; one set before stays out of its way. */
        if (in->hold && !on_trial)
                return feed(FEED_HOLD);
        if (on_trial && in->trial_expired && in->trial_timeout_action == TRIAL_TIMEOUT_REJECT)
                return starve(STARVE_TRIAL_TIMEOUT);
        if (!in->failing_check)
                return feed(in->config_invalid ? FEED_CONFIG_INVALID : FEED_HEALTHY);
        if (in->in_grace)
                return feed(FEED_GRACE);
        /* On probation, a failure is the verdict: the reset makes U-Boot count the boot. */
        if (on_trial)
                return starve(STARVE_TRIAL_CHECK);
        /* Steady: a reset never brings back a failing network, so it is rationed. */
        if (in->steady_action == STEADY_ACTION_DEGRADE)
                return feed(FEED_DEGRADED);
        if (in->budget_spent)
                return feed(FEED_BUDGET_SPENT);
        return starve(STARVE_STEADY_CHECK);
}

const char *feed_reason_to_string(FeedReason r) {
        static const char *const names[] = {
                [FEED_HEALTHY] = "healthy",
                [FEED_GRACE] = "startup grace",
                [FEED_HOLD] = "maintenance hold",
                [FEED_DEGRADED] = "degraded (steady-action = degrade)",
                [FEED_BUDGET_SPENT] = "degraded (reboot budget spent)",
                [FEED_CONFIG_INVALID] = "degraded (configuration invalid)",
                [STARVE_DECIDED] = "a reset decided earlier in this boot",
                [STARVE_TRIAL_CHECK] = "check-failed",
                [STARVE_TRIAL_TIMEOUT] = "trial-timeout",
                [STARVE_STEADY_CHECK] = "check-failed",
                [STARVE_CONFIG_INVALID] = "configuration invalid",
                [STARVE_START_FAILED] = "start failed repeatedly",
        };
        return (size_t) r < ELEMENTSOF(names) && names[r] ? names[r] : "unknown";
}
