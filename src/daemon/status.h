/* SPDX-License-Identifier: MIT */
#pragma once

#include "assess.h"
#include "check.h"
#include "config.h"
#include "json.h"
#include "wdt.h"

/* The status document (README, "Status and control"): what a fleet agent parses, so its fields
 * only ever grow; a change of meaning takes a new version. */
#define STATUS_VERSION 1
/* How many records of the verdict history it carries, newest last. */
#define STATUS_VERDICTS 5

/* What the document is made of: the running daemon's parts, or what can be known without it. */
typedef struct StatusSource {
        bool running;
        const Config *config;
        const Assessment *assess;
        const Watchdog *watchdog;       /* NULL: a dry run, or not running */
        usec_t ping_interval;           /* running only */
        bool feeding;
        const char *starve_reason;      /* why the feeding stopped (or, not running, a reset decided earlier
                                         * in this boot); NULL when none */
        usec_t hold_until;              /* CLOCK_BOOTTIME; 0 = no hold */
        const char *config_error;       /* the configuration's first error, or NULL when it loads */
        size_t config_errors;           /* how many */
        Check *const *checks;           /* running only: the checks, in config order */
        size_t n_checks;
} StatusSource;

/* The document, as one line of JSON. Returns 0 with a new string, or -ENOMEM. */
int status_json(const StatusSource *s, char **ret);

/* The document while the daemon is not running: "daemon":{"running":false}, the boot part
 * computed now from the boot environment (read, never written) and from the state directory
 * (the verdict history, a reset reason not yet taken by a daemon), a hold left in the runtime
 * directory, the checks as configured and not run. A boot environment that cannot be read is
 * reported in boot.env_error, not as a failure. config_error (or NULL) and config_errors: why the
 * configuration does not load (config is then what healthdog would run with). Returns 0 with a new string, or -ENOMEM. */
int status_json_offline(Config *config, const char *config_error, size_t config_errors, char **ret);

/* Prints the readable summary of a status document (as parsed from either of the above). */
void status_print(const JsonValue *status, FILE *f);
