/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-session - the SMTP/LMTP server side of one connection
 * SYNOPSIS
 *	mw_session_run
 * DESCRIPTION
 *	A blocking state machine over one buffered connection (one worker
 *	process serves one connection at a time). Replies are queued and
 *	flushed when no more pipelined input is waiting, so a pipelined
 *	MAIL/RCPT/DATA group costs one write. DATA is unstuffed as it streams
 *	in, straight into the message store (memory, then an unlinked spool
 *	file), so no line or message length is ever buffered whole.
 *
 *	Every command line is bounded (MW_SMTP_MAX_COMMAND_LINE), every read
 *	and write has the configured timeout, errors are counted and end the
 *	session at MAX_ERRORS, and the reply to the final dot is sent only
 *	after mw_dispatch() knows what the downstream did with the message.
 */
#include <string.h>
#include <unistd.h>

#include "mw-dispatch.h"
#include "mw-dot.h"
#include "mw-error.h"
#include "mw-guard.h"
#include "mw-log.h"
#include "mw-net.h"
#include "mw-pipeline.h"
#include "mw-session.h"
#include "mw-smtp-parse.h"
#include "mw-stats.h"
#include "mw-txn.h"

#define MAX_ERRORS 20
#define MAX_RCPTS  1000

typedef struct {
	MwSessionContext *ctx;
	const MwConfig *config;
	MwConn *conn;
	char *peer;
	gboolean lmtp;
	gboolean greeted;
	gboolean esmtp;
	guint errors;
	GHashTable *xforward; /* attributes for the next transaction */
	MwEnvelope *envelope; /* non-NULL inside a transaction */
	gboolean quit;
} Session;

/* reply - queue one reply line: "CODE TEXT" */
static void
reply(Session *s, int code, const char *text)
{
	mw_conn_queue_printf(s->conn, "%d %s\r\n", code, text);
	if (code >= 400 && code != 421)
		s->errors++;
}

/* reply_error - the reply carried by a parser error ("501 5.1.7 text") */
static void
reply_error(Session *s, const GError *error)
{
	const char *msg = error->message;
	if (strlen(msg) > 4 && g_ascii_isdigit(msg[0]) && msg[3] == ' ') {
		mw_conn_queue_printf(s->conn, "%s\r\n", msg);
		s->errors++;
		return;
	}
	reply(s, 501, "5.5.4 Syntax error");
}

/* reset_txn - forget the current transaction (RSET, after DATA, HELO) */
static void
reset_txn(Session *s)
{
	g_clear_pointer(&s->envelope, mw_envelope_free);
	g_hash_table_remove_all(s->xforward);
}

static void
cmd_helo(Session *s, MwSmtpVerb verb, const char *args)
{
	if (s->lmtp != (verb == MW_SMTP_VERB_LHLO)) {
		/* Postfix and mailwarden disagree on the protocol: a configuration
		 * error. 421 keeps the mail queued until it is fixed; a 5xx would
		 * bounce every message to its sender. */
		mw_log_queue(G_LOG_LEVEL_WARNING, NULL,
			     "client %s: sent %s but protocol = %s: check the Postfix transport",
			     s->peer, verb == MW_SMTP_VERB_LHLO ? "LHLO" : "EHLO/HELO",
			     s->lmtp ? "lmtp" : "smtp");
		reply(s, 421,
		      s->lmtp ? "4.3.5 This is LMTP (protocol = lmtp): use LHLO"
			      : "4.3.5 This is SMTP (protocol = smtp): use EHLO");
		s->quit = TRUE;
		return;
	}
	if (*args == '\0') {
		reply(s, 501, "5.5.4 Syntax: EHLO hostname");
		return;
	}
	reset_txn(s);
	s->greeted = TRUE;
	s->esmtp = verb != MW_SMTP_VERB_HELO;
	if (!s->esmtp) {
		mw_conn_queue_printf(s->conn, "250 %s\r\n", s->config->hostname);
		return;
	}
	/* the whole EHLO response in one write */
	mw_conn_queue_printf(s->conn,
			     "250-%s\r\n"
			     "250-PIPELINING\r\n"
			     "250-SIZE %" G_GUINT64_FORMAT "\r\n"
			     "250-8BITMIME\r\n"
			     "250-SMTPUTF8\r\n"
			     "250-ENHANCEDSTATUSCODES\r\n"
			     "250-DSN\r\n"
			     "250 XFORWARD NAME ADDR PORT PROTO HELO IDENT SOURCE\r\n",
			     s->config->hostname, s->config->max_message_size);
}

