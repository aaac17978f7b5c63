/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "spawn.h"

struct Spawn {
        spawn_handler_t on_exit;    /* NULL once abandoned */
        void *userdata;
        pid_t pid;
        int fd;                     /* read end of the program's stdout+stderr, -1 with stdio_fd */
        sd_event_source *output;
        sd_event_source *child;     /* floating: the event loop owns it; it owns the Spawn */
        size_t len;
        char buf[SPAWN_OUTPUT_MAX];
};

static void spawn_close_output(Spawn *s) {
        s->output = sd_event_source_disable_unref(s->output);
        if (s->fd >= 0)
                s->fd = (close(s->fd), -1);
}

static void spawn_destroy(void *userdata) {
        Spawn *s = userdata;

        spawn_close_output(s);
        free(s);
}

static void spawn_read(Spawn *s) {
        char scratch[512];

        for (;;) {
                /* Keep the first bytes, then drain and drop the rest so the program never blocks
                 * on a full pipe. */
                bool keep = s->len < sizeof(s->buf);
                ssize_t k = keep ? read(s->fd, s->buf + s->len, sizeof(s->buf) - s->len)
                                 : read(s->fd, scratch, sizeof(scratch));
                if (k > 0) {
                        if (keep)
                                s->len += (size_t) k;
                        continue;
                }
                if (k < 0 && errno == EINTR)
                        continue;
                if (k == 0 || errno != EAGAIN)
                        spawn_close_output(s); /* EOF or a broken pipe: nothing more to read */
                return;
        }
}

static int on_output(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        spawn_read(userdata);
        return 0;
}

static int on_child(sd_event_source *source, const siginfo_t *si, void *userdata) {
        Spawn *s = userdata;

        if (s->fd >= 0)
                spawn_read(s);
        /* Whatever the program left behind in its group goes with it. The group id cannot have
         * been reused: Linux does not hand out a pid that is still some group's id. */
        (void) kill(-s->pid, SIGKILL);

        if (s->on_exit)
                s->on_exit(si, s->buf, s->len, s->userdata);

        /* Frees the floating source, and with it the Spawn (destroy callback). */
        sd_event_source_unref(source);
        return 0;
}

/* systemd's DefaultLimitMEMLOCK. */
#define SPAWN_MEMLOCK_MAX (8ULL * 1024 * 1024)

static void spawn_lower_limit(int resource, rlim_t max) {
        struct rlimit l;

        if (getrlimit(resource, &l) < 0)
                return;
        if (l.rlim_max > max)
                l.rlim_max = max;
        if (l.rlim_cur > l.rlim_max)
                l.rlim_cur = l.rlim_max;
        (void) setrlimit(resource, &l);
}

void spawn_reset_scheduling(void) {
        int policy = sched_getscheduler(0);

        if (policy < 0)
                return;
        policy &= ~SCHED_RESET_ON_FORK;
        if (policy == SCHED_FIFO || policy == SCHED_RR)
                (void) sched_setscheduler(0, SCHED_OTHER, &(struct sched_param) { .sched_priority = 0 });
}

/* What the child needs, all made by the parent: between vfork() and exec the child shares the
 * daemon's memory, so it only makes system calls (no allocation, no NSS, no change to a global
 * such as environ) and never returns. */
typedef struct SpawnChild {
        const SpawnOptions *o;
        char **env;
        const gid_t *groups;    /* the user's supplementary groups, with o->user */
        int n_groups;
        int out_fd;
} SpawnChild;

_noreturn_ static void spawn_child(const SpawnChild *c) {
        const SpawnOptions *o = c->o;
        sigset_t none;
        int null_fd;

        /* Undo what the daemon changed for itself: ignored SIGPIPE, blocked signals (sd-event).
         * Dispositions first: once unblocked, a signal must not find a handler of the daemon's
         * (it has none but SIG_IGN, and this stays true while it runs in the daemon's memory). */
        (void) signal(SIGPIPE, SIG_DFL);

        /* Its own session and process group, so a timeout kills everything it started. */
        (void) setsid();
        /* Neither healthdog's realtime scheduling nor the limits that allow it (LimitRTPRIO=,
         * LimitMEMLOCK= in its unit) are the program's: it gets SCHED_OTHER (also when the unit
         * lacks CPUSchedulingResetOnFork=) and, at most, the usual locked-memory limit. */
        spawn_reset_scheduling();
        spawn_lower_limit(RLIMIT_RTPRIO, 0);
        spawn_lower_limit(RLIMIT_MEMLOCK, SPAWN_MEMLOCK_MAX);

        null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null_fd < 0)
                _exit(126);
        if (o->stdio_fd > 0) {
                if (dup2(o->stdio_fd, STDIN_FILENO) < 0 || dup2(o->stdio_fd, STDOUT_FILENO) < 0 ||
                    dup2(null_fd, STDERR_FILENO) < 0)
                        _exit(126);
        } else if (dup2(null_fd, STDIN_FILENO) < 0 || dup2(c->out_fd, STDOUT_FILENO) < 0 ||
                   dup2(c->out_fd, STDERR_FILENO) < 0)
                _exit(126);
        (void) close_range(3, ~0U, 0);

        if (o->user && o->user->name &&
            (setgroups((size_t) c->n_groups, c->groups) < 0 ||
             setresgid(o->user->gid, o->user->gid, o->user->gid) < 0 ||
             setresuid(o->user->uid, o->user->uid, o->user->uid) < 0)) {
                dprintf(STDERR_FILENO, "cannot switch to user %s: %m\n", o->user->name);
                _exit(126);
        }

        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
        execvpe(o->argv[0], o->argv, c->env);
        dprintf(STDERR_FILENO, "cannot execute %s: %m\n", o->argv[0]);
        _exit(127);
}

