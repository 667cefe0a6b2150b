/*
 * tool.c - shared pieces of the tools' main()s.
 */
#include "tools/tool.h"

#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <sysexits.h>

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

void
tool_print_diag(const struct lm_diag *g, void *unused)
{
    const char *sev = g->sev == LM_WARNING ? "warning: " : g->sev == LM_NOTE ? "note: " : "";

    (void)unused;
    fflush(stdout);
    if (g->file != NULL && g->line > 0 && g->col > 0)
        fprintf(stderr, "%s:%lu:%u: %s%s\n", g->file, g->line, g->col, sev, g->msg);
    else if (g->file != NULL && g->line > 0)
        fprintf(stderr, "%s:%lu: %s%s\n", g->file, g->line, sev, g->msg);
    else if (g->file != NULL)
        fprintf(stderr, "%s: %s%s\n", g->file, sev, g->msg);
    else
        fprintf(stderr, "%s: %s%s\n", tool_name, sev, g->msg);
}

void
tool_diags_init(struct lm_diags *d)
{
    /* Thousands of warnings should not cost a write each; every message ends
     * in a newline and stdout is flushed before each one. */
    static char buf[BUFSIZ];

    setvbuf(stderr, buf, _IOLBF, sizeof buf);
    lm_diags_init(d);
    d->notify = tool_print_diag;
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
