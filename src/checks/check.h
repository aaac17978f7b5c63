/* SPDX-License-Identifier: MIT */
#pragma once

#include <systemd/sd-event.h>

#include "conf-parser.h"

typedef struct Check Check;
typedef struct CheckConfig CheckConfig;

/* What all checks of one owner (the supervisor, or a one-off `healthdog check`) share: the event
 * loop, and connections that kinds open on first use and keep for the next runs. */
typedef struct CheckContext {
        sd_event *event;
        const char *bus_address;        /* the D-Bus to talk to systemd on; NULL = the system bus */
        void *bus;                      /* opened by the systemd kinds, released with bus_free() */
        void (*bus_free)(void *bus);
        void *links;                    /* the link kind's table of interfaces, released with links_free() */
        void (*links_free)(void *links);
        /* The watchdog's ping grid on CLOCK_BOOTTIME (period 0: none): a run due close to a ping
         * is moved onto it, so that both share one wakeup. */
        usec_t tick_base, tick_period;
        /* Every check made in this context (check_new() links it, check_free() unlinks it): a
         * run timer that fires runs the others due by then too (check.c, on_run_timer). */
        Check *checks;
} CheckContext;

/* Releases what the kinds opened in the context. */
void check_context_done(CheckContext *ctx);

/* One kind of health check: its own keys, and how it probes. Adding a kind is one new file
 * defining a CheckKind (its keys table, then probe_now, or start with probe_free) plus its line
 * in check_kinds[]. The core owns the probe's lifetime: the kinds only make it and report. */
typedef struct CheckKind {
        const char *name;
        size_t settings_size;   /* the kind's settings struct, described by keys */
        const ConfigKey *keys;  /* the kind's own keys; offsets into the settings struct */

        /* Optional cross-key validation after all keys were read: add errors for c->file:c->line. */
        void (*verify)(const CheckConfig *c, ConfigErrors *errors);

        /* For kinds that have their answer at once (stat(), a file in /proc): probes with the
         * check's settings, writes a one-line detail of CHECK_DETAIL_MAX bytes and returns
         * whether the check passed. Such a kind has no start and no probe_free. */
        bool (*probe_now)(const void *settings, char *detail);

        /* Starts one probe. It reports exactly once through check_done(), possibly before start()
         * returns; a negative return means it could not start (counted as a failure). What the
         * probe waits on (a process, a socket, a call) goes into c->probe, which the core owns
         * from then on, also when start() fails after setting it. */
        int (*start)(Check *c);

        /* Releases c->probe: kills what it started, closes its sockets, forgets its calls. The
         * core calls it once the probe reported (inside check_done(), after the detail was
         * formatted: its arguments may point into the probe; so nothing may touch the probe after
         * check_done()), at the timeout, and when the check is freed (reload, shutdown). It never
         * reports and never blocks. A probe whose handle is gone by itself when it reports (a
         * reaped Spawn) is taken out of c->probe by the kind before it calls check_done(). */
        void (*probe_free)(void *probe);

        /* Optional: the kind's own repair (repair = restart-unit). Starts it and reports once with
         * check_repair_done(); repair_cancel() abandons it without reporting. Both never block. */
        int (*repair)(Check *c);
        void (*repair_cancel)(Check *c);
} CheckKind;

/* The registry: every kind, in one place. */
extern const CheckKind *const check_kinds[];
const CheckKind *check_kind_find(const char *name);

typedef struct FailAfter {
        unsigned n;      /* failures ... */
        unsigned window; /* ... within the last window runs; window == n means consecutive */
} FailAfter;

struct CheckConfig {
        char *name;
        const CheckKind *kind;
        usec_t interval;
        usec_t timeout;
        usec_t start_delay;
        FailAfter fail_after;
        unsigned pass_after;
        bool required;
        bool environmental; /* says more about the surroundings than the software: never stops the feeding */
        int repair;         /* CheckRepair */
        char **repair_command;
        unsigned repair_max;
        void *settings;  /* the kind's own, kind->settings_size bytes */

        char *file;      /* where the section was first defined, for messages */
        unsigned line;
};

typedef enum CheckRepair {
        CHECK_REPAIR_NONE,
        CHECK_REPAIR_RESTART_UNIT,  /* the kind's repair() */
} CheckRepair;

/* The keys every check has, whatever its kind (type= is handled by the loader). */
extern const ConfigKey check_common_keys[];


/* Returns a new config for a check of kind with every default set, or NULL on ENOMEM. */
CheckConfig *check_config_new(const char *name, const CheckKind *kind, const char *file, unsigned line);
CheckConfig *check_config_free(CheckConfig *c);
void check_config_dump(const CheckConfig *c, FILE *f);

