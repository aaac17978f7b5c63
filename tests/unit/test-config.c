/* SPDX-License-Identifier: MIT */
/* Unit tests for config_load() and friends: the meaning of real config files written to a
 * throwaway directory (the fixture suite in tests/config covers the error messages). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <pwd.h>
#include <sys/stat.h>

#include "config.h"
#include "tmpdir.h"

#define SEC(n) ((usec_t) (n) * USEC_PER_SEC)
#define MSEC(n) ((usec_t) (n) * USEC_PER_MSEC)

/* ---- helpers ---- */

static char *test_path(const char *dir, const char *name) {
        char *p;

        assert_true(asprintf(&p, "%s/%s", dir, name) >= 0);
        return p;
}

/* Writes text to dir/name (creating directories) with mode 0644; returns the path. */
static char *write_conf(const char *dir, const char *name, const char *text) {
        char *p = test_path(dir, name);
        char *slash = strrchr(p, '/');

        *slash = '\0';
        assert_int_equal(mkdir_p(p, 0755), 0);
        *slash = '/';
        assert_int_equal(write_file_atomic(p, text, strlen(text), 0644), 0);
        return p;
}

/* Loads a config that must be valid; prints the errors when it is not. */
static Config *load_ok(const char *main_path, char *const *dirs) {
        _cleanup_(config_errors_clear) ConfigErrors errors = {};
        Config *c = NULL;
        int r = config_load(main_path, dirs, &c, &errors);

        for (char **l = errors.lines; l && *l; l++)
                print_message("config error: %s\n", *l);
        assert_int_equal(r, 0);
        assert_int_equal(config_errors_count(&errors), 0);
        assert_non_null(c);
        return c;
}

/* Loads a config that must be refused; checks *ret stays untouched and returns the errors. */
static void load_fail(const char *main_path, char *const *dirs, ConfigErrors *errors) {
        Config *sentinel = (Config *) 0x1, *c = sentinel;

        assert_int_equal(config_load(main_path, dirs, &c, errors), -EINVAL);
        assert_ptr_equal(c, sentinel);
        assert_true(config_errors_count(errors) > 0);
}

static size_t count_prefix(const ConfigErrors *errors, const char *prefix) {
        size_t n = 0;

        for (char **l = errors->lines; l && *l; l++)
                n += startswith(*l, prefix) != NULL;
        return n;
}

/* Asserts exactly one error starts with "FILE:LINE: " (or "FILE: " for line 0) and contains what. */
static void assert_error(const ConfigErrors *errors, const char *file, unsigned line, const char *what) {
        _cleanup_(freep) char *prefix = NULL;
        size_t n = 0;

        if (line > 0)
                assert_true(asprintf(&prefix, "%s:%u: ", file, line) >= 0);
        else
                assert_true(asprintf(&prefix, "%s: ", file) >= 0);
        for (char **l = errors->lines; l && *l; l++)
                if (startswith(*l, prefix) && strstr(*l, what))
                        n++;
        if (n != 1) {
                for (char **l = errors->lines; l && *l; l++)
                        print_message("error: %s\n", *l);
                fail_msg("expected one error '%s...%s', found %zu", prefix, what, n);
        }
}

/* A field of a check's kind-specific settings, found through the kind's key table. */
static void *check_setting(const CheckConfig *c, const char *key) {
        const ConfigKey *k = config_key_find(c->kind->keys, key);

        assert_non_null(k);
        return (char *) c->settings + k->offset;
}

static char *dump(const Config *c) {
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);

        assert_non_null(f);
        config_dump(c, f);
        assert_int_equal(fclose(f), 0);
        return text;
}

/* The dump without its "#" header, which names the files read. */
static const char *dump_body(const char *text) {
        while (*text == '#') {
                const char *nl = strchr(text, '\n');
                assert_non_null(nl);
                text = nl + 1;
        }
        return text;
}

static void check_files(const Config *c, const char *const *expected) {
        size_t n = 0;

        for (; expected[n]; n++) {
                if (!c->files || !c->files[n])
                        fail_msg("only %zu files read, expected '%s' next", n, expected[n]);
                if (!streq(c->files[n], expected[n]))
                        fail_msg("file %zu is '%s', expected '%s'", n, c->files[n], expected[n]);
        }
        assert_int_equal(strv_length(c->files), n);
}

#define FILES(...) ((const char *const[]) { __VA_ARGS__, NULL })

/* ---- defaults ---- */

static void test_defaults(void **state) {
        _cleanup_(freep) char *main_path = write_conf(*state, "healthdog.conf", "# nothing set\n");
        _cleanup_(config_freep) Config *c = load_ok(main_path, NULL);

        assert_string_equal(c->watchdog.device, "/dev/watchdog0");
        assert_int_equal(c->watchdog.timeout, SEC(30));
        assert_int_equal(c->watchdog.interval, SEC(10)); /* a third of the timeout */
        assert_int_equal(c->watchdog.pretimeout, 0);
        assert_false(c->watchdog.disarm_on_stop);
        assert_string_equal(c->supervisor.state_directory, "/var/lib/healthdog");
        assert_int_equal(c->supervisor.startup_grace, SEC(60));
        assert_int_equal(c->supervisor.realtime_priority, 0);
        assert_int_equal(c->n_checks, 0);
        check_files(c, FILES(main_path));
}

