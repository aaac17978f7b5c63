/* SPDX-License-Identifier: MIT */
#include "bus.h"
#include "check.h"

/* [check.NAME] type=systemd-unit: a unit's ActiveState (and Result) as systemd reports it over
 * D-Bus, asked asynchronously at every run: Manager.GetUnit, then Properties.GetAll of the unit,
 * then Result when it matters. Also the kind's repair: Manager.RestartUnit.
 *
 * GetUnit rather than LoadUnit: asking must not load units into systemd. A unit that is not
 * loaded is reported as "no such unit"; systemd keeps every unit loaded that something refers to
 * (WantedBy=, a timer) and every failed unit, so that is a unit that does not exist or that
 * nothing wants. */
typedef struct UnitSettings {
        char *unit;
        unsigned states;        /* mask of 1u << BusActiveState */
        char *result;           /* NULL = any Result */
} UnitSettings;

static int parse_unit_name(const ConfigKey *key, const char *text, void *field, char **reason) {
        const char *why;

        if (bus_unit_name_verify(text, &why) < 0) {
                *reason = strdup(why);
                return -EINVAL;
        }
        return config_type_string.parse(key, text, field, reason);
}

static void format_string(FILE *f, const void *field) {
        fputs(strempty(*(char *const *) field), f);
}

static void free_string(void *field) {
        char **s = field;
        *s = (free(*s), NULL);
}

static const ConfigType unit_name_type = {
        sizeof(char *), parse_unit_name, format_string, free_string,
};

/* "active reloading": ActiveStates separated by blanks, as a mask. */
static int parse_states(const ConfigKey *key, const char *text, void *field, char **reason) {
        _cleanup_(strv_freep) char **words = NULL;
        unsigned mask = 0;
        int r;

        r = split_command(text, &words);
        if (r < 0)
                return r;
        for (char **w = words; *w; w++) {
                int s = bus_active_state_from_string(*w);
                if (s < 0) {
                        if (asprintf(reason, "has an unknown state '%s' (known: active, reloading, inactive, failed, "
                                     "activating, deactivating, maintenance, refreshing)", *w) < 0)
                                return -ENOMEM;
                        return -EINVAL;
                }
                mask |= 1u << s;
        }
        if (mask == 0) {
                *reason = strdup("names no state");
                return -EINVAL;
        }
        *(unsigned *) field = mask;
        return 0;
}

static void format_states(FILE *f, const void *field) {
        unsigned mask = *(const unsigned *) field;
        bool first = true;

        for (int i = 0; i < _BUS_ACTIVE_STATE_MAX; i++)
                if (mask & (1u << i)) {
                        fprintf(f, "%s%s", first ? "" : " ", bus_active_states[i]);
                        first = false;
                }
}

static const ConfigType states_type = {
        sizeof(unsigned), parse_states, format_states, NULL,
};

/* The Result values of systemd's unit types (service, socket, mount, swap, timer, path,
 * automount, scope); "success" is the one people check for. */
static const char *const unit_results[] = {
        "success", "resources", "protocol", "timeout", "exit-code", "signal", "core-dump", "watchdog",
        "start-limit-hit", "oom-kill", "exec-condition", "trigger-limit-hit", "service-start-limit-hit",
        "unit-start-limit-hit", "mount-start-limit-hit", "unmounted", NULL,
};

static int parse_result(const ConfigKey *key, const char *text, void *field, char **reason) {
        for (size_t i = 0; unit_results[i]; i++)
                if (streq(unit_results[i], text))
                        return config_type_string.parse(key, text, field, reason);
        *reason = strdup("is not a unit Result (e.g. success, exit-code, signal, timeout, core-dump, watchdog, "
                         "oom-kill, start-limit-hit, resources)");
        return -EINVAL;
}

static const ConfigType result_type = {
        sizeof(char *), parse_result, format_string, free_string,
};

