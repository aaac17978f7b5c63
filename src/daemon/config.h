/* SPDX-License-Identifier: MIT */
#pragma once

#include "check.h"
#include "conf-parser.h"
#include "wdt.h"

typedef struct WatchdogConfig {
        char *device;          /* "none" = dry run */
        usec_t timeout;
        usec_t interval;       /* 0 in the file = a third of the timeout */
        usec_t pretimeout;     /* 0 = not used */
        bool disarm_on_stop;
} WatchdogConfig;

typedef struct SupervisorConfig {
        char *state_directory;
        char *runtime_directory;     /* control socket, maintenance hold */
        usec_t startup_grace;
        unsigned realtime_priority;  /* 0 = normal scheduling */
        char *dbus_address;          /* where the systemd-* checks reach systemd; NULL or empty = the system bus */
} SupervisorConfig;

typedef enum BootloaderType {
        BOOTLOADER_NONE,
        BOOTLOADER_UBOOT,
        BOOTLOADER_GRUB,
} BootloaderType;

/* Where the boot environment is and what its variables are called (boot scripts differ). */
typedef struct BootloaderConfig {
        int type;                    /* BootloaderType */
        char *fw_env_config;         /* uboot */
        char *grubenv;               /* grub */
        char *upgrade_available_var;
        char *bootcount_var;
        char *bootlimit_var;
        char *rollback_var;
} BootloaderConfig;

typedef enum TrialTimeoutAction {
        TRIAL_TIMEOUT_WAIT,    /* keep feeding, stay unconfirmed */
        TRIAL_TIMEOUT_REJECT,  /* stop feeding: U-Boot counts the boot */
        TRIAL_TIMEOUT_ACCEPT,  /* confirm anyway */
} TrialTimeoutAction;

typedef enum SteadyAction {
        STEADY_ACTION_RESET,   /* stop feeding, while the reboot budget allows */
        STEADY_ACTION_DEGRADE, /* never reset a steady device: report only */
} SteadyAction;

/* How a boot is judged. */
typedef struct AssessmentConfig {
        usec_t confirm_after;        /* required checks healthy this long confirm a trial */
        usec_t trial_timeout;        /* 0 = no limit */
        int trial_timeout_action;    /* TrialTimeoutAction */
        int steady_action;           /* SteadyAction */
        unsigned max_resets;         /* health resets of a steady device ... */
        usec_t reset_window;         /* ... within this long */
        char *hooks_directory;       /* holds green.d/ and red.d/ */
        usec_t hook_timeout;
        usec_t boot_deadline;        /* `healthdog arm`: the watchdog timeout of a trial boot until the daemon runs */
} AssessmentConfig;

/* The shortest boot-deadline= taken (other than 0). */
#define BOOT_DEADLINE_MIN (30 * USEC_PER_SEC)
#define BOOT_DEADLINE_DEFAULT (3 * USEC_PER_MINUTE)

typedef enum OstreeEnable {
        OSTREE_ENABLE_AUTO,   /* when this system was booted by OSTree (/run/ostree-booted) */
        OSTREE_ENABLE_YES,
        OSTREE_ENABLE_NO,
} OstreeEnable;

#ifndef HEALTHDOG_OSTREE_HELPER
#define HEALTHDOG_OSTREE_HELPER "/usr/libexec/healthdog-ostree"
#endif
/* Where healthdog-ostree.socket listens (units/). */
#define HEALTHDOG_OSTREE_SOCKET "/run/healthdog-ostree.sock"

/* The OSTree deployments, changed through the healthdog-ostree helper. */
typedef struct OstreeConfig {
        int enable;              /* OstreeEnable */
        char *helper;
        char *helper_socket;     /* when it exists, the helper is asked through it (its own unit) */
        char *sysroot;
        unsigned keep_rollback;  /* rollback deployments kept after a confirmed trial */
        usec_t timeout;          /* for one run of the helper */
} OstreeConfig;

/* `healthdog update`: where updates come from, and how a trial is armed. */
typedef struct UpdateConfig {
        char *refspec;               /* REMOTE:REF; "" = the booted deployment's origin */
        bool reboot;                 /* into the trial once armed */
        unsigned bootlimit;          /* written with upgrade_available=1 and bootcount=0 */
        bool require_signature;      /* refuse a remote that verifies no signature */
} UpdateConfig;

typedef struct Config {
        char **files;          /* every file read, in the order applied */
        WatchdogConfig watchdog;
        SupervisorConfig supervisor;
        BootloaderConfig bootloader;
        AssessmentConfig assessment;
        OstreeConfig ostree;
        UpdateConfig update;
        CheckConfig **checks;  /* in the order first defined */
        size_t n_checks;
} Config;

#ifndef HEALTHDOG_CONFIG_FILE
#define HEALTHDOG_CONFIG_FILE "/etc/healthdog/healthdog.conf"
#endif
#ifndef HEALTHDOG_ADMIN_DROPIN_DIR
#define HEALTHDOG_ADMIN_DROPIN_DIR "/etc/healthdog/conf.d"
#endif
#ifndef HEALTHDOG_VENDOR_DROPIN_DIR
#define HEALTHDOG_VENDOR_DROPIN_DIR "/usr/lib/healthdog/conf.d"
#endif


/* Loads main_path, then every "*.conf" in dropin_dirs (NULL-terminated; a later directory's file
 * masks an earlier one of the same name; an empty file or a link to /dev/null just masks), in
 * lexical order of the file names. Every problem is added to errors as "FILE:LINE: message".
 * Returns 0 with a new Config, or -EINVAL when errors were found (errors holds them all), or
 * another -errno. Nothing is returned unless the whole set is valid. */
int config_load(const char *main_path, char *const *dropin_dirs, Config **ret, ConfigErrors *errors);
/* What a set of files that config_load() refuses still says, for running fail-closed with it: the
 * [watchdog], [supervisor], [bootloader], [assessment] and [ostree] keys that parse, every other
 * one at its default (a watchdog interval the rules refuse: a third of the timeout), and no checks.
 * Untrusted files are skipped as config_load() refuses them. The same files, when valid, give the
 * same settings as config_load(). Returns 0 with a new Config, or -errno (-ENOMEM). */
int config_load_settings(const char *main_path, char *const *dropin_dirs, Config **ret);
Config *config_free(Config *c);
static inline void config_freep(Config **c) {
        config_free(*c);
}

/* The drop-in directories for a main file: beside the default main file they are the vendor
 * and admin directories; for any other main file, the conf.d/ directory next to it.
 * Returns a new vector or NULL. */
char **config_dropin_dirs(const char *main_path);

/* Writes the effective configuration, every default filled in, as config text. */
void config_dump(const Config *c, FILE *f);

const CheckConfig *config_find_check(const Config *c, const char *name);
