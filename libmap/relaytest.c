/*
 * relaytest.c - the classic open-relay probes against a live SMTP server.
 *
 * The table is the baseline test and the 19 address tricks of the manual
 * telnet procedure this tool automates, with the exact MAIL FROM / RCPT TO
 * arguments it uses (angle brackets only where it has them) and its
 * addresses turned into placeholders.  Each probe is MAIL FROM, RCPT TO
 * (one or more), RSET on one session; DATA is never sent.  A 2xx to any
 * RCPT TO means RELAYED; 4xx temp-failed; 5xx denied.  A 421, a timeout or
 * a dropped connection ends the session: the next probe reconnects.
 * Results are returned in struct lm_rt_report; see relaytest(8).
 */
#include "libmap/relaytest.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct lm_rt_probe relaytest_probes[LM_RT_NPROBES] = {
    { 0, "baseline", "outside recipient, local sender",
      "<{L}@{S}>", { "<{x}@{X}>" } },
    { 1, "same-address", "same outside address as sender and recipient",
      "{x}@{X}", { "{x}@{X}" } },
    { 2, "bad-sender-domain", "sender domain that does not exist",
      "spamtest@spam.mail.{X}", { "{x}@{X}" } },
    { 3, "localhost-sender", "sender at localhost",
      "relaytest@localhost", { "{x}@{X}" } },
    { 4, "bare-sender", "sender without a domain",
      "<relaytest>", { "{x}@{X}" } },
    { 5, "null-sender", "null sender",
      "<>", { "{x}@{X}" } },
    { 6, "root-sender", "sender root at the server's name",
      "root@{S}", { "{x}@{X}" } },
    { 7, "ip-literal-sender", "sender at the server's IP literal",
      "spamtest@[{I}]", { "{x}@{X}" } },
    { 8, "percent-hack", "% hack through the server's name",
      "{x}@{X}", { "{x}%{X}@{S}" } },
    { 9, "percent-hack-ip", "% hack through the server's IP literal",
      "{L}@{S}", { "{x}%{X}@[{I}]" } },
    { 10, "quoted", "quoted outside address",
      "{L}@{S}", { "\"{x}@{X}\"" } },
    { 11, "quoted-percent", "quoted % form",
      "{L}@{S}", { "\"{x}%{X}\"" } },
    { 12, "quoted-at-at", "sender at the IP literal, quoted @@ recipient",
      "{L}@[{I}]", { "\"{x}@{X}@{S}\"" } },
    { 13, "quoted-at-ip", "quoted outside address at the IP literal",
      "{L}@{S}", { "\"{x}@{X}\"@[{I}]" } },
    { 14, "at-at-ip", "unquoted @@ at the IP literal",
      "{L}@{S}", { "{x}@{X}@[{I}]" } },
    { 15, "source-route", "source route through the server's name",
      "{L}@[{I}]", { "@{S}:{x}@{X}" } },
    { 16, "source-route-ip", "source route through an IP literal",
      "{L}@{S}", { "@[{I}]:{x}@{X}" } },
    { 17, "bang-path", "bang paths",
      "{L}@[{I}]", { "<{X}!{x}>", "{X}!{x}" } },
    { 18, "bang-path-ip", "bang path at the IP literal",
      "{L}@{S}", { "{X}!{x}@[{I}]" } },
    { 19, "postmaster-sender", "sender postmaster at the server's name",
      "postmaster@{S}", { "{x}@{X}" } },
};

/* Give up the remaining probes after this many failed reconnects in a row,
 * or this many probes in a row lost to timeouts and drops: a server that
 * stalls must not cost twenty timeouts. */
#define RELAYTEST_MAX_RECONNECT_FAILS 2
#define RELAYTEST_MAX_PROBE_FAILS 3

const struct lm_rt_probe *
lm_rt_probe_get(int num)
{
    if (num < 0 || num >= LM_RT_NPROBES)
        return NULL;
    return &relaytest_probes[num];
}

const char *
lm_rt_verdict_name(enum lm_rt_verdict v)
{
    switch (v) {
    case LM_RT_DENIED:   return "denied";
    case LM_RT_RELAYED:  return "RELAYED";
    case LM_RT_TEMPFAIL: return "temp-failed";
    case LM_RT_ERROR:    return "error";
    case LM_RT_NOTRUN:   break;
    }
    return "not-run";
}

