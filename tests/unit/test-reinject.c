/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-reinject - unit tests for mw-reinject against a scripted fake smtpd
 *
 * SYNOPSIS
 *	test-reinject
 *
 * DESCRIPTION
 *	Each test forks a fake downstream SMTP server on 127.0.0.1 (port 0)
 *	that follows a small script (extensions, replies per stage, stalls,
 *	closing idle connections) and records, per connection, every command
 *	line (conn-N.cmds), the raw bytes (conn-N.raw), events (conn-N.log:
 *	DELIVERED, EOF in DATA, VIOLATION, ...) and each body as received,
 *	still dot-stuffed (msg-N-T). The acceptor forks one handler per
 *	connection so that several transactions can be open at once; closing
 *	the stop pipe ends it after its handlers are done.
 */

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "mw-envelope.h"
#include "mw-error.h"
#include "mw-message.h"
#include "mw-reinject.h"

#define HELO_NAME "mx.test"

/* ---- the fake downstream ---- */

/**
 * FakeScript:
 * @greeting: NULL for "220 fake.example ESMTP"
 * @ehlo: extension lines separated by '\n', NULL for none
 * @reject_ehlo: answer EHLO with 502 (the client must fall back to HELO)
 * @mail: reply to MAIL per transaction of a connection; NULL: 250
 * @rcpt: reply per recipient index (every transaction); NULL: 250
 * @data: reply to DATA when a recipient was accepted; NULL: 354
 * @dot: reply to the end of data per transaction; NULL: "250 2.0.0 Ok: queued as Q<c>T<t>"
 * @stall: go silent (until the client closes) instead of answering:
 *   "greeting", "MAIL", "DATA" or "." (the end of data)
 * @close_after: connection 0 closes right after this many transactions
 * @drop_at: connection 0 closes without a reply when transaction @drop_at
 *   (1-based) sends its first command, after writing @drop_reply if set
 * @hold_until_data: do not answer MAIL before DATA has arrived (pipelining)
 * @strict_lockstep: log VIOLATION when a command arrives before the reply
 */
typedef struct {
	const char *greeting;
	const char *ehlo;
	gboolean reject_ehlo;
	const char *mail[4];
	const char *rcpt[4];
	const char *data;
	const char *dot[4];
	const char *stall;
	guint close_after;
	guint drop_at;
	const char *drop_reply;
	gboolean hold_until_data;
	gboolean strict_lockstep;
} FakeScript;

typedef struct {
	pid_t pid;
	int stop_fd;
	char *dir;
	char *target;
} FakeServer;

/* one connection of the fake server */
typedef struct {
	const FakeScript *script;
	int fd;
	guint conn_no;
	const char *dir;
	GString *in; /* received, not yet consumed: in->str[pos ..] */
	gsize pos;
	FILE *raw;
	FILE *cmds;
	FILE *log;
} Srv;

/* srv_fill - read more input within @timeout_ms; 1 data, 0 EOF, -1 timeout */
static int
srv_fill(Srv *srv, int timeout_ms)
{
	char buf[65536];
	struct pollfd pfd = {.fd = srv->fd, .events = POLLIN};
	ssize_t n;

	if (poll(&pfd, 1, timeout_ms) <= 0)
		return -1;
	n = read(srv->fd, buf, sizeof(buf));
	if (n <= 0)
		return 0;
	fwrite(buf, 1, (size_t) n, srv->raw);
	fflush(srv->raw);
	if (srv->pos > 0 && srv->pos == srv->in->len) {
		g_string_truncate(srv->in, 0);
		srv->pos = 0;
	}
	g_string_append_len(srv->in, buf, n);
	return 1;
}

/* srv_line - the next line with its line end, NULL at EOF */
static char *
srv_line(Srv *srv)
{
	for (;;) {
		const char *start = srv->in->str + srv->pos;
		const char *lf = memchr(start, '\n', srv->in->len - srv->pos);

		if (lf != NULL) {
			gsize n = (gsize) (lf - start) + 1;

			srv->pos += n;
			return g_strndup(start, n);
		}
		if (srv_fill(srv, 20000) <= 0)
			return NULL;
	}
}

