/* SPDX-License-Identifier: MIT */
#include <stdarg.h>

#include "assess.h"
#include "bootenv.h"
#include "deploy-note.h"
#include "helper.h"
#include "hooks.h"
#include "json.h"
#include "log.h"
#include "ostree-exit.h"
#include "reset-reason.h"
#include "verdicts.h"

enum { VAR_UPGRADE, VAR_BOOTCOUNT, VAR_BOOTLIMIT, VAR_ROLLBACK, _VAR_MAX };

static const char *state_dir(const Assessment *a) {
        return a->config->supervisor.state_directory;
}

static const char *fw_env_config(const Assessment *a) {
        return a->config->bootloader.fw_env_config;
}

static void assess_var_names(const Assessment *a, const char *names[static _VAR_MAX]) {
        const BootloaderConfig *b = &a->config->bootloader;

        names[VAR_UPGRADE] = b->upgrade_available_var;
        names[VAR_BOOTCOUNT] = b->bootcount_var;
        names[VAR_BOOTLIMIT] = b->bootlimit_var;
        names[VAR_ROLLBACK] = b->rollback_var;
}

static void assess_notify(Assessment *a) {
        if (a->changed)
                a->changed(a, a->userdata);
}

static int json_field(char **buf, size_t *len, size_t *cap, const char *key, const char *value, bool comma) {
        int r = buf_appendf(buf, len, cap, "%s\"%s\":", comma ? "," : "", key);

        if (r < 0)
                return r;
        return value ? json_append_string(buf, len, cap, value) : buf_appendf(buf, len, cap, "null");
}

char *assess_record_json(const Assessment *a) {
        const char *names[_VAR_MAX];
        size_t len = 0, cap = 0;
        char *json = NULL;
        int r;

        assess_var_names(a, names);

        r = buf_appendf(&json, &len, &cap, "{");
        if (r >= 0)
                r = json_field(&json, &len, &cap, "boot_id", a->boot_id, false);
        if (r >= 0)
                r = buf_appendf(&json, &len, &cap, ",\"started_usec\":%llu", (unsigned long long) a->started_realtime);
        if (r >= 0)
                r = json_field(&json, &len, &cap, "phase", boot_phase_to_string(a->phase), true);
        if (r >= 0)
                r = json_field(&json, &len, &cap, "phase_reason", a->why, true);
        if (r >= 0)
                r = buf_appendf(&json, &len, &cap, ",\"env\":{");
        for (int i = 0; r >= 0 && i < _VAR_MAX; i++)
                r = json_field(&json, &len, &cap, names[i], a->env[i], i > 0);
        if (r >= 0)
                r = buf_appendf(&json, &len, &cap, "}");
        if (r >= 0)
                r = json_field(&json, &len, &cap, "env_error", a->env_error < 0 ? strerror(-a->env_error) : NULL, true);
        if (r >= 0)
                r = buf_appendf(&json, &len, &cap, ",\"watchdog_reset\":%s,\"previous_reset\":%s",
                                a->watchdog_reset ? "true" : "false", a->previous_reset ?: "null");
        if (r >= 0)
                r = json_field(&json, &len, &cap, "verdict", a->verdict, true);
        if (r >= 0)
                r = json_field(&json, &len, &cap, "verdict_reason", a->verdict_reason, true);
        if (r >= 0)
                r = buf_appendf(&json, &len, &cap, ",\"confirmed_usec\":%llu}", (unsigned long long) a->confirmed_at);
        if (r < 0)
                return (free(json), NULL);
        return json;
}

static void assess_set_verdict(Assessment *a, const char *verdict, const char *fmt, ...) _printf_(3, 4);
static void assess_set_verdict(Assessment *a, const char *verdict, const char *fmt, ...) {
        _cleanup_(freep) char *json = NULL;
        bool first = !a->recorded;
        va_list ap;
        int r;

        snprintf(a->verdict, sizeof(a->verdict), "%s", verdict);
        va_start(ap, fmt);
        vsnprintf(a->verdict_reason, sizeof(a->verdict_reason), fmt, ap);
        va_end(ap);

        json = assess_record_json(a);
        if (!json) {
                log_error_errno(ENOMEM, "Failed to record the verdict: %m");
                return;
        }
        r = verdicts_append(state_dir(a), json, a->recorded);
        if (r < 0) {
                log_error_errno(r, "Failed to record the verdict in '%s': %m", state_dir(a));
                return;
        }
        a->recorded = true;
        /* An earlier boot's reset reason is in this boot's record now: it counts once. */
        if (first && a->previous_reset) {
                r = reset_reason_remove(state_dir(a));
                if (r < 0)
                        log_warning_errno(r, "Failed to remove '%s/%s': %m, ignoring", state_dir(a), RESET_REASON_FILE);
        }
}

