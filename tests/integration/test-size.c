/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-size - max_message_size and large messages
 * SYNOPSIS
 *	integration/test-size
 * DESCRIPTION
 *	SIZE is advertised with max_message_size and enforced at MAIL (552
 *	5.3.4 for a declared size above it) and after the final dot for data
 *	above it (nothing delivered, the connection stays usable); a message
 *	of exactly the limit passes. A 50 MB message, generated here, passes
 *	byte-identical.
 */

#include <stdio.h>
#include <string.h>

#include "mw-test-util.h"

#define LIMIT 1000000

static const char *const one_rcpt[] = {"rcpt@example.net", NULL};

/* message_of_size - a CRLF message of exactly @len bytes (len >= 200) */
static GBytes *
message_of_size(gsize len, const char *subject)
{
	g_autoptr(GString) s = g_string_sized_new(len);
	static const char line[] =
		"0123456789abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVW"
		"XYZ..\r\n";

	g_string_append_printf(s,
			       "From: big@example.org\r\n"
			       "To: rcpt@example.net\r\n"
			       "Subject: %s\r\n"
			       "\r\n",
			       subject);
	while (s->len + sizeof(line) - 1 + 2 <= len)
		g_string_append(s, line);
	while (s->len + 2 < len)
		g_string_append_c(s, 'z');
	g_string_append(s, "\r\n");
	g_assert(s->len == len);
	return g_bytes_new(s->str, s->len);
}

START_TEST(test_size_at_mail)
{
	g_autoptr(MwtSmtp) s = NULL;

	mwt_start(2, "max_message_size = 1000000", NULL);
	s = mwt_smtp_connect(mwt->port);
	mwt_smtp_expect(s, 220);
	mwt_smtp_cmd_expect(s, 250, "EHLO client.example");
	ck_assert_msg(mwt_smtp_has_line(s, "SIZE 1000000"), "EHLO:\n%s", s->text);
	mwt_smtp_cmd_expect(s, 552, "MAIL FROM:<a@example.org> SIZE=1000001");
	ck_assert_msg(g_str_has_prefix(s->text, "5.3.4"), "text \"%s\"", s->text);
	mwt_smtp_ok(s, "MAIL FROM:<a@example.org> SIZE=1000000");
	mwt_smtp_cmd_expect(s, 250, "RSET");
	mwt_smtp_ok(s, "MAIL FROM:<a@example.org> SIZE=0");
	mwt_smtp_cmd_expect(s, 250, "RSET");
	/* RFC 1870 allows 20 digits; a valid but huge size is "too big" (Postfix: 552) */
	mwt_smtp_cmd_expect(s, 552, "MAIL FROM:<a@example.org> SIZE=99999999999999999999");
}
END_TEST

START_TEST(test_oversize_data)
{
	g_autoptr(MwtSmtp) s = NULL;
	g_autoptr(GBytes) big = message_of_size(LIMIT + 2, "too big");
	g_autoptr(GBytes) small = mwt_message("small after big", NULL);
	g_autoptr(GBytes) got = NULL;

	mwt_start(2, "max_message_size = 1000000", NULL);
	s = mwt_smtp_open(mwt->port, "EHLO client.example");
	/* no SIZE declared */
	ck_assert_int_eq(mwt_smtp_message(s, "a@example.org", NULL, one_rcpt, MWT_BYTES(big)), 552);
	ck_assert_msg(g_str_has_prefix(s->text, "5.3.4"), "text \"%s\"", s->text);
	/* a SIZE that lies */
	ck_assert_int_eq(
		mwt_smtp_message(s, "a@example.org", "SIZE=1000", one_rcpt, MWT_BYTES(big)), 552);
	/* the connection is still good, and only the small one arrives */
	ck_assert_int_eq(mwt_smtp_message(s, "a@example.org", NULL, one_rcpt, MWT_BYTES(small)),
			 250);
	mwt_sink_wait(1);
	mwt_sink_quiesce();
	ck_assert_uint_eq(mwt_sink_count(), 1);
	got = mwt_sink_message(1);
	mwt_assert_bytes_equal(small, got);
}
END_TEST

