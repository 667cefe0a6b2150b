/*
 * check_ifchanged.c - publishing only what changed: lm_atomic_commit with
 * LM_ATOMIC_IF_CHANGED (bytes, file by file, a set publishing only the
 * files that differ) and lm_compile with LM_C_IF_CHANGED (records, for
 * every map type; a missing, damaged or other-typed map is replaced; the
 * order of a key's copies counts with -d) and lm_convert with
 * LM_CV_IF_CHANGED (the report's changed, only the differing files of a
 * several-file format replaced, no output path refused).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libmap/atomic.h"
#include "libmap/compile.h"
#include "libmap/convert.h"

static char dir[64];

static void
setup(void)
{
    strcpy(dir, "/tmp/check_ifchanged.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
teardown(void)
{
    lm_atomic_remove_dir(dir);
}

static const char *
at(const char *name)
{
    static char path[4][128];
    static int next;
    char *p = path[next++ % 4];

    snprintf(p, sizeof path[0], "%s/%s", dir, name);
    return p;
}

static void
put_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fputs(text, f) >= 0, 1);
    ck_assert_int_eq(fclose(f), 0);
}

static ino_t
inode(const char *path)
{
    struct stat st;

    ck_assert_int_eq(stat(path, &st), 0);
    return st.st_ino;
}

/* Publish three files with these contents; return what commit returned. */
static int
publish3(const char *a, const char *b, const char *c)
{
    const char *finals[4];
    const char *text[3] = { a, b, c };
    struct lm_atomic *x;
    struct lm_diags d;
    size_t i;
    int rc;

    finals[0] = at("one");
    finals[1] = at("two");
    finals[2] = at("three");
    finals[3] = NULL;
    lm_diags_init(&d);
    x = lm_atomic_begin(finals, LM_ATOMIC_SET | LM_ATOMIC_IF_CHANGED, &d);
    ck_assert_ptr_nonnull(x);
    for (i = 0; i < 3; i++)
        ck_assert_int_eq(lm_atomic_write(x, i, text[i], strlen(text[i]), &d), 0);
    rc = lm_atomic_commit(x, &d);
    lm_atomic_end(x);
    ck_assert_uint_eq(d.nerrors, 0);
    lm_diags_fini(&d);
    return rc;
}

