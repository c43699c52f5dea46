/*
 * config.c — head presets and the head config file (format in docs/heads.md):
 * "key = value" lines, '#' comments, lists separated by spaces or commas, per-level lists
 * separated by ';'. "base = <preset>" first copies a preset; later keys override it.
 * The file is untrusted: 64 KiB at most, every number checked, one error naming file and line.
 */
#include "heads/heads_internal.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void common(head_spec *s, const char *name, head_type t)
{
	memset(s, 0, sizeof *s);
	snprintf(s->name, sizeof s->name, "%s", name);
	s->type = t;
	s->weights[0] = s->weights[1] = s->weights[2] = s->weights[3] = 1.0f;
	s->background = -1;
	s->reg_max = 16;
	s->fig_size = 300;
	/* defaults of a config file without base: overridden by every preset */
	s->score_threshold = 0.05f;
	s->iou_threshold = 0.5f;
	s->max_detections = 100;
	for (int c = 0; c < 3; c++)
		s->pixel_scale[c] = 1.0f / 255.0f;
}

/* torchvision/NVIDIA ImageNet normalization: (rgb / 255 - mean) / std */
static void imagenet_norm(head_spec *s)
{
	static const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
	for (int c = 0; c < 3; c++) {
		s->pixel_scale[c] = 1.0f / (255.0f * std[c]);
		s->pixel_bias[c] = -mean[c] / std[c];
	}
}

static void ssd_levels(head_spec *s)
{
	static const int64_t feat[6] = {38, 19, 10, 5, 3, 1};
	static const double steps[6] = {8, 16, 32, 64, 100, 300};
	s->n_levels = 6;
	for (int k = 0; k < 6; k++) {
		s->feat[k] = feat[k];
		s->steps[k] = steps[k];
		s->n_ar[k] = (k == 0 || k >= 4) ? 1 : 2;
		s->ar[k][0] = 2;
		s->ar[k][1] = 3;
	}
}

odet_status head_preset(const char *name, head_spec *s)
{
	if (!strcmp(name, "ssd300-nvidia")) {
		static const double sc[7] = {21, 45, 99, 153, 207, 261, 315};
		common(s, name, HEAD_SSD);
		ssd_levels(s);
		memcpy(s->scales, sc, sizeof sc);
		s->ssd_style = 0;
		s->scale_xy = 0.1, s->scale_wh = 0.2;
		s->score_threshold = 0.05f, s->iou_threshold = 0.45f;
		s->topk = 200, s->max_detections = 200, s->background = 0, s->iou_ge = 1;
		imagenet_norm(s);
		s->coco_offset = 1; /* 81 classes, 0 = background */
	} else if (!strcmp(name, "ssd300-vgg16")) {
		static const double sc[7] = {0.07, 0.15, 0.33, 0.51, 0.69, 0.87, 1.05};
		common(s, name, HEAD_SSD);
		ssd_levels(s);
		memcpy(s->scales, sc, sizeof sc);
		s->ssd_style = 1;
		s->weights[0] = s->weights[1] = 10.0f;
		s->weights[2] = s->weights[3] = 5.0f;
		s->score_threshold = 0.01f, s->iou_threshold = 0.45f;
		s->topk = 400, s->max_detections = 200, s->background = 0;
		/* torchvision SSD: image_mean (0.48235, 0.45882, 0.40784), image_std 1/255 */
		s->pixel_scale[0] = s->pixel_scale[1] = s->pixel_scale[2] = 1.0f;
		s->pixel_bias[0] = -0.48235f * 255, s->pixel_bias[1] = -0.45882f * 255, s->pixel_bias[2] = -0.40784f * 255;
		s->coco_offset = -1; /* 91 classes indexed by COCO category id */
	} else if (!strcmp(name, "retinanet")) {
		static const double sz[5][3] = {{32, 40, 50}, {64, 80, 101}, {128, 161, 203}, {256, 322, 406},
						{512, 645, 812}};
		common(s, name, HEAD_RETINANET);
		s->n_levels = 5;
		s->first_level = 3;
		for (int l = 0; l < 5; l++) {
			s->n_sizes[l] = 3;
			memcpy(s->sizes[l], sz[l], sizeof sz[l]);
		}
		s->n_ar[0] = 3;
		s->ar[0][0] = 0.5, s->ar[0][1] = 1.0, s->ar[0][2] = 2.0;
		s->score_threshold = 0.05f, s->iou_threshold = 0.5f;
		s->topk = 1000, s->max_detections = 300;
		imagenet_norm(s);
		s->coco_offset = -1;
	} else if (!strcmp(name, "yolov5") || !strcmp(name, "yolov8")) {
		static const float an[3][6] = {{10, 13, 16, 30, 33, 23}, {30, 61, 62, 45, 59, 119},
					       {116, 90, 156, 198, 373, 326}};
		common(s, name, name[5] == '5' ? HEAD_YOLOV5 : HEAD_YOLOV8);
		s->decoded = 1;
		s->n_levels = 3;
		for (int l = 0; l < 3; l++) {
			s->steps[l] = 8 << l;
			s->n_anchors[l] = 3;
			memcpy(s->anchors[l], an[l], sizeof an[l]);
		}
		s->score_threshold = 0.25f, s->iou_threshold = 0.45f;
		s->topk = 0, s->max_detections = 300;
	} else if (!strcmp(name, "centernet")) {
		/* human-models' CenterNet: raw 0..255 RGB in, the graph's own top-100 peaks */
		common(s, name, HEAD_CENTERNET);
		s->pixel_scale[0] = s->pixel_scale[1] = s->pixel_scale[2] = 1.0f;
		s->score_threshold = 0.05f, s->iou_threshold = 1.0f;
		s->topk = 100, s->max_detections = 100;
	} else if (!strcmp(name, "nanodet")) {
		/* NanoDet-m (GFL): rgb / 255 in (as human feeds it); NanoDet's test config */
		common(s, name, HEAD_NANODET);
		s->score_threshold = 0.05f, s->iou_threshold = 0.6f;
		s->topk = 1000, s->max_detections = 100;
	} else {
		return ODET_ERR_INVALID_ARG;
	}
	return ODET_OK;
}

