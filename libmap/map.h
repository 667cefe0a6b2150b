/*
 * map.h - compiled map files by type name: hash, btree (Berkeley DB), dbm
 * (ndbm .dir/.pag), gdbm, cdb.
 *
 * A map is created under a temporary name and appears under its final name
 * only through lm_map_commit (temp file in the target directory, fsync,
 * rename, fsync of the directory).  lm_map_close on a map that was never
 * committed throws the temporary files away: an early return never
 * publishes half a map.
 */
#ifndef LIBMAP_MAP_H
#define LIBMAP_MAP_H

#include <stddef.h>
#include <sys/types.h>

#include "libmap/diag.h"

typedef struct {
    const void *data;
    size_t      len;
} lm_datum;

/* What lm_map_put does when the key is already there. */
enum lm_put_mode {
    LM_PUT_INSERT,      /* keep the old record, return LM_EXISTS */
    LM_PUT_REPLACE,     /* replace it (last one wins) */
    LM_PUT_APPEND       /* store another record (needs LM_CREATE_DUPS) */
};

/* lm_map_create flags */
#define LM_CREATE_DUPS     0x01  /* allow several records per key */
#define LM_CREATE_NOWAIT   0x02  /* fail with LM_E_BUSY if the output is locked */
#define LM_CREATE_UNSAFE   0x04  /* replace a symbolic link at the target */
#define LM_CREATE_SORTED   0x08  /* keys arrive in sorted order (btree bulk load) */

struct lm_map_opts {
    unsigned flags;             /* LM_CREATE_* */
    unsigned long nelem;        /* expected record count, 0 = unknown */
    size_t cache_size;          /* database cache in bytes, 0 = backend default */
};

struct lm_map;

/* Backend capabilities */
#define LM_CAP_GET      0x01
#define LM_CAP_ITERATE  0x02
#define LM_CAP_DUPS     0x04
#define LM_CAP_SLOW_EXISTS 0x08  /* finding an existing key while building is costly */

struct lm_type_info {
    const char *name;           /* "hash" */
    const char *suffix;         /* ".db"; the first file for several-file types */
    const char *description;
    unsigned    caps;
};

/* The types compiled into this library, NULL-terminated; borrowed. */
const struct lm_type_info *const *lm_map_types(void);

/* Find a type by name; NULL if not built in. */
const struct lm_type_info *lm_map_type(const char *name);

/* The path of the map file for NAME: NAME plus the type's suffix, unless NAME
 * already ends in it.  For dbm the .dir file.  Returns a malloc'd string, or
 * NULL if out of memory. */
char *lm_map_path(const char *type, const char *name);

/* The map's base name: NAME without the type's suffix (or .dir/.pag for dbm).
 * malloc'd, NULL if out of memory. */
char *lm_map_base(const char *type, const char *name);

/* Guess the type of an existing map file from its name's suffix ("x.cdb" is
 * cdb); NULL when the suffix says nothing (".db" is hash or btree: the file
 * is looked at). */
const char *lm_map_guess_type(const char *name);

/* Start building the map NAME (see lm_map_path) of TYPE.  Takes the output
 * lock, removes stale temporaries of earlier killed runs, creates the
 * temporary files.  Returns NULL with diagnostics on failure. */
struct lm_map *lm_map_create(const char *type, const char *name,
                             const struct lm_map_opts *opts, struct lm_diags *d);

/* Open an existing map read-only.  NULL with diagnostics on failure (code
 * LM_E_NOINPUT when it does not exist). */
struct lm_map *lm_map_open(const char *type, const char *name, struct lm_diags *d);

/* Store a record.  0 stored, LM_EXISTS (key present, LM_PUT_INSERT, nothing
 * stored), -1 error.  Key and value are copied. */
int lm_map_put(struct lm_map *m, const lm_datum *key, const lm_datum *val,
               enum lm_put_mode mode, struct lm_diags *d);

/* Look a key up.  0 found (val borrowed, valid until the next call on m),
 * LM_NOTFOUND, -1 error. */
int lm_map_get(struct lm_map *m, const lm_datum *key, lm_datum *val,
               struct lm_diags *d);

/* Iterate over all records in database order: 0 a record (borrowed as for
 * lm_map_get), LM_NOTFOUND at the end, -1 error. */
int lm_map_next(struct lm_map *m, lm_datum *key, lm_datum *val, struct lm_diags *d);

/* Publish a map being built.  On failure nothing is published and the old
 * map is untouched.  Either way m must still be closed. */
int lm_map_commit(struct lm_map *m, struct lm_diags *d);

/* Release everything; a map still being built is discarded.  NULL is fine. */
void lm_map_close(struct lm_map *m);

/* Output files of a map being built or open (final names), NULL-terminated;
 * borrowed. */
const char *const *lm_map_files(const struct lm_map *m);

#endif
