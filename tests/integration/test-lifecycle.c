/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-lifecycle - reload, drain, metrics, status and daemon mode
 * SYNOPSIS
 *	integration/test-lifecycle
 * DESCRIPTION
 *	SIGHUP with a new valid configuration changes the pipeline for new
 *	connections while a connection opened before the reload still gets
 *	its message through; SIGHUP with a broken configuration keeps the
 *	running one. SIGTERM lets a message in flight finish. The metrics page
 *	counts what happened, "status" tells healthy from broken, and -d with
 *	--pid-file detaches and writes the master's pid.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gio/gio.h>

#include "mw-test-util.h"

static const char *const one_rcpt[] = {"b@example.net", NULL};

/* reload_with - rewrite the config with @keys and send SIGHUP; wait for the log line */
static void
reload_with(const char *keys, const char *expect_log)
{
	guint before = mwt_log_count(expect_log, NULL);
	mwt_write_config(2, keys, NULL);
	ck_assert_int_eq(kill(mwt->daemon, SIGHUP), 0);
	for (guint i = 0; i < 100 && mwt_log_count(expect_log, NULL) <= before; i++)
		g_usleep(mwt_scale(50) * 1000);
	ck_assert_msg(mwt_log_count(expect_log, NULL) > before, "no '%s' after SIGHUP", expect_log);
}

START_TEST(test_reload_changes_pipeline)
{
	g_autoptr(GBytes) msg = mwt_message("reload", "X-Test-Verdict: reject\r\n");
	mwt_start(2, NULL, NULL);

	/* before: no module, the message passes */
	g_autoptr(MwtSmtp) early = mwt_smtp_open(mwt->port, "EHLO early.example");
	ck_assert_int_eq(mwt_smtp_message(early, "a@example.org", NULL, one_rcpt, MWT_BYTES(msg)),
			 250);
	/* a transaction in progress across the reload */
	mwt_smtp_ok(early, "MAIL FROM:<a@example.org>");
	mwt_smtp_ok(early, "RCPT TO:<b@example.net>");

	reload_with("modules = test_verdict", "configuration reloaded");
	/* the old worker finishes the transaction with the configuration it started with */
	mwt_smtp_cmd_expect(early, 354, "DATA");
	ck_assert(mwt_smtp_data(early, MWT_BYTES(msg)));
	mwt_smtp_expect(early, 250);
	/* then it retires: Postfix probes a cached connection with RSET and opens a new one */
	mwt_smtp_cmd_expect(early, 421, "RSET");
	/* a new connection gets the new pipeline */
	g_autoptr(MwtSmtp) late = mwt_smtp_open(mwt->port, "EHLO late.example");
	ck_assert_int_eq(mwt_smtp_message(late, "a@example.org", NULL, one_rcpt, MWT_BYTES(msg)),
			 554);
	mwt_smtp_cmd_expect(late, 221, "QUIT");

	/* a broken configuration is refused; the running one stays */
	reload_with("modules = no_such_module", "reload failed");
	g_autoptr(MwtSmtp) after = mwt_smtp_open(mwt->port, "EHLO after.example");
	ck_assert_int_eq(mwt_smtp_message(after, "a@example.org", NULL, one_rcpt, MWT_BYTES(msg)),
			 554);
	ck_assert(mwt_daemon_alive());
	mwt_sink_wait(2);
}
END_TEST

START_TEST(test_term_drains_message_in_flight)
{
	g_autoptr(GBytes) msg = mwt_message("drain", NULL);
	mwt_start(1, NULL, NULL);
	mwt_sink_mode("stall-dot:2");
	g_autoptr(MwtSmtp) s = mwt_smtp_open(mwt->port, "EHLO c.example");
	mwt_smtp_ok(s, "MAIL FROM:<a@example.org>");
	mwt_smtp_ok(s, "RCPT TO:<b@example.net>");
	mwt_smtp_cmd_expect(s, 354, "DATA");
	ck_assert(mwt_smtp_data(s, MWT_BYTES(msg)));
	/* the downstream is stalling on the dot; stop the daemon meanwhile */
	g_usleep(mwt_scale(500) * 1000);
	ck_assert_int_eq(kill(mwt->daemon, SIGTERM), 0);
	/* the message in flight still gets its real answer, then 421 for what follows */
	mwt_smtp_expect(s, 250);
	mwt_smtp_cmd_expect(s, 421, "NOOP");
	mwt_sink_wait(1);
	int status = 0;
	ck_assert_int_eq(waitpid(mwt->daemon, &status, 0), mwt->daemon);
	mwt->daemon = 0;
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

/* http_get - the body of GET @path on 127.0.0.1:@port */
static char *
http_get(guint16 port, const char *path)
{
	g_autoptr(GSocketClient) client = g_socket_client_new();
	g_autoptr(GError) error = NULL;
	g_autoptr(GSocketConnection) conn =
		g_socket_client_connect_to_host(client, "127.0.0.1", port, NULL, &error);
	ck_assert_msg(conn != NULL, "metrics: %s", error != NULL ? error->message : "?");
	g_autofree char *request = g_strdup_printf("GET %s HTTP/1.0\r\n\r\n", path);
	GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(conn));
	ck_assert(g_output_stream_write_all(out, request, strlen(request), NULL, NULL, NULL));
	GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(conn));
	g_autoptr(GString) page = g_string_new(NULL);
	char buf[4096];
	gssize n;
	while ((n = g_input_stream_read(in, buf, sizeof buf, NULL, NULL)) > 0)
		g_string_append_len(page, buf, n);
	ck_assert_msg(g_str_has_prefix(page->str, "HTTP/1.0 200"), "%s", page->str);
	const char *body = strstr(page->str, "\r\n\r\n");
	ck_assert_ptr_nonnull(body);
	return g_strdup(body + 4);
}

