/*
 * compile.c - the map compiler pipeline: source text -> records -> map.
 *
 * One pass reads the source and stores records as they come (no record
 * list in memory, so memory stays bounded for the database types).  A
 * duplicate is noticed by the map itself (LM_PUT_INSERT); the line where the
 * key was first defined is found afterwards by a second, cheap pass over the
 * source that only looks at the few keys that were duplicated.  Nothing is
 * published if any error was recorded.
 */
#include "libmap/compile.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libmap/atomic.h"
#include "libmap/internal.h"
#include "libmap/util.h"

/* Internal to libmap (map.c); its place is internal.h. */
int lm_map_get_each(struct lm_map *m, const lm_datum *keys, size_t n,
                    int (*each)(void *, size_t, int, const lm_datum *), void *arg,
                    struct lm_diags *d);

extern const struct lm_syntax lm_syntax_access;
extern const struct lm_syntax lm_syntax_tcprules;
extern const struct lm_syntax lm_syntax_tcprules6;
extern const struct lm_syntax lm_syntax_rcpthosts;

static const struct lm_syntax *const compile_syntaxes[] = {
    &lm_syntax_access,
    &lm_syntax_tcprules,
    &lm_syntax_tcprules6,
    &lm_syntax_rcpthosts,
    NULL
};

const struct lm_syntax *const *
lm_syntaxes(void)
{
    return compile_syntaxes;
}

const struct lm_syntax *
lm_syntax_find(const char *name)
{
    size_t i;

    for (i = 0; compile_syntaxes[i] != NULL; i++)
        if (strcmp(compile_syntaxes[i]->name, name) == 0)
            return compile_syntaxes[i];
    return NULL;
}

enum compile_mode { COMPILE_BUILD, COMPILE_RESCAN, COMPILE_CONFIRM };

/* Private flag: lm_compile runs for lm_compile_check into a scratch map. */
#define COMPILE_CHECKING 0x80000000u

struct compile_dup {
    char         *key;          /* stored form (folded, NUL added) */
    size_t        klen;
    unsigned long line;         /* where the duplicate was met */
    unsigned long first;        /* where the key was first defined; 0 = unknown */
};

/* The index of duplicated keys for the second pass: one entry per distinct
 * key, open addressing over a power of two; line = where the key is first
 * met in the source, 0 until then. */
struct compile_first {
    const char   *key;          /* borrowed from a compile_dup; NULL = empty */
    size_t        klen;
    uint64_t      fp;
    unsigned long line;
};

struct compile_cand {
    uint64_t      fp;
    char         *key;          /* first key met with this fingerprint */
    size_t        klen;
    unsigned long line;
};

struct lm_syntax_ctx {
    const struct lm_compile_opts *o;
    const struct lm_syntax *syn;
    enum compile_mode mode;
    struct lm_map *map;
    enum lm_put_mode put;
    const struct lm_line *line;
    struct lm_diags *d;
    unsigned long records;
    struct compile_dup *dups;
    size_t ndups, capdups;
    struct compile_first *first;    /* index of the duplicated keys */
    size_t nfirst;                  /* its size, a power of two */
    /* Late duplicate check (types whose existence check is slow): one
     * fingerprint per record, sorted after the pass; fingerprints seen twice
     * are confirmed byte for byte by a second pass. */
    int late;
    uint64_t *fps;
    size_t nfps, capfps;
    struct compile_cand *cand;
    size_t ncand;
    const char *type;           /* the map type */
    size_t max_key;             /* its key size limit, 0 = none */
    char *kbuf, *vbuf;          /* key and value with a NUL added (-N) */
    size_t kcap, vcap;
    void *scratch;
    size_t scap;
};

const struct lm_compile_opts *
lm_syntax_opts(const struct lm_syntax_ctx *ctx)
{
    return ctx->o;
}

void *
lm_syntax_scratch(struct lm_syntax_ctx *ctx, size_t n)
{
    if (lm_reserve(&ctx->scratch, &ctx->scap, n ? n : 1) != 0)
        return NULL;
    return ctx->scratch;
}

/* Add a NUL after the bytes (-N); returns the datum to store. */
static int
compile_nul(void **buf, size_t *cap, const void *p, size_t len, lm_datum *out)
{
    if (lm_reserve(buf, cap, len + 1) != 0)
        return -1;
    if (len)
        memcpy(*buf, p, len);
    ((char *)*buf)[len] = '\0';
    out->data = *buf;
    out->len = len + 1;
    return 0;
}

/* 64-bit fingerprint of a stored key. */
static uint64_t
compile_fp(const unsigned char *p, size_t len)
{
    return lm_hash64(p, len);
}

static int
compile_fp_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* Insertion sort for the small groups the scatter leaves (a few each, as
 * the fingerprints are well mixed); qsort for a group that is not small. */
static void
compile_sort_group(uint64_t *v, size_t n)
{
    size_t j, k;

    if (n > 32) {
        qsort(v, n, sizeof *v, compile_fp_cmp);
        return;
    }
    for (j = 1; j < n; j++) {
        uint64_t t = v[j];
        for (k = j; k > 0 && v[k - 1] > t; k--)
            v[k] = v[k - 1];
        v[k] = t;
    }
}

