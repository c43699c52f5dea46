/* file.c — whole-file reads with a size limit, atomic writes, files named by an untrusted
 * model that must stay inside its folder. */
#include "core.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

odet_status odet_file_read(odet_ctx *ctx, const char *path, size_t limit, void **data, size_t *size)
{
	*data = NULL;
	*size = 0;
	if (odet_fault(ctx))
		return odet_error(ctx, ODET_ERR_IO, "%s: cannot open: injected fault", path);
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
	void *buf = odet_fault(ctx) ? NULL : malloc(n ? n : 1);
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
	bool fault = odet_fault(ctx); /* an injected failure mid-write: the temporary is dropped */
	if (!f) {
		odet_status rc = odet_error(ctx, ODET_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
		free(tmp);
		return rc;
	}
	int ok = (size == 0 || fwrite(data, 1, fault ? size / 2 : size, f) == size) && !fault;
	ok &= fflush(f) == 0;
	ok &= fsync(fileno(f)) == 0;
	ok &= fclose(f) == 0;
	if (!ok || rename(tmp, path) != 0) {
		odet_status rc = odet_error(ctx, ODET_ERR_IO, "%s: write failed: %s", path,
					    fault ? "injected fault" : strerror(errno));
		unlink(tmp);
		free(tmp);
		return rc;
	}
	free(tmp);
	return ODET_OK;
}

/* true when a component of path ('/' or '\\' separated) is ".." */
static bool has_dotdot(const char *path)
{
	const char *c = path;
	while (*c) {
		size_t n = strcspn(c, "/\\");
		if (n == 2 && c[0] == '.' && c[1] == '.')
			return true;
		c += n;
		if (*c)
			c++;
	}
	return false;
}

odet_status odet_file_open_inside(odet_ctx *ctx, const char *dir, const char *rel, const char *what,
				  const char *kind, int *fd_out, uint64_t *size_out)
{
	*fd_out = -1;
	*size_out = 0;
	if (rel[0] == '/')
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: %s path '%s' is absolute (must be inside the model's folder)",
				  what, kind, rel);
	if (has_dotdot(rel))
		return odet_error(ctx, ODET_ERR_BAD_INPUT,
				  "%s: %s path '%s' contains '..' (must be inside the model's folder)", what, kind, rel);
	if (odet_fault(ctx))
		return odet_error(ctx, ODET_ERR_IO, "%s: %s '%s': cannot open: injected fault", what, kind, rel);
	odet_status rc = ODET_OK;
	char *base = realpath(dir, NULL), *joined = NULL, *real = NULL;
	int fd = -1;
	if (!base)
		return odet_error(ctx, ODET_ERR_IO, "%s: cannot resolve the model's folder '%s': %s", what, dir,
				  strerror(errno));
	size_t jn = strlen(dir) + strlen(rel) + 2;
	if (!(joined = odet_malloc(ctx, jn))) {
		rc = ODET_ERR_NO_MEMORY;
		goto out_free;
	}
	snprintf(joined, jn, "%s/%s", dir, rel);
	real = realpath(joined, NULL);
	if (!real) {
		rc = odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: %s '%s': cannot open '%s': %s", what, kind, rel, joined,
				strerror(errno));
		goto out_free;
	}
	size_t bl = strlen(base);
	bool inside = strncmp(real, base, bl) == 0 && (real[bl] == '/' || (bl == 1 && base[0] == '/'));
	if (!inside) {
		rc = odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: %s path '%s' resolves to '%s', outside the model's folder",
				what, kind, rel, real);
		goto out_free;
	}
	/* O_NONBLOCK: a FIFO planted in the folder must not hang the import (S_ISREG below) */
	fd = open(real, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: %s '%s' is not a readable file", what, kind, rel);
		if (fd >= 0)
			close(fd);
		goto out_free;
	}
	*fd_out = fd;
	*size_out = (uint64_t)st.st_size;
out_free:
	free(real);
	free(joined);
	free(base);
	return rc;
}

odet_status odet_file_pread_all(odet_ctx *ctx, int fd, uint64_t offset, void *buf, size_t n, const char *what)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = pread(fd, (char *)buf + got, n - got, (off_t)(offset + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return odet_error(ctx, ODET_ERR_IO, "%s: read failed%s%s", what, r < 0 ? ": " : " (file shrank)",
					  r < 0 ? strerror(errno) : "");
		got += (size_t)r;
	}
	return ODET_OK;
}
