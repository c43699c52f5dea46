/* clock.c — monotonic time for durations (build time, pipeline stage times). */
#include "core.h"

#include <time.h>

double odet_now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
