/*
 * mapc - compile text maps into dbm, hash, btree, gdbm, cdb and lmdb files;
 * query, dump and migrate them.  Drop-in for makemap, postmap and tcprules in scripts.
 * Everything but option parsing and printing is in libmap (compile.h).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "libmap/compile.h"
#include "libmap/json.h"
#include "tools/tool.h"

enum { OPT_UNSAFE = 256, OPT_JSON, OPT_CHECK, OPT_EXPAND, OPT_HELP, OPT_VERSION,
       OPT_MIGRATE, OPT_MAX_LINE, OPT_IF_CHANGED, OPT_QUIET };

static const struct option mapc_longopts[] = {
    { "type", required_argument, NULL, 't' },   { "syntax", required_argument, NULL, 's' },
    { "output", required_argument, NULL, 'o' }, { "nul", no_argument, NULL, 'N' },
    { "keep-case", no_argument, NULL, 'f' },    { "replace", no_argument, NULL, 'r' },
    { "duplicates", no_argument, NULL, 'd' },   { "empty", no_argument, NULL, 'e' },
    { "comment", required_argument, NULL, 'D' },{ "cache-size", required_argument, NULL, 'c' },
    { "dump", no_argument, NULL, 'u' },         { "list", no_argument, NULL, 'l' },
    { "verbose", no_argument, NULL, 'v' },      { "delimiter", required_argument, NULL, 'T' },
    { "append", no_argument, NULL, 'a' },       { "query", required_argument, NULL, 'q' },
    { "nowait", no_argument, NULL, 'n' },       { "unsafe", no_argument, NULL, OPT_UNSAFE },
    { "json", no_argument, NULL, OPT_JSON },    { "check", no_argument, NULL, OPT_CHECK },
    { "expand", no_argument, NULL, OPT_EXPAND },{ "help", no_argument, NULL, OPT_HELP },
    { "version", no_argument, NULL, OPT_VERSION },
    { "migrate", required_argument, NULL, OPT_MIGRATE },
    { "max-line", required_argument, NULL, OPT_MAX_LINE },
    { "if-changed", no_argument, NULL, OPT_IF_CHANGED },
    { "quiet", no_argument, NULL, OPT_QUIET },
    { NULL, 0, NULL, 0 }
};

/* Signals during a compile.  The handler only records the signal; the
 * library polls the flag (lm_compile_opts.stop) between lines and unwinds
 * as after an error, which removes the temporary directory and the lock
 * with ordinary code, not from inside a handler.  main then re-raises the
 * signal with its default action, so the exit status is 128+N. */
static volatile sig_atomic_t mapc_signal;

static void
mapc_on_signal(int sig)
{
    mapc_signal = sig;
}

static void
mapc_catch_signals(void)
{
    static const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
    struct sigaction sa;
    size_t i;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = mapc_on_signal;
    sigemptyset(&sa.sa_mask);
    for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &sa, NULL);
}

static void
mapc_reraise(void)
{
    if (mapc_signal != 0) {
        signal(mapc_signal, SIG_DFL);
        raise(mapc_signal);
    }
}

static void
mapc_help(void)
{
    printf("usage: mapc -t TYPE [-s SYNTAX] [-o OUTPUT] [-NfrdeavnT C -D C -c SIZE]\n"
           "            [--max-line BYTES] [--if-changed] [--quiet] SOURCE\n"
           "       mapc [-t TYPE] [-s SYNTAX] -q KEY|- NAME\n"
           "       mapc [-t TYPE] [-s SYNTAX] -u NAME\n"
           "       mapc -t TYPE [-s SYNTAX] --check SOURCE\n"
           "       mapc [-o OUTPUT] [-nv] [--json] --migrate [TYPE:]MAP NEWTYPE\n"
           "       mapc -l\n"
           "See mapc(8).\n");
}

static int
mapc_list(void)
{
    const struct lm_type_info *const *t;
    const struct lm_syntax *const *s;

    for (t = lm_map_types(); *t != NULL; t++)
        printf("%-8s %-6s %s\n", (*t)->name, (*t)->suffix, (*t)->description);
    printf("syntaxes:\n");
    for (s = lm_syntaxes(); *s != NULL; s++)
        printf("%-10s %s\n", (*s)->name, (*s)->description);
    return 0;
}

