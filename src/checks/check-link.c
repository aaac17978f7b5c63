/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if.h>
#include <sys/socket.h>

#include "check.h"
#include "ifname.h"
#include "log.h"

/* [check.NAME] type=link: a network interface exists, is administratively up, has carrier (unless
 * carrier=no) and, with address=, an address that can be used.
 *
 * The state comes from rtnetlink rather than /sys/class/net and getifaddrs(): netlink answers
 * for the network namespace healthdog runs in, while /sys shows the namespace of whoever mounted
 * it. All link checks share one table of links and addresses (LinkTable), filled once by a dump
 * and kept current by the kernel's notifications, which queue on the socket between runs: a run
 * reads what is queued and answers from the table, with no new socket, request or wakeup. A
 * notification the socket had no room for (ENOBUFS) makes the next run dump everything again. */
typedef enum LinkAddress {
        LINK_ADDRESS_NONE,
        LINK_ADDRESS_ANY,
        LINK_ADDRESS_IPV4,
        LINK_ADDRESS_IPV6,
} LinkAddress;

static const char *const link_address_choices[] = { "none", "any", "ipv4", "ipv6", NULL };

typedef struct LinkSettings {
        char *interface;
        bool carrier;
        int address;    /* LinkAddress */
} LinkSettings;

static const ConfigKey link_keys[] = {
        { "interface", &config_type_ifname, offsetof(LinkSettings, interface), .required = true },
        { "carrier",   &config_type_bool,   offsetof(LinkSettings, carrier), "yes" },
        { "address",   &config_type_enum,   offsetof(LinkSettings, address), "none", .choices = link_address_choices },
        {}
};

/* The kernel builds dump parts of up to 32 KiB; notifications are one message each, far smaller.
 * Pages of the buffer are only touched as far as a read fills them. */
#define LINK_BUF_SIZE (32 * 1024)

typedef struct LinkEntry {
        int ifindex;
        unsigned flags;                 /* IFF_* */
        char name[IFNAMSIZ];
} LinkEntry;

/* A usable address: no link-local ones, none in or failed duplicate address detection. */
typedef struct LinkAddr {
        int ifindex;
        uint8_t family, prefixlen;
        uint8_t bytes[16];
        char text[INET6_ADDRSTRLEN + 4]; /* "ADDRESS/PREFIXLEN", for the reports */
} LinkAddr;

typedef enum LinkSync {
        LINK_SYNC_NONE,         /* the table is not known to be complete: dump */
        LINK_SYNC_LINKS,        /* reading the RTM_GETLINK dump */
        LINK_SYNC_ADDRESSES,    /* reading the RTM_GETADDR dump */
        LINK_SYNC_DONE,         /* complete; notifications keep it so */
} LinkSync;

typedef struct LinkTable LinkTable;

/* The probe of a run that waits for a dump to end: its place in the table's list. Most runs
 * answer at once and have none. */
typedef struct LinkWaiter {
        LinkTable *table;       /* NULL once answered */
        Check *check;
} LinkWaiter;

struct LinkTable {
        sd_event *event;
        int fd;
        sd_event_source *io;    /* only while a dump waits for the kernel */
        LinkSync sync;
        bool interrupted;       /* the dump saw the kernel's tables change under it */
        uint32_t seq;           /* of the dump being read */
        LinkEntry *links;
        size_t n_links, links_cap;
        LinkAddr *addrs;
        size_t n_addrs, addrs_cap;
        LinkWaiter **waiting;   /* runs that started while a dump was being read */
        size_t n_waiting, waiting_cap;
        void *buf;              /* LINK_BUF_SIZE bytes */
};

/* Makes room for n + 1 elements of size bytes in *array. */
static int link_reserve(void *array, size_t *cap, size_t n, size_t size) {
        void **a = array;
        size_t c;
        void *p;

        if (n < *cap)
                return 0;
        c = *cap ? *cap * 2 : 8;
        p = reallocarray(*a, c, size);
        if (!p)
                return -ENOMEM;
        *a = p;
        *cap = c;
        return 0;
}

static void link_table_free(void *userdata) {
        LinkTable *t = userdata;

        if (!t)
                return;
        sd_event_source_disable_unref(t->io);
        if (t->fd >= 0)
                close(t->fd);
        sd_event_unref(t->event);
        free(t->links);
        free(t->addrs);
        free(t->waiting);
        free(t->buf);
        free(t);
}

