/* SPDX-License-Identifier: MIT */
#include "check.h"
#include "resource.h"

/* [check.NAME] type=memory: the kernel's estimate of memory available to new work without
 * swapping (MemAvailable in /proc/meminfo) stays at least min-available. */
typedef struct MemorySettings {
        Amount min_available; /* bytes, or a share of MemTotal */
} MemorySettings;

static const ConfigKey memory_keys[] = {
        { "min-available", &config_type_size_or_percent, offsetof(MemorySettings, min_available), .required = true },
        {}
};

/* The value of "Key:   1234 kB" in meminfo text, in bytes. Returns 0 or -ENOENT / -EBADMSG. */
static int meminfo_field(const char *text, const char *key, uint64_t *ret) {
        size_t l = strlen(key);
        const char *p;
        uint64_t kb;

        for (p = text; strncmp(p, key, l) != 0 || p[l] != ':'; p++) {
                p = strchr(p, '\n');
                if (!p)
                        return -ENOENT;
        }
        p += l + 1;
        if (resource_parse_u64(&p, &kb) < 0 || !startswith(p, " kB") || kb > UINT64_MAX / 1024)
                return -EBADMSG;
        *ret = kb * 1024;
        return 0;
}

static bool memory_probe(const void *settings, char *detail) {
        const MemorySettings *s = settings;
        /* MemTotal, MemFree and MemAvailable are the first three lines: no need for the rest. */
        char buf[512], avail_s[RESOURCE_NUMBER_MAX], share_s[RESOURCE_NUMBER_MAX], min_s[RESOURCE_NUMBER_MAX];
        uint64_t total, avail;
        bool passed;
        ssize_t n;
        int r;

        n = resource_read_proc("/proc/meminfo", buf, sizeof(buf));
        if (n < 0)
                return check_verdict(detail, false, "/proc/meminfo: %s", strerror((int) -n));
        r = meminfo_field(buf, "MemAvailable", &avail);
        if (r == -ENOENT)
                return check_verdict(detail, false, "no MemAvailable in /proc/meminfo (needs Linux 3.14)");
        if (r < 0 || meminfo_field(buf, "MemTotal", &total) < 0)
                return check_verdict(detail, false, "/proc/meminfo: unexpected format");

        resource_format_size(avail_s, avail);
        resource_format_share(share_s, avail, total);
        resource_format_amount(min_s, &s->min_available, true);
        passed = resource_compare(avail, total, &s->min_available) >= 0;
        return check_verdict(detail, passed, "available %s (%s) %s min %s", avail_s, share_s, passed ? ">=" : "<",
                             min_s);
}

const CheckKind check_kind_memory = {
        .name = "memory",
        .settings_size = sizeof(MemorySettings),
        .keys = memory_keys,
        .probe_now = memory_probe,
};
