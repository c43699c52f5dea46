/* np_mean.c — prints coco_np_mean (the averaging of odet eval's summarize) of each array in a file
 * of records (int64 n, then n float64), one "%a" line each; np_mean_check.py compares with numpy. */
#include "eval/coco_internal.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	FILE *f = argc == 2 ? fopen(argv[1], "rb") : NULL;
	if (!f) {
		fprintf(stderr, "usage: np_mean RECORDS.bin\n");
		return 2;
	}
	int64_t n;
	int rc = 0;
	while (fread(&n, sizeof n, 1, f) == 1) {
		double *a = n > 0 && n < (1 << 26) ? malloc((size_t)n * sizeof *a) : NULL;
		if (!a || fread(a, sizeof *a, (size_t)n, f) != (size_t)n) {
			fprintf(stderr, "np_mean: bad record\n");
			free(a);
			rc = 2;
			break;
		}
		printf("%a\n", coco_np_mean(a, n));
		free(a);
	}
	fclose(f);
	return rc;
}
