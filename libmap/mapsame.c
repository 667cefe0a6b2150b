/*
 * mapsame.c - do two maps hold the same records?  For mapc --check (a
 * compiled map against its source) and --if-changed (a map just built
 * against the one it would replace).  Records, not bytes: two databases
 * with the same records may differ in layout, page order or free space.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "libmap/atomic.h"
#include "libmap/internal.h"
#include "libmap/util.h"

/* Internal to libmap (map.c). */
int lm_map_get_each(struct lm_map *m, const lm_datum *keys, size_t n,
                    int (*each)(void *, size_t, int, const lm_datum *), void *arg,
                    struct lm_diags *d);

#define SAME_BATCH 4096

/* Records of A waiting to be looked up in B, a batch at a time. */
struct same_batch {
    char       *buf;            /* keys and values, back to back */
    size_t      len, cap;
    size_t      n;
    size_t      off[SAME_BATCH][2];    /* key offset, value offset */
    size_t      klen[SAME_BATCH], vlen[SAME_BATCH];
    const char *why;
};

static int
same_check(void *arg, size_t i, int rc, const lm_datum *w)
{
    struct same_batch *c = arg;

    if (rc == LM_NOTFOUND) {
        c->why = "a record of the source is missing from the map";
        return LM_NOTFOUND;
    }
    if (w->len != c->vlen[i] || memcmp(w->data, c->buf + c->off[i][1], w->len) != 0) {
        c->why = "a value differs";
        return LM_NOTFOUND;
    }
    return 0;
}

static int
same_flush(struct same_batch *c, struct lm_map *b, struct lm_diags *d)
{
    lm_datum keys[SAME_BATCH];
    size_t i;
    int rc;

    for (i = 0; i < c->n; i++) {
        keys[i].data = c->buf + c->off[i][0];
        keys[i].len = c->klen[i];
    }
    rc = lm_map_get_each(b, keys, c->n, same_check, c, d);
    c->n = c->len = 0;
    return rc;
}

/* A's keys are distinct: every record of A is found with its value in B and
 * B has as many records, so B holds exactly A's records.  The lookups in B
 * go in batches (one round trip each when B is read through a child). */
static int
same_by_lookup(struct lm_map *a, struct lm_map *b, const char **why, struct lm_diags *d)
{
    struct same_batch *c = calloc(1, sizeof *c);
    unsigned long na = 0, nb = 0;
    lm_datum k, v;
    int rc;

    if (c == NULL)
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    for (;;) {
        if ((rc = lm_map_next(a, &k, &v, d)) != 0) {
            /* the end of A: the last batch; or an error */
            if (rc == LM_NOTFOUND)
                rc = c->n > 0 ? same_flush(c, b, d) : 0;
            break;
        }
        na++;
        if (lm_reserve((void **)&c->buf, &c->cap, c->len + k.len + v.len + 1) != 0) {
            rc = lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
            break;
        }
        c->off[c->n][0] = c->len;
        memcpy(c->buf + c->len, k.data, k.len);
        c->len += k.len;
        c->off[c->n][1] = c->len;
        memcpy(c->buf + c->len, v.data, v.len);
        c->len += v.len;
        c->klen[c->n] = k.len;
        c->vlen[c->n] = v.len;
        if (++c->n == SAME_BATCH && (rc = same_flush(c, b, d)) != 0)
            break;
    }
    *why = c->why;
    free(c->buf);
    free(c);
    if (rc != 0)
        return rc < 0 ? -1 : LM_NOTFOUND;
    while ((rc = lm_map_next(b, &k, &v, d)) == 0)
        nb++;
    if (rc < 0)
        return -1;
    if (na != nb) {
        *why = "the map holds records the source does not have";
        return LM_NOTFOUND;
    }
    return 0;
}

/* Every record of a map, copied, in the map's order. */
struct same_list {
    char   *buf;
    size_t  len, cap;
    size_t *rec;                /* per record: key offset, key length, value length */
    size_t  n, capn;
};

static int
same_list_read(struct lm_map *m, struct same_list *l, struct lm_diags *d)
{
    lm_datum k, v;
    int rc;

    while ((rc = lm_map_next(m, &k, &v, d)) == 0) {
        if (l->n == l->capn) {
            size_t *nr = realloc(l->rec, (l->capn = l->capn ? 2 * l->capn : 256) * 3 * sizeof *nr);
            if (nr == NULL)
                return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
            l->rec = nr;
        }
        if (lm_reserve((void **)&l->buf, &l->cap, l->len + k.len + v.len + 1) != 0)
            return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
        l->rec[3 * l->n] = l->len;
        l->rec[3 * l->n + 1] = k.len;
        l->rec[3 * l->n + 2] = v.len;
        memcpy(l->buf + l->len, k.data, k.len);
        memcpy(l->buf + l->len + k.len, v.data, v.len);
        l->len += k.len + v.len;
        l->n++;
    }
    return rc < 0 ? -1 : 0;
}

