/*
 * check_policy.c - the policy model and lm_decide(): each format's lookup
 * order (Sendmail, qmail, neutral), accepted domains, local addresses,
 * loopback, SKIP, OK never relaying; the neutral file parser's errors; lint;
 * and the network index against a brute-force search on random policies.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libmap/codec.h"
#include "libmap/policy.h"
#include "libmap/source.h"
#include "libmap/util.h"

#define FOREIGN "user@elsewhere.example"

/* Parse a neutral policy text; fails the test on any error. */
static struct lm_policy *
mk(const char *text)
{
    struct lm_diags d;
    struct lm_source *s;
    struct lm_policy *p;

    lm_diags_init(&d);
    p = lm_policy_new(&d);
    s = lm_source_mem("t.txt", text, strlen(text), &d);
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(lm_codec_policy.parse(s, p, &d), 0);
    ck_assert_uint_eq(d.nerrors, 0);
    lm_source_close(s);
    lm_diags_fini(&d);
    return p;
}

/* The verdict for one transaction; *line gets the deciding rule's line. */
static enum lm_verdict_kind
ask(const struct lm_policy *p, const char *ip, const char *host, const char *from,
    const char *to, unsigned long *line)
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
    ck_assert_int_eq(lm_decide(p, &q, &v), 0);
    if (line != NULL)
        *line = v.rule ? v.rule->pos.line : 0;
    return v.kind;
}

START_TEST(sendmail_host_before_address)
{
    struct lm_policy *p = mk("order sendmail\n"
                             "connect domain example.com reject\n"
                             "connect net 10.0.0.0/8 relay\n");
    unsigned long line;

    /* Sendmail looks the client's name up before its address. */
    ck_assert_int_eq(ask(p, "10.1.1.1", "a.example.com", NULL, FOREIGN, &line), LM_V_REJECT);
    ck_assert_uint_eq(line, 2);
    ck_assert_int_eq(ask(p, "10.1.1.1", "a.example.org", NULL, FOREIGN, &line), LM_V_RELAY);
    ck_assert_uint_eq(line, 3);
    /* qmail's order: a prefix beats a host suffix. */
    p->order = lm_codec_qmail.order;
    ck_assert_int_eq(ask(p, "10.1.1.1", "a.example.com", NULL, FOREIGN, &line), LM_V_RELAY);
    lm_policy_free(p);
}
END_TEST

START_TEST(qmail_key_order)
{
    struct lm_policy *p = mk("order qmail\n"
                             "connect net 1.2.3.4 deny\n"            /* 2 */
                             "connect name h.example.com relay\n"    /* 3 */
                             "connect net 1.2.3.0/24 ok\n"           /* 4 */
                             "connect subdomains example.com deny\n" /* 5 */
                             "connect subdomains com relay\n"        /* 6 */
                             "connect anyhost ok\n"                  /* 7 */
                             "default deny\n");                      /* 8 */
    unsigned long line;

    ck_assert_int_eq(ask(p, "1.2.3.4", "h.example.com", NULL, FOREIGN, &line), LM_V_DENY);
    ck_assert_uint_eq(line, 2);
    ck_assert_int_eq(ask(p, "1.2.3.5", "h.example.com", NULL, FOREIGN, &line), LM_V_RELAY);
    ck_assert_uint_eq(line, 3);
    ck_assert_int_eq(ask(p, "1.2.3.5", "x.example.com", NULL, FOREIGN, &line), LM_V_REFUSE);
    ck_assert_uint_eq(line, 0);     /* line 4 allowed the client; no relay */
    ck_assert_int_eq(ask(p, "9.9.9.9", "x.example.com", NULL, FOREIGN, &line), LM_V_DENY);
    ck_assert_uint_eq(line, 5);
    ck_assert_int_eq(ask(p, "9.9.9.9", "x.other.com", NULL, FOREIGN, &line), LM_V_RELAY);
    ck_assert_uint_eq(line, 6);
    ck_assert_int_eq(ask(p, "9.9.9.9", "x.other.org", NULL, FOREIGN, &line), LM_V_REFUSE);
    ck_assert_int_eq(ask(p, "9.9.9.9", NULL, NULL, FOREIGN, &line), LM_V_DENY);
    ck_assert_uint_eq(line, 8);
    /* "=.example.com" does not match example.com itself */
    ck_assert_int_eq(ask(p, "9.9.9.9", "example.com", NULL, FOREIGN, &line), LM_V_RELAY);
    /* no loopback privilege in qmail */
    ck_assert_int_eq(ask(p, "127.0.0.1", NULL, NULL, FOREIGN, NULL), LM_V_DENY);
    lm_policy_free(p);
}
END_TEST

