/*
 * check_relaytest.c - unit tests for the relay probes (relaytest.c) and the
 * SMTP plumbing (smtpconn.c): the probe table against the transcript's own
 * strings, placeholder expansion and checks, the local-target rule, address
 * parsing, reply parsing over a pipe (multi-line, garbage, over-long lines,
 * timeouts, drops), and whole runs against canned sessions.
 */
#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "libmap/relaytest.h"

/* The names of the manual transcript: S, I, L, X, x. */
static const struct lm_rt_params seed = {
    "certlinux.certcc.or.kr", "172.16.4.140", "ksch", "korea.com", "ksch90"
};

static void
check_expand(int num, const char *from, const char *rcpt0, const char *rcpt1)
{
    const struct lm_rt_probe *p = lm_rt_probe_get(num);
    char *s;

    ck_assert_ptr_nonnull(p);
    s = lm_rt_expand(p->from, &seed);
    ck_assert_str_eq(s, from);
    free(s);
    s = lm_rt_expand(p->rcpt[0], &seed);
    ck_assert_str_eq(s, rcpt0);
    free(s);
    if (rcpt1 == NULL) {
        ck_assert_ptr_null(p->rcpt[1]);
    } else {
        s = lm_rt_expand(p->rcpt[1], &seed);
        ck_assert_str_eq(s, rcpt1);
        free(s);
    }
}

START_TEST(table_seed_strings)
{
    int i;

    for (i = 0; i < LM_RT_NPROBES; i++) {
        ck_assert_int_eq(lm_rt_probe_get(i)->num, i);
        ck_assert_ptr_nonnull(lm_rt_probe_get(i)->rcpt[0]);
    }
    ck_assert_ptr_null(lm_rt_probe_get(-1));
    ck_assert_ptr_null(lm_rt_probe_get(LM_RT_NPROBES));
    /* As the transcript writes them (with its two outside accounts folded
     * into x@X). */
    check_expand(0, "<ksch@certlinux.certcc.or.kr>", "<ksch90@korea.com>", NULL);
    check_expand(2, "spamtest@spam.mail.korea.com", "ksch90@korea.com", NULL);
    check_expand(4, "<relaytest>", "ksch90@korea.com", NULL);
    check_expand(5, "<>", "ksch90@korea.com", NULL);
    check_expand(7, "spamtest@[172.16.4.140]", "ksch90@korea.com", NULL);
    check_expand(8, "ksch90@korea.com", "ksch90%korea.com@certlinux.certcc.or.kr", NULL);
    check_expand(9, "ksch@certlinux.certcc.or.kr", "ksch90%korea.com@[172.16.4.140]", NULL);
    check_expand(12, "ksch@[172.16.4.140]", "\"ksch90@korea.com@certlinux.certcc.or.kr\"", NULL);
    check_expand(13, "ksch@certlinux.certcc.or.kr", "\"ksch90@korea.com\"@[172.16.4.140]", NULL);
    check_expand(15, "ksch@[172.16.4.140]", "@certlinux.certcc.or.kr:ksch90@korea.com", NULL);
    check_expand(16, "ksch@certlinux.certcc.or.kr", "@[172.16.4.140]:ksch90@korea.com", NULL);
    check_expand(17, "ksch@[172.16.4.140]", "<korea.com!ksch90>", "korea.com!ksch90");
    check_expand(18, "ksch@certlinux.certcc.or.kr", "korea.com!ksch90@[172.16.4.140]", NULL);
    check_expand(19, "postmaster@certlinux.certcc.or.kr", "ksch90@korea.com", NULL);
}
END_TEST

START_TEST(expand_edges)
{
    char *s;

    s = lm_rt_expand("{Z}{S}{", &seed);
    ck_assert_str_eq(s, "{Z}certlinux.certcc.or.kr{");
    free(s);
    s = lm_rt_expand("", &seed);
    ck_assert_str_eq(s, "");
    free(s);
}
END_TEST

