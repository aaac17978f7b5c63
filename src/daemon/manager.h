/* SPDX-License-Identifier: MIT */
#pragma once

#include <systemd/sd-event.h>

#include "assess.h"
#include "check.h"
#include "config.h"
#include "control.h"
#include "feed.h"
#include "wdt.h"

/* The daemon: one event loop that runs the checks on their timers and feeds the watchdog
 * while feed_decide() says so. */
typedef struct Manager {
        sd_event *event;
        char *config_path;
        char **dropin_dirs;
        Config *config;
        char boot_id[BOOT_ID_MAX];

        CheckContext context;          /* what the checks share (the loop, the bus) */
        Watchdog *watchdog;            /* NULL with device = none (dry run) */
        usec_t ping_interval;
        Check **checks;
        size_t n_checks;

        sd_event_source *ping_timer;
        sd_event_source *grace_timer;
        sd_event_source *sigterm_source;
        sd_event_source *sigint_source;
        sd_event_source *sighup_source;

        Assessment *assess;
        usec_t started_realtime;

        usec_t hold_until;             /* CLOCK_BOOTTIME; 0 = no maintenance hold */
        sd_event_source *hold_timer;

        Control *control;              /* the control socket; NULL when it could not be set up */

        /* The inputs of the feed decision that are the manager's own, and its last answer.
         * decision is written in one place, manager_decide(); on_ping only reads it. */
        bool in_grace;
        bool reset_decided;            /* in this boot: by this daemon, or before a restart (reset-reason.json) */
        bool budget_spent;             /* the failure under way found the reboot budget spent */
        FeedDecision decision;
        char starve_detail[CHECK_DETAIL_MAX + 128];   /* the check and its detail */
        bool stopped_by_signal;
} Manager;

/* Takes ownership of config. Returns 0 or -errno. */
int manager_new(Manager **ret, const char *config_path, Config *config);
/* Closes the watchdog without disarming it (a crash-safe default) and frees everything.
 * Accepts NULL; returns NULL. */
Manager *manager_free(Manager *m);
static inline void manager_freep(Manager **m) {
        manager_free(*m);
}

/* Learns whether a reset was already decided in this boot, arms the watchdog unless it was,
 * assesses the boot, schedules the checks, tells systemd READY=1. Logs its own errors.
 * Returns 0 or -errno. */
int manager_start(Manager *m);
/* Runs until SIGTERM/SIGINT. Returns the loop's exit code or -errno. */
int manager_run(Manager *m);
/* After a clean stop: disarm only when disarm-on-stop=yes and the device is still being fed. */
void manager_stop(Manager *m);

/* Loads the configuration again and, when it is valid, swaps it in (SIGHUP does the same).
 * Returns 0, or -errno with the first error in *ret_error (NULL or malloc'd; may be NULL). */
int manager_reload(Manager *m, char **ret_error);

/* A maintenance hold: keep feeding whatever the checks say, for duration. Kept in the runtime
 * directory, so it survives a daemon restart but not a reboot. Refused with -EBUSY during an
 * unconfirmed trial (the hold would hide the verdict U-Boot waits for), -ESTALE once the feeding
 * stopped. Returns 0 or -errno. */
int manager_hold(Manager *m, usec_t duration);
/* Ends a hold; the checks' verdict applies again at once. Returns 0, or -ENOENT when none. */
int manager_hold_cancel(Manager *m);
