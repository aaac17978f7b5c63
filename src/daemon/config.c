/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <fcntl.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "config.h"

/* Every default in one place: the key tables. */
static const ConfigKey watchdog_keys[] = {
        { "device",         &config_type_string,   offsetof(WatchdogConfig, device), WATCHDOG_DEVICE_DEFAULT },
        { "timeout",        &config_type_duration, offsetof(WatchdogConfig, timeout), "30s",
          .min = USEC_PER_SEC, .max = USEC_PER_HOUR },
        /* 0 = a third of the timeout; filled in after loading so the dump shows the real value. */
        { "interval",       &config_type_duration, offsetof(WatchdogConfig, interval), "0" },
        { "pretimeout",     &config_type_duration, offsetof(WatchdogConfig, pretimeout), "0" },
        { "disarm-on-stop", &config_type_bool,     offsetof(WatchdogConfig, disarm_on_stop), "no" },
        {}
};

/* A D-Bus address: "TRANSPORT:KEY=VALUE,..." alternatives separated by ';'. Only the shape is
 * checked here; sd-bus reads the address when a systemd-* check first connects. */
static int parse_bus_address(const ConfigKey *key, const char *text, void *field, char **reason) {
        _cleanup_(freep) char *copy = strdup(text);
        char *state = NULL, *a;
        bool ok = true;
        size_t n = 0;

        if (!copy)
                return -ENOMEM;
        for (a = strtok_r(copy, ";", &state); a && ok; a = strtok_r(NULL, ";", &state), n++) {
                char *colon = strchr(a, ':'), *pair_state = NULL;

                ok = colon && colon > a && strspn(a, "abcdefghijklmnopqrstuvwxyz-") == (size_t) (colon - a);
                for (char *kv = ok ? strtok_r(colon + 1, ",", &pair_state) : NULL; kv && ok;
                     kv = strtok_r(NULL, ",", &pair_state))
                        ok = kv[0] != '=' && strchr(kv, '=');
        }
        if (!ok || n == 0) {
                *reason = strdup("is not a D-Bus address (like unix:path=/run/dbus/system_bus_socket)");
                return -EINVAL;
        }
        return config_type_string.parse(key, text, field, reason);
}

static void format_bus_address(FILE *f, const void *field) {
        config_type_string.format(f, field);
}

static void free_bus_address(void *field) {
        config_type_string.free(field);
}

static const ConfigType config_type_bus_address = {
        sizeof(char *), parse_bus_address, format_bus_address, free_bus_address,
};

static const ConfigKey supervisor_keys[] = {
        { "state-directory",   &config_type_path,     offsetof(SupervisorConfig, state_directory), "/var/lib/healthdog" },
        /* Kept across daemon restarts, not across reboots: the control socket, a maintenance hold. */
        { "runtime-directory", &config_type_path,     offsetof(SupervisorConfig, runtime_directory), "/run/healthdog" },
        { "startup-grace",     &config_type_duration, offsetof(SupervisorConfig, startup_grace), "60s" },
        { "realtime-priority", &config_type_unsigned, offsetof(SupervisorConfig, realtime_priority), "0",
          .min = 0, .max = 99 },
        /* Empty: the system bus. */
        { "dbus-address",      &config_type_bus_address, offsetof(SupervisorConfig, dbus_address) },
        {}
};

/* U-Boot variable names: what env import/set accept, minus what fw_env tools choke on. */
static int parse_var_name(const ConfigKey *key, const char *text, void *field, char **reason) {
        if (strcspn(text, "= \t\"'\\") != strlen(text)) {
                *reason = strdup("is not a U-Boot variable name (no '=', blanks, quotes or backslashes)");
                return -EINVAL;
        }
        return config_type_string.parse(key, text, field, reason);
}

static void format_var_name(FILE *f, const void *field) {
        config_type_string.format(f, field);
}

static void free_var_name(void *field) {
        config_type_string.free(field);
}

static const ConfigType config_type_var_name = {
        sizeof(char *), parse_var_name, format_var_name, free_var_name,
};

static const ConfigKey bootloader_keys[] = {
        { "type",                  &config_type_enum,     offsetof(BootloaderConfig, type), "none",
          .choices = (const char *const[]) { "none", "uboot", "grub", NULL } },
        { "fw-env-config",         &config_type_path,     offsetof(BootloaderConfig, fw_env_config), "/etc/fw_env.config" },
        { "grubenv",               &config_type_path,     offsetof(BootloaderConfig, grubenv), "/boot/grub/grubenv" },
        { "upgrade-available-var", &config_type_var_name, offsetof(BootloaderConfig, upgrade_available_var), "upgrade_available" },
        { "bootcount-var",         &config_type_var_name, offsetof(BootloaderConfig, bootcount_var), "bootcount" },
        { "bootlimit-var",         &config_type_var_name, offsetof(BootloaderConfig, bootlimit_var), "bootlimit" },
        { "rollback-var",          &config_type_var_name, offsetof(BootloaderConfig, rollback_var), "rollback" },
        {}
};

