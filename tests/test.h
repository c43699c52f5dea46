/* test.h — a minimal test harness: CHECK records failures, the summary line is
 * "N passed, N failed" so CI's runner recognizes it. */
#ifndef ODET_TEST_H
#define ODET_TEST_H

#include <math.h>
#include <stdio.h>

static int test_passed, test_failed;

#define CHECK(cond)                                                                 \
	do {                                                                        \
		if (cond) {                                                         \
			test_passed++;                                              \
		} else {                                                            \
			test_failed++;                                              \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
		}                                                                   \
	} while (0)

#define CHECK_MSG(cond, ...)                                                        \
	do {                                                                        \
		if (cond) {                                                         \
			test_passed++;                                              \
		} else {                                                            \
			test_failed++;                                              \
			fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                               \
			fprintf(stderr, "\n");                                      \
		}                                                                   \
	} while (0)

static inline int test_summary(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, test_passed, test_failed);
	return test_failed ? 1 : 0;
}

#endif
