/*
 * check_sendmail.c - the Sendmail access codec: every key and right-hand
 * side form, the keys Sendmail can never match (warnings with file:line),
 * every error (all bad lines reported, with line and column), the written
 * text for known policies, loss reports, and round trips parse(emit(p)) on
 * seeded random policies compared with lm_decide().
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

/* Parse TEXT as an access file named "access"; the diagnostics stay in *d. */
static struct lm_policy *
sm_parse(const char *text, struct lm_diags *d, int *rc)
{
    struct lm_source *s;
    struct lm_policy *p;

    lm_diags_init(d);
    p = lm_policy_new(d);
    ck_assert_ptr_nonnull(p);
    s = lm_source_mem("access", text, strlen(text), d);
    ck_assert_ptr_nonnull(s);
    *rc = lm_codec_sendmail.parse(s, p, d);
    lm_source_close(s);
    return p;
}

/* Parse TEXT, which must be free of errors. */
static struct lm_policy *
sm_ok(const char *text)
{
    struct lm_diags d;
    struct lm_policy *p;
    int rc;

    p = sm_parse(text, &d, &rc);
    if (d.nerrors > 0)
        ck_abort_msg("unexpected error: %s:%lu: %s", d.v[0].file, d.v[0].line, d.v[0].msg);
    ck_assert_int_eq(rc, 0);
    lm_diags_fini(&d);
    return p;
}

/* Emit P as access text (malloc'd); losses in *l (initialised here). */
static char *
sm_emit(const struct lm_policy *p, struct lm_losses *l)
{
    struct lm_diags d;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    FILE *outs[1];

    ck_assert_ptr_nonnull(f);
    outs[0] = f;
    lm_diags_init(&d);
    lm_losses_init(l);
    ck_assert_int_eq(lm_codec_sendmail.emit(p, NULL, outs, l, &d), 0);
    ck_assert_uint_eq(d.nerrors, 0);
    fclose(f);
    lm_diags_fini(&d);
    return buf;
}

static enum lm_verdict_kind
sm_ask(const struct lm_policy *p, const char *ip, const char *host, const char *from,
       const char *to)
{
    struct lm_query q;
    struct lm_verdict v;

    memset(&q, 0, sizeof q);
    if (ip != NULL)
        ck_assert_int_eq(lm_ipaddr_parse(ip, strlen(ip), LM_IPF_V4 | LM_IPF_V6, &q.ip,
                                         NULL, NULL), 0);
    q.host = host;
    q.sender = from;
    q.rcpt = to;
    lm_decide(p, &q, &v);
    return v.kind;
}

static void
sm_net_is(const struct lm_rule *r, const char *lo, const char *hi)
{
    char a[LM_IPADDR_BUF], b[LM_IPADDR_BUF];

    ck_assert_int_eq(r->kind, LM_K_NET);
    ck_assert_str_eq(lm_ipaddr_format(&r->net.range.lo, a), lo);
    ck_assert_str_eq(lm_ipaddr_format(&r->net.range.hi, b), hi);
}

/* --- parse ------------------------------------------------------------------------ */

