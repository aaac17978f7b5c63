/* SPDX-License-Identifier: MIT */
/* Unit tests for what systemd's states mean to the systemd-* checks: the pure functions of
 * bus.c (unit names, ActiveState sets, the verdicts and their details). The D-Bus side is
 * tested against a real bus by tests/integration/check-systemd-*.sh. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "bus.h"

#define S(x) (1u << BUS_##x)

static void test_active_states(void **state) {
        for (int i = 0; i < _BUS_ACTIVE_STATE_MAX; i++)
                assert_int_equal(bus_active_state_from_string(bus_active_states[i]), i);
        assert_null(bus_active_states[_BUS_ACTIVE_STATE_MAX]);
        assert_int_equal(bus_active_state_from_string("active"), BUS_ACTIVE);
        assert_int_equal(bus_active_state_from_string("failed"), BUS_FAILED);
        assert_int_equal(bus_active_state_from_string("running"), -EINVAL);
        assert_int_equal(bus_active_state_from_string("Active"), -EINVAL);
        assert_int_equal(bus_active_state_from_string(""), -EINVAL);
        assert_int_equal(bus_active_state_from_string(NULL), -EINVAL);
}

static void test_unit_names(void **state) {
        static const char *const good[] = {
                "myapp.service", "getty@tty1.service", "-.mount", "dev-sda1.device", "foo\\x2dbar.service",
                "sys-subsystem-net-devices-eth0.device", "a.socket", "multi-user.target", "user-1000.slice",
                "session-2.scope", "fstrim.timer", "x.path", "proc-sys-fs-binfmt_misc.automount", "dev-zram0.swap",
                "a:b.service", "serial-getty@ttyS0.service", NULL,
        };
        static const struct {
                const char *name;
                const char *reason; /* a word of the expected reason */
        } bad[] = {
                { "myapp", "NAME.TYPE" },
                { ".service", "NAME.TYPE" },
                { "myapp.servic", "NAME.TYPE" },
                { "myapp.service.", "NAME.TYPE" },
                { "myapp.Service", "NAME.TYPE" },
                { "", "NAME.TYPE" },
                { "foo@.service", "template" },
                { "@foo.service", "'@'" },
                { "a@b@c.service", "'@'" },
                { "a.b@c", "NAME.TYPE" },
                { "my app.service", "character" },
                { "foo/bar.service", "character" },
                { "caf\xc3\xa9.service", "character" },
                { "a*.service", "character" },
        };
        char longname[300];
        const char *reason;

        for (size_t i = 0; good[i]; i++) {
                reason = NULL;
                if (bus_unit_name_verify(good[i], &reason) != 0)
                        fail_msg("'%s' refused: %s", good[i], reason);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                reason = NULL;
                if (bus_unit_name_verify(bad[i].name, &reason) != -EINVAL)
                        fail_msg("'%s' accepted", bad[i].name);
                assert_non_null(reason);
                if (!strstr(reason, bad[i].reason))
                        fail_msg("'%s': reason '%s' lacks '%s'", bad[i].name, reason, bad[i].reason);
        }

        /* 255 characters is the longest name systemd takes. */
        memset(longname, 'a', sizeof(longname));
        strcpy(longname + 255 - strlen(".service"), ".service");
        assert_int_equal(strlen(longname), 255);
        assert_int_equal(bus_unit_name_verify(longname, &reason), 0);
        memset(longname, 'a', sizeof(longname));
        strcpy(longname + 256 - strlen(".service"), ".service");
        assert_int_equal(bus_unit_name_verify(longname, &reason), -EINVAL);
        assert_non_null(strstr(reason, "255"));
}

static void test_result_interface(void **state) {
        assert_string_equal(bus_unit_result_interface("a.service"), "org.freedesktop.systemd1.Service");
        assert_string_equal(bus_unit_result_interface("a.socket"), "org.freedesktop.systemd1.Socket");
        assert_string_equal(bus_unit_result_interface("a.mount"), "org.freedesktop.systemd1.Mount");
        assert_string_equal(bus_unit_result_interface("a.timer"), "org.freedesktop.systemd1.Timer");
        assert_string_equal(bus_unit_result_interface("a.scope"), "org.freedesktop.systemd1.Scope");
        assert_null(bus_unit_result_interface("multi-user.target"));
        assert_null(bus_unit_result_interface("dev-sda.device"));
        assert_null(bus_unit_result_interface("system.slice"));
        assert_null(bus_unit_result_interface("nodot"));
}

typedef struct UnitCase {
        const char *unit;
        const char *load, *active, *sub, *result;
        unsigned accepted;
        const char *want_result;
        bool wants_result;      /* bus_unit_wants_result() before Result was read */
        bool passed;
        const char *detail;
} UnitCase;

