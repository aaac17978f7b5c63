/* SPDX-License-Identifier: MIT */
#include <strings.h>

#include "check.h"
#include "net.h"

/* [check.NAME] type=http: GET a plain-HTTP URL; it passes when the complete response (or its
 * first max-body bytes) arrives in time with an expected status and, with expect-body, a body
 * containing that text. No TLS: health endpoints listen on loopback or a local network, and a
 * TLS stack in the process that feeds the watchdog is more risk than it buys. */

typedef struct HttpUrl {
        char *text; /* as written, for the dump */
        char *host; /* a name or an IP literal, without brackets */
        unsigned port;
        char *path; /* "/..." with the query, without the fragment */
} HttpUrl;

typedef struct HttpSettings {
        HttpUrl url;
        IntList expect_status;
        char *expect_body; /* NULL: any body */
        unsigned max_body;
} HttpSettings;

static void free_url(void *field) {
        HttpUrl *u = field;

        free(u->text);
        free(u->host);
        free(u->path);
        *u = (HttpUrl) {};
}

static int url_fail(char **reason, const char *why, HttpUrl *u) {
        free_url(u);
        *reason = strdup(why);
        return *reason ? -EINVAL : -ENOMEM;
}

static int parse_url(const ConfigKey *key, const char *text, void *field, char **reason) {
        _cleanup_(freep) char *authority = NULL;
        HttpUrl u = {};
        const char *rest, *end, *port = NULL;
        char *host;

        for (const char *p = text; *p; p++)
                if ((unsigned char) *p <= ' ' || *p == 0x7f)
                        return url_fail(reason, "must not contain spaces or control characters (percent-encode them)", &u);
        if (strncasecmp(text, "https://", 8) == 0)
                return url_fail(reason, "uses https: https is not supported; probe the local plain-HTTP health "
                                "endpoint, or use an exec check with curl", &u);
        if (strncasecmp(text, "http://", 7) != 0)
                return url_fail(reason, strstr(text, "://") ? "has a scheme other than http://"
                                                            : "is not an http:// URL (e.g. http://127.0.0.1:8080/health)",
                                &u);

        rest = text + 7;
        end = rest + strcspn(rest, "/?#");
        authority = strndup(rest, (size_t) (end - rest));
        if (!authority)
                return -ENOMEM;
        if (strchr(authority, '@'))
                return url_fail(reason, "must not contain credentials (user@host)", &u);

        host = authority;
        if (host[0] == '[') {
                char *close = strchr(host, ']');
                NetAddress a;

                if (!close)
                        return url_fail(reason, "has an unterminated [IPv6 address]", &u);
                *close = '\0';
                host++;
                if (net_address_parse(host, &a) < 0 || a.sa.sa_family != AF_INET6)
                        return url_fail(reason, "has no IPv6 address within [ ]", &u);
                if (close[1] == ':')
                        port = close + 2;
                else if (close[1] != '\0')
                        return url_fail(reason, "has text after the [IPv6 address] that is not a :port", &u);
        } else {
                char *colon = strchr(host, ':');

                if (colon) {
                        *colon = '\0';
                        port = colon + 1;
                }
                if (!host[0])
                        return url_fail(reason, "has no host", &u);
                if (!net_host_is_valid(host))
                        return url_fail(reason, "has an invalid host name", &u);
        }
        u.port = 80;
        if (port && (parse_uint(port, &u.port) < 0 || u.port < 1 || u.port > 65535))
                return url_fail(reason, "has an invalid port (1-65535)", &u);

        u.text = strdup(text);
        u.host = strdup(host);
        /* The fragment is for browsers; "http://h?x" means the path "/?x". */
        if (asprintf(&u.path, "%s%.*s", *end == '/' ? "" : "/", (int) strcspn(end, "#"), end) < 0)
                u.path = NULL;
        if (!u.text || !u.host || !u.path) {
                free_url(&u);
                return -ENOMEM;
        }
        free_url(field);
        *(HttpUrl *) field = u;
        return 0;
}

static void format_url(FILE *f, const void *field) {
        fputs(strempty(((const HttpUrl *) field)->text), f);
}

static const ConfigType http_config_type_url = { sizeof(HttpUrl), parse_url, format_url, free_url };

