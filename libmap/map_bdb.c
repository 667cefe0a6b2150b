/*
 * map_bdb.c - hash and btree maps through Berkeley DB (the files makemap and
 * postmap write: NAME.db).
 *
 * Berkeley DB files are not byte-reproducible; what matters is the set of
 * records, which makemap -u, postmap -s and db_dump read back.
 */
#include <db.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libmap/internal.h"

/* A record kept for a sorted load: key and value follow each other in a
 * chunk; w holds what it is sorted on (eight bytes of the key from the
 * depth being sorted on, or the hash bucket). */
struct map_bdb_rec {
    uint64_t w;
    const unsigned char *p;
    uint32_t klen, vlen;
};

struct map_bdb_chunk {
    struct map_bdb_chunk *next;
    size_t used, size;
    unsigned char data[];
};

struct map_bdb {
    struct lm_map base;
    DB *db;
    DBC *cursor;
    DBTYPE type;
    char *path;
    /* Sorted load (duplicates checked by the core): a btree's records are
     * kept until finish or MAP_BDB_SORT_RUN bytes, then stored in key order;
     * a hash map's are stored in batches, each in bucket order. */
    int sorted;                 /* MAP_BDB_BY_KEY, MAP_BDB_BY_BUCKET or 0 */
    unsigned long buckets;
    struct map_bdb_rec *recs, *tmp;
    size_t nrecs, caprecs, kept;   /* kept: bytes of keys and values held */
    struct map_bdb_chunk *chunks, *spare;
};

enum { MAP_BDB_BY_KEY = 1, MAP_BDB_BY_BUCKET };

static const char *const map_bdb_suffixes[] = { ".db", NULL };

/* Berkeley DB takes non-const data pointers even for reading; this is the
 * one place where const is dropped. */
static void
map_bdb_dbt(DBT *t, const lm_datum *x)
{
    union { const void *c; void *v; } u;

    memset(t, 0, sizeof *t);
    u.c = x->data;
    t->data = u.v;
    t->size = (u_int32_t)x->len;
}

static int
map_bdb_err(struct map_bdb *b, int code, int rc, const char *what, struct lm_diags *d)
{
    if (rc > 0)     /* a system errno */
        return lm_diag_sys(d, code, rc, NULL, "%s %s", what, b->path);
    return lm_diag_add(d, LM_ERROR, code, NULL, "%s %s: %s", what, b->path, db_strerror(rc));
}

static int
map_bdb_setup(struct lm_map *m, const char *base, DBTYPE type, struct lm_diags *d)
{
    struct map_bdb *b = (struct map_bdb *)m;
    int rc;

    b->type = type;
    if ((b->path = lm_str_join(base, ".db", "")) == NULL)
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    if ((rc = db_create(&b->db, NULL, 0)) != 0) {
        b->db = NULL;
        map_bdb_err(b, LM_E_INTERNAL, rc, "cannot set up", d);
        free(b->path);
        return -1;
    }
    return 0;
}

static void
map_bdb_drop_records(struct map_bdb *b)
{
    struct map_bdb_chunk *c;

    while ((c = b->chunks) != NULL || (c = b->spare) != NULL) {
        if (c == b->chunks)
            b->chunks = c->next;
        else
            b->spare = c->next;
        free(c);
    }
    free(b->recs);
    free(b->tmp);
    b->recs = b->tmp = NULL;
    b->nrecs = b->caprecs = 0;
}

static void
map_bdb_release(struct map_bdb *b)
{
    map_bdb_drop_records(b);
    if (b->cursor != NULL)
        b->cursor->close(b->cursor);
    b->cursor = NULL;
    if (b->db != NULL)
        b->db->close(b->db, DB_NOSYNC);
    b->db = NULL;
    free(b->path);
    b->path = NULL;
}

/* Berkeley DB writes silently unless told otherwise; the library never
 * prints, and every failure is returned as a code. */
static void
map_bdb_quiet(const DB_ENV *env, const char *pfx, const char *msg)
{
    (void)env;
    (void)pfx;
    (void)msg;
}

