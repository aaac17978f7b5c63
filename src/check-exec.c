/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/wait.h>

#include "check.h"

/* [check.NAME] type=exec: run a program (no shell), optionally as another user, in its own
 * process group; it passes when it exits with one of the expected codes in time. */
typedef struct ExecSettings {
        char **command;
        UserId user;
        IntList expect_exit;
} ExecSettings;

static const ConfigKey exec_keys[] = {
        { "command",     &config_type_command,  offsetof(ExecSettings, command), .required = true },
        { "user",        &config_type_user,     offsetof(ExecSettings, user) },
        { "expect-exit", &config_type_int_list, offsetof(ExecSettings, expect_exit), "0", .min = 0, .max = 255 },
        {}
};

/* How much of the probe's output is kept for the log and status. */
#define EXEC_OUTPUT_MAX 200

extern char **environ;

typedef struct ExecProbe {
        Check *check;               /* NULL once the check abandoned the probe */
        pid_t pid;
        int fd;                     /* read end of the probe's stdout+stderr */
        sd_event_source *output;
        sd_event_source *child;     /* floating: the event loop owns it; it owns the probe */
        size_t len;
        char buf[EXEC_OUTPUT_MAX];
} ExecProbe;

static void exec_probe_close_output(ExecProbe *p) {
        p->output = sd_event_source_disable_unref(p->output);
        if (p->fd >= 0)
                p->fd = (close(p->fd), -1);
}

static void exec_probe_destroy(void *userdata) {
        ExecProbe *p = userdata;

        exec_probe_close_output(p);
        free(p);
}

static void exec_probe_read(ExecProbe *p) {
        char scratch[512];

        for (;;) {
                /* Keep the first bytes, then drain and drop the rest so the probe never blocks
                 * on a full pipe. */
                bool keep = p->len < sizeof(p->buf);
                ssize_t k = keep ? read(p->fd, p->buf + p->len, sizeof(p->buf) - p->len)
                                 : read(p->fd, scratch, sizeof(scratch));
                if (k > 0) {
                        if (keep)
                                p->len += (size_t) k;
                        continue;
                }
                if (k == 0 || (errno != EINTR && errno != EAGAIN))
                        exec_probe_close_output(p); /* EOF or a broken pipe: nothing more to read */
                if (k < 0 && errno == EINTR)
                        continue;
                return;
        }
}

static int on_output(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        exec_probe_read(userdata);
        return 0;
}

static void exec_report(ExecProbe *p, const siginfo_t *si) {
        const ExecSettings *s = check_settings(p->check);
        char out[EXEC_OUTPUT_MAX + 8];
        const char *sep;

        sanitize_line(out, sizeof(out), p->buf, p->len);
        sep = out[0] ? ": " : "";

        if (si->si_code == CLD_EXITED) {
                for (size_t i = 0; i < s->expect_exit.n; i++)
                        if (si->si_status == s->expect_exit.values[i]) {
                                check_done(p->check, true, "exit %d%s%s", si->si_status, sep, out);
                                return;
                        }
                check_done(p->check, false, "exit %d%s%s", si->si_status, sep, out);
        } else
                check_done(p->check, false, "killed by signal %s%s%s",
                           sigabbrev_np(si->si_status) ?: "?", sep, out);
}

static int on_child(sd_event_source *s, const siginfo_t *si, void *userdata) {
        ExecProbe *p = userdata;

        if (p->fd >= 0)
                exec_probe_read(p);
        /* Whatever the probe left behind in its group goes with it. The group id cannot have been
         * reused: Linux does not hand out a pid that is still some group's id. */
        (void) kill(-p->pid, SIGKILL);

        if (p->check)
                exec_report(p, si);

        /* Frees the floating source, and with it the probe (destroy callback). */
        sd_event_source_unref(s);
        return 0;
}