static void test_watchdog_interval_default(void **state) {
        static const struct {
                const char *text;
                usec_t interval;
        } cases[] = {
                { "[watchdog]\ntimeout = 12s\n",                  SEC(4) },
                { "[watchdog]\ntimeout = 10s\n",                  3333000 },  /* whole milliseconds */
                { "[watchdog]\ntimeout = 1s\n",                   333000 },
                { "[watchdog]\ntimeout = 1h\n",                   20 * USEC_PER_MINUTE },
                { "[watchdog]\ntimeout = 12s\ninterval = 0\n",    SEC(4) },
                { "[watchdog]\ntimeout = 12s\ninterval = 6s\n",   SEC(6) },  /* exactly half: allowed */
                { "[watchdog]\ntimeout = 12s\ninterval = 10ms\n", MSEC(10) },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(freep) char *p = write_conf(*state, "healthdog.conf", cases[i].text);
                _cleanup_(config_freep) Config *c = load_ok(p, NULL);

                if (c->watchdog.interval != cases[i].interval)
                        fail_msg("'%s': interval %" PRIu64 ", expected %" PRIu64, cases[i].text,
                                 c->watchdog.interval, cases[i].interval);
        }
}

static void test_check_defaults(void **state) {
        static const struct {
                const char *keys;
                usec_t interval, timeout;
        } cases[] = {
                { "",                               SEC(10),     SEC(5) },
                { "interval = 2s\n",                SEC(2),      SEC(2) },
                { "interval = 100ms\n",             MSEC(100),   MSEC(100) },
                { "interval = 5s\n",                SEC(5),      SEC(5) },
                { "interval = 1min\n",              SEC(60),     SEC(5) },
                { "interval = 1min\ntimeout = 20s\n", SEC(60),   SEC(20) },
                { "interval = 2s\ntimeout = 2s\n",  SEC(2),      SEC(2) },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(freep) char *text = NULL, *p = NULL;
                _cleanup_(config_freep) Config *c = NULL;
                const CheckConfig *check;

                assert_true(asprintf(&text, "[check.hb]\ntype = file\npath = /run/alive\n%s", cases[i].keys) >= 0);
                p = write_conf(*state, "healthdog.conf", text);
                c = load_ok(p, NULL);
                assert_int_equal(c->n_checks, 1);
                check = config_find_check(c, "hb");
                assert_non_null(check);
                if (check->interval != cases[i].interval || check->timeout != cases[i].timeout)
                        fail_msg("'%s': interval %" PRIu64 " timeout %" PRIu64, cases[i].keys, check->interval,
                                 check->timeout);
                assert_int_equal(check->start_delay, 0);
                assert_int_equal(check->fail_after.n, 3);
                assert_int_equal(check->fail_after.window, 3);
                assert_int_equal(check->pass_after, 1);
                assert_true(check->required);
                assert_int_equal(*(usec_t *) check_setting(check, "max-age"), 0);
        }
}

/* ---- drop-ins ---- */

static void test_dropin_masking(void **state) {
        const char *dir = *state;
        _cleanup_(freep) char *main_path = write_conf(dir, "healthdog.conf", "[watchdog]\ntimeout = 30s\n");
        _cleanup_(freep) char *vendor = test_path(dir, "vendor"), *admin = test_path(dir, "admin");
        _cleanup_(freep) char *v = write_conf(dir, "vendor/50-app.conf", "[watchdog]\ntimeout = 20s\n"
                                                                         "[check.vendor]\ntype = file\npath = /v\n");
        _cleanup_(freep) char *a = write_conf(dir, "admin/50-app.conf", "[watchdog]\ntimeout = 40s\n");
        char *dirs[] = { vendor, admin, NULL };
        _cleanup_(config_freep) Config *c = load_ok(main_path, dirs);

        /* The admin file replaces the vendor file as a whole: nothing of the vendor's is left. */
        assert_int_equal(c->watchdog.timeout, SEC(40));
        assert_int_equal(c->n_checks, 0);
        check_files(c, FILES(main_path, a));
        (void) v;
}

static void test_dropin_order(void **state) {
        const char *dir = *state;
        _cleanup_(freep) char *main_path = write_conf(dir, "healthdog.conf",
                                                      "[watchdog]\ntimeout = 30s\ndevice = /dev/watchdog1\n");
        _cleanup_(freep) char *d1 = test_path(dir, "d1"), *d2 = test_path(dir, "d2");
        /* Names decide the order, not directories: d2's 10-* comes before d1's 20-*. */
        _cleanup_(freep) char *b = write_conf(dir, "d1/20-b.conf", "[watchdog]\ntimeout = 20s\n"
                                                                   "[check.second]\ntype = file\npath = /b\n");
        _cleanup_(freep) char *a = write_conf(dir, "d2/10-a.conf", "[watchdog]\ntimeout = 10s\npretimeout = 1s\n"
                                                                   "[check.first]\ntype = file\npath = /a\n");
        _cleanup_(freep) char *z = write_conf(dir, "d1/99-z.conf", "[check.first]\npath = /z\n");
        /* Not drop-ins: wrong suffix or hidden. */
        _cleanup_(freep) char *n1 = write_conf(dir, "d1/README", "garbage\n");
        _cleanup_(freep) char *n2 = write_conf(dir, "d1/30-x.conf.bak", "garbage\n");
        _cleanup_(freep) char *n3 = write_conf(dir, "d2/.hidden.conf", "garbage\n");
        _cleanup_(freep) char *n4 = write_conf(dir, "d2/.conf", "garbage\n");
        _cleanup_(freep) char *missing = test_path(dir, "no-such-dir");
        char *dirs[] = { d1, missing, d2, NULL };
        _cleanup_(config_freep) Config *c = load_ok(main_path, dirs);

        check_files(c, FILES(main_path, a, b, z));
        /* The later file wins each key; keys it does not set stay. */
        assert_int_equal(c->watchdog.timeout, SEC(20));
        assert_int_equal(c->watchdog.pretimeout, SEC(1));
        assert_string_equal(c->watchdog.device, "/dev/watchdog1");
        /* Checks in the order first defined; a later file extends a check. */
        assert_int_equal(c->n_checks, 2);
        assert_string_equal(c->checks[0]->name, "first");
        assert_string_equal(c->checks[1]->name, "second");
        assert_string_equal(*(char **) check_setting(c->checks[0], "path"), "/z");
        assert_string_equal(c->checks[0]->file, a); /* where it was first defined */
        assert_int_equal(c->checks[0]->line, 4);
        (void) n1, (void) n2, (void) n3, (void) n4;
}

