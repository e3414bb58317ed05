/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-session - the SMTP/LMTP server state machine over a socketpair
 * DESCRIPTION
 *	Each case feeds a command script to mw_session_run() in a child
 *	process (whole, and again one byte at a time: the replies must be the
 *	same) and compares the reply codes. The downstream is unreachable, so
 *	a complete transaction must end in 451 and never 250.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mw-session.h"

/* run_script - the replies of a session fed @input; @lmtp selects the protocol */
static char *
run_script(const char *input, gsize len, gboolean byte_at_a_time, gboolean lmtp)
{
	int sv[2];
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fflush(NULL);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(sv[0]);
		g_autofree char *conf = g_strdup_printf(
			"[mailwarden]\nhostname = mw.test\nreinject = 127.0.0.1:1\ntimeout = 5\n"
			"max_message_size = 100000\nstate_dir = %s\nprotocol = %s\n",
			g_get_tmp_dir(), lmtp ? "lmtp" : "smtp");
		MwConfig *config = mw_config_load_data(conf, NULL, NULL);
		if (config == NULL)
			_exit(3);
		volatile int draining = 0;
		MwReinjector *reinjector = mw_reinjector_new(config->reinject, "mw.test", 5);
		MwSessionContext ctx = {config, reinjector, &draining};
		struct sockaddr_un {
			sa_family_t family;
		} peer = {AF_UNIX};
		mw_session_run(&ctx, sv[1], (struct sockaddr *) &peer, sizeof peer);
		mw_reinjector_free(reinjector);
		mw_config_free(config);
		g_clear_pointer(&conf, g_free);
		/* exit(), not _exit(): LeakSanitizer checks the session's memory */
		exit(0);
	}
	close(sv[1]);
	signal(SIGPIPE, SIG_IGN);
	gsize step = byte_at_a_time ? 1 : len;
	for (gsize off = 0; off < len; off += step) {
		gsize n = MIN(step, len - off);
		if (write(sv[0], input + off, n) != (ssize_t) n)
			break; /* the server closed: the rest is unread */
	}
	shutdown(sv[0], SHUT_WR);
	GString *out = g_string_new(NULL);
	char buf[4096];
	ssize_t n;
	while ((n = read(sv[0], buf, sizeof buf)) > 0)
		g_string_append_len(out, buf, n);
	close(sv[0]);
	int status;
	waitpid(pid, &status, 0);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return g_string_free(out, FALSE);
}

/* codes - the codes of the final lines of each reply, space-separated */
static char *
codes(const char *replies)
{
	GString *out = g_string_new(NULL);
	g_auto(GStrv) lines = g_strsplit(replies, "\r\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		if (strlen(lines[i]) >= 4 && lines[i][3] == ' ')
			g_string_append_printf(out, "%s%.3s", out->len ? " " : "", lines[i]);
	}
	return g_string_free(out, FALSE);
}

typedef struct {
	const char *name;
	const char *input;
	const char *expect;
	gboolean lmtp;
} Case;

static const Case cases[] = {
	{"greeting and quit", "QUIT\r\n", "220 221", FALSE},
	{"ehlo", "EHLO c.example\r\nQUIT\r\n", "220 250 221", FALSE},
	{"helo", "HELO c.example\r\nNOOP\r\nRSET\r\n", "220 250 250 250", FALSE},
	{"mail before ehlo", "MAIL FROM:<a@b.example>\r\n", "220 503", FALSE},
	{"rcpt before mail", "EHLO c\r\nRCPT TO:<a@b.example>\r\n", "220 250 503", FALSE},
	{"data before mail", "EHLO c\r\nDATA\r\n", "220 250 503", FALSE},
	{"data before rcpt", "EHLO c\r\nMAIL FROM:<a@b.example>\r\nDATA\r\n", "220 250 250 503",
	 FALSE},
	{"nested mail", "EHLO c\r\nMAIL FROM:<a@b.example>\r\nMAIL FROM:<a@b.example>\r\n",
	 "220 250 250 503", FALSE},
	{"unknown and bdat", "EHLO c\r\nFOO\r\nBDAT 10\r\nSTARTTLS\r\nAUTH PLAIN\r\n",
	 "220 250 502 502 502 502", FALSE},
	{"bad syntax", "EHLO c\r\nMAIL FROM:a@b.example\r\nMAIL FROM:<a@b.example> FOO=1\r\n",
	 "220 250 501 555", FALSE},
	{"size at mail", "EHLO c\r\nMAIL FROM:<a@b.example> SIZE=100001\r\n", "220 250 552", FALSE},
	{"xforward in txn", "EHLO c\r\nMAIL FROM:<a@b.example>\r\nXFORWARD ADDR=192.0.2.1\r\n",
	 "220 250 250 503", FALSE},
	{"xforward before mail", "EHLO c\r\nXFORWARD ADDR=192.0.2.1 IDENT=X1\r\n", "220 250 250",
	 FALSE},
	{"lhlo on smtp", "LHLO c\r\nNOOP\r\n", "220 421", FALSE},
	{"ehlo on lmtp", "EHLO c\r\nLHLO c\r\n", "220 421", TRUE},
	{"rset ends txn", "EHLO c\r\nMAIL FROM:<a@b.example>\r\nRSET\r\nRCPT TO:<x@y.example>\r\n",
	 "220 250 250 250 503", FALSE},
	{"null sender", "EHLO c\r\nMAIL FROM:<>\r\nRCPT TO:<>\r\nRCPT TO:<postmaster>\r\n",
	 "220 250 250 501 250", FALSE},
	{"downstream down",
	 "EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<x@y.example>\r\nDATA\r\n"
	 "Subject: t\r\n\r\nbody\r\n.\r\nQUIT\r\n",
	 "220 250 250 250 354 451 221", FALSE},
	{"lmtp downstream down",
	 "LHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<x@y.example>\r\nRCPT TO:<z@y.example>\r\n"
	 "DATA\r\nSubject: t\r\n\r\nbody\r\n.\r\nQUIT\r\n",
	 "220 250 250 250 250 354 451 451 221", TRUE},
	{"oversize data", "EHLO c\r\nMAIL FROM:<a@b.example>\r\nRCPT TO:<x@y.example>\r\nDATA\r\n",
	 NULL, FALSE},
};

