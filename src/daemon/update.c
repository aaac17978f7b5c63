/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdarg.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-id128.h>
#include <time.h>

#include "assess.h"
#include "deploy-note.h"
#include "helper.h"
#include "json.h"
#include "log.h"
#include "ostree-exit.h"
#include "update.h"
#include "update-note.h"
#include "update-progress.h"
#include "verdicts.h"

typedef struct Update {
        const Config *config;
        const UpdateOptions *o;
        const char *refspec;                    /* --ref, [update] refspec=, or NULL: the origin */
        Assessment *assessment;
        char boot_id[BOOT_ID_MAX];
        bool tty;
        /* What update-check found. */
        char checksum[UPDATE_CHECKSUM_LEN + 1];
        char version[128];
        char from[UPDATE_CHECKSUM_LEN + 1];
        char *found_refspec;
        char deployment[128];
        /* What `healthdog status` shows of it (RUNTIME/update): kept from the lock on. */
        int lock_fd;
        bool progress_failed;            /* said once */
        UpdateProgress progress;
        char why[1024];                  /* the last error said, for a "failed" step */
        char helper_said[1000];          /* the last line of the helper's stderr */
        uint64_t helper_max_rss_kb;      /* of the pull; 0: not pulled */
} Update;

static const char *state_dir(const Update *u) {
        return u->config->supervisor.state_directory;
}

static const char *runtime_dir(const Update *u) {
        return u->config->supervisor.runtime_directory;
}

/* One line per step: plain on a terminal, the journal (or stderr with a priority) otherwise. */
_printf_(3, 4) static void step(Update *u, int level, const char *format, ...) {
        char line[1024];
        va_list ap;

        va_start(ap, format);
        vsnprintf(line, sizeof(line), format, ap);
        va_end(ap);
        if (level <= LOG_ERR)
                snprintf(u->why, sizeof(u->why), "%s", line);
        if (u->tty && !u->o->json)
                printf("%s\n", line);
        else
                (void) log_full_errno(level, 0, "%s", line);
}

/* Writes RUNTIME/update at a step, when the update took the lock. Progress for a person: a
 * failure is said once and changes nothing else. */
static void progress(Update *u, UpdateStep s) {
        UpdateProgress *p = &u->progress;
        int r;

        if (u->lock_fd < 0)
                return;
        p->step = s;
        snprintf(p->refspec, sizeof(p->refspec), "%s", u->found_refspec ?: u->refspec ?: "");
        snprintf(p->version, sizeof(p->version), "%s", u->version);
        snprintf(p->checksum, sizeof(p->checksum), "%s", u->checksum);
        if (s == UPDATE_STEP_FAILED)
                snprintf(p->reason, sizeof(p->reason), "%s", u->why[0] ? u->why : "failed");
        r = update_progress_save(runtime_dir(u), p);
        if (r < 0 && !u->progress_failed) {
                log_warning_errno(r, "Failed to write '%s/%s': %m, ignoring", runtime_dir(u), UPDATE_PROGRESS_FILE);
                u->progress_failed = true;
        }
}

/* Takes RUNTIME/update.lock: one update at a time. Returns 0 to go on (also without the lock
 * when the runtime directory cannot be written: the update does not need it), or the exit code
 * after saying why not. */
static int progress_begin(Update *u) {
        UpdateProgress other;
        int r;

        r = update_progress_lock(runtime_dir(u), &u->lock_fd);
        if (r == -EBUSY) {
                if (update_progress_load(runtime_dir(u), &other) > 0)
                        step(u, LOG_ERR, "Refusing to update: another healthdog update is running (PID %d, %s)",
                             (int) other.pid, update_step_to_string(other.step));
                else
                        step(u, LOG_ERR, "Refusing to update: another healthdog update is running");
                return UPDATE_EXIT_BUSY;
        }
        if (r < 0) {
                log_warning_errno(r, "Failed to lock '%s/%s': %m, going on without showing the progress in "
                                  "healthdog status", runtime_dir(u), UPDATE_LOCK_FILE);
                return 0;
        }
        /* What an earlier update left is replaced now. */
        (void) update_progress_clear(runtime_dir(u), false);
        u->progress = (UpdateProgress) { .pid = getpid(), .started_usec = now(CLOCK_REALTIME) };
        return 0;
}

