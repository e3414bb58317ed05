/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-spam-text - the decoded text of a message, for body and uri rules and Bayes
 * SYNOPSIS
 *	mw_spam_text_new, mw_spam_text_free, mw_spam_html_to_text, mw_spam_find_uris
 * DESCRIPTION
 *	Walks the MIME tree once: every text/plain and text/html leaf is
 *	decoded (transfer encoding and charset, through GMime) and appended;
 *	HTML is reduced to its visible text, its links kept as URIs, the
 *	contents of <script> and <style> dropped, a few entities decoded.
 *	Like SpamAssassin's body rules, the text starts with the Subject line.
 *	The total is bounded so a huge message costs a bounded amount of work.
 */
#include <string.h>

#include "mw-spam-text.h"

#define MAX_URIS 200

/* uri_end - length of the URI starting at @p (up to a space, quote or bracket) */
static gsize
uri_end(const char *p)
{
	gsize n = 0;
	while (p[n] != '\0' && !g_ascii_isspace(p[n]) && strchr("\"'<>()[]{}|\\^`", p[n]) == NULL)
		n++;
	/* trailing punctuation belongs to the sentence, not the link */
	while (n > 0 && strchr(".,;:!?", p[n - 1]) != NULL)
		n--;
	return n;
}

/* add_uri - keep @uri (@len bytes) unless the list is full or it is a duplicate */
static void
add_uri(GPtrArray *uris, const char *uri, gsize len)
{
	if (uris == NULL || len < 5 || uris->len >= MAX_URIS)
		return;
	g_autofree char *copy = g_strndup(uri, len);
	for (guint i = 0; i < uris->len; i++) {
		if (g_str_equal(g_ptr_array_index(uris, i), copy))
			return;
	}
	g_ptr_array_add(uris, g_steal_pointer(&copy));
}

void
mw_spam_find_uris(const char *text, GPtrArray *uris)
{
	for (const char *p = text; *p != '\0'; p++) {
		gboolean at_word = p == text || !g_ascii_isalnum(p[-1]);
		if (!at_word)
			continue;
		if (g_ascii_strncasecmp(p, "http://", 7) == 0 ||
		    g_ascii_strncasecmp(p, "https://", 8) == 0 ||
		    g_ascii_strncasecmp(p, "www.", 4) == 0) {
			gsize n = uri_end(p);
			add_uri(uris, p, n);
			if (n > 0)
				p += n - 1;
		}
	}
}

/* append_entity - decode the entity at @p (after '&'); returns the bytes consumed */
static gsize
append_entity(const char *p, const char *end, GString *out)
{
	static const struct {
		const char *name;
		const char *text;
	} entities[] = {{"amp;", "&"},   {"lt;", "<"},   {"gt;", ">"},
			{"quot;", "\""}, {"nbsp;", " "}, {"apos;", "'"}};
	for (guint i = 0; i < G_N_ELEMENTS(entities); i++) {
		gsize n = strlen(entities[i].name);
		if ((gsize) (end - p) >= n && g_ascii_strncasecmp(p, entities[i].name, n) == 0) {
			g_string_append(out, entities[i].text);
			return n;
		}
	}
	if (p < end && *p == '#') {
		const char *q = p + 1;
		gboolean hex = q < end && (*q == 'x' || *q == 'X');
		if (hex)
			q++;
		gunichar c = 0;
		const char *digits = q;
		while (q < end && q - digits < 8 &&
		       (hex ? g_ascii_isxdigit(*q) : g_ascii_isdigit(*q))) {
			c = c * (hex ? 16 : 10) +
			    (gunichar) (hex ? g_ascii_xdigit_value(*q) : g_ascii_digit_value(*q));
			q++;
		}
		if (q > digits && q < end && *q == ';' && g_unichar_validate(c) && c != 0) {
			g_string_append_unichar(out, c);
			return (gsize) (q + 1 - p);
		}
	}
	g_string_append_c(out, '&');
	return 0;
}

/* attribute_value - the value of attribute @name inside the tag text [@p, @end) */
static char *
attribute_value(const char *p, const char *end, const char *name)
{
	gsize n = strlen(name);
	for (const char *q = p; q + n < end; q++) {
		if (g_ascii_strncasecmp(q, name, n) != 0 || (q > p && g_ascii_isalnum(q[-1])))
			continue;
		const char *v = q + n;
		while (v < end && g_ascii_isspace(*v))
			v++;
		if (v >= end || *v != '=')
			continue;
		v++;
		while (v < end && g_ascii_isspace(*v))
			v++;
		char quote = (v < end && (*v == '"' || *v == '\'')) ? *v++ : 0;
		const char *e = v;
		while (e < end && (quote ? *e != quote : !g_ascii_isspace(*e)))
			e++;
		return g_strndup(v, (gsize) (e - v));
	}
	return NULL;
}

