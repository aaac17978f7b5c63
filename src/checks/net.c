/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "net.h"
#include "spawn.h"

int net_address_parse(const char *s, NetAddress *ret) {
        NetAddress a = {};

        if (inet_pton(AF_INET, s, &a.in.sin_addr) == 1)
                a.sa.sa_family = AF_INET;
        else if (inet_pton(AF_INET6, s, &a.in6.sin6_addr) == 1)
                a.sa.sa_family = AF_INET6;
        else
                return -EINVAL;
        *ret = a;
        return 0;
}

bool net_address_equal(const NetAddress *a, const NetAddress *b) {
        if (a->sa.sa_family != b->sa.sa_family)
                return false;
        if (a->sa.sa_family == AF_INET)
                return a->in.sin_addr.s_addr == b->in.sin_addr.s_addr;
        if (a->sa.sa_family == AF_INET6)
                return memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, sizeof(struct in6_addr)) == 0;
        return false;
}

char *net_address_format(const NetAddress *a, bool with_port, char *buf, size_t size) {
        char ip[INET6_ADDRSTRLEN] = "?";
        bool v6 = a->sa.sa_family == AF_INET6;

        (void) inet_ntop(a->sa.sa_family, v6 ? (const void *) &a->in6.sin6_addr : (const void *) &a->in.sin_addr,
                         ip, sizeof(ip));
        if (!with_port)
                snprintf(buf, size, "%s", ip);
        else
                snprintf(buf, size, "%s%s%s:%u", v6 ? "[" : "", ip, v6 ? "]" : "",
                         ntohs(v6 ? a->in6.sin6_port : a->in.sin_port));
        return buf;
}

char *net_format_host_port(char *buf, size_t size, const char *host, unsigned port) {
        bool v6 = strchr(host, ':');

        snprintf(buf, size, "%s%s%s:%u", v6 ? "[" : "", host, v6 ? "]" : "", port);
        return buf;
}

char *net_format_decimal(char *buf, size_t size, usec_t u, usec_t unit, unsigned digits, const char *suffix) {
        /* In fixed point: a %f in a run's detail kept libc's floating-point formatting (a 64 kB
         * window of its code) resident for this alone. */
        unsigned long long scale = digits >= 2 ? 100 : digits == 1 ? 10 : 1;
        unsigned long long v = (u * scale + unit / 2) / unit;

        if (scale == 1)
                snprintf(buf, size, "%llu%s", v, suffix);
        else
                snprintf(buf, size, "%llu.%0*llu%s", v / scale, scale == 100 ? 2 : 1, v % scale, suffix);
        return buf;
}

char *net_format_latency(char *buf, size_t size, usec_t u) {
        /* Loopback answers in tens of microseconds: keep two digits there, fewer further up. */
        if (u < USEC_PER_MSEC)
                return net_format_decimal(buf, size, u, USEC_PER_MSEC, 2, "ms");
        if (u < 10 * USEC_PER_MSEC)
                return net_format_decimal(buf, size, u, USEC_PER_MSEC, 1, "ms");
        if (u < USEC_PER_SEC)
                snprintf(buf, size, "%llums", (unsigned long long) (u / USEC_PER_MSEC));
        else
                net_format_decimal(buf, size, u, USEC_PER_SEC, 2, "s");
        return buf;
}

bool net_host_is_valid(const char *s) {
        NetAddress a;
        size_t label = 0, len = strlen(s);

        if (net_address_parse(s, &a) >= 0)
                return true;
        if (len == 0 || len > 253 || s[0] == '.')
                return false;
        for (const char *p = s; *p; p++) {
                if (*p == '.') {
                        /* Empty labels ("a..b") are invalid; one trailing dot (a FQDN) is fine. */
                        if (label == 0)
                                return false;
                        label = 0;
                        continue;
                }
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      *p == '-' || *p == '_'))
                        return false;
                if (++label > 63 || (label == 1 && *p == '-'))
                        return false;
        }
        return true;
}