START_TEST(parse_every_form)
{
    struct lm_policy *p = sm_ok(
        "# comment\n"                                   /* 1 */
        "\n"                                            /* 2 */
        "Connect:127.0.0.1\tRELAY\n"                    /* 3 */
        "Connect:192.168.1   relay  \n"                 /* 4 */
        "Connect:10.0.0.1 OK\n"                         /* 5 */
        "Connect:Spammer.Example.COM\tREJECT\n"         /* 6 */
        "Connect:IPv6:2001:db8\tRELAY\n"                /* 7 */
        "From:Bad@Example.com\tERROR:5.7.1:550 Go away\n"   /* 8 */
        "From:FREE.STEALTH.MAILER@\tERROR:550 Spam not accepted\n" /* 9 */
        "To:Example.NET\tRELAY\n"                       /* 10 */
        "Connect:128.32.2\tSKIP\n"                      /* 11 */
        "spam@hacker.com\tREJECT\n"                     /* 12 */
        "spammail.com\tDISCARD\n"                       /* 13 */
        "172.16\tRELAY\n"                               /* 14 */
        "To:x.example\tERROR:4.2.1:\"451 try  later\"\n"    /* 15 */
        "Connect:IPv6:0:0:0:0:0:0:0:1\tREJECT\n"        /* 16 */
        "Connect:10\tREJECT\n");                        /* 17 */
    const struct lm_rule *r;

    ck_assert_ptr_eq(p->order, lm_codec_sendmail.order);
    ck_assert_uint_eq(p->nrules, 15);
    r = tu_rule(p, 3);
    ck_assert_uint_eq(r->stage, LM_S_CONNECT);
    ck_assert_int_eq(r->action, LM_A_RELAY);
    sm_net_is(r, "127.0.0.1", "127.0.0.1");
    ck_assert_ptr_null(r->pattern);
    r = tu_rule(p, 4);
    sm_net_is(r, "192.168.1.0", "192.168.1.255");
    ck_assert_uint_eq(r->net.prefix, 24);
    ck_assert_int_eq(r->action, LM_A_RELAY);
    ck_assert_int_eq(tu_rule(p, 5)->action, LM_A_OK);
    r = tu_rule(p, 6);
    ck_assert_int_eq(r->kind, LM_K_TREE);
    ck_assert_str_eq(r->pattern, "spammer.example.com");
    ck_assert_int_eq(r->action, LM_A_REJECT);
    sm_net_is(tu_rule(p, 7), "2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff");
    r = tu_rule(p, 8);
    ck_assert_int_eq(r->kind, LM_K_ADDR);
    ck_assert_uint_eq(r->stage, LM_S_FROM);
    ck_assert_str_eq(r->pattern, "bad@example.com");
    ck_assert_int_eq(r->action, LM_A_ERROR);
    ck_assert_uint_eq(r->code, 550);
    ck_assert_str_eq(r->dsn, "5.7.1");
    ck_assert_str_eq(r->text, "Go away");
    r = tu_rule(p, 9);
    ck_assert_int_eq(r->kind, LM_K_USER);
    ck_assert_str_eq(r->pattern, "free.stealth.mailer");
    ck_assert_ptr_null(r->dsn);
    ck_assert_str_eq(r->text, "Spam not accepted");
    r = tu_rule(p, 10);
    ck_assert_uint_eq(r->stage, LM_S_TO);
    ck_assert_int_eq(r->kind, LM_K_TREE);
    ck_assert_int_eq(tu_rule(p, 11)->action, LM_A_SKIP);
    r = tu_rule(p, 12);
    ck_assert_uint_eq(r->stage, LM_S_ANY);
    ck_assert_int_eq(r->kind, LM_K_ADDR);
    ck_assert_int_eq(tu_rule(p, 13)->action, LM_A_DISCARD);
    r = tu_rule(p, 14);
    ck_assert_uint_eq(r->stage, LM_S_ANY);
    sm_net_is(r, "172.16.0.0", "172.16.255.255");
    r = tu_rule(p, 15);
    ck_assert_uint_eq(r->code, 451);
    ck_assert_str_eq(r->dsn, "4.2.1");
    ck_assert_str_eq(r->text, "try  later");
    sm_net_is(tu_rule(p, 16), "::1", "::1");
    sm_net_is(tu_rule(p, 17), "10.0.0.0", "10.255.255.255");
    lm_policy_free(p);
}
END_TEST

START_TEST(parse_seed_example)
{
    /* the access file of the seed guide, as examples/access has it */
    struct lm_policy *p = sm_ok("spam@hacker.com\tREJECT\n"
                                "spammail.com\tREJECT\n"
                                "useful.org\tOK\n"
                                "211.252.150\tRELAY\n"
                                "211.252.151\tRELAY\n"
                                "172.16\tRELAY\n");

    ck_assert_uint_eq(p->nrules, 6);
    ck_assert_int_eq(sm_ask(p, "172.16.5.9", NULL, "a@b.example", FOREIGN), LM_V_RELAY);
    ck_assert_int_eq(sm_ask(p, "211.252.151.1", NULL, "a@b.example", FOREIGN), LM_V_RELAY);
    ck_assert_int_eq(sm_ask(p, "8.8.8.8", NULL, "a@b.example", FOREIGN), LM_V_REFUSE);
    ck_assert_int_eq(sm_ask(p, "172.16.5.9", NULL, "spam@hacker.com", FOREIGN), LM_V_REJECT);
    ck_assert_int_eq(sm_ask(p, "8.8.8.8", NULL, "x@spammail.com", "postmaster"), LM_V_REJECT);
    ck_assert_int_eq(sm_ask(p, "8.8.8.8", "mx.spammail.com", NULL, "postmaster"),
                     LM_V_REJECT);
    /* OK never grants relaying */
    ck_assert_int_eq(sm_ask(p, "8.8.8.8", "mx.useful.org", "a@useful.org", FOREIGN),
                     LM_V_REFUSE);
    lm_policy_free(p);
}
END_TEST

