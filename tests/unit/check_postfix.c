/*
 * check_postfix.c - the Postfix codec: the written fragment and tables for a
 * known policy (first-match order, host bits zero, the directory and table
 * type of --server-dir/--table-type), reading them back, every error and
 * never-matching key with file:line, Postfix's access(5) order ("user@"
 * after the domain) in decide, the losses where Postfix's order differs, and
 * seeded round trips proven equivalent by lm_verify.
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

#define PF_N 6  /* main.cf.relaymap, relay_clients.cidr, client_access,
                   sender_access, recipient_access, relay_domains */

static enum lm_verdict_kind
pf_ask(const struct lm_policy *p, const char *ip, const char *from, const char *to)
{
    struct lm_query q;
    struct lm_verdict v;

    memset(&q, 0, sizeof q);
    ck_assert_int_eq(lm_ipaddr_parse(ip, strlen(ip), LM_IPF_V4 | LM_IPF_V6, &q.ip, NULL,
                                     NULL), 0);
    q.sender = from;
    q.rcpt = to;
    lm_decide(p, &q, &v);
    return v.kind;
}

START_TEST(emit_known_policy)
{
    /* Sendmail's order: host names before networks, as Postfix reads them */
    struct lm_policy *p = tu_neutral("order sendmail\n"
                                     "connect net 10.0.0.0/8 reject\n"
                                     "connect net 10.1.0.0/16 relay\n"
                                     "connect net 10.1.2.3 ok\n"
                                     "connect net 192.0.2.8-192.0.2.23 relay\n"
                                     "connect net 2001:db8::/32 relay\n"
                                     "connect name mx.example.org relay\n"
                                     "connect domain bad.example reject \"go away\"\n"
                                     "from address spam@hacker.example reject\n"
                                     "from domain spammail.example error 550 5.7.1 \"no\"\n"
                                     "to name rcpt.example relay\n"
                                     "to address abuse@ours.example discard\n"
                                     "accept domain ours.example\n"
                                     "accept name exact.example\n"
                                     "accept subdomains below.example\n");
    const char *const o[] = { "server-dir=/etc/postfix/relaymap", "table-type=cdb",
                              NULL };
    struct tu_files out;
    struct lm_losses l;
    struct lm_policy *back;
    size_t nerr;

    tu_emit_files(&lm_codec_postfix, p, o, &out, &l);
    ck_assert_uint_eq(out.n, PF_N);
    ck_assert_uint_eq(l.n, 0);
    /* narrowest first, a range covered by CIDR blocks, host bits zero */
    ck_assert_str_eq(out.buf[1],
                     "10.1.2.3\trelaymap_norelay\n"
                     "192.0.2.8/29\tOK\n"
                     "192.0.2.16/29\tOK\n"
                     "10.1.0.0/16\tOK\n"
                     "10.0.0.0/8\tREJECT\n"
                     "2001:db8::/32\tOK\n");
    ck_assert_str_eq(out.buf[2],
                     "bad.example\tREJECT go away\n"
                     ".bad.example\tREJECT go away\n"
                     "mx.example.org\tOK\n");
    ck_assert_str_eq(out.buf[3],
                     "spam@hacker.example\tREJECT\n"
                     "spammail.example\t550 5.7.1 no\n"
                     ".spammail.example\t550 5.7.1 no\n");
    ck_assert_str_eq(out.buf[4],
                     "abuse@ours.example\tDISCARD\n"
                     "rcpt.example\tOK\n");
    ck_assert_str_eq(out.buf[5],
                     "ours.example\n.ours.example\nexact.example\n.below.example\n");
    ck_assert_ptr_nonnull(strstr(out.buf[0], "check_client_access cdb:/etc/postfix/relaymap/"
                                             "client_access,\n"));
    ck_assert_ptr_nonnull(strstr(out.buf[0], "check_client_access cidr:/etc/postfix/relaymap/"
                                             "relay_clients.cidr,\n"));
    ck_assert_ptr_nonnull(strstr(out.buf[0], "relay_domains = /etc/postfix/relaymap/"
                                             "relay_domains\n"));
    {
        /* the setting leaves out the two lists the tables rely on */
        const char *pd = strstr(out.buf[0], "\nparent_domain_matches_subdomains = ");
        char line[256];
        ck_assert_ptr_nonnull(pd);
        ck_assert_ptr_nonnull(strchr(pd + 1, '\n'));
        snprintf(line, sizeof line, "%.*s", (int)(strchr(pd + 1, '\n') - pd), pd);
        ck_assert_ptr_null(strstr(line, "smtpd_access_maps"));
        ck_assert_ptr_null(strstr(line, "relay_domains"));
    }
    back = tu_read_files(&lm_codec_postfix, &out, &nerr);
    ck_assert_uint_eq(nerr, 0);
    ck_assert_str_eq(lm_order_name(back->order), "postfix");
    tu_same(p, back);
    ck_assert_int_eq(pf_ask(back, "10.1.2.3", NULL, "x@outside.example"), LM_V_REFUSE);
    ck_assert_int_eq(pf_ask(back, "10.1.2.4", NULL, "x@outside.example"), LM_V_RELAY);
    ck_assert_int_eq(pf_ask(back, "10.2.0.1", NULL, "x@ours.example"), LM_V_REJECT);
    ck_assert_int_eq(pf_ask(back, "192.0.2.1", "a@sub.spammail.example", "x@ours.example"),
                     LM_V_REJECT);
    ck_assert_int_eq(pf_ask(back, "192.0.2.1", NULL, "x@rcpt.example"), LM_V_ACCEPT);
    ck_assert_int_eq(pf_ask(back, "192.0.2.1", NULL, "x@sub.rcpt.example"), LM_V_REFUSE);
    ck_assert_int_eq(pf_ask(back, "192.0.2.1", NULL, "x@a.exact.example"), LM_V_REFUSE);
    ck_assert_int_eq(pf_ask(back, "192.0.2.1", NULL, "x@a.below.example"), LM_V_ACCEPT);
    tu_files_free(&out);
    lm_losses_fini(&l);
    lm_policy_free(back);
    lm_policy_free(p);
}
END_TEST