int
lm_rt_check_value(const char *what, const char *value, struct lm_diags *d)
{
    char q[LM_QUOTE_BUF];
    const unsigned char *p;

    if (value == NULL || *value == '\0')
        return lm_diag_add(d, LM_ERROR, LM_E_USAGE, NULL, "%s: empty value", what);
    for (p = (const unsigned char *)value; *p != '\0'; p++)
        if (*p <= ' ' || *p >= 0x7f)
            return lm_diag_add(d, LM_ERROR, LM_E_USAGE, NULL, "%s \"%s\": only printable "
                               "ASCII without spaces can go into an SMTP command", what,
                               lm_quote(q, value, strlen(value), LM_QUOTE_MAX));
    return 0;
}

char *
lm_rt_expand(const char *tmpl, const struct lm_rt_params *p)
{
    size_t len = 0, pass;
    const char *s, *v;
    char *out = NULL;

    /* Two passes: measure, then copy. */
    for (pass = 0; pass < 2; pass++) {
        len = 0;
        for (s = tmpl; *s != '\0'; s++) {
            v = NULL;
            if (s[0] == '{' && s[1] != '\0' && s[2] == '}') {
                switch (s[1]) {
                case 'S': v = p->server_name; break;
                case 'I': v = p->server_ip; break;
                case 'L': v = p->local_user; break;
                case 'X': v = p->outside_domain; break;
                case 'x': v = p->outside_user; break;
                default: break;
                }
            }
            if (v != NULL) {
                if (out != NULL)
                    memcpy(out + len, v, strlen(v));
                len += strlen(v);
                s += 2;
            } else {
                if (out != NULL)
                    out[len] = *s;
                len++;
            }
        }
        if (out == NULL && (out = malloc(len + 1)) == NULL)
            return NULL;
    }
    out[len] = '\0';
    return out;
}

char *
lm_rt_ip_literal(const char *addr)
{
    size_t n = strlen(addr);
    char *out;

    if (n >= 2 && addr[0] == '[' && addr[n - 1] == ']') {
        addr++;
        n -= 2;
    }
    if (memchr(addr, ':', n) == NULL || (n >= 5 && strncmp(addr, "IPv6:", 5) == 0))
        return strndup(addr, n);
    out = malloc(n + 6);
    if (out != NULL) {
        memcpy(out, "IPv6:", 5);
        memcpy(out + 5, addr, n);
        out[n + 5] = '\0';
    }
    return out;
}

int
lm_rt_local_target(const char *rcpt, const struct lm_rt_params *p)
{
    size_t n = strlen(rcpt), lit;
    const char *s = rcpt, *e = rcpt + n, *at = NULL, *q;
    int quoted = 0;

    if (n >= 2 && s[0] == '<' && e[-1] == '>') {
        s++;
        e--;
    }
    /* A source route "@a,@b:mailbox" ends at the first colon outside quotes. */
    if (s < e && *s == '@') {
        q = memchr(s, ':', (size_t)(e - s));
        if (q != NULL)
            s = q + 1;
    }
    for (q = s; q < e; q++) {
        if (*q == '\\' && quoted && q + 1 < e)
            q++;
        else if (*q == '"')
            quoted = !quoted;
        else if (*q == '@' && !quoted)
            at = q;
    }
    if (at == NULL)
        return 1;       /* no domain: the server qualifies it with its own */
    at++;
    n = (size_t)(e - at);
    if (p->server_name != NULL && strlen(p->server_name) == n
        && strncasecmp(at, p->server_name, n) == 0)
        return 1;
    if (p->server_ip != NULL && n >= 2 && at[0] == '[' && at[n - 1] == ']') {
        lit = strlen(p->server_ip);
        if (lit == n - 2 && strncasecmp(at + 1, p->server_ip, lit) == 0)
            return 1;
    }
    return 0;
}

/* ---- the session ---------------------------------------------------------- */

struct relaytest_run {
    const struct lm_rt_opts *o;
    struct lm_rt_report *rep;
    struct lm_rt_params par;    /* with S and I filled in */
    struct lm_smtp_conn c;
    int open;
};

static void
relaytest_close(struct relaytest_run *run)
{
    if (run->open)
        lm_smtp_close(&run->c, run->o->timeout_ms);
    run->open = 0;
}