/* Runs the helper's verb with --json, its stderr (progress, libostree's messages, the reason
 * for a failure) passed through and its last line kept in u->helper_said, and no time limit (a
 * pull takes what it takes). On a terminal stderr is left to the helper, which then redraws its
 * progress in place; the reason status shows is what the exit code means. Returns its exit code
 * with *ret its result (NULL unless it exited 0 with a JSON object), or -errno; *ret_usage (may
 * be NULL) gets its resource usage. */
static int helper_call(Update *u, char **args, JsonValue **ret, struct rusage *ret_usage) {
        _cleanup_(freep) char *reply = NULL;
        bool tee = !isatty(STDERR_FILENO);
        int code;

        *ret = NULL;
        code = helper_exec(&u->config->ostree, state_dir(u), args, 0, &reply, tee ? u->helper_said : NULL,
                           tee ? sizeof(u->helper_said) : 0, tee ? HELPER_EXEC_TEE : 0, ret_usage);
        if (code == -EINTR || code == -EMSGSIZE) {
                fprintf(stderr, "healthdog update: '%s %s': %s\n", u->config->ostree.helper, args[0],
                        helper_status_to_string(code));
                return OSTREE_EXIT_ERROR;
        }
        if (code == OSTREE_EXIT_OK && json_parse(reply, ret) < 0) {
                fprintf(stderr, "healthdog update: '%s %s' gave no result\n", u->config->ostree.helper, args[0]);
                return OSTREE_EXIT_ERROR;
        }
        return code;
}

/* The update, the verbs' options: --ref and --require-signature where they apply. */
static void helper_args(const Update *u, const char *verb, bool with_checksum, bool signature, char **args) {
        size_t n = 0;

        args[n++] = (char *) verb;
        if (with_checksum) {
                args[n++] = (char *) "--checksum";
                args[n++] = (char *) u->checksum;
        }
        if (u->refspec) {
                args[n++] = (char *) "--ref";
                args[n++] = (char *) u->refspec;
        }
        if (signature && u->config->update.require_signature)
                args[n++] = (char *) "--require-signature";
        args[n] = NULL;
}

/* The exit code for a helper that failed: it said why on stderr, and its last line (or, when it
 * said nothing, what its exit code means) is the reason kept for the "failed" step. */
static int helper_failed(Update *u, const char *verb, int code) {
        if (u->helper_said[0])
                snprintf(u->why, sizeof(u->why), "%s (exit %d)", u->helper_said, code);
        else
                snprintf(u->why, sizeof(u->why), "healthdog-ostree %s: %s (exit %d)", verb, helper_status_to_string(code),
                         code);
        return code == OSTREE_EXIT_UNREACHABLE ? UPDATE_EXIT_TRY_LATER : EXIT_FAILURE;
}

/* Refuses an update while the device has one undecided or not cleaned up, or an environment
 * that cannot be armed. Returns 0 to go on, or the exit code after saying why. */
