/* SPDX-License-Identifier: MIT */
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-id128.h>

#include "budget.h"
#include "hold.h"
#include "last-good.h"
#include "log.h"
#include "manager.h"
#include "reset-reason.h"
#include "starts.h"
#include "status.h"

static const char *state_dir(const Manager *m) {
        return m->config->supervisor.state_directory;
}

static void manager_update_status(Manager *m) {
        const Assessment *a = m->assess;
        size_t failing = 0, required = 0;
        char interval[DURATION_MAX];
        const char *phase = boot_phase_to_string(a->phase);

        for (size_t i = 0; i < m->n_checks; i++)
                if (check_gates_feeding(m->checks[i])) {
                        required++;
                        failing += m->checks[i]->state.failing;
                }

        format_duration(interval, sizeof(interval), m->ping_interval);
        if (!m->decision.feed)
                (void) sd_notifyf(false, "STATUS=Not feeding %s (%s boot): %s",
                                  m->watchdog ? m->watchdog->path : m->config->watchdog.device, phase, m->starve_detail);
        else
                (void) sd_notifyf(false, "STATUS=%s boot%s: feeding %s every %s; %zu of %zu required checks healthy%s%s%s",
                                  phase, a->confirmed ? " (confirmed)" : "",
                                  m->watchdog ? m->watchdog->path : "nothing (dry run)", interval, required - failing,
                                  required, m->decision.reason == FEED_GRACE ? " (startup grace)" : "",
                                  m->config_error ? "; DEGRADED, configuration invalid: "
                                  : feed_degraded(m->decision.reason) ? "; DEGRADED"
                                  : m->decision.reason == FEED_HOLD ? "; maintenance hold" : "",
                                  strempty(m->config_error));
}

/* ---- the feed decision */

/* The first required check whose failure stops the feeding (environmental ones never do:
 * resetting the board does not bring back the network). */
static const Check *manager_culprit(const Manager *m) {
        for (size_t i = 0; i < m->n_checks; i++)
                if (check_gates_feeding(m->checks[i]) && m->checks[i]->state.failing)
                        return m->checks[i];
        return NULL;
}

/* Whether every required check, environmental ones included, passed its last run: what
 * confirming a trial waits for. */
static bool manager_all_pass(const Manager *m) {
        for (size_t i = 0; i < m->n_checks; i++)
                if (m->checks[i]->config->required && m->checks[i]->result != CHECK_RESULT_PASS)
                        return false;
        return true;
}

/* Spends one reset of a steady device's reboot budget. Returns whether it was allowed. */
static bool manager_take_budget(Manager *m) {
        const AssessmentConfig *ac = &m->config->assessment;
        char window[DURATION_MAX];
        unsigned used = 0;
        int r;

        format_duration(window, sizeof(window), ac->reset_window);
        r = budget_take(state_dir(m), ac->max_resets, ac->reset_window, now(CLOCK_REALTIME), &used);
        if (r > 0)
                log_notice("Health reset %u of at most %u within %s", used, ac->max_resets, window);
        else if (r < 0)
                log_error_errno(r, "Failed to keep the reboot budget in '%s': %m; not resetting", state_dir(m));
        else
                snprintf(m->starve_detail, sizeof(m->starve_detail), "%u resets within %s", used, window);
        return r > 0;
}

/* Records why before the device can fire (after the reset this is all that is left), then tells
 * the assessment. check is NULL when no check decided it. */
static void manager_starved(Manager *m, FeedReason reason, const char *check, const char *detail) {
        const char *why = feed_reason_to_string(reason);
        const char *device = m->watchdog ? m->watchdog->path : m->config->watchdog.device;
        int r;

        snprintf(m->starve_detail, sizeof(m->starve_detail), "%s%s%s%s%s", check ? "" : why, check ? "" : ": ",
                 strempty(check), check ? ": " : "", detail);

        if (streq(m->config->watchdog.device, "none")) {
                /* Nothing will reset: a recorded reason would blame a later, unrelated reset. */
                log_struct(LOG_CRIT,
                           LOG_FIELDS({ "MESSAGE_ID", MESSAGE_WATCHDOG_STARVE },
                                      { "HEALTHDOG_CHECK", check },
                                      { "HEALTHDOG_DETAIL", detail },
                                      { "HEALTHDOG_DEVICE", "none" }),
                           "%s%s%s (%s): dry run, a watchdog would now stop being fed",
                           check ? "Required check '" : why, strempty(check), check ? "' is failing" : "", detail);
                return;
        }

        r = reset_reason_save(state_dir(m), m->boot_id, &(ResetReason) {
                        .reason = why,
                        .check = check,
                        .detail = detail,
                        .realtime = now(CLOCK_REALTIME),
                        .monotonic = now(CLOCK_MONOTONIC),
                });
        if (r < 0)
                log_error_errno(r, "Failed to record the reset reason in '%s': %m", state_dir(m));

        log_struct(LOG_CRIT,
                   LOG_FIELDS({ "MESSAGE_ID", MESSAGE_WATCHDOG_STARVE },
                              { "HEALTHDOG_REASON", why },
                              { "HEALTHDOG_CHECK", check },
                              { "HEALTHDOG_DETAIL", detail },
                              { "HEALTHDOG_DEVICE", device }),
                   "%s%s%s (%s): no longer feeding %s, the device resets when it times out",
                   check ? "Required check '" : why, strempty(check), check ? "' is failing" : "", detail,
                   device);
        assess_starving(m->assess, why, check, detail);
}

