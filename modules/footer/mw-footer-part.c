/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-footer-part - the new bytes of one body part with its footer
 * SYNOPSIS
 *	mw_footer_part_edit, mw_footer_edit_free, mw_footer_read_range,
 *	mw_footer_encode_content
 * DESCRIPTION
 *	For one target part: find its bytes in the message (GMime's content
 *	stream bounds and header offsets), decode the transfer encoding, insert
 *	the footer and encode again with the same kind of encoding.
 *
 *	Charsets: when the footer can be written in the part's charset and that
 *	charset is ASCII-compatible without shift states, the footer is
 *	converted and spliced into the part's own bytes, which keeps every
 *	original byte of the text. A stateful charset (ISO-2022-JP) or one that
 *	is not ASCII-compatible (UTF-16) is edited as text and converted back.
 *	When the footer cannot be represented at all, the part becomes UTF-8
 *	and its charset parameter (and an HTML <meta> charset) says so.
 *
 *	Transfer encodings: base64 and quoted-printable parts are re-encoded in
 *	the same encoding; a 7bit part that now needs 8 bits (or has a line over
 *	998 octets) becomes quoted-printable, never 8bit, so the message still
 *	goes through a hop without 8BITMIME.
 *
 *	Anything unexpected (bytes not where the tree says, an unknown charset
 *	that cannot be converted, uuencode) leaves the part alone with a reason:
 *	a footer is never worth a broken message.
 */
#include <string.h>

#include "mw-error.h"
#include "mw-footer.h"

/* the maximum line length of RFC 5322 2.1.1 */
#define LINE_LIMIT 998

void
mw_footer_edit_free(MwFooterEdit *edit)
{
	if (edit == NULL)
		return;
	g_clear_pointer(&edit->replacement, g_bytes_unref);
	g_clear_pointer(&edit->top_fields, g_ptr_array_unref);
	g_free(edit->reason);
	g_free(edit);
}

/**
 * mw_footer_read_range:
 * @start: first byte
 * @end: end of the range (exclusive)
 *
 * Returns: (transfer full): the bytes of @message in [@start, @end), or NULL
 * with @error when the spool cannot be read
 */
GBytes *
mw_footer_read_range(MwMessage *message, guint64 start, guint64 end, GError **error)
{
	gsize len = (gsize) (end - start);
	guint8 *buf = g_malloc(len + 1);
	gsize done = 0;

	while (done < len) {
		gssize n = mw_message_read(message, start + done, buf + done, len - done, error);
		if (n < 0) {
			g_free(buf);
			return NULL;
		}
		if (n == 0)
			break;
		done += (gsize) n;
	}
	buf[done] = '\0';
	return g_bytes_new_take(buf, done);
}

/* skipped - an edit that leaves the part alone */
static MwFooterEdit *skipped(MwFooterEdit *edit, MwFooterEditResult result, const char *fmt, ...)
	G_GNUC_PRINTF(3, 4);

static MwFooterEdit *
skipped(MwFooterEdit *edit, MwFooterEditResult result, const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	edit->result = result;
	edit->reason = g_strdup_vprintf(fmt, args);
	va_end(args);
	return edit;
}

/* transcode - run @data through a GMime encoder or decoder for @encoding */
static GByteArray *
transcode(const guint8 *data, gsize len, GMimeContentEncoding encoding, gboolean encode)
{
	GMimeEncoding state;

	if (encode)
		g_mime_encoding_init_encode(&state, encoding);
	else
		g_mime_encoding_init_decode(&state, encoding);
	gsize room = g_mime_encoding_outlen(&state, len) + 16;
	GByteArray *out = g_byte_array_sized_new((guint) room);
	g_byte_array_set_size(out, (guint) room);
	gsize n = g_mime_encoding_flush(&state, (const char *) data, len, (char *) out->data);
	g_byte_array_set_size(out, (guint) n);
	return out;
}

/* needs_qp - bytes a 7bit (@eight_bit_ok FALSE) or 8bit part cannot carry as they are */
static gboolean
needs_qp(const guint8 *data, gsize len, gboolean eight_bit_ok)
{
	gsize line = 0;

	for (gsize i = 0; i < len; i++) {
		if (data[i] == '\0' || (!eight_bit_ok && data[i] >= 0x80))
			return TRUE;
		if (data[i] == '\n') {
			line = 0;
		} else if (data[i] != '\r' && ++line > LINE_LIMIT) {
			return TRUE;
		}
	}
	return FALSE;
}

