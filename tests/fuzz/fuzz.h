/* SPDX-License-Identifier: MIT */
/* What the fuzz targets share: a private scratch directory, inputs split into files, quiet logs.
 * Included by tests/fuzz/fuzz-*.c only, never by the daemon. */
#pragma once

#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "log.h"
#include "util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant is a finding like a crash: say which, then abort so libFuzzer keeps the input. */
#define fuzz_assert(expr, ...)                                                                     \
        do {                                                                                       \
                if (!(expr)) {                                                                     \
                        fprintf(stderr, "fuzz: %s:%d: '%s' does not hold: ", __FILE__, __LINE__, #expr); \
                        fprintf(stderr, __VA_ARGS__);                                              \
                        fputc('\n', stderr);                                                       \
                        abort();                                                                   \
                }                                                                                  \
        } while (0)

/* One file of an input: the text before the first "#@ NAME" line has no name. */
typedef struct FuzzPart {
        char name[65];         /* sanitized: letters, digits, '.', '_', '-', '/' kept; others '_' */
        bool named;
        const char *data;
        size_t size;
} FuzzPart;

#define FUZZ_SEPARATOR "#@"

/* Splits data at lines that start with "#@" (the rest of the line, blanks trimmed, names the next
 * part). Returns the number of parts (at least 1, at most max); text beyond max parts is dropped. */
static inline size_t fuzz_split(const uint8_t *data, size_t size, FuzzPart *parts, size_t max) {
        const char *p = (const char *) data, *end = p + size;
        size_t n = 0;

        parts[n++] = (FuzzPart) { .data = p };
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                const char *eol = nl ? nl : end, *next = nl ? nl + 1 : end;

                if ((size_t) (eol - p) >= strlen(FUZZ_SEPARATOR) && memcmp(p, FUZZ_SEPARATOR, strlen(FUZZ_SEPARATOR)) == 0) {
                        FuzzPart *last = &parts[n - 1];
                        const char *name = p + 2;
                        size_t len;

                        last->size = (size_t) (p - last->data);
                        if (n == max)
                                return n;
                        while (name < eol && (*name == ' ' || *name == '\t'))
                                name++;
                        len = (size_t) (eol - name);
                        while (len > 0 && strchr(" \t\r", name[len - 1]))
                                len--;
                        if (len > sizeof(last->name) - 1)
                                len = sizeof(last->name) - 1;
                        parts[n] = (FuzzPart) { .named = true, .data = next };
                        for (size_t i = 0; i < len; i++) {
                                char c = name[i];
                                parts[n].name[i] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                                                   (c >= '0' && c <= '9') || strchr("._-/@", c)
                                                           ? c
                                                           : '_';
                        }
                        n++;
                }
                p = next;
        }
        parts[n - 1].size = (size_t) (end - parts[n - 1].data);
        return n;
}

/* snprintf() that aborts instead of cutting a path short. */
static inline void fuzz_path(char *buf, size_t size, const char *fmt, ...) _printf_(3, 4);
static inline void fuzz_path(char *buf, size_t size, const char *fmt, ...) {
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(buf, size, fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t) n >= size) {
                fprintf(stderr, "fuzz: a path is too long\n");
                abort();
        }
}

static inline int fuzz_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st;
        (void) ftw;
        return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Removes path and everything below it (no symlink is followed). */
static inline void fuzz_rm_rf(const char *path) {
        (void) nftw(path, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Empties a directory, keeping it. */
static inline void fuzz_clear_dir(const char *dir) {
        _cleanup_(closedirp) DIR *d = opendir(dir);
        struct dirent *de;

        while (d && (de = readdir(d))) {
                char p[PATH_MAX];

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                fuzz_path(p, sizeof(p), "%s/%s", dir, de->d_name);
                fuzz_rm_rf(p);
        }
}

static inline void fuzz_write(const char *path, const void *data, size_t size) {
        _cleanup_(closep) int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

        if (fd < 0 || (size > 0 && write(fd, data, size) != (ssize_t) size)) {
                fprintf(stderr, "fuzz: cannot write '%s': %m\n", path);
                abort();
        }
}

static char fuzz_root[PATH_MAX - 128];

static inline void fuzz_remove_root(void) {
        if (fuzz_root[0])
                fuzz_rm_rf(fuzz_root);
}

/* Creates this process's scratch directory, removed at exit; files in it are ours and 0644, as
 * the config loader wants them. The name has a fixed length, so paths in messages do too. */
static inline const char *fuzz_setup(const char *target) {
        const char *tmp = getenv("TMPDIR");

        umask(022);
        /* Only an emergency would be logged: thousands of runs a second must stay quiet. */
        setenv("HEALTHDOG_LOG_LEVEL", "emerg", 1);
        log_setup();
        fuzz_path(fuzz_root, sizeof(fuzz_root), "%s/healthdog-%s.XXXXXX", tmp && *tmp ? tmp : "/tmp", target);
        if (!mkdtemp(fuzz_root)) {
                fprintf(stderr, "fuzz: cannot create '%s': %m\n", fuzz_root);
                abort();
        }
        atexit(fuzz_remove_root);
        return fuzz_root;
}

static inline void fuzz_mkdir(const char *path) {
        if (mkdir(path, 0755) < 0 && errno != EEXIST) {
                fprintf(stderr, "fuzz: cannot create '%s': %m\n", path);
                abort();
        }
}
