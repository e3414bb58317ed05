/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-net - unit tests for mw-net
 *
 * SYNOPSIS
 *	test-net
 *
 * DESCRIPTION
 *	Target parsing, TCP and unix listeners (stale socket files, mode,
 *	FD_CLOEXEC), connect errors, peer formatting, and the buffered
 *	connection: line reading with over-long lines and NUL bytes, bounded
 *	buffering, timeouts, end of file, SMTP reply parsing and flushing to a
 *	closed peer. Everything runs over loopback or socketpairs.
 */

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "mw-error.h"
#include "mw-net.h"

/* local_port - the port a socket is bound to */
static guint
local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	ck_assert_int_eq(getsockname(fd, (struct sockaddr *) &ss, &len), 0);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *) &ss)->sin6_port);
	return ntohs(((struct sockaddr_in *) &ss)->sin_port);
}

/* has_cloexec - FD_CLOEXEC is set */
static gboolean
has_cloexec(int fd)
{
	int flags = fcntl(fd, F_GETFD);

	return flags >= 0 && (flags & FD_CLOEXEC) != 0;
}

/* make_pair - a connected socketpair: [0] wrapped by the caller, [1] the raw peer */
static void
make_pair(int fds[2])
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
}

/* write_all - write a test fixture to the peer */
static void
write_all(int fd, const void *data, gsize len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		ck_assert_int_gt(n, 0);
		p += n;
		len -= (gsize) n;
	}
}

static const char *const bad_targets[] = {
	"nocolon", "::1:25", "[::1]25", "[::1]:", "host:", "unix:",
};

START_TEST(test_bad_target)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GError) error2 = NULL;

	ck_assert_int_eq(mw_net_listen(bad_targets[_i], &error), -1);
	ck_assert(g_error_matches(error, MW_ERROR, MW_ERROR_CONFIG));
	ck_assert_int_eq(mw_net_connect(bad_targets[_i], 1, &error2), -1);
	ck_assert(g_error_matches(error2, MW_ERROR, MW_ERROR_CONFIG));
}
END_TEST

START_TEST(test_tcp_listen_connect)
{
	g_autoptr(GError) error = NULL;
	int lfd = mw_net_listen("127.0.0.1:0", &error);
	g_autofree char *target = NULL;
	g_autofree char *peer = NULL;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int cfd;
	int afd;

	ck_assert_ptr_null(error);
	ck_assert_int_ge(lfd, 0);
	ck_assert(has_cloexec(lfd));
	target = g_strdup_printf("127.0.0.1:%u", local_port(lfd));
	cfd = mw_net_connect(target, 2, &error);
	ck_assert_ptr_null(error);
	ck_assert_int_ge(cfd, 0);
	ck_assert(has_cloexec(cfd));
	/* back in blocking mode */
	ck_assert_int_eq(fcntl(cfd, F_GETFL) & O_NONBLOCK, 0);
	afd = accept(lfd, (struct sockaddr *) &ss, &len);
	ck_assert_int_ge(afd, 0);
	peer = mw_net_format_peer((struct sockaddr *) &ss, len);
	ck_assert_str_eq(peer, "127.0.0.1");
	close(afd);
	close(cfd);

	/* "localhost" may resolve to ::1 first: the next address is tried */
	g_free(target);
	target = g_strdup_printf("localhost:%u", local_port(lfd));
	cfd = mw_net_connect(target, 2, &error);
	ck_assert_ptr_null(error);
	ck_assert_int_ge(cfd, 0);
	close(cfd);
	close(lfd);
}
END_TEST

START_TEST(test_ipv6_listen)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *target = NULL;
	int lfd = mw_net_listen("[::1]:0", &error);
	int cfd;

	if (lfd < 0)
		return; /* no IPv6 loopback in this sandbox */
	target = g_strdup_printf("[::1]:%u", local_port(lfd));
	cfd = mw_net_connect(target, 2, &error);
	ck_assert_ptr_null(error);
	ck_assert_int_ge(cfd, 0);
	close(cfd);
	close(lfd);
}
END_TEST

START_TEST(test_connect_refused)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *target = NULL;
	int lfd = mw_net_listen("127.0.0.1:0", NULL);
	guint port = local_port(lfd);

	close(lfd);
	target = g_strdup_printf("127.0.0.1:%u", port);
	ck_assert_int_eq(mw_net_connect(target, 2, &error), -1);
	ck_assert(g_error_matches(error, MW_ERROR, MW_ERROR_IO));
	ck_assert_msg(g_str_has_prefix(error->message, target), "%s", error->message);
	ck_assert_msg(strstr(error->message, "connection refused") != NULL, "%s", error->message);
}
END_TEST

