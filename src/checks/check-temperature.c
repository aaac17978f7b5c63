/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <fcntl.h>
#include <limits.h>

#include "check.h"
#include "resource.h"

/* [check.NAME] type=temperature: a sensor stays at most max degrees Celsius. The sensor is a
 * sysfs file holding millidegrees (a thermal zone's temp, a hwmon tempN_input), or the thermal
 * zone whose type is zone-type, looked up on every run: zone numbers change between kernels. */
typedef struct TemperatureSettings {
        char *path;
        char *zone_type;
        char *sysfs_root;
        uint64_t max; /* millidegrees, as sysfs counts */
} TemperatureSettings;

static const ConfigKey temperature_keys[] = {
        { "path",       &config_type_path,    offsetof(TemperatureSettings, path) },
        { "zone-type",  &config_type_string,  offsetof(TemperatureSettings, zone_type) },
        { "sysfs-root", &config_type_path,    offsetof(TemperatureSettings, sysfs_root), "/sys" },
        /* Up to 300 °C: a sensor limit in millidegrees ("85000") is a mistake, not a setting. */
        { "max",        &config_type_decimal, offsetof(TemperatureSettings, max), .required = true, .max = 300000 },
        {}
};

/* Reads a sysfs temperature, "45000\n" (millidegrees, may be negative). Returns 0 or -errno. */
static int read_millidegrees(int dir_fd, const char *path, int64_t *ret) {
        char buf[32];
        ssize_t n = resource_read_file_at(dir_fd, path, buf, sizeof(buf), NULL);
        int v, r;

        if (n < 0)
                return (int) n;
        while (n > 0 && isspace((unsigned char) buf[n - 1]))
                buf[--n] = '\0';
        r = parse_int(buf, &v);
        if (r < 0)
                return -EBADMSG;
        *ret = v;
        return 0;
}

/* The directory of the thermal zones: SYSFS-ROOT/class/thermal. */
static const char *thermal_dir(const TemperatureSettings *s, char path[static PATH_MAX]) {
        snprintf(path, PATH_MAX, "%s/class/thermal", streq(s->sysfs_root, "/") ? "" : s->sysfs_root);
        return path;
}

/* Finds the thermal zone of the given type and reads its temperature; *zone is its number
 * (thermal_zone2: 2), or -1 before one was found. Returns 0, -ESRCH when no zone has that type,
 * or -errno. */
static int read_zone(const TemperatureSettings *s, int *zone, int64_t *ret) {
        _cleanup_(closedirp) DIR *d = NULL;
        char path[PATH_MAX], type[64];
        struct dirent *de;
        const char *number;
        ssize_t n;

        *zone = -1;
        d = opendir(thermal_dir(s, path));
        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                number = startswith(de->d_name, "thermal_zone");
                if (!number || parse_int(number, zone) < 0 || *zone < 0)
                        continue;
                snprintf(path, sizeof(path), "thermal_zone%d/type", *zone);
                n = resource_read_file_at(dirfd(d), path, type, sizeof(type), NULL);
                if (n <= 0)
                        continue;
                if (type[n - 1] == '\n')
                        type[--n] = '\0';
                if (!streq(type, s->zone_type))
                        continue;
                snprintf(path, sizeof(path), "thermal_zone%d/temp", *zone);
                return read_millidegrees(dirfd(d), path, ret);
        }
        *zone = -1;
        return -ESRCH;
}

/* Millidegrees as "45.0°C", "-3.5°C", "72.55°C": at least tenths, more when they are not 0. */
#define CELSIUS_MAX (RESOURCE_NUMBER_MAX + 8)

static const char *format_celsius(char buf[static CELSIUS_MAX], int64_t milli) {
        char n[RESOURCE_NUMBER_MAX];

        resource_format_fixed(n, milli < 0 ? (uint64_t) -milli : (uint64_t) milli, 3, 1);
        snprintf(buf, CELSIUS_MAX, "%s%s°C", milli < 0 ? "-" : "", n);
        return buf;
}

static bool temperature_probe(const void *settings, char *detail) {
        const TemperatureSettings *s = settings;
        char t_s[CELSIUS_MAX], max_s[CELSIUS_MAX], path[PATH_MAX];
        int zone = -1, r;
        bool passed;
        int64_t t;

        if (s->path) {
                r = read_millidegrees(AT_FDCWD, s->path, &t);
                if (r == -EBADMSG)
                        return check_verdict(detail, false, "%s does not hold a temperature", s->path);
                if (r < 0)
                        return check_verdict(detail, false, "%s: %s", s->path, strerror(-r));
        } else {
                r = read_zone(s, &zone, &t);
                if (r == -ESRCH)
                        return check_verdict(detail, false, "no thermal zone of type '%s'", s->zone_type);
                if (r < 0 && zone < 0)
                        return check_verdict(detail, false, "%s: %s", thermal_dir(s, path), strerror(-r));
                if (r == -EBADMSG)
                        return check_verdict(detail, false, "thermal_zone%d (%s) does not hold a temperature", zone,
                                             s->zone_type);
                if (r < 0)
                        return check_verdict(detail, false, "thermal_zone%d (%s): %s", zone, s->zone_type,
                                             strerror(-r));
        }

        format_celsius(t_s, t);
        format_celsius(max_s, (int64_t) s->max);
        passed = t <= (int64_t) s->max;
        if (zone >= 0)
                return check_verdict(detail, passed, "thermal_zone%d (%s) %s %s max %s", zone, s->zone_type, t_s,
                                     passed ? "<=" : ">", max_s);
        return check_verdict(detail, passed, "%s %s max %s", t_s, passed ? "<=" : ">", max_s);
}

static void temperature_verify(const CheckConfig *c, ConfigErrors *errors) {
        const TemperatureSettings *s = c->settings;

        if (!s->path == !s->zone_type)
                config_errors_add(errors, c->file, c->line, "[check.%s] needs exactly one of path= and zone-type=%s",
                                  c->name, s->path ? ", not both" : "");
        if (s->path && !streq(s->sysfs_root, "/sys"))
                config_errors_add(errors, c->file, c->line, "sysfs-root= in [check.%s] applies only with zone-type=",
                                  c->name);
}

const CheckKind check_kind_temperature = {
        .name = "temperature",
        .settings_size = sizeof(TemperatureSettings),
        .keys = temperature_keys,
        .verify = temperature_verify,
        .probe_now = temperature_probe,
};
