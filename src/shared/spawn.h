/* SPDX-License-Identifier: MIT */
#pragma once

#include <signal.h>
#include <systemd/sd-event.h>

#include "conf-parser.h"

/* A program healthdog runs (probe, repair, hook, the OSTree helper): no shell, its own session
 * and process group, stdin on /dev/null, stdout+stderr captured (or stdin and stdout on a socket
 * given by the caller), a small fixed environment, optionally as another user, normal
 * scheduling. */
typedef struct Spawn Spawn;

/* How much of the output is kept. */
#define SPAWN_OUTPUT_MAX 256

/* Called once when the program exits (si from waitid), with the first bytes of its output (none
 * with stdio_fd). The Spawn is freed right after the handler returns. */
typedef void (*spawn_handler_t)(const siginfo_t *si, const char *output, size_t len, void *userdata);

typedef struct SpawnOptions {
        char *const *argv;
        const UserId *user;     /* NULL, or name NULL: run as healthdog's own user */
        char *const *env;       /* extra "KEY=value" entries, NULL-terminated, may be NULL */
        /* 0 (unset): stdin on /dev/null, stdout+stderr captured (the output on_exit gets).
         * A descriptor > 2 (one end of a socket pair): the program's stdin and stdout are that
         * descriptor, its stderr is /dev/null, and nothing is captured (on_exit gets no output):
         * for a program that speaks a protocol on its stdin/stdout, like `healthdog-ostree serve`,
         * where a stray line on stderr must not reach the peer. The caller keeps and closes its
         * copy (the program has its own from the start). */
        int stdio_fd;
} SpawnOptions;

/* Starts the program. Returns 0 with *ret set (the Spawn belongs to the event loop until the
 * program is reaped), -EBADF for a stdio_fd below 3, or -errno. */
int spawn_start(sd_event *event, const SpawnOptions *options, spawn_handler_t on_exit, void *userdata, Spawn **ret);

/* Kills the program's whole process group with SIGKILL and forgets the handler: it is reaped in
 * the background and on_exit is never called. Never blocks. Accepts NULL. */
void spawn_abandon(Spawn *s);

/* In a child right after fork() or vfork(), before it runs anything of a probe's or a hook's: normal
 * scheduling (SCHED_OTHER) when healthdog runs realtime without reset-on-fork (a unit's
 * CPUSchedulingPolicy= without CPUSchedulingResetOnFork=), so that no probe can starve the ping.
 * Best effort: a failure leaves the policy as it was. */
void spawn_reset_scheduling(void);

/* Formats how the program ended: "exit 3", "killed by signal SEGV". */
void spawn_describe_exit(const siginfo_t *si, char *buf, size_t size);
