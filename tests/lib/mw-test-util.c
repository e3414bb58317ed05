/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-test-util - fixtures, process control and an SMTP client for the
 *	integration tests
 * SYNOPSIS
 *	mwt_tcase, mwt_main, mwt_write_config, mwt_start, mwt_daemon_start,
 *	mwt_daemon_stop, mwt_sink_start, mwt_sink_stop, mwt_run, mwt_sink_*,
 *	mwt_log_*, mwt_smtp_*, mwt_message, mwt_header
 * DESCRIPTION
 *	See mw-test-util.h for the contract. The state of the running test
 *	lives in the global mwt (check runs each test in its own process).
 *
 *	Process hygiene: the daemon and the sink run in process groups of
 *	their own, registered with a guardian process forked by the setup.
 *	The guardian holds the read end of a pipe whose write end only the
 *	test process has (O_CLOEXEC); when the test process goes away without
 *	a clean teardown (a failed assertion _exit()s in fork mode, a crash, a
 *	timeout kill) the guardian kills the registered groups, keeps the
 *	test directory and prints its path with the tail of mailwarden.log.
 *
 *	All waits are bounded and scaled by CK_TIMEOUT_MULTIPLIER.
 */

#include "mw-test-util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <glib/gstdio.h>

MwtEnv *mwt = NULL;

static int guardian_fd = -1;

/* fail_at - fail the current test at @file:@line with a formatted message */
static void G_GNUC_PRINTF(3, 4) G_GNUC_NORETURN
	fail_at(const char *file, int line, const char *fmt, ...)
{
	char *msg;
	va_list ap;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	_ck_assert_failed(file, line, "mwt", "%s", msg);
	/* not reached in fork mode; nofork mode longjmps out */
	abort();
}

#define FAIL(...) fail_at(__FILE__, __LINE__, __VA_ARGS__)

/* now_ms - monotonic milliseconds */
static gint64
now_ms(void)
{
	return g_get_monotonic_time() / 1000;
}

guint
mwt_scale(guint ms)
{
	const char *env = g_getenv("CK_TIMEOUT_MULTIPLIER");
	double mult = env != NULL ? g_ascii_strtod(env, NULL) : 1.0;

	if (mult < 1.0)
		mult = 1.0;
	return (guint) (ms * mult);
}

/* write_all - write the whole buffer to a blocking fd */
static gboolean
write_all(int fd, const void *data, gsize len)
{
	const guint8 *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return FALSE;
		}
		p += n;
		len -= (gsize) n;
	}
	return TRUE;
}

char *
mwt_read_text(const char *path)
{
	char *text = NULL;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return g_strdup("");
	return text;
}

/* log_tail - the last @n lines of mailwarden.log */
static char *
log_tail(guint n)
{
	g_autofree char *text = NULL;
	const char *p;
	guint seen = 0;

	if (mwt == NULL)
		return g_strdup("");
	text = mwt_read_text(mwt->log);
	p = text + strlen(text);
	while (p > text) {
		p--;
		if (*p == '\n' && p[1] != '\0' && ++seen == n) {
			p++;
			break;
		}
	}
	return g_strdup(p);
}

/* --- the guardian ------------------------------------------------------- */

/* guardian_tell - one line to the guardian */
static void G_GNUC_PRINTF(1, 2) guardian_tell(const char *fmt, ...)
{
	g_autofree char *msg = NULL;
	va_list ap;

	if (guardian_fd < 0)
		return;
	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	write_all(guardian_fd, msg, strlen(msg));
}

/* process_alive - whether @pid exists and is not a zombie */
static gboolean
process_alive(pid_t pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int) pid);
	g_autofree char *stat = NULL;
	const char *paren;

	if (kill(pid, 0) < 0)
		return FALSE;
	if (!g_file_get_contents(path, &stat, NULL, NULL))
		return FALSE;
	paren = strrchr(stat, ')');
	return paren == NULL || paren[1] == '\0' || paren[2] != 'Z';
}

/* guardian_main - wait for the test process to end; clean up after a failure */
static void G_GNUC_NORETURN
guardian_main(int fd, const char *dir, const char *log_path)
{
	GArray *groups = g_array_new(FALSE, FALSE, sizeof(pid_t));
	GString *pending = g_string_new(NULL);
	gboolean clean = FALSE;
	char buf[512];
	ssize_t n;

	for (;;) {
		char *nl;

		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		g_string_append_len(pending, buf, n);
		while ((nl = strchr(pending->str, '\n')) != NULL) {
			pid_t pid;

			*nl = '\0';
			pid = (pid_t) atoi(pending->str + 2);
			if (pending->str[0] == 'P') {
				g_array_append_val(groups, pid);
			} else if (pending->str[0] == 'U') {
				for (guint i = 0; i < groups->len; i++)
					if (g_array_index(groups, pid_t, i) == pid)
						g_array_remove_index(groups, i--);
			} else if (pending->str[0] == 'O') {
				clean = TRUE;
			}
			g_string_erase(pending, 0, nl - pending->str + 1);
		}
	}
	/* SIGTERM first (the daemon may still log why), SIGKILL after 5 s */
	if (groups->len > 0) {
		gint64 deadline = now_ms() + 5000;
		gboolean alive = TRUE;

		for (guint i = 0; i < groups->len; i++)
			kill(g_array_index(groups, pid_t, i), SIGTERM);
		while (alive && now_ms() < deadline) {
			alive = FALSE;
			for (guint i = 0; i < groups->len; i++)
				if (process_alive(g_array_index(groups, pid_t, i)))
					alive = TRUE;
			if (alive)
				g_usleep(20 * 1000);
		}
		for (guint i = 0; i < groups->len; i++)
			kill(-g_array_index(groups, pid_t, i), SIGKILL);
	}
	if (!clean) {
		char *log = NULL;
		gsize len = 0;

		fprintf(stderr, "mwt: the test ended without a clean teardown; kept %s\n", dir);
		if (g_file_get_contents(log_path, &log, &len, NULL) && len > 0) {
			const char *p = log + len;
			guint lines = 0;
			while (p > log && lines < 40) {
				p--;
				if (*p == '\n' && p + 1 < log + len)
					lines++;
			}
			fprintf(stderr, "mwt: tail of %s:\n%s\n", log_path, p);
		}
	}
	_exit(0);
}

/* guardian_start - fork the guardian for the current test */
static void
guardian_start(void)
{
	int fds[2];
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		FAIL("pipe: %s", g_strerror(errno));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		FAIL("fork: %s", g_strerror(errno));
	if (pid == 0) {
		/* its own group: check kills the test's group when the test ends */
		setpgid(0, 0);
		signal(SIGTERM, SIG_IGN);
		signal(SIGINT, SIG_IGN);
		close(fds[1]);
		guardian_main(fds[0], mwt->dir, mwt->log);
	}
	close(fds[0]);
	guardian_fd = fds[1];
}

