/* SPDX-License-Identifier: MIT */
#include <poll.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "control.h"
#include "log.h"

typedef union SocketAddress {
        struct sockaddr sa;
        struct sockaddr_un un;
} SocketAddress;

typedef struct ControlConnection {
        Control *control;
        size_t slot;
        int fd;
        struct ucred peer;
        sd_event_source *io_source;
        sd_event_source *timer;
        char request[CONTROL_REQUEST_MAX];
        size_t request_len;
        char *reply;                /* the whole line, newline included; NULL while reading */
        size_t reply_len, written;
} ControlConnection;

struct Control {
        sd_event *event;
        const ControlOps *ops;
        void *userdata;
        char *path;
        int fd;
        dev_t dev;                  /* the socket file bound, to remove only our own */
        ino_t ino;
        sd_event_source *listen_source;
        sd_event_source *resume_timer;  /* accept() ran out of resources: listening again later */
        ControlConnection *connections[CONTROL_CONNECTIONS_MAX];
};

int control_socket_path(const char *runtime_directory, char **ret) {
        return asprintf(ret, "%s/%s", runtime_directory, CONTROL_SOCKET_NAME) < 0 ? -ENOMEM : 0;
}

static int socket_address(const char *path, SocketAddress *ret, socklen_t *ret_len) {
        size_t n = strlen(path);

        if (n >= sizeof(ret->un.sun_path))
                return -ENAMETOOLONG;
        *ret = (SocketAddress) { .un.sun_family = AF_UNIX };
        memcpy(ret->un.sun_path, path, n);
        *ret_len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n + 1);
        return 0;
}

/* ---- replies: one JSON object, one line */

static char *reply_ok(const char *fmt, ...) _printf_(1, 2);
static char *reply_ok(const char *fmt, ...) {
        char *s = NULL;
        va_list ap;
        int k;

        va_start(ap, fmt);
        k = vasprintf(&s, fmt, ap);
        va_end(ap);
        return k < 0 ? NULL : s;
}

static char *reply_error(const char *fmt, ...) _printf_(1, 2);
static char *reply_error(const char *fmt, ...) {
        _cleanup_(freep) char *message = NULL, *json = NULL;
        size_t len = 0, cap = 0;
        va_list ap;
        int k;

        va_start(ap, fmt);
        k = vasprintf(&message, fmt, ap);
        va_end(ap);
        if (k < 0)
                return NULL;
        if (buf_appendf(&json, &len, &cap, "{\"ok\":false,\"error\":") < 0 ||
            json_append_string(&json, &len, &cap, message) < 0 || buf_appendf(&json, &len, &cap, "}\n") < 0)
                return NULL;
        return TAKE_PTR(json);
}

