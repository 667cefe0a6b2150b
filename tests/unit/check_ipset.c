/*
 * check_ipset.c - addresses, networks and interval sets: every notation and
 * its errors (with columns), formatting, and property tests of the set
 * algebra, covers and probes against a brute-force bitmap model on seeded
 * random sets.  Covers are also checked for minimality against a dynamic
 * program over every way of writing the same set.
 * IPSET_SEED=n changes the seed; a failure prints the seed it used.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libmap/ipset.h"

/* --- helpers ----------------------------------------------------------------- */

static struct lm_ipaddr
A(const char *s)
{
    struct lm_ipaddr a;

    ck_assert_msg(lm_ipaddr_parse(s, strlen(s), 0, &a, NULL, NULL) == 0, "bad test address %s", s);
    return a;
}

static struct lm_iprange
R(const char *s)
{
    struct lm_iprange r;

    ck_assert_msg(lm_iprange_parse(s, strlen(s), LM_IPF_ANY, &r, NULL, NULL) == 0,
                  "bad test range %s", s);
    return r;
}

static const char *
rstr(const struct lm_iprange *r)
{
    static char buf[4][LM_IPADDR_BUF];
    static int k;

    k = (k + 1) % 4;
    return lm_iprange_format(r, buf[k]);
}

static uint64_t seed_used;

/* xorshift64*: small, seeded, the same on every platform. */
static uint64_t rng_state;

