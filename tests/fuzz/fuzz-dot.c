/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	fuzz-dot - DATA framing: unstuffing in arbitrary chunks, and round trips
 * DESCRIPTION
 *	The first byte picks a chunk size. Reading the input whole and in
 *	chunks must give the same bytes and stop at the same place; stuffing
 *	then unstuffing must give the data back (plus CRLF when it did not end
 *	with one).
 */
#include <stdint.h>
#include <string.h>

#include "mw-dot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* unstuff - read @in with chunks of @chunk bytes; *used_out is what was consumed */
static GByteArray *
unstuff(const guint8 *in, gsize len, gsize chunk, gsize *used_out, gboolean *done_out)
{
	MwDotReader reader;
	mw_dot_reader_init(&reader);
	GByteArray *out = g_byte_array_new();
	guint8 *buf = g_malloc(chunk + 2);
	gsize pos = 0;
	while (pos < len && !reader.done) {
		gsize n = MIN(chunk, len - pos);
		gsize out_len = 0;
		gsize used = mw_dot_reader_feed(&reader, in + pos, n, buf, &out_len);
		g_byte_array_append(out, buf, (guint) out_len);
		pos += used;
		if (used < n && !reader.done)
			__builtin_trap(); /* it consumes everything until the terminator */
	}
	g_free(buf);
	*used_out = pos;
	*done_out = reader.done;
	return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 1 << 20)
		return 0;
	gsize chunk = 1 + data[0] % 17;
	const guint8 *in = data + 1;
	gsize len = size - 1;
	gsize used_a, used_b;
	gboolean done_a, done_b;
	g_autoptr(GByteArray) whole = unstuff(in, len, len ? len : 1, &used_a, &done_a);
	g_autoptr(GByteArray) parts = unstuff(in, len, chunk, &used_b, &done_b);
	if (done_a != done_b || (done_a && used_a != used_b))
		__builtin_trap();
	if (done_a && (whole->len != parts->len ||
		       (whole->len > 0 && memcmp(whole->data, parts->data, whole->len))))
		__builtin_trap();

	/* round trip: stuff the input, read it back */
	MwDotWriter writer;
	mw_dot_writer_init(&writer);
	guint8 *stuffed = g_malloc(2 * len + 8);
	gsize n = mw_dot_writer_feed(&writer, in, len, stuffed);
	n += mw_dot_writer_finish(&writer, stuffed + n);
	gsize used;
	gboolean done;
	g_autoptr(GByteArray) back = unstuff(stuffed, n, chunk, &used, &done);
	if (!done || used != n)
		__builtin_trap();
	gboolean crlf_end = len >= 2 && in[len - 2] == '\r' && in[len - 1] == '\n';
	gsize expect = len == 0 || crlf_end ? len : len + 2;
	if (back->len != expect || (len > 0 && memcmp(back->data, in, len) != 0))
		__builtin_trap();
	g_free(stuffed);
	return 0;
}
