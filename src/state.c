/* SPDX-License-Identifier: MIT */
#include <systemd/sd-id128.h>

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
