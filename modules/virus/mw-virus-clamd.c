/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-virus-clamd - a clamd client: INSTREAM and PING
 * SYNOPSIS
 *	mw_virus_clamd_target_valid, mw_virus_clamd_ping, mw_virus_clamd_scan,
 *	mw_virus_clamd_result_clear
 * DESCRIPTION
 *	clamd(8)'s stream protocol: "zINSTREAM\0", then the message in chunks,
 *	each a 4-byte big-endian length and the bytes, ended by a zero-length
 *	chunk; the reply is "stream: OK", "stream: NAME FOUND" or "... ERROR",
 *	NUL-terminated (the "z" form). The message goes over the socket, so
 *	clamd needs no access to our files (unlike SCAN/CONTSCAN, which made
 *	clamsmtp and amavis share a user with clamd).
 *
 *	One connection per scan (clamd serves INSTREAM once per connection
 *	outside IDSESSION) and one deadline for all of it: connecting, sending
 *	and waiting for the verdict together take at most @timeout_ms, so a
 *	stalled or overloaded clamd costs one bounded wait, after which the
 *	module's on_error applies. clamd closes the connection when the stream
 *	passes its StreamMaxLength; the reply it sent first is still read and
 *	reported as result->limit.
 * SEE ALSO
 *	clamd(8) "INSTREAM", mw-virus.c
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mw-error.h"
#include "mw-net.h"
#include "mw-virus.h"

#define REPLY_MAX 4096

/**
 * mw_virus_clamd_target_valid:
 * @target: "unix:/absolute/path", "host:port" or "[v6addr]:port"
 *
 * Returns: FALSE with MW_ERROR_CONFIG saying what is wrong
 */
gboolean
mw_virus_clamd_target_valid(const char *target, GError **error)
{
	if (target == NULL || *target == '\0') {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "clamd_socket is empty");
		return FALSE;
	}
	if (g_str_has_prefix(target, "unix:")) {
		if (target[5] != '/') {
			g_set_error(error, MW_ERROR, MW_ERROR_CONFIG,
				    "clamd_socket '%s': unix: needs an absolute path", target);
			return FALSE;
		}
		return TRUE;
	}
	const char *colon = strrchr(target, ':');
	guint64 port = 0;
	if (colon == NULL || colon == target ||
	    !g_ascii_string_to_unsigned(colon + 1, 10, 1, 65535, &port, NULL)) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG,
			    "clamd_socket '%s': expected unix:/path or host:port", target);
		return FALSE;
	}
	return TRUE;
}

/* remaining_ms - time left until @deadline (monotonic µs), at least 0 */
static int
remaining_ms(gint64 deadline)
{
	gint64 left = deadline - g_get_monotonic_time();

	return left <= 0 ? 0 : (int) MIN((left + 999) / 1000, (gint64) G_MAXINT);
}

/* wait_fd - poll @fd for @events until @deadline; FALSE with a timeout error */
static gboolean
wait_fd(int fd, short events, gint64 deadline, const char *target, const char *doing,
	GError **error)
{
	struct pollfd pfd = {fd, events, 0};

	for (;;) {
		int ms = remaining_ms(deadline);
		int n = ms > 0 ? poll(&pfd, 1, ms) : 0;
		if (n > 0)
			return TRUE;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "clamd %s: poll: %s", target,
				    g_strerror(errno));
			return FALSE;
		}
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "clamd %s: timeout while %s", target,
			    doing);
		return FALSE;
	}
}

/* clamd_connect - a non-blocking connection, or -1 with MW_ERROR_BACKEND */
static int
clamd_connect(const char *target, gint64 deadline, GError **error)
{
	g_autoptr(GError) local = NULL;
	guint secs = (guint) MAX(1, (remaining_ms(deadline) + 999) / 1000);
	int fd = mw_net_connect(target, secs, &local);

	if (fd < 0) {
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "clamd unreachable: %s",
			    local->message);
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

/* send_all - every byte of @data before @deadline */
static gboolean
send_all(int fd, const void *data, gsize len, gint64 deadline, const char *target, GError **error)
{
	const guint8 *p = data;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (gsize) n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!wait_fd(fd, POLLOUT, deadline, target, "sending", error))
				return FALSE;
			continue;
		}
		int err = n < 0 ? errno : EPIPE;
		if (err == EPIPE || err == ECONNRESET)
			g_set_error(error, MW_ERROR, MW_ERROR_BACKEND,
				    "clamd %s: connection closed while sending (%s)", target,
				    g_strerror(err));
		else
			g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "clamd %s: send: %s", target,
				    g_strerror(err));
		return FALSE;
	}
	return TRUE;
}

/* read_reply - one NUL-terminated (or EOF-terminated) reply, without trailing blanks */
static char *
read_reply(int fd, gint64 deadline, const char *target, GError **error)
{
	GString *reply = g_string_new(NULL);
	char buf[512];

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof buf, 0);
		if (n > 0) {
			const char *nul = memchr(buf, '\0', (gsize) n);
			g_string_append_len(reply, buf, nul != NULL ? nul - buf : n);
			if (nul != NULL || reply->len > REPLY_MAX)
				break;
			continue;
		}
		if (n == 0 || errno == ECONNRESET)
			break; /* a reset is a hang-up that left our data unread */
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (!wait_fd(fd, POLLIN, deadline, target, "waiting for the verdict",
				     error)) {
				g_string_free(reply, TRUE);
				return NULL;
			}
			continue;
		}
		if (reply->len > 0)
			break;
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "clamd %s: recv: %s", target,
			    g_strerror(errno));
		g_string_free(reply, TRUE);
		return NULL;
	}
	if (reply->len == 0) {
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND,
			    "clamd %s: connection closed without a reply", target);
		g_string_free(reply, TRUE);
		return NULL;
	}
	g_strchomp(reply->str);
	reply->len = strlen(reply->str);
	return g_string_free(reply, FALSE);
}