/* --- fixture ------------------------------------------------------------- */

guint16
mwt_free_port(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		FAIL("socket: %s", g_strerror(errno));
	if (bind(fd, (struct sockaddr *) &sin, sizeof(sin)) < 0 ||
	    getsockname(fd, (struct sockaddr *) &sin, &len) < 0)
		FAIL("bind: %s", g_strerror(errno));
	close(fd);
	return ntohs(sin.sin_port);
}

/* mwt_setup - checked fixture: directory, ports, guardian */
static void
mwt_setup(void)
{
	g_autoptr(GError) error = NULL;

	signal(SIGPIPE, SIG_IGN);
	mwt = g_new0(MwtEnv, 1);
	mwt->dir = g_dir_make_tmp("mwt-XXXXXX", &error);
	if (mwt->dir == NULL)
		FAIL("mkdtemp: %s", error->message);
	mwt->sink_dir = g_build_filename(mwt->dir, "sink", NULL);
	mwt->state_dir = g_build_filename(mwt->dir, "state", NULL);
	mwt->conf = g_build_filename(mwt->dir, "mailwarden.conf", NULL);
	mwt->log = g_build_filename(mwt->dir, "mailwarden.log", NULL);
	g_mkdir_with_parents(mwt->sink_dir, 0755);
	g_mkdir_with_parents(mwt->state_dir, 0755);
	mwt->port = mwt_free_port();
	do
		mwt->sink_port = mwt_free_port();
	while (mwt->sink_port == mwt->port);
	mwt->timeout = 10;
	guardian_start();
}

/*
 * stop_process - SIGTERM, wait up to @grace_ms, SIGKILL; then kill its group.
 * Returns the wait status; *forced (nullable) tells whether SIGKILL was needed.
 */
static int
stop_process(pid_t pid, guint grace_ms, const char *what, gboolean *forced)
{
	gint64 deadline = now_ms() + grace_ms;
	int status = 0;

	kill(pid, SIGTERM);
	for (;;) {
		pid_t got = waitpid(pid, &status, WNOHANG);
		if (got == pid || (got < 0 && errno != EINTR))
			break;
		if (now_ms() > deadline) {
			fprintf(stderr, "mwt: %s (pid %d) ignored SIGTERM for %u ms: SIGKILL\n",
				what, (int) pid, grace_ms);
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			if (forced != NULL)
				*forced = TRUE;
			break;
		}
		g_usleep(10 * 1000);
	}
	kill(-pid, SIGKILL); /* stray workers */
	guardian_tell("U %d\n", (int) pid);
	return status;
}

/* describe_status - "exit status N" or "signal N" */
static char *
describe_status(int status)
{
	if (WIFSIGNALED(status))
		return g_strdup_printf("killed by signal %d", WTERMSIG(status));
	return g_strdup_printf("exit status %d", WEXITSTATUS(status));
}

/* rm_rf - remove a directory tree */
static void
rm_rf(const char *path)
{
	g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
	const char *name;

	if (dir != NULL) {
		while ((name = g_dir_read_name(dir)) != NULL) {
			g_autofree char *child = g_build_filename(path, name, NULL);
			if (g_file_test(child, G_FILE_TEST_IS_DIR) &&
			    !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
				rm_rf(child);
			else
				g_unlink(child);
		}
	}
	g_rmdir(path);
}

/* sanitizer_report - the first sanitizer error line of the daemon's log, or NULL */
static char *
sanitizer_report(void)
{
	g_autofree char *text = mwt_read_text(mwt->log);
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	static const char *const markers[] = {"ERROR: AddressSanitizer",
					      "runtime error:", "AddressSanitizer:DEADLYSIGNAL"};

	for (guint i = 0; lines[i] != NULL; i++) {
		for (guint j = 0; j < G_N_ELEMENTS(markers); j++) {
			if (strstr(lines[i], markers[j]) == NULL)
				continue;
			if (mwt->crashes_expected && (strstr(lines[i], "SEGV") != NULL ||
						      strstr(lines[i], "DEADLYSIGNAL") != NULL))
				continue;
			return g_strdup(lines[i]);
		}
	}
	return NULL;
}

/* mwt_teardown - checked fixture: stop everything, check the log, clean up */
static void
mwt_teardown(void)
{
	g_autofree char *problem = NULL;
	g_autofree char *sanitizer = NULL;
	g_autofree char *log_text = NULL;
	int status;

	if (mwt == NULL)
		return;
	if (mwt->daemon > 0 && waitpid(mwt->daemon, &status, WNOHANG) == mwt->daemon) {
		problem = g_strdup_printf("mailwarden died during the test (%s %d)",
					  WIFSIGNALED(status) ? "signal" : "exit status",
					  WIFSIGNALED(status) ? WTERMSIG(status)
							      : WEXITSTATUS(status));
		kill(-mwt->daemon, SIGKILL);
		guardian_tell("U %d\n", (int) mwt->daemon);
		mwt->daemon = 0;
	}
	if (mwt->daemon > 0) {
		gboolean forced = FALSE;
		int st = stop_process(mwt->daemon, 5000, "mailwarden", &forced);
		gboolean clean =
			(WIFEXITED(st) && WEXITSTATUS(st) == 0) ||
			(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM) ||
			(WIFEXITED(st) && WEXITSTATUS(st) == 23); /* LeakSanitizer: noted below */

		mwt->daemon = 0;
		if (!forced && !clean && problem == NULL) {
			g_autofree char *how = describe_status(st);
			problem = g_strdup_printf(
				"mailwarden ended with %s on SIGTERM (or died during "
				"the test)",
				how);
		}
	}
	mwt_sink_stop();
	sanitizer = sanitizer_report();
	if (problem == NULL && sanitizer != NULL)
		problem = g_strdup_printf("sanitizer report in %s: %s", mwt->log, sanitizer);
	log_text = mwt_read_text(mwt->log);
	if (strstr(log_text, "LeakSanitizer") != NULL)
		fprintf(stderr, "mwt: note: LeakSanitizer report in %s\n", mwt->log);
	if (problem != NULL) {
		g_autofree char *tail = log_tail(30);
		guardian_tell("O\n");
		fail_at(__FILE__, __LINE__, "%s; kept %s; log tail:\n%s", problem, mwt->dir, tail);
	}
	guardian_tell("O\n");
	close(guardian_fd);
	guardian_fd = -1;
	if (g_getenv("MW_TEST_KEEP") != NULL)
		fprintf(stderr, "mwt: kept %s\n", mwt->dir);
	else
		rm_rf(mwt->dir);
	g_free(mwt->dir);
	g_free(mwt->sink_dir);
	g_free(mwt->state_dir);
	g_free(mwt->conf);
	g_free(mwt->log);
	g_clear_pointer(&mwt, g_free);
}

TCase *
mwt_tcase(const char *name, double timeout)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, mwt_setup, mwt_teardown);
	tcase_set_timeout(tc, timeout);
	return tc;
}

