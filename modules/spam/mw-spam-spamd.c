/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-spam-spamd - SpamAssassin's spamd as the engine (SPAMC/1.5 protocol)
 * SYNOPSIS
 *	mw_spam_spamd_check, mw_spam_spamd_ping, mw_spam_spamd_parse
 * DESCRIPTION
 *	SYMBOLS returns the verdict line "Spam: True ; 7.3 / 5.0" and, as the
 *	body, the names of the rules that hit, comma-separated. spamd's own
 *	threshold (after the slash) is ignored: our levels decide. SYMBOLS
 *	gives no per-rule scores, so the tests carry score 0 and the result's
 *	score is spamd's total. A reply other than "SPAMD/x.y 0 EX_OK" is a
 *	backend failure (on_error applies).
 */
#include <string.h>

#include "mw-error.h"
#include "mw-spam-net.h"
#include "mw-spam-spamd.h"

#define MAX_REPLY (256 * 1024)

/* status_ok - "SPAMD/1.1 0 EX_OK" */
static gboolean
status_ok(const char *line, GError **error)
{
	int code = -1;
	if (!g_str_has_prefix(line, "SPAMD/") || sscanf(line, "SPAMD/%*s %d", &code) != 1 ||
	    code != 0) {
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "spamd replied '%.200s'", line);
		return FALSE;
	}
	return TRUE;
}

gboolean
mw_spam_spamd_parse(const char *reply, MwSpamResult *result, GError **error)
{
	const char *sep = strstr(reply, "\r\n\r\n");
	gsize sep_len = 4;
	if (sep == NULL) {
		sep = strstr(reply, "\n\n");
		sep_len = 2;
	}
	g_autofree char *head =
		sep != NULL ? g_strndup(reply, (gsize) (sep - reply)) : g_strdup(reply);
	const char *body = sep != NULL ? sep + sep_len : "";
	g_auto(GStrv) lines = g_strsplit(head, "\n", -1);
	if (lines[0] == NULL) {
		/* spamd closed without a word, or the reply starts with a blank line */
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND,
			    "spamd replied without a status line");
		return FALSE;
	}
	if (!status_ok(g_strstrip(lines[0]), error))
		return FALSE;
	gboolean have_score = FALSE;
	double score = 0;
	for (guint i = 1; lines[i] != NULL; i++) {
		char *line = g_strstrip(lines[i]);
		if (g_ascii_strncasecmp(line, "Spam:", 5) != 0)
			continue;
		const char *semi = strchr(line, ';');
		if (semi == NULL)
			break;
		char *end = NULL;
		score = g_ascii_strtod(semi + 1, &end);
		have_score = end != semi + 1;
	}
	if (!have_score) {
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "spamd reply without a Spam: line");
		return FALSE;
	}
	g_auto(GStrv) names = g_strsplit_set(body, ",\r\n", -1);
	for (guint i = 0; names[i] != NULL; i++) {
		g_strstrip(names[i]);
		if (*names[i] != '\0')
			mw_spam_result_add(result, names[i], 0);
	}
	result->score = score;
	return TRUE;
}

gboolean
mw_spam_spamd_check(const char *target, guint timeout, MwMessage *message, MwSpamResult *result,
		    GError **error)
{
	g_autofree char *head = g_strdup_printf(
		"SYMBOLS SPAMC/1.5\r\nContent-length: %" G_GUINT64_FORMAT "\r\n\r\n",
		mw_message_get_size(message));
	g_autoptr(GByteArray) reply =
		mw_spam_exchange("spamd", target, timeout, head, message, MAX_REPLY, error);
	if (reply == NULL)
		return FALSE;
	g_autoptr(GError) parse_error = NULL;
	if (!mw_spam_spamd_parse((const char *) reply->data, result, &parse_error)) {
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "spamd at %s: %s", target,
			    parse_error->message);
		return FALSE;
	}
	return TRUE;
}

gboolean
mw_spam_spamd_ping(const char *target, guint timeout, GError **error)
{
	g_autoptr(GByteArray) reply = mw_spam_exchange("spamd", target, timeout,
						       "PING SPAMC/1.5\r\n\r\n", NULL, 4096, error);
	if (reply == NULL)
		return FALSE;
	if (strstr((const char *) reply->data, "PONG") == NULL) {
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND,
			    "spamd at %s did not answer PONG: %.100s", target,
			    (const char *) reply->data);
		return FALSE;
	}
	return TRUE;
}
