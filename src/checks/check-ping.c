/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/icmp6.h>
#include <sys/socket.h>
#include <linux/icmp.h>

#include "check.h"
#include "ifname.h"
#include "net.h"

/* [check.NAME] type=ping: count ICMP echo requests to an address, spacing apart; it passes when
 * no more than max-loss percent of them go without a reply within reply-timeout.
 *
 * Only address literals: a check that a watchdog acts on must not fail because DNS is down, and
 * resolving would need a helper process. */
typedef struct PingTarget {
        union {
                struct sockaddr sa;
                struct sockaddr_in in;
                struct sockaddr_in6 in6;
        };
        socklen_t len;
} PingTarget;

/* The host as written and its address, parsed once when the config is loaded. */
typedef struct PingHost {
        char *text;
        PingTarget target;
} PingHost;

typedef struct PingSettings {
        PingHost host;
        unsigned count;
        usec_t spacing;
        usec_t reply_timeout;
        unsigned max_loss;      /* percent */
} PingSettings;


/* Parses an IPv4 or IPv6 address, the latter with an optional %INTERFACE zone, which link-local
 * addresses need. With resolve, the zone is looked up (at run time: interfaces come and go).
 * Returns 0, or -errno with *reason set to a static explanation. */
static int ping_parse_host(const char *text, bool resolve, PingTarget *ret, const char **reason) {
        char address[INET6_ADDRSTRLEN];
        const char *zone = strchr(text, '%');
        size_t len = zone ? (size_t) (zone - text) : strlen(text);
        PingTarget t = {};

        if (len >= sizeof(address))
                goto not_an_address;
        memcpy(address, text, len);
        address[len] = '\0';

        if (inet_pton(AF_INET, address, &t.in.sin_addr) == 1) {
                in_addr_t a = ntohl(t.in.sin_addr.s_addr);

                if (zone) {
                        *reason = "has a %zone, which only IPv6 link-local addresses take";
                        return -EINVAL;
                }
                if (a == INADDR_ANY || a == INADDR_BROADCAST || IN_MULTICAST(a)) {
                        *reason = "is not a unicast address";
                        return -EINVAL;
                }
                t.in.sin_family = AF_INET;
                t.len = sizeof(t.in);
        } else if (inet_pton(AF_INET6, address, &t.in6.sin6_addr) == 1) {
                const struct in6_addr *a = &t.in6.sin6_addr;

                if (IN6_IS_ADDR_UNSPECIFIED(a) || IN6_IS_ADDR_MULTICAST(a)) {
                        *reason = "is not a unicast address";
                        return -EINVAL;
                }
                if (IN6_IS_ADDR_V4MAPPED(a)) {
                        *reason = "is an IPv4-mapped address: write the IPv4 address itself";
                        return -EINVAL;
                }
                if (IN6_IS_ADDR_LINKLOCAL(a) && !zone) {
                        *reason = "is link-local: name the interface too, as in fe80::1%eth0";
                        return -EINVAL;
                }
                if (zone && !IN6_IS_ADDR_LINKLOCAL(a)) {
                        *reason = "has a %zone, which only IPv6 link-local addresses take";
                        return -EINVAL;
                }
                if (zone && !ifname_valid(zone + 1)) {
                        *reason = "has a %zone that is not an interface name";
                        return -EINVAL;
                }
                if (zone && resolve) {
                        t.in6.sin6_scope_id = if_nametoindex(zone + 1);
                        if (t.in6.sin6_scope_id == 0) {
                                *reason = "names an interface that does not exist";
                                return -ENODEV;
                        }
                }
                t.in6.sin6_family = AF_INET6;
                t.len = sizeof(t.in6);
        } else
                goto not_an_address;

        if (ret)
                *ret = t;
        return 0;

not_an_address:
        *reason = "is not an IPv4 or IPv6 address (host names are not resolved)";
        return -EINVAL;
}

static int parse_host(const ConfigKey *key, const char *text, void *field, char **reason) {
        PingHost *h = field;
        PingTarget target;
        const char *why;
        int r = ping_parse_host(text, false, &target, &why);

        if (r < 0) {
                *reason = strdup(why);
                return r;
        }
        r = config_type_string.parse(key, text, &h->text, reason);
        if (r >= 0)
                h->target = target;
        return r;
}

