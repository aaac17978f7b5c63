/* SPDX-License-Identifier: MIT */
/* What the daemon and the command line make of what another program prints:
 *  - the OSTree helper's reply through its socket, read by the real helper_run() (the result, a
 *    NUL byte, the messages, a NUL byte, the exit code in decimal) into a status, a JSON result
 *    and one line of messages for the log; and a probe's output, the first SPAWN_OUTPUT_MAX bytes
 *    folded into one line the same way;
 *  - JSON text through json.c: healthdog-ostree status --json, the control socket's replies and
 *    the status document, which `healthdog status` parses and prints (status_print());
 *  - json_append_string(), the writer behind every record and document, on the same bytes.
 * Invariants: what parses formats back to text that parses to the same tree; what the writer
 * writes parses back to the string written. */
#include <sys/socket.h>
#include <sys/un.h>

#include "helper.h"
#include "fuzz.h"
#include "json.h"
#include "spawn.h"
#include "status.h"

static FILE *devnull;
static sd_event *event;
static int listen_fd = -1;
static char socket_path[PATH_MAX], state_dir[PATH_MAX];
static OstreeConfig ostree = {
        .enable = OSTREE_ENABLE_YES,
        .helper = (char *) "/usr/libexec/healthdog-ostree",
        .sysroot = (char *) "/sysroot",
        .timeout = 60 * USEC_PER_SEC,
};

static void cleanup(void) {
        event = sd_event_unref(event);
        if (listen_fd >= 0)
                close(listen_fd);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        const char *root = fuzz_setup("fuzz-helper-json");
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        devnull = fopen("/dev/null", "we");
        if (!devnull || sd_event_new(&event) < 0)
                abort();
        atexit(cleanup);

        /* The helper's socket, served by this process itself between helper_run() and the loop. */
        fuzz_path(state_dir, sizeof(state_dir), "%s/state", root);
        fuzz_path(socket_path, sizeof(socket_path), "%s/helper.sock", root);
        if (strlen(socket_path) >= sizeof(sa.sun_path))
                abort();
        strcpy(sa.sun_path, socket_path);
        listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(listen_fd, 4) < 0)
                abort();
        ostree.helper_socket = socket_path;
        return 0;
}

typedef struct Reply {
        bool done;
        int status;
        bool result;
        char messages[1024];
} Reply;

static void on_done(int status, const JsonValue *result, const char *messages, void *userdata) {
        Reply *reply = userdata;

        reply->done = true;
        reply->status = status;
        reply->result = result;
        fuzz_assert(!result || result->type == JSON_OBJECT, "a result that is not an object");
        fuzz_assert(strlen(messages) < sizeof(reply->messages), "the messages are too long: %zu", strlen(messages));
        strcpy(reply->messages, messages);
}

/* What helper_run() must make of a reply: RESULT \0 MESSAGES \0 CODE, CODE digits up to 255 and
 * RESULT empty or one JSON object; else -EBADMSG. */
static int expected_status(const uint8_t *data, size_t size) {
        const uint8_t *nul = size > 0 ? memrchr(data, 0, size) : NULL, *first = size > 0 ? memchr(data, 0, size) : NULL;
        _cleanup_(json_freep) JsonValue *v = NULL;
        _cleanup_(freep) char *result = NULL;
        size_t n;
        unsigned v_code = 0;

        if (!nul || first == nul)
                return -EBADMSG;
        n = size - (size_t) (nul + 1 - data);
        if (n == 0)
                return -EBADMSG;
        for (const uint8_t *p = nul + 1; p < data + size; p++) {
                if (*p < '0' || *p > '9')
                        return -EBADMSG;
                v_code = v_code * 10 + (unsigned) (*p - '0');
                if (v_code > 255)
                        return -EBADMSG;
        }
        if (first > data) {
                result = strndup((const char *) data, (size_t) (first - data));
                if (!result || json_parse(result, &v) < 0 || v->type != JSON_OBJECT)
                        return -EBADMSG;
        }
        return (int) v_code;
}

static void check_socket_reply(const uint8_t *data, size_t size) {
        char *const args[] = { (char *) "identify-failed", NULL };
        const char expected[] = "--sysroot\0/sysroot\0--state-dir\0";
        char request[4096];
        HelperRun *run = NULL;
        Reply reply = {};
        size_t len = 0;
        ssize_t n;
        int fd, r;

        r = helper_run(event, &ostree, state_dir, args, on_done, &reply, &run);
        fuzz_assert(r == 0, "helper_run: %d", r);

        /* The request is complete once the daemon shut its side: the arguments, each ended by NUL. */
        fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        fuzz_assert(fd >= 0, "accept: %m");
        while ((n = read(fd, request + len, sizeof(request) - len)) > 0)
                len += (size_t) n;
        fuzz_assert(len > sizeof(expected) - 1 && memcmp(request, expected, sizeof(expected) - 1) == 0 &&
                            request[len - 1] == '\0',
                    "a bad request of %zu bytes", len);
        for (size_t done = 0; done < size; done += (size_t) n) {
                n = write(fd, data + done, size - done);
                fuzz_assert(n > 0, "write: %m");
        }
        close(fd);

        while (!reply.done) {
                r = sd_event_run(event, UINT64_MAX);
                fuzz_assert(r >= 0, "sd_event_run: %d", r);
        }
        fuzz_assert(reply.status == expected_status(data, size), "status %d for a reply that says %d", reply.status,
                    expected_status(data, size));
        fuzz_assert(!reply.result || reply.status >= 0, "a result with status %d", reply.status);
        for (const char *p = reply.messages; *p; p++)
                fuzz_assert((unsigned char) *p >= 0x20 && *p != 0x7f, "a control character in the messages");
}