static int parse_host(const ConfigKey *key, const char *text, void *field, char **reason) {
        _cleanup_(freep) char *copy = strdup(text);
        size_t len = strlen(text);
        NetAddress a;
        char **s = field;

        if (!copy)
                return -ENOMEM;
        /* "[::1]", as in URLs, is accepted and stored without its brackets. */
        if (len > 2 && copy[0] == '[' && copy[len - 1] == ']') {
                copy[len - 1] = '\0';
                memmove(copy, copy + 1, len - 1);
                if (net_address_parse(copy, &a) < 0 || a.sa.sa_family != AF_INET6) {
                        *reason = strdup("is not an IPv6 address in brackets");
                        return -EINVAL;
                }
        } else if (!net_host_is_valid(copy)) {
                *reason = strdup(strchr(copy, ':') ? "is not a host name or IP address (no port here)"
                                                   : "is not a valid host name or IP address");
                return -EINVAL;
        }
        free(*s);
        *s = TAKE_PTR(copy);
        return 0;
}

static void format_host(FILE *f, const void *field) {
        fputs(strempty(*(char *const *) field), f);
}

static void free_host(void *field) {
        char **s = field;
        *s = (free(*s), NULL);
}

const ConfigType net_config_type_host = { sizeof(char *), parse_host, format_host, free_host };

static int parse_address(const ConfigKey *key, const char *text, void *field, char **reason) {
        if (net_address_parse(text, field) < 0) {
                *reason = strdup("is not an IPv4 or IPv6 address");
                return -EINVAL;
        }
        return 0;
}

static void format_address(FILE *f, const void *field) {
        const NetAddress *a = field;
        char buf[NET_ADDRESS_STR_MAX];

        if (a->sa.sa_family != 0)
                fputs(net_address_format(a, false, buf, sizeof(buf)), f);
}

const ConfigType net_config_type_address = { sizeof(NetAddress), parse_address, format_address, NULL };

/* ---- Name resolution ----
 *
 * libsystemd 252 has no public sd-resolve and glibc's getaddrinfo_a() runs lookups in threads
 * that cannot be stopped. A forked child running plain getaddrinfo() can: a timeout kills it
 * with SIGKILL, whatever NSS module or DNS server it is stuck on, and the loop only ever sees a
 * pipe. The child writes its whole reply in one write() smaller than PIPE_BUF, so the reply is
 * either complete or absent. Forking costs a few hundred microseconds per lookup, which checks
 * running every few seconds can afford; IP literals never get here. */

typedef struct NetResolveReply {
        int32_t gai_error; /* 0, or an EAI_* code */
        int32_t sys_errno; /* with EAI_SYSTEM */
        uint32_t n;
        NetAddress addresses[NET_ADDRESSES_MAX];
} NetResolveReply;

struct NetResolve {
        net_resolve_handler_t handler; /* NULL once reported or abandoned */
        void *userdata;
        pid_t pid;
        int fd;                        /* read end of the reply pipe */
        sd_event_source *io;
        sd_event_source *child;        /* floating: the event loop owns it; it owns this */
        size_t len;
        NetResolveReply reply;
};

