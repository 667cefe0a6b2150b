/*
 * tool.h - what every relaymap tool shares: program name, printing
 * diagnostics, exit codes (sysexits), JSON strings.
 */
#ifndef TOOLS_TOOL_H
#define TOOLS_TOOL_H

#include <stdio.h>

#include "libmap/diag.h"

/* Remember the program name (argv0's last component) and the one-line
 * synopsis that usage errors print. */
void tool_init(const char *argv0, const char *synopsis);

/* Print "NAME (relaymap) VERSION" on standard output for --version. */
void tool_version(void);
const char *tool_progname(void);

/* lm_diags notify callback: prints "file:line[:col]: [warning: ]message", or
 * "prog: message" when there is no position, on stderr. */
void tool_print_diag(const struct lm_diag *g, void *unused);

/* Set up a diagnostics sink that prints as it goes. */
void tool_diags_init(struct lm_diags *d);

/* A progress line on stderr for a long run (lm_diags.progress): only when
 * stderr is a terminal and off is 0 (-q, --json), from the first second on;
 * cleared before each diagnostic and by tool_progress_end, which a tool
 * calls before it prints its result. */
void tool_progress_init(struct lm_diags *d, int off);
void tool_progress_end(void);

/* The sysexits code for a library result: 0 when rc >= 0 and no error was
 * recorded, otherwise the code of the first error's class. */
int tool_exit_code(int rc, const struct lm_diags *d);

/* --if-changed: the exit status when an output was written or replaced
 * (0 says nothing changed).  Not a sysexits code and not 1, which -q,
 * --check and --lint use; documented in mapc(8) and relayconv(8). */
#define TOOL_EXIT_CHANGED 2

/* tool_exit_code for a run with --if-changed: TOOL_EXIT_CHANGED when rc is 0
 * (published), 0 when it is LM_UNCHANGED, the error's code otherwise. */
int tool_exit_changed(int rc, const struct lm_diags *d);

/* Print a usage error ("prog: msg", the synopsis, "try 'prog --help'") on
 * stderr and return 64 (EX_USAGE). */
int tool_usage_error(const char *fmt, ...) LM_PRINTF(1, 2);

/* The usage error for getopt_long's ':' (missing argument) or '?' (unknown
 * option); the option string must start with ':' so getopt stays quiet. */
int tool_getopt_error(int c, char *const *argv);

#endif
