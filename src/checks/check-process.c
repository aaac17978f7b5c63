/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <fcntl.h>

#include "check.h"
#include "resource.h"

/* [check.NAME] type=process: a service is alive, found through its pidfile, or by the name the
 * kernel knows it by (/proc/PID/comm, at most 15 characters). */
typedef struct ProcessSettings {
        char *pidfile;
        char *name;
        unsigned min_count;
        bool check_start_time;
} ProcessSettings;

static const ConfigKey process_keys[] = {
        { "pidfile",          &config_type_path,     offsetof(ProcessSettings, pidfile) },
        { "name",             &config_type_string,   offsetof(ProcessSettings, name) },
        { "min-count",        &config_type_unsigned, offsetof(ProcessSettings, min_count), "1", .min = 1 },
        { "check-start-time", &config_type_bool,     offsetof(ProcessSettings, check_start_time), "yes" },
        {}
};

/* TASK_COMM_LEN - 1: the kernel keeps no more of a process name. */
#define COMM_MAX 15

/* A process that started this much later than its pidfile was written is not the one the
 * pidfile was written for. Generous: it only has to absorb timestamp granularity and small
 * steps of the wall clock, while a pid is only ever reused after the pid space wrapped. */
#define START_SLACK (10 * USEC_PER_SEC)

typedef struct ProcStat {
        char comm[COMM_MAX + 1];
        char state;
        uint64_t starttime; /* clock ticks after boot */
} ProcStat;

/* Reads and parses the start of /proc/PID/stat, "PID (COMM) STATE ...", and with want_start
 * field 22, the start time. path is relative to dir_fd. Returns 0 or -errno. */
static int proc_stat_read(int dir_fd, const char *path, bool want_start, ProcStat *ret) {
        /* Up to the start time the fields fit in this even with every number at its widest. */
        char buf[640];
        const char *lparen, *rparen, *p;
        ssize_t n;
        size_t l;

        n = resource_read_file_at(dir_fd, path, buf, sizeof(buf), NULL);
        if (n < 0)
                return (int) n;

        /* The name may itself hold ')' or spaces: it ends at the last ')'. */
        lparen = strchr(buf, '(');
        rparen = strrchr(buf, ')');
        if (!lparen || !rparen || rparen < lparen || rparen[1] != ' ' || !rparen[2])
                return -EBADMSG;
        l = (size_t) (rparen - lparen - 1);
        if (l > COMM_MAX)
                l = COMM_MAX;
        memcpy(ret->comm, lparen + 1, l);
        ret->comm[l] = '\0';
        ret->state = rparen[2];
        if (!want_start)
                return 0;

        /* Fields 4 to 21 lie between the state and the start time. */
        p = rparen + 3;
        for (int field = 4; field <= 21; field++) {
                p += strspn(p, " ");
                p += strcspn(p, " ");
        }
        return resource_parse_u64(&p, &ret->starttime) < 0 ? -EBADMSG : 0;
}

static bool state_is_dead(char state) {
        /* Z: exited, not reaped by its parent; X: being removed. */
        return state == 'Z' || state == 'X' || state == 'x';
}

