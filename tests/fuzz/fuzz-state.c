/* SPDX-License-Identifier: MIT */
/* The records healthdog reads back from its state directory after a reset or a restart.
 *
 * The input is DIR/reset-reason.json (none when empty), then further files each after a line "#@ NAME":
 * verdicts.jsonl, reset-budget, deploy-pending, quarantine (the helper's), or hold for the runtime
 * directory. On them run what a starting daemon and `healthdog status` run:
 *  - status_json_offline(): reset reason, hold, verdict history -> a document that must parse;
 *  - reset_reason_read() -> the boot's verdict record (assess_record_json()), which the daemon
 *    appends to verdicts.jsonl and embeds in the status document: it must parse too;
 *  - verdicts_read() / verdicts_append(), budget_check() / budget_take(), deploy_note_load(),
 *    quarantine_read() / quarantine_add(), each read back after it wrote. */
#include "assess.h"
#include "budget.h"
#include "config.h"
#include "deploy-note.h"
#include "fuzz.h"
#include "hold.h"
#include "json.h"
#include "ostree-quarantine.h"
#include "reset-reason.h"
#include "status.h"
#include "verdicts.h"

#define PARTS_MAX 8
/* A fixed "now", so that a run depends on its input only. */
#define NOW ((usec_t) 1700000000 * USEC_PER_SEC)
#define BOOT_ID "0123456789abcdef0123456789abcdef"

static char state_dir[PATH_MAX], runtime_dir[PATH_MAX];
static Config *config;
static FILE *devnull;

static const char *const checksum = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static void free_config(void) {
        config = config_free(config);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        const char *root = fuzz_setup("fuzz-state");
        char path[PATH_MAX], *text = NULL, *dirs[] = { NULL };
        ConfigErrors errors = {};

        fuzz_path(state_dir, sizeof(state_dir), "%s/state", root);
        fuzz_mkdir(state_dir);
        fuzz_path(runtime_dir, sizeof(runtime_dir), "%s/run", root);
        fuzz_mkdir(runtime_dir);
        if (asprintf(&text,
                     "[watchdog]\ndevice = none\n\n"
                     "[supervisor]\nstate-directory = %s\nruntime-directory = %s\n\n"
                     "[check.app]\ntype = file\npath = /run/app/alive\n\n"
                     "[check.uplink]\ntype = tcp\nhost = 192.0.2.1\nport = 80\nrequired = no\n",
                     state_dir, runtime_dir) < 0)
                abort();
        fuzz_path(path, sizeof(path), "%s/healthdog.conf", root);
        fuzz_write(path, text, strlen(text));
        free(text);
        if (config_load(path, dirs, &config, &errors) < 0) {
                fprintf(stderr, "fuzz: the config is refused: %s\n", errors.lines ? errors.lines[0] : "?");
                abort();
        }
        atexit(free_config);
        devnull = fopen("/dev/null", "we");
        if (!devnull)
                abort();
        return 0;
}

static void write_part(const FuzzPart *p) {
        const char *dir = state_dir, *name = p->named ? p->name : RESET_REASON_FILE;
        char path[PATH_MAX];

        /* An empty reason needs its "#@ reset-reason.json" line; without one there is none. */
        if (!p->named && p->size == 0)
                return;
        if (streq(name, HOLD_FILE))
                dir = runtime_dir;
        else if (!streq(name, RESET_REASON_FILE) && !streq(name, VERDICTS_FILE) && !streq(name, BUDGET_FILE) &&
                 !streq(name, DEPLOY_NOTE_FILE) && !streq(name, QUARANTINE_FILE))
                return;
        fuzz_path(path, sizeof(path), "%s/%s", dir, name);
        fuzz_write(path, p->data, p->size);
}

static void parse_object(const char *what, const char *text) {
        _cleanup_(json_freep) JsonValue *v = NULL;
        int r = json_parse(text, &v);

        fuzz_assert(r == 0 && v->type == JSON_OBJECT, "%s is not a JSON object (%d): %s", what, r, text);
        status_print(v, devnull);
}

static void check_offline_status(void) {
        _cleanup_(freep) char *text = NULL;
        int r = status_json_offline(config, NULL, 0, &text);

        fuzz_assert(r == 0, "status_json_offline: %d", r);
        parse_object("the offline status", text);
}

