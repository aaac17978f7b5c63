/* SPDX-License-Identifier: MIT */
#include <sys/stat.h>

#include "check.h"

/* [check.NAME] type=file: a file exists and, with max-age, was modified recently: the classic
 * application heartbeat ("touch /run/app/alive" from the main loop). */
typedef struct FileSettings {
        char *path;
        usec_t max_age; /* 0 = only existence counts */
} FileSettings;

static const ConfigKey file_keys[] = {
        { "path",    &config_type_path,     offsetof(FileSettings, path), .required = true },
        { "max-age", &config_type_duration, offsetof(FileSettings, max_age), "0" },
        {}
};

static bool file_probe(const void *settings, char *detail) {
        const FileSettings *s = settings;
        char age_buf[DURATION_MAX], max_buf[DURATION_MAX];
        struct stat st;
        usec_t mtime, t, age;

        if (stat(s->path, &st) < 0)
                return check_verdict(detail, false, "%s: %s", s->path, strerror(errno));
        if (s->max_age == 0)
                return check_verdict(detail, true, "%s exists", s->path);

        mtime = (usec_t) st.st_mtim.tv_sec * USEC_PER_SEC + (usec_t) st.st_mtim.tv_nsec / NSEC_PER_USEC;
        t = now(CLOCK_REALTIME);
        /* A timestamp in the future (the clock was set back) counts as fresh, not as stale. */
        age = t > mtime ? t - mtime : 0;
        /* Whole milliseconds are enough for a message and keep it short. */
        format_duration(age_buf, sizeof(age_buf), age - age % USEC_PER_MSEC);
        format_duration(max_buf, sizeof(max_buf), s->max_age);
        if (age > s->max_age)
                return check_verdict(detail, false, "%s is stale: modified %s ago (max-age %s)", s->path, age_buf,
                                     max_buf);
        return check_verdict(detail, true, "%s modified %s ago", s->path, age_buf);
}

const CheckKind check_kind_file = {
        .name = "file",
        .settings_size = sizeof(FileSettings),
        .keys = file_keys,
        .probe_now = file_probe,
};