START_TEST(test_script)
{
	const Case *c = &cases[_i];
	if (c->expect == NULL)
		return; /* built in test_oversize */
	for (int bytewise = 0; bytewise <= 1; bytewise++) {
		g_autofree char *out = run_script(c->input, strlen(c->input), bytewise, c->lmtp);
		g_autofree char *got = codes(out);
		ck_assert_msg(g_str_equal(got, c->expect), "%s (%s): got '%s', expected '%s'",
			      c->name, bytewise ? "byte at a time" : "whole", got, c->expect);
	}
}
END_TEST

START_TEST(test_oversize)
{
	/* 200 KB of data against max_message_size = 100000: read to the dot, then 552 */
	GString *in = g_string_new(cases[G_N_ELEMENTS(cases) - 1].input);
	g_string_append(in, "Subject: big\r\n\r\n");
	for (int i = 0; i < 2000; i++)
		g_string_append(in,
				"0123456789012345678901234567890123456789012345678901234567890123"
				"456789012345678901234567890123\r\n");
	g_string_append(in, ".\r\nNOOP\r\n");
	g_autofree char *out = run_script(in->str, in->len, FALSE, FALSE);
	g_autofree char *got = codes(out);
	ck_assert_str_eq(got, "220 250 250 250 354 552 250");
	g_string_free(in, TRUE);
}
END_TEST

START_TEST(test_hostile_lines)
{
	/* an over-long line, NUL bytes and binary garbage: replies, never a crash */
	GString *in = g_string_new("EHLO c\r\n");
	for (int i = 0; i < 10000; i++)
		g_string_append_c(in, 'A');
	g_string_append(in, "\r\nNOOP\r\n");
	g_string_append_len(in, "MA\0IL FROM:<a@b>\r\n", 18);
	for (int i = 0; i < 256; i++)
		g_string_append_c(in, (char) (i == '\n' ? 'x' : i));
	g_string_append(in, "\r\nQUIT\r\n");
	g_autofree char *out = run_script(in->str, in->len, FALSE, FALSE);
	g_autofree char *got = codes(out);
	ck_assert_str_eq(got, "220 250 500 250 502 502 221");
	g_string_free(in, TRUE);
}
END_TEST

START_TEST(test_too_many_errors)
{
	GString *in = g_string_new("EHLO c\r\n");
	for (int i = 0; i < 30; i++)
		g_string_append(in, "BOGUS\r\n");
	g_autofree char *out = run_script(in->str, in->len, FALSE, FALSE);
	g_autofree char *got = codes(out);
	/* 20 errors, then 421 and the connection closes */
	ck_assert(g_str_has_suffix(got, "502 421"));
	ck_assert_uint_eq(strlen(got), strlen("220 250 ") + 20 * 4 + 3);
	g_string_free(in, TRUE);
}
END_TEST

START_TEST(test_ehlo_keywords)
{
	const char *in = "EHLO c\r\n";
	g_autofree char *out = run_script(in, strlen(in), FALSE, FALSE);
	const char *keywords[] = {"PIPELINING",
				  "SIZE 100000",
				  "8BITMIME",
				  "SMTPUTF8",
				  "ENHANCEDSTATUSCODES",
				  "DSN",
				  "XFORWARD NAME ADDR PORT PROTO HELO IDENT SOURCE"};
	for (guint i = 0; i < G_N_ELEMENTS(keywords); i++)
		ck_assert_msg(strstr(out, keywords[i]) != NULL, "missing %s", keywords[i]);
	ck_assert_ptr_null(strstr(out, "CHUNKING"));
	ck_assert_ptr_null(strstr(out, "STARTTLS"));
}
END_TEST

int
main(void)
{
	g_mime_init();
	Suite *s = suite_create("session");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_script, 0, G_N_ELEMENTS(cases));
	tcase_add_test(tc, test_oversize);
	tcase_add_test(tc, test_hostile_lines);
	tcase_add_test(tc, test_too_many_errors);
	tcase_add_test(tc, test_ehlo_keywords);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	g_mime_shutdown();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