START_TEST(qmail_first_duplicate_and_ident)
{
    struct lm_policy *p = mk("order qmail\n"
                             "connect net 1.2.3.4 ident joe deny\n"
                             "connect net 1.2.3.4 relay\n"
                             "connect net 1.2.3.4 deny\n");
    struct lm_query q;
    struct lm_verdict v;

    ck_assert_int_eq(ask(p, "1.2.3.4", NULL, NULL, FOREIGN, NULL), LM_V_RELAY);
    memset(&q, 0, sizeof q);
    lm_ipaddr_parse("1.2.3.4", 7, LM_IPF_V4, &q.ip, NULL, NULL);
    q.info = "joe";
    q.rcpt = FOREIGN;
    lm_decide(p, &q, &v);
    ck_assert_int_eq(v.kind, LM_V_DENY);
    ck_assert_uint_eq(v.rule->pos.line, 2);
    lm_policy_free(p);
}
END_TEST

START_TEST(narrowest_then_tagged)
{
    struct lm_policy *p = mk("order sendmail\n"
                             "connect net 10.0.0.0/8 reject\n"
                             "connect net 10.1.0.0/16 relay\n"
                             "any net 10.2.0.0/16 reject\n"
                             "connect net 10.2.0.0/16 relay\n");

    ck_assert_int_eq(ask(p, "10.1.9.9", NULL, NULL, FOREIGN, NULL), LM_V_RELAY);
    ck_assert_int_eq(ask(p, "10.3.9.9", NULL, NULL, FOREIGN, NULL), LM_V_REJECT);
    /* Connect: before the untagged key of the same network */
    ck_assert_int_eq(ask(p, "10.2.0.1", NULL, NULL, FOREIGN, NULL), LM_V_RELAY);
    lm_policy_free(p);
}
END_TEST

START_TEST(skip_and_ok)
{
    struct lm_policy *p = mk("order sendmail\n"
                             "option no-loopback\n"
                             "connect net 128.32.0.0/16 reject\n"
                             "connect net 128.32.2.0/24 skip\n"
                             "connect net 10.0.0.0/8 ok\n");

    ck_assert_int_eq(ask(p, "128.32.1.1", NULL, NULL, FOREIGN, NULL), LM_V_REJECT);
    ck_assert_int_eq(ask(p, "128.32.2.5", NULL, NULL, FOREIGN, NULL), LM_V_REFUSE);
    /* OK never grants relaying, but lets local mail in */
    ck_assert_int_eq(ask(p, "10.0.0.1", NULL, NULL, FOREIGN, NULL), LM_V_REFUSE);
    ck_assert_int_eq(ask(p, "10.0.0.1", NULL, NULL, "postmaster", NULL), LM_V_ACCEPT);
    ck_assert_int_eq(ask(p, "127.0.0.1", NULL, NULL, FOREIGN, NULL), LM_V_REFUSE);
    lm_policy_free(p);
}
END_TEST

START_TEST(loopback)
{
    struct lm_policy *p = mk("order sendmail\n");

    ck_assert_int_eq(ask(p, "127.0.0.1", NULL, NULL, FOREIGN, NULL), LM_V_RELAY);
    ck_assert_int_eq(ask(p, "::1", NULL, NULL, FOREIGN, NULL), LM_V_RELAY);
    ck_assert_int_eq(ask(p, "127.0.0.2", NULL, NULL, FOREIGN, NULL), LM_V_REFUSE);
    p->order = &lm_order_most_specific;
    ck_assert_int_eq(ask(p, "127.0.0.1", NULL, NULL, FOREIGN, NULL), LM_V_REFUSE);
    lm_policy_free(p);
}
END_TEST

