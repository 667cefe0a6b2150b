/*
 * check_map.c - every backend: round trip, insert/replace/append, binary
 * bytes, empty values, iteration; atomic publication: abort leaves the old
 * map and no temporaries, mode kept, lock, symbolic link refused.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libmap/atomic.h"
#include "libmap/map.h"
#include "tests/unit/scratch.h"

static size_t
dir_entries(void)
{
    DIR *dp = opendir(dir);
    struct dirent *e;
    size_t n = 0;

    while ((e = readdir(dp)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(dp);
    return n;
}

static void
put_ok(struct lm_map *m, const char *k, const char *v, struct lm_diags *d)
{
    lm_datum kk = dat(k, strlen(k)), vv = dat(v, strlen(v));

    ck_assert_int_eq(lm_map_put(m, &kk, &vv, LM_PUT_INSERT, d), 0);
}

static int
get_is(struct lm_map *m, const void *k, size_t kl, const void *v, size_t vl, struct lm_diags *d)
{
    lm_datum kk = dat(k, kl), got;

    if (lm_map_get(m, &kk, &got, d) != 0)
        return 0;
    ck_assert_ptr_nonnull(got.data);    /* even for an empty value */
    return got.len == vl && memcmp(got.data, v, vl) == 0;
}

START_TEST(round_trip)
{
    const char *type = lm_map_types()[_i]->name;
    char longkey[4000], binkey[] = "b\0\xff\n", binval[] = "\0\x01v";
    struct lm_diags d;
    struct lm_map *m;
    lm_datum k, v;
    unsigned long n = 0;
    /* lmdb keys hold at most 511 bytes (check_lmdb.c tests the refusal) */
    size_t longlen = strcmp(type, "lmdb") == 0 ? 511 : sizeof longkey;

    lm_diags_init(&d);
    memset(longkey, 'k', sizeof longkey);
    m = lm_map_create(type, in_dir("access"), NULL, &d);
    ck_assert_msg(m != NULL, "%s: %s", type, d.n ? d.v[0].msg : "");
    put_ok(m, "spam@hacker.com", "REJECT", &d);
    put_ok(m, "172.16", "RELAY", &d);
    put_ok(m, "empty", "", &d);
    k = dat(longkey, longlen);
    v = dat("long", 4);
    ck_assert_int_eq(lm_map_put(m, &k, &v, LM_PUT_INSERT, &d), 0);
    k = dat(binkey, 4);
    v = dat(binval, 3);
    ck_assert_int_eq(lm_map_put(m, &k, &v, LM_PUT_INSERT, &d), 0);
    /* an existing key: kept by INSERT, replaced by REPLACE */
    k = dat("172.16", 6);
    v = dat("REJECT", 6);
    ck_assert_int_eq(lm_map_put(m, &k, &v, LM_PUT_INSERT, &d), LM_EXISTS);
    k = dat("spam@hacker.com", 15);
    v = dat("DISCARD", 7);
    ck_assert_int_eq(lm_map_put(m, &k, &v, LM_PUT_REPLACE, &d), 0);
    ck_assert_int_eq(lm_map_commit(m, &d), 0);
    lm_map_close(m);
    ck_assert_uint_eq(d.nerrors, 0);

    m = lm_map_open(type, in_dir("access"), &d);
    ck_assert_msg(m != NULL, "%s: %s", type, d.n ? d.v[0].msg : "");
    ck_assert(get_is(m, "172.16", 6, "RELAY", 5, &d));
    ck_assert(get_is(m, "spam@hacker.com", 15, "DISCARD", 7, &d));
    ck_assert(get_is(m, "empty", 5, "", 0, &d));
    ck_assert(get_is(m, longkey, longlen, "long", 4, &d));
    ck_assert(get_is(m, binkey, 4, binval, 3, &d));
    k = dat("absent", 6);
    ck_assert_int_eq(lm_map_get(m, &k, &v, &d), LM_NOTFOUND);
    while (lm_map_next(m, &k, &v, &d) == 0)
        n++;
    ck_assert_uint_eq(n, 5);
    lm_map_close(m);
    ck_assert_uint_eq(d.nerrors, 0);
    lm_diags_fini(&d);
}
END_TEST