/* vfork(), not fork(): the daemon is not copied (its page tables, then a copy-on-write fault for
 * every page it writes until the child execs), which was most of its CPU time with an exec check
 * every second. The daemon waits the few hundred microseconds until the child execs or exits.
 * Not inlined: the child runs on this frame's stack below its caller's, and must never return. */
_noinline_ static pid_t spawn_vfork(const SpawnChild *c) {
        pid_t pid = vfork();

        if (pid == 0)
                spawn_child(c);
        return pid;
}

/* The user's supplementary groups, as initgroups() would set them, looked up here in the daemon:
 * the child may not (NSS allocates, and may load modules). */
static int spawn_user_groups(const UserId *user, gid_t **ret, int *ret_n) {
        int n = 16;

        for (;;) {
                gid_t *groups = calloc((size_t) n, sizeof(gid_t));
                int want = n;

                if (!groups)
                        return -ENOMEM;
                if (getgrouplist(user->name, user->gid, groups, &want) >= 0) {
                        *ret = groups;
                        *ret_n = want;
                        return 0;
                }
                free(groups);
                if (want <= n)
                        return -ENOENT;
                n = want;
        }
}

int spawn_start(sd_event *event, const SpawnOptions *o, spawn_handler_t on_exit, void *userdata, Spawn **ret) {
        _cleanup_(strv_freep) char **env = NULL;
        _cleanup_(closep) int out_r = -1, out_w = -1;
        _cleanup_(freep) gid_t *groups = NULL;
        int pipefd[2], n_groups = 0, r;
        Spawn *s;
        pid_t pid;

        /* A small, fixed environment: programs behave the same by hand and under the daemon. */
        if (strv_extend(&env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin") < 0 ||
            strv_extend(&env, "LANG=C.UTF-8") < 0)
                return -ENOMEM;
        for (char *const *e = o->env; e && *e; e++)
                if (strv_extend(&env, *e) < 0)
                        return -ENOMEM;

        if (o->stdio_fd < 0 || (o->stdio_fd > 0 && o->stdio_fd <= STDERR_FILENO))
                return -EBADF;
        if (o->stdio_fd == 0) {
                if (pipe2(pipefd, O_CLOEXEC) < 0)
                        return -errno;
                out_r = pipefd[0];
                out_w = pipefd[1];
                if (fcntl(out_r, F_SETFL, O_NONBLOCK) < 0)
                        return -errno;
        }

        if (o->user && o->user->name) {
                r = spawn_user_groups(o->user, &groups, &n_groups);
                if (r < 0)
                        return r;
        }

        s = calloc(1, sizeof(Spawn));
        if (!s)
                return -ENOMEM;
        s->fd = -1;

        pid = spawn_vfork(&(SpawnChild) { o, env, groups, n_groups, out_w });
        if (pid < 0) {
                free(s);
                return -errno;
        }

        s->pid = pid;
        s->on_exit = on_exit;
        s->userdata = userdata;
        s->fd = TAKE_FD(out_r);

        r = sd_event_add_child(event, &s->child, pid, WEXITED, on_child, s);
        if (r < 0) {
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                spawn_destroy(s);
                return r;
        }
        /* From here on the child source owns the Spawn: it stays until the process is reaped,
         * even when its owner abandons it or is freed. */
        (void) sd_event_source_set_destroy_callback(s->child, spawn_destroy);
        (void) sd_event_source_set_floating(s->child, true);
        sd_event_source_unref(s->child);

        if (s->fd >= 0) {
                r = sd_event_add_io(event, &s->output, s->fd, EPOLLIN, on_output, s);
                if (r < 0)
                        spawn_close_output(s); /* the verdict does not depend on the output */
        }

        *ret = s;
        return 0;
}

void spawn_abandon(Spawn *s) {
        if (!s)
                return;
        /* Right after fork() the child may not have called setsid() yet: then there is no group
         * to kill (ESRCH) and it would go on to exec unsupervised. Killing the pid too covers that
         * window; the pid stays ours until the child source reaps it. */
        (void) kill(-s->pid, SIGKILL);
        (void) kill(s->pid, SIGKILL);
        spawn_close_output(s);
        s->on_exit = NULL;
}

void spawn_describe_exit(const siginfo_t *si, char *buf, size_t size) {
        if (si->si_code == CLD_EXITED)
                snprintf(buf, size, "exit %d", si->si_status);
        else
                snprintf(buf, size, "killed by signal %s", sigabbrev_np(si->si_status) ?: "?");
}