static const ConfigKey assessment_keys[] = {
        { "confirm-after",        &config_type_duration, offsetof(AssessmentConfig, confirm_after), "2min",
          .min = USEC_PER_SEC },
        { "trial-timeout",        &config_type_duration, offsetof(AssessmentConfig, trial_timeout), "15min" },
        { "trial-timeout-action", &config_type_enum,     offsetof(AssessmentConfig, trial_timeout_action), "wait",
          .choices = (const char *const[]) { "wait", "reject", "accept", NULL } },
        { "steady-action",        &config_type_enum,     offsetof(AssessmentConfig, steady_action), "reset",
          .choices = (const char *const[]) { "reset", "degrade", NULL } },
        { "max-resets",           &config_type_unsigned, offsetof(AssessmentConfig, max_resets), "3", .min = 0, .max = 1000 },
        { "reset-window",         &config_type_duration, offsetof(AssessmentConfig, reset_window), "24h",
          .min = USEC_PER_MINUTE },
        { "hooks-directory",      &config_type_path,     offsetof(AssessmentConfig, hooks_directory), "/etc/healthdog" },
        { "hook-timeout",         &config_type_duration, offsetof(AssessmentConfig, hook_timeout), "30s",
          .min = 100 * USEC_PER_MSEC },
        /* What `healthdog arm` gives a trial boot to reach the daemon; 0 = it arms nothing. */
        { "boot-deadline",        &config_type_duration, offsetof(AssessmentConfig, boot_deadline), "3min" },
        {}
};

static const ConfigKey update_keys[] = {
        { "refspec",           &config_type_string,   offsetof(UpdateConfig, refspec), "" },
        { "reboot",            &config_type_bool,     offsetof(UpdateConfig, reboot), "yes" },
        /* U-Boot's bootcount counts to 99 in boot.cmd; more trial boots than that help nobody. */
        { "bootlimit",         &config_type_unsigned, offsetof(UpdateConfig, bootlimit), "3", .min = 1, .max = 99 },
        { "require-signature", &config_type_bool,     offsetof(UpdateConfig, require_signature), "no" },
        {}
};

static const ConfigKey ostree_keys[] = {
        { "enable",        &config_type_enum,     offsetof(OstreeConfig, enable), "auto",
          .choices = (const char *const[]) { "auto", "yes", "no", NULL } },
        { "helper",        &config_type_path,     offsetof(OstreeConfig, helper), HEALTHDOG_OSTREE_HELPER },
        { "helper-socket", &config_type_path,     offsetof(OstreeConfig, helper_socket), HEALTHDOG_OSTREE_SOCKET },
        { "sysroot",       &config_type_path,     offsetof(OstreeConfig, sysroot), "/" },
        { "keep-rollback", &config_type_unsigned, offsetof(OstreeConfig, keep_rollback), "1", .min = 0, .max = 100 },
        { "timeout",       &config_type_duration, offsetof(OstreeConfig, timeout), "5min", .min = USEC_PER_SEC },
        {}
};

#define CHECK_SECTION_PREFIX "check."
#define CHECK_NAME_MAX 64

/* The files as written, before any meaning is given to them: sections merged across files, a
 * later file's value replacing an earlier one's. */
typedef struct RawEntry {
        char *key;
        char *value;
        const char *file;
        unsigned line;
} RawEntry;

typedef struct RawSection {
        char *name;
        const char *file;       /* where it was first defined */
        unsigned line;
        const char *last_file;  /* the file of its latest header, to catch repeats in one file */
        unsigned last_line;
        RawEntry *entries;
        size_t n_entries;
} RawSection;

typedef struct Raw {
        char **files;           /* owns the file names every other file pointer refers to */
        RawSection *sections;
        size_t n_sections;
} Raw;

static void raw_done(Raw *raw) {
        for (size_t i = 0; i < raw->n_sections; i++) {
                RawSection *s = &raw->sections[i];
                for (size_t j = 0; j < s->n_entries; j++) {
                        free(s->entries[j].key);
                        free(s->entries[j].value);
                }
                free(s->entries);
                free(s->name);
        }
        free(raw->sections);
        strv_free(raw->files);
}

typedef struct ParseState {
        Raw *raw;
        ConfigErrors *errors;
        FILE *f;
        const char *file;
        unsigned line;
        char *buf;
        size_t size;
        ssize_t section;        /* index in raw->sections, -1 before the first header */
        bool skip_section;      /* the current header was bad: its keys add no further errors */
} ParseState;

