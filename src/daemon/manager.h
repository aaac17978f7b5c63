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
        char starve_detail[CHECK_DETAIL_MAX + 256];   /* the check and its detail, or the reason and its detail */
        bool stopped_by_signal;

        /* When the configuration at config_path does not load (manager_set_config_invalid()). */
        char *config_error;            /* its first error, "FILE:LINE: message"; NULL: it loads */
        size_t config_errors;          /* how many */
        bool config_settings_only;     /* no configuration ever loaded: config has its settings, no checks */
        unsigned starts;               /* starts of healthdog in this boot, this one included */
        bool open_deferred;            /* the device waits for the first decision (see manager_start()) */
} Manager;

/* Takes ownership of config. Returns 0 or -errno. */
int manager_new(Manager **ret, const char *config_path, Config *config);
/* Before manager_start(): the configuration at config_path does not load, and config is the last
 * one that did (STATE/last-good.conf), or with settings_only, what the files still say without
 * any check (config_load_settings()). first is its first error (copied), n how many. An
 * unconfirmed trial then fails closed; any other boot is supervised with config, degraded, or with
 * settings_only not at all (manager_run() ends). Returns 0 or -ENOMEM. */
int manager_set_config_invalid(Manager *m, const char *first, size_t n, bool settings_only);
/* Before manager_start(): how many times healthdog started in this boot (starts_count()). */
void manager_set_starts(Manager *m, unsigned starts);

/* Closes the watchdog without disarming it (a crash-safe default) and frees everything.
 * Accepts NULL; returns NULL. */
Manager *manager_free(Manager *m);
static inline void manager_freep(Manager **m) {
        manager_free(*m);
}

/* Learns whether a reset was already decided in this boot, arms the watchdog unless it was,
 * assesses the boot, schedules the checks, tells systemd READY=1; keeps a configuration that
 * loaded in STATE/last-good.conf. With no configuration that ever loaded, or past STARTS_MAX
 * starts in this boot, the device is opened only once the first decision is known: not at all on
 * a boot with nothing to supervise with, once (to arm it) when the reset is decided. Logs its own
 * errors. Returns 0 or -errno. */
int manager_start(Manager *m);
/* Runs until SIGTERM/SIGINT (returns 0), or until the supervision cannot go on: nothing to
 * supervise with on a boot that is not an unconfirmed trial, a device that would not open after
 * the decision (returns -ECANCELED, already logged); or -errno of the loop. */
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
