/*
 * check_exim.c - the Exim codec: the written lists for a known policy
 * (networks painted into disjoint relay and refused sets whatever the
 * source's order, address lists most specific first with "!" items, the
 * never-matching last item), reading them back, errors with file:line, the
 * losses, and seeded round trips proven equivalent by lm_verify.
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

#define EX_N 8

START_TEST(emit_known_policy)
{
    struct lm_policy *p = tu_neutral("connect net 10.0.0.0/8 relay\n"
                                     "connect net 10.1.0.0/16 reject\n"
                                     "connect net 10.1.2.0/24 relay\n"
                                     "connect net 10.1.2.3 ok\n"
                                     "connect net 2001:db8::/32 relay\n"
                                     "from address spam@hacker.example reject\n"
                                     "from domain spammail.example reject\n"
                                     "from name ok.spammail.example ok\n"
                                     "to name rcpt.example relay\n"
                                     "to subdomains rcpt.example reject\n"
                                     "accept domain ours.example\n"
                                     "accept name exact.example\n");
    const char *const o[] = { "server-dir=/etc/exim4/rm", NULL };
    struct tu_files out;
    struct lm_losses l;
    struct lm_policy *back;
    size_t nerr;

    tu_emit_files(&lm_codec_exim, p, o, &out, &l);
    ck_assert_uint_eq(out.n, EX_N);
    ck_assert_uint_eq(l.n, 0);
    /* 10/8 relays except 10.1/16, which refuses except 10.1.2/24, which
     * relays except 10.1.2.3: disjoint blocks */
    ck_assert_str_eq(out.buf[2], "10.0.0.0/16: relay\n10.1.2.0/31: relay\n10.1.2.2/32: relay\n"
                                 "10.1.2.4/30: relay\n10.1.2.8/29: relay\n10.1.2.16/28: relay\n"
                                 "10.1.2.32/27: relay\n10.1.2.64/26: relay\n"
                                 "10.1.2.128/25: relay\n10.2.0.0/15: relay\n"
                                 "10.4.0.0/14: relay\n10.8.0.0/13: relay\n"
                                 "10.16.0.0/12: relay\n10.32.0.0/11: relay\n"
                                 "10.64.0.0/10: relay\n10.128.0.0/9: relay\n"
                                 "\"2001:db8::/32\": relay\n");
    ck_assert_str_eq(out.buf[3], "10.1.0.0/23: refused\n10.1.3.0/24: refused\n"
                                 "10.1.4.0/22: refused\n10.1.8.0/21: refused\n"
                                 "10.1.16.0/20: refused\n10.1.32.0/19: refused\n"
                                 "10.1.64.0/18: refused\n10.1.128.0/17: refused\n");
    ck_assert_str_eq(out.buf[4], "ours.example\n*.ours.example\nexact.example\n");
    ck_assert_str_eq(out.buf[5], "spam@hacker.example\n!*@ok.spammail.example\n"
                                 "*@spammail.example\n*@*.spammail.example\n");
    ck_assert_str_eq(out.buf[6], "!*@rcpt.example\n*@*.rcpt.example\n");
    ck_assert_str_eq(out.buf[7], "*@rcpt.example\n!*@*.rcpt.example\n");
    ck_assert_ptr_nonnull(strstr(out.buf[0], "addresslist relaymap_refused_senders = "
                                             "/etc/exim4/rm/refused_senders : ^(?!)\n"));
    ck_assert_ptr_nonnull(strstr(out.buf[1], "  deny    hosts = +relaymap_refused_hosts\n"));
    back = tu_read_files(&lm_codec_exim, &out, &nerr);
    ck_assert_uint_eq(nerr, 0);
    ck_assert_str_eq(lm_order_name(back->order), "exim");
    tu_same(p, back);
    tu_files_free(&out);
    lm_losses_fini(&l);
    lm_policy_free(back);
    lm_policy_free(p);
}
END_TEST

