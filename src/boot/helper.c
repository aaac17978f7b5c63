/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "helper.h"
#include "ostree-exit.h"
#include "spawn.h"

/* The longest reply taken: a result, the messages and the exit code. */
#define HELPER_REPLY_MAX (64 * 1024)
/* What of the messages is kept for the log. */
#define HELPER_MESSAGES_MAX 512

struct HelperRun {
        Spawn *spawn;               /* as our child: `healthdog-ostree serve` on a socket pair */
        int fd;                     /* the connection */
        sd_event_source *io;
        sd_event_source *timer;
        char *request;
        size_t request_len, sent;
        char *reply;                /* HELPER_REPLY_MAX + 1 */
        size_t reply_len;
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
        spawn_abandon(run->spawn);
        sd_event_source_disable_unref(run->timer);
        sd_event_source_disable_unref(run->io);
        if (run->fd >= 0)
                close(run->fd);
        free(run->request);
        free(run->reply);
        free(run);
}

/* Tells the owner, once; the run is gone before done() is called. */
static void helper_finish(HelperRun *run, int status, const JsonValue *result, const char *messages) {
        helper_done_t done = run->done;
        void *userdata = run->userdata;

        /* The helper has answered (or failed): its process, if ours, exits by itself now. */
        run->spawn = NULL;
        helper_free(run);
        if (done)
                done(status, result, messages, userdata);
}

/* The reply is complete: RESULT \0 MESSAGES \0 CODE. */
static void helper_reply_done(HelperRun *run) {
        _cleanup_(json_freep) JsonValue *result = NULL;
        char messages[HELPER_MESSAGES_MAX];
        const char *first, *last;
        unsigned code;

        run->reply[run->reply_len] = '\0';
        first = memchr(run->reply, '\0', run->reply_len);
        last = memrchr(run->reply, '\0', run->reply_len);
        if (!first || first == last || parse_uint(last + 1, &code) < 0 || code > 255) {
                sanitize_line(messages, sizeof(messages), run->reply, run->reply_len);
                helper_finish(run, -EBADMSG, NULL, messages);
                return;
        }
        sanitize_line(messages, sizeof(messages), first + 1, (size_t) (last - first - 1));
        /* The result is the verb's JSON object and nothing else; anything other is not taken. */
        if (first > run->reply && (json_parse(run->reply, &result) < 0 || result->type != JSON_OBJECT)) {
                helper_finish(run, -EBADMSG, NULL, messages);
                return;
        }
        helper_finish(run, (int) code, result, messages);
}

/* Sends what the socket takes of the request, and ends it once all is out. Returns 1 when the
 * request is complete, 0 to wait until the socket takes more, or -errno. */
