/* SPDX-License-Identifier: MIT */
#include "verdicts.h"

int verdicts_read(const char *dir, size_t n, char ***ret) {
        _cleanup_(freep) char *path = NULL, *text = NULL;
        _cleanup_(strv_freep) char **all = calloc(1, sizeof(char *)), **tail = NULL;
        size_t total, skip;
        int r;

        if (!all)
                return -ENOMEM;
        r = path_join(dir, VERDICTS_FILE, &path);
        if (r < 0)
                return r;
        r = read_file(path, 1024 * 1024, &text);
        if (r < 0 && r != -ENOENT)
                return r;
        for (char *line = text, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                if (*line && strv_extend(&all, line) < 0)
                        return -ENOMEM;
        }

        total = strv_length(all);
        skip = total > n ? total - n : 0;
        tail = strv_copy(all + skip);
        if (!tail)
                return -ENOMEM;
        *ret = TAKE_PTR(tail);
        return (int) (total - skip);
}

int verdicts_append(const char *dir, const char *record, bool replace_last) {
        _cleanup_(strv_freep) char **records = NULL;
        _cleanup_(freep) char *path = NULL, *text = NULL;
        size_t len = 0, cap = 0, n;
        int r;

        r = verdicts_read(dir, VERDICTS_MAX, &records);
        if (r < 0)
                return r;
        n = strv_length(records);
        if (replace_last && n > 0)
                n--;
        /* Keep the newest, VERDICTS_MAX in all with the new one. */
        for (size_t i = n >= VERDICTS_MAX ? n - VERDICTS_MAX + 1 : 0; i < n; i++) {
                r = buf_appendf(&text, &len, &cap, "%s\n", records[i]);
                if (r < 0)
                        return r;
        }
        r = buf_appendf(&text, &len, &cap, "%s\n", record);
        if (r < 0)
                return r;

        r = path_join(dir, VERDICTS_FILE, &path);
        if (r < 0)
                return r;
        return write_file_atomic(path, text, len, 0644);
}