static int preflight(Update *u) {
        const BootloaderConfig *b = &u->config->bootloader;
        const Bootloader *loader = bootloader_get(b);
        char why[BOOT_STRERROR_MAX];
        BootStore probe;
        UpdateNote note;
        DeployNote pending;
        sd_id128_t id;
        int r;

        if (!loader) {
                step(u, LOG_ERR, "No bootloader is configured ([bootloader] type = none): there is no trial to arm");
                return EXIT_FAILURE;
        }
        if (sd_id128_get_boot(&id) >= 0)
                sd_id128_to_string(id, u->boot_id);
        r = assess_offline(u->config, u->boot_id, &u->assessment);
        if (r < 0) {
                log_error_errno(r, "Failed to assess this boot: %m");
                return EXIT_FAILURE;
        }
        if (u->assessment->env_error < 0) {
                step(u, LOG_ERR, "Refusing to update: the boot environment cannot be read through '%s' (%s), so no "
                     "trial can be armed", loader->location(b),
                     loader->strerror(b, u->assessment->env_error, why, sizeof(why)));
                return EXIT_FAILURE;
        }
        if (update_note_load(state_dir(u), &note) > 0 && streq(note.boot_id, u->boot_id) &&
            loader->armed(u->assessment->env)) {
                step(u, LOG_ERR, "Refusing to update: the update to %s (%s) is armed and deployed already, waiting for "
                     "its reboot", note.version[0] ? note.version : "no version", note.checksum);
                return UPDATE_EXIT_BUSY;
        }
        if (u->assessment->phase == BOOT_PHASE_TRIAL) {
                step(u, LOG_ERR, "Refusing to update: this boot is an unconfirmed trial (%s); it must be confirmed "
                     "(healthdog mark-good) or rolled back first", u->assessment->why);
                return UPDATE_EXIT_BUSY;
        }
        if (u->assessment->phase == BOOT_PHASE_ROLLED_BACK) {
                step(u, LOG_ERR, "Refusing to update: the last update was rolled back (%s) and healthdog has not "
                     "cleaned up after it yet", u->assessment->why);
                return UPDATE_EXIT_BUSY;
        }
        if (deploy_note_load(state_dir(u), &pending) > 0) {
                step(u, LOG_ERR, "Refusing to update: healthdog's OSTree %s%s%s has not finished ('%s/%s'); it "
                     "finishes in the daemon, or is retried when the daemon starts", pending.verb,
                     pending.checksum[0] ? " of " : "", pending.checksum, state_dir(u), DEPLOY_NOTE_FILE);
                return UPDATE_EXIT_BUSY;
        }
        /* A count the bootloader cannot make is refused before anything is pulled. */
        if (loader->arm(b, u->config->update.bootlimit, u->assessment->env, &probe) < 0) {
                step(u, LOG_ERR, "Refusing to update: %s ([update] bootlimit = %u)", probe.what,
                     u->config->update.bootlimit);
                return EXIT_FAILURE;
        }
        return 0;
}

/* Says when and why a quarantined commit failed, from the verdict history. */
static void explain_quarantine(Update *u) {
        _cleanup_(strv_freep) char **records = NULL;
        char when[64] = "an earlier boot", why[512] = "";

        if (verdicts_read(state_dir(u), VERDICTS_MAX, &records) > 0)
                for (char **rec = records; *rec; rec++) {
                        _cleanup_(json_freep) JsonValue *v = NULL;
                        const char *failed;
                        const JsonValue *reset;
                        uint64_t t;

                        if (json_parse(*rec, &v) < 0)
                                continue;
                        failed = json_string(json_get(v, "failed_deployment", NULL));
                        if (!failed || !startswith(failed, u->checksum))
                                continue;
                        if (json_uint(json_get(v, "started_usec", NULL), &t) >= 0) {
                                time_t s = (time_t) (t / USEC_PER_SEC);
                                struct tm tm;

                                if (localtime_r(&s, &tm))
                                        strftime(when, sizeof(when), "%Y-%m-%d", &tm);
                        }
                        reset = json_get(v, "previous_reset", NULL);
                        if (reset)
                                snprintf(why, sizeof(why), " (%s%s%s: %s)",
                                         strempty(json_string(json_get(reset, "reason", NULL))),
                                         json_string(json_get(reset, "check", NULL)) ? " " : "",
                                         strempty(json_string(json_get(reset, "check", NULL))),
                                         strempty(json_string(json_get(reset, "detail", NULL))));
                }
        step(u, LOG_ERR, "Refusing to update: commit %s failed its trial on %s%s; use --force to try it again", u->checksum,
             when, why);
}

