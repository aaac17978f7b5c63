/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if.h>
#include <sys/socket.h>

#include "check.h"
#include "ifname.h"

/* [check.NAME] type=link: a network interface exists, is administratively up, has carrier (unless
 * carrier=no) and, with address=, an address that can be used.
 *
 * The state comes from rtnetlink rather than /sys/class/net and getifaddrs(): netlink answers
 * for the network namespace healthdog runs in, while /sys shows the namespace of whoever mounted
 * it, and one socket gives the link and its addresses. The kernel builds each answer inside the
 * sendmsg()/recvmsg() call that asks for it, so the non-blocking socket normally has everything
 * by the time start() reads it; should a read ever find nothing yet, the probe waits for the
 * socket in the event loop instead of blocking. */
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

/* Room for the largest message the kernel sends in one piece: it caps dump parts at 32 KiB. */
#define LINK_BUF_SIZE (64 * 1024)
#define LINK_ADDRESS_MAX (INET6_ADDRSTRLEN + 5)

typedef enum LinkStage {
        LINK_STAGE_LINK,        /* waiting for the RTM_NEWLINK answer */
        LINK_STAGE_ADDRESSES,   /* reading the RTM_NEWADDR dump */
        LINK_STAGE_DONE,
} LinkStage;

typedef struct LinkProbe {
        int fd;
        sd_event_source *io;    /* only when a read found nothing yet */
        LinkStage stage;
        uint32_t seq;           /* of the request being answered */
        bool found;
        int ifindex;
        unsigned flags;         /* IFF_* */
        char ipv4[LINK_ADDRESS_MAX], ipv6[LINK_ADDRESS_MAX]; /* the first usable ones, "" = none */
        _Alignas(struct nlmsghdr) uint8_t buf[LINK_BUF_SIZE];
} LinkProbe;

static LinkProbe *link_probe_free(LinkProbe *p) {
        if (!p)
                return NULL;
        sd_event_source_disable_unref(p->io);
        if (p->fd >= 0)
                close(p->fd);
        free(p);
        return NULL;
}

static int link_send(LinkProbe *p, struct nlmsghdr *h) {
        struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };

        h->nlmsg_seq = ++p->seq;
        if (sendto(p->fd, h, h->nlmsg_len, 0, (struct sockaddr *) &kernel, sizeof(kernel)) < 0)
                return -errno;
        return 0;
}

/* Appends an attribute to the request in buf, which has room for it. */
static void link_add_attribute(uint8_t *buf, unsigned short type, const void *data, size_t len) {
        struct nlmsghdr *h = (struct nlmsghdr *) buf;
        struct rtattr *a = (struct rtattr *) (buf + NLMSG_ALIGN(h->nlmsg_len));

        a->rta_type = type;
        a->rta_len = (unsigned short) RTA_LENGTH(len);
        memcpy(RTA_DATA(a), data, len);
        h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len);
}

/* RTM_GETLINK by name: one RTM_NEWLINK back, or ENODEV. */
static int link_request_link(LinkProbe *p, const char *ifname) {
        union {
                struct nlmsghdr h;
                uint8_t buf[NLMSG_SPACE(sizeof(struct ifinfomsg)) + RTA_SPACE(IFNAMSIZ) + RTA_SPACE(sizeof(uint32_t))];
        } req = {};
        struct ifinfomsg *ifi = NLMSG_DATA(&req.h);
        /* The counters are of no interest and the biggest part of the answer. */
        uint32_t ext_mask = RTEXT_FILTER_SKIP_STATS;

        req.h = (struct nlmsghdr) {
                .nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)),
                .nlmsg_type = RTM_GETLINK,
                .nlmsg_flags = NLM_F_REQUEST,
        };
        ifi->ifi_family = AF_UNSPEC;
        link_add_attribute(req.buf, IFLA_IFNAME, ifname, strlen(ifname) + 1);
        link_add_attribute(req.buf, IFLA_EXT_MASK, &ext_mask, sizeof(ext_mask));
        return link_send(p, &req.h);
}

/* RTM_GETADDR dump of every address; those of other interfaces are skipped when read (a filter
 * in the request would need strict checking, which older kernels lack). */
