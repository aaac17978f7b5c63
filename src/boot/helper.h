/* SPDX-License-Identifier: MIT */
#pragma once

#include <sys/resource.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "json.h"

/* The daemon's side of the OSTree helper: healthdog-ostree runs as a short-lived process, so that
 * libostree (the helper peaks at ~16 MB resident, the daemon stays near 3 MB) is never part of the
 * long-running daemon.
 *
 * Both ways of running it speak one protocol: through healthdog-ostree.socket (systemd starts
 * healthdog-ostree@.service per connection), or, when that socket cannot be reached, as
 * `healthdog-ostree serve`, the daemon's child, over a socket pair. The request is the helper's
 * arguments, each ended by a NUL byte, then end of file. The reply is the verb's result (one JSON
 * object, the verbs are run with --json), a NUL byte, the messages it printed on stderr (libostree's
 * included), a NUL byte, and its exit code in decimal. Nothing the helper prints on stderr can be
 * taken for a result. Neither the connect, the request nor the reply ever blocks the event loop. */
typedef struct HelperRun HelperRun;

/* The outcome of one run, valid only during the callback:
 * status  the helper's exit code (OSTREE_EXIT_*), or -errno: -ETIMEDOUT (killed at the
 *         configured timeout), -EINTR (killed by a signal), -EBADMSG (a malformed reply: no exit
 *         code, or a result that is not one JSON object), -EMSGSIZE (a reply too long), or what
 *         starting it failed with;
 * result  the parsed JSON object the verb printed, or NULL (on errors, and when it printed none);
 * messages  what it printed on stderr, sanitized onto one line ("" when nothing). */
typedef void (*helper_done_t)(int status, const JsonValue *result, const char *messages, void *userdata);

/* Whether deployments are to be managed: enable = yes, or auto on a system booted by OSTree. */
bool helper_enabled(const OstreeConfig *c);

/* Runs `healthdog-ostree --sysroot SYSROOT --state-dir STATE_DIR --json ARGS...` with the
 * configured timeout (killed and reaped at it). done is called once, from the event loop, never
 * from within helper_run(), unless helper_cancel() came first. Returns 0 with *ret, or -errno. */
int helper_run(sd_event *event, const OstreeConfig *c, const char *state_dir, char *const *args,
               helper_done_t done, void *userdata, HelperRun **ret);

/* For the command line only (`healthdog update`, `healthdog status`), never the daemon: runs
 * `HELPER --sysroot SYSROOT --state-dir STATE_DIR --json ARGS...` (helper as given, not through its
 * socket) as our child and waits for it. Its standard output, up to HELPER_EXEC_OUTPUT_MAX bytes,
 * goes into *ret_out (new, NUL-terminated; NULL unless the return value is >= 0). Its stderr is
 * passed through when err is NULL (progress and messages for a person), else its last line, sanitized,
 * is kept in err (of size, "" when none), and with HELPER_EXEC_TEE also passed through as it comes.
 * With timeout > 0 it is killed with SIGKILL and reaped at that point. *ret_usage (may be NULL)
 * gets its resource usage (wait4(): ru_maxrss in KiB).
 * Returns its exit code (127: it could not be executed), or -ETIMEDOUT, -EMSGSIZE (more output than
 * taken: killed), -EINTR (killed by a signal), or -errno when it could not be started. */
#define HELPER_EXEC_OUTPUT_MAX (64 * 1024)
typedef enum HelperExecFlags {
        HELPER_EXEC_TEE = 1 << 0,
} HelperExecFlags;
int helper_exec(const OstreeConfig *c, const char *state_dir, char *const *args, usec_t timeout, char **ret_out,
                char *err, size_t size, HelperExecFlags flags, struct rusage *ret_usage);

/* Kills the helper (its process is reaped in the background) and forgets done. Accepts NULL. */
void helper_cancel(HelperRun *run);

/* What an exit status means, for logs: "not an OSTree system", "sysroot locked", ... */
const char *helper_status_to_string(int status);