/* Asks the remote. Returns 0 with the commit in u and *up_to_date, or the exit code. */
static int find_update(Update *u, bool *up_to_date) {
        _cleanup_(json_freep) JsonValue *v = NULL;
        char *args[8];
        const char *checksum, *from;
        int code;

        helper_args(u, "update-check", false, true, args);
        code = helper_call(u, args, &v, NULL);
        if (code < 0) {
                log_error_errno(code, "Failed to run '%s': %m", u->config->ostree.helper);
                snprintf(u->why, sizeof(u->why), "Failed to run '%s': %s", u->config->ostree.helper, strerror(-code));
                return EXIT_FAILURE;
        }
        if (code != OSTREE_EXIT_OK)
                return helper_failed(u, "update-check", code);
        checksum = json_string(json_get(v, "checksum", NULL));
        from = json_string(json_get(v, "booted", "checksum", NULL));
        if (!checksum || strlen(checksum) != UPDATE_CHECKSUM_LEN || !from) {
                step(u, LOG_ERR, "healthdog-ostree update-check gave an incomplete result");
                return EXIT_FAILURE;
        }
        snprintf(u->checksum, sizeof(u->checksum), "%s", checksum);
        snprintf(u->from, sizeof(u->from), "%s", from);
        snprintf(u->version, sizeof(u->version), "%s", json_string(json_get(v, "version", NULL)) ?: "no version");
        u->found_refspec = strdup(strempty(json_string(json_get(v, "refspec", NULL))));
        if (!u->found_refspec) {
                log_error_errno(ENOMEM, "Failed to check for an update: %m");
                return EXIT_FAILURE;
        }
        if (!json_true(json_get(v, "available", NULL))) {
                step(u, LOG_INFO, "Already up to date with %s: %s (%s) is booted", u->found_refspec, u->version,
                     u->checksum);
                *up_to_date = true;
                return 0;
        }
        if (json_true(json_get(v, "quarantined", NULL)) && !u->o->force) {
                explain_quarantine(u);
                return EXIT_FAILURE;
        }
        return 0;
}

/* "12.3 MiB" */
static char *format_kib(char *buf, size_t size, uint64_t kib) {
        if (kib < 1024)
                snprintf(buf, size, "%" PRIu64 " KiB", kib);
        else
                snprintf(buf, size, "%.1f MiB", (double) kib / 1024.0);
        return buf;
}

static int pull(Update *u) {
        _cleanup_(json_freep) JsonValue *v = NULL;
        _cleanup_(freep) char *pull_file = NULL;
        UpdatePull *figures = &u->progress.pull;
        struct rusage usage = {};
        char *args[12], rss[32];
        size_t n;
        int code;

        step(u, LOG_INFO, "Pulling %s (%s) from %s", u->version, u->checksum, u->found_refspec);
        progress(u, UPDATE_STEP_PULLING);
        helper_args(u, "pull", true, true, args);
        /* The helper keeps the figures of the pull in RUNTIME/update-pull while it runs. */
        if (u->lock_fd >= 0 && path_join(runtime_dir(u), UPDATE_PULL_FILE, &pull_file) >= 0) {
                for (n = 0; args[n]; n++)
                        ;
                args[n++] = (char *) "--progress-file";
                args[n++] = pull_file;
                args[n] = NULL;
        }
        code = helper_call(u, args, &v, &usage);
        (void) update_progress_clear(runtime_dir(u), false);
        if (code != OSTREE_EXIT_OK)
                return code < 0 ? EXIT_FAILURE : helper_failed(u, "pull", code);
        /* ru_maxrss: kilobytes on Linux. */
        u->helper_max_rss_kb = usage.ru_maxrss > 0 ? (uint64_t) usage.ru_maxrss : 0;
        *figures = (UpdatePull) {};
        (void) json_uint(json_get(v, "objects_fetched", NULL), &figures->fetched);
        (void) json_uint(json_get(v, "bytes_transferred", NULL), &figures->bytes);
        if (json_uint(json_get(v, "objects_requested", NULL), &figures->requested) < 0)
                figures->requested = figures->fetched;
        u->progress.have_pull = true;
        step(u, LOG_INFO, "Pulled %s: %" PRIu64 " objects, %" PRIu64 " bytes (healthdog-ostree peak RSS %s)", u->version,
             figures->fetched, figures->bytes, format_kib(rss, sizeof(rss), u->helper_max_rss_kb));
        progress(u, UPDATE_STEP_PULLED);
        return 0;
}

/* Arms the trial (or, with disarm, puts back what was there) in one compare-and-store. Returns
 * 0 or -errno after saying why. */
