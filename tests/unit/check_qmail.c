/*
 * check_qmail.c - the qmail codec: tcp.smtp as tcprules reads it (ranges,
 * =host, =.suffix, info@, the empty key, deny, assignments with any
 * delimiter, RELAYCLIENT), rcpthosts, telling the two files apart, every
 * error and never-matching key with file:line, the written text for known
 * policies, loss reports, and seeded round trips compared with lm_decide().
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libmap/codec.h"
#include "libmap/policy.h"
#include "libmap/source.h"
#include "tests/unit/testutil.h"

#define FOREIGN "user@elsewhere.example"

/* Parse TEXT as the file NAME into p (created when NULL). */
static struct lm_policy *
qm_parse(struct lm_policy *p, const char *name, const char *text, struct lm_diags *d,
         int *rc)
{
    struct lm_source *s;

    if (p == NULL) {
        lm_diags_init(d);
        p = lm_policy_new(d);
        ck_assert_ptr_nonnull(p);
    }
    s = lm_source_mem(name, text, strlen(text), d);
    ck_assert_ptr_nonnull(s);
    *rc = lm_codec_qmail.parse(s, p, d);
    lm_source_close(s);
    return p;
}

static struct lm_policy *
qm_ok(const char *tcp, const char *rcpt)
{
    struct lm_diags d;
    struct lm_policy *p;
    int rc;

    p = qm_parse(NULL, "tcp.smtp", tcp, &d, &rc);
    ck_assert_int_eq(rc, 0);
    if (rcpt != NULL) {
        qm_parse(p, "rcpthosts", rcpt, &d, &rc);
        ck_assert_int_eq(rc, 0);
    }
    ck_assert_uint_eq(d.nerrors, 0);
    lm_diags_fini(&d);
    return p;
}

/* Emit P; *rcpt gets the rcpthosts text, *bmf (unless NULL) the
 * badmailfrom text.  All malloc'd. */
static char *
qm_emit(const struct lm_policy *p, struct lm_losses *l, char **rcpt, char **bmf)
{
    struct lm_diags d;
    char *buf = NULL, *rbuf = NULL, *bbuf = NULL;
    size_t len = 0, rlen = 0, blen = 0;
    FILE *outs[3];

    ck_assert_uint_eq(lm_codec_noutputs(&lm_codec_qmail), 3);
    outs[0] = open_memstream(&buf, &len);
    outs[1] = open_memstream(&rbuf, &rlen);
    outs[2] = open_memstream(&bbuf, &blen);
    lm_diags_init(&d);
    lm_losses_init(l);
    ck_assert_int_eq(lm_codec_qmail.emit(p, NULL, outs, l, &d), 0);
    ck_assert_uint_eq(d.nerrors, 0);
    fclose(outs[0]);
    fclose(outs[1]);
    fclose(outs[2]);
    lm_diags_fini(&d);
    *rcpt = rbuf;
    if (bmf != NULL)
        *bmf = bbuf;
    else
        free(bbuf);
    return buf;
}

static enum lm_verdict_kind
qm_ask(const struct lm_policy *p, const char *ip, const char *host, const char *info,
       const char *to)
{
    struct lm_query q;
    struct lm_verdict v;

    memset(&q, 0, sizeof q);
    if (ip != NULL)
        ck_assert_int_eq(lm_ipaddr_parse(ip, strlen(ip), LM_IPF_V4 | LM_IPF_V6, &q.ip,
                                         NULL, NULL), 0);
    q.host = host;
    q.info = info;
    q.sender = "someone@sender.example";
    q.rcpt = to;
    lm_decide(p, &q, &v);
    return v.kind;
}

/* reference/samples/tcprules/tcp.smtp */
static const char qm_sample[] =
    "# sample tcp.smtp for ucspi-tcp 0.88 tcprules\n"               /* 1 */
    "127.0.0.1:allow,RELAYCLIENT=\"\"\n"                            /* 2 */
    "\n"                                                            /* 3 */
    "# prefix with trailing dot\n"                                  /* 4 */
    "192.168.:allow,RELAYCLIENT=\"\"\n"                             /* 5 */
    "10.1.2.:allow,RELAYCLIENT=\"\",RBLSMTPD=\"\"\n"                /* 6 */
    "1.2.3.4-7:allow,RELAYCLIENT=\"\"\n"                            /* 7 */
    "10.2-3.:deny\n"                                                /* 8 */
    "=host.example.com:allow,RELAYCLIENT=\"@fix.me\"\n"             /* 9 */
    "=.example.org:allow,SMTPGREETING=/hello there/\n"              /* 10 */
    "joe@10.9.9.9:allow,X='a\"b'\n"                                 /* 11 */
    "=:allow,QMAILQUEUE=\"/var/qmail/bin/qmail-scanner-queue.pl\"\n"    /* 12 */
    "203.0.113.5:deny\n"                                            /* 13 */
    ":allow\n";                                                     /* 14 */

