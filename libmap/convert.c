/*
 * convert.c - the relayconv pipeline (convert.h): load and detect, emit to
 * memory, read the output back with the target's parser, verify both
 * policies by lm_decide() on every boundary of the address partition and on
 * every name and address they mention, then publish atomically.  Loss fails
 * closed; nothing is written unless every check passed or the caller opted
 * in (LM_CV_LOSSY, LM_CV_ALLOW_WIDENING).  Also the loss list of codec.h.
 */
#include "libmap/convert.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libmap/atomic.h"
#include "libmap/util.h"
#include "libmap/json.h"
#include "libmap/ipset.h"
#include "libmap/source.h"

#define CONVERT_PROBE_DOMAIN "relaymap-probe.invalid"
#define CONVERT_PROBE_USER   "relaymap-probe"

/* --- losses ------------------------------------------------------------------ */

void
lm_losses_init(struct lm_losses *l)
{
    memset(l, 0, sizeof *l);
}

void
lm_losses_fini(struct lm_losses *l)
{
    size_t i;

    if (l == NULL)
        return;
    for (i = 0; l->v != NULL && i < l->n; i++) {
        free(l->v[i].file);
        free(l->v[i].rule);
        free(l->v[i].why);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}

const char *
lm_loss_kind_name(enum lm_loss_kind k)
{
    switch (k) {
    case LM_LOSS_DROPPED:  return "dropped";
    case LM_LOSS_WIDENED:  return "widened";
    case LM_LOSS_NARROWED: return "narrowed";
    case LM_LOSS_CHANGED:  return "changed";
    }
    return "?";
}

int
lm_loss_add(struct lm_losses *l, enum lm_loss_kind kind, int widens,
            const struct lm_rule *r, const struct lm_pos *pos,
            struct lm_diags *d, const char *fmt, ...)
{
    struct lm_loss *x;
    va_list ap;
    int len;

    if (l->v == NULL && l->n > 0) {
        /* the list was reported and forgotten (convert_forget_losses):
         * only counted from then on */
        l->n++;
        l->nwiden += widens != 0;
        return 0;
    }
    if (l->n == l->cap) {
        size_t ncap = l->cap ? 2 * l->cap : 16;
        struct lm_loss *nv = realloc(l->v, ncap * sizeof *nv);
        if (nv == NULL)
            return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, pos, "out of memory");
        l->v = nv;
        l->cap = ncap;
    }
    x = &l->v[l->n];
    memset(x, 0, sizeof *x);
    x->kind = kind;
    x->widens = widens != 0;
    if (r != NULL)
        pos = &r->pos;
    if (pos != NULL) {
        x->file = pos->file ? strdup(pos->file) : NULL;
        x->line = pos->line;
    }
    x->rule = r ? lm_rule_str(r) : NULL;
    va_start(ap, fmt);
    len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (len >= 0 && (x->why = malloc((size_t)len + 1)) != NULL) {
        va_start(ap, fmt);
        vsnprintf(x->why, (size_t)len + 1, fmt, ap);
        va_end(ap);
    }
    if (x->why == NULL || (r != NULL && x->rule == NULL) ||
        (pos != NULL && pos->file != NULL && x->file == NULL)) {
        free(x->file);
        free(x->rule);
        free(x->why);
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, pos, "out of memory");
    }
    l->n++;
    l->nwiden += x->widens;
    return 0;
}

/* --- report -------------------------------------------------------------------- */

void
lm_convert_report_init(struct lm_convert_report *r)
{
    memset(r, 0, sizeof *r);
    lm_losses_init(&r->losses);
}

void
lm_convert_report_fini(struct lm_convert_report *r)
{
    size_t i;

    if (r == NULL)
        return;
    lm_losses_fini(&r->losses);
    for (i = 0; i < r->nkept; i++) {
        free(r->diffs[i].query);
        free(r->diffs[i].a_at);
        free(r->diffs[i].b_at);
    }
    free(r->diffs);
    memset(r, 0, sizeof *r);
}

void
lm_convert_report_json(FILE *f, const struct lm_convert_report *r)
{
    size_t i;

    fputs("{\"from\":", f);
    lm_json_cstr(f, r->from ? r->from->name : NULL);
    fputs(",\"to\":", f);
    lm_json_cstr(f, r->to ? r->to->name : NULL);
    fprintf(f, ",\"written\":%s,\"changed\":%s,\"rules_in\":%zu,\"rules_out\":%zu,"
            "\"classes\":%zu,\"combinations\":%zu,\"loopback_only\":%zu,"
            "\"losses\":[", r->written ? "true" : "false", r->changed ? "true" : "false",
            r->nrules_in, r->nrules_out, r->nclasses, r->nprobes, r->nloopback);
    for (i = 0; r->losses.v != NULL && i < r->losses.n; i++) {
        const struct lm_loss *x = &r->losses.v[i];
        fputs(i ? ",{\"file\":" : "{\"file\":", f);
        lm_json_cstr(f, x->file);
        fprintf(f, ",\"line\":%lu,\"kind\":\"%s\",\"widens\":%s,\"rule\":", x->line,
                lm_loss_kind_name(x->kind), x->widens ? "true" : "false");
        lm_json_cstr(f, x->rule);
        fputs(",\"why\":", f);
        lm_json_cstr(f, x->why);
        fputc('}', f);
    }
    fprintf(f, "],\"differences_total\":%zu,\"differences_widening\":%zu,\"differences\":[",
            r->ndiffs, r->nwider);
    for (i = 0; i < r->nkept; i++) {
        const struct lm_diff *x = &r->diffs[i];
        fputs(i ? ",{\"query\":" : "{\"query\":", f);
        lm_json_cstr(f, x->query);
        fprintf(f, ",\"source\":\"%s\",\"target\":\"%s\",\"source_rule\":",
                lm_verdict_name(x->a), lm_verdict_name(x->b));
        lm_json_cstr(f, x->a_at);
        fputs(",\"target_rule\":", f);
        lm_json_cstr(f, x->b_at);
        fprintf(f, ",\"widens\":%s}", x->wider ? "true" : "false");
    }
    fputs("]}\n", f);
}

