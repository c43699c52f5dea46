/*
 * nvdec_ffmpeg.c — io_nvdec (nvdec.h): libavformat demuxes (io_video_open_demux, Annex B),
 * NVIDIA's parser (cuvidParseVideoData) calls back: on a sequence header the decoder is created
 * (NV12 output, coded size, min_num_decode_surfaces + 2 surfaces), on each picture
 * cuvidDecodePicture, on each picture to display cuvidMapVideoFrame → its decode status (errors
 * counted corrupt, skipped) → the display area copied (luma, then chroma from the surface's
 * chroma plane at pitch × coded height) into a free pool buffer on the decoder's stream → unmap.
 * Every driver call runs with the device's primary context pushed; the pool (cuMemAlloc'ed at
 * the first sequence header, max_frames + 2 buffers) is guarded by a mutex, since buffers are
 * released by other threads. libcuda and libnvcuvid are loaded once per odet context (odet_ctx_lib,
 * ODET_CTX_LIB_NVDEC) and shared by all its decoders until odet_ctx_destroy.
 */
#include "io/nvdec.h"

#include <dlfcn.h>
#include <libavcodec/codec_id.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the loader's messages go nowhere: io_nvdec_open says what is missing. Loaded with
 * RTLD_NODELETE, as FFmpeg is (ffmpeg_load.h): a release leaves the libraries mapped. */
#define FFNV_LOG_FUNC(logctx, msg, ...)
#define FFNV_DEBUG_LOG_FUNC(logctx, msg, ...)
#define FFNV_LOAD_FUNC(path) dlopen((path), RTLD_LAZY | RTLD_NODELETE)
#define FFNV_SYM_FUNC(lib, sym) dlsym((lib), (sym))
#define FFNV_FREE_FUNC(lib) dlclose(lib)
#include <ffnvcodec/dynlink_loader.h>

#define NVDEC_OUT_MAX 32

/* The driver libraries of one odet context (odet_ctx_lib) */
typedef struct nvdec_libs {
	CudaFunctions *cu;
	CuvidFunctions *cv;
} nvdec_libs;

struct io_nvdec {
	odet_ctx *ctx;
	char *path;
	io_video *dmx;
	const CudaFunctions *cu; /* the context's (nvdec_libs) */
	const CuvidFunctions *cv;
	CUdevice dev;
	CUcontext cuctx;
	bool ctx_retained;
	CUstream stream;
	CUvideoctxlock lock;
	CUvideoparser parser;
	CUvideodecoder dec;
	cudaVideoCodec codec;
	int coded_w, coded_h, left, top, w, h, full_range;
	int64_t pitch;                /* of the pool buffers */
	CUdeviceptr *pool;
	bool *used;
	int n_pool;
	pthread_mutex_t mu;
	int out_buf[NVDEC_OUT_MAX];
	double out_pts[NVDEC_OUT_MAX];
	int out_head, out_n;
	int64_t corrupt;
	odet_status err;              /* a callback's failure (message in ctx) */
	bool done;
};

static void nvdec_libs_release(void *handle)
{
	nvdec_libs *l = handle;
	cuvid_free_functions(&l->cv);
	cuda_free_functions(&l->cu);
	free(l);
}

/* Load libcuda and libnvcuvid and resolve their functions; NULL with why (n bytes) naming the
 * library that is missing. */
static void *nvdec_libs_load(char *why, size_t n)
{
	nvdec_libs *l = calloc(1, sizeof *l);
	if (!l) {
		snprintf(why, n, "out of memory");
		return NULL;
	}
	if (cuda_load_functions(&l->cu, NULL) < 0) {
		snprintf(why, n, "libcuda.so.1 not loadable");
		nvdec_libs_release(l);
		return NULL;
	}
	if (cuvid_load_functions(&l->cv, NULL) < 0) {
		snprintf(why, n, "libnvcuvid.so.1 not loadable");
		nvdec_libs_release(l);
		return NULL;
	}
	return l;
}

