/*
 * check_compile.c - the compile pipeline with the access syntax: folding,
 * NUL terminators, duplicates naming both lines, errors with line and
 * column, empty values, append, check, lookup.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libmap/atomic.h"
#include "libmap/compile.h"

static char dir[64], src[128], out[128];

static void
setup(void)
{
    strcpy(dir, "/tmp/check_compile.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(src, sizeof src, "%s/access", dir);
    snprintf(out, sizeof out, "%s/access", dir);
}

static void
teardown(void)
{
    lm_atomic_remove_dir(dir);
}

static void
source_is(const char *text, size_t len)
{
    FILE *f = fopen(src, "w");

    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(text, 1, len, f), len);
    fclose(f);
}
#define SOURCE(s) source_is(s, sizeof(s) - 1)

static int
compile(const char *type, unsigned flags, struct lm_diags *d)
{
    struct lm_compile_opts o;

    memset(&o, 0, sizeof o);
    o.type = type;
    o.flags = flags;
    return lm_compile(src, &o, NULL, d);
}

/* Value stored under the exact key bytes, or NULL. */
static char *
stored(const char *type, const void *key, size_t klen)
{
    static char buf[256];
    struct lm_diags d;
    struct lm_map *m;
    lm_datum k, v;
    char *r = NULL;

    lm_diags_init(&d);
    m = lm_map_open(type, out, &d);
    ck_assert_ptr_nonnull(m);
    k.data = key;
    k.len = klen;
    if (lm_map_get(m, &k, &v, &d) == 0 && v.len < sizeof buf) {
        memcpy(buf, v.data, v.len);
        buf[v.len] = '\0';
        r = buf;
    }
    lm_map_close(m);
    lm_diags_fini(&d);
    return r;
}

START_TEST(makemap_rules)
{
    struct lm_diags d;

    SOURCE("# comment\n"
           "Spam@Hacker.COM\tREJECT\n"
           "\n"
           "   \n"
           "useful.org  OK  \n"
           "crlf.example\tRELAY\r\n"
           "tab\t \tERROR:5.7.1:550 go  away\n"
           "hash#inside #value\n"
           "last no-newline");
    lm_diags_init(&d);
    ck_assert_int_eq(compile("cdb", 0, &d), 0);
    ck_assert_uint_eq(d.nerrors, 0);
    ck_assert_str_eq(stored("cdb", "spam@hacker.com", 15), "REJECT");
    ck_assert_ptr_null(stored("cdb", "Spam@Hacker.COM", 15));
    ck_assert_str_eq(stored("cdb", "useful.org", 10), "OK  ");      /* kept verbatim */
    ck_assert_str_eq(stored("cdb", "crlf.example", 12), "RELAY");   /* CR removed */
    ck_assert_str_eq(stored("cdb", "tab", 3), "ERROR:5.7.1:550 go  away");
    ck_assert_str_eq(stored("cdb", "hash#inside", 11), "#value");
    ck_assert_str_eq(stored("cdb", "last", 4), "no-newline");
    lm_diags_fini(&d);
}
END_TEST

START_TEST(nul_and_case_flags)
{
    struct lm_diags d;

    SOURCE("Key Value\n");
    lm_diags_init(&d);
    ck_assert_int_eq(compile("hash", LM_C_NUL | LM_C_NOFOLD, &d), 0);
    ck_assert_str_eq(stored("hash", "Key\0", 4), "Value");  /* value has its NUL */
    ck_assert_ptr_null(stored("hash", "Key", 3));
    ck_assert_ptr_null(stored("hash", "key\0", 4));
    lm_diags_fini(&d);
}
END_TEST

START_TEST(errors_with_positions)
{
    struct lm_diags d;
    size_t i, nerr = 0;

    SOURCE("good1 1\n"
           "  indented 2\n"
           "novalue\n"
           "good3 3\n");
    lm_diags_init(&d);
    ck_assert_int_eq(compile("btree", 0, &d), -1);
    for (i = 0; i < d.n; i++) {
        if (d.v[i].sev != LM_ERROR)
            continue;
        nerr++;
        ck_assert_int_eq(d.v[i].code, LM_E_SYNTAX);
        ck_assert_str_eq(d.v[i].file, src);
    }
    ck_assert_uint_eq(nerr, 2);
    ck_assert_uint_eq(d.v[0].line, 2);
    ck_assert_uint_eq(d.v[0].col, 3);
    ck_assert_ptr_nonnull(strstr(d.v[0].msg, "indented 2"));
    ck_assert_uint_eq(d.v[1].line, 3);
    ck_assert_ptr_nonnull(strstr(d.v[1].msg, "\"novalue\""));
    {
        char path[160];
        snprintf(path, sizeof path, "%s.db", out);
        ck_assert_int_ne(access(path, F_OK), 0);    /* nothing written */
    }
    lm_diags_fini(&d);

    lm_diags_init(&d);
    ck_assert_int_eq(compile("btree", LM_C_EMPTY, &d), -1);   /* still the indent */
    ck_assert_uint_eq(d.nerrors, 1);
    lm_diags_fini(&d);
}
END_TEST