/* For a connection that is not served: whatever fits into the empty socket buffer, at once. */
static void send_error_now(int fd, const char *message) {
        _cleanup_(freep) char *reply = reply_error("%s", message);

        if (reply)
                (void) send(fd, reply, strlen(reply), MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* The reply to an operation: ok, or its message (when it gave one), else the errno's. */
static char *reply_result(int r, char *error, const char *what) {
        _cleanup_(freep) char *e = error;

        if (r >= 0)
                return reply_ok("{\"ok\":true}\n");
        if (e)
                return reply_error("%s", e);
        return reply_error("%s: %s", what, strerror(-r));
}

static char *reply_status(Control *c) {
        _cleanup_(freep) char *json = NULL;

        if (c->ops->status(c->userdata, &json) < 0)
                return reply_error("cannot build the status: %s", strerror(ENOMEM));
        return reply_ok("{\"ok\":true,\"status\":%s}\n", json);
}

/* A decimal number of microseconds, without sign or blanks. */
static int parse_usec(const char *s, usec_t *ret) {
        unsigned long long u;
        char *end;

        if (*s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        u = strtoull(s, &end, 10);
        if (errno || *end)
                return -EINVAL;
        *ret = u;
        return 0;
}

static char *reply_hold(Control *c, const char *arg) {
        char *error = NULL;
        usec_t duration, until = 0;
        int r;

        /* A hold that ends in the past, or whose end overflows the clock, means nothing. */
        if (parse_usec(arg, &duration) < 0 || duration == 0 || duration > USEC_INFINITY / 4)
                return reply_error("bad duration '%s': expected a positive number of microseconds", arg);
        r = c->ops->hold(c->userdata, duration, &until, &error);
        if (r < 0)
                return reply_result(r, error, "cannot set the hold");
        return reply_ok("{\"ok\":true,\"until_usec\":%llu}\n", (unsigned long long) until);
}

static char *control_dispatch(ControlConnection *conn, const char *request) {
        Control *c = conn->control;
        char *error = NULL;
        const char *arg;
        int r;

        if (streq(request, "status"))
                return reply_status(c);

        if (streq(request, "mark-good") || startswith(request, "hold ") || streq(request, "hold-cancel") ||
            streq(request, "reload"))
                log_info("Control request '%s' from PID %d (UID %u)", request, (int) conn->peer.pid,
                         (unsigned) conn->peer.uid);
        if (streq(request, "mark-good")) {
                r = c->ops->mark_good(c->userdata, &error);
                return reply_result(r, error, "cannot confirm the boot");
        }
        if ((arg = startswith(request, "hold ")))
                return reply_hold(c, arg);
        if (streq(request, "hold-cancel")) {
                r = c->ops->hold_cancel(c->userdata, &error);
                return reply_result(r, error, "cannot end the hold");
        }
        if (streq(request, "reload")) {
                r = c->ops->reload(c->userdata, &error);
                return reply_result(r, error, "cannot reload");
        }
        return reply_error("unknown request '%s' (known: status, mark-good, hold USEC, hold-cancel, reload)", request);
}

/* ---- connections */

static ControlConnection *connection_free(ControlConnection *conn) {
        if (!conn)
                return NULL;
        conn->control->connections[conn->slot] = NULL;
        sd_event_source_disable_unref(conn->io_source);
        sd_event_source_disable_unref(conn->timer);
        closep(&conn->fd);
        free(conn->reply);
        free(conn);
        return NULL;
}

/* Reads what there is. Returns 1 once the request is complete (and conn->reply is set), 0 to
 * wait for more, or -errno. */
static int connection_read(ControlConnection *conn) {
        char line[CONTROL_REQUEST_MAX];
        size_t room = sizeof(conn->request) - conn->request_len;
        ssize_t n;
        char *end;

        n = read(conn->fd, conn->request + conn->request_len, room);
        if (n < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : -errno;
        end = memchr(conn->request + conn->request_len, '\n', (size_t) n);
        conn->request_len += (size_t) n;

        if (!end && n > 0 && conn->request_len < sizeof(conn->request))
                return 0;
        if (!end && n > 0) {
                conn->reply = reply_error("request too long (at most %d bytes)", CONTROL_REQUEST_MAX - 1);
                return conn->reply ? 1 : -ENOMEM;
        }
        if (!end && conn->request_len == 0)
                return -ECONNRESET; /* closed without a word */
        /* A request ends with its newline, or with the end of the stream. */
        if (!end)
                end = conn->request + conn->request_len;
        if (end > conn->request && end[-1] == '\r')
                end--;
        /* Printable, so the request can go into the log and into the reply. */
        sanitize_line(line, sizeof(line), conn->request, (size_t) (end - conn->request));
        conn->reply = control_dispatch(conn, line);
        return conn->reply ? 1 : -ENOMEM;
}

/* Returns 1 when the reply is out, 0 to wait until the socket takes more, or -errno. */
static int connection_write(ControlConnection *conn) {
        while (conn->written < conn->reply_len) {
                ssize_t n = send(conn->fd, conn->reply + conn->written, conn->reply_len - conn->written,
                                 MSG_DONTWAIT | MSG_NOSIGNAL);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno != EAGAIN)
                                return -errno;
                        /* The client is slow to read: wait for room, within the connection's time. */
                        return sd_event_source_set_io_events(conn->io_source, EPOLLOUT);
                }
                conn->written += (size_t) n;
        }
        return 1;
}

static int on_connection_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        ControlConnection *conn = userdata;
        int r = 1;

        if (!conn->reply) {
                r = connection_read(conn);
                if (r > 0)
                        conn->reply_len = strlen(conn->reply);
        }
        if (r > 0)
                r = connection_write(conn);
        if (r < 0 && r != -ECONNRESET && r != -EPIPE)
                log_debug("Control connection from PID %d: %s, closing", (int) conn->peer.pid, strerror(-r));
        if (r != 0)
                connection_free(conn);
        return 0;
}

static int on_connection_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        ControlConnection *conn = userdata;

        log_debug("Control connection from PID %d: %s within 1s, closing", (int) conn->peer.pid,
                  conn->reply ? "the reply was not read" : "no request");
        if (!conn->reply)
                send_error_now(conn->fd, "no request within 1s");
        connection_free(conn);
        return 0;
}