static const UnitCase unit_cases[] = {
        /* The default: active passes, anything else fails and the Result says why. */
        { "myapp.service", "loaded", "active", "running", NULL, S(ACTIVE), NULL, false, true,
          "myapp.service active (running)" },
        { "myapp.service", "loaded", "failed", "failed", "exit-code", S(ACTIVE), NULL, true, false,
          "myapp.service failed (failed), Result=exit-code" },
        { "myapp.service", "loaded", "activating", "auto-restart", "exit-code", S(ACTIVE), NULL, true, false,
          "myapp.service activating (auto-restart), Result=exit-code" },
        { "myapp.service", "loaded", "inactive", "dead", "success", S(ACTIVE), NULL, true, false,
          "myapp.service inactive (dead), Result=success" },
        { "myapp.service", "loaded", "reloading", "reload", "success", S(ACTIVE), NULL, true, false,
          "myapp.service reloading (reload), Result=success" },
        { "myapp.service", "loaded", "reloading", "reload", NULL, S(ACTIVE) | S(RELOADING), NULL, false, true,
          "myapp.service reloading (reload)" },
        /* The Result could not be read: the verdict stands without it. */
        { "myapp.service", "loaded", "failed", "failed", NULL, S(ACTIVE), NULL, true, false,
          "myapp.service failed (failed)" },
        /* Targets have no Result to explain a failure. */
        { "multi-user.target", "loaded", "active", "active", NULL, S(ACTIVE), NULL, false, true,
          "multi-user.target active (active)" },
        { "graphical.target", "loaded", "inactive", "dead", NULL, S(ACTIVE), NULL, false, false,
          "graphical.target inactive (dead)" },
        /* A oneshot that must have run and succeeded. */
        { "once.service", "loaded", "inactive", "dead", "success", S(INACTIVE), "success", true, true,
          "once.service inactive (dead), Result=success" },
        { "once.service", "loaded", "inactive", "dead", "exit-code", S(INACTIVE), "success", true, false,
          "once.service inactive (dead), Result=exit-code (expected success)" },
        { "once.service", "loaded", "failed", "failed", "exit-code", S(INACTIVE), "success", true, false,
          "once.service failed (failed), Result=exit-code, expected inactive" },
        { "once.service", "loaded", "active", "exited", "success", S(INACTIVE), "success", true, false,
          "once.service active (exited), Result=success, expected inactive" },
        { "once.service", "loaded", "inactive", "dead", "success", S(ACTIVE) | S(INACTIVE), "success", true, true,
          "once.service inactive (dead), Result=success" },
        { "once.service", "loaded", "activating", "start", "success", S(ACTIVE) | S(INACTIVE), "success", true,
          false, "once.service activating (start), Result=success, expected active|inactive" },
        /* A failed unit can be what is wanted (a canary). */
        { "canary.service", "loaded", "failed", "failed", "signal", S(FAILED), "signal", true, true,
          "canary.service failed (failed), Result=signal" },
        /* Not found: never passes, whatever is accepted. */
        { "ghost.service", "not-found", "inactive", "dead", NULL, S(INACTIVE), NULL, false, false,
          "ghost.service: no such unit (LoadState=not-found)" },
        { "ghost.service", "not-found", "inactive", "dead", "success", S(ACTIVE), "success", false, false,
          "ghost.service: no such unit (LoadState=not-found)" },
        /* Other load states are shown, the ActiveState decides. */
        { "masked.service", "masked", "inactive", "dead", "success", S(ACTIVE), NULL, true, false,
          "masked.service inactive (dead), Result=success, LoadState=masked" },
        { "odd.service", "bad-setting", "active", "running", NULL, S(ACTIVE), NULL, false, true,
          "odd.service active (running), LoadState=bad-setting" },
        /* A state this build does not know (a newer systemd) is never accepted. */
        { "new.service", "loaded", "hibernating", "x", "success", S(ACTIVE), NULL, true, false,
          "new.service hibernating (x), Result=success" },
};

static void test_unit_verdict(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(unit_cases); i++) {
                const UnitCase *t = &unit_cases[i];
                BusUnitStatus st = { .load_state = t->load, .active_state = t->active, .sub_state = t->sub };
                char detail[CHECK_DETAIL_MAX];
                bool passed;

                if (bus_unit_wants_result(t->unit, &st, t->accepted, t->want_result) != t->wants_result)
                        fail_msg("case %zu (%s %s): wants_result should be %d", i, t->unit, t->active,
                                 t->wants_result);
                st.result = t->result;
                passed = bus_unit_verdict(t->unit, &st, t->accepted, t->want_result, detail, sizeof(detail));
                if (passed != t->passed || !streq(detail, t->detail))
                        fail_msg("case %zu: got %s '%s', expected %s '%s'", i, passed ? "pass" : "fail", detail,
                                 t->passed ? "pass" : "fail", t->detail);
        }
}