static odet_status cu_fail(io_nvdec *d, CUresult r, const char *what)
{
	const char *name = NULL;
	if (d->cu && d->cu->cuGetErrorName)
		d->cu->cuGetErrorName(r, &name);
	return odet_error(d->ctx, ODET_ERR_DEVICE, "%s: NVDEC: %s failed (%s)", d->path, what, name ? name : "?");
}

static int CUDAAPI on_sequence(void *user, CUVIDEOFORMAT *f)
{
	io_nvdec *d = user;
	if (d->err)
		return 0;
	int w = f->display_area.right - f->display_area.left, h = f->display_area.bottom - f->display_area.top;
	if (d->dec) {
		if ((int)f->coded_width == d->coded_w && (int)f->coded_height == d->coded_h && w == d->w && h == d->h)
			return f->min_num_decode_surfaces + 2;
		d->err = odet_error(d->ctx, ODET_ERR_UNSUPPORTED, "%s: NVDEC: the frame size changes mid-stream", d->path);
		return 0;
	}
	if (f->bit_depth_luma_minus8 || f->bit_depth_chroma_minus8 || f->chroma_format != cudaVideoChromaFormat_420) {
		d->err = odet_error(d->ctx, ODET_ERR_UNSUPPORTED, "%s: NVDEC path takes 8-bit 4:2:0 only", d->path);
		return 0;
	}
	if ((d->err = io_check_pixels(d->ctx, d->path, w, h)))
		return 0;
	CUVIDDECODECREATEINFO ci;
	memset(&ci, 0, sizeof ci);
	ci.ulWidth = f->coded_width;
	ci.ulHeight = f->coded_height;
	ci.ulNumDecodeSurfaces = f->min_num_decode_surfaces + 2;
	ci.CodecType = f->codec;
	ci.ChromaFormat = f->chroma_format;
	ci.ulCreationFlags = cudaVideoCreate_PreferCUVID;
	ci.ulMaxWidth = f->coded_width;
	ci.ulMaxHeight = f->coded_height;
	ci.OutputFormat = cudaVideoSurfaceFormat_NV12;
	ci.DeinterlaceMode = f->progressive_sequence ? cudaVideoDeinterlaceMode_Weave : cudaVideoDeinterlaceMode_Adaptive;
	ci.ulTargetWidth = f->coded_width;
	ci.ulTargetHeight = f->coded_height;
	ci.ulNumOutputSurfaces = 2;
	ci.vidLock = d->lock;
	CUresult r = d->cv->cuvidCreateDecoder(&d->dec, &ci);
	if (r != CUDA_SUCCESS) {
		d->dec = NULL;
		d->err = odet_error(d->ctx, ODET_ERR_UNSUPPORTED, "%s: NVDEC cannot decode this stream (%dx%d; cuvidCreateDecoder: %d)",
				    d->path, (int)f->coded_width, (int)f->coded_height, (int)r);
		return 0;
	}
	d->coded_w = (int)f->coded_width;
	d->coded_h = (int)f->coded_height;
	d->left = f->display_area.left;
	d->top = f->display_area.top;
	d->w = w;
	d->h = h;
	d->full_range = f->video_signal_description.video_full_range_flag;
	d->pitch = ((int64_t)w + 255) & ~(int64_t)255;
	size_t bytes = (size_t)d->pitch * (size_t)(h + (h + 1) / 2);
	for (int i = 0; i < d->n_pool; i++)
		if ((r = d->cu->cuMemAlloc(&d->pool[i], bytes)) != CUDA_SUCCESS) {
			d->err = cu_fail(d, r, "cuMemAlloc");
			return 0;
		}
	return (int)ci.ulNumDecodeSurfaces;
}

