/* SPDX-License-Identifier: MIT */
/* healthdog-ostree: the short-lived helper through which healthdog changes OSTree deployments.
 * The daemon never links libostree: it runs `healthdog-ostree serve` (through
 * healthdog-ostree.socket, or as its child over a socket pair) and relies on its exit codes and
 * the one JSON object each verb prints with --json, apart from whatever libostree writes to
 * stderr; people run it by hand too, without --json. */
#include <fcntl.h>
#include <inttypes.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <sys/wait.h>

#include "ostree-admin.h"
#include "ostree-deploy.h"
#include "ostree-exit.h"
#include "ostree-quarantine.h"
#include "util.h"
#include "verbs.h"

#ifndef HEALTHDOG_VERSION
#define HEALTHDOG_VERSION "0.1"
#endif
#ifndef HEALTHDOG_STATE_DIR
#define HEALTHDOG_STATE_DIR "/var/lib/healthdog"
#endif

/* What serve() keeps of a verb's output: its result whole (the biggest, status --json, is
 * about 400 bytes a deployment), the last bytes of its messages (the reason for a failure is the
 * last line). */
#define SERVE_REQUEST_MAX 4096
#define SERVE_ARGS_MAX 30
#define SERVE_RESULT_MAX 32768
#define SERVE_MESSAGES_MAX 8192
#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

#define EXIT_CODES_HELP \
        "Exit codes:\n" \
        "  0  done (identify-failed without --json: printed the checksum, or nothing when no deployment\n" \
        "     failed); with --json, standard output holds the one JSON object, and only then\n" \
        "  1  error (the reason, naming the path or checksum, is the last line on stderr)\n" \
        "  2  usage error\n" \
        "  3  not an OSTree system: SYSROOT has no ostree/repo or ostree/deploy, or (identify-failed,\n" \
        "     prune) no deployment of it is booted\n" \
        "  4  the sysroot is locked by another process (an OTA client, ostree admin): try later\n" \
        "  5  refused: that is the booted deployment\n" \
        "  6  refused: that is the staged deployment (an update waiting for its reboot)\n" \
        "  7  refused: that deployment is pinned\n" \
        "  8  no deployment has that name (already removed?)\n" \
        "  9  the remote could not be reached: try later\n" \
        " 10  refused: --require-signature, and the remote verifies no signature (gpg-verify,\n" \
        "     sign-verify)\n"

#define SERVE_HELP \
        "healthdog-ostree serve runs one request from healthdog, through healthdog-ostree.socket\n" \
        "(healthdog-ostree@.service) or as healthdog's child; standard input and output are the\n" \
        "connection. The request: the arguments, each ended by a NUL byte, then end of file (less\n" \
        "than " STRINGIFY(SERVE_REQUEST_MAX) " bytes, at most " STRINGIFY(SERVE_ARGS_MAX) " arguments). The reply:\n" \
        "  RESULT NUL MESSAGES NUL CODE\n" \
        "RESULT is what the verb printed on standard output (with --json: its JSON object when CODE\n" \
        "is 0, else nothing), at most " STRINGIFY(SERVE_RESULT_MAX) " bytes. MESSAGES is what it wrote on stderr,\n" \
        "libostree's messages included: at most its last " STRINGIFY(SERVE_MESSAGES_MAX) " bytes, in whole lines after a\n" \
        "line \"[N bytes of messages dropped]\" when there was more. CODE is its exit code in\n" \
        "decimal (1 when it was killed). Neither part holds a NUL byte (the verb's become spaces).\n"

static const Verb verbs[];
static const Program program;

#define UPDATE_OPTIONS_HELP \
        "      --ref REFSPEC     REMOTE:REF to update from (default: the booted deployment's origin)\n" \
        "      --checksum CHECKSUM\n" \
        "                        the commit (64 hex digits), as update-check found it\n" \
        "      --require-signature\n" \
        "                        refuse a remote that verifies no signature\n"

static const char *arg_sysroot = "/";
static const char *arg_state_dir = HEALTHDOG_STATE_DIR;
static bool arg_verbose;
static bool arg_json;
static const char *arg_deployment;
static unsigned arg_keep = UINT_MAX;
static const char *arg_ref;
static const char *arg_checksum;
static bool arg_require_signature;
static const char *arg_progress_file;

/* The result stream, the text or the JSON object: the real stdout. libostree prints progress to
 * stdout itself ("Freed objects: ..."), so once a verb starts working, file descriptor 1 goes to
 * /dev/null (to stderr with --verbose) and only this stream reaches the caller's stdout. Messages
 * and errors go to stderr. */
static FILE *out;

static const Verb *verb_find(const char *name) {
        return verbs_find(&program, name);
}

static void help_verb(FILE *f, const Verb *v) {
        verbs_help_verb(&program, v, f);
}

static void help(FILE *f) {
        verbs_help(&program, f);
}

static int on_shared_option(int c, const char *arg) {
        switch (c) {
        case 'S':
                arg_sysroot = arg;
                break;
        case 'D':
                arg_state_dir = arg;
                break;
        case 'J':
                arg_json = true;
                break;
        default:
                arg_verbose = true;
        }
        return 0;
}

/* The verbs take no arguments besides their options. */
static int parse_verb_options(const Verb *v, int argc, char *argv[], const struct option *own,
                              option_handler_t on_option) {
        int i = verbs_parse_options(&program, v, argc, argv, own, on_option);

        if (i > 0 && i < argc) {
                fprintf(stderr, "healthdog-ostree %s: unexpected argument '%s'\n", v->name, argv[i]);
                help_verb(stderr, v);
                return -1;
        }
        return i;
}

/* Points file descriptor 1 away from the caller (see out). Returns 0 or -errno. */
static int silence_library(void) {
        _cleanup_(closep) int fd = -1;

        fflush(stdout);
        fd = arg_verbose ? dup(STDERR_FILENO) : open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0)
                return -errno;
        return 0;
}

static int exit_code_for_open(int r) {
        return r == -ENOMEDIUM ? OSTREE_EXIT_NOT_OSTREE : r == -EWOULDBLOCK ? OSTREE_EXIT_LOCKED : OSTREE_EXIT_ERROR;
}

/* Opens the sysroot and lists its deployments. Returns 0, or -errno after reporting it
 * (exit_code_for_open() tells the exit code). */
static int open_and_list(const Verb *v, AdminFlags flags, Admin **ret, Deployment **ret_d, size_t *ret_n) {
        _cleanup_(admin_freep) Admin *a = NULL;
        char err[1024] = "";
        int r;

        r = silence_library();
        if (r < 0) {
                fprintf(stderr, "healthdog-ostree %s: Failed to redirect standard output: %s\n", v->name, strerror(-r));
                return r;
        }
        r = admin_open(arg_sysroot, flags, &a, err, sizeof(err));
        if (r >= 0)
                r = admin_list(a, ret_d, ret_n, err, sizeof(err));
        if (r < 0) {
                fprintf(stderr, "healthdog-ostree %s: %s\n", v->name, err[0] ? err : strerror(-r));
                return r;
        }
        *ret = TAKE_PTR(a);
        return 0;
}

