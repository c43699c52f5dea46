/* video_none.c — io_video and io_video_writer when odet is built without FFmpeg's headers:
 * every video is refused. */
#include "io/video.h"

bool io_video_available(void)
{
	return false;
}

odet_status io_video_open(odet_ctx *ctx, const char *path, io_video **out, io_video_info *info)
{
	*out = NULL;
	return odet_error(ctx, ODET_ERR_UNSUPPORTED,
			  "%s: this odet was built without FFmpeg (libavformat, libavcodec, libswscale): no video input",
			  path);
}

odet_status io_video_read(io_video *v, io_image *img, double *pts, bool *eof)
{
	*eof = true;
	return ODET_ERR_UNSUPPORTED;
}

int64_t io_video_corrupt(const io_video *v)
{
	return 0;
}

const char *io_video_end_message(const io_video *v)
{
	return "";
}

void io_video_close(io_video *v)
{
}

odet_status io_video_writer_open(odet_ctx *ctx, const char *path, int w, int h, double fps, io_video_writer **out)
{
	*out = NULL;
	return odet_error(ctx, ODET_ERR_UNSUPPORTED, "%s: this odet was built without FFmpeg: no video output", path);
}

odet_status io_video_writer_write(io_video_writer *w, const io_image *img)
{
	return ODET_ERR_UNSUPPORTED;
}

odet_status io_video_writer_close(io_video_writer *w)
{
	return ODET_OK;
}

odet_status io_video_open_demux(odet_ctx *ctx, const char *path, io_video **out, io_video_info *info, int *codec_id)
{
	return io_video_open(ctx, path, out, info);
}

odet_status io_video_read_packet(io_video *v, const uint8_t **data, size_t *size, double *pts, bool *eof)
{
	*eof = true;
	return ODET_ERR_UNSUPPORTED;
}
