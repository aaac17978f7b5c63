/* SPDX-License-Identifier: MIT */
#include "check.h"
#include "net.h"

/* [check.NAME] type=dns: a name resolves, through the system's resolver (NSS: /etc/hosts, DNS,
 * ...) exactly as applications see it, and optionally to a given address. The lookup runs in a
 * child process that a timeout kills (see net.c). */
typedef struct DnsSettings {
        char *name;
        int family;
        NetAddress expect_address; /* family 0: any answer will do */
} DnsSettings;

enum { DNS_FAMILY_ANY, DNS_FAMILY_IPV4, DNS_FAMILY_IPV6 };
static const char *const dns_families[] = { "any", "ipv4", "ipv6", NULL };

static const ConfigKey dns_keys[] = {
        { "name",           &net_config_type_host,    offsetof(DnsSettings, name), .required = true },
        { "family",         &config_type_enum,        offsetof(DnsSettings, family), "any", .choices = dns_families },
        { "expect-address", &net_config_type_address, offsetof(DnsSettings, expect_address) },
        {}
};

static void dns_verify(const CheckConfig *c, ConfigErrors *errors) {
        const DnsSettings *s = c->settings;
        int want = s->family == DNS_FAMILY_IPV4 ? AF_INET : s->family == DNS_FAMILY_IPV6 ? AF_INET6 : AF_UNSPEC;
        char buf[NET_ADDRESS_STR_MAX];

        if (s->expect_address.sa.sa_family != 0 && want != AF_UNSPEC && s->expect_address.sa.sa_family != want)
                config_errors_add(errors, c->file, c->line,
                                  "[check.%s] can never pass: expect-address= %s is not an %s address (family = %s)",
                                  c->name, net_address_format(&s->expect_address, false, buf, sizeof(buf)),
                                  want == AF_INET ? "IPv4" : "IPv6", dns_families[s->family]);
}

static void on_resolved(const NetAddress *addresses, size_t n, const char *error, void *userdata) {
        Check *c = userdata;
        const DnsSettings *s = check_settings(c);
        char list[CHECK_DETAIL_MAX / 2] = "", what[300], took[NET_LATENCY_MAX], buf[NET_ADDRESS_STR_MAX];
        bool found = false;
        size_t len = 0;

        c->probe = NULL; /* the handle is gone once the handler runs */
        snprintf(what, sizeof(what), "%s%s%s%s", s->name, s->family != DNS_FAMILY_ANY ? " (" : "",
                 s->family != DNS_FAMILY_ANY ? dns_families[s->family] : "", s->family != DNS_FAMILY_ANY ? ")" : "");
        if (error) {
                check_done(c, false, "%s: %s", what, error);
                return;
        }

        for (size_t i = 0; i < n; i++)
                found = found || net_address_equal(&addresses[i], &s->expect_address);
        for (size_t i = 0; i < n; i++) {
                net_address_format(&addresses[i], false, buf, sizeof(buf));
                /* Leave room for " +NN more" so that a long answer still fits one line. */
                if (len + strlen(buf) + 12 >= sizeof(list)) {
                        snprintf(list + len, sizeof(list) - len, " +%zu more", n - i);
                        break;
                }
                len += (size_t) snprintf(list + len, sizeof(list) - len, "%s%s", i > 0 ? " " : "", buf);
        }
        net_format_latency(took, sizeof(took), now(CLOCK_MONOTONIC) - c->started);

        if (s->expect_address.sa.sa_family != 0 && !found)
                check_done(c, false, "%s resolved to %s (expected %s)", what, list,
                           net_address_format(&s->expect_address, false, buf, sizeof(buf)));
        else
                check_done(c, true, "%s resolved to %s in %s", what, list, took);
}

static int dns_start(Check *c) {
        const DnsSettings *s = check_settings(c);
        int family = s->family == DNS_FAMILY_IPV4 ? AF_INET : s->family == DNS_FAMILY_IPV6 ? AF_INET6 : AF_UNSPEC;
        NetResolve *resolve = NULL;
        int r = net_resolve(c->event, s->name, family, on_resolved, c, &resolve);

        c->probe = resolve;
        return r;
}

static void dns_probe_free(void *probe) {
        net_resolve_cancel(probe);
}

const CheckKind check_kind_dns = {
        .name = "dns",
        .settings_size = sizeof(DnsSettings),
        .keys = dns_keys,
        .verify = dns_verify,
        .start = dns_start,
        .probe_free = dns_probe_free,
};
