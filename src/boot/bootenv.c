/* SPDX-License-Identifier: MIT */
/* The U-Boot environment, through libubootenv (the only file that includes libuboot.h).
 *
 * What libubootenv 0.3.2 (Debian 12) does, checked against the library and fw_printenv with
 * images made by mkenvimage (tests/unit/test-bootenv.c repeats most of it):
 *
 * - libuboot_read_config() parses each non-'#' line with sscanf("%ms %lli %lx ...") and stops
 *   after two lines (two lines = redundant). A missing config gives -EBADF, a missing storage
 *   file, no usable line, a zero size or copies of different sizes give -EINVAL (a zero size
 *   also leaks the sscanf'd name). So the config is parsed here too, to report -ENOENT and
 *   friends and to know which files a store opens.
 * - libuboot_open() first takes flock(LOCK_EX) on the fixed /var/lock/fw_printenv.lock,
 *   blocking, without timeout, and ignores a failure to open that file (it then goes on
 *   unlocked). A second libuboot_open() in the same process while the first context is open
 *   deadlocks (a new open file description). Hence: open, read or store, close, in a child
 *   process that is killed when it waits for the lock too long (env_run()).
 * - It then reads every copy and checks its CRC. When no copy is valid it returns -ENODATA
 *   with an empty variable list, it does not fall back to a default environment; but
 *   libuboot_env_store() would still write that empty environment, so nothing is stored
 *   after a failed open. A single copy has a 4-byte CRC header; redundant copies a CRC and a
 *   flags byte: with both valid the higher flags wins (for files and NAND "incremental",
 *   with 255 -> 0 wrap-around), otherwise the valid one. mkenvimage -r writes flags 1.
 * - libuboot_env_store() writes one copy: the only one, or for a redundant environment the
 *   one that is not current, with the current flags + 1. A bad copy is therefore always the
 *   one overwritten, and after a store both copies are valid with the new one current.
 * - A storage shorter than offset + size gives -EIO from libuboot_open(); a size smaller than
 *   the one the image was made with gives a CRC mismatch (-ENODATA), and so does a redundant
 *   image described by a single line or the reverse. U-Boot's CONFIG_ENV_SIZE and the size in
 *   fw_env.config must agree, there is no way to detect the right one.
 * - A store to a file (not MTD) is written without fsync(): until the kernel writes the page
 *   back, a power cut loses it, and the read-back below cannot tell. env_sync() does it.
 * - Writing opens the file O_RDWR and loses errno: a read-only file gives -EBADF, a failed
 *   write() -1 (which reads as -EPERM). A full environment gives -ENOMEM and leaks the image
 *   buffer. Both are checked here before the store.
 * - libuboot_set_env(name, NULL) removes the variable. libuboot_get_env() cannot tell an
 *   unset variable from an out-of-memory strdup(), so the iterator is used instead.
 * - The library prints nothing (built with NDEBUG; its debug prints are compiled out). The
 *   tools do, on stderr: "Cannot read environment, using default" and "Cannot read default
 *   environment from file" for a bad CRC or a short storage, "Configuration file wrong or
 *   corrupted" for a missing config or storage. fw_printenv NAME prints "NAME=" for an
 *   unset variable, like for an empty one. fw_setenv on a bad environment without a default
 *   environment file fails and writes nothing. */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <sys/stat.h>

#include <libuboot.h>

#include "bootenv.h"
#include "log.h"

/* Header of one copy: the CRC, plus the flags byte for a redundant environment. */
#define HEADER_SINGLE 4
#define HEADER_REDUNDANT 5

typedef struct EnvConfig {
        char *devices[2];
        long long offsets[2];
        unsigned lines[2];
        size_t n_devices;
        size_t size;
} EnvConfig;

static void env_config_done(EnvConfig *c) {
        free(c->devices[0]);
        free(c->devices[1]);
}

/* Opens path with flags only to learn whether that works. Returns 0 or -errno. */
static int probe_open(const char *path, int flags) {
        _cleanup_(closep) int fd = open(path, flags | O_CLOEXEC | O_NOCTTY);

        return fd < 0 ? -errno : 0;
}

/* Reads the device lines of config the way libubootenv does, so that its -EBADF/-EINVAL can be
 * told apart, and checks that the storage files can be opened for reading. */