static void check_verdicts(void) {
        size_t sizes[] = { 1, STATUS_VERDICTS, VERDICTS_MAX };

        for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
                _cleanup_(strv_freep) char **records = NULL;
                int r = verdicts_read(state_dir, sizes[i], &records);

                fuzz_assert(r >= 0 && (size_t) r <= sizes[i] && (size_t) r == strv_length(records),
                            "verdicts_read(%zu): %d", sizes[i], r);
                for (char **l = records; *l; l++)
                        fuzz_assert(**l && !strchr(*l, '\n'), "a bad record: '%s'", *l);
        }
}

/* What a starting daemon does with the reason after a reset, and what is recorded of it. */
static void check_reset_reason(void) {
        _cleanup_(strv_freep) char **last = NULL;
        _cleanup_(freep) char *record = NULL, *json = NULL;
        _cleanup_(assess_freep) Assessment *a = NULL;
        int r, n;

        r = reset_reason_read(state_dir, BOOT_ID, &json);
        fuzz_assert(r == RESET_REASON_NONE || r == RESET_REASON_PREVIOUS_BOOT || r == RESET_REASON_THIS_BOOT,
                    "reset_reason_read: %d", r);
        fuzz_assert((r == RESET_REASON_NONE) == !json, "reset_reason_read: %d with%s a reason", r, json ? "" : "out");

        r = assess_new(&a, NULL, config, BOOT_ID, NOW, NULL, NULL);
        fuzz_assert(r == 0, "assess_new: %d", r);
        a->previous_reset = TAKE_PTR(json);
        a->phase = BOOT_PHASE_STEADY;
        a->why = "fuzz";
        snprintf(a->verdict, sizeof(a->verdict), "steady");
        record = assess_record_json(a);
        fuzz_assert(record, "assess_record_json failed");
        parse_object("the verdict record", record);

        r = verdicts_append(state_dir, record, false);
        fuzz_assert(r == 0, "verdicts_append: %d", r);
        n = verdicts_read(state_dir, 1, &last);
        fuzz_assert(n == 1 && streq(last[0], record), "the record appended is not the newest one");
        r = verdicts_append(state_dir, record, true);
        fuzz_assert(r == 0, "verdicts_append (replace): %d", r);
}

static void check_deploy_note(void) {
        DeployNote note;
        int r = deploy_note_load(state_dir, &note);

        fuzz_assert(r == 0 || r == 1, "deploy_note_load: %d", r);
        if (r == 1)
                fuzz_assert(streq(note.verb, "prune") || streq(note.verb, "remove-failed"), "a bad verb: '%s'",
                            note.verb);
}

/* Resets allowed in a row at one moment: never more than max. */
static void check_budget(unsigned max) {
        unsigned allowed = 0, used = 0;

        for (unsigned i = 0; i <= max; i++) {
                int k = budget_check(state_dir, max, config->assessment.reset_window, NOW, &used);
                int r = budget_take(state_dir, max, config->assessment.reset_window, NOW, &used);

                fuzz_assert(r == 0 || r == 1, "budget_take: %d", r);
                fuzz_assert(k == r, "budget_check said %d, budget_take %d", k, r);
                fuzz_assert(r == 0 ? used >= max : used <= max, "%s with %u of %u used", r ? "allowed" : "refused",
                            used, max);
                allowed += (unsigned) r;
        }
        fuzz_assert(allowed <= max, "%u resets allowed in a row, max %u", allowed, max);
}

static void check_quarantine(void) {
        _cleanup_(strv_freep) char **before = NULL, **after = NULL;
        int r;

        r = quarantine_read(state_dir, &before);
        fuzz_assert(r == 0, "quarantine_read: %d", r);
        for (char **q = before; *q; q++)
                fuzz_assert(strlen(*q) == 64 && strspn(*q, "0123456789abcdef") == 64, "a bad checksum: '%s'", *q);
        r = quarantine_add(state_dir, checksum);
        fuzz_assert(r == !strv_contains(before, checksum), "quarantine_add: %d", r);
        r = quarantine_read(state_dir, &after);
        fuzz_assert(r == 0 && strv_contains(after, checksum), "the checksum added is not read back");
        for (char **q = before; *q; q++)
                fuzz_assert(strv_contains(after, *q), "quarantine_add lost '%s'", *q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        FuzzPart parts[PARTS_MAX];
        size_t n;

        fuzz_clear_dir(state_dir);
        fuzz_clear_dir(runtime_dir);
        n = fuzz_split(data, size, parts, ELEMENTSOF(parts));
        for (size_t i = 0; i < n; i++)
                write_part(&parts[i]);

        check_offline_status();
        check_verdicts();
        check_reset_reason();
        check_deploy_note();
        check_budget(config->assessment.max_resets);
        check_budget(0);
        check_quarantine();
        return 0;
}