START_TEST(parse_reference_sample)
{
    /* reference/samples/sendmail/access: other features' entries are ignored
     * with a warning, QUARANTINE reads as OK */
    struct lm_diags d;
    int rc;
    struct lm_policy *p = sm_parse(
        "# sendmail access map sample (input to makemap)\n"
        "Connect:127.0.0.1\tRELAY\n"
        "Connect:192.168.1\tRELAY\n"
        "Connect:10.0.0.1  OK\n"
        "Connect:Spammer.Example.COM\tREJECT\n"
        "Connect:IPv6:2001:db8\tRELAY\n"
        "From:Bad@Example.com\tERROR:5.7.1:550 Go away\n"
        "From:FREE.STEALTH.MAILER@\tERROR:550 Spam not accepted\n"
        "To:Example.NET\tRELAY\n"
        "Connect:128.32.2\tSKIP\n"
        "Connect:suspicious.example.com\tQUARANTINE:Mail from suspicious host\n"
        "Spam:abuse@\tFRIEND\n"
        "ClientRate:192.168.1.1\t2\n", &d, &rc);

    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(d.nerrors, 0);
    ck_assert_uint_eq(p->nrules, 10);
    ck_assert_int_eq(tu_rule(p, 11)->action, LM_A_OK);
    ck_assert(tu_has_diag(&d, LM_WARNING, 11, "QUARANTINE"));
    ck_assert(tu_has_diag(&d, LM_WARNING, 12, "Spam:"));
    ck_assert(tu_has_diag(&d, LM_WARNING, 13, "not part of the relay policy"));
    lm_diags_fini(&d);
    lm_policy_free(p);
}
END_TEST

/* --- keys that can never match ----------------------------------------------------- */

START_TEST(lint_never)
{
    struct lm_diags d;
    int rc;
    struct lm_policy *p = sm_parse(
        "10.0.0.0/8\tRELAY\n"                   /* 1 CIDR */
        "Connect:172.16.5.\tRELAY\n"            /* 2 final dot */
        "Connect:IPv6:2002:c0a8:02c7\tRELAY\n"  /* 3 leading zero */
        "Connect:IPv6:2001:db8::1\tRELAY\n"     /* 4 compressed */
        "*.example.com\tREJECT\n"               /* 5 wildcard */
        "From:10.1\tREJECT\n"                   /* 6 network under From: */
        "Connect:user@example.com\tREJECT\n"    /* 7 address under Connect: */
        "1.2.3.4-7\tRELAY\n"                    /* 8 range */
        "010.1\tRELAY\n"                        /* 9 leading zero */
        "@example.com\tREJECT\n"                /* 10 domain with @ */
        "Connect:10.0.0.0\tRELAY\n", &d, &rc);  /* 11 single address, warned */
    unsigned long line;

    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(d.nerrors, 0);
    for (line = 1; line <= 10; line++) {
        ck_assert_msg(tu_rule(p, line)->kind == LM_K_NEVER, "line %lu", line);
        ck_assert_msg(tu_has_diag(&d, LM_WARNING, line, "can never match"), "line %lu", line);
    }
    ck_assert(tu_has_diag(&d, LM_WARNING, 2, "no final dot"));
    ck_assert(tu_has_diag(&d, LM_WARNING, 3, "leading zeros"));
    ck_assert(tu_has_diag(&d, LM_WARNING, 1, "CIDR"));
    ck_assert_int_eq(tu_rule(p, 11)->kind, LM_K_NET);
    ck_assert(tu_has_diag(&d, LM_WARNING, 11, "single address"));
    /* a never-matching key decides nothing */
    ck_assert_int_eq(sm_ask(p, "10.1.2.3", NULL, NULL, FOREIGN), LM_V_REFUSE);
    ck_assert_int_eq(sm_ask(p, "172.16.5.1", NULL, NULL, FOREIGN), LM_V_REFUSE);
    lm_diags_fini(&d);
    lm_policy_free(p);
}
END_TEST

START_TEST(lint_to_features)
{
    struct lm_diags d;
    int rc;
    struct lm_policy *p = sm_parse("To:spam.example\tREJECT\n"
                                   "To:joe@example.net\tRELAY\n"
                                   "To:example.org\tRELAY\n", &d, &rc);

    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(p->nrules, 3);
    ck_assert(tu_has_diag(&d, LM_WARNING, 1, "blocklist_recipients"));
    ck_assert(tu_has_diag(&d, LM_WARNING, 2, "relaytofulladdress"));
    ck_assert_uint_eq(d.nwarnings, 2);
    lm_diags_fini(&d);
    lm_policy_free(p);
}
END_TEST