/* The configuration's first error, and how many more: for the record and the reset reason.
 * Returns a new string or NULL. */
static char *manager_config_detail(const Manager *m) {
        char *s;

        if (m->config_errors > 1 ? asprintf(&s, "%s (and %zu more errors)", m->config_error, m->config_errors - 1)
                                 : asprintf(&s, "%s", m->config_error) < 0)
                return NULL;
        return s;
}

static void manager_degraded(Manager *m, FeedReason reason, const Check *culprit) {
        const char *check = culprit ? culprit->config->name : NULL, *detail = culprit ? culprit->detail : NULL;
        _cleanup_(freep) char *why = NULL, *config = NULL;

        if (reason == FEED_CONFIG_INVALID) {
                config = manager_config_detail(m);
                if (!config || asprintf(&why, "%s: %s", feed_reason_to_string(STARVE_CONFIG_INVALID), config) < 0)
                        return (void) log_error_errno(ENOMEM, "Failed to record the verdict: %m");
                log_struct(LOG_CRIT, LOG_FIELDS({ "MESSAGE_ID", MESSAGE_DEGRADED }, { "HEALTHDOG_DETAIL", config }),
                           "The configuration does not load (%s): supervising with the last one that loaded, "
                           "degraded (not an unconfirmed trial: nothing resets this system for it)", config);
                assess_degraded(m->assess, why);
                return;
        }
        if (reason == FEED_DEGRADED)
                log_struct(LOG_CRIT, LOG_FIELDS({ "MESSAGE_ID", MESSAGE_DEGRADED }, { "HEALTHDOG_CHECK", check }),
                           "Required check '%s' is failing (%s): staying up degraded (steady-action = degrade)",
                           check, detail);
        else
                log_struct(LOG_CRIT, LOG_FIELDS({ "MESSAGE_ID", MESSAGE_DEGRADED }, { "HEALTHDOG_CHECK", check }),
                           "Required check '%s' is failing (%s), but the reboot budget is spent (%s): staying up "
                           "degraded", check, detail, m->starve_detail[0] ? m->starve_detail : "it cannot be kept");
        if (asprintf(&why, "check %s: %s%s", check, detail, reason == FEED_BUDGET_SPENT ? "; reboot budget spent" : "") < 0)
                return (void) log_error_errno(ENOMEM, "Failed to record the verdict: %m");
        assess_degraded(m->assess, why);
}

/* The one place that decides whether the watchdog is fed: the inputs gathered, feed_decide()
 * asked, a steady reset taken from the budget as a separate step, the answer kept for on_ping
 * and acted on. */
static int manager_open_watchdog(Manager *m);

/* The device was left closed at start (see manager_start()) until the decision is known: a reset
 * opens it once, to arm it (an earlier start may not have), and never pings it again; with
 * nothing to supervise with, a boot that is fed ends the daemon once its phase is known, the
 * device never opened; else it is opened as at any start. */
static void manager_open_deferred(Manager *m, FeedDecision d) {
        int r;

        if (d.feed && m->config_settings_only) {
                if (!assess_phase_known(m->assess))
                        return;
                m->open_deferred = false;
                log_error("Refusing to start with an invalid configuration ('%s'), and none ever loaded here "
                          "(%s/%s): not an unconfirmed trial, nothing to supervise with; not opening '%s'",
                          m->config_path, m->config->supervisor.state_directory, LAST_GOOD_FILE,
                          m->config->watchdog.device);
                (void) sd_event_exit(m->event, -ECANCELED);
                return;
        }
        m->open_deferred = false;
        if (streq(m->config->watchdog.device, "none"))
                return;
        r = manager_open_watchdog(m);
        if (r >= 0 && !d.feed)
                log_notice("Opened '%s' only to arm it: it is not pinged again in this boot", m->watchdog->path);
        else if (r < 0 && d.feed)
                (void) sd_event_exit(m->event, -ECANCELED);
}

/* The detail of a reset decision, for the record: the check's output, or why else. */
static const char *manager_starve_why(const Manager *m, FeedReason reason, const Check *culprit, char *buf,
                                      size_t size) {
        _cleanup_(freep) char *config = NULL;

        switch (reason) {
        case STARVE_TRIAL_TIMEOUT:
                return "not confirmed within trial-timeout";
        case STARVE_START_FAILED:
                snprintf(buf, size, "%u starts in this boot", m->starts);
                return buf;
        case STARVE_CONFIG_INVALID:
                config = manager_config_detail(m);
                snprintf(buf, size, "%s", config ?: m->config_error);
                return buf;
        default:
                return culprit ? culprit->detail : "";
        }
}

