/* SPDX-License-Identifier: MIT */
#include "check.h"
#include "spawn.h"

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

/* How much of the probe's output goes into the detail. */
#define EXEC_OUTPUT_MAX 200

static void on_exit_probe(const siginfo_t *si, const char *output, size_t len, void *userdata) {
        Check *c = userdata;
        const ExecSettings *s = check_settings(c);
        char out[EXEC_OUTPUT_MAX + 8], how[64];
        bool passed = false;

        c->probe = NULL; /* the Spawn is freed once this returns: nothing to abandon */
        sanitize_line(out, sizeof(out), output, len < EXEC_OUTPUT_MAX ? len : EXEC_OUTPUT_MAX);
        spawn_describe_exit(si, how, sizeof(how));
        for (size_t i = 0; si->si_code == CLD_EXITED && i < s->expect_exit.n; i++)
                passed = passed || si->si_status == s->expect_exit.values[i];
        check_done(c, passed, "%s%s%s", how, out[0] ? ": " : "", out);
}

static int exec_start(Check *c) {
        const ExecSettings *s = check_settings(c);
        _cleanup_(freep) char *name = NULL;
        Spawn *spawn = NULL;
        int r;

        if (asprintf(&name, "HEALTHDOG_CHECK=%s", c->config->name) < 0)
                return -ENOMEM;
        r = spawn_start(c->event,
                        &(SpawnOptions) { .argv = s->command, .user = &s->user, .env = (char *[]) { name, NULL } },
                        on_exit_probe, c, &spawn);
        c->probe = spawn;
        return r;
}

static void exec_probe_free(void *probe) {
        spawn_abandon(probe);
}

const CheckKind check_kind_exec = {
        .name = "exec",
        .settings_size = sizeof(ExecSettings),
        .keys = exec_keys,
        .start = exec_start,
        .probe_free = exec_probe_free,
};