START_TEST(lint_dotdomain)
{
    struct lm_diags d;
    int rc;
    struct lm_policy *p = sm_parse("Connect:.example.com\tREJECT\n", &d, &rc);

    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(p->rules[0].kind, LM_K_BELOW);
    ck_assert(tu_has_diag(&d, LM_WARNING, 1, "lookupdotdomain"));
    lm_diags_fini(&d);
    lm_policy_free(p);
}
END_TEST

/* --- errors ------------------------------------------------------------------------ */

START_TEST(errors_all_reported)
{
    struct lm_diags d;
    int rc;
    struct lm_policy *p = sm_parse(
        "  indented\tOK\n"                      /* 1 leading blank */
        "nokey\n"                               /* 2 no RHS */
        "a.example\tPERMIT\n"                   /* 3 unknown RHS */
        "b.example\tERROR:hello\n"              /* 4 ERROR without code */
        "c.example\tREJECT now\n"               /* 5 text after keyword */
        "Connect:[1.2.3.4]\tREJECT\n"           /* 6 brackets */
        "From:user+*@example.com\tREJECT\n"     /* 7 detail wildcard */
        "d.example\tERROR:\"550 open\n"         /* 8 unbalanced quote */
        "good.example\tOK\n"                    /* 9 */
        "GOOD.example\tREJECT\n"                /* 10 duplicate after folding */
        "Spam:abuse@\tRELAY\n", &d, &rc);       /* 11 Spam: needs FRIEND/HATER */

    ck_assert_int_eq(rc, -1);
    ck_assert_uint_eq(d.nerrors, 10);
    ck_assert(tu_has_diag(&d, LM_ERROR, 1, "white space"));
    ck_assert_uint_eq(d.v[0].col, 3);
    ck_assert_int_eq(d.v[0].code, LM_E_SYNTAX);
    ck_assert_str_eq(d.v[0].file, "access");
    ck_assert(tu_has_diag(&d, LM_ERROR, 2, "no right-hand side"));
    ck_assert(tu_has_diag(&d, LM_ERROR, 3, "unknown right-hand side \"PERMIT\""));
    ck_assert(tu_has_diag(&d, LM_ERROR, 4, "reply code"));
    ck_assert(tu_has_diag(&d, LM_ERROR, 5, "unexpected text after"));
    ck_assert(tu_has_diag(&d, LM_ERROR, 6, "bracketed"));
    ck_assert(tu_has_diag(&d, LM_ERROR, 7, "detail wildcard"));
    ck_assert(tu_has_diag(&d, LM_ERROR, 8, "unbalanced quote"));
    ck_assert(tu_has_diag(&d, LM_ERROR, 10, "duplicate key \"GOOD.example\" (first defined "
                          "at line 9"));
    ck_assert(tu_has_diag(&d, LM_ERROR, 11, "FRIEND or HATER"));
    /* the good line is still read; the duplicate keeps the first */
    ck_assert_uint_eq(p->nrules, 1);
    ck_assert_int_eq(p->rules[0].action, LM_A_OK);
    lm_diags_fini(&d);
    lm_policy_free(p);
}
END_TEST

START_TEST(errors_long_line_and_column)
{
    struct lm_diags d;
    int rc;
    char *text = malloc(1200);
    struct lm_policy *p;

    memset(text, 'a', 1100);
    memcpy(text + 1090, "\tREJECT\n", 9);
    p = sm_parse(text, &d, &rc);
    ck_assert_int_eq(rc, -1);
    ck_assert(tu_has_diag(&d, LM_ERROR, 1, "makemap reads at most 1022"));
    lm_diags_fini(&d);
    lm_policy_free(p);
    p = sm_parse("x.example\tBOGUS\n", &d, &rc);
    ck_assert_uint_eq(d.v[0].col, 11);
    lm_diags_fini(&d);
    lm_policy_free(p);
    free(text);
}
END_TEST

START_TEST(detect_scores)
{
    const char *acc = "Connect:10.1\tRELAY\nspam@x.example REJECT\n";
    const char *plain = "spammail.com\tREJECT\nuseful.org\tOK\n";
    const char *tcp = "127.0.0.1:allow,RELAYCLIENT=\"\"\n:allow\n";
    const char *pol = "connect net 10.0.0.0/8 relay\n";

    ck_assert_int_eq(lm_codec_sendmail.detect(NULL, acc, strlen(acc)), LM_DETECT_SURE);
    ck_assert_int_eq(lm_codec_sendmail.detect(NULL, plain, strlen(plain)), LM_DETECT_LIKELY);
    ck_assert_int_eq(lm_codec_sendmail.detect("/etc/mail/access", plain, strlen(plain)),
                     LM_DETECT_SURE);
    ck_assert_int_eq(lm_codec_sendmail.detect(NULL, tcp, strlen(tcp)), LM_DETECT_NO);
    ck_assert_int_eq(lm_codec_sendmail.detect(NULL, pol, strlen(pol)), LM_DETECT_NO);
}
END_TEST

