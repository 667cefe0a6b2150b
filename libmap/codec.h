/*
 * codec.h - one codec per relay policy format: detect it, parse it into the
 * policy model (policy.h), emit the model back as text, and report every rule
 * the format cannot express.
 *
 * A codec is one `const struct lm_codec` in formats/NAME.c, listed in the
 * NULL-terminated table of formats/registry.c.  The pipeline around codecs
 * (choosing one, publishing the output atomically, reading it back, proving
 * the result equivalent) lives in convert.h; codecs never open files.
 */
#ifndef LIBMAP_CODEC_H
#define LIBMAP_CODEC_H

#include <stdio.h>

#include "libmap/diag.h"
#include "libmap/policy.h"
#include "libmap/source.h"

/* --- losses ------------------------------------------------------------------ */

enum lm_loss_kind {
    LM_LOSS_DROPPED = 1,  /* the rule is not in the output at all */
    LM_LOSS_WIDENED,      /* the output matches more than the rule did */
    LM_LOSS_NARROWED,     /* the output matches less than the rule did */
    LM_LOSS_CHANGED       /* same subject, different action or text */
};

/* One rule the emitter could not write exactly. */
struct lm_loss {
    enum lm_loss_kind kind;
    int            widens;  /* nonzero when the change lets some client relay,
                               or some mail in, that the source refuses (a
                               dropped REJECT where the target allows by
                               default; a network rounded outwards under
                               RELAY).  The emitter decides; the tool never
                               guesses. */
    char          *file;    /* owned copy of the rule's pos.file, or NULL */
    unsigned long  line;    /* the rule's line, 0 for policy-level items */
    char          *rule;    /* the rule in neutral syntax (lm_rule_str), owned */
    char          *why;     /* why, in a few words ("qmail cannot express
                               DISCARD; rule dropped"), owned */
};

struct lm_losses {
    struct lm_loss *v;
    size_t          n, cap;
    size_t          nwiden; /* how many have widens set */
};

void lm_losses_init(struct lm_losses *l);
void lm_losses_fini(struct lm_losses *l);

/* Record a loss for rule r (NULL for a policy-level item such as a domain
 * or the default; pos then gives the origin, or NULL).  The message is a
 * printf format.  Returns 0, or -1 with LM_E_NOMEM. */
int lm_loss_add(struct lm_losses *l, enum lm_loss_kind kind, int widens,
                const struct lm_rule *r, const struct lm_pos *pos,
                struct lm_diags *d, const char *fmt, ...) LM_PRINTF(7, 8);

const char *lm_loss_kind_name(enum lm_loss_kind k);  /* "dropped", ... */

/* --- codecs ------------------------------------------------------------------ */

/* lm_codec.caps */
#define LM_CODEC_PARSE 0x01
#define LM_CODEC_EMIT  0x02

/* detect() scores */
#define LM_DETECT_NO     0     /* certainly not this format */
#define LM_DETECT_MAYBE  30    /* nothing against it, nothing typical either */
#define LM_DETECT_LIKELY 60    /* typical lines of this format */
#define LM_DETECT_SURE   100   /* a marker only this format has */

struct lm_codec {
    const char *name;         /* "policy", "sendmail", "qmail", ... (--from/--to) */
    const char *description;  /* one line for relayconv --list */
    unsigned    caps;         /* LM_CODEC_* */

    /* The lookup order of the server this format configures: parse() sets
     * it on the policy it reads, and decide(), lint and verification read
     * only its properties (policy.h). */
    const struct lm_order *order;

    /* The files the format consists of, NULL-terminated; outputs[0] is the
     * main one.  qmail: { "tcp.smtp", "rcpthosts", NULL }; one-file formats:
     * { "access", NULL } (the name is used for "-o DIR" and messages). */
    const char *const *outputs;

    /* Score how much TEXT (the whole input, len bytes, not NUL-terminated)
     * looks like this format; NAME is the file's name (a hint: "tcp.smtp",
     * "access"; may be NULL).  Returns LM_DETECT_*-style 0..100.  Must not
     * fail or allocate. */
    int (*detect)(const char *name, const char *text, size_t len);

