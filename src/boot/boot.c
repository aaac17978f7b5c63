/* SPDX-License-Identifier: MIT */
#include "boot.h"

bool boot_flag_set(const char *v) {
        return v && parse_boolean(v) == 1;
}

static bool number(const char *v, unsigned *ret) {
        return v && parse_uint(v, ret) >= 0;
}

BootPhase boot_decide(const BootInputs *in, const char **why) {
        bool upgrade = boot_flag_set(in->upgrade_available);
        unsigned count, limit;

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
                /* U-Boot reads such a value as 0 too (env_get_ulong): it counts nothing. */
                *why = in->upgrade_available && parse_boolean(in->upgrade_available) < 0
                               ? "nothing pending (upgrade_available is neither 0 nor 1: U-Boot does not count this boot)"
                               : "nothing pending (upgrade_available is not set)";
                return BOOT_PHASE_STEADY;
        }
        /* U-Boot's test is bootcount > bootlimit; without both numbers it cannot have fired. */
        if (number(in->bootcount, &count) && number(in->bootlimit, &limit) && limit > 0 && count > limit) {
                *why = "bootcount is past bootlimit: U-Boot's altbootcmd booted the previous software";
                return BOOT_PHASE_ROLLED_BACK;
        }
        *why = "upgrade_available is set: the new software is on probation";
        return BOOT_PHASE_TRIAL;
}

const char *boot_phase_to_string(BootPhase p) {
        static const char *const names[] = {
                [BOOT_PHASE_STEADY] = "steady",
                [BOOT_PHASE_TRIAL] = "trial",
                [BOOT_PHASE_ROLLED_BACK] = "rolled-back",
        };
        return (size_t) p < ELEMENTSOF(names) ? names[p] : "unknown";
}
