/* SPDX-License-Identifier: MIT */
#include <fnmatch.h>
#include <stdarg.h>

#include "bus.h"

static void bus_free(void *p) {
        sd_bus *bus = p;

        /* No flush: a peer that does not read must not hold up a reload or the shutdown. Calls
         * still in flight keep their reference until their owners cancel them. */
        (void) sd_bus_detach_event(bus);
        sd_bus_close_unref(bus);
}

const char *bus_describe(const CheckContext *ctx) {
        return ctx->bus_address && ctx->bus_address[0] ? ctx->bus_address : "the system bus";
}

static int bus_open(CheckContext *ctx, sd_bus **ret) {
        _cleanup_(sd_bus_unrefp) sd_bus *bus = NULL;
        int r;

        if (!ctx->bus_address || !ctx->bus_address[0])
                r = sd_bus_open_system(&bus);
        else {
                r = sd_bus_new(&bus);
                if (r >= 0)
                        r = sd_bus_set_address(bus, ctx->bus_address);
                if (r >= 0)
                        r = sd_bus_set_bus_client(bus, true);
                if (r >= 0)
                        r = sd_bus_start(bus);
        }
        if (r < 0)
                return r;

        /* The default flushes the bus when the loop exits, which waits for the peer to read:
         * bus_free() closes without waiting instead. */
        r = sd_bus_set_close_on_exit(bus, false);
        if (r >= 0)
                r = sd_bus_attach_event(bus, ctx->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(bus);
        return 0;
}

int bus_get(CheckContext *ctx, sd_bus **ret) {
        sd_bus *bus;
        int r;

        /* sd_bus_is_open() is true while connecting too: calls queue until the connection is up. */
        if (ctx->bus && sd_bus_is_open(ctx->bus) > 0) {
                *ret = ctx->bus;
                return 0;
        }
        if (ctx->bus)
                bus_free(ctx->bus);
        ctx->bus = NULL;

        r = bus_open(ctx, &bus);
        if (r < 0)
                return r;
        ctx->bus = bus;
        ctx->bus_free = bus_free;
        *ret = bus;
        return 0;
}

static int bus_callv(sd_bus *bus, sd_bus_slot **ret_slot, usec_t timeout, sd_bus_message_handler_t callback,
                     void *userdata, const char *path, const char *interface, const char *method, const char *types,
                     va_list ap) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, BUS_SYSTEMD_SERVICE, path, interface, method);
        if (r < 0)
                return r;
        if (types) {
                r = sd_bus_message_appendv(m, types, ap);
                if (r < 0)
                        return r;
        }
        /* 0 would mean sd-bus's default of 25 s: a call never outlives the probe that made it. */
        return sd_bus_call_async(bus, ret_slot, m, callback, userdata, timeout ?: 1);
}

int bus_call(sd_bus *bus, sd_bus_slot **ret_slot, usec_t timeout, sd_bus_message_handler_t callback, void *userdata,
             const char *path, const char *interface, const char *method, const char *types, ...) {
        va_list ap;
        int r;

        va_start(ap, types);
        r = bus_callv(bus, ret_slot, timeout, callback, userdata, path, interface, method, types, ap);
        va_end(ap);
        return r;
}

usec_t bus_call_timeout(const Check *c) {
        usec_t spent = now(CLOCK_MONOTONIC) - c->started;

        return spent < c->config->timeout ? c->config->timeout - spent : 1;
}

int bus_probe_start(Check *c, size_t size, sd_bus_message_handler_t callback, const char *path,
                    const char *interface, const char *method, const char *types, ...) {
        BusProbe *p;
        sd_bus *bus;
        va_list ap;
        int r;

        r = bus_get(c->context, &bus);
        if (r < 0) {
                check_done(c, false, "cannot connect to %s: %s", bus_describe(c->context), strerror(-r));
                return 0;
        }
        p = calloc(1, size);
        if (!p)
                return -ENOMEM;
        p->check = c;
        c->probe = p; /* the core's from here on, also when the call fails */
        va_start(ap, types);
        r = bus_callv(bus, &p->slot, bus_call_timeout(c), callback, p, path, interface, method, types, ap);
        va_end(ap);
        return r;
}

void bus_probe_free(void *probe) {
        BusProbe *p = probe;

        /* Unreferencing the slot forgets the call: sd-bus drops a late reply. */
        sd_bus_slot_unref(p->slot);
        free(p);
}

