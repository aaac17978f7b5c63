/* SPDX-License-Identifier: MIT */
#include <limits.h>

#include "starts.h"

int starts_count(const char *dir, const char *boot_id, unsigned *ret) {
        _cleanup_(freep) char *path = NULL, *text = NULL;
        char stored[64];
        unsigned n = 0;
        int r;

        *ret = 1;
        r = mkdir_p(dir, 0755);
        if (r < 0)
                return r;
        r = path_join(dir, STARTS_FILE, &path);
        if (r < 0)
                return r;
        if (read_file(path, 128, &text) < 0 || sscanf(text, "%63s %u", stored, &n) != 2 ||
            !streq(stored, boot_id) || n >= UINT_MAX - 1)
                n = 0;
        free(text);
        if (asprintf(&text, "%s %u\n", boot_id, n + 1) < 0) {
                text = NULL;
                return -ENOMEM;
        }
        *ret = n + 1;
        return write_file_atomic(path, text, strlen(text), 0644);
}

int starts_clear(const char *dir) {
        _cleanup_(freep) char *path = NULL;
        int r = path_join(dir, STARTS_FILE, &path);

        if (r < 0)
                return r;
        if (unlink(path) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}
