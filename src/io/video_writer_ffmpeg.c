/*
 * video_writer_ffmpeg.c — io_video_writer (video.h): RGB8 frames → swscale (bicubic) to
 * YUV 4:2:0 → libx264 (its defaults: preset medium, crf 23) or FFmpeg's MPEG-4 part 2 encoder (q 4) → the
 * muxer FFmpeg picks for the file name; frame k has pts k in a 1/fps time base. Written to
 * path.tmp, renamed onto path when closed successfully.
 */
#include "io/ffmpeg_load.h"
#include "io/video.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct io_video_writer {
	odet_ctx *ctx;
	ff_api ff;            /* the context's (ff_get), copied */
	char *path, *tmp;
	AVFormatContext *fmt;
	AVCodecContext *enc;
	AVStream *st;
	AVFrame *frame;
	AVPacket *pkt;
	struct SwsContext *sws;
	int w, h;
	int64_t next_pts;
	bool header, failed;
};

static void writer_free(io_video_writer *w, bool remove_tmp)
{
	if (!w)
		return;
	if (w->fmt) {
		if (w->fmt->pb)
			w->ff.avio_closep(&w->fmt->pb);
		w->ff.avformat_free_context(w->fmt);
	}
	w->ff.sws_freeContext(w->sws);
	w->ff.av_frame_free(&w->frame);
	w->ff.av_packet_free(&w->pkt);
	w->ff.avcodec_free_context(&w->enc);
	if (remove_tmp && w->tmp)
		remove(w->tmp);
	free(w->path);
	free(w->tmp);
	free(w);
}

static odet_status ff_fail(io_video_writer *w, int err, const char *what)
{
	char eb[128];
	w->ff.av_strerror(err, eb, sizeof eb);
	w->failed = true;
	return odet_error(w->ctx, ODET_ERR_IO, "%s: %s: %s", w->path, what, eb);
}

odet_status io_video_writer_open(odet_ctx *ctx, const char *path, int width, int height, double fps,
				 io_video_writer **out)
{
	*out = NULL;
	if (!path || width < 2 || height < 2 || !(fps > 0 && fps < 10000))
		return odet_error(ctx, ODET_ERR_INVALID_ARG, "video writer: a path, at least 2x2 pixels, 0 < fps < 10000");
	io_video_writer *w = odet_calloc(ctx, 1, sizeof *w);
	if (!w)
		return ODET_ERR_NO_MEMORY;
	w->ctx = ctx;
	char why[256];
	const ff_api *ff = ff_get(ctx, why, sizeof why);
	if (!ff) {
		free(w);
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "%s: no video output: FFmpeg not available (%s)", path, why);
	}
	w->ff = *ff;
	odet_status rc = ODET_ERR_NO_MEMORY;
	size_t n = strlen(path) + 5;
	if (!(w->path = strdup(path)) || !(w->tmp = malloc(n)))
		goto out_free;
	snprintf(w->tmp, n, "%s.tmp", path);
	w->w = width & ~1;
	w->h = height & ~1;
	/* the muxer from the final name (path.tmp would not say mp4) */
	int r = w->ff.avformat_alloc_output_context2(&w->fmt, NULL, NULL, path);
	if (r < 0 || !w->fmt) {
		rc = odet_error(ctx, ODET_ERR_INVALID_ARG, "%s: no container for this file name", path);
		goto out_free;
	}
	const AVCodec *codec = w->ff.avcodec_find_encoder_by_name("libx264");
	if (!codec)
		codec = w->ff.avcodec_find_encoder_by_name("mpeg4");
	if (!codec) {
		rc = odet_error(ctx, ODET_ERR_UNSUPPORTED, "%s: FFmpeg has neither libx264 nor mpeg4 to encode with", path);
		goto out_free;
	}
	if (!(w->st = w->ff.avformat_new_stream(w->fmt, NULL)) || !(w->enc = w->ff.avcodec_alloc_context3(codec)) ||
	    !(w->frame = w->ff.av_frame_alloc()) || !(w->pkt = w->ff.av_packet_alloc()))
		goto out_free;
	AVRational rate = w->ff.av_d2q(fps, 100000);
	w->enc->width = w->w;
	w->enc->height = w->h;
	w->enc->pix_fmt = AV_PIX_FMT_YUV420P;
	w->enc->time_base = (AVRational){rate.den, rate.num};
	w->enc->framerate = rate;
	w->enc->gop_size = 25;
	if (!strcmp(codec->name, "mpeg4")) {
		w->enc->flags |= AV_CODEC_FLAG_QSCALE;
		w->enc->global_quality = FF_QP2LAMBDA * 4;
	}
	if (w->fmt->oformat->flags & AVFMT_GLOBALHEADER)
		w->enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
	if ((r = w->ff.avcodec_open2(w->enc, codec, NULL)) < 0) {
		rc = ff_fail(w, r, "cannot open the encoder");
		goto out_free;
	}
	if ((r = w->ff.avcodec_parameters_from_context(w->st->codecpar, w->enc)) < 0) {
		rc = ff_fail(w, r, "encoder parameters");
		goto out_free;
	}
	w->st->time_base = w->enc->time_base;
	w->frame->format = AV_PIX_FMT_YUV420P;
	w->frame->width = w->w;
	w->frame->height = w->h;
	if ((r = w->ff.av_frame_get_buffer(w->frame, 0)) < 0) {
		rc = ff_fail(w, r, "frame buffer");
		goto out_free;
	}
	if ((r = w->ff.avio_open(&w->fmt->pb, w->tmp, AVIO_FLAG_WRITE)) < 0) {
		rc = ff_fail(w, r, "cannot create the file");
		goto out_free;
	}
	if ((r = w->ff.avformat_write_header(w->fmt, NULL)) < 0) {
		rc = ff_fail(w, r, "cannot write the header");
		goto out_free;
	}
	w->header = true;
	*out = w;
	return ODET_OK;
