/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-reinject - the SMTP client that hands messages back to Postfix
 *
 * SYNOPSIS
 *	MwReinjector *mw_reinjector_new(const char *target, const char *helo_name,
 *					guint timeout);
 *	void mw_reinjector_free(MwReinjector *reinjector);
 *	void mw_reinjector_close_idle(MwReinjector *reinjector);
 *	void mw_outgoing_init(MwOutgoing *out, const MwEnvelope *envelope, MwMessage *message);
 *	void mw_outgoing_clear(MwOutgoing *out);
 *	gboolean mw_reinject_prepare(MwReinjector *reinjector, MwOutgoing *out, GError **error);
 *	gboolean mw_reinject_commit(MwReinjector *reinjector, MwOutgoing *out, GError **error);
 *	void mw_reinject_abort(MwReinjector *reinjector, MwOutgoing *out);
 *	gboolean mw_reinject_one(MwReinjector *reinjector, MwOutgoing *out, GError **error);
 *
 * DESCRIPTION
 *	A reinjector owns a small pool (at most four) of idle downstream
 *	connections, each remembering what its EHLO announced. prepare() takes
 *	an idle connection (one whose socket is already readable, i.e. closed
 *	or sent an unsolicited 421, is discarded without a round trip) or opens
 *	a new one (greeting, EHLO, HELO when EHLO gets 5xx). A prepared
 *	transaction owns its connection until commit() puts it back into the
 *	pool or abort() closes it, so several can be prepared at once.
 *
 *	With PIPELINING, XFORWARD, MAIL, every RCPT and DATA leave in a single
 *	write and the replies are read in order; without it, lockstep. The body
 *	is streamed in 64 KiB chunks through the dot-stuffer, one write each.
 *	If a pooled connection fails before its first reply (end of file,
 *	connection reset, broken pipe, or 421: the downstream closed it while
 *	idle), the transaction is retried once on a new connection; nothing was
 *	accepted yet, so this is safe. After a refusal on a connection that is
 *	still in step (MAIL or every RCPT refused, DATA refused) it is RSET and
 *	pooled; any other failure closes it.
 *
 *	Error messages name the downstream, the stage and the reply, e.g.
 *	"downstream 127.0.0.1:10027 refused RCPT: 451 4.3.0 try later" or
 *	"downstream 127.0.0.1:10027: timeout after DATA"; the codes are
 *	MW_ERROR_TEMPORARY and MW_ERROR_PERMANENT as mw-reinject.h describes.
 *	One reinjector per thread; no global state.
 *
 * SEE ALSO
 *	mw-net.c (timeouts), smtp/mw-dot.c (stuffing), Postfix XFORWARD_README
 */

#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "mw-dot.h"
#include "mw-error.h"
#include "mw-net.h"
#include "mw-reinject.h"

/* idle connections kept per reinjector */
#define MW_REINJECT_POOL_MAX 4
/* body bytes read from the message (and written) at a time */
#define MW_REINJECT_CHUNK (64 * 1024)
/* RFC 5321 command line limit; XFORWARD is split to stay within it */
#define MW_XFORWARD_LINE_MAX 512
/* longest XFORWARD value, encoded */
#define MW_XFORWARD_VALUE_MAX 255

/* XFORWARD attributes, in the order they are sent; bit i of MwDownstream.xforward */
static const char *const xforward_names[] = {
	"NAME", "ADDR", "PORT", "PROTO", "HELO", "IDENT", "SOURCE",
};

/* MwDownstream - one connection to the reinjection smtpd */
typedef struct {
	MwConn *conn;
	/* what EHLO announced */
	gboolean esmtp;
	gboolean pipelining;
	gboolean size;
	gboolean eightbitmime;
	gboolean smtputf8;
	gboolean dsn;
	gboolean enhanced;
	guint64 size_limit;
	guint xforward;
	/* state of the current transaction */
	gboolean reused; /* taken from the pool */
	guint replies;   /* replies read in this transaction */
	gboolean sent;   /* a command of this transaction was written */
	gboolean broken; /* out of step or dead: close, never reuse */
	gboolean retry;  /* failed the way a connection closed while idle does */
	MwDotWriter dot;
} MwDownstream;

struct _MwReinjector {
	char *target;
	char *helo_name;
	guint timeout;
	GQueue idle; /* (element-type MwDownstream) most recently used last */
};

/* one command of a transaction and how to judge its reply */
typedef enum {
	CMD_XFORWARD,
	CMD_MAIL,
	CMD_RCPT,
	CMD_DATA,
} CmdKind;

typedef struct {
	CmdKind kind;
	guint rcpt; /* CMD_RCPT: index into the envelope */
	char *line; /* with CRLF */
} Cmd;