/* --- loading ------------------------------------------------------------------- */

/* Read a whole file ("-" = standard input) into *buf. */
static int
convert_slurp(const char *path, char **buf, size_t *len, struct lm_diags *d)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    const char *shown = f == stdin ? "standard input" : path;
    size_t cap = 65536, n = 0, line = 0;   /* line: where the last line begins */
    struct stat st;
    char *b, *p;
    int regular;

    *buf = NULL;
    *len = 0;
    if (f == NULL)
        return lm_diag_sys(d, LM_E_NOINPUT, errno, NULL, "cannot open %s", path);
    /* a bound on memory: a regular file over the limit is refused before
     * anything is read, anything else (a pipe, /dev/zero) when it passes
     * the limit */
    regular = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode);
    if (regular && (uintmax_t)st.st_size > LM_CONVERT_MAX_INPUT)
        n = LM_CONVERT_MAX_INPUT + 1;
    else if (regular && (size_t)st.st_size >= cap)
        cap = (size_t)st.st_size + 1;   /* read at once: no doubling to twice its size */
    if (n > 0 || (b = malloc(cap)) == NULL) {
        if (f != stdin)
            fclose(f);
        if (n > 0)
            return lm_diag_add(d, LM_ERROR, LM_E_SYNTAX, NULL, "%s is larger than %zu MiB, "
                               "the limit for one input file", shown,
                               (size_t)(LM_CONVERT_MAX_INPUT >> 20));
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    }
    for (;;) {
        size_t got;
        if (n > LM_CONVERT_MAX_INPUT) {
            free(b);
            if (f != stdin)
                fclose(f);
            return lm_diag_add(d, LM_ERROR, LM_E_SYNTAX, NULL, "%s is larger than %zu MiB, "
                               "the limit for one input file", shown,
                               (size_t)(LM_CONVERT_MAX_INPUT >> 20));
        }
        if (n == cap) {
            /* never more than one byte past the limit */
            size_t ncap = cap * 2 > LM_CONVERT_MAX_INPUT + 1 ? LM_CONVERT_MAX_INPUT + 1 : cap * 2;
            char *nb = realloc(b, ncap);
            if (nb == NULL) {
                free(b);
                if (f != stdin)
                    fclose(f);
                return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory reading %s",
                                   path);
            }
            b = nb;
            cap = ncap;
        }
        got = fread(b + n, 1, cap - n, f);
        for (p = b + n; (p = memchr(p, '\n', (size_t)(b + n + got - p))) != NULL; p++)
            line = (size_t)(p - b) + 1;
        n += got;
        /* a line over the limit stops reading here: the source reports it
         * at its file:line, and /dev/zero costs 1 MiB, not 1 GiB */
        if (got == 0 || n - line > LM_SOURCE_MAX_LINE)
            break;
    }
    if (ferror(f)) {
        int e = errno;
        free(b);
        if (f != stdin)
            fclose(f);
        return lm_diag_sys(d, LM_E_NOINPUT, e, NULL, "cannot read %s", path);
    }
    if (f != stdin)
        fclose(f);
    *buf = b;
    *len = n;
    return 0;
}

static const char *
convert_base(const char *path)
{
    const char *s = strrchr(path, '/');

    return s ? s + 1 : path;
}

/* Choose the codec for one file's text; NULL after an error. */
static const struct lm_codec *
convert_detect(const char *path, const char *text, size_t len, struct lm_diags *d)
{
    const struct lm_codec *const *cs = lm_codecs();
    const struct lm_codec *best = NULL;
    int bestscore = -1, ties = 0;
    char names[256];
    size_t i;

    for (i = 0; cs[i] != NULL; i++) {
        int s;
        if (!(cs[i]->caps & LM_CODEC_PARSE) || cs[i]->detect == NULL)
            continue;
        s = cs[i]->detect(convert_base(path), text, len);
        if (s > bestscore) {
            best = cs[i];
            bestscore = s;
            ties = 0;
        } else if (s == bestscore) {
            ties++;
        }
    }
    if (best != NULL && bestscore >= LM_DETECT_LIKELY && ties == 0)
        return best;
    names[0] = '\0';
    for (i = 0; cs[i] != NULL; i++) {
        int s;
        if (!(cs[i]->caps & LM_CODEC_PARSE) || cs[i]->detect == NULL)
            continue;
        s = cs[i]->detect(convert_base(path), text, len);
        if (s == bestscore && s >= LM_DETECT_MAYBE &&
            strlen(names) + strlen(cs[i]->name) + 5 < sizeof names) {
            if (names[0] != '\0')
                strcat(names, " or ");
            strcat(names, cs[i]->name);
        }
    }
    if (ties > 0 && bestscore >= LM_DETECT_MAYBE)
        lm_diag_add(d, LM_ERROR, LM_E_USAGE, NULL, "%s: ambiguous format: it could be %s; "
                    "name it with --from", path, names);
    else if (names[0] != '\0')
        lm_diag_add(d, LM_ERROR, LM_E_USAGE, NULL, "%s: cannot tell the format (perhaps "
                    "%s); name it with --from", path, names);
    else
        lm_diag_add(d, LM_ERROR, LM_E_USAGE, NULL, "%s: cannot tell the format; name it "
                    "with --from", path);
    return NULL;
}

