/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-invitations-reply - an attendee's REPLY written into the organizer's copy
 * SYNOPSIS
 *	mw_inv_reply()
 * DESCRIPTION
 *	Wallace's process_itip_reply (§4.5): with an UPDATE policy the
 *	replying attendee's PARTSTAT (and delegation) goes into the
 *	organizer's stored copy, the master and every stored instance for a
 *	series reply, one (possibly new) overridden instance for an instance
 *	reply. A REPLY for another SEQUENCE than the stored one is not applied
 *	and is delivered. With *_AND_NOTIFY the organizer gets the
 *	participation summary; with autoupdate_other_attendees the new
 *	attendee list goes into the copies of the other local attendees
 *	(§4.10), each under its own lock, after the organizer's is released.
 */
#include <string.h>

#include "mw-invitations.h"

/* find_replier - the ATTENDEE of @comp that is the envelope sender */
static icalproperty *
find_replier(icalcomponent *comp, const char *sender)
{
	for (icalproperty *p = icalcomponent_get_first_property(comp, ICAL_ATTENDEE_PROPERTY);
	     p != NULL; p = icalcomponent_get_next_property(comp, ICAL_ATTENDEE_PROPERTY)) {
		if (mw_itip_address_equal(icalproperty_get_attendee(p), sender))
			return p;
	}
	return NULL;
}

/* delegated_to - the DELEGATED-TO address of @prop (bare) or NULL */
static char *
delegated_to(icalproperty *prop)
{
	icalparameter *p = icalproperty_get_first_parameter(prop, ICAL_DELEGATEDTO_PARAMETER);
	return p != NULL ? mw_itip_address(icalparameter_get_delegatedto(p)) : NULL;
}

/* apply - the reply of @ratt (in @rcomp) into @target; FALSE when it cannot be */
static gboolean
apply(icalcomponent *target, icalcomponent *rcomp, icalproperty *ratt, const char *addr)
{
	icalproperty *known = mw_itip_find_attendee(target, addr, NULL);
	if (known == NULL &&
	    icalproperty_get_first_parameter(ratt, ICAL_DELEGATEDFROM_PARAMETER) == NULL)
		return FALSE;
	icalparameter_partstat partstat = mw_inv_partstat(ratt);
	icalparameter *cn = icalproperty_get_first_parameter(ratt, ICAL_CN_PARAMETER);
	icalproperty *mine = mw_itip_set_partstat(
		target, addr, cn != NULL ? icalparameter_get_cn(cn) : NULL, partstat);
	icalproperty_remove_parameter_by_kind(mine, ICAL_RSVP_PARAMETER);
	icalproperty_add_parameter(mine, icalparameter_new_rsvp(ICAL_RSVP_FALSE));
	icalparameter *from = icalproperty_get_first_parameter(ratt, ICAL_DELEGATEDFROM_PARAMETER);
	if (from != NULL &&
	    icalproperty_get_first_parameter(mine, ICAL_DELEGATEDFROM_PARAMETER) == NULL)
		icalproperty_add_parameter(mine, icalparameter_new_clone(from));
	g_autofree char *to = delegated_to(ratt);
	if (partstat == ICAL_PARTSTAT_DELEGATED && to != NULL) {
		icalproperty *dprop = mw_itip_find_attendee(rcomp, to, NULL);
		icalparameter *dcn =
			dprop != NULL ? icalproperty_get_first_parameter(dprop, ICAL_CN_PARAMETER)
				      : NULL;
		mw_itip_delegate(target, addr, to, dcn != NULL ? icalparameter_get_cn(dcn) : NULL);
	}
	return TRUE;
}

/* label - the participation summary's headings */
static const char *
label(icalparameter_partstat p)
{
	switch (p) {
	case ICAL_PARTSTAT_ACCEPTED:
		return "Accepted";
	case ICAL_PARTSTAT_TENTATIVE:
		return "Tentatively Accepted";
	case ICAL_PARTSTAT_DECLINED:
		return "Declined";
	case ICAL_PARTSTAT_DELEGATED:
		return "Delegated";
	case ICAL_PARTSTAT_INPROCESS:
		return "Started";
	case ICAL_PARTSTAT_COMPLETED:
		return "Completed";
	default:
		return "Pending";
	}
}

