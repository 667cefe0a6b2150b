/*
 * map_cdb.c - cdb maps through tinycdb.
 *
 * Records are written in put order, so identical input gives identical
 * bytes, and the file is the one djb's tools write for the same records.
 * "Does this key exist" is answered by a hash set of our own over copies of
 * the keys, instead of reading the half-written file back.
 */
#include <cdb.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libmap/internal.h"

struct map_cdb_slot {
    uint32_t    hash;
    uint32_t    len;
    const char *key;        /* in the arena; NULL = empty slot */
};

struct map_cdb_chunk {
    struct map_cdb_chunk *next;
    size_t used, size;
    char data[];
};

struct map_cdb {
    struct lm_map base;
    int fd;
    char *path;
    struct cdb cdb;             /* reading */
    struct cdb_make make;       /* building */
    unsigned seq;               /* iteration cursor */
    int seq_started;
    struct map_cdb_slot *slots; /* building: key set */
    size_t nslots, nkeys;
    struct map_cdb_chunk *arena;
};

static const char *const map_cdb_suffixes[] = { ".cdb", NULL };

static uint32_t
map_cdb_hash(const unsigned char *p, size_t len)
{
    uint32_t h = 5381;

    while (len--)
        h = ((h << 5) + h) ^ *p++;
    return h;
}

static char *
map_cdb_path(const char *base, struct lm_diags *d)
{
    char *p = lm_str_join(base, ".cdb", "");

    if (p == NULL)
        lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    return p;
}