/* libdb 5.3 frees a file handle twice, and dies, when a close fails while
 * DB->open sets a file up (__fop_file_setup, on the descriptor it reads the
 * first page with).  So a failed close is not passed on to libdb: no data
 * is lost by it, because libdb syncs every file it wrote before closing it
 * and reports a failed sync, and the core syncs and closes the finished
 * file once more itself and reports any failure (atomic.c). */
static int
map_bdb_close_fd(int fd)
{
    (void)close(fd);
    return 0;
}

/* A hash table laid out from the start for the expected records.  Without
 * a fill factor Berkeley DB ignores the expected count, starts with two
 * buckets and grows by splitting a bucket each time a page overflows, so a
 * million-line load spends much of its time walking overflow chains and
 * splitting.  The expected count is the core's estimate from the source size
 * (about 24 bytes a record), so the buckets are sized by bytes: about two
 * thirds of a page of source text each, which leaves room for the item
 * headers and for the uneven spread of the hash.  The fill factor (items a
 * bucket holds before the table grows, a key and a value being two) matters
 * only when the records are much shorter than estimated. */
#define MAP_BDB_HASH_PAGE 4096
#define MAP_BDB_HASH_FFACTOR 128
#define MAP_BDB_HASH_PER_BUCKET (MAP_BDB_HASH_PAGE * 2 / 3 / 24)

static unsigned long
map_bdb_hash_buckets(const struct lm_map *m)
{
    unsigned long want = m->opts.nelem / MAP_BDB_HASH_PER_BUCKET, n = 1;

    if (want < 2)
        return 0;
    while (n < want && n < (1ul << 24))
        n <<= 1;
    return n;
}

/* Berkeley DB's default order (bytes unsigned, a prefix first), with
 * memcmp instead of its loop over bytes: sorted keys share long prefixes. */
static int
map_bdb_compare(DB *db, const DBT *a, const DBT *b)
{
    size_t n = a->size < b->size ? a->size : b->size;
    int c = n > 0 ? memcmp(a->data, b->data, n) : 0;

    (void)db;
    return c != 0 ? c : a->size < b->size ? -1 : a->size > b->size;
}

/* How many bytes of b tell it from a (a < b), as the default: a custom
 * comparison turns libdb's own prefix compression off otherwise. */
static size_t
map_bdb_prefix(DB *db, const DBT *a, const DBT *b)
{
    const unsigned char *p = a->data, *q = b->data;
    size_t n = a->size < b->size ? a->size : b->size, i;

    (void)db;
    for (i = 0; i < n; i++)
        if (p[i] != q[i])
            return i + 1;
    return a->size < b->size ? a->size + 1 : b->size;
}

/* A btree whose duplicate keys the core finds itself is loaded in key
 * order at the end: every insert then lands on the last leaf, which libdb
 * finds without searching the tree, and the pages it leaves behind are full
 * and never touched again (a small cache does).  Random order costs a
 * search of cold pages per record.  A hash map laid out in advance is
 * filled in batches sorted by bucket: the buckets are pages in file order,
 * so a batch sweeps the table once instead of jumping to a cold page for
 * every record.  The file has no duplicates flag: the core publishes no map
 * with a duplicate key. */
static int
map_bdb_sorts(const struct lm_map *m, DBTYPE type)
{
    if (!(m->opts.flags & LM_CREATE_DUPS_LATER))
        return 0;
    if (type == DB_BTREE)
        return MAP_BDB_BY_KEY;
    return map_bdb_hash_buckets(m) > 0 ? MAP_BDB_BY_BUCKET : 0;
}

#define MAP_BDB_HASH_BATCH 65536    /* records in a batch: 2 MiB of an access map */

#define MAP_BDB_SORTED_CACHE (16u << 20)
#define MAP_BDB_CHUNK (4u << 20)
/* A btree load keeps at most this many bytes of records (unless -c says
 * otherwise) before it stores them, one sorted run each time, so memory
 * stays flat however large the source: a million-line map is one run. */
#define MAP_BDB_SORT_RUN ((size_t)96 << 20)
#define MAP_BDB_SORT_RECS ((size_t)1 << 22)

