/*
 * fuzz_antirelay.c - libFuzzer target for the antirelay codec (ARDEF-1).
 *
 * The input is antirelay.ini, optionally followed by a NUL byte and
 * ARgoodIP.dat, and another NUL byte and ARdomain.dat.  Parsing must not
 * crash; input that parses without errors is written back as the three
 * files, which must parse again without errors and, when the writer
 * reported no loss, be proven to decide exactly like the original by
 * lm_verify.  A broken invariant aborts (a crash to the fuzzer).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libmap/codec.h"
#include "libmap/convert.h"
#include "libmap/policy.h"
#include "libmap/source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fuzz_ar_names[3] = { "antirelay.ini", "ARgoodIP.dat", "ARdomain.dat" };

static struct lm_policy *
fuzz_ar_read(const char *const *text, const size_t *len, size_t *nerrors)
{
    struct lm_diags d;
    struct lm_source *s;
    struct lm_policy *p;
    int i;

    lm_diags_init(&d);
    if ((p = lm_policy_new(&d)) == NULL)
        abort();
    for (i = 0; i < 3; i++) {
        if ((s = lm_source_mem(fuzz_ar_names[i], text[i], len[i], &d)) == NULL)
            abort();
        lm_codec_antirelay.parse(s, p, &d);
        lm_source_close(s);
    }
    if (d.nerrors == 0 && lm_policy_index(p, &d) != 0)
        abort();
    *nerrors = d.nerrors;
    lm_diags_fini(&d);
    return p;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *part[3] = { "", "", "" }, *t = (const char *)data;
    size_t plen[3] = { 0, 0, 0 }, i, k = 0, start = 0, nerr;
    char *buf[3] = { NULL, NULL, NULL };
    struct lm_policy *a, *b;
    struct lm_losses lost;
    struct lm_diags d;
    struct lm_convert_report rep;
    FILE *f[3];

    for (i = 0; i <= size && k < 3; i++)
        if (i == size || t[i] == '\0') {
            part[k] = t + start;
            plen[k++] = i - start;
            start = i + 1;
        }
    a = fuzz_ar_read(part, plen, &nerr);
    if (nerr > 0) {
        lm_policy_free(a);
        return 0;
    }
    lm_diags_init(&d);
    lm_losses_init(&lost);
    for (i = 0; i < 3; i++)
        if ((f[i] = open_memstream(&buf[i], &plen[i])) == NULL)
            abort();
    if (lm_codec_antirelay.emit(a, NULL, f, &lost, &d) != 0)
        abort();
    for (i = 0; i < 3; i++)
        fclose(f[i]);
    b = fuzz_ar_read((const char *const *)buf, plen, &nerr);
    if (nerr > 0)
        abort();    /* our own output must read back */
    if (lost.n == 0) {
        lm_convert_report_init(&rep);
        if (lm_verify(a, b, "a", "b", 1, 2, &rep, &d) != 0)
            abort();
        lm_convert_report_fini(&rep);
    }
    lm_losses_fini(&lost);
    lm_diags_fini(&d);
    for (i = 0; i < 3; i++)
        free(buf[i]);
    lm_policy_free(a);
    lm_policy_free(b);
    return 0;
}