static int helper_send(HelperRun *run) {
        ssize_t n;

        while (run->sent < run->request_len) {
                n = send(run->fd, run->request + run->sent, run->request_len - run->sent, MSG_DONTWAIT | MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return errno == EAGAIN ? 0 : -errno;
                run->sent += (size_t) n;
        }
        return shutdown(run->fd, SHUT_WR) < 0 ? -errno : 1;
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        HelperRun *run = userdata;
        ssize_t n;
        int r;

        if (run->sent < run->request_len) {
                r = helper_send(run);
                if (r < 0)
                        helper_finish(run, r, NULL, "");
                else if (r > 0)
                        (void) sd_event_source_set_io_events(s, EPOLLIN);
                return 0;
        }

        for (;;) {
                if (run->reply_len == HELPER_REPLY_MAX) {
                        helper_finish(run, -EMSGSIZE, NULL, "");
                        return 0;
                }
                n = read(fd, run->reply + run->reply_len, HELPER_REPLY_MAX - run->reply_len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return 0;
                if (n < 0) {
                        helper_finish(run, -errno, NULL, "");
                        return 0;
                }
                if (n == 0) {
                        helper_reply_done(run);
                        return 0;
                }
                run->reply_len += (size_t) n;
        }
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        HelperRun *run = userdata;

        /* Killed now; the child source reaps it in the background. */
        spawn_abandon(run->spawn);
        run->spawn = NULL;
        helper_finish(run, -ETIMEDOUT, NULL, "");
        return 0;
}

/* Connects to healthdog-ostree.socket without waiting. Returns the socket, -ENOENT or
 * -ECONNREFUSED when nothing listens there (a stale socket file), or another -errno. */
static int helper_connect(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_(closep) int fd = -1;

        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        /* A unix stream connect completes at once, or fails at once (EAGAIN: backlog full). */
        if (connect(fd, &sa, sizeof(sa)) < 0)
                return -errno;
        return TAKE_FD(fd);
}

/* Starts `HELPER serve` as our child, speaking over a socket pair. Returns our end or -errno. */
static int helper_spawn(sd_event *event, const char *helper, Spawn **ret) {
        _cleanup_(closep) int ours = -1, theirs = -1;
        int sv[2], r;

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return -errno;
        ours = sv[0];
        theirs = sv[1];
        if (fcntl(ours, F_SETFL, O_NONBLOCK) < 0)
                return -errno;
        r = spawn_start(event,
                        &(SpawnOptions) { .argv = (char *[]) { (char *) helper, (char *) "serve", NULL },
                                          .stdio_fd = theirs },
                        NULL, NULL, ret);
        if (r < 0)
                return r;
        return TAKE_FD(ours);
}

int helper_run(sd_event *event, const OstreeConfig *c, const char *state_dir, char *const *args,
               helper_done_t done, void *userdata, HelperRun **ret) {
        _cleanup_(strv_freep) char **request = NULL;
        HelperRun *run;
        size_t len = 0, cap = 0;
        int r;

        if (strv_extend(&request, "--sysroot") < 0 || strv_extend(&request, c->sysroot) < 0 ||
            strv_extend(&request, "--state-dir") < 0 || strv_extend(&request, state_dir) < 0 ||
            strv_extend(&request, "--json") < 0)
                return -ENOMEM;
        for (char *const *a = args; *a; a++)
                if (strv_extend(&request, *a) < 0)
                        return -ENOMEM;

        run = calloc(1, sizeof(HelperRun));
        if (!run)
                return -ENOMEM;
        run->fd = -1;
        run->done = done;
        run->userdata = userdata;
        run->reply = malloc(HELPER_REPLY_MAX + 1);
        r = run->reply ? 0 : -ENOMEM;
        /* Each argument ended by its NUL byte (%c with 0). */
        for (char **a = request; r >= 0 && *a; a++)
                r = buf_appendf(&run->request, &len, &cap, "%s%c", *a, 0);
        run->request_len = len;

        if (r >= 0) {
                /* Under systemd the helper is a service of its own, with libostree's privileges;
                 * without its socket (no systemd, or a socket file nobody listens on) our child. */
                r = helper_connect(c->helper_socket);
                if (r == -ENOENT || r == -ECONNREFUSED)
                        r = helper_spawn(event, c->helper, &run->spawn);
                run->fd = r;
        }
        /* Small, into an empty socket: normally out at once. */
        if (r >= 0)
                r = helper_send(run);
        if (r >= 0)
                r = sd_event_add_io(event, &run->io, run->fd, r > 0 ? EPOLLIN : EPOLLOUT, on_io, run);
        if (r >= 0)
                r = sd_event_add_time_relative(event, &run->timer, CLOCK_MONOTONIC, c->timeout, USEC_PER_SEC,
                                               on_timeout, run);
        if (r < 0) {
                helper_free(run);
                return r;
        }
        *ret = run;
        return 0;
}

void helper_cancel(HelperRun *run) {
        if (run)
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
        case -EBADMSG:
                return "a malformed reply";
        default:
                return status < 0 ? "could not run" : "failed";
        }
}