_noreturn_ static void resolve_child(const char *name, int family, int fd, pid_t parent) {
        struct addrinfo hints = { .ai_family = family, .ai_socktype = SOCK_STREAM }, *res = NULL;
        NetResolveReply reply = {};
        int r;

        /* Nobody would read the answer of an orphan: die with the daemon, not after a slow lookup. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                _exit(EXIT_FAILURE);
        /* A lookup is the probe's work: never at healthdog's realtime priority. */
        spawn_reset_scheduling();
        /* Hold nothing of the daemon's (watchdog device, other checks' sockets) while stuck. */
        if (fd != 3 && dup2(fd, 3) < 0)
                _exit(EXIT_FAILURE);
        (void) close_range(4, ~0U, 0);

        r = getaddrinfo(name, NULL, &hints, &res);
        if (r != 0) {
                reply.gai_error = r;
                reply.sys_errno = r == EAI_SYSTEM ? errno : 0;
        }
        for (const struct addrinfo *ai = r == 0 ? res : NULL; ai && reply.n < NET_ADDRESSES_MAX; ai = ai->ai_next) {
                NetAddress a = {};
                bool seen = false;

                if (ai->ai_family == AF_INET && ai->ai_addrlen >= sizeof(struct sockaddr_in))
                        memcpy(&a.in, ai->ai_addr, sizeof(struct sockaddr_in));
                else if (ai->ai_family == AF_INET6 && ai->ai_addrlen >= sizeof(struct sockaddr_in6))
                        memcpy(&a.in6, ai->ai_addr, sizeof(struct sockaddr_in6));
                else
                        continue;
                for (uint32_t i = 0; i < reply.n; i++)
                        seen = seen || net_address_equal(&reply.addresses[i], &a);
                if (!seen)
                        reply.addresses[reply.n++] = a;
        }
        if (r == 0 && reply.n == 0)
                reply.gai_error = EAI_NODATA;

        _exit(write(3, &reply, sizeof(reply)) == (ssize_t) sizeof(reply) ? EXIT_SUCCESS : EXIT_FAILURE);
}

static void resolve_close(NetResolve *r) {
        r->io = sd_event_source_disable_unref(r->io);
        if (r->fd >= 0)
                r->fd = (close(r->fd), -1);
}

static void resolve_destroy(void *userdata) {
        NetResolve *r = userdata;

        resolve_close(r);
        free(r);
}

/* Reads what is there; returns true at EOF or on an error (nothing more will come). */
static bool resolve_read(NetResolve *r) {
        for (;;) {
                char scratch[64];
                size_t room = sizeof(r->reply) - r->len;
                ssize_t k = room > 0 ? read(r->fd, (char *) &r->reply + r->len, room)
                                     : read(r->fd, scratch, sizeof(scratch));
                if (k > 0) {
                        if (room > 0)
                                r->len += (size_t) k;
                        continue;
                }
                if (k < 0 && errno == EINTR)
                        continue;
                return !(k < 0 && errno == EAGAIN);
        }
}

static void resolve_report(NetResolve *r, const siginfo_t *si) {
        net_resolve_handler_t handler = r->handler;
        char message[128];

        resolve_close(r);
        if (!handler)
                return;
        r->handler = NULL;

        if (r->len != sizeof(r->reply)) {
                if (si && si->si_code != CLD_EXITED)
                        snprintf(message, sizeof(message), "resolver process killed by signal %s",
                                 sigabbrev_np(si->si_status) ?: "?");
                else
                        snprintf(message, sizeof(message), "resolver process failed");
                handler(NULL, 0, message, r->userdata);
        } else if (r->reply.gai_error != 0)
                handler(NULL, 0,
                        r->reply.gai_error == EAI_SYSTEM ? strerror(r->reply.sys_errno)
                                                         : gai_strerror(r->reply.gai_error),
                        r->userdata);
        else
                handler(r->reply.addresses, r->reply.n <= NET_ADDRESSES_MAX ? r->reply.n : NET_ADDRESSES_MAX, NULL,
                        r->userdata);
}

static int on_resolve_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        NetResolve *r = userdata;

        if (resolve_read(r))
                resolve_report(r, NULL);
        return 0;
}

static int on_resolve_child(sd_event_source *s, const siginfo_t *si, void *userdata) {
        NetResolve *r = userdata;

        /* The child is gone, so its reply (if any) is all in the pipe. */
        if (r->fd >= 0)
                (void) resolve_read(r);
        resolve_report(r, si);
        /* Frees the floating source, and with it r (destroy callback). */
        sd_event_source_unref(s);
        return 0;
}

