/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-gpg-detect - is this mail encrypted already?
 * SYNOPSIS
 *	mw_gpg_detect_encrypted
 * DESCRIPTION
 *	Mail that is encrypted already is delivered as it is: encrypting it a
 *	second time would only make the recipient decrypt twice, and our own
 *	output (multipart/encrypted) must never be wrapped again if it comes
 *	back (idempotence). Encrypted means, for the message body or any part
 *	of it outside an attached message (message/rfc822 attachments are
 *	someone else's mail and do not count):
 *	  - multipart/encrypted (PGP/MIME, RFC 3156) or application/pgp-encrypted;
 *	  - S/MIME enveloped data: application/(x-)pkcs7-mime whose smime-type
 *	    is enveloped-data or authEnveloped-data, or is missing (old
 *	    clients leave it out of encrypted mail);
 *	  - inline PGP: a text/plain part (not an attachment) with a line that
 *	    starts with "-----BEGIN PGP MESSAGE-----", after undoing the
 *	    transfer encoding; also the old application/pgp type.
 *	Signed mail (multipart/signed, inline "BEGIN PGP SIGNED MESSAGE",
 *	S/MIME signed-data) is not encrypted mail: it is encrypted as a whole.
 *
 *	Parts are decoded as a stream in 64 KiB chunks, so a large text part
 *	costs no memory. A message GMime cannot parse at all is searched raw.
 */
#include <string.h>

#include "mw-gpg.h"

#define ARMOR_LINE "\n-----BEGIN PGP MESSAGE-----"

/* stream_has_armor - whether @stream has a line starting the PGP armor; the first line counts
 * (the window starts with a virtual newline) */
static gboolean
stream_has_armor(GMimeStream *stream)
{
	const gsize needle_len = strlen(ARMOR_LINE);
	const gsize chunk = 65536;
	g_autofree char *window = g_malloc(chunk + needle_len);
	gsize carry = 1;

	window[0] = '\n';
	for (;;) {
		gssize n = g_mime_stream_read(stream, window + carry, chunk);
		if (n <= 0)
			return FALSE;
		gsize len = carry + (gsize) n;
		if (memmem(window, len, ARMOR_LINE, needle_len) != NULL)
			return TRUE;
		/* keep a tail shorter than the needle: a match may straddle two chunks */
		carry = MIN(len, needle_len - 1);
		memmove(window, window + len - carry, carry);
	}
}

/* part_has_armor - the decoded content of @part has an armored PGP message */
static gboolean
part_has_armor(GMimePart *part)
{
	GMimeDataWrapper *content = g_mime_part_get_content(part);
	if (content == NULL)
		return FALSE;
	GMimeStream *raw = g_mime_data_wrapper_get_stream(content);
	if (raw == NULL)
		return FALSE;
	/* read through a substream of our own: the wrapper's stream keeps its position */
	g_autoptr(GMimeStream) source =
		g_mime_stream_substream(raw, raw->bound_start, raw->bound_end);
	g_autoptr(GMimeStream) filtered = g_mime_stream_filter_new(source);
	GMimeContentEncoding encoding = g_mime_data_wrapper_get_encoding(content);
	if (encoding != GMIME_CONTENT_ENCODING_DEFAULT) {
		g_autoptr(GMimeFilter) decoder = g_mime_filter_basic_new(encoding, FALSE);
		g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), decoder);
	}
	return stream_has_armor(filtered);
}

/* smime_encrypted - an application/pkcs7-mime type that is (or may be) enveloped data */
static gboolean
smime_encrypted(GMimeContentType *type)
{
	const char *smime_type = g_mime_content_type_get_parameter(type, "smime-type");
	if (smime_type == NULL)
		return TRUE;
	return g_ascii_strcasecmp(smime_type, "enveloped-data") == 0 ||
	       g_ascii_strcasecmp(smime_type, "authEnveloped-data") == 0;
}

/* is_attachment - the part says Content-Disposition: attachment */
static gboolean
is_attachment(GMimeObject *object)
{
	GMimeContentDisposition *disposition = g_mime_object_get_content_disposition(object);
	return disposition != NULL && g_mime_content_disposition_is_attachment(disposition);
}

/* detect_object - why @object is encrypted, or NULL */
static const char *
detect_object(GMimeObject *object, guint depth)
{
	GMimeContentType *type = g_mime_object_get_content_type(object);

	/* GMime's own limit on nesting is higher; a tree this deep is not mail */
	if (depth > 64 || type == NULL)
		return NULL;
	if (g_mime_content_type_is_type(type, "multipart", "encrypted") ||
	    g_mime_content_type_is_type(type, "application", "pgp-encrypted"))
		return "pgp/mime";
	if (g_mime_content_type_is_type(type, "application", "pkcs7-mime") ||
	    g_mime_content_type_is_type(type, "application", "x-pkcs7-mime"))
		return smime_encrypted(type) ? "s/mime" : NULL;
	if (g_mime_content_type_is_type(type, "application", "pgp"))
		return "inline-pgp";
	if (GMIME_IS_MULTIPART(object)) {
		GMimeMultipart *multipart = GMIME_MULTIPART(object);
		int n = g_mime_multipart_get_count(multipart);
		for (int i = 0; i < n; i++) {
			const char *why =
				detect_object(g_mime_multipart_get_part(multipart, i), depth + 1);
			if (why != NULL)
				return why;
		}
		return NULL;
	}
	if (GMIME_IS_PART(object) && g_mime_content_type_is_type(type, "text", "plain") &&
	    !is_attachment(object) && part_has_armor(GMIME_PART(object)))
		return "inline-pgp";
	return NULL;
}

/**
 * mw_gpg_detect_encrypted:
 * @delivery: the variant to look at (its edited tree if any, else its bytes)
 *
 * Returns: (nullable): "pgp/mime", "inline-pgp" or "s/mime" when the message
 * is encrypted already (see DESCRIPTION), NULL when it is to be encrypted
 */
const char *
mw_gpg_detect_encrypted(MwDelivery *delivery)
{
	GMimeMessage *mime = mw_delivery_get_mime(delivery, NULL);
	if (mime == NULL) {
		g_autoptr(GMimeStream) raw = mw_message_new_stream(delivery->message);
		return raw != NULL && stream_has_armor(raw) ? "inline-pgp" : NULL;
	}
	GMimeObject *body = g_mime_message_get_mime_part(mime);
	if (body == NULL)
		return NULL;
	return detect_object(body, 0);
}
