/* SPDX-License-Identifier: MIT */
/* A stand-in for systemd's D-Bus API, for the tests of the systemd-* checks: it claims
 * org.freedesktop.systemd1 on a test bus and serves exactly what healthdog uses.
 *
 *   org.freedesktop.systemd1.Manager on /org/freedesktop/systemd1:
 *     GetUnit(s) -> o            NoSuchUnit for names not in the state file
 *     RestartUnit(ss) -> o       logged; the unit takes its restart= state from then on
 *     ListUnitsFiltered(as) -> a(ssssssouso)   by ActiveState
 *     SystemState                property
 *   org.freedesktop.systemd1.Unit on /org/freedesktop/systemd1/unit/<escaped name>:
 *     Id, LoadState, ActiveState, SubState
 *   org.freedesktop.systemd1.Service on the same objects (services only): Result
 *
 * The state file is read again for every incoming call, so a test changes the world by
 * rewriting it (atomically: write, then rename). Lines:
 *   system STATE
 *   unit NAME ACTIVE SUB LOAD RESULT [restart=ACTIVE/SUB]
 *   hang [METHOD] (calls, or only calls of METHOD, get no answer at all: a hung peer)
 *
 * Usage: fake-systemd1 --address ADDRESS --state FILE --log FILE
 * The log gets "<method> <args>" per call and "READY" once the name is claimed. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#define MAX_UNITS 128
#define MAX_RESTARTED 128

typedef struct Unit {
        char name[256];
        char active[32], sub[32], load[32], result[32];
        char restart_active[32], restart_sub[32]; /* empty: a restart changes nothing */
} Unit;

static const char *arg_address, *arg_state, *arg_log;
static FILE *log_file;

static char system_state[32];
static bool hang;
static char hang_member[64];    /* empty: every call hangs */
static Unit units[MAX_UNITS];
static size_t n_units;
static char restarted[MAX_RESTARTED][256];
static size_t n_restarted;
static unsigned job_id;

static void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void log_line(const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        vfprintf(log_file, fmt, ap);
        va_end(ap);
        fputc('\n', log_file);
        fflush(log_file);
}

static bool was_restarted(const char *name) {
        for (size_t i = 0; i < n_restarted; i++)
                if (strcmp(restarted[i], name) == 0)
                        return true;
        return false;
}

static void load_state(void) {
        FILE *f = fopen(arg_state, "re");
        char line[512], word[16];

        snprintf(system_state, sizeof(system_state), "running");
        hang = false;
        hang_member[0] = '\0';
        n_units = 0;
        if (!f)
                return;
        while (fgets(line, sizeof(line), f)) {
                Unit *u = &units[n_units];
                char restart[80] = "";
                int n;

                if (sscanf(line, "%15s", word) != 1)
                        continue;
                if (strcmp(word, "hang") == 0) {
                        hang = true;
                        (void) sscanf(line, "%*s %63s", hang_member);
                }
                else if (strcmp(word, "system") == 0)
                        (void) sscanf(line, "%*s %31s", system_state);
                else if (strcmp(word, "unit") == 0 && n_units < MAX_UNITS) {
                        *u = (Unit) {};
                        n = sscanf(line, "%*s %255s %31s %31s %31s %31s %79s", u->name, u->active, u->sub, u->load,
                                   u->result, restart);
                        if (n < 5)
                                continue;
                        if (n == 6 && sscanf(restart, "restart=%31[^/]/%31s", u->restart_active, u->restart_sub) != 2)
                                continue;
                        if (u->restart_active[0] && was_restarted(u->name)) {
                                memcpy(u->active, u->restart_active, sizeof(u->active));
                                memcpy(u->sub, u->restart_sub, sizeof(u->sub));
                                snprintf(u->result, sizeof(u->result), "success");
                        }
                        n_units++;
                }
        }
        fclose(f);
}

static Unit *find_unit(const char *name) {
        for (size_t i = 0; i < n_units; i++)
                if (strcmp(units[i].name, name) == 0)
                        return &units[i];
        return NULL;
}