START_TEST(abort_keeps_old_map)
{
    const char *type = lm_map_types()[_i]->name;
    struct lm_diags d;
    struct lm_map *m;
    size_t before;

    lm_diags_init(&d);
    m = lm_map_create(type, in_dir("map"), NULL, &d);
    put_ok(m, "a", "1", &d);
    ck_assert_int_eq(lm_map_commit(m, &d), 0);
    lm_map_close(m);
    before = dir_entries();

    m = lm_map_create(type, in_dir("map"), NULL, &d);
    put_ok(m, "a", "2", &d);
    put_ok(m, "b", "3", &d);
    lm_map_close(m);            /* never committed: discarded */
    ck_assert_uint_eq(dir_entries(), before);

    m = lm_map_open(type, in_dir("map"), &d);
    ck_assert(get_is(m, "a", 1, "1", 1, &d));
    ck_assert(!get_is(m, "b", 1, "3", 1, &d));
    lm_map_close(m);
    lm_diags_fini(&d);
}
END_TEST

START_TEST(duplicates_when_asked)
{
    static const char *const types[] = { "hash", "btree", "cdb" };
    const char *type = types[_i];
    struct lm_map_opts o = { LM_CREATE_DUPS, 0, 0 };
    struct lm_diags d;
    struct lm_map *m;
    lm_datum k = dat("k", 1), v1 = dat("1", 1), v2 = dat("2", 1), g;
    int n = 0;

    if (lm_map_type(type) == NULL)
        return;
    lm_diags_init(&d);
    m = lm_map_create(type, in_dir("dups"), &o, &d);
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(lm_map_put(m, &k, &v1, LM_PUT_APPEND, &d), 0);
    ck_assert_int_eq(lm_map_put(m, &k, &v2, LM_PUT_APPEND, &d), 0);
    ck_assert_int_eq(lm_map_commit(m, &d), 0);
    lm_map_close(m);
    m = lm_map_open(type, in_dir("dups"), &d);
    while (lm_map_next(m, &k, &g, &d) == 0)
        n++;
    ck_assert_int_eq(n, 2);
    k = dat("k", 1);
    ck_assert(get_is(m, "k", 1, "1", 1, &d));   /* the first one is seen */
    lm_map_close(m);
    lm_diags_fini(&d);
}
END_TEST

