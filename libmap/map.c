/*
 * map.c - the map type table and the generic handle.
 *
 * Policy that is the same for every type lives here: file naming, the
 * BUILDING -> COMMITTED | ABORTED state machine, atomic publication.  Case
 * folding, NUL terminators and duplicate handling belong to the caller
 * (compile.c); backends only store bytes.
 */
#include "libmap/map.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "libmap/atomic.h"
#include "libmap/internal.h"

static const struct lm_backend *const map_backends[] = {
#ifdef LM_HAVE_BDB
    &lm_backend_hash,
    &lm_backend_btree,
#endif
#ifdef LM_HAVE_GDBM
    &lm_backend_dbm,
    &lm_backend_gdbm,
#endif
#ifdef LM_HAVE_CDB
    &lm_backend_cdb,
#endif
#ifdef LM_HAVE_LMDB
    &lm_backend_lmdb,
#endif
    NULL
};

static const struct lm_type_info *const map_infos[] = {
#ifdef LM_HAVE_BDB
    &lm_backend_hash.info,
    &lm_backend_btree.info,
#endif
#ifdef LM_HAVE_GDBM
    &lm_backend_dbm.info,
    &lm_backend_gdbm.info,
#endif
#ifdef LM_HAVE_CDB
    &lm_backend_cdb.info,
#endif
#ifdef LM_HAVE_LMDB
    &lm_backend_lmdb.info,
#endif
    NULL
};

const struct lm_type_info *const *
lm_map_types(void)
{
    return map_infos;
}

const struct lm_backend *
lm_backend_find(const char *name)
{
    size_t i;

    if (name == NULL)
        return NULL;
    for (i = 0; map_backends[i] != NULL; i++)
        if (strcmp(map_backends[i]->info.name, name) == 0)
            return map_backends[i];
    return NULL;
}

const struct lm_type_info *
lm_map_type(const char *name)
{
    const struct lm_backend *be = lm_backend_find(name);

    return be ? &be->info : NULL;
}

void
lm_fold(void *data, size_t len)
{
    unsigned char *p = data;
    size_t i;

    for (i = 0; i < len; i++)
        if (p[i] >= 'A' && p[i] <= 'Z')
            p[i] = (unsigned char)(p[i] + ('a' - 'A'));
}

static int
map_ends_with(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);

    return ls > lx && strcmp(s + ls - lx, suffix) == 0;
}

static char *
map_base_of(const struct lm_backend *be, const char *name)
{
    size_t i, len = strlen(name);
    char *p;

    for (i = 0; be->suffixes[i] != NULL; i++)
        if (map_ends_with(name, be->suffixes[i])) {
            len -= strlen(be->suffixes[i]);
            break;
        }
    if ((p = malloc(len + 1)) != NULL) {
        memcpy(p, name, len);
        p[len] = '\0';
    }
    return p;
}

char *
lm_map_base(const char *type, const char *name)
{
    const struct lm_backend *be = lm_backend_find(type);

    return be ? map_base_of(be, name) : NULL;
}

char *
lm_map_path(const char *type, const char *name)
{
    const struct lm_backend *be = lm_backend_find(type);
    char *base, *path;

    if (be == NULL || (base = map_base_of(be, name)) == NULL)
        return NULL;
    path = lm_str_join(base, be->suffixes[0], "");
    free(base);
    return path;
}

const char *
lm_map_guess_type(const char *name)
{
    size_t i, j;

    for (i = 0; map_backends[i] != NULL; i++) {
        const struct lm_backend *be = map_backends[i];
        if (strcmp(be->suffixes[0], ".db") == 0)
            continue;           /* hash and btree share .db */
        for (j = 0; be->suffixes[j] != NULL; j++)
            if (map_ends_with(name, be->suffixes[j]))
                return be->info.name;
    }
    return NULL;
}

static struct lm_map *
map_new(const struct lm_backend *be, const char *name, struct lm_diags *d)
{
    struct lm_map *m;
    size_t n, i;

    if ((m = calloc(1, be->size)) == NULL)
        goto nomem;
    m->be = be;
    if ((m->name = map_base_of(be, name)) == NULL)
        goto nomem;
    for (n = 0; be->suffixes[n] != NULL; n++)
        ;
    if ((m->final = calloc(n + 1, sizeof *m->final)) == NULL)
        goto nomem;
    for (i = 0; i < n; i++)
        if ((m->final[i] = lm_str_join(m->name, be->suffixes[i], "")) == NULL)
            goto nomem;
    return m;
nomem:
    lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    lm_map_close(m);
    return NULL;
}

static const struct lm_backend *
map_need_backend(const char *type, struct lm_diags *d)
{
    const struct lm_backend *be = lm_backend_find(type);

    if (be == NULL)
        lm_diag_add(d, LM_ERROR, LM_E_UNSUPPORTED, NULL,
                    "unknown map type \"%s\" (mapc -l lists the types built in)",
                    type ? type : "");
    return be;
}

