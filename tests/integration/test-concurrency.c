/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-concurrency - many clients at once, every message exactly once
 * SYNOPSIS
 *	integration/test-concurrency
 * DESCRIPTION
 *	Client processes (fork) send messages in parallel: 8 clients with 8
 *	workers, 5 messages each over one connection; then 12 clients on 3
 *	workers, a new connection per message, so clients queue for workers.
 *	Every message must reach the sink exactly once and byte-identical,
 *	with its own envelope. Clients report failures by exit status and a
 *	line on stderr (no check assertions outside the test process).
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mw-test-util.h"

/* client_message - message @j of client @i, deterministic */
static GBytes *
client_message(guint i, guint j)
{
	g_autoptr(GString) s = g_string_new(NULL);

	g_string_append_printf(s,
			       "From: client%u@example.org\r\n"
			       "To: c%u@example.net\r\n"
			       "Subject: client %u message %u\r\n"
			       "Message-ID: <c%u.m%u@example.org>\r\n"
			       "X-Client: %u-%u\r\n"
			       "\r\n",
			       i, i, i, j, i, j, i, j);
	for (guint k = 0; k < 20 + (i * 7 + j * 13) % 200; k++)
		g_string_append_printf(s, "%sline %u of message %u-%u\r\n", k % 9 == 0 ? "." : "",
				       k, i, j);
	return g_bytes_new(s->str, s->len);
}

/* client_run - body of client process @i; returns the exit status */
static int
client_run(guint i, guint messages, gboolean connection_per_message)
{
	MwtSmtp *s = NULL;
	int status = 0;

	for (guint j = 0; j < messages && status == 0; j++) {
		g_autoptr(GBytes) msg = client_message(i, j);
		g_autofree char *from = g_strdup_printf("client%u@example.org", i);
		g_autofree char *to = g_strdup_printf("c%u@example.net", i);
		const char *rcpts[] = {to, NULL};
		int code;

		if (s == NULL) {
			s = mwt_smtp_try_connect(mwt->port);
			if (s == NULL || mwt_smtp_read(s) != 220 ||
			    mwt_smtp_cmd(s, "EHLO client%u.example", i) != 250) {
				fprintf(stderr, "client %u: cannot open a session: %s\n", i,
					s != NULL ? s->text : g_strerror(errno));
				status = 1;
				break;
			}
		}
		code = mwt_smtp_try_message(s, from, rcpts, MWT_BYTES(msg));
		if (code != 250) {
			fprintf(stderr, "client %u message %u: got %d \"%s\"\n", i, j, code,
				s->text);
			status = 1;
		}
		if (connection_per_message) {
			mwt_smtp_cmd(s, "QUIT");
			g_clear_pointer(&s, mwt_smtp_close);
		}
	}
	if (s != NULL) {
		mwt_smtp_cmd(s, "QUIT");
		mwt_smtp_close(s);
	}
	return status;
}

/* run_clients - fork @n clients, wait for all (bounded), assert they all succeeded */
static void
run_clients(guint n, guint messages, gboolean connection_per_message)
{
	g_autofree pid_t *pids = g_new0(pid_t, n);
	gint64 deadline = g_get_monotonic_time() + (gint64) mwt_scale(120000) * 1000;
	guint failed = 0;

	for (guint i = 0; i < n; i++) {
		fflush(stderr);
		pids[i] = fork();
		ck_assert_msg(pids[i] >= 0, "fork: %s", g_strerror(errno));
		if (pids[i] == 0)
			_exit(client_run(i, messages, connection_per_message));
	}
	for (guint i = 0; i < n; i++) {
		int status = 0;
		pid_t got;

		while ((got = waitpid(pids[i], &status, WNOHANG)) == 0) {
			if (g_get_monotonic_time() > deadline) {
				for (guint k = i; k < n; k++)
					kill(pids[k], SIGKILL);
				ck_abort_msg("client %u did not finish in time", i);
			}
			g_usleep(10 * 1000);
		}
		if (got != pids[i] || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
	}
	ck_assert_msg(failed == 0, "%u of %u clients failed (see stderr)", failed, n);
}

/* check_deliveries - the sink has exactly @n × @messages messages, each once, intact */
static void
check_deliveries(guint n, guint messages)
{
	guint total = n * messages;
	g_autofree guint *seen = g_new0(guint, total);

	mwt_sink_wait(total);
	mwt_sink_quiesce();
	ck_assert_msg(mwt_sink_count() == total, "the sink has %u messages, expected %u",
		      mwt_sink_count(), total);
	for (guint k = 1; k <= total; k++) {
		g_autoptr(GBytes) got = mwt_sink_message(k);
		g_autofree char *id = mwt_header(got, "X-Client");
		g_autofree char *env = mwt_sink_envelope(k);
		g_autoptr(GPtrArray) rcpts = mwt_env_rcpts(env);
		g_autoptr(GBytes) expected = NULL;
		g_autofree char *to = NULL;
		guint i, j;

		ck_assert_msg(id != NULL && sscanf(id, "%u-%u", &i, &j) == 2 && i < n &&
				      j < messages,
			      "message %u has X-Client \"%s\"", k, id);
		seen[i * messages + j]++;
		expected = client_message(i, j);
		mwt_assert_bytes_equal(expected, got);
		to = g_strdup_printf("c%u@example.net", i);
		ck_assert_msg(rcpts->len == 1 && strcmp(g_ptr_array_index(rcpts, 0), to) == 0,
			      "message %u-%u has the envelope:\n%s", i, j, env);
	}
	for (guint x = 0; x < total; x++)
		ck_assert_msg(seen[x] == 1, "message %u-%u delivered %u times", x / messages,
			      x % messages, seen[x]);
}

START_TEST(test_eight_clients)
{
	mwt_start(8, NULL, NULL);
	run_clients(8, 5, FALSE);
	check_deliveries(8, 5);
	ck_assert(mwt_daemon_alive());
}
END_TEST

START_TEST(test_more_clients_than_workers)
{
	mwt_start(3, NULL, NULL);
	run_clients(12, 3, TRUE);
	check_deliveries(12, 3);
	ck_assert(mwt_daemon_alive());
}
END_TEST

START_TEST(test_parallel_with_modules)
{
	/* every client's message passes through the split module; the non-split
	 * recipients keep the original bytes */
	mwt_start(4, "modules = test_split, test_verdict, test_modify", NULL);
	run_clients(8, 3, FALSE);
	check_deliveries(8, 3);
}
END_TEST

static Suite *
concurrency_suite(void)
{
	Suite *suite = suite_create("concurrency");
	TCase *tc = mwt_tcase("concurrency", 180);

	tcase_add_test(tc, test_eight_clients);
	tcase_add_test(tc, test_more_clients_than_workers);
	tcase_add_test(tc, test_parallel_with_modules);
	suite_add_tcase(suite, tc);
	return suite;
}

int
main(void)
{
	return mwt_main(concurrency_suite());
}
