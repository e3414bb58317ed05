/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-net - sockets and buffered connections with timeouts
 *
 * SYNOPSIS
 *	int mw_net_listen(const char *target, GError **error);
 *	int mw_net_connect(const char *target, guint timeout, GError **error);
 *	void mw_net_set_nodelay(int fd);
 *	char *mw_net_format_peer(const struct sockaddr *sa, socklen_t len);
 *
 *	MwConn *mw_conn_new(int fd, guint timeout);
 *	void mw_conn_free(MwConn *conn);
 *	gboolean mw_conn_fill(MwConn *conn, GError **error);
 *	gsize mw_conn_pending(const MwConn *conn);
 *	char *mw_conn_read_line(MwConn *conn, gsize max, gboolean *too_long_out,
 *				GError **error);
 *	void mw_conn_consume(MwConn *conn, gsize n);
 *	void mw_conn_queue(MwConn *conn, const void *data, gsize len);
 *	void mw_conn_queue_printf(MwConn *conn, const char *fmt, ...);
 *	gboolean mw_conn_flush(MwConn *conn, GError **error);
 *	gboolean mw_conn_read_reply(MwConn *conn, int *code_out, char **text_out,
 *				    GError **error);
 *
 * DESCRIPTION
 *	Targets are "host:port", "[v6addr]:port" or "unix:/path"; an empty host
 *	or "*" means every address when listening. Every socket is created with
 *	FD_CLOEXEC. Connecting is non-blocking with a poll() timeout; the socket
 *	is then put back into blocking mode, and every later read and write is
 *	preceded by a poll() with the connection's timeout, so a stalled peer
 *	costs at most that long per operation.
 *
 *	The read buffer of a MwConn starts at 64 KiB and only grows when a caller
 *	leaves more than that unconsumed; mw_conn_read_line() discards an
 *	over-long line as it arrives, so it never holds much more than @max
 *	bytes of it. Output is collected in wbuf and written with one send() per
 *	flush (MSG_NOSIGNAL: a closed peer is an EPIPE error, never SIGPIPE).
 *
 *	Errors: MW_ERROR_CONFIG for a malformed target, MW_ERROR_TEMPORARY for
 *	timeouts, MW_ERROR_IO for socket failures and end of file, and
 *	MW_ERROR_PROTOCOL for malformed SMTP replies. Not thread-safe: one
 *	MwConn belongs to one thread at a time.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "mw-error.h"
#include "mw-net.h"

/* initial read buffer size and the free room wanted before each read */
#define MW_CONN_READ_SIZE 65536
#define MW_CONN_MIN_ROOM  4096

/* SMTP reply limits: bytes per line (line end included) and lines per reply */
#define MW_REPLY_LINE_MAX  4096
#define MW_REPLY_MAX_LINES 100

/* listen backlog: never below 128, whatever the headers say */
#define MW_LISTEN_BACKLOG MAX(SOMAXCONN, 128)

/* net_strerror - strerror text starting with a lower-case letter, for messages */
static char *
net_strerror(int errnum)
{
	char *text = g_strdup(g_strerror(errnum));

	if (text[0] != '\0' && g_ascii_isupper(text[0]) && !g_ascii_isupper(text[1]))
		text[0] = g_ascii_tolower(text[0]);
	return text;
}

/* net_parse_target - split a target into host and port, or a unix socket path */
static gboolean
net_parse_target(const char *target, char **host_out, char **port_out, char **path_out,
		 GError **error)
{
	const char *colon;
	g_autofree char *host = NULL;

	*host_out = NULL;
	*port_out = NULL;
	*path_out = NULL;
	if (g_str_has_prefix(target, "unix:")) {
		if (target[5] == '\0') {
			g_set_error(error, MW_ERROR, MW_ERROR_CONFIG,
				    "%s: unix socket path missing", target);
			return FALSE;
		}
		*path_out = g_strdup(target + 5);
		return TRUE;
	}
	if (target[0] == '[') {
		const char *close = strchr(target, ']');

		if (close == NULL || close[1] != ':') {
			g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "%s: expected [address]:port",
				    target);
			return FALSE;
		}
		host = g_strndup(target + 1, close - target - 1);
		colon = close + 1;
	} else {
		colon = strrchr(target, ':');
		if (colon == NULL) {
			g_set_error(error, MW_ERROR, MW_ERROR_CONFIG,
				    "%s: expected host:port or unix:/path", target);
			return FALSE;
		}
		host = g_strndup(target, colon - target);
		if (strchr(host, ':') != NULL) {
			g_set_error(error, MW_ERROR, MW_ERROR_CONFIG,
				    "%s: write IPv6 addresses as [address]:port", target);
			return FALSE;
		}
	}
	if (colon[1] == '\0') {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "%s: port missing", target);
		return FALSE;
	}
	*port_out = g_strdup(colon + 1);
	if (host[0] == '\0' || g_strcmp0(host, "*") == 0)
		g_clear_pointer(&host, g_free);
	*host_out = g_steal_pointer(&host);
	return TRUE;
}

