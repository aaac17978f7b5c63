/* SPDX-License-Identifier: MIT */
#include "deploy-note.h"

int deploy_note_save(const char *dir, const char *verb, const char *checksum) {
        _cleanup_(freep) char *path = NULL, *text = NULL;
        int r;

        r = path_join(dir, DEPLOY_NOTE_FILE, &path);
        if (r < 0)
                return r;
        if (asprintf(&text, "%s%s%s\n", verb, checksum ? " " : "", strempty(checksum)) < 0)
                return -ENOMEM;
        return write_file_atomic(path, text, strlen(text), 0644);
}

int deploy_note_load(const char *dir, DeployNote *ret) {
        _cleanup_(freep) char *path = NULL, *text = NULL;
        DeployNote note = {};
        int r, n;

        r = path_join(dir, DEPLOY_NOTE_FILE, &path);
        if (r < 0)
                return r;
        r = read_file(path, 256, &text);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        n = sscanf(text, "%31s %79s", note.verb, note.checksum);
        if (n < 1 || (!streq(note.verb, "prune") && !streq(note.verb, "remove-failed")))
                return 0;
        if (note.checksum[strspn(note.checksum, "0123456789abcdef.")] != '\0')
                return 0;
        *ret = note;
        return 1;
}

int deploy_note_clear(const char *dir) {
        _cleanup_(freep) char *path = NULL;
        int r = path_join(dir, DEPLOY_NOTE_FILE, &path);

        if (r < 0)
                return r;
        if (unlink(path) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}
