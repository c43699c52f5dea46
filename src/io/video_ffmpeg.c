/*
 * video_ffmpeg.c — io_video through FFmpeg (libavformat demux, libavcodec decode on the CPU,
 * libswscale to RGB24 with the bicubic filter, as the ffmpeg command converts frames).
 *
 * Corrupt data: a packet the decoder rejects, or a frame it flags corrupt (AV_FRAME_FLAG_CORRUPT,
 * decode_error_flags), is counted and skipped, and the frames after it are skipped (counted)
 * until the next keyframe, where decoding resumes; frames missing between two decoded ones
 * (a pts gap over 1.5 frame intervals: packets the demuxer skipped) count as corrupt too. More
 * than IO_VIDEO_MAX_BAD packets in a row without a good frame is a corrupt stream (an error). FFmpeg's own log is silenced below the
 * context's debug level (av_log_set_level is process-wide: FFmpeg has one logger).
 *
 * The four libraries are loaded with dlopen when a context opens its first video and kept until
 * the context is destroyed (ffmpeg_load.h; the sonames of the major versions whose headers odet
 * was built with), not linked: a process that reads no video never
 * loads FFmpeg and its dependencies (libavcodec's pull in libraries whose start-up code valgrind
 * cannot run), and odet runs where FFmpeg is absent (the video is then refused, naming what is
 * missing). The headers give the types and struct layouts, which are fixed within a major version.
 */
#include "io/ffmpeg_load.h"
#include "io/video.h"

#include <stdlib.h>
#include <string.h>

#define IO_VIDEO_MAX_BAD 500

struct io_video {
	odet_ctx *ctx;
	ff_api ff;            /* the context's (ff_get), copied */
	char *path;
	AVFormatContext *fmt;
	AVCodecContext *dec;
	AVPacket *pkt;
	AVFrame *frame;
	AVBSFContext *bsf;        /* demux mode: mp4/mkv H.264/HEVC to Annex B */
	bool demux;
	struct SwsContext *sws;
	int stream;
	double tb, start, fps, duration, last_pts;
	int64_t n_frames, frames_out, corrupt;
	int64_t corrupt_at_last;  /* corrupt when the last frame went out */
	int bad_in_row;
	bool need_key, draining;
	char end_msg[256];
};

bool io_video_available(void)
{
	return ff_available();
}

static const char *av_msg(const io_video *v, int err, char *buf, size_t n)
{
	v->ff.av_strerror(err, buf, n);
	return buf;
}

void io_video_close(io_video *v)
{
	if (!v)
		return;
	v->ff.av_bsf_free(&v->bsf);
	v->ff.sws_freeContext(v->sws);
	v->ff.av_frame_free(&v->frame);
	v->ff.av_packet_free(&v->pkt);
	v->ff.avcodec_free_context(&v->dec);
	v->ff.avformat_close_input(&v->fmt);
	free(v->path);
	free(v);
}

