/* SPDX-License-Identifier: MIT */
#pragma once

#include "util.h"

/* The kernel's boot id as 32 hex digits (sd_id128_to_string()), plus the NUL. */
#define BOOT_ID_MAX 33

/* What this boot is, decided once at start. */
typedef enum BootPhase {
        BOOT_PHASE_STEADY,       /* nothing pending */
        BOOT_PHASE_TRIAL,        /* new software on probation: confirm it or let U-Boot count */
        BOOT_PHASE_ROLLED_BACK,  /* U-Boot gave up on the new software and booted the old one */
} BootPhase;

/* What the OSTree helper knows about the booted deployment, when it is asked. */
typedef enum BootDeployment {
        BOOT_DEPLOYMENT_UNKNOWN,
        BOOT_DEPLOYMENT_DEFAULT,   /* booted the default (newest) deployment */
        BOOT_DEPLOYMENT_PREVIOUS,  /* booted an older one: the bootloader fell back */
} BootDeployment;

/* The inputs, as read: variable values (NULL = unset) and the result of reading them. */
typedef struct BootInputs {
        int env_error;              /* 0, or -errno from reading the environment */
        const char *upgrade_available;
        const char *bootcount;
        const char *bootlimit;
        const char *rollback;
        BootDeployment deployment;
} BootInputs;

/* Decides the phase from the inputs alone (no I/O). *why gets a static explanation for logs
 * and status. An unreadable environment makes a steady boot: nothing is written then. */
BootPhase boot_decide(const BootInputs *in, const char **why);

const char *boot_phase_to_string(BootPhase p);
/* Returns the phase named s, or -EINVAL. */
int boot_phase_from_string(const char *s);

/* A variable as U-Boot's own C code reads it (env_get_ulong(name, 10, 0), which its bootcount
 * uses for upgrade_available, bootcount and bootlimit): the leading decimal digits, 0 when there
 * are none or the variable is unset (NULL). So "01" and "1 " are 1, "2" is 2, "yes" and " 1" are 0. */
unsigned long boot_env_ulong(const char *v);

/* Whether a flag variable (upgrade_available, rollback) is set, read as U-Boot reads it: not 0. */
bool boot_flag_set(const char *v);

/* Whether a flag's value reads the same to U-Boot's C code and to a boot script's
 * `test "${v}" = 1`: unset, "0" or "1". Any other value is read differently by the two. */
bool boot_flag_canonical(const char *v);
