/*
 * diag.c - diagnostics sink.
 *
 * A diagnostic that cannot be allocated is not lost silently: the counters
 * still move, and a static "out of memory" entry is recorded instead.
 */
#include "libmap/diag.h"
#include "libmap/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char diag_oom_msg[] = "out of memory while recording a diagnostic";

static int diag_vadd(struct lm_diags *d, enum lm_sev sev, int code, int errnum,
                     const struct lm_pos *pos, const char *fmt, va_list ap) LM_PRINTF(6, 0);

void
lm_diags_init(struct lm_diags *d)
{
    memset(d, 0, sizeof *d);
    d->max_errors = 50;
}

void
lm_diags_fini(struct lm_diags *d)
{
    size_t i;

    if (d == NULL)
        return;
    for (i = 0; i < d->n; i++) {
        if (d->v[i].msg != diag_oom_msg)
            free(d->v[i].msg);
        free(d->v[i].file);
    }
    free(d->v);
    d->v = NULL;
    d->n = d->cap = d->nerrors = d->nwarnings = 0;
}

static void diag_notify_only(struct lm_diags *d, enum lm_sev sev, int code, int errnum,
                             const struct lm_pos *pos, const char *fmt, va_list ap)
    LM_PRINTF(6, 0);

/* Format a diagnostic that is shown, not kept (lm_diags.drop_notified). */
static void
diag_notify_only(struct lm_diags *d, enum lm_sev sev, int code, int errnum,
                 const struct lm_pos *pos, const char *fmt, va_list ap)
{
    struct lm_diag g;
    char buf[512], *msg = buf;
    va_list ap2;
    int len;

    if (sev == LM_WARNING && d->quiet_warnings)
        return;
    va_copy(ap2, ap);
    len = vsnprintf(buf, sizeof buf, fmt, ap2);
    va_end(ap2);
    if (len < 0) {
        msg = diag_oom_msg;
    } else if ((size_t)len >= sizeof buf) {
        if ((msg = malloc((size_t)len + 1)) != NULL)
            vsnprintf(msg, (size_t)len + 1, fmt, ap);
        else
            msg = diag_oom_msg;
    }
    memset(&g, 0, sizeof g);
    g.sev = sev;
    g.code = code;
    g.file = (pos && pos->file) ? (char *)(uintptr_t)pos->file : NULL;
    g.line = pos ? pos->line : 0;
    g.col = pos ? pos->col : 0;
    g.sys_errno = errnum;
    g.msg = msg;
    d->notify(&g, d->notify_arg);
    if (msg != buf && msg != diag_oom_msg)
        free(msg);
}

static int
diag_vadd(struct lm_diags *d, enum lm_sev sev, int code, int errnum,
          const struct lm_pos *pos, const char *fmt, va_list ap)
{
    struct lm_diag *g;
    char *msg = NULL;
    va_list ap2;
    int len;

    if (sev == LM_ERROR)
        d->nerrors++;
    else if (sev == LM_WARNING)
        d->nwarnings++;
    if (sev != LM_ERROR && d->notify != NULL && d->drop_notified) {
        diag_notify_only(d, sev, code, errnum, pos, fmt, ap);
        return 0;
    }
    if (d->n == d->cap) {
        size_t ncap = d->cap ? 2 * d->cap : 16;
        struct lm_diag *nv = realloc(d->v, ncap * sizeof *nv);
        if (nv == NULL)
            return sev == LM_ERROR ? -1 : 0;
        d->v = nv;
        d->cap = ncap;
    }
    va_copy(ap2, ap);
    len = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (len >= 0) {
        size_t extra = errnum ? strlen(strerror(errnum)) + 2 : 0;
        msg = malloc((size_t)len + extra + 1);
        if (msg != NULL) {
            vsnprintf(msg, (size_t)len + 1, fmt, ap);
            if (errnum)
                sprintf(msg + len, ": %s", strerror(errnum));
        }
    }
    g = &d->v[d->n++];
    g->sev = sev;
    g->code = code;
    g->file = (pos && pos->file) ? strdup(pos->file) : NULL;
    g->line = pos ? pos->line : 0;
    g->col = pos ? pos->col : 0;
    g->sys_errno = errnum;
    g->msg = msg ? msg : diag_oom_msg;
    if (d->notify != NULL && !(sev == LM_WARNING && d->quiet_warnings))
        d->notify(g, d->notify_arg);
    return sev == LM_ERROR ? -1 : 0;
}

int
lm_diag_add(struct lm_diags *d, enum lm_sev sev, int code,
            const struct lm_pos *pos, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = diag_vadd(d, sev, code, 0, pos, fmt, ap);
    va_end(ap);
    return rc;
}

int
lm_diag_sys(struct lm_diags *d, int code, int errnum,
            const struct lm_pos *pos, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = diag_vadd(d, LM_ERROR, code, errnum, pos, fmt, ap);
    va_end(ap);
    return rc;
}

int
lm_diags_full(const struct lm_diags *d)
{
    return d->max_errors != 0 && d->nerrors >= d->max_errors;
}

int
lm_diags_first_code(const struct lm_diags *d)
{
    size_t i;

    for (i = 0; i < d->n; i++)
        if (d->v[i].sev == LM_ERROR)
            return d->v[i].code;
    return LM_E_NONE;
}

char *
lm_quote(char *buf, const void *data, size_t len, size_t max)
{
    const unsigned char *p = data;
    char *o = buf;
    size_t i, n = len < max ? len : max;

    for (i = 0; i < n; i++) {
        unsigned char c = p[i];
        switch (c) {
        case '\\': *o++ = '\\'; *o++ = '\\'; break;
        case '"':  *o++ = '\\'; *o++ = '"'; break;
        case '\t': *o++ = '\\'; *o++ = 't'; break;
        case '\r': *o++ = '\\'; *o++ = 'r'; break;
        case '\n': *o++ = '\\'; *o++ = 'n'; break;
        default:
            if (c >= 0x20 && c < 0x7f)
                *o++ = (char)c;
            else
                o += sprintf(o, "\\x%02x", c);
        }
    }
    if (n < len) {
        memcpy(o, "...", 3);
        o += 3;
    }
    *o = '\0';
    return buf;
}

void
lm_progress_phase(struct lm_diags *d, const char *phase)
{
    if (d == NULL || d->progress == NULL)
        return;
    d->done.phase = phase;
    d->progress_tick = 0;
    d->progress(&d->done, d->progress_arg);
}

void
lm_progress_add(struct lm_diags *d, enum lm_progress_count what, size_t n)
{
    if (d == NULL || d->progress == NULL)
        return;
    if (what == LM_PROGRESS_LINES)
        d->done.lines += n;
    else if (what == LM_PROGRESS_RECORDS)
        d->done.records += n;
    else
        d->done.classes += n;
    d->progress_tick += n;
    if (d->progress_tick >= LM_PROGRESS_STEP) {
        d->progress_tick = 0;
        d->progress(&d->done, d->progress_arg);
    }
}