START_TEST(sender_order)
{
    struct lm_policy *p = mk("order sendmail\n"
                             "from address a@x.org ok\n"
                             "from user a reject\n"
                             "from domain x.org error 550 5.7.1 \"go away\"\n"
                             "any domain spam.net discard\n");
    unsigned long line;

    ck_assert_int_eq(ask(p, "9.9.9.9", NULL, "A@X.org", "postmaster", NULL), LM_V_ACCEPT);
    ck_assert_int_eq(ask(p, "9.9.9.9", NULL, "b@x.org", "postmaster", &line), LM_V_REJECT);
    ck_assert_uint_eq(line, 4);
    ck_assert_int_eq(ask(p, "9.9.9.9", NULL, "b@sub.x.org", "postmaster", &line), LM_V_REJECT);
    ck_assert_int_eq(ask(p, "9.9.9.9", NULL, "a@y.org", "postmaster", &line), LM_V_REJECT);
    ck_assert_uint_eq(line, 3);
    ck_assert_int_eq(ask(p, "9.9.9.9", NULL, "z@a.spam.net", "postmaster", NULL),
                     LM_V_DISCARD);
    ck_assert_int_eq(ask(p, "9.9.9.9", NULL, "", "postmaster", NULL), LM_V_ACCEPT);
    ck_assert_int_eq(p->rules[2].code, 550);
    ck_assert_str_eq(p->rules[2].dsn, "5.7.1");
    ck_assert_str_eq(p->rules[2].text, "go away");
    lm_policy_free(p);
}
END_TEST

START_TEST(relay_mail_from)
{
    struct lm_policy *p = mk("order sendmail\n"
                             "option no-loopback\n"
                             "from address boss@x.org relay\n"
                             "any address pal@x.org relay\n");

    ck_assert_int_eq(ask(p, "9.9.9.9", NULL, "boss@x.org", FOREIGN, NULL), LM_V_REFUSE);
    p->flags |= LM_P_RELAY_MAIL_FROM;
    ck_assert_int_eq(ask(p, "9.9.9.9", NULL, "boss@x.org", FOREIGN, NULL), LM_V_RELAY);
    /* an untagged key never relays by sender */
    ck_assert_int_eq(ask(p, "9.9.9.9", NULL, "pal@x.org", FOREIGN, NULL), LM_V_REFUSE);
    /* neutral: an explicit from rule relays */
    p->order = &lm_order_most_specific;
    ck_assert_int_eq(ask(p, "9.9.9.9", NULL, "boss@x.org", FOREIGN, NULL), LM_V_RELAY);
    lm_policy_free(p);
}
END_TEST

START_TEST(accepted_domains)
{
    struct lm_policy *p = mk("accept name a.com\n"
                             "accept subdomains b.com\n"
                             "accept domain c.com\n"
                             "local 192.0.2.25\n"
                             "to address abuse@d.com relay\n"
                             "to domain e.com reject\n"
                             "connect net 10.0.0.0/8 relay\n");

    ck_assert_int_eq(ask(p, "9.9.9.9", NULL, NULL, "u@A.com", NULL), LM_V_ACCEPT);
    ck_assert_int_eq(ask(p, "9.9.9.9", NULL, NULL, "u@x.a.com", NULL), LM_V_REFUSE);
    ck_assert_int_eq(ask(p, "9.9.9.9", NULL, NULL, "u@b.com", NULL), LM_V_REFUSE);
    ck_assert_int_eq(ask(p, "9.9.9.9", NULL, NULL, "u@x.y.b.com", NULL), LM_V_ACCEPT);
    ck_assert_int_eq(ask(p, "9.9.9.9", NULL, NULL, "u@c.com", NULL), LM_V_ACCEPT);
    ck_assert_int_eq(ask(p, "9.9.9.9", NULL, NULL, "u@x.c.com", NULL), LM_V_ACCEPT);
    ck_assert_int_eq(ask(p, "9.9.9.9", NULL, NULL, "u@[192.0.2.25]", NULL), LM_V_ACCEPT);
    ck_assert_int_eq(ask(p, "9.9.9.9", NULL, NULL, "u@[192.0.2.26]", NULL), LM_V_REFUSE);
    ck_assert_int_eq(ask(p, "9.9.9.9", NULL, NULL, "abuse@d.com", NULL), LM_V_ACCEPT);
    ck_assert_int_eq(ask(p, "10.0.0.1", NULL, NULL, "u@e.com", NULL), LM_V_REJECT);
    ck_assert_int_eq(ask(p, "10.0.0.1", NULL, NULL, "u@f.com", NULL), LM_V_RELAY);
    ck_assert_int_eq(ask(p, "10.0.0.1", NULL, NULL, "u@c.com", NULL), LM_V_ACCEPT);
    lm_policy_free(p);
}
END_TEST

/* A repeated accepted domain is LM_EXISTS and adds nothing; the same name
 * of another kind is a new domain; the neutral parser warns. */