static void test_dropin_mask_empty_and_devnull(void **state) {
        const char *dir = *state;
        _cleanup_(freep) char *main_path = write_conf(dir, "healthdog.conf", "");
        _cleanup_(freep) char *vendor = test_path(dir, "vendor"), *admin = test_path(dir, "admin"),
                           *link = test_path(dir, "admin/60-other.conf");
        _cleanup_(freep) char *v1 = write_conf(dir, "vendor/50-app.conf", "[check.app]\ntype = file\npath = /a\n");
        _cleanup_(freep) char *v2 = write_conf(dir, "vendor/60-other.conf", "[check.other]\ntype = file\npath = /o\n");
        _cleanup_(freep) char *v3 = write_conf(dir, "vendor/70-kept.conf", "[check.kept]\ntype = file\npath = /k\n");
        _cleanup_(freep) char *empty = write_conf(dir, "admin/50-app.conf", "");
        char *dirs[] = { vendor, admin, NULL };
        _cleanup_(config_freep) Config *c = NULL;

        assert_int_equal(symlink("/dev/null", link), 0);
        c = load_ok(main_path, dirs);
        assert_int_equal(c->n_checks, 1);
        assert_string_equal(c->checks[0]->name, "kept");
        check_files(c, FILES(main_path, v3));
        (void) v1, (void) v2, (void) empty;
}

static void test_dropin_dir_not_a_directory(void **state) {
        const char *dir = *state;
        _cleanup_(freep) char *main_path = write_conf(dir, "healthdog.conf", "");
        _cleanup_(freep) char *file = write_conf(dir, "not-a-dir", "");
        _cleanup_(config_errors_clear) ConfigErrors errors = {};
        char *dirs[] = { file, NULL };

        load_fail(main_path, dirs, &errors);
        assert_int_equal(config_errors_count(&errors), 1);
        assert_error(&errors, file, 0, "drop-in directory");
}

static void test_dropin_dirs(void **state) {
        const struct {
                const char *main_path;
                const char *const *dirs;
        } cases[] = {
                { HEALTHDOG_CONFIG_FILE, FILES(HEALTHDOG_VENDOR_DROPIN_DIR, HEALTHDOG_ADMIN_DROPIN_DIR) },
                { "dir/x.conf",          FILES("dir/conf.d") },
                { "/srv/a/b/x.conf",     FILES("/srv/a/b/conf.d") },
                { "x.conf",              FILES("conf.d") },
                { "/x.conf",             FILES("/conf.d") },
                { "./x.conf",            FILES("./conf.d") },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(strv_freep) char **dirs = config_dropin_dirs(cases[i].main_path);
                size_t n = 0;

                assert_non_null(dirs);
                for (; cases[i].dirs[n]; n++)
                        if (!dirs[n] || !streq(dirs[n], cases[i].dirs[n]))
                                fail_msg("%s: dir %zu is '%s', expected '%s'", cases[i].main_path, n,
                                         strempty(dirs[n]), cases[i].dirs[n]);
                assert_int_equal(strv_length(dirs), n);
        }
}

/* The default path's directories, end to end: what `healthdog -c dir/x.conf` loads. */
static void test_dropin_dirs_load(void **state) {
        const char *dir = *state;
        _cleanup_(freep) char *main_path = write_conf(dir, "etc/x.conf", "[watchdog]\ntimeout = 30s\n");
        _cleanup_(freep) char *d = write_conf(dir, "etc/conf.d/10-t.conf", "[watchdog]\ntimeout = 9s\n");
        _cleanup_(strv_freep) char **dirs = config_dropin_dirs(main_path);
        _cleanup_(config_freep) Config *c = load_ok(main_path, dirs);

        assert_int_equal(c->watchdog.timeout, SEC(9));
        assert_int_equal(c->watchdog.interval, SEC(3));
        check_files(c, FILES(main_path, d));
}

/* ---- resetting and overriding ---- */

