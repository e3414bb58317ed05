/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-spam-net - one request/reply exchange with spamd or rspamd
 * SYNOPSIS
 *	mw_spam_exchange
 * DESCRIPTION
 *	Built on the core's MwConn (poll-based timeouts on every read and
 *	write, no SIGPIPE). The message is streamed from MwMessage in 64 KiB
 *	pieces, so a spooled message is never loaded whole. Every failure
 *	becomes MW_ERROR_BACKEND naming the backend, so the pipeline applies
 *	on_error and the log says which backend failed and how.
 */
#include <string.h>

#include "mw-error.h"
#include "mw-net.h"
#include "mw-spam-net.h"

/* backend_error - wrap @cause as MW_ERROR_BACKEND "@what at @target: cause" */
static void
backend_error(GError **error, const char *what, const char *target, GError *cause)
{
	g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "%s at %s: %s", what, target,
		    cause != NULL ? cause->message : "failed");
}

GByteArray *
mw_spam_exchange(const char *what, const char *target, guint timeout, const char *head,
		 MwMessage *body, gsize max_reply, GError **error)
{
	g_autoptr(GError) cause = NULL;
	int fd = mw_net_connect(target, timeout, &cause);
	if (fd < 0) {
		backend_error(error, what, target, cause);
		return NULL;
	}
	MwConn *conn = mw_conn_new(fd, timeout);
	gboolean ok = TRUE;
	mw_conn_queue(conn, head, strlen(head));
	if (body != NULL) {
		guint8 buf[65536];
		guint64 offset = 0;
		for (;;) {
			gssize n = mw_message_read(body, offset, buf, sizeof buf, &cause);
			if (n < 0) {
				ok = FALSE;
				break;
			}
			if (n == 0)
				break;
			offset += (guint64) n;
			mw_conn_queue(conn, buf, (gsize) n);
			if (!mw_conn_flush(conn, &cause)) {
				ok = FALSE;
				break;
			}
		}
	}
	if (ok)
		ok = mw_conn_flush(conn, &cause);
	while (ok) {
		if (!mw_conn_fill(conn, &cause)) {
			if (conn->eof) {
				g_clear_error(&cause);
				break;
			}
			ok = FALSE;
		} else if (mw_conn_pending(conn) > max_reply) {
			g_set_error(&cause, MW_ERROR, MW_ERROR_PROTOCOL,
				    "reply longer than %" G_GSIZE_FORMAT " bytes", max_reply);
			ok = FALSE;
		}
	}
	GByteArray *reply = NULL;
	if (ok) {
		reply = g_byte_array_new();
		g_byte_array_append(reply, conn->rbuf + conn->rpos, (guint) mw_conn_pending(conn));
		guint8 nul = 0;
		g_byte_array_append(reply, &nul, 1);
		g_byte_array_set_size(reply, reply->len - 1);
	} else {
		backend_error(error, what, target, cause);
	}
	mw_conn_free(conn);
	return reply;
}