START_TEST(add_domain_exists)
{
    struct lm_policy *p;
    struct lm_diags d;
    struct lm_source *s;
    struct lm_pos pos = { "x", 1, 0 };
    const char *text = "accept domain a.org\naccept domain A.ORG\n";
    char name[32];
    int i;

    lm_diags_init(&d);
    p = lm_policy_new(&d);
    ck_assert_int_eq(lm_policy_add_domain(p, "Example.COM", LM_K_TREE, &pos, &d), 0);
    pos.line = 2;
    ck_assert_int_eq(lm_policy_add_domain(p, "example.com", LM_K_TREE, &pos, &d), LM_EXISTS);
    ck_assert_int_eq(lm_policy_add_domain(p, "example.com", LM_K_NAME, &pos, &d), 0);
    ck_assert_uint_eq(p->ndomains, 2);
    ck_assert_ptr_nonnull(lm_policy_domain(p, "example.com", LM_K_TREE));
    ck_assert_uint_eq(lm_policy_domain(p, "example.com", LM_K_TREE)->pos.line, 1);
    ck_assert_ptr_null(lm_policy_domain(p, "example.com", LM_K_BELOW));
    /* many names: the hash grows and finds every one again */
    for (i = 0; i < 5000; i++) {
        snprintf(name, sizeof name, "d%d.example", i);
        ck_assert_int_eq(lm_policy_add_domain(p, name, LM_K_NAME, &pos, &d), 0);
    }
    for (i = 0; i < 5000; i++) {
        snprintf(name, sizeof name, "d%d.example", i);
        ck_assert_int_eq(lm_policy_add_domain(p, name, LM_K_NAME, &pos, &d), LM_EXISTS);
    }
    ck_assert_uint_eq(p->ndomains, 5002);
    ck_assert_uint_eq(d.nerrors, 0);
    lm_policy_free(p);

    p = lm_policy_new(&d);
    s = lm_source_mem("t.txt", text, strlen(text), &d);
    ck_assert_int_eq(lm_codec_policy.parse(s, p, &d), 0);
    ck_assert_uint_eq(p->ndomains, 1);
    ck_assert_uint_eq(d.nwarnings, 1);
    ck_assert_str_eq(d.v[d.n - 1].msg, "\"accept domain a.org\" repeats t.txt:1");
    lm_source_close(s);
    lm_policy_free(p);
    lm_diags_fini(&d);
}
END_TEST

/* The neutral parser reports every bad line with its column. */
START_TEST(parse_errors)
{
    static const char text[] =
        "connect net 10.0.0.1/8 relay\n"         /* host bits */
        "bogus net 1.2.3.4 relay\n"              /* unknown word, col 1 */
        "connect address a@b.com relay\n"        /* address at connect, col 9 */
        "from domain x..org reject\n"            /* bad name, col 13 */
        "connect net 1.2.3.4 explode\n"          /* unknown action, col 21 */
        "to domain x.org error 999\n"            /* bad code, col 23 */
        "from domain x.org reject \"open\n"      /* unterminated quote */
        "connect net 1.2.3.4 relay\n";           /* fine */
    struct lm_diags d;
    struct lm_source *s;
    struct lm_policy *p;

    lm_diags_init(&d);
    p = lm_policy_new(&d);
    s = lm_source_mem("bad.txt", text, sizeof text - 1, &d);
    ck_assert_int_eq(lm_codec_policy.parse(s, p, &d), -1);
    ck_assert_uint_eq(d.nerrors, 7);
    ck_assert_uint_eq(p->nrules, 1);
    ck_assert_uint_eq(d.v[0].line, 1);
    ck_assert_int_eq(d.v[0].code, LM_E_SYNTAX);
    ck_assert_uint_eq(d.v[1].line, 2);
    ck_assert_uint_eq(d.v[1].col, 1);
    ck_assert(strstr(d.v[1].msg, "\"bogus\"") != NULL);
    ck_assert_uint_eq(d.v[2].col, 9);
    ck_assert_uint_eq(d.v[3].col, 13);
    ck_assert_uint_eq(d.v[4].col, 21);
    ck_assert_uint_eq(d.v[5].col, 23);
    ck_assert_uint_eq(d.v[6].line, 7);
    lm_source_close(s);
    lm_policy_free(p);
    lm_diags_fini(&d);
}
END_TEST