/* The default directory and table type, and the default rule (SKIP falls to
 * it: the table holds it last, so a SKIP is written as its action). */
START_TEST(emit_defaults_and_skip)
{
    struct lm_policy *p = tu_neutral("connect net 10.0.0.0/8 relay\n"
                                     "connect net 10.9.0.0/16 skip\n"
                                     "default reject\n");
    struct tu_files out;
    struct lm_losses l;
    struct lm_policy *back;
    size_t nerr;

    tu_emit_files(&lm_codec_postfix, p, NULL, &out, &l);
    ck_assert_uint_eq(l.n, 0);
    ck_assert_str_eq(out.buf[1], "10.9.0.0/16\tREJECT\n10.0.0.0/8\tOK\n"
                                 "0.0.0.0/0\tREJECT\n::/0\tREJECT\n");
    ck_assert_ptr_nonnull(strstr(out.buf[0], "lmdb:/etc/postfix/relaymap/sender_access"));
    back = tu_read_files(&lm_codec_postfix, &out, &nerr);
    ck_assert_uint_eq(nerr, 0);
    tu_same(p, back);
    tu_files_free(&out);
    lm_losses_fini(&l);
    lm_policy_free(back);
    lm_policy_free(p);
}
END_TEST

/* Postfix's access(5) order: "user@" after the domain and its parents. */
START_TEST(user_after_domain)
{
    struct lm_policy *p;
    struct tu_files out;
    struct lm_losses l;

    p = tu_read(&lm_codec_postfix, "sender_access", "joe@\tREJECT\n"
                                                    "friends.example\tOK\n"
                                                    ".friends.example\tDUNNO\n");
    lm_policy_index(p, NULL);
    ck_assert_int_eq(pf_ask(p, "192.0.2.1", "joe@friends.example", "u"), LM_V_ACCEPT);
    ck_assert_int_eq(pf_ask(p, "192.0.2.1", "joe@sub.friends.example", "u"), LM_V_ACCEPT);
    ck_assert_int_eq(pf_ask(p, "192.0.2.1", "joe@else.example", "u"), LM_V_REJECT);
    lm_policy_free(p);
    /* the neutral order looks "user@" up first: where both match, a loss */
    p = tu_neutral("from user joe reject\nfrom domain friends.example ok\n");
    tu_emit_files(&lm_codec_postfix, p, NULL, &out, &l);
    ck_assert_uint_eq(l.n, 1);
    ck_assert_int_eq(l.v[0].kind, LM_LOSS_CHANGED);
    ck_assert_ptr_nonnull(strstr(l.v[0].why, "after the domain"));
    tu_files_free(&out);
    lm_losses_fini(&l);
    lm_policy_free(p);
}
END_TEST

