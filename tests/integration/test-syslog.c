/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-syslog - syslog = true: lines reach the syslog socket, survive its restart
 * SYNOPSIS
 *	integration/test-syslog
 * DESCRIPTION
 *	The test plays the syslog daemon: a datagram socket in the test's
 *	directory, named by `syslog_socket` (so /dev is never touched).
 *	- test_summary: the summary line of a message carries the Postfix
 *	  queue id, the mail facility with priority notice ("<21>") and
 *	  "mailwarden[PID]:", and does not go to standard error.
 *	- test_restart: the socket is removed and bound again (the syslog
 *	  daemon restarted): the next message's line arrives on the new one.
 *	- test_daemon_gone: with no socket at all the line goes to standard
 *	  error with the reason; mail still flows.
 */

#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "mw-test-util.h"

/* log_bind - a bound datagram socket at @path (the syslog daemon) */
static int
log_bind(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_lt(strlen(path), sizeof(sun.sun_path));
	memcpy(sun.sun_path, path, strlen(path) + 1);
	ck_assert_msg(bind(fd, (struct sockaddr *) &sun, sizeof(sun)) == 0, "bind %s: %s", path,
		      g_strerror(errno));
	return fd;
}

/* log_wait - the first datagram on @fd containing @needle, waiting up to 10 s (scaled) */
static char *
log_wait(int fd, const char *needle)
{
	gint64 deadline = g_get_monotonic_time() + (gint64) mwt_scale(10000) * 1000;

	while (g_get_monotonic_time() < deadline) {
		char buf[65536];
		struct timeval tv = {.tv_sec = 0, .tv_usec = 100 * 1000};

		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		if (strstr(buf, needle) != NULL)
			return g_strdup(buf);
	}
	return NULL;
}

/* send_message - one message with queue id @ident, answered 250 */
static void
send_message(const char *ident)
{
	static const char *const rcpts[] = {"rcpt@example.org", NULL};
	g_autoptr(MwtSmtp) s = mwt_smtp_open(mwt->port, "EHLO syslog.example");
	g_autoptr(GBytes) msg = mwt_message("syslog test", NULL);

	mwt_smtp_cmd_expect(s, 250, "XFORWARD IDENT=%s", ident);
	ck_assert_int_eq(mwt_smtp_message(s, "sender@example.org", NULL, rcpts, MWT_BYTES(msg)),
			 250);
}

/* start - the daemon with syslog on @path */
static void
start(const char *path)
{
	g_autofree char *keys = g_strdup_printf("syslog = true\nsyslog_socket = %s", path);

	mwt_start(1, keys, NULL);
}

START_TEST(test_summary)
{
	g_autofree char *path = g_build_filename(mwt->dir, "log", NULL);
	int fd = log_bind(path);

	start(path);
	send_message("SYSLOGQ1");
	g_autofree char *line = log_wait(fd, "SYSLOGQ1: txn=");
	ck_assert_msg(line != NULL, "no summary line on the syslog socket");
	/* LOG_MAIL (2 << 3) | LOG_NOTICE (5) = 21; RFC 3164 time stamp; tag with pid */
	ck_assert_msg(g_regex_match_simple("^<21>[A-Z][a-z]{2} [ 0-9]\\d \\d\\d:\\d\\d:\\d\\d "
					   "mailwarden\\[\\d+\\]: SYSLOGQ1: txn=",
					   line, 0, 0),
		      "%s", line);
	ck_assert_msg(strstr(line, "reply=\"250 ") != NULL, "%s", line);
	/* not on standard error as well */
	ck_assert_uint_eq(mwt_log_count("SYSLOGQ1", NULL), 0);
	close(fd);
}
END_TEST

START_TEST(test_restart)
{
	g_autofree char *path = g_build_filename(mwt->dir, "log", NULL);
	int fd = log_bind(path);

	start(path);
	send_message("SYSLOGQ2");
	g_autofree char *first = log_wait(fd, "SYSLOGQ2: txn=");
	ck_assert_ptr_nonnull(first);
	/* the syslog daemon restarts: a new socket at the same path */
	close(fd);
	ck_assert_int_eq(g_unlink(path), 0);
	fd = log_bind(path);
	send_message("SYSLOGQ3");
	g_autofree char *second = log_wait(fd, "SYSLOGQ3: txn=");
	ck_assert_msg(second != NULL, "no line on the new socket after the restart");
	ck_assert_uint_eq(mwt_log_count("SYSLOGQ3", NULL), 0);
	close(fd);
}
END_TEST

START_TEST(test_daemon_gone)
{
	g_autofree char *path = g_build_filename(mwt->dir, "log", NULL);

	/* nothing listens at @path: mailwarden still starts and mail still flows */
	start(path);
	send_message("SYSLOGQ4");
	g_autofree char *line = mwt_log_wait(10000, "syslog ", path, "SYSLOGQ4: txn=", NULL);
	ck_assert_msg(line != NULL, "the line did not reach standard error");
	mwt_sink_wait(1);
}
END_TEST

static Suite *
syslog_suite(void)
{
	Suite *suite = suite_create("syslog");
	TCase *tc = mwt_tcase("syslog", 60);

	tcase_add_test(tc, test_summary);
	tcase_add_test(tc, test_restart);
	tcase_add_test(tc, test_daemon_gone);
	suite_add_tcase(suite, tc);
	return suite;
}

int
main(void)
{
	return mwt_main(syslog_suite());
}
