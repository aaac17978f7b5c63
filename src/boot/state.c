/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <systemd/sd-id128.h>

#include "json.h"
#include "state.h"

int state_prepare(const char *dir) {
        return mkdir_p(dir, 0755);
}

int state_save_reset_reason(const char *dir, const ResetReason *reason) {
        _cleanup_(freep) char *json = NULL, *path = NULL;
        char boot_id[SD_ID128_STRING_MAX] = "";
        size_t len = 0, cap = 0;
        sd_id128_t id;
        int r;

        if (sd_id128_get_boot(&id) >= 0)
                sd_id128_to_string(id, boot_id);

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
                r = buf_appendf(&json, &len, &cap,
                                ",\"realtime_usec\":%llu,\"monotonic_usec\":%llu,\"boot_id\":\"%s\"}\n",
                                (unsigned long long) reason->realtime, (unsigned long long) reason->monotonic,
                                boot_id);
        if (r < 0)
                return r;

        if (asprintf(&path, "%s/%s", dir, STATE_RESET_REASON_FILE) < 0)
                return -ENOMEM;
        return write_file_atomic(path, json, len, 0644);
}

static int read_file(const char *path, char **ret, size_t max) {
        _cleanup_(fclosep) FILE *f = fopen(path, "re");
        _cleanup_(freep) char *buf = NULL;
        size_t n;

        if (!f)
                return -errno;
        buf = malloc(max + 1);
        if (!buf)
                return -ENOMEM;
        n = fread(buf, 1, max, f);
        if (ferror(f))
                return -EIO;
        buf[n] = '\0';
        *ret = TAKE_PTR(buf);
        return 0;
}

static bool is_json_object(const char *text) {
        _cleanup_(json_freep) JsonValue *v = NULL;

        return json_parse(text, &v) >= 0 && v->type == JSON_OBJECT;
}

static int path_in(const char *dir, const char *name, char **ret) {
        return asprintf(ret, "%s/%s", dir, name) < 0 ? -ENOMEM : 0;
}

int state_take_reset_reason(const char *dir, char **ret) {
        _cleanup_(freep) char *path = NULL, *json = NULL;
        int r;

        r = path_in(dir, STATE_RESET_REASON_FILE, &path);
        if (r < 0)
                return r;
        r = read_file(path, &json, 64 * 1024);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (unlink(path) < 0)
                return -errno;
        json[strcspn(json, "\n")] = '\0';
        /* The text goes into the verdict record and the status document as it is: a damaged file
         * (empty, cut short, edited) must not make them invalid JSON. The reset still counts. */
        if (!is_json_object(json)) {
                char detail[256];
                size_t len = 0, cap = 0;

                sanitize_line(detail, sizeof(detail), json, strlen(json));
                free(json);
                json = NULL;
                r = buf_appendf(&json, &len, &cap, "{\"reason\":\"unreadable\",\"detail\":");
                if (r >= 0)
                        r = json_append_string(&json, &len, &cap, detail);
                if (r >= 0)
                        r = buf_appendf(&json, &len, &cap, "}");
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(json);
        return 1;
}

bool state_has_reset_reason(const char *dir) {
        _cleanup_(freep) char *path = NULL;

        return path_in(dir, STATE_RESET_REASON_FILE, &path) >= 0 && access(path, F_OK) == 0;
}

int state_mark_boot(const char *runtime_dir) {
        _cleanup_(freep) char *path = NULL;
        int fd, r;

        r = mkdir_p(runtime_dir, 0755);
        if (r < 0)
                return r;
        r = path_in(runtime_dir, STATE_BOOT_MARK_FILE, &path);
        if (r < 0)
                return r;
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0)
                return errno == EEXIST ? 0 : -errno;
        close(fd);
        return 1;
}

int state_read_verdicts(const char *dir, size_t n, char ***ret) {
        _cleanup_(freep) char *path = NULL, *text = NULL;
        _cleanup_(strv_freep) char **all = calloc(1, sizeof(char *)), **tail = NULL;
        size_t total, skip;
        int r;

        if (!all)
                return -ENOMEM;
        r = path_in(dir, STATE_VERDICTS_FILE, &path);
        if (r < 0)
                return r;
        r = read_file(path, &text, 1024 * 1024);
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

int state_append_verdict(const char *dir, const char *record, bool replace_last) {
        _cleanup_(strv_freep) char **records = NULL;
        _cleanup_(freep) char *path = NULL, *text = NULL;
        size_t len = 0, cap = 0, n;
        int r;

        r = state_read_verdicts(dir, STATE_VERDICTS_MAX, &records);
        if (r < 0)
                return r;
        n = strv_length(records);
        if (replace_last && n > 0)
                n--;
        /* Keep the newest, STATE_VERDICTS_MAX in all with the new one. */
        for (size_t i = n >= STATE_VERDICTS_MAX ? n - STATE_VERDICTS_MAX + 1 : 0; i < n; i++) {
                r = buf_appendf(&text, &len, &cap, "%s\n", records[i]);
                if (r < 0)
                        return r;
        }
        r = buf_appendf(&text, &len, &cap, "%s\n", record);
        if (r < 0)
                return r;

        r = path_in(dir, STATE_VERDICTS_FILE, &path);
        if (r < 0)
                return r;
        return write_file_atomic(path, text, len, 0644);
}

bool state_budget_allows(usec_t *times, size_t *n, unsigned max, usec_t window, usec_t now) {
        size_t kept = 0;

        for (size_t i = 0; i < *n; i++)
                /* A stamp from the future (the clock was set back) still counts: it is recent. */
                if (times[i] > now || now - times[i] < window)
                        times[kept++] = times[i];
        *n = kept;
        return kept < max;
}

int state_budget_take(const char *dir, unsigned max, usec_t window, usec_t now, unsigned *used) {
        _cleanup_(freep) char *path = NULL, *text = NULL, *out = NULL;
        _cleanup_(freep) usec_t *times = NULL;
        size_t n = 0, len = 0, cap = 0;
        int r;

        r = path_in(dir, STATE_BUDGET_FILE, &path);
        if (r < 0)
                return r;
        r = read_file(path, &text, 64 * 1024);
        if (r < 0 && r != -ENOENT)
                return r;

        times = calloc(max + 1, sizeof(usec_t));
        if (!times)
                return -ENOMEM;
        /* Only the newest max stamps can matter. */
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

        if (!state_budget_allows(times, &n, max, window, now)) {
                *used = (unsigned) n;
                return 0;
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
