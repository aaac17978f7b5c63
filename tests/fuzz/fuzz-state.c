/* SPDX-License-Identifier: MIT */
/* The records healthdog reads back from its state directory after a reset or a restart.
 *
 * The input is DIR/reset-reason.json (none when empty), then further files each after a line "#@ NAME":
 * verdicts.jsonl, reset-budget, quarantine (the helper's), or hold / started for the runtime
 * directory. On them run what a starting daemon and `healthdog status` run:
 *  - status_json_offline(): reset reason, hold, verdict history -> a document that must parse;
 *  - state_take_reset_reason() -> the boot's verdict record (assess_record_json()), which the
 *    daemon appends to verdicts.jsonl and embeds in the status document: it must parse too;
 *  - state_read_verdicts() / state_append_verdict(), state_budget_take(), quarantine_read() /
 *    quarantine_add(), each read back after it wrote. */
#include "assess.h"
#include "config.h"
#include "fuzz.h"
#include "json.h"
#include "manager.h"
#include "ostree-quarantine.h"
#include "state.h"
#include "status.h"

#define PARTS_MAX 8
/* A fixed "now", so that a run depends on its input only. */
#define NOW ((usec_t) 1700000000 * USEC_PER_SEC)

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
        const char *dir = state_dir, *name = p->named ? p->name : STATE_RESET_REASON_FILE;
        char path[PATH_MAX];

        /* An empty reason needs its "#@ reset-reason.json" line; without one there is none. */
        if (!p->named && p->size == 0)
                return;
        if (streq(name, MANAGER_HOLD_FILE) || streq(name, STATE_BOOT_MARK_FILE))
                dir = runtime_dir;
        else if (!streq(name, STATE_RESET_REASON_FILE) && !streq(name, STATE_VERDICTS_FILE) &&
                 !streq(name, STATE_BUDGET_FILE) && !streq(name, QUARANTINE_FILE))
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
        int r = status_json_offline(config, &text);

        fuzz_assert(r == 0, "status_json_offline: %d", r);
        parse_object("the offline status", text);
}

static void check_verdicts(void) {
        size_t sizes[] = { 1, STATUS_VERDICTS, STATE_VERDICTS_MAX };

        for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
                _cleanup_(strv_freep) char **records = NULL;
                int r = state_read_verdicts(state_dir, sizes[i], &records);

                fuzz_assert(r >= 0 && (size_t) r <= sizes[i] && (size_t) r == strv_length(records),
                            "state_read_verdicts(%zu): %d", sizes[i], r);
                for (char **l = records; *l; l++)
                        fuzz_assert(**l && !strchr(*l, '\n'), "a bad record: '%s'", *l);
        }
}

/* What assess_start() does with the reason after a reset, and what is recorded of it. */
static void check_reset_reason(void) {
        _cleanup_(strv_freep) char **last = NULL;
        _cleanup_(freep) char *record = NULL;
        Manager m = { .config = config, .started_realtime = NOW };
        bool had = state_has_reset_reason(state_dir);
        int r, n;

        r = state_take_reset_reason(state_dir, &m.assess.previous_reset);
        fuzz_assert(r == (had ? 1 : 0), "state_take_reset_reason: %d", r);
        fuzz_assert(!state_has_reset_reason(state_dir), "the reset reason was not taken");

        m.assess.phase = BOOT_PHASE_STEADY;
        m.assess.why = "fuzz";
        snprintf(m.assess.verdict, sizeof(m.assess.verdict), "steady");
        record = assess_record_json(&m);
        free(m.assess.previous_reset);
        fuzz_assert(record, "assess_record_json failed");
        parse_object("the verdict record", record);

        r = state_append_verdict(state_dir, record, false);
        fuzz_assert(r == 0, "state_append_verdict: %d", r);
        n = state_read_verdicts(state_dir, 1, &last);
        fuzz_assert(n == 1 && streq(last[0], record), "the record appended is not the newest one");
        r = state_append_verdict(state_dir, record, true);
        fuzz_assert(r == 0, "state_append_verdict (replace): %d", r);
}

/* Resets allowed in a row at one moment: never more than max. */
static void check_budget(unsigned max) {
        unsigned allowed = 0, used = 0;

        for (unsigned i = 0; i <= max; i++) {
                int r = state_budget_take(state_dir, max, config->assessment.reset_window, NOW, &used);

                fuzz_assert(r == 0 || r == 1, "state_budget_take: %d", r);
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
        check_budget(config->assessment.max_resets);
        check_budget(0);
        check_quarantine();
        return 0;
}