static const ConfigKey http_keys[] = {
        { "url",           &http_config_type_url,  offsetof(HttpSettings, url), .required = true },
        { "expect-status", &config_type_int_list,  offsetof(HttpSettings, expect_status), "200", .min = 100, .max = 599 },
        { "expect-body",   &config_type_string,    offsetof(HttpSettings, expect_body) },
        { "max-body",      &config_type_unsigned,  offsetof(HttpSettings, max_body), "65536", .min = 1, .max = 16 << 20 },
        {}
};

static void http_verify(const CheckConfig *c, ConfigErrors *errors) {
        const HttpSettings *s = c->settings;

        if (s->expect_body && strlen(s->expect_body) > s->max_body)
                config_errors_add(errors, c->file, c->line,
                                  "[check.%s] can never pass: expect-body= (%zu bytes) is longer than max-body= (%u)",
                                  c->name, strlen(s->expect_body), s->max_body);
}

/* Bounds on what a server can make the probe read besides the body. A chunked body's framing
 * (the size lines with their extensions, the CRLFs) is bounded as a whole: 1-byte chunks with
 * long extensions would otherwise make max-body cost thousands of times its size. */
#define HTTP_LINE_MAX 8192
#define HTTP_HEADERS_MAX 100
#define HTTP_FRAMING_MAX (1024 * 1024)

/* What one wakeup of the event loop reads at most: a server that sends faster than the probe
 * parses must not keep the loop (and the pings, and the probe's own timeout) waiting. */
#define HTTP_READ_BUFFER 16384
#define HTTP_READS_PER_EVENT 4

typedef enum HttpState {
        HTTP_SENDING,
        HTTP_STATUS,
        HTTP_HEADERS,
        HTTP_BODY,       /* to Content-Length, or to the end of the connection */
        HTTP_CHUNK_SIZE,
        HTTP_CHUNK_DATA,
        HTTP_CHUNK_END,  /* the CRLF after a chunk's data */
} HttpState;

typedef struct HttpProbe {
        NetConnect *connect;
        int fd;
        sd_event_source *io;
        char *request;
        size_t request_len, sent;

        HttpState state;
        uint64_t received;          /* bytes of the response so far */
        uint64_t framing;           /* bytes of chunk size lines and CRLFs so far */
        char line[HTTP_LINE_MAX];
        size_t line_len;
        unsigned lines;
        int status;
        bool interim;               /* a 1xx response, which the real one follows */
        bool chunked, has_length;
        uint64_t length, remaining; /* Content-Length; what is left of it or of the chunk */
        char *body;                 /* max-body bytes, only with expect-body */
        size_t body_len;            /* counted up to max-body, kept or not */
        char error[160];
} HttpProbe;

static void http_probe_free(void *probe) {
        HttpProbe *p = probe;

        net_connect_free(p->connect);
        sd_event_source_disable_unref(p->io);
        if (p->fd >= 0)
                (void) close(p->fd);
        free(p->request);
        free(p->body);
        free(p);
}

static bool http_status_expected(const HttpSettings *s, int status) {
        for (size_t i = 0; i < s->expect_status.n; i++)
                if (s->expect_status.values[i] == status)
                        return true;
        return false;
}

/* Parse results: more input needed, the response is complete (or decided), or malformed. */
enum { HTTP_MORE = 0, HTTP_COMPLETE = 1, HTTP_MALFORMED = -1 };

static int http_malformed(HttpProbe *p, const char *what, const char *text) {
        char shown[48] = "";

        if (text)
                sanitize_line(shown, sizeof(shown), text, strlen(text));
        snprintf(p->error, sizeof(p->error), "%s%s%s%s", what, text ? ": \"" : "", text ? shown : "",
                 text ? "\"" : "");
        return HTTP_MALFORMED;
}

static int http_status_line(HttpProbe *p, const HttpSettings *s, const char *line) {
        /* "HTTP/1.1 200 OK"; the reason phrase may be empty or missing. */
        if (!startswith(line, "HTTP/") || line[5] < '0' || line[5] > '9' || line[6] != '.' || line[7] < '0' ||
            line[7] > '9' || line[8] != ' ' || line[9] < '1' || line[9] > '5' || line[10] < '0' || line[10] > '9' ||
            line[11] < '0' || line[11] > '9' || (line[12] != ' ' && line[12] != '\0'))
                return http_malformed(p, "not an HTTP response", line);
        p->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
        p->interim = p->status < 200 && p->status != 101 && !http_status_expected(s, p->status);
        p->state = HTTP_HEADERS;
        /* The verdict is known: no need to wait for the rest. */
        if (!p->interim && !http_status_expected(s, p->status))
                return HTTP_COMPLETE;
        return HTTP_MORE;
}