static bool section_name_valid(const char *name) {
        const char *check = startswith(name, CHECK_SECTION_PREFIX);

        if (streq(name, "watchdog") || streq(name, "supervisor") || streq(name, "bootloader") ||
            streq(name, "assessment") || streq(name, "ostree") || streq(name, "update"))
                return true;
        if (!check || !*check || strlen(check) > CHECK_NAME_MAX)
                return false;
        for (const char *p = check; *p; p++)
                if (!isalnum((unsigned char) *p) && !strchr("-_.", *p))
                        return false;
        return true;
}

static ssize_t raw_find_section(const Raw *raw, const char *name) {
        for (size_t i = 0; i < raw->n_sections; i++)
                if (streq(raw->sections[i].name, name))
                        return (ssize_t) i;
        return -1;
}

static void begin_section(ParseState *st, const char *name) {
        ssize_t i;

        st->section = -1;
        st->skip_section = true;

        if (!section_name_valid(name)) {
                if (startswith(name, CHECK_SECTION_PREFIX))
                        config_errors_add(st->errors, st->file, st->line,
                                          "invalid check name in [%s]: use 1-%d letters, digits, '-', '_' or '.'",
                                          name, CHECK_NAME_MAX);
                else
                        config_errors_add(st->errors, st->file, st->line,
                                          "unknown section [%s] (known: [watchdog], [supervisor], [bootloader], "
                                          "[assessment], [ostree], [check.NAME])", name);
                return;
        }

        i = raw_find_section(st->raw, name);
        if (i >= 0 && st->raw->sections[i].last_file == st->file) {
                config_errors_add(st->errors, st->file, st->line, "duplicate section [%s] (first on line %u)",
                                  name, st->raw->sections[i].last_line);
                return;
        }
        if (i < 0) {
                RawSection *n = realloc(st->raw->sections, sizeof(RawSection) * (st->raw->n_sections + 1));
                char *copy = strdup(name);
                if (n)
                        st->raw->sections = n;
                if (!n || !copy) {
                        free(copy);
                        config_errors_add(st->errors, st->file, st->line, "out of memory");
                        return;
                }
                i = (ssize_t) st->raw->n_sections++;
                st->raw->sections[i] = (RawSection) { .name = copy, .file = st->file, .line = st->line };
        }
        st->raw->sections[i].last_file = st->file;
        st->raw->sections[i].last_line = st->line;
        st->section = i;
        st->skip_section = false;
}

/* Checks each line's shape before inih sees it, so that every syntax error is reported with its
 * line (inih reports only the first), overlong KEY = VALUE lines are errors instead of being cut, and
 * indented lines are plain lines rather than continuations of the previous value. Lines with
 * errors reach inih as empty lines. */
static char *read_line(char *str, int num, void *stream) {
        ParseState *st = stream;
        ssize_t n = getline(&st->buf, &st->size, st->f);
        char *p;

        if (n < 0)
                return NULL;
        st->line++;
        while (n > 0 && (st->buf[n - 1] == '\n' || st->buf[n - 1] == '\r'))
                st->buf[--n] = '\0';
        str[0] = '\0';

        if ((size_t) n != strlen(st->buf)) {
                config_errors_add(st->errors, st->file, st->line, "line contains a NUL byte");
                return str;
        }

        p = st->buf;
        /* Editors on other systems like to start a UTF-8 file with a byte order mark. */
        if (st->line == 1 && startswith(p, "\xef\xbb\xbf"))
                p += 3;
        p += strspn(p, " \t");
        if (*p == '\0' || *p == '#' || *p == ';')
                return str;

        if (*p == '[') {
                char *end = strchr(p, ']');
                char *rest = end ? end + 1 + strspn(end + 1, " \t") : NULL;

                if (!end || (*rest && *rest != '#' && *rest != ';')) {
                        config_errors_add(st->errors, st->file, st->line,
                                          "expected a section header like [name], got '%s'", p);
                        /* Its keys belong to no section: they must not land in the previous one. */
                        st->section = -1;
                        st->skip_section = true;
                        return str;
                }
                *end = '\0';
                begin_section(st, p + 1);
                return str;
        }

        char *sep = p + strcspn(p, "=:");
        if (*sep != '=') {
                config_errors_add(st->errors, st->file, st->line, "expected KEY = VALUE, got '%s'", p);
                return str;
        }
        /* Only KEY = VALUE lines go through inih's buffer, which needs room for the newline and
         * the terminator on top of the line; comments and section headers may be longer. */
        if (n > num - 3) {
                config_errors_add(st->errors, st->file, st->line, "line too long (%zd characters, at most %d)",
                                  n, num - 3);
                return str;
        }
        snprintf(str, (size_t) num, "%s", p);
        return str;
}

