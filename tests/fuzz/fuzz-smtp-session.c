/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	fuzz-smtp-session - bytes in, replies out: the whole server session
 * DESCRIPTION
 *	The input is written to one end of a socketpair and the session runs
 *	on the other (SMTP or LMTP, chosen by the first byte), with the
 *	downstream unreachable. A thread drains the replies so the session
 *	never blocks on a full socket. Every reply must be a well-formed SMTP
 *	reply line and no 250 may answer a final dot (nothing can be
 *	delivered).
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mw-session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static MwConfig *configs[2];

typedef struct {
	int fd;
	GString *out;
} Drain;

static void *
drain(void *arg)
{
	Drain *d = arg;
	char buf[65536];
	ssize_t n;
	while ((n = read(d->fd, buf, sizeof buf)) > 0)
		g_string_append_len(d->out, buf, n);
	return NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (configs[0] == NULL) {
		g_mime_init();
		const char *overrides[] = {"state_dir=/tmp", NULL};
		configs[0] = mw_config_load_data("[mailwarden]\nhostname = fuzz.test\n"
						 "reinject = 127.0.0.1:1\ntimeout = 2\n"
						 "max_message_size = 200000\n",
						 overrides, NULL);
		configs[1] = mw_config_load_data("[mailwarden]\nhostname = fuzz.test\n"
						 "reinject = 127.0.0.1:1\ntimeout = 2\n"
						 "protocol = lmtp\n",
						 overrides, NULL);
		if (configs[0] == NULL || configs[1] == NULL)
			__builtin_trap();
	}
	if (size < 1 || size > 1 << 18)
		return 0;
	const MwConfig *config = configs[data[0] & 1];
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return 0;
	/* the whole input is waiting before the session starts: a big buffer */
	int bufsize = 1 << 20;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof bufsize);
	setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof bufsize);
	Drain d = {sv[0], g_string_new(NULL)};
	pthread_t thread;
	pthread_create(&thread, NULL, drain, &d);
	gsize off = 1;
	while (off < size) {
		ssize_t n = write(sv[0], data + off, size - off);
		if (n <= 0)
			break;
		off += (gsize) n;
	}
	shutdown(sv[0], SHUT_WR);

	volatile int draining = 0;
	MwReinjector *reinjector = mw_reinjector_new(config->reinject, "fuzz.test", 2);
	MwSessionContext ctx = {config, reinjector, &draining};
	struct sockaddr sa = {.sa_family = AF_UNIX};
	mw_session_run(&ctx, sv[1], &sa, sizeof sa);
	mw_reinjector_free(reinjector);
	pthread_join(thread, NULL);
	close(sv[0]);

	g_auto(GStrv) lines = g_strsplit(d.out->str, "\r\n", -1);
	for (guint i = 0; lines[i] != NULL && lines[i + 1] != NULL; i++) {
		const char *l = lines[i];
		if (strlen(l) < 4 || !g_ascii_isdigit(l[0]) || !g_ascii_isdigit(l[1]) ||
		    !g_ascii_isdigit(l[2]) || (l[3] != ' ' && l[3] != '-'))
			__builtin_trap();
		/* nothing can be delivered: the downstream is unreachable */
		if (g_str_has_prefix(l, "250 2.0.0 Ok: ") && strstr(l, "delivered") != NULL)
			__builtin_trap();
	}
	g_string_free(d.out, TRUE);
	return 0;
}
