/*
 * check_verify.c - lm_verify is a proof: over seeded random policies in
 * every lookup order of a small universe (a few networks, names, senders,
 * recipients), every pair of policies that differs on some enumerated
 * transaction is found different, and every difference verify reports is
 * one that decide() confirms.  Also the issue's regression cases.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libmap/codec.h"
#include "libmap/convert.h"
#include "libmap/policy.h"
#include "libmap/source.h"

static char vt_names[][8] = { "ex", "a.ex", "b.a.ex", "c.ex" };
static char vt_addrs[][8] = { "u@a.ex", "v@ex", "u@c.ex" };
static char vt_users[][2] = { "u", "v" };
static char vt_infos[][4] = { "joe" };
static const enum lm_action vt_actions[] = { LM_A_RELAY, LM_A_OK, LM_A_REJECT,
                                             LM_A_DISCARD, LM_A_SKIP, LM_A_DENY };

static unsigned
vt_rand(unsigned *seed, unsigned n)
{
    *seed = *seed * 1103515245u + 12345u;
    return (*seed >> 16) % n;
}

static void
vt_net(unsigned *seed, struct lm_rule *r)
{
    struct lm_ipaddr a;
    struct lm_ipnet n;
    unsigned len = 29 + vt_rand(seed, 4), host = vt_rand(seed, 8);

    if (vt_rand(seed, 8) == 0) {
        lm_ipaddr_parse("127.0.0.1", 9, LM_IPF_V4, &a, NULL, NULL);
        len = 32;
    } else {
        lm_ipaddr_v4(&a, 10, 0, 0, host & ~((1u << (32 - len)) - 1));
    }
    lm_ipnet_make(&n, &a, len);
    lm_ipnet_range(&n, &r->net.range);
    r->net.form = LM_NF_CIDR;
    r->net.prefix = len;
}

/* A random rule of the universe. */
static void
vt_rule(unsigned *seed, struct lm_rule *r, unsigned long line)
{
    static const unsigned stages[] = { LM_S_CONNECT, LM_S_FROM, LM_S_TO, LM_S_ANY };

    memset(r, 0, sizeof *r);
    r->pos.file = "u";
    r->pos.line = line;
    r->stage = stages[vt_rand(seed, 4)];
    r->action = vt_actions[vt_rand(seed, 6)];
    switch (vt_rand(seed, 9)) {
    case 0: case 1:
        r->kind = LM_K_NET;
        r->stage = vt_rand(seed, 2) ? LM_S_CONNECT : LM_S_ANY;
        vt_net(seed, r);
        if (vt_rand(seed, 6) == 0)
            r->info = vt_infos[0];
        break;
    case 2:
        r->kind = LM_K_NAME;
        r->pattern = vt_names[vt_rand(seed, 4)];
        break;
    case 3:
        r->kind = LM_K_TREE;
        r->pattern = vt_names[vt_rand(seed, 4)];
        break;
    case 4:
        r->kind = LM_K_BELOW;
        r->pattern = vt_names[vt_rand(seed, 4)];
        break;
    case 5:
        r->kind = LM_K_ADDR;
        r->pattern = vt_addrs[vt_rand(seed, 3)];
        break;
    case 6:
        r->kind = LM_K_USER;
        r->pattern = vt_users[vt_rand(seed, 2)];
        break;
    case 7:
        r->stage = vt_rand(seed, 2) ? LM_S_CONNECT : LM_S_ANY;
        if (vt_rand(seed, 2)) {
            struct lm_ipaddr a;
            struct lm_ipnet n;
            r->kind = LM_K_SERVER;
            lm_ipaddr_v4(&a, 192, 0, 2, vt_rand(seed, 2) ? 0 : 8);
            lm_ipnet_make(&n, &a, 29 + vt_rand(seed, 2) * 3);
            lm_ipnet_range(&n, &r->net.range);
            r->net.prefix = n.prefix;
        } else {
            r->kind = LM_K_AUTH;
        }
        break;
    default:
        r->kind = vt_rand(seed, 2) ? LM_K_ANY : LM_K_ANYHOST;
        if (r->action == LM_A_RELAY && r->kind == LM_K_ANY)
            r->action = LM_A_OK;
        break;
    }
}

/* Orders no format uses yet, so that every property is exercised. */
static const struct lm_order vt_orders[] = {
    { "t1", LM_CONNECT_EXACT_FIRST, LM_NET_REFUSE_FIRST, LM_SENDER_NONE,
      LM_SENDER_RELAY_NEVER, 0, 0, "refused", 0 },
    { "t2", LM_CONNECT_NAMES_FIRST, LM_NET_FIRST, LM_SENDER_ACCESS,
      LM_SENDER_RELAY_ALWAYS, 1, 1, "refused", 0 },
    { "t3", LM_CONNECT_EXACT_FIRST, LM_NET_FIRST, LM_SENDER_EXACT,
      LM_SENDER_RELAY_TAGGED, 1, 0, "refused", 0 },
    /* "user@" after the domain, for senders and recipients */
    { "t4", LM_CONNECT_NAMES_FIRST, LM_NET_NARROWEST, LM_SENDER_ACCESS,
      LM_SENDER_RELAY_ALWAYS, 1, 0, "refused", 1 },
    { "t5", LM_CONNECT_EXACT_FIRST, LM_NET_FIRST, LM_SENDER_ACCESS,
      LM_SENDER_RELAY_TAGGED, 1, 1, "refused", 1 },
};

