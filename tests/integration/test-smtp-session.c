/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-smtp-session - mailwarden's SMTP server side
 * SYNOPSIS
 *	integration/test-smtp-session
 * DESCRIPTION
 *	Greeting, EHLO keywords, command sequence and syntax errors, unknown
 *	and over-long commands, ESMTP parameters, RSET/NOOP/QUIT, several
 *	transactions per connection, a whole pipelined session in one write,
 *	allowed_clients, the error limit, the idle timeout, a client that
 *	disconnects in DATA and random garbage. Every case runs the real
 *	daemon (mailwarden-test) against mw-test-sink.
 */

#include <stdio.h>
#include <string.h>

#include "mw-test-util.h"

static const char *const one_rcpt[] = {"rcpt@example.net", NULL};

/* assert_enhanced - the last reply's text starts with the enhanced status @code */
#define assert_enhanced(s, code)                                                                   \
	ck_assert_msg(g_str_has_prefix((s)->text, code), "expected %s in \"%s\"", code, (s)->text)

START_TEST(test_greeting)
{
	g_autoptr(MwtSmtp) s = NULL;

	mwt_start(2, NULL, NULL);
	s = mwt_smtp_connect(mwt->port);
	mwt_smtp_expect(s, 220);
	ck_assert_msg(g_str_has_prefix(s->text, "mw.test ESMTP mailwarden"), "greeting \"%s\"",
		      s->text);
	mwt_smtp_cmd_expect(s, 221, "QUIT");
	ck_assert_msg(mwt_smtp_closed(s, 5000), "no close after QUIT");
}
END_TEST

START_TEST(test_ehlo_keywords)
{
	static const char *const wanted[] = {"PIPELINING", "SIZE 1234567",        "8BITMIME",
					     "SMTPUTF8",   "ENHANCEDSTATUSCODES", "DSN"};
	static const char *const unwanted[] = {"STARTTLS", "AUTH", "CHUNKING", "BINARYMIME"};
	static const char *const attrs[] = {"NAME", "ADDR",  "PORT",  "PROTO",
					    "HELO", "IDENT", "SOURCE"};
	g_autoptr(MwtSmtp) s = NULL;
	g_autoptr(MwtSmtp) h = NULL;
	g_auto(GStrv) words = NULL;
	const char *xforward = NULL;

	mwt_start(2, "max_message_size = 1234567", NULL);
	s = mwt_smtp_connect(mwt->port);
	mwt_smtp_expect(s, 220);
	mwt_smtp_cmd_expect(s, 250, "EHLO client.example");
	ck_assert_msg(g_str_has_prefix(g_ptr_array_index(s->lines, 0), "mw.test"),
		      "first EHLO line \"%s\"", (const char *) g_ptr_array_index(s->lines, 0));
	for (guint i = 0; i < G_N_ELEMENTS(wanted); i++)
		ck_assert_msg(mwt_smtp_has_line(s, wanted[i]), "EHLO lacks \"%s\":\n%s", wanted[i],
			      s->text);
	for (guint i = 0; i < G_N_ELEMENTS(unwanted); i++)
		ck_assert_msg(!mwt_smtp_has_line(s, unwanted[i]),
			      "EHLO announces \"%s\", which is not implemented:\n%s", unwanted[i],
			      s->text);
	for (guint i = 0; i < s->lines->len; i++)
		if (g_str_has_prefix(g_ptr_array_index(s->lines, i), "XFORWARD "))
			xforward = g_ptr_array_index(s->lines, i);
	ck_assert_msg(xforward != NULL, "EHLO lacks XFORWARD:\n%s", s->text);
	words = g_strsplit(xforward, " ", -1);
	for (guint i = 0; i < G_N_ELEMENTS(attrs); i++)
		ck_assert_msg(g_strv_contains((const char *const *) words, attrs[i]),
			      "XFORWARD lacks %s: \"%s\"", attrs[i], xforward);

	/* a second EHLO is allowed and resets nothing harmful */
	mwt_smtp_cmd_expect(s, 250, "EHLO client.example");
	mwt_smtp_ok(s, "MAIL FROM:<a@example.org>");

	/* HELO: one line, then mail works */
	h = mwt_smtp_connect(mwt->port);
	mwt_smtp_expect(h, 220);
	mwt_smtp_cmd_expect(h, 250, "HELO client.example");
	ck_assert_msg(h->lines->len == 1, "HELO reply has %u lines", h->lines->len);
	mwt_smtp_ok(h, "MAIL FROM:<a@example.org>");
	mwt_smtp_ok(h, "RCPT TO:<b@example.net>");
}
END_TEST