static void manager_decide(Manager *m) {
        const Check *culprit = manager_culprit(m);
        FeedInputs in = {
                .failing_check = culprit ? culprit->config->name : NULL,
                .in_grace = m->in_grace,
                .hold = m->hold_until > 0,
                .phase = m->assess->phase,
                .confirmed = m->assess->confirmed,
                .trial_expired = m->assess->trial_expired,
                .trial_timeout_action = m->config->assessment.trial_timeout_action,
                .steady_action = m->config->assessment.steady_action,
                .budget_spent = m->budget_spent,
                .reset_decided = m->reset_decided,
                .config_invalid = m->config_error,
                .start_failed = m->starts > STARTS_MAX,
        };
        FeedDecision d = feed_decide(&in);
        char why[CHECK_DETAIL_MAX + 128];

        if (d.reason == STARVE_STEADY_CHECK && !manager_take_budget(m)) {
                in.budget_spent = true;
                d = feed_decide(&in);
        }

        m->decision = d;
        if (m->open_deferred)
                manager_open_deferred(m, d);
        if (!d.feed && !m->reset_decided) {
                bool by_check = d.reason == STARVE_TRIAL_CHECK || d.reason == STARVE_STEADY_CHECK;

                m->reset_decided = true;
                manager_starved(m, d.reason, by_check && culprit ? culprit->config->name : NULL,
                                manager_starve_why(m, d.reason, culprit, why, sizeof(why)));
        } else if (feed_degraded(d.reason)) {
                m->budget_spent = d.reason == FEED_BUDGET_SPENT;
                if (!m->assess->degraded)
                        manager_degraded(m, d.reason, culprit);
        } else if (d.reason == FEED_HEALTHY) {
                m->budget_spent = false;
                assess_recovered(m->assess);
        } else if (d.reason == FEED_HOLD && culprit)
                log_debug("Check '%s' is failing, but a maintenance hold is on", culprit->config->name);
        manager_update_status(m);
}

static void on_assess_changed(Assessment *a, void *userdata) {
        manager_decide(userdata);
}

/* ---- the maintenance hold */

static int on_hold_over(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        log_notice("The maintenance hold is over: the checks decide again");
        (void) manager_hold_cancel(m);
        return 0;
}

static int manager_arm_hold(Manager *m, usec_t until) {
        m->hold_timer = sd_event_source_disable_unref(m->hold_timer);
        m->hold_until = until;
        return sd_event_add_time(m->event, &m->hold_timer, CLOCK_BOOTTIME, until, USEC_PER_SEC, on_hold_over, m);
}

static bool manager_on_trial(const Manager *m) {
        return m->assess->phase == BOOT_PHASE_TRIAL && !m->assess->confirmed;
}

int manager_hold(Manager *m, usec_t duration) {
        usec_t until = now(CLOCK_BOOTTIME) + duration;
        char t[DURATION_MAX];
        int r;

        if (manager_on_trial(m))
                return -EBUSY;
        if (!m->decision.feed)
                return -ESTALE; /* the reset is already on its way */

        r = hold_save(m->config->supervisor.runtime_directory, m->boot_id, until);
        if (r < 0)
                return r;
        r = manager_arm_hold(m, until);
        if (r < 0)
                return r;
        log_struct(LOG_WARNING, LOG_FIELDS({ "MESSAGE_ID", MESSAGE_HOLD }),
                   "Maintenance hold for %s: feeding the watchdog whatever the checks say",
                   format_duration(t, sizeof(t), duration));
        manager_decide(m);
        return 0;
}

int manager_hold_cancel(Manager *m) {
        bool had = m->hold_until > 0;

        m->hold_until = 0;
        m->hold_timer = sd_event_source_disable_unref(m->hold_timer);
        (void) hold_remove(m->config->supervisor.runtime_directory);
        if (!had)
                return -ENOENT;
        log_notice("Maintenance hold ended");
        manager_decide(m);
        return 0;
}

/* A hold set before a daemon restart in this boot still applies. */
static void manager_load_hold(Manager *m) {
        const char *dir = m->config->supervisor.runtime_directory;
        usec_t until;

        if (hold_load(dir, m->boot_id, &until) <= 0)
                return;
        if (until <= now(CLOCK_BOOTTIME) || manager_on_trial(m)) {
                (void) hold_remove(dir);
                return;
        }
        if (manager_arm_hold(m, until) >= 0)
                log_warning("A maintenance hold set earlier in this boot is still on: feeding whatever the checks say");
}

/* ---- the checks */