static const struct lm_order *
vt_order(unsigned *seed)
{
    const struct lm_codec *const *c = lm_codecs();
    unsigned n = 0, k;

    while (c[n] != NULL)
        n++;
    k = vt_rand(seed, n + (unsigned)(sizeof vt_orders / sizeof vt_orders[0]));
    return k < n ? c[k]->order : &vt_orders[k - n];
}

static struct lm_policy *
vt_policy(unsigned *seed, const struct lm_order *o, struct lm_diags *d)
{
    struct lm_policy *p = lm_policy_new(d);
    unsigned i, n = 1 + vt_rand(seed, 6);

    p->order = o;
    if (vt_rand(seed, 3) == 0)
        p->flags |= LM_P_RELAY_MAIL_FROM;
    for (i = 0; i < n; i++) {
        struct lm_rule r;
        vt_rule(seed, &r, i + 1);
        ck_assert_ptr_nonnull(lm_policy_add(p, &r, d));
    }
    if (vt_rand(seed, 2))
        lm_policy_add_domain(p, vt_names[vt_rand(seed, 4)],
                             vt_rand(seed, 2) ? LM_K_TREE : LM_K_NAME, NULL, d);
    if (vt_rand(seed, 4) == 0) {
        struct lm_rule_net net;
        struct lm_rule r;
        memset(&r, 0, sizeof r);
        vt_net(seed, &r);
        net = r.net;
        lm_policy_add_local(p, &net, NULL, d);
    }
    ck_assert_int_eq(lm_policy_index(p, d), 0);
    return p;
}

/* Every transaction of the universe: does some one decide differently? */
static int
vt_enum_differs(const struct lm_policy *a, const struct lm_policy *b)
{
    static const char *const ips[] = { "10.0.0.0", "10.0.0.1", "10.0.0.2", "10.0.0.3",
                                       "10.0.0.4", "10.0.0.5", "10.0.0.6", "10.0.0.7",
                                       "10.0.0.8", "127.0.0.1", "::1", "2001:db8::1" };
    static const char *const hosts[] = { NULL, "ex", "a.ex", "x.b.a.ex", "c.ex", "other" };
    static const char *const servers[] = { NULL, "192.0.2.1", "192.0.2.9" };
    static const char *const infos[] = { NULL, "joe", "ann" };
    static const char *const mail[] = { NULL, "u@a.ex", "v@ex", "u@c.ex", "w@a.ex",
                                        "v@b.a.ex", "w@other", "postmaster", "u@[10.0.0.1]",
                                        "u@[10.0.0.6]" };
    size_t i, h, k, s, t, v;

    for (i = 0; i < sizeof ips / sizeof ips[0]; i++)
        for (h = 0; h < sizeof hosts / sizeof hosts[0]; h++)
            for (k = 0; k < sizeof infos / sizeof infos[0]; k++)
              for (v = 0; v < 2 * sizeof servers / sizeof servers[0]; v++)
                for (s = 0; s < sizeof mail / sizeof mail[0]; s++)
                    for (t = 0; t < sizeof mail / sizeof mail[0]; t++) {
                        struct lm_query q;
                        struct lm_verdict va, vb;
                        memset(&q, 0, sizeof q);
                        lm_ipaddr_parse(ips[i], strlen(ips[i]), LM_IPF_V4 | LM_IPF_V6,
                                        &q.ip, NULL, NULL);
                        q.host = hosts[h];
                        q.info = infos[k];
                        if (servers[v / 2] != NULL)
                            lm_ipaddr_parse(servers[v / 2], strlen(servers[v / 2]),
                                            LM_IPF_V4, &q.server, NULL, NULL);
                        q.auth = (int)(v % 2);
                        q.sender = mail[s];
                        q.rcpt = mail[t];
                        lm_decide(a, &q, &va);
                        lm_decide(b, &q, &vb);
                        if (!lm_verdict_same(va.kind, vb.kind))
                            return 1;
                    }
    return 0;
}

