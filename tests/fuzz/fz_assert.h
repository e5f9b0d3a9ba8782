/*
 * fz_assert.h - the check every fuzz target makes: FZ_ASSERT(cond) aborts
 * (so libFuzzer saves the input, and a replay fails) saying which check
 * failed.  Unlike assert(), it stays in release-like builds.
 */
#ifndef SL_TESTS_FZ_ASSERT_H
#define SL_TESTS_FZ_ASSERT_H

#include <stdio.h>
#include <stdlib.h>

#define FZ_ASSERT(cond)                                                                    \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, #cond);  \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

#endif