static void srv_log(Srv *srv, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* srv_log - one event line */
static void
srv_log(Srv *srv, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(srv->log, fmt, ap);
	va_end(ap);
	fputc('\n', srv->log);
	fflush(srv->log);
}

/* srv_reply - one reply (may hold several CRLF-separated lines) */
static void
srv_reply(Srv *srv, const char *text)
{
	g_autofree char *line = g_strconcat(text, "\r\n", NULL);
	gsize len = strlen(line);
	gsize off = 0;

	while (off < len) {
		ssize_t n = send(srv->fd, line + off, len - off, MSG_NOSIGNAL);

		if (n <= 0)
			return;
		off += (gsize) n;
	}
}

/* srv_stall - say nothing until the client gives up (or 20 s) */
static void
srv_stall(Srv *srv)
{
	srv_log(srv, "STALL");
	while (srv_fill(srv, 20000) > 0)
		;
}

/* srv_body - the dot-stuffed body up to (not including) ".CRLF"; NULL at EOF */
static GString *
srv_body(Srv *srv)
{
	GString *body = g_string_new(NULL);

	for (;;) {
		g_autofree char *line = srv_line(srv);

		if (line == NULL) {
			g_string_free(body, TRUE);
			return NULL;
		}
		if (strcmp(line, ".\r\n") == 0)
			return body;
		g_string_append(body, line);
	}
}

/* srv_ehlo - the EHLO reply for the script's extensions */
static char *
srv_ehlo(const FakeScript *script)
{
	g_auto(GStrv) ext = g_strsplit(script->ehlo != NULL ? script->ehlo : "", "\n", -1);
	GString *out = g_string_new("250");
	guint n = 0;

	for (guint i = 0; ext[i] != NULL; i++) {
		if (ext[i][0] != '\0')
			n++;
	}
	g_string_append(out, n > 0 ? "-fake.example" : " fake.example");
	for (guint i = 0, seen = 0; ext[i] != NULL; i++) {
		if (ext[i][0] == '\0')
			continue;
		seen++;
		g_string_append_printf(out, "\r\n250%c%s", seen == n ? ' ' : '-', ext[i]);
	}
	return g_string_free(out, FALSE);
}

/* srv_is_ok - a 2xx/3xx script reply */
static gboolean
srv_is_ok(const char *reply)
{
	return reply[0] == '2' || reply[0] == '3';
}

/* srv_data - DATA: 354, the body, the final reply; FALSE when the session ends */
static gboolean
srv_data(Srv *srv, guint txn)
{
	const FakeScript *script = srv->script;
	g_autofree char *name = NULL;
	g_autofree char *path = NULL;
	g_autofree char *queued = NULL;
	GString *body;

	srv_reply(srv, script->data != NULL ? script->data : "354 End data with <CR><LF>.<CR><LF>");
	if (script->data != NULL && !g_str_has_prefix(script->data, "354"))
		return TRUE;
	body = srv_body(srv);
	if (body == NULL) {
		srv_log(srv, "EOF in DATA %u", txn);
		return FALSE;
	}
	name = g_strdup_printf("msg-%u-%u", srv->conn_no, txn);
	path = g_build_filename(srv->dir, name, NULL);
	g_file_set_contents(path, body->str, (gssize) body->len, NULL);
	g_string_free(body, TRUE);
	if (g_strcmp0(script->stall, ".") == 0) {
		srv_stall(srv);
		return FALSE;
	}
	if (txn <= 4 && script->dot[txn - 1] != NULL) {
		srv_reply(srv, script->dot[txn - 1]);
		if (!srv_is_ok(script->dot[txn - 1]))
			return TRUE;
	} else {
		queued = g_strdup_printf("250 2.0.0 Ok: queued as Q%uT%u", srv->conn_no, txn);
		srv_reply(srv, queued);
	}
	srv_log(srv, "DELIVERED %u", txn);
	if (srv->conn_no == 0 && script->close_after == txn) {
		srv_log(srv, "CLOSED");
		return FALSE;
	}
	return TRUE;
}

/* srv_session - one SMTP session following the script */
static void
srv_session(Srv *srv)
{
	const FakeScript *script = srv->script;
	guint txn = 0;
	guint nrcpt = 0;
	guint accepted = 0;
	gboolean in_txn = FALSE;

	if (g_strcmp0(script->stall, "greeting") == 0) {
		srv_stall(srv);
		return;
	}
	srv_reply(srv, script->greeting != NULL ? script->greeting : "220 fake.example ESMTP");
	for (;;) {
		g_autofree char *line = srv_line(srv);
		g_autofree char *verb = NULL;
		gsize len;

		if (line == NULL) {
			srv_log(srv, "EOF");
			return;
		}
		len = strlen(line);
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		verb = g_ascii_strup(line, (gssize) strcspn(line, " "));
		/* the first command of transaction drop_at (EHLO does not count) */
		if (srv->conn_no == 0 && script->drop_at > 0 && !in_txn &&
		    txn + 1 == script->drop_at && strcmp(verb, "EHLO") != 0 &&
		    strcmp(verb, "HELO") != 0) {
			if (script->drop_reply != NULL)
				srv_reply(srv, script->drop_reply);
			srv_log(srv, "DROPPED");
			return;
		}
		fprintf(srv->cmds, "%s\n", line);
		fflush(srv->cmds);
		if (script->strict_lockstep && (srv->in->len > srv->pos || srv_fill(srv, 100) > 0))
			srv_log(srv, "VIOLATION after %s", verb);

		if (strcmp(verb, "EHLO") == 0) {
			g_autofree char *reply = srv_ehlo(script);

			srv_reply(srv, script->reject_ehlo
					       ? "502 5.5.2 Error: command not recognized"
					       : reply);
		} else if (strcmp(verb, "HELO") == 0) {
			srv_reply(srv, "250 fake.example");
		} else if (strcmp(verb, "XFORWARD") == 0) {
			srv_reply(srv, "250 2.0.0 Ok");
		} else if (strcmp(verb, "MAIL") == 0) {
			const char *reply = txn < 4 && script->mail[txn] != NULL ? script->mail[txn]
										 : "250 2.1.0 Ok";

			txn++;
			nrcpt = 0;
			accepted = 0;
			if (script->hold_until_data) {
				while (strstr(srv->in->str + srv->pos, "DATA\r\n") == NULL) {
					if (srv_fill(srv, 3000) <= 0) {
						srv_log(srv, "NOT PIPELINED");
						break;
					}
				}
			}
			if (g_strcmp0(script->stall, "MAIL") == 0) {
				srv_stall(srv);
				return;
			}
			in_txn = srv_is_ok(reply);
			srv_reply(srv, reply);
		} else if (strcmp(verb, "RCPT") == 0) {
			const char *reply = nrcpt < 4 && script->rcpt[nrcpt] != NULL
						    ? script->rcpt[nrcpt]
						    : "250 2.1.5 Ok";

			nrcpt++;
			if (!in_txn) {
				srv_reply(srv, "503 5.5.1 Error: need MAIL command");
				continue;
			}
			if (srv_is_ok(reply))
				accepted++;
			srv_reply(srv, reply);
		} else if (strcmp(verb, "DATA") == 0) {
			if (g_strcmp0(script->stall, "DATA") == 0) {
				srv_stall(srv);
				return;
			}
			if (!in_txn) {
				srv_reply(srv, "503 5.5.1 Error: need RCPT command");
				continue;
			}
			if (accepted == 0) {
				srv_reply(srv, "554 5.5.1 Error: no valid recipients");
				continue;
			}
			in_txn = FALSE;
			if (!srv_data(srv, txn))
				return;
		} else if (strcmp(verb, "RSET") == 0) {
			in_txn = FALSE;
			srv_reply(srv, "250 2.0.0 Ok");
		} else if (strcmp(verb, "NOOP") == 0) {
			srv_reply(srv, "250 2.0.0 Ok");
		} else if (strcmp(verb, "QUIT") == 0) {
			srv_reply(srv, "221 2.0.0 Bye");
			srv_log(srv, "QUIT");
			return;
		} else {
			srv_reply(srv, "502 5.5.2 Error: command not recognized");
		}
	}
}

/* srv_open_file - conn-N.suffix in the record folder */
static FILE *
srv_open_file(const char *dir, guint conn_no, const char *suffix)
{
	g_autofree char *name = g_strdup_printf("conn-%u.%s", conn_no, suffix);
	g_autofree char *path = g_build_filename(dir, name, NULL);

	return fopen(path, "w");
}

/* srv_handle - the forked handler of one connection */
static void
srv_handle(const FakeScript *script, int fd, guint conn_no, const char *dir)
{
	Srv srv = {.script = script, .fd = fd, .conn_no = conn_no, .dir = dir};

	srv.in = g_string_new(NULL);
	srv.raw = srv_open_file(dir, conn_no, "raw");
	srv.cmds = srv_open_file(dir, conn_no, "cmds");
	srv.log = srv_open_file(dir, conn_no, "log");
	if (srv.raw == NULL || srv.cmds == NULL || srv.log == NULL)
		_exit(2);
	srv_session(&srv);
	fclose(srv.raw);
	fclose(srv.cmds);
	fclose(srv.log);
	g_string_free(srv.in, TRUE);
	close(fd);
}

/* srv_exit - end a server process, freeing what the parent allocated for it */
static void G_GNUC_NORETURN
srv_exit(FakeServer *server, int status)
{
	g_free(server->dir);
	g_free(server->target);
	g_free(server);
	_exit(status);
}

/* srv_acceptor - accept until the stop pipe closes, one handler process each */
static void
srv_acceptor(const FakeScript *script, FakeServer *server, int lfd, int stop_fd)
{
	const char *dir = server->dir;

	guint conn_no = 0;

	for (;;) {
		struct pollfd pfds[2] = {{.fd = lfd, .events = POLLIN},
					 {.fd = stop_fd, .events = POLLIN}};

		if (poll(pfds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfds[0].revents & POLLIN) {
			int fd = accept(lfd, NULL, NULL);
			pid_t pid;

			if (fd < 0)
				continue;
			pid = fork();
			if (pid == 0) {
				close(lfd);
				close(stop_fd);
				srv_handle(script, fd, conn_no, dir);
				srv_exit(server, 0);
			}
			close(fd);
			conn_no++;
			continue;
		}
		if (pfds[1].revents != 0)
			break;
	}
	close(lfd);
	close(stop_fd);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
}

/* fake_start - fork the fake downstream */
static FakeServer *
fake_start(const FakeScript *script)
{
	FakeServer *server = g_new0(FakeServer, 1);
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	int stop[2];
	int lfd;

	server->dir = g_dir_make_tmp("mw-reinject-XXXXXX", NULL);
	ck_assert_ptr_nonnull(server->dir);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(lfd, 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *) &sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(lfd, 16), 0);
	ck_assert_int_eq(getsockname(lfd, (struct sockaddr *) &sin, &len), 0);
	server->target = g_strdup_printf("127.0.0.1:%u", ntohs(sin.sin_port));
	ck_assert_int_eq(pipe2(stop, O_CLOEXEC), 0);

	server->pid = fork();
	ck_assert_int_ge(server->pid, 0);
	if (server->pid == 0) {
		long max = MIN(sysconf(_SC_OPEN_MAX), 65536);

		setpgid(0, 0);
		/* nothing inherited (another server's stop pipe) may keep anything open */
		for (int fd = 3; fd < max; fd++) {
			if (fd != lfd && fd != stop[0])
				close(fd);
		}
		srv_acceptor(script, server, lfd, stop[0]);
		srv_exit(server, 0);
	}
	setpgid(server->pid, server->pid);
	close(lfd);
	close(stop[0]);
	server->stop_fd = stop[1];
	return server;
}

/* fake_finish - stop accepting and wait for every handler (kill after 15 s) */
static void
fake_finish(FakeServer *server)
{
	gint64 deadline = g_get_monotonic_time() + 15 * G_USEC_PER_SEC;

	if (server->stop_fd < 0)
		return;
	close(server->stop_fd);
	server->stop_fd = -1;
	while (waitpid(server->pid, NULL, WNOHANG) == 0) {
		if (g_get_monotonic_time() > deadline) {
			kill(-server->pid, SIGKILL);
			waitpid(server->pid, NULL, 0);
			break;
		}
		g_usleep(5000);
	}
}

/* fake_free - stop the server and remove its records */
static void
fake_free(FakeServer *server)
{
	const char *name;
	GDir *dir;

	fake_finish(server);
	dir = g_dir_open(server->dir, 0, NULL);
	while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *path = g_build_filename(server->dir, name, NULL);

		g_unlink(path);
	}
	if (dir != NULL)
		g_dir_close(dir);
	g_rmdir(server->dir);
	g_free(server->dir);
	g_free(server->target);
	g_free(server);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(FakeServer, fake_free)

/* fake_file - contents of a record file, "" if missing */
static char *fake_file(FakeServer *server, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static char *
fake_file(FakeServer *server, const char *fmt, ...)
{
	g_autofree char *name = NULL;
	g_autofree char *path = NULL;
	char *contents = NULL;
	va_list ap;

	va_start(ap, fmt);
	name = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	path = g_build_filename(server->dir, name, NULL);
	if (!g_file_get_contents(path, &contents, NULL, NULL))
		return g_strdup("");
	return contents;
}

/* fake_has_file - whether a record file exists */
static gboolean
fake_has_file(FakeServer *server, const char *name)
{
	g_autofree char *path = g_build_filename(server->dir, name, NULL);

	return g_file_test(path, G_FILE_TEST_EXISTS);
}

/* fake_conns - how many connections were accepted */
static guint
fake_conns(FakeServer *server)
{
	guint n = 0;

	for (;; n++) {
		g_autofree char *name = g_strdup_printf("conn-%u.cmds", n);

		if (!fake_has_file(server, name))
			return n;
	}
}

/* ---- client-side helpers ---- */

/* add_param - append KEY[=value] */
static void
add_param(GPtrArray *params, const char *keyword, const char *value)
{
	MwSmtpParam *param = g_new0(MwSmtpParam, 1);

	param->keyword = g_strdup(keyword);
	param->value = g_strdup(value);
	g_ptr_array_add(params, param);
}

/* make_env - an envelope without parameters */
static MwEnvelope *
make_env(const char *sender, const char *rcpt1, const char *rcpt2, const char *rcpt3)
{
	const char *const rcpts[] = {rcpt1, rcpt2, rcpt3, NULL};

	return mw_envelope_new_simple(sender, rcpts);
}

/* set_xforward - set an XFORWARD attribute */
static void
set_xforward(MwEnvelope *env, const char *name, const char *value)
{
	if (env->xforward == NULL)
		env->xforward = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_hash_table_replace(env->xforward, g_strdup(name), g_strdup(value));
}

/* make_msg - a message from a string */
static MwMessage *
make_msg(const char *text)
{
	return mw_message_new_from_bytes((const guint8 *) text, strlen(text));
}

/* unstuff - remove one leading dot per line (lines split at LF) */
static char *
unstuff(const char *stuffed)
{
	GString *out = g_string_new(NULL);
	gboolean line_start = TRUE;

	for (const char *p = stuffed; *p != '\0'; p++) {
		if (!(line_start && *p == '.'))
			g_string_append_c(out, *p);
		line_start = *p == '\n';
	}
	return g_string_free(out, FALSE);
}

/* deliver_one - prepare + commit one message, expecting success */
static void
deliver_one(MwReinjector *reinjector, const MwEnvelope *env, MwMessage *msg, const char *queued_as)
{
	g_autoptr(GError) error = NULL;
	MwOutgoing out;

	mw_outgoing_init(&out, env, msg);
	ck_assert_msg(mw_reinject_one(reinjector, &out, &error), "%s",
		      error != NULL ? error->message : "?");
	ck_assert_int_eq(out.reply_code, 250);
	if (queued_as != NULL)
		ck_assert_str_eq(out.queued_as, queued_as);
	mw_outgoing_clear(&out);
}

static const char simple_msg[] = "From: a@example.org\r\nSubject: hi\r\n\r\nHello.\r\n";

/* ---- tests ---- */

START_TEST(test_plain_lockstep)
{
	FakeScript script = {.ehlo = "8BITMIME\nENHANCEDSTATUSCODES", .strict_lockstep = TRUE};
	g_autoptr(FakeServer) server = fake_start(&script);
	MwReinjector *reinjector = mw_reinjector_new(server->target, HELO_NAME, 5);
	g_autoptr(MwEnvelope) env = make_env("a@example.org", "b@example.org", NULL, NULL);
	static const char text[] = "Subject: dots\r\n\r\n.leading dot\r\n..two\r\n.\r\n"
				   "x.\r\n.\r\nend\r\n";
	g_autoptr(MwMessage) msg = make_msg(text);
	g_autoptr(GError) error = NULL;
	g_autofree char *cmds = NULL;
	g_autofree char *body = NULL;
	g_autofree char *log = NULL;
	g_autofree char *plain = NULL;
	MwOutgoing out;

	/* XFORWARD attributes are not sent when the downstream does not offer XFORWARD */
	set_xforward(env, "ADDR", "192.0.2.1");
	mw_outgoing_init(&out, env, msg);
	ck_assert_msg(mw_reinject_prepare(reinjector, &out, &error), "%s", error->message);
	ck_assert_int_eq(out.reply_code, 354);
	ck_assert_int_eq(g_array_index(out.rcpt_codes, int, 0), 250);
	ck_assert_str_eq(g_ptr_array_index(out.rcpt_replies, 0), "250 2.1.5 Ok");
	ck_assert(mw_reinject_commit(reinjector, &out, &error));
	ck_assert_int_eq(out.reply_code, 250);
	ck_assert_str_eq(out.reply, "250 2.0.0 Ok: queued as Q0T1");
	ck_assert_str_eq(out.queued_as, "Q0T1");
	mw_outgoing_clear(&out);
	mw_reinjector_free(reinjector);
	fake_finish(server);

	cmds = fake_file(server, "conn-0.cmds");
	ck_assert_str_eq(cmds, "EHLO mx.test\nMAIL FROM:<a@example.org>\nRCPT TO:<b@example.org>\n"
			       "DATA\nQUIT\n");
	body = fake_file(server, "msg-0-1");
	ck_assert_str_eq(body, "Subject: dots\r\n\r\n..leading dot\r\n...two\r\n..\r\n"
			       "x.\r\n..\r\nend\r\n");
	plain = unstuff(body);
	ck_assert_str_eq(plain, text);
	log = fake_file(server, "conn-0.log");
	ck_assert_msg(strstr(log, "VIOLATION") == NULL, "%s", log);
	ck_assert_ptr_nonnull(strstr(log, "DELIVERED 1"));
}
END_TEST

START_TEST(test_body_without_final_crlf)
{
	FakeScript script = {0};
	g_autoptr(FakeServer) server = fake_start(&script);
	MwReinjector *reinjector = mw_reinjector_new(server->target, HELO_NAME, 5);
	g_autoptr(MwEnvelope) env = make_env("", "b@example.org", NULL, NULL);
	g_autoptr(MwMessage) msg = make_msg("Subject: x\r\n\r\nno newline");
	g_autofree char *body = NULL;
	g_autofree char *cmds = NULL;

	deliver_one(reinjector, env, msg, "Q0T1");
	mw_reinjector_free(reinjector);
	fake_finish(server);
	body = fake_file(server, "msg-0-1");
	ck_assert_str_eq(body, "Subject: x\r\n\r\nno newline\r\n");
	cmds = fake_file(server, "conn-0.cmds");
	ck_assert_ptr_nonnull(strstr(cmds, "MAIL FROM:<>\n"));
}
END_TEST

START_TEST(test_large_spooled_message)
{
	FakeScript script = {.ehlo = "PIPELINING\nSIZE"};
	g_autoptr(FakeServer) server = fake_start(&script);
	MwReinjector *reinjector = mw_reinjector_new(server->target, HELO_NAME, 5);
	g_autoptr(MwEnvelope) env = make_env("a@example.org", "b@example.org", NULL, NULL);
	g_autoptr(MwMessage) msg = mw_message_new(NULL, 4096);
	g_autoptr(GString) text = g_string_new("Subject: big\r\n\r\n");
	g_autofree char *body = NULL;
	g_autofree char *plain = NULL;
	g_autofree char *cmds = NULL;
	g_autofree char *mail = NULL;

	for (guint i = 0; text->len < 300 * 1024; i++)
		g_string_append_printf(text, "%s line %u with some text to make it longer\r\n",
				       i % 7 == 0 ? "." : "", i);
	ck_assert(mw_message_append(msg, (const guint8 *) text->str, text->len, NULL));
	ck_assert(mw_message_seal(msg, NULL));
	deliver_one(reinjector, env, msg, NULL);
	mw_reinjector_free(reinjector);
	fake_finish(server);
	body = fake_file(server, "msg-0-1");
	plain = unstuff(body);
	ck_assert_uint_eq(strlen(plain), text->len);
	ck_assert(strcmp(plain, text->str) == 0);
	cmds = fake_file(server, "conn-0.cmds");
	mail = g_strdup_printf("MAIL FROM:<a@example.org> SIZE=%" G_GSIZE_FORMAT "\n", text->len);
	ck_assert_msg(strstr(cmds, mail) != NULL, "%s", cmds);
}
END_TEST

START_TEST(test_pipelining)
{
	FakeScript script = {.ehlo = "PIPELINING\nSIZE 1000000\nXFORWARD NAME ADDR",
			     .hold_until_data = TRUE};
	g_autoptr(FakeServer) server = fake_start(&script);
	MwReinjector *reinjector = mw_reinjector_new(server->target, HELO_NAME, 5);
	g_autoptr(MwEnvelope) env =
		make_env("a@example.org", "b@example.org", "c@example.org", NULL);
	g_autoptr(MwMessage) msg = make_msg(simple_msg);
	g_autofree char *cmds = NULL;
	g_autofree char *log = NULL;
	g_autofree char *expected = NULL;

	set_xforward(env, "ADDR", "192.0.2.1");
	deliver_one(reinjector, env, msg, "Q0T1");
	mw_reinjector_free(reinjector);
	fake_finish(server);
	log = fake_file(server, "conn-0.log");
	ck_assert_msg(strstr(log, "NOT PIPELINED") == NULL, "%s", log);
	ck_assert_ptr_nonnull(strstr(log, "DELIVERED 1"));
	cmds = fake_file(server, "conn-0.cmds");
	expected = g_strdup_printf("EHLO mx.test\nXFORWARD ADDR=192.0.2.1\n"
				   "MAIL FROM:<a@example.org> SIZE=%zu\n"
				   "RCPT TO:<b@example.org>\nRCPT TO:<c@example.org>\nDATA\nQUIT\n",
				   strlen(simple_msg));
	ck_assert_str_eq(cmds, expected);
}
END_TEST

START_TEST(test_xforward_announced_only)
{
	FakeScript script = {.ehlo = "XFORWARD NAME ADDR HELO IDENT"};
	g_autoptr(FakeServer) server = fake_start(&script);
	MwReinjector *reinjector = mw_reinjector_new(server->target, HELO_NAME, 5);
	g_autoptr(MwEnvelope) env = make_env("a@example.org", "b@example.org", NULL, NULL);
	g_autoptr(MwMessage) msg = make_msg(simple_msg);
	g_autofree char *cmds = NULL;

	set_xforward(env, "NAME", "mail.example.net");
	set_xforward(env, "ADDR", "IPV6:2001:db8::1");
	set_xforward(env, "PORT", "4711");
	set_xforward(env, "PROTO", "ESMTP");
	set_xforward(env, "HELO", "evil <helo> +x=\"y\"\001");
	set_xforward(env, "IDENT", "[unavailable]");
	deliver_one(reinjector, env, msg, "Q0T1");
	mw_reinjector_free(reinjector);
	fake_finish(server);
	cmds = fake_file(server, "conn-0.cmds");
	ck_assert_str_eq(cmds, "EHLO mx.test\nXFORWARD NAME=mail.example.net ADDR=IPV6:2001:db8::1 "
			       "HELO=evil??helo??+2Bx+3D?y?? IDENT=[UNAVAILABLE]\n"
			       "MAIL FROM:<a@example.org>\nRCPT TO:<b@example.org>\nDATA\nQUIT\n");
}
END_TEST

START_TEST(test_xforward_split_and_truncated)
{
	FakeScript script = {.ehlo = "PIPELINING\nXFORWARD NAME ADDR PORT PROTO HELO IDENT SOURCE"};
	g_autoptr(FakeServer) server = fake_start(&script);
	MwReinjector *reinjector = mw_reinjector_new(server->target, HELO_NAME, 5);
	g_autoptr(MwEnvelope) env = make_env("a@example.org", "b@example.org", NULL, NULL);
	g_autoptr(MwMessage) msg = make_msg(simple_msg);
	g_autofree char *cmds = NULL;
	g_autofree char *name = g_strnfill(300, 'n');
	g_autofree char *helo = g_strnfill(300, 'h');
	g_autofree char *ident = g_strnfill(300, 'i');
	g_auto(GStrv) lines = NULL;
	guint nx = 0;
	GString *attrs = g_string_new(NULL);

	/* a '+' whose escape would cross the 255-byte limit is dropped whole */
	memcpy(helo + 253, "+", 1);
	set_xforward(env, "NAME", name);
	set_xforward(env, "HELO", helo);
	set_xforward(env, "IDENT", ident);
	set_xforward(env, "SOURCE", "REMOTE");
	deliver_one(reinjector, env, msg, "Q0T1");
	mw_reinjector_free(reinjector);
	fake_finish(server);
	cmds = fake_file(server, "conn-0.cmds");
	lines = g_strsplit(cmds, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		if (!g_str_has_prefix(lines[i], "XFORWARD "))
			continue;
		nx++;
		ck_assert_uint_le(strlen(lines[i]) + 2, 512);
		g_string_append(attrs, lines[i] + strlen("XFORWARD"));
	}
	ck_assert_uint_eq(nx, 3);
	{
		g_autofree char *n255 = g_strnfill(255, 'n');
		g_autofree char *h253 = g_strnfill(253, 'h');
		g_autofree char *i255 = g_strnfill(255, 'i');
		g_autofree char *expected = g_strdup_printf(
			" NAME=%s HELO=%s IDENT=%s SOURCE=REMOTE", n255, h253, i255);

		ck_assert_str_eq(attrs->str, expected);
	}
	g_string_free(attrs, TRUE);
}
END_TEST

/* env_with_params - SIZE/BODY/RET/ENVID on MAIL, NOTIFY/ORCPT on RCPT */
static MwEnvelope *
env_with_params(void)
{
	MwEnvelope *env = mw_envelope_new("a@example.org");
	GPtrArray *params = mw_param_array_new();

	add_param(env->mail_params, "SIZE", "1");
	add_param(env->mail_params, "BODY", "8BITMIME");
	add_param(env->mail_params, "RET", "HDRS");
	add_param(env->mail_params, "ENVID", "abc+2Bd");
	add_param(params, "NOTIFY", "SUCCESS,FAILURE");
	add_param(params, "ORCPT", "rfc822;b@example.org");
	mw_envelope_add_rcpt(env, mw_recipient_new("b@example.org", params));
	return env;
}

START_TEST(test_params_not_offered)
{
	FakeScript script = {.ehlo = "ENHANCEDSTATUSCODES"};
	g_autoptr(FakeServer) server = fake_start(&script);
	MwReinjector *reinjector = mw_reinjector_new(server->target, HELO_NAME, 5);
	g_autoptr(MwEnvelope) env = env_with_params();
	g_autoptr(MwMessage) msg = make_msg(simple_msg);
	g_autofree char *cmds = NULL;

	deliver_one(reinjector, env, msg, "Q0T1");
	mw_reinjector_free(reinjector);
	fake_finish(server);
	cmds = fake_file(server, "conn-0.cmds");
	ck_assert_str_eq(cmds, "EHLO mx.test\nMAIL FROM:<a@example.org>\nRCPT TO:<b@example.org>\n"
			       "DATA\nQUIT\n");
}
END_TEST

START_TEST(test_params_offered)
{
	FakeScript script = {.ehlo = "SIZE 10240000\n8BITMIME\nDSN\nSMTPUTF8"};
	g_autoptr(FakeServer) server = fake_start(&script);
	MwReinjector *reinjector = mw_reinjector_new(server->target, HELO_NAME, 5);
	g_autoptr(MwEnvelope) env = env_with_params();
	g_autoptr(MwMessage) msg = make_msg(simple_msg);
	g_autofree char *cmds = NULL;
	g_autofree char *expected = NULL;

	deliver_one(reinjector, env, msg, "Q0T1");
	mw_reinjector_free(reinjector);
	fake_finish(server);
	cmds = fake_file(server, "conn-0.cmds");
	/* SIZE is the real size, not the declared 1 */
	expected = g_strdup_printf(
		"EHLO mx.test\nMAIL FROM:<a@example.org> SIZE=%zu BODY=8BITMIME RET=HDRS "
		"ENVID=abc+2Bd\nRCPT TO:<b@example.org> NOTIFY=SUCCESS,FAILURE "
		"ORCPT=rfc822;b@example.org\nDATA\nQUIT\n",
		strlen(simple_msg));
	ck_assert_str_eq(cmds, expected);
}
END_TEST

START_TEST(test_smtputf8)
{
	FakeScript without = {.ehlo = "8BITMIME"};
	FakeScript with = {.ehlo = "8BITMIME\nSMTPUTF8"};
	g_autoptr(FakeServer) server = fake_start(&without);
	g_autoptr(FakeServer) server2 = fake_start(&with);
	MwReinjector *reinjector = mw_reinjector_new(server->target, HELO_NAME, 5);
	MwReinjector *reinjector2 = mw_reinjector_new(server2->target, HELO_NAME, 5);
	g_autoptr(MwEnvelope) utf8 =
		make_env("j\xc3\xb6rg@example.org", "b@example.org", NULL, NULL);
	g_autoptr(MwEnvelope) ascii = make_env("a@example.org", "b@example.org", NULL, NULL);
	g_autoptr(MwEnvelope) generated =
		make_env("a@example.org", "b\xc3\xbc@example.org", NULL, NULL);
	g_autoptr(MwMessage) msg = make_msg(simple_msg);
	g_autoptr(GError) error = NULL;
	g_autofree char *cmds = NULL;
	g_autofree char *cmds2 = NULL;
	MwOutgoing out;

	add_param(utf8->mail_params, "SMTPUTF8", NULL);
	add_param(ascii->mail_params, "SMTPUTF8", NULL);

	/* needed and not offered: 553 5.6.7, permanent */
	mw_outgoing_init(&out, utf8, msg);
	ck_assert(!mw_reinject_prepare(reinjector, &out, &error));
	ck_assert(g_error_matches(error, MW_ERROR, MW_ERROR_PERMANENT));
	ck_assert_msg(strstr(error->message, "553 5.6.7") != NULL, "%s", error->message);
	mw_outgoing_clear(&out);
	/* flagged but not needed: the flag is dropped (same connection, nothing was sent) */
	deliver_one(reinjector, ascii, msg, "Q0T1");
	mw_reinjector_free(reinjector);
	fake_finish(server);
	cmds = fake_file(server, "conn-0.cmds");
	ck_assert_str_eq(cmds, "EHLO mx.test\nMAIL FROM:<a@example.org>\nRCPT TO:<b@example.org>\n"
			       "DATA\nQUIT\n");
	ck_assert_uint_eq(fake_conns(server), 1);

	deliver_one(reinjector2, utf8, msg, "Q0T1");
	/* a generated message to a UTF-8 address gets SMTPUTF8 when it is offered */
	deliver_one(reinjector2, generated, msg, "Q0T2");
	mw_reinjector_free(reinjector2);
	fake_finish(server2);
	cmds2 = fake_file(server2, "conn-0.cmds");
	ck_assert_str_eq(cmds2, "EHLO mx.test\nMAIL FROM:<j\xc3\xb6rg@example.org> SMTPUTF8\n"
				"RCPT TO:<b@example.org>\nDATA\n"
				"MAIL FROM:<a@example.org> SMTPUTF8\n"
				"RCPT TO:<b\xc3\xbc@example.org>\nDATA\nQUIT\n");
}
END_TEST

START_TEST(test_helo_fallback)
{
	FakeScript script = {.ehlo = "PIPELINING\nSIZE\nDSN\n8BITMIME",
			     .reject_ehlo = TRUE,
			     .strict_lockstep = TRUE};
	g_autoptr(FakeServer) server = fake_start(&script);
	MwReinjector *reinjector = mw_reinjector_new(server->target, HELO_NAME, 5);
	g_autoptr(MwEnvelope) env = env_with_params();
	g_autoptr(MwMessage) msg = make_msg(simple_msg);
	g_autofree char *cmds = NULL;
	g_autofree char *log = NULL;

	deliver_one(reinjector, env, msg, "Q0T1");
	mw_reinjector_free(reinjector);
	fake_finish(server);
	cmds = fake_file(server, "conn-0.cmds");
	ck_assert_str_eq(cmds, "EHLO mx.test\nHELO mx.test\nMAIL FROM:<a@example.org>\n"
			       "RCPT TO:<b@example.org>\nDATA\nQUIT\n");
	log = fake_file(server, "conn-0.log");
	ck_assert_msg(strstr(log, "VIOLATION") == NULL, "%s", log);
}
END_TEST

/* refusals at each stage; every case runs pipelined and in lockstep */
static const struct {
	const char *stage; /* greeting, mail, rcpt, data, dot */
	const char *reply;
	MwErrorCode code;
	const char *message; /* after "downstream TARGET " */
} refusal_cases[] = {
	{"greeting", "421 4.3.2 busy", MW_ERROR_TEMPORARY, "refused connection: 421 4.3.2 busy"},
	{"greeting", "554 5.3.2 go away", MW_ERROR_PERMANENT,
	 "refused connection: 554 5.3.2 go away"},
	{"mail", "451 4.3.0 try later", MW_ERROR_TEMPORARY, "refused MAIL: 451 4.3.0 try later"},
	{"mail", "550-5.7.1 first\r\n550 5.7.1 second", MW_ERROR_PERMANENT,
	 "refused MAIL: 550 5.7.1 first 5.7.1 second"},
	{"rcpt", "451 4.3.0 try later", MW_ERROR_TEMPORARY, "refused RCPT: 451 4.3.0 try later"},
	{"rcpt", "550 5.1.1 unknown", MW_ERROR_PERMANENT,
	 "refused all recipients: 550 5.1.1 unknown"},
	{"data", "451 4.3.0 busy", MW_ERROR_TEMPORARY, "refused DATA: 451 4.3.0 busy"},
	{"data", "554 5.5.1 no", MW_ERROR_PERMANENT, "refused DATA: 554 5.5.1 no"},
	{"dot", "451 4.3.0 later", MW_ERROR_TEMPORARY, "refused end of data: 451 4.3.0 later"},
	{"dot", "554 5.7.1 spam", MW_ERROR_PERMANENT, "refused end of data: 554 5.7.1 spam"},
};

START_TEST(test_refusals)
{
	guint c = (guint) _i / 2;
	gboolean pipelining = _i % 2 == 1;
	FakeScript script = {.ehlo = pipelining ? "PIPELINING" : "SIZE"};
	g_autoptr(FakeServer) server = NULL;
	MwReinjector *reinjector;
	g_autoptr(MwEnvelope) env = make_env("a@example.org", "b@example.org", NULL, NULL);
	g_autoptr(MwMessage) msg = make_msg(simple_msg);
	g_autoptr(GError) error = NULL;
	g_autofree char *expected = NULL;
	const char *stage = refusal_cases[c].stage;
	gboolean prepared;
	MwOutgoing out;

	if (strcmp(stage, "greeting") == 0)
		script.greeting = refusal_cases[c].reply;
	else if (strcmp(stage, "mail") == 0)
		script.mail[0] = refusal_cases[c].reply;
	else if (strcmp(stage, "rcpt") == 0)
		script.rcpt[0] = refusal_cases[c].reply;
	else if (strcmp(stage, "data") == 0)
		script.data = refusal_cases[c].reply;
	else
		script.dot[0] = refusal_cases[c].reply;
	server = fake_start(&script);
	reinjector = mw_reinjector_new(server->target, HELO_NAME, 5);

	mw_outgoing_init(&out, env, msg);
	prepared = mw_reinject_prepare(reinjector, &out, &error);
	if (strcmp(stage, "dot") == 0) {
		ck_assert_msg(prepared, "%s", error->message);
		ck_assert(!mw_reinject_commit(reinjector, &out, &error));
	} else {
		ck_assert(!prepared);
		ck_assert_ptr_null(out.conn);
	}
	ck_assert_ptr_nonnull(error);
	ck_assert_msg(g_error_matches(error, MW_ERROR, refusal_cases[c].code), "%s (%d)",
		      error->message, error->code);
	expected = g_strdup_printf("downstream %s %s", server->target, refusal_cases[c].message);
	ck_assert_str_eq(error->message, expected);
	if (strcmp(stage, "greeting") != 0)
		ck_assert_int_eq(out.reply_code, atoi(refusal_cases[c].reply));
	mw_outgoing_clear(&out);
	mw_reinjector_free(reinjector);
	fake_finish(server);
	/* nothing was delivered */
	{
		g_autofree char *log = fake_file(server, "conn-0.log");

		ck_assert_msg(strstr(log, "DELIVERED") == NULL, "%s", log);
	}
}
END_TEST

START_TEST(test_partial_rcpt)
{
	FakeScript script = {.ehlo = _i == 1 ? "PIPELINING" : "",
			     .rcpt = {NULL, "550 5.1.1 <c@example.org>: unknown user"}};
	g_autoptr(FakeServer) server = fake_start(&script);
	MwReinjector *reinjector = mw_reinjector_new(server->target, HELO_NAME, 5);
	g_autoptr(MwEnvelope) env =
		make_env("a@example.org", "b@example.org", "c@example.org", "d@example.org");
	g_autoptr(MwMessage) msg = make_msg(simple_msg);
	g_autoptr(GError) error = NULL;
	g_autofree char *log = NULL;
	MwOutgoing out;

	mw_outgoing_init(&out, env, msg);
	ck_assert_msg(mw_reinject_prepare(reinjector, &out, &error), "%s", error->message);
	ck_assert_uint_eq(out.rcpt_codes->len, 3);
	ck_assert_int_eq(g_array_index(out.rcpt_codes, int, 0), 250);
	ck_assert_int_eq(g_array_index(out.rcpt_codes, int, 1), 550);
	ck_assert_int_eq(g_array_index(out.rcpt_codes, int, 2), 250);
	ck_assert_str_eq(g_ptr_array_index(out.rcpt_replies, 1),
			 "550 5.1.1 <c@example.org>: unknown user");
	ck_assert(mw_reinject_commit(reinjector, &out, &error));
	mw_outgoing_clear(&out);
	mw_reinjector_free(reinjector);
	fake_finish(server);
	log = fake_file(server, "conn-0.log");
	ck_assert_ptr_nonnull(strstr(log, "DELIVERED 1"));
}
END_TEST

START_TEST(test_all_rcpt_refused)
{
	gboolean pipelining = _i == 1;
	FakeScript script = {.ehlo = pipelining ? "PIPELINING" : "",
			     .rcpt = {"550 5.1.1 no such user", "553 5.1.3 bad address"}};
	g_autoptr(FakeServer) server = fake_start(&script);
	MwReinjector *reinjector = mw_reinjector_new(server->target, HELO_NAME, 5);
	g_autoptr(MwEnvelope) env =
		make_env("a@example.org", "b@example.org", "c@example.org", NULL);
	g_autoptr(MwMessage) msg = make_msg(simple_msg);
	g_autoptr(GError) error = NULL;
	g_autofree char *cmds = NULL;
	g_autofree char *expected = NULL;
	MwOutgoing out;

	mw_outgoing_init(&out, env, msg);
	ck_assert(!mw_reinject_prepare(reinjector, &out, &error));
	ck_assert(g_error_matches(error, MW_ERROR, MW_ERROR_PERMANENT));
	expected = g_strdup_printf("downstream %s refused all recipients: 553 5.1.3 bad address",
				   server->target);
	ck_assert_str_eq(error->message, expected);
	ck_assert_int_eq(g_array_index(out.rcpt_codes, int, 0), 550);
	ck_assert_int_eq(g_array_index(out.rcpt_codes, int, 1), 553);
	mw_outgoing_clear(&out);

	/* the connection was RSET and serves the next message (the third recipient is accepted) */
	{
		g_autoptr(MwEnvelope) env3 = make_env("a@example.org", "b@example.org",
						      "c@example.org", "d@example.org");

		deliver_one(reinjector, env3, msg, NULL);
	}
	mw_reinjector_free(reinjector);
	fake_finish(server);
	ck_assert_uint_eq(fake_conns(server), 1);
	cmds = fake_file(server, "conn-0.cmds");
	if (pipelining)
		ck_assert_ptr_nonnull(strstr(cmds, "RCPT TO:<c@example.org>\nDATA\nRSET\n"));
	else
		ck_assert_ptr_nonnull(strstr(cmds, "RCPT TO:<c@example.org>\nRSET\n"));
}
END_TEST

START_TEST(test_rcpt_mixed_refusals)
{
	FakeScript script = {.ehlo = _i == 1 ? "PIPELINING" : "",
			     .rcpt = {"550 5.1.1 no such user", "452 4.2.2 mailbox full"}};
	g_autoptr(FakeServer) server = fake_start(&script);
	MwReinjector *reinjector = mw_reinjector_new(server->target, HELO_NAME, 5);
	g_autoptr(MwEnvelope) env =
		make_env("a@example.org", "b@example.org", "c@example.org", "d@example.org");
	g_autoptr(MwMessage) msg = make_msg(simple_msg);
	g_autoptr(GError) error = NULL;
	g_autofree char *log = NULL;
	MwOutgoing out;

	mw_outgoing_init(&out, env, msg);
	ck_assert(!mw_reinject_prepare(reinjector, &out, &error));
	ck_assert(g_error_matches(error, MW_ERROR, MW_ERROR_TEMPORARY));
	ck_assert_ptr_nonnull(strstr(error->message, "refused RCPT: 452 4.2.2 mailbox full"));
	mw_outgoing_clear(&out);
	mw_reinjector_free(reinjector);
	fake_finish(server);
	log = fake_file(server, "conn-0.log");
	ck_assert_msg(strstr(log, "DELIVERED") == NULL, "%s", log);
}
END_TEST

START_TEST(test_rset_after_failure)
{
	FakeScript script = {.ehlo = "PIPELINING", .mail = {"550 5.7.1 sender blocked"}};
	g_autoptr(FakeServer) server = fake_start(&script);
	MwReinjector *reinjector = mw_reinjector_new(server->target, HELO_NAME, 5);
	g_autoptr(MwEnvelope) env = make_env("a@example.org", "b@example.org", NULL, NULL);
	g_autoptr(MwMessage) msg = make_msg(simple_msg);
	g_autoptr(GError) error = NULL;
	g_autofree char *cmds = NULL;
	MwOutgoing out;

	mw_outgoing_init(&out, env, msg);
	ck_assert(!mw_reinject_prepare(reinjector, &out, &error));
	ck_assert(g_error_matches(error, MW_ERROR, MW_ERROR_PERMANENT));
	mw_outgoing_clear(&out);
	deliver_one(reinjector, env, msg, "Q0T2");
	mw_reinjector_free(reinjector);
	fake_finish(server);
	ck_assert_uint_eq(fake_conns(server), 1);
	cmds = fake_file(server, "conn-0.cmds");
	ck_assert_str_eq(cmds, "EHLO mx.test\nMAIL FROM:<a@example.org>\nRCPT TO:<b@example.org>\n"
			       "DATA\nRSET\nMAIL FROM:<a@example.org>\nRCPT TO:<b@example.org>\n"
			       "DATA\nQUIT\n");
}
END_TEST

START_TEST(test_connection_refused)
{
	g_autoptr(MwEnvelope) env = make_env("a@example.org", "b@example.org", NULL, NULL);
	g_autoptr(MwMessage) msg = make_msg(simple_msg);
	g_autoptr(GError) error = NULL;
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof(sin);
	g_autofree char *target = NULL;
	g_autofree char *expected = NULL;
	MwReinjector *reinjector;
	MwOutgoing out;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	/* a port nobody listens on */
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *) &sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *) &sin, &len), 0);
	close(fd);
	target = g_strdup_printf("127.0.0.1:%u", ntohs(sin.sin_port));
	reinjector = mw_reinjector_new(target, HELO_NAME, 2);
	mw_outgoing_init(&out, env, msg);
	ck_assert(!mw_reinject_prepare(reinjector, &out, &error));
	ck_assert(g_error_matches(error, MW_ERROR, MW_ERROR_TEMPORARY));
	expected = g_strdup_printf("downstream %s: connection refused", target);
	ck_assert_str_eq(error->message, expected);
	mw_outgoing_clear(&out);
	mw_reinjector_free(reinjector);
}
END_TEST

