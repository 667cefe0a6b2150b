/*
 * fuzz_access.c - libFuzzer target for the line reader and the access
 * syntax: the input is compiled into a cdb map in a scratch directory with
 * flags taken from the first byte.  Any crash, leak or sanitizer report is a
 * finding; a successful compile must read back with as many records as it
 * claims to have written.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libmap/atomic.h"
#include "libmap/compile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned flag_bits[] = { LM_C_NOFOLD, LM_C_NUL, LM_C_REPLACE,
                                          LM_C_DUPS, LM_C_EMPTY };
    char dir[] = "/tmp/fuzz_access.XXXXXX", src[64];
    struct lm_compile_opts o;
    struct lm_compile_stats st;
    struct lm_diags d;
    struct lm_map *m;
    lm_datum k, v;
    unsigned long n = 0;
    FILE *f;
    size_t i;

    if (size < 1 || mkdtemp(dir) == NULL)
        return 0;
    memset(&o, 0, sizeof o);
    o.type = "cdb";
    for (i = 0; i < 5; i++)
        if (data[0] & (1u << i))
            o.flags |= flag_bits[i];
    if ((o.flags & LM_C_DUPS) && (o.flags & LM_C_REPLACE))
        o.flags &= ~(unsigned)LM_C_REPLACE;
    if (data[0] & 0x20)
        o.delim = ':';
    snprintf(src, sizeof src, "%s/src", dir);
    if ((f = fopen(src, "w")) != NULL) {
        fwrite(data + 1, 1, size - 1, f);
        fclose(f);
        lm_diags_init(&d);
        if (lm_compile(src, &o, &st, &d) == 0) {
            if ((m = lm_map_open("cdb", src, &d)) == NULL)
                abort();
            while (lm_map_next(m, &k, &v, &d) == 0)
                n++;
            lm_map_close(m);
            if (n != st.records && !(o.flags & LM_C_REPLACE))
                abort();
            free(st.output);
        }
        lm_diags_fini(&d);
    }
    lm_atomic_remove_dir(dir);
    return 0;
}
