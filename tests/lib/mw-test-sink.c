/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-test-sink - SMTP sink standing in for Postfix's reinjection smtpd
 * SYNOPSIS
 *	mw-test-sink --listen 127.0.0.1:PORT --dir DIR [--no-pipelining] [--no-xforward]
 *		[--no-dsn] [--no-smtputf8] [--no-8bitmime]
 * DESCRIPTION
 *	Accepts SMTP on a loopback address and records every accepted
 *	transaction in DIR: N.env (lines "MAIL <args>", "RCPT <args>",
 *	"XFORWARD <args>", the arguments exactly as received) and N.eml (the
 *	message bytes after dot-unstuffing). N = 1, 2, ... is unique across
 *	connections (a counter file under flock); both files are written under
 *	a temporary name and renamed, N.env before N.eml, so a reader that sees
 *	N.eml sees a complete pair.
 *
 *	DIR/events.log gets one line per event, appended with one write():
 *	"connect", "mail", "data-start", "data-aborted" (the client closed
 *	before the final dot), "accepted N", "refused CODE", "close" (the
 *	connection ended, whatever the reason). DIR/.busy-PID exists while
 *	connection PID is inside a transaction (MAIL accepted, not yet ended
 *	by the final dot, RSET or a disconnect), so tests can wait until no
 *	transaction is in flight even when the client keeps connections open.
 *
 *	DIR/mode (re-read when a connection starts and at every MAIL; missing
 *	means "ok") makes the sink misbehave: tempfail-mail, tempfail-rcpt,
 *	tempfail-data, tempfail-dot, reject-mail, reject-rcpt, reject-data,
 *	reject-dot, reject-rcpt:ADDR, close-greeting, greet-421, close-in-data,
 *	stall-dot:SECONDS. Every refusal text names the mode ("451 4.3.0 sink
 *	tempfail-dot") so that tests can find it in mailwarden's replies.
 *
 *	One child process per connection; the parent reaps them and, on
 *	SIGTERM or SIGINT, terminates them and exits. Only errors are printed
 *	(stderr).
 */

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

#define SINK_HOSTNAME     "sink.test"
#define SINK_BUF_SIZE     65536
#define SINK_MAX_LINE     65536
#define SINK_IDLE_TIMEOUT 300 /* seconds without input before a child gives up */
#define SINK_MAX_CHILDREN 256

typedef struct {
	gboolean pipelining;
	gboolean xforward;
	gboolean dsn;
	gboolean smtputf8;
	gboolean eightbitmime;
	const char *dir;
} SinkOptions;

typedef struct {
	int fd;
	const SinkOptions *opt;
	guint8 buf[SINK_BUF_SIZE];
	gsize pos;
	gsize len;
	gboolean eof;
	/* the transaction */
	char *mode;
	gboolean in_mail;
	char *mail_args;
	GPtrArray *rcpts;
	GPtrArray *xforward;
} SinkConn;

static volatile sig_atomic_t sink_stop = 0;

/* on_signal - SIGTERM/SIGINT: leave the accept loop */
static void
on_signal(int sig)
{
	sink_stop = 1;
}

/* die - print an error and exit */
static void G_GNUC_PRINTF(1, 2) G_GNUC_NORETURN die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "mw-test-sink: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(2);
}

/* write_all - write a whole buffer, FALSE on error */
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

/* event - append one line to DIR/events.log with a single write */
static void G_GNUC_PRINTF(2, 3) event(const SinkOptions *opt, const char *fmt, ...)
{
	g_autofree char *path = g_build_filename(opt->dir, "events.log", NULL);
	g_autofree char *text = NULL;
	g_autofree char *line = NULL;
	va_list ap;
	int fd;

	va_start(ap, fmt);
	text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	line = g_strconcat(text, "\n", NULL);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "mw-test-sink: %s: %s\n", path, g_strerror(errno));
		return;
	}
	if (!write_all(fd, line, strlen(line)))
		fprintf(stderr, "mw-test-sink: %s: %s\n", path, g_strerror(errno));
	close(fd);
}

