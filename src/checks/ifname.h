/* SPDX-License-Identifier: MIT */
#pragma once

#include "conf-parser.h"

/* True when s is a name the kernel accepts for a network interface (dev_valid_name()): 1-15
 * characters, not "." or "..", no '/', ':' or blanks. */
bool ifname_valid(const char *s);

/* A config value naming a network interface (char *), checked with ifname_valid(). Whether the
 * interface exists is a matter for the check, not for the config: interfaces come and go. */
extern const ConfigType config_type_ifname;
