/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-virus-smtp - the virus module in the running daemon, over SMTP
 * DESCRIPTION
 *	mailwarden-test with [virus] between the test client and the test
 *	sink (Postfix's stand-ins on both sides), with the libclamav engine
 *	loaded by the master from a database built in the test's directory, or
 *	with engine = clamd on a clamd the test starts (and always stops by
 *	PID). Checks what Postfix would see and what is reinjected: clean mail
 *	byte-identical, discard (250, nothing out), reject (554 naming the
 *	virus), quarantine (stored, not delivered), the notices going out
 *	through the reinjection, X-Virus-Scanned on clean mail, a banned
 *	attachment, clamd down under each on_error (4xx or delivered, the log
 *	saying which and why), and SIGHUP loading new signatures while a message
 *	in the middle of its transfer completes.
 *
 *	"Nothing delivered" is proven with a sentinel: a clean message sent
 *	afterwards must be sink message number 1.
 */
#include <signal.h>
#include <string.h>

#include <glib/gstdio.h>

#include "mw-test-util.h"
#include "virus-test-lib.h"

static const char *const one_rcpt[] = {"b@example.org", NULL};

/* start_db - the daemon with modules = virus, the libclamav engine on a fresh database and
 * @virus_keys in [virus]; returns the database path */
static char *
start_db(const char *keys, const char *virus_keys)
{
	char *db = vt_make_db(mwt->dir);
	g_autofree char *core = g_strdup_printf("modules = virus\nlocal_domains = example.org\n%s",
						keys != NULL ? keys : "");
	g_autofree char *section = g_strdup_printf("[virus]\ndatabase = %s\n%s", db,
						   virus_keys != NULL ? virus_keys : "");
	mwt_start(2, core, section);
	return db;
}

/* start - start_db() for a test that does not touch the database */
static void
start(const char *keys, const char *virus_keys)
{
	g_free(start_db(keys, virus_keys));
}

/* open_session - EHLO and an XFORWARD with the queue id Postfix would pass */
static MwtSmtp *
open_session(const char *queue_id)
{
	MwtSmtp *s = mwt_smtp_open(mwt->port, "EHLO client.example");
	mwt_smtp_ok(s, "XFORWARD NAME=client.example ADDR=192.0.2.7 IDENT=%s", queue_id);
	return s;
}

/* send_sentinel - a clean message; asserts it is the sink's message @n and arrives intact */
static void
send_sentinel(MwtSmtp *s, guint n)
{
	g_autoptr(GBytes) sentinel = mwt_message("sentinel", NULL);
	g_autoptr(GBytes) got = NULL;

	ck_assert_int_eq(
		mwt_smtp_message(s, "sentinel@example.org", NULL, one_rcpt, MWT_BYTES(sentinel)),
		250);
	mwt_sink_wait(n);
	mwt_sink_quiesce();
	ck_assert_msg(mwt_sink_count() == n, "the sink has %u messages, expected %u",
		      mwt_sink_count(), n);
	got = mwt_sink_message(n);
	mwt_assert_bytes_equal(sentinel, got);
}

START_TEST(test_clean_byte_identical)
{
	start(NULL, NULL);
	g_autoptr(MwtSmtp) s = open_session("4XcleanQ1");
	g_autoptr(GBytes) msg = vt_msg_plain("hello", "nothing to see");
	g_autoptr(GBytes) got = NULL;

	ck_assert_int_eq(mwt_smtp_message(s, "a@example.net", NULL, one_rcpt, MWT_BYTES(msg)), 250);
	mwt_sink_wait(1);
	got = mwt_sink_message(1);
	mwt_assert_bytes_equal(msg, got);
	g_autofree char *line = mwt_log_wait(5000, "4XcleanQ1", "virus=clean", NULL);
	ck_assert_msg(line != NULL, "no summary with virus=clean:\n%s", mwt_log_text());
}
END_TEST

START_TEST(test_discard)
{
	start(NULL, NULL);
	g_autoptr(MwtSmtp) s = open_session("4XdiscQ1");
	g_autoptr(GBytes) msg = vt_msg_eicar_body();

	ck_assert_int_eq(mwt_smtp_message(s, "a@example.net", NULL, one_rcpt, MWT_BYTES(msg)), 250);
	send_sentinel(s, 1);
	g_autofree char *line = mwt_log_wait(5000, "4XdiscQ1", "Virus found: Eicar-Test-Signature",
					     "action=discard", NULL);
	ck_assert_msg(line != NULL, "no log line for the discarded message:\n%s", mwt_log_text());
	g_autofree char *summary = mwt_log_wait(5000, "4XdiscQ1", "virus=infected:", NULL);
	ck_assert_ptr_nonnull(summary);
}
END_TEST

START_TEST(test_reject)
{
	start(NULL, "action = reject\n");
	g_autoptr(MwtSmtp) s = open_session("4XrejQ1");
	g_autoptr(GBytes) msg = vt_msg_payload_zip();

	ck_assert_int_eq(mwt_smtp_message(s, "a@example.net", NULL, one_rcpt, MWT_BYTES(msg)), 554);
	ck_assert_msg(strstr(s->text, "5.7.1 Virus found: Mailwarden.Test.Payload1") != NULL,
		      "reply: %s", s->text);
	send_sentinel(s, 1);
}
END_TEST

START_TEST(test_quarantine)
{
	start(NULL, "action = quarantine\n");
	g_autoptr(MwtSmtp) s = open_session("4XquarQ1");
	g_autoptr(GBytes) msg = vt_msg_payload_nested();

	ck_assert_int_eq(mwt_smtp_message(s, "a@example.net", NULL, one_rcpt, MWT_BYTES(msg)), 250);
	send_sentinel(s, 1);
	g_autofree char *qdir = g_build_filename(mwt->state_dir, "quarantine", NULL);
	g_autoptr(GPtrArray) files = mwt_find_files(qdir);
	GBytes *stored = NULL;
	for (guint i = 0; i < files->len; i++) {
		const char *path = g_ptr_array_index(files, i);
		if (g_str_has_suffix(path, ".eml")) {
			g_autofree char *data = NULL;
			gsize len;
			ck_assert(g_file_get_contents(path, &data, &len, NULL));
			stored = g_bytes_new(data, len);
		}
	}
	ck_assert_msg(stored != NULL, "nothing in %s", qdir);
	mwt_assert_bytes_equal(msg, stored);
	g_bytes_unref(stored);
	g_autofree char *line = mwt_log_wait(5000, "4XquarQ1", "quarantined as", NULL);
	ck_assert_msg(line != NULL, "%s", mwt_log_text());
}
END_TEST

START_TEST(test_notify_admin)
{
	start(NULL, "notify_admin = virus-admin@example.org\n");
	g_autoptr(MwtSmtp) s = open_session("4XnotQ1");
	g_autoptr(GBytes) msg = vt_msg_eicar_attachment();

	ck_assert_int_eq(mwt_smtp_message(s, "a@example.net", NULL, one_rcpt, MWT_BYTES(msg)), 250);
	mwt_sink_wait(1);
	mwt_sink_quiesce();
	ck_assert_uint_eq(mwt_sink_count(), 1);
	g_autofree char *env = mwt_sink_envelope(1);
	g_autoptr(GPtrArray) rcpts = mwt_env_rcpts(env);
	ck_assert_msg(strstr(env, "MAIL FROM:<>") != NULL && rcpts->len == 1 &&
			      g_str_equal(g_ptr_array_index(rcpts, 0), "virus-admin@example.org"),
		      "envelope:\n%s", env);
	g_autoptr(GBytes) notice = mwt_sink_message(1);
	g_autofree char *text = vt_bytes_str(notice);
	ck_assert_msg(mwt_contains_all(text, "Eicar-Test-Signature", "4XnotQ1", "<a@example.net>",
				       "<b@example.org>", "Auto-Submitted: auto-generated", NULL),
		      "notice:\n%s", text);
	/* and the infected message itself went nowhere */
	send_sentinel(s, 2);
}
END_TEST

START_TEST(test_notify_recipient)
{
	static const char *const rcpts[] = {"b@example.org", "x@other.test", NULL};
	start(NULL, "notify_recipient = true\n");
	g_autoptr(MwtSmtp) s = open_session("4XrcptQ1");
	g_autoptr(GBytes) msg = vt_msg_payload_attachment();

	ck_assert_int_eq(mwt_smtp_message(s, "a@example.net", NULL, rcpts, MWT_BYTES(msg)), 250);
	mwt_sink_wait(1);
	mwt_sink_quiesce();
	ck_assert_uint_eq(mwt_sink_count(), 1);
	g_autofree char *env = mwt_sink_envelope(1);
	g_autoptr(GPtrArray) got = mwt_env_rcpts(env);
	ck_assert_msg(got->len == 1 && g_str_equal(g_ptr_array_index(got, 0), "b@example.org"),
		      "envelope:\n%s", env);
	g_autoptr(GBytes) notice = mwt_sink_message(1);
	g_autofree char *text = vt_bytes_str(notice);
	ck_assert_msg(mwt_contains_all(text, "not delivered", "Mailwarden.Test.Payload1",
				       "4XrcptQ1", NULL),
		      "notice:\n%s", text);
	ck_assert_ptr_null(strstr(text, "Please see the attachment"));
}
END_TEST

START_TEST(test_add_header)
{
	start(NULL, "add_header = true\n");
	g_autoptr(MwtSmtp) s = open_session("4XhdrQ1");
	g_autoptr(GBytes) msg = vt_msg_plain("hello", "clean");

	ck_assert_int_eq(mwt_smtp_message(s, "a@example.net", NULL, one_rcpt, MWT_BYTES(msg)), 250);
	mwt_sink_wait(1);
	g_autoptr(GBytes) got = mwt_sink_message(1);
	g_autofree char *header = mwt_header(got, "X-Virus-Scanned");
	g_autofree char *expect = g_strdup_printf("mailwarden %s at mw.test", MW_VERSION);
	ck_assert_msg(g_strcmp0(header, expect) == 0, "X-Virus-Scanned: %s", header);
	/* the body and the other headers are as sent */
	g_autofree char *sent = vt_bytes_str(msg);
	g_autofree char *text = vt_bytes_str(got);
	ck_assert_msg(g_str_has_suffix(text, sent), "message:\n%s", text);

	/* the same message a second time round gets no second header */
	ck_assert_int_eq(mwt_smtp_message(s, "a@example.net", NULL, one_rcpt, MWT_BYTES(got)), 250);
	mwt_sink_wait(2);
	g_autoptr(GBytes) again = mwt_sink_message(2);
	mwt_assert_bytes_equal(got, again);
}
END_TEST

START_TEST(test_banned_reject)
{
	start(NULL, "action = reject\n");
	g_autoptr(MwtSmtp) s = open_session("4XbanQ1");
	g_autoptr(GBytes) pdf = g_bytes_new_static("%PDF-1.4\n", 9);
	g_autoptr(GBytes) msg = vt_msg_attachment("invoice.pdf.exe", "application/pdf", pdf);

	ck_assert_int_eq(mwt_smtp_message(s, "a@example.net", NULL, one_rcpt, MWT_BYTES(msg)), 554);
	ck_assert_msg(strstr(s->text, "Banned attachment: invoice.pdf.exe (double extension "
				      ".pdf.exe)") != NULL,
		      "reply: %s", s->text);
	send_sentinel(s, 1);
}
END_TEST

START_TEST(test_clamd_engine)
{
	VtClamd *clamd = NULL;
	g_autofree char *db = vt_make_db(mwt->dir);
	clamd = vt_clamd_start(mwt->dir, db, NULL);
	g_autofree char *section =
		g_strdup_printf("[virus]\nengine = clamd\nclamd_socket = %s\n", clamd->socket);
	mwt_start(2, "modules = virus", section);
	g_autoptr(MwtSmtp) s = open_session("4XclamdQ1");
	g_autoptr(GBytes) bad = vt_msg_payload_zip();
	g_autoptr(GBytes) clean = vt_msg_plain("hello", "clean");

	ck_assert_int_eq(mwt_smtp_message(s, "a@example.net", NULL, one_rcpt, MWT_BYTES(bad)), 250);
	ck_assert_int_eq(mwt_smtp_message(s, "a@example.net", NULL, one_rcpt, MWT_BYTES(clean)),
			 250);
	mwt_sink_wait(1);
	mwt_sink_quiesce();
	ck_assert_uint_eq(mwt_sink_count(), 1);
	g_autoptr(GBytes) got = mwt_sink_message(1);
	mwt_assert_bytes_equal(clean, got);
	g_autofree char *line =
		mwt_log_wait(5000, "4XclamdQ1", "Virus found: Mailwarden.Test.Payload1", NULL);
	ck_assert_msg(line != NULL, "%s", mwt_log_text());
	mwt_daemon_stop();
	vt_clamd_stop(clamd);
}
END_TEST

typedef struct {
	const char *section_extra;
	int code;
	const char *log;
} DownCase;

static const DownCase down_cases[] = {
	{"", 451, "module virus failed, on_error=tempfail: clamd unreachable: unix:"},
	{"on_error = tempfail\n", 451,
	 "module virus failed, on_error=tempfail: clamd unreachable: unix:"},
	{"on_error = pass\n", 250, "module virus failed, on_error=pass: clamd unreachable: unix:"},
};

START_TEST(test_clamd_down)
{
	const DownCase *dc = &down_cases[_i];
	g_autofree char *section = g_strdup_printf(
		"[virus]\nengine = clamd\nclamd_socket = unix:%s/no-clamd.sock\ntimeout = 2\n%s",
		mwt->dir, dc->section_extra);
	mwt_start(2, "modules = virus", section);
	g_autoptr(MwtSmtp) s = open_session("4XdownQ1");
	g_autoptr(GBytes) msg = vt_msg_plain("hello", "is anybody there");
	int code = mwt_smtp_message(s, "a@example.net", NULL, one_rcpt, MWT_BYTES(msg));

	ck_assert_msg(code == dc->code, "%s: %d %s", dc->section_extra, code, s->text);
	g_autofree char *line = mwt_log_wait(5000, "4XdownQ1", dc->log, NULL);
	ck_assert_msg(line != NULL, "no log line '%s':\n%s", dc->log, mwt_log_text());
	if (code == 250) {
		mwt_sink_wait(1);
		g_autoptr(GBytes) got = mwt_sink_message(1);
		mwt_assert_bytes_equal(msg, got);
	} else {
		/* deferred: Postfix keeps it; nothing went out */
		mwt_sink_quiesce();
		ck_assert_uint_eq(mwt_sink_count(), 0);
	}
}
END_TEST

START_TEST(test_sighup_reloads_signatures)
{
	g_autofree char *db = start_db(NULL, NULL);
	g_autoptr(GBytes) p5 = vt_payload(5);
	g_autoptr(GBytes) msg = vt_msg_attachment("new.bin", "application/octet-stream", p5);
	g_autoptr(MwtSmtp) first = open_session("4XhupQ1");

	/* not in the database yet: delivered */
	ck_assert_int_eq(mwt_smtp_message(first, "a@example.net", NULL, one_rcpt, MWT_BYTES(msg)),
			 250);
	mwt_sink_wait(1);

	/* a message in the middle of its DATA when the reload comes */
	g_autoptr(MwtSmtp) busy = open_session("4XhupQ2");
	g_autoptr(GBytes) clean = vt_msg_plain("in flight", "sent across the reload");
	g_autoptr(GBytes) wire = mwt_dot_stuff(MWT_BYTES(clean));
	gsize half = g_bytes_get_size(wire) / 2;
	const guint8 *bytes = g_bytes_get_data(wire, NULL);
	mwt_smtp_ok(busy, "MAIL FROM:<a@example.net>");
	mwt_smtp_ok(busy, "RCPT TO:<b@example.org>");
	mwt_smtp_cmd_expect(busy, 354, "DATA");
	ck_assert(mwt_smtp_send_raw(busy, bytes, half));

	vt_add_payload_signature(db, 5);
	ck_assert_int_eq(kill(mwt->daemon, SIGHUP), 0);
	g_autofree char *reloaded = mwt_log_wait(20000, "configuration reloaded", NULL);
	ck_assert_msg(reloaded != NULL, "no reload:\n%s", mwt_log_text());
	g_autofree char *loaded = mwt_log_wait(5000, "loaded 5 signatures", NULL);
	ck_assert_msg(loaded != NULL, "new engine not loaded:\n%s", mwt_log_text());

	/* the message in flight is not dropped: it completes on the old generation */
	ck_assert(mwt_smtp_send_raw(busy, bytes + half, g_bytes_get_size(wire) - half));
	mwt_smtp_expect(busy, 250);
	mwt_sink_wait(2);
	g_autoptr(GBytes) got = mwt_sink_message(2);
	mwt_assert_bytes_equal(clean, got);

	/* a new connection gets the new generation, which knows the new signature */
	g_autoptr(MwtSmtp) after = open_session("4XhupQ3");
	ck_assert_int_eq(mwt_smtp_message(after, "a@example.net", NULL, one_rcpt, MWT_BYTES(msg)),
			 250);
	g_autofree char *line =
		mwt_log_wait(5000, "4XhupQ3", "Virus found: Mailwarden.Test.Payload5", NULL);
	ck_assert_msg(line != NULL, "%s", mwt_log_text());
	send_sentinel(after, 3);
	ck_assert(mwt_daemon_alive());
}
END_TEST

static Suite *
smtp_suite(void)
{
	Suite *suite = suite_create("virus-smtp");
	TCase *tc = mwt_tcase("virus-smtp", 60);

	tcase_add_test(tc, test_clean_byte_identical);
	tcase_add_test(tc, test_discard);
	tcase_add_test(tc, test_reject);
	tcase_add_test(tc, test_quarantine);
	tcase_add_test(tc, test_notify_admin);
	tcase_add_test(tc, test_notify_recipient);
	tcase_add_test(tc, test_add_header);
	tcase_add_test(tc, test_banned_reject);
	tcase_add_test(tc, test_clamd_engine);
	tcase_add_loop_test(tc, test_clamd_down, 0, G_N_ELEMENTS(down_cases));
	tcase_add_test(tc, test_sighup_reloads_signatures);
	suite_add_tcase(suite, tc);
	return suite;
}

int
main(void)
{
	return mwt_main(smtp_suite());
}
