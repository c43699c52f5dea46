/*
 * video.h — video files to RGB8 frames on the CPU, through FFmpeg's libavformat (demux) and
 * libavcodec (decode) and libswscale (to RGB24): mp4, mkv, avi, mov, ...; H.264, HEVC, MJPEG,
 * MPEG-4 and whatever Debian's FFmpeg offers. Linked when CMake finds the libraries
 * (video_ffmpeg.c); without them video_none.c refuses every video with ODET_ERR_UNSUPPORTED.
 *
 * Bad input: no file, no video stream, an unsupported codec, more pixels than the context's
 * max_image_pixels → io_video_open fails naming the file. While reading, a packet the decoder
 * rejects or a frame it flags corrupt is counted (corrupt) and skipped, and frames are dropped
 * (counted corrupt too) until the next keyframe, and frames lost between two decoded ones (a pts
 * gap at a constant frame rate) are counted corrupt; a read error other than the end of the file
 * ends the stream with a message (io_video_end_message), as does a file whose container
 * promised more frames or a longer duration than it held (truncated).
 */
#ifndef ODET_IO_VIDEO_H
#define ODET_IO_VIDEO_H

#include "io/image.h"

typedef struct io_video io_video;

typedef struct io_video_info {
	int w, h;           /* frame pixels */
	double fps;         /* average frame rate (0: unknown) */
	int64_t n_frames;   /* frames the container announces (0: unknown) */
	char codec[32];     /* decoder name */
} io_video_info;

/* Whether this build can decode video (FFmpeg linked). */
bool io_video_available(void);
odet_status io_video_open(odet_ctx *ctx, const char *path, io_video **out, io_video_info *info);
/* The next frame as RGB8 (img allocated, free with io_image_free) and its presentation time in
 * seconds. *eof = true (and no frame) at the end of the stream. An error status is a failure of
 * the whole stream (message in ctx). */
odet_status io_video_read(io_video *v, io_image *img, double *pts, bool *eof);
/* Frames counted corrupt and skipped so far. */
int64_t io_video_corrupt(const io_video *v);
/* After *eof: why the stream ended early ("" when it ended normally). */
const char *io_video_end_message(const io_video *v);
void io_video_close(io_video *v);

/* Demux only (NVDEC decodes): *codec_id is FFmpeg's AVCodecID of the stream. Packets come in
 * decode order with their pts; H.264 / HEVC from mp4 or mkv are converted to Annex B. The data
 * stays valid until the next call. *eof at the end. */
odet_status io_video_open_demux(odet_ctx *ctx, const char *path, io_video **out, io_video_info *info, int *codec_id);
odet_status io_video_read_packet(io_video *v, const uint8_t **data, size_t *size, double *pts, bool *eof);

/* Annotated output: RGB8 frames encoded (libx264 when FFmpeg has it, else MPEG-4 part 2) into
 * a container chosen by the file name (.mp4, .mkv, .avi), written to path + ".tmp" and renamed
 * onto path by a successful close (a failed write or close removes it). Frames of another size
 * are scaled to the first frame's (made even). */
typedef struct io_video_writer io_video_writer;
odet_status io_video_writer_open(odet_ctx *ctx, const char *path, int w, int h, double fps, io_video_writer **out);
odet_status io_video_writer_write(io_video_writer *w, const io_image *img);
/* Flush, finish and rename; frees w (also on failure). */
odet_status io_video_writer_close(io_video_writer *w);

#endif
