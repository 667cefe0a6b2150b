/*
 * check_tcprules.c - tcp.smtp rules: encoding of the verified examples,
 * range expansion (clamp, leading zeros), every trap with its line and
 * column, the IPv6 grammar, tcpserver's key order, data items, dump.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libmap/tcprules.h"

/* Parse one line; keys joined by '|' into keys, data into data. */
static int
parse(const char *line, unsigned flags, char *keys, char *data, size_t *dlen,
      struct lm_diags *d)
{
    static const struct lm_pos pos = { "t", 7, 0 };
    struct lm_tcprules_rule r;
    size_t len = strlen(line), k;
    char *buf = malloc(LM_TCPRULES_BUF(len) + 64), key[128];
    unsigned long n;
    int rc;

    ck_assert_ptr_nonnull(buf);
    rc = lm_tcprules_parse(line, len, &pos, flags, buf, &r, d);
    keys[0] = '\0';
    if (rc == 0) {
        for (n = r.range ? r.lo : 0; n <= (r.range ? r.hi : 0); n++) {
            k = lm_tcprules_key(&r, n, key);
            if (keys[0] != '\0')
                strcat(keys, "|");
            strncat(keys, key, k);
        }
        memcpy(data, r.data, r.dlen);
        *dlen = r.dlen;
    }
    free(buf);
    return rc;
}

static void
expect(const char *line, unsigned flags, const char *keys, const char *data, size_t dlen)
{
    struct lm_diags d;
    char k[4096], v[512];
    size_t vl = 0;

    lm_diags_init(&d);
    ck_assert_msg(parse(line, flags, k, v, &vl, &d) == 0, "%s: %s", line,
                  d.n ? d.v[0].msg : "no rule");
    ck_assert_str_eq(k, keys);
    ck_assert_uint_eq(vl, dlen);
    ck_assert(memcmp(v, data, dlen) == 0);
    lm_diags_fini(&d);
}

/* A trap: an error at line 7, column col, whose message holds want. */
static void
refuse(const char *line, unsigned flags, unsigned col, const char *want)
{
    struct lm_diags d;
    char k[4096], v[512];
    size_t vl;

    lm_diags_init(&d);
    ck_assert_int_eq(parse(line, flags, k, v, &vl, &d), -1);
    ck_assert_uint_eq(d.nerrors, 1);
    ck_assert_int_eq(d.v[0].code, LM_E_SYNTAX);
    ck_assert_uint_eq(d.v[0].line, 7);
    ck_assert_msg(d.v[0].col == col, "%s: col %u, want %u", line, d.v[0].col, col);
    ck_assert_msg(strstr(d.v[0].msg, want) != NULL, "%s: \"%s\" lacks \"%s\"", line,
                  d.v[0].msg, want);
    lm_diags_fini(&d);
}

START_TEST(encoding)
{
    expect("127.0.0.1:allow,RELAYCLIENT=\"\"", 0, "127.0.0.1", "+RELAYCLIENT=\0", 14);
    expect("10.1.2.:allow,RELAYCLIENT=\"\",RBLSMTPD=\"\"", 0, "10.1.2.",
           "+RELAYCLIENT=\0+RBLSMTPD=\0", 25);
    expect("=.example.org:allow,SMTPGREETING=/hello there/", 0, "=.example.org",
           "+SMTPGREETING=hello there\0", 26);
    expect("joe@10.9.9.9:allow,X='a\"b'", 0, "joe@10.9.9.9", "+X=a\"b\0", 7);
    expect("203.0.113.5:deny", 0, "203.0.113.5", "D\0", 2);
    expect("1.2.3.4:deny,X=\"y\"", 0, "1.2.3.4", "D\0+X=y\0", 7);
    expect("1.2.3.4:allow,=\"y\"", 0, "1.2.3.4", "+=y\0", 4);
    expect(":allow", 0, "", "", 0);
    expect("=:allow,Q=\"a:deny\" \t", 0, "=", "+Q=a:deny\0", 10);
    expect("1.2.3.4:allow,A=,b,", 0, "1.2.3.4", "+A=b\0", 5);
}
END_TEST