odet_status io_video_open(odet_ctx *ctx, const char *path, io_video **out, io_video_info *info)
{
	*out = NULL;
	io_video *v = odet_calloc(ctx, 1, sizeof *v);
	if (!v)
		return ODET_ERR_NO_MEMORY;
	v->ctx = ctx;
	odet_status rc = ODET_ERR_NO_MEMORY;
	char eb[256];
	const ff_api *ff = ff_get(ctx, eb, sizeof eb);
	if (!ff) {
		free(v);
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "%s: no video input: FFmpeg not available (%s)", path, eb);
	}
	v->ff = *ff;
	if (ctx->opts.log_level < ODET_LOG_DEBUG)
		v->ff.av_log_set_level(AV_LOG_QUIET);
	if (!(v->path = strdup(path)))
		goto out_close;
	int r = v->ff.avformat_open_input(&v->fmt, path, NULL, NULL);
	if (r < 0) {
		rc = odet_error(ctx, r == AVERROR(ENOENT) || r == AVERROR(EACCES) ? ODET_ERR_IO : ODET_ERR_BAD_INPUT,
				"%s: cannot open as a video: %s", path, av_msg(v, r, eb, sizeof eb));
		goto out_close;
	}
	if ((r = v->ff.avformat_find_stream_info(v->fmt, NULL)) < 0) {
		rc = odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: unreadable container: %s", path, av_msg(v, r, eb, sizeof eb));
		goto out_close;
	}
	const AVCodec *codec = NULL;
	v->stream = v->ff.av_find_best_stream(v->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
	if (v->stream == AVERROR_STREAM_NOT_FOUND) {
		rc = odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: no video stream", path);
		goto out_close;
	}
	AVStream *st = v->stream >= 0 ? v->fmt->streams[v->stream] : NULL;
	if (v->stream < 0 || !codec) {
		const AVCodecDescriptor *d = st ? v->ff.avcodec_descriptor_get(st->codecpar->codec_id) : NULL;
		rc = odet_error(ctx, ODET_ERR_UNSUPPORTED, "%s: unsupported video codec %s", path,
				d ? d->name : "(unknown)");
		goto out_close;
	}
	if ((rc = io_check_pixels(ctx, path, st->codecpar->width, st->codecpar->height)))
		goto out_close;
	rc = ODET_ERR_NO_MEMORY;
	if (!(v->dec = v->ff.avcodec_alloc_context3(codec)) || !(v->pkt = v->ff.av_packet_alloc()) || !(v->frame = v->ff.av_frame_alloc()))
		goto out_close;
	if ((r = v->ff.avcodec_parameters_to_context(v->dec, st->codecpar)) < 0 ||
	    (v->dec->thread_count = 1, r = v->ff.avcodec_open2(v->dec, codec, NULL)) < 0) {
		rc = odet_error(ctx, ODET_ERR_UNSUPPORTED, "%s: cannot open the %s decoder: %s", path, codec->name,
				av_msg(v, r, eb, sizeof eb));
		goto out_close;
	}
	v->tb = av_q2d(st->time_base);
	v->start = st->start_time != AV_NOPTS_VALUE ? st->start_time * v->tb : 0;
	AVRational fr = st->avg_frame_rate.num ? st->avg_frame_rate : st->r_frame_rate;
	v->fps = fr.num && fr.den ? av_q2d(fr) : 0;
	v->n_frames = st->nb_frames;
	v->duration = st->duration != AV_NOPTS_VALUE ? st->duration * v->tb
		      : v->fmt->duration != AV_NOPTS_VALUE ? v->fmt->duration / (double)AV_TIME_BASE : 0;
	if (info) {
		memset(info, 0, sizeof *info);
		info->w = st->codecpar->width;
		info->h = st->codecpar->height;
		info->fps = v->fps;
		info->n_frames = v->n_frames;
		snprintf(info->codec, sizeof info->codec, "%s", codec->name);
	}
	*out = v;
	return ODET_OK;
out_close:
	io_video_close(v);
	return rc;
}

/* frame → RGB8 (allocated) */
static odet_status to_rgb(io_video *v, io_image *img)
{
	AVFrame *f = v->frame;
	odet_status rc = io_check_pixels(v->ctx, v->path, f->width, f->height);
	if (rc)
		return rc;
	v->sws = v->ff.sws_getCachedContext(v->sws, f->width, f->height, f->format, f->width, f->height, AV_PIX_FMT_RGB24,
				      SWS_BICUBIC, NULL, NULL, NULL);
	if (!v->sws)
		return odet_error(v->ctx, ODET_ERR_UNSUPPORTED, "%s: no conversion from pixel format %s to RGB", v->path,
				  v->ff.av_get_pix_fmt_name(f->format) ? v->ff.av_get_pix_fmt_name(f->format) : "?");
	img->w = f->width;
	img->h = f->height;
	if (!(img->rgb = odet_malloc(v->ctx, (size_t)f->width * (size_t)f->height * 3)))
		return ODET_ERR_NO_MEMORY;
	uint8_t *dst[4] = {img->rgb, NULL, NULL, NULL};
	int pitch[4] = {3 * f->width, 0, 0, 0};
	v->ff.sws_scale(v->sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, dst, pitch);
	return ODET_OK;
}

