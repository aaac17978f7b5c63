/* SPDX-License-Identifier: MIT */
#include <sys/socket.h>
#include <sys/un.h>

#include "check.h"
#include "net.h"

/* [check.NAME] type=unix: a unix stream socket accepts a connection; optionally a line is sent
 * and the reply must start with an expected prefix (a daemon's own "PING" -> "PONG"). */
typedef struct UnixSettings {
        char *path;
        char *send;   /* NULL: send nothing */
        char *expect; /* NULL: connecting (and sending) is enough */
} UnixSettings;

#define UNIX_PATH_MAX (sizeof(((struct sockaddr_un *) NULL)->sun_path) - 1)

static int parse_socket_path(const ConfigKey *key, const char *text, void *field, char **reason) {
        size_t len = strlen(text);

        if (len > UNIX_PATH_MAX)
                return asprintf(reason, "is too long for a unix socket (%zu bytes, at most %zu)", len,
                                UNIX_PATH_MAX) < 0 ? -ENOMEM : -ENAMETOOLONG;
        return config_type_path.parse(key, text, field, reason);
}

static void format_socket_path(FILE *f, const void *field) {
        fputs(strempty(*(char *const *) field), f);
}

static void free_socket_path(void *field) {
        char **s = field;
        *s = (free(*s), NULL);
}

static const ConfigType unix_config_type_socket_path = {
        sizeof(char *), parse_socket_path, format_socket_path, free_socket_path,
};

static const ConfigKey unix_keys[] = {
        { "path",   &unix_config_type_socket_path, offsetof(UnixSettings, path), .required = true },
        { "send",   &config_type_string,           offsetof(UnixSettings, send) },
        { "expect", &config_type_string,           offsetof(UnixSettings, expect) },
        {}
};

/* What is read beyond the expected prefix, to show the reply in the detail. */
#define UNIX_REPLY_EXTRA 256
/* How much of the reply the detail shows. */
#define UNIX_REPLY_SHOWN 80

typedef struct UnixProbe {
        int fd;
        sd_event_source *io;
        char *out;       /* the line to send, newline included */
        size_t out_len, sent;
        size_t len, size;
        char *reply;     /* size bytes; the read is bounded by it */
} UnixProbe;

static void unix_probe_free(void *probe) {
        UnixProbe *p = probe;

        sd_event_source_disable_unref(p->io);
        if (p->fd >= 0)
                (void) close(p->fd);
        free(p->out);
        free(p->reply);
        free(p);
}

static void unix_judge(Check *c, UnixProbe *p) {
        const UnixSettings *s = check_settings(c);
        size_t elen = strlen(s->expect), shown = p->len;
        char reply[UNIX_REPLY_SHOWN * 2], took[NET_LATENCY_MAX];
        bool passed = p->len >= elen && memcmp(p->reply, s->expect, elen) == 0;

        for (size_t i = 0; i < p->len; i++)
                if (p->reply[i] == '\n' || p->reply[i] == '\r') {
                        shown = i;
                        break;
                }
        sanitize_line(reply, shown > UNIX_REPLY_SHOWN ? UNIX_REPLY_SHOWN + 1 : sizeof(reply), p->reply, shown);
        net_format_latency(took, sizeof(took), now(CLOCK_MONOTONIC) - c->started);
        if (passed)
                check_done(c, true, "%s replied \"%s\" in %s", s->path, reply, took);
        else if (p->len == 0)
                check_done(c, false, "%s closed the connection without a reply (expected \"%s\")", s->path, s->expect);
        else
                check_done(c, false, "%s replied \"%s\" (expected \"%s\")", s->path, reply, s->expect);
}

static int on_unix_io(sd_event_source *source, int fd, uint32_t revents, void *userdata);

/* Waits in the event loop for the socket to become ready for events. */
static void unix_wait(Check *c, UnixProbe *p, uint32_t events) {
        const UnixSettings *s = check_settings(c);
        int r = net_wait(c->event, &p->io, p->fd, events, on_unix_io, c);

        if (r < 0)
                check_done(c, false, "%s: cannot wait for the %s: %s", s->path,
                           events == EPOLLIN ? "reply" : "socket", strerror(-r));
}

