/*
 * check_main.c - runs every Check suite of the unit tests.  The suite list
 * is generated from the check_<module>.c file names (suites.h).
 * CK_RUN_SUITE=name runs one suite; CK_FORK=no for a debugger.
 */
#include <check.h>
#include <stdlib.h>

#define LM_SUITE(name) Suite *name##_suite(void);
#include "suites.h"
#undef LM_SUITE

int
main(void)
{
    SRunner *sr = srunner_create(NULL);
    int failed;

#define LM_SUITE(name) srunner_add_suite(sr, name##_suite());
#include "suites.h"
#undef LM_SUITE
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
