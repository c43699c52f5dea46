/*
 * json.h — a streaming pull reader for JSON (RFC 8259) over a file or a memory buffer.
 *
 * Built for large COCO files (hundreds of MB): the file is read through a fixed 1 MiB window,
 * so memory is bounded by what the caller keeps, never by the file size. json_next() returns
 * one token at a time and validates the grammar as it goes (separators, nesting, escapes,
 * number syntax, trailing data); nesting deeper than max_depth is refused (ODET_ERR_LIMIT).
 * Python's json extensions NaN, Infinity and -Infinity are accepted as numbers so that the
 * caller can refuse them with a message naming the record and field.
 *
 * Numbers are converted exactly (correctly rounded, as strtod): Clinger's fast path (mantissa
 * <= 2^53, |exponent| <= 22); up to 19 digits with |exponent| <= 27 one x87 extended-precision
 * operation, checked for the double-rounding case; strtod on the token otherwise.
 * Errors: "<name>: byte <offset> (<where>): malformed JSON: <reason>", ODET_ERR_BAD_INPUT.
 */
#ifndef ODET_EVAL_JSON_H
#define ODET_EVAL_JSON_H

#include "core/core.h"

#include <stdio.h>

typedef enum json_tok {
	JSON_EOF = 0,
	JSON_OBJECT,     /* '{' */
	JSON_OBJECT_END, /* '}' */
	JSON_ARRAY,      /* '[' */
	JSON_ARRAY_END,  /* ']' */
	JSON_KEY,        /* an object key; text in r->str */
	JSON_STRING,     /* a string value; text in r->str */
	JSON_NUMBER,     /* r->num (and r->num_is_int / r->num_int for integer literals) */
	JSON_TRUE,
	JSON_FALSE,
	JSON_NULL
} json_tok;

#define JSON_MAX_STRING ((size_t)1 << 26) /* 64 MiB: longest decoded string kept */

typedef struct json_reader {
	odet_ctx *ctx;
	const char *name; /* file name for messages */
	FILE *f;          /* NULL when reading from memory */
	char *own;        /* the file window (owned) */
	const char *buf;
	size_t pos, len;
	uint64_t base; /* byte offset of buf[0] in the input */
	int depth, max_depth;
	uint8_t *stack; /* 'o' or 'a' per open container */
	int state;
	int skipping; /* > 0: strings and numbers are validated, not decoded */
	int io_error; /* a read failed (reported as ODET_ERR_IO) */
	int extended_ok; /* long double has a working 64-bit mantissa (fast exact numbers) */
	char *str;    /* decoded key or string, NUL-terminated */
	size_t str_len, str_cap;
	double num;
	int num_is_int;  /* the literal had no fraction or exponent and fits int64 */
	int64_t num_int; /* its value then */
	/* where the caller is, for messages: "<section>[<index>].<field>" (each optional) */
	const char *where_section;
	int64_t where_index;
	const char *where_field;
} json_reader;

/* Open a file (streamed) or a memory buffer (not copied; must outlive the reader). */
odet_status json_open_file(json_reader *r, odet_ctx *ctx, const char *path);
odet_status json_open_mem(json_reader *r, odet_ctx *ctx, const char *name, const char *data, size_t n);
void json_close(json_reader *r);

/* Next token. After the top-level value, returns JSON_EOF (trailing data is an error). */
odet_status json_next(json_reader *r, json_tok *tok);
/* Skip the rest of a value whose first token `tok` was just returned by json_next. */
odet_status json_skip(json_reader *r, json_tok tok);
/* Byte offset of the next unread character. */
static inline uint64_t json_offset(const json_reader *r)
{
	return r->base + r->pos;
}
/* Record an error at the current position: "<name>: byte N (<where>): <message>". */
odet_status json_fail(json_reader *r, odet_status s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
