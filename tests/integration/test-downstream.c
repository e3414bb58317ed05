/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-downstream - mailwarden facing a misbehaving reinjection server
 * SYNOPSIS
 *	integration/test-downstream
 * DESCRIPTION
 *	The final reply follows the downstream: 250 only after the sink
 *	accepted (its text carries the sink's reply), 451 with the reason for
 *	a sink that is down, refuses with 4xx, closes or stalls past the
 *	timeout, 554 with the sink's text for a permanent refusal after DATA
 *	or the dot. A failure before the final dot leaves nothing delivered
 *	(the sink logs data-aborted), and the daemon recovers when the sink
 *	does. Downstream servers without XFORWARD, PIPELINING or DSN still get
 *	the mail, without what they did not announce.
 */

#include <stdio.h>
#include <string.h>

#include "mw-test-util.h"

static const char *const one_rcpt[] = {"rcpt@example.net", NULL};

/* assert_nothing_delivered - once every sink connection ended, the sink has no message */
static void
assert_nothing_delivered(const char *what)
{
	mwt_sink_quiesce();
	ck_assert_msg(mwt_sink_count() == 0, "%s: the sink got %u messages; events:\n%s", what,
		      mwt_sink_count(), mwt_sink_events());
}

START_TEST(test_final_reply_carries_downstream_reply)
{
	g_autoptr(MwtSmtp) s = NULL;
	g_autoptr(GBytes) msg = mwt_message("plain", NULL);

	mwt_start(2, NULL, NULL);
	s = mwt_smtp_open(mwt->port, "EHLO client.example");
	ck_assert_int_eq(mwt_smtp_message(s, "a@example.org", NULL, one_rcpt, MWT_BYTES(msg)), 250);
	ck_assert_msg(strstr(s->text, "queued as SINK1") != NULL, "250 text \"%s\"", s->text);
	ck_assert_uint_eq(mwt_sink_count(), 1); /* the 250 came after the sink's commit */
}
END_TEST

START_TEST(test_sink_down_then_back)
{
	g_autoptr(MwtSmtp) s = NULL;
	g_autoptr(MwtSmtp) fresh = NULL;
	g_autoptr(GBytes) msg = mwt_message("retry me", NULL);
	g_autoptr(GBytes) got = NULL;
	int code;

	mwt_write_config(2, NULL, NULL);
	mwt_daemon_start(); /* no sink: the reinjection port is closed */
	s = mwt_smtp_open(mwt->port, "EHLO client.example");
	code = mwt_smtp_try_message(s, "a@example.org", one_rcpt, MWT_BYTES(msg));
	ck_assert_msg(code == 451, "sink down: expected 451, got %d \"%s\"", code, s->text);
	ck_assert_msg(s->text[0] == '4', "no enhanced 4.x.x status: \"%s\"", s->text);

	mwt_sink_start(NULL);
	/* the same connection goes on working */
	code = mwt_smtp_try_message(s, "a@example.org", one_rcpt, MWT_BYTES(msg));
	ck_assert_msg(code == 250, "sink back: got %d \"%s\"", code, s->text);
	fresh = mwt_smtp_open(mwt->port, "EHLO client.example");
	ck_assert_int_eq(mwt_smtp_message(fresh, "a@example.org", NULL, one_rcpt, MWT_BYTES(msg)),
			 250);
	mwt_sink_wait(2);
	got = mwt_sink_message(1);
	mwt_assert_bytes_equal(msg, got);

	/* and down again */
	mwt_sink_stop();
	code = mwt_smtp_try_message(fresh, "a@example.org", one_rcpt, MWT_BYTES(msg));
	ck_assert_msg(code == 451, "sink stopped: expected 451, got %d \"%s\"", code, fresh->text);
}
END_TEST

typedef struct {
	const char *mode;
	int code;           /* exact code, or class 4/5 */
	const char *marker; /* the sink's text that must be in the reply, or NULL */
} ModeCase;

static const ModeCase mode_cases[] = {
	{"tempfail-mail", 451, "sink tempfail-mail"},
	{"tempfail-rcpt", 451, "sink tempfail-rcpt"},
	{"tempfail-data", 451, "sink tempfail-data"},
	{"tempfail-dot", 451, "sink tempfail-dot"},
	{"greet-421", 451, "sink greet-421"},
	{"close-greeting", 451, NULL},
	{"close-in-data", 451, NULL},
	{"reject-mail", 5, "sink reject-mail"},
	{"reject-rcpt", 5, "sink reject-rcpt"},
	{"reject-data", 554, "sink reject-data"},
	{"reject-dot", 554, "sink reject-dot"},
};

START_TEST(test_sink_modes)
{
	const ModeCase *mc = &mode_cases[_i];
	g_autoptr(MwtSmtp) s = NULL;
	g_autoptr(GBytes) msg = mwt_message(mc->mode, NULL);
	int code;
	gboolean match;

	mwt_start(2, NULL, NULL);
	mwt_sink_mode(mc->mode);
	s = mwt_smtp_open(mwt->port, "EHLO client.example");
	code = mwt_smtp_try_message(s, "a@example.org", one_rcpt, MWT_BYTES(msg));
	match = mc->code < 10 ? code / 100 == mc->code : code == mc->code;
	ck_assert_msg(match, "sink mode %s: expected %d%s, got %d \"%s\"", mc->mode, mc->code,
		      mc->code < 10 ? "xx" : "", code, s->text);
	ck_assert_msg(s->text[0] == '0' + code / 100 && s->text[1] == '.',
		      "sink mode %s: no enhanced status code in \"%s\"", mc->mode, s->text);
	if (mc->marker != NULL)
		ck_assert_msg(strstr(s->text, mc->marker) != NULL,
			      "sink mode %s: the reply does not say why: \"%s\"", mc->mode,
			      s->text);
	assert_nothing_delivered(mc->mode);

	/* the sink recovers, so does the message, on the same connection */
	mwt_sink_mode("ok");
	code = mwt_smtp_try_message(s, "a@example.org", one_rcpt, MWT_BYTES(msg));
	ck_assert_msg(code == 250, "after %s: got %d \"%s\"", mc->mode, code, s->text);
	mwt_sink_wait(1);
}
END_TEST

START_TEST(test_partial_rcpt_reject)
{
	g_autoptr(MwtSmtp) s = NULL;
	g_autoptr(GBytes) msg = mwt_message("partly refused downstream", NULL);
	static const char *const rcpts[] = {"good@example.net", "bad@example.net", NULL};
	guint delivered = 0, bounces = 0;
	int code;

	mwt_start(2, NULL, NULL);
	mwt_sink_mode("reject-rcpt:bad@example.net");
	s = mwt_smtp_open(mwt->port, "EHLO client.example");
	code = mwt_smtp_message(s, "sender@example.org", NULL, rcpts, MWT_BYTES(msg));
	/*
	 * SMTP has one reply for both: a 4xx would make Postfix send good@ a second
	 * copy, a 5xx would bounce good@ although it got the mail. The postmaster's
	 * answer (amavisd's too) is 250 plus a bounce for bad@ to the sender.
	 */
	ck_assert_msg(code == 250, "mixed downstream RCPT result: got %d \"%s\"", code, s->text);
	mwt_sink_quiesce();
	for (guint n = 1; n <= mwt_sink_count(); n++) {
		g_autofree char *env = mwt_sink_envelope(n);
		g_autoptr(GPtrArray) to = mwt_env_rcpts(env);
		g_autoptr(GBytes) body = mwt_sink_message(n);

		if (strstr(env, "MAIL FROM:<>") != NULL) {
			ck_assert_msg(to->len == 1 && strcmp(g_ptr_array_index(to, 0),
							     "sender@example.org") == 0,
				      "bounce envelope:\n%s", env);
			ck_assert_msg(g_strstr_len(g_bytes_get_data(body, NULL),
						   (gssize) g_bytes_get_size(body),
						   "bad@example.net") != NULL,
				      "the bounce does not name bad@example.net");
			bounces++;
			continue;
		}
		ck_assert_msg(to->len == 1 &&
				      strcmp(g_ptr_array_index(to, 0), "good@example.net") == 0,
			      "delivery %u envelope:\n%s", n, env);
		mwt_assert_bytes_equal(msg, body);
		delivered++;
	}
	ck_assert_msg(delivered == 1, "good@ got %u copies", delivered);
	ck_assert_msg(bounces == 1,
		      "%u bounces for bad@ (expected 1: nobody else tells the sender)", bounces);
}
END_TEST

START_TEST(test_downstream_timeout)
{
	g_autoptr(MwtSmtp) s = NULL;
	g_autoptr(GBytes) msg = mwt_message("stalled", NULL);
	gint64 start, elapsed_ms;
	int code;

	mwt_start(2, "timeout = 2", NULL);
	mwt_sink_mode("stall-dot:9");
	s = mwt_smtp_open(mwt->port, "EHLO client.example");
	s->timeout_ms = mwt_scale(30000);
	start = g_get_monotonic_time();
	code = mwt_smtp_try_message(s, "a@example.org", one_rcpt, MWT_BYTES(msg));
	elapsed_ms = (g_get_monotonic_time() - start) / 1000;
	ck_assert_msg(code == 451, "stalled downstream: expected 451, got %d \"%s\"", code,
		      s->text);
	ck_assert_msg(elapsed_ms < 8000,
		      "the 451 came after %" G_GINT64_FORMAT " ms: the 2 s timeout was not applied",
		      elapsed_ms);

	/* a short stall within the timeout is fine */
	mwt_sink_mode("stall-dot:1");
	code = mwt_smtp_try_message(s, "a@example.org", one_rcpt, MWT_BYTES(msg));
	ck_assert_msg(code == 250, "1 s stall with a 2 s timeout: got %d \"%s\"", code, s->text);
}
END_TEST

START_TEST(test_abort_leaves_no_delivery)
{
	g_autoptr(MwtSmtp) s = NULL;
	g_autoptr(GBytes) msg =
		mwt_message("emit fails downstream", "X-Test-Emit: notify@example.org");
	int code;

	/* the original and the emitted notice go in one all-or-nothing step; the
	 * sink refuses the notice's recipient, so the original must not be committed */
	mwt_start(2, "modules = test_emit", NULL);
	mwt_sink_mode("reject-rcpt:notify@example.org");
	s = mwt_smtp_open(mwt->port, "EHLO client.example");
	code = mwt_smtp_message(s, "a@example.org", NULL, one_rcpt, MWT_BYTES(msg));
	ck_assert_msg(code / 100 == 4, "required emit refused downstream: got %d \"%s\"", code,
		      s->text);
	assert_nothing_delivered("aborted two-phase reinjection");
	ck_assert_msg(mwt_sink_event_count("data-start") == mwt_sink_event_count("data-aborted"),
		      "a DATA was not aborted before its final dot; events:\n%s",
		      mwt_sink_events());
}
END_TEST

START_TEST(test_downstream_without_xforward)
{
	g_autoptr(MwtSmtp) s = NULL;
	g_autoptr(GBytes) msg = mwt_message("no xforward downstream", NULL);
	g_autofree char *env = NULL;

	mwt_write_config(2, NULL, NULL);
	mwt_sink_start("--no-xforward");
	mwt_daemon_start();
	s = mwt_smtp_open(mwt->port, "EHLO client.example");
	mwt_smtp_ok(s, "XFORWARD IDENT=ABC123 ADDR=192.0.2.1 NAME=client.example");
	ck_assert_int_eq(mwt_smtp_message(s, "a@example.org", NULL, one_rcpt, MWT_BYTES(msg)), 250);
	mwt_sink_wait(1);
	env = mwt_sink_envelope(1);
	ck_assert_msg(strstr(env, "XFORWARD") == NULL, "XFORWARD sent anyway:\n%s", env);
}
END_TEST

START_TEST(test_downstream_without_pipelining)
{
	g_autoptr(MwtSmtp) s = NULL;
	g_autoptr(GBytes) msg = mwt_message("no pipelining downstream", NULL);
	g_autoptr(GBytes) got = NULL;
	g_autofree char *env = NULL;
	g_autoptr(GPtrArray) rcpts = NULL;
	static const char *const three[] = {"r1@example.net", "r2@example.net", "r3@example.net",
					    NULL};

	mwt_write_config(2, NULL, NULL);
	mwt_sink_start("--no-pipelining");
	mwt_daemon_start();
	s = mwt_smtp_open(mwt->port, "EHLO client.example");
	ck_assert_int_eq(mwt_smtp_message(s, "a@example.org", NULL, three, MWT_BYTES(msg)), 250);
	mwt_sink_wait(1);
	got = mwt_sink_message(1);
	mwt_assert_bytes_equal(msg, got);
	env = mwt_sink_envelope(1);
	rcpts = mwt_env_rcpts(env);
	ck_assert_uint_eq(rcpts->len, 3);
}
END_TEST

START_TEST(test_downstream_without_dsn)
{
	g_autoptr(MwtSmtp) s = NULL;
	g_autoptr(GBytes) msg = mwt_message("no dsn downstream", NULL);
	g_autofree char *env = NULL;

	/* Postfix drops NOTIFY/ORCPT/RET/ENVID for a server without DSN rather than
	 * failing the mail; a filter should too */
	mwt_write_config(2, NULL, NULL);
	mwt_sink_start("--no-dsn");
	mwt_daemon_start();
	s = mwt_smtp_open(mwt->port, "EHLO client.example");
	mwt_smtp_ok(s, "MAIL FROM:<a@example.org> RET=HDRS ENVID=E1");
	mwt_smtp_ok(s, "RCPT TO:<rcpt@example.net> NOTIFY=SUCCESS ORCPT=rfc822;rcpt@example.net");
	mwt_smtp_cmd_expect(s, 354, "DATA");
	mwt_smtp_data(s, MWT_BYTES(msg));
	mwt_smtp_expect(s, 250);
	mwt_sink_wait(1);
	env = mwt_sink_envelope(1);
	ck_assert_msg(strstr(env, "NOTIFY=") == NULL && strstr(env, "RET=") == NULL,
		      "DSN parameters sent to a server without DSN:\n%s", env);
}
END_TEST

static Suite *
downstream_suite(void)
{
	Suite *suite = suite_create("downstream");
	TCase *tc = mwt_tcase("downstream", 60);

	tcase_add_test(tc, test_final_reply_carries_downstream_reply);
	tcase_add_test(tc, test_sink_down_then_back);
	tcase_add_loop_test(tc, test_sink_modes, 0, G_N_ELEMENTS(mode_cases));
	tcase_add_test(tc, test_partial_rcpt_reject);
	tcase_add_test(tc, test_downstream_timeout);
	tcase_add_test(tc, test_abort_leaves_no_delivery);
	tcase_add_test(tc, test_downstream_without_xforward);
	tcase_add_test(tc, test_downstream_without_pipelining);
	tcase_add_test(tc, test_downstream_without_dsn);
	suite_add_tcase(suite, tc);
	return suite;
}

int
main(void)
{
	return mwt_main(downstream_suite());
}
