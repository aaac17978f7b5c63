/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <systemd/sd-id128.h>

#include "assess.h"
#include "bootenv.h"
#include "helper.h"
#include "ostree-exit.h"
#include "hooks.h"
#include "log.h"
#include "manager.h"
#include "state.h"

enum { VAR_UPGRADE, VAR_BOOTCOUNT, VAR_BOOTLIMIT, VAR_ROLLBACK, _VAR_MAX };

static void assess_var_names(const Manager *m, const char *names[static _VAR_MAX]) {
        const BootloaderConfig *b = &m->config->bootloader;

        names[VAR_UPGRADE] = b->upgrade_available_var;
        names[VAR_BOOTCOUNT] = b->bootcount_var;
        names[VAR_BOOTLIMIT] = b->bootlimit_var;
        names[VAR_ROLLBACK] = b->rollback_var;
}

static int json_field(char **buf, size_t *len, size_t *cap, const char *key, const char *value, bool comma) {
        int r = buf_appendf(buf, len, cap, "%s\"%s\":", comma ? "," : "", key);

        if (r < 0)
                return r;
        return value ? json_append_string(buf, len, cap, value) : buf_appendf(buf, len, cap, "null");
}

char *assess_record_json(const Manager *m) {
        const Assessment *a = &m->assess;
        const char *names[_VAR_MAX];
        char boot_id[SD_ID128_STRING_MAX] = "";
        size_t len = 0, cap = 0;
        char *json = NULL;
        sd_id128_t id;
        int r;

        if (sd_id128_get_boot(&id) >= 0)
                sd_id128_to_string(id, boot_id);
        assess_var_names(m, names);

        r = buf_appendf(&json, &len, &cap, "{");
        if (r >= 0)
                r = json_field(&json, &len, &cap, "boot_id", boot_id, false);
        if (r >= 0)
                r = buf_appendf(&json, &len, &cap, ",\"started_usec\":%llu",
                                (unsigned long long) m->started_realtime);
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

static void assess_set_verdict(Manager *m, const char *verdict, const char *fmt, ...) _printf_(3, 4);
static void assess_set_verdict(Manager *m, const char *verdict, const char *fmt, ...) {
        Assessment *a = &m->assess;
        _cleanup_(freep) char *json = NULL;
        va_list ap;
        int r;

        snprintf(a->verdict, sizeof(a->verdict), "%s", verdict);
        va_start(ap, fmt);
        vsnprintf(a->verdict_reason, sizeof(a->verdict_reason), fmt, ap);
        va_end(ap);

        json = assess_record_json(m);
        if (!json) {
                log_error_errno(ENOMEM, "Failed to record the verdict: %m");
                return;
        }
        r = state_append_verdict(m->config->supervisor.state_directory, json, a->recorded);
        if (r < 0)
                log_error_errno(r, "Failed to record the verdict in '%s': %m", m->config->supervisor.state_directory);
        else
                a->recorded = true;
}

static void on_hook(const char *name, HookResult result, const char *how, const char *output, void *userdata) {
        if (result == HOOK_SKIPPED)
                log_info("Hook %s skipped: %s", name, how);
        else
                log_full_errno(result == HOOK_SUCCESS ? LOG_INFO : LOG_WARNING, 0, "Hook %s %s%s%s", name, how,
                               output[0] ? ": " : "", output);
}

static void on_hooks_done(unsigned ran, unsigned failed, void *userdata) {
        Manager *m = userdata;

        m->assess.hooks = NULL;
        if (ran > 0)
                log_full_errno(failed ? LOG_WARNING : LOG_INFO, 0, "%u hooks ran, %u failed", ran, failed);
}

/* Hooks run one set at a time; a new set (red after green, say) replaces one still running. */
static void assess_run_hooks(Manager *m, const char *set, const char *verdict, const char *check, const char *detail) {
        Assessment *a = &m->assess;
        _cleanup_(strv_freep) char **env = NULL;
        _cleanup_(freep) char *dir = NULL;
        char boot_id[SD_ID128_STRING_MAX] = "";
        const struct {
                const char *key, *value;
        } vars[] = {
                { "HEALTHDOG_VERDICT", verdict },
                { "HEALTHDOG_PHASE", boot_phase_to_string(a->phase) },
                { "HEALTHDOG_CHECK", check },
                { "HEALTHDOG_DETAIL", detail },
                { "HEALTHDOG_BOOT_ID", boot_id },
                { "HEALTHDOG_UPGRADE_AVAILABLE", a->env[VAR_UPGRADE] },
                { "HEALTHDOG_BOOTCOUNT", a->env[VAR_BOOTCOUNT] },
                { "HEALTHDOG_BOOTLIMIT", a->env[VAR_BOOTLIMIT] },
                { "HEALTHDOG_PREVIOUS_RESET", a->previous_reset },
        };
        sd_id128_t id;
        int r;

        if (sd_id128_get_boot(&id) >= 0)
                sd_id128_to_string(id, boot_id);
        for (size_t i = 0; i < ELEMENTSOF(vars); i++) {
                char *e;
                if (!vars[i].value)
                        continue;
                if (asprintf(&e, "%s=%s", vars[i].key, vars[i].value) < 0 || strv_consume(&env, e) < 0) {
                        log_error_errno(ENOMEM, "Failed to run the %s hooks: %m", set);
                        return;
                }
        }
        if (asprintf(&dir, "%s/%s", m->config->assessment.hooks_directory, set) < 0) {
                log_error_errno(ENOMEM, "Failed to run the %s hooks: %m", set);
                return;
        }

        hooks_cancel(a->hooks);
        a->hooks = NULL;
        r = hooks_run(m->event, dir, m->config->assessment.hook_timeout, env, on_hook, on_hooks_done, m, &a->hooks);
        if (r < 0)
                log_error_errno(r, "Failed to run the hooks in '%s': %m", dir);
}

/* Sets the variables to clear in one store. Returns the result of bootenv_write(). */
static int assess_clear_env(Manager *m) {
        const char *names[_VAR_MAX], *values[_VAR_MAX];
        size_t n = 0;

        assess_var_names(m, names);
        values[0] = "0";
        values[1] = "0";
        n = 2;
        /* The rollback flag only when it is there: a steady device writes nothing it need not. */
        if (m->assess.env[VAR_ROLLBACK]) {
                names[2] = names[VAR_ROLLBACK];
                values[2] = "0";
                n = 3;
        }
        return bootenv_write(m->config->bootloader.fw_env_config, names, values, n);
}

/* Another process (an OTA client, fw_setenv) holding the environment's lock at start is waited
 * for this often, this long, before the boot is taken for one whose environment cannot be read. */
#define ENV_BUSY_RETRY_USEC (5 * USEC_PER_SEC)
#define ENV_BUSY_RETRIES 12

/* Returns true when the read is to be tried again later (lock held by another process). */
static bool assess_read_env(Manager *m) {
        Assessment *a = &m->assess;
        const char *names[_VAR_MAX];
        char why[BOOTENV_STRERROR_MAX];

        assess_var_names(m, names);
        a->env_error = bootenv_read(m->config->bootloader.fw_env_config, names, _VAR_MAX, a->env);
        if (a->env_error == -EBUSY && a->env_busy_retries < ENV_BUSY_RETRIES) {
                a->env_busy_retries++;
                log_warning("Failed to read the boot environment through '%s': %s; reading it again in 5s "
                            "(attempt %u of %u), feeding meanwhile",
                            m->config->bootloader.fw_env_config,
                            bootenv_strerror(m->config->bootloader.fw_env_config, a->env_error, why, sizeof(why)),
                            a->env_busy_retries, ENV_BUSY_RETRIES);
                return true;
        }
        if (a->env_error < 0)
                log_struct(LOG_WARNING, LOG_FIELDS({ "MESSAGE_ID", MESSAGE_BOOT_ENV_UNUSABLE }),
                           "Failed to read the boot environment through '%s': %s; assessing nothing and writing "
                           "nothing to it this boot",
                           m->config->bootloader.fw_env_config,
                           bootenv_strerror(m->config->bootloader.fw_env_config, a->env_error, why, sizeof(why)));
        return false;
}

/* What the OSTree helper still has to do survives a reset in the state directory, so that a
 * removal or prune that failed (sysroot locked, helper killed) is retried on the next boot. */
#define DEPLOY_PENDING_FILE "deploy-pending"

static void assess_deploy_pending(Manager *m, const char *what) {
        _cleanup_(freep) char *path = NULL;
        int r;

        if (asprintf(&path, "%s/%s", m->config->supervisor.state_directory, DEPLOY_PENDING_FILE) < 0)
                return;
        if (!what) {
                (void) unlink(path);
                return;
        }
        r = write_file_atomic(path, what, strlen(what), 0644);
        if (r < 0)
                log_warning_errno(r, "Failed to note the pending OSTree %s in '%s': %m, ignoring", what, path);
}

static void assess_deploy_verb(Manager *m, const char *what, char *const *args, helper_done_t done);

/* A failed or killed helper is retried next boot; a definite answer ends the matter. */
static void assess_deploy_settled(Manager *m, const char *what, int status, const char *output) {
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
                assess_deploy_pending(m, NULL);
        else
                log_warning("OSTree %s will be tried again on the next boot", what);
}

static void on_removed(int status, const char *output, void *userdata) {
        Manager *m = userdata;

        m->assess.deploy = NULL;
        assess_deploy_settled(m, "remove-failed", status, output);
}

static void on_identified(int status, const char *output, void *userdata) {
        Manager *m = userdata;
        char checksum[80] = "";

        m->assess.deploy = NULL;
        if (status == OSTREE_EXIT_OK)
                (void) sscanf(output, "%79[0-9a-f.]", checksum);
        if (status != OSTREE_EXIT_OK || !checksum[0]) {
                assess_deploy_settled(m, "remove-failed", status, status == OSTREE_EXIT_OK ? "no failed deployment" : output);
                return;
        }
        log_notice("Removing the failed deployment %s so that a plain reboot does not boot it again", checksum);
        assess_deploy_verb(m, "remove-failed", (char *[]) { (char *) "remove-failed", (char *) "--checksum", checksum, NULL },
                           on_removed);
}

static void on_pruned(int status, const char *output, void *userdata) {
        Manager *m = userdata;

        m->assess.deploy = NULL;
        assess_deploy_settled(m, "prune", status, output);
}

static void assess_deploy_verb(Manager *m, const char *what, char *const *args, helper_done_t done) {
        int r;

        helper_cancel(m->assess.deploy);
        m->assess.deploy = NULL;
        r = helper_run(m->event, &m->config->ostree, m->config->supervisor.state_directory, args, done, m,
                       &m->assess.deploy);
        if (r < 0)
                log_warning_errno(r, "Failed to run '%s' for the OSTree %s: %m; trying again on the next boot",
                                  m->config->ostree.helper, what);
}

/* Starts the OSTree work of this boot ("remove-failed" or "prune"), noting it as pending first. */
static void assess_deploy(Manager *m, const char *what) {
        char keep[16];

        if (!helper_enabled(&m->config->ostree))
                return;
        assess_deploy_pending(m, what);
        if (streq(what, "prune")) {
                snprintf(keep, sizeof(keep), "%u", m->config->ostree.keep_rollback);
                assess_deploy_verb(m, what, (char *[]) { (char *) "prune", (char *) "--keep-rollback", keep, NULL },
                                   on_pruned);
        } else
                assess_deploy_verb(m, what, (char *[]) { (char *) "identify-failed", NULL }, on_identified);
}

/* What an earlier boot could not finish. */
static void assess_deploy_retry(Manager *m) {
        _cleanup_(freep) char *path = NULL;
        _cleanup_(fclosep) FILE *f = NULL;
        char what[32] = "";

        if (asprintf(&path, "%s/%s", m->config->supervisor.state_directory, DEPLOY_PENDING_FILE) < 0 ||
            !(f = fopen(path, "re")) || fscanf(f, "%31s", what) != 1)
                return;
        if (streq(what, "prune") || streq(what, "remove-failed")) {
                log_info("Retrying the OSTree %s an earlier boot could not finish", what);
                assess_deploy(m, what);
        }
}

static void assess_rolled_back(Manager *m) {
        Assessment *a = &m->assess;
        int r;

        log_struct(LOG_CRIT,
                   LOG_FIELDS({ "MESSAGE_ID", MESSAGE_BOOT_ROLLED_BACK },
                              { "HEALTHDOG_PREVIOUS_RESET", strempty(a->previous_reset) }),
                   "U-Boot rolled back (%s). What made the new software fail: %s", a->why,
                   a->previous_reset ?: "not recorded (it reset without a verdict from healthdog)");

        r = assess_clear_env(m);
        if (r < 0)
                log_error_errno(r, "Failed to clear the rollback state in the boot environment through '%s': %m",
                                m->config->bootloader.fw_env_config);
        else if (a->env[VAR_ROLLBACK])
                log_info("Cleared %s, %s and %s: the next reboot boots this software without counting",
                         m->config->bootloader.upgrade_available_var, m->config->bootloader.bootcount_var,
                         m->config->bootloader.rollback_var);
        else
                log_info("Cleared %s and %s: the next reboot boots this software without counting",
                         m->config->bootloader.upgrade_available_var, m->config->bootloader.bootcount_var);

        /* The failed deployment is still the default one: a plain reboot would try it again. */
        assess_deploy(m, "remove-failed");
        assess_set_verdict(m, "rolled-back", "%s", a->why);
        assess_run_hooks(m, "red.d", "rolled-back", NULL, a->previous_reset);
}

static void assess_confirm(Manager *m, const char *how);

static int on_confirm_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;
        char t[DURATION_MAX], how[64];

        snprintf(how, sizeof(how), "required checks healthy for %s",
                 format_duration(t, sizeof(t), m->config->assessment.confirm_after));
        assess_confirm(m, how);
        return 0;
}

