/*
 * map_dbm.c - dbm (the ndbm .dir/.pag pair, through GDBM's compatibility
 * layer) and native gdbm maps.
 *
 * Both are written with memory mapping off and a larger cache: GDBM's
 * defaults make a million-record build several times slower.  The .dir and
 * .pag files of a dbm map are renamed one after the other, so their
 * publication is not a single atomic step (mapc(8) says so).
 */
#include <errno.h>
#include <fcntl.h>
#include <gdbm.h>
#include <ndbm.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libmap/internal.h"

struct map_dbm {
    struct lm_map base;
    GDBM_FILE gf;       /* gdbm: the file; dbm: the file inside the DBM */
    DBM *dbm;           /* dbm only */
    char *path;
    datum fetched;      /* last value or key handed out (gdbm mallocs them) */
    datum cursor;
    int started;
};

static const char *const map_dbm_suffixes[] = { ".dir", ".pag", NULL };
static const char *const map_gdbm_suffixes[] = { ".gdbm", NULL };

/* GDBM takes non-const data pointers; the one place const is dropped. */
static datum
map_dbm_datum(const lm_datum *x)
{
    union { const void *c; char *v; } u;
    datum r;

    u.c = x->data;
    r.dptr = u.v;
    r.dsize = (int)x->len;
    return r;
}

static int
map_dbm_gerr(struct map_dbm *g, int code, const char *what, struct lm_diags *d)
{
    int ge = gdbm_errno;

    if (gdbm_syserr[ge] && errno != 0)
        return lm_diag_add(d, LM_ERROR, code, NULL, "%s %s: %s: %s", what, g->path,
                           gdbm_strerror(ge), strerror(errno));
    return lm_diag_add(d, LM_ERROR, code, NULL, "%s %s: %s", what, g->path, gdbm_strerror(ge));
}

static void
map_dbm_tune(struct map_dbm *g, size_t cache)
{
    int off = 0;
    /* Buckets held in memory: 64 MiB worth by default, as for hash. */
    size_t buckets = (cache ? cache : (64u << 20)) / 4096;

    (void)gdbm_setopt(g->gf, GDBM_SETMMAP, &off, sizeof off);
    (void)gdbm_setopt(g->gf, GDBM_SETCACHESIZE, &buckets, sizeof buckets);
}

static void
map_dbm_release(struct map_dbm *g)
{
    free(g->fetched.dptr);
    g->fetched.dptr = NULL;
    free(g->cursor.dptr);
    g->cursor.dptr = NULL;
    if (g->dbm != NULL)
        dbm_close(g->dbm);
    else if (g->gf != NULL)
        gdbm_close(g->gf);
    g->dbm = NULL;
    g->gf = NULL;
    free(g->path);
    g->path = NULL;
}

static int
map_dbm_start(struct lm_map *m, const char *base, int create, struct lm_diags *d)
{
    struct map_dbm *g = (struct map_dbm *)m;
    char *name;

    if ((g->path = lm_str_join(base, ".pag", "")) == NULL)
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    /* dbm_open wants a writable name. */
    if ((name = lm_str_join(base, "", "")) == NULL) {
        map_dbm_release(g);
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    }
    errno = 0;
    g->dbm = dbm_open(name, create ? O_RDWR | O_CREAT | O_EXCL : O_RDONLY, 0666);
    free(name);
    if (g->dbm == NULL) {
        int e = errno;
        map_dbm_gerr(g, create ? LM_E_CREATE : (e == ENOENT ? LM_E_NOINPUT : LM_E_FORMAT),
                     create ? "cannot create" : "cannot open", d);
        map_dbm_release(g);
        return -1;
    }
    g->gf = g->dbm->file;
    if (create)
        map_dbm_tune(g, m->opts.cache_size);
    return 0;
}

static int map_dbm_create(struct lm_map *m, const char *b, struct lm_diags *d)
{ return map_dbm_start(m, b, 1, d); }
static int map_dbm_open(struct lm_map *m, const char *b, struct lm_diags *d)
{ return map_dbm_start(m, b, 0, d); }

static int
map_gdbm_start(struct lm_map *m, const char *base, int create, struct lm_diags *d)
{
    struct map_dbm *g = (struct map_dbm *)m;

    if ((g->path = lm_str_join(base, ".gdbm", "")) == NULL)
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    errno = 0;
    g->gf = gdbm_open(g->path, 0, create ? GDBM_NEWDB | GDBM_NOMMAP : GDBM_READER,
                      0666, NULL);
    if (g->gf == NULL) {
        int e = errno;
        map_dbm_gerr(g, create ? LM_E_CREATE : (e == ENOENT ? LM_E_NOINPUT : LM_E_FORMAT),
                     create ? "cannot create" : "cannot open", d);
        map_dbm_release(g);
        return -1;
    }
    if (create)
        map_dbm_tune(g, m->opts.cache_size);
    return 0;
}

static int map_gdbm_create(struct lm_map *m, const char *b, struct lm_diags *d)
{ return map_gdbm_start(m, b, 1, d); }
static int map_gdbm_open(struct lm_map *m, const char *b, struct lm_diags *d)
{ return map_gdbm_start(m, b, 0, d); }

static int
map_dbm_put(struct lm_map *m, const lm_datum *k, const lm_datum *v,
            enum lm_put_mode mode, struct lm_diags *d)
{
    struct map_dbm *g = (struct map_dbm *)m;
    int rc;