START_TEST(check_values)
{
    struct lm_diags d;

    lm_diags_init(&d);
    ck_assert_int_eq(lm_rt_check_value("local user", "ksch", &d), 0);
    ck_assert_int_eq(lm_rt_check_value("local user", "a b", &d), -1);
    ck_assert_int_eq(lm_rt_check_value("outside domain", "x\r\nDATA", &d), -1);
    ck_assert_int_eq(lm_rt_check_value("outside user", "", &d), -1);
    ck_assert_int_eq(lm_rt_check_value("outside user", NULL, &d), -1);
    ck_assert_uint_eq(d.nerrors, 4);
    ck_assert_int_eq(d.v[0].code, LM_E_USAGE);
    ck_assert_ptr_nonnull(strstr(d.v[0].msg, "\"a b\""));
    lm_diags_fini(&d);
}
END_TEST

START_TEST(local_target)
{
    struct lm_rt_params p = { "Mail.Example.ORG", "192.0.2.1", "u", "x.test", "v" };
    struct lm_rt_params p6 = { "mx", "IPv6:2001:db8::1", "u", "x.test", "v" };

    ck_assert(lm_rt_local_target("a%b.test@mail.example.org", &p));
    ck_assert(lm_rt_local_target("<a%b.test@[192.0.2.1]>", &p));
    ck_assert(lm_rt_local_target("\"a@b.test\"", &p));        /* no domain */
    ck_assert(lm_rt_local_target("b.test!a", &p));
    ck_assert(lm_rt_local_target("\"a@b.test\"@[192.0.2.1]", &p));
    ck_assert(lm_rt_local_target("a%b@[ipv6:2001:DB8::1]", &p6));
    ck_assert(!lm_rt_local_target("<a@b.test>", &p));
    ck_assert(!lm_rt_local_target("@mail.example.org:a@b.test", &p));
    ck_assert(!lm_rt_local_target("@[192.0.2.1]:a@b.test", &p));
    ck_assert(!lm_rt_local_target("a@[192.0.2.10]", &p));
    ck_assert(!lm_rt_local_target("a@mail.example.org.evil", &p));
}
END_TEST

START_TEST(ip_literal)
{
    char *s;

    s = lm_rt_ip_literal("192.0.2.1");
    ck_assert_str_eq(s, "192.0.2.1");
    free(s);
    s = lm_rt_ip_literal("::1");
    ck_assert_str_eq(s, "IPv6:::1");
    free(s);
    s = lm_rt_ip_literal("[2001:db8::2]");
    ck_assert_str_eq(s, "IPv6:2001:db8::2");
    free(s);
    s = lm_rt_ip_literal("IPv6:::1");
    ck_assert_str_eq(s, "IPv6:::1");
    free(s);
}
END_TEST

static void
check_hostport(const char *spec, const char *host, const char *port)
{
    struct lm_diags d;
    char *h, *p;

    lm_diags_init(&d);
    ck_assert_int_eq(lm_smtp_parse_hostport(spec, &h, &p, &d), 0);
    ck_assert_str_eq(h, host);
    if (port == NULL)
        ck_assert_ptr_null(p);
    else
        ck_assert_str_eq(p, port);
    free(h);
    free(p);
    lm_diags_fini(&d);
}

START_TEST(hostport)
{
    static const char *const bad[] = { "", "[::1", "[]:25", "[::1]x", "[::1]:", "mx:", ":25" };
    struct lm_diags d;
    char *h, *p;
    size_t i;

    check_hostport("mx.example.org", "mx.example.org", NULL);
    check_hostport("mx.example.org:2525", "mx.example.org", "2525");
    check_hostport("127.0.0.1:smtp", "127.0.0.1", "smtp");
    check_hostport("[::1]:25", "::1", "25");
    check_hostport("[2001:db8::1]", "2001:db8::1", NULL);
    check_hostport("2001:db8::1", "2001:db8::1", NULL);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        lm_diags_init(&d);
        ck_assert_int_eq(lm_smtp_parse_hostport(bad[i], &h, &p, &d), -1);
        ck_assert_ptr_null(h);
        ck_assert_int_eq(d.v[0].code, LM_E_USAGE);
        lm_diags_fini(&d);
    }
}
END_TEST

