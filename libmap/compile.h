/*
 * compile.h - the map compiler pipeline behind mapc: read a text source in
 * one of the syntaxes, turn each line into records, fold, check duplicates,
 * and publish the map atomically.  Also lookups and dumps of compiled maps.
 */
#ifndef LIBMAP_COMPILE_H
#define LIBMAP_COMPILE_H

#include <signal.h>
#include <stdio.h>

#include "libmap/diag.h"
#include "libmap/map.h"
#include "libmap/source.h"

/* lm_compile_opts.flags */
#define LM_C_NOFOLD    0x0001  /* keep keys' case (-f) */
#define LM_C_NUL       0x0002  /* store a NUL after every key and value (-N) */
#define LM_C_REPLACE   0x0004  /* a duplicate key replaces the earlier one (-r) */
#define LM_C_DUPS      0x0008  /* store every duplicate (-d) */
#define LM_C_EMPTY     0x0010  /* allow an empty value (-e) */
#define LM_C_APPEND    0x0020  /* add to the existing map (-a) */
#define LM_C_NOWAIT    0x0040  /* fail at once when the output is locked (-n) */
#define LM_C_UNSAFE    0x0080  /* may replace a symbolic link at the output */
#define LM_C_NONUL     0x0100  /* for lookups: only try keys without a NUL */
#define LM_C_EXPAND    0x0200  /* syntax-specific opt-in expansion (tcprules CIDR) */
#define LM_C_IF_CHANGED 0x0400 /* publish only when the records differ from the
                                  map in place (lm_compile returns LM_UNCHANGED) */

struct lm_compile_opts {
    const char *type;        /* map type; NULL = the syntax's default */
    const char *syntax;      /* NULL = "access" */
    const char *output;      /* map name; NULL = the source's name */
    unsigned    flags;       /* LM_C_* */
    int         comment;     /* comment character, 0 = the syntax's default */
    int         delim;       /* key/value separator, 0 = white space */
    size_t      cache_size;  /* database cache, 0 = default */
    size_t      max_line;    /* longest source line in bytes; 0 = LM_SOURCE_MAX_LINE,
                                SIZE_MAX = no limit */
    /* Optional: when *stop becomes non-zero (a signal handler sets it), the
     * compile stops at the next line and cleans up as after an error:
     * nothing is published, the temporaries and the lock are removed. */
    volatile sig_atomic_t *stop;
};

struct lm_compile_stats {
    unsigned long lines;
    unsigned long records;
    unsigned long duplicates;
    char *output;            /* path of the (first) output file, malloc'd */
};

/* Context handed to a syntax's line parser. */
struct lm_syntax_ctx;

/* Called by a syntax for every record a line yields.  Key and value bytes are
 * borrowed for the duration of the call (the key may be folded in place
 * unless the syntax marks keys as exact). */
int lm_syntax_emit(struct lm_syntax_ctx *ctx, void *key, size_t klen,
                   const void *val, size_t vlen);

/* The options in force (for syntax-specific switches). */
const struct lm_compile_opts *lm_syntax_opts(const struct lm_syntax_ctx *ctx);

/* A scratch buffer owned by the context, at least n bytes, valid until the
 * next call; NULL if out of memory. */
void *lm_syntax_scratch(struct lm_syntax_ctx *ctx, size_t n);

#define LM_SYN_EXACT_KEYS  0x01  /* keys are never folded (tcprules) */
#define LM_SYN_FIRST_WINS  0x02  /* with -d, lookups see the first copy */