/* --- emit ------------------------------------------------------------------------------ */

START_TEST(emit_nested_networks)
{
    struct lm_policy *p = tu_neutral("connect net 10.0.0.0/8 reject\n"
                                     "connect net 10.1.0.0/16 relay\n"
                                     "connect net 10.1.2.0/24 ok\n"
                                     "connect net 192.168.0.0/20 relay\n"
                                     "connect net 127.0.0.1 relay\n"
                                     "connect net ::1 relay\n");
    struct lm_losses l;
    char *out = sm_emit(p, &l);

    ck_assert_str_eq(out,
                     "Connect:10\tREJECT\n"
                     "Connect:10.1\tRELAY\n"
                     "Connect:10.1.2\tOK\n"
                     "Connect:127.0.0.1\tRELAY\n"
                     "Connect:192.168.0\tRELAY\n" "Connect:192.168.1\tRELAY\n"
                     "Connect:192.168.2\tRELAY\n" "Connect:192.168.3\tRELAY\n"
                     "Connect:192.168.4\tRELAY\n" "Connect:192.168.5\tRELAY\n"
                     "Connect:192.168.6\tRELAY\n" "Connect:192.168.7\tRELAY\n"
                     "Connect:192.168.8\tRELAY\n" "Connect:192.168.9\tRELAY\n"
                     "Connect:192.168.10\tRELAY\n" "Connect:192.168.11\tRELAY\n"
                     "Connect:192.168.12\tRELAY\n" "Connect:192.168.13\tRELAY\n"
                     "Connect:192.168.14\tRELAY\n" "Connect:192.168.15\tRELAY\n"
                     "Connect:IPv6:0:0:0:0:0:0:0:1\tRELAY\n");
    ck_assert_uint_eq(l.n, 0);
    free(out);
    lm_losses_fini(&l);
    lm_policy_free(p);
}
END_TEST

START_TEST(emit_ranges_and_v6)
{
    struct lm_policy *p = tu_neutral("connect net 1.2.3.4-1.2.3.6 reject\n"
                                     "connect net 2001:db8::/32 relay\n"
                                     "connect net 2001:db8:1::/48 reject\n"
                                     "connect net 127.0.0.1 relay\n");
    struct lm_losses l;
    char *out = sm_emit(p, &l);

    ck_assert_str_eq(out,
                     "Connect:1.2.3.4\tREJECT\n"
                     "Connect:1.2.3.5\tREJECT\n"
                     "Connect:1.2.3.6\tREJECT\n"
                     "Connect:127.0.0.1\tRELAY\n"
                     "Connect:IPv6:2001:db8\tRELAY\n"
                     "Connect:IPv6:2001:db8:1\tREJECT\n");
    /* Sendmail letting ::1 relay by itself is no loss of the emitter */
    ck_assert_uint_eq(l.n, 0);
    free(out);
    lm_losses_fini(&l);
    lm_policy_free(p);
}
END_TEST

START_TEST(emit_names_tags_errors)
{
    struct lm_policy *p = tu_neutral(
        "connect net 127.0.0.1 relay\n"
        "connect domain spammer.example reject\n"
        "from address bad@example.com error 550 5.7.1 \"Go away\"\n"
        "from user free.stealth.mailer error 550 \"two  spaces\"\n"
        "to domain example.net relay\n"
        "any domain spammail.com reject\n"
        "accept domain example.com\n"
        "accept subdomains example.org\n"
        "connect net ::1 relay\n");
    struct lm_losses l;
    char *out = sm_emit(p, &l);

    ck_assert_str_eq(out,
                     "Connect:127.0.0.1\tRELAY\n"
                     "Connect:IPv6:0:0:0:0:0:0:0:1\tRELAY\n"
                     "Connect:spammer.example\tREJECT\n"
                     "From:bad@example.com\tERROR:5.7.1:550 Go away\n"
                     "From:free.stealth.mailer@\tERROR:\"550 two  spaces\"\n"
                     "To:example.net\tRELAY\n"
                     "spammail.com\tREJECT\n"
                     "To:example.com\tRELAY\n"
                     "To:.example.org\tRELAY\n");
    /* the ".example.org" key needs FEATURE(lookupdotdomain) */
    ck_assert_uint_eq(l.n, 1);
    ck_assert_int_eq(l.v[0].kind, LM_LOSS_NARROWED);
    ck_assert_int_eq(l.v[0].widens, 0);
    ck_assert_uint_eq(l.v[0].line, 8);
    free(out);
    lm_losses_fini(&l);
    lm_policy_free(p);
}
END_TEST