static uint64_t
rng(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

static unsigned
rnd(unsigned n)
{
    return (unsigned)(rng() % n);
}

static uint64_t
seed_from_env(void)
{
    const char *s = getenv("IPSET_SEED");

    seed_used = s != NULL ? strtoull(s, NULL, 10) : 20261122;
    return seed_used;
}

/* --- parsing ---------------------------------------------------------------------- */

static const struct {
    const char *text;
    unsigned    flags;
    const char *want;       /* lm_iprange_format of the result */
} parse_ok[] = {
    { "192.0.2.1",              LM_IPF_V4,                    "192.0.2.1" },
    { "0.0.0.0",                LM_IPF_V4,                    "0.0.0.0" },
    { "255.255.255.255",        0,                            "255.255.255.255" },
    { "10.0.0.0/8",             LM_IPF_V4 | LM_IPF_CIDR,      "10.0.0.0-10.255.255.255" },
    { "0.0.0.0/0",              LM_IPF_CIDR,                  "0.0.0.0-255.255.255.255" },
    { "10.1.2.3/32",            LM_IPF_CIDR,                  "10.1.2.3" },
    { "172.16.5.0;255.255.255.0", LM_IPF_MASK,                "172.16.5.0-172.16.5.255" },
    { "10.0.0.5;255.255.255.255", LM_IPF_MASK,                "10.0.0.5" },
    { "192.168.1.0;255.255.255.248", LM_IPF_MASK,             "192.168.1.0-192.168.1.7" },
    { "10.0.0.0/255.0.0.0",     LM_IPF_MASK,                  "10.0.0.0-10.255.255.255" },
    { "0.0.0.0;0.0.0.0",        LM_IPF_MASK,                  "0.0.0.0-255.255.255.255" },
    { "10",                     LM_IPF_OCTETS,                "10.0.0.0-10.255.255.255" },
    { "10.1",                   LM_IPF_OCTETS,                "10.1.0.0-10.1.255.255" },
    { "172.16.5",               LM_IPF_OCTETS,                "172.16.5.0-172.16.5.255" },
    { "172.16.5.",              LM_IPF_DOTTED,              "172.16.5.0-172.16.5.255" },
    { "1.",                     LM_IPF_DOTTED,              "1.0.0.0-1.255.255.255" },
    { "1.2.3.4-7",              LM_IPF_DOTTED,              "1.2.3.4-1.2.3.7" },
    { "1.2.3.0-255",            LM_IPF_DOTTED,              "1.2.3.0-1.2.3.255" },
    { "10.2-3.",                LM_IPF_DOTTED,              "10.2.0.0-10.3.255.255" },
    { "0-255.",                 LM_IPF_DOTTED,              "0.0.0.0-255.255.255.255" },
    { "1.2.3.9-9",              LM_IPF_DOTTED,              "1.2.3.9" },
    { "10.0.0.1-10.0.1.7",      LM_IPF_RANGE,                 "10.0.0.1-10.0.1.7" },
    { "1.2.3.4-7",              LM_IPF_RANGE | LM_IPF_DOTTED, "1.2.3.4-1.2.3.7" },
    { "::",                     LM_IPF_V6,                    "::" },
    { "::1",                    LM_IPF_V6,                    "::1" },
    { "1::",                    LM_IPF_V6,                    "1::" },
    { "2001:DB8::A",            LM_IPF_V6,                    "2001:db8::a" },
    { "2001:db8:0:0:0:0:0:1",   LM_IPF_V6,                    "2001:db8::1" },
    { "1:2:3:4:5:6:7:8",        LM_IPF_V6,                    "1:2:3:4:5:6:7:8" },
    { "::ffff:192.0.2.1",       LM_IPF_V6,                    "::ffff:192.0.2.1" },
    { "64:ff9b::192.0.2.33",    LM_IPF_V6,                    "64:ff9b::c000:221" },
    { "1:2:3:4:5:6:1.2.3.4",    LM_IPF_V6,                    "1:2:3:4:5:6:102:304" },
    { "2001:db8::/32",          LM_IPF_CIDR,                  "2001:db8::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff" },
    { "::/0",                   LM_IPF_CIDR,                  "::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" },
    { "2001:db8",               LM_IPF_V6 | LM_IPF_GROUPS,    "2001:db8::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff" },
    { "2002:c0a8:02c7",         LM_IPF_GROUPS,                "2002:c0a8:2c7::-2002:c0a8:2c7:ffff:ffff:ffff:ffff:ffff" },
    { "2001",                   LM_IPF_V6 | LM_IPF_GROUPS,    "2001::-2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff" },
    { "0:0:0:0:0:0:0:1",        LM_IPF_V6 | LM_IPF_GROUPS,    "::1" },
    { "2001:db8::1-2001:db8::ff", LM_IPF_RANGE,               "2001:db8::1-2001:db8::ff" },
};

START_TEST(parse_valid)
{
    size_t i;

    for (i = 0; i < sizeof parse_ok / sizeof parse_ok[0]; i++) {
        struct lm_diags d;
        struct lm_iprange r;
        const char *t = parse_ok[i].text;

        lm_diags_init(&d);
        ck_assert_msg(lm_iprange_parse(t, strlen(t), parse_ok[i].flags, &r, &d, NULL) == 0,
                      "%s: %s", t, d.n ? d.v[0].msg : "?");
        ck_assert_str_eq(rstr(&r), parse_ok[i].want);
        ck_assert_uint_eq(d.n, 0);
        lm_diags_fini(&d);
    }
}
END_TEST

static const struct {
    const char *text;
    unsigned    flags;
    unsigned    col;        /* with the text starting at column 10 */
    const char *msg;
} parse_bad[] = {
    { "",               LM_IPF_ANY, 10, "invalid IP address \"\": empty address" },
    { "1.2.3.256",      LM_IPF_ANY, 16, "invalid IP address \"1.2.3.256\": octet 256 is over 255" },
    { "1.2.3.4000",     LM_IPF_ANY, 16, "invalid IP address \"1.2.3.4000\": octet 4000 is over 255" },
    { "01.2.3.4",       LM_IPF_ANY, 10, "invalid IP address \"01.2.3.4\": octet 01 has a leading zero" },
    { "1.2..4",         LM_IPF_ANY, 14, "invalid IP address \"1.2..4\": unexpected '.' where an octet should be" },
    { "1.2.3.4.5",      LM_IPF_ANY, 18, "invalid IP address \"1.2.3.4.5\": more than four octets" },
    { "1.2.3.4x",       LM_IPF_ANY, 17, "invalid IP address \"1.2.3.4x\": unexpected 'x'" },
    { " 1.2.3.4",       LM_IPF_ANY, 10, "invalid IP address \" 1.2.3.4\": unexpected ' ' where an octet should be" },
    { "a.b.c.d",        LM_IPF_ANY, 10, "invalid IP address \"a.b.c.d\": unexpected 'a' where an octet should be" },
    { "1.2.3.4.",       LM_IPF_ANY, 17, "invalid IP address \"1.2.3.4.\": trailing dot after the fourth octet" },
    { "10.1.2.3/8",     LM_IPF_ANY, 10, "invalid IP address \"10.1.2.3/8\": host bits set (did you mean 10.0.0.0/8?)" },
    { "10.1.2.3;255.255.0.0", LM_IPF_ANY, 10, "invalid IP address \"10.1.2.3;255.255.0.0\": host bits set (did you mean 10.1.0.0/16?)" },
    { "1.2.3.4/33",     LM_IPF_ANY, 18, "invalid IP address \"1.2.3.4/33\": prefix length 33 is over 32" },
    { "1.2.3.4/",       LM_IPF_ANY, 18, "invalid IP address \"1.2.3.4/\": missing prefix length after '/'" },
    { "1.2.3.4/2x",     LM_IPF_ANY, 19, "invalid IP address \"1.2.3.4/2x\": unexpected 'x' in the prefix length" },
    { "10.0.0.0;255.0.255.0", LM_IPF_ANY, 19, "invalid IP address \"10.0.0.0;255.0.255.0\": mask 255.0.255.0 is not contiguous" },
    { "10.0.0.0/8",     LM_IPF_V4 | LM_IPF_MASK, 18, "invalid IP address \"10.0.0.0/8\": a \"/length\" suffix is not accepted here" },
    { "10.0.0.0;255.0.0.0", LM_IPF_V4 | LM_IPF_CIDR, 18, "invalid IP address \"10.0.0.0;255.0.0.0\": a ';' mask is not accepted here" },
    { "10.0.0/8",       LM_IPF_ANY, 16, "invalid IP address \"10.0.0/8\": only 3 octets, four needed" },
    { "10.1",           LM_IPF_V4,  14, "invalid IP address \"10.1\": only 2 octets, four needed" },
    { "172.16.5",       LM_IPF_DOTTED, 18, "invalid IP address \"172.16.5\": incomplete address (a dotted prefix ends with a dot: \"172.16.5.\")" },
    { "172.16.5.",      LM_IPF_OCTETS, 18, "invalid IP address \"172.16.5.\": trailing dot (a whole-octet prefix is written \"172.16.5\")" },
    { "172.16.5.",      LM_IPF_V4, 18, "invalid IP address \"172.16.5.\": trailing dot" },
    { "1.2.3.7-4",      LM_IPF_DOTTED, 17, "invalid IP address \"1.2.3.7-4\": empty range 7-4" },
    { "1.2.3.4-300",    LM_IPF_DOTTED, 18, "invalid IP address \"1.2.3.4-300\": octet 300 is over 255" },
    { "10.2-3.4.5",     LM_IPF_DOTTED, 14, "invalid IP address \"10.2-3.4.5\": a range must be in the last octet written" },
    { "1.2-3.4-5",      LM_IPF_DOTTED, 17, "invalid IP address \"1.2-3.4-5\": more than one range" },
    { "1.2.3.4-7",      LM_IPF_V4 | LM_IPF_CIDR, 17, "invalid IP address \"1.2.3.4-7\": '-' is not allowed here" },
    { "1.2.3-4",        LM_IPF_DOTTED | LM_IPF_OCTETS, 15, "invalid IP address \"1.2.3-4\": a range needs a complete address or a prefix ending in a dot" },
    { "1.2.3.0-7/29",   LM_IPF_ANY, 17, "invalid IP address \"1.2.3.0-7/29\": a range cannot have a mask" },
    { "1.2.3.9-1.2.3.4", LM_IPF_RANGE, 18, "invalid IP address \"1.2.3.9-1.2.3.4\": range ends before it starts" },
    { "1.2.3.4-::1",    LM_IPF_ANY, 17, "invalid IP address \"1.2.3.4-::1\": '-' is not allowed here" },
    { "::1",            LM_IPF_V4 | LM_IPF_CIDR, 10, "invalid IP address \"::1\": IPv6 is not accepted here" },
    { "1.2.3.4",        LM_IPF_V6 | LM_IPF_CIDR, 10, "invalid IP address \"1.2.3.4\": IPv4 is not accepted here" },
    { ":1::2",          LM_IPF_ANY, 10, "invalid IP address \":1::2\": a single ':' cannot start an address" },
    { "1::2::3",        LM_IPF_ANY, 14, "invalid IP address \"1::2::3\": \"::\" appears twice" },
    { "1:2:",           LM_IPF_ANY, 13, "invalid IP address \"1:2:\": address ends with a single ':'" },
    { "12345::",        LM_IPF_ANY, 10, "invalid IP address \"12345::\": group longer than four hex digits" },
    { "1:2:3:4:5:6:7:8:9", LM_IPF_ANY, 26, "invalid IP address \"1:2:3:4:5:6:7:8:9\": more than eight groups" },
    { "1::2:3:4:5:6:7:8", LM_IPF_ANY, 26, "invalid IP address \"1::2:3:4:5:6:7:8\": \"::\" with eight groups besides" },
    { "fe80::1%eth0",   LM_IPF_ANY, 17, "invalid IP address \"fe80::1%eth0\": unexpected '%'" },
    { "[::1]",          LM_IPF_ANY, 10, "invalid IP address \"[::1]\": unexpected '['" },
    { "2001:db8",       LM_IPF_V6 | LM_IPF_CIDR, 18, "invalid IP address \"2001:db8\": only 2 groups, eight or \"::\" needed" },
    { "1.2.3.4::",      LM_IPF_ANY, 10, "invalid IP address \"1.2.3.4::\": an IPv4 tail must come last" },
    { "::1.2.3",        LM_IPF_ANY, 17, "invalid IP address \"::1.2.3\": only 3 octets, four needed" },
    { "2001:db8::/129", LM_IPF_ANY, 21, "invalid IP address \"2001:db8::/129\": prefix length 129 is over 128" },
    { "2001:db8::1/32", LM_IPF_ANY, 10, "invalid IP address \"2001:db8::1/32\": host bits set (did you mean 2001:db8::/32?)" },
    { "::1;255.0.0.0",  LM_IPF_ANY, 13, "invalid IP address \"::1;255.0.0.0\": a mask needs an IPv4 address" },
};

START_TEST(parse_errors)
{
    size_t i;

    for (i = 0; i < sizeof parse_bad / sizeof parse_bad[0]; i++) {
        struct lm_diags d;
        struct lm_iprange r;
        struct lm_pos pos = { "access", 7, 10 };
        const char *t = parse_bad[i].text;

        lm_diags_init(&d);
        ck_assert_msg(lm_iprange_parse(t, strlen(t), parse_bad[i].flags, &r, &d, &pos) == -1,
                      "%s was accepted as %s", t, rstr(&r));
        ck_assert_uint_eq(d.n, 1);
        ck_assert_str_eq(d.v[0].msg, parse_bad[i].msg);
        ck_assert_int_eq(d.v[0].sev, LM_ERROR);
        ck_assert_int_eq(d.v[0].code, LM_E_SYNTAX);
        ck_assert_str_eq(d.v[0].file, "access");
        ck_assert_uint_eq(d.v[0].line, 7);
        ck_assert_msg(d.v[0].col == parse_bad[i].col, "%s: col %u, want %u", t, d.v[0].col,
                      parse_bad[i].col);
        /* Silent when there is no sink (format detection). */
        ck_assert_int_eq(lm_iprange_parse(t, strlen(t), parse_bad[i].flags, &r, NULL, NULL), -1);
        lm_diags_fini(&d);
    }
}
END_TEST

START_TEST(parse_hostbits_and_nets)
{
    struct lm_diags d;
    struct lm_iprange r;
    struct lm_ipnet n;
    struct lm_ipaddr a;
    struct lm_pos pos = { "relay.reg", 4, 0 };
    char buf[LM_IPADDR_BUF];

    lm_diags_init(&d);
    /* Asked for: clear the host bits, warn, suggest. */
    ck_assert_int_eq(lm_iprange_parse("10.1.2.3;255.0.0.0", 18, LM_IPF_MASK | LM_IPF_HOSTBITS,
                                      &r, &d, &pos), 0);
    ck_assert_str_eq(rstr(&r), "10.0.0.0-10.255.255.255");
    ck_assert_uint_eq(d.n, 1);
    ck_assert_int_eq(d.v[0].sev, LM_WARNING);
    ck_assert_uint_eq(d.v[0].col, 0);
    ck_assert_str_eq(d.v[0].msg, "host bits set in \"10.1.2.3;255.0.0.0\"; using 10.0.0.0/8");
    lm_diags_fini(&d);

    lm_diags_init(&d);
    ck_assert_int_eq(lm_ipnet_parse("192.168.1.0/25", 14, LM_IPF_CIDR, &n, &d, NULL), 0);
    ck_assert_uint_eq(n.prefix, 25);
    ck_assert_str_eq(lm_ipnet_format(&n, LM_FMT_CIDR, buf), "192.168.1.0/25");
    ck_assert_int_eq(lm_ipnet_parse("1.2.3.0-255", 11, LM_IPF_DOTTED, &n, &d, NULL), 0);
    ck_assert_str_eq(lm_ipnet_format(&n, LM_FMT_CIDR, buf), "1.2.3.0/24");
    ck_assert_int_eq(lm_ipnet_parse("1.2.3.4-7", 9, LM_IPF_DOTTED, &n, &d, NULL), 0);
    ck_assert_str_eq(lm_ipnet_format(&n, LM_FMT_CIDR, buf), "1.2.3.4/30");
    ck_assert_int_eq(lm_ipnet_parse("1.2.3.4-8", 9, LM_IPF_DOTTED, &n, &d, NULL), -1);
    ck_assert_str_eq(d.v[0].msg, "invalid IP address \"1.2.3.4-8\": a range, not one network");
    ck_assert_int_eq(lm_ipaddr_parse("10.1.", 5, LM_IPF_ANY, &a, NULL, NULL), -1);
    ck_assert_int_eq(lm_ipaddr_parse("10.0.0.0/8", 10, LM_IPF_ANY, &a, NULL, NULL), -1);
    ck_assert_int_eq(lm_ipaddr_parse("2001:db8::5", 11, LM_IPF_V6, &a, NULL, NULL), 0);
    ck_assert_int_eq(a.family, LM_IPV6);
    ck_assert_int_eq(lm_ipaddr_parse("2001:db8::5", 11, LM_IPF_V4, &a, NULL, NULL), -1);
    lm_diags_fini(&d);
}
END_TEST

/* --- formatting and arithmetic --------------------------------------------------- */

START_TEST(format_rfc5952)
{
    static const char *const c[][2] = {
        { "2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1" },    /* first longest run */
        { "2001:0:0:1:0:0:0:1",   "2001:0:0:1::1" },        /* longer run wins */
        { "2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1" }, /* one zero group stays */
        { "0:0:0:0:0:0:0:0",      "::" },
        { "0:0:0:0:0:0:0:1",      "::1" },
        { "1:0:0:0:0:0:0:0",      "1::" },
        { "2001:DB8:0000:00AB::", "2001:db8:0:ab::" },
        { "1:0:0:2:0:0:0:3",      "1:0:0:2::3" },
        { "0:0:0:0:0:ffff:a00:1", "::ffff:10.0.0.1" },
        { "fe80::",               "fe80::" },
    };
    char buf[LM_IPADDR_BUF];
    size_t i;

    for (i = 0; i < sizeof c / sizeof c[0]; i++) {
        struct lm_ipaddr a = A(c[i][0]);
        ck_assert_str_eq(lm_ipaddr_format(&a, buf), c[i][1]);
    }
}
END_TEST

START_TEST(format_styles)
{
    struct lm_ipnet n;
    char buf[LM_IPADDR_BUF];

    lm_ipnet_parse("10.1.0.0/16", 11, LM_IPF_CIDR, &n, NULL, NULL);
    ck_assert_str_eq(lm_ipnet_format(&n, LM_FMT_OCTETS, buf), "10.1");
    ck_assert_str_eq(lm_ipnet_format(&n, LM_FMT_MASK, buf), "10.1.0.0;255.255.0.0");
    ck_assert_str_eq(lm_ipnet_format(&n, LM_FMT_CIDR_LEN, buf), "10.1.0.0/16");
    lm_ipnet_parse("10.0.0.5", 8, LM_IPF_CIDR, &n, NULL, NULL);
    ck_assert_str_eq(lm_ipnet_format(&n, LM_FMT_CIDR, buf), "10.0.0.5");
    ck_assert_str_eq(lm_ipnet_format(&n, LM_FMT_CIDR_LEN, buf), "10.0.0.5/32");
    ck_assert_str_eq(lm_ipnet_format(&n, LM_FMT_MASK, buf), "10.0.0.5");
    ck_assert_str_eq(lm_ipnet_format(&n, LM_FMT_OCTETS, buf), "10.0.0.5");
    lm_ipnet_parse("192.168.1.0/29", 14, LM_IPF_CIDR, &n, NULL, NULL);
    ck_assert_str_eq(lm_ipnet_format(&n, LM_FMT_MASK, buf), "192.168.1.0;255.255.255.248");
    ck_assert_ptr_null(lm_ipnet_format(&n, LM_FMT_OCTETS, buf));
    lm_ipnet_parse("0.0.0.0/0", 9, LM_IPF_CIDR, &n, NULL, NULL);
    ck_assert_ptr_null(lm_ipnet_format(&n, LM_FMT_OCTETS, buf));
    ck_assert_str_eq(lm_ipnet_format(&n, LM_FMT_MASK, buf), "0.0.0.0;0.0.0.0");
    lm_ipnet_parse("2002:c0a8:2c7::/48", 18, LM_IPF_CIDR, &n, NULL, NULL);
    ck_assert_str_eq(lm_ipnet_format(&n, LM_FMT_OCTETS, buf), "2002:c0a8:2c7");
    ck_assert_ptr_null(lm_ipnet_format(&n, LM_FMT_MASK, buf));
    lm_ipnet_parse("2001:db8::/64", 13, LM_IPF_CIDR, &n, NULL, NULL);
    ck_assert_str_eq(lm_ipnet_format(&n, LM_FMT_OCTETS, buf), "2001:db8:0:0");
    lm_ipnet_parse("::1", 3, LM_IPF_CIDR, &n, NULL, NULL);
    ck_assert_str_eq(lm_ipnet_format(&n, LM_FMT_OCTETS, buf), "0:0:0:0:0:0:0:1");
    ck_assert_str_eq(lm_ipnet_format(&n, LM_FMT_CIDR, buf), "::1");
    /* The longest output fits the documented buffer. */
    {
        struct lm_iprange r = R("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
        ck_assert_uint_lt(strlen(rstr(&r)), LM_IPADDR_BUF);
    }
}
END_TEST

START_TEST(arithmetic)
{
    struct lm_ipaddr a = A("255.255.255.255"), b;
    struct lm_iprange r;
    struct lm_ipnet n;
    char buf[LM_IPADDR_BUF];

    ck_assert_int_eq(lm_ipaddr_succ(&a), -1);
    ck_assert_str_eq(lm_ipaddr_format(&a, buf), "255.255.255.255");
    ck_assert_int_eq(lm_ipaddr_pred(&a), 0);
    ck_assert_str_eq(lm_ipaddr_format(&a, buf), "255.255.255.254");
    a = A("0.0.0.0");
    ck_assert_int_eq(lm_ipaddr_pred(&a), -1);
    a = A("10.0.0.255");
    lm_ipaddr_succ(&a);
    ck_assert_str_eq(lm_ipaddr_format(&a, buf), "10.0.1.0");
    a = A("::ffff:ffff:ffff:ffff");             /* carry across the 64-bit words */
    lm_ipaddr_succ(&a);
    ck_assert_str_eq(lm_ipaddr_format(&a, buf), "0:0:0:1::");
    lm_ipaddr_pred(&a);
    ck_assert_str_eq(lm_ipaddr_format(&a, buf), "::ffff:ffff:ffff:ffff");
    a = A("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    ck_assert_int_eq(lm_ipaddr_succ(&a), -1);
    a = A("::");
    ck_assert_int_eq(lm_ipaddr_pred(&a), -1);
    /* IPv4 sorts before IPv6, whatever the bytes. */
    a = A("255.255.255.255");
    b = A("::");
    ck_assert_int_lt(lm_ipaddr_cmp(&a, &b), 0);
    ck_assert_uint_eq(lm_ipfam_bits(LM_IPV4), 32);
    ck_assert_uint_eq(lm_ipfam_bits(LM_IPV6), 128);

    a = A("10.1.2.3");
    lm_ipnet_make(&n, &a, 12);
    ck_assert_str_eq(lm_ipnet_format(&n, LM_FMT_CIDR, buf), "10.0.0.0/12");
    ck_assert_int_eq(lm_ipnet_contains(&n, &a), 1);
    b = A("10.16.0.0");
    ck_assert_int_eq(lm_ipnet_contains(&n, &b), 0);
    b = A("::a01:203");
    ck_assert_int_eq(lm_ipnet_contains(&n, &b), 0);
    lm_ipnet_make(&n, &a, 40);                  /* clamped to the family */
    ck_assert_uint_eq(n.prefix, 32);
    r = R("10.0.0.0-10.0.0.255");
    ck_assert_int_eq(lm_iprange_to_net(&r, &n), 0);
    ck_assert_uint_eq(n.prefix, 24);
    r = R("10.0.0.1-10.0.1.0");
    ck_assert_int_eq(lm_iprange_to_net(&r, &n), LM_NOTFOUND);
    r = R("10.0.0.0-10.0.0.254");
    ck_assert_int_eq(lm_iprange_to_net(&r, &n), LM_NOTFOUND);
    lm_iprange_all(&r, LM_IPV6);
    ck_assert_int_eq(lm_iprange_to_net(&r, &n), 0);
    ck_assert_uint_eq(n.prefix, 0);
    lm_ipaddr_v4(&a, 192, 0, 2, 1);
    ck_assert_str_eq(lm_ipaddr_format(&a, buf), "192.0.2.1");
}
END_TEST

/* Check records every passing ck_assert, which costs a write each; the
 * property loops below make millions of checks, so they fail through
 * ck_abort_msg only, naming the seed to reproduce the case. */
#define MUST(c) do { if (!(c)) ck_abort_msg("line %d: %s (IPSET_SEED=%llu)", __LINE__, #c, \
                                            (unsigned long long)seed_used); } while (0)
#define MUST_MSG(c, ...) do { if (!(c)) { fprintf(stderr, "IPSET_SEED=%llu\n", \
                                     (unsigned long long)seed_used); ck_abort_msg(__VA_ARGS__); } } while (0)

