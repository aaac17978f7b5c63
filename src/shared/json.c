/* SPDX-License-Identifier: MIT */
#include <stdarg.h>

#include "json.h"

typedef struct JsonParser {
        const char *p;
        unsigned depth;
} JsonParser;

JsonValue *json_free(JsonValue *v) {
        if (!v)
                return NULL;
        for (size_t i = 0; i < v->n_items; i++)
                json_free(v->items[i]);
        free(v->items);
        free(v->text);
        free(v->key);
        free(v);
        return NULL;
}

static void skip_blanks(JsonParser *j) {
        j->p += strspn(j->p, " \t\r\n");
}

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

static int hex4(const char *s, unsigned *ret) {
        unsigned v = 0;

        for (int i = 0; i < 4; i++) {
                char c = s[i];
                v <<= 4;
                if (is_digit(c))
                        v |= (unsigned) (c - '0');
                else if (c >= 'a' && c <= 'f')
                        v |= (unsigned) (c - 'a' + 10);
                else if (c >= 'A' && c <= 'F')
                        v |= (unsigned) (c - 'A' + 10);
                else
                        return -EBADMSG;
        }
        *ret = v;
        return 0;
}

static int append_utf8(char **buf, size_t *len, size_t *cap, unsigned cp) {
        if (cp < 0x80)
                return buf_appendf(buf, len, cap, "%c", (char) cp);
        if (cp < 0x800)
                return buf_appendf(buf, len, cap, "%c%c", (char) (0xc0 | (cp >> 6)), (char) (0x80 | (cp & 0x3f)));
        if (cp < 0x10000)
                return buf_appendf(buf, len, cap, "%c%c%c", (char) (0xe0 | (cp >> 12)),
                                   (char) (0x80 | ((cp >> 6) & 0x3f)), (char) (0x80 | (cp & 0x3f)));
        return buf_appendf(buf, len, cap, "%c%c%c%c", (char) (0xf0 | (cp >> 18)), (char) (0x80 | ((cp >> 12) & 0x3f)),
                           (char) (0x80 | ((cp >> 6) & 0x3f)), (char) (0x80 | (cp & 0x3f)));
}

/* A \uXXXX escape (j->p after the 'u'), a surrogate pair taken together. */
static int parse_unicode_escape(JsonParser *j, unsigned *ret) {
        unsigned cp, low;

        if (hex4(j->p, &cp) < 0)
                return -EBADMSG;
        j->p += 4;
        if (cp >= 0xdc00 && cp <= 0xdfff)
                return -EBADMSG;
        if (cp >= 0xd800 && cp <= 0xdbff) {
                if (j->p[0] != '\\' || j->p[1] != 'u' || hex4(j->p + 2, &low) < 0 || low < 0xdc00 || low > 0xdfff)
                        return -EBADMSG;
                j->p += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
        }
        if (cp == 0)
                return -EBADMSG; /* the result is a C string */
        *ret = cp;
        return 0;
}

static int parse_string(JsonParser *j, char **ret) {
        _cleanup_(freep) char *s = NULL;
        size_t len = 0, cap = 0;
        int r = buf_appendf(&s, &len, &cap, "%s", "");

        if (r < 0)
                return r;
        j->p++; /* the opening quote */
        for (;;) {
                size_t plain = strcspn(j->p, "\"\\");
                unsigned cp;

                for (size_t i = 0; i < plain; i++)
                        if ((unsigned char) j->p[i] < 0x20)
                                return -EBADMSG;
                r = buf_appendf(&s, &len, &cap, "%.*s", (int) plain, j->p);
                if (r < 0)
                        return r;
                j->p += plain;
                if (*j->p == '"')
                        break;
                if (*j->p != '\\')
                        return -EBADMSG; /* the end of the text */

                j->p++;
                switch (*j->p++) {
                case '"':  r = buf_appendf(&s, &len, &cap, "\""); break;
                case '\\': r = buf_appendf(&s, &len, &cap, "\\"); break;
                case '/':  r = buf_appendf(&s, &len, &cap, "/"); break;
                case 'b':  r = buf_appendf(&s, &len, &cap, "\b"); break;
                case 'f':  r = buf_appendf(&s, &len, &cap, "\f"); break;
                case 'n':  r = buf_appendf(&s, &len, &cap, "\n"); break;
                case 'r':  r = buf_appendf(&s, &len, &cap, "\r"); break;
                case 't':  r = buf_appendf(&s, &len, &cap, "\t"); break;
                case 'u':
                        r = parse_unicode_escape(j, &cp);
                        if (r >= 0)
                                r = append_utf8(&s, &len, &cap, cp);
                        break;
                default:
                        return -EBADMSG;
                }
                if (r < 0)
                        return r;
        }
        j->p++;
        *ret = TAKE_PTR(s);
        return 0;
}