static void test_empty_value_resets(void **state) {
        const char *dir = *state;
        _cleanup_(freep) char *main_path = write_conf(dir, "healthdog.conf",
                "[watchdog]\n"
                "device = /dev/watchdog1\n"
                "timeout = 12s\n"
                "interval = 2s\n"
                "disarm-on-stop = yes\n"
                "[supervisor]\n"
                "startup-grace = 5s\n"
                "[check.app]\n"
                "type = exec\n"
                "command = /bin/true\n"
                "interval = 1min\n"
                "timeout = 30s\n"
                "fail-after = 2/5\n"
                "expect-exit = 1 2\n"
                "user = root\n");
        _cleanup_(freep) char *confd = test_path(dir, "conf.d");
        _cleanup_(freep) char *d = write_conf(dir, "conf.d/50-reset.conf",
                "[watchdog]\n"
                "device =\n"
                "interval =\n"
                "disarm-on-stop =\n"
                "[supervisor]\n"
                "startup-grace =\n"
                "[check.app]\n"
                "timeout =\n"
                "fail-after =\n"
                "expect-exit =\n"
                "user =\n");
        char *dirs[] = { confd, NULL };
        _cleanup_(config_freep) Config *c = load_ok(main_path, dirs);
        const CheckConfig *app = config_find_check(c, "app");
        const IntList *expect;
        const UserId *user;

        assert_string_equal(c->watchdog.device, "/dev/watchdog0");
        assert_int_equal(c->watchdog.timeout, SEC(12));
        assert_int_equal(c->watchdog.interval, SEC(4)); /* back to a third of the timeout */
        assert_false(c->watchdog.disarm_on_stop);
        assert_int_equal(c->supervisor.startup_grace, SEC(60));

        assert_non_null(app);
        assert_int_equal(app->interval, SEC(60));
        assert_int_equal(app->timeout, SEC(5)); /* back to min(5s, interval) */
        assert_int_equal(app->fail_after.n, 3);
        assert_int_equal(app->fail_after.window, 3);
        expect = check_setting(app, "expect-exit");
        assert_int_equal(expect->n, 1);
        assert_int_equal(expect->values[0], 0);
        user = check_setting(app, "user");
        assert_null(user->name);
        check_files(c, FILES(main_path, d));
}

static void test_duplicate_keys(void **state) {
        const char *dir = *state;
        _cleanup_(freep) char *main_path = write_conf(dir, "healthdog.conf",
                "[watchdog]\n"
                "timeout = 30s\n"
                "device = none\n"
                "timeout = 20s\n");
        _cleanup_(config_errors_clear) ConfigErrors errors = {};

        load_fail(main_path, NULL, &errors);
        assert_int_equal(config_errors_count(&errors), 1);
        assert_error(&errors, main_path, 4, "timeout");
}

static void test_duplicate_sections(void **state) {
        const char *dir = *state;
        _cleanup_(freep) char *main_path = write_conf(dir, "healthdog.conf",
                "[watchdog]\n"
                "timeout = 30s\n"
                "[watchdog]\n"
                "device = none\n");
        _cleanup_(config_errors_clear) ConfigErrors errors = {};

        load_fail(main_path, NULL, &errors);
        assert_int_equal(config_errors_count(&errors), 1);
        assert_error(&errors, main_path, 3, "watchdog");
}

static void test_override_across_files(void **state) {
        const char *dir = *state;
        _cleanup_(freep) char *main_path = write_conf(dir, "healthdog.conf",
                "[watchdog]\ntimeout = 30s\n[check.app]\ntype = file\npath = /a\nfail-after = 2\n");
        _cleanup_(freep) char *confd = test_path(dir, "conf.d");
        _cleanup_(freep) char *d1 = write_conf(dir, "conf.d/10.conf",
                "[watchdog]\ntimeout = 20s\n[check.app]\nfail-after = 3/5\n");
        _cleanup_(freep) char *d2 = write_conf(dir, "conf.d/20.conf", "[watchdog]\ntimeout = 15s\n");
        char *dirs[] = { confd, NULL };
        _cleanup_(config_freep) Config *c = load_ok(main_path, dirs);

        assert_int_equal(c->watchdog.timeout, SEC(15));
        assert_int_equal(c->watchdog.interval, SEC(5));
        assert_int_equal(c->checks[0]->fail_after.n, 3);
        assert_int_equal(c->checks[0]->fail_after.window, 5);
        check_files(c, FILES(main_path, d1, d2));
}

/* A key set in a drop-in and then again in the same drop-in is still a duplicate. */
static void test_duplicate_after_override(void **state) {
        const char *dir = *state;
        _cleanup_(freep) char *main_path = write_conf(dir, "healthdog.conf", "[watchdog]\ntimeout = 30s\n");
        _cleanup_(freep) char *confd = test_path(dir, "conf.d");
        _cleanup_(freep) char *d = write_conf(dir, "conf.d/10.conf", "[watchdog]\ntimeout = 20s\ntimeout = 10s\n");
        _cleanup_(config_errors_clear) ConfigErrors errors = {};
        char *dirs[] = { confd, NULL };

        load_fail(main_path, dirs, &errors);
        assert_int_equal(config_errors_count(&errors), 1);
        assert_error(&errors, d, 3, "timeout");
}

/* ---- errors ---- */

static void test_errors_all_collected(void **state) {
        const char *dir = *state;
        _cleanup_(freep) char *main_path = write_conf(dir, "healthdog.conf",
                "[watchdog]\n"               /* 1 */
                "timeout = soon\n"           /* 2: not a duration */
                "bogus = 1\n"                /* 3: unknown key */
                "\n"                         /* 4 */
                "this is not a key value\n"  /* 5: syntax */
                "disarm-on-stop = no\n");    /* 6 */
        _cleanup_(freep) char *confd = test_path(dir, "conf.d");
        _cleanup_(freep) char *d = write_conf(dir, "conf.d/10-app.conf",
                "[check.app]\n"              /* 1 */
                "type = exec\n"              /* 2 */
                "expect-exit = 300\n"        /* 3: out of range */
                "[nonsense]\n"               /* 4: unknown section */
                "key = value\n");            /* 5: ignored with its section */
        _cleanup_(config_errors_clear) ConfigErrors errors = {};
        char *dirs[] = { confd, NULL };

        load_fail(main_path, dirs, &errors);
        assert_error(&errors, main_path, 2, "timeout");
        assert_error(&errors, main_path, 3, "bogus");
        assert_error(&errors, main_path, 5, "this is not a key value");
        assert_int_equal(count_prefix(&errors, main_path), 3);
        assert_error(&errors, d, 3, "expect-exit");
        assert_error(&errors, d, 4, "nonsense");
        assert_error(&errors, d, 1, "command"); /* a required key missing: the section's line */
        assert_int_equal(count_prefix(&errors, d), 3);
        assert_int_equal(config_errors_count(&errors), 6);
}

