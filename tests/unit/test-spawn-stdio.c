/* SPDX-License-Identifier: MIT */
/* Unit tests for spawn_start()'s stdio_fd: a program whose stdin and stdout are one end of a
 * socket pair, as the daemon runs `healthdog-ostree serve` as its child, on a real sd-event loop.
 * The last test runs the real helper (when built) and reads its framed reply. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <sys/socket.h>

#include "spawn.h"

typedef struct Exit {
        bool done;
        siginfo_t si;
        char output[SPAWN_OUTPUT_MAX + 1];
        size_t len;
} Exit;

static void on_exit_cb(const siginfo_t *si, const char *output, size_t len, void *userdata) {
        Exit *e = userdata;

        e->done = true;
        e->si = *si;
        memcpy(e->output, output, len);
        e->output[len] = 0;
        e->len = len;
}

/* Runs argv with stdin and stdout on a socket pair: sends request (len bytes), then end of file,
 * and returns what came back until the program closed its end, in reply (of size). */
static size_t converse(char *const *argv, const char *request, size_t len, char *reply, size_t size, Exit *e) {
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        int sv[2];
        Spawn *s = NULL;
        size_t got = 0;
        ssize_t k;

        assert_int_equal(sd_event_new(&event), 0);
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        assert_int_equal(spawn_start(event, &(SpawnOptions) { .argv = argv, .stdio_fd = sv[1] }, on_exit_cb, e, &s),
                         0);
        /* The program has its own copy: ours must go, or the reading below never sees the end. */
        close(sv[1]);
        /* A program that is gone already (it could not be executed) refuses the request. */
        k = send(sv[0], request, len, MSG_NOSIGNAL);
        assert_true(k == (ssize_t) len || (k < 0 && (errno == EPIPE || errno == ECONNRESET)));
        (void) shutdown(sv[0], SHUT_WR);
        while ((k = read(sv[0], reply + got, size - 1 - got)) > 0)
                got += (size_t) k;
        /* A program that exits without reading everything resets the connection. */
        assert_true(k == 0 || errno == ECONNRESET);
        reply[got] = 0;
        close(sv[0]);
        while (!e->done)
                assert_true(sd_event_run(event, UINT64_MAX) >= 0);
        return got;
}

static void test_stdin_stdout_are_the_socket(void **state) {
        char *const argv[] = { (char *) "sh", (char *) "-c",
                               (char *) "read -r line; echo \"got $line\"; echo oops >&2; cat; exit 3", NULL };
        char reply[256];
        Exit e = {};
        size_t n = converse(argv, "hello\nrest\0of it", 16, reply, sizeof(reply), &e);

        /* stdin to its end (a NUL byte included), stdout back; stderr went to /dev/null. */
        assert_int_equal(n, 20);
        assert_memory_equal(reply, "got hello\nrest\0of it", 20);
        assert_null(strstr(reply, "oops"));
        assert_int_equal(e.si.si_code, CLD_EXITED);
        assert_int_equal(e.si.si_status, 3);
        /* Nothing is captured. */
        assert_int_equal(e.len, 0);
}

static void test_exec_failure(void **state) {
        char *const argv[] = { (char *) "/nonexistent/program", NULL };
        char reply[64];
        Exit e = {};

        /* The exec error is not written to the peer, who would take it for a reply. */
        assert_int_equal(converse(argv, "x", 1, reply, sizeof(reply), &e), 0);
        assert_int_equal(e.si.si_code, CLD_EXITED);
        assert_int_equal(e.si.si_status, 127);
}

static void test_bad_fd(void **state) {
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        char *const argv[] = { (char *) "true", NULL };
        Spawn *s = NULL;
        Exit e = {};

        assert_int_equal(sd_event_new(&event), 0);
        for (int fd = -1; fd <= STDERR_FILENO; fd++)
                if (fd != 0)
                        assert_int_equal(spawn_start(event, &(SpawnOptions) { .argv = argv, .stdio_fd = fd }, on_exit_cb,
                                                     &e, &s),
                                         -EBADF);
        assert_false(e.done);
}

static void test_default_captures(void **state) {
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        char *const argv[] = { (char *) "sh", (char *) "-c", (char *) "cat; echo out; echo err >&2", NULL };
        Spawn *s = NULL;
        Exit e = {};

        /* Without stdio_fd: stdin is /dev/null (cat ends at once), stdout and stderr are captured. */
        assert_int_equal(sd_event_new(&event), 0);
        assert_int_equal(spawn_start(event, &(SpawnOptions) { .argv = argv }, on_exit_cb, &e, &s), 0);
        while (!e.done)
                assert_true(sd_event_run(event, UINT64_MAX) >= 0);
        assert_string_equal(e.output, "out\nerr\n");
        assert_int_equal(e.si.si_status, 0);
}

/* The daemon's child mode: healthdog-ostree serve over a socket pair answers with the frame
 * RESULT NUL MESSAGES NUL CODE. */
static void test_helper_serve(void **state) {
        const char *top = getenv("SRCDIR");
        _cleanup_(freep) char *helper = NULL;
        char *argv[] = { NULL, (char *) "serve", NULL };
        const char request[] = "--sysroot\0/nonexistent/sysroot\0--json\0status\0";
        char reply[4096], *messages, *code;
        Exit e = {};
        size_t n;

        assert_true(asprintf(&helper, "%s/build/asan/healthdog-ostree", top ?: ".") >= 0);
        if (access(helper, X_OK) < 0) {
                print_message("%s is not built, skipped\n", helper);
                skip();
        }
        argv[0] = helper;
        n = converse(argv, request, sizeof(request) - 1, reply, sizeof(reply), &e);
        messages = memchr(reply, 0, n);
        assert_non_null(messages);
        messages++;
        code = memchr(messages, 0, n - (size_t) (messages - reply));
        assert_non_null(code);
        *code++ = 0;
        /* No result, the reason among the messages, exit 3: not an OSTree system. */
        assert_true(messages == reply + 1);
        assert_non_null(strstr(messages, "'/nonexistent/sysroot' is not an OSTree sysroot"));
        assert_string_equal(code, "3");
        assert_int_equal(e.si.si_code, CLD_EXITED);
        assert_int_equal(e.si.si_status, 3);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_stdin_stdout_are_the_socket),
                cmocka_unit_test(test_exec_failure),
                cmocka_unit_test(test_bad_fd),
                cmocka_unit_test(test_default_captures),
                cmocka_unit_test(test_helper_serve),
        };
        sigset_t mask;

        /* As the daemon does: sd-event reaps children through SIGCHLD, which must be blocked. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        assert_int_equal(sigprocmask(SIG_BLOCK, &mask, NULL), 0);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