static int CUDAAPI on_decode(void *user, CUVIDPICPARAMS *pic)
{
	io_nvdec *d = user;
	if (d->err || !d->dec)
		return 0;
	if (d->cv->cuvidDecodePicture(d->dec, pic) != CUDA_SUCCESS)
		d->corrupt++;
	return 1;
}

static int take_buffer(io_nvdec *d)
{
	int b = -1;
	pthread_mutex_lock(&d->mu);
	for (int i = 0; i < d->n_pool && b < 0; i++)
		if (!d->used[i]) {
			d->used[i] = true;
			b = i;
		}
	pthread_mutex_unlock(&d->mu);
	return b;
}

static int CUDAAPI on_display(void *user, CUVIDPARSERDISPINFO *di)
{
	io_nvdec *d = user;
	if (!di || d->err)
		return 1;
	CUVIDPROCPARAMS vp;
	memset(&vp, 0, sizeof vp);
	vp.progressive_frame = di->progressive_frame;
	vp.second_field = di->repeat_first_field + 1;
	vp.top_field_first = di->top_field_first;
	vp.unpaired_field = di->repeat_first_field < 0;
	vp.output_stream = d->stream;
	CUdeviceptr src = 0;
	unsigned int pitch = 0;
	if (d->cv->cuvidMapVideoFrame(d->dec, di->picture_index, &src, &pitch, &vp) != CUDA_SUCCESS) {
		d->corrupt++;
		return 1;
	}
	CUVIDGETDECODESTATUS st;
	memset(&st, 0, sizeof st);
	if (d->cv->cuvidGetDecodeStatus(d->dec, di->picture_index, &st) == CUDA_SUCCESS &&
	    (st.decodeStatus == cuvidDecodeStatus_Error || st.decodeStatus == cuvidDecodeStatus_Error_Concealed)) {
		d->corrupt++;
		d->cv->cuvidUnmapVideoFrame(d->dec, src);
		return 1;
	}
	int b = d->out_n < NVDEC_OUT_MAX ? take_buffer(d) : -1;
	if (b < 0) {
		d->err = odet_error(d->ctx, ODET_ERR_LIMIT, "%s: NVDEC: more than %d decoded frames held", d->path, d->n_pool);
		d->cv->cuvidUnmapVideoFrame(d->dec, src);
		return 0;
	}
	CUDA_MEMCPY2D c;
	memset(&c, 0, sizeof c);
	c.srcMemoryType = CU_MEMORYTYPE_DEVICE;
	c.srcDevice = src + (CUdeviceptr)d->top * pitch + (CUdeviceptr)d->left;
	c.srcPitch = pitch;
	c.dstMemoryType = CU_MEMORYTYPE_DEVICE;
	c.dstDevice = d->pool[b];
	c.dstPitch = (size_t)d->pitch;
	c.WidthInBytes = (size_t)d->w;
	c.Height = (size_t)d->h;
	CUresult r = d->cu->cuMemcpy2DAsync(&c, d->stream);
	if (r == CUDA_SUCCESS) {
		/* chroma: the surface's second plane starts after coded_h luma rows */
		c.srcDevice = src + (CUdeviceptr)pitch * (CUdeviceptr)((d->coded_h + 1) & ~1) +
			      (CUdeviceptr)(d->top / 2) * pitch + (CUdeviceptr)(d->left & ~1);
		c.dstDevice = d->pool[b] + (CUdeviceptr)d->pitch * (CUdeviceptr)d->h;
		c.WidthInBytes = (size_t)((d->w + 1) & ~1);
		c.Height = (size_t)((d->h + 1) / 2);
		r = d->cu->cuMemcpy2DAsync(&c, d->stream);
	}
	if (r == CUDA_SUCCESS)
		r = d->cu->cuStreamSynchronize(d->stream);
	d->cv->cuvidUnmapVideoFrame(d->dec, src);
	if (r != CUDA_SUCCESS) {
		io_nvdec_release(d, b);
		d->err = cu_fail(d, r, "copying a frame");
		return 0;
	}
	int k = (d->out_head + d->out_n) % NVDEC_OUT_MAX;
	d->out_buf[k] = b;
	d->out_pts[k] = (double)di->timestamp * 1e-7;
	d->out_n++;
	return 1;
}