int bus_read_string_properties(sd_bus_message *reply, const char *const *names, const char **values) {
        const char *name, *value;
        int r;

        r = sd_bus_message_enter_container(reply, SD_BUS_TYPE_ARRAY, "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(reply, SD_BUS_TYPE_DICT_ENTRY, "sv")) > 0) {
                size_t i;

                r = sd_bus_message_read(reply, "s", &name);
                if (r < 0)
                        return r;
                for (i = 0; names[i] && !streq(names[i], name); i++)
                        ;
                /* systemd sends a hundred properties or more: skip the ones not asked for. */
                if (names[i] && sd_bus_message_verify_type(reply, SD_BUS_TYPE_VARIANT, "s") > 0)
                        r = sd_bus_message_read(reply, "v", "s", &value);
                else
                        r = sd_bus_message_skip(reply, "v");
                if (r < 0)
                        return r;
                if (names[i])
                        values[i] = value;
                r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(reply);
}

const char *bus_error_text(const sd_bus_error *e) {
        if (!e)
                return "unknown error";
        return e->message ?: e->name ?: "unknown error";
}

const char *const bus_active_states[] = {
        [BUS_ACTIVE] = "active",
        [BUS_RELOADING] = "reloading",
        [BUS_INACTIVE] = "inactive",
        [BUS_FAILED] = "failed",
        [BUS_ACTIVATING] = "activating",
        [BUS_DEACTIVATING] = "deactivating",
        [BUS_MAINTENANCE] = "maintenance",
        [BUS_REFRESHING] = "refreshing",
        [_BUS_ACTIVE_STATE_MAX] = NULL,
};

int bus_active_state_from_string(const char *s) {
        for (int i = 0; s && i < _BUS_ACTIVE_STATE_MAX; i++)
                if (streq(bus_active_states[i], s))
                        return i;
        return -EINVAL;
}

static const struct {
        const char *type;
        const char *result_interface;
} unit_types[] = {
        { "service",   "org.freedesktop.systemd1.Service" },
        { "socket",    "org.freedesktop.systemd1.Socket" },
        { "target",    NULL },
        { "device",    NULL },
        { "mount",     "org.freedesktop.systemd1.Mount" },
        { "automount", "org.freedesktop.systemd1.Automount" },
        { "swap",      "org.freedesktop.systemd1.Swap" },
        { "timer",     "org.freedesktop.systemd1.Timer" },
        { "path",      "org.freedesktop.systemd1.Path" },
        { "slice",     NULL },
        { "scope",     "org.freedesktop.systemd1.Scope" },
};

static ssize_t unit_type_find(const char *name) {
        const char *dot = strrchr(name, '.');

        for (size_t i = 0; dot && i < ELEMENTSOF(unit_types); i++)
                if (streq(dot + 1, unit_types[i].type))
                        return (ssize_t) i;
        return -1;
}

int bus_unit_name_verify(const char *name, const char **reason) {
        const char *dot = strrchr(name, '.'), *at = strchr(name, '@');

        if (strlen(name) > BUS_UNIT_NAME_MAX)
                *reason = "is longer than 255 characters";
        else if (name[strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-_.\\@")])
                *reason = "contains a character not allowed in unit names (letters, digits, \":-_.\\@\")";
        else if (!dot || dot == name || unit_type_find(name) < 0)
                *reason = "is not a unit name: expected NAME.TYPE such as myapp.service (types: service, socket, "
                          "target, device, mount, automount, swap, timer, path, slice, scope)";
        else if (at && (at == name || strchr(at + 1, '@') || at > dot))
                *reason = "has a misplaced '@': expected NAME@INSTANCE.TYPE";
        else if (at && at + 1 == dot)
                *reason = "is a template: name an instance such as getty@tty1.service";
        else
                return 0;
        return -EINVAL;
}

const char *bus_unit_result_interface(const char *name) {
        ssize_t i = unit_type_find(name);

        return i < 0 ? NULL : unit_types[i].result_interface;
}

static bool state_accepted(const char *active_state, unsigned accepted) {
        int s = bus_active_state_from_string(active_state);

        return s >= 0 && (accepted & (1u << s));
}

bool bus_unit_wants_result(const char *unit, const BusUnitStatus *st, unsigned accepted, const char *want_result) {
        /* A stub for a missing unit has nothing to tell. */
        if (!bus_unit_result_interface(unit) || streq_ptr(st->load_state, "not-found"))
                return false;
        return want_result || !state_accepted(st->active_state, accepted);
}

/* "active|reloading": the accepted states, for a detail. */
static void format_states(char *buf, size_t size, unsigned accepted) {
        size_t n = 0;

        buf[0] = '\0';
        for (int i = 0; i < _BUS_ACTIVE_STATE_MAX && n < size; i++)
                if (accepted & (1u << i))
                        n += (size_t) snprintf(buf + n, size - n, "%s%s", n > 0 ? "|" : "", bus_active_states[i]);
}

bool bus_unit_verdict(const char *unit, const BusUnitStatus *st, unsigned accepted, const char *want_result,
                      char *detail, size_t size) {
        char result[80] = "", load[80] = "", expected[128] = "";
        bool passed;

        /* A unit that something refers to but that has no file is loaded as a stub: it is
         * "inactive", and must not pass a check that accepts inactive units. */
        if (streq_ptr(st->load_state, "not-found")) {
                snprintf(detail, size, "%s: no such unit (LoadState=not-found)", unit);
                return false;
        }

        if (st->result)
                snprintf(result, sizeof(result), ", Result=%s", st->result);
        if (st->load_state && !streq(st->load_state, "loaded"))
                snprintf(load, sizeof(load), ", LoadState=%s", st->load_state);

        if (!state_accepted(st->active_state, accepted)) {
                passed = false;
                /* "failed" says enough against the default; other expectations are spelled out. */
                if (accepted != 1u << BUS_ACTIVE) {
                        char states[100];
                        format_states(states, sizeof(states), accepted);
                        snprintf(expected, sizeof(expected), ", expected %s", states);
                }
        } else if (want_result && !streq_ptr(st->result, want_result)) {
                passed = false;
                snprintf(expected, sizeof(expected), " (expected %s)", want_result);
        } else
                passed = true;

        snprintf(detail, size, "%s %s (%s)%s%s%s", unit, strempty(st->active_state), strempty(st->sub_state), result,
                 expected, load);
        return passed;
}

static bool unit_ignored(const char *unit, char *const *ignore) {
        for (char *const *p = ignore; p && *p; p++)
                if (fnmatch(*p, unit, 0) == 0)
                        return true;
        return false;
}

/* Appends "a.service, b.service" to buf (holding n characters, of size) for the units in
 * failed that are (or, with want_ignored false, are not) ignored, as many as fit with room for
 * a closing ", +N more". */
static void append_units(char *buf, size_t size, size_t n, char *const *failed, char *const *ignore,
                         bool want_ignored) {
        const size_t more_room = sizeof(", +9999 more");
        size_t shown = 0, total = 0;

        for (char *const *u = failed; u && *u; u++) {
                size_t l;

                if (unit_ignored(*u, ignore) != want_ignored)
                        continue;
                total++;
                l = strlen(*u) + (shown > 0 ? 2 : 0);
                if (total != shown + 1 || n + l + more_room >= size)
                        continue;
                n += (size_t) snprintf(buf + n, size - n, "%s%s", shown > 0 ? ", " : "", *u);
                shown++;
        }
        if (total > shown && n < size)
                snprintf(buf + n, size - n, "%s+%zu more", shown > 0 ? ", " : "", total - shown);
}

bool bus_system_verdict(const char *state, char *const *failed, char *const *ignore, char *detail, size_t size) {
        size_t n_failed = 0, n_ignored = 0, n;

        if (streq_ptr(state, "running")) {
                snprintf(detail, size, "running");
                return true;
        }
        if (streq_ptr(state, "initializing") || streq_ptr(state, "starting")) {
                snprintf(detail, size, "not yet running (%s)", state);
                return false;
        }
        if (!streq_ptr(state, "degraded")) {
                snprintf(detail, size, "SystemState=%s", strempty(state));
                return false;
        }

        for (char *const *u = failed; u && *u; u++) {
                n_failed++;
                n_ignored += unit_ignored(*u, ignore);
        }
        if (n_failed == 0) {
                /* The failed unit was reset or restarted between the two questions. */
                snprintf(detail, size, "degraded (no failed unit listed)");
                return false;
        }
        if (n_ignored == n_failed) {
                n = (size_t) snprintf(detail, size, "degraded by ignored units only: ");
                if (n < size)
                        append_units(detail, size, n, failed, ignore, true);
                return true;
        }

        n = (size_t) snprintf(detail, size, "degraded: %zu failed unit%s: ", n_failed - n_ignored,
                              n_failed - n_ignored == 1 ? "" : "s");
        if (n < size)
                append_units(detail, size, n, failed, ignore, false);
        return false;
}