START_TEST(test_sequence_errors)
{
	g_autoptr(MwtSmtp) s = NULL;
	g_autoptr(GBytes) msg = mwt_message("sequence", NULL);
	g_autofree char *env = NULL;
	g_autofree char *mail = NULL;
	g_autoptr(GPtrArray) rcpts = NULL;
	g_autoptr(GBytes) got = NULL;

	mwt_start(2, NULL, NULL);
	s = mwt_smtp_connect(mwt->port);
	mwt_smtp_expect(s, 220);
	mwt_smtp_cmd_expect(s, 503, "MAIL FROM:<early@example.org>");
	assert_enhanced(s, "5.5.1");
	mwt_smtp_cmd_expect(s, 250, "EHLO client.example");
	mwt_smtp_cmd_expect(s, 503, "RCPT TO:<b@example.net>");
	assert_enhanced(s, "5.5.1");
	mwt_smtp_cmd_expect(s, 503, "DATA");
	assert_enhanced(s, "5.5.1");
	mwt_smtp_ok(s, "MAIL FROM:<a@example.org>");
	mwt_smtp_cmd_expect(s, 503, "MAIL FROM:<nested@example.org>");
	assert_enhanced(s, "5.5.1");
	mwt_smtp_cmd_expect(s, 503, "XFORWARD ADDR=192.0.2.99");
	assert_enhanced(s, "5.5.1");
	/* the transaction survived all of that */
	mwt_smtp_ok(s, "RCPT TO:<b@example.net>");
	mwt_smtp_cmd_expect(s, 354, "DATA");
	mwt_smtp_data(s, MWT_BYTES(msg));
	mwt_smtp_expect(s, 250);
	mwt_sink_wait(1);
	env = mwt_sink_envelope(1);
	mail = mwt_env_line(env, "MAIL ");
	ck_assert_msg(g_str_has_prefix(mail, "FROM:<a@example.org>"), "MAIL %s", mail);
	rcpts = mwt_env_rcpts(env);
	ck_assert_uint_eq(rcpts->len, 1);
	ck_assert_str_eq(g_ptr_array_index(rcpts, 0), "b@example.net");
	ck_assert_msg(strstr(env, "192.0.2.99") == NULL, "refused XFORWARD was passed on:\n%s",
		      env);
	got = mwt_sink_message(1);
	mwt_assert_bytes_equal(msg, got);
}
END_TEST

START_TEST(test_data_before_rcpt)
{
	g_autoptr(MwtSmtp) s = NULL;
	g_autoptr(GBytes) msg = mwt_message("data before rcpt", NULL);

	/* ARCHITECTURE/issue: "503 5.5.1 for bad sequence (... DATA before RCPT ...)" */
	mwt_start(2, NULL, NULL);
	s = mwt_smtp_open(mwt->port, "EHLO client.example");
	mwt_smtp_ok(s, "MAIL FROM:<a@example.org>");
	mwt_smtp_cmd_expect(s, 503, "DATA");
	assert_enhanced(s, "5.5.1");
	mwt_smtp_ok(s, "RCPT TO:<b@example.net>");
	mwt_smtp_cmd_expect(s, 354, "DATA");
	mwt_smtp_data(s, MWT_BYTES(msg));
	mwt_smtp_expect(s, 250);
}
END_TEST

START_TEST(test_unknown_commands)
{
	static const char *const cmds[] = {"FOO",
					   "BDAT 10 LAST",
					   "STARTTLS",
					   "AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=",
					   "XCLIENT ADDR=192.0.2.1",
					   "TURN",
					   "ETRN example.org"};
	g_autoptr(MwtSmtp) s = NULL;

	mwt_start(2, NULL, NULL);
	s = mwt_smtp_open(mwt->port, "EHLO client.example");
	for (guint i = 0; i < G_N_ELEMENTS(cmds); i++) {
		mwt_smtp_cmd_expect(s, 502, "%s", cmds[i]);
		assert_enhanced(s, "5.5.2");
	}
	mwt_smtp_cmd_expect(s, 250, "NOOP");
	/* BDAT must not have swallowed the next transaction as chunk data */
	mwt_smtp_ok(s, "MAIL FROM:<a@example.org>");
}
END_TEST