static void format_host(FILE *f, const void *field) {
        fputs(strempty(((const PingHost *) field)->text), f);
}

static void free_host(void *field) {
        PingHost *h = field;
        h->text = (free(h->text), NULL);
}

static const ConfigType ping_type_host = { sizeof(PingHost), parse_host, format_host, free_host };

static const ConfigKey ping_keys[] = {
        { "host",          &ping_type_host,       offsetof(PingSettings, host), .required = true },
        { "count",         &config_type_unsigned, offsetof(PingSettings, count), "3", .min = 1, .max = 100 },
        { "spacing",       &config_type_duration, offsetof(PingSettings, spacing), "200ms",
          .min = 10 * USEC_PER_MSEC, .max = USEC_PER_MINUTE },
        { "reply-timeout", &config_type_duration, offsetof(PingSettings, reply_timeout), "1s",
          .min = 10 * USEC_PER_MSEC, .max = USEC_PER_MINUTE },
        /* Up to 99: a check that cannot fail is a mistake, not a setting. */
        { "max-loss",      &config_type_unsigned, offsetof(PingSettings, max_loss), "50", .min = 0, .max = 99 },
        {}
};

static void ping_verify(const CheckConfig *c, ConfigErrors *errors) {
        const PingSettings *s = c->settings;
        usec_t need = s->count * s->spacing + s->reply_timeout;
        char a[DURATION_MAX], b[DURATION_MAX], d[DURATION_MAX], n[DURATION_MAX];

        /* The probe takes up to (count - 1) x spacing + reply-timeout; one more spacing leaves
         * room for a slow event loop, so the loss is reported rather than "timed out". */
        if (c->timeout < need)
                config_errors_add(errors, c->file, c->line,
                                  "timeout= (%s) in [check.%s] is too short for count x spacing + reply-timeout (%u x %s + %s = %s)",
                                  format_duration(a, sizeof(a), c->timeout), c->name, s->count,
                                  format_duration(b, sizeof(b), s->spacing),
                                  format_duration(d, sizeof(d), s->reply_timeout),
                                  format_duration(n, sizeof(n), need));
}

/* Our payload after the 8-byte ICMP header: the run's cookie, so that replies to someone else's
 * echo (raw sockets see them all) or to an earlier run do not count. */
#define PING_PAYLOAD 16
#define PING_PACKET (8 + PING_PAYLOAD)

typedef enum PingEchoState {
        PING_ECHO_UNSENT,
        PING_ECHO_SEND_FAILED,
        PING_ECHO_WAITING,
        PING_ECHO_ANSWERED,
        PING_ECHO_LATE,         /* answered after reply-timeout: lost all the same */
} PingEchoState;

typedef struct PingEcho {
        PingEchoState state;
        usec_t sent;            /* CLOCK_MONOTONIC */
} PingEcho;

typedef struct PingProbe {
        int fd;
        bool raw;               /* a raw socket: every ICMP reply on the host arrives, ours have our id */
        sd_event_source *io;
        sd_event_source *timer; /* the next echo, then the last reply's deadline */
        PingTarget target;
        uint16_t id;
        uint8_t cookie[PING_PAYLOAD];
        usec_t start;           /* when the first echo went out: echo i is due at start + i x spacing */
        usec_t deadline;        /* the last echo's: set once every echo is out */
        unsigned n_sent;        /* echoes sent or tried */
        unsigned n_answered, n_late, n_resolved;
        usec_t rtt_sum;
        int send_error;         /* the last failed send's errno, 0 if none */
        PingEcho echoes[];
} PingProbe;

static void ping_probe_free(void *probe) {
        PingProbe *p = probe;

        sd_event_source_disable_unref(p->io);
        sd_event_source_disable_unref(p->timer);
        if (p->fd >= 0)
                close(p->fd);
        free(p);
}