/* Settings that must be the same when the file is created and when it is
 * opened to be filled. */
static int
map_bdb_configure(struct lm_map *m, DB *db, DBTYPE type)
{
    size_t cache = m->opts.cache_size;
    unsigned long buckets = type == DB_HASH ? map_bdb_hash_buckets(m) : 0;
    int rc;

    db->set_errcall(db, map_bdb_quiet);
    if (cache == 0 && map_bdb_sorts(m, type) == MAP_BDB_BY_KEY)
        cache = MAP_BDB_SORTED_CACHE;
    if (cache == 0) {
        /* Large enough for a million-line map, or for the whole table
         * when it is larger: an evicted page is written and read again. */
        uint64_t table = (uint64_t)buckets * MAP_BDB_HASH_PAGE / 4 * 5;
        cache = 64u << 20;
        if (table > cache)
            cache = table < (256u << 20) ? (size_t)table : (256u << 20);
    }
    rc = db->set_cachesize(db, (u_int32_t)(cache >> 30),
                           (u_int32_t)(cache & ((1u << 30) - 1)), 1);
    /* Larger btree pages mean fewer splits while loading: a third less CPU
     * for a million keys; every reader handles any page size. */
    if (rc == 0 && type == DB_BTREE)
        rc = db->set_pagesize(db, 16384);
    if (rc == 0 && type == DB_BTREE)
        rc = db->set_bt_compare(db, map_bdb_compare);
    if (rc == 0 && type == DB_BTREE)
        rc = db->set_bt_prefix(db, map_bdb_prefix);
    if (rc == 0 && buckets > 0) {
        rc = db->set_pagesize(db, MAP_BDB_HASH_PAGE);
        if (rc == 0)
            rc = db->set_h_ffactor(db, MAP_BDB_HASH_FFACTOR);
        if (rc == 0)
            rc = db->set_h_nelem(db, (u_int32_t)(buckets * MAP_BDB_HASH_FFACTOR));
    }
    if (rc == 0 && (m->opts.flags & LM_CREATE_DUPS) && !(m->opts.flags & LM_CREATE_DUPS_LATER))
        rc = db->set_flags(db, DB_DUP);
    return rc;
}

/* Create the empty database file in a child process.  Berkeley DB creates a
 * new file under a temporary name ("__db.NAME") and renames it; when closing
 * that temporary fails (EIO), libdb 5.3 crashes (SIGSEGV in
 * __os_closehandle).  In a child, a crash is an exit status the parent turns
 * into an error; the parent then only opens an existing file, a path without
 * the temporary.  Returns 0, a positive errno or DB error, or -1 with *sig set
 * when the child died of a signal. */
static int
map_bdb_create_file(struct lm_map *m, const char *path, DBTYPE type, int *sig)
{
    pid_t pid;
    int status;

    *sig = 0;
    if ((pid = fork()) < 0)
        return errno;
    if (pid == 0) {
        DB *db;
        int rc = db_create(&db, NULL, 0);
        if (rc == 0) {
            rc = map_bdb_configure(m, db, type);
            if (rc == 0)
                rc = db->open(db, NULL, path, NULL, type, DB_CREATE | DB_EXCL, 0666);
            if (rc == 0)
                rc = db->close(db, 0);
            else
                (void)db->close(db, DB_NOSYNC);
        }
        /* An errno fits in an exit status; a DB error (negative) does not. */
        _exit(rc == 0 ? 0 : rc > 0 && rc < 126 ? rc : 126);
    }
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return errno;
    if (WIFSIGNALED(status)) {
        *sig = WTERMSIG(status);
        return -1;
    }
    if (WEXITSTATUS(status) == 126)
        return DB_RUNRECOVERY;
    return WEXITSTATUS(status);
}

