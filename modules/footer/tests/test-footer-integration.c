/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-footer-integration - the footer module in the running daemon
 * DESCRIPTION
 *	mailwarden-test with modules = footer between the test SMTP client and
 *	the test sink: an outbound multipart/alternative message gets both
 *	footers and the marker, and sending the delivered message again (a
 *	retry, a loop) gives the same bytes; inbound mail passes byte-identical;
 *	--check-config names a missing footer file; a SIGHUP reload picks up an
 *	edited footer file.
 */
#include <signal.h>
#include <string.h>

#include "mw-test-util.h"

static const char *const rcpts[] = {"bob@example.net", NULL};

#define FOOTER_A                                                                                   \
	"Example AG, Gr\xc3\xbc\xc3\x9f"                                                           \
	"e: footer A"
#define FOOTER_B "Example AG: footer B after the reload"

/* message - tests/data/@name with CRLF line ends */
static GBytes *
message(const char *name)
{
	g_autofree char *path = g_build_filename(MW_TEST_SRCDIR, "data", name, NULL);
	g_autofree char *data = NULL;
	GString *out = g_string_new(NULL);

	ck_assert_msg(g_file_get_contents(path, &data, NULL, NULL), "cannot read %s", path);
	for (const char *p = data; *p != '\0'; p++) {
		if (*p == '\n')
			g_string_append_c(out, '\r');
		g_string_append_c(out, *p);
	}
	gsize len = out->len;
	return g_bytes_new_take(g_string_free(out, FALSE), len);
}

/* start - the daemon with the footer module and footer.txt / footer.html in the test dir */
static void
start(const char *footer_text)
{
	g_autofree char *text = mwt_write_file("footer.txt", footer_text, -1);
	g_autofree char *html = mwt_write_file("footer.html", "<p>HTML <b>footer</b></p>\n", -1);
	g_autofree char *section =
		g_strdup_printf("[footer]\ntext = %s\nhtml = %s\nsigned = attach\n", text, html);

	mwt_start(2, "local_domains = example.org\nmodules = footer", section);
}

/* contains - @needle occurs in @bytes */
static gboolean
contains(GBytes *bytes, const char *needle)
{
	return memmem(g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes), needle,
		      strlen(needle)) != NULL;
}

START_TEST(test_outbound_and_retry)
{
	g_autoptr(GBytes) msg = message("alternative.eml");
	g_autoptr(GBytes) first = NULL;
	g_autoptr(GBytes) second = NULL;
	g_autoptr(MwtSmtp) s = NULL;

	start(FOOTER_A "\n");
	s = mwt_smtp_open(mwt->port, "EHLO client.example");
	ck_assert_int_eq(mwt_smtp_message(s, "alice@example.org", NULL, rcpts, MWT_BYTES(msg)),
			 250);
	mwt_sink_wait(1);
	first = mwt_sink_message(1);
	ck_assert(contains(first, "\r\nX-Mailwarden-Footer: yes\r\n"));
	/* the text part (quoted-printable) and the HTML part */
	ck_assert(contains(first, "\r\n--=20\r\nExample AG, Gr=C3=BC=C3=9Fe: footer A\r\n"));
	ck_assert(contains(first, "<p>HTML <b>footer</b></p>\r\n<!-- footer end -->\r\n</body>"));
	/* the preamble and epilogue, with CRLF, and the odd boundary line, as they were */
	ck_assert(contains(
		first, "\r\n\r\nThis is a multi-part message in MIME format.\r\n\r\n--alt-b\r\n"));
	ck_assert(contains(first, "\r\n--alt-b   \r\n"));
	ck_assert(contains(first, "\r\n--alt-b--\r\nepilogue text\r\n"));
	g_autofree char *added_line = mwt_log_wait(5000, "footer=added", NULL);
	ck_assert_ptr_nonnull(added_line);

	/* the delivered message comes round again: nothing is added */
	ck_assert_int_eq(mwt_smtp_message(s, "alice@example.org", NULL, rcpts, MWT_BYTES(first)),
			 250);
	mwt_sink_wait(2);
	second = mwt_sink_message(2);
	mwt_assert_bytes_equal(first, second);
	g_autofree char *present_line = mwt_log_wait(5000, "footer=present", NULL);
	ck_assert_ptr_nonnull(present_line);
}
END_TEST

