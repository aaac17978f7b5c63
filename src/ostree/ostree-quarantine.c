/* SPDX-License-Identifier: MIT */
#include <sys/stat.h>

#include "ostree-deploy.h"
#include "ostree-quarantine.h"
#include "util.h"

/* Reads the whole file into *ret (NUL-terminated); a missing file reads as empty. */
static int read_all(const char *path, char **ret, size_t *ret_size) {
        _cleanup_(fclosep) FILE *f = fopen(path, "re");
        _cleanup_(freep) char *data = NULL;
        size_t size = 0, cap = 0;

        if (!f) {
                if (errno != ENOENT)
                        return -errno;
                data = strdup("");
                if (!data)
                        return -ENOMEM;
                *ret = TAKE_PTR(data);
                *ret_size = 0;
                return 0;
        }
        for (;;) {
                if (cap - size < 4096) {
                        char *t = realloc(data, cap + 8192);
                        if (!t)
                                return -ENOMEM;
                        data = t;
                        cap += 8192;
                }
                size_t k = fread(data + size, 1, cap - size - 1, f);
                size += k;
                if (k == 0)
                        break;
        }
        if (ferror(f))
                return -EIO;
        /* A NUL byte (a block of zeros after a crash) would hide the lines behind it from parse()
         * and from the copy quarantine_add() writes back: take it for a line break. */
        for (char *z = memchr(data, 0, size); z; z = memchr(z, 0, size - (size_t) (z - data)))
                *z = '\n';
        data[size] = 0;
        *ret = TAKE_PTR(data);
        *ret_size = size;
        return 0;
}

static char *quarantine_path(const char *state_dir) {
        char *p;

        return asprintf(&p, "%s/%s", state_dir, QUARANTINE_FILE) < 0 ? NULL : p;
}

/* Appends the checksums among the lines of data to *l. */
static int parse(const char *data, char ***l) {
        for (const char *line = data; *line;) {
                size_t len = strcspn(line, "\n");
                char word[DEPLOY_CHECKSUM_LEN + 1];
                int r;

                /* Blanks around a checksum are tolerated, as a person editing the file adds them. */
                while (len > 0 && (*line == ' ' || *line == '\t'))
                        line++, len--;
                while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t' || line[len - 1] == '\r'))
                        len--;
                if (len == DEPLOY_CHECKSUM_LEN) {
                        memcpy(word, line, len);
                        word[len] = 0;
                        if (deploy_name_valid(word) && !strv_contains(*l, word)) {
                                r = strv_extend(l, word);
                                if (r < 0)
                                        return r;
                        }
                }
                line += strcspn(line, "\n");
                if (*line)
                        line++;
        }
        return 0;
}

int quarantine_read(const char *state_dir, char ***ret) {
        _cleanup_(freep) char *path = quarantine_path(state_dir), *data = NULL;
        _cleanup_(strv_freep) char **l = calloc(1, sizeof(char *));
        size_t size;
        int r;

        if (!path || !l)
                return -ENOMEM;
        r = read_all(path, &data, &size);
        if (r < 0)
                return r;
        r = parse(data, &l);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(l);
        return 0;
}

int quarantine_add(const char *state_dir, const char *checksum) {
        _cleanup_(freep) char *path = quarantine_path(state_dir), *data = NULL, *out = NULL;
        _cleanup_(strv_freep) char **l = calloc(1, sizeof(char *));
        size_t size, len = 0, cap = 0;
        int r;

        if (!path || !l)
                return -ENOMEM;
        if (strlen(checksum) != DEPLOY_CHECKSUM_LEN || !deploy_name_valid(checksum))
                return -EINVAL;
        r = mkdir_p(state_dir, 0755);
        if (r < 0)
                return r;
        r = read_all(path, &data, &size);
        if (r < 0)
                return r;
        r = parse(data, &l);
        if (r < 0)
                return r;
        if (strv_contains(l, checksum))
                return 0;

        r = buf_appendf(&out, &len, &cap, "%s%s%s\n", data, size > 0 && data[size - 1] != '\n' ? "\n" : "", checksum);
        if (r < 0)
                return r;
        r = write_file_atomic(path, out, len, 0644);
        return r < 0 ? r : 1;
}
