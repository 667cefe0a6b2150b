/*
 * check_convert.c - the relayconv pipeline: loss lists, verification on the
 * partition boundaries (every difference found, widening told apart),
 * loading with detection, conversion to one and to several files, refusal,
 * the JSON report, and a large policy verified in linear-ish time.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libmap/codec.h"
#include "libmap/convert.h"
#include "libmap/policy.h"
#include "libmap/source.h"

static struct lm_policy *
cv_mk(const char *name, const char *text)
{
    struct lm_diags d;
    struct lm_source *s;
    struct lm_policy *p;

    lm_diags_init(&d);
    p = lm_policy_new(&d);
    s = lm_source_mem(name, text, strlen(text), &d);
    ck_assert_int_eq(lm_codec_policy.parse(s, p, &d), 0);
    ck_assert_int_eq(lm_policy_index(p, &d), 0);
    lm_source_close(s);
    lm_diags_fini(&d);
    return p;
}

static char cv_dir[64];

static const char *
cv_file(const char *name, const char *text)
{
    static char path[128];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", cv_dir, name);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void
cv_setup(void)
{
    strcpy(cv_dir, "/tmp/check_convert.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(cv_dir));
}

static void
cv_teardown(void)
{
    char cmd[128];

    snprintf(cmd, sizeof cmd, "rm -rf %s", cv_dir);
    ck_assert_int_eq(system(cmd), 0);
}

START_TEST(losses)
{
    struct lm_policy *p = cv_mk("a.txt", "from domain x.org reject\n");
    struct lm_losses l;
    struct lm_diags d;
    struct lm_pos pos = { "a.txt", 7, 0 };

    lm_diags_init(&d);
    lm_losses_init(&l);
    ck_assert_int_eq(lm_loss_add(&l, LM_LOSS_DROPPED, 1, &p->rules[0], NULL, &d,
                                 "no sender rules in %s", "tcp.smtp"), 0);
    ck_assert_int_eq(lm_loss_add(&l, LM_LOSS_NARROWED, 0, NULL, &pos, &d, "domain"), 0);
    ck_assert_uint_eq(l.n, 2);
    ck_assert_uint_eq(l.nwiden, 1);
    ck_assert_str_eq(l.v[0].file, "a.txt");
    ck_assert_uint_eq(l.v[0].line, 1);
    ck_assert_str_eq(l.v[0].rule, "from domain x.org reject");
    ck_assert_str_eq(l.v[0].why, "no sender rules in tcp.smtp");
    ck_assert_uint_eq(l.v[1].line, 7);
    ck_assert_ptr_null(l.v[1].rule);
    ck_assert_str_eq(lm_loss_kind_name(LM_LOSS_NARROWED), "narrowed");
    lm_losses_fini(&l);
    lm_diags_fini(&d);
    lm_policy_free(p);
}
END_TEST

START_TEST(verify_boundaries)
{
    struct lm_policy *a = cv_mk("a.txt", "connect net 10.0.0.0/24 relay\n"
                                         "accept name example.com\n");
    struct lm_policy *b = cv_mk("b.txt", "connect net 10.0.0.0/25 relay\n"
                                         "connect net 10.0.1.0 relay\n"
                                         "accept subdomains example.com\n");
    struct lm_convert_report rep;
    struct lm_diags d;
    size_t i;
    int sawhost = 0, sawwide = 0, sawnarrow = 0;

    lm_diags_init(&d);
    lm_convert_report_init(&rep);
    ck_assert_int_eq(lm_verify(a, a, "a", "a", 0, 0, &rep, &d), 0);
    ck_assert_uint_eq(rep.ndiffs, 0);
    ck_assert_uint_gt(rep.nclasses, 10);
    ck_assert_int_eq(lm_verify(a, b, "a", "b", 50, 0, &rep, &d), LM_NOTFOUND);
    ck_assert_uint_gt(d.nerrors, 0);
    for (i = 0; i < rep.nkept; i++) {
        const struct lm_diff *x = &rep.diffs[i];
        if (strstr(x->query, "client 10.0.0.128,") == x->query && x->a == LM_V_RELAY &&
            x->b == LM_V_REFUSE && !x->wider)
            sawnarrow = 1;
        if (strstr(x->query, "client 10.0.1.0,") == x->query && x->b == LM_V_RELAY && x->wider)
            sawwide = 1;
        if (strstr(x->query, "@relaymap-probe.example.com") != NULL && x->wider)
            sawhost = 1;
    }
    ck_assert(sawnarrow);
    ck_assert(sawwide);
    ck_assert(sawhost);
    ck_assert_uint_gt(rep.nwider, 0);
    lm_convert_report_fini(&rep);
    lm_diags_fini(&d);
    lm_policy_free(a);
    lm_policy_free(b);
}
END_TEST

static struct lm_policy *
cv_mk_sendmail(const char *name, const char *text)
{
    struct lm_diags d;
    struct lm_source *s;
    struct lm_policy *p;

    lm_diags_init(&d);
    p = lm_policy_new(&d);
    s = lm_source_mem(name, text, strlen(text), &d);
    ck_assert_int_eq(lm_codec_sendmail.parse(s, p, &d), 0);
    ck_assert_int_eq(lm_policy_index(p, &d), 0);
    lm_source_close(s);
    lm_diags_fini(&d);
    return p;
}

/* Does the report hold a difference for this client (query prefix)? */
static int
cv_has_diff(const struct lm_convert_report *rep, const char *prefix)
{
    size_t i;

    for (i = 0; i < rep->nkept; i++)
        if (strncmp(rep->diffs[i].query, prefix, strlen(prefix)) == 0)
            return 1;
    return 0;
}

