/*
 * internal.h - private to the map layer (map.c, compile.c, atomic.c and
 * the map_*.c backends): the backend vtable and the generic map handle.
 * Codecs and tools never include this; shared helpers are in util.h.
 */
#ifndef LIBMAP_INTERNAL_H
#define LIBMAP_INTERNAL_H

#include "libmap/map.h"
#include "libmap/util.h"

/* FINISHED: built and closed in the temporary directory, not yet published. */
enum lm_map_state { LM_ST_READ, LM_ST_BUILDING, LM_ST_FINISHED, LM_ST_COMMITTED,
                    LM_ST_ABORTED };

struct lm_backend {
    struct lm_type_info info;
    const char *const *suffixes;   /* every file the type makes, NULL-terminated */
    size_t size;                   /* sizeof the backend's struct (embeds lm_map first) */
    size_t max_key;                /* longest key the type stores, 0 = no limit */

    /* Create the map at path (a base name: the backend adds its suffixes)
     * inside the temporary directory. */
    int  (*create)(struct lm_map *m, const char *base, struct lm_diags *d);
    /* Open the existing map whose base name is base. */
    int  (*open_ro)(struct lm_map *m, const char *base, struct lm_diags *d);
    int  (*put)(struct lm_map *m, const lm_datum *k, const lm_datum *v,
                enum lm_put_mode mode, struct lm_diags *d);
    int  (*get)(struct lm_map *m, const lm_datum *k, lm_datum *v, struct lm_diags *d);
    int  (*next)(struct lm_map *m, lm_datum *k, lm_datum *v, struct lm_diags *d);
    /* Flush and close the native handle; the core fsyncs and renames. */
    int  (*finish)(struct lm_map *m, struct lm_diags *d);
    /* Release the native handle without flushing (never fails). */
    void (*close)(struct lm_map *m);
};

/* lm_map_create flag private to the library: the core finds duplicate keys
 * itself after the pass (LM_CAP_SLOW_EXISTS) and publishes nothing when it
 * finds one, so the backend may keep the records and store them later, in
 * any order, as long as the first copy of a key wins. */
#define LM_CREATE_DUPS_LATER 0x100

struct lm_atomic;

struct lm_map {
    const struct lm_backend *be;
    enum lm_map_state state;
    struct lm_map_opts opts;
    char *name;                  /* base name as given, suffix stripped */
    char **final;                /* final path of each file, NULL-terminated */
    struct lm_atomic *out;       /* temp dir, lock; NULL when reading */
    int iterating;
};

/* Registry: every backend built in. */
extern const struct lm_backend lm_backend_hash;
extern const struct lm_backend lm_backend_btree;
extern const struct lm_backend lm_backend_dbm;
extern const struct lm_backend lm_backend_gdbm;
extern const struct lm_backend lm_backend_cdb;
extern const struct lm_backend lm_backend_lmdb;

const struct lm_backend *lm_backend_find(const char *name);

/* Finish building m in its temporary directory without publishing it
 * (lm_map_commit publishes it later).  0, or -1 (m is then aborted). */
int lm_map_finish(struct lm_map *m, struct lm_diags *d);

/* Whether maps A and B, open for reading, hold the same records (key and
 * value bytes; with dups the copies of a key in the same order): 0 same,
 * LM_NOTFOUND different (*why says how, from A's side: "a record of the
 * source is missing from the map"), -1 error.  Without dups A's keys must
 * be distinct: each record of A is looked up in B, in batches, and memory
 * stays small; with dups both maps are read and sorted in memory. */
int lm_map_same(struct lm_map *a, struct lm_map *b, int dups, const char **why,
                struct lm_diags *d);

/* Publish the map being built unless the map in place holds the same
 * records (lm_map_same): then the new files are dropped with m and the old
 * ones are not touched.  A missing, damaged or unreadable old map, or one
 * of another type, is replaced (with a note saying why, unless missing).
 * Returns 0 published, LM_UNCHANGED, or -1 as lm_map_commit. */
int lm_map_commit_if_changed(struct lm_map *m, int dups, struct lm_diags *d);

/* Advise the kernel that the N bytes at P (a large array about to be
 * filled) may be backed by huge pages: fewer page faults (bigmem.c). */
void lm_big_advise(void *p, size_t n);
/* malloc for such an array: huge-page aligned when it is large; free()
 * releases it, realloc() may move it (then advise again). */
void *lm_big_alloc(size_t n);

#endif