static int link_table_new(sd_event *event, LinkTable **ret) {
        struct sockaddr_nl groups = {
                .nl_family = AF_NETLINK,
                .nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR,
        };
        LinkTable *t = calloc(1, sizeof(LinkTable));
        int r;

        if (!t)
                return -ENOMEM;
        t->fd = -1;
        t->event = sd_event_ref(event);
        /* Not calloc(): untouched pages of the buffer cost no memory. */
        t->buf = malloc(LINK_BUF_SIZE);
        if (!t->buf) {
                link_table_free(t);
                return -ENOMEM;
        }
        t->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
        if (t->fd < 0 || bind(t->fd, (struct sockaddr *) &groups, sizeof(groups)) < 0) {
                r = -errno;
                link_table_free(t);
                return r;
        }
        *ret = t;
        return 0;
}

/* The context's table, made on first use. */
static int link_table_get(CheckContext *ctx, LinkTable **ret) {
        LinkTable *t = NULL;
        int r;

        if (!ctx->links) {
                r = link_table_new(ctx->event, &t);
                if (r < 0)
                        return r;
                ctx->links = t;
                ctx->links_free = link_table_free;
        }
        *ret = ctx->links;
        return 0;
}

static LinkEntry *link_find_index(LinkTable *t, int ifindex) {
        for (size_t i = 0; i < t->n_links; i++)
                if (t->links[i].ifindex == ifindex)
                        return &t->links[i];
        return NULL;
}

static const LinkEntry *link_find_name(const LinkTable *t, const char *name) {
        for (size_t i = 0; i < t->n_links; i++)
                if (streq(t->links[i].name, name))
                        return &t->links[i];
        return NULL;
}

static void link_forget_addresses(LinkTable *t, int ifindex) {
        size_t j = 0;

        for (size_t i = 0; i < t->n_addrs; i++)
                if (t->addrs[i].ifindex != ifindex)
                        t->addrs[j++] = t->addrs[i];
        t->n_addrs = j;
}

static int link_apply_link(LinkTable *t, const struct nlmsghdr *h) {
        const struct ifinfomsg *ifi = NLMSG_DATA(h);
        const char *name = NULL;
        LinkEntry *e;
        int len, r;

        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
                return -EBADMSG;
        e = link_find_index(t, ifi->ifi_index);
        if (h->nlmsg_type == RTM_DELLINK) {
                if (e) {
                        *e = t->links[--t->n_links];
                        link_forget_addresses(t, ifi->ifi_index);
                }
                return 0;
        }

        len = (int) IFLA_PAYLOAD(h);
        for (const struct rtattr *rta = IFLA_RTA(ifi); RTA_OK(rta, len); rta = RTA_NEXT(rta, len))
                if (rta->rta_type == IFLA_IFNAME && RTA_PAYLOAD(rta) > 0 &&
                    memchr(RTA_DATA(rta), '\0', RTA_PAYLOAD(rta)))
                        name = RTA_DATA(rta);
        if (!e) {
                r = link_reserve(&t->links, &t->links_cap, t->n_links, sizeof(LinkEntry));
                if (r < 0)
                        return r;
                e = &t->links[t->n_links++];
                *e = (LinkEntry) { .ifindex = ifi->ifi_index };
        }
        e->flags = ifi->ifi_flags;
        /* Renames come as RTM_NEWLINK with the new name. */
        if (name)
                snprintf(e->name, sizeof(e->name), "%s", name);
        return 0;
}