static int print_json(const Deployment *d, size_t n, char **quarantined) {
        _cleanup_(freep) char *buf = NULL;
        size_t len = 0, cap = 0;
        ssize_t booted = deploy_booted(d, n), def = deploy_default(d, n);
        int r;

        r = buf_appendf(&buf, &len, &cap, "{\"sysroot\":");
        if (r >= 0)
                r = json_append_string(&buf, &len, &cap, arg_sysroot);
        if (r >= 0)
                r = booted >= 0 ? buf_appendf(&buf, &len, &cap, ",\"booted\":%zd", booted)
                                : buf_appendf(&buf, &len, &cap, ",\"booted\":null");
        if (r >= 0)
                r = def >= 0 ? buf_appendf(&buf, &len, &cap, ",\"default\":%zd", def)
                             : buf_appendf(&buf, &len, &cap, ",\"default\":null");
        if (r >= 0)
                r = buf_appendf(&buf, &len, &cap, ",\"deployments\":[");
        for (size_t i = 0; r >= 0 && i < n; i++) {
                r = buf_appendf(&buf, &len, &cap, "%s{\"index\":%zu,\"osname\":", i > 0 ? "," : "", i);
                if (r >= 0)
                        r = json_append_string(&buf, &len, &cap, d[i].osname);
                if (r >= 0)
                        r = buf_appendf(&buf, &len, &cap, ",\"checksum\":\"%s\",\"deployserial\":%d,\"version\":",
                                        d[i].checksum, d[i].serial);
                if (r >= 0)
                        r = d[i].version ? json_append_string(&buf, &len, &cap, d[i].version)
                                         : buf_appendf(&buf, &len, &cap, "null");
                if (r >= 0)
                        r = buf_appendf(&buf, &len, &cap,
                                        ",\"booted\":%s,\"default\":%s,\"pending\":%s,\"rollback\":%s,\"staged\":%s,"
                                        "\"pinned\":%s,\"quarantined\":%s}",
                                        d[i].booted ? "true" : "false", d[i].is_default ? "true" : "false",
                                        d[i].pending ? "true" : "false", d[i].rollback ? "true" : "false",
                                        d[i].staged ? "true" : "false", d[i].pinned ? "true" : "false",
                                        strv_contains(quarantined, d[i].checksum) ? "true" : "false");
        }
        if (r >= 0)
                r = buf_appendf(&buf, &len, &cap, "],\"quarantined\":[");
        for (char **q = quarantined; r >= 0 && q && *q; q++)
                r = buf_appendf(&buf, &len, &cap, "%s\"%s\"", q == quarantined ? "" : ",", *q);
        if (r >= 0)
                r = buf_appendf(&buf, &len, &cap, "]}\n");
        if (r < 0)
                return r;
        fputs(buf, out);
        return 0;
}

static void print_table(const Deployment *d, size_t n, char **quarantined) {
        if (n == 0) {
                fprintf(out, "No deployments in %s.\n", arg_sysroot);
                return;
        }
        fprintf(out, "%-5s  %-8s  %-12s  %-10s  %s\n", "INDEX", "STATE", "VERSION", "OSNAME", "DEPLOYMENT");
        for (size_t i = 0; i < n; i++) {
                const char *state = d[i].booted ? "booted" : d[i].staged ? "staged" : d[i].pending ? "pending"
                                  : d[i].rollback ? "rollback" : "-";

                fprintf(out, "%-5zu  %-8s  %-12s  %-10s  %s.%d%s%s%s\n", i, state, d[i].version ?: "-", d[i].osname,
                        d[i].checksum, d[i].serial, d[i].is_default ? " (default)" : "", d[i].pinned ? " (pinned)" : "",
                        strv_contains(quarantined, d[i].checksum) ? " (quarantined)" : "");
        }
}

static int verb_status(int argc, char *argv[]) {
        const Verb *v = verb_find("status");
        _cleanup_(admin_freep) Admin *a = NULL;
        _cleanup_(strv_freep) char **quarantined = NULL;
        Deployment *d = NULL;
        size_t n = 0;
        int i = parse_verb_options(v, argc, argv, NULL, NULL), r;

        if (i <= 0)
                return i == 0 ? OSTREE_EXIT_OK : OSTREE_EXIT_USAGE;
        r = open_and_list(v, 0, &a, &d, &n);
        if (r < 0)
                return exit_code_for_open(r);

        r = quarantine_read(arg_state_dir, &quarantined);
        if (r < 0)
                fprintf(stderr, "healthdog-ostree status: Failed to read %s/%s: %s, ignoring\n", arg_state_dir,
                        QUARANTINE_FILE, strerror(-r));
        if (arg_json)
                r = print_json(d, n, quarantined);
        else {
                print_table(d, n, quarantined);
                r = 0;
        }
        deployments_free(d, n);
        if (r < 0) {
                fprintf(stderr, "healthdog-ostree status: %s\n", strerror(-r));
                return OSTREE_EXIT_ERROR;
        }
        return OSTREE_EXIT_OK;
}

/* Appends "key":D, D the deployment d[i] as identify-failed --json shows it, or "key":null when
 * i < 0. */
static int append_deployment(char **buf, size_t *len, size_t *cap, const char *key, const Deployment *d,
                             ssize_t i) {
        int r;

        if (i < 0)
                return buf_appendf(buf, len, cap, "\"%s\":null", key);
        r = buf_appendf(buf, len, cap, "\"%s\":{\"name\":\"%s.%d\",\"checksum\":\"%s\",\"serial\":%d,\"osname\":", key,
                        d[i].checksum, d[i].serial, d[i].checksum, d[i].serial);
        if (r >= 0)
                r = json_append_string(buf, len, cap, d[i].osname);
        if (r >= 0)
                r = buf_appendf(buf, len, cap, ",\"version\":");
        if (r >= 0)
                r = d[i].version ? json_append_string(buf, len, cap, d[i].version) : buf_appendf(buf, len, cap, "null");
        if (r >= 0)
                r = buf_appendf(buf, len, cap, ",\"staged\":%s,\"pinned\":%s}", d[i].staged ? "true" : "false",
                                d[i].pinned ? "true" : "false");
        return r;
}

/* Writes a verb's JSON object (buf, without the newline) as its result, or reports r. */
static int print_result(const Verb *v, const char *buf, int r) {
        if (r < 0) {
                fprintf(stderr, "healthdog-ostree %s: Failed to format the result: %s\n", v->name, strerror(-r));
                return OSTREE_EXIT_ERROR;
        }
        fprintf(out, "%s\n", buf);
        return OSTREE_EXIT_OK;
}

static int print_identified(const Verb *v, const Deployment *d, size_t n, ssize_t failed) {
        _cleanup_(freep) char *buf = NULL;
        size_t len = 0, cap = 0;
        int r;

        r = buf_appendf(&buf, &len, &cap, "{");
        if (r >= 0)
                r = append_deployment(&buf, &len, &cap, "booted", d, deploy_booted(d, n));
        if (r >= 0)
                r = buf_appendf(&buf, &len, &cap, ",");
        if (r >= 0)
                r = append_deployment(&buf, &len, &cap, "default", d, deploy_default(d, n));
        if (r >= 0)
                r = buf_appendf(&buf, &len, &cap, ",");
        if (r >= 0)
                r = append_deployment(&buf, &len, &cap, "failed", d, failed);
        if (r >= 0)
                r = buf_appendf(&buf, &len, &cap, "}");
        return print_result(v, buf, r);
}

