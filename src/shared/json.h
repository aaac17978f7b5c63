/* SPDX-License-Identifier: MIT */
#pragma once

#include "util.h"

/* Reading JSON, for the command line: the control socket's replies and the status document.
 * Writing stays with json_append_string()/buf_appendf() where the document is made. */

typedef enum JsonType {
        JSON_NULL,
        JSON_BOOLEAN,
        JSON_NUMBER,
        JSON_STRING,
        JSON_ARRAY,
        JSON_OBJECT,
} JsonType;

typedef struct JsonValue JsonValue;
struct JsonValue {
        JsonType type;
        bool boolean;
        char *text;             /* STRING: decoded (UTF-8); NUMBER: the literal as written */
        char *key;              /* the member's name when the value is in an object */
        JsonValue **items;      /* ARRAY: the elements; OBJECT: the members, in document order */
        size_t n_items;
};

/* Nesting deeper than this is refused: the status document needs four levels. */
#define JSON_DEPTH_MAX 32

/* Parses one JSON value; only whitespace may follow it. Returns 0 with a new tree (free it with
 * json_free()), -EBADMSG when text is not valid JSON (or nests deeper than JSON_DEPTH_MAX, or a
 * string holds a NUL), -ENOMEM. */
int json_parse(const char *text, JsonValue **ret);
/* Accepts NULL; returns NULL. */
JsonValue *json_free(JsonValue *v);
static inline void json_freep(JsonValue **v) {
        json_free(*v);
}

/* Follows the member names (NULL-terminated) from v. Returns the value, or NULL when a step is
 * missing or not an object. Never allocates. */
const JsonValue *json_get(const JsonValue *v, ...) _sentinel_;

/* The string of a STRING value; NULL for anything else (NULL included). */
const char *json_string(const JsonValue *v);
/* True only for the literal true. */
bool json_true(const JsonValue *v);
/* An unsigned integer NUMBER. Returns 0, -EINVAL for anything else (null, a fraction, a sign). */
int json_uint(const JsonValue *v, uint64_t *ret);

/* Adds value as the member key (copied) at the end of object, for the command line's additions
 * to a document it received. Returns 0, the value then owned by object, or -EINVAL (not an
 * object, or a value already a member elsewhere), -ENOMEM, value then still the caller's. */
int json_object_add(JsonValue *object, const char *key, JsonValue *value);

/* Writes v back as JSON text: one line, or indented by 2 with pretty. Returns 0 with a new
 * string (with no final newline), or -ENOMEM. */
int json_format(const JsonValue *v, bool pretty, char **ret);
