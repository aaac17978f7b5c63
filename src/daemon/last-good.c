/* SPDX-License-Identifier: MIT */
#include "last-good.h"

int last_good_save(const char *dir, const Config *c) {
        _cleanup_(freep) char *path = NULL, *text = NULL;
        _cleanup_(fclosep) FILE *f = NULL;
        size_t size = 0;
        int r;

        r = path_join(dir, LAST_GOOD_FILE, &path);
        if (r < 0)
                return r;
        f = open_memstream(&text, &size);
        if (!f)
                return -ENOMEM;
        config_dump(c, f);
        if (fclose(TAKE_PTR(f)) != 0)
                return -ENOMEM;
        return write_file_atomic(path, text, size, 0644);
}

int last_good_load(const char *dir, Config **ret, ConfigErrors *errors) {
        _cleanup_(freep) char *path = NULL;
        int r;

        r = path_join(dir, LAST_GOOD_FILE, &path);
        if (r < 0)
                return r;
        if (access(path, F_OK) < 0)
                return -errno;
        return config_load(path, NULL, ret, errors);
}
