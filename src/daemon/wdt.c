/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <linux/watchdog.h>
#include <sys/ioctl.h>

#include "wdt.h"

/* Drivers say "not supported" in several ways: ENOTTY from the ioctl layer, EOPNOTSUPP or
 * EINVAL from the driver itself. */
static bool errno_is_unsupported(int e) {
        return e == ENOTTY || e == EOPNOTSUPP || e == EINVAL || e == ENOSYS;
}

static int wdt_ioctl(Watchdog *w, unsigned long request, void *arg, unsigned flag) {
        if (ioctl(w->fd, request, arg) >= 0)
                return 0;
        if (errno_is_unsupported(errno)) {
                w->unsupported |= flag;
                return -EOPNOTSUPP;
        }
        return -errno;
}

static usec_t seconds_to_usec(int s) {
        return (usec_t) s * USEC_PER_SEC;
}

/* The watchdog API speaks whole seconds; round up so the device never fires earlier than asked. */
static int usec_to_seconds(usec_t u) {
        usec_t s = (u + USEC_PER_SEC - 1) / USEC_PER_SEC;
        return s > INT32_MAX ? INT32_MAX : (int) s;
}

int wdt_set_timeout(Watchdog *w, usec_t timeout) {
        int seconds = usec_to_seconds(timeout), r;

        w->unsupported &= ~(unsigned) (WDT_NO_SETTIMEOUT | WDT_NO_GETTIMEOUT);
        r = wdt_ioctl(w, WDIOC_SETTIMEOUT, &seconds, WDT_NO_SETTIMEOUT);
        if (r < 0 && r != -EOPNOTSUPP)
                return r;
        /* Drivers round to what the hardware can do and say so in the argument; read it back
         * anyway, as some only report through GETTIMEOUT. */
        if (wdt_ioctl(w, WDIOC_GETTIMEOUT, &seconds, WDT_NO_GETTIMEOUT) == 0 && seconds > 0)
                w->timeout = seconds_to_usec(seconds);
        else
                w->timeout = timeout;
        return r;
}

static int wdt_open_one(const char *path, int *ret_fd) {
        /* Opening arms the device: from here on it must be pinged. */
        int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);

        if (fd < 0)
                return -errno;
        *ret_fd = fd;
        return 0;
}

int wdt_open(const char *path, usec_t timeout, usec_t pretimeout, Watchdog **ret, char **ret_path) {
        struct watchdog_info info = {};
        Watchdog *w;
        int fd = -1, r, v;

        r = wdt_open_one(path, &fd);
        if (r == -ENOENT && streq(path, WATCHDOG_DEVICE_DEFAULT)) {
                path = WATCHDOG_DEVICE_FALLBACK;
                r = wdt_open_one(path, &fd);
        }
        if (ret_path)
                *ret_path = strdup(path);
        if (r < 0)
                return r;

        w = calloc(1, sizeof(Watchdog));
        if (!w || !(w->path = strdup(path))) {
                free(w);
                close(fd);
                return -ENOMEM;
        }
        w->fd = fd;

        r = wdt_set_timeout(w, timeout);
        if (r < 0 && r != -EOPNOTSUPP)
                goto fail;

        if (pretimeout > 0) {
                v = usec_to_seconds(pretimeout);
                r = wdt_ioctl(w, WDIOC_SETPRETIMEOUT, &v, WDT_NO_PRETIMEOUT);
                if (r < 0 && r != -EOPNOTSUPP)
                        goto fail;
                if (wdt_ioctl(w, WDIOC_GETPRETIMEOUT, &v, WDT_NO_PRETIMEOUT) == 0)
                        w->pretimeout = seconds_to_usec(v);
        }

        if (wdt_ioctl(w, WDIOC_GETSUPPORT, &info, WDT_NO_IDENTITY) == 0) {
                memcpy(w->identity, info.identity, sizeof(info.identity));
                w->identity[sizeof(info.identity)] = '\0';
                w->firmware_version = info.firmware_version;
                w->options = info.options;
        }
        if (wdt_ioctl(w, WDIOC_GETBOOTSTATUS, &v, WDT_NO_BOOTSTATUS) == 0)
                w->bootstatus = v;

        r = wdt_ping(w);
        if (r < 0)
                goto fail;

        *ret = w;
        return 0;

fail:
        wdt_free(w);
        return r;
}

int wdt_ping(Watchdog *w) {
        if (!(w->unsupported & WDT_NO_KEEPALIVE)) {
                int dummy = 0, r = wdt_ioctl(w, WDIOC_KEEPALIVE, &dummy, WDT_NO_KEEPALIVE);
                if (r != -EOPNOTSUPP)
                        return r;
        }
        /* Any write is a keepalive for the watchdog core; '1' is not the magic 'V'. */
        if (write(w->fd, "1", 1) != 1)
                return errno ? -errno : -EIO;
        return 0;
}

int wdt_disarm(Watchdog *w) {
        int flags = WDIOS_DISABLECARD, r;

        r = wdt_ioctl(w, WDIOC_SETOPTIONS, &flags, WDT_NO_DISABLE);
        /* The magic close: drivers without nowayout stop on close only after a 'V'. */
        if (write(w->fd, "V", 1) != 1 && (r == 0 || r == -EOPNOTSUPP))
                r = -errno;
        else if (r == -EOPNOTSUPP)
                r = 0;
        if (close(w->fd) < 0 && r >= 0)
                r = -errno;
        w->fd = -1;
        wdt_free(w);
        return r;
}

Watchdog *wdt_free(Watchdog *w) {
        if (!w)
                return NULL;
        if (w->fd >= 0)
                close(w->fd);
        free(w->path);
        free(w);
        return NULL;
}
