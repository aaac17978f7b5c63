/* SPDX-License-Identifier: MIT */
#include "bootloader.h"

const Bootloader *bootloader_get(const BootloaderConfig *b) {
        switch (b->type) {
        case BOOTLOADER_UBOOT:
                return &bootloader_uboot;
        case BOOTLOADER_GRUB:
                return &bootloader_grub;
        default:
                return NULL;
        }
}

const char *boot_store_describe(const BootStore *s, char *buf, size_t size) {
        size_t len = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < s->n && len < size; i++)
                len += (size_t) snprintf(buf + len, size - len, "%s%s=%s", i ? " " : "", s->names[i],
                                         s->values[i] ?: "(unset)");
        return buf;
}

const char *boot_location(const BootloaderConfig *b) {
        const Bootloader *l = bootloader_get(b);

        return l ? l->location(b) : "";
}

const char *boot_cleared_what(const BootloaderConfig *b) {
        static char what[sizeof(((BootStore *) NULL)->what)];
        char *env[BOOT_VARS_MAX] = {};
        const Bootloader *l = bootloader_get(b);
        BootStore s;

        if (!l)
                return "nothing";
        l->clear(b, env, &s);
        memcpy(what, s.what, sizeof(what));
        return what;
}
