/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-limits - per-message CPU limit and per-worker memory limit
 * SYNOPSIS
 *	integration/test-limits
 * DESCRIPTION
 *	A message that makes a module spin (X-Test-Crash: spin) is answered
 *	451 once message_cpu_limit seconds of CPU are used, long before the
 *	wall-clock watchdog (timeout); one that makes a module eat memory
 *	(X-Test-Crash: eat) is answered 451 when the worker reaches
 *	worker_memory_limit. In both cases nothing is delivered, the worker is
 *	replaced and the next message passes.
 */
#include <string.h>

#include "mw-test-util.h"

static const char *const one_rcpt[] = {"b@example.net", NULL};

/* pathological - send one message with X-Test-Crash: @how; the reply code and time */
static int
pathological(const char *how, gint64 *elapsed_ms)
{
	g_autofree char *header = g_strdup_printf("X-Test-Crash: %s\r\n", how);
	g_autoptr(GBytes) msg = mwt_message(how, header);
	g_autoptr(MwtSmtp) s = mwt_smtp_open(mwt->port, "EHLO c.example");
	s->timeout_ms = mwt_scale(60000);
	gint64 start = g_get_monotonic_time();
	int code = mwt_smtp_try_message(s, "a@example.org", one_rcpt, MWT_BYTES(msg));
	*elapsed_ms = (g_get_monotonic_time() - start) / 1000;
	return code;
}

/* next_passes - a normal message after the pathological one is delivered */
static void
next_passes(void)
{
	g_autoptr(GBytes) msg = mwt_message("after", NULL);
	g_autoptr(MwtSmtp) s = mwt_smtp_open(mwt->port, "EHLO c.example");
	ck_assert_int_eq(mwt_smtp_message(s, "a@example.org", NULL, one_rcpt, MWT_BYTES(msg)), 250);
	mwt_sink_wait(1);
	ck_assert_uint_eq(mwt_sink_count(), 1);
}

START_TEST(test_cpu_limit)
{
	mwt->crashes_expected = TRUE;
	mwt_start(1, "modules = test_crash\ntimeout = 60\nmessage_cpu_limit = 1", NULL);
	gint64 ms = 0;
	int code = pathological("spin", &ms);
	ck_assert_msg(code / 100 == 4 || code == -1, "spin: got %d", code);
	/* the CPU limit (1 s), not the 60 s watchdog */
	ck_assert_msg(ms < (gint64) mwt_scale(20000), "spin answered after %" G_GINT64_FORMAT " ms",
		      ms);
	next_passes();
}
END_TEST

START_TEST(test_memory_limit)
{
#if defined(__SANITIZE_ADDRESS__)
	/* AddressSanitizer's shadow memory counts against RLIMIT_DATA: not testable there */
	return;
#else
	mwt->crashes_expected = TRUE;
	mwt_start(1, "modules = test_crash\nworker_memory_limit = 200m", NULL);
	gint64 ms = 0;
	int code = pathological("eat", &ms);
	ck_assert_msg(code / 100 == 4 || code == -1, "eat: got %d", code);
	g_autofree char *line = mwt_log_wait(10000, "died from signal", NULL);
	ck_assert_msg(line != NULL, "no worker death logged");
	/* the client was told: 451 from the crash guard, not just a closed connection */
	ck_assert_msg(code / 100 == 4, "eat: got %d, not a 4xx", code);
	next_passes();
#endif
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("limits");
	TCase *tc = mwt_tcase("limits", 120);
	tcase_add_test(tc, test_cpu_limit);
	tcase_add_test(tc, test_memory_limit);
	suite_add_tcase(s, tc);
	return mwt_main(s);
}
