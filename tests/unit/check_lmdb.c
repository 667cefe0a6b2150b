/*
 * check_lmdb.c - the lmdb backend: round trip in key order, insert/replace,
 * duplicates refused, -a through the compiler, binary bytes and empty values,
 * the key size limit, growth from a tiny map size, lookups while building;
 * publication: abort leaves the old map, mode kept, no lock file ever.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libmap/atomic.h"
#include "libmap/compile.h"
#include "libmap/map.h"
#include "tests/unit/scratch.h"

/* The names in dir, sorted, joined by spaces. */
static const char *
listing(void)
{
    static char buf[512];
    struct dirent **v;
    int i, n = scandir(dir, &v, NULL, alphasort);

    buf[0] = '\0';
    for (i = 0; i < n; i++) {
        if (strcmp(v[i]->d_name, ".") && strcmp(v[i]->d_name, "..")) {
            if (buf[0])
                strcat(buf, " ");
            strcat(buf, v[i]->d_name);
        }
        free(v[i]);
    }
    free(v);
    return buf;
}

static int
put(struct lm_map *m, const char *k, const char *v, enum lm_put_mode mode, struct lm_diags *d)
{
    lm_datum kk = dat(k, strlen(k)), vv = dat(v, strlen(v));

    return lm_map_put(m, &kk, &vv, mode, d);
}

static int
get_is(struct lm_map *m, const void *k, size_t kl, const void *v, size_t vl, struct lm_diags *d)
{
    lm_datum kk = dat(k, kl), got;

    if (lm_map_get(m, &kk, &got, d) != 0)
        return 0;
    ck_assert_ptr_nonnull(got.data);
    return got.len == vl && memcmp(got.data, v, vl) == 0;
}

START_TEST(round_trip_in_key_order)
{
    char binkey[] = "b\0\xff\n", binval[] = "\0\x01v";
    static const char *const order[] = { "a", "a\0", "ab", "b\0\xff\n", "empty", "z" };
    static const size_t olen[] = { 1, 2, 2, 4, 5, 1 };
    struct lm_diags d;
    struct lm_map *m;
    lm_datum k, v;
    size_t n = 0;

    lm_diags_init(&d);
    m = lm_map_create("lmdb", in_dir("access"), NULL, &d);
    ck_assert_msg(m != NULL, "%s", d.n ? d.v[0].msg : "");
    ck_assert_int_eq(put(m, "z", "last", LM_PUT_INSERT, &d), 0);
    ck_assert_int_eq(put(m, "ab", "2", LM_PUT_INSERT, &d), 0);
    ck_assert_int_eq(put(m, "empty", "", LM_PUT_INSERT, &d), 0);
    ck_assert_int_eq(put(m, "a", "1", LM_PUT_INSERT, &d), 0);
    k = dat("a\0", 2);          /* the same key with a NUL is another key */
    v = dat("1\0", 2);
    ck_assert_int_eq(lm_map_put(m, &k, &v, LM_PUT_INSERT, &d), 0);
    k = dat(binkey, 4);
    v = dat(binval, 3);
    ck_assert_int_eq(lm_map_put(m, &k, &v, LM_PUT_INSERT, &d), 0);
    /* insert keeps, replace replaces (also with a longer value) */
    ck_assert_int_eq(put(m, "ab", "X", LM_PUT_INSERT, &d), LM_EXISTS);
    ck_assert_int_eq(put(m, "z", "the very last one", LM_PUT_REPLACE, &d), 0);
    /* lookups while building see the current records */
    ck_assert(get_is(m, "ab", 2, "2", 1, &d));
    ck_assert(get_is(m, "z", 1, "the very last one", 17, &d));
    ck_assert(!get_is(m, "nope", 4, "", 0, &d));
    ck_assert_int_eq(lm_map_commit(m, &d), 0);
    lm_map_close(m);
    ck_assert_uint_eq(d.nerrors, 0);
    ck_assert_str_eq(listing(), "access.lmdb");

    m = lm_map_open("lmdb", in_dir("access"), &d);
    ck_assert_msg(m != NULL, "%s", d.n ? d.v[0].msg : "");
    ck_assert(get_is(m, "ab", 2, "2", 1, &d));
    ck_assert(get_is(m, "a\0", 2, "1\0", 2, &d));
    ck_assert(get_is(m, "empty", 5, "", 0, &d));
    ck_assert(get_is(m, binkey, 4, binval, 3, &d));
    ck_assert(get_is(m, "z", 1, "the very last one", 17, &d));
    k = dat("", 0);
    ck_assert_int_eq(lm_map_get(m, &k, &v, &d), LM_NOTFOUND);
    while (lm_map_next(m, &k, &v, &d) == 0) {
        ck_assert_uint_lt(n, 6);
        ck_assert_uint_eq(k.len, olen[n]);
        ck_assert(memcmp(k.data, order[n], k.len) == 0);
        n++;
    }
    ck_assert_uint_eq(n, 6);
    lm_map_close(m);
    ck_assert_uint_eq(d.nerrors, 0);
    ck_assert_str_eq(listing(), "access.lmdb");     /* reading made no lock file */
    lm_diags_fini(&d);
}
END_TEST