/* net_resolve - getaddrinfo() with an MW_ERROR */
static struct addrinfo *
net_resolve(const char *target, const char *host, const char *port, gboolean passive,
	    GError **error)
{
	struct addrinfo hints = {0};
	struct addrinfo *res = NULL;
	int rc;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = passive ? AI_PASSIVE : 0;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		g_set_error(error, MW_ERROR, MW_ERROR_IO, "%s: %s", target,
			    rc == EAI_SYSTEM ? g_strerror(errno) : gai_strerror(rc));
		return NULL;
	}
	return res;
}

/* net_unix_address - fill a sockaddr_un, refusing paths that do not fit */
static gboolean
net_unix_address(const char *target, const char *path, struct sockaddr_un *sun, GError **error)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path)) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "%s: socket path too long", target);
		return FALSE;
	}
	memcpy(sun->sun_path, path, strlen(path) + 1);
	return TRUE;
}

/* net_remove_stale - remove a socket file nobody listens on any more */
static gboolean
net_remove_stale(const char *target, const char *path, const struct sockaddr_un *sun,
		 GError **error)
{
	struct stat st;
	int fd;
	int rc;

	if (lstat(path, &st) < 0)
		return TRUE;
	if (!S_ISSOCK(st.st_mode)) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "%s: exists and is not a socket",
			    target);
		return FALSE;
	}
	/* a live listener answers the connect: leave its socket alone */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		g_set_error(error, MW_ERROR, MW_ERROR_IO, "%s: socket: %s", target,
			    g_strerror(errno));
		return FALSE;
	}
	rc = connect(fd, (const struct sockaddr *) sun, sizeof(*sun));
	close(fd);
	if (rc == 0 || errno == EAGAIN) {
		g_set_error(error, MW_ERROR, MW_ERROR_IO, "%s: in use by another process", target);
		return FALSE;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		g_set_error(error, MW_ERROR, MW_ERROR_IO, "%s: cannot remove stale socket: %s",
			    target, g_strerror(errno));
		return FALSE;
	}
	return TRUE;
}

/* net_listen_unix - bind a unix socket, mode 0666 */
static int
net_listen_unix(const char *target, const char *path, GError **error)
{
	struct sockaddr_un sun;
	int fd;

	if (!net_unix_address(target, path, &sun, error))
		return -1;
	if (!net_remove_stale(target, path, &sun, error))
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		g_set_error(error, MW_ERROR, MW_ERROR_IO, "%s: socket: %s", target,
			    g_strerror(errno));
		return -1;
	}
	if (bind(fd, (const struct sockaddr *) &sun, sizeof(sun)) < 0) {
		int saved = errno;

		close(fd);
		g_set_error(error, MW_ERROR, MW_ERROR_IO, "%s: bind: %s", target,
			    g_strerror(saved));
		return -1;
	}
	/* the umask must not lock Postfix out */
	if (chmod(path, 0666) < 0 || listen(fd, MW_LISTEN_BACKLOG) < 0) {
		int saved = errno;

		close(fd);
		g_set_error(error, MW_ERROR, MW_ERROR_IO, "%s: %s", target, g_strerror(saved));
		return -1;
	}
	return fd;
}

/**
 * mw_net_listen:
 * @target: "host:port", "[v6]:port", ":port" or "*:port" (all addresses), or "unix:/path"
 *
 * Binds the first address the target resolves to, with SO_REUSEADDR and a
 * backlog of at least 128. A unix socket file left behind by a dead process
 * is replaced (a live one is an error); the socket is made mode 0666.
 *
 * Returns: the listening socket (blocking, FD_CLOEXEC), or -1 with @error set.
 */