void
mw_spam_html_to_text(const char *html, gsize len, GString *out, GPtrArray *uris)
{
	const char *p = html, *end = html + len;
	while (p < end) {
		if (*p == '&') {
			p += 1 + append_entity(p + 1, end, out);
			continue;
		}
		if (*p != '<') {
			g_string_append_c(out, *p++);
			continue;
		}
		if (end - p >= 4 && memcmp(p, "<!--", 4) == 0) {
			const char *c = g_strstr_len(p + 4, end - p - 4, "-->");
			p = c != NULL ? c + 3 : end;
			continue;
		}
		const char *close = memchr(p, '>', (gsize) (end - p));
		const char *tag_end = close != NULL ? close : end;
		const char *name = p + 1;
		gboolean skip_block = FALSE;
		const char *block = NULL;
		if (g_ascii_strncasecmp(name, "script", 6) == 0)
			block = "</script", skip_block = TRUE;
		else if (g_ascii_strncasecmp(name, "style", 5) == 0)
			block = "</style", skip_block = TRUE;
		else if (g_ascii_strncasecmp(name, "a", 1) == 0 && g_ascii_isspace(name[1])) {
			g_autofree char *href = attribute_value(name + 1, tag_end, "href");
			if (href != NULL)
				add_uri(uris, href, strlen(href));
		} else if (g_ascii_strncasecmp(name, "img", 3) == 0) {
			g_autofree char *src = attribute_value(name + 3, tag_end, "src");
			if (src != NULL)
				add_uri(uris, src, strlen(src));
		}
		/* block-level tags separate words; inline ones do not */
		if (g_ascii_strncasecmp(name, "br", 2) == 0 ||
		    g_ascii_strncasecmp(name, "p", 1) == 0 ||
		    g_ascii_strncasecmp(name, "div", 3) == 0 ||
		    g_ascii_strncasecmp(name, "/p", 2) == 0 ||
		    g_ascii_strncasecmp(name, "tr", 2) == 0 ||
		    g_ascii_strncasecmp(name, "li", 2) == 0)
			g_string_append_c(out, '\n');
		else
			g_string_append_c(out, ' ');
		p = close != NULL ? close + 1 : end;
		if (skip_block) {
			gsize blen = strlen(block);
			while (p < end && (end - p < (gssize) blen ||
					   g_ascii_strncasecmp(p, block, blen) != 0))
				p++;
		}
	}
}

typedef struct {
	MwSpamText *text;
	gsize max;
} Walk;

/* walk_part - append the text of one leaf (g_mime_message_foreach callback) */
static void
walk_part(GMimeObject *parent, GMimeObject *part, gpointer user_data)
{
	Walk *walk = user_data;
	if (!GMIME_IS_TEXT_PART(part) || walk->text->body->len >= walk->max)
		return;
	GMimeContentType *type = g_mime_object_get_content_type(part);
	gboolean html = g_mime_content_type_is_type(type, "text", "html");
	if (!html && !g_mime_content_type_is_type(type, "text", "plain"))
		return;
	g_autofree char *decoded = g_mime_text_part_get_text(GMIME_TEXT_PART(part));
	if (decoded == NULL)
		return;
	gsize room = walk->max - walk->text->body->len;
	gsize len = strlen(decoded);
	if (len > room)
		len = room;
	g_autofree char *valid = g_utf8_make_valid(decoded, (gssize) len);
	GString *body = walk->text->body;
	if (body->len > 0 && body->str[body->len - 1] != '\n')
		g_string_append_c(body, '\n');
	if (html) {
		mw_spam_html_to_text(valid, strlen(valid), body, walk->text->uris);
	} else {
		g_string_append(body, valid);
		mw_spam_find_uris(valid, walk->text->uris);
	}
	if (body->len > walk->max)
		g_string_truncate(body, walk->max);
}

MwSpamText *
mw_spam_text_new(GMimeMessage *mime, gsize max)
{
	MwSpamText *text = g_new0(MwSpamText, 1);
	text->body = g_string_new(NULL);
	text->uris = g_ptr_array_new_with_free_func(g_free);
	const char *subject = mime != NULL ? g_mime_message_get_subject(mime) : NULL;
	text->subject = g_utf8_make_valid(subject != NULL ? subject : "", -1);
	g_string_append(text->body, text->subject);
	g_string_append_c(text->body, '\n');
	if (mime != NULL) {
		Walk walk = {text, max};
		g_mime_message_foreach(mime, walk_part, &walk);
	}
	/* truncation may have cut a character in two */
	if (!g_utf8_validate_len(text->body->str, text->body->len, NULL)) {
		g_autofree char *valid =
			g_utf8_make_valid(text->body->str, (gssize) text->body->len);
		g_string_assign(text->body, valid);
	}
	return text;
}

void
mw_spam_text_free(MwSpamText *text)
{
	if (text == NULL)
		return;
	g_free(text->subject);
	g_string_free(text->body, TRUE);
	g_ptr_array_unref(text->uris);
	g_free(text);
}
