/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-message - the message store: memory, spooling, reading, parsing
 * DESCRIPTION
 *	Bytes must come back exactly as written whether they stayed in memory
 *	or went to the spool file, the spool must start exactly past the
 *	threshold, and the lazy GMime parse must see the spooled content.
 */
#include <check.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "mw-error.h"
#include "mw-message.h"

/* fill - deterministic bytes including NULs, CR and LF */
static guint8 *
fill(gsize len)
{
	guint8 *buf = g_malloc(len);
	for (gsize i = 0; i < len; i++)
		buf[i] = (guint8) ((i * 7 + i / 13) & 0xff);
	return buf;
}

/* read_all - every byte back through mw_message_read in odd-sized chunks */
static GByteArray *
read_all(MwMessage *msg)
{
	GByteArray *out = g_byte_array_new();
	guint8 buf[999];
	guint64 offset = 0;
	gssize n;
	while ((n = mw_message_read(msg, offset, buf, sizeof buf, NULL)) > 0) {
		g_byte_array_append(out, buf, (guint) n);
		offset += (guint64) n;
	}
	ck_assert_int_eq(n, 0);
	return out;
}

START_TEST(test_memory_and_spool)
{
	/* loop over sizes around the threshold */
	const gsize threshold = 4096;
	const gsize sizes[] = {0, 1, 4095, 4096, 4097, 100000};
	gsize len = sizes[_i];
	g_autofree guint8 *data = fill(len);
	g_autoptr(MwMessage) msg = mw_message_new(g_get_tmp_dir(), threshold);
	/* append in uneven pieces */
	gsize pos = 0, step = 1;
	while (pos < len) {
		gsize n = MIN(step, len - pos);
		ck_assert(mw_message_append(msg, data + pos, n, NULL));
		pos += n;
		step = step * 3 + 1;
	}
	ck_assert(mw_message_seal(msg, NULL));
	ck_assert_uint_eq(mw_message_get_size(msg), len);
	ck_assert_int_eq(mw_message_is_spooled(msg), len > threshold);
	g_autoptr(GByteArray) back = read_all(msg);
	ck_assert_uint_eq(back->len, len);
	ck_assert(len == 0 || memcmp(back->data, data, len) == 0);
}
END_TEST

START_TEST(test_spool_leaves_no_file)
{
	g_autofree char *dir = g_dir_make_tmp("mw-msg-XXXXXX", NULL);
	{
		g_autoptr(MwMessage) msg = mw_message_new(dir, 16);
		ck_assert(mw_message_append(msg, (const guint8 *) "0123456789abcdefXYZ", 19, NULL));
		ck_assert(mw_message_is_spooled(msg));
		g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
		/* the spool file is unlinked: nothing to clean up after a crash */
		ck_assert_ptr_null(g_dir_read_name(d));
	}
	ck_assert_int_eq(g_rmdir(dir), 0);
}
END_TEST

START_TEST(test_spool_dir_missing)
{
	g_autoptr(MwMessage) msg = mw_message_new("/nonexistent/mw-spool", 4);
	g_autoptr(GError) error = NULL;
	ck_assert(mw_message_append(msg, (const guint8 *) "abc", 3, NULL));
	ck_assert(!mw_message_append(msg, (const guint8 *) "defgh", 5, &error));
	ck_assert_ptr_nonnull(error);
	ck_assert_ptr_nonnull(strstr(error->message, "spool"));
}
END_TEST

static const char sample[] = "From: a@example.org\r\n"
			     "To: b@example.org\r\n"
			     "Subject: =?utf-8?q?caf=C3=A9?=\r\n"
			     "MIME-Version: 1.0\r\n"
			     "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
			     "\r\n"
			     "--b1\r\n"
			     "Content-Type: text/plain\r\n"
			     "\r\n"
			     "hello\r\n"
			     "--b1--\r\n";

