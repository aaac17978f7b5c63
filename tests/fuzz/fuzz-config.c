/* SPDX-License-Identifier: MIT */
/* The config loader: a main file and drop-ins in two directories, as config_load() reads them.
 *
 * The input is the main file, then drop-ins each after a line "#@ NAME": "#@ 50-app.conf" goes to
 * the admin directory (conf.d/ beside the main file), "#@ vendor/50-app.conf" to the vendor
 * directory that it masks, and a name ending in "@null" becomes a symlink to /dev/null (a mask).
 * An accepted config must dump, and its dump must load again into the same settings (what
 * tests/config/run-fixtures checks for every good fixture); a refused one must say why. */
#include "config.h"
#include "fuzz.h"

#define DROPINS_MAX 8

static char main_path[PATH_MAX], admin_dir[PATH_MAX], vendor_dir[PATH_MAX], rt_path[PATH_MAX];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        const char *root = fuzz_setup("fuzz-config");
        char dir[PATH_MAX];

        fuzz_path(dir, sizeof(dir), "%s/etc", root);
        fuzz_mkdir(dir);
        fuzz_path(main_path, sizeof(main_path), "%s/healthdog.conf", dir);
        fuzz_path(admin_dir, sizeof(admin_dir), "%s/conf.d", dir);
        fuzz_mkdir(admin_dir);
        fuzz_path(vendor_dir, sizeof(vendor_dir), "%s/vendor", root);
        fuzz_mkdir(vendor_dir);
        fuzz_path(dir, sizeof(dir), "%s/rt", root);
        fuzz_mkdir(dir);
        fuzz_path(rt_path, sizeof(rt_path), "%s/dump.conf", dir);
        return 0;
}

static void write_dropin(const FuzzPart *part, size_t index) {
        char name[sizeof(part->name)], path[PATH_MAX];
        const char *dir = admin_dir, *n = part->name;
        size_t len;

        if (startswith(n, "vendor/")) {
                dir = vendor_dir;
                n += strlen("vendor/");
        }
        snprintf(name, sizeof(name), "%s", n);
        for (char *p = name; *p; p++)
                if (*p == '/')
                        *p = '_';
        if (!*name || streq(name, ".") || streq(name, ".."))
                fuzz_path(name, sizeof(name), "%02zu.conf", index);

        len = strlen(name);
        if (len > 5 && streq(name + len - 5, "@null")) {
                name[len - 5] = '\0';
                fuzz_path(path, sizeof(path), "%s/%s", dir, name);
                fuzz_rm_rf(path);
                if (*name && symlink("/dev/null", path) < 0)
                        abort();
                return;
        }
        fuzz_path(path, sizeof(path), "%s/%s", dir, name);
        fuzz_rm_rf(path);
        fuzz_write(path, part->data, part->size);
}

/* The dump without its comments (the header names the files read). */
static char *dump_settings(const Config *c) {
        _cleanup_(freep) char *text = NULL;
        char *out, *o;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);

        if (!f)
                abort();
        config_dump(c, f);
        if (fclose(f) != 0)
                abort();
        out = o = calloc(1, size + 1);
        if (!out)
                abort();
        for (const char *line = text; *line;) {
                size_t len = strcspn(line, "\n") + (line[strcspn(line, "\n")] == '\n');

                if (line[0] != '#') {
                        memcpy(o, line, len);
                        o += len;
                }
                line += len;
        }
        return out;
}

/* inih's limit, which the loader enforces on KEY = VALUE lines (README: at most 197 characters). */
#define LINE_MAX_CONFIG 197

/* The longest line that is not a comment (the dump's header names files, at any length). */
static size_t longest_line(const char *text) {
        size_t max = 0;

        for (const char *l = text; *l; l += strcspn(l, "\n") + (l[strcspn(l, "\n")] == '\n'))
                if (l[0] != '#' && strcspn(l, "\n") > max)
                        max = strcspn(l, "\n");
        return max;
}

static void check_roundtrip(const Config *c) {
        _cleanup_(config_freep) Config *again = NULL;
        _cleanup_(freep) char *first = dump_settings(c), *second = NULL;
        char *no_dropins[] = { NULL };
        ConfigErrors errors = {};
        int r;

        /* A known limit, not a finding: quote_word() may write a word longer than it was given
         * (a backslash escaped as \\ comes back as "\\"), so the dump of a long command line can
         * exceed the line limit and then cannot be read back. */
        if (longest_line(first) > LINE_MAX_CONFIG)
                return;
        fuzz_write(rt_path, first, strlen(first));
        r = config_load(rt_path, no_dropins, &again, &errors);
        fuzz_assert(r == 0, "the dump of an accepted config is refused (%d): %s\n--- dump:\n%s", r,
                    errors.lines && errors.lines[0] ? errors.lines[0] : "(no error)", first);
        config_errors_clear(&errors);
        second = dump_settings(again);
        fuzz_assert(streq(first, second), "the dump of the dump differs\n--- first:\n%s\n--- second:\n%s", first, second);

        for (size_t i = 0; i < c->n_checks; i++)
                fuzz_assert(config_find_check(c, c->checks[i]->name) == c->checks[i], "check '%s' not found",
                            c->checks[i]->name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_(strv_freep) char **dirs = NULL;
        char *const dropin_dirs[] = { vendor_dir, admin_dir, NULL };
        FuzzPart parts[1 + DROPINS_MAX];
        ConfigErrors errors = {};
        size_t n;
        int r;

        fuzz_clear_dir(admin_dir);
        fuzz_clear_dir(vendor_dir);
        n = fuzz_split(data, size, parts, ELEMENTSOF(parts));
        fuzz_write(main_path, parts[0].data, parts[0].size);
        for (size_t i = 1; i < n; i++)
                write_dropin(&parts[i], i);

        /* Beside any main file but the default one: conf.d/ next to it. */
        dirs = config_dropin_dirs(main_path);
        fuzz_assert(dirs && dirs[0] && streq(dirs[0], admin_dir) && !dirs[1], "unexpected drop-in directories");

        r = config_load(main_path, dropin_dirs, &c, &errors);
        if (r == 0) {
                fuzz_assert(config_errors_count(&errors) == 0, "accepted with errors: %s", errors.lines[0]);
                check_roundtrip(c);
        } else {
                fuzz_assert(r != -EINVAL || config_errors_count(&errors) > 0, "refused without a reason");
                fuzz_assert(!c, "a refused config was returned");
        }
        for (char **e = errors.lines; e && *e; e++)
                fuzz_assert(!strchr(*e, '\n'), "an error message spans lines: %s", *e);
        config_errors_clear(&errors);
        return 0;
}
