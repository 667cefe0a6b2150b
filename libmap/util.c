/*
 * util.c - small helpers shared inside libmap and the codecs (declared in
 * util.h): string joining, a set of seen keys with the line each was
 * first met on.
 */
#include <stdlib.h>
#include <string.h>

#include "libmap/util.h"

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

static unsigned long
util_hash(const char *s)
{
    unsigned long h = 2166136261u;

    while (*s)
        h = (h ^ (unsigned char)*s++) * 16777619u;
    return h;
}

void
lm_seen_fini(struct lm_seen *s)
{
    size_t i;

    for (i = 0; i < s->cap; i++)
        free(s->key[i]);
    free(s->key);
    free(s->line);
    memset(s, 0, sizeof *s);
}

/* 0 and *first = 0 when KEY is new (now recorded with LINE); 0 and *first =
 * the earlier line when seen; -1 out of memory. */
int
lm_seen_add(struct lm_seen *s, const char *key, unsigned long line,
                  unsigned long *first)
{
    size_t i;

    if (2 * (s->n + 1) > s->cap) {
        struct lm_seen ns = { NULL, NULL, 0, s->cap ? 2 * s->cap : 64 };
        ns.key = calloc(ns.cap, sizeof *ns.key);
        ns.line = calloc(ns.cap, sizeof *ns.line);
        if (ns.key == NULL || ns.line == NULL) {
            free(ns.key);
            free(ns.line);
            return -1;
        }
        for (i = 0; i < s->cap; i++) {
            size_t j;
            if (s->key[i] == NULL)
                continue;
            for (j = util_hash(s->key[i]) & (ns.cap - 1); ns.key[j] != NULL;
                 j = (j + 1) & (ns.cap - 1))
                ;
            ns.key[j] = s->key[i];
            ns.line[j] = s->line[i];
        }
        ns.n = s->n;
        free(s->key);
        free(s->line);
        *s = ns;
    }
    for (i = util_hash(key) & (s->cap - 1); s->key[i] != NULL; i = (i + 1) & (s->cap - 1))
        if (strcmp(s->key[i], key) == 0) {
            *first = s->line[i];
            return 0;
        }
    if ((s->key[i] = strdup(key)) == NULL)
        return -1;
    s->line[i] = line;
    s->n++;
    *first = 0;
    return 0;
}

uint64_t
lm_hash64(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = 0x9E3779B97F4A7C15ull ^ len, w;

    for (; len >= 8; p += 8, len -= 8) {
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
        h ^= h >> 31;
    }
    w = 0;
    memcpy(&w, p, len);
    h = (h ^ w) * 0x94d049bb133111ebull;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 32);
}

int
lm_ieq(const char *s, size_t n, const char *w)
{
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char a = (unsigned char)s[i], b = (unsigned char)w[i];
        if (b == '\0')
            return 0;
        if (a >= 'A' && a <= 'Z')
            a = (unsigned char)(a + ('a' - 'A'));
        if (b >= 'A' && b <= 'Z')
            b = (unsigned char)(b + ('a' - 'A'));
        if (a != b)
            return 0;
    }
    return w[n] == '\0';
}

int
lm_is_domain(const char *s)
{
    size_t i, n = strlen(s);

    if (n == 0 || n > 255 || s[0] == '.' || s[n - 1] == '.')
        return 0;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!(alnum || c == '-' || c == '_' || (c == '.' && s[i + 1] != '.')))
            return 0;
    }
    return 1;
}