static int
convert_parse_file(const char *path, const char *from, struct lm_policy *p,
                   const struct lm_codec **codec, struct lm_diags *d)
{
    const struct lm_codec *c;
    struct lm_source *src;
    char *text;
    size_t len;
    int rc;

    if (convert_slurp(path, &text, &len, d) != 0)
        return -1;
    if (from != NULL) {
        c = lm_codec_find(from);
    } else if (*codec != NULL && lm_codec_part(*codec, path) >= 0 &&
               (*codec)->detect(convert_base(path), text, len) > LM_DETECT_NO) {
        c = *codec;     /* another file of the format chosen for the files before */
    } else if ((c = convert_detect(path, text, len, d)) == NULL) {
        free(text);
        return -1;
    }
    if (*codec != NULL && *codec != c) {
        lm_diag_add(d, LM_ERROR, LM_E_USAGE, NULL, "%s looks like %s, but the files "
                    "before it are %s; give --from", path, c->name, (*codec)->name);
        free(text);
        return -1;
    }
    *codec = c;
    src = lm_source_mem(strcmp(path, "-") == 0 ? "<stdin>" : path, text, len, d);
    if (src == NULL) {
        free(text);
        return -1;
    }
    lm_source_set_max_line(src, LM_SOURCE_MAX_LINE);
    rc = c->parse(src, p, d);
    lm_source_close(src);
    free(text);
    return rc;
}

/* The names of a format's other files as its main file (PATH) gives them
 * (lm_codec.parts): *names and *lines have one slot per output. */
static int
convert_parts(const struct lm_codec *c, const char *path, char ***names,
              unsigned long **lines, struct lm_diags *d)
{
    size_t n = lm_codec_noutputs(c), k;
    char *text = NULL;
    size_t len;
    int rc;

    *names = calloc(n + 1, sizeof **names);
    *lines = calloc(n + 1, sizeof **lines);
    if (*names == NULL || *lines == NULL) {
        free(*names);
        free(*lines);
        *names = NULL;
        *lines = NULL;
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    }
    if (convert_slurp(path, &text, &len, d) != 0)
        rc = -1;
    else
        rc = c->parts(path, text, len, *names, *lines, d);
    free(text);
    if (rc != 0) {
        for (k = 0; k < n; k++)
            free((*names)[k]);
        free(*names);
        free(*lines);
        *names = NULL;
        *lines = NULL;
    }
    return rc;
}

/* A directory holding a several-file format: parse each part present. */
static int
convert_parse_dir(const char *dir, const char *from, struct lm_policy *p,
                  const struct lm_codec **codec, struct lm_diags *d)
{
    const struct lm_codec *const *cs = lm_codecs();
    size_t i, k, found = 0, best = SIZE_MAX;
    char **names = NULL;
    unsigned long *lines = NULL;
    int rc = 0, bestscore = -1;

    /* Formats whose main file has one name (tcp.smtp) are told apart by
     * its content; the first in the registry wins a tie. */
    for (i = 0; cs[i] != NULL; i++) {
        const struct lm_codec *c = cs[i];
        struct stat st;
        char path[4096], *text;
        size_t len;
        int score;
        if ((from != NULL && strcmp(c->name, from) != 0) || !(c->caps & LM_CODEC_PARSE))
            continue;
        if (*codec != NULL && *codec != c)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, c->outputs[0]);
        if (stat(path, &st) != 0)
            continue;
        score = 0;
        if (from == NULL && c->detect != NULL && S_ISREG(st.st_mode)) {
            struct lm_diags quiet;
            lm_diags_init(&quiet);
            if (convert_slurp(path, &text, &len, &quiet) == 0) {
                score = c->detect(c->outputs[0], text, len);
                free(text);
            }
            lm_diags_fini(&quiet);
        }
        if (score > bestscore) {
            bestscore = score;
            best = i;
        }
    }
    for (i = best; i != SIZE_MAX && cs[i] != NULL; i++) {
        const struct lm_codec *c = cs[i];
        struct stat st;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, c->outputs[0]);
        *codec = c;
        if (c->parts != NULL && convert_parts(c, path, &names, &lines, d) != 0)
            return -1;
        for (k = 0; c->outputs[k] != NULL; k++) {
            const char *name = names != NULL && names[k] != NULL ? names[k] : c->outputs[k];
            snprintf(path, sizeof path, "%s/%s", dir, name);
            if (stat(path, &st) != 0) {
                /* a file the main file names must be there */
                if (lines != NULL && lines[k] != 0) {
                    char mainf[4096];
                    struct lm_pos pos = { mainf, lines[k], 0 };
                    snprintf(mainf, sizeof mainf, "%s/%s", dir, c->outputs[0]);
                    rc = lm_diag_add(d, LM_ERROR, LM_E_FORMAT, &pos, "names %s, which "
                                     "does not exist", path);
                }
                continue;
            }
            found++;
            if (convert_parse_file(path, c->name, p, codec, d) != 0)
                rc = -1;
        }
        if (names != NULL)
            for (k = 0; c->outputs[k] != NULL; k++)
                free(names[k]);
        free(names);
        free(lines);
        break;
    }
    if (found == 0)
        return lm_diag_add(d, LM_ERROR, LM_E_NOINPUT, NULL, "%s: directory holds no policy "
                           "file under a name relayconv knows", dir);
    return rc;
}

int
lm_policy_load(const char *const *files, size_t n, const char *from,
               struct lm_policy **out, const struct lm_codec **codec,
               struct lm_diags *d)
{
    const struct lm_codec *c = NULL;
    struct lm_policy *p;
    size_t i;
    int rc = 0;

