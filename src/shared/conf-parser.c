/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdarg.h>

#include "conf-parser.h"

void config_errors_add(ConfigErrors *e, const char *file, unsigned line, const char *fmt, ...) {
        _cleanup_(freep) char *msg = NULL;
        char *s = NULL;
        va_list ap;
        int k;

        va_start(ap, fmt);
        k = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (k < 0)
                msg = NULL;

        if (line > 0)
                k = asprintf(&s, "%s:%u: %s", file, line, msg ?: "out of memory");
        else
                k = asprintf(&s, "%s: %s", file, msg ?: "out of memory");
        if (k < 0)
                s = NULL;
        /* On allocation failure the error is lost but the count stays non-zero through the
         * sentinel below, so nothing starts with a config that was not fully checked. */
        if (strv_consume(&e->lines, s ?: strdup("out of memory")) < 0 && !e->lines)
                abort();
}

void config_errors_clear(ConfigErrors *e) {
        e->lines = strv_free(e->lines);
}

#define FIELD(object, key) ((void *) ((char *) (object) + (key)->offset))

static int parse_string(const ConfigKey *key, const char *text, void *field, char **reason) {
        char **s = field;
        char *n = strdup(text);

        if (!n)
                return -ENOMEM;
        free(*s);
        *s = n;
        return 0;
}

static void format_string(FILE *f, const void *field) {
        const char *const *s = field;
        fputs(strempty(*s), f);
}

static void free_string(void *field) {
        char **s = field;
        *s = (free(*s), NULL);
}

const ConfigType config_type_string = { sizeof(char *), parse_string, format_string, free_string };

static int parse_path(const ConfigKey *key, const char *text, void *field, char **reason) {
        if (text[0] != '/') {
                *reason = strdup("must be an absolute path");
                return -EINVAL;
        }
        if (strstr(text, "/../") || (strlen(text) >= 3 && streq(text + strlen(text) - 3, "/.."))) {
                *reason = strdup("must not contain \"..\"");
                return -EINVAL;
        }
        return parse_string(key, text, field, reason);
}

const ConfigType config_type_path = { sizeof(char *), parse_path, format_string, free_string };

static int check_bounds(const ConfigKey *key, unsigned long long v, char **reason, bool duration) {
        char a[DURATION_MAX], b[DURATION_MAX];

        if (v >= key->min && (key->max == 0 || v <= key->max))
                return 0;
        if (duration) {
                format_duration(a, sizeof(a), key->min);
                if (key->max)
                        format_duration(b, sizeof(b), key->max);
        } else {
                snprintf(a, sizeof(a), "%llu", key->min);
                snprintf(b, sizeof(b), "%llu", key->max);
        }
        if (key->max == 0)
                return asprintf(reason, "must be at least %s", a) < 0 ? -ENOMEM : -ERANGE;
        return asprintf(reason, "must be between %s and %s", a, b) < 0 ? -ENOMEM : -ERANGE;
}

static int parse_duration_field(const ConfigKey *key, const char *text, void *field, char **reason) {
        usec_t v;
        int r = parse_duration(text, &v);

        if (r < 0) {
                *reason = strdup("is not a duration (use e.g. 500ms, 30s, 5min, 1h or plain seconds)");
                return r;
        }
        r = check_bounds(key, v, reason, true);
        if (r < 0)
                return r;
        *(usec_t *) field = v;
        return 0;
}

static void format_duration_field(FILE *f, const void *field) {
        char buf[DURATION_MAX];
        fputs(format_duration(buf, sizeof(buf), *(const usec_t *) field), f);
}

const ConfigType config_type_duration = { sizeof(usec_t), parse_duration_field, format_duration_field, NULL };

static int parse_bool_field(const ConfigKey *key, const char *text, void *field, char **reason) {
        int b = parse_boolean(text);

        if (b < 0) {
                *reason = strdup("is not a boolean (use yes or no)");
                return b;
        }
        *(bool *) field = b;
        return 0;
}

static void format_bool_field(FILE *f, const void *field) {
        fputs(*(const bool *) field ? "yes" : "no", f);
}

const ConfigType config_type_bool = { sizeof(bool), parse_bool_field, format_bool_field, NULL };

static int parse_unsigned_field(const ConfigKey *key, const char *text, void *field, char **reason) {
        unsigned v;
        int r = parse_uint(text, &v);

        if (r < 0) {
                *reason = strdup(r == -ERANGE ? "is too large" : "is not a non-negative integer");
                return r;
        }
        r = check_bounds(key, v, reason, false);
        if (r < 0)
                return r;
        *(unsigned *) field = v;
        return 0;
}