/* summary_text - the organizer's participation summary (§4.9) */
static char *
summary_text(MwInvCtx *ctx, icalcomponent *vcal, icalcomponent *target, icalcomponent *rcomp,
	     const char *replier)
{
	static const icalparameter_partstat order[] = {
		ICAL_PARTSTAT_ACCEPTED,  ICAL_PARTSTAT_TENTATIVE, ICAL_PARTSTAT_DECLINED,
		ICAL_PARTSTAT_DELEGATED, ICAL_PARTSTAT_INPROCESS, ICAL_PARTSTAT_COMPLETED,
		ICAL_PARTSTAT_NONE,
	};
	g_autofree char *when = mw_inv_when(ctx, vcal, target);
	GString *text = g_string_new(NULL);
	gboolean task = icalcomponent_isa(target) == ICAL_VTODO_COMPONENT;
	g_string_append_printf(text, "The %s '%s' at %s has been updated in your %s.\n",
			       task ? "assignment" : "event", mw_inv_summary(target), when,
			       task ? "tasklist" : "calendar");
	const char *comment = icalcomponent_get_comment(rcomp);
	if (comment != NULL) {
		g_autofree char *trimmed = g_strstrip(g_strdup(comment));
		if (*trimmed != '\0')
			g_string_append_printf(text, "\n%s commented: %s\n", replier, trimmed);
	}
	for (guint i = 0; i < G_N_ELEMENTS(order); i++) {
		gboolean heading = FALSE;
		for (icalproperty *p =
			     icalcomponent_get_first_property(target, ICAL_ATTENDEE_PROPERTY);
		     p != NULL;
		     p = icalcomponent_get_next_property(target, ICAL_ATTENDEE_PROPERTY)) {
			icalparameter_partstat ps = mw_inv_partstat(p);
			gboolean listed = FALSE;
			for (guint j = 0; j + 1 < G_N_ELEMENTS(order); j++)
				listed = listed || ps == order[j];
			if (order[i] == ICAL_PARTSTAT_NONE ? listed : ps != order[i])
				continue;
			if (!heading) {
				g_string_append_printf(text, "\n%s:\n", label(order[i]));
				heading = TRUE;
			}
			icalparameter *cn = icalproperty_get_first_parameter(p, ICAL_CN_PARAMETER);
			g_autofree char *addr = mw_itip_address(icalproperty_get_attendee(p));
			g_string_append_printf(text, "%s\n",
					       cn != NULL ? icalparameter_get_cn(cn) : addr);
		}
	}
	if (mw_inv_rid(vcal, target, &ctx->t) != 0)
		g_string_append(text,
				"\nNOTE: This update only refers to this single occurrence!\n");
	return g_string_free(text, FALSE);
}

/* answers - whether a new invitation would be answered by @policies when the calendar is
 * free (@clash FALSE) or busy */
static gboolean
answers(GArray *policies, gboolean clash)
{
	for (guint i = 0; i < policies->len; i++) {
		guint b = g_array_index(policies, guint, i);
		if (b & (MW_INV_MANUAL | MW_INV_SAVE_TO_FOLDER))
			return FALSE;
		if (!(b & (MW_INV_ACCEPT | MW_INV_REJECT)))
			continue;
		if ((b & MW_INV_IF_AVAILABLE) && clash)
			continue;
		if ((b & MW_INV_IF_CONFLICT) && !clash)
			continue;
		return TRUE;
	}
	return FALSE;
}

/* auto_responder - @address is a local user or resource that answers invitations from
 * @organizer on its own whatever its calendar holds (Wallace's check before the summary) */
static gboolean
auto_responder(MwInvCtx *ctx, const char *address, const char *organizer)
{
	const MwInvUser *e = mw_inv_users_lookup(ctx->inv->users, address);
	if (e == NULL)
		return FALSE;
	if (e->resource) {
		const char *first = e->policy != NULL && e->policy[0] != NULL
					    ? e->policy[0]
					    : ctx->inv->resource_policy;
		g_autofree char *value = g_strstrip(g_strdup(first));
		char *comma = strchr(value, ',');
		if (comma != NULL)
			*comma = '\0';
		g_strstrip(value);
		return g_ascii_strcasecmp(value, "ACT_ACCEPT") == 0 ||
		       g_ascii_strcasecmp(value, "ACT_REJECT") == 0 ||
		       g_ascii_strcasecmp(value, "ACT_ACCEPT_AND_NOTIFY") == 0;
	}
	const char *const *values = (const char *const *) (e->policy != NULL && e->policy[0]
								   ? e->policy
								   : ctx->inv->default_policy);
	g_autoptr(GArray) policies = mw_inv_policy_match(values, organizer, MW_INV_TYPE_EVENT);
	return answers(policies, FALSE) && answers(policies, TRUE);
}

/* hold_summary - the replier answers automatically and other automatic answers are still
 * missing: the organizer gets one summary when the last of them is in */
