/*
 * check_exchange.c - the Exchange 5.5 .reg codec: both file versions read
 * (UTF-16LE, REGEDIT4, continuation, LF, values in any order, other values
 * and keys, the KB's spelling), decide() following KB Q193922 (deny before
 * allow, the server address, AUTH, RelayFlags = 1), non-contiguous masks,
 * every bad input with its line, the bytes written (the reference's worked
 * example, wrapping), losses, and seeded round trips proven by lm_verify.
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

#define KEYLINE "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\MSExchangeIMC" \
                "\\Parameters]\r\n"

/* REG_MULTI_SZ hex of the strings (REGEDIT4), in buf. */
static char *
ex_hex(char *buf, const char *const *items)
{
    char *o = buf;
    size_t i;
    const char *s;

    o += sprintf(o, "hex(7):");
    for (i = 0; items[i] != NULL; i++) {
        for (s = items[i]; *s; s++)
            o += sprintf(o, "%02x,", (unsigned char)*s);
        o += sprintf(o, "00,");
    }
    sprintf(o, "00");
    return buf;
}

/* Parse TEXT (len bytes) as NAME; *rc gets parse()'s result. */
static struct lm_policy *
ex_parse(const char *text, size_t len, struct lm_diags *d, int *rc)
{
    struct lm_source *s;
    struct lm_policy *p;

    lm_diags_init(d);
    p = lm_policy_new(d);
    s = lm_source_mem("relay.reg", text, len, d);
    *rc = lm_codec_exchange.parse(s, p, d);
    lm_source_close(s);
    if (*rc == 0)
        ck_assert_int_eq(lm_policy_index(p, d), 0);
    return p;
}

static struct lm_policy *
ex_ok(const char *text)
{
    struct lm_diags d;
    int rc;
    struct lm_policy *p = ex_parse(text, strlen(text), &d, &rc);

    if (rc != 0 || d.nerrors > 0)
        ck_abort_msg("unexpected error: %s:%lu: %s", d.n ? d.v[0].file : "?",
                     d.n ? d.v[0].line : 0, d.n ? d.v[0].msg : "?");
    lm_diags_fini(&d);
    return p;
}

/* The error of TEXT: its line must be LINE and its message contain PART. */
static void
ex_bad(const char *text, size_t len, unsigned long line, const char *part)
{
    struct lm_diags d;
    int rc;
    struct lm_policy *p = ex_parse(text, len, &d, &rc);

    ck_assert_int_eq(rc, -1);
    ck_assert_msg(tu_has_diag(&d, LM_ERROR, line, part), "no error \"%s\" at line %lu "
                  "(first: %lu: %s)", part, line, d.n ? d.v[0].line : 0,
                  d.n ? d.v[0].msg : "none");
    lm_policy_free(p);
    lm_diags_fini(&d);
}

/* Emit P with SETTINGS (or none); the bytes, malloc'd. */
static char *
ex_emit(const struct lm_policy *p, const char *const *settings, struct lm_losses *l,
        size_t *len)
{
    struct lm_diags d;
    char *buf = NULL;
    FILE *f[1];

    lm_diags_init(&d);
    lm_losses_init(l);
    f[0] = open_memstream(&buf, len);
    ck_assert_int_eq(lm_codec_exchange.emit(p, settings, f, l, &d), 0);
    fclose(f[0]);
    lm_diags_fini(&d);
    return buf;
}

static enum lm_verdict_kind
ex_decide(const struct lm_policy *p, const char *ip, const char *server, int auth)
{
    struct lm_query q;
    struct lm_verdict v;

    memset(&q, 0, sizeof q);
    lm_ipaddr_parse(ip, strlen(ip), LM_IPF_V4 | LM_IPF_V6, &q.ip, NULL, NULL);
    if (server != NULL)
        lm_ipaddr_parse(server, strlen(server), LM_IPF_V4, &q.server, NULL, NULL);
    q.auth = auth;
    q.rcpt = "user@elsewhere.example";
    lm_decide(p, &q, &v);
    return v.kind;
}

