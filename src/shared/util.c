/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <sys/stat.h>

#include "util.h"

usec_t now(clockid_t clock) {
        struct timespec ts;

        if (clock_gettime(clock, &ts) < 0)
                abort(); /* only with a bad clock id: a programming error */
        return (usec_t) ts.tv_sec * USEC_PER_SEC + (usec_t) ts.tv_nsec / NSEC_PER_USEC;
}

char **strv_free(char **l) {
        if (!l)
                return NULL;
        for (char **i = l; *i; i++)
                free(*i);
        free(l);
        return NULL;
}

size_t strv_length(char *const *l) {
        size_t n = 0;

        if (l)
                while (l[n])
                        n++;
        return n;
}

int strv_consume(char ***l, char *s) {
        size_t n = strv_length(*l);
        char **t;

        if (!s)
                return -ENOMEM;
        t = realloc(*l, sizeof(char *) * (n + 2));
        if (!t) {
                free(s);
                return -ENOMEM;
        }
        t[n] = s;
        t[n + 1] = NULL;
        *l = t;
        return 0;
}

int strv_extend(char ***l, const char *s) {
        return strv_consume(l, strdup(s));
}

char **strv_copy(char *const *l) {
        _cleanup_(strv_freep) char **c = calloc(1, sizeof(char *));

        if (!c)
                return NULL;
        for (char *const *i = l; i && *i; i++)
                if (strv_extend(&c, *i) < 0)
                        return NULL;
        return TAKE_PTR(c);
}

bool strv_contains(char *const *l, const char *s) {
        for (char *const *i = l; i && *i; i++)
                if (streq(*i, s))
                        return true;
        return false;
}

static const struct {
        const char *suffix;
        usec_t usec;
} duration_units[] = {
        /* Longest suffixes first where one is a prefix of another ("ms" before "m"). */
        { "h",    USEC_PER_HOUR },
        { "min",  USEC_PER_MINUTE },
        { "ms",   USEC_PER_MSEC },
        { "m",    USEC_PER_MINUTE },
        { "s",    USEC_PER_SEC },
        { "us",   1 },
};

int parse_duration(const char *s, usec_t *ret) {
        usec_t total = 0;
        bool any = false;

        for (const char *p = s;;) {
                unsigned long long whole = 0, frac = 0, frac_div = 1;
                bool digits = false;
                usec_t unit, part;
                size_t i;

                p += strspn(p, " \t");
                if (*p == '\0')
                        break;

                for (; isdigit((unsigned char) *p); p++, digits = true) {
                        if (whole > (ULLONG_MAX - 9) / 10)
                                return -ERANGE;
                        whole = whole * 10 + (unsigned) (*p - '0');
                }
                if (*p == '.') {
                        for (p++; isdigit((unsigned char) *p); p++, digits = true)
                                if (frac_div < 1000000000ULL) {
                                        frac = frac * 10 + (unsigned) (*p - '0');
                                        frac_div *= 10;
                                }
                }
                if (!digits)
                        return -EINVAL;

                p += strspn(p, " \t");
                unit = 0;
                for (i = 0; i < ELEMENTSOF(duration_units); i++) {
                        const char *e = startswith(p, duration_units[i].suffix);
                        if (e && !isalpha((unsigned char) *e)) {
                                unit = duration_units[i].usec;
                                p = e;
                                break;
                        }
                }
                /* A part ends at a blank, at the end, or where the next number starts ("1h30min"):
                 * "1.2.3", "1s.5" and "5 parsecs" are not durations. */
                if (*p && *p != ' ' && *p != '\t' && !isdigit((unsigned char) *p))
                        return -EINVAL;
                /* Plain seconds only when the number stands alone: in "30s5" or "10 20" a unit
                 * was forgotten, and guessing one would hide the mistake. */
                if (unit == 0) {
                        if (any || *p)
                                return -EINVAL;
                        unit = USEC_PER_SEC;
                }

                part = (usec_t) (frac * unit / frac_div);
                if (whole > (UINT64_MAX - part) / unit)
                        return -ERANGE;
                part += (usec_t) whole * unit;
                if (total > UINT64_MAX - part)
                        return -ERANGE;
                total += part;
                any = true;
        }

        if (!any)
                return -EINVAL;
        *ret = total;
        return 0;
}

char *format_uint64(char *p, uint64_t v, unsigned width) {
        char digits[20];
        size_t n = 0;

        do
                digits[n++] = (char) ('0' + v % 10);
        while ((v /= 10) > 0);
        for (; width > n; width--)
                *p++ = '0';
        while (n > 0)
                *p++ = digits[--n];
        return p;
}