/* Sort the fingerprints in place: a scatter by the top 8 bits into 256
 * buckets (256 sequential streams), then each bucket, small enough for the
 * cache, by the next bits into groups of about four, each sorted on its own.
 * Two passes that stay in cache instead of the four of a 16-bit radix sort
 * or the cache misses of one scatter over the whole array. */
static int
compile_sort_fps(uint64_t *v, size_t n)
{
    uint32_t top[257], fill[256], *sub;
    uint64_t *tmp;
    unsigned bits = 16, low, shift;
    size_t i, b, nsub, mask;

    if (n >= UINT32_MAX)
        return -1;
    while (bits < 30 && ((size_t)4 << bits) < n)
        bits++;
    low = bits - 8;
    shift = 56 - low;
    nsub = (size_t)1 << low;
    mask = nsub - 1;
    tmp = lm_big_alloc(n * sizeof *tmp);
    sub = malloc((nsub + 1) * sizeof *sub);
    if (tmp == NULL || sub == NULL) {
        free(tmp);
        free(sub);
        return -1;
    }
    memset(top, 0, sizeof top);
    for (i = 0; i < n; i++)
        top[(v[i] >> 56) + 1]++;
    for (b = 1; b <= 256; b++)
        top[b] += top[b - 1];
    memcpy(fill, top, sizeof fill);
    for (i = 0; i < n; i++)
        tmp[fill[v[i] >> 56]++] = v[i];
    for (b = 0; b < 256; b++) {
        size_t lo = top[b], hi = top[b + 1], j, g, start;
        if (hi - lo < 2) {
            if (hi > lo)
                v[lo] = tmp[lo];
            continue;
        }
        memset(sub, 0, (nsub + 1) * sizeof *sub);
        for (j = lo; j < hi; j++)
            sub[((tmp[j] >> shift) & mask) + 1]++;
        for (g = 1; g <= nsub; g++)
            sub[g] += sub[g - 1];
        for (j = lo; j < hi; j++)
            v[lo + sub[(tmp[j] >> shift) & mask]++] = tmp[j];
        /* sub[g] is now where group g ends */
        for (g = 0, start = lo; g < nsub; start = lo + sub[g], g++)
            compile_sort_group(v + start, lo + sub[g] - start);
    }
    free(tmp);
    free(sub);
    return 0;
}

/* After the pass: keep the fingerprints that occur more than once. */
static int
compile_find_candidates(struct lm_syntax_ctx *ctx)
{
    size_t i, j, n = 0;

    if (ctx->nfps < 2)
        return 0;
    if (compile_sort_fps(ctx->fps, ctx->nfps) != 0)
        return -1;
    for (i = 1; i < ctx->nfps; i++)
        if (ctx->fps[i] == ctx->fps[i - 1] && (n == 0 || ctx->fps[n - 1] != ctx->fps[i]))
            ctx->fps[n++] = ctx->fps[i];    /* in place: n <= i */
    if (n > 0 && (ctx->cand = calloc(n, sizeof *ctx->cand)) == NULL)
        return -1;
    for (j = 0; j < n; j++)
        ctx->cand[j].fp = ctx->fps[j];
    ctx->ncand = n;
    free(ctx->fps);
    ctx->fps = NULL;
    ctx->nfps = ctx->capfps = 0;
    return 0;
}

/* The sort of the fingerprints, on a second thread while the map is
 * finished (tables written, synced) on the first: the two are independent,
 * and the map is published only once the check found no duplicate.  Worth
 * a thread from this many records on. */
#define COMPILE_SORT_THREAD 262144

struct compile_sorter {
    pthread_t thread;
    struct lm_syntax_ctx *ctx;
    int rc;
};

static void *
compile_sorter_main(void *arg)
{
    struct compile_sorter *s = arg;

    s->rc = compile_find_candidates(s->ctx);
    return NULL;
}

