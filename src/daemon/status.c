/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <systemd/sd-id128.h>

#include "helper.h"
#include "hold.h"
#include "log.h"
#include "ostree-exit.h"
#include "reset-reason.h"
#include "status.h"
#include "update-progress.h"
#include "verdicts.h"

typedef struct Buf {
        char *s;
        size_t len, cap;
} Buf;

static int str_field(Buf *b, const char *key, const char *value, bool comma) {
        int r = buf_appendf(&b->s, &b->len, &b->cap, "%s\"%s\":", comma ? "," : "", key);

        if (r < 0)
                return r;
        if (!value)
                return buf_appendf(&b->s, &b->len, &b->cap, "null");
        return json_append_string(&b->s, &b->len, &b->cap, value);
}

/* A number, or null for USEC_INFINITY. */
static int usec_field(Buf *b, const char *key, usec_t value) {
        if (value == USEC_INFINITY)
                return buf_appendf(&b->s, &b->len, &b->cap, ",\"%s\":null", key);
        return buf_appendf(&b->s, &b->len, &b->cap, ",\"%s\":%llu", key, (unsigned long long) value);
}

static const char *str_or(const JsonValue *v, const char *fallback) {
        return json_string(v) ?: fallback;
}

static const char *bool_str(bool b) {
        return b ? "true" : "false";
}

/* The verdict record of this boot (the one the history keeps) and what is only of the moment. */
static int append_boot(Buf *b, const StatusSource *src) {
        _cleanup_(freep) char *record = assess_record_json(src->assess);
        size_t n;

        if (!record)
                return -ENOMEM;
        n = strlen(record);
        /* Extend the record object: drop its closing brace. */
        if (n == 0 || record[n - 1] != '}')
                return -EINVAL;
        return buf_appendf(&b->s, &b->len, &b->cap, ",\"boot\":%.*s,\"confirmed\":%s,\"degraded\":%s}", (int) (n - 1),
                           record, bool_str(src->assess->confirmed), bool_str(src->assess->degraded));
}

static int append_watchdog(Buf *b, const StatusSource *src) {
        const Watchdog *w = src->watchdog;
        const WatchdogConfig *wc = &src->config->watchdog;
        bool running = src->running;
        bool bootstatus = w && !(w->unsupported & WDT_NO_BOOTSTATUS);
        int r;

        r = buf_appendf(&b->s, &b->len, &b->cap, ",\"watchdog\":{");
        if (r >= 0)
                r = str_field(b, "device", w ? w->path : wc->device, false);
        if (r >= 0)
                r = str_field(b, "identity", w && w->identity[0] ? w->identity : NULL, true);
        if (r >= 0)
                r = usec_field(b, "timeout_usec", w ? w->timeout : running ? USEC_INFINITY : wc->timeout);
        if (r >= 0)
                r = usec_field(b, "interval_usec", running ? src->ping_interval : wc->interval);
        if (r >= 0)
                r = buf_appendf(&b->s, &b->len, &b->cap, ",\"feeding\":%s,\"last_reset_by_watchdog\":%s",
                                bool_str(running && src->feeding),
                                bootstatus ? bool_str(wdt_caused_last_reset(w)) : "null");
        if (r >= 0)
                r = str_field(b, "starve_reason", src->starve_reason, true);
        return r < 0 ? r : buf_appendf(&b->s, &b->len, &b->cap, "}");
}

static int append_hold(Buf *b, const StatusSource *src) {
        usec_t t = now(CLOCK_BOOTTIME), left;

        if (src->hold_until <= t)
                return buf_appendf(&b->s, &b->len, &b->cap, ",\"hold\":null");
        left = src->hold_until - t;
        /* The hold runs on CLOCK_BOOTTIME; a reader wants a wall-clock time. */
        return buf_appendf(&b->s, &b->len, &b->cap, ",\"hold\":{\"until_usec\":%llu,\"remaining_usec\":%llu}",
                           (unsigned long long) (now(CLOCK_REALTIME) + left), (unsigned long long) left);
}