START_TEST(ranges)
{
    expect("1.2.3.4-7:allow", 0, "1.2.3.4|1.2.3.5|1.2.3.6|1.2.3.7", "", 0);
    expect("10.2-3.:deny", 0, "10.2.|10.3.", "D\0", 2);
    expect("10.2-3.4.5:allow", 0, "10.2.4.5|10.3.4.5", "", 0);
    expect("1.2.3.250-300:allow", 0,
           "1.2.3.250|1.2.3.251|1.2.3.252|1.2.3.253|1.2.3.254|1.2.3.255", "", 0);
    expect("1.2.3.04-06:allow", 0, "1.2.3.4|1.2.3.5|1.2.3.6", "", 0);
    expect("5-6.:allow", 0, "5.|6.", "", 0);
    expect("=mail-gw.example:allow", 0, "=mail-gw.example", "", 0);
    expect("1.2.3.9-9:allow", 0, "1.2.3.9", "", 0);
}
END_TEST

START_TEST(skipped)
{
    struct lm_diags d;
    char k[64], v[64];
    size_t vl;

    lm_diags_init(&d);
    ck_assert_int_eq(parse("", 0, k, v, &vl, &d), LM_NOTFOUND);
    ck_assert_int_eq(parse("# 1.2.3.4:allow", 0, k, v, &vl, &d), LM_NOTFOUND);
    ck_assert_int_eq(parse(" \t ", 0, k, v, &vl, &d), LM_NOTFOUND);
    ck_assert_uint_eq(d.nerrors, 0);
    lm_diags_fini(&d);
}
END_TEST

START_TEST(traps)
{
    refuse("1.2.3.4", 0, 1, "tcprules silently ignores this line");
    refuse("  # note", 0, 3, "move the '#' to the first column");
    refuse(" 1.2.3.4:allow", 0, 1, "write \"1.2.3.4\"");
    refuse("1.2.3.4\t:allow", 0, 8, "write \"1.2.3.4\"");
    refuse("1.2.3.0/24:allow", 0, 1, "write \"1.2.3.\"");
    refuse("10.1.16.0/20:allow", 0, 1, "write \"10.1.16-31.\"");
    refuse("1.2.3.64/26:allow", 0, 1, "write \"1.2.3.64-127\"");
    refuse("1.2.3.5/24:allow", 0, 1, "did you mean 1.2.3.0/24?");
    refuse("192.168:allow", 0, 7, "write \"192.168.\"");
    refuse("172.16.5:allow,RELAYCLIENT=\"\"", 0, 8, "write \"172.16.5.\"");
    refuse("1.2.3.7-4:allow", 0, 7, "write \"1.2.3.4-7\"");
    refuse("10.5-2.:allow", 0, 4, "write \"10.2-5.\"");
    refuse("=MAIL.EXAMPLE.ORG:allow", 0, 2, "write \"=mail.example.org\"");
    refuse("joe@=Mail.example.org:allow", 0, 6, "write \"joe@=mail.example.org\"");
    refuse("1.2.3.4:allow\r", 0, 14, "CRLF");
    refuse("mail.example.com:allow", 0, 1, "\"=mail.example.com\"");
    refuse("joe@1.2.3.:allow", 0, 5, "never with a prefix");
    refuse("1.2.3.256:allow", 0, 1, "above 255");
    refuse("1.2.3.4:ALLOW", 0, 9, "lower case only");
    refuse("1.2.3.4: allow", 0, 9, "no blank after the colon");
    refuse("1.2.3.4:allow ,X=\"1\"", 0, 14, "only ,NAME=\"VALUE\" may follow");
    refuse("1.2.3.4:allow,X", 0, 14, "no '='");
    refuse("1.2.3.4:allow,X=\"a", 0, 18, "not closed");
    refuse("1.2.3.a-4:allow", 0, 7, "decimal");
    refuse("::1:allow", 0, 2, "tcprules6");
}
END_TEST

START_TEST(expand)
{
    expect("1.2.3.0/24:allow", LM_TR_EXPAND, "1.2.3.", "", 0);
    expect("10.0.0.0/8:deny", LM_TR_EXPAND, "10.", "D\0", 2);
    expect("1.2.3.4/32:allow", LM_TR_EXPAND, "1.2.3.4", "", 0);
    expect("1.2.3.4/30:allow", LM_TR_EXPAND, "1.2.3.4|1.2.3.5|1.2.3.6|1.2.3.7", "", 0);
    expect("10.1.16.0/22:allow", LM_TR_EXPAND, "10.1.16.|10.1.17.|10.1.18.|10.1.19.", "", 0);
    expect("0.0.0.0/0:deny", LM_TR_EXPAND, "", "D\0", 2);
    expect("2001:db8::/32:allow", LM_TR_V6 | LM_TR_EXPAND, "2001:db8:", "", 0);
}
END_TEST

