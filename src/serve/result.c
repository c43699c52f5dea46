/* result.c — job results as JSON (serve.h): written by workers, parsed by submitters. */
#include "serve/serve.h"
#include "eval/json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool buf_reserve(sv_buf *b, size_t more)
{
	if (b->failed)
		return false;
	if (b->n + more + 1 <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->n + more + 1)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (!p) {
		b->failed = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

void sv_buf_printf(sv_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int k = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (k < 0 || !buf_reserve(b, (size_t)k))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->n, (size_t)k + 1, fmt, ap);
	va_end(ap);
	b->n += (size_t)k;
}

void sv_buf_json_str(sv_buf *b, const char *s, size_t n)
{
	if (!buf_reserve(b, n * 6 + 2))
		return;
	char *o = b->p + b->n;
	*o++ = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			*o++ = '\\';
			*o++ = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			o += sprintf(o, "\\u%04x", c);
		} else {
			*o++ = (char)c;
		}
	}
	*o++ = '"';
	*o = 0;
	b->n = (size_t)(o - b->p);
}

void sv_buf_free(sv_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

odet_status sv_status_from_name(const char *s)
{
	for (int i = 0; i < ODET_STATUS_COUNT; i++)
		if (!strcmp(s, odet_status_str((odet_status)i)))
			return (odet_status)i;
	return ODET_ERR_INTERNAL;
}

void sv_result_free(sv_result *r)
{
	free(r->error);
	free(r->boxes);
	free(r->scores);
	free(r->classes);
	free(r->cats);
	memset(r, 0, sizeof *r);
}

#define SV_MAX_DETS 100000

/* v an integer in lo..hi (a NaN is not): what may be converted to int without undefined behaviour */
static bool int_in(double v, double lo, double hi)
{
	return v >= lo && v <= hi && v == (double)(int64_t)v;
}

/* "detections": [[x1,y1,x2,y2,score,class,category], ...] */
static odet_status parse_dets(json_reader *jr, sv_result *r)
{
	json_tok t;
	odet_status rc;
	int cap = 0;
	if ((rc = json_next(jr, &t)))
		return rc;
	if (t != JSON_ARRAY)
		return json_fail(jr, ODET_ERR_BAD_INPUT, "detections: an array expected");
	for (;;) {
		if ((rc = json_next(jr, &t)))
			return rc;
		if (t == JSON_ARRAY_END)
			return ODET_OK;
		if (t != JSON_ARRAY || r->count >= SV_MAX_DETS)
			return json_fail(jr, ODET_ERR_BAD_INPUT, "detection %d: an array of 7 numbers expected", r->count);
		if (r->count == cap) {
			cap = cap ? cap * 2 : 16;
			float *b = realloc(r->boxes, (size_t)cap * 4 * sizeof *b);
			if (b)
				r->boxes = b;
			float *s = realloc(r->scores, (size_t)cap * sizeof *s);
			if (s)
				r->scores = s;
			int32_t *c = realloc(r->classes, (size_t)cap * sizeof *c);
			if (c)
				r->classes = c;
			int32_t *k = realloc(r->cats, (size_t)cap * sizeof *k);
			if (k)
				r->cats = k;
			if (!b || !s || !c || !k)
				return odet_error(jr->ctx, ODET_ERR_NO_MEMORY, "no memory for detections");
		}
		double v[7];
		for (int i = 0; i < 7; i++) {
			if ((rc = json_next(jr, &t)))
				return rc;
			if (t != JSON_NUMBER)
				return json_fail(jr, ODET_ERR_BAD_INPUT, "detection %d: 7 numbers expected", r->count);
			v[i] = jr->num;
		}
		if ((rc = json_next(jr, &t)))
			return rc;
		if (t != JSON_ARRAY_END)
			return json_fail(jr, ODET_ERR_BAD_INPUT, "detection %d: 7 numbers expected", r->count);
		if (!int_in(v[5], INT32_MIN, INT32_MAX) || !int_in(v[6], INT32_MIN, INT32_MAX))
			return json_fail(jr, ODET_ERR_BAD_INPUT, "detection %d: class and category must be 32-bit integers",
					 r->count);
		int k = r->count++;
		for (int i = 0; i < 4; i++)
			r->boxes[4 * k + i] = (float)v[i];
		r->scores[k] = (float)v[4];
		r->classes[k] = (int32_t)v[5];
		r->cats[k] = (int32_t)v[6];
	}
}

odet_status sv_result_parse(odet_ctx *ctx, const char *json, size_t n, sv_result *out)
{
	memset(out, 0, sizeof *out);
	json_reader jr;
	json_tok t;
	odet_status rc = json_open_mem(&jr, ctx, "result", json, n);
	if (rc)
		return rc;
	bool ok = false, have_ok = false, have_dets = false;
	if ((rc = json_next(&jr, &t)))
		goto out;
	if (t != JSON_OBJECT) {
		rc = json_fail(&jr, ODET_ERR_BAD_INPUT, "an object expected");
		goto out;
	}
	for (;;) {
		if ((rc = json_next(&jr, &t)))
			goto out;
		if (t == JSON_OBJECT_END)
			break;
		char key[32];
		snprintf(key, sizeof key, "%s", jr.str);
		if (!strcmp(key, "detections")) {
			/* parse_dets appends to arrays it sized itself: a second list is refused */
			if (have_dets) {
				rc = json_fail(&jr, ODET_ERR_BAD_INPUT, "\"detections\" given twice");
				goto out;
			}
			have_dets = true;
			if ((rc = parse_dets(&jr, out)))
				goto out;
			continue;
		}
		if ((rc = json_next(&jr, &t)))
			goto out;
		if (!strcmp(key, "ok") && (t == JSON_TRUE || t == JSON_FALSE)) {
			ok = t == JSON_TRUE;
			have_ok = true;
		} else if ((!strcmp(key, "width") || !strcmp(key, "height")) && t == JSON_NUMBER) {
			if (!int_in(jr.num, 0, INT32_MAX)) {
				rc = json_fail(&jr, ODET_ERR_BAD_INPUT, "%s: an integer 0..2147483647 expected", key);
				goto out;
			}
			*(key[0] == 'w' ? &out->width : &out->height) = (int)jr.num;
		} else if (!strcmp(key, "status") && t == JSON_STRING) {
			out->status = sv_status_from_name(jr.str);
		} else if (!strcmp(key, "error") && t == JSON_STRING) {
			free(out->error);
			if (!(out->error = strdup(jr.str))) {
				rc = odet_error(ctx, ODET_ERR_NO_MEMORY, "no memory");
				goto out;
			}
		} else if ((rc = json_skip(&jr, t))) {
			goto out;
		}
	}
	if ((rc = json_next(&jr, &t)))
		goto out;
	if (!have_ok) {
		rc = json_fail(&jr, ODET_ERR_BAD_INPUT, "no \"ok\" field");
		goto out;
	}
	if (ok)
		out->status = ODET_OK;
	else if (out->status == ODET_OK)
		out->status = ODET_ERR_INTERNAL;
out:
	json_close(&jr);
	if (rc)
		sv_result_free(out);
	return rc;
}
