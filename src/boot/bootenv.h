/* SPDX-License-Identifier: MIT */
#pragma once

#include "util.h"

/* libubootenv 0.3.2 locks every access with a blocking flock() on this fixed file (U-Boot's
 * fw_printenv uses the same one); it is not configurable in that version. */
#define BOOTENV_LOCK_FILE "/var/lock/fw_printenv.lock"
/* How long bootenv_read()/bootenv_write() wait for another holder of that lock (libubootenv runs
 * in a child process, killed when it waits longer). The daemon's event loop waits with them, so
 * this must stay well inside any ping window: on -EBUSY the caller tries again later rather than
 * waiting longer. */
#define BOOTENV_LOCK_TIMEOUT_USEC (250 * USEC_PER_MSEC)

/* Reads the n variables names[] of the U-Boot environment described by the fw_env.config at
 * config (one line: a single environment; two lines: a redundant one, the valid copy with the
 * newer flags byte wins). On success values[i] is a new string the caller frees, or NULL when
 * the variable is unset; on failure every values[i] is NULL. Holds the environment lock only
 * during the call, waiting at most BOOTENV_LOCK_TIMEOUT_USEC for it. Creates the lock file 0600 and
 * takes group and other access away from one healthdog owns; prints nothing but a warning when
 * others can open the lock file all the same (someone else's file).
 * Returns 0, or:
 *   -ENOENT   config or the storage it names does not exist;
 *   -EBADMSG  no copy of the environment has a valid CRC (also what a size in config that is
 *             smaller than U-Boot's CONFIG_ENV_SIZE looks like); such an environment must
 *             never be written, U-Boot would treat it as its default environment;
 *   -EIO      the storage is shorter than offset + size in config, or a read failed;
 *   -EBUSY    another process held the lock for longer than BOOTENV_LOCK_TIMEOUT_USEC;
 *   -EINVAL   config has no usable line, a zero size, or copies of different sizes, or a name
 *             is empty, contains '=' or appears twice;
 *   other -errno (-EACCES, -ENOMEM, ...). */
int bootenv_read(const char *config, const char *const *names, size_t n, char **values);

/* Sets the n variables names[] to values[] (values[i] == NULL removes the variable) with ONE
 * store of the environment at config, then reads the environment back (after releasing the
 * lock) and compares. With expected (n entries, NULL for none), the store happens only when the
 * variables still hold those values (NULL: unset), compared in the same locked read as the
 * store: a change another process made since (an OTA client arming a new trial) is never
 * overwritten. For a redundant environment the store goes to the copy that is not the current
 * one (over a bad copy when there is one) with the flags byte incremented, so the current copy
 * survives a failed write; a single environment is overwritten in place.
 * Returns 1 when every variable already had its value (nothing written: flash wear), 0 when
 * written and verified, or:
 *   -ESTALE   a variable no longer holds its expected value (nothing written);
 *   -EBADMSG  the current environment has no valid copy (nothing written);
 *   -EROFS, -EACCES, -EPERM  a storage file cannot be opened for writing (nothing written);
 *   -EPERM    also: a variable is marked read-only or write-once in the environment's .flags;
 *   -ENOSPC   the new variables do not fit into the environment (nothing written);
 *   -EIO      the store failed, or the read-back differs;
 *   the other errors of bootenv_read(). */
int bootenv_write(const char *config, const char *const *names, const char *const *values,
                  const char *const *expected, size_t n);

/* Why bootenv_read() or bootenv_write() failed with error, in words for a log line: which storage
 * is too short or a directory, which line of config is wrong, a bad CRC. Returns buf (size
 * BOOTENV_STRERROR_MAX is enough) or a static string. */
#define BOOTENV_STRERROR_MAX 512
const char *bootenv_strerror(const char *config, int error, char *buf, size_t size);