static int connection_new(Control *c, int fd, const struct ucred *peer, size_t slot) {
        ControlConnection *conn = calloc(1, sizeof(ControlConnection));
        sd_event *event = c->event;
        int r;

        if (!conn) {
                close(fd);
                return -ENOMEM;
        }
        *conn = (ControlConnection) { .control = c, .slot = slot, .fd = fd, .peer = *peer };
        c->connections[slot] = conn;

        r = sd_event_add_io(event, &conn->io_source, fd, EPOLLIN, on_connection_io, conn);
        if (r >= 0)
                r = sd_event_add_time_relative(event, &conn->timer, CLOCK_MONOTONIC, CONTROL_CONNECTION_TIMEOUT_USEC,
                                               10 * USEC_PER_MSEC, on_connection_timeout, conn);
        if (r < 0)
                connection_free(conn);
        return r;
}

static int on_resume(sd_event_source *s, uint64_t usec, void *userdata) {
        Control *c = userdata;

        c->resume_timer = sd_event_source_disable_unref(c->resume_timer);
        (void) sd_event_source_set_enabled(c->listen_source, SD_EVENT_ON);
        return 0;
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Control *c = userdata;
        _cleanup_(closep) int conn_fd = -1;
        struct ucred peer = {};
        socklen_t len = sizeof(peer);
        size_t slot = 0;
        int r;

        conn_fd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (conn_fd < 0) {
                if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
                        return 0;
                /* Out of descriptors or memory: the pending connection would wake the loop at once
                 * again. Pause instead of spinning. */
                log_warning_errno(errno, "Failed to accept a control connection: %m, not listening for 1s");
                (void) sd_event_source_set_enabled(s, SD_EVENT_OFF);
                if (!c->resume_timer &&
                    sd_event_add_time_relative(c->event, &c->resume_timer, CLOCK_MONOTONIC, USEC_PER_SEC,
                                               10 * USEC_PER_MSEC, on_resume, c) < 0)
                        (void) sd_event_source_set_enabled(s, SD_EVENT_ON);
                return 0;
        }

        if (getsockopt(conn_fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) < 0) {
                log_warning_errno(errno, "Failed to identify a control client: %m, closing its connection");
                return 0;
        }
        /* The socket's mode keeps others out already; this holds even if someone relaxes it. */
        if (peer.uid != 0 && peer.uid != geteuid()) {
                log_notice("Refused a control connection from PID %d (UID %u): only root may control healthdog",
                           (int) peer.pid, (unsigned) peer.uid);
                send_error_now(conn_fd, "permission denied: only root may control healthdog");
                return 0;
        }

        while (slot < CONTROL_CONNECTIONS_MAX && c->connections[slot])
                slot++;
        if (slot == CONTROL_CONNECTIONS_MAX) {
                log_debug("Control connection from PID %d refused: %d connections are open", (int) peer.pid,
                          CONTROL_CONNECTIONS_MAX);
                send_error_now(conn_fd, "busy: too many control connections, try again");
                return 0;
        }

        r = connection_new(c, TAKE_FD(conn_fd), &peer, slot);
        if (r < 0)
                log_warning_errno(r, "Failed to serve a control connection: %m, ignoring");
        return 0;
}

int control_new(Control **ret, sd_event *event, const char *runtime_directory, const ControlOps *ops,
                void *userdata) {
        _cleanup_(freep) Control *c = calloc(1, sizeof(Control));
        _cleanup_(freep) char *path = NULL;
        _cleanup_(closep) int fd = -1;
        SocketAddress sa;
        socklen_t sa_len;
        struct stat st;
        int r;

        if (!c)
                return -ENOMEM;
        r = control_socket_path(runtime_directory, &path);
        if (r < 0)
                return r;
        r = socket_address(path, &sa, &sa_len);
        if (r < 0)
                return r;
        r = mkdir_p(runtime_directory, 0755);
        if (r < 0)
                return r;

        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        /* A socket left by a crashed run refuses connections and makes bind() fail: replace it. */
        if (unlink(path) < 0 && errno != ENOENT)
                return -errno;
        if (bind(fd, &sa.sa, sa_len) < 0)
                return -errno;
        /* Nobody can connect before listen(): the mode is tightened in between. */
        if (chmod(path, 0600) < 0 || stat(path, &st) < 0) {
                r = -errno;
                (void) unlink(path);
                return r;
        }
        if (listen(fd, 16) < 0) {
                r = -errno;
                (void) unlink(path);
                return r;
        }

        *c = (Control) { .event = event, .ops = ops, .userdata = userdata, .fd = -1, .dev = st.st_dev, .ino = st.st_ino };
        r = sd_event_add_io(event, &c->listen_source, fd, EPOLLIN, on_accept, c);
        if (r < 0) {
                (void) unlink(path);
                return r;
        }
        c->fd = TAKE_FD(fd);
        c->path = TAKE_PTR(path);
        *ret = TAKE_PTR(c);
        return 0;
}