/* ---- hooks */

static void on_hook(const char *name, HookResult result, const char *how, const char *output, void *userdata) {
        if (result == HOOK_SKIPPED)
                log_info("Hook %s skipped: %s", name, how);
        else
                log_full_errno(result == HOOK_SUCCESS ? LOG_INFO : LOG_WARNING, 0, "Hook %s %s%s%s", name, how,
                               output[0] ? ": " : "", output);
}

static void on_hooks_done(unsigned ran, unsigned failed, void *userdata) {
        Assessment *a = userdata;

        a->hooks = NULL;
        if (ran > 0)
                log_full_errno(failed ? LOG_WARNING : LOG_INFO, 0, "%u hooks ran, %u failed", ran, failed);
}

/* Hooks run one set at a time; a new set (red after green, say) replaces one still running. */
static void assess_run_hooks(Assessment *a, const char *set, const char *verdict, const char *check,
                             const char *detail) {
        _cleanup_(strv_freep) char **env = NULL;
        _cleanup_(freep) char *dir = NULL;
        const struct {
                const char *key, *value;
        } vars[] = {
                { "HEALTHDOG_VERDICT", verdict },
                { "HEALTHDOG_PHASE", boot_phase_to_string(a->phase) },
                { "HEALTHDOG_CHECK", check },
                { "HEALTHDOG_DETAIL", detail },
                { "HEALTHDOG_BOOT_ID", a->boot_id },
                { "HEALTHDOG_UPGRADE_AVAILABLE", a->env[VAR_UPGRADE] },
                { "HEALTHDOG_BOOTCOUNT", a->env[VAR_BOOTCOUNT] },
                { "HEALTHDOG_BOOTLIMIT", a->env[VAR_BOOTLIMIT] },
                { "HEALTHDOG_PREVIOUS_RESET", a->previous_reset },
        };
        int r;

        for (size_t i = 0; i < ELEMENTSOF(vars); i++) {
                char *e;
                if (!vars[i].value)
                        continue;
                if (asprintf(&e, "%s=%s", vars[i].key, vars[i].value) < 0 || strv_consume(&env, e) < 0) {
                        log_error_errno(ENOMEM, "Failed to run the %s hooks: %m", set);
                        return;
                }
        }
        if (path_join(a->config->assessment.hooks_directory, set, &dir) < 0) {
                log_error_errno(ENOMEM, "Failed to run the %s hooks: %m", set);
                return;
        }

        hooks_cancel(a->hooks);
        a->hooks = NULL;
        r = hooks_run(a->event, dir, a->config->assessment.hook_timeout, env, on_hook, on_hooks_done, a, &a->hooks);
        if (r < 0)
                log_error_errno(r, "Failed to run the hooks in '%s': %m", dir);
}

/* ---- the boot environment */

/* Sets the variables to clear in one store. Returns the result of bootenv_write(). */
static int assess_clear_env(Assessment *a) {
        const char *names[_VAR_MAX], *values[_VAR_MAX];
        size_t n = 0;

        assess_var_names(a, names);
        values[0] = "0";
        values[1] = "0";
        n = 2;
        /* The rollback flag only when it is there: a steady device writes nothing it need not. */
        if (a->env[VAR_ROLLBACK]) {
                names[2] = names[VAR_ROLLBACK];
                values[2] = "0";
                n = 3;
        }
        return bootenv_write(fw_env_config(a), names, values, n);
}

/* Another process (an OTA client, fw_setenv) holding the environment's lock at start is waited
 * for this often, this long, before the boot is taken for one whose environment cannot be read. */
#define ENV_BUSY_RETRY_USEC (5 * USEC_PER_SEC)
#define ENV_BUSY_RETRIES 12

/* Reads the variables. Returns true when the read is to be tried again later (lock held by another
 * process); log says whether to log what went wrong. */
