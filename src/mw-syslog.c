/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-syslog - a syslog client on a configurable socket
 * SYNOPSIS
 *	mw_syslog_open, mw_syslog_send, mw_syslog_close
 * DESCRIPTION
 *	What glibc's syslog(3) does, with the socket path as a setting
 *	(`syslog_socket`, default /dev/log) instead of a constant: a mail
 *	server in a chroot or a container has its log socket elsewhere, and a
 *	test can read what mailwarden logs without touching /dev.
 *
 *	Lines go out as RFC 3164 datagrams, "<PRI>Mmm dd hh:mm:ss
 *	mailwarden[PID]: text", the format syslog daemons and journald expect
 *	on /dev/log; a stream socket (some syslog daemons) gets the same lines
 *	ended by a NUL byte. When the daemon was restarted the next line
 *	reconnects once; a line that still cannot be sent is written to
 *	standard error (the journal, under systemd) with a note, never lost
 *	silently. The socket is opened before the workers fork and shared by
 *	them, as with openlog(LOG_NDELAY): each line is one send(2).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "mw-syslog.h"

/* longer lines are cut: a datagram has a size limit, and no log line needs more */
#define MW_SYSLOG_MAX 16384

/* process-wide, like openlog()'s state: set once at startup, before workers fork */
static struct {
	char *path;
	int facility;
	int fd;
	int type;
} sys = {.fd = -1};

/* try_connect - a socket connected to sys.path of @type, or -1 */
static int
try_connect(int type)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(sys.path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun.sun_path, sys.path, strlen(sys.path) + 1);
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *) &sun, sizeof(sun)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* reconnect - (re)open the socket: datagram first, a stream when the socket is one */
static gboolean
reconnect(void)
{
	if (sys.fd >= 0)
		close(sys.fd);
	sys.type = SOCK_DGRAM;
	sys.fd = try_connect(SOCK_DGRAM);
	if (sys.fd < 0 && errno == EPROTOTYPE) {
		sys.type = SOCK_STREAM;
		sys.fd = try_connect(SOCK_STREAM);
	}
	return sys.fd >= 0;
}

/**
 * mw_syslog_open:
 * @path: the syslog daemon's socket (NULL or "": /dev/log)
 * @facility: e.g. LOG_MAIL
 * Connects now (a daemon not running yet is tried again at the first line).
 * Returns: FALSE, with errno, when the socket cannot be reached now
 */
gboolean
mw_syslog_open(const char *path, int facility)
{
	mw_syslog_close();
	sys.path = g_strdup(path != NULL && *path != '\0' ? path : "/dev/log");
	sys.facility = facility;
	return reconnect();
}

/* send_line - one line on the open socket */
static gboolean
send_line(const char *line, gsize len)
{
	/* a stream needs the NUL as the end of the line; MSG_NOSIGNAL: no SIGPIPE */
	gsize total = sys.type == SOCK_STREAM ? len + 1 : len;
	ssize_t n = sys.fd >= 0 ? send(sys.fd, line, total, MSG_NOSIGNAL) : -1;
	return n == (ssize_t) total;
}

/**
 * mw_syslog_send:
 * @priority: LOG_WARNING etc. (the facility of mw_syslog_open() is added)
 * @text: the line, without a newline
 * Sends one line; reconnects once when the daemon went away. When that
 * fails too, the line goes to standard error.
 */
void
mw_syslog_send(int priority, const char *text)
{
	char stamp[32] = "";
	struct tm tm;
	time_t now = time(NULL);

	if (sys.path == NULL)
		return;
	if (localtime_r(&now, &tm) != NULL)
		strftime(stamp, sizeof stamp, "%b %e %H:%M:%S", &tm);
	g_autoptr(GString) line = g_string_sized_new(128 + strlen(text));
	g_string_printf(line, "<%d>%s mailwarden[%d]: ", sys.facility | priority, stamp,
			(int) getpid());
	gsize room = MW_SYSLOG_MAX - line->len;
	gsize len = strlen(text);
	g_string_append_len(line, text, (gssize) MIN(len, room));
	if (len > room)
		g_string_append(line, "...");
	if (send_line(line->str, line->len))
		return;
	if (reconnect() && send_line(line->str, line->len))
		return;
	int e = errno;
	g_autofree char *err = g_strdup_printf("mailwarden[%d]: syslog %s: %s; the line was: %s\n",
					       (int) getpid(), sys.path, g_strerror(e), text);
	ssize_t unused = write(STDERR_FILENO, err, strlen(err));
	(void) unused;
}

/* mw_syslog_close - closes the socket (mw_syslog_send() is then a no-op until the next open) */
void
mw_syslog_close(void)
{
	if (sys.fd >= 0)
		close(sys.fd);
	sys.fd = -1;
	g_clear_pointer(&sys.path, g_free);
}