START_TEST(parse_kb_model)
{
    static const char *const allow[] = { "10.0.0.0;255.0.0.0", NULL };
    static const char *const deny[] = { "10.1.0.0;255.255.0.0", NULL };
    static const char *const local[] = { "192.0.2.1", NULL };
    char text[2048], h1[512], h2[512], h3[512];
    struct lm_policy *p;

    snprintf(text, sizeof text, "REGEDIT4\r\n\r\n" KEYLINE "\"RelayFlags\"=dword:0000000f\r\n"
             "\"RelayAllowList\"=%s\r\n\"RelayDenyList\"=%s\r\n\"RelayLocalIPList\"=%s\r\n",
             ex_hex(h1, allow), ex_hex(h2, deny), ex_hex(h3, local));
    p = ex_ok(text);
    ck_assert_ptr_eq(p->order, lm_codec_exchange.order);
    /* deny before allow, before the server address and AUTH */
    ck_assert_int_eq(ex_decide(p, "10.1.2.3", "192.0.2.1", 1), LM_V_REFUSE);
    ck_assert_int_eq(ex_decide(p, "10.2.0.1", NULL, 0), LM_V_RELAY);
    ck_assert_int_eq(ex_decide(p, "198.51.100.1", "192.0.2.1", 0), LM_V_RELAY);
    ck_assert_int_eq(ex_decide(p, "198.51.100.1", "192.0.2.2", 0), LM_V_REFUSE);
    ck_assert_int_eq(ex_decide(p, "198.51.100.1", NULL, 1), LM_V_RELAY);
    ck_assert_int_eq(ex_decide(p, "198.51.100.1", NULL, 0), LM_V_REFUSE);
    ck_assert_int_eq(ex_decide(p, "127.0.0.1", NULL, 0), LM_V_REFUSE);
    lm_policy_free(p);

    /* RelayFlags = 1: every client not denied relays */
    snprintf(text, sizeof text, "REGEDIT4\n\n" KEYLINE "\"RelayDenyList\"=%s\n"
             "\"RelayFlags\"=dword:1\n", ex_hex(h2, deny));
    p = ex_ok(text);
    ck_assert_int_eq(ex_decide(p, "198.51.100.1", NULL, 0), LM_V_RELAY);
    ck_assert_int_eq(ex_decide(p, "2001:db8::1", NULL, 0), LM_V_RELAY);
    ck_assert_int_eq(ex_decide(p, "10.1.0.1", NULL, 0), LM_V_REFUSE);
    lm_policy_free(p);

    /* RelayFlags = 3 with only a deny list: nobody relays; bit 2 off keeps
     * the allow list only for messages */
    snprintf(text, sizeof text, "REGEDIT4\n\n" KEYLINE "\"RelayAllowList\"=%s\n"
             "\"RelayFlags\"=dword:00000001\n\"RelayDenyList\"=hex(7):00\n", ex_hex(h1, allow));
    p = ex_ok(text);
    ck_assert_int_eq(ex_decide(p, "10.0.0.1", NULL, 0), LM_V_RELAY);   /* flags == 1 */
    ck_assert_int_eq(tu_rule(p, 4)->kind, LM_K_NEVER);
    lm_policy_free(p);
}
END_TEST

