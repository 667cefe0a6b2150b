/*
 * tool.c - shared pieces of the tools' main()s.
 */
#include "tools/tool.h"

#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

static const char *tool_name = "relaymap";
static const char *tool_synopsis = "";

void
tool_init(const char *argv0, const char *synopsis)
{
    const char *s;

    if (argv0 != NULL && *argv0 != '\0')
        tool_name = (s = strrchr(argv0, '/')) != NULL ? s + 1 : argv0;
    tool_synopsis = synopsis;
}

void
tool_version(void)
{
    printf("%s (relaymap) %s\n", tool_name, RELAYMAP_VERSION);
}

const char *
tool_progname(void)
{
    return tool_name;
}

/* The progress line: when the run started, when the line was last drawn,
 * and how wide it is on the screen now (0: not shown). */
static double tool_prog_start, tool_prog_last;
static size_t tool_prog_width;
static const char *tool_prog_phase;

static double
tool_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
tool_progress_end(void)
{
    if (tool_prog_width > 0) {
        fprintf(stderr, "\r%*s\r", (int)tool_prog_width, "");
        fflush(stderr);
        tool_prog_width = 0;
    }
}

/* lm_diags.progress: redraw at most four times a second, from the first
 * second on; a new phase clears the line (the library may write on
 * standard output between phases). */
static void
tool_progress(const struct lm_progress *p, void *unused)
{
    char line[160];
    size_t len = 0;
    double now = tool_now();
    int n;

    (void)unused;
    if (p->phase != tool_prog_phase) {
        tool_progress_end();
        tool_prog_phase = p->phase;
        return;
    }
    if (now - tool_prog_start < 1.0 || now - tool_prog_last < 0.25)
        return;
    tool_prog_last = now;
    n = snprintf(line, sizeof line, "%s: %s%s%zu lines read", tool_name,
                 p->phase ? p->phase : "", p->phase ? ": " : "", p->lines);
    len = n > 0 && (size_t)n < sizeof line ? (size_t)n : 0;
    if (p->records > 0 && len < sizeof line) {
        n = snprintf(line + len, sizeof line - len, ", %zu records written", p->records);
        len = n > 0 && (size_t)n < sizeof line - len ? len + (size_t)n : len;
    }
    if (p->classes > 0 && len < sizeof line) {
        n = snprintf(line + len, sizeof line - len, ", %zu classes verified", p->classes);
        len = n > 0 && (size_t)n < sizeof line - len ? len + (size_t)n : len;
    }
    fflush(stdout);
    fprintf(stderr, "\r%s%*s", line, tool_prog_width > len ? (int)(tool_prog_width - len) : 0,
            "");
    fflush(stderr);
    tool_prog_width = len > tool_prog_width ? len : tool_prog_width;
}

void
tool_progress_init(struct lm_diags *d, int off)
{
    if (off || !isatty(STDERR_FILENO))
        return;
    tool_prog_start = tool_now();
    d->progress = tool_progress;
    d->progress_arg = NULL;
}

void
tool_print_diag(const struct lm_diag *g, void *unused)
{
    const char *sev = g->sev == LM_WARNING ? "warning: " : g->sev == LM_NOTE ? "note: " : "";

    (void)unused;
    tool_progress_end();
    fflush(stdout);
    if (g->file != NULL && g->line > 0 && g->col > 0)
        fprintf(stderr, "%s:%lu:%u: %s%s\n", g->file, g->line, g->col, sev, g->msg);
    else if (g->file != NULL && g->line > 0)
        fprintf(stderr, "%s:%lu: %s%s\n", g->file, g->line, sev, g->msg);
    else if (g->file != NULL)
        fprintf(stderr, "%s: %s%s\n", g->file, sev, g->msg);
    else
        fprintf(stderr, "%s: %s%s\n", tool_name, sev, g->msg);
    if (g->sev == LM_ERROR)
        fflush(stderr);
}

void
tool_diags_init(struct lm_diags *d)
{
    /* Thousands of warnings should not cost a write each; every message ends
     * in a newline and stdout is flushed before each one.  When standard
     * error is neither a terminal nor the file standard output goes to, the
     * order between the two cannot show, so a lossy conversion's million
     * warnings go out in large writes (errors are flushed at once). */
    static char buf[65536];
    struct stat so, se;
    int shared = fstat(STDOUT_FILENO, &so) == 0 && fstat(STDERR_FILENO, &se) == 0 &&
                 so.st_dev == se.st_dev && so.st_ino == se.st_ino;

    setvbuf(stderr, buf, shared || isatty(STDERR_FILENO) ? _IOLBF : _IOFBF, sizeof buf);
    lm_diags_init(d);
    d->notify = tool_print_diag;
    d->drop_notified = 1;       /* printed already: a long run keeps none */
}

int
tool_exit_code(int rc, const struct lm_diags *d)
{
    if (rc >= 0 && d->nerrors == 0)
        return 0;
    switch (lm_diags_first_code(d)) {
    case LM_E_USAGE:       return EX_USAGE;
    case LM_E_SYNTAX:
    case LM_E_DUPLICATE:
    case LM_E_LOSSY:
    case LM_E_FORMAT:      return EX_DATAERR;
    case LM_E_NOINPUT:     return EX_NOINPUT;
    case LM_E_UNSUPPORTED: return EX_UNAVAILABLE;
    case LM_E_CREATE:      return EX_CANTCREAT;
    case LM_E_IO:          return EX_IOERR;
    case LM_E_BUSY:        return EX_TEMPFAIL;
    case LM_E_NOMEM:       return EX_OSERR;
    default:               return EX_SOFTWARE;
    }
}

int
tool_exit_changed(int rc, const struct lm_diags *d)
{
    int code = tool_exit_code(rc, d);

    return code == 0 && rc == 0 ? TOOL_EXIT_CHANGED : code;
}

int
tool_usage_error(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", tool_name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage: %s %s\nTry '%s --help' for more information.\n",
            tool_name, tool_synopsis, tool_name);
    return EX_USAGE;
}

/* Is c inside the bundle of short options word (getopt stops on a bad one
 * without moving optind past its word)? */
static int
tool_in_bundle(const char *word, int c)
{
    return word != NULL && word[0] == '-' && word[1] != '-' && strchr(word + 1, c) != NULL;
}

int
tool_getopt_error(int c, char *const *argv)
{
    const char *arg = argv[optind - 1];

    /* A missing argument ends its word, so that word names the option; an
     * unknown short option may sit inside a bundle; an unknown long one has
     * optopt 0, a known one given "=VALUE" has its value in optopt. */
    if (c == ':') {
        if (strncmp(arg, "--", 2) == 0)
            return tool_usage_error("option %s needs an argument", arg);
        return tool_usage_error("option -%c needs an argument", optopt);
    }
    if (optopt > UCHAR_MAX || (optopt != 0 && strncmp(arg, "--", 2) == 0
                               && strchr(arg, '=') != NULL && !tool_in_bundle(argv[optind], optopt)))
        return tool_usage_error("option %.*s takes no argument", (int)strcspn(arg, "="), arg);
    if (optopt != 0)
        return tool_usage_error("unknown option -%c", optopt);
    return tool_usage_error("unknown option %.*s", (int)strcspn(arg, "="), arg);
}
