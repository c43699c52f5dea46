/*
 * json.c — the streaming pull reader of json.h.
 *
 * Grammar state machine (one state plus a stack of open containers):
 *   VALUE                a value must come (top level, after ':' or after ',' in an array)
 *   FIRST_VALUE_OR_END   just after '[': a value or ']'
 *   FIRST_KEY_OR_END     just after '{': a key or '}'
 *   KEY                  after ',' in an object: a key
 *   AFTER_VALUE          ',' or the closing bracket of the open container; EOF at depth 0
 * Input is consumed through a window (1 MiB for files) that is refilled when exhausted; a
 * token crossing the window edge is handled character by character (strings append runs,
 * numbers are copied into a small token buffer).
 */
#include "eval/json.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define JSON_WINDOW ((size_t)1 << 20)
#define JSON_MAX_NUMBER 1024 /* longest number literal accepted */

enum { ST_VALUE, ST_FIRST_VALUE_OR_END, ST_FIRST_KEY_OR_END, ST_KEY, ST_AFTER_VALUE };

odet_status json_fail(json_reader *r, odet_status s, const char *fmt, ...)
{
	char msg[512], where[256] = "";
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (r->where_section) {
		int n = snprintf(where, sizeof where, " (in %s", r->where_section);
		if (r->where_index >= 0 && n > 0 && (size_t)n < sizeof where)
			n += snprintf(where + n, sizeof where - n, " record %lld", (long long)r->where_index);
		if (r->where_field && n > 0 && (size_t)n < sizeof where)
			n += snprintf(where + n, sizeof where - n, ", field '%s'", r->where_field);
		if (n > 0 && (size_t)n < sizeof where)
			snprintf(where + n, sizeof where - n, ")");
	}
	return odet_error(r->ctx, s, "%s: byte %llu%s: %s", r->name,
			  (unsigned long long)json_offset(r), where, msg);
}

static odet_status open_common(json_reader *r, odet_ctx *ctx, const char *name)
{
	memset(r, 0, sizeof *r);
	r->ctx = ctx;
	r->name = name;
	r->where_index = -1;
	r->max_depth = ctx && ctx->opts.max_json_depth > 0 ? ctx->opts.max_json_depth : 64;
	r->stack = odet_malloc(ctx, (size_t)r->max_depth);
	if (!r->stack)
		return ODET_ERR_NO_MEMORY;
	r->state = ST_VALUE;
	/* long double arithmetic really carries 64 bits (not so under valgrind, or with the x87
	 * precision control lowered): otherwise numbers of 16+ digits go to strtod */
	volatile long double one = 1.0L, tiny = LDBL_EPSILON;
	r->extended_ok = LDBL_MANT_DIG == 64 && one + tiny != one;
	return ODET_OK;
}