/* read_mode - the current content of DIR/mode, "ok" when missing or empty */
static char *
read_mode(const SinkOptions *opt)
{
	g_autofree char *path = g_build_filename(opt->dir, "mode", NULL);
	char *text = NULL;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return g_strdup("ok");
	g_strstrip(text);
	if (text[0] == '\0') {
		g_free(text);
		return g_strdup("ok");
	}
	return text;
}

/* mode_is - whether the transaction's mode is exactly @name */
static gboolean
mode_is(SinkConn *c, const char *name)
{
	return c->mode != NULL && strcmp(c->mode, name) == 0;
}

/* reply - send one reply line (CRLF appended); FALSE when the peer is gone */
static gboolean G_GNUC_PRINTF(2, 3) reply(SinkConn *c, const char *fmt, ...)
{
	g_autofree char *text = NULL;
	g_autofree char *line = NULL;
	va_list ap;

	va_start(ap, fmt);
	text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	line = g_strconcat(text, "\r\n", NULL);
	return write_all(c->fd, line, strlen(line));
}

/* refuse - a refusal reply plus its "refused CODE" event */
static gboolean
refuse(SinkConn *c, int code, const char *text)
{
	event(c->opt, "refused %d", code);
	return reply(c, "%d %s", code, text);
}

/* fill - read more input into the buffer; FALSE at EOF, error or idle timeout */
static gboolean
fill(SinkConn *c)
{
	struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
	ssize_t n;

	if (c->eof)
		return FALSE;
	if (c->pos > 0) {
		memmove(c->buf, c->buf + c->pos, c->len - c->pos);
		c->len -= c->pos;
		c->pos = 0;
	}
	if (c->len == sizeof(c->buf))
		return TRUE;
	for (;;) {
		int rc = poll(&pfd, 1, SINK_IDLE_TIMEOUT * 1000);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0) {
			c->eof = TRUE;
			return FALSE;
		}
		n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			c->eof = TRUE;
			return FALSE;
		}
		c->len += (gsize) n;
		return TRUE;
	}
}

/*
 * read_line - the next command line without its line end (CRLF or bare LF);
 * FALSE at EOF. *too_long is set when the line was cut at SINK_MAX_LINE.
 */
static gboolean
read_line(SinkConn *c, GString *line, gboolean *too_long)
{
	g_string_truncate(line, 0);
	*too_long = FALSE;
	for (;;) {
		guint8 *start = c->buf + c->pos;
		guint8 *nl = memchr(start, '\n', c->len - c->pos);
		gsize take = nl != NULL ? (gsize) (nl - start) : c->len - c->pos;

		if (line->len + take <= SINK_MAX_LINE)
			g_string_append_len(line, (const char *) start, (gssize) take);
		else
			*too_long = TRUE;
		if (nl != NULL) {
			c->pos += take + 1;
			if (line->len > 0 && line->str[line->len - 1] == '\r')
				g_string_truncate(line, line->len - 1);
			return TRUE;
		}
		c->pos = c->len;
		if (!fill(c))
			return FALSE;
	}
}

/* busy_path - DIR/.busy-PID: exists while this connection is inside a transaction */
static char *
busy_path(const SinkOptions *opt)
{
	return g_strdup_printf("%s/.busy-%d", opt->dir, (int) getpid());
}

/* set_busy - create or remove the busy marker */
static void
set_busy(SinkConn *c, gboolean busy)
{
	g_autofree char *path = busy_path(c->opt);

	if (busy) {
		int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd >= 0)
			close(fd);
	} else {
		unlink(path);
	}
}

/* txn_reset - forget the transaction (RSET, end of DATA, end of connection) */
static void
txn_reset(SinkConn *c)
{
	if (c->in_mail)
		set_busy(c, FALSE);
	c->in_mail = FALSE;
	g_clear_pointer(&c->mail_args, g_free);
	g_ptr_array_set_size(c->rcpts, 0);
	g_ptr_array_set_size(c->xforward, 0);
}

