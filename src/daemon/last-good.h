/* SPDX-License-Identifier: MIT */
#pragma once

#include "config.h"

/* STATE/last-good.conf: the effective form (config_dump()) of the last configuration that loaded,
 * written at every start and reload that loads one. When an update brings a configuration that
 * does not load, `healthdog run` supervises with this one, knowing the configuration is invalid. */
#define LAST_GOOD_FILE "last-good.conf"

/* Writes c's dump to DIR/last-good.conf atomically (0644). Returns 0 or -errno. */
int last_good_save(const char *dir, const Config *c);

/* Loads DIR/last-good.conf, alone (no drop-ins), with the same rules as any config file. Returns 0
 * with a new Config, -ENOENT when there is none, or another -errno (-EINVAL: it does not load any
 * more, e.g. a user its checks name is gone; the errors are in errors). */
int last_good_load(const char *dir, Config **ret, ConfigErrors *errors);
