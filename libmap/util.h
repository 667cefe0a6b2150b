/*
 * util.h - private to libmap/ and formats/: small helpers shared by the map
 * layer, the policy core and the codecs (never installed).
 */
#ifndef LIBMAP_UTIL_H
#define LIBMAP_UTIL_H

#include <stddef.h>
#include <stdint.h>

struct lm_diags;

/* a + b + c in a new malloc'd string; NULL if out of memory. */
char *lm_str_join(const char *a, const char *b, const char *c);

/* Read the open file FD from its start, named NAME in positions; FD stays
 * open after lm_source_close (relayconv reads its own output back from an
 * unlinked temporary file this way). */
struct lm_source;
struct lm_source *lm_source_fd(const char *name, int fd, struct lm_diags *d);

/* Does TEXT (LEN bytes) hold MARK anywhere?  Detectors scan whole files
 * for their marks: this is linear with few comparisons. */
int lm_text_has(const char *text, size_t len, const char *mark);

/* A set of keys met so far, each with the line it was first met on.  The
 * keys are copied into chunks (no allocation per key) and each slot keeps
 * its key's hash, so a probe rarely compares strings and growing never
 * hashes again.  A zeroed struct is an empty set. */
struct lm_seen_chunk;
struct lm_seen {
    char                **key;
    unsigned long        *line;
    unsigned             *hash;
    size_t                n, cap;   /* cap is a power of two (open addressing) */
    struct lm_seen_chunk *chunks;
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

/* Progress for lm_diags.progress: a new phase (reported at once), and N
 * more lines, records or classes (reported every LM_PROGRESS_STEP). */
enum lm_progress_count { LM_PROGRESS_LINES, LM_PROGRESS_RECORDS, LM_PROGRESS_CLASSES };
#define LM_PROGRESS_STEP 16384
void lm_progress_phase(struct lm_diags *d, const char *phase);
void lm_progress_add(struct lm_diags *d, enum lm_progress_count what, size_t n);

/* Make *BUF (of *CAP bytes) hold at least N bytes, at least doubling it:
 * 0, or -1 when out of memory (*BUF untouched). */
int lm_reserve(void **buf, size_t *cap, size_t n);

/* ASCII lower-case in place. */
void lm_fold(void *data, size_t len);

#endif
