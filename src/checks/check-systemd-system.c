/* SPDX-License-Identifier: MIT */
#include "bus.h"
#include "check.h"

/* [check.NAME] type=systemd-system: the manager's SystemState, asked asynchronously at every
 * run. "running" passes; "degraded" fails naming the failed units (Manager.ListUnitsFiltered),
 * unless every one of them is in ignore-units; starting up, maintenance, stopping fail. */
typedef struct SystemSettings {
        char **ignore_units;    /* fnmatch patterns */
} SystemSettings;

/* Unit names or globs ("user@*.service") separated by blanks. */
static int parse_patterns(const ConfigKey *key, const char *text, void *field, char **reason) {
        _cleanup_(strv_freep) char **words = NULL;
        char ***patterns = field;
        const char *why;
        int r;

        r = split_command(text, &words);
        if (r < 0)
                return r;
        for (char **w = words; *w; w++) {
                if (strpbrk(*w, "*?["))
                        why = strlen(*w) > BUS_UNIT_NAME_MAX ? "is longer than 255 characters"
                            : (*w)[strspn(*w, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                              ":-_.\\@*?[]!")] ? "contains a character not allowed in unit names"
                            : NULL;
                else if (bus_unit_name_verify(*w, &why) >= 0)
                        why = NULL;
                if (why) {
                        if (asprintf(reason, "has '%s', which %s", *w, why) < 0)
                                return -ENOMEM;
                        return -EINVAL;
                }
        }
        strv_free(*patterns);
        *patterns = TAKE_PTR(words);
        return 0;
}

static void format_patterns(FILE *f, const void *field) {
        char *const *patterns = *(char **const *) field;

        for (char *const *p = patterns; p && *p; p++)
                fprintf(f, "%s%s", p == patterns ? "" : " ", *p);
}

static void free_patterns(void *field) {
        char ***patterns = field;
        *patterns = strv_free(*patterns);
}

static const ConfigType patterns_type = {
        sizeof(char **), parse_patterns, format_patterns, free_patterns,
};

static const ConfigKey system_keys[] = {
        { "ignore-units", &patterns_type, offsetof(SystemSettings, ignore_units) },
        {}
};

static void system_probe_verdict(BusProbe *p, const char *state, char *const *failed) {
        const SystemSettings *s = check_settings(p->check);
        char detail[CHECK_DETAIL_MAX];
        bool passed = bus_system_verdict(state, failed, s->ignore_units, detail, sizeof(detail));

        check_done(p->check, passed, "%s", detail);
}

/* Reads the names out of ListUnitsFiltered's a(ssssssouso). */
static int read_unit_names(sd_bus_message *reply, char ***ret) {
        _cleanup_(strv_freep) char **names = NULL;
        const char *name;
        int r;

        r = sd_bus_message_enter_container(reply, SD_BUS_TYPE_ARRAY, "(ssssssouso)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(reply, "(ssssssouso)", &name, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                                        NULL, NULL)) > 0)
                if (strv_extend(&names, name) < 0)
                        return -ENOMEM;
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(reply);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(names);
        return 0;
}

static int on_failed_units(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(strv_freep) char **failed = NULL;
        BusProbe *p = userdata;
        int r;

        p->slot = sd_bus_slot_unref(p->slot);
        if (sd_bus_message_is_method_error(reply, NULL)) {
                check_done(p->check, false, "degraded (cannot list the failed units: %s)",
                           bus_error_text(sd_bus_message_get_error(reply)));
                return 0;
        }
        r = read_unit_names(reply, &failed);
        if (r < 0) {
                check_done(p->check, false, "degraded (unexpected reply to ListUnitsFiltered: %s)", strerror(-r));
                return 0;
        }
        system_probe_verdict(p, "degraded", failed);
        return 0;
}

static int on_system_state(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        BusProbe *p = userdata;
        Check *c = p->check;
        const char *state;
        int r;

        p->slot = sd_bus_slot_unref(p->slot);
        if (sd_bus_message_is_method_error(reply, NULL)) {
                check_done(p->check, false, "cannot read SystemState: %s",
                           bus_error_text(sd_bus_message_get_error(reply)));
                return 0;
        }
        r = sd_bus_message_read(reply, "v", "s", &state);
        if (r < 0) {
                check_done(p->check, false, "unexpected reply to Get(SystemState): %s", strerror(-r));
                return 0;
        }
        if (!streq(state, "degraded")) {
                system_probe_verdict(p, state, NULL);
                return 0;
        }
        r = bus_call(sd_bus_message_get_bus(reply), &p->slot, bus_call_timeout(c), on_failed_units, p, BUS_SYSTEMD_PATH,
                     BUS_SYSTEMD_MANAGER, "ListUnitsFiltered", "as", 1, "failed");
        if (r < 0)
                check_done(p->check, false, "degraded (cannot list the failed units: %s)", strerror(-r));
        return 0;
}

static int system_start(Check *c) {
        return bus_probe_start(c, sizeof(BusProbe), on_system_state, BUS_SYSTEMD_PATH,
                               "org.freedesktop.DBus.Properties", "Get", "ss", BUS_SYSTEMD_MANAGER, "SystemState");
}

const CheckKind check_kind_systemd_system = {
        .name = "systemd-system",
        .settings_size = sizeof(SystemSettings),
        .keys = system_keys,
        .start = system_start,
        .probe_free = bus_probe_free,
};