static bool assess_read_env(Assessment *a, bool log) {
        const char *names[_VAR_MAX];
        char why[BOOTENV_STRERROR_MAX];

        assess_var_names(a, names);
        a->env_error = bootenv_read(fw_env_config(a), names, _VAR_MAX, a->env);
        if (!log)
                return false;
        if (a->env_error == -EBUSY && a->env_busy_retries < ENV_BUSY_RETRIES) {
                a->env_busy_retries++;
                log_warning("Failed to read the boot environment through '%s': %s; reading it again in 5s "
                            "(attempt %u of %u), feeding meanwhile", fw_env_config(a),
                            bootenv_strerror(fw_env_config(a), a->env_error, why, sizeof(why)), a->env_busy_retries,
                            ENV_BUSY_RETRIES);
                return true;
        }
        if (a->env_error < 0)
                log_struct(LOG_WARNING, LOG_FIELDS({ "MESSAGE_ID", MESSAGE_BOOT_ENV_UNUSABLE }),
                           "Failed to read the boot environment through '%s': %s; assessing nothing and writing "
                           "nothing to it this boot", fw_env_config(a),
                           bootenv_strerror(fw_env_config(a), a->env_error, why, sizeof(why)));
        return false;
}

/* ---- the OSTree deployments, through the helper */

static void assess_note(Assessment *a, const char *verb, const char *checksum) {
        int r = verb ? deploy_note_save(state_dir(a), verb, checksum) : deploy_note_clear(state_dir(a));

        if (r < 0)
                log_warning_errno(r, "Failed to note the pending OSTree work in '%s/%s': %m, ignoring", state_dir(a),
                                  DEPLOY_NOTE_FILE);
}

static void assess_helper_verb(Assessment *a, const char *what, char *const *args, helper_done_t done);

/* A failed or killed helper is retried next boot; a definite answer ends the matter. */
static void assess_helper_settled(Assessment *a, const char *what, int status, const char *output) {
        bool final = status == OSTREE_EXIT_OK || status == OSTREE_EXIT_NOT_OSTREE || status == OSTREE_EXIT_UNKNOWN ||
                     status == OSTREE_EXIT_REFUSED_BOOTED || status == OSTREE_EXIT_REFUSED_STAGED ||
                     status == OSTREE_EXIT_REFUSED_PINNED;

        if (status == OSTREE_EXIT_OK)
                log_notice("OSTree %s done%s%s", what, output[0] ? ": " : "", output);
        else
                log_full_errno(status == OSTREE_EXIT_NOT_OSTREE ? LOG_INFO : LOG_WARNING, 0,
                               "OSTree %s: %s%s%s%s", what, helper_status_to_string(status), output[0] ? " (" : "",
                               output, output[0] ? ")" : "");
        if (final)
                assess_note(a, NULL, NULL);
        else
                log_warning("OSTree %s will be tried again on the next boot", what);
}

static void on_removed(int status, const char *output, void *userdata) {
        Assessment *a = userdata;

        a->helper = NULL;
        assess_helper_settled(a, "remove-failed", status, output);
}

static void on_identified(int status, const char *output, void *userdata) {
        Assessment *a = userdata;
        char checksum[80] = "";

        a->helper = NULL;
        if (status == OSTREE_EXIT_OK)
                (void) sscanf(output, "%79[0-9a-f.]", checksum);
        if (status != OSTREE_EXIT_OK || !checksum[0]) {
                assess_helper_settled(a, "remove-failed", status,
                                      status == OSTREE_EXIT_OK ? "no failed deployment" : output);
                return;
        }
        log_notice("Removing the failed deployment %s so that a plain reboot does not boot it again", checksum);
        assess_helper_verb(a, "remove-failed",
                           (char *[]) { (char *) "remove-failed", (char *) "--checksum", checksum, NULL }, on_removed);
}

static void on_pruned(int status, const char *output, void *userdata) {
        Assessment *a = userdata;

        a->helper = NULL;
        assess_helper_settled(a, "prune", status, output);
}

static void assess_helper_verb(Assessment *a, const char *what, char *const *args, helper_done_t done) {
        int r;

        helper_cancel(a->helper);
        a->helper = NULL;
        r = helper_run(a->event, &a->config->ostree, state_dir(a), args, done, a, &a->helper);
        if (r < 0)
                log_warning_errno(r, "Failed to run '%s' for the OSTree %s: %m; trying again on the next boot",
                                  a->config->ostree.helper, what);
}

