/*
 * check_antirelay.c - the EMWAC antirelay codec (ARDEF-1): antirelay.ini,
 * ARgoodIP.dat and ARdomain.dat read by name and by content, the network
 * forms ARDEF-1 accepts, every bad line with its line number, the file
 * names antirelay.ini gives (lm_codec.parts), the three files written, and
 * seeded round trips proven by lm_verify.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libmap/codec.h"
#include "libmap/convert.h"
#include "libmap/policy.h"
#include "libmap/source.h"
#include "tests/unit/testutil.h"

/* Parse TEXT as the file NAME into p; *rc gets parse()'s result. */
static void
ar_parse(struct lm_policy *p, const char *name, const char *text, struct lm_diags *d,
         int *rc)
{
    struct lm_source *s = lm_source_mem(name, text, strlen(text), d);

    *rc = lm_codec_antirelay.parse(s, p, d);
    lm_source_close(s);
}

static enum lm_verdict_kind
ar_decide(const struct lm_policy *p, const char *ip, const char *rcpt)
{
    struct lm_query q;
    struct lm_verdict v;

    memset(&q, 0, sizeof q);
    lm_ipaddr_parse(ip, strlen(ip), LM_IPF_V4 | LM_IPF_V6, &q.ip, NULL, NULL);
    q.rcpt = rcpt;
    lm_decide(p, &q, &v);
    return v.kind;
}

