/* SPDX-License-Identifier: MIT */
#include <sys/statvfs.h>

#include "check.h"
#include "resource.h"

/* [check.NAME] type=disk: the filesystem holding path keeps free space and/or free inodes, as
 * statvfs() reports them for unprivileged users (df's "Avail": without root's reserve). */
typedef struct DiskSettings {
        char *path;
        Amount min_free;        /* bytes, or a share of the filesystem's size */
        Amount min_free_inodes; /* inodes, or a share of all inodes */
} DiskSettings;

static const ConfigKey disk_keys[] = {
        { "path",            &config_type_path,              offsetof(DiskSettings, path), .required = true },
        { "min-free",        &config_type_size_or_percent,   offsetof(DiskSettings, min_free) },
        { "min-free-inodes", &config_type_count_or_percent,  offsetof(DiskSettings, min_free_inodes) },
        {}
};

static bool disk_probe(const void *settings, char *detail) {
        const DiskSettings *s = settings;
        char space[CHECK_DETAIL_MAX] = "", inodes[CHECK_DETAIL_MAX] = "";
        char value_s[RESOURCE_NUMBER_MAX], share_s[RESOURCE_NUMBER_MAX], min_s[RESOURCE_NUMBER_MAX];
        bool space_ok = true, inodes_ok = true;
        struct statvfs sv;

        /* statvfs() of a local filesystem answers from memory; see the README about network mounts. */
        if (statvfs(s->path, &sv) < 0)
                return check_verdict(detail, false, "%s: %s", s->path, strerror(errno));

        if (s->min_free.set) {
                uint64_t free_bytes = (uint64_t) sv.f_bavail * sv.f_frsize, size = (uint64_t) sv.f_blocks * sv.f_frsize;

                space_ok = resource_compare(free_bytes, size, &s->min_free) >= 0;
                snprintf(space, sizeof(space), "%s free (%s) %s min %s", resource_format_size(value_s, free_bytes),
                         resource_format_share(share_s, free_bytes, size), space_ok ? ">=" : "<",
                         resource_format_amount(min_s, &s->min_free, true));
        }
        if (s->min_free_inodes.set && sv.f_files == 0)
                /* btrfs, vfat and others allocate inodes on demand: they cannot run out of them. */
                snprintf(inodes, sizeof(inodes), "no inode limit");
        else if (s->min_free_inodes.set) {
                inodes_ok = resource_compare(sv.f_favail, sv.f_files, &s->min_free_inodes) >= 0;
                snprintf(inodes, sizeof(inodes), "%llu inodes free (%s) %s min %s", (unsigned long long) sv.f_favail,
                         resource_format_share(share_s, sv.f_favail, sv.f_files), inodes_ok ? ">=" : "<",
                         resource_format_amount(min_s, &s->min_free_inodes, false));
        }

        return check_verdict(detail, space_ok && inodes_ok, "%s: %s%s%s", s->path, space,
                             *space && *inodes ? ", " : "", inodes);
}

static void disk_verify(const CheckConfig *c, ConfigErrors *errors) {
        const DiskSettings *s = c->settings;

        if (!s->min_free.set && !s->min_free_inodes.set)
                config_errors_add(errors, c->file, c->line, "[check.%s] needs min-free= or min-free-inodes= (or both)",
                                  c->name);
}

const CheckKind check_kind_disk = {
        .name = "disk",
        .settings_size = sizeof(DiskSettings),
        .keys = disk_keys,
        .verify = disk_verify,
        .probe_now = disk_probe,
};
