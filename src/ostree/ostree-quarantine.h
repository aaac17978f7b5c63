/* SPDX-License-Identifier: MIT */
#pragma once

/* The quarantine: commits whose deployment failed its trial boot, so that an OTA client can
 * refuse to deploy them again. A text file, STATE_DIR/quarantine, one checksum (64 lowercase hex
 * digits) a line; other lines (comments an integrator adds) are kept and ignored. */

#define QUARANTINE_FILE "quarantine"

/* Returns 0 and in *ret a new NULL-terminated vector of the quarantined checksums (empty when
 * the file does not exist), or -errno. */
int quarantine_read(const char *state_dir, char ***ret);

/* Adds checksum (64 hex digits) unless it is there already, creating state_dir as needed; the
 * file is replaced atomically. Returns 1 when added, 0 when it was there, or -errno. */
int quarantine_add(const char *state_dir, const char *checksum);