static bool process_probe_pidfile(const ProcessSettings *s, char *detail) {
        char buf[32], path[32], d[DURATION_MAX];
        usec_t mtime, boot, started;
        struct stat st;
        ProcStat ps;
        long tck;
        ssize_t n;
        int pid, r;

        n = resource_read_file(s->pidfile, buf, sizeof(buf), &st);
        if (n < 0)
                return check_verdict(detail, false, "%s: %s", s->pidfile, strerror((int) -n));
        /* "1234\n", as daemons write it. */
        while (n > 0 && isspace((unsigned char) buf[n - 1]))
                buf[--n] = '\0';
        if (parse_int(buf, &pid) < 0 || pid <= 0)
                return check_verdict(detail, false, "%s does not hold a pid", s->pidfile);

        snprintf(path, sizeof(path), "/proc/%d/stat", pid);
        r = proc_stat_read(AT_FDCWD, path, true, &ps);
        if (r == -ENOENT || r == -ESRCH)
                return check_verdict(detail, false, "pidfile names pid %d, not running", pid);
        if (r < 0)
                return check_verdict(detail, false, "%s: %s", path, strerror(-r));
        if (state_is_dead(ps.state))
                return check_verdict(detail, false, "pidfile names pid %d (%s), a zombie", pid, ps.comm);

        tck = sysconf(_SC_CLK_TCK);
        if (s->check_start_time && tck > 0) {
                /* The process's start time counts from boot; the pidfile's from the epoch.
                 * Pidfiles older than this boot (as the clock says now) are not compared: on
                 * devices without a real-time clock the time jumps forward when it is first set,
                 * long after early services wrote their pidfiles. */
                boot = now(CLOCK_REALTIME) - now(CLOCK_BOOTTIME);
                started = boot + ps.starttime * USEC_PER_SEC / (usec_t) tck;
                mtime = (usec_t) st.st_mtim.tv_sec * USEC_PER_SEC + (usec_t) st.st_mtim.tv_nsec / NSEC_PER_USEC;
                if (mtime >= boot && started > mtime + START_SLACK) {
                        format_duration(d, sizeof(d), (started - mtime) - (started - mtime) % USEC_PER_SEC);
                        return check_verdict(detail, false,
                                             "pid %d (%s) started %s after the pidfile was written: recycled pid",
                                             pid, ps.comm, d);
                }
        }
        return check_verdict(detail, true, "pid %d (%s) alive", pid, ps.comm);
}

static bool process_probe_name(const ProcessSettings *s, char *detail) {
        _cleanup_(closedirp) DIR *proc = opendir("/proc");
        unsigned count = 0, zombies = 0;
        int pid, first = 0;
        struct dirent *de;
        char path[32];
        ProcStat ps;

        if (!proc)
                return check_verdict(detail, false, "/proc: %s", strerror(errno));

        while ((de = readdir(proc))) {
                if (parse_int(de->d_name, &pid) < 0)
                        continue;
                snprintf(path, sizeof(path), "%d/stat", pid);
                /* A process that ended since readdir() simply does not count. */
                if (proc_stat_read(dirfd(proc), path, false, &ps) < 0 || !streq(ps.comm, s->name))
                        continue;
                if (state_is_dead(ps.state))
                        zombies++;
                else if (count++ == 0)
                        first = pid;
        }

        if (count >= s->min_count && count == 1)
                return check_verdict(detail, true, "pid %d (%s) alive", first, s->name);
        if (count >= s->min_count)
                return check_verdict(detail, true, "%u processes named '%s' alive (min %u)", count, s->name,
                                     s->min_count);
        if (count == 0)
                return check_verdict(detail, false, "no process named '%s'%s", s->name,
                                     zombies > 0 ? " (only zombies)" : "");
        return check_verdict(detail, false, "%u process%s named '%s' alive, min %u", count, count == 1 ? "" : "es",
                             s->name, s->min_count);
}

static bool process_probe(const void *settings, char *detail) {
        const ProcessSettings *s = settings;

        return s->pidfile ? process_probe_pidfile(s, detail) : process_probe_name(s, detail);
}

static void process_verify(const CheckConfig *c, ConfigErrors *errors) {
        const ProcessSettings *s = c->settings;

        if (!s->pidfile == !s->name)
                config_errors_add(errors, c->file, c->line, "[check.%s] needs exactly one of pidfile= and name=%s",
                                  c->name, s->pidfile ? ", not both" : "");
        if (s->name && strlen(s->name) > COMM_MAX)
                config_errors_add(errors, c->file, c->line,
                                  "name= '%s' in [check.%s] is longer than %d characters and can never match: "
                                  "the kernel keeps only '%.*s'", s->name, c->name, COMM_MAX, COMM_MAX, s->name);
        if (s->pidfile && s->min_count != 1)
                config_errors_add(errors, c->file, c->line, "min-count= in [check.%s] applies only with name=", c->name);
        if (s->name && !s->check_start_time)
                config_errors_add(errors, c->file, c->line, "check-start-time= in [check.%s] applies only with pidfile=",
                                  c->name);
}

const CheckKind check_kind_process = {
        .name = "process",
        .settings_size = sizeof(ProcessSettings),
        .keys = process_keys,
        .verify = process_verify,
        .probe_now = process_probe,
};
