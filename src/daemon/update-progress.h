/* SPDX-License-Identifier: MIT */
#pragma once

#include <sys/types.h>

#include "update-note.h"
#include "util.h"

/* The runtime files of a `healthdog update` under way, for `healthdog status`:
 *
 * RUNTIME/update       what the update is doing, rewritten atomically at each step by
 *                      `healthdog update` (the only writer; replaced when an update starts,
 *                      removed when it finds nothing new). One JSON object: {"step", "pid",
 *                      "started_usec", "changed_usec", "refspec", "version", "checksum",
 *                      "reason": STRING|null, "pull": P|null}, P {"objects_fetched",
 *                      "objects_requested", "bytes_transferred"} (the final figures of the pull).
 * RUNTIME/update-pull  the figures of the pull under way, rewritten by healthdog-ostree pull
 *                      --progress-file (at most twice a second, and once at the end): P and
 *                      "done". Removed by `healthdog update` once the pull ended.
 * RUNTIME/update.lock  locked (an OFD write lock) by `healthdog update` for as long as it runs:
 *                      one update at a time, and how a reader tells a running update from one
 *                      that was killed, whatever PID namespace either is in.
 *
 * Both files are read here only; anything in them that does not parse is reported as -EBADMSG. */
#define UPDATE_PROGRESS_FILE "update"
#define UPDATE_PULL_FILE "update-pull"
#define UPDATE_LOCK_FILE "update.lock"

typedef enum UpdateStep {
        UPDATE_STEP_CHECKING,
        UPDATE_STEP_PULLING,
        UPDATE_STEP_PULLED,
        UPDATE_STEP_DOWNLOADED,  /* final: --download-only */
        UPDATE_STEP_ARMING,
        UPDATE_STEP_DEPLOYING,
        UPDATE_STEP_ARMED,       /* final: deployed, the trial starts at the next boot */
        UPDATE_STEP_REBOOTING,   /* final */
        UPDATE_STEP_FAILED,      /* final: reason says why */
        _UPDATE_STEP_MAX,
        _UPDATE_STEP_INVALID = -EINVAL,
} UpdateStep;

const char *update_step_to_string(UpdateStep s);
UpdateStep update_step_from_string(const char *s);
/* Whether an update that stopped at this step is over, not interrupted. */
bool update_step_is_final(UpdateStep s);

typedef struct UpdatePull {
        uint64_t fetched, requested, bytes;
} UpdatePull;

typedef struct UpdateProgress {
        UpdateStep step;
        pid_t pid;
        uint64_t started_usec, changed_usec;     /* CLOCK_REALTIME */
        char refspec[256];
        char version[128];                       /* "" before update-check found it */
        char checksum[UPDATE_CHECKSUM_LEN + 1];  /* "" before update-check found it */
        char reason[1024];                       /* FAILED: why, else "" */
        bool have_pull;
        UpdatePull pull;
} UpdateProgress;

/* Takes RUNTIME/update.lock (the directory made when missing) for this process, without waiting,
 * in *ret_fd (close it to let go; not inherited by the programs it runs). Returns 0, -EBUSY when
 * another process holds it, or -errno. */
int update_progress_lock(const char *dir, int *ret_fd);

/* Whether a process holds RUNTIME/update.lock, without taking it. Returns 1 or 0, or -errno. */
int update_progress_running(const char *dir);

/* Writes RUNTIME/update atomically, with changed_usec now. Returns 0 or -errno. */
int update_progress_save(const char *dir, UpdateProgress *p);

/* Reads RUNTIME/update. Returns 1 with *ret, 0 when there is none, -EBADMSG when it is damaged
 * (not JSON, an unknown step, no pid), or -errno. */
int update_progress_load(const char *dir, UpdateProgress *ret);

/* Reads RUNTIME/update-pull. Returns 1 with *ret, 0 when there is none, -EBADMSG when it is
 * damaged, or -errno. */
int update_pull_load(const char *dir, UpdatePull *ret);

/* Removes RUNTIME/update-pull, and with all RUNTIME/update too. Returns 0 (also when there is
 * none) or -errno. */
int update_progress_clear(const char *dir, bool all);
