/*
 * relaytest - probe an SMTP server for open relay: the baseline test and
 * the 19 address tricks, each as MAIL FROM, RCPT TO, RSET; never DATA.
 * Options in, lm_relaytest_run, a table or JSON out.  Exit status: 0 no
 * probe relayed, 1 some probe relayed, 2 none relayed but some were
 * temp-failed, 64 usage, 69 could not connect, 75 timeout, 76 protocol
 * error, 71 out of memory (relaytest(8)).
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "libmap/relaytest.h"
#include "tools/tool.h"

static const char relaytest_usage[] =
    "usage: relaytest [options] HOST[:PORT]\n"
    "       relaytest [options] --pipe 'COMMAND' --server-ip ADDR\n"
    "       relaytest [options] --unix PATH --server-ip ADDR\n"
    "       relaytest --list\n"
    "Runs the 20 open-relay probes (MAIL FROM, RCPT TO, RSET; never DATA).\n"
    "  -s, --source ADDR          bind this local address\n"
    "      --pipe COMMAND         speak SMTP to COMMAND's stdin/stdout (sh -c)\n"
    "      --unix PATH            connect to a UNIX socket\n"
    "      --server-name NAME     S: the server's name (default: from the banner)\n"
    "      --server-ip ADDR       I: the server's IP (default: the peer address)\n"
    "      --local-user USER      L: a local user (default: postmaster)\n"
    "      --outside-domain DOM   X: an outside domain (default: example.com)\n"
    "      --outside-user USER    x: an outside user (default: relaytest)\n"
    "      --helo NAME            EHLO/HELO name (default: this host's name)\n"
    "      --only LIST            run these probes only (8,9,15 or 0-7)\n"
    "  -t, --timeout SECONDS      per connect and command (default: 30)\n"
    "  -j, --json                 JSON instead of a table\n"
    "  -l, --list                 print the probe table and exit\n"
    "Exit: 0 none relayed, 1 relayed, 2 temp-failed only, 64 usage, 69 cannot\n"
    "connect, 75 timeout, 76 protocol error.\n";

struct relaytest_opts {
    struct lm_rt_opts rt;
    int json, list;
    char *host, *port;
};

static int
relaytest_parse_only(const char *s, unsigned long *mask)
{
    char *end;
    long a, b;

    *mask = 0;
    for (;;) {
        a = strtol(s, &end, 10);
        if (end == s || a < 0 || a >= LM_RT_NPROBES)
            return -1;
        b = a;
        if (*end == '-') {
            s = end + 1;
            b = strtol(s, &end, 10);
            if (end == s || b < a || b >= LM_RT_NPROBES)
                return -1;
        }
        for (; a <= b; a++)
            *mask |= 1UL << a;
        if (*end == '\0')
            return 0;
        if (*end != ',')
            return -1;
        s = end + 1;
    }
}

static int
relaytest_getopt(int argc, char **argv, struct relaytest_opts *o, struct lm_diags *d)
{
    static const struct option longs[] = {
        { "source", 1, NULL, 's' }, { "pipe", 1, NULL, 'P' }, { "unix", 1, NULL, 'U' },
        { "server-name", 1, NULL, 'S' }, { "server-ip", 1, NULL, 'I' },
        { "local-user", 1, NULL, 'L' }, { "outside-domain", 1, NULL, 'X' },
        { "outside-user", 1, NULL, 'x' }, { "helo", 1, NULL, 'H' },
        { "only", 1, NULL, 'o' }, { "timeout", 1, NULL, 't' }, { "json", 0, NULL, 'j' },
        { "list", 0, NULL, 'l' }, { "help", 0, NULL, 'h' }, { "version", 0, NULL, 'V' },
        { NULL, 0, NULL, 0 }
    };
    static char hostname[256];
    struct lm_rt_opts *rt = &o->rt;
    char *end;
    double secs;
    int c;

    memset(o, 0, sizeof *o);
    rt->timeout_ms = 30000;
    rt->params.local_user = "postmaster";
    rt->params.outside_domain = "example.com";
    rt->params.outside_user = "relaytest";
    while ((c = getopt_long(argc, argv, ":s:t:jlh", longs, NULL)) != -1) {
        switch (c) {
        case 's': rt->target.source = optarg; break;
        case 'P': rt->target.kind = LM_SMTP_PIPE; rt->target.command = optarg; break;
        case 'U': rt->target.kind = LM_SMTP_UNIX; rt->target.path = optarg; break;
        case 'S': rt->params.server_name = optarg; break;
        case 'I': rt->params.server_ip = optarg; break;
        case 'L': rt->params.local_user = optarg; break;
        case 'X': rt->params.outside_domain = optarg; break;
        case 'x': rt->params.outside_user = optarg; break;
        case 'H': rt->helo = optarg; break;
        case 'j': o->json = 1; break;
        case 'l': o->list = 1; break;
        case 'o':
            if (relaytest_parse_only(optarg, &rt->only) < 0)
                return tool_usage_error("--only %s: want probe numbers 0-%d, like 8,9,15 "
                                        "or 0-7", optarg, LM_RT_NPROBES - 1);
            break;
        case 't':
            secs = strtod(optarg, &end);
            if (end == optarg || *end != '\0' || !(secs > 0 && secs <= 3600))
                return tool_usage_error("--timeout %s: want seconds, more than 0 and at "
                                        "most 3600", optarg);
            rt->timeout_ms = (int)(secs * 1000 + 0.5);
            if (rt->timeout_ms == 0)
                rt->timeout_ms = 1;
            break;
        case 'h': fputs(relaytest_usage, stdout); exit(0);
        case 'V': tool_version(); exit(0);
        default: return tool_getopt_error(c, argv);
        }
    }
    if (o->list)
        return optind == argc ? 0 : tool_usage_error("--list takes no server");
    if (rt->params.server_ip != NULL) {
        /* It is written into probes (the IP literal as sender): an address
         * or nothing. */
        unsigned char buf[sizeof(struct in6_addr)];
        if (inet_pton(AF_INET, rt->params.server_ip, buf) != 1
            && inet_pton(AF_INET6, rt->params.server_ip, buf) != 1)
            return tool_usage_error("--server-ip %s: want an IPv4 or IPv6 address",
                                    rt->params.server_ip);
    }
    if (rt->target.kind == LM_SMTP_TCP) {
        if (optind + 1 != argc)
            return tool_usage_error(optind == argc ? "no server given" : "one server only");
        if (lm_smtp_parse_hostport(argv[optind], &o->host, &o->port, d) < 0)
            return EX_USAGE;
        rt->target.host = o->host;
        rt->target.port = o->port;
    } else if (optind != argc || (rt->target.command && rt->target.path)) {
        return tool_usage_error("--pipe and --unix replace HOST[:PORT]; give one of them");
    } else if (rt->target.source != NULL) {
        return tool_usage_error("--source applies to TCP only");
    }
    if (rt->helo == NULL) {
        if (gethostname(hostname, sizeof hostname - 1) == 0 && hostname[0] != '\0')
            rt->helo = hostname;
        else
            rt->helo = "relaytest.invalid";
    }
    return 0;
}

