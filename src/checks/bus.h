/* SPDX-License-Identifier: MIT */
#pragma once

#include <systemd/sd-bus.h>

#include "check.h"

/* Talking to systemd over D-Bus for the systemd-* check kinds: the only file besides them that
 * knows sd-bus, and the rules that turn what systemd reports into a verdict. Everything here is
 * asynchronous: nothing waits for systemd. */

#define BUS_SYSTEMD_SERVICE "org.freedesktop.systemd1"
#define BUS_SYSTEMD_PATH "/org/freedesktop/systemd1"
#define BUS_SYSTEMD_MANAGER "org.freedesktop.systemd1.Manager"
#define BUS_SYSTEMD_UNIT "org.freedesktop.systemd1.Unit"
#define BUS_ERROR_NO_SUCH_UNIT "org.freedesktop.systemd1.NoSuchUnit"

/* The longest unit name systemd accepts. */
#define BUS_UNIT_NAME_MAX 255

/* Returns in *ret the connection of ctx (borrowed: the context owns it and frees it with
 * check_context_done()), opening it on first use: ctx->bus_address, or the system bus when that
 * is NULL or empty. A connection that broke (dbus-daemon restarted) is dropped here and opened
 * anew. The connection is attached to ctx->event. Returns 0 or -errno (the address is
 * unusable, the socket is missing). */
int bus_get(CheckContext *ctx, sd_bus **ret);

/* Where the connection of ctx goes, for messages: the address, or "the system bus". */
const char *bus_describe(const CheckContext *ctx);

/* Starts an asynchronous call of interface.method on systemd's object path with the arguments
 * described by types. callback gets the reply, or an error reply when the call failed or got no
 * answer within timeout; it must return 0. Unreferencing *ret_slot (the caller's) abandons the
 * call. Returns 0 or -errno. */
int bus_call(sd_bus *bus, sd_bus_slot **ret_slot, usec_t timeout, sd_bus_message_handler_t callback, void *userdata,
             const char *path, const char *interface, const char *method, const char *types, ...);

/* The timeout for the next call of the running probe of c: what is left of the check's timeout,
 * so that no call outlives the run that made it. */
usec_t bus_call_timeout(const Check *c);

/* What the probes of the systemd kinds begin with: their check and their call in flight. */
typedef struct BusProbe {
        Check *check;
        sd_bus_slot *slot;
} BusProbe;

/* Starts a probe for c: allocates size zeroed bytes (a struct that begins with a BusProbe) as
 * c->probe and makes its first call, as bus_call() does, with the probe as callback's userdata
 * and the rest of the check's timeout. A bus that cannot be reached is the run's verdict,
 * reported at once. Returns 0 or -errno. */
int bus_probe_start(Check *c, size_t size, sd_bus_message_handler_t callback, const char *path,
                    const char *interface, const char *method, const char *types, ...);
/* Releases a probe that is a plain BusProbe (a kind's probe_free): a late reply is dropped. */
void bus_probe_free(void *probe);

/* Reads string properties out of a Properties.GetAll reply (a{sv}): for each of names
 * (NULL-terminated), values[i] is set to the property's value, borrowed from reply, or left alone
 * when the reply lacks it or it is not a string. Returns 0 or -errno for a malformed reply. */
int bus_read_string_properties(sd_bus_message *reply, const char *const *names, const char **values);

/* A short human text for a failed call: the error's message, else its name. */
const char *bus_error_text(const sd_bus_error *e);

/* ---- What systemd's states mean: pure functions, tested without a bus. */

/* systemd's ActiveState values; a set of them is a mask of 1u << state. */
typedef enum BusActiveState {
        BUS_ACTIVE,
        BUS_RELOADING,
        BUS_INACTIVE,
        BUS_FAILED,
        BUS_ACTIVATING,
        BUS_DEACTIVATING,
        BUS_MAINTENANCE,
        BUS_REFRESHING,
        _BUS_ACTIVE_STATE_MAX,
} BusActiveState;

/* The names, indexed by BusActiveState, NULL-terminated. */
extern const char *const bus_active_states[];

/* Returns the BusActiveState named s, or -EINVAL. */
int bus_active_state_from_string(const char *s);

/* Checks that name is a unit systemd can load by name: "NAME.TYPE" or "NAME@INSTANCE.TYPE" with
 * a known type, at most BUS_UNIT_NAME_MAX characters of letters, digits and ":-_.\@".
 * Returns 0, or -EINVAL with *reason (static text) saying what is wrong. */
int bus_unit_name_verify(const char *name, const char **reason);

/* The D-Bus interface that carries the Result property for units of name's type
 * ("org.freedesktop.systemd1.Service" for "a.service"), or NULL for types without one
 * (target, device, slice). */
const char *bus_unit_result_interface(const char *name);

/* What systemd said about a unit; strings are borrowed, NULL when not read. */
typedef struct BusUnitStatus {
        const char *load_state;
        const char *active_state;
        const char *sub_state;
        const char *result;
} BusUnitStatus;

/* True when the verdict on the unit needs its Result: want_result is set, or the unit is not in
 * an accepted state and its Result explains why (Result=exit-code). */
bool bus_unit_wants_result(const char *unit, const BusUnitStatus *st, unsigned accepted, const char *want_result);

/* The verdict on a unit: passes when its ActiveState is in accepted (a mask of BusActiveState)
 * and, with want_result, its Result equals want_result; a unit systemd could not find
 * (LoadState=not-found) never passes. Writes a one-line detail such as
 * "myapp.service failed (failed), Result=exit-code" to detail (of size). Returns true for pass. */
bool bus_unit_verdict(const char *unit, const BusUnitStatus *st, unsigned accepted, const char *want_result,
                      char *detail, size_t size);

/* The verdict on the manager's SystemState: "running" passes; "degraded" fails unless every
 * failed unit matches a pattern of ignore (fnmatch globs; NULL = none); the detail names the
 * failed units (failed, NULL when not listed), as many as fit in size. Returns true for pass. */
bool bus_system_verdict(const char *state, char *const *failed, char *const *ignore, char *detail, size_t size);