static int on_key(void *user, const char *section, const char *name, const char *value) {
        ParseState *st = user;
        RawSection *s;
        RawEntry *e, *n;

        if (st->skip_section)
                return 1;
        if (st->section < 0) {
                config_errors_add(st->errors, st->file, st->line, "'%s' is outside of any section", name);
                return 1;
        }
        if (!*name) {
                config_errors_add(st->errors, st->file, st->line, "missing key before '='");
                return 1;
        }

        s = &st->raw->sections[st->section];
        for (size_t i = 0; i < s->n_entries; i++) {
                e = &s->entries[i];
                if (!streq(e->key, name))
                        continue;
                if (e->file == st->file) {
                        config_errors_add(st->errors, st->file, st->line,
                                          "duplicate key '%s' in [%s] (already set on line %u)", name, s->name, e->line);
                        return 1;
                }
                /* A later file overrides: that is what drop-ins are for. */
                char *v = strdup(value);
                if (!v)
                        return 0;
                free(e->value);
                *e = (RawEntry) { .key = e->key, .value = v, .file = st->file, .line = st->line };
                return 1;
        }

        n = realloc(s->entries, sizeof(RawEntry) * (s->n_entries + 1));
        if (!n)
                return 0;
        s->entries = n;
        e = &s->entries[s->n_entries];
        *e = (RawEntry) { .key = strdup(name), .value = strdup(value), .file = st->file, .line = st->line };
        if (!e->key || !e->value) {
                free(e->key);
                free(e->value);
                return 0;
        }
        s->n_entries++;
        return 1;
}

/* Root runs the commands a config names: refuse files someone else could have changed. */
static bool file_is_trusted(const char *path, const struct stat *st, ConfigErrors *errors) {
        char why[64];

        if (stat_is_trusted(st, why, sizeof(why)))
                return true;
        config_errors_add(errors, path, 0, "refusing a config file %s: healthdog runs the commands it names as root",
                          why);
        return false;
}

static void parse_file(Raw *raw, const char *path, ConfigErrors *errors) {
        _cleanup_(fclosep) FILE *f = NULL;
        size_t errors_before = config_errors_count(errors);
        ParseState st;
        struct stat s;
        int r;

        if (strv_extend(&raw->files, path) < 0) {
                config_errors_add(errors, path, 0, "out of memory");
                return;
        }

        f = fopen(path, "re");
        if (!f) {
                config_errors_add(errors, path, 0, "cannot open: %s", strerror(errno));
                return;
        }
        if (fstat(fileno(f), &s) < 0) {
                config_errors_add(errors, path, 0, "cannot stat: %s", strerror(errno));
                return;
        }
        if (!S_ISREG(s.st_mode)) {
                config_errors_add(errors, path, 0, "not a regular file");
                return;
        }
        if (!file_is_trusted(path, &s, errors))
                return;

        st = (ParseState) {
                .raw = raw,
                .errors = errors,
                .f = f,
                .file = raw->files[strv_length(raw->files) - 1],
                .section = -1,
        };
        r = ini_parse_stream(read_line, &st, on_key, &st);
        free(st.buf);
        if (ferror(f))
                config_errors_add(errors, path, 0, "read error: %s", strerror(errno));
        else if (r < 0)
                config_errors_add(errors, path, 0, "out of memory");
        else if (r > 0 && config_errors_count(errors) == errors_before)
                config_errors_add(errors, path, (unsigned) r, "syntax error");
}

/* Anyone who can add a file to a drop-in directory can name commands for root to run. */
static bool dir_is_trusted(const char *path, DIR *dir, ConfigErrors *errors) {
        struct stat st;
        char why[64];

        if (fstat(dirfd(dir), &st) < 0) {
                config_errors_add(errors, path, 0, "cannot stat drop-in directory: %s", strerror(errno));
                return false;
        }
        if (stat_is_trusted(&st, why, sizeof(why)))
                return true;
        config_errors_add(errors, path, 0,
                          "refusing a drop-in directory %s: a config file added there names commands healthdog runs "
                          "as root", why);
        return false;
}

/* A mask switches off the drop-in of the same name, and the checks in it: only root may have
 * made it. path is an empty file, or a symlink (to /dev/null, to an empty file or dangling). */
