/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-footer-plan - which parts of a message are its body text
 * SYNOPSIS
 *	mw_footer_plan_build, mw_footer_plan_free, mw_footer_is_attachment
 * DESCRIPTION
 *	Walks the parsed tree the way a mail reader picks what it shows as the
 *	message: a top-level text part; in multipart/alternative every text/plain
 *	and text/html alternative (and the body of a nested multipart, such as
 *	multipart/related holding the HTML and its images); in multipart/mixed,
 *	multipart/related (its root, RFC 2387 "start") and any other multipart
 *	the first part, recursively. A part with Content-Disposition: attachment
 *	or a file name is an attachment and never a body; attached messages are
 *	not entered.
 *
 *	Signed and encrypted bodies (multipart/signed, multipart/encrypted,
 *	S/MIME application/pkcs7-mime) end the walk: the plan then says so and
 *	has no targets, because any change inside would break the signature
 *	(and for encrypted mail cannot be made). Inline PGP armour is only seen
 *	once the text is decoded (mw-footer-part.c).
 */
#include <string.h>

#include "mw-footer.h"

/* type_is - @object's content type is @type/@subtype (subtype NULL: any) */
static gboolean
type_is(GMimeObject *object, const char *type, const char *subtype)
{
	GMimeContentType *ct = g_mime_object_get_content_type(object);

	if (ct == NULL)
		return FALSE;
	return g_mime_content_type_is_type(ct, type, subtype != NULL ? subtype : "*");
}

/**
 * mw_footer_is_attachment:
 *
 * Content-Disposition: attachment, or a file name (the disposition's
 * filename or the content type's name parameter): the sender attached a file,
 * whatever its type.
 */
gboolean
mw_footer_is_attachment(GMimeObject *object)
{
	GMimeContentDisposition *disposition = g_mime_object_get_content_disposition(object);
	GMimeContentType *ct = g_mime_object_get_content_type(object);

	if (disposition != NULL) {
		const char *kind = g_mime_content_disposition_get_disposition(disposition);
		if (kind != NULL && g_ascii_strcasecmp(kind, "attachment") == 0)
			return TRUE;
		if (g_mime_content_disposition_get_parameter(disposition, "filename") != NULL)
			return TRUE;
	}
	return ct != NULL && g_mime_content_type_get_parameter(ct, "name") != NULL;
}

/* classify_crypto - the plan kind a signed or encrypted entity gives, else NONE */
static MwFooterPlanKind
classify_crypto(GMimeObject *object)
{
	if (type_is(object, "multipart", "signed"))
		return MW_FOOTER_PLAN_SIGNED;
	if (type_is(object, "multipart", "encrypted"))
		return MW_FOOTER_PLAN_ENCRYPTED;
	if (type_is(object, "application", "pkcs7-mime") ||
	    type_is(object, "application", "x-pkcs7-mime")) {
		GMimeContentType *ct = g_mime_object_get_content_type(object);
		const char *kind = g_mime_content_type_get_parameter(ct, "smime-type");
		/* opaque signed data is signed; enveloped data, compressed data or an
		 * unlabelled blob is treated as encrypted: nothing can be added inside */
		if (kind != NULL && g_ascii_strcasecmp(kind, "signed-data") == 0)
			return MW_FOOTER_PLAN_SIGNED;
		return MW_FOOTER_PLAN_ENCRYPTED;
	}
	if (type_is(object, "application", "pgp-encrypted") ||
	    type_is(object, "application", "pgp"))
		return MW_FOOTER_PLAN_ENCRYPTED;
	if (type_is(object, "application", "pkcs7-signature") ||
	    type_is(object, "application", "x-pkcs7-signature") ||
	    type_is(object, "application", "pgp-signature"))
		return MW_FOOTER_PLAN_SIGNED;
	return MW_FOOTER_PLAN_NONE;
}

/* add_target - a body text part */
static void
add_target(MwFooterPlan *plan, GMimeObject *object, gboolean top)
{
	MwFooterTarget *target = g_new0(MwFooterTarget, 1);

	target->part = GMIME_PART(object);
	target->html = type_is(object, "text", "html");
	target->top = top;
	g_ptr_array_add(plan->targets, target);
}

