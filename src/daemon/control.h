/* SPDX-License-Identifier: MIT */
#pragma once

#include <systemd/sd-event.h>

#include "json.h"

typedef struct Control Control;

/* The control socket: RUNTIME_DIR/control, a unix stream socket only root (or the daemon's own
 * user) may use. One request line per connection, one JSON reply line, then the daemon closes:
 *
 *   status        {"ok":true,"status":{...}}   the status document (status.h)
 *   mark-good     {"ok":true}                  confirms the trial
 *   hold USEC     {"ok":true,"until_usec":N}   a maintenance hold; N is realtime
 *   hold-cancel   {"ok":true}                  ends it
 *   reload        {"ok":true}                  the configuration loaded again
 *
 * A refusal or failure is {"ok":false,"error":"MESSAGE"}, MESSAGE meant for a person. */
#define CONTROL_SOCKET_NAME "control"
/* The longest request line, newline included. */
#define CONTROL_REQUEST_MAX 256
/* A client must have sent its request and read the reply within this time. */
#define CONTROL_CONNECTION_TIMEOUT_USEC (1 * USEC_PER_SEC)
/* Connections served at once; more are answered "busy" and closed. */
#define CONTROL_CONNECTIONS_MAX 4
/* How long control_call() waits for the daemon: mark-good writes the boot environment, which may
 * wait BOOTENV_LOCK_TIMEOUT_USEC for its lock. */
#define CONTROL_CALL_TIMEOUT_USEC (10 * USEC_PER_SEC)
/* The longest reply control_call() takes. */
#define CONTROL_REPLY_MAX (1024 * 1024)

/* Returns 0 with RUNTIME_DIR/control (allocated) in *ret, or -ENOMEM. */
int control_socket_path(const char *runtime_directory, char **ret);

/* What the requests do, provided by the daemon. Each returns 0 or -errno; a refusal may come with
 * a message for a person in *ret_error (allocated), else the reply names the errno. */
typedef struct ControlOps {
        int (*status)(void *userdata, char **ret_json);
        int (*mark_good)(void *userdata, char **ret_error);
        /* *ret_until: when the hold ends, CLOCK_REALTIME. */
        int (*hold)(void *userdata, usec_t duration, usec_t *ret_until, char **ret_error);
        int (*hold_cancel)(void *userdata, char **ret_error);
        int (*reload)(void *userdata, char **ret_error);
} ControlOps;

/* Creates runtime_directory (0755) and listens on its control socket (0600), replacing a stale
 * socket of an earlier run, with the connections served from event and the requests handed to
 * ops with userdata. Returns 0 with a new Control, or -errno. */
int control_new(Control **ret, sd_event *event, const char *runtime_directory, const ControlOps *ops,
                void *userdata);
/* Closes every connection and the socket, and removes the socket file when it is still this
 * one's. Accepts NULL; returns NULL. */
Control *control_free(Control *c);

/* The client: sends request (one line, no newline) to the daemon at socket_path and waits at
 * most CONTROL_CALL_TIMEOUT_USEC for the reply. Returns 0 with the reply line (allocated, no
 * newline) in *reply, or -errno: -ENOENT or -ECONNREFUSED when no daemon listens, -EACCES when
 * this user may not connect, -ETIMEDOUT, -EPROTO when the daemon closed without a complete
 * reply, -E2BIG when the reply is longer than CONTROL_REPLY_MAX. */
int control_call(const char *socket_path, const char *request, char **reply);

/* control_call() and the reply parsed: returns 0 with the reply object in *ret (its "ok" member
 * is true or false: check json_true(json_get(*ret, "ok", NULL))), -EBADMSG when the reply is not
 * such an object, or the errors of control_call(). */
int control_request(const char *socket_path, const char *request, JsonValue **ret);
