/*
 * map_lmdb.c - lmdb maps through liblmdb: one file NAME.lmdb (MDB_NOSUBDIR),
 * the unnamed database, one value per key, as postmap lmdb: writes them.
 *
 * Building: records are kept in memory (an arena, and a hash set that
 * answers "is this key there" at put time), sorted by key when the map is
 * finished and loaded with MDB_APPEND in one write transaction: densely
 * packed pages and no page splits in the middle of the tree.  The map size is
 * estimated from the records; if liblmdb still reports MDB_MAP_FULL the
 * half-written file is thrown away and the load is repeated with twice the
 * size, as often as needed.
 *
 * No lock file: the map is built in the private temporary directory and
 * published by rename, runs on one output are serialised by atomic.c's lock,
 * so MDB_NOLOCK is used for building and reading (no NAME.lmdb-lock is ever
 * created).  Readers hold a shared fcntl lock on the map file while it is
 * open, which is the lock that other writers updating an lmdb map in place
 * take exclusively.
 */
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libmap/internal.h"
#include "libmap/util.h"

struct map_lmdb_slot {
    uint32_t hash;
    uint32_t idx;               /* record index + 1; 0 = empty slot */
};

struct map_lmdb_chunk {
    struct map_lmdb_chunk *next;
    size_t used, size;
    unsigned char data[];
};

struct map_lmdb_sort {
    uint64_t prefix;            /* first 8 key bytes, big-endian, zero-padded */
    const unsigned char *rec;
};

struct map_lmdb {
    struct lm_map base;
    char *path;
    MDB_env *env;
    MDB_txn *txn;               /* reading */
    MDB_cursor *cursor;         /* reading: iteration */
    MDB_dbi dbi;
    int lockfd;                 /* reading: holds the shared lock */
    size_t maxkey;
    /* building */
    struct map_lmdb_chunk *arena;
    const unsigned char **recs; /* each: klen (4), vlen (4), key, value */
    size_t nrecs, caprecs;
    struct map_lmdb_slot *slots;
    size_t nslots;
    uint64_t bytes;             /* sum of key and value lengths */
    uint64_t overflow;          /* bytes of values that go to overflow pages */
};

static const char *const map_lmdb_suffixes[] = { ".lmdb", NULL };

/* MDB_WRITEMAP: pages are written in place in the file mapping instead of
 * being copied from the heap; liblmdb then extends the file to the map size,
 * so it is cut back to the pages used once the load is done. */
#define MAP_LMDB_ENV_BUILD (MDB_NOSUBDIR | MDB_NOLOCK | MDB_NOSYNC | MDB_NOMETASYNC \
                            | MDB_WRITEMAP)
#define MAP_LMDB_ENV_READ  (MDB_NOSUBDIR | MDB_NOLOCK | MDB_RDONLY)
#define MAP_LMDB_MIN_SIZE  ((size_t)1 << 20)

/* liblmdb takes non-const data pointers even for reading; this is the one
 * place where const is dropped. */
static void
map_lmdb_val(MDB_val *t, const void *data, size_t len)
{
    union { const void *c; void *v; } u;

    u.c = data;
    t->mv_data = u.v;
    t->mv_size = len;
}

static int
map_lmdb_err(struct map_lmdb *l, int code, int rc, const char *what, struct lm_diags *d)
{
    if (rc > 0)     /* a system errno */
        return lm_diag_sys(d, code, rc, NULL, "%s %s", what, l->path);
    return lm_diag_add(d, LM_ERROR, code, NULL, "%s %s: %s", what, l->path, mdb_strerror(rc));
}

static uint32_t
map_lmdb_len(const unsigned char *p)
{
    uint32_t n;

    memcpy(&n, p, sizeof n);
    return n;
}

/* The slot hash of a key: the low bits of lm_hash64 (part of the file
 * format). */
static uint32_t
map_lmdb_hash(const unsigned char *p, size_t len)
{
    return (uint32_t)lm_hash64(p, len);
}

/* Open the environment of the file path with the given flags and size (0 =
 * the size the file records). */
