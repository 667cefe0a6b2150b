/*
 * internal.h - private to libmap/ and formats/: the backend vtable and the
 * generic map handle.  Tools never include this.
 */
#ifndef LIBMAP_INTERNAL_H
#define LIBMAP_INTERNAL_H

#include "libmap/map.h"

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

/* a + b + c in a new malloc'd string; NULL if out of memory. */
char *lm_str_join(const char *a, const char *b, const char *c);

/* A set of keys met so far, each with the line it was first met on. */
struct lm_seen {
    char         **key;
    unsigned long *line;
    size_t         n, cap;      /* cap is a power of two (open addressing) */
};

/* 0 and *first = 0 when KEY is new (now recorded with LINE); 0 and *first =
 * the earlier line when seen; -1 out of memory.  KEY is copied. */
int lm_seen_add(struct lm_seen *s, const char *key, unsigned long line, unsigned long *first);
void lm_seen_fini(struct lm_seen *s);   /* empties the set; safe on a zeroed one */

/* "file:line" of the rule or accepted domain that decided V, malloc'd;
 * NULL when none (or out of memory). */
struct lm_verdict;
char *verdict_at(const struct lm_verdict *v);

/* ASCII lower-case in place. */
void lm_fold(void *data, size_t len);

#endif