START_TEST(test_parse_spooled)
{
	/* threshold 8: the parse must read from the spool file */
	g_autoptr(MwMessage) msg = mw_message_new(g_get_tmp_dir(), 8);
	ck_assert(mw_message_append(msg, (const guint8 *) sample, strlen(sample), NULL));
	mw_message_seal(msg, NULL);
	ck_assert(mw_message_is_spooled(msg));
	GMimeMessage *mime = mw_message_get_mime(msg, NULL);
	ck_assert_ptr_nonnull(mime);
	ck_assert_str_eq(g_mime_message_get_subject(mime), "café");
	/* cached: the same object twice */
	ck_assert_ptr_eq(mw_message_get_mime(msg, NULL), mime);
	/* a private parse is another object */
	g_autoptr(GMimeMessage) other = mw_message_parse_mime(msg, NULL);
	ck_assert_ptr_ne(other, mime);
	GMimeObject *body = g_mime_message_get_mime_part(other);
	ck_assert(GMIME_IS_MULTIPART(body));
	ck_assert_int_eq(g_mime_multipart_get_count(GMIME_MULTIPART(body)), 1);
}
END_TEST

/*
 * text without a header block (the first line is no header): GMime alone
 * returns no message; it is read as a body without headers, in memory and
 * spooled alike
 */
START_TEST(test_parse_no_header_block)
{
	static const char text[] = "this is not a message at all\r\n\r\nsecond paragraph\r\n";

	for (gsize threshold = 8; threshold <= 4096; threshold += 4088) {
		g_autoptr(MwMessage) msg = mw_message_new(g_get_tmp_dir(), threshold);
		ck_assert(mw_message_append(msg, (const guint8 *) text, strlen(text), NULL));
		mw_message_seal(msg, NULL);
		g_autoptr(GError) error = NULL;
		GMimeMessage *mime = mw_message_get_mime(msg, &error);
		ck_assert_msg(mime != NULL, "%s", error ? error->message : "");
		ck_assert_ptr_null(g_mime_message_get_subject(mime));
		GMimeObject *body = g_mime_message_get_mime_part(mime);
		ck_assert(GMIME_IS_PART(body));
		g_autoptr(GMimeStream) out = g_mime_stream_mem_new();
		g_mime_data_wrapper_write_to_stream(g_mime_part_get_content(GMIME_PART(body)), out);
		GByteArray *bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out));
		g_autofree char *got = g_strndup((const char *) bytes->data, bytes->len);
		ck_assert_str_eq(got, text);
	}
}
END_TEST

/* big_message - a message with a text body of about @size bytes of "x" lines */
static MwMessage *
big_message(gsize size)
{
	g_autoptr(GString) text = g_string_new("From: a@example.org\r\nSubject: big\r\n\r\n");
	while (text->len < size)
		g_string_append(text,
				"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n");
	return mw_message_new_from_bytes((const guint8 *) text->str, text->len);
}

/*
 * an edited tree is written straight into the new message: past the memory
 * threshold it is spooled, with the same bytes GMime writes
 */