/* Starts the OSTree work of this boot ("remove-failed" or "prune"), noting it as pending first. */
static void assess_deploy(Assessment *a, const char *what) {
        char keep[16];

        if (!helper_enabled(&a->config->ostree))
                return;
        assess_note(a, what, NULL);
        if (streq(what, "prune")) {
                snprintf(keep, sizeof(keep), "%u", a->config->ostree.keep_rollback);
                assess_helper_verb(a, what, (char *[]) { (char *) "prune", (char *) "--keep-rollback", keep, NULL },
                                   on_pruned);
        } else
                assess_helper_verb(a, what, (char *[]) { (char *) "identify-failed", NULL }, on_identified);
}

/* What an earlier boot could not finish. */
static void assess_deploy_retry(Assessment *a) {
        DeployNote note;

        if (deploy_note_load(state_dir(a), &note) <= 0)
                return;
        log_info("Retrying the OSTree %s an earlier boot could not finish", note.verb);
        assess_deploy(a, note.verb);
}

/* ---- confirming a trial */

static void assess_confirm(Assessment *a, const char *how);

static int on_confirm_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Assessment *a = userdata;
        char t[DURATION_MAX], how[64];

        snprintf(how, sizeof(how), "required checks healthy for %s",
                 format_duration(t, sizeof(t), a->config->assessment.confirm_after));
        assess_confirm(a, how);
        return 0;
}

static void assess_confirm(Assessment *a, const char *how) {
        int r;

        a->confirm_timer = sd_event_source_disable_unref(a->confirm_timer);
        r = assess_clear_env(a);
        if (r < 0) {
                /* Unconfirmed is safe: the boot counts again on the next reset. Try again later, soon
                 * when another process merely held the environment lock. */
                usec_t retry = r == -EBUSY ? 5 * USEC_PER_SEC : USEC_PER_MINUTE;
                char t[DURATION_MAX], why[BOOTENV_STRERROR_MAX];

                log_error("Failed to confirm the boot: cannot write the boot environment through '%s': %s; "
                          "retrying in %s", fw_env_config(a), bootenv_strerror(fw_env_config(a), r, why, sizeof(why)),
                          format_duration(t, sizeof(t), retry));
                if (sd_event_add_time_relative(a->event, &a->confirm_timer, CLOCK_MONOTONIC, retry, USEC_PER_SEC,
                                               on_confirm_timer, a) < 0)
                        log_error("Failed to schedule the retry: the trial stays unconfirmed");
                return;
        }

        a->confirmed = true;
        a->confirmed_at = now(CLOCK_REALTIME);
        a->trial_timer = sd_event_source_disable_unref(a->trial_timer);
        log_struct(LOG_NOTICE, LOG_FIELDS({ "MESSAGE_ID", MESSAGE_BOOT_CONFIRMED }),
                   "Boot confirmed (%s): cleared %s and %s", how, a->config->bootloader.upgrade_available_var,
                   a->config->bootloader.bootcount_var);
        assess_set_verdict(a, "confirmed", "%s", how);
        assess_deploy(a, "prune");
        assess_run_hooks(a, "green.d", "confirmed", NULL, NULL);
        assess_notify(a);
}

int assess_mark_good(Assessment *a) {
        if (a->phase != BOOT_PHASE_TRIAL)
                return -EPERM;
        if (a->confirmed)
                return -EALREADY;
        /* The trial failed and the reset is on its way: confirming now would make U-Boot keep
         * the software that just failed. */
        if (a->starved)
                return -ESTALE;
        assess_confirm(a, "healthdog mark-good");
        return a->confirmed ? 0 : -EIO;
}

