/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-virus-clamd-protocol - the clamd client against a scripted clamd
 * DESCRIPTION
 *	A fake clamd (a thread on a unix socket or a loopback port in the test's
 *	directory) records what the client sends and answers as told, so the
 *	protocol details can be checked exactly: the "zINSTREAM" command, chunks
 *	no larger than the chunk size that reassemble to the message, the
 *	zero-length terminator, the max_bytes cut, each reply clamd can give
 *	(OK, FOUND, size limit, errors, garbage, a hang-up), PING/PONG, and the
 *	one deadline for connect + send + verdict (a clamd that never answers,
 *	one that never reads). The real clamd is in test-virus-clamd.c.
 */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "mw-error.h"
#include "mw-virus.h"

typedef struct {
	char *target;
	int listen_fd;
	const char *mode;
	char *command;
	GByteArray *received;
	GArray *chunks; /* guint32 sizes, terminator excluded */
	gboolean terminated;
	volatile gint stop;
	GThread *thread;
} Fake;

static char *dir;

static void
setup(void)
{
	dir = g_dir_make_tmp("mw-clamd-proto-XXXXXX", NULL);
}

static void
teardown(void)
{
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	g_clear_pointer(&dir, g_free);
}

/* read_full - @n bytes or FALSE */
static gboolean
read_full(int fd, void *buf, gsize n)
{
	guint8 *p = buf;
	while (n > 0) {
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return FALSE;
		p += r;
		n -= (gsize) r;
	}
	return TRUE;
}

static void
reply(int fd, const char *text)
{
	ssize_t n = send(fd, text, strlen(text) + 1, MSG_NOSIGNAL);
	(void) n;
}

/* linger - keep the connection open until the test is done (bounded) */
static void
linger(Fake *fake)
{
	for (int i = 0; i < 200 && !g_atomic_int_get(&fake->stop); i++)
		g_usleep(50000);
}