static const struct {
	const char *stall;
	const char *when;
} stall_cases[] = {
	{"greeting", "timeout waiting for greeting"},
	{"MAIL", "timeout after MAIL"},
	{"DATA", "timeout after DATA"},
	{".", "timeout after end of data"},
};

START_TEST(test_timeout)
{
	FakeScript script = {.stall = stall_cases[_i].stall};
	g_autoptr(FakeServer) server = fake_start(&script);
	MwReinjector *reinjector = mw_reinjector_new(server->target, HELO_NAME, 1);
	g_autoptr(MwEnvelope) env = make_env("a@example.org", "b@example.org", NULL, NULL);
	g_autoptr(MwMessage) msg = make_msg(simple_msg);
	g_autoptr(GError) error = NULL;
	g_autofree char *expected = NULL;
	gint64 start = g_get_monotonic_time();
	gint64 elapsed;
	MwOutgoing out;

	mw_outgoing_init(&out, env, msg);
	ck_assert(!mw_reinject_one(reinjector, &out, &error));
	elapsed = g_get_monotonic_time() - start;
	ck_assert(g_error_matches(error, MW_ERROR, MW_ERROR_TEMPORARY));
	expected = g_strdup_printf("downstream %s: %s", server->target, stall_cases[_i].when);
	ck_assert_str_eq(error->message, expected);
	ck_assert_int_lt(elapsed, 3 * G_USEC_PER_SEC);
	ck_assert_ptr_null(out.conn);
	mw_outgoing_clear(&out);
	mw_reinjector_free(reinjector);
	fake_finish(server);
	/* the stalled server saw the connection close */
	{
		g_autofree char *log = fake_file(server, "conn-0.log");

		ck_assert_ptr_nonnull(strstr(log, "STALL"));
		ck_assert_ptr_null(strstr(log, "DELIVERED"));
	}
}
END_TEST