/* Send a command and read its reply; on failure the session is closed. */
static int
relaytest_cmd(struct relaytest_run *run, const char *cmd, struct lm_smtp_reply *r)
{
    int rc;

    r->code = 0;
    r->text = NULL;
    r->nlines = 0;
    rc = lm_smtp_send(&run->c, cmd, run->o->timeout_ms);
    if (rc == LM_SMTP_OK)
        rc = lm_smtp_read_reply(&run->c, r, run->o->timeout_ms);
    if (rc == LM_SMTP_OK && r->code == 421) {
        /* The server is closing the session: believe it. */
        relaytest_close(run);
    } else if (rc != LM_SMTP_OK) {
        relaytest_close(run);
    }
    return rc;
}

/* A dotted host name: "ESMTP" or "ready" in a banner is not the server's name. */
static int
relaytest_is_hostname(const char *s, size_t n)
{
    size_t i;

    if (n < 3 || n > 255 || s[0] == '.' || s[n - 1] == '.' || memchr(s, '.', n) == NULL)
        return 0;
    for (i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '.' && s[i] != '_')
            return 0;
    return 1;
}

/* The second word of a reply's first line ("220 mx.example.org ESMTP"). */
static char *
relaytest_reply_name(const char *text)
{
    const char *s, *e;

    if (text == NULL || strlen(text) < 4)
        return NULL;
    s = text + 4;
    while (*s == ' ')
        s++;
    e = s;
    while (*e != '\0' && *e != ' ' && *e != '\n')
        e++;
    if (!relaytest_is_hostname(s, (size_t)(e - s)))
        return NULL;
    return strndup(s, (size_t)(e - s));
}

/* Open a session: connect, banner, EHLO (HELO when refused).  On failure
 * the session is closed and *why holds the reply or the error (owned). */
static int
relaytest_greet(struct relaytest_run *run, char **why, char **helo_name)
{
    const struct lm_rt_opts *o = run->o;
    struct lm_smtp_reply r;
    size_t len;
    char *cmd;
    int rc;

    *why = NULL;
    rc = lm_smtp_open(&run->c, &o->target, o->timeout_ms);
    if (rc != LM_SMTP_OK) {
        *why = strdup(run->c.err);
        return rc;
    }
    run->open = 1;
    run->rep->connects++;
    /* A command run through a pipe may print notices before its banner. */
    run->c.skip_noise = o->target.kind == LM_SMTP_PIPE;
    rc = lm_smtp_read_reply(&run->c, &r, o->timeout_ms);
    run->c.skip_noise = 0;
    if (rc != LM_SMTP_OK) {
        *why = strdup(run->c.err);
        lm_smtp_reply_fini(&r);
        relaytest_close(run);
        return rc;
    }
    if (run->rep->banner == NULL)
        run->rep->banner = r.text != NULL ? strdup(r.text) : NULL;
    if (r.code != 220) {
        len = strlen(r.text) + 40;
        if ((*why = malloc(len)) != NULL)
            snprintf(*why, len, "the server refused the session: %s", r.text);
        lm_smtp_reply_fini(&r);
        relaytest_close(run);
        return LM_SMTP_ECONNECT;
    }
    lm_smtp_reply_fini(&r);

    len = strlen(o->helo) + 6;
    if ((cmd = malloc(len)) == NULL) {
        relaytest_close(run);
        *why = NULL;
        return LM_SMTP_EPROTOCOL;
    }
    snprintf(cmd, len, "EHLO %s", o->helo);
    rc = relaytest_cmd(run, cmd, &r);
    if (rc == LM_SMTP_OK && r.code / 100 == 2) {
        run->rep->esmtp = 1;
    } else if (rc == LM_SMTP_OK && r.code / 100 == 5) {
        lm_smtp_reply_fini(&r);
        snprintf(cmd, len, "HELO %s", o->helo);
        rc = relaytest_cmd(run, cmd, &r);
    }
    free(cmd);
    if (rc != LM_SMTP_OK) {
        *why = strdup(run->c.err);
        lm_smtp_reply_fini(&r);
        return rc;
    }
    if (r.code / 100 != 2) {
        len = strlen(r.text) + 40;
        if ((*why = malloc(len)) != NULL)
            snprintf(*why, len, "the server refused the greeting: %s", r.text);
        lm_smtp_reply_fini(&r);
        relaytest_close(run);
        return r.code == 421 || r.code == 554 ? LM_SMTP_ECONNECT : LM_SMTP_EPROTOCOL;
    }
    if (helo_name != NULL)
        *helo_name = relaytest_reply_name(r.text);
    lm_smtp_reply_fini(&r);
    return LM_SMTP_OK;
}