/* What one probe found. */
typedef enum CheckResult {
        CHECK_RESULT_NONE,     /* not run yet */
        CHECK_RESULT_PASS,
        CHECK_RESULT_FAIL,
} CheckResult;

/* Counters that decide when a check counts as failing, kept apart from the event loop so that
 * the policy can be tested as a pure function. */
typedef struct CheckState {
        uint64_t runs;
        uint64_t history;        /* bit i set = run i back failed */
        unsigned consecutive_failures;
        unsigned consecutive_passes;
        bool failing;
} CheckState;

/* Folds one result into state according to fail-after and pass-after.
 * Returns true when state->failing changed. */
bool check_state_update(CheckState *state, const FailAfter *fail_after, unsigned pass_after, bool passed);

#define CHECK_DETAIL_MAX 256

/* What the owner of a check hears about. */
typedef enum CheckEvent {
        CHECK_EVENT_RESULT,          /* a probe finished; the check's health did not change */
        CHECK_EVENT_FAILING,         /* it crossed fail-after (and has no repair left) */
        CHECK_EVENT_HEALTHY,         /* it passed pass-after times in a row after failing */
        CHECK_EVENT_REPAIR_STARTED,  /* it crossed fail-after and a repair attempt started */
        CHECK_EVENT_REPAIR_DONE,     /* the repair finished; repair_ok and repair_detail say how */
} CheckEvent;

typedef void (*check_handler_t)(Check *c, CheckEvent event, void *userdata);

struct Check {
        const CheckConfig *config;  /* owned by the Config the check was made from */
        CheckContext *context;      /* owned by whoever made the check; outlives it */
        sd_event *event;
        sd_event_source *run_timer;
        sd_event_source *timeout_timer;
        void *probe;                /* the running probe, released with kind->probe_free() */
        bool running;

        CheckState state;
        CheckResult result;
        char detail[CHECK_DETAIL_MAX];
        usec_t started;             /* CLOCK_MONOTONIC */
        usec_t duration;
        usec_t last_run_realtime;

        bool allow_repair;          /* the supervisor repairs; a one-off `healthdog check` does not */
        unsigned repairs;           /* attempts since the check was last healthy */
        bool repairing;
        bool repair_ok;
        void *repair_probe;         /* the running repair: a Spawn, or the kind's own */
        sd_event_source *repair_timer;
        char repair_detail[CHECK_DETAIL_MAX];

        check_handler_t on_result;
        void *userdata;
        Check *prev, *next;         /* in context->checks */
};

/* Creates a check in context. on_result is called after every finished probe and repair.
 * Returns 0 or -errno. The check does nothing until check_schedule() or check_run(). */
int check_new(Check **ret, CheckContext *context, const CheckConfig *config, check_handler_t on_result,
              void *userdata);
/* Cancels a running probe and releases the check. Accepts NULL; returns NULL. */
Check *check_free(Check *c);

/* Runs the check every interval, the first time after delay. Returns 0 or -errno. */
int check_schedule(Check *c, usec_t delay);
/* What a check does when its run timer cannot be set for the next run (error < 0): the run
 * counts as failed, "cannot schedule the next run: ...", abandoning a probe still running, and a
 * new timer retries an interval later; when not even that can be set up, the check counts as
 * failing at once, since it will not run again. Public for the tests, which drive it with a real
 * event loop: sd-event offers no way to make re-arming a timer fail. */
void check_schedule_failed(Check *c, int error);
/* Starts one probe now (used by `healthdog check`). Returns 0 or -errno. */
int check_run(Check *c);
/* Reports the result of the running probe; called by kinds. The detail is one short line. Formats
 * it, then releases c->probe (kind->probe_free()), then counts the run and tells the owner, which
 * may start the next run at once. Does nothing when no probe is running. */
void check_done(Check *c, bool passed, const char *fmt, ...) _printf_(3, 4);
/* Writes a verdict into detail (CHECK_DETAIL_MAX bytes) and returns passed, so that a probe_now
 * can end with: return check_verdict(detail, false, "load %s > max %s", ...). */
bool check_verdict(char *detail, bool passed, const char *fmt, ...) _printf_(3, 4);
/* Reports the end of the kind's own repair. */
void check_repair_done(Check *c, bool ok, const char *fmt, ...) _printf_(3, 4);

/* True when this check failing stops the feeding. */
static inline bool check_gates_feeding(const Check *c) {
        return c->config->required && !c->config->environmental;
}

static inline void *check_settings(const Check *c) {
        return c->config->settings;
}