static void unix_send(Check *c, UnixProbe *p) {
        const UnixSettings *s = check_settings(c);
        char took[NET_LATENCY_MAX];

        while (p->sent < p->out_len) {
                ssize_t k = send(p->fd, p->out + p->sent, p->out_len - p->sent, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0 && errno == EAGAIN) {
                        unix_wait(c, p, EPOLLOUT);
                        return;
                }
                if (k < 0 && (errno == EPIPE || errno == ECONNRESET)) {
                        check_done(c, false, "%s closed the connection before taking the line", s->path);
                        return;
                }
                if (k < 0) {
                        check_done(c, false, "%s: sending failed: %s", s->path, strerror(errno));
                        return;
                }
                p->sent += (size_t) k;
        }
        if (!s->expect) {
                check_done(c, true, "%s connected and took the line in %s", s->path,
                           net_format_latency(took, sizeof(took), now(CLOCK_MONOTONIC) - c->started));
                return;
        }
        unix_wait(c, p, EPOLLIN);
}

static void unix_receive(Check *c, UnixProbe *p) {
        const UnixSettings *s = check_settings(c);
        size_t elen = strlen(s->expect);

        for (;;) {
                ssize_t k = read(p->fd, p->reply + p->len, p->size - p->len);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0 && errno == EAGAIN)
                        return;
                /* A peer that closes without reading what was sent resets the connection: for
                 * the verdict, that is the end of its reply like any close. */
                if (k < 0 && errno == ECONNRESET)
                        k = 0;
                if (k < 0) {
                        check_done(c, false, "%s: reading the reply failed: %s", s->path, strerror(errno));
                        return;
                }
                p->len += (size_t) k;
                /* Enough to decide: the prefix is complete, a line ended, the peer closed, or the
                 * bound is reached. A peer that keeps the connection open is not waited for. */
                if (k == 0 || p->len >= elen || memchr(p->reply, '\n', p->len) || p->len == p->size) {
                        unix_judge(c, p);
                        return;
                }
        }
}

static int on_unix_io(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        Check *c = userdata;
        UnixProbe *p = c->probe;

        if (p->sent < p->out_len)
                unix_send(c, p);
        else
                unix_receive(c, p);
        return 0;
}

static int unix_start(Check *c) {
        const UnixSettings *s = check_settings(c);
        UnixProbe *p = calloc(1, sizeof(UnixProbe));
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char took[NET_LATENCY_MAX];

        if (!p)
                return -ENOMEM;
        p->fd = -1;
        c->probe = p; /* the core's from here on, also when this fails or reports at once */
        if (s->send) {
                if (asprintf(&p->out, "%s\n", s->send) < 0) {
                        p->out = NULL;
                        return -ENOMEM;
                }
                p->out_len = strlen(p->out);
        }
        if (s->expect) {
                p->size = strlen(s->expect) + UNIX_REPLY_EXTRA;
                p->reply = malloc(p->size);
                if (!p->reply)
                        return -ENOMEM;
        }

        p->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (p->fd < 0)
                return -errno;
        /* The path length was checked when the config was loaded. */
        memcpy(sa.sun_path, s->path, strlen(s->path));
        /* Unix sockets connect at once or not at all: EAGAIN means the listen backlog is full,
         * there is no EINPROGRESS to wait for. */
        if (connect(p->fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                if (errno == EAGAIN)
                        check_done(c, false, "%s: not accepting connections (listen backlog full)", s->path);
                else
                        check_done(c, false, "%s: %s", s->path, strerror(errno));
                return 0;
        }
        if (!s->send && !s->expect) {
                check_done(c, true, "%s connected in %s", s->path,
                           net_format_latency(took, sizeof(took), now(CLOCK_MONOTONIC) - c->started));
                return 0;
        }

        /* A fresh connection takes a line at once: send it now, wait only for the reply. */
        if (s->send)
                unix_send(c, p);
        else
                unix_wait(c, p, EPOLLIN);
        return 0;
}

const CheckKind check_kind_unix = {
        .name = "unix",
        .settings_size = sizeof(UnixSettings),
        .keys = unix_keys,
        .start = unix_start,
        .probe_free = unix_probe_free,
};
