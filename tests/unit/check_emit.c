/*
 * check_emit.c - the emitter toolkit: network rules come out in the order
 * the source policy's server prefers them, for each lm_order.nets; a
 * target's list keeps the order of the rules written as one item; the
 * emitters' settings are read by name.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "libmap/emit.h"
#include "libmap/ipset.h"
#include "libmap/policy.h"

static void
em_add(struct lm_policy *p, const char *net, unsigned prefix, enum lm_action a,
       struct lm_diags *d)
{
    struct lm_rule r;
    struct lm_ipaddr ad;
    struct lm_ipnet n;

    memset(&r, 0, sizeof r);
    r.kind = LM_K_NET;
    r.stage = LM_S_CONNECT;
    r.action = a;
    ck_assert_int_eq(lm_ipaddr_parse(net, strlen(net), LM_IPF_V4 | LM_IPF_V6, &ad, NULL,
                                     NULL), 0);
    lm_ipnet_make(&n, &ad, prefix);
    lm_ipnet_range(&n, &r.net.range);
    ck_assert_ptr_nonnull(lm_policy_add(p, &r, d));
}

START_TEST(net_orders)
{
    static const struct {
        enum lm_net_match nets;
        size_t want[4];
    } cases[] = {
        { LM_NET_NARROWEST,    { 2, 1, 0, 3 } },
        { LM_NET_FIRST,        { 0, 1, 2, 3 } },
        { LM_NET_REFUSE_FIRST, { 1, 3, 2, 0 } },
    };
    struct lm_diags d;
    size_t c;

    lm_diags_init(&d);
    for (c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct lm_order o = lm_order_most_specific;
        struct lm_policy *p = lm_policy_new(&d);
        size_t *idx, n, i;
        o.nets = cases[c].nets;
        p->order = &o;
        em_add(p, "10.0.0.0", 8, LM_A_RELAY, &d);      /* 0 */
        em_add(p, "10.1.0.0", 16, LM_A_OK, &d);        /* 1 */
        em_add(p, "10.1.2.0", 24, LM_A_RELAY, &d);     /* 2 */
        em_add(p, "0.0.0.0", 0, LM_A_REJECT, &d);      /* 3 */
        em_add(p, "2001:db8::", 32, LM_A_RELAY, &d);   /* another family */
        ck_assert_int_eq(lm_emit_nets(p, LM_IPV4, &idx, &n, &d), 0);
        ck_assert_uint_eq(n, 4);
        /* refuse-first: refusing rules (narrowest first), then relays */
        for (i = 0; i < 4; i++)
            ck_assert_uint_eq(idx[i], cases[c].want[i]);
        free(idx);
        ck_assert_int_eq(lm_emit_nets(p, LM_IPV6, &idx, &n, &d), 0);
        ck_assert_uint_eq(n, 1);
        free(idx);
        lm_policy_free(p);
    }
    lm_diags_fini(&d);
}
END_TEST

/* Items that are exactly a rule's range of the asked kind and relaying
 * come in that rule's file order; the rest follow in address order. */
START_TEST(list_order)
{
    struct lm_diags d;
    struct lm_policy *p;
    struct lm_ipnet nets[4];
    struct lm_ipaddr a;
    char buf[2 * LM_IPADDR_BUF];

    lm_diags_init(&d);
    p = lm_policy_new(&d);
    p->order = &lm_order_most_specific;
    em_add(p, "10.9.0.0", 16, LM_A_RELAY, &d);     /* written as one item: first */
    em_add(p, "10.1.0.0", 16, LM_A_REJECT, &d);    /* refuses: no rank in a relay list */
    em_add(p, "10.5.0.0", 16, LM_A_RELAY, &d);     /* second */
    lm_ipaddr_v4(&a, 10, 1, 0, 0);
    lm_ipnet_make(&nets[0], &a, 16);
    lm_ipaddr_v4(&a, 10, 5, 0, 0);
    lm_ipnet_make(&nets[1], &a, 16);
    lm_ipaddr_v4(&a, 10, 0, 0, 0);
    lm_ipnet_make(&nets[2], &a, 16);
    lm_ipaddr_v4(&a, 10, 9, 0, 0);
    lm_ipnet_make(&nets[3], &a, 16);
    ck_assert_int_eq(lm_emit_order_nets(p, LM_K_NET, 1, nets, 4, &d), 0);
    ck_assert_str_eq(lm_ipnet_format(&nets[0], LM_FMT_CIDR, buf), "10.9.0.0/16");
    ck_assert_str_eq(lm_ipnet_format(&nets[1], LM_FMT_CIDR, buf), "10.5.0.0/16");
    ck_assert_str_eq(lm_ipnet_format(&nets[2], LM_FMT_CIDR, buf), "10.0.0.0/16");
    ck_assert_str_eq(lm_ipnet_format(&nets[3], LM_FMT_CIDR, buf), "10.1.0.0/16");
    /* the refusing rule ranks its item in a list of refusals */
    ck_assert_int_eq(lm_emit_order_nets(p, LM_K_NET, 0, nets, 4, &d), 0);
    ck_assert_str_eq(lm_ipnet_format(&nets[0], LM_FMT_CIDR, buf), "10.1.0.0/16");
    ck_assert_str_eq(lm_ipnet_format(&nets[1], LM_FMT_CIDR, buf), "10.0.0.0/16");
    ck_assert_uint_eq(d.nerrors, 0);
    lm_policy_free(p);
    lm_diags_fini(&d);
}
END_TEST

START_TEST(settings_by_name)
{
    static const char *const opts[] = { "server-dir=/a", "table-type=cdb", "server-dirx=/b",
                                        "server-dir=/c", NULL };

    ck_assert_str_eq(lm_emit_setting(opts, "server-dir"), "/c");    /* the last one */
    ck_assert_str_eq(lm_emit_setting(opts, "table-type"), "cdb");
    ck_assert_ptr_null(lm_emit_setting(opts, "table"));
    ck_assert_ptr_null(lm_emit_setting(NULL, "server-dir"));
}
END_TEST

Suite *emit_suite(void);

Suite *
emit_suite(void)
{
    Suite *s = suite_create("emit");
    TCase *tc = tcase_create("nets");

    tcase_add_test(tc, net_orders);
    tcase_add_test(tc, list_order);
    tcase_add_test(tc, settings_by_name);
    suite_add_tcase(s, tc);
    return s;
}