START_TEST(duplicates_name_both_lines)
{
    struct lm_diags d;
    char path[160];

    SOURCE("a 1\nB 2\nc 3\nb 4\nA 5\n");
    lm_diags_init(&d);
    ck_assert_int_eq(compile("hash", 0, &d), -1);
    ck_assert_uint_eq(d.nerrors, 2);
    ck_assert_int_eq(d.v[0].code, LM_E_DUPLICATE);
    ck_assert_uint_eq(d.v[0].line, 4);
    ck_assert_ptr_nonnull(strstr(d.v[0].msg, "\"b\" (first defined at line 2"));
    ck_assert_uint_eq(d.v[1].line, 5);
    ck_assert_ptr_nonnull(strstr(d.v[1].msg, "first defined at line 1"));
    snprintf(path, sizeof path, "%s.db", out);
    ck_assert_int_ne(access(path, F_OK), 0);
    lm_diags_fini(&d);

    lm_diags_init(&d);
    ck_assert_int_eq(compile("hash", LM_C_REPLACE, &d), 0);
    ck_assert_str_eq(stored("hash", "b", 1), "4");
    ck_assert_int_eq(compile("cdb", LM_C_DUPS, &d), 0);
    ck_assert_str_eq(stored("cdb", "b", 1), "2");       /* first copy wins */
    ck_assert_int_eq(compile("gdbm", LM_C_DUPS, &d), -1);
    ck_assert_int_eq(lm_diags_first_code(&d), LM_E_UNSUPPORTED);
    lm_diags_fini(&d);
}
END_TEST

START_TEST(append_and_check)
{
    struct lm_compile_opts o;
    struct lm_diags d;

    memset(&o, 0, sizeof o);
    o.type = "hash";
    SOURCE("a 1\n");
    lm_diags_init(&d);
    ck_assert_int_eq(lm_compile_check(src, &o, &d), LM_NOTFOUND);   /* missing */
    ck_assert_int_eq(lm_compile(src, &o, NULL, &d), 0);
    ck_assert_int_eq(lm_compile_check(src, &o, &d), 0);
    SOURCE("b 2\n");
    ck_assert_int_eq(lm_compile_check(src, &o, &d), LM_NOTFOUND);   /* stale */
    o.flags = LM_C_APPEND;
    ck_assert_int_eq(lm_compile(src, &o, NULL, &d), 0);
    ck_assert_str_eq(stored("hash", "a", 1), "1");
    ck_assert_str_eq(stored("hash", "b", 1), "2");
    ck_assert_uint_eq(d.nerrors, 0);
    SOURCE("a 9\n");                         /* clashes with the old map */
    ck_assert_int_eq(lm_compile(src, &o, NULL, &d), -1);
    ck_assert_int_eq(lm_diags_first_code(&d), LM_E_DUPLICATE);
    ck_assert_str_eq(stored("hash", "a", 1), "1");
    lm_diags_fini(&d);
}
END_TEST

START_TEST(lookup_both_nul_forms)
{
    struct lm_diags d;
    struct lm_map *m;
    lm_datum v;

    SOURCE("Key Value\n");
    lm_diags_init(&d);
    ck_assert_int_eq(compile("hash", LM_C_NUL, &d), 0);
    m = lm_map_open("hash", out, &d);
    ck_assert_int_eq(lm_lookup(m, "KEY", 3, 0, &v, &d), 0);
    ck_assert_uint_eq(v.len, 5);
    ck_assert(memcmp(v.data, "Value", 5) == 0);
    ck_assert_int_eq(lm_lookup(m, "KEY", 3, LM_C_NOFOLD, &v, &d), LM_NOTFOUND);
    ck_assert_int_eq(lm_lookup(m, "key", 3, LM_C_NONUL, &v, &d), LM_NOTFOUND);
    lm_map_close(m);
    lm_diags_fini(&d);
}
END_TEST

START_TEST(too_many_errors_stop)
{
    struct lm_diags d;
    char *text = malloc(200 * 8);
    size_t i, len = 0;

    for (i = 0; i < 200; i++)
        len += (size_t)sprintf(text + len, " bad%zu\n", i);
    source_is(text, len);
    free(text);
    lm_diags_init(&d);
    ck_assert_int_eq(compile("cdb", 0, &d), -1);
    ck_assert_uint_eq(d.nerrors, d.max_errors);
    lm_diags_fini(&d);
}
END_TEST

START_TEST(late_duplicate_check_cdb)
{
    /* cdb finds duplicates after the pass (sorted fingerprints, then a
     * confirming pass): the lines must be the same as the early check's. */
    struct lm_diags d;
    size_t i, len = 0;
    char *text = malloc(100000 * 48);

    for (i = 0; i < 100000; i++)
        len += (size_t)sprintf(text + len, "host%zu.example v%zu\n", i, i);
    len += (size_t)sprintf(text + len, "HOST77.example again\nhost99999.example last\n");
    source_is(text, len);
    free(text);
    lm_diags_init(&d);
    ck_assert_int_eq(compile("cdb", 0, &d), -1);
    ck_assert_uint_eq(d.nerrors, 2);
    ck_assert_uint_eq(d.v[0].line, 100001);
    ck_assert_ptr_nonnull(strstr(d.v[0].msg, "\"host77.example\" (first defined at line 78"));
    ck_assert_uint_eq(d.v[1].line, 100002);
    ck_assert_ptr_nonnull(strstr(d.v[1].msg, "first defined at line 100000"));
    lm_diags_fini(&d);
    lm_diags_init(&d);
    ck_assert_int_eq(compile("cdb", LM_C_NOFOLD, &d), -1);     /* HOST77 differs now */
    ck_assert_uint_eq(d.nerrors, 1);
    lm_diags_fini(&d);
}
END_TEST

Suite *compile_suite(void);

Suite *
compile_suite(void)
{
    Suite *s = suite_create("compile");
    TCase *tc = tcase_create("access");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, makemap_rules);
    tcase_add_test(tc, nul_and_case_flags);
    tcase_add_test(tc, errors_with_positions);
    tcase_add_test(tc, duplicates_name_both_lines);
    tcase_add_test(tc, append_and_check);
    tcase_add_test(tc, lookup_both_nul_forms);
    tcase_add_test(tc, too_many_errors_stop);
    tcase_add_test(tc, late_duplicate_check_cdb);
    suite_add_tcase(s, tc);
    return s;
}