/* what the replies of one transaction amounted to */
typedef struct {
	int fail_code; /* the reply that failed XFORWARD or MAIL, or 0 */
	char *fail_text;
	const char *fail_what; /* "XFORWARD" or "MAIL" */
	guint accepted;        /* RCPT 2xx */
	int rcpt_temp_code;    /* first RCPT 4xx */
	char *rcpt_temp_text;
	int rcpt_perm_code; /* last RCPT 5xx */
	char *rcpt_perm_text;
	int data_code; /* DATA reply, 0 if not read */
	char *data_text;
} Verdict;

/* cmd_free - free one Cmd */
static void
cmd_free(gpointer data)
{
	Cmd *cmd = data;

	g_free(cmd->line);
	g_free(cmd);
}

/* verdict_clear - free the texts of a Verdict */
static void
verdict_clear(Verdict *verdict)
{
	g_free(verdict->fail_text);
	g_free(verdict->rcpt_temp_text);
	g_free(verdict->rcpt_perm_text);
	g_free(verdict->data_text);
}

/* reply_oneline - a (multi-line) reply as one line: "451 4.3.0 first second" */
static char *
reply_oneline(const char *text)
{
	g_auto(GStrv) lines = g_strsplit(text != NULL ? text : "", "\n", -1);
	GString *out = g_string_new(NULL);

	for (guint i = 0; lines[i] != NULL; i++) {
		const char *line = lines[i];

		if (i == 0) {
			g_string_append(out, line);
			if (out->len > 3 && out->str[3] == '-')
				out->str[3] = ' ';
			continue;
		}
		line += MIN(strlen(line), 4);
		if (*line != '\0') {
			g_string_append_c(out, ' ');
			g_string_append(out, line);
		}
	}
	return g_string_free(out, FALSE);
}

/* ds_close - drop a connection at once: no QUIT, no dot (FILTER_README) */
static void
ds_close(MwDownstream *ds)
{
	if (ds == NULL)
		return;
	if (ds->conn->fd >= 0)
		(void) shutdown(ds->conn->fd, SHUT_RDWR);
	mw_conn_free(ds->conn);
	g_free(ds);
}

/* ds_quit - say QUIT, wait for the answer, close */
static void
ds_quit(MwDownstream *ds)
{
	int code = 0;

	mw_conn_queue(ds->conn, "QUIT\r\n", 6);
	if (mw_conn_flush(ds->conn, NULL))
		(void) mw_conn_read_reply(ds->conn, &code, NULL, NULL);
	ds_close(ds);
}

/* ds_is_idle_alive - an idle connection with nothing to read; no round trip */
static gboolean
ds_is_idle_alive(MwDownstream *ds)
{
	struct pollfd pfd = {.fd = ds->conn->fd, .events = POLLIN};

	if (ds->conn->eof || mw_conn_pending(ds->conn) > 0)
		return FALSE;
	/* readable while idle: end of file, a reset, or a 421 before closing */
	return poll(&pfd, 1, 0) == 0;
}

/* pool_take - the most recently used idle connection that still looks alive */
static MwDownstream *
pool_take(MwReinjector *reinjector)
{
	MwDownstream *ds;

	while ((ds = g_queue_pop_tail(&reinjector->idle)) != NULL) {
		if (ds_is_idle_alive(ds)) {
			ds->reused = TRUE;
			return ds;
		}
		g_debug("downstream %s: idle connection closed by peer", reinjector->target);
		ds_close(ds);
	}
	return NULL;
}

/* pool_put - keep a connection that finished a transaction cleanly */
static void
pool_put(MwReinjector *reinjector, MwDownstream *ds)
{
	if (g_queue_get_length(&reinjector->idle) >= MW_REINJECT_POOL_MAX) {
		ds_quit(ds);
		return;
	}
	g_queue_push_tail(&reinjector->idle, ds);
}

/* ds_io_error - a failed read or write: always temporary, and the connection is lost */
static void
ds_io_error(MwReinjector *reinjector, MwDownstream *ds, const GError *cause, const char *when,
	    GError **error)
{
	ds->broken = TRUE;
	/* a pooled connection the peer closed while idle fails on first use */
	if (ds->reused && ds->replies == 0 && cause->domain == MW_ERROR &&
	    cause->code == MW_ERROR_IO)
		ds->retry = TRUE;
	g_set_error(error, MW_ERROR, MW_ERROR_TEMPORARY, "downstream %s: %s %s", reinjector->target,
		    cause->message, when);
}

/* reply_error_code - 5xx is permanent, anything else temporary */
static MwErrorCode
reply_error_code(int code)
{
	return code >= 500 && code < 600 ? MW_ERROR_PERMANENT : MW_ERROR_TEMPORARY;
}

/* ds_reply_error - "downstream T refused WHAT: reply" with @ecode */
static void
ds_reply_error(MwReinjector *reinjector, const char *what, const char *text, MwErrorCode ecode,
	       GError **error)
{
	g_autofree char *oneline = reply_oneline(text);

	g_set_error(error, MW_ERROR, ecode, "downstream %s refused %s: %s", reinjector->target,
		    what, oneline);
}

