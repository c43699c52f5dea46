/* video_api.c — the public video writer (odet.h) over io_video_writer. */
#include "io/video.h"

#include <stdlib.h>

struct odet_video_writer {
	io_video_writer *w;
};

odet_status odet_video_writer_open(odet_ctx *ctx, const char *path, int width, int height, double fps,
				   odet_video_writer **out)
{
	if (!ctx || !out)
		return ODET_ERR_INVALID_ARG;
	*out = NULL;
	odet_video_writer *v = odet_calloc(ctx, 1, sizeof *v);
	if (!v)
		return ODET_ERR_NO_MEMORY;
	odet_status rc = io_video_writer_open(ctx, path, width, height, fps, &v->w);
	if (rc) {
		free(v);
		return rc;
	}
	*out = v;
	return ODET_OK;
}

odet_status odet_video_writer_write(odet_video_writer *w, const odet_image *frame)
{
	if (!w || !frame)
		return ODET_ERR_INVALID_ARG;
	io_image img = {.w = frame->width, .h = frame->height, .rgb = frame->rgb};
	return io_video_writer_write(w->w, &img);
}

odet_status odet_video_writer_close(odet_video_writer *w)
{
	if (!w)
		return ODET_OK;
	odet_status rc = io_video_writer_close(w->w);
	free(w);
	return rc;
}