static gboolean
hold_summary(MwInvCtx *ctx, icalcomponent *target, const char *replier, const char *organizer)
{
	if (!auto_responder(ctx, replier, organizer))
		return FALSE;
	for (icalproperty *p = icalcomponent_get_first_property(target, ICAL_ATTENDEE_PROPERTY);
	     p != NULL; p = icalcomponent_get_next_property(target, ICAL_ATTENDEE_PROPERTY)) {
		g_autofree char *addr = mw_itip_address(icalproperty_get_attendee(p));
		if (addr == NULL || g_str_equal(addr, replier) ||
		    mw_inv_partstat(p) != ICAL_PARTSTAT_NEEDSACTION)
			continue;
		if (auto_responder(ctx, addr, organizer))
			return TRUE;
	}
	return FALSE;
}

/* propagate - the organizer's attendee list into the other local attendees' copies (§4.10) */
static gboolean
propagate(MwInvCtx *ctx, MwItip *itip, icalcomponent *updated, const MwInvUser *organizer,
	  GError **error)
{
	for (icalproperty *p = icalcomponent_get_first_property(updated, ICAL_ATTENDEE_PROPERTY);
	     p != NULL; p = icalcomponent_get_next_property(updated, ICAL_ATTENDEE_PROPERTY)) {
		const MwInvUser *other =
			mw_inv_users_lookup(ctx->inv->users, icalproperty_get_attendee(p));
		if (other == NULL || other == organizer || other->resource)
			continue;
		g_autoptr(MwCalLock) lock = mw_calstore_lock(ctx->inv->store, other->address,
							     MW_INV_LOCK_TIMEOUT_MS, error);
		if (lock == NULL)
			return FALSE;
		GError *local = NULL;
		g_autoptr(icalcomponent) copy = mw_calstore_get(lock, itip->uid, &local);
		if (local != NULL) {
			g_propagate_error(error, local);
			return FALSE;
		}
		icalcomponent *target =
			copy != NULL ? mw_inv_target(copy, itip->vcal, updated, &ctx->t) : NULL;
		icalproperty *own = target != NULL ? mw_inv_my_attendee(target, other) : NULL;
		if (own == NULL)
			continue;
		/* everybody from the organizer's list except the user's own entry */
		for (icalproperty *a =
			     icalcomponent_get_first_property(target, ICAL_ATTENDEE_PROPERTY);
		     a != NULL;) {
			icalproperty *next =
				icalcomponent_get_next_property(target, ICAL_ATTENDEE_PROPERTY);
			if (a != own) {
				icalcomponent_remove_property(target, a);
				icalproperty_free(a);
			}
			a = next;
		}
		for (icalproperty *a =
			     icalcomponent_get_first_property(updated, ICAL_ATTENDEE_PROPERTY);
		     a != NULL;
		     a = icalcomponent_get_next_property(updated, ICAL_ATTENDEE_PROPERTY)) {
			if (mw_itip_find_attendee(target, icalproperty_get_attendee(a), NULL) ==
			    NULL)
				icalcomponent_add_property(target, icalproperty_new_clone(a));
		}
		if (!mw_calstore_put(lock, itip->uid, copy, error))
			return FALSE;
		mw_txn_log(ctx->txn, G_LOG_LEVEL_INFO,
			   "invitations: attendees of %s updated in %s's copy", itip->uid,
			   other->address);
	}
	return TRUE;
}

