/* SPDX-License-Identifier: MIT */
#pragma once

#include <systemd/sd-event.h>

#include "config.h"

/* The daemon's side of the OSTree helper: healthdog-ostree runs as a short-lived child, so that
 * libostree (the helper peaks at ~16 MB resident, the daemon stays near 3 MB) is never part of the
 * long-running daemon. */
typedef struct HelperRun HelperRun;

/* status: the helper's exit code (OSTREE_EXIT_*), or -errno when it could not be started, was
 * killed at its timeout (-ETIMEDOUT) or by a signal (-EINTR). output: the first bytes of what it
 * printed (stdout and stderr), on one line. Only valid during the call. */
typedef void (*helper_done_t)(int status, const char *output, void *userdata);

/* Whether deployments are to be managed: enable = yes, or auto on a system booted by OSTree. */
bool helper_enabled(const OstreeConfig *c);

/* Runs `healthdog-ostree --sysroot SYSROOT --state-dir STATE_DIR ARGS...` with the configured
 * timeout. done is called once, from the event loop, unless helper_cancel() came first.
 * Returns 0 with *ret, or -errno. */
int helper_run(sd_event *event, const OstreeConfig *c, const char *state_dir, char *const *args,
               helper_done_t done, void *userdata, HelperRun **ret);

/* Asks the helper, and waits for its answer (at most timeout): is the booted deployment the
 * default one? Used once at start, before the boot phase is decided. Returns 1 when the default
 * deployment is booted, 0 when an older one is (the bootloader fell back), or -errno when that
 * cannot be told (-ENOMEDIUM: not an OSTree system or nothing booted, -ETIMEDOUT, ...). */
int helper_query_booted(const OstreeConfig *c, const char *state_dir, usec_t timeout);

/* Kills the helper and forgets done. Accepts NULL. */
void helper_cancel(HelperRun *run);

/* What an exit status means, for logs: "not an OSTree system", "sysroot locked", ... */
const char *helper_status_to_string(int status);
