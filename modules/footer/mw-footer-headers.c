/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-footer-headers - a header block as raw fields
 * SYNOPSIS
 *	mw_footer_headers_parse, mw_footer_headers_free, mw_footer_headers_find,
 *	mw_footer_headers_field_name, mw_footer_headers_value,
 *	mw_footer_headers_set, mw_footer_headers_append,
 *	mw_footer_headers_take_content, mw_footer_headers_write
 * DESCRIPTION
 *	A header block is kept as the list of its raw fields (folded lines and
 *	line ends included), so writing it back gives the same bytes: only the
 *	fields the footer changes (Content-Type, Content-Transfer-Encoding, the
 *	marker) are written anew, in the block's own line end. GMime would
 *	re-fold and re-encode what it rewrites; the block we did not change must
 *	not move by a byte.
 */
#include <string.h>

#include "mw-footer.h"

/**
 * mw_footer_headers_parse:
 * @data: the bytes starting at the block's first field
 * @len: how many there are (the block may end earlier)
 *
 * Splits fields up to the first empty line. A block without an empty line
 * runs to the end of @data (@terminated is then FALSE). The caller makes
 * sure @data has no NUL byte (fields are C strings).
 *
 * Returns: (transfer full): the block
 */
MwFooterHeaders *
mw_footer_headers_parse(const guint8 *data, gsize len)
{
	MwFooterHeaders *headers = g_new0(MwFooterHeaders, 1);
	gsize i = 0;

	headers->fields = g_ptr_array_new_with_free_func(g_free);
	headers->newline = NULL;
	while (i < len) {
		const guint8 *nl = memchr(data + i, '\n', len - i);
		gsize line_len = nl != NULL ? (gsize) (nl - (data + i)) + 1 : len - i;
		const char *line = (const char *) data + i;

		if (headers->newline == NULL && nl != NULL)
			headers->newline = (nl > data && nl[-1] == '\r') ? "\r\n" : "\n";
		/* the empty line; a lone CR at the very end is one too (LF-style input
		 * cut after its CR), or the fields written after it would become body */
		if ((line_len == 1 && line[0] == '\n') ||
		    (line_len == 2 && line[0] == '\r' && line[1] == '\n') ||
		    (line_len == 1 && line[0] == '\r' && nl == NULL)) {
			headers->terminated = TRUE;
			i += line_len;
			break;
		}
		if ((line[0] == ' ' || line[0] == '\t') && headers->fields->len > 0) {
			char **last = (char **) &g_ptr_array_index(headers->fields,
								   headers->fields->len - 1);
			char *old = *last;
			*last = g_strdup_printf("%s%.*s", old, (int) line_len, line);
			g_free(old);
		} else {
			g_ptr_array_add(headers->fields, g_strndup(line, line_len));
		}
		i += line_len;
	}
	if (headers->newline == NULL)
		headers->newline = "\r\n";
	headers->length = i;
	return headers;
}

void
mw_footer_headers_free(MwFooterHeaders *headers)
{
	if (headers == NULL)
		return;
	g_ptr_array_unref(headers->fields);
	g_free(headers);
}

/**
 * mw_footer_headers_field_name:
 * @field: a raw field
 *
 * Returns: (transfer full) (nullable): its name without the colon, NULL for
 * a line that is not a field
 */
char *
mw_footer_headers_field_name(const char *field)
{
	const char *colon = strchr(field, ':');

	if (colon == NULL)
		return NULL;
	g_autofree char *name = g_strndup(field, (gsize) (colon - field));
	return g_strdup(g_strstrip(name));
}

/**
 * mw_footer_headers_find:
 *
 * Returns: the index of the first field named @name (ASCII case-insensitive), or -1
 */
int
mw_footer_headers_find(const MwFooterHeaders *headers, const char *name)
{
	for (guint i = 0; i < headers->fields->len; i++) {
		g_autofree char *field =
			mw_footer_headers_field_name(g_ptr_array_index(headers->fields, i));
		if (field != NULL && g_ascii_strcasecmp(field, name) == 0)
			return (int) i;
	}
	return -1;
}