START_TEST(ipv6)
{
    expect("::1:allow,A=\"1\"", LM_TR_V6, "::1", "+A=1\0", 5);
    expect("fe80::allow", LM_TR_V6, "fe80:", "", 0);
    expect("2001:db8:1::5:deny", LM_TR_V6, "2001:db8:1::5", "D\0", 2);
    expect("1.2.3.4-5:allow", LM_TR_V6, "1.2.3.4|1.2.3.5", "", 0);
    expect("joe@::1:allow", LM_TR_V6, "joe@::1", "", 0);
    expect("=h:allow,X=\"a:deny\"", LM_TR_V6, "=h", "+X=a:deny\0", 10);
    refuse("1.2.3.4:allow\r", LM_TR_V6, 14, "CRLF");
    refuse("FE80::1:allow", LM_TR_V6, 1, "lower case");
    refuse("fe80::0001:allow", LM_TR_V6, 1, "leading zero");
    refuse("::ffff:1.2.3.4:allow", LM_TR_V6, 1, "IPv4-mapped");
    refuse("fe80::1-3:allow", LM_TR_V6, 1, "cannot expand a range");
    refuse("2001:db8::/33:allow", LM_TR_V6, 1, "16-bit group");
    refuse("2001:db8::/32:allow", LM_TR_V6, 1, "write \"2001:db8:\"");
    refuse("1:x", LM_TR_V6, 3, "expected \"allow\" or \"deny\"");
}
END_TEST

struct walk_log {
    char s[1024];
};

static int
walk_rec(void *arg, const char *key, size_t klen)
{
    struct walk_log *w = arg;

    strcat(w->s, "[");
    strncat(w->s, key, klen);
    strcat(w->s, "]");
    return 0;
}

START_TEST(lookup_order)
{
    struct walk_log w;

    w.s[0] = '\0';
    ck_assert_int_eq(lm_tcprules_walk("1.2.3.4", "a.b.example.org", "joe", 0, walk_rec, &w), 0);
    ck_assert_str_eq(w.s, "[joe@1.2.3.4][joe@=a.b.example.org][1.2.3.4][=a.b.example.org]"
                          "[1.2.3.][1.2.][1.][=.b.example.org][=.example.org][=.org][=][]");
    w.s[0] = '\0';
    ck_assert_int_eq(lm_tcprules_walk("10.0.0.1", NULL, NULL, 0, walk_rec, &w), 0);
    ck_assert_str_eq(w.s, "[10.0.0.1][10.0.0.][10.0.][10.][]");
    w.s[0] = '\0';
    ck_assert_int_eq(lm_tcprules_walk("fe80::1:2", NULL, NULL, LM_TR_V6, walk_rec, &w), 0);
    ck_assert_str_eq(w.s, "[fe80::1:2][fe80::1:][fe80::][fe80:][]");
}
END_TEST

START_TEST(items)
{
    static const char data[] = "D\0+A=1\0+B\0xyz\0+C=";
    struct lm_tcprules_item it;
    size_t off = 0;

    ck_assert_int_eq(lm_tcprules_item_next(data, sizeof data - 1, &off, &it), 0);
    ck_assert_int_eq(it.kind, LM_TRI_DENY);
    ck_assert_int_eq(lm_tcprules_item_next(data, sizeof data - 1, &off, &it), 0);
    ck_assert_int_eq(it.kind, LM_TRI_SET);
    ck_assert_uint_eq(it.nlen, 1);
    ck_assert_uint_eq(it.vlen, 1);
    ck_assert(it.name[0] == 'A' && it.value[0] == '1');
    ck_assert_int_eq(lm_tcprules_item_next(data, sizeof data - 1, &off, &it), 0);
    ck_assert_int_eq(it.kind, LM_TRI_OTHER);     /* "+B" has no '=' */
    ck_assert_int_eq(lm_tcprules_item_next(data, sizeof data - 1, &off, &it), 0);
    ck_assert_int_eq(it.kind, LM_TRI_OTHER);
    /* the last item lacks its NUL: not an item */
    ck_assert_int_eq(lm_tcprules_item_next(data, sizeof data - 1, &off, &it), LM_NOTFOUND);
}
END_TEST

