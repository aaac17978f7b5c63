/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

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

/* What of the stderr of helper_exec() is looked at for its last line. */
#define HELPER_EXEC_ERR_MAX 2048

typedef struct Exec {
        int out_fd, err_fd;
        char *out;              /* HELPER_EXEC_OUTPUT_MAX + 1 */
        size_t out_len;
        char err[HELPER_EXEC_ERR_MAX];
        size_t err_len;
        bool tee;               /* stderr passed through too */
} Exec;

/* Reads what is there on fd into the output, or into the tail of the messages (the oldest half
 * dropped when full). Returns 1 at end of file, 0 to read again, or -errno (-EMSGSIZE). */
static int exec_read(Exec *e, int fd) {
        char buf[4096];
        ssize_t n = read(fd, buf, sizeof(buf));

        if (n < 0)
                return errno == EINTR || errno == EAGAIN ? 0 : -errno;
        if (n == 0)
                return 1;
        if (fd == e->out_fd) {
                if ((size_t) n > HELPER_EXEC_OUTPUT_MAX - e->out_len)
                        return -EMSGSIZE;
                memcpy(e->out + e->out_len, buf, (size_t) n);
                e->out_len += (size_t) n;
                return 0;
        }
        /* Progress and messages for a person: what cannot be written is lost, no more. */
        if (e->tee)
                (void) fwrite(buf, 1, (size_t) n, stderr);
        for (ssize_t i = 0; i < n; i++) {
                if (e->err_len == sizeof(e->err)) {
                        memmove(e->err, e->err + sizeof(e->err) / 2, sizeof(e->err) / 2);
                        e->err_len = sizeof(e->err) / 2;
                }
                e->err[e->err_len++] = buf[i];
        }
        return 0;
}

/* The last line that is not empty of the messages. */
static void exec_last_line(const Exec *e, char *err, size_t size) {
        size_t end = e->err_len, start;

        while (end > 0 && (e->err[end - 1] == '\n' || e->err[end - 1] == '\r'))
                end--;
        start = end;
        while (start > 0 && e->err[start - 1] != '\n')
                start--;
        sanitize_line(err, size, e->err + start, end - start);
}

/* Reads the child's output until both pipes are closed, or the deadline (USEC_INFINITY: none).
 * Returns 0, or -ETIMEDOUT, -EMSGSIZE, -errno. */
static int exec_collect(Exec *e, usec_t deadline) {
        for (;;) {
                struct pollfd p[2];
                nfds_t n = 0;
                usec_t t;
                int r;

                if (e->out_fd >= 0)
                        p[n++] = (struct pollfd) { .fd = e->out_fd, .events = POLLIN };
                if (e->err_fd >= 0)
                        p[n++] = (struct pollfd) { .fd = e->err_fd, .events = POLLIN };
                if (n == 0)
                        return 0;
                t = now(CLOCK_MONOTONIC);
                if (deadline != USEC_INFINITY && t >= deadline)
                        return -ETIMEDOUT;
                r = poll(p, n, deadline == USEC_INFINITY ? -1 : (int) ((deadline - t + USEC_PER_MSEC - 1) / USEC_PER_MSEC));
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return -errno;
                for (nfds_t i = 0; i < n; i++) {
                        if (!p[i].revents)
                                continue;
                        r = exec_read(e, p[i].fd);
                        if (r < 0)
                                return r;
                        if (r > 0) {
                                close(p[i].fd);
                                if (p[i].fd == e->out_fd)
                                        e->out_fd = -1;
                                else
                                        e->err_fd = -1;
                        }
                }
        }
}

int helper_exec(const OstreeConfig *c, const char *state_dir, char *const *args, usec_t timeout, char **ret_out,
                char *err, size_t size, HelperExecFlags flags, struct rusage *ret_usage) {
        char *argv[32] = { c->helper, (char *) "--sysroot", c->sysroot, (char *) "--state-dir", (char *) state_dir,
                           (char *) "--json" };
        usec_t deadline = timeout > 0 ? now(CLOCK_MONOTONIC) + timeout : USEC_INFINITY;
        Exec e = { .out_fd = -1, .err_fd = -1, .tee = err && (flags & HELPER_EXEC_TEE) };
        struct rusage usage = {};
        int out[2] = { -1, -1 }, errp[2] = { -1, -1 }, status, r;
        size_t n = 6;
        pid_t pid;

        *ret_out = NULL;
        if (err && size > 0)
                err[0] = '\0';
        for (char *const *a = args; *a; a++) {
                if (n == ELEMENTSOF(argv) - 1)
                        return -E2BIG;
                argv[n++] = *a;
        }
        argv[n] = NULL;
        e.out = malloc(HELPER_EXEC_OUTPUT_MAX + 1);
        if (!e.out)
                return -ENOMEM;
        if (pipe2(out, O_CLOEXEC) < 0 || (err && pipe2(errp, O_CLOEXEC) < 0)) {
                r = -errno;
                goto finish;
        }
        fflush(stdout);
        fflush(stderr);
        pid = fork();
        if (pid < 0) {
                r = -errno;
                goto finish;
        }
        if (pid == 0) {
                if (dup2(out[1], STDOUT_FILENO) < 0 || (err && dup2(errp[1], STDERR_FILENO) < 0))
                        _exit(127);
                execv(argv[0], argv);
                fprintf(stderr, "cannot run '%s': %s\n", argv[0], strerror(errno));
                _exit(127);
        }
        close(out[1]);
        out[1] = -1;
        e.out_fd = TAKE_FD(out[0]);
        if (err) {
                close(errp[1]);
                errp[1] = -1;
                e.err_fd = TAKE_FD(errp[0]);
        }
        r = exec_collect(&e, deadline);
        if (r < 0)
                /* Timed out, or talking more than any verb does: it is not waited for. */
                (void) kill(pid, SIGKILL);
        while (wait4(pid, &status, 0, &usage) < 0)
                if (errno != EINTR) {
                        r = r < 0 ? r : -errno;
                        goto finish;
                }
        if (ret_usage)
                *ret_usage = usage;
        if (err)
                exec_last_line(&e, err, size);
        if (r < 0)
                goto finish;
        if (!WIFEXITED(status)) {
                r = -EINTR;
                goto finish;
        }
        e.out[e.out_len] = '\0';
        *ret_out = TAKE_PTR(e.out);
        r = WEXITSTATUS(status);
finish:
        for (size_t i = 0; i < 2; i++) {
                if (out[i] >= 0)
                        close(out[i]);
                if (errp[i] >= 0)
                        close(errp[i]);
        }
        if (e.out_fd >= 0)
                close(e.out_fd);
        if (e.err_fd >= 0)
                close(e.err_fd);
        free(e.out);
        return r;
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
        case OSTREE_EXIT_UNREACHABLE:
                return "the remote could not be reached";
        case OSTREE_EXIT_UNSIGNED:
                return "refused: the remote verifies no signature";
        case 127:
                return "could not be executed";
        case -ETIMEDOUT:
                return "timed out";
        case -EBADMSG:
                return "a malformed reply";
        case -EMSGSIZE:
                return "a reply too long";
        default:
                return status < 0 ? "could not run" : "failed";
        }
}