static void assess_confirm(Manager *m, const char *how) {
        Assessment *a = &m->assess;
        int r;

        a->confirm_timer = sd_event_source_disable_unref(a->confirm_timer);
        r = assess_clear_env(m);
        if (r < 0) {
                /* Unconfirmed is safe: the boot counts again on the next reset. Try again later, soon
                 * when another process merely held the environment lock. */
                usec_t retry = r == -EBUSY ? 5 * USEC_PER_SEC : USEC_PER_MINUTE;
                char t[DURATION_MAX], why[BOOTENV_STRERROR_MAX];

                log_error("Failed to confirm the boot: cannot write the boot environment through '%s': %s; "
                          "retrying in %s", m->config->bootloader.fw_env_config,
                          bootenv_strerror(m->config->bootloader.fw_env_config, r, why, sizeof(why)),
                          format_duration(t, sizeof(t), retry));
                if (sd_event_add_time_relative(m->event, &a->confirm_timer, CLOCK_MONOTONIC, retry,
                                               USEC_PER_SEC, on_confirm_timer, m) < 0)
                        log_error("Failed to schedule the retry: the trial stays unconfirmed");
                return;
        }

        a->confirmed = true;
        a->confirmed_at = now(CLOCK_REALTIME);
        a->trial_timer = sd_event_source_disable_unref(a->trial_timer);
        log_struct(LOG_NOTICE, LOG_FIELDS({ "MESSAGE_ID", MESSAGE_BOOT_CONFIRMED }),
                   "Boot confirmed (%s): cleared %s and %s", how,
                   m->config->bootloader.upgrade_available_var, m->config->bootloader.bootcount_var);
        assess_set_verdict(m, "confirmed", "%s", how);
        assess_deploy(m, "prune");
        assess_run_hooks(m, "green.d", "confirmed", NULL, NULL);
        manager_update_status(m);
}

