/* SPDX-License-Identifier: MIT */
#pragma once

#include <systemd/sd-event.h>

#include "util.h"

/* Integrators' executables in a directory (green.d after a confirmed trial boot, red.d after a
 * rollback and before the watchdog is let fire), run one after the other as root, e.g. to report
 * to an OTA server. */
typedef struct HookRun HookRun;

typedef enum HookResult {
        HOOK_SUCCESS,   /* exited 0 */
        HOOK_FAILED,    /* exited non-zero, was killed, timed out, or could not be started */
        HOOK_REFUSED,   /* not run: owned or writable by someone other than root; counts as failed */
        HOOK_SKIPPED,   /* not run: not executable, not a regular file, or gone; not counted */
} HookResult;

/* Called for each hook when it is over. how says what happened ("exited 0", "exited 3", "killed
 * by signal SEGV", "timed out after 5s", "not executable", "writable by everyone (mode 0777)"),
 * output holds the first bytes the hook wrote to stdout/stderr on one sanitized line ("" when
 * none, always "" when it timed out). The strings are only valid during the call. */
typedef void (*hooks_hook_t)(const char *name, HookResult result, const char *how, const char *output,
                             void *userdata);

/* Called once after the last hook. ran = hooks due to run (refused ones included, skipped ones
 * not), failed = those of them that did not exit 0. The HookRun is freed right after it returns. */
typedef void (*hooks_done_t)(unsigned ran, unsigned failed, void *userdata);

/* Runs the hooks in dir: every entry but those named like hidden or backup files ('.' first, '~'
 * last, .dpkg-*, .ucf-*, .rpmnew/.rpmsave/.rpmorig, .swp/.bak/.old/.new), in strcmp() order of
 * their names, one after the other. Each is checked just before its turn: it must be (or be a
 * symlink to) an executable regular file owned by root and writable by no one else, else it is
 * reported as skipped or refused. It runs through spawn_start() with argv = { "dir/name" }, the
 * fixed environment plus env (NULL-terminated "KEY=value", copied, may be NULL), in its own
 * process group; at timeout (USEC_INFINITY: none) the group gets SIGKILL and the next hook starts
 * at once, while the killed one is reaped in the background.
 *
 * The callbacks are only ever called from the event loop, never from within hooks_run(): a missing
 * or empty directory still gives a HookRun whose on_done(0, 0) comes on the next loop iteration.
 * Either callback may be NULL and may call hooks_cancel().
 *
 * Returns 0 with *ret set (the caller's handle until on_done returns or hooks_cancel() is called),
 * -EPERM when dir itself is owned or writable by someone other than root, -EINVAL on a zero
 * timeout, or another -errno when dir cannot be read. */
int hooks_run(sd_event *event, const char *dir, usec_t timeout, char *const *env, hooks_hook_t on_hook,
              hooks_done_t on_done, void *userdata, HookRun **ret);

/* Kills the running hook's process group, forgets the callbacks (none is called after this) and
 * frees the run. Call it before freeing the event loop while a run is still going: the killed
 * hook is then reaped in the background or freed with the loop. Accepts NULL. */
void hooks_cancel(HookRun *run);