    *out = NULL;
    if (from != NULL) {
        const struct lm_codec *f = lm_codec_find(from);
        if (f == NULL || !(f->caps & LM_CODEC_PARSE))
            return lm_diag_add(d, LM_ERROR, LM_E_USAGE, NULL, "unknown input format "
                               "\"%s\" (relayconv --list shows them)", from);
    }
    if ((p = lm_policy_new(d)) == NULL)
        return -1;
    lm_progress_phase(d, "reading");
    for (i = 0; i < n; i++) {
        struct stat st;
        if (strcmp(files[i], "-") != 0 && stat(files[i], &st) == 0 && S_ISDIR(st.st_mode))
            rc |= convert_parse_dir(files[i], from, p, &c, d);
        else
            rc |= convert_parse_file(files[i], from, p, &c, d);
        if (lm_diags_full(d))
            break;
    }
    if (rc != 0 || d->nerrors > 0 || lm_policy_index(p, d) != 0) {
        lm_policy_free(p);
        return -1;
    }
    if (codec != NULL)
        *codec = c;
    *out = p;
    return 0;
}

char *
verdict_at(const struct lm_verdict *v)
{
    const struct lm_pos *pos = NULL;
    char buf[4200];

    if (v->rule != NULL)
        pos = &v->rule->pos;
    else if (v->domain != NULL)
        pos = &v->domain->pos;
    if (pos == NULL || pos->file == NULL)
        return NULL;
    snprintf(buf, sizeof buf, "%s:%lu", pos->file, pos->line);
    return strdup(buf);
}

/* --- convert ------------------------------------------------------------------------ */

/* An output's text.  It goes to an unlinked temporary file when one can be
 * made, so that a million-line output is not held in memory through the
 * proof: it is read back a block at a time and mapped only to be
 * published.  Without a temporary file it stays in memory
 * (open_memstream). */
struct convert_out {
    char  *buf;     /* the text while mapped or buffered, else NULL */
    size_t len;
    FILE  *file;    /* the temporary file, or NULL when buffered */
};

/* A stream for one output: an unlinked temporary file in $TMPDIR (or
 * /tmp), else a memory stream. */
static FILE *
convert_out_open(struct convert_out *o)
{
    const char *dir = getenv("TMPDIR");
    char path[4096];
    FILE *f = NULL;
    int fd;

    o->buf = NULL;
    o->len = 0;
    o->file = NULL;
    if (dir == NULL || dir[0] == '\0')
        dir = "/tmp";
    if ((size_t)snprintf(path, sizeof path, "%s/relayconv.XXXXXX", dir) < sizeof path &&
        (fd = mkstemp(path)) >= 0) {
        unlink(path);
        if ((f = fdopen(fd, "w+")) == NULL)
            close(fd);
    }
    if (f != NULL) {
        o->file = f;
        return f;
    }
    return open_memstream(&o->buf, &o->len);
}

/* Finish writing output O (its stream F): 0, or -1. */
static int
convert_out_finish(struct convert_out *o, FILE *f)
{
    off_t end;

    if (o->file == NULL)
        return ferror(f) | fclose(f) ? -1 : 0;
    if (ferror(f) || fflush(f) != 0 || (end = ftello(f)) < 0)
        return -1;
    o->len = (size_t)end;
    return 0;
}

/* Make O's text readable in o->buf: 0, or -1 with a diagnostic. */
static int
convert_out_map(struct convert_out *o, struct lm_diags *d)
{
    void *m;

    if (o->file == NULL || o->buf != NULL || o->len == 0)
        return 0;
    if ((m = mmap(NULL, o->len, PROT_READ, MAP_PRIVATE, fileno(o->file), 0)) == MAP_FAILED)
        return lm_diag_sys(d, LM_E_IO, errno, NULL, "cannot read the output back from its "
                           "temporary file");
    o->buf = m;
    return 0;
}

/* Drop the mapping convert_out_map made (a buffered text stays). */
static void
convert_out_unmap(struct convert_out *o)
{
    if (o->file != NULL && o->buf != NULL) {
        munmap(o->buf, o->len);
        o->buf = NULL;
    }
}

static void
convert_out_close(struct convert_out *o)
{
    if (o->file != NULL) {
        convert_out_unmap(o);
        fclose(o->file);
        o->file = NULL;
    } else {
        free(o->buf);
        o->buf = NULL;
    }
}

static int
convert_emit(const struct lm_codec *to, const struct lm_policy *p, const char *const *opts,
             struct convert_out *o, size_t nout, struct lm_losses *lost, struct lm_diags *d)
{
    FILE *fs[16];
    size_t i;
    int rc = 0;

    if (nout > 16)
        return lm_diag_add(d, LM_ERROR, LM_E_INTERNAL, NULL, "codec %s has too many outputs",
                           to->name);
    for (i = 0; i < nout; i++) {
        if ((fs[i] = convert_out_open(&o[i])) == NULL) {
            while (i-- > 0) {
                fclose(fs[i]);
                o[i].file = NULL;
            }
            return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
        }
    }
    if (to->emit(p, opts, fs, lost, d) != 0)
        rc = -1;
    for (i = 0; i < nout; i++)
        if (convert_out_finish(&o[i], fs[i]) != 0)
            rc = o[i].file != NULL
                 ? lm_diag_sys(d, LM_E_IO, errno, NULL, "cannot write the output to its "
                               "temporary file ($TMPDIR or /tmp)")
                 : lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "cannot buffer the output");
    return rc;
}

/* Whether the codec's emitter takes setting NAME (lm_codec.settings). */
static int
convert_takes(const struct lm_codec *to, const char *name, size_t len)
{
    size_t i;

    for (i = 0; to->settings != NULL && to->settings[i] != NULL; i++)
        if (strlen(to->settings[i]) == len && strncmp(to->settings[i], name, len) == 0)
            return 1;
    return 0;
}