static const char *check_state(const Check *c) {
        if (!c || c->state.runs == 0)
                return "pending";
        return c->state.failing ? "failing" : "healthy";
}

static const char *check_result(const Check *c) {
        if (!c || c->result == CHECK_RESULT_NONE)
                return "none";
        return c->result == CHECK_RESULT_PASS ? "pass" : "fail";
}

/* One check; c is NULL when the daemon is not running. */
static int append_check(Buf *b, const CheckConfig *cc, const Check *c, bool comma) {
        bool ran = c && c->state.runs > 0;
        int r;

        r = buf_appendf(&b->s, &b->len, &b->cap, "%s{", comma ? "," : "");
        if (r >= 0)
                r = str_field(b, "name", cc->name, false);
        if (r >= 0)
                r = str_field(b, "type", cc->kind->name, true);
        if (r >= 0)
                r = buf_appendf(&b->s, &b->len, &b->cap, ",\"required\":%s,\"environmental\":%s",
                                bool_str(cc->required), bool_str(cc->environmental));
        if (r >= 0)
                r = str_field(b, "state", check_state(c), true);
        if (r >= 0)
                r = str_field(b, "result", check_result(c), true);
        if (r >= 0)
                r = str_field(b, "detail", c ? c->detail : "", true);
        if (r >= 0)
                r = buf_appendf(&b->s, &b->len, &b->cap, ",\"runs\":%llu,\"consecutive_failures\":%u",
                                (unsigned long long) (c ? c->state.runs : 0), c ? c->state.consecutive_failures : 0);
        if (r >= 0)
                r = usec_field(b, "last_run_usec", ran ? c->last_run_realtime : USEC_INFINITY);
        if (r >= 0)
                r = usec_field(b, "duration_usec", ran ? c->duration : USEC_INFINITY);
        if (r >= 0)
                r = buf_appendf(&b->s, &b->len, &b->cap, ",\"repairs\":%u}", c ? c->repairs : 0);
        return r;
}

static int append_checks(Buf *b, const StatusSource *src) {
        bool running = src->running;
        size_t n = running ? src->n_checks : src->config->n_checks;
        int r;

        r = buf_appendf(&b->s, &b->len, &b->cap, ",\"checks\":[");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = running ? append_check(b, src->checks[i]->config, src->checks[i], i > 0)
                            : append_check(b, src->config->checks[i], NULL, i > 0);
        return r < 0 ? r : buf_appendf(&b->s, &b->len, &b->cap, "]");
}

/* Only what parses as a JSON object goes into the document: one damaged line of a file must not
 * make the whole status unreadable. */
static bool is_json_object(const char *text) {
        _cleanup_(json_freep) JsonValue *v = NULL;

        return json_parse(text, &v) >= 0 && v->type == JSON_OBJECT;
}

static int append_verdicts(Buf *b, const StatusSource *src) {
        _cleanup_(strv_freep) char **records = NULL;
        bool first = true;
        int r;

        r = buf_appendf(&b->s, &b->len, &b->cap, ",\"verdicts\":[");
        /* An unreadable history is an empty one here: the rest of the status still counts. */
        if (r >= 0 && verdicts_read(src->config->supervisor.state_directory, STATUS_VERDICTS, &records) > 0)
                for (char **i = records; r >= 0 && *i; i++)
                        if (is_json_object(*i)) {
                                r = buf_appendf(&b->s, &b->len, &b->cap, "%s%s", first ? "" : ",", *i);
                                first = false;
                        }
        return r < 0 ? r : buf_appendf(&b->s, &b->len, &b->cap, "]");
}

static int append_pull(Buf *b, const UpdatePull *p) {
        return buf_appendf(&b->s, &b->len, &b->cap, ",\"pull\":{\"objects_fetched\":%" PRIu64 ",\"objects_requested\":%"
                           PRIu64 ",\"bytes_transferred\":%" PRIu64 "}", p->fetched, p->requested, p->bytes);
}