START_TEST(test_unix_listen)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = g_dir_make_tmp("mw-net-XXXXXX", NULL);
	g_autofree char *path = g_build_filename(dir, "sock", NULL);
	g_autofree char *target = g_strdup_printf("unix:%s", path);
	struct stat st;
	int lfd;
	int lfd2;
	int cfd;

	lfd = mw_net_listen(target, &error);
	ck_assert_ptr_null(error);
	ck_assert_int_ge(lfd, 0);
	ck_assert(has_cloexec(lfd));
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0666);

	/* a live listener is not replaced */
	ck_assert_int_eq(mw_net_listen(target, &error), -1);
	ck_assert_ptr_nonnull(error);
	g_clear_error(&error);

	cfd = mw_net_connect(target, 2, &error);
	ck_assert_ptr_null(error);
	ck_assert_int_ge(cfd, 0);
	close(cfd);

	/* the file left by a dead listener is */
	close(lfd);
	lfd2 = mw_net_listen(target, &error);
	ck_assert_ptr_null(error);
	ck_assert_int_ge(lfd2, 0);
	close(lfd2);

	/* something that is not a socket is never removed */
	ck_assert_int_eq(g_unlink(path), 0);
	ck_assert(g_file_set_contents(path, "data", -1, NULL));
	ck_assert_int_eq(mw_net_listen(target, &error), -1);
	ck_assert(g_error_matches(error, MW_ERROR, MW_ERROR_CONFIG));
	ck_assert(g_file_test(path, G_FILE_TEST_IS_REGULAR));
	g_unlink(path);
	g_rmdir(dir);
}
END_TEST

START_TEST(test_format_peer)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	g_autofree char *v4 = NULL;
	g_autofree char *v6 = NULL;
	g_autofree char *mapped = NULL;
	g_autofree char *unix_peer = NULL;
	g_autofree char *none = NULL;

	inet_pton(AF_INET, "192.0.2.1", &sin.sin_addr);
	v4 = mw_net_format_peer((struct sockaddr *) &sin, sizeof(sin));
	ck_assert_str_eq(v4, "192.0.2.1");
	inet_pton(AF_INET6, "2001:db8::1", &sin6.sin6_addr);
	v6 = mw_net_format_peer((struct sockaddr *) &sin6, sizeof(sin6));
	ck_assert_str_eq(v6, "2001:db8::1");
	inet_pton(AF_INET6, "::ffff:198.51.100.9", &sin6.sin6_addr);
	mapped = mw_net_format_peer((struct sockaddr *) &sin6, sizeof(sin6));
	ck_assert_str_eq(mapped, "198.51.100.9");
	unix_peer = mw_net_format_peer((struct sockaddr *) &sun, sizeof(sun));
	ck_assert_str_eq(unix_peer, "unix");
	none = mw_net_format_peer(NULL, 0);
	ck_assert_str_eq(none, "unknown");
}
END_TEST

START_TEST(test_read_lines)
{
	int fds[2];
	MwConn *conn;
	gboolean too_long = TRUE;
	static const char input[] = "one\r\ntwo\nthr\0ee\r\n\r\nlast";

	make_pair(fds);
	conn = mw_conn_new(fds[0], 5);
	write_all(fds[1], input, sizeof(input) - 1);
	close(fds[1]);

	{
		g_autofree char *line = mw_conn_read_line(conn, 100, &too_long, NULL);

		ck_assert_str_eq(line, "one");
		ck_assert(!too_long);
	}
	{
		g_autofree char *line = mw_conn_read_line(conn, 100, NULL, NULL);

		ck_assert_str_eq(line, "two");
	}
	{
		g_autofree char *line = mw_conn_read_line(conn, 100, NULL, NULL);

		/* the NUL became '?', the length is kept */
		ck_assert_str_eq(line, "thr?ee");
	}
	{
		g_autofree char *line = mw_conn_read_line(conn, 100, NULL, NULL);

		ck_assert_str_eq(line, "");
	}
	ck_assert_uint_eq(mw_conn_pending(conn), 4);
	{
		g_autoptr(GError) error = NULL;
		g_autofree char *line = mw_conn_read_line(conn, 100, NULL, &error);

		/* a line cut off by end of file is an error */
		ck_assert_ptr_null(line);
		ck_assert(g_error_matches(error, MW_ERROR, MW_ERROR_IO));
		ck_assert(conn->eof);
	}
	mw_conn_free(conn);
}
END_TEST

