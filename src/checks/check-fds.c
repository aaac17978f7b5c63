/* SPDX-License-Identifier: MIT */
#include "check.h"
#include "resource.h"

/* [check.NAME] type=fds: the system-wide count of open file handles (/proc/sys/fs/file-nr)
 * stays at most max-used, a count or a share of fs.file-max. When it reaches file-max, every
 * open(), socket() and pipe() on the system fails with ENFILE. */
typedef struct FdsSettings {
        Amount max_used; /* handles, or a share of file-max */
} FdsSettings;

static const ConfigKey fds_keys[] = {
        { "max-used", &config_type_count_or_percent, offsetof(FdsSettings, max_used), .required = true },
        {}
};

static bool fds_probe(const void *settings, char *detail) {
        const FdsSettings *s = settings;
        char buf[96], share_s[RESOURCE_NUMBER_MAX], max_s[RESOURCE_NUMBER_MAX];
        uint64_t allocated, unused, max, used;
        const char *p = buf;
        bool passed;
        ssize_t n;

        n = resource_read_proc("/proc/sys/fs/file-nr", buf, sizeof(buf));
        if (n < 0)
                return check_verdict(detail, false, "/proc/sys/fs/file-nr: %s", strerror((int) -n));
        /* "allocated unused max"; unused has stayed 0 since Linux 2.6 but still counts. */
        if (resource_parse_u64(&p, &allocated) < 0 || resource_parse_u64(&p, &unused) < 0 ||
            resource_parse_u64(&p, &max) < 0)
                return check_verdict(detail, false, "/proc/sys/fs/file-nr: unexpected format");
        used = allocated > unused ? allocated - unused : 0;

        passed = resource_compare(used, max, &s->max_used) <= 0;
        return check_verdict(detail, passed, "%" PRIu64 " of %" PRIu64 " file handles in use (%s) %s max %s", used, max,
                             resource_format_share(share_s, used, max), passed ? "<=" : ">",
                             resource_format_amount(max_s, &s->max_used, false));
}

const CheckKind check_kind_fds = {
        .name = "fds",
        .settings_size = sizeof(FdsSettings),
        .keys = fds_keys,
        .probe_now = fds_probe,
};