static int env_config_parse(const char *config, EnvConfig *ret) {
        _cleanup_(fclosep) FILE *f = NULL;
        _cleanup_(freep) char *line = NULL;
        size_t allocated = 0;
        unsigned n = 0;
        int r;

        f = fopen(config, "re");
        if (!f)
                return -errno;

        while (ret->n_devices < 2 && getline(&line, &allocated, f) >= 0) {
                _cleanup_(freep) char *device = NULL;
                long long offset;
                unsigned long size;

                n++;
                if (line[0] == '#')
                        continue;
                if (sscanf(line, "%ms %lli %lx", &device, &offset, &size) < 3)
                        continue;
                ret->lines[ret->n_devices] = n;
                if (offset < 0 || size <= HEADER_REDUNDANT || size > INT32_MAX)
                        return -EINVAL;
                if (ret->n_devices > 0 && size != ret->size)
                        return -EINVAL;
                ret->size = size;
                ret->offsets[ret->n_devices] = offset;
                ret->devices[ret->n_devices++] = TAKE_PTR(device);
        }
        if (ferror(f))
                return -EIO;
        if (ret->n_devices == 0)
                return -EINVAL;

        for (size_t i = 0; i < ret->n_devices; i++) {
                r = probe_open(ret->devices[i], O_RDONLY);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int names_check(const char *const *names, size_t n) {
        for (size_t i = 0; i < n; i++) {
                if (!names[i] || !names[i][0] || strchr(names[i], '='))
                        return -EINVAL;
                for (size_t j = 0; j < i; j++)
                        if (streq(names[i], names[j]))
                                return -EINVAL;
        }
        return 0;
}

/* flock() needs nothing but an open file: whoever can open the lock file can hold off every read
 * and store of the environment, a boot's confirmation included, for as long as they like. So only
 * its owner may open it: group and other access are taken away from a lock file we own. One
 * someone else owns (its directory, /run/lock, is world-writable) cannot be made safe from here,
 * it is the file libubootenv locks all the same: a warning names it. */
static void lock_restrict(int fd) {
        struct stat st;

        if (fstat(fd, &st) < 0)
                return;
        if ((st.st_mode & 0077) && st.st_uid == geteuid() && fchmod(fd, st.st_mode & 0700) >= 0)
                st.st_mode &= ~0077;
        if ((st.st_mode & 0077) || (st.st_uid != geteuid() && st.st_uid != 0))
                log_warning("Lock file '%s' (owner uid %u, mode %04o) can be opened by others, who can then hold "
                            "the U-Boot environment's lock and keep a boot from being confirmed, ignoring",
                            BOOTENV_LOCK_FILE, (unsigned) st.st_uid, (unsigned) (st.st_mode & 07777));
}

/* Makes sure the lock file exists, and is only its owner's, before libubootenv opens it. Where it
 * cannot be created, libubootenv cannot open it either and goes on without the lock. */
static void lock_prepare(void) {
        _cleanup_(closep) int fd = open(BOOTENV_LOCK_FILE, O_RDONLY | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);

        if (fd >= 0)
                lock_restrict(fd);
}

/* In the child that runs libubootenv (env_run()): where it tells the parent that it is about to
 * wait for the environment's lock in libubootenv ('W'), that it holds it ('L') and that it
 * released it ('U'). */
static int env_token_fd = -1;

static void env_token(char token) {
        if (env_token_fd >= 0)
                (void) write(env_token_fd, &token, 1);
}

/* Releases the lock and everything else. Accepts NULL; returns NULL. */
static struct uboot_ctx *env_close(struct uboot_ctx *ctx) {
        if (ctx) {
                libuboot_close(ctx);
                libuboot_exit(ctx);
                env_token('U');
        }
        return NULL;
}

static void env_closep(struct uboot_ctx **ctx) {
        env_close(*ctx);
}

/* Locks and loads the environment; the caller closes it with env_close() as soon as possible. */
static int env_open(const char *config, struct uboot_ctx **ret) {
        _cleanup_(env_closep) struct uboot_ctx *ctx = NULL;
        int r;

        lock_prepare();
        r = libuboot_initialize(&ctx, NULL);
        if (r < 0)
                return r;
        r = libuboot_read_config(ctx, config);
        if (r < 0)
                /* Checked just before: only a race gets here. */
                return r == -EBADF ? -ENOENT : r;

        env_token('W');
        r = libuboot_open(ctx);
        if (r == -ENODATA || r >= 0)
                env_token('L');
        if (r == -ENODATA)
                return -EBADMSG;
        if (r < 0)
                return r;

        *ret = TAKE_PTR(ctx);
        return 0;
}

/* The value of name in ctx, borrowed, or NULL when unset. */
static const char *env_get(struct uboot_ctx *ctx, const char *name) {
        for (void *e = libuboot_iterator(ctx, NULL); e; e = libuboot_iterator(ctx, e))
                if (streq(libuboot_getname(e), name))
                        return libuboot_getvalue(e);
        return NULL;
}

static bool env_matches(struct uboot_ctx *ctx, const char *const *names, const char *const *values, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (!streq_ptr(env_get(ctx, names[i]), values[i]))
                        return false;
        return true;
}

/* Bytes the variables take in a copy: "name=value\0" each and the final '\0'. libubootenv
 * refuses (and leaks) when they do not fit; .flags, rare, is not counted. */
static size_t env_data_size(struct uboot_ctx *ctx) {
        size_t sum = 1;

        for (void *e = libuboot_iterator(ctx, NULL); e; e = libuboot_iterator(ctx, e))
                sum += strlen(libuboot_getname(e)) + 1 + strlen(libuboot_getvalue(e)) + 1;
        return sum;
}

static int env_check_writable(const EnvConfig *c) {
        int r;

        for (size_t i = 0; i < c->n_devices; i++) {
                r = probe_open(c->devices[i], O_RDWR);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Makes a store durable: a trial armed or confirmed must survive a power cut right after. */
static int env_sync(const EnvConfig *c) {
        for (size_t i = 0; i < c->n_devices; i++) {
                _cleanup_(closep) int fd = open(c->devices[i], O_RDWR | O_CLOEXEC | O_NOCTTY);

                if (fd < 0 || fsync(fd) < 0)
                        return -errno;
        }
        return 0;
}

static int env_read(const char *config, const char *const *names, size_t n, char **values) {
        _cleanup_(env_config_done) EnvConfig c = {};
        _cleanup_(env_closep) struct uboot_ctx *ctx = NULL;
        int r;

        for (size_t i = 0; i < n; i++)
                values[i] = NULL;

        r = names_check(names, n);
        if (r < 0)
                return r;
        r = env_config_parse(config, &c);
        if (r < 0)
                return r;
        r = env_open(config, &ctx);
        if (r < 0)
                return r;

        for (size_t i = 0; i < n; i++) {
                const char *v = env_get(ctx, names[i]);

                if (v && !(values[i] = strdup(v))) {
                        for (size_t j = 0; j < i; j++) {
                                free(values[j]);
                                values[j] = NULL;
                        }
                        return -ENOMEM;
                }
        }
        return 0;
}

static int env_write(const char *config, const char *const *names, const char *const *values,
                     const char *const *expected, size_t n) {
        _cleanup_(env_config_done) EnvConfig c = {};
        _cleanup_(env_closep) struct uboot_ctx *ctx = NULL;
        size_t header;
        int r;

        r = names_check(names, n);
        if (r < 0)
                return r;
        r = env_config_parse(config, &c);
        if (r < 0)
                return r;
        header = c.n_devices > 1 ? HEADER_REDUNDANT : HEADER_SINGLE;

        r = env_open(config, &ctx);
        if (r < 0)
                return r;
        if (env_matches(ctx, names, values, n))
                return 1;
        if (expected && !env_matches(ctx, names, expected, n))
                return -ESTALE;

        r = env_check_writable(&c);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                r = libuboot_set_env(ctx, names[i], values[i]);
                if (r < 0)
                        return r;
        }
        if (env_data_size(ctx) > c.size - header)
                return -ENOSPC;

        r = libuboot_env_store(ctx);
        if (r < 0) {
                if (r == -ENOMEM)
                        return r;
                /* errno got lost inside libubootenv: open() gives -EBADF, write() -1. */
                r = env_check_writable(&c);
                return r < 0 ? r : -EIO;
        }
        r = env_sync(&c);
        if (r < 0)
                return r;

        /* Read back what a fresh open sees; the lock must be released for that. */
        ctx = env_close(ctx);
        r = env_open(config, &ctx);
        if (r == -EBADMSG)
                return -EIO;
        if (r < 0)
                return r;
        return env_matches(ctx, names, values, n) ? 0 : -EIO;
}

/* ---- libubootenv in a child process
 *
 * libubootenv waits in flock() without a timeout: a hung holder of the lock (an OTA client,
 * fw_setenv) would stall the caller (the daemon's event loop, its pings) for as long as it holds
 * it, and no look at the lock beforehand helps, since another process may take it right after.
 * So the library runs in a child, which says when it starts to wait for the lock in libubootenv,
 * when it holds it and when it let go of it. One that does not hold it within ENV_LOCK_USEC of
 * starting to wait is killed, which is safe: it has neither read nor written anything. One that
 * holds it is waited for: it may be writing, and a copy cut off half-way is what a redundant
 * environment survives but a single one does not. Before it waits (reading fw_env.config) it only
 * works: that is not bounded, so that a loaded machine is not taken for a held lock. The reply: 'R', the
 * result (int), then for a read each value as its length (int, -1 for unset) and its bytes. */
#define ENV_LOCK_USEC BOOTENV_LOCK_TIMEOUT_USEC

typedef struct EnvJob {
        const char *config;
        const char *const *names, *const *values, *const *expected;
        size_t n;
        char **read_values;        /* a read: the values, set from the reply */
} EnvJob;

static bool write_all(int fd, const void *p, size_t n) {
        for (const char *c = p; n > 0;) {
                ssize_t k = write(fd, c, n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return false;
                c += k;
                n -= (size_t) k;
        }
        return true;
}

_noreturn_ static void env_child(EnvJob *job, int fd) {
        char *values[8] = {};
        int r;

        env_token_fd = fd;
        if (job->read_values)
                r = env_read(job->config, job->names, job->n, values);
        else
                r = env_write(job->config, job->names, job->values, job->expected, job->n);
        if (!write_all(fd, "R", 1) || !write_all(fd, &r, sizeof(r)))
                _exit(1);
        for (size_t i = 0; job->read_values && r >= 0 && i < job->n; i++) {
                int len = values[i] ? (int) strlen(values[i]) : -1;
                if (!write_all(fd, &len, sizeof(len)) || (len > 0 && !write_all(fd, values[i], (size_t) len)))
                        _exit(1);
        }
        _exit(0);
}

/* Reads n bytes, waiting as long as it takes (the child holds the lock, or is done). */
static int read_all(int fd, void *p, size_t n) {
        for (char *c = p; n > 0;) {
                ssize_t k = read(fd, c, n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return -EIO;
                c += k;
                n -= (size_t) k;
        }
        return 0;
}

/* Waits for the child's next token: while it waits for the lock, at most until deadline.
 * Returns the token, -ETIMEDOUT, or -EIO when the child died without a reply. */
static int env_next_token(int fd, bool waiting, usec_t deadline) {
        char token;

        if (waiting) {
                usec_t t = now(CLOCK_MONOTONIC);
                struct pollfd p = { .fd = fd, .events = POLLIN };
                int k;

                do
                        k = poll(&p, 1, t >= deadline ? 0 : (int) ((deadline - t + USEC_PER_MSEC - 1) / USEC_PER_MSEC));
                while (k < 0 && errno == EINTR && (t = now(CLOCK_MONOTONIC)) < deadline);
                if (k <= 0)
                        return -ETIMEDOUT;
        }
        return read_all(fd, &token, 1) < 0 ? -EIO : token;
}

static int env_reply(EnvJob *job, int fd) {
        int r;

        if (read_all(fd, &r, sizeof(r)) < 0)
                return -EIO;
        for (size_t i = 0; job->read_values && r >= 0 && i < job->n; i++) {
                int len;

                if (read_all(fd, &len, sizeof(len)) < 0 || len < -1 || len > 1024 * 1024)
                        return -EIO;
                if (len < 0)
                        continue;
                job->read_values[i] = malloc((size_t) len + 1);
                if (!job->read_values[i] || read_all(fd, job->read_values[i], (size_t) len) < 0)
                        return -ENOMEM;
                job->read_values[i][len] = '\0';
        }
        return r;
}

static int env_run(EnvJob *job) {
        _cleanup_(closep) int fd = -1;
        bool waiting = false;
        int pipefd[2], r, token;
        usec_t deadline = 0;
        pid_t pid;

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                r = -errno;
                close(pipefd[0]);
                close(pipefd[1]);
                return r;
        }
        if (pid == 0) {
                close(pipefd[0]);
                env_child(job, pipefd[1]);
        }
        close(pipefd[1]);
        fd = pipefd[0];

        for (;;) {
                token = env_next_token(fd, waiting, deadline);
                if (token == 'W') {
                        waiting = true;
                        deadline = now(CLOCK_MONOTONIC) + ENV_LOCK_USEC;
                } else if (token == 'L' || token == 'U')
                        waiting = false;
                else
                        break;
        }
        if (token == 'R')
                r = env_reply(job, fd);
        else {
                /* Killed while it waits for the lock, or dead: nothing was written by it then. */
                (void) kill(pid, SIGKILL);
                r = token == -ETIMEDOUT ? -EBUSY : -EIO;
        }
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
        if (r < 0 && job->read_values)
                for (size_t i = 0; i < job->n; i++)
                        job->read_values[i] = (free(job->read_values[i]), NULL);
        return r;
}

int bootenv_read(const char *config, const char *const *names, size_t n, char **values) {
        for (size_t i = 0; i < n; i++)
                values[i] = NULL;
        if (n > 8)
                return -E2BIG;
        return env_run(&(EnvJob) { .config = config, .names = names, .n = n, .read_values = values });
}

int bootenv_write(const char *config, const char *const *names, const char *const *values,
                  const char *const *expected, size_t n) {
        return env_run(&(EnvJob) { .config = config, .names = names, .values = values, .expected = expected, .n = n });
}

/* What -EINVAL and -EIO from reading config mean, found by looking again. */
static const char *env_explain(const char *config, int error, char *buf, size_t size) {
        _cleanup_(env_config_done) EnvConfig c = {};
        int r = env_config_parse(config, &c);
        struct stat st;

        if (error == -EINVAL && r == -EINVAL) {
                if (c.n_devices == 0 && c.lines[0] == 0)
                        snprintf(buf, size, "no line of the form 'DEVICE OFFSET SIZE' in it");
                else if (c.n_devices == 0)
                        snprintf(buf, size, "line %u: the size must be more than %d bytes and less than 2 GiB",
                                 c.lines[0], HEADER_REDUNDANT);
                else
                        snprintf(buf, size, "line %u: the size differs from line %u's (0x%zx): the two copies of a "
                                 "redundant environment have one size", c.lines[1], c.lines[0], c.size);
                return buf;
        }
        if (error != -EIO || r < 0)
                return NULL;
        for (size_t i = 0; i < c.n_devices; i++) {
                if (stat(c.devices[i], &st) < 0)
                        continue;
                if (S_ISDIR(st.st_mode)) {
                        snprintf(buf, size, "'%s' (line %u) is a directory", c.devices[i], c.lines[i]);
                        return buf;
                }
                if (S_ISREG(st.st_mode) && (unsigned long long) st.st_size < (unsigned long long) c.offsets[i] + c.size) {
                        snprintf(buf, size, "'%s' is %lld bytes, shorter than offset 0x%llx + size 0x%zx (line %u)",
                                 c.devices[i], (long long) st.st_size, (unsigned long long) c.offsets[i], c.size,
                                 c.lines[i]);
                        return buf;
                }
        }
        return NULL;
}

const char *bootenv_strerror(const char *config, int error, char *buf, size_t size) {
        const char *s = NULL;

        if (error == -EBADMSG)
                return "no copy has a valid CRC";
        if (error == -EBUSY)
                return "another process holds " BOOTENV_LOCK_FILE;
        if (error == -ESTALE)
                return "the variables changed since this boot read them";
        if (error == -EINVAL || error == -EIO)
                s = env_explain(config, error, buf, size);
        return s ?: strerror(-error);
}