int
mwt_main(Suite *suite)
{
	SRunner *sr = srunner_create(suite);
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* --- config -------------------------------------------------------------- */

char *
mwt_write_file(const char *name, const void *text, gssize len)
{
	char *path = g_build_filename(mwt->dir, name, NULL);
	g_autoptr(GError) error = NULL;

	if (!g_file_set_contents(path, text, len, &error))
		FAIL("%s", error->message);
	return path;
}

/* key_set - whether the "key = value" lines of @keys set @key */
static gboolean
key_set(const char *keys, const char *key)
{
	g_auto(GStrv) lines = NULL;

	if (keys == NULL)
		return FALSE;
	lines = g_strsplit(keys, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		g_autofree char *name = NULL;
		const char *eq = strchr(lines[i], '=');
		if (eq == NULL)
			continue;
		name = g_strstrip(g_strndup(lines[i], (gsize) (eq - lines[i])));
		if (strcmp(name, key) == 0)
			return TRUE;
	}
	return FALSE;
}

/* key_value - the value @keys gives @key, or NULL */
static char *
key_value(const char *keys, const char *key)
{
	g_auto(GStrv) lines = NULL;

	if (keys == NULL)
		return NULL;
	lines = g_strsplit(keys, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		g_autofree char *name = NULL;
		const char *eq = strchr(lines[i], '=');
		if (eq == NULL)
			continue;
		name = g_strstrip(g_strndup(lines[i], (gsize) (eq - lines[i])));
		if (strcmp(name, key) == 0)
			return g_strstrip(g_strdup(eq + 1));
	}
	return NULL;
}

void
mwt_write_config(guint workers, const char *keys, const char *sections)
{
	g_autoptr(GString) conf = g_string_new("[mailwarden]\n");
	g_autofree char *timeout = NULL;
	g_autofree char *path = NULL;
	struct {
		const char *key;
		char *value;
	} defaults[] = {
		{"listen", g_strdup_printf("127.0.0.1:%u", mwt->port)},
		{"reinject", g_strdup_printf("127.0.0.1:%u", mwt->sink_port)},
		{"state_dir", g_strdup(mwt->state_dir)},
		{"hostname", g_strdup("mw.test")},
		{"timeout", g_strdup("10")},
		{"workers", g_strdup_printf("%u", workers)},
		{"modules", g_strdup("")},
	};

	for (guint i = 0; i < G_N_ELEMENTS(defaults); i++) {
		if (!key_set(keys, defaults[i].key))
			g_string_append_printf(conf, "%s = %s\n", defaults[i].key,
					       defaults[i].value);
		g_free(defaults[i].value);
	}
	if (keys != NULL) {
		g_string_append(conf, keys);
		if (conf->str[conf->len - 1] != '\n')
			g_string_append_c(conf, '\n');
	}
	if (sections != NULL) {
		g_string_append_c(conf, '\n');
		g_string_append(conf, sections);
		if (conf->str[conf->len - 1] != '\n')
			g_string_append_c(conf, '\n');
	}
	timeout = key_value(keys, "timeout");
	mwt->timeout = timeout != NULL ? (guint) atoi(timeout) : 10;
	path = mwt_write_file("mailwarden.conf", conf->str, (gssize) conf->len);
}

/* --- processes ----------------------------------------------------------- */

/*
 * spawn - fork and exec @argv in a process group of its own, stdin from
 * @in_path, stdout to @out_path, stderr to @err_path (appending; NULL:
 * /dev/null); registered with the guardian when @guard
 */
static pid_t
spawn(char **argv, const char *in_path, const char *out_path, const char *err_path, gboolean guard)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		FAIL("fork: %s", g_strerror(errno));
	if (pid == 0) {
		int in = open(in_path != NULL ? in_path : "/dev/null", O_RDONLY);
		int out = open(out_path != NULL ? out_path : "/dev/null",
			       O_WRONLY | O_CREAT | O_APPEND, 0644);
		int err = open(err_path != NULL ? err_path : "/dev/null",
			       O_WRONLY | O_CREAT | O_APPEND, 0644);
		setpgid(0, 0);
		if (in < 0 || out < 0 || err < 0)
			_exit(126);
		dup2(in, 0);
		dup2(out, 1);
		dup2(err, 2);
		signal(SIGPIPE, SIG_DFL);
		execv(argv[0], argv);
		dprintf(2, "mwt: exec %s: %s\n", argv[0], g_strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	if (guard)
		guardian_tell("P %d\n", (int) pid);
	return pid;
}

/* listen_inodes_into - socket inodes listening on @port in /proc/net/@file */
static void
listen_inodes_into(const char *file, guint16 port, GHashTable *inodes)
{
	g_autofree char *path = g_build_filename("/proc/net", file, NULL);
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return;
	lines = g_strsplit(text, "\n", -1);
	for (guint i = 1; lines[i] != NULL; i++) {
		g_auto(GStrv) f = g_strsplit_set(g_strstrip(lines[i]), " ", -1);
		g_autoptr(GPtrArray) fields = g_ptr_array_new();
		const char *colon;

		for (guint j = 0; f[j] != NULL; j++)
			if (f[j][0] != '\0')
				g_ptr_array_add(fields, f[j]);
		if (fields->len < 10)
			continue;
		colon = strrchr(g_ptr_array_index(fields, 1), ':');
		if (colon == NULL || strtoul(colon + 1, NULL, 16) != port ||
		    strcmp(g_ptr_array_index(fields, 3), "0A") != 0)
			continue;
		g_hash_table_add(inodes, g_strdup(g_ptr_array_index(fields, 9)));
	}
}

/*
 * port_owner_ok - whether a socket listening on @port belongs to a process of
 * group @pgid (another program may have taken a port mwt_free_port() chose)
 */
static gboolean
port_owner_ok(guint16 port, pid_t pgid)
{
	g_autoptr(GHashTable) inodes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GDir) proc = NULL;
	const char *name;

	listen_inodes_into("tcp", port, inodes);
	listen_inodes_into("tcp6", port, inodes);
	if (g_hash_table_size(inodes) == 0)
		return FALSE;
	proc = g_dir_open("/proc", 0, NULL);
	while (proc != NULL && (name = g_dir_read_name(proc)) != NULL) {
		g_autofree char *fddir = NULL;
		g_autoptr(GDir) fds = NULL;
		const char *fd;

		if (!g_ascii_isdigit(name[0]) || getpgid((pid_t) atoi(name)) != pgid)
			continue;
		fddir = g_strdup_printf("/proc/%s/fd", name);
		fds = g_dir_open(fddir, 0, NULL);
		while (fds != NULL && (fd = g_dir_read_name(fds)) != NULL) {
			g_autofree char *link_path = g_build_filename(fddir, fd, NULL);
			g_autofree char *target = g_file_read_link(link_path, NULL);
			g_autofree char *inode = NULL;

			if (target == NULL || !g_str_has_prefix(target, "socket:["))
				continue;
			inode = g_strndup(target + 8, strlen(target) - 9);
			if (g_hash_table_contains(inodes, inode))
				return TRUE;
		}
	}
	return FALSE;
}

/*
 * wait_ready - wait until @pid's process group listens on @port and the port
 * answers with a reply line (or accepts and closes) while @pid lives; fails
 * the test with @log's tail otherwise
 */
static void
wait_ready(guint16 port, pid_t *pid, const char *what, const char *log)
{
	gint64 deadline = now_ms() + mwt_scale(10000);

	for (;;) {
		int status;
		g_autoptr(MwtSmtp) s = NULL;

		if (waitpid(*pid, &status, WNOHANG) == *pid) {
			g_autofree char *how = describe_status(status);
			g_autofree char *tail = log != NULL ? mwt_read_text(log) : g_strdup("");
			guardian_tell("U %d\n", (int) *pid);
			*pid = 0;
			FAIL("%s exited (%s) before answering on port %u; log:\n%s", what, how,
			     port, tail);
		}
		s = port_owner_ok(port, *pid) ? mwt_smtp_try_connect(port) : NULL;
		if (s != NULL) {
			gint64 left = deadline - now_ms();
			s->timeout_ms = left > 100 ? (guint) left : 100;
			if (mwt_smtp_read(s) != -2) {
				if (s->code > 0)
					mwt_smtp_send(s, "QUIT");
				return;
			}
		}
		if (now_ms() > deadline) {
			g_autofree char *tail = log != NULL ? mwt_read_text(log) : g_strdup("");
			FAIL("%s did not answer on port %u within %u ms%s; log:\n%s", what, port,
			     mwt_scale(10000),
			     port_owner_ok(port, *pid) ? ""
						       : " (it does not listen there: the port may "
							 "have been taken by another program)",
			     tail);
		}
		g_usleep(20 * 1000);
	}
}

void
mwt_sink_start(const char *flags)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *err = g_build_filename(mwt->dir, "sink.log", NULL);

	if (mwt->sink > 0)
		FAIL("the sink is already running");
	g_ptr_array_add(argv, g_strdup(MW_TEST_SINK));
	g_ptr_array_add(argv, g_strdup("--listen"));
	g_ptr_array_add(argv, g_strdup_printf("127.0.0.1:%u", mwt->sink_port));
	g_ptr_array_add(argv, g_strdup("--dir"));
	g_ptr_array_add(argv, g_strdup(mwt->sink_dir));
	if (flags != NULL) {
		g_auto(GStrv) words = g_strsplit(flags, " ", -1);
		for (guint i = 0; words[i] != NULL; i++)
			if (words[i][0] != '\0')
				g_ptr_array_add(argv, g_strdup(words[i]));
	}
	g_ptr_array_add(argv, NULL);
	mwt->sink = spawn((char **) argv->pdata, NULL, NULL, err, TRUE);
	wait_ready(mwt->sink_port, &mwt->sink, "mw-test-sink", err);
}