static gpointer
fake_main(gpointer data)
{
	Fake *fake = data;
	struct pollfd pfd = {fake->listen_fd, POLLIN, 0};
	if (poll(&pfd, 1, 10000) != 1)
		return NULL;
	int fd = accept(fake->listen_fd, NULL, NULL);
	if (fd < 0)
		return NULL;
	struct timeval tv = {10, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	GString *command = g_string_new(NULL);
	char c;
	while (read_full(fd, &c, 1) && c != '\0' && command->len < 100)
		g_string_append_c(command, c);
	fake->command = g_string_free(command, FALSE);

	if (g_str_equal(fake->mode, "noread")) {
		linger(fake);
		close(fd);
		return NULL;
	}
	if (g_str_equal(fake->mode, "close")) {
		close(fd);
		return NULL;
	}
	if (g_str_equal(fake->command, "zPING")) {
		reply(fd, g_str_equal(fake->mode, "garbage") ? "PANG" : "PONG");
		close(fd);
		return NULL;
	}
	for (;;) {
		guint32 be;
		if (!read_full(fd, &be, 4))
			break;
		guint32 n = GUINT32_FROM_BE(be);
		if (n == 0) {
			fake->terminated = TRUE;
			break;
		}
		g_array_append_val(fake->chunks, n);
		guint8 *buf = g_malloc(n);
		gboolean ok = read_full(fd, buf, n);
		if (ok)
			g_byte_array_append(fake->received, buf, n);
		g_free(buf);
		if (!ok)
			break;
		if (g_str_equal(fake->mode, "limit") && fake->received->len > 1000) {
			/* what clamd does past StreamMaxLength: answer, then hang up */
			reply(fd, "INSTREAM size limit exceeded. ERROR");
			close(fd);
			return NULL;
		}
	}
	if (g_str_equal(fake->mode, "ok"))
		reply(fd, "stream: OK");
	else if (g_str_equal(fake->mode, "found"))
		reply(fd, "stream: Win.Test.Fake-1 FOUND");
	else if (g_str_equal(fake->mode, "error"))
		reply(fd, "stream: lstat() failed: No such file or directory. ERROR");
	else if (g_str_equal(fake->mode, "garbage"))
		reply(fd, "what?");
	else if (g_str_equal(fake->mode, "silent"))
		linger(fake);
	close(fd);
	return NULL;
}

/* fake_start - a fake clamd answering one connection per @mode; @tcp: on 127.0.0.1 */
static Fake *
fake_start(const char *mode, gboolean tcp)
{
	Fake *fake = g_new0(Fake, 1);
	fake->mode = mode;
	fake->received = g_byte_array_new();
	fake->chunks = g_array_new(FALSE, FALSE, sizeof(guint32));
	if (tcp) {
		struct sockaddr_in sin;
		socklen_t len = sizeof sin;
		memset(&sin, 0, sizeof sin);
		sin.sin_family = AF_INET;
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fake->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		ck_assert_int_eq(bind(fake->listen_fd, (struct sockaddr *) &sin, sizeof sin), 0);
		ck_assert_int_eq(getsockname(fake->listen_fd, (struct sockaddr *) &sin, &len), 0);
		fake->target = g_strdup_printf("127.0.0.1:%u", ntohs(sin.sin_port));
	} else {
		struct sockaddr_un sun;
		memset(&sun, 0, sizeof sun);
		sun.sun_family = AF_UNIX;
		g_autofree char *path = g_build_filename(dir, "fake.sock", NULL);
		g_strlcpy(sun.sun_path, path, sizeof sun.sun_path);
		fake->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		ck_assert_int_eq(bind(fake->listen_fd, (struct sockaddr *) &sun, sizeof sun), 0);
		fake->target = g_strconcat("unix:", path, NULL);
	}
	ck_assert_int_eq(listen(fake->listen_fd, 4), 0);
	fake->thread = g_thread_new("fake-clamd", fake_main, fake);
	return fake;
}

static void
fake_stop(Fake *fake)
{
	g_atomic_int_set(&fake->stop, 1);
	if (fake->thread != NULL)
		g_thread_join(fake->thread);
	close(fake->listen_fd);
	g_byte_array_unref(fake->received);
	g_array_unref(fake->chunks);
	g_free(fake->command);
	g_free(fake->target);
	g_free(fake);
}

/* big_message - @len bytes of a message with varying content */
static MwMessage *
big_message(gsize len)
{
	static const char pattern[] = "From: a@example.org\r\n\r\nbody ";
	guint8 *data = g_malloc(len);
	for (gsize i = 0; i < len; i++)
		data[i] = (guint8) (pattern[i % (sizeof pattern - 1)] + (i / 30) % 3);
	MwMessage *m = mw_message_new_from_bytes(data, len);
	g_free(data);
	return m;
}

/* scan_with - one scan against a fresh fake in @mode; *@fake_out is the fake, its
 * thread finished (free it with fake_stop) */
static gboolean
scan_with(const char *mode, gboolean tcp, MwMessage *m, guint64 max_bytes, guint timeout_ms,
	  MwVirusClamdResult *result, GError **error, Fake **fake_out)
{
	Fake *fake = fake_start(mode, tcp);
	gboolean ok = mw_virus_clamd_scan(fake->target, m, max_bytes, MW_VIRUS_CLAMD_CHUNK,
					  timeout_ms, result, error);
	g_atomic_int_set(&fake->stop, 1);
	g_thread_join(g_steal_pointer(&fake->thread));
	*fake_out = fake;
	return ok;
}

START_TEST(test_stream_reassembles)
{
	gsize len = 3 * MW_VIRUS_CLAMD_CHUNK + 12345;
	g_autoptr(MwMessage) m = big_message(len);
	MwVirusClamdResult result;
	g_autoptr(GError) error = NULL;
	Fake *fake = NULL;

	ck_assert_msg(scan_with("ok", FALSE, m, G_MAXUINT64, 5000, &result, &error, &fake), "%s",
		      error != NULL ? error->message : "?");
	ck_assert_str_eq(fake->command, "zINSTREAM");
	ck_assert(fake->terminated);
	ck_assert_uint_eq(fake->received->len, len);
	guint8 *expect = g_malloc(len);
	ck_assert_int_eq(mw_message_read(m, 0, expect, len, NULL), (gssize) len);
	ck_assert(memcmp(expect, fake->received->data, len) == 0);
	g_free(expect);
	ck_assert_uint_eq(fake->chunks->len, 4);
	for (guint i = 0; i < fake->chunks->len; i++)
		ck_assert_uint_le(g_array_index(fake->chunks, guint32, i), MW_VIRUS_CLAMD_CHUNK);
	ck_assert_ptr_null(result.virus);
	ck_assert(!result.truncated && !result.limit);
	fake_stop(fake);
}
END_TEST

START_TEST(test_max_bytes)
{
	g_autoptr(MwMessage) m = big_message(200000);
	MwVirusClamdResult result;
	g_autoptr(GError) error = NULL;
	Fake *fake = NULL;

	ck_assert(scan_with("ok", FALSE, m, 100000, 5000, &result, &error, &fake));
	ck_assert_uint_eq(fake->received->len, 100000);
	ck_assert(fake->terminated);
	ck_assert(result.truncated);
	fake_stop(fake);
}
END_TEST

START_TEST(test_found_over_tcp)
{
	g_autoptr(MwMessage) m = big_message(5000);
	MwVirusClamdResult result;
	g_autoptr(GError) error = NULL;
	Fake *fake = NULL;

	ck_assert_msg(scan_with("found", TRUE, m, G_MAXUINT64, 5000, &result, &error, &fake), "%s",
		      error != NULL ? error->message : "?");
	ck_assert_str_eq(result.virus, "Win.Test.Fake-1");
	mw_virus_clamd_result_clear(&result);
	ck_assert_ptr_null(result.virus);
	fake_stop(fake);
}
END_TEST

START_TEST(test_size_limit)
{
	g_autoptr(MwMessage) m = big_message(400000);
	MwVirusClamdResult result;
	g_autoptr(GError) error = NULL;
	Fake *fake = NULL;

	/* clamd hangs up in the middle of the stream: its reply still counts */
	ck_assert_msg(scan_with("limit", FALSE, m, G_MAXUINT64, 5000, &result, &error, &fake), "%s",
		      error != NULL ? error->message : "?");
	ck_assert(result.limit);
	ck_assert_ptr_null(result.virus);
	fake_stop(fake);
}
END_TEST

typedef struct {
	const char *mode;
	const char *error;
} FailCase;

static const FailCase fail_cases[] = {
	{"error", "lstat() failed"},
	{"garbage", "clamd unix:"},
	{"close", "connection closed"},
	{"silent", "timeout while waiting for the verdict"},
};

START_TEST(test_failures)
{
	const FailCase *fc = &fail_cases[_i];
	g_autoptr(MwMessage) m = big_message(5000);
	MwVirusClamdResult result;
	g_autoptr(GError) error = NULL;
	Fake *fake = NULL;
	gint64 t0 = g_get_monotonic_time();

	ck_assert(!scan_with(fc->mode, FALSE, m, G_MAXUINT64, 700, &result, &error, &fake));
	ck_assert(g_error_matches(error, MW_ERROR, MW_ERROR_BACKEND));
	ck_assert_msg(strstr(error->message, fc->error) != NULL, "%s: %s", fc->mode,
		      error->message);
	ck_assert_ptr_null(result.virus);
	/* bounded by the deadline (plus the fake's own exit) */
	ck_assert_int_lt(g_get_monotonic_time() - t0, 5 * G_USEC_PER_SEC);
	fake_stop(fake);
}
END_TEST

START_TEST(test_send_timeout)
{
	/* a clamd that never reads: the socket buffers fill and the send side times out */
	g_autoptr(MwMessage) m = big_message(16 * 1024 * 1024);
	MwVirusClamdResult result;
	g_autoptr(GError) error = NULL;
	Fake *fake = NULL;
	gint64 t0 = g_get_monotonic_time();

	ck_assert(!scan_with("noread", FALSE, m, G_MAXUINT64, 800, &result, &error, &fake));
	gint64 took = g_get_monotonic_time() - t0;
	ck_assert_msg(strstr(error->message, "timeout while sending") != NULL ||
			      strstr(error->message, "timeout while waiting") != NULL,
		      "%s", error->message);
	ck_assert_int_lt(took, 5 * G_USEC_PER_SEC);
	fake_stop(fake);
}
END_TEST

START_TEST(test_unreachable)
{
	g_autoptr(MwMessage) m = big_message(100);
	MwVirusClamdResult result;
	g_autoptr(GError) error = NULL;
	g_autoptr(GError) ping_error = NULL;
	g_autofree char *target = g_strdup_printf("unix:%s/nobody.sock", dir);

	ck_assert(!mw_virus_clamd_scan(target, m, G_MAXUINT64, MW_VIRUS_CLAMD_CHUNK, 1000, &result,
				       &error));
	ck_assert(g_error_matches(error, MW_ERROR, MW_ERROR_BACKEND));
	ck_assert_msg(g_str_has_prefix(error->message, "clamd unreachable: ") &&
			      strstr(error->message, "nobody.sock") != NULL,
		      "%s", error->message);
	ck_assert(!mw_virus_clamd_ping(target, 1000, &ping_error));
	ck_assert_msg(strstr(ping_error->message, "clamd unreachable") != NULL, "%s",
		      ping_error->message);
}
END_TEST

START_TEST(test_ping)
{
	Fake *fake = fake_start("ok", FALSE);
	g_autoptr(GError) error = NULL;

	ck_assert_msg(mw_virus_clamd_ping(fake->target, 2000, &error), "%s",
		      error != NULL ? error->message : "?");
	ck_assert_str_eq(fake->command, "zPING");
	fake_stop(fake);

	Fake *bad = fake_start("garbage", TRUE);
	g_autoptr(GError) bad_error = NULL;
	ck_assert(!mw_virus_clamd_ping(bad->target, 2000, &bad_error));
	ck_assert_msg(strstr(bad_error->message, "PING answered 'PANG'") != NULL, "%s",
		      bad_error->message);
	fake_stop(bad);
}
END_TEST

START_TEST(test_target_syntax)
{
	const char *good[] = {"unix:/run/clamav/clamd.ctl", "127.0.0.1:3310", "localhost:3310",
			      "[::1]:3310", NULL};
	const char *bad[] = {"",           "unix:clamd.ctl", "localhost",      "host:0",
			     "host:99999", ":3310",          "/run/clamd.ctl", NULL};

	for (guint i = 0; good[i] != NULL; i++)
		ck_assert_msg(mw_virus_clamd_target_valid(good[i], NULL), "%s", good[i]);
	for (guint i = 0; bad[i] != NULL; i++) {
		g_autoptr(GError) error = NULL;
		ck_assert_msg(!mw_virus_clamd_target_valid(bad[i], &error), "%s", bad[i]);
		ck_assert(g_error_matches(error, MW_ERROR, MW_ERROR_CONFIG));
	}
}
END_TEST

static Suite *
protocol_suite(void)
{
	Suite *suite = suite_create("virus-clamd-protocol");
	TCase *tc = tcase_create("protocol");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_stream_reassembles);
	tcase_add_test(tc, test_max_bytes);
	tcase_add_test(tc, test_found_over_tcp);
	tcase_add_test(tc, test_size_limit);
	tcase_add_loop_test(tc, test_failures, 0, G_N_ELEMENTS(fail_cases));
	tcase_add_test(tc, test_send_timeout);
	tcase_add_test(tc, test_unreachable);
	tcase_add_test(tc, test_ping);
	tcase_add_test(tc, test_target_syntax);
	suite_add_tcase(suite, tc);
	return suite;
}

int
main(void)
{
	g_mime_init();
	SRunner *runner = srunner_create(protocol_suite());
	srunner_run_all(runner, CK_ENV);
	int failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	g_mime_shutdown();
	return failed == 0 ? 0 : 1;
}
