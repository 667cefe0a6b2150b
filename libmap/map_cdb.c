/*
 * map_cdb.c - cdb maps (the djb constant database that tinycdb, tcprules,
 * postmap cdb: and qmail read; /work/shared/reference/cdb-format.md).
 *
 * Writing: records go to the file in put order, so identical input gives
 * identical bytes, and the tables are the ones djb's tools and tinycdb
 * write for the same records (same slots, same order).  The tables are
 * filled here rather than by tinycdb, whose linear probing over occupied
 * runs is quadratic when many records share a key (mapc -d).  "Does this
 * key exist" is answered by a hash set over copies of the keys, instead of
 * reading the half-written file back.
 *
 * Large maps are written by a second thread: the first parses and fills
 * blocks, the second writes them in order and starts their writeback early
 * (fdatasync every few MiB), so that parsing, copying into the page cache and
 * the final fsync overlap.  The bytes are the same whatever the timing.
 *
 * Reading: the file is mapped and every position and length is checked
 * before use.  A cut, a flipped bit in a position or a length, or random
 * bytes are an error naming the file (LM_E_FORMAT), never a crash and
 * never a map that silently has fewer records: opening checks the header,
 * a lookup checks every slot it visits, and a listing walks the whole file
 * and checks the tables against the records.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libmap/internal.h"

#define MAP_CDB_HEADER 2048u
#define MAP_CDB_BUF    (1u << 18)
#define MAP_CDB_RING   4            /* blocks between the two threads */
#define MAP_CDB_SYNC   (8u << 20)   /* early writeback every so many bytes */
#define MAP_CDB_THREAD 262144       /* expected records worth a second thread */

struct map_cdb_slot {
    uint32_t    hash;
    uint32_t    len;
    uint32_t    rec;        /* index of its (last) record */
    const char *key;        /* in the arena; NULL = empty slot */
};

struct map_cdb_chunk {
    struct map_cdb_chunk *next;
    size_t used, size;
    char data[];
};

struct map_cdb_rec {
    uint32_t hash;
    uint32_t pos;           /* UINT32_MAX: replaced, dropped at the end */
};

/* The writing thread and the blocks it shares with the parsing one: the
 * queued blocks are ring[head], ring[head + 1], ...; the parser fills the
 * one after the last queued. */
struct map_cdb_writer {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int fd;
    unsigned char *ring[MAP_CDB_RING];
    size_t len[MAP_CDB_RING];
    size_t head, queued;
    int err;                /* first error of a write or a sync; 0 = none */
    int stop;
};

