/* SPDX-License-Identifier: MIT */
#pragma once

#include "util.h"

/* RUNTIME/starts: how many times `healthdog run` started in this boot since the last clean stop,
 * "BOOT-ID COUNT\n". A daemon that keeps failing (exiting, crashing, killed) on a trial boot is a
 * failed trial: past STARTS_MAX the reset is decided instead of opening the device again. */
#define STARTS_FILE "starts"
#define STARTS_MAX 5

/* Counts one more start of the boot boot_id (a file of another boot, or one that cannot be read,
 * counts as none before). Returns 0 with the count including this start in *ret, or -errno when
 * it cannot be kept (*ret is still the count as read, this start included). */
int starts_count(const char *dir, const char *boot_id, unsigned *ret);

/* After a clean stop: the next start is not a failure's. Returns 0 (also when there is none) or
 * -errno. */
int starts_clear(const char *dir);
