/*
 * convert.h - the relayconv pipeline: load a policy in any format (detected
 * from the content when not named), emit it in another, read the output back
 * with the target's own parser, prove both decide every transaction alike,
 * and only then publish it atomically.  Also verification of two existing
 * policies, what-if decisions and lint.
 *
 * Loss fails closed: by default any rule the target cannot express, and any
 * difference found by verification, stops the conversion and nothing is
 * written.  LM_CV_LOSSY publishes anyway when every difference narrows what
 * the source accepts; a difference that lets a client relay, or lets mail
 * in, that the source refuses also needs LM_CV_ALLOW_WIDENING.
 */
#ifndef LIBMAP_CONVERT_H
#define LIBMAP_CONVERT_H

#include <stdio.h>

#include "libmap/codec.h"
#include "libmap/diag.h"
#include "libmap/policy.h"

/* lm_convert_opts.flags */
#define LM_CV_LOSSY          0x01  /* publish although rules were lost */
#define LM_CV_ALLOW_WIDENING 0x02  /* ... even when that widens relaying */
#define LM_CV_NOWAIT         0x04  /* fail at once when the output is locked */
#define LM_CV_LINT           0x08  /* also run lm_lint on the source */
#define LM_CV_STRICT_LOOPBACK 0x10 /* a server's own loopback rule counts as a
                                      difference (lm_verify) */
#define LM_CV_LOSSES_COUNTED 0x20  /* losses are reported as diagnostics and
                                      counted in rep->losses (n, nwiden), their
                                      texts not kept (no JSON report wanted) */
#define LM_CV_IF_CHANGED     0x40  /* replace only the output files whose bytes
                                      differ (needs an output path) */

/* The largest input file the pipeline reads (each file of a policy, standard
 * input included): 1 GiB, some 30 million lines of an access map.  It bounds
 * memory when /dev/zero or a runaway pipe is read, not real maps.  A larger
 * input is an LM_E_SYNTAX error naming the file (a regular file before
 * anything is read); so is a line longer than LM_SOURCE_MAX_LINE, at its
 * file:line. */
#define LM_CONVERT_MAX_INPUT ((size_t)1 << 30)

struct lm_convert_opts {
    const char *from;       /* codec name, or NULL to detect from the content */
    const char *to;         /* codec name (required) */
    const char *output;     /* NULL = the stream given to lm_convert; for a
                               several-file target a directory */
    unsigned    flags;      /* LM_CV_* */
    size_t      max_diffs;  /* counterexamples to report, 0 = 10 */
    const char *server_dir; /* where a several-file output will live on the
                               server, for the files that name the others
                               (NULL: the absolute path of output); passed
                               as the emitter's setting "server-dir" */
    const char *table_type; /* indexed table type those files name (NULL:
                               the codec's default); its setting
                               "table-type" */
    const char *const *codec_opts; /* NULL, or NULL-terminated "name=value"
                               settings for the target's emitter, each
                               named in lm_codec.settings */
};

/* A transaction on which two policies disagree. */
struct lm_diff {
    char *query;            /* "client 172.16.5.9, to user@relaymap.invalid" */
    enum lm_verdict_kind a, b;
    char *a_at, *b_at;      /* "policy.txt:3" of the deciding rule, or NULL */
    int   wider;            /* b accepts or relays where a refuses */
};

struct lm_convert_report {
    const struct lm_codec *from, *to;
    struct lm_losses losses;
    struct lm_diff  *diffs;     /* at most max_diffs kept */
    size_t           ndiffs;    /* all differences found (may exceed kept) */
    size_t           nkept, capdiffs;
    size_t           nwider;    /* differences that widen */
    size_t           nprobes;   /* combinations of stage outcomes compared */
    size_t           nclasses;  /* classes of input compared (clients, senders
                                   and recipients together) */
    size_t           nloopback; /* combinations that differ only by a server's
                                   own loopback rule (not differences) */
    int              strict_loopback; /* in: count those as differences */
    size_t           nrules_in, nrules_out;
    int              written;   /* the output was published (or, with
                                   LM_CV_IF_CHANGED, was already in place) */
    int              changed;   /* some output was written or replaced */
};

void lm_convert_report_init(struct lm_convert_report *r);
void lm_convert_report_fini(struct lm_convert_report *r);

