/*
 * check_limits.c - hostile input at the library level: the source line
 * limit, a NUL byte in a key, the cdb reader on cut and damaged files.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libmap/atomic.h"
#include "libmap/compile.h"
#include "libmap/source.h"

Suite *limits_suite(void);

START_TEST(line_limit)
{
    static const char text[] = "short\n0123456789abcdefghij\nafter\n";
    char path[] = "/tmp/check_limits.XXXXXX";
    struct lm_diags d;
    struct lm_source *s;
    struct lm_line ln;
    int fd = mkstemp(path);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
    close(fd);
    lm_diags_init(&d);
    s = lm_source_open(path, &d);
    ck_assert_ptr_nonnull(s);
    lm_source_set_max_line(s, 10);
    ck_assert_int_eq(lm_source_next(s, &ln, &d), 0);
    ck_assert_int_eq(lm_source_next(s, &ln, &d), -1);
    ck_assert_int_eq(lm_diags_first_code(&d), LM_E_SYNTAX);
    ck_assert_uint_eq(d.v[0].line, 2);
    /* reading stops: nothing after the long line */
    ck_assert_int_eq(lm_source_next(s, &ln, &d), LM_NOTFOUND);
    lm_source_close(s);
    lm_diags_fini(&d);
    unlink(path);
}
END_TEST

/* Compile SRC into a cdb in a scratch dir; returns the compile's result. */
static int
limits_compile(const char *dir, const char *src, size_t len, unsigned flags,
               struct lm_diags *d)
{
    char in[256], out[256];
    struct lm_compile_opts o;
    FILE *f;

    snprintf(in, sizeof in, "%s/src", dir);
    snprintf(out, sizeof out, "%s/map", dir);
    f = fopen(in, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(src, 1, len, f), len);
    fclose(f);
    memset(&o, 0, sizeof o);
    o.type = "cdb";
    o.output = out;
    o.flags = flags;
    return lm_compile(in, &o, NULL, d);
}

START_TEST(nul_in_key)
{
    static const char src[] = "good OK\nba\0d REJECT\n";
    char dir[] = "/tmp/check_limits.XXXXXX";
    struct lm_diags d;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    lm_diags_init(&d);
    ck_assert_int_eq(limits_compile(dir, src, sizeof src - 1, 0, &d), -1);
    ck_assert_int_eq(lm_diags_first_code(&d), LM_E_SYNTAX);
    ck_assert_uint_eq(d.v[0].line, 2);
    ck_assert_uint_eq(d.v[0].col, 3);
    lm_diags_fini(&d);
    lm_atomic_remove_dir(dir);
}
END_TEST

/* Cut a good cdb at every length past its header (and a few before it):
 * opening or listing must fail, never
 * succeed with fewer records. */
START_TEST(cdb_cut)
{
    static const char src[] = "a 1\nb 2\nc 3\nd 4\ne 5\n";
    char dir[] = "/tmp/check_limits.XXXXXX", path[256], name[256];
    struct lm_diags d;
    char buf[8192];
    ssize_t size;
    int fd, cut;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    lm_diags_init(&d);
    ck_assert_int_eq(limits_compile(dir, src, sizeof src - 1, 0, &d), 0);
    snprintf(path, sizeof path, "%s/map.cdb", dir);
    snprintf(name, sizeof name, "%s/map", dir);
    fd = open(path, O_RDONLY);
    size = read(fd, buf, sizeof buf);
    close(fd);
    ck_assert_int_gt(size, 2048);
    for (cut = 0; cut < size; cut += cut < 2040 ? 97 : 1) {
        struct lm_map *m;
        lm_datum k, v;
        int rc = 0;
        fd = open(path, O_WRONLY | O_TRUNC);
        ck_assert_int_eq(write(fd, buf, (size_t)cut), cut);
        close(fd);
        if ((m = lm_map_open("cdb", name, &d)) != NULL) {
            while ((rc = lm_map_next(m, &k, &v, &d)) == 0)
                ;
            lm_map_close(m);
        }
        ck_assert_msg(m == NULL || rc < 0, "a cdb cut at %d bytes reads cleanly", cut);
    }
    lm_diags_fini(&d);
    lm_atomic_remove_dir(dir);
}
END_TEST

Suite *
limits_suite(void)
{
    Suite *s = suite_create("limits");
    TCase *tc = tcase_create("input");

    tcase_add_test(tc, line_limit);
    tcase_add_test(tc, nul_in_key);
    suite_add_tcase(s, tc);
    tc = tcase_create("damaged");
    tcase_add_test(tc, cdb_cut);
    suite_add_tcase(s, tc);
    return s;
}