struct map_cdb {
    struct lm_map base;
    int fd;
    char *path;
    /* reading */
    const unsigned char *mem;
    size_t size;
    uint32_t dend;          /* end of the records, start of the tables */
    uint32_t seq;           /* iteration cursor */
    unsigned long seen;     /* records listed so far */
    const unsigned char *val;
    /* building */
    unsigned char *buf;     /* records not yet written */
    struct map_cdb_writer *w;   /* NULL: writes are done here */
    size_t buflen;
    uint64_t pos;           /* file offset of the next record */
    struct map_cdb_rec *recs;
    size_t nrecs, caprecs, ndead;
    struct map_cdb_slot *slots; /* key set */
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

static uint32_t
map_cdb_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void
map_cdb_put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static char *
map_cdb_path(const char *base, struct lm_diags *d)
{
    char *p = lm_str_join(base, ".cdb", "");

    if (p == NULL)
        lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    return p;
}

/* --- building ------------------------------------------------------------ */

static void *
map_cdb_writer_main(void *arg)
{
    struct map_cdb_writer *w = arg;
    uint64_t unsynced = 0;

    pthread_mutex_lock(&w->mu);
    for (;;) {
        const unsigned char *p;
        size_t n;
        int err;

        while (w->queued == 0 && !w->stop)
            pthread_cond_wait(&w->cv, &w->mu);
        if (w->queued == 0)
            break;
        p = w->ring[w->head];
        n = w->len[w->head];
        err = w->err;
        pthread_mutex_unlock(&w->mu);
        while (n > 0 && err == 0) {
            ssize_t r = write(w->fd, p, n);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                err = r < 0 ? errno : EIO;
                break;
            }
            p += r;
            n -= (size_t)r;
            unsynced += (uint64_t)r;
        }
        /* A sync failure is a write failure: the later fsync, on another
         * descriptor, would not see it again. */
        if (err == 0 && unsynced >= MAP_CDB_SYNC) {
            if (fdatasync(w->fd) != 0 && errno != EINVAL)
                err = errno;
            unsynced = 0;
        }
        pthread_mutex_lock(&w->mu);
        if (w->err == 0)
            w->err = err;
        w->head = (w->head + 1) % MAP_CDB_RING;
        w->queued--;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* Start the writing thread; on any failure the map is written without it. */
static void
map_cdb_writer_start(struct map_cdb *c)
{
    struct map_cdb_writer *w = calloc(1, sizeof *w);
    sigset_t all, old;
    size_t i;
    int rc;

    if (w == NULL)
        return;
    for (i = 0; i < MAP_CDB_RING; i++)
        if ((w->ring[i] = malloc(MAP_CDB_BUF)) == NULL)
            goto fail;
    if (pthread_mutex_init(&w->mu, NULL) != 0)
        goto fail;
    if (pthread_cond_init(&w->cv, NULL) != 0) {
        pthread_mutex_destroy(&w->mu);
        goto fail;
    }
    w->fd = c->fd;
    /* Signals stay with the caller's thread. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&w->thread, NULL, map_cdb_writer_main, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        goto fail;
    }
    c->w = w;
    return;
fail:
    for (i = 0; i < MAP_CDB_RING; i++)
        free(w->ring[i]);
    free(w);
}

/* Stop the thread after the queued blocks (or at once, discarding them,
 * when the map is abandoned). */
static void
map_cdb_writer_stop(struct map_cdb *c, int discard)
{
    struct map_cdb_writer *w = c->w;
    size_t i;

    if (w == NULL)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    if (discard && w->err == 0)
        w->err = ECANCELED;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    for (i = 0; i < MAP_CDB_RING; i++)
        free(w->ring[i]);
    free(w);
    c->w = NULL;
    c->buf = NULL;          /* it was one of the ring's */
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
    if (c->base.opts.nelem >= MAP_CDB_THREAD)
        map_cdb_writer_start(c);
    if (c->w != NULL)
        c->buf = c->w->ring[0];
    else if ((c->buf = malloc(MAP_CDB_BUF)) == NULL) {
        lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
        close(c->fd);
        c->fd = -1;
        free(c->path);
        c->path = NULL;
        return -1;
    }
    /* The header is written last, when the tables are placed. */
    memset(c->buf, 0, MAP_CDB_HEADER);
    c->buflen = MAP_CDB_HEADER;
    c->pos = MAP_CDB_HEADER;
    return 0;
}

static int
map_cdb_write_all(struct map_cdb *c, const void *p, size_t n, struct lm_diags *d)
{
    ssize_t w;

    while (n > 0) {
        w = write(c->fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return lm_diag_sys(d, LM_E_IO, errno, NULL, "cannot write %s", c->path);
        if (w == 0)
            return lm_diag_sys(d, LM_E_IO, EIO, NULL, "cannot write %s", c->path);
        p = (const char *)p + w;
        n -= (size_t)w;
    }
    return 0;
}

/* Write the block, or queue it for the writing thread and take a free one. */
static int
map_cdb_flush(struct map_cdb *c, struct lm_diags *d)
{
    struct map_cdb_writer *w = c->w;
    int err;

    if (w == NULL) {
        int rc = map_cdb_write_all(c, c->buf, c->buflen, d);
        c->buflen = 0;
        return rc;
    }
    pthread_mutex_lock(&w->mu);
    if (c->buflen > 0) {
        w->len[(w->head + w->queued) % MAP_CDB_RING] = c->buflen;
        w->queued++;
        pthread_cond_broadcast(&w->cv);
    }
    while (w->queued == MAP_CDB_RING && w->err == 0)
        pthread_cond_wait(&w->cv, &w->mu);
    err = w->err;
    c->buf = w->ring[(w->head + w->queued) % MAP_CDB_RING];
    pthread_mutex_unlock(&w->mu);
    c->buflen = 0;
    if (err != 0)
        return lm_diag_sys(d, LM_E_IO, err, NULL, "cannot write %s", c->path);
    return 0;
}

/* Everything written: the descriptor is then ours alone. */
static int
map_cdb_drain(struct map_cdb *c, struct lm_diags *d)
{
    struct map_cdb_writer *w = c->w;
    int err;

    if (map_cdb_flush(c, d) != 0)
        return -1;
    if (w == NULL)
        return 0;
    pthread_mutex_lock(&w->mu);
    while (w->queued > 0 && w->err == 0)
        pthread_cond_wait(&w->cv, &w->mu);
    err = w->err;
    pthread_mutex_unlock(&w->mu);
    if (err != 0)
        return lm_diag_sys(d, LM_E_IO, err, NULL, "cannot write %s", c->path);
    return 0;
}

static int
map_cdb_out(struct map_cdb *c, const void *p, size_t n, struct lm_diags *d)
{
    if (c->buflen + n > MAP_CDB_BUF) {
        if (n > MAP_CDB_BUF)
            return map_cdb_drain(c, d) != 0 ? -1 : map_cdb_write_all(c, p, n, d);
        if (map_cdb_flush(c, d) != 0)
            return -1;
    }
    if (n)
        memcpy(c->buf + c->buflen, p, n);
    c->buflen += n;
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
    lm_big_advise(s, n * sizeof *s);
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
    struct map_cdb_slot *s = NULL;
    unsigned char hdr[8];
    uint32_t h = map_cdb_hash(k->data, k->len);

    if (k->len > 0xffffffffu - 8 || v->len > 0xffffffffu - 8
        || c->pos + 8 + k->len + v->len > 0xffffffffu)
        return lm_diag_add(d, LM_ERROR, LM_E_SYNTAX, NULL,
                           "%s: a cdb file holds at most 4 GiB", c->path);
    if (c->nrecs >= 0x1fffffffu)
        return lm_diag_add(d, LM_ERROR, LM_E_SYNTAX, NULL,
                           "%s: too many records for one cdb file", c->path);
    if (mode != LM_PUT_APPEND) {
        if (2 * (c->nkeys + 1) > c->nslots && map_cdb_grow(c) != 0)
            return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
        s = map_cdb_lookup(c, k, h);
        if (s->key != NULL) {
            if (mode == LM_PUT_INSERT)
                return LM_EXISTS;
            /* Replace: the old record is dropped from the file when it is
             * finished, and the new one comes last (as tinycdb does). */
            c->recs[s->rec].pos = UINT32_MAX;
            c->ndead++;
        } else {
            if ((s->key = map_cdb_keep(c, k->data, k->len)) == NULL)
                return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
            s->hash = h;
            s->len = (uint32_t)k->len;
            c->nkeys++;
        }
    }
    if (c->nrecs == c->caprecs) {
        /* First sized from the expected count: no copying as it grows. */
        size_t n = c->caprecs ? 2 * c->caprecs
                 : c->base.opts.nelem > 1024 && c->base.opts.nelem < ((size_t)1 << 29)
                 ? (size_t)c->base.opts.nelem : 1024;
        struct map_cdb_rec *nr = c->recs == NULL ? lm_big_alloc(n * sizeof *nr)
                               : realloc(c->recs, n * sizeof *nr);
        if (nr == NULL)
            return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
        if (nr != c->recs)
            lm_big_advise(nr, n * sizeof *nr);
        c->recs = nr;
        c->caprecs = n;
    }
    if (s != NULL)
        s->rec = (uint32_t)c->nrecs;
    c->recs[c->nrecs].hash = h;
    c->recs[c->nrecs].pos = (uint32_t)c->pos;
    c->nrecs++;
    map_cdb_put32(hdr, (uint32_t)k->len);
    map_cdb_put32(hdr + 4, (uint32_t)v->len);
    if (c->buflen + 8 + k->len + v->len <= MAP_CDB_BUF) {
        /* the usual case: the whole record fits in the block */
        unsigned char *p = c->buf + c->buflen;
        memcpy(p, hdr, 8);
        if (k->len)
            memcpy(p + 8, k->data, k->len);
        if (v->len)
            memcpy(p + 8 + k->len, v->data, v->len);
        c->buflen += 8 + k->len + v->len;
    } else if (map_cdb_out(c, hdr, 8, d) != 0 || map_cdb_out(c, k->data, k->len, d) != 0
               || map_cdb_out(c, v->data, v->len, d) != 0) {
        return -1;
    }
    c->pos += 8 + k->len + v->len;
    return 0;
}

static int
map_cdb_pread(struct map_cdb *c, void *p, size_t n, uint64_t off, struct lm_diags *d)
{
    ssize_t r;

    while (n > 0) {
        r = pread(c->fd, p, n, (off_t)off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return lm_diag_sys(d, LM_E_IO, r < 0 ? errno : EIO, NULL, "cannot read %s", c->path);
        p = (char *)p + r;
        n -= (size_t)r;
        off += (uint64_t)r;
    }
    return 0;
}

/* Replaced records leave the file: the live ones move down, in order. */
static int
map_cdb_compact(struct map_cdb *c, struct lm_diags *d)
{
    uint64_t to = MAP_CDB_HEADER;
    unsigned char *tmp = NULL;
    size_t i, j = 0, cap = 0;

    if (map_cdb_drain(c, d) != 0)
        return -1;
    for (i = 0; i < c->nrecs; i++) {
        uint64_t from = c->recs[i].pos, end;
        size_t len;
        if (from == UINT32_MAX)
            continue;
        /* The record runs to the next record's start, or to the end. */
        end = c->pos;
        {
            unsigned char hdr[8];
            if (map_cdb_pread(c, hdr, 8, from, d) != 0)
                goto fail;
            end = from + 8 + (uint64_t)map_cdb_u32(hdr) + map_cdb_u32(hdr + 4);
        }
        len = (size_t)(end - from);
        if (from != to) {
            if (len > cap) {
                unsigned char *nt = realloc(tmp, len);
                if (nt == NULL) {
                    lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
                    goto fail;
                }
                tmp = nt;
                cap = len;
            }
            if (map_cdb_pread(c, tmp, len, from, d) != 0)
                goto fail;
            if (lseek(c->fd, (off_t)to, SEEK_SET) < 0) {
                lm_diag_sys(d, LM_E_IO, errno, NULL, "cannot write %s", c->path);
                goto fail;
            }
            if (map_cdb_write_all(c, tmp, len, d) != 0)
                goto fail;
        }
        c->recs[j].hash = c->recs[i].hash;
        c->recs[j].pos = (uint32_t)to;
        j++;
        to += len;
    }
    free(tmp);
    c->nrecs = j;
    c->pos = to;
    if (ftruncate(c->fd, (off_t)to) != 0 || lseek(c->fd, (off_t)to, SEEK_SET) < 0)
        return lm_diag_sys(d, LM_E_IO, errno, NULL, "cannot write %s", c->path);
    return 0;
fail:
    free(tmp);
    return -1;
}

/* Union-find over a table's slots: the first free slot at or after s
 * (wrapping).  Gives exactly the slot linear probing finds, without walking
 * occupied runs again and again. */
static uint32_t
map_cdb_free_slot(uint32_t *next, uint32_t s)
{
    uint32_t r = s, t;

    while (next[r] != r)
        r = next[r];
    while (next[s] != r) {
        t = next[s];
        next[s] = r;
        s = t;
    }
    return r;
}

/* Tables after the records, header at the start. */
static int
map_cdb_tables(struct map_cdb *c, struct lm_diags *d)
{
    uint32_t count[256], start[256];
    struct map_cdb_rec *byb = NULL;  /* the records grouped by bucket */
    uint32_t *next = NULL;
    unsigned char *tab = NULL, header[MAP_CDB_HEADER];
    uint32_t maxlen = 0, sum = 0;
    uint64_t pos;
    size_t i;
    int rc = -1;

    memset(count, 0, sizeof count);
    for (i = 0; i < c->nrecs; i++)
        count[c->recs[i].hash & 255]++;
    for (i = 0; i < 256; i++) {
        start[i] = sum;
        sum += count[i];
        if (count[i] > maxlen)
            maxlen = count[i];
    }
    if (c->pos + 16 * (uint64_t)c->nrecs > 0xffffffffu)
        return lm_diag_add(d, LM_ERROR, LM_E_SYNTAX, NULL,
                           "%s: a cdb file holds at most 4 GiB", c->path);
    if ((byb = lm_big_alloc(c->nrecs * sizeof *byb)) == NULL
        || (next = malloc((2 * (size_t)maxlen + 1) * sizeof *next)) == NULL
        || (tab = malloc((2 * (size_t)maxlen + 1) * 8)) == NULL) {
        lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
        goto out;
    }
    {
        uint32_t fill[256];
        memcpy(fill, start, sizeof fill);
        for (i = 0; i < c->nrecs; i++)      /* stable: put order within a bucket */
            byb[fill[c->recs[i].hash & 255]++] = c->recs[i];
    }
    /* Copies, read in order below instead of jumping through the records. */
    free(c->recs);
    c->recs = byb;
    c->caprecs = c->nrecs;
    byb = NULL;
    pos = c->pos;
    for (i = 0; i < 256; i++) {
        uint32_t len = 2 * count[i], j;
        map_cdb_put32(header + 8 * i, (uint32_t)pos);
        map_cdb_put32(header + 8 * i + 4, len);
        if (len == 0)
            continue;
        memset(tab, 0, (size_t)len * 8);
        for (j = 0; j < len; j++)
            next[j] = j;
        for (j = 0; j < count[i]; j++) {
            const struct map_cdb_rec *r = &c->recs[start[i] + j];
            uint32_t s = map_cdb_free_slot(next, (r->hash >> 8) % len);
            map_cdb_put32(tab + 8 * (size_t)s, r->hash);
            map_cdb_put32(tab + 8 * (size_t)s + 4, r->pos);
            next[s] = s + 1 == len ? 0 : s + 1;
        }
        if (map_cdb_out(c, tab, (size_t)len * 8, d) != 0)
            goto out;
        pos += (uint64_t)len * 8;
    }
    if (map_cdb_drain(c, d) != 0)
        goto out;
    if (pwrite(c->fd, header, sizeof header, 0) != (ssize_t)sizeof header) {
        lm_diag_sys(d, LM_E_IO, errno ? errno : EIO, NULL, "cannot write %s", c->path);
        goto out;
    }
    rc = 0;
out:
    free(byb);
    free(next);
    free(tab);
    return rc;
}

/* --- reading ------------------------------------------------------------- */

static int
map_cdb_damaged(const struct map_cdb *c, const char *why, struct lm_diags *d)
{
    return lm_diag_add(d, LM_ERROR, LM_E_FORMAT, NULL, "%s is damaged: %s", c->path, why);
}

/* The header: every table inside the file, after the header, and the file
 * not shorter than the tables (a cut file).  Sets dend, the lowest table. */
static int
map_cdb_check_header(struct map_cdb *c, struct lm_diags *d)
{
    uint64_t lo = c->size, hi = MAP_CDB_HEADER;
    size_t i;

    if (c->size < MAP_CDB_HEADER)
        return lm_diag_add(d, LM_ERROR, LM_E_FORMAT, NULL,
                           "%s is damaged: %zu bytes, shorter than the %u-byte cdb header "
                           "(short file)", c->path, c->size, MAP_CDB_HEADER);
    if (c->size > 0xffffffffu)
        return map_cdb_damaged(c, "larger than 4 GiB", d);
    for (i = 0; i < 256; i++) {
        uint64_t pos = map_cdb_u32(c->mem + 8 * i), len = map_cdb_u32(c->mem + 8 * i + 4);
        if (pos < MAP_CDB_HEADER || pos + 8 * len > c->size)
            return lm_diag_add(d, LM_ERROR, LM_E_FORMAT, NULL,
                               "%s is damaged: hash table %zu (at %ju, %ju slots) is outside "
                               "the file of %zu bytes (short file?)", c->path, i,
                               (uintmax_t)pos, (uintmax_t)len, c->size);
        if (pos < lo)
            lo = pos;
        if (pos + 8 * len > hi)
            hi = pos + 8 * len;
    }
    if (hi != c->size)
        return lm_diag_add(d, LM_ERROR, LM_E_FORMAT, NULL,
                           "%s is damaged: the hash tables end at %ju, the file at %zu",
                           c->path, (uintmax_t)hi, c->size);
    c->dend = (uint32_t)lo;
    return 0;
}

/* The record at pos: 0 and its key and value, or -1 when it does not fit
 * in the records. */
static int
map_cdb_record(const struct map_cdb *c, uint32_t pos, lm_datum *k, lm_datum *v)
{
    uint64_t kl, vl;

    if (pos < MAP_CDB_HEADER || (uint64_t)pos + 8 > c->dend)
        return -1;
    kl = map_cdb_u32(c->mem + pos);
    vl = map_cdb_u32(c->mem + pos + 4);
    if ((uint64_t)pos + 8 + kl + vl > c->dend)
        return -1;
    k->data = c->mem + pos + 8;
    k->len = (size_t)kl;
    v->data = c->mem + pos + 8 + kl;
    v->len = (size_t)vl;
    return 0;
}

/* A slot of table t: empty, or a record in bucket t whose key has the
 * slot's hash.  Returns 0 empty, 1 used, -1 damaged. */
static int
map_cdb_check_slot(const struct map_cdb *c, size_t t, const unsigned char *slot,
                   lm_datum *k, lm_datum *v)
{
    uint32_t h = map_cdb_u32(slot), pos = map_cdb_u32(slot + 4);

    if (pos == 0)
        return h == 0 ? 0 : -1;
    if ((h & 255) != t || map_cdb_record(c, pos, k, v) != 0
        || map_cdb_hash(k->data, k->len) != h)
        return -1;
    return 1;
}

static int
map_cdb_open(struct lm_map *m, const char *base, struct lm_diags *d)
{
    struct map_cdb *c = (struct map_cdb *)m;
    struct stat st;
    void *p;

    c->fd = -1;
    if ((c->path = map_cdb_path(base, d)) == NULL)
        return -1;
    if ((c->fd = open(c->path, O_RDONLY | O_CLOEXEC)) < 0) {
        lm_diag_sys(d, errno == ENOENT ? LM_E_NOINPUT : LM_E_IO, errno, NULL,
                    "cannot open %s", c->path);
        goto fail;
    }
    if (fstat(c->fd, &st) != 0) {
        lm_diag_sys(d, LM_E_IO, errno, NULL, "cannot open %s", c->path);
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        lm_diag_add(d, LM_ERROR, LM_E_FORMAT, NULL, "%s is not a regular file", c->path);
        goto fail;
    }
    c->size = (size_t)st.st_size;
    if (c->size >= MAP_CDB_HEADER) {
        if ((p = mmap(NULL, c->size, PROT_READ, MAP_SHARED, c->fd, 0)) == MAP_FAILED) {
            lm_diag_sys(d, LM_E_IO, errno, NULL, "cannot read %s", c->path);
            goto fail;
        }
        c->mem = p;
    }
    if (map_cdb_check_header(c, d) != 0)
        goto fail;
    c->seq = MAP_CDB_HEADER;
    return 0;
fail:
    if (c->mem != NULL)
        munmap((void *)(uintptr_t)c->mem, c->size);
    c->mem = NULL;
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    free(c->path);
    c->path = NULL;
    return -1;
}

static int
map_cdb_get(struct lm_map *m, const lm_datum *k, lm_datum *v, struct lm_diags *d)
{
    struct map_cdb *c = (struct map_cdb *)m;
    uint32_t h, len, pos, i, n;
    size_t t;

    if (m->state != LM_ST_READ)
        return lm_diag_add(d, LM_ERROR, LM_E_UNSUPPORTED, NULL,
                           "cdb cannot be read while it is being built");
    h = map_cdb_hash(k->data, k->len);
    t = h & 255;
    pos = map_cdb_u32(c->mem + 8 * t);
    len = map_cdb_u32(c->mem + 8 * t + 4);
    if (len == 0)
        return LM_NOTFOUND;
    /* Every slot on the way is checked, not only the one that matches: a
     * damaged table must not read as "not found".  A slot of another hash
     * is checked without reading its record (its bucket and position); one
     * of this hash fully, key hash included. */
    for (i = (h >> 8) % len, n = 0; n < len; n++, i = i + 1 == len ? 0 : i + 1) {
        const unsigned char *slot = c->mem + pos + 8 * (size_t)i;
        uint32_t sh = map_cdb_u32(slot), sp = map_cdb_u32(slot + 4);
        lm_datum rk, rv;
        int rc;
        if (sh != h) {
            if (sp == 0 && sh == 0)
                return LM_NOTFOUND;
            if ((sh & 255) != t || sp < MAP_CDB_HEADER || (uint64_t)sp + 8 > c->dend)
                return map_cdb_damaged(c, "a hash table entry does not point at a record "
                                       "of its key", d);
            continue;
        }
        if ((rc = map_cdb_check_slot(c, t, slot, &rk, &rv)) < 0)
            return map_cdb_damaged(c, "a hash table entry does not point at a record of "
                                   "its key", d);
        if (rc == 0)
            return LM_NOTFOUND;
        if (rk.len == k->len && memcmp(rk.data, k->data, k->len) == 0) {
            *v = rv;
            return 0;
        }
    }
    return LM_NOTFOUND;
}

/* After the last record: the tables must hold exactly the records. */
static int
map_cdb_check_tables(struct map_cdb *c, struct lm_diags *d)
{
    unsigned long used = 0;
    size_t t;

    for (t = 0; t < 256; t++) {
        uint32_t pos = map_cdb_u32(c->mem + 8 * t), len = map_cdb_u32(c->mem + 8 * t + 4), i;
        uint32_t e0 = len, o, last = 0;
        for (i = 0; i < len; i++) {
            lm_datum k, v;
            int rc = map_cdb_check_slot(c, t, c->mem + pos + 8 * (size_t)i, &k, &v);
            if (rc < 0)
                return map_cdb_damaged(c, "a hash table entry does not point at a record "
                                       "of its key", d);
            if (rc == 0 && e0 == len)
                e0 = i;
            used += (unsigned long)rc;
        }
        /* Every entry must be reachable: no empty slot between the slot a
         * lookup starts at and the entry.  Offsets count from an empty
         * slot e0, so one pass suffices. */
        for (o = 1; e0 < len && o < len; o++) {
            const unsigned char *slot = c->mem + pos + 8 * (size_t)((e0 + o) % len);
            uint32_t os;
            if (map_cdb_u32(slot + 4) == 0) {
                last = o;
                continue;
            }
            os = ((map_cdb_u32(slot) >> 8) % len + len - e0) % len;
            if (os <= last || os > o)
                return map_cdb_damaged(c, "a hash table entry cannot be reached by a lookup", d);
        }
    }
    if (used != c->seen)
        return lm_diag_add(d, LM_ERROR, LM_E_FORMAT, NULL,
                           "%s is damaged: %lu records, but the hash tables find %lu",
                           c->path, c->seen, used);
    return 0;
}

static int
map_cdb_next(struct lm_map *m, lm_datum *k, lm_datum *v, struct lm_diags *d)
{
    struct map_cdb *c = (struct map_cdb *)m;

    if (c->seq == c->dend) {
        c->seq = UINT32_MAX;
        if (map_cdb_check_tables(c, d) != 0)
            return -1;
        return LM_NOTFOUND;
    }
    if (c->seq == UINT32_MAX)
        return LM_NOTFOUND;
    if (map_cdb_record(c, c->seq, k, v) != 0)
        return lm_diag_add(d, LM_ERROR, LM_E_FORMAT, NULL,
                           "%s is damaged: the record at %lu runs past the end of the "
                           "records (%lu)", c->path, (unsigned long)c->seq,
                           (unsigned long)c->dend);
    c->seq += (uint32_t)(8 + k->len + v->len);
    c->seen++;
    return 0;
}

/* --- the end ------------------------------------------------------------- */

static void
map_cdb_release(struct map_cdb *c)
{
    struct map_cdb_chunk *k, *next;

    map_cdb_writer_stop(c, 1);

    for (k = c->arena; k != NULL; k = next) {
        next = k->next;
        free(k);
    }
    c->arena = NULL;
    free(c->slots);
    c->slots = NULL;
    free(c->recs);
    c->recs = NULL;
    free(c->buf);
    c->buf = NULL;
    if (c->mem != NULL)
        munmap((void *)(uintptr_t)c->mem, c->size);
    c->mem = NULL;
    free(c->path);
    c->path = NULL;
}

static int
map_cdb_finish(struct lm_map *m, struct lm_diags *d)
{
    struct map_cdb *c = (struct map_cdb *)m;
    int rc = 0;

    if (c->ndead > 0 && map_cdb_compact(c, d) != 0)
        rc = -1;
    if (rc == 0 && map_cdb_tables(c, d) != 0)
        rc = -1;
    map_cdb_writer_stop(c, rc != 0);
    if (close(c->fd) != 0 && rc == 0)
        rc = lm_diag_sys(d, LM_E_IO, errno, NULL, "cannot write %s", c->path);
    c->fd = -1;
    map_cdb_release(c);
    return rc;
}

static void
map_cdb_close(struct lm_map *m)
{
    struct map_cdb *c = (struct map_cdb *)m;

    map_cdb_writer_stop(c, 1);
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
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