/* The update under way or last run (RUNTIME/update), with the figures of a pull under way
 * (RUNTIME/update-pull). A file that does not parse is left out, with a warning. */
static int append_update(Buf *b, const StatusSource *src) {
        const char *dir = src->config->supervisor.runtime_directory;
        UpdateProgress p;
        UpdatePull pull;
        bool running, have_pull;
        int r;

        r = update_progress_load(dir, &p);
        if (r < 0 && r != -ENOMEM)
                log_warning_errno(r, "Failed to read '%s/%s': %s, ignoring", dir, UPDATE_PROGRESS_FILE,
                                  r == -EBADMSG ? "not an update's progress" : strerror(-r));
        if (r == -ENOMEM)
                return r;
        if (r <= 0)
                return buf_appendf(&b->s, &b->len, &b->cap, ",\"update\":null");
        r = update_progress_running(dir);
        if (r < 0)
                log_warning_errno(r, "Failed to check the lock '%s/%s': %m, taking the update as gone", dir,
                                  UPDATE_LOCK_FILE);
        running = r > 0;
        have_pull = p.have_pull;
        pull = p.pull;
        if (p.step == UPDATE_STEP_PULLING) {
                r = update_pull_load(dir, &pull);
                if (r < 0 && r != -ENOMEM)
                        log_warning_errno(r, "Failed to read '%s/%s': %s, ignoring", dir, UPDATE_PULL_FILE,
                                          r == -EBADMSG ? "not a pull's progress" : strerror(-r));
                if (r == -ENOMEM)
                        return r;
                have_pull = r > 0;
        }

        r = buf_appendf(&b->s, &b->len, &b->cap, ",\"update\":{\"step\":\"%s\",\"running\":%s,\"interrupted\":%s,"
                        "\"pid\":%d,\"started_usec\":%" PRIu64 ",\"changed_usec\":%" PRIu64,
                        update_step_to_string(p.step), bool_str(running),
                        bool_str(!running && !update_step_is_final(p.step)), (int) p.pid, p.started_usec,
                        p.changed_usec);
        if (r >= 0)
                r = str_field(b, "refspec", p.refspec[0] ? p.refspec : NULL, true);
        if (r >= 0)
                r = str_field(b, "version", p.version[0] ? p.version : NULL, true);
        if (r >= 0)
                r = str_field(b, "checksum", p.checksum[0] ? p.checksum : NULL, true);
        if (r >= 0)
                r = str_field(b, "reason", p.reason[0] ? p.reason : NULL, true);
        if (r >= 0)
                r = have_pull ? append_pull(b, &pull) : buf_appendf(&b->s, &b->len, &b->cap, ",\"pull\":null");
        return r < 0 ? r : buf_appendf(&b->s, &b->len, &b->cap, "}");
}