START_TEST(test_pool_reuse)
{
	FakeScript script = {.ehlo = _i == 1 ? "PIPELINING" : ""};
	g_autoptr(FakeServer) server = fake_start(&script);
	MwReinjector *reinjector = mw_reinjector_new(server->target, HELO_NAME, 5);
	g_autoptr(MwEnvelope) env = make_env("a@example.org", "b@example.org", NULL, NULL);
	g_autoptr(MwEnvelope) env2 = make_env("x@example.org", "y@example.org", NULL, NULL);
	g_autoptr(MwMessage) msg = make_msg(simple_msg);
	g_autoptr(MwMessage) msg2 = make_msg("Subject: second\r\n\r\n.\r\n");
	g_autofree char *cmds = NULL;
	g_autofree char *body2 = NULL;

	deliver_one(reinjector, env, msg, "Q0T1");
	deliver_one(reinjector, env2, msg2, "Q0T2");
	mw_reinjector_close_idle(reinjector);
	fake_finish(server);
	ck_assert_uint_eq(fake_conns(server), 1);
	cmds = fake_file(server, "conn-0.cmds");
	ck_assert_str_eq(cmds, "EHLO mx.test\nMAIL FROM:<a@example.org>\nRCPT TO:<b@example.org>\n"
			       "DATA\nMAIL FROM:<x@example.org>\nRCPT TO:<y@example.org>\nDATA\n"
			       "QUIT\n");
	body2 = fake_file(server, "msg-0-2");
	ck_assert_str_eq(body2, "Subject: second\r\n\r\n..\r\n");
	mw_reinjector_free(reinjector);
}
END_TEST

