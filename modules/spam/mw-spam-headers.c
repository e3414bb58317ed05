/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-spam-headers - the X-Spam-* headers, Received-SPF and the subject tag
 * SYNOPSIS
 *	mw_spam_headers_foreign, mw_spam_headers_needed, mw_spam_headers_apply,
 *	mw_spam_level_stars, mw_spam_status_value, mw_spam_subject_tagged
 * DESCRIPTION
 *	In the form SpamAssassin and amavis users' filters expect:
 *	  X-Spam-Flag: YES
 *	  X-Spam-Score: 7.3
 *	  X-Spam-Level: *******
 *	  X-Spam-Status: Yes, score=7.3 required=6.0 tests=GTUBE,SPF_FAIL
 *	Every X-Spam and X-Spam-* header already in the message is removed
 *	first: a sender must not be able to say "X-Spam-Flag: NO". Because
 *	of that, and because the subject tag is not added to a subject that
 *	already starts with it, a message that comes through twice (a retry,
 *	a forward back to us) ends up with one set of headers and one tag.
 *	Our headers and Received-SPF go on top, as trace headers do.
 */
#include <math.h>
#include <string.h>

#include "mw-spam-headers.h"

/* is_spam_header - "X-Spam" or "X-Spam-*", case-insensitively */
static gboolean
is_spam_header(const char *name)
{
	return g_ascii_strncasecmp(name, "X-Spam", 6) == 0 && (name[6] == '\0' || name[6] == '-');
}

gboolean
mw_spam_headers_foreign(GMimeMessage *mime)
{
	GMimeHeaderList *list = g_mime_object_get_header_list(GMIME_OBJECT(mime));
	int n = g_mime_header_list_get_count(list);
	for (int i = 0; i < n; i++) {
		if (is_spam_header(
			    g_mime_header_get_name(g_mime_header_list_get_header_at(list, i))))
			return TRUE;
	}
	return FALSE;
}

char *
mw_spam_level_stars(double score)
{
	int n = score >= 1 ? (int) MIN(floor(score), 64) : 0;
	char *stars = g_malloc((gsize) n + 1);
	memset(stars, '*', (gsize) n);
	stars[n] = '\0';
	return stars;
}

char *
mw_spam_status_value(gboolean spam, double score, double required, const char *tests)
{
	char s[G_ASCII_DTOSTR_BUF_SIZE], r[G_ASCII_DTOSTR_BUF_SIZE];
	/* g_ascii_formatd: a '.' whatever the locale, as filters parse it */
	g_ascii_formatd(s, sizeof s, "%.1f", score);
	g_ascii_formatd(r, sizeof r, "%.1f", required);
	return g_strdup_printf("%s, score=%s required=%s tests=%s", spam ? "Yes" : "No", s, r,
			       tests);
}

char *
mw_spam_subject_tagged(const char *subject, const char *tag)
{
	const char *s = subject != NULL ? subject : "";
	while (g_ascii_isspace(*s))
		s++;
	if (g_str_has_prefix(s, tag))
		return NULL;
	return *s != '\0' ? g_strdup_printf("%s %s", tag, s) : g_strdup(tag);
}

gboolean
mw_spam_headers_needed(GMimeMessage *mime, const MwSpamHeaders *h)
{
	if (h->add_status || h->received_spf != NULL || mw_spam_headers_foreign(mime))
		return TRUE;
	return FALSE;
}

void
mw_spam_headers_apply(GMimeMessage *mime, const MwSpamHeaders *h)
{
	GMimeObject *object = GMIME_OBJECT(mime);
	GMimeHeaderList *list = g_mime_object_get_header_list(object);
	for (int i = g_mime_header_list_get_count(list) - 1; i >= 0; i--) {
		if (is_spam_header(
			    g_mime_header_get_name(g_mime_header_list_get_header_at(list, i))))
			g_mime_header_list_remove_at(list, i);
	}
	if (h->add_status) {
		char score[G_ASCII_DTOSTR_BUF_SIZE];
		g_ascii_formatd(score, sizeof score, "%.1f", h->score);
		g_autofree char *stars = mw_spam_level_stars(h->score);
		g_autofree char *status =
			mw_spam_status_value(h->spam, h->score, h->required, h->tests);
		/* prepended in reverse: they read Flag, Score, Level, Status from the top */
		g_mime_object_prepend_header(object, "X-Spam-Status", status, NULL);
		g_mime_object_prepend_header(object, "X-Spam-Level", stars, NULL);
		g_mime_object_prepend_header(object, "X-Spam-Score", score, NULL);
		g_mime_object_prepend_header(object, "X-Spam-Flag", h->spam ? "YES" : "NO", NULL);
	}
	if (h->received_spf != NULL)
		g_mime_object_prepend_header(object, "Received-SPF", h->received_spf, NULL);
	if (h->spam && h->subject_tag != NULL && *h->subject_tag != '\0') {
		g_autofree char *subject =
			mw_spam_subject_tagged(g_mime_message_get_subject(mime), h->subject_tag);
		if (subject != NULL)
			g_mime_message_set_subject(mime, subject, "utf-8");
	}
}
