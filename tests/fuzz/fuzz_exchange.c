/*
 * fuzz_exchange.c - libFuzzer target for the Exchange .reg codec.
 *
 * The input is a .reg file (either version, any bytes).  Parsing must not
 * crash; input that parses without errors is written back (as version 5,
 * or REGEDIT4 when the input's first byte is odd), which must parse again
 * without errors and, when the writer reported no loss, be proven to
 * decide exactly like the original by lm_verify.  A broken invariant
 * aborts (a crash to the fuzzer).
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

static struct lm_policy *
fuzz_ex_read(const char *text, size_t len, size_t *nerrors)
{
    struct lm_diags d;
    struct lm_source *s;
    struct lm_policy *p;

    lm_diags_init(&d);
    if ((p = lm_policy_new(&d)) == NULL)
        abort();
    if ((s = lm_source_mem("relay.reg", text, len, &d)) == NULL)
        abort();
    lm_codec_exchange.parse(s, p, &d);
    lm_source_close(s);
    if (d.nerrors == 0 && lm_policy_index(p, &d) != 0)
        abort();
    *nerrors = d.nerrors;
    lm_diags_fini(&d);
    return p;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const v4[] = { "reg-version=4", NULL };
    struct lm_policy *a, *b;
    struct lm_losses lost;
    struct lm_diags d;
    struct lm_convert_report rep;
    char *buf = NULL;
    size_t len = 0, nerr;
    FILE *f[1];

    a = fuzz_ex_read((const char *)data, size, &nerr);
    if (nerr > 0) {
        lm_policy_free(a);
        return 0;
    }
    lm_diags_init(&d);
    lm_losses_init(&lost);
    if ((f[0] = open_memstream(&buf, &len)) == NULL)
        abort();
    if (lm_codec_exchange.emit(a, size > 0 && (data[0] & 1) ? v4 : NULL, f, &lost, &d) != 0)
        abort();
    fclose(f[0]);
    b = fuzz_ex_read(buf, len, &nerr);
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
    free(buf);
    lm_policy_free(a);
    lm_policy_free(b);
    return 0;
}
