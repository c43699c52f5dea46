/* test.h — a minimal test harness: CHECK records failures, the summary line is
 * "N passed, N failed" so CI's runner recognizes it. */
#ifndef ODET_TEST_H
#define ODET_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

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

/* The bytes of a file (malloc'd; n = their count) or NULL when it cannot be read whole. */
static inline void *test_read_file(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	*n = 0;
	if (!f)
		return NULL;
	long sz = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
	void *b = sz >= 0 && fseek(f, 0, SEEK_SET) == 0 ? malloc(sz > 0 ? (size_t)sz : 1) : NULL;
	if (b && fread(b, 1, (size_t)sz, f) != (size_t)sz) {
		free(b);
		b = NULL;
	}
	fclose(f);
	*n = b ? (size_t)sz : 0;
	return b;
}

static inline int test_summary(const char *name)
{
	printf("%s: %d passed, %d failed\n", name, test_passed, test_failed);
	return test_failed ? 1 : 0;
}

#endif
