/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <libgen.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "grubenv.h"

/* ---- the block */

int grubenv_parse(const char *buf, size_t size, char ***vars, const char **why) {
        _cleanup_(strv_freep) char **l = NULL;
        const char *p, *end = buf + size, *last_newline = NULL;

        *vars = NULL;
        if (size != GRUBENV_SIZE) {
                *why = size < GRUBENV_SIZE ? "shorter than the 1024 bytes of a GRUB environment block"
                                           : "longer than the 1024 bytes of a GRUB environment block";
                return -EBADMSG;
        }
        if (memcmp(buf, GRUBENV_HEADER, strlen(GRUBENV_HEADER)) != 0) {
                *why = "no '# GRUB Environment Block' header";
                return -EBADMSG;
        }
        if (memchr(buf, '\0', size)) {
                *why = "a NUL byte in the block";
                return -EBADMSG;
        }

        for (p = buf + strlen(GRUBENV_HEADER); p < end;) {
                const char *eq, *q;
                char *name, *value, *v;

                if (*p == '#') {
                        /* A comment, or the padding up to the end. */
                        q = memchr(p, '\n', (size_t) (end - p));
                        if (!q)
                                break;
                        last_newline = q;
                        p = q + 1;
                        continue;
                }
                eq = p;
                while (eq < end && *eq != '=' && *eq != '\n')
                        eq++;
                if (eq == end || *eq != '=' || eq == p) {
                        *why = "a line that is not name=value";
                        return -EBADMSG;
                }
                /* The value runs to the first newline that is not escaped. */
                for (q = eq + 1; q < end && *q != '\n'; q += *q == '\\' ? 2 : 1)
                        ;
                if (q >= end) {
                        *why = "a variable that runs past the end of the block";
                        return -EBADMSG;
                }
                name = strndup(p, (size_t) (eq - p));
                value = v = malloc((size_t) (q - eq));
                if (!name || !value || strv_consume(&l, name) < 0)
                        return free(value), -ENOMEM;
                for (const char *s = eq + 1; s < q; s++)
                        *v++ = *s == '\\' ? *++s : *s;
                *v = '\0';
                if (strv_consume(&l, value) < 0)
                        return -ENOMEM;
                for (size_t i = 0; l[i + 2]; i += 2)
                        if (streq(l[i], name)) {
                                *why = "a variable that appears twice";
                                return -EBADMSG;
                        }
                last_newline = q;
                p = q + 1;
        }
        /* What follows the last line is padding: GRUB's save_env refuses a block where it is not. */
        for (p = last_newline ? last_newline + 1 : buf + strlen(GRUBENV_HEADER); p < end; p++)
                if (*p != '#') {
                        *why = "not padded with '#' after its last line";
                        return -EBADMSG;
                }
        *vars = l ? TAKE_PTR(l) : calloc(1, sizeof(char *));
        return *vars ? 0 : -ENOMEM;
}

static bool name_valid(const char *name) {
        return name && name[0] && name[0] != '#' && !strpbrk(name, "=\n\\");
}

int grubenv_format(char *const *vars, char buf[static GRUBENV_SIZE]) {
        size_t len = strlen(GRUBENV_HEADER);

        memcpy(buf, GRUBENV_HEADER, len);
        for (size_t i = 0; vars && vars[i]; i += 2) {
                if (!name_valid(vars[i]))
                        return -EINVAL;
                size_t need = strlen(vars[i]) + 2;
                for (const char *s = vars[i + 1]; *s; s++)
                        need += *s == '\\' || *s == '\n' ? 2 : 1;
                if (len + need > GRUBENV_SIZE)
                        return -ENOSPC;
                len += (size_t) sprintf(buf + len, "%s=", vars[i]);
                for (const char *s = vars[i + 1]; *s; s++) {
                        if (*s == '\\' || *s == '\n')
                                buf[len++] = '\\';
                        buf[len++] = *s;
                }
                buf[len++] = '\n';
        }
        memset(buf + len, '#', GRUBENV_SIZE - len);
        return 0;
}