START_TEST(limits_and_refusals)
{
    struct lm_map_opts o = { LM_CREATE_DUPS, 0, 0 };
    char key[600];
    struct lm_diags d;
    struct lm_map *m;
    lm_datum k, v = dat("v", 1);
    FILE *f;

    lm_diags_init(&d);
    ck_assert_ptr_null(lm_map_create("lmdb", in_dir("dups"), &o, &d));
    ck_assert_int_eq(lm_diags_first_code(&d), LM_E_UNSUPPORTED);
    lm_diags_fini(&d);

    lm_diags_init(&d);
    m = lm_map_create("lmdb", in_dir("lim"), NULL, &d);
    memset(key, 'k', sizeof key);
    k = dat(key, 511);
    ck_assert_int_eq(lm_map_put(m, &k, &v, LM_PUT_INSERT, &d), 0);
    k = dat(key, 512);
    ck_assert_int_eq(lm_map_put(m, &k, &v, LM_PUT_INSERT, &d), -1);
    ck_assert_int_eq(lm_diags_first_code(&d), LM_E_SYNTAX);
    ck_assert_ptr_nonnull(strstr(d.v[0].msg, "at most 511"));
    k = dat("", 0);
    ck_assert_int_eq(lm_map_put(m, &k, &v, LM_PUT_INSERT, &d), -1);
    ck_assert_int_eq(d.v[d.n - 1].code, LM_E_SYNTAX);
    lm_map_close(m);
    ck_assert_str_eq(listing(), "");
    lm_diags_fini(&d);

    /* not an lmdb file */
    f = fopen(in_dir("junk.lmdb"), "w");
    fputs("this is not a database\n", f);
    fclose(f);
    lm_diags_init(&d);
    ck_assert_ptr_null(lm_map_open("lmdb", in_dir("junk"), &d));
    ck_assert_int_eq(lm_diags_first_code(&d), LM_E_FORMAT);
    ck_assert_ptr_null(lm_map_open("lmdb", in_dir("absent"), &d));
    ck_assert_int_eq(d.v[d.n - 1].code, LM_E_NOINPUT);
    lm_diags_fini(&d);
}
END_TEST

START_TEST(grows_from_a_tiny_map_size)
{
    struct lm_map_opts o = { 0, 0, 65536 };     /* 64 KiB: full after a few hundred */
    struct lm_diags d;
    struct lm_map *m;
    char k[64], v[128];
    lm_datum kk, vv;
    unsigned long i, n = 0;
    struct stat st;

    lm_diags_init(&d);
    m = lm_map_create("lmdb", in_dir("big"), &o, &d);
    ck_assert_ptr_nonnull(m);
    for (i = 0; i < 50000; i++) {
        snprintf(k, sizeof k, "key%07lu.example.org", (i * 7919) % 50000);
        snprintf(v, sizeof v, "REJECT rule %lu with some text to fill the pages", i);
        kk = dat(k, strlen(k));
        vv = dat(v, strlen(v));
        ck_assert_int_eq(lm_map_put(m, &kk, &vv, LM_PUT_INSERT, &d), 0);
    }
    ck_assert_int_eq(lm_map_commit(m, &d), 0);
    lm_map_close(m);
    ck_assert_uint_eq(d.nerrors, 0);
    ck_assert_int_eq(stat(in_dir("big.lmdb"), &st), 0);
    ck_assert_int_gt(st.st_size, 65536 * 8);
    m = lm_map_open("lmdb", in_dir("big"), &d);
    ck_assert_ptr_nonnull(m);
    while (lm_map_next(m, &kk, &vv, &d) == 0)
        n++;
    ck_assert_uint_eq(n, 50000);
    snprintf(v, sizeof v, "REJECT rule %d with some text to fill the pages", 0);
    ck_assert(get_is(m, "key0000000.example.org", 22, v, strlen(v), &d));
    lm_map_close(m);
    ck_assert_str_eq(listing(), "big.lmdb");
    lm_diags_fini(&d);
}
END_TEST

