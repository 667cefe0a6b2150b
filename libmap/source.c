/*
 * source.c - block reader for text sources.
 *
 * The input is read in large blocks into one growing buffer; lines are
 * handed out in place, so a million-line file costs no allocation per line
 * and lines may be of any length.  Memory input is read in place as well.
 */
#include "libmap/source.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libmap/util.h"

#define SOURCE_BLOCK (1u << 20)

struct lm_source {
    char   *name;
    int     fd;             /* -1 for memory input */
    int     close_fd;
    int     regular;
    size_t  size;
    char   *buf;            /* owned buffer (file input) */
    size_t  cap;
    const char *mem;        /* memory input (borrowed) */
    char   *memcopy;        /* mutable copy of the current memory line */
    size_t  memcap;
    size_t  start, end;     /* unread bytes are buf[start..end) */
    size_t  max_line;       /* 0 = no limit */
    size_t  memoff;
    int     eof;
    int     bom;
    int     at_start;
    int     keep_bom;   /* the byte order mark is a part of the first line */
    unsigned long lineno;
};

static struct lm_source *
source_new(const char *name, struct lm_diags *d)
{
    struct lm_source *s = calloc(1, sizeof *s);

    if (s == NULL || (s->name = lm_str_join(name, "", "")) == NULL) {
        free(s);
        lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
        return NULL;
    }
    s->fd = -1;
    s->at_start = 1;
    return s;
}