gboolean
mw_inv_reply(MwInvCtx *ctx, MwItip *itip, const MwInvUser *user, MwInvOutcome *out, GError **error)
{
	*out = MW_INV_OUT_PASS;
	icalcomponent *comp = mw_itip_first_component(itip->vcal);
	if (comp == NULL)
		return TRUE;
	/* the user must be the organizer (Outlook sends REPLYs without ORGANIZER) */
	g_autofree char *organizer = mw_itip_organizer(comp);
	if (organizer != NULL && !mw_itip_address_equal(organizer, user->address)) {
		gboolean alias = FALSE;
		for (guint i = 0; user->aliases[i] != NULL; i++)
			alias = alias || mw_itip_address_equal(organizer, user->aliases[i]);
		if (!alias)
			return TRUE;
	}
	icalproperty *ratt = find_replier(comp, ctx->sender);
	if (ratt == NULL) {
		if (ctx->inv->verify_organizer) {
			mw_txn_log(ctx->txn, G_LOG_LEVEL_WARNING,
				   "invitations: REPLY %s for %s: no attendee is the sender <%s>, "
				   "delivered untouched",
				   itip->uid, user->address, ctx->sender);
			return TRUE;
		}
		ratt = icalcomponent_get_first_property(comp, ICAL_ATTENDEE_PROPERTY);
		if (ratt == NULL)
			return TRUE;
	}
	g_autofree char *addr = mw_itip_address(icalproperty_get_attendee(ratt));
	const char *const *values = (const char *const *) (user->policy != NULL && user->policy[0]
								   ? user->policy
								   : ctx->inv->default_policy);
	g_autoptr(GArray) policies = mw_inv_policy_match(values, addr, mw_inv_type(itip));
	guint bits = 0;
	for (guint i = 0; i < policies->len && bits == 0; i++) {
		guint b = g_array_index(policies, guint, i);
		if (b & MW_INV_MANUAL)
			break;
		if (b & MW_INV_UPDATE)
			bits = b;
	}
	*out = MW_INV_OUT_FORWARD;
	if (bits == 0)
		return TRUE;

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
			   "invitations: REPLY %s: no copy in %s's calendar, delivered", itip->uid,
			   user->address);
		return TRUE;
	}
	icalcomponent *first_target = NULL;
	icalcomponent *first_rcomp = NULL;
	for (icalcomponent *rcomp =
		     icalcomponent_get_first_component(itip->vcal, ICAL_ANY_COMPONENT);
	     rcomp != NULL;
	     rcomp = icalcomponent_get_next_component(itip->vcal, ICAL_ANY_COMPONENT)) {
		icalcomponent_kind kind = icalcomponent_isa(rcomp);
		if (kind != ICAL_VEVENT_COMPONENT && kind != ICAL_VTODO_COMPONENT)
			continue;
		icalproperty *r = mw_itip_find_attendee(rcomp, addr, NULL);
		if (r == NULL)
			continue;
		gboolean series = mw_inv_rid(itip->vcal, rcomp, &ctx->t) == 0;
		icalcomponent *target =
			series ? mw_itip_get_master(stored)
			       : mw_inv_exception(stored, itip->vcal, rcomp, &ctx->t);
		if (target == NULL)
			return TRUE;
		if (mw_itip_sequence(rcomp) != mw_itip_sequence(target)) {
			mw_txn_log(ctx->txn, G_LOG_LEVEL_INFO,
				   "invitations: REPLY %s from %s is for SEQUENCE %d, the copy has "
				   "%d: not applied",
				   itip->uid, addr, mw_itip_sequence(rcomp),
				   mw_itip_sequence(target));
			return TRUE;
		}
		if (!apply(target, rcomp, r, addr))
			return TRUE;
		if (series) {
			/* a series answer holds for every stored instance too */
			for (icalcomponent *c =
				     icalcomponent_get_first_component(stored, ICAL_ANY_COMPONENT);
			     c != NULL;
			     c = icalcomponent_get_next_component(stored, ICAL_ANY_COMPONENT)) {
				if (c != target &&
				    icalcomponent_get_first_property(c, ICAL_RECURRENCEID_PROPERTY))
					apply(c, rcomp, r, addr);
			}
		}
		icalproperty *lm =
			icalcomponent_get_first_property(target, ICAL_LASTMODIFIED_PROPERTY);
		struct icaltimetype now = icaltime_from_timet_with_zone(
			(time_t) ctx->t.now, 0, icaltimezone_get_utc_timezone());
		if (lm != NULL)
			icalproperty_set_lastmodified(lm, now);
		else
			icalcomponent_add_property(target, icalproperty_new_lastmodified(now));
		if (first_target == NULL) {
			first_target = target;
			first_rcomp = rcomp;
		}
	}
	if (first_target == NULL)
		return TRUE;
	if ((bits & MW_INV_NOTIFY) && hold_summary(ctx, first_target, addr, user->address)) {
		mw_txn_log(
			ctx->txn, G_LOG_LEVEL_INFO,
			"invitations: %s: summary for %s held until every automatic answer is in",
			itip->uid, user->address);
	} else if (bits & MW_INV_NOTIFY) {
		g_autofree char *text = summary_text(ctx, stored, first_target, first_rcomp, addr);
		g_autofree char *subject =
			g_strdup_printf("\"%s\" has been updated", mw_inv_summary(first_target));
		if (!mw_inv_notify(ctx, user, first_target, subject, text, error))
			return FALSE;
	}
	if (!mw_calstore_put(lock, itip->uid, stored, error))
		return FALSE;
	g_autoptr(icalcomponent) updated = icalcomponent_new_clone(first_target);
	g_clear_pointer(&lock, mw_calstore_unlock);
	mw_txn_log(ctx->txn, G_LOG_LEVEL_INFO, "invitations: %s's answer %s written into %s's copy",
		   addr, mw_itip_partstat_name(mw_inv_partstat(ratt)), user->address);
	g_string_append_printf(ctx->note, "%s%s=reply-%s", ctx->note->len > 0 ? "," : "",
			       user->address, addr);
	if (ctx->inv->autoupdate && !propagate(ctx, itip, updated, user, error))
		return FALSE;
	*out = MW_INV_OUT_PROCESSED;
	return TRUE;
}