void io_nvdec_close(io_nvdec *d)
{
	if (!d)
		return;
	if (d->cu && d->cuctx)
		d->cu->cuCtxPushCurrent(d->cuctx);
	if (d->parser)
		d->cv->cuvidDestroyVideoParser(d->parser);
	if (d->dec)
		d->cv->cuvidDestroyDecoder(d->dec);
	for (int i = 0; d->pool && i < d->n_pool; i++)
		if (d->pool[i])
			d->cu->cuMemFree(d->pool[i]);
	if (d->lock)
		d->cv->cuvidCtxLockDestroy(d->lock);
	if (d->stream)
		d->cu->cuStreamDestroy(d->stream);
	if (d->cu && d->cuctx) {
		CUcontext popped;
		d->cu->cuCtxPopCurrent(&popped);
	}
	if (d->ctx_retained)
		d->cu->cuDevicePrimaryCtxRelease(d->dev);
	io_video_close(d->dmx);
	pthread_mutex_destroy(&d->mu);
	free(d->pool);
	free(d->used);
	free(d->path);
	free(d);
}

odet_status io_nvdec_open(odet_ctx *ctx, const char *path, int device, int max_frames, io_nvdec **out,
			  io_video_info *info)
{
	*out = NULL;
	if (max_frames < 1 || max_frames > 4096)
		return odet_error(ctx, ODET_ERR_INVALID_ARG, "NVDEC: max_frames 1..4096");
	io_nvdec *d = odet_calloc(ctx, 1, sizeof *d);
	if (!d)
		return ODET_ERR_NO_MEMORY;
	d->ctx = ctx;
	pthread_mutex_init(&d->mu, NULL);
	odet_status rc = ODET_ERR_NO_MEMORY;
	d->n_pool = max_frames + 2;
	if (!(d->path = strdup(path)) || !(d->pool = calloc((size_t)d->n_pool, sizeof *d->pool)) ||
	    !(d->used = calloc((size_t)d->n_pool, sizeof *d->used)))
		goto out_close;
	char why[256] = "";
	const nvdec_libs *libs = odet_ctx_lib(ctx, ODET_CTX_LIB_NVDEC, nvdec_libs_load, nvdec_libs_release, why, sizeof why);
	if (!libs) {
		rc = odet_error(ctx, ODET_ERR_UNSUPPORTED, "%s: NVDEC not available (%s)", path, why);
		goto out_close;
	}
	d->cu = libs->cu;
	d->cv = libs->cv;
	CUresult r;
	if ((r = d->cu->cuInit(0)) != CUDA_SUCCESS || (r = d->cu->cuDeviceGet(&d->dev, device)) != CUDA_SUCCESS ||
	    (r = d->cu->cuDevicePrimaryCtxRetain(&d->cuctx, d->dev)) != CUDA_SUCCESS) {
		d->cuctx = NULL;
		rc = odet_error(ctx, ODET_ERR_UNSUPPORTED, "%s: NVDEC: no GPU %d (%d)", path, device, (int)r);
		goto out_close;
	}
	d->ctx_retained = true;
	if ((r = d->cu->cuCtxPushCurrent(d->cuctx)) != CUDA_SUCCESS) {
		d->cuctx = NULL;
		rc = cu_fail(d, r, "cuCtxPushCurrent");
		goto out_close;
	}
	if ((r = d->cu->cuStreamCreate(&d->stream, CU_STREAM_NON_BLOCKING)) != CUDA_SUCCESS ||
	    (r = d->cv->cuvidCtxLockCreate(&d->lock, d->cuctx)) != CUDA_SUCCESS) {
		rc = cu_fail(d, r, "creating the stream and lock");
		goto out_close;
	}
	int codec_id = 0;
	if ((rc = io_video_open_demux(ctx, path, &d->dmx, info, &codec_id)))
		goto out_close;
	d->codec = codec_id == AV_CODEC_ID_H264 ? cudaVideoCodec_H264 : cudaVideoCodec_HEVC;
	if (codec_id != AV_CODEC_ID_H264 && codec_id != AV_CODEC_ID_HEVC) {
		rc = odet_error(ctx, ODET_ERR_UNSUPPORTED, "%s: the NVDEC path takes H.264 and HEVC (this stream: %s)", path,
				info ? info->codec : "?");
		goto out_close;
	}
	CUVIDPARSERPARAMS pp;
	memset(&pp, 0, sizeof pp);
	pp.CodecType = d->codec;
	pp.ulMaxNumDecodeSurfaces = 1; /* raised by on_sequence's return */
	pp.ulClockRate = 10000000;
	pp.ulMaxDisplayDelay = 2;
	pp.pUserData = d;
	pp.pfnSequenceCallback = on_sequence;
	pp.pfnDecodePicture = on_decode;
	pp.pfnDisplayPicture = on_display;
	if ((r = d->cv->cuvidCreateVideoParser(&d->parser, &pp)) != CUDA_SUCCESS) {
		rc = cu_fail(d, r, "cuvidCreateVideoParser");
		goto out_close;
	}
	CUcontext popped;
	d->cu->cuCtxPopCurrent(&popped);
	*out = d;
	return ODET_OK;
out_close:
	io_nvdec_close(d);
	return rc;
}

