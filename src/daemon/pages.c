/* SPDX-License-Identifier: MIT */
#include <link.h>
#include <sys/auxv.h>
#include <sys/mman.h>

#include "log.h"
#include "pages.h"

/* dl_iterate_phdr() callback: unmaps the pages of one loaded object's read-only segments. */
static int drop_readonly_segments(struct dl_phdr_info *info, size_t size, void *userdata) {
        const uintptr_t page = *(const uintptr_t *) userdata;
        struct {
                uintptr_t start, end;
        } drop[16];
        size_t n = 0;

        /* Not the vDSO; and not by its name, which for the loader is in the program's first page. */
        if (info->dlpi_addr == getauxval(AT_SYSINFO_EHDR))
                return 0;
        /* The program headers live in the first segment: read them all before unmapping any. */
        for (size_t i = 0; i < info->dlpi_phnum && n < ELEMENTSOF(drop); i++) {
                const ElfW(Phdr) *p = &info->dlpi_phdr[i];
                /* Whole pages inside the segment only: never a page shared with a writable one. */
                uintptr_t start = (info->dlpi_addr + p->p_vaddr + page - 1) & ~(page - 1);
                uintptr_t end = (info->dlpi_addr + p->p_vaddr + p->p_filesz) & ~(page - 1);

                if (p->p_type == PT_LOAD && !(p->p_flags & PF_W) && end > start)
                        drop[n++] = (typeof(drop[0])) { start, end };
        }
        for (size_t i = 0; i < n; i++)
                (void) madvise((void *) drop[i].start, drop[i].end - drop[i].start, MADV_DONTNEED);
        return 0;
}

static int on_settled(sd_event_source *s, uint64_t usec, void *userdata) {
        uintptr_t page = (uintptr_t) sysconf(_SC_PAGESIZE);

        dl_iterate_phdr(drop_readonly_segments, &page);
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
