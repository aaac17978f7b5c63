/* SPDX-License-Identifier: MIT */
#pragma once

#include "util.h"

/* RUNTIME/hold: a maintenance hold (`healthdog hold`), "BOOT-ID UNTIL\n" with UNTIL on
 * CLOCK_BOOTTIME, so that it survives a restart of the daemon but never applies to another boot. */
#define HOLD_FILE "hold"

/* Writes the hold atomically. Returns 0 or -errno. */
int hold_save(const char *dir, const char *boot_id, usec_t until);

/* Reads the hold. Returns 1 with *ret_until when there is one for the boot boot_id, 0 when there
 * is none, it belongs to another boot or cannot be read, or -errno (-ENOMEM). */
int hold_load(const char *dir, const char *boot_id, usec_t *ret_until);

/* Removes the hold. Returns 0 (also when there is none) or -errno. */
int hold_remove(const char *dir);
