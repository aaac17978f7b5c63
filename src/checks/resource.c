/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>

#include "resource.h"

ssize_t resource_read_file_at(int dir_fd, const char *path, char *buf, size_t size, struct stat *st) {
        _cleanup_(closep) int fd = -1;
        ssize_t n;

        fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (st && fstat(fd, st) < 0)
                return -errno;
        /* /proc and /sys produce a small file in one read; a partial one only means the caller's
         * buffer holds just the start it asked for. */
        do
                n = read(fd, buf, size - 1);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        return n;
}

ssize_t resource_read_proc(const char *path, char *buf, size_t size) {
        /* The resource kinds run every few seconds: an openat() and a close() less per run each. */
        static struct {
                const char *path;
                int fd;
        } files[RESOURCE_PROC_FILES];
        size_t i;
        ssize_t n;

        for (i = 0; i < ELEMENTSOF(files) && files[i].path && !streq(files[i].path, path); i++)
                ;
        if (i == ELEMENTSOF(files))
                return resource_read_file(path, buf, size, NULL);
        if (!files[i].path) {
                files[i].path = path;
                files[i].fd = -1;
        }
        if (files[i].fd < 0) {
                files[i].fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
                if (files[i].fd < 0)
                        return -errno;
        }
        do
                n = pread(files[i].fd, buf, size - 1, 0);
        while (n < 0 && errno == EINTR);
        if (n < 0) {
                n = -errno;
                close(files[i].fd);
                files[i].fd = -1;
                return n;
        }
        buf[n] = '\0';
        return n;
}

int resource_parse_u64(const char **p, uint64_t *ret) {
        const char *s = *p + strspn(*p, " \t");
        uint64_t v = 0;

        if (!isdigit((unsigned char) *s))
                return -EINVAL;
        for (; isdigit((unsigned char) *s); s++)
                if (__builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, (uint64_t) (*s - '0'), &v))
                        return -ERANGE;
        *p = s;
        *ret = v;
        return 0;
}

const char *resource_format_fixed(char buf[static RESOURCE_NUMBER_MAX], uint64_t v, unsigned digits, unsigned keep) {
        uint64_t scale = 1;
        char *p;
        size_t n;

        for (unsigned i = 0; i < digits; i++)
                scale *= 10;
        /* Every check of the resource kinds formats two or three of these each run. */
        p = format_uint64(buf, v / scale, 0);
        *p++ = '.';
        p = format_uint64(p, v % scale, digits);
        *p = '\0';
        n = (size_t) (p - buf);
        while (n > 0 && digits > keep && buf[n - 1] == '0') {
                buf[--n] = '\0';
                digits--;
        }
        if (n > 0 && buf[n - 1] == '.')
                buf[--n] = '\0';
        return buf;
}

/* Binary multiples, as free(1), df(1) and the kernel count. */
static const char size_units[] = "KMGTPE";

const char *resource_format_size(char buf[static RESOURCE_NUMBER_MAX], uint64_t bytes) {
        uint64_t factor = 1024;
        size_t i = 0;

        if (bytes < 1024) {
                snprintf(buf, RESOURCE_NUMBER_MAX, "%" PRIu64 "B", bytes);
                return buf;
        }
        while (i + 1 < sizeof(size_units) - 1 && bytes / factor >= 1024) {
                factor *= 1024;
                i++;
        }
        if (bytes % factor == 0)
                snprintf(buf, RESOURCE_NUMBER_MAX, "%" PRIu64 "%c", bytes / factor, size_units[i]);
        else
                /* Tenths, rounded down: a value just under a threshold must not print as equal to it. */
                snprintf(buf, RESOURCE_NUMBER_MAX, "%" PRIu64 ".%u%c", bytes / factor,
                         (unsigned) (bytes % factor * 10 / factor), size_units[i]);
        return buf;
}

/* part * 10000 / whole without overflow, rounded down. */
static uint64_t hundredths_of_percent(uint64_t part, uint64_t whole) {
        uint64_t p;

        if (whole == 0)
                return 0;
        if (!__builtin_mul_overflow(part, 10000, &p))
                return p / whole;
        return (uint64_t) ((long double) part * 10000 / whole);
}

const char *resource_format_share(char buf[static RESOURCE_NUMBER_MAX], uint64_t part, uint64_t whole) {
        size_t n;

        resource_format_fixed(buf, hundredths_of_percent(part, whole), 2, 0);
        n = strlen(buf);
        snprintf(buf + n, RESOURCE_NUMBER_MAX - n, "%%");
        return buf;
}

const char *resource_format_amount(char buf[static RESOURCE_NUMBER_MAX], const Amount *a, bool size) {
        unsigned unit = size && a->value > 0 ? 4 : 0;
        size_t n;

        if (a->percent) {
                resource_format_fixed(buf, a->value, 2, 0);
                n = strlen(buf);
                snprintf(buf + n, RESOURCE_NUMBER_MAX - n, "%%");
                return buf;
        }
        /* As a config spells it (K to T): the largest unit that shows the value exactly. */
        while (unit > 0 && a->value % (UINT64_C(1) << (10 * unit)) != 0)
                unit--;
        if (unit == 0)
                snprintf(buf, RESOURCE_NUMBER_MAX, "%" PRIu64, a->value);
        else
                snprintf(buf, RESOURCE_NUMBER_MAX, "%" PRIu64 "%c", a->value >> (10 * unit), size_units[unit - 1]);
        return buf;
}

int resource_compare(uint64_t value, uint64_t whole, const Amount *a) {
        uint64_t l, r;

        if (!a->percent)
                return value < a->value ? -1 : value > a->value;
        /* value / whole against percent / 10000, exactly while the products fit. */
        if (!__builtin_mul_overflow(value, 10000, &l) && !__builtin_mul_overflow(whole, a->value, &r))
                return l < r ? -1 : l > r;
        long double lf = (long double) value * 10000, rf = (long double) whole * a->value;
        return lf < rf ? -1 : lf > rf;
}
