/* SPDX-License-Identifier: MIT */
#pragma once

#include <sys/types.h>

#include "util.h"

/* Every problem found in a set of config files, each formatted "FILE:LINE: message". */
typedef struct ConfigErrors {
        char **lines;
} ConfigErrors;

void config_errors_add(ConfigErrors *e, const char *file, unsigned line, const char *fmt, ...) _printf_(4, 5);
void config_errors_clear(ConfigErrors *e);
static inline size_t config_errors_count(const ConfigErrors *e) {
        return strv_length(e->lines);
}

typedef struct ConfigKey ConfigKey;

/* How one kind of value is parsed, printed and released. parse() gets the key (for its
 * bounds), the text and the field to fill; on failure it returns -errno and may set *reason to
 * a short explanation (allocated). format() writes the value as config text (empty for unset). */
typedef struct ConfigType {
        size_t size; /* of the field */
        int (*parse)(const ConfigKey *key, const char *text, void *field, char **reason);
        void (*format)(FILE *f, const void *field);
        void (*free)(void *field);
} ConfigType;

struct ConfigKey {
        const char *name;
        const ConfigType *type;
        size_t offset;
        const char *default_value; /* config text, parsed like any value; NULL = unset */
        unsigned long long min, max; /* for numbers and durations; max 0 = unbounded */
        const char *const *choices;  /* for enums: NULL-terminated, stored as the index */
        bool required;
};

extern const ConfigType config_type_string;
extern const ConfigType config_type_path;       /* absolute, normalised */
extern const ConfigType config_type_duration;   /* usec_t */
extern const ConfigType config_type_bool;       /* bool */
extern const ConfigType config_type_unsigned;   /* unsigned */
extern const ConfigType config_type_enum;       /* int index into key->choices */
extern const ConfigType config_type_command;    /* char ** argv, split without a shell */
extern const ConfigType config_type_int_list;   /* IntList */
extern const ConfigType config_type_user;       /* UserId, resolved with getpwnam() */
extern const ConfigType config_type_decimal;    /* uint64_t thousandths: "2.5" is 2500; min/max in thousandths */
extern const ConfigType config_type_size_or_percent;  /* Amount: "512K", "64M", "1G", plain bytes, or "10%" */
extern const ConfigType config_type_count_or_percent; /* Amount: "5000" or "10%" */

typedef struct IntList {
        int *values;
        size_t n;
} IntList;

/* A threshold that is either absolute or a share of some whole (memory, a filesystem). */
typedef struct Amount {
        uint64_t value; /* bytes or a count; with percent, hundredths of a percent (1250 = 12.5%) */
        bool percent;
        bool set;       /* false: the key was not given */
} Amount;

typedef struct UserId {
        char *name; /* NULL = do not change user */
        uid_t uid;
        gid_t gid;
} UserId;

static inline const ConfigKey *config_key_find(const ConfigKey *keys, const char *name) {
        for (; keys && keys->name; keys++)
                if (streq(keys->name, name))
                        return keys;
        return NULL;
}

/* Parses text into the key's field of object. An empty text resets the field to its default.
 * Returns 0, or -errno with *reason (allocated, may be NULL) explaining what is wrong. */
int config_key_parse(const ConfigKey *key, void *object, const char *text, char **reason);
/* Sets every key of the table to its default; returns -errno only for a broken table. */
int config_keys_set_defaults(const ConfigKey *keys, void *object);
/* Writes "name = value" lines for every key in the table. */
void config_keys_dump(const ConfigKey *keys, const void *object, FILE *f);
/* Releases what the fields of object own (the object itself stays). Accepts NULL. */
void config_keys_free(const ConfigKey *keys, void *object);
