/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-log - where log lines go
 * SYNOPSIS
 *	mw_log_init, mw_log_queue
 * DESCRIPTION
 *	GLib structured logging with one writer: to stderr as
 *	"mailwarden[PID]: level: text" (foreground, systemd's journal), or to
 *	syslog with the mail facility (mw-syslog, on `syslog_socket`) so that
 *	`grep QUEUEID /var/log/mail.log` shows Postfix's and mailwarden's
 *	lines together. Debug and info lines
 *	are only written in verbose mode (-v) or with G_MESSAGES_DEBUG.
 *	Each line is written with one write(2), so lines from several worker
 *	processes never interleave.
 */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <string.h>
#include <unistd.h>

#include "mw-log.h"
#include "mw-syslog.h"

/* process-wide logging settings, set once at startup before workers fork */
static gboolean log_syslog;
static gboolean log_verbose;

/* level_name - lower-case level for stderr lines */
static const char *
level_name(GLogLevelFlags level)
{
	if (level & G_LOG_LEVEL_ERROR)
		return "fatal";
	if (level & G_LOG_LEVEL_CRITICAL)
		return "critical";
	if (level & G_LOG_LEVEL_WARNING)
		return "warning";
	if (level & G_LOG_LEVEL_MESSAGE)
		return NULL;
	if (level & G_LOG_LEVEL_INFO)
		return "info";
	return "debug";
}

/* level_priority - syslog priority for a GLib level */
static int
level_priority(GLogLevelFlags level)
{
	if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
		return LOG_CRIT;
	if (level & G_LOG_LEVEL_WARNING)
		return LOG_WARNING;
	if (level & G_LOG_LEVEL_MESSAGE)
		return LOG_NOTICE;
	if (level & G_LOG_LEVEL_INFO)
		return LOG_INFO;
	return LOG_DEBUG;
}

static GLogWriterOutput
writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
	if ((level & (G_LOG_LEVEL_DEBUG | G_LOG_LEVEL_INFO)) && !log_verbose) {
		const char *domains = g_getenv("G_MESSAGES_DEBUG");
		if (domains == NULL)
			return G_LOG_WRITER_HANDLED;
	}
	const char *message = NULL;
	const char *domain = NULL;
	for (gsize i = 0; i < n_fields; i++) {
		if (g_strcmp0(fields[i].key, "MESSAGE") == 0)
			message = fields[i].value;
		else if (g_strcmp0(fields[i].key, "GLIB_DOMAIN") == 0)
			domain = fields[i].value;
	}
	if (message == NULL)
		return G_LOG_WRITER_UNHANDLED;
	/* a module's domain is mailwarden-<module>: show the module */
	const char *module = NULL;
	if (domain != NULL && g_str_has_prefix(domain, "mailwarden-"))
		module = domain + strlen("mailwarden-");
	if (log_syslog) {
		if (module != NULL) {
			g_autofree char *text = g_strdup_printf("%s: %s", module, message);
			mw_syslog_send(level_priority(level), text);
		} else {
			mw_syslog_send(level_priority(level), message);
		}
		return G_LOG_WRITER_HANDLED;
	}
	const char *name = level_name(level);
	g_autoptr(GString) line = g_string_new(NULL);
	g_string_append_printf(line, "mailwarden[%d]: ", (int) getpid());
	if (name != NULL)
		g_string_append_printf(line, "%s: ", name);
	if (module != NULL)
		g_string_append_printf(line, "%s: ", module);
	g_string_append(line, message);
	g_string_append_c(line, '\n');
	/* one write: lines from concurrent workers stay whole */
	ssize_t unused = write(STDERR_FILENO, line->str, line->len);
	(void) unused;
	return G_LOG_WRITER_HANDLED;
}

void
mw_log_init(gboolean use_syslog, const char *syslog_socket, gboolean verbose)
{
	log_syslog = use_syslog;
	log_verbose = verbose;
	static gboolean installed;
	/* a syslog daemon that is not up yet is tried again at each line */
	if (use_syslog)
		mw_syslog_open(syslog_socket, LOG_MAIL);
	else
		mw_syslog_close();
	if (!installed)
		g_log_set_writer_func(writer, NULL, NULL);
	installed = TRUE;
}

void
mw_log_queue(GLogLevelFlags level, const char *queue_id, const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	g_autofree char *text = g_strdup_vprintf(fmt, args);
	va_end(args);
	const GLogField fields[] = {
		{"MESSAGE", text, -1},
		{"PRIORITY", level & G_LOG_LEVEL_WARNING ? "4" : "5", -1},
		{"GLIB_DOMAIN", G_LOG_DOMAIN, -1},
		{"MAILWARDEN_QUEUE_ID", queue_id != NULL ? queue_id : "", -1},
		{"SYSLOG_IDENTIFIER", "mailwarden", -1},
		{"SYSLOG_FACILITY", "2", -1},
	};
	g_log_structured_array(level, fields, G_N_ELEMENTS(fields));
}
