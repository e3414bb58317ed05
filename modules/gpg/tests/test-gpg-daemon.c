/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-gpg-daemon - the gpg module in the running daemon, over SMTP
 * SYNOPSIS
 *	mod-gpg-integration
 * DESCRIPTION
 *	mailwarden-test with modules = gpg between the test SMTP client and
 *	the test sink, with the keys of gpg-test.c: one message to recipients
 *	with and without keys reaches the sink as one encrypted copy per
 *	keyed recipient (decrypted here with gpg and compared with what was
 *	sent) plus the byte-identical original for the rest; a key imported
 *	while the daemon runs is used for the next message; a 10 MB message;
 *	a missing keyring under on_error = tempfail (4xx, nothing delivered)
 *	and pass (plaintext delivered), both logged with the recipients and
 *	the reason; --check-config with a good and a missing keyring.
 *
 *	gpg runs as the daemon's child only; the gpg-agents of the test keys
 *	are stopped by gpgt_cleanup().
 */
#include <stdlib.h>
#include <string.h>

#include "gpg-test.h"
#include "mw-test-util.h"

static const char message_text[] =
	"Received: from mx.example.net (mx.example.net [192.0.2.1])\r\n"
	"\tby mx.example.org (Postfix) with ESMTPS id 4Xb2Kq1ZzFz9rxM\r\n"
	"From: Sender <sender@example.net>\r\n"
	"To: Alice <alice@example.org>, bob@example.org\r\n"
	"Subject: quarterly figures\r\n"
	"Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n"
	"Message-ID: <figures@example.net>\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
	"\r\n"
	"--b1\r\n"
	"Content-Type: text/plain; charset=utf-8\r\n"
	"Content-Transfer-Encoding: 8bit\r\n"
	"\r\n"
	"The figures are attached.\r\n"
	".A line starting with a dot.\r\n"
	"--b1\r\n"
	"Content-Type: text/csv; name=\"q1.csv\"\r\n"
	"Content-Disposition: attachment; filename=\"q1.csv\"\r\n"
	"\r\n"
	"quarter,revenue\r\n"
	"q1,100\r\n"
	"--b1--\r\n";

/* sections - the [gpg] section for @keyring plus @extra lines */
static char *
sections(const char *keyring, const char *extra)
{
	return g_strdup_printf("[gpg]\nkeyring = %s\n%s", keyring, extra != NULL ? extra : "");
}

#define CORE_KEYS "modules = gpg\nlocal_domains = example.org\n"

/* delivery_for - the sink message whose envelope lists @rcpt, 0 if none */
static guint
delivery_for(const char *rcpt)
{
	for (guint n = 1; n <= mwt_sink_count(); n++) {
		g_autofree char *env = mwt_sink_envelope(n);
		g_autoptr(GPtrArray) rcpts = mwt_env_rcpts(env);
		for (guint i = 0; i < rcpts->len; i++)
			if (strcmp(g_ptr_array_index(rcpts, i), rcpt) == 0)
				return n;
	}
	return 0;
}

/* rcpt_count - recipients of sink message @n */
static guint
rcpt_count(guint n)
{
	g_autofree char *env = mwt_sink_envelope(n);
	g_autoptr(GPtrArray) rcpts = mwt_env_rcpts(env);
	return rcpts->len;
}

/* copy_keyring - a private copy of the test keyring in the test directory */
static char *
copy_keyring(void)
{
	char *copy = g_build_filename(mwt->dir, "keyring", NULL);
	g_autofree char *cmd = g_strdup_printf("cp -a '%s' '%s'", gpgt->keyring, copy);
	ck_assert_int_eq(system(cmd), 0);
	return copy;
}

