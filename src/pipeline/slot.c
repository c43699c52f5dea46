/*
 * slot.c — one batch in flight on one device. Enqueue, on the exec's stream:
 *   [CPU-decoded RGB, one copy] → [nvJPEG batched decode of the JPEGs it takes] →
 *   [descriptors, one copy] → letterbox hook into the engine's input → engine (network +
 *   head) → the four detection outputs into page-locked memory.
 * Nothing waits until pl_slot_finish, which synchronizes the stream once per batch and maps
 * each image's boxes back to its pixels. Page-locked staging and device RGB buffers grow to
 * the largest batch seen (rarely: the first batches), never per image.
 */
#include "pipeline/pipeline.h"
#include "io/nvdec.h"
#include "io/jpeg_header.h"

#include <stdlib.h>
#include <string.h>

#define PL_MAX_FILE_BYTES ((size_t)1 << 30)
#define PL_ALIGN 256

static size_t align_up(size_t x)
{
	return (x + PL_ALIGN - 1) & ~(size_t)(PL_ALIGN - 1);
}

/* ---------------------------------------------------------------- items */

void pl_item_fail(pl_item *it, odet_status st, const char *msg)
{
	it->status = st;
	free(it->error);
	it->error = strdup(msg && *msg ? msg : odet_status_str(st));
}

void pl_item_clear(pl_item *it)
{
	free(it->error);
	free(it->bytes);
	io_image_free(&it->img);
	memset(it, 0, sizeof *it);
}

void pl_item_decode_cpu(odet_ctx *ctx, pl_item *it)
{
	double t0 = odet_now_s();
	odet_status rc = io_image_decode_mem(ctx, it->bytes, it->size, it->path, &it->img);
	it->decode_s += odet_now_s() - t0;
	free(it->bytes);
	it->bytes = NULL;
	if (rc) {
		pl_item_fail(it, rc, odet_ctx_last_error(ctx));
		return;
	}
	it->w = it->img.w;
	it->h = it->img.h;
}

void pl_item_load(odet_ctx *ctx, pl_item *it, const void *mem, size_t mem_size, bool gpu_jpeg)
{
	double t0 = odet_now_s();
	void *data = NULL;
	size_t size = 0;
	odet_status rc = ODET_OK;
	if (!mem) {
		rc = odet_file_read(ctx, it->path, PL_MAX_FILE_BYTES, &data, &size);
	} else if (mem_size == 0 || mem_size > PL_MAX_FILE_BYTES) {
		rc = odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: %zu bytes (1 to %zu expected)", it->path, mem_size,
				PL_MAX_FILE_BYTES);
	} else if (!(data = malloc(mem_size))) {
		rc = odet_error(ctx, ODET_ERR_NO_MEMORY, "%s: no memory for %zu bytes", it->path, mem_size);
	} else {
		memcpy(data, mem, mem_size);
		size = mem_size;
	}
	it->read_s += odet_now_s() - t0;
	if (rc) {
		pl_item_fail(it, rc, odet_ctx_last_error(ctx));
		return;
	}
	it->bytes = data;
	it->size = size;
	const uint8_t *b = data;
	if (gpu_jpeg && size >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff) {
		io_jpeg_info info;
		rc = io_jpeg_header(ctx, b, size, it->path, &info);
		if (rc == ODET_ERR_LIMIT) {
			pl_item_fail(it, rc, odet_ctx_last_error(ctx));
			free(it->bytes);
			it->bytes = NULL;
			return;
		}
		/* what the header walk doubts (no EOI: truncated, or data after it) the CPU decoder
		 * judges, and names */
		if (rc == ODET_OK && info.baseline && (info.components == 1 || info.components == 3)) {
			it->jpeg_gpu = true;
			it->w = info.w;
			it->h = info.h;
			return;
		}
	}
	pl_item_decode_cpu(ctx, it);
}

/* ---------------------------------------------------------------- slots */

static odet_status grow_host(pl_device *d, uint8_t **p, size_t *cap, size_t need)
{
	if (need <= *cap)
		return ODET_OK;
	const odet_backend *be = d->e->be;
	size_t n = align_up(need + need / 4);
	if (be->host_alloc) {
		be->host_free(*p);
		*p = NULL;
		*cap = 0;
		odet_status rc = be->host_alloc(d->ctx, n, (void **)p);
		if (rc)
			return rc;
	} else {
		free(*p);
		if (!(*p = odet_malloc(d->ctx, n))) {
			*cap = 0;
			return ODET_ERR_NO_MEMORY;
		}
	}
	*cap = n;
	return ODET_OK;
}