static bool is_service(const Unit *u) {
        size_t l = strlen(u->name);
        return l > 8 && strcmp(u->name + l - 8, ".service") == 0;
}

/* Every incoming message passes here first: the state is read afresh, and a hung peer
 * swallows calls without an answer. */
static int on_message(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        if (!sd_bus_message_is_method_call(m, NULL, NULL))
                return 0;
        load_state();
        if (hang && (!hang_member[0] || strcmp(hang_member, sd_bus_message_get_member(m)) == 0)) {
                log_line("HANG %s.%s %s", sd_bus_message_get_interface(m), sd_bus_message_get_member(m),
                         sd_bus_message_get_path(m));
                return 1;
        }
        log_line("CALL %s.%s %s", sd_bus_message_get_interface(m), sd_bus_message_get_member(m),
                 sd_bus_message_get_path(m));
        return 0;
}

static int reply_unit_path(sd_bus_message *m, const char *name) {
        char *path = NULL;
        int r;

        r = sd_bus_path_encode("/org/freedesktop/systemd1/unit", name, &path);
        if (r < 0)
                return r;
        r = sd_bus_reply_method_return(m, "o", path);
        free(path);
        return r;
}

static int method_get_unit(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *name;
        int r;

        r = sd_bus_message_read(m, "s", &name);
        if (r < 0)
                return r;
        log_line("GetUnit %s", name);
        if (!find_unit(name))
                return sd_bus_error_setf(error, "org.freedesktop.systemd1.NoSuchUnit", "Unit %s not loaded.", name);
        return reply_unit_path(m, name);
}

static int method_restart_unit(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *name, *mode;
        char job[64];
        int r;

        r = sd_bus_message_read(m, "ss", &name, &mode);
        if (r < 0)
                return r;
        log_line("RestartUnit %s %s", name, mode);
        if (!find_unit(name))
                return sd_bus_error_setf(error, "org.freedesktop.systemd1.NoSuchUnit", "Unit %s not found.", name);
        if (!was_restarted(name) && n_restarted < MAX_RESTARTED)
                snprintf(restarted[n_restarted++], sizeof(restarted[0]), "%s", name);
        snprintf(job, sizeof(job), "/org/freedesktop/systemd1/job/%u", ++job_id);
        return sd_bus_reply_method_return(m, "o", job);
}

static int method_list_units_filtered(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        sd_bus_message *reply = NULL;
        char **states = NULL;
        int r;

        r = sd_bus_message_read_strv(m, &states);
        if (r < 0)
                return r;
        log_line("ListUnitsFiltered %s", states && states[0] ? states[0] : "");

        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ssssssouso)");
        for (size_t i = 0; r >= 0 && i < n_units; i++) {
                bool match = !states || !states[0];
                char *path = NULL;

                for (char **s = states; s && *s; s++)
                        match = match || strcmp(*s, units[i].active) == 0;
                if (!match)
                        continue;
                r = sd_bus_path_encode("/org/freedesktop/systemd1/unit", units[i].name, &path);
                if (r >= 0)
                        r = sd_bus_message_append(reply, "(ssssssouso)", units[i].name, "fake unit", units[i].load,
                                                  units[i].active, units[i].sub, "", path, 0u, "", "/");
                free(path);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        sd_bus_message_unref(reply);
        for (char **s = states; s && *s; s++)
                free(*s);
        free(states);
        return r;
}

static int property_system_state(sd_bus *bus, const char *path, const char *interface, const char *property,
                                 sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", system_state);
}

/* The unit objects: userdata is the Unit found for the path. */
static int property_unit(sd_bus *bus, const char *path, const char *interface, const char *property,
                         sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        const Unit *u = userdata;
        const char *v = strcmp(property, "Id") == 0 ? u->name
                      : strcmp(property, "LoadState") == 0 ? u->load
                      : strcmp(property, "ActiveState") == 0 ? u->active
                      : strcmp(property, "SubState") == 0 ? u->sub
                      : u->result;
        return sd_bus_message_append(reply, "s", v);
}