START_TEST(test_exact_limit)
{
	g_autoptr(MwtSmtp) s = NULL;
	g_autoptr(GBytes) exact = message_of_size(LIMIT, "exactly the limit");
	g_autoptr(GBytes) above = message_of_size(LIMIT + 1, "one byte above");
	g_autoptr(GBytes) got = NULL;
	g_autofree char *params = g_strdup_printf("SIZE=%u", LIMIT);

	mwt_start(2, "max_message_size = 1000000", NULL);
	s = mwt_smtp_open(mwt->port, "EHLO client.example");
	ck_assert_int_eq(mwt_smtp_message(s, "a@example.org", params, one_rcpt, MWT_BYTES(exact)),
			 250);
	mwt_sink_wait(1);
	got = mwt_sink_message(1);
	mwt_assert_bytes_equal(exact, got);
	ck_assert_int_eq(mwt_smtp_message(s, "a@example.org", NULL, one_rcpt, MWT_BYTES(above)),
			 552);
	mwt_sink_quiesce();
	ck_assert_uint_eq(mwt_sink_count(), 1);
}
END_TEST

/* fifty_megabytes - 50 MiB of varied lines: text, dots at line starts, 8-bit bytes, long lines */
static GBytes *
fifty_megabytes(void)
{
	const gsize total = 50 * 1024 * 1024;
	GByteArray *a = g_byte_array_sized_new((guint) total);
	GRand *rand = g_rand_new_with_seed(50);
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/ .,;-";
	static const char head[] = "From: huge@example.org\r\n"
				   "To: rcpt@example.net\r\n"
				   "Subject: fifty megabytes\r\n"
				   "Message-ID: <fifty@example.org>\r\n"
				   "Content-Type: text/plain; charset=iso-8859-1\r\n"
				   "Content-Transfer-Encoding: 8bit\r\n"
				   "\r\n";
	guint8 line[8192];

	g_byte_array_append(a, (const guint8 *) head, sizeof(head) - 1);
	while (a->len < total) {
		gsize room = total - a->len;
		guint kind = (guint) g_rand_int_range(rand, 0, 100);
		guint len = kind < 2 ? (guint) g_rand_int_range(rand, 1000, 8000) : 76;

		if (len + 2 > room)
			len = (guint) (room - 2);
		if (room - (len + 2) == 1)
			len++; /* never leave a single byte: the message ends with CRLF */
		for (guint i = 0; i < len; i++) {
			if (kind >= 95)
				line[i] = (guint8) g_rand_int_range(rand, 0x80, 0x100);
			else
				line[i] = (guint8)
					alphabet[g_rand_int_range(rand, 0, sizeof(alphabet) - 1)];
		}
		if (kind >= 90 && kind < 95 && len > 0)
			line[0] = '.';
		g_byte_array_append(a, line, len);
		g_byte_array_append(a, (const guint8 *) "\r\n", 2);
	}
	g_rand_free(rand);
	return g_byte_array_free_to_bytes(a);
}

START_TEST(test_fifty_megabytes)
{
	g_autoptr(MwtSmtp) s = NULL;
	g_autoptr(GBytes) msg = fifty_megabytes();
	g_autoptr(GBytes) got = NULL;
	g_autofree char *params =
		g_strdup_printf("SIZE=%" G_GSIZE_FORMAT " BODY=8BITMIME", g_bytes_get_size(msg));
	gint64 start = g_get_monotonic_time();
	int code;

	mwt_start(2, "max_message_size = 60000000\ntimeout = 30", NULL);
	s = mwt_smtp_open(mwt->port, "EHLO client.example");
	s->timeout_ms = mwt_scale(120000);
	code = mwt_smtp_message(s, "a@example.org", params, one_rcpt, MWT_BYTES(msg));
	ck_assert_msg(code == 250, "50 MB message: got %d \"%s\"", code, s->text);
	fprintf(stderr, "test-size: 50 MB through mailwarden in %" G_GINT64_FORMAT " ms\n",
		(g_get_monotonic_time() - start) / 1000);
	mwt_sink_wait(1);
	got = mwt_sink_message(1);
	mwt_assert_bytes_equal(msg, got);
}
END_TEST

static Suite *
size_suite(void)
{
	Suite *suite = suite_create("size");
	TCase *limits = mwt_tcase("limits", 60);
	TCase *large = mwt_tcase("large", 300);

	tcase_add_test(limits, test_size_at_mail);
	tcase_add_test(limits, test_oversize_data);
	tcase_add_test(limits, test_exact_limit);
	tcase_add_test(large, test_fifty_megabytes);
	suite_add_tcase(suite, limits);
	suite_add_tcase(suite, large);
	return suite;
}

int
main(void)
{
	return mwt_main(size_suite());
}