/* lf_to_newline - @data with each LF written as @newline */
static GBytes *
lf_to_newline(const guint8 *data, gsize len, const char *newline)
{
	if (strcmp(newline, "\n") == 0)
		return g_bytes_new(data, len);
	GByteArray *out = g_byte_array_sized_new((guint) (len + len / 32 + 2));
	gsize start = 0;
	for (gsize i = 0; i < len; i++) {
		if (data[i] != '\n')
			continue;
		g_byte_array_append(out, data + start, (guint) (i - start));
		g_byte_array_append(out, (const guint8 *) newline, (guint) strlen(newline));
		start = i + 1;
	}
	g_byte_array_append(out, data + start, (guint) (len - start));
	return g_byte_array_free_to_bytes(out);
}

/**
 * mw_footer_encode_content:
 * @encoding: the transfer encoding to apply
 * @newline: the message's line end, for the encoded lines
 *
 * Returns: (transfer full): @data in @encoding; identity encodings return
 * the bytes as they are
 */
GBytes *
mw_footer_encode_content(const guint8 *data, gsize len, GMimeContentEncoding encoding,
			 const char *newline)
{
	if (encoding != GMIME_CONTENT_ENCODING_BASE64 &&
	    encoding != GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE)
		return g_bytes_new(data, len);
	g_autoptr(GByteArray) encoded = transcode(data, len, encoding, TRUE);
	/* GMime writes LF; the part's lines end the way the message's do */
	return lf_to_newline(encoded->data, encoded->len, newline);
}

/* content_newline - the line end the text uses (its first one), else @fallback */
static const char *
content_newline(const guint8 *data, gsize len, const char *fallback)
{
	const guint8 *nl = len > 0 ? memchr(data, '\n', len) : NULL;

	if (nl == NULL)
		return fallback;
	return (nl > data && nl[-1] == '\r') ? "\r\n" : "\n";
}

/* ends_with_newline */
static gboolean
ends_with_newline(const guint8 *data, gsize len)
{
	return len > 0 && data[len - 1] == '\n';
}

/* find_last_ci - the last occurrence of ASCII @needle in @data, or -1 */
static gssize
find_last_ci(const guint8 *data, gsize len, const char *needle)
{
	gsize n = strlen(needle);

	for (gsize i = len >= n ? len - n + 1 : 0; i-- > 0;) {
		if (g_ascii_strncasecmp((const char *) data + i, needle, n) == 0)
			return (gssize) i;
	}
	return -1;
}

/* find_first_ci - the first occurrence of ASCII @needle in @data, or -1 */
static gssize
find_first_ci(const guint8 *data, gsize len, const char *needle)
{
	gsize n = strlen(needle);

	for (gsize i = 0; i + n <= len; i++) {
		if (g_ascii_strncasecmp((const char *) data + i, needle, n) == 0)
			return (gssize) i;
	}
	return -1;
}

/* body_tag_end - offset just after the '>' of the first <body ...> tag, or -1 */
static gssize
body_tag_end(const guint8 *data, gsize len)
{
	gsize i = 0;

	for (;;) {
		gssize at = find_first_ci(data + i, len - i, "<body");
		if (at < 0)
			return -1;
		gsize tag = i + (gsize) at;
		gsize after = tag + 5;
		if (after < len && (data[after] == '>' || g_ascii_isspace(data[after]))) {
			const guint8 *gt = memchr(data + after, '>', len - after);
			return gt != NULL ? (gssize) (gt - data) + 1 : -1;
		}
		i = after;
	}
}

/* append - bytes to a GByteArray */
static void
append(GByteArray *out, const void *data, gsize len)
{
	g_byte_array_append(out, data, (guint) len);
}

/* append_str */
static void
append_str(GByteArray *out, const char *text)
{
	g_byte_array_append(out, (const guint8 *) text, (guint) strlen(text));
}

/**
 * insert_footer:
 * @content: the decoded text (in its charset)
 * @piece: the footer in the same charset, line ends already @newline
 *
 * Plain text: at the bottom after a "-- " signature separator, at the top
 * followed by an empty line. HTML: at the bottom before the last </body>, or
 * at the end without one; at the top after <body ...>, or at the start.
 * Whether the text ended with a line end is kept.
 */