int assess_mark_good(Manager *m) {
        Assessment *a = &m->assess;

        if (a->phase != BOOT_PHASE_TRIAL)
                return -EPERM;
        if (a->confirmed)
                return -EALREADY;
        /* The trial failed and the reset is on its way: confirming now would make U-Boot keep
         * the software that just failed. */
        if (!m->feeding)
                return -ESTALE;
        assess_confirm(m, "healthdog mark-good");
        return a->confirmed ? 0 : -EIO;
}

void assess_health_changed(Manager *m) {
        Assessment *a = &m->assess;
        bool all_pass = true;
        char t[DURATION_MAX];
        int r;

        if (a->phase != BOOT_PHASE_TRIAL || a->confirmed || !m->feeding || a->env_error < 0)
                return;

        /* Environmental checks count here: confirming needs proof, and they have not given it. */
        for (size_t i = 0; i < m->n_checks && all_pass; i++)
                if (m->checks[i]->config->required && m->checks[i]->result != CHECK_RESULT_PASS)
                        all_pass = false;

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
        r = sd_event_add_time_relative(m->event, &a->confirm_timer, CLOCK_MONOTONIC,
                                       m->config->assessment.confirm_after, USEC_PER_MSEC * 10, on_confirm_timer, m);
        if (r < 0)
                log_error_errno(r, "Failed to arm the confirmation timer: %m");
        else
                log_info("Every required check passes: confirming this boot in %s unless one fails",
                         format_duration(t, sizeof(t), m->config->assessment.confirm_after));
}