static int link_request_addresses(LinkProbe *p) {
        struct {
                struct nlmsghdr h;
                struct ifaddrmsg ifa;
        } req = {
                .h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg)),
                .h.nlmsg_type = RTM_GETADDR,
                .h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
                .ifa.ifa_family = AF_UNSPEC,
        };

        return link_send(p, &req.h);
}

static void link_add_address(LinkProbe *p, const struct nlmsghdr *h) {
        const struct ifaddrmsg *ifa = NLMSG_DATA(h);
        const void *local = NULL, *address = NULL, *a;
        uint32_t flags;
        char *dst, text[INET6_ADDRSTRLEN];
        size_t size;
        int len;

        if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifa)) || (int) ifa->ifa_index != p->ifindex)
                return;
        flags = ifa->ifa_flags;
        len = (int) IFA_PAYLOAD(h);
        for (const struct rtattr *rta = IFA_RTA(ifa); RTA_OK(rta, len); rta = RTA_NEXT(rta, len))
                if (rta->rta_type == IFA_LOCAL)
                        local = RTA_DATA(rta);
                else if (rta->rta_type == IFA_ADDRESS)
                        address = RTA_DATA(rta);
                else if (rta->rta_type == IFA_FLAGS && RTA_PAYLOAD(rta) >= sizeof(uint32_t))
                        memcpy(&flags, RTA_DATA(rta), sizeof(flags));

        /* Not usable: an address still in (or failed) duplicate address detection, and link-local
         * ones, which every IPv6 interface has as soon as it is up and which no DHCP or
         * configuration gave. */
        if ((flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED)) || ifa->ifa_scope == RT_SCOPE_LINK)
                return;
        /* IFA_LOCAL is the address itself; IFA_ADDRESS is the peer on point-to-point links, and
         * the only one IPv6 sends. */
        a = local ?: address;
        if (!a)
                return;
        if (ifa->ifa_family == AF_INET) {
                dst = p->ipv4;
                size = sizeof(p->ipv4);
        } else if (ifa->ifa_family == AF_INET6) {
                dst = p->ipv6;
                size = sizeof(p->ipv6);
        } else
                return;
        if (dst[0] || !inet_ntop(ifa->ifa_family, a, text, sizeof(text)))
                return;
        snprintf(dst, size, "%s/%u", text, ifa->ifa_prefixlen);
}

/* Returns 0 to read on, or -errno. */
static int link_handle(LinkProbe *p, const struct nlmsghdr *h) {
        if (h->nlmsg_seq != p->seq)
                return 0;

        switch (h->nlmsg_type) {
        case NLMSG_ERROR: {
                const struct nlmsgerr *e = NLMSG_DATA(h);

                if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
                        return -EBADMSG;
                if (e->error == 0)
                        return 0;
                if (p->stage == LINK_STAGE_LINK && e->error == -ENODEV) {
                        p->stage = LINK_STAGE_DONE;
                        return 0;
                }
                return e->error;
        }
        case RTM_NEWLINK: {
                const struct ifinfomsg *ifi = NLMSG_DATA(h);

                if (p->stage != LINK_STAGE_LINK)
                        return 0;
                if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
                        return -EBADMSG;
                p->found = true;
                p->ifindex = ifi->ifi_index;
                p->flags = ifi->ifi_flags;
                /* A link that is down needs no addresses to say so. */
                if (!(p->flags & IFF_UP)) {
                        p->stage = LINK_STAGE_DONE;
                        return 0;
                }
                p->stage = LINK_STAGE_ADDRESSES;
                return link_request_addresses(p);
        }
        case RTM_NEWADDR:
                if (p->stage == LINK_STAGE_ADDRESSES)
                        link_add_address(p, h);
                return 0;
        case NLMSG_DONE:
                if (p->stage != LINK_STAGE_ADDRESSES)
                        return 0;
                /* A dump that failed half-way ends with its error. */
                if (h->nlmsg_len >= NLMSG_LENGTH(sizeof(int))) {
                        int error;
                        memcpy(&error, NLMSG_DATA(h), sizeof(error));
                        if (error < 0)
                                return error;
                }
                p->stage = LINK_STAGE_DONE;
                return 0;
        default:
                return 0;
        }
}

/* Reads what the kernel has sent. Returns 1 when the probe has its answer, 0 when it must wait
 * for more, or -errno. */