/* Sendmail's built-in loopback relay and mail to the server's own
 * addresses are probed although no rule names them. */
START_TEST(verify_loopback_locals)
{
    struct lm_policy *sm = cv_mk_sendmail("access", "Connect:10.0.0.1 RELAY\n");
    struct lm_policy *n1 = cv_mk("a.txt", "connect net 10.0.0.1 relay\n");
    struct lm_policy *n2 = cv_mk("b.txt", "connect net 10.0.0.1 relay\n"
                                          "connect net 127.0.0.1 relay\n");
    struct lm_policy *n3 = cv_mk("c.txt", "connect net 10.0.0.1 relay\n"
                                          "connect net 127.0.0.1 relay\n"
                                          "connect net ::1 relay\n");
    struct lm_policy *l1 = cv_mk("d.txt", "local 192.0.2.7\nlocal 2001:db8::7\n");
    struct lm_policy *l2 = cv_mk("e.txt", "connect net 192.0.2.7 ok\n"
                                          "connect net 2001:db8::7 ok\n");
    struct lm_convert_report rep;
    struct lm_diags d;

    lm_diags_init(&d);
    d.max_errors = 1000;
    lm_convert_report_init(&rep);
    /* Sendmail relays for 127.0.0.1 though its map does not say so: the
     * server's own business, a note, unless strict */
    ck_assert_int_eq(lm_verify(n1, sm, "a", "b", 0, 0, &rep, &d), 0);
    ck_assert_uint_gt(rep.nloopback, 0);
    ck_assert_uint_eq(rep.ndiffs, 0);
    lm_convert_report_fini(&rep);
    lm_convert_report_init(&rep);
    rep.strict_loopback = 1;
    ck_assert_int_eq(lm_verify(n1, sm, "a", "b", 0, 0, &rep, &d), LM_NOTFOUND);
    ck_assert(cv_has_diff(&rep, "client 127.0.0.1,"));
    ck_assert_uint_gt(rep.nwider, 0);
    lm_convert_report_fini(&rep);
    lm_convert_report_init(&rep);
    rep.strict_loopback = 1;
    /* 127.0.0.1 alone is not enough: ::1 is another client */
    ck_assert_int_eq(lm_verify(n2, sm, "a", "b", 0, 0, &rep, &d), LM_NOTFOUND);
    ck_assert(cv_has_diff(&rep, "client ::1,"));
    ck_assert(!cv_has_diff(&rep, "client 127.0.0.1,"));
    lm_convert_report_fini(&rep);
    lm_convert_report_init(&rep);
    ck_assert_int_eq(lm_verify(n3, sm, "a", "b", 0, 0, &rep, &d), 0);
    lm_convert_report_fini(&rep);
    lm_convert_report_init(&rep);
    /* mail to user@[own address] is local on one side only */
    ck_assert_int_eq(lm_verify(l1, l2, "a", "b", 0, 0, &rep, &d), LM_NOTFOUND);
    ck_assert_uint_gt(rep.nkept, 0);
    ck_assert_ptr_nonnull(strstr(rep.diffs[0].query, "@[192.0.2.7]"));
    lm_convert_report_fini(&rep);
    lm_diags_fini(&d);
    lm_policy_free(sm);
    lm_policy_free(n1);
    lm_policy_free(n2);
    lm_policy_free(n3);
    lm_policy_free(l1);
    lm_policy_free(l2);
}
END_TEST