static GByteArray *
insert_footer(const guint8 *content, gsize len, const guint8 *piece, gsize piece_len, gboolean html,
	      MwFooterPosition position, const char *newline)
{
	GByteArray *out = g_byte_array_sized_new((guint) (len + piece_len + 16));
	gboolean ends_nl = ends_with_newline(content, len);

	if (html && position == MW_FOOTER_BOTTOM) {
		gssize at = find_last_ci(content, len, "</body");
		if (at >= 0) {
			append(out, content, (gsize) at);
			if (at > 0 && content[at - 1] != '\n')
				append_str(out, newline);
			append(out, piece, piece_len);
			append_str(out, newline);
			append(out, content + at, len - (gsize) at);
			return out;
		}
	} else if (html) {
		gssize at = body_tag_end(content, len);
		if (at >= 0) {
			append(out, content, (gsize) at);
			append_str(out, newline);
			append(out, piece, piece_len);
			if ((gsize) at >= len || (content[at] != '\r' && content[at] != '\n'))
				append_str(out, newline);
			append(out, content + at, len - (gsize) at);
			return out;
		}
	}
	if (position == MW_FOOTER_TOP) {
		append(out, piece, piece_len);
		append_str(out, newline);
		if (len > 0) {
			if (!html)
				append_str(out, newline);
			append(out, content, len);
		}
		return out;
	}
	append(out, content, len);
	if (len > 0 && !ends_nl)
		append_str(out, newline);
	if (!html) {
		if (len > 0)
			append_str(out, newline);
		append_str(out, "-- ");
		append_str(out, newline);
	}
	append(out, piece, piece_len);
	if (ends_nl || len == 0)
		append_str(out, newline);
	return out;
}

/* footer_piece - the footer in its form for this part (UTF-8, @newline line ends) */
static char *
footer_piece(const MwFooterText *footer, gboolean html, gboolean flowed, gboolean delsp,
	     const char *newline)
{
	g_autofree char *form = NULL;

	if (html)
		form = g_strconcat(MW_FOOTER_HTML_BEGIN "\n", footer->html, "\n" MW_FOOTER_HTML_END,
				   NULL);
	else if (flowed)
		form = mw_footer_text_flowed(footer->text, delsp);
	else
		form = g_strdup(footer->text);
	if (strcmp(newline, "\n") == 0)
		return g_steal_pointer(&form);
	g_auto(GStrv) lines = g_strsplit(form, "\n", -1);
	return g_strjoinv(newline, lines);
}

/* contains - @needle occurs in @data */
static gboolean
contains(const guint8 *data, gsize len, const char *needle)
{
	return len > 0 && memmem(data, len, needle, strlen(needle)) != NULL;
}

/* part_header_start - where a (non top-level) part's header block starts, or -1 */
static gint64
part_header_start(GMimeObject *object, const guint8 *before, gsize before_len, guint64 cs)
{
	GMimeHeaderList *list = g_mime_object_get_header_list(object);

	if (list != NULL && g_mime_header_list_get_count(list) > 0) {
		GMimeHeader *first = g_mime_header_list_get_header_at(list, 0);
		return g_mime_header_get_offset(first);
	}
	/* no header at all: the block is just the empty line before the content */
	if (before_len >= 2 && before[before_len - 2] == '\r' && before[before_len - 1] == '\n')
		return (gint64) cs - 2;
	if (before_len >= 1 && before[before_len - 1] == '\n')
		return (gint64) cs - 1;
	return -1;
}

/*
 * plain_params - every parameter of @ct has a token for a name and a short
 * printable ASCII value: GMime's encoder needs minutes and gigabytes for some
 * names full of control bytes (found by fuzz-footer), and a text part needs
 * none of those parameters
 */
