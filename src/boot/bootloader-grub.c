/* SPDX-License-Identifier: MIT */
/* GRUB, with the variables greenboot's users know: boot_counter, counted down by the grub.cfg
 * fragment conf/grub/healthdog.cfg on every boot while boot_success is not 1, and set to -1 when
 * it is spent, when that fragment boots the previous OSTree deployment (menu entry 1) instead.
 * The environment block is read and written by src/boot/grubenv.c. */
#include "bootloader.h"
#include "grubenv.h"

enum { VAR_COUNTER, VAR_SUCCESS, _VAR_MAX };

/* The fragment counts down from at most this many boots (GRUB's script has no arithmetic: one
 * branch per value). */
#define GRUB_ATTEMPTS_MAX 9

static void grub_names(_unused_ const BootloaderConfig *b, const char *names[static BOOT_VARS_MAX]) {
        names[VAR_COUNTER] = "boot_counter";
        names[VAR_SUCCESS] = "boot_success";
}

static const char *grub_location(const BootloaderConfig *b) {
        return b->grubenv;
}

static int grub_read(const BootloaderConfig *b, const char *const *names, size_t n, char **values) {
        return grubenv_read(b->grubenv, names, n, values);
}

static int grub_write(const BootloaderConfig *b, const BootStore *s) {
        return grubenv_write(b->grubenv, s->names, s->values, s->expected, s->n);
}

static const char *grub_strerror(const BootloaderConfig *b, int error, char *buf, size_t size) {
        return grubenv_strerror(b->grubenv, error, buf, size);
}

/* A value the fragment counts down: 0 to GRUB_ATTEMPTS_MAX, written as grub-editenv would. */
static bool counting(const char *v) {
        return v && v[0] >= '0' && v[0] <= '0' + GRUB_ATTEMPTS_MAX && !v[1];
}

static bool confirmed(char *const *env) {
        return streq_ptr(env[VAR_SUCCESS], "1");
}

static BootPhase grub_decide(char *const *env, BootDeployment deployment, const char **why) {
        const char *counter = env[VAR_COUNTER];

        if (!counter) {
                *why = "nothing pending (boot_counter is not set)";
                return BOOT_PHASE_STEADY;
        }
        if (confirmed(env)) {
                *why = "nothing pending (boot_success=1: GRUB does not count this boot)";
                return BOOT_PHASE_STEADY;
        }
        if (streq(counter, "-1")) {
                if (deployment == BOOT_DEPLOYMENT_DEFAULT) {
                        /* Chosen at GRUB's menu by hand, say: it must prove itself, and a reset
                         * falls back again. */
                        *why = "boot_counter=-1, but the default deployment booted: on probation";
                        return BOOT_PHASE_TRIAL;
                }
                *why = "boot_counter=-1: GRUB's fallback booted the previous deployment";
                return BOOT_PHASE_ROLLED_BACK;
        }
        if (!counting(counter)) {
                *why = "nothing pending this boot (boot_counter is not a count: GRUB falls back at the next boot)";
                return BOOT_PHASE_STEADY;
        }
        if (deployment == BOOT_DEPLOYMENT_PREVIOUS) {
                *why = "an older deployment was booted while a trial was pending";
                return BOOT_PHASE_ROLLED_BACK;
        }
        *why = "boot_counter is set: the new software is on probation";
        return BOOT_PHASE_TRIAL;
}

static bool grub_pending(char *const *env) {
        return env[VAR_COUNTER] && !confirmed(env);
}

static bool grub_armed(char *const *env) {
        return counting(env[VAR_COUNTER]) && !confirmed(env);
}

static char *grub_warning(_unused_ const BootloaderConfig *b, char *const *env) {
        const char *counter = env[VAR_COUNTER];
        char *w;

        if (!counter || confirmed(env) || counting(counter) || streq(counter, "-1"))
                return NULL;
        if (asprintf(&w, "boot_counter='%s' is not a count from 0 to %d or -1: GRUB's fragment takes it as spent and "
                     "boots the previous deployment at the next boot", counter, GRUB_ATTEMPTS_MAX) < 0)
                return NULL;
        return w;
}

/* boot_success=1 and boot_counter unset, as greenboot leaves a good boot. */
static void grub_clear(_unused_ const BootloaderConfig *b, char *const *env, BootStore *s) {
        *s = (BootStore) {
                .names = { "boot_success", "boot_counter" },
                .values = { "1", NULL },
                .expected = { env[VAR_SUCCESS], env[VAR_COUNTER] },
                .n = 2,
                .what = "boot_counter (boot_success=1)",
        };
}

static int grub_arm(_unused_ const BootloaderConfig *b, unsigned attempts, char *const *env, BootStore *s) {
        *s = (BootStore) {
                .names = { "boot_counter", "boot_success" },
                .values = { s->number, "0" },
                .expected = { env[VAR_COUNTER], env[VAR_SUCCESS] },
                .n = 2,
                .what = "boot_counter and boot_success",
        };
        snprintf(s->number, sizeof(s->number), "%u", attempts);
        if (attempts < 1 || attempts > GRUB_ATTEMPTS_MAX) {
                snprintf(s->what, sizeof(s->what), "GRUB's fragment counts 1 to %d boots, not %u", GRUB_ATTEMPTS_MAX,
                         attempts);
                return -ERANGE;
        }
        return 0;
}

const Bootloader bootloader_grub = {
        .name = "grub",
        .n_vars = _VAR_MAX,
        .hook_vars = (const char *const[]) { "HEALTHDOG_BOOT_COUNTER", "HEALTHDOG_BOOT_SUCCESS" },
        .names = grub_names,
        .location = grub_location,
        .read = grub_read,
        .write = grub_write,
        .strerror = grub_strerror,
        .decide = grub_decide,
        .pending = grub_pending,
        .armed = grub_armed,
        .warning = grub_warning,
        .clear = grub_clear,
        .arm = grub_arm,
};