static int
map_lmdb_env(struct map_lmdb *l, unsigned flags, size_t mapsize, struct lm_diags *d)
{
    int rc;

    if ((rc = mdb_env_create(&l->env)) != 0) {
        l->env = NULL;
        return map_lmdb_err(l, LM_E_INTERNAL, rc, "cannot set up", d);
    }
    if (mapsize > 0 && (rc = mdb_env_set_mapsize(l->env, mapsize)) != 0)
        goto fail;
    if ((rc = mdb_env_open(l->env, l->path, flags, 0666)) != 0)
        goto fail;
    l->maxkey = (size_t)mdb_env_get_maxkeysize(l->env);
    return 0;
fail:
    mdb_env_close(l->env);
    l->env = NULL;
    if (flags & MDB_RDONLY)
        return map_lmdb_err(l, rc == ENOENT ? LM_E_NOINPUT
                               : rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH ? LM_E_FORMAT
                               : LM_E_IO, rc, "cannot open", d);
    return map_lmdb_err(l, LM_E_CREATE, rc, "cannot create", d);
}

static int
map_lmdb_create(struct lm_map *m, const char *base, struct lm_diags *d)
{
    struct map_lmdb *l = (struct map_lmdb *)m;

    l->lockfd = -1;
    if ((l->path = lm_str_join(base, ".lmdb", "")) == NULL)
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    /* Created now, so that an unwritable directory fails before the
     * source is read; the real map size is set when the records are in. */
    if (map_lmdb_env(l, MAP_LMDB_ENV_BUILD, MAP_LMDB_MIN_SIZE, d) != 0) {
        free(l->path);
        l->path = NULL;
        return -1;
    }
    return 0;
}

static int
map_lmdb_open(struct lm_map *m, const char *base, struct lm_diags *d)
{
    struct map_lmdb *l = (struct map_lmdb *)m;
    struct flock fl;
    int rc;

    l->lockfd = -1;
    if ((l->path = lm_str_join(base, ".lmdb", "")) == NULL)
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    if ((l->lockfd = open(l->path, O_RDONLY | O_CLOEXEC)) < 0) {
        map_lmdb_err(l, errno == ENOENT ? LM_E_NOINPUT : LM_E_IO, errno, "cannot open", d);
        goto fail;
    }
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_RDLCK;
    fl.l_whence = SEEK_SET;
    while ((rc = fcntl(l->lockfd, F_SETLKW, &fl)) != 0 && errno == EINTR)
        ;
    if (rc != 0) {
        map_lmdb_err(l, LM_E_IO, errno, "cannot lock", d);
        goto fail;
    }
    if (map_lmdb_env(l, MAP_LMDB_ENV_READ, 0, d) != 0)
        goto fail;
    if ((rc = mdb_txn_begin(l->env, NULL, MDB_RDONLY, &l->txn)) != 0
        || (rc = mdb_dbi_open(l->txn, NULL, 0, &l->dbi)) != 0) {
        map_lmdb_err(l, LM_E_FORMAT, rc, "cannot read", d);
        goto fail;
    }
    /* A file cut short: the pages past its end would read as zeros (or
     * SIGBUS).  The meta page says how many pages there are. */
    {
        MDB_envinfo info;
        MDB_stat est;
        struct stat st;
        if (mdb_env_info(l->env, &info) == 0 && mdb_env_stat(l->env, &est) == 0
            && fstat(l->lockfd, &st) == 0
            && (uintmax_t)st.st_size < ((uintmax_t)info.me_last_pgno + 1) * est.ms_psize) {
            lm_diag_add(d, LM_ERROR, LM_E_FORMAT, NULL,
                        "%s is damaged: %jd bytes, shorter than its %ju pages of %u bytes "
                        "(a truncated file?)", l->path, (intmax_t)st.st_size,
                        (uintmax_t)info.me_last_pgno + 1, est.ms_psize);
            goto fail;
        }
    }
    return 0;
fail:
    if (l->txn != NULL)
        mdb_txn_abort(l->txn);
    l->txn = NULL;
    if (l->env != NULL)
        mdb_env_close(l->env);
    l->env = NULL;
    if (l->lockfd >= 0)
        close(l->lockfd);
    l->lockfd = -1;
    free(l->path);
    l->path = NULL;
    return -1;
}

static unsigned char *
map_lmdb_keep(struct map_lmdb *l, const lm_datum *k, const lm_datum *v)
{
    struct map_lmdb_chunk *c = l->arena;
    size_t len = 8 + k->len + v->len;
    uint32_t n;
    unsigned char *p;

    if (c == NULL || c->size - c->used < len) {
        size_t size = len > (4u << 20) ? len : (4u << 20);
        if ((c = malloc(sizeof *c + size)) == NULL)
            return NULL;
        c->next = l->arena;
        c->used = 0;
        c->size = size;
        l->arena = c;
    }
    p = c->data + c->used;
    c->used += len;
    n = (uint32_t)k->len;
    memcpy(p, &n, 4);
    n = (uint32_t)v->len;
    memcpy(p + 4, &n, 4);
    memcpy(p + 8, k->data, k->len);
    if (v->len)
        memcpy(p + 8 + k->len, v->data, v->len);
    return p;
}

