/*
 * jpeg_header.c — a JPEG's frame header from its markers (ITU-T T.81, annex B).
 *
 * The walk: SOI (FF D8), then marker segments until the first SOS (FF DA). Between segments any
 * number of fill bytes 0xFF may precede a marker; RSTn (D0..D7) and TEM (01) stand alone; every
 * other marker carries a big-endian length that counts itself and must stay inside the buffer.
 * SOF0..SOF15 (C0..CF, except DHT C4, JPG C8 and DAC CC) is the frame header:
 *   P (precision, 1 byte), Y (height, 2), X (width, 2), Nf (components, 1),
 *   then per component C (id, 1), H<<4|V (sampling factors 1..4 each, 1), Tq (table, 1).
 * The entropy-coded data after SOS is not read; only its end: a whole file ends with EOI
 * (FF D9), which entropy-coded data cannot contain (an FF there is followed by 00 or RSTn), so
 * no EOI among the last bytes means a truncated file — which decoders would otherwise turn into
 * a partly grey image without complaint.
 */
#include "io/jpeg_header.h"
#include "io/image.h"

#include <string.h>

/* how far from the end the EOI marker may sit (some writers pad files after it) */
#define JPEG_EOI_WINDOW 32

static unsigned be16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static bool is_sof(unsigned m)
{
	return m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc;
}

/* Frame header segment seg (len bytes after the length field) of marker m into out. */
static odet_status parse_sof(odet_ctx *ctx, const char *label, unsigned m, const uint8_t *seg, size_t len,
			     io_jpeg_info *out)
{
	if (len < 6)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: corrupt JPEG: frame header of %zu bytes", label, len);
	unsigned precision = seg[0], h = be16(seg + 1), w = be16(seg + 3), nf = seg[5];
	if (nf != 1 && nf != 3 && nf != 4)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: JPEG with %u components is not supported", label, nf);
	if (len < 6 + 3 * (size_t)nf)
		return odet_error(ctx, ODET_ERR_BAD_INPUT,
				  "%s: corrupt JPEG: frame header of %zu bytes for %u components", label, len, nf);
	if (h == 0)
		return odet_error(ctx, ODET_ERR_BAD_INPUT,
				  "%s: JPEG whose height is set by a DNL marker is not supported", label);
	for (unsigned i = 0; i < nf; i++) {
		unsigned s = seg[6 + 3 * i + 1], sh = s >> 4, sv = s & 15;
		if (sh < 1 || sh > 4 || sv < 1 || sv > 4)
			return odet_error(ctx, ODET_ERR_BAD_INPUT,
					  "%s: corrupt JPEG: component %u has sampling factors %ux%u", label, i, sh, sv);
		out->sampling[i] = (int)s;
	}
	out->w = (int)w;
	out->h = (int)h;
	out->components = (int)nf;
	out->progressive = m == 0xc2 || m == 0xc6 || m == 0xca || m == 0xce;
	out->baseline = (m == 0xc0 || m == 0xc1) && precision == 8;
	return ODET_OK;
}

static bool has_eoi(const uint8_t *data, size_t from, size_t size)
{
	if (size - from > JPEG_EOI_WINDOW)
		from = size - JPEG_EOI_WINDOW;
	for (size_t i = from; i + 1 < size; i++)
		if (data[i] == 0xff && data[i + 1] == 0xd9)
			return true;
	return false;
}

odet_status io_jpeg_header(odet_ctx *ctx, const uint8_t *data, size_t size, const char *label, io_jpeg_info *out)
{
	odet_status rc;
	bool have_frame = false;
	size_t pos = 2;
	if (!label)
		label = "JPEG";
	memset(out, 0, sizeof *out);
	if (size < 4 || data[0] != 0xff || data[1] != 0xd8)
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: not a JPEG (no SOI marker)", label);
	for (;;) {
		if (pos >= size)
			return odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: truncated JPEG (no scan before the end)", label);
		if (data[pos] != 0xff)
			return odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: corrupt JPEG: no marker at byte %zu", label, pos);
		while (pos < size && data[pos] == 0xff)
			pos++;
		if (pos >= size)
			return odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: truncated JPEG (no scan before the end)", label);
		size_t at = pos - 1;
		unsigned m = data[pos++];
		if (m == 0x01 || (m >= 0xd0 && m <= 0xd7))
			continue;
		if (m == 0x00 || m == 0xd8 || m == 0xd9)
			return odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: corrupt JPEG: marker FF %02X at byte %zu before any scan",
					  label, m, at);
		if (size - pos < 2)
			return odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: truncated JPEG (marker FF %02X at byte %zu)", label, m,
					  at);
		size_t len = be16(data + pos);
		if (len < 2)
			return odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: corrupt JPEG: marker FF %02X has length %zu", label, m,
					  len);
		if (len > size - pos)
			return odet_error(ctx, ODET_ERR_BAD_INPUT,
					  "%s: truncated JPEG (marker FF %02X at byte %zu needs %zu bytes, %zu left)", label, m,
					  at, len, size - pos);
		const uint8_t *seg = data + pos + 2;
		pos += len;
		if (is_sof(m)) {
			if (have_frame)
				return odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: corrupt JPEG: more than one frame header",
						  label);
			if ((rc = parse_sof(ctx, label, m, seg, len - 2, out)))
				return rc;
			have_frame = true;
		} else if (m == 0xda) {
			if (!have_frame)
				return odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: corrupt JPEG: a scan before the frame header",
						  label);
			break;
		}
	}
	if (!has_eoi(data, pos, size))
		return odet_error(ctx, ODET_ERR_BAD_INPUT, "%s: truncated JPEG (no EOI marker at the end)", label);
	return io_check_pixels(ctx, label, out->w, out->h);
}
