/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-invitations-cancel - an organizer's CANCEL applied to a user's copy
 * SYNOPSIS
 *	mw_inv_cancel()
 * DESCRIPTION
 *	Wallace's process_itip_cancel (§4.6): with an UPDATE policy the copy
 *	(or the cancelled instance, made an overridden instance when needed)
 *	becomes STATUS:CANCELLED and TRANSP:TRANSPARENT, so it stays visible
 *	but blocks no time; with CANCEL_DELETE the object is deleted, or an
 *	instance becomes an EXDATE of the master. RANGE=THISANDFUTURE ends
 *	the series before the instance (RRULE UNTIL, COUNT dropped) and drops
 *	the stored instances from there on. No SEQUENCE check (as Wallace).
 */
#include <string.h>

#include "mw-invitations.h"

/* mark_cancelled - STATUS:CANCELLED, and TRANSP:TRANSPARENT for events */
static void
mark_cancelled(icalcomponent *comp)
{
	icalcomponent_set_status(comp, ICAL_STATUS_CANCELLED);
	if (icalcomponent_isa(comp) != ICAL_VEVENT_COMPONENT)
		return;
	icalproperty *transp = icalcomponent_get_first_property(comp, ICAL_TRANSP_PROPERTY);
	if (transp != NULL)
		icalproperty_set_transp(transp, ICAL_TRANSP_TRANSPARENT);
	else
		icalcomponent_add_property(comp, icalproperty_new_transp(ICAL_TRANSP_TRANSPARENT));
}

/* drop_instances - remove the stored instances at @rid (or from @rid on, with @future) */
static void
drop_instances(MwInvCtx *ctx, icalcomponent *stored, gint64 rid, gboolean future)
{
	for (icalcomponent *c = icalcomponent_get_first_component(stored, ICAL_ANY_COMPONENT);
	     c != NULL;) {
		icalcomponent *next = icalcomponent_get_next_component(stored, ICAL_ANY_COMPONENT);
		gint64 r = mw_inv_rid(stored, c, &ctx->t);
		if (r != 0 && (r == rid || (future && r > rid))) {
			icalcomponent_remove_component(stored, c);
			icalcomponent_free(c);
		}
		c = next;
	}
}

/* end_series - the master's rules end before @rid */
static void
end_series(icalcomponent *master, gint64 rid)
{
	gboolean is_date = icalcomponent_get_dtstart(master).is_date;
	struct icaltimetype until =
		icaltime_from_timet_with_zone((time_t) (is_date ? rid - 86400 : rid - 1), is_date,
					      icaltimezone_get_utc_timezone());
	for (icalproperty *p = icalcomponent_get_first_property(master, ICAL_RRULE_PROPERTY);
	     p != NULL; p = icalcomponent_get_next_property(master, ICAL_RRULE_PROPERTY)) {
		struct icalrecurrencetype rule = icalproperty_get_rrule(p);
		rule.until = until;
		rule.count = 0;
		icalproperty_set_rrule(p, rule);
	}
}

/* add_exdate - @rcomp's RECURRENCE-ID as an EXDATE of @master (same value type and TZID) */
static void
add_exdate(icalcomponent *master, icalcomponent *rcomp)
{
	icalproperty *rid = icalcomponent_get_first_property(rcomp, ICAL_RECURRENCEID_PROPERTY);
	icalproperty *ex = icalproperty_new_exdate(icalproperty_get_recurrenceid(rid));
	icalparameter *tzid = icalproperty_get_first_parameter(rid, ICAL_TZID_PARAMETER);
	if (tzid != NULL)
		icalproperty_add_parameter(ex, icalparameter_new_clone(tzid));
	icalcomponent_add_property(master, ex);
}

/* cancel_text - the cancellation notification body */
static char *
cancel_text(MwInvCtx *ctx, icalcomponent *vcal, icalcomponent *rcomp, const char *organizer,
	    gboolean deleted)
{
	g_autofree char *when = mw_inv_when(ctx, vcal, rcomp);
	gboolean task = icalcomponent_isa(rcomp) == ICAL_VTODO_COMPONENT;
	GString *text = g_string_new(NULL);
	g_string_append_printf(text, "The %s '%s' at %s has been cancelled by %s.\n",
			       task ? "assignment" : "event", mw_inv_summary(rcomp), when,
			       organizer != NULL ? organizer : "the organizer");
	g_string_append_printf(text, "The copy in your %s has been %s.\n",
			       task ? "tasklist" : "calendar",
			       deleted ? "removed" : "marked as cancelled");
	const char *comment = icalcomponent_get_comment(rcomp);
	g_autofree char *trimmed = comment != NULL ? g_strstrip(g_strdup(comment)) : NULL;
	if (trimmed != NULL && *trimmed != '\0')
		g_string_append_printf(text, "\n%s commented: %s\n",
				       organizer != NULL ? organizer : "the organizer", trimmed);
	if (mw_inv_rid(vcal, rcomp, &ctx->t) != 0)
		g_string_append(
			text, "\nNOTE: This cancellation only refers to this single occurrence!\n");
	return g_string_free(text, FALSE);
}

