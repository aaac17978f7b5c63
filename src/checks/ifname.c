/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <net/if.h>

#include "ifname.h"

bool ifname_valid(const char *s) {
        size_t l = strlen(s);

        if (l == 0 || l >= IFNAMSIZ || streq(s, ".") || streq(s, ".."))
                return false;
        for (const char *p = s; *p; p++)
                if (*p == '/' || *p == ':' || isspace((unsigned char) *p))
                        return false;
        return true;
}

static int parse_ifname(const ConfigKey *key, const char *text, void *field, char **reason) {
        if (!ifname_valid(text)) {
                if (asprintf(reason, "is not an interface name (1-%d characters, no '/', ':' or blanks)",
                             IFNAMSIZ - 1) < 0)
                        *reason = NULL;
                return -EINVAL;
        }
        return config_type_string.parse(key, text, field, reason);
}

static void format_ifname(FILE *f, const void *field) {
        fputs(strempty(*(char *const *) field), f);
}

static void free_ifname(void *field) {
        char **s = field;
        *s = (free(*s), NULL);
}

const ConfigType config_type_ifname = { sizeof(char *), parse_ifname, format_ifname, free_ifname };
