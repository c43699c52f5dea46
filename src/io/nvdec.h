/*
 * nvdec.h — GPU video decode with NVDEC (libnvcuvid and libcuda loaded at run time through
 * nv-codec-headers' dynlink loader: nothing is linked, odet builds without them) of streams
 * demuxed by libavformat (io_video_open_demux: H.264 / HEVC, Annex B). Frames come out as NV12
 * in device memory (buffers of the decoder's pool, on the device's primary context, which the
 * CUDA runtime shares), ready for the NV12 letterbox hook (be_nv12_image).
 *
 * Refusals (ODET_ERR_UNSUPPORTED, the message says which): libcuda / libnvcuvid missing, no
 * such GPU, a codec other than H.264 / HEVC, not 8-bit 4:2:0, a size change mid-stream, the
 * decoder's creation failing (a size or profile the GPU's NVDEC does not take). A picture NVDEC
 * reports as decoded with errors is counted corrupt and skipped.
 */
#ifndef ODET_IO_NVDEC_H
#define ODET_IO_NVDEC_H

#include "io/video.h"

typedef struct io_nvdec io_nvdec;

/* One decoded frame in device memory: luma rows (w bytes of h rows), then the interleaved U,V
 * rows ((h + 1) / 2 of them), each `pitch` bytes apart. Valid until io_nvdec_release(buf). */
typedef struct io_nv12_frame {
	const uint8_t *y, *uv;
	int64_t pitch;
	int w, h;
	int full_range;
	int buf;
} io_nv12_frame;

/* device: the GPU; max_frames: decoded frames the caller may hold (not yet released) at once. */
odet_status io_nvdec_open(odet_ctx *ctx, const char *path, int device, int max_frames, io_nvdec **out,
			  io_video_info *info);
/* The next frame in display order with its pts (seconds); *eof at the end. Holding max_frames
 * frames unreleased and asking for another is an error (ODET_ERR_LIMIT). */
odet_status io_nvdec_read(io_nvdec *d, io_nv12_frame *f, double *pts, bool *eof);
/* Give a frame's buffer back (any thread). */
void io_nvdec_release(io_nvdec *d, int buf);
int64_t io_nvdec_corrupt(const io_nvdec *d);
void io_nvdec_close(io_nvdec *d);

#endif