static void test_unit_verdict_truncates(void **state) {
        const BusUnitStatus st = { "loaded", "failed", "failed", "exit-code" };
        char small[16];

        assert_false(bus_unit_verdict("myapp.service", &st, S(ACTIVE), NULL, small, sizeof(small)));
        assert_string_equal(small, "myapp.service f");
}

typedef struct SystemCase {
        const char *state;
        const char *failed[8];
        const char *ignore[4];
        bool passed;
        const char *detail;
} SystemCase;

static const SystemCase system_cases[] = {
        { "running", {}, {}, true, "running" },
        { "running", {}, { "a.service" }, true, "running" },
        { "degraded", { "a.service" }, {}, false, "degraded: 1 failed unit: a.service" },
        { "degraded", { "a.service", "b.socket" }, {}, false, "degraded: 2 failed units: a.service, b.socket" },
        { "degraded", { "a.service", "b.socket" }, { "a.service" }, false, "degraded: 1 failed unit: b.socket" },
        { "degraded", { "a.service", "b.socket" }, { "b.socket", "a.service" }, true,
          "degraded by ignored units only: a.service, b.socket" },
        { "degraded", { "user@1000.service", "user@1001.service", "x.mount" }, { "user@*.service" }, false,
          "degraded: 1 failed unit: x.mount" },
        { "degraded", { "user@1000.service", "user@1001.service" }, { "user@*.service" }, true,
          "degraded by ignored units only: user@1000.service, user@1001.service" },
        { "degraded", { "a.service" }, { "a.servic" }, false, "degraded: 1 failed unit: a.service" },
        /* The failed unit went away between the two questions. */
        { "degraded", {}, {}, false, "degraded (no failed unit listed)" },
        { "starting", {}, {}, false, "not yet running (starting)" },
        { "initializing", {}, {}, false, "not yet running (initializing)" },
        { "maintenance", {}, {}, false, "SystemState=maintenance" },
        { "stopping", {}, {}, false, "SystemState=stopping" },
        { "offline", {}, {}, false, "SystemState=offline" },
        { "unknown", {}, {}, false, "SystemState=unknown" },
        { "", {}, {}, false, "SystemState=" },
};

static void test_system_verdict(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(system_cases); i++) {
                const SystemCase *t = &system_cases[i];
                char detail[CHECK_DETAIL_MAX];
                bool passed;

                passed = bus_system_verdict(t->state, (char *const *) t->failed, (char *const *) t->ignore, detail,
                                            sizeof(detail));
                if (passed != t->passed || !streq(detail, t->detail))
                        fail_msg("case %zu (%s): got %s '%s', expected %s '%s'", i, t->state,
                                 passed ? "pass" : "fail", detail, t->passed ? "pass" : "fail", t->detail);
        }
}

/* Many failed units: as many names as fit, then how many more, never cut in a name. */
static void test_system_verdict_truncates(void **state) {
        _cleanup_(strv_freep) char **failed = NULL;
        char detail[CHECK_DETAIL_MAX], name[64];
        const char *more;
        size_t shown = 0;
        unsigned n_more;

        for (int i = 0; i < 40; i++) {
                snprintf(name, sizeof(name), "some-long-unit-name-number-%02d.service", i);
                assert_int_equal(strv_extend(&failed, name), 0);
        }
        assert_false(bus_system_verdict("degraded", failed, NULL, detail, sizeof(detail)));
        assert_true(strlen(detail) < sizeof(detail) - 1);
        assert_non_null(startswith(detail, "degraded: 40 failed units: some-long-unit-name-number-00.service, "));
        more = strstr(detail, ", +");
        assert_non_null(more);
        assert_int_equal(sscanf(more, ", +%u more", &n_more), 1);
        assert_string_equal(more + strlen(more) - 5, " more");
        for (char *p = detail; (p = strstr(p, ".service")); p++)
                shown++;
        assert_int_equal(shown + n_more, 40);
        print_message("  %zu names shown, +%u more, in %zu characters\n", shown, n_more, strlen(detail));

        /* Only the ignored ones, in a tiny buffer: cut, but terminated and within bounds. */
        char star[] = "*", *all[] = { star, NULL };
        for (size_t size = 1; size < 64; size++) {
                char *buf = malloc(size);
                assert_non_null(buf);
                assert_true(bus_system_verdict("degraded", failed, all, buf, size));
                assert_true(strlen(buf) < size);
                free(buf);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_active_states),
                cmocka_unit_test(test_unit_names),
                cmocka_unit_test(test_result_interface),
                cmocka_unit_test(test_unit_verdict),
                cmocka_unit_test(test_unit_verdict_truncates),
                cmocka_unit_test(test_system_verdict),
                cmocka_unit_test(test_system_verdict_truncates),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
