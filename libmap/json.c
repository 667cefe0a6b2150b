/*
 * json.c - JSON string literals for the library's and the tools' JSON
 * output.  Valid UTF-8 is kept as it is; any other byte that is not
 * printable ASCII is written as \u00XX, so the output is always valid JSON.
 */
#include "libmap/json.h"

#include <string.h>

/* Length of the valid UTF-8 sequence at p (at most n bytes), or 0. */
static size_t
json_utf8(const unsigned char *p, size_t n)
{
    size_t len, i;
    unsigned long c;

    if (p[0] < 0xc2 || p[0] > 0xf4)
        return 0;
    len = p[0] < 0xe0 ? 2 : p[0] < 0xf0 ? 3 : 4;
    if (len > n)
        return 0;
    c = p[0] & (0x7f >> len);
    for (i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        c = (c << 6) | (p[i] & 0x3f);
    }
    if ((len == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff)))
        || (len == 4 && (c < 0x10000 || c > 0x10ffff)))
        return 0;
    return len;
}

void
lm_json_string(FILE *f, const void *s, size_t len)
{
    const unsigned char *p = s;
    size_t i, u;

    putc('"', f);
    for (i = 0; i < len; i++) {
        if (p[i] == '"' || p[i] == '\\')
            fprintf(f, "\\%c", p[i]);
        else if (p[i] == '\n')
            fputs("\\n", f);
        else if (p[i] == '\t')
            fputs("\\t", f);
        else if (p[i] >= 0x80 && (u = json_utf8(p + i, len - i)) > 0) {
            fwrite(p + i, 1, u, f);
            i += u - 1;
        } else if (p[i] < 0x20 || p[i] >= 0x7f)
            fprintf(f, "\\u%04x", p[i]);
        else
            putc(p[i], f);
    }
    putc('"', f);
}

void
lm_json_cstr(FILE *f, const char *s)
{
    if (s == NULL)
        fputs("null", f);
    else
        lm_json_string(f, s, strlen(s));
}