static int arm(Update *u, bool disarm) {
        const BootloaderConfig *b = &u->config->bootloader;
        const Bootloader *loader = u->assessment->loader;
        char why[BOOT_STRERROR_MAX], vars[256];
        BootStore store;
        int r;

        r = loader->arm(b, u->config->update.bootlimit, u->assessment->env, &store);
        if (r < 0) {
                step(u, LOG_ERR, "Cannot arm the trial: %s ([update] bootlimit = %u)", store.what,
                     u->config->update.bootlimit);
                return r;
        }
        if (disarm)
                /* What was there before, in place of what arming wrote. */
                for (size_t i = 0; i < store.n; i++) {
                        const char *v = store.values[i];
                        store.values[i] = store.expected[i];
                        store.expected[i] = v;
                }
        r = loader->write(b, &store);
        if (r < 0)
                step(u, LOG_ERR, "Failed to %s the trial in the boot environment through '%s': %s", disarm ? "disarm" : "arm",
                     loader->location(b),
                     r == -ESTALE ? "it changed since healthdog read it (another program wrote it): nothing written"
                                  : loader->strerror(b, r, why, sizeof(why)));
        else
                step(u, LOG_INFO, disarm ? "Disarmed the trial: %s again" : "Armed the trial: %s",
                     boot_store_describe(&store, vars, sizeof(vars)));
        return r < 0 ? r : 0;
}

static int deploy(Update *u) {
        _cleanup_(json_freep) JsonValue *v = NULL;
        char *args[8];
        int code;

        helper_args(u, "deploy", true, false, args);
        code = helper_call(u, args, &v, NULL);
        if (code != OSTREE_EXIT_OK)
                return code < 0 ? code : -EIO;
        snprintf(u->deployment, sizeof(u->deployment), "%s", strempty(json_string(json_get(v, "deployment", NULL))));
        step(u, LOG_NOTICE, "Deployed %s (%s) as the new default: the next boot is its trial", u->version, u->deployment);
        return 0;
}

static int reboot_now(Update *u) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_unrefp) sd_bus *bus = NULL;
        int r;

        r = sd_bus_open_system(&bus);
        if (r >= 0)
                r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                       "org.freedesktop.systemd1.Manager", "StartUnit", &error, NULL, "ss",
                                       "reboot.target", "replace-irreversibly");
        if (r < 0) {
                step(u, LOG_ERR, "Failed to reboot (systemd's StartUnit reboot.target): %s; the trial is armed: reboot "
                     "to start it", error.message ?: strerror(-r));
                return EXIT_FAILURE;
        }
        step(u, LOG_NOTICE, "Rebooting into the trial of %s", u->version);
        return EXIT_SUCCESS;
}

/* --json: the outcome. */
static void print_outcome(const Update *u, const char *outcome) {
        _cleanup_(freep) char *buf = NULL;
        size_t len = 0, cap = 0;
        int r;

        if (!u->o->json)
                return;
        r = buf_appendf(&buf, &len, &cap, "{\"outcome\":\"%s\",\"refspec\":", outcome);
        if (r >= 0)
                r = json_append_string(&buf, &len, &cap, strempty(u->found_refspec));
        if (r >= 0)
                r = buf_appendf(&buf, &len, &cap, ",\"checksum\":\"%s\",\"version\":", u->checksum);
        if (r >= 0)
                r = json_append_string(&buf, &len, &cap, u->version);
        if (r >= 0)
                r = buf_appendf(&buf, &len, &cap, ",\"booted\":\"%s\",\"deployment\":", u->from);
        if (r >= 0)
                r = u->deployment[0] ? json_append_string(&buf, &len, &cap, u->deployment)
                                     : buf_appendf(&buf, &len, &cap, "null");
        if (r >= 0)
                r = u->helper_max_rss_kb > 0
                            ? buf_appendf(&buf, &len, &cap, ",\"helper_max_rss_kb\":%" PRIu64 "}", u->helper_max_rss_kb)
                            : buf_appendf(&buf, &len, &cap, ",\"helper_max_rss_kb\":null}");
        if (r >= 0)
                printf("%s\n", buf);
}

