/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-ambiguous - mail that MIME parsers can read in more than one way
 * SYNOPSIS
 *	mw_mime_find_ambiguity
 * DESCRIPTION
 *	amavisd-new's CVE-2024-28054: a message with two Content-Type headers
 *	or two boundary parameters is one message to the filter and another to
 *	the mail client, so a virus scanned as text/plain reaches the user as
 *	an attachment. Each header block is checked on the raw bytes, line by
 *	line and streaming (any size, bounded memory); a header block is the
 *	top of the message and the start of every part found through a
 *	boundary a Content-Type declared. Bounds on the number of boundaries
 *	and header fields keep hostile input cheap.
 */
#include <string.h>

#include "mw-ambiguous.h"

const char *const mw_ambiguous_action_names[] = {"pass", "tag", "quarantine", "reject", NULL};

#define MAX_BOUNDARIES 64
#define MAX_FIELD      8192

typedef struct {
	gboolean in_headers;
	GString *field; /* the header field being unfolded */
	guint n_content_type;
	guint n_cte;
	GPtrArray *boundaries; /* "--boundary" strings */
	char *reason;
} Scan;

/* count_boundary_params - boundary= parameters in a Content-Type value */
static guint
count_boundary_params(const char *value, char **first_out)
{
	guint n = 0;
	g_autofree char *lower = g_ascii_strdown(value, -1);
	for (const char *p = lower; (p = strstr(p, "boundary")) != NULL; p += 8) {
		/* a parameter name: after ';' and blanks, followed by optional blanks and '=' */
		const char *before = p;
		while (before > lower && (before[-1] == ' ' || before[-1] == '\t'))
			before--;
		if (before != lower && before[-1] != ';')
			continue;
		const char *after = p + 8;
		while (*after == ' ' || *after == '\t')
			after++;
		if (*after != '=')
			continue;
		n++;
		if (n == 1 && first_out != NULL) {
			/* the value, with its original case, quoted or not */
			const char *v = value + (after + 1 - lower);
			while (*v == ' ' || *v == '\t')
				v++;
			gsize len;
			if (*v == '"') {
				v++;
				const char *end = strchr(v, '"');
				len = end != NULL ? (gsize) (end - v) : strlen(v);
			} else {
				len = strcspn(v, "; \t\r\n");
			}
			*first_out = g_strndup(v, len);
		}
	}
	return n;
}

/* end_field - evaluate one complete (unfolded) header field */
static void
end_field(Scan *scan)
{
	GString *f = scan->field;
	if (f->len == 0)
		return;
	const char *colon = memchr(f->str, ':', f->len);
	if (colon != NULL) {
		gsize name_len = (gsize) (colon - f->str);
		while (name_len > 0 &&
		       (f->str[name_len - 1] == ' ' || f->str[name_len - 1] == '\t'))
			name_len--;
		if (name_len == 12 && g_ascii_strncasecmp(f->str, "Content-Type", 12) == 0) {
			scan->n_content_type++;
			g_autofree char *boundary = NULL;
			guint n = count_boundary_params(colon + 1, &boundary);
			if (n > 1 && scan->reason == NULL)
				scan->reason = g_strdup("Content-Type with more than one boundary");
			if (boundary != NULL && *boundary != '\0' &&
			    scan->boundaries->len < MAX_BOUNDARIES)
				g_ptr_array_add(scan->boundaries,
						g_strconcat("--", boundary, NULL));
		} else if (name_len == 25 &&
			   g_ascii_strncasecmp(f->str, "Content-Transfer-Encoding", 25) == 0) {
			scan->n_cte++;
		}
	}
	g_string_truncate(f, 0);
}

/* end_block - the blank line after a header block */
static void
end_block(Scan *scan)
{
	end_field(scan);
	if (scan->reason == NULL && scan->n_content_type > 1)
		scan->reason = g_strdup("duplicate Content-Type header");
	if (scan->reason == NULL && scan->n_cte > 1)
		scan->reason = g_strdup("duplicate Content-Transfer-Encoding header");
	scan->n_content_type = 0;
	scan->n_cte = 0;
	scan->in_headers = FALSE;
}

/* line - one line without its line end */
static void
line(Scan *scan, const char *text, gsize len)
{
	if (scan->in_headers) {
		if (len == 0) {
			end_block(scan);
			return;
		}
		if (text[0] == ' ' || text[0] == '\t') {
			if (scan->field->len + len < MAX_FIELD)
				g_string_append_len(scan->field, text, (gssize) len);
			return;
		}
		end_field(scan);
		g_string_append_len(scan->field, text, (gssize) MIN(len, (gsize) MAX_FIELD));
		return;
	}
	if (len < 3 || text[0] != '-' || text[1] != '-')
		return;
	for (guint i = 0; i < scan->boundaries->len; i++) {
		const char *b = g_ptr_array_index(scan->boundaries, i);
		gsize blen = strlen(b);
		if (len >= blen && memcmp(text, b, blen) == 0) {
			gboolean closing =
				len >= blen + 2 && text[blen] == '-' && text[blen + 1] == '-';
			if (!closing)
				scan->in_headers = TRUE;
			return;
		}
	}
}

gboolean
mw_mime_find_ambiguity(MwMessage *msg, char **reason_out)
{
	Scan scan = {TRUE, g_string_new(NULL), 0, 0, g_ptr_array_new_with_free_func(g_free), NULL};
	g_autoptr(GString) pending = g_string_new(NULL);
	guint8 buf[65536];
	guint64 offset = 0;
	gssize n;
	while (scan.reason == NULL &&
	       (n = mw_message_read(msg, offset, buf, sizeof buf, NULL)) > 0) {
		offset += (guint64) n;
		const char *p = (const char *) buf;
		const char *end = p + n;
		while (p < end) {
			const char *lf = memchr(p, '\n', (gsize) (end - p));
			if (lf == NULL) {
				/* keep at most what a header field or boundary line needs */
				if (pending->len < MAX_FIELD)
					g_string_append_len(
						pending, p,
						MIN(end - p, (gssize) (MAX_FIELD - pending->len)));
				break;
			}
			const char *text = p;
			gsize len = (gsize) (lf - p);
			if (pending->len > 0) {
				if (pending->len < MAX_FIELD)
					g_string_append_len(pending, p,
							    (gssize) MIN(len, MAX_FIELD));
				text = pending->str;
				len = pending->len;
			}
			if (len > 0 && text[len - 1] == '\r')
				len--;
			line(&scan, text, len);
			g_string_truncate(pending, 0);
			p = lf + 1;
		}
	}
	if (scan.reason == NULL && scan.in_headers)
		end_block(&scan);
	g_string_free(scan.field, TRUE);
	g_ptr_array_unref(scan.boundaries);
	if (scan.reason == NULL)
		return FALSE;
	*reason_out = scan.reason;
	return TRUE;
}