void
mwt_sink_stop(void)
{
	if (mwt->sink <= 0)
		return;
	stop_process(mwt->sink, 5000, "mw-test-sink", NULL);
	mwt->sink = 0;
}

void
mwt_daemon_start_argv(const char *const *extra)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new();

	if (mwt->daemon > 0)
		FAIL("mailwarden is already running");
	g_ptr_array_add(argv, (gpointer) MW_TEST_BINARY);
	g_ptr_array_add(argv, (gpointer) "-c");
	g_ptr_array_add(argv, mwt->conf);
	for (guint i = 0; extra != NULL && extra[i] != NULL; i++)
		g_ptr_array_add(argv, (gpointer) extra[i]);
	g_ptr_array_add(argv, NULL);
	mwt->daemon = spawn((char **) argv->pdata, NULL, mwt->log, mwt->log, TRUE);
	wait_ready(mwt->port, &mwt->daemon, "mailwarden", mwt->log);
}

void
mwt_daemon_start(void)
{
	mwt_daemon_start_argv(NULL);
}

void
mwt_daemon_stop(void)
{
	if (mwt->daemon <= 0)
		return;
	stop_process(mwt->daemon, 5000, "mailwarden", NULL);
	mwt->daemon = 0;
}

gboolean
mwt_daemon_alive(void)
{
	int status;

	if (mwt->daemon <= 0)
		return FALSE;
	return waitpid(mwt->daemon, &status, WNOHANG) == 0;
}

void
mwt_start(guint workers, const char *keys, const char *sections)
{
	mwt_write_config(workers, keys, sections);
	mwt_sink_start(NULL);
	mwt_daemon_start();
}