START_TEST(mode_is_kept)
{
    struct lm_diags d;
    struct lm_map *m;
    struct stat st;

    lm_diags_init(&d);
    m = lm_map_create("cdb", in_dir("m"), NULL, &d);
    put_ok(m, "a", "1", &d);
    ck_assert_int_eq(lm_map_commit(m, &d), 0);
    lm_map_close(m);
    ck_assert_int_eq(chmod(in_dir("m.cdb"), 0604), 0);
    m = lm_map_create("cdb", in_dir("m"), NULL, &d);
    put_ok(m, "a", "2", &d);
    ck_assert_int_eq(lm_map_commit(m, &d), 0);
    lm_map_close(m);
    ck_assert_int_eq(stat(in_dir("m.cdb"), &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0604);
    lm_diags_fini(&d);
}
END_TEST

START_TEST(lock_and_symlink)
{
    struct lm_map_opts o = { LM_CREATE_NOWAIT, 0, 0 };
    struct lm_diags d;
    struct lm_map *a, *b;

    int ready[2], done[2];
    char c;
    pid_t pid;

    /* Record locks do not conflict inside one process: hold it in a child. */
    ck_assert_int_eq(pipe(ready), 0);
    ck_assert_int_eq(pipe(done), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        lm_diags_init(&d);
        a = lm_map_create("cdb", in_dir("l"), NULL, &d);
        (void)!write(ready[1], a ? "y" : "n", 1);
        (void)!read(done[0], &c, 1);
        lm_map_close(a);
        _exit(0);
    }
    ck_assert_int_eq(read(ready[0], &c, 1), 1);
    ck_assert_int_eq(c, 'y');
    lm_diags_init(&d);
    b = lm_map_create("cdb", in_dir("l"), &o, &d);
    ck_assert_ptr_null(b);
    ck_assert_int_eq(lm_diags_first_code(&d), LM_E_BUSY);
    lm_diags_fini(&d);
    ck_assert_int_eq(write(done[1], "x", 1), 1);
    waitpid(pid, NULL, 0);
    lm_diags_init(&d);
    b = lm_map_create("cdb", in_dir("l"), &o, &d);     /* free again */
    ck_assert_ptr_nonnull(b);
    lm_map_close(b);
    lm_diags_fini(&d);

    lm_diags_init(&d);
    ck_assert_int_eq(symlink("/etc/passwd", in_dir("s.cdb")), 0);
    ck_assert_ptr_null(lm_map_create("cdb", in_dir("s"), NULL, &d));
    ck_assert_int_eq(lm_diags_first_code(&d), LM_E_CREATE);
    lm_diags_fini(&d);

    lm_diags_init(&d);
    ck_assert_ptr_null(lm_map_create("hash", "/nonexistent/dir/map", NULL, &d));
    ck_assert_int_eq(lm_diags_first_code(&d), LM_E_CREATE);
    ck_assert_ptr_null(lm_map_create("nosuchtype", in_dir("x"), NULL, &d));
    ck_assert_int_eq(d.v[d.n - 1].code, LM_E_UNSUPPORTED);
    ck_assert_ptr_null(lm_map_open("cdb", in_dir("absent"), &d));
    ck_assert_int_eq(d.v[d.n - 1].code, LM_E_NOINPUT);
    lm_diags_fini(&d);
}
END_TEST

START_TEST(stale_temporaries_removed)
{
    struct lm_diags d;
    struct lm_map *m;
    char stale[128];

    /* What a run killed with -9 leaves: a private directory with a file. */
    snprintf(stale, sizeof stale, "%s/.k.cdb.AbC123", dir);
    ck_assert_int_eq(mkdir(stale, 0700), 0);
    strcat(stale, "/k.cdb");
    fclose(fopen(stale, "w"));
    lm_diags_init(&d);
    m = lm_map_create("cdb", in_dir("k"), NULL, &d);
    put_ok(m, "a", "1", &d);
    ck_assert_int_eq(lm_map_commit(m, &d), 0);
    lm_map_close(m);
    ck_assert_uint_eq(dir_entries(), 1);        /* only k.cdb */
    lm_diags_fini(&d);
}
END_TEST

START_TEST(names_and_types)
{
    char *p;

    p = lm_map_path("hash", "access");
    ck_assert_str_eq(p, "access.db");
    free(p);
    p = lm_map_path("hash", "access.db");
    ck_assert_str_eq(p, "access.db");
    free(p);
    p = lm_map_path("dbm", "access.pag");
    ck_assert_str_eq(p, "access.dir");
    free(p);
    ck_assert_str_eq(lm_map_guess_type("x.cdb"), "cdb");
    ck_assert_str_eq(lm_map_guess_type("x.pag"), "dbm");
    ck_assert_ptr_null(lm_map_guess_type("x.db"));
}
END_TEST

Suite *map_suite(void);

Suite *
map_suite(void)
{
    Suite *s = suite_create("map");
    TCase *tc = tcase_create("backends");
    TCase *ta = tcase_create("atomic");
    int ntypes = 0;

    while (lm_map_types()[ntypes] != NULL)
        ntypes++;
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, round_trip, 0, ntypes);
    tcase_add_loop_test(tc, duplicates_when_asked, 0, 3);
    tcase_add_test(tc, names_and_types);
    suite_add_tcase(s, tc);
    tcase_add_checked_fixture(ta, setup, teardown);
    tcase_add_loop_test(ta, abort_keeps_old_map, 0, ntypes);
    tcase_add_test(ta, mode_is_kept);
    tcase_add_test(ta, lock_and_symlink);
    tcase_add_test(ta, stale_temporaries_removed);
    suite_add_tcase(s, ta);
    return s;
}