START_TEST(rule_text_round_trip)
{
    struct lm_policy *p = mk("connect net 10.1.2.0-10.1.2.77 ident joe error 451 4.7.1 "
                             "\"try \\\"later\\\"\" set RBLSMTPD=\"\" set X=\"a b\"\n"
                             "any never \"10.0.0.0/8\" relay\n");
    char *s = lm_rule_str(&p->rules[0]);

    ck_assert_str_eq(s, "connect net 10.1.2.0-10.1.2.77 ident joe error 451 4.7.1 "
                        "\"try \\\"later\\\"\" set RBLSMTPD=\"\" set X=\"a b\"");
    ck_assert_str_eq(lm_rule_getenv(&p->rules[0], "X"), "a b");
    free(s);
    s = lm_rule_str(&p->rules[1]);
    ck_assert_str_eq(s, "any never \"10.0.0.0/8\" relay");
    free(s);
    lm_policy_free(p);
}
END_TEST

START_TEST(lint_warnings)
{
    struct lm_policy *p = mk("connect net 10.0.0.0/8 relay\n"
                             "connect net 10.0.0.0/8 reject\n"   /* conflicting dup */
                             "connect net 0.0.0.0/1 relay\n"     /* very wide */
                             "connect net 8.0.0.0/12 relay\n"    /* public > /16 */
                             "from domain x.org relay\n"         /* sender relay */
                             "any never \"10.0.0.0/8\" relay\n"  /* never matches */
                             "from domain y.org reject\n"
                             "from domain y.org reject\n"        /* duplicate */
                             "connect anyhost relay\n");         /* open relay */
    struct lm_diags d;

    lm_diags_init(&d);
    ck_assert_uint_eq(lm_lint(p, &d), 6);   /* the never key: warned by the parser */
    ck_assert_uint_eq(d.nerrors, 0);
    ck_assert_uint_eq(d.nwarnings, 6);
    lm_diags_fini(&d);
    lm_policy_free(p);
}
END_TEST

/* A domain rule under a wider one with the same answer changes nothing;
 * an answer in between, another text or another stage keeps it. */
START_TEST(lint_wider_domain)
{
    struct lm_policy *p = mk("from domain spam.example reject\n"
                             "from domain mail.spam.example reject\n"     /* warned */
                             "from domain ok.spam.example ok\n"
                             "from domain x.ok.spam.example reject\n"     /* kept: ok between */
                             "from subdomains y.spam.example reject\n"    /* warned */
                             "to domain a.example error 550 5.7.1 \"no\"\n"
                             "to domain b.a.example error 550 5.7.1 \"other\"\n"
                             "to domain c.a.example error 550 5.7.1 \"no\"\n" /* warned */
                             "connect domain q.spam.example reject\n");   /* other stage */
    struct lm_diags d;
    size_t i;
    int seen[10] = { 0 };

    lm_diags_init(&d);
    ck_assert_uint_eq(lm_lint(p, &d), 3);
    for (i = 0; i < d.n; i++) {
        ck_assert_ptr_nonnull(strstr(d.v[i].msg, "changes nothing"));
        ck_assert_uint_lt(d.v[i].line, 10);
        seen[d.v[i].line] = 1;
    }
    ck_assert(seen[2] && seen[5] && seen[8]);
    lm_diags_fini(&d);
    lm_policy_free(p);
}
END_TEST

/* Reference: the narrowest network rule containing a, then tagged, then first. */
static long
brute(const struct lm_policy *p, const struct lm_ipaddr *a)
{
    long best = -1;
    size_t i;

    for (i = 0; i < p->nrules; i++) {
        const struct lm_rule *r = &p->rules[i], *b;
        unsigned long long wr, wb;
        if (lm_ipaddr_cmp(&r->net.range.lo, a) > 0 || lm_ipaddr_cmp(&r->net.range.hi, a) < 0)
            continue;
        if (best < 0) {
            best = (long)i;
            continue;
        }
        b = &p->rules[best];
        wr = (((unsigned long long)r->net.range.hi.b[0] << 24 | r->net.range.hi.b[1] << 16 |
               r->net.range.hi.b[2] << 8 | r->net.range.hi.b[3]) -
              ((unsigned long long)r->net.range.lo.b[0] << 24 | r->net.range.lo.b[1] << 16 |
               r->net.range.lo.b[2] << 8 | r->net.range.lo.b[3]));
        wb = (((unsigned long long)b->net.range.hi.b[0] << 24 | b->net.range.hi.b[1] << 16 |
               b->net.range.hi.b[2] << 8 | b->net.range.hi.b[3]) -
              ((unsigned long long)b->net.range.lo.b[0] << 24 | b->net.range.lo.b[1] << 16 |
               b->net.range.lo.b[2] << 8 | b->net.range.lo.b[3]));
        if (wr < wb || (wr == wb && r->stage == LM_S_CONNECT && b->stage != LM_S_CONNECT))
            best = (long)i;
    }
    return best;
}

