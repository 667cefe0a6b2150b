/*
 * diag.h - diagnostics sink for libmap.
 *
 * Every fallible library call takes a struct lm_diags and records what went
 * wrong there, with the file, line and column it concerns.  The library never
 * prints or exits; tools print the list (or stream it through notify).
 */
#ifndef LIBMAP_DIAG_H
#define LIBMAP_DIAG_H

#include <stddef.h>

#if defined(__GNUC__) || defined(__clang__)
#define LM_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define LM_PRINTF(f, a)
#endif

/* Return values shared by the whole library: 0 ok, >0 a non-error outcome,
 * -1 failure with the class in the diagnostic's code. */
#define LM_OK       0
#define LM_NOTFOUND 1
#define LM_EXISTS   2
#define LM_UNCHANGED 3  /* the output already held what would be written;
                           nothing was replaced (the *_IF_CHANGED flags) */

enum lm_sev { LM_NOTE, LM_WARNING, LM_ERROR };

/* Error classes; tools map them to sysexits codes. */
enum lm_code {
    LM_E_NONE = 0,
    LM_E_USAGE,         /* bad arguments from the caller (64) */
    LM_E_SYNTAX,        /* bad input text (65) */
    LM_E_DUPLICATE,     /* duplicate key (65) */
    LM_E_LOSSY,         /* conversion would lose or widen rules (65) */
    LM_E_NOINPUT,       /* cannot open or read the input (66) */
    LM_E_UNSUPPORTED,   /* type not built, operation not offered (69) */
    LM_E_INTERNAL,      /* a bug or an impossible state (70) */
    LM_E_CREATE,        /* cannot create the output (73) */
    LM_E_IO,            /* I/O error while writing or publishing (74) */
    LM_E_BUSY,          /* output locked by another run (75) */
    LM_E_NOMEM,         /* out of memory (71) */
    LM_E_FORMAT         /* an existing map or file is not what it should be (65) */
};

struct lm_pos {
    const char   *file;     /* borrowed; copied into each diagnostic */
    unsigned long line;     /* 1-based; 0 = not applicable */
    unsigned      col;      /* 1-based; 0 = not applicable */
};

struct lm_diag {
    enum lm_sev   sev;
    int           code;     /* enum lm_code */
    char         *file;     /* owned copy of pos.file, or NULL */
    unsigned long line;
    unsigned      col;
    int           sys_errno;
    char         *msg;      /* owned; no prefix, no trailing newline */
};

/* How far a long call has got, for a tool's progress line
 * (lm_diags.progress).  Counts only grow within a phase. */
struct lm_progress {
    const char *phase;      /* "reading", "writing", "reading back", "verifying" */
    size_t      lines;      /* input lines read */
    size_t      records;    /* records written */
    size_t      classes;    /* classes of input verified */
};

struct lm_diags {
    struct lm_diag *v;
    size_t          n, cap;
    size_t          nerrors, nwarnings;
    size_t          max_errors;   /* stop parsing after this many; 0 = no limit */
    int             quiet_warnings;
    /* Optional: called for each diagnostic as it is added. */
    void          (*notify)(const struct lm_diag *, void *);
    void           *notify_arg;
    /* Set with notify: a warning or note is counted and passed to notify,
     * not kept in v (a conversion can report a loss per rule). */
    int             drop_notified;
    /* Optional: called when a phase starts and after every few thousand
     * lines, records or classes counted in done; it must be cheap. */
    void          (*progress)(const struct lm_progress *, void *);
    void           *progress_arg;
    struct lm_progress done;
    size_t          progress_tick;
};

void lm_diags_init(struct lm_diags *d);
void lm_diags_fini(struct lm_diags *d);

/* Record a diagnostic.  pos may be NULL.  Returns -1 for LM_ERROR and 0
 * otherwise, so that library code can write "return lm_diag_add(...)". */
int lm_diag_add(struct lm_diags *d, enum lm_sev sev, int code,
                const struct lm_pos *pos, const char *fmt, ...) LM_PRINTF(5, 6);

/* Same, adding strerror(errnum) to the message. */
int lm_diag_sys(struct lm_diags *d, int code, int errnum,
                const struct lm_pos *pos, const char *fmt, ...) LM_PRINTF(5, 6);

/* Nonzero once max_errors errors have been recorded. */
int lm_diags_full(const struct lm_diags *d);

/* The code of the first error recorded, or LM_E_NONE. */
int lm_diags_first_code(const struct lm_diags *d);

/* Quote a byte string for a message: printable ASCII as is, the rest as
 * C escapes, cut to at most max bytes of input with "..." appended.
 * Returns buf; buf must hold at least 4 * max + 8 bytes. */
char *lm_quote(char *buf, const void *data, size_t len, size_t max);
#define LM_QUOTE_MAX 80
#define LM_QUOTE_BUF (4 * LM_QUOTE_MAX + 8)

#endif