START_TEST(emit_losses)
{
    struct lm_policy *p = tu_neutral(
        "connect net 127.0.0.1 relay\n"                 /* 1 */
        "connect name host.example.org relay\n"         /* 2 exact name: widened */
        "from domain friend.example relay\n"            /* 3 needs relay_mail_from */
        "connect anyhost reject\n"                      /* 4 no such key */
        "accept name example.com\n"                     /* 5 exact domain: widened */
        "local 192.0.2.1\n"                            /* 6 own address */
        "connect net ::1 relay\n");                     /* 7 as Sendmail does */
    struct lm_losses l;
    char *out = sm_emit(p, &l);
    size_t i, widen = 0;

    ck_assert_uint_eq(l.n, 5);
    for (i = 0; i < l.n; i++)
        widen += l.v[i].widens != 0;
    ck_assert_uint_eq(l.nwiden, widen);
    ck_assert_uint_eq(l.v[0].line, 2);
    ck_assert_int_eq(l.v[0].kind, LM_LOSS_WIDENED);
    ck_assert_int_eq(l.v[0].widens, 1);
    ck_assert_uint_eq(l.v[1].line, 3);
    ck_assert_int_eq(l.v[1].kind, LM_LOSS_NARROWED);
    ck_assert_int_eq(l.v[1].widens, 0);
    ck_assert_uint_eq(l.v[2].line, 4);
    ck_assert_int_eq(l.v[2].widens, 1);
    ck_assert_uint_eq(l.v[3].line, 5);
    ck_assert_uint_eq(l.v[4].line, 6);
    ck_assert_int_eq(l.v[4].widens, 0);
    free(out);
    lm_losses_fini(&l);
    lm_policy_free(p);
}
END_TEST

START_TEST(emit_loopback_v6)
{
    /* Sendmail lets 127.0.0.1 and ::1 relay by itself: the server's own
     * business, never a loss of the emitter (verification notes it) */
    static const char *const cases[] = {
        "connect net 127.0.0.1 relay\nconnect net ::1 relay\n",
        "connect net 127.0.0.1 relay\n",
        "connect net 127.0.0.0/8 relay\n",
        "connect net ::1 relay\n",
        "connect net 10.0.0.0/8 reject\n",
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct lm_policy *p = tu_neutral(cases[i]);
        struct lm_losses l;
        char *out = sm_emit(p, &l);

        ck_assert_msg(l.n == 0, "case %zu: %zu losses", i, l.n);
        free(out);
        lm_losses_fini(&l);
        lm_policy_free(p);
    }
}
END_TEST

/* More network keys than the old fixed cap of 65536: the cap is relative
 * to the input now (16 keys per network rule plus 65536). */
START_TEST(emit_many_networks)
{
    size_t n = 70000, i, len = 0, lines = 0;
    char *text = malloc(n * 40 + 64), *out, *c;
    struct lm_policy *p;
    struct lm_losses l;

    ck_assert_ptr_nonnull(text);
    len += (size_t)sprintf(text + len, "connect net 127.0.0.1 relay\nconnect net ::1 relay\n");
    for (i = 0; i < n; i++)
        len += (size_t)sprintf(text + len, "connect net 10.%zu.%zu.%zu reject\n",
                               i / 32768, i / 128 % 256, i % 128 * 2);  /* no neighbours */
    p = tu_neutral(text);
    out = sm_emit(p, &l);
    ck_assert_msg(l.n == 0, "%s", l.n ? l.v[0].why : "");
    for (c = out; (c = strchr(c, '\n')) != NULL; c++)
        lines++;
    ck_assert_uint_eq(lines, n + 2);
    free(out);
    free(text);
    lm_losses_fini(&l);
    lm_policy_free(p);
}
END_TEST

START_TEST(emit_qmail_order_conflict)
{
    /* qmail order: the address 1.2.3.4 beats the host name; Sendmail would
     * let the name decide, and relay */
    struct lm_policy *p = tu_neutral("order qmail\n"
                                     "connect net 1.2.3.4 deny\n"
                                     "connect name gw.example.com relay\n"
                                     "connect net 127.0.0.1 relay\n"
                                     "connect net ::1 relay\n");
    struct lm_losses l;
    char *out = sm_emit(p, &l);

    /* the exact name: the address decides first in qmail, and Sendmail's
     * name key also covers the subdomains */
    ck_assert_uint_eq(l.n, 2);
    ck_assert_int_eq(l.v[0].kind, LM_LOSS_CHANGED);
    ck_assert_int_eq(l.v[0].widens, 1);
    ck_assert_int_eq(l.v[1].kind, LM_LOSS_WIDENED);
    free(out);
    lm_losses_fini(&l);
    p->rules[1].kind = LM_K_TREE;
    out = sm_emit(p, &l);
    ck_assert_uint_eq(l.n, 1);
    ck_assert_int_eq(l.v[0].kind, LM_LOSS_CHANGED);
    ck_assert_int_eq(l.v[0].widens, 1);
    ck_assert_ptr_nonnull(strstr(l.v[0].why, "before addresses"));
    free(out);
    lm_losses_fini(&l);
    lm_policy_free(p);
}
END_TEST