int
mw_net_listen(const char *target, GError **error)
{
	g_autofree char *host = NULL;
	g_autofree char *port = NULL;
	g_autofree char *path = NULL;
	struct addrinfo *res;
	int saved = 0;
	int fd = -1;

	g_return_val_if_fail(target != NULL, -1);

	if (!net_parse_target(target, &host, &port, &path, error))
		return -1;
	if (path != NULL)
		return net_listen_unix(target, path, error);

	res = net_resolve(target, host, port, TRUE, error);
	if (res == NULL)
		return -1;
	for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
		int one = 1;

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		(void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
		    listen(fd, MW_LISTEN_BACKLOG) < 0) {
			saved = errno;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd < 0) {
		g_autofree char *reason = net_strerror(saved != 0 ? saved : EADDRNOTAVAIL);

		g_set_error(error, MW_ERROR, MW_ERROR_IO, "%s: cannot listen: %s", target, reason);
	}
	return fd;
}

/* net_timeout_ms - a poll() timeout for @timeout seconds (0 = forever) */
static int
net_timeout_ms(guint timeout)
{
	if (timeout == 0)
		return -1;
	if (timeout > INT_MAX / 1000)
		return INT_MAX;
	return (int) timeout * 1000;
}

/* net_connect_one - one non-blocking connect attempt; returns errno (0 = connected) */
static int
net_connect_one(int fd, const struct sockaddr *sa, socklen_t len, guint timeout)
{
	gint64 deadline = g_get_monotonic_time() + (gint64) timeout * G_USEC_PER_SEC;
	int err = 0;
	socklen_t errlen = sizeof(err);

	if (connect(fd, sa, len) == 0)
		return 0;
	if (errno != EINPROGRESS && errno != EINTR)
		return errno;
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLOUT};
		int wait_ms = -1;
		int n;

		if (timeout > 0) {
			gint64 left = deadline - g_get_monotonic_time();

			if (left <= 0)
				return ETIMEDOUT;
			wait_ms = (int) MIN((left + 999) / 1000, (gint64) INT_MAX);
		}
		n = poll(&pfd, 1, wait_ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		if (n == 0)
			return ETIMEDOUT;
		break;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errlen) < 0)
		return errno;
	return err;
}

/* net_connect_addr - socket + connect + blocking mode; returns the fd or -1 with *errno_out */
static int
net_connect_addr(int family, const struct sockaddr *sa, socklen_t len, guint timeout,
		 int *errno_out)
{
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int err;
	int flags;

	if (fd < 0) {
		*errno_out = errno;
		return -1;
	}
	err = net_connect_one(fd, sa, len, timeout);
	if (err == 0) {
		flags = fcntl(fd, F_GETFL);
		if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
			err = errno;
	}
	if (err != 0) {
		close(fd);
		*errno_out = err;
		return -1;
	}
	return fd;
}

/**
 * mw_net_connect:
 * @target: "host:port", "[v6]:port" or "unix:/path"
 * @timeout: seconds per address tried (0 = the kernel's own limit)
 *
 * Tries every address the host resolves to, in order. TCP sockets get
 * TCP_NODELAY.
 *
 * Returns: a connected blocking socket (FD_CLOEXEC), or -1 with @error set:
 * MW_ERROR_TEMPORARY when the connect timed out, MW_ERROR_IO for other
 * failures ("127.0.0.1:10027: connection refused"), MW_ERROR_CONFIG for a
 * malformed target.
 */
int
mw_net_connect(const char *target, guint timeout, GError **error)
{
	g_autofree char *host = NULL;
	g_autofree char *port = NULL;
	g_autofree char *path = NULL;
	g_autofree char *reason = NULL;
	int err = EADDRNOTAVAIL;
	int fd = -1;

	g_return_val_if_fail(target != NULL, -1);

	if (!net_parse_target(target, &host, &port, &path, error))
		return -1;
	if (path != NULL) {
		struct sockaddr_un sun;

		if (!net_unix_address(target, path, &sun, error))
			return -1;
		fd = net_connect_addr(AF_UNIX, (const struct sockaddr *) &sun, sizeof(sun), timeout,
				      &err);
	} else {
		struct addrinfo *res = net_resolve(target, host, port, FALSE, error);

		if (res == NULL)
			return -1;
		for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next)
			fd = net_connect_addr(ai->ai_family, ai->ai_addr, ai->ai_addrlen, timeout,
					      &err);
		freeaddrinfo(res);
		if (fd >= 0)
			mw_net_set_nodelay(fd);
	}
	if (fd >= 0)
		return fd;
	reason = net_strerror(err);
	g_set_error(error, MW_ERROR, err == ETIMEDOUT ? MW_ERROR_TEMPORARY : MW_ERROR_IO, "%s: %s",
		    target, reason);
	return -1;
}