START_TEST(losses)
{
    struct lm_policy *p = tu_neutral("connect name mx.example.org relay\n"
                                     "connect net 10.0.0.0/8 error 550 5.7.1 \"no\"\n"
                                     "connect net 10.9.0.0/16 discard\n"
                                     "from user joe reject\n"
                                     "to address a@b.example discard\n"
                                     "local 192.0.2.1\n");
    struct tu_files out;
    struct lm_losses l;

    tu_emit_files(&lm_codec_exim, p, NULL, &out, &l);
    ck_assert_uint_eq(l.n, 6);
    ck_assert_ptr_nonnull(strstr(l.v[0].why, "host-name"));
    ck_assert_ptr_nonnull(strstr(l.v[1].why, "own reply"));
    ck_assert_int_eq(l.v[1].widens, 0);
    ck_assert_ptr_nonnull(strstr(l.v[2].why, "discarding"));
    ck_assert_ptr_nonnull(strstr(l.v[3].why, "local-part"));
    ck_assert_ptr_nonnull(strstr(l.v[4].why, "discarding mail by address"));
    ck_assert_ptr_nonnull(strstr(l.v[5].why, "interfaces"));
    ck_assert_ptr_nonnull(strstr(out.buf[0], "/etc/exim4/relaymap/relay_hosts"));
    tu_files_free(&out);
    lm_losses_fini(&l);
    lm_policy_free(p);
}
END_TEST

START_TEST(read_errors)
{
    struct lm_diags d;
    struct lm_policy *p;
    struct lm_source *s;
    const char *bad = "*@*.a.example\n"         /* 1 */
                      "*@example\n"             /* 2 fine: shallower */
                      "x@c.example\n"           /* 3 address after a domain */
                      "^regex\n";               /* 4 */

    lm_diags_init(&d);
    p = lm_policy_new(&d);
    s = lm_source_mem("refused_senders", bad, strlen(bad), &d);
    lm_codec_exim.parse(s, p, &d);
    lm_source_close(s);
    ck_assert_uint_eq(d.nerrors, 2);
    ck_assert_uint_eq(d.v[0].line, 3);
    ck_assert_ptr_nonnull(strstr(d.v[0].msg, "most specific first"));
    ck_assert_uint_eq(d.v[1].line, 4);
    lm_diags_fini(&d);
    lm_policy_free(p);
}
END_TEST

START_TEST(roundtrip_random)
{
    static const char *const acts[] = { "relay", "reject", "ok", "skip", "deny" };
    static const char *const sacts[] = { "reject", "ok", "skip" };
    static const char *const racts[] = { "reject", "ok", "skip", "relay" };
    static const char *const kinds[] = { "name", "domain", "subdomains" };
    static const char *const orders[] = { "", "order postfix\n", "order sendmail\n",
                                          "order exim\n" };
    unsigned seed;

    for (seed = 1; seed <= 60; seed++) {
        char text[8192];
        size_t n = 0, i;
        unsigned s = seed;

        n += (size_t)snprintf(text + n, sizeof text - n, "%s", orders[tu_rand(&s, 4)]);
        for (i = 0; i < 12; i++) {
            unsigned len = 8 + tu_rand(&s, 25);
            unsigned long a = (10UL << 24) | ((unsigned long)tu_rand(&s, 1u << 12) << 12);
            a &= (0xffffffffUL << (32 - len)) & 0xffffffffUL;
            n += (size_t)snprintf(text + n, sizeof text - n, "connect net %lu.%lu.%lu.%lu/%u %s\n",
                                  a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255, len,
                                  acts[tu_rand(&s, 5)]);
        }
        for (i = 0; i < 8; i++) {
            int to = tu_rand(&s, 2);
            unsigned k = tu_rand(&s, 4);
            const char *act = to ? racts[tu_rand(&s, 4)] : sacts[tu_rand(&s, 3)];
            if (k == 3)
                n += (size_t)snprintf(text + n, sizeof text - n, "%s address u@d%u.example %s\n",
                                      to ? "to" : "from", tu_rand(&s, 3), act);
            else
                n += (size_t)snprintf(text + n, sizeof text - n, "%s %s %sd%u.example %s\n",
                                      to ? "to" : "from", kinds[k], tu_rand(&s, 2) ? "a." : "",
                                      tu_rand(&s, 3), act);
        }
        n += (size_t)snprintf(text + n, sizeof text - n, "accept %s d%u.example\n",
                              kinds[tu_rand(&s, 3)], tu_rand(&s, 3));
        if (tu_rand(&s, 2))
            snprintf(text + n, sizeof text - n, "default %s\n", tu_rand(&s, 2) ? "reject" : "ok");
        tu_roundtrip(&lm_codec_exim, text);
    }
}
END_TEST

Suite *exim_suite(void);

Suite *
exim_suite(void)
{
    Suite *s = suite_create("exim");
    TCase *tc;

    tc = tcase_create("emit");
    tcase_add_test(tc, emit_known_policy);
    tcase_add_test(tc, losses);
    suite_add_tcase(s, tc);
    tc = tcase_create("parse");
    tcase_add_test(tc, read_errors);
    suite_add_tcase(s, tc);
    tc = tcase_create("roundtrip");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, roundtrip_random);
    suite_add_tcase(s, tc);
    return s;
}
