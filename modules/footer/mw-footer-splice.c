/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-footer-splice - the new message: original bytes with edits spliced in
 * SYNOPSIS
 *	mw_footer_source_init, mw_footer_source_clear, mw_footer_splice_edits,
 *	mw_footer_splice_attach
 * DESCRIPTION
 *	The output is built from the original byte stream, not by GMime
 *	writing a tree: GMime 3.2 writes preambles and epilogues with bare LF
 *	under a CRLF format and drops white space after boundaries, and a signed
 *	part must not change by one byte. So the new message is the top header
 *	block (with the marker and any Content-* change of a top-level part),
 *	then the body copied range by range from the original with each edited
 *	part's range replaced.
 *
 *	signed = attach builds a multipart/mixed around the untouched original:
 *	the message's Content-* fields move to the inner part's header and its
 *	body bytes follow unchanged, so a multipart/signed inside (or an inline
 *	PGP text) verifies exactly as before. The footer is a part of its own.
 *
 *	Output goes to a new MwMessage in the spool directory (spooled to a file
 *	past the usual threshold), copied in chunks: memory stays bounded by the
 *	edited parts, not the message.
 */
#include <string.h>

#include "mw-footer.h"

#define COPY_CHUNK 65536

/**
 * mw_footer_source_init:
 * @source: (out caller-allocates): filled; clear with mw_footer_source_clear()
 *
 * Reads the message's header block. @source->top stays NULL when the block
 * is not one we edit (larger than MW_FOOTER_MAX_HEADER, or a NUL byte in it).
 *
 * Returns: FALSE with @error only when the spool cannot be read
 */
gboolean
mw_footer_source_init(MwFooterSource *source, MwMessage *message, GError **error)
{
	guint64 size = mw_message_get_size(message);
	guint64 want = MIN(size, (guint64) 65536);

	memset(source, 0, sizeof(*source));
	source->message = mw_message_ref(message);
	for (;;) {
		g_autoptr(GBytes) head = mw_footer_read_range(message, 0, want, error);
		if (head == NULL)
			return FALSE;
		gsize len = 0;
		const guint8 *data = g_bytes_get_data(head, &len);
		g_autoptr(MwFooterHeaders) headers = mw_footer_headers_parse(data, len);
		if (headers->terminated || want == size) {
			if (headers->length > 0 && memchr(data, 0, headers->length) != NULL)
				return TRUE;
			source->body_offset = headers->length;
			source->top = g_steal_pointer(&headers);
			return TRUE;
		}
		if (want >= MW_FOOTER_MAX_HEADER)
			return TRUE;
		want = MIN(size, want * 8);
	}
}

void
mw_footer_source_clear(MwFooterSource *source)
{
	g_clear_pointer(&source->top, mw_footer_headers_free);
	g_clear_pointer(&source->message, mw_message_unref);
}

/* headers_copy - a private copy of @headers to change */
static MwFooterHeaders *
headers_copy(const MwFooterHeaders *headers)
{
	MwFooterHeaders *copy = g_new0(MwFooterHeaders, 1);

	copy->fields = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < headers->fields->len; i++)
		g_ptr_array_add(copy->fields, g_strdup(g_ptr_array_index(headers->fields, i)));
	copy->newline = headers->newline;
	copy->length = headers->length;
	copy->terminated = headers->terminated;
	return copy;
}

/* copy_range - append the original bytes [@start, @end) to @out in chunks */
static gboolean
copy_range(MwMessage *from, guint64 start, guint64 end, MwMessage *out, GError **error)
{
	g_autofree guint8 *buf = g_malloc(COPY_CHUNK);

	while (start < end) {
		gsize want = (gsize) MIN(end - start, (guint64) COPY_CHUNK);
		gssize n = mw_message_read(from, start, buf, want, error);
		if (n < 0)
			return FALSE;
		if (n == 0)
			break;
		if (!mw_message_append(out, buf, (gsize) n, error))
			return FALSE;
		start += (guint64) n;
	}
	return TRUE;
}

/* append_bytes */
static gboolean
append_bytes(MwMessage *out, GBytes *bytes, GError **error)
{
	gsize len = 0;
	const guint8 *data = g_bytes_get_data(bytes, &len);

	return len == 0 || mw_message_append(out, data, len, error);
}