/* The type of an existing map when -t was not given. */
static const char *
mapc_guess(const char *name, const struct lm_compile_opts *o)
{
    const struct lm_syntax *syn;
    const char *t = lm_map_guess_type(name);

    if (t != NULL)
        return t;
    if (o->syntax != NULL && (syn = lm_syntax_find(o->syntax)) != NULL && syn->default_type)
        return syn->default_type;
    /* NAME.db is hash or btree: ask the file. */
    if (lm_map_type("btree") != NULL) {
        struct lm_diags quiet;
        struct lm_map *m;
        int format;

        lm_diags_init(&quiet);
        m = lm_map_open("hash", name, &quiet);
        format = m == NULL && lm_diags_first_code(&quiet) == LM_E_FORMAT;
        lm_map_close(m);
        lm_diags_fini(&quiet);
        if (format) {
            lm_diags_init(&quiet);
            m = lm_map_open("btree", name, &quiet);
            lm_diags_fini(&quiet);
            if (m != NULL) {
                lm_map_close(m);
                return "btree";
            }
        }
    }
    return "hash";
}

#define MAPC_BATCH 4096

struct mapc_batch {
    char   *text;               /* the keys, back to back */
    size_t  len, cap;
    size_t *off;                /* MAPC_BATCH + 1 offsets */
    size_t  n;
    int     found;
};

static int
mapc_batch_add(struct mapc_batch *b, const char *key, size_t n)
{
    if (b->off == NULL && (b->off = malloc((MAPC_BATCH + 1) * sizeof *b->off)) == NULL)
        return -1;
    if (b->len + n > b->cap) {
        size_t cap = 2 * (b->len + n) + 4096;
        char *nt = realloc(b->text, cap);
        if (nt == NULL)
            return -1;
        b->text = nt;
        b->cap = cap;
    }
    if (n)
        memcpy(b->text + b->len, key, n);
    b->off[b->n++] = b->len;
    b->len += n;
    b->off[b->n] = b->len;
    return 0;
}

static int
mapc_batch_print(void *arg, size_t i, const lm_datum *v)
{
    struct mapc_batch *b = arg;

    if (v == NULL)
        return 0;
    b->found = 1;
    fwrite(b->text + b->off[i], 1, b->off[i + 1] - b->off[i], stdout);
    putchar('\t');
    fwrite(v->data, 1, v->len, stdout);
    putchar('\n');
    return 0;
}

static int
mapc_batch_run(struct mapc_batch *b, struct lm_map *m, unsigned flags, struct lm_diags *d)
{
    lm_datum keys[MAPC_BATCH];
    size_t i;
    int rc;

    for (i = 0; i < b->n; i++) {
        keys[i].data = b->text + b->off[i];
        keys[i].len = b->off[i + 1] - b->off[i];
    }
    rc = lm_lookup_many(m, keys, b->n, flags, mapc_batch_print, b, d);
    b->n = b->len = 0;
    return rc;
}

static int
mapc_query(const char *key, const char *name, struct lm_compile_opts *o, int json,
           struct lm_diags *d)
{
    const struct lm_syntax *syn = lm_syntax_find(o->syntax ? o->syntax : "access");
    struct lm_map *m = lm_map_open(o->type, name, d);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    lm_datum v;
    int rc = 0, found = 0;

    if (m == NULL)
        return tool_exit_code(-1, d);
    if (strcmp(key, "-") != 0) {
        rc = (syn && syn->query) ? syn->query(m, key, json, stdout, d)
                                 : lm_lookup(m, key, strlen(key), o->flags, &v, d);
        if (rc == 0 && !(syn && syn->query)) {
            fwrite(v.data, 1, v.len, stdout);
            putchar('\n');
        }
        found = rc == 0;
    } else {
        /* Keys in batches of the lines already there: a map read through
         * a child process answers a batch in one round trip, and a key
         * typed (or written by a script waiting for the answer) is still
         * answered at once. */
        struct mapc_batch b;
        size_t have = 0, used;
        int eof = 0;
        memset(&b, 0, sizeof b);
        while (rc >= 0 && !eof) {
            if (cap - have < 65536) {
                char *nl = realloc(line, cap = 2 * cap + 65536);
                if (nl == NULL) {
                    rc = -1;
                    break;
                }
                line = nl;
            }
            n = read(0, line + have, cap - have);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                rc = -1;
                break;
            }
            if (n == 0)
                eof = 1;
            have += (size_t)n;
            for (used = 0; rc >= 0;) {
                char *nlp = memchr(line + used, '\n', have - used);
                size_t len = nlp ? (size_t)(nlp - (line + used)) : have - used;
                if (nlp == NULL && (!eof || len == 0))
                    break;
                if (mapc_batch_add(&b, line + used, len) != 0) {
                    rc = -1;
                    break;
                }
                used += len + (nlp != NULL);
                if (b.n == MAPC_BATCH) {
                    rc = mapc_batch_run(&b, m, o->flags, d);
                    found |= b.found;
                }
            }
            memmove(line, line + used, have - used);
            have -= used;
            if (rc >= 0 && b.n > 0) {
                rc = mapc_batch_run(&b, m, o->flags, d);
                found |= b.found;
            }
            fflush(stdout);
        }
        free(b.text);
        free(b.off);
        free(line);
    }
    lm_map_close(m);
    if (fflush(stdout) != 0)
        return EX_IOERR;
    if (rc < 0 || d->nerrors)
        return tool_exit_code(-1, d);
    return found ? 0 : 1;
}

