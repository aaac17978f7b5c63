/* SPDX-License-Identifier: MIT */
#include "hold.h"

int hold_save(const char *dir, const char *boot_id, usec_t until) {
        _cleanup_(freep) char *path = NULL, *text = NULL;
        int r;

        r = mkdir_p(dir, 0755);
        if (r < 0)
                return r;
        r = path_join(dir, HOLD_FILE, &path);
        if (r < 0)
                return r;
        if (asprintf(&text, "%s %llu\n", boot_id, (unsigned long long) until) < 0)
                return -ENOMEM;
        return write_file_atomic(path, text, strlen(text), 0644);
}

int hold_load(const char *dir, const char *boot_id, usec_t *ret_until) {
        _cleanup_(freep) char *path = NULL, *text = NULL;
        char stored[64];
        unsigned long long until;
        int r;

        r = path_join(dir, HOLD_FILE, &path);
        if (r < 0)
                return r;
        if (read_file(path, 128, &text) < 0)
                return 0;
        if (sscanf(text, "%63s %llu", stored, &until) != 2 || !streq(stored, boot_id))
                return 0;
        *ret_until = until;
        return 1;
}

int hold_remove(const char *dir) {
        _cleanup_(freep) char *path = NULL;
        int r = path_join(dir, HOLD_FILE, &path);

        if (r < 0)
                return r;
        if (unlink(path) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}
