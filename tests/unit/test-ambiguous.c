/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-ambiguous - the ambiguous-MIME detector on raw messages
 * DESCRIPTION
 *	Each case is a message and whether (and why) it is ambiguous; every
 *	case is also checked with its line ends as bare LF. A tagged delivery
 *	keeps the original bytes after the added header.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "mw-ambiguous.h"
#include "mw-txn.h"

typedef struct {
	const char *text;
	const char *reason; /* substring of the reason, NULL: not ambiguous */
} Case;

static const Case cases[] = {
	{"Subject: x\r\nContent-Type: text/plain\r\n\r\nbody\r\n", NULL},
	{"Subject: x\r\nContent-Type: text/plain\r\nContent-Type: application/octet-stream\r\n\r\n"
	 "body\r\n",
	 "duplicate Content-Type"},
	{"content-type: text/plain\r\nCONTENT-TYPE : text/html\r\n\r\nbody\r\n",
	 "duplicate Content-Type"},
	{"Content-Transfer-Encoding: base64\r\nContent-Transfer-Encoding: 7bit\r\n\r\nQUJD\r\n",
	 "duplicate Content-Transfer-Encoding"},
	{"Content-Type: multipart/mixed; boundary=\"a\"; "
	 "boundary=\"b\"\r\n\r\n--a\r\n\r\nx\r\n--a--\r\n",
	 "more than one boundary"},
	{"Content-Type: multipart/mixed;\r\n boundary=\"a\";\r\n\tBOUNDARY=b\r\n\r\n--a--\r\n",
	 "more than one boundary"},
	/* inside a part, found through the declared boundary */
	{"Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\npreamble\r\n--XX\r\n"
	 "Content-Type: text/plain\r\n\r\nhello\r\n--XX\r\nContent-Type: text/plain\r\n"
	 "Content-Type: application/x-msdownload; name=a.exe\r\n\r\nTVqQ\r\n--XX--\r\n",
	 "duplicate Content-Type"},
	/* headers in a body that is not a part do not count */
	{"Content-Type: text/plain\r\n\r\nContent-Type: a/b\r\nContent-Type: c/d\r\n", NULL},
	/* a nested multipart with one boundary each is fine */
	{"Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\n"
	 "Content-Type: multipart/alternative; boundary=i\r\n\r\n--i\r\nContent-Type: "
	 "text/plain\r\n"
	 "\r\nx\r\n--i--\r\n--o--\r\n",
	 NULL},
	/* "boundary" inside another parameter's value is not a parameter */
	{"Content-Type: multipart/mixed; boundary=\"q\"; x-note=\"boundary=z\"\r\n\r\n--q--\r\n",
	 NULL},
	{"", NULL},
	{"no header block at all", NULL},
};

START_TEST(test_cases)
{
	const Case *c = &cases[_i];
	for (int lf = 0; lf <= 1; lf++) {
		g_auto(GStrv) lines = g_strsplit(c->text, "\r\n", -1);
		g_autofree char *text = lf ? g_strjoinv("\n", lines) : g_strdup(c->text);
		g_autoptr(MwMessage) msg =
			mw_message_new_from_bytes((const guint8 *) text, strlen(text));
		g_autofree char *reason = NULL;
		gboolean found = mw_mime_find_ambiguity(msg, &reason);
		ck_assert_msg(found == (c->reason != NULL), "case %d (%s): found=%d reason=%s", _i,
			      lf ? "LF" : "CRLF", found, reason ? reason : "-");
		if (found)
			ck_assert_msg(strstr(reason, c->reason) != NULL, "case %d: reason '%s'", _i,
				      reason);
	}
}
END_TEST

START_TEST(test_spooled_long_lines)
{
	/* a spooled message with header fields longer than a read chunk */
	g_autoptr(MwMessage) msg = mw_message_new(g_get_tmp_dir(), 1024);
	const char *head = "Content-Type: multipart/mixed; boundary=\"B\"\r\nX-Long: ";
	mw_message_append(msg, (const guint8 *) head, strlen(head), NULL);
	g_autofree char *pad = g_strnfill(200000, 'x');
	mw_message_append(msg, (const guint8 *) pad, strlen(pad), NULL);
	const char *rest = "\r\n\r\n--B\r\nContent-Type: text/plain\r\nContent-Type: text/html\r\n"
			   "\r\nx\r\n--B--\r\n";
	mw_message_append(msg, (const guint8 *) rest, strlen(rest), NULL);
	mw_message_seal(msg, NULL);
	ck_assert(mw_message_is_spooled(msg));
	g_autofree char *reason = NULL;
	ck_assert(mw_mime_find_ambiguity(msg, &reason));
	ck_assert_ptr_nonnull(strstr(reason, "duplicate Content-Type"));
}
END_TEST

START_TEST(test_prepend_keeps_bytes)
{
	const char *text = "Subject: x\r\n\r\n.body\r\n";
	const char *rcpts[] = {"a@example.org", NULL};
	MwEnvelope *env = mw_envelope_new_simple("s@example.org", rcpts);
	g_autoptr(MwMessage) msg = mw_message_new_from_bytes((const guint8 *) text, strlen(text));
	g_autoptr(MwTxn) txn = mw_txn_new(NULL, env, msg);
	MwDelivery *d = g_ptr_array_index(txn->deliveries, 0);
	ck_assert(mw_delivery_prepend_header(d, "X-Tag", "yes", g_get_tmp_dir(), NULL));
	ck_assert(d->modified);
	gsize len = (gsize) mw_message_get_size(d->message);
	g_autofree char *out = g_malloc0(len + 1);
	mw_message_read(d->message, 0, (guint8 *) out, len, NULL);
	g_autofree char *expect = g_strconcat("X-Tag: yes\r\n", text, NULL);
	ck_assert_str_eq(out, expect);
}
END_TEST

int
main(void)
{
	g_mime_init();
	Suite *s = suite_create("ambiguous");
	TCase *tc = tcase_create("core");
	tcase_add_loop_test(tc, test_cases, 0, G_N_ELEMENTS(cases));
	tcase_add_test(tc, test_spooled_long_lines);
	tcase_add_test(tc, test_prepend_keeps_bytes);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	g_mime_shutdown();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