/**
 * mw_net_set_nodelay:
 *
 * Disables Nagle's algorithm so that a reply written in one piece leaves at
 * once; errors (a unix socket, a pipe) are ignored.
 */
void
mw_net_set_nodelay(int fd)
{
	int one = 1;

	(void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/**
 * mw_net_format_peer:
 *
 * Returns: (transfer full): the numeric address ("192.0.2.1", "2001:db8::1";
 * an IPv4-mapped IPv6 address is shown as IPv4), "unix", or "unknown".
 */
char *
mw_net_format_peer(const struct sockaddr *sa, socklen_t len)
{
	char buf[INET6_ADDRSTRLEN];

	if (sa == NULL || len < sizeof(sa_family_t))
		return g_strdup("unknown");
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *) sa;

		if (inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf)) != NULL)
			return g_strdup(buf);
	} else if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *) sa;

		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
			if (inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12], buf, sizeof(buf)) !=
			    NULL)
				return g_strdup(buf);
		} else if (inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof(buf)) != NULL) {
			return g_strdup(buf);
		}
	} else if (sa->sa_family == AF_UNIX) {
		return g_strdup("unix");
	}
	return g_strdup("unknown");
}

/**
 * mw_conn_new:
 * @fd: (transfer full): a connected socket (or any stream fd)
 * @timeout: seconds for each read and write; 0 = wait forever
 */
MwConn *
mw_conn_new(int fd, guint timeout)
{
	MwConn *conn = g_new0(MwConn, 1);

	conn->fd = fd;
	conn->timeout = timeout;
	conn->wbuf = g_byte_array_new();
	/* never NULL: pointer arithmetic on rbuf is then always defined */
	conn->rcap = MW_CONN_READ_SIZE;
	conn->rbuf = g_malloc(conn->rcap);
	return conn;
}

void
mw_conn_free(MwConn *conn)
{
	if (conn == NULL)
		return;
	if (conn->fd >= 0)
		close(conn->fd);
	g_free(conn->rbuf);
	g_byte_array_unref(conn->wbuf);
	g_free(conn);
}

/* conn_wait - poll for @events with the connection's timeout */
static gboolean
conn_wait(MwConn *conn, short events, GError **error)
{
	gint64 deadline = g_get_monotonic_time() + (gint64) conn->timeout * G_USEC_PER_SEC;

	for (;;) {
		struct pollfd pfd = {.fd = conn->fd, .events = events};
		int wait_ms = net_timeout_ms(conn->timeout);
		int n;

		if (conn->timeout > 0) {
			gint64 left = deadline - g_get_monotonic_time();

			if (left <= 0)
				wait_ms = 0;
			else
				wait_ms = (int) MIN((left + 999) / 1000, (gint64) INT_MAX);
		}
		if (conn->interrupt != NULL) {
			/* a shutdown request ends the wait; poll in slices so a signal
			 * arriving just before poll() is seen within a second */
			if (*conn->interrupt) {
				g_set_error_literal(error, MW_ERROR, MW_ERROR_TEMPORARY,
						    "interrupted");
				return FALSE;
			}
			if (wait_ms < 0 || wait_ms > 1000)
				wait_ms = 1000;
		}
		n = poll(&pfd, 1, wait_ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			g_set_error(error, MW_ERROR, MW_ERROR_IO, "poll: %s", g_strerror(errno));
			return FALSE;
		}
		if (n == 0 && conn->interrupt != NULL &&
		    (conn->timeout == 0 || g_get_monotonic_time() < deadline))
			continue;
		if (n == 0) {
			g_set_error_literal(error, MW_ERROR, MW_ERROR_TEMPORARY, "timeout");
			return FALSE;
		}
		/* POLLHUP/POLLERR: the following read or write reports it */
		return TRUE;
	}
}

/* conn_set_io_error - an MW_ERROR_IO from errno */
static void
conn_set_io_error(int errnum, GError **error)
{
	g_autofree char *reason = net_strerror(errnum);

	g_set_error_literal(error, MW_ERROR, MW_ERROR_IO, reason);
}