int status_json(const StatusSource *src, char **ret) {
        _cleanup_(freep) char *s = NULL;
        Buf b = {};
        int r;

        r = buf_appendf(&b.s, &b.len, &b.cap, "{\"version\":%d,\"daemon\":", STATUS_VERSION);
        if (r >= 0)
                r = src->running ? buf_appendf(&b.s, &b.len, &b.cap, "{\"running\":true,\"pid\":%d}", (int) getpid())
                            : buf_appendf(&b.s, &b.len, &b.cap, "{\"running\":false}");
        if (r >= 0)
                r = append_boot(&b, src);
        if (r >= 0)
                r = append_watchdog(&b, src);
        if (r >= 0)
                r = str_field(&b, "config_error", src->config_error, true);
        if (r >= 0)
                r = buf_appendf(&b.s, &b.len, &b.cap, ",\"config_errors\":%zu", src->config_error ? src->config_errors : 0);
        if (r >= 0)
                r = append_hold(&b, src);
        if (r >= 0)
                r = append_checks(&b, src);
        if (r >= 0)
                r = append_verdicts(&b, src);
        if (r >= 0)
                r = append_update(&b, src);
        if (r >= 0)
                r = buf_appendf(&b.s, &b.len, &b.cap, "}");
        s = b.s;
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

int status_json_offline(Config *config, const char *config_error, size_t config_errors, char **ret) {
        const SupervisorConfig *sc = &config->supervisor;
        _cleanup_(assess_freep) Assessment *a = NULL;
        _cleanup_(freep) char *reason = NULL, *starve = NULL;
        _cleanup_(json_freep) JsonValue *v = NULL;
        char boot_id[SD_ID128_STRING_MAX] = "";
        StatusSource src = { .config = config, .config_error = config_error, .config_errors = config_errors };
        const char *check;
        sd_id128_t id;
        int r;

        if (sd_id128_get_boot(&id) >= 0)
                sd_id128_to_string(id, boot_id);
        r = assess_offline(config, boot_id, &a);
        if (r < 0)
                return r;
        src.assess = a;

        /* A reset decided earlier in this boot, which a restarted daemon will stand by. */
        if (reset_reason_read(sc->state_directory, boot_id, &reason) == RESET_REASON_THIS_BOOT &&
            json_parse(reason, &v) >= 0) {
                check = json_string(json_get(v, "check", NULL));
                if (asprintf(&starve, "decided earlier in this boot: %s%s%s", strempty(check), check ? ": " : "",
                             str_or(json_get(v, "detail", NULL), "")) < 0)
                        return -ENOMEM;
                src.starve_reason = starve;
        }
        if (hold_load(sc->runtime_directory, boot_id, &src.hold_until) <= 0)
                src.hold_until = 0;
        return status_json(&src, ret);
}

/* ---- the deployments, for the command line */

/* Adds key: the JSON text, parsed, to the document. Returns 0 or -errno. */
static int add_member(JsonValue *status, const char *key, const char *json) {
        _cleanup_(json_freep) JsonValue *v = NULL;
        int r;

        r = json_parse(json, &v);
        if (r < 0)
                return r;
        r = json_object_add(status, key, v);
        if (r < 0)
                return r;
        TAKE_PTR(v);
        return 0;
}

/* "deployments": null and "deployments_error": why. */
static int add_deployments_error(JsonValue *status, const char *why) {
        _cleanup_(freep) char *s = NULL;
        size_t len = 0, cap = 0;
        int r;

        r = add_member(status, "deployments", "null");
        if (r >= 0)
                r = json_append_string(&s, &len, &cap, why);
        if (r >= 0)
                r = add_member(status, "deployments_error", s);
        return r;
}

int status_add_deployments(const Config *config, JsonValue *status) {
        const OstreeConfig *c = &config->ostree;
        _cleanup_(json_freep) JsonValue *result = NULL;
        _cleanup_(freep) char *out = NULL, *list = NULL;
        const JsonValue *deployments;
        char *args[] = { (char *) "status", NULL }, err[512], why[1024], d[DURATION_MAX];
        int code, r;

        if (!helper_enabled(c))
                return add_deployments_error(status, c->enable == OSTREE_ENABLE_NO
                                                             ? "not managed: [ostree] enable = no"
                                                             : "not an OSTree system (no /run/ostree-booted)");
        code = helper_exec(c, config->supervisor.state_directory, args, STATUS_DEPLOYMENTS_TIMEOUT, &out, err,
                           sizeof(err), 0, NULL);
        if (code == -ENOMEM)
                return code;
        if (code == OSTREE_EXIT_OK) {
                r = json_parse(out, &result);
                if (r == -ENOMEM)
                        return r;
                deployments = json_get(result, "deployments", NULL);
                if (r >= 0 && deployments && deployments->type == JSON_ARRAY) {
                        r = json_format(deployments, false, &list);
                        return r < 0 ? r : add_member(status, "deployments", list);
                }
                snprintf(err, sizeof(err), "no list of deployments in its output");
        }
        if (code == OSTREE_EXIT_OK)
                snprintf(why, sizeof(why), "'%s status': %s", c->helper, err);
        else if (code == -ETIMEDOUT)
                snprintf(why, sizeof(why), "'%s status' timed out after %s: killed", c->helper,
                         format_duration(d, sizeof(d), STATUS_DEPLOYMENTS_TIMEOUT));
        else if (code > 0)
                snprintf(why, sizeof(why), "'%s status' failed: %s (exit %d)%s%s", c->helper,
                         helper_status_to_string(code), code, err[0] ? ": " : "", err);
        else
                snprintf(why, sizeof(why), "'%s status' failed: %s%s%s", c->helper,
                         code == -EMSGSIZE || code == -EINTR ? helper_status_to_string(code) : strerror(-code),
                         err[0] ? ": " : "", err);
        return add_deployments_error(status, why);
}

/* ---- the readable summary */

static void label(FILE *f, const char *l) {
        fprintf(f, "%12s%s ", l, l[0] ? ":" : " ");
}

static char *format_time(char *buf, size_t size, const JsonValue *v) {
        uint64_t usec;
        time_t t;
        struct tm tm;

        if (json_uint(v, &usec) < 0 || usec == 0) {
                snprintf(buf, size, "-");
                return buf;
        }
        t = (time_t) (usec / USEC_PER_SEC);
        if (!localtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm) == 0)
                snprintf(buf, size, "@%llu", (unsigned long long) t);
        return buf;
}