/* Open a pipe to sh -c script; replies come from its stdout. */
static void
pipe_open(struct lm_smtp_conn *c, const char *script)
{
    struct lm_smtp_target t;

    memset(&t, 0, sizeof t);
    t.kind = LM_SMTP_PIPE;
    t.command = script;
    signal(SIGPIPE, SIG_IGN);
    ck_assert_int_eq(lm_smtp_open(c, &t, 2000), LM_SMTP_OK);
}

START_TEST(reply_multiline)
{
    struct lm_smtp_conn c;
    struct lm_smtp_reply r;

    pipe_open(&c, "printf '220-a\\r\\n220-b\\r\\n220 c\\r\\n250\\r\\n550 5.7.1 no\\n'; cat >/dev/null");
    ck_assert_int_eq(lm_smtp_read_reply(&c, &r, 2000), LM_SMTP_OK);
    ck_assert_int_eq(r.code, 220);
    ck_assert_uint_eq(r.nlines, 3);
    ck_assert_str_eq(r.text, "220-a\n220-b\n220 c");
    lm_smtp_reply_fini(&r);
    ck_assert_int_eq(lm_smtp_read_reply(&c, &r, 2000), LM_SMTP_OK);
    ck_assert_int_eq(r.code, 250);
    lm_smtp_reply_fini(&r);
    ck_assert_int_eq(lm_smtp_send(&c, "RSET", 2000), LM_SMTP_OK);
    ck_assert_int_eq(lm_smtp_read_reply(&c, &r, 2000), LM_SMTP_OK);
    ck_assert_int_eq(r.code, 550);
    ck_assert_str_eq(r.text, "550 5.7.1 no");
    lm_smtp_reply_fini(&r);
    lm_smtp_close(&c, 2000);
}
END_TEST

START_TEST(reply_bad)
{
    struct lm_smtp_conn c;
    struct lm_smtp_reply r;

    pipe_open(&c, "printf 'hello\\r\\n'; cat >/dev/null");
    ck_assert_int_eq(lm_smtp_read_reply(&c, &r, 2000), LM_SMTP_EPROTOCOL);
    ck_assert_int_eq(r.code, 0);
    ck_assert_ptr_nonnull(strstr(c.err, "not an SMTP reply"));
    lm_smtp_reply_fini(&r);
    lm_smtp_close(&c, 2000);

    pipe_open(&c, "printf '250-a\\r\\n550 b\\r\\n'; cat >/dev/null");
    ck_assert_int_eq(lm_smtp_read_reply(&c, &r, 2000), LM_SMTP_EPROTOCOL);
    lm_smtp_reply_fini(&r);
    lm_smtp_close(&c, 2000);

    pipe_open(&c, "printf '250-a\\r\\n'");
    ck_assert_int_eq(lm_smtp_read_reply(&c, &r, 2000), LM_SMTP_EDROPPED);
    lm_smtp_reply_fini(&r);
    lm_smtp_close(&c, 2000);

    pipe_open(&c, "sleep 5");
    ck_assert_int_eq(lm_smtp_read_reply(&c, &r, 200), LM_SMTP_ETIMEOUT);
    lm_smtp_reply_fini(&r);
    lm_smtp_close(&c, 200);     /* the child is killed, not waited for 5 s */
    ck_assert_int_eq(c.pid, 0);
}
END_TEST

