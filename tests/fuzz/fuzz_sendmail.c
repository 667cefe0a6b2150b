/*
 * fuzz_sendmail.c - libFuzzer target for the Sendmail access codec.
 *
 * The input is an access file.  Whatever it holds, parsing must not crash;
 * a file that parses without errors is written back as access text, which
 * must parse again without errors and, when the writer reported no loss,
 * decide like the original on the edges of every network and for every
 * name the policy mentions.  A broken invariant aborts (a crash to the
 * fuzzer).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libmap/codec.h"
#include "libmap/policy.h"
#include "libmap/source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct lm_policy *
fuzz_sendmail_read(const char *text, size_t len, size_t *nerrors)
{
    struct lm_diags d;
    struct lm_source *s;
    struct lm_policy *p;

    lm_diags_init(&d);
    p = lm_policy_new(&d);
    s = lm_source_mem("access", text, len, &d);
    if (p == NULL || s == NULL)
        abort();
    lm_codec_sendmail.parse(s, p, &d);
    *nerrors = d.nerrors;
    lm_source_close(s);
    lm_diags_fini(&d);
    return p;
}

static void
fuzz_sendmail_same(const struct lm_policy *a, const struct lm_policy *b,
                   const struct lm_query *q)
{
    struct lm_verdict va, vb;

    lm_decide(a, q, &va);
    lm_decide(b, q, &vb);
    if (!lm_verdict_same(va.kind, vb.kind))
        abort();
}

static void
fuzz_sendmail_compare(const struct lm_policy *a, const struct lm_policy *b)
{
    static const char *const rcpts[] = { "x@relaymap-fuzz.invalid", "postmaster" };
    size_t i, k;

    for (i = 0; i < a->nrules; i++) {
        const struct lm_rule *r = &a->rules[i];
        struct lm_query q;
        char addr[600];
        memset(&q, 0, sizeof q);
        for (k = 0; k < 2; k++) {
            q.rcpt = rcpts[k];
            if (r->kind == LM_K_NET) {
                q.ip = r->net.range.lo;
                fuzz_sendmail_same(a, b, &q);
                q.ip = r->net.range.hi;
                fuzz_sendmail_same(a, b, &q);
                if (lm_ipaddr_succ(&q.ip) == 0)
                    fuzz_sendmail_same(a, b, &q);
                q.ip = r->net.range.lo;
                if (lm_ipaddr_pred(&q.ip) == 0)
                    fuzz_sendmail_same(a, b, &q);
            } else if (r->pattern != NULL && r->kind != LM_K_NEVER && strlen(r->pattern) < 500) {
                memset(&q.ip, 0, sizeof q.ip);
                lm_ipaddr_v4(&q.ip, 192, 0, 2, 1);
                q.rcpt = rcpts[k];
                if (r->kind == LM_K_ADDR) {
                    q.sender = r->pattern;
                    fuzz_sendmail_same(a, b, &q);
                    q.sender = NULL;
                    q.rcpt = r->pattern;
                    fuzz_sendmail_same(a, b, &q);
                } else if (r->kind == LM_K_USER) {
                    snprintf(addr, sizeof addr, "%s@fuzz.invalid", r->pattern);
                    q.sender = addr;
                    fuzz_sendmail_same(a, b, &q);
                } else {
                    q.host = r->pattern;
                    fuzz_sendmail_same(a, b, &q);
                    snprintf(addr, sizeof addr, "u@x.%s", r->pattern);
                    q.host = addr + 2;
                    q.sender = addr;
                    fuzz_sendmail_same(a, b, &q);
                    q.host = NULL;
                    q.sender = NULL;
                    q.rcpt = addr;
                    fuzz_sendmail_same(a, b, &q);
                }
            }
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lm_policy *p, *q;
    struct lm_losses lost;
    struct lm_diags d;
    char *buf = NULL;
    size_t len = 0, nerr;
    FILE *f;
    FILE *outs[1];

    p = fuzz_sendmail_read((const char *)data, size, &nerr);
    if (nerr > 0) {
        lm_policy_free(p);
        return 0;
    }
    lm_diags_init(&d);
    lm_losses_init(&lost);
    if ((f = open_memstream(&buf, &len)) == NULL)
        abort();
    outs[0] = f;
    if (lm_codec_sendmail.emit(p, NULL, outs, &lost, &d) != 0)
        abort();
    fclose(f);
    q = fuzz_sendmail_read(buf, len, &nerr);
    if (nerr > 0)
        abort();
    if (lost.n == 0) {
        /* without an index every decision scans the whole policy */
        if (lm_policy_index(p, &d) != 0 || lm_policy_index(q, &d) != 0)
            abort();
        fuzz_sendmail_compare(p, q);
        fuzz_sendmail_compare(q, p);
    }
    lm_policy_free(q);
    lm_policy_free(p);
    lm_losses_fini(&lost);
    lm_diags_fini(&d);
    free(buf);
    return 0;
}