/* A duration in the document, to the unit (a millisecond, a second); "?" when it is not a number. */
static char *format_usec(char *buf, size_t size, const JsonValue *v, usec_t unit) {
        uint64_t usec;

        if (json_uint(v, &usec) < 0)
                snprintf(buf, size, "?");
        else
                format_duration(buf, size, usec - usec % unit);
        return buf;
}

static void print_daemon(const JsonValue *s, FILE *f) {
        const JsonValue *d = json_get(s, "daemon", NULL);
        uint64_t pid = 0;

        label(f, "Daemon");
        if (json_true(json_get(d, "running", NULL))) {
                (void) json_uint(json_get(d, "pid", NULL), &pid);
                fprintf(f, "running (PID %llu)\n", (unsigned long long) pid);
        } else
                fprintf(f, "not running: the boot state below is read from the boot environment and the state "
                           "directory now\n");
}

static void print_boot(const JsonValue *s, FILE *f) {
        const JsonValue *boot = json_get(s, "boot", NULL), *env = json_get(boot, "env", NULL), *prev;
        const char *phase = str_or(json_get(boot, "phase", NULL), "?");
        const char *verdict = str_or(json_get(boot, "verdict", NULL), "");
        const char *reason = str_or(json_get(boot, "verdict_reason", NULL), "");
        char t[64];

        label(f, "Boot");
        fprintf(f, "%s%s%s, verdict %s", phase,
                streq(phase, "trial") ? json_true(json_get(boot, "confirmed", NULL)) ? " (confirmed)"
                                                                                      : " (not confirmed)" : "",
                json_true(json_get(boot, "degraded", NULL)) ? ", DEGRADED" : "",
                verdict[0] ? verdict : "(none yet)");
        if (reason[0])
                fprintf(f, ": %s", reason);
        fputc('\n', f);
        label(f, "");
        fprintf(f, "%s\n", str_or(json_get(boot, "phase_reason", NULL), "?"));

        label(f, "Environment");
        if (json_string(json_get(boot, "env_error", NULL)))
                fprintf(f, "unreadable: %s", json_string(json_get(boot, "env_error", NULL)));
        else
                for (size_t i = 0; env && env->type == JSON_OBJECT && i < env->n_items; i++)
                        fprintf(f, "%s%s=%s", i > 0 ? " " : "", env->items[i]->key, str_or(env->items[i], "(unset)"));
        fputc('\n', f);
        if (json_string(json_get(boot, "env_warning", NULL))) {
                label(f, "");
                fprintf(f, "WARNING: %s\n", json_string(json_get(boot, "env_warning", NULL)));
        }

        prev = json_get(boot, "previous_reset", NULL);
        if (prev && prev->type == JSON_OBJECT) {
                const char *check = json_string(json_get(prev, "check", NULL));

                label(f, "Last reset");
                fprintf(f, "%s (%s): %s%s%s%s\n", format_time(t, sizeof(t), json_get(prev, "realtime_usec", NULL)),
                        str_or(json_get(prev, "reason", NULL), "?"), check ? "check " : "", strempty(check),
                        check ? ": " : "", str_or(json_get(prev, "detail", NULL), ""));
        }
}