    if (k->len > 0x7fffffff || v->len > 0x7fffffff)
        return lm_diag_add(d, LM_ERROR, LM_E_SYNTAX, NULL, "record too large for %s",
                           m->be->info.name);
    rc = gdbm_store(g->gf, map_dbm_datum(k), map_dbm_datum(v),
                    mode == LM_PUT_INSERT ? GDBM_INSERT : GDBM_REPLACE);
    if (rc == 1)
        return LM_EXISTS;
    if (rc != 0)
        return map_dbm_gerr(g, LM_E_IO, "cannot write", d);
    return 0;
}

static int
map_dbm_get(struct lm_map *m, const lm_datum *k, lm_datum *v, struct lm_diags *d)
{
    struct map_dbm *g = (struct map_dbm *)m;
    datum r;

    free(g->fetched.dptr);
    g->fetched.dptr = NULL;
    r = gdbm_fetch(g->gf, map_dbm_datum(k));
    if (r.dptr == NULL) {
        if (gdbm_errno == GDBM_ITEM_NOT_FOUND)
            return LM_NOTFOUND;
        return map_dbm_gerr(g, LM_E_IO, "cannot read", d);
    }
    g->fetched = r;
    v->data = r.dptr;
    v->len = (size_t)r.dsize;
    return 0;
}

static int
map_dbm_next(struct lm_map *m, lm_datum *k, lm_datum *v, struct lm_diags *d)
{
    struct map_dbm *g = (struct map_dbm *)m;
    datum nk;
    lm_datum kk;

    if (!g->started) {
        nk = gdbm_firstkey(g->gf);
        g->started = 1;
    } else {
        nk = gdbm_nextkey(g->gf, g->cursor);
    }
    free(g->cursor.dptr);
    g->cursor = nk;
    if (nk.dptr == NULL) {
        if (gdbm_errno == GDBM_ITEM_NOT_FOUND || gdbm_errno == GDBM_NO_ERROR)
            return LM_NOTFOUND;
        return map_dbm_gerr(g, LM_E_IO, "cannot read", d);
    }
    kk.data = nk.dptr;
    kk.len = (size_t)nk.dsize;
    *k = kk;
    return map_dbm_get(m, &kk, v, d) == 0 ? 0
         : lm_diag_add(d, LM_ERROR, LM_E_FORMAT, NULL, "%s is damaged", g->path);
}

/* Close a map that was written and say whether every byte reached the file.
 * gdbm_close syncs once more and closes, and reports both; dbm_close
 * returns nothing, so for dbm the same steps are done here on the fields
 * ndbm.h declares (the gdbm file and the .dir descriptor).  A failed fsync
 * or close is final: syncing again would only hide it. */
static int
map_dbm_close_written(struct map_dbm *g, struct lm_diags *d)
{
    int rc = 0, e;

    free(g->fetched.dptr);
    g->fetched.dptr = NULL;
    free(g->cursor.dptr);
    g->cursor.dptr = NULL;
    errno = 0;
    if (gdbm_close(g->gf) != 0) {
        e = errno;
        rc = e ? lm_diag_sys(d, LM_E_IO, e, NULL, "cannot write %s", g->path)
               : lm_diag_add(d, LM_ERROR, LM_E_IO, NULL, "cannot write %s: %s", g->path,
                             gdbm_strerror(gdbm_errno));
    }
    g->gf = NULL;
    if (g->dbm != NULL) {
        if (close(g->dbm->dirfd) != 0 && rc == 0)
            rc = lm_diag_sys(d, LM_E_IO, errno, NULL, "cannot write the .dir file of %s",
                             g->path);
        free(g->dbm->_dbm_memory.dptr);
        free(g->dbm->_dbm_fetch_val);
        free(g->dbm);
        g->dbm = NULL;
    }
    return rc;
}

static int
map_dbm_finish(struct lm_map *m, struct lm_diags *d)
{
    struct map_dbm *g = (struct map_dbm *)m;
    int rc = 0;

    if (gdbm_sync(g->gf) != 0) {
        rc = map_dbm_gerr(g, LM_E_IO, "cannot write", d);
        map_dbm_release(g);
        return rc;
    }
    rc = map_dbm_close_written(g, d);
    map_dbm_release(g);
    return rc;
}

static void
map_dbm_close(struct lm_map *m)
{
    map_dbm_release((struct map_dbm *)m);
}

const struct lm_backend lm_backend_dbm = {
    .info = { "dbm", ".dir", "ndbm .dir/.pag pair (GDBM compatibility format)",
              LM_CAP_GET | LM_CAP_ITERATE },
    .suffixes = map_dbm_suffixes,
    .size = sizeof(struct map_dbm),
    .create = map_dbm_create,
    .open_ro = map_dbm_open,
    .put = map_dbm_put,
    .get = map_dbm_get,
    .next = map_dbm_next,
    .finish = map_dbm_finish,
    .close = map_dbm_close,
};

const struct lm_backend lm_backend_gdbm = {
    .info = { "gdbm", ".gdbm", "native GNU dbm file",
              LM_CAP_GET | LM_CAP_ITERATE },
    .suffixes = map_gdbm_suffixes,
    .size = sizeof(struct map_dbm),
    .create = map_gdbm_create,
    .open_ro = map_gdbm_open,
    .put = map_dbm_put,
    .get = map_dbm_get,
    .next = map_dbm_next,
    .finish = map_dbm_finish,
    .close = map_dbm_close,
};