/* ds_send - write the queued output */
static gboolean
ds_send(MwReinjector *reinjector, MwDownstream *ds, const char *when, GError **error)
{
	g_autoptr(GError) local = NULL;

	if (!mw_conn_flush(ds->conn, &local)) {
		ds_io_error(reinjector, ds, local, when, error);
		return FALSE;
	}
	return TRUE;
}

/* ds_read_reply - one reply; a 421 means the downstream is closing the connection */
static gboolean
ds_read_reply(MwReinjector *reinjector, MwDownstream *ds, const char *when, int *code_out,
	      char **text_out, GError **error)
{
	g_autoptr(GError) local = NULL;

	if (!mw_conn_read_reply(ds->conn, code_out, text_out, &local)) {
		ds_io_error(reinjector, ds, local, when, error);
		return FALSE;
	}
	ds->replies++;
	if (*code_out == 421) {
		ds->broken = TRUE;
		if (ds->reused && ds->replies == 1)
			ds->retry = TRUE;
	}
	return TRUE;
}

/* ds_parse_ehlo - remember the extensions of a 250 EHLO reply */
static void
ds_parse_ehlo(MwDownstream *ds, const char *text)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

	ds->esmtp = TRUE;
	for (guint i = 1; lines[i] != NULL; i++) {
		g_auto(GStrv) words = NULL;
		const char *keyword;

		if (strlen(lines[i]) <= 4)
			continue;
		words = g_strsplit(lines[i] + 4, " ", -1);
		keyword = words[0];
		if (g_ascii_strcasecmp(keyword, "PIPELINING") == 0) {
			ds->pipelining = TRUE;
		} else if (g_ascii_strcasecmp(keyword, "SIZE") == 0) {
			ds->size = TRUE;
			if (words[1] != NULL)
				ds->size_limit = g_ascii_strtoull(words[1], NULL, 10);
		} else if (g_ascii_strcasecmp(keyword, "8BITMIME") == 0) {
			ds->eightbitmime = TRUE;
		} else if (g_ascii_strcasecmp(keyword, "SMTPUTF8") == 0) {
			ds->smtputf8 = TRUE;
		} else if (g_ascii_strcasecmp(keyword, "DSN") == 0) {
			ds->dsn = TRUE;
		} else if (g_ascii_strcasecmp(keyword, "ENHANCEDSTATUSCODES") == 0) {
			ds->enhanced = TRUE;
		} else if (g_ascii_strcasecmp(keyword, "XFORWARD") == 0) {
			for (guint w = 1; words[w] != NULL; w++) {
				for (guint n = 0; n < G_N_ELEMENTS(xforward_names); n++) {
					if (g_ascii_strcasecmp(words[w], xforward_names[n]) == 0)
						ds->xforward |= 1u << n;
				}
			}
		}
	}
}

/* ds_hello - EHLO, or HELO when EHLO is refused with 5xx */
static gboolean
ds_hello(MwReinjector *reinjector, MwDownstream *ds, GError **error)
{
	g_autofree char *text = NULL;
	int code = 0;

	mw_conn_queue_printf(ds->conn, "EHLO %s\r\n", reinjector->helo_name);
	if (!ds_send(reinjector, ds, "while sending EHLO", error) ||
	    !ds_read_reply(reinjector, ds, "after EHLO", &code, &text, error))
		return FALSE;
	if (code == 250) {
		ds_parse_ehlo(ds, text);
		return TRUE;
	}
	if (code < 500 || code >= 600) {
		ds_reply_error(reinjector, "EHLO", text, reply_error_code(code), error);
		return FALSE;
	}
	g_clear_pointer(&text, g_free);
	mw_conn_queue_printf(ds->conn, "HELO %s\r\n", reinjector->helo_name);
	if (!ds_send(reinjector, ds, "while sending HELO", error) ||
	    !ds_read_reply(reinjector, ds, "after HELO", &code, &text, error))
		return FALSE;
	if (code != 250) {
		ds_reply_error(reinjector, "HELO", text, reply_error_code(code), error);
		return FALSE;
	}
	return TRUE;
}

/* ds_open - connect, read the greeting, say hello */
static MwDownstream *
ds_open(MwReinjector *reinjector, GError **error)
{
	g_autoptr(GError) local = NULL;
	g_autofree char *text = NULL;
	MwDownstream *ds;
	int code = 0;
	int fd;

	fd = mw_net_connect(reinjector->target, reinjector->timeout, &local);
	if (fd < 0) {
		g_set_error(error, MW_ERROR, MW_ERROR_TEMPORARY, "downstream %s", local->message);
		return NULL;
	}
	ds = g_new0(MwDownstream, 1);
	ds->conn = mw_conn_new(fd, reinjector->timeout);
	if (!ds_read_reply(reinjector, ds, "waiting for greeting", &code, &text, error)) {
		ds_close(ds);
		return NULL;
	}
	if (code != 220) {
		ds_reply_error(reinjector, "connection", text, reply_error_code(code), error);
		ds_close(ds);
		return NULL;
	}
	if (!ds_hello(reinjector, ds, error)) {
		ds_close(ds);
		return NULL;
	}
	ds->replies = 0;
	return ds;
}