static int verb_identify_failed(int argc, char *argv[]) {
        const Verb *v = verb_find("identify-failed");
        _cleanup_(admin_freep) Admin *a = NULL;
        Deployment *d = NULL;
        size_t n = 0;
        ssize_t failed;
        int i = parse_verb_options(v, argc, argv, NULL, NULL), r;

        if (i <= 0)
                return i == 0 ? OSTREE_EXIT_OK : OSTREE_EXIT_USAGE;
        r = open_and_list(v, 0, &a, &d, &n);
        if (r < 0)
                return exit_code_for_open(r);

        failed = deploy_find_failed(d, n);
        if (failed == -ESRCH) {
                fprintf(stderr, "healthdog-ostree identify-failed: No deployment of '%s' is booted: cannot tell which one failed\n",
                        arg_sysroot);
                r = OSTREE_EXIT_NOT_OSTREE;
        } else if (arg_json)
                r = print_identified(v, d, n, failed);
        else if (failed < 0) {
                if (arg_verbose)
                        fprintf(stderr, "healthdog-ostree identify-failed: The default deployment of '%s' is the booted one\n",
                                arg_sysroot);
                r = OSTREE_EXIT_OK;
        } else {
                fprintf(out, "%s\n", d[failed].checksum);
                r = OSTREE_EXIT_OK;
        }
        deployments_free(d, n);
        return r;
}

/* The JSON of a removal: {"removed":[NAME...],"quarantined":CHECKSUM|null (remove-failed only),
 * "objects_pruned":N,"objects_total":N,"bytes_freed":N}. */
static int print_removal_json(const Verb *v, const Deployment *d, size_t n, const bool *remove, bool with_quarantine,
                              const char *quarantined, const AdminCleanup *stats) {
        _cleanup_(freep) char *buf = NULL;
        size_t len = 0, cap = 0;
        bool first = true;
        int r;

        r = buf_appendf(&buf, &len, &cap, "{\"removed\":[");
        for (size_t i = 0; r >= 0 && i < n; i++)
                if (remove[i]) {
                        r = buf_appendf(&buf, &len, &cap, "%s\"%s.%d\"", first ? "" : ",", d[i].checksum, d[i].serial);
                        first = false;
                }
        if (r >= 0)
                r = buf_appendf(&buf, &len, &cap, "]");
        if (r >= 0 && with_quarantine)
                r = quarantined ? buf_appendf(&buf, &len, &cap, ",\"quarantined\":\"%s\"", quarantined)
                                : buf_appendf(&buf, &len, &cap, ",\"quarantined\":null");
        if (r >= 0)
                r = buf_appendf(&buf, &len, &cap, ",\"objects_pruned\":%d,\"objects_total\":%d,\"bytes_freed\":%llu}",
                                stats->objects_pruned, stats->objects_total, (unsigned long long) stats->bytes_freed);
        return print_result(v, buf, r);
}

static void print_removal_text(const Deployment *d, size_t n, const bool *remove, const AdminCleanup *stats) {
        char size[32];

        for (size_t i = 0; i < n; i++)
                if (remove[i])
                        fprintf(out, "Removed deployment %s.%d (version %s)\n", d[i].checksum, d[i].serial,
                                d[i].version ?: "unknown");
        if (stats->bytes_freed >= 1024 * 1024)
                snprintf(size, sizeof(size), "%.1f MiB", (double) stats->bytes_freed / (1024.0 * 1024.0));
        else
                snprintf(size, sizeof(size), "%llu bytes", (unsigned long long) stats->bytes_freed);
        fprintf(out, "Pruned %d of %d objects, %s freed\n", stats->objects_pruned, stats->objects_total, size);
}

/* Removes the marked deployments, then prints what went (the names are gone from the sysroot
 * after, not from d). with_quarantine: remove-failed's result, quarantined the checksum it added
 * to the quarantine (NULL: it was there already). */
static int remove_marked(const Verb *v, Admin *a, const Deployment *d, size_t n, const bool *remove,
                         bool with_quarantine, const char *quarantined) {
        char err[1024] = "";
        AdminCleanup stats = {};
        int r;

        r = admin_remove(a, remove, n, &stats, err, sizeof(err));
        if (r < 0) {
                fprintf(stderr, "healthdog-ostree %s: %s\n", v->name, err);
                return OSTREE_EXIT_ERROR;
        }
        if (arg_json)
                return print_removal_json(v, d, n, remove, with_quarantine, quarantined, &stats);
        print_removal_text(d, n, remove, &stats);
        return OSTREE_EXIT_OK;
}

static int on_remove_option(const Verb *v, int c, const char *arg) {
        if (!deploy_name_valid(arg)) {
                fprintf(stderr, "healthdog-ostree %s: bad deployment '%s' (expected a checksum of 64 hex digits, "
                        "optionally .SERIAL)\n", v->name, arg);
                return -1;
        }
        arg_deployment = arg;
        return 0;
}

static int verb_remove_failed(int argc, char *argv[]) {
        static const struct option options[] = {
                { "deployment", required_argument, NULL, 'C' },
                { "checksum",   required_argument, NULL, 'C' },
                {}
        };
        const Verb *v = verb_find("remove-failed");
        _cleanup_(admin_freep) Admin *a = NULL;
        _cleanup_(freep) bool *remove = NULL;
        char checksum[DEPLOY_CHECKSUM_LEN + 1];
        Deployment *d = NULL;
        size_t n = 0;
        bool added;
        int i = parse_verb_options(v, argc, argv, options, on_remove_option), r;

        if (i <= 0)
                return i == 0 ? OSTREE_EXIT_OK : OSTREE_EXIT_USAGE;
        if (!arg_deployment) {
                fprintf(stderr, "healthdog-ostree remove-failed: --deployment is required\n");
                help_verb(stderr, v);
                return OSTREE_EXIT_USAGE;
        }
        r = open_and_list(v, ADMIN_WRITE, &a, &d, &n);
        if (r < 0)
                return exit_code_for_open(r);
        snprintf(checksum, sizeof(checksum), "%.*s", DEPLOY_CHECKSUM_LEN, arg_deployment);

        remove = calloc(n ?: 1, sizeof(bool));
        r = remove ? deploy_plan_remove(d, n, arg_deployment, remove) : -ENOMEM;
        switch (r) {
        case -ENOENT:
                fprintf(stderr, "healthdog-ostree remove-failed: No deployment %s in '%s'\n", arg_deployment,
                        arg_sysroot);
                r = OSTREE_EXIT_UNKNOWN;
                goto finish;
        case -EBUSY:
                fprintf(stderr, "healthdog-ostree remove-failed: Refusing to remove %s: it is the booted deployment of '%s'\n",
                        arg_deployment, arg_sysroot);
                r = OSTREE_EXIT_REFUSED_BOOTED;
                goto finish;
        case -EINPROGRESS:
                fprintf(stderr, "healthdog-ostree remove-failed: Refusing to remove %s: it is the staged deployment of '%s', "
                        "an update waiting for its reboot\n", arg_deployment, arg_sysroot);
                r = OSTREE_EXIT_REFUSED_STAGED;
                goto finish;
        case -EPERM:
                fprintf(stderr, "healthdog-ostree remove-failed: Refusing to remove %s: it is pinned in '%s' "
                        "(ostree admin pin --unpin)\n", arg_deployment, arg_sysroot);
                r = OSTREE_EXIT_REFUSED_PINNED;
                goto finish;
        default:
                if (r < 0) {
                        fprintf(stderr, "healthdog-ostree remove-failed: %s\n", strerror(-r));
                        r = OSTREE_EXIT_ERROR;
                        goto finish;
                }
        }

        /* Quarantined first: should the removal fail halfway, the commit is not deployed again
         * meanwhile, and a retry finds the deployment still there. */
        r = quarantine_add(arg_state_dir, checksum);
        if (r < 0) {
                fprintf(stderr, "healthdog-ostree remove-failed: Failed to record %s in %s/%s: %s\n", checksum,
                        arg_state_dir, QUARANTINE_FILE, strerror(-r));
                r = OSTREE_EXIT_ERROR;
                goto finish;
        }
        added = r > 0;
        if (added && !arg_json)
                fprintf(out, "Quarantined %s in %s/%s\n", checksum, arg_state_dir, QUARANTINE_FILE);
        r = remove_marked(v, a, d, n, remove, true, added ? checksum : NULL);
finish:
        deployments_free(d, n);
        return r;
}

