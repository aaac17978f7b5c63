/* SPDX-License-Identifier: MIT */
#include "json.h"
#include "update-note.h"

static bool checksum_valid(const char *s) {
        if (!s || strlen(s) != UPDATE_CHECKSUM_LEN)
                return false;
        for (; *s; s++)
                if (!strchr("0123456789abcdef", *s))
                        return false;
        return true;
}

int update_note_save(const char *dir, const UpdateNote *note) {
        _cleanup_(freep) char *json = NULL, *path = NULL;
        size_t len = 0, cap = 0;
        int r;

        r = buf_appendf(&json, &len, &cap, "{\"checksum\":\"%s\",\"from\":\"%s\",\"refspec\":", note->checksum,
                        note->from);
        if (r >= 0)
                r = json_append_string(&json, &len, &cap, note->refspec);
        if (r >= 0)
                r = buf_appendf(&json, &len, &cap, ",\"version\":");
        if (r >= 0)
                r = note->version[0] ? json_append_string(&json, &len, &cap, note->version)
                                     : buf_appendf(&json, &len, &cap, "null");
        if (r >= 0)
                r = buf_appendf(&json, &len, &cap, ",\"boot_id\":");
        if (r >= 0)
                r = json_append_string(&json, &len, &cap, note->boot_id);
        if (r >= 0)
                r = buf_appendf(&json, &len, &cap, ",\"realtime_usec\":%llu}\n",
                                (unsigned long long) note->realtime_usec);
        if (r < 0)
                return r;
        r = path_join(dir, UPDATE_NOTE_FILE, &path);
        if (r < 0)
                return r;
        return write_file_atomic(path, json, len, 0644);
}

int update_note_load(const char *dir, UpdateNote *ret) {
        _cleanup_(freep) char *path = NULL, *text = NULL;
        _cleanup_(json_freep) JsonValue *v = NULL;
        const char *checksum, *from;
        uint64_t t = 0;
        int r;

        r = path_join(dir, UPDATE_NOTE_FILE, &path);
        if (r < 0)
                return r;
        r = read_file(path, 16 * 1024, &text);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (json_parse(text, &v) < 0)
                return 0;
        checksum = json_string(json_get(v, "checksum", NULL));
        from = json_string(json_get(v, "from", NULL));
        if (!checksum_valid(checksum) || !checksum_valid(from))
                return 0;
        *ret = (UpdateNote) {};
        snprintf(ret->checksum, sizeof(ret->checksum), "%s", checksum);
        snprintf(ret->from, sizeof(ret->from), "%s", from);
        snprintf(ret->refspec, sizeof(ret->refspec), "%s", strempty(json_string(json_get(v, "refspec", NULL))));
        snprintf(ret->version, sizeof(ret->version), "%s", strempty(json_string(json_get(v, "version", NULL))));
        snprintf(ret->boot_id, sizeof(ret->boot_id), "%s", strempty(json_string(json_get(v, "boot_id", NULL))));
        (void) json_uint(json_get(v, "realtime_usec", NULL), &t);
        ret->realtime_usec = t;
        return 1;
}

int update_note_clear(const char *dir) {
        _cleanup_(freep) char *path = NULL;
        int r = path_join(dir, UPDATE_NOTE_FILE, &path);

        if (r < 0)
                return r;
        if (unlink(path) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}