static odet_status grow_dev(pl_device *d, uint8_t **p, size_t *cap, size_t need)
{
	if (need <= *cap)
		return ODET_OK;
	const odet_backend *be = d->e->be;
	size_t n = align_up(need + need / 4);
	be->mem_free(*p);
	*p = NULL;
	*cap = 0;
	odet_status rc = be->mem_alloc(d->ctx, n, (void **)p);
	if (rc)
		return rc;
	*cap = n;
	return ODET_OK;
}

odet_status pl_slot_init(pl_device *d, pl_slot *s)
{
	const odet_pipeline *p = d->p;
	const odet_backend *be = d->e->be;
	odet_ctx *ctx = d->ctx;
	int B = p->batch, K = p->capacity;
	odet_status rc;
	if ((rc = odet_exec_create(d->e, &s->x)))
		return rc;
	/* count [B] i32, boxes [B,K,4] f32, scores [B,K] f32, classes [B,K] i32, descriptors [B] */
	size_t rows = (size_t)B * (size_t)K;
	size_t off_boxes = align_up((size_t)B * 4), off_scores = off_boxes + align_up(rows * 16);
	size_t off_classes = off_scores + align_up(rows * 4), off_desc = off_classes + align_up(rows * 4);
	size_t bytes = off_desc + align_up((size_t)B * sizeof(be_lbox_image));
	if (be->host_alloc)
		rc = be->host_alloc(ctx, bytes, &s->det_block);
	else if (!(s->det_block = odet_calloc(ctx, 1, bytes)))
		rc = ODET_ERR_NO_MEMORY;
	if (rc)
		return rc;
	char *blk = s->det_block;
	s->det.batch = B;
	s->det.capacity = K;
	s->det.count = (int32_t *)blk;
	s->det.boxes = (float *)(blk + off_boxes);
	s->det.scores = (float *)(blk + off_scores);
	s->det.classes = (int32_t *)(blk + off_classes);
	s->desc_host = (be_lbox_image *)(blk + off_desc);
	if ((rc = exec_detections_check(s->x, &s->det)))
		return rc;
	if (be->kind == ODET_BACKEND_CPU)
		s->desc_dev = s->desc_host;
	else if ((rc = be->mem_alloc(ctx, (size_t)B * sizeof(be_lbox_image), (void **)&s->desc_dev)))
		return rc;
	if (d->nj && (rc = io_nvjpeg_batch_create(d->nj, B, &s->nj)))
		return rc;
	if (be->event_create && ((rc = be->event_create(ctx, &s->ev_start)) || (rc = be->event_create(ctx, &s->ev_end))))
		return rc;
	s->items = odet_calloc(ctx, (size_t)B, sizeof *s->items);
	s->lbox = odet_calloc(ctx, (size_t)B, sizeof *s->lbox);
	s->pos = odet_calloc(ctx, (size_t)B, sizeof *s->pos);
	s->nj_data = odet_calloc(ctx, (size_t)B, sizeof *s->nj_data);
	s->nj_size = odet_calloc(ctx, (size_t)B, sizeof *s->nj_size);
	s->nj_dst = odet_calloc(ctx, (size_t)B, sizeof *s->nj_dst);
	s->nj_pitch = odet_calloc(ctx, (size_t)B, sizeof *s->nj_pitch);
	s->nj_label = odet_calloc(ctx, (size_t)B, sizeof *s->nj_label);
	if (!s->items || !s->lbox || !s->pos || !s->nj_data || !s->nj_size || !s->nj_dst || !s->nj_pitch ||
	    !s->nj_label)
		return ODET_ERR_NO_MEMORY;
	return ODET_OK;
}