static int
map_bdb_create(struct lm_map *m, const char *base, DBTYPE type, struct lm_diags *d)
{
    struct map_bdb *b = (struct map_bdb *)m;
    int rc, sig;

    /* Process-wide setting of libdb; the same function every time. */
    (void)db_env_set_func_close(map_bdb_close_fd);
    if (map_bdb_setup(m, base, type, d) != 0)
        return -1;
    rc = map_bdb_create_file(m, b->path, type, &sig);
    if (rc == -1) {
        lm_diag_add(d, LM_ERROR, LM_E_IO, NULL,
                    "cannot create %s: Berkeley DB died of signal %d while creating it "
                    "(a failing disk?)", b->path, sig);
        map_bdb_release(b);
        return -1;
    }
    if (rc == DB_RUNRECOVERY) {
        lm_diag_add(d, LM_ERROR, LM_E_CREATE, NULL, "cannot create %s", b->path);
        map_bdb_release(b);
        return -1;
    }
    if (rc == 0)
        rc = map_bdb_configure(m, b->db, type);
    if (rc == 0)
        rc = b->db->open(b->db, NULL, b->path, NULL, type, 0, 0);
    if (rc == 0) {
        b->sorted = map_bdb_sorts(m, type);
        b->buckets = map_bdb_hash_buckets(m);
    }
    if (rc != 0) {
        /* The empty hash table is written whole when the file is created:
         * a full disk shows here already, and is an I/O error like one met
         * while filling the map. */
        int io = rc == ENOSPC || rc == EFBIG || rc == EDQUOT || rc == EIO;
        map_bdb_err(b, io ? LM_E_IO : LM_E_CREATE, rc, "cannot create", d);
        map_bdb_release(b);
        return -1;
    }
    return 0;
}

static uint32_t
map_bdb_u32(const unsigned char *p, int swap)
{
    uint32_t v;

    memcpy(&v, p, 4);
    if (swap)
        v = (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) | (v << 24);
    return v;
}

/* A file cut short reads as a map with fewer records: libdb takes a page
 * past the end for an empty one.  The metadata page says how many pages
 * there are (lsn 8, pgno 4, magic 4, version 4, pagesize 4, 4 bytes of
 * flags, free 4, last_pgno 4; in the byte order of the machine that wrote
 * it, which the magic number tells). */
static int
map_bdb_check_size(struct map_bdb *b, struct lm_diags *d)
{
    unsigned char meta[36];
    uint32_t magic, pagesize, last;
    struct stat st;
    int fd, swap;
    ssize_t n;

    if ((fd = open(b->path, O_RDONLY | O_CLOEXEC)) < 0)
        return 0;                       /* libdb reports it */
    n = pread(fd, meta, sizeof meta, 0);
    if (n != (ssize_t)sizeof meta || fstat(fd, &st) != 0) {
        close(fd);
        return 0;
    }
    close(fd);
    magic = map_bdb_u32(meta + 12, 0);
    swap = magic != 0x061561 && magic != 0x053162;
    magic = map_bdb_u32(meta + 12, swap);
    if (magic != 0x061561 && magic != 0x053162)
        return 0;
    pagesize = map_bdb_u32(meta + 20, swap);
    last = map_bdb_u32(meta + 32, swap);
    if (pagesize < 512 || (uint64_t)st.st_size < ((uint64_t)last + 1) * pagesize)
        return lm_diag_add(d, LM_ERROR, LM_E_FORMAT, NULL,
                           "%s is damaged: %jd bytes, shorter than its %ju pages of %u bytes "
                           "(a truncated file?)", b->path, (intmax_t)st.st_size,
                           (uintmax_t)last + 1, (unsigned)pagesize);
    return 0;
}

