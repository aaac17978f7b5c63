/* SPDX-License-Identifier: MIT */
#pragma once

#include <systemd/sd-event.h>

#include "assess.h"
#include "check.h"
#include "config.h"
#include "control.h"
#include "wdt.h"

/* The daemon: one event loop that runs the checks on their timers and feeds the watchdog
 * while every required check is healthy. */
typedef struct Manager {
        sd_event *event;
        char *config_path;
        char **dropin_dirs;
        Config *config;

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

        Assessment assess;
        usec_t started_realtime;

        usec_t hold_until;             /* CLOCK_BOOTTIME; 0 = no maintenance hold */
        sd_event_source *hold_timer;

        Control *control;              /* the control socket; NULL when it could not be set up */

        bool in_grace;
        bool feeding;                  /* false once healthdog decided to let the device fire */
        bool stopped_by_signal;
        char starve_detail[CHECK_DETAIL_MAX];
} Manager;

/* Takes ownership of config. Returns 0 or -errno. */
int manager_new(Manager **ret, const char *config_path, Config *config);
/* Closes the watchdog without disarming it (a crash-safe default) and frees everything.
 * Accepts NULL; returns NULL. */
Manager *manager_free(Manager *m);
static inline void manager_freep(Manager **m) {
        manager_free(*m);
}

/* Arms the watchdog, schedules the checks, tells systemd READY=1. Logs its own errors.
 * Returns 0 or -errno. */
int manager_start(Manager *m);
/* Runs until SIGTERM/SIGINT. Returns the loop's exit code or -errno. */
int manager_run(Manager *m);
/* After a clean stop: disarm only when disarm-on-stop=yes and the device is still being fed. */
void manager_stop(Manager *m);

/* Stops feeding for good, after recording why (reason: "check-failed", "trial-timeout"; check
 * may be NULL). Used by manager_decide() and by the boot assessment. */
void manager_starve(Manager *m, const char *reason, const char *check, const char *detail);
/* Tells systemd (STATUS=) what is going on. */
void manager_update_status(Manager *m);

/* Loads the configuration again and, when it is valid, swaps it in (SIGHUP does the same).
 * Returns 0, or -errno with the first error in *ret_error (NULL or malloc'd; may be NULL). */
int manager_reload(Manager *m, char **ret_error);

/* A maintenance hold: keep feeding whatever the checks say, for duration. Kept in the runtime
 * directory, so it survives a daemon restart but not a reboot. Refused with -EBUSY during an
 * unconfirmed trial (the hold would hide the verdict U-Boot waits for). Returns 0 or -errno. */
int manager_hold(Manager *m, usec_t duration);
/* The hold's file in the runtime directory: "BOOT-ID UNTIL\n", UNTIL on CLOCK_BOOTTIME. */
#define MANAGER_HOLD_FILE "hold"
/* Ends a hold; the checks' verdict applies again at once. Returns 0, or -ENOENT when none. */
int manager_hold_cancel(Manager *m);
