/* SPDX-License-Identifier: MIT */
#pragma once

#include "boot.h"
#include "config.h"

/* Enough for the loader's strerror(). */
#define BOOT_STRERROR_MAX 512

/* At most this many variables are read from a bootloader's environment. */
#define BOOT_VARS_MAX 4

/* One compare-and-store of the boot environment: names[i] set to values[i] (NULL: unset), only
 * while every names[i] still holds expected[i] (NULL: unset) as read at this boot. what says
 * what the store does, for log lines ("upgrade_available and bootcount"). */
typedef struct BootStore {
        const char *names[BOOT_VARS_MAX];
        const char *values[BOOT_VARS_MAX];
        const char *expected[BOOT_VARS_MAX];
        size_t n;
        char what[128];
        char number[16];                /* room for a number among values[] */
} BootStore;

/* A bootloader that counts trial boots and falls back by itself: where its variables are, what
 * they mean, and the stores that confirm, clear and arm a trial. One file per bootloader
 * (bootloader-uboot.c, bootloader-grub.c), one of these in each; the assessment and `healthdog
 * update` use nothing else. env[] holds the n_vars variables read, in names() order (NULL: unset). */
typedef struct Bootloader {
        const char *name;               /* as [bootloader] type says it */
        size_t n_vars;
        /* The names the hooks get the variables under (HEALTHDOG_...), n_vars entries; NULL: not passed. */
        const char *const *hook_vars;

        void (*names)(const BootloaderConfig *b, const char *names[static BOOT_VARS_MAX]);
        /* Where the environment is, for messages: a file healthdog reads. */
        const char *(*location)(const BootloaderConfig *b);
        /* bootenv_read()/bootenv_write() and bootenv_strerror() semantics, for either store. */
        int (*read)(const BootloaderConfig *b, const char *const *names, size_t n, char **values);
        int (*write)(const BootloaderConfig *b, const BootStore *s);
        const char *(*strerror)(const BootloaderConfig *b, int error, char *buf, size_t size);

        /* The phase from the variables read (never an error: that is decided before) and which
         * deployment booted, when known; *why is a static explanation. */
        BootPhase (*decide)(char *const *env, BootDeployment deployment, const char **why);
        /* A trial is armed or a fallback signalled: which deployment booted can tell more. */
        bool (*pending)(char *const *env);
        /* A trial is armed and not yet counted down to a fallback (`healthdog update` waits for
         * its reboot). */
        bool (*armed)(char *const *env);
        /* A value the bootloader and other readers take differently, in words (allocated), or NULL. */
        char *(*warning)(const BootloaderConfig *b, char *const *env);

        /* The store that confirms a trial, or clears what a fallback left, from what was read. */
        void (*clear)(const BootloaderConfig *b, char *const *env, BootStore *s);
        /* The store that arms a trial of attempts boots. Returns 0, or -ERANGE when the bootloader
         * cannot count that many (s->what says why). */
        int (*arm)(const BootloaderConfig *b, unsigned attempts, char *const *env, BootStore *s);
} Bootloader;

extern const Bootloader bootloader_uboot;
extern const Bootloader bootloader_grub;

/* The backend of [bootloader] type; NULL for none. */
const Bootloader *bootloader_get(const BootloaderConfig *b);

/* "a=1 b=(unset)" for what store s writes, into buf. */
const char *boot_store_describe(const BootStore *s, char *buf, size_t size);

/* Where the environment of [bootloader] type is ("" for none), for messages. */
const char *boot_location(const BootloaderConfig *b);
/* What a confirmation clears, in words ("upgrade_available and bootcount"). */
const char *boot_cleared_what(const BootloaderConfig *b);