static int
map_bdb_open(struct lm_map *m, const char *base, DBTYPE type, struct lm_diags *d)
{
    struct map_bdb *b = (struct map_bdb *)m;
    struct stat st;
    DBTYPE actual;
    int rc;

    if (map_bdb_setup(m, base, type, d) != 0)
        return -1;
    b->db->set_errcall(b->db, map_bdb_quiet);
    /* A cache as large as the file (up to 256 MiB): batch lookups then read
     * each page once instead of once per key. */
    if (stat(b->path, &st) == 0 && st.st_size > (off_t)(256u << 10)) {
        size_t cache = st.st_size < (off_t)(256u << 20) ? (size_t)st.st_size : (256u << 20);
        (void)b->db->set_cachesize(b->db, 0, (u_int32_t)cache, 1);
    }
    rc = b->db->open(b->db, NULL, b->path, NULL, DB_UNKNOWN, DB_RDONLY, 0);
    if (rc != 0) {
        map_bdb_err(b, rc == ENOENT ? LM_E_NOINPUT : LM_E_FORMAT, rc, "cannot open", d);
        map_bdb_release(b);
        return -1;
    }
    if (b->db->get_type(b->db, &actual) == 0 && actual != type) {
        lm_diag_add(d, LM_ERROR, LM_E_FORMAT, NULL, "%s is a %s map, not %s", b->path,
                    actual == DB_HASH ? "hash" : actual == DB_BTREE ? "btree" : "Berkeley DB",
                    type == DB_HASH ? "hash" : "btree");
        map_bdb_release(b);
        return -1;
    }
    if (map_bdb_check_size(b, d) != 0) {
        map_bdb_release(b);
        return -1;
    }
    return 0;
}

static int map_bdb_create_hash(struct lm_map *m, const char *b, struct lm_diags *d)
{ return map_bdb_create(m, b, DB_HASH, d); }
static int map_bdb_create_btree(struct lm_map *m, const char *b, struct lm_diags *d)
{ return map_bdb_create(m, b, DB_BTREE, d); }
static int map_bdb_open_hash(struct lm_map *m, const char *b, struct lm_diags *d)
{ return map_bdb_open(m, b, DB_HASH, d); }
static int map_bdb_open_btree(struct lm_map *m, const char *b, struct lm_diags *d)
{ return map_bdb_open(m, b, DB_BTREE, d); }

static int map_bdb_store_sorted(struct map_bdb *b, struct lm_diags *d);

/* The bytes of records a btree load holds before it stores a run: -c SIZE
 * bounds it as it bounds the cache. */
static size_t
map_bdb_sort_run(const struct map_bdb *b)
{
    size_t c = b->base.opts.cache_size;

    return c == 0 ? MAP_BDB_SORT_RUN : c < ((size_t)1 << 20) ? (size_t)1 << 20 : c;
}

static int
map_bdb_keep(struct map_bdb *b, const lm_datum *k, const lm_datum *v, struct lm_diags *d)
{
    struct map_bdb_chunk *c = b->chunks;
    size_t n = k->len + v->len;
    struct map_bdb_rec *r;

    if (k->len > UINT32_MAX || v->len > UINT32_MAX)
        return lm_diag_add(d, LM_ERROR, LM_E_INTERNAL, NULL, "record too long for %s", b->path);
    if (b->nrecs == b->caprecs) {
        size_t cap = b->caprecs ? 2 * b->caprecs
                   : b->sorted == MAP_BDB_BY_BUCKET ? MAP_BDB_HASH_BATCH
                   : b->base.opts.nelem > 1024 && b->base.opts.nelem < MAP_BDB_SORT_RECS
                   ? (size_t)b->base.opts.nelem : b->base.opts.nelem > 1024
                   ? MAP_BDB_SORT_RECS : 1024;
        struct map_bdb_rec *nr = realloc(b->recs, cap * sizeof *nr);
        if (nr == NULL)
            return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
        b->recs = nr;
        b->caprecs = cap;
    }
    if (c == NULL || c->size - c->used < n) {
        size_t size = n > MAP_BDB_CHUNK ? n : MAP_BDB_CHUNK;
        if (b->spare != NULL && b->spare->size >= n) {
            c = b->spare;               /* a chunk of the last batch */
            b->spare = c->next;
        } else if ((c = malloc(sizeof *c + size)) == NULL) {
            return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
        } else {
            c->size = size;
        }
        c->next = b->chunks;
        c->used = 0;
        b->chunks = c;
    }
    r = &b->recs[b->nrecs++];
    r->p = c->data + c->used;
    r->klen = (uint32_t)k->len;
    r->vlen = (uint32_t)v->len;
    if (k->len > 0)
        memcpy(c->data + c->used, k->data, k->len);
    if (v->len > 0)
        memcpy(c->data + c->used + k->len, v->data, v->len);
    c->used += n;
    b->kept += n;
    if (b->sorted == MAP_BDB_BY_BUCKET ? b->nrecs == MAP_BDB_HASH_BATCH
        : b->kept >= map_bdb_sort_run(b) || b->nrecs >= MAP_BDB_SORT_RECS)
        return map_bdb_store_sorted(b, d);
    return 0;
}

