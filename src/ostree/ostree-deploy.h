/* SPDX-License-Identifier: MIT */
#pragma once

/* Which OSTree deployments failed, and which may go: pure decisions on a list of deployments, as
 * libostree orders them (a staged deployment first, then the boot entries, newest first). No
 * libostree here, so that the rules are tested on plain arrays. */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define DEPLOY_CHECKSUM_LEN 64

typedef struct Deployment {
        char *osname;
        char checksum[DEPLOY_CHECKSUM_LEN + 1];
        int serial;             /* the deployserial: CHECKSUM.SERIAL names the deployment directory */
        char *version;          /* "version" of the commit metadata, or NULL */
        char *refspec;          /* the origin's refspec ("REMOTE:REF" or a local REF), or NULL */
        bool booted;            /* what libostree says; at most one */
        bool staged;            /* waiting for the next shutdown to be written as the default */
        bool pinned;            /* kept by every cleanup until unpinned */

        /* Set by deploy_classify(): */
        bool is_default;        /* the first boot entry: what U-Boot boots next */
        bool pending;           /* newer than the booted deployment */
        bool rollback;          /* older than the booted deployment */
} Deployment;

/* Frees the strings of n deployments and the array. Accepts NULL. */
void deployments_free(Deployment *d, size_t n);

/* Sets is_default, pending and rollback. With no booted deployment, nothing is pending or
 * rollback. */
void deploy_classify(Deployment *d, size_t n);

/* Returns the index of the booted deployment, or -ESRCH when none is booted. */
ssize_t deploy_booted(const Deployment *d, size_t n);

/* Returns the index of the default deployment (the first that is not staged), or -ENOENT when
 * there is none. */
ssize_t deploy_default(const Deployment *d, size_t n);

/* On a rolled-back boot (U-Boot gave up on the default entry and booted an older one), returns
 * the index of the deployment that failed: the default one, when it is not the booted one. A
 * staged deployment is never the failed one: it has not been booted yet (it is an update that
 * waits for a reboot, and also looks newer than the booted one). A default deployment with the
 * booted deployment's checksum is not blamed either: its content is what runs now.
 * Returns the index, -ENOENT when no deployment failed (the default one is booted), -ESRCH when
 * no deployment is booted (nothing to judge by). */
ssize_t deploy_find_failed(const Deployment *d, size_t n);

/* Whether name is a deployment name for deploy_plan_remove(): a checksum (64 lowercase hex
 * digits) optionally followed by ".SERIAL". */
bool deploy_name_valid(const char *name);

/* Marks in remove[] (n entries, cleared first) the deployments that name (see
 * deploy_name_valid()) designates: CHECKSUM.SERIAL one deployment, CHECKSUM every deployment of
 * that commit. Refuses the whole request when one of them must stay.
 * Returns the number marked (>= 1), or -ENOENT (no deployment has that name), -EBUSY (the booted
 * one), -EINPROGRESS (the staged one), -EPERM (a pinned one), -EINVAL (a malformed name). */
int deploy_plan_remove(const Deployment *d, size_t n, const char *name, bool *remove);

/* After a confirmed trial: marks in remove[] (n entries, cleared first) every rollback deployment
 * (older than the booted one) but the keep newest of them that are not pinned. Never marks the
 * booted, a staged, a pinned one, nor one newer than the booted one (pending: an update deployed
 * meanwhile, waiting for its trial).
 * Returns the number marked (>= 0), or -ESRCH when no deployment is booted. */
int deploy_plan_prune(const Deployment *d, size_t n, unsigned keep, bool *remove);