static void bad_data(io_video *v)
{
	v->corrupt++;
	v->need_key = true;
	v->bad_in_row++;
}

odet_status io_video_read(io_video *v, io_image *img, double *pts, bool *eof)
{
	char eb[128];
	*eof = false;
	memset(img, 0, sizeof *img);
	for (;;) {
		if (v->bad_in_row > IO_VIDEO_MAX_BAD)
			return odet_error(v->ctx, ODET_ERR_BAD_INPUT, "%s: corrupt stream (%d bad packets in a row)",
					  v->path, v->bad_in_row);
		int r = v->ff.avcodec_receive_frame(v->dec, v->frame);
		if (r == 0) {
			AVFrame *f = v->frame;
			if ((f->flags & AV_FRAME_FLAG_CORRUPT) || f->decode_error_flags) {
				bad_data(v);
				v->ff.av_frame_unref(f);
				continue;
			}
			if (v->need_key && !f->key_frame) {
				v->corrupt++;
				v->ff.av_frame_unref(f);
				continue;
			}
			v->need_key = false;
			v->bad_in_row = 0;
			int64_t t = f->best_effort_timestamp;
			*pts = t != AV_NOPTS_VALUE ? t * v->tb - v->start
			       : v->fps > 0 ? (double)v->frames_out / v->fps : 0;
			/* frames the demuxer lost (garbage it skipped over): a gap in a constant frame rate */
			double gap = v->frames_out && v->fps > 0 ? (*pts - v->last_pts) * v->fps : 0;
			int64_t lost = gap > 1.5 && gap < 1e6 ? (int64_t)(gap + 0.5) - 1 - (v->corrupt - v->corrupt_at_last) : 0;
			if (lost > 0)
				v->corrupt += lost;
			v->corrupt_at_last = v->corrupt;
			v->last_pts = *pts;
			odet_status rc = to_rgb(v, img);
			v->ff.av_frame_unref(f);
			if (rc)
				return rc;
			v->frames_out++;
			return ODET_OK;
		}
		if (r == AVERROR_EOF) {
			*eof = true;
			double end = v->frames_out ? v->last_pts + (v->fps > 0 ? 1 / v->fps : 0) : 0;
			if (v->end_msg[0])
				return ODET_OK;
			if (v->n_frames > 0 && v->frames_out + v->corrupt < v->n_frames)
				snprintf(v->end_msg, sizeof v->end_msg, "ended after %lld of the %lld frames announced (truncated?)",
					 (long long)(v->frames_out + v->corrupt), (long long)v->n_frames);
			else if (v->fps > 0 && v->duration > 0 && end < v->duration - 2 / v->fps)
				snprintf(v->end_msg, sizeof v->end_msg, "ended at %.2f s of the %.2f s announced (truncated?)", end,
					 v->duration);
			return ODET_OK;
		}
		if (r != AVERROR(EAGAIN)) {
			bad_data(v); /* a frame the decoder could not rebuild */
			continue;
		}
		if (v->draining)
			return odet_error(v->ctx, ODET_ERR_INTERNAL, "%s: decoder wants input after the end", v->path);
		r = v->ff.av_read_frame(v->fmt, v->pkt);
		if (r < 0) {
			if (r != AVERROR_EOF)
				snprintf(v->end_msg, sizeof v->end_msg, "read error after %lld frames: %s",
					 (long long)v->frames_out, av_msg(v, r, eb, sizeof eb));
			v->draining = true;
			v->ff.avcodec_send_packet(v->dec, NULL);
			continue;
		}
		if (v->pkt->stream_index != v->stream) {
			v->ff.av_packet_unref(v->pkt);
			continue;
		}
		if (v->pkt->flags & AV_PKT_FLAG_CORRUPT) {
			bad_data(v);
			v->ff.av_packet_unref(v->pkt);
			continue;
		}
		r = v->ff.avcodec_send_packet(v->dec, v->pkt);
		v->ff.av_packet_unref(v->pkt);
		if (r < 0 && r != AVERROR(EAGAIN))
			bad_data(v);
	}
}

