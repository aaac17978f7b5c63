/* SPDX-License-Identifier: MIT */
#include <sys/stat.h>

#include "hooks.h"
#include "spawn.h"

/* How much of a hook's output is passed on, as one sanitized line. */
#define HOOKS_OUTPUT_MAX 200

struct HookRun {
        sd_event *event;
        char *dir;
        char **names;           /* sorted */
        size_t next;            /* index of the next name to look at */
        char **env;
        usec_t timeout;

        hooks_hook_t on_hook;   /* NULL once cancelled */
        hooks_done_t on_done;
        void *userdata;
        bool in_callback;       /* a callback is running: hooks_cancel() only marks the run */
        bool cancelled;

        sd_event_source *kick;  /* runs the first step from the loop */
        Spawn *spawn;           /* the hook running now */
        const char *current;    /* its name, in names */
        sd_event_source *timer; /* its timeout */
        unsigned ran, failed;
};

static void hooks_free(HookRun *run) {
        spawn_abandon(run->spawn);
        sd_event_source_disable_unref(run->timer);
        sd_event_source_disable_unref(run->kick);
        sd_event_unref(run->event);
        strv_free(run->names);
        strv_free(run->env);
        free(run->dir);
        free(run);
}

/* Hidden files and what editors and package managers leave behind, as systemd and run-parts
 * ignore them: a hook disabled by dpkg must not run as "10-report.dpkg-old". */
static bool hooks_name_ignored(const char *name) {
        static const char *const suffixes[] = { "rpmnew", "rpmsave", "rpmorig", "swp", "bak", "old", "new" };
        const char *ext;

        if (name[0] == '.' || name[strlen(name) - 1] == '~')
                return true;
        ext = strrchr(name, '.');
        if (!ext)
                return false;
        ext++;
        if (startswith(ext, "dpkg-") || startswith(ext, "ucf-"))
                return true;
        for (size_t i = 0; i < ELEMENTSOF(suffixes); i++)
                if (streq(ext, suffixes[i]))
                        return true;
        return false;
}

static int hooks_name_compare(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Reads the names to consider, sorted. A missing directory has none. */
static int hooks_scan(const char *dir, char ***ret) {
        _cleanup_(closedirp) DIR *d = opendir(dir);
        _cleanup_(strv_freep) char **names = NULL;
        struct dirent *de;
        struct stat st;
        char why[64];

        if (!d)
                return errno == ENOENT ? 0 : -errno;
        if (fstat(dirfd(d), &st) < 0)
                return -errno;
        /* Whoever can write the directory can add a hook. */
        if (!stat_is_trusted(&st, why, sizeof(why)))
                return -EPERM;

        for (errno = 0; (de = readdir(d)); errno = 0)
                if (!hooks_name_ignored(de->d_name) && strv_extend(&names, de->d_name) < 0)
                        return -ENOMEM;
        if (errno != 0)
                return -errno;
        if (names)
                qsort(names, strv_length(names), sizeof(char *), hooks_name_compare);
        *ret = TAKE_PTR(names);
        return 0;
}

/* Calls on_hook and counts the hook. Returns false when the run was cancelled from the callback
 * and is gone. */
static bool hooks_report(HookRun *run, const char *name, HookResult result, const char *how, const char *output) {
        if (result != HOOK_SKIPPED)
                run->ran++;
        if (result == HOOK_FAILED || result == HOOK_REFUSED)
                run->failed++;

        if (run->on_hook) {
                run->in_callback = true;
                run->on_hook(name, result, how, output, run->userdata);
                run->in_callback = false;
        }
        if (run->cancelled) {
                hooks_free(run);
                return false;
        }
        return true;
}

static void hooks_finish(HookRun *run) {
        run->in_callback = true;
        if (run->on_done)
                run->on_done(run->ran, run->failed, run->userdata);
        hooks_free(run);
}

static void hooks_next(HookRun *run);

static void on_hook_exit(const siginfo_t *si, const char *output, size_t len, void *userdata) {
        HookRun *run = userdata;
        char how[64], out[HOOKS_OUTPUT_MAX + 1];
        bool ok = si->si_code == CLD_EXITED && si->si_status == 0;

        run->spawn = NULL;
        run->timer = sd_event_source_disable_unref(run->timer);

        if (si->si_code == CLD_EXITED)
                snprintf(how, sizeof(how), "exited %d", si->si_status);
        else
                spawn_describe_exit(si, how, sizeof(how));
        sanitize_line(out, sizeof(out), output, len);

        if (hooks_report(run, run->current, ok ? HOOK_SUCCESS : HOOK_FAILED, how, out))
                hooks_next(run);
}

static int on_hook_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        HookRun *run = userdata;
        char how[64], duration[DURATION_MAX];

        spawn_abandon(run->spawn);
        run->spawn = NULL;
        run->timer = sd_event_source_disable_unref(run->timer);

        snprintf(how, sizeof(how), "timed out after %s", format_duration(duration, sizeof(duration), run->timeout));
        if (hooks_report(run, run->current, HOOK_FAILED, how, ""))
                hooks_next(run);
        return 0;
}

