/* SPDX-License-Identifier: MIT */
#include <getopt.h>
#include <signal.h>
#include <systemd/sd-id128.h>

#include "assess.h"
#include "config.h"
#include "control.h"
#include "last-good.h"
#include "log.h"
#include "manager.h"
#include "pages.h"
#include "starts.h"
#include "status.h"
#include "update.h"
#include "verbs.h"
#include "wdt.h"

#ifndef HEALTHDOG_VERSION
#define HEALTHDOG_VERSION "0.1"
#endif

#define EXIT_USAGE 2

static const Program program;

static const char *arg_config = HEALTHDOG_CONFIG_FILE;

static const Verb *verb_find(const char *name) {
        return verbs_find(&program, name);
}

static void help_verb(FILE *f, const Verb *v) {
        verbs_help_verb(&program, v, f);
}

static int on_shared_option(int c, const char *arg) {
        arg_config = arg; /* -c, the only shared option */
        return 0;
}

static int parse_verb_options(const Verb *v, int argc, char *argv[], const struct option *own,
                              option_handler_t on_option) {
        return verbs_parse_options(&program, v, argc, argv, own, on_option);
}

static int parse_options(const Verb *v, int argc, char *argv[]) {
        return parse_verb_options(v, argc, argv, NULL, NULL);
}

/* Loads the config, printing every error. Returns 0 or -errno. */
static int load_config(Config **ret) {
        _cleanup_(strv_freep) char **dirs = config_dropin_dirs(arg_config);
        ConfigErrors errors = {};
        int r;

        if (!dirs)
                return log_error_errno(ENOMEM, "Failed to load the configuration: %m");
        r = config_load(arg_config, dirs, ret, &errors);
        for (char **e = errors.lines; e && *e; e++)
                fprintf(stderr, "%s\n", *e);
        config_errors_clear(&errors);
        return r;
}

/* What the daemon runs with (README, "How it supervises"): the configuration; when it does not
 * load (every error printed, the first in *ret_error, allocated, their count in *ret_n), the last
 * one that did, STATE/last-good.conf, found through the settings the files still give
 * (config_load_settings()); with none, those settings alone (*ret_settings_only). settings gets
 * those settings too. Returns 0 or -errno (-ENOMEM). */
