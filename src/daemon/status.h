/* SPDX-License-Identifier: MIT */
#pragma once

#include "config.h"
#include "json.h"

typedef struct Manager Manager;

/* The status document (README, "Status and control"): what a fleet agent parses, so its fields
 * only ever grow; a change of meaning takes a new version. */
#define STATUS_VERSION 1
/* How many records of the verdict history it carries, newest last. */
#define STATUS_VERDICTS 5

/* The document of the running daemon, as one line of JSON. Returns 0 with a new string, or
 * -ENOMEM. */
int status_json(const Manager *m, char **ret);

/* The document while the daemon is not running: "daemon":{"running":false}, the boot part
 * computed now from the boot environment (read, never written) and from the state directory
 * (the verdict history, a reset reason not yet taken by a daemon), a hold left in the runtime
 * directory, the checks as configured and not run. A boot environment that cannot be read is
 * reported in boot.env_error, not as a failure. Returns 0 with a new string, or -ENOMEM. */
int status_json_offline(Config *config, char **ret);

/* Prints the readable summary of a status document (as parsed from either of the above). */
void status_print(const JsonValue *status, FILE *f);
