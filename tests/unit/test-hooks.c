/* SPDX-License-Identifier: MIT */
/* Unit tests for src/boot/hooks.c: real hook scripts in a temporary directory, run on a real sd-event
 * loop. The test process is a child subreaper, so what a killed hook left behind is reparented
 * here and its exit status can be checked. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "hooks.h"
#include "tmpdir.h"

#define FIXED_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
/* What every test hook does unless told otherwise: append its own name to $OUT/log. */
#define LOG_NAME "echo \"${0##*/}\" >>\"$OUT/log\"\n"
/* A hook that hangs with a grandchild, after writing both pids (grandchild first) to $OUT/pids.
 * Only builtins besides the two sleeps: whatever else is in its group when it is killed must have
 * died of SIGKILL, and a single short write() is never seen half done. */
#define HANG "sleep 30 &\necho \"$! $$\" >\"$OUT/pids\"\nsleep 30\n"

typedef struct Fixture {
        char *base;
        char *hooks;    /* the hook directory */
        char *out;      /* where the hooks write */
        char *out_env;  /* "OUT=..." */
        sd_event *event;
} Fixture;

typedef struct Outcome {
        char *events;   /* one "name result how[: output]" line per on_hook call */
        size_t len, cap;
        unsigned hooks, done, ran, failed;
        usec_t first_at, done_at;
        HookRun *run;   /* for the callbacks that cancel it */
        bool cancel_on_hook, cancel_on_done;
} Outcome;

static char *test_path(const char *dir, const char *name) {
        char *p;

        assert_true(asprintf(&p, "%s/%s", dir, name) >= 0);
        return p;
}