Control *control_free(Control *c) {
        struct stat st;

        if (!c)
                return NULL;
        for (size_t i = 0; i < CONTROL_CONNECTIONS_MAX; i++)
                connection_free(c->connections[i]);
        sd_event_source_disable_unref(c->listen_source);
        sd_event_source_disable_unref(c->resume_timer);
        /* A daemon started after this one may have replaced the socket: leave that one alone. */
        if (c->path && stat(c->path, &st) >= 0 && st.st_dev == c->dev && st.st_ino == c->ino)
                (void) unlink(c->path);
        closep(&c->fd);
        free(c->path);
        free(c);
        return NULL;
}

/* ---- the client */

int control_call(const char *socket_path, const char *request, char **reply) {
        usec_t deadline = now(CLOCK_MONOTONIC) + CONTROL_CALL_TIMEOUT_USEC;
        struct timeval tv = { .tv_sec = CONTROL_CALL_TIMEOUT_USEC / USEC_PER_SEC };
        _cleanup_(freep) char *line = NULL, *buf = NULL;
        _cleanup_(closep) int fd = -1;
        size_t len = 0, cap = 0, sent = 0;
        SocketAddress sa;
        socklen_t sa_len;
        int r;

        r = socket_address(socket_path, &sa, &sa_len);
        if (r < 0)
                return r;
        if (asprintf(&line, "%s\n", request) < 0)
                return -ENOMEM;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        /* Bounds connect() when the daemon's backlog is full, and the send. */
        if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
                return -errno;
        if (connect(fd, &sa.sa, sa_len) < 0)
                return errno == EAGAIN ? -ETIMEDOUT : -errno;

        while (sent < strlen(line)) {
                ssize_t n = send(fd, line + sent, strlen(line) - sent, MSG_NOSIGNAL);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        /* The daemon may answer (busy, permission denied) and close before it
                         * reads anything: the answer is still there to read. */
                        if (errno == EPIPE || errno == ECONNRESET)
                                break;
                        return errno == EAGAIN ? -ETIMEDOUT : -errno;
                }
                sent += (size_t) n;
        }

        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                usec_t t = now(CLOCK_MONOTONIC);
                ssize_t n;

                if (t >= deadline)
                        return -ETIMEDOUT;
                r = poll(&p, 1, (int) ((deadline - t + USEC_PER_MSEC - 1) / USEC_PER_MSEC));
                if (r < 0 && errno != EINTR)
                        return -errno;
                if (r <= 0)
                        continue;

                if (cap - len < 4096) {
                        char *b;
                        if (cap > CONTROL_REPLY_MAX)
                                return -E2BIG;
                        b = realloc(buf, cap * 2 + 4096);
                        if (!b)
                                return -ENOMEM;
                        buf = b;
                        cap = cap * 2 + 4096;
                }
                n = read(fd, buf + len, cap - len - 1);
                if (n < 0) {
                        if (errno == EINTR || errno == EAGAIN)
                                continue;
                        /* What we sent was never read: after the reply that is the end. */
                        if (errno == ECONNRESET && len > 0)
                                break;
                        return -errno;
                }
                if (n == 0)
                        break;
                len += (size_t) n;
        }

        /* The daemon closes after exactly one line. */
        if (len == 0 || buf[len - 1] != '\n')
                return -EPROTO;
        if (len - 1 > CONTROL_REPLY_MAX)
                return -E2BIG;
        buf[len - 1] = '\0';
        *reply = TAKE_PTR(buf);
        return 0;
}

int control_request(const char *socket_path, const char *request, JsonValue **ret) {
        _cleanup_(json_freep) JsonValue *v = NULL;
        _cleanup_(freep) char *reply = NULL;
        const JsonValue *ok;
        int r;

        r = control_call(socket_path, request, &reply);
        if (r < 0)
                return r;
        r = json_parse(reply, &v);
        if (r < 0)
                return r;
        ok = json_get(v, "ok", NULL);
        if (!ok || ok->type != JSON_BOOLEAN)
                return -EBADMSG;
        *ret = TAKE_PTR(v);
        return 0;
}