void pl_slot_free(pl_device *d, pl_slot *s)
{
	const odet_backend *be = d->e ? d->e->be : NULL;
	if (be) {
		if (s->busy && s->x)
			be->stream_sync(d->ctx, s->x->stream);
		if (be->event_destroy) {
			be->event_destroy(s->ev_start);
			be->event_destroy(s->ev_end);
		}
		if (be->host_alloc) {
			be->host_free(s->det_block);
			be->host_free(s->stage);
		} else {
			free(s->det_block);
			free(s->stage);
		}
		if (s->desc_dev && be->kind != ODET_BACKEND_CPU)
			be->mem_free(s->desc_dev);
		if (s->nv_dev)
			be->mem_free(s->nv_dev);
		if (s->rgb_dev)
			be->mem_free(s->rgb_dev);
	}
	io_nvjpeg_batch_destroy(s->nj);
	odet_exec_destroy(s->x);
	free(s->items);
	free(s->lbox);
	free(s->nv_host);
	free(s->pos);
	free(s->nj_data);
	free(s->nj_size);
	free(s->nj_dst);
	free(s->nj_pitch);
	free(s->nj_label);
	memset(s, 0, sizeof *s);
}

static void describe(const pl_device *d, pl_slot *s, int row, const uint8_t *rgb, const pl_item *it, int k)
{
	const odet_model_info *mi = &d->p->mi;
	io_lbox_geom g;
	io_letterbox_geom(it->w, it->h, mi->input_w, mi->input_h, &g);
	be_lbox_image *im = &s->desc_host[row];
	im->rgb = rgb;
	im->pitch = (int64_t)it->w * 3;
	im->w = it->w;
	im->h = it->h;
	im->rw = g.rw;
	im->rh = g.rh;
	im->px = g.px;
	im->py = g.py;
	s->lbox[k] = g.lb;
}

/* An NVDEC frame's descriptor (row `row` of the NV12 letterbox call). */
static void describe_nv(const pl_device *d, pl_slot *s, int row, const pl_item *it, int k)
{
	const odet_model_info *mi = &d->p->mi;
	io_lbox_geom g;
	io_letterbox_geom(it->w, it->h, mi->input_w, mi->input_h, &g);
	s->nv_host[row] = (be_nv12_image){.y = it->nv->y, .uv = it->nv->uv, .pitch = it->nv->pitch, .w = it->w,
					  .h = it->h, .rw = g.rw, .rh = g.rh, .px = g.px, .py = g.py,
					  .full_range = it->nv->full_range};
	s->lbox[k] = g.lb;
}

/* NVDEC frames of a batch: their descriptors' memory (first use), then rows 0..k-1 of the input
 * letterboxed from NV12 in one launch. */
static odet_status enqueue_nv12(pl_device *d, pl_slot *s, int k, void *stream)
{
	const odet_backend *be = d->e->be;
	odet_pipeline *p = d->p;
	if (!be->letterbox_nv12)
		return odet_error(d->ctx, ODET_ERR_UNSUPPORTED, "video: the %s backend cannot letterbox NVDEC frames", be->name);
	odet_status rc = be->copy_to(d->ctx, s->nv_dev, s->nv_host, (size_t)k * sizeof(be_nv12_image), stream);
	if (rc)
		return rc;
	be_nv12_args a = {
		.images = s->nv_dev, .n = k, .batch = k, .dst = exec_input_ptr(s->x, 0), .dtype = p->in_dtype,
		.layout = p->mi.layout, .dst_h = p->mi.input_h, .dst_w = p->mi.input_w, .fill = 0.0f,
	};
	memcpy(a.scale, p->mi.pixel_scale, sizeof a.scale);
	memcpy(a.bias, p->mi.pixel_bias, sizeof a.bias);
	return be->letterbox_nv12(d->ctx, &a, stream);
}

