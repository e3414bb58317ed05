/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-ambiguous - ambiguous_mime = pass | tag | quarantine | reject
 * SYNOPSIS
 *	integration/test-ambiguous
 * DESCRIPTION
 *	A message with two Content-Type headers in one part, through the
 *	daemon with each setting: tag adds X-Mailwarden-MIME as the first
 *	header and leaves every other byte as it was, reject answers 554,
 *	quarantine answers 250 and delivers nothing, pass leaves the message
 *	byte-identical. A clean message is never tagged.
 */
#include <string.h>

#include "mw-test-util.h"

static const char *const one_rcpt[] = {"b@example.net", NULL};

static const char ambiguous[] =
	"From: a@example.org\r\nTo: b@example.net\r\nSubject: two types\r\nMIME-Version: 1.0\r\n"
	"Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n--XX\r\n"
	"Content-Type: text/plain\r\nContent-Type: application/x-msdownload; name=a.exe\r\n"
	"Content-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA\r\n--XX--\r\n";

/* send - the ambiguous message with ambiguous_mime = @setting; the reply code */
static int
send_with(const char *setting)
{
	g_autofree char *keys = g_strdup_printf("ambiguous_mime = %s", setting);
	mwt_start(1, keys, NULL);
	g_autoptr(MwtSmtp) s = mwt_smtp_open(mwt->port, "EHLO c.example");
	return mwt_smtp_message(s, "a@example.org", NULL, one_rcpt, ambiguous, strlen(ambiguous));
}

START_TEST(test_tag)
{
	ck_assert_int_eq(send_with("tag"), 250);
	mwt_sink_wait(1);
	g_autoptr(GBytes) got = mwt_sink_message(1);
	gsize len;
	const char *data = g_bytes_get_data(got, &len);
	const char *first = "X-Mailwarden-MIME: duplicate Content-Type header\r\n";
	ck_assert_msg(len > strlen(first) && memcmp(data, first, strlen(first)) == 0, "%.*s",
		      (int) MIN(len, 200), data);
	/* everything after the added header is the original, byte for byte */
	ck_assert_uint_eq(len - strlen(first), strlen(ambiguous));
	ck_assert(memcmp(data + strlen(first), ambiguous, strlen(ambiguous)) == 0);
	g_autofree char *line = mwt_log_wait(5000, "ambiguous MIME", NULL);
	ck_assert_ptr_nonnull(line);
}
END_TEST

START_TEST(test_reject)
{
	ck_assert_int_eq(send_with("reject"), 554);
	mwt_sink_quiesce();
	ck_assert_uint_eq(mwt_sink_count(), 0);
}
END_TEST

START_TEST(test_quarantine)
{
	ck_assert_int_eq(send_with("quarantine"), 250);
	mwt_sink_quiesce();
	ck_assert_uint_eq(mwt_sink_count(), 0);
	g_autofree char *qdir = g_build_filename(mwt->state_dir, "quarantine", NULL);
	g_autoptr(GPtrArray) files = mwt_find_files(qdir);
	gboolean eml = FALSE;
	for (guint i = 0; i < files->len; i++)
		eml |= g_str_has_suffix(g_ptr_array_index(files, i), ".eml");
	ck_assert_msg(eml, "nothing in %s", qdir);
}
END_TEST

START_TEST(test_pass_and_clean)
{
	ck_assert_int_eq(send_with("pass"), 250);
	mwt_sink_wait(1);
	g_autoptr(GBytes) got = mwt_sink_message(1);
	g_autoptr(GBytes) expect = g_bytes_new_static(ambiguous, strlen(ambiguous));
	mwt_assert_bytes_equal(expect, got);
}
END_TEST

START_TEST(test_clean_not_tagged)
{
	mwt_start(1, NULL, NULL);
	g_autoptr(GBytes) msg = mwt_message("clean", NULL);
	g_autoptr(MwtSmtp) s = mwt_smtp_open(mwt->port, "EHLO c.example");
	ck_assert_int_eq(mwt_smtp_message(s, "a@example.org", NULL, one_rcpt, MWT_BYTES(msg)), 250);
	mwt_sink_wait(1);
	g_autoptr(GBytes) got = mwt_sink_message(1);
	mwt_assert_bytes_equal(msg, got);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("ambiguous");
	TCase *tc = mwt_tcase("ambiguous", 60);
	tcase_add_test(tc, test_tag);
	tcase_add_test(tc, test_reject);
	tcase_add_test(tc, test_quarantine);
	tcase_add_test(tc, test_pass_and_clean);
	tcase_add_test(tc, test_clean_not_tagged);
	suite_add_tcase(s, tc);
	return mwt_main(s);
}