START_TEST(test_line_limit_exact)
{
	int fds[2];
	MwConn *conn;
	gboolean too_long = FALSE;
	g_autofree char *ok_line = g_strnfill(8, 'a');
	g_autofree char *long_line = g_strnfill(9, 'b');
	g_autofree char *input = g_strdup_printf("%s\r\n%s\r\nend\r\n", ok_line, long_line);

	make_pair(fds);
	conn = mw_conn_new(fds[0], 5);
	write_all(fds[1], input, strlen(input));
	{
		/* 8 + CRLF = 10 bytes: accepted with max 10 */
		g_autofree char *line = mw_conn_read_line(conn, 10, &too_long, NULL);

		ck_assert_str_eq(line, ok_line);
		ck_assert(!too_long);
	}
	{
		g_autofree char *line = mw_conn_read_line(conn, 10, &too_long, NULL);

		ck_assert_str_eq(line, "");
		ck_assert(too_long);
	}
	{
		g_autofree char *line = mw_conn_read_line(conn, 10, &too_long, NULL);

		ck_assert_str_eq(line, "end");
		ck_assert(!too_long);
	}
	close(fds[1]);
	mw_conn_free(conn);
}
END_TEST

typedef struct {
	int fd;
	gsize size;
} Flood;

/* flood_thread - a 4 MiB line, then a normal one */
static gpointer
flood_thread(gpointer data)
{
	Flood *flood = data;
	g_autofree char *chunk = g_strnfill(65536, 'x');

	for (gsize sent = 0; sent < flood->size; sent += 65536)
		write_all(flood->fd, chunk, 65536);
	write_all(flood->fd, "\r\nnext\r\n", 8);
	return NULL;
}

START_TEST(test_long_line_bounded)
{
	int fds[2];
	MwConn *conn;
	gboolean too_long = FALSE;
	Flood flood;
	GThread *thread;

	make_pair(fds);
	conn = mw_conn_new(fds[0], 10);
	flood.fd = fds[1];
	flood.size = 4 * 1024 * 1024;
	thread = g_thread_new("flood", flood_thread, &flood);
	{
		g_autofree char *line = mw_conn_read_line(conn, 1000, &too_long, NULL);

		ck_assert_str_eq(line, "");
		ck_assert(too_long);
		/* never buffered the whole line */
		ck_assert_uint_le(conn->rcap, 128 * 1024);
	}
	{
		g_autofree char *line = mw_conn_read_line(conn, 1000, &too_long, NULL);

		ck_assert_str_eq(line, "next");
		ck_assert(!too_long);
	}
	g_thread_join(thread);
	close(fds[1]);
	mw_conn_free(conn);
}
END_TEST

START_TEST(test_fill_timeout)
{
	int fds[2];
	MwConn *conn;
	g_autoptr(GError) error = NULL;
	gint64 start;
	gint64 elapsed;

	make_pair(fds);
	conn = mw_conn_new(fds[0], 1);
	start = g_get_monotonic_time();
	ck_assert(!mw_conn_fill(conn, &error));
	elapsed = g_get_monotonic_time() - start;
	ck_assert(g_error_matches(error, MW_ERROR, MW_ERROR_TEMPORARY));
	ck_assert_str_eq(error->message, "timeout");
	ck_assert_int_ge(elapsed, 900000);
	ck_assert_int_lt(elapsed, 3000000);
	ck_assert(!conn->eof);
	close(fds[1]);
	mw_conn_free(conn);
}
END_TEST

START_TEST(test_fill_consume)
{
	int fds[2];
	MwConn *conn;

	make_pair(fds);
	conn = mw_conn_new(fds[0], 2);
	write_all(fds[1], "abcdef", 6);
	ck_assert(mw_conn_fill(conn, NULL));
	ck_assert_uint_eq(mw_conn_pending(conn), 6);
	mw_conn_consume(conn, 4);
	ck_assert_uint_eq(mw_conn_pending(conn), 2);
	ck_assert_int_eq(memcmp(conn->rbuf + conn->rpos, "ef", 2), 0);
	mw_conn_consume(conn, 2);
	ck_assert_uint_eq(mw_conn_pending(conn), 0);
	close(fds[1]);
	{
		g_autoptr(GError) error = NULL;

		ck_assert(!mw_conn_fill(conn, &error));
		ck_assert(g_error_matches(error, MW_ERROR, MW_ERROR_IO));
		ck_assert_str_eq(error->message, "connection closed");
		ck_assert(conn->eof);
	}
	mw_conn_free(conn);
}
END_TEST