START_TEST(proof_small_universe)
{
    /* make proof runs many more pairs from other seeds */
    const char *env_pairs = getenv("RELAYMAP_PROOF_PAIRS"), *env_seed = getenv("RELAYMAP_PROOF_SEED");
    unsigned pairs = env_pairs ? (unsigned)strtoul(env_pairs, NULL, 10) : 400;
    unsigned seed = env_seed ? (unsigned)strtoul(env_seed, NULL, 10) : 20261205u, n;
    size_t nalike = 0, ndiff = 0, nfound = 0;
    struct lm_diags d;

    lm_diags_init(&d);
    d.max_errors = 1000000;
    for (n = 0; n < pairs; n++) {
        const struct lm_order *oa = vt_order(&seed);
        unsigned s0 = seed;
        struct lm_policy *a = vt_policy(&seed, oa, &d);
        struct lm_policy *b;
        struct lm_convert_report rep;
        int en, vr;
        /* half the pairs are the same rules, mostly in the same order, so
         * that "alike" is common too */
        if (n % 2) {
            const struct lm_order *ob = vt_rand(&seed, 3) ? oa : vt_order(&seed);
            b = vt_policy(&s0, ob, &d);
        } else {
            b = vt_policy(&seed, vt_order(&seed), &d);
        }
        lm_convert_report_init(&rep);
        rep.strict_loopback = 1;
        vr = lm_verify(a, b, "a", "b", 1, 2, &rep, &d);
        ck_assert_int_ne(vr, -1);
        en = vt_enum_differs(a, b);
        /* the enumeration is a part of the space: a difference it finds
         * must be found; "alike" must hold on all of it */
        if (en)
            ck_assert_msg(vr == LM_NOTFOUND, "policy pair %u: enumeration differs, "
                          "verify says alike", n);
        if (vr == 0)
            ck_assert_msg(!en, "policy pair %u: verify says alike", n);
        nalike += vr == 0;
        ndiff += en;
        nfound += vr == LM_NOTFOUND;
        lm_convert_report_fini(&rep);
        lm_policy_free(a);
        lm_policy_free(b);
        lm_diags_fini(&d);
        lm_diags_init(&d);
        d.max_errors = 1000000;
    }
    /* the universe must exercise both answers */
    ck_assert_uint_gt(nalike, pairs / 20);
    ck_assert_uint_gt(ndiff, pairs / 8);
    ck_assert_uint_ge(nfound, ndiff);
    lm_diags_fini(&d);
}
END_TEST

static struct lm_policy *
vt_parse(const struct lm_codec *c, const char *text)
{
    struct lm_diags d;
    struct lm_source *s;
    struct lm_policy *p;

    lm_diags_init(&d);
    p = lm_policy_new(&d);
    s = lm_source_mem("in", text, strlen(text), &d);
    ck_assert_int_eq(c->parse(s, p, &d), 0);
    ck_assert_int_eq(lm_policy_index(p, &d), 0);
    lm_source_close(s);
    lm_diags_fini(&d);
    return p;
}

/* The cases that sampling let through: a host-name rule hidden behind many
 * address rules, and a recipient rule inside an accepted domain. */
START_TEST(regressions)
{
    struct lm_diags d;
    struct lm_convert_report rep;
    char text[4096];
    size_t len = 0, i;
    struct lm_policy *sm, *qm, *a, *b;

    lm_diags_init(&d);
    d.max_errors = 1000;
    len += (size_t)snprintf(text + len, sizeof text - len, "Connect:test.net OK\n");
    for (i = 1; i <= 38; i++)
        len += (size_t)snprintf(text + len, sizeof text - len,
                                "Connect:198.51.100.%zu REJECT\n", i);
    snprintf(text + len, sizeof text - len, "Connect:192.168 RELAY\n");
    sm = vt_parse(&lm_codec_sendmail, text);
    /* what the old qmail output said: the network before the name */
    qm = vt_parse(&lm_codec_qmail, "192.168.:allow,RELAYCLIENT=\"\"\n=.test.net:allow\n");
    lm_convert_report_init(&rep);
    ck_assert_int_eq(lm_verify(sm, qm, "a", "b", 10, 0, &rep, &d), LM_NOTFOUND);
    ck_assert_uint_gt(rep.nwider, 0);
    lm_convert_report_fini(&rep);

    a = vt_parse(&lm_codec_policy, "accept domain example.com\nto user spam ok\n"
                                   "connect net 10.0.0.0/8 relay\n");
    b = vt_parse(&lm_codec_sendmail, "To:example.com RELAY\nTo:spam@ OK\n"
                                     "Connect:10 RELAY\n");
    lm_convert_report_init(&rep);
    ck_assert_int_eq(lm_verify(a, b, "a", "b", 10, 0, &rep, &d), LM_NOTFOUND);
    lm_convert_report_fini(&rep);
    lm_policy_free(sm);
    lm_policy_free(qm);
    lm_policy_free(a);
    lm_policy_free(b);
    lm_diags_fini(&d);
}
END_TEST

Suite *verify_suite(void);

Suite *
verify_suite(void)
{
    Suite *s = suite_create("verify");
    TCase *tc = tcase_create("proof");

    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, proof_small_universe);
    tcase_add_test(tc, regressions);
    suite_add_tcase(s, tc);
    return s;
}