static int http_header(HttpProbe *p, char *line) {
        char *colon, *value, *end;

        if (line[0] == ' ' || line[0] == '\t')
                return HTTP_MORE; /* an obsolete continuation line */
        colon = strchr(line, ':');
        if (!colon)
                return http_malformed(p, "malformed header line", line);
        *colon = '\0';
        value = colon + 1 + strspn(colon + 1, " \t");
        for (end = value + strlen(value); end > value && (end[-1] == ' ' || end[-1] == '\t'); end--)
                *(end - 1) = '\0';

        if (strcasecmp(line, "Transfer-Encoding") == 0)
                /* "chunked" is always the last coding when present. */
                p->chunked = strcasestr(value, "chunked") != NULL;
        else if (strcasecmp(line, "Content-Length") == 0) {
                char *e;

                errno = 0;
                p->length = strtoull(value, &e, 10);
                if (!*value || *e || errno || value[0] == '-' || value[0] == '+')
                        return http_malformed(p, "invalid Content-Length", value);
                p->has_length = true;
        }
        return HTTP_MORE;
}

static int http_end_of_headers(HttpProbe *p) {
        if (p->interim) {
                p->interim = p->chunked = p->has_length = false;
                p->state = HTTP_STATUS;
                return HTTP_MORE;
        }
        /* RFC 9112 6.3: these never have a body; chunked wins over Content-Length. */
        if (p->status < 200 || p->status == 204 || p->status == 304)
                return HTTP_COMPLETE;
        if (p->chunked) {
                p->state = HTTP_CHUNK_SIZE;
                return HTTP_MORE;
        }
        if (p->has_length && p->length == 0)
                return HTTP_COMPLETE;
        p->remaining = p->length;
        p->state = HTTP_BODY;
        return HTTP_MORE;
}

static int http_chunk_size(HttpProbe *p, const char *line) {
        char *e;

        errno = 0;
        p->remaining = strtoull(line, &e, 16);
        if (e == line || errno || (*e && *e != ';' && *e != ' ' && *e != '\t') || line[0] == '-')
                return http_malformed(p, "malformed chunk size", line);
        if (p->remaining == 0)
                return HTTP_COMPLETE; /* the last chunk; trailers do not matter */
        p->state = HTTP_CHUNK_DATA;
        return HTTP_MORE;
}

static int http_line(HttpProbe *p, const HttpSettings *s, char *line) {
        if (++p->lines > HTTP_HEADERS_MAX && p->state != HTTP_CHUNK_SIZE && p->state != HTTP_CHUNK_END)
                return http_malformed(p, "too many header lines", NULL);

        switch (p->state) {
        case HTTP_STATUS:
                /* Tolerate stray empty lines before the status line (RFC 9112 2.2). */
                return line[0] ? http_status_line(p, s, line) : HTTP_MORE;
        case HTTP_HEADERS:
                return line[0] ? http_header(p, line) : http_end_of_headers(p);
        case HTTP_CHUNK_SIZE:
                return http_chunk_size(p, line);
        case HTTP_CHUNK_END:
                if (line[0])
                        return http_malformed(p, "malformed chunked body", NULL);
                p->state = HTTP_CHUNK_SIZE;
                return HTTP_MORE;
        default:
                return http_malformed(p, "unexpected response line", line);
        }
}

/* Keeps body bytes for expect-body, up to max-body. */
static int http_body(HttpProbe *p, const HttpSettings *s, const char *data, size_t n) {
        size_t take = n < s->max_body - p->body_len ? n : s->max_body - p->body_len;

        if (p->body)
                memcpy(p->body + p->body_len, data, take);
        p->body_len += take;
        return p->body_len >= s->max_body ? HTTP_COMPLETE : HTTP_MORE;
}

