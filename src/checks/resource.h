/* SPDX-License-Identifier: MIT */
#pragma once

#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>

#include "check.h"

/* Helpers for the checks that read the kernel's view of the system's resources (/proc, /sys,
 * statvfs()). They run every few seconds for years: fixed buffers, no allocation. */

/* Reads up to size - 1 bytes of a small file relative to dir_fd (AT_FDCWD for a plain path) with
 * one open, read and close, and NUL-terminates them. With st, also fills in its fstat().
 * Returns the number of bytes read or -errno. */
ssize_t resource_read_file_at(int dir_fd, const char *path, char *buf, size_t size, struct stat *st);
static inline ssize_t resource_read_file(const char *path, char *buf, size_t size, struct stat *st) {
        return resource_read_file_at(AT_FDCWD, path, buf, size, st);
}

/* The same for one of the system's own files in /proc (/proc/loadavg, /proc/meminfo, ...): kept
 * open and read again from its start each time, as procps does, which the kernel answers with
 * fresh figures; a failed read closes it, so the next call opens it again. At most
 * RESOURCE_PROC_FILES different paths; path must be a string constant. */
#define RESOURCE_PROC_FILES 4
ssize_t resource_read_proc(const char *path, char *buf, size_t size);

/* Parses a decimal unsigned integer at *p, skipping blanks before it, and advances *p past it.
 * Returns 0 or -EINVAL (no digits) / -ERANGE. */
int resource_parse_u64(const char **p, uint64_t *ret);

#define RESOURCE_NUMBER_MAX 48

/* A size for people: exact units stay whole ("64M"), others get one decimal ("812.3M"). Returns buf. */
const char *resource_format_size(char buf[static RESOURCE_NUMBER_MAX], uint64_t bytes);
/* part as a share of whole in percent with up to 2 decimals ("41.23%", "0.02%"). Returns buf. */
const char *resource_format_share(char buf[static RESOURCE_NUMBER_MAX], uint64_t part, uint64_t whole);
/* v in units of 10^-digits, with at least keep of its decimals ("2.50" for 2500, 3, 2). Returns buf. */
const char *resource_format_fixed(char buf[static RESOURCE_NUMBER_MAX], uint64_t v, unsigned digits, unsigned keep);
/* A threshold as the config spells it: "10%", "64M" (sizes) or "5000". Returns buf. */
const char *resource_format_amount(char buf[static RESOURCE_NUMBER_MAX], const Amount *a, bool size);

/* Compares value with the threshold a, which is absolute or a share of whole.
 * Returns <0, 0 or >0 as value is below, at or above the threshold. */
int resource_compare(uint64_t value, uint64_t whole, const Amount *a);