/* Write the report as one JSON object (losses, differences, counts). */
void lm_convert_report_json(FILE *f, const struct lm_convert_report *r);

/*
 * Load the policy in FILES[0..n) (each a path, "-" for standard input, or a
 * directory holding a several-file format's files by their output names).
 * FROM names the codec, or NULL to detect it: the codec that scores highest
 * wins; a tie between codecs that find the text typical is an ambiguity
 * error naming them.  *codec (may be NULL) receives the codec used.  The
 * policy is indexed.  Returns 0, or -1 with diagnostics (*out is NULL).
 */
int lm_policy_load(const char *const *files, size_t n, const char *from,
                   struct lm_policy **out, const struct lm_codec **codec,
                   struct lm_diags *d);

/*
 * Decide whether A and B judge every transaction alike, exactly: on a
 * partition of all clients (address, host name, ident), senders and
 * recipients into classes on which both decide uniformly (verify.c).  Labels
 * name the two sides in messages ("source", "target").  Differences go to
 * rep (up to max_diffs counterexamples kept, one per pair of deciding rules)
 * and to d: as errors; with as_warnings 1 the differences that do not widen
 * are warnings; with 2 all of them are.  A difference that comes only from
 * a server letting its own loopback clients relay is counted in
 * rep->nloopback and summed up in one note, unless rep->strict_loopback.
 * Returns 0 when they agree everywhere, LM_NOTFOUND when they differ, -1 on
 * failure.  Cost: O((n + m) log(n + m)) for n and m rules.
 */
int lm_verify(const struct lm_policy *a, const struct lm_policy *b,
              const char *alabel, const char *blabel, size_t max_diffs,
              int as_warnings, struct lm_convert_report *rep, struct lm_diags *d);

/* The whole conversion.  out receives the converted text when o->output is
 * NULL.  Returns 0 published, -1 refused or failed (nothing written).  With
 * LM_CV_IF_CHANGED only the output files whose bytes differ from the files
 * in place are replaced (a several-file set then publishes those alone,
 * still all or nothing); LM_UNCHANGED when none did and nothing was
 * touched. */
int lm_convert(const char *const *files, size_t n, const struct lm_convert_opts *o,
               FILE *out, struct lm_convert_report *rep, struct lm_diags *d);

/* Parse a client address for a query ("192.0.2.1", "2001:db8::1").  0 or -1
 * with an LM_E_USAGE diagnostic. */
int lm_query_ip(struct lm_query *q, const char *text, struct lm_diags *d);

/* Parse the server address a client connected to into q->server.  0, or -1
 * when TEXT is not an IPv4 or IPv6 address. */
int lm_ip_parse_server(struct lm_query *q, const char *text);

/* Describe a verdict in one line: "relays (policy.txt:3: client may relay)". */
char *lm_verdict_str(const struct lm_verdict *v);

/* --- relayconv's modes (relayconv(8)), here so that tests can call them ---- */

/* Decide q on p and print one line: "client IP (host), to RCPT: verdict", or
 * with json a JSON object {verdict, client, rule {file, line} or null, why}.
 * client is the address as the user wrote it. */
void lm_answer_print(FILE *f, const struct lm_policy *p, const struct lm_query *q,
                     const char *client, int json);

/* --decide: load FILES and answer for CLIENT, or with CLIENT "-" for each
 * address read from IN, one per line (a bad one is an error diagnostic and
 * is skipped).  q carries host, ident, sender and recipient (a probe
 * recipient when NULL).  0, or -1 with diagnostics. */
int lm_decide_files(const char *const *files, size_t n, const char *fmt, struct lm_query *q,
                    const char *client, int json, FILE *in, FILE *out, struct lm_diags *d);

/* --verify: load A and B (FMT or detected) and lm_verify them with their
 * names as labels.  Returns like lm_verify. */
int lm_verify_files(const char *a, const char *b, const char *fmt,
                    struct lm_convert_report *rep, struct lm_diags *d);

/* --lint: load FILES and lint them; *nwarn gets the number of warnings,
 * the parsers' (keys that can never match, repeats) and lm_lint's.  0, or
 * -1 when loading failed. */
int lm_lint_files(const char *const *files, size_t n, const char *fmt, size_t *nwarn,
                  struct lm_diags *d);

#endif