START_TEST(parse_forms)
{
    static const char v5[] = "Windows Registry Editor Version 5.00\r\n\r\n" KEYLINE
        "\"RelayAllowList\"=hex(7):31,00,30,00,2e,00,30,00,2e,00,30,00,2e,00,35,00,00,00,\\\r\n"
        "  00,00\r\n\"RelayFlags\"=dword:00000002\r\n\r\n";
    char u16[sizeof v5 * 2 + 2];
    size_t i, n = strlen(v5);
    struct lm_diags d;
    struct lm_policy *p;
    int rc;

    /* version 5: UTF-16LE after FF FE */
    u16[0] = (char)0xff;
    u16[1] = (char)0xfe;
    for (i = 0; i < n; i++) {
        u16[2 + 2 * i] = v5[i];
        u16[3 + 2 * i] = 0;
    }
    p = ex_parse(u16, 2 + 2 * n, &d, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(p->nrules, 1);
    ck_assert_int_eq(ex_decide(p, "10.0.0.5", NULL, 0), LM_V_RELAY);
    ck_assert_int_eq(ex_decide(p, "10.0.0.4", NULL, 0), LM_V_REFUSE);
    lm_policy_free(p);
    lm_diags_fini(&d);

    /* the KB's spelling, another value, another key, comments, continuation
     * lines with any indent, case-insensitive names, values after them */
    p = ex_parse("REGEDIT4\n; a comment\n# another\n[HKEY_LOCAL_MACHINE\\Software\\X]\n"
                 "\"RelayFlags\"=dword:0\n"
                 "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Service\\MSExchangeIMC"
                 "\\Parameters]\n\"relayallowlist\"=hex(7):31,30,2e,30,\\\n\t2e,30,2e,30,3b,"
                 "32,35,35,2e,30,2e,30,2e,30,00,00\n\"Other\"=\"text\"\n"
                 "\"RELAYFLAGS\"=dword:00000002\n",
                 strlen("REGEDIT4\n; a comment\n# another\n[HKEY_LOCAL_MACHINE\\Software\\X]\n"
                 "\"RelayFlags\"=dword:0\n"
                 "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Service\\MSExchangeIMC"
                 "\\Parameters]\n\"relayallowlist\"=hex(7):31,30,2e,30,\\\n\t2e,30,2e,30,3b,"
                 "32,35,35,2e,30,2e,30,2e,30,00,00\n\"Other\"=\"text\"\n"
                 "\"RELAYFLAGS\"=dword:00000002\n"), &d, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert(tu_has_diag(&d, LM_WARNING, 4, "not the IMC's Parameters key"));
    ck_assert(tu_has_diag(&d, LM_WARNING, 6, "KB article's spelling"));
    ck_assert(tu_has_diag(&d, LM_WARNING, 9, "\"Other\" under the IMC key"));
    ck_assert_int_eq(ex_decide(p, "10.9.9.9", NULL, 0), LM_V_RELAY);
    ck_assert_int_eq(tu_rule(p, 7)->net.prefix, 8);
    lm_policy_free(p);
    lm_diags_fini(&d);

    /* a non-contiguous mask: every range it matches, at the item's line */
    p = ex_ok("REGEDIT4\n\n" KEYLINE "\"RelayFlags\"=dword:2\n\"RelayAllowList\"=hex(7):"
              "31,30,2e,30,2e,30,2e,31,3b,32,35,35,2e,32,35,35,2e,32,35,32,2e,32,35,35,00,00\n");
    ck_assert_uint_eq(tu_count_line(p, 5), 4);
    ck_assert_int_eq(ex_decide(p, "10.0.3.1", NULL, 0), LM_V_RELAY);
    ck_assert_int_eq(ex_decide(p, "10.0.4.1", NULL, 0), LM_V_REFUSE);
    ck_assert_int_eq(ex_decide(p, "10.0.3.2", NULL, 0), LM_V_REFUSE);
    lm_policy_free(p);

    /* accepted domains and our addresses in relayconv's comments */
    p = ex_ok("REGEDIT4\n\n; relaymap accept domain example.com\n; relaymap accept name "
              "a.example.org\n; relaymap local 192.0.2.25\n\n" KEYLINE
              "\"RelayFlags\"=dword:0\n");
    ck_assert_uint_eq(p->ndomains, 2);
    ck_assert_uint_eq(p->nlocals, 1);
    ck_assert_int_eq(p->domains[0].kind, LM_K_TREE);
    lm_policy_free(p);
}
END_TEST

START_TEST(parse_errors)
{
    static const char hdr[] = "REGEDIT4\n\n" KEYLINE;
    char t[1024];

    ex_bad("REGEDIT5\n", 9, 1, "not a .reg file");
    ex_bad("W\0i\0n\0", 6, 1, "without a byte order mark");
    ex_bad("\xfe\xff\0W", 4, 1, "big-endian");
    ex_bad("\xff\xfeW\0x", 5, 1, "odd number of bytes");
    snprintf(t, sizeof t, "%s\"RelayFlags\"=dword:2\n\"RelayAllowList\"=hex(7):31,3,00\n", hdr);
    ex_bad(t, strlen(t), 5, "odd number of hex digits");
    snprintf(t, sizeof t, "%s\"RelayFlags\"=dword:2\n\"RelayAllowList\"=hex(7):31,00\n", hdr);
    ex_bad(t, strlen(t), 5, "does not end with its terminator");
    snprintf(t, sizeof t, "%s\"RelayFlags\"=dword:2\n\"RelayAllowList\"=hex(7):31,00,00,32,"
             "00,00\n", hdr);
    ex_bad(t, strlen(t), 5, "an empty string inside the list");
    snprintf(t, sizeof t, "%s\"RelayFlags\"=dword:2\n\"RelayAllowList\"=hex(7):31,30,2e,30,2e,"
             "30,2e,35,3b,32,35,35,2e,30,2e,30,2e,30,00,00\n", hdr);
    ex_bad(t, strlen(t), 5, "write 10.0.0.0;255.0.0.0");
    snprintf(t, sizeof t, "%s\"RelayFlags\"=dword:2\n\"RelayAllowList\"=hex(7):31,30,00,00\n",
             hdr);
    ex_bad(t, strlen(t), 5, "want a dotted-quad IPv4 address");
    snprintf(t, sizeof t, "%s\"RelayFlags\"=hex:03\n", hdr);
    ex_bad(t, strlen(t), 4, "must be a REG_DWORD");
    snprintf(t, sizeof t, "%s\"RelayDenyList\"=\"10.0.0.1\"\n", hdr);
    ex_bad(t, strlen(t), 4, "must be a REG_MULTI_SZ");
    ex_bad("REGEDIT4\n\"RelayFlags\"=dword:1\n", 30, 2, "before any [key]");
    snprintf(t, sizeof t, "%sRelayFlags=1\n", hdr);
    ex_bad(t, strlen(t), 4, "is not a key, a value or a comment");
}
END_TEST

START_TEST(emit_bytes)
{
    struct lm_policy *p = tu_neutral("connect net 192.168.1.0/24 relay\n"
                                     "connect net 10.0.0.5 relay\n"
                                     "connect net 192.168.1.0/29 ok\n");
    static const char *const v4[] = { "reg-version=4", NULL };
    static const char want[] =
        "REGEDIT4\r\n\r\n" KEYLINE
        "\"RelayAllowList\"=hex(7):31,39,32,2e,31,36,38,2e,31,2e,30,3b,32,35,35,2e,32,35,\\\r\n"
        "  35,2e,32,35,35,2e,30,00,31,30,2e,30,2e,30,2e,35,00,00\r\n"
        "\"RelayDenyList\"=hex(7):31,39,32,2e,31,36,38,2e,31,2e,30,3b,32,35,35,2e,32,35,\\\r\n"
        "  35,2e,32,35,35,2e,32,34,38,00,00\r\n"
        "\"RelayFlags\"=dword:00000003\r\n\r\n";
    struct lm_losses l;
    size_t len;
    char *s = ex_emit(p, v4, &l, &len);

    ck_assert_uint_eq(l.n, 0);
    ck_assert_uint_eq(len, strlen(want));
    ck_assert_str_eq(s, want);
    free(s);
    lm_losses_fini(&l);
    /* version 5: FF FE, then every character followed by a zero byte */
    s = ex_emit(p, NULL, &l, &len);
    ck_assert_uint_eq(len, 1234);
    ck_assert_int_eq((unsigned char)s[0], 0xff);
    ck_assert_int_eq((unsigned char)s[1], 0xfe);
    ck_assert_int_eq(memcmp(s + 2, "W\0i\0n\0", 6), 0);
    ck_assert_int_eq(memcmp(s + len - 8, "\r\0\n\0\r\0\n\0", 8), 0);
    free(s);
    lm_losses_fini(&l);
    lm_policy_free(p);
}
END_TEST

START_TEST(emit_flags_and_losses)
{
    static const char *const v4[] = { "reg-version=4", NULL };
    struct lm_policy *p;
    struct lm_losses l;
    size_t len;
    char *s;

    /* the server address and AUTH: bits 4 and 8; a deny list although
     * nothing overlaps it, since those could let the client relay */
    p = tu_neutral("connect net 10.1.0.0/16 ok\nconnect server 192.0.2.1 relay\n"
                   "connect authenticated relay\n");
    s = ex_emit(p, v4, &l, &len);
    ck_assert_uint_eq(l.n, 0);
    ck_assert_ptr_nonnull(strstr(s, "\"RelayFlags\"=dword:0000000d\r\n"));
    ck_assert_ptr_nonnull(strstr(s, "\"RelayLocalIPList\"=hex(7):31,39,32,2e,30,2e,32,2e,31,"
                                    "00,00\r\n"));
    ck_assert_ptr_null(strstr(s, "RelayAllowList"));
    free(s);
    lm_losses_fini(&l);
    lm_policy_free(p);

    /* everyone relays: RelayFlags = 1 and the exceptions in the deny list,
     * written even when empty so an old list cannot stay in force */
    p = tu_neutral("connect all relay\n");
    s = ex_emit(p, v4, &l, &len);
    ck_assert_ptr_nonnull(strstr(s, "\"RelayDenyList\"=hex(7):00\r\n\"RelayFlags\"="
                                    "dword:00000001\r\n"));
    free(s);
    lm_losses_fini(&l);
    lm_policy_free(p);

    /* nothing relays: RelayFlags 0, no list */
    p = tu_neutral("connect net 10.0.0.0/8 ok\naccept domain example.com\n");
    s = ex_emit(p, v4, &l, &len);
    ck_assert_ptr_nonnull(strstr(s, "; relaymap accept domain example.com\r\n"));
    ck_assert_ptr_nonnull(strstr(s, "\"RelayFlags\"=dword:00000000\r\n\r\n"));
    ck_assert_ptr_null(strstr(s, "List"));
    free(s);
    lm_losses_fini(&l);
    lm_policy_free(p);

    /* what the lists cannot say, each with its line */
    p = tu_neutral("connect net 10.0.0.0/8 relay\nconnect net 10.6.6.6 reject\n"
                   "connect name host.example.com ok\nfrom domain spam.example reject\n"
                   "connect net 2001:db8::/32 relay\nconnect net 10.7.0.0/16 discard\n");
    s = ex_emit(p, v4, &l, &len);
    ck_assert_uint_eq(l.n, 5);
    ck_assert_uint_eq(l.v[0].line, 2);
    ck_assert_int_eq(l.v[0].widens, 1);
    ck_assert_uint_eq(l.v[1].line, 3);
    ck_assert_uint_eq(l.v[2].line, 4);
    ck_assert_uint_eq(l.v[3].line, 5);
    ck_assert_int_eq(l.v[3].widens, 0);
    ck_assert_uint_eq(l.v[4].line, 6);
    free(s);
    lm_losses_fini(&l);
    lm_policy_free(p);
}
END_TEST

/* A random policy of connect networks, server addresses, AUTH and ANY. */
static struct lm_policy *
ex_random(unsigned *seed)
{
    char text[4096];
    size_t len = 0;
    unsigned i, n;

#define RND(k) ((*seed = *seed * 1103515245u + 12345u), (*seed >> 16) % (k))
    n = 1 + RND(12);
    for (i = 0; i < n; i++) {
        unsigned plen = 8 + RND(25), a = 10, b = RND(4), c = RND(256), dd = RND(256);
        unsigned ip = a << 24 | b << 16 | c << 8 | dd;
        ip &= plen == 0 ? 0 : ~0u << (32 - plen);
        len += (size_t)snprintf(text + len, sizeof text - len,
                                "connect net %u.%u.%u.%u/%u %s\n", ip >> 24, (ip >> 16) & 255,
                                (ip >> 8) & 255, ip & 255, plen,
                                RND(3) ? "relay" : RND(2) ? "ok" : "skip");
    }
    if (RND(3) == 0)
        len += (size_t)snprintf(text + len, sizeof text - len,
                                "connect server 192.0.2.%u relay\n", RND(8));
    if (RND(3) == 0)
        len += (size_t)snprintf(text + len, sizeof text - len, "connect authenticated relay\n");
    if (RND(5) == 0)
        len += (size_t)snprintf(text + len, sizeof text - len, "connect all %s\n",
                                RND(2) ? "relay" : "ok");
#undef RND
    return tu_neutral(text);
}

START_TEST(roundtrip_random)
{
    unsigned seed = 20261205u, k;
    static const char *const v4[] = { "reg-version=4", NULL };

    for (k = 0; k < 300; k++) {
        struct lm_policy *p = ex_random(&seed), *back;
        struct lm_convert_report rep;
        struct lm_losses l;
        struct lm_diags d;
        size_t len;
        char *s = ex_emit(p, (k & 1) ? v4 : NULL, &l, &len);
        int rc, anyrelay = 0;
        size_t i;
        for (i = 0; i < p->nrules; i++)
            anyrelay |= p->rules[i].kind == LM_K_ANY && p->rules[i].action == LM_A_RELAY;
        back = ex_parse(s, len, &d, &rc);
        ck_assert_int_eq(rc, 0);
        lm_diags_fini(&d);
        lm_diags_init(&d);
        lm_convert_report_init(&rep);
        /* every such policy is written exactly: no loss, no difference */
        ck_assert_uint_eq(l.n, 0);
        ck_assert_msg(lm_verify(p, back, "a", "b", 1, 2, &rep, &d) == 0,
                      "policy %u (anyrelay %d) differs after the round trip", k, anyrelay);
        lm_convert_report_fini(&rep);
        lm_diags_fini(&d);
        lm_losses_fini(&l);
        free(s);
        lm_policy_free(p);
        lm_policy_free(back);
    }
}
END_TEST

Suite *exchange_suite(void);

Suite *
exchange_suite(void)
{
    Suite *s = suite_create("exchange");
    TCase *tp = tcase_create("parse"), *te = tcase_create("emit");

    tcase_add_test(tp, parse_kb_model);
    tcase_add_test(tp, parse_forms);
    tcase_add_test(tp, parse_errors);
    tcase_add_test(te, emit_bytes);
    tcase_add_test(te, emit_flags_and_losses);
    tcase_add_test(te, roundtrip_random);
    tcase_set_timeout(te, 120);
    suite_add_tcase(s, tp);
    suite_add_tcase(s, te);
    return s;
}