static void on_check_result(Check *c, CheckEvent event, void *userdata) {
        Manager *m = userdata;
        const CheckConfig *cc = c->config;
        const char *role = cc->environmental ? "Environmental" : cc->required ? "Required" : "Wanted";

        switch (event) {
        case CHECK_EVENT_RESULT:
                assess_checks(m->assess, manager_all_pass(m));
                if (c->result == CHECK_RESULT_FAIL && !c->state.failing)
                        log_notice("%s check '%s' failed (%u of %u before it counts): %s", role, cc->name,
                                   c->state.consecutive_failures, cc->fail_after.n, c->detail);
                else
                        log_debug("Check '%s': %s: %s", cc->name, c->result == CHECK_RESULT_PASS ? "pass" : "fail",
                                  c->detail);
                return;

        case CHECK_EVENT_REPAIR_STARTED:
                log_struct(LOG_WARNING,
                           LOG_FIELDS({ "MESSAGE_ID", MESSAGE_CHECK_REPAIR },
                                      { "HEALTHDOG_CHECK", cc->name },
                                      { "HEALTHDOG_DETAIL", c->detail }),
                           "%s check '%s' is failing (%s): repair attempt %u of %u", role, cc->name, c->detail,
                           c->repairs, cc->repair_max);
                return;

        case CHECK_EVENT_REPAIR_DONE:
                log_full_errno(c->repair_ok ? LOG_NOTICE : LOG_WARNING, 0, "Repair %u of check '%s' %s: %s",
                               c->repairs, cc->name, c->repair_ok ? "done" : "failed", c->repair_detail);
                return;

        case CHECK_EVENT_FAILING:
                log_struct(cc->required && !cc->environmental ? LOG_ERR : LOG_WARNING,
                           LOG_FIELDS({ "MESSAGE_ID", MESSAGE_CHECK_FAILING },
                                      { "HEALTHDOG_CHECK", cc->name },
                                      { "HEALTHDOG_DETAIL", c->detail },
                                      { "HEALTHDOG_REQUIRED", cc->required ? "yes" : "no" },
                                      { "HEALTHDOG_ENVIRONMENTAL", cc->environmental ? "yes" : "no" }),
                           "%s check '%s' is now failing: %s%s", role, cc->name, c->detail,
                           cc->required && !cc->environmental && m->in_grace && m->decision.feed
                                   ? " (startup grace: still feeding)" : "");
                break;

        case CHECK_EVENT_HEALTHY:
                log_struct(LOG_NOTICE,
                           LOG_FIELDS({ "MESSAGE_ID", MESSAGE_CHECK_HEALTHY },
                                      { "HEALTHDOG_CHECK", cc->name },
                                      { "HEALTHDOG_DETAIL", c->detail }),
                           "%s check '%s' is healthy again: %s", role, cc->name, c->detail);
                break;
        }

        manager_decide(m);
        assess_checks(m->assess, manager_all_pass(m));
}

static int on_ping(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;
        usec_t next = usec + m->ping_interval, t = now(CLOCK_BOOTTIME);
        int r;

        if (m->decision.feed) {
                r = wdt_ping(m->watchdog);
                if (r < 0)
                        log_warning_errno(r, "Failed to ping '%s': %m, retrying at the next tick", m->watchdog->path);
        }

        /* Keep to the planned grid; after a stall, start again from now rather than catch up. */
        if (next <= t)
                next = t + m->ping_interval;
        m->context.tick_base = next;
        r = sd_event_source_set_time(s, next);
        if (r >= 0)
                r = sd_event_source_set_enabled(s, SD_EVENT_ON);
        return r;
}

static int on_grace_over(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        m->in_grace = false;
        log_info("Startup grace is over: failing required checks now stop the feeding");
        manager_decide(m);
        return 0;
}

static int manager_create_checks(Manager *m, Config *config, Check **old, size_t n_old) {
        Check **checks = calloc(config->n_checks ?: 1, sizeof(Check *));
        int r;

        if (!checks)
                return -ENOMEM;

        for (size_t i = 0; i < config->n_checks; i++) {
                const CheckConfig *cc = config->checks[i];
                const Check *prev = NULL;
                usec_t delay = cc->start_delay;

                r = check_new(&checks[i], &m->context, cc, on_check_result, m);
                if (r < 0)
                        goto fail;
                checks[i]->allow_repair = true;

                /* A reload keeps what a check of the same name and type has counted so far:
                 * reloading must not be a way to forget a failure. */
                for (size_t j = 0; j < n_old; j++)
                        if (streq(old[j]->config->name, cc->name) && old[j]->config->kind == cc->kind)
                                prev = old[j];
                if (prev) {
                        checks[i]->state = prev->state;
                        checks[i]->repairs = prev->repairs;
                        checks[i]->result = prev->result;
                        checks[i]->duration = prev->duration;
                        checks[i]->last_run_realtime = prev->last_run_realtime;
                        memcpy(checks[i]->detail, prev->detail, sizeof(checks[i]->detail));
                        delay = cc->interval;
                }

                r = check_schedule(checks[i], delay);
                if (r < 0)
                        goto fail;
        }

        m->checks = checks;
        m->n_checks = config->n_checks;
        return 0;

fail:
        for (size_t i = 0; i < config->n_checks; i++)
                check_free(checks[i]);
        free(checks);
        return r;
}

static void manager_free_checks(Check **checks, size_t n) {
        for (size_t i = 0; i < n; i++)
                check_free(checks[i]);
        free(checks);
}

/* The device may not take the configured timeout exactly; ping well inside what it really has. */
static void manager_set_ping_interval(Manager *m) {
        const WatchdogConfig *w = &m->config->watchdog;
        char a[DURATION_MAX], b[DURATION_MAX];

        m->ping_interval = m->context.tick_period = w->interval;
        if (m->watchdog && m->watchdog->timeout < 2 * w->interval) {
                m->ping_interval = m->context.tick_period = m->watchdog->timeout / 3;
                log_warning("'%s' runs with a timeout of %s: pinging every %s instead of the configured interval",
                            m->watchdog->path, format_duration(a, sizeof(a), m->watchdog->timeout),
                            format_duration(b, sizeof(b), m->ping_interval));
        }
}

/* After the interval changed: the next ping comes within the new interval, not at the time the
 * old one planned (a shorter timeout would fire before that). */
static void manager_reaim_ping(Manager *m) {
        usec_t next, t = now(CLOCK_BOOTTIME);
        int r;

        if (!m->ping_timer || sd_event_source_get_time(m->ping_timer, &next) < 0 || next <= t + m->ping_interval)
                return;
        m->context.tick_base = t + m->ping_interval;
        r = sd_event_source_set_time(m->ping_timer, m->context.tick_base);
        if (r < 0)
                log_error_errno(r, "Failed to move the next ping: %m");
}