void assess_checks(Assessment *a, bool all_pass) {
        char t[DURATION_MAX];
        int r;

        a->all_pass = all_pass;
        if (a->phase != BOOT_PHASE_TRIAL || a->confirmed || a->starved || a->env_error < 0)
                return;

        /* Environmental checks count here: confirming needs proof, and they have not given it. */
        if (!all_pass) {
                if (a->healthy_since)
                        log_info("Confirmation postponed: a required check failed");
                a->healthy_since = 0;
                a->confirm_timer = sd_event_source_disable_unref(a->confirm_timer);
                return;
        }
        if (a->healthy_since)
                return;

        a->healthy_since = now(CLOCK_MONOTONIC);
        r = sd_event_add_time_relative(a->event, &a->confirm_timer, CLOCK_MONOTONIC,
                                       a->config->assessment.confirm_after, USEC_PER_MSEC * 10, on_confirm_timer, a);
        if (r < 0)
                log_error_errno(r, "Failed to arm the confirmation timer: %m");
        else
                log_info("Every required check passes: confirming this boot in %s unless one fails",
                         format_duration(t, sizeof(t), a->config->assessment.confirm_after));
}

static int on_trial_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        Assessment *a = userdata;
        char t[DURATION_MAX];

        a->trial_timer = sd_event_source_disable_unref(a->trial_timer);
        format_duration(t, sizeof(t), a->config->assessment.trial_timeout);
        switch (a->config->assessment.trial_timeout_action) {
        case TRIAL_TIMEOUT_ACCEPT:
                log_warning("The trial was not confirmed within %s: accepting it (trial-timeout-action = accept)", t);
                assess_confirm(a, "trial-timeout-action = accept");
                return 0;
        case TRIAL_TIMEOUT_REJECT:
                log_warning("The trial was not confirmed within %s: rejecting it (trial-timeout-action = reject)", t);
                break;
        default:
                log_warning("The trial was not confirmed within %s: feeding on, unconfirmed (trial-timeout-action = "
                            "wait); a later reset counts towards bootlimit", t);
                assess_set_verdict(a, "pending", "not confirmed within %s; waiting", t);
                break;
        }
        a->trial_expired = true;
        assess_notify(a);
        return 0;
}

/* ---- deciding the phase */

/* When an update is pending, which deployment booted tells a rollback apart even where the boot
 * script did not set the rollback flag. Asked only then: a steady boot starts nothing. */
static BootDeployment assess_booted_deployment(Assessment *a) {
        int r;

        if (a->env_error < 0 || !helper_enabled(&a->config->ostree) ||
            (!boot_flag_set(a->env[VAR_UPGRADE]) && !boot_flag_set(a->env[VAR_ROLLBACK])))
                return BOOT_DEPLOYMENT_UNKNOWN;

        r = helper_query_booted(&a->config->ostree, state_dir(a), 5 * USEC_PER_SEC);
        if (r < 0) {
                log_full_errno(r == -ENOMEDIUM ? LOG_INFO : LOG_WARNING, r,
                               "Cannot tell which OSTree deployment is booted (%m): deciding from the environment alone");
                return BOOT_DEPLOYMENT_UNKNOWN;
        }
        log_info("The %s OSTree deployment is booted", r > 0 ? "default" : "previous (not the default)");
        return r > 0 ? BOOT_DEPLOYMENT_DEFAULT : BOOT_DEPLOYMENT_PREVIOUS;
}

/* The phase from what was read, the same way for the daemon and for `healthdog status`. */
static void assess_decide_phase(Assessment *a, BootDeployment deployment) {
        if (a->config->bootloader.type == BOOTLOADER_NONE) {
                a->phase = BOOT_PHASE_STEADY;
                a->why = "no bootloader configured ([bootloader] type = none)";
                return;
        }
        a->phase = boot_decide(&(BootInputs) {
                        .env_error = a->env_error,
                        .upgrade_available = a->env[VAR_UPGRADE],
                        .bootcount = a->env[VAR_BOOTCOUNT],
                        .bootlimit = a->env[VAR_BOOTLIMIT],
                        .rollback = a->env[VAR_ROLLBACK],
                        .deployment = deployment,
                }, &a->why);
}

