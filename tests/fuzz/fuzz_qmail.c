/*
 * fuzz_qmail.c - libFuzzer target for the qmail codec.
 *
 * The input is a tcp.smtp file, optionally followed by a NUL byte and an
 * rcpthosts file, and another NUL byte and a badmailfrom file.  Parsing
 * must not crash; input that parses without errors is written back as
 * tcp.smtp, rcpthosts and badmailfrom, which must parse again without
 * errors and, when the writer reported no loss, decide like the original
 * for the edges of every network and the names and senders the policy
 * mentions.  A
 * broken invariant aborts (a crash to the fuzzer).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libmap/codec.h"
#include "libmap/policy.h"
#include "libmap/source.h"

/* fuzz_qmail6.c includes this file with the IPv6 build's codec. */
#ifndef FUZZ_QMAIL_CODEC
#define FUZZ_QMAIL_CODEC lm_codec_qmail
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct lm_policy *
fuzz_qmail_read(const char *tcp, size_t tlen, const char *rh, size_t rlen, const char *bmf,
                size_t blen, size_t *nerrors)
{
    struct lm_diags d;
    struct lm_source *s;
    struct lm_policy *p;

    lm_diags_init(&d);
    if ((p = lm_policy_new(&d)) == NULL)
        abort();
    if ((s = lm_source_mem("tcp.smtp", tcp, tlen, &d)) == NULL)
        abort();
    FUZZ_QMAIL_CODEC.parse(s, p, &d);
    lm_source_close(s);
    if ((s = lm_source_mem("rcpthosts", rh, rlen, &d)) == NULL)
        abort();
    FUZZ_QMAIL_CODEC.parse(s, p, &d);
    lm_source_close(s);
    if ((s = lm_source_mem("badmailfrom", bmf, blen, &d)) == NULL)
        abort();
    FUZZ_QMAIL_CODEC.parse(s, p, &d);
    lm_source_close(s);
    *nerrors = d.nerrors;
    lm_diags_fini(&d);
    return p;
}

static void
fuzz_qmail_same(const struct lm_policy *a, const struct lm_policy *b, const struct lm_query *q)
{
    struct lm_verdict va, vb;

    lm_decide(a, q, &va);
    lm_decide(b, q, &vb);
    if (!lm_verdict_same(va.kind, vb.kind))
        abort();
}

static void
fuzz_qmail_compare(const struct lm_policy *a, const struct lm_policy *b)
{
    char host[600], rcpt[600];
    size_t i;

    for (i = 0; i < a->nrules + a->ndomains; i++) {
        const struct lm_rule *r = i < a->nrules ? &a->rules[i] : NULL;
        const char *name = r ? r->pattern : a->domains[i - a->nrules].name;
        struct lm_query q;
        memset(&q, 0, sizeof q);
        q.rcpt = "x@relaymap-fuzz.invalid";
        if (r != NULL && r->kind == LM_K_NET) {
            q.info = r->info;
            q.ip = r->net.range.lo;
            fuzz_qmail_same(a, b, &q);
            q.ip = r->net.range.hi;
            fuzz_qmail_same(a, b, &q);
            if (lm_ipaddr_succ(&q.ip) == 0)
                fuzz_qmail_same(a, b, &q);
            q.ip = r->net.range.lo;
            if (lm_ipaddr_pred(&q.ip) == 0)
                fuzz_qmail_same(a, b, &q);
            continue;
        }
        if (name == NULL || (r != NULL && r->kind == LM_K_NEVER) || strlen(name) > 500)
            continue;
        lm_ipaddr_v4(&q.ip, 192, 0, 2, 1);
        q.info = r ? r->info : NULL;
        q.host = name;
        fuzz_qmail_same(a, b, &q);
        snprintf(host, sizeof host, "x.%s", name);
        q.host = host;
        fuzz_qmail_same(a, b, &q);
        q.host = NULL;
        snprintf(rcpt, sizeof rcpt, "u@%s", name);
        q.rcpt = rcpt;
        fuzz_qmail_same(a, b, &q);
        snprintf(rcpt, sizeof rcpt, "u@x.%s", name);
        fuzz_qmail_same(a, b, &q);
        /* senders: the name as an address, and as the domain of one */
        q.rcpt = "x@relaymap-fuzz.invalid";
        q.sender = name;
        fuzz_qmail_same(a, b, &q);
        snprintf(rcpt, sizeof rcpt, "u@%s", name);
        q.sender = rcpt;
        fuzz_qmail_same(a, b, &q);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *part[3] = { (const char *)data, "", "" };
    size_t plen[3] = { size, 0, 0 }, nerr, i;
    struct lm_policy *p, *q;
    struct lm_losses lost;
    struct lm_diags d;
    char *b[3] = { NULL, NULL, NULL };
    size_t l[3] = { 0, 0, 0 };
    FILE *outs[3];

    /* tcp.smtp NUL rcpthosts NUL badmailfrom */
    for (i = 0; i < 2; i++) {
        const char *nul = memchr(part[i], '\0', plen[i]);
        if (nul == NULL)
            break;
        part[i + 1] = nul + 1;
        plen[i + 1] = plen[i] - (size_t)(nul - part[i]) - 1;
        plen[i] = (size_t)(nul - part[i]);
    }
    p = fuzz_qmail_read(part[0], plen[0], part[1], plen[1], part[2], plen[2], &nerr);
    if (nerr > 0) {
        lm_policy_free(p);
        return 0;
    }
    lm_diags_init(&d);
    lm_losses_init(&lost);
    for (i = 0; i < 3; i++)
        if ((outs[i] = open_memstream(&b[i], &l[i])) == NULL)
            abort();
    if (FUZZ_QMAIL_CODEC.emit(p, NULL, outs, &lost, &d) != 0)
        abort();
    for (i = 0; i < 3; i++)
        fclose(outs[i]);
    q = fuzz_qmail_read(b[0], l[0], b[1], l[1], b[2], l[2], &nerr);
    if (nerr > 0)
        abort();
    if (lost.n == 0) {
        /* without an index every decision scans the whole policy */
        if (lm_policy_index(p, &d) != 0 || lm_policy_index(q, &d) != 0)
            abort();
        fuzz_qmail_compare(p, q);
        fuzz_qmail_compare(q, p);
    }
    lm_policy_free(q);
    lm_policy_free(p);
    lm_losses_fini(&lost);
    lm_diags_fini(&d);
    for (i = 0; i < 3; i++)
        free(b[i]);
    return 0;
}