int manager_reload(Manager *m, char **ret_error) {
        _cleanup_(config_freep) Config *config = NULL;
        ConfigErrors errors = {};
        Config *old_config;
        Check **old_checks;
        size_t n_old, n_errors = 0;
        int r;

        log_info("Reloading the configuration from '%s'", m->config_path);
        r = config_load(m->config_path, m->dropin_dirs, &config, &errors);
        for (char **e = errors.lines; e && *e; e++, n_errors++)
                log_error("%s", *e);
        if (r < 0 && ret_error) {
                if (n_errors == 0)
                        *ret_error = strdup(strerror(-r));
                else if (asprintf(ret_error, "%s%s", errors.lines[0],
                                  n_errors > 1 ? " (and more errors: healthdog config check)" : "") < 0)
                        *ret_error = NULL;
        }
        config_errors_clear(&errors);
        if (r < 0)
                return log_error_errno(r, "Reload failed: %m; keeping the running configuration");

        (void) sd_notify(false, "RELOADING=1");

        if (!streq(config->watchdog.device, m->config->watchdog.device))
                log_warning("device= changed from '%s' to '%s': that takes a restart, ignoring",
                            m->config->watchdog.device, config->watchdog.device);
        /* WDIOC_SETTIMEOUT pings the device (Linux's watchdog core), and a longer timeout would
         * postpone a reset already decided: once the feeding stopped, the device is left alone. */
        if (m->watchdog && config->watchdog.timeout != m->config->watchdog.timeout) {
                if (!m->decision.feed)
                        log_notice("Not changing the timeout of '%s': the feeding stopped, the reset stands",
                                   m->watchdog->path);
                else {
                        r = wdt_set_timeout(m->watchdog, config->watchdog.timeout);
                        if (r < 0)
                                log_warning_errno(r, "Failed to change the timeout of '%s': %m, ignoring",
                                                  m->watchdog->path);
                }
        }

        old_config = m->config;
        old_checks = m->checks;
        n_old = m->n_checks;
        m->checks = NULL;
        m->n_checks = 0;

        r = manager_create_checks(m, config, old_checks, n_old);
        if (r < 0) {
                m->checks = old_checks;
                m->n_checks = n_old;
                (void) sd_notify(false, "READY=1");
                return log_error_errno(r, "Reload failed: %m; keeping the running configuration");
        }
        /* Running probes of the old checks are cancelled (their process groups killed). */
        manager_free_checks(old_checks, n_old);
        m->config = TAKE_PTR(config);
        assess_set_config(m->assess, m->config);
        /* The probes that used the old connection are gone with the old checks: a new address
         * takes a new connection, opened by the next probe that needs it. */
        if (!streq(strempty(old_config->supervisor.dbus_address), strempty(m->config->supervisor.dbus_address)))
                check_context_done(&m->context);
        m->context.bus_address = m->config->supervisor.dbus_address;
        config_free(old_config);

        manager_set_ping_interval(m);
        manager_reaim_ping(m);
        log_info("Configuration reloaded: %zu checks", m->n_checks);
        if (m->config_error)
                log_notice("The configuration loads again: no longer running with the last one that did");
        free(m->config_error);
        m->config_error = NULL;
        m->config_errors = 0;
        m->config_settings_only = false;
        r = last_good_save(state_dir(m), m->config);
        if (r < 0)
                log_warning_errno(r, "Failed to keep the configuration in '%s/%s': %m, ignoring", state_dir(m),
                                  LAST_GOOD_FILE);
        manager_decide(m);
        (void) sd_notify(false, "READY=1");
        return 0;
}

/* ---- the control socket's requests */

static int op_status(void *userdata, char **ret) {
        Manager *m = userdata;

        return status_json(&(StatusSource) {
                        .running = true,
                        .config = m->config,
                        .assess = m->assess,
                        .watchdog = m->watchdog,
                        .ping_interval = m->ping_interval,
                        .feeding = m->decision.feed,
                        .starve_reason = m->decision.feed ? NULL : m->starve_detail,
                        .hold_until = m->hold_until,
                        .config_error = m->config_error,
                        .config_errors = m->config_errors,
                        .checks = m->checks,
                        .n_checks = m->n_checks,
                }, ret);
}

static int op_mark_good(void *userdata, char **ret_error) {
        Manager *m = userdata;
        int r = assess_mark_good(m->assess), k = 0;

        switch (r) {
        case 0:
                break;
        case -EPERM:
                k = asprintf(ret_error, "not a trial boot (this boot is %s)", boot_phase_to_string(m->assess->phase));
                break;
        case -EALREADY:
                k = asprintf(ret_error, "already confirmed");
                break;
        case -ESTALE:
                k = asprintf(ret_error, "refused: the trial failed, the reset is already on its way");
                break;
        case -EIO:
                k = asprintf(ret_error, "cannot write the boot environment through '%s': the trial stays "
                             "unconfirmed, healthdog retries in 1min", boot_location(&m->config->bootloader));
                break;
        }
        if (k < 0)
                *ret_error = NULL;
        return r;
}