static int
map_cdb_create(struct lm_map *m, const char *base, struct lm_diags *d)
{
    struct map_cdb *c = (struct map_cdb *)m;

    c->fd = -1;
    if ((c->path = map_cdb_path(base, d)) == NULL)
        return -1;
    c->fd = open(c->path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (c->fd < 0) {
        lm_diag_sys(d, LM_E_CREATE, errno, NULL, "cannot create %s", c->path);
        free(c->path);
        c->path = NULL;
        return -1;
    }
    if (cdb_make_start(&c->make, c->fd) != 0) {
        lm_diag_sys(d, LM_E_IO, errno, NULL, "cannot start %s", c->path);
        close(c->fd);
        free(c->path);
        c->path = NULL;
        return -1;
    }
    return 0;
}

static int
map_cdb_open(struct lm_map *m, const char *base, struct lm_diags *d)
{
    struct map_cdb *c = (struct map_cdb *)m;

    c->fd = -1;
    if ((c->path = map_cdb_path(base, d)) == NULL)
        return -1;
    if ((c->fd = open(c->path, O_RDONLY | O_CLOEXEC)) < 0) {
        lm_diag_sys(d, errno == ENOENT ? LM_E_NOINPUT : LM_E_IO, errno, NULL,
                    "cannot open %s", c->path);
        free(c->path);
        return -1;
    }
    if (cdb_init(&c->cdb, c->fd) != 0) {
        lm_diag_add(d, LM_ERROR, LM_E_FORMAT, NULL, "%s is not a cdb file", c->path);
        close(c->fd);
        free(c->path);
        return -1;
    }
    return 0;
}

static const char *
map_cdb_keep(struct map_cdb *c, const void *key, size_t len)
{
    struct map_cdb_chunk *k = c->arena;
    char *p;

    if (k == NULL || k->size - k->used < len) {
        size_t size = len > (1u << 20) ? len : (1u << 20);
        if ((k = malloc(sizeof *k + size)) == NULL)
            return NULL;
        k->next = c->arena;
        k->used = 0;
        k->size = size;
        c->arena = k;
    }
    p = k->data + k->used;
    k->used += len;
    if (len)
        memcpy(p, key, len);
    return p;
}

/* Home slot: the high bits of a multiplicative hash, because the low bits of
 * the cdb hash are poorly spread for keys that differ only near the end. */
static size_t
map_cdb_home(uint32_t h, size_t nslots)
{
    return (size_t)(((uint64_t)h * 0x9E3779B97F4A7C15ull) >> 20) & (nslots - 1);
}

static int
map_cdb_grow(struct map_cdb *c)
{
    size_t n = c->nslots ? 2 * c->nslots : 1024, i;

    /* The first table is sized from the expected record count, so that a
     * large map is not rehashed again and again. */
    while (c->nslots == 0 && n < 2 * c->base.opts.nelem && n < ((size_t)1 << 30))
        n *= 2;
    struct map_cdb_slot *s = calloc(n, sizeof *s);

    if (s == NULL)
        return -1;
    for (i = 0; i < c->nslots; i++) {
        size_t j;
        if (c->slots[i].key == NULL)
            continue;
        for (j = map_cdb_home(c->slots[i].hash, n); s[j].key != NULL; j = (j + 1) & (n - 1))
            ;
        s[j] = c->slots[i];
    }
    free(c->slots);
    c->slots = s;
    c->nslots = n;
    return 0;
}

/* Find the key; returns its slot, or the empty slot where it belongs. */
static struct map_cdb_slot *
map_cdb_lookup(struct map_cdb *c, const lm_datum *k, uint32_t h)
{
    size_t j, mask = c->nslots - 1;

    for (j = map_cdb_home(h, c->nslots);; j = (j + 1) & mask) {
        struct map_cdb_slot *s = &c->slots[j];
        if (s->key == NULL)
            return s;
        if (s->hash == h && s->len == k->len && memcmp(s->key, k->data, k->len) == 0)
            return s;
    }
}

static int
map_cdb_put(struct lm_map *m, const lm_datum *k, const lm_datum *v,
            enum lm_put_mode mode, struct lm_diags *d)
{
    struct map_cdb *c = (struct map_cdb *)m;
    struct map_cdb_slot *s;
    uint32_t h;
    enum cdb_put_mode how = CDB_PUT_ADD;

    if (k->len > 0xffffffffu || v->len > 0xffffffffu)
        return lm_diag_add(d, LM_ERROR, LM_E_SYNTAX, NULL, "record too large for cdb");
    if (mode != LM_PUT_APPEND) {
        if (2 * (c->nkeys + 1) > c->nslots && map_cdb_grow(c) != 0)
            return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
        h = map_cdb_hash(k->data, k->len);
        s = map_cdb_lookup(c, k, h);
        if (s->key != NULL) {
            if (mode == LM_PUT_INSERT)
                return LM_EXISTS;
            how = CDB_PUT_REPLACE;
        } else {
            if ((s->key = map_cdb_keep(c, k->data, k->len)) == NULL)
                return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
            s->hash = h;
            s->len = (uint32_t)k->len;
            c->nkeys++;
        }
    }
    if ((how == CDB_PUT_ADD
         ? cdb_make_add(&c->make, k->data, (unsigned)k->len, v->data, (unsigned)v->len)
         : cdb_make_put(&c->make, k->data, (unsigned)k->len, v->data, (unsigned)v->len,
                        CDB_PUT_REPLACE)) < 0)
        return lm_diag_sys(d, LM_E_IO, errno, NULL, "cannot write %s", c->path);
    return 0;
}

static int
map_cdb_get(struct lm_map *m, const lm_datum *k, lm_datum *v, struct lm_diags *d)
{
    struct map_cdb *c = (struct map_cdb *)m;
    int rc;

    if (m->state != LM_ST_READ)
        return lm_diag_add(d, LM_ERROR, LM_E_UNSUPPORTED, NULL,
                           "cdb cannot be read while it is being built");
    rc = cdb_find(&c->cdb, k->data, (unsigned)k->len);
    if (rc < 0)
        return lm_diag_sys(d, LM_E_FORMAT, errno, NULL, "cannot read %s", c->path);
    if (rc == 0)
        return LM_NOTFOUND;
    v->len = cdb_datalen(&c->cdb);
    if ((v->data = cdb_getdata(&c->cdb)) == NULL && v->len > 0)
        return lm_diag_add(d, LM_ERROR, LM_E_FORMAT, NULL, "%s is damaged", c->path);
    return 0;
}

static int
map_cdb_next(struct lm_map *m, lm_datum *k, lm_datum *v, struct lm_diags *d)
{
    struct map_cdb *c = (struct map_cdb *)m;
    int rc;

    if (!c->seq_started) {
        cdb_seqinit(&c->seq, &c->cdb);
        c->seq_started = 1;
    }
    rc = cdb_seqnext(&c->seq, &c->cdb);
    if (rc < 0)
        return lm_diag_add(d, LM_ERROR, LM_E_FORMAT, NULL, "%s is damaged", c->path);
    if (rc == 0)
        return LM_NOTFOUND;
    k->len = cdb_keylen(&c->cdb);
    v->len = cdb_datalen(&c->cdb);
    k->data = cdb_getkey(&c->cdb);
    v->data = cdb_getdata(&c->cdb);
    if ((k->data == NULL && k->len) || (v->data == NULL && v->len))
        return lm_diag_add(d, LM_ERROR, LM_E_FORMAT, NULL, "%s is damaged", c->path);
    return 0;
}

static void
map_cdb_release(struct map_cdb *c)
{
    struct map_cdb_chunk *k, *next;

    for (k = c->arena; k != NULL; k = next) {
        next = k->next;
        free(k);
    }
    c->arena = NULL;
    free(c->slots);
    c->slots = NULL;
    free(c->path);
    c->path = NULL;
}

static int
map_cdb_finish(struct lm_map *m, struct lm_diags *d)
{
    struct map_cdb *c = (struct map_cdb *)m;
    int rc = 0;

    if (cdb_make_finish(&c->make) != 0)
        rc = lm_diag_sys(d, LM_E_IO, errno, NULL, "cannot write %s", c->path);
    if (close(c->fd) != 0 && rc == 0)
        rc = lm_diag_sys(d, LM_E_IO, errno, NULL, "cannot write %s", c->path);
    map_cdb_release(c);
    return rc;
}

static void
map_cdb_close(struct lm_map *m)
{
    struct map_cdb *c = (struct map_cdb *)m;

    /* tinycdb frees its record lists only in cdb_make_finish; the file it
     * completes is in the temporary directory, which is removed next. */
    if (m->state == LM_ST_BUILDING)
        (void)cdb_make_finish(&c->make);
    else
        cdb_free(&c->cdb);
    if (c->fd >= 0)
        close(c->fd);
    map_cdb_release(c);
}

const struct lm_backend lm_backend_cdb = {
    .info = { "cdb", ".cdb", "constant database (tinycdb; djb cdb format)",
              LM_CAP_GET | LM_CAP_ITERATE | LM_CAP_DUPS | LM_CAP_SLOW_EXISTS },
    .suffixes = map_cdb_suffixes,
    .size = sizeof(struct map_cdb),
    .create = map_cdb_create,
    .open_ro = map_cdb_open,
    .put = map_cdb_put,
    .get = map_cdb_get,
    .next = map_cdb_next,
    .finish = map_cdb_finish,
    .close = map_cdb_close,
};