static void assess_rolled_back(Assessment *a) {
        const BootloaderConfig *b = &a->config->bootloader;
        int r;

        log_struct(LOG_CRIT,
                   LOG_FIELDS({ "MESSAGE_ID", MESSAGE_BOOT_ROLLED_BACK },
                              { "HEALTHDOG_PREVIOUS_RESET", strempty(a->previous_reset) }),
                   "U-Boot rolled back (%s). What made the new software fail: %s", a->why,
                   a->previous_reset ?: "not recorded (it reset without a verdict from healthdog)");

        r = assess_clear_env(a);
        if (r < 0)
                log_error_errno(r, "Failed to clear the rollback state in the boot environment through '%s': %m",
                                fw_env_config(a));
        else if (a->env[VAR_ROLLBACK])
                log_info("Cleared %s, %s and %s: the next reboot boots this software without counting",
                         b->upgrade_available_var, b->bootcount_var, b->rollback_var);
        else
                log_info("Cleared %s and %s: the next reboot boots this software without counting",
                         b->upgrade_available_var, b->bootcount_var);

        /* The failed deployment is still the default one: a plain reboot would try it again. */
        assess_deploy(a, "remove-failed");
        assess_set_verdict(a, "rolled-back", "%s", a->why);
        assess_run_hooks(a, "red.d", "rolled-back", NULL, a->previous_reset);
}

static void assess_begin(Assessment *a);

static int on_env_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        Assessment *a = userdata;

        a->env_retry_timer = sd_event_source_disable_unref(a->env_retry_timer);
        assess_begin(a);
        assess_notify(a);
        return 0;
}

/* Reads the environment, decides the phase and acts on it; or, while another process holds the
 * environment's lock, stays steady without a verdict and tries again shortly. */
static void assess_begin(Assessment *a) {
        const BootloaderConfig *b = &a->config->bootloader;
        int r;

        if (b->type != BOOTLOADER_NONE && assess_read_env(a, true)) {
                a->phase = BOOT_PHASE_STEADY;
                a->why = "the boot environment is locked by another process: reading it again shortly";
                r = sd_event_add_time_relative(a->event, &a->env_retry_timer, CLOCK_MONOTONIC, ENV_BUSY_RETRY_USEC,
                                               USEC_PER_SEC, on_env_retry, a);
                if (r >= 0)
                        return;
                log_error_errno(r, "Failed to arm the timer to read the boot environment again: %m");
                a->env_error = -EBUSY;
        }
        assess_decide_phase(a, b->type == BOOTLOADER_NONE ? BOOT_DEPLOYMENT_UNKNOWN : assess_booted_deployment(a));

        log_struct(LOG_NOTICE,
                   LOG_FIELDS({ "MESSAGE_ID", MESSAGE_BOOT_PHASE }, { "HEALTHDOG_PHASE", boot_phase_to_string(a->phase) }),
                   "Boot phase: %s (%s); %s=%s %s=%s %s=%s %s=%s", boot_phase_to_string(a->phase), a->why,
                   b->upgrade_available_var, a->env[VAR_UPGRADE] ?: "(unset)", b->bootcount_var,
                   a->env[VAR_BOOTCOUNT] ?: "(unset)", b->bootlimit_var, a->env[VAR_BOOTLIMIT] ?: "(unset)",
                   b->rollback_var, a->env[VAR_ROLLBACK] ?: "(unset)");

        switch (a->phase) {
        case BOOT_PHASE_ROLLED_BACK:
                assess_rolled_back(a);
                break;
        case BOOT_PHASE_TRIAL:
                if (a->starved)
                        break; /* a restart after the trial failed: its verdict stands */
                assess_set_verdict(a, "pending", "on probation");
                if (a->config->assessment.trial_timeout > 0) {
                        r = sd_event_add_time_relative(a->event, &a->trial_timer, CLOCK_MONOTONIC,
                                                       a->config->assessment.trial_timeout, USEC_PER_SEC,
                                                       on_trial_timeout, a);
                        if (r < 0)
                                log_error_errno(r, "Failed to arm the trial timeout: %m");
                }
                /* The results so far start the countdown (the phase may be decided late, after the
                 * environment's lock, when they are all in). */
                assess_checks(a, a->all_pass);
                break;
        case BOOT_PHASE_STEADY:
                assess_deploy_retry(a);
                if (!a->recorded)
                        assess_set_verdict(a, "steady", "%s", a->why);
                else if (!a->starved)
                        snprintf(a->verdict, sizeof(a->verdict), "steady");
                break;
        }
}

/* A restart within the same boot updates this boot's record instead of adding one, and keeps
 * what the record says of the previous reset. */