static int op_hold(void *userdata, usec_t duration, usec_t *ret_until, char **ret_error) {
        Manager *m = userdata;
        int r = manager_hold(m, duration), k = 0;

        if (r == -EBUSY)
                k = asprintf(ret_error, "refused during a trial boot: the hold would hide the verdict");
        else if (r == -ESTALE)
                k = asprintf(ret_error, "refused: healthdog stopped feeding the watchdog, the reset is already on its way");
        if (k < 0)
                *ret_error = NULL;
        *ret_until = now(CLOCK_REALTIME) + duration;
        return r;
}

static int op_hold_cancel(void *userdata, char **ret_error) {
        int r = manager_hold_cancel(userdata);

        if (r == -ENOENT)
                *ret_error = strdup("no hold");
        return r;
}

static int op_reload(void *userdata, char **ret_error) {
        _cleanup_(freep) char *error = NULL;
        int r = manager_reload(userdata, &error);

        if (r < 0 && asprintf(ret_error, "configuration rejected, the running one is kept: %s",
                              error ?: strerror(-r)) < 0)
                *ret_error = NULL;
        return r;
}

static const ControlOps control_ops = {
        .status = op_status,
        .mark_good = op_mark_good,
        .hold = op_hold,
        .hold_cancel = op_hold_cancel,
        .reload = op_reload,
};

/* ---- lifetime */

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = userdata;

        if (si->ssi_signo == SIGHUP) {
                (void) manager_reload(m, NULL);
                return 0;
        }
        log_info("Received %s, stopping", sigabbrev_np((int) si->ssi_signo));
        m->stopped_by_signal = true;
        (void) sd_notify(false, "STOPPING=1");
        return sd_event_exit(sd_event_source_get_event(s), 0);
}

int manager_set_config_invalid(Manager *m, const char *first, size_t n, bool settings_only) {
        char *copy = strdup(first);

        if (!copy)
                return -ENOMEM;
        free(m->config_error);
        m->config_error = copy;
        m->config_errors = n;
        m->config_settings_only = settings_only;
        return 0;
}

void manager_set_starts(Manager *m, unsigned starts) {
        m->starts = starts;
}

int manager_new(Manager **ret, const char *config_path, Config *config) {
        _cleanup_(manager_freep) Manager *m = calloc(1, sizeof(Manager));
        sigset_t mask;
        sd_id128_t id;
        int r;

        if (!m)
                return -ENOMEM;
        m->config = config;
        m->config_path = strdup(config_path);
        m->dropin_dirs = config_dropin_dirs(config_path);
        if (!m->config_path || !m->dropin_dirs)
                return -ENOMEM;
        r = sd_id128_get_boot(&id);
        if (r < 0)
                return r;
        sd_id128_to_string(id, m->boot_id);

        /* sd-event takes these through signalfd and child sources: they must be blocked. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        sigaddset(&mask, SIGCHLD);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;
        /* A write to a vanished pipe peer is an error to handle, not a reason to die. */
        (void) signal(SIGPIPE, SIG_IGN);

        r = sd_event_new(&m->event);
        if (r < 0)
                return r;
        m->context.event = m->event;
        m->context.bus_address = config->supervisor.dbus_address;
        if ((r = sd_event_add_signal(m->event, &m->sigterm_source, SIGTERM, on_signal, m)) < 0 ||
            (r = sd_event_add_signal(m->event, &m->sigint_source, SIGINT, on_signal, m)) < 0 ||
            (r = sd_event_add_signal(m->event, &m->sighup_source, SIGHUP, on_signal, m)) < 0)
                return r;
        /* WATCHDOG=1 to systemd from the loop itself: if the loop hangs, systemd notices. */
        r = sd_event_set_watchdog(m->event, true);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(m);
        return 0;
}

static void manager_setup_realtime(Manager *m) {
        unsigned prio = m->config->supervisor.realtime_priority;
        struct sched_param p = { .sched_priority = (int) prio };
        int policy;

        if (prio == 0)
                return;
        /* Under systemd the unit sets the policy (CPUSchedulingPolicy=fifo), and its system call
         * filter keeps the daemon from changing it: what is already in place is taken as it is.
         * Else the daemon switches itself, with RESET_ON_FORK: probes run with normal priority,
         * never as realtime tasks. */
        policy = sched_getscheduler(0);
        if (policy >= 0 && (policy & ~SCHED_RESET_ON_FORK) == SCHED_FIFO) {
                if (sched_getparam(0, &p) < 0)
                        p.sched_priority = 0;
                if (!(policy & SCHED_RESET_ON_FORK))
                        log_warning("Running SCHED_FIFO without reset-on-fork: probes and hooks are set back to "
                                    "normal scheduling as they start (CPUSchedulingResetOnFork=yes in the unit "
                                    "saves that step), ignoring");
        } else if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &p) < 0) {
                log_warning_errno(errno, "Failed to switch to SCHED_FIFO priority %u: %m (under systemd, set "
                                  "CPUSchedulingPolicy=fifo, CPUSchedulingPriority=%u and "
                                  "CPUSchedulingResetOnFork=yes in a drop-in), ignoring", prio, prio);
                return;
        }
        /* Pages faulted back in under memory pressure would delay the ping. */
        if (mlockall(MCL_CURRENT | MCL_FUTURE) < 0)
                log_warning_errno(errno, "Failed to lock memory (allowed by LimitMEMLOCK= or CAP_IPC_LOCK): %m, ignoring");
        else
                log_info("Running with SCHED_FIFO priority %d and locked memory", p.sched_priority);
}