static int on_prune_option(const Verb *v, int c, const char *arg) {
        if (parse_uint(arg, &arg_keep) < 0 || arg_keep > 1000) {
                fprintf(stderr, "healthdog-ostree %s: bad number of rollbacks '%s'\n", v->name, arg);
                return -1;
        }
        return 0;
}

static int verb_prune(int argc, char *argv[]) {
        static const struct option options[] = {
                { "keep-rollback", required_argument, NULL, 'K' },
                {}
        };
        const Verb *v = verb_find("prune");
        _cleanup_(admin_freep) Admin *a = NULL;
        _cleanup_(freep) bool *remove = NULL;
        Deployment *d = NULL;
        size_t n = 0;
        int i = parse_verb_options(v, argc, argv, options, on_prune_option), r;

        if (i <= 0)
                return i == 0 ? OSTREE_EXIT_OK : OSTREE_EXIT_USAGE;
        if (arg_keep == UINT_MAX) {
                fprintf(stderr, "healthdog-ostree prune: --keep-rollback is required\n");
                help_verb(stderr, v);
                return OSTREE_EXIT_USAGE;
        }
        r = open_and_list(v, ADMIN_WRITE, &a, &d, &n);
        if (r < 0)
                return exit_code_for_open(r);

        remove = calloc(n ?: 1, sizeof(bool));
        r = remove ? deploy_plan_prune(d, n, arg_keep, remove) : -ENOMEM;
        if (r == -ESRCH) {
                fprintf(stderr, "healthdog-ostree prune: No deployment of '%s' is booted: nothing to keep rollbacks for\n",
                        arg_sysroot);
                r = OSTREE_EXIT_NOT_OSTREE;
        } else if (r < 0) {
                fprintf(stderr, "healthdog-ostree prune: %s\n", strerror(-r));
                r = OSTREE_EXIT_ERROR;
        } else
                r = remove_marked(v, a, d, n, remove, false, NULL);
        deployments_free(d, n);
        return r;
}

/* ---- updates: check, pull, deploy */

static int on_update_option(const Verb *v, int c, const char *arg) {
        switch (c) {
        case 'R':
                arg_ref = arg;
                break;
        case 'C':
                if (strlen(arg) != DEPLOY_CHECKSUM_LEN || !deploy_name_valid(arg)) {
                        fprintf(stderr, "healthdog-ostree %s: bad checksum '%s' (expected 64 hex digits)\n", v->name, arg);
                        return -1;
                }
                arg_checksum = arg;
                break;
        case 'P':
                arg_progress_file = arg;
                break;
        default:
                arg_require_signature = true;
        }
        return 0;
}

static const struct option update_options[] = {
        { "ref",               required_argument, NULL, 'R' },
        { "checksum",          required_argument, NULL, 'C' },
        { "require-signature", no_argument,       NULL, 'G' },
        {}
};

static const struct option pull_options[] = {
        { "ref",               required_argument, NULL, 'R' },
        { "checksum",          required_argument, NULL, 'C' },
        { "require-signature", no_argument,       NULL, 'G' },
        { "progress-file",     required_argument, NULL, 'P' },
        {}
};

/* pull --progress-file: the figures, for `healthdog status` while `healthdog update` waits. */
#define PROGRESS_FILE_INTERVAL (500 * USEC_PER_MSEC)

typedef struct ProgressFile {
        const char *path;
        usec_t written;         /* CLOCK_MONOTONIC; 0: never */
        bool failed;            /* said once */
} ProgressFile;

/* Rewrites the file atomically: {"objects_fetched", "objects_requested", "bytes_transferred",
 * "done"}. A file that cannot be written is said once, and the pull goes on. */
static void progress_file_write(ProgressFile *p, unsigned fetched, unsigned requested, uint64_t bytes, bool done) {
        _cleanup_(freep) char *buf = NULL;
        size_t len = 0, cap = 0;
        int r;

        r = buf_appendf(&buf, &len, &cap,
                        "{\"objects_fetched\":%u,\"objects_requested\":%u,\"bytes_transferred\":%" PRIu64 ",\"done\":%s}\n",
                        fetched, requested, bytes, done ? "true" : "false");
        if (r >= 0)
                r = write_file_atomic(p->path, buf, len, 0644);
        p->written = now(CLOCK_MONOTONIC);
        if (r < 0 && !p->failed) {
                fprintf(stderr, "healthdog-ostree pull: Failed to write '%s': %s, ignoring\n", p->path, strerror(-r));
                p->failed = true;
        }
}

static void on_progress(unsigned fetched, unsigned requested, uint64_t bytes, void *userdata) {
        ProgressFile *p = userdata;

        /* libostree reports each batch of objects: at most twice a second is plenty for a reader. */
        if (p->written == 0 || now(CLOCK_MONOTONIC) - p->written >= PROGRESS_FILE_INTERVAL)
                progress_file_write(p, fetched, requested, bytes, false);
}

/* The refspec to update from: --ref, or the booted deployment's origin. Returns it, or NULL
 * after reporting why there is none. */
static const char *update_refspec(const Verb *v, const Deployment *d, size_t n) {
        ssize_t booted = deploy_booted(d, n);

        if (arg_ref)
                return arg_ref;
        if (booted < 0) {
                fprintf(stderr, "healthdog-ostree %s: No deployment of '%s' is booted: give the refspec with --ref\n",
                        v->name, arg_sysroot);
                return NULL;
        }
        if (!d[booted].refspec)
                fprintf(stderr, "healthdog-ostree %s: The booted deployment %s.%d has no origin refspec: give it with --ref\n",
                        v->name, d[booted].checksum, d[booted].serial);
        return d[booted].refspec;
}

