/*
 * fuzz_cdbread.c - libFuzzer target for the cdb reader (map_cdb.c): the
 * input is written as a .cdb file and read the three ways mapc reads a map:
 * a listing (-u, -a), lookups of keys taken from the input (-q), and the
 * listing again.  A damaged file must be an error, never a crash, a hang or
 * a read outside the file; a file that lists cleanly must find the first
 * record of every key it lists.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libmap/atomic.h"
#include "libmap/map.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char dir[] = "/tmp/fuzz_cdbread.XXXXXX", path[64], name[64];
    struct lm_diags d;
    struct lm_map *m;
    lm_datum k, v, w;
    unsigned long n = 0;
    int rc, clean;
    FILE *f;

    if (mkdtemp(dir) == NULL)
        return 0;
    snprintf(path, sizeof path, "%s/m.cdb", dir);
    snprintf(name, sizeof name, "%s/m", dir);
    if ((f = fopen(path, "wb")) == NULL || (size && fwrite(data, 1, size, f) != size)) {
        if (f)
            fclose(f);
        lm_atomic_remove_dir(dir);
        return 0;
    }
    fclose(f);
    lm_diags_init(&d);
    d.max_errors = 0;
    if ((m = lm_map_open("cdb", name, &d)) != NULL) {
        while ((rc = lm_map_next(m, &k, &v, &d)) == 0)
            n++;
        clean = rc == LM_NOTFOUND;
        lm_map_close(m);
        /* lookups: keys cut from the input, and every listed key */
        if ((m = lm_map_open("cdb", name, &d)) == NULL)
            abort();    /* it opened a moment ago */
        for (size_t i = 0; i + 1 < size && i < 64; i += 7) {
            lm_datum q = { data + i, size - i < 9 ? size - i : 9 };
            (void)lm_map_get(m, &q, &w, &d);
        }
        if (clean) {
            struct lm_map *l = lm_map_open("cdb", name, &d);
            unsigned long seen = 0;
            if (l == NULL)
                abort();
            while (lm_map_next(l, &k, &v, &d) == 0 && seen++ < n)
                if (lm_map_get(m, &k, &w, &d) != 0)
                    abort();    /* listed cleanly, so every key must be found */
            lm_map_close(l);
        }
        lm_map_close(m);
    }
    lm_diags_fini(&d);
    lm_atomic_remove_dir(dir);
    return 0;
}