static void format_unsigned_field(FILE *f, const void *field) {
        fprintf(f, "%u", *(const unsigned *) field);
}

const ConfigType config_type_unsigned = { sizeof(unsigned), parse_unsigned_field, format_unsigned_field, NULL };

static int parse_enum_field(const ConfigKey *key, const char *text, void *field, char **reason) {
        _cleanup_(freep) char *list = NULL;
        size_t len = 0, cap = 0;

        for (int i = 0; key->choices[i]; i++)
                if (streq(key->choices[i], text)) {
                        *(int *) field = i;
                        return 0;
                }
        for (int i = 0; key->choices[i]; i++)
                if (buf_appendf(&list, &len, &cap, "%s%s", i > 0 ? ", " : "", key->choices[i]) < 0)
                        return -ENOMEM;
        if (asprintf(reason, "must be one of: %s", list) < 0)
                return -ENOMEM;
        return -EINVAL;
}

/* The enum's format needs its key: dumps go through config_keys_dump(), which handles it. */
const ConfigType config_type_enum = { sizeof(int), parse_enum_field, NULL, NULL };

static int parse_command(const ConfigKey *key, const char *text, void *field, char **reason) {
        char ***argv = field;
        char **l = NULL;
        int r = split_command(text, &l);

        if (r == -EINVAL) {
                *reason = strdup("has an unterminated quote or a trailing backslash");
                return r;
        }
        if (r < 0)
                return r;
        /* "" splits into one empty word: no program to run either. */
        if (!l[0] || !l[0][0]) {
                *reason = strdup(l[0] ? "has an empty program name" : "is an empty command");
                strv_free(l);
                return -EINVAL;
        }
        strv_free(*argv);
        *argv = l;
        return 0;
}

static void format_command(FILE *f, const void *field) {
        char *const *argv = *(char **const *) field;

        for (size_t i = 0; argv && argv[i]; i++) {
                _cleanup_(freep) char *q = quote_word(argv[i]);
                fprintf(f, "%s%s", i > 0 ? " " : "", q ?: "");
        }
}

static void free_command(void *field) {
        char ***argv = field;
        *argv = strv_free(*argv);
}

const ConfigType config_type_command = { sizeof(char **), parse_command, format_command, free_command };

static int parse_int_list(const ConfigKey *key, const char *text, void *field, char **reason) {
        _cleanup_(strv_freep) char **words = NULL;
        _cleanup_(freep) int *values = NULL;
        IntList *list = field;
        size_t n;
        int r;

        r = split_command(text, &words);
        if (r == -EINVAL) {
                *reason = strdup("has an unterminated quote or a trailing backslash");
                return r;
        }
        if (r < 0)
                return r;
        n = strv_length(words);
        values = calloc(n ?: 1, sizeof(int));
        if (!values)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                r = parse_int(words[i], &values[i]);
                if (r < 0 || check_bounds(key, (unsigned long long) values[i], reason, false) < 0) {
                        free(*reason);
                        if (asprintf(reason, "contains '%s', not a number between %llu and %llu", words[i],
                                     key->min, key->max) < 0)
                                *reason = NULL;
                        return -EINVAL;
                }
        }
        if (n == 0) {
                *reason = strdup("is an empty list");
                return -EINVAL;
        }
        free(list->values);
        list->values = TAKE_PTR(values);
        list->n = n;
        return 0;
}

static void format_int_list(FILE *f, const void *field) {
        const IntList *list = field;

        for (size_t i = 0; i < list->n; i++)
                fprintf(f, "%s%d", i > 0 ? " " : "", list->values[i]);
}

static void free_int_list(void *field) {
        IntList *list = field;
        list->values = (free(list->values), NULL);
        list->n = 0;
}

const ConfigType config_type_int_list = { sizeof(IntList), parse_int_list, format_int_list, free_int_list };

static int parse_user(const ConfigKey *key, const char *text, void *field, char **reason) {
        UserId *u = field;
        struct passwd *pw;
        char *name;

        errno = 0;
        pw = getpwnam(text);
        if (!pw) {
                if (asprintf(reason, "is not a known user%s%s", errno ? ": " : "", errno ? strerror(errno) : "") < 0)
                        *reason = NULL;
                return -ESRCH;
        }
        name = strdup(text);
        if (!name)
                return -ENOMEM;
        free(u->name);
        *u = (UserId) { .name = name, .uid = pw->pw_uid, .gid = pw->pw_gid };
        return 0;
}