START_TEST(test_idle_closed_by_peer)
{
	FakeScript script = {.ehlo = "PIPELINING", .close_after = 1};
	g_autoptr(FakeServer) server = fake_start(&script);
	MwReinjector *reinjector = mw_reinjector_new(server->target, HELO_NAME, 5);
	g_autoptr(MwEnvelope) env = make_env("a@example.org", "b@example.org", NULL, NULL);
	g_autoptr(MwMessage) msg = make_msg(simple_msg);
	g_autofree char *log0 = NULL;
	g_autofree char *log1 = NULL;

	deliver_one(reinjector, env, msg, "Q0T1");
	g_usleep(100000);
	deliver_one(reinjector, env, msg, "Q1T1");
	mw_reinjector_free(reinjector);
	fake_finish(server);
	ck_assert_uint_eq(fake_conns(server), 2);
	log0 = fake_file(server, "conn-0.log");
	log1 = fake_file(server, "conn-1.log");
	ck_assert_ptr_nonnull(strstr(log0, "CLOSED"));
	ck_assert_ptr_nonnull(strstr(log1, "DELIVERED 1"));
}
END_TEST

/* the downstream closes the pooled connection just as it is reused */
static const struct {
	const char *ehlo;
	const char *drop_reply;
} retry_cases[] = {
	{"PIPELINING", NULL},
	{"", NULL},
	{"PIPELINING", "421 4.4.2 fake.example Error: timeout exceeded"},
	{"XFORWARD ADDR", "421 4.4.2 fake.example Error: timeout exceeded"},
};

