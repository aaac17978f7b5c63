/* SPDX-License-Identifier: MIT */
#pragma once

#include "util.h"

/* STATE/verdicts.jsonl: one JSON record per boot (boot.h: assess_record_json()), the newest
 * VERDICTS_MAX, oldest first. */
#define VERDICTS_FILE "verdicts.jsonl"
#define VERDICTS_MAX 64

/* Appends one record (one line, no newline), keeping the newest VERDICTS_MAX; replace_last
 * overwrites the newest record instead (a boot updating its own). Written atomically.
 * Returns 0 or -errno. */
int verdicts_append(const char *dir, const char *record, bool replace_last);

/* Reads the newest n records, newest last. Returns the number read with *ret (a new vector), or
 * -errno (0 records and an empty vector when the file does not exist). */
int verdicts_read(const char *dir, size_t n, char ***ret);
