/*
 * tool.h - what every relaymap tool shares: program name, printing
 * diagnostics, exit codes (sysexits), JSON strings.
 */
#ifndef TOOLS_TOOL_H
#define TOOLS_TOOL_H

#include <stdio.h>

#include "libmap/diag.h"

void tool_init(const char *argv0);

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

/* Print a usage error ("prog: msg" + "try 'prog --help'") and return 64. */
int tool_usage_error(const char *fmt, ...) LM_PRINTF(1, 2);

#endif
