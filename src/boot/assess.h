/* SPDX-License-Identifier: MIT */
#pragma once

#include <systemd/sd-event.h>

#include "boot.h"

typedef struct Manager Manager;
typedef struct HookRun HookRun;
typedef struct HelperRun HelperRun;

/* Boot assessment, the Manager's part that reads and writes the boot environment: what this
 * boot is, when a trial is confirmed, and what a failing required check means in each phase.
 * Whether the watchdog is fed is still decided in one place, manager_decide(), which asks
 * assess_failure() what a failure means now. */
typedef struct Assessment {
        BootPhase phase;            /* decided once at start */
        const char *why;
        int env_error;              /* reading the environment at start */
        unsigned env_busy_retries;  /* reads again while another process holds its lock */
        sd_event_source *env_retry_timer;
        char *env[4];               /* upgrade_available, bootcount, bootlimit, rollback as read */
        char *previous_reset;       /* the reset reason the boot before recorded (JSON), or NULL */
        bool watchdog_reset;        /* the watchdog's boot status says it reset the board */

        bool confirmed;
        bool degraded;              /* steady, a required check failing, no reset allowed */
        usec_t healthy_since;       /* CLOCK_MONOTONIC since every required check passed; 0 = not */
        usec_t confirmed_at;        /* CLOCK_REALTIME */
        sd_event_source *confirm_timer;
        sd_event_source *trial_timer;
        HookRun *hooks;
        HelperRun *deploy;          /* the OSTree helper, when it runs */

        char verdict[16];           /* pending, confirmed, rejected, reset, degraded, steady, rolled-back */
        char verdict_reason[256];
        bool recorded;              /* this boot has its record in the verdict history */
} Assessment;

typedef enum AssessAction {
        ASSESS_STARVE,   /* let the watchdog fire */
        ASSESS_DEGRADE,  /* stay up, say so */
} AssessAction;

/* Reads the environment, decides the phase, handles a rolled-back boot (clears the variables,
 * records what failed, runs red hooks) and arms the trial timer. Logs its own errors; a boot
 * environment that cannot be read or written never stops the supervision. */
void assess_start(Manager *m);

/* To be called after every check result: a trial is confirmed once every required check,
 * environmental ones included, has passed continuously for confirm-after. */
void assess_health_changed(Manager *m);

/* What a failing required check (name, detail) means now: in a trial, starving; in a steady
 * boot, steady-action within the reboot budget (the budget is consumed here). */
AssessAction assess_failure(Manager *m, const char *check, const char *detail);

/* Every required check is healthy (again): leaves the degraded state. */
void assess_recovered(Manager *m);

/* The watchdog is about to be starved: record the verdict, run the red hooks. */
void assess_starving(Manager *m, const char *reason, const char *check, const char *detail);

/* Confirms the trial now (`healthdog mark-good`). Returns 0, -EALREADY when already confirmed,
 * -EPERM when this is not a trial boot, -ESTALE when the trial already failed (the reset is on
 * its way), -EIO when the environment could not be written (the trial stays unconfirmed and a
 * retry is scheduled). */
int assess_mark_good(Manager *m);

/* Releases timers and hooks. */
void assess_done(Assessment *a);

/* The verdict record of this boot as one JSON object (allocated), for the history and status. */
char *assess_record_json(const Manager *m);