/* ---- the file */

/* Locks the directory holding path (flock on it: the block itself is replaced by a rename).
 * Returns the locked directory's fd or -errno. */
static int lock_dir(const char *path) {
        _cleanup_(freep) char *copy = strdup(path);
        _cleanup_(closep) int fd = -EBADF;
        usec_t deadline = now(CLOCK_MONOTONIC) + GRUBENV_LOCK_TIMEOUT_USEC;

        if (!copy)
                return -ENOMEM;
        fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                if (errno != EWOULDBLOCK && errno != EINTR)
                        return -errno;
                if (now(CLOCK_MONOTONIC) >= deadline)
                        return -EBUSY;
                (void) nanosleep(&(struct timespec) { .tv_nsec = 10 * 1000 * 1000 }, NULL);
        }
        return TAKE_FD(fd);
}

/* The block at path, parsed. st: its stat. */
static int load(const char *path, char ***vars, struct stat *st, const char **why) {
        _cleanup_(closep) int fd = -EBADF;
        char buf[GRUBENV_SIZE + 1];
        ssize_t k;

        *why = NULL;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (fstat(fd, st) < 0)
                return -errno;
        if (S_ISDIR(st->st_mode))
                return -EISDIR;
        if (!S_ISREG(st->st_mode)) {
                *why = "not a regular file";
                return -EBADMSG;
        }
        /* One byte more than a block: an overlong file is told apart from a block. */
        k = pread(fd, buf, sizeof(buf), 0);
        if (k < 0)
                return -errno;
        return grubenv_parse(buf, (size_t) k, vars, why);
}

static const char *vars_get(char *const *vars, const char *name) {
        for (size_t i = 0; vars[i]; i += 2)
                if (streq(vars[i], name))
                        return vars[i + 1];
        return NULL;
}

static int check_names(const char *const *names, size_t n) {
        for (size_t i = 0; i < n; i++) {
                if (!name_valid(names[i]))
                        return -EINVAL;
                for (size_t j = 0; j < i; j++)
                        if (streq(names[i], names[j]))
                                return -EINVAL;
        }
        return 0;
}

/* The block at path, read under the lock (kept in *lock), for the variables names[]. */
static int load_locked(const char *path, const char *const *names, size_t n, int *lock, char ***vars,
                       struct stat *st) {
        const char *why;
        int r = check_names(names, n);

        if (r < 0)
                return r;
        *lock = lock_dir(path);
        if (*lock < 0)
                return *lock;
        return load(path, vars, st, &why);
}

int grubenv_read(const char *path, const char *const *names, size_t n, char **values) {
        _cleanup_(strv_freep) char **vars = NULL;
        _cleanup_(closep) int lock = -EBADF;
        struct stat st;
        int r;

        for (size_t i = 0; i < n; i++)
                values[i] = NULL;
        r = load_locked(path, names, n, &lock, &vars, &st);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                const char *v = vars_get(vars, names[i]);
                if (v && !(values[i] = strdup(v))) {
                        for (size_t j = 0; j < i; j++)
                                values[j] = (free(values[j]), NULL);
                        return -ENOMEM;
                }
        }
        return 0;
}

/* vars with names[] set to values[] (NULL: removed): existing ones keep their place, new ones
 * come last, as grub-editenv does it. Returns 1 when that changes nothing. */