/* The emitter's settings (lm_codec.settings), NULL-terminated in set->v:
 * the caller's own, checked by name, then "server-dir" (default: the output
 * directory made absolute, since servers resolve table paths from their
 * own working directory) and "table-type" for a codec whose files name
 * each other.  convert_settings_fini frees what this allocated. */
struct convert_settings {
    const char **v;
    char        *own[2];    /* the "server-dir=" and "table-type=" strings */
};

static void
convert_settings_fini(struct convert_settings *set)
{
    free(set->v);
    free(set->own[0]);
    free(set->own[1]);
}

static int
convert_settings(const struct lm_codec *to, const struct lm_convert_opts *o,
                 struct convert_settings *set, struct lm_diags *d)
{
    const char *dir = o->server_dir;
    size_t n, i;
    char cwd[4096], *abs = NULL;

    memset(set, 0, sizeof *set);
    for (n = 0; o->codec_opts != NULL && o->codec_opts[n] != NULL; n++) {
        const char *eq = strchr(o->codec_opts[n], '=');
        if (!convert_takes(to, o->codec_opts[n], eq != NULL ? (size_t)(eq - o->codec_opts[n])
                                                             : strlen(o->codec_opts[n])))
            return lm_diag_add(d, LM_ERROR, LM_E_USAGE, NULL, "the %s format has no setting "
                               "\"%s\"", to->name, o->codec_opts[n]);
    }
    if (!convert_takes(to, "server-dir", 10)) {
        if (o->server_dir != NULL || o->table_type != NULL)
            return lm_diag_add(d, LM_ERROR, LM_E_USAGE, NULL, "%s output names no other "
                               "files: --server-dir and --table-type do not apply", to->name);
    } else if (o->table_type != NULL && !convert_takes(to, "table-type", 10)) {
        return lm_diag_add(d, LM_ERROR, LM_E_USAGE, NULL, "%s output cannot name tables of "
                           "type \"%s\" (it names none)", to->name, o->table_type);
    } else if (dir == NULL && o->output != NULL) {
        if (o->output[0] == '/') {
            dir = o->output;
        } else {
            if (getcwd(cwd, sizeof cwd) == NULL)
                return lm_diag_sys(d, LM_E_IO, errno, NULL, "cannot tell the current "
                                   "directory");
            if ((abs = lm_str_join(cwd, "/", o->output)) == NULL)
                return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
            dir = abs;
        }
    }
    if ((set->v = calloc(n + 3, sizeof *set->v)) == NULL ||
        (dir != NULL && (set->own[0] = lm_str_join("server-dir", "=", dir)) == NULL) ||
        (o->table_type != NULL &&
         (set->own[1] = lm_str_join("table-type", "=", o->table_type)) == NULL)) {
        free(abs);
        convert_settings_fini(set);
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    }
    free(abs);
    for (i = 0; i < n; i++)
        set->v[i] = o->codec_opts[i];
    for (i = 0; i < 2; i++)
        if (set->own[i] != NULL)
            set->v[n++] = set->own[i];
    return 0;
}

/* The lines an output holds, for the progress line. */
static size_t
convert_count_lines(const struct convert_out *o)
{
    const char *p = o->buf, *end;
    size_t n = 0;

    if (p == NULL)
        return 0;
    end = p + o->len;
    while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        n++;
        p++;
    }
    return n;
}

/* The read-back's warnings and notes (our own output's, a million of them
 * for a Sendmail map of networks) are counted, not kept: only its errors
 * are shown. */
static void
convert_ignore_diag(const struct lm_diag *g, void *arg)
{
    (void)g;
    (void)arg;
}

/* Read the emitted text back with the target's own parser. */
static struct lm_policy *
convert_readback(const struct lm_codec *to, const struct convert_out *o, size_t nout,
                 const char *outpath, struct lm_diags *d)
{
    struct lm_policy *p = lm_policy_new(d);
    struct lm_diags rd;
    size_t i;
    int rc = 0;

    if (p == NULL)
        return NULL;
    lm_diags_init(&rd);
    rd.notify = convert_ignore_diag;
    rd.drop_notified = 1;
    rd.quiet_warnings = 1;
    /* the caller's progress line goes on through the read-back */
    rd.progress = d->progress;
    rd.progress_arg = d->progress_arg;
    rd.done = d->done;
    lm_progress_phase(&rd, "reading back");
    for (i = 0; i < nout && rc == 0; i++) {
        char name[4096];
        struct lm_source *s;
        if (o[i].len == 0 && i > 0)
            continue;
        if (outpath != NULL && nout > 1)
            snprintf(name, sizeof name, "%s/%s", outpath, to->outputs[i]);
        else
            snprintf(name, sizeof name, "%s", outpath ? outpath : to->outputs[i]);
        if (o[i].file != NULL)
            s = lm_source_fd(name, fileno(o[i].file), &rd);
        else
            s = lm_source_mem(name, o[i].buf ? o[i].buf : "", o[i].len, &rd);
        if (s == NULL || to->parse(s, p, &rd) != 0)
            rc = -1;
        lm_source_close(s);
    }
    if (rc == 0)
        rc = lm_policy_index(p, &rd);
    if (rc != 0) {
        /* Our own output does not parse: a bug in the emitter.  Show why. */
        for (i = 0; i < rd.n && i < 5; i++)
            lm_diag_add(d, LM_ERROR, LM_E_INTERNAL, NULL, "reading the %s output back: "
                        "%s:%lu: %s", to->name, rd.v[i].file ? rd.v[i].file : "?",
                        rd.v[i].line, rd.v[i].msg ? rd.v[i].msg : "?");
        lm_diag_add(d, LM_ERROR, LM_E_INTERNAL, NULL, "the %s output does not read back; "
                    "nothing written", to->name);
        lm_policy_free(p);
        p = NULL;
    }
    d->done = rd.done;
    lm_diags_fini(&rd);
    return p;
}

