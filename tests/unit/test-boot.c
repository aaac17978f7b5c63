/* SPDX-License-Identifier: MIT */
/* Unit tests for boot_decide(): the boot phase as a pure function of the environment as read
 * and, when known, of the deployment that was booted. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "boot.h"

#define S BOOT_PHASE_STEADY
#define T BOOT_PHASE_TRIAL
#define R BOOT_PHASE_ROLLED_BACK
#define U BOOT_DEPLOYMENT_UNKNOWN
#define D BOOT_DEPLOYMENT_DEFAULT
#define P BOOT_DEPLOYMENT_PREVIOUS

typedef struct BootCase {
        int env_error;
        const char *upgrade_available, *bootcount, *bootlimit, *rollback;
        BootDeployment deployment;
        BootPhase expected;
} BootCase;

static const BootCase cases[] = {
        /* error   upgrade  count  limit  rollback  deployment  phase */
        { 0,       NULL,    NULL,  NULL,  NULL,     U, S },   /* a board that never updated */
        { 0,       "0",     "0",   "3",   "0",      U, S },
        { 0,       "0",     "7",   "3",   NULL,     U, S },   /* counts mean nothing without an upgrade */
        { 0,       "1",     "1",   "3",   NULL,     U, T },   /* first boot of new software */
        { 0,       "1",     "3",   "3",   NULL,     U, T },   /* at the limit: still U-Boot's bootcmd */
        { 0,       "1",     "4",   "3",   NULL,     U, R },   /* past it: altbootcmd ran */
        { 0,       "1",     "4",   "0",   NULL,     U, T },   /* bootlimit 0 disables the limit */
        { 0,       "1",     "4",   NULL,  NULL,     U, T },   /* no bootlimit: no rollback by count */
        { 0,       "1",     "x",   "3",   NULL,     U, T },   /* U-Boot reads garbage as 0: no rollback */
        { 0,       "1",     "4x",  "3",   NULL,     U, R },   /* ... and "4x" as 4, like U-Boot */
        { 0,       "1",     "4",   "3 ",  NULL,     U, R },
        { 0,       "1",     "1",   "3",   "1",      U, R },   /* altbootcmd set the flag */
        { 0,       "0",     "0",   "3",   "1",      U, R },   /* flag set, upgrade already cleared */
        /* upgrade_available as U-Boot's bootcount reads it (env_get_ulong): not 0 counts */
        { 0,       "yes",   "1",   "3",   "no",     U, S },   /* reads 0: U-Boot never counts it */
        { 0,       "true",  "9",   "3",   "false",  U, S },
        { 0,       "2",     "1",   "3",   NULL,     U, T },   /* reads 2: counted, so on probation */
        { 0,       "01",    "1",   "3",   NULL,     U, T },
        { 0,       "1 ",    "1",   "3",   NULL,     U, T },
        { 0,       " 1",    "1",   "3",   NULL,     U, S },   /* no leading blank in simple_strtoul */
        { -EBADMSG, "1",    "9",   "3",   "1",      U, S },   /* bad CRC: never act on it */
        { -ENOENT, NULL,    NULL,  NULL,  NULL,     U, S },
        { 0,       "1",     "1",   "3",   NULL,     P, R },   /* the old deployment booted */
        { 0,       "1",     "9",   "3",   NULL,     D, R },   /* past the limit, whatever booted */
        { 0,       "1",     "1",   "3",   "1",      D, T },   /* stale flag: the new one booted */
        { 0,       "0",     "0",   "3",   "1",      D, S },
        { 0,       "0",     "0",   "3",   NULL,     P, S },   /* pinned older deployment, nothing pending */
        { 0,       "0",     "0",   "3",   "1",      P, R },
};

static void test_uboot_reading(void **state) {
        assert_int_equal(boot_env_ulong(NULL), 0);
        assert_int_equal(boot_env_ulong(""), 0);
        assert_int_equal(boot_env_ulong("1"), 1);
        assert_int_equal(boot_env_ulong("01"), 1);
        assert_int_equal(boot_env_ulong("12abc"), 12);
        assert_int_equal(boot_env_ulong("yes"), 0);
        assert_int_equal(boot_env_ulong("-1"), 0);
        assert_int_equal(boot_env_ulong("0x1"), 0);
        assert_true(boot_flag_canonical(NULL) && boot_flag_canonical("0") && boot_flag_canonical("1"));
        assert_false(boot_flag_canonical("01") || boot_flag_canonical("yes") || boot_flag_canonical("1 ") ||
                     boot_flag_canonical(""));
}

static const char *show(const char *s) {
        return s ?: "(unset)";
}

static void test_table(void **state) {
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                const BootCase *c = &cases[i];
                BootInputs in = {
                        .env_error = c->env_error,
                        .upgrade_available = c->upgrade_available,
                        .bootcount = c->bootcount,
                        .bootlimit = c->bootlimit,
                        .rollback = c->rollback,
                        .deployment = c->deployment,
                };
                const char *why = NULL;
                BootPhase p = boot_decide(&in, &why);

                if (p != c->expected)
                        fail_msg("case %zu (error %d, upgrade_available=%s bootcount=%s bootlimit=%s rollback=%s "
                                 "deployment %d): %s, expected %s (%s)",
                                 i, c->env_error, show(c->upgrade_available), show(c->bootcount),
                                 show(c->bootlimit), show(c->rollback), c->deployment, boot_phase_to_string(p),
                                 boot_phase_to_string(c->expected), why);
                assert_non_null(why);
                assert_true(strlen(why) > 10);
        }
}

static void test_names(void **state) {
        assert_string_equal(boot_phase_to_string(BOOT_PHASE_STEADY), "steady");
        assert_string_equal(boot_phase_to_string(BOOT_PHASE_TRIAL), "trial");
        assert_string_equal(boot_phase_to_string(BOOT_PHASE_ROLLED_BACK), "rolled-back");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_table),
                cmocka_unit_test(test_names),
                cmocka_unit_test(test_uboot_reading),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
