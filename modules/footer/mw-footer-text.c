/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-footer-text - the footer texts: files, derived forms, flowed text
 * SYNOPSIS
 *	mw_footer_text_load, mw_footer_text_free, mw_footer_html_from_text,
 *	mw_footer_text_from_html, mw_footer_text_flowed
 * DESCRIPTION
 *	A footer has a plain and an HTML form. Both come from UTF-8 files; when
 *	only one is configured the other is derived: HTML from plain text is
 *	escaped (a "<" in a disclaimer is text, not markup), plain text from
 *	HTML drops the tags and decodes the entities. Line ends are normalized
 *	to LF here; the part's own line end is applied when the footer is
 *	inserted. Loading happens in configure(), so a missing or broken file
 *	is a configuration error that --check-config reports; nothing here
 *	runs per message except mw_footer_text_flowed().
 */
#include <string.h>

#include "mw-error.h"
#include "mw-footer.h"

/* normalize - UTF-8 check, BOM dropped, CRLF/CR to LF, trailing white space trimmed */
static char *
normalize(const char *path, const char *data, gsize len, GError **error)
{
	const char *end = NULL;

	if (!g_utf8_validate(data, (gssize) len, &end)) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG,
			    "%s: not UTF-8 (invalid byte at offset %" G_GSIZE_FORMAT ")", path,
			    (gsize) (end - data));
		return NULL;
	}
	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
		data += 3;
		len -= 3;
	}
	GString *out = g_string_sized_new(len);
	for (gsize i = 0; i < len; i++) {
		if (data[i] == '\r') {
			g_string_append_c(out, '\n');
			if (i + 1 < len && data[i + 1] == '\n')
				i++;
		} else if (data[i] == '\0') {
			g_string_free(out, TRUE);
			g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "%s: contains a NUL byte",
				    path);
			return NULL;
		} else {
			g_string_append_c(out, data[i]);
		}
	}
	while (out->len > 0 && g_ascii_isspace(out->str[out->len - 1]))
		g_string_truncate(out, out->len - 1);
	/* leading blank lines would only push the footer away from the text */
	gsize lead = 0;
	while (lead < out->len && out->str[lead] == '\n')
		lead++;
	g_string_erase(out, 0, (gssize) lead);
	if (out->len == 0) {
		g_string_free(out, TRUE);
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "%s: the file is empty", path);
		return NULL;
	}
	return g_string_free(out, FALSE);
}

/* read_footer_file - the normalized contents of @path (relative to @base_dir) */
static char *
read_footer_file(const char *path, const char *base_dir, GError **error)
{
	g_autofree char *full = NULL;
	g_autofree char *data = NULL;
	g_autoptr(GError) local = NULL;
	gsize len = 0;

	if (g_path_is_absolute(path) || base_dir == NULL)
		full = g_strdup(path);
	else
		full = g_build_filename(base_dir, path, NULL);
	if (!g_file_get_contents(full, &data, &len, &local)) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "cannot read footer file: %s",
			    local->message);
		return NULL;
	}
	return normalize(full, data, len, error);
}

/**
 * mw_footer_text_load:
 * @text_path: (nullable): the plain text file
 * @html_path: (nullable): the HTML file
 * @base_dir: (nullable): directory relative paths start from (the config
 *   file's), NULL for the current directory
 * @origin: "default" or a domain, kept for log lines
 *
 * Reads the files and derives the missing form. At least one path must be
 * given. Fails with MW_ERROR_CONFIG naming the file when a file cannot be
 * read, is not UTF-8 or is empty.
 *
 * Returns: (transfer full): the footer, or NULL with @error
 */
MwFooterText *
mw_footer_text_load(const char *text_path, const char *html_path, const char *base_dir,
		    const char *origin, GError **error)
{
	g_autoptr(MwFooterText) footer = g_new0(MwFooterText, 1);

	g_return_val_if_fail(text_path != NULL || html_path != NULL, NULL);
	footer->origin = g_strdup(origin);
	if (text_path != NULL) {
		footer->text = read_footer_file(text_path, base_dir, error);
		if (footer->text == NULL)
			return NULL;
	}
	if (html_path != NULL) {
		footer->html = read_footer_file(html_path, base_dir, error);
		if (footer->html == NULL)
			return NULL;
		footer->html_configured = TRUE;
	}
	if (footer->html == NULL)
		footer->html = mw_footer_html_from_text(footer->text);
	if (footer->text == NULL) {
		footer->text = mw_footer_text_from_html(footer->html);
		if (footer->text[0] == '\0') {
			g_set_error(error, MW_ERROR, MW_ERROR_CONFIG,
				    "%s: the HTML footer has no text", html_path);
			return NULL;
		}
	}
	return g_steal_pointer(&footer);
}