static void
cmd_xforward(Session *s, const char *args)
{
	if (s->envelope != NULL) {
		reply(s, 503, "5.5.1 Error: XFORWARD not allowed in a mail transaction");
		return;
	}
	g_autoptr(GError) error = NULL;
	if (!mw_smtp_parse_xforward(args, s->xforward, &error)) {
		reply_error(s, error);
		return;
	}
	reply(s, 250, "2.0.0 Ok");
}

static void
cmd_mail(Session *s, const char *args)
{
	if (!s->greeted) {
		reply(s, 503, "5.5.1 Error: send HELO/EHLO first");
		return;
	}
	if (s->envelope != NULL) {
		reply(s, 503, "5.5.1 Error: nested MAIL command");
		return;
	}
	g_autoptr(GError) error = NULL;
	g_autoptr(MwSmtpPath) path = mw_smtp_parse_mail(args, &error);
	if (path == NULL) {
		reply_error(s, error);
		return;
	}
	const char *size = mw_smtp_path_get_param(path, "SIZE", NULL);
	if (size != NULL && g_ascii_strtoull(size, NULL, 10) > s->config->max_message_size) {
		reply(s, 552, "5.3.4 Message size exceeds fixed limit");
		return;
	}
	s->envelope = mw_envelope_new(path->address);
	g_ptr_array_unref(s->envelope->mail_params);
	s->envelope->mail_params = g_steal_pointer(&path->params);
	if (g_hash_table_size(s->xforward) > 0)
		s->envelope->xforward = g_hash_table_ref(s->xforward);
	reply(s, 250, "2.1.0 Ok");
}

static void
cmd_rcpt(Session *s, const char *args)
{
	if (s->envelope == NULL) {
		reply(s, 503, "5.5.1 Error: need MAIL command");
		return;
	}
	if (s->envelope->rcpts->len >= MAX_RCPTS) {
		reply(s, 452, "4.5.3 Error: too many recipients");
		return;
	}
	g_autoptr(GError) error = NULL;
	g_autoptr(MwSmtpPath) path = mw_smtp_parse_rcpt(args, &error);
	if (path == NULL) {
		reply_error(s, error);
		return;
	}
	mw_envelope_add_rcpt(s->envelope,
			     mw_recipient_new(path->address, g_steal_pointer(&path->params)));
	reply(s, 250, "2.1.5 Ok");
}

/* read_data - stream the body into @msg; FALSE if the connection is gone */
static gboolean
read_data(Session *s, MwMessage *msg, gboolean *too_big, GError **store_error)
{
	MwDotReader reader;
	mw_dot_reader_init(&reader);
	g_autofree guint8 *out = NULL;
	gsize out_cap = 0;
	guint64 total = 0;
	while (!reader.done) {
		if (mw_conn_pending(s->conn) == 0) {
			g_autoptr(GError) error = NULL;
			if (!mw_conn_fill(s->conn, &error)) {
				mw_log_queue(G_LOG_LEVEL_WARNING, NULL,
					     "client %s: lost during DATA: %s", s->peer,
					     error->message);
				return FALSE;
			}
		}
		gsize in_len = mw_conn_pending(s->conn);
		if (out_cap < in_len + 2) {
			out_cap = in_len + 2;
			out = g_realloc(out, out_cap);
		}
		gsize out_len = 0;
		gsize used = mw_dot_reader_feed(&reader, s->conn->rbuf + s->conn->rpos, in_len, out,
						&out_len);
		mw_conn_consume(s->conn, used);
		total += out_len;
		if (total > s->config->max_message_size) {
			/* keep reading to the dot, keep nothing */
			*too_big = TRUE;
			continue;
		}
		if (*store_error == NULL && out_len > 0)
			mw_message_append(msg, out, out_len, store_error);
	}
	return TRUE;
}

