/* SPDX-License-Identifier: MIT */
#pragma once

#include "util.h"

/* STATE/reset-reason.json: why healthdog let the watchdog fire. Written before the device can
 * fire, read after the reset: by the next boot, which takes it into its verdict record, and by a
 * daemon restarted within the same boot, for which the reset it names still stands. The boot id
 * in it tells the two apart (the runtime directory cannot: `systemctl stop` empties it too). */
#define RESET_REASON_FILE "reset-reason.json"

typedef struct ResetReason {
        const char *reason;   /* "check-failed", "trial-timeout", ... */
        const char *check;    /* the check that decided it, or NULL */
        const char *detail;   /* its last output */
        usec_t realtime;      /* CLOCK_REALTIME of the decision */
        usec_t monotonic;     /* CLOCK_MONOTONIC of the decision, comparable within this boot */
} ResetReason;

typedef enum ResetReasonOrigin {
        RESET_REASON_NONE,           /* no file */
        RESET_REASON_PREVIOUS_BOOT,  /* an earlier boot decided it: that reset has happened */
        RESET_REASON_THIS_BOOT,      /* decided in this boot, before a restart: still to come */
} ResetReasonOrigin;

/* Writes the reason as one JSON object with boot_id, durably (fsync + rename).
 * Returns 0 or -errno. */
int reset_reason_save(const char *dir, const char *boot_id, const ResetReason *r);

/* Reads DIR/reset-reason.json without changing it. Returns a ResetReasonOrigin (this boot's when
 * its boot_id is boot_id) with the JSON object in *ret when ret is not NULL (allocated; a damaged
 * file reads as {"reason":"unreadable","detail":"<its first line>"} of an earlier boot), or
 * -errno. */
int reset_reason_read(const char *dir, const char *boot_id, char **ret);

/* Removes the file, once an earlier boot's reason is in this boot's record. Returns 0 (also when
 * there is none) or -errno. */
int reset_reason_remove(const char *dir);