START_TEST(test_read_reply)
{
	int fds[2];
	MwConn *conn;
	int code = 0;

	make_pair(fds);
	conn = mw_conn_new(fds[0], 2);
	static const char input[] = "250-mx.example\r\n250-PIPELINING\r\n250 SIZE 1000\r\n354\r\n";

	write_all(fds[1], input, strlen(input));
	{
		g_autofree char *text = NULL;

		ck_assert(mw_conn_read_reply(conn, &code, &text, NULL));
		ck_assert_int_eq(code, 250);
		ck_assert_str_eq(text, "250-mx.example\n250-PIPELINING\n250 SIZE 1000");
	}
	{
		g_autofree char *text = NULL;

		ck_assert(mw_conn_read_reply(conn, &code, &text, NULL));
		ck_assert_int_eq(code, 354);
		ck_assert_str_eq(text, "354");
	}
	close(fds[1]);
	mw_conn_free(conn);
}
END_TEST

/* bad_reply_input - malformed reply number @i (NULL when out of cases) */
static char *
bad_reply_input(int i)
{
	GString *out;

	switch (i) {
	case 0:
		return g_strdup("25\r\n");
	case 1:
		return g_strdup("2500 x\r\n");
	case 2:
		return g_strdup("250-a\r\n251 b\r\n");
	case 3:
		return g_strdup("abc def\r\n");
	case 4:
		return g_strdup("650 nope\r\n");
	case 5:
		out = g_string_new("250 ");
		for (int n = 0; n < 5000; n++)
			g_string_append_c(out, 'x');
		g_string_append(out, "\r\n");
		return g_string_free(out, FALSE);
	case 6:
	default:
		out = g_string_new(NULL);
		for (int n = 0; n < 150; n++)
			g_string_append(out, "250-more\r\n");
		g_string_append(out, "250 end\r\n");
		return g_string_free(out, FALSE);
	}
}

START_TEST(test_bad_reply)
{
	int fds[2];
	MwConn *conn;
	g_autofree char *input = bad_reply_input(_i);
	g_autoptr(GError) error = NULL;
	g_autofree char *text = NULL;
	int code = 0;

	make_pair(fds);
	conn = mw_conn_new(fds[0], 2);
	write_all(fds[1], input, strlen(input));
	ck_assert(!mw_conn_read_reply(conn, &code, &text, &error));
	ck_assert_msg(g_error_matches(error, MW_ERROR, MW_ERROR_PROTOCOL), "case %d: %s", _i,
		      error != NULL ? error->message : "no error");
	ck_assert_ptr_null(text);
	close(fds[1]);
	mw_conn_free(conn);
}
END_TEST

START_TEST(test_flush)
{
	int fds[2];
	MwConn *conn;
	char buf[64];
	ssize_t n;
	g_autoptr(GError) error = NULL;

	make_pair(fds);
	conn = mw_conn_new(fds[0], 2);
	mw_conn_queue(conn, "MAIL FROM:<>\r\n", 14);
	mw_conn_queue_printf(conn, "RCPT TO:<%s>\r\n", "a@example.org");
	ck_assert(mw_conn_flush(conn, NULL));
	ck_assert_uint_eq(conn->wbuf->len, 0);
	n = read(fds[1], buf, sizeof(buf));
	ck_assert_int_eq(n, 14 + 25);
	ck_assert_int_eq(memcmp(buf, "MAIL FROM:<>\r\nRCPT TO:<a@example.org>\r\n", 39), 0);

	/* a gone peer is an error, not a SIGPIPE */
	close(fds[1]);
	mw_conn_queue(conn, "QUIT\r\n", 6);
	ck_assert(!mw_conn_flush(conn, &error));
	ck_assert(g_error_matches(error, MW_ERROR, MW_ERROR_IO));
	ck_assert_uint_eq(conn->wbuf->len, 0);
	mw_conn_free(conn);
}
END_TEST

static Suite *
net_suite(void)
{
	Suite *s = suite_create("net");
	TCase *tc = tcase_create("sockets");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_bad_target, 0, G_N_ELEMENTS(bad_targets));
	tcase_add_test(tc, test_tcp_listen_connect);
	tcase_add_test(tc, test_ipv6_listen);
	tcase_add_test(tc, test_connect_refused);
	tcase_add_test(tc, test_unix_listen);
	tcase_add_test(tc, test_format_peer);
	suite_add_tcase(s, tc);

	tc = tcase_create("conn");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_read_lines);
	tcase_add_test(tc, test_line_limit_exact);
	tcase_add_test(tc, test_long_line_bounded);
	tcase_add_test(tc, test_fill_timeout);
	tcase_add_test(tc, test_fill_consume);
	tcase_add_test(tc, test_read_reply);
	tcase_add_loop_test(tc, test_bad_reply, 0, 7);
	tcase_add_test(tc, test_flush);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *runner = srunner_create(net_suite());
	int failures;

	srunner_run_all(runner, CK_NORMAL);
	failures = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failures == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