/**
 * mw_footer_headers_value:
 *
 * Returns: (transfer full) (nullable): the unfolded, trimmed value of the
 * first field named @name, or NULL
 */
char *
mw_footer_headers_value(const MwFooterHeaders *headers, const char *name)
{
	int index = mw_footer_headers_find(headers, name);

	if (index < 0)
		return NULL;
	const char *field = g_ptr_array_index(headers->fields, index);
	const char *value = strchr(field, ':') + 1;
	GString *out = g_string_new(NULL);
	for (const char *p = value; *p != '\0'; p++) {
		if (*p != '\r' && *p != '\n')
			g_string_append_c(out, *p);
	}
	g_strstrip(out->str);
	out->len = strlen(out->str);
	return g_string_free(out, FALSE);
}

/* make_field - "Name: value" with the block's line end; @value may hold LF folds */
static char *
make_field(const MwFooterHeaders *headers, const char *name, const char *value)
{
	GString *out = g_string_new(name);

	g_string_append(out, ": ");
	for (const char *p = value; *p != '\0'; p++) {
		if (*p == '\n')
			g_string_append(out, headers->newline);
		else if (*p != '\r')
			g_string_append_c(out, *p);
	}
	g_string_append(out, headers->newline);
	return g_string_free(out, FALSE);
}

/**
 * mw_footer_headers_set:
 * @value: the new value; an LF in it is a fold (the next line must start
 *   with white space)
 *
 * Replaces the first field named @name in place, or appends one.
 */
void
mw_footer_headers_set(MwFooterHeaders *headers, const char *name, const char *value)
{
	int index = mw_footer_headers_find(headers, name);

	if (index < 0) {
		mw_footer_headers_append(headers, name, value);
		return;
	}
	g_free(g_ptr_array_index(headers->fields, index));
	g_ptr_array_index(headers->fields, index) = make_field(headers, name, value);
}

/* mw_footer_headers_append - a new field at the end of the block */
void
mw_footer_headers_append(MwFooterHeaders *headers, const char *name, const char *value)
{
	g_ptr_array_add(headers->fields, make_field(headers, name, value));
}

/**
 * mw_footer_headers_take_content:
 *
 * Removes the Content-* fields (those that describe the body, RFC 2045), in
 * their order, for wrapping the body into a part of its own.
 *
 * Returns: (transfer full) (element-type utf8): the raw fields
 */
GPtrArray *
mw_footer_headers_take_content(MwFooterHeaders *headers)
{
	GPtrArray *taken = g_ptr_array_new_with_free_func(g_free);

	for (guint i = 0; i < headers->fields->len;) {
		g_autofree char *name =
			mw_footer_headers_field_name(g_ptr_array_index(headers->fields, i));
		if (name != NULL && g_ascii_strncasecmp(name, "Content-", 8) == 0) {
			g_ptr_array_add(taken, g_ptr_array_steal_index(headers->fields, i));
			continue;
		}
		i++;
	}
	return taken;
}

/**
 * mw_footer_headers_write:
 *
 * Appends the fields and the empty line that ends the block. A last field
 * that had no line end (a message without a body) gets one.
 */
void
mw_footer_headers_write(const MwFooterHeaders *headers, GByteArray *out)
{
	for (guint i = 0; i < headers->fields->len; i++) {
		const char *field = g_ptr_array_index(headers->fields, i);
		gsize len = strlen(field);
		g_byte_array_append(out, (const guint8 *) field, (guint) len);
		if (len == 0 || field[len - 1] != '\n')
			g_byte_array_append(out, (const guint8 *) headers->newline,
					    (guint) strlen(headers->newline));
	}
	g_byte_array_append(out, (const guint8 *) headers->newline,
			    (guint) strlen(headers->newline));
}