char *format_duration(char *buf, size_t size, usec_t u) {
        static const struct {
                const char *suffix;
                usec_t usec;
        } units[] = {
                { "h", USEC_PER_HOUR }, { "min", USEC_PER_MINUTE }, { "s", USEC_PER_SEC },
                { "ms", USEC_PER_MSEC }, { "us", 1 },
        };
        /* Whole, then cut to size: the longest, UINT64_MAX, is 33 characters. */
        char text[DURATION_MAX], *p = text;
        size_t n;

        if (size == 0)
                return buf;
        if (u == 0)
                *p++ = '0';
        for (size_t i = 0; i < ELEMENTSOF(units) && u > 0; i++) {
                usec_t k = u / units[i].usec;
                if (k == 0)
                        continue;
                if (p > text)
                        *p++ = ' ';
                p = format_uint64(p, k, 0);
                p = stpcpy(p, units[i].suffix);
                u -= k * units[i].usec;
        }
        n = (size_t) (p - text) < size - 1 ? (size_t) (p - text) : size - 1;
        memcpy(buf, text, n);
        buf[n] = '\0';
        return buf;
}

int parse_uint(const char *s, unsigned *ret) {
        unsigned long v;
        char *end;

        if (!isdigit((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (*end != '\0')
                return -EINVAL;
        if (errno == ERANGE || v > UINT_MAX)
                return -ERANGE;
        *ret = (unsigned) v;
        return 0;
}

int parse_int(const char *s, int *ret) {
        long v;
        char *end;

        if (!isdigit((unsigned char) s[0]) && !(s[0] == '-' && isdigit((unsigned char) s[1])))
                return -EINVAL;
        errno = 0;
        v = strtol(s, &end, 10);
        if (*end != '\0')
                return -EINVAL;
        if (errno == ERANGE || v > INT_MAX || v < INT_MIN)
                return -ERANGE;
        *ret = (int) v;
        return 0;
}

int parse_boolean(const char *s) {
        static const char *const yes[] = { "1", "yes", "true", "on" };
        static const char *const no[] = { "0", "no", "false", "off" };

        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (strcasecmp(s, yes[i]) == 0)
                        return 1;
                if (strcasecmp(s, no[i]) == 0)
                        return 0;
        }
        return -EINVAL;
}

int split_command(const char *s, char ***ret) {
        _cleanup_(strv_freep) char **l = calloc(1, sizeof(char *));
        _cleanup_(freep) char *word = NULL;
        size_t len = strlen(s);

        if (!l)
                return -ENOMEM;
        word = malloc(len + 1);
        if (!word)
                return -ENOMEM;

        for (const char *p = s;;) {
                size_t n = 0;
                char quote = 0;

                p += strspn(p, " \t");
                if (*p == '\0')
                        break;

                for (; *p; p++) {
                        if (quote == '\'') {
                                if (*p == '\'')
                                        quote = 0;
                                else
                                        word[n++] = *p;
                        } else if (*p == '\\') {
                                if (p[1] == '\0')
                                        return -EINVAL;
                                word[n++] = *++p;
                        } else if (quote == '"') {
                                if (*p == '"')
                                        quote = 0;
                                else
                                        word[n++] = *p;
                        } else if (*p == '"' || *p == '\'')
                                quote = *p;
                        else if (*p == ' ' || *p == '\t')
                                break;
                        else
                                word[n++] = *p;
                }
                if (quote)
                        return -EINVAL;

                word[n] = '\0';
                if (strv_extend(&l, word) < 0)
                        return -ENOMEM;
        }

        *ret = TAKE_PTR(l);
        return 0;
}

char *quote_word(const char *s) {
        size_t n = 0;
        char *q;

        if (*s && !strpbrk(s, " \t\"'\\"))
                return strdup(s);

        q = malloc(strlen(s) * 2 + 3);
        if (!q)
                return NULL;
        q[n++] = '"';
        for (; *s; s++) {
                if (*s == '"' || *s == '\\')
                        q[n++] = '\\';
                q[n++] = *s;
        }
        q[n++] = '"';
        q[n] = '\0';
        return q;
}

int write_file_atomic(const char *path, const char *data, size_t size, mode_t mode) {
        _cleanup_(freep) char *tmp = NULL, *dir = NULL;
        _cleanup_(closep) int fd = -1, dfd = -1;
        const char *slash;
        int r;

        if (asprintf(&tmp, "%s.tmp", path) < 0)
                return -ENOMEM;
        slash = strrchr(path, '/');
        dir = slash ? strndup(path, slash == path ? 1 : (size_t) (slash - path)) : strdup(".");
        if (!dir)
                return -ENOMEM;

        /* A leftover from a crash would keep its old mode: start from a new file. */
        (void) unlink(tmp);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return -errno;
        for (size_t done = 0; done < size;) {
                ssize_t k = write(fd, data + done, size - done);
                if (k < 0) {
                        r = -errno;
                        goto fail;
                }
                done += (size_t) k;
        }
        if (fsync(fd) < 0) {
                r = -errno;
                goto fail;
        }
        if (rename(tmp, path) < 0) {
                r = -errno;
                goto fail;
        }

        /* The rename is durable only once the directory is synced. */
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0)
                (void) fsync(dfd);
        return 0;

fail:
        (void) unlink(tmp);
        return r;
}

int read_file(const char *path, size_t max, char **ret) {
        _cleanup_(fclosep) FILE *f = fopen(path, "re");
        _cleanup_(freep) char *buf = NULL;
        size_t n;

        if (!f)
                return -errno;
        buf = malloc(max + 1);
        if (!buf)
                return -ENOMEM;
        n = fread(buf, 1, max, f);
        if (ferror(f))
                return -EIO;
        buf[n] = '\0';
        *ret = TAKE_PTR(buf);
        return 0;
}

int path_join(const char *dir, const char *name, char **ret) {
        return asprintf(ret, "%s/%s", dir, name) < 0 ? -ENOMEM : 0;
}

bool stat_is_trusted(const struct stat *st, char *why, size_t size) {
        if (st->st_uid != 0 && st->st_uid != geteuid()) {
                snprintf(why, size, "owned by uid %u", (unsigned) st->st_uid);
                return false;
        }
        if (S_ISLNK(st->st_mode))
                return true;
        if ((st->st_mode & S_IWOTH) || ((st->st_mode & S_IWGRP) && st->st_gid != 0 && st->st_gid != getegid())) {
                snprintf(why, size, "writable by %s (mode %04o)",
                         (st->st_mode & S_IWOTH) ? "everyone" : "a non-root group", (unsigned) (st->st_mode & 07777));
                return false;
        }
        return true;
}

int mkdir_p(const char *path, mode_t mode) {
        _cleanup_(freep) char *p = strdup(path);
        struct stat st;

        if (!p)
                return -ENOMEM;
        if (!*p)
                return -ENOENT; /* as mkdir("") */
        for (char *s = p + 1;; s++) {
                if (*s != '/' && *s != '\0')
                        continue;
                char c = *s;
                *s = '\0';
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return -errno;
                *s = c;
                if (c == '\0')
                        break;
        }
        /* EEXIST may have come from a file of that name. */
        if (stat(path, &st) < 0)
                return -errno;
        return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

int buf_appendf(char **buf, size_t *len, size_t *cap, const char *fmt, ...) {
        va_list ap;
        int k;

        for (;;) {
                size_t room = *cap - *len;

                va_start(ap, fmt);
                k = vsnprintf(*buf ? *buf + *len : NULL, *buf ? room : 0, fmt, ap);
                va_end(ap);
                if (k < 0)
                        return -EINVAL;
                if (*buf && (size_t) k < room) {
                        *len += (size_t) k;
                        return 0;
                }

                size_t ncap = (*cap + (size_t) k + 1) * 2;
                char *n = realloc(*buf, ncap);
                if (!n)
                        return -ENOMEM;
                *buf = n;
                *cap = ncap;
        }
}

/* The length of the well-formed UTF-8 sequence at p (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF), or 0. */
static size_t utf8_sequence_length(const unsigned char *p) {
        unsigned char lo = 0x80, hi = 0xbf;
        size_t n;

        if (p[0] < 0x80)
                return 1;
        if (p[0] >= 0xc2 && p[0] <= 0xdf)
                n = 2;
        else if (p[0] >= 0xe0 && p[0] <= 0xef) {
                n = 3;
                if (p[0] == 0xe0)
                        lo = 0xa0;
                else if (p[0] == 0xed)
                        hi = 0x9f;
        } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
                n = 4;
                if (p[0] == 0xf0)
                        lo = 0x90;
                else if (p[0] == 0xf4)
                        hi = 0x8f;
        } else
                return 0;
        if (p[1] < lo || p[1] > hi)
                return 0;
        for (size_t i = 2; i < n; i++)
                if (p[i] < 0x80 || p[i] > 0xbf)
                        return 0;
        return n;
}

int json_append_string(char **buf, size_t *len, size_t *cap, const char *s) {
        int r = buf_appendf(buf, len, cap, "\"");

        for (const unsigned char *p = (const unsigned char *) s; r >= 0 && *p;) {
                size_t n = utf8_sequence_length(p);

                if (*p == '"' || *p == '\\')
                        r = buf_appendf(buf, len, cap, "\\%c", *p);
                else if (*p == '\n')
                        r = buf_appendf(buf, len, cap, "\\n");
                else if (*p < 0x20 || *p == 0x7f)
                        r = buf_appendf(buf, len, cap, "\\u%04x", *p);
                /* Probes print what they like; JSON is UTF-8: a byte that is not part of a valid
                 * sequence becomes U+FFFD, the replacement character. */
                else if (n == 0)
                        r = buf_appendf(buf, len, cap, "\\ufffd");
                else
                        r = buf_appendf(buf, len, cap, "%.*s", (int) n, (const char *) p);
                p += n ?: 1;
        }
        return r < 0 ? r : buf_appendf(buf, len, cap, "\"");
}

void sanitize_line(char *dst, size_t size, const char *s, size_t len) {
        size_t n = 0;

        if (size == 0)
                return;
        /* Trailing newlines carry no information. */
        while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r'))
                len--;
        for (size_t i = 0; i < len && n + 1 < size; i++) {
                unsigned char c = (unsigned char) s[i];
                if (c == '\n') {
                        if (n + 4 > size)
                                break;
                        memcpy(dst + n, " | ", 3);
                        n += 3;
                } else
                        dst[n++] = (c < 0x20 || c == 0x7f) ? '?' : (char) c;
        }
        dst[n] = '\0';
}