void
mw_footer_text_free(MwFooterText *footer)
{
	if (footer == NULL)
		return;
	g_free(footer->text);
	g_free(footer->html);
	g_free(footer->origin);
	g_free(footer);
}

/**
 * mw_footer_html_from_text:
 * @text: plain footer text (LF line ends)
 *
 * The text as an HTML paragraph: markup characters escaped, line ends as
 * <br>, so that a footer written for plain text shows the same in HTML.
 *
 * Returns: (transfer full): the fragment
 */
char *
mw_footer_html_from_text(const char *text)
{
	GString *out = g_string_new("<p>");

	for (const char *p = text; *p != '\0'; p++) {
		switch (*p) {
		case '&':
			g_string_append(out, "&amp;");
			break;
		case '<':
			g_string_append(out, "&lt;");
			break;
		case '>':
			g_string_append(out, "&gt;");
			break;
		case '"':
			g_string_append(out, "&quot;");
			break;
		case '\'':
			g_string_append(out, "&#39;");
			break;
		case '\n':
			g_string_append(out, "<br>\n");
			break;
		default:
			g_string_append_c(out, *p);
		}
	}
	g_string_append(out, "</p>");
	return g_string_free(out, FALSE);
}

/* entity_append - decode the entity at @p (after '&') into @out; returns the bytes consumed
 * after '&', 0 when it is not an entity we know (the '&' is then kept as text) */
static gsize
entity_append(const char *p, GString *out)
{
	static const struct {
		const char *name;
		gunichar c;
	} names[] = {{"amp;", '&'},     {"lt;", '<'},    {"gt;", '>'},       {"quot;", '"'},
		     {"apos;", '\''},   {"nbsp;", 0xa0}, {"copy;", 0xa9},    {"reg;", 0xae},
		     {"euro;", 0x20ac}, {"shy;", 0xad},  {"ndash;", 0x2013}, {"mdash;", 0x2014}};

	if (p[0] == '#') {
		char *end = NULL;
		guint64 code = (p[1] == 'x' || p[1] == 'X') ? g_ascii_strtoull(p + 2, &end, 16)
							    : g_ascii_strtoull(p + 1, &end, 10);
		if (end == NULL || *end != ';' || end == p + 1 || end == p + 2 ||
		    !g_unichar_validate((gunichar) code) || code == 0)
			return 0;
		g_string_append_unichar(out, (gunichar) code);
		return (gsize) (end - p) + 1;
	}
	for (gsize i = 0; i < G_N_ELEMENTS(names); i++) {
		gsize n = strlen(names[i].name);
		if (g_ascii_strncasecmp(p, names[i].name, n) == 0) {
			g_string_append_unichar(out, names[i].c == 0xa0 ? ' ' : names[i].c);
			return n;
		}
	}
	return 0;
}

/* tag_is - the tag at @p (after '<', maybe '/') is named @name */
static gboolean
tag_is(const char *p, const char *name)
{
	gsize n = strlen(name);

	if (*p == '/')
		p++;
	return g_ascii_strncasecmp(p, name, n) == 0 &&
	       (p[n] == '>' || p[n] == '/' || g_ascii_isspace(p[n]) || p[n] == '\0');
}

/* skip_element - after the start tag of <@name>, skip to the end of its end tag */
static const char *
skip_element(const char *p, const char *name)
{
	g_autofree char *end_tag = g_strdup_printf("</%s", name);
	gsize n = strlen(end_tag);

	for (; *p != '\0'; p++) {
		if (g_ascii_strncasecmp(p, end_tag, n) == 0) {
			const char *gt = strchr(p, '>');
			return gt != NULL ? gt + 1 : p + strlen(p);
		}
	}
	return p;
}

/* tidy_lines - white space runs to one space, lines trimmed, at most one empty line in a row */
static char *
tidy_lines(const char *text)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	GString *out = g_string_new(NULL);
	gboolean blank = TRUE; /* no leading empty lines */

	for (guint i = 0; lines[i] != NULL; i++) {
		GString *line = g_string_new(NULL);
		gboolean space = FALSE;
		for (const char *p = lines[i]; *p != '\0'; p++) {
			if (*p == ' ' || *p == '\t' || *p == '\r') {
				space = line->len > 0;
				continue;
			}
			if (space)
				g_string_append_c(line, ' ');
			space = FALSE;
			g_string_append_c(line, *p);
		}
		if (line->len == 0) {
			if (!blank)
				g_string_append_c(out, '\n');
			blank = TRUE;
		} else {
			g_string_append_len(out, line->str, (gssize) line->len);
			g_string_append_c(out, '\n');
			blank = FALSE;
		}
		g_string_free(line, TRUE);
	}
	while (out->len > 0 && out->str[out->len - 1] == '\n')
		g_string_truncate(out, out->len - 1);
	return g_string_free(out, FALSE);
}