static void assess_load_record(Assessment *a) {
        _cleanup_(strv_freep) char **last = NULL;
        _cleanup_(json_freep) JsonValue *v = NULL;
        const JsonValue *prev;

        if (verdicts_read(state_dir(a), 1, &last) <= 0 || json_parse(last[0], &v) < 0 ||
            !streq_ptr(json_string(json_get(v, "boot_id", NULL)), a->boot_id))
                return;
        a->recorded = true;
        prev = json_get(v, "previous_reset", NULL);
        if (!a->previous_reset && prev && prev->type == JSON_OBJECT)
                (void) json_format(prev, false, &a->previous_reset);
        snprintf(a->verdict, sizeof(a->verdict), "%s", strempty(json_string(json_get(v, "verdict", NULL))));
        snprintf(a->verdict_reason, sizeof(a->verdict_reason), "%s",
                 strempty(json_string(json_get(v, "verdict_reason", NULL))));
}

void assess_start(Assessment *a, bool watchdog_reset, char *previous_reset, bool reset_stands) {
        a->watchdog_reset = watchdog_reset;
        a->previous_reset = previous_reset;
        a->starved = reset_stands;
        assess_load_record(a);
        assess_begin(a);
}

/* ---- what the owner decided */

void assess_starving(Assessment *a, const char *reason, const char *check, const char *detail) {
        bool trial = a->phase == BOOT_PHASE_TRIAL && !a->confirmed;
        const char *verdict = trial ? "rejected" : "reset";

        a->starved = true;
        a->confirm_timer = sd_event_source_disable_unref(a->confirm_timer);
        a->trial_timer = sd_event_source_disable_unref(a->trial_timer);
        if (check)
                assess_set_verdict(a, verdict, "%s: check %s: %s", reason, check, detail);
        else
                assess_set_verdict(a, verdict, "%s: %s", reason, detail);
        assess_run_hooks(a, "red.d", verdict, check, detail);
}

void assess_degraded(Assessment *a, const char *why) {
        if (a->degraded)
                return;
        a->degraded = true;
        assess_set_verdict(a, "degraded", "%s", why);
}

void assess_recovered(Assessment *a) {
        if (!a->degraded)
                return;
        a->degraded = false;
        log_notice("Every required check is healthy again: no longer degraded");
        assess_set_verdict(a, "steady", "recovered");
}

/* ---- lifetime */

int assess_new(Assessment **ret, sd_event *event, const Config *config, const char *boot_id,
               usec_t started_realtime, assess_changed_t changed, void *userdata) {
        Assessment *a = calloc(1, sizeof(Assessment));

        if (!a)
                return -ENOMEM;
        a->event = event ? sd_event_ref(event) : NULL;
        a->config = config;
        snprintf(a->boot_id, sizeof(a->boot_id), "%s", boot_id);
        a->started_realtime = started_realtime;
        a->changed = changed;
        a->userdata = userdata;
        *ret = a;
        return 0;
}

void assess_set_config(Assessment *a, const Config *config) {
        a->config = config;
}

Assessment *assess_free(Assessment *a) {
        if (!a)
                return NULL;
        hooks_cancel(a->hooks);
        helper_cancel(a->helper);
        sd_event_source_disable_unref(a->confirm_timer);
        sd_event_source_disable_unref(a->trial_timer);
        sd_event_source_disable_unref(a->env_retry_timer);
        for (int i = 0; i < _VAR_MAX; i++)
                free(a->env[i]);
        free(a->previous_reset);
        sd_event_unref(a->event);
        free(a);
        return NULL;
}

int assess_offline(const Config *config, const char *boot_id, Assessment **ret) {
        _cleanup_(assess_freep) Assessment *a = NULL;
        int r;

        r = assess_new(&a, NULL, config, boot_id, 0, NULL, NULL);
        if (r < 0)
                return r;
        if (config->bootloader.type != BOOTLOADER_NONE)
                (void) assess_read_env(a, false);
        assess_decide_phase(a, BOOT_DEPLOYMENT_UNKNOWN);
        snprintf(a->verdict, sizeof(a->verdict), "unknown");
        snprintf(a->verdict_reason, sizeof(a->verdict_reason), "healthdog is not running");
        /* A reason of an earlier boot that no daemon has taken yet. */
        r = reset_reason_read(state_dir(a), boot_id, &a->previous_reset);
        if (r != RESET_REASON_PREVIOUS_BOOT) {
                free(a->previous_reset);
                a->previous_reset = NULL;
        }
        *ret = TAKE_PTR(a);
        return 0;
}