/* next_number - the next message number, unique across processes (flock'ed counter) */
static guint
next_number(const SinkOptions *opt)
{
	g_autofree char *path = g_build_filename(opt->dir, ".counter", NULL);
	char text[32] = {0};
	guint n = 0;
	ssize_t got;
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		die("%s: %s", path, g_strerror(errno));
	if (flock(fd, LOCK_EX) < 0)
		die("flock %s: %s", path, g_strerror(errno));
	got = pread(fd, text, sizeof(text) - 1, 0);
	if (got > 0)
		n = (guint) strtoul(text, NULL, 10);
	n++;
	g_snprintf(text, sizeof(text), "%u\n", n);
	if (ftruncate(fd, 0) < 0 || pwrite(fd, text, strlen(text), 0) < 0)
		die("%s: %s", path, g_strerror(errno));
	close(fd); /* releases the lock */
	return n;
}

/* write_file_atomic - write @path through a temporary name and rename */
static void
write_file_atomic(const SinkOptions *opt, const char *name, const void *data, gsize len)
{
	g_autofree char *path = g_build_filename(opt->dir, name, NULL);
	g_autofree char *tmp = g_strdup_printf("%s/.tmp-%d-%s", opt->dir, (int) getpid(), name);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || !write_all(fd, data, len) || close(fd) < 0)
		die("%s: %s", tmp, g_strerror(errno));
	if (rename(tmp, path) < 0)
		die("rename %s: %s", path, g_strerror(errno));
}

/* Dot-unstuffing state machine (RFC 5321 4.5.2); lines end in CRLF only. */
typedef enum {
	BODY_LINE_START,
	BODY_DOT,    /* "." at a line start */
	BODY_DOT_CR, /* ".\r" at a line start */
	BODY_IN_LINE,
	BODY_CR,
	BODY_END,
} BodyState;

typedef struct {
	BodyState state;
	int fd;
	guint8 out[SINK_BUF_SIZE];
	gsize out_len;
	guint64 total;
	gboolean failed;
} Body;

/* body_emit - one unstuffed byte to the spool file */
static void
body_emit(Body *b, guint8 ch)
{
	b->out[b->out_len++] = ch;
	b->total++;
	if (b->out_len == sizeof(b->out)) {
		if (!write_all(b->fd, b->out, b->out_len))
			b->failed = TRUE;
		b->out_len = 0;
	}
}

/* body_feed - one wire byte */
static void
body_feed(Body *b, guint8 ch)
{
	switch (b->state) {
	case BODY_LINE_START:
		if (ch == '.') {
			b->state = BODY_DOT;
			return;
		}
		body_emit(b, ch);
		b->state = ch == '\r' ? BODY_CR : BODY_IN_LINE;
		return;
	case BODY_DOT:
		if (ch == '\r') {
			b->state = BODY_DOT_CR;
			return;
		}
		/* a stuffed dot: the first one is dropped */
		body_emit(b, ch);
		b->state = BODY_IN_LINE;
		return;
	case BODY_DOT_CR:
		if (ch == '\n') {
			b->state = BODY_END;
			return;
		}
		/* ".\r" then something else: the dot was stuffed */
		body_emit(b, '\r');
		b->state = BODY_CR;
		body_feed(b, ch);
		return;
	case BODY_IN_LINE:
		body_emit(b, ch);
		if (ch == '\r')
			b->state = BODY_CR;
		return;
	case BODY_CR:
		body_emit(b, ch);
		if (ch == '\n')
			b->state = BODY_LINE_START;
		else if (ch != '\r')
			b->state = BODY_IN_LINE;
		return;
	case BODY_END:
		return;
	}
}

/* stall_seconds - the SECONDS of "stall-dot:SECONDS", 0 for other modes */
static guint
stall_seconds(SinkConn *c)
{
	if (c->mode == NULL || !g_str_has_prefix(c->mode, "stall-dot:"))
		return 0;
	return (guint) strtoul(c->mode + strlen("stall-dot:"), NULL, 10);
}

/*
 * do_data - after 354: read the body up to the final dot, then answer per
 * mode. FALSE when the connection is over.
 */
