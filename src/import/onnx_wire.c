/*
 * onnx_wire.c — structural check of protobuf wire data before protobuf-c unpacks it.
 *
 * protobuf-c rejects malformed input but says nothing about why, and it recurses once per
 * nested message, so a file of a few MB of nested AttributeProto.g could exhaust the stack.
 * This walk is iterative (explicit stack, depth <= ONNX_MAX_WIRE_DEPTH) and checks, with the
 * generated descriptors of onnx.proto: every key is a valid varint with field number >= 1;
 * wire types are 0, 1, 2 or 5 (groups are refused); a known field has the wire type of its
 * declared type (or 2 = packed for repeated scalars); packed fixed-width data is a multiple of
 * the element size; packed varints are well formed; lengths stay inside the enclosing
 * message. Unknown fields are skipped. The first problem is described in detail.
 */
#include "import/onnx_internal.h"

#include <stdio.h>

static bool read_varint(const uint8_t *p, size_t end, size_t *pos, uint64_t *v)
{
	uint64_t r = 0;
	for (int i = 0; i < 10; i++) {
		if (*pos >= end)
			return false;
		uint8_t b = p[(*pos)++];
		r |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			*v = r;
			return true;
		}
	}
	return false;
}

/* Wire type of a scalar in unpacked form: 0 varint, 1 fixed64, 5 fixed32, 2 length-delimited. */
static int wire_type_of(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 1;
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_FLOAT:
		return 5;
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_BYTES:
	case PROTOBUF_C_TYPE_MESSAGE:
		return 2;
	default:
		return 0;
	}
}

bool onnx_wire_check(const void *data, size_t size, const ProtobufCMessageDescriptor *desc,
		     char *detail, size_t detail_len)
{
	struct {
		size_t end;
		const ProtobufCMessageDescriptor *d;
	} st[ONNX_MAX_WIRE_DEPTH + 1];
	const uint8_t *p = data;
	size_t pos = 0;
	int depth = 0;
	st[0].end = size;
	st[0].d = desc;
	for (;;) {
		if (pos == st[depth].end) {
			if (depth == 0)
				return true;
			depth--;
			continue;
		}
		const ProtobufCMessageDescriptor *d = st[depth].d;
		size_t start = pos;
		uint64_t key, len = 0;
		if (!read_varint(p, st[depth].end, &pos, &key)) {
			snprintf(detail, detail_len, "truncated field key in %s at byte %zu", d->name, start);
			return false;
		}
		uint64_t num = key >> 3;
		int wt = (int)(key & 7);
		if (num == 0 || num > 0x1fffffff) {
			snprintf(detail, detail_len, "invalid field number %llu in %s at byte %zu",
				 (unsigned long long)num, d->name, start);
			return false;
		}
		const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(d, (unsigned)num);
		const char *fname = f ? f->name : "?";
		if (f) {
			int want = wire_type_of(f->type);
			bool packed = f->label == PROTOBUF_C_LABEL_REPEATED && want != 2 && wt == 2;
			if (wt != want && !packed) {
				snprintf(detail, detail_len,
					 "field '%s' (%llu) of %s at byte %zu has wire type %d, expected %d",
					 fname, (unsigned long long)num, d->name, start, wt, want);
				return false;
			}
		}
		switch (wt) {
		case 0:
			if (!read_varint(p, st[depth].end, &pos, &len)) {
				snprintf(detail, detail_len, "truncated varint field '%s' of %s at byte %zu",
					 fname, d->name, start);
				return false;
			}
			continue;
		case 1:
		case 5: {
			size_t w = wt == 1 ? 8 : 4;
			if (st[depth].end - pos < w) {
				snprintf(detail, detail_len, "truncated fixed-width field '%s' of %s at byte %zu",
					 fname, d->name, start);
				return false;
			}
			pos += w;
			continue;
		}
		case 2:
			break;
		default:
			snprintf(detail, detail_len, "field %llu of %s at byte %zu has wire type %d (%s)",
				 (unsigned long long)num, d->name, start, wt,
				 wt == 3 || wt == 4 ? "groups are not supported" : "invalid");
			return false;
		}
		if (!read_varint(p, st[depth].end, &pos, &len) || len > st[depth].end - pos) {
			snprintf(detail, detail_len,
				 "field '%s' of %s at byte %zu: length runs past the end of its message "
				 "(truncated?)", fname, d->name, start);
			return false;
		}
		size_t body = pos, body_end = pos + (size_t)len;
		if (f && f->type == PROTOBUF_C_TYPE_MESSAGE) {
			if (depth == ONNX_MAX_WIRE_DEPTH) {
				snprintf(detail, detail_len, "messages nested deeper than %d at byte %zu",
					 ONNX_MAX_WIRE_DEPTH, start);
				return false;
			}
			depth++;
			st[depth].end = body_end;
			st[depth].d = f->descriptor;
			continue;
		}
		pos = body_end;
		if (!f || wire_type_of(f->type) == 2)
			continue;
		/* packed repeated scalars */
		int want = wire_type_of(f->type);
		if (want != 0) {
			if (len % (want == 1 ? 8 : 4)) {
				snprintf(detail, detail_len, "packed field '%s' of %s at byte %zu: %llu bytes "
					 "is not a multiple of the element size", fname, d->name, start,
					 (unsigned long long)len);
				return false;
			}
			continue;
		}
		while (body < body_end) {
			uint64_t v;
			if (!read_varint(p, body_end, &body, &v)) {
				snprintf(detail, detail_len, "packed field '%s' of %s at byte %zu: bad varint",
					 fname, d->name, start);
				return false;
			}
		}
	}
}
