/*
 * internal.h - private to the map layer (map.c, compile.c, atomic.c and
 * the map_*.c backends): the backend vtable and the generic map handle.
 * Codecs and tools never include this; shared helpers are in util.h.
 */
#ifndef LIBMAP_INTERNAL_H
#define LIBMAP_INTERNAL_H

#include "libmap/map.h"
#include "libmap/util.h"

enum lm_map_state { LM_ST_READ, LM_ST_BUILDING, LM_ST_COMMITTED, LM_ST_ABORTED };

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

#endif