/* The exit code for a failed pull, after reporting err. */
static int pull_failed(const Verb *v, int r, const char *err) {
        fprintf(stderr, "healthdog-ostree %s: %s\n", v->name, err[0] ? err : strerror(-r));
        return r == -EHOSTUNREACH ? OSTREE_EXIT_UNREACHABLE : OSTREE_EXIT_ERROR;
}

/* With --require-signature, refuses a remote that verifies nothing. Returns 0 to go on, or the
 * exit code. */
static int check_signed(const Verb *v, Admin *a, const char *refspec) {
        char remote[256], err[1024] = "";
        const char *colon = strchr(refspec, ':');
        int r;

        if (!arg_require_signature)
                return OSTREE_EXIT_OK;
        snprintf(remote, sizeof(remote), "%.*s", colon ? (int) (colon - refspec) : 0, refspec);
        r = admin_remote_verifies(a, remote, err, sizeof(err));
        if (r < 0) {
                fprintf(stderr, "healthdog-ostree %s: %s\n", v->name, err);
                return OSTREE_EXIT_ERROR;
        }
        if (r == 0) {
                fprintf(stderr, "healthdog-ostree %s: Refusing to pull from the remote '%s': it verifies no signature "
                        "(neither gpg-verify nor sign-verify is set), and a signature is required\n", v->name, remote);
                return OSTREE_EXIT_UNSIGNED;
        }
        return OSTREE_EXIT_OK;
}

static int verb_update_check(int argc, char *argv[]) {
        const Verb *v = verb_find("update-check");
        _cleanup_(admin_freep) Admin *a = NULL;
        _cleanup_(strv_freep) char **quarantined = NULL;
        _cleanup_(freep) char *buf = NULL;
        _cleanup_(admin_pulled_clear) AdminPulled pulled = {};
        char err[1024] = "";
        const char *refspec;
        Deployment *d = NULL;
        size_t n = 0, len = 0, cap = 0;
        ssize_t booted, deployed = -1;
        bool available;
        int i = parse_verb_options(v, argc, argv, update_options, on_update_option), r;

        if (i <= 0)
                return i == 0 ? OSTREE_EXIT_OK : OSTREE_EXIT_USAGE;
        /* The commit object goes into the repository: the lock keeps a prune away meanwhile. */
        r = open_and_list(v, ADMIN_WRITE, &a, &d, &n);
        if (r < 0)
                return exit_code_for_open(r);
        booted = deploy_booted(d, n);
        refspec = update_refspec(v, d, n);
        if (!refspec) {
                r = booted < 0 ? OSTREE_EXIT_NOT_OSTREE : OSTREE_EXIT_ERROR;
                goto finish;
        }
        r = check_signed(v, a, refspec);
        if (r != OSTREE_EXIT_OK)
                goto finish;
        r = admin_pull(a, refspec, NULL, ADMIN_PULL_COMMIT_ONLY, NULL, NULL, &pulled, err, sizeof(err));
        if (r < 0) {
                r = pull_failed(v, r, err);
                goto finish;
        }
        for (size_t j = 0; j < n && deployed < 0; j++)
                if (streq(d[j].checksum, pulled.checksum) && (ssize_t) j != booted)
                        deployed = (ssize_t) j;
        available = booted < 0 || !streq(d[booted].checksum, pulled.checksum);
        r = quarantine_read(arg_state_dir, &quarantined);
        if (r < 0)
                fprintf(stderr, "healthdog-ostree %s: Failed to read %s/%s: %s, ignoring\n", v->name, arg_state_dir,
                        QUARANTINE_FILE, strerror(-r));

        if (!arg_json) {
                if (available)
                        fprintf(out, "Update available from %s: %s (%s)%s\n", refspec, pulled.version ?: "no version",
                                pulled.checksum, strv_contains(quarantined, pulled.checksum) ? ", quarantined" : "");
                else
                        fprintf(out, "Up to date with %s: %s (%s) is booted\n", refspec, pulled.version ?: "no version",
                                pulled.checksum);
                r = OSTREE_EXIT_OK;
                goto finish;
        }
        r = buf_appendf(&buf, &len, &cap, "{\"refspec\":");
        if (r >= 0)
                r = json_append_string(&buf, &len, &cap, refspec);
        if (r >= 0)
                r = buf_appendf(&buf, &len, &cap, ",\"checksum\":\"%s\",\"version\":", pulled.checksum);
        if (r >= 0)
                r = pulled.version ? json_append_string(&buf, &len, &cap, pulled.version) : buf_appendf(&buf, &len, &cap, "null");
        if (r >= 0)
                r = buf_appendf(&buf, &len, &cap, ",\"available\":%s,\"quarantined\":%s,", available ? "true" : "false",
                                strv_contains(quarantined, pulled.checksum) ? "true" : "false");
        if (r >= 0)
                r = append_deployment(&buf, &len, &cap, "booted", d, booted);
        if (r >= 0)
                r = buf_appendf(&buf, &len, &cap, ",");
        if (r >= 0)
                r = append_deployment(&buf, &len, &cap, "deployed", d, deployed);
        if (r >= 0)
                r = buf_appendf(&buf, &len, &cap, "}");
        r = print_result(v, buf, r);
finish:
        deployments_free(d, n);
        return r;
}

/* For pull and deploy: --checksum is required. Returns 0, or the exit code. */
static int need_checksum(const Verb *v) {
        if (arg_checksum)
                return OSTREE_EXIT_OK;
        fprintf(stderr, "healthdog-ostree %s: --checksum is required\n", v->name);
        help_verb(stderr, v);
        return OSTREE_EXIT_USAGE;
}

static int verb_pull(int argc, char *argv[]) {
        const Verb *v = verb_find("pull");
        _cleanup_(admin_freep) Admin *a = NULL;
        _cleanup_(freep) char *buf = NULL;
        _cleanup_(admin_pulled_clear) AdminPulled pulled = {};
        ProgressFile progress = {};
        char err[1024] = "";
        const char *refspec;
        Deployment *d = NULL;
        size_t n = 0, len = 0, cap = 0;
        int i = parse_verb_options(v, argc, argv, pull_options, on_update_option), r;

        if (i <= 0)
                return i == 0 ? OSTREE_EXIT_OK : OSTREE_EXIT_USAGE;
        progress.path = arg_progress_file;
        r = need_checksum(v);
        if (r != OSTREE_EXIT_OK)
                return r;
        r = open_and_list(v, ADMIN_WRITE, &a, &d, &n);
        if (r < 0)
                return exit_code_for_open(r);
        refspec = update_refspec(v, d, n);
        if (!refspec) {
                r = OSTREE_EXIT_ERROR;
                goto finish;
        }
        r = check_signed(v, a, refspec);
        if (r != OSTREE_EXIT_OK)
                goto finish;
        r = admin_pull(a, refspec, arg_checksum, ADMIN_PULL_PROGRESS, progress.path ? on_progress : NULL, &progress,
                       &pulled, err, sizeof(err));
        if (r < 0) {
                r = pull_failed(v, r, err);
                goto finish;
        }
        if (progress.path)
                progress_file_write(&progress, pulled.fetched, pulled.requested, pulled.bytes, true);
        if (!arg_json) {
                fprintf(out, "Pulled %s (%s) from %s: %u objects, %" PRIu64 " bytes\n", pulled.version ?: "no version",
                        pulled.checksum, refspec, pulled.fetched, pulled.bytes);
                r = OSTREE_EXIT_OK;
                goto finish;
        }
        r = buf_appendf(&buf, &len, &cap, "{\"refspec\":");
        if (r >= 0)
                r = json_append_string(&buf, &len, &cap, refspec);
        if (r >= 0)
                r = buf_appendf(&buf, &len, &cap, ",\"checksum\":\"%s\",\"version\":", pulled.checksum);
        if (r >= 0)
                r = pulled.version ? json_append_string(&buf, &len, &cap, pulled.version) : buf_appendf(&buf, &len, &cap, "null");
        if (r >= 0)
                r = buf_appendf(&buf, &len, &cap, ",\"objects_fetched\":%u,\"objects_requested\":%u,"
                                "\"bytes_transferred\":%" PRIu64 "}", pulled.fetched, pulled.requested, pulled.bytes);
        r = print_result(v, buf, r);
finish:
        deployments_free(d, n);
        return r;
}

