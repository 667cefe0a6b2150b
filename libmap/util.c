/*
 * util.c - small string helpers shared inside libmap (declared in
 * internal.h).
 */
#include <stdlib.h>
#include <string.h>

#include "libmap/internal.h"

char *
lm_str_join(const char *a, const char *b, const char *c)
{
    size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
    char *p = malloc(la + lb + lc + 1);

    if (p != NULL) {
        memcpy(p, a, la);
        memcpy(p + la, b, lb);
        memcpy(p + la + lb, c, lc + 1);
    }
    return p;
}
