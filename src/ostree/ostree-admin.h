/* SPDX-License-Identifier: MIT */
#pragma once

/* The only code that talks to libostree (and so to GLib): opens a sysroot, lists its
 * deployments, writes a shorter list and cleans up. GError never leaves this file: every function
 * returns -errno and, on failure, one line in err (of size) that names the sysroot and what
 * failed, as libostree put it. Used by the short-lived healthdog-ostree helper only; the daemon
 * never links this (a process with libostree peaks at ~16 MB resident, and
 * ostree_sysroot_initialize_with_mount_namespace() changes the caller's mount namespace). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ostree-deploy.h"

typedef struct Admin Admin;

typedef enum AdminFlags {
        /* For changing deployments: on a booted system, move this process into a private mount
         * namespace first (libostree remounts a read-only /sysroot and /boot writable there, for
         * this process only), and take the sysroot lock without waiting. */
        ADMIN_WRITE = 1 << 0,
} AdminFlags;

typedef struct AdminCleanup {
        int objects_total;
        int objects_pruned;
        uint64_t bytes_freed;
} AdminCleanup;

/* Opens and loads the sysroot at path ("/" on the running system).
 * Returns 0 with *ret (free with admin_free()), or -ENOMEDIUM when path is not an OSTree sysroot
 * (no ostree/repo or ostree/deploy directory in it), -EWOULDBLOCK when ADMIN_WRITE and another
 * process holds the sysroot lock (an OFD lock on ostree/lock: an OTA client or `ostree admin`),
 * or another -errno when libostree fails. */
int admin_open(const char *path, AdminFlags flags, Admin **ret, char *err, size_t size);

/* Releases the lock, if held, and everything else. Accepts NULL; returns NULL. */
Admin *admin_free(Admin *a);
static inline void admin_freep(Admin **a) {
        admin_free(*a);
}

/* Returns 0 and in *ret / *ret_n a new array of the deployments in libostree's order (staged
 * first, then the default boot entry, then older ones), classified (deploy_classify()); free it
 * with deployments_free(). The version comes from the commit metadata (NULL when the commit has
 * none or is missing from the repository). Returns -errno on failure. */
int admin_list(Admin *a, Deployment **ret, size_t *ret_n, char *err, size_t size);

typedef enum AdminPullFlags {
        ADMIN_PULL_COMMIT_ONLY = 1 << 0,  /* the commit object alone: its checksum, metadata, signature */
        ADMIN_PULL_PROGRESS = 1 << 1,     /* progress lines on stderr (a terminal: one line, redrawn) */
} AdminPullFlags;

typedef struct AdminPulled {
        char checksum[DEPLOY_CHECKSUM_LEN + 1];
        char *version;                    /* of the commit metadata, or NULL */
        unsigned fetched;                 /* objects fetched */
        unsigned requested;               /* objects requested */
        uint64_t bytes;                   /* bytes transferred */
} AdminPulled;

/* With ADMIN_PULL_PROGRESS, called each time libostree reports the pull's figures (often: the
 * callee decides what to do with how many). */
typedef void (*admin_progress_t)(unsigned fetched, unsigned requested, uint64_t bytes, void *userdata);

void admin_pulled_clear(AdminPulled *p);

/* Pulls refspec ("REMOTE:REF") into the sysroot's repository, as `ostree pull` does: the commit
 * the remote's REF names now, or checksum when not NULL (which REF must then name, or have
 * named: override-commit-ids), and with ADMIN_PULL_COMMIT_ONLY only the commit object. The
 * remote's own settings apply: a remote with gpg-verify or sign-verify refuses a commit whose
 * signature does not verify, and its TLS options (tls-client-cert-path, ...) are used.
 * The objects of a failed pull stay in the repository's staging directory (libostree resumes
 * from them in the next pull of the same boot), except when it failed for lack of space: then
 * what no other process holds there is removed, and err says how much.
 * Returns 0 with *ret filled (admin_pulled_clear() frees it), or -errno with a line in err:
 * -EHOSTUNREACH when the remote could not be reached (try later), -ENOENT for an unknown remote
 * or ref, -EBADMSG for a signature or an object that does not verify or decompress, -ENOSPC
 * (also for libostree's min-free-space refusal), others. */
int admin_pull(Admin *a, const char *refspec, const char *checksum, AdminPullFlags flags, admin_progress_t on_progress,
               void *userdata, AdminPulled *ret, char *err, size_t size);

/* Whether the remote verifies signatures: gpg-verify or sign-verify set. Returns 1 or 0, or
 * -errno (-ENOENT for an unknown remote) with a line in err. */
int admin_remote_verifies(Admin *a, const char *remote, char *err, size_t size);

/* Deploys commit checksum (pulled) as the new default deployment of the booted deployment's
 * stateroot, with refspec as its origin, the booted deployment's /etc merged in and its kernel
 * arguments, and writes the boot entries (U-Boot's uEnv.txt) at once, as `ostree admin deploy
 * --retain-rollback` does: rollback deployments are kept (healthdog prunes them after the trial),
 * an older pending one is dropped. The sysroot must have been opened with ADMIN_WRITE and a
 * deployment be booted. Returns 0 with the new deployment's CHECKSUM.SERIAL in name (size
 * DEPLOY_NAME_MAX), or -errno with a line in err (-ESRCH when nothing is booted). */
#define DEPLOY_NAME_MAX (DEPLOY_CHECKSUM_LEN + 16)
int admin_deploy(Admin *a, const char *checksum, const char *refspec, char *name, char *err, size_t size);

/* Writes the deployment list without those marked in remove[] (n entries, in the order of
 * admin_list()), as `ostree admin undeploy` does: the boot entries (and so U-Boot's uEnv.txt)
 * are rewritten first, then the removed deployment directories are deleted and the objects no
 * deployment or ref needs are pruned from the repository; *stats (may be NULL) says how many.
 * The sysroot must have been opened with ADMIN_WRITE and listed with admin_list(), and n must be
 * the length of that list. Never removes the booted or the staged deployment (-EBUSY).
 * Returns 0 or -errno. */
int admin_remove(Admin *a, const bool *remove, size_t n, AdminCleanup *stats, char *err, size_t size);