/* is_ascii - no byte above 0x7f */
static gboolean
is_ascii(const char *text)
{
	for (const char *p = text; *p != '\0'; p++) {
		if ((guchar) *p >= 0x80)
			return FALSE;
	}
	return TRUE;
}

/* envelope_needs_utf8 - a non-ASCII address needs SMTPUTF8 (RFC 6531) */
static gboolean
envelope_needs_utf8(const MwEnvelope *env)
{
	if (!is_ascii(env->sender))
		return TRUE;
	for (guint i = 0; i < env->rcpts->len; i++) {
		const MwRecipient *rcpt = g_ptr_array_index(env->rcpts, i);

		if (!is_ascii(rcpt->address))
			return TRUE;
	}
	return FALSE;
}

/*
 * xforward_value - sanitize an attribute for the downstream as amavis does:
 * non-printables and characters special in headers become '?', the result
 * is xtext-encoded and cut to 255 bytes (never inside a "+XX" escape).
 */
static char *
xforward_value(const char *value)
{
	g_autofree char *clean = NULL;
	GString *out;

	if (g_ascii_strcasecmp(value, "[UNAVAILABLE]") == 0)
		return g_strdup("[UNAVAILABLE]");
	clean = g_strdup(value);
	for (char *p = clean; *p != '\0'; p++) {
		guchar c = (guchar) *p;

		if (c < 0x21 || c > 0x7e || strchr("<>()\\\";@,", c) != NULL)
			*p = '?';
	}
	out = g_string_new(NULL);
	for (const char *p = clean; *p != '\0'; p++) {
		g_autofree char *one = NULL;
		char single[2] = {*p, '\0'};

		one = mw_xtext_encode(single);
		if (out->len + strlen(one) > MW_XFORWARD_VALUE_MAX)
			break;
		g_string_append(out, one);
	}
	return g_string_free(out, FALSE);
}

/* cmd_add - append a command line (CRLF added) */
static void
cmd_add(GPtrArray *cmds, CmdKind kind, guint rcpt, char *line /* (transfer full) */)
{
	Cmd *cmd = g_new0(Cmd, 1);

	cmd->kind = kind;
	cmd->rcpt = rcpt;
	cmd->line = g_strconcat(line, "\r\n", NULL);
	g_free(line);
	g_ptr_array_add(cmds, cmd);
}

/* build_xforward - XFORWARD commands for the announced attributes, each line <= 512 bytes */
static void
build_xforward(const MwDownstream *ds, const MwEnvelope *env, GPtrArray *cmds)
{
	g_autoptr(GString) line = NULL;

	if (ds->xforward == 0 || env->xforward == NULL)
		return;
	for (guint n = 0; n < G_N_ELEMENTS(xforward_names); n++) {
		const char *value;
		g_autofree char *encoded = NULL;
		g_autofree char *item = NULL;

		if ((ds->xforward & (1u << n)) == 0)
			continue;
		value = g_hash_table_lookup(env->xforward, xforward_names[n]);
		if (value == NULL)
			continue;
		encoded = xforward_value(value);
		item = g_strdup_printf(" %s=%s", xforward_names[n], encoded);
		if (line != NULL && line->len + strlen(item) + 2 > MW_XFORWARD_LINE_MAX)
			cmd_add(cmds, CMD_XFORWARD, 0,
				g_string_free(g_steal_pointer(&line), FALSE));
		if (line == NULL)
			line = g_string_new("XFORWARD");
		g_string_append(line, item);
	}
	if (line != NULL)
		cmd_add(cmds, CMD_XFORWARD, 0, g_string_free(g_steal_pointer(&line), FALSE));
}

/* append_param - " KEY=value" or " KEY" */
static void
append_param(GString *line, const MwSmtpParam *param)
{
	g_string_append_printf(line, " %s", param->keyword);
	if (param->value != NULL)
		g_string_append_printf(line, "=%s", param->value);
}