static void print_watchdog(const JsonValue *s, FILE *f) {
        const JsonValue *w = json_get(s, "watchdog", NULL), *last = json_get(w, "last_reset_by_watchdog", NULL);
        const char *identity = json_string(json_get(w, "identity", NULL));
        const char *starve = json_string(json_get(w, "starve_reason", NULL));
        bool running = json_true(json_get(s, "daemon", "running", NULL));
        char a[DURATION_MAX], b[DURATION_MAX];

        label(f, "Watchdog");
        if (streq(str_or(json_get(w, "device", NULL), ""), "none")) {
                fprintf(f, "none (device = none: a dry run, nothing resets this system)\n");
                return;
        }
        fprintf(f, "%s%s%s%s, timeout %s, %s every %s: ", str_or(json_get(w, "device", NULL), "?"),
                identity ? " (" : "", strempty(identity), identity ? ")" : "",
                format_usec(a, sizeof(a), json_get(w, "timeout_usec", NULL), USEC_PER_MSEC),
                running ? "pinged" : "configured to ping",
                format_usec(b, sizeof(b), json_get(w, "interval_usec", NULL), USEC_PER_MSEC));
        if (!running)
                fprintf(f, "not fed by healthdog%s%s\n", starve ? "; a reset was " : "", strempty(starve));
        else if (json_true(json_get(w, "feeding", NULL)))
                fprintf(f, "feeding\n");
        else
                fprintf(f, "NOT FEEDING (%s)\n", starve ?: "?");
        if (last && last->type == JSON_BOOLEAN) {
                label(f, "");
                fprintf(f, "the last reset was %s\n", last->boolean ? "the watchdog's" : "not the watchdog's");
        }
}

static void print_config(const JsonValue *s, FILE *f) {
        const char *error = json_string(json_get(s, "config_error", NULL));
        uint64_t n = 0;

        if (!error)
                return;
        (void) json_uint(json_get(s, "config_errors", NULL), &n);
        label(f, "Config");
        fprintf(f, "INVALID (%llu error%s): %s\n", (unsigned long long) n, n == 1 ? "" : "s", error);
        label(f, "");
        fprintf(f, "%s\n", json_true(json_get(s, "daemon", "running", NULL))
                                   ? "healthdog runs with the last configuration that loaded (healthdog config check)"
                                   : "healthdog config check shows every error");
}

static void print_hold(const JsonValue *s, FILE *f) {
        const JsonValue *hold = json_get(s, "hold", NULL);
        char t[64], d[DURATION_MAX];

        label(f, "Hold");
        if (!hold || hold->type != JSON_OBJECT) {
                fprintf(f, "none\n");
                return;
        }
        fprintf(f, "until %s (%s left): the watchdog is fed whatever the checks say\n",
                format_time(t, sizeof(t), json_get(hold, "until_usec", NULL)),
                format_usec(d, sizeof(d), json_get(hold, "remaining_usec", NULL), USEC_PER_SEC));
}