static void
mapc_json(const char *source, const struct lm_compile_opts *o,
          const struct lm_compile_stats *st, const struct lm_diags *d, double elapsed, int rc)
{
    /* rc: 0 written, LM_UNCHANGED (--if-changed: the map in place is the
     * same), -1 failed */
    printf("{\"source\":");
    lm_json_string(stdout, source, strlen(source));
    printf(",\"type\":");
    lm_json_string(stdout, o->type ? o->type : "", o->type ? strlen(o->type) : 0);
    printf(",\"ok\":%s,\"changed\":%s,\"lines\":%lu,\"records\":%lu,\"duplicates\":%lu,"
           "\"warnings\":%zu,\"errors\":%zu,\"outputs\":[",
           rc >= 0 && d->nerrors == 0 ? "true" : "false",
           rc == 0 && d->nerrors == 0 ? "true" : "false", st->lines, st->records,
           st->duplicates, d->nwarnings, d->nerrors);
    if (st->output != NULL)
        lm_json_string(stdout, st->output, strlen(st->output));
    printf("],\"elapsed\":%.6f}\n", elapsed);
}

/* --migrate [TYPE:]MAP NEWTYPE: the old type from the prefix or the name. */
static int
mapc_migrate(const char *from, const char *to_type, const struct lm_compile_opts *o,
             int json, struct lm_diags *d)
{
    struct lm_migrate_stats st;
    const char *colon = strchr(from, ':'), *name = from, *type;
    char prefix[32];
    struct timespec t0, t1;
    int rc;

    if (colon != NULL && colon > from && (size_t)(colon - from) < sizeof prefix
        && strspn(from, "abcdefghijklmnopqrstuvwxyz0123456789") == (size_t)(colon - from)) {
        memcpy(prefix, from, (size_t)(colon - from));
        prefix[colon - from] = '\0';
        type = prefix;
        name = colon + 1;
    } else {
        type = mapc_guess(from, o);
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = lm_migrate(type, name, to_type, o->output, o->flags, &st, d);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (json) {
        printf("{\"from\":");
        lm_json_string(stdout, st.input ? st.input : name, strlen(st.input ? st.input : name));
        printf(",\"from_type\":");
        lm_json_string(stdout, type, strlen(type));
        printf(",\"to_type\":");
        lm_json_string(stdout, to_type, strlen(to_type));
        printf(",\"ok\":%s,\"records\":%lu,\"duplicates\":%lu,\"nul_keys\":%lu,"
               "\"warnings\":%zu,\"errors\":%zu,\"outputs\":[",
               rc == 0 ? "true" : "false", st.records, st.duplicates, st.nul_keys,
               d->nwarnings, d->nerrors);
        if (st.output != NULL)
            lm_json_string(stdout, st.output, strlen(st.output));
        printf("],\"elapsed\":%.6f}\n",
               (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    } else if (rc == 0) {
        printf("%s (%s) -> %s (%s): %lu records, %lu with a repeated key, %lu keys end in NUL\n",
               st.input, type, st.output, to_type, st.records, st.duplicates, st.nul_keys);
    }
    free(st.input);
    free(st.output);
    return tool_exit_code(rc, d);
}

int
main(int argc, char **argv)
{
    struct lm_compile_opts o;
    struct lm_compile_stats st;
    struct lm_diags d;
    const char *query = NULL, *migrate = NULL;
    int c, dump = 0, list = 0, json = 0, check = 0, verbose = 0, quiet = 0, rc;
    struct timespec t0, t1;
    char *end;

    tool_init(argv[0], "-t TYPE [-s SYNTAX] [options] SOURCE, or -q KEY|-u|--migrate|-l");
    memset(&o, 0, sizeof o);
    while ((c = getopt_long(argc, argv, ":t:s:o:NfrdeD:c:ulvT:aq:n", mapc_longopts, NULL)) != -1) {
        switch (c) {
        case 't': o.type = optarg; break;
        case 's': o.syntax = optarg; break;
        case 'o': o.output = optarg; break;
        case 'N': o.flags |= LM_C_NUL; break;
        case 'f': o.flags |= LM_C_NOFOLD; break;
        case 'r': o.flags |= LM_C_REPLACE; break;
        case 'd': o.flags |= LM_C_DUPS; break;
        case 'e': o.flags |= LM_C_EMPTY; break;
        case 'a': o.flags |= LM_C_APPEND; break;
        case 'n': o.flags |= LM_C_NOWAIT; break;
        case OPT_UNSAFE: o.flags |= LM_C_UNSAFE; break;
        case OPT_EXPAND: o.flags |= LM_C_EXPAND; break;
        case 'u': dump = 1; break;
        case 'l': list = 1; break;
        case 'v': verbose = 1; break;
        case 'q': query = optarg; break;
        case OPT_JSON: json = 1; break;
        case OPT_QUIET: quiet = 1; break;
        case OPT_CHECK: check = 1; break;
        case OPT_MIGRATE: migrate = optarg; break;
        case OPT_IF_CHANGED: o.flags |= LM_C_IF_CHANGED; break;
        case 'D':
        case 'T':
            if (strlen(optarg) != 1)
                return tool_usage_error("-%c takes one character, not \"%s\"", c, optarg);
            *(c == 'D' ? &o.comment : &o.delim) = (unsigned char)optarg[0];
            break;
        case 'c':
            o.cache_size = strtoul(optarg, &end, 10);
            if (*end != '\0' || o.cache_size == 0)
                return tool_usage_error("-c takes a size in bytes, not \"%s\"", optarg);
            break;
        case OPT_MAX_LINE:
            /* 0 = no limit; the library's own default otherwise */
            if (optarg[0] < '0' || optarg[0] > '9')
                return tool_usage_error("--max-line takes a size in bytes, not \"%s\"", optarg);
            errno = 0;
            o.max_line = strtoul(optarg, &end, 10);
            if (*end != '\0' || errno != 0)
                return tool_usage_error("--max-line takes a size in bytes, not \"%s\"", optarg);
            if (o.max_line == 0)
                o.max_line = SIZE_MAX;
            break;
        case OPT_HELP: mapc_help(); return 0;
        case OPT_VERSION: tool_version(); return 0;
        default: return tool_getopt_error(c, argv);
        }
    }
    if (list)
        return mapc_list();
    if (migrate != NULL && optind != argc - 1)
        return tool_usage_error("--migrate %s needs the new map type after it, e.g. lmdb", migrate);
    if (optind != argc - 1)
        return tool_usage_error(optind >= argc ? "no source or map named" : "one source or map only");
    if (dump + (query != NULL) + check > 1)
        return tool_usage_error("-q, -u and --check exclude each other");
    if (migrate != NULL && dump + (query != NULL) + check > 0)
        return tool_usage_error("--migrate excludes -q, -u and --check");
    if ((o.flags & LM_C_IF_CHANGED) && (migrate != NULL || dump || query != NULL || check))
        return tool_usage_error("--if-changed is for compiling a map; -q, -u, --check and "
                                "--migrate write nothing to compare");
    if (migrate != NULL && (o.type || o.syntax || (o.flags & ~(unsigned)(LM_C_NOWAIT | LM_C_UNSAFE))))
        return tool_usage_error("--migrate copies records as they are: give the new type as the "
                                "operand, and only -o, -n, -v, --unsafe or --json");
    tool_diags_init(&d);
    if ((query || dump) && o.type == NULL)
        o.type = mapc_guess(argv[optind], &o);
    if (migrate) {
        rc = mapc_migrate(migrate, argv[optind], &o, json, &d);
    } else if (query) {
        rc = mapc_query(query, argv[optind], &o, json, &d);
    } else if (dump) {
        rc = tool_exit_code(lm_dump(argv[optind], &o, stdout, &d), &d);
    } else if (check) {
        rc = lm_compile_check(argv[optind], &o, &d);
        rc = rc < 0 ? tool_exit_code(rc, &d) : rc == 0 ? 0 : 1;
    } else {
        o.stop = &mapc_signal;
        mapc_catch_signals();
        clock_gettime(CLOCK_MONOTONIC, &t0);
        tool_progress_init(&d, quiet || json);
        rc = lm_compile(argv[optind], &o, &st, &d);
        tool_progress_end();
        if (mapc_signal != 0) {
            lm_diags_fini(&d);
            free(st.output);
            mapc_reraise();
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (json)
            mapc_json(argv[optind], &o, &st, &d,
                      (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, rc);
        if (verbose && rc == 0)
            fprintf(stderr, "%s: %s: %lu records from %lu lines\n", tool_progname(),
                    st.output, st.records, st.lines);
        else if (verbose && rc == LM_UNCHANGED)
            fprintf(stderr, "%s: %s: unchanged, %lu records from %lu lines\n",
                    tool_progname(), st.output, st.records, st.lines);
        rc = (o.flags & LM_C_IF_CHANGED) ? tool_exit_changed(rc, &d) : tool_exit_code(rc, &d);
        free(st.output);
    }
    lm_diags_fini(&d);
    return rc;
}
