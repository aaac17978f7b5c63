/* SPDX-License-Identifier: MIT */
#pragma once

#include "deploy-note.h"
#include "util.h"

/* STATE/update-armed: the update `healthdog update` armed a trial for, written (and synced)
 * before the environment is armed, so that the boot after it knows what it was meant to boot:
 * the new commit (a trial of it), or still the old one (the deployment never became the default:
 * "update not applied"). Removed once that boot has decided. One JSON object:
 * {"checksum", "from", "refspec", "version": STRING|null, "boot_id", "realtime_usec"}. */
#define UPDATE_NOTE_FILE "update-armed"
#define UPDATE_CHECKSUM_LEN 64

typedef struct UpdateNote {
        char checksum[UPDATE_CHECKSUM_LEN + 1];  /* the commit deployed for the trial */
        char from[UPDATE_CHECKSUM_LEN + 1];      /* the commit booted when it was armed */
        char refspec[256];
        char version[128];                       /* "" when the commit has none */
        char boot_id[33];                        /* the boot that armed it */
        uint64_t realtime_usec;
} UpdateNote;

/* Writes the note atomically. Returns 0 or -errno. */
int update_note_save(const char *dir, const UpdateNote *note);

/* Reads the note. Returns 1 with *ret, 0 when there is none or it is damaged (not JSON, a
 * checksum that is not 64 hex digits), or -errno. */
int update_note_load(const char *dir, UpdateNote *ret);

/* Removes the note. Returns 0 (also when there is none) or -errno. */
int update_note_clear(const char *dir);
