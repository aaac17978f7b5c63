/* SPDX-License-Identifier: MIT */
#include <link.h>
#include <sys/auxv.h>
#include <sys/mman.h>

#include "log.h"
#include "pages.h"

typedef struct PageRanges {
        uintptr_t page;
        size_t n;
        struct {
                uintptr_t start, end;
        } ranges[64];
} PageRanges;

/* Whether the page at addr is also in one of the object's writable segments. */
static bool page_is_writable(const struct dl_phdr_info *info, uintptr_t addr, uintptr_t page) {
        for (size_t i = 0; i < info->dlpi_phnum; i++) {
                const ElfW(Phdr) *p = &info->dlpi_phdr[i];
                uintptr_t start = (info->dlpi_addr + p->p_vaddr) & ~(page - 1);
                uintptr_t end = info->dlpi_addr + p->p_vaddr + p->p_memsz;

                if (p->p_type == PT_LOAD && (p->p_flags & PF_W) && addr >= start && addr < end)
                        return true;
        }
        return false;
}

/* dl_iterate_phdr() callback: collects the pages of one loaded object's read-only segments. */
static int collect_readonly_segments(struct dl_phdr_info *info, size_t size, void *userdata) {
        PageRanges *d = userdata;

        /* Not the vDSO; and not by its name, which for the loader is in the program's first page. */
        if (info->dlpi_addr == getauxval(AT_SYSINFO_EHDR))
                return 0;
        for (size_t i = 0; i < info->dlpi_phnum && d->n < ELEMENTSOF(d->ranges); i++) {
                const ElfW(Phdr) *p = &info->dlpi_phdr[i];
                /* Every page the segment is mapped on, its partial first and last ones too (each
                 * small library kept one or two that way), but never a page a writable segment
                 * shares. */
                uintptr_t start = (info->dlpi_addr + p->p_vaddr) & ~(d->page - 1);
                uintptr_t end = (info->dlpi_addr + p->p_vaddr + p->p_filesz + d->page - 1) & ~(d->page - 1);

                if (p->p_type != PT_LOAD || (p->p_flags & PF_W))
                        continue;
                if (end > start && page_is_writable(info, start, d->page))
                        start += d->page;
                if (end > start && page_is_writable(info, end - d->page, d->page))
                        end -= d->page;
                if (end > start)
                        d->ranges[d->n++] = (typeof(d->ranges[0])) { start, end };
        }
        return 0;
}

static int on_settled(sd_event_source *s, uint64_t usec, void *userdata) {
        PageRanges d = { .page = (uintptr_t) sysconf(_SC_PAGESIZE) };

        /* All ranges first (the program headers live in the first segment), then unmap them all
         * from here: unmapping from inside the callback brought dl_iterate_phdr()'s 64 kB of libc
         * back in when it returned, for no other use. */
        dl_iterate_phdr(collect_readonly_segments, &d);
        for (size_t i = 0; i < d.n; i++)
                (void) madvise((void *) d.ranges[i].start, d.ranges[i].end - d.ranges[i].start, MADV_DONTNEED);
        return 0;
}

/* Once the checks have run a few times, so that their first runs' one-off code goes too
 * (unmapping right before the loop left ~70 kB more). */
#define PAGES_SETTLED_USEC (5 * USEC_PER_SEC)

void pages_release_later(sd_event *event) {
        if (sd_event_add_time_relative(event, NULL, CLOCK_MONOTONIC, PAGES_SETTLED_USEC, USEC_PER_SEC, on_settled,
                                       NULL) < 0)
                log_debug("Failed to schedule the release of start-up memory, ignoring");
}