static int on_trial_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;
        char t[DURATION_MAX];

        format_duration(t, sizeof(t), m->config->assessment.trial_timeout);
        switch (m->config->assessment.trial_timeout_action) {
        case TRIAL_TIMEOUT_ACCEPT:
                log_warning("The trial was not confirmed within %s: accepting it (trial-timeout-action = accept)", t);
                assess_confirm(m, "trial-timeout-action = accept");
                break;
        case TRIAL_TIMEOUT_REJECT:
                log_warning("The trial was not confirmed within %s: rejecting it (trial-timeout-action = reject)", t);
                manager_starve(m, "trial-timeout", NULL, "not confirmed within trial-timeout");
                break;
        default:
                log_warning("The trial was not confirmed within %s: feeding on, unconfirmed (trial-timeout-action = "
                            "wait); a later reset counts towards bootlimit", t);
                assess_set_verdict(m, "pending", "not confirmed within %s; waiting", t);
                break;
        }
        return 0;
}

/* When an update is pending, which deployment booted tells a rollback apart even where the boot
 * script did not set the rollback flag. Asked only then: a steady boot starts nothing. */
static BootDeployment assess_booted_deployment(Manager *m) {
        Assessment *a = &m->assess;
        int r;

        if (a->env_error < 0 || !helper_enabled(&m->config->ostree) ||
            (!boot_flag_set(a->env[VAR_UPGRADE]) && !boot_flag_set(a->env[VAR_ROLLBACK])))
                return BOOT_DEPLOYMENT_UNKNOWN;

        r = helper_query_booted(&m->config->ostree, m->config->supervisor.state_directory, 5 * USEC_PER_SEC);
        if (r < 0) {
                log_full_errno(r == -ENOMEDIUM ? LOG_INFO : LOG_WARNING, r,
                               "Cannot tell which OSTree deployment is booted (%m): deciding from the environment alone");
                return BOOT_DEPLOYMENT_UNKNOWN;
        }
        log_info("The %s OSTree deployment is booted", r > 0 ? "default" : "previous (not the default)");
        return r > 0 ? BOOT_DEPLOYMENT_DEFAULT : BOOT_DEPLOYMENT_PREVIOUS;
}

