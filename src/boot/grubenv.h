/* SPDX-License-Identifier: MIT */
#pragma once

#include "util.h"

/* GRUB's environment block (/boot/grub/grubenv), as grub-editenv makes it and GRUB's load_env
 * and save_env read and rewrite it: GRUBENV_SIZE bytes, the header line, one "name=value" line per
 * variable (a backslash or newline in a value is escaped with a backslash), lines starting with
 * '#' ignored, the rest padded with '#'. GRUB's save_env rewrites the file's own sectors in place,
 * so the block never changes its size. */
#define GRUBENV_SIZE 1024
#define GRUBENV_HEADER "# GRUB Environment Block\n"

/* How long grubenv_read()/grubenv_write() wait for another healthdog process holding the lock
 * (an flock() on the directory that holds the block): the daemon's event loop waits with them. */
#define GRUBENV_LOCK_TIMEOUT_USEC (250 * USEC_PER_MSEC)

/* Parses the block buf of size bytes into vars, alternating names and values in the block's
 * order. Returns 0, or -EBADMSG with *why saying what is broken (a static string): a size other
 * than GRUBENV_SIZE, no header, a line without '=' or that runs past the end, a NUL byte, a
 * variable that appears twice, anything but '#' after the last line. GRUB itself would skip part
 * of such a block or refuse to save into it; healthdog never writes over one. */
int grubenv_parse(const char *buf, size_t size, char ***vars, const char **why);

/* Writes vars (as grubenv_parse() returns them) into buf as a block of GRUBENV_SIZE bytes.
 * Returns 0, -ENOSPC when they do not fit, -EINVAL for a name that is empty or holds '=' or a
 * newline, or starts with '#'. */
int grubenv_format(char *const *vars, char buf[static GRUBENV_SIZE]);

/* Reads the n variables names[] from the block at path. On success values[i] is a new string the
 * caller frees, or NULL when the variable is unset; on failure every values[i] is NULL.
 * Returns 0, or -ENOENT (no such file), -EBADMSG (a broken block: grubenv_strerror() says how),
 * -EISDIR, -EBUSY (the lock was held longer than GRUBENV_LOCK_TIMEOUT_USEC), -EINVAL (a bad name),
 * other -errno. */
int grubenv_read(const char *path, const char *const *names, size_t n, char **values);

/* Sets the n variables names[] to values[] (NULL unsets) in one store, when they still hold
 * expected[] (n entries, NULL for none; NULL: unset), compared under the lock with the same read.
 * The new block goes to a new file in the same directory, synced, then renamed over the old one
 * and the directory synced: a power cut leaves the old block or the new one, never half of each
 * (on a file system whose rename is atomic, such as ext4; a FAT ESP gives no such promise). The
 * file keeps its mode and owner. Read back and compared before the lock is released.
 * Returns 1 when every variable already had its value (nothing written), 0 when written and
 * verified, or -ESTALE (a variable changed: nothing written), -EBADMSG (a broken block: nothing
 * written), -ENOSPC (the variables do not fit: nothing written), -EIO (the read-back differs),
 * and the errors of grubenv_read(). */
int grubenv_write(const char *path, const char *const *names, const char *const *values,
                  const char *const *expected, size_t n);

/* Why grubenv_read() or grubenv_write() failed with error, in words for a log line (a broken
 * block is read again to say how). Returns buf (GRUBENV_STRERROR_MAX is enough) or a static string. */
#define GRUBENV_STRERROR_MAX 256
const char *grubenv_strerror(const char *path, int error, char *buf, size_t size);