int net_resolve(sd_event *event, const char *name, int family, net_resolve_handler_t handler, void *userdata,
                NetResolve **ret) {
        _cleanup_(closep) int rd = -1, wr = -1;
        pid_t parent = getpid(), pid;
        NetResolve *r;
        int pipefd[2], k;

        if (pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) < 0)
                return -errno;
        rd = pipefd[0];
        wr = pipefd[1];

        r = calloc(1, sizeof(NetResolve));
        if (!r)
                return -ENOMEM;
        r->fd = -1;

        pid = fork();
        if (pid < 0) {
                free(r);
                return -errno;
        }
        if (pid == 0)
                resolve_child(name, family, wr, parent);

        r->pid = pid;
        r->fd = TAKE_FD(rd);
        r->handler = handler;
        r->userdata = userdata;

        k = sd_event_add_child(event, &r->child, pid, WEXITED, on_resolve_child, r);
        if (k < 0) {
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                resolve_destroy(r);
                return k;
        }
        /* From here on the child source owns r: it stays until the process is reaped, even when
         * the caller abandons the lookup. */
        (void) sd_event_source_set_destroy_callback(r->child, resolve_destroy);
        (void) sd_event_source_set_floating(r->child, true);
        sd_event_source_unref(r->child);

        /* Without the io source the reply is still read when the child exits. */
        if (sd_event_add_io(event, &r->io, r->fd, EPOLLIN, on_resolve_io, r) < 0)
                r->io = NULL;

        *ret = r;
        return 0;
}

NetResolve *net_resolve_cancel(NetResolve *r) {
        if (!r)
                return NULL;
        r->handler = NULL;
        /* The pid stays ours (a zombie at worst) until the child source reaps it. */
        (void) kill(r->pid, SIGKILL);
        resolve_close(r);
        return NULL;
}

/* ---- Connecting ---- */

struct NetConnect {
        sd_event *event;
        char *host;
        uint16_t port;
        NetResolve *resolve;
        NetAddress addresses[NET_ADDRESSES_MAX];
        size_t n, next;     /* next: the address to try after the current one */
        int fd;
        sd_event_source *io;
        sd_event_source *begin;
        usec_t started;     /* of the current connect() */
        int error;          /* errno of the last address that failed */
        net_connect_handler_t handler;
        void *userdata;
};

static void connect_close(NetConnect *nc) {
        nc->io = sd_event_source_disable_unref(nc->io);
        if (nc->fd >= 0)
                nc->fd = (close(nc->fd), -1);
}

/* Hands the result over; the handler may free nc, so nothing touches it afterwards. */
static void connect_report(NetConnect *nc, int fd, const NetAddress *peer, usec_t elapsed, const char *error) {
        net_connect_handler_t handler = nc->handler;

        nc->handler = NULL;
        handler(fd, peer, elapsed, error, nc->userdata);
}

static int on_connect_io(sd_event_source *s, int fd, uint32_t revents, void *userdata);
static void connect_finish(NetConnect *nc);
static void connect_next(NetConnect *nc);