/* Looks at one hook just before its turn and starts it. Returns true when it is running, or false
 * with the verdict in *result and how. */
static bool hooks_start(HookRun *run, const char *name, HookResult *result, char *how, size_t size) {
        _cleanup_(freep) char *path = NULL;
        struct stat st;
        int r;

        if (asprintf(&path, "%s/%s", run->dir, name) < 0) {
                path = NULL;
                r = -ENOMEM;
                goto fail;
        }
        /* stat(), not lstat(): a symlink to an executable is a hook, judged by its target. */
        if (stat(path, &st) < 0) {
                *result = HOOK_SKIPPED;
                snprintf(how, size, "cannot stat: %s", strerror(errno));
                return false;
        }
        if (!S_ISREG(st.st_mode) || !(st.st_mode & 0111)) {
                *result = HOOK_SKIPPED;
                snprintf(how, size, "%s", S_ISREG(st.st_mode) ? "not executable" : "not a regular file");
                return false;
        }
        if (!stat_is_trusted(&st, how, size)) {
                *result = HOOK_REFUSED;
                return false;
        }

        r = spawn_start(run->event, &(SpawnOptions) { .argv = (char *[]) { path, NULL }, .env = run->env },
                        on_hook_exit, run, &run->spawn);
        if (r < 0)
                goto fail;
        if (run->timeout != USEC_INFINITY) {
                r = sd_event_add_time_relative(run->event, &run->timer, CLOCK_MONOTONIC, run->timeout, USEC_PER_MSEC,
                                               on_hook_timeout, run);
                if (r < 0) {
                        spawn_abandon(run->spawn);
                        run->spawn = NULL;
                        goto fail;
                }
        }
        run->current = name;
        return true;

fail:
        *result = HOOK_FAILED;
        snprintf(how, size, "could not start: %s", strerror(-r));
        return false;
}

/* Starts the next hook that can run, reporting those that cannot, or finishes the run. */
static void hooks_next(HookRun *run) {
        while (run->names && run->names[run->next]) {
                const char *name = run->names[run->next++];
                HookResult result;
                char how[128];

                if (hooks_start(run, name, &result, how, sizeof(how)))
                        return;
                if (!hooks_report(run, name, result, how, ""))
                        return;
        }
        hooks_finish(run);
}

static int on_kick(sd_event_source *s, void *userdata) {
        HookRun *run = userdata;

        run->kick = sd_event_source_disable_unref(run->kick);
        hooks_next(run);
        return 0;
}

int hooks_run(sd_event *event, const char *dir, usec_t timeout, char *const *env, hooks_hook_t on_hook,
              hooks_done_t on_done, void *userdata, HookRun **ret) {
        HookRun *run;
        int r;

        if (timeout == 0)
                return -EINVAL;

        run = calloc(1, sizeof(HookRun));
        if (!run)
                return -ENOMEM;
        run->event = sd_event_ref(event);
        run->timeout = timeout;
        run->on_hook = on_hook;
        run->on_done = on_done;
        run->userdata = userdata;
        run->dir = strdup(dir);
        run->env = strv_copy(env);
        if (!run->dir || !run->env) {
                r = -ENOMEM;
                goto fail;
        }

        r = hooks_scan(dir, &run->names);
        if (r < 0)
                goto fail;

        /* Even with nothing to run, the callbacks come from the loop: the caller has *ret before. */
        r = sd_event_add_defer(event, &run->kick, on_kick, run);
        if (r < 0)
                goto fail;

        *ret = run;
        return 0;

fail:
        hooks_free(run);
        return r;
}

void hooks_cancel(HookRun *run) {
        if (!run)
                return;
        spawn_abandon(run->spawn);
        run->spawn = NULL;
        run->on_hook = NULL;
        run->on_done = NULL;
        if (run->in_callback)
                run->cancelled = true; /* freed when the callback returns */
        else
                hooks_free(run);
}
