/*
 * ffmpeg_load.h — FFmpeg's libraries loaded at run time (dlopen of the sonames of the major
 * versions whose headers odet is built with), for video_ffmpeg.c (reading) and
 * video_writer_ffmpeg.c (writing). The headers give types and struct layouts (fixed within a
 * major version); every function goes through ff_api. Only compiled with FFmpeg's headers.
 *
 * Loaded with RTLD_NODELETE: releasing a load drops its references but leaves FFmpeg and its
 * dependencies mapped, as a linked library stays, because unmapping them strands what their
 * constructors allocated (12,584 bytes in 19 allocations per unload under LeakSanitizer, Debian's
 * FFmpeg 5.1).
 */
#ifndef ODET_IO_FFMPEG_LOAD_H
#define ODET_IO_FFMPEG_LOAD_H

#include "core/core.h"

#include <libavcodec/avcodec.h>
#include <libavcodec/bsf.h>
#include <libavformat/avformat.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
#include <stdbool.h>
#include <stddef.h>

/* The FFmpeg functions used, by library (index into ff_sonames). */
#define FF_FUNCS(X)                                                                                 \
	X(0, avformat_open_input) X(0, avformat_find_stream_info) X(0, av_find_best_stream)          \
	X(0, av_read_frame) X(0, avformat_close_input)                                               \
	X(1, avcodec_alloc_context3) X(1, avcodec_parameters_to_context) X(1, avcodec_open2)          \
	X(1, avcodec_send_packet) X(1, avcodec_receive_frame) X(1, avcodec_free_context)             \
	X(1, av_packet_alloc) X(1, av_packet_free) X(1, av_packet_unref) X(1, avcodec_descriptor_get) \
	X(2, av_frame_alloc) X(2, av_frame_free) X(2, av_frame_unref) X(2, av_strerror)              \
	X(2, av_log_set_level) X(2, av_get_pix_fmt_name)                                             \
	X(3, sws_getCachedContext) X(3, sws_scale) X(3, sws_freeContext)                             \
	X(0, avformat_alloc_output_context2) X(0, avformat_new_stream) X(0, avio_open)               \
	X(0, avio_closep) X(0, avformat_write_header) X(0, av_interleaved_write_frame)               \
	X(0, av_write_trailer) X(0, avformat_free_context)                                           \
	X(1, avcodec_find_encoder_by_name) X(1, avcodec_parameters_from_context)                     \
	X(1, avcodec_send_frame) X(1, avcodec_receive_packet) X(1, av_packet_rescale_ts)             \
	X(2, av_frame_get_buffer) X(2, av_frame_make_writable) X(2, av_d2q)                         \
	X(1, av_bsf_get_by_name) X(1, av_bsf_alloc) X(1, av_bsf_init) X(1, av_bsf_send_packet)       \
	X(1, av_bsf_receive_packet) X(1, av_bsf_free) X(1, avcodec_parameters_copy)

typedef struct ff_api {
#define X(lib, name) __typeof__(name) *name;
	FF_FUNCS(X)
#undef X
} ff_api;

/* FFmpeg's functions for ctx: the libraries are loaded the first time (odet_ctx_lib) and kept
 * until odet_ctx_destroy, so all the videos of a context share one load. NULL with why (n bytes)
 * naming what is missing. */
const ff_api *ff_get(odet_ctx *ctx, char *why, size_t n);
/* Whether the four libraries load and resolve (a load and its release; no context kept). */
bool ff_available(void);

#endif