odet_status pl_slot_enqueue(pl_device *d, pl_slot *s, pl_item **items, int n, int64_t batch_index)
{
	odet_pipeline *p = d->p;
	odet_ctx *ctx = d->ctx;
	const odet_backend *be = d->e->be;
	bool host = be->kind == ODET_BACKEND_CPU;
	odet_status rc;
	double t0 = odet_now_s();
	s->n = n;
	s->batch_index = batch_index;
	/* who decodes what: nvJPEG takes the JPEGs it supports, the CPU the rest (now, here) */
	size_t cpu_bytes = 0, jpeg_bytes = 0, gpu_rgb = 0;
	int n_nv = 0; /* NVDEC frames: rows 0..n_nv-1, the others after them */
	for (int i = 0; i < n; i++) {
		pl_item *it = items[i];
		s->items[i] = it;
		if (it->status)
			continue;
		if (it->nv) {
			n_nv++;
			continue;
		}
		if (it->jpeg_gpu && !(s->nj && io_nvjpeg_supported(s->nj, it->bytes, it->size))) {
			it->jpeg_gpu = false;
			pl_item_decode_cpu(ctx, it);
			s->st.cpu_decode_s += it->decode_s;
			if (it->status)
				continue;
		}
		size_t rgb = align_up((size_t)it->w * (size_t)it->h * 3);
		if (it->jpeg_gpu) {
			jpeg_bytes += align_up(it->size);
			gpu_rgb += rgb;
		} else {
			cpu_bytes += rgb;
		}
	}
	/* staging: [CPU RGB][JPEG bytes]; device: [CPU RGB][nvJPEG RGB] */
	if (!host && ((rc = grow_host(d, &s->stage, &s->stage_cap, cpu_bytes + jpeg_bytes + PL_ALIGN)) ||
		      (rc = grow_dev(d, &s->rgb_dev, &s->rgb_cap, cpu_bytes + gpu_rgb + PL_ALIGN))))
		return rc;
	if (n_nv && host)
		return odet_error(ctx, ODET_ERR_INTERNAL, "video: NVDEC frames reached the CPU backend");
	if (n_nv && !s->nv_dev) {
		if (!(s->nv_host = odet_calloc(ctx, (size_t)p->batch, sizeof *s->nv_host)) ||
		    (rc = be->mem_alloc(ctx, (size_t)p->batch * sizeof(be_nv12_image), (void **)&s->nv_dev)))
			return rc ? rc : ODET_ERR_NO_MEMORY;
	}
	size_t off_cpu = 0, off_jpeg = cpu_bytes, off_gpu = cpu_bytes;
	int row = n_nv, g = 0, nv_row = 0;
	for (int i = 0; i < n; i++) {
		pl_item *it = items[i];
		s->pos[i] = -1;
		if (it->status)
			continue;
		if (it->nv) {
			s->pos[i] = nv_row;
			describe_nv(d, s, nv_row++, it, i);
			continue;
		}
		s->pos[i] = row;
		size_t rgb = (size_t)it->w * (size_t)it->h * 3;
		if (host) {
			describe(d, s, row, it->img.rgb, it, i);
		} else if (it->jpeg_gpu) {
			memcpy(s->stage + off_jpeg, it->bytes, it->size);
			s->nj_data[g] = s->stage + off_jpeg;
			s->nj_size[g] = it->size;
			s->nj_dst[g] = s->rgb_dev + off_gpu;
			s->nj_pitch[g] = (size_t)it->w * 3;
			s->nj_label[g] = it->path;
			g++;
			describe(d, s, row, s->rgb_dev + off_gpu, it, i);
			it->gpu_decoded = true;
			off_jpeg += align_up(it->size);
			off_gpu += align_up(rgb);
		} else {
			memcpy(s->stage + off_cpu, it->img.rgb, rgb);
			describe(d, s, row, s->rgb_dev + off_cpu, it, i);
			off_cpu += align_up(rgb);
		}
		row++;
	}
	void *stream = s->x->stream;
	if (s->ev_start && (rc = be->event_record(ctx, s->ev_start, stream)))
		return rc;
	if (!host && cpu_bytes && (rc = be->copy_to(ctx, s->rgb_dev, s->stage, cpu_bytes, stream)))
		return rc;
	double t1 = odet_now_s();
	if (g && (rc = io_nvjpeg_decode(s->nj, s->nj_data, s->nj_size, g, s->nj_dst, s->nj_pitch, s->nj_label,
					stream)))
		return rc;
	double t2 = odet_now_s();
	s->st.decode_submit_s += t2 - t1;
	if (n_nv && (rc = enqueue_nv12(d, s, n_nv, stream)))
		return rc;
	/* the other rows (and the padding) after the NVDEC frames' */
	if (!host && row > n_nv &&
	    (rc = be->copy_to(ctx, s->desc_dev, s->desc_host + n_nv, (size_t)(row - n_nv) * sizeof(be_lbox_image),
			      stream)))
		return rc;
	size_t row_bytes = (size_t)3 * (size_t)p->mi.input_h * (size_t)p->mi.input_w * odet_dtype_size(p->in_dtype);
	be_lbox_args a = {
		.images = s->desc_dev, .n = row - n_nv, .batch = p->batch - n_nv,
		.dst = (char *)exec_input_ptr(s->x, 0) + (size_t)n_nv * row_bytes,
		.dtype = p->in_dtype, .layout = p->mi.layout, .dst_h = p->mi.input_h, .dst_w = p->mi.input_w,
		.fill = 0.0f,
	};
	memcpy(a.scale, p->mi.pixel_scale, sizeof a.scale);
	memcpy(a.bias, p->mi.pixel_bias, sizeof a.bias);
	if ((a.batch > 0 && (rc = be->letterbox(ctx, &a, stream))) || (rc = exec_detections_enqueue(s->x, &s->det)))
		return rc;
	s->st.engine_submit_s += odet_now_s() - t2;
	if (s->ev_end && (rc = be->event_record(ctx, s->ev_end, stream)))
		return rc;
	s->busy = true;
	/* everything the device needs is staged (or, on the CPU, already used) */
	for (int i = 0; i < n; i++) {
		free(items[i]->bytes);
		items[i]->bytes = NULL;
		if (!items[i]->keep_img)
			io_image_free(&items[i]->img);
	}
	s->st.gpu_decoded += g;
	s->st.stage_s += odet_now_s() - t0;
	return ODET_OK;
}