/* append_text */
static gboolean
append_text(MwMessage *out, const char *text, GError **error)
{
	return mw_message_append(out, (const guint8 *) text, strlen(text), error);
}

/* append_headers - a header block and its empty line */
static gboolean
append_headers(MwMessage *out, const MwFooterHeaders *headers, GError **error)
{
	g_autoptr(GByteArray) block = g_byte_array_new();

	mw_footer_headers_write(headers, block);
	return mw_message_append(out, block->data, block->len, error);
}

/* mark - the marker field that makes the next pass leave the message alone */
static void
mark(MwFooterHeaders *headers, const char *value)
{
	mw_footer_headers_append(headers, MW_FOOTER_MARKER, value);
}

/**
 * mw_footer_splice_edits:
 * @edits: (element-type MwFooterEdit): DONE edits, sorted by start, not overlapping
 * @spool_dir: (nullable): where a large result is spooled
 *
 * Returns: (transfer full): the new message, or NULL with @error
 */
MwMessage *
mw_footer_splice_edits(const MwFooterSource *source, GPtrArray *edits, const char *spool_dir,
		       GError **error)
{
	g_autoptr(MwFooterHeaders) top = headers_copy(source->top);
	g_autoptr(MwMessage) out = mw_message_new(spool_dir, MW_MESSAGE_MEMORY_THRESHOLD);
	guint64 size = mw_message_get_size(source->message);
	guint64 pos = source->body_offset;
	gboolean content_changed = FALSE;

	for (guint i = 0; i < edits->len; i++) {
		const MwFooterEdit *edit = g_ptr_array_index(edits, i);
		for (guint f = 0; edit->top_fields != NULL && f + 1 < edit->top_fields->len;
		     f += 2) {
			mw_footer_headers_set(top, g_ptr_array_index(edit->top_fields, f),
					      g_ptr_array_index(edit->top_fields, f + 1));
			content_changed = TRUE;
		}
	}
	/* a plain RFC 5322 message that now has Content-* fields becomes MIME */
	if (content_changed && mw_footer_headers_find(top, "MIME-Version") < 0)
		mw_footer_headers_append(top, "MIME-Version", "1.0");
	mark(top, "yes");
	if (!append_headers(out, top, error))
		return NULL;
	for (guint i = 0; i < edits->len; i++) {
		const MwFooterEdit *edit = g_ptr_array_index(edits, i);
		if (!copy_range(source->message, pos, edit->start, out, error) ||
		    !append_bytes(out, edit->replacement, error))
			return NULL;
		pos = edit->end;
	}
	if (!copy_range(source->message, pos, size, out, error) || !mw_message_seal(out, error))
		return NULL;
	return g_steal_pointer(&out);
}

/* new_boundary - a boundary that cannot occur in base64 or quoted-printable text ("=_") */
static char *
new_boundary(void)
{
	g_autofree char *uuid = g_uuid_string_random();

	return g_strconcat("=_mw-footer-", uuid, NULL);
}

/* ascii_only - no 8-bit byte and no line over 998 octets */
static gboolean
ascii_only(const char *text)
{
	gsize line = 0;

	for (const char *p = text; *p != '\0'; p++) {
		if ((guchar) *p >= 0x80)
			return FALSE;
		line = *p == '\n' ? 0 : line + 1;
		if (line > 998)
			return FALSE;
	}
	return TRUE;
}

/* text_entity - a complete text/@subtype part (headers and body) holding @text (LF) */
static GString *
text_entity(const char *subtype, const char *text, const char *nl)
{
	GString *out = g_string_new(NULL);
	gboolean ascii = ascii_only(text);
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	g_autofree char *body = g_strjoinv("\n", lines);

	g_string_append_printf(out, "Content-Type: text/%s; charset=%s%s", subtype,
			       ascii ? "us-ascii" : "utf-8", nl);
	g_string_append_printf(out, "Content-Transfer-Encoding: %s%s",
			       ascii ? "7bit" : "quoted-printable", nl);
	g_string_append_printf(out, "Content-Disposition: inline%s%s", nl, nl);
	g_autofree char *with_end = g_strconcat(body, "\n", NULL);
	g_autoptr(GBytes) encoded = mw_footer_encode_content(
		(const guint8 *) with_end, strlen(with_end),
		ascii ? GMIME_CONTENT_ENCODING_7BIT : GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE, "\n");
	gsize len = 0;
	const char *data = g_bytes_get_data(encoded, &len);
	g_autofree char *lf = g_strndup(data, len);
	g_auto(GStrv) enc_lines = g_strsplit(lf, "\n", -1);
	g_autofree char *joined = g_strjoinv(nl, enc_lines);
	g_string_append(out, joined);
	return out;
}