START_TEST(atomic_only_changed_files)
{
    ino_t i1, i2, i3;
    struct stat st;

    ck_assert_int_eq(publish3("a\n", "", "c\n"), 0);
    i1 = inode(at("one"));
    i2 = inode(at("two"));
    i3 = inode(at("three"));
    ck_assert_int_eq(chmod(at("two"), 0640), 0);
    /* the same bytes: nothing is touched, not even the mode */
    ck_assert_int_eq(publish3("a\n", "", "c\n"), LM_UNCHANGED);
    ck_assert(inode(at("one")) == i1 && inode(at("two")) == i2 && inode(at("three")) == i3);
    ck_assert_int_eq(stat(at("two"), &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0640);
    /* one file differs, by one byte of the same length: only it is replaced */
    ck_assert_int_eq(publish3("a\n", "", "C\n"), 0);
    ck_assert(inode(at("one")) == i1 && inode(at("two")) == i2);
    ck_assert(inode(at("three")) != i3);
    /* a missing file counts as changed; an empty one is written */
    ck_assert_int_eq(unlink(at("two")), 0);
    ck_assert_int_eq(publish3("a\n", "", "C\n"), 0);
    ck_assert_int_eq(stat(at("two"), &st), 0);
    ck_assert_int_eq(st.st_size, 0);
    ck_assert(inode(at("one")) == i1);
    /* a longer file with the same start is different */
    ck_assert_int_eq(publish3("a\nb\n", "", "C\n"), 0);
    ck_assert(inode(at("one")) != i1);
    /* a target that is not a regular file is never taken for "the same" */
    ck_assert_int_eq(unlink(at("three")), 0);
    ck_assert_int_eq(symlink("one", at("three")), 0);
    {
        const char *finals[2] = { at("three"), NULL };
        struct lm_diags d;
        struct lm_atomic *x;
        lm_diags_init(&d);
        x = lm_atomic_begin(finals, LM_ATOMIC_IF_CHANGED | LM_ATOMIC_UNSAFE, &d);
        ck_assert_ptr_nonnull(x);
        ck_assert_int_eq(lm_atomic_write(x, 0, "a\nb\n", 4, &d), 0);
        ck_assert_int_eq(lm_atomic_commit(x, &d), 0);
        lm_atomic_end(x);
        lm_diags_fini(&d);
    }
    ck_assert_int_eq(lstat(at("three"), &st), 0);
    ck_assert(S_ISREG(st.st_mode));
}
END_TEST

static int
compile(const char *type, unsigned flags, const char *text, struct lm_diags *d)
{
    struct lm_compile_opts o;

    memset(&o, 0, sizeof o);
    o.type = type;
    o.flags = flags | LM_C_IF_CHANGED;
    put_file(at("access"), text);
    return lm_compile(at("access"), &o, NULL, d);
}

static const char *const map_types[] = { "hash", "btree", "dbm", "gdbm", "cdb", "lmdb" };
static const char *const map_files[] = { "access.db", "access.db", "access.pag",
                                         "access.gdbm", "access.cdb", "access.lmdb" };

START_TEST(compile_every_type)
{
    const char *type = map_types[_i], *file = map_files[_i];
    struct lm_diags d;
    struct stat st;
    ino_t ino;

    if (lm_map_type(type) == NULL)
        return;
    lm_diags_init(&d);
    ck_assert_int_eq(compile(type, 0, "b 2\na 1\nc 3\n", &d), 0);
    ino = inode(at(file));
    ck_assert_int_eq(chmod(at(file), 0600), 0);
    /* the same records in another order: another layout, the same map */
    ck_assert_int_eq(compile(type, 0, "c 3\na 1\nb 2\n", &d), LM_UNCHANGED);
    ck_assert(inode(at(file)) == ino);
    ck_assert_int_eq(stat(at(file), &st), 0);
    ck_assert_uint_eq(st.st_mode & 07777, 0600);
    /* a value changes; a record more; a record less */
    ck_assert_int_eq(compile(type, 0, "c 3\na 1\nb 20\n", &d), 0);
    ck_assert(inode(at(file)) != ino);
    ck_assert_int_eq(compile(type, 0, "c 3\na 1\nb 20\nd 4\n", &d), 0);
    ck_assert_int_eq(compile(type, 0, "c 3\na 1\nb 20\nd 4\n", &d), LM_UNCHANGED);
    ck_assert_int_eq(compile(type, 0, "c 3\na 1\nb 20\n", &d), 0);
    /* NUL terminators are part of the records (-N) */
    ck_assert_int_eq(compile(type, LM_C_NUL, "c 3\na 1\nb 20\n", &d), 0);
    ck_assert_int_eq(compile(type, LM_C_NUL, "c 3\na 1\nb 20\n", &d), LM_UNCHANGED);
    /* a damaged map in place is replaced, with a note, not an error */
    put_file(at(file), "this is not a map of any kind, just some text\n");
    ck_assert_int_eq(compile(type, LM_C_NUL, "c 3\na 1\nb 20\n", &d), 0);
    ck_assert_uint_eq(d.nerrors, 0);
    ck_assert_int_eq(compile(type, LM_C_NUL, "c 3\na 1\nb 20\n", &d), LM_UNCHANGED);
    /* a missing map is written */
    ck_assert_int_eq(unlink(at(file)), 0);
    ck_assert_int_eq(compile(type, LM_C_NUL, "c 3\na 1\nb 20\n", &d), 0);
    ck_assert_uint_eq(d.nerrors, 0);
    lm_diags_fini(&d);
}
END_TEST

START_TEST(compile_other_type_replaced)
{
    struct lm_diags d;
    ino_t ino;
    size_t i;
    int noted = 0;

    if (lm_map_type("btree") == NULL)
        return;
    lm_diags_init(&d);
    ck_assert_int_eq(compile("btree", 0, "a 1\n", &d), 0);
    ino = inode(at("access.db"));
    /* the same records in a hash file: access.db is another map now */
    ck_assert_int_eq(compile("hash", 0, "a 1\n", &d), 0);
    ck_assert(inode(at("access.db")) != ino);
    for (i = 0; i < d.n; i++)
        noted |= d.v[i].sev == LM_NOTE && strstr(d.v[i].msg, "replacing it") != NULL;
    ck_assert(noted);
    ck_assert_int_eq(compile("hash", 0, "a 1\n", &d), LM_UNCHANGED);
    ck_assert_uint_eq(d.nerrors, 0);
    lm_diags_fini(&d);
}
END_TEST

/* -d: the copies of a key are compared in order (lookups see the first). */
START_TEST(compile_duplicates_in_order)
{
    static const char *const types[] = { "hash", "btree", "cdb" };
    struct lm_diags d;

    if (lm_map_type(types[_i]) == NULL)
        return;
    lm_diags_init(&d);
    ck_assert_int_eq(compile(types[_i], LM_C_DUPS, "k 1\nk 2\nz 0\n", &d), 0);
    ck_assert_int_eq(compile(types[_i], LM_C_DUPS, "z 0\nk 1\nk 2\n", &d), LM_UNCHANGED);
    ck_assert_int_eq(compile(types[_i], LM_C_DUPS, "k 2\nk 1\nz 0\n", &d), 0);
    ck_assert_int_eq(compile(types[_i], LM_C_DUPS, "k 2\nk 1\nk 1\nz 0\n", &d), 0);
    ck_assert_int_eq(compile(types[_i], LM_C_DUPS, "k 2\nk 1\nz 0\n", &d), 0);
    /* the same count of records, one key's copies traded for another key */
    ck_assert_int_eq(compile(types[_i], LM_C_DUPS, "k 2\nk 2\nz 0\n", &d), 0);
    ck_assert_uint_eq(d.nerrors, 0);
    lm_diags_fini(&d);
}
END_TEST

/* -a: the old records are part of the new map; appending nothing new
 * changes nothing. */
START_TEST(compile_append)
{
    struct lm_diags d;

    lm_diags_init(&d);
    ck_assert_int_eq(compile("cdb", 0, "a 1\n", &d), 0);
    ck_assert_int_eq(compile("cdb", LM_C_APPEND, "", &d), LM_UNCHANGED);
    ck_assert_int_eq(compile("cdb", LM_C_APPEND, "b 2\n", &d), 0);
    ck_assert_uint_eq(d.nerrors, 0);
    lm_diags_fini(&d);
}
END_TEST

static int
convert(const char *to, const char *out, const char *text, struct lm_convert_report *rep,
        struct lm_diags *d)
{
    const char *in[1];
    struct lm_convert_opts o;

    in[0] = at("policy.txt");
    put_file(in[0], text);
    memset(&o, 0, sizeof o);
    o.to = to;
    o.output = out;
    o.flags = LM_CV_IF_CHANGED;
    lm_convert_report_init(rep);
    return lm_convert(in, 1, &o, stdout, rep, d);
}

START_TEST(convert_qmail_set)
{
    static const char policy[] = "accept domain example.com\n"
                                 "connect net 172.16.5.0/24 relay\n"
                                 "from address spam@hacker.com reject\n";
    struct lm_convert_report rep;
    struct lm_diags d;
    ino_t smtp, rcpt, bad;
    char qdir[128];

    snprintf(qdir, sizeof qdir, "%s/qmail", dir);
    lm_diags_init(&d);
    ck_assert_int_eq(convert("qmail", qdir, policy, &rep, &d), 0);
    ck_assert(rep.written && rep.changed);
    lm_convert_report_fini(&rep);
    smtp = inode(at("qmail/tcp.smtp"));
    rcpt = inode(at("qmail/rcpthosts"));
    bad = inode(at("qmail/badmailfrom"));
    ck_assert_int_eq(convert("qmail", qdir, policy, &rep, &d), LM_UNCHANGED);
    ck_assert(rep.written && !rep.changed);
    lm_convert_report_fini(&rep);
    ck_assert(inode(at("qmail/tcp.smtp")) == smtp && inode(at("qmail/rcpthosts")) == rcpt
              && inode(at("qmail/badmailfrom")) == bad);
    /* a sender rule: badmailfrom alone */
    ck_assert_int_eq(convert("qmail", qdir, "accept domain example.com\n"
                             "connect net 172.16.5.0/24 relay\n"
                             "from address spam@cracker.example reject\n", &rep, &d), 0);
    ck_assert(rep.changed);
    lm_convert_report_fini(&rep);
    ck_assert(inode(at("qmail/tcp.smtp")) == smtp && inode(at("qmail/rcpthosts")) == rcpt);
    ck_assert(inode(at("qmail/badmailfrom")) != bad);
    ck_assert_uint_eq(d.nerrors, 0);
    /* a single file needs a path to compare with */
    ck_assert_int_eq(convert("sendmail", NULL, policy, &rep, &d), -1);
    ck_assert_int_eq(lm_diags_first_code(&d), LM_E_USAGE);
    lm_convert_report_fini(&rep);
    lm_diags_fini(&d);
}
END_TEST

/* A conversion refused (a sender rule Exchange cannot hold) touches nothing. */
START_TEST(convert_refused_touches_nothing)
{
    struct lm_convert_report rep;
    struct lm_diags d;
    char reg[128];
    ino_t ino;

    snprintf(reg, sizeof reg, "%s/relay.reg", dir);
    lm_diags_init(&d);
    ck_assert_int_eq(convert("exchange", reg, "connect net 10.0.0.0/8 relay\n", &rep, &d), 0);
    lm_convert_report_fini(&rep);
    ino = inode(reg);
    ck_assert_int_eq(convert("exchange", reg, "connect net 10.0.0.0/8 relay\n"
                             "from address a@b.example reject\n", &rep, &d), -1);
    ck_assert(!rep.written && !rep.changed);
    lm_convert_report_fini(&rep);
    ck_assert(inode(reg) == ino);
    lm_diags_fini(&d);
}
END_TEST

Suite *ifchanged_suite(void);

Suite *
ifchanged_suite(void)
{
    Suite *s = suite_create("ifchanged");
    TCase *tc = tcase_create("ifchanged");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, atomic_only_changed_files);
    tcase_add_loop_test(tc, compile_every_type, 0, 6);
    tcase_add_test(tc, compile_other_type_replaced);
    tcase_add_loop_test(tc, compile_duplicates_in_order, 0, 3);
    tcase_add_test(tc, compile_append);
    tcase_add_test(tc, convert_qmail_set);
    tcase_add_test(tc, convert_refused_touches_nothing);
    suite_add_tcase(s, tc);
    return s;
}
