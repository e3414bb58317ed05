/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-crash - a worker that dies or hangs costs one message, nothing more
 * SYNOPSIS
 *	integration/test-crash
 * DESCRIPTION
 *	test_crash makes the worker abort(), raise SIGSEGV or hang while it
 *	processes a message (X-Test-Crash: abort | segv | hang). That
 *	connection gets a 4xx or is closed (a hang within the per-message
 *	watchdog, the timeout value), nothing of it is delivered, a connection
 *	served in parallel by another worker carries on, the master survives
 *	and respawns the worker: afterwards as many connections as there are
 *	workers are served at the same time. Repeated crashes do not wear the
 *	daemon out.
 */

#include <stdio.h>
#include <string.h>

#include "mw-test-util.h"

#define WORKERS 3
#define TIMEOUT 3

static const char *const one_rcpt[] = {"rcpt@example.net", NULL};
static const char *const crash_kinds[] = {"abort", "segv", "hang"};

/* start_crash_victim - a session whose message makes its worker crash; the reply is not read */
static MwtSmtp *
start_crash_victim(const char *how)
{
	g_autofree char *header = g_strdup_printf("X-Test-Crash: %s", how);
	g_autoptr(GBytes) msg = mwt_message("crash", header);
	MwtSmtp *victim = mwt_smtp_open(mwt->port, "EHLO victim.example");

	mwt_smtp_ok(victim, "MAIL FROM:<victim@example.org>");
	mwt_smtp_ok(victim, "RCPT TO:<rcpt@example.net>");
	mwt_smtp_cmd_expect(victim, 354, "DATA");
	ck_assert(mwt_smtp_data(victim, MWT_BYTES(msg)));
	return victim;
}

/* assert_victim_failed - the victim's reply is a 4xx or the connection is gone */
static void
assert_victim_failed(MwtSmtp *victim, const char *how)
{
	int code;

	victim->timeout_ms = mwt_scale((TIMEOUT + 15) * 1000);
	code = mwt_smtp_read(victim);
	ck_assert_msg(code == -1 || code / 100 == 4,
		      "X-Test-Crash: %s: expected a 4xx or a closed connection, got %d \"%s\"", how,
		      code, victim->text);
}

/* assert_no_crash_message_delivered - no sink message carries X-Test-Crash */
static void
assert_no_crash_message_delivered(void)
{
	mwt_sink_quiesce();
	for (guint n = 1; n <= mwt_sink_count(); n++) {
		g_autoptr(GBytes) got = mwt_sink_message(n);
		g_autofree char *crash = mwt_header(got, "X-Test-Crash");
		ck_assert_msg(crash == NULL, "sink message %u is the crashing one", n);
	}
}

/* assert_all_workers_serve - WORKERS sessions at once, each greeted and delivering */
static void
assert_all_workers_serve(guint first_sink_number)
{
	MwtSmtp *sessions[WORKERS];

	for (guint i = 0; i < WORKERS; i++) {
		sessions[i] = mwt_smtp_connect(mwt->port);
		sessions[i]->timeout_ms = mwt_scale(15000);
		mwt_smtp_expect(sessions[i], 220); /* a missing worker leaves one ungreeted */
	}
	for (guint i = 0; i < WORKERS; i++) {
		g_autoptr(GBytes) msg = mwt_message("after the crash", NULL);
		mwt_smtp_cmd_expect(sessions[i], 250, "EHLO client.example");
		ck_assert_int_eq(mwt_smtp_message(sessions[i], "a@example.org", NULL, one_rcpt,
						  MWT_BYTES(msg)),
				 250);
	}
	for (guint i = 0; i < WORKERS; i++)
		mwt_smtp_close(sessions[i]);
	mwt_sink_wait(first_sink_number + WORKERS - 1);
}

START_TEST(test_crash_isolated)
{
	const char *how = crash_kinds[_i];
	g_autoptr(MwtSmtp) other = NULL;
	g_autoptr(MwtSmtp) victim = NULL;
	g_autoptr(GBytes) during = mwt_message("during the crash", NULL);
	g_autoptr(GBytes) after = mwt_message("after the crash, same connection", NULL);
	g_autofree char *keys = g_strdup_printf("modules = test_crash\ntimeout = %d", TIMEOUT);
	gint64 start, elapsed_ms;

	mwt->crashes_expected = TRUE;
	mwt_start(WORKERS, keys, NULL);
	other = mwt_smtp_open(mwt->port, "EHLO other.example");
	victim = start_crash_victim(how);
	start = g_get_monotonic_time();

	/* while the victim's worker dies or hangs, the other worker delivers */
	ck_assert_int_eq(
		mwt_smtp_message(other, "other@example.org", NULL, one_rcpt, MWT_BYTES(during)),
		250);
	assert_victim_failed(victim, how);
	elapsed_ms = (g_get_monotonic_time() - start) / 1000;
	ck_assert_msg(elapsed_ms < (gint64) mwt_scale((TIMEOUT + 10) * 1000),
		      "X-Test-Crash: %s: the victim waited %" G_GINT64_FORMAT " ms (timeout %d s)",
		      how, elapsed_ms, TIMEOUT);
	ck_assert_msg(mwt_daemon_alive(), "the master died with its worker");

	/* the other session is unaffected and goes on */
	ck_assert_int_eq(
		mwt_smtp_message(other, "other@example.org", NULL, one_rcpt, MWT_BYTES(after)),
		250);
	mwt_smtp_cmd_expect(other, 221, "QUIT");
	mwt_sink_wait(2);
	assert_no_crash_message_delivered();

	/* the crashed (or killed) worker was replaced */
	assert_all_workers_serve(3);
	assert_no_crash_message_delivered();
}
END_TEST

START_TEST(test_repeated_crashes)
{
	g_autofree char *keys = g_strdup_printf("modules = test_crash\ntimeout = %d", TIMEOUT);

	mwt->crashes_expected = TRUE;
	mwt_start(WORKERS, keys, NULL);
	for (guint i = 0; i < 2 * WORKERS; i++) {
		g_autoptr(MwtSmtp) victim = start_crash_victim("abort");
		assert_victim_failed(victim, "abort");
	}
	ck_assert(mwt_daemon_alive());
	assert_all_workers_serve(1);
	assert_no_crash_message_delivered();
}
END_TEST

static Suite *
crash_suite(void)
{
	Suite *suite = suite_create("crash");
	TCase *tc = mwt_tcase("crash", 90);

	tcase_add_loop_test(tc, test_crash_isolated, 0, G_N_ELEMENTS(crash_kinds));
	tcase_add_test(tc, test_repeated_crashes);
	suite_add_tcase(suite, tc);
	return suite;
}

int
main(void)
{
	return mwt_main(crash_suite());
}