static bool mask_is_trusted(const char *path, ConfigErrors *errors) {
        struct stat link, target;
        char why[64];

        if (lstat(path, &link) < 0) {
                config_errors_add(errors, path, 0, "cannot stat: %s", strerror(errno));
                return false;
        }
        if (!stat_is_trusted(&link, why, sizeof(why)))
                goto refuse;
        /* Through a symlink, an empty file someone else may fill or empty again decides too. */
        if (S_ISLNK(link.st_mode) && stat(path, &target) == 0 && S_ISREG(target.st_mode) &&
            !stat_is_trusted(&target, why, sizeof(why)))
                goto refuse;
        return true;

refuse:
        config_errors_add(errors, path, 0,
                          "refusing a mask (%s) %s: a mask switches off the checks of the drop-in of that name",
                          S_ISLNK(link.st_mode) ? "a symlink" : "an empty file", why);
        return false;
}

static int compare_names(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Collects the drop-in files to apply: by name, a later directory masking an earlier one. */
static int collect_dropins(char *const *dirs, char ***ret, ConfigErrors *errors) {
        _cleanup_(strv_freep) char **names = NULL, **paths = NULL;

        for (char *const *d = dirs; d && *d; d++) {
                _cleanup_(closedirp) DIR *dir = opendir(*d);
                struct dirent *de;

                if (!dir) {
                        if (errno != ENOENT)
                                config_errors_add(errors, *d, 0, "cannot read drop-in directory: %s", strerror(errno));
                        continue;
                }
                if (!dir_is_trusted(*d, dir, errors))
                        continue;
                while ((de = readdir(dir))) {
                        size_t l = strlen(de->d_name);
                        if (de->d_name[0] == '.' || l <= 5 || !streq(de->d_name + l - 5, ".conf"))
                                continue;
                        if (!strv_contains(names, de->d_name) && strv_extend(&names, de->d_name) < 0)
                                return -ENOMEM;
                }
        }
        if (!names)
                return *ret = NULL, 0;
        qsort(names, strv_length(names), sizeof(char *), compare_names);

        for (char **n = names; *n; n++) {
                char *found = NULL;
                struct stat st;

                for (char *const *d = dirs; *d; d++) {
                        char *p;
                        if (asprintf(&p, "%s/%s", *d, *n) < 0)
                                return -ENOMEM;
                        /* lstat(): a dangling symlink still masks, like a link to /dev/null. */
                        if (lstat(p, &st) == 0) {
                                free(found);
                                found = p;
                        } else
                                free(p);
                }
                if (!found)
                        continue;
                /* An empty file or a link to /dev/null masks a vendor file of the same name. */
                if (stat(found, &st) < 0 || S_ISCHR(st.st_mode) || st.st_size == 0) {
                        (void) mask_is_trusted(found, errors);
                        free(found);
                        continue;
                }
                if (strv_consume(&paths, found) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(paths);
        return 0;
}

static void apply_entry(const ConfigKey *key, void *object, const RawSection *s, const RawEntry *e,
                        ConfigErrors *errors) {
        _cleanup_(freep) char *reason = NULL;
        int r = config_key_parse(key, object, e->value, &reason);

        if (r == -ENOMEM && !reason)
                config_errors_add(errors, e->file, e->line, "out of memory");
        else if (r < 0)
                config_errors_add(errors, e->file, e->line, "invalid %s= in [%s]: '%s' %s", e->key, s->name, e->value,
                                  reason ?: strerror(-r));
}

static const RawEntry *raw_find_entry(const RawSection *s, const char *key) {
        for (size_t i = 0; i < s->n_entries; i++)
                if (streq(s->entries[i].key, key))
                        return &s->entries[i];
        return NULL;
}

static void apply_section(const ConfigKey *keys, void *object, const RawSection *s, ConfigErrors *errors) {
        for (size_t i = 0; i < s->n_entries; i++) {
                const ConfigKey *k = config_key_find(keys, s->entries[i].key);
                if (!k)
                        config_errors_add(errors, s->entries[i].file, s->entries[i].line, "unknown key '%s' in [%s]",
                                          s->entries[i].key, s->name);
                else
                        apply_entry(k, object, s, &s->entries[i], errors);
        }
}

static const char *kind_names(char *buf, size_t size) {
        size_t n = 0;

        buf[0] = '\0';
        for (size_t i = 0; check_kinds[i] && n < size; i++)
                n += (size_t) snprintf(buf + n, size - n, "%s%s", i > 0 ? ", " : "", check_kinds[i]->name);
        return buf;
}

static void require_keys(const ConfigKey *keys, const RawSection *s, ConfigErrors *errors) {
        for (const ConfigKey *k = keys; k->name; k++) {
                const RawEntry *e = raw_find_entry(s, k->name);
                /* An empty value (a drop-in resetting the key) is reported where it was set. */
                if (k->required && (!e || !*e->value))
                        config_errors_add(errors, e ? e->file : s->file, e ? e->line : s->line, "[%s] needs %s=",
                                          s->name, k->name);
        }
}

/* Reports a cross-key error at the line that set key. */
static void error_at_key(ConfigErrors *errors, const RawSection *s, const char *key, const char *fmt, ...) _printf_(4, 5);
static void error_at_key(ConfigErrors *errors, const RawSection *s, const char *key, const char *fmt, ...) {
        const RawEntry *e = raw_find_entry(s, key);
        _cleanup_(freep) char *msg = NULL;
        va_list ap;
        int k;

        va_start(ap, fmt);
        k = vasprintf(&msg, fmt, ap);
        va_end(ap);
        config_errors_add(errors, e ? e->file : s->file, e ? e->line : s->line, "%s",
                          k < 0 ? "out of memory" : msg);
}

static void verify_check_policy(const CheckConfig *c, const RawSection *s, ConfigErrors *errors) {
        if (c->repair == CHECK_REPAIR_RESTART_UNIT && !c->kind->repair)
                error_at_key(errors, s, "repair", "repair = restart-unit in [%s] needs a check with a unit "
                             "(type systemd-unit), not type %s", s->name, c->kind->name);
        if (c->repair != CHECK_REPAIR_NONE && c->repair_command)
                error_at_key(errors, s, "repair-command", "[%s] sets both repair= and repair-command=: choose one",
                             s->name);
        if (c->environmental && !c->required)
                error_at_key(errors, s, "environmental", "environmental = yes in [%s] has no effect with required = no",
                             s->name);
}

static CheckConfig *build_check(const RawSection *s, ConfigErrors *errors) {
        const char *name = s->name + strlen(CHECK_SECTION_PREFIX);
        const RawEntry *type = raw_find_entry(s, "type"), *timeout = raw_find_entry(s, "timeout");
        const CheckKind *kind;
        CheckConfig *c;
        char kinds[256], a[DURATION_MAX], b[DURATION_MAX];

        if (!type || !*type->value) {
                config_errors_add(errors, s->file, s->line, "[%s] needs type= (one of: %s)", s->name,
                                  kind_names(kinds, sizeof(kinds)));
                return NULL;
        }
        kind = check_kind_find(type->value);
        if (!kind) {
                config_errors_add(errors, type->file, type->line, "unknown check type '%s' in [%s] (known: %s)",
                                  type->value, s->name, kind_names(kinds, sizeof(kinds)));
                return NULL;
        }

        c = check_config_new(name, kind, s->file, s->line);
        if (!c) {
                config_errors_add(errors, s->file, s->line, "out of memory");
                return NULL;
        }

        for (size_t i = 0; i < s->n_entries; i++) {
                const RawEntry *e = &s->entries[i];
                const ConfigKey *k;

                if (e == type)
                        continue;
                if ((k = config_key_find(check_common_keys, e->key)))
                        apply_entry(k, c, s, e, errors);
                else if ((k = config_key_find(kind->keys, e->key)))
                        apply_entry(k, c->settings, s, e, errors);
                else
                        config_errors_add(errors, e->file, e->line, "unknown key '%s' in [%s] (type %s)", e->key,
                                          s->name, kind->name);
        }
        require_keys(kind->keys, s, errors);

        if (!timeout || !*timeout->value)
                c->timeout = c->interval < 5 * USEC_PER_SEC ? c->interval : 5 * USEC_PER_SEC;
        else if (c->timeout > c->interval)
                /* A run must end before the next one is due, or runs would pile up. */
                config_errors_add(errors, timeout->file, timeout->line, "timeout= (%s) in [%s] is longer than its interval (%s)",
                                  format_duration(a, sizeof(a), c->timeout), s->name,
                                  format_duration(b, sizeof(b), c->interval));

        if (kind->verify)
                kind->verify(c, errors);
        verify_check_policy(c, s, errors);
        return c;
}

static void verify_watchdog(WatchdogConfig *w, const RawSection *s, ConfigErrors *errors) {
        const RawEntry *device = s ? raw_find_entry(s, "device") : NULL;
        const RawEntry *interval = s ? raw_find_entry(s, "interval") : NULL;
        const RawEntry *pretimeout = s ? raw_find_entry(s, "pretimeout") : NULL;
        char a[DURATION_MAX], b[DURATION_MAX];

        if (device && !streq(w->device, "none") && w->device[0] != '/')
                config_errors_add(errors, device->file, device->line,
                                  "invalid device= in [watchdog]: '%s' must be an absolute path or 'none'", w->device);

        if (w->pretimeout >= w->timeout)
                config_errors_add(errors, pretimeout->file, pretimeout->line,
                                  "pretimeout= (%s) in [watchdog] must be shorter than timeout= (%s)",
                                  format_duration(a, sizeof(a), w->pretimeout), format_duration(b, sizeof(b), w->timeout));

        /* The pretimeout fires timeout - pretimeout after a ping (and with the panic governor
         * resets the board): pings must fit in that window, not in the whole timeout. */
        usec_t window = w->pretimeout < w->timeout ? w->timeout - w->pretimeout : w->timeout;
        if (w->interval == 0)
                w->interval = window / 3 - window / 3 % USEC_PER_MSEC;
        else if (w->interval > window / 2)
                /* One late ping must still land before the device fires. */
                config_errors_add(errors, interval->file, interval->line,
                                  w->pretimeout ? "interval= (%s) in [watchdog] must be at most half of timeout= minus pretimeout= (%s)"
                                                : "interval= (%s) in [watchdog] must be at most half of timeout= (%s)",
                                  format_duration(a, sizeof(a), w->interval), format_duration(b, sizeof(b), window));
        else if (w->interval < 10 * USEC_PER_MSEC)
                config_errors_add(errors, interval->file, interval->line, "interval= (%s) in [watchdog] must be at least 10ms",
                                  format_duration(a, sizeof(a), w->interval));
}

static void verify_assessment(const AssessmentConfig *a, const RawSection *s, ConfigErrors *errors) {
        char x[DURATION_MAX], y[DURATION_MAX];

        /* A trial must be able to confirm before it times out. */
        if (s && a->trial_timeout > 0 && a->trial_timeout <= a->confirm_after)
                error_at_key(errors, s, "trial-timeout",
                             "trial-timeout= (%s) in [assessment] must be longer than confirm-after= (%s), or 0 for none",
                             format_duration(x, sizeof(x), a->trial_timeout),
                             format_duration(y, sizeof(y), a->confirm_after));
        /* Under TCG or on a slow board, less than this does not even reach user space: every
         * trial would fail before healthdog could take the watchdog over. */
        if (s && a->boot_deadline > 0 && a->boot_deadline < BOOT_DEADLINE_MIN)
                error_at_key(errors, s, "boot-deadline",
                             "boot-deadline= (%s) in [assessment] must be at least %s, or 0 for no arming",
                             format_duration(x, sizeof(x), a->boot_deadline),
                             format_duration(y, sizeof(y), BOOT_DEADLINE_MIN));
}

static int build(const Raw *raw, Config *c, bool with_checks, ConfigErrors *errors) {
        const RawSection *watchdog = NULL, *assessment = NULL;

        if (config_keys_set_defaults(watchdog_keys, &c->watchdog) < 0 ||
            config_keys_set_defaults(supervisor_keys, &c->supervisor) < 0 ||
            config_keys_set_defaults(bootloader_keys, &c->bootloader) < 0 ||
            config_keys_set_defaults(assessment_keys, &c->assessment) < 0 ||
            config_keys_set_defaults(ostree_keys, &c->ostree) < 0 ||
            config_keys_set_defaults(update_keys, &c->update) < 0)
                return -ENOMEM;

        for (size_t i = 0; i < raw->n_sections; i++) {
                const RawSection *s = &raw->sections[i];

                if (streq(s->name, "watchdog")) {
                        watchdog = s;
                        apply_section(watchdog_keys, &c->watchdog, s, errors);
                } else if (streq(s->name, "supervisor"))
                        apply_section(supervisor_keys, &c->supervisor, s, errors);
                else if (streq(s->name, "bootloader"))
                        apply_section(bootloader_keys, &c->bootloader, s, errors);
                else if (streq(s->name, "ostree"))
                        apply_section(ostree_keys, &c->ostree, s, errors);
                else if (streq(s->name, "update"))
                        apply_section(update_keys, &c->update, s, errors);
                else if (streq(s->name, "assessment")) {
                        assessment = s;
                        apply_section(assessment_keys, &c->assessment, s, errors);
                }
                else if (with_checks) {
                        CheckConfig *check = build_check(s, errors), **n;
                        if (!check)
                                continue;
                        n = realloc(c->checks, sizeof(CheckConfig *) * (c->n_checks + 1));
                        if (!n) {
                                check_config_free(check);
                                return -ENOMEM;
                        }
                        c->checks = n;
                        c->checks[c->n_checks++] = check;
                }
        }

        verify_watchdog(&c->watchdog, watchdog, errors);
        verify_assessment(&c->assessment, assessment, errors);
        return 0;
}

static int load(const char *main_path, char *const *dropin_dirs, bool with_checks, Config **ret,
                ConfigErrors *errors) {
        _cleanup_(config_freep) Config *c = calloc(1, sizeof(Config));
        _cleanup_(strv_freep) char **dropins = NULL;
        size_t errors_before = config_errors_count(errors);
        Raw raw = {};
        int r;

        if (!c)
                return -ENOMEM;

        r = collect_dropins(dropin_dirs, &dropins, errors);
        if (r < 0)
                return r;

        parse_file(&raw, main_path, errors);
        for (char **d = dropins; d && *d; d++)
                parse_file(&raw, *d, errors);

        r = build(&raw, c, with_checks, errors);
        c->files = TAKE_PTR(raw.files);
        raw_done(&raw);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return config_errors_count(errors) > errors_before ? -EINVAL : 0;
}

int config_load(const char *main_path, char *const *dropin_dirs, Config **ret, ConfigErrors *errors) {
        _cleanup_(config_freep) Config *c = NULL;
        int r = load(main_path, dropin_dirs, true, &c, errors);

        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

int config_load_settings(const char *main_path, char *const *dropin_dirs, Config **ret) {
        _cleanup_(config_errors_clear) ConfigErrors errors = {};
        _cleanup_(config_freep) Config *c = NULL;
        WatchdogConfig *w;
        usec_t window;
        int r;

        r = load(main_path, dropin_dirs, false, &c, &errors);
        if (r < 0 && r != -EINVAL)
                return r;

        /* What the cross-key rules refuse falls back to what they allow, so that the device is
         * still pinged in time while a reset is being decided. */
        w = &c->watchdog;
        if (w->device[0] != '/' && !streq(w->device, "none")) {
                _cleanup_(freep) char *reason = NULL;

                r = config_key_parse(config_key_find(watchdog_keys, "device"), w, "", &reason);
                if (r < 0)
                        return r;
        }
        if (w->pretimeout >= w->timeout)
                w->pretimeout = 0;
        window = w->timeout - w->pretimeout;
        if (w->interval > window / 2 || w->interval < 10 * USEC_PER_MSEC)
                w->interval = window / 3 - window / 3 % USEC_PER_MSEC;
        *ret = TAKE_PTR(c);
        return 0;
}

Config *config_free(Config *c) {
        if (!c)
                return NULL;
        config_keys_free(watchdog_keys, &c->watchdog);
        config_keys_free(supervisor_keys, &c->supervisor);
        config_keys_free(bootloader_keys, &c->bootloader);
        config_keys_free(assessment_keys, &c->assessment);
        config_keys_free(ostree_keys, &c->ostree);
        config_keys_free(update_keys, &c->update);
        for (size_t i = 0; i < c->n_checks; i++)
                check_config_free(c->checks[i]);
        free(c->checks);
        strv_free(c->files);
        free(c);
        return NULL;
}

char **config_dropin_dirs(const char *main_path) {
        _cleanup_(strv_freep) char **dirs = calloc(1, sizeof(char *));
        const char *slash = strrchr(main_path, '/');
        char *dir;

        if (!dirs)
                return NULL;
        if (streq(main_path, HEALTHDOG_CONFIG_FILE)) {
                if (strv_extend(&dirs, HEALTHDOG_VENDOR_DROPIN_DIR) < 0 ||
                    strv_extend(&dirs, HEALTHDOG_ADMIN_DROPIN_DIR) < 0)
                        return NULL;
                return TAKE_PTR(dirs);
        }

        if (!slash)
                dir = strdup("conf.d");
        else if (asprintf(&dir, "%.*s/conf.d", (int) (slash - main_path), main_path) < 0)
                dir = NULL;
        if (strv_consume(&dirs, dir) < 0)
                return NULL;
        return TAKE_PTR(dirs);
}

void config_dump(const Config *c, FILE *f) {
        fputs("# The effective configuration of healthdog, read from:\n", f);
        for (char **p = c->files; p && *p; p++)
                fprintf(f, "#   %s\n", *p);
        fputs("\n[watchdog]\n", f);
        config_keys_dump(watchdog_keys, &c->watchdog, f);
        fputs("\n[supervisor]\n", f);
        config_keys_dump(supervisor_keys, &c->supervisor, f);
        fputs("\n[bootloader]\n", f);
        config_keys_dump(bootloader_keys, &c->bootloader, f);
        fputs("\n[assessment]\n", f);
        config_keys_dump(assessment_keys, &c->assessment, f);
        fputs("\n[ostree]\n", f);
        config_keys_dump(ostree_keys, &c->ostree, f);
        fputs("\n[update]\n", f);
        config_keys_dump(update_keys, &c->update, f);
        for (size_t i = 0; i < c->n_checks; i++) {
                fputc('\n', f);
                check_config_dump(c->checks[i], f);
        }
}

const CheckConfig *config_find_check(const Config *c, const char *name) {
        for (size_t i = 0; i < c->n_checks; i++)
                if (streq(c->checks[i]->name, name))
                        return c->checks[i];
        return NULL;
}