_noreturn_ static void exec_child(const ExecSettings *s, char **env, int out_fd) {
        sigset_t all;
        int null_fd;

        /* Undo what the daemon changed for itself: blocked signals (sd-event), ignored SIGPIPE. */
        sigemptyset(&all);
        (void) sigprocmask(SIG_SETMASK, &all, NULL);
        (void) signal(SIGPIPE, SIG_DFL);

        /* Its own session and process group, so a timeout kills everything it started. */
        (void) setsid();

        null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0 ||
            dup2(out_fd, STDERR_FILENO) < 0)
                _exit(126);
        (void) close_range(3, ~0U, 0);

        if (s->user.name &&
            (initgroups(s->user.name, s->user.gid) < 0 || setresgid(s->user.gid, s->user.gid, s->user.gid) < 0 ||
             setresuid(s->user.uid, s->user.uid, s->user.uid) < 0)) {
                dprintf(STDERR_FILENO, "cannot switch to user %s: %m\n", s->user.name);
                _exit(126);
        }

        environ = env;
        execvp(s->command[0], s->command);
        dprintf(STDERR_FILENO, "cannot execute %s: %m\n", s->command[0]);
        _exit(127);
}

static int exec_start(Check *c) {
        const ExecSettings *s = check_settings(c);
        _cleanup_(strv_freep) char **env = NULL;
        _cleanup_(freep) char *name_var = NULL;
        _cleanup_(closep) int out_r = -1, out_w = -1;
        ExecProbe *p;
        int pipefd[2], r;
        pid_t pid;

        /* A small, fixed environment: probes behave the same by hand and under the daemon. */
        if (asprintf(&name_var, "HEALTHDOG_CHECK=%s", c->config->name) < 0)
                return -ENOMEM;
        if (strv_extend(&env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin") < 0 ||
            strv_extend(&env, "LANG=C.UTF-8") < 0 || strv_consume(&env, TAKE_PTR(name_var)) < 0)
                return -ENOMEM;

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        out_r = pipefd[0];
        out_w = pipefd[1];
        if (fcntl(out_r, F_SETFL, O_NONBLOCK) < 0)
                return -errno;

        p = calloc(1, sizeof(ExecProbe));
        if (!p)
                return -ENOMEM;
        p->fd = -1;

        pid = fork();
        if (pid < 0) {
                free(p);
                return -errno;
        }
        if (pid == 0)
                exec_child(s, env, out_w);

        p->pid = pid;
        p->check = c;
        p->fd = TAKE_FD(out_r);

        r = sd_event_add_child(c->event, &p->child, pid, WEXITED, on_child, p);
        if (r < 0) {
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                exec_probe_destroy(p);
                return r;
        }
        /* From here on the child source owns the probe: it stays until the process is reaped,
         * even when the check abandons the probe or is freed. */
        (void) sd_event_source_set_destroy_callback(p->child, exec_probe_destroy);
        (void) sd_event_source_set_floating(p->child, true);
        sd_event_source_unref(p->child);

        r = sd_event_add_io(c->event, &p->output, p->fd, EPOLLIN, on_output, p);
        if (r < 0)
                exec_probe_close_output(p); /* the verdict does not depend on the output */

        c->probe = p;
        return 0;
}

static void exec_cancel(Check *c) {
        ExecProbe *p = c->probe;

        if (!p)
                return;
        /* Right after fork() the child may not have called setsid() yet: then there is no group
         * to kill (ESRCH) and it would go on to exec the probe unsupervised. Killing the pid too
         * covers that window; the pid stays ours until the child source reaps it. */
        (void) kill(-p->pid, SIGKILL);
        (void) kill(p->pid, SIGKILL);
        exec_probe_close_output(p);
        p->check = NULL;
}

const CheckKind check_kind_exec = {
        .name = "exec",
        .settings_size = sizeof(ExecSettings),
        .keys = exec_keys,
        .start = exec_start,
        .cancel = exec_cancel,
};