/* Starts connect() to the next address; -errno when that address failed at once. */
static int connect_one(NetConnect *nc) {
        NetAddress *a = &nc->addresses[nc->next++];
        socklen_t len = a->sa.sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
        int r;

        if (a->sa.sa_family == AF_INET6)
                a->in6.sin6_port = htons(nc->port);
        else
                a->in.sin_port = htons(nc->port);

        nc->fd = socket(a->sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
        if (nc->fd < 0)
                return -errno;
        nc->started = now(CLOCK_MONOTONIC);
        if (connect(nc->fd, &a->sa, len) < 0 && errno != EINPROGRESS) {
                r = -errno;
                connect_close(nc);
                return r;
        }
        /* To a local peer the handshake is over by the time connect() returns (the kernel runs
         * both ends in this call): finish now, without a trip through the event loop. Else the
         * socket becomes writable once the handshake is over, one way or the other. */
        if (poll(&(struct pollfd) { .fd = nc->fd, .events = POLLOUT }, 1, 0) > 0) {
                connect_finish(nc);
                return 0;
        }
        r = sd_event_add_io(nc->event, &nc->io, nc->fd, EPOLLOUT, on_connect_io, nc);
        if (r < 0)
                connect_close(nc);
        return r;
}

static void connect_next(NetConnect *nc) {
        char message[128];

        while (nc->next < nc->n) {
                int r = connect_one(nc);
                if (r >= 0)
                        return;
                nc->error = -r;
        }
        if (nc->n > 1)
                snprintf(message, sizeof(message), "%s (tried %zu addresses)", strerror(nc->error), nc->n);
        else
                snprintf(message, sizeof(message), "%s", strerror(nc->error));
        connect_report(nc, -1, NULL, 0, message);
}

/* The handshake with the current address is over: report the connection, or try the next one. */
static void connect_finish(NetConnect *nc) {
        NetAddress peer = nc->addresses[nc->next - 1];
        usec_t elapsed = now(CLOCK_MONOTONIC) - nc->started;
        socklen_t len = sizeof(int);
        int error = 0;

        if (getsockopt(nc->fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0)
                error = errno;
        if (error != 0) {
                nc->error = error;
                connect_close(nc);
                connect_next(nc);
                return;
        }
        nc->io = sd_event_source_disable_unref(nc->io);
        connect_report(nc, TAKE_FD(nc->fd), &peer, elapsed, NULL);
}

static int on_connect_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        connect_finish(userdata);
        return 0;
}

static void on_resolved(const NetAddress *addresses, size_t n, const char *error, void *userdata) {
        NetConnect *nc = userdata;
        char message[160];

        nc->resolve = NULL;
        if (error) {
                snprintf(message, sizeof(message), "cannot resolve: %s", error);
                connect_report(nc, -1, NULL, 0, message);
                return;
        }
        memcpy(nc->addresses, addresses, n * sizeof(NetAddress));
        nc->n = n;
        connect_next(nc);
}

/* Everything starts from the loop, so that the handler is never called from net_connect(). */
static int on_connect_begin(sd_event_source *s, void *userdata) {
        NetConnect *nc = userdata;
        char message[128];
        int r;

        nc->begin = sd_event_source_disable_unref(nc->begin);
        if (net_address_parse(nc->host, &nc->addresses[0]) >= 0) {
                nc->n = 1;
                connect_next(nc);
                return 0;
        }
        r = net_resolve(nc->event, nc->host, AF_UNSPEC, on_resolved, nc, &nc->resolve);
        if (r < 0) {
                snprintf(message, sizeof(message), "cannot start the resolver: %s", strerror(-r));
                connect_report(nc, -1, NULL, 0, message);
        }
        return 0;
}

int net_connect(sd_event *event, const char *host, uint16_t port, net_connect_handler_t handler, void *userdata,
                NetConnect **ret) {
        NetConnect *nc = calloc(1, sizeof(NetConnect));
        int r;

        if (!nc)
                return -ENOMEM;
        nc->fd = -1;
        nc->event = sd_event_ref(event);
        nc->port = port;
        nc->handler = handler;
        nc->userdata = userdata;
        nc->host = strdup(host);
        if (!nc->host) {
                net_connect_free(nc);
                return -ENOMEM;
        }
        r = sd_event_add_defer(event, &nc->begin, on_connect_begin, nc);
        if (r < 0) {
                net_connect_free(nc);
                return r;
        }
        *ret = nc;
        return 0;
}

NetConnect *net_connect_free(NetConnect *nc) {
        if (!nc)
                return NULL;
        net_resolve_cancel(nc->resolve);
        connect_close(nc);
        sd_event_source_disable_unref(nc->begin);
        sd_event_unref(nc->event);
        free(nc->host);
        free(nc);
        return NULL;
}

int net_wait(sd_event *event, sd_event_source **io, int fd, uint32_t events, sd_event_io_handler_t handler,
             void *userdata) {
        if (*io)
                return sd_event_source_set_io_events(*io, events);
        return sd_event_add_io(event, io, fd, events, handler, userdata);
}