static gboolean
plain_params(GMimeContentType *ct)
{
	GMimeParamList *list = g_mime_content_type_get_parameters(ct);
	int n = list != NULL ? g_mime_param_list_length(list) : 0;

	for (int i = 0; i < n; i++) {
		GMimeParam *param = g_mime_param_list_get_parameter_at(list, i);
		const char *name = g_mime_param_get_name(param);
		const char *value = g_mime_param_get_value(param);
		if (name == NULL || *name == '\0' || strlen(name) > 64 || value == NULL ||
		    strlen(value) > 256)
			return FALSE;
		for (const char *c = name; *c != '\0'; c++)
			if (*c <= ' ' || *c >= 127 || strchr("()<>@,;:\\\"/[]?=", *c) != NULL)
				return FALSE;
		for (const char *c = value; *c != '\0'; c++)
			if (*c < ' ' || *c >= 127)
				return FALSE;
	}
	return TRUE;
}

/* rebuilt_content_type - the Content-Type value with charset=utf-8 (folds as LF) */
static char *
rebuilt_content_type(const char *value, gboolean html)
{
	g_autoptr(GMimeContentType) ct = NULL;

	const char *fallback = html ? "text/html; charset=utf-8" : "text/plain; charset=utf-8";

	if (value == NULL)
		return g_strdup(fallback);
	ct = g_mime_content_type_parse(NULL, value);
	/* a value GMime could not read as this part's type, or with odd parameters:
	 * write a clean one */
	if (ct == NULL || !g_mime_content_type_is_type(ct, "text", html ? "html" : "plain") ||
	    !plain_params(ct))
		return g_strdup(fallback);
	g_mime_content_type_set_parameter(ct, "charset", "utf-8");
	g_autofree char *encoded = g_mime_content_type_encode(ct, NULL);
	g_strstrip(encoded);
	return g_strdup(encoded);
}

/* add_change - a (name, value) header change */
static void
add_change(GPtrArray *changes, const char *name, char *value /* (transfer full) */)
{
	g_ptr_array_add(changes, g_strdup(name));
	g_ptr_array_add(changes, value);
}

/* content_bounds - where GMime found the part's content; FALSE if it cannot tell */
static gboolean
content_bounds(GMimePart *part, guint64 size, guint64 *cs_out, guint64 *ce_out)
{
	GMimeDataWrapper *wrapper = g_mime_part_get_content(part);
	GMimeStream *stream = wrapper != NULL ? g_mime_data_wrapper_get_stream(wrapper) : NULL;

	/* a substream of the parsed message's stream: its bounds are message offsets */
	if (stream == NULL || stream->super_stream == NULL || stream->bound_start < 0)
		return FALSE;
	*cs_out = (guint64) stream->bound_start;
	*ce_out = stream->bound_end < 0 ? size : (guint64) stream->bound_end;
	return *cs_out <= *ce_out && *ce_out <= size;
}

/* PartPlace - where a part's bytes are in the message */
typedef struct {
	guint64 hstart;           /* its header block; the content start for the message body */
	guint64 cs;               /* its content */
	guint64 ce;               /* end of its content */
	MwFooterHeaders *headers; /* a nested part's header block; NULL for the message body */
	GBytes *block;            /* that block's bytes */
} PartPlace;