/* footer_entity - the footer as a part: text/plain, or multipart/alternative with the
 * configured HTML too */
static GString *
footer_entity(const MwFooterText *footer, const char *nl)
{
	if (!footer->html_configured)
		return text_entity("plain", footer->text, nl);
	g_autofree char *boundary = new_boundary();
	g_autoptr(GString) text = text_entity("plain", footer->text, nl);
	g_autofree char *doc = g_strconcat("<html><body>\n" MW_FOOTER_HTML_BEGIN "\n", footer->html,
					   "\n" MW_FOOTER_HTML_END "\n</body></html>", NULL);
	g_autoptr(GString) html = text_entity("html", doc, nl);
	GString *out = g_string_new(NULL);

	g_string_append_printf(out, "Content-Type: multipart/alternative;%s boundary=\"%s\"%s%s",
			       nl, boundary, nl, nl);
	g_string_append_printf(out, "--%s%s%s", boundary, nl, text->str);
	g_string_append_printf(out, "%s--%s%s%s", nl, boundary, nl, html->str);
	g_string_append_printf(out, "%s--%s--%s", nl, boundary, nl);
	return out;
}

/**
 * mw_footer_splice_attach:
 * @footer: the footer texts
 * @position: bottom: the footer part comes after the original, top: before
 *
 * Wraps the untouched original body in a multipart/mixed with the footer as
 * a separate inline part.
 *
 * Returns: (transfer full): the new message, or NULL with @error
 */
MwMessage *
mw_footer_splice_attach(const MwFooterSource *source, const MwFooterText *footer,
			MwFooterPosition position, const char *spool_dir, GError **error)
{
	g_autoptr(MwFooterHeaders) top = headers_copy(source->top);
	g_autoptr(MwFooterHeaders) inner = headers_copy(source->top);
	g_autoptr(MwMessage) out = mw_message_new(spool_dir, MW_MESSAGE_MEMORY_THRESHOLD);
	g_autofree char *boundary = new_boundary();
	const char *nl = source->top->newline;
	g_autoptr(GString) footer_part = footer_entity(footer, nl);
	guint64 size = mw_message_get_size(source->message);

	/* the Content-* fields describe the original body: they go with it */
	g_ptr_array_unref(inner->fields);
	inner->fields = mw_footer_headers_take_content(top);
	if (mw_footer_headers_find(top, "MIME-Version") < 0)
		mw_footer_headers_append(top, "MIME-Version", "1.0");
	g_autofree char *ct = g_strdup_printf("multipart/mixed;\n boundary=\"%s\"", boundary);
	mw_footer_headers_append(top, "Content-Type", ct);
	mark(top, "yes");

	g_autofree char *open = g_strdup_printf("--%s%s", boundary, nl);
	g_autofree char *next = g_strdup_printf("%s--%s%s", nl, boundary, nl);
	g_autofree char *close = g_strdup_printf("%s--%s--%s", nl, boundary, nl);
	if (!append_headers(out, top, error) || !append_text(out, open, error))
		return NULL;
	if (position == MW_FOOTER_TOP &&
	    (!append_text(out, footer_part->str, error) || !append_text(out, next, error)))
		return NULL;
	if (!append_headers(out, inner, error) ||
	    !copy_range(source->message, source->body_offset, size, out, error))
		return NULL;
	if (position == MW_FOOTER_BOTTOM &&
	    (!append_text(out, next, error) || !append_text(out, footer_part->str, error)))
		return NULL;
	if (!append_text(out, close, error) || !mw_message_seal(out, error))
		return NULL;
	return g_steal_pointer(&out);
}