/* Parse "a b c; d e" into up to maxl levels of up to maxn numbers. Returns levels or -1. */
static int parse_levels(const char *v, int maxl, int maxn, double out[][HEAD_MAX_PER_LEVEL * 2], int *counts)
{
	int l = 0;
	counts[0] = 0;
	for (const char *p = v; *p;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		if (*p == ';') {
			if (++l >= maxl)
				return -1;
			counts[l] = 0;
			p++;
			continue;
		}
		char *end;
		const char *digits = p + (*p == '+' || *p == '-');
		if (digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) /* decimal numbers only */
			return -1;
		double d = strtod(p, &end);
		if (end == p || !isfinite(d) || counts[l] >= maxn)
			return -1;
		out[l][counts[l]++] = d;
		p = end;
	}
	return l + 1;
}

static int parse_list(const char *v, int maxn, double *out)
{
	double lv[1][HEAD_MAX_PER_LEVEL * 2];
	int c[1];
	if (maxn > HEAD_MAX_PER_LEVEL * 2 || parse_levels(v, 1, maxn, lv, c) != 1)
		return -1;
	memcpy(out, lv[0], sizeof(double) * (size_t)c[0]);
	return c[0];
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

static int set_key(head_spec *s, const char *k, const char *v)
{
	double lv[HEAD_MAX_LEVELS][HEAD_MAX_PER_LEVEL * 2], x[HEAD_MAX_PER_LEVEL * 2];
	int cnt[HEAD_MAX_LEVELS], n;
	if (!strcmp(k, "base")) {
		char keep[64];
		snprintf(keep, sizeof keep, "%s", s->name);
		if (head_preset(v, s))
			return -1;
		if (keep[0])
			snprintf(s->name, sizeof s->name, "%s", keep);
		return 0;
	}
	if (!strcmp(k, "name"))
		return snprintf(s->name, sizeof s->name, "%s", v) >= (int)sizeof s->name ? -1 : 0;
	if (!strcmp(k, "type")) {
		head_type t = !strcmp(v, "ssd") ? HEAD_SSD : !strcmp(v, "retinanet") ? HEAD_RETINANET
			    : !strcmp(v, "yolov5") ? HEAD_YOLOV5 : !strcmp(v, "yolov8") ? HEAD_YOLOV8
			    : !strcmp(v, "centernet") ? HEAD_CENTERNET : !strcmp(v, "nanodet") ? HEAD_NANODET : 0;
		s->type = t;
		return t ? 0 : -1;
	}
	if (!strcmp(k, "style")) {
		s->ssd_style = !strcmp(v, "nvidia") ? 0 : !strcmp(v, "torchvision") ? 1 : -1;
		return s->ssd_style < 0 ? -1 : 0;
	}
	if (!strcmp(k, "iou_rule")) {
		s->iou_ge = !strcmp(v, "ge") ? 1 : !strcmp(v, "gt") ? 0 : -1;
		return s->iou_ge < 0 ? -1 : 0;
	}
	if ((n = parse_list(v, HEAD_MAX_LEVELS + 1, x)) < 0)
		n = -1;
	static const char *const int_keys[] = {"topk", "max_detections", "background", "fig_size", "first_level",
						"decoded", "reg_max", "feature_maps"};
	for (size_t i = 0; i < sizeof int_keys / sizeof int_keys[0]; i++)
		if (!strcmp(k, int_keys[i]))
			for (int j = 0; j < n; j++)
				if (x[j] != floor(x[j])) /* integers are whole numbers: 3.5 is refused */
					return -1;
	if (!strcmp(k, "score_threshold") && n == 1)
		return s->score_threshold = (float)x[0], 0;
	if (!strcmp(k, "iou_threshold") && n == 1 && x[0] >= 0 && x[0] <= 1)
		return s->iou_threshold = (float)x[0], 0;
	if (!strcmp(k, "topk") && n == 1 && x[0] >= 0 && x[0] <= 1e9)
		return s->topk = (int64_t)x[0], 0;
	if (!strcmp(k, "max_detections") && n == 1 && x[0] >= 1 && x[0] <= (1 << 24))
		return s->max_detections = (int64_t)x[0], 0;
	if (!strcmp(k, "background") && n == 1 && x[0] >= -1 && x[0] <= 1e9)
		return s->background = (int64_t)x[0], 0;
	if (!strcmp(k, "fig_size") && n == 1 && x[0] >= 1 && x[0] <= 65536)
		return s->fig_size = (int)x[0], 0;
	if (!strcmp(k, "first_level") && n == 1 && x[0] >= 0 && x[0] <= 10)
		return s->first_level = (int)x[0], 0;
	if (!strcmp(k, "decoded") && n == 1 && (x[0] == 0 || x[0] == 1))
		return s->decoded = x[0] != 0, 0;
	if (!strcmp(k, "reg_max") && n == 1 && x[0] >= 1 && x[0] <= 1024)
		return s->reg_max = (int)x[0], 0;
	if (!strcmp(k, "variances") && n == 2 && x[0] > 0 && x[1] > 0)
		return s->scale_xy = x[0], s->scale_wh = x[1], 0;
	if (!strcmp(k, "weights") && n == 4) {
		for (int i = 0; i < 4; i++)
			if (!(x[i] > 0))
				return -1;
		for (int i = 0; i < 4; i++)
			s->weights[i] = (float)x[i];
		return 0;
	}
	if (!strcmp(k, "feature_maps") && n >= 1 && n <= HEAD_MAX_LEVELS) {
		for (int i = 0; i < n; i++)
			if (!(x[i] >= 1 && x[i] <= 4096))
				return -1;
		for (int i = 0; i < n; i++)
			s->feat[i] = (int64_t)x[i];
		s->n_levels = n;
		return 0;
	}
	if (!strcmp(k, "steps") && n >= 1 && n <= HEAD_MAX_LEVELS) {
		for (int i = 0; i < n; i++)
			if (!(x[i] > 0 && x[i] <= 65536))
				return -1;
		memcpy(s->steps, x, sizeof(double) * (size_t)n);
		if (s->type != HEAD_SSD)
			s->n_levels = n;
		return 0;
	}
	if (!strcmp(k, "scales") && n >= 2 && n <= HEAD_MAX_LEVELS + 1) {
		for (int i = 0; i < n; i++)
			if (!(x[i] > 0))
				return -1;
		memcpy(s->scales, x, sizeof(double) * (size_t)n);
		return 0;
	}
	if (!strcmp(k, "aspect_ratios") || !strcmp(k, "anchor_sizes") || !strcmp(k, "anchors")) {
		int nl = parse_levels(v, HEAD_MAX_LEVELS, HEAD_MAX_PER_LEVEL * 2, lv, cnt);
		if (nl < 1)
			return -1;
		for (int l = 0; l < nl; l++)
			for (int i = 0; i < cnt[l]; i++)
				if (!(lv[l][i] > 0 && lv[l][i] < 1e6))
					return -1;
		for (int l = 0; l < nl; l++) {
			if (!strcmp(k, "anchors")) {
				if (cnt[l] % 2 || cnt[l] < 2)
					return -1;
				s->n_anchors[l] = cnt[l] / 2;
				for (int i = 0; i < cnt[l]; i++)
					s->anchors[l][i] = (float)lv[l][i];
				continue;
			}
			if (cnt[l] > HEAD_MAX_PER_LEVEL)
				return -1;
			if (!strcmp(k, "aspect_ratios")) {
				s->n_ar[l] = cnt[l];
				memcpy(s->ar[l], lv[l], sizeof(double) * (size_t)cnt[l]);
			} else {
				s->n_sizes[l] = cnt[l];
				memcpy(s->sizes[l], lv[l], sizeof(double) * (size_t)cnt[l]);
			}
		}
		if (!strcmp(k, "anchor_sizes"))
			s->n_levels = nl;
		return 0;
	}
	return -1;
}

/* cross-field checks once the whole file is read */
static const char *validate(const head_spec *s)
{
	if (!s->type)
		return "no type (ssd, retinanet, yolov5, yolov8)";
	if (s->n_levels < 1)
		return "no levels";
	if (s->type == HEAD_SSD) {
		for (int k = 0; k < s->n_levels; k++)
			if (s->steps[k] <= 0 || s->scales[k] <= 0 || s->scales[k + 1] <= 0 || s->feat[k] < 1)
				return "ssd: feature_maps, steps and scales (levels + 1 values) must all be given";
		if (s->ssd_style == 0 && (s->scale_xy <= 0 || s->scale_wh <= 0))
			return "ssd: variances must be > 0";
		if (head_ssd_count(s) > (1 << 24))
			return "ssd: too many priors";
	}
	if (s->type == HEAD_RETINANET) {
		if (s->n_ar[0] < 1)
			return "retinanet: aspect_ratios missing";
		for (int l = 0; l < s->n_levels; l++)
			if (s->n_sizes[l] < 1 || s->n_sizes[l] * s->n_ar[0] > HEAD_MAX_PER_LEVEL * HEAD_MAX_PER_LEVEL)
				return "retinanet: anchor_sizes missing for a level";
		if (s->first_level + s->n_levels > 20)
			return "retinanet: levels too deep";
	}
	if ((s->type == HEAD_YOLOV5 || s->type == HEAD_YOLOV8) && !s->decoded) {
		for (int l = 0; l < s->n_levels; l++)
			if (s->steps[l] < 1 || (s->type == HEAD_YOLOV5 && s->n_anchors[l] < 1))
				return "yolo: raw heads need steps (and v5 anchors) per level";
	}
	return NULL;
}

odet_status head_config_load(odet_ctx *ctx, const char *path, head_spec *s)
{
	void *data;
	size_t size;
	odet_status rc = odet_file_read(ctx, path, 64 << 10, &data, &size);
	if (rc) { /* a bad --head value: bad input (exit 2), not a run-time failure */
		odet_error_prefix(ctx, "head '%s' is neither a preset (ssd300-nvidia, ssd300-vgg16, retinanet, "
				  "yolov5, yolov8) nor a readable config file: ", path);
		if (rc != ODET_ERR_IO)
			return rc;
		char msg[sizeof ctx->last_error];
		snprintf(msg, sizeof msg, "%s", odet_ctx_last_error(ctx));
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "%s", msg);
	}
	memset(s, 0, sizeof *s);
	common(s, "", 0);
	char *text = odet_malloc(ctx, size + 1);
	if (!text) {
		rc = ODET_ERR_NO_MEMORY;
		goto out_free;
	}
	memcpy(text, data, size);
	text[size] = 0;
	if (memchr(text, 0, size)) {
		rc = odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: not a text file (NUL byte)", path);
		goto out_free;
	}
	int line = 0;
	for (char *p = text, *nl; p; p = nl ? nl + 1 : NULL) {
		nl = strchr(p, '\n');
		if (nl)
			*nl = 0;
		line++;
		char *hash = strchr(p, '#');
		if (hash)
			*hash = 0;
		char *l = trim(p);
		if (!*l)
			continue;
		char *eq = strchr(l, '=');
		if (!eq) {
			rc = odet_error(ctx, ODET_ERR_BAD_INPUT, "%s:%d: expected 'key = value'", path, line);
			goto out_free;
		}
		*eq = 0;
		char *k = trim(l), *v = trim(eq + 1);
		if (set_key(s, k, v)) {
			rc = odet_error(ctx, ODET_ERR_BAD_INPUT, "%s:%d: bad value for '%s': '%s'", path, line, k, v);
			goto out_free;
		}
	}
	const char *why = validate(s);
	if (why) {
		rc = odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: %s", path, why);
		goto out_free;
	}
	if (!s->name[0])
		snprintf(s->name, sizeof s->name, "custom");
out_free:
	free(text);
	free(data);
	return rc;
}