static void assess_begin(Manager *m);

void assess_start(Manager *m) {
        Assessment *a = &m->assess;
        _cleanup_(strv_freep) char **last = NULL;
        bool new_boot;
        int r;

        a->watchdog_reset = m->watchdog && wdt_caused_last_reset(m->watchdog);

        r = state_mark_boot(m->config->supervisor.runtime_directory);
        if (r < 0)
                log_warning_errno(r, "Failed to mark this boot in '%s': %m; taking it for a new boot",
                                  m->config->supervisor.runtime_directory);
        new_boot = r != 0;

        if (new_boot) {
                r = state_take_reset_reason(m->config->supervisor.state_directory, &a->previous_reset);
                if (r < 0)
                        log_warning_errno(r, "Failed to read the previous reset reason in '%s': %m, ignoring",
                                          m->config->supervisor.state_directory);
        } else {
                /* A restart within the same boot updates this boot's record instead of adding one. */
                a->recorded = state_read_verdicts(m->config->supervisor.state_directory, 1, &last) > 0;
                /* A decision to let the watchdog fire stands for the whole boot: restarting the
                 * daemon must not be a way around a rejected trial. */
                if (state_has_reset_reason(m->config->supervisor.state_directory)) {
                        m->feeding = false;
                        snprintf(m->starve_detail, sizeof(m->starve_detail), "decided before a restart");
                        log_struct(LOG_CRIT, LOG_FIELDS({ "MESSAGE_ID", MESSAGE_WATCHDOG_STARVE }),
                                   "A reset was decided earlier in this boot (%s/%s): not feeding",
                                   m->config->supervisor.state_directory, STATE_RESET_REASON_FILE);
                }
        }

        assess_begin(m);
}

