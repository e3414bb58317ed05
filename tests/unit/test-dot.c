/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-dot - unit tests for the SMTP DATA dot reader and writer
 *
 * SYNOPSIS
 *	test-dot
 *
 * DESCRIPTION
 *	Every reader case is fed whole, one byte at a time and cut in two at
 *	every offset, and must give the same output and stop at the same byte.
 *	The writer is checked on fixed cases and by the round-trip property
 *	against the reader on seeded random data.
 */

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "mw-dot.h"

/* ---- helpers ---- */

typedef struct {
	GByteArray *out;
	gsize consumed;
	gboolean done;
} ReadResult;

static void
read_result_clear(ReadResult *r)
{
	g_byte_array_unref(r->out);
}

/*
 * Feed @in to a fresh reader in chunks: @cuts are the chunk ends (ascending,
 * the last one is @len). Stops at the terminator and checks that a chunk is
 * fully consumed unless the terminator was found in it.
 */
static ReadResult
read_chunks(const guint8 *in, gsize len, const gsize *cuts, gsize n_cuts)
{
	ReadResult r = {g_byte_array_new(), 0, FALSE};
	MwDotReader reader;
	gsize start = 0;

	mw_dot_reader_init(&reader);
	for (gsize c = 0; c < n_cuts && !reader.done; c++) {
		gsize chunk = cuts[c] - start;
		/* exactly the documented room, so ASan sees any overflow */
		guint8 *out = g_malloc(chunk + 2);
		gsize out_len = G_MAXSIZE;
		gsize used = mw_dot_reader_feed(&reader, in + start, chunk, out, &out_len);

		ck_assert_uint_le(used, chunk);
		ck_assert_uint_le(out_len, chunk + 2);
		if (used < chunk)
			ck_assert(reader.done);
		g_byte_array_append(r.out, out, out_len);
		g_free(out);
		r.consumed += used;
		start = cuts[c];
	}
	r.done = reader.done;
	return r;
}

static ReadResult
read_whole(const guint8 *in, gsize len)
{
	return read_chunks(in, len, &len, 1);
}

static void
assert_bytes_eq(const guint8 *a, gsize a_len, const guint8 *b, gsize b_len)
{
	ck_assert_uint_eq(a_len, b_len);
	ck_assert_msg(a_len == 0 || memcmp(a, b, a_len) == 0, "bytes differ");
}

/* read @in whole, byte by byte and split at every offset; all must agree */
static ReadResult
read_all_ways(const guint8 *in, gsize len)
{
	ReadResult whole = read_whole(in, len);

	{
		g_autofree gsize *cuts = g_new(gsize, len + 1);
		ReadResult r;

		for (gsize i = 0; i < len; i++)
			cuts[i] = i + 1;
		r = read_chunks(in, len, cuts, len);
		assert_bytes_eq(r.out->data, r.out->len, whole.out->data, whole.out->len);
		ck_assert_uint_eq(r.consumed, whole.consumed);
		ck_assert_int_eq(r.done, whole.done);
		read_result_clear(&r);
	}
	for (gsize split = 0; split <= len; split++) {
		gsize cuts[2] = {split, len};
		ReadResult r = read_chunks(in, len, cuts, 2);

		assert_bytes_eq(r.out->data, r.out->len, whole.out->data, whole.out->len);
		ck_assert_uint_eq(r.consumed, whole.consumed);
		ck_assert_int_eq(r.done, whole.done);
		read_result_clear(&r);
	}
	return whole;
}

/* ---- reader cases ---- */

#define S(x) x, sizeof(x) - 1