static const ConfigKey unit_keys[] = {
        { "unit",   &unit_name_type, offsetof(UnitSettings, unit), .required = true },
        { "states", &states_type,    offsetof(UnitSettings, states), "active" },
        { "result", &result_type,    offsetof(UnitSettings, result) },
        {}
};

static void unit_verify(const CheckConfig *c, ConfigErrors *errors) {
        const UnitSettings *s = c->settings;

        if (s->result && s->unit && !bus_unit_result_interface(s->unit))
                config_errors_add(errors, c->file, c->line,
                                  "result= in [check.%s] needs a unit type with a Result (service, socket, mount, "
                                  "swap, timer, path, automount, scope), not '%s'", c->name, s->unit);
}

typedef struct UnitProbe {
        BusProbe bus;           /* first: bus_probe_start() fills it in */
        char *path;
        char *load_state;
        char *active_state;
        char *sub_state;
} UnitProbe;

static void unit_probe_free(void *probe) {
        UnitProbe *p = probe;

        free(p->path);
        free(p->load_state);
        free(p->active_state);
        free(p->sub_state);
        bus_probe_free(&p->bus);
}

static void unit_probe_verdict(UnitProbe *p, const char *result) {
        const UnitSettings *s = check_settings(p->bus.check);
        const BusUnitStatus st = {
                .load_state = p->load_state,
                .active_state = p->active_state,
                .sub_state = p->sub_state,
                .result = result,
        };
        char detail[CHECK_DETAIL_MAX];
        bool passed = bus_unit_verdict(s->unit, &st, s->states, s->result, detail, sizeof(detail));

        check_done(p->bus.check, passed, "%s", detail);
}

static int on_result(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        UnitProbe *p = userdata;
        const UnitSettings *s = check_settings(p->bus.check);
        const char *result = NULL;
        int r;

        p->bus.slot = sd_bus_slot_unref(p->bus.slot);
        if (sd_bus_message_is_method_error(reply, NULL)) {
                if (s->result) {
                        check_done(p->bus.check, false, "%s: cannot read Result: %s", s->unit,
                                   bus_error_text(sd_bus_message_get_error(reply)));
                        return 0;
                }
                /* The Result only explains a failure here: the verdict stands without it. */
                unit_probe_verdict(p, NULL);
                return 0;
        }
        r = sd_bus_message_read(reply, "v", "s", &result);
        if (r < 0) {
                check_done(p->bus.check, false, "%s: unexpected reply to Get(Result): %s", s->unit, strerror(-r));
                return 0;
        }
        unit_probe_verdict(p, result);
        return 0;
}

static int on_properties(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        static const char *const names[] = { "LoadState", "ActiveState", "SubState", NULL };
        UnitProbe *p = userdata;
        Check *c = p->bus.check;
        const UnitSettings *s = check_settings(c);
        const char *values[3] = {};
        BusUnitStatus st;
        int r;

        p->bus.slot = sd_bus_slot_unref(p->bus.slot);
        if (sd_bus_message_is_method_error(reply, NULL)) {
                check_done(p->bus.check, false, "%s: cannot read its state: %s", s->unit,
                           bus_error_text(sd_bus_message_get_error(reply)));
                return 0;
        }
        r = bus_read_string_properties(reply, names, values);
        if (r < 0 || !values[0] || !values[1] || !values[2]) {
                check_done(p->bus.check, false, "%s: unexpected reply to GetAll: %s", s->unit,
                           r < 0 ? strerror(-r) : "a state is missing");
                return 0;
        }
        p->load_state = strdup(values[0]);
        p->active_state = strdup(values[1]);
        p->sub_state = strdup(values[2]);
        if (!p->load_state || !p->active_state || !p->sub_state) {
                check_done(p->bus.check, false, "%s: %s", s->unit, strerror(ENOMEM));
                return 0;
        }

        st = (BusUnitStatus) { .load_state = p->load_state, .active_state = p->active_state, .sub_state = p->sub_state };
        if (!bus_unit_wants_result(s->unit, &st, s->states, s->result)) {
                unit_probe_verdict(p, NULL);
                return 0;
        }
        r = bus_call(sd_bus_message_get_bus(reply), &p->bus.slot, bus_call_timeout(c), on_result, p, p->path,
                     "org.freedesktop.DBus.Properties", "Get", "ss", bus_unit_result_interface(s->unit), "Result");
        if (r < 0)
                check_done(p->bus.check, false, "%s: cannot ask for its Result: %s", s->unit, strerror(-r));
        return 0;
}