/* The tool's modes as library calls: decide a stream of clients, verify
 * two files, lint. */
START_TEST(tool_modes)
{
    char pa[160], pb[160], buf[512];
    const char *files[1];
    struct lm_convert_report rep;
    struct lm_query q;
    struct lm_diags d;
    FILE *in = tmpfile(), *out = tmpfile();
    size_t nw = 0, len;

    lm_diags_init(&d);
    snprintf(pa, sizeof pa, "%s", cv_file("a.txt", "connect net 10.0.0.0/24 relay\n"
                                                  "connect net 0.0.0.0/0 relay\n"));
    snprintf(pb, sizeof pb, "%s", cv_file("b.txt", "connect net 10.0.0.0/25 relay\n"));
    files[0] = pa;
    memset(&q, 0, sizeof q);
    fputs("10.0.0.1\n\nnot-an-address\n192.0.2.1\n", in);
    rewind(in);
    ck_assert_int_eq(lm_decide_files(files, 1, NULL, &q, "-", 1, in, out, &d), 0);
    ck_assert_uint_eq(d.nerrors, 1);    /* the bad line, skipped */
    rewind(out);
    len = fread(buf, 1, sizeof buf - 1, out);
    buf[len] = '\0';
    ck_assert_ptr_nonnull(strstr(buf, "{\"verdict\":\"relay\",\"client\":\"10.0.0.1\""));
    ck_assert_ptr_nonnull(strstr(buf, "\"client\":\"192.0.2.1\",\"rule\":{\"file\":"));
    lm_diags_fini(&d);

    lm_diags_init(&d);
    lm_convert_report_init(&rep);
    ck_assert_int_eq(lm_verify_files(pa, pb, NULL, &rep, &d), LM_NOTFOUND);
    ck_assert_uint_eq(rep.nrules_in, 2);
    ck_assert_uint_eq(rep.nrules_out, 1);
    ck_assert_uint_gt(rep.ndiffs, 0);
    lm_convert_report_fini(&rep);
    lm_diags_fini(&d);
    lm_diags_init(&d);
    ck_assert_int_eq(lm_lint_files(files, 1, NULL, &nw, &d), 0);
    ck_assert_uint_gt(nw, 0);           /* relay for every client */
    files[0] = "/nonexistent/x.txt";
    ck_assert_int_eq(lm_lint_files(files, 1, NULL, &nw, &d), -1);
    lm_diags_fini(&d);
    fclose(in);
    fclose(out);
}
END_TEST

START_TEST(load_detect)
{
    const char *pf = cv_file("p.txt", "connect net 10.0.0.0/8 relay\n");
    const char *const one[] = { pf };
    struct lm_policy *p;
    const struct lm_codec *c;
    struct lm_diags d;

    lm_diags_init(&d);
    ck_assert_int_eq(lm_policy_load(one, 1, NULL, &p, &c, &d), 0);
    ck_assert_ptr_eq(c, &lm_codec_policy);
    ck_assert_uint_eq(p->nrules, 1);
    lm_policy_free(p);
    pf = cv_file("amb.txt", "default ok\ndefault reject\nexample.com OK\n");
    {
        const char *const two[] = { pf };
        ck_assert_int_eq(lm_policy_load(two, 1, NULL, &p, &c, &d), -1);
        ck_assert_ptr_null(p);
        ck_assert_int_eq(lm_diags_first_code(&d), LM_E_USAGE);
        ck_assert(strstr(d.v[0].msg, "ambiguous") != NULL);
    }
    lm_diags_fini(&d);
    lm_diags_init(&d);
    {
        const char *const none[] = { "/nonexistent/p.txt" };
        ck_assert_int_eq(lm_policy_load(none, 1, NULL, &p, &c, &d), -1);
        ck_assert_int_eq(lm_diags_first_code(&d), LM_E_NOINPUT);
    }
    lm_diags_fini(&d);
}
END_TEST