void pl_result_free(pl_result *r)
{
	if (!r)
		return;
	free(r->r);
	free(r->boxes);
	free(r->scores);
	free(r->classes);
	memset(r, 0, sizeof *r);
}

odet_status pl_slot_finish(pl_device *d, pl_slot *s, pl_result *res)
{
	const odet_pipeline *p = d->p;
	const odet_backend *be = d->e->be;
	double t0 = odet_now_s();
	odet_status rc = be->stream_sync(d->ctx, s->x->stream);
	s->st.wait_device_s += odet_now_s() - t0;
	s->busy = false;
	if (rc)
		return rc;
	float ms = 0;
	if (s->ev_start && be->event_elapsed(d->ctx, s->ev_start, s->ev_end, &ms) == ODET_OK)
		s->st.device_s += ms * 1e-3;
	exec_detections_clamp(s->x, &s->det);
	int K = s->det.capacity, total = 0;
	for (int i = 0; i < s->n; i++)
		if (s->pos[i] >= 0)
			total += s->det.count[s->pos[i]];
	memset(res, 0, sizeof *res);
	res->n = s->n;
	res->r = calloc((size_t)s->n, sizeof *res->r);
	res->boxes = malloc(sizeof(float) * 4 * (size_t)(total + 1));
	res->scores = malloc(sizeof(float) * (size_t)(total + 1));
	res->classes = malloc(sizeof(int32_t) * (size_t)(total + 1));
	if (!res->r || !res->boxes || !res->scores || !res->classes) {
		pl_result_free(res);
		return odet_error(d->ctx, ODET_ERR_NO_MEMORY, "out of memory for a batch's detections");
	}
	int at = 0;
	for (int i = 0; i < s->n; i++) {
		const pl_item *it = s->items[i];
		odet_image_result *r = &res->r[i];
		r->index = it->index;
		r->path = it->path;
		r->status = it->status;
		r->error = it->error;
		r->width = it->w;
		r->height = it->h;
		r->device = d->device;
		r->gpu_decoded = it->gpu_decoded;
		r->boxes = res->boxes + 4 * at;
		r->scores = res->scores + at;
		r->classes = res->classes + at;
		if (s->pos[i] < 0)
			continue;
		int row = s->pos[i];
		const io_lbox *lb = &s->lbox[i];
		for (int k = 0; k < s->det.count[row]; k++) {
			size_t j = (size_t)row * K + k;
			float sc = s->det.scores[j];
			if (sc < p->opts.score)
				continue;
			/* model-input pixels → image pixels, clipped to the image */
			for (int c = 0; c < 4; c++) {
				float pad = (c & 1) ? lb->pad_y : lb->pad_x;
				float lim = (c & 1) ? (float)it->h : (float)it->w;
				float v = (s->det.boxes[j * 4 + c] - pad) / lb->scale;
				res->boxes[4 * at + c] = v < 0 ? 0 : v > lim ? lim : v;
			}
			res->scores[at] = sc;
			res->classes[at] = s->det.classes[j];
			at++;
			r->count++;
		}
	}
	return ODET_OK;
}