START_TEST(test_long_lines)
{
	g_autoptr(MwtSmtp) s = NULL;
	g_autoptr(GBytes) msg = mwt_message("after long lines", NULL);
	g_autofree char *noop = g_strnfill(5000, 'x');
	g_autofree char *local = g_strnfill(4200, 'a');
	g_autofree char *huge = g_strnfill(200000, 'y');

	mwt_start(2, NULL, NULL);
	s = mwt_smtp_open(mwt->port, "EHLO client.example");
	mwt_smtp_cmd_expect(s, 500, "NOOP %s", noop);
	assert_enhanced(s, "5.5.2");
	/* exactly one reply for the long line: the next one belongs to NOOP */
	mwt_smtp_cmd_expect(s, 250, "NOOP");
	mwt_smtp_cmd_expect(s, 500, "MAIL FROM:<%s@example.org>", local);
	mwt_smtp_cmd_expect(s, 500, "%s", huge);
	mwt_smtp_cmd_expect(s, 250, "NOOP");
	ck_assert_int_eq(mwt_smtp_message(s, "a@example.org", NULL, one_rcpt, MWT_BYTES(msg)), 250);
	mwt_sink_wait(1);
}
END_TEST

START_TEST(test_syntax_errors)
{
	g_autoptr(MwtSmtp) s = NULL;
	g_autoptr(GBytes) msg = mwt_message("after syntax errors", NULL);

	mwt_start(2, NULL, NULL);
	s = mwt_smtp_connect(mwt->port);
	mwt_smtp_expect(s, 220);
	mwt_smtp_cmd_expect(s, 501, "EHLO");
	mwt_smtp_cmd_expect(s, 250, "EHLO client.example");
	mwt_smtp_cmd_expect(s, 501, "MAIL");
	mwt_smtp_cmd_expect(s, 501, "MAIL FROM:");
	mwt_smtp_cmd_expect(s, 501, "MAIL FROM:<a@example.org");
	mwt_smtp_cmd_expect(s, 501, "MAIL FROM:<a@example.org> SIZE=lots");
	mwt_smtp_ok(s, "MAIL FROM:<a@example.org>");
	mwt_smtp_cmd_expect(s, 501, "RCPT");
	mwt_smtp_cmd_expect(s, 501, "RCPT TO:");
	mwt_smtp_cmd_expect(s, 501, "RCPT TO:<b@example.net");
	mwt_smtp_ok(s, "RCPT TO:<b@example.net>");
	mwt_smtp_cmd_expect(s, 354, "DATA");
	mwt_smtp_data(s, MWT_BYTES(msg));
	mwt_smtp_expect(s, 250);
	mwt_sink_wait(1);
}
END_TEST

START_TEST(test_parameters)
{
	g_autoptr(MwtSmtp) s = NULL;
	g_autoptr(GBytes) msg = mwt_message("parameters", NULL);

	mwt_start(2, NULL, NULL);
	s = mwt_smtp_open(mwt->port, "EHLO client.example");
	mwt_smtp_cmd_expect(s, 555, "MAIL FROM:<a@example.org> FOO=bar");
	assert_enhanced(s, "5.5.4");
	mwt_smtp_cmd_expect(s, 555, "MAIL FROM:<a@example.org> SIZE=100 XYZZY");
	mwt_smtp_ok(s,
		    "MAIL FROM:<a@example.org> SIZE=%" G_GSIZE_FORMAT
		    " BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=abc123",
		    g_bytes_get_size(msg));
	mwt_smtp_cmd_expect(s, 555, "RCPT TO:<b@example.net> XYZZY=1");
	assert_enhanced(s, "5.5.4");
	mwt_smtp_ok(s, "RCPT TO:<b@example.net> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b@example.net");
	mwt_smtp_cmd_expect(s, 354, "DATA");
	mwt_smtp_data(s, MWT_BYTES(msg));
	mwt_smtp_expect(s, 250);
	mwt_sink_wait(1);
}
END_TEST

