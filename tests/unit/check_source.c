/*
 * check_source.c - the line reader: line splitting, positions, BOM, CR,
 * long lines, rewind, standard-input style reading.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libmap/source.h"

static char *
write_temp(const void *data, size_t len)
{
    static char path[64];
    int fd;

    strcpy(path, "/tmp/check_source.XXXXXX");
    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
    close(fd);
    return path;
}

START_TEST(lines_and_positions)
{
    const char text[] = "one\n\ntwo\r\nthree";
    struct lm_diags d;
    struct lm_source *s;
    struct lm_line ln;
    char *path = write_temp(text, sizeof text - 1);

    lm_diags_init(&d);
    s = lm_source_open(path, &d);
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(lm_source_next(s, &ln, &d), 0);
    ck_assert_uint_eq(ln.len, 3);
    ck_assert(memcmp(ln.text, "one", 3) == 0);
    ck_assert_uint_eq(ln.pos.line, 1);
    ck_assert_str_eq(ln.pos.file, path);
    ck_assert_int_eq(lm_source_next(s, &ln, &d), 0);
    ck_assert_uint_eq(ln.len, 0);
    ck_assert_int_eq(lm_source_next(s, &ln, &d), 0);
    ck_assert_uint_eq(ln.len, 4);            /* the CR stays: the syntax decides */
    ck_assert(memcmp(ln.text, "two\r", 4) == 0);
    ck_assert_int_eq(lm_source_next(s, &ln, &d), 0);
    ck_assert_uint_eq(ln.len, 5);
    ck_assert_int_eq(ln.last, 1);
    ck_assert_uint_eq(ln.pos.line, 4);
    ck_assert_int_eq(lm_source_next(s, &ln, &d), LM_NOTFOUND);
    ck_assert_int_eq(lm_source_rewind(s), 0);
    ck_assert_int_eq(lm_source_next(s, &ln, &d), 0);
    ck_assert_uint_eq(ln.pos.line, 1);
    ck_assert_uint_eq(d.nerrors, 0);
    lm_source_close(s);
    unlink(path);
    lm_diags_fini(&d);
}
END_TEST

START_TEST(bom_removed_and_reported)
{
    const char text[] = "\xef\xbb\xbfkey value\n";
    struct lm_diags d;
    struct lm_source *s;
    struct lm_line ln;

    lm_diags_init(&d);
    s = lm_source_mem("mem", text, sizeof text - 1, &d);
    ck_assert_int_eq(lm_source_next(s, &ln, &d), 0);
    ck_assert_uint_eq(ln.len, 9);
    ck_assert(memcmp(ln.text, "key value", 9) == 0);
    ck_assert_int_eq(lm_source_had_bom(s), 1);
    lm_source_close(s);
    lm_diags_fini(&d);
}
END_TEST

START_TEST(long_lines_cross_blocks)
{
    /* Lines longer than the reader's block, and many lines across blocks. */
    size_t big = 3u << 20, i, n = 0, total;
    char *text = malloc(big + 200000 * 8);
    struct lm_diags d;
    struct lm_source *s;
    struct lm_line ln;
    char *path;

    memset(text, 'x', big);
    text[big] = '\n';
    total = big + 1;
    for (i = 0; i < 200000; i++)
        total += (size_t)sprintf(text + total, "k%05zu\n", i % 100000);
    path = write_temp(text, total);
    lm_diags_init(&d);
    s = lm_source_open(path, &d);
    ck_assert_int_eq(lm_source_next(s, &ln, &d), 0);
    ck_assert_uint_eq(ln.len, big);
    while (lm_source_next(s, &ln, &d) == 0) {
        char want[16];
        sprintf(want, "k%05zu", n % 100000);
        ck_assert_uint_eq(ln.len, 6);
        ck_assert(memcmp(ln.text, want, 6) == 0);
        n++;
    }
    ck_assert_uint_eq(n, 200000);
    lm_source_close(s);
    unlink(path);
    free(text);
    lm_diags_fini(&d);
}
END_TEST

START_TEST(missing_file)
{
    struct lm_diags d;

    lm_diags_init(&d);
    ck_assert_ptr_null(lm_source_open("/nonexistent/access", &d));
    ck_assert_uint_eq(d.nerrors, 1);
    ck_assert_int_eq(d.v[0].code, LM_E_NOINPUT);
    ck_assert_ptr_nonnull(strstr(d.v[0].msg, "/nonexistent/access"));
    lm_diags_fini(&d);
}
END_TEST

START_TEST(empty_and_binary)
{
    const char text[] = "a\0b\n";
    struct lm_diags d;
    struct lm_source *s;
    struct lm_line ln;

    lm_diags_init(&d);
    s = lm_source_mem("empty", "", 0, &d);
    ck_assert_int_eq(lm_source_next(s, &ln, &d), LM_NOTFOUND);
    lm_source_close(s);
    s = lm_source_mem("bin", text, sizeof text - 1, &d);
    ck_assert_int_eq(lm_source_next(s, &ln, &d), 0);
    ck_assert_uint_eq(ln.len, 3);
    ck_assert(memcmp(ln.text, "a\0b", 3) == 0);
    lm_source_close(s);
    lm_diags_fini(&d);
}
END_TEST

/* The line limit holds for memory input too (relayconv reads files whole):
 * a line at the limit is read, a longer one is an error at its line and
 * reading stops. */
START_TEST(max_line_in_memory)
{
    const char text[] = "12345678\n123456789\nnever\n";
    struct lm_diags d;
    struct lm_source *s;
    struct lm_line ln;

    lm_diags_init(&d);
    s = lm_source_mem("mem", text, sizeof text - 1, &d);
    lm_source_set_max_line(s, 8);
    ck_assert_int_eq(lm_source_next(s, &ln, &d), 0);
    ck_assert_uint_eq(ln.len, 8);
    ck_assert_int_eq(lm_source_next(s, &ln, &d), -1);
    ck_assert_uint_eq(d.nerrors, 1);
    ck_assert_uint_eq(d.v[0].line, 2);
    ck_assert_int_eq(d.v[0].code, LM_E_SYNTAX);
    ck_assert_int_eq(lm_source_next(s, &ln, &d), LM_NOTFOUND);
    lm_source_close(s);
    lm_diags_fini(&d);
}
END_TEST

Suite *source_suite(void);

Suite *
source_suite(void)
{
    Suite *s = suite_create("source");
    TCase *tc = tcase_create("read");

    tcase_add_test(tc, lines_and_positions);
    tcase_add_test(tc, bom_removed_and_reported);
    tcase_add_test(tc, long_lines_cross_blocks);
    tcase_add_test(tc, missing_file);
    tcase_add_test(tc, empty_and_binary);
    tcase_add_test(tc, max_line_in_memory);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}
