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

/* Key storage for lm_seen: chunks that never move, newest first. */
struct lm_seen_chunk {
    struct lm_seen_chunk *next;
    size_t                used, cap;
    char                  data[];
};

#define SEEN_CHUNK 65536

static char *
seen_copy(struct lm_seen *s, const char *key, size_t len)
{
    struct lm_seen_chunk *c = s->chunks;
    char *p;

    if (c == NULL || c->cap - c->used < len + 1) {
        size_t cap = len + 1 > SEEN_CHUNK ? len + 1 : SEEN_CHUNK;
        if ((c = malloc(sizeof *c + cap)) == NULL)
            return NULL;
        c->next = s->chunks;
        c->used = 0;
        c->cap = cap;
        s->chunks = c;
    }
    p = c->data + c->used;
    memcpy(p, key, len + 1);
    c->used += len + 1;
    return p;
}

void
lm_seen_fini(struct lm_seen *s)
{
    struct lm_seen_chunk *c, *next;

    for (c = s->chunks; c != NULL; c = next) {
        next = c->next;
        free(c);
    }
    free(s->key);
    free(s->line);
    free(s->hash);
    memset(s, 0, sizeof *s);
}

/* 0 and *first = 0 when KEY is new (now recorded with LINE); 0 and *first =
 * the earlier line when seen; -1 out of memory. */
int
lm_seen_add(struct lm_seen *s, const char *key, unsigned long line,
                  unsigned long *first)
{
    unsigned h = (unsigned)util_hash(key);
    size_t i;

    if (2 * (s->n + 1) > s->cap) {
        size_t ncap = s->cap ? 2 * s->cap : 64;
        char **nk = calloc(ncap, sizeof *nk);
        unsigned long *nl = malloc(ncap * sizeof *nl);
        unsigned *nh = malloc(ncap * sizeof *nh);
        if (nk == NULL || nl == NULL || nh == NULL) {
            free(nk);
            free(nl);
            free(nh);
            return -1;
        }
        for (i = 0; i < s->cap; i++) {
            size_t j;
            if (s->key[i] == NULL)
                continue;
            for (j = s->hash[i] & (ncap - 1); nk[j] != NULL; j = (j + 1) & (ncap - 1))
                ;
            nk[j] = s->key[i];
            nl[j] = s->line[i];
            nh[j] = s->hash[i];
        }
        free(s->key);
        free(s->line);
        free(s->hash);
        s->key = nk;
        s->line = nl;
        s->hash = nh;
        s->cap = ncap;
    }
    for (i = h & (s->cap - 1); s->key[i] != NULL; i = (i + 1) & (s->cap - 1))
        if (s->hash[i] == h && strcmp(s->key[i], key) == 0) {
            *first = s->line[i];
            return 0;
        }
    if ((s->key[i] = seen_copy(s, key, strlen(key))) == NULL)
        return -1;
    s->line[i] = line;
    s->hash[i] = h;
    s->n++;
    *first = 0;
    return 0;
}

int
lm_text_has(const char *text, size_t len, const char *mark)
{
    size_t ml = strlen(mark), o = 0, i, tail;
    const char *p, *stop;

    if (ml == 0)
        return 1;
    if (ml > len)
        return 0;
    /* look for the mark's last byte that is not a lower-case letter or a
     * digit: rare in most text, so the whole mark is seldom compared */
    for (i = 0; i < ml; i++)
        if (!((mark[i] >= 'a' && mark[i] <= 'z') || (mark[i] >= '0' && mark[i] <= '9')))
            o = i;
    tail = ml - 1 - o;
    stop = text + len - tail;       /* that byte lies before stop */
    for (p = text + o; p < stop &&
         (p = memchr(p, (unsigned char)mark[o], (size_t)(stop - p))) != NULL; p++)
        if (memcmp(p - o, mark, ml) == 0)
            return 1;
    return 0;
}

int
lm_reserve(void **buf, size_t *cap, size_t n)
{
    void *nb;

    if (n <= *cap)
        return 0;
    if (n < 2 * *cap)
        n = 2 * *cap;
    if ((nb = realloc(*buf, n)) == NULL)
        return -1;
    *buf = nb;
    *cap = n;
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
