/* SPDX-License-Identifier: MIT */
#pragma once

#include <systemd/sd-event.h>

/* Start-up touches code and tables the steady state never runs again: the dynamic loader's
 * symbol lookups through every library's hash tables (libsystemd's dependencies libgcrypt, lz4,
 * zstd, lzma, libcap included, which the daemon never calls), the libraries' constructors, the
 * config parser. The kernel maps file pages in 64 kB windows around each fault, so all of that
 * stays resident, as RSS, for as long as the daemon runs (about 1.3 MB). pages_release_later()
 * unmaps the read-only segments of every loaded object once the daemon has settled (5 s after the
 * loop starts, when the checks' first runs are over): the pages stay in the page cache (shared,
 * clean, nothing is lost: they are read back from the file on the next touch), and the steady
 * state faults back in only what it runs. Writable segments (data, relocated pointers, RELRO) are
 * never touched, and with locked memory (realtime-priority) madvise() refuses and everything
 * stays. Scheduled on event with a floating one-shot timer; failing to schedule it is harmless. */
void pages_release_later(sd_event *event);