START_TEST(parse_three_files)
{
    struct lm_diags d;
    struct lm_policy *p;
    int rc;

    lm_diags_init(&d);
    p = lm_policy_new(&d);
    ar_parse(p, "dir/antirelay.ini", "; x\r\n[antirelay]\r\ngoodipfile = good.dat\r\n\r\n"
             "[LOCALNETS]\r\n net2 = 192.168.1.0/24 \r\nNET1=127.0.0.1\r\n"
             "net7=10.0.0.0;255.0.0.0\r\n[Extra]\r\nfoo=bar\r\n", &d, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert(tu_has_diag(&d, LM_WARNING, 9, "section [Extra] is not part of ARDEF-1"));
    /* by content: networks, then domains */
    ar_parse(p, "good.dat", "# good\n203.0.113.7\n198.51.100.0/255.255.255.240\n", &d, &rc);
    ck_assert_int_eq(rc, 0);
    ar_parse(p, "doms.txt", "Example.COM\n.example.org\n", &d, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(d.nerrors, 0);
    ck_assert_int_eq(lm_policy_index(p, &d), 0);
    ck_assert_ptr_eq(p->order, lm_codec_antirelay.order);
    ck_assert_uint_eq(p->nrules, 5);
    ck_assert_int_eq(ar_decide(p, "192.168.1.9", "u@x.example"), LM_V_RELAY);
    ck_assert_int_eq(ar_decide(p, "10.200.0.1", "u@x.example"), LM_V_RELAY);
    ck_assert_int_eq(ar_decide(p, "198.51.100.15", "u@x.example"), LM_V_RELAY);
    ck_assert_int_eq(ar_decide(p, "198.51.100.16", "u@x.example"), LM_V_REFUSE);
    ck_assert_int_eq(ar_decide(p, "198.51.100.16", "u@example.com"), LM_V_ACCEPT);
    ck_assert_int_eq(ar_decide(p, "198.51.100.16", "u@a.example.com"), LM_V_REFUSE);
    ck_assert_int_eq(ar_decide(p, "198.51.100.16", "u@a.example.org"), LM_V_ACCEPT);
    ck_assert_int_eq(ar_decide(p, "198.51.100.16", "u@example.org"), LM_V_REFUSE);
    lm_policy_free(p);
    lm_diags_fini(&d);
}
END_TEST

START_TEST(parse_errors)
{
    struct lm_diags d;
    struct lm_policy *p;
    int rc;

    lm_diags_init(&d);
    p = lm_policy_new(&d);
    ar_parse(p, "antirelay.ini", "[LocalNets]\nnet1=10.0.0.0/33\nnet2=10.0.0.0/255.0.255.0\n"
             "net3=10.0.0.1/8\nnet1=192.168.0.0/16\nnet4=2001:db8::/32\nnet5\n"
             "[AntiRelay]\nGoodIPFile=../x.dat\n[Broken\n", &d, &rc);
    ck_assert_int_eq(rc, -1);
    ck_assert(tu_has_diag(&d, LM_ERROR, 2, "prefix length 33"));
    ck_assert(tu_has_diag(&d, LM_ERROR, 3, "not contiguous"));
    ck_assert(tu_has_diag(&d, LM_ERROR, 4, "10.0.0.0/8"));
    ck_assert(tu_has_diag(&d, LM_ERROR, 5, "duplicate key \"net1\""));
    ck_assert(tu_has_diag(&d, LM_ERROR, 6, "IPv6"));
    ck_assert(tu_has_diag(&d, LM_ERROR, 7, "KEY=VALUE"));
    ck_assert(tu_has_diag(&d, LM_ERROR, 9, "want a file name"));
    ck_assert(tu_has_diag(&d, LM_ERROR, 10, "does not end with"));
    ar_parse(p, "ARdomain.dat", "ok.example\nbad..example\n-x_ y\n", &d, &rc);
    ck_assert_int_eq(rc, -1);
    ck_assert(tu_has_diag(&d, LM_ERROR, 2, "is not a domain name"));
    ck_assert(tu_has_diag(&d, LM_ERROR, 3, "is not a domain name"));
    lm_policy_free(p);
    lm_diags_fini(&d);
}
END_TEST

START_TEST(parts_names)
{
    static const char ini[] = "[LocalNets]\nnet1=10.0.0.0/8\n[AntiRelay]\n"
                              "DomainFile = doms.txt\nGoodIPFile=a/b\n";
    char *names[4] = { NULL, NULL, NULL, NULL };
    unsigned long lines[4] = { 0, 0, 0, 0 };
    struct lm_diags d;

    lm_diags_init(&d);
    ck_assert(lm_codec_antirelay.parts != NULL);
    ck_assert_int_eq(lm_codec_antirelay.parts("antirelay.ini", ini, strlen(ini), names, lines,
                                              &d), 0);
    ck_assert_ptr_null(names[1]);           /* a path is no file name: parse reports it */
    ck_assert_str_eq(names[2], "doms.txt");
    ck_assert_uint_eq(lines[2], 4);
    free(names[2]);
    lm_diags_fini(&d);
}
END_TEST

/* Emit P: the three files' texts, malloc'd. */
static void
ar_emit(const struct lm_policy *p, struct lm_losses *l, char **t)
{
    struct lm_diags d;
    size_t len[3];
    FILE *f[3];
    int i;

    lm_diags_init(&d);
    lm_losses_init(l);
    for (i = 0; i < 3; i++)
        f[i] = open_memstream(&t[i], &len[i]);
    ck_assert_int_eq(lm_codec_antirelay.emit(p, NULL, f, l, &d), 0);
    for (i = 0; i < 3; i++)
        fclose(f[i]);
    lm_diags_fini(&d);
}

START_TEST(emit_files)
{
    struct lm_policy *p = tu_neutral("connect net 172.16.5.0/24 relay\n"
                                     "connect net 172.16.5.128/26 ok\n"
                                     "connect net 203.0.113.7 relay\n"
                                     "accept domain example.com\naccept name example.net\n"
                                     "to subdomains example.org relay\n");
    struct lm_losses l;
    char *t[3];

    ar_emit(p, &l, t);
    ck_assert_uint_eq(l.n, 0);
    ck_assert_str_eq(t[0], "; AntiRelay settings (ARDEF-1)\r\n[AntiRelay]\r\n"
                           "GoodIPFile=ARgoodIP.dat\r\nDomainFile=ARdomain.dat\r\n\r\n"
                           "[LocalNets]\r\nnet1=172.16.5.0/25\r\nnet2=172.16.5.192/26\r\n");
    ck_assert_str_eq(t[1], "; ARgoodIP.dat (ARDEF-1)\r\n203.0.113.7\r\n");
    ck_assert_str_eq(t[2], "; ARdomain.dat (ARDEF-1)\r\nexample.com\r\n.example.com\r\n"
                           "example.net\r\n.example.org\r\n");
    free(t[0]);
    free(t[1]);
    free(t[2]);
    lm_losses_fini(&l);
    lm_policy_free(p);

    /* what ARDEF-1 cannot say */
    p = tu_neutral("connect net 10.0.0.0/8 relay\nconnect net 10.6.6.6 reject\n"
                   "connect authenticated relay\nlocal 192.0.2.1\n"
                   "connect net 2001:db8::/32 relay\n");
    ar_emit(p, &l, t);
    ck_assert_uint_eq(l.n, 4);
    ck_assert_uint_eq(l.v[0].line, 2);
    ck_assert_int_eq(l.v[0].widens, 1);
    ck_assert_uint_eq(l.v[1].line, 3);
    ck_assert_uint_eq(l.v[2].line, 5);
    ck_assert_uint_eq(l.v[3].line, 4);
    free(t[0]);
    free(t[1]);
    free(t[2]);
    lm_losses_fini(&l);
    lm_policy_free(p);
}
END_TEST

START_TEST(roundtrip_random)
{
    unsigned seed = 7u, k;

    for (k = 0; k < 300; k++) {
        char text[4096], *t[3];
        size_t len = 0, i;
        unsigned n;
        struct lm_policy *p, *back;
        struct lm_losses l;
        struct lm_diags d;
        struct lm_convert_report rep;
        int rc;
#define RND(m) ((seed = seed * 1103515245u + 12345u), (seed >> 16) % (m))
        n = 1 + RND(10);
        for (i = 0; i < n; i++) {
            unsigned plen = 1 + RND(32), ip = 0xc0a80000u | RND(65536);
            ip &= ~0u << (32 - plen);
            len += (size_t)snprintf(text + len, sizeof text - len,
                                    "connect net %u.%u.%u.%u/%u %s\n", ip >> 24,
                                    (ip >> 16) & 255, (ip >> 8) & 255, ip & 255, plen,
                                    RND(3) ? "relay" : "ok");
        }
        if (RND(2)) {
            const char *kind = RND(2) ? "domain" : "subdomains";
            unsigned which = RND(4);
            len += (size_t)snprintf(text + len, sizeof text - len, "accept %s d%u.example\n",
                                    kind, which);
        }
#undef RND
        p = tu_neutral(text);
        ar_emit(p, &l, t);
        ck_assert_uint_eq(l.n, 0);
        lm_diags_init(&d);
        back = lm_policy_new(&d);
        ar_parse(back, "antirelay.ini", t[0], &d, &rc);
        ck_assert_int_eq(rc, 0);
        ar_parse(back, "ARgoodIP.dat", t[1], &d, &rc);
        ck_assert_int_eq(rc, 0);
        ar_parse(back, "ARdomain.dat", t[2], &d, &rc);
        ck_assert_int_eq(rc, 0);
        ck_assert_int_eq(lm_policy_index(back, &d), 0);
        lm_convert_report_init(&rep);
        ck_assert_msg(lm_verify(p, back, "a", "b", 1, 2, &rep, &d) == 0,
                      "policy %u differs after the round trip", k);
        lm_convert_report_fini(&rep);
        lm_diags_fini(&d);
        lm_losses_fini(&l);
        for (i = 0; i < 3; i++)
            free(t[i]);
        lm_policy_free(p);
        lm_policy_free(back);
    }
}
END_TEST

Suite *antirelay_suite(void);

Suite *
antirelay_suite(void)
{
    Suite *s = suite_create("antirelay");
    TCase *tp = tcase_create("parse"), *te = tcase_create("emit");

    tcase_add_test(tp, parse_three_files);
    tcase_add_test(tp, parse_errors);
    tcase_add_test(tp, parts_names);
    tcase_add_test(te, emit_files);
    tcase_add_test(te, roundtrip_random);
    tcase_set_timeout(te, 120);
    suite_add_tcase(s, tp);
    suite_add_tcase(s, te);
    return s;
}
