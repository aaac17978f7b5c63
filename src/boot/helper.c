/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "helper.h"
#include "ostree-exit.h"
#include "spawn.h"

/* What a helper run through the socket may print, its exit code included. */
#define HELPER_REPLY_MAX 16384

/* The helper runs one of two ways: as healthdog's child (spawn), or, when its socket exists, as
 * an instance of healthdog-ostree@.service that systemd starts for the connection, in a sandbox
 * of its own with the privileges libostree needs, which the daemon's unit then does not grant.
 * Through the socket the request is the arguments, each ended by a NUL byte, then end of file;
 * the reply is what the helper prints, then a NUL byte and its exit code in decimal. */
struct HelperRun {
        Spawn *spawn;
        int fd;
        sd_event_source *io;
        char *reply;            /* HELPER_REPLY_MAX + 1 */
        size_t reply_len;
        sd_event_source *timer;
        helper_done_t done;
        void *userdata;
};

bool helper_enabled(const OstreeConfig *c) {
        if (c->enable == OSTREE_ENABLE_AUTO)
                /* ostree-prepare-root leaves this behind on every boot it sets up. */
                return access("/run/ostree-booted", F_OK) == 0;
        return c->enable == OSTREE_ENABLE_YES;
}

static void helper_free(HelperRun *run) {
        sd_event_source_disable_unref(run->timer);
        sd_event_source_disable_unref(run->io);
        if (run->fd >= 0)
                close(run->fd);
        free(run->reply);
        free(run);
}

static void helper_finish(HelperRun *run, int status, const char *output) {
        helper_done_t done = run->done;
        void *userdata = run->userdata;

        helper_free(run);
        if (done)
                done(status, output, userdata);
}

static void on_helper_exit(const siginfo_t *si, const char *output, size_t len, void *userdata) {
        HelperRun *run = userdata;
        char line[SPAWN_OUTPUT_MAX + 8];

        run->spawn = NULL;
        sanitize_line(line, sizeof(line), output, len);
        helper_finish(run, si->si_code == CLD_EXITED ? si->si_status : -EINTR, line);
}

/* The reply is complete: split off the exit code. */
static void helper_reply_done(HelperRun *run) {
        char line[SPAWN_OUTPUT_MAX + 8];
        const char *nul = memrchr(run->reply, '\0', run->reply_len);
        unsigned code;

        run->reply[run->reply_len] = '\0';
        if (!nul || parse_uint(nul + 1, &code) < 0 || code > 255) {
                sanitize_line(line, sizeof(line), run->reply, run->reply_len);
                helper_finish(run, -EBADMSG, line);
                return;
        }
        sanitize_line(line, sizeof(line), run->reply, (size_t) (nul - run->reply));
        helper_finish(run, (int) code, line);
}

static int on_reply(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        HelperRun *run = userdata;
        ssize_t n;

        for (;;) {
                if (run->reply_len == HELPER_REPLY_MAX) {
                        helper_finish(run, -EMSGSIZE, "");
                        return 0;
                }
                n = read(fd, run->reply + run->reply_len, HELPER_REPLY_MAX - run->reply_len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return 0;
                if (n <= 0) {
                        if (n == 0)
                                helper_reply_done(run);
                        else
                                helper_finish(run, -errno, "");
                        return 0;
                }
                run->reply_len += (size_t) n;
        }
}

/* Connects to the helper's socket and sends the request. Returns the connected socket or -errno. */
static int helper_connect(const char *path, char *const *argv) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_(freep) char *request = NULL;
        _cleanup_(closep) int fd = -1;
        size_t len = 0, cap = 0;
        ssize_t n;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        for (char *const *a = argv; *a; a++) {
                /* %c with 0: the NUL that ends each argument. */
                if (buf_appendf(&request, &len, &cap, "%s%c", *a, 0) < 0)
                        return -ENOMEM;
        }
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        /* Local and small: the connection and the request complete at once. */
        if (connect(fd, &sa, sizeof(sa)) < 0)
                return -errno;
        n = send(fd, request, len, MSG_NOSIGNAL);
        if (n < 0)
                return -errno;
        if ((size_t) n != len)
                return -EMSGSIZE;
        if (shutdown(fd, SHUT_WR) < 0)
                return -errno;
        if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
                return -errno;
        return TAKE_FD(fd);
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        HelperRun *run = userdata;

        spawn_abandon(run->spawn);
        run->spawn = NULL;
        helper_finish(run, -ETIMEDOUT, "");
        return 0;
}