static int verb_deploy(int argc, char *argv[]) {
        const Verb *v = verb_find("deploy");
        _cleanup_(admin_freep) Admin *a = NULL;
        char err[1024] = "", name[DEPLOY_NAME_MAX] = "";
        const char *refspec;
        Deployment *d = NULL;
        size_t n = 0;
        int i = parse_verb_options(v, argc, argv, update_options, on_update_option), r;

        if (i <= 0)
                return i == 0 ? OSTREE_EXIT_OK : OSTREE_EXIT_USAGE;
        r = need_checksum(v);
        if (r != OSTREE_EXIT_OK)
                return r;
        r = open_and_list(v, ADMIN_WRITE, &a, &d, &n);
        if (r < 0)
                return exit_code_for_open(r);
        refspec = update_refspec(v, d, n);
        if (!refspec) {
                r = OSTREE_EXIT_ERROR;
                goto finish;
        }
        r = admin_deploy(a, arg_checksum, refspec, name, err, sizeof(err));
        if (r < 0) {
                fprintf(stderr, "healthdog-ostree deploy: %s\n", err[0] ? err : strerror(-r));
                r = r == -ESRCH ? OSTREE_EXIT_NOT_OSTREE : OSTREE_EXIT_ERROR;
                goto finish;
        }
        if (arg_json)
                fprintf(out, "{\"deployment\":\"%s\",\"checksum\":\"%s\"}\n", name, arg_checksum);
        else
                fprintf(out, "Deployed %s as the new default (origin %s)\n", name, refspec);
        r = OSTREE_EXIT_OK;
finish:
        deployments_free(d, n);
        return r;
}

static const Verb verbs[] = {
        { "status", "",
          "List the deployments.\n"
          "Each with its index, state (booted; staged; pending: newer than the booted one; rollback:\n"
          "older), version, pinned, quarantined. Read only, takes no lock.\n"
          "\n"
          "With --json, instead of the table:\n"
          "  {\"sysroot\", \"booted\": INDEX|null, \"default\": INDEX|null,\n"
          "   \"deployments\": [{\"index\", \"osname\", \"checksum\", \"deployserial\", \"version\": STRING|null,\n"
          "   \"booted\", \"default\", \"pending\", \"rollback\", \"staged\", \"pinned\", \"quarantined\"}],\n"
          "   \"quarantined\": [CHECKSUM...]}",
          verb_status },
        { "identify-failed", "",
          "Print the checksum of the deployment that failed its trial.\n"
          "For a rolled-back boot: the default deployment (first boot entry) when it is not the booted\n"
          "one. A staged update is never it. Prints nothing when the booted deployment is the default\n"
          "one. Read only, takes no lock.\n"
          "\n"
          "With --json: {\"booted\": D|null, \"default\": D|null, \"failed\": D|null}, each D\n"
          "  {\"name\": \"CHECKSUM.SERIAL\", \"checksum\", \"serial\", \"osname\", \"version\": STRING|null,\n"
          "   \"staged\", \"pinned\"}\n"
          "\"failed\" is null when the default deployment is booted.",
          verb_identify_failed },
        { "remove-failed", "--deployment NAME",
          "Quarantine and undeploy a failed deployment, then prune.\n"
          "Records the commit checksum of NAME in STATE_DIR/quarantine (one checksum a line) and\n"
          "undeploys NAME: CHECKSUM.SERIAL is that one deployment, CHECKSUM every deployment of the\n"
          "commit. Then prunes the objects nothing references. Refuses the booted, a staged and a\n"
          "pinned deployment.\n"
          "\n"
          "With --json: {\"removed\": [NAME...], \"quarantined\": CHECKSUM|null (null: it was in the\n"
          "quarantine already), \"objects_pruned\", \"objects_total\", \"bytes_freed\"}",
          verb_remove_failed,
          "      --deployment NAME the deployment: CHECKSUM.SERIAL, or CHECKSUM for every deployment\n"
          "                        of that commit (--checksum is another name for it)\n" },
        { "prune", "--keep-rollback N",
          "Keep the booted deployment and N rollbacks, undeploy the rest.\n"
          "For after a confirmed trial: keeps the N newest older (rollback) deployments that are not\n"
          "pinned, undeploys the other rollbacks, then prunes the objects nothing references. Never\n"
          "touches pinned or staged deployments, nor ones newer than the booted one.\n"
          "\n"
          "With --json: {\"removed\": [NAME...], \"objects_pruned\", \"objects_total\", \"bytes_freed\"}",
          verb_prune,
          "      --keep-rollback N the number of unpinned rollback deployments to keep (0 or more)\n" },
        { "update-check", "[--ref REFSPEC] [--require-signature]",
          "Pull the commit object an update would bring, and compare.\n"
          "From REFSPEC (REMOTE:REF), by default the booted deployment's origin: the commit alone, verified\n"
          "as the remote says (gpg-verify, sign-verify). Takes the sysroot lock.\n"
          "\n"
          "With --json: {\"refspec\", \"checksum\", \"version\": STRING|null, \"available\": the checksum is not\n"
          "the booted one's, \"quarantined\", \"booted\": D|null, \"deployed\": D|null (already a deployment)}",
          verb_update_check, UPDATE_OPTIONS_HELP },
        { "pull", "--checksum CHECKSUM [--ref REFSPEC] [--require-signature] [--progress-file PATH]",
          "Pull the commit CHECKSUM of REFSPEC (default: the booted deployment's origin) whole.\n"
          "With progress on stderr. Takes the sysroot lock.\n"
          "\n"
          "With --json: {\"refspec\", \"checksum\", \"version\", \"objects_fetched\", \"objects_requested\",\n"
          "\"bytes_transferred\"}\n"
          "With --progress-file, PATH is rewritten atomically (at most every 0.5 s, and once at the end)\n"
          "as {\"objects_fetched\", \"objects_requested\", \"bytes_transferred\", \"done\"}.",
          verb_pull, UPDATE_OPTIONS_HELP
          "      --progress-file PATH\n"
          "                        keep the pull's figures in PATH, for healthdog status\n" },
        { "deploy", "--checksum CHECKSUM [--ref REFSPEC]",
          "Deploy the pulled commit CHECKSUM as the new default, with REFSPEC as its origin.\n"
          "In the booted deployment's stateroot, with its /etc merged and its kernel arguments; the boot\n"
          "entries (uEnv.txt) are written at once. Rollback deployments are kept. Arm the trial first.\n"
          "\n"
          "With --json: {\"deployment\": \"CHECKSUM.SERIAL\", \"checksum\"}",
          verb_deploy, UPDATE_OPTIONS_HELP },
        {}
};

