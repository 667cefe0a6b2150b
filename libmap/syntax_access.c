/*
 * syntax_access.c - the makemap text syntax ("access"), with mapc's rules:
 *
 *   - a line whose first byte is the comment character (default '#') is a
 *     comment; empty and white-space-only lines are skipped;
 *   - a CR before the LF is removed (CRLF files work); a UTF-8 byte order
 *     mark at the start of the file is removed by the reader;
 *   - a line starting with white space is an error (makemap rejects it too;
 *     other readers would take it as a continuation);
 *   - the key ends at the first white space (SP, HT, VT, FF, CR) or at the
 *     delimiter set with -T; the value is the rest of the line after the
 *     separator run, kept byte for byte (trailing blanks too);
 *   - a key without a value is an error unless -e.
 * There is no line length limit.
 */
#include <stdio.h>
#include <string.h>

#include "libmap/compile.h"

static int
access_blank(int c)
{
    /* the common bytes of a key fail the first test */
    return c <= ' ' && (c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r');
}

static int
access_line(struct lm_syntax_ctx *ctx, struct lm_line *ln, struct lm_diags *d)
{
    const struct lm_compile_opts *o = lm_syntax_opts(ctx);
    char *p = ln->text, *end, *k, *v;
    int comment = o->comment ? o->comment : '#';
    char q[LM_QUOTE_BUF];
    size_t i;

    end = p + ln->len;
    if (end > p && end[-1] == '\r')
        end--;
    if (end == p || (unsigned char)*p == comment)
        return 0;
    for (i = 0; p + i < end && access_blank((unsigned char)p[i]); i++)
        ;
    if (p + i == end)
        return 0;
    if (o->delim == 0 && i > 0) {
        ln->pos.col = (unsigned)i + 1;
        return lm_diag_add(d, LM_ERROR, LM_E_SYNTAX, &ln->pos,
                           "line starts with white space: \"%s\" "
                           "(a key cannot start with a blank; continuation lines are not "
                           "supported; remove the leading blanks)",
                           lm_quote(q, p, (size_t)(end - p), LM_QUOTE_MAX));
    }
    k = p;
    if (o->delim != 0) {
        while (p < end && *p != (char)o->delim)
            p++;
    } else {
        while (p < end && !access_blank((unsigned char)*p))
            p++;
    }
    if (p == k)
        return lm_diag_add(d, LM_ERROR, LM_E_SYNTAX, &ln->pos, "empty key in \"%s\"",
                           lm_quote(q, k, (size_t)(end - k), LM_QUOTE_MAX));
    v = p;
    if (o->delim != 0) {
        while (v < end && *v == (char)o->delim)
            v++;
    } else {
        while (v < end && access_blank((unsigned char)*v))
            v++;
    }
    if (v == end && !(o->flags & LM_C_EMPTY))
        return lm_diag_add(d, LM_ERROR, LM_E_SYNTAX, &ln->pos,
                           "no value for key \"%s\" (use -e to allow empty values)",
                           lm_quote(q, k, (size_t)(p - k), LM_QUOTE_MAX));
    return lm_syntax_emit(ctx, k, (size_t)(p - k), v, (size_t)(end - v));
}

static int
access_dump(FILE *out, const lm_datum *key, const lm_datum *val,
            const struct lm_compile_opts *o, struct lm_diags *d)
{
    size_t kl = key->len, vl = val->len;

    (void)d;
    /* A map stored with NUL terminators shows without them. */
    if (kl > 0 && ((const char *)key->data)[kl - 1] == '\0') {
        kl--;
        if (vl > 0 && ((const char *)val->data)[vl - 1] == '\0')
            vl--;
    }
    fwrite(key->data, 1, kl, out);
    putc(o->delim ? o->delim : '\t', out);
    fwrite(val->data, 1, vl, out);
    putc('\n', out);
    return 0;
}

const struct lm_syntax lm_syntax_access = {
    .name = "access",
    .default_type = NULL,
    .description = "makemap text: key, white space, value (Sendmail access, aliases-style maps)",
    .flags = 0,
    .line = access_line,
    .dump = access_dump,
};
