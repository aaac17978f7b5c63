/* SPDX-License-Identifier: MIT */
#include "budget.h"

bool budget_allows(usec_t *times, size_t *n, unsigned max, usec_t window, usec_t now) {
        size_t kept = 0;

        for (size_t i = 0; i < *n; i++)
                /* A stamp from the future (the clock was set back) still counts: it is recent. */
                if (times[i] > now || now - times[i] < window)
                        times[kept++] = times[i];
        *n = kept;
        return kept < max;
}

/* Loads the newest max + 1 stamps (only they can matter) into times (max + 2 entries). */
static int budget_load(const char *path, unsigned max, usec_t *times, size_t *ret_n) {
        _cleanup_(freep) char *text = NULL;
        size_t n = 0;
        int r;

        r = read_file(path, 64 * 1024, &text);
        if (r < 0 && r != -ENOENT)
                return r;
        for (char *p = text; p && *p;) {
                unsigned long long v;
                char *end;

                errno = 0;
                v = strtoull(p, &end, 10);
                if (end == p || errno)
                        break; /* a damaged tail: what was read so far still counts */
                if (n == max + 1) {
                        memmove(times, times + 1, sizeof(usec_t) * max);
                        n--;
                }
                times[n++] = v;
                p = end + strspn(end, "\n");
        }
        *ret_n = n;
        return 0;
}

static int budget_run(const char *dir, unsigned max, usec_t window, usec_t now, unsigned *used, bool take) {
        _cleanup_(freep) char *path = NULL, *out = NULL;
        _cleanup_(freep) usec_t *times = NULL;
        size_t n = 0, len = 0, cap = 0;
        int r;

        r = path_join(dir, BUDGET_FILE, &path);
        if (r < 0)
                return r;
        times = calloc(max + 2, sizeof(usec_t));
        if (!times)
                return -ENOMEM;
        r = budget_load(path, max, times, &n);
        if (r < 0)
                return r;

        if (!budget_allows(times, &n, max, window, now)) {
                *used = (unsigned) n;
                return 0;
        }
        if (!take) {
                *used = (unsigned) n;
                return 1;
        }
        times[n++] = now;
        *used = (unsigned) n;
        for (size_t i = 0; i < n; i++) {
                r = buf_appendf(&out, &len, &cap, "%llu\n", (unsigned long long) times[i]);
                if (r < 0)
                        return r;
        }
        r = write_file_atomic(path, out, len, 0644);
        return r < 0 ? r : 1;
}

int budget_check(const char *dir, unsigned max, usec_t window, usec_t now, unsigned *used) {
        return budget_run(dir, max, window, now, used, false);
}

int budget_take(const char *dir, unsigned max, usec_t window, usec_t now, unsigned *used) {
        return budget_run(dir, max, window, now, used, true);
}