static int link_apply_address(LinkTable *t, const struct nlmsghdr *h) {
        const struct ifaddrmsg *ifa = NLMSG_DATA(h);
        const void *local = NULL, *address = NULL;
        char ip[INET6_ADDRSTRLEN];
        LinkAddr a = {};
        size_t size, i;
        uint32_t flags;
        bool usable;
        int len, r;

        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifa)))
                return -EBADMSG;
        if (ifa->ifa_family == AF_INET)
                size = 4;
        else if (ifa->ifa_family == AF_INET6)
                size = 16;
        else
                return 0;
        flags = ifa->ifa_flags;
        len = (int) IFA_PAYLOAD(h);
        for (const struct rtattr *rta = IFA_RTA(ifa); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
                if (rta->rta_type == IFA_LOCAL && RTA_PAYLOAD(rta) >= size)
                        local = RTA_DATA(rta);
                else if (rta->rta_type == IFA_ADDRESS && RTA_PAYLOAD(rta) >= size)
                        address = RTA_DATA(rta);
                else if (rta->rta_type == IFA_FLAGS && RTA_PAYLOAD(rta) >= sizeof(uint32_t))
                        memcpy(&flags, RTA_DATA(rta), sizeof(flags));
        }
        /* IFA_LOCAL is the address itself; IFA_ADDRESS is the peer on point-to-point links, and
         * the only one IPv6 sends. */
        if (!local && !address)
                return 0;
        a.ifindex = (int) ifa->ifa_index;
        a.family = ifa->ifa_family;
        a.prefixlen = ifa->ifa_prefixlen;
        memcpy(a.bytes, local ?: address, size);

        for (i = 0; i < t->n_addrs; i++)
                if (t->addrs[i].ifindex == a.ifindex && t->addrs[i].family == a.family &&
                    t->addrs[i].prefixlen == a.prefixlen && memcmp(t->addrs[i].bytes, a.bytes, size) == 0)
                        break;
        /* Not usable: an address still in (or failed) duplicate address detection, and link-local
         * ones, which every IPv6 interface has as soon as it is up and which no DHCP or
         * configuration gave. A known address that became unusable leaves the table. */
        usable = h->nlmsg_type == RTM_NEWADDR && !(flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED)) &&
                 ifa->ifa_scope != RT_SCOPE_LINK;
        if (!usable) {
                if (i < t->n_addrs) {
                        t->n_addrs--;
                        memmove(&t->addrs[i], &t->addrs[i + 1], (t->n_addrs - i) * sizeof(LinkAddr));
                }
                return 0;
        }
        if (i < t->n_addrs)
                return 0;
        /* Written out once here rather than in each run's report: inet_ntop() there kept a 64 kB
         * window of libc resident for nothing else. */
        if (inet_ntop(a.family, a.bytes, ip, sizeof(ip)))
                snprintf(a.text, sizeof(a.text), "%s/%u", ip, a.prefixlen);
        r = link_reserve(&t->addrs, &t->addrs_cap, t->n_addrs, sizeof(LinkAddr));
        if (r < 0)
                return r;
        t->addrs[t->n_addrs++] = a;
        return 0;
}

static int link_request_dump(LinkTable *t, uint16_t type) {
        struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
        union {
                struct nlmsghdr h;
                uint8_t buf[NLMSG_SPACE(sizeof(struct ifinfomsg)) + RTA_SPACE(sizeof(uint32_t))];
        } req = {};
        struct rtattr *a;

        req.h = (struct nlmsghdr) {
                .nlmsg_type = type,
                .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
                .nlmsg_seq = ++t->seq,
        };
        if (type == RTM_GETLINK) {
                /* The counters are of no interest and the biggest part of the answer. */
                uint32_t ext_mask = RTEXT_FILTER_SKIP_STATS;

                req.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
                a = (struct rtattr *) (req.buf + NLMSG_ALIGN(req.h.nlmsg_len));
                a->rta_type = IFLA_EXT_MASK;
                a->rta_len = RTA_LENGTH(sizeof(ext_mask));
                memcpy(RTA_DATA(a), &ext_mask, sizeof(ext_mask));
                req.h.nlmsg_len = NLMSG_ALIGN(req.h.nlmsg_len) + RTA_ALIGN(a->rta_len);
        } else
                /* Every address: a filter by interface would need strict checking, which older
                 * kernels lack, and the table holds all of them anyway. */
                req.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
        if (sendto(t->fd, &req, req.h.nlmsg_len, 0, (struct sockaddr *) &kernel, sizeof(kernel)) < 0)
                return -errno;
        return 0;
}

/* Reads one datagram into t->buf. Returns its length, 0 when nothing is queued, or -errno:
 * ENOBUFS when notifications were dropped, EMSGSIZE when one was cut short. */