/* --- round trips on seeded random policies ------------------------------------------- */

static unsigned long sm_seed;

static unsigned
sm_rand(unsigned n)
{
    sm_seed = sm_seed * 6364136223846793005UL + 1442695040888963407UL;
    return (unsigned)((sm_seed >> 33) % n);
}

static const char *const sm_names[] = {
    "example.com", "a.example.com", "b.a.example.com", "example.org", "spam.example",
};

/* A random access text that Sendmail can express exactly. */
static void
sm_random_access(char *buf, size_t cap)
{
    static const char *const rhs[] = {
        "RELAY", "OK", "REJECT", "DISCARD", "SKIP", "ERROR:5.7.1:550 no", "ERROR:451 later",
    };
    static const char *const tags[] = { "Connect:", "From:", "To:", "" };
    size_t n = 0, i, nl = 1 + sm_rand(14);

    buf[0] = '\0';
    for (i = 0; i < nl; i++) {
        char key[80];
        const char *tag = tags[sm_rand(4)];
        unsigned k = sm_rand(5);
        if (k <= 1) {
            unsigned o = 1 + sm_rand(4);
            snprintf(key, sizeof key, "Connect:%u", 10 + sm_rand(2));
            if (o > 1)
                snprintf(key + strlen(key), sizeof key - strlen(key), ".%u", sm_rand(3));
            if (o > 2)
                snprintf(key + strlen(key), sizeof key - strlen(key), ".%u", sm_rand(3));
            if (o > 3)
                snprintf(key + strlen(key), sizeof key - strlen(key), ".%u", sm_rand(3));
            if (sm_rand(2))
                memmove(key, key + 8, strlen(key + 8) + 1);     /* untagged */
        } else if (k == 2) {
            snprintf(key, sizeof key, "%s%s", tag, sm_names[sm_rand(5)]);
        } else if (k == 3) {
            snprintf(key, sizeof key, "%s%s@%s", tag[0] == 'C' ? "" : tag,
                     sm_rand(2) ? "joe" : "ann", sm_names[sm_rand(5)]);
        } else {
            snprintf(key, sizeof key, "Connect:IPv6:2001:db8%s", sm_rand(2) ? ":1" : "");
        }
        n += (size_t)snprintf(buf + n, cap - n, "%s\t%s\n", key, rhs[sm_rand(7)]);
    }
}

static const char *const sm_ips[] = {
    "10.0.0.1", "10.0.1.2", "10.1.0.0", "10.1.2.3", "10.2.2.2", "11.0.0.0", "11.1.1.1",
    "11.2.2.2", "127.0.0.1", "9.9.9.9", "2001:db8::1", "2001:db8:1::5", "2001:db9::1", "::1",
};
static const char *const sm_hosts[] = {
    NULL, "example.com", "x.a.example.com", "b.a.example.com", "example.org", "spam.example",
    "other.example",
};
static const char *const sm_addrs[] = {
    "joe@example.com", "ann@a.example.com", "joe@b.a.example.com", "x@example.org",
    "ann@spam.example", "x@other.example", "joe@x.example.org", "postmaster",
};

/* Compare two policies on a grid of clients, names and addresses. */
static void
sm_same(const struct lm_policy *a, const struct lm_policy *b, const char *what)
{
    size_t i, j, k, m;

    for (i = 0; i < sizeof sm_ips / sizeof sm_ips[0]; i++)
        for (j = 0; j < sizeof sm_hosts / sizeof sm_hosts[0]; j++)
            for (k = 0; k < sizeof sm_addrs / sizeof sm_addrs[0]; k += 3)
                for (m = 0; m < sizeof sm_addrs / sizeof sm_addrs[0]; m++) {
                    enum lm_verdict_kind va = sm_ask(a, sm_ips[i], sm_hosts[j], sm_addrs[k],
                                                     sm_addrs[m]);
                    enum lm_verdict_kind vb = sm_ask(b, sm_ips[i], sm_hosts[j], sm_addrs[k],
                                                     sm_addrs[m]);
                    ck_assert_msg(lm_verdict_same(va, vb), "%s: client %s host %s from %s "
                                  "to %s: %s vs %s", what, sm_ips[i],
                                  sm_hosts[j] ? sm_hosts[j] : "-", sm_addrs[k], sm_addrs[m],
                                  lm_verdict_verb(va), lm_verdict_verb(vb));
                }
}

