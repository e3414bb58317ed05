/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-footer-charset - converting footers and parts between charsets
 * SYNOPSIS
 *	mw_footer_charset_name, mw_footer_charset_encode, mw_footer_charset_decode,
 *	mw_footer_charset_is_stateful, mw_footer_charset_ascii_compatible,
 *	mw_footer_html_meta_utf8
 * DESCRIPTION
 *	Thin wrappers over iconv (through GLib) with GMime's charset aliases
 *	("latin1", "ks_c_5601-1987" ...). A conversion that cannot represent a
 *	character fails instead of transliterating: the caller then converts
 *	the whole part to UTF-8, which never loses anything. Stateless,
 *	reentrant: safe in any worker.
 */
#include <string.h>

#include "mw-footer.h"

/**
 * mw_footer_charset_name:
 * @charset: (nullable): a MIME charset name; NULL or "" for US-ASCII (RFC 2045 5.2)
 *
 * Returns: (transfer full): the name iconv knows it by
 */
char *
mw_footer_charset_name(const char *charset)
{
	if (charset == NULL || *charset == '\0')
		return g_strdup("US-ASCII");
	return g_strdup(g_mime_charset_iconv_name(charset));
}

/* is_utf8 - the name means UTF-8 (no conversion needed) */
static gboolean
is_utf8(const char *charset)
{
	return g_ascii_strcasecmp(charset, "utf-8") == 0 ||
	       g_ascii_strcasecmp(charset, "utf8") == 0;
}

/**
 * mw_footer_charset_encode:
 * @utf8: UTF-8 text
 * @len: its length, or -1 when NUL-terminated
 * @charset: the target charset (MIME name)
 *
 * Returns: (transfer full) (nullable): the text in @charset, or NULL when a
 * character cannot be represented there or the charset is unknown
 */
GBytes *
mw_footer_charset_encode(const char *utf8, gssize len, const char *charset)
{
	g_autofree char *name = mw_footer_charset_name(charset);
	gsize ulen = len < 0 ? strlen(utf8) : (gsize) len;
	gsize written = 0;

	if (is_utf8(name))
		return g_bytes_new(utf8, ulen);
	char *out = g_convert(utf8, (gssize) ulen, name, "UTF-8", NULL, &written, NULL);
	if (out == NULL)
		return NULL;
	return g_bytes_new_take(out, written);
}

/**
 * mw_footer_charset_decode:
 * @charset: the MIME charset of @data
 * @len_out: (out): length of the result
 *
 * Returns: (transfer full) (nullable): @data as UTF-8 (NUL-terminated), or
 * NULL when it is not valid in @charset or the charset is unknown
 */
char *
mw_footer_charset_decode(const guint8 *data, gsize len, const char *charset, gsize *len_out)
{
	g_autofree char *name = mw_footer_charset_name(charset);
	gsize written = 0;

	if (is_utf8(name)) {
		if (!g_utf8_validate((const char *) data, (gssize) len, NULL))
			return NULL;
		*len_out = len;
		return g_strndup((const char *) data, len);
	}
	char *out =
		g_convert((const char *) data, (gssize) len, "UTF-8", name, NULL, &written, NULL);
	if (out == NULL)
		return NULL;
	*len_out = written;
	return out;
}

/**
 * mw_footer_charset_is_stateful:
 *
 * Charsets with shift states (ISO-2022-*, UTF-7, HZ): bytes cannot simply be
 * concatenated, so a part in one is edited as text and converted back.
 */
gboolean
mw_footer_charset_is_stateful(const char *charset)
{
	static const char *const prefixes[] = {"iso-2022", "iso2022", "csiso2022", "utf-7",
					       "utf7",     "hz",      NULL};
	g_autofree char *name = g_ascii_strdown(charset != NULL ? charset : "", -1);

	for (guint i = 0; prefixes[i] != NULL; i++) {
		if (g_str_has_prefix(name, prefixes[i]))
			return TRUE;
	}
	return FALSE;
}

/**
 * mw_footer_charset_ascii_compatible:
 *
 * Whether ASCII text (line ends, "-- ", HTML tags) is the same bytes in
 * @charset, so a footer can be spliced into the part's own bytes. False for
 * UTF-16/32 and unknown charsets.
 */
gboolean
mw_footer_charset_ascii_compatible(const char *charset)
{
	static const char probe[] = "\r\n-- <body>&;:=/\"'azAZ09";
	g_autoptr(GBytes) bytes = mw_footer_charset_encode(probe, -1, charset);
	gsize len = 0;

	if (bytes == NULL)
		return FALSE;
	const void *data = g_bytes_get_data(bytes, &len);
	return len == strlen(probe) && memcmp(data, probe, len) == 0;
}

/* find_ci - first occurrence of ASCII @needle in [@from, @end), case-insensitive, or NULL */
static const guint8 *
find_ci(const guint8 *from, const guint8 *end, const char *needle)
{
	gsize n = strlen(needle);

	for (const guint8 *p = from; p + n <= end; p++) {
		if (g_ascii_strncasecmp((const char *) p, needle, n) == 0)
			return p;
	}
	return NULL;
}

/**
 * mw_footer_html_meta_utf8:
 * @html: an HTML document in UTF-8 (just converted from another charset)
 *
 * Rewrites the charset of <meta charset=...> and <meta http-equiv=...
 * content="...; charset=..."> declarations before <body> to utf-8, so that
 * the document does not contradict the MIME charset it now has.
 *
 * Returns: (transfer full): the document
 */
GByteArray *
mw_footer_html_meta_utf8(const guint8 *html, gsize len)
{
	GByteArray *out = g_byte_array_sized_new((guint) len + 16);
	const guint8 *end = html + len;
	const guint8 *body = find_ci(html, end, "<body");
	const guint8 *limit = body != NULL ? body : end;
	const guint8 *p = html;

	for (;;) {
		const guint8 *meta = find_ci(p, limit, "<meta");
		if (meta == NULL)
			break;
		const guint8 *gt = memchr(meta, '>', (gsize) (limit - meta));
		if (gt == NULL)
			break;
		const guint8 *cs = find_ci(meta, gt, "charset=");
		if (cs == NULL) {
			g_byte_array_append(out, p, (guint) (gt - p));
			p = gt;
			continue;
		}
		const guint8 *value = cs + strlen("charset=");
		if (value < gt && (*value == '"' || *value == '\''))
			value++;
		const guint8 *value_end = value;
		while (value_end < gt && *value_end != '"' && *value_end != '\'' &&
		       *value_end != ';' && *value_end != '/' && !g_ascii_isspace(*value_end))
			value_end++;
		g_byte_array_append(out, p, (guint) (value - p));
		g_byte_array_append(out, (const guint8 *) "utf-8", 5);
		p = value_end;
	}
	g_byte_array_append(out, p, (guint) (end - p));
	return out;
}