static int
map_lmdb_grow(struct map_lmdb *l)
{
    size_t n = l->nslots ? 2 * l->nslots : 1024, i;
    struct map_lmdb_slot *s;

    /* The first table is sized from the expected record count (an
     * overestimate: lines are longer than it assumes), so that a large map
     * is not rehashed again and again. */
    while (l->nslots == 0 && n < l->base.opts.nelem && n < ((size_t)1 << 31))
        n *= 2;
    if ((s = calloc(n, sizeof *s)) == NULL)
        return -1;
    for (i = 0; i < l->nslots; i++) {
        size_t j;
        if (l->slots[i].idx == 0)
            continue;
        for (j = l->slots[i].hash & (n - 1); s[j].idx != 0; j = (j + 1) & (n - 1))
            ;
        s[j] = l->slots[i];
    }
    free(l->slots);
    l->slots = s;
    l->nslots = n;
    return 0;
}

/* The slot of the key, or the empty slot where it belongs. */
static struct map_lmdb_slot *
map_lmdb_find(struct map_lmdb *l, const lm_datum *k, uint32_t h)
{
    size_t j, mask = l->nslots - 1;

    for (j = h & mask;; j = (j + 1) & mask) {
        struct map_lmdb_slot *s = &l->slots[j];
        const unsigned char *r;
        if (s->idx == 0)
            return s;
        if (s->hash != h)
            continue;           /* the record itself is not touched: no cache miss */
        r = l->recs[s->idx - 1];
        if (map_lmdb_len(r) == k->len && memcmp(r + 8, k->data, k->len) == 0)
            return s;
    }
}

/* What a record costs in the file: node header and index, and whole pages
 * for a value too large to share a page. */
static void
map_lmdb_account(struct map_lmdb *l, const lm_datum *k, const lm_datum *v, int sign)
{
    uint64_t n = k->len + v->len + 16;

    if (sign > 0) {
        l->bytes += n;
        if (v->len > 1024)
            l->overflow += v->len + 4096;
    } else {
        l->bytes -= n;
        if (v->len > 1024)
            l->overflow -= v->len + 4096;
    }
}

static int
map_lmdb_put(struct lm_map *m, const lm_datum *k, const lm_datum *v,
             enum lm_put_mode mode, struct lm_diags *d)
{
    struct map_lmdb *l = (struct map_lmdb *)m;
    struct map_lmdb_slot *s;
    unsigned char *rec;
    uint32_t h;

    if (k->len == 0)
        return lm_diag_add(d, LM_ERROR, LM_E_SYNTAX, NULL, "an empty key cannot be stored in lmdb");
    if (k->len > l->maxkey) {
        char q[LM_QUOTE_BUF];
        lm_quote(q, k->data, k->len, 40);
        return lm_diag_add(d, LM_ERROR, LM_E_SYNTAX, NULL,
                           "key \"%s\" is %zu bytes long; lmdb keys hold at most %zu",
                           q, k->len, l->maxkey);
    }
    if (v->len > 0xffffffffu)
        return lm_diag_add(d, LM_ERROR, LM_E_SYNTAX, NULL, "value too large for lmdb");
    if (2 * (l->nrecs + 1) > l->nslots && map_lmdb_grow(l) != 0)
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    h = map_lmdb_hash(k->data, k->len);
    s = map_lmdb_find(l, k, h);
    if (s->idx != 0 && mode == LM_PUT_INSERT)
        return LM_EXISTS;
    if ((rec = map_lmdb_keep(l, k, v)) == NULL)
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    if (s->idx != 0) {
        /* replace: the old copy stays in the arena, unreferenced */
        const unsigned char *old = l->recs[s->idx - 1];
        lm_datum ov = { old + 8 + map_lmdb_len(old), map_lmdb_len(old + 4) };
        map_lmdb_account(l, k, &ov, -1);
        l->recs[s->idx - 1] = rec;
    } else {
        if (l->nrecs == l->caprecs) {
            size_t n = l->caprecs ? 2 * l->caprecs : (l->base.opts.nelem > 1024 ? l->base.opts.nelem : 1024);
            const unsigned char **nr = realloc(l->recs, n * sizeof *nr);
            if (nr == NULL)
                return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
            l->recs = nr;
            l->caprecs = n;
        }
        l->recs[l->nrecs++] = rec;
        s->hash = h;
        s->idx = (uint32_t)l->nrecs;
    }
    map_lmdb_account(l, k, v, 1);
    return 0;
}

