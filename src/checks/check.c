/* SPDX-License-Identifier: MIT */
#include <stdarg.h>

#include "check.h"
#include "spawn.h"

extern const CheckKind check_kind_exec;
extern const CheckKind check_kind_file;
extern const CheckKind check_kind_link;
extern const CheckKind check_kind_ping;
extern const CheckKind check_kind_process;
extern const CheckKind check_kind_loadavg;
extern const CheckKind check_kind_memory;
extern const CheckKind check_kind_disk;
extern const CheckKind check_kind_temperature;
extern const CheckKind check_kind_fds;
extern const CheckKind check_kind_tcp;
extern const CheckKind check_kind_http;
extern const CheckKind check_kind_unix;
extern const CheckKind check_kind_dns;
extern const CheckKind check_kind_systemd_unit;
extern const CheckKind check_kind_systemd_system;

const CheckKind *const check_kinds[] = {
        &check_kind_exec,
        &check_kind_file,
        &check_kind_link,
        &check_kind_ping,
        &check_kind_process,
        &check_kind_loadavg,
        &check_kind_memory,
        &check_kind_disk,
        &check_kind_temperature,
        &check_kind_fds,
        &check_kind_tcp,
        &check_kind_http,
        &check_kind_unix,
        &check_kind_dns,
        &check_kind_systemd_unit,
        &check_kind_systemd_system,
        NULL,
};

const CheckKind *check_kind_find(const char *name) {
        for (size_t i = 0; check_kinds[i]; i++)
                if (streq(check_kinds[i]->name, name))
                        return check_kinds[i];
        return NULL;
}

/* fail-after = N (N consecutive failures) or N/M (N failures within the last M runs). */
static int parse_fail_after(const ConfigKey *key, const char *text, void *field, char **reason) {
        _cleanup_(freep) char *copy = strdup(text);
        FailAfter *fa = field;
        unsigned n, m;
        char *slash;

        if (!copy)
                return -ENOMEM;
        slash = strchr(copy, '/');
        if (slash)
                *slash++ = '\0';
        if (parse_uint(copy, &n) < 0 || (slash && parse_uint(slash, &m) < 0)) {
                *reason = strdup("is not N or N/M (e.g. 3 or 3/5)");
                return -EINVAL;
        }
        if (!slash)
                m = n;
        if (n < 1 || m < n || m > 64) {
                *reason = strdup("is out of range: needs 1 <= N <= M <= 64");
                return -ERANGE;
        }
        *fa = (FailAfter) { .n = n, .window = m };
        return 0;
}

static void format_fail_after(FILE *f, const void *field) {
        const FailAfter *fa = field;

        if (fa->window == fa->n)
                fprintf(f, "%u", fa->n);
        else
                fprintf(f, "%u/%u", fa->n, fa->window);
}

static const ConfigType config_type_fail_after = {
        sizeof(FailAfter), parse_fail_after, format_fail_after, NULL,
};

#define COMMON(field) offsetof(CheckConfig, field)
const ConfigKey check_common_keys[] = {
        { "interval",    &config_type_duration,   COMMON(interval),    "10s", .min = 100 * USEC_PER_MSEC },
        /* Default timeout: the smaller of 5s and the interval, filled in by the loader. */
        { "timeout",     &config_type_duration,   COMMON(timeout),     NULL,  .min = 10 * USEC_PER_MSEC },
        { "start-delay", &config_type_duration,   COMMON(start_delay), "0" },
        { "fail-after",  &config_type_fail_after, COMMON(fail_after),  "3" },
        { "pass-after",  &config_type_unsigned,   COMMON(pass_after),  "1", .min = 1, .max = 1000 },
        { "required",    &config_type_bool,       COMMON(required),    "yes" },
        { "environmental", &config_type_bool,     COMMON(environmental), "no" },
        { "repair",      &config_type_enum,       COMMON(repair),      "none",
          .choices = (const char *const[]) { "none", "restart-unit", NULL } },
        { "repair-command", &config_type_command, COMMON(repair_command) },
        { "repair-max",  &config_type_unsigned,   COMMON(repair_max),  "1", .min = 1, .max = 100 },
        {}
};

CheckConfig *check_config_new(const char *name, const CheckKind *kind, const char *file, unsigned line) {
        CheckConfig *c = calloc(1, sizeof(CheckConfig));

        if (!c)
                return NULL;
        c->kind = kind;
        c->line = line;
        c->name = strdup(name);
        c->file = strdup(file);
        c->settings = calloc(1, kind->settings_size ?: 1);
        if (!c->name || !c->file || !c->settings ||
            config_keys_set_defaults(check_common_keys, c) < 0 ||
            config_keys_set_defaults(kind->keys, c->settings) < 0)
                return check_config_free(c);
        return c;
}