/* send_outcome - the reply (SMTP) or replies (LMTP) to the final dot */
static void
send_outcome(Session *s, MwTxn *txn, const MwOutcome *outcome)
{
	if (!s->lmtp) {
		reply(s, outcome->reply.code, outcome->reply.text);
		return;
	}
	for (guint i = 0; i < outcome->n_rcpts; i++) {
		const MwTxnRcpt *rcpt = g_ptr_array_index(txn->rcpts, i);
		g_autofree char *text =
			g_strdup_printf("%s <%s>", outcome->rcpts[i].text, rcpt->rcpt->address);
		reply(s, outcome->rcpts[i].code, text);
	}
}

/* reply_all - the same reply for the message (SMTP) or each recipient (LMTP) */
static void
reply_all(Session *s, int code, const char *text)
{
	guint n = s->lmtp ? s->envelope->rcpts->len : 1;
	for (guint i = 0; i < n; i++)
		reply(s, code, text);
}

static void
cmd_data(Session *s, const char *args)
{
	if (s->envelope == NULL) {
		reply(s, 503, "5.5.1 Error: need MAIL command");
		return;
	}
	if (s->envelope->rcpts->len == 0) {
		/* RFC 5321 §3.3 allows 503 or 554; a bad sequence is 503 throughout */
		reply(s, 503, "5.5.1 Error: need RCPT command");
		return;
	}
	if (*args != '\0') {
		reply(s, 501, "5.5.4 Syntax: DATA");
		return;
	}
	mw_conn_queue_printf(s->conn, "354 End data with <CR><LF>.<CR><LF>\r\n");
	g_autoptr(GError) error = NULL;
	if (!mw_conn_flush(s->conn, &error)) {
		s->quit = TRUE;
		return;
	}
	g_autoptr(MwMessage) msg =
		mw_message_new(s->config->state_dir, MW_MESSAGE_MEMORY_THRESHOLD);
	gboolean too_big = FALSE;
	if (!read_data(s, msg, &too_big, &error)) {
		s->quit = TRUE;
		return;
	}
	if (too_big) {
		reply_all(s, 552, "5.3.4 Message size exceeds fixed limit");
		reset_txn(s);
		return;
	}
	if (error != NULL || !mw_message_seal(msg, &error)) {
		mw_log_queue(G_LOG_LEVEL_WARNING, NULL, "client %s: cannot store message: %s",
			     s->peer, error->message);
		reply_all(s, 451, "4.3.0 Error: cannot store the message, try again later");
		reset_txn(s);
		return;
	}

	g_autoptr(MwTxn) txn = mw_txn_new(s->config, g_steal_pointer(&s->envelope), msg);
	MwOutcome outcome;
	/* a crash or a hang from here on answers 451 and costs this message only */
	mw_guard_begin(s->conn->fd, (guint) s->config->timeout,
		       (guint) s->config->message_cpu_limit);
	mw_pipeline_run(txn);
	mw_guard_end();
	mw_dispatch(txn, s->ctx->reinjector, s->lmtp, &outcome);
	send_outcome(s, txn, &outcome);
	mw_conn_flush(s->conn, NULL);
	mw_dispatch_log_summary(txn, &outcome);
	mw_stats_record(txn, &outcome, g_get_monotonic_time() - txn->start_time);
	mw_outcome_clear(&outcome);
	reset_txn(s);
}

