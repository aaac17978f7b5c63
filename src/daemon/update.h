/* SPDX-License-Identifier: MIT */
#pragma once

#include "config.h"

/* Exit codes of `healthdog update` beyond 0 (done), 1 (refused or failed) and 2 (usage). */
#define UPDATE_EXIT_UP_TO_DATE 3   /* --check: nothing newer than the booted commit */
#define UPDATE_EXIT_BUSY 4         /* refused: an update is armed, a trial or a rollback undecided */
#define UPDATE_EXIT_TRY_LATER 75   /* the remote could not be reached (EX_TEMPFAIL) */

typedef struct UpdateOptions {
        const char *refspec;       /* NULL: [update] refspec=, else the booted deployment's origin */
        bool check;                /* only say whether there is an update */
        bool download_only;        /* pull, deploy nothing */
        bool no_reboot;            /* arm and deploy, leave the reboot to the caller */
        bool force;                /* also a commit in the quarantine */
        bool json;                 /* the outcome as one JSON object on stdout */
} UpdateOptions;

/* The device's own update step, in the order that survives a power cut at any point: find the
 * new commit, pull it (healthdog-ostree update-check, pull), write STATE/update-armed, arm the
 * trial (upgrade_available=1, bootcount=0, bootlimit= in one compare-and-store, read back), deploy
 * it as the new default (healthdog-ostree deploy; on failure the trial is disarmed again), reboot.
 * Refuses, changing nothing, while a trial or a rollback is not decided and cleaned up, when the
 * configuration does not load, for a quarantined commit (unless force). Reports each step (on
 * the terminal, else in the journal) and why it stopped. Returns the exit code. */
int update_run(const Config *config, const UpdateOptions *options);