CheckConfig *check_config_free(CheckConfig *c) {
        if (!c)
                return NULL;
        config_keys_free(check_common_keys, c);
        if (c->kind)
                config_keys_free(c->kind->keys, c->settings);
        free(c->settings);
        free(c->name);
        free(c->file);
        free(c);
        return NULL;
}

void check_config_dump(const CheckConfig *c, FILE *f) {
        fprintf(f, "[check.%s]\ntype = %s\n", c->name, c->kind->name);
        config_keys_dump(check_common_keys, c, f);
        config_keys_dump(c->kind->keys, c->settings, f);
}

/* The failures in a window. Not __builtin_popcountll(): on x86-64 without POPCNT that is a call to
 * libgcc's __popcountdi2, linked after all of the program's code, which kept one more 64 kB window
 * of it resident for this alone. */
static unsigned count_failures(uint64_t history) {
        unsigned n = 0;

        for (; history; history &= history - 1)
                n++;
        return n;
}

bool check_state_update(CheckState *s, const FailAfter *fa, unsigned pass_after, bool passed) {
        bool was = s->failing;
        uint64_t mask = fa->window >= 64 ? UINT64_MAX : (UINT64_C(1) << fa->window) - 1;

        s->runs++;
        s->history = (s->history << 1) | (passed ? 0 : 1);
        if (passed) {
                s->consecutive_passes++;
                s->consecutive_failures = 0;
        } else {
                s->consecutive_failures++;
                s->consecutive_passes = 0;
        }

        if (!s->failing)
                s->failing = count_failures(s->history & mask) >= fa->n;
        else if (s->consecutive_passes >= pass_after) {
                s->failing = false;
                /* Forget old failures: recovering must not leave a check one failure away from
                 * failing again when its window still holds the failures that made it fail. */
                s->history = 0;
        }

        return s->failing != was;
}

/* Out of c->probe first: what the kind's free function runs must not find it there. */
static void check_probe_free(Check *c) {
        void *probe = TAKE_PTR(c->probe);

        if (probe)
                c->config->kind->probe_free(probe);
}

static void check_finish(Check *c) {
        check_probe_free(c);
        c->running = false;
        /* Kept for the next run: one timer per check, not one per run. */
        if (c->timeout_timer)
                (void) sd_event_source_set_enabled(c->timeout_timer, SD_EVENT_OFF);
}

static void check_notify(Check *c, CheckEvent event) {
        if (c->on_result)
                c->on_result(c, event, c->userdata);
}

static void check_repair_finish(Check *c) {
        c->repairing = false;
        c->repair_probe = NULL;
        c->repair_timer = sd_event_source_disable_unref(c->repair_timer);
}

static void check_repair_cancel(Check *c) {
        if (!c->repairing)
                return;
        if (c->config->repair_command)
                spawn_abandon(c->repair_probe);
        else if (c->config->kind->repair_cancel)
                c->config->kind->repair_cancel(c);
        check_repair_finish(c);
}

void check_repair_done(Check *c, bool ok, const char *fmt, ...) {
        va_list ap;

        if (!c->repairing)
                return;
        va_start(ap, fmt);
        vsnprintf(c->repair_detail, sizeof(c->repair_detail), fmt, ap);
        va_end(ap);
        c->repair_ok = ok;
        check_repair_finish(c);
        check_notify(c, CHECK_EVENT_REPAIR_DONE);
}

static void on_repair_command_exit(const siginfo_t *si, const char *output, size_t len, void *userdata) {
        Check *c = userdata;
        char how[64], out[CHECK_DETAIL_MAX / 2];

        c->repair_probe = NULL;
        spawn_describe_exit(si, how, sizeof(how));
        sanitize_line(out, sizeof(out), output, len);
        check_repair_done(c, si->si_code == CLD_EXITED && si->si_status == 0, "%s%s%s", how, out[0] ? ": " : "", out);
}

static int on_repair_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        Check *c = userdata;
        char buf[DURATION_MAX];

        spawn_abandon(c->repair_probe);
        c->repair_probe = NULL;
        check_repair_done(c, false, "timed out after %s", format_duration(buf, sizeof(buf), c->config->timeout));
        return 0;
}