/* handle_line - one command */
static void
handle_line(Session *s, const char *line)
{
	const char *args = "";
	MwSmtpVerb verb = mw_smtp_parse_verb(line, &args);
	switch (verb) {
	case MW_SMTP_VERB_HELO:
	case MW_SMTP_VERB_EHLO:
	case MW_SMTP_VERB_LHLO:
		cmd_helo(s, verb, args);
		break;
	case MW_SMTP_VERB_XFORWARD:
		cmd_xforward(s, args);
		break;
	case MW_SMTP_VERB_MAIL:
		cmd_mail(s, args);
		break;
	case MW_SMTP_VERB_RCPT:
		cmd_rcpt(s, args);
		break;
	case MW_SMTP_VERB_DATA:
		cmd_data(s, args);
		break;
	case MW_SMTP_VERB_RSET:
		reset_txn(s);
		reply(s, 250, "2.0.0 Ok");
		break;
	case MW_SMTP_VERB_NOOP:
		reply(s, 250, "2.0.0 Ok");
		break;
	case MW_SMTP_VERB_QUIT:
		reply(s, 221, "2.0.0 Bye");
		s->quit = TRUE;
		break;
	case MW_SMTP_VERB_VRFY:
		reply(s, 252, "2.5.2 Cannot VRFY user");
		break;
	case MW_SMTP_VERB_HELP:
		reply(s, 214, "2.0.0 mailwarden: see mailwarden(8)");
		break;
	case MW_SMTP_VERB_BDAT:
	case MW_SMTP_VERB_STARTTLS:
	case MW_SMTP_VERB_AUTH:
	case MW_SMTP_VERB_UNKNOWN:
	default:
		reply(s, 502, "5.5.2 Error: command not recognized");
		break;
	}
}

void
mw_session_run(MwSessionContext *ctx, int fd, const struct sockaddr *peer, socklen_t peer_len)
{
	Session session = {0};
	Session *s = &session;
	s->ctx = ctx;
	s->config = ctx->config;
	s->lmtp = ctx->config->protocol == MW_PROTOCOL_LMTP;
	s->conn = mw_conn_new(fd, (guint) ctx->config->timeout);
	s->peer = mw_net_format_peer(peer, peer_len);
	s->xforward = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	mw_net_set_nodelay(fd);
	mw_stats_connection();

	if (!mw_config_client_allowed(ctx->config, peer, peer_len)) {
		mw_log_queue(G_LOG_LEVEL_WARNING, NULL,
			     "client %s: not in allowed_clients, refused", s->peer);
		mw_conn_queue_printf(s->conn, "554 5.7.1 Access denied\r\n");
		mw_conn_flush(s->conn, NULL);
	} else {
		mw_conn_queue_printf(s->conn, "220 %s %s mailwarden\r\n", ctx->config->hostname,
				     s->lmtp ? "LMTP" : "ESMTP");
		while (!s->quit) {
			/* pipelining: flush only when no more input is waiting */
			g_autoptr(GError) error = NULL;
			if (mw_conn_pending(s->conn) == 0 && !mw_conn_flush(s->conn, &error))
				break;
			if (*ctx->draining && s->envelope == NULL) {
				reply(s, 421, "4.3.2 Service shutting down, closing connection");
				break;
			}
			gboolean too_long = FALSE;
			/* between transactions a shutdown may end the wait for a command */
			s->conn->interrupt = s->envelope == NULL ? ctx->draining : NULL;
			g_autofree char *line = mw_conn_read_line(s->conn, MW_SMTP_MAX_COMMAND_LINE,
								  &too_long, &error);
			if (line == NULL) {
				if (g_error_matches(error, MW_ERROR, MW_ERROR_TEMPORARY) &&
				    !s->conn->eof) {
					if (*ctx->draining)
						reply(s, 421, "4.3.2 Service shutting down");
					else
						reply(s, 421, "4.4.2 Error: timeout exceeded");
				}
				break;
			}
			if (too_long)
				reply(s, 500, "5.5.2 Error: line too long");
			else
				handle_line(s, line);
			if (s->errors >= MAX_ERRORS) {
				reply(s, 421, "4.7.0 Error: too many errors");
				break;
			}
		}
		mw_conn_flush(s->conn, NULL);
	}
	reset_txn(s);
	g_hash_table_unref(s->xforward);
	g_free(s->peer);
	mw_conn_free(s->conn);
}