/* build_mail - MAIL FROM with the parameters the downstream supports */
static gboolean
build_mail(MwReinjector *reinjector, const MwDownstream *ds, MwOutgoing *out, GPtrArray *cmds,
	   GError **error)
{
	const MwEnvelope *env = out->envelope;
	GString *line = g_string_new(NULL);
	gboolean utf8_param = FALSE;
	gboolean utf8_needed = envelope_needs_utf8(env);

	(void) mw_param_array_get(env->mail_params, "SMTPUTF8", &utf8_param);
	if (utf8_needed && !ds->smtputf8) {
		g_set_error(error, MW_ERROR, MW_ERROR_PERMANENT,
			    "downstream %s does not offer SMTPUTF8: 553 5.6.7 SMTPUTF8 is "
			    "required, but was not offered by host",
			    reinjector->target);
		g_string_free(line, TRUE);
		return FALSE;
	}
	g_string_append_printf(line, "MAIL FROM:<%s>", env->sender);
	if (ds->size)
		g_string_append_printf(line, " SIZE=%" G_GUINT64_FORMAT,
				       mw_message_get_size(out->message));
	for (guint i = 0; i < env->mail_params->len; i++) {
		const MwSmtpParam *param = g_ptr_array_index(env->mail_params, i);
		const char *kw = param->keyword;

		if (g_ascii_strcasecmp(kw, "BODY") == 0 && ds->eightbitmime)
			append_param(line, param);
		else if (g_ascii_strcasecmp(kw, "SMTPUTF8") == 0 && ds->smtputf8)
			append_param(line, param);
		else if ((g_ascii_strcasecmp(kw, "RET") == 0 ||
			  g_ascii_strcasecmp(kw, "ENVID") == 0) &&
			 ds->dsn)
			append_param(line, param);
	}
	/* a generated message to a UTF-8 address has no parameters of its own */
	if (utf8_needed && !utf8_param)
		g_string_append(line, " SMTPUTF8");
	cmd_add(cmds, CMD_MAIL, 0, g_string_free(line, FALSE));
	return TRUE;
}

/* build_rcpts - RCPT TO for every recipient, NOTIFY/ORCPT with DSN */
static void
build_rcpts(const MwDownstream *ds, const MwEnvelope *env, GPtrArray *cmds)
{
	for (guint i = 0; i < env->rcpts->len; i++) {
		const MwRecipient *rcpt = g_ptr_array_index(env->rcpts, i);
		GString *line = g_string_new(NULL);

		g_string_append_printf(line, "RCPT TO:<%s>", rcpt->address);
		for (guint p = 0; ds->dsn && rcpt->params != NULL && p < rcpt->params->len; p++) {
			const MwSmtpParam *param = g_ptr_array_index(rcpt->params, p);

			if (g_ascii_strcasecmp(param->keyword, "NOTIFY") == 0 ||
			    g_ascii_strcasecmp(param->keyword, "ORCPT") == 0)
				append_param(line, param);
		}
		cmd_add(cmds, CMD_RCPT, i, g_string_free(line, FALSE));
	}
}

/* cmd_when - "after MAIL" for error messages */
static const char *
cmd_when(const Cmd *cmd)
{
	switch (cmd->kind) {
	case CMD_XFORWARD:
		return "after XFORWARD";
	case CMD_MAIL:
		return "after MAIL";
	case CMD_RCPT:
		return "after RCPT";
	case CMD_DATA:
	default:
		return "after DATA";
	}
}

/* set_failure - remember the reply that failed a stage (the first one wins) */
static void
set_failure(Verdict *verdict, const char *what, int code, const char *text)
{
	if (verdict->fail_code != 0)
		return;
	verdict->fail_what = what;
	verdict->fail_code = code;
	verdict->fail_text = g_strdup(text);
}

/*
 * judge_reply - record one reply in @verdict and @out; returns FALSE when a
 * lockstep client should stop sending (the transaction has failed)
 */
static gboolean
judge_reply(const Cmd *cmd, int code, const char *text, Verdict *verdict, MwOutgoing *out)
{
	switch (cmd->kind) {
	case CMD_XFORWARD:
		if (code / 100 == 2)
			return TRUE;
		set_failure(verdict, "XFORWARD", code, text);
		return FALSE;
	case CMD_MAIL:
		if (code / 100 == 2)
			return TRUE;
		set_failure(verdict, "MAIL", code, text);
		return FALSE;
	case CMD_RCPT:
		g_array_index(out->rcpt_codes, int, cmd->rcpt) = code;
		g_free(g_ptr_array_index(out->rcpt_replies, cmd->rcpt));
		g_ptr_array_index(out->rcpt_replies, cmd->rcpt) = g_strdup(text);
		if (code / 100 == 2) {
			verdict->accepted++;
			return TRUE;
		}
		if (code / 100 == 5) {
			g_free(verdict->rcpt_perm_text);
			verdict->rcpt_perm_code = code;
			verdict->rcpt_perm_text = g_strdup(text);
			return TRUE;
		}
		if (verdict->rcpt_temp_code == 0) {
			verdict->rcpt_temp_code = code;
			verdict->rcpt_temp_text = g_strdup(text);
		}
		return FALSE;
	case CMD_DATA:
	default:
		verdict->data_code = code;
		verdict->data_text = g_strdup(text);
		return code == 354;
	}
}