/* --- brute-force model ----------------------------------------------------------------
 * A world is a list of consecutive addresses (one or two segments, each of
 * one family); sets are built from random ranges inside it and mirrored in a
 * bitmap.  Worlds sit at the edges where arithmetic breaks: address zero,
 * the top of each family, the carry between IPv6's two 64-bit words. */

#define WMAX 1024

struct world {
    const char *name;
    size_t n, split;            /* segment 2 starts at split (== n: one segment) */
    struct lm_ipaddr a[WMAX];
    struct lm_ipaddr before, after;   /* just outside, when they exist */
    int has_before, has_after;
};

static void
world_fill(struct lm_ipaddr *dst, const char *start, size_t n)
{
    size_t i;

    dst[0] = A(start);
    for (i = 1; i < n; i++) {
        dst[i] = dst[i - 1];
        MUST((lm_ipaddr_succ(&dst[i])) == (0));
    }
}

static void
world_make(struct world *w, const char *name, const char *s1, size_t n1, const char *s2,
           size_t n2)
{
    memset(w, 0, sizeof *w);
    w->name = name;
    world_fill(w->a, s1, n1);
    w->split = n1;
    w->n = n1;
    if (s2 != NULL) {
        world_fill(w->a + n1, s2, n2);
        w->n += n2;
    }
    w->before = w->a[0];
    w->has_before = lm_ipaddr_pred(&w->before) == 0;
    w->after = w->a[w->n - 1];
    w->has_after = lm_ipaddr_succ(&w->after) == 0;
}

