/* SPDX-License-Identifier: MIT */
#include <stdarg.h>

#include "assess.h"
#include "deploy-note.h"
#include "helper.h"
#include "hooks.h"
#include "json.h"
#include "log.h"
#include "ostree-exit.h"
#include "update-note.h"
#include "reset-reason.h"
#include "verdicts.h"

static const char *state_dir(const Assessment *a) {
        return a->config->supervisor.state_directory;
}

static const BootloaderConfig *bootloader(const Assessment *a) {
        return &a->config->bootloader;
}

/* Where the boot environment is, for messages. */
static const char *env_location(const Assessment *a) {
        return a->loader->location(bootloader(a));
}

static const char *env_strerror(const Assessment *a, int error, char *buf, size_t size) {
        return a->loader->strerror(bootloader(a), error, buf, size);
}

/* The names of the variables read, and how many (none without a bootloader). */
static size_t assess_var_names(const Assessment *a, const char *names[static BOOT_VARS_MAX]) {
        if (!a->loader)
                return 0;
        a->loader->names(bootloader(a), names);
        return a->loader->n_vars;
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
        const char *names[BOOT_VARS_MAX];
        size_t len = 0, cap = 0, n = assess_var_names(a, names);
        char *json = NULL;
        int r;


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
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = json_field(&json, &len, &cap, names[i], a->env[i], i > 0);
        if (r >= 0)
                r = buf_appendf(&json, &len, &cap, "}");
        if (r >= 0)
                r = json_field(&json, &len, &cap, "env_error", a->env_error < 0 ? strerror(-a->env_error) : NULL, true);
        if (r >= 0)
                r = json_field(&json, &len, &cap, "env_warning", a->env_warning, true);
        if (r >= 0)
                r = json_field(&json, &len, &cap, "failed_deployment", a->failed_deployment, true);
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
        struct {
                const char *key, *value;
        } vars[6 + BOOT_VARS_MAX] = {
                { "HEALTHDOG_VERDICT", verdict },
                { "HEALTHDOG_PHASE", boot_phase_to_string(a->phase) },
                { "HEALTHDOG_CHECK", check },
                { "HEALTHDOG_DETAIL", detail },
                { "HEALTHDOG_BOOT_ID", a->boot_id },
                { "HEALTHDOG_PREVIOUS_RESET", a->previous_reset },
        };
        size_t n = 6;
        int r;

        /* The boot variables under the names the bootloader gives them (HEALTHDOG_BOOTCOUNT, ...). */
        for (size_t i = 0; a->loader && i < a->loader->n_vars; i++)
                if (a->loader->hook_vars[i])
                        vars[n++] = (typeof(vars[0])) { a->loader->hook_vars[i], a->env[i] };
        for (size_t i = 0; i < n; i++) {
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

/* The store that confirms a trial or clears a fallback, compared under the lock with what this
 * boot read: a new trial armed since (an OTA client) is never overwritten. Returns the result of
 * the loader's write; s says what it was. */
static int assess_clear_env(Assessment *a, BootStore *s) {
        a->loader->clear(bootloader(a), a->env, s);
        return a->loader->write(bootloader(a), s);
}

/* A value the bootloader and other readers take differently (a U-Boot flag that is neither 0 nor
 * 1, say): what the device booted with cannot be told for sure. Said in the record (so in status)
 * and, with log, in the journal. */
static void assess_check_values(Assessment *a, bool log) {
        free(a->env_warning);
        a->env_warning = a->loader->warning(bootloader(a), a->env);
        if (a->env_warning && log)
                log_error("Boot environment through '%s': %s", env_location(a), a->env_warning);
}

/* Another process (an OTA client, fw_setenv) holding the environment's lock at start is waited
 * for this often, this long, before the boot is taken for one whose environment cannot be read. */
#define ENV_BUSY_RETRY_USEC (5 * USEC_PER_SEC)
#define ENV_BUSY_RETRIES 12

/* Reads the variables. Returns true when the read is to be tried again later (lock held by another
 * process); log says whether to log what went wrong. */
static bool assess_read_env(Assessment *a, bool log) {
        const char *names[BOOT_VARS_MAX];
        char why[BOOT_STRERROR_MAX];
        size_t n = assess_var_names(a, names);

        a->env_error = a->loader->read(bootloader(a), names, n, a->env);
        if (!log)
                return false;
        if (a->env_error == -EBUSY && a->env_busy_retries < ENV_BUSY_RETRIES) {
                a->env_busy_retries++;
                log_warning("Failed to read the boot environment through '%s': %s; reading it again in 5s "
                            "(attempt %u of %u), feeding meanwhile", env_location(a),
                            env_strerror(a, a->env_error, why, sizeof(why)), a->env_busy_retries,
                            ENV_BUSY_RETRIES);
                return true;
        }
        if (a->env_error < 0)
                log_struct(LOG_WARNING, LOG_FIELDS({ "MESSAGE_ID", MESSAGE_BOOT_ENV_UNUSABLE }),
                           "Failed to read the boot environment through '%s': %s; assessing nothing and writing "
                           "nothing to it this boot", env_location(a),
                           env_strerror(a, a->env_error, why, sizeof(why)));
        return false;
}

/* ---- the OSTree deployments, through the helper */

static void assess_note(Assessment *a, const char *verb, const char *name) {
        int r = verb ? deploy_note_save(state_dir(a), verb, name) : deploy_note_clear(state_dir(a));

        if (r < 0)
                log_warning_errno(r, "Failed to note the pending OSTree work in '%s/%s': %m, ignoring", state_dir(a),
                                  DEPLOY_NOTE_FILE);
}

/* What the helper removed, for the log: "removed A, B; 12 of 40 objects pruned, 1.2 MiB freed". */
static void assess_describe_removal(const JsonValue *result, char *buf, size_t size) {
        const JsonValue *removed = json_get(result, "removed", NULL);
        uint64_t pruned = 0, freed = 0;
        size_t len = 0;

        buf[0] = '\0';
        for (size_t i = 0; removed && removed->type == JSON_ARRAY && i < removed->n_items && len < size; i++)
                len += (size_t) snprintf(buf + len, size - len, "%s%s", i ? ", " : "removed ",
                                         json_string(removed->items[i]) ?: "?");
        (void) json_uint(json_get(result, "objects_pruned", NULL), &pruned);
        (void) json_uint(json_get(result, "bytes_freed", NULL), &freed);
        if (len < size)
                snprintf(buf + len, size - len, "%s%llu objects pruned, %llu bytes freed", len ? "; " : "",
                         (unsigned long long) pruned, (unsigned long long) freed);
}

/* A failed or killed helper is retried next boot; a definite answer ends the matter. */
static void assess_helper_settled(Assessment *a, const char *what, int status, const JsonValue *result,
                                  const char *messages) {
        bool final = status == OSTREE_EXIT_OK || status == OSTREE_EXIT_NOT_OSTREE || status == OSTREE_EXIT_UNKNOWN ||
                     status == OSTREE_EXIT_REFUSED_BOOTED || status == OSTREE_EXIT_REFUSED_STAGED ||
                     status == OSTREE_EXIT_REFUSED_PINNED;
        char done[512];

        if (status == OSTREE_EXIT_OK) {
                assess_describe_removal(result, done, sizeof(done));
                log_notice("OSTree %s done: %s", what, done);
        } else
                log_full_errno(status == OSTREE_EXIT_NOT_OSTREE ? LOG_INFO : LOG_WARNING, 0,
                               "OSTree %s: %s%s%s%s", what, helper_status_to_string(status), messages[0] ? " (" : "",
                               messages, messages[0] ? ")" : "");
        if (final)
                assess_note(a, NULL, NULL);
        else
                log_warning("OSTree %s will be tried again on the next boot", what);
}

static void on_removed(int status, const JsonValue *result, const char *messages, void *userdata) {
        Assessment *a = userdata;

        a->helper = NULL;
        assess_helper_settled(a, "remove-failed", status, result, messages);
}

static void on_pruned(int status, const JsonValue *result, const char *messages, void *userdata) {
        Assessment *a = userdata;

        a->helper = NULL;
        assess_helper_settled(a, "prune", status, result, messages);
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

/* Removes exactly the deployment name (CHECKSUM.SERIAL): one identified as failed when a boot
 * started. A deployment made later, even of the same commit, has another serial. */
static void assess_remove(Assessment *a, const char *name) {
        if (!helper_enabled(&a->config->ostree))
                return;
        log_notice("Removing the failed deployment %s so that a plain reboot does not boot it again", name);
        assess_note(a, "remove-failed", name);
        assess_helper_verb(a, "remove-failed",
                           (char *[]) { (char *) "remove-failed", (char *) "--deployment", (char *) name, NULL },
                           on_removed);
}

static void assess_prune(Assessment *a) {
        char keep[16];

        if (!helper_enabled(&a->config->ostree))
                return;
        assess_note(a, "prune", NULL);
        snprintf(keep, sizeof(keep), "%u", a->config->ostree.keep_rollback);
        assess_helper_verb(a, "prune", (char *[]) { (char *) "prune", (char *) "--keep-rollback", keep, NULL },
                           on_pruned);
}

/* What an earlier boot could not finish, as that boot established it. */
static void assess_deploy_retry(Assessment *a) {
        DeployNote note;

        if (deploy_note_load(state_dir(a), &note) <= 0)
                return;
        if (streq(note.verb, "prune")) {
                log_info("Retrying the OSTree prune an earlier boot could not finish");
                assess_prune(a);
        } else if (note.checksum[0]) {
                log_info("Retrying the removal of %s, which an earlier boot found failed", note.checksum);
                assess_remove(a, note.checksum);
        } else {
                /* Which one failed was never established: this boot cannot prove it either. */
                log_warning("An earlier boot could not tell which OSTree deployment failed: keeping them all");
                assess_note(a, NULL, NULL);
        }
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
        BootStore store;
        int r;

        a->confirm_timer = sd_event_source_disable_unref(a->confirm_timer);
        r = assess_clear_env(a, &store);
        if (r == -ESTALE) {
                /* Not this boot's trial any more: the next boot is the new one's. */
                a->env_changed = true;
                log_warning("Not confirming the boot: the boot environment changed since this boot started (a new "
                            "trial armed?); leaving it as it is");
                assess_set_verdict(a, "pending", "not confirmed: the boot environment changed since this boot started");
                return;
        }
        if (r < 0) {
                /* Unconfirmed is safe: the boot counts again on the next reset. Try again later, soon
                 * when another process merely held the environment lock. */
                usec_t retry = r == -EBUSY ? 5 * USEC_PER_SEC : USEC_PER_MINUTE;
                char t[DURATION_MAX], why[BOOT_STRERROR_MAX];

                log_error("Failed to confirm the boot: cannot write the boot environment through '%s': %s; "
                          "retrying in %s", env_location(a), env_strerror(a, r, why, sizeof(why)),
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
                   "Boot confirmed (%s): cleared %s", how, store.what);
        assess_set_verdict(a, "confirmed", "%s", how);
        assess_prune(a);
        assess_run_hooks(a, "green.d", "confirmed", NULL, NULL);
        assess_notify(a);
}

int assess_mark_good(Assessment *a) {
        if (a->phase != BOOT_PHASE_TRIAL || a->deciding)
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
        if (a->phase != BOOT_PHASE_TRIAL || a->deciding || a->confirmed || a->starved || a->env_changed ||
            a->env_error < 0)
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

/* The phase from what was read, the same way for the daemon and for `healthdog status`. */
static void assess_decide_phase(Assessment *a, BootDeployment deployment) {
        if (!a->loader) {
                a->phase = BOOT_PHASE_STEADY;
                a->why = "no bootloader configured ([bootloader] type = none)";
        } else if (a->env_error < 0) {
                a->phase = BOOT_PHASE_STEADY;
                a->why = "the boot environment cannot be read: assessing nothing, writing nothing";
        } else
                a->phase = a->loader->decide(a->env, deployment, &a->why);
}

static int on_clear_timer(sd_event_source *s, uint64_t usec, void *userdata);

/* A rolled-back boot: the variables cleared, then (and only then) the failed deployment removed:
 * with the variables still set, the next boot would run altbootcmd again and boot an older
 * deployment, and the known-good one would look failed. Retried until it is stored. */
static void assess_clear_rollback(Assessment *a) {
        BootStore store;
        char t[DURATION_MAX], why[BOOT_STRERROR_MAX];
        usec_t retry;
        int r;

        a->clear_timer = sd_event_source_disable_unref(a->clear_timer);
        r = assess_clear_env(a, &store);
        if (r == -ESTALE) {
                a->env_changed = true;
                log_warning("Not clearing the rollback state: the boot environment changed since this boot started; "
                            "keeping every deployment");
                return;
        }
        if (r < 0) {
                retry = r == -EBUSY ? 5 * USEC_PER_SEC : USEC_PER_MINUTE;
                log_error("Failed to clear the rollback state in the boot environment through '%s': %s; retrying "
                          "in %s, and removing nothing until then", env_location(a),
                          env_strerror(a, r, why, sizeof(why)),
                          format_duration(t, sizeof(t), retry));
                if (sd_event_add_time_relative(a->event, &a->clear_timer, CLOCK_MONOTONIC, retry, USEC_PER_SEC,
                                               on_clear_timer, a) < 0)
                        log_error("Failed to schedule the retry: the rollback state stays");
                return;
        }
        a->cleared = true;
        if (r == 0)
                log_info("Cleared %s: the next reboot boots this software without counting", store.what);

        /* The failed deployment is still the default one: a plain reboot would try it again. */
        if (a->failed_deployment)
                assess_remove(a, a->failed_deployment);
        else if (helper_enabled(&a->config->ostree))
                log_notice("Keeping the OSTree deployments: which one failed was not established when this boot "
                           "started");
}

static int on_clear_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        assess_clear_rollback(userdata);
        return 0;
}

static void assess_rolled_back(Assessment *a) {
        log_struct(LOG_CRIT,
                   LOG_FIELDS({ "MESSAGE_ID", MESSAGE_BOOT_ROLLED_BACK },
                              { "HEALTHDOG_PREVIOUS_RESET", strempty(a->previous_reset) }),
                   "U-Boot rolled back (%s). What made the new software fail: %s", a->why,
                   a->previous_reset ?: "not recorded (it reset without a verdict from healthdog)");
        assess_set_verdict(a, "rolled-back", "%s", a->why);
        assess_run_hooks(a, "red.d", "rolled-back", NULL, a->previous_reset);
        assess_clear_rollback(a);
}

static void assess_trial(Assessment *a) {
        int r;

        if (a->confirmed || a->starved)
                return; /* a restart after the trial's verdict: it stands */
        assess_set_verdict(a, "pending", "on probation");
        if (a->config->assessment.trial_timeout > 0) {
                r = sd_event_add_time_relative(a->event, &a->trial_timer, CLOCK_MONOTONIC,
                                               a->config->assessment.trial_timeout, USEC_PER_SEC, on_trial_timeout, a);
                if (r < 0)
                        log_error_errno(r, "Failed to arm the trial timeout: %m");
        }
        /* The results so far start the countdown (the phase may be decided late, when they are all in). */
        assess_checks(a, a->all_pass);
}

/* The update `healthdog update` armed in an earlier boot (STATE/update-armed) is decided by this
 * boot's phase, and the note goes. One case needs it: a trial whose default deployment is still
 * the commit the update was armed from, because the power went before the new deployment became
 * the default. That is no trial of anything new, and no rollback: it is confirmed at once, as
 * "update not applied". Returns true for that case, with its reason in why. */
static bool assess_update_not_applied(Assessment *a, BootDeployment deployment, char *why, size_t size) {
        UpdateNote note;
        bool not_applied;
        int r;

        r = update_note_load(state_dir(a), &note);
        /* This boot's own note: an update armed before its reboot, for the next boot. */
        if (r <= 0 || streq(note.boot_id, a->boot_id))
                return false;
        not_applied = a->phase == BOOT_PHASE_TRIAL && deployment == BOOT_DEPLOYMENT_DEFAULT && a->booted_deployment &&
                      startswith(a->booted_deployment, note.from) && !startswith(a->booted_deployment, note.checksum);
        if (not_applied)
                snprintf(why, size, "update not applied: the update to %s (%s) was armed, but never became the "
                         "default deployment; this boot runs %s, as before", note.version[0] ? note.version : "no version",
                         note.checksum, a->booted_deployment);
        r = update_note_clear(state_dir(a));
        if (r < 0)
                log_warning_errno(r, "Failed to remove '%s/%s': %m, ignoring", state_dir(a), UPDATE_NOTE_FILE);
        return not_applied;
}

/* The phase is decided: log it, act on it. */
static void assess_decided(Assessment *a, BootDeployment deployment) {
        char not_applied[512], vars[512];
        const char *names[BOOT_VARS_MAX];
        size_t n = assess_var_names(a, names), len = 0;

        a->deciding = false;
        assess_decide_phase(a, deployment);
        vars[0] = '\0';
        for (size_t i = 0; i < n && len < sizeof(vars); i++)
                len += (size_t) snprintf(vars + len, sizeof(vars) - len, "%s%s=%s", i ? " " : "; ", names[i],
                                         a->env[i] ?: "(unset)");
        log_struct(LOG_NOTICE,
                   LOG_FIELDS({ "MESSAGE_ID", MESSAGE_BOOT_PHASE }, { "HEALTHDOG_PHASE", boot_phase_to_string(a->phase) }),
                   "Boot phase: %s (%s)%s", boot_phase_to_string(a->phase), a->why, vars);

        switch (a->phase) {
        case BOOT_PHASE_ROLLED_BACK:
                (void) assess_update_not_applied(a, deployment, not_applied, sizeof(not_applied));
                assess_rolled_back(a);
                break;
        case BOOT_PHASE_TRIAL:
                if (assess_update_not_applied(a, deployment, not_applied, sizeof(not_applied))) {
                        log_notice("Confirming this boot at once: %s", not_applied);
                        assess_confirm(a, not_applied);
                } else
                        assess_trial(a);
                break;
        case BOOT_PHASE_STEADY:
                (void) assess_update_not_applied(a, deployment, not_applied, sizeof(not_applied));
                assess_deploy_retry(a);
                if (!a->recorded)
                        assess_set_verdict(a, "steady", "%s", a->why);
                else if (!a->starved)
                        snprintf(a->verdict, sizeof(a->verdict), "steady");
                break;
        }
}

/* D of identify-failed's result: its name, or NULL. */
static const char *deployment_name(const JsonValue *result, const char *which) {
        const JsonValue *d = json_get(result, which, NULL);

        return d && d->type == JSON_OBJECT ? json_string(json_get(d, "name", NULL)) : NULL;
}

static void on_identified(int status, const JsonValue *result, const char *messages, void *userdata) {
        Assessment *a = userdata;
        const char *booted = deployment_name(result, "booted"), *def = deployment_name(result, "default");
        const char *failed = deployment_name(result, "failed");
        BootDeployment deployment = BOOT_DEPLOYMENT_UNKNOWN;

        a->helper = NULL;
        if (status == OSTREE_EXIT_OK && result && booted && def) {
                deployment = streq(booted, def) ? BOOT_DEPLOYMENT_DEFAULT : BOOT_DEPLOYMENT_PREVIOUS;
                log_info("The %s OSTree deployment is booted (%s)",
                         deployment == BOOT_DEPLOYMENT_DEFAULT ? "default" : "previous (not the default)", booted);
                if ((failed && !(a->failed_deployment = strdup(failed))) ||
                    !(a->booted_deployment = strdup(booted)))
                        log_error_errno(ENOMEM, "Failed to keep the names of the deployments: %m");
        } else
                /* Anything else (a failure, a reply without both names) proves nothing: the
                 * environment alone decides, and a trial stays a trial. */
                log_full_errno(status == OSTREE_EXIT_NOT_OSTREE ? LOG_INFO : LOG_WARNING, 0,
                               "Cannot tell which OSTree deployment is booted (%s%s%s): deciding from the "
                               "environment alone", status == OSTREE_EXIT_OK ? "an incomplete answer"
                                                                            : helper_status_to_string(status),
                               messages[0] ? ": " : "", messages);
        assess_decided(a, deployment);
        assess_notify(a);
}

static void assess_begin(Assessment *a);

static int on_env_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        Assessment *a = userdata;

        a->env_retry_timer = sd_event_source_disable_unref(a->env_retry_timer);
        assess_begin(a);
        assess_notify(a);
        return 0;
}

/* Reads the environment and decides the phase; or, while another process holds the
 * environment's lock, stays steady without a verdict and tries again shortly. When an update is
 * pending, which deployment booted tells a rollback apart even where the boot script did not set
 * the rollback flag: the helper is asked in the background (a steady boot asks nothing), and the
 * phase the environment alone says holds meanwhile, without a verdict. */
static void assess_begin(Assessment *a) {
        int r;

        if (!a->loader) {
                assess_decided(a, BOOT_DEPLOYMENT_UNKNOWN);
                return;
        }
        if (assess_read_env(a, true)) {
                a->phase = BOOT_PHASE_STEADY;
                a->why = "the boot environment is locked by another process: reading it again shortly";
                r = sd_event_add_time_relative(a->event, &a->env_retry_timer, CLOCK_MONOTONIC, ENV_BUSY_RETRY_USEC,
                                               USEC_PER_SEC, on_env_retry, a);
                if (r >= 0)
                        return;
                log_error_errno(r, "Failed to arm the timer to read the boot environment again: %m");
                a->env_error = -EBUSY;
        }
        if (a->env_error >= 0)
                assess_check_values(a, true);
        if (a->env_error < 0 || !helper_enabled(&a->config->ostree) || !a->loader->pending(a->env)) {
                assess_decided(a, BOOT_DEPLOYMENT_UNKNOWN);
                return;
        }

        assess_decide_phase(a, BOOT_DEPLOYMENT_UNKNOWN);
        a->deciding = true;
        r = helper_run(a->event, &a->config->ostree, state_dir(a), (char *[]) { (char *) "identify-failed", NULL },
                       on_identified, a, &a->helper);
        if (r < 0) {
                log_warning_errno(r, "Failed to run '%s' to tell which OSTree deployment is booted: %m; deciding "
                                  "from the environment alone", a->config->ostree.helper);
                assess_decided(a, BOOT_DEPLOYMENT_UNKNOWN);
        }
}

/* A restart within the same boot takes this boot's record: the phase decided when it started, the
 * variables as read then (confirming compares with them), the failed deployment identified then.
 * Returns true when there was one with a decided phase. */
static bool assess_load_record(Assessment *a) {
        _cleanup_(strv_freep) char **last = NULL;
        _cleanup_(json_freep) JsonValue *v = NULL;
        const JsonValue *prev, *env;
        const char *names[BOOT_VARS_MAX], *failed;
        int phase;

        if (verdicts_read(state_dir(a), 1, &last) <= 0 || json_parse(last[0], &v) < 0 ||
            !streq_ptr(json_string(json_get(v, "boot_id", NULL)), a->boot_id))
                return false;
        a->recorded = true;
        prev = json_get(v, "previous_reset", NULL);
        if (!a->previous_reset && prev && prev->type == JSON_OBJECT)
                (void) json_format(prev, false, &a->previous_reset);
        snprintf(a->verdict, sizeof(a->verdict), "%s", strempty(json_string(json_get(v, "verdict", NULL))));
        snprintf(a->verdict_reason, sizeof(a->verdict_reason), "%s",
                 strempty(json_string(json_get(v, "verdict_reason", NULL))));

        phase = boot_phase_from_string(json_string(json_get(v, "phase", NULL)));
        if (phase < 0 || json_string(json_get(v, "env_error", NULL)))
                return false;
        a->phase = (BootPhase) phase;
        snprintf(a->why_restored, sizeof(a->why_restored), "%s", strempty(json_string(json_get(v, "phase_reason", NULL))));
        a->why = a->why_restored;
        env = json_get(v, "env", NULL);
        for (size_t i = 0, n = assess_var_names(a, names); i < n; i++) {
                const char *value = json_string(json_get(env, names[i], NULL));
                if (value && !(a->env[i] = strdup(value)))
                        return false;
        }
        failed = json_string(json_get(v, "failed_deployment", NULL));
        if (failed && !(a->failed_deployment = strdup(failed)))
                return false;
        a->confirmed = streq(a->verdict, "confirmed");
        (void) json_uint(json_get(v, "confirmed_usec", NULL), &a->confirmed_at);
        return true;
}

void assess_start(Assessment *a, bool watchdog_reset, char *previous_reset, bool reset_stands) {
        a->watchdog_reset = watchdog_reset;
        a->previous_reset = previous_reset;
        a->starved = reset_stands;
        a->restored = assess_load_record(a);
        if (!a->restored) {
                assess_begin(a);
                return;
        }

        /* Decided when this boot started: a deployment made or a variable set since changes nothing. */
        log_notice("Boot phase: %s (%s), as decided when this boot started", boot_phase_to_string(a->phase), a->why);
        if (a->phase == BOOT_PHASE_TRIAL)
                assess_trial(a);
        else if (a->phase == BOOT_PHASE_ROLLED_BACK)
                assess_clear_rollback(a);
        else
                assess_deploy_retry(a);
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
        a->loader = bootloader_get(&config->bootloader);
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
        sd_event_source_disable_unref(a->clear_timer);
        sd_event_source_disable_unref(a->trial_timer);
        sd_event_source_disable_unref(a->env_retry_timer);
        for (size_t i = 0; i < BOOT_VARS_MAX; i++)
                free(a->env[i]);
        free(a->env_warning);
        free(a->failed_deployment);
        free(a->booted_deployment);
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
        if (a->loader && !assess_read_env(a, false) && a->env_error >= 0)
                assess_check_values(a, false);
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