static int
convert_publish(const struct lm_codec *to, const struct convert_out *o, size_t nout,
                const struct lm_convert_opts *opt, FILE *out, struct lm_diags *d)
{
    char **finals;
    struct lm_atomic *a;
    size_t i;
    int rc = -1;

    if (opt->output == NULL) {
        for (i = 1; i < nout; i++)
            if (o[i].len > 0)
                return lm_diag_add(d, LM_ERROR, LM_E_USAGE, NULL, "%s output is %zu files "
                                   "(%s is not empty); write it with -o DIR", to->name,
                                   nout, to->outputs[i]);
        if (o[0].len > 0 && fwrite(o[0].buf, 1, o[0].len, out) != o[0].len)
            return lm_diag_sys(d, LM_E_IO, errno, NULL, "cannot write the output");
        if (fflush(out) != 0)
            return lm_diag_sys(d, LM_E_IO, errno, NULL, "cannot write the output");
        return 0;
    }
    if (nout > 1 && mkdir(opt->output, 0755) != 0 && errno != EEXIST)
        return lm_diag_sys(d, LM_E_CREATE, errno, NULL, "cannot create directory %s",
                           opt->output);
    if ((finals = calloc(nout + 1, sizeof *finals)) == NULL)
        return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    for (i = 0; i < nout; i++) {
        size_t len = strlen(opt->output) + strlen(to->outputs[i]) + 2;
        if ((finals[i] = malloc(len)) == NULL)
            goto out;
        if (nout > 1)
            snprintf(finals[i], len, "%s/%s", opt->output, to->outputs[i]);
        else
            snprintf(finals[i], len, "%s", opt->output);
    }
    /* The files of a format are one policy: published all new or all old. */
    a = lm_atomic_begin((const char *const *)finals, LM_ATOMIC_SET
                        | ((opt->flags & LM_CV_NOWAIT) ? LM_ATOMIC_NOWAIT : 0)
                        | ((opt->flags & LM_CV_IF_CHANGED) ? LM_ATOMIC_IF_CHANGED : 0), d);
    if (a == NULL)
        goto out;
    for (i = 0; i < nout; i++)
        if (lm_atomic_write(a, i, o[i].buf, o[i].len, d) != 0) {
            lm_atomic_end(a);
            goto out;
        }
    rc = lm_atomic_commit(a, d);
    lm_atomic_end(a);
out:
    if (rc < 0 && d->nerrors == 0)
        lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
    for (i = 0; i < nout; i++)
        free(finals[i]);
    free(finals);
    return rc;
}

/* Report each loss as a warning (published anyway) or an error. */
static void
convert_report_losses(const struct lm_losses *l, const struct lm_codec *to, unsigned flags,
                      struct lm_diags *d)
{
    size_t i;

    for (i = 0; i < l->n; i++) {
        const struct lm_loss *x = &l->v[i];
        struct lm_pos pos = { x->file, x->line, 0 };
        /* under --lossy the exact comparison, not this per-rule note,
         * decides whether the output widens */
        int fatal = !(flags & LM_CV_LOSSY);
        lm_diag_add(d, fatal ? LM_ERROR : LM_WARNING, LM_E_LOSSY, x->file ? &pos : NULL,
                    "%s: %s%s", to->name, x->why ? x->why : lm_loss_kind_name(x->kind),
                    x->widens ? " (this widens what the policy accepts)" : "");
    }
}

/* Free the reported losses, keeping their count (a lossy conversion of a
 * million rules has about as many, and the proof comes after). */
static void
convert_forget_losses(struct lm_losses *l)
{
    size_t i;

    for (i = 0; i < l->n; i++) {
        free(l->v[i].file);
        free(l->v[i].rule);
        free(l->v[i].why);
    }
    free(l->v);
    l->v = NULL;
    l->cap = 0;
}

/* The directory a several-file output goes to without -o: the format's
 * name beside the first source ("examples/qmail" for examples/policy.txt).
 * Malloc'd, or NULL with a diagnostic (standard input has no place). */
static char *
convert_default_dir(const char *source, const struct lm_codec *to, struct lm_diags *d)
{
    const char *slash = strrchr(source, '/');
    size_t dl = slash != NULL ? (size_t)(slash - source) + 1 : 0;
    char *s;

    if (strcmp(source, "-") == 0) {
        lm_diag_add(d, LM_ERROR, LM_E_USAGE, NULL, "%s output is %zu files and standard "
                    "input has no directory to put them beside; write it with -o DIR",
                    to->name, lm_codec_noutputs(to));
        return NULL;
    }
    if ((s = malloc(dl + strlen(to->name) + 1)) == NULL) {
        lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
        return NULL;
    }
    memcpy(s, source, dl);
    strcpy(s + dl, to->name);
    return s;
}