static void
part_place_clear(PartPlace *place)
{
	g_clear_pointer(&place->headers, mw_footer_headers_free);
	g_clear_pointer(&place->block, g_bytes_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(PartPlace, part_place_clear)

/* locate - the part's byte ranges, checked against the bytes themselves. FALSE with @error
 * when the spool cannot be read; TRUE with *@reason_out set when the part cannot be edited */
static gboolean
locate(const MwFooterSource *source, const MwFooterTarget *target, PartPlace *place,
       char **reason_out, GError **error)
{
	guint64 size = mw_message_get_size(source->message);
	GMimeObject *object = GMIME_OBJECT(target->part);

	if (!content_bounds(target->part, size, &place->cs, &place->ce)) {
		*reason_out = g_strdup("content is not at a known offset");
		return TRUE;
	}
	if (place->ce > place->cs) {
		/* GMime ends a part's content before the LF of the CRLF that precedes
		 * the boundary; that CR belongs to the boundary (RFC 2046 §5.1.1), and
		 * re-encoding it would leave its LF bare */
		guint8 two[2];
		if (mw_message_read(source->message, place->ce - 1, two, 2, NULL) == 2 &&
		    two[0] == '\r' && two[1] == '\n')
			place->ce--;
	}
	if (place->ce - place->cs > MW_FOOTER_MAX_PART) {
		*reason_out = g_strdup_printf("body part too large (%" G_GUINT64_FORMAT " bytes)",
					      place->ce - place->cs);
		return TRUE;
	}
	if (target->top) {
		/* the message's own body: its header fields are the message's */
		if (place->cs != source->body_offset)
			*reason_out = g_strdup("body is not where the header block ends");
		place->hstart = place->cs;
		return TRUE;
	}
	if (place->cs <= source->body_offset) {
		*reason_out = g_strdup("part is not inside the body");
		return TRUE;
	}
	/* the header block: from its first field up to the content */
	guint64 look = MIN(place->cs - source->body_offset, (guint64) 4);
	g_autoptr(GBytes) before =
		mw_footer_read_range(source->message, place->cs - look, place->cs, error);
	if (before == NULL)
		return FALSE;
	gsize before_len = 0;
	const guint8 *before_data = g_bytes_get_data(before, &before_len);
	gint64 start = part_header_start(object, before_data, before_len, place->cs);
	if (start < (gint64) source->body_offset || (guint64) start > place->cs ||
	    place->cs - (guint64) start > MW_FOOTER_MAX_HEADER) {
		*reason_out = g_strdup("part headers are not at a known offset");
		return TRUE;
	}
	place->hstart = (guint64) start;
	place->block = mw_footer_read_range(source->message, place->hstart, place->cs, error);
	if (place->block == NULL)
		return FALSE;
	gsize len = 0;
	const guint8 *data = g_bytes_get_data(place->block, &len);
	place->headers = mw_footer_headers_parse(data, len);
	/* the block must be exactly the header fields GMime saw, ending with the empty line */
	GMimeHeaderList *list = g_mime_object_get_header_list(object);
	gboolean same_first = TRUE;
	if (list != NULL && g_mime_header_list_get_count(list) > 0) {
		g_autofree char *name = place->headers->fields->len > 0
						? mw_footer_headers_field_name(g_ptr_array_index(
							  place->headers->fields, 0))
						: NULL;
		const char *want =
			g_mime_header_get_name(g_mime_header_list_get_header_at(list, 0));
		same_first = name != NULL && want != NULL && g_ascii_strcasecmp(name, want) == 0;
	}
	if ((len > 0 && memchr(data, 0, len) != NULL) || !place->headers->terminated ||
	    place->headers->length != len || !same_first)
		*reason_out = g_strdup("part header block does not match the parse");
	return TRUE;
}

/* decode - the content without its transfer encoding; NULL for one we do not handle */
static GByteArray *
decode(const guint8 *raw, gsize len, GMimeContentEncoding encoding)
{
	switch (encoding) {
	case GMIME_CONTENT_ENCODING_BASE64:
	case GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE:
		return transcode(raw, len, encoding, FALSE);
	case GMIME_CONTENT_ENCODING_DEFAULT:
	case GMIME_CONTENT_ENCODING_7BIT:
	case GMIME_CONTENT_ENCODING_8BIT:
	case GMIME_CONTENT_ENCODING_BINARY: {
		/* one spare byte: the array's data is never NULL, even for an empty part */
		GByteArray *copy = g_byte_array_sized_new((guint) len + 1);
		g_byte_array_append(copy, raw, (guint) len);
		return copy;
	}
	default:
		return NULL;
	}
}

/* param_is - the content type parameter @name equals @value (case-insensitive) */
static gboolean
param_is(GMimeContentType *ct, const char *name, const char *value)
{
	const char *got = g_mime_content_type_get_parameter(ct, name);

	return got != NULL && g_ascii_strcasecmp(got, value) == 0;
}

/**
 * with_footer:
 * @decoded: the part's text in its charset
 * @to_utf8_out: (out): the result is UTF-8 now (the charset parameter must change)
 * @reason_out: (out): why not, when NULL is returned
 *
 * The text with the footer, in the part's charset when the footer fits in it,
 * else in UTF-8 (see the file's DESCRIPTION).
 */
static GByteArray *
with_footer(const GByteArray *decoded, const MwFooterTarget *target, const MwFooterText *footer,
	    MwFooterPosition position, const char *fallback_newline, gboolean *to_utf8_out,
	    char **reason_out)
{
	GMimeContentType *ct = g_mime_object_get_content_type(GMIME_OBJECT(target->part));
	const char *charset = g_mime_content_type_get_parameter(ct, "charset");
	gboolean flowed = !target->html && param_is(ct, "format", "flowed");
	const char *newline = content_newline(decoded->data, decoded->len, fallback_newline);
	g_autofree char *piece =
		footer_piece(footer, target->html, flowed, param_is(ct, "delsp", "yes"), newline);
	g_autofree char *charset_name = mw_footer_charset_name(charset);
	gboolean stateful = mw_footer_charset_is_stateful(charset_name);
	gboolean compatible = !stateful && mw_footer_charset_ascii_compatible(charset_name);
	g_autoptr(GBytes) native = compatible ? mw_footer_charset_encode(piece, -1, charset) : NULL;

	*to_utf8_out = FALSE;
	if (native != NULL) {
		/* the footer in the part's charset, spliced into the part's own bytes */
		gsize len = 0;
		const guint8 *data = g_bytes_get_data(native, &len);
		return insert_footer(decoded->data, decoded->len, data, len, target->html, position,
				     newline);
	}
	gsize utf8_len = 0;
	g_autofree char *utf8 =
		mw_footer_charset_decode(decoded->data, decoded->len, charset, &utf8_len);
	if (utf8 == NULL &&
	    g_utf8_validate((const char *) decoded->data, (gssize) decoded->len, NULL)) {
		/* labelled wrongly (often: no charset at all) but valid UTF-8 */
		utf8_len = decoded->len;
		utf8 = g_strndup((const char *) decoded->data, decoded->len);
	}
	if (utf8 == NULL) {
		*reason_out = g_strdup_printf("text is not valid %s", charset_name);
		return NULL;
	}
	g_autoptr(GByteArray) edited =
		insert_footer((const guint8 *) utf8, utf8_len, (const guint8 *) piece,
			      strlen(piece), target->html, position, newline);
	g_autoptr(GBytes) back = compatible
					 ? NULL
					 : mw_footer_charset_encode((const char *) edited->data,
								    (gssize) edited->len, charset);
	if (back != NULL) {
		/* stateful or wide charset: edited as text, written back in it */
		gsize len = 0;
		const guint8 *data = g_bytes_get_data(back, &len);
		GByteArray *out = g_byte_array_sized_new((guint) len + 1);
		g_byte_array_append(out, data, (guint) len);
		return out;
	}
	*to_utf8_out = TRUE;
	if (target->html)
		return mw_footer_html_meta_utf8(edited->data, edited->len);
	return g_steal_pointer(&edited);
}

/* encode_part - @text in the part's kind of transfer encoding (*@encoding_inout: the
 * original's in, the one used out); @raw_ends_nl: whether the original content ended with
 * a line end, which a base64 body then keeps too */
static GBytes *
encode_part(const GByteArray *text, GMimeContentEncoding *encoding_inout, gboolean raw_ends_nl,
	    const char *newline)
{
	GMimeContentEncoding encoding = *encoding_inout;

	/* 7bit that needs more becomes quoted-printable (never 8bit: no 8BITMIME needed) */
	if ((encoding == GMIME_CONTENT_ENCODING_DEFAULT ||
	     encoding == GMIME_CONTENT_ENCODING_7BIT) &&
	    needs_qp(text->data, text->len, FALSE))
		encoding = GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE;
	else if (encoding == GMIME_CONTENT_ENCODING_8BIT && needs_qp(text->data, text->len, TRUE))
		encoding = GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE;
	*encoding_inout = encoding;
	GBytes *encoded = mw_footer_encode_content(text->data, text->len, encoding, newline);
	if (encoding == GMIME_CONTENT_ENCODING_BASE64 && !raw_ends_nl) {
		gsize len = 0;
		const guint8 *data = g_bytes_get_data(encoded, &len);
		gsize nl = strlen(newline);
		if (len >= nl && memcmp(data + len - nl, newline, nl) == 0) {
			GBytes *shorter = g_bytes_new_from_bytes(encoded, 0, len - nl);
			g_bytes_unref(encoded);
			encoded = shorter;
		}
	}
	return encoded;
}

/**
 * mw_footer_part_edit:
 * @source: the message and its header block
 * @target: the part
 * @footer: the footer texts
 *
 * Returns: (transfer full): the edit (DONE with the replacement bytes, or why
 * not), or NULL with @error when the spool could not be read
 */
MwFooterEdit *
mw_footer_part_edit(const MwFooterSource *source, const MwFooterTarget *target,
		    const MwFooterText *footer, MwFooterPosition position, GError **error)
{
	g_autoptr(MwFooterEdit) edit = g_new0(MwFooterEdit, 1);
	g_auto(PartPlace) place = {0};
	g_autofree char *reason = NULL;
	gboolean to_utf8 = FALSE;

	if (!locate(source, target, &place, &reason, error))
		return NULL;
	if (reason != NULL)
		return skipped(g_steal_pointer(&edit), MW_FOOTER_EDIT_SKIPPED, "%s", reason);
	g_autoptr(GBytes) raw = mw_footer_read_range(source->message, place.cs, place.ce, error);
	if (raw == NULL)
		return NULL;
	gsize raw_len = 0;
	const guint8 *raw_data = g_bytes_get_data(raw, &raw_len);
	GMimeContentEncoding encoding = g_mime_part_get_content_encoding(target->part);
	g_autoptr(GByteArray) decoded = decode(raw_data, raw_len, encoding);
	if (decoded == NULL)
		return skipped(g_steal_pointer(&edit), MW_FOOTER_EDIT_SKIPPED,
			       "transfer encoding %s not supported",
			       g_mime_content_encoding_to_string(encoding));

	/* inline PGP (RFC 4880 7): the armour must stay exactly as signed */
	if (contains(decoded->data, decoded->len, "-----BEGIN PGP SIGNED MESSAGE-----"))
		return skipped(g_steal_pointer(&edit), MW_FOOTER_EDIT_SIGNED,
			       "inline PGP signature");
	if (contains(decoded->data, decoded->len, "-----BEGIN PGP MESSAGE-----"))
		return skipped(g_steal_pointer(&edit), MW_FOOTER_EDIT_ENCRYPTED,
			       "inline PGP message");

	g_autoptr(GByteArray) text = with_footer(decoded, target, footer, position,
						 source->top->newline, &to_utf8, &reason);
	if (text == NULL)
		return skipped(g_steal_pointer(&edit), MW_FOOTER_EDIT_SKIPPED, "%s", reason);
	GMimeContentEncoding out_encoding = encoding;
	g_autoptr(GBytes) encoded = encode_part(
		text, &out_encoding, ends_with_newline(raw_data, raw_len), source->top->newline);

	/* the header changes: encoding and charset */
	g_autoptr(GPtrArray) changes = g_ptr_array_new_with_free_func(g_free);
	if (out_encoding != encoding)
		add_change(changes, "Content-Transfer-Encoding",
			   g_strdup(g_mime_content_encoding_to_string(out_encoding)));
	if (to_utf8) {
		MwFooterHeaders *where = target->top ? source->top : place.headers;
		g_autofree char *value = mw_footer_headers_value(where, "Content-Type");
		add_change(changes, "Content-Type", rebuilt_content_type(value, target->html));
	}

	edit->result = MW_FOOTER_EDIT_DONE;
	edit->start = place.hstart;
	edit->end = place.ce;
	if (target->top) {
		/* the message's header block is rewritten by the splice, with the marker */
		edit->replacement = g_steal_pointer(&encoded);
		edit->top_fields = g_steal_pointer(&changes);
		return g_steal_pointer(&edit);
	}
	GByteArray *out = g_byte_array_new();
	if (changes->len == 0) {
		/* the header block as it was, to the byte */
		gsize len = 0;
		const guint8 *data = g_bytes_get_data(place.block, &len);
		g_byte_array_append(out, data, (guint) len);
	} else {
		for (guint i = 0; i + 1 < changes->len; i += 2)
			mw_footer_headers_set(place.headers, g_ptr_array_index(changes, i),
					      g_ptr_array_index(changes, i + 1));
		mw_footer_headers_write(place.headers, out);
	}
	gsize enc_len = 0;
	const guint8 *enc_data = g_bytes_get_data(encoded, &enc_len);
	g_byte_array_append(out, enc_data, (guint) enc_len);
	edit->replacement = g_byte_array_free_to_bytes(out);
	return g_steal_pointer(&edit);
}