static enum lm_rt_verdict
relaytest_classify(int code)
{
    switch (code / 100) {
    case 2: return LM_RT_RELAYED;
    case 4: return LM_RT_TEMPFAIL;
    case 5: return LM_RT_DENIED;
    default: return LM_RT_ERROR;
    }
}

static void
relaytest_set_error(struct lm_rt_result *res, int err, const char *text)
{
    if (res->error != LM_SMTP_OK)
        return;
    res->error = (enum lm_smtp_err)err;
    free(res->error_text);
    res->error_text = text != NULL ? strdup(text) : NULL;
}

/* Build "VERB:arg" into a fresh string. */
static char *
relaytest_verb(const char *verb, const char *arg)
{
    size_t len = strlen(verb) + strlen(arg) + 1;
    char *s = malloc(len);

    if (s != NULL)
        snprintf(s, len, "%s%s", verb, arg);
    return s;
}

/* One probe on the open session.  Returns -1 when out of memory. */
static int
relaytest_probe(struct relaytest_run *run, struct lm_rt_result *res)
{
    const struct lm_rt_probe *pr = res->probe;
    struct lm_smtp_reply r;
    char *cmd;
    size_t i;
    int rc, any_relayed = 0, any_temp = 0, any_error = 0, all_local = 1;

    res->from = lm_rt_expand(pr->from, &run->par);
    if (res->from == NULL)
        return -1;
    for (i = 0; i < LM_RT_MAXRCPT && pr->rcpt[i] != NULL; i++) {
        res->rcpt[i].to = lm_rt_expand(pr->rcpt[i], &run->par);
        if (res->rcpt[i].to == NULL)
            return -1;
        res->rcpt[i].local_target = lm_rt_local_target(res->rcpt[i].to, &run->par);
        res->nrcpt++;
    }

    if ((cmd = relaytest_verb("MAIL FROM:", res->from)) == NULL)
        return -1;
    rc = relaytest_cmd(run, cmd, &res->mail);
    free(cmd);
    if (rc != LM_SMTP_OK) {
        relaytest_set_error(res, rc, run->c.err);
        res->verdict = LM_RT_ERROR;
        res->at_mail = 1;
        return 0;
    }
    if (res->mail.code / 100 != 2) {
        res->verdict = relaytest_classify(res->mail.code);
        if (res->verdict == LM_RT_RELAYED || res->verdict == LM_RT_ERROR) {
            /* 1xx/3xx to MAIL FROM is not SMTP. */
            res->verdict = LM_RT_ERROR;
            relaytest_set_error(res, LM_SMTP_EPROTOCOL, "unexpected reply to MAIL FROM");
        }
        res->at_mail = 1;
    } else {
        for (i = 0; i < res->nrcpt && run->open; i++) {
            struct lm_rt_rcpt *rr = &res->rcpt[i];

            if ((cmd = relaytest_verb("RCPT TO:", rr->to)) == NULL)
                return -1;
            rc = relaytest_cmd(run, cmd, &rr->reply);
            free(cmd);
            rr->sent = 1;
            if (rc != LM_SMTP_OK) {
                rr->verdict = LM_RT_ERROR;
                relaytest_set_error(res, rc, run->c.err);
                break;
            }
            rr->verdict = relaytest_classify(rr->reply.code);
            if (rr->verdict == LM_RT_ERROR)
                relaytest_set_error(res, LM_SMTP_EPROTOCOL, "unexpected reply to RCPT TO");
        }
        for (i = 0; i < res->nrcpt; i++) {
            struct lm_rt_rcpt *rr = &res->rcpt[i];

            if (!rr->sent) {
                any_error = 1;      /* cut short: this probe is inconclusive */
                continue;
            }
            if (rr->verdict == LM_RT_RELAYED) {
                any_relayed = 1;
                all_local &= rr->local_target;
            }
            any_temp |= rr->verdict == LM_RT_TEMPFAIL;
            any_error |= rr->verdict == LM_RT_ERROR;
        }
        if (any_relayed) {
            res->verdict = LM_RT_RELAYED;
            res->maybe_local = all_local;
        } else if (any_error) {
            res->verdict = LM_RT_ERROR;
            if (res->error == LM_SMTP_OK)
                relaytest_set_error(res, LM_SMTP_EDROPPED, "the session ended before "
                                    "every recipient was tried");
        } else if (any_temp) {
            res->verdict = LM_RT_TEMPFAIL;
        } else {
            res->verdict = LM_RT_DENIED;
        }
    }

    /* End the transaction; a session that does not take RSET is not reused. */
    if (run->open) {
        rc = relaytest_cmd(run, "RSET", &r);
        if (rc == LM_SMTP_OK && r.code / 100 != 2)
            relaytest_close(run);
        lm_smtp_reply_fini(&r);
    }
    return 0;
}