static int check_repair_start(Check *c) {
        _cleanup_(freep) char *name = NULL;
        Spawn *spawn;
        int r;

        c->repairing = true;
        if (!c->config->repair_command) {
                r = c->config->kind->repair(c);
                if (r < 0)
                        c->repairing = false;
                return r;
        }

        if (asprintf(&name, "HEALTHDOG_CHECK=%s", c->config->name) < 0)
                r = -ENOMEM;
        else
                r = spawn_start(c->event,
                                &(SpawnOptions) { .argv = c->config->repair_command, .env = (char *[]) { name, NULL } },
                                on_repair_command_exit, c, &spawn);
        if (r < 0) {
                c->repairing = false;
                return r;
        }
        c->repair_probe = spawn;
        /* A repair gets as long as a probe of the same check. */
        r = sd_event_add_time_relative(c->event, &c->repair_timer, CLOCK_MONOTONIC, c->config->timeout,
                                       USEC_PER_MSEC, on_repair_timeout, c);
        if (r < 0)
                check_repair_cancel(c);
        return r;
}

static bool check_may_repair(const Check *c) {
        return c->allow_repair && !c->repairing && c->repairs < c->config->repair_max &&
               (c->config->repair_command || c->config->repair != CHECK_REPAIR_NONE);
}

/* Ends the run whose detail is in c->detail: releases its probe, counts it, tells the owner. */
static void check_report(Check *c, bool passed) {
        bool changed;
        int r;

        c->duration = now(CLOCK_MONOTONIC) - c->started;
        c->result = passed ? CHECK_RESULT_PASS : CHECK_RESULT_FAIL;
        check_finish(c);

        changed = check_state_update(&c->state, &c->config->fail_after, c->config->pass_after, passed);

        if (changed && c->state.failing && check_may_repair(c)) {
                /* A repair first: the check counts as failing only when it crosses fail-after
                 * again after its last allowed attempt. */
                c->state.failing = false;
                c->state.history = 0;
                c->state.consecutive_failures = 0;
                c->repairs++;
                r = check_repair_start(c);
                if (r < 0) {
                        snprintf(c->repair_detail, sizeof(c->repair_detail), "could not start: %s", strerror(-r));
                        c->repair_ok = false;
                        check_notify(c, CHECK_EVENT_REPAIR_DONE);
                } else
                        check_notify(c, CHECK_EVENT_REPAIR_STARTED);
                return;
        }

        /* Healthy long enough: the repair budget is full again. */
        if (!c->state.failing && c->state.consecutive_passes >= c->config->pass_after)
                c->repairs = 0;

        check_notify(c, !changed ? CHECK_EVENT_RESULT : c->state.failing ? CHECK_EVENT_FAILING : CHECK_EVENT_HEALTHY);
}

void check_done(Check *c, bool passed, const char *fmt, ...) {
        va_list ap;

        if (!c->running)
                return;
        /* Before the probe is released: the arguments may point into it. */
        va_start(ap, fmt);
        vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
        va_end(ap);
        check_report(c, passed);
}

bool check_verdict(char *detail, bool passed, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(detail, CHECK_DETAIL_MAX, fmt, ap);
        va_end(ap);
        return passed;
}

static void check_begin(Check *c) {
        c->running = true;
        c->started = now(CLOCK_MONOTONIC);
        c->last_run_realtime = now(CLOCK_REALTIME);
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        Check *c = userdata;
        char buf[DURATION_MAX];

        /* check_done() releases the probe (kills the process group, closes sockets) before the
         * owner hears the verdict, so a probe that hangs never outlives its check run. */
        check_done(c, false, "timed out after %s", format_duration(buf, sizeof(buf), c->config->timeout));
        return 0;
}

int check_run(Check *c) {
        const CheckKind *kind = c->config->kind;
        int r;

        if (c->running)
                return -EBUSY;

        check_begin(c);
        if (kind->probe_now) {
                check_report(c, kind->probe_now(c->config->settings, c->detail));
                return 0;
        }

        if (c->timeout_timer) {
                r = sd_event_source_set_time_relative(c->timeout_timer, c->config->timeout);
                if (r >= 0)
                        r = sd_event_source_set_enabled(c->timeout_timer, SD_EVENT_ONESHOT);
        } else
                r = sd_event_add_time_relative(c->event, &c->timeout_timer, CLOCK_MONOTONIC, c->config->timeout,
                                               USEC_PER_MSEC, on_timeout, c);
        if (r < 0) {
                c->running = false;
                return r;
        }

        r = kind->start(c);
        if (r < 0)
                /* The kind could not even start (fork failed, no memory): that is a failed run too. */
                check_done(c, false, "could not start: %s", strerror(-r));
        return 0;
}

/* The ping tick nearest to due, when it is at most slack away and still ahead; else due. */
static usec_t check_align(const CheckContext *ctx, usec_t due, usec_t slack, usec_t now_usec) {
        usec_t k, tick;

        if (ctx->tick_period == 0 || due < ctx->tick_base)
                return due;
        k = (due - ctx->tick_base + ctx->tick_period / 2) / ctx->tick_period;
        tick = ctx->tick_base + k * ctx->tick_period;
        if (tick <= now_usec || (tick > due ? tick - due : due - tick) > slack)
                return due;
        return tick;
}