static int link_read(LinkProbe *p) {
        while (p->stage != LINK_STAGE_DONE) {
                struct sockaddr_nl sender;
                struct iovec iov = { p->buf, sizeof(p->buf) };
                struct msghdr mh = {
                        .msg_name = &sender,
                        .msg_namelen = sizeof(sender),
                        .msg_iov = &iov,
                        .msg_iovlen = 1,
                };
                ssize_t n = recvmsg(p->fd, &mh, MSG_DONTWAIT);
                int len, r;

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return errno == EAGAIN ? 0 : -errno;
                }
                if (mh.msg_flags & MSG_TRUNC)
                        return -EMSGSIZE;
                /* Only the kernel's answers; other processes could send to our port too. */
                if (sender.nl_pid != 0)
                        continue;
                len = (int) n;
                for (const struct nlmsghdr *h = (const struct nlmsghdr *) p->buf; NLMSG_OK(h, len);
                     h = NLMSG_NEXT(h, len)) {
                        r = link_handle(p, h);
                        if (r < 0)
                                return r;
                        if (p->stage == LINK_STAGE_DONE)
                                break;
                }
        }
        return 1;
}

static void link_report(Check *c, LinkProbe *p) {
        const LinkSettings *s = check_settings(c);
        char detail[CHECK_DETAIL_MAX];
        bool passed = false;

        if (!p->found)
                snprintf(detail, sizeof(detail), "no such interface %s", s->interface);
        else if (!(p->flags & IFF_UP))
                snprintf(detail, sizeof(detail), "%s down", s->interface);
        else {
                bool carrier = p->flags & IFF_LOWER_UP;
                const char *address = s->address == LINK_ADDRESS_IPV4 ? p->ipv4
                                    : s->address == LINK_ADDRESS_IPV6 ? p->ipv6
                                    : p->ipv4[0] ? p->ipv4 : p->ipv6;
                const char *family = s->address == LINK_ADDRESS_IPV4 ? "IPv4 "
                                   : s->address == LINK_ADDRESS_IPV6 ? "IPv6 " : "";

                passed = (carrier || !s->carrier) && (s->address == LINK_ADDRESS_NONE || address[0]);
                if (!address[0] && s->address != LINK_ADDRESS_NONE)
                        snprintf(detail, sizeof(detail), "%s up, %s, no %saddress", s->interface,
                                 carrier ? "carrier" : "no carrier", family);
                else
                        snprintf(detail, sizeof(detail), "%s up, %s%s%s", s->interface,
                                 carrier ? "carrier" : "no carrier", address[0] ? ", " : "", address);
        }

        c->probe = link_probe_free(p);
        check_done(c, passed, "%s", detail);
}

static int on_link_io(sd_event_source *s, int fd, uint32_t revents, void *userdata);

/* Reads on; reports when the answer is complete or reading failed. */
static void link_continue(Check *c) {
        LinkProbe *p = c->probe;
        int r = link_read(p);

        if (r == 0 && !p->io)
                r = sd_event_add_io(c->event, &p->io, p->fd, EPOLLIN, on_link_io, c);
        if (r > 0)
                link_report(c, p);
        else if (r < 0) {
                c->probe = link_probe_free(p);
                check_done(c, false, "rtnetlink: %s", strerror(-r));
        }
}

static int on_link_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        link_continue(userdata);
        return 0;
}

static int link_start(Check *c) {
        const LinkSettings *s = check_settings(c);
        LinkProbe *p = calloc(1, sizeof(LinkProbe));
        int r;

        if (!p)
                return -ENOMEM;
        p->stage = LINK_STAGE_LINK;
        p->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
        if (p->fd < 0) {
                r = -errno;
                link_probe_free(p);
                return r;
        }
        r = link_request_link(p, s->interface);
        if (r < 0) {
                link_probe_free(p);
                return r;
        }
        c->probe = p;
        link_continue(c);
        return 0;
}

static void link_cancel(Check *c) {
        c->probe = link_probe_free(c->probe);
}

const CheckKind check_kind_link = {
        .name = "link",
        .settings_size = sizeof(LinkSettings),
        .keys = link_keys,
        .start = link_start,
        .cancel = link_cancel,
};
