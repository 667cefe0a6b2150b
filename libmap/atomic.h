/*
 * atomic.h - publish files atomically: a private temporary directory beside
 * the target, fsync, rename over the target, fsync of the directory.
 *
 * A lock file beside the target (".NAME.lock") serialises runs on one
 * output; temporaries left by a killed run are removed by the next one.
 * The owner and mode of a file being replaced are kept.
 */
#ifndef LIBMAP_ATOMIC_H
#define LIBMAP_ATOMIC_H

#include "libmap/diag.h"

#define LM_ATOMIC_NOWAIT  0x01  /* LM_E_BUSY instead of waiting for the lock */
#define LM_ATOMIC_UNSAFE  0x02  /* a symbolic link at a target may be replaced */

struct lm_atomic;

/* Prepare to publish the files finals[0..] (NULL-terminated, all in one
 * directory).  The array is copied.  NULL with diagnostics on failure. */
struct lm_atomic *lm_atomic_begin(const char *const *finals, unsigned flags,
                                  struct lm_diags *d);

/* The temporary path where file i is to be written before commit (borrowed). */
const char *lm_atomic_tmp(const struct lm_atomic *a, size_t i);

/* The temporary directory (borrowed). */
const char *lm_atomic_dir(const struct lm_atomic *a);

/* fsync every temporary file, give it the old file's owner and mode, rename
 * it over its target, fsync the directory.  On failure before the first
 * rename nothing is published. */
int lm_atomic_commit(struct lm_atomic *a, struct lm_diags *d);

/* Remove the temporaries (if still there), release the lock, free.  NULL ok. */
void lm_atomic_end(struct lm_atomic *a);

/* Remove a directory and the files in it (not recursive below that).  For
 * private scratch directories only. */
void lm_atomic_remove_dir(const char *dir);

#endif