static void format_user(FILE *f, const void *field) {
        fputs(strempty(((const UserId *) field)->name), f);
}

static void free_user(void *field) {
        UserId *u = field;
        u->name = (free(u->name), NULL);
}

const ConfigType config_type_user = { sizeof(UserId), parse_user, format_user, free_user };

/* Fixed-point numbers: "12.5" with digits = 3 is 12500. No sign, no exponent, no spaces. */
static int parse_fixed(const char *s, unsigned digits, uint64_t *ret) {
        uint64_t v = 0;
        unsigned frac = 0;
        const char *p = s;

        if (!isdigit((unsigned char) *p))
                return -EINVAL;
        for (; isdigit((unsigned char) *p); p++)
                if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t) (*p - '0'), &v))
                        return -ERANGE;
        if (*p == '.') {
                p++;
                if (!isdigit((unsigned char) *p))
                        return -EINVAL;
                for (; isdigit((unsigned char) *p); p++, frac++) {
                        if (frac >= digits)
                                return -EDOM; /* more decimal places than the type keeps */
                        if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t) (*p - '0'), &v))
                                return -ERANGE;
                }
        }
        if (*p != '\0')
                return -EINVAL;
        for (; frac < digits; frac++)
                if (__builtin_mul_overflow(v, 10, &v))
                        return -ERANGE;
        *ret = v;
        return 0;
}

#define FIXED_MAX 32

/* Writes v (in units of 10^-digits) with no trailing zeros: 12500 with digits = 3 is "12.5". */
static const char *format_fixed(char buf[static FIXED_MAX], uint64_t v, unsigned digits) {
        uint64_t scale = 1;
        int n;

        for (unsigned i = 0; i < digits; i++)
                scale *= 10;
        if (v % scale == 0) {
                snprintf(buf, FIXED_MAX, "%" PRIu64, v / scale);
                return buf;
        }
        n = snprintf(buf, FIXED_MAX, "%" PRIu64 ".%0*" PRIu64, v / scale, (int) digits, v % scale);
        while (n > 0 && buf[n - 1] == '0')
                buf[--n] = '\0';
        return buf;
}

static int parse_decimal_field(const ConfigKey *key, const char *text, void *field, char **reason) {
        char lo[FIXED_MAX], hi[FIXED_MAX];
        uint64_t v;
        int r = parse_fixed(text, 3, &v);

        if (r == -EDOM) {
                *reason = strdup("has more than 3 decimal places");
                return -EINVAL;
        }
        if (r < 0) {
                *reason = strdup(r == -ERANGE ? "is too large" : "is not a decimal number (e.g. 2, 2.5 or 0.75)");
                return r;
        }
        if (v >= key->min && (key->max == 0 || v <= key->max)) {
                *(uint64_t *) field = v;
                return 0;
        }
        /* The bounds are thousandths too: say them the way the user writes numbers. */
        format_fixed(lo, key->min, 3);
        format_fixed(hi, key->max, 3);
        if (key->max == 0)
                r = asprintf(reason, "must be at least %s", lo);
        else
                r = asprintf(reason, "must be between %s and %s", lo, hi);
        return r < 0 ? -ENOMEM : -ERANGE;
}

static void format_decimal_field(FILE *f, const void *field) {
        char buf[FIXED_MAX];
        fputs(format_fixed(buf, *(const uint64_t *) field, 3), f);
}

const ConfigType config_type_decimal = { sizeof(uint64_t), parse_decimal_field, format_decimal_field, NULL };

/* "10%" or "12.5%": hundredths of a percent, at most 100%. Returns -ENOENT when text is not a
 * percentage at all, so that the caller can try its other form. */
static int parse_percent(const char *text, uint64_t *ret, char **reason) {
        _cleanup_(freep) char *number = NULL;
        size_t l = strlen(text);
        uint64_t v;
        int r;

        if (l == 0 || text[l - 1] != '%')
                return -ENOENT;
        number = strndup(text, l - 1);
        if (!number)
                return -ENOMEM;
        r = parse_fixed(number, 2, &v);
        if (r == -EDOM) {
                *reason = strdup("has more than 2 decimal places in the percentage");
                return -EINVAL;
        }
        if (r == -ERANGE || (r >= 0 && v > 10000)) {
                *reason = strdup("is more than 100%");
                return -ERANGE;
        }
        if (r < 0) {
                *reason = strdup("is not a percentage (e.g. 10% or 2.5%)");
                return r;
        }
        *ret = v;
        return 0;
}