static const struct {
	const char *in;
	gsize in_len;
	const char *out;
	gsize out_len;
	gsize consumed; /* bytes of @in up to and including the terminator */
	gboolean done;
} reader_cases[] = {
	/* the terminator at the very start: an empty message */
	{S(".\r\n"), S(""), 3, TRUE},
	{S(".\r\nQUIT\r\n"), S(""), 3, TRUE},
	/* one empty line */
	{S("\r\n.\r\n"), S("\r\n"), 5, TRUE},
	{S("Subject: x\r\n\r\nbody\r\n.\r\n"), S("Subject: x\r\n\r\nbody\r\n"), 23, TRUE},
	/* pipelined bytes after the terminator stay unconsumed */
	{S("a\r\n.\r\nRSET\r\nMAIL FROM:<>\r\n"), S("a\r\n"), 6, TRUE},
	{S("a\r\n.\r\n.\r\n"), S("a\r\n"), 6, TRUE},
	/* unstuffing */
	{S("..\r\n.\r\n"), S(".\r\n"), 7, TRUE},
	{S("a\r\n..b\r\n...\r\n.\r\n"), S("a\r\n.b\r\n..\r\n"), 16, TRUE},
	{S(".a\r\n.\r\n"), S("a\r\n"), 7, TRUE},
	/* a dot inside a line stays */
	{S("a.\r\nb.c\r\n.\r\n"), S("a.\r\nb.c\r\n"), 12, TRUE},
	/* "LF . CRLF" is not a terminator, the dot is a stuffing dot */
	{S("a\n.\r\n"), S("a\n\r\n"), 5, FALSE},
	{S("a\n.\r\n.\r\n"), S("a\n\r\n"), 8, TRUE},
	{S("\n.\r\n"), S("\n\r\n"), 4, FALSE},
	/* ". LF" is not a terminator */
	{S(".\n"), S("\n"), 2, FALSE},
	{S("a\r\n.\nb\r\n.\r\n"), S("a\r\n\nb\r\n"), 11, TRUE},
	{S("a\r\n.\n.\r\n"), S("a\r\n\n\r\n"), 8, FALSE},
	/* bare CR is no line end: "CR . CRLF" is data */
	{S("a\r.\r\n"), S("a\r.\r\n"), 5, FALSE},
	{S("a\r.\r\n.\r\n"), S("a\r.\r\n"), 8, TRUE},
	/* "." CR followed by something else */
	{S(".\rx\r\n.\r\n"), S("\rx\r\n"), 8, TRUE},
	{S(".\r\r\n.\r\n"), S("\r\r\n"), 7, TRUE},
	{S(".\r.\r\n.\r\n"), S("\r.\r\n"), 8, TRUE},
	{S("..\r"), S(".\r"), 3, FALSE},
	/* held back at the end of the input */
	{S("a\r\n."), S("a\r\n"), 4, FALSE},
	{S("a\r\n.\r"), S("a\r\n"), 5, FALSE},
	{S("."), S(""), 1, FALSE},
	/* "CR CR LF ." : the line before ended with CRLF */
	{S("a\r\r\n.\r\n"), S("a\r\r\n"), 7, TRUE},
	/* "LF CR LF ." : an empty line ended by CRLF after a bare LF line */
	{S("a\n\r\n.\r\n"), S("a\n\r\n"), 7, TRUE},
	/* NUL bytes pass through */
	{S("\0\r\n.\0\r\n\0.\r\n.\r\n"), S("\0\r\n\0\r\n\0.\r\n"), 14, TRUE},
	{S(".\0\r\n.\r\n"), S("\0\r\n"), 7, TRUE},
	/* 8-bit data */
	{S("\xff\xfe\r\n.\xc3\xa9\r\n.\r\n"), S("\xff\xfe\r\n\xc3\xa9\r\n"), 12, TRUE},
	{S(""), S(""), 0, FALSE},
};

START_TEST(test_reader_case)
{
	const guint8 *in = (const guint8 *) reader_cases[_i].in;
	ReadResult r = read_all_ways(in, reader_cases[_i].in_len);

	assert_bytes_eq(r.out->data, r.out->len, (const guint8 *) reader_cases[_i].out,
			reader_cases[_i].out_len);
	ck_assert_uint_eq(r.consumed, reader_cases[_i].consumed);
	ck_assert_int_eq(r.done, reader_cases[_i].done);
	read_result_clear(&r);
}
END_TEST

START_TEST(test_reader_after_done)
{
	static const guint8 data[] = "x\r\n.\r\nQUIT\r\n";
	MwDotReader reader;
	guint8 out[sizeof(data) + 2];
	gsize out_len = 99;
	gsize used;

	mw_dot_reader_init(&reader);
	used = mw_dot_reader_feed(&reader, data, sizeof(data) - 1, out, &out_len);
	ck_assert_uint_eq(used, 6);
	ck_assert(reader.done);
	ck_assert_uint_eq(out_len, 3);
	ck_assert_int_eq(memcmp(out, "x\r\n", 3), 0);

	/* done: nothing more is consumed */
	used = mw_dot_reader_feed(&reader, data + used, sizeof(data) - 1 - used, out, &out_len);
	ck_assert_uint_eq(used, 0);
	ck_assert_uint_eq(out_len, 0);

	/* init makes it reusable for the next message */
	mw_dot_reader_init(&reader);
	ck_assert(!reader.done);
	used = mw_dot_reader_feed(&reader, (const guint8 *) ".\r\n", 3, out, &out_len);
	ck_assert_uint_eq(used, 3);
	ck_assert_uint_eq(out_len, 0);
	ck_assert(reader.done);

	/* zero-length input */
	mw_dot_reader_init(&reader);
	used = mw_dot_reader_feed(&reader, data, 0, out, &out_len);
	ck_assert_uint_eq(used, 0);
	ck_assert_uint_eq(out_len, 0);
	ck_assert(!reader.done);
}
END_TEST