/* Eight bytes of the key from depth on, most significant first, zeros past
 * its end. */
static uint64_t
map_bdb_window(const struct map_bdb_rec *r, size_t depth)
{
    uint64_t w = 0;
    size_t i;

    for (i = 0; i < 8; i++)
        w = (w << 8) | (depth + i < r->klen ? r->p[depth + i] : 0);
    return w;
}

static int
map_bdb_cmp_len(const void *a, const void *b)
{
    uint32_t x = ((const struct map_bdb_rec *)a)->klen, y = ((const struct map_bdb_rec *)b)->klen;

    return x < y ? -1 : x > y;
}

/* Whole keys in Berkeley DB's default order, for the rare runs of keys
 * that share a long prefix. */
static int
map_bdb_cmp_key(const void *a, const void *b)
{
    const struct map_bdb_rec *x = a, *y = b;
    size_t n = x->klen < y->klen ? x->klen : y->klen;
    int c = n > 0 ? memcmp(x->p, y->p, n) : 0;

    return c != 0 ? c : x->klen < y->klen ? -1 : x->klen > y->klen;
}

/* Past this many shared bytes a run is sorted by comparing whole keys:
 * the recursion (a stack frame per eight bytes) stays shallow whatever the
 * keys. */
#define MAP_BDB_SORT_DEPTH 256

/* Order r[0..n) by window, stably: by insertion when short, else by an LSD
 * radix sort on the window's bytes through tmp (n records), skipping the
 * bytes every record shares. */
static void
map_bdb_sort_windows(struct map_bdb_rec *r, size_t n, struct map_bdb_rec *tmp)
{
    static const size_t nbytes = sizeof(uint64_t);
    size_t count[sizeof(uint64_t)][256], i, j, pass;
    struct map_bdb_rec *from = r, *to = tmp;

    if (n < 32) {
        for (i = 1; i < n; i++) {
            struct map_bdb_rec t = r[i];
            for (j = i; j > 0 && r[j - 1].w > t.w; j--)
                r[j] = r[j - 1];
            r[j] = t;
        }
        return;
    }
    memset(count, 0, sizeof count);
    for (i = 0; i < n; i++)
        for (pass = 0; pass < nbytes; pass++)
            count[pass][(r[i].w >> (8 * pass)) & 0xff]++;
    for (pass = 0; pass < nbytes; pass++) {
        size_t *c = count[pass], sum = 0;
        struct map_bdb_rec *t;
        if (c[(r[0].w >> (8 * pass)) & 0xff] == n)
            continue;                   /* every record has this byte */
        for (j = 0; j < 256; j++) {
            size_t k = c[j];
            c[j] = sum;
            sum += k;
        }
        for (i = 0; i < n; i++)
            to[c[(from[i].w >> (8 * pass)) & 0xff]++] = from[i];
        t = from, from = to, to = t;
    }
    if (from != r)
        memcpy(r, from, n * sizeof *r);
}

/* Sort r[0..n) by key bytes from depth on, as Berkeley DB's default
 * comparison orders them (bytes unsigned, a prefix first).  The windows
 * sort most records at once; a run of equal windows holds the keys that
 * end in it first (shortest first: the rest of their window is padding),
 * then the longer ones, sorted on the next eight bytes. */
static void
map_bdb_sort(struct map_bdb_rec *r, size_t n, size_t depth, struct map_bdb_rec *tmp)
{
    size_t i, j, k, ended;

    if (depth >= MAP_BDB_SORT_DEPTH) {
        qsort(r, n, sizeof *r, map_bdb_cmp_key);
        return;
    }
    for (i = 0; i < n; i++)
        r[i].w = map_bdb_window(&r[i], depth);
    map_bdb_sort_windows(r, n, tmp);
    for (i = 0; i < n; i = j) {
        for (j = i + 1; j < n && r[j].w == r[i].w; j++)
            ;
        if (j - i < 2)
            continue;
        for (k = i, ended = i; k < j; k++)
            if (r[k].klen <= depth + 8) {
                struct map_bdb_rec t = r[k];
                r[k] = r[ended];
                r[ended++] = t;
            }
        if (ended - i > 1)
            qsort(r + i, ended - i, sizeof *r, map_bdb_cmp_len);
        if (j - ended > 1)
            map_bdb_sort(r + ended, j - ended, depth + 8, tmp);
    }
}

