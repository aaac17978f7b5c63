/* SPDX-License-Identifier: MIT */
#pragma once

#include "boot.h"

/* Whether the watchdog is fed: decided in exactly one place, feed_decide(), from explicit inputs.
 * The manager gathers them, asks, and acts on the answer; on_ping only reads the last one. Asking
 * never spends anything: a steady device's reset is taken from the reboot budget in a separate
 * step after the decision (and when the budget is spent, asked again with budget_spent). */
typedef struct FeedInputs {
        const char *failing_check;  /* the first required, non-environmental check that is failing, or NULL */
        bool in_grace;              /* startup grace: failing checks do not count yet */
        bool hold;                  /* a maintenance hold is on */
        BootPhase phase;
        bool confirmed;             /* the trial is confirmed */
        bool trial_expired;         /* trial-timeout passed with the trial unconfirmed */
        int trial_timeout_action;   /* TrialTimeoutAction */
        int steady_action;          /* SteadyAction */
        bool budget_spent;          /* the reboot budget had no reset left for the failure under way */
        bool reset_decided;         /* a reset was decided earlier in this boot (also before a restart) */
        bool config_invalid;        /* the configuration does not load: running on the last one that did */
        bool start_failed;          /* healthdog started more than STARTS_MAX times in this boot */
} FeedInputs;

typedef enum FeedReason {
        FEED_HEALTHY,           /* no required check is failing */
        FEED_GRACE,             /* one is, within startup grace */
        FEED_HOLD,              /* a maintenance hold */
        FEED_DEGRADED,          /* steady, a required check failing, steady-action = degrade */
        FEED_BUDGET_SPENT,      /* steady, a required check failing, the reboot budget is spent */
        FEED_CONFIG_INVALID,    /* steady or confirmed, healthy, but the configuration does not load */
        STARVE_DECIDED,         /* a reset decided earlier in this boot stands: final */
        STARVE_TRIAL_CHECK,     /* a required check failed during an unconfirmed trial */
        STARVE_TRIAL_TIMEOUT,   /* the trial was not confirmed in time (trial-timeout-action = reject) */
        STARVE_STEADY_CHECK,    /* a required check failed on a steady boot: costs one reset of the budget */
        STARVE_CONFIG_INVALID,  /* an unconfirmed trial whose configuration does not load */
        STARVE_START_FAILED,    /* an unconfirmed trial on which healthdog keeps failing to start */
        _FEED_REASON_MAX,
} FeedReason;

typedef struct FeedDecision {
        bool feed;
        FeedReason reason;
} FeedDecision;

/* The decision, a pure function of in. */
FeedDecision feed_decide(const FeedInputs *in);

/* Whether a decision keeps a device up in a state it should not be in: a failing required check
 * on a steady boot, or a configuration that does not load. */
static inline bool feed_degraded(FeedReason r) {
        return r == FEED_DEGRADED || r == FEED_BUDGET_SPENT || r == FEED_CONFIG_INVALID;
}

const char *feed_reason_to_string(FeedReason r);