static int apply(char ***vars, const char *const *names, const char *const *values, size_t n) {
        bool changed = false;

        for (size_t i = 0; i < n; i++) {
                char **l = *vars;
                size_t k = 0;

                while (l[k] && !streq(l[k], names[i]))
                        k += 2;
                if (!l[k] && !values[i])
                        continue;
                if (l[k] && values[i] && streq(l[k + 1], values[i]))
                        continue;
                changed = true;
                if (!values[i]) {
                        free(l[k]);
                        free(l[k + 1]);
                        memmove(l + k, l + k + 2, (strv_length(l + k + 2) + 1) * sizeof(char *));
                } else if (l[k]) {
                        char *v = strdup(values[i]);
                        if (!v)
                                return -ENOMEM;
                        free(l[k + 1]);
                        l[k + 1] = v;
                } else if (strv_extend(vars, names[i]) < 0 || strv_extend(vars, values[i]) < 0)
                        return -ENOMEM;
        }
        return changed ? 0 : 1;
}

/* Writes block into a new file beside path and renames it over path, both synced. */
static int replace(const char *path, const char block[static GRUBENV_SIZE], const struct stat *st, int dir_fd) {
        _cleanup_(freep) char *tmp = NULL;
        _cleanup_(closep) int fd = -EBADF;
        int r = 0;

        if (asprintf(&tmp, "%s.healthdog-new", path) < 0)
                return -ENOMEM;
        (void) unlink(tmp); /* left by a power cut during an earlier store */
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, st->st_mode & 07777);
        if (fd < 0)
                return -errno;
        if (fchown(fd, st->st_uid, st->st_gid) < 0 && errno != EPERM)
                r = -errno;
        else if (fchmod(fd, st->st_mode & 07777) < 0)
                r = -errno;
        else {
                ssize_t k = write(fd, block, GRUBENV_SIZE);
                if (k != GRUBENV_SIZE)
                        r = k < 0 ? -errno : -EIO;
                else if (fsync(fd) < 0 || rename(tmp, path) < 0)
                        r = -errno;
        }
        if (r < 0) {
                (void) unlink(tmp);
                return r;
        }
        return fsync(dir_fd) < 0 ? -errno : 0;
}

int grubenv_write(const char *path, const char *const *names, const char *const *values,
                  const char *const *expected, size_t n) {
        _cleanup_(strv_freep) char **vars = NULL, **back = NULL;
        _cleanup_(closep) int lock = -EBADF;
        char block[GRUBENV_SIZE];
        const char *why;
        struct stat st;
        int r;

        r = load_locked(path, names, n, &lock, &vars, &st);
        if (r < 0)
                return r;
        for (size_t i = 0; expected && i < n; i++)
                if (!streq_ptr(vars_get(vars, names[i]), expected[i]))
                        return -ESTALE;
        r = apply(&vars, names, values, n);
        if (r != 0)
                return r;
        r = grubenv_format(vars, block);
        if (r < 0)
                return r;
        r = replace(path, block, &st, lock);
        if (r < 0)
                return r;

        r = load(path, &back, &st, &why);
        if (r < 0)
                return -EIO;
        for (size_t i = 0; i < n; i++)
                if (!streq_ptr(vars_get(back, names[i]), values[i]))
                        return -EIO;
        return 0;
}

const char *grubenv_strerror(const char *path, int error, char *buf, size_t size) {
        _cleanup_(strv_freep) char **vars = NULL;
        const char *why = NULL;
        struct stat st;

        switch (error) {
        case -EBADMSG:
                if (load(path, &vars, &st, &why) == -EBADMSG && why) {
                        snprintf(buf, size, "'%s' is not a valid GRUB environment block: %s (grub-editenv %s create "
                                 "makes a new one)", path, why, path);
                        return buf;
                }
                return "not a valid GRUB environment block";
        case -ENOENT:
                snprintf(buf, size, "'%s' does not exist (grub-editenv %s create makes it)", path, path);
                return buf;
        case -EBUSY:
                return "another healthdog process held the lock on its directory";
        case -ESTALE:
                return "a variable changed since it was read";
        case -ENOSPC:
                return "the variables do not fit into the 1024-byte block";
        case -EIO:
                return "the block read back differs from what was written";
        case -EINVAL:
                return "invalid variable name";
        default:
                return strerror(-error);
        }
}
