/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-footer-apply - the footer for one message's bytes
 * SYNOPSIS
 *	mw_footer_apply, mw_footer_outcome_names
 * DESCRIPTION
 *	Decides and does it: the marker header means a footer was added before
 *	(a Postfix retry after a 4xx, a mail loop) and nothing happens; else the
 *	parsed tree gives the plan (mw-footer-plan.c), each body part is edited
 *	(mw-footer-part.c) and the result spliced (mw-footer-splice.c). Signed
 *	mail is wrapped when signed = attach, else left alone; encrypted mail is
 *	always left alone. Every "left alone" is logged with the reason.
 *
 *	Reads the cached parse of @message (mw_message_get_mime): nothing is
 *	parsed twice, and the tree is never modified.
 */
#include "mw-footer.h"

const char *const mw_footer_outcome_names[] = {
	"added", "attached", "present", "signed", "encrypted", "no-body", "unchanged", NULL,
};

/* compare_edits - by start offset */
static gint
compare_edits(gconstpointer a, gconstpointer b)
{
	const MwFooterEdit *ea = *(const MwFooterEdit *const *) a;
	const MwFooterEdit *eb = *(const MwFooterEdit *const *) b;

	return ea->start < eb->start ? -1 : ea->start > eb->start ? 1 : 0;
}

/* part_label - "text/html" for log lines */
static char *
part_label(const MwFooterTarget *target)
{
	GMimeContentType *ct = g_mime_object_get_content_type(GMIME_OBJECT(target->part));

	return ct != NULL ? g_mime_content_type_get_mime_type(ct) : g_strdup("text/plain");
}

/* edit_targets - the edits of a BODY plan; sets *@outcome_out when the text turns out signed
 * or encrypted (inline PGP) or nothing could be edited. NULL with @error on spool errors. */
static GPtrArray *
edit_targets(MwTxn *txn, const MwFooterSource *source, const MwFooterPlan *plan,
	     const MwFooterText *footer, MwFooterPosition position, MwFooterOutcome *outcome_out,
	     GError **error)
{
	g_autoptr(GPtrArray) edits =
		g_ptr_array_new_with_free_func((GDestroyNotify) mw_footer_edit_free);

	*outcome_out = MW_FOOTER_OUTCOME_ADDED;
	for (guint i = 0; i < plan->targets->len; i++) {
		const MwFooterTarget *target = g_ptr_array_index(plan->targets, i);
		g_autoptr(MwFooterEdit) edit =
			mw_footer_part_edit(source, target, footer, position, error);
		g_autofree char *label = part_label(target);

		if (edit == NULL)
			return NULL;
		switch (edit->result) {
		case MW_FOOTER_EDIT_DONE:
			g_ptr_array_add(edits, g_steal_pointer(&edit));
			break;
		case MW_FOOTER_EDIT_SIGNED:
			*outcome_out = MW_FOOTER_OUTCOME_SIGNED;
			return g_steal_pointer(&edits);
		case MW_FOOTER_EDIT_ENCRYPTED:
			*outcome_out = MW_FOOTER_OUTCOME_ENCRYPTED;
			return g_steal_pointer(&edits);
		case MW_FOOTER_EDIT_SKIPPED:
			mw_txn_log(txn, G_LOG_LEVEL_WARNING, "footer: %s part left alone: %s",
				   label, edit->reason);
			break;
		}
	}
	g_ptr_array_sort(edits, compare_edits);
	for (guint i = 1; i < edits->len; i++) {
		const MwFooterEdit *prev = g_ptr_array_index(edits, i - 1);
		const MwFooterEdit *edit = g_ptr_array_index(edits, i);
		if (edit->start < prev->end) {
			mw_txn_log(txn, G_LOG_LEVEL_WARNING,
				   "footer: body parts overlap, message left alone");
			g_ptr_array_set_size(edits, 0);
			break;
		}
	}
	if (edits->len == 0)
		*outcome_out = MW_FOOTER_OUTCOME_UNCHANGED;
	return g_steal_pointer(&edits);
}

/* attach - the signed = attach wrapping */
static MwMessage *
attach(MwTxn *txn, const MwFooterSource *source, const MwFooterText *footer,
       MwFooterPosition position, MwFooterSigned signed_mode, MwFooterOutcome *outcome_out,
       GError **error)
{
	if (signed_mode != MW_FOOTER_SIGNED_ATTACH) {
		*outcome_out = MW_FOOTER_OUTCOME_SIGNED;
		return NULL;
	}
	MwMessage *result =
		mw_footer_splice_attach(source, footer, position,
					txn->config != NULL ? txn->config->state_dir : NULL, error);
	if (result != NULL)
		*outcome_out = MW_FOOTER_OUTCOME_ATTACHED;
	return result;
}

/**
 * mw_footer_apply:
 * @txn: for log lines and the spool directory
 * @message: the bytes to give a footer
 * @footer: the footer chosen for the sender
 * @outcome_out: (out): what happened
 *
 * Returns: (transfer full) (nullable): the new bytes, or NULL when the
 * message stays as it is (see @outcome_out) or with @error when the spool
 * cannot be read or written
 */
MwMessage *
mw_footer_apply(MwTxn *txn, MwMessage *message, const MwFooterText *footer,
		MwFooterPosition position, MwFooterSigned signed_mode, MwFooterOutcome *outcome_out,
		GError **error)
{
	g_auto(MwFooterSource) source = {0};
	g_autoptr(GError) parse_error = NULL;
	const char *spool_dir = txn->config != NULL ? txn->config->state_dir : NULL;

	*outcome_out = MW_FOOTER_OUTCOME_UNCHANGED;
	if (!mw_footer_source_init(&source, message, error))
		return NULL;
	if (source.top == NULL) {
		mw_txn_log(txn, G_LOG_LEVEL_WARNING,
			   "footer: header block too large or not text, message left alone");
		return NULL;
	}
	if (mw_footer_headers_find(source.top, MW_FOOTER_MARKER) >= 0) {
		*outcome_out = MW_FOOTER_OUTCOME_PRESENT;
		return NULL;
	}
	GMimeMessage *mime = mw_message_get_mime(message, &parse_error);
	if (mime == NULL) {
		mw_txn_log(txn, G_LOG_LEVEL_WARNING, "footer: message left alone: %s",
			   parse_error->message);
		return NULL;
	}
	g_autoptr(MwFooterPlan) plan = mw_footer_plan_build(mime);
	switch (plan->kind) {
	case MW_FOOTER_PLAN_NONE:
		*outcome_out = MW_FOOTER_OUTCOME_NOBODY;
		return NULL;
	case MW_FOOTER_PLAN_ENCRYPTED:
		*outcome_out = MW_FOOTER_OUTCOME_ENCRYPTED;
		return NULL;
	case MW_FOOTER_PLAN_SIGNED:
		return attach(txn, &source, footer, position, signed_mode, outcome_out, error);
	case MW_FOOTER_PLAN_BODY:
		break;
	}
	g_autoptr(GPtrArray) edits =
		edit_targets(txn, &source, plan, footer, position, outcome_out, error);
	if (edits == NULL)
		return NULL;
	if (*outcome_out == MW_FOOTER_OUTCOME_SIGNED)
		return attach(txn, &source, footer, position, signed_mode, outcome_out, error);
	if (*outcome_out != MW_FOOTER_OUTCOME_ADDED)
		return NULL;
	return mw_footer_splice_edits(&source, edits, spool_dir, error);
}