START_TEST(test_rset_noop_quit)
{
	g_autoptr(MwtSmtp) s = NULL;
	g_autoptr(GBytes) msg = mwt_message("after rset", NULL);
	g_autofree char *env = NULL;
	g_autoptr(GPtrArray) rcpts = NULL;

	mwt_start(2, NULL, NULL);
	s = mwt_smtp_open(mwt->port, "EHLO client.example");
	mwt_smtp_ok(s, "MAIL FROM:<first@example.org>");
	mwt_smtp_ok(s, "RCPT TO:<dropped@example.net>");
	mwt_smtp_cmd_expect(s, 250, "RSET");
	mwt_smtp_cmd_expect(s, 503, "RCPT TO:<x@example.net>");
	mwt_smtp_cmd_expect(s, 503, "DATA");
	mwt_smtp_cmd_expect(s, 250, "NOOP");
	mwt_smtp_cmd_expect(s, 250, "RSET");
	ck_assert_int_eq(mwt_smtp_message(s, "second@example.org", NULL, one_rcpt, MWT_BYTES(msg)),
			 250);
	mwt_smtp_cmd_expect(s, 221, "QUIT");
	ck_assert_msg(mwt_smtp_closed(s, 5000), "no close after QUIT");
	mwt_sink_wait(1);
	mwt_sink_quiesce();
	ck_assert_uint_eq(mwt_sink_count(), 1);
	env = mwt_sink_envelope(1);
	ck_assert_msg(strstr(env, "second@example.org") != NULL && strstr(env, "first@") == NULL &&
			      strstr(env, "dropped@") == NULL,
		      "RSET did not reset the envelope:\n%s", env);
	rcpts = mwt_env_rcpts(env);
	ck_assert_uint_eq(rcpts->len, 1);
}
END_TEST

START_TEST(test_several_transactions)
{
	g_autoptr(MwtSmtp) s = NULL;
	GBytes *msgs[3];

	mwt_start(2, NULL, NULL);
	s = mwt_smtp_open(mwt->port, "EHLO client.example");
	for (guint i = 0; i < 3; i++) {
		g_autofree char *subject = g_strdup_printf("transaction %u", i + 1);
		g_autofree char *from = g_strdup_printf("from%u@example.org", i + 1);
		g_autofree char *to = g_strdup_printf("to%u@example.net", i + 1);
		const char *rcpts[] = {to, NULL};

		msgs[i] = mwt_message(subject, NULL);
		ck_assert_int_eq(mwt_smtp_message(s, from, NULL, rcpts, MWT_BYTES(msgs[i])), 250);
	}
	mwt_sink_wait(3);
	for (guint i = 0; i < 3; i++) {
		g_autoptr(GBytes) got = mwt_sink_message(i + 1);
		g_autofree char *env = mwt_sink_envelope(i + 1);
		g_autofree char *from = g_strdup_printf("FROM:<from%u@example.org>", i + 1);
		g_autofree char *to = g_strdup_printf("to%u@example.net", i + 1);
		g_autoptr(GPtrArray) rcpts = mwt_env_rcpts(env);

		mwt_assert_bytes_equal(msgs[i], got);
		ck_assert_msg(strstr(env, from) != NULL, "message %u envelope:\n%s", i + 1, env);
		ck_assert_uint_eq(rcpts->len, 1);
		ck_assert_str_eq(g_ptr_array_index(rcpts, 0), to);
		g_bytes_unref(msgs[i]);
	}
}
END_TEST