static int http_feed(HttpProbe *p, const HttpSettings *s, const char *data, size_t n) {
        int r;

        p->received += n;
        while (n > 0) {
                const char *nl;
                size_t k;

                if (p->state == HTTP_BODY || p->state == HTTP_CHUNK_DATA) {
                        bool counted = p->state == HTTP_CHUNK_DATA || p->has_length;

                        k = counted && p->remaining < n ? (size_t) p->remaining : n;
                        r = http_body(p, s, data, k);
                        if (r != HTTP_MORE)
                                return r;
                        data += k;
                        n -= k;
                        if (counted && (p->remaining -= k) == 0) {
                                if (p->state == HTTP_BODY)
                                        return HTTP_COMPLETE;
                                p->state = HTTP_CHUNK_END;
                        }
                        continue;
                }

                nl = memchr(data, '\n', n);
                k = nl ? (size_t) (nl - data) + 1 : n;
                if (p->line_len + k >= sizeof(p->line))
                        return http_malformed(p, "a line of the response is longer than 8 KiB", NULL);
                if ((p->state == HTTP_CHUNK_SIZE || p->state == HTTP_CHUNK_END) &&
                    (p->framing += k) > HTTP_FRAMING_MAX)
                        return http_malformed(p, "the chunked body's framing (chunk sizes and extensions) exceeds 1 MiB",
                                              NULL);
                memcpy(p->line + p->line_len, data, k);
                p->line_len += k;
                data += k;
                n -= k;
                if (!nl)
                        continue;
                /* Lines end in CRLF; a bare LF is accepted too. */
                p->line[--p->line_len] = '\0';
                if (p->line_len > 0 && p->line[p->line_len - 1] == '\r')
                        p->line[--p->line_len] = '\0';
                p->line_len = 0;
                r = http_line(p, s, p->line);
                if (r != HTTP_MORE)
                        return r;
        }
        return HTTP_MORE;
}

static void http_judge(Check *c, HttpProbe *p) {
        const HttpSettings *s = check_settings(c);
        char took[NET_LATENCY_MAX], expected[64] = "";
        size_t len = 0;

        net_format_latency(took, sizeof(took), now(CLOCK_MONOTONIC) - c->started);
        if (!http_status_expected(s, p->status)) {
                for (size_t i = 0; i < s->expect_status.n && len < sizeof(expected) - 8; i++)
                        len += (size_t) snprintf(expected + len, sizeof(expected) - len, "%s%d", i > 0 ? ", " : "",
                                                 s->expect_status.values[i]);
                check_done(c, false, "HTTP %d (expected %s) in %s", p->status, expected, took);
        } else if (s->expect_body && !memmem(p->body, p->body_len, s->expect_body, strlen(s->expect_body))) {
                if (p->body_len >= s->max_body)
                        check_done(c, false, "HTTP %d but body lacks \"%s\" in its first %zu bytes", p->status,
                                   s->expect_body, p->body_len);
                else
                        check_done(c, false, "HTTP %d but body lacks \"%s\"", p->status, s->expect_body);
        } else
                check_done(c, true, "HTTP %d in %s", p->status, took);
}

static void http_fail(Check *c, const char *fmt_error) {
        const HttpSettings *s = check_settings(c);
        char where[NET_HOST_PORT_MAX];

        check_done(c, false, "%s: %s", net_format_host_port(where, sizeof(where), s->url.host, s->url.port), fmt_error);
}

static void http_eof(Check *c, HttpProbe *p) {
        char why[96];

        if (p->state == HTTP_BODY && !p->has_length) {
                http_judge(c, p); /* the body ends with the connection */
                return;
        }
        if (p->state == HTTP_BODY)
                snprintf(why, sizeof(why), "connection closed after %zu of %llu body bytes", p->body_len,
                         (unsigned long long) p->length);
        else if (p->state >= HTTP_CHUNK_SIZE)
                snprintf(why, sizeof(why), "connection closed inside the chunked body");
        else if (p->received == 0)
                snprintf(why, sizeof(why), "connection closed without a response");
        else
                snprintf(why, sizeof(why), "connection closed inside the response headers");
        http_fail(c, why);
}

/* Reads what the socket has, up to HTTP_READS_PER_EVENT reads; the rest waits for the next
 * wakeup (the socket stays readable), after whatever else became due in between. */
