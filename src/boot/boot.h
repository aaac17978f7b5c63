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

/* Whether a flag variable (upgrade_available, rollback) is set: U-Boot scripts write 1/0, some
 * integrators yes/no or true/false. NULL (unset) is not. */
bool boot_flag_set(const char *v);
