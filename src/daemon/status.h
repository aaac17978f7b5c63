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

/* How long `healthdog status` waits for healthdog-ostree status. */
#define STATUS_DEPLOYMENTS_TIMEOUT (5 * USEC_PER_SEC)

/* For the command line only, never the daemon (which must not wait for libostree): adds the
 * deployments to a status document (an object), as healthdog-ostree status --json lists them
 * (config->ostree.helper, run as our child, killed after STATUS_DEPLOYMENTS_TIMEOUT):
 * "deployments": [...]; or, when they cannot be listed ([ostree] enable = no, not an OSTree
 * system, a helper missing, failing or timing out), "deployments": null and "deployments_error":
 * why. Returns 0, or -ENOMEM. */
int status_add_deployments(const Config *config, JsonValue *status);

/* Prints the readable summary of a status document (as parsed from either of the above). */
void status_print(const JsonValue *status, FILE *f);
