/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <sys/socket.h>

#include <glib.h>

G_BEGIN_DECLS

/*
 * Sockets and buffered connections with timeouts.
 *
 * A target is "host:port", "[v6addr]:port" or "unix:/path". Every read and
 * write waits at most the connection's timeout (poll), so a stalled peer
 * costs at most that long. Output is buffered and sent with one write per
 * flush (one SMTP reply or a whole pipelined group per write), TCP_NODELAY is
 * set on TCP sockets, and SIGPIPE is never raised (MSG_NOSIGNAL).
 */

/* mw_net_listen - bind and listen (backlog at least 128); unix sockets replace a stale file, mode 0666 */
int mw_net_listen(const char *target, GError **error);
/* mw_net_connect - connect with a timeout (seconds); returns the fd */
int mw_net_connect(const char *target, guint timeout, GError **error);
/* mw_net_set_nodelay - TCP_NODELAY on a TCP socket (no-op for others) */
void mw_net_set_nodelay(int fd);
/* mw_net_format_peer - "192.0.2.1", "2001:db8::1" or "unix" */
char *mw_net_format_peer(const struct sockaddr *sa, socklen_t len);

typedef struct {
	int fd;
	guint timeout; /* seconds; 0 = wait forever */
	guint8 *rbuf;  /* received, not yet consumed: rbuf[rpos .. rlen) */
	gsize rpos;
	gsize rlen;
	gsize rcap;
	GByteArray *wbuf; /* queued output */
	gboolean eof;
	/* when set and *interrupt becomes non-zero, a wait ends with MW_ERROR_TEMPORARY
	 * "interrupted" (a draining worker waiting for the next command) */
	volatile int *interrupt;
} MwConn;

MwConn *mw_conn_new(int fd, guint timeout);
/* mw_conn_free - closes the fd */
void mw_conn_free(MwConn *conn);

/* mw_conn_fill - read whatever is available (waits up to timeout); FALSE on error, timeout
 * (MW_ERROR_TEMPORARY "timeout") or EOF (MW_ERROR_IO "connection closed", conn->eof set) */
gboolean mw_conn_fill(MwConn *conn, GError **error);
/* mw_conn_pending - bytes received and not consumed */
gsize mw_conn_pending(const MwConn *conn);

/**
 * mw_conn_read_line:
 * @max: longest line accepted, line end included
 * @too_long_out: (out): set when the line was longer than @max: the whole
 *   line was consumed up to its LF and "" is returned
 *
 * Returns: (transfer full): the next line without CRLF (or bare LF), or NULL
 * on error. NUL bytes inside the line are replaced by '?' so the result is a
 * valid C string of the same length.
 */
char *mw_conn_read_line(MwConn *conn, gsize max, gboolean *too_long_out, GError **error);

/* mw_conn_consume - drop @n pending bytes */
void mw_conn_consume(MwConn *conn, gsize n);

void mw_conn_queue(MwConn *conn, const void *data, gsize len);
void mw_conn_queue_printf(MwConn *conn, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* mw_conn_flush - write all queued output */
gboolean mw_conn_flush(MwConn *conn, GError **error);

/**
 * mw_conn_read_reply:
 * @code_out: (out): the three-digit code
 * @text_out: (out) (transfer full): all lines of the reply joined with "\n",
 *   codes included ("250-first\n250 last"), for logging and relaying
 *
 * Reads one complete (multi-line) SMTP reply. A malformed reply is MW_ERROR_PROTOCOL.
 */
gboolean mw_conn_read_reply(MwConn *conn, int *code_out, char **text_out, GError **error);

G_END_DECLS
