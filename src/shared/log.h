/* SPDX-License-Identifier: MIT */
#pragma once

#include <syslog.h>

#include "util.h"

/* One extra journal field; arrays of them end with { NULL, NULL }. */
typedef struct LogField {
        const char *key;
        const char *value;
} LogField;

#define LOG_FIELDS(...) ((const LogField[]) { __VA_ARGS__, { NULL, NULL } })

/* Picks the target once: the journal when stderr is connected to it (JOURNAL_STREAM),
 * otherwise stderr with "<N>" priority prefixes. HEALTHDOG_LOG_LEVEL=debug|info|notice|warning|err
 * sets the threshold. */
void log_setup(void);

/* Logs a message; when error != 0, %m in format expands to strerror(|error|).
 * Returns -|error| so that callers can write "return log_error_errno(r, ...)". */
int log_internal(int level, int error, const LogField *fields, const char *format, ...) _printf_(4, 5);

#define log_full_errno(level, error, ...) log_internal(level, error, NULL, __VA_ARGS__)
#define log_debug(...) log_internal(LOG_DEBUG, 0, NULL, __VA_ARGS__)
#define log_info(...) log_internal(LOG_INFO, 0, NULL, __VA_ARGS__)
#define log_notice(...) log_internal(LOG_NOTICE, 0, NULL, __VA_ARGS__)
#define log_warning(...) log_internal(LOG_WARNING, 0, NULL, __VA_ARGS__)
#define log_error(...) log_internal(LOG_ERR, 0, NULL, __VA_ARGS__)
#define log_warning_errno(error, ...) log_internal(LOG_WARNING, error, NULL, __VA_ARGS__)
#define log_error_errno(error, ...) log_internal(LOG_ERR, error, NULL, __VA_ARGS__)
/* A message with structured fields for the journal (ignored on stderr). */
#define log_struct(level, fields, ...) log_internal(level, 0, fields, __VA_ARGS__)

/* Journal MESSAGE_IDs of the events that matter, so they can be found with journalctl MESSAGE_ID=. */
#define MESSAGE_CHECK_FAILING   "2f0a7a1c9a4e4d0b8f3a51a3c6e0d101"
#define MESSAGE_CHECK_HEALTHY   "2f0a7a1c9a4e4d0b8f3a51a3c6e0d102"
#define MESSAGE_WATCHDOG_STARVE "2f0a7a1c9a4e4d0b8f3a51a3c6e0d103"
#define MESSAGE_WATCHDOG_ARMED  "2f0a7a1c9a4e4d0b8f3a51a3c6e0d104"
#define MESSAGE_CHECK_REPAIR    "2f0a7a1c9a4e4d0b8f3a51a3c6e0d105"
#define MESSAGE_BOOT_PHASE      "2f0a7a1c9a4e4d0b8f3a51a3c6e0d106"
#define MESSAGE_BOOT_CONFIRMED  "2f0a7a1c9a4e4d0b8f3a51a3c6e0d107"
#define MESSAGE_BOOT_ROLLED_BACK "2f0a7a1c9a4e4d0b8f3a51a3c6e0d108"
#define MESSAGE_BOOT_ENV_UNUSABLE "2f0a7a1c9a4e4d0b8f3a51a3c6e0d109"
#define MESSAGE_DEGRADED        "2f0a7a1c9a4e4d0b8f3a51a3c6e0d10a"
#define MESSAGE_HOLD            "2f0a7a1c9a4e4d0b8f3a51a3c6e0d10b"
#define MESSAGE_CONFIG_INVALID  "2f0a7a1c9a4e4d0b8f3a51a3c6e0d10c"
