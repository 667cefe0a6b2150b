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
#define LM_ATOMIC_SET     0x04  /* publish the files as a set: all new or all old */
#define LM_ATOMIC_IF_CHANGED 0x08 /* replace only the files whose bytes differ */

struct lm_atomic;

/* Prepare to publish the files finals[0..] (NULL-terminated, all in one
 * directory).  The array is copied.  NULL with diagnostics on failure. */
struct lm_atomic *lm_atomic_begin(const char *const *finals, unsigned flags,
                                  struct lm_diags *d);

/* The temporary path where file i is to be written before commit (borrowed). */
const char *lm_atomic_tmp(const struct lm_atomic *a, size_t i);

/* The temporary directory (borrowed). */
const char *lm_atomic_dir(const struct lm_atomic *a);

/* Write LEN bytes as the whole content of temporary file i (created with
 * mode 0666 & ~umask; commit gives it the old file's mode).  0, or -1 with
 * diagnostics. */
int lm_atomic_write(struct lm_atomic *a, size_t i, const void *buf, size_t len,
                    struct lm_diags *d);

/* fsync every temporary file, give it the old file's owner and mode, rename
 * it over its target, fsync the directory.  On failure before the first
 * rename nothing is published.
 *
 * With LM_ATOMIC_IF_CHANGED, a temporary file whose bytes equal its
 * target's is dropped first: that target is not touched at all (inode,
 * owner, mode and times stay), and only the others are published (as a
 * set, with LM_ATOMIC_SET).  A target that is missing, unreadable or not a
 * regular file counts as different.  Returns LM_UNCHANGED when no file
 * differed (nothing was replaced), 0 when some were.
 *
 * With LM_ATOMIC_SET and several files, the set is published all or
 * nothing.  Inside the temporary directory, after the new files are synced:
 * a hard link ".old.NAME" to each file being replaced, an empty ".none.NAME"
 * for each file that did not exist, then the marker ".commit", then a sync
 * of the directory; then the renames.  If a rename fails, the marker
 * becomes ".rollback" and every file is put back (".old.NAME" renamed over
 * NAME, a NAME that did not exist removed).  After a crash, the next run
 * (under the lock) finds the directory: with ".commit" it renames the new
 * files still there into place (completes); with ".rollback" it puts the
 * old files back; without a marker nothing was published and the directory
 * is removed.  The targets' base names must not begin with ".". */
int lm_atomic_commit(struct lm_atomic *a, struct lm_diags *d);

/* Remove the temporaries (if still there), release the lock, free.  NULL ok. */
void lm_atomic_end(struct lm_atomic *a);

/* Remove a directory and the files in it (not recursive below that).  For
 * private scratch directories only. */
void lm_atomic_remove_dir(const char *dir);

#endif