START_TEST(test_retry_on_reused)
{
	FakeScript script = {.ehlo = retry_cases[_i].ehlo,
			     .drop_at = 2,
			     .drop_reply = retry_cases[_i].drop_reply};
	g_autoptr(FakeServer) server = fake_start(&script);
	MwReinjector *reinjector = mw_reinjector_new(server->target, HELO_NAME, 5);
	g_autoptr(MwEnvelope) env = make_env("a@example.org", "b@example.org", NULL, NULL);
	g_autoptr(MwMessage) msg = make_msg(simple_msg);
	g_autofree char *log0 = NULL;
	g_autofree char *body = NULL;

	set_xforward(env, "ADDR", "192.0.2.1");
	deliver_one(reinjector, env, msg, "Q0T1");
	deliver_one(reinjector, env, msg, "Q1T1");
	mw_reinjector_free(reinjector);
	fake_finish(server);
	ck_assert_uint_eq(fake_conns(server), 2);
	log0 = fake_file(server, "conn-0.log");
	ck_assert_ptr_nonnull(strstr(log0, "DROPPED"));
	body = fake_file(server, "msg-1-1");
	ck_assert_str_eq(body, simple_msg);
}
END_TEST

START_TEST(test_no_retry_on_fresh)
{
	/* a new connection that fails is not retried: one attempt, one error */
	FakeScript script = {.drop_at = 1};
	g_autoptr(FakeServer) server = fake_start(&script);
	MwReinjector *reinjector = mw_reinjector_new(server->target, HELO_NAME, 5);
	g_autoptr(MwEnvelope) env = make_env("a@example.org", "b@example.org", NULL, NULL);
	g_autoptr(MwMessage) msg = make_msg(simple_msg);
	g_autoptr(GError) error = NULL;
	MwOutgoing out;

	mw_outgoing_init(&out, env, msg);
	ck_assert(!mw_reinject_one(reinjector, &out, &error));
	ck_assert(g_error_matches(error, MW_ERROR, MW_ERROR_TEMPORARY));
	ck_assert_msg(strstr(error->message, "after MAIL") != NULL, "%s", error->message);
	mw_outgoing_clear(&out);
	mw_reinjector_free(reinjector);
	fake_finish(server);
	ck_assert_uint_eq(fake_conns(server), 1);
}
END_TEST