START_TEST(index_matches_brute_force)
{
    static const enum lm_action acts[] = { LM_A_RELAY, LM_A_OK, LM_A_REJECT, LM_A_DENY };
    unsigned seed = 12345;
    int round;

    for (round = 0; round < 40; round++) {
        struct lm_diags d;
        struct lm_policy *p;
        int i, nr = 1 + (int)(rand_r(&seed) % 30);

        lm_diags_init(&d);
        p = lm_policy_new(&d);
        p->order = &lm_order_most_specific;
        for (i = 0; i < nr; i++) {
            struct lm_rule r;
            struct lm_ipaddr a;
            unsigned len = 20 + rand_r(&seed) % 13;
            memset(&r, 0, sizeof r);
            r.kind = LM_K_NET;
            r.stage = rand_r(&seed) % 2 ? LM_S_CONNECT : LM_S_ANY;
            r.action = acts[rand_r(&seed) % 4];
            r.pos.line = (unsigned long)i + 1;
            /* small space so that rules overlap a lot */
            lm_ipaddr_v4(&a, 10, 0, rand_r(&seed) % 4, rand_r(&seed) % 256);
            if (rand_r(&seed) % 3 == 0) {
                r.net.range.lo = a;
                r.net.range.hi = a;
                r.net.range.hi.b[3] = (unsigned char)(a.b[3] + (255 - a.b[3]) *
                                                      (rand_r(&seed) % 100) / 100);
                r.net.form = LM_NF_RANGE;
            } else {
                struct lm_ipnet n;
                lm_ipnet_make(&n, &a, len);
                lm_ipnet_range(&n, &r.net.range);
            }
            ck_assert_ptr_nonnull(lm_policy_add(p, &r, &d));
        }
        ck_assert_int_eq(lm_policy_index(p, &d), 0);
        for (i = 0; i < 1200; i++) {
            struct lm_query q;
            struct lm_verdict v;
            long want;
            memset(&q, 0, sizeof q);
            lm_ipaddr_v4(&q.ip, 10, 0, (unsigned)i / 256 % 5, (unsigned)i % 256);
            q.rcpt = FOREIGN;
            lm_decide(p, &q, &v);
            want = brute(p, &q.ip);
            if (want < 0) {
                ck_assert_int_eq(v.kind, LM_V_REFUSE);
                ck_assert_ptr_null(v.rule);
            } else {
                const struct lm_rule *w = &p->rules[want];
                if (w->action == LM_A_OK)
                    ck_assert_int_eq(v.kind, LM_V_REFUSE);
                else
                    ck_assert_ptr_eq(v.rule, w);
            }
        }
        lm_policy_free(p);
        lm_diags_fini(&d);
    }
}
END_TEST

/* Deep names: the rule at the tenth parent and the accepted domain at the
 * eleventh are found, and "subdomains" only below the name. */
START_TEST(deep_names)
{
    static const char deep[] = "a.b.c.d.e.f.g.h.i.j.example.org";
    struct lm_diags d;
    struct lm_policy *p = mk("connect domain example.org reject\n"
                             "from subdomains h.i.j.example.org reject\n"
                             "to name j.example.org relay\n"
                             "accept domain org\n");
    unsigned long line = 0;

    lm_diags_init(&d);
    ck_assert_int_eq(lm_policy_index(p, &d), 0);
    ck_assert_int_eq(ask(p, "192.0.2.1", deep, NULL, NULL, &line), LM_V_REJECT);
    ck_assert_uint_eq(line, 1);
    ck_assert_int_ne(ask(p, "192.0.2.1", "a.b.c.d.e.f.g.h.i.j.example.com", NULL, NULL,
                         NULL), LM_V_REJECT);
    ck_assert_int_eq(ask(p, NULL, NULL, "u@a.b.c.d.e.f.g.h.i.j.example.org", FOREIGN, &line),
                     LM_V_REJECT);
    ck_assert_uint_eq(line, 2);
    ck_assert_int_ne(ask(p, NULL, NULL, "u@h.i.j.example.org", FOREIGN, NULL), LM_V_REJECT);
    /* accepted by the domain "org", eleven levels up */
    ck_assert_int_eq(ask(p, NULL, NULL, NULL, "u@a.b.c.d.e.f.g.h.i.j.k.l.m.org", NULL),
                     LM_V_ACCEPT);
    ck_assert_int_eq(ask(p, NULL, NULL, NULL, "u@j.example.org", &line), LM_V_ACCEPT);
    ck_assert_uint_eq(line, 3);
    lm_policy_free(p);
    lm_diags_fini(&d);
}
END_TEST

