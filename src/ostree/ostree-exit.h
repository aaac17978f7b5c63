/* SPDX-License-Identifier: MIT */
#pragma once

/* The exit codes of healthdog-ostree: the contract between the helper and the daemon that runs
 * it. Never renumber. */
enum {
        OSTREE_EXIT_OK = 0,
        OSTREE_EXIT_ERROR = 1,                 /* anything else; the message says what */
        OSTREE_EXIT_USAGE = 2,
        OSTREE_EXIT_NOT_OSTREE = 3,            /* not an OSTree sysroot, or (where one is needed) nothing booted */
        OSTREE_EXIT_LOCKED = 4,                /* the sysroot lock is held by another process: try later */
        OSTREE_EXIT_REFUSED_BOOTED = 5,
        OSTREE_EXIT_REFUSED_STAGED = 6,
        OSTREE_EXIT_REFUSED_PINNED = 7,
        OSTREE_EXIT_UNKNOWN = 8,               /* no deployment has that checksum */
        OSTREE_EXIT_UNREACHABLE = 9,           /* the remote could not be reached: try later */
        OSTREE_EXIT_UNSIGNED = 10,             /* --require-signature, and the remote verifies no signature */
};
