/* SPDX-License-Identifier: MIT */
#include "check.h"
#include "resource.h"

/* [check.NAME] type=loadavg: the kernel's load average (/proc/loadavg) stays at most max-load,
 * optionally per online CPU, so one config fits boards with different core counts. */
typedef struct LoadavgSettings {
        uint64_t max_load; /* thousandths */
        int period;        /* index into periods[] and into the fields of /proc/loadavg */
        bool per_cpu;
} LoadavgSettings;

static const char *const periods[] = { "1min", "5min", "15min", NULL };

static const ConfigKey loadavg_keys[] = {
        { "max-load", &config_type_decimal, offsetof(LoadavgSettings, max_load), .required = true,
          .max = UINT64_C(1000000) * 1000 },
        { "period",   &config_type_enum,    offsetof(LoadavgSettings, period), "1min", .choices = periods },
        { "per-cpu",  &config_type_bool,    offsetof(LoadavgSettings, per_cpu), "no" },
        {}
};

/* One load figure, "3.10" (the kernel prints exactly two decimals), in thousandths.
 * Returns 0 or -EBADMSG. */
static int parse_load(const char **p, uint64_t *ret) {
        uint64_t whole, hundredths;
        const char *frac;

        if (resource_parse_u64(p, &whole) < 0 || **p != '.')
                return -EBADMSG;
        frac = ++*p;
        if (resource_parse_u64(p, &hundredths) < 0 || *p - frac != 2)
                return -EBADMSG;
        *ret = whole * 1000 + hundredths * 10;
        return 0;
}

static bool loadavg_probe(const void *settings, char *detail) {
        const LoadavgSettings *s = settings;
        char buf[128], load_s[RESOURCE_NUMBER_MAX], max_s[RESOURCE_NUMBER_MAX], per_s[RESOURCE_NUMBER_MAX];
        const char *p = buf;
        uint64_t load = 0;
        bool passed;
        ssize_t n;
        long cpus;

        n = resource_read_proc("/proc/loadavg", buf, sizeof(buf));
        if (n < 0)
                return check_verdict(detail, false, "/proc/loadavg: %s", strerror((int) -n));
        /* "0.52 0.58 0.59 1/234 5678" */
        for (int i = 0; i <= s->period; i++)
                if (parse_load(&p, &load) < 0)
                        return check_verdict(detail, false, "/proc/loadavg: unexpected format");

        resource_format_fixed(load_s, load, 3, 2);
        resource_format_fixed(max_s, s->max_load, 3, 2);
        if (!s->per_cpu) {
                passed = load <= s->max_load;
                return check_verdict(detail, passed, "load %s %s max %s (%s)", load_s, passed ? "<=" : ">", max_s,
                                     periods[s->period]);
        }

        /* Online CPUs, not configured ones: a board may take cores offline to save power. */
        cpus = sysconf(_SC_NPROCESSORS_ONLN);
        if (cpus < 1)
                cpus = 1;
        resource_format_fixed(per_s, load / (uint64_t) cpus, 3, 2);
        /* Compared undivided, so rounding never lets a load slip under the limit. */
        passed = load <= s->max_load * (uint64_t) cpus;
        return check_verdict(detail, passed, "load %s / %ld CPU%s = %s %s max %s (%s)", load_s, cpus,
                             cpus == 1 ? "" : "s", per_s, passed ? "<=" : ">", max_s, periods[s->period]);
}

const CheckKind check_kind_loadavg = {
        .name = "loadavg",
        .settings_size = sizeof(LoadavgSettings),
        .keys = loadavg_keys,
        .probe_now = loadavg_probe,
};
