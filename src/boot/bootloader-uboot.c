/* SPDX-License-Identifier: MIT */
/* U-Boot: bootcount and bootlimit counted by U-Boot itself (CONFIG_BOOTCOUNT_LIMIT) or by a boot
 * script, altbootcmd past bootlimit, the environment read and written with libubootenv through
 * fw_env.config (src/boot/bootenv.c). */
#include "bootenv.h"
#include "bootloader.h"

enum { VAR_UPGRADE, VAR_BOOTCOUNT, VAR_BOOTLIMIT, VAR_ROLLBACK, _VAR_MAX };

static void uboot_names(const BootloaderConfig *b, const char *names[static BOOT_VARS_MAX]) {
        names[VAR_UPGRADE] = b->upgrade_available_var;
        names[VAR_BOOTCOUNT] = b->bootcount_var;
        names[VAR_BOOTLIMIT] = b->bootlimit_var;
        names[VAR_ROLLBACK] = b->rollback_var;
}

static const char *uboot_location(const BootloaderConfig *b) {
        return b->fw_env_config;
}

static int uboot_read(const BootloaderConfig *b, const char *const *names, size_t n, char **values) {
        return bootenv_read(b->fw_env_config, names, n, values);
}

static int uboot_write(const BootloaderConfig *b, const BootStore *s) {
        return bootenv_write(b->fw_env_config, s->names, s->values, s->expected, s->n);
}

static const char *uboot_strerror(const BootloaderConfig *b, int error, char *buf, size_t size) {
        return bootenv_strerror(b->fw_env_config, error, buf, size);
}

static BootPhase uboot_decide(char *const *env, BootDeployment deployment, const char **why) {
        return boot_decide(&(BootInputs) {
                        .upgrade_available = env[VAR_UPGRADE],
                        .bootcount = env[VAR_BOOTCOUNT],
                        .bootlimit = env[VAR_BOOTLIMIT],
                        .rollback = env[VAR_ROLLBACK],
                        .deployment = deployment,
                }, why);
}

static bool uboot_pending(char *const *env) {
        return boot_flag_set(env[VAR_UPGRADE]) || boot_flag_set(env[VAR_ROLLBACK]);
}

static bool uboot_armed(char *const *env) {
        return boot_flag_set(env[VAR_UPGRADE]);
}

/* A flag whose value is neither 0 nor 1 is read differently by U-Boot's bootcount
 * (env_get_ulong: "01" and "2" count, "yes" does not) and by a boot script's
 * test "${upgrade_available}" = 1: what the device booted with cannot be told for sure. */
static char *uboot_warning(const BootloaderConfig *b, char *const *env) {
        static const int flags[] = { VAR_UPGRADE, VAR_ROLLBACK };
        const char *names[BOOT_VARS_MAX];
        char *w = NULL;

        uboot_names(b, names);
        for (size_t i = 0; i < ELEMENTSOF(flags); i++) {
                const char *v = env[flags[i]];

                if (boot_flag_canonical(v))
                        continue;
                free(w);
                if (asprintf(&w, "%s='%s' is neither 0 nor 1: U-Boot's bootcount reads it as %s, a boot script's "
                             "test \"${%s}\" = 1 as not set; write 1 or 0", names[flags[i]], v,
                             boot_flag_set(v) ? "set" : "not set", names[flags[i]]) < 0)
                        w = NULL;
        }
        return w;
}

/* upgrade_available and bootcount to 0; the rollback flag only when it is there: a steady device
 * writes nothing it need not. */
static void uboot_clear(const BootloaderConfig *b, char *const *env, BootStore *s) {
        const char *names[BOOT_VARS_MAX];

        uboot_names(b, names);
        *s = (BootStore) {
                .names = { names[VAR_UPGRADE], names[VAR_BOOTCOUNT] },
                .values = { "0", "0" },
                .expected = { env[VAR_UPGRADE], env[VAR_BOOTCOUNT] },
                .n = 2,
        };
        if (env[VAR_ROLLBACK]) {
                s->names[2] = names[VAR_ROLLBACK];
                s->values[2] = "0";
                s->expected[2] = env[VAR_ROLLBACK];
                s->n = 3;
                snprintf(s->what, sizeof(s->what), "%s, %s and %s", names[VAR_UPGRADE], names[VAR_BOOTCOUNT],
                         names[VAR_ROLLBACK]);
        } else
                snprintf(s->what, sizeof(s->what), "%s and %s", names[VAR_UPGRADE], names[VAR_BOOTCOUNT]);
}

static int uboot_arm(const BootloaderConfig *b, unsigned attempts, char *const *env, BootStore *s) {
        const char *names[BOOT_VARS_MAX];

        uboot_names(b, names);
        *s = (BootStore) {
                .names = { names[VAR_UPGRADE], names[VAR_BOOTCOUNT], names[VAR_BOOTLIMIT] },
                .values = { "1", "0", NULL },
                .expected = { env[VAR_UPGRADE], env[VAR_BOOTCOUNT], env[VAR_BOOTLIMIT] },
                .n = 3,
        };
        snprintf(s->number, sizeof(s->number), "%u", attempts);
        s->values[2] = s->number;
        snprintf(s->what, sizeof(s->what), "%s, %s and %s", names[VAR_UPGRADE], names[VAR_BOOTCOUNT],
                 names[VAR_BOOTLIMIT]);
        return 0;
}

const Bootloader bootloader_uboot = {
        .name = "uboot",
        .n_vars = _VAR_MAX,
        .hook_vars = (const char *const[]) { "HEALTHDOG_UPGRADE_AVAILABLE", "HEALTHDOG_BOOTCOUNT",
                                             "HEALTHDOG_BOOTLIMIT", NULL },
        .names = uboot_names,
        .location = uboot_location,
        .read = uboot_read,
        .write = uboot_write,
        .strerror = uboot_strerror,
        .decide = uboot_decide,
        .pending = uboot_pending,
        .armed = uboot_armed,
        .warning = uboot_warning,
        .clear = uboot_clear,
        .arm = uboot_arm,
};
