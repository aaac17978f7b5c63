/* SPDX-License-Identifier: MIT */
#pragma once

#include "util.h"

/* STATE/deploy-pending: OSTree work a boot started but could not finish (sysroot locked, helper
 * killed), "VERB [CHECKSUM]\n", retried by a later boot. VERB is "prune" or "remove-failed";
 * CHECKSUM is the deployment a removal was decided for, when it was identified. */
#define DEPLOY_NOTE_FILE "deploy-pending"
#define DEPLOY_NOTE_VERB_MAX 32
#define DEPLOY_NOTE_CHECKSUM_MAX 80

typedef struct DeployNote {
        char verb[DEPLOY_NOTE_VERB_MAX];
        char checksum[DEPLOY_NOTE_CHECKSUM_MAX];   /* "" when none */
} DeployNote;

/* Writes the note atomically (checksum may be NULL). Returns 0 or -errno. */
int deploy_note_save(const char *dir, const char *verb, const char *checksum);

/* Reads the note. Returns 1 with *ret, 0 when there is none or it is damaged (an unknown verb, a
 * checksum of other than hex digits and '.'), or -errno. */
int deploy_note_load(const char *dir, DeployNote *ret);

/* Removes the note. Returns 0 (also when there is none) or -errno. */
int deploy_note_clear(const char *dir);