/* The hash function libdb gives new hash files (32-bit FNV-1, from zero),
 * for the bucket of a key: only the order of the inserts depends on it. */
static uint32_t
map_bdb_fnv(const unsigned char *p, size_t n)
{
    uint32_t h = 0;

    while (n-- > 0)
        h = (h * 16777619u) ^ *p++;
    return h;
}

/* Store the kept records in key or bucket order.  A second copy of a key
 * is left out: the core reports it and publishes nothing. */
static int
map_bdb_store_sorted(struct map_bdb *b, struct lm_diags *d)
{
    size_t i;

    if (b->nrecs > 1 && b->tmp == NULL && (b->tmp = malloc(b->caprecs * sizeof *b->tmp)) == NULL)
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    if (b->sorted == MAP_BDB_BY_BUCKET) {
        for (i = 0; i < b->nrecs; i++)
            b->recs[i].w = map_bdb_fnv(b->recs[i].p, b->recs[i].klen) & (b->buckets - 1);
        map_bdb_sort_windows(b->recs, b->nrecs, b->tmp);
    } else {
        map_bdb_sort(b->recs, b->nrecs, 0, b->tmp);
        free(b->tmp);                   /* sorted once: its room goes to the cache */
        b->tmp = NULL;
    }
    for (i = 0; i < b->nrecs; i++) {
        const struct map_bdb_rec *r = &b->recs[i];
        lm_datum k = { r->p, r->klen }, v = { r->p + r->klen, r->vlen };
        DBT key, val;
        int rc;

#if defined(__GNUC__)
        /* In bucket order the records are read all over the chunks: ask
         * for one a few puts ahead so its bytes are there when hashed. */
        if (i + 8 < b->nrecs)
            __builtin_prefetch(b->recs[i + 8].p);
#endif
        map_bdb_dbt(&key, &k);
        map_bdb_dbt(&val, &v);
        rc = b->db->put(b->db, NULL, &key, &val, DB_NOOVERWRITE);
        if (rc != 0 && rc != DB_KEYEXIST)
            return map_bdb_err(b, LM_E_IO, rc, "cannot write", d);
    }
    if (b->sorted == MAP_BDB_BY_BUCKET) {   /* the next batch reuses the room */
        while (b->chunks != NULL) {
            struct map_bdb_chunk *c = b->chunks;
            b->chunks = c->next;
            c->next = b->spare;
            b->spare = c;
        }
        b->nrecs = 0;
    } else {
        map_bdb_drop_records(b);
    }
    b->kept = 0;
    return 0;
}

static int
map_bdb_put(struct lm_map *m, const lm_datum *k, const lm_datum *v,
            enum lm_put_mode mode, struct lm_diags *d)
{
    struct map_bdb *b = (struct map_bdb *)m;
    DBT key, val;
    int rc;

    if (b->sorted)
        return map_bdb_keep(b, k, v, d);
    map_bdb_dbt(&key, k);
    map_bdb_dbt(&val, v);
    if (m->opts.flags & LM_CREATE_DUPS_LATER) {
        /* The core asks for every copy and finds the duplicates itself;
         * the file keeps the first. */
        rc = b->db->put(b->db, NULL, &key, &val, DB_NOOVERWRITE);
        if (rc != 0 && rc != DB_KEYEXIST)
            return map_bdb_err(b, LM_E_IO, rc, "cannot write", d);
        return 0;
    }
    if (mode == LM_PUT_REPLACE && (m->opts.flags & LM_CREATE_DUPS)) {
        /* With duplicates on, a plain put adds a copy: remove the old ones. */
        rc = b->db->del(b->db, NULL, &key, 0);
        if (rc != 0 && rc != DB_NOTFOUND)
            return map_bdb_err(b, LM_E_IO, rc, "cannot write", d);
    }
    rc = b->db->put(b->db, NULL, &key, &val, mode == LM_PUT_INSERT ? DB_NOOVERWRITE : 0);
    if (rc == DB_KEYEXIST)
        return LM_EXISTS;
    if (rc != 0)
        return map_bdb_err(b, LM_E_IO, rc, "cannot write", d);
    return 0;
}