/* set_reply - the reply that decided the transaction, for the caller's log */
static void
set_reply(MwOutgoing *out, int code, const char *text)
{
	out->reply_code = code;
	g_free(out->reply);
	out->reply = g_strdup(text);
}

/* conclude - turn the replies into success or the right error */
static gboolean
conclude(MwReinjector *reinjector, MwDownstream *ds, MwOutgoing *out, const Verdict *verdict,
	 GError **error)
{
	/* in DATA mode we can only get out by closing without the dot */
	if (verdict->data_code == 354 &&
	    (verdict->fail_code != 0 || verdict->rcpt_temp_code != 0 || verdict->accepted == 0))
		ds->broken = TRUE;

	if (verdict->fail_code != 0) {
		/* a refused XFORWARD is a configuration problem downstream: retry later */
		MwErrorCode ecode = g_strcmp0(verdict->fail_what, "XFORWARD") == 0
					    ? MW_ERROR_TEMPORARY
					    : reply_error_code(verdict->fail_code);

		set_reply(out, verdict->fail_code, verdict->fail_text);
		ds_reply_error(reinjector, verdict->fail_what, verdict->fail_text, ecode, error);
		return FALSE;
	}
	if (verdict->rcpt_temp_code != 0) {
		set_reply(out, verdict->rcpt_temp_code, verdict->rcpt_temp_text);
		ds_reply_error(reinjector, "RCPT", verdict->rcpt_temp_text, MW_ERROR_TEMPORARY,
			       error);
		return FALSE;
	}
	if (verdict->accepted == 0) {
		set_reply(out, verdict->rcpt_perm_code, verdict->rcpt_perm_text);
		ds_reply_error(reinjector, "all recipients", verdict->rcpt_perm_text,
			       MW_ERROR_PERMANENT, error);
		return FALSE;
	}
	set_reply(out, verdict->data_code, verdict->data_text);
	if (verdict->data_code / 100 == 4 || verdict->data_code / 100 == 5) {
		ds_reply_error(reinjector, "DATA", verdict->data_text,
			       reply_error_code(verdict->data_code), error);
		return FALSE;
	}
	if (verdict->data_code != 354) {
		g_autofree char *oneline = reply_oneline(verdict->data_text);

		/* 2xx or 3xx other than 354 to DATA: who knows what state it is in */
		ds->broken = TRUE;
		g_set_error(error, MW_ERROR, MW_ERROR_TEMPORARY,
			    "downstream %s: unexpected reply to DATA: %s", reinjector->target,
			    oneline);
		return FALSE;
	}
	return TRUE;
}

/* run_commands - send the commands (pipelined or lockstep) and judge the replies */
static gboolean
run_commands(MwReinjector *reinjector, MwDownstream *ds, MwOutgoing *out, GPtrArray *cmds,
	     Verdict *verdict, GError **error)
{
	if (ds->pipelining) {
		for (guint i = 0; i < cmds->len; i++) {
			const Cmd *cmd = g_ptr_array_index(cmds, i);

			mw_conn_queue(ds->conn, cmd->line, strlen(cmd->line));
		}
		ds->sent = TRUE;
		if (!ds_send(reinjector, ds, "while sending MAIL", error))
			return FALSE;
		/* read every reply, so the connection stays in step whatever they say */
		for (guint i = 0; i < cmds->len; i++) {
			const Cmd *cmd = g_ptr_array_index(cmds, i);
			g_autofree char *text = NULL;
			int code = 0;

			if (!ds_read_reply(reinjector, ds, cmd_when(cmd), &code, &text, error))
				return FALSE;
			(void) judge_reply(cmd, code, text, verdict, out);
			/* 421: the downstream closes; no more replies will come */
			if (code == 421)
				break;
		}
		return TRUE;
	}
	for (guint i = 0; i < cmds->len; i++) {
		const Cmd *cmd = g_ptr_array_index(cmds, i);
		g_autofree char *text = NULL;
		g_autofree char *when = NULL;
		int code = 0;

		/* every recipient refused: no DATA */
		if (cmd->kind == CMD_DATA && verdict->accepted == 0)
			return TRUE;
		when = g_strdup_printf("while sending %.*s", (int) strcspn(cmd->line, " \r"),
				       cmd->line);
		mw_conn_queue(ds->conn, cmd->line, strlen(cmd->line));
		ds->sent = TRUE;
		if (!ds_send(reinjector, ds, when, error) ||
		    !ds_read_reply(reinjector, ds, cmd_when(cmd), &code, &text, error))
			return FALSE;
		if (!judge_reply(cmd, code, text, verdict, out))
			return TRUE;
	}
	return TRUE;
}