static ssize_t link_recv(LinkTable *t, bool *ret_reply) {
        for (;;) {
                struct sockaddr_nl sender;
                struct iovec iov = { t->buf, LINK_BUF_SIZE };
                struct msghdr mh = {
                        .msg_name = &sender,
                        .msg_namelen = sizeof(sender),
                        .msg_iov = &iov,
                        .msg_iovlen = 1,
                };
                ssize_t n = recvmsg(t->fd, &mh, MSG_DONTWAIT);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return errno == EAGAIN ? 0 : -errno;
                }
                if (mh.msg_flags & MSG_TRUNC)
                        return -EMSGSIZE;
                /* Only the kernel's messages; other processes could send to our port too. */
                if (sender.nl_pid != 0)
                        continue;
                /* A notification goes to the groups; a dump's parts to this socket alone. */
                *ret_reply = sender.nl_groups == 0;
                return n;
        }
}

/* Starts filling the table from scratch. What is queued predates the dump, which covers it:
 * it is dropped unread, lest a stale notification (whose successor the kernel dropped) put back
 * an address or a link that is gone. Draining also lets a dump still running run out. */
static int link_resync(LinkTable *t) {
        bool reply;
        ssize_t n;

        while ((n = link_recv(t, &reply)) != 0)
                if (n < 0 && n != -ENOBUFS && n != -EMSGSIZE)
                        return (int) n;
        t->n_links = t->n_addrs = 0;
        t->interrupted = false;
        t->sync = LINK_SYNC_LINKS;
        return link_request_dump(t, RTM_GETLINK);
}

/* The end of the dump with sequence number t->seq: on to the next one, or done. */
static int link_dump_done(LinkTable *t, const struct nlmsghdr *h) {
        int error = 0;

        /* A dump that failed half-way ends with its error. */
        if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int)))
                memcpy(&error, NLMSG_DATA(h), sizeof(error));
        if (error < 0)
                return error;
        if (t->interrupted) {
                t->sync = LINK_SYNC_NONE;
                return 0;
        }
        if (t->sync == LINK_SYNC_LINKS) {
                t->sync = LINK_SYNC_ADDRESSES;
                return link_request_dump(t, RTM_GETADDR);
        }
        t->sync = LINK_SYNC_DONE;
        return 0;
}

/* reply: h came to this socket alone, as part of a dump; else it is a notification, sent to the
 * groups the socket joined. */
static int link_handle(LinkTable *t, const struct nlmsghdr *h, bool reply) {
        /* Answers to an earlier, abandoned dump are of no use: the current one replaces them. */
        if (reply && (h->nlmsg_seq != t->seq || t->sync == LINK_SYNC_DONE || t->sync == LINK_SYNC_NONE))
                return 0;
        if (reply && (h->nlmsg_flags & NLM_F_DUMP_INTR))
                t->interrupted = true;

        switch (h->nlmsg_type) {
        case NLMSG_ERROR: {
                const struct nlmsgerr *e = NLMSG_DATA(h);

                if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
                        return -EBADMSG;
                return e->error;
        }
        case NLMSG_DONE:
                return reply ? link_dump_done(t, h) : 0;
        case RTM_NEWLINK:
        case RTM_DELLINK:
                return link_apply_link(t, h);
        case RTM_NEWADDR:
        case RTM_DELADDR:
                return link_apply_address(t, h);
        default:
                return 0;
        }
}

/* A busy kernel can make the dump start over: that many times per run at most. */
#define LINK_RESYNC_MAX 3

/* Reads everything queued on the socket into the table, dumping first when the table is not
 * known to be complete. Returns 1 when the table is current, 0 when a dump awaits more from the
 * kernel, or -errno (the next call starts over). */
static int link_table_update(LinkTable *t) {
        unsigned resyncs = 0;
        int r = 0;

        for (;;) {
                bool reply;
                ssize_t n;
                int len;

                if (t->sync == LINK_SYNC_NONE) {
                        if (resyncs++ == LINK_RESYNC_MAX)
                                return r < 0 ? r : -EBUSY;
                        r = link_resync(t);
                        if (r < 0)
                                goto fail;
                }
                n = link_recv(t, &reply);
                if (n == 0)
                        return t->sync == LINK_SYNC_DONE;
                if (n == -ENOBUFS || n == -EMSGSIZE) {
                        /* Notifications were lost: the table may be wrong, read it again. */
                        r = (int) n;
                        log_debug("rtnetlink: %s, reading interfaces and addresses again", strerror(-r));
                        t->sync = LINK_SYNC_NONE;
                        continue;
                }
                if (n < 0) {
                        r = (int) n;
                        goto fail;
                }
                len = (int) n;
                for (const struct nlmsghdr *h = t->buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
                        r = link_handle(t, h, reply);
                        if (r < 0)
                                goto fail;
                }
        }
fail:
        t->sync = LINK_SYNC_NONE;
        return r;
}