static int find_unit_object(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                            sd_bus_error *error) {
        char *name = NULL;
        Unit *u;
        int r;

        r = sd_bus_path_decode(path, "/org/freedesktop/systemd1/unit", &name);
        if (r <= 0)
                return r;
        u = find_unit(name);
        free(name);
        if (!u || (strcmp(interface, "org.freedesktop.systemd1.Service") == 0 && !is_service(u)))
                return 0;
        *found = u;
        return 1;
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("SystemState", "s", property_system_state, 0, 0),
        SD_BUS_METHOD("GetUnit", "s", "o", method_get_unit, 0),
        SD_BUS_METHOD("RestartUnit", "ss", "o", method_restart_unit, 0),
        SD_BUS_METHOD("ListUnitsFiltered", "as", "a(ssssssouso)", method_list_units_filtered, 0),
        SD_BUS_VTABLE_END,
};

static const sd_bus_vtable unit_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Id", "s", property_unit, 0, 0),
        SD_BUS_PROPERTY("LoadState", "s", property_unit, 0, 0),
        SD_BUS_PROPERTY("ActiveState", "s", property_unit, 0, 0),
        SD_BUS_PROPERTY("SubState", "s", property_unit, 0, 0),
        SD_BUS_VTABLE_END,
};

static const sd_bus_vtable service_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Result", "s", property_unit, 0, 0),
        SD_BUS_VTABLE_END,
};

static int run(void) {
        sd_event *event = NULL;
        sd_bus *bus = NULL;
        sigset_t mask;
        int r;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);

        r = sd_event_default(&event);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGTERM, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(event, NULL, SIGINT, NULL, NULL);
        if (r >= 0)
                r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_address(bus, arg_address);
        if (r >= 0)
                r = sd_bus_set_bus_client(bus, true);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r >= 0)
                r = sd_bus_add_filter(bus, NULL, on_message, NULL);
        if (r >= 0)
                r = sd_bus_add_object_vtable(bus, NULL, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                                             manager_vtable, NULL);
        if (r >= 0)
                r = sd_bus_add_fallback_vtable(bus, NULL, "/org/freedesktop/systemd1/unit",
                                               "org.freedesktop.systemd1.Unit", unit_vtable, find_unit_object, NULL);
        if (r >= 0)
                r = sd_bus_add_fallback_vtable(bus, NULL, "/org/freedesktop/systemd1/unit",
                                               "org.freedesktop.systemd1.Service", service_vtable, find_unit_object,
                                               NULL);
        if (r >= 0)
                r = sd_bus_request_name(bus, "org.freedesktop.systemd1", 0);
        if (r >= 0)
                r = sd_bus_attach_event(bus, event, 0);
        if (r < 0) {
                fprintf(stderr, "fake-systemd1: setting up on %s failed: %s\n", arg_address, strerror(-r));
                return 1;
        }
        load_state();
        log_line("READY");
        r = sd_event_loop(event);
        sd_bus_flush_close_unref(bus);
        sd_event_unref(event);
        return r < 0 ? 1 : 0;
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "address", required_argument, NULL, 'a' },
                { "state",   required_argument, NULL, 's' },
                { "log",     required_argument, NULL, 'l' },
                {}
        };
        int c;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'a': arg_address = optarg; break;
                case 's': arg_state = optarg; break;
                case 'l': arg_log = optarg; break;
                default: return 2;
                }
        if (!arg_address || !arg_state || !arg_log) {
                fprintf(stderr, "usage: fake-systemd1 --address ADDRESS --state FILE --log FILE\n");
                return 2;
        }
        log_file = fopen(arg_log, "ae");
        if (!log_file) {
                fprintf(stderr, "fake-systemd1: cannot open %s: %m\n", arg_log);
                return 1;
        }
        return run();
}