static int parse_number(JsonParser *j, char **ret) {
        const char *start = j->p;

        if (*j->p == '-')
                j->p++;
        if (*j->p == '0')
                j->p++;
        else if (is_digit(*j->p))
                j->p += strspn(j->p, "0123456789");
        else
                return -EBADMSG;
        if (*j->p == '.') {
                j->p++;
                if (!is_digit(*j->p))
                        return -EBADMSG;
                j->p += strspn(j->p, "0123456789");
        }
        if (*j->p == 'e' || *j->p == 'E') {
                j->p++;
                if (*j->p == '+' || *j->p == '-')
                        j->p++;
                if (!is_digit(*j->p))
                        return -EBADMSG;
                j->p += strspn(j->p, "0123456789");
        }
        *ret = strndup(start, (size_t) (j->p - start));
        return *ret ? 0 : -ENOMEM;
}

static int add_item(JsonValue *parent, JsonValue *item) {
        JsonValue **items = reallocarray(parent->items, parent->n_items + 1, sizeof(JsonValue *));

        if (!items)
                return -ENOMEM;
        parent->items = items;
        parent->items[parent->n_items++] = item;
        return 0;
}

static int parse_value(JsonParser *j, JsonValue **ret);

/* An array or an object, j->p at its opening bracket. */
static int parse_container(JsonParser *j, JsonValue *v) {
        char close = v->type == JSON_ARRAY ? ']' : '}';
        int r;

        if (++j->depth > JSON_DEPTH_MAX)
                return -EBADMSG;
        j->p++;
        skip_blanks(j);
        if (*j->p == close) {
                j->p++;
                j->depth--;
                return 0;
        }
        for (;;) {
                _cleanup_(json_freep) JsonValue *item = NULL;
                _cleanup_(freep) char *key = NULL;

                if (v->type == JSON_OBJECT) {
                        if (*j->p != '"')
                                return -EBADMSG;
                        r = parse_string(j, &key);
                        if (r < 0)
                                return r;
                        skip_blanks(j);
                        if (*j->p++ != ':')
                                return -EBADMSG;
                }
                r = parse_value(j, &item);
                if (r < 0)
                        return r;
                item->key = TAKE_PTR(key);
                r = add_item(v, item);
                if (r < 0)
                        return r;
                TAKE_PTR(item);

                skip_blanks(j);
                if (*j->p == close)
                        break;
                if (*j->p++ != ',')
                        return -EBADMSG;
                skip_blanks(j);
        }
        j->p++;
        j->depth--;
        return 0;
}

static int parse_value(JsonParser *j, JsonValue **ret) {
        _cleanup_(json_freep) JsonValue *v = calloc(1, sizeof(JsonValue));
        const char *rest;
        int r = 0;

        if (!v)
                return -ENOMEM;
        skip_blanks(j);
        if (*j->p == '{' || *j->p == '[') {
                v->type = *j->p == '{' ? JSON_OBJECT : JSON_ARRAY;
                r = parse_container(j, v);
        } else if (*j->p == '"') {
                v->type = JSON_STRING;
                r = parse_string(j, &v->text);
        } else if (*j->p == '-' || is_digit(*j->p)) {
                v->type = JSON_NUMBER;
                r = parse_number(j, &v->text);
        } else if ((rest = startswith(j->p, "true")) || (rest = startswith(j->p, "false"))) {
                v->type = JSON_BOOLEAN;
                v->boolean = *j->p == 't';
                j->p = rest;
        } else if ((rest = startswith(j->p, "null")))
                j->p = rest;
        else
                r = -EBADMSG;
        if (r < 0)
                return r;
        *ret = TAKE_PTR(v);
        return 0;
}