START_TEST(test_split_over_smtp)
{
	static const char *const rcpts[] = {"alice@example.org", "nokey@example.org",
					    "bob@example.org", "remote@elsewhere.test", NULL};
	g_autoptr(GBytes) msg = g_bytes_new_static(message_text, strlen(message_text));
	g_autofree char *section = sections(gpgt->keyring, NULL);
	g_autoptr(MwtSmtp) s = NULL;

	mwt_start(2, CORE_KEYS, section);
	s = mwt_smtp_open(mwt->port, "EHLO client.example");
	mwt_smtp_ok(s, "XFORWARD IDENT=GPGSPLIT1");
	ck_assert_int_eq(mwt_smtp_message(s, "sender@example.net", NULL, rcpts, MWT_BYTES(msg)),
			 250);
	mwt_sink_wait(3);
	mwt_sink_quiesce();
	ck_assert_uint_eq(mwt_sink_count(), 3);

	guint n_alice = delivery_for("alice@example.org");
	guint n_bob = delivery_for("bob@example.org");
	guint n_plain = delivery_for("nokey@example.org");
	ck_assert_msg(n_alice && n_bob && n_plain && n_alice != n_bob && n_alice != n_plain &&
			      n_bob != n_plain,
		      "deliveries: alice %u, bob %u, plaintext %u", n_alice, n_bob, n_plain);
	ck_assert_uint_eq(rcpt_count(n_alice), 1);
	ck_assert_uint_eq(rcpt_count(n_bob), 1);
	ck_assert_uint_eq(rcpt_count(n_plain), 2);
	ck_assert_uint_eq(delivery_for("remote@elsewhere.test"), n_plain);

	g_autoptr(GBytes) plain = mwt_sink_message(n_plain);
	mwt_assert_bytes_equal(msg, plain);
	g_autoptr(GBytes) for_alice = mwt_sink_message(n_alice);
	g_autoptr(GBytes) for_bob = mwt_sink_message(n_bob);
	gpgt_assert_decrypts_to(for_alice, "alice@example.org", msg);
	gpgt_assert_decrypts_to(for_bob, "bob@example.org", msg);

	g_autofree char *line = mwt_log_wait(10000, "GPGSPLIT1", "gpg=encrypted:2", NULL);
	ck_assert_msg(line != NULL, "no summary line with gpg=encrypted:2; log:\n%s",
		      mwt_log_text());
}
END_TEST

START_TEST(test_key_imported_while_running)
{
	static const char *const rcpts[] = {"newbie@example.org", NULL};
	g_autoptr(GBytes) msg = g_bytes_new_static(message_text, strlen(message_text));
	g_autofree char *keyring = copy_keyring();
	g_autofree char *section = sections(keyring, NULL);
	g_autoptr(MwtSmtp) s = NULL;

	mwt_start(2, CORE_KEYS, section);
	pid_t daemon = mwt->daemon;
	s = mwt_smtp_open(mwt->port, "EHLO client.example");
	ck_assert_int_eq(mwt_smtp_message(s, "sender@example.net", NULL, rcpts, MWT_BYTES(msg)),
			 250);
	mwt_sink_wait(1);
	g_autoptr(GBytes) before = mwt_sink_message(1);
	mwt_assert_bytes_equal(msg, before);

	gpgt_import_public("newbie@example.org", keyring);
	ck_assert_int_eq(mwt_smtp_message(s, "sender@example.net", NULL, rcpts, MWT_BYTES(msg)),
			 250);
	mwt_sink_wait(2);
	g_autoptr(GBytes) after = mwt_sink_message(2);
	gpgt_assert_decrypts_to(after, "newbie@example.org", msg);
	ck_assert_int_eq(mwt->daemon, daemon);
	ck_assert(mwt_daemon_alive());
}
END_TEST

START_TEST(test_large_message)
{
	static const char *const rcpts[] = {"alice@example.org", "nokey@example.org", NULL};
	g_autofree char *section = sections(gpgt->keyring, NULL);
	g_autoptr(GString) text = g_string_new("From: sender@example.net\r\n"
					       "To: alice@example.org\r\n"
					       "Subject: ten megabytes\r\n"
					       "MIME-Version: 1.0\r\n"
					       "Content-Type: text/plain; charset=us-ascii\r\n"
					       "\r\n");
	for (guint i = 0; text->len < 10 * 1024 * 1024; i++)
		g_string_append_printf(text,
				       "line %07u of a long report, with some text to make "
				       "it longer than usual\r\n",
				       i);
	g_autoptr(GBytes) msg = g_bytes_new(text->str, text->len);
	g_autoptr(MwtSmtp) s = NULL;

	mwt_start(2, CORE_KEYS, section);
	s = mwt_smtp_open(mwt->port, "EHLO client.example");
	ck_assert_int_eq(mwt_smtp_message(s, "sender@example.net", NULL, rcpts, MWT_BYTES(msg)),
			 250);
	mwt_sink_wait(2);
	mwt_sink_quiesce();
	guint n_alice = delivery_for("alice@example.org");
	guint n_plain = delivery_for("nokey@example.org");
	ck_assert_msg(n_alice != 0 && n_plain != 0 && n_alice != n_plain, "alice %u, nokey %u",
		      n_alice, n_plain);
	g_autoptr(GBytes) plain = mwt_sink_message(n_plain);
	mwt_assert_bytes_equal(msg, plain);
	g_autoptr(GBytes) for_alice = mwt_sink_message(n_alice);
	gpgt_assert_decrypts_to(for_alice, "alice@example.org", msg);
}
END_TEST