START_TEST(test_abort)
{
	FakeScript script = {.ehlo = "PIPELINING"};
	g_autoptr(FakeServer) server = fake_start(&script);
	MwReinjector *reinjector = mw_reinjector_new(server->target, HELO_NAME, 5);
	g_autoptr(MwEnvelope) env = make_env("a@example.org", "b@example.org", NULL, NULL);
	g_autoptr(MwMessage) msg = make_msg(simple_msg);
	g_autoptr(GError) error = NULL;
	g_autofree char *log = NULL;
	g_autofree char *raw = NULL;
	MwOutgoing out;
	MwOutgoing out2;

	mw_outgoing_init(&out, env, msg);
	ck_assert(mw_reinject_prepare(reinjector, &out, &error));
	mw_reinject_abort(reinjector, &out);
	ck_assert_ptr_null(out.conn);
	mw_outgoing_clear(&out);

	/* clearing a prepared transaction aborts it too */
	mw_outgoing_init(&out2, env, msg);
	ck_assert(mw_reinject_prepare(reinjector, &out2, &error));
	mw_outgoing_clear(&out2);

	mw_reinjector_free(reinjector);
	fake_finish(server);
	ck_assert_uint_eq(fake_conns(server), 2);
	for (guint c = 0; c < 2; c++) {
		g_free(log);
		g_free(raw);
		log = fake_file(server, "conn-%u.log", c);
		raw = fake_file(server, "conn-%u.raw", c);
		ck_assert_msg(strstr(log, "EOF in DATA 1") != NULL, "%s", log);
		/* the whole body arrived, the terminator never did */
		ck_assert(g_str_has_suffix(raw, "Hello.\r\n"));
		ck_assert(!fake_has_file(server, c == 0 ? "msg-0-1" : "msg-1-1"));
	}
}
END_TEST