static void manager_log_watchdog(Manager *m) {
        const Watchdog *w = m->watchdog;
        char t[DURATION_MAX];
        static const struct {
                unsigned flag;
                const char *what;
        } notes[] = {
                { WDT_NO_IDENTITY,   "does not report its identity (WDIOC_GETSUPPORT)" },
                { WDT_NO_SETTIMEOUT, "does not take a timeout (WDIOC_SETTIMEOUT): keeping its own" },
                { WDT_NO_GETTIMEOUT, "does not report its timeout (WDIOC_GETTIMEOUT): assuming the configured one" },
                { WDT_NO_PRETIMEOUT, "does not support a pretimeout" },
                { WDT_NO_BOOTSTATUS, "does not report why the system last reset (WDIOC_GETBOOTSTATUS)" },
                { WDT_NO_KEEPALIVE,  "does not support WDIOC_KEEPALIVE: pinging by write()" },
        };

        const unsigned none = WDT_NO_IDENTITY | WDT_NO_SETTIMEOUT | WDT_NO_GETTIMEOUT | WDT_NO_BOOTSTATUS |
                              WDT_NO_KEEPALIVE;

        /* A device that answers no watchdog ioctl at all (a FIFO, a character device of another
         * kind) gets one line rather than five. */
        if ((w->unsupported & none) == none)
                log_warning("'%s' answers no watchdog ioctl (is it a watchdog?): pinging by write(), "
                            "assuming the configured timeout%s", w->path,
                            m->config->watchdog.pretimeout > 0 ? "; the pretimeout is not supported" : "");
        else
                for (size_t i = 0; i < ELEMENTSOF(notes); i++)
                        if (w->unsupported & notes[i].flag)
                                log_warning("'%s' %s, ignoring", w->path, notes[i].what);

        log_struct(LOG_INFO,
                   LOG_FIELDS({ "MESSAGE_ID", MESSAGE_WATCHDOG_ARMED }, { "HEALTHDOG_DEVICE", w->path },
                              { "HEALTHDOG_IDENTITY", w->identity }),
                   "Armed '%s'%s%s%s, timeout %s", w->path, w->identity[0] ? " (" : "", w->identity,
                   w->identity[0] ? ")" : "", format_duration(t, sizeof(t), w->timeout));
        if (wdt_caused_last_reset(w))
                log_warning("The last reset of this system was caused by the watchdog");
}

static int manager_open_watchdog(Manager *m) {
        const WatchdogConfig *wc = &m->config->watchdog;
        _cleanup_(freep) char *tried = NULL;
        int r;

        r = wdt_open(wc->device, wc->timeout, wc->pretimeout, &m->watchdog, &tried);
        if (r == -EBUSY)
                return log_error_errno(r,
                        "Failed to open '%s': %m. Another process holds the watchdog: most often systemd "
                        "(RuntimeWatchdogSec= in /etc/systemd/system.conf: set it to off and run "
                        "'systemctl daemon-reexec') or a watchdog daemon (wd_keepalive, watchdog, "
                        "watchdogd: stop and disable it). Only one process can feed the device.",
                        tried ?: wc->device);
        if (r < 0)
                return log_error_errno(r, "Failed to open '%s': %m", tried ?: wc->device);
        manager_log_watchdog(m);
        manager_set_ping_interval(m);

        /* wdt_open() pinged already: the next one is due an interval from now. */
        m->context.tick_base = now(CLOCK_BOOTTIME) + m->ping_interval;
        r = sd_event_add_time(m->event, &m->ping_timer, CLOCK_BOOTTIME, m->context.tick_base, 1, on_ping, m);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the ping timer: %m");
        /* When a ping and a check are due at once, the ping goes first. */
        (void) sd_event_source_set_priority(m->ping_timer, SD_EVENT_PRIORITY_IMPORTANT);
        return 0;
}

/* Whether this boot already decided to let the watchdog fire (before a restart of the daemon):
 * learnt before the device is touched, since opening or programming it pings it. An earlier
 * boot's reason goes to the assessment in *ret_previous. */
static void manager_load_reset_reason(Manager *m, char **ret_previous) {
        _cleanup_(freep) char *json = NULL;
        int r;

        r = reset_reason_read(state_dir(m), m->boot_id, &json);
        if (r < 0)
                log_warning_errno(r, "Failed to read the reset reason in '%s': %m, ignoring", state_dir(m));
        else if (r == RESET_REASON_PREVIOUS_BOOT)
                *ret_previous = TAKE_PTR(json);
        else if (r == RESET_REASON_THIS_BOOT) {
                m->reset_decided = true;
                snprintf(m->starve_detail, sizeof(m->starve_detail), "decided before a restart");
                log_struct(LOG_CRIT, LOG_FIELDS({ "MESSAGE_ID", MESSAGE_WATCHDOG_STARVE }),
                           "A reset was decided earlier in this boot (%s/%s): not feeding", state_dir(m),
                           RESET_REASON_FILE);
        }
}