static void print_checks(const JsonValue *s, FILE *f) {
        const JsonValue *checks = json_get(s, "checks", NULL);
        int name_width = 4, type_width = 4;
        size_t n = checks && checks->type == JSON_ARRAY ? checks->n_items : 0, healthy = 0;

        for (size_t i = 0; i < n; i++) {
                const char *name = str_or(json_get(checks->items[i], "name", NULL), "?");
                const char *type = str_or(json_get(checks->items[i], "type", NULL), "?");

                if ((int) strlen(name) > name_width)
                        name_width = (int) strlen(name);
                if ((int) strlen(type) > type_width)
                        type_width = (int) strlen(type);
                healthy += streq(str_or(json_get(checks->items[i], "state", NULL), ""), "healthy");
        }

        label(f, "Checks");
        fprintf(f, "%zu of %zu healthy\n", healthy, n);
        for (size_t i = 0; i < n; i++) {
                const JsonValue *c = checks->items[i];
                uint64_t runs = 0, failures = 0;

                (void) json_uint(json_get(c, "runs", NULL), &runs);
                (void) json_uint(json_get(c, "consecutive_failures", NULL), &failures);
                label(f, "");
                fprintf(f, "%-*s  %-*s  %-13s  %-7s  %-4s  %5llu runs  %s", name_width,
                        str_or(json_get(c, "name", NULL), "?"), type_width, str_or(json_get(c, "type", NULL), "?"),
                        json_true(json_get(c, "environmental", NULL)) ? "environmental"
                        : json_true(json_get(c, "required", NULL))  ? "required" : "wanted",
                        str_or(json_get(c, "state", NULL), "?"), str_or(json_get(c, "result", NULL), "?"),
                        (unsigned long long) runs, str_or(json_get(c, "detail", NULL), ""));
                if (failures > 1)
                        fprintf(f, " (%llu failures in a row)", (unsigned long long) failures);
                fputc('\n', f);
        }
}

static void print_verdicts(const JsonValue *s, FILE *f) {
        const JsonValue *verdicts = json_get(s, "verdicts", NULL);
        size_t n = verdicts && verdicts->type == JSON_ARRAY ? verdicts->n_items : 0;
        char t[64];

        label(f, "Verdicts");
        fprintf(f, n ? "the last %zu, newest last\n" : "none recorded\n", n);
        for (size_t i = 0; i < n; i++) {
                const JsonValue *v = verdicts->items[i];

                label(f, "");
                fprintf(f, "%s  %-.8s  %-11s  %-11s  %s\n",
                        format_time(t, sizeof(t), json_get(v, "started_usec", NULL)),
                        str_or(json_get(v, "boot_id", NULL), "?"), str_or(json_get(v, "phase", NULL), "?"),
                        str_or(json_get(v, "verdict", NULL), "?"), str_or(json_get(v, "verdict_reason", NULL), ""));
        }
}

/* "1.2 MiB", "345 KiB", "12 bytes" */
static char *format_bytes(char *buf, size_t size, uint64_t bytes) {
        if (bytes < 1024)
                snprintf(buf, size, "%" PRIu64 " bytes", bytes);
        else if (bytes < 1024 * 1024)
                snprintf(buf, size, "%.1f KiB", (double) bytes / 1024.0);
        else
                snprintf(buf, size, "%.1f MiB", (double) bytes / (1024.0 * 1024.0));
        return buf;
}

/* "3 (3f2a9c1d2e4b)", the refspec while the commit is not known yet. */
static char *format_commit(char *buf, size_t size, const JsonValue *u) {
        const char *version = json_string(json_get(u, "version", NULL));
        const char *checksum = json_string(json_get(u, "checksum", NULL));

        if (checksum)
                snprintf(buf, size, "%s (%.12s)", version ?: "no version", checksum);
        else
                snprintf(buf, size, "from %s", str_or(json_get(u, "refspec", NULL), "the origin"));
        return buf;
}