static void link_report(Check *c, const LinkTable *t) {
        const LinkSettings *s = check_settings(c);
        const LinkEntry *e = link_find_name(t, s->interface);
        char detail[CHECK_DETAIL_MAX];
        const char *ipv4 = "", *ipv6 = "";
        bool passed = false;

        if (!e)
                snprintf(detail, sizeof(detail), "no such interface %s", s->interface);
        else if (!(e->flags & IFF_UP))
                snprintf(detail, sizeof(detail), "%s down", s->interface);
        else {
                bool carrier = e->flags & IFF_LOWER_UP;
                const char *address, *family;

                /* The first usable address of each family, in the order the kernel gave them. */
                for (size_t i = 0; i < t->n_addrs; i++) {
                        const LinkAddr *a = &t->addrs[i];
                        const char **dst = a->family == AF_INET ? &ipv4 : &ipv6;

                        if (a->ifindex == e->ifindex && !(*dst)[0])
                                *dst = a->text;
                }
                address = s->address == LINK_ADDRESS_IPV4 ? ipv4
                        : s->address == LINK_ADDRESS_IPV6 ? ipv6
                        : ipv4[0] ? ipv4 : ipv6;
                family = s->address == LINK_ADDRESS_IPV4 ? "IPv4 "
                       : s->address == LINK_ADDRESS_IPV6 ? "IPv6 " : "";
                passed = (carrier || !s->carrier) && (s->address == LINK_ADDRESS_NONE || address[0]);
                if (!address[0] && s->address != LINK_ADDRESS_NONE)
                        snprintf(detail, sizeof(detail), "%s up, %s, no %saddress", s->interface,
                                 carrier ? "carrier" : "no carrier", family);
                else
                        snprintf(detail, sizeof(detail), "%s up, %s%s%s", s->interface,
                                 carrier ? "carrier" : "no carrier", address[0] ? ", " : "", address);
        }
        check_done(c, passed, "%s", detail);
}

/* Reports r (from link_table_update()) to c. */
static void link_answer(Check *c, const LinkTable *t, int r) {
        if (r > 0)
                link_report(c, t);
        else
                check_done(c, false, "rtnetlink: %s", strerror(-r));
}

static int on_link_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        LinkTable *t = userdata;
        int r = link_table_update(t);

        if (r == 0)
                return 0;
        t->io = sd_event_source_disable_unref(t->io);
        /* One at a time from the end: check_done() may start or cancel other runs. */
        while (t->n_waiting > 0) {
                LinkWaiter *w = t->waiting[--t->n_waiting];

                w->table = NULL;
                link_answer(w->check, t, r);
        }
        return 0;
}

static int link_start(Check *c) {
        LinkWaiter *w;
        LinkTable *t;
        int r;

        r = link_table_get(c->context, &t);
        if (r < 0)
                return r;
        r = link_table_update(t);
        if (r != 0) {
                link_answer(c, t, r);
                return 0;
        }
        /* A dump is still being read: this run waits for it, in the event loop. */
        r = link_reserve(&t->waiting, &t->waiting_cap, t->n_waiting, sizeof(LinkWaiter *));
        if (r >= 0 && !t->io)
                r = sd_event_add_io(t->event, &t->io, t->fd, EPOLLIN, on_link_io, t);
        if (r < 0)
                return r;
        w = malloc(sizeof(LinkWaiter));
        if (!w)
                return -ENOMEM;
        *w = (LinkWaiter) { .table = t, .check = c };
        t->waiting[t->n_waiting++] = w;
        c->probe = w;
        return 0;
}

/* Leaves the table's list, unless the answer already took it off. */
static void link_probe_free(void *probe) {
        LinkWaiter *w = probe;

        for (size_t i = 0; w->table && i < w->table->n_waiting; i++)
                if (w->table->waiting[i] == w) {
                        w->table->waiting[i] = w->table->waiting[--w->table->n_waiting];
                        break;
                }
        free(w);
}

const CheckKind check_kind_link = {
        .name = "link",
        .settings_size = sizeof(LinkSettings),
        .keys = link_keys,
        .start = link_start,
        .probe_free = link_probe_free,
};