START_TEST(abort_keeps_old_map_and_mode)
{
    struct lm_diags d;
    struct lm_map *m;
    struct stat st;

    lm_diags_init(&d);
    m = lm_map_create("lmdb", in_dir("map"), NULL, &d);
    ck_assert_int_eq(put(m, "a", "1", LM_PUT_INSERT, &d), 0);
    ck_assert_int_eq(lm_map_commit(m, &d), 0);
    lm_map_close(m);
    ck_assert_int_eq(chmod(in_dir("map.lmdb"), 0604), 0);

    m = lm_map_create("lmdb", in_dir("map"), NULL, &d);
    ck_assert_int_eq(put(m, "a", "2", LM_PUT_INSERT, &d), 0);
    ck_assert_int_eq(put(m, "b", "3", LM_PUT_INSERT, &d), 0);
    lm_map_close(m);            /* never committed: discarded */
    ck_assert_str_eq(listing(), "map.lmdb");
    m = lm_map_open("lmdb", in_dir("map"), &d);
    ck_assert(get_is(m, "a", 1, "1", 1, &d));
    ck_assert(!get_is(m, "b", 1, "3", 1, &d));
    lm_map_close(m);

    m = lm_map_create("lmdb", in_dir("map"), NULL, &d);
    ck_assert_int_eq(put(m, "a", "4", LM_PUT_INSERT, &d), 0);
    ck_assert_int_eq(lm_map_commit(m, &d), 0);
    lm_map_close(m);
    ck_assert_int_eq(stat(in_dir("map.lmdb"), &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0604);
    ck_assert_str_eq(listing(), "map.lmdb");
    ck_assert_uint_eq(d.nerrors, 0);
    lm_diags_fini(&d);
}
END_TEST

/* -a and -r through the compiler: the old records first, then the source. */
START_TEST(compile_append_and_replace)
{
    struct lm_compile_opts o;
    struct lm_diags d;
    struct lm_map *m;
    FILE *f;

    f = fopen(in_dir("src"), "w");
    fputs("a 1\nB 2\n", f);
    fclose(f);
    memset(&o, 0, sizeof o);
    o.type = "lmdb";
    o.flags = LM_C_NUL;
    lm_diags_init(&d);
    ck_assert_int_eq(lm_compile(in_dir("src"), &o, NULL, &d), 0);
    f = fopen(in_dir("src"), "w");
    fputs("c 3\nb 22\n", f);
    fclose(f);
    o.flags = LM_C_NUL | LM_C_APPEND;
    ck_assert_int_eq(lm_compile(in_dir("src"), &o, NULL, &d), -1);   /* b is there */
    ck_assert_int_eq(lm_diags_first_code(&d), LM_E_DUPLICATE);
    lm_diags_fini(&d);
    lm_diags_init(&d);
    o.flags = LM_C_NUL | LM_C_APPEND | LM_C_REPLACE;
    ck_assert_int_eq(lm_compile(in_dir("src"), &o, NULL, &d), 0);
    m = lm_map_open("lmdb", in_dir("src"), &d);
    ck_assert(get_is(m, "a\0", 2, "1\0", 2, &d));
    ck_assert(get_is(m, "b\0", 2, "22\0", 3, &d));
    ck_assert(get_is(m, "c\0", 2, "3\0", 2, &d));
    lm_map_close(m);
    ck_assert_str_eq(listing(), "src src.lmdb");
    ck_assert_uint_eq(d.nerrors, 0);
    lm_diags_fini(&d);
}
END_TEST

Suite *lmdb_suite(void);

Suite *
lmdb_suite(void)
{
    Suite *s = suite_create("lmdb");
    TCase *tc = tcase_create("backend");

    if (lm_map_type("lmdb") == NULL)
        return s;               /* built WITH_LMDB=0 */
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, round_trip_in_key_order);
    tcase_add_test(tc, limits_and_refusals);
    tcase_add_test(tc, grows_from_a_tiny_map_size);
    tcase_add_test(tc, abort_keeps_old_map_and_mode);
    tcase_add_test(tc, compile_append_and_replace);
    suite_add_tcase(s, tc);
    return s;
}