static int setup(void **state) {
        const char *tmp = getenv("TEST_TMPDIR");
        Fixture *f = calloc(1, sizeof(Fixture));

        if (!f || asprintf(&f->base, "%s/test-hooks.XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0 || !mkdtemp(f->base))
                return -1;
        f->hooks = test_path(f->base, "hooks.d");
        f->out = test_path(f->base, "out");
        if (mkdir(f->hooks, 0755) < 0 || mkdir(f->out, 0755) < 0 || asprintf(&f->out_env, "OUT=%s", f->out) < 0 ||
            sd_event_new(&f->event) < 0)
                return -1;
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;

        sd_event_unref(f->event);
        (void) rm_rf(f->base);
        free(f->base);
        free(f->hooks);
        free(f->out);
        free(f->out_env);
        free(f);
        return 0;
}

static void write_hook(const Fixture *f, const char *name, mode_t mode, const char *body) {
        _cleanup_(freep) char *path = test_path(f->hooks, name);
        _cleanup_(fclosep) FILE *file = fopen(path, "we");

        assert_non_null(file);
        fprintf(file, "#!/bin/sh\n%s", body);
        assert_int_equal(fflush(file), 0);
        assert_int_equal(chmod(path, mode), 0); /* exact, whatever the umask */
}

/* The contents of a file the hooks wrote, "" when there is none. */
static char *read_out(const Fixture *f, const char *name) {
        _cleanup_(freep) char *path = test_path(f->out, name);
        _cleanup_(fclosep) FILE *file = fopen(path, "re");
        char *data = calloc(1, 4097);

        assert_non_null(data);
        if (file)
                (void) fread(data, 1, 4096, file);
        return data;
}

static const char *result_name(HookResult r) {
        switch (r) {
        case HOOK_SUCCESS: return "success";
        case HOOK_FAILED:  return "failed";
        case HOOK_REFUSED: return "refused";
        case HOOK_SKIPPED: return "skipped";
        }
        return "?";
}

static void on_hook(const char *name, HookResult result, const char *how, const char *output, void *userdata) {
        Outcome *o = userdata;

        assert_int_equal(buf_appendf(&o->events, &o->len, &o->cap, "%s %s %s%s%s\n", name, result_name(result), how,
                                     output[0] ? ": " : "", output), 0);
        if (o->hooks++ == 0)
                o->first_at = now(CLOCK_MONOTONIC);
        if (o->cancel_on_hook)
                hooks_cancel(TAKE_PTR(o->run));
}

static void on_done(unsigned ran, unsigned failed, void *userdata) {
        Outcome *o = userdata;

        o->done++;
        o->ran = ran;
        o->failed = failed;
        o->done_at = now(CLOCK_MONOTONIC);
        if (o->cancel_on_done)
                hooks_cancel(o->run); /* a no-op by now, and no double free */
        o->run = NULL;
}

static void outcome_done(Outcome *o) {
        free(o->events);
}

static void run_loop_for(sd_event *event, usec_t duration) {
        usec_t end = now(CLOCK_MONOTONIC) + duration;

        for (usec_t t; (t = now(CLOCK_MONOTONIC)) < end;)
                assert_true(sd_event_run(event, end - t) >= 0);
}

static void run_until_done(const Fixture *f, Outcome *o) {
        usec_t end = now(CLOCK_MONOTONIC) + 10 * USEC_PER_SEC;

        while (!o->done) {
                if (now(CLOCK_MONOTONIC) > end)
                        fail_msg("the hooks did not finish within 10s; so far:\n%s", strempty(o->events));
                assert_true(sd_event_run(f->event, 50 * USEC_PER_MSEC) >= 0);
        }
        /* Nothing more arrives after on_done. */
        run_loop_for(f->event, 20 * USEC_PER_MSEC);
        assert_int_equal(o->done, 1);
}

static int start(const Fixture *f, const char *dir, usec_t timeout, Outcome *o) {
        char verdict[] = "HEALTHDOG_VERDICT=green";
        char *env[] = { verdict, f->out_env, NULL };

        return hooks_run(f->event, dir, timeout, env, on_hook, on_done, o, &o->run);
}

/* Runs the hooks of the fixture's directory to the end. */
static void run_hooks(const Fixture *f, usec_t timeout, Outcome *o) {
        assert_int_equal(start(f, f->hooks, timeout, o), 0);
        assert_non_null(o->run);
        run_until_done(f, o);
}

/* Waits until the hanging hook wrote its pids: [0] its grandchild, [1] itself. */
static void wait_for_pids(const Fixture *f, pid_t pids[2]) {
        usec_t end = now(CLOCK_MONOTONIC) + 5 * USEC_PER_SEC;

        for (;;) {
                _cleanup_(freep) char *data = read_out(f, "pids");
                int a, b;

                if (sscanf(data, "%d %d", &a, &b) == 2) {
                        pids[0] = a;
                        pids[1] = b;
                        return;
                }
                assert_true(now(CLOCK_MONOTONIC) < end);
                if (f->event)
                        assert_true(sd_event_run(f->event, 10 * USEC_PER_MSEC) >= 0);
                else
                        usleep(10000);
        }
}

/* Waits until nothing is left of the hook's process group: what the killed hook left behind is
 * reparented to this subreaper (or was reaped by the dying shell); every such process reaped here
 * must have died of SIGKILL. Call it once the hook itself is reaped. */
static void assert_group_gone(const Fixture *f, pid_t pgid) {
        usec_t end = now(CLOCK_MONOTONIC) + 2 * USEC_PER_SEC;

        while (kill(-pgid, 0) == 0) {
                siginfo_t si = {};

                if (waitid(P_PGID, (id_t) pgid, &si, WEXITED | WNOHANG) == 0 && si.si_pid > 0) {
                        assert_int_equal(si.si_code, CLD_KILLED);
                        assert_int_equal(si.si_status, SIGKILL);
                        continue;
                }
                assert_true(now(CLOCK_MONOTONIC) < end);
                if (f->event)
                        assert_true(sd_event_run(f->event, 10 * USEC_PER_MSEC) >= 0);
                else
                        usleep(10000);
        }
        assert_int_equal(errno, ESRCH);
}

static void assert_gone(pid_t pid) {
        assert_int_equal(kill(pid, 0), -1);
        assert_int_equal(errno, ESRCH);
}

/* The hook itself is reaped by its spawn's child source on the loop. Returns how long that took. */
static usec_t assert_reaped_by_loop(const Fixture *f, pid_t pid) {
        usec_t start_at = now(CLOCK_MONOTONIC), end = start_at + 2 * USEC_PER_SEC;

        while (kill(pid, 0) == 0) {
                assert_true(now(CLOCK_MONOTONIC) < end);
                assert_true(sd_event_run(f->event, 10 * USEC_PER_MSEC) >= 0);
        }
        assert_int_equal(errno, ESRCH);
        return now(CLOCK_MONOTONIC) - start_at;
}

/* ---- tests ---- */

static void test_order(void **state) {
        Fixture *f = *state;
        _cleanup_(freep) char *log = NULL;
        Outcome o = {};

        write_hook(f, "10-a", 0755, LOG_NAME "echo sent\n");
        write_hook(f, "2-b", 0755, LOG_NAME);
        write_hook(f, "20-c", 0755, LOG_NAME);
        write_hook(f, "a-lower", 0755, LOG_NAME);
        write_hook(f, "B-upper", 0755, LOG_NAME);
        run_hooks(f, 5 * USEC_PER_SEC, &o);

        /* strcmp() order, byte by byte: not numeric ("2-b" before "10-a") nor the locale's ("a" before
         * "B"). '-' sorts before '0', so "2-b" comes before "20-c". */
        log = read_out(f, "log");
        assert_string_equal(log, "10-a\n2-b\n20-c\nB-upper\na-lower\n");
        assert_string_equal(o.events,
                            "10-a success exited 0: sent\n"
                            "2-b success exited 0\n"
                            "20-c success exited 0\n"
                            "B-upper success exited 0\n"
                            "a-lower success exited 0\n");
        assert_int_equal(o.ran, 5);
        assert_int_equal(o.failed, 0);
        outcome_done(&o);
}

static void test_environment(void **state) {
        Fixture *f = *state;
        _cleanup_(freep) char *long_output = NULL;
        Outcome o = {};

        write_hook(f, "10-env", 0755, "printf '%s|%s|%s' \"$HEALTHDOG_VERDICT\" \"$PATH\" \"${HOME-unset}\"\n");
        write_hook(f, "20-lines", 0755, "printf 'one\\ntwo\\n\\tthree\\n'\n");
        /* Far more than is kept: the hook must not block on a full pipe, the output is cut. */
        write_hook(f, "30-long", 0755,
                   "i=0; while [ $i -lt 2000 ]; do echo xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; i=$((i+1)); done\n");
        run_hooks(f, 5 * USEC_PER_SEC, &o);

        assert_int_equal(o.ran, 3);
        assert_int_equal(o.failed, 0);
        assert_non_null(startswith(o.events, "10-env success exited 0: green|" FIXED_PATH "|unset\n"
                                             "20-lines success exited 0: one | two | ?three\n"
                                             "30-long success exited 0: xxxx"));
        long_output = strdup(strstr(o.events, "30-long success exited 0: ") + strlen("30-long success exited 0: "));
        assert_non_null(long_output);
        /* At most 200 characters, newline of the event line included here. */
        assert_true(strlen(long_output) <= 200 + 1);
        assert_true(strlen(long_output) >= 190);
        outcome_done(&o);
}

static void test_failing(void **state) {
        Fixture *f = *state;
        _cleanup_(freep) char *log = NULL;
        Outcome o = {};

        write_hook(f, "10-fail", 0755, LOG_NAME "echo boom\nexit 3\n");
        write_hook(f, "20-next", 0755, LOG_NAME);
        write_hook(f, "30-segv", 0755, LOG_NAME "kill -SEGV $$\n");
        write_hook(f, "40-last", 0755, LOG_NAME);
        run_hooks(f, 5 * USEC_PER_SEC, &o);

        log = read_out(f, "log");
        assert_string_equal(log, "10-fail\n20-next\n30-segv\n40-last\n");
        assert_string_equal(o.events,
                            "10-fail failed exited 3: boom\n"
                            "20-next success exited 0\n"
                            "30-segv failed killed by signal SEGV\n"
                            "40-last success exited 0\n");
        assert_int_equal(o.ran, 4);
        assert_int_equal(o.failed, 2);
        outcome_done(&o);
}

static void test_timeout(void **state) {
        Fixture *f = *state;
        _cleanup_(freep) char *log = NULL;
        const usec_t timeout = 500 * USEC_PER_MSEC;
        Outcome o = {};
        usec_t started;
        pid_t pids[2];

        write_hook(f, "10-hang", 0755, HANG);
        write_hook(f, "20-after", 0755, LOG_NAME);
        started = now(CLOCK_MONOTONIC);
        run_hooks(f, timeout, &o);

        assert_string_equal(o.events,
                            "10-hang failed timed out after 500ms\n"
                            "20-after success exited 0\n");
        assert_int_equal(o.ran, 2);
        assert_int_equal(o.failed, 1);
        log = read_out(f, "log");
        assert_string_equal(log, "20-after\n");

        print_message("timeout 500ms: killed after %.1f ms, all done after %.1f ms\n",
                      (double) (o.first_at - started) / USEC_PER_MSEC, (double) (o.done_at - started) / USEC_PER_MSEC);
        assert_true(o.first_at - started >= timeout);
        assert_true(o.done_at - started < timeout + 200 * USEC_PER_MSEC);

        wait_for_pids(f, pids);
        (void) assert_reaped_by_loop(f, pids[1]);
        assert_group_gone(f, pids[1]);
        assert_gone(pids[0]);
        outcome_done(&o);
}

static void test_skipped(void **state) {
        Fixture *f = *state;
        _cleanup_(freep) char *log = NULL, *dir = test_path(f->hooks, "40-dir"), *link = test_path(f->hooks, "60-link"),
                             *dangling = test_path(f->hooks, "70-dangling");
        Outcome o = {};

        write_hook(f, "10-noexec", 0644, LOG_NAME);
        write_hook(f, "20-backup~", 0755, LOG_NAME);
        write_hook(f, ".hidden", 0755, LOG_NAME);
        write_hook(f, "30-x.dpkg-old", 0755, LOG_NAME);
        write_hook(f, "31-x.rpmsave", 0755, LOG_NAME);
        write_hook(f, "32-x.ucf-dist", 0755, LOG_NAME);
        write_hook(f, "33-x.new", 0755, LOG_NAME);
        assert_int_equal(mkdir(dir, 0755), 0);
        write_hook(f, "50-ok", 0755, LOG_NAME);
        assert_int_equal(symlink("50-ok", link), 0);
        assert_int_equal(symlink("nowhere", dangling), 0);
        run_hooks(f, 5 * USEC_PER_SEC, &o);

        log = read_out(f, "log");
        assert_string_equal(log, "50-ok\n60-link\n");
        /* Backup and hidden files are passed over in silence, the rest is reported. */
        assert_string_equal(o.events,
                            "10-noexec skipped not executable\n"
                            "40-dir skipped not a regular file\n"
                            "50-ok success exited 0\n"
                            "60-link success exited 0\n"
                            "70-dangling skipped cannot stat: No such file or directory\n");
        assert_int_equal(o.ran, 2);
        assert_int_equal(o.failed, 0);
        outcome_done(&o);
}

static void test_refused(void **state) {
        Fixture *f = *state;
        _cleanup_(freep) char *log = NULL, *group = test_path(f->hooks, "20-group"),
                             *owner = test_path(f->hooks, "30-owner"),
                             *root_group = test_path(f->hooks, "35-root-group"),
                             *link = test_path(f->hooks, "50-link-to-world");
        bool root = geteuid() == 0;
        HookRun *run = NULL;
        Outcome o = {};

        write_hook(f, "10-world", 0777, LOG_NAME);
        write_hook(f, "40-ok", 0755, LOG_NAME);
        /* A symlink is judged by its target. */
        assert_int_equal(symlink("10-world", link), 0);
        if (root) {
                write_hook(f, "20-group", 0775, LOG_NAME);
                assert_int_equal(chown(group, (uid_t) -1, 4321), 0);
                write_hook(f, "30-owner", 0755, LOG_NAME);
                assert_int_equal(chown(owner, 4321, (gid_t) -1), 0);
                write_hook(f, "35-root-group", 0775, LOG_NAME);
                assert_int_equal(chown(root_group, (uid_t) -1, 0), 0);
        } else
                print_message("not root: the owner and group cases are left out\n");
        run_hooks(f, 5 * USEC_PER_SEC, &o);

        log = read_out(f, "log");
        if (root) {
                assert_string_equal(log, "35-root-group\n40-ok\n");
                assert_string_equal(o.events,
                                    "10-world refused writable by everyone (mode 0777)\n"
                                    "20-group refused writable by a non-root group (mode 0775)\n"
                                    "30-owner refused owned by uid 4321\n"
                                    "35-root-group success exited 0\n"
                                    "40-ok success exited 0\n"
                                    "50-link-to-world refused writable by everyone (mode 0777)\n");
                assert_int_equal(o.ran, 6);
                assert_int_equal(o.failed, 4);
        } else {
                assert_string_equal(log, "40-ok\n");
                assert_int_equal(o.ran, 3);
                assert_int_equal(o.failed, 2);
        }
        outcome_done(&o);

        /* Whoever can write the directory can add hooks: nothing runs. */
        assert_int_equal(chmod(f->hooks, 0777), 0);
        assert_int_equal(hooks_run(f->event, f->hooks, USEC_PER_SEC, NULL, on_hook, on_done, &o, &run), -EPERM);
        assert_null(run);
}

static void test_missing_dir(void **state) {
        Fixture *f = *state;
        _cleanup_(freep) char *missing = test_path(f->base, "no-such.d"), *file = test_path(f->out, "file");
        HookRun *run = NULL;
        Outcome o = {};

        assert_int_equal(start(f, missing, USEC_PER_SEC, &o), 0);
        assert_non_null(o.run);
        /* Never from within hooks_run(): the caller has its handle first. */
        assert_int_equal(o.done, 0);
        run_until_done(f, &o);
        assert_int_equal(o.ran, 0);
        assert_int_equal(o.failed, 0);
        assert_null(o.events);

        assert_int_equal(close(open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0644)), 0);
        assert_int_equal(hooks_run(f->event, file, USEC_PER_SEC, NULL, NULL, NULL, NULL, &run), -ENOTDIR);
        assert_int_equal(hooks_run(f->event, f->hooks, 0, NULL, NULL, NULL, NULL, &run), -EINVAL);
        assert_null(run);
}

static void test_empty_dir(void **state) {
        Fixture *f = *state;
        Outcome o = {};

        assert_int_equal(start(f, f->hooks, USEC_PER_SEC, &o), 0);
        assert_int_equal(o.done, 0);
        run_until_done(f, &o);
        assert_int_equal(o.ran, 0);
        assert_int_equal(o.failed, 0);
        assert_null(o.events);

        /* No callbacks at all is fine too. */
        o.run = NULL;
        assert_int_equal(hooks_run(f->event, f->hooks, USEC_PER_SEC, NULL, NULL, NULL, NULL, &o.run), 0);
        run_loop_for(f->event, 20 * USEC_PER_MSEC);
}

static void test_cancel(void **state) {
        Fixture *f = *state;
        _cleanup_(freep) char *log = NULL;
        Outcome o = {};
        usec_t cancelled, reaped;
        pid_t pids[2];

        write_hook(f, "10-hang", 0755, HANG);
        write_hook(f, "20-after", 0755, LOG_NAME);
        assert_int_equal(start(f, f->hooks, 30 * USEC_PER_SEC, &o), 0);
        wait_for_pids(f, pids);
        assert_int_equal(kill(pids[0], 0), 0);
        assert_int_equal(kill(pids[1], 0), 0);

        cancelled = now(CLOCK_MONOTONIC);
        hooks_cancel(TAKE_PTR(o.run));
        hooks_cancel(NULL);
        reaped = assert_reaped_by_loop(f, pids[1]);
        assert_group_gone(f, pids[1]);
        assert_gone(pids[0]);
        print_message("cancel: hook reaped after %.1f ms, its group gone after %.1f ms\n",
                      (double) reaped / USEC_PER_MSEC, (double) (now(CLOCK_MONOTONIC) - cancelled) / USEC_PER_MSEC);

        /* No callback afterwards, and the next hook never starts. */
        run_loop_for(f->event, 300 * USEC_PER_MSEC);
        assert_int_equal(o.hooks, 0);
        assert_int_equal(o.done, 0);
        log = read_out(f, "log");
        assert_string_equal(log, "");
        outcome_done(&o);
}

static void test_cancel_from_callbacks(void **state) {
        Fixture *f = *state;
        _cleanup_(freep) char *log = NULL;
        Outcome o = { .cancel_on_hook = true }, o2 = { .cancel_on_done = true };

        write_hook(f, "10-a", 0755, LOG_NAME);
        write_hook(f, "20-b", 0755, LOG_NAME);
        assert_int_equal(start(f, f->hooks, 5 * USEC_PER_SEC, &o), 0);
        run_loop_for(f->event, 500 * USEC_PER_MSEC);
        assert_string_equal(o.events, "10-a success exited 0\n");
        assert_int_equal(o.done, 0);
        log = read_out(f, "log");
        assert_string_equal(log, "10-a\n");
        outcome_done(&o);

        run_hooks(f, 5 * USEC_PER_SEC, &o2);
        assert_int_equal(o2.ran, 2);
        outcome_done(&o2);
}

static void test_free_loop(void **state) {
        Fixture *f = *state;
        Outcome o = {};
        pid_t pids[2];
        int status;

        write_hook(f, "10-hang", 0755, HANG);
        assert_int_equal(start(f, f->hooks, 30 * USEC_PER_SEC, &o), 0);
        wait_for_pids(f, pids);

        /* The owner goes away with its loop, the hook not reaped yet: LeakSanitizer checks that
         * the spawn's child source and everything else went with the loop. */
        hooks_cancel(TAKE_PTR(o.run));
        f->event = sd_event_unref(f->event);

        /* Nobody reaps the hook now: it is left to this process, killed. */
        assert_int_equal(waitpid(pids[1], &status, 0), pids[1]);
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGKILL);
        assert_group_gone(f, pids[1]);
        assert_gone(pids[0]);
        assert_int_equal(o.hooks, 0);
        assert_int_equal(o.done, 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_order, setup, teardown),
                cmocka_unit_test_setup_teardown(test_environment, setup, teardown),
                cmocka_unit_test_setup_teardown(test_failing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
                cmocka_unit_test_setup_teardown(test_skipped, setup, teardown),
                cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_missing_dir, setup, teardown),
                cmocka_unit_test_setup_teardown(test_empty_dir, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cancel_from_callbacks, setup, teardown),
                cmocka_unit_test_setup_teardown(test_free_loop, setup, teardown),
        };
        sigset_t mask;

        /* As the daemon does: sd-event reaps children through SIGCHLD, which must be blocked. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        assert_int_equal(sigprocmask(SIG_BLOCK, &mask, NULL), 0);
        /* Orphans of killed hooks come here, so the tests can see they were killed. */
        assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
        umask(022);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