START_TEST(test_from_mime_spools)
{
	g_autoptr(MwMessage) in = big_message(3 * MW_MESSAGE_MEMORY_THRESHOLD);
	GMimeMessage *mime = mw_message_get_mime(in, NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(MwMessage) out =
		mw_message_new_from_mime(GMIME_OBJECT(mime), g_get_tmp_dir(), &error);
	ck_assert_msg(out != NULL, "%s", error ? error->message : "");
	ck_assert(mw_message_is_spooled(out));
	g_autoptr(GMimeFormatOptions) options = g_mime_format_options_new();
	g_mime_format_options_set_newline_format(options, GMIME_NEWLINE_FORMAT_DOS);
	g_autofree char *expected = g_mime_object_to_string(GMIME_OBJECT(mime), options);
	ck_assert_uint_eq(mw_message_get_size(out), strlen(expected));
	g_autofree guint8 *got = g_malloc(strlen(expected) + 1);
	gsize have = 0;
	for (gssize n; have < strlen(expected); have += (gsize) n) {
		n = mw_message_read(out, have, got + have, strlen(expected) - have, NULL);
		ck_assert_int_gt(n, 0);
	}
	ck_assert(memcmp(got, expected, strlen(expected)) == 0);
	/* a small one stays in memory */
	g_autoptr(MwMessage) small_in = big_message(100);
	GMimeMessage *small = mw_message_get_mime(small_in, NULL);
	g_autoptr(MwMessage) mem =
		mw_message_new_from_mime(GMIME_OBJECT(small), g_get_tmp_dir(), NULL);
	ck_assert(mem != NULL && !mw_message_is_spooled(mem));
}
END_TEST

/* a spool that cannot be written: NULL with the reason, not a truncated message */
START_TEST(test_from_mime_spool_error)
{
	g_autoptr(MwMessage) in = big_message(2 * MW_MESSAGE_MEMORY_THRESHOLD);
	GMimeMessage *mime = mw_message_get_mime(in, NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(MwMessage) out =
		mw_message_new_from_mime(GMIME_OBJECT(mime), "/nonexistent/mw-spool", &error);
	ck_assert_ptr_null(out);
	ck_assert(g_error_matches(error, MW_ERROR, MW_ERROR_IO));
	ck_assert_msg(strstr(error->message, "spool") != NULL, "%s", error->message);
}
END_TEST

/* LF-only input with a preamble and an epilogue: GMime keeps those as they were */
static const char lf_sample[] = "From: a@example.org\n"
				"Content-Type: multipart/mixed; boundary=\"b1\"\n"
				"\n"
				"This is a preamble.\n"
				"--b1\n"
				"Content-Type: text/plain\n"
				"\n"
				"hello\n"
				"--b1--\n"
				"epilogue line one\n"
				"epilogue line two\n";

START_TEST(test_from_mime_crlf)
{
	const char *input = _i == 0 ? sample : lf_sample;
	g_autoptr(MwMessage) msg = mw_message_new_from_bytes((const guint8 *) input, strlen(input));
	GMimeMessage *mime = mw_message_get_mime(msg, NULL);
	g_autoptr(MwMessage) again = mw_message_new_from_mime(GMIME_OBJECT(mime), NULL, NULL);
	ck_assert_ptr_nonnull(again);
	g_autoptr(GByteArray) bytes = read_all(again);
	g_byte_array_append(bytes, (const guint8 *) "", 1);
	const char *text = (const char *) bytes->data;
	/* every LF is preceded by CR: valid SMTP DATA */
	for (const char *p = strchr(text, '\n'); p != NULL; p = strchr(p + 1, '\n'))
		ck_assert(p > text && p[-1] == '\r');
	ck_assert_ptr_nonnull(strstr(text, "hello\r\n"));
}
END_TEST

START_TEST(test_dup_head_and_file)
{
	g_autofree char *path = NULL;
	int fd = g_file_open_tmp("mw-msg-XXXXXX.eml", &path, NULL);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, sample, strlen(sample)), (ssize_t) strlen(sample));
	close(fd);
	g_autoptr(MwMessage) msg = mw_message_new_from_file(path, NULL, NULL);
	ck_assert_ptr_nonnull(msg);
	g_autofree char *head = mw_message_dup_head(msg, 20);
	ck_assert_str_eq(head, "From: a@example.org\r");
	g_autoptr(GError) error = NULL;
	ck_assert_ptr_null(mw_message_new_from_file("/nonexistent.eml", NULL, &error));
	ck_assert_ptr_nonnull(error);
	unlink(path);
}
END_TEST

int
main(void)
{
	g_mime_init();
	Suite *s = suite_create("message");
	TCase *tc = tcase_create("core");
	tcase_add_loop_test(tc, test_memory_and_spool, 0, 6);
	tcase_add_test(tc, test_spool_leaves_no_file);
	tcase_add_test(tc, test_spool_dir_missing);
	tcase_add_test(tc, test_parse_spooled);
	tcase_add_test(tc, test_parse_no_header_block);
	tcase_add_test(tc, test_from_mime_spools);
	tcase_add_test(tc, test_from_mime_spool_error);
	tcase_add_loop_test(tc, test_from_mime_crlf, 0, 2);
	tcase_add_test(tc, test_dup_head_and_file);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	g_mime_shutdown();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