START_TEST(roundtrip_random_access)
{
    char text[4096];
    int iter;

    sm_seed = 20261122;
    for (iter = 0; iter < 150; iter++) {
        struct lm_diags d;
        struct lm_losses l;
        struct lm_policy *p, *q;
        char *out;
        int rc;

        sm_random_access(text, sizeof text);
        p = sm_parse(text, &d, &rc);
        lm_diags_fini(&d);
        out = sm_emit(p, &l);
        ck_assert_msg(l.n == 0, "iteration %d: loss %s\n%s", iter, l.n ? l.v[0].why : "",
                      text);
        q = sm_parse(out, &d, &rc);
        ck_assert_msg(rc == 0, "iteration %d: output does not parse:\n%s", iter, out);
        lm_diags_fini(&d);
        sm_same(p, q, text);
        free(out);
        lm_losses_fini(&l);
        lm_policy_free(p);
        lm_policy_free(q);
    }
}
END_TEST

START_TEST(roundtrip_random_networks)
{
    /* neutral policies of networks of any length: the nested octet cover */
    int iter;

    sm_seed = 7;
    for (iter = 0; iter < 200; iter++) {
        static const char *const acts[] = { "relay", "ok", "reject", "discard" };
        char text[2048], ip[64];
        size_t n = 0, i, nr = 1 + sm_rand(6);
        struct lm_diags d;
        struct lm_losses l;
        struct lm_policy *p, *q;
        char *out;
        int rc;
        struct lm_query qq;

        n += (size_t)snprintf(text + n, sizeof text - n, "connect net 127.0.0.1 relay\n"
                              "connect net ::1 relay\n");
        for (i = 0; i < nr; i++)
            n += (size_t)snprintf(text + n, sizeof text - n, "connect net 10.%u.%u.0/%u %s\n",
                                  sm_rand(2), sm_rand(4) * 64, 10 + sm_rand(22),
                                  acts[sm_rand(4)]);
        /* host bits are an error in the neutral file: build through the model */
        p = lm_policy_new(NULL);
        {
            struct lm_source *s;
            lm_diags_init(&d);
            s = lm_source_mem("p.txt", text, n, &d);
            lm_codec_policy.parse(s, p, &d);
            lm_source_close(s);
            lm_diags_fini(&d);
        }
        out = sm_emit(p, &l);
        ck_assert_msg(l.n == 0, "iteration %d: %s", iter, l.n ? l.v[0].why : "");
        q = sm_parse(out, &d, &rc);
        ck_assert_int_eq(rc, 0);
        lm_diags_fini(&d);
        /* every address where some rule starts or ends, and its neighbours */
        for (i = 0; i < p->nrules; i++) {
            int k;
            for (k = 0; k < 4; k++) {
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
        lm_losses_fini(&l);
        lm_policy_free(p);
        lm_policy_free(q);
    }
}
END_TEST

Suite *sendmail_suite(void);

Suite *
sendmail_suite(void)
{
    Suite *s = suite_create("sendmail");
    TCase *tc;

    tc = tcase_create("parse");
    tcase_add_test(tc, parse_every_form);
    tcase_add_test(tc, parse_seed_example);
    tcase_add_test(tc, parse_reference_sample);
    tcase_add_test(tc, detect_scores);
    suite_add_tcase(s, tc);
    tc = tcase_create("lint");
    tcase_add_test(tc, lint_never);
    tcase_add_test(tc, lint_dotdomain);
    tcase_add_test(tc, lint_to_features);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, errors_all_reported);
    tcase_add_test(tc, errors_long_line_and_column);
    suite_add_tcase(s, tc);
    tc = tcase_create("emit");
    tcase_add_test(tc, emit_nested_networks);
    tcase_add_test(tc, emit_ranges_and_v6);
    tcase_add_test(tc, emit_names_tags_errors);
    tcase_add_test(tc, emit_losses);
    tcase_add_test(tc, emit_qmail_order_conflict);
    tcase_add_test(tc, emit_loopback_v6);
    tcase_add_test(tc, emit_many_networks);
    suite_add_tcase(s, tc);
    tc = tcase_create("roundtrip");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, roundtrip_random_access);
    tcase_add_test(tc, roundtrip_random_networks);
    suite_add_tcase(s, tc);
    return s;
}
