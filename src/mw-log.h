/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* mw_log_init - install the log writer: stderr, or syslog (mail facility) on @syslog_socket */
void mw_log_init(gboolean use_syslog, const char *syslog_socket, gboolean verbose);

/* mw_log_queue - a structured log line carrying MAILWARDEN_QUEUE_ID */
void mw_log_queue(GLogLevelFlags level, const char *queue_id, const char *fmt, ...)
	G_GNUC_PRINTF(3, 4);

G_END_DECLS