START_TEST(parse_reference_sample)
{
    struct lm_policy *p = qm_ok(qm_sample, NULL);
    const struct lm_rule *r;

    ck_assert_ptr_eq(p->order, lm_codec_qmail.order);
    ck_assert_uint_eq(p->nrules, 15);
    ck_assert_uint_eq(tu_count_line(p, 7), 4);     /* one rule per expanded key */
    ck_assert_uint_eq(tu_count_line(p, 8), 2);
    r = tu_rule(p, 6);
    ck_assert_int_eq(r->action, LM_A_RELAY);
    ck_assert_uint_eq(r->nenv, 2);
    ck_assert_str_eq(r->env[1].name, "RBLSMTPD");
    ck_assert_uint_eq(r->net.prefix, 24);
    r = tu_rule(p, 9);
    ck_assert_int_eq(r->kind, LM_K_NAME);
    ck_assert_str_eq(r->pattern, "host.example.com");
    ck_assert_str_eq(lm_rule_getenv(r, "RELAYCLIENT"), "@fix.me");
    r = tu_rule(p, 10);
    ck_assert_int_eq(r->kind, LM_K_BELOW);
    ck_assert_int_eq(r->action, LM_A_OK);
    ck_assert_str_eq(lm_rule_getenv(r, "SMTPGREETING"), "hello there");
    r = tu_rule(p, 11);
    ck_assert_str_eq(r->info, "joe");
    ck_assert_str_eq(lm_rule_getenv(r, "X"), "a\"b");
    ck_assert_int_eq(tu_rule(p, 12)->kind, LM_K_ANYHOST);
    ck_assert_int_eq(tu_rule(p, 13)->action, LM_A_DENY);
    ck_assert_int_eq(tu_rule(p, 14)->kind, LM_K_ANY);
    /* the verdicts of reference/samples/tcprules/tcprulescheck.txt */
    ck_assert_int_eq(qm_ask(p, "127.0.0.1", NULL, NULL, FOREIGN), LM_V_RELAY);
    ck_assert_int_eq(qm_ask(p, "192.168.5.5", NULL, NULL, FOREIGN), LM_V_RELAY);
    ck_assert_int_eq(qm_ask(p, "1.2.3.5", NULL, NULL, FOREIGN), LM_V_RELAY);
    ck_assert_int_eq(qm_ask(p, "1.2.3.8", NULL, NULL, FOREIGN), LM_V_REFUSE);
    ck_assert_int_eq(qm_ask(p, "10.3.0.1", NULL, NULL, FOREIGN), LM_V_DENY);
    ck_assert_int_eq(qm_ask(p, "203.0.113.5", NULL, NULL, FOREIGN), LM_V_DENY);
    ck_assert_int_eq(qm_ask(p, "10.1.2.77", NULL, NULL, FOREIGN), LM_V_RELAY);
    ck_assert_int_eq(qm_ask(p, "10.9.9.9", NULL, "joe", FOREIGN), LM_V_REFUSE);
    ck_assert_int_eq(qm_ask(p, "8.8.8.8", "host.example.com", NULL, FOREIGN), LM_V_RELAY);
    ck_assert_int_eq(qm_ask(p, "8.8.8.8", "a.b.example.org", NULL, FOREIGN), LM_V_REFUSE);
    lm_policy_free(p);
}
END_TEST