static int load_config_fail_closed(Config **ret, Config **ret_settings, char **ret_error, size_t *ret_n,
                                   bool *ret_settings_only) {
        _cleanup_(strv_freep) char **dirs = config_dropin_dirs(arg_config);
        _cleanup_(config_errors_clear) ConfigErrors errors = {}, last = {};
        _cleanup_(config_freep) Config *settings = NULL, *config = NULL;
        int r;

        if (!dirs)
                return -ENOMEM;
        r = config_load_settings(arg_config, dirs, &settings);
        if (r < 0)
                return r;
        r = config_load(arg_config, dirs, &config, &errors);
        for (char **e = errors.lines; e && *e; e++)
                fprintf(stderr, "%s\n", *e);
        *ret_error = NULL;
        *ret_n = 0;
        *ret_settings_only = false;
        if (r == 0)
                goto done;
        if (r != -EINVAL)
                return r;

        *ret_n = config_errors_count(&errors);
        *ret_error = strdup(*ret_n > 0 ? errors.lines[0] : arg_config);
        if (!*ret_error)
                return -ENOMEM;
        r = last_good_load(settings->supervisor.state_directory, &config, &last);
        if (r == -ENOENT || r == -EINVAL) {
                for (char **e = last.lines; e && *e; e++)
                        fprintf(stderr, "%s\n", *e);
                config = NULL;
                *ret_settings_only = true;
        } else if (r < 0)
                return r;

done:
        if (!config) {
                r = config_load_settings(arg_config, dirs, &config);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(config);
        *ret_settings = TAKE_PTR(settings);
        return 0;
}

static int no_arguments(const Verb *v, int argc, char *argv[], int i) {
        if (i < argc) {
                fprintf(stderr, "healthdog %s: unexpected argument '%s'\n", v->name, argv[i]);
                return -1;
        }
        return 0;
}

/* Parses the options of a verb that takes no arguments. Returns 1 to go on, 0 when the verb's
 * help was printed, or -EINVAL after reporting a usage error. */
static int parse_no_arguments(const Verb *v, int argc, char *argv[]) {
        int i = parse_options(v, argc, argv);

        if (i < 0 || (i > 0 && no_arguments(v, argc, argv, i) < 0))
                return -EINVAL;
        return i > 0;
}

/* The exit code of a verb whose options ended it (parse_no_arguments() <= 0). */
static int options_exit(int r) {
        return r == 0 ? EXIT_SUCCESS : EXIT_USAGE;
}

/* Counts this start (RUNTIME/starts). Returns the count, this start included. */
static unsigned count_start(const Config *settings) {
        const char *dir = settings->supervisor.runtime_directory;
        char boot_id[SD_ID128_STRING_MAX] = "";
        unsigned n = 1;
        sd_id128_t id;
        int r;

        r = sd_id128_get_boot(&id);
        if (r >= 0) {
                sd_id128_to_string(id, boot_id);
                r = starts_count(dir, boot_id, &n);
        }
        if (r < 0)
                log_warning_errno(r, "Failed to count this start in '%s/%s': %m, ignoring", dir, STARTS_FILE);
        return n;
}

static int verb_run(int argc, char *argv[]) {
        _cleanup_(manager_freep) Manager *m = NULL;
        _cleanup_(config_freep) Config *settings = NULL;
        _cleanup_(freep) char *config_error = NULL;
        Config *config = NULL;
        bool settings_only;
        size_t n_errors;
        int r = parse_no_arguments(verb_find("run"), argc, argv);

        if (r <= 0)
                return options_exit(r);

        /* A configuration that does not load is no reason to stop supervising: an unconfirmed
         * trial fails for it, any other boot runs on the last one that did. */
        r = load_config_fail_closed(&config, &settings, &config_error, &n_errors, &settings_only);
        if (r < 0) {
                log_error_errno(r, "Failed to load the configuration: %m");
                return EXIT_FAILURE;
        }
        r = manager_new(&m, arg_config, config);
        if (r < 0) {
                config_free(config);
                log_error_errno(r, "Failed to set up the supervisor: %m");
                return EXIT_FAILURE;
        }
        /* Every start counts, before anything else can fail: a daemon that keeps failing on a
         * trial boot must end in a reset. */
        manager_set_starts(m, count_start(settings));
        if (config_error && manager_set_config_invalid(m, config_error, n_errors, settings_only) < 0) {
                log_error_errno(ENOMEM, "Failed to set up the supervisor: %m");
                return EXIT_FAILURE;
        }
        r = manager_start(m);
        if (r < 0)
                return EXIT_FAILURE;
        pages_release_later(m->event);
        r = manager_run(m);
        if (r == -ECANCELED)
                return EXIT_FAILURE;
        if (r < 0) {
                log_error_errno(r, "Event loop failed: %m");
                return EXIT_FAILURE;
        }
        manager_stop(m);
        /* A clean stop: the next start is not a failure's. */
        (void) starts_clear(settings->supervisor.runtime_directory);
        return EXIT_SUCCESS;
}

typedef struct CheckOnce {
        size_t pending;
} CheckOnce;

static void on_check_once(Check *c, CheckEvent event, void *userdata) {
        CheckOnce *once = userdata;

        if (--once->pending == 0)
                (void) sd_event_exit(c->event, 0);
}

static void print_check_table(Check **checks, size_t n) {
        int width = 5, type_width = 4;

        for (size_t i = 0; i < n; i++) {
                if ((int) strlen(checks[i]->config->name) > width)
                        width = (int) strlen(checks[i]->config->name);
                if ((int) strlen(checks[i]->config->kind->name) > type_width)
                        type_width = (int) strlen(checks[i]->config->kind->name);
        }

        printf("%-*s  %-*s  %-8s  %-6s  %8s  %s\n", width, "CHECK", type_width, "TYPE", "REQUIRED", "RESULT", "TIME",
               "DETAIL");
        for (size_t i = 0; i < n; i++) {
                const Check *c = checks[i];
                char t[DURATION_MAX];

                /* Milliseconds are precise enough for a person reading the table. */
                format_duration(t, sizeof(t), c->duration - c->duration % USEC_PER_MSEC);
                printf("%-*s  %-*s  %-8s  %-6s  %8s  %s\n", width, c->config->name, type_width, c->config->kind->name,
                       c->config->environmental ? "env" : c->config->required ? "yes" : "no",
                       c->result == CHECK_RESULT_PASS ? "pass" : "FAIL", t, c->detail);
        }
}

static int verb_check(int argc, char *argv[]) {
        const Verb *v = verb_find("check");
        _cleanup_(config_freep) Config *config = NULL;
        Check **checks = NULL;
        CheckContext context = {};
        sd_event *event = NULL;
        CheckOnce once = {};
        size_t n = 0;
        int i = parse_options(v, argc, argv), r, ret = EXIT_FAILURE;
        bool healthy = true;
        sigset_t mask;

        if (i <= 0)
                return i == 0 ? EXIT_SUCCESS : EXIT_USAGE;
        if (load_config(&config) < 0)
                return EXIT_FAILURE;

        for (int j = i; j < argc; j++)
                if (!config_find_check(config, argv[j])) {
                        fprintf(stderr, "healthdog check: no check named '%s' in %s\n", argv[j], arg_config);
                        return EXIT_USAGE;
                }

        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        (void) sigprocmask(SIG_BLOCK, &mask, NULL);
        (void) signal(SIGPIPE, SIG_IGN);

        r = sd_event_new(&event);
        context.event = event;
        context.bus_address = config->supervisor.dbus_address;
        checks = calloc(config->n_checks ?: 1, sizeof(Check *));
        if (r < 0 || !checks) {
                log_error_errno(r < 0 ? r : -ENOMEM, "Failed to set up: %m");
                goto finish;
        }

        for (size_t k = 0; k < config->n_checks; k++) {
                bool wanted = i == argc;
                for (int j = i; j < argc; j++)
                        wanted = wanted || streq(argv[j], config->checks[k]->name);
                if (!wanted)
                        continue;
                r = check_new(&checks[n], &context, config->checks[k], on_check_once, &once);
                if (r < 0) {
                        log_error_errno(r, "Failed to set up check '%s': %m", config->checks[k]->name);
                        goto finish;
                }
                n++;
        }

        once.pending = n;
        for (size_t k = 0; k < n; k++) {
                r = check_run(checks[k]);
                if (r < 0) {
                        log_error_errno(r, "Failed to run check '%s': %m", checks[k]->config->name);
                        goto finish;
                }
        }
        if (once.pending > 0) {
                r = sd_event_loop(event);
                if (r < 0) {
                        log_error_errno(r, "Event loop failed: %m");
                        goto finish;
                }
        }

        print_check_table(checks, n);
        for (size_t k = 0; k < n; k++)
                if (checks[k]->config->required && checks[k]->result != CHECK_RESULT_PASS)
                        healthy = false;
        ret = healthy ? EXIT_SUCCESS : EXIT_FAILURE;

finish:
        for (size_t k = 0; k < n; k++)
                check_free(checks[k]);
        free(checks);
        check_context_done(&context);
        sd_event_unref(event);
        return ret;
}

static int verb_config(int argc, char *argv[]) {
        _cleanup_(config_freep) Config *config = NULL;
        const Verb *v = verb_find("config");
        int i = parse_options(v, argc, argv);
        const char *what;

        if (i <= 0)
                return i == 0 ? EXIT_SUCCESS : EXIT_USAGE;
        what = i < argc ? argv[i] : NULL;
        if (!what || (!streq(what, "check") && !streq(what, "dump"))) {
                fprintf(stderr, "healthdog config: expected 'check' or 'dump'%s%s%s\n", what ? ", got '" : "",
                        strempty(what), what ? "'" : "");
                help_verb(stderr, v);
                return EXIT_USAGE;
        }
        if (no_arguments(v, argc, argv, i + 1) < 0)
                return EXIT_USAGE;

        if (load_config(&config) < 0)
                return EXIT_FAILURE;
        if (streq(what, "dump"))
                config_dump(config, stdout);
        else
                printf("configuration OK\n");
        return EXIT_SUCCESS;
}

static int verb_version(int argc, char *argv[]) {
        int r = parse_no_arguments(verb_find("version"), argc, argv);

        if (r <= 0)
                return options_exit(r);
        printf("healthdog %s\n", HEALTHDOG_VERSION);
        return EXIT_SUCCESS;
}

static const char *arg_json;      /* NULL: the readable summary; "short" or "pretty" */
static bool arg_no_deployments;
static usec_t arg_hold_for;
static bool arg_hold_cancel;

/* Sends request to the daemon of the loaded configuration. Returns 0 with the reply object,
 * -ESRCH when no daemon listens (not reported), or another -errno (reported). */
static int call_daemon(const Verb *v, const Config *config, const char *request, JsonValue **ret) {
        _cleanup_(freep) char *path = NULL;
        int r;

        r = control_socket_path(config->supervisor.runtime_directory, &path);
        if (r < 0)
                return log_error_errno(r, "Failed to reach the daemon: %m");
        r = control_request(path, request, ret);
        if (r == -ENOENT || r == -ECONNREFUSED)
                return -ESRCH;
        if (r == -EACCES || r == -EPERM)
                fprintf(stderr, "healthdog %s: cannot connect to '%s': %s (only root may control healthdog)\n", v->name,
                        path, strerror(-r));
        else if (r < 0)
                fprintf(stderr, "healthdog %s: no valid answer from the daemon at '%s': %s\n", v->name, path,
                        strerror(-r));
        return r;
}

/* Reports a refusal of the daemon (or its absence). Returns EXIT_FAILURE. */
static int refused(const Verb *v, const Config *config, const JsonValue *reply) {
        if (reply)
                fprintf(stderr, "healthdog %s: %s\n", v->name,
                        json_string(json_get(reply, "error", NULL)) ?: "refused (no reason given)");
        else
                fprintf(stderr, "healthdog %s: healthdog is not running (nothing answers on '%s/%s')\n", v->name,
                        config->supervisor.runtime_directory, CONTROL_SOCKET_NAME);
        return EXIT_FAILURE;
}

static int on_status_option(const Verb *v, int c, const char *arg) {
        if (c == 'N') {
                arg_no_deployments = true;
                return 0;
        }
        if (!arg || streq(arg, "short"))
                arg_json = "short";
        else if (streq(arg, "pretty"))
                arg_json = "pretty";
        else {
                fprintf(stderr, "healthdog %s: --json takes 'short' or 'pretty', not '%s'\n", v->name, arg);
                return -1;
        }
        return 0;
}

static int verb_status(int argc, char *argv[]) {
        static const struct option options[] = {
                { "json",           optional_argument, NULL, 'J' },
                { "no-deployments", no_argument,       NULL, 'N' },
                {}
        };
        const Verb *v = verb_find("status");
        _cleanup_(config_freep) Config *config = NULL;
        _cleanup_(json_freep) JsonValue *reply = NULL, *offline = NULL;
        _cleanup_(freep) char *text = NULL, *out = NULL;
        _cleanup_(config_freep) Config *settings = NULL;
        _cleanup_(freep) char *config_error = NULL;
        JsonValue *status;
        size_t n_errors;
        bool settings_only;
        int i = parse_verb_options(v, argc, argv, options, on_status_option), r;

        if (i <= 0 || no_arguments(v, argc, argv, i) < 0)
                return i == 0 ? EXIT_SUCCESS : EXIT_USAGE;
        /* With a configuration that does not load, the daemon runs with another one: ask it
         * where that one says. */
        r = load_config_fail_closed(&config, &settings, &config_error, &n_errors, &settings_only);
        if (r < 0) {
                log_error_errno(r, "Failed to load the configuration: %m");
                return EXIT_FAILURE;
        }

        r = call_daemon(v, config, "status", &reply);
        if (r == -ESRCH) {
                /* Nobody to ask: what can be known without the daemon, read only. */
                r = status_json_offline(config, config_error, n_errors, &text);
                if (r >= 0)
                        r = json_parse(text, &offline);
                if (r < 0) {
                        fprintf(stderr, "healthdog status: cannot compute the status: %s\n", strerror(-r));
                        return EXIT_FAILURE;
                }
                status = offline;
        } else if (r < 0)
                return EXIT_FAILURE;
        else if (!json_true(json_get(reply, "ok", NULL)))
                return refused(v, config, reply);
        else
                status = (JsonValue *) json_get(reply, "status", NULL);
        if (!status || status->type != JSON_OBJECT) {
                fprintf(stderr, "healthdog status: the daemon's reply has no status\n");
                return EXIT_FAILURE;
        }
        /* Asked here, never by the daemon: libostree may take its time. */
        if (!arg_no_deployments && status_add_deployments(config, status) < 0) {
                log_error_errno(ENOMEM, "Failed to list the deployments: %m");
                return EXIT_FAILURE;
        }

        if (!arg_json) {
                status_print(status, stdout);
                return EXIT_SUCCESS;
        }
        if (json_format(status, streq(arg_json, "pretty"), &out) < 0) {
                log_error_errno(ENOMEM, "Failed to format the status: %m");
                return EXIT_FAILURE;
        }
        printf("%s\n", out);
        return EXIT_SUCCESS;
}

/* Sends the verb's own name as the request and wants {"ok":true}: returns 0 with the loaded
 * configuration in *ret_config (for the verb's message), or -errno after reporting why not;
 * bad_config (or NULL) is added when the configuration does not load. */
static int request_ok(const Verb *v, const char *bad_config, Config **ret_config) {
        _cleanup_(config_freep) Config *config = NULL;
        _cleanup_(json_freep) JsonValue *reply = NULL;
        int r;

        r = load_config(&config);
        if (r < 0) {
                if (bad_config)
                        fprintf(stderr, "healthdog %s: %s\n", v->name, bad_config);
                return r;
        }
        r = call_daemon(v, config, v->name, &reply);
        if (r == -ESRCH)
                (void) refused(v, config, NULL);
        if (r < 0)
                return r;
        if (!json_true(json_get(reply, "ok", NULL))) {
                (void) refused(v, config, reply);
                return -EPERM;
        }
        *ret_config = TAKE_PTR(config);
        return 0;
}

static int verb_mark_good(int argc, char *argv[]) {
        const Verb *v = verb_find("mark-good");
        _cleanup_(config_freep) Config *config = NULL;
        int r = parse_no_arguments(v, argc, argv);

        if (r <= 0)
                return options_exit(r);
        if (request_ok(v, NULL, &config) < 0)
                return EXIT_FAILURE;
        printf("Boot confirmed: %s cleared.\n", boot_cleared_what(&config->bootloader));
        return EXIT_SUCCESS;
}

static int verb_reload(int argc, char *argv[]) {
        const Verb *v = verb_find("reload");
        _cleanup_(config_freep) Config *config = NULL;
        int r = parse_no_arguments(v, argc, argv);

        if (r <= 0)
                return options_exit(r);
        /* The daemon would reject it the same way (the errors are printed above). */
        if (request_ok(v, "not reloaded: the daemon keeps its running configuration", &config) < 0)
                return EXIT_FAILURE;
        printf("Configuration reloaded.\n");
        return EXIT_SUCCESS;
}

static int on_hold_option(const Verb *v, int c, const char *arg) {
        if (c == 'C') {
                arg_hold_cancel = true;
                return 0;
        }
        if (parse_duration(arg, &arg_hold_for) < 0 || arg_hold_for == 0) {
                fprintf(stderr, "healthdog %s: bad duration '%s' (for example 30min, 2h, 1h 30min)\n", v->name, arg);
                return -1;
        }
        return 0;
}

static int verb_hold(int argc, char *argv[]) {
        static const struct option options[] = {
                { "for",    required_argument, NULL, 'F' },
                { "cancel", no_argument,       NULL, 'C' },
                {}
        };
        const Verb *v = verb_find("hold");
        _cleanup_(config_freep) Config *config = NULL;
        _cleanup_(json_freep) JsonValue *reply = NULL;
        char request[64], until[64] = "?", d[DURATION_MAX];
        int i = parse_verb_options(v, argc, argv, options, on_hold_option), r;
        uint64_t usec;
        struct tm tm;
        time_t t;

        if (i <= 0 || no_arguments(v, argc, argv, i) < 0)
                return i == 0 ? EXIT_SUCCESS : EXIT_USAGE;
        if ((arg_hold_for > 0) == arg_hold_cancel) {
                fprintf(stderr, "healthdog hold: expected either --for DURATION or --cancel\n");
                help_verb(stderr, v);
                return EXIT_USAGE;
        }
        if (load_config(&config) < 0)
                return EXIT_FAILURE;

        if (arg_hold_cancel)
                snprintf(request, sizeof(request), "hold-cancel");
        else
                snprintf(request, sizeof(request), "hold %llu", (unsigned long long) arg_hold_for);
        r = call_daemon(v, config, request, &reply);
        if (r == -ESRCH)
                return refused(v, config, NULL);
        if (r < 0)
                return EXIT_FAILURE;
        if (!json_true(json_get(reply, "ok", NULL)))
                return refused(v, config, reply);

        if (arg_hold_cancel) {
                printf("Maintenance hold ended: the checks decide again.\n");
                return EXIT_SUCCESS;
        }
        if (json_uint(json_get(reply, "until_usec", NULL), &usec) >= 0) {
                t = (time_t) (usec / USEC_PER_SEC);
                if (localtime_r(&t, &tm))
                        strftime(until, sizeof(until), "%Y-%m-%d %H:%M:%S", &tm);
        }
        printf("Maintenance hold for %s, until %s: the watchdog is fed whatever the checks say.\n",
               format_duration(d, sizeof(d), arg_hold_for), until);
        return EXIT_SUCCESS;
}

static UpdateOptions arg_update;

static int on_update_option(const Verb *v, int c, const char *arg) {
        switch (c) {
        case 'K':
                arg_update.check = true;
                break;
        case 'D':
                arg_update.download_only = true;
                break;
        case 'N':
                arg_update.no_reboot = true;
                break;
        case 'F':
                arg_update.force = true;
                break;
        case 'J':
                arg_update.json = true;
                break;
        default:
                /* REMOTE:REF, as ostree writes it; the remote is the helper's to check. */
                if (!strchr(arg, ':') || arg[0] == ':' || arg[strlen(arg) - 1] == ':') {
                        fprintf(stderr, "healthdog %s: bad refspec '%s' (expected REMOTE:REF, e.g. origin:os/stable)\n",
                                v->name, arg);
                        return -1;
                }
                arg_update.refspec = arg;
        }
        return 0;
}

static int verb_update(int argc, char *argv[]) {
        static const struct option options[] = {
                { "check",         no_argument,       NULL, 'K' },
                { "download-only", no_argument,       NULL, 'D' },
                { "no-reboot",     no_argument,       NULL, 'N' },
                { "ref",           required_argument, NULL, 'R' },
                { "force",         no_argument,       NULL, 'F' },
                { "json",          no_argument,       NULL, 'J' },
                {}
        };
        const Verb *v = verb_find("update");
        _cleanup_(config_freep) Config *config = NULL;
        int i = parse_verb_options(v, argc, argv, options, on_update_option), r;

        if (i <= 0 || no_arguments(v, argc, argv, i) < 0)
                return i == 0 ? EXIT_SUCCESS : EXIT_USAGE;
        if (arg_update.check && (arg_update.download_only || arg_update.no_reboot)) {
                fprintf(stderr, "healthdog %s: --check changes nothing: it does not go with --download-only or --no-reboot\n",
                        v->name);
                return EXIT_USAGE;
        }
        /* The trial would fail for a configuration that does not load, and the update with it. */
        r = load_config(&config);
        if (r < 0) {
                fprintf(stderr, "healthdog update: refusing to update while the configuration does not load: the "
                        "trial would fail for it (fix it first; healthdog config check)\n");
                return EXIT_FAILURE;
        }
        return update_run(config, &arg_update);
}

/* How often `arm` reads an environment whose lock another process holds, a second apart. */
#define ARM_ENV_BUSY_TRIES 5
/* How long `arm` waits for a watchdog device whose driver is still being loaded. */
#define ARM_DEVICE_WAIT_USEC (10 * USEC_PER_SEC)
#define ARM_DEVICE_POLL_USEC (100 * USEC_PER_MSEC)

/* The phase of this boot, as the daemon will decide it (assess_offline()), with a held lock
 * waited for a little. Returns 0 with a new Assessment, or -errno. */
static int arm_assess(const Config *config, Assessment **ret) {
        char boot_id[SD_ID128_STRING_MAX] = "";
        sd_id128_t id;
        int r;

        if (sd_id128_get_boot(&id) >= 0)
                sd_id128_to_string(id, boot_id);
        for (unsigned i = 1;; i++) {
                r = assess_offline(config, boot_id, ret);
                if (r < 0 || (*ret)->env_error != -EBUSY || i == ARM_ENV_BUSY_TRIES)
                        return r;
                *ret = assess_free(*ret);
                (void) sleep(1);
        }
}

static int verb_arm(int argc, char *argv[]) {
        _cleanup_(config_freep) Config *config = NULL, *settings = NULL;
        _cleanup_(assess_freep) Assessment *a = NULL;
        _cleanup_(freep) char *config_error = NULL, *path = NULL;
        char t[DURATION_MAX], took[DURATION_MAX];
        Watchdog *w = NULL;
        usec_t deadline;
        bool settings_only;
        size_t n_errors;
        int r = parse_no_arguments(verb_find("arm"), argc, argv);

        if (r <= 0)
                return options_exit(r);
        /* What the daemon will run with: a configuration the update broke still arms the trial. */
        r = load_config_fail_closed(&config, &settings, &config_error, &n_errors, &settings_only);
        if (r < 0) {
                log_error_errno(r, "Failed to load the configuration: %m");
                return EXIT_FAILURE;
        }
        if (!bootloader_get(&config->bootloader) || streq(config->watchdog.device, "none")) {
                log_info("No bootloader or no watchdog configured: nothing to arm");
                return EXIT_SUCCESS;
        }
        r = arm_assess(config, &a);
        if (r < 0) {
                log_error_errno(r, "Failed to assess this boot: %m");
                return EXIT_FAILURE;
        }
        if (a->phase != BOOT_PHASE_TRIAL) {
                /* Opening the device starts it: a steady or rolled-back boot is never put at risk. */
                log_info("A %s boot (%s): the watchdog is left alone", boot_phase_to_string(a->phase), a->why);
                return EXIT_SUCCESS;
        }
        deadline = config->assessment.boot_deadline;
        if (deadline == 0) {
                log_notice("A trial boot, but boot-deadline = 0: not arming the watchdog");
                return EXIT_SUCCESS;
        }
        /* A value the configuration refused (it runs on what the files still say). */
        if (deadline < BOOT_DEADLINE_MIN)
                deadline = BOOT_DEADLINE_DEFAULT;

        for (usec_t waited = 0;; waited += ARM_DEVICE_POLL_USEC) {
                r = wdt_open(config->watchdog.device, deadline, 0, &w, &path);
                if (r != -ENOENT || waited >= ARM_DEVICE_WAIT_USEC)
                        break;
                free(path);
                path = NULL;
                (void) usleep(ARM_DEVICE_POLL_USEC);
        }
        if (r == -EBUSY) {
                /* Only one process may hold the device: the daemon took it over already. */
                log_notice("'%s' is already open: healthdog supervises this trial boot", path);
                return EXIT_SUCCESS;
        }
        if (r < 0) {
                log_error_errno(r, "Failed to arm '%s' for this trial boot: %m", path);
                return EXIT_FAILURE;
        }
        format_duration(t, sizeof(t), deadline);
        if (w->unsupported & WDT_NO_SETTIMEOUT)
                snprintf(took, sizeof(took), "its own timeout");
        else
                format_duration(took, sizeof(took), w->timeout);
        log_struct(LOG_NOTICE, LOG_FIELDS({ "MESSAGE_ID", MESSAGE_WATCHDOG_ARMED }, { "HEALTHDOG_DEADLINE", t }),
                   "Trial boot: armed '%s' with %s (boot-deadline = %s) for healthdog to take it over; unless it "
                   "does, the watchdog resets this system and U-Boot counts the boot%s%s",
                   w->path, took, t, config_error ? "; the configuration does not load: " : "",
                   config_error ?: "");
        /* Closed without the magic 'V': the device keeps running until the daemon opens it. */
        w = wdt_free(w);
        return EXIT_SUCCESS;
}

static const Verb verbs[] = {
        { "run",     "",            "Supervise: run the checks and feed the watchdog while they pass (foreground).",
          verb_run },
        { "check",   "[NAME...]",   "Run the checks (or the named ones) once and print a table.\n"
                                    "Exits 0 when every required check passed, 1 otherwise.", verb_check },
        { "config",  "check|dump",  "Validate the configuration (check) or print it with every default filled in (dump).\n"
                                    "Every error is printed as FILE:LINE: message; exits 1 on errors.", verb_config },
        { "version", "",            "Print the version.", verb_version },
        { "update",  "[--check|--download-only] [--no-reboot] [--ref REMOTE:REF] [--force] [--json]",
          "Update this device: pull the new commit, arm the trial, deploy it, reboot.\n"
          "From [update] refspec= or the booted deployment's origin, through healthdog-ostree. In the order\n"
          "that survives a power cut: the trial (upgrade_available=1, bootcount=0, bootlimit=) is armed\n"
          "before the new deployment becomes the default. Refused while a trial or a rollback is not\n"
          "decided, and for a commit that failed its trial before (the quarantine).\n"
          "Exits 0 when done (or up to date; --check: an update is available), 1 when refused or failed,\n"
          "3 (--check) when up to date, 4 when an update is under way (armed, a trial or a rollback not\n"
          "decided, another healthdog update running), 75 when the remote could not be reached: try\n"
          "later. Each step is shown by healthdog status while it runs.",
          verb_update,
          "      --check        only say whether an update is available\n"
          "      --download-only\n"
          "                     pull it, deploy nothing\n"
          "      --no-reboot    arm and deploy, but leave the reboot for later\n"
          "      --ref REMOTE:REF\n"
          "                     update from there (default: [update] refspec=, else the origin)\n"
          "      --force        also a commit that failed its trial before\n"
          "      --json         print the outcome as one JSON object\n" },
        { "arm",     "",
          "Start the watchdog on an unconfirmed trial boot, for the daemon to take over.\n"
          "Its timeout is boot-deadline=: a trial that never gets as far as the daemon resets, and\n"
          "U-Boot counts it. Any other boot is left alone. Run at the earliest point of the boot\n"
          "(healthdog-arm.service, or an initramfs). Exits 0 when armed or not a trial, 1 on failure.",
          verb_arm },
        { "status",  "[--json[=pretty]] [--no-deployments]",
          "Show the boot phase and verdict, the watchdog, a maintenance hold and every check.\n"
          "Also the boot environment, an update under way (healthdog update), the OSTree deployments\n"
          "(from healthdog-ostree status, run here for at most 5 s) and the last verdicts. Asks the\n"
          "running daemon; when none runs, the boot part is computed from the boot environment and\n"
          "the state directory, read only. Exits 0 once shown, also when the deployments cannot be\n"
          "listed (the reason is shown instead).",
          verb_status,
          "      --json[=MODE]  print the status document (README, \"Status and control\") instead:\n"
          "                     one line (MODE short, the default) or indented (MODE pretty)\n"
          "      --no-deployments\n"
          "                     leave out the deployments (do not run healthdog-ostree): for\n"
          "                     scripts that poll the status\n" },
        { "mark-good", "",
          "Confirm this trial boot now, as the checks would after confirm-after.\n"
          "Exits 0 when confirmed, 1 when refused (not a trial boot, already confirmed, the daemon\n"
          "is not running) with the reason on stderr.", verb_mark_good },
        { "reload",  "",
          "Have the running daemon load its configuration again.\n"
          "Like SIGHUP, but waits for the outcome: exits 0 when the new configuration runs, 1 when it\n"
          "was rejected (the running one is kept) with the first error on stderr. The unit's ExecReload.",
          verb_reload },
        { "hold",    "--for DURATION|--cancel",
          "Feed the watchdog whatever the checks say, for DURATION, or end that hold.\n"
          "For maintenance that would make required checks fail. Refused during an unconfirmed trial.\n"
          "A hold survives a restart of the daemon, not a reboot.\n"
          "Exits 0 when done, 1 when refused, with the reason on stderr.",
          verb_hold,
          "      --for DURATION\n"
          "                     how long: 30min, 2h, 1h 30min\n"
          "      --cancel       end the hold now\n" },
        {}
};

static const struct option shared_options[] = {
        { "config", required_argument, NULL, 'c' },
        {}
};

static const Program program = {
        .name = "healthdog",
        .usage_prefix = "",
        .summary = "Feeds the hardware watchdog only while the configured health checks pass.",
        .verbs = verbs,
        .shared = shared_options,
        .shared_short = "c:",
        .shared_help = "  -c, --config FILE     main config file (default " HEALTHDOG_CONFIG_FILE ";\n"
                       "                        drop-ins in conf.d/ beside it)\n",
        .on_shared = on_shared_option,
        .footer = "",
        .column = 28,
};

int main(int argc, char *argv[]) {
        const Verb *v;

        log_setup();

        if (argc < 2) {
                verbs_help(&program, stderr);
                return EXIT_USAGE;
        }
        if (streq(argv[1], "--help") || streq(argv[1], "-h") || streq(argv[1], "help")) {
                verbs_help(&program, stdout);
                return EXIT_SUCCESS;
        }
        if (streq(argv[1], "--version"))
                return verb_version(1, argv);

        v = verb_find(argv[1]);
        if (!v) {
                fprintf(stderr, "healthdog: unknown verb '%s'\n\n", argv[1]);
                verbs_help(&program, stderr);
                return EXIT_USAGE;
        }
        return v->run(argc - 1, argv + 1);
}
