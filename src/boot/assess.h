/* SPDX-License-Identifier: MIT */
#pragma once

#include <systemd/sd-event.h>

#include "boot.h"
#include "bootloader.h"
#include "config.h"

typedef struct Assessment Assessment;
typedef struct HookRun HookRun;
typedef struct HelperRun HelperRun;

/* Called when something the feed decision depends on changed: the phase was decided late (after
 * the environment's lock), the trial timed out, the trial was confirmed. */
typedef void (*assess_changed_t)(Assessment *a, void *userdata);

/* Boot assessment: what this boot is (read from the boot environment), when a trial is
 * confirmed, the verdict history, the hooks and the OSTree clean-up. It owns its state and its
 * timers; whether the watchdog is fed is not its business (src/daemon/feed.c): it tells its owner
 * what changed, and the owner tells it what the decision was (assess_starving(),
 * assess_degraded(), assess_recovered()). Its fields are read by the owner, written only here. */
struct Assessment {
        sd_event *event;
        const Config *config;           /* the owner's; replaced with assess_set_config() */
        const Bootloader *loader;       /* [bootloader] type when assess_new() ran; NULL: none */
        char boot_id[BOOT_ID_MAX];
        usec_t started_realtime;
        assess_changed_t changed;
        void *userdata;

        BootPhase phase;                /* decided once per boot, kept in its record across restarts */
        const char *why;
        char why_restored[256];         /* why, as the record of this boot says (a restart) */
        bool restored;                  /* the phase comes from this boot's record */
        bool deciding;                  /* the phase waits for the helper: which deployment booted */
        int env_error;                  /* reading the environment */
        unsigned env_busy_retries;      /* reads again while another process holds its lock */
        sd_event_source *env_retry_timer;
        char *env[BOOT_VARS_MAX];       /* the loader's variables as read (upgrade_available, ...) */
        char *env_warning;              /* a flag U-Boot and a boot script read differently, or NULL */
        char *failed_deployment;        /* CHECKSUM.SERIAL of the deployment that failed its trial, as
                                         * identified when this boot started; NULL when none or unknown */
        char *previous_reset;           /* the reset reason the boot before recorded (JSON), or NULL */
        char *booted_deployment;        /* CHECKSUM.SERIAL booted, when the helper was asked; else NULL */
        bool watchdog_reset;            /* the watchdog's boot status says it reset the board */

        bool confirmed;
        bool env_changed;               /* the variables changed since this boot read them: not written */
        bool cleared;                   /* a rolled-back boot's variables are cleared (stored, read back) */
        bool trial_expired;             /* trial-timeout passed unconfirmed */
        bool starved;                   /* the owner let the watchdog fire: nothing is confirmed now */
        bool degraded;                  /* steady, a required check failing, no reset allowed */
        bool all_pass;                  /* every required check passed its last run */
        usec_t healthy_since;           /* CLOCK_MONOTONIC since all_pass; 0 = not */
        usec_t confirmed_at;            /* CLOCK_REALTIME */
        sd_event_source *confirm_timer;
        sd_event_source *clear_timer;   /* retrying the clear of a rolled-back boot */
        sd_event_source *trial_timer;
        HookRun *hooks;
        HelperRun *helper;              /* the OSTree helper, when it runs */

        char verdict[16];               /* pending, confirmed, rejected, reset, degraded, steady, rolled-back */
        char verdict_reason[256];
        bool recorded;                  /* this boot has its record in the verdict history */
};

/* Whether the phase is the one this boot keeps: false while the environment's lock is awaited or
 * the helper is asked which deployment booted. */
static inline bool assess_phase_known(const Assessment *a) {
        return !a->deciding && !a->env_retry_timer;
}

/* A new assessment of the boot boot_id; nothing happens before assess_start(). Returns 0 or
 * -ENOMEM. */
int assess_new(Assessment **ret, sd_event *event, const Config *config, const char *boot_id,
               usec_t started_realtime, assess_changed_t changed, void *userdata);
/* Cancels timers, hooks and the helper. Accepts NULL; returns NULL. */
Assessment *assess_free(Assessment *a);
static inline void assess_freep(Assessment **a) {
        assess_free(*a);
}

/* A reloaded configuration; the phase stays as decided. */
void assess_set_config(Assessment *a, const Config *config);

/* Reads the environment, decides the phase and acts on it (a rolled-back boot: the variables
 * cleared, the failure recorded, red hooks, the failed deployment removed; a trial: the trial
 * timer). watchdog_reset: the device says it caused the last reset. previous_reset: the reason an
 * earlier boot recorded before its reset (JSON, taken over; NULL when none): it goes into this
 * boot's record, and its file is removed once that is written. reset_stands: a reset was decided
 * earlier in this boot, before a restart. Logs its own errors; an environment that cannot be read
 * or written never stops the supervision. */
void assess_start(Assessment *a, bool watchdog_reset, char *previous_reset, bool reset_stands);

/* After every check result: all_pass is whether every required check, environmental ones
 * included, passed its last run. A trial is confirmed once that has held for confirm-after. */
void assess_checks(Assessment *a, bool all_pass);

/* Confirms the trial now (`healthdog mark-good`). Returns 0, -EALREADY when already confirmed,
 * -EPERM when this is not a trial boot, -ESTALE when the trial already failed (the reset is on
 * its way), -EIO when the environment could not be written (the trial stays unconfirmed and a
 * retry is scheduled). */
int assess_mark_good(Assessment *a);

/* The owner stopped feeding (reason as in the reset reason; check may be NULL): records the
 * verdict and runs the red hooks. */
void assess_starving(Assessment *a, const char *reason, const char *check, const char *detail);
/* The owner keeps a steady device up in spite of a failing required check (why: for the record). */
void assess_degraded(Assessment *a, const char *why);
/* Every required check is healthy again after assess_degraded(). */
void assess_recovered(Assessment *a);

/* The verdict record of this boot as one JSON object (allocated), for the history and status;
 * NULL on ENOMEM. */
char *assess_record_json(const Assessment *a);

/* What `healthdog status` shows with no daemon running: the phase decided as the daemon decides
 * it, from the environment read now (never written), with an earlier boot's reset reason, verdict
 * "unknown". Returns 0 with a new Assessment (no timers, nothing started), or -ENOMEM. */
int assess_offline(const Config *config, const char *boot_id, Assessment **ret);