int
mwt_run(const char *stdin_path, char **out, char **err, const char *argv0, ...)
{
	static guint serial = 0;
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autofree char *out_path = NULL;
	g_autofree char *err_path = NULL;
	gint64 deadline = now_ms() + mwt_scale(60000);
	int status = 0;
	pid_t pid;
	va_list ap;

	serial++;
	out_path = g_strdup_printf("%s/run-%u.out", mwt->dir, serial);
	err_path = g_strdup_printf("%s/run-%u.err", mwt->dir, serial);
	g_ptr_array_add(argv, (gpointer) argv0);
	va_start(ap, argv0);
	for (const char *arg = va_arg(ap, const char *); arg != NULL;
	     arg = va_arg(ap, const char *))
		g_ptr_array_add(argv, (gpointer) arg);
	va_end(ap);
	g_ptr_array_add(argv, NULL);
	pid = spawn((char **) argv->pdata, stdin_path, out_path, err_path, TRUE);
	for (;;) {
		pid_t got = waitpid(pid, &status, WNOHANG);
		if (got == pid)
			break;
		if (now_ms() > deadline) {
			kill(-pid, SIGKILL);
			waitpid(pid, &status, 0);
			fprintf(stderr, "mwt: %s did not finish in time, killed\n", argv0);
			status = -1;
			break;
		}
		g_usleep(5 * 1000);
	}
	kill(-pid, SIGKILL);
	guardian_tell("U %d\n", (int) pid);
	if (out != NULL)
		*out = mwt_read_text(out_path);
	if (err != NULL)
		*err = mwt_read_text(err_path);
	if (status == -1 || WIFSIGNALED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* --- the sink ------------------------------------------------------------ */

void
mwt_sink_mode(const char *mode)
{
	g_autofree char *path = g_build_filename(mwt->sink_dir, "mode", NULL);
	g_autofree char *tmp = g_build_filename(mwt->sink_dir, ".mode.tmp", NULL);
	g_autoptr(GError) error = NULL;

	/* rename: a sink child never sees a half-written mode */
	if (!g_file_set_contents(tmp, mode, -1, &error))
		FAIL("%s", error->message);
	if (g_rename(tmp, path) < 0)
		FAIL("rename %s: %s", path, g_strerror(errno));
}

guint
mwt_sink_count(void)
{
	g_autoptr(GDir) dir = g_dir_open(mwt->sink_dir, 0, NULL);
	const char *name;
	guint n = 0;

	if (dir == NULL)
		return 0;
	while ((name = g_dir_read_name(dir)) != NULL) {
		const char *p = name;
		while (g_ascii_isdigit(*p))
			p++;
		if (p > name && strcmp(p, ".eml") == 0)
			n++;
	}
	return n;
}

void
mwt_sink_wait_at(guint n, const char *file, int line)
{
	gint64 deadline = now_ms() + mwt_scale(30000);
	guint got;

	while ((got = mwt_sink_count()) < n) {
		if (now_ms() > deadline) {
			g_autofree char *events = mwt_sink_events();
			fail_at(file, line, "the sink has %u messages, expected %u; events:\n%s",
				got, n, events);
		}
		g_usleep(10 * 1000);
	}
}

GBytes *
mwt_sink_message(guint n)
{
	g_autofree char *path = g_strdup_printf("%s/%u.eml", mwt->sink_dir, n);
	g_autoptr(GError) error = NULL;
	char *data = NULL;
	gsize len = 0;

	if (!g_file_get_contents(path, &data, &len, &error))
		FAIL("sink message %u: %s", n, error->message);
	return g_bytes_new_take(data, len);
}

char *
mwt_sink_envelope(guint n)
{
	g_autofree char *path = g_strdup_printf("%s/%u.env", mwt->sink_dir, n);
	g_autoptr(GError) error = NULL;
	char *data = NULL;

	if (!g_file_get_contents(path, &data, NULL, &error))
		FAIL("sink envelope %u: %s", n, error->message);
	return data;
}

char *
mwt_sink_events(void)
{
	g_autofree char *path = g_build_filename(mwt->sink_dir, "events.log", NULL);
	return mwt_read_text(path);
}

guint
mwt_sink_event_count(const char *line)
{
	g_autofree char *text = mwt_sink_events();
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	guint n = 0;

	for (guint i = 0; lines[i] != NULL; i++)
		if (strcmp(lines[i], line) == 0)
			n++;
	return n;
}

/* busy_count - sink connections inside a transaction (DIR/.busy-PID files) */
static guint
busy_count(void)
{
	g_autoptr(GDir) dir = g_dir_open(mwt->sink_dir, 0, NULL);
	const char *name;
	guint n = 0;

	while (dir != NULL && (name = g_dir_read_name(dir)) != NULL)
		if (g_str_has_prefix(name, ".busy-"))
			n++;
	return n;
}

void
mwt_sink_quiesce(void)
{
	gint64 deadline = now_ms() + mwt_scale(30000);

	while (busy_count() > 0) {
		if (now_ms() > deadline) {
			g_autofree char *events = mwt_sink_events();
			FAIL("%u sink connections still inside a transaction after %u ms; "
			     "events:\n%s",
			     busy_count(), mwt_scale(30000), events);
		}
		g_usleep(10 * 1000);
	}
}

GPtrArray *
mwt_env_rcpts(const char *env)
{
	GPtrArray *rcpts = g_ptr_array_new_with_free_func(g_free);
	g_auto(GStrv) lines = g_strsplit(env, "\n", -1);

	for (guint i = 0; lines[i] != NULL; i++) {
		const char *lt, *gt;
		if (!g_str_has_prefix(lines[i], "RCPT "))
			continue;
		lt = strchr(lines[i], '<');
		gt = lt != NULL ? strchr(lt, '>') : NULL;
		if (lt != NULL && gt != NULL)
			g_ptr_array_add(rcpts, g_strndup(lt + 1, (gsize) (gt - lt - 1)));
		else
			g_ptr_array_add(rcpts, g_strdup(lines[i] + 5));
	}
	return rcpts;
}

char *
mwt_env_line(const char *env, const char *prefix)
{
	g_auto(GStrv) lines = g_strsplit(env, "\n", -1);

	for (guint i = 0; lines[i] != NULL; i++)
		if (g_str_has_prefix(lines[i], prefix))
			return g_strdup(lines[i] + strlen(prefix));
	return NULL;
}

char *
mwt_env_param(const char *args, const char *name)
{
	const char *gt = strchr(args, '>');
	g_auto(GStrv) words = g_strsplit(gt != NULL ? gt + 1 : args, " ", -1);
	gsize n = strlen(name);

	for (guint i = 0; words[i] != NULL; i++) {
		if (g_ascii_strncasecmp(words[i], name, n) != 0)
			continue;
		if (words[i][n] == '=')
			return g_strdup(words[i] + n + 1);
		if (words[i][n] == '\0')
			return g_strdup("");
	}
	return NULL;
}

/* --- the daemon's log ---------------------------------------------------- */

char *
mwt_log_text(void)
{
	return mwt_read_text(mwt->log);
}

/* line_matches - whether @line contains every needle of @needles */
static gboolean
line_matches(const char *line, GPtrArray *needles)
{
	for (guint i = 0; i < needles->len; i++)
		if (strstr(line, needles->pdata[i]) == NULL)
			return FALSE;
	return TRUE;
}

/* collect - the NULL-terminated variadic strings */
static GPtrArray *
collect(const char *first, va_list ap)
{
	GPtrArray *needles = g_ptr_array_new();

	for (const char *n = first; n != NULL; n = va_arg(ap, const char *))
		g_ptr_array_add(needles, (gpointer) n);
	return needles;
}

/* find_line - the first line of @path with every needle, or NULL; counts them in @count */
static char *
find_line(const char *path, GPtrArray *needles, guint *count)
{
	g_autofree char *text = mwt_read_text(path);
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	char *found = NULL;

	for (guint i = 0; lines[i] != NULL; i++) {
		if (!line_matches(lines[i], needles))
			continue;
		if (count == NULL)
			return g_strdup(lines[i]);
		if (found == NULL)
			found = g_strdup(lines[i]);
		(*count)++;
	}
	return found;
}

/* wait_line - find_line, again every 20 ms for up to @timeout_ms (scaled) */
static char *
wait_line(const char *path, guint timeout_ms, GPtrArray *needles)
{
	gint64 deadline = now_ms() + mwt_scale(timeout_ms);

	for (;;) {
		char *line = find_line(path, needles, NULL);

		if (line != NULL || now_ms() > deadline)
			return line;
		g_usleep(20 * 1000);
	}
}

char *
mwt_file_line(const char *path, const char *needle, ...)
{
	g_autoptr(GPtrArray) needles = NULL;
	va_list ap;

	va_start(ap, needle);
	needles = collect(needle, ap);
	va_end(ap);
	return find_line(path, needles, NULL);
}

char *
mwt_file_wait(const char *path, guint timeout_ms, const char *needle, ...)
{
	g_autoptr(GPtrArray) needles = NULL;
	va_list ap;

	va_start(ap, needle);
	needles = collect(needle, ap);
	va_end(ap);
	return wait_line(path, timeout_ms, needles);
}

guint
mwt_file_count(const char *path, const char *needle, ...)
{
	g_autoptr(GPtrArray) needles = NULL;
	guint n = 0;
	va_list ap;

	va_start(ap, needle);
	needles = collect(needle, ap);
	va_end(ap);
	g_free(find_line(path, needles, &n));
	return n;
}

char *
mwt_log_wait(guint timeout_ms, const char *needle, ...)
{
	g_autoptr(GPtrArray) needles = NULL;
	va_list ap;

	va_start(ap, needle);
	needles = collect(needle, ap);
	va_end(ap);
	return wait_line(mwt->log, timeout_ms, needles);
}

guint
mwt_log_count(const char *needle, ...)
{
	g_autoptr(GPtrArray) needles = NULL;
	guint n = 0;
	va_list ap;

	va_start(ap, needle);
	needles = collect(needle, ap);
	va_end(ap);
	g_free(find_line(mwt->log, needles, &n));
	return n;
}

/* --- the SMTP client ----------------------------------------------------- */

MwtSmtp *
mwt_smtp_try_connect(guint16 port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int one = 1;
	MwtSmtp *s;
	int fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	if (connect(fd, (struct sockaddr *) &sin, sizeof(sin)) < 0) {
		close(fd);
		return NULL;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	s = g_new0(MwtSmtp, 1);
	s->fd = fd;
	s->in = g_byte_array_new();
	s->lines = g_ptr_array_new_with_free_func(g_free);
	s->text = g_strdup("");
	s->timeout_ms = mwt_scale(30000);
	return s;
}

MwtSmtp *
mwt_smtp_connect(guint16 port)
{
	MwtSmtp *s = mwt_smtp_try_connect(port);

	if (s == NULL) {
		g_autofree char *tail = log_tail(20);
		FAIL("cannot connect to 127.0.0.1:%u: %s (mailwarden %s); log tail:\n%s", port,
		     g_strerror(errno), mwt_daemon_alive() ? "running" : "not running", tail);
	}
	return s;
}

MwtSmtp *
mwt_smtp_open(guint16 port, const char *hello)
{
	MwtSmtp *s = mwt_smtp_connect(port);

	mwt_smtp_expect(s, 220);
	mwt_smtp_cmd_expect(s, 250, "%s", hello);
	return s;
}

void
mwt_smtp_close(MwtSmtp *s)
{
	if (s == NULL)
		return;
	if (s->fd >= 0)
		close(s->fd);
	g_byte_array_unref(s->in);
	g_ptr_array_unref(s->lines);
	g_free(s->text);
	g_free(s);
}

/* read_some - wait for input until @deadline; 1 data, 0 EOF, -1 error, -2 timeout */
static int
read_some(MwtSmtp *s, gint64 deadline)
{
	guint8 buf[16384];

	for (;;) {
		struct pollfd pfd = {.fd = s->fd, .events = POLLIN};
		gint64 left = deadline - now_ms();
		ssize_t n;
		int rc;

		if (left < 0)
			left = 0;
		rc = poll(&pfd, 1, (int) left);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc == 0)
			return -2;
		n = recv(s->fd, buf, sizeof(buf), 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		g_byte_array_append(s->in, buf, (guint) n);
		return 1;
	}
}

/* next_line - one line without its line end, NULL at EOF/error (*why -1) or timeout (-2) */
static char *
next_line(MwtSmtp *s, gint64 deadline, int *why)
{
	for (;;) {
		guint8 *nl = s->in->len > 0 ? memchr(s->in->data, '\n', s->in->len) : NULL;
		int rc;

		if (nl != NULL) {
			gsize len = (gsize) (nl - s->in->data);
			char *line = g_strndup((const char *) s->in->data, len);
			if (len > 0 && line[len - 1] == '\r')
				line[len - 1] = '\0';
			g_byte_array_remove_range(s->in, 0, (guint) len + 1);
			return line;
		}
		rc = read_some(s, deadline);
		if (rc <= 0) {
			*why = rc == -2 ? -2 : -1;
			return NULL;
		}
	}
}

int
mwt_smtp_read(MwtSmtp *s)
{
	gint64 deadline = now_ms() + s->timeout_ms;
	g_autoptr(GString) text = g_string_new(NULL);

	g_ptr_array_set_size(s->lines, 0);
	for (;;) {
		int why = 0;
		g_autofree char *line = next_line(s, deadline, &why);

		if (line == NULL) {
			s->code = why;
			g_string_append(text, why == -2 ? "(timeout)" : "(connection closed)");
			break;
		}
		if (strlen(line) < 3 || !g_ascii_isdigit(line[0]) || !g_ascii_isdigit(line[1]) ||
		    !g_ascii_isdigit(line[2]) ||
		    (line[3] != '\0' && line[3] != ' ' && line[3] != '-')) {
			s->code = -3;
			g_string_append_printf(text, "(malformed reply line: %s)", line);
			break;
		}
		s->code = atoi(line);
		g_ptr_array_add(s->lines, g_strdup(line[3] != '\0' ? line + 4 : ""));
		if (text->len > 0)
			g_string_append_c(text, '\n');
		g_string_append(text, line[3] != '\0' ? line + 4 : "");
		if (line[3] != '-')
			break;
	}
	g_free(s->text);
	s->text = g_string_free(g_steal_pointer(&text), FALSE);
	return s->code;
}

gboolean
mwt_smtp_send_raw(MwtSmtp *s, const void *data, gsize len)
{
	const guint8 *p = data;
	gint64 deadline = now_ms() + s->timeout_ms;

	while (len > 0) {
		ssize_t n = send(s->fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd pfd = {.fd = s->fd, .events = POLLOUT};
			gint64 left = deadline - now_ms();
			if (left <= 0 || poll(&pfd, 1, (int) left) == 0) {
				s->write_failed = TRUE;
				return FALSE;
			}
			continue;
		}
		if (n < 0) {
			s->write_failed = TRUE;
			return FALSE;
		}
		p += n;
		len -= (gsize) n;
		deadline = now_ms() + s->timeout_ms; /* the timeout is per write, not per message */
	}
	return TRUE;
}

/* send_line_v - format a command and send it with CRLF */
static gboolean G_GNUC_PRINTF(2, 0) send_line_v(MwtSmtp *s, const char *fmt, va_list ap)
{
	g_autofree char *text = g_strdup_vprintf(fmt, ap);
	g_autofree char *line = g_strconcat(text, "\r\n", NULL);

	return mwt_smtp_send_raw(s, line, strlen(line));
}

gboolean
mwt_smtp_send(MwtSmtp *s, const char *fmt, ...)
{
	va_list ap;
	gboolean ok;

	va_start(ap, fmt);
	ok = send_line_v(s, fmt, ap);
	va_end(ap);
	return ok;
}

int
mwt_smtp_cmd(MwtSmtp *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	send_line_v(s, fmt, ap);
	va_end(ap);
	return mwt_smtp_read(s);
}

/* code_matches - 3-digit exact, 1-digit class */
static gboolean
code_matches(int got, int want)
{
	if (want < 10)
		return got >= 100 && got / 100 == want;
	return got == want;
}

/* expect_failed - the failure message for an unexpected reply */
static void G_GNUC_NORETURN
expect_failed(MwtSmtp *s, int code, const char *what, const char *file, int line)
{
	g_autofree char *tail = log_tail(15);

	fail_at(file, line, "%s%s: expected %d%s, got %d \"%s\"; mailwarden log tail:\n%s",
		what != NULL ? "after " : "reply", what != NULL ? what : "", code,
		code < 10 ? "xx" : "", s->code, s->text, tail);
}

void
mwt_smtp_expect_at(MwtSmtp *s, int code, const char *file, int line)
{
	mwt_smtp_read(s);
	if (!code_matches(s->code, code))
		expect_failed(s, code, NULL, file, line);
}

void
mwt_smtp_cmd_expect_at(MwtSmtp *s, int code, const char *file, int line, const char *fmt, ...)
{
	g_autofree char *cmd = NULL;
	va_list ap;

	va_start(ap, fmt);
	cmd = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	mwt_smtp_send(s, "%s", cmd);
	mwt_smtp_read(s);
	if (!code_matches(s->code, code)) {
		if (strlen(cmd) > 200)
			strcpy(cmd + 190, "...");
		expect_failed(s, code, cmd, file, line);
	}
}

gboolean
mwt_smtp_data(MwtSmtp *s, const void *msg, gsize len)
{
	const guint8 *p = msg;
	g_autoptr(GByteArray) chunk = g_byte_array_sized_new(65536 + 16);
	gboolean line_start = TRUE;
	gsize i = 0;

	while (i < len) {
		const guint8 *crlf = memmem(p + i, len - i, "\r\n", 2);
		gsize end = crlf != NULL ? (gsize) (crlf - p) + 2 : len;

		if (line_start && p[i] == '.')
			g_byte_array_append(chunk, (const guint8 *) ".", 1);
		g_byte_array_append(chunk, p + i, (guint) (end - i));
		line_start = crlf != NULL;
		i = end;
		if (chunk->len >= 65536) {
			if (!mwt_smtp_send_raw(s, chunk->data, chunk->len))
				return FALSE;
			g_byte_array_set_size(chunk, 0);
		}
	}
	if (!line_start)
		g_byte_array_append(chunk, (const guint8 *) "\r\n", 2);
	g_byte_array_append(chunk, (const guint8 *) ".\r\n", 3);
	return mwt_smtp_send_raw(s, chunk->data, chunk->len);
}

GBytes *
mwt_dot_stuff(const void *msg, gsize len)
{
	const guint8 *p = msg;
	g_autoptr(GByteArray) out = g_byte_array_sized_new((guint) len + 16);
	gboolean line_start = TRUE;
	gsize i = 0;

	while (i < len) {
		const guint8 *crlf = memmem(p + i, len - i, "\r\n", 2);
		gsize end = crlf != NULL ? (gsize) (crlf - p) + 2 : len;

		if (line_start && p[i] == '.')
			g_byte_array_append(out, (const guint8 *) ".", 1);
		g_byte_array_append(out, p + i, (guint) (end - i));
		line_start = crlf != NULL;
		i = end;
	}
	if (!line_start)
		g_byte_array_append(out, (const guint8 *) "\r\n", 2);
	g_byte_array_append(out, (const guint8 *) ".\r\n", 3);
	return g_byte_array_free_to_bytes(g_steal_pointer(&out));
}

gboolean
mwt_smtp_closed(MwtSmtp *s, guint timeout_ms)
{
	gint64 deadline = now_ms() + mwt_scale(timeout_ms);

	for (;;) {
		int rc;

		g_byte_array_set_size(s->in, 0);
		rc = read_some(s, deadline);
		if (rc == 0 || rc == -1)
			return TRUE;
		if (rc == -2)
			return FALSE;
	}
}

gboolean
mwt_smtp_has_line(MwtSmtp *s, const char *line)
{
	gsize n = strlen(line);

	for (guint i = 0; i < s->lines->len; i++) {
		const char *l = s->lines->pdata[i];
		if (g_ascii_strncasecmp(l, line, n) == 0 && (l[n] == '\0' || l[n] == ' '))
			return TRUE;
	}
	return FALSE;
}

int
mwt_smtp_message_at(MwtSmtp *s, const char *from, const char *mail_params, const char *const *rcpts,
		    const void *msg, gsize len, const char *file, int line)
{
	mwt_smtp_cmd_expect_at(s, 2, file, line, "MAIL FROM:<%s>%s%s", from,
			       mail_params != NULL ? " " : "",
			       mail_params != NULL ? mail_params : "");
	for (guint i = 0; rcpts[i] != NULL; i++)
		mwt_smtp_cmd_expect_at(s, 2, file, line, "RCPT TO:<%s>", rcpts[i]);
	mwt_smtp_cmd_expect_at(s, 354, file, line, "DATA");
	if (!mwt_smtp_data(s, msg, len))
		fail_at(file, line, "sending the message failed: %s", g_strerror(errno));
	return mwt_smtp_read(s);
}

int
mwt_smtp_try_message(MwtSmtp *s, const char *from, const char *const *rcpts, const void *msg,
		     gsize len)
{
	int code = mwt_smtp_cmd(s, "MAIL FROM:<%s>", from);

	if (code < 0)
		return code;
	if (code / 100 != 2)
		goto refused;
	for (guint i = 0; rcpts[i] != NULL; i++) {
		code = mwt_smtp_cmd(s, "RCPT TO:<%s>", rcpts[i]);
		if (code / 100 != 2)
			goto refused;
	}
	code = mwt_smtp_cmd(s, "DATA");
	if (code != 354)
		goto refused;
	mwt_smtp_data(s, msg, len);
	return mwt_smtp_read(s);
refused:
	if (code < 0)
		return code;
	if (code > 0) {
		g_autofree char *text = g_strdup(s->text);
		mwt_smtp_cmd(s, "RSET");
		/* keep the refusal as the reply the caller looks at */
		s->code = code;
		g_free(s->text);
		s->text = g_steal_pointer(&text);
	}
	return code;
}

/* --- messages ------------------------------------------------------------ */

GBytes *
mwt_message(const char *subject, const char *extra_headers)
{
	static guint serial = 0;
	g_autoptr(GString) msg = g_string_new(NULL);

	serial++;
	g_string_append(msg, "From: Sender <sender@example.org>\r\n"
			     "To: Recipient <rcpt@example.net>\r\n");
	g_string_append_printf(msg, "Subject: %s\r\n", subject);
	g_string_append_printf(msg, "Message-ID: <mwt.%d.%u.%" G_GINT64_FORMAT "@example.org>\r\n",
			       (int) getpid(), serial, g_get_real_time());
	g_string_append(msg, "Date: Mon, 01 Jan 2024 12:00:00 +0000\r\n"
			     "MIME-Version: 1.0\r\n"
			     "Content-Type: text/plain; charset=us-ascii\r\n");
	if (extra_headers != NULL) {
		g_auto(GStrv) lines = g_strsplit(extra_headers, "\n", -1);
		for (guint i = 0; lines[i] != NULL; i++) {
			g_strchomp(lines[i]);
			if (lines[i][0] != '\0')
				g_string_append_printf(msg, "%s\r\n", lines[i]);
		}
	}
	g_string_append_printf(msg, "\r\nThis is the body of \"%s\".\r\n.leading dot\r\n", subject);
	return g_string_free_to_bytes(g_steal_pointer(&msg));
}

GBytes *
mwt_data_file(const char *relpath)
{
	g_autofree char *path = g_build_filename(MW_TEST_DATA, relpath, NULL);
	g_autoptr(GError) error = NULL;
	char *data = NULL;
	gsize len = 0;

	if (!g_file_get_contents(path, &data, &len, &error))
		FAIL("%s", error->message);
	return g_bytes_new_take(data, len);
}

/* excerpt - a short escaped excerpt of @data around @off */
static char *
excerpt(const guint8 *data, gsize len, gsize off)
{
	gsize start = off > 20 ? off - 20 : 0;
	gsize end = MIN(len, off + 20);
	g_autofree char *raw = g_strndup((const char *) data + start, end - start);

	/* g_strescape stops at NUL bytes; make them visible first */
	for (gsize i = 0; i < end - start; i++)
		if (raw[i] == '\0')
			raw[i] = '@';
	return g_strescape(raw, NULL);
}

void
mwt_assert_bytes_equal_at(GBytes *expected, GBytes *got, const char *file, int line)
{
	gsize elen, glen, off = 0;
	const guint8 *e = g_bytes_get_data(expected, &elen);
	const guint8 *g = g_bytes_get_data(got, &glen);
	g_autofree char *ex = NULL;
	g_autofree char *gx = NULL;

	if (elen == glen && (elen == 0 || memcmp(e, g, elen) == 0))
		return;
	while (off < elen && off < glen && e[off] == g[off])
		off++;
	ex = excerpt(e, elen, off);
	gx = excerpt(g, glen, off);
	fail_at(file, line,
		"bytes differ: expected %" G_GSIZE_FORMAT " bytes, got %" G_GSIZE_FORMAT
		"; first difference at offset %" G_GSIZE_FORMAT ": expected \"%s\", got \"%s\"",
		elen, glen, off, ex, gx);
}

gsize
mwt_body_offset(GBytes *msg)
{
	gsize len;
	const char *data = g_bytes_get_data(msg, &len);
	const char *hit = g_strstr_len(data, (gssize) len, "\r\n\r\n");

	return hit != NULL ? (gsize) (hit - data) + 4 : len;
}

char *
mwt_header(GBytes *msg, const char *name)
{
	gsize len;
	const char *data = g_bytes_get_data(msg, &len);
	g_autofree char *head = g_strndup(data, mwt_body_offset(msg));
	g_auto(GStrv) lines = g_strsplit(head, "\r\n", -1);
	gsize n = strlen(name);

	for (guint i = 0; lines[i] != NULL && lines[i][0] != '\0'; i++) {
		GString *value;
		if (g_ascii_strncasecmp(lines[i], name, n) != 0 || lines[i][n] != ':')
			continue;
		value = g_string_new(lines[i] + n + 1);
		for (guint j = i + 1;
		     lines[j] != NULL && (lines[j][0] == ' ' || lines[j][0] == '\t'); j++)
			g_string_append(value, lines[j]);
		return g_strstrip(g_string_free(value, FALSE));
	}
	return NULL;
}

gboolean
mwt_contains_all(const char *haystack, const char *needle, ...)
{
	va_list ap;
	gboolean all = TRUE;

	if (haystack == NULL)
		return FALSE;
	va_start(ap, needle);
	for (const char *n = needle; n != NULL; n = va_arg(ap, const char *))
		if (strstr(haystack, n) == NULL)
			all = FALSE;
	va_end(ap);
	return all;
}

/* find_files_into - recursive helper of mwt_find_files */
static void
find_files_into(const char *path, GPtrArray *out)
{
	g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
	const char *name;

	if (dir == NULL)
		return;
	while ((name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *child = g_build_filename(path, name, NULL);
		if (g_file_test(child, G_FILE_TEST_IS_DIR))
			find_files_into(child, out);
		else if (g_file_test(child, G_FILE_TEST_IS_REGULAR))
			g_ptr_array_add(out, g_steal_pointer(&child));
	}
}

GPtrArray *
mwt_find_files(const char *dir)
{
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

	find_files_into(dir, out);
	return out;
}
