/*
 * relaytest.h - the open-relay probes and the SMTP client that runs them.
 *
 * Two layers.  smtpconn.c opens a byte stream to an SMTP server (TCP over
 * IPv4 or IPv6, a UNIX socket, or a child process's stdin/stdout) and reads
 * and writes SMTP lines with a deadline on every operation.  relaytest.c
 * holds the probe table (the baseline test and the 19 address tricks),
 * expands its placeholders, runs each probe as MAIL FROM, RCPT TO, RSET and
 * classifies the replies.  Nothing here prints or exits; results come back
 * in structs.  No probe ever sends DATA.
 *
 * A pipe transport writes to a child: the caller must ignore SIGPIPE (the
 * library does not change signal dispositions) so that a child that exits
 * early shows up as a dropped connection instead of killing the process.
 */
#ifndef LIBMAP_RELAYTEST_H
#define LIBMAP_RELAYTEST_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "libmap/diag.h"

/* ---- transport ---------------------------------------------------------- */

enum lm_smtp_kind { LM_SMTP_TCP, LM_SMTP_UNIX, LM_SMTP_PIPE };

struct lm_smtp_target {
    enum lm_smtp_kind kind;
    const char *host;       /* TCP: name or address (no brackets) */
    const char *port;       /* TCP: service or number; NULL = "25" */
    const char *source;     /* TCP: local address to bind, or NULL */
    const char *path;       /* UNIX: socket path */
    const char *command;    /* PIPE: run with /bin/sh -c */
};

/* Why an operation on a connection failed. */
enum lm_smtp_err {
    LM_SMTP_OK = 0,
    LM_SMTP_ECONNECT,       /* could not connect, or the server refused the session */
    LM_SMTP_ETIMEOUT,       /* no complete reply (or write) within the timeout */
    LM_SMTP_EPROTOCOL,      /* a reply that is not SMTP, or an unexpected code */
    LM_SMTP_EDROPPED        /* the server closed the connection mid-dialogue */
};

#define LM_SMTP_BUF 8192    /* input buffer; longer reply lines are cut */
#define LM_SMTP_MAXLINES 100 /* lines in one reply before it counts as garbage */
#define LM_SMTP_ERRLEN 256

struct lm_smtp_conn {
    int    rfd, wfd;        /* equal for sockets; -1 when closed */
    pid_t  pid;             /* PIPE: the child, else 0 */
    int    is_socket;
    char   peer_ip[64];     /* numeric address of the peer, "" if unknown */
    char   local_ip[64];    /* numeric address we connected from, "" if unknown */
    char   buf[LM_SMTP_BUF];
    size_t len;             /* bytes buffered */
    char   err[LM_SMTP_ERRLEN]; /* what the last failure was, for messages */
    int    skip_noise;      /* drop non-reply lines before a reply (up to
                             * LM_SMTP_MAXLINES): a command's notices before
                             * its banner, as "exim -bh" prints */
};

struct lm_smtp_reply {
    int    code;            /* 100..599, or 0 when there was none */
    char  *text;            /* owned: the reply lines as received, joined by
                             * "\n", each with its code; NULL when none */
    size_t nlines;
};

/* Split "HOST", "HOST:PORT", "[V6]:PORT", "[V6]" or a bare IPv6 address into
 * malloc'ed host and port (port NULL when not given).  0, or -1 with a
 * LM_E_USAGE diagnostic. */
int lm_smtp_parse_hostport(const char *spec, char **host, char **port,
                           struct lm_diags *d);

/* Open the connection; timeout_ms bounds the connect.  Returns LM_SMTP_OK or
 * LM_SMTP_ECONNECT / LM_SMTP_ETIMEOUT with c->err saying why. */
int lm_smtp_open(struct lm_smtp_conn *c, const struct lm_smtp_target *t,
                 int timeout_ms);

/* Send one command line (CRLF is added).  LM_SMTP_OK or an error. */
int lm_smtp_send(struct lm_smtp_conn *c, const char *line, int timeout_ms);

/* Read one (possibly multi-line) reply within timeout_ms.  r is
 * overwritten; free it with lm_smtp_reply_fini.  LM_SMTP_OK or an error;
 * on error r->code is 0. */
int lm_smtp_read_reply(struct lm_smtp_conn *c, struct lm_smtp_reply *r,
                       int timeout_ms);

void lm_smtp_reply_fini(struct lm_smtp_reply *r);

/* Close the connection; a child gets timeout_ms to exit after its input is
 * closed, then it is killed.  Safe on a closed connection. */
void lm_smtp_close(struct lm_smtp_conn *c, int timeout_ms);

/* ---- probes ------------------------------------------------------------- */

#define LM_RT_NPROBES 20
#define LM_RT_MAXRCPT 3

/* One probe of the table.  Templates use {S} the server's name, {I} its IP
 * literal without brackets ("192.0.2.1", "IPv6:2001:db8::1"), {L} a local
 * user, {X} an outside domain, {x} an outside user. */