static void
relaytest_quit(struct relaytest_run *run)
{
    struct lm_smtp_reply r;

    if (!run->open)
        return;
    relaytest_cmd(run, "QUIT", &r);
    lm_smtp_reply_fini(&r);
    relaytest_close(run);
}

static int
relaytest_setup(const struct lm_rt_opts *o, struct relaytest_run *run, struct lm_diags *d)
{
    const struct lm_rt_params *p = &o->params;

    if (o->helo == NULL || lm_rt_check_value("HELO name", o->helo, d) < 0)
        return o->helo == NULL ? lm_diag_add(d, LM_ERROR, LM_E_USAGE, NULL,
                                             "no HELO name given") : -1;
    if ((p->server_name != NULL && lm_rt_check_value("server name", p->server_name, d) < 0)
        || (p->server_ip != NULL && lm_rt_check_value("server IP", p->server_ip, d) < 0)
        || lm_rt_check_value("local user", p->local_user, d) < 0
        || lm_rt_check_value("outside domain", p->outside_domain, d) < 0
        || lm_rt_check_value("outside user", p->outside_user, d) < 0)
        return -1;
    if (o->timeout_ms <= 0)
        return lm_diag_add(d, LM_ERROR, LM_E_USAGE, NULL, "the timeout must be positive");
    if (o->target.kind != LM_SMTP_TCP && p->server_ip == NULL)
        return lm_diag_add(d, LM_ERROR, LM_E_USAGE, NULL, "the server's IP address is "
                           "unknown over a pipe or a UNIX socket: give it (--server-ip)");
    if (o->target.kind == LM_SMTP_TCP && o->target.host == NULL)
        return lm_diag_add(d, LM_ERROR, LM_E_USAGE, NULL, "no server given");
    run->o = o;
    run->par = *p;
    return 0;
}

static void
relaytest_count(struct lm_rt_report *rep)
{
    size_t i;

    rep->nrelayed = rep->ndenied = rep->ntempfail = rep->nerror = rep->nnotrun = 0;
    for (i = 0; i < rep->n; i++) {
        const struct lm_rt_result *res = &rep->r[i];

        switch (res->verdict) {
        case LM_RT_RELAYED:  rep->nrelayed++; break;
        case LM_RT_DENIED:   rep->ndenied++; break;
        case LM_RT_TEMPFAIL: rep->ntempfail++; break;
        case LM_RT_ERROR:    rep->nerror++; break;
        case LM_RT_NOTRUN:   rep->nnotrun++; break;
        }
        if (res->error != LM_SMTP_OK && rep->worst == LM_SMTP_OK)
            rep->worst = res->error;
    }
}

