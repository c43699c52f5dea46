/* file.c — whole-file reads with a size limit, atomic writes. */
#include "core.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

odet_status odet_file_read(odet_ctx *ctx, const char *path, size_t limit, void **data, size_t *size)
{
	*data = NULL;
	*size = 0;
	/* O_NONBLOCK: a FIFO or device must not hang the open; only regular files are read */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return odet_error(ctx, ODET_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
	FILE *f = fdopen(fd, "rb");
	if (!f) {
		close(fd);
		return odet_error(ctx, ODET_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
	}
	struct stat st;
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		fclose(f);
		return odet_error(ctx, ODET_ERR_IO, "%s: not a regular file", path);
	}
	if ((uint64_t)st.st_size > limit) {
		fclose(f);
		return odet_error(ctx, ODET_ERR_LIMIT, "%s: file is %lld bytes, limit is %zu", path,
				  (long long)st.st_size, limit);
	}
	size_t n = (size_t)st.st_size;
	void *buf = malloc(n ? n : 1);
	if (!buf) {
		fclose(f);
		return odet_error(ctx, ODET_ERR_NO_MEMORY, "%s: out of memory reading %zu bytes", path, n);
	}
	if (n && fread(buf, 1, n, f) != n) {
		free(buf);
		fclose(f);
		return odet_error(ctx, ODET_ERR_IO, "%s: short read", path);
	}
	fclose(f);
	*data = buf;
	*size = n;
	return ODET_OK;
}

odet_status odet_file_write_atomic(odet_ctx *ctx, const char *path, const void *data, size_t size)
{
	size_t len = strlen(path) + 32;
	char *tmp = malloc(len);
	if (!tmp)
		return odet_error(ctx, ODET_ERR_NO_MEMORY, "out of memory");
	snprintf(tmp, len, "%s.tmp.%ld", path, (long)getpid());
	FILE *f = fopen(tmp, "wb");
	if (!f) {
		odet_status rc = odet_error(ctx, ODET_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
		free(tmp);
		return rc;
	}
	int ok = (size == 0 || fwrite(data, 1, size, f) == size);
	ok &= fflush(f) == 0;
	ok &= fsync(fileno(f)) == 0;
	ok &= fclose(f) == 0;
	if (!ok || rename(tmp, path) != 0) {
		odet_status rc = odet_error(ctx, ODET_ERR_IO, "%s: write failed: %s", path, strerror(errno));
		unlink(tmp);
		free(tmp);
		return rc;
	}
	free(tmp);
	return ODET_OK;
}