out_free:
	writer_free(w, true);
	return rc;
}

/* Send frame (NULL: flush) and write every packet the encoder has. */
static odet_status encode(io_video_writer *w, AVFrame *frame)
{
	int r = w->ff.avcodec_send_frame(w->enc, frame);
	if (r < 0)
		return ff_fail(w, r, "encoding");
	for (;;) {
		r = w->ff.avcodec_receive_packet(w->enc, w->pkt);
		if (r == AVERROR(EAGAIN) || r == AVERROR_EOF)
			return ODET_OK;
		if (r < 0)
			return ff_fail(w, r, "encoding");
		w->ff.av_packet_rescale_ts(w->pkt, w->enc->time_base, w->st->time_base);
		w->pkt->stream_index = w->st->index;
		r = w->ff.av_interleaved_write_frame(w->fmt, w->pkt);
		if (r < 0)
			return ff_fail(w, r, "writing");
	}
}

odet_status io_video_writer_write(io_video_writer *w, const io_image *img)
{
	if (!w || !img || !img->rgb || img->w < 1 || img->h < 1)
		return ODET_ERR_INVALID_ARG;
	if (w->failed)
		return ODET_ERR_IO;
	w->sws = w->ff.sws_getCachedContext(w->sws, img->w, img->h, AV_PIX_FMT_RGB24, w->w, w->h, AV_PIX_FMT_YUV420P,
					    SWS_BICUBIC, NULL, NULL, NULL);
	if (!w->sws)
		return odet_error(w->ctx, ODET_ERR_INTERNAL, "%s: no RGB to YUV conversion", w->path);
	int r = w->ff.av_frame_make_writable(w->frame);
	if (r < 0)
		return ff_fail(w, r, "frame buffer");
	const uint8_t *src[4] = {img->rgb, NULL, NULL, NULL};
	int pitch[4] = {3 * img->w, 0, 0, 0};
	w->ff.sws_scale(w->sws, src, pitch, 0, img->h, w->frame->data, w->frame->linesize);
	w->frame->pts = w->next_pts++;
	return encode(w, w->frame);
}

odet_status io_video_writer_close(io_video_writer *w)
{
	if (!w)
		return ODET_OK;
	odet_status rc = w->failed ? ODET_ERR_IO : encode(w, NULL);
	int r;
	if (!rc && w->header && (r = w->ff.av_write_trailer(w->fmt)) < 0)
		rc = ff_fail(w, r, "finishing the file");
	if (!rc && (r = w->ff.avio_closep(&w->fmt->pb)) < 0)
		rc = ff_fail(w, r, "closing the file");
	if (!rc && rename(w->tmp, w->path) != 0)
		rc = odet_error(w->ctx, ODET_ERR_IO, "%s: cannot rename the finished file", w->path);
	writer_free(w, rc != ODET_OK);
	return rc;
}
