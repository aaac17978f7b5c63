/* SPDX-License-Identifier: MIT */
#include "check.h"
#include "net.h"

/* [check.NAME] type=tcp: a TCP connection to host:port is accepted in time. A name is resolved
 * on every run (in a child process, see net.c), and each of its addresses is tried in turn. */
typedef struct TcpSettings {
        char *host;
        unsigned port;
} TcpSettings;

static const ConfigKey tcp_keys[] = {
        { "host", &net_config_type_host, offsetof(TcpSettings, host), .required = true },
        { "port", &config_type_unsigned, offsetof(TcpSettings, port), .min = 1, .max = 65535, .required = true },
        {}
};

static void on_connected(int fd, const NetAddress *peer, usec_t elapsed, const char *error, void *userdata) {
        Check *c = userdata;
        const TcpSettings *s = check_settings(c);
        char where[NET_HOST_PORT_MAX], ip[NET_ADDRESS_STR_MAX], took[NET_LATENCY_MAX];
        NetAddress literal;

        net_format_host_port(where, sizeof(where), s->host, s->port);
        if (fd < 0) {
                check_done(c, false, "%s: %s", where, error);
                return;
        }
        /* Only whether the handshake completes matters; nothing is sent. */
        (void) close(fd);
        net_format_latency(took, sizeof(took), elapsed);
        if (net_address_parse(s->host, &literal) >= 0)
                check_done(c, true, "%s connected in %s", where, took);
        else
                check_done(c, true, "%s (%s) connected in %s", where, net_address_format(peer, false, ip, sizeof(ip)),
                           took);
}

static int tcp_start(Check *c) {
        const TcpSettings *s = check_settings(c);
        NetConnect *nc = NULL;
        int r = net_connect(c->event, s->host, (uint16_t) s->port, on_connected, c, &nc);

        c->probe = nc;
        return r;
}

static void tcp_probe_free(void *probe) {
        net_connect_free(probe);
}

const CheckKind check_kind_tcp = {
        .name = "tcp",
        .settings_size = sizeof(TcpSettings),
        .keys = tcp_keys,
        .start = tcp_start,
        .probe_free = tcp_probe_free,
};
