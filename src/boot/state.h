/* SPDX-License-Identifier: MIT */
#pragma once

#include "util.h"

/* Why healthdog let the watchdog fire: written before the device can fire, read after the reset. */
typedef struct ResetReason {
        const char *reason;   /* "check-failed" */
        const char *check;    /* the check that decided it, or NULL */
        const char *detail;   /* its last output */
        usec_t realtime;      /* CLOCK_REALTIME of the decision */
        usec_t monotonic;     /* CLOCK_MONOTONIC of the decision, comparable within this boot */
} ResetReason;

#define STATE_RESET_REASON_FILE "reset-reason.json"

/* Makes sure the state directory exists. Returns 0 or -errno. */
int state_prepare(const char *dir);

/* Writes the reason as one JSON object to DIR/reset-reason.json, durably (fsync + rename), with
 * this boot's id. Returns 0 or -errno. */
int state_save_reset_reason(const char *dir, const ResetReason *r);

#define STATE_VERDICTS_FILE "verdicts.jsonl"
#define STATE_VERDICTS_MAX 64
#define STATE_BUDGET_FILE "reset-budget"

#define STATE_BOOT_MARK_FILE "started"

/* Tells a new boot from a restart of the daemon within the same boot: creates RUNTIME_DIR/started
 * (the runtime directory is a tmpfs that a reboot empties). Returns 1 when this is the first start
 * in this boot, 0 for a restart, or -errno. */
int state_mark_boot(const char *runtime_dir);

/* Reads DIR/reset-reason.json, the reason a previous boot let the watchdog fire, and removes it so
 * that it is accounted to exactly one later boot. Returns 1 with *ret (a JSON object, allocated;
 * a damaged file reads as {"reason":"unreadable","detail":"<its first line>"}), 0 when there is
 * none, or -errno. */
int state_take_reset_reason(const char *dir, char **ret);

/* True when DIR/reset-reason.json exists: a decision to let the watchdog fire is pending. */
bool state_has_reset_reason(const char *dir);

/* Appends one JSON object (one line, no newline) to DIR/verdicts.jsonl, keeping the newest
 * STATE_VERDICTS_MAX records; replace_last overwrites the newest record instead (a boot updating
 * its own). Written atomically. Returns 0 or -errno. */
int state_append_verdict(const char *dir, const char *record, bool replace_last);

/* Reads the newest n records of DIR/verdicts.jsonl, newest last. Returns the number read with
 * *ret (a new vector), or -errno (0 records and an empty vector when the file does not exist). */
int state_read_verdicts(const char *dir, size_t n, char ***ret);

/* The reboot budget: at most max health resets within window. times are CLOCK_REALTIME stamps.
 * Pure: drops stamps older than window from times (in place, *n updated) and returns whether one
 * more reset is allowed at now. */
bool state_budget_allows(usec_t *times, size_t *n, unsigned max, usec_t window, usec_t now);

/* Loads the budget stamps from DIR/reset-budget, checks them with state_budget_allows() and, when
 * a reset is allowed, records now durably before returning 1 (so the reset that follows counts
 * even though nothing runs after it). Returns 1 (allowed, recorded), 0 (budget exhausted; *used
 * tells how many resets are in the window), or -errno (then no reset: a budget that cannot be
 * kept must not allow endless resets). */
int state_budget_take(const char *dir, unsigned max, usec_t window, usec_t now, unsigned *used);