struct lm_syntax {
    const char *name;             /* "access", "tcprules", ... */
    const char *default_type;     /* map type when -t is not given, or NULL */
    const char *description;
    unsigned    flags;            /* LM_SYN_* */
    /* Parse one physical line (without LF); emit records through
     * lm_syntax_emit.  Return 0, or -1 after recording an error (parsing
     * goes on with the next line). */
    int (*line)(struct lm_syntax_ctx *ctx, struct lm_line *ln, struct lm_diags *d);
    /* Optional: called once at the end of the input. */
    int (*end)(struct lm_syntax_ctx *ctx, struct lm_diags *d);
    /* Optional: write one record of a compiled map back as source text
     * (mapc -u).  Returns 0 or -1. */
    int (*dump)(FILE *out, const lm_datum *key, const lm_datum *val,
                const struct lm_compile_opts *o, struct lm_diags *d);
    /* Optional: answer a syntax-specific question about the compiled map
     * (mapc -s tcprules -q IP,HOST,INFO) on out, as text or JSON.
     * Returns 0 answered, LM_NOTFOUND nothing matched, -1 error. */
    int (*query)(struct lm_map *m, const char *question, int json, FILE *out,
                 struct lm_diags *d);
};

/* Syntaxes built in, NULL-terminated; lookup by name (NULL if unknown). */
const struct lm_syntax *const *lm_syntaxes(void);
const struct lm_syntax *lm_syntax_find(const char *name);

/* Compile SOURCE ("-" = standard input) into a map.  Nothing is published
 * when any error was recorded.  stats may be NULL; free stats->output.
 * Returns 0 published, -1 error, or with LM_C_IF_CHANGED LM_UNCHANGED when
 * the map in place already holds the same records (key and value bytes,
 * whatever the database's layout; with LM_C_DUPS also the order of a key's
 * copies): its files are then not touched.  A missing, damaged or
 * unreadable map in place, or one of another type, is replaced. */
int lm_compile(const char *source, const struct lm_compile_opts *o,
               struct lm_compile_stats *stats, struct lm_diags *d);

/* Compare the compiled map with its source: 0 same records, LM_NOTFOUND
 * stale or missing (the reason is recorded as a note), -1 error. */
int lm_compile_check(const char *source, const struct lm_compile_opts *o,
                     struct lm_diags *d);

/* Look KEY up in an open map the way the compiler stored it: folded unless
 * LM_C_NOFOLD; with LM_C_NUL only key+NUL, with LM_C_NONUL only the bare key,
 * otherwise the bare key first and then key+NUL.  A trailing NUL is removed
 * from the value.  0 found (val borrowed), LM_NOTFOUND, -1 error. */
int lm_lookup(struct lm_map *m, const char *key, size_t klen, unsigned flags,
              lm_datum *val, struct lm_diags *d);

/* lm_lookup for N keys at once: each(arg, i, val) is called for every key in
 * order, val NULL when it is not found (else borrowed for the call).  A map
 * read through a child process (hash, btree, lmdb) answers the whole batch
 * in one round trip instead of one per key.  Returns 0, -1 after an error,
 * or the first non-zero value each returned (which stops the calls). */
int lm_lookup_many(struct lm_map *m, const lm_datum *keys, size_t n, unsigned flags,
                   int (*each)(void *arg, size_t i, const lm_datum *val), void *arg,
                   struct lm_diags *d);

/* Write every record of the map NAME as source text in the syntax's form. */
int lm_dump(const char *name, const struct lm_compile_opts *o, FILE *out,
            struct lm_diags *d);

struct lm_migrate_stats {
    unsigned long records;      /* records copied */
    unsigned long duplicates;   /* records whose key came before (kept in order) */
    unsigned long nul_keys;     /* records whose key ends in a NUL (-N maps) */
    char *input;                /* the map file read, malloc'd */
    char *output;               /* the (first) map file written, malloc'd */
};

/* Rewrite the existing map FROM of FROM_TYPE as a map of TO_TYPE named TO
 * (NULL: FROM's name without its suffix), record for record and byte for
 * byte: NUL terminators and case stay as they are, duplicate keys stay in
 * their order (refused when TO_TYPE cannot hold them, and then nothing is
 * written).  The new map is published like a compiled one.  flags:
 * LM_C_NOWAIT, LM_C_UNSAFE.  stats may be NULL; free its strings. */
int lm_migrate(const char *from_type, const char *from, const char *to_type,
               const char *to, unsigned flags, struct lm_migrate_stats *stats,
               struct lm_diags *d);

#endif