struct lm_map *
lm_map_create(const char *type, const char *name, const struct lm_map_opts *opts,
              struct lm_diags *d)
{
    const struct lm_backend *be = map_need_backend(type, d);
    struct lm_map *m;
    unsigned aflags = 0;
    char *tmpbase;
    const char *slash;
    int rc;

    if (be == NULL || (m = map_new(be, name, d)) == NULL)
        return NULL;
    if (opts != NULL)
        m->opts = *opts;
    if ((m->opts.flags & LM_CREATE_DUPS) && !(be->info.caps & LM_CAP_DUPS)) {
        lm_diag_add(d, LM_ERROR, LM_E_UNSUPPORTED, NULL,
                    "map type %s cannot hold duplicate keys", be->info.name);
        lm_map_close(m);
        return NULL;
    }
    if (m->opts.flags & LM_CREATE_NOWAIT)
        aflags |= LM_ATOMIC_NOWAIT;
    if (m->opts.flags & LM_CREATE_UNSAFE)
        aflags |= LM_ATOMIC_UNSAFE;
    /* A map of several files (dbm's .dir and .pag) is published as a set. */
    aflags |= LM_ATOMIC_SET;
    if ((m->out = lm_atomic_begin((const char *const *)m->final, aflags, d)) == NULL) {
        lm_map_close(m);
        return NULL;
    }
    slash = strrchr(m->name, '/');
    if ((tmpbase = lm_str_join(lm_atomic_dir(m->out), "/", slash ? slash + 1 : m->name)) == NULL) {
        lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
        lm_map_close(m);
        return NULL;
    }
    m->state = LM_ST_BUILDING;
    rc = be->create(m, tmpbase, d);
    free(tmpbase);
    if (rc != 0) {
        m->state = LM_ST_ABORTED;
        lm_map_close(m);
        return NULL;
    }
    return m;
}

struct lm_map *
lm_map_open(const char *type, const char *name, struct lm_diags *d)
{
    const struct lm_backend *be = map_need_backend(type, d);
    struct lm_map *m;
    struct stat st;

    if (be == NULL || (m = map_new(be, name, d)) == NULL)
        return NULL;
    if (stat(m->final[0], &st) != 0) {
        lm_diag_sys(d, errno == ENOENT ? LM_E_NOINPUT : LM_E_IO, errno, NULL,
                    "cannot open %s", m->final[0]);
        lm_map_close(m);
        return NULL;
    }
    m->state = LM_ST_READ;
    if (be->open_ro(m, m->name, d) != 0) {
        m->state = LM_ST_ABORTED;
        lm_map_close(m);
        return NULL;
    }
    return m;
}

int
lm_map_put(struct lm_map *m, const lm_datum *key, const lm_datum *val,
           enum lm_put_mode mode, struct lm_diags *d)
{
    assert(m != NULL && m->state == LM_ST_BUILDING);
    assert(mode != LM_PUT_APPEND || (m->opts.flags & LM_CREATE_DUPS));
    return m->be->put(m, key, val, mode, d);
}

int
lm_map_get(struct lm_map *m, const lm_datum *key, lm_datum *val, struct lm_diags *d)
{
    int rc;

    assert(m != NULL && (m->state == LM_ST_READ || m->state == LM_ST_BUILDING));
    if (m->be->get == NULL)
        return lm_diag_add(d, LM_ERROR, LM_E_UNSUPPORTED, NULL,
                           "map type %s does not support lookups", m->be->info.name);
    rc = m->be->get(m, key, val, d);
    if (rc == 0 && val->len == 0)
        val->data = "";         /* some libraries hand out NULL for an empty value */
    return rc;
}

int
lm_map_next(struct lm_map *m, lm_datum *key, lm_datum *val, struct lm_diags *d)
{
    int rc;

    assert(m != NULL && m->state == LM_ST_READ);
    if (m->be->next == NULL)
        return lm_diag_add(d, LM_ERROR, LM_E_UNSUPPORTED, NULL,
                           "map type %s cannot be listed", m->be->info.name);
    rc = m->be->next(m, key, val, d);
    if (rc == 0) {
        if (key->len == 0)
            key->data = "";
        if (val->len == 0)
            val->data = "";
    }
    return rc;
}

int
lm_map_commit(struct lm_map *m, struct lm_diags *d)
{
    int rc;

    assert(m != NULL && m->state == LM_ST_BUILDING);
    rc = m->be->finish(m, d);
    if (rc == 0)
        rc = lm_atomic_commit(m->out, d);
    m->state = rc == 0 ? LM_ST_COMMITTED : LM_ST_ABORTED;
    return rc;
}

const char *const *
lm_map_files(const struct lm_map *m)
{
    return (const char *const *)m->final;
}

void
lm_map_close(struct lm_map *m)
{
    size_t i;

    if (m == NULL)
        return;
    if (m->state == LM_ST_READ || m->state == LM_ST_BUILDING)
        m->be->close(m);
    lm_atomic_end(m->out);
    if (m->final != NULL)
        for (i = 0; m->final[i] != NULL; i++)
            free(m->final[i]);
    free(m->final);
    free(m->name);
    free(m);
}