static int
relaytest_exit(int rc, const struct lm_rt_report *rep, const struct lm_diags *d)
{
    int timeout = 0, conn = 0, proto = 0;
    size_t i;

    if (rc < 0) {
        switch (lm_diags_first_code(d)) {
        case LM_E_USAGE: return EX_USAGE;
        case LM_E_NOMEM: return EX_OSERR;
        default: break;
        }
        return rep->fail == LM_SMTP_ETIMEOUT ? EX_TEMPFAIL
             : rep->fail == LM_SMTP_EPROTOCOL ? EX_PROTOCOL : EX_UNAVAILABLE;
    }
    if (rep->nrelayed > 0)
        return 1;
    for (i = 0; i < rep->n; i++) {
        timeout |= rep->r[i].error == LM_SMTP_ETIMEOUT;
        conn |= rep->r[i].error == LM_SMTP_ECONNECT;
        proto |= rep->r[i].error == LM_SMTP_EPROTOCOL || rep->r[i].error == LM_SMTP_EDROPPED;
    }
    if (timeout)
        return EX_TEMPFAIL;
    if (conn)
        return EX_UNAVAILABLE;
    if (proto)
        return EX_PROTOCOL;
    return rep->ntempfail > 0 ? 2 : 0;
}

int
main(int argc, char **argv)
{
    struct relaytest_opts o;
    struct lm_rt_report rep;
    struct lm_diags d;
    int rc, code, i;

    tool_init(argv[0], "[options] HOST[:PORT], or --pipe CMD|--unix PATH --server-ip ADDR, or --list");
    tool_diags_init(&d);
    if ((rc = relaytest_getopt(argc, argv, &o, &d)) != 0) {
        lm_diags_fini(&d);
        return rc;
    }
    if (o.list) {
        for (i = 0; i < LM_RT_NPROBES; i++) {
            const struct lm_rt_probe *p = lm_rt_probe_get(i);
            printf("%2d  %-18s %-46s MAIL FROM:%s  RCPT TO:%s%s%s\n", p->num, p->name,
                   p->what, p->from, p->rcpt[0], p->rcpt[1] ? "  RCPT TO:" : "",
                   p->rcpt[1] ? p->rcpt[1] : "");
        }
        lm_diags_fini(&d);
        return 0;
    }
    /* A child that exits early must read as a dropped connection. */
    signal(SIGPIPE, SIG_IGN);
    rc = lm_relaytest_run(&o.rt, &rep, &d);
    code = relaytest_exit(rc, &rep, &d);
    if (o.json || rc == 0)
        lm_rt_report_print(stdout, &rep, o.json, rc < 0, code);
    lm_rt_report_fini(&rep);
    lm_diags_fini(&d);
    free(o.host);
    free(o.port);
    return code;
}