START_TEST(test_inbound_untouched)
{
	g_autoptr(GBytes) msg = message("mixed.eml");
	g_autoptr(GBytes) got = NULL;
	g_autoptr(MwtSmtp) s = NULL;

	start(FOOTER_A "\n");
	s = mwt_smtp_open(mwt->port, "EHLO client.example");
	ck_assert_int_eq(mwt_smtp_message(s, "someone@example.com", NULL, rcpts, MWT_BYTES(msg)),
			 250);
	mwt_sink_wait(1);
	got = mwt_sink_message(1);
	mwt_assert_bytes_equal(msg, got);
	g_autofree char *skipped_line = mwt_log_wait(5000, "footer=skipped", NULL);
	ck_assert_ptr_nonnull(skipped_line);
}
END_TEST

START_TEST(test_signed_attach)
{
	g_autoptr(GBytes) msg = message("pgp-signed-fake.eml");
	g_autoptr(GBytes) got = NULL;
	g_autoptr(MwtSmtp) s = NULL;
	gsize len = 0;
	const char *data = g_bytes_get_data(msg, &len);
	const char *body = memmem(data, len, "\r\n\r\n", 4);

	start(FOOTER_A "\n");
	s = mwt_smtp_open(mwt->port, "EHLO client.example");
	ck_assert_int_eq(mwt_smtp_message(s, "alice@example.org", NULL, rcpts, MWT_BYTES(msg)),
			 250);
	mwt_sink_wait(1);
	got = mwt_sink_message(1);
	/* the signed body travels inside the new multipart/mixed, every byte of it */
	ck_assert(contains(got, "Content-Type: multipart/mixed;"));
	g_autofree char *original_body = g_strndup(body + 4, (gsize) (data + len - body - 4));
	ck_assert(contains(got, original_body));
	g_autofree char *attached_line = mwt_log_wait(5000, "footer=attached", NULL);
	ck_assert_ptr_nonnull(attached_line);
}
END_TEST

START_TEST(test_check_config_missing_file)
{
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	g_autofree char *missing = g_build_filename(mwt->dir, "missing-footer.txt", NULL);
	g_autofree char *section = g_strdup_printf("[footer]\ntext = %s\n", missing);
	int status;

	mwt_write_config(1, "local_domains = example.org\nmodules = footer", section);
	status = mwt_run(NULL, &out, &err, MW_TEST_BINARY, "-c", mwt->conf, "--check-config", NULL);
	ck_assert_int_eq(status, 1);
	ck_assert_msg(strstr(out, "missing-footer.txt") != NULL ||
			      strstr(err, "missing-footer.txt") != NULL,
		      "no word of the missing file:\n%s\n%s", out, err);
}
END_TEST

START_TEST(test_reload_reads_new_footer)
{
	g_autoptr(GBytes) msg = message("plain-utf8.eml");
	g_autoptr(GBytes) first = NULL;
	g_autoptr(GBytes) second = NULL;

	start(FOOTER_A "\n");
	{
		g_autoptr(MwtSmtp) s = mwt_smtp_open(mwt->port, "EHLO client.example");
		ck_assert_int_eq(
			mwt_smtp_message(s, "alice@example.org", NULL, rcpts, MWT_BYTES(msg)), 250);
	}
	mwt_sink_wait(1);
	first = mwt_sink_message(1);
	ck_assert(contains(first, "\r\n-- \r\n" FOOTER_A "\r\n"));

	/* the file is read again by the reload's configure(), not per message */
	g_free(mwt_write_file("footer.txt", FOOTER_B "\n", -1));
	ck_assert_int_eq(kill(mwt->daemon, SIGHUP), 0);
	g_autofree char *reload_line = mwt_log_wait(10000, "configuration reloaded", NULL);
	ck_assert_ptr_nonnull(reload_line);
	{
		g_autoptr(MwtSmtp) s = mwt_smtp_open(mwt->port, "EHLO client.example");
		ck_assert_int_eq(
			mwt_smtp_message(s, "alice@example.org", NULL, rcpts, MWT_BYTES(msg)), 250);
	}
	mwt_sink_wait(2);
	second = mwt_sink_message(2);
	ck_assert_msg(contains(second, "\r\n-- \r\n" FOOTER_B "\r\n"), "old footer after reload");
	ck_assert(!contains(second, "footer A"));
}
END_TEST

static Suite *
footer_suite(void)
{
	Suite *suite = suite_create("footer-integration");
	TCase *tc = mwt_tcase("footer", 60);

	tcase_add_test(tc, test_outbound_and_retry);
	tcase_add_test(tc, test_inbound_untouched);
	tcase_add_test(tc, test_signed_attach);
	tcase_add_test(tc, test_check_config_missing_file);
	tcase_add_test(tc, test_reload_reads_new_footer);
	suite_add_tcase(suite, tc);
	return suite;
}

int
main(void)
{
	return mwt_main(footer_suite());
}