static void print_update(const JsonValue *s, FILE *f) {
        const JsonValue *u = json_get(s, "update", NULL), *pull;
        const char *step, *version;
        char what[256], size[32];
        uint64_t pid = 0, fetched, requested, bytes;

        if (!u || u->type != JSON_OBJECT)
                return;
        step = str_or(json_get(u, "step", NULL), "?");
        version = str_or(json_get(u, "version", NULL), "?");
        pull = json_get(u, "pull", NULL);
        format_commit(what, sizeof(what), u);
        (void) json_uint(json_get(u, "pid", NULL), &pid);
        label(f, "Update");
        if (json_true(json_get(u, "interrupted", NULL))) {
                fprintf(f, "interrupted while %s %s (healthdog update, PID %llu, is gone)\n", step, what,
                        (unsigned long long) pid);
                return;
        }
        if (json_uint(json_get(pull, "objects_fetched", NULL), &fetched) < 0 ||
            json_uint(json_get(pull, "objects_requested", NULL), &requested) < 0 ||
            json_uint(json_get(pull, "bytes_transferred", NULL), &bytes) < 0)
                pull = NULL;
        if (streq(step, "checking"))
                fprintf(f, "checking for an update %s\n", what);
        else if (streq(step, "pulling") && pull && requested > 0)
                fprintf(f, "pulling %llu%% (%llu of %llu objects, %s) of %s\n",
                        (unsigned long long) (fetched >= requested ? 100 : fetched * 100 / requested),
                        (unsigned long long) fetched, (unsigned long long) requested,
                        format_bytes(size, sizeof(size), bytes), what);
        else if (streq(step, "pulled") && pull)
                fprintf(f, "pulled %s: %llu objects, %s\n", what, (unsigned long long) fetched,
                        format_bytes(size, sizeof(size), bytes));
        else if (streq(step, "downloaded"))
                fprintf(f, "downloaded %s, nothing deployed (--download-only)\n", what);
        else if (streq(step, "arming"))
                fprintf(f, "arming the trial of %s\n", what);
        else if (streq(step, "armed"))
                fprintf(f, "armed: %s is deployed, the trial starts at the next boot\n", version);
        else if (streq(step, "rebooting"))
                fprintf(f, "rebooting into %s\n", version);
        else if (streq(step, "failed"))
                fprintf(f, "failed (%s): %s\n", what, str_or(json_get(u, "reason", NULL), "no reason given"));
        else
                fprintf(f, "%s %s\n", step, what);
}

/* As `ostree admin status` lists them: the booted one marked with a star. */
static void print_deployments(const JsonValue *s, FILE *f) {
        static const char *const states[] = { "booted", "staged", "pending", "rollback", "default", "pinned",
                                              "quarantined" };
        const JsonValue *list = json_get(s, "deployments", NULL);
        const char *error = json_string(json_get(s, "deployments_error", NULL));
        int width = 1;

        if (!list && !error)
                return; /* --no-deployments, or the daemon's own document */
        label(f, "Deployments");
        if (!list || list->type != JSON_ARRAY) {
                fprintf(f, "unknown: %s\n", error ?: "?");
                return;
        }
        if (list->n_items == 0) {
                fprintf(f, "none\n");
                return;
        }
        for (size_t i = 0; i < list->n_items; i++)
                if ((int) strlen(str_or(json_get(list->items[i], "version", NULL), "-")) > width)
                        width = (int) strlen(str_or(json_get(list->items[i], "version", NULL), "-"));
        fprintf(f, "%zu\n", list->n_items);
        for (size_t i = 0; i < list->n_items; i++) {
                const JsonValue *d = list->items[i];
                uint64_t serial = 0;
                bool first = true;

                (void) json_uint(json_get(d, "deployserial", NULL), &serial);
                label(f, "");
                fprintf(f, "%c %s %s.%llu  %-*s ", json_true(json_get(d, "booted", NULL)) ? '*' : ' ',
                        str_or(json_get(d, "osname", NULL), "?"), str_or(json_get(d, "checksum", NULL), "?"),
                        (unsigned long long) serial, width, str_or(json_get(d, "version", NULL), "-"));
                for (size_t k = 0; k < ELEMENTSOF(states); k++)
                        if (json_true(json_get(d, states[k], NULL))) {
                                fprintf(f, "%s%s", first ? " " : ", ", states[k]);
                                first = false;
                        }
                fputc('\n', f);
        }
}

void status_print(const JsonValue *status, FILE *f) {
        print_daemon(status, f);
        print_boot(status, f);
        print_watchdog(status, f);
        print_config(status, f);
        print_hold(status, f);
        print_update(status, f);
        print_deployments(status, f);
        print_checks(status, f);
        print_verdicts(status, f);
}