START_TEST(test_two_prepared)
{
	FakeScript script = {.ehlo = _i == 1 ? "PIPELINING" : ""};
	g_autoptr(FakeServer) server = fake_start(&script);
	MwReinjector *reinjector = mw_reinjector_new(server->target, HELO_NAME, 5);
	g_autoptr(MwEnvelope) env = make_env("a@example.org", "b@example.org", NULL, NULL);
	g_autoptr(MwEnvelope) reply_env = make_env("", "a@example.org", NULL, NULL);
	g_autoptr(MwMessage) msg = make_msg(simple_msg);
	g_autoptr(MwMessage) reply = make_msg("Subject: reply\r\n\r\nok\r\n");
	g_autoptr(GError) error = NULL;
	g_autofree char *body0 = NULL;
	g_autofree char *body1 = NULL;
	MwOutgoing first;
	MwOutgoing second;

	mw_outgoing_init(&first, env, msg);
	mw_outgoing_init(&second, reply_env, reply);
	ck_assert(mw_reinject_prepare(reinjector, &first, &error));
	ck_assert(mw_reinject_prepare(reinjector, &second, &error));
	ck_assert_ptr_ne(first.conn, second.conn);
	ck_assert(mw_reinject_commit(reinjector, &first, &error));
	ck_assert(mw_reinject_commit(reinjector, &second, &error));
	ck_assert_str_eq(first.queued_as, "Q0T1");
	ck_assert_str_eq(second.queued_as, "Q1T1");
	mw_outgoing_clear(&first);
	mw_outgoing_clear(&second);
	/* both went back to the pool: a third message opens nothing new */
	deliver_one(reinjector, env, msg, NULL);
	mw_reinjector_free(reinjector);
	fake_finish(server);
	ck_assert_uint_eq(fake_conns(server), 2);
	body0 = fake_file(server, "msg-0-1");
	body1 = fake_file(server, "msg-1-1");
	ck_assert_str_eq(body0, simple_msg);
	ck_assert_str_eq(body1, "Subject: reply\r\n\r\nok\r\n");
}
END_TEST

START_TEST(test_no_recipients)
{
	g_autoptr(MwEnvelope) env = mw_envelope_new("a@example.org");
	g_autoptr(MwMessage) msg = make_msg(simple_msg);
	g_autoptr(GError) error = NULL;
	MwReinjector *reinjector = mw_reinjector_new("127.0.0.1:1", HELO_NAME, 1);
	MwOutgoing out;

	mw_outgoing_init(&out, env, msg);
	ck_assert(!mw_reinject_prepare(reinjector, &out, &error));
	ck_assert(g_error_matches(error, MW_ERROR, MW_ERROR_PERMANENT));
	mw_outgoing_clear(&out);
	mw_reinjector_free(reinjector);
}
END_TEST

static Suite *
reinject_suite(void)
{
	Suite *s = suite_create("reinject");
	TCase *tc = tcase_create("delivery");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_plain_lockstep);
	tcase_add_test(tc, test_body_without_final_crlf);
	tcase_add_test(tc, test_large_spooled_message);
	tcase_add_test(tc, test_pipelining);
	tcase_add_test(tc, test_xforward_announced_only);
	tcase_add_test(tc, test_xforward_split_and_truncated);
	tcase_add_test(tc, test_params_not_offered);
	tcase_add_test(tc, test_params_offered);
	tcase_add_test(tc, test_smtputf8);
	tcase_add_test(tc, test_helo_fallback);
	suite_add_tcase(s, tc);

	tc = tcase_create("failures");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_refusals, 0, 2 * G_N_ELEMENTS(refusal_cases));
	tcase_add_loop_test(tc, test_partial_rcpt, 0, 2);
	tcase_add_loop_test(tc, test_all_rcpt_refused, 0, 2);
	tcase_add_loop_test(tc, test_rcpt_mixed_refusals, 0, 2);
	tcase_add_test(tc, test_rset_after_failure);
	tcase_add_test(tc, test_connection_refused);
	tcase_add_loop_test(tc, test_timeout, 0, G_N_ELEMENTS(stall_cases));
	tcase_add_test(tc, test_no_recipients);
	suite_add_tcase(s, tc);

	tc = tcase_create("pool");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_pool_reuse, 0, 2);
	tcase_add_test(tc, test_idle_closed_by_peer);
	tcase_add_loop_test(tc, test_retry_on_reused, 0, G_N_ELEMENTS(retry_cases));
	tcase_add_test(tc, test_no_retry_on_fresh);
	tcase_add_test(tc, test_abort);
	tcase_add_loop_test(tc, test_two_prepared, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *runner = srunner_create(reinject_suite());
	int failures;

	srunner_run_all(runner, CK_NORMAL);
	failures = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failures == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
