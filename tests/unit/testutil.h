/*
 * testutil.h - helpers the codec unit tests share: read a text with a codec
 * into a new policy, find a rule or a diagnostic by line.  Header-only
 * (static inline), for tests/unit/check_*.c; Check must be included first.
 */
#ifndef LIBMAP_TESTUTIL_H
#define LIBMAP_TESTUTIL_H

#include <check.h>
#include <string.h>

#include "libmap/codec.h"
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

#endif
