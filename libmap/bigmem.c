/*
 * bigmem.c - advice for the large arrays a build fills once (record lists,
 * key fingerprints, table scratch).
 *
 * A fresh array of 10 MB is 2,600 page faults at 4 KiB; on a virtual
 * machine each costs microseconds, which made up a fifth of mapc -t cdb's
 * time at a million records.  Asking for transparent huge pages makes it five
 * faults.  It is advice: where the kernel has no huge pages (or the
 * advice is unknown) the memory works as before.
 */
#define _DEFAULT_SOURCE 1       /* madvise, MADV_HUGEPAGE */

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "libmap/internal.h"

#define BIGMEM_HUGE ((uintptr_t)2 << 20)
#define BIGMEM_MIN  ((size_t)4 << 20)   /* below this, not worth a call */

void
lm_big_advise(void *p, size_t n)
{
#ifdef MADV_HUGEPAGE
    uintptr_t lo, hi;

    if (p == NULL || n < BIGMEM_MIN)
        return;
    /* Only the whole huge pages inside the block: the memory around it is
     * the allocator's. */
    lo = ((uintptr_t)p + BIGMEM_HUGE - 1) & ~(BIGMEM_HUGE - 1);
    hi = ((uintptr_t)p + n) & ~(BIGMEM_HUGE - 1);
    if (hi > lo)
        (void)madvise((void *)lo, (size_t)(hi - lo), MADV_HUGEPAGE);
#else
    (void)p;
    (void)n;
#endif
}

void *
lm_big_alloc(size_t n)
{
    void *p;
    size_t whole;

    if (n < BIGMEM_MIN)
        return malloc(n ? n : 1);
    /* Aligned and rounded up to whole huge pages, so that no part of the
     * array is left to small pages; the rest of the last one is never
     * touched unless the kernel gives it a huge page. */
    whole = (n + BIGMEM_HUGE - 1) & ~(size_t)(BIGMEM_HUGE - 1);
    if (whole < n || posix_memalign(&p, BIGMEM_HUGE, whole) != 0)
        return malloc(n);
    lm_big_advise(p, whole);
    return p;
}
