/*
 * scratch.h - the scratch directory of the map unit tests: setup makes a
 * fresh one for each test (tcase_add_checked_fixture), teardown removes it
 * with everything in it; in_dir names a file in it; dat makes a datum.
 * Header-only (static inline), for tests/unit/check_*.c.
 */
#ifndef LIBMAP_SCRATCH_H
#define LIBMAP_SCRATCH_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libmap/atomic.h"
#include "libmap/map.h"

static char dir[64];

static inline void
setup(void)
{
    strcpy(dir, "/tmp/check_scratch.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static inline void
teardown(void)
{
    lm_atomic_remove_dir(dir);
}

static inline char *
in_dir(const char *name)
{
    static char path[128];

    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

static inline lm_datum
dat(const void *p, size_t n)
{
    lm_datum x;

    x.data = p;
    x.len = n;
    return x;
}

#endif
