/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	spam-test-util - helpers of the spam module's test suites
 * SYNOPSIS
 *	stu_load, stu_run, stu_delivered, stu_header, stu_note, stu_spawn,
 *	stu_stop, stu_wait_tcp, stu_free_port
 * DESCRIPTION
 *	Backends started here get PR_SET_PDEATHSIG, so even a test process
 *	killed by check's timeout does not leave them running; stu_stop()
 *	ends them by pid otherwise.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mw-pipeline.h"
#include "spam-test-util.h"

MwConfig *
stu_load(const char *dir, const char *lines, char **error_out)
{
	g_autofree char *text =
		g_strdup_printf("[mailwarden]\nhostname = mw.test\nstate_dir = %s\nmodules = spam\n"
				"local_domains = example.org\n[spam]\n%s",
				dir, lines != NULL ? lines : "");
	g_autoptr(GError) error = NULL;
	MwConfig *config = mw_config_load_data(text, NULL, &error);
	if (error_out != NULL)
		*error_out = error != NULL ? g_strdup(error->message) : NULL;
	return config;
}

MwTxn *
stu_run(MwConfig *config, const char *text, const char *sender, const char *const *rcpts,
	const char *client_addr, const char *helo)
{
	MwEnvelope *env = mw_envelope_new_simple(sender, rcpts);
	if (client_addr != NULL || helo != NULL) {
		env->xforward = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
		if (client_addr != NULL)
			g_hash_table_insert(env->xforward, g_strdup("ADDR"), g_strdup(client_addr));
		if (helo != NULL)
			g_hash_table_insert(env->xforward, g_strdup("HELO"), g_strdup(helo));
		g_hash_table_insert(env->xforward, g_strdup("IDENT"), g_strdup("4TESTQID"));
	}
	g_autoptr(MwMessage) msg = mw_message_new_from_bytes((const guint8 *) text, strlen(text));
	MwTxn *txn = mw_txn_new(config, env, msg);
	mw_pipeline_run(txn);
	return txn;
}

char *
stu_delivered(MwTxn *txn, guint n)
{
	ck_assert_uint_ge(txn->deliveries->len, n);
	MwDelivery *delivery = g_ptr_array_index(txn->deliveries, n - 1);
	ck_assert(mw_delivery_finish(delivery, NULL, NULL));
	gsize len = (gsize) mw_message_get_size(delivery->message);
	char *out = g_malloc(len + 1);
	ck_assert_int_eq(mw_message_read(delivery->message, 0, (guint8 *) out, len, NULL),
			 (gssize) len);
	out[len] = '\0';
	return out;
}

char *
stu_header(const char *text, const char *name)
{
	g_autoptr(MwMessage) msg = mw_message_new_from_bytes((const guint8 *) text, strlen(text));
	g_autoptr(GMimeMessage) mime = mw_message_parse_mime(msg, NULL);
	ck_assert_ptr_nonnull(mime);
	const char *value = g_mime_object_get_header(GMIME_OBJECT(mime), name);
	return value != NULL ? g_strdup(value) : NULL;
}

const char *
stu_note(MwTxn *txn)
{
	for (guint i = 0; i < txn->notes->len; i++) {
		const char *note = g_ptr_array_index(txn->notes, i);
		if (g_str_has_prefix(note, "spam="))
			return note + 5;
	}
	return NULL;
}

pid_t
stu_spawn(const char *const *argv, const char *log)
{
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
		setpgid(0, 0);
		execvp(argv[0], (char *const *) argv);
		_exit(127);
	}
	return pid;
}

void
stu_stop(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGTERM);
	for (int i = 0; i < 100; i++) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return;
		g_usleep(50000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

gboolean
stu_wait_tcp(guint16 port, pid_t pid, guint ms)
{
	gint64 deadline = g_get_monotonic_time() + (gint64) ms * 1000;
	while (g_get_monotonic_time() < deadline) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		gboolean ok = connect(fd, (struct sockaddr *) &sin, sizeof sin) == 0;
		close(fd);
		if (ok)
			return TRUE;
		if (pid > 0 && waitpid(pid, NULL, WNOHANG) == pid)
			return FALSE;
		g_usleep(100000);
	}
	return FALSE;
}

guint16
stu_free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = 0};
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof sin;
	/* no ck_assert: main() calls this before any test runs */
	if (fd < 0 || bind(fd, (struct sockaddr *) &sin, sizeof sin) != 0 ||
	    getsockname(fd, (struct sockaddr *) &sin, &len) != 0)
		g_error("stu_free_port: %s", g_strerror(errno));
	close(fd);
	return ntohs(sin.sin_port);
}