struct lm_rt_probe {
    int         num;
    const char *name;                 /* short identifier, "percent-hack" */
    const char *what;                 /* what it tries, one line */
    const char *from;                 /* MAIL FROM argument template */
    const char *rcpt[LM_RT_MAXRCPT];  /* RCPT TO argument templates, NULL-ended */
};

/* Probe num (0..LM_RT_NPROBES-1), or NULL. */
const struct lm_rt_probe *lm_rt_probe_get(int num);

struct lm_rt_params {
    const char *server_name;    /* S */
    const char *server_ip;      /* I, the literal's inside */
    const char *local_user;     /* L */
    const char *outside_domain; /* X */
    const char *outside_user;   /* x */
};

/* Check that a placeholder value can go into an SMTP command: printable
 * ASCII, no space, not empty.  0, or -1 with an LM_E_USAGE diagnostic
 * naming what (the option). */
int lm_rt_check_value(const char *what, const char *value, struct lm_diags *d);

/* Expand a template; malloc'ed result, NULL when out of memory. */
char *lm_rt_expand(const char *tmpl, const struct lm_rt_params *p);

/* Nonzero when the recipient argument (as sent) names no domain, or the
 * server's own name or IP literal as its domain: an MTA that does not
 * understand the trick may deliver such an address locally, so a 2xx is
 * worth checking by hand before calling the server open. */
int lm_rt_local_target(const char *rcpt, const struct lm_rt_params *p);

/* Turn an address as the user writes it ("192.0.2.1", "2001:db8::1") into
 * the inside of an address literal ("IPv6:2001:db8::1").  Malloc'ed. */
char *lm_rt_ip_literal(const char *addr);

/* ---- running the suite -------------------------------------------------- */

enum lm_rt_verdict {
    LM_RT_NOTRUN = 0,
    LM_RT_DENIED,           /* 5xx to MAIL FROM or to every RCPT TO */
    LM_RT_RELAYED,          /* 2xx to some RCPT TO */
    LM_RT_TEMPFAIL,         /* 4xx (greylisting, 421), nothing accepted */
    LM_RT_ERROR             /* timeout, dropped connection, garbage */
};

const char *lm_rt_verdict_name(enum lm_rt_verdict v);

struct lm_rt_rcpt {
    char  *to;                  /* argument as sent */
    int    sent;                /* the RCPT TO went out */
    struct lm_smtp_reply reply;
    enum lm_rt_verdict verdict;
    int    local_target;        /* lm_rt_local_target() */
};

struct lm_rt_result {
    int    num;
    const struct lm_rt_probe *probe;
    char  *from;                /* MAIL FROM argument as sent */
    struct lm_smtp_reply mail;  /* reply to MAIL FROM (code 0 if none) */
    size_t nrcpt;
    struct lm_rt_rcpt rcpt[LM_RT_MAXRCPT];
    enum lm_rt_verdict verdict;
    int    at_mail;             /* decided by the reply to MAIL FROM */
    enum lm_smtp_err error;     /* for LM_RT_ERROR (and a failed reconnect) */
    char  *error_text;          /* owned, or NULL */
    int    maybe_local;         /* relayed only to local-target recipients */
};

struct lm_rt_opts {
    struct lm_smtp_target target;
    struct lm_rt_params params;   /* NULL server_name/server_ip: from the session */
    const char *helo;             /* EHLO/HELO argument */
    int    timeout_ms;            /* per command; also connect and banner */
    unsigned long only;           /* bit n selects probe n; 0 = all */
};

struct lm_rt_report {
    char  *banner;              /* first greeting, owned */
    char  *server_name;         /* S as used, owned */
    char  *server_ip;           /* I as used, owned */
    char  *peer;                /* "192.0.2.1 port 25", "pipe", ... owned */
    int    esmtp;               /* EHLO was accepted */
    size_t connects;            /* sessions opened */
    size_t n;                   /* probes in r[] */
    struct lm_rt_result r[LM_RT_NPROBES];
    size_t nrelayed, ndenied, ntempfail, nerror, nnotrun;
    enum lm_smtp_err fail;      /* why the first session failed, when it did */
    enum lm_smtp_err worst;     /* the first error kind met by any probe */
};

/* Run the selected probes.  Returns 0 when a first session was opened (the
 * report then says probe by probe what happened, including later errors),
 * or -1 with rep->fail set and a diagnostic when no session could be
 * started, or the options are unusable (LM_E_USAGE).  Free the report with
 * lm_rt_report_fini even on failure. */
int lm_relaytest_run(const struct lm_rt_opts *o, struct lm_rt_report *rep,
                     struct lm_diags *d);

void lm_rt_report_fini(struct lm_rt_report *rep);

/* Write the report to OUT: a table (server, one row per recipient, notes on
 * accepted local-looking targets, a summary line), or with json one object
 * holding the same data, whether the run failed, and the exit code. */
void lm_rt_report_print(FILE *out, const struct lm_rt_report *rep, int json, int failed,
                        int code);

#endif
