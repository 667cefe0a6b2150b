/*
 * fuzz_policy.c - libFuzzer target for the neutral policy file: parse the
 * input; when it parses, index it, lint it, ask decide() a few questions,
 * write it back as a policy file, parse that again and verify both decide
 * alike.  The policy file can say everything the model holds, so any
 * difference, like any crash or sanitizer report, is a finding.  Every
 * codec's detect() also sees the input.
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
fuzz_parse(const char *name, const void *text, size_t len, struct lm_diags *d)
{
    struct lm_source *s = lm_source_mem(name, text, len, d);
    struct lm_policy *p = lm_policy_new(d);

    if (s == NULL || p == NULL || lm_codec_policy.parse(s, p, d) != 0 ||
        lm_policy_index(p, d) != 0) {
        lm_policy_free(p);
        p = NULL;
    }
    lm_source_close(s);
    return p;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct lm_codec *const *cs;
    struct lm_diags d, d2;
    struct lm_policy *p, *q = NULL;
    struct lm_losses lost;
    struct lm_convert_report rep;
    char *buf = NULL;
    size_t len = 0;
    FILE *mem;

    for (cs = lm_codecs(); *cs != NULL; cs++)
        if ((*cs)->detect != NULL)
            (void)(*cs)->detect("fuzz", (const char *)data, size);
    lm_diags_init(&d);
    lm_diags_init(&d2);
    lm_losses_init(&lost);
    lm_convert_report_init(&rep);
    p = fuzz_parse("fuzz", data, size, &d);
    if (p != NULL) {
        static const char *const ips[] = { "10.0.0.1", "127.0.0.1", "::1", "255.255.255.255" };
        size_t i;
        lm_lint(p, &d);
        for (i = 0; i < sizeof ips / sizeof ips[0]; i++) {
            struct lm_query qy;
            struct lm_verdict v;
            memset(&qy, 0, sizeof qy);
            lm_query_ip(&qy, ips[i], &d);
            qy.host = "mail.example.com";
            qy.sender = "user@example.com";
            qy.rcpt = "user@example.org";
            lm_decide(p, &qy, &v);
            free(lm_verdict_str(&v));
        }
        mem = open_memstream(&buf, &len);
        if (mem != NULL) {
            lm_codec_policy.emit(p, NULL, &mem, &lost, &d);
            fclose(mem);
            q = fuzz_parse("back", buf, len, &d2);
            if (lost.n == 0 && (q == NULL || lm_verify(p, q, "a", "b", 1, 0, &rep, &d2) != 0)) {
                fprintf(stderr, "policy file does not read back the same:\n%.*s\n",
                        (int)len, buf);
                abort();
            }
        }
    }
    free(buf);
    lm_policy_free(p);
    lm_policy_free(q);
    lm_convert_report_fini(&rep);
    lm_losses_fini(&lost);
    lm_diags_fini(&d);
    lm_diags_fini(&d2);
    return 0;
}
