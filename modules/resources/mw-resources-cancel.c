/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-resources-cancel - METHOD:CANCEL: free the slot again
 * SYNOPSIS
 *	mw_res_cancel()
 * DESCRIPTION
 *	A CANCEL of the whole object removes the booking; a CANCEL of one
 *	instance (RECURRENCE-ID) of a series adds an EXDATE for it to the
 *	master and drops a stored override of it, which frees exactly that
 *	slot; an instance stored without its master is removed. A CANCEL
 *	older than the booking (RFC 5546 §2.1.5) is ignored. For a
 *	collection, the member holding the booking is cancelled. No reply is
 *	sent (the organizer cancelled); the owner is told when the policy
 *	notifies. THISANDFUTURE is treated as the one instance, as Wallace did.
 */
#include <string.h>

#include "mw-resources.h"

/* cancel_instance - remove one occurrence from @booking; returns FALSE when nothing is left */
static gboolean
cancel_instance(MwResCtx *ctx, icalcomponent *booking, icalcomponent *cancel, gint64 rid)
{
	icalcomponent *old = mw_itip_get_instance(booking, rid, &ctx->t);
	if (old != NULL) {
		icalcomponent_remove_component(booking, old);
		icalcomponent_free(old);
	}
	icalcomponent *master = mw_itip_get_master(booking);
	if (master != NULL) {
		icalproperty *rid_prop =
			icalcomponent_get_first_property(cancel, ICAL_RECURRENCEID_PROPERTY);
		icalproperty *exdate =
			icalproperty_new_exdate(icalproperty_get_recurrenceid(rid_prop));
		icalparameter *tzid =
			icalproperty_get_first_parameter(rid_prop, ICAL_TZID_PARAMETER);
		if (tzid != NULL)
			icalproperty_add_parameter(exdate, icalparameter_new_clone(tzid));
		icalcomponent_add_property(master, exdate);
		mw_itip_add_timezones(booking, NULL);
		return TRUE;
	}
	return mw_itip_first_component(booking) != NULL;
}

/* cancel_at - the CANCEL at one resource that holds (or not) the booking */
static gboolean
cancel_at(MwResCtx *ctx, MwCalLock *lock, MwItip *itip, const MwDirEntry *entry, GError **error)
{
	g_autoptr(GError) local = NULL;
	g_autoptr(icalcomponent) stored = mw_calstore_get(lock, itip->uid, &local);
	if (local != NULL) {
		g_propagate_error(error, g_steal_pointer(&local));
		return FALSE;
	}
	if (stored == NULL)
		return TRUE;
	g_autoptr(GPtrArray) comps = g_ptr_array_new();
	for (icalcomponent *c =
		     icalcomponent_get_first_component(itip->vcal, ICAL_VEVENT_COMPONENT);
	     c != NULL; c = icalcomponent_get_next_component(itip->vcal, ICAL_VEVENT_COMPONENT))
		g_ptr_array_add(comps, c);
	gboolean whole = FALSE, changed = FALSE;
	icalcomponent *notify_comp = NULL;
	g_autoptr(icalcomponent) booking = icalcomponent_new_clone(stored);
	for (guint i = 0; i < comps->len && !whole; i++) {
		icalcomponent *cancel = g_ptr_array_index(comps, i);
		icalproperty *rid =
			icalcomponent_get_first_property(cancel, ICAL_RECURRENCEID_PROPERTY);
		icalcomponent *master = mw_itip_get_master(booking);
		icalcomponent *ref = master != NULL ? master : mw_itip_first_component(booking);
		if (rid == NULL) {
			if (ref != NULL && mw_itip_compare(cancel, ref) < 0) {
				mw_txn_log(ctx->txn, G_LOG_LEVEL_INFO,
					   "resources: %s ignores an outdated CANCEL of %s",
					   entry->address, itip->uid);
				continue;
			}
			whole = TRUE;
			notify_comp = cancel;
			continue;
		}
		gint64 when = mw_itip_instant(itip->vcal, rid, &ctx->t);
		icalcomponent *inst = mw_itip_get_instance(booking, when, &ctx->t);
		if (inst != NULL && mw_itip_compare(cancel, inst) < 0)
			continue;
		if (inst == NULL && master == NULL)
			continue;
		changed = TRUE;
		notify_comp = cancel;
		if (!cancel_instance(ctx, booking, cancel, when))
			whole = TRUE;
	}
	if (whole) {
		if (!mw_calstore_remove(lock, itip->uid, error))
			return FALSE;
	} else if (changed) {
		if (!mw_calstore_put(lock, itip->uid, booking, error))
			return FALSE;
	} else {
		return TRUE;
	}
	mw_txn_log(ctx->txn, G_LOG_LEVEL_INFO, "resources: %s cancelled %s%s", entry->address,
		   itip->uid, whole ? "" : " (one instance)");
	if (ctx->note->len > 0)
		g_string_append_c(ctx->note, ' ');
	g_string_append_printf(ctx->note, "%s=cancelled", entry->address);
	guint policy = mw_res_policy(ctx->res, entry);
	if (entry->owner != NULL && (policy & MW_POL_NOTIFY) != 0 && notify_comp != NULL)
		return mw_res_notify_owner(ctx, entry, itip->vcal, notify_comp, N_("Cancelled"),
					   error);
	return TRUE;
}

/* --- requests, cancels, confirmations --- */
gboolean
mw_res_cancel(MwResCtx *ctx, MwItip *itip, const MwDirEntry *entry, GError **error)
{
	MwResourcesConfig *cfg = ctx->module->config;
	icalcomponent *any = mw_itip_first_component(itip->vcal);
	if (cfg->verify_organizer) {
		icalproperty *org = icalcomponent_get_first_property(any, ICAL_ORGANIZER_PROPERTY);
		icalparameter *sent_by =
			org != NULL ? icalproperty_get_first_parameter(org, ICAL_SENTBY_PARAMETER)
				    : NULL;
		if (org == NULL ||
		    (!mw_itip_address_equal(icalproperty_get_organizer(org), ctx->sender) &&
		     (sent_by == NULL ||
		      !mw_itip_address_equal(icalparameter_get_sentby(sent_by), ctx->sender)))) {
			mw_txn_log(
				ctx->txn, G_LOG_LEVEL_WARNING,
				"resources: %s: CANCEL of %s not from its organizer <%s>; ignored",
				entry->address, itip->uid, ctx->sender);
			if (ctx->note->len > 0)
				g_string_append_c(ctx->note, ' ');
			g_string_append_printf(ctx->note, "%s=ignored(organizer)", entry->address);
			return TRUE;
		}
	}
	g_autoptr(GPtrArray) targets = g_ptr_array_new();
	if (entry->kind == MW_DIR_COLLECTION) {
		for (guint i = 0; entry->members[i] != NULL; i++) {
			const MwDirEntry *m =
				mw_directory_lookup(ctx->res->directory, entry->members[i]);
			if (m != NULL)
				g_ptr_array_add(targets, (gpointer) m);
		}
	} else {
		g_ptr_array_add(targets, (gpointer) entry);
	}
	g_autoptr(GPtrArray) locks = mw_res_lock_set(ctx, targets, error);
	if (locks == NULL)
		return FALSE;
	for (guint i = 0; i < targets->len; i++) {
		const MwDirEntry *target = g_ptr_array_index(targets, i);
		if (!cancel_at(ctx, mw_res_lock_for(locks, target->address), itip, target, error))
			return FALSE;
	}
	return TRUE;
}
