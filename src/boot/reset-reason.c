/* SPDX-License-Identifier: MIT */
#include "json.h"
#include "reset-reason.h"

int reset_reason_save(const char *dir, const char *boot_id, const ResetReason *reason) {
        _cleanup_(freep) char *json = NULL, *path = NULL;
        size_t len = 0, cap = 0;
        int r;

        r = buf_appendf(&json, &len, &cap, "{\"reason\":");
        if (r >= 0)
                r = json_append_string(&json, &len, &cap, reason->reason);
        if (r >= 0)
                r = buf_appendf(&json, &len, &cap, ",\"check\":");
        if (r >= 0)
                r = reason->check ? json_append_string(&json, &len, &cap, reason->check)
                                  : buf_appendf(&json, &len, &cap, "null");
        if (r >= 0)
                r = buf_appendf(&json, &len, &cap, ",\"detail\":");
        if (r >= 0)
                r = json_append_string(&json, &len, &cap, strempty(reason->detail));
        if (r >= 0)
                r = buf_appendf(&json, &len, &cap, ",\"realtime_usec\":%llu,\"monotonic_usec\":%llu,\"boot_id\":",
                                (unsigned long long) reason->realtime, (unsigned long long) reason->monotonic);
        if (r >= 0)
                r = json_append_string(&json, &len, &cap, boot_id);
        if (r >= 0)
                r = buf_appendf(&json, &len, &cap, "}\n");
        if (r < 0)
                return r;

        r = path_join(dir, RESET_REASON_FILE, &path);
        if (r < 0)
                return r;
        return write_file_atomic(path, json, len, 0644);
}

/* The text goes into the verdict record and the status document as it is: a damaged file
 * (empty, cut short, edited) must not make them invalid JSON. */
static int unreadable(const char *text, char **ret) {
        _cleanup_(freep) char *json = NULL;
        char detail[256];
        size_t len = 0, cap = 0;
        int r;

        sanitize_line(detail, sizeof(detail), text, strlen(text));
        r = buf_appendf(&json, &len, &cap, "{\"reason\":\"unreadable\",\"detail\":");
        if (r >= 0)
                r = json_append_string(&json, &len, &cap, detail);
        if (r >= 0)
                r = buf_appendf(&json, &len, &cap, "}");
        if (r < 0)
                return r;
        *ret = TAKE_PTR(json);
        return 0;
}

int reset_reason_read(const char *dir, const char *boot_id, char **ret) {
        _cleanup_(freep) char *path = NULL, *text = NULL;
        _cleanup_(json_freep) JsonValue *v = NULL;
        int r, origin;

        r = path_join(dir, RESET_REASON_FILE, &path);
        if (r < 0)
                return r;
        r = read_file(path, 64 * 1024, &text);
        if (r == -ENOENT)
                return RESET_REASON_NONE;
        if (r < 0)
                return r;
        text[strcspn(text, "\n")] = '\0';

        if (json_parse(text, &v) < 0 || v->type != JSON_OBJECT) {
                /* Written atomically in this boot it would parse: an earlier boot's, damaged. */
                if (ret) {
                        r = unreadable(text, ret);
                        if (r < 0)
                                return r;
                }
                return RESET_REASON_PREVIOUS_BOOT;
        }
        origin = streq_ptr(json_string(json_get(v, "boot_id", NULL)), boot_id) ? RESET_REASON_THIS_BOOT
                                                                                : RESET_REASON_PREVIOUS_BOOT;
        if (ret)
                *ret = TAKE_PTR(text);
        return origin;
}

int reset_reason_remove(const char *dir) {
        _cleanup_(freep) char *path = NULL;
        int r = path_join(dir, RESET_REASON_FILE, &path);

        if (r < 0)
                return r;
        if (unlink(path) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}