/* An unprivileged ICMP datagram socket where net.ipv4.ping_group_range lets our group have one
 * (the kernel then picks the id and keeps other processes' replies away from us); a raw socket,
 * which needs CAP_NET_RAW, otherwise. Once the datagram socket was refused, a raw one is tried
 * first (the refused call was one system call more on every run); should the raw one be refused
 * later, the datagram one is asked again. Returns the fd, or -errno. */
static int ping_open(int family, bool *ret_raw) {
        static bool dgram_refused[2];
        bool *refused = &dgram_refused[family == AF_INET6];
        int proto = family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
        int fd, raw_errno;

        if (!*refused) {
                fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
                if (fd >= 0) {
                        *ret_raw = false;
                        return fd;
                }
                if (errno != EACCES && errno != EPERM && errno != EPROTONOSUPPORT)
                        return -errno;
                *refused = true;
        }

        fd = socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
        if (fd < 0) {
                raw_errno = errno;
                if (raw_errno == EACCES || raw_errno == EPERM) {
                        fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
                        if (fd >= 0) {
                                *refused = false;
                                *ret_raw = false;
                                return fd;
                        }
                }
                return -raw_errno;
        }
        /* Only echo replies: not the requests we see going out on loopback, nor every error on
         * the host. Should the filter fail, the checks on every reply still hold. */
        if (family == AF_INET) {
                struct icmp_filter filter = { .data = ~(UINT32_C(1) << ICMP_ECHOREPLY) };
                (void) setsockopt(fd, SOL_RAW, ICMP_FILTER, &filter, sizeof(filter));
        } else {
                struct icmp6_filter filter;
                ICMP6_FILTER_SETBLOCKALL(&filter);
                ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &filter);
                (void) setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof(filter));
        }
        *ret_raw = true;
        return fd;
}

/* The Internet checksum (RFC 1071), in network byte order. */
static uint16_t ping_checksum(const uint8_t *data, size_t len) {
        uint32_t sum = 0;

        for (size_t i = 0; i + 1 < len; i += 2)
                sum += (uint32_t) data[i] << 8 | data[i + 1];
        if (len % 2)
                sum += (uint32_t) data[len - 1] << 8;
        while (sum >> 16)
                sum = (sum & 0xffff) + (sum >> 16);
        return htons((uint16_t) ~sum);
}

static bool ping_is_v4(const PingProbe *p) {
        return p->target.sa.sa_family == AF_INET;
}

static void ping_send(PingProbe *p) {
        unsigned i = p->n_sent++;
        uint8_t packet[PING_PACKET] = {
                ping_is_v4(p) ? ICMP_ECHO : ICMP6_ECHO_REQUEST, 0, 0, 0,
                (uint8_t) (p->id >> 8), (uint8_t) p->id, (uint8_t) (i >> 8), (uint8_t) i,
        };

        memcpy(packet + 8, p->cookie, PING_PAYLOAD);
        /* ICMPv6's checksum covers the source address, which only the kernel knows: it fills it
         * in, as it does for every datagram socket. */
        if (ping_is_v4(p)) {
                uint16_t sum = ping_checksum(packet, sizeof(packet));
                memcpy(packet + 2, &sum, sizeof(sum));
        }

        p->echoes[i].sent = now(CLOCK_MONOTONIC);
        if (sendto(p->fd, packet, sizeof(packet), 0, &p->target.sa, p->target.len) < 0) {
                /* No route, no neighbour, a firewall: that echo is lost, the others may still go. */
                p->echoes[i].state = PING_ECHO_SEND_FAILED;
                p->send_error = errno;
                p->n_resolved++;
        } else
                p->echoes[i].state = PING_ECHO_WAITING;
}

static bool ping_from_target(const PingProbe *p, const PingTarget *from) {
        if (from->sa.sa_family != p->target.sa.sa_family)
                return false;
        if (ping_is_v4(p))
                return from->in.sin_addr.s_addr == p->target.in.sin_addr.s_addr;
        return IN6_ARE_ADDR_EQUAL(&from->in6.sin6_addr, &p->target.in6.sin6_addr);
}

/* Reads every reply waiting in the socket. A reply read at time t counts as having arrived at
 * min(t, latest): when the last deadline's timer and a reply become ready together, the reply
 * was in time. */