/* send_body - the message through the dot-stuffer, one write per 64 KiB read */
static gboolean
send_body(MwReinjector *reinjector, MwDownstream *ds, MwOutgoing *out, GError **error)
{
	g_autofree guint8 *buf = g_malloc(MW_REINJECT_CHUNK);
	GByteArray *wbuf = ds->conn->wbuf;
	guint64 offset = 0;

	mw_dot_writer_init(&ds->dot);
	for (;;) {
		g_autoptr(GError) local = NULL;
		gssize n = mw_message_read(out->message, offset, buf, MW_REINJECT_CHUNK, &local);
		guint old = wbuf->len;
		gsize stuffed;

		if (n < 0) {
			ds->broken = TRUE;
			g_set_error(error, MW_ERROR, MW_ERROR_TEMPORARY,
				    "reinjection to %s: cannot read message: %s",
				    reinjector->target, local != NULL ? local->message : "?");
			return FALSE;
		}
		if (n == 0)
			return TRUE;
		g_byte_array_set_size(wbuf, old + 2 * (guint) n);
		stuffed = mw_dot_writer_feed(&ds->dot, buf, (gsize) n, wbuf->data + old);
		g_byte_array_set_size(wbuf, old + (guint) stuffed);
		if (!ds_send(reinjector, ds, "while sending message body", error))
			return FALSE;
		offset += (guint64) n;
	}
}

/* run_transaction - everything up to (not including) the final dot */
static gboolean
run_transaction(MwReinjector *reinjector, MwDownstream *ds, MwOutgoing *out, GError **error)
{
	g_autoptr(GPtrArray) cmds = g_ptr_array_new_with_free_func(cmd_free);
	Verdict verdict = {0};
	gboolean ok;

	ds->replies = 0;
	ds->sent = FALSE;
	ds->broken = FALSE;
	ds->retry = FALSE;

	build_xforward(ds, out->envelope, cmds);
	if (!build_mail(reinjector, ds, out, cmds, error))
		return FALSE;
	build_rcpts(ds, out->envelope, cmds);
	cmd_add(cmds, CMD_DATA, 0, g_strdup("DATA"));

	ok = run_commands(reinjector, ds, out, cmds, &verdict, error) &&
	     conclude(reinjector, ds, out, &verdict, error) &&
	     send_body(reinjector, ds, out, error);
	verdict_clear(&verdict);
	return ok;
}

/* release_failed - after a failure: RSET and pool a connection still in step, else close */
static void
release_failed(MwReinjector *reinjector, MwDownstream *ds)
{
	g_autofree char *text = NULL;
	int code = 0;

	if (ds->broken) {
		ds_close(ds);
		return;
	}
	if (ds->sent) {
		mw_conn_queue(ds->conn, "RSET\r\n", 6);
		if (!mw_conn_flush(ds->conn, NULL) ||
		    !mw_conn_read_reply(ds->conn, &code, &text, NULL) || code != 250) {
			ds_close(ds);
			return;
		}
	}
	pool_put(reinjector, ds);
}

/* outgoing_reset - forget the results of an earlier attempt */
static void
outgoing_reset(MwOutgoing *out)
{
	guint n = out->envelope->rcpts->len;

	g_array_set_size(out->rcpt_codes, 0);
	g_array_set_size(out->rcpt_codes, n);
	g_ptr_array_set_size(out->rcpt_replies, 0);
	for (guint i = 0; i < n; i++)
		g_ptr_array_add(out->rcpt_replies, g_strdup(""));
	out->reply_code = 0;
	g_clear_pointer(&out->reply, g_free);
	g_clear_pointer(&out->queued_as, g_free);
}

/**
 * mw_reinjector_new:
 *
 * Returns: (transfer full): a reinjector; nothing is connected yet
 */
MwReinjector *
mw_reinjector_new(const char *target, const char *helo_name, guint timeout)
{
	MwReinjector *reinjector;

	g_return_val_if_fail(target != NULL, NULL);
	g_return_val_if_fail(helo_name != NULL, NULL);

	reinjector = g_new0(MwReinjector, 1);
	reinjector->target = g_strdup(target);
	reinjector->helo_name = g_strdup(helo_name);
	reinjector->timeout = timeout;
	g_queue_init(&reinjector->idle);
	return reinjector;
}

/**
 * mw_reinjector_free:
 *
 * Says QUIT on the idle connections. Prepared transactions own their
 * connections and are not affected (clear or abort them separately).
 */
void
mw_reinjector_free(MwReinjector *reinjector)
{
	if (reinjector == NULL)
		return;
	mw_reinjector_close_idle(reinjector);
	g_free(reinjector->target);
	g_free(reinjector->helo_name);
	g_free(reinjector);
}

void
mw_reinjector_close_idle(MwReinjector *reinjector)
{
	MwDownstream *ds;

	g_return_if_fail(reinjector != NULL);

	while ((ds = g_queue_pop_head(&reinjector->idle)) != NULL)
		ds_quit(ds);
}