static gboolean
do_data(SinkConn *c)
{
	g_autofree char *spool = g_strdup_printf("%s/.spool-%d", c->opt->dir, (int) getpid());
	Body b = {.state = BODY_LINE_START};
	gboolean close_in_data = mode_is(c, "close-in-data");
	g_autoptr(GString) env = NULL;
	g_autofree char *eml_name = NULL;
	g_autofree char *env_name = NULL;
	g_autofree char *eml_path = NULL;
	guint stall;
	guint n;

	b.fd = open(spool, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (b.fd < 0)
		die("%s: %s", spool, g_strerror(errno));
	event(c->opt, "data-start");
	while (b.state != BODY_END) {
		if (c->pos == c->len && !fill(c)) {
			close(b.fd);
			unlink(spool);
			event(c->opt, "data-aborted");
			return FALSE;
		}
		while (c->pos < c->len && b.state != BODY_END)
			body_feed(&b, c->buf[c->pos++]);
		if (close_in_data && b.total > 0) {
			close(b.fd);
			unlink(spool);
			event(c->opt, "closed-in-data");
			return FALSE;
		}
	}
	if (b.out_len > 0 && !write_all(b.fd, b.out, b.out_len))
		b.failed = TRUE;
	if (close(b.fd) < 0 || b.failed)
		die("%s: write failed", spool);

	if (mode_is(c, "tempfail-dot") || mode_is(c, "reject-dot")) {
		gboolean temp = mode_is(c, "tempfail-dot");
		unlink(spool);
		txn_reset(c);
		return temp ? refuse(c, 451, "4.3.0 sink tempfail-dot")
			    : refuse(c, 554, "5.7.1 sink reject-dot");
	}
	stall = stall_seconds(c);
	if (stall > 0) {
		event(c->opt, "stall %u", stall);
		sleep(stall);
	}

	n = next_number(c->opt);
	env = g_string_new(NULL);
	g_string_append_printf(env, "MAIL %s\n", c->mail_args);
	for (guint i = 0; i < c->rcpts->len; i++)
		g_string_append_printf(env, "RCPT %s\n", (const char *) c->rcpts->pdata[i]);
	for (guint i = 0; i < c->xforward->len; i++)
		g_string_append_printf(env, "XFORWARD %s\n", (const char *) c->xforward->pdata[i]);
	env_name = g_strdup_printf("%u.env", n);
	eml_name = g_strdup_printf("%u.eml", n);
	eml_path = g_build_filename(c->opt->dir, eml_name, NULL);
	write_file_atomic(c->opt, env_name, env->str, env->len);
	if (rename(spool, eml_path) < 0)
		die("rename %s: %s", eml_path, g_strerror(errno));
	event(c->opt, "accepted %u", n);
	txn_reset(c);
	return reply(c, "250 2.0.0 Ok: queued as SINK%u", n);
}

/* rcpt_address - the address inside <...> of "TO:<addr> params" */
static char *
rcpt_address(const char *args)
{
	const char *lt = strchr(args, '<');
	const char *gt = lt != NULL ? strchr(lt, '>') : NULL;

	if (lt == NULL || gt == NULL)
		return g_strdup("");
	return g_strndup(lt + 1, (gsize) (gt - lt - 1));
}

/*
 * unsupported_param - the first ESMTP parameter of @args (after the path)
 * that belongs to an extension this sink was told not to announce, or NULL
 */
static char *
unsupported_param(SinkConn *c, const char *args)
{
	static const struct {
		const char *prefix;
		gsize offset;
	} params[] = {
		{"RET=", G_STRUCT_OFFSET(SinkOptions, dsn)},
		{"ENVID=", G_STRUCT_OFFSET(SinkOptions, dsn)},
		{"NOTIFY=", G_STRUCT_OFFSET(SinkOptions, dsn)},
		{"ORCPT=", G_STRUCT_OFFSET(SinkOptions, dsn)},
		{"SMTPUTF8", G_STRUCT_OFFSET(SinkOptions, smtputf8)},
		{"BODY=8BITMIME", G_STRUCT_OFFSET(SinkOptions, eightbitmime)},
	};
	const char *gt = strchr(args, '>');
	g_auto(GStrv) words = g_strsplit(gt != NULL ? gt + 1 : "", " ", -1);

	for (guint i = 0; words[i] != NULL; i++) {
		for (guint j = 0; j < G_N_ELEMENTS(params); j++) {
			const gboolean *on =
				(const gboolean *) ((const guint8 *) c->opt + params[j].offset);
			if (!*on && g_ascii_strncasecmp(words[i], params[j].prefix,
							strlen(params[j].prefix)) == 0)
				return g_strdup(words[i]);
		}
	}
	return NULL;
}

/* do_ehlo - the EHLO reply with the enabled extensions */
static gboolean
do_ehlo(SinkConn *c)
{
	g_autoptr(GPtrArray) lines = g_ptr_array_new();
	g_autoptr(GString) out = g_string_new(NULL);

	g_ptr_array_add(lines, (gpointer) SINK_HOSTNAME);
	if (c->opt->pipelining)
		g_ptr_array_add(lines, (gpointer) "PIPELINING");
	g_ptr_array_add(lines, (gpointer) "SIZE");
	if (c->opt->eightbitmime)
		g_ptr_array_add(lines, (gpointer) "8BITMIME");
	if (c->opt->smtputf8)
		g_ptr_array_add(lines, (gpointer) "SMTPUTF8");
	if (c->opt->dsn)
		g_ptr_array_add(lines, (gpointer) "DSN");
	g_ptr_array_add(lines, (gpointer) "ENHANCEDSTATUSCODES");
	if (c->opt->xforward)
		g_ptr_array_add(lines,
				(gpointer) "XFORWARD NAME ADDR PORT PROTO HELO IDENT SOURCE");
	for (guint i = 0; i < lines->len; i++)
		g_string_append_printf(out, "250%c%s\r\n", i + 1 < lines->len ? '-' : ' ',
				       (const char *) lines->pdata[i]);
	return write_all(c->fd, out->str, out->len);
}

/* verb_is - whether @line starts with the command @verb (case-insensitive) */
static gboolean
verb_is(const char *line, const char *verb)
{
	gsize n = strlen(verb);

	return g_ascii_strncasecmp(line, verb, n) == 0 && (line[n] == '\0' || line[n] == ' ');
}

/* command - one command line; FALSE when the connection is over */
static gboolean
command(SinkConn *c, const char *line)
{
	const char *args = strchr(line, ' ');

	args = args != NULL ? args + 1 : "";
	if (verb_is(line, "EHLO"))
		return do_ehlo(c);
	if (verb_is(line, "HELO"))
		return reply(c, "250 %s", SINK_HOSTNAME);
	if (verb_is(line, "NOOP"))
		return reply(c, "250 2.0.0 Ok");
	if (verb_is(line, "QUIT")) {
		reply(c, "221 2.0.0 Bye");
		return FALSE;
	}
	if (verb_is(line, "RSET")) {
		txn_reset(c);
		return reply(c, "250 2.0.0 Ok");
	}
	if (verb_is(line, "XFORWARD")) {
		if (!c->opt->xforward)
			return reply(c, "502 5.5.2 Error: command not recognized");
		if (c->in_mail)
			return reply(c, "503 5.5.1 Error: XFORWARD not allowed in a transaction");
		g_ptr_array_add(c->xforward, g_strdup(args));
		return reply(c, "250 2.0.0 Ok");
	}
	if (verb_is(line, "MAIL")) {
		g_autofree char *bad = NULL;

		if (c->in_mail)
			return reply(c, "503 5.5.1 Error: nested MAIL command");
		g_free(c->mode);
		c->mode = read_mode(c->opt);
		event(c->opt, "mail");
		if (mode_is(c, "tempfail-mail"))
			return refuse(c, 451, "4.3.0 sink tempfail-mail");
		if (mode_is(c, "reject-mail"))
			return refuse(c, 550, "5.7.1 sink reject-mail");
		bad = unsupported_param(c, args);
		if (bad != NULL)
			return reply(c, "555 5.5.4 sink unsupported option: %s", bad);
		c->in_mail = TRUE;
		set_busy(c, TRUE);
		c->mail_args = g_strdup(args);
		return reply(c, "250 2.1.0 Ok");
	}
	if (verb_is(line, "RCPT")) {
		g_autofree char *addr = NULL;
		g_autofree char *bad = NULL;

		if (!c->in_mail)
			return reply(c, "503 5.5.1 Error: need MAIL command");
		if (mode_is(c, "tempfail-rcpt"))
			return refuse(c, 451, "4.3.0 sink tempfail-rcpt");
		if (mode_is(c, "reject-rcpt"))
			return refuse(c, 550, "5.1.1 sink reject-rcpt");
		addr = rcpt_address(args);
		if (c->mode != NULL && g_str_has_prefix(c->mode, "reject-rcpt:") &&
		    g_ascii_strcasecmp(c->mode + strlen("reject-rcpt:"), addr) == 0) {
			g_autofree char *text =
				g_strdup_printf("5.1.1 <%s>: sink reject-rcpt", addr);
			return refuse(c, 550, text);
		}
		bad = unsupported_param(c, args);
		if (bad != NULL)
			return reply(c, "555 5.5.4 sink unsupported option: %s", bad);
		g_ptr_array_add(c->rcpts, g_strdup(args));
		return reply(c, "250 2.1.5 Ok");
	}
	if (verb_is(line, "DATA")) {
		if (!c->in_mail)
			return reply(c, "503 5.5.1 Error: need MAIL command");
		if (c->rcpts->len == 0)
			return reply(c, "554 5.5.1 Error: no valid recipients");
		if (mode_is(c, "tempfail-data"))
			return refuse(c, 451, "4.3.0 sink tempfail-data");
		if (mode_is(c, "reject-data"))
			return refuse(c, 554, "5.7.1 sink reject-data");
		if (!reply(c, "354 End data with <CR><LF>.<CR><LF>"))
			return FALSE;
		return do_data(c);
	}
	return reply(c, "502 5.5.2 Error: command not recognized");
}

/* serve - one connection, in its own process */
static void
serve(int fd, const SinkOptions *opt)
{
	SinkConn *c = g_new0(SinkConn, 1);
	g_autoptr(GString) line = g_string_new(NULL);
	gboolean too_long;

	c->fd = fd;
	c->opt = opt;
	c->rcpts = g_ptr_array_new_with_free_func(g_free);
	c->xforward = g_ptr_array_new_with_free_func(g_free);
	event(opt, "connect");
	c->mode = read_mode(opt);
	if (mode_is(c, "close-greeting")) {
		event(opt, "close");
		goto out;
	}
	if (mode_is(c, "greet-421")) {
		refuse(c, 421, "4.3.2 sink greet-421");
		event(opt, "close");
		goto out;
	}
	if (reply(c, "220 %s ESMTP mw-test-sink", SINK_HOSTNAME)) {
		while (read_line(c, line, &too_long)) {
			if (too_long) {
				if (!reply(c, "500 5.5.2 Error: line too long"))
					break;
				continue;
			}
			if (!command(c, line->str))
				break;
		}
	}
	if (c->in_mail)
		event(opt, "transaction-dropped");
	event(opt, "close");
out:
	close(fd);
	g_free(c->mode);
	txn_reset(c);
	g_ptr_array_unref(c->rcpts);
	g_ptr_array_unref(c->xforward);
	g_free(c);
}

/* listen_on - a listening socket for "HOST:PORT" or "[HOST]:PORT" */
static int
listen_on(const char *spec)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE};
	struct addrinfo *ai = NULL;
	const char *colon = strrchr(spec, ':');
	g_autofree char *host = NULL;
	int one = 1;
	int fd;
	int rc;

	if (colon == NULL)
		die("--listen %s: expected HOST:PORT", spec);
	host = g_strndup(spec, (gsize) (colon - spec));
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		char *inner = g_strndup(host + 1, strlen(host) - 2);
		g_free(host);
		host = inner;
	}
	rc = getaddrinfo(host, colon + 1, &hints, &ai);
	if (rc != 0)
		die("--listen %s: %s", spec, gai_strerror(rc));
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", g_strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0)
		die("bind %s: %s", spec, g_strerror(errno));
	if (listen(fd, 128) < 0)
		die("listen %s: %s", spec, g_strerror(errno));
	freeaddrinfo(ai);
	return fd;
}

