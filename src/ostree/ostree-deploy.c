/* SPDX-License-Identifier: MIT */
#include "ostree-deploy.h"

#include "util.h"

void deployments_free(Deployment *d, size_t n) {
        if (!d)
                return;
        for (size_t i = 0; i < n; i++) {
                free(d[i].osname);
                free(d[i].version);
                free(d[i].refspec);
        }
        free(d);
}

ssize_t deploy_booted(const Deployment *d, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (d[i].booted)
                        return (ssize_t) i;
        return -ESRCH;
}

ssize_t deploy_default(const Deployment *d, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (!d[i].staged)
                        return (ssize_t) i;
        return -ENOENT;
}

void deploy_classify(Deployment *d, size_t n) {
        ssize_t booted = deploy_booted(d, n), def = deploy_default(d, n);

        for (size_t i = 0; i < n; i++) {
                d[i].is_default = (ssize_t) i == def;
                d[i].pending = booted >= 0 && (ssize_t) i < booted;
                d[i].rollback = booted >= 0 && (ssize_t) i > booted;
        }
}

ssize_t deploy_find_failed(const Deployment *d, size_t n) {
        ssize_t booted = deploy_booted(d, n), def = deploy_default(d, n);

        if (booted < 0)
                return -ESRCH;
        /* The default entry is the first non-staged one: a staged update sorts before it, and the
         * booted one is a boot entry, so def exists. */
        if (def == booted || streq(d[def].checksum, d[booted].checksum))
                return -ENOENT;
        return def;
}

bool deploy_name_valid(const char *name) {
        size_t i;

        for (i = 0; i < DEPLOY_CHECKSUM_LEN; i++)
                if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
                        return false;
        if (name[i] == 0)
                return true;
        if (name[i] != '.' || name[i + 1] == 0)
                return false;
        for (i++; name[i]; i++)
                if (name[i] < '0' || name[i] > '9' || i > DEPLOY_CHECKSUM_LEN + 10)
                        return false;
        return true;
}

static bool name_matches(const Deployment *d, const char *name) {
        const char *serial = name + DEPLOY_CHECKSUM_LEN;
        unsigned s;

        if (strncmp(d->checksum, name, DEPLOY_CHECKSUM_LEN) != 0)
                return false;
        if (*serial == 0)
                return true;
        return parse_uint(serial + 1, &s) >= 0 && (int) s == d->serial;
}

int deploy_plan_remove(const Deployment *d, size_t n, const char *name, bool *remove) {
        int marked = 0;

        if (!deploy_name_valid(name))
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                remove[i] = name_matches(&d[i], name);
                if (!remove[i])
                        continue;
                if (d[i].booted)
                        return -EBUSY;
                if (d[i].staged)
                        return -EINPROGRESS;
                if (d[i].pinned)
                        return -EPERM;
                marked++;
        }
        return marked > 0 ? marked : -ENOENT;
}

int deploy_plan_prune(const Deployment *d, size_t n, unsigned keep, bool *remove) {
        ssize_t booted = deploy_booted(d, n);
        unsigned kept = 0;
        int marked = 0;

        memset(remove, 0, n * sizeof(bool));
        if (booted < 0)
                return -ESRCH;
        for (size_t i = (size_t) booted + 1; i < n; i++) {
                if (d[i].pinned || d[i].staged)
                        continue;
                if (kept < keep) {
                        kept++;
                        continue;
                }
                remove[i] = true;
                marked++;
        }
        return marked;
}