START_TEST(reply_long_line)
{
    struct lm_smtp_conn c;
    struct lm_smtp_reply r;

    /* 20000 x's in one line, then a normal reply. */
    pipe_open(&c, "printf '550 '; i=0; while [ $i -lt 2000 ]; do printf xxxxxxxxxx; "
              "i=$((i+1)); done; printf '\\r\\n250 ok\\r\\n'; cat >/dev/null");
    ck_assert_int_eq(lm_smtp_read_reply(&c, &r, 5000), LM_SMTP_OK);
    ck_assert_int_eq(r.code, 550);
    ck_assert_uint_eq(strlen(r.text), LM_SMTP_BUF);
    lm_smtp_reply_fini(&r);
    ck_assert_int_eq(lm_smtp_read_reply(&c, &r, 2000), LM_SMTP_OK);
    ck_assert_int_eq(r.code, 250);
    lm_smtp_reply_fini(&r);
    lm_smtp_close(&c, 2000);
}
END_TEST

/* Run probes against a canned session: the script's replies in order. */
static int
run_canned(const char *script, unsigned long only, struct lm_rt_report *rep,
           struct lm_diags *d)
{
    struct lm_rt_opts o;

    memset(&o, 0, sizeof o);
    o.target.kind = LM_SMTP_PIPE;
    o.target.command = script;
    o.params = seed;
    o.params.server_name = NULL;        /* from the banner */
    o.helo = "tester.test";
    o.timeout_ms = 2000;
    o.only = only;
    signal(SIGPIPE, SIG_IGN);
    lm_diags_init(d);
    return lm_relaytest_run(&o, rep, d);
}

START_TEST(run_verdicts)
{
    struct lm_rt_report rep;
    struct lm_diags d;

    /* Probe 0 relayed; probe 5 greylisted at MAIL; probe 17: one recipient
     * denied, the other accepted. */
    ck_assert_int_eq(run_canned("printf '220 mx.test ESMTP\\r\\n250 hi\\r\\n"
                                "250 ok\\r\\n250 ok\\r\\n250 ok\\r\\n"
                                "451 later\\r\\n250 ok\\r\\n"
                                "250 ok\\r\\n550 no\\r\\n250-o\\r\\n250 k\\r\\n250 ok\\r\\n"
                                "221 bye\\r\\n'; cat >/dev/null",
                                1UL << 0 | 1UL << 5 | 1UL << 17, &rep, &d), 0);
    ck_assert_str_eq(rep.server_name, "mx.test");
    ck_assert_str_eq(rep.server_ip, "172.16.4.140");
    ck_assert_uint_eq(rep.n, 3);
    ck_assert_int_eq(rep.r[0].verdict, LM_RT_RELAYED);
    ck_assert_str_eq(rep.r[0].from, "<ksch@mx.test>");
    ck_assert_int_eq(rep.r[1].verdict, LM_RT_TEMPFAIL);
    ck_assert(rep.r[1].at_mail);
    ck_assert_int_eq(rep.r[2].verdict, LM_RT_RELAYED);
    ck_assert_int_eq(rep.r[2].rcpt[0].verdict, LM_RT_DENIED);
    ck_assert_int_eq(rep.r[2].rcpt[1].verdict, LM_RT_RELAYED);
    ck_assert(rep.r[2].maybe_local);    /* korea.com!ksch90: no domain */
    ck_assert(!rep.r[0].maybe_local);
    ck_assert_uint_eq(rep.nrelayed, 2);
    ck_assert_uint_eq(rep.ntempfail, 1);
    ck_assert_int_eq(rep.esmtp, 1);
    lm_rt_report_fini(&rep);
    lm_diags_fini(&d);
}
END_TEST

START_TEST(run_server_name)
{
    struct lm_rt_report rep;
    struct lm_diags d;

    /* No name in the banner: the EHLO reply's. */
    ck_assert_int_eq(run_canned("printf '220 ESMTP ready\\r\\n250 mx.test hi\\r\\n"
                                "550 no\\r\\n250 ok\\r\\n221 bye\\r\\n'; cat >/dev/null",
                                1UL << 6, &rep, &d), 0);
    ck_assert_str_eq(rep.server_name, "mx.test");
    ck_assert_str_eq(rep.r[0].from, "root@mx.test");
    ck_assert_int_eq(rep.r[0].verdict, LM_RT_DENIED);
    ck_assert(rep.r[0].at_mail);
    lm_rt_report_fini(&rep);
    lm_diags_fini(&d);

    /* Nor there: the IP literal. */
    ck_assert_int_eq(run_canned("printf '220 ready\\r\\n250 hello\\r\\n"
                                "550 no\\r\\n250 ok\\r\\n221 bye\\r\\n'; cat >/dev/null",
                                1UL << 6, &rep, &d), 0);
    ck_assert_str_eq(rep.server_name, "[172.16.4.140]");
    ck_assert_str_eq(rep.r[0].from, "root@[172.16.4.140]");
    lm_rt_report_fini(&rep);
    lm_diags_fini(&d);
}
END_TEST