START_TEST(losses)
{
    struct lm_policy *p = tu_neutral("connect anyhost reject\n"
                                     "connect authenticated relay\n"
                                     "connect net 10.0.0.1 relay\n"
                                     "connect domain example.org reject\n"
                                     "from all reject\n"
                                     "local 192.0.2.1\n");
    struct tu_files out;
    struct lm_losses l;

    tu_emit_files(&lm_codec_postfix, p, NULL, &out, &l);
    ck_assert_uint_eq(l.n, 5);
    ck_assert_ptr_nonnull(strstr(l.v[0].why, "every client with a host name"));
    ck_assert_int_eq(l.v[0].widens, 1);
    ck_assert_ptr_nonnull(strstr(l.v[1].why, "authenticated"));
    ck_assert_int_eq(l.v[1].widens, 0);
    ck_assert_ptr_nonnull(strstr(l.v[2].why, "every sender"));
    ck_assert_ptr_nonnull(strstr(l.v[3].why, "name up before its address"));
    ck_assert_ptr_nonnull(strstr(l.v[4].why, "inet_interfaces"));
    tu_files_free(&out);
    lm_losses_fini(&l);
    lm_policy_free(p);
}
END_TEST

/* One file read with errors expected; returns the diagnostics. */
static void
pf_bad(const char *name, const char *text, struct lm_diags *d, struct lm_policy **pp)
{
    struct lm_source *s;

    lm_diags_init(d);
    *pp = lm_policy_new(d);
    s = lm_source_mem(name, text, strlen(text), d);
    ck_assert_ptr_nonnull(s);
    lm_codec_postfix.parse(s, *pp, d);
    lm_source_close(s);
}

static const struct lm_diag *
pf_diag(const struct lm_diags *d, unsigned long line, enum lm_sev sev)
{
    size_t i;

    for (i = 0; i < d->n; i++)
        if (d->v[i].line == line && d->v[i].sev == sev)
            return &d->v[i];
    ck_abort_msg("no diagnostic at line %lu", line);
    return NULL;
}

START_TEST(errors_and_never)
{
    struct lm_diags d;
    struct lm_policy *p;

    pf_bad("relay_clients.cidr", "10.1.2.3/8\tREJECT\n"       /* 1 host bits: never */
                                 "!10.0.0.0/8\tOK\n"          /* 2 negation */
                                 "10.0.0.0/8\tHOLD\n"         /* 3 action */
                                 "[192.0.2.1]\tOK\n"          /* 4 fine */
                                 "bogus\tOK\n"                /* 5 not an address */
                                 "  continued\n", &d, &p);    /* 6 continuation */
    ck_assert_ptr_nonnull(strstr(pf_diag(&d, 1, LM_WARNING)->msg, "host bits"));
    ck_assert_ptr_nonnull(strstr(pf_diag(&d, 2, LM_ERROR)->msg, "negation"));
    ck_assert_ptr_nonnull(strstr(pf_diag(&d, 3, LM_ERROR)->msg, "\"HOLD\""));
    pf_diag(&d, 5, LM_ERROR);
    pf_diag(&d, 6, LM_ERROR);
    ck_assert_uint_eq(d.nerrors, 4);
    ck_assert_uint_eq(p->nrules, 2);
    ck_assert_int_eq(p->rules[0].kind, LM_K_NEVER);
    ck_assert_int_eq(p->rules[1].kind, LM_K_NET);
    lm_diags_fini(&d);
    lm_policy_free(p);

    pf_bad("client_access", "10.1.2\tOK\n"                    /* 1 address key */
                            "a@b.example\tREJECT\n", &d, &p); /* 2 never */
    ck_assert_ptr_nonnull(strstr(pf_diag(&d, 1, LM_ERROR)->msg, "relay_clients.cidr"));
    ck_assert_ptr_nonnull(strstr(pf_diag(&d, 2, LM_WARNING)->msg, "not a host name"));
    lm_diags_fini(&d);
    lm_policy_free(p);

    pf_bad("main.cf.relaymap",
           "relay_domains = /x/relay_domains\n"                       /* 1 */
           "smtpd_relay_restrictions = permit_mynetworks,\n"         /* 2 */
           "    reject_unauth_destination\n"                          /* 3 */
           "myhostname = x\n", &d, &p);                               /* 4 */
    ck_assert_ptr_nonnull(strstr(pf_diag(&d, 2, LM_ERROR)->msg, "permit_mynetworks"));
    ck_assert_ptr_nonnull(strstr(pf_diag(&d, 4, LM_WARNING)->msg, "ignored"));
    /* the assumption the tables rely on must be stated */
    ck_assert_ptr_nonnull(strstr(d.v[d.n - 1].msg, "parent_domain_matches_subdomains"));
    lm_diags_fini(&d);
    lm_policy_free(p);

    pf_bad("main.cf.relaymap",
           "parent_domain_matches_subdomains = relay_domains\n", &d, &p);
    ck_assert_ptr_nonnull(strstr(pf_diag(&d, 1, LM_ERROR)->msg, "relay_domains"));
    lm_diags_fini(&d);
    lm_policy_free(p);
}
END_TEST