/* is_body_text - text/plain or text/html that is not an attachment */
static gboolean
is_body_text(GMimeObject *object)
{
	return GMIME_IS_PART(object) &&
	       (type_is(object, "text", "plain") || type_is(object, "text", "html")) &&
	       !mw_footer_is_attachment(object);
}

/* related_root - the root of a multipart/related: the part named by "start", else the first */
static GMimeObject *
related_root(GMimeMultipart *multipart)
{
	GMimeContentType *ct = g_mime_object_get_content_type(GMIME_OBJECT(multipart));
	const char *start = g_mime_content_type_get_parameter(ct, "start");
	int n = g_mime_multipart_get_count(multipart);

	if (start != NULL) {
		g_autofree char *id = g_strdup(start);
		g_strstrip(id);
		char *bare = id;
		gsize len = strlen(bare);
		if (len >= 2 && bare[0] == '<' && bare[len - 1] == '>') {
			bare[len - 1] = '\0';
			bare++;
		}
		for (int i = 0; i < n; i++) {
			GMimeObject *child = g_mime_multipart_get_part(multipart, i);
			const char *cid = g_mime_object_get_content_id(child);
			if (cid != NULL && strcmp(cid, bare) == 0)
				return child;
		}
	}
	return n > 0 ? g_mime_multipart_get_part(multipart, 0) : NULL;
}

/* walk - find the body text parts under @object; stops at signed or encrypted entities */
static void
walk(MwFooterPlan *plan, GMimeObject *object, gboolean top)
{
	MwFooterPlanKind crypto = classify_crypto(object);

	if (plan->kind == MW_FOOTER_PLAN_SIGNED || plan->kind == MW_FOOTER_PLAN_ENCRYPTED)
		return;
	if (crypto != MW_FOOTER_PLAN_NONE) {
		plan->kind = crypto;
		return;
	}
	if (GMIME_IS_MULTIPART(object)) {
		GMimeMultipart *multipart = GMIME_MULTIPART(object);
		int n = g_mime_multipart_get_count(multipart);

		if (type_is(object, "multipart", "alternative")) {
			/* every alternative the reader may choose gets the footer in its form */
			for (int i = 0; i < n; i++) {
				GMimeObject *child = g_mime_multipart_get_part(multipart, i);
				if (is_body_text(child))
					add_target(plan, child, FALSE);
				else if (GMIME_IS_MULTIPART(child))
					walk(plan, child, FALSE);
			}
			return;
		}
		GMimeObject *first =
			type_is(object, "multipart", "related")
				? related_root(multipart)
				: (n > 0 ? g_mime_multipart_get_part(multipart, 0) : NULL);
		if (first != NULL)
			walk(plan, first, FALSE);
		return;
	}
	if (is_body_text(object))
		add_target(plan, object, top);
}

/**
 * mw_footer_plan_build:
 * @mime: the parsed message (read only)
 *
 * Returns: (transfer full): the plan; targets hold borrowed pointers into
 * @mime, valid while it lives
 */
MwFooterPlan *
mw_footer_plan_build(GMimeMessage *mime)
{
	MwFooterPlan *plan = g_new0(MwFooterPlan, 1);
	GMimeObject *body = g_mime_message_get_mime_part(mime);

	plan->targets = g_ptr_array_new_with_free_func(g_free);
	if (body != NULL)
		walk(plan, body, TRUE);
	if (plan->kind == MW_FOOTER_PLAN_SIGNED || plan->kind == MW_FOOTER_PLAN_ENCRYPTED)
		g_ptr_array_set_size(plan->targets, 0);
	else
		plan->kind = plan->targets->len > 0 ? MW_FOOTER_PLAN_BODY : MW_FOOTER_PLAN_NONE;
	return plan;
}

void
mw_footer_plan_free(MwFooterPlan *plan)
{
	if (plan == NULL)
		return;
	g_ptr_array_unref(plan->targets);
	g_free(plan);
}