static int on_env_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        m->assess.env_retry_timer = sd_event_source_disable_unref(m->assess.env_retry_timer);
        assess_begin(m);
        return 0;
}

/* Reads the environment, decides the phase and acts on it; or, while another process holds the
 * environment's lock, stays steady without a verdict and tries again shortly. */
static void assess_begin(Manager *m) {
        Assessment *a = &m->assess;
        const BootloaderConfig *b = &m->config->bootloader;
        int r;

        if (b->type == BOOTLOADER_NONE) {
                a->phase = BOOT_PHASE_STEADY;
                a->why = "no bootloader configured ([bootloader] type = none)";
        } else {
                if (assess_read_env(m)) {
                        a->phase = BOOT_PHASE_STEADY;
                        a->why = "the boot environment is locked by another process: reading it again shortly";
                        r = sd_event_add_time_relative(m->event, &a->env_retry_timer, CLOCK_MONOTONIC,
                                                       ENV_BUSY_RETRY_USEC, USEC_PER_SEC, on_env_retry, m);
                        if (r >= 0)
                                return;
                        log_error_errno(r, "Failed to arm the timer to read the boot environment again: %m");
                        a->env_error = -EBUSY;
                }
                a->phase = boot_decide(&(BootInputs) {
                                .env_error = a->env_error,
                                .upgrade_available = a->env[VAR_UPGRADE],
                                .bootcount = a->env[VAR_BOOTCOUNT],
                                .bootlimit = a->env[VAR_BOOTLIMIT],
                                .rollback = a->env[VAR_ROLLBACK],
                                .deployment = assess_booted_deployment(m),
                        }, &a->why);
        }

        log_struct(LOG_NOTICE,
                   LOG_FIELDS({ "MESSAGE_ID", MESSAGE_BOOT_PHASE },
                              { "HEALTHDOG_PHASE", boot_phase_to_string(a->phase) }),
                   "Boot phase: %s (%s); %s=%s %s=%s %s=%s %s=%s", boot_phase_to_string(a->phase), a->why,
                   b->upgrade_available_var, a->env[VAR_UPGRADE] ?: "(unset)", b->bootcount_var,
                   a->env[VAR_BOOTCOUNT] ?: "(unset)", b->bootlimit_var, a->env[VAR_BOOTLIMIT] ?: "(unset)",
                   b->rollback_var, a->env[VAR_ROLLBACK] ?: "(unset)");

        switch (a->phase) {
        case BOOT_PHASE_ROLLED_BACK:
                assess_rolled_back(m);
                break;
        case BOOT_PHASE_TRIAL:
                assess_set_verdict(m, "pending", "on probation");
                if (m->config->assessment.trial_timeout > 0) {
                        r = sd_event_add_time_relative(m->event, &a->trial_timer, CLOCK_MONOTONIC,
                                                       m->config->assessment.trial_timeout, USEC_PER_SEC,
                                                       on_trial_timeout, m);
                        if (r < 0)
                                log_error_errno(r, "Failed to arm the trial timeout: %m");
                }
                /* Check results start the countdown. They never come without checks; and when the
                 * phase is decided late (after the environment's lock) the checks exist already and
                 * their results may all be in. At start the checks are not created yet. */
                if (m->n_checks == m->config->n_checks)
                        assess_health_changed(m);
                break;
        case BOOT_PHASE_STEADY:
                assess_deploy_retry(m);
                if (!a->recorded)
                        assess_set_verdict(m, "steady", "%s", a->why);
                else
                        snprintf(a->verdict, sizeof(a->verdict), "steady");
                break;
        }
}