static char *
dump1(const char *key, const void *val, size_t vlen, unsigned flags, int *rc)
{
    lm_datum k = { key, strlen(key) }, v = { val, vlen };
    struct lm_diags d;
    char *buf = NULL;
    size_t sz = 0;
    FILE *f = open_memstream(&buf, &sz);

    lm_diags_init(&d);
    *rc = lm_tcprules_dump(f, &k, &v, flags, &d);
    fclose(f);
    lm_diags_fini(&d);
    return buf;
}

START_TEST(dump)
{
    int rc;
    char *s;

    s = dump1("1.2.3.", "D\0+X=a\"b\0", 9, 0, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(s, "1.2.3.:deny,X='a\"b'\n");
    free(s);
    s = dump1("", "", 0, 0, &rc);
    ck_assert_str_eq(s, ":allow\n");
    free(s);
    s = dump1("=h", "+A=\"'/|\0", 8, 0, &rc);
    ck_assert_str_eq(s, "=h:allow,A=%\"'/|%\n");
    free(s);
    s = dump1("1.2.3.4-5", "", 0, 0, &rc);
    ck_assert_int_eq(rc, -1);
    free(s);
    s = dump1("1.2.3.4", "+A=1", 4, 0, &rc);        /* no final NUL */
    ck_assert_int_eq(rc, -1);
    free(s);
    s = dump1("fe80::1", "", 0, LM_TR_V6, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(s, "fe80::1:allow\n");
    free(s);
    s = dump1("fe80::1", "", 0, 0, &rc);
    ck_assert_int_eq(rc, -1);
    free(s);
}
END_TEST

/* --- the lenient mode (relayconv reading a file) and what keys match ---------- */

/* LM_TR_LENIENT: keys tcpserver never looks up are rules with never set and
 * one warning; what tcprules refuses and an address that is none stay
 * errors; an empty range is a warning and no key. */
START_TEST(lenient)
{
    static const struct lm_pos pos = { "t", 7, 0 };
    static const struct {
        const char *line;
        int rc, never;
        size_t nerr, nwarn;
        const char *keys;
    } t[] = {
        { "=HOST.example.com:deny",  0, 1, 0, 1, "=HOST.example.com" },
        { "172.16.5:allow",          0, 1, 0, 1, "172.16.5" },
        { "10.0.0.0/8:deny",         0, 1, 0, 1, "10.0.0.0/8" },
        { "joe@1.2.3.:deny",         0, 1, 0, 1, "joe@1.2.3." },
        { "1.2-3:deny",              0, 1, 0, 1, "1.2|1.3" },
        { "1.2.3.7-4:deny",          0, 0, 0, 1, "" },
        { "1.2.3.300-400:deny",      0, 0, 0, 1, "" },
        { "1.2.3.4-5:deny",          0, 0, 0, 0, "1.2.3.4|1.2.3.5" },
        { "1.2.3.999:allow",        -1, 0, 1, 0, NULL },
        { "joe@1.2.3.999:allow",    -1, 0, 1, 0, NULL },
        { "1.2.999.4-5:allow",      -1, 0, 1, 0, NULL },
        { "1.2.3.a-4:allow",        -1, 0, 1, 0, NULL },
        { "1.2.3.4:ALLOW",          -1, 0, 1, 0, NULL },
        { "nocolon",      LM_NOTFOUND, 0, 0, 1, NULL },
    };
    size_t i;

    for (i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct lm_tcprules_rule r;
        struct lm_diags d;
        size_t len = strlen(t[i].line);
        char *buf = malloc(LM_TCPRULES_BUF(len) + 64), keys[256], key[64];
        unsigned long n;
        int rc;

        ck_assert_ptr_nonnull(buf);
        lm_diags_init(&d);
        rc = lm_tcprules_parse(t[i].line, len, &pos, LM_TR_LENIENT, buf, &r, &d);
        ck_assert_msg(rc == t[i].rc, "%s: rc %d", t[i].line, rc);
        ck_assert_msg(d.nerrors == t[i].nerr && d.nwarnings == t[i].nwarn,
                      "%s: %zu errors, %zu warnings", t[i].line, d.nerrors, d.nwarnings);
        ck_assert_uint_eq(d.n > 0 ? d.v[0].line : 7, 7);
        if (rc == 0) {
            ck_assert_int_eq(r.never, t[i].never);
            keys[0] = '\0';
            for (n = r.range ? r.lo : 0; n <= (r.range ? r.hi : 0) && !(r.range && r.lo > r.hi);
                 n++) {
                size_t k = lm_tcprules_key(&r, n, key);
                if (keys[0] != '\0')
                    strcat(keys, "|");
                strncat(keys, key, k);
            }
            ck_assert_str_eq(keys, t[i].keys);
        }
        /* the strict mode refuses every one of them */
        lm_diags_fini(&d);
        lm_diags_init(&d);
        if (t[i].nerr + t[i].nwarn > 0 && t[i].rc != LM_NOTFOUND)
            ck_assert_msg(lm_tcprules_parse(t[i].line, len, &pos, 0, buf, &r, &d) == -1,
                          "%s: strict mode takes it", t[i].line);
        lm_diags_fini(&d);
        free(buf);
    }
}
END_TEST

/* tcpserver's IPv6 text: the first run of zero groups, even one group. */
START_TEST(ip6_text)
{
    static const struct { const char *addr, *text; } t[] = {
        { "::1", "::1" },
        { "::", "::" },
        { "2001:db8::1", "2001:db8::1" },
        { "2001:db8:0:1:0:0:0:1", "2001:db8::1:0:0:0:1" },     /* not RFC 5952 */
        { "1:0:2:3:4:5:6:7", "1::2:3:4:5:6:7" },
        { "1:2:3:4:5:6:7:0", "1:2:3:4:5:6:7::" },
        { "fe80::abcd", "fe80::abcd" },
        { "::ffff:192.0.2.1", "192.0.2.1" },
    };
    size_t i;

    for (i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct lm_ipaddr a;
        char out[LM_TR_IP6_BUF];
        ck_assert_int_eq(lm_ipaddr_parse(t[i].addr, strlen(t[i].addr), LM_IPF_V6, &a, NULL,
                                         NULL), 0);
        ck_assert_uint_eq(lm_tcprules_ip6_format(a.b, out), strlen(t[i].text));
        ck_assert_str_eq(out, t[i].text);
    }
}
END_TEST

/* What a stored key matches, in both builds. */
START_TEST(subjects)
{
    static const struct {
        const char *key;
        unsigned flags;
        int rc;
        enum lm_tcprules_what what;
        const char *lo, *hi;
    } t[] = {
        { "",                0, 0, LM_TRW_ANY, NULL, NULL },
        { "=",               0, 0, LM_TRW_ANYHOST, NULL, NULL },
        { "=mx.example.com", 0, 0, LM_TRW_HOST, NULL, NULL },
        { "=.example.com",   0, 0, LM_TRW_DOMAIN, NULL, NULL },
        { "=a..b",           0, 0, LM_TRW_NEVER, NULL, NULL },
        { "=Mx.example",     0, 0, LM_TRW_NEVER, NULL, NULL },
        { "1.2.3.4",         0, 0, LM_TRW_NET, "1.2.3.4", "1.2.3.4" },
        { "10.1.",           0, 0, LM_TRW_NET, "10.1.0.0", "10.1.255.255" },
        { "10.",             0, 0, LM_TRW_NET, "10.0.0.0", "10.255.255.255" },
        { "10.1",            0, 0, LM_TRW_NEVER, NULL, NULL },
        { "joe@1.2.3.4",     0, 0, LM_TRW_NET, "1.2.3.4", "1.2.3.4" },
        { "joe@1.2.3.",      0, 0, LM_TRW_NEVER, NULL, NULL },
        { "joe@=h.example",  0, 0, LM_TRW_HOST, NULL, NULL },
        { "2001:db8::1",     0, 0, LM_TRW_NEVER, NULL, NULL },
        { "2001:db8::1",     LM_TR_V6, 0, LM_TRW_NET, "2001:db8::1", "2001:db8::1" },
        { "2001:db8:0:0:0:0:0:1", LM_TR_V6, 0, LM_TRW_NEVER, NULL, NULL },
        { "2001:db8:",       LM_TR_V6, 0, LM_TRW_NET, "2001:db8::",
          "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff" },
        { "2001:db8::",      LM_TR_V6, 0, LM_TRW_NET, "2001:db8::",
          "2001:db8:0:ffff:ffff:ffff:ffff:ffff" },
        { "1:2:3:4:5:6:7::", LM_TR_V6, 0, LM_TRW_NET, "1:2:3:4:5:6:7:0", "1:2:3:4:5:6:7:0" },
        { "2001:0:",         LM_TR_V6, 0, LM_TRW_NEVER, NULL, NULL },
        { "1:2:3:4:5:6:7:8:", LM_TR_V6, 0, LM_TRW_NEVER, NULL, NULL },
        { "1:2:3:4:5:6:7:8:9:", LM_TR_V6, 0, LM_TRW_NEVER, NULL, NULL },
        { "1:2:3:4:5:6:7:8:9:a:b:c:d:e:f:1:2:", LM_TR_V6, 0, LM_TRW_NEVER, NULL, NULL },
        { "1:2:3:4:5:6:7:8::", LM_TR_V6, 0, LM_TRW_NEVER, NULL, NULL },
        { "2001::5:",        LM_TR_V6, -1, LM_TRW_NEVER, NULL, NULL },
        { "::",              LM_TR_V6, -1, LM_TRW_NEVER, NULL, NULL },
        { "joe@fe80::1",     LM_TR_V6, 0, LM_TRW_NET, "fe80::1", "fe80::1" },
        { "joe@fe80:",       LM_TR_V6, 0, LM_TRW_NEVER, NULL, NULL },
        { "10.1.",           LM_TR_V6, 0, LM_TRW_NET, "10.1.0.0", "10.1.255.255" },
    };
    size_t i;

    for (i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct lm_tcprules_subject s;
        const char *why = NULL;
        int rc = lm_tcprules_subject(t[i].key, strlen(t[i].key), t[i].flags, &s, &why);
        ck_assert_msg(rc == t[i].rc, "%s: rc %d", t[i].key, rc);
        if (rc < 0) {
            ck_assert_ptr_nonnull(why);
            continue;
        }
        ck_assert_msg(s.what == t[i].what, "%s: what %d", t[i].key, (int)s.what);
        ck_assert(s.what != LM_TRW_NEVER || why != NULL);
        if (t[i].lo != NULL) {
            char lo[LM_IPADDR_BUF], hi[LM_IPADDR_BUF];
            ck_assert_str_eq(lm_ipaddr_format(&s.net.lo, lo), t[i].lo);
            ck_assert_str_eq(lm_ipaddr_format(&s.net.hi, hi), t[i].hi);
        }
    }
}
END_TEST

/* rcpthosts entries that name no domain. */
START_TEST(rcpthosts_names)
{
    ck_assert_ptr_null(lm_rcpthosts_why("example.com", 11));
    ck_assert_ptr_null(lm_rcpthosts_why("1.2.3.4", 7));
    ck_assert_ptr_null(lm_rcpthosts_why("123.example", 11));
    ck_assert_ptr_nonnull(lm_rcpthosts_why("a..b", 4));
    ck_assert_ptr_nonnull(lm_rcpthosts_why("a.", 2));
    ck_assert_ptr_nonnull(lm_rcpthosts_why("300.1.1.1", 9));
    ck_assert_ptr_nonnull(lm_rcpthosts_why("1.2.3", 5));
    ck_assert_ptr_nonnull(lm_rcpthosts_why("", 0));
}
END_TEST

Suite *tcprules_suite(void);

Suite *
tcprules_suite(void)
{
    Suite *s = suite_create("tcprules");
    TCase *tc = tcase_create("parse");

    tcase_add_test(tc, encoding);
    tcase_add_test(tc, ranges);
    tcase_add_test(tc, skipped);
    tcase_add_test(tc, expand);
    tcase_add_test(tc, ipv6);
    suite_add_tcase(s, tc);
    tc = tcase_create("errors");
    tcase_add_test(tc, traps);
    tcase_add_test(tc, lenient);
    suite_add_tcase(s, tc);
    tc = tcase_create("subjects");
    tcase_add_test(tc, ip6_text);
    tcase_add_test(tc, subjects);
    tcase_add_test(tc, rcpthosts_names);
    suite_add_tcase(s, tc);
    tc = tcase_create("lookup");
    tcase_add_test(tc, lookup_order);
    tcase_add_test(tc, items);
    tcase_add_test(tc, dump);
    suite_add_tcase(s, tc);
    return s;
}