static const struct option shared_options[] = {
        { "sysroot",   required_argument, NULL, 'S' },
        { "state-dir", required_argument, NULL, 'D' },
        { "json",      no_argument,       NULL, 'J' },
        { "verbose",   no_argument,       NULL, 'v' },
        {}
};

static const Program program = {
        .name = "healthdog-ostree",
        .usage_prefix = " [--sysroot PATH]",
        .summary = "Lists, removes and prunes OSTree deployments for healthdog: removes the deployment that\n"
                   "failed its trial boot (and quarantines its commit), prunes rollbacks after a confirmed one.",
        .verbs = verbs,
        .shared = shared_options,
        .shared_short = "v",
        .shared_help = "      --sysroot PATH    the OSTree sysroot (default /, the running system)\n"
                       "      --state-dir DIR   healthdog's state directory, for the quarantine file\n"
                       "                        (default " HEALTHDOG_STATE_DIR ")\n"
                       "      --json            print the result as one JSON object on one line, and nothing\n"
                       "                        else on standard output (each verb's help shows it)\n"
                       "  -v, --verbose         let libostree's messages through to stderr\n",
        .on_shared = on_shared_option,
        .footer = "\n" EXIT_CODES_HELP "\n" SERVE_HELP,
        .column = 32,
};

static int run(int argc, char *argv[]) {
        const Verb *v;
        int verb_at;

        if (argc < 2) {
                help(stderr);
                return OSTREE_EXIT_USAGE;
        }
        /* Options may come before the verb too: find the verb (the first word that is neither an
         * option nor an option's value), the verb's parser then reads them all. */
        for (verb_at = 1; verb_at < argc; verb_at++) {
                if (streq(argv[verb_at], "--sysroot") || streq(argv[verb_at], "--state-dir")) {
                        verb_at++;
                        continue;
                }
                if (argv[verb_at][0] != '-')
                        break;
                if (streq(argv[verb_at], "--help") || streq(argv[verb_at], "-h")) {
                        help(stdout);
                        return OSTREE_EXIT_OK;
                }
                if (streq(argv[verb_at], "--version")) {
                        printf("healthdog-ostree %s\n", HEALTHDOG_VERSION);
                        return OSTREE_EXIT_OK;
                }
        }
        if (verb_at >= argc) {
                fprintf(stderr, "healthdog-ostree: no verb given\n");
                help(stderr);
                return OSTREE_EXIT_USAGE;
        }
        if (streq(argv[verb_at], "help")) {
                help(stdout);
                return OSTREE_EXIT_OK;
        }
        v = verb_find(argv[verb_at]);
        if (!v) {
                fprintf(stderr, "healthdog-ostree: unknown verb '%s'\n", argv[verb_at]);
                help(stderr);
                return OSTREE_EXIT_USAGE;
        }

        out = fdopen(dup(STDOUT_FILENO), "w");
        if (!out) {
                fprintf(stderr, "healthdog-ostree: Failed to set up standard output: %s\n", strerror(errno));
                return OSTREE_EXIT_ERROR;
        }

        /* The verb sees its name as argv[0] and every other word after it, options first. */
        {
                _cleanup_(freep) char **args = calloc((size_t) argc + 1, sizeof(char *));
                int n = 0, r;

                if (!args)
                        return OSTREE_EXIT_ERROR;
                args[n++] = argv[verb_at];
                for (int i = 1; i < argc; i++)
                        if (i != verb_at)
                                args[n++] = argv[i];
                r = v->run(n, args);
                if (fclose(out) != 0 && r == OSTREE_EXIT_OK) {
                        fprintf(stderr, "healthdog-ostree %s: Failed to write to standard output: %s\n", v->name,
                                strerror(errno));
                        return OSTREE_EXIT_ERROR;
                }
                return r;
        }
}

/* What serve() keeps of one of the verb's streams. */
typedef struct Capture {
        int fd;                 /* the pipe's read end, -1 at its end */
        char *data;             /* max bytes */
        size_t len, max;
        bool keep_tail;         /* past max, keep the last bytes (messages) instead of the first (result) */
        uint64_t dropped;
} Capture;

static void capture_append(Capture *c, const char *p, size_t k) {
        size_t excess;

        if (!c->keep_tail) {
                size_t room = c->max - c->len;

                memcpy(c->data + c->len, p, k < room ? k : room);
                c->len += k < room ? k : room;
                c->dropped += k > room ? k - room : 0;
                return;
        }
        if (k >= c->max) {
                c->dropped += c->len + (k - c->max);
                memcpy(c->data, p + (k - c->max), c->max);
                c->len = c->max;
                return;
        }
        excess = c->len + k > c->max ? c->len + k - c->max : 0;
        memmove(c->data, c->data + excess, c->len - excess);
        c->len -= excess;
        c->dropped += excess;
        memcpy(c->data + c->len, p, k);
        c->len += k;
}

static void capture_printf(Capture *c, const char *fmt, ...) _printf_(2, 3);
static void capture_printf(Capture *c, const char *fmt, ...) {
        char line[512];
        va_list ap;
        int k;

        va_start(ap, fmt);
        k = vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        if (k > 0)
                capture_append(c, line, (size_t) k < sizeof(line) ? (size_t) k : sizeof(line) - 1);
}