static int on_get_unit(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        UnitProbe *p = userdata;
        Check *c = p->bus.check;
        const UnitSettings *s = check_settings(c);
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        const char *path;
        int r;

        p->bus.slot = sd_bus_slot_unref(p->bus.slot);
        if (e && sd_bus_error_has_name(e, BUS_ERROR_NO_SUCH_UNIT)) {
                check_done(p->bus.check, false, "%s: no such unit", s->unit);
                return 0;
        }
        if (e) {
                check_done(p->bus.check, false, "%s: GetUnit failed: %s", s->unit, bus_error_text(e));
                return 0;
        }
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0) {
                check_done(p->bus.check, false, "%s: unexpected reply to GetUnit: %s", s->unit, strerror(-r));
                return 0;
        }
        p->path = strdup(path);
        if (!p->path) {
                check_done(p->bus.check, false, "%s: %s", s->unit, strerror(ENOMEM));
                return 0;
        }
        r = bus_call(sd_bus_message_get_bus(reply), &p->bus.slot, bus_call_timeout(c), on_properties, p, p->path,
                     "org.freedesktop.DBus.Properties", "GetAll", "s", BUS_SYSTEMD_UNIT);
        if (r < 0)
                check_done(p->bus.check, false, "%s: cannot ask for its state: %s", s->unit, strerror(-r));
        return 0;
}

static int unit_start(Check *c) {
        const UnitSettings *s = check_settings(c);

        return bus_probe_start(c, sizeof(UnitProbe), on_get_unit, BUS_SYSTEMD_PATH, BUS_SYSTEMD_MANAGER, "GetUnit", "s",
                               s->unit);
}

static int on_restart(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        Check *c = userdata;
        const UnitSettings *s = check_settings(c);
        const char *job;
        int r;

        c->repair_probe = sd_bus_slot_unref(c->repair_probe);
        if (sd_bus_message_is_method_error(reply, NULL)) {
                check_repair_done(c, false, "RestartUnit %s failed: %s", s->unit,
                                  bus_error_text(sd_bus_message_get_error(reply)));
                return 0;
        }
        r = sd_bus_message_read(reply, "o", &job);
        if (r < 0)
                check_repair_done(c, false, "unexpected reply to RestartUnit %s: %s", s->unit, strerror(-r));
        else
                check_repair_done(c, true, "restart of %s queued as %s", s->unit, job);
        return 0;
}

static int unit_repair(Check *c) {
        const UnitSettings *s = check_settings(c);
        sd_bus_slot *slot;
        sd_bus *bus;
        int r;

        r = bus_get(c->context, &bus);
        if (r < 0)
                return r;
        /* "replace": a pending stop or start of the unit gives way to the restart. The reply
         * comes once the job is queued; the next runs of the check tell whether it helped. A
         * repair gets as long as a probe of the same check. */
        r = bus_call(bus, &slot, c->config->timeout, on_restart, c, BUS_SYSTEMD_PATH, BUS_SYSTEMD_MANAGER,
                     "RestartUnit", "ss", s->unit, "replace");
        if (r < 0)
                return r;
        c->repair_probe = slot;
        return 0;
}

static void unit_repair_cancel(Check *c) {
        c->repair_probe = sd_bus_slot_unref(c->repair_probe);
}

const CheckKind check_kind_systemd_unit = {
        .name = "systemd-unit",
        .settings_size = sizeof(UnitSettings),
        .keys = unit_keys,
        .verify = unit_verify,
        .start = unit_start,
        .probe_free = unit_probe_free,
        .repair = unit_repair,
        .repair_cancel = unit_repair_cancel,
};