struct model {
    unsigned char bit[WMAX];
    struct lm_iprange raw[16];
    size_t nraw;
};

static void
model_random(const struct world *w, struct model *m, struct lm_ipset *s)
{
    size_t k, nr = 1 + rnd(8), i;

    memset(m, 0, sizeof *m);
    lm_ipset_init(s);
    if (rnd(10) == 0)
        return;                                 /* the empty set too */
    for (k = 0; k < nr; k++) {
        size_t seg0 = 0, seg1 = w->split, lo, hi, len;
        if (w->split < w->n && rnd(2)) {
            seg0 = w->split;
            seg1 = w->n;
        }
        /* Short, medium and segment-wide ranges. */
        len = rnd(4) == 0 ? 1 : rnd(3) == 0 ? rnd((unsigned)(seg1 - seg0)) + 1 : rnd(64) + 1;
        lo = seg0 + rnd((unsigned)(seg1 - seg0));
        hi = lo + len - 1 < seg1 ? lo + len - 1 : seg1 - 1;
        m->raw[m->nraw].lo = w->a[lo];
        m->raw[m->nraw].hi = w->a[hi];
        MUST((lm_ipset_add_range(s, &m->raw[m->nraw], NULL)) == (0));
        m->nraw++;
        for (i = lo; i <= hi; i++)
            m->bit[i] = 1;
    }
}

static void
model_check(const struct world *w, const unsigned char *bit, struct lm_ipset *s,
            const char *what)
{
    size_t i;
    unsigned long long pop = 0;

    for (i = 0; i < w->n; i++) {
        MUST_MSG(lm_ipset_contains(s, &w->a[i]) == bit[i], "%s %s: position %zu", w->name, what, i);
        pop += bit[i];
    }
    if (w->has_before)
        MUST_MSG(!lm_ipset_contains(s, &w->before), "%s %s: before", w->name, what);
    if (w->has_after)
        MUST_MSG(!lm_ipset_contains(s, &w->after), "%s %s: after", w->name, what);
    MUST((lm_ipset_count(s)) == (pop));
    /* Normal form: sorted, same family per range, not touching. */
    for (i = 0; i < s->n; i++) {
        MUST((s->v[i].lo.family) == (s->v[i].hi.family));
        MUST((lm_ipaddr_cmp(&s->v[i].lo, &s->v[i].hi)) <= (0));
        if (i > 0) {
            struct lm_ipaddr next = s->v[i - 1].hi;
            MUST((lm_ipaddr_cmp(&s->v[i - 1].hi, &s->v[i].lo)) < (0));
            if (lm_ipaddr_succ(&next) == 0)
                MUST_MSG(lm_ipaddr_cmp(&next, &s->v[i].lo) != 0, "%s %s: ranges touch", w->name, what);
        }
    }
}

