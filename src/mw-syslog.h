/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* mw_syslog_open - connect to the syslog socket @path (NULL or "": /dev/log) with @facility */
gboolean mw_syslog_open(const char *path, int facility);
/* mw_syslog_send - one line with @priority; reconnects once, else standard error */
void mw_syslog_send(int priority, const char *text);
/* mw_syslog_close - close the socket */
void mw_syslog_close(void);

G_END_DECLS
