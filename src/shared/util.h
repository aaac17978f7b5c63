/* SPDX-License-Identifier: MIT */
#pragma once

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _unused_ __attribute__((unused))
#define _sentinel_ __attribute__((sentinel))
#define _noreturn_ __attribute__((noreturn))
#define _noinline_ __attribute__((noinline))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

/* Hand ownership out of a _cleanup_ variable. */
#define TAKE_PTR(p)                             \
        ({                                      \
                __typeof__(p) _p = (p);         \
                (p) = NULL;                     \
                _p;                             \
        })
#define TAKE_FD(fd)                             \
        ({                                      \
                int _fd = (fd);                 \
                (fd) = -1;                      \
                _fd;                            \
        })

typedef uint64_t usec_t;
#define USEC_INFINITY ((usec_t) UINT64_MAX)
#define USEC_PER_MSEC ((usec_t) 1000ULL)
#define USEC_PER_SEC ((usec_t) 1000000ULL)
#define USEC_PER_MINUTE (60ULL * USEC_PER_SEC)
#define USEC_PER_HOUR (60ULL * USEC_PER_MINUTE)
#define NSEC_PER_USEC ((uint64_t) 1000ULL)

static inline void freep(void *p) {
        free(*(void **) p);
}

static inline void closep(int *fd) {
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}

static inline void fclosep(FILE **f) {
        if (*f)
                fclose(*f);
}

static inline void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

static inline bool streq(const char *a, const char *b) {
        return strcmp(a, b) == 0;
}

static inline bool streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return streq(a, b);
}

static inline const char *strempty(const char *s) {
        return s ?: "";
}

/* Returns the rest of s after prefix, or NULL when s does not start with it. */
static inline const char *startswith(const char *s, const char *prefix) {
        size_t l = strlen(prefix);
        return strncmp(s, prefix, l) == 0 ? s + l : NULL;
}

/* Returns the current time of clock, in microseconds. */
usec_t now(clockid_t clock);

/* NULL-terminated string vectors. strv_free() accepts NULL and returns NULL. */
char **strv_free(char **l);
static inline void strv_freep(char ***l) {
        strv_free(*l);
}
size_t strv_length(char *const *l);
/* Appends a copy of s; returns 0 or -ENOMEM (l is unchanged on failure). */
int strv_extend(char ***l, const char *s);
/* Appends s itself, taking ownership on success. */
int strv_consume(char ***l, char *s);
char **strv_copy(char *const *l);
bool strv_contains(char *const *l, const char *s);

/* Parses "500ms", "30s", "5min", "1h", "1h 30min", or plain seconds ("2", "0.5").
 * Returns 0 and the value in *ret, or -EINVAL / -ERANGE. */
int parse_duration(const char *s, usec_t *ret);
/* Formats a duration with the largest units that represent it exactly ("1min 30s", "500ms", "0").
 * Returns buf. */
char *format_duration(char *buf, size_t size, usec_t u);
#define DURATION_MAX 64

/* Writes v in decimal at p, zero-padded to at least width digits, without a terminating NUL, and
 * returns the end: at most max(20, width) characters. For what runs every second, where
 * snprintf() cost more than the rest of the check. */
char *format_uint64(char *p, uint64_t v, unsigned width);

/* Parses a decimal unsigned integer without sign, spaces or trailing garbage. */
int parse_uint(const char *s, unsigned *ret);
int parse_int(const char *s, int *ret);
/* Parses yes/no/true/false/on/off/1/0. Returns 0 or 1, or -EINVAL. */
int parse_boolean(const char *s);

/* Splits a command line into words without a shell: blanks separate words, "..." and '...'
 * group, a backslash escapes the next character inside "..." and outside quotes.
 * Returns 0 with a newly allocated vector (possibly empty), -EINVAL on an unterminated
 * quote or trailing backslash, -ENOMEM. */
int split_command(const char *s, char ***ret);
/* Quotes a word for printing so that split_command() gives it back. Returns a new string. */
char *quote_word(const char *s);

/* Writes data to path atomically: a temporary file in the same directory, fsync, rename,
 * fsync of the directory, so a reset right after leaves either the old or the new file.
 * Returns 0 or -errno. */
int write_file_atomic(const char *path, const char *data, size_t size, mode_t mode);
/* Reads at most max bytes of path into a new NUL-terminated string. Returns 0 with *ret, or
 * -errno (-ENOENT when it does not exist). */
int read_file(const char *path, size_t max, char **ret);
/* Returns 0 with DIR/NAME (allocated) in *ret, or -ENOMEM. */
int path_join(const char *dir, const char *name, char **ret);

struct stat;
/* Whether a file healthdog runs, or whose commands it runs, as root could have been changed by
 * someone else: it must be owned by root (or the user running healthdog) and writable by no other
 * user or non-root group. When not, *why (of size) says why ("owned by uid 1000", "writable by
 * everyone (mode 0666)"). For a directory, writable means that files can be added or replaced;
 * for a symlink (lstat()), only the owner counts: its own mode is always 0777 and means nothing. */
bool stat_is_trusted(const struct stat *st, char *why, size_t size);

/* Creates a directory and its parents. Returns 0 if it exists afterwards, or -errno. */
int mkdir_p(const char *path, mode_t mode);

/* Appends s to a growing buffer as a JSON string literal, quotes included. */
int json_append_string(char **buf, size_t *len, size_t *cap, const char *s);
/* printf-style append to the same kind of buffer. */
int buf_appendf(char **buf, size_t *len, size_t *cap, const char *fmt, ...) _printf_(4, 5);

/* Copies s into dst (of size) replacing control characters with '?' and newlines with
 * " | ", stopping at size-1. Used to keep probe output on one log line. */
void sanitize_line(char *dst, size_t size, const char *s, size_t len);