/* conn_make_room - compact or grow the read buffer so that a read gets at least MIN_ROOM */
static void
conn_make_room(MwConn *conn)
{
	if (conn->rpos == conn->rlen)
		conn->rpos = conn->rlen = 0;
	if (conn->rcap - conn->rlen >= MW_CONN_MIN_ROOM)
		return;
	if (conn->rpos > 0) {
		memmove(conn->rbuf, conn->rbuf + conn->rpos, conn->rlen - conn->rpos);
		conn->rlen -= conn->rpos;
		conn->rpos = 0;
		if (conn->rcap - conn->rlen >= MW_CONN_MIN_ROOM)
			return;
	}
	/* only a caller that keeps a lot unconsumed gets here */
	conn->rcap = conn->rcap == 0 ? MW_CONN_READ_SIZE : conn->rcap * 2;
	conn->rbuf = g_realloc(conn->rbuf, conn->rcap);
}

/**
 * mw_conn_fill:
 *
 * Reads what is available (at least one byte), waiting up to the timeout.
 *
 * Returns: FALSE on timeout (MW_ERROR_TEMPORARY "timeout"), end of file
 * (MW_ERROR_IO "connection closed", conn->eof set) or a socket error
 * (MW_ERROR_IO with the system's text, e.g. "connection reset by peer").
 */
gboolean
mw_conn_fill(MwConn *conn, GError **error)
{
	g_return_val_if_fail(conn != NULL, FALSE);

	if (conn->eof) {
		g_set_error_literal(error, MW_ERROR, MW_ERROR_IO, "connection closed");
		return FALSE;
	}
	conn_make_room(conn);
	for (;;) {
		ssize_t n;

		if (!conn_wait(conn, POLLIN, error))
			return FALSE;
		n = read(conn->fd, conn->rbuf + conn->rlen, conn->rcap - conn->rlen);
		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (n < 0) {
			conn_set_io_error(errno, error);
			return FALSE;
		}
		if (n == 0) {
			conn->eof = TRUE;
			g_set_error_literal(error, MW_ERROR, MW_ERROR_IO, "connection closed");
			return FALSE;
		}
		conn->rlen += (gsize) n;
		return TRUE;
	}
}

gsize
mw_conn_pending(const MwConn *conn)
{
	g_return_val_if_fail(conn != NULL, 0);
	return conn->rlen - conn->rpos;
}

void
mw_conn_consume(MwConn *conn, gsize n)
{
	g_return_if_fail(conn != NULL);
	g_return_if_fail(n <= conn->rlen - conn->rpos);

	conn->rpos += n;
	if (conn->rpos == conn->rlen)
		conn->rpos = conn->rlen = 0;
}

/**
 * mw_conn_read_line:
 *
 * A line longer than @max is consumed as it arrives (the buffer never holds
 * more than about @max bytes of it plus one read) and reported as "" with
 * *@too_long_out set; the caller answers it and goes on with the next line.
 */
char *
mw_conn_read_line(MwConn *conn, gsize max, gboolean *too_long_out, GError **error)
{
	gboolean discarding = FALSE;
	gsize scanned = 0;

	g_return_val_if_fail(conn != NULL, NULL);

	if (too_long_out != NULL)
		*too_long_out = FALSE;
	for (;;) {
		const guint8 *start = conn->rbuf + conn->rpos;
		gsize pending = conn->rlen - conn->rpos;
		const guint8 *lf = NULL;

		if (pending > scanned)
			lf = memchr(start + scanned, '\n', pending - scanned);
		if (lf != NULL) {
			gsize n = (gsize) (lf - start) + 1;
			gsize len = n - 1;
			char *line;

			if (discarding || n > max) {
				mw_conn_consume(conn, n);
				if (too_long_out != NULL)
					*too_long_out = TRUE;
				return g_strdup("");
			}
			if (len > 0 && start[len - 1] == '\r')
				len--;
			line = g_malloc(len + 1);
			memcpy(line, start, len);
			line[len] = '\0';
			for (gsize i = 0; i < len; i++) {
				if (line[i] == '\0')
					line[i] = '?';
			}
			mw_conn_consume(conn, n);
			return line;
		}
		scanned = pending;
		if (pending > 0 && pending >= max) {
			/* already too long without its LF: drop what we have */
			discarding = TRUE;
			mw_conn_consume(conn, pending);
			scanned = 0;
		}
		if (!mw_conn_fill(conn, error))
			return NULL;
	}
}

