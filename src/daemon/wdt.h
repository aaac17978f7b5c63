/* SPDX-License-Identifier: MIT */
#pragma once

#include "util.h"

#define WATCHDOG_DEVICE_DEFAULT "/dev/watchdog0"
#define WATCHDOG_DEVICE_FALLBACK "/dev/watchdog"

/* Features the device or its driver lacks; each is worth a warning, none is fatal. */
enum {
        WDT_NO_IDENTITY    = 1 << 0,  /* WDIOC_GETSUPPORT */
        WDT_NO_SETTIMEOUT  = 1 << 1,
        WDT_NO_GETTIMEOUT  = 1 << 2,
        WDT_NO_PRETIMEOUT  = 1 << 3,
        WDT_NO_BOOTSTATUS  = 1 << 4,
        WDT_NO_KEEPALIVE   = 1 << 5,  /* pings are plain writes */
        WDT_NO_DISABLE     = 1 << 6,  /* WDIOS_DISABLECARD; the magic close still applies */
};

typedef struct Watchdog {
        int fd;
        char *path;
        char identity[33];
        unsigned firmware_version;
        unsigned options;        /* WDIOF_* the driver supports */
        int bootstatus;          /* WDIOF_* flags of the last reset, when known */
        usec_t timeout;          /* as the device reports it, or as requested when it cannot tell */
        usec_t pretimeout;
        unsigned unsupported;    /* WDT_NO_* */
} Watchdog;

/* Opens and arms the watchdog at path (with path == WATCHDOG_DEVICE_DEFAULT falling back to
 * WATCHDOG_DEVICE_FALLBACK when it does not exist), programs timeout and pretimeout (0 = leave
 * alone) and reads back what the device took, its identity and boot status. Pings once.
 * Returns 0 with a new Watchdog, or -errno (on failure *ret_path names the device tried, allocated).
 * Operations the driver does not support are noted in unsupported, not failed. */
int wdt_open(const char *path, usec_t timeout, usec_t pretimeout, Watchdog **ret, char **ret_path);

/* Reprograms the timeout (for a reload). Returns 0 or -errno; -EOPNOTSUPP when not supported. */
int wdt_set_timeout(Watchdog *w, usec_t timeout);

/* One keepalive. Returns 0 or -errno. */
int wdt_ping(Watchdog *w);

/* The deliberate, allowed disarm: stops the device and closes it with the magic 'V'.
 * Frees w. Returns 0 or -errno (the device may still be armed then). */
int wdt_disarm(Watchdog *w);

/* Closes without the magic close: the device stays armed and fires unless someone else pings.
 * Accepts NULL; returns NULL. */
Watchdog *wdt_free(Watchdog *w);

/* True when the boot status says the last reset was the watchdog's. */
static inline bool wdt_caused_last_reset(const Watchdog *w) {
        return !(w->unsupported & WDT_NO_BOOTSTATUS) && (w->bootstatus & 0x0020 /* WDIOF_CARDRESET */);
}