/* 0 started (join with compile_sorter_join), -1 not: sort here instead. */
static int
compile_sorter_start(struct compile_sorter *s, struct lm_syntax_ctx *ctx)
{
    sigset_t all, old;
    int rc;

    s->ctx = ctx;
    s->rc = 0;
    /* Signals stay with the caller's thread. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&s->thread, NULL, compile_sorter_main, s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc == 0 ? 0 : -1;
}

static int
compile_sorter_join(struct compile_sorter *s)
{
    pthread_join(s->thread, NULL);
    return s->rc;
}

static struct compile_cand *
compile_cand_find(struct lm_syntax_ctx *ctx, uint64_t fp)
{
    size_t lo = 0, hi = ctx->ncand;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ctx->cand[mid].fp < fp)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < ctx->ncand && ctx->cand[lo].fp == fp ? &ctx->cand[lo] : NULL;
}

static struct compile_first *
compile_first_find(struct lm_syntax_ctx *ctx, const void *key, size_t klen)
{
    uint64_t fp = compile_fp(key, klen);
    size_t j, mask = ctx->nfirst - 1;

    if (ctx->nfirst == 0)
        return NULL;
    for (j = (size_t)(fp >> 20) & mask;; j = (j + 1) & mask) {
        struct compile_first *f = &ctx->first[j];
        if (f->key == NULL)
            return NULL;
        if (f->fp == fp && f->klen == klen && memcmp(f->key, key, klen) == 0)
            return f;
    }
}

/* Index the duplicated keys whose first line is unknown. */
static int
compile_first_index(struct lm_syntax_ctx *ctx)
{
    size_t i, n = 16, j;

    while (n < 2 * ctx->ndups)
        n *= 2;
    if ((ctx->first = calloc(n, sizeof *ctx->first)) == NULL)
        return -1;
    ctx->nfirst = n;
    for (i = 0; i < ctx->ndups; i++) {
        const struct compile_dup *g = &ctx->dups[i];
        uint64_t fp;
        if (g->first != 0 || compile_first_find(ctx, g->key, g->klen) != NULL)
            continue;
        fp = compile_fp((const unsigned char *)g->key, g->klen);
        for (j = (size_t)(fp >> 20) & (n - 1); ctx->first[j].key != NULL; j = (j + 1) & (n - 1))
            ;
        ctx->first[j].key = g->key;
        ctx->first[j].klen = g->klen;
        ctx->first[j].fp = fp;
    }
    return 0;
}

static int
compile_note_dup(struct lm_syntax_ctx *ctx, const lm_datum *k)
{
    struct compile_dup *g;

    if (ctx->ndups == ctx->capdups) {
        size_t n = ctx->capdups ? 2 * ctx->capdups : 16;
        struct compile_dup *nd = realloc(ctx->dups, n * sizeof *nd);
        if (nd == NULL)
            return -1;
        ctx->dups = nd;
        ctx->capdups = n;
    }
    g = &ctx->dups[ctx->ndups];
    if ((g->key = malloc(k->len ? k->len : 1)) == NULL)
        return -1;
    if (k->len)
        memcpy(g->key, k->data, k->len);
    g->klen = k->len;
    g->line = ctx->line ? ctx->line->pos.line : 0;
    g->first = 0;
    ctx->ndups++;
    return 0;
}

int
lm_syntax_emit(struct lm_syntax_ctx *ctx, void *key, size_t klen,
               const void *val, size_t vlen)
{
    lm_datum k = { key, klen }, v = { val, vlen };
    int rc;

    if (!(ctx->o->flags & LM_C_NOFOLD) && !(ctx->syn->flags & LM_SYN_EXACT_KEYS))
        lm_fold(key, klen);
    if ((ctx->o->flags & LM_C_NUL)
        && (compile_nul((void **)&ctx->kbuf, &ctx->kcap, key, klen, &k) != 0
            || compile_nul((void **)&ctx->vbuf, &ctx->vcap, val, vlen, &v) != 0))
        return lm_diag_add(ctx->d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    /* A NUL inside a key: the readers of the map (sendmail, postfix) see a
     * C string, so the key would never be found; -N adds the one NUL
     * they expect. */
    if (ctx->mode == COMPILE_BUILD && klen > 0 && memchr(key, '\0', klen) != NULL) {
        char q[LM_QUOTE_BUF];
        struct lm_pos pos = { NULL, 0, 0 };
        const char *at = memchr(key, '\0', klen);
        if (ctx->line != NULL) {
            pos = ctx->line->pos;
            if ((const char *)key >= ctx->line->text
                && (const char *)key < ctx->line->text + ctx->line->len)
                pos.col = (unsigned)(at - ctx->line->text) + 1;
        }
        lm_quote(q, key, klen, LM_QUOTE_MAX);
        return lm_diag_add(ctx->d, LM_ERROR, LM_E_SYNTAX, ctx->line ? &pos : NULL,
                           "NUL byte in key \"%s\" (keys are text; a map reader would "
                           "never find it)", q);
    }
    /* Refused here, where the line is known, rather than by the map. */
    if (ctx->max_key > 0 && k.len > ctx->max_key && ctx->mode == COMPILE_BUILD) {
        char q[LM_QUOTE_BUF];
        lm_quote(q, k.data, k.len, 40);
        return lm_diag_add(ctx->d, LM_ERROR, LM_E_SYNTAX, ctx->line ? &ctx->line->pos : NULL,
                           "key \"%s\" is %zu bytes long; %s keys hold at most %zu",
                           q, k.len, ctx->type, ctx->max_key);
    }

    if (ctx->mode == COMPILE_CONFIRM) {
        struct compile_cand *c = compile_cand_find(ctx, compile_fp(k.data, k.len));
        if (c == NULL)
            return 0;
        if (c->line == 0) {
            if ((c->key = malloc(k.len ? k.len : 1)) == NULL)
                return -1;
            memcpy(c->key, k.data, k.len);
            c->klen = k.len;
            c->line = ctx->line->pos.line;
        } else if (c->klen == k.len && memcmp(c->key, k.data, k.len) == 0) {
            if (compile_note_dup(ctx, &k) != 0)
                return -1;
            ctx->dups[ctx->ndups - 1].first = c->line;
            ctx->records--;
        }
        return 0;
    }
    if (ctx->mode == COMPILE_RESCAN) {
        /* The first line of each duplicated key: one probe of the index of
         * duplicated keys per record, however many duplicates there are. */
        struct compile_first *f = compile_first_find(ctx, k.data, k.len);
        if (f != NULL && f->line == 0)
            f->line = ctx->line->pos.line;
        return 0;
    }
    if (ctx->late) {
        if (ctx->nfps == ctx->capfps) {
            size_t n = ctx->capfps ? 2 * ctx->capfps : 4096;
            uint64_t *nv = realloc(ctx->fps, n * sizeof *nv);
            if (nv == NULL)
                return lm_diag_add(ctx->d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
            ctx->fps = nv;
            ctx->capfps = n;
            lm_big_advise(nv, n * sizeof *nv);
        }
        ctx->fps[ctx->nfps++] = compile_fp(k.data, k.len);
    }
    rc = lm_map_put(ctx->map, &k, &v, ctx->late ? LM_PUT_APPEND : ctx->put, ctx->d);
    if (rc < 0)
        return -1;
    if (rc == LM_EXISTS) {
        if (compile_note_dup(ctx, &k) != 0)
            return lm_diag_add(ctx->d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
        return 0;
    }
    ctx->records++;
    lm_progress_add(ctx->d, LM_PROGRESS_RECORDS, 1);
    return 0;
}

static void
compile_ctx_fini(struct lm_syntax_ctx *ctx)
{
    size_t i;

    for (i = 0; i < ctx->ndups; i++)
        free(ctx->dups[i].key);
    free(ctx->dups);
    free(ctx->first);
    for (i = 0; i < ctx->ncand; i++)
        free(ctx->cand[i].key);
    free(ctx->cand);
    free(ctx->fps);
    free(ctx->kbuf);
    free(ctx->vbuf);
    free(ctx->scratch);
}

/* Run the syntax over every line of the source. */
static int
compile_pass(struct lm_syntax_ctx *ctx, struct lm_source *src, unsigned long *nlines)
{
    struct lm_line ln;
    int rc;

    while ((rc = lm_source_next(src, &ln, ctx->d)) == 0) {
        if (ctx->o->stop != NULL && *ctx->o->stop) {
            lm_diag_add(ctx->d, LM_ERROR, LM_E_IO, &ln.pos, "interrupted; stopping here");
            break;
        }
        ctx->line = &ln;
        (void)ctx->syn->line(ctx, &ln, ctx->d);
        if (lm_diags_full(ctx->d)) {
            lm_diag_add(ctx->d, LM_NOTE, LM_E_NONE, &ln.pos, "too many errors; stopping here");
            break;
        }
    }
    ctx->line = NULL;
    if (nlines != NULL)
        *nlines = ln.pos.line;
    if (rc < 0)
        return -1;
    if (ctx->syn->end != NULL && ctx->mode == COMPILE_BUILD)
        return ctx->syn->end(ctx, ctx->d);
    return 0;
}

/* Read the source again in another mode; the lines' own errors were
 * reported by the first pass and are not repeated. */
static int
compile_rescan(struct lm_syntax_ctx *ctx, struct lm_source *src, enum compile_mode mode)
{
    struct lm_diags *real = ctx->d, quiet;

    if (lm_source_rewind(src) != 0)
        return -1;
    lm_diags_init(&quiet);
    quiet.max_errors = 0;
    ctx->d = &quiet;
    ctx->mode = mode;
    (void)compile_pass(ctx, src, NULL);
    ctx->d = real;
    lm_diags_fini(&quiet);
    return quiet.nerrors && lm_diags_first_code(&quiet) == LM_E_NOMEM ? -1 : 0;
}

static void
compile_report_dups(struct lm_syntax_ctx *ctx, struct lm_source *src, int appended)
{
    size_t i;

    for (i = 0; i < ctx->ndups && ctx->dups[i].first != 0; i++)
        ;
    if (i < ctx->ndups && compile_first_index(ctx) == 0) {
        (void)compile_rescan(ctx, src, COMPILE_RESCAN);
        for (i = 0; i < ctx->ndups; i++) {
            struct compile_dup *g = &ctx->dups[i];
            const struct compile_first *f;
            if (g->first == 0 && (f = compile_first_find(ctx, g->key, g->klen)) != NULL
                && f->line < g->line)
                g->first = f->line;
        }
    }
    for (i = 0; i < ctx->ndups; i++) {
        struct compile_dup *g = &ctx->dups[i];
        struct lm_pos pos = { lm_source_name(src), g->line, 0 };
        char q[LM_QUOTE_BUF];
        size_t kl = g->klen;

        /* The error limit holds for duplicates as for any other error. */
        if (lm_diags_full(ctx->d)) {
            lm_diag_add(ctx->d, LM_NOTE, LM_E_NONE, NULL,
                        "too many errors; %zu more duplicate keys not shown",
                        ctx->ndups - i);
            break;
        }

        if ((ctx->o->flags & LM_C_NUL) && kl > 0)
            kl--;
        lm_quote(q, g->key, kl, LM_QUOTE_MAX);
        if (g->first)
            lm_diag_add(ctx->d, LM_ERROR, LM_E_DUPLICATE, &pos,
                        "duplicate key \"%s\" (first defined at line %lu; "
                        "use -r to keep the last, -d to keep both)", q, g->first);
        else
            lm_diag_add(ctx->d, LM_ERROR, LM_E_DUPLICATE, &pos,
                        "duplicate key \"%s\" (%s; use -r to keep the last, -d to keep both)",
                        q, appended ? "already in the map or defined earlier"
                                    : "defined earlier");
    }
}

/* -a: start the new map with every record of the old one. */
static int
compile_copy_old(const char *type, const char *name, struct lm_map *to, int dups,
                 struct lm_diags *d)
{
    struct lm_diags quiet;
    struct lm_map *from;
    lm_datum k, v;
    int rc;

    lm_diags_init(&quiet);
    from = lm_map_open(type, name, &quiet);
    if (from == NULL) {
        rc = lm_diags_first_code(&quiet) == LM_E_NOINPUT ? 0 : -1;
        if (rc != 0)
            lm_diag_add(d, LM_ERROR, LM_E_FORMAT, NULL, "%s", quiet.v[quiet.n - 1].msg);
        lm_diags_fini(&quiet);
        return rc;      /* no old map: nothing to append to */
    }
    lm_diags_fini(&quiet);
    while ((rc = lm_map_next(from, &k, &v, d)) == 0)
        if (lm_map_put(to, &k, &v, dups ? LM_PUT_APPEND : LM_PUT_INSERT, d) < 0) {
            rc = -1;
            break;
        }
    lm_map_close(from);
    return rc < 0 ? -1 : 0;
}

static const struct lm_syntax *
compile_syntax(const struct lm_compile_opts *o, const char **type, struct lm_diags *d)
{
    const struct lm_syntax *syn = lm_syntax_find(o->syntax ? o->syntax : "access");

    if (syn == NULL) {
        lm_diag_add(d, LM_ERROR, LM_E_USAGE, NULL, "unknown source syntax \"%s\"", o->syntax);
        return NULL;
    }
    *type = o->type ? o->type : syn->default_type;
    if (*type == NULL) {
        lm_diag_add(d, LM_ERROR, LM_E_USAGE, NULL, "no map type given (use -t TYPE)");
        return NULL;
    }
    if (lm_map_type(*type) == NULL) {
        lm_diag_add(d, LM_ERROR, LM_E_UNSUPPORTED, NULL,
                    "unknown map type \"%s\" (mapc -l lists the types built in)", *type);
        return NULL;
    }
    return syn;
}

int
lm_compile(const char *source, const struct lm_compile_opts *o,
           struct lm_compile_stats *stats, struct lm_diags *d)
{
    struct lm_syntax_ctx ctx;
    struct lm_map_opts mo;
    struct lm_source *src = NULL;
    const char *type, *name;
    size_t errors0 = d->nerrors;
    unsigned long nlines = 0;
    int rc = -1, published;

    memset(&ctx, 0, sizeof ctx);
    if (stats != NULL)
        memset(stats, 0, sizeof *stats);
    if ((ctx.syn = compile_syntax(o, &type, d)) == NULL)
        return -1;
    name = o->output ? o->output : source;
    if (strcmp(name, "-") == 0)
        return lm_diag_add(d, LM_ERROR, LM_E_USAGE, NULL,
                           "reading standard input needs an output name (-o NAME)");
    if ((o->flags & (LM_C_DUPS | LM_C_REPLACE)) == (LM_C_DUPS | LM_C_REPLACE))
        return lm_diag_add(d, LM_ERROR, LM_E_USAGE, NULL, "-d and -r exclude each other");
    if ((src = lm_source_open(source, d)) == NULL)
        return -1;
    lm_source_set_max_line(src, o->max_line == 0 ? LM_SOURCE_MAX_LINE
                                : o->max_line == SIZE_MAX ? 0 : o->max_line);
    ctx.o = o;
    ctx.d = d;
    ctx.mode = COMPILE_BUILD;
    ctx.put = (o->flags & LM_C_DUPS) ? LM_PUT_APPEND
            : (o->flags & LM_C_REPLACE) ? LM_PUT_REPLACE : LM_PUT_INSERT;
    memset(&mo, 0, sizeof mo);
    /* Where the map's own existence check is slow, duplicates are found
     * after the pass; that needs a source that can be read twice. */
    ctx.type = type;
    ctx.max_key = lm_backend_find(type)->max_key;
    ctx.late = ctx.put == LM_PUT_INSERT && !(o->flags & LM_C_APPEND)
               && (lm_map_type(type)->caps & LM_CAP_SLOW_EXISTS) && lm_source_size(src) > 0;
    mo.nelem = lm_source_size(src) / 24 + 16;   /* a typical access line is ~30 bytes */
    if (ctx.late && (ctx.fps = lm_big_alloc((size_t)mo.nelem * sizeof *ctx.fps)) != NULL)
        ctx.capfps = mo.nelem;
    mo.flags = ((o->flags & LM_C_DUPS) || ctx.late ? LM_CREATE_DUPS : 0)
             | (ctx.late ? LM_CREATE_DUPS_LATER : 0)
             | ((o->flags & LM_C_NOWAIT) ? LM_CREATE_NOWAIT : 0)
             | ((o->flags & LM_C_UNSAFE) ? LM_CREATE_UNSAFE : 0);
    mo.cache_size = o->cache_size;
    if ((ctx.map = lm_map_create(type, name, &mo, d)) == NULL)
        goto out;
    if ((o->flags & LM_C_APPEND)
        && compile_copy_old(type, name, ctx.map, (o->flags & LM_C_DUPS) != 0, d) != 0)
        goto out;
    if (compile_pass(&ctx, src, &nlines) != 0 && d->nerrors == errors0)
        goto out;
    if (ctx.late) {
        struct compile_sorter sorter;
        int sorted;
        /* A clean pass of a large map: finish the map while the
         * fingerprints are sorted (if-changed finishes it itself). */
        if (ctx.nfps >= COMPILE_SORT_THREAD && d->nerrors == errors0
            && !(o->flags & LM_C_IF_CHANGED) && !(o->stop != NULL && *o->stop)
            && compile_sorter_start(&sorter, &ctx) == 0) {
            int finished = lm_map_finish(ctx.map, d);
            sorted = compile_sorter_join(&sorter);
            if (finished != 0)
                goto out;
        } else {
            sorted = compile_find_candidates(&ctx);
        }
        if (sorted != 0 || (ctx.ncand > 0 && compile_rescan(&ctx, src, COMPILE_CONFIRM) != 0)) {
            lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory checking for duplicate keys");
            goto out;
        }
    }
    compile_report_dups(&ctx, src, (o->flags & LM_C_APPEND) != 0);
    if (stats != NULL) {
        stats->lines = nlines;
        stats->records = ctx.records;
        stats->duplicates = ctx.ndups;
    }
    if (d->nerrors > errors0) {
        if (!(o->flags & COMPILE_CHECKING))
            lm_diag_add(d, LM_NOTE, LM_E_NONE, NULL, "%s not written; the old map is unchanged",
                        lm_map_files(ctx.map)[0]);
        goto out;
    }
    if (o->stop != NULL && *o->stop) {
        lm_diag_add(d, LM_ERROR, LM_E_IO, NULL, "interrupted; %s not written",
                    lm_map_files(ctx.map)[0]);
        goto out;
    }
    if (o->flags & LM_C_IF_CHANGED)
        published = lm_map_commit_if_changed(ctx.map, (o->flags & LM_C_DUPS) != 0, d);
    else
        published = lm_map_commit(ctx.map, d);
    if (published < 0)
        goto out;
    if (ctx.records == 0 && !(o->flags & LM_C_APPEND))
        lm_diag_add(d, LM_WARNING, LM_E_NONE, NULL, "%s is empty: %s has no records",
                    lm_map_files(ctx.map)[0], lm_source_name(src));
    if (stats != NULL) {
        const char *f = lm_map_files(ctx.map)[0];
        if ((stats->output = malloc(strlen(f) + 1)) != NULL)
            strcpy(stats->output, f);
    }
    rc = published;
out:
    lm_map_close(ctx.map);
    lm_source_close(src);
    compile_ctx_fini(&ctx);
    return rc;
}

int
lm_lookup(struct lm_map *m, const char *key, size_t klen, unsigned flags,
          lm_datum *val, struct lm_diags *d)
{
    char small[256], *buf = small;
    lm_datum k;
    int rc = LM_NOTFOUND;

    if (klen + 1 > sizeof small && (buf = malloc(klen + 1)) == NULL)
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    if (klen)
        memcpy(buf, key, klen);
    buf[klen] = '\0';
    if (!(flags & LM_C_NOFOLD))
        lm_fold(buf, klen);
    k.data = buf;
    if (!(flags & LM_C_NUL)) {
        k.len = klen;
        rc = lm_map_get(m, &k, val, d);
    }
    if (rc == LM_NOTFOUND && !(flags & LM_C_NONUL)) {
        k.len = klen + 1;
        rc = lm_map_get(m, &k, val, d);
        if (rc == 0 && val->len > 0 && ((const char *)val->data)[val->len - 1] == '\0')
            val->len--;
    }
    if (buf != small)
        free(buf);
    return rc;
}

struct compile_batch {
    char   *vals;               /* the values found, back to back */
    size_t  vlen, vcap;
    size_t *off, *len;          /* per key; len SIZE_MAX = not found */
    const size_t *index;        /* second round: request j is key index[j] */
    int     nul;                /* second round: drop the value's trailing NUL */
};

static int
compile_batch_keep(void *arg, size_t j, int rc, const lm_datum *v)
{
    struct compile_batch *b = arg;
    size_t i = b->index ? b->index[j] : j, n;

    if (rc != 0)
        return 0;
    n = v->len;
    if (b->nul && n > 0 && ((const char *)v->data)[n - 1] == '\0')
        n--;
    if (lm_reserve((void **)&b->vals, &b->vcap, b->vlen + n + 1) != 0)
        return -1;
    if (n)
        memcpy(b->vals + b->vlen, v->data, n);
    b->off[i] = b->vlen;
    b->len[i] = n;
    b->vlen += n;
    return 0;
}

int
lm_lookup_many(struct lm_map *m, const lm_datum *keys, size_t n, unsigned flags,
               int (*each)(void *arg, size_t i, const lm_datum *val), void *arg,
               struct lm_diags *d)
{
    struct compile_batch b;
    lm_datum *k = NULL;
    size_t *index = NULL, i, nmiss = 0, total = 0;
    char *kb = NULL;
    int rc = -1;

    memset(&b, 0, sizeof b);
    for (i = 0; i < n; i++)
        total += keys[i].len + 1;
    if ((kb = malloc(total ? total : 1)) == NULL || (k = malloc((n ? n : 1) * sizeof *k)) == NULL
        || (index = malloc((n ? n : 1) * sizeof *index)) == NULL
        || (b.off = malloc((n ? n : 1) * sizeof *b.off)) == NULL
        || (b.len = malloc((n ? n : 1) * sizeof *b.len)) == NULL) {
        lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
        goto out;
    }
    /* Keys folded as the compiler stored them, each followed by a NUL: the
     * -N form is the same bytes one longer. */
    for (i = 0, total = 0; i < n; i++) {
        char *p = kb + total;
        if (keys[i].len)
            memcpy(p, keys[i].data, keys[i].len);
        p[keys[i].len] = '\0';
        if (!(flags & LM_C_NOFOLD))
            lm_fold(p, keys[i].len);
        k[i].data = p;
        k[i].len = keys[i].len;
        b.len[i] = SIZE_MAX;
        total += keys[i].len + 1;
    }
    if (!(flags & LM_C_NUL) && lm_map_get_each(m, k, n, compile_batch_keep, &b, d) != 0)
        goto out;
    if (!(flags & LM_C_NONUL)) {
        for (i = 0; i < n; i++)
            if (b.len[i] == SIZE_MAX) {
                index[nmiss] = i;
                k[nmiss].data = k[i].data;
                k[nmiss].len = keys[i].len + 1;
                nmiss++;
            }
        b.index = index;
        b.nul = 1;
        if (nmiss > 0 && lm_map_get_each(m, k, nmiss, compile_batch_keep, &b, d) != 0)
            goto out;
    }
    rc = 0;
    for (i = 0; i < n && rc == 0; i++) {
        lm_datum v;
        v.data = b.len[i] == SIZE_MAX ? NULL : b.vals ? b.vals + b.off[i] : "";
        v.len = b.len[i] == SIZE_MAX ? 0 : b.len[i];
        rc = each(arg, i, v.data ? &v : NULL);
    }
out:
    free(kb);
    free(k);
    free(index);
    free(b.off);
    free(b.len);
    free(b.vals);
    return rc;
}

int
lm_dump(const char *name, const struct lm_compile_opts *o, FILE *out, struct lm_diags *d)
{
    const struct lm_syntax *syn;
    struct lm_map *m;
    const char *type;
    lm_datum k, v;
    int rc;

    if ((syn = compile_syntax(o, &type, d)) == NULL)
        return -1;
    if ((m = lm_map_open(type, name, d)) == NULL)
        return -1;
    while ((rc = lm_map_next(m, &k, &v, d)) == 0)
        if ((syn->dump ? syn->dump : lm_syntax_access.dump)(out, &k, &v, o, d) != 0) {
            rc = -1;
            break;
        }
    lm_map_close(m);
    if (rc < 0)
        return -1;
    if (fflush(out) != 0 || ferror(out))
        return lm_diag_sys(d, LM_E_IO, errno, NULL, "cannot write the dump");
    return 0;
}

int
lm_compile_check(const char *source, const struct lm_compile_opts *o, struct lm_diags *d)
{
    struct lm_compile_opts tmp = *o;
    struct lm_map *old = NULL, *fresh = NULL;
    const char *type, *name, *why = NULL, *slash;
    char dir[] = "/tmp/mapc-check.XXXXXX";
    char *base = NULL, *tname = NULL;
    int rc = -1;
    size_t n;

    if (compile_syntax(o, &type, d) == NULL)
        return -1;
    name = o->output ? o->output : source;
    if ((base = lm_map_base(type, name)) == NULL)
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    if (mkdtemp(dir) == NULL) {
        free(base);
        return lm_diag_sys(d, LM_E_CREATE, errno, NULL, "cannot create a temporary directory");
    }
    slash = strrchr(base, '/');
    n = strlen(dir) + strlen(base) + 2;
    if ((tname = malloc(n)) == NULL) {
        lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
        goto out;
    }
    snprintf(tname, n, "%s/%s", dir, slash ? slash + 1 : base);
    tmp.output = tname;
    tmp.flags &= ~(unsigned)(LM_C_APPEND | LM_C_IF_CHANGED);
    tmp.flags |= COMPILE_CHECKING;
    if (lm_compile(source, &tmp, NULL, d) != 0)
        goto out;
    {
        struct lm_diags quiet;
        lm_diags_init(&quiet);
        old = lm_map_open(type, name, &quiet);
        if (old == NULL && lm_diags_first_code(&quiet) == LM_E_NOINPUT) {
            char *path = lm_map_path(type, name);
            lm_diag_add(d, LM_NOTE, LM_E_NONE, NULL, "%s is missing", path ? path : name);
            free(path);
            lm_diags_fini(&quiet);
            rc = LM_NOTFOUND;
            goto out;
        }
        if (old == NULL) {
            lm_diag_add(d, LM_ERROR, LM_E_FORMAT, NULL, "%s", quiet.v[quiet.n - 1].msg);
            lm_diags_fini(&quiet);
            goto out;
        }
        lm_diags_fini(&quiet);
    }
    if ((fresh = lm_map_open(type, tname, d)) == NULL)
        goto out;
    rc = lm_map_same(fresh, old, (o->flags & LM_C_DUPS) != 0, &why, d);
    if (rc == LM_NOTFOUND)
        lm_diag_add(d, LM_NOTE, LM_E_NONE, NULL, "%s is stale: %s",
                    lm_map_files(old)[0], why);
out:
    lm_map_close(old);
    lm_map_close(fresh);
    lm_atomic_remove_dir(dir);
    free(tname);
    free(base);
    return rc;
}

/* One attempt at copying every record; LM_EXISTS when a duplicate key was met
 * and the new map was not created for duplicates (the caller starts again
 * with them allowed). */
static int
compile_migrate_copy(const char *from_type, const char *from, const char *to_type,
                     const char *to, struct lm_map_opts *mo, struct lm_migrate_stats *st,
                     struct lm_diags *d)
{
    int dups = (mo->flags & LM_CREATE_DUPS) != 0, can_dup;
    struct lm_map *in, *out = NULL;
    size_t errors0 = d->nerrors;
    lm_datum k, v;
    int rc = -1;

    can_dup = (lm_map_type(to_type)->caps & LM_CAP_DUPS) != 0;
    if ((in = lm_map_open(from_type, from, d)) == NULL)
        return -1;
    free(st->input);
    if ((st->input = lm_str_join(lm_map_files(in)[0], "", "")) == NULL)
        goto nomem;
    if ((out = lm_map_create(to_type, to, mo, d)) == NULL)
        goto done;
    st->records = st->duplicates = st->nul_keys = 0;
    while ((rc = lm_map_next(in, &k, &v, d)) == 0) {
        int put = lm_map_put(out, &k, &v, LM_PUT_INSERT, d);
        if (put == LM_EXISTS) {
            if (can_dup && !dups) {
                rc = LM_EXISTS;
                goto done;
            }
            st->duplicates++;
            if (dups) {
                put = lm_map_put(out, &k, &v, LM_PUT_APPEND, d);
            } else {
                char q[LM_QUOTE_BUF];
                lm_quote(q, k.data, k.len, LM_QUOTE_MAX);
                lm_diag_add(d, LM_ERROR, LM_E_DUPLICATE, NULL,
                            "%s holds the key \"%s\" more than once; %s maps hold one "
                            "value per key (lookups in %s see the first)",
                            st->input, q, to_type, st->input);
                if (lm_diags_full(d))
                    break;
                continue;
            }
        }
        if (put < 0)
            break;
        st->records++;
        if (k.len > 0 && ((const char *)k.data)[k.len - 1] == '\0')
            st->nul_keys++;
    }
    if (rc < 0)
        goto done;
    rc = -1;
    if (d->nerrors > errors0) {
        lm_diag_add(d, LM_NOTE, LM_E_NONE, NULL, "%s not written; the old map is unchanged",
                    lm_map_files(out)[0]);
        goto done;
    }
    if (lm_map_commit(out, d) != 0)
        goto done;
    if (st->records == 0)
        lm_diag_add(d, LM_WARNING, LM_E_NONE, NULL, "%s is empty: %s has no records",
                    lm_map_files(out)[0], st->input);
    free(st->output);
    if ((st->output = lm_str_join(lm_map_files(out)[0], "", "")) == NULL)
        goto nomem;
    rc = 0;
    goto done;
nomem:
    rc = lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
done:
    lm_map_close(out);
    lm_map_close(in);
    return rc;
}

int
lm_migrate(const char *from_type, const char *from, const char *to_type, const char *to,
           unsigned flags, struct lm_migrate_stats *stats, struct lm_diags *d)
{
    struct lm_migrate_stats mine;
    struct lm_map_opts mo;
    char *base = NULL;
    int rc;

    if (stats == NULL)
        stats = &mine;
    memset(stats, 0, sizeof *stats);
    if (lm_map_type(from_type) == NULL || lm_map_type(to_type) == NULL)
        return lm_diag_add(d, LM_ERROR, LM_E_UNSUPPORTED, NULL,
                           "unknown map type \"%s\" (mapc -l lists the types built in)",
                           lm_map_type(from_type) == NULL ? from_type : to_type);
    if (to == NULL) {
        if ((base = lm_map_base(from_type, from)) == NULL)
            return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
        to = base;
    }
    memset(&mo, 0, sizeof mo);
    mo.flags = ((flags & LM_C_NOWAIT) ? LM_CREATE_NOWAIT : 0)
             | ((flags & LM_C_UNSAFE) ? LM_CREATE_UNSAFE : 0);
    /* Maps rarely hold duplicate keys: copy without them first, and only
     * when one turns up start again with the new map keeping them in order. */
    rc = compile_migrate_copy(from_type, from, to_type, to, &mo, stats, d);
    if (rc == LM_EXISTS) {
        mo.flags |= LM_CREATE_DUPS;
        rc = compile_migrate_copy(from_type, from, to_type, to, &mo, stats, d);
    }
    free(base);
    if (stats == &mine) {
        free(mine.input);
        free(mine.output);
    }
    return rc;
}