/**
 * mw_outgoing_init:
 * @envelope: (transfer none): must outlive @out
 * @message: (transfer none): must outlive @out
 */
void
mw_outgoing_init(MwOutgoing *out, const MwEnvelope *envelope, MwMessage *message)
{
	g_return_if_fail(out != NULL);
	g_return_if_fail(envelope != NULL);

	memset(out, 0, sizeof(*out));
	out->envelope = envelope;
	out->message = message;
	out->rcpt_codes = g_array_new(FALSE, TRUE, sizeof(int));
	out->rcpt_replies = g_ptr_array_new_with_free_func(g_free);
	outgoing_reset(out);
}

/**
 * mw_outgoing_clear:
 *
 * Frees the results; a transaction still prepared is aborted (its
 * connection closed without the dot).
 */
void
mw_outgoing_clear(MwOutgoing *out)
{
	if (out == NULL)
		return;
	g_clear_pointer((MwDownstream **) &out->conn, ds_close);
	if (out->rcpt_codes != NULL)
		g_array_unref(out->rcpt_codes);
	if (out->rcpt_replies != NULL)
		g_ptr_array_unref(out->rcpt_replies);
	g_free(out->reply);
	g_free(out->queued_as);
	memset(out, 0, sizeof(*out));
}

gboolean
mw_reinject_prepare(MwReinjector *reinjector, MwOutgoing *out, GError **error)
{
	g_return_val_if_fail(reinjector != NULL, FALSE);
	g_return_val_if_fail(out != NULL && out->envelope != NULL && out->message != NULL, FALSE);
	g_return_val_if_fail(out->conn == NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	outgoing_reset(out);
	if (out->envelope->rcpts->len == 0) {
		g_set_error(error, MW_ERROR, MW_ERROR_PERMANENT, "reinjection to %s: no recipients",
			    reinjector->target);
		return FALSE;
	}
	for (guint attempt = 0;; attempt++) {
		g_autoptr(GError) local = NULL;
		MwDownstream *ds = attempt == 0 ? pool_take(reinjector) : NULL;

		if (ds == NULL) {
			ds = ds_open(reinjector, error);
			if (ds == NULL)
				return FALSE;
		}
		if (run_transaction(reinjector, ds, out, &local)) {
			out->conn = ds;
			return TRUE;
		}
		if (ds->retry && attempt == 0) {
			g_debug("%s; retrying on a new connection", local->message);
			ds_close(ds);
			outgoing_reset(out);
			continue;
		}
		release_failed(reinjector, ds);
		g_propagate_error(error, g_steal_pointer(&local));
		return FALSE;
	}
}

/* parse_queued_as - the id after "queued as " in a 250 reply, if any */
static char *
parse_queued_as(const char *text)
{
	g_autofree char *lower = g_ascii_strdown(text, -1);
	const char *hit = strstr(lower, "queued as ");
	const char *start;
	gsize len;

	if (hit == NULL)
		return NULL;
	start = text + (hit - lower) + strlen("queued as ");
	len = strcspn(start, " \t\r\n");
	while (len > 0 && strchr(".,;:)>", start[len - 1]) != NULL)
		len--;
	return len > 0 ? g_strndup(start, len) : NULL;
}

gboolean
mw_reinject_commit(MwReinjector *reinjector, MwOutgoing *out, GError **error)
{
	MwDownstream *ds;
	guint8 terminator[5];
	gsize n;
	g_autofree char *text = NULL;
	int code = 0;

	g_return_val_if_fail(reinjector != NULL, FALSE);
	g_return_val_if_fail(out != NULL, FALSE);
	g_return_val_if_fail(out->conn != NULL, FALSE);

	ds = g_steal_pointer((MwDownstream **) &out->conn);
	n = mw_dot_writer_finish(&ds->dot, terminator);
	mw_conn_queue(ds->conn, terminator, n);
	if (!ds_send(reinjector, ds, "while sending end of data", error) ||
	    !ds_read_reply(reinjector, ds, "after end of data", &code, &text, error)) {
		ds_close(ds);
		return FALSE;
	}
	set_reply(out, code, text);
	if (code / 100 != 2) {
		ds_reply_error(reinjector, "end of data", text, reply_error_code(code), error);
		ds_close(ds);
		return FALSE;
	}
	g_free(out->queued_as);
	out->queued_as = parse_queued_as(text);
	pool_put(reinjector, ds);
	return TRUE;
}

void
mw_reinject_abort(MwReinjector *reinjector, MwOutgoing *out)
{
	g_return_if_fail(out != NULL);

	g_clear_pointer((MwDownstream **) &out->conn, ds_close);
}

gboolean
mw_reinject_one(MwReinjector *reinjector, MwOutgoing *out, GError **error)
{
	if (!mw_reinject_prepare(reinjector, out, error))
		return FALSE;
	return mw_reinject_commit(reinjector, out, error);
}