int
lm_convert(const char *const *files, size_t n, const struct lm_convert_opts *o,
           FILE *out, struct lm_convert_report *rep, struct lm_diags *d)
{
    struct lm_policy *src = NULL, *back = NULL;
    struct convert_out bufs[16];
    struct convert_settings set;
    const struct lm_codec *to = lm_codec_find(o->to);
    struct lm_convert_opts oo = *o;
    char *defdir = NULL;
    size_t nout = 0, i;
    int rc = -1, vr, er, published;

    memset(bufs, 0, sizeof bufs);
    if (to == NULL || !(to->caps & LM_CODEC_EMIT))
        return lm_diag_add(d, LM_ERROR, LM_E_USAGE, NULL, "unknown output format \"%s\" "
                           "(relayconv --list shows them)", o->to);
    rep->to = to;
    nout = lm_codec_noutputs(to);
    if ((o->flags & LM_CV_IF_CHANGED) && o->output == NULL && nout == 1)
        return lm_diag_add(d, LM_ERROR, LM_E_USAGE, NULL, "--if-changed compares with the "
                           "files in place; name the output with -o OUT");
    if (o->output == NULL && nout > 1) {
        /* A format of several files goes where an administrator looks for
         * it: a directory named after the format beside the source, as
         * mapc writes access.db beside access. */
        if ((defdir = convert_default_dir(files[0], to, d)) == NULL)
            return -1;
        oo.output = defdir;
    }
    if (lm_policy_load(files, n, o->from, &src, &rep->from, d) != 0)
        goto out;
    rep->nrules_in = src->nrules;
    lm_lint(src, d);
    if (convert_settings(to, &oo, &set, d) != 0)
        goto out;
    lm_progress_phase(d, "writing");
    er = convert_emit(to, src, set.v, bufs, nout, &rep->losses, d);
    convert_settings_fini(&set);
    if (er != 0)
        goto out;
    for (i = 0; i < nout && d->progress != NULL; i++) {
        if (convert_out_map(&bufs[i], d) != 0)
            goto out;
        lm_progress_add(d, LM_PROGRESS_RECORDS, convert_count_lines(&bufs[i]));
        convert_out_unmap(&bufs[i]);
    }
    convert_report_losses(&rep->losses, to, o->flags, d);
    if (o->flags & LM_CV_LOSSES_COUNTED)
        convert_forget_losses(&rep->losses);
    /* read back from the temporary files a block at a time; the text is
     * not held again until it is published */
    if ((back = convert_readback(to, bufs, nout, oo.output, d)) == NULL)
        goto out;
    rep->nrules_out = back->nrules;
    rep->strict_loopback = (o->flags & LM_CV_STRICT_LOOPBACK) != 0;
    /* Whether the output narrows or widens is the exact difference of the
     * two policies, never the emitter's guess. */
    vr = lm_verify(src, back, "source", "target", o->max_diffs,
                   !(o->flags & LM_CV_LOSSY) ? 0 :
                   (o->flags & LM_CV_ALLOW_WIDENING) ? 2 : 1, rep, d);
    if (vr < 0)
        goto out;
    if ((rep->losses.n > 0 || vr == LM_NOTFOUND) && !(o->flags & LM_CV_LOSSY)) {
        /* Name the options that would really write it: --lossy alone
         * still refuses a widening. */
        if (rep->nwider > 0)
            lm_diag_add(d, LM_ERROR, LM_E_LOSSY, NULL, "%zu rule%s cannot be written as %s "
                        "exactly; the output decides %zu of %zu outcome combinations differently, "
                        "%zu of "
                        "them wider; nothing written (--lossy --allow-widening writes it)",
                        rep->losses.n, rep->losses.n == 1 ? "" : "s", to->name, rep->ndiffs,
                        rep->nprobes, rep->nwider);
        else
            lm_diag_add(d, LM_ERROR, LM_E_LOSSY, NULL, "%zu rule%s cannot be written as %s "
                        "exactly; the output decides %zu of %zu outcome combinations differently, "
                        "none "
                        "wider; nothing written (--lossy writes it)", rep->losses.n,
                        rep->losses.n == 1 ? "" : "s", to->name, rep->ndiffs, rep->nprobes);
        goto out;
    }
    if (rep->nwider > 0 && !(o->flags & LM_CV_ALLOW_WIDENING)) {
        lm_diag_add(d, LM_ERROR, LM_E_LOSSY, NULL, "the %s output decides %zu of %zu outcome "
                    "combinations "
                    "wider than the source (it lets in a client or mail the source "
                    "refuses); nothing written (--allow-widening writes it)", to->name,
                    rep->nwider, rep->nprobes);
        goto out;
    }
    /* the proof is done: what it held gives way to the text */
    lm_policy_free(src);
    lm_policy_free(back);
    src = back = NULL;
    for (i = 0; i < nout; i++)
        if (convert_out_map(&bufs[i], d) != 0)
            goto out;
    if ((published = convert_publish(to, bufs, nout, &oo, out, d)) < 0)
        goto out;
    rep->written = 1;
    rep->changed = published == 0;
    if (defdir != NULL && rep->changed)
        lm_diag_add(d, LM_NOTE, LM_E_NONE, NULL, "wrote the %s files to %s/ (-o DIR writes "
                    "them elsewhere)", to->name, defdir);
    rc = published;
out:
    for (i = 0; i < nout; i++)
        convert_out_close(&bufs[i]);
    lm_policy_free(src);
    lm_policy_free(back);
    free(defdir);
    return rc;
}

/* --- small helpers ------------------------------------------------------------------- */

int
lm_ip_parse_server(struct lm_query *q, const char *text)
{
    return lm_ipaddr_parse(text, strlen(text), LM_IPF_V4 | LM_IPF_V6, &q->server, NULL, NULL);
}

int
lm_query_ip(struct lm_query *q, const char *text, struct lm_diags *d)
{
    if (lm_ipaddr_parse(text, strlen(text), LM_IPF_V4 | LM_IPF_V6, &q->ip, NULL, NULL) != 0)
        return lm_diag_add(d, LM_ERROR, LM_E_USAGE, NULL, "bad client address \"%s\"", text);
    return 0;
}