/* Binary multiples, as free(1), df(1) and the kernel count memory and disk space. */
static const struct {
        char suffix;
        uint64_t factor;
} size_units[] = {
        { 'T', UINT64_C(1) << 40 },
        { 'G', UINT64_C(1) << 30 },
        { 'M', UINT64_C(1) << 20 },
        { 'K', UINT64_C(1) << 10 },
};

static int parse_amount(const char *text, bool sizes, Amount *ret, char **reason) {
        _cleanup_(freep) char *number = NULL;
        uint64_t v, factor = 1;
        size_t l = strlen(text);
        int r;

        r = parse_percent(text, &v, reason);
        if (r >= 0) {
                *ret = (Amount) { .value = v, .percent = true, .set = true };
                return 0;
        }
        if (r != -ENOENT)
                return r;

        if (sizes && l > 0)
                for (size_t i = 0; i < ELEMENTSOF(size_units); i++)
                        if (text[l - 1] == size_units[i].suffix) {
                                factor = size_units[i].factor;
                                l--;
                                break;
                        }
        number = strndup(text, l);
        if (!number)
                return -ENOMEM;
        r = parse_fixed(number, 0, &v);
        if (r == -ERANGE || (r >= 0 && __builtin_mul_overflow(v, factor, &v))) {
                *reason = strdup("is too large");
                return -ERANGE;
        }
        if (r < 0) {
                *reason = strdup(sizes ? "is not a size or a percentage (e.g. 512K, 64M, 1G, plain bytes, or 10%)"
                                       : "is not a count or a percentage (e.g. 5000 or 10%)");
                return -EINVAL;
        }
        *ret = (Amount) { .value = v, .set = true };
        return 0;
}

static int parse_size_or_percent(const ConfigKey *key, const char *text, void *field, char **reason) {
        return parse_amount(text, true, field, reason);
}

static int parse_count_or_percent(const ConfigKey *key, const char *text, void *field, char **reason) {
        return parse_amount(text, false, field, reason);
}

static void format_amount(FILE *f, const Amount *a, bool sizes) {
        char buf[FIXED_MAX];

        if (!a->set)
                return;
        if (a->percent) {
                fprintf(f, "%s%%", format_fixed(buf, a->value, 2));
                return;
        }
        /* The largest unit that shows the value exactly, so a dump reads back the same. */
        if (sizes && a->value > 0)
                for (size_t i = 0; i < ELEMENTSOF(size_units); i++)
                        if (a->value % size_units[i].factor == 0) {
                                fprintf(f, "%" PRIu64 "%c", a->value / size_units[i].factor, size_units[i].suffix);
                                return;
                        }
        fprintf(f, "%" PRIu64, a->value);
}

static void format_size_or_percent(FILE *f, const void *field) {
        format_amount(f, field, true);
}

static void format_count_or_percent(FILE *f, const void *field) {
        format_amount(f, field, false);
}

const ConfigType config_type_size_or_percent = { sizeof(Amount), parse_size_or_percent, format_size_or_percent, NULL };
const ConfigType config_type_count_or_percent = { sizeof(Amount), parse_count_or_percent, format_count_or_percent, NULL };

int config_key_parse(const ConfigKey *key, void *object, const char *text, char **reason) {
        *reason = NULL;

        /* An empty value resets the key, so a drop-in can undo what an earlier file set. */
        if (text[0] == '\0') {
                if (key->type->free)
                        key->type->free(FIELD(object, key));
                memset(FIELD(object, key), 0, key->type->size);
                if (!key->default_value)
                        return 0;
                text = key->default_value;
        }
        return key->type->parse(key, text, FIELD(object, key), reason);
}

int config_keys_set_defaults(const ConfigKey *keys, void *object) {
        for (const ConfigKey *k = keys; k && k->name; k++) {
                _cleanup_(freep) char *reason = NULL;
                int r;

                if (!k->default_value)
                        continue;
                r = k->type->parse(k, k->default_value, FIELD(object, k), &reason);
                if (r < 0)
                        return r;
        }
        return 0;
}

void config_keys_dump(const ConfigKey *keys, const void *object, FILE *f) {
        for (const ConfigKey *k = keys; k && k->name; k++) {
                const void *field = FIELD(object, k);

                fprintf(f, "%s = ", k->name);
                if (k->type == &config_type_enum)
                        fputs(k->choices[*(const int *) field], f);
                else
                        k->type->format(f, field);
                fputc('\n', f);
        }
}

void config_keys_free(const ConfigKey *keys, void *object) {
        if (!object)
                return;
        for (const ConfigKey *k = keys; k && k->name; k++)
                if (k->type->free)
                        k->type->free(FIELD(object, k));
}