/* Arms, deploys, and disarms again when the deployment fails. Returns the exit code. */
static int arm_and_deploy(Update *u) {
        UpdateNote note = { .realtime_usec = now(CLOCK_REALTIME) };
        int r;

        snprintf(note.checksum, sizeof(note.checksum), "%s", u->checksum);
        snprintf(note.from, sizeof(note.from), "%s", u->from);
        snprintf(note.refspec, sizeof(note.refspec), "%s", u->found_refspec);
        snprintf(note.version, sizeof(note.version), "%s", u->version);
        snprintf(note.boot_id, sizeof(note.boot_id), "%s", u->boot_id);
        progress(u, UPDATE_STEP_ARMING);
        r = update_note_save(state_dir(u), &note);
        if (r < 0) {
                step(u, LOG_ERR, "Failed to write '%s/%s': %s", state_dir(u), UPDATE_NOTE_FILE, strerror(-r));
                return EXIT_FAILURE;
        }
        /* Armed first: a power cut from here on boots either the old deployment as an armed
         * trial (the next boot sees that the update was not applied) or the new one, counted. */
        if (arm(u, false) < 0) {
                (void) update_note_clear(state_dir(u));
                return EXIT_FAILURE;
        }
        progress(u, UPDATE_STEP_DEPLOYING);
        r = deploy(u);
        if (r < 0) {
                step(u, LOG_ERR, "The deployment failed: disarming the trial, nothing deployed");
                if (arm(u, true) >= 0)
                        (void) update_note_clear(state_dir(u));
                return EXIT_FAILURE;
        }
        return EXIT_SUCCESS;
}

int update_run(const Config *config, const UpdateOptions *o) {
        Update u = {
                .config = config,
                .o = o,
                .refspec = o->refspec ?: (config->update.refspec && *config->update.refspec ? config->update.refspec : NULL),
                .tty = isatty(STDOUT_FILENO),
                .lock_fd = -1,
        };
        bool up_to_date = false;
        int r;

        /* --check changes nothing, RUNTIME/update included; any other run takes the lock first,
         * so that it decides on what no other update is changing meanwhile. A refusal before the
         * update starts leaves the file of the last one as it was. */
        if (!o->check) {
                r = progress_begin(&u);
                if (r != 0)
                        goto finish;
        }
        r = preflight(&u);
        if (r != 0)
                goto finish;
        progress(&u, UPDATE_STEP_CHECKING);
        r = find_update(&u, &up_to_date);
        if (r == 0 && up_to_date) {
                print_outcome(&u, "up-to-date");
                r = o->check ? UPDATE_EXIT_UP_TO_DATE : EXIT_SUCCESS;
                /* Nothing under way, nothing done: nothing to show. */
                if (u.lock_fd >= 0)
                        (void) update_progress_clear(runtime_dir(&u), true);
                goto finish;
        }
        if (r != 0)
                goto failed;
        if (o->check) {
                step(&u, LOG_INFO, "Update available from %s: %s (%s); booted: %s", u.found_refspec, u.version,
                     u.checksum, u.from);
                print_outcome(&u, "available");
                goto finish;
        }
        r = pull(&u);
        if (r != 0)
                goto failed;
        if (o->download_only) {
                step(&u, LOG_INFO, "Downloaded %s (%s); nothing deployed (--download-only)", u.version, u.checksum);
                progress(&u, UPDATE_STEP_DOWNLOADED);
                print_outcome(&u, "downloaded");
                goto finish;
        }
        r = arm_and_deploy(&u);
        if (r != EXIT_SUCCESS)
                goto failed;
        if (o->no_reboot || !config->update.reboot) {
                step(&u, LOG_NOTICE, "Not rebooting (%s): the trial starts with the next boot",
                     o->no_reboot ? "--no-reboot" : "[update] reboot = no");
                progress(&u, UPDATE_STEP_ARMED);
                print_outcome(&u, "armed");
                goto finish;
        }
        progress(&u, UPDATE_STEP_REBOOTING);
        print_outcome(&u, "rebooting");
        r = reboot_now(&u);
        /* Not rebooting after all: deployed and armed, the trial starts with the next boot. */
        if (r != EXIT_SUCCESS)
                progress(&u, UPDATE_STEP_ARMED);
        goto finish;
failed:
        progress(&u, UPDATE_STEP_FAILED);
finish:
        if (u.lock_fd >= 0)
                close(u.lock_fd);
        assess_free(u.assessment);
        free(u.found_refspec);
        return r;
}