odet_status json_open_file(json_reader *r, odet_ctx *ctx, const char *path)
{
	odet_status rc = open_common(r, ctx, path);
	if (rc)
		return rc;
	r->f = fopen(path, "rb");
	if (!r->f) {
		rc = odet_error(ctx, ODET_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
		json_close(r);
		return rc;
	}
	r->own = odet_malloc(ctx, JSON_WINDOW);
	if (!r->own) {
		json_close(r);
		return ODET_ERR_NO_MEMORY;
	}
	r->buf = r->own;
	return ODET_OK;
}

odet_status json_open_mem(json_reader *r, odet_ctx *ctx, const char *name, const char *data, size_t n)
{
	odet_status rc = open_common(r, ctx, name);
	if (rc)
		return rc;
	r->buf = data;
	r->len = n;
	return ODET_OK;
}

void json_close(json_reader *r)
{
	if (r->f)
		fclose(r->f);
	free(r->own);
	free(r->stack);
	free(r->str);
	memset(r, 0, sizeof *r);
}

/* Make at least one byte available; 0 at end of input (or on a read error, flagged). */
static int refill(json_reader *r)
{
	if (r->pos < r->len)
		return 1;
	if (!r->f)
		return 0;
	r->base += r->len;
	r->pos = 0;
	r->len = fread(r->own, 1, JSON_WINDOW, r->f);
	if (r->len == 0) {
		if (ferror(r->f))
			r->io_error = 1;
		return 0;
	}
	return 1;
}

static inline int peekc(json_reader *r)
{
	if (r->pos < r->len || refill(r))
		return (unsigned char)r->buf[r->pos];
	return -1;
}

static int skip_ws(json_reader *r)
{
	for (;;) {
		while (r->pos < r->len) {
			unsigned char c = (unsigned char)r->buf[r->pos];
			if (c != ' ' && c != '\n' && c != '\r' && c != '\t')
				return c;
			r->pos++;
		}
		if (!refill(r))
			return -1;
	}
}

static odet_status eof_error(json_reader *r, const char *what)
{
	if (r->io_error)
		return json_fail(r, ODET_ERR_IO, "read error");
	return json_fail(r, ODET_ERR_BAD_INPUT, "malformed JSON: unexpected end of file %s", what);
}

static odet_status str_append(json_reader *r, const char *s, size_t n)
{
	if (r->skipping || n == 0)
		return ODET_OK;
	if (n > JSON_MAX_STRING - r->str_len)
		return json_fail(r, ODET_ERR_LIMIT, "string longer than %zu bytes", JSON_MAX_STRING);
	size_t need = r->str_len + n + 1;
	if (need > r->str_cap) {
		size_t cap = r->str_cap ? r->str_cap : 256;
		while (cap < need)
			cap *= 2;
		char *p = odet_realloc_array(r->ctx, r->str, cap, 1);
		if (!p)
			return ODET_ERR_NO_MEMORY;
		r->str = p;
		r->str_cap = cap;
	}
	memcpy(r->str + r->str_len, s, n);
	r->str_len += n;
	r->str[r->str_len] = 0;
	return ODET_OK;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Append code unit u of a \u escape as UTF-8; a low surrogate right after a high one
 * (already appended as 3 bytes) is combined into one 4-byte sequence. */
static odet_status append_unicode(json_reader *r, unsigned u)
{
	char b[4];
	if (r->skipping)
		return ODET_OK;
	if (u >= 0xdc00 && u <= 0xdfff && r->str_len >= 3) {
		unsigned char *p = (unsigned char *)r->str + r->str_len - 3;
		if (p[0] == 0xed && p[1] >= 0xa0 && p[1] <= 0xaf) {
			unsigned hi = 0xd000 | ((p[1] & 0x3fu) << 6) | (p[2] & 0x3fu);
			unsigned cp = 0x10000 + ((hi - 0xd800) << 10) + (u - 0xdc00);
			r->str_len -= 3;
			b[0] = (char)(0xf0 | (cp >> 18));
			b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
			b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
			b[3] = (char)(0x80 | (cp & 0x3f));
			return str_append(r, b, 4);
		}
	}
	if (u < 0x80) {
		b[0] = (char)u;
		return str_append(r, b, 1);
	}
	if (u < 0x800) {
		b[0] = (char)(0xc0 | (u >> 6));
		b[1] = (char)(0x80 | (u & 0x3f));
		return str_append(r, b, 2);
	}
	b[0] = (char)(0xe0 | (u >> 12));
	b[1] = (char)(0x80 | ((u >> 6) & 0x3f));
	b[2] = (char)(0x80 | (u & 0x3f));
	return str_append(r, b, 3);
}

/* The opening quote is consumed. Decodes into r->str unless skipping. */
static odet_status read_string(json_reader *r)
{
	odet_status rc;
	r->str_len = 0;
	if (r->str)
		r->str[0] = 0;
	for (;;) {
		if (r->pos >= r->len && !refill(r))
			return eof_error(r, "inside a string");
		const char *s = r->buf + r->pos, *p = s, *end = r->buf + r->len;
		while (p < end && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
			p++;
		rc = str_append(r, s, (size_t)(p - s));
		if (rc)
			return rc;
		r->pos = (size_t)(p - r->buf);
		if (p == end)
			continue;
		if (*p == '"') {
			r->pos++;
			return ODET_OK;
		}
		if (*p != '\\')
			return json_fail(r, ODET_ERR_BAD_INPUT, "malformed JSON: control character in a string");
		r->pos++;
		int e = peekc(r);
		if (e < 0)
			return eof_error(r, "inside a string");
		r->pos++;
		char ch;
		switch (e) {
		case '"': case '\\': case '/': ch = (char)e; break;
		case 'b': ch = '\b'; break;
		case 'f': ch = '\f'; break;
		case 'n': ch = '\n'; break;
		case 'r': ch = '\r'; break;
		case 't': ch = '\t'; break;
		case 'u': {
			unsigned u = 0;
			for (int i = 0; i < 4; i++) {
				int h = hexval(peekc(r));
				if (h < 0)
					return json_fail(r, ODET_ERR_BAD_INPUT, "malformed JSON: bad \\u escape");
				r->pos++;
				u = u << 4 | (unsigned)h;
			}
			rc = append_unicode(r, u);
			if (rc)
				return rc;
			continue;
		}
		default:
			return json_fail(r, ODET_ERR_BAD_INPUT, "malformed JSON: invalid escape '\\%c'", e);
		}
		rc = str_append(r, &ch, 1);
		if (rc)
			return rc;
	}
}

static odet_status expect_literal(json_reader *r, const char *lit)
{
	for (const char *p = lit; *p; p++) {
		if (peekc(r) != (unsigned char)*p)
			return json_fail(r, ODET_ERR_BAD_INPUT, "malformed JSON: invalid literal (expected '%s')", lit);
		r->pos++;
	}
	return ODET_OK;
}

static const double pow10_exact[23] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

#if LDBL_MANT_DIG == 64 && FLT_RADIX == 2
static const long double pow10_exact_ld[28] = {
	1e0L, 1e1L, 1e2L, 1e3L, 1e4L, 1e5L, 1e6L, 1e7L, 1e8L, 1e9L, 1e10L, 1e11L, 1e12L, 1e13L,
	1e14L, 1e15L, 1e16L, 1e17L, 1e18L, 1e19L, 1e20L, 1e21L, 1e22L, 1e23L, 1e24L, 1e25L,
	1e26L, 1e27L,
};
#endif

static inline int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* A number literal (the first character is '-' or a digit, not yet consumed). */
static odet_status read_number(json_reader *r)
{
	char tok[JSON_MAX_NUMBER + 1];
	size_t n = 0;
	/* fast path: the whole token inside the window */
	const char *s = r->buf + r->pos, *p0 = s, *end = r->buf + r->len;
	while (p0 < end && (is_digit(*p0) || *p0 == '-' || *p0 == '+' || *p0 == '.' || *p0 == 'e' || *p0 == 'E'))
		p0++;
	if (p0 < end && (size_t)(p0 - s) <= JSON_MAX_NUMBER) {
		n = (size_t)(p0 - s);
		memcpy(tok, s, n);
		r->pos += n;
	}
	for (;;) {
		int c = peekc(r);
		if (!(is_digit(c) || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'))
			break;
		if (n == JSON_MAX_NUMBER)
			return json_fail(r, ODET_ERR_LIMIT, "number literal longer than %d characters", JSON_MAX_NUMBER);
		tok[n++] = (char)c;
		r->pos++;
	}
	tok[n] = 0;
	if (n == 1 && tok[0] == '-' && peekc(r) == 'I') {
		odet_status rc = expect_literal(r, "Infinity");
		r->num = -HUGE_VAL;
		r->num_is_int = 0;
		return rc;
	}
	/* grammar: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? ; mantissa of the
	 * first 19 significant digits for the fast path */
	const char *p = tok;
	int neg = 0, many = 0, has_frac = 0, has_exp = 0, nd = 0;
	uint64_t mant = 0;
	long exp10 = 0;
	if (*p == '-') {
		neg = 1;
		p++;
	}
	if (!is_digit(*p))
		goto bad;
	if (*p == '0') {
		p++;
		if (is_digit(*p))
			goto bad;
	} else {
		while (is_digit(*p)) {
			if (nd < 19) {
				mant = mant * 10 + (uint64_t)(*p - '0');
				nd++;
			} else {
				many = 1;
			}
			p++;
		}
	}
	if (*p == '.') {
		has_frac = 1;
		p++;
		if (!is_digit(*p))
			goto bad;
		while (is_digit(*p)) {
			if (mant == 0 && *p == '0') {
				exp10--;
			} else if (nd < 19) {
				mant = mant * 10 + (uint64_t)(*p - '0');
				nd++;
				exp10--;
			} else {
				many = 1;
			}
			p++;
		}
	}
	if (*p == 'e' || *p == 'E') {
		has_exp = 1;
		p++;
		int eneg = 0;
		long e = 0;
		if (*p == '+' || *p == '-')
			eneg = *p++ == '-';
		if (!is_digit(*p))
			goto bad;
		while (is_digit(*p)) {
			if (e < 100000)
				e = e * 10 + (*p - '0');
			p++;
		}
		exp10 += eneg ? -e : e;
	}
	if (*p)
		goto bad;
	r->num_is_int = !has_frac && !has_exp && !many &&
			(mant <= (uint64_t)INT64_MAX || (neg && mant == (uint64_t)INT64_MAX + 1));
	if (r->num_is_int)
		r->num_int = neg ? (int64_t)(0 - mant) : (int64_t)mant;
	if (r->skipping)
		return ODET_OK;
	if (!many && mant <= ((uint64_t)1 << 53) && exp10 >= -22 && exp10 <= 22) {
		double v = (double)mant;
		v = exp10 >= 0 ? v * pow10_exact[exp10] : v / pow10_exact[-exp10];
		r->num = neg ? -v : v;
		return ODET_OK;
	}
#if LDBL_MANT_DIG == 64 && FLT_RADIX == 2
	/* 16-19 digits (float32 detector output printed with repr): one correctly rounded x87
	 * operation on the exact mantissa (10^27 is exact in 64 bits); its rounding to double is
	 * the correct one unless the 64-bit result lies exactly on a double midpoint (the 11
	 * dropped bits equal 0x400), which goes to strtod */
	if (r->extended_ok && !many && mant != 0 && exp10 >= -27 && exp10 <= 27) {
		long double p10 = pow10_exact_ld[exp10 < 0 ? -exp10 : exp10];
		long double v = (long double)mant;
		v = exp10 >= 0 ? v * p10 : v / p10;
		uint64_t sig;
		memcpy(&sig, &v, sizeof sig);
		if ((sig & 0x7ff) != 0x400) {
			r->num = neg ? -(double)v : (double)v;
			return ODET_OK;
		}
	}
#endif
	r->num = strtod(tok, NULL); /* correctly rounded; overflow gives +-inf as Python does */
	return ODET_OK;
bad:
	return json_fail(r, ODET_ERR_BAD_INPUT, "malformed JSON: invalid number '%.40s'", tok);
}

static odet_status push(json_reader *r, uint8_t kind)
{
	if (r->depth >= r->max_depth)
		return json_fail(r, ODET_ERR_LIMIT, "JSON nesting deeper than %d", r->max_depth);
	r->stack[r->depth++] = kind;
	r->pos++;
	return ODET_OK;
}

static odet_status read_value(json_reader *r, int c, json_tok *tok)
{
	odet_status rc = ODET_OK;
	if (c < 0)
		return eof_error(r, "where a value was expected");
	switch (c) {
	case '{':
		r->state = ST_FIRST_KEY_OR_END;
		*tok = JSON_OBJECT;
		return push(r, 'o');
	case '[':
		r->state = ST_FIRST_VALUE_OR_END;
		*tok = JSON_ARRAY;
		return push(r, 'a');
	case '"':
		r->pos++;
		*tok = JSON_STRING;
		rc = read_string(r);
		break;
	case 't':
		*tok = JSON_TRUE;
		rc = expect_literal(r, "true");
		break;
	case 'f':
		*tok = JSON_FALSE;
		rc = expect_literal(r, "false");
		break;
	case 'n':
		*tok = JSON_NULL;
		rc = expect_literal(r, "null");
		break;
	case 'N':
		*tok = JSON_NUMBER;
		r->num = NAN;
		r->num_is_int = 0;
		rc = expect_literal(r, "NaN");
		break;
	case 'I':
		*tok = JSON_NUMBER;
		r->num = HUGE_VAL;
		r->num_is_int = 0;
		rc = expect_literal(r, "Infinity");
		break;
	default:
		if (c != '-' && !is_digit(c)) {
			if (c >= 0x20 && c < 0x7f)
				return json_fail(r, ODET_ERR_BAD_INPUT, "malformed JSON: unexpected character '%c'", c);
			return json_fail(r, ODET_ERR_BAD_INPUT, "malformed JSON: unexpected byte 0x%02x", c);
		}
		*tok = JSON_NUMBER;
		rc = read_number(r);
		break;
	}
	r->state = ST_AFTER_VALUE;
	return rc;
}

odet_status json_next(json_reader *r, json_tok *tok)
{
	odet_status rc;
	int c;
again:
	c = skip_ws(r);
	switch (r->state) {
	case ST_AFTER_VALUE: {
		if (r->depth == 0) {
			if (c < 0) {
				*tok = JSON_EOF;
				return r->io_error ? json_fail(r, ODET_ERR_IO, "read error") : ODET_OK;
			}
			return json_fail(r, ODET_ERR_BAD_INPUT, "malformed JSON: data after the top-level value");
		}
		uint8_t top = r->stack[r->depth - 1];
		if (c == ',') {
			r->pos++;
			r->state = top == 'o' ? ST_KEY : ST_VALUE;
			goto again;
		}
		if (c == (top == 'o' ? '}' : ']')) {
			r->pos++;
			r->depth--;
			*tok = top == 'o' ? JSON_OBJECT_END : JSON_ARRAY_END;
			return ODET_OK;
		}
		if (c < 0)
			return eof_error(r, "inside an unclosed container");
		return json_fail(r, ODET_ERR_BAD_INPUT, "malformed JSON: expected ',' or '%c'",
				 top == 'o' ? '}' : ']');
	}
	case ST_FIRST_KEY_OR_END:
		if (c == '}') {
			r->pos++;
			r->depth--;
			r->state = ST_AFTER_VALUE;
			*tok = JSON_OBJECT_END;
			return ODET_OK;
		}
		/* fall through */
	case ST_KEY:
		if (c != '"') {
			if (c < 0)
				return eof_error(r, "where a key was expected");
			return json_fail(r, ODET_ERR_BAD_INPUT, "malformed JSON: expected a string key");
		}
		r->pos++;
		rc = read_string(r);
		if (rc)
			return rc;
		if (skip_ws(r) != ':')
			return json_fail(r, ODET_ERR_BAD_INPUT, "malformed JSON: expected ':' after a key");
		r->pos++;
		r->state = ST_VALUE;
		*tok = JSON_KEY;
		return ODET_OK;
	case ST_FIRST_VALUE_OR_END:
		if (c == ']') {
			r->pos++;
			r->depth--;
			r->state = ST_AFTER_VALUE;
			*tok = JSON_ARRAY_END;
			return ODET_OK;
		}
		/* fall through */
	default:
		return read_value(r, c, tok);
	}
}

odet_status json_skip(json_reader *r, json_tok tok)
{
	if (tok != JSON_OBJECT && tok != JSON_ARRAY)
		return ODET_OK;
	int target = r->depth - 1;
	odet_status rc = ODET_OK;
	r->skipping++;
	while (r->depth > target) {
		rc = json_next(r, &tok);
		if (rc)
			break;
	}
	r->skipping--;
	return rc;
}