int json_parse(const char *text, JsonValue **ret) {
        _cleanup_(json_freep) JsonValue *v = NULL;
        JsonParser j = { .p = text };
        int r;

        r = parse_value(&j, &v);
        if (r < 0)
                return r;
        skip_blanks(&j);
        if (*j.p)
                return -EBADMSG;
        *ret = TAKE_PTR(v);
        return 0;
}

const JsonValue *json_get(const JsonValue *v, ...) {
        const char *key;
        va_list ap;

        va_start(ap, v);
        while (v && (key = va_arg(ap, const char *))) {
                const JsonValue *found = NULL;

                if (v->type == JSON_OBJECT)
                        for (size_t i = 0; i < v->n_items && !found; i++)
                                if (streq(v->items[i]->key, key))
                                        found = v->items[i];
                v = found;
        }
        va_end(ap);
        return v;
}

const char *json_string(const JsonValue *v) {
        return v && v->type == JSON_STRING ? v->text : NULL;
}

bool json_true(const JsonValue *v) {
        return v && v->type == JSON_BOOLEAN && v->boolean;
}

int json_uint(const JsonValue *v, uint64_t *ret) {
        unsigned long long u;
        char *end;

        if (!v || v->type != JSON_NUMBER || !is_digit(v->text[0]))
                return -EINVAL;
        errno = 0;
        u = strtoull(v->text, &end, 10);
        if (errno || *end)
                return -EINVAL;
        *ret = u;
        return 0;
}

static int format_value(const JsonValue *v, bool pretty, unsigned level, char **buf, size_t *len, size_t *cap) {
        bool object = v->type == JSON_OBJECT;
        int r;

        switch (v->type) {
        case JSON_NULL:
                return buf_appendf(buf, len, cap, "null");
        case JSON_BOOLEAN:
                return buf_appendf(buf, len, cap, "%s", v->boolean ? "true" : "false");
        case JSON_NUMBER:
                return buf_appendf(buf, len, cap, "%s", v->text);
        case JSON_STRING:
                return json_append_string(buf, len, cap, v->text);
        case JSON_ARRAY:
        case JSON_OBJECT:
                break;
        }

        r = buf_appendf(buf, len, cap, "%c", object ? '{' : '[');
        for (size_t i = 0; r >= 0 && i < v->n_items; i++) {
                r = buf_appendf(buf, len, cap, "%s", i > 0 ? "," : "");
                if (r >= 0 && pretty)
                        r = buf_appendf(buf, len, cap, "\n%*s", (int) (level + 1) * 2, "");
                if (r >= 0 && object) {
                        r = json_append_string(buf, len, cap, v->items[i]->key);
                        if (r >= 0)
                                r = buf_appendf(buf, len, cap, ":%s", pretty ? " " : "");
                }
                if (r >= 0)
                        r = format_value(v->items[i], pretty, level + 1, buf, len, cap);
        }
        if (r >= 0 && pretty && v->n_items > 0)
                r = buf_appendf(buf, len, cap, "\n%*s", (int) level * 2, "");
        return r < 0 ? r : buf_appendf(buf, len, cap, "%c", object ? '}' : ']');
}

int json_format(const JsonValue *v, bool pretty, char **ret) {
        _cleanup_(freep) char *buf = NULL;
        size_t len = 0, cap = 0;
        int r;

        r = format_value(v, pretty, 0, &buf, &len, &cap);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(buf);
        return 0;
}

int json_object_add(JsonValue *object, const char *key, JsonValue *value) {
        char *k;
        int r;

        if (!object || object->type != JSON_OBJECT || !value || value->key)
                return -EINVAL;
        k = strdup(key);
        if (!k)
                return -ENOMEM;
        value->key = k;
        r = add_item(object, value);
        if (r < 0) {
                value->key = NULL;
                free(k);
        }
        return r;
}