static void test_errors_kept_from_before(void **state) {
        _cleanup_(freep) char *main_path = write_conf(*state, "healthdog.conf", "[watchdog]\ntimeout = 30s\n");
        _cleanup_(config_errors_clear) ConfigErrors errors = {};
        _cleanup_(config_freep) Config *c = NULL;

        /* Errors already collected (say, from another step) are kept and do not fail this load. */
        config_errors_add(&errors, "earlier", 7, "something else");
        assert_int_equal(config_load(main_path, NULL, &c, &errors), 0);
        assert_non_null(c);
        assert_int_equal(config_errors_count(&errors), 1);
        assert_string_equal(errors.lines[0], "earlier:7: something else");
}

static void test_cross_field_errors(void **state) {
        static const struct {
                const char *text;
                unsigned line;
                const char *what;
        } cases[] = {
                { "[watchdog]\ntimeout = 10s\ninterval = 6s\n",              3, "interval" },
                { "[watchdog]\ntimeout = 10s\npretimeout = 10s\n",           3, "pretimeout" },
                { "[watchdog]\ndevice = watchdog0\n",                        2, "device" },
                { "[check.a]\ntype = file\npath = /a\ninterval = 2s\ntimeout = 3s\n", 5, "timeout" },
                { "[check.a]\ntype = file\n",                                1, "path" },
                { "[check.a]\npath = /a\n",                                  1, "type" },
                { "[check.a]\ntype = smtp\n",                                2, "smtp" },
                { "[check.a]\ntype = file\npath = relative\n",               3, "path" },
                { "[check.a]\ntype = file\npath = /a\nfail-after = 4/3\n",   4, "fail-after" },
                { "[check.a]\ntype = file\npath = /a\nfail-after = 1/65\n",  4, "fail-after" },
                { "[check.a]\ntype = file\npath = /a\nfail-after = 0\n",     4, "fail-after" },
                { "[check.a]\ntype = file\npath = /a\npass-after = 0\n",     4, "pass-after" },
                { "[check.a]\ntype = file\npath = /a\ncommand = /bin/true\n", 4, "command" },
                { "[check.a]\ntype = exec\ncommand = \"/bin/true\n",         3, "command" },
                { "[check.a]\ntype = exec\ncommand = /bin/true\nexpect-exit = -1\n", 4, "expect-exit" },
                { "[check.a]\ntype = exec\ncommand = /bin/true\nuser = no-such-user-xyz\n", 4, "user" },
                { "[check.bad name]\ntype = file\npath = /a\n",              1, "check name" },
                { "[check.]\ntype = file\npath = /a\n",                      1, "check name" },
                { "timeout = 1s\n",                                          1, "outside" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(freep) char *p = write_conf(*state, "healthdog.conf", cases[i].text);
                _cleanup_(config_errors_clear) ConfigErrors errors = {};
                Config *c = NULL;
                int r = config_load(p, NULL, &c, &errors);

                if (r != -EINVAL || c || config_errors_count(&errors) != 1) {
                        for (char **l = errors.lines; l && *l; l++)
                                print_message("error: %s\n", *l);
                        config_free(c);
                        fail_msg("'%s': r=%d, %zu errors, expected one", cases[i].text, r, config_errors_count(&errors));
                }
                assert_error(&errors, p, cases[i].line, cases[i].what);
        }
}

static void test_untrusted_files(void **state) {
        const char *dir = *state;
        _cleanup_(freep) char *main_path = write_conf(dir, "healthdog.conf", "[watchdog]\ntimeout = 30s\n");
        _cleanup_(freep) char *confd = test_path(dir, "conf.d");
        _cleanup_(freep) char *d = write_conf(dir, "conf.d/10.conf", "[watchdog]\ntimeout = 20s\n");
        char *dirs[] = { confd, NULL };

        /* Writable by everyone: refused, main file or drop-in. */
        assert_int_equal(chmod(main_path, 0666), 0);
        {
                _cleanup_(config_errors_clear) ConfigErrors errors = {};
                load_fail(main_path, dirs, &errors);
                assert_int_equal(config_errors_count(&errors), 1);
                assert_error(&errors, main_path, 0, "0666");
        }
        assert_int_equal(chmod(main_path, 0644), 0);
        assert_int_equal(chmod(d, 0646), 0);
        {
                _cleanup_(config_errors_clear) ConfigErrors errors = {};
                load_fail(main_path, dirs, &errors);
                assert_int_equal(config_errors_count(&errors), 1);
                assert_error(&errors, d, 0, "0646");
        }
        assert_int_equal(chmod(d, 0644), 0);

        /* Group-writable is fine for our own (or root's) group, not for another one. */
        assert_int_equal(chmod(main_path, 0664), 0);
        {
                _cleanup_(config_freep) Config *c = load_ok(main_path, dirs);
                assert_int_equal(c->watchdog.timeout, SEC(20));
        }
        if (geteuid() != 0) {
                print_message("not root: skipping the owner and group checks\n");
                return;
        }
        assert_int_equal(chown(main_path, 0, 4321), 0);
        {
                _cleanup_(config_errors_clear) ConfigErrors errors = {};
                load_fail(main_path, dirs, &errors);
                assert_error(&errors, main_path, 0, "non-root group");
        }
        assert_int_equal(chmod(main_path, 0644), 0);
        {
                _cleanup_(config_freep) Config *c = load_ok(main_path, dirs);
        }
        assert_int_equal(chown(main_path, 4321, 0), 0);
        {
                _cleanup_(config_errors_clear) ConfigErrors errors = {};
                load_fail(main_path, dirs, &errors);
                assert_error(&errors, main_path, 0, "uid 4321");
        }
}

/* A drop-in directory others can write to is refused: anyone could add a file naming commands. */
static void test_untrusted_dropin_dirs(void **state) {
        const char *dir = *state;
        _cleanup_(freep) char *main_path = write_conf(dir, "healthdog.conf", "[watchdog]\ntimeout = 30s\n");
        _cleanup_(freep) char *vendor = test_path(dir, "vendor"), *admin = test_path(dir, "admin");
        _cleanup_(freep) char *v = write_conf(dir, "vendor/50-app.conf", "[check.app]\ntype = file\npath = /a\n");
        _cleanup_(freep) char *a = write_conf(dir, "admin/60-x.conf", "[watchdog]\ntimeout = 20s\n");
        char *dirs[] = { vendor, admin, NULL };
        static const mode_t refused[] = { 0777, 01777, 0757 };

        for (size_t i = 0; i < ELEMENTSOF(refused); i++) {
                _cleanup_(config_errors_clear) ConfigErrors errors = {};
                char mode[16];

                assert_int_equal(chmod(admin, refused[i]), 0);
                load_fail(main_path, dirs, &errors);
                assert_int_equal(config_errors_count(&errors), 1);
                snprintf(mode, sizeof(mode), "(mode %04o)", (unsigned) refused[i]);
                assert_error(&errors, admin, 0, "refusing a drop-in directory writable by everyone");
                assert_error(&errors, admin, 0, mode);
        }
        /* Also when it holds no drop-in yet: the next file anyone adds would be read. */
        assert_int_equal(chmod(admin, 0755), 0);
        assert_int_equal(chmod(vendor, 0777), 0);
        assert_int_equal(unlink(v), 0);
        {
                _cleanup_(config_errors_clear) ConfigErrors errors = {};
                load_fail(main_path, dirs, &errors);
                assert_int_equal(config_errors_count(&errors), 1);
                assert_error(&errors, vendor, 0, "drop-in directory writable by everyone (mode 0777)");
        }
        assert_int_equal(chmod(vendor, 0755), 0);
        {
                _cleanup_(config_freep) Config *c = load_ok(main_path, dirs);
                assert_int_equal(c->watchdog.timeout, SEC(20));
        }
        if (geteuid() != 0) {
                print_message("not root: skipping the owner and group checks\n");
                return;
        }
        assert_int_equal(chown(admin, 4321, 0), 0);
        {
                _cleanup_(config_errors_clear) ConfigErrors errors = {};
                load_fail(main_path, dirs, &errors);
                assert_int_equal(config_errors_count(&errors), 1);
                assert_error(&errors, admin, 0, "refusing a drop-in directory owned by uid 4321");
        }
        assert_int_equal(chown(admin, 0, 4321), 0);
        assert_int_equal(chmod(admin, 0775), 0);
        {
                _cleanup_(config_errors_clear) ConfigErrors errors = {};
                load_fail(main_path, dirs, &errors);
                assert_int_equal(config_errors_count(&errors), 1);
                assert_error(&errors, admin, 0, "refusing a drop-in directory writable by a non-root group");
        }
        (void) a;
}

/* A mask switches a vendor drop-in (and its checks) off: only root may have made it. */
static void test_untrusted_masks(void **state) {
        const char *dir = *state;
        _cleanup_(freep) char *main_path = write_conf(dir, "healthdog.conf", "");
        _cleanup_(freep) char *vendor = test_path(dir, "vendor"), *admin = test_path(dir, "admin"),
                           *link = test_path(dir, "admin/60-other.conf");
        _cleanup_(freep) char *v1 = write_conf(dir, "vendor/50-app.conf", "[check.app]\ntype = file\npath = /a\n");
        _cleanup_(freep) char *v2 = write_conf(dir, "vendor/60-other.conf", "[check.other]\ntype = file\npath = /o\n");
        _cleanup_(freep) char *empty = write_conf(dir, "admin/50-app.conf", "");
        char *dirs[] = { vendor, admin, NULL };

        assert_int_equal(symlink("/dev/null", link), 0);
        {
                _cleanup_(config_freep) Config *c = load_ok(main_path, dirs);
                assert_int_equal(c->n_checks, 0);
        }

        /* An empty file anyone can write to. */
        assert_int_equal(chmod(empty, 0666), 0);
        {
                _cleanup_(config_errors_clear) ConfigErrors errors = {};
                load_fail(main_path, dirs, &errors);
                assert_int_equal(config_errors_count(&errors), 1);
                assert_error(&errors, empty, 0, "refusing a mask (an empty file) writable by everyone (mode 0666)");
        }
        assert_int_equal(chmod(empty, 0644), 0);
        if (geteuid() != 0) {
                print_message("not root: skipping the owner checks\n");
                return;
        }
        assert_int_equal(chown(empty, 4321, 0), 0);
        {
                _cleanup_(config_errors_clear) ConfigErrors errors = {};
                load_fail(main_path, dirs, &errors);
                assert_int_equal(config_errors_count(&errors), 1);
                assert_error(&errors, empty, 0, "refusing a mask (an empty file) owned by uid 4321");
        }
        assert_int_equal(chown(empty, 0, 0), 0);

        /* A symlink to /dev/null someone else made; its own mode (0777) means nothing. */
        assert_int_equal(lchown(link, 4321, 0), 0);
        {
                _cleanup_(config_errors_clear) ConfigErrors errors = {};
                load_fail(main_path, dirs, &errors);
                assert_int_equal(config_errors_count(&errors), 1);
                assert_error(&errors, link, 0, "refusing a mask (a symlink) owned by uid 4321");
        }
        assert_int_equal(lchown(link, 0, 0), 0);
        {
                _cleanup_(config_freep) Config *c = load_ok(main_path, dirs);
                assert_int_equal(c->n_checks, 0);
        }
        (void) v1, (void) v2;
}

static void test_missing_main_file(void **state) {
        _cleanup_(freep) char *p = test_path(*state, "absent.conf");
        _cleanup_(config_errors_clear) ConfigErrors errors = {};

        load_fail(p, NULL, &errors);
        assert_int_equal(config_errors_count(&errors), 1);
        assert_error(&errors, p, 0, "No such file");
}

/* ---- checks ---- */

static void test_check_settings(void **state) {
        const struct passwd *pw = getpwnam("nobody");
        _cleanup_(freep) char *p = NULL;
        _cleanup_(config_freep) Config *c = NULL;
        const CheckConfig *s, *h, *n;
        char **argv;
        const IntList *expect;
        const UserId *user;

        if (!pw) {
                print_message("no user 'nobody' on this system, skipping\n");
                skip();
        }
        p = write_conf(*state, "healthdog.conf",
                "[check.selftest]\n"
                "type = exec\n"
                "command = /usr/bin/app --self-test \"quick mode\" 'a b' c\\ d \"q\\\"uote\"\n"
                "expect-exit = 0 3 255\n"
                "interval = 30s\n"
                "timeout = 5s\n"
                "fail-after = 3/5\n"
                "pass-after = 2\n"
                "start-delay = 20s\n"
                "required = no\n"
                "\n"
                "[check.heartbeat]\n"
                "type = file\n"
                "path = /run/app/alive\n"
                "max-age = 1min 30s\n"
                "\n"
                "[check.as-nobody]\n"
                "type = exec\n"
                "command = id\n"
                "user = nobody\n");
        c = load_ok(p, NULL);
        assert_int_equal(c->n_checks, 3);
        assert_string_equal(c->checks[0]->name, "selftest");
        assert_string_equal(c->checks[1]->name, "heartbeat");
        assert_string_equal(c->checks[2]->name, "as-nobody");

        s = config_find_check(c, "selftest");
        assert_ptr_equal(s, c->checks[0]);
        assert_ptr_equal(s->kind, check_kind_find("exec"));
        assert_string_equal(s->file, p);
        assert_int_equal(s->line, 1);
        assert_int_equal(s->interval, SEC(30));
        assert_int_equal(s->timeout, SEC(5));
        assert_int_equal(s->start_delay, SEC(20));
        assert_int_equal(s->fail_after.n, 3);
        assert_int_equal(s->fail_after.window, 5);
        assert_int_equal(s->pass_after, 2);
        assert_false(s->required);
        argv = *(char ***) check_setting(s, "command");
        assert_int_equal(strv_length(argv), 6);
        assert_string_equal(argv[0], "/usr/bin/app");
        assert_string_equal(argv[1], "--self-test");
        assert_string_equal(argv[2], "quick mode");
        assert_string_equal(argv[3], "a b");
        assert_string_equal(argv[4], "c d");
        assert_string_equal(argv[5], "q\"uote");
        expect = check_setting(s, "expect-exit");
        assert_int_equal(expect->n, 3);
        assert_int_equal(expect->values[0], 0);
        assert_int_equal(expect->values[1], 3);
        assert_int_equal(expect->values[2], 255);
        user = check_setting(s, "user");
        assert_null(user->name);

        h = config_find_check(c, "heartbeat");
        assert_ptr_equal(h->kind, check_kind_find("file"));
        assert_int_equal(h->line, 12);
        assert_string_equal(*(char **) check_setting(h, "path"), "/run/app/alive");
        assert_int_equal(*(usec_t *) check_setting(h, "max-age"), SEC(90));

        n = config_find_check(c, "as-nobody");
        user = check_setting(n, "user");
        assert_string_equal(user->name, "nobody");
        assert_int_equal(user->uid, pw->pw_uid);
        assert_int_equal(user->gid, pw->pw_gid);
        if (pw->pw_uid != 65534)
                print_message("note: nobody is uid %u here\n", (unsigned) pw->pw_uid);

        assert_null(config_find_check(c, "nope"));
}

/* ---- dump ---- */

static void test_dump(void **state) {
        _cleanup_(freep) char *p = write_conf(*state, "healthdog.conf",
                "[watchdog]\n"
                "device = none\n"
                "timeout = 12s\n"
                "\n"
                "[check.app]\n"
                "type = exec\n"
                "command = /bin/sh -c \"exit 0\"\n"
                "interval = 2s\n"
                "fail-after = 2/4\n"
                "expect-exit = 0 3\n"
                "\n"
                "[check.hb]\n"
                "type = file\n"
                "path = /run/alive\n"
                "max-age = 90s\n");
        _cleanup_(config_freep) Config *c = load_ok(p, NULL);
        _cleanup_(freep) char *text = dump(c), *expected = NULL;

        assert_true(asprintf(&expected,
                "# The effective configuration of healthdog, read from:\n"
                "#   %s\n"
                "\n"
                "[watchdog]\n"
                "device = none\n"
                "timeout = 12s\n"
                "interval = 4s\n"
                "pretimeout = 0\n"
                "disarm-on-stop = no\n"
                "\n"
                "[supervisor]\n"
                "state-directory = /var/lib/healthdog\n"
                "runtime-directory = /run/healthdog\n"
                "startup-grace = 1min\n"
                "realtime-priority = 0\n"
                "dbus-address = \n"
                "\n"
                "[bootloader]\n"
                "type = none\n"
                "fw-env-config = /etc/fw_env.config\n"
                "grubenv = /boot/grub/grubenv\n"
                "upgrade-available-var = upgrade_available\n"
                "bootcount-var = bootcount\n"
                "bootlimit-var = bootlimit\n"
                "rollback-var = rollback\n"
                "\n"
                "[assessment]\n"
                "confirm-after = 2min\n"
                "trial-timeout = 15min\n"
                "trial-timeout-action = wait\n"
                "steady-action = reset\n"
                "max-resets = 3\n"
                "reset-window = 24h\n"
                "hooks-directory = /etc/healthdog\n"
                "hook-timeout = 30s\n"
                "boot-deadline = 3min\n"
                "\n"
                "[ostree]\n"
                "enable = auto\n"
                "helper = /usr/libexec/healthdog-ostree\n"
                "helper-socket = /run/healthdog-ostree.sock\n"
                "sysroot = /\n"
                "keep-rollback = 1\n"
                "timeout = 5min\n"
                "\n"
                "[update]\n"
                "refspec = \n"
                "reboot = yes\n"
                "bootlimit = 3\n"
                "require-signature = no\n"
                "\n"
                "[check.app]\n"
                "type = exec\n"
                "interval = 2s\n"
                "timeout = 2s\n"
                "start-delay = 0\n"
                "fail-after = 2/4\n"
                "pass-after = 1\n"
                "required = yes\n"
                "environmental = no\n"
                "repair = none\n"
                "repair-command = \n"
                "repair-max = 1\n"
                "command = /bin/sh -c \"exit 0\"\n"
                "user = \n"
                "expect-exit = 0 3\n"
                "\n"
                "[check.hb]\n"
                "type = file\n"
                "interval = 10s\n"
                "timeout = 5s\n"
                "start-delay = 0\n"
                "fail-after = 3\n"
                "pass-after = 1\n"
                "required = yes\n"
                "environmental = no\n"
                "repair = none\n"
                "repair-command = \n"
                "repair-max = 1\n"
                "path = /run/alive\n"
                "max-age = 1min 30s\n", p) >= 0);
        assert_string_equal(text, expected);
}

/* A dump is itself a valid config with the same meaning: loading it gives the same dump. */
static void test_dump_round_trip(void **state) {
        const char *dir = *state;
        _cleanup_(freep) char *p = NULL, *first = NULL, *second = NULL, *again = NULL;
        _cleanup_(config_freep) Config *c1 = NULL, *c2 = NULL;
        const CheckConfig *t;
        char **argv;

        if (!getpwnam("nobody")) {
                print_message("no user 'nobody' on this system, skipping\n");
                skip();
        }
        p = write_conf(dir, "healthdog.conf",
                "[watchdog]\n"
                "timeout = 1min 30s\n"
                "pretimeout = 1.5s\n"
                "disarm-on-stop = yes\n"
                "[supervisor]\n"
                "state-directory = /var/lib/x y\n"
                "realtime-priority = 50\n"
                "[check.tricky]\n"
                "type = exec\n"
                "command = /bin/echo \"a b\" 'it'\"'\"'s' \"back\\\\slash\" \"\" tab\\\there\n"
                "user = nobody\n"
                "expect-exit = 0 1 2\n"
                "interval = 1.5s\n"
                "fail-after = 3/7\n"
                "pass-after = 4\n"
                "start-delay = 100ms\n"
                "required = false\n"
                "[check.f]\n"
                "type = file\n"
                "path = /run/f\n");
        c1 = load_ok(p, NULL);
        t = config_find_check(c1, "tricky");
        argv = *(char ***) check_setting(t, "command");
        assert_int_equal(strv_length(argv), 6);
        assert_string_equal(argv[2], "it's");
        assert_string_equal(argv[3], "back\\slash");
        assert_string_equal(argv[4], "");
        assert_string_equal(argv[5], "tab\there");

        first = dump(c1);
        again = write_conf(dir, "again.conf", dump_body(first));
        c2 = load_ok(again, NULL);
        second = dump(c2);
        assert_string_equal(dump_body(second), dump_body(first));
}

int main(void) {
        const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup_tmpdir, teardown_tmpdir)
                T(test_defaults),
                T(test_watchdog_interval_default),
                T(test_check_defaults),
                T(test_dropin_masking),
                T(test_dropin_order),
                T(test_dropin_mask_empty_and_devnull),
                T(test_dropin_dir_not_a_directory),
                cmocka_unit_test(test_dropin_dirs),
                T(test_dropin_dirs_load),
                T(test_empty_value_resets),
                T(test_duplicate_keys),
                T(test_duplicate_sections),
                T(test_override_across_files),
                T(test_duplicate_after_override),
                T(test_errors_all_collected),
                T(test_errors_kept_from_before),
                T(test_cross_field_errors),
                T(test_untrusted_files),
                T(test_untrusted_dropin_dirs),
                T(test_untrusted_masks),
                T(test_missing_main_file),
                T(test_check_settings),
                T(test_dump),
                T(test_dump_round_trip),
#undef T
        };

        /* Config files are written 0644 and refused when others can write them. */
        umask(022);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