START_TEST(test_metrics_and_status)
{
	guint16 metrics = mwt_free_port();
	g_autofree char *keys =
		g_strdup_printf("modules = test_verdict\nmetrics = 127.0.0.1:%u", metrics);
	mwt_start(2, keys, NULL);
	g_autoptr(GBytes) good = mwt_message("good", NULL);
	g_autoptr(GBytes) bad = mwt_message("bad", "X-Test-Verdict: discard\r\n");
	g_autoptr(MwtSmtp) s = mwt_smtp_open(mwt->port, "EHLO c.example");
	ck_assert_int_eq(mwt_smtp_message(s, "a@example.org", NULL, one_rcpt, MWT_BYTES(good)),
			 250);
	ck_assert_int_eq(mwt_smtp_message(s, "a@example.org", NULL, one_rcpt, MWT_BYTES(good)),
			 250);
	ck_assert_int_eq(mwt_smtp_message(s, "a@example.org", NULL, one_rcpt, MWT_BYTES(bad)), 250);
	mwt_smtp_cmd_expect(s, 221, "QUIT");

	g_autofree char *page = http_get(metrics, "/metrics");
	ck_assert_msg(strstr(page, "mailwarden_messages_total{action=\"delivered\"} 2\n") != NULL,
		      "%s", page);
	ck_assert(strstr(page, "mailwarden_messages_total{action=\"discarded\"} 1\n") != NULL);
	ck_assert(strstr(page, "mailwarden_module_verdicts_total{module=\"test_verdict\","
			       "verdict=\"discard\"} 1\n") != NULL);
	ck_assert(strstr(page, "mailwarden_workers 2\n") != NULL);
	ck_assert(strstr(page, "mailwarden_module_duration_seconds_count{module=\"test_verdict\"} "
			       "3\n") != NULL);

	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	int rc = mwt_run(NULL, &out, &err, MW_TEST_BINARY, "-c", mwt->conf, "status", NULL);
	ck_assert_msg(rc == 0 && strstr(out, "healthy") != NULL, "status: %d\n%s%s", rc, out, err);

	/* downstream gone: not healthy */
	mwt_sink_stop();
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	rc = mwt_run(NULL, &out, &err, MW_TEST_BINARY, "-c", mwt->conf, "status", NULL);
	ck_assert_msg(rc == 2 && strstr(out, "NOT HEALTHY") != NULL, "status: %d\n%s", rc, out);
}
END_TEST

START_TEST(test_daemon_mode_pid_file)
{
	mwt_write_config(1, NULL, NULL);
	mwt_sink_start(NULL);
	g_autofree char *pid_file = g_build_filename(mwt->dir, "mw.pid", NULL);
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	int rc = mwt_run(NULL, &out, &err, MW_TEST_BINARY, "-c", mwt->conf, "-d", "--pid-file",
			 pid_file, NULL);
	ck_assert_msg(rc == 0, "-d exited %d: %s", rc, err);
	/* the foreground process returns once the daemon is up: its pid is in the file */
	g_autofree char *text = NULL;
	ck_assert_msg(g_file_get_contents(pid_file, &text, NULL, NULL),
		      "-d returned before the daemon wrote %s", pid_file);
	pid_t pid = (pid_t) g_ascii_strtoll(text, NULL, 10);
	ck_assert_int_gt(pid, 1);
	MwtSmtp *s = NULL;
	for (guint i = 0; i < 400 && (s = mwt_smtp_try_connect(mwt->port)) == NULL; i++)
		g_usleep(mwt_scale(50) * 1000);
	ck_assert_ptr_nonnull(s);
	mwt_smtp_expect(s, 220);
	mwt_smtp_close(s);
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	for (guint i = 0; i < 200 && kill(pid, 0) == 0; i++)
		g_usleep(mwt_scale(50) * 1000);
	ck_assert_msg(kill(pid, 0) != 0, "daemon %d still running after SIGTERM", (int) pid);
	ck_assert(!g_file_test(pid_file, G_FILE_TEST_EXISTS));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("lifecycle");
	TCase *tc = mwt_tcase("lifecycle", 120);
	tcase_add_test(tc, test_reload_changes_pipeline);
	tcase_add_test(tc, test_term_drains_message_in_flight);
	tcase_add_test(tc, test_metrics_and_status);
	tcase_add_test(tc, test_daemon_mode_pid_file);
	suite_add_tcase(s, tc);
	return mwt_main(s);
}
