/* SPDX-License-Identifier: MIT */
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>

#include "conf-parser.h"

/* What the network check kinds (tcp, http, dns) share: addresses, name resolution that never
 * blocks the event loop, and a non-blocking connect that tries each address of a name in turn. */

/* One IPv4 or IPv6 address, with a port when it is used to connect. sa_family 0 = unset. */
typedef union NetAddress {
        struct sockaddr sa;
        struct sockaddr_in in;
        struct sockaddr_in6 in6;
} NetAddress;

/* At most this many addresses are kept from one resolution. */
#define NET_ADDRESSES_MAX 16
/* "[ffff:...:ffff]:65535" and every other formatted address fit. */
#define NET_ADDRESS_STR_MAX (INET6_ADDRSTRLEN + 8)
/* "999ms", "1.25s", "0.4ms". */
#define NET_LATENCY_MAX 24
/* A host name (253) with its port. */
#define NET_HOST_PORT_MAX 264

/* Parses an IPv4 or IPv6 literal (no brackets, no port, no scope). Never resolves anything.
 * Returns 0, or -EINVAL when s is not an IP literal. */
int net_address_parse(const char *s, NetAddress *ret);
/* True when both hold the same address (the ports are not compared). */
bool net_address_equal(const NetAddress *a, const NetAddress *b);
/* Writes "127.0.0.1" or "::1", or with the port "127.0.0.1:80" / "[::1]:80". Returns buf. */
char *net_address_format(const NetAddress *a, bool with_port, char *buf, size_t size);
/* Writes "host:port", with brackets around an IPv6 literal: "[::1]:80". Returns buf. */
char *net_format_host_port(char *buf, size_t size, const char *host, unsigned port);
/* Formats a short latency for a detail line: "0.4ms", "12ms", "1.25s". Returns buf. */
char *net_format_latency(char *buf, size_t size, usec_t u);
/* Writes u / unit rounded to digits (0-2) decimals, then suffix: "0.05ms". Returns buf. */
char *net_format_decimal(char *buf, size_t size, usec_t u, usec_t unit, unsigned digits, const char *suffix);
/* True when s is an IPv4/IPv6 literal or a syntactically valid host name (letters, digits, '-'
 * and '_' in dot-separated labels of at most 63 characters, 253 in all). */
bool net_host_is_valid(const char *s);

/* Config value types. host: a host name or an IP literal, checked for syntax only (nothing is
 * resolved while loading); an IPv6 literal may be written in brackets, which are dropped; the
 * field is a char *. address: an IP literal; the field is a NetAddress (unset: family 0). */
extern const ConfigType net_config_type_host;
extern const ConfigType net_config_type_address;

/* ---- Name resolution, in a child process ---- */

typedef struct NetResolve NetResolve;

/* Gets either the addresses found (n >= 1, ports 0) with error NULL, or n == 0 and a short
 * error message ("Name or service not known"). Both are valid only during the call. */
typedef void (*net_resolve_handler_t)(const NetAddress *addresses, size_t n, const char *error, void *userdata);

/* Resolves name with getaddrinfo() (family AF_UNSPEC, AF_INET or AF_INET6) in a forked child
 * and reports through handler, always later from the event loop, never from within this call.
 * Returns 0 with a handle in *ret, or -errno. The handle is valid until the handler was called
 * or until net_resolve_cancel(), whichever comes first. */
int net_resolve(sd_event *event, const char *name, int family, net_resolve_handler_t handler, void *userdata,
                NetResolve **ret);
/* Abandons a resolution: kills the child with SIGKILL and closes its pipe; the handler is not
 * called. The rest is released once the child is reaped. Never blocks. Accepts NULL; returns NULL. */
NetResolve *net_resolve_cancel(NetResolve *r);

/* ---- Connecting ---- */

typedef struct NetConnect NetConnect;

/* Gets either a connected non-blocking socket (fd >= 0, which the handler then owns), the
 * address it is connected to and how long connect() took, or fd < 0 and a short error message
 * ("Connection refused", "cannot resolve: Name or service not known"). */
typedef void (*net_connect_handler_t)(int fd, const NetAddress *peer, usec_t elapsed, const char *error,
                                      void *userdata);

/* Connects a TCP socket to host (an IP literal, or a name resolved with net_resolve()) on port,
 * trying every address of a name in turn. Reports exactly once through handler, always from
 * the event loop, never from within this call. Returns 0 with *ret (owned by the caller, freed
 * with net_connect_free(), also from within the handler), or -errno. */
int net_connect(sd_event *event, const char *host, uint16_t port, net_connect_handler_t handler, void *userdata,
                NetConnect **ret);
/* Abandons what is still going on (resolution, connect) without calling the handler and
 * releases everything. Never blocks. Accepts NULL; returns NULL. */
NetConnect *net_connect_free(NetConnect *nc);

/* Has *io watch fd for events with handler: adds the source when *io is NULL, else changes what
 * it waits for. A probe's socket joins the loop only when it must wait. Returns 0 or -errno. */
int net_wait(sd_event *event, sd_event_source **io, int fd, uint32_t events, sd_event_io_handler_t handler,
             void *userdata);