START_TEST(detect_scores)
{
    const char frag[] = "smtpd_relay_restrictions = reject_unauth_destination\n";

    ck_assert_int_eq(lm_codec_postfix.detect("x", frag, sizeof frag - 1), LM_DETECT_SURE);
    ck_assert_int_eq(lm_codec_postfix.detect("d/relay_clients.cidr", "1.2.3.4 OK\n", 11),
                     LM_DETECT_SURE);
    ck_assert_int_eq(lm_codec_postfix.detect("access", "1.2.3.4 OK\n", 11), LM_DETECT_NO);
}
END_TEST

/* Seeded neutral policies of what Postfix can hold: written, read back,
 * proven equivalent. */
START_TEST(roundtrip_random)
{
    static const char *const acts[] = { "relay", "reject", "ok", "skip", "discard",
                                        "error 550 5.7.1 \"x\"" };
    static const char *const sacts[] = { "reject", "ok", "skip", "discard" };
    static const char *const kinds[] = { "name", "domain", "subdomains" };
    unsigned seed;

    for (seed = 1; seed <= 60; seed++) {
        char text[8192];
        size_t n = 0, i;
        unsigned s = seed;

        for (i = 0; i < 12; i++) {
            unsigned len = 8 + tu_rand(&s, 25);
            unsigned long a = (10UL << 24) | ((unsigned long)tu_rand(&s, 1u << 12) << 12);
            a &= (0xffffffffUL << (32 - len)) & 0xffffffffUL;
            n += (size_t)snprintf(text + n, sizeof text - n, "connect net %lu.%lu.%lu.%lu/%u %s\n",
                                  a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255, len,
                                  acts[tu_rand(&s, 6)]);
        }
        for (i = 0; i < 4; i++)
            n += (size_t)snprintf(text + n, sizeof text - n, "connect name h%u.example %s\n",
                                  tu_rand(&s, 3), acts[tu_rand(&s, 6)]);
        for (i = 0; i < 6; i++) {
            const char *st = tu_rand(&s, 2) ? "from" : "to";
            unsigned k = tu_rand(&s, 4);
            if (k == 3)
                n += (size_t)snprintf(text + n, sizeof text - n, "%s address u@d%u.example %s\n",
                                      st, tu_rand(&s, 3), sacts[tu_rand(&s, 4)]);
            else
                n += (size_t)snprintf(text + n, sizeof text - n, "%s %s %sd%u.example %s\n", st,
                                      kinds[k], tu_rand(&s, 2) ? "a." : "", tu_rand(&s, 3),
                                      *st == 't' && tu_rand(&s, 2) ? "relay"
                                                                   : sacts[tu_rand(&s, 4)]);
        }
        n += (size_t)snprintf(text + n, sizeof text - n, "accept %s d%u.example\n",
                              kinds[tu_rand(&s, 3)], tu_rand(&s, 3));
        if (tu_rand(&s, 2))
            snprintf(text + n, sizeof text - n, "default %s\n", tu_rand(&s, 2) ? "reject" : "ok");
        tu_roundtrip(&lm_codec_postfix, text);
    }
}
END_TEST

Suite *postfix_suite(void);

Suite *
postfix_suite(void)
{
    Suite *s = suite_create("postfix");
    TCase *tc;

    tc = tcase_create("emit");
    tcase_add_test(tc, emit_known_policy);
    tcase_add_test(tc, emit_defaults_and_skip);
    tcase_add_test(tc, losses);
    suite_add_tcase(s, tc);
    tc = tcase_create("parse");
    tcase_add_test(tc, user_after_domain);
    tcase_add_test(tc, errors_and_never);
    tcase_add_test(tc, detect_scores);
    suite_add_tcase(s, tc);
    tc = tcase_create("roundtrip");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, roundtrip_random);
    suite_add_tcase(s, tc);
    return s;
}