    /* Read one input file into OUT, adding rules, domains and locals with
     * positions from the source, and set out->order to this codec's order
     * (and out->flags).  Called
     * once per input file on the same policy; a several-file format tells
     * its parts apart by the base name of lm_source_name(in) when it equals
     * one of outputs[] (relayconv reads its own output back under exactly
     * those names), and otherwise by content.  Records every bad line (up to
     * d->max_errors) and keeps going; returns 0, or -1 when any error was
     * recorded.  Never decides anything: unmatchable keys become LM_K_NEVER
     * rules, not silence. */
    int (*parse)(struct lm_source *in, struct lm_policy *out, struct lm_diags *d);

    /* Write IN as this format with settings OPTS: NULL, or a
     * NULL-terminated list of "name=value" strings whose names are all in
     * settings[] (the pipeline refuses any other; the emitter checks the
     * values, an unknown one being an LM_E_USAGE error; lm_emit_setting
     * reads one).  out[i] is the stream for outputs[i]; every
     * stream is given (write nothing to one that has no content).  Rules
     * and policy-level items that cannot be written exactly are recorded in
     * LOST (dropped/widened/narrowed/changed, with widens set by the
     * emitter); the emitter writes the best faithful approximation and
     * leaves the decision to the caller.  Covering networks in the target's
     * syntax uses ipset.h.  Returns 0, or -1 on an internal error (I/O errors
     * are checked by the caller on the streams). */
    int (*emit)(const struct lm_policy *in, const char *const *opts, FILE *const *out,
                struct lm_losses *lost, struct lm_diags *d);

    /* The names of the settings emit() takes, NULL-terminated; NULL when
     * it takes none.  Two names belong to the pipeline, for a format whose
     * main file names its other files (a Postfix main.cf fragment):
     * "server-dir", the absolute directory the files will live in on the
     * server (lm_convert_opts.server_dir, by default the output directory
     * made absolute; without it the emitter's own default), and
     * "table-type", the type of the indexed tables those files name
     * (lm_convert_opts.table_type; the emitter checks it).  Other names are
     * the format's own (exchange: "reg-version", from
     * lm_convert_opts.codec_opts). */
    const char *const *settings;

    /* Optional (NULL when the files have fixed names): a format whose main
     * file (outputs[0]) names its other files.  Given the main file's TEXT
     * (len bytes, read from PATH), set names[k] for 1 <= k < the number of
     * outputs to a malloc'd file name relative to the main file's directory
     * where the main file names one (else leave it NULL: outputs[k]), and
     * lines[k] to the line that names it.  Reading a directory follows
     * these names; a named file that does not exist is an error at that
     * line.  Returns 0, or -1 with diagnostics. */
    int (*parts)(const char *path, const char *text, size_t len, char **names,
                 unsigned long *lines, struct lm_diags *d);
};

/* Every codec built in, NULL-terminated (formats/registry.c). */
const struct lm_codec *const *lm_codecs(void);

/* A codec by name, or NULL. */
const struct lm_codec *lm_codec_find(const char *name);

/* How many streams the codec writes (length of outputs). */
size_t lm_codec_noutputs(const struct lm_codec *c);

/* The last component of PATH ("" for NULL). */
const char *lm_path_base(const char *path);

/* Which of the codec's files PATH names by its base name: the index in
 * outputs[], or -1. */
int lm_codec_part(const struct lm_codec *c, const char *path);

/* The codecs.  Each formats/NAME.c defines one of these (qmail.c two:
 * the IPv4 and the IPv6 build of tcpserver). */
extern const struct lm_codec lm_codec_policy;     /* neutral policy file */
extern const struct lm_codec lm_codec_sendmail;   /* Sendmail access */
extern const struct lm_codec lm_codec_qmail;      /* tcp.smtp + rcpthosts */
extern const struct lm_codec lm_codec_qmail6;     /* the same, IPv6 build */
extern const struct lm_codec lm_codec_postfix;    /* main.cf fragment + tables */
extern const struct lm_codec lm_codec_exim;       /* list files + RCPT ACL */
extern const struct lm_codec lm_codec_exchange;   /* Exchange 5.5 Relay*List .reg */
extern const struct lm_codec lm_codec_antirelay;  /* EMWAC antirelay (ARDEF-1) */

#endif