START_TEST(test_pipelined_session)
{
	static const int expected[] = {250, 250, 250, 250, 354, 250, 250, 250, 354, 250, 221};
	g_autoptr(MwtSmtp) s = NULL;
	g_autoptr(GBytes) m1 = mwt_message("pipelined one", NULL);
	g_autoptr(GBytes) m2 = mwt_message("pipelined two", NULL);
	g_autoptr(GBytes) w1 = mwt_dot_stuff(MWT_BYTES(m1));
	g_autoptr(GBytes) w2 = mwt_dot_stuff(MWT_BYTES(m2));
	g_autoptr(GString) wire = g_string_new(NULL);
	g_autoptr(GBytes) got1 = NULL;
	g_autoptr(GBytes) got2 = NULL;
	g_autofree char *env1 = NULL;
	g_autofree char *env2 = NULL;
	g_autoptr(GPtrArray) rcpts1 = NULL;

	mwt_start(2, NULL, NULL);
	s = mwt_smtp_connect(mwt->port);
	mwt_smtp_expect(s, 220);
	g_string_append(wire, "EHLO client.example\r\n"
			      "MAIL FROM:<p@example.org>\r\n"
			      "RCPT TO:<r1@example.net>\r\n"
			      "RCPT TO:<r2@example.net>\r\n"
			      "DATA\r\n");
	g_string_append_len(wire, g_bytes_get_data(w1, NULL), (gssize) g_bytes_get_size(w1));
	g_string_append(wire, "MAIL FROM:<q@example.org>\r\n"
			      "RCPT TO:<r3@example.net>\r\n"
			      "DATA\r\n");
	g_string_append_len(wire, g_bytes_get_data(w2, NULL), (gssize) g_bytes_get_size(w2));
	g_string_append(wire, "QUIT\r\n");
	ck_assert(mwt_smtp_send_raw(s, wire->str, wire->len));
	for (guint i = 0; i < G_N_ELEMENTS(expected); i++) {
		int code = mwt_smtp_read(s);
		ck_assert_msg(code == expected[i], "pipelined reply %u: expected %d, got %d \"%s\"",
			      i + 1, expected[i], code, s->text);
	}
	mwt_sink_wait(2);
	got1 = mwt_sink_message(1);
	got2 = mwt_sink_message(2);
	mwt_assert_bytes_equal(m1, got1);
	mwt_assert_bytes_equal(m2, got2);
	env1 = mwt_sink_envelope(1);
	env2 = mwt_sink_envelope(2);
	rcpts1 = mwt_env_rcpts(env1);
	ck_assert_uint_eq(rcpts1->len, 2);
	ck_assert_str_eq(g_ptr_array_index(rcpts1, 0), "r1@example.net");
	ck_assert_str_eq(g_ptr_array_index(rcpts1, 1), "r2@example.net");
	ck_assert_msg(strstr(env2, "q@example.org") != NULL && strstr(env2, "r3@example.net"),
		      "second envelope:\n%s", env2);
}
END_TEST

START_TEST(test_allowed_clients)
{
	g_autoptr(MwtSmtp) s = NULL;

	mwt_start(2, "allowed_clients = 10.0.0.0/8", NULL);
	s = mwt_smtp_connect(mwt->port);
	mwt_smtp_expect(s, 554);
	assert_enhanced(s, "5.7.1");
	ck_assert_msg(mwt_smtp_closed(s, 5000), "refused client not disconnected");
	ck_assert(mwt_daemon_alive());
	/* still refusing, still alive: the refusal does not cost a worker */
	for (guint i = 0; i < 5; i++) {
		g_autoptr(MwtSmtp) again = mwt_smtp_connect(mwt->port);
		mwt_smtp_expect(again, 554);
	}
}
END_TEST

START_TEST(test_error_limit)
{
	g_autoptr(MwtSmtp) s = NULL;
	g_autoptr(MwtSmtp) next = NULL;
	guint errors = 0;

	mwt_start(2, NULL, NULL);
	s = mwt_smtp_open(mwt->port, "EHLO client.example");
	for (guint i = 1; i <= 30; i++) {
		int code = mwt_smtp_cmd(s, "BOGUS%u", i);
		if (code == 421) {
			errors = i;
			break;
		}
		ck_assert_msg(code == 502, "bad command %u: got %d \"%s\"", i, code, s->text);
	}
	ck_assert_msg(errors >= 20 && errors <= 21,
		      "421 after %u bad commands, expected after the 20th (or 21st)", errors);
	ck_assert_msg(mwt_smtp_closed(s, 5000), "no close after 421");
	next = mwt_smtp_open(mwt->port, "EHLO client.example");
	mwt_smtp_cmd_expect(next, 250, "NOOP");
}
END_TEST

