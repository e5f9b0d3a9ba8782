/*
 * test.h - the unit-test harness: one binary per stage, one function per
 * case.
 *
 *     TEST(parses_dates) { CHECK(sl_parse_date("2026-02-28", 10, &d) == 0); }
 *
 * Each case prints "ok <name>", "FAIL <name>: <file>:<line>: <check>", or
 * "skip <name>: <why>" when it cannot run here (SKIP: a server it needs is
 * not configured); tests/run.sh counts them.  A case stops at its first
 * failed check, or at SKIP.
 * Include this from exactly one .c file per binary, after the code under
 * test (which may be #included to reach its statics).
 */
#ifndef SL_TEST_H
#define SL_TEST_H

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct test_case {
    const char *name;
    void (*fn)(void);
};

#define MAX_TESTS 512
static struct test_case test_cases[MAX_TESTS];
static int test_count;
static jmp_buf test_jmp;
static char test_why[512];

#define TEST(name)                                                                    \
    static void test_##name(void);                                                    \
    __attribute__((constructor)) static void register_##name(void)                    \
    {                                                                                 \
        if (test_count < MAX_TESTS)                                                   \
            test_cases[test_count++] = (struct test_case){#name, test_##name};        \
    }                                                                                 \
    static void test_##name(void)

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            snprintf(test_why, sizeof(test_why), "%s:%d: %s", __FILE__, __LINE__,     \
                     #cond);                                                          \
            longjmp(test_jmp, 1);                                                     \
        }                                                                             \
    } while (0)

#define CHECK_INT(a, b)                                                               \
    do {                                                                              \
        long long a_ = (long long)(a), b_ = (long long)(b);                           \
        if (a_ != b_) {                                                               \
            snprintf(test_why, sizeof(test_why), "%s:%d: %s == %lld, expected %lld",  \
                     __FILE__, __LINE__, #a, a_, b_);                                 \
            longjmp(test_jmp, 1);                                                     \
        }                                                                             \
    } while (0)

#define CHECK_STR(a, b)                                                               \
    do {                                                                              \
        const char *a_ = (a), *b_ = (b);                                              \
        if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0) {                        \
            snprintf(test_why, sizeof(test_why), "%s:%d: %s == \"%s\", expected \"%s\"", \
                     __FILE__, __LINE__, #a, a_ ? a_ : "(null)", b_ ? b_ : "(null)");  \
            longjmp(test_jmp, 1);                                                     \
        }                                                                             \
    } while (0)

/* Stop the case as skipped, not passed: what it needs is missing here. */
#define SKIP(why)                                                                     \
    do {                                                                              \
        snprintf(test_why, sizeof(test_why), "%s", (why));                            \
        longjmp(test_jmp, 2);                                                         \
    } while (0)

/* Whether haystack contains needle; for checking messages. */
#define CHECK_HAS(hay, needle)                                                        \
    do {                                                                              \
        const char *h_ = (hay), *n_ = (needle);                                       \
        if (h_ == NULL || strstr(h_, n_) == NULL) {                                   \
            snprintf(test_why, sizeof(test_why), "%s:%d: \"%s\" lacks \"%s\"",        \
                     __FILE__, __LINE__, h_ ? h_ : "(null)", n_);                     \
            longjmp(test_jmp, 1);                                                     \
        }                                                                             \
    } while (0)

int
main(int argc, char **argv)
{
    volatile int failed = 0;

    for (volatile int i = 0; i < test_count; i++) {
        if (argc > 1 && strcmp(argv[1], test_cases[i].name) != 0)
            continue;
        switch (setjmp(test_jmp)) {
        case 0:
            test_cases[i].fn();
            printf("ok %s\n", test_cases[i].name);
            break;
        case 2:
            printf("skip %s: %s\n", test_cases[i].name, test_why);
            break;
        default:
            printf("FAIL %s: %s\n", test_cases[i].name, test_why);
            failed++;
            break;
        }
        fflush(stdout);
    }
    return failed ? 1 : 0;
}

#endif