odet_status io_nvdec_read(io_nvdec *d, io_nv12_frame *f, double *pts, bool *eof)
{
	*eof = false;
	for (;;) {
		if (d->err)
			return d->err;
		if (d->out_n) {
			int b = d->out_buf[d->out_head];
			*pts = d->out_pts[d->out_head];
			d->out_head = (d->out_head + 1) % NVDEC_OUT_MAX;
			d->out_n--;
			const uint8_t *base = (const uint8_t *)(uintptr_t)d->pool[b];
			*f = (io_nv12_frame){.y = base, .uv = base + d->pitch * d->h, .pitch = d->pitch, .w = d->w,
					     .h = d->h, .full_range = d->full_range, .buf = b};
			return ODET_OK;
		}
		if (d->done) {
			*eof = true;
			return ODET_OK;
		}
		const uint8_t *data = NULL;
		size_t size = 0;
		double t = 0;
		bool end = false;
		odet_status rc = io_video_read_packet(d->dmx, &data, &size, &t, &end);
		if (rc)
			return rc;
		CUVIDSOURCEDATAPACKET pk;
		memset(&pk, 0, sizeof pk);
		if (end) {
			pk.flags = CUVID_PKT_ENDOFSTREAM;
			d->done = true;
		} else {
			pk.flags = CUVID_PKT_TIMESTAMP;
			pk.payload = data;
			pk.payload_size = (tcu_ulong)size;
			pk.timestamp = (CUvideotimestamp)llround(t * 1e7);
		}
		d->cu->cuCtxPushCurrent(d->cuctx);
		CUresult r = d->cv->cuvidParseVideoData(d->parser, &pk);
		CUcontext popped;
		d->cu->cuCtxPopCurrent(&popped);
		if (r != CUDA_SUCCESS && !d->err)
			d->corrupt++; /* the parser rejected the packet */
	}
}

void io_nvdec_release(io_nvdec *d, int buf)
{
	if (!d || buf < 0 || buf >= d->n_pool)
		return;
	pthread_mutex_lock(&d->mu);
	d->used[buf] = false;
	pthread_mutex_unlock(&d->mu);
}

int64_t io_nvdec_corrupt(const io_nvdec *d)
{
	return d ? d->corrupt + io_video_corrupt(d->dmx) : 0;
}