START_TEST(parse_seed_and_rcpthosts)
{
    struct lm_diags d;
    int rc;
    /* the seed guide's tcp.smtp: its first key lacks the final dot */
    struct lm_policy *p = qm_parse(NULL, "tcp.smtp",
                                   "172.16.5:allow,RELAYCLIENT=\"\"\n"
                                   "127.0.0.1:allow,RELAYCLIENT=\"\"\n"
                                   ":allow\n", &d, &rc);

    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(p->rules[0].kind, LM_K_NEVER);
    ck_assert(tu_has_diag(&d, LM_WARNING, 1, "no trailing dot"));
    ck_assert_int_eq(qm_ask(p, "172.16.5.9", NULL, NULL, FOREIGN), LM_V_REFUSE);
    ck_assert_int_eq(qm_ask(p, "127.0.0.1", NULL, NULL, FOREIGN), LM_V_RELAY);
    qm_parse(p, "control/rcpthosts",
             "# ours\n"
             "Example.COM  \n"
             ".example.com\n"
             "example.net\n"
             " lead.example\n"
             "example.net\n", &d, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(p->ndomains, 3);
    ck_assert_str_eq(p->domains[0].name, "example.com");
    ck_assert_int_eq(p->domains[0].kind, LM_K_NAME);
    ck_assert_int_eq(p->domains[1].kind, LM_K_BELOW);
    ck_assert(tu_has_diag(&d, LM_WARNING, 5, "leading blank"));
    ck_assert(tu_has_diag(&d, LM_WARNING, 6, "listed twice"));
    ck_assert_int_eq(qm_ask(p, "8.8.8.8", NULL, NULL, "a@example.com"), LM_V_ACCEPT);
    ck_assert_int_eq(qm_ask(p, "8.8.8.8", NULL, NULL, "a@b.example.com"), LM_V_ACCEPT);
    ck_assert_int_eq(qm_ask(p, "8.8.8.8", NULL, NULL, "a@b.example.net"), LM_V_REFUSE);
    lm_diags_fini(&d);
    lm_policy_free(p);
}
END_TEST

START_TEST(parse_by_content)
{
    /* names that say nothing: the content tells tcp.smtp from rcpthosts */
    struct lm_diags d;
    int rc;
    struct lm_policy *p = qm_parse(NULL, "a", "10.:allow,RELAYCLIENT=\"\"\n", &d, &rc);

    qm_parse(p, "b", "# domains\nexample.com\n", &d, &rc);
    ck_assert_uint_eq(p->nrules, 1);
    ck_assert_uint_eq(p->ndomains, 1);
    lm_diags_fini(&d);
    lm_policy_free(p);
}
END_TEST

START_TEST(detect_scores)
{
    const char *tcp = "# x\n127.0.0.1:allow,RELAYCLIENT=\"\"\n:deny\n";
    const char *rh = "example.com\n.example.com\n";
    const char *acc = "Connect:10.1\tRELAY\n";
    const char *pol = "connect net 10.0.0.0/8 relay\n";

    ck_assert_int_eq(lm_codec_qmail.detect(NULL, tcp, strlen(tcp)), LM_DETECT_SURE);
    ck_assert_int_eq(lm_codec_qmail.detect(NULL, rh, strlen(rh)), LM_DETECT_LIKELY);
    ck_assert_int_eq(lm_codec_qmail.detect("/var/qmail/control/rcpthosts", rh, strlen(rh)),
                     LM_DETECT_SURE);
    ck_assert_int_eq(lm_codec_qmail.detect(NULL, acc, strlen(acc)), LM_DETECT_NO);
    ck_assert_int_eq(lm_codec_qmail.detect(NULL, pol, strlen(pol)), LM_DETECT_NO);
}
END_TEST

START_TEST(errors_and_never)
{
    struct lm_diags d;
    int rc;
    struct lm_policy *p = qm_parse(NULL, "tcp.smtp",
        "1.2.3.4:ALLOW\n"                       /* 1 verb case */
        "1.2.3.5:allow,X\n"                     /* 2 no = */
        "1.2.3.6:allow,X=\"y\n"                 /* 3 unclosed */
        "1.2.3.7:allow\r\n"                     /* 4 CR */
        "1.2.3.a-4:allow\n"                     /* 5 bad range */
        "1.2.3.7-4:allow\n"                     /* 6 empty range: warning */
        "1.2.3.8\n"                             /* 7 no colon: warning */
        "=HOST.example.com:deny\n"              /* 8 upper case: never */
        " 1.2.3.9:deny\n"                       /* 9 leading blank: never */
        "1.2.3.4.:deny\n"                       /* 10 four octets and a dot */
        "10.0.0.0/8:deny\n"                     /* 11 CIDR */
        "01.2.3.4:deny\n"                       /* 12 leading zero */
        "joe@1.2.3.:deny\n"                     /* 13 info with a prefix */
        "5.6.7.8:deny\n"                        /* 14 */
        "5.6.7.8:allow\n"                       /* 15 duplicate: warning */
        "1.2.3.4:allow ,X=\"y\"\n"              /* 16 blank after the verb */
        "1.2.3.250-300:deny\n", &d, &rc);       /* 17 upper bound cut at 255 */
    unsigned long line;

    ck_assert_int_eq(rc, -1);
    ck_assert_uint_eq(d.nerrors, 6);
    ck_assert(tu_has_diag(&d, LM_ERROR, 1, "\"allow\" or \"deny\""));
    ck_assert_uint_eq(d.v[0].col, 9);
    ck_assert_str_eq(d.v[0].file, "tcp.smtp");
    ck_assert(tu_has_diag(&d, LM_ERROR, 2, "no '='"));
    ck_assert(tu_has_diag(&d, LM_ERROR, 3, "not closed"));
    ck_assert(tu_has_diag(&d, LM_ERROR, 4, "CRLF"));
    ck_assert(tu_has_diag(&d, LM_ERROR, 5, "decimal numbers"));
    ck_assert(tu_has_diag(&d, LM_WARNING, 6, "empty"));
    ck_assert(tu_has_diag(&d, LM_WARNING, 7, "no colon"));
    for (line = 8; line <= 13; line++) {
        ck_assert_msg(tu_has_diag(&d, LM_WARNING, line, "never match"), "line %lu", line);
        ck_assert_int_eq(tu_rule(p, line)->kind, LM_K_NEVER);
    }
    ck_assert(tu_has_diag(&d, LM_WARNING, 8, "lower case"));
    ck_assert(tu_has_diag(&d, LM_WARNING, 15, "first defined at line 14"));
    ck_assert(tu_has_diag(&d, LM_ERROR, 16, "after the verb"));
    ck_assert_uint_eq(tu_count_line(p, 17), 6);
    /* the first of two identical keys decides */
    ck_assert_int_eq(qm_ask(p, "5.6.7.8", NULL, NULL, FOREIGN), LM_V_DENY);
    lm_diags_fini(&d);
    lm_policy_free(p);
}
END_TEST

/* --- emit ------------------------------------------------------------------------------ */

START_TEST(emit_networks)
{
    struct lm_policy *p = tu_neutral("connect net 10.0.0.0/8 deny\n"
                                     "connect net 10.1.0.0/16 relay\n"
                                     "connect net 1.2.3.0/25 relay\n"
                                     "connect net 192.168.0.0/20 relay set RBLSMTPD=\"\"\n"
                                     "connect net 127.0.0.1 relay\n"
                                     "connect name mx.example.com ok set A=\"say \\\"hi\\\"\"\n"
                                     "connect domain example.org reject\n"
                                     "connect anyhost ok set QMAILQUEUE=\"/bin/q\"\n"
                                     "default deny\n"
                                     "accept domain example.com\n"
                                     "accept name example.net\n"
                                     "accept subdomains example.edu\n"
                                     "to domain downstream.example relay\n");
    struct lm_losses l;
    char *rh, *out = qm_emit(p, &l, &rh, NULL);

    ck_assert_str_eq(out,
                     "1.2.3.0-127:allow,RELAYCLIENT=\"\"\n"
                     "10.:deny\n"
                     "10.1.:allow,RELAYCLIENT=\"\"\n"
                     "127.0.0.1:allow,RELAYCLIENT=\"\"\n"
                     "192.168.0-15.:allow,RELAYCLIENT=\"\",RBLSMTPD=\"\"\n"
                     "=mx.example.com:allow,A='say \"hi\"'\n"
                     "=example.org:deny\n"
                     "=.example.org:deny\n"
                     "=:allow,QMAILQUEUE=\"/bin/q\"\n"
                     ":deny\n");
    ck_assert_str_eq(rh, "example.com\n.example.com\nexample.net\n.example.edu\n"
                         "downstream.example\n.downstream.example\n");
    /* the /25 becomes single addresses, which tcpserver looks up before the
     * exact name mx.example.com: not what the neutral order says */
    ck_assert_uint_eq(l.n, 1);
    ck_assert_int_eq(l.v[0].kind, LM_LOSS_CHANGED);
    ck_assert_ptr_nonnull(strstr(l.v[0].why, "single addresses"));
    free(out);
    free(rh);
    lm_losses_fini(&l);
    lm_policy_free(p);
}
END_TEST

START_TEST(emit_losses)
{
    struct lm_policy *p = tu_neutral(
        "connect net 127.0.0.1 relay\n"                      /* 1 */
        "from user spam reject\n"                            /* 2 sender: dropped, widens */
        "from domain useful.org ok\n"                        /* 3 no effect: no loss */
        "connect net 10.0.0.0/8 error 550 5.7.1 \"go away\"\n"/* 4 text lost */
        "connect net 11.0.0.0/8 discard\n"                   /* 5 discard -> deny */
        "connect net 2001:db8::/32 reject\n"                 /* 6 IPv6 */
        "to address postmaster@example.com relay\n"          /* 7 recipient address */
        "local 192.0.2.1\n");                                /* 8 */
    struct lm_losses l;
    char *rh, *out = qm_emit(p, &l, &rh, NULL);
    size_t i;
    unsigned long lines[] = { 2, 4, 5, 6, 7, 8 };

    ck_assert_uint_eq(l.n, 6);
    for (i = 0; i < 6; i++)
        ck_assert_uint_eq(l.v[i].line, lines[i]);
    ck_assert_int_eq(l.v[0].widens, 1);
    ck_assert_int_eq(l.v[1].kind, LM_LOSS_CHANGED);
    ck_assert_int_eq(l.v[1].widens, 0);
    ck_assert_int_eq(l.v[2].widens, 0);
    ck_assert_int_eq(l.v[3].widens, 1);
    ck_assert_int_eq(l.v[4].widens, 0);
    ck_assert_ptr_nonnull(strstr(out, "10-11.:deny\n"));
    free(out);
    free(rh);
    lm_losses_fini(&l);
    lm_policy_free(p);
}
END_TEST

START_TEST(emit_from_sendmail)
{
    /* Sendmail: the loopback relays by itself, names come before addresses */
    struct lm_policy *p = tu_access("Connect:10\tREJECT\n"
                                    "Connect:10.1.2.3\tOK\n"
                                    "Connect:172.16.5\tRELAY\n"
                                    "To:example.com\tRELAY\n"
                                    "Connect:gw.example.com\tRELAY\n");
    struct lm_losses l;
    char *rh, *out = qm_emit(p, &l, &rh, NULL);

    ck_assert_str_eq(out, "10.:deny\n"
                          "10.1.2.3:allow\n"
                          "127.0.0.1:allow,RELAYCLIENT=\"\"\n"
                          "172.16.5.:allow,RELAYCLIENT=\"\"\n"
                          "=gw.example.com:allow,RELAYCLIENT=\"\"\n"
                          "=.gw.example.com:allow,RELAYCLIENT=\"\"\n");
    ck_assert_str_eq(rh, "example.com\n.example.com\n");
    /* a client in 10/8 named gw.example.com: Sendmail relays (the name first),
     * tcpserver denies (the prefix first) */
    ck_assert_uint_eq(l.n, 1);
    ck_assert_int_eq(l.v[0].kind, LM_LOSS_CHANGED);
    ck_assert_uint_eq(l.v[0].line, 5);
    ck_assert_int_eq(l.v[0].widens, 0);
    free(out);
    free(rh);
    lm_losses_fini(&l);
    lm_policy_free(p);
}
END_TEST

/* More network keys than the old fixed cap of 65536: the cap is relative
 * to the input now (16 keys per network rule plus 65536). */
START_TEST(emit_many_networks)
{
    size_t n = 70000, i, len = 0, lines = 0;
    char *text = malloc(n * 40 + 64), *out, *rh, *c;
    struct lm_policy *p;
    struct lm_losses l;

    ck_assert_ptr_nonnull(text);
    for (i = 0; i < n; i++)
        len += (size_t)sprintf(text + len, "connect net 10.%zu.%zu.%zu reject\n",
                               i / 32768, i / 128 % 256, i % 128 * 2);  /* no neighbours */
    p = tu_neutral(text);
    out = qm_emit(p, &l, &rh, NULL);
    ck_assert_msg(l.n == 0, "%s", l.n ? l.v[0].why : "");
    for (c = out; (c = strchr(c, '\n')) != NULL; c++)
        lines++;
    ck_assert_uint_eq(lines, n);
    free(out);
    free(rh);
    free(text);
    lm_losses_fini(&l);
    lm_policy_free(p);
}
END_TEST

/* --- badmailfrom ---------------------------------------------------------------------- */

static enum lm_verdict_kind
qm_ask_from(const struct lm_policy *p, const char *ip, const char *from, const char *to)
{
    struct lm_query q;
    struct lm_verdict v;

    memset(&q, 0, sizeof q);
    if (ip != NULL)
        ck_assert_int_eq(lm_ipaddr_parse(ip, strlen(ip), LM_IPF_V4, &q.ip, NULL, NULL), 0);
    q.sender = from;
    q.rcpt = to;
    lm_decide(p, &q, &v);
    return v.kind;
}

START_TEST(parse_badmailfrom)
{
    struct lm_diags d;
    int rc;
    struct lm_policy *p = qm_parse(NULL, "tcp.smtp", "10.:allow,RELAYCLIENT=\"\"\n", &d, &rc);

    ck_assert_int_eq(rc, 0);
    qm_parse(p, "control/badmailfrom",
             "# senders we refuse\n"          /* 1 */
             "Spam@Hacker.COM\n"              /* 2 address, folded */
             "@SpamMail.com \t\n"             /* 3 domain, trailing blanks go */
             "\n"                             /* 4 */
             "bob@\n"                         /* 5 never: no user@ entries */
             "nodomain\n"                     /* 6 never: no @ */
             "spam@hacker.com\n"              /* 7 repeat */
             " @lead.example\n", &d, &rc);    /* 8 never: leading blank */
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(d.nerrors, 0);
    ck_assert_int_eq(tu_rule(p, 2)->kind, LM_K_ADDR);
    ck_assert_str_eq(tu_rule(p, 2)->pattern, "spam@hacker.com");
    ck_assert_int_eq(tu_rule(p, 2)->stage, LM_S_FROM);
    ck_assert_int_eq(tu_rule(p, 2)->action, LM_A_REJECT);
    ck_assert_int_eq(tu_rule(p, 3)->kind, LM_K_NAME);
    ck_assert_str_eq(tu_rule(p, 3)->pattern, "spammail.com");
    ck_assert_int_eq(tu_rule(p, 5)->kind, LM_K_NEVER);
    ck_assert_int_eq(tu_rule(p, 6)->kind, LM_K_NEVER);
    ck_assert_int_eq(tu_rule(p, 8)->kind, LM_K_NEVER);
    ck_assert_uint_eq(tu_count_line(p, 7), 0);
    ck_assert(tu_has_diag(&d, LM_WARNING, 5, "user@"));
    ck_assert(tu_has_diag(&d, LM_WARNING, 6, "no \"@\""));
    ck_assert(tu_has_diag(&d, LM_WARNING, 7, "listed twice (first at line 2)"));
    ck_assert(tu_has_diag(&d, LM_WARNING, 8, "blank"));
    ck_assert_int_eq(lm_policy_index(p, &d), 0);
    /* qmail-smtpd refuses every recipient of a listed sender, a relay
     * client's and a local one's too; exact matches only */
    ck_assert_int_eq(qm_ask_from(p, "10.1.1.1", "SPAM@hacker.com", FOREIGN), LM_V_REJECT);
    ck_assert_int_eq(qm_ask_from(p, "10.1.1.1", "x@spammail.com", "postmaster"), LM_V_REJECT);
    ck_assert_int_eq(qm_ask_from(p, "10.1.1.1", "x@sub.spammail.com", FOREIGN), LM_V_RELAY);
    ck_assert_int_eq(qm_ask_from(p, "10.1.1.1", "spam@other.com", FOREIGN), LM_V_RELAY);
    ck_assert_int_eq(qm_ask_from(p, "10.1.1.1", "bob@x.org", FOREIGN), LM_V_RELAY);
    ck_assert_int_eq(qm_ask_from(p, "10.1.1.1", "nodomain", FOREIGN), LM_V_RELAY);
    ck_assert_int_eq(qm_ask_from(p, "10.1.1.1", "", FOREIGN), LM_V_RELAY);
    ck_assert_int_eq(qm_ask_from(p, "192.0.2.1", "a@b.spam@spammail.com", "postmaster"),
                     LM_V_REJECT);
    lm_diags_fini(&d);
    lm_policy_free(p);
}
END_TEST

START_TEST(badmailfrom_by_content)
{
    static const char bmf[] = "# x\n@spammail.com\nspam@hacker.com\n";
    struct lm_diags d;
    int rc;
    struct lm_policy *p;

    ck_assert_int_eq(lm_codec_qmail.detect("badmailfrom", bmf, strlen(bmf)), LM_DETECT_SURE);
    ck_assert_int_eq(lm_codec_qmail.detect("senders", bmf, strlen(bmf)), LM_DETECT_LIKELY);
    ck_assert_int_eq(lm_codec_qmail.detect("rcpthosts", bmf, strlen(bmf)), LM_DETECT_LIKELY);
    p = qm_parse(NULL, "senders", bmf, &d, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(p->nrules, 2);
    ck_assert_uint_eq(p->ndomains, 0);
    ck_assert_int_eq(tu_rule(p, 2)->kind, LM_K_NAME);
    ck_assert_int_eq(tu_rule(p, 3)->kind, LM_K_ADDR);
    lm_diags_fini(&d);
    lm_policy_free(p);
    /* a plain domain list stays rcpthosts */
    p = qm_parse(NULL, "list", "example.com\n.example.net\n", &d, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(p->nrules, 0);
    ck_assert_uint_eq(p->ndomains, 2);
    lm_diags_fini(&d);
    lm_policy_free(p);
}
END_TEST

/* A sender with a colon (found by fuzzing): written back as it was, read
 * back by name, never dropped in silence. */
START_TEST(badmailfrom_colon)
{
    struct lm_diags d;
    struct lm_losses l;
    int rc;
    char *rh, *bmf, *out;
    struct lm_policy *p = qm_parse(NULL, "badmailfrom", "joe@10.9.9.9:allow,x='a\"b'\n", &d,
                                   &rc);

    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(tu_rule(p, 1)->kind, LM_K_ADDR);
    out = qm_emit(p, &l, &rh, &bmf);
    ck_assert_uint_eq(l.n, 0);
    ck_assert_str_eq(bmf, "joe@10.9.9.9:allow,x='a\"b'\n");
    lm_diags_fini(&d);
    lm_losses_fini(&l);
    free(out);
    free(rh);
    free(bmf);
    lm_policy_free(p);
}
END_TEST

START_TEST(emit_badmailfrom)
{
    struct lm_policy *p = tu_neutral(
        "connect net 172.16.5.0/24 relay\n"                  /* 1 */
        "from address spam@hacker.com reject\n"              /* 2 exact */
        "from name spammail.com reject\n"                    /* 3 exact */
        "from domain junk.example reject\n"                  /* 4 narrowed, widens */
        "from address x@text.example error 550 5.7.1 \"no\"\n"/* 5 text lost */
        "from user spam reject\n"                            /* 6 dropped, widens */
        "from address friend@spammail.com ok\n"              /* 7 refused by line 3 */
        "from name spammail.com reject\n"                    /* 8 repeat: one line */
        "from domain useful.org ok\n");                      /* 9 no effect */
    struct lm_losses l;
    char *rh, *bmf, *out = qm_emit(p, &l, &rh, &bmf);

    ck_assert_str_eq(bmf, "spam@hacker.com\n@spammail.com\n@junk.example\nx@text.example\n");
    ck_assert_str_eq(out, "172.16.5.:allow,RELAYCLIENT=\"\"\n");
    ck_assert_uint_eq(l.n, 4);
    ck_assert_uint_eq(l.v[0].line, 4);
    ck_assert_int_eq(l.v[0].kind, LM_LOSS_NARROWED);
    ck_assert_int_eq(l.v[0].widens, 1);
    ck_assert_uint_eq(l.v[1].line, 5);
    ck_assert_int_eq(l.v[1].kind, LM_LOSS_CHANGED);
    ck_assert_int_eq(l.v[1].widens, 0);
    ck_assert_uint_eq(l.v[2].line, 6);
    ck_assert_int_eq(l.v[2].kind, LM_LOSS_DROPPED);
    ck_assert_int_eq(l.v[2].widens, 1);
    ck_assert_uint_eq(l.v[3].line, 7);
    ck_assert_int_eq(l.v[3].kind, LM_LOSS_CHANGED);
    ck_assert_int_eq(l.v[3].widens, 0);
    free(out);
    free(rh);
    free(bmf);
    lm_losses_fini(&l);
    lm_policy_free(p);
}
END_TEST

START_TEST(roundtrip_badmailfrom)
{
    /* exact sender refusals survive policy -> qmail -> policy model */
    static const char *const froms[] = {
        "spam@hacker.com", "SPAM@HACKER.COM", "ham@hacker.com", "a@spammail.com",
        "a@sub.spammail.com", "a@useful.org", "", "local", NULL
    };
    static const char *const ips[] = { "172.16.5.9", "8.8.8.8", NULL };
    static const char *const tos[] = { FOREIGN, "bob@example.com", "postmaster", NULL };
    struct lm_policy *src = tu_neutral("accept name example.com\n"
                                       "connect net 172.16.5.0/24 relay\n"
                                       "from address spam@hacker.com reject\n"
                                       "from name spammail.com reject\n"
                                       "from domain useful.org ok\n");
    struct lm_policy *back;
    struct lm_losses l;
    struct lm_diags d;
    char *rh, *bmf, *out = qm_emit(src, &l, &rh, &bmf);
    size_t i, j, k;
    int rc;

    ck_assert_uint_eq(l.n, 0);
    back = qm_parse(NULL, "tcp.smtp", out, &d, &rc);
    ck_assert_int_eq(rc, 0);
    qm_parse(back, "rcpthosts", rh, &d, &rc);
    ck_assert_int_eq(rc, 0);
    qm_parse(back, "badmailfrom", bmf, &d, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(lm_policy_index(back, &d), 0);
    ck_assert_int_eq(lm_policy_index(src, &d), 0);
    for (i = 0; froms[i] != NULL; i++)
        for (j = 0; ips[j] != NULL; j++)
            for (k = 0; tos[k] != NULL; k++)
                ck_assert_msg(lm_verdict_same(qm_ask_from(src, ips[j], froms[i], tos[k]),
                                              qm_ask_from(back, ips[j], froms[i], tos[k])),
                              "from <%s> client %s to %s", froms[i], ips[j], tos[k]);
    lm_diags_fini(&d);
    free(out);
    free(rh);
    free(bmf);
    lm_losses_fini(&l);
    lm_policy_free(src);
    lm_policy_free(back);
}
END_TEST

/* --- round trips --------------------------------------------------------------------- */

static unsigned long qm_seed;

static unsigned
qm_rand(unsigned n)
{
    qm_seed = qm_seed * 6364136223846793005UL + 1442695040888963407UL;
    return (unsigned)((qm_seed >> 33) % n);
}

static const char *const qm_names[] = { "example.com", "a.example.com", "example.org" };

static void
qm_random_tcp(char *buf, size_t cap)
{
    static const char *const rhs[] = {
        "allow,RELAYCLIENT=\"\"", "allow", "deny", "allow,X=\"1\"",
        "allow,RELAYCLIENT=\"\",RBLSMTPD=\"\"",
    };
    size_t n = 0, i, nl = 1 + qm_rand(12);

    buf[0] = '\0';
    for (i = 0; i < nl; i++) {
        char key[64];
        switch (qm_rand(7)) {
        case 0:
            snprintf(key, sizeof key, "10.%u.", qm_rand(3));
            break;
        case 1:
            snprintf(key, sizeof key, "10.%u.%u.%u", qm_rand(3), qm_rand(3), qm_rand(4));
            break;
        case 2:
            snprintf(key, sizeof key, "10.%u.%u.%u-%u", qm_rand(3), qm_rand(3), qm_rand(4),
                     qm_rand(6));
            break;
        case 3:
            snprintf(key, sizeof key, "%s", qm_rand(2) ? "10." : "11.");
            break;
        case 4:
            snprintf(key, sizeof key, "=%s%s", qm_rand(2) ? "." : "", qm_names[qm_rand(3)]);
            break;
        case 5:
            snprintf(key, sizeof key, "%s", qm_rand(2) ? "=" : "");
            break;
        default:
            snprintf(key, sizeof key, "10.%u-%u.", qm_rand(3), qm_rand(4));
            break;
        }
        n += (size_t)snprintf(buf + n, cap - n, "%s:%s\n", key, rhs[qm_rand(5)]);
    }
}

static const char *const qm_ips[] = {
    "10.0.0.0", "10.0.0.1", "10.0.1.2", "10.1.0.0", "10.1.2.3", "10.1.2.5", "10.2.2.2",
    "10.3.0.1", "11.0.0.0", "11.1.1.1", "127.0.0.1", "9.9.9.9", "10.0.0.255",
};
static const char *const qm_hosts[] = {
    NULL, "example.com", "x.a.example.com", "a.example.com", "example.org", "b.example.org",
    "other.example",
};
static const char *const qm_rcpts[] = {
    "x@example.com", "x@a.example.com", "x@example.org", "x@other.example", "postmaster",
};

static void
qm_same(const struct lm_policy *a, const struct lm_policy *b, const char *what)
{
    size_t i, j, k;

    for (i = 0; i < sizeof qm_ips / sizeof qm_ips[0]; i++)
        for (j = 0; j < sizeof qm_hosts / sizeof qm_hosts[0]; j++)
            for (k = 0; k < sizeof qm_rcpts / sizeof qm_rcpts[0]; k++) {
                enum lm_verdict_kind va = qm_ask(a, qm_ips[i], qm_hosts[j], NULL, qm_rcpts[k]);
                enum lm_verdict_kind vb = qm_ask(b, qm_ips[i], qm_hosts[j], NULL, qm_rcpts[k]);
                ck_assert_msg(lm_verdict_same(va, vb), "%s: client %s host %s to %s: %s vs %s",
                              what, qm_ips[i], qm_hosts[j] ? qm_hosts[j] : "-", qm_rcpts[k],
                              lm_verdict_verb(va), lm_verdict_verb(vb));
            }
}

START_TEST(roundtrip_random_tcp)
{
    char text[4096];
    int iter;

    qm_seed = 20261122;
    for (iter = 0; iter < 200; iter++) {
        struct lm_diags d;
        struct lm_losses l;
        struct lm_policy *p, *q;
        char *out, *rh;
        int rc;

        qm_random_tcp(text, sizeof text);
        p = qm_parse(NULL, "tcp.smtp", text, &d, &rc);
        qm_parse(p, "rcpthosts", "example.com\n.example.org\n", &d, &rc);
        lm_diags_fini(&d);
        out = qm_emit(p, &l, &rh, NULL);
        ck_assert_msg(l.n == 0, "iteration %d: loss %s\n%s", iter, l.n ? l.v[0].why : "",
                      text);
        q = qm_parse(NULL, "tcp.smtp", out, &d, &rc);
        ck_assert_msg(rc == 0, "iteration %d: output does not parse:\n%s", iter, out);
        qm_parse(q, "rcpthosts", rh, &d, &rc);
        ck_assert_int_eq(rc, 0);
        lm_diags_fini(&d);
        qm_same(p, q, text);
        free(out);
        free(rh);
        lm_losses_fini(&l);
        lm_policy_free(p);
        lm_policy_free(q);
    }
}
END_TEST

START_TEST(roundtrip_random_networks)
{
    int iter;

    qm_seed = 11;
    for (iter = 0; iter < 200; iter++) {
        static const char *const acts[] = { "relay", "ok", "deny", "ok set X=\"1\"" };
        char text[2048], ip[LM_IPADDR_BUF];
        size_t n = 0, i, nr = 1 + qm_rand(6);
        struct lm_diags d;
        struct lm_losses l;
        struct lm_policy *p, *q;
        char *out, *rh;
        int rc;

        for (i = 0; i < nr; i++)
            n += (size_t)snprintf(text + n, sizeof text - n, "connect net 10.%u.%u.%u/%u %s\n",
                                  qm_rand(2), qm_rand(4) * 64, qm_rand(2) * 128,
                                  25 + qm_rand(8) - 16 * qm_rand(2), acts[qm_rand(4)]);
        p = lm_policy_new(NULL);
        {
            struct lm_source *s;
            lm_diags_init(&d);
            s = lm_source_mem("p.txt", text, n, &d);
            lm_codec_policy.parse(s, p, &d);
            lm_source_close(s);
            lm_diags_fini(&d);
        }
        out = qm_emit(p, &l, &rh, NULL);
        ck_assert_msg(l.n == 0, "iteration %d: %s", iter, l.n ? l.v[0].why : "");
        q = qm_parse(NULL, "tcp.smtp", out, &d, &rc);
        ck_assert_int_eq(rc, 0);
        lm_diags_fini(&d);
        for (i = 0; i < p->nrules; i++) {
            int k;
            for (k = 0; k < 4; k++) {
                struct lm_query qq;
                struct lm_verdict va, vb;
                memset(&qq, 0, sizeof qq);
                qq.ip = k < 2 ? p->rules[i].net.range.lo : p->rules[i].net.range.hi;
                if (k == 1)
                    lm_ipaddr_pred(&qq.ip);
                if (k == 3)
                    lm_ipaddr_succ(&qq.ip);
                qq.rcpt = FOREIGN;
                lm_decide(p, &qq, &va);
                lm_decide(q, &qq, &vb);
                ck_assert_msg(lm_verdict_same(va.kind, vb.kind), "%s\n%s\nclient %s",
                              text, out, lm_ipaddr_format(&qq.ip, ip));
            }
        }
        free(out);
        free(rh);
        lm_losses_fini(&l);
        lm_policy_free(p);
        lm_policy_free(q);
    }
}
END_TEST

/* --- hardening: what relayconv cannot read ------------------------------------------ */

START_TEST(refuse_non_addresses)
{
    struct lm_diags d;
    int rc;
    struct lm_policy *p = qm_parse(NULL, "tcp.smtp",
                                   "1.2.3.999:allow,RELAYCLIENT=\"\"\n"
                                   "10.:deny\n", &d, &rc);

    ck_assert_int_eq(rc, -1);
    ck_assert(tu_has_diag(&d, LM_ERROR, 1, "1.2.3.999"));
    ck_assert(tu_has_diag(&d, LM_ERROR, 1, "above 255"));
    lm_diags_fini(&d);
    lm_policy_free(p);
    p = qm_parse(NULL, "rcpthosts", "example.com\na..b\n300.1.1.1\n.x..y\n1.2.3.4\n", &d, &rc);
    ck_assert_int_eq(rc, -1);
    ck_assert_uint_eq(d.nerrors, 3);
    ck_assert(tu_has_diag(&d, LM_ERROR, 2, "a..b"));
    ck_assert(tu_has_diag(&d, LM_ERROR, 3, "300.1.1.1"));
    ck_assert(tu_has_diag(&d, LM_ERROR, 4, "empty label"));
    lm_diags_fini(&d);
    lm_policy_free(p);
}
END_TEST

/* --- qmail6: the IPv6 build of tcpserver ------------------------------------------------- */

static struct lm_policy *
q6_parse(const char *text, struct lm_diags *d, int *rc)
{
    struct lm_source *s;
    struct lm_policy *p;

    lm_diags_init(d);
    p = lm_policy_new(d);
    ck_assert_ptr_nonnull(p);
    s = lm_source_mem("tcp.smtp", text, strlen(text), d);
    ck_assert_ptr_nonnull(s);
    *rc = lm_codec_qmail6.parse(s, p, d);
    lm_source_close(s);
    return p;
}

static char *
q6_emit(const struct lm_codec *c, const struct lm_policy *p, struct lm_losses *l)
{
    struct lm_diags d;
    char *buf[3] = { NULL, NULL, NULL };
    size_t len[3] = { 0, 0, 0 }, i;
    FILE *outs[3];

    for (i = 0; i < 3; i++)
        outs[i] = open_memstream(&buf[i], &len[i]);
    lm_diags_init(&d);
    lm_losses_init(l);
    ck_assert_int_eq(c->emit(p, NULL, outs, l, &d), 0);
    ck_assert_uint_eq(d.nerrors, 0);
    for (i = 0; i < 3; i++)
        fclose(outs[i]);
    free(buf[1]);
    free(buf[2]);
    lm_diags_fini(&d);
    return buf[0];
}

START_TEST(qmail6_parse)
{
    struct lm_diags d;
    int rc;
    struct lm_policy *p = q6_parse(
        "::1:allow,RELAYCLIENT=\"\"\n"              /* 1 */
        "2001:db8::allow,RELAYCLIENT=\"\"\n"        /* 2 the prefix 2001:db8: (/32) */
        "2001:db8:6:::deny\n"                       /* 3 2001:db8:6:: (/64: group 4 zero) */
        "fe80::1:deny\n"                            /* 4 */
        "2001:db8:0:0:0:0:0:1:deny\n"               /* 5 tcpserver writes 2001:db8::1 */
        "10.1.:allow,RELAYCLIENT=\"\"\n"            /* 6 IPv4 as in the IPv4 build */
        "2001:0::deny\n"                            /* 7 a zero group written out */
        ":deny\n", &d, &rc);                        /* 8 */

    ck_assert_int_eq(rc, 0);
    ck_assert_ptr_eq(p->order, lm_codec_qmail.order);  /* one server, one order */
    ck_assert(tu_has_diag(&d, LM_WARNING, 5, "never match"));
    ck_assert_int_eq(tu_rule(p, 5)->kind, LM_K_NEVER);
    ck_assert(tu_has_diag(&d, LM_WARNING, 7, "never"));
    ck_assert_int_eq(qm_ask(p, "::1", NULL, NULL, FOREIGN), LM_V_RELAY);
    ck_assert_int_eq(qm_ask(p, "2001:db8:7::1", NULL, NULL, FOREIGN), LM_V_RELAY);
    ck_assert_int_eq(qm_ask(p, "2001:db8:6::9", NULL, NULL, FOREIGN), LM_V_DENY);
    ck_assert_int_eq(qm_ask(p, "2001:db8:6:1::9", NULL, NULL, FOREIGN), LM_V_RELAY);
    ck_assert_int_eq(qm_ask(p, "fe80::1", NULL, NULL, FOREIGN), LM_V_DENY);
    ck_assert_int_eq(qm_ask(p, "2001:db8::1", NULL, NULL, FOREIGN), LM_V_RELAY);
    ck_assert_int_eq(qm_ask(p, "10.1.2.3", NULL, NULL, FOREIGN), LM_V_RELAY);
    ck_assert_int_eq(qm_ask(p, "2002::1", NULL, NULL, FOREIGN), LM_V_DENY);
    lm_diags_fini(&d);
    lm_policy_free(p);
    /* a prefix whose addresses are no one network: refused */
    p = q6_parse("2001::5::allow\n:::deny\n::deny\n", &d, &rc);
    ck_assert_int_eq(rc, -1);
    ck_assert(tu_has_diag(&d, LM_ERROR, 1, "no one network"));
    ck_assert(tu_has_diag(&d, LM_ERROR, 2, "no one network"));
    ck_assert(tu_has_diag(&d, LM_ERROR, 3, "no one network"));
    lm_diags_fini(&d);
    lm_policy_free(p);
    /* the IPv4 build refuses IPv6 lines and names the IPv6 build */
    p = qm_parse(NULL, "tcp.smtp", "2001:db8::1:allow\n", &d, &rc);
    ck_assert_int_eq(rc, -1);
    ck_assert(tu_has_diag(&d, LM_ERROR, 1, "IPv6 build"));
    lm_diags_fini(&d);
    lm_policy_free(p);
}
END_TEST

START_TEST(qmail6_detect)
{
    static const char v6[] = "::1:allow,RELAYCLIENT=\"\"\n2001:db8:deny\n";
    static const char v4[] = "127.0.0.1:allow,RELAYCLIENT=\"\"\n:deny\n";
    static const char rh[] = "example.com\n";

    ck_assert_int_eq(lm_codec_qmail6.detect("tcp.smtp", v6, strlen(v6)), LM_DETECT_SURE);
    ck_assert_int_lt(lm_codec_qmail.detect("tcp.smtp", v6, strlen(v6)), LM_DETECT_MAYBE);
    ck_assert_int_lt(lm_codec_qmail6.detect("tcp.smtp", v4, strlen(v4)),
                     lm_codec_qmail.detect("tcp.smtp", v4, strlen(v4)));
    ck_assert_int_lt(lm_codec_qmail6.detect("rcpthosts", rh, strlen(rh)),
                     lm_codec_qmail.detect("rcpthosts", rh, strlen(rh)));
}
END_TEST

START_TEST(qmail6_emit)
{
    struct lm_policy *p = tu_neutral("connect net 2001:db8::/32 relay\n"
                                     "connect net 2001:db8:5::/48 deny\n"
                                     "connect net 2001:db8::/48 ok\n"
                                     "connect net fe80::/10 relay\n"
                                     "connect net ::1 relay\n"
                                     "connect net 2001:db8:1:0:0:0:0:9 deny\n"
                                     "connect net 10.0.0.0/8 relay\n"
                                     "default deny\n");
    struct lm_losses l;
    struct lm_diags d;
    struct lm_policy *q;
    char *out;
    int rc;

    out = q6_emit(&lm_codec_qmail6, p, &l);
    ck_assert_msg(l.n == 0, "loss: %s", l.n ? l.v[0].why : "");
    ck_assert_ptr_nonnull(strstr(out, "\n2001:db8::allow,RELAYCLIENT=\"\"\n"));
    ck_assert_ptr_nonnull(strstr(out, "\n2001:db8:::allow\n"));     /* the /48 of group 3 = 0 */
    ck_assert_ptr_nonnull(strstr(out, "\n2001:db8:5::deny\n"));
    ck_assert_ptr_nonnull(strstr(out, "\n2001:db8:1::9:deny\n"));
    ck_assert_ptr_nonnull(strstr(out, "\nfe80::allow,RELAYCLIENT=\"\"\n"));
    ck_assert_ptr_nonnull(strstr(out, "\nfebf::allow,RELAYCLIENT=\"\"\n"));
    ck_assert_ptr_nonnull(strstr(out, "::1:allow,RELAYCLIENT=\"\"\n"));
    ck_assert_ptr_nonnull(strstr(out, "10.:allow,RELAYCLIENT=\"\"\n"));
    q = q6_parse(out, &d, &rc);
    ck_assert_msg(rc == 0, "output does not read back:\n%s", out);
    {
        static const char *const ips[] = {
            "2001:db8::1", "2001:db8:0:ffff::1", "2001:db8:1::", "2001:db8:1::9",
            "2001:db8:1::8", "2001:db8:5::", "2001:db8:5:ffff::1", "2001:db8:6::",
            "2001:db8:ffff::1", "2001:db9::", "fe7f::1", "fe80::", "febf:ffff::1",
            "fec0::", "::1", "::2", "10.0.0.1", "11.0.0.1",
        };
        size_t i;
        for (i = 0; i < sizeof ips / sizeof ips[0]; i++)
            ck_assert_msg(lm_verdict_same(qm_ask(p, ips[i], NULL, NULL, FOREIGN),
                                          qm_ask(q, ips[i], NULL, NULL, FOREIGN)),
                          "client %s", ips[i]);
    }
    lm_diags_fini(&d);
    lm_policy_free(q);
    free(out);
    lm_losses_fini(&l);
    /* the IPv4 build has no IPv6 keys and says where they are */
    out = q6_emit(&lm_codec_qmail, p, &l);
    ck_assert_uint_gt(l.n, 0);
    ck_assert_ptr_nonnull(strstr(l.v[0].why, "qmail6"));
    free(out);
    lm_losses_fini(&l);
    lm_policy_free(p);
    /* a block with a zero group inside has no key: a loss, never silence */
    p = tu_neutral("connect net 2001:db8:0:7::/64 deny\ndefault relay\n");
    out = q6_emit(&lm_codec_qmail6, p, &l);
    ck_assert_uint_eq(l.n, 1);
    ck_assert_int_eq(l.v[0].line, 1);
    ck_assert(l.v[0].widens);
    free(out);
    lm_losses_fini(&l);
    lm_policy_free(p);
}
END_TEST

Suite *qmail_suite(void);

Suite *
qmail_suite(void)
{
    Suite *s = suite_create("qmail");
    TCase *tc;

    tc = tcase_create("parse");
    tcase_add_test(tc, parse_reference_sample);
    tcase_add_test(tc, parse_seed_and_rcpthosts);
    tcase_add_test(tc, parse_by_content);
    tcase_add_test(tc, detect_scores);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, errors_and_never);
    tcase_add_test(tc, refuse_non_addresses);
    suite_add_tcase(s, tc);
    tc = tcase_create("qmail6");
    tcase_add_test(tc, qmail6_parse);
    tcase_add_test(tc, qmail6_detect);
    tcase_add_test(tc, qmail6_emit);
    suite_add_tcase(s, tc);
    tc = tcase_create("emit");
    tcase_add_test(tc, emit_networks);
    tcase_add_test(tc, emit_losses);
    tcase_add_test(tc, emit_from_sendmail);
    tcase_add_test(tc, emit_many_networks);
    tcase_add_test(tc, parse_badmailfrom);
    tcase_add_test(tc, badmailfrom_by_content);
    tcase_add_test(tc, emit_badmailfrom);
    tcase_add_test(tc, badmailfrom_colon);
    tcase_add_test(tc, roundtrip_badmailfrom);
    suite_add_tcase(s, tc);
    tc = tcase_create("roundtrip");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, roundtrip_random_tcp);
    tcase_add_test(tc, roundtrip_random_networks);
    suite_add_tcase(s, tc);
    return s;
}
