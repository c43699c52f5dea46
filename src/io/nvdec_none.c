/* nvdec_none.c — io_nvdec when odet is built without nv-codec-headers or FFmpeg's headers. */
#include "io/nvdec.h"

odet_status io_nvdec_open(odet_ctx *ctx, const char *path, int device, int max_frames, io_nvdec **out,
			  io_video_info *info)
{
	*out = NULL;
	return odet_error(ctx, ODET_ERR_UNSUPPORTED,
			  "%s: NVDEC not available (odet was built without nv-codec-headers or FFmpeg's headers)", path);
}

odet_status io_nvdec_read(io_nvdec *d, io_nv12_frame *f, double *pts, bool *eof)
{
	*eof = true;
	return ODET_ERR_UNSUPPORTED;
}

void io_nvdec_release(io_nvdec *d, int buf)
{
}

int64_t io_nvdec_corrupt(const io_nvdec *d)
{
	return 0;
}

void io_nvdec_close(io_nvdec *d)
{
}
