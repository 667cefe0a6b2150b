/*
 * source.h - text input reader shared by every syntax and codec.
 *
 * Reads a file (or standard input for "-") in large blocks and hands out one
 * physical line at a time, without its LF, as a mutable buffer that stays
 * valid until the next call.  No line length limit, no per-line allocation.
 * A UTF-8 byte order mark at the start of the file is removed (unless
 * lm_source_keep_bom) and reported through lm_source_had_bom(); a CR before the LF is left in the line (each
 * syntax decides: strip it, or reject it).
 */
#ifndef LIBMAP_SOURCE_H
#define LIBMAP_SOURCE_H

#include <stddef.h>

#include "libmap/diag.h"

struct lm_source;

struct lm_line {
    char         *text;     /* not NUL-terminated; text[len] is writable */
    size_t        len;      /* without the LF */
    struct lm_pos pos;      /* file name and 1-based line number, col 0 */
    int           last;     /* the file ended without a final LF */
};

/* Open PATH ("-" = standard input, shown as "<stdin>").  NULL with an
 * LM_E_NOINPUT diagnostic on failure. */
struct lm_source *lm_source_open(const char *path, struct lm_diags *d);

/* Read from memory (borrowed, must outlive the source), named NAME. */
struct lm_source *lm_source_mem(const char *name, const void *data, size_t len,
                                struct lm_diags *d);

/* The line limit the map compiler applies unless told otherwise: a file
 * without line ends (/dev/zero) must not grow memory without bound. */
#define LM_SOURCE_MAX_LINE ((size_t)1 << 20)

/* Set the longest line accepted, in bytes (0 = no limit, the default); a
 * longer line is an error (LM_E_SYNTAX) and reading stops there. */
void lm_source_set_max_line(struct lm_source *s, size_t max);

/* The next line: 0 a line, LM_NOTFOUND at end of input, -1 read error or a
 * line over the limit (reading stops there). */
int lm_source_next(struct lm_source *s, struct lm_line *ln, struct lm_diags *d);

/* Start again from the first line (regular files and memory only): 0, or -1
 * when the input cannot be read twice (a pipe). */
int lm_source_rewind(struct lm_source *s);

/* Keep a UTF-8 byte order mark at the start of the input as the first bytes
 * of the first line, as the servers whose files carry none read it (call
 * before the first lm_source_next). */
void lm_source_keep_bom(struct lm_source *s);

const char *lm_source_name(const struct lm_source *s);
int lm_source_had_bom(const struct lm_source *s);

/* Size of the input in bytes when known (regular file, memory), else 0. */
size_t lm_source_size(const struct lm_source *s);

void lm_source_close(struct lm_source *s);

#endif