static int
map_lmdb_get(struct lm_map *m, const lm_datum *k, lm_datum *v, struct lm_diags *d)
{
    struct map_lmdb *l = (struct map_lmdb *)m;
    MDB_val key, val;
    int rc;

    if (m->state == LM_ST_BUILDING) {
        struct map_lmdb_slot *s;
        const unsigned char *r;
        if (l->nslots == 0)
            return LM_NOTFOUND;
        s = map_lmdb_find(l, k, map_lmdb_hash(k->data, k->len));
        if (s->idx == 0)
            return LM_NOTFOUND;
        r = l->recs[s->idx - 1];
        v->data = r + 8 + map_lmdb_len(r);
        v->len = map_lmdb_len(r + 4);
        return 0;
    }
    /* liblmdb refuses such keys outright; none can be in the map */
    if (k->len == 0 || k->len > l->maxkey)
        return LM_NOTFOUND;
    map_lmdb_val(&key, k->data, k->len);
    rc = mdb_get(l->txn, l->dbi, &key, &val);
    if (rc == MDB_NOTFOUND)
        return LM_NOTFOUND;
    if (rc != 0)
        return map_lmdb_err(l, LM_E_FORMAT, rc, "cannot read", d);
    v->data = val.mv_data;
    v->len = val.mv_size;
    return 0;
}

static int
map_lmdb_next(struct lm_map *m, lm_datum *k, lm_datum *v, struct lm_diags *d)
{
    struct map_lmdb *l = (struct map_lmdb *)m;
    MDB_val key, val;
    int rc, first = 0;

    if (l->cursor == NULL) {
        if ((rc = mdb_cursor_open(l->txn, l->dbi, &l->cursor)) != 0) {
            l->cursor = NULL;
            return map_lmdb_err(l, LM_E_FORMAT, rc, "cannot read", d);
        }
        first = 1;
    }
    rc = mdb_cursor_get(l->cursor, &key, &val, first ? MDB_FIRST : MDB_NEXT);
    if (rc == MDB_NOTFOUND)
        return LM_NOTFOUND;
    if (rc != 0)
        return map_lmdb_err(l, LM_E_FORMAT, rc, "cannot read", d);
    k->data = key.mv_data;
    k->len = key.mv_size;
    v->data = val.mv_data;
    v->len = val.mv_size;
    return 0;
}

static int
map_lmdb_cmp(const void *a, const void *b)
{
    const struct map_lmdb_sort *x = a, *y = b;
    uint32_t xl, yl;
    int c;

    if (x->prefix != y->prefix)
        return x->prefix < y->prefix ? -1 : 1;
    /* liblmdb's default order: bytes, then the shorter key first */
    xl = map_lmdb_len(x->rec);
    yl = map_lmdb_len(y->rec);
    c = memcmp(x->rec + 8, y->rec + 8, xl < yl ? xl : yl);
    return c != 0 ? c : (xl > yl) - (xl < yl);
}

/* One write transaction that appends every record in key order.  Returns 0
 * or a liblmdb error code. */
static int
map_lmdb_load(struct map_lmdb *l, const struct map_lmdb_sort *v)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val key, val;
    size_t i;
    int rc;

    if ((rc = mdb_txn_begin(l->env, NULL, 0, &txn)) != 0)
        return rc;
    if ((rc = mdb_dbi_open(txn, NULL, 0, &l->dbi)) != 0
        || (rc = mdb_cursor_open(txn, l->dbi, &cur)) != 0) {
        mdb_txn_abort(txn);
        return rc;
    }
    for (i = 0; i < l->nrecs; i++) {
        const unsigned char *r = v[i].rec;
        uint32_t kl = map_lmdb_len(r);
        map_lmdb_val(&key, r + 8, kl);
        map_lmdb_val(&val, r + 8 + kl, map_lmdb_len(r + 4));
        if ((rc = mdb_cursor_put(cur, &key, &val, MDB_APPEND)) != 0) {
            mdb_cursor_close(cur);
            mdb_txn_abort(txn);
            return rc;
        }
    }
    mdb_cursor_close(cur);
    return mdb_txn_commit(txn);     /* frees the transaction either way */
}