gboolean
mw_inv_cancel(MwInvCtx *ctx, MwItip *itip, const MwInvUser *user, MwInvOutcome *out, GError **error)
{
	*out = MW_INV_OUT_PASS;
	icalcomponent *comp = mw_itip_first_component(itip->vcal);
	if (comp == NULL || mw_inv_my_attendee(comp, user) == NULL)
		return TRUE;
	g_autofree char *organizer = mw_itip_organizer(comp);
	const char *const *values = (const char *const *) (user->policy != NULL && user->policy[0]
								   ? user->policy
								   : ctx->inv->default_policy);
	g_autoptr(GArray) policies = mw_inv_policy_match(values, organizer, mw_inv_type(itip));
	guint bits = 0;
	for (guint i = 0; i < policies->len && bits == 0; i++) {
		guint b = g_array_index(policies, guint, i);
		if (b & MW_INV_MANUAL)
			break;
		if (b & (MW_INV_UPDATE | MW_INV_CANCEL_DELETE))
			bits = b;
	}
	*out = MW_INV_OUT_FORWARD;
	if (bits == 0)
		return TRUE;
	gboolean delete = (bits & MW_INV_CANCEL_DELETE) != 0;

	g_autoptr(MwCalLock) lock =
		mw_calstore_lock(ctx->inv->store, user->address, MW_INV_LOCK_TIMEOUT_MS, error);
	if (lock == NULL)
		return FALSE;
	GError *local = NULL;
	g_autoptr(icalcomponent) stored = mw_calstore_get(lock, itip->uid, &local);
	if (local != NULL) {
		g_propagate_error(error, local);
		return FALSE;
	}
	if (stored == NULL) {
		mw_txn_log(ctx->txn, G_LOG_LEVEL_INFO,
			   "invitations: CANCEL %s: no copy in %s's calendar, delivered", itip->uid,
			   user->address);
		return TRUE;
	}
	gboolean remove_all = FALSE;
	const char *what = delete ? "deleted" : "cancelled";
	for (icalcomponent *rcomp =
		     icalcomponent_get_first_component(itip->vcal, ICAL_ANY_COMPONENT);
	     rcomp != NULL;
	     rcomp = icalcomponent_get_next_component(itip->vcal, ICAL_ANY_COMPONENT)) {
		icalcomponent_kind kind = icalcomponent_isa(rcomp);
		if (kind != ICAL_VEVENT_COMPONENT && kind != ICAL_VTODO_COMPONENT)
			continue;
		gint64 rid = mw_inv_rid(itip->vcal, rcomp, &ctx->t);
		icalcomponent *master = mw_itip_get_master(stored);
		if (rid == 0) {
			if (delete)
				remove_all = TRUE;
			for (icalcomponent *c =
				     icalcomponent_get_first_component(stored, ICAL_ANY_COMPONENT);
			     c != NULL && !delete;
			     c = icalcomponent_get_next_component(stored, ICAL_ANY_COMPONENT)) {
				if (icalcomponent_isa(c) == ICAL_VEVENT_COMPONENT ||
				    icalcomponent_isa(c) == ICAL_VTODO_COMPONENT)
					mark_cancelled(c);
			}
			continue;
		}
		icalproperty *ridp =
			icalcomponent_get_first_property(rcomp, ICAL_RECURRENCEID_PROPERTY);
		icalparameter *range = icalproperty_get_first_parameter(ridp, ICAL_RANGE_PARAMETER);
		gboolean future =
			range != NULL && icalparameter_get_range(range) == ICAL_RANGE_THISANDFUTURE;
		if (master == NULL) {
			/* only instances stored: the instance itself goes or is marked */
			icalcomponent *inst = mw_itip_get_instance(stored, rid, &ctx->t);
			if (inst != NULL && delete)
				drop_instances(ctx, stored, rid, future);
			else if (inst != NULL)
				mark_cancelled(inst);
			continue;
		}
		if (future) {
			end_series(master, rid);
			drop_instances(ctx, stored, rid, TRUE);
			what = "ended";
		} else if (delete) {
			add_exdate(master, rcomp);
			drop_instances(ctx, stored, rid, FALSE);
		} else {
			icalcomponent *inst = mw_inv_exception(stored, itip->vcal, rcomp, &ctx->t);
			if (inst != NULL)
				mark_cancelled(inst);
		}
	}
	if (mw_itip_first_component(stored) == NULL)
		remove_all = TRUE;
	if (bits & MW_INV_NOTIFY) {
		g_autofree char *text = cancel_text(ctx, itip->vcal, comp, organizer, delete);
		g_autofree char *subject =
			g_strdup_printf("\"%s\" has been cancelled", mw_inv_summary(comp));
		if (!mw_inv_notify(ctx, user, comp, subject, text, error))
			return FALSE;
	}
	gboolean ok = remove_all ? mw_calstore_remove(lock, itip->uid, error)
				 : mw_calstore_put(lock, itip->uid, stored, error);
	if (!ok)
		return FALSE;
	mw_txn_log(ctx->txn, G_LOG_LEVEL_INFO, "invitations: CANCEL %s %s in %s's calendar",
		   itip->uid, remove_all ? "deleted" : what, user->address);
	g_string_append_printf(ctx->note, "%s%s=%s", ctx->note->len > 0 ? "," : "", user->address,
			       remove_all ? "deleted" : what);
	*out = MW_INV_OUT_PROCESSED;
	return TRUE;
}
