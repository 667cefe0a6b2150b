/*
 * fuzz_files.h - the body of the libFuzzer targets for codecs whose policy is
 * several files: the input is the files separated by NUL bytes, in the
 * codec's order (missing ones are empty).  Parsing must not crash; input
 * that parses without errors is written back, which must parse again
 * without errors and, when the writer reported no loss, decide exactly like
 * the original (lm_verify compares the two on every class of input).  A
 * broken invariant aborts.  Each target file is one call of fuzz_files().
 */
#ifndef TESTS_FUZZ_FUZZ_FILES_H
#define TESTS_FUZZ_FUZZ_FILES_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libmap/codec.h"
#include "libmap/convert.h"
#include "libmap/policy.h"
#include "libmap/source.h"

#define FUZZ_PF_N 16

static struct lm_policy *
fuzz_files_read(const struct lm_codec *c, size_t n, const char *const *part,
                const size_t *plen, size_t *nerrors)
{
    struct lm_diags d;
    struct lm_policy *p;
    size_t i;

    lm_diags_init(&d);
    if ((p = lm_policy_new(&d)) == NULL)
        abort();
    for (i = 0; i < n; i++) {
        struct lm_source *s = lm_source_mem(c->outputs[i], part[i], plen[i], &d);
        if (s == NULL)
            abort();
        c->parse(s, p, &d);
        lm_source_close(s);
    }
    if (d.nerrors == 0 && lm_policy_index(p, &d) != 0)
        abort();
    *nerrors = d.nerrors;
    lm_diags_fini(&d);
    return p;
}

static int
fuzz_files(const struct lm_codec *c, const uint8_t *data, size_t size)
{
    size_t n = lm_codec_noutputs(c);
    const char *part[FUZZ_PF_N];
    size_t plen[FUZZ_PF_N], nerr, i;
    struct lm_policy *p, *q;
    struct lm_losses lost;
    struct lm_diags d;
    char *b[FUZZ_PF_N];
    size_t l[FUZZ_PF_N];
    FILE *outs[FUZZ_PF_N];

    if (n > FUZZ_PF_N)
        abort();
    for (i = 0; i < n; i++) {
        part[i] = "";
        plen[i] = 0;
    }
    part[0] = (const char *)data;
    plen[0] = size;
    for (i = 0; i + 1 < n; i++) {
        const char *nul = memchr(part[i], '\0', plen[i]);
        if (nul == NULL)
            break;
        part[i + 1] = nul + 1;
        plen[i + 1] = plen[i] - (size_t)(nul - part[i]) - 1;
        plen[i] = (size_t)(nul - part[i]);
    }
    p = fuzz_files_read(c, n, part, plen, &nerr);
    if (nerr > 0) {
        lm_policy_free(p);
        return 0;
    }
    lm_diags_init(&d);
    lm_losses_init(&lost);
    for (i = 0; i < n; i++) {
        b[i] = NULL;
        if ((outs[i] = open_memstream(&b[i], &l[i])) == NULL)
            abort();
    }
    if (c->emit(p, NULL, outs, &lost, &d) != 0)
        abort();
    for (i = 0; i < n; i++)
        fclose(outs[i]);
    q = fuzz_files_read(c, n, (const char *const *)b, l, &nerr);
    if (nerr > 0)
        abort();
    if (lost.n == 0) {
        struct lm_convert_report rep;
        struct lm_diags vd;
        lm_diags_init(&vd);
        lm_convert_report_init(&rep);
        if (lm_verify(p, q, "parsed", "written", 1, 0, &rep, &vd) != 0)
            abort();
        lm_convert_report_fini(&rep);
        lm_diags_fini(&vd);
    }
    lm_policy_free(q);
    lm_policy_free(p);
    lm_losses_fini(&lost);
    lm_diags_fini(&d);
    for (i = 0; i < n; i++)
        free(b[i]);
    return 0;
}

#endif