static void
map_lmdb_release(struct map_lmdb *l)
{
    struct map_lmdb_chunk *c, *next;

    for (c = l->arena; c != NULL; c = next) {
        next = c->next;
        free(c);
    }
    l->arena = NULL;
    free(l->recs);
    l->recs = NULL;
    free(l->slots);
    l->slots = NULL;
    if (l->cursor != NULL)
        mdb_cursor_close(l->cursor);
    l->cursor = NULL;
    if (l->txn != NULL)
        mdb_txn_abort(l->txn);
    l->txn = NULL;
    if (l->env != NULL)
        mdb_env_close(l->env);
    l->env = NULL;
    if (l->lockfd >= 0)
        close(l->lockfd);
    l->lockfd = -1;
    free(l->path);
    l->path = NULL;
}

static int
map_lmdb_finish(struct lm_map *m, struct lm_diags *d)
{
    struct map_lmdb *l = (struct map_lmdb *)m;
    struct map_lmdb_sort *v = NULL;
    uint64_t want;
    size_t i, mapsize;
    int rc;

    if (l->nrecs > 0 && (v = malloc(l->nrecs * sizeof *v)) == NULL) {
        map_lmdb_release(l);
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    }
    for (i = 0; i < l->nrecs; i++) {
        const unsigned char *r = l->recs[i];
        unsigned char pre[8] = { 0 };
        uint32_t kl = map_lmdb_len(r), j;
        uint64_t p = 0;
        memcpy(pre, r + 8, kl < 8 ? kl : 8);
        for (j = 0; j < 8; j++)
            p = (p << 8) | pre[j];
        v[i].prefix = p;
        v[i].rec = r;
    }
    if (l->nrecs > 1)
        qsort(v, l->nrecs, sizeof *v, map_lmdb_cmp);
    /* Twice the payload leaves room for page headers and the branch pages;
     * -c (cache_size) sets the starting size instead. */
    want = 2 * l->bytes + l->overflow + MAP_LMDB_MIN_SIZE;
    if (m->opts.cache_size > 0)
        want = m->opts.cache_size;
    if (want > SIZE_MAX / 4)
        want = SIZE_MAX / 4;
    mapsize = ((size_t)want + 65535) & ~(size_t)65535;
    for (;;) {
        if ((rc = mdb_env_set_mapsize(l->env, mapsize)) == 0)
            rc = map_lmdb_load(l, v);
        if (rc != MDB_MAP_FULL || mapsize > SIZE_MAX / 4)
            break;
        /* Start again on an empty file: pages an aborted transaction
         * spilled must not stay behind in the published map. */
        mdb_env_close(l->env);
        l->env = NULL;
        if (unlink(l->path) != 0) {
            rc = errno;
            break;
        }
        mapsize *= 2;
        if (map_lmdb_env(l, MAP_LMDB_ENV_BUILD, mapsize, d) != 0) {
            free(v);
            map_lmdb_release(l);
            return -1;
        }
    }
    free(v);
    if (rc == 0) {
        MDB_envinfo info;
        MDB_stat st;
        if ((rc = mdb_env_info(l->env, &info)) == 0 && (rc = mdb_env_stat(l->env, &st)) == 0) {
            off_t used = (off_t)(info.me_last_pgno + 1) * (off_t)st.ms_psize;
            mdb_env_close(l->env);
            l->env = NULL;
            if (truncate(l->path, used) != 0)
                rc = errno;
        }
    }
    if (rc != 0)
        map_lmdb_err(l, LM_E_IO, rc, "cannot write", d);
    map_lmdb_release(l);    /* closes the environment; the core fsyncs */
    return rc != 0 ? -1 : 0;
}

static void
map_lmdb_close(struct lm_map *m)
{
    map_lmdb_release((struct map_lmdb *)m);
}

const struct lm_backend lm_backend_lmdb = {
    .info = { "lmdb", ".lmdb", "OpenLDAP LMDB (postmap lmdb:), one file, no lock file",
              LM_CAP_GET | LM_CAP_ITERATE },
    .suffixes = map_lmdb_suffixes,
    .size = sizeof(struct map_lmdb),
    .max_key = 511,             /* liblmdb's MDB_MAXKEYSIZE, checked again at put */
    .create = map_lmdb_create,
    .open_ro = map_lmdb_open,
    .put = map_lmdb_put,
    .get = map_lmdb_get,
    .next = map_lmdb_next,
    .finish = map_lmdb_finish,
    .close = map_lmdb_close,
};