static void
worlds(struct world **out, size_t *n)
{
    static struct world w[6];
    static int made;

    if (!made) {
        world_make(&w[0], "v4-mid", "10.20.0.0", 1024, NULL, 0);
        world_make(&w[1], "v4-zero", "0.0.0.0", 700, NULL, 0);
        world_make(&w[2], "v4-top", "255.255.254.0", 512, NULL, 0);
        world_make(&w[3], "v6-carry", "2001:db8::ffff:ffff:ffff:fe00", 1024, NULL, 0);
        world_make(&w[4], "v6-top", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fe00", 512, NULL, 0);
        world_make(&w[5], "mixed", "255.255.255.0", 256, "::", 600);
        made = 1;
    }
    *out = w;
    *n = 6;
}

#define ITER 150

START_TEST(algebra_vs_brute_force)
{
    struct world *w;
    size_t nw, wi;
    uint64_t seed = seed_from_env();

    rng_state = seed * 2 + 1;
    worlds(&w, &nw);
    for (wi = 0; wi < nw; wi++) {
        int it;
        for (it = 0; it < ITER; it++) {
            struct model ma, mb;
            struct lm_ipset a, b, u, x, s, c, alias;
            unsigned char bu[WMAX], bx[WMAX], bs[WMAX], bc[WMAX];
            size_t i;
            int eq = 1, sub = 1;

            model_random(&w[wi], &ma, &a);
            model_random(&w[wi], &mb, &b);
            lm_ipset_init(&u);
            lm_ipset_init(&x);
            lm_ipset_init(&s);
            lm_ipset_init(&c);
            lm_ipset_init(&alias);
            for (i = 0; i < w[wi].n; i++) {
                bu[i] = ma.bit[i] | mb.bit[i];
                bx[i] = ma.bit[i] & mb.bit[i];
                bs[i] = ma.bit[i] & !mb.bit[i];
                bc[i] = !ma.bit[i];
                eq &= ma.bit[i] == mb.bit[i];
                sub &= !ma.bit[i] || mb.bit[i];
            }
            model_check(&w[wi], ma.bit, &a, "a");
            model_check(&w[wi], mb.bit, &b, "b");
            MUST((lm_ipset_union(&u, &a, &b, NULL)) == (0));
            model_check(&w[wi], bu, &u, "union");
            MUST((lm_ipset_intersect(&x, &a, &b, NULL)) == (0));
            model_check(&w[wi], bx, &x, "intersect");
            MUST((lm_ipset_subtract(&s, &a, &b, NULL)) == (0));
            model_check(&w[wi], bs, &s, "subtract");
            MUST((lm_ipset_equal(&a, &b)) == (eq));
            MUST((lm_ipset_subset(&a, &b)) == (sub));
            MUST((lm_ipset_subset(&x, &a)) == (1));
            MUST((lm_ipset_subset(&a, &u)) == (1));
            /* Complement within the world's families: inside the world it is
             * the bitmap's negation; outside it holds everything. */
            MUST((lm_ipset_complement(&c, &a, LM_IPSET_V4 | LM_IPSET_V6, NULL)) == (0));
            for (i = 0; i < w[wi].n; i++)
                MUST((lm_ipset_contains(&c, &w[wi].a[i])) == (bc[i]));
            if (w[wi].has_before)
                MUST(lm_ipset_contains(&c, &w[wi].before));
            MUST((lm_ipset_families(&c)) == (LM_IPSET_V4 | LM_IPSET_V6));
            /* a + complement(a) is everything; a - a is nothing. */
            MUST((lm_ipset_union(&c, &c, &a, NULL)) == (0));
            MUST((c.n) == (2));
            MUST((lm_ipset_subtract(&c, &a, &a, NULL)) == (0));
            MUST((c.n) == (0));
            /* out may be an input. */
            MUST((lm_ipset_copy(&alias, &a, NULL)) == (0));
            MUST((lm_ipset_union(&alias, &alias, &b, NULL)) == (0));
            MUST(lm_ipset_equal(&alias, &u));
            MUST((lm_ipset_copy(&alias, &a, NULL)) == (0));
            MUST((lm_ipset_intersect(&alias, &b, &alias, NULL)) == (0));
            MUST(lm_ipset_equal(&alias, &x));
            MUST((lm_ipset_copy(&alias, &a, NULL)) == (0));
            MUST((lm_ipset_subtract(&alias, &alias, &b, NULL)) == (0));
            MUST(lm_ipset_equal(&alias, &s));
            lm_ipset_fini(&a);
            lm_ipset_fini(&b);
            lm_ipset_fini(&u);
            lm_ipset_fini(&x);
            lm_ipset_fini(&s);
            lm_ipset_fini(&c);
            lm_ipset_fini(&alias);
        }
    }
}
END_TEST

/* Trailing zero bits of an address, capped at its width (independent of
 * the library's own arithmetic). */
static unsigned
tz(const struct lm_ipaddr *a)
{
    unsigned nb = a->family == LM_IPV6 ? 16 : 4, k = 0;
    int i;

    for (i = (int)nb - 1; i >= 0; i--) {
        unsigned char c = a->b[i];
        if (c == 0) {
            k += 8;
            continue;
        }
        while (!(c & 1)) {
            c >>= 1;
            k++;
        }
        break;
    }
    return k;
}

enum cover_kind { COVER_CIDR, COVER_OCTETS };

/* Fewest items that write exactly positions [from, to] of the world (one
 * segment), by dynamic programming over every item that could start at
 * each position. */
static size_t
dp_min(const struct world *w, size_t from, size_t to, enum cover_kind kind)
{
    static size_t f[WMAX + 1];
    size_t p;
    int six = w->a[from].family == LM_IPV6;

    f[to + 1] = 0;
    for (p = to + 1; p-- > from;) {
        unsigned align = tz(&w->a[p]), k;
        size_t best = SIZE_MAX;
        for (k = 0; k <= (six ? 128u : 32u) && k <= align && k < 11; k++) {
            size_t blk = (size_t)1 << k, m, maxrun;
            int allowed;
            if (kind == COVER_CIDR)
                allowed = 1;
            else
                allowed = six ? k % 16 == 0 : k % 8 == 0;
            if (!allowed || p + blk - 1 > to)
                continue;
            maxrun = 1;
            for (m = 1; m <= maxrun && p + m * blk - 1 <= to; m++)
                if (f[p + m * blk] + 1 < best)
                    best = f[p + m * blk] + 1;
        }
        f[p] = best;
    }
    return f[from];
}

static size_t
dp_set(const struct world *w, const unsigned char *bit, enum cover_kind kind)
{
    size_t i = 0, total = 0;

    while (i < w->n) {
        size_t j;
        if (!bit[i]) {
            i++;
            continue;
        }
        for (j = i; j + 1 < w->n && bit[j + 1] && j + 1 != w->split; j++)
            ;
        total += dp_min(w, i, j, kind);
        i = j + 1;
    }
    return total;
}

static void
check_nets(const struct world *w, struct model *m, struct lm_ipset *s, struct lm_ipnet *v,
           size_t n, enum cover_kind kind)
{
    struct lm_ipset back;
    size_t i;
    char buf[LM_IPADDR_BUF];

    lm_ipset_init(&back);
    for (i = 0; i < n; i++) {
        struct lm_ipnet again;
        struct lm_iprange r, r2;
        unsigned bits = lm_ipfam_bits(v[i].addr.family);
        const char *txt;
        lm_ipnet_range(&v[i], &r);
        MUST((v[i].prefix) <= (bits));
        MUST((tz(&v[i].addr)) >= (bits - v[i].prefix));     /* no host bits */
        if (i > 0) {
            lm_ipnet_range(&v[i - 1], &r2);
            MUST((lm_ipaddr_cmp(&r2.hi, &r.lo)) < (0));      /* disjoint, ordered */
        }
        if (kind == COVER_OCTETS) {
            unsigned step = v[i].addr.family == LM_IPV6 ? 16 : 8;
            MUST((v[i].prefix % step) == (0));
            MUST((v[i].prefix) > (0));
            txt = lm_ipnet_format(&v[i], LM_FMT_OCTETS, buf);
            ck_assert_ptr_nonnull(txt);
            MUST((lm_ipnet_parse(txt, strlen(txt), LM_IPF_OCTETS | LM_IPF_GROUPS
                                            | (v[i].addr.family == LM_IPV6 ? LM_IPF_V6 : LM_IPF_V4),
                                            &again, NULL, NULL)) == (0));
        } else {
            txt = lm_ipnet_format(&v[i], LM_FMT_CIDR, buf);
            MUST((lm_ipnet_parse(txt, strlen(txt), LM_IPF_CIDR, &again, NULL, NULL)) == (0));
        }
        MUST((lm_ipaddr_cmp(&again.addr, &v[i].addr)) == (0));
        MUST((again.prefix) == (v[i].prefix));
        MUST((lm_ipset_add_net(&back, &v[i], NULL)) == (0));
    }
    model_check(w, m->bit, &back, kind == COVER_CIDR ? "cidr cover" : "octet cover");
    MUST(lm_ipset_equal(&back, s));
    MUST((n) == (dp_set(w, m->bit, kind)));
    lm_ipset_fini(&back);
}

START_TEST(covers_exact_and_minimal)
{
    struct world *w;
    size_t nw, wi;
    uint64_t seed = seed_from_env();

    rng_state = seed * 2 + 3;
    worlds(&w, &nw);
    for (wi = 0; wi < nw; wi++) {
        int it;
        for (it = 0; it < ITER; it++) {
            struct model m;
            struct lm_ipset s;
            struct lm_ipnet *v;
            size_t n;

            model_random(&w[wi], &m, &s);
            MUST((lm_ipset_cover_cidr(&s, &v, &n, NULL)) == (0));
            check_nets(&w[wi], &m, &s, v, n, COVER_CIDR);
            free(v);
            MUST((lm_ipset_cover_octets(&s, &v, &n, NULL)) == (0));
            check_nets(&w[wi], &m, &s, v, n, COVER_OCTETS);
            free(v);
            lm_ipset_fini(&s);
        }
    }
}
END_TEST

static size_t
cover_count(const char *const *ranges, int kind, char *first, char *last)
{
    struct lm_ipset s;
    size_t n = 0, i;

    lm_ipset_init(&s);
    for (i = 0; ranges[i] != NULL; i++) {
        struct lm_iprange r = R(ranges[i]);
        lm_ipset_add_range(&s, &r, NULL);
    }
    {
        struct lm_ipnet *v;
        ck_assert_int_eq((kind == COVER_CIDR ? lm_ipset_cover_cidr : lm_ipset_cover_octets)
                         (&s, &v, &n, NULL), 0);
        lm_ipnet_format(&v[0], kind == COVER_CIDR ? LM_FMT_CIDR : LM_FMT_OCTETS, first);
        lm_ipnet_format(&v[n - 1], kind == COVER_CIDR ? LM_FMT_CIDR : LM_FMT_OCTETS, last);
        free(v);
    }
    lm_ipset_fini(&s);
    return n;
}

START_TEST(covers_known)
{
    static const char *const all4[] = { "0.0.0.0/0", NULL };
    static const char *const all6[] = { "::/0", NULL };
    static const char *const net20[] = { "10.1.16.0/20", NULL };
    static const char *const net25[] = { "192.168.1.0/25", NULL };
    static const char *const odd[] = { "10.0.0.1-10.0.2.254", NULL };
    static const char *const mid12[] = { "172.16.0.0/12", NULL };
    static const char *const seed[] = { "172.16.5.0/24", "127.0.0.1", NULL };
    char f[LM_IPADDR_BUF], l[LM_IPADDR_BUF];

    ck_assert_uint_eq(cover_count(all4, COVER_CIDR, f, l), 1);
    ck_assert_str_eq(f, "0.0.0.0/0");
    ck_assert_uint_eq(cover_count(all4, COVER_OCTETS, f, l), 256);  /* no shorter key */
    ck_assert_str_eq(f, "0");
    ck_assert_str_eq(l, "255");
    ck_assert_uint_eq(cover_count(all6, COVER_CIDR, f, l), 1);
    ck_assert_str_eq(f, "::/0");
    ck_assert_uint_eq(cover_count(all6, COVER_OCTETS, f, l), 65536);
    ck_assert_str_eq(l, "ffff");
    /* DESIGN.md: a /20 is 16 Sendmail keys. */
    ck_assert_uint_eq(cover_count(net20, COVER_OCTETS, f, l), 16);
    ck_assert_str_eq(f, "10.1.16");
    ck_assert_str_eq(l, "10.1.31");
    ck_assert_uint_eq(cover_count(net25, COVER_OCTETS, f, l), 128);
    ck_assert_uint_eq(cover_count(net25, COVER_CIDR, f, l), 1);
    /* 10.0.0.1-254 / 10.0.1. / 10.0.2.0-254 */
    ck_assert_uint_eq(cover_count(odd, COVER_CIDR, f, l), 17);
    ck_assert_uint_eq(cover_count(mid12, COVER_OCTETS, f, l), 16);
    ck_assert_uint_eq(cover_count(seed, COVER_OCTETS, f, l), 2);
    ck_assert_str_eq(l, "172.16.5");
}
END_TEST

START_TEST(masked)
{
    struct lm_ipset s;
    struct lm_diags d;
    struct lm_ipaddr net, mask, x;
    int it;
    uint64_t seed = seed_from_env();

    rng_state = seed * 2 + 5;
    lm_ipset_init(&s);
    lm_diags_init(&d);
    net = A("10.0.5.0");
    mask = A("255.0.255.0");
    MUST((lm_ipset_add_masked(&s, &net, &mask, 0, &d)) == (0));
    MUST((s.n) == (256));
    MUST((lm_ipset_count(&s)) == (65536));
    x = A("10.77.5.9");
    MUST(lm_ipset_contains(&s, &x));
    x = A("10.77.6.9");
    MUST(!lm_ipset_contains(&s, &x));
    lm_ipset_clear(&s);
    mask = A("0.0.0.1");                    /* 2^31 ranges: refused, nothing added */
    MUST((lm_ipset_add_masked(&s, &net, &mask, 0, &d)) == (-1));
    MUST((d.v[0].code) == (LM_E_UNSUPPORTED));
    ck_assert_str_eq(d.v[0].msg, "mask 0.0.0.1 needs 2147483648 address ranges (limit 65536)");
    MUST((s.n) == (0));
    /* Random masks with a few holes against (x & mask) == (net & mask). */
    for (it = 0; it < 200; it++) {
        uint32_t m = 0xffffffffu << rnd(20), nv = (uint32_t)rng(), xv;
        int holes = (int)rnd(6), h, t;
        for (h = 0; h < holes; h++)
            m &= ~((uint32_t)1 << (12 + rnd(20)));
        lm_ipaddr_v4(&mask, m >> 24, m >> 16 & 255, m >> 8 & 255, m & 255);
        lm_ipaddr_v4(&net, nv >> 24, nv >> 16 & 255, nv >> 8 & 255, nv & 255);
        lm_ipset_clear(&s);
        MUST((lm_ipset_add_masked(&s, &net, &mask, 0, NULL)) == (0));
        for (t = 0; t < 64; t++) {
            xv = (uint32_t)rng();
            if (t & 1)          /* half of them near the matching addresses */
                xv = (nv & m) | (xv & ~m);
            lm_ipaddr_v4(&x, xv >> 24, xv >> 16 & 255, xv >> 8 & 255, xv & 255);
            MUST((lm_ipset_contains(&s, &x)) == ((xv & m) == (nv & m)));
        }
    }
    lm_ipset_fini(&s);
    lm_diags_fini(&d);
}
END_TEST

START_TEST(probes_cut_everything)
{
    struct world *w;
    size_t nw, wi;
    uint64_t seed = seed_from_env();

    rng_state = seed * 2 + 7;
    worlds(&w, &nw);
    for (wi = 0; wi < nw; wi++) {
        int it;
        for (it = 0; it < ITER / 3; it++) {
            struct model m;
            struct lm_ipset s;
            struct lm_ipaddr *p;
            struct lm_iprange all;
            size_t np, i, j, at = 0;

            model_random(&w[wi], &m, &s);
            MUST((lm_ip_probes(m.raw, m.nraw, LM_IPSET_V4 | LM_IPSET_V6, &p, &np, NULL)) == (0));
            MUST((np) >= (2));
            lm_iprange_all(&all, LM_IPV4);
            MUST((lm_ipaddr_cmp(&p[0], &all.lo)) == (0));
            for (i = 1; i < np; i++)
                MUST((lm_ipaddr_cmp(&p[i - 1], &p[i])) < (0));
            /* Every range boundary and each family's ends are probes. */
            for (i = 0; i < m.nraw; i++) {
                int flo = 0, fhi = 0;
                for (j = 0; j < np; j++) {
                    flo |= lm_ipaddr_cmp(&p[j], &m.raw[i].lo) == 0;
                    fhi |= lm_ipaddr_cmp(&p[j], &m.raw[i].hi) == 0;
                }
                MUST(flo && fhi);
            }
            /* Each world address behaves like the greatest probe not above
             * it: same membership in every raw range. */
            for (i = 0; i < w[wi].n; i++) {
                const struct lm_ipaddr *x = &w[wi].a[i];
                while (at + 1 < np && lm_ipaddr_cmp(&p[at + 1], x) <= 0)
                    at++;
                MUST((lm_ipaddr_cmp(&p[at], x)) <= (0));
                MUST((p[at].family) == (x->family));
                for (j = 0; j < m.nraw; j++) {
                    int in_x = lm_ipaddr_cmp(&m.raw[j].lo, x) <= 0
                               && lm_ipaddr_cmp(x, &m.raw[j].hi) <= 0;
                    int in_p = lm_ipaddr_cmp(&m.raw[j].lo, &p[at]) <= 0
                               && lm_ipaddr_cmp(&p[at], &m.raw[j].hi) <= 0;
                    MUST((in_x) == (in_p));
                }
            }
            free(p);
            lm_ipset_fini(&s);
        }
    }
}
END_TEST

START_TEST(probes_empty_and_families)
{
    struct lm_ipaddr *p;
    size_t n;
    char buf[LM_IPADDR_BUF];

    ck_assert_int_eq(lm_ip_probes(NULL, 0, LM_IPSET_V4 | LM_IPSET_V6, &p, &n, NULL), 0);
    ck_assert_uint_eq(n, 4);
    ck_assert_str_eq(lm_ipaddr_format(&p[0], buf), "0.0.0.0");
    ck_assert_str_eq(lm_ipaddr_format(&p[1], buf), "255.255.255.255");
    ck_assert_str_eq(lm_ipaddr_format(&p[2], buf), "::");
    ck_assert_str_eq(lm_ipaddr_format(&p[3], buf), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    free(p);
    ck_assert_int_eq(lm_ip_probes(NULL, 0, 0, &p, &n, NULL), 0);
    ck_assert_uint_eq(n, 0);
    free(p);
}
END_TEST

START_TEST(set_basics)
{
    struct lm_ipset s, t;
    struct lm_iprange r;
    struct lm_ipaddr a;

    lm_ipset_fini(NULL);
    lm_ipset_init(&s);
    lm_ipset_init(&t);
    /* Out of order, overlapping, touching, mixed families. */
    r = R("10.0.0.128-10.0.0.255");
    lm_ipset_add_range(&s, &r, NULL);
    r = R("::1");
    lm_ipset_add_range(&s, &r, NULL);
    r = R("10.0.0.0-10.0.0.127");
    lm_ipset_add_range(&s, &r, NULL);
    a = A("10.0.1.0");
    lm_ipset_add_addr(&s, &a, NULL);
    r = R("10.0.0.5-10.0.0.9");
    lm_ipset_add_range(&s, &r, NULL);
    ck_assert_int_eq(s.dirty, 1);
    lm_ipset_normalize(&s);
    ck_assert_uint_eq(s.n, 2);
    ck_assert_str_eq(rstr(&s.v[0]), "10.0.0.0-10.0.1.0");
    ck_assert_str_eq(rstr(&s.v[1]), "::1");
    ck_assert_uint_eq(lm_ipset_count(&s), 258);
    ck_assert_int_eq(lm_ipset_families(&s), LM_IPSET_V4 | LM_IPSET_V6);
    lm_iprange_all(&r, LM_IPV6);
    lm_ipset_add_range(&t, &r, NULL);
    ck_assert(lm_ipset_count(&t) == ~0ULL);       /* saturated */
    lm_ipset_clear(&t);
    ck_assert_uint_eq(t.n, 0);
    ck_assert(lm_ipset_equal(&t, &t));
    ck_assert(lm_ipset_subset(&t, &s));
    ck_assert(!lm_ipset_subset(&s, &t));
    lm_ipset_fini(&s);
    lm_ipset_fini(&t);
    lm_ipset_fini(&t);
}
END_TEST

/* --- nested covers ------------------------------------------------------------------- */

/* The value the keys give ADDR: the longest matching key's, 0 when none.
 * Two keys of one length may not both match (the lookup would be
 * ambiguous). */
static size_t
nest_lookup(const struct lm_cover_key *k, size_t n, const struct lm_ipaddr *a)
{
    size_t i, best = 0;
    int bestdepth = -1;

    for (i = 0; i < n; i++) {
        unsigned d = k[i].depth;
        if (memcmp(k[i].b, a->b, d - 1) != 0 || a->b[d - 1] < k[i].b[d - 1] ||
            a->b[d - 1] > k[i].hi)
            continue;
        ck_assert_msg((int)d != bestdepth, "two keys of length %u match", d);
        if ((int)d > bestdepth) {
            bestdepth = (int)d;
            best = k[i].val;
        }
    }
    return best;
}

/* Paint FAMILY with nb random breakpoints near base (some aligned to a key
 * boundary) and values below nval; returns the intervals (malloc'd). */
static struct lm_cover_iv *
nest_paint(int family, size_t nb, size_t nval, size_t *niv)
{
    struct lm_ipaddr *pts = malloc((nb + 1) * sizeof *pts);
    struct lm_cover_iv *iv = malloc((nb + 1) * sizeof *iv);
    struct lm_iprange all;
    size_t i, j, n = 0;
    unsigned len = family == LM_IPV4 ? 4 : 16;

    ck_assert_ptr_nonnull(pts);
    ck_assert_ptr_nonnull(iv);
    lm_iprange_all(&all, family);
    pts[n++] = all.lo;
    for (i = 0; i < nb; i++) {
        struct lm_ipaddr a = all.lo;
        unsigned keep = 1 + rnd(len - 1);       /* bytes below which it is aligned */
        a.b[0] = 10;
        if (family == LM_IPV6) {
            a.b[0] = 0x20;
            a.b[1] = 0x01;
            a.b[2] = 0x0d;
            a.b[3] = (unsigned char)(0xb8 + rnd(2));
        }
        /* IPv6 groups stay small: a cut at an odd place costs up to 65535
         * sibling keys per level, as it would in Sendmail */
        for (j = family == LM_IPV4 ? 1 : 4; j < len; j++)
            a.b[j] = (unsigned char)(j >= keep + 1 ? 0 : family == LM_IPV4 ? rnd(4) * 64 + rnd(3)
                                                                        : rnd(2));
        if (family == LM_IPV4 && rnd(4) == 0)
            lm_ipaddr_succ(&a);
        pts[n++] = a;
    }
    qsort(pts, n, sizeof *pts, (int (*)(const void *, const void *))lm_ipaddr_cmp);
    for (i = j = 0; i < n; i++)
        if (j == 0 || lm_ipaddr_cmp(&pts[j - 1], &pts[i]) != 0)
            pts[j++] = pts[i];
    n = j;
    for (i = 0; i < n; i++) {
        iv[i].lo = pts[i];
        iv[i].hi = all.hi;
        if (i + 1 < n) {
            iv[i].hi = pts[i + 1];
            lm_ipaddr_pred(&iv[i].hi);
        }
        iv[i].val = rnd(3) == 0 ? 0 : rnd((unsigned)nval);
    }
    free(pts);
    *niv = n;
    return iv;
}

/* The painted value of a (binary search). */
static size_t
nest_painted(const struct lm_cover_iv *iv, size_t n, const struct lm_ipaddr *a)
{
    size_t lo = 0, hi = n;

    while (lo + 1 < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (lm_ipaddr_cmp(&iv[mid].lo, a) <= 0)
            lo = mid;
        else
            hi = mid;
    }
    return iv[lo].val;
}

/* Random paintings of IPv4 (whole octets, and prefixes with last-octet runs,
 * with and without values for whole addresses only) and IPv6 (16-bit
 * groups): every interval's ends, their neighbours and random addresses
 * inside look up to the painted value. */
START_TEST(cover_nested_vs_brute_force)
{
    int iter;

    rng_state = seed_from_env() ^ 0x6e657374ULL;
    for (iter = 0; iter < 120; iter++) {
        int family = iter % 3 == 2 ? LM_IPV6 : LM_IPV4;
        unsigned flags = family == LM_IPV4 && iter % 3 == 1 ? LM_NEST_RUNS : 0;
        size_t nval = 2 + rnd(3), niv, nkeys, i, k;
        unsigned char whole[5] = { 0, 0, 0, 0, 0 };
        struct lm_cover_iv *iv = nest_paint(family, 1 + rnd(12), nval, &niv);
        struct lm_cover_key *keys;
        struct lm_nest_opts o;
        unsigned len = family == LM_IPV4 ? 4 : 16;

        memset(&o, 0, sizeof o);
        o.flags = flags;
        o.nval = nval;
        o.maxkeys = 1000000;
        if (flags && iter % 2) {
            /* as tcp.smtp uses it: single addresses that must stay exact
             * keys; a wide interval of such a value would need a key per
             * address */
            whole[nval - 1] = 1;
            for (i = 0; i < niv; i++)
                if (iv[i].val == nval - 1 && memcmp(iv[i].lo.b, iv[i].hi.b, 3) != 0)
                    iv[i].val = 0;
        }
        o.whole = whole;
        ck_assert_int_eq(lm_ipset_cover_nested(iv, niv, family, &o, &keys, &nkeys, NULL), 0);
        for (k = 0; k < nkeys; k++) {
            ck_assert(keys[k].depth >= 1 && keys[k].depth <= len);
            if (family == LM_IPV6)
                ck_assert_uint_eq(keys[k].depth % 2, 0);
            if (!flags)
                ck_assert_uint_eq(keys[k].hi, keys[k].b[keys[k].depth - 1]);
            if (whole[keys[k].val])
                ck_assert_msg(keys[k].depth == len, "iteration %d: a whole-address value "
                              "in a key of %u bytes", iter, keys[k].depth);
        }
        for (i = 0; i < niv; i++) {
            struct lm_ipaddr pr[6];
            size_t np = 0, j;
            pr[np++] = iv[i].lo;
            pr[np++] = iv[i].hi;
            pr[np] = iv[i].lo;
            if (lm_ipaddr_succ(&pr[np]) == 0)
                np++;
            pr[np] = iv[i].hi;
            if (lm_ipaddr_pred(&pr[np]) == 0)
                np++;
            pr[np] = iv[i].lo;          /* somewhere inside: the low bits scrambled */
            for (j = len - 1; j >= len - 2; j--)
                pr[np].b[j] = (unsigned char)rnd(256);
            if (lm_ipaddr_cmp(&pr[np], &iv[i].lo) >= 0 && lm_ipaddr_cmp(&pr[np], &iv[i].hi) <= 0)
                np++;
            for (j = 0; j < np; j++) {
                char buf[LM_IPADDR_BUF];
                ck_assert_msg(nest_lookup(keys, nkeys, &pr[j]) == nest_painted(iv, niv, &pr[j]),
                              "iteration %d (seed %llu): %s looks up to %zu, painted %zu",
                              iter, (unsigned long long)seed_used,
                              lm_ipaddr_format(&pr[j], buf), nest_lookup(keys, nkeys, &pr[j]),
                              nest_painted(iv, niv, &pr[j]));
            }
        }
        /* a sample of 10.0.0.0/22 and 10.64.0.0/22 (IPv4) */
        if (family == LM_IPV4)
            for (i = 0; i < 2048; i += 7) {
                struct lm_ipaddr a;
                lm_ipaddr_v4(&a, 10, (unsigned)(i / 1024) * 64 + (unsigned)(i / 256 % 4),
                             (unsigned)(i % 256), 0);
                for (k = 0; k < 256; k += 51) {
                    a.b[3] = (unsigned char)k;
                    ck_assert_uint_eq(nest_lookup(keys, nkeys, &a), nest_painted(iv, niv, &a));
                }
            }
        free(keys);
        free(iv);
    }
}
END_TEST

START_TEST(cover_nested_known)
{
    /* 10/8 -> 1 except 10.1/16 -> 2 except 10.1.2/24 -> nothing; 1.2.3.4-7 -> 1 */
    static const char *const cuts[] = { "1.2.3.4", "1.2.3.8", "10.0.0.0", "10.1.0.0",
                                        "10.1.2.0", "10.1.3.0", "10.2.0.0", "11.0.0.0" };
    static const size_t vals[] = { 0, 1, 0, 1, 2, 0, 2, 1, 0 };
    struct lm_cover_iv iv[9];
    struct lm_cover_key *keys;
    struct lm_nest_opts o;
    size_t i, n;
    char kb[8][24];

    for (i = 0; i < 9; i++) {
        iv[i].lo = i == 0 ? A("0.0.0.0") : A(cuts[i - 1]);
        iv[i].hi = i == 8 ? A("255.255.255.255") : A(cuts[i]);
        if (i < 8)
            lm_ipaddr_pred(&iv[i].hi);
        iv[i].val = vals[i];
    }
    memset(&o, 0, sizeof o);
    o.nval = 3;
    o.maxkeys = 100;
    ck_assert_int_eq(lm_ipset_cover_nested(iv, 9, LM_IPV4, &o, &keys, &n, NULL), 0);
    ck_assert_uint_eq(n, 7);    /* 1.2.3.4 .. 1.2.3.7, 10, 10.1, 10.1.2 */
    for (i = 0; i < n; i++) {
        unsigned j;
        char *c = kb[i];
        for (j = 0; j < keys[i].depth; j++)
            c += sprintf(c, j ? ".%u" : "%u", keys[i].b[j]);
        sprintf(c, "=%zu", keys[i].val);
    }
    ck_assert_str_eq(kb[0], "1.2.3.4=1");
    ck_assert_str_eq(kb[3], "1.2.3.7=1");
    ck_assert_str_eq(kb[4], "10=1");
    ck_assert_str_eq(kb[5], "10.1=2");
    ck_assert_str_eq(kb[6], "10.1.2=0");
    free(keys);
    /* with runs: one key "1.2.3.4-7" */
    o.flags = LM_NEST_RUNS;
    ck_assert_int_eq(lm_ipset_cover_nested(iv, 9, LM_IPV4, &o, &keys, &n, NULL), 0);
    ck_assert_uint_eq(n, 4);
    ck_assert_uint_eq(keys[0].depth, 4);
    ck_assert_uint_eq(keys[0].b[3], 4);
    ck_assert_uint_eq(keys[0].hi, 7);
    free(keys);
    /* too many keys: 1, nothing returned */
    o.maxkeys = 3;
    ck_assert_int_eq(lm_ipset_cover_nested(iv, 9, LM_IPV4, &o, &keys, &n, NULL), 1);
    ck_assert_ptr_null(keys);
    ck_assert_uint_eq(n, 0);
}
END_TEST

/* Painting by priority against brute force: ranges in 10.0.0.0/24 and
 * around it, every address of 9.255.255.0 .. 10.0.1.255 checked. */
START_TEST(paint_vs_brute_force)
{
    int iter;

    rng_state = seed_from_env() ^ 0x7061696eULL;
    for (iter = 0; iter < 200; iter++) {
        struct lm_iprange r[12];
        size_t val[12], n = rnd(12), i, k, niv, base = rnd(2) ? 0 : 9;
        struct lm_cover_iv *iv;

        for (i = 0; i < n; i++) {
            unsigned a = 200 + rnd(400), b = a + rnd(rnd(2) ? 8 : 300);
            lm_ipaddr_v4(&r[i].lo, 9, 255, 255, 0);
            r[i].hi = r[i].lo;
            for (k = 0; k < a; k++)
                lm_ipaddr_succ(&r[i].lo);
            for (k = 0; k < b; k++)
                lm_ipaddr_succ(&r[i].hi);
            val[i] = 1 + rnd(4);
        }
        ck_assert_int_eq(lm_ipset_paint(LM_IPV4, r, val, n, base, &iv, &niv, NULL), 0);
        ck_assert(niv >= 1);
        for (i = 1; i < niv; i++) {
            struct lm_ipaddr x = iv[i - 1].hi;
            ck_assert_int_eq(lm_ipaddr_succ(&x), 0);
            ck_assert_int_eq(lm_ipaddr_cmp(&x, &iv[i].lo), 0);     /* no gap */
            ck_assert(iv[i - 1].val != iv[i].val);                  /* merged */
        }
        {
            struct lm_ipaddr a;
            lm_ipaddr_v4(&a, 9, 255, 255, 0);
            for (k = 0; k < 1024; k++, lm_ipaddr_succ(&a)) {
                size_t want = base;
                for (i = 0; i < n; i++)
                    if (lm_ipaddr_cmp(&r[i].lo, &a) <= 0 && lm_ipaddr_cmp(&r[i].hi, &a) >= 0) {
                        want = val[i];
                        break;
                    }
                ck_assert_uint_eq(nest_painted(iv, niv, &a), want);
            }
        }
        free(iv);
    }
}
END_TEST

Suite *ipset_suite(void);

Suite *
ipset_suite(void)
{
    Suite *s = suite_create("ipset");
    TCase *tp = tcase_create("parse");
    TCase *tf = tcase_create("format");
    TCase *ts = tcase_create("sets");

    tcase_add_test(tp, parse_valid);
    tcase_add_test(tp, parse_errors);
    tcase_add_test(tp, parse_hostbits_and_nets);
    suite_add_tcase(s, tp);
    tcase_add_test(tf, format_rfc5952);
    tcase_add_test(tf, format_styles);
    tcase_add_test(tf, arithmetic);
    suite_add_tcase(s, tf);
    tcase_add_test(ts, set_basics);
    tcase_add_test(ts, algebra_vs_brute_force);
    tcase_add_test(ts, covers_known);
    tcase_add_test(ts, covers_exact_and_minimal);
    tcase_add_test(ts, masked);
    tcase_add_test(ts, probes_cut_everything);
    tcase_add_test(ts, probes_empty_and_families);
    tcase_add_test(ts, cover_nested_known);
    tcase_add_test(ts, paint_vs_brute_force);
    tcase_add_test(ts, cover_nested_vs_brute_force);
    tcase_set_timeout(ts, 120);
    suite_add_tcase(s, ts);
    return s;
}