int
lm_relaytest_run(const struct lm_rt_opts *o, struct lm_rt_report *rep, struct lm_diags *d)
{
    struct relaytest_run run;
    char *why = NULL, *ehlo_name = NULL, *s;
    size_t reconnect_fails = 0, probe_fails = 0;
    enum lm_smtp_err stop = LM_SMTP_OK;
    int num, rc;

    memset(rep, 0, sizeof *rep);
    memset(&run, 0, sizeof run);
    run.rep = rep;
    if (relaytest_setup(o, &run, d) < 0) {
        rep->fail = LM_SMTP_ECONNECT;
        return -1;
    }

    rc = relaytest_greet(&run, &why, &ehlo_name);
    if (o->target.kind == LM_SMTP_TCP) {
        size_t len = strlen(o->target.host) + 64;
        if ((rep->peer = malloc(len)) != NULL)
            snprintf(rep->peer, len, "%s port %s", run.c.peer_ip[0] ? run.c.peer_ip
                     : o->target.host, o->target.port ? o->target.port : "25");
    } else {
        const char *what = o->target.kind == LM_SMTP_PIPE ? o->target.command
                           : o->target.path;
        size_t len = strlen(what) + 8;
        if ((rep->peer = malloc(len)) != NULL)
            snprintf(rep->peer, len, "%s %s", o->target.kind == LM_SMTP_PIPE ? "pipe"
                     : "unix", what);
    }
    if (rc != LM_SMTP_OK) {
        rep->fail = (enum lm_smtp_err)rc;
        lm_diag_add(d, LM_ERROR, rc == LM_SMTP_EPROTOCOL ? LM_E_FORMAT : LM_E_NOINPUT, NULL,
                    "%s", why != NULL ? why : "cannot start the SMTP session");
        free(why);
        free(ehlo_name);
        return -1;
    }

    /* I: as given, else the address we are connected to. */
    if (o->params.server_ip != NULL)
        rep->server_ip = lm_rt_ip_literal(o->params.server_ip);
    else
        rep->server_ip = lm_rt_ip_literal(run.c.peer_ip);
    /* S: as given, else the name in the banner, in the EHLO reply, or [I]. */
    if (o->params.server_name != NULL)
        rep->server_name = strdup(o->params.server_name);
    else if ((s = relaytest_reply_name(rep->banner)) != NULL)
        rep->server_name = s;
    else if (ehlo_name != NULL)
        rep->server_name = strdup(ehlo_name);
    else if (rep->server_ip != NULL && rep->server_ip[0] != '\0'
             && (rep->server_name = malloc(strlen(rep->server_ip) + 3)) != NULL)
        sprintf(rep->server_name, "[%s]", rep->server_ip);
    free(ehlo_name);
    if (rep->server_ip == NULL || rep->server_name == NULL || rep->server_ip[0] == '\0') {
        relaytest_quit(&run);
        rep->fail = LM_SMTP_ECONNECT;
        return lm_diag_add(d, LM_ERROR, LM_E_USAGE, NULL, "cannot tell the server's IP "
                           "address: give it (--server-ip)");
    }
    run.par.server_name = rep->server_name;
    run.par.server_ip = rep->server_ip;

    for (num = 0; num < LM_RT_NPROBES; num++) {
        struct lm_rt_result *res;

        if (o->only != 0 && !(o->only & (1UL << num)))
            continue;
        res = &rep->r[rep->n++];
        res->num = num;
        res->probe = lm_rt_probe_get(num);
        if (stop != LM_SMTP_OK) {
            res->verdict = LM_RT_NOTRUN;
            relaytest_set_error(res, stop, stop == LM_SMTP_ECONNECT
                                ? "not run: the server could not be reached again"
                                : "not run: the server failed three probes in a row");
            continue;
        }
        if (!run.open) {
            rc = relaytest_greet(&run, &why, NULL);
            if (rc != LM_SMTP_OK) {
                res->verdict = LM_RT_ERROR;
                relaytest_set_error(res, rc, why);
                free(why);
                why = NULL;
                if (++reconnect_fails >= RELAYTEST_MAX_RECONNECT_FAILS)
                    stop = LM_SMTP_ECONNECT;
                continue;
            }
        }
        reconnect_fails = 0;
        if (relaytest_probe(&run, res) < 0) {
            relaytest_close(&run);
            relaytest_count(rep);
            return lm_diag_add(d, LM_ERROR, LM_E_NOMEM, NULL, "out of memory");
        }
        probe_fails = res->verdict == LM_RT_ERROR ? probe_fails + 1 : 0;
        if (probe_fails >= RELAYTEST_MAX_PROBE_FAILS)
            stop = res->error;
    }
    relaytest_quit(&run);
    relaytest_count(rep);
    return 0;
}

void
lm_rt_report_fini(struct lm_rt_report *rep)
{
    size_t i, j;

    if (rep == NULL)
        return;
    for (i = 0; i < rep->n; i++) {
        struct lm_rt_result *res = &rep->r[i];

        free(res->from);
        lm_smtp_reply_fini(&res->mail);
        for (j = 0; j < res->nrcpt; j++) {
            free(res->rcpt[j].to);
            lm_smtp_reply_fini(&res->rcpt[j].reply);
        }
        free(res->error_text);
    }
    free(rep->banner);
    free(rep->server_name);
    free(rep->server_ip);
    free(rep->peer);
    memset(rep, 0, sizeof *rep);
}