/* Reads both pipes until the verb's process closed them (it exited). Returns 0 or -errno. */
static int capture_all(Capture *c, size_t n) {
        struct pollfd p[2];
        char scratch[4096];

        for (size_t i = 0; i < n; i++)
                p[i] = (struct pollfd) { .fd = c[i].fd, .events = POLLIN };
        for (;;) {
                bool any = false;

                for (size_t i = 0; i < n; i++)
                        any = any || p[i].fd >= 0;
                if (!any)
                        return 0;
                if (poll(p, n, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                for (size_t i = 0; i < n; i++) {
                        ssize_t k;

                        if (p[i].fd < 0 || p[i].revents == 0)
                                continue;
                        k = read(p[i].fd, scratch, sizeof(scratch));
                        if (k > 0)
                                capture_append(&c[i], scratch, (size_t) k);
                        else if (k == 0 || errno != EINTR) {
                                /* poll() skips a negative descriptor. */
                                close(p[i].fd);
                                p[i].fd = c[i].fd = -1;
                        }
                }
        }
}

/* Runs the verb in a child process whose stdout and stderr are the two pipes of c: no byte of
 * libostree's reaches the connection directly, and a verb that crashes (libostree aborts on
 * some internal errors) still gets a reply. Returns the verb's exit code. */
static int serve_run(int n, char *args[], Capture c[2]) {
        int result[2] = { -1, -1 }, messages[2] = { -1, -1 }, status, r;
        pid_t pid;

        if (pipe2(result, O_CLOEXEC) < 0 || pipe2(messages, O_CLOEXEC) < 0) {
                capture_printf(&c[1], "healthdog-ostree serve: Failed to make a pipe: %m\n");
                r = OSTREE_EXIT_ERROR;
                goto finish;
        }
        fflush(NULL);
        pid = fork();
        if (pid < 0) {
                capture_printf(&c[1], "healthdog-ostree serve: Failed to fork: %m\n");
                r = OSTREE_EXIT_ERROR;
                goto finish;
        }
        if (pid == 0) {
                int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

                /* Nothing is exec'd: the pipes are closed by hand, and the connection is replaced
                 * everywhere, so that only the parent writes to it. */
                if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0 || dup2(result[1], STDOUT_FILENO) < 0 ||
                    dup2(messages[1], STDERR_FILENO) < 0)
                        _exit(OSTREE_EXIT_ERROR);
                close(null_fd);
                close(result[0]);
                close(result[1]);
                close(messages[0]);
                close(messages[1]);
                exit(run(n, args));
        }

        close(result[1]);
        close(messages[1]);
        result[1] = messages[1] = -1;
        c[0].fd = TAKE_FD(result[0]);
        c[1].fd = TAKE_FD(messages[0]);
        r = capture_all(c, 2);
        if (r < 0)
                capture_printf(&c[1], "healthdog-ostree serve: Failed to read the verb's output: %s\n", strerror(-r));
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR) {
                        capture_printf(&c[1], "healthdog-ostree serve: Failed to wait for the verb: %m\n");
                        r = OSTREE_EXIT_ERROR;
                        goto finish;
                }
        if (WIFEXITED(status))
                r = r < 0 ? OSTREE_EXIT_ERROR : WEXITSTATUS(status);
        else {
                capture_printf(&c[1], "healthdog-ostree serve: The verb was killed by signal %s\n",
                               sigabbrev_np(WTERMSIG(status)) ?: "?");
                r = OSTREE_EXIT_ERROR;
        }
        if (c[0].dropped > 0) {
                capture_printf(&c[1], "healthdog-ostree serve: The result is longer than %d bytes\n", SERVE_RESULT_MAX);
                r = OSTREE_EXIT_ERROR;
        }
finish:
        for (size_t i = 0; i < 2; i++) {
                closep(&result[i]);
                closep(&messages[i]);
                closep(&c[i].fd);
        }
        return r;
}

static int write_all(int fd, const char *p, size_t len) {
        while (len > 0) {
                ssize_t k = write(fd, p, len);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                p += k;
                len -= (size_t) k;
        }
        return 0;
}

/* Writes the reply: RESULT NUL MESSAGES NUL CODE (see serve()). */
static int serve_reply(Capture c[2], int code) {
        _cleanup_(freep) char *frame = NULL;
        const char *messages = c[1].data;
        size_t len = 0, cap = 0, mlen = c[1].len;
        char dropped[64] = "";
        int r;

        if (c[0].dropped > 0)
                c[0].len = 0;
        if (c[1].dropped > 0) {
                /* Cut to whole lines; the lines that were dropped are counted. */
                const char *nl = memchr(messages, '\n', mlen);

                if (nl && nl + 1 < messages + mlen) {
                        c[1].dropped += (size_t) (nl + 1 - messages);
                        mlen -= (size_t) (nl + 1 - messages);
                        messages = nl + 1;
                }
                snprintf(dropped, sizeof(dropped), "[%llu bytes of messages dropped]\n",
                         (unsigned long long) c[1].dropped);
        }
        /* A NUL byte is the separator: none may come from the verb. */
        for (size_t i = 0; i < 2; i++)
                for (char *z = memchr(c[i].data, 0, c[i].len); z; z = memchr(z, 0, c[i].len - (size_t) (z - c[i].data)))
                        *z = ' ';
        r = buf_appendf(&frame, &len, &cap, "%.*s%c%s%.*s%c%d", (int) c[0].len, c[0].data, 0, dropped, (int) mlen,
                        messages, 0, code);
        if (r < 0)
                return r;
        return write_all(STDOUT_FILENO, frame, len);
}

/* One request from healthdog, through healthdog-ostree.socket (healthdog-ostree@.service) or as
 * healthdog's child over a socket pair: standard input and output are the connection. The
 * request is the arguments, each ended by a NUL byte, until end of file. The reply is
 *     RESULT NUL MESSAGES NUL CODE
 * RESULT what the verb wrote on standard output (with --json, its one JSON object; empty unless
 * CODE is 0), MESSAGES what it wrote on stderr (libostree's messages, and the reason for a
 * failure on the last line; only the last SERVE_MESSAGES_MAX bytes, whole lines after a
 * "[N bytes of messages dropped]" line), CODE its exit code in decimal, OSTREE_EXIT_ERROR when
 * it was killed. Neither part holds a NUL byte: the verb's become spaces. The verb runs in a
 * child process with its stdout and stderr on pipes, so that libostree cannot write to the
 * connection by itself. */
static int serve(void) {
        char request[SERVE_REQUEST_MAX], *args[SERVE_ARGS_MAX + 2] = { (char *) "healthdog-ostree" };
        _cleanup_(freep) char *result = malloc(SERVE_RESULT_MAX), *messages = malloc(SERVE_MESSAGES_MAX);
        Capture c[2] = {
                { .fd = -1, .data = result, .max = SERVE_RESULT_MAX },
                { .fd = -1, .data = messages, .max = SERVE_MESSAGES_MAX, .keep_tail = true },
        };
        size_t len = 0;
        int n = 1, code;
        ssize_t k;

        if (!result || !messages)
                return OSTREE_EXIT_ERROR;
        /* A connection closed before the reply is the caller's business, not a reason to die
         * before the exit code. */
        (void) signal(SIGPIPE, SIG_IGN);
        while (len < sizeof(request) && (k = read(STDIN_FILENO, request + len, sizeof(request) - len)) != 0) {
                if (k < 0 && errno != EINTR) {
                        capture_printf(&c[1], "healthdog-ostree serve: Failed to read the request: %m\n");
                        code = OSTREE_EXIT_ERROR;
                        goto reply;
                }
                len += k > 0 ? (size_t) k : 0;
        }
        for (size_t i = 0; i < len && n < (int) ELEMENTSOF(args) - 1; i += strlen(request + i) + 1) {
                if (!memchr(request + i, '\0', len - i))
                        break;
                args[n++] = request + i;
        }
        if (len == 0 || len == sizeof(request) || request[len - 1] != '\0' || n == (int) ELEMENTSOF(args) - 1) {
                capture_printf(&c[1], "healthdog-ostree serve: malformed request (%zu bytes): expected NUL-terminated "
                               "arguments, at most %zu bytes and %zu arguments\n", len, sizeof(request) - 1,
                               ELEMENTSOF(args) - 2);
                code = OSTREE_EXIT_USAGE;
                goto reply;
        }
        code = serve_run(n, args, c);
reply:
        return serve_reply(c, code) < 0 ? OSTREE_EXIT_ERROR : code;
}

int main(int argc, char *argv[]) {
        if (argc == 2 && streq(argv[1], "serve"))
                return serve();
        return run(argc, argv);
}