START_TEST(test_reader_megabyte_line)
{
	const gsize line = 1024 * 1024;
	g_autoptr(GByteArray) in = g_byte_array_sized_new(line + 16);
	g_autoptr(GByteArray) out = g_byte_array_sized_new(line + 16);
	guint8 *buf = g_malloc(line + 16);
	MwDotReader reader;
	gsize pos = 0;
	guint chunk = 1;

	g_byte_array_append(in, (const guint8 *) "..", 2);
	for (gsize i = 0; i < line; i++) {
		guint8 c = (guint8) ("ab.\0\r"[i % 5]);

		g_byte_array_append(in, &c, 1);
	}
	g_byte_array_append(in, (const guint8 *) "\r\n.\r\nNEXT", 9);

	/* irregular chunk sizes */
	mw_dot_reader_init(&reader);
	while (!reader.done && pos < in->len) {
		gsize n = MIN(chunk, in->len - pos);
		gsize out_len = 0;

		pos += mw_dot_reader_feed(&reader, in->data + pos, n, buf, &out_len);
		g_byte_array_append(out, buf, out_len);
		chunk = chunk * 7 % 65521 + 1;
	}
	g_free(buf);
	ck_assert(reader.done);
	ck_assert_uint_eq(pos, in->len - 4);
	/* one stuffing dot removed, the terminator and "NEXT" not output */
	ck_assert_uint_eq(out->len, line + 1 + 2);
	ck_assert_int_eq(memcmp(out->data, in->data + 1, out->len), 0);
}
END_TEST

/* ---- writer ---- */

static const struct {
	const char *in;
	gsize in_len;
	const char *out; /* with the terminator */
	gsize out_len;
} writer_cases[] = {
	{S(""), S(".\r\n")},
	{S("\r\n"), S("\r\n.\r\n")},
	{S("abc\r\n"), S("abc\r\n.\r\n")},
	{S("abc"), S("abc\r\n.\r\n")},
	{S("."), S("..\r\n.\r\n")},
	{S(".\r\n"), S("..\r\n.\r\n")},
	{S("a\r\n.\r\nb\r\n"), S("a\r\n..\r\nb\r\n.\r\n")},
	{S("..x\r\n"), S("...x\r\n.\r\n")},
	{S("a.b\r\n.c.\r\n"), S("a.b\r\n..c.\r\n.\r\n")},
	/* lines split at bare LF too */
	{S("a\n.\r\n"), S("a\n..\r\n.\r\n")},
	{S("a\n"), S("a\n\r\n.\r\n")},
	/* bare CR does not start a line */
	{S("a\r.\r\n"), S("a\r.\r\n.\r\n")},
	{S("a\r"), S("a\r\r\n.\r\n")},
	{S("\n"), S("\n\r\n.\r\n")},
	{S("\0.\r\n.\0"), S("\0.\r\n..\0\r\n.\r\n")},
};

static GByteArray *
write_chunks(const guint8 *in, gsize len, gsize chunk, MwDotWriter *writer)
{
	GByteArray *out = g_byte_array_new();
	guint8 tail[5];

	mw_dot_writer_init(writer);
	for (gsize pos = 0; pos < len; pos += chunk) {
		gsize n = MIN(chunk, len - pos);
		guint8 *buf = g_malloc(2 * n);
		gsize written = mw_dot_writer_feed(writer, in + pos, n, buf);

		ck_assert_uint_le(written, 2 * n);
		g_byte_array_append(out, buf, written);
		g_free(buf);
	}
	g_byte_array_append(out, tail, mw_dot_writer_finish(writer, tail));
	return out;
}

START_TEST(test_writer_case)
{
	const guint8 *in = (const guint8 *) writer_cases[_i].in;
	gsize len = writer_cases[_i].in_len;

	for (gsize chunk = 1; chunk <= MAX(len, 1); chunk++) {
		MwDotWriter writer;
		g_autoptr(GByteArray) out = write_chunks(in, len, chunk, &writer);

		assert_bytes_eq(out->data, out->len, (const guint8 *) writer_cases[_i].out,
				writer_cases[_i].out_len);
		ck_assert_uint_eq(writer.total, len);
	}
}
END_TEST

