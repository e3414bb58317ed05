/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-resources-confirm - the owner's answer to an ACT_MANUAL booking
 * SYNOPSIS
 *	mw_res_confirmation_reply()
 * DESCRIPTION
 *	The confirmation request went to the owner with the organizer
 *	address resource+<token>@domain (Wallace's scheme: the token is the
 *	booking's UID in base64 with '-' for '+'); the owner's REPLY comes
 *	back to that address through mailwarden. Unlike Wallace, the reply
 *	must come from the owner (envelope sender and replying attendee):
 *	anybody else could otherwise confirm bookings. A reply for another
 *	SEQUENCE than the booking's is stale and ignored. ACCEPTED confirms
 *	the booking and answers the organizer ACCEPTED; DECLINED removes it
 *	(or the one instance) and answers DECLINED; anything else is logged.
 */
#include <string.h>

#include "mw-resources.h"

/* partstat_of - the PARTSTAT of @address in @comp, NEEDS-ACTION when absent */
static icalparameter_partstat
partstat_of(icalcomponent *comp, const char *address)
{
	icalproperty *att = mw_itip_find_attendee(comp, address, NULL);
	icalparameter *ps =
		att != NULL ? icalproperty_get_first_parameter(att, ICAL_PARTSTAT_PARAMETER) : NULL;
	return ps != NULL ? icalparameter_get_partstat(ps) : ICAL_PARTSTAT_NEEDSACTION;
}

/* noted - add to the summary line */
static void
noted(MwResCtx *ctx, const MwDirEntry *entry, const char *what)
{
	if (ctx->note->len > 0)
		g_string_append_c(ctx->note, ' ');
	g_string_append_printf(ctx->note, "%s=%s", entry->address, what);
}

/* --- requests, cancels, confirmations --- */
gboolean
mw_res_confirmation_reply(MwResCtx *ctx, MwItip *itip, const MwDirEntry *entry, const char *token,
			  GError **error)
{
	g_autofree char *uid = mw_res_token_decode(token);
	icalcomponent *reply = mw_itip_first_component(itip->vcal);
	if (uid == NULL || reply == NULL) {
		mw_txn_log(ctx->txn, G_LOG_LEVEL_INFO,
			   "resources: %s: REPLY without a booking reference", entry->address);
		noted(ctx, entry, "ignored(reference)");
		return TRUE;
	}
	if (entry->owner == NULL || !mw_itip_address_equal(ctx->sender, entry->owner) ||
	    mw_itip_find_attendee(reply, entry->owner, NULL) == NULL) {
		mw_txn_log(ctx->txn, G_LOG_LEVEL_WARNING,
			   "resources: %s: confirmation of %s from <%s>, who is not the owner; "
			   "ignored",
			   entry->address, uid, ctx->sender);
		noted(ctx, entry, "ignored(not owner)");
		return TRUE;
	}
	g_autoptr(GPtrArray) targets = g_ptr_array_new();
	g_ptr_array_add(targets, (gpointer) entry);
	g_autoptr(GPtrArray) locks = mw_res_lock_set(ctx, targets, error);
	if (locks == NULL)
		return FALSE;
	MwCalLock *lock = mw_res_lock_for(locks, entry->address);
	g_autoptr(GError) local = NULL;
	g_autoptr(icalcomponent) stored = mw_calstore_get(lock, uid, &local);
	if (local != NULL) {
		g_propagate_error(error, g_steal_pointer(&local));
		return FALSE;
	}
	icalproperty *rid = icalcomponent_get_first_property(reply, ICAL_RECURRENCEID_PROPERTY);
	icalcomponent *booked = NULL;
	if (stored != NULL)
		booked = rid != NULL
				 ? mw_itip_get_instance(stored,
							mw_itip_instant(itip->vcal, rid, &ctx->t),
							&ctx->t)
				 : mw_itip_get_master(stored);
	if (booked == NULL) {
		mw_txn_log(ctx->txn, G_LOG_LEVEL_INFO,
			   "resources: %s: confirmation for %s, which is not booked",
			   entry->address, uid);
		noted(ctx, entry, "ignored(no booking)");
		return TRUE;
	}
	if (mw_itip_sequence(reply) != mw_itip_sequence(booked)) {
		mw_txn_log(ctx->txn, G_LOG_LEVEL_INFO,
			   "resources: %s: stale confirmation of %s (SEQUENCE %d, booked %d)",
			   entry->address, uid, mw_itip_sequence(reply), mw_itip_sequence(booked));
		noted(ctx, entry, "ignored(stale)");
		return TRUE;
	}
	if (partstat_of(booked, entry->address) != ICAL_PARTSTAT_TENTATIVE) {
		/* answered already: a second confirmation changes nothing */
		noted(ctx, entry, "duplicate");
		return TRUE;
	}
	icalparameter_partstat answer = partstat_of(reply, entry->owner);
	const char *comment = icalcomponent_get_comment(reply);
	if (comment != NULL) {
		g_autofree char *trimmed = g_strstrip(g_strdup(comment));
		if (*trimmed == '\0')
			comment = NULL;
	}
	guint policy = mw_res_policy(ctx->res, entry);
	gboolean notify = (policy & MW_POL_NOTIFY) != 0;
	if (answer == ICAL_PARTSTAT_ACCEPTED) {
		mw_res_mark(booked, entry, ICAL_PARTSTAT_ACCEPTED, mw_res_get_via(stored));
		icalcomponent_set_status(booked, ICAL_STATUS_CONFIRMED);
		if (!mw_calstore_put(lock, uid, stored, error))
			return FALSE;
		mw_txn_log(ctx->txn, G_LOG_LEVEL_INFO, "resources: %s: owner confirmed %s",
			   entry->address, uid);
		noted(ctx, entry, "confirmed");
		if (!mw_res_reply_with_comment(ctx, stored, booked, entry, ICAL_PARTSTAT_ACCEPTED,
					       comment, error))
			return FALSE;
		return !notify || mw_res_notify_owner(ctx, entry, stored, booked,
						      mw_res_partstat_label(answer), error);
	}
	if (answer != ICAL_PARTSTAT_DECLINED) {
		mw_txn_log(ctx->txn, G_LOG_LEVEL_INFO,
			   "resources: %s: owner answered %s for %s; nothing to do", entry->address,
			   mw_itip_partstat_name(answer), uid);
		noted(ctx, entry, "ignored(partstat)");
		return TRUE;
	}
	g_autoptr(icalcomponent) copy = icalcomponent_new_clone(stored);
	icalcomponent *copy_comp =
		rid != NULL ? mw_itip_get_instance(copy, mw_itip_instant(itip->vcal, rid, &ctx->t),
						   &ctx->t)
			    : mw_itip_get_master(copy);
	mw_res_mark(copy_comp, entry, ICAL_PARTSTAT_DECLINED, NULL);
	if (rid != NULL && mw_itip_get_master(stored) != NULL) {
		/* one instance of a series: it stops blocking, the series stays */
		icalcomponent_remove_component(stored, booked);
		icalcomponent_free(booked);
		icalcomponent *master = mw_itip_get_master(stored);
		icalproperty *ex = icalproperty_new_exdate(icalproperty_get_recurrenceid(rid));
		icalparameter *tzid = icalproperty_get_first_parameter(rid, ICAL_TZID_PARAMETER);
		if (tzid != NULL)
			icalproperty_add_parameter(ex, icalparameter_new_clone(tzid));
		icalcomponent_add_property(master, ex);
		if (!mw_calstore_put(lock, uid, stored, error))
			return FALSE;
	} else if (!mw_calstore_remove(lock, uid, error)) {
		return FALSE;
	}
	mw_txn_log(ctx->txn, G_LOG_LEVEL_INFO, "resources: %s: owner declined %s", entry->address,
		   uid);
	noted(ctx, entry, "declined(owner)");
	if (!mw_res_reply_with_comment(ctx, copy, copy_comp, entry, ICAL_PARTSTAT_DECLINED, comment,
				       error))
		return FALSE;
	return !notify || mw_res_notify_owner(ctx, entry, copy, copy_comp,
					      mw_res_partstat_label(answer), error);
}