/**
 * mw_footer_text_from_html:
 * @html: an HTML fragment
 *
 * A plain rendering for text/plain parts when only an HTML footer is
 * configured: head, style and script dropped, block ends and <br> as line
 * ends, other tags removed, the common entities decoded.
 *
 * Returns: (transfer full): the text (maybe empty)
 */
char *
mw_footer_text_from_html(const char *html)
{
	static const char *const breaks[] = {"br", "p",  "div", "tr",    "li", "h1", "h2", "h3",
					     "h4", "h5", "h6",  "table", "ul", "ol", "hr", NULL};
	GString *out = g_string_new(NULL);
	const char *p = html;

	while (*p != '\0') {
		if (*p == '<') {
			const char *name = p + 1;
			if (strncmp(p, "<!--", 4) == 0) {
				const char *end = strstr(p + 4, "-->");
				p = end != NULL ? end + 3 : p + strlen(p);
				continue;
			}
			if (tag_is(name, "head") || tag_is(name, "style") ||
			    tag_is(name, "script")) {
				if (*name != '/') {
					char tag[8] = {0};
					gsize n = 0;
					while (n < sizeof(tag) - 1 && g_ascii_isalpha(name[n])) {
						tag[n] = g_ascii_tolower(name[n]);
						n++;
					}
					p = skip_element(name, tag);
					continue;
				}
			}
			for (guint i = 0; breaks[i] != NULL; i++) {
				if (tag_is(name, breaks[i])) {
					g_string_append_c(out, '\n');
					break;
				}
			}
			const char *gt = strchr(p, '>');
			p = gt != NULL ? gt + 1 : p + strlen(p);
			continue;
		}
		if (*p == '&') {
			gsize n = entity_append(p + 1, out);
			if (n > 0) {
				p += n + 1;
				continue;
			}
		}
		g_string_append_c(out, *p == '\t' ? ' ' : *p);
		p++;
	}
	g_autofree char *raw = g_string_free(out, FALSE);
	return tidy_lines(raw);
}

/* flowed_append_line - one footer line as format=flowed lines (RFC 3676): no trailing
 * space (a hard break), space-stuffed, long lines wrapped at spaces with soft breaks */
static void
flowed_append_line(GString *out, const char *line, gboolean delsp)
{
	g_autofree char *text = g_strdup(line);
	const gsize width = 76;

	g_strchomp(text);
	const char *rest = text;
	do {
		gsize len = strlen(rest);
		gsize cut = len;
		if (len > width) {
			/* the last space within the width, else the first one after it */
			cut = 0;
			for (gsize i = width; i > 0; i--) {
				if (rest[i] == ' ') {
					cut = i;
					break;
				}
			}
			if (cut == 0) {
				const char *space = strchr(rest + width, ' ');
				cut = space != NULL ? (gsize) (space - rest) : len;
			}
		}
		/* RFC 3676 4.4: stuff lines that start with a space, ">" or "From " */
		if (rest[0] == ' ' || rest[0] == '>' || g_str_has_prefix(rest, "From "))
			g_string_append_c(out, ' ');
		if (cut < len) {
			/* the space stays at the end of the line: that is the soft break; with
			 * DelSp=yes it is deleted when the lines are joined, so add one */
			g_string_append_len(out, rest, (gssize) cut + 1);
			if (delsp)
				g_string_append_c(out, ' ');
			g_string_append_c(out, '\n');
			rest += cut + 1;
		} else {
			g_string_append(out, rest);
			g_string_append_c(out, '\n');
			rest += len;
		}
	} while (*rest != '\0');
}

/**
 * mw_footer_text_flowed:
 * @text: plain footer text (LF line ends)
 * @delsp: the part has DelSp=yes
 *
 * The footer made valid for a format=flowed part: each footer line ends in a
 * hard break, lines are space-stuffed where needed and long lines are wrapped
 * with soft breaks, so a flowed reader shows the footer as written and does
 * not join it to the message's last paragraph.
 *
 * Returns: (transfer full): the text, LF line ends, no trailing line end
 */
char *
mw_footer_text_flowed(const char *text, gboolean delsp)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	GString *out = g_string_new(NULL);

	for (guint i = 0; lines[i] != NULL; i++) {
		if (lines[i][0] == '\0' || strspn(lines[i], " ") == strlen(lines[i]))
			g_string_append_c(out, '\n');
		else
			flowed_append_line(out, lines[i], delsp);
	}
	if (out->len > 0)
		g_string_truncate(out, out->len - 1);
	return g_string_free(out, FALSE);
}