static char *format(const JsonValue *v, bool pretty) {
        char *s = NULL;
        int r = json_format(v, pretty, &s);

        fuzz_assert(r == 0, "json_format: %d", r);
        return s;
}

/* What healthdog-ostree status --json promises, read the way a consumer reads it. */
static void walk_helper_status(const JsonValue *v) {
        const JsonValue *deployments = json_get(v, "deployments", NULL), *q = json_get(v, "quarantined", NULL);
        uint64_t u;

        (void) json_string(json_get(v, "sysroot", NULL));
        (void) json_uint(json_get(v, "booted", NULL), &u);
        (void) json_uint(json_get(v, "default", NULL), &u);
        for (size_t i = 0; deployments && deployments->type == JSON_ARRAY && i < deployments->n_items; i++) {
                const JsonValue *d = deployments->items[i];

                (void) json_uint(json_get(d, "index", NULL), &u);
                (void) json_uint(json_get(d, "deployserial", NULL), &u);
                (void) json_string(json_get(d, "osname", NULL));
                (void) json_string(json_get(d, "checksum", NULL));
                (void) json_string(json_get(d, "version", NULL));
                (void) json_true(json_get(d, "booted", NULL));
                (void) json_true(json_get(d, "pinned", NULL));
        }
        for (size_t i = 0; q && q->type == JSON_ARRAY && i < q->n_items; i++)
                (void) json_string(q->items[i]);
}

static void check_json(const char *text) {
        _cleanup_(json_freep) JsonValue *v = NULL, *again = NULL;
        _cleanup_(freep) char *compact = NULL, *pretty = NULL, *compact2 = NULL;
        const JsonValue *status;
        int r;

        r = json_parse(text, &v);
        fuzz_assert(r == 0 || r == -EBADMSG, "json_parse: %d", r);
        if (r < 0)
                return;

        compact = format(v, false);
        pretty = format(v, true);
        fuzz_assert(!strchr(compact, '\n'), "the compact form spans lines: %s", compact);
        r = json_parse(compact, &again);
        fuzz_assert(r == 0, "the compact form does not parse (%d): %s", r, compact);
        compact2 = format(again, false);
        fuzz_assert(streq(compact, compact2), "not stable:\n%s\n%s", compact, compact2);
        again = json_free(again);
        r = json_parse(pretty, &again);
        fuzz_assert(r == 0, "the pretty form does not parse (%d): %s", r, pretty);
        free(compact2);
        compact2 = format(again, false);
        fuzz_assert(streq(compact, compact2), "pretty and compact differ:\n%s\n%s", compact, compact2);

        walk_helper_status(v);
        /* `healthdog status` prints the "status" member of the daemon's reply, or the offline
         * document itself; either way an object from outside. */
        status = json_get(v, "status", NULL);
        if (v->type == JSON_OBJECT)
                status_print(v, devnull);
        if (status && status->type == JSON_OBJECT)
                status_print(status, devnull);
}

/* The writer must turn any C string into a JSON string that reads back as the same bytes. */
static void check_writer(const char *s) {
        _cleanup_(json_freep) JsonValue *v = NULL;
        _cleanup_(freep) char *text = NULL;
        size_t len = 0, cap = 0;
        int r;

        r = json_append_string(&text, &len, &cap, s);
        fuzz_assert(r >= 0 && text && strlen(text) == len, "json_append_string: %d", r);
        fuzz_assert(!strchr(text, '\n'), "a written string spans lines: %s", text);
        r = json_parse(text, &v);
        fuzz_assert(r == 0 && v->type == JSON_STRING, "a written string does not parse (%d): %s", r, text);
        fuzz_assert(streq(v->text, s), "a written string reads back differently: %s", text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(freep) char *text = NULL;
        char line[SPAWN_OUTPUT_MAX + 8];

        /* As on_helper_exit() gets it: at most SPAWN_OUTPUT_MAX bytes, not NUL-terminated. */
        sanitize_line(line, sizeof(line), (const char *) data, size < SPAWN_OUTPUT_MAX ? size : SPAWN_OUTPUT_MAX);
        fuzz_assert(strlen(line) < sizeof(line), "sanitize_line overflowed");
        for (const char *p = line; *p; p++)
                fuzz_assert((unsigned char) *p >= 0x20 && *p != 0x7f, "sanitize_line left a control character");

        check_socket_reply(data, size);

        text = strndup((const char *) data, size);
        if (!text)
                return 0;
        check_json(text);
        check_writer(text);
        return 0;
}