START_TEST(text_has)
{
    static const char t[] = "abc smtpd_relay_x check_client_access;net-iplsearch;";
    size_t n = sizeof t - 1;

    ck_assert_int_eq(lm_text_has(t, n, "abc"), 1);                  /* at the start */
    ck_assert_int_eq(lm_text_has(t, n, "net-iplsearch;"), 1);       /* at the end */
    ck_assert_int_eq(lm_text_has(t, n, "check_client_access"), 1);
    ck_assert_int_eq(lm_text_has(t, n, "smtpd_relay_restrictions"), 0); /* a near miss */
    ck_assert_int_eq(lm_text_has(t, n - 1, "net-iplsearch;"), 0);   /* cut off */
    ck_assert_int_eq(lm_text_has(t, 2, "abc"), 0);
    ck_assert_int_eq(lm_text_has("_", 1, "_"), 1);
    ck_assert_int_eq(lm_text_has("x_y", 3, "_y_"), 0);
}
END_TEST

START_TEST(seen_set)
{
    struct lm_seen s;
    unsigned long first = 99;
    char key[32];
    int i;

    memset(&s, 0, sizeof s);
    ck_assert_int_eq(lm_seen_add(&s, "a", 1, &first), 0);
    ck_assert_uint_eq(first, 0);
    ck_assert_int_eq(lm_seen_add(&s, "b", (unsigned long)-1, &first), 0);
    ck_assert_uint_eq(first, 0);
    /* many more keys: the table grows and keeps every line */
    for (i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "key%d", i);
        ck_assert_int_eq(lm_seen_add(&s, key, (unsigned long)i + 10, &first), 0);
        ck_assert_uint_eq(first, 0);
    }
    ck_assert_int_eq(lm_seen_add(&s, "a", 7, &first), 0);
    ck_assert_uint_eq(first, 1);
    ck_assert_int_eq(lm_seen_add(&s, "b", 8, &first), 0);
    ck_assert_uint_eq(first, (unsigned long)-1);
    for (i = 0; i < 5000; i += 499) {
        snprintf(key, sizeof key, "key%d", i);
        ck_assert_int_eq(lm_seen_add(&s, key, 1, &first), 0);
        ck_assert_uint_eq(first, (unsigned long)i + 10);
    }
    ck_assert_uint_eq(s.n, 5002);
    lm_seen_fini(&s);
    ck_assert_uint_eq(s.n, 0);
}
END_TEST

Suite *policy_suite(void);

Suite *
policy_suite(void)
{
    Suite *s = suite_create("policy");
    TCase *tc = tcase_create("decide");

    tcase_add_test(tc, sendmail_host_before_address);
    tcase_add_test(tc, qmail_key_order);
    tcase_add_test(tc, qmail_first_duplicate_and_ident);
    tcase_add_test(tc, narrowest_then_tagged);
    tcase_add_test(tc, skip_and_ok);
    tcase_add_test(tc, loopback);
    tcase_add_test(tc, sender_order);
    tcase_add_test(tc, relay_mail_from);
    tcase_add_test(tc, accepted_domains);
    tcase_add_test(tc, add_domain_exists);
    tcase_add_test(tc, index_matches_brute_force);
    tcase_add_test(tc, deep_names);
    tcase_add_test(tc, text_has);
    tcase_add_test(tc, seen_set);
    suite_add_tcase(s, tc);
    tc = tcase_create("parse");
    tcase_add_test(tc, parse_errors);
    tcase_add_test(tc, rule_text_round_trip);
    tcase_add_test(tc, lint_warnings);
    tcase_add_test(tc, lint_wider_domain);
    suite_add_tcase(s, tc);
    return s;
}
