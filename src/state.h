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