static void ping_receive(PingProbe *p, const PingSettings *s, usec_t latest) {
        for (;;) {
                uint8_t buf[512];
                PingTarget from = {};
                socklen_t from_len = sizeof(from);
                ssize_t n = recvfrom(p->fd, buf, sizeof(buf), MSG_DONTWAIT, &from.sa, &from_len);
                const uint8_t *icmp = buf;
                size_t len;
                unsigned seq;
                usec_t t, rtt;

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return; /* EAGAIN: all read; anything else was a one-off socket error */
                }
                t = now(CLOCK_MONOTONIC);
                if (t > latest)
                        t = latest;
                len = (size_t) n;

                /* Raw IPv4 sockets hand over the IP header too; the others start at ICMP. */
                if (p->raw && ping_is_v4(p)) {
                        size_t ihl = (size_t) (buf[0] & 0x0f) * 4;
                        if (len < 20 || buf[0] >> 4 != 4 || ihl < 20 || ihl > len)
                                continue;
                        icmp += ihl;
                        len -= ihl;
                }
                if (len < PING_PACKET || icmp[0] != (ping_is_v4(p) ? ICMP_ECHOREPLY : ICMP6_ECHO_REPLY) ||
                    icmp[1] != 0 || !ping_from_target(p, &from))
                        continue;
                /* Datagram sockets only get replies carrying the id the kernel gave them. */
                if (p->raw && (unsigned) (icmp[4] << 8 | icmp[5]) != p->id)
                        continue;
                seq = (unsigned) (icmp[6] << 8 | icmp[7]);
                if (seq >= p->n_sent || p->echoes[seq].state != PING_ECHO_WAITING ||
                    memcmp(icmp + 8, p->cookie, PING_PAYLOAD) != 0)
                        continue; /* not ours, or a duplicate */

                rtt = t - p->echoes[seq].sent;
                if (rtt > s->reply_timeout) {
                        p->echoes[seq].state = PING_ECHO_LATE;
                        p->n_late++;
                } else {
                        p->echoes[seq].state = PING_ECHO_ANSWERED;
                        p->n_answered++;
                        p->rtt_sum += rtt;
                }
                p->n_resolved++;
        }
}

static char *ping_format_rtt(char *buf, size_t size, usec_t u) {
        if (u < 10 * USEC_PER_MSEC)
                return net_format_decimal(buf, size, u, USEC_PER_MSEC, 2, "ms");
        if (u < USEC_PER_SEC)
                return net_format_decimal(buf, size, u, USEC_PER_MSEC, 1, "ms");
        return net_format_decimal(buf, size, u, USEC_PER_SEC, 2, "s");
}

static void ping_report(Check *c, PingProbe *p) {
        const PingSettings *s = check_settings(c);
        unsigned lost = s->count - p->n_answered;
        /* The loss rounded to whole percent, but never shown as within a bound it exceeds. */
        unsigned pct = (lost * 200 + s->count) / (2 * s->count);
        bool passed = lost * 100 <= s->max_loss * s->count;
        char detail[CHECK_DETAIL_MAX], rtt[32], late[32] = "";

        if (passed) {
                /* max-loss < 100: a passing run has at least one reply to average. */
                char loss[32] = "";
                if (lost > 0)
                        snprintf(loss, sizeof(loss), " (%u%% loss)", pct);
                snprintf(detail, sizeof(detail), "%u/%u replies from %s%s, avg %s", p->n_answered, s->count,
                         s->host.text, loss, ping_format_rtt(rtt, sizeof(rtt), p->rtt_sum / p->n_answered));
        } else {
                if (pct <= s->max_loss)
                        pct = s->max_loss + 1;
                if (p->n_late > 0)
                        snprintf(late, sizeof(late), "%u late", p->n_late);
                snprintf(detail, sizeof(detail), "%u/%u replies from %s (%u%% loss > max %u%%)%s%s%s%s",
                         p->n_answered, s->count, s->host.text, pct, s->max_loss,
                         late[0] || p->send_error ? ": " : "", late, late[0] && p->send_error ? ", " : "",
                         p->send_error ? strerror(p->send_error) : "");
        }

        check_done(c, passed, "%s", detail);
}

