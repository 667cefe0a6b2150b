/*
 * util.h - private to libmap/ and formats/: small helpers shared by the map
 * layer, the policy core and the codecs (never installed).
 */
#ifndef LIBMAP_UTIL_H
#define LIBMAP_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* a + b + c in a new malloc'd string; NULL if out of memory. */
char *lm_str_join(const char *a, const char *b, const char *c);

/* A set of keys met so far, each with the line it was first met on. */
struct lm_seen {
    char         **key;
    unsigned long *line;
    size_t         n, cap;      /* cap is a power of two (open addressing) */
};

/* 0 and *first = 0 when KEY is new (now recorded with LINE); 0 and *first =
 * the earlier line when seen; -1 out of memory.  KEY is copied. */
int lm_seen_add(struct lm_seen *s, const char *key, unsigned long line, unsigned long *first);
void lm_seen_fini(struct lm_seen *s);   /* empties the set; safe on a zeroed one */

/* "file:line" of the rule or accepted domain that decided V, malloc'd;
 * NULL when none (or out of memory). */
struct lm_verdict;
char *verdict_at(const struct lm_verdict *v);

/* A 64-bit hash of LEN bytes at P: eight bytes at a time through a
 * multiply-xorshift mixer, the length folded in ("a" and "a\0" differ),
 * every bit of the input reaching the low bits.  The lmdb backend picks
 * slots with its low 32 bits, so it is part of that file format: never
 * change it. */
uint64_t lm_hash64(const void *p, size_t len);

/* Does s[0..n) equal the C string W, ignoring ASCII case? */
int lm_ieq(const char *s, size_t n, const char *w);

/* Is S a domain name as the lists of mail servers hold one: 1 to 255
 * letters, digits, '-', '_' and single dots, no dot at either end? */
int lm_is_domain(const char *s);

/* ASCII lower-case in place. */
void lm_fold(void *data, size_t len);

#endif