/* One run, due at usec: its timer moves on an interval first. */
static void check_fire(Check *c, sd_event_source *s, usec_t usec) {
        int r;

        /* Schedule from the planned time, so runs do not drift by the time each one takes. The
         * next run moves onto the nearest ping tick within half an interval; with an interval
         * that is a multiple or a fraction of the ping's, it then stays there. */
        r = sd_event_source_set_time(s, check_align(c->context, usec + c->config->interval,
                                                    c->config->interval / 2, usec));
        if (r >= 0)
                r = sd_event_source_set_enabled(s, SD_EVENT_ON);
        if (r < 0) {
                /* Returning the error would turn the timer off: the check would stop running and
                 * keep its last verdict for good. */
                check_schedule_failed(c, r);
                return;
        }

        /* timeout <= interval, so a run is only still going when the loop was stalled. */
        if (c->running)
                return;
        r = check_run(c);
        if (r < 0) {
                /* No timeout timer: a failed run, and the schedule stays. */
                check_begin(c);
                check_done(c, false, "could not start: %s", strerror(-r));
        }
}

static int on_run_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Check *c = userdata;
        usec_t wake, due;

        check_fire(c, s, usec);

        /* The other checks whose runs are due by this wakeup run now too. sd-event would run
         * them one per turn of its loop, each turn an epoll_wait() and the timers' update, and
         * the runs moved onto the ping's grid fall due together, every interval: 7 checks made
         * 7 turns a second. Their timers move on as when they fire. */
        if (sd_event_now(c->event, CLOCK_BOOTTIME, &wake) < 0)
                return 0;
        for (Check *o = c->context->checks; o; o = o->next)
                if (o != c && o->run_timer && sd_event_source_get_enabled(o->run_timer, NULL) > 0 &&
                    sd_event_source_get_time(o->run_timer, &due) >= 0 && due <= wake)
                        check_fire(o, o->run_timer, due);
        return 0;
}

void check_schedule_failed(Check *c, int error) {
        char retry[64] = "";
        int r;

        /* A new timer an interval on: until the check can be scheduled again, it fails once per
         * interval, as a failing probe would, and fail-after decides as for any failure. */
        r = check_schedule(c, c->config->interval);
        if (r < 0)
                snprintf(retry, sizeof(retry), "; no retry: %s", strerror(-r));
        /* A run still going ends here, its probe abandoned; else this failure is a run of its own. */
        if (!c->running)
                check_begin(c);
        check_done(c, false, "cannot schedule the next run: %s%s", strerror(-error), retry);
        /* It will not run again: its last verdict, a pass maybe, must not stand. */
        if (r < 0 && !c->state.failing) {
                c->state.failing = true;
                check_notify(c, CHECK_EVENT_FAILING);
        }
}

int check_schedule(Check *c, usec_t delay) {
        /* On the ping's clock, so that runs moved onto its grid (on_run_timer) share its wakeup.
         * Other timers coalesce within 1% of the interval, far tighter than any fail-after window. */
        usec_t accuracy = c->config->interval / 100;

        c->run_timer = sd_event_source_disable_unref(c->run_timer);
        return sd_event_add_time_relative(c->event, &c->run_timer, CLOCK_BOOTTIME, delay, accuracy ?: 1,
                                          on_run_timer, c);
}

void check_context_done(CheckContext *ctx) {
        if (ctx->bus && ctx->bus_free)
                ctx->bus_free(ctx->bus);
        ctx->bus = NULL;
        if (ctx->links && ctx->links_free)
                ctx->links_free(ctx->links);
        ctx->links = NULL;
}

int check_new(Check **ret, CheckContext *context, const CheckConfig *config, check_handler_t on_result,
              void *userdata) {
        Check *c = calloc(1, sizeof(Check));

        if (!c)
                return -ENOMEM;
        c->config = config;
        c->context = context;
        c->event = sd_event_ref(context->event);
        c->on_result = on_result;
        c->userdata = userdata;
        c->next = context->checks;
        if (c->next)
                c->next->prev = c;
        context->checks = c;
        *ret = c;
        return 0;
}

Check *check_free(Check *c) {
        if (!c)
                return NULL;
        if (c->running)
                check_finish(c);
        check_repair_cancel(c);
        sd_event_source_disable_unref(c->run_timer);
        sd_event_source_disable_unref(c->timeout_timer);
        sd_event_unref(c->event);
        if (c->prev)
                c->prev->next = c->next;
        else
                c->context->checks = c->next;
        if (c->next)
                c->next->prev = c->prev;
        free(c);
        return NULL;
}