struct lm_source *
lm_source_open(const char *path, struct lm_diags *d)
{
    int stdin_ = strcmp(path, "-") == 0;
    struct lm_source *s = source_new(stdin_ ? "<stdin>" : path, d);
    struct stat st;

    if (s == NULL)
        return NULL;
    if (stdin_) {
        s->fd = 0;
    } else if ((s->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        lm_diag_sys(d, LM_E_NOINPUT, errno, NULL, "cannot open %s", path);
        lm_source_close(s);
        return NULL;
    } else {
        s->close_fd = 1;
    }
    if (fstat(s->fd, &st) == 0 && S_ISREG(st.st_mode)) {
        s->regular = 1;
        s->size = (size_t)st.st_size;
    } else if (!stdin_ && fstat(s->fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        lm_diag_add(d, LM_ERROR, LM_E_NOINPUT, NULL, "%s is a directory", path);
        lm_source_close(s);
        return NULL;
    }
    return s;
}

struct lm_source *
lm_source_fd(const char *name, int fd, struct lm_diags *d)
{
    struct lm_source *s;
    struct stat st;

    if (lseek(fd, 0, SEEK_SET) != 0) {
        lm_diag_sys(d, LM_E_NOINPUT, errno, NULL, "cannot read %s", name);
        return NULL;
    }
    if ((s = source_new(name, d)) == NULL)
        return NULL;
    s->fd = fd;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        s->regular = 1;
        s->size = (size_t)st.st_size;
    }
    return s;
}

struct lm_source *
lm_source_mem(const char *name, const void *data, size_t len, struct lm_diags *d)
{
    struct lm_source *s = source_new(name, d);

    if (s == NULL)
        return NULL;
    s->mem = data;
    s->size = len;
    s->regular = 1;
    return s;
}

/* Read more input: 1 got some, 0 end of input, -1 error. */
static int
source_fill(struct lm_source *s, struct lm_diags *d)
{
    ssize_t n;

    if (s->eof)
        return 0;
    if (s->start > 0) {
        memmove(s->buf, s->buf + s->start, s->end - s->start);
        s->end -= s->start;
        s->start = 0;
    }
    /* Grow only for the first block and for a line longer than the buffer;
     * a small file gets a buffer of its own size. */
    if (s->cap == 0 || s->end + 1 >= s->cap) {
        size_t ncap = s->cap ? 2 * s->cap : SOURCE_BLOCK;
        char *nb;
        if (s->cap == 0 && s->regular && s->size + 2 < ncap)
            ncap = s->size + 2;
        if ((nb = realloc(s->buf, ncap)) == NULL)
            return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory reading %s", s->name);
        s->buf = nb;
        s->cap = ncap;
    }
    for (;;) {
        n = read(s->fd, s->buf + s->end, s->cap - s->end - 1);
        if (n >= 0)
            break;
        if (errno != EINTR)
            return lm_diag_sys(d, LM_E_NOINPUT, errno, NULL, "cannot read %s", s->name);
    }
    if (n == 0) {
        s->eof = 1;
        return 0;
    }
    s->end += (size_t)n;
    return 1;
}

static void
source_strip_bom(struct lm_source *s, char **text, size_t *len)
{
    if (s->at_start) {
        s->at_start = 0;
        if (!s->keep_bom && *len >= 3 && memcmp(*text, "\xef\xbb\xbf", 3) == 0) {
            s->bom = 1;
            *text += 3;
            *len -= 3;
        }
    }
}

/* Fill in the line handed to the caller. */
static int
source_hand_out(struct lm_source *s, struct lm_line *ln, char *text, size_t len, int last)
{
    source_strip_bom(s, &text, &len);
    ln->text = text;
    ln->len = len;
    ln->last = last;
    ln->pos.file = s->name;
    ln->pos.line = ++s->lineno;
    ln->pos.col = 0;
    return 0;
}

static int source_too_long(struct lm_source *s, struct lm_diags *d);

static int
source_next_mem(struct lm_source *s, struct lm_line *ln, struct lm_diags *d)
{
    const char *p = s->mem + s->memoff, *nl;
    size_t rest = s->size - s->memoff, len;

    if (rest == 0)
        return LM_NOTFOUND;
    nl = memchr(p, '\n', rest);
    len = nl ? (size_t)(nl - p) : rest;
    if (s->max_line > 0 && len > s->max_line)
        return source_too_long(s, d);
    s->memoff += nl ? len + 1 : len;
    if (len + 1 > s->memcap) {
        char *nc = realloc(s->memcopy, len + 1);
        if (nc == NULL)
            return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory reading %s", s->name);
        s->memcopy = nc;
        s->memcap = len + 1;
    }
    memcpy(s->memcopy, p, len);
    s->memcopy[len] = '\0';
    return source_hand_out(s, ln, s->memcopy, len, nl == NULL);
}

/* A line over the limit ends the reading: skipping it could take for ever
 * (a file without line ends). */
static int
source_too_long(struct lm_source *s, struct lm_diags *d)
{
    struct lm_pos pos = { s->name, s->lineno + 1, 0 };

    s->eof = 1;
    s->start = s->end;
    s->memoff = s->size;
    return lm_diag_add(d, LM_ERROR, LM_E_SYNTAX, &pos,
                       "line longer than %zu bytes, the limit for a line; reading stops here",
                       s->max_line);
}

void
lm_source_set_max_line(struct lm_source *s, size_t max)
{
    s->max_line = max;
}

static int source_next(struct lm_source *s, struct lm_line *ln, struct lm_diags *d);

int
lm_source_next(struct lm_source *s, struct lm_line *ln, struct lm_diags *d)
{
    int rc = source_next(s, ln, d);

    if (rc == 0)
        lm_progress_add(d, LM_PROGRESS_LINES, 1);
    return rc;
}

static int
source_next(struct lm_source *s, struct lm_line *ln, struct lm_diags *d)
{
    char *p, *nl;
    size_t len, scanned = 0;
    int rc;

    if (s->mem != NULL)
        return source_next_mem(s, ln, d);
    for (;;) {
        /* Before the first read buf is NULL: no pointer arithmetic on it. */
        nl = s->end > s->start + scanned
             ? memchr(s->buf + s->start + scanned, '\n', s->end - s->start - scanned) : NULL;
        if (nl != NULL)
            break;
        scanned = s->end - s->start;
        if (s->max_line > 0 && scanned > s->max_line)
            return source_too_long(s, d);
        if ((rc = source_fill(s, d)) < 0)
            return -1;
        if (rc == 0)
            break;
    }
    if (nl == NULL && s->start == s->end)
        return LM_NOTFOUND;     /* also an empty input, where buf may be NULL */
    p = s->buf + s->start;
    if (s->max_line > 0 && (nl != NULL ? (size_t)(nl - p) : s->end - s->start) > s->max_line)
        return source_too_long(s, d);
    if (nl != NULL) {
        len = (size_t)(nl - p);
        s->start += len + 1;
    } else {
        if (s->start == s->end)
            return LM_NOTFOUND;
        len = s->end - s->start;
        s->start = s->end;
    }
    p[len] = '\0';      /* the LF, or the spare byte kept by source_fill */
    return source_hand_out(s, ln, p, len, nl == NULL);
}

int
lm_source_rewind(struct lm_source *s)
{
    if (s->mem == NULL) {
        if (!s->regular || lseek(s->fd, 0, SEEK_SET) != 0)
            return -1;
        s->eof = 0;
        s->start = s->end = 0;
    }
    s->memoff = 0;
    s->lineno = 0;
    s->at_start = 1;
    return 0;
}

const char *
lm_source_name(const struct lm_source *s)
{
    return s->name;
}

void
lm_source_keep_bom(struct lm_source *s)
{
    s->keep_bom = 1;
}

int
lm_source_had_bom(const struct lm_source *s)
{
    return s->bom;
}

size_t
lm_source_size(const struct lm_source *s)
{
    return s->regular ? s->size : 0;
}

void
lm_source_close(struct lm_source *s)
{
    if (s == NULL)
        return;
    if (s->close_fd && s->fd >= 0)
        close(s->fd);
    free(s->buf);
    free(s->memcopy);
    free(s->name);
    free(s);
}