AssessAction assess_failure(Manager *m, const char *check, const char *detail) {
        Assessment *a = &m->assess;
        const AssessmentConfig *ac = &m->config->assessment;
        char window[DURATION_MAX];
        unsigned used = 0;
        int r;

        /* On probation, a failure is the verdict: the reset makes U-Boot count the boot. */
        if (a->phase == BOOT_PHASE_TRIAL && !a->confirmed)
                return ASSESS_STARVE;
        if (a->degraded)
                return ASSESS_DEGRADE;

        format_duration(window, sizeof(window), ac->reset_window);
        if (ac->steady_action == STEADY_ACTION_DEGRADE) {
                a->degraded = true;
                log_struct(LOG_CRIT, LOG_FIELDS({ "MESSAGE_ID", MESSAGE_DEGRADED }, { "HEALTHDOG_CHECK", check }),
                           "Required check '%s' is failing (%s): staying up degraded (steady-action = degrade)",
                           check, detail);
                assess_set_verdict(m, "degraded", "check %s: %s", check, detail);
                return ASSESS_DEGRADE;
        }

        r = state_budget_take(m->config->supervisor.state_directory, ac->max_resets, ac->reset_window,
                              now(CLOCK_REALTIME), &used);
        if (r > 0) {
                log_notice("Health reset %u of at most %u within %s", used, ac->max_resets, window);
                return ASSESS_STARVE;
        }

        a->degraded = true;
        if (r < 0)
                log_error_errno(r, "Failed to keep the reboot budget in '%s': %m; not resetting",
                                m->config->supervisor.state_directory);
        log_struct(LOG_CRIT, LOG_FIELDS({ "MESSAGE_ID", MESSAGE_DEGRADED }, { "HEALTHDOG_CHECK", check }),
                   "Required check '%s' is failing (%s), but the reboot budget is spent (%u resets within %s): "
                   "staying up degraded", check, detail, used, window);
        assess_set_verdict(m, "degraded", "check %s: %s; reboot budget spent", check, detail);
        return ASSESS_DEGRADE;
}

void assess_recovered(Manager *m) {
        Assessment *a = &m->assess;

        if (!a->degraded)
                return;
        a->degraded = false;
        log_notice("Every required check is healthy again: no longer degraded");
        assess_set_verdict(m, "steady", "recovered");
}

void assess_starving(Manager *m, const char *reason, const char *check, const char *detail) {
        Assessment *a = &m->assess;
        bool trial = a->phase == BOOT_PHASE_TRIAL && !a->confirmed;
        const char *verdict = trial ? "rejected" : "reset";

        a->confirm_timer = sd_event_source_disable_unref(a->confirm_timer);
        a->trial_timer = sd_event_source_disable_unref(a->trial_timer);
        if (check)
                assess_set_verdict(m, verdict, "%s: check %s: %s", reason, check, detail);
        else
                assess_set_verdict(m, verdict, "%s: %s", reason, detail);
        assess_run_hooks(m, "red.d", verdict, check, detail);
}

void assess_done(Assessment *a) {
        hooks_cancel(a->hooks);
        a->hooks = NULL;
        helper_cancel(a->deploy);
        a->deploy = NULL;
        a->confirm_timer = sd_event_source_disable_unref(a->confirm_timer);
        a->trial_timer = sd_event_source_disable_unref(a->trial_timer);
        a->env_retry_timer = sd_event_source_disable_unref(a->env_retry_timer);
        for (int i = 0; i < _VAR_MAX; i++)
                a->env[i] = (free(a->env[i]), NULL);
        a->previous_reset = (free(a->previous_reset), NULL);
}