int manager_start(Manager *m) {
        char *previous_reset = NULL;
        bool watchdog_reset;
        int r;

        r = mkdir_p(state_dir(m), 0755);
        if (r < 0)
                return log_error_errno(r, "Failed to create the state directory '%s': %m", state_dir(m));
        manager_load_reset_reason(m, &previous_reset);

        if (!m->config_error) {
                r = last_good_save(state_dir(m), m->config);
                if (r < 0)
                        log_warning_errno(r, "Failed to keep the configuration in '%s/%s': %m, ignoring", state_dir(m),
                                          LAST_GOOD_FILE);
        } else
                log_struct(LOG_CRIT, LOG_FIELDS({ "MESSAGE_ID", MESSAGE_CONFIG_INVALID },
                                                { "HEALTHDOG_DETAIL", m->config_error }),
                           "The configuration in '%s' does not load (%zu error%s, the first: %s): running with %s; "
                           "an unconfirmed trial fails for it", m->config_path, m->config_errors,
                           m->config_errors == 1 ? "" : "s", m->config_error,
                           m->config_settings_only ? "its settings only, no checks (no configuration ever loaded here)"
                                                   : "the last one that loaded");
        if (m->starts > STARTS_MAX)
                log_warning("healthdog started %u times in this boot (more than %d without a clean stop): an "
                            "unconfirmed trial fails for it", m->starts, STARTS_MAX);

        manager_setup_realtime(m);

        if (streq(m->config->watchdog.device, "none")) {
                log_notice("device = none: dry run, no watchdog is armed and nothing resets this system");
                manager_set_ping_interval(m);
        } else if (m->reset_decided) {
                /* Left armed by the daemon that decided it; opening it again would ping it. */
                log_notice("Not opening '%s': it was left armed and resets this system when it times out",
                           m->config->watchdog.device);
                manager_set_ping_interval(m);
        } else if (m->config_settings_only || m->starts > STARTS_MAX) {
                /* Opening it pings it: not before the decision says whether it is to be fed. */
                log_notice("Not opening '%s' before the boot's phase is known", m->config->watchdog.device);
                m->open_deferred = true;
                manager_set_ping_interval(m);
        } else {
                r = manager_open_watchdog(m);
                if (r < 0) {
                        free(previous_reset);
                        return r;
                }
        }

        if (m->config->supervisor.startup_grace > 0) {
                m->in_grace = true;
                r = sd_event_add_time_relative(m->event, &m->grace_timer, CLOCK_MONOTONIC,
                                               m->config->supervisor.startup_grace, USEC_PER_MSEC, on_grace_over, m);
                if (r < 0) {
                        free(previous_reset);
                        return log_error_errno(r, "Failed to set up the startup grace timer: %m");
                }
        }

        m->started_realtime = now(CLOCK_REALTIME);
        watchdog_reset = m->watchdog && wdt_caused_last_reset(m->watchdog);
        r = assess_new(&m->assess, m->event, m->config, m->boot_id, m->started_realtime, on_assess_changed, m);
        if (r < 0) {
                free(previous_reset);
                return log_error_errno(r, "Failed to set up the boot assessment: %m");
        }
        assess_start(m->assess, watchdog_reset, previous_reset, m->reset_decided);
        manager_load_hold(m);

        r = manager_create_checks(m, m->config, NULL, 0);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the checks: %m");
        if (m->n_checks == 0)
                log_notice("No checks configured: feeding the watchdog unconditionally");
        assess_checks(m->assess, manager_all_pass(m));

        /* Supervision matters more than being controllable: go on without the socket. */
        r = control_new(&m->control, m->event, m->config->supervisor.runtime_directory, &control_ops, m);
        if (r < 0)
                log_warning_errno(r, "Failed to set up the control socket in '%s': %m, ignoring",
                                  m->config->supervisor.runtime_directory);

        log_info("Supervising %zu checks", m->n_checks);
        manager_decide(m);
        (void) sd_notify(false, "READY=1");
        return 0;
}

int manager_run(Manager *m) {
        return sd_event_loop(m->event);
}

void manager_stop(Manager *m) {
        char t[DURATION_MAX];
        int r;

        if (!m->watchdog)
                return;
        /* During an unconfirmed trial the device stays armed whatever disarm-on-stop says: a stop
         * must not let a trial boot escape its verdict. */
        if (m->config->watchdog.disarm_on_stop && m->decision.feed && m->stopped_by_signal && !manager_on_trial(m)) {
                r = wdt_disarm(TAKE_PTR(m->watchdog));
                if (r < 0)
                        log_warning_errno(r, "Failed to disarm the watchdog: %m; it may still reset the system");
                else
                        log_info("Watchdog disarmed (disarm-on-stop = yes)");
                return;
        }
        log_notice("Leaving '%s' armed: it resets the system within %s unless it is fed again", m->watchdog->path,
                   format_duration(t, sizeof(t), m->watchdog->timeout));
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        control_free(m->control);
        manager_free_checks(m->checks, m->n_checks);
        assess_free(m->assess);
        sd_event_source_disable_unref(m->hold_timer);
        check_context_done(&m->context);
        sd_event_source_disable_unref(m->ping_timer);
        sd_event_source_disable_unref(m->grace_timer);
        sd_event_source_disable_unref(m->sigterm_source);
        sd_event_source_disable_unref(m->sigint_source);
        sd_event_source_disable_unref(m->sighup_source);
        sd_event_unref(m->event);
        /* Never the magic close here: a crash or a failed start must leave the device armed. */
        wdt_free(m->watchdog);
        config_free(m->config);
        strv_free(m->dropin_dirs);
        free(m->config_path);
        free(m->config_error);
        free(m);
        return NULL;
}