START_TEST(convert_files)
{
    const char *src = cv_file("src.txt", "accept domain example.com\n"
                                         "connect net 172.16.5.0/24 relay\n"
                                         "from domain spam.example reject\n");
    const char *const in[] = { src };
    struct lm_convert_opts o = { NULL, "policy", NULL, 0, 0, NULL, NULL, NULL };
    struct lm_convert_report rep;
    struct lm_diags d;
    char out[128], dir[128], path[160];
    struct stat st;
    char *buf = NULL;
    size_t len = 0;
    FILE *mem;

    snprintf(out, sizeof out, "%s/out.txt", cv_dir);
    snprintf(dir, sizeof dir, "%s/q", cv_dir);
    lm_diags_init(&d);
    lm_convert_report_init(&rep);
    o.output = out;
    ck_assert_int_eq(lm_convert(in, 1, &o, stdout, &rep, &d), 0);
    ck_assert_int_eq(rep.written, 1);
    ck_assert_uint_eq(rep.nrules_in, 2);
    ck_assert_uint_eq(rep.nrules_out, 2);
    ck_assert_int_eq(stat(out, &st), 0);
    mem = open_memstream(&buf, &len);
    lm_convert_report_json(mem, &rep);
    fclose(mem);
    ck_assert(strstr(buf, "\"written\":true") != NULL);
    ck_assert(strstr(buf, "\"to\":\"policy\"") != NULL);
    free(buf);
    lm_convert_report_fini(&rep);

    /* qmail: sender rules refused, nothing written */
    lm_convert_report_init(&rep);
    o.to = "qmail";
    o.output = dir;
    ck_assert_int_eq(lm_convert(in, 1, &o, stdout, &rep, &d), -1);
    ck_assert_int_eq(rep.written, 0);
    ck_assert_uint_ge(rep.losses.n, 1);
    ck_assert_int_ne(stat(dir, &st), 0);
    lm_convert_report_fini(&rep);
    lm_diags_fini(&d);

    /* --lossy --allow-widening writes both files */
    lm_diags_init(&d);
    lm_convert_report_init(&rep);
    o.flags = LM_CV_LOSSY | LM_CV_ALLOW_WIDENING;
    ck_assert_int_eq(lm_convert(in, 1, &o, stdout, &rep, &d), 0);
    ck_assert_uint_eq(d.nerrors, 0);
    snprintf(path, sizeof path, "%s/tcp.smtp", dir);
    ck_assert_int_eq(stat(path, &st), 0);
    snprintf(path, sizeof path, "%s/rcpthosts", dir);
    ck_assert_int_eq(stat(path, &st), 0);
    lm_convert_report_fini(&rep);
    lm_diags_fini(&d);

    /* several files without an output: a directory named after the format
     * beside the source */
    lm_diags_init(&d);
    lm_convert_report_init(&rep);
    o.output = NULL;
    ck_assert_int_eq(lm_convert(in, 1, &o, stdout, &rep, &d), 0);
    snprintf(path, sizeof path, "%s/qmail/tcp.smtp", cv_dir);
    ck_assert_int_eq(stat(path, &st), 0);
    lm_convert_report_fini(&rep);
    lm_diags_fini(&d);

    /* ... which standard input does not have */
    lm_diags_init(&d);
    lm_convert_report_init(&rep);
    {
        const char *const stdin_in[] = { "-" };
        ck_assert_int_eq(lm_convert(stdin_in, 1, &o, stdout, &rep, &d), -1);
    }
    ck_assert_int_eq(lm_diags_first_code(&d), LM_E_USAGE);
    lm_convert_report_fini(&rep);
    lm_diags_fini(&d);
}
END_TEST

/* Counted losses leave no list behind (the JSON report then shows none);
 * the output is the same whether it waits in a temporary file or, when
 * none can be made, in memory. */
