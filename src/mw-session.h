/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <sys/socket.h>

#include <glib.h>

#include "mw-config.h"
#include "mw-reinject.h"

G_BEGIN_DECLS

/* what a worker lends to each session */
typedef struct {
	const MwConfig *config;
	MwReinjector *reinjector;
	/* set by the worker's SIGTERM handler: finish the current message, then 421 */
	volatile int *draining;
} MwSessionContext;

/**
 * mw_session_run:
 * @fd: the accepted connection (closed on return)
 * @peer: the client's address, for allowed_clients and logging
 *
 * Serves one SMTP or LMTP connection until QUIT, EOF, timeout, too many
 * errors or shutdown. Never returns an error: every problem is an SMTP reply
 * and a log line.
 */
void mw_session_run(MwSessionContext *ctx, int fd, const struct sockaddr *peer, socklen_t peer_len);

G_END_DECLS