static int
map_bdb_get(struct lm_map *m, const lm_datum *k, lm_datum *v, struct lm_diags *d)
{
    struct map_bdb *b = (struct map_bdb *)m;
    DBT key, val;
    int rc;

    map_bdb_dbt(&key, k);
    memset(&val, 0, sizeof val);
    rc = b->db->get(b->db, NULL, &key, &val, 0);
    if (rc == DB_NOTFOUND)
        return LM_NOTFOUND;
    if (rc != 0)
        return map_bdb_err(b, LM_E_IO, rc, "cannot read", d);
    v->data = val.data;
    v->len = val.size;
    return 0;
}

static int
map_bdb_next(struct lm_map *m, lm_datum *k, lm_datum *v, struct lm_diags *d)
{
    struct map_bdb *b = (struct map_bdb *)m;
    DBT key, val;
    int rc;

    if (b->cursor == NULL && (rc = b->db->cursor(b->db, NULL, &b->cursor, 0)) != 0) {
        b->cursor = NULL;
        return map_bdb_err(b, LM_E_IO, rc, "cannot read", d);
    }
    memset(&key, 0, sizeof key);
    memset(&val, 0, sizeof val);
    rc = b->cursor->get(b->cursor, &key, &val, DB_NEXT);
    if (rc == DB_NOTFOUND)
        return LM_NOTFOUND;
    if (rc != 0)
        return map_bdb_err(b, LM_E_IO, rc, "cannot read", d);
    k->data = key.data;
    k->len = key.size;
    v->data = val.data;
    v->len = val.size;
    return 0;
}

static int
map_bdb_finish(struct lm_map *m, struct lm_diags *d)
{
    struct map_bdb *b = (struct map_bdb *)m;
    int rc;

    if (b->sorted && b->nrecs > 0 && map_bdb_store_sorted(b, d) != 0) {
        map_bdb_release(b);
        return -1;
    }
    rc = b->db->close(b->db, 0);
    b->db = NULL;
    if (rc != 0)
        map_bdb_err(b, LM_E_IO, rc, "cannot write", d);
    map_bdb_release(b);
    return rc != 0 ? -1 : 0;
}

static void
map_bdb_close(struct lm_map *m)
{
    map_bdb_release((struct map_bdb *)m);
}

const struct lm_backend lm_backend_hash = {
    .info = { "hash", ".db", "Berkeley DB hash (makemap hash, postmap hash:)",
              LM_CAP_GET | LM_CAP_ITERATE | LM_CAP_DUPS | LM_CAP_SLOW_EXISTS },
    .suffixes = map_bdb_suffixes,
    .size = sizeof(struct map_bdb),
    .create = map_bdb_create_hash,
    .open_ro = map_bdb_open_hash,
    .put = map_bdb_put,
    .get = map_bdb_get,
    .next = map_bdb_next,
    .finish = map_bdb_finish,
    .close = map_bdb_close,
};

const struct lm_backend lm_backend_btree = {
    .info = { "btree", ".db", "Berkeley DB btree (makemap btree, postmap btree:)",
              LM_CAP_GET | LM_CAP_ITERATE | LM_CAP_DUPS | LM_CAP_SLOW_EXISTS },
    .suffixes = map_bdb_suffixes,
    .size = sizeof(struct map_bdb),
    .create = map_bdb_create_btree,
    .open_ro = map_bdb_open_btree,
    .put = map_bdb_put,
    .get = map_bdb_get,
    .next = map_bdb_next,
    .finish = map_bdb_finish,
    .close = map_bdb_close,
};