int64_t io_video_corrupt(const io_video *v)
{
	return v ? v->corrupt : 0;
}

const char *io_video_end_message(const io_video *v)
{
	return v ? v->end_msg : "";
}

/* Demux mode (NVDEC): the stream's packets; H.264 and HEVC with avcC/hvcC extradata (mp4, mkv)
 * through the mp4-to-Annex-B bitstream filter, so the decoder sees start codes. */
odet_status io_video_open_demux(odet_ctx *ctx, const char *path, io_video **out, io_video_info *info, int *codec_id)
{
	odet_status rc = io_video_open(ctx, path, out, info);
	if (rc)
		return rc;
	io_video *v = *out;
	v->demux = true;
	AVStream *st = v->fmt->streams[v->stream];
	*codec_id = st->codecpar->codec_id;
	const char *filter = st->codecpar->codec_id == AV_CODEC_ID_H264   ? "h264_mp4toannexb"
			     : st->codecpar->codec_id == AV_CODEC_ID_HEVC ? "hevc_mp4toannexb"
									  : NULL;
	if (!filter)
		return ODET_OK;
	const AVBitStreamFilter *f = v->ff.av_bsf_get_by_name(filter);
	int r;
	if (!f || v->ff.av_bsf_alloc(f, &v->bsf) < 0 ||
	    v->ff.avcodec_parameters_copy(v->bsf->par_in, st->codecpar) < 0 ||
	    (v->bsf->time_base_in = st->time_base, r = v->ff.av_bsf_init(v->bsf)) < 0) {
		io_video_close(v);
		*out = NULL;
		return odet_error(ctx, ODET_ERR_UNSUPPORTED, "%s: FFmpeg has no usable %s filter", path, filter);
	}
	return ODET_OK;
}

odet_status io_video_read_packet(io_video *v, const uint8_t **data, size_t *size, double *pts, bool *eof)
{
	char eb[128];
	*eof = false;
	v->ff.av_packet_unref(v->pkt);
	for (;;) {
		if (v->bsf) {
			int r = v->ff.av_bsf_receive_packet(v->bsf, v->pkt);
			if (r == 0)
				break;
			if (r == AVERROR_EOF) {
				*eof = true;
				return ODET_OK;
			}
			if (r != AVERROR(EAGAIN)) {
				v->corrupt++;
				continue;
			}
		} else if (v->draining) {
			*eof = true;
			return ODET_OK;
		}
		if (v->draining) {
			v->ff.av_bsf_send_packet(v->bsf, NULL);
			continue;
		}
		int r = v->ff.av_read_frame(v->fmt, v->pkt);
		if (r < 0) {
			if (r != AVERROR_EOF)
				snprintf(v->end_msg, sizeof v->end_msg, "read error: %s", av_msg(v, r, eb, sizeof eb));
			v->draining = true;
			if (v->bsf)
				v->ff.av_bsf_send_packet(v->bsf, NULL);
			continue;
		}
		if (v->pkt->stream_index != v->stream) {
			v->ff.av_packet_unref(v->pkt);
			continue;
		}
		if (!v->bsf)
			break;
		if (v->ff.av_bsf_send_packet(v->bsf, v->pkt) < 0) {
			v->ff.av_packet_unref(v->pkt);
			v->corrupt++;
		}
	}
	int64_t t = v->pkt->pts != AV_NOPTS_VALUE ? v->pkt->pts : v->pkt->dts;
	*pts = t != AV_NOPTS_VALUE ? t * v->tb - v->start : 0;
	*data = v->pkt->data;
	*size = (size_t)v->pkt->size;
	return ODET_OK;
}