START_TEST(counted_and_buffered)
{
    const char *src = cv_file("src.txt", "accept domain example.com\n"
                                         "connect net 172.16.5.0/24 relay\n"
                                         "from domain spam.example reject\n");
    const char *const in[] = { src };
    struct lm_convert_opts o = { NULL, "qmail", NULL, 0, 0, NULL, NULL, NULL };
    struct lm_convert_report rep;
    struct lm_diags d;
    char dir[128], path[160], *buf = NULL, *old = getenv("TMPDIR");
    char first[4096], again[4096];
    size_t len = 0, n1, n2;
    FILE *mem, *f;

    old = old != NULL ? strdup(old) : NULL;
    snprintf(dir, sizeof dir, "%s/q", cv_dir);
    o.output = dir;
    o.flags = LM_CV_LOSSY | LM_CV_ALLOW_WIDENING | LM_CV_LOSSES_COUNTED;
    lm_diags_init(&d);
    lm_convert_report_init(&rep);
    ck_assert_int_eq(lm_convert(in, 1, &o, stdout, &rep, &d), 0);
    ck_assert_uint_ge(rep.losses.n, 1);
    ck_assert_ptr_null(rep.losses.v);
    mem = open_memstream(&buf, &len);
    lm_convert_report_json(mem, &rep);
    fclose(mem);
    ck_assert(strstr(buf, "\"losses\":[]") != NULL);
    free(buf);
    lm_convert_report_fini(&rep);
    lm_diags_fini(&d);
    snprintf(path, sizeof path, "%s/tcp.smtp", dir);
    f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    n1 = fread(first, 1, sizeof first, f);
    fclose(f);
    ck_assert_uint_gt(n1, 0);

    /* no temporary file can be made: the text waits in memory */
    unlink(path);
    setenv("TMPDIR", "/nonexistent/relaymap-check", 1);
    lm_diags_init(&d);
    lm_convert_report_init(&rep);
    ck_assert_int_eq(lm_convert(in, 1, &o, stdout, &rep, &d), 0);
    ck_assert_uint_eq(d.nerrors, 0);
    lm_convert_report_fini(&rep);
    lm_diags_fini(&d);
    if (old != NULL)
        setenv("TMPDIR", old, 1);
    else
        unsetenv("TMPDIR");
    free(old);
    f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    n2 = fread(again, 1, sizeof again, f);
    fclose(f);
    ck_assert_uint_eq(n1, n2);
    ck_assert(memcmp(first, again, n1) == 0);
}
END_TEST

/* 100000 rules: index, verify against a copy.  Check's timeout guards the
 * cost (a quadratic step would take minutes). */
START_TEST(large_policy)
{
    struct lm_diags d;
    struct lm_policy *a, *b;
    struct lm_convert_report rep;
    unsigned seed = 99;
    int i;

    lm_diags_init(&d);
    a = lm_policy_new(&d);
    b = lm_policy_new(&d);
    for (i = 0; i < 100000; i++) {
        struct lm_rule r;
        struct lm_ipaddr ad;
        struct lm_ipnet n;
        char name[32];
        memset(&r, 0, sizeof r);
        r.stage = LM_S_CONNECT;
        r.pos.line = (unsigned long)i + 1;
        r.pos.file = "big";
        if (i % 4 == 3) {
            r.kind = LM_K_TREE;
            snprintf(name, sizeof name, "d%d.example", i);
            r.pattern = name;
            r.stage = LM_S_FROM;
            r.action = LM_A_REJECT;
        } else {
            r.kind = LM_K_NET;
            lm_ipaddr_v4(&ad, rand_r(&seed) % 256, rand_r(&seed) % 256,
                         rand_r(&seed) % 256, 0);
            lm_ipnet_make(&n, &ad, 16 + rand_r(&seed) % 17);
            lm_ipnet_range(&n, &r.net.range);
            r.action = rand_r(&seed) % 2 ? LM_A_RELAY : LM_A_DENY;
        }
        ck_assert_ptr_nonnull(lm_policy_add(a, &r, &d));
        ck_assert_ptr_nonnull(lm_policy_add(b, &r, &d));
    }
    ck_assert_int_eq(lm_policy_index(a, &d), 0);
    ck_assert_int_eq(lm_policy_index(b, &d), 0);
    lm_convert_report_init(&rep);
    ck_assert_int_eq(lm_verify(a, b, "a", "b", 0, 0, &rep, &d), 0);
    ck_assert_uint_gt(rep.nclasses, 1000);
    lm_convert_report_fini(&rep);
    lm_policy_free(a);
    lm_policy_free(b);
    lm_diags_fini(&d);
}
END_TEST

Suite *convert_suite(void);

Suite *
convert_suite(void)
{
    Suite *s = suite_create("convert");
    TCase *tc = tcase_create("pipeline");

    tcase_add_checked_fixture(tc, cv_setup, cv_teardown);
    tcase_add_test(tc, losses);
    tcase_add_test(tc, verify_boundaries);
    tcase_add_test(tc, verify_loopback_locals);
    tcase_add_test(tc, load_detect);
    tcase_add_test(tc, tool_modes);
    tcase_add_test(tc, convert_files);
    tcase_add_test(tc, counted_and_buffered);
    suite_add_tcase(s, tc);
    tc = tcase_create("scale");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, large_policy);
    suite_add_tcase(s, tc);
    return s;
}