/* forget_child - a child is gone: drop its busy marker (it may have been killed) */
static void
forget_child(const char *dir, pid_t pid)
{
	g_autofree char *path = g_strdup_printf("%s/.busy-%d", dir, (int) pid);

	unlink(path);
}

/* reap - collect finished children, removing them from @children */
static void
reap(GArray *children, const char *dir)
{
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		forget_child(dir, pid);
		for (guint i = 0; i < children->len; i++) {
			if (g_array_index(children, pid_t, i) == pid) {
				g_array_remove_index_fast(children, i);
				break;
			}
		}
	}
}

int
main(int argc, char **argv)
{
	g_autofree char *listen_spec = NULL;
	g_autofree char *dir = NULL;
	gboolean no_pipelining = FALSE, no_xforward = FALSE, no_dsn = FALSE;
	gboolean no_smtputf8 = FALSE, no_8bitmime = FALSE;
	GOptionEntry entries[] = {
		{"listen", 0, 0, G_OPTION_ARG_STRING, &listen_spec, "address to listen on",
		 "HOST:PORT"},
		{"dir", 0, 0, G_OPTION_ARG_FILENAME, &dir, "where to write messages", "DIR"},
		{"no-pipelining", 0, 0, G_OPTION_ARG_NONE, &no_pipelining, "no PIPELINING", NULL},
		{"no-xforward", 0, 0, G_OPTION_ARG_NONE, &no_xforward, "no XFORWARD", NULL},
		{"no-dsn", 0, 0, G_OPTION_ARG_NONE, &no_dsn, "no DSN", NULL},
		{"no-smtputf8", 0, 0, G_OPTION_ARG_NONE, &no_smtputf8, "no SMTPUTF8", NULL},
		{"no-8bitmime", 0, 0, G_OPTION_ARG_NONE, &no_8bitmime, "no 8BITMIME", NULL},
		{NULL, 0, 0, G_OPTION_ARG_NONE, NULL, NULL, NULL}};
	g_autoptr(GOptionContext) ctx = g_option_context_new("- SMTP sink for mailwarden tests");
	g_autoptr(GError) error = NULL;
	g_autoptr(GArray) children = g_array_new(FALSE, FALSE, sizeof(pid_t));
	struct sigaction sa = {0};
	SinkOptions opt;
	int lfd;

	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &error))
		die("%s", error->message);
	if (listen_spec == NULL || dir == NULL)
		die("--listen and --dir are required");
	if (g_mkdir_with_parents(dir, 0755) < 0)
		die("%s: %s", dir, g_strerror(errno));
	opt = (SinkOptions){.pipelining = !no_pipelining,
			    .xforward = !no_xforward,
			    .dsn = !no_dsn,
			    .smtputf8 = !no_smtputf8,
			    .eightbitmime = !no_8bitmime,
			    .dir = dir};

	sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	lfd = listen_on(listen_spec);
	while (!sink_stop) {
		struct pollfd pfd = {.fd = lfd, .events = POLLIN};
		int cfd;
		pid_t pid;

		reap(children, dir);
		if (poll(&pfd, 1, 500) <= 0)
			continue;
		cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (cfd < 0)
			continue;
		if (children->len >= SINK_MAX_CHILDREN) {
			close(cfd);
			continue;
		}
		pid = fork();
		if (pid < 0) {
			fprintf(stderr, "mw-test-sink: fork: %s\n", g_strerror(errno));
			close(cfd);
			continue;
		}
		if (pid == 0) {
			signal(SIGTERM, SIG_DFL);
			signal(SIGINT, SIG_DFL);
			close(lfd);
			serve(cfd, &opt);
			_exit(0);
		}
		close(cfd);
		g_array_append_val(children, pid);
	}
	close(lfd);
	for (guint i = 0; i < children->len; i++)
		kill(g_array_index(children, pid_t, i), SIGTERM);
	for (guint i = 0; i < children->len; i++) {
		waitpid(g_array_index(children, pid_t, i), NULL, 0);
		forget_child(dir, g_array_index(children, pid_t, i));
	}
	return 0;
}