char *
lm_verdict_str(const struct lm_verdict *v)
{
    char *at = verdict_at(v), *s;
    size_t len = 128 + (at ? strlen(at) : 0) + (v->why ? strlen(v->why) : 0);

    if ((s = malloc(len)) != NULL)
        snprintf(s, len, "%s (%s%s%s)", lm_verdict_verb(v->kind), at ? at : "",
                 at ? ": " : "", v->why ? v->why : "");
    free(at);
    return s;
}

/* --- the tool's modes, callable from tests ------------------------------------------ */

void
lm_answer_print(FILE *f, const struct lm_policy *p, const struct lm_query *q,
                const char *client, int json)
{
    struct lm_verdict v;
    char *s;

    lm_decide(p, q, &v);
    if (json) {
        fprintf(f, "{\"verdict\":\"%s\",\"client\":", lm_verdict_name(v.kind));
        lm_json_cstr(f, client);
        fputs(",\"rule\":", f);
        if (v.rule != NULL && v.rule->pos.file != NULL) {
            fputs("{\"file\":", f);
            lm_json_cstr(f, v.rule->pos.file);
            fprintf(f, ",\"line\":%lu}", v.rule->pos.line);
        } else {
            fputs("null", f);
        }
        fputs(",\"why\":", f);
        lm_json_cstr(f, v.why ? v.why : "");
        fputs("}\n", f);
        return;
    }
    s = lm_verdict_str(&v);
    fprintf(f, "client %s%s%s%s, to %s: %s\n", client, q->host ? " (" : "",
            q->host ? q->host : "", q->host ? ")" : "", q->rcpt ? q->rcpt : "<none>",
            s ? s : "?");
    free(s);
}

int
lm_decide_files(const char *const *files, size_t n, const char *fmt, struct lm_query *q,
                const char *client, int json, FILE *in, FILE *out, struct lm_diags *d)
{
    struct lm_policy *p;
    char line[256];

    if (q->rcpt == NULL)
        q->rcpt = CONVERT_PROBE_USER "@" CONVERT_PROBE_DOMAIN;
    if (strcmp(client, "-") != 0 && lm_query_ip(q, client, d) != 0)
        return -1;
    if (lm_policy_load(files, n, fmt, &p, NULL, d) != 0)
        return -1;
    if (strcmp(client, "-") != 0) {
        lm_answer_print(out, p, q, client, json);
    } else {
        /* one address per line; a bad one is reported and skipped */
        while (fgets(line, sizeof line, in) != NULL) {
            line[strcspn(line, "\r\n")] = '\0';
            if (line[0] != '\0' && lm_query_ip(q, line, d) == 0)
                lm_answer_print(out, p, q, line, json);
        }
    }
    lm_policy_free(p);
    return 0;
}

/* Loading the second policy of lm_verify_files on another thread, with
 * diagnostics of its own. */
struct convert_load_job {
    const char            *file, *fmt;
    struct lm_policy      *p;
    const struct lm_codec *codec;
    struct lm_diags        d;
    int                    rc;
};

static void *
convert_load_thread(void *arg)
{
    struct convert_load_job *j = arg;

    j->rc = lm_policy_load(&j->file, 1, j->fmt, &j->p, &j->codec, &j->d);
    return NULL;
}

int
lm_verify_files(const char *a, const char *b, const char *fmt,
                struct lm_convert_report *rep, struct lm_diags *d)
{
    struct lm_policy *pa = NULL, *pb = NULL;
    struct convert_load_job jb;
    pthread_t t;
    size_t i;
    int rc = -1, ra, threaded;

    /* Both files are read at once on two cores.  B's diagnostics are kept
     * and passed on after A's, and only when A loaded (as if read in turn),
     * so the messages and the result do not depend on the timing. */
    memset(&jb, 0, sizeof jb);
    jb.file = b;
    jb.fmt = fmt;
    lm_diags_init(&jb.d);
    jb.d.max_errors = d->max_errors;
    threaded = pthread_create(&t, NULL, convert_load_thread, &jb) == 0;
    ra = lm_policy_load(&a, 1, fmt, &pa, &rep->from, d);
    if (threaded)
        pthread_join(t, NULL);
    if (ra == 0 && threaded) {
        for (i = 0; i < jb.d.n; i++) {
            const struct lm_diag *g = &jb.d.v[i];
            struct lm_pos pos = { g->file, g->line, g->col };
            lm_diag_add(d, g->sev, g->code, g->file != NULL || g->line > 0 ? &pos : NULL, "%s",
                        g->msg);
        }
        pb = jb.p;
        jb.p = NULL;
        rep->to = jb.codec;
        if (jb.rc == 0) {
            rep->nrules_in = pa->nrules;
            rep->nrules_out = pb->nrules;
            rc = lm_verify(pa, pb, a, b, 0, 0, rep, d);
        }
    } else if (ra == 0 && lm_policy_load(&b, 1, fmt, &pb, &rep->to, d) == 0) {
        rep->nrules_in = pa->nrules;
        rep->nrules_out = pb->nrules;
        rc = lm_verify(pa, pb, a, b, 0, 0, rep, d);
    }
    lm_policy_free(jb.p);
    lm_diags_fini(&jb.d);
    lm_policy_free(pa);
    lm_policy_free(pb);
    return rc;
}

int
lm_lint_files(const char *const *files, size_t n, const char *fmt, size_t *nwarn,
              struct lm_diags *d)
{
    struct lm_policy *p;
    size_t before = d->nwarnings;

    *nwarn = 0;
    if (lm_policy_load(files, n, fmt, &p, NULL, d) != 0)
        return -1;
    lm_lint(p, d);
    /* the parsers' warnings (keys that can never match, repeats) count too */
    *nwarn = d->nwarnings - before;
    lm_policy_free(p);
    return 0;
}