void
mw_conn_queue(MwConn *conn, const void *data, gsize len)
{
	g_return_if_fail(conn != NULL);
	g_return_if_fail(data != NULL || len == 0);

	g_byte_array_append(conn->wbuf, data, (guint) len);
}

void
mw_conn_queue_printf(MwConn *conn, const char *fmt, ...)
{
	g_autofree char *text = NULL;
	va_list ap;

	g_return_if_fail(conn != NULL);
	g_return_if_fail(fmt != NULL);

	va_start(ap, fmt);
	text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_byte_array_append(conn->wbuf, (const guint8 *) text, (guint) strlen(text));
}

/**
 * mw_conn_flush:
 *
 * Writes everything queued, normally with a single send(). The queue is
 * emptied whatever the outcome.
 *
 * Returns: FALSE on timeout (MW_ERROR_TEMPORARY) or a socket error
 * (MW_ERROR_IO, e.g. "broken pipe" when the peer has gone).
 */
gboolean
mw_conn_flush(MwConn *conn, GError **error)
{
	gsize off = 0;

	g_return_val_if_fail(conn != NULL, FALSE);

	while (off < conn->wbuf->len) {
		const guint8 *data = conn->wbuf->data + off;
		gsize len = conn->wbuf->len - off;
		ssize_t n;

		if (!conn_wait(conn, POLLOUT, error)) {
			g_byte_array_set_size(conn->wbuf, 0);
			return FALSE;
		}
		n = send(conn->fd, data, len, MSG_NOSIGNAL);
		if (n < 0 && errno == ENOTSOCK)
			n = write(conn->fd, data, len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (n < 0) {
			conn_set_io_error(errno, error);
			g_byte_array_set_size(conn->wbuf, 0);
			return FALSE;
		}
		off += (gsize) n;
	}
	g_byte_array_set_size(conn->wbuf, 0);
	return TRUE;
}

/* reply_malformed - MW_ERROR_PROTOCOL quoting (the start of) the offending line */
static void
reply_malformed(const char *why, const char *line, GError **error)
{
	g_autofree char *shown = g_strndup(line, 80);

	for (char *p = shown; *p != '\0'; p++) {
		if ((guchar) *p < ' ' || (guchar) *p >= 0x7f)
			*p = '?';
	}
	g_set_error(error, MW_ERROR, MW_ERROR_PROTOCOL, "malformed reply (%s): \"%s\"", why, shown);
}

/**
 * mw_conn_read_reply:
 *
 * Each line must start with the same three-digit code (first digit 1-5)
 * followed by '-' (more lines follow), ' ' or the end of the line. Lines are
 * at most 4096 bytes and a reply at most 100 lines.
 */
gboolean
mw_conn_read_reply(MwConn *conn, int *code_out, char **text_out, GError **error)
{
	g_autoptr(GString) text = g_string_new(NULL);
	int code = 0;

	g_return_val_if_fail(conn != NULL, FALSE);

	for (guint n = 0;; n++) {
		g_autofree char *line = NULL;
		gboolean too_long = FALSE;
		int line_code;
		char sep;

		if (n >= MW_REPLY_MAX_LINES) {
			g_set_error_literal(error, MW_ERROR, MW_ERROR_PROTOCOL,
					    "malformed reply (too many lines)");
			return FALSE;
		}
		line = mw_conn_read_line(conn, MW_REPLY_LINE_MAX, &too_long, error);
		if (line == NULL)
			return FALSE;
		if (too_long) {
			g_set_error_literal(error, MW_ERROR, MW_ERROR_PROTOCOL,
					    "malformed reply (line too long)");
			return FALSE;
		}
		if (strlen(line) < 3 || line[0] < '1' || line[0] > '5' ||
		    !g_ascii_isdigit(line[1]) || !g_ascii_isdigit(line[2])) {
			reply_malformed("no reply code", line, error);
			return FALSE;
		}
		sep = line[3];
		if (sep != '\0' && sep != ' ' && sep != '-') {
			reply_malformed("bad separator", line, error);
			return FALSE;
		}
		line_code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
		if (n > 0 && line_code != code) {
			reply_malformed("reply code changed", line, error);
			return FALSE;
		}
		code = line_code;
		if (n > 0)
			g_string_append_c(text, '\n');
		g_string_append(text, line);
		if (sep != '-')
			break;
	}
	if (code_out != NULL)
		*code_out = code;
	if (text_out != NULL)
		*text_out = g_string_free(g_steal_pointer(&text), FALSE);
	return TRUE;
}
