/* SPDX-License-Identifier: MIT */
/* A private directory per unit test program, removed again afterwards: cmocka group setup and
 * teardown (the directory is *state), and rm_rf(). Included by the tests, never by the daemon. */
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mount.h>

#include "util.h"

/* Removes path and everything below it, also what a test left immutable or mounted over. */
static inline int rm_rf(const char *path) {
        _cleanup_(closedirp) DIR *d = opendir(path);
        struct dirent *de;

        if (!d) {
                _cleanup_(closep) int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
                int attr = 0;

                (void) umount2(path, MNT_DETACH);
                if (fd >= 0 && ioctl(fd, FS_IOC_GETFLAGS, &attr) >= 0 && (attr & FS_IMMUTABLE_FL)) {
                        attr &= ~FS_IMMUTABLE_FL;
                        (void) ioctl(fd, FS_IOC_SETFLAGS, &attr);
                }
                return unlink(path);
        }
        while ((de = readdir(d))) {
                _cleanup_(freep) char *p = NULL;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (asprintf(&p, "%s/%s", path, de->d_name) < 0)
                        return -1;
                (void) rm_rf(p);
        }
        return rmdir(path);
}

/* A new directory PROGRAM.XXXXXX in $TEST_TMPDIR (the runner's) or /tmp; *state owns its path. */
static inline int setup_tmpdir(void **state) {
        const char *base = getenv("TEST_TMPDIR");
        char *dir;

        if (asprintf(&dir, "%s/%s.XXXXXX", base && *base ? base : "/tmp", program_invocation_short_name) < 0)
                return -1;
        if (!mkdtemp(dir)) {
                free(dir);
                return -1;
        }
        *state = dir;
        return 0;
}

static inline int teardown_tmpdir(void **state) {
        (void) rm_rf(*state);
        free(*state);
        return 0;
}