/**
 * mw_virus_clamd_ping:
 * @target: clamd_socket
 * @timeout_ms: for the whole exchange
 *
 * Returns: TRUE when clamd answers PONG; FALSE with MW_ERROR_BACKEND saying
 * why not (unreachable, timeout, another answer)
 */
gboolean
mw_virus_clamd_ping(const char *target, guint timeout_ms, GError **error)
{
	gint64 deadline = g_get_monotonic_time() + (gint64) timeout_ms * 1000;
	int fd = clamd_connect(target, deadline, error);
	if (fd < 0)
		return FALSE;
	static const char ping[] = "zPING";
	g_autofree char *reply = NULL;
	if (send_all(fd, ping, sizeof ping, deadline, target, error))
		reply = read_reply(fd, deadline, target, error);
	close(fd);
	if (reply == NULL)
		return FALSE;
	if (strcmp(reply, "PONG") != 0) {
		g_autofree char *shown = mw_virus_sanitize(reply, 200);
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "clamd %s: PING answered '%s'",
			    target, shown);
		return FALSE;
	}
	return TRUE;
}

/* parse_reply - "stream: OK", "stream: NAME FOUND", "... size limit exceeded. ERROR" */
static gboolean
parse_reply(const char *reply, const char *target, MwVirusClamdResult *result, GError **error)
{
	const char *text = g_str_has_prefix(reply, "stream: ") ? reply + 8 : reply;

	if (strcmp(text, "OK") == 0)
		return TRUE;
	if (g_str_has_suffix(text, " FOUND")) {
		result->virus = g_strndup(text, strlen(text) - 6);
		g_strstrip(result->virus);
		if (*result->virus == '\0') {
			g_free(result->virus);
			result->virus = g_strdup("unknown");
		}
		return TRUE;
	}
	if (strstr(text, "size limit exceeded") != NULL) {
		result->limit = TRUE;
		return TRUE;
	}
	g_autofree char *shown = mw_virus_sanitize(reply, 200);
	g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "clamd %s: %s", target, shown);
	return FALSE;
}

/* stream_message - the INSTREAM chunks and the terminator */
static gboolean
stream_message(int fd, MwMessage *message, guint64 max_bytes, gsize chunk_size, gint64 deadline,
	       const char *target, GError **error)
{
	guint64 size = MIN(mw_message_get_size(message), max_bytes);
	g_autofree guint8 *chunk = g_malloc(chunk_size + 4);
	guint64 offset = 0;

	while (offset < size) {
		gsize want = (gsize) MIN((guint64) chunk_size, size - offset);
		gssize n = mw_message_read(message, offset, chunk + 4, want, error);
		if (n < 0)
			return FALSE;
		if (n == 0)
			break;
		guint32 be = GUINT32_TO_BE((guint32) n);
		memcpy(chunk, &be, 4);
		if (!send_all(fd, chunk, (gsize) n + 4, deadline, target, error))
			return FALSE;
		offset += (guint64) n;
	}
	static const guint8 end[4] = {0, 0, 0, 0};
	return send_all(fd, end, sizeof end, deadline, target, error);
}

/**
 * mw_virus_clamd_scan:
 * @target: clamd_socket
 * @message: the message as received
 * @max_bytes: send at most this much (max_scan_size)
 * @chunk_size: bytes per INSTREAM chunk
 * @timeout_ms: for connecting, sending and the verdict together
 * @result: (out caller-allocates): the verdict; clear it with mw_virus_clamd_result_clear()
 *
 * Returns: FALSE with MW_ERROR_BACKEND when clamd is unreachable, too slow,
 * closes the connection or answers an error; TRUE with @result otherwise
 */
gboolean
mw_virus_clamd_scan(const char *target, MwMessage *message, guint64 max_bytes, gsize chunk_size,
		    guint timeout_ms, MwVirusClamdResult *result, GError **error)
{
	memset(result, 0, sizeof *result);
	result->truncated = mw_message_get_size(message) > max_bytes;
	gint64 deadline = g_get_monotonic_time() + (gint64) timeout_ms * 1000;
	int fd = clamd_connect(target, deadline, error);
	if (fd < 0)
		return FALSE;
	static const char command[] = "zINSTREAM";
	g_autoptr(GError) send_error = NULL;
	gboolean sent =
		send_all(fd, command, sizeof command, deadline, target, &send_error) &&
		stream_message(fd, message, max_bytes, chunk_size, deadline, target, &send_error);
	/* clamd answers and hangs up when the stream is too long: its reply says why */
	g_autoptr(GError) read_error = NULL;
	gint64 reply_deadline =
		sent ? deadline : MIN(deadline, g_get_monotonic_time() + G_USEC_PER_SEC);
	g_autofree char *reply = read_reply(fd, reply_deadline, target, &read_error);
	close(fd);
	if (reply == NULL) {
		if (sent)
			g_propagate_error(error, g_steal_pointer(&read_error));
		else
			g_propagate_error(error, g_steal_pointer(&send_error));
		return FALSE;
	}
	if (!parse_reply(reply, target, result, error))
		return FALSE;
	if (!sent && !result->limit && result->virus == NULL) {
		/* "OK" for half a message proves nothing */
		g_propagate_error(error, g_steal_pointer(&send_error));
		return FALSE;
	}
	return TRUE;
}

/* mw_virus_clamd_result_clear - free what a scan put in @result */
void
mw_virus_clamd_result_clear(MwVirusClamdResult *result)
{
	g_clear_pointer(&result->virus, g_free);
}