int helper_run(sd_event *event, const OstreeConfig *c, const char *state_dir, char *const *args,
               helper_done_t done, void *userdata, HelperRun **ret) {
        _cleanup_(strv_freep) char **argv = NULL;
        bool via_socket = access(c->helper_socket, F_OK) == 0;
        HelperRun *run;
        int r;

        if (strv_extend(&argv, c->helper) < 0 || strv_extend(&argv, "--sysroot") < 0 ||
            strv_extend(&argv, c->sysroot) < 0 || strv_extend(&argv, "--state-dir") < 0 ||
            strv_extend(&argv, state_dir) < 0)
                return -ENOMEM;
        for (char *const *a = args; *a; a++)
                if (strv_extend(&argv, *a) < 0)
                        return -ENOMEM;

        run = calloc(1, sizeof(HelperRun));
        if (!run)
                return -ENOMEM;
        run->fd = -1;
        run->done = done;
        run->userdata = userdata;

        r = sd_event_add_time_relative(event, &run->timer, CLOCK_MONOTONIC, c->timeout, USEC_PER_SEC, on_timeout,
                                       run);
        if (r >= 0 && via_socket) {
                /* The service runs the helper its unit names: the request starts at the options. */
                run->reply = malloc(HELPER_REPLY_MAX + 1);
                r = run->reply ? helper_connect(c->helper_socket, argv + 1) : -ENOMEM;
                run->fd = r;
                if (r >= 0)
                        r = sd_event_add_io(event, &run->io, run->fd, EPOLLIN, on_reply, run);
        } else if (r >= 0)
                r = spawn_start(event, &(SpawnOptions) { .argv = argv }, on_helper_exit, run, &run->spawn);
        if (r < 0) {
                helper_free(run);
                return r;
        }
        *ret = run;
        return 0;
}

typedef struct Query {
        bool done;
        int result;
} Query;

static void on_query_done(int status, const char *output, void *userdata) {
        Query *q = userdata;

        q->done = true;
        if (status == OSTREE_EXIT_OK)
                /* identify-failed names the default deployment only when it is not the booted one. */
                q->result = output[0] ? 0 : 1;
        else
                q->result = status == OSTREE_EXIT_NOT_OSTREE ? -ENOMEDIUM : status < 0 ? status : -EIO;
}

int helper_query_booted(const OstreeConfig *c, const char *state_dir, usec_t timeout) {
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        OstreeConfig bounded = *c;
        HelperRun *run = NULL;
        Query q = {};
        int r;

        /* A loop of its own: the daemon's is not running yet, and this must not wait for more. */
        r = sd_event_new(&event);
        if (r < 0)
                return r;
        bounded.timeout = timeout;
        r = helper_run(event, &bounded, state_dir, (char *[]) { (char *) "identify-failed", NULL }, on_query_done, &q,
                       &run);
        if (r < 0)
                return r;
        while (!q.done) {
                r = sd_event_run(event, UINT64_MAX);
                if (r < 0) {
                        helper_cancel(run);
                        return r;
                }
        }
        return q.result;
}

void helper_cancel(HelperRun *run) {
        if (!run)
                return;
        spawn_abandon(run->spawn);
        helper_free(run);
}

const char *helper_status_to_string(int status) {
        switch (status) {
        case OSTREE_EXIT_OK:
                return "done";
        case OSTREE_EXIT_NOT_OSTREE:
                return "not an OSTree system, or nothing booted from it";
        case OSTREE_EXIT_LOCKED:
                return "the sysroot is locked by another process";
        case OSTREE_EXIT_REFUSED_BOOTED:
                return "refused: that is the booted deployment";
        case OSTREE_EXIT_REFUSED_STAGED:
                return "refused: that is the staged deployment";
        case OSTREE_EXIT_REFUSED_PINNED:
                return "refused: that deployment is pinned";
        case OSTREE_EXIT_UNKNOWN:
                return "no such deployment (already removed)";
        case -ETIMEDOUT:
                return "timed out";
        case -EINTR:
                return "killed by a signal";
        default:
                return status < 0 ? "could not run" : "failed";
        }
}