/* ---- round trip ---- */

static ReadResult
read_random_chunks(GRand *rand, const guint8 *in, gsize len)
{
	GArray *cuts = g_array_new(FALSE, FALSE, sizeof(gsize));
	gsize pos = 0;
	ReadResult r;

	while (pos < len) {
		pos = MIN(len, pos + (gsize) g_rand_int_range(rand, 1, 12));
		g_array_append_val(cuts, pos);
	}
	r = read_chunks(in, len, (const gsize *) (gpointer) cuts->data, cuts->len);
	g_array_unref(cuts);
	return r;
}

START_TEST(test_round_trip_crlf)
{
	static const char *const pieces[] = {".", "..", "\r\n", "\r\n.", "a", "xyz", "\r\n.\r\n"};
	g_autoptr(GRand) rand = g_rand_new_with_seed(5321);

	for (guint n = 0; n < 3000; n++) {
		g_autoptr(GByteArray) data = g_byte_array_new();
		g_autoptr(GByteArray) stuffed = NULL;
		guint count = g_rand_int_range(rand, 0, 40);
		MwDotWriter writer;
		ReadResult r;

		for (guint i = 0; i < count; i++) {
			const char *p = pieces[g_rand_int_range(rand, 0, G_N_ELEMENTS(pieces))];

			g_byte_array_append(data, (const guint8 *) p, strlen(p));
		}
		/* CRLF-only data: every line ends with CRLF */
		if (data->len > 0)
			g_byte_array_append(data, (const guint8 *) "\r\n", 2);

		stuffed = write_chunks(data->data, data->len, (gsize) g_rand_int_range(rand, 1, 16),
				       &writer);
		r = read_random_chunks(rand, stuffed->data, stuffed->len);
		ck_assert(r.done);
		ck_assert_uint_eq(r.consumed, stuffed->len);
		assert_bytes_eq(r.out->data, r.out->len, data->data, data->len);
		read_result_clear(&r);
	}
}
END_TEST

START_TEST(test_round_trip_any)
{
	/* any bytes: the reader stops exactly at the end, and only a missing
	 * final CRLF is added */
	static const guint8 alphabet[] = {'.', '.', '\r', '\n', 'a', '\0', 0xff};
	g_autoptr(GRand) rand = g_rand_new_with_seed(821);

	for (guint n = 0; n < 3000; n++) {
		g_autoptr(GByteArray) data = g_byte_array_new();
		g_autoptr(GByteArray) stuffed = NULL;
		guint count = g_rand_int_range(rand, 0, 60);
		gboolean crlf_end;
		MwDotWriter writer;
		ReadResult r;

		for (guint i = 0; i < count; i++) {
			guint8 c = alphabet[g_rand_int_range(rand, 0, sizeof(alphabet))];

			g_byte_array_append(data, &c, 1);
		}
		crlf_end = data->len >= 2 && data->data[data->len - 2] == '\r' &&
			   data->data[data->len - 1] == '\n';

		stuffed = write_chunks(data->data, data->len, (gsize) g_rand_int_range(rand, 1, 16),
				       &writer);
		r = read_random_chunks(rand, stuffed->data, stuffed->len);
		ck_assert(r.done);
		ck_assert_uint_eq(r.consumed, stuffed->len);
		if (data->len > 0 && !crlf_end)
			g_byte_array_append(data, (const guint8 *) "\r\n", 2);
		assert_bytes_eq(r.out->data, r.out->len, data->data, data->len);
		read_result_clear(&r);
	}
}
END_TEST

static Suite *
dot_suite(void)
{
	Suite *s = suite_create("dot");
	TCase *tc;

	tc = tcase_create("reader");
	tcase_add_loop_test(tc, test_reader_case, 0, G_N_ELEMENTS(reader_cases));
	tcase_add_test(tc, test_reader_after_done);
	tcase_add_test(tc, test_reader_megabyte_line);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("writer");
	tcase_add_loop_test(tc, test_writer_case, 0, G_N_ELEMENTS(writer_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("round-trip");
	tcase_add_test(tc, test_round_trip_crlf);
	tcase_add_test(tc, test_round_trip_any);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner *runner = srunner_create(dot_suite());
	int failures;

	srunner_run_all(runner, CK_NORMAL);
	failures = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failures ? EXIT_FAILURE : EXIT_SUCCESS;
}