static int on_ping_timer(sd_event_source *source, uint64_t usec, void *userdata);

/* After each event: reports once every echo is out and answered, late or failed; otherwise
 * arms the timer for the next echo or, after the last one, for its deadline. */
static void ping_continue(Check *c) {
        const PingSettings *s = check_settings(c);
        PingProbe *p = c->probe;
        usec_t next;
        int r;

        if (p->n_sent == s->count && p->n_resolved == s->count) {
                ping_report(c, p);
                return;
        }
        if (p->n_sent < s->count)
                next = p->start + p->n_sent * s->spacing;
        else {
                p->deadline = p->echoes[s->count - 1].sent + s->reply_timeout;
                next = p->deadline;
        }

        if (!p->timer)
                r = sd_event_add_time(c->event, &p->timer, CLOCK_MONOTONIC, next, 1, on_ping_timer, c);
        else {
                r = sd_event_source_set_time(p->timer, next);
                if (r >= 0)
                        r = sd_event_source_set_enabled(p->timer, SD_EVENT_ONESHOT);
        }
        if (r < 0)
                check_done(c, false, "cannot arm a timer: %s", strerror(-r));
}

static int on_ping_timer(sd_event_source *source, uint64_t usec, void *userdata) {
        Check *c = userdata;
        const PingSettings *s = check_settings(c);
        PingProbe *p = c->probe;

        if (p->n_sent < s->count) {
                ping_send(p);
                ping_continue(c);
        } else {
                /* The last deadline: what has not come by now is lost. */
                ping_receive(p, s, p->deadline);
                ping_report(c, p);
        }
        return 0;
}

static int on_ping_io(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        Check *c = userdata;
        const PingSettings *s = check_settings(c);
        PingProbe *p = c->probe;

        ping_receive(p, s, USEC_INFINITY);
        /* Every echo answered (or lost for good): no need to wait for the deadline. */
        if (p->n_sent == s->count && p->n_resolved == s->count)
                ping_report(c, p);
        return 0;
}

static int ping_start(Check *c) {
        const PingSettings *s = check_settings(c);
        static unsigned runs;
        PingProbe *p;
        PingTarget target;
        const char *why;
        uint64_t stamp;
        pid_t pid;
        int r;

        /* Only a %zone is looked up again on each run: interfaces come and go. */
        target = s->host.target;
        r = strchr(s->host.text, '%') ? ping_parse_host(s->host.text, true, &target, &why) : 0;
        if (r < 0) {
                check_done(c, false, "%s %s", s->host.text, why);
                return 0;
        }

        p = calloc(1, sizeof(PingProbe) + s->count * sizeof(PingEcho));
        if (!p)
                return -ENOMEM;
        c->probe = p; /* the core's from here on, also when this fails or reports at once */
        p->target = target;
        p->fd = ping_open(target.sa.sa_family, &p->raw);
        if (p->fd < 0) {
                r = p->fd;
                if (r == -EPERM || r == -EACCES) {
                        check_done(c, false, "no ICMP socket: group %u is not in net.ipv4.ping_group_range and no CAP_NET_RAW",
                                   (unsigned) getegid());
                        return 0;
                }
                return r;
        }

        /* Not secret, only distinct: from other processes' echoes (the pid) and from this
         * daemon's earlier runs (the counter and the clock). */
        runs++;
        pid = getpid();
        p->id = (uint16_t) (pid ^ (runs << 10));
        stamp = now(CLOCK_MONOTONIC);
        memcpy(p->cookie, &stamp, sizeof(stamp));
        stamp = (uint64_t) pid << 32 | runs;
        memcpy(p->cookie + sizeof(stamp), &stamp, sizeof(stamp));

        r = sd_event_add_io(c->event, &p->io, p->fd, EPOLLIN, on_ping_io, c);
        if (r < 0)
                return r;

        p->start = now(CLOCK_MONOTONIC);
        ping_send(p);
        ping_continue(c);
        return 0;
}

const CheckKind check_kind_ping = {
        .name = "ping",
        .settings_size = sizeof(PingSettings),
        .keys = ping_keys,
        .verify = ping_verify,
        .start = ping_start,
        .probe_free = ping_probe_free,
};