START_TEST(run_failures)
{
    struct lm_rt_report rep;
    struct lm_diags d;

    /* Refused at the banner. */
    ck_assert_int_eq(run_canned("printf '554 go away\\r\\n'; cat >/dev/null", 0, &rep, &d), -1);
    ck_assert_int_eq(rep.fail, LM_SMTP_ECONNECT);
    ck_assert_uint_eq(d.nerrors, 1);
    ck_assert_ptr_nonnull(strstr(d.v[0].msg, "554 go away"));
    lm_rt_report_fini(&rep);
    lm_diags_fini(&d);

    /* EHLO and HELO refused: a protocol error. */
    ck_assert_int_eq(run_canned("printf '220 mx\\r\\n500 no\\r\\n500 no\\r\\n'; cat >/dev/null",
                                0, &rep, &d), -1);
    ck_assert_int_eq(rep.fail, LM_SMTP_EPROTOCOL);
    lm_rt_report_fini(&rep);
    lm_diags_fini(&d);

    /* The session drops after MAIL; the reconnect finds the same script,
     * which drops again: each probe is an error, and after two failed
     * reconnects the rest are not run. */
    ck_assert_int_eq(run_canned("printf '220 mx\\r\\n250 hi\\r\\n'; read a; read b; exit 0",
                                0, &rep, &d), 0);
    ck_assert_int_eq(rep.r[0].verdict, LM_RT_ERROR);
    ck_assert_int_eq(rep.r[0].error, LM_SMTP_EDROPPED);
    ck_assert_uint_eq(rep.nrelayed, 0);
    ck_assert_uint_eq(rep.nerror + rep.nnotrun, LM_RT_NPROBES);
    lm_rt_report_fini(&rep);
    lm_diags_fini(&d);
}
END_TEST

START_TEST(run_usage)
{
    struct lm_rt_report rep;
    struct lm_diags d;
    struct lm_rt_opts o;

    memset(&o, 0, sizeof o);
    o.target.kind = LM_SMTP_PIPE;
    o.target.command = "true";
    o.params = seed;
    o.params.server_ip = NULL;
    o.helo = "h";
    o.timeout_ms = 1000;
    lm_diags_init(&d);
    ck_assert_int_eq(lm_relaytest_run(&o, &rep, &d), -1);
    ck_assert_int_eq(d.v[0].code, LM_E_USAGE);
    lm_rt_report_fini(&rep);
    lm_diags_fini(&d);
}
END_TEST

Suite *relaytest_suite(void);

Suite *
relaytest_suite(void)
{
    Suite *s = suite_create("relaytest");
    TCase *tc;

    tc = tcase_create("table");
    tcase_add_test(tc, table_seed_strings);
    tcase_add_test(tc, expand_edges);
    tcase_add_test(tc, check_values);
    tcase_add_test(tc, local_target);
    tcase_add_test(tc, ip_literal);
    tcase_add_test(tc, hostport);
    suite_add_tcase(s, tc);

    tc = tcase_create("replies");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, reply_multiline);
    tcase_add_test(tc, reply_bad);
    tcase_add_test(tc, reply_long_line);
    suite_add_tcase(s, tc);

    tc = tcase_create("run");
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, run_verdicts);
    tcase_add_test(tc, run_server_name);
    tcase_add_test(tc, run_failures);
    tcase_add_test(tc, run_usage);
    suite_add_tcase(s, tc);
    return s;
}