START_TEST(test_missing_keyring_tempfail)
{
	static const char *const rcpts[] = {"alice@example.org", "nokey@example.org", NULL};
	g_autoptr(GBytes) msg = g_bytes_new_static(message_text, strlen(message_text));
	g_autofree char *missing = g_build_filename(mwt->dir, "no-keyring", NULL);
	g_autofree char *section = sections(missing, "on_error = tempfail\n");
	g_autoptr(MwtSmtp) s = NULL;

	mwt_start(2, CORE_KEYS, section);
	s = mwt_smtp_open(mwt->port, "EHLO client.example");
	int code = mwt_smtp_message(s, "sender@example.net", NULL, rcpts, MWT_BYTES(msg));
	ck_assert_msg(code / 100 == 4, "got %d \"%s\"", code, s->text);
	g_autofree char *line = mwt_log_wait(10000, "gpg failed", "<alice@example.org>",
					     "<nokey@example.org>", missing, NULL);
	ck_assert_msg(line != NULL, "no log line with the recipients and the keyring; log:\n%s",
		      mwt_log_text());
	mwt_sink_quiesce();
	ck_assert_uint_eq(mwt_sink_count(), 0);
}
END_TEST

START_TEST(test_missing_keyring_pass)
{
	static const char *const rcpts[] = {"alice@example.org", "nokey@example.org", NULL};
	g_autoptr(GBytes) msg = g_bytes_new_static(message_text, strlen(message_text));
	g_autofree char *missing = g_build_filename(mwt->dir, "no-keyring", NULL);
	g_autofree char *section = sections(missing, NULL);
	g_autoptr(MwtSmtp) s = NULL;

	mwt_start(2, CORE_KEYS, section);
	s = mwt_smtp_open(mwt->port, "EHLO client.example");
	ck_assert_int_eq(mwt_smtp_message(s, "sender@example.net", NULL, rcpts, MWT_BYTES(msg)),
			 250);
	mwt_sink_wait(1);
	g_autoptr(GBytes) got = mwt_sink_message(1);
	mwt_assert_bytes_equal(msg, got);
	ck_assert_uint_eq(rcpt_count(1), 2);
	g_autofree char *line =
		mwt_log_wait(10000, "on_error=pass", "<alice@example.org>", missing, NULL);
	ck_assert_msg(line != NULL, "no log line with the recipient and the keyring; log:\n%s",
		      mwt_log_text());
}
END_TEST

START_TEST(test_check_config)
{
	g_autofree char *good = sections(gpgt->keyring, NULL);
	g_autofree char *missing_dir = g_build_filename(mwt->dir, "no-keyring", NULL);
	g_autofree char *missing = sections(missing_dir, NULL);
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;

	mwt_write_config(1, CORE_KEYS, good);
	int rc = mwt_run(NULL, &out, &err, MW_TEST_BINARY, "-c", mwt->conf, "--check-config", NULL);
	ck_assert_msg(rc == 0, "--check-config with a good keyring: %d\n%s%s", rc, out, err);

	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	mwt_write_config(1, CORE_KEYS, missing);
	rc = mwt_run(NULL, &out, &err, MW_TEST_BINARY, "-c", mwt->conf, "--check-config", NULL);
	ck_assert_msg(rc == 1, "--check-config with a missing keyring: %d\n%s%s", rc, out, err);
	ck_assert_msg(strstr(err, "[gpg] keyring") != NULL && strstr(err, missing_dir) != NULL,
		      "%s", err);
}
END_TEST

int
main(void)
{
	g_mime_init();
	gpgt_init();
	Suite *suite = suite_create("gpg-daemon");
	TCase *tc = mwt_tcase("daemon", 120);
	tcase_set_tags(tc, "gpg");
	tcase_add_test(tc, test_split_over_smtp);
	tcase_add_test(tc, test_key_imported_while_running);
	tcase_add_test(tc, test_large_message);
	tcase_add_test(tc, test_missing_keyring_tempfail);
	tcase_add_test(tc, test_missing_keyring_pass);
	tcase_add_test(tc, test_check_config);
	suite_add_tcase(suite, tc);
	int rc = mwt_main(suite);
	gpgt_cleanup();
	g_mime_shutdown();
	return rc;
}
