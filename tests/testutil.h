/* tests/testutil.h: what every Check suite of mesogif shares: the runner main and small helpers.
 * Each tests/test_<concept>.c defines `Suite *<concept>_suite(void)` and ends with
 * MG_TEST_MAIN(<concept>_suite); `make test` builds and runs every tests/test_*.c. */
#ifndef MESOGIF_TESTS_TESTUTIL_H
#define MESOGIF_TESTS_TESTUTIL_H

#include <check.h>
#include <stdlib.h>

/* The runner exits 1 when any test failed, so make sees failures. */
#define MG_TEST_MAIN(suite_fn)                                   \
    int main(void)                                               \
    {                                                            \
        SRunner *sr = srunner_create(suite_fn());                \
        srunner_run_all(sr, CK_NORMAL);                          \
        int nfail = srunner_ntests_failed(sr);                   \
        srunner_free(sr);                                        \
        return nfail == 0 ? EXIT_SUCCESS : EXIT_FAILURE;         \
    }

#endif /* MESOGIF_TESTS_TESTUTIL_H */
