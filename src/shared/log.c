/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include "log.h"

static int max_level = LOG_INFO;
static bool to_journal;

static const char *const level_names[] = {
        [LOG_EMERG] = "emerg", [LOG_ALERT] = "alert", [LOG_CRIT] = "crit", [LOG_ERR] = "err",
        [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice", [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

static bool stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return st.st_dev == dev && st.st_ino == ino;
}

void log_setup(void) {
        const char *e = getenv("HEALTHDOG_LOG_LEVEL");

        to_journal = stderr_is_journal();
        for (int i = 0; e && i < (int) ELEMENTSOF(level_names); i++)
                if (streq(e, level_names[i]))
                        max_level = i;
}

static void log_to_journal(int level, const LogField *fields, const char *message) {
        struct iovec iov[16];
        char *strings[ELEMENTSOF(iov)] = {};
        size_t n = 0;

        if (asprintf(&strings[n++], "MESSAGE=%s", message) < 0 ||
            asprintf(&strings[n++], "PRIORITY=%i", level) < 0 ||
            !(strings[n++] = strdup("SYSLOG_IDENTIFIER=healthdog")))
                goto finish;
        for (const LogField *f = fields; f && f->key && n < ELEMENTSOF(iov); f++)
                if (asprintf(&strings[n++], "%s=%s", f->key, strempty(f->value)) < 0)
                        goto finish;

        for (size_t i = 0; i < n; i++)
                iov[i] = (struct iovec) { .iov_base = strings[i], .iov_len = strlen(strings[i]) };
        (void) sd_journal_sendv(iov, (int) n);

finish:
        for (size_t i = 0; i < n; i++)
                free(strings[i]);
}

int log_internal(int level, int error, const LogField *fields, const char *format, ...) {
        char message[2048];
        int saved = errno;
        va_list ap;

        if (error < 0)
                error = -error;
        if (level > max_level)
                goto finish;

        /* %m expands to the error passed in, not to whatever errno happens to hold. */
        errno = error;
        va_start(ap, format);
        vsnprintf(message, sizeof(message), format, ap);
        va_end(ap);

        if (to_journal)
                log_to_journal(level, fields, message);
        else
                fprintf(stderr, "<%i>%s\n", level, message);

finish:
        errno = saved;
        return -error;
}