static void http_receive(Check *c, HttpProbe *p) {
        const HttpSettings *s = check_settings(c);
        char buf[HTTP_READ_BUFFER];

        for (unsigned reads = 0; reads < HTTP_READS_PER_EVENT; reads++) {
                ssize_t k = read(p->fd, buf, sizeof(buf));
                int r;

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0 && errno == EAGAIN)
                        return;
                if (k < 0) {
                        http_fail(c, strerror(errno));
                        return;
                }
                if (k == 0) {
                        http_eof(c, p);
                        return;
                }
                r = http_feed(p, s, buf, (size_t) k);
                if (r == HTTP_COMPLETE) {
                        /* Whatever else the server has to send is not read: closing resets it. */
                        http_judge(c, p);
                        return;
                }
                if (r == HTTP_MALFORMED) {
                        http_fail(c, p->error);
                        return;
                }
        }
}

static int on_http_io(sd_event_source *source, int fd, uint32_t revents, void *userdata);

/* Waits in the event loop for the socket to become ready for events. */
static void http_wait(Check *c, HttpProbe *p, uint32_t events) {
        char why[96];
        int r = net_wait(c->event, &p->io, p->fd, events, on_http_io, c);

        if (r < 0) {
                snprintf(why, sizeof(why), "cannot wait for the %s: %s", events == EPOLLIN ? "response" : "socket",
                         strerror(-r));
                http_fail(c, why);
        }
}

static void http_send(Check *c, HttpProbe *p) {
        while (p->sent < p->request_len) {
                ssize_t k = send(p->fd, p->request + p->sent, p->request_len - p->sent, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0 && errno == EAGAIN) {
                        http_wait(c, p, EPOLLOUT);
                        return;
                }
                if (k < 0) {
                        char why[96];
                        snprintf(why, sizeof(why), "sending the request failed: %s", strerror(errno));
                        http_fail(c, why);
                        return;
                }
                p->sent += (size_t) k;
        }
        p->state = HTTP_STATUS;
        http_wait(c, p, EPOLLIN);
}

static int on_http_io(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        Check *c = userdata;
        HttpProbe *p = c->probe;

        if (p->state == HTTP_SENDING)
                http_send(c, p);
        else
                http_receive(c, p);
        return 0;
}

static void on_connected(int fd, const NetAddress *peer, usec_t elapsed, const char *error, void *userdata) {
        Check *c = userdata;
        HttpProbe *p = c->probe;

        p->connect = net_connect_free(p->connect);
        if (fd < 0) {
                http_fail(c, error);
                return;
        }
        p->fd = fd;
        /* A fresh connection takes the request at once: send it now, wait only for the response. */
        http_send(c, p);
}

static int http_start(Check *c) {
        const HttpSettings *s = check_settings(c);
        HttpProbe *p = calloc(1, sizeof(HttpProbe));
        char host[NET_HOST_PORT_MAX];
        int r;

        if (!p)
                return -ENOMEM;
        p->fd = -1;
        c->probe = p; /* the core's from here on, also when this fails */
        if (s->expect_body) {
                p->body = malloc(s->max_body);
                if (!p->body)
                        return -ENOMEM;
        }

        if (s->url.port == 80)
                snprintf(host, sizeof(host), strchr(s->url.host, ':') ? "[%s]" : "%s", s->url.host);
        else
                net_format_host_port(host, sizeof(host), s->url.host, s->url.port);
        /* HTTP/1.1 for servers that insist on it; Connection: close so the server ends the
         * response with the connection when it sends neither a length nor chunks. */
        r = asprintf(&p->request,
                     "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: healthdog/" HEALTHDOG_VERSION "\r\n"
                     "Accept: */*\r\nConnection: close\r\n\r\n",
                     s->url.path, host);
        if (r < 0) {
                p->request = NULL;
                return -ENOMEM;
        }
        p->request_len = (size_t) r;

        return net_connect(c->event, s->url.host, (uint16_t) s->url.port, on_connected, c, &p->connect);
}

const CheckKind check_kind_http = {
        .name = "http",
        .settings_size = sizeof(HttpSettings),
        .keys = http_keys,
        .verify = http_verify,
        .start = http_start,
        .probe_free = http_probe_free,
};
