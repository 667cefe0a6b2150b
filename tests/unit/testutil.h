/*
 * testutil.h - helpers the codec unit tests share: read a text with a codec
 * into a new policy, find a rule or a diagnostic by line, write a policy
 * with a codec of several files and read those back, prove two policies
 * alike, a seeded random number.  Header-only
 * (static inline), for tests/unit/check_*.c; Check must be included first.
 */
#ifndef LIBMAP_TESTUTIL_H
#define LIBMAP_TESTUTIL_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libmap/codec.h"
#include "libmap/convert.h"
#include "libmap/policy.h"
#include "libmap/source.h"

/* TEXT read by codec C as the file NAME into a new policy, which must
 * parse without an error. */
static inline struct lm_policy *
tu_read(const struct lm_codec *c, const char *name, const char *text)
{
    struct lm_diags d;
    struct lm_source *s;
    struct lm_policy *p;

    lm_diags_init(&d);
    p = lm_policy_new(&d);
    ck_assert_ptr_nonnull(p);
    s = lm_source_mem(name, text, strlen(text), &d);
    ck_assert_ptr_nonnull(s);
    if (c->parse(s, p, &d) != 0 || d.nerrors > 0)
        ck_abort_msg("unexpected error: %s:%lu: %s", d.n ? d.v[0].file : "?",
                     d.n ? d.v[0].line : 0, d.n ? d.v[0].msg : "?");
    lm_source_close(s);
    lm_diags_fini(&d);
    return p;
}

/* A neutral policy text; a Sendmail access text. */
static inline struct lm_policy *
tu_neutral(const char *text)
{
    return tu_read(&lm_codec_policy, "p.txt", text);
}

static inline struct lm_policy *
tu_access(const char *text)
{
    return tu_read(&lm_codec_sendmail, "access", text);
}

/* The first rule from LINE (the test fails when there is none). */
static inline const struct lm_rule *
tu_rule(const struct lm_policy *p, unsigned long line)
{
    size_t i;

    for (i = 0; i < p->nrules; i++)
        if (p->rules[i].pos.line == line)
            return &p->rules[i];
    ck_abort_msg("no rule from line %lu", line);
    return NULL;
}

/* How many rules LINE gave. */
static inline size_t
tu_count_line(const struct lm_policy *p, unsigned long line)
{
    size_t i, n = 0;

    for (i = 0; i < p->nrules; i++)
        n += p->rules[i].pos.line == line;
    return n;
}

/* Is there a diagnostic of SEV at LINE whose message contains PART? */
static inline int
tu_has_diag(const struct lm_diags *d, enum lm_sev sev, unsigned long line, const char *part)
{
    size_t i;

    for (i = 0; i < d->n; i++)
        if (d->v[i].sev == sev && d->v[i].line == line && strstr(d->v[i].msg, part) != NULL)
            return 1;
    return 0;
}

/* A codec's written files, in the order of its outputs[]. */
#define TU_MAXFILES 16
struct tu_files {
    char  *buf[TU_MAXFILES];
    size_t len[TU_MAXFILES];
    size_t n;
};

/* P written by codec C with settings OPTS (NULL for none) into OUT, which
 * must succeed; losses into L (initialised here). */
static inline void
tu_emit_files(const struct lm_codec *c, const struct lm_policy *p, const char *const *opts,
              struct tu_files *out, struct lm_losses *l)
{
    struct lm_diags d;
    FILE *fs[TU_MAXFILES];
    size_t i;

    out->n = lm_codec_noutputs(c);
    ck_assert_uint_le(out->n, TU_MAXFILES);
    for (i = 0; i < out->n; i++) {
        out->buf[i] = NULL;
        fs[i] = open_memstream(&out->buf[i], &out->len[i]);
        ck_assert_ptr_nonnull(fs[i]);
    }
    lm_diags_init(&d);
    lm_losses_init(l);
    ck_assert_int_eq(c->emit(p, opts, fs, l, &d), 0);
    ck_assert_uint_eq(d.nerrors, 0);
    for (i = 0; i < out->n; i++)
        fclose(fs[i]);
    lm_diags_fini(&d);
}

static inline void
tu_files_free(struct tu_files *o)
{
    size_t i;

    for (i = 0; i < o->n; i++)
        free(o->buf[i]);
}

/* The files of O read back by codec C under their own names into a new
 * indexed policy; *nerr gets the number of errors (the first is shown). */
static inline struct lm_policy *
tu_read_files(const struct lm_codec *c, const struct tu_files *o, size_t *nerr)
{
    struct lm_diags d;
    struct lm_policy *p;
    size_t i;

    lm_diags_init(&d);
    p = lm_policy_new(&d);
    ck_assert_ptr_nonnull(p);
    for (i = 0; i < o->n; i++) {
        struct lm_source *s = lm_source_mem(c->outputs[i], o->buf[i], o->len[i], &d);
        ck_assert_ptr_nonnull(s);
        c->parse(s, p, &d);
        lm_source_close(s);
    }
    *nerr = d.nerrors;
    if (d.nerrors > 0)
        fprintf(stderr, "%s:%lu: %s\n", d.v[0].file ? d.v[0].file : "?", d.v[0].line,
                d.v[0].msg);
    ck_assert_int_eq(lm_policy_index(p, &d), 0);
    lm_diags_fini(&d);
    return p;
}

/* The policies decide every transaction alike (lm_verify: exact). */
static inline void
tu_same(const struct lm_policy *a, const struct lm_policy *b)
{
    struct lm_convert_report rep;
    struct lm_diags d;
    int rc;

    lm_diags_init(&d);
    lm_convert_report_init(&rep);
    rc = lm_verify(a, b, "a", "b", 3, 0, &rep, &d);
    if (rc != 0)
        ck_abort_msg("policies differ: %s", rep.nkept ? rep.diffs[0].query : "?");
    lm_convert_report_fini(&rep);
    lm_diags_fini(&d);
}

/* The neutral policy TEXT written by codec C and read back: no error on
 * reading, and when nothing was lost the result decides alike. */
static inline void
tu_roundtrip(const struct lm_codec *c, const char *text)
{
    struct lm_policy *p = tu_neutral(text), *back;
    struct tu_files out;
    struct lm_losses l;
    size_t nerr;

    tu_emit_files(c, p, NULL, &out, &l);
    back = tu_read_files(c, &out, &nerr);
    ck_assert_uint_eq(nerr, 0);
    if (l.n == 0)
        tu_same(p, back);
    tu_files_free(&out);
    lm_losses_fini(&l);
    lm_policy_free(back);
    lm_policy_free(p);
}

/* A number below N from the seed *S (a small LCG: the same run each time). */
static inline unsigned
tu_rand(unsigned *s, unsigned n)
{
    *s = *s * 1103515245u + 12345u;
    return (*s >> 16) % n;
}

#endif