START_TEST(test_idle_timeout)
{
	g_autoptr(MwtSmtp) idle = NULL;
	g_autoptr(MwtSmtp) next = NULL;
	g_autoptr(GBytes) msg = mwt_message("after the idle one", NULL);
	gint64 start;
	int code;

	/* one worker: only when the idle connection is dropped can the next be served */
	mwt_start(1, "timeout = 2", NULL);
	idle = mwt_smtp_open(mwt->port, "EHLO client.example");
	start = g_get_monotonic_time();
	idle->timeout_ms = mwt_scale(15000);
	code = mwt_smtp_read(idle);
	ck_assert_msg(code == 421 || code == -1, "idle client: got %d \"%s\"", code, idle->text);
	ck_assert_msg(mwt_smtp_closed(idle, 5000), "idle connection not closed");
	ck_assert_msg(g_get_monotonic_time() - start >= 1500 * 1000,
		      "idle client dropped after %" G_GINT64_FORMAT " ms, before the 2 s timeout",
		      (g_get_monotonic_time() - start) / 1000);
	next = mwt_smtp_open(mwt->port, "EHLO client.example");
	ck_assert_int_eq(mwt_smtp_message(next, "a@example.org", NULL, one_rcpt, MWT_BYTES(msg)),
			 250);
}
END_TEST

START_TEST(test_client_disconnects_in_data)
{
	g_autoptr(MwtSmtp) s = NULL;
	g_autoptr(MwtSmtp) next = NULL;
	g_autoptr(GBytes) msg = mwt_message("complete", NULL);
	g_autoptr(GBytes) got = NULL;
	static const char half[] = "From: a@example.org\r\nSubject: half\r\n\r\nthe first half\r\n";

	mwt_start(2, NULL, NULL);
	s = mwt_smtp_open(mwt->port, "EHLO client.example");
	mwt_smtp_ok(s, "MAIL FROM:<a@example.org>");
	mwt_smtp_ok(s, "RCPT TO:<rcpt@example.net>");
	mwt_smtp_cmd_expect(s, 354, "DATA");
	mwt_smtp_send_raw(s, half, strlen(half));
	mwt_smtp_close(g_steal_pointer(&s));

	/* the next message is number 1: the half one was never delivered */
	next = mwt_smtp_open(mwt->port, "EHLO client.example");
	ck_assert_int_eq(mwt_smtp_message(next, "b@example.org", NULL, one_rcpt, MWT_BYTES(msg)),
			 250);
	mwt_sink_wait(1);
	mwt_sink_quiesce();
	ck_assert_uint_eq(mwt_sink_count(), 1);
	got = mwt_sink_message(1);
	mwt_assert_bytes_equal(msg, got);
	ck_assert(mwt_daemon_alive());
}
END_TEST

START_TEST(test_client_stalls_in_data)
{
	g_autoptr(MwtSmtp) s = NULL;
	g_autoptr(MwtSmtp) next = NULL;
	g_autoptr(GBytes) msg = mwt_message("after the stalled one", NULL);
	static const char half[] = "From: a@example.org\r\nSubject: stalled\r\n\r\nhalf a body\r\n";
	int code;

	/* one worker: it must come free once the stalled client times out */
	mwt_start(1, "timeout = 2", NULL);
	s = mwt_smtp_open(mwt->port, "EHLO client.example");
	mwt_smtp_ok(s, "MAIL FROM:<a@example.org>");
	mwt_smtp_ok(s, "RCPT TO:<rcpt@example.net>");
	mwt_smtp_cmd_expect(s, 354, "DATA");
	mwt_smtp_send_raw(s, half, strlen(half));
	s->timeout_ms = mwt_scale(15000);
	code = mwt_smtp_read(s);
	ck_assert_msg(code == 421 || code == -1, "client stalled in DATA: got %d \"%s\"", code,
		      s->text);
	next = mwt_smtp_open(mwt->port, "EHLO client.example");
	ck_assert_int_eq(mwt_smtp_message(next, "b@example.org", NULL, one_rcpt, MWT_BYTES(msg)),
			 250);
	mwt_sink_wait(1);
	mwt_sink_quiesce();
	ck_assert_uint_eq(mwt_sink_count(), 1);
}
END_TEST