/* qsort has no context argument: the buffer is the first member of each
 * element instead of a global. */
struct same_ref {
    const char *buf;
    const size_t *rec;          /* the record's three numbers */
    size_t seq;                 /* its place in the map's order */
};

static int
same_ref_cmp(const void *x, const void *y)
{
    const struct same_ref *a = x, *b = y;
    size_t al = a->rec[1], bl = b->rec[1];
    int c = memcmp(a->buf + a->rec[0], b->buf + b->rec[0], al < bl ? al : bl);

    if (c != 0)
        return c;
    if (al != bl)
        return al < bl ? -1 : 1;
    /* the copies of one key stay in their order: lookups see the first */
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static struct same_ref *
same_sorted(const struct same_list *l)
{
    struct same_ref *r = malloc((l->n ? l->n : 1) * sizeof *r);
    size_t i;

    if (r == NULL)
        return NULL;
    for (i = 0; i < l->n; i++) {
        r[i].buf = l->buf;
        r[i].rec = &l->rec[3 * i];
        r[i].seq = i;
    }
    qsort(r, l->n, sizeof *r, same_ref_cmp);
    return r;
}

/* A may hold a key more than once: compare both maps' records sorted by key,
 * the copies of a key in their stored order.  Memory for both maps. */
static int
same_by_sorting(struct lm_map *a, struct lm_map *b, const char **why, struct lm_diags *d)
{
    struct same_list la, lb;
    struct same_ref *ra = NULL, *rb = NULL;
    size_t i;
    int rc = -1;

    memset(&la, 0, sizeof la);
    memset(&lb, 0, sizeof lb);
    if (same_list_read(a, &la, d) != 0 || same_list_read(b, &lb, d) != 0)
        goto out;
    if ((ra = same_sorted(&la)) == NULL || (rb = same_sorted(&lb)) == NULL) {
        lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
        goto out;
    }
    rc = 0;
    if (la.n != lb.n) {
        *why = "the two maps hold different numbers of records";
        rc = LM_NOTFOUND;
    }
    for (i = 0; i < la.n && rc == 0; i++) {
        const size_t *x = ra[i].rec, *y = rb[i].rec;
        if (x[1] != y[1] || x[2] != y[2]
            || memcmp(la.buf + x[0], lb.buf + y[0], x[1] + x[2]) != 0) {
            *why = "a record differs";
            rc = LM_NOTFOUND;
        }
    }
out:
    free(ra);
    free(rb);
    free(la.buf);
    free(la.rec);
    free(lb.buf);
    free(lb.rec);
    return rc;
}

int
lm_map_same(struct lm_map *a, struct lm_map *b, int dups, const char **why,
            struct lm_diags *d)
{
    *why = NULL;
    return dups ? same_by_sorting(a, b, why, d) : same_by_lookup(a, b, why, d);
}

int
lm_map_commit_if_changed(struct lm_map *m, int dups, struct lm_diags *d)
{
    struct lm_diags quiet;
    struct lm_map *fresh = NULL, *old = NULL;
    const char *slash = strrchr(m->name, '/'), *why;
    char *tmpbase;
    int rc;

    if (lm_map_finish(m, d) != 0)
        return -1;
    if ((tmpbase = lm_str_join(lm_atomic_dir(m->out), "/", slash ? slash + 1 : m->name)) == NULL)
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    /* Whatever keeps us from reading the old map (none there, damaged, of
     * another type) means it is to be replaced: the diagnostics of the
     * comparison are not the caller's errors. */
    lm_diags_init(&quiet);
    rc = LM_NOTFOUND;
    if ((old = lm_map_open(m->be->info.name, m->name, &quiet)) != NULL
        && (fresh = lm_map_open(m->be->info.name, tmpbase, &quiet)) != NULL)
        rc = lm_map_same(fresh, old, dups, &why, &quiet);
    if (rc < 0 || (old == NULL && lm_diags_first_code(&quiet) != LM_E_NOINPUT))
        lm_diag_add(d, LM_NOTE, LM_E_NONE, NULL, "%s: cannot compare with the map in place "
                    "(%s); replacing it", m->final[0],
                    quiet.n > 0 && quiet.v[quiet.n - 1].msg ? quiet.v[quiet.n - 1].msg : "?");
    lm_map_close(fresh);
    lm_map_close(old);
    lm_diags_fini(&quiet);
    free(tmpbase);
    if (rc == 0) {
        m->state = LM_ST_ABORTED;   /* lm_map_close removes the new files */
        return LM_UNCHANGED;
    }
    return lm_map_commit(m, d);
}
