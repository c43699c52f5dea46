/* process_threads.h — the threads of this process (Linux /proc/self/task; -1 where it cannot be
 * read), for the CPU conv tests that check a kernel adds no thread (no OpenMP team). */
#ifndef ODET_TEST_PROCESS_THREADS_H
#define ODET_TEST_PROCESS_THREADS_H

#include <dirent.h>

static inline int process_threads(void)
{
	DIR *d = opendir("/proc/self/task");
	if (!d)
		return -1;
	int n = 0;
	for (struct dirent *e; (e = readdir(d));)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

#endif
