/* SPDX-License-Identifier: MIT */
#include "boot.h"

unsigned long boot_env_ulong(const char *v) {
        unsigned long n = 0;

        /* simple_strtoul(v, NULL, 10): digits only, no sign, no blank, wrapping like U-Boot's. */
        for (; v && *v >= '0' && *v <= '9'; v++)
                n = n * 10 + (unsigned long) (*v - '0');
        return n;
}

bool boot_flag_set(const char *v) {
        return boot_env_ulong(v) != 0;
}

bool boot_flag_canonical(const char *v) {
        return !v || streq(v, "0") || streq(v, "1");
}

BootPhase boot_decide(const BootInputs *in, const char **why) {
        bool upgrade = boot_flag_set(in->upgrade_available);
        unsigned long count = boot_env_ulong(in->bootcount), limit = boot_env_ulong(in->bootlimit);

        if (in->env_error < 0) {
                *why = "the boot environment cannot be read: assessing nothing, writing nothing";
                return BOOT_PHASE_STEADY;
        }

        /* The deployment actually booted is the strongest evidence, when it is known. */
        if (in->deployment == BOOT_DEPLOYMENT_PREVIOUS && (upgrade || boot_flag_set(in->rollback))) {
                *why = "an older deployment was booted while an upgrade was pending";
                return BOOT_PHASE_ROLLED_BACK;
        }
        if (in->deployment == BOOT_DEPLOYMENT_DEFAULT && boot_flag_set(in->rollback)) {
                /* A rollback flag left over from an earlier incident: the new software did boot. */
                *why = upgrade ? "upgrade_available is set and the default deployment booted (stale rollback flag)"
                               : "nothing pending (stale rollback flag)";
                return upgrade ? BOOT_PHASE_TRIAL : BOOT_PHASE_STEADY;
        }

        if (boot_flag_set(in->rollback)) {
                *why = "rollback is set: U-Boot's altbootcmd booted the previous software";
                return BOOT_PHASE_ROLLED_BACK;
        }
        if (!upgrade) {
                /* As U-Boot reads it (env_get_ulong): it counts nothing. */
                *why = in->upgrade_available && !boot_flag_canonical(in->upgrade_available)
                               ? "nothing pending (upgrade_available reads as 0 to U-Boot: it does not count this boot)"
                               : "nothing pending (upgrade_available is not set)";
                return BOOT_PHASE_STEADY;
        }
        /* U-Boot's test: bootlimit set and bootcount > bootlimit, both read by env_get_ulong. */
        if (limit > 0 && count > limit) {
                *why = "bootcount is past bootlimit: U-Boot's altbootcmd booted the previous software";
                return BOOT_PHASE_ROLLED_BACK;
        }
        *why = "upgrade_available is set: the new software is on probation";
        return BOOT_PHASE_TRIAL;
}

static const char *const phase_names[] = {
        [BOOT_PHASE_STEADY] = "steady",
        [BOOT_PHASE_TRIAL] = "trial",
        [BOOT_PHASE_ROLLED_BACK] = "rolled-back",
};

const char *boot_phase_to_string(BootPhase p) {
        return (size_t) p < ELEMENTSOF(phase_names) ? phase_names[p] : "unknown";
}

int boot_phase_from_string(const char *s) {
        for (size_t i = 0; s && i < ELEMENTSOF(phase_names); i++)
                if (streq(s, phase_names[i]))
                        return (int) i;
        return -EINVAL;
}
