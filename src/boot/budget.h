/* SPDX-License-Identifier: MIT */
#pragma once

#include "util.h"

/* STATE/reset-budget: the CLOCK_REALTIME stamps of the health resets of a steady device, one per
 * line, so that at most max of them happen within a window, across resets. */
#define BUDGET_FILE "reset-budget"

/* Pure: drops stamps older than window from times (in place, *n updated) and returns whether one
 * more reset is allowed at now. */
bool budget_allows(usec_t *times, size_t *n, unsigned max, usec_t window, usec_t now);

/* Whether the budget in DIR allows one more reset at now, without spending it. Returns 1 (allowed)
 * or 0 (spent), with the resets within the window in *used, or -errno. */
int budget_check(const char *dir, unsigned max, usec_t window, usec_t now, unsigned *used);

/* Spends one reset: when the budget allows it, records now durably before returning 1 (so the
 * reset that follows counts even though nothing runs after it). Returns 1 (allowed, recorded),
 * 0 (spent; *used tells how many resets are in the window), or -errno (then no reset: a budget
 * that cannot be kept must not allow endless resets). */
int budget_take(const char *dir, unsigned max, usec_t window, usec_t now, unsigned *used);