/* random_line - @len random bytes (NULs included) without CR/LF, not starting with a letter, + CRLF */
static GBytes *
random_line(GRand *rand, guint len)
{
	guint8 *line = g_malloc(len + 2);

	for (guint i = 0; i < len; i++) {
		guint8 c;
		do
			c = (guint8) g_rand_int_range(rand, 0, 256);
		while (c == '\r' || c == '\n' || (i == 0 && g_ascii_isalpha(c)));
		line[i] = c;
	}
	memcpy(line + len, "\r\n", 2);
	return g_bytes_new_take(line, len + 2);
}

START_TEST(test_garbage)
{
	static const struct {
		const char *bytes;
		gsize len;
	} nul_lines[] = {
		{"\0\r\n", 3},
		{"\0\0\0\0\0\0\0\0\r\n", 10},
		{"NO\0OP\r\n", 7},
		{"\0QUIT\r\n", 7},
	};
	g_autoptr(GRand) rand = g_rand_new_with_seed(20240101);
	g_autoptr(MwtSmtp) s = NULL;
	g_autoptr(MwtSmtp) blast = NULL;
	g_autoptr(MwtSmtp) next = NULL;
	g_autoptr(GBytes) msg = mwt_message("after garbage", NULL);
	g_autofree guint8 *noise = g_malloc(256 * 1024);

	mwt_start(2, NULL, NULL);
	s = mwt_smtp_open(mwt->port, "EHLO client.example");
	for (guint i = 0; i < 12; i++) {
		g_autoptr(GBytes) line = random_line(rand, (guint) g_rand_int_range(rand, 1, 300));
		int code;

		mwt_smtp_send_raw(s, MWT_BYTES(line));
		code = mwt_smtp_read(s);
		ck_assert_msg(code == 500 || code == 502, "random line %u: got %d \"%s\"", i, code,
			      s->text);
	}
	for (guint i = 0; i < G_N_ELEMENTS(nul_lines); i++) {
		int code;

		mwt_smtp_send_raw(s, nul_lines[i].bytes, nul_lines[i].len);
		code = mwt_smtp_read(s);
		ck_assert_msg(code == 500 || code == 502, "NUL line %u: got %d \"%s\"", i, code,
			      s->text);
	}
	mwt_smtp_cmd_expect(s, 250, "NOOP");

	/* a quarter megabyte of noise, then a hang-up */
	for (gsize i = 0; i < 256 * 1024; i++)
		noise[i] = (guint8) g_rand_int_range(rand, 0, 256);
	blast = mwt_smtp_connect(mwt->port);
	mwt_smtp_send_raw(blast, noise, 256 * 1024);
	mwt_smtp_close(g_steal_pointer(&blast));

	next = mwt_smtp_open(mwt->port, "EHLO client.example");
	ck_assert_int_eq(mwt_smtp_message(next, "a@example.org", NULL, one_rcpt, MWT_BYTES(msg)),
			 250);
	mwt_sink_wait(1);
	ck_assert(mwt_daemon_alive());
}
END_TEST

static Suite *
smtp_session_suite(void)
{
	Suite *suite = suite_create("smtp-session");
	TCase *tc = mwt_tcase("session", 60);

	tcase_add_test(tc, test_greeting);
	tcase_add_test(tc, test_ehlo_keywords);
	tcase_add_test(tc, test_sequence_errors);
	tcase_add_test(tc, test_data_before_rcpt);
	tcase_add_test(tc, test_unknown_commands);
	tcase_add_test(tc, test_long_lines);
	tcase_add_test(tc, test_syntax_errors);
	tcase_add_test(tc, test_parameters);
	tcase_add_test(tc, test_rset_noop_quit);
	tcase_add_test(tc, test_several_transactions);
	tcase_add_test(tc, test_pipelined_session);
	tcase_add_test(tc, test_allowed_clients);
	tcase_add_test(tc, test_error_limit);
	tcase_add_test(tc, test_idle_timeout);
	tcase_add_test(tc, test_client_disconnects_in_data);
	tcase_add_test(tc, test_client_stalls_in_data);
	tcase_add_test(tc, test_garbage);
	suite_add_tcase(suite, tc);
	return suite;
}

int
main(void)
{
	return mwt_main(smtp_session_suite());
}
