/* SPDX-License-Identifier: MIT */
#include "deploy.h"
#include "ostree-exit.h"
#include "spawn.h"

struct DeployRun {
        Spawn *spawn;
        sd_event_source *timer;
        deploy_done_t done;
        void *userdata;
};

bool deploy_enabled(const OstreeConfig *c) {
        if (c->enable == OSTREE_ENABLE_AUTO)
                /* ostree-prepare-root leaves this behind on every boot it sets up. */
                return access("/run/ostree-booted", F_OK) == 0;
        return c->enable == OSTREE_ENABLE_YES;
}

static void deploy_free(DeployRun *run) {
        sd_event_source_disable_unref(run->timer);
        free(run);
}

static void deploy_finish(DeployRun *run, int status, const char *output) {
        deploy_done_t done = run->done;
        void *userdata = run->userdata;

        deploy_free(run);
        if (done)
                done(status, output, userdata);
}

static void on_helper_exit(const siginfo_t *si, const char *output, size_t len, void *userdata) {
        DeployRun *run = userdata;
        char line[SPAWN_OUTPUT_MAX + 8];

        run->spawn = NULL;
        sanitize_line(line, sizeof(line), output, len);
        deploy_finish(run, si->si_code == CLD_EXITED ? si->si_status : -EINTR, line);
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        DeployRun *run = userdata;

        spawn_abandon(run->spawn);
        run->spawn = NULL;
        deploy_finish(run, -ETIMEDOUT, "");
        return 0;
}

int deploy_run(sd_event *event, const OstreeConfig *c, const char *state_dir, char *const *args,
               deploy_done_t done, void *userdata, DeployRun **ret) {
        _cleanup_(strv_freep) char **argv = NULL;
        DeployRun *run;
        int r;

        if (strv_extend(&argv, c->helper) < 0 || strv_extend(&argv, "--sysroot") < 0 ||
            strv_extend(&argv, c->sysroot) < 0 || strv_extend(&argv, "--state-dir") < 0 ||
            strv_extend(&argv, state_dir) < 0)
                return -ENOMEM;
        for (char *const *a = args; *a; a++)
                if (strv_extend(&argv, *a) < 0)
                        return -ENOMEM;

        run = calloc(1, sizeof(DeployRun));
        if (!run)
                return -ENOMEM;
        run->done = done;
        run->userdata = userdata;

        r = sd_event_add_time_relative(event, &run->timer, CLOCK_MONOTONIC, c->timeout, USEC_PER_SEC, on_timeout,
                                       run);
        if (r >= 0)
                r = spawn_start(event, &(SpawnOptions) { .argv = argv }, on_helper_exit, run, &run->spawn);
        if (r < 0) {
                deploy_free(run);
                return r;
        }
        *ret = run;
        return 0;
}

typedef struct Query {
        bool done;
        int result;
} Query;

static void on_query_done(int status, const char *output, void *userdata) {
        Query *q = userdata;

        q->done = true;
        if (status == OSTREE_EXIT_OK)
                /* identify-failed names the default deployment only when it is not the booted one. */
                q->result = output[0] ? 0 : 1;
        else
                q->result = status == OSTREE_EXIT_NOT_OSTREE ? -ENOMEDIUM : status < 0 ? status : -EIO;
}

int deploy_query_booted(const OstreeConfig *c, const char *state_dir, usec_t timeout) {
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        OstreeConfig bounded = *c;
        DeployRun *run = NULL;
        Query q = {};
        int r;

        /* A loop of its own: the daemon's is not running yet, and this must not wait for more. */
        r = sd_event_new(&event);
        if (r < 0)
                return r;
        bounded.timeout = timeout;
        r = deploy_run(event, &bounded, state_dir, (char *[]) { (char *) "identify-failed", NULL }, on_query_done, &q,
                       &run);
        if (r < 0)
                return r;
        while (!q.done) {
                r = sd_event_run(event, UINT64_MAX);
                if (r < 0) {
                        deploy_cancel(run);
                        return r;
                }
        }
        return q.result;
}

void deploy_cancel(DeployRun *run) {
        if (!run)
                return;
        spawn_abandon(run->spawn);
        deploy_free(run);
}

const char *deploy_status_to_string(int status) {
        switch (status) {
        case OSTREE_EXIT_OK:
                return "done";
        case OSTREE_EXIT_NOT_OSTREE:
                return "not an OSTree system, or nothing booted from it";
        case OSTREE_EXIT_LOCKED:
                return "the sysroot is locked by another process";
        case OSTREE_EXIT_REFUSED_BOOTED:
                return "refused: that is the booted deployment";
        case OSTREE_EXIT_REFUSED_STAGED:
                return "refused: that is the staged deployment";
        case OSTREE_EXIT_REFUSED_PINNED:
                return "refused: that deployment is pinned";
        case OSTREE_EXIT_UNKNOWN:
                return "no such deployment (already removed)";
        case -ETIMEDOUT:
                return "timed out";
        case -EINTR:
                return "killed by a signal";
        default:
                return status < 0 ? "could not run" : "failed";
        }
}
