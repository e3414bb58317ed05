/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-resources-book - policies, calendar locks, availability, stored form
 * SYNOPSIS
 *	mw_res_policy(), mw_res_partstat_label(), mw_res_lock_set(),
 *	mw_res_lock_for(), mw_res_is_free(), mw_res_booking_new(), mw_res_mark(),
 *	mw_res_get_via()
 * DESCRIPTION
 *	Check-and-book is one step: the calendars a decision reads are locked
 *	first, always in address order so two workers locking overlapping
 *	sets cannot deadlock, and stay locked until the booking is written.
 *
 *	A booking is the invitation's VCALENDAR without METHOD: the resource's
 *	ATTENDEE carries its PARTSTAT, every component is TRANSP:OPAQUE (the
 *	room is taken even if the organizer shows as free), and a booking made
 *	through a collection is marked X-MAILWARDEN-VIA:<collection> so a
 *	later move can go to another member.
 */
#include <string.h>

#include "mw-resources.h"

/* policy_bits - Wallace's values: MANUAL 1, ACCEPT 2, REJECT 8, ACCEPT_AND_NOTIFY 2|256,
 * STORE_AND_NOTIFY 16|256; MANUAL/STORE: the first value having either counts */
static guint
policy_bits(char **values)
{
	guint bits = 0;
	gboolean decided = FALSE;
	for (guint i = 0; values != NULL && values[i] != NULL; i++) {
		const char *v = values[i];
		guint b = 0;
		if (g_ascii_strcasecmp(v, "ACT_MANUAL") == 0)
			b = MW_POL_MANUAL;
		else if (g_ascii_strcasecmp(v, "ACT_ACCEPT") == 0)
			b = MW_POL_ACCEPT;
		else if (g_ascii_strcasecmp(v, "ACT_REJECT") == 0)
			b = MW_POL_REJECT;
		else if (g_ascii_strcasecmp(v, "ACT_ACCEPT_AND_NOTIFY") == 0)
			b = MW_POL_ACCEPT | MW_POL_NOTIFY;
		else if (g_ascii_strcasecmp(v, "ACT_STORE_AND_NOTIFY") == 0)
			b = MW_POL_STORE | MW_POL_NOTIFY;
		if ((b & (MW_POL_MANUAL | MW_POL_STORE)) != 0) {
			if (decided)
				b &= ~(guint) (MW_POL_MANUAL | MW_POL_STORE);
			decided = TRUE;
		}
		bits |= b;
	}
	return bits;
}

/* mw_res_policy - the bits of @entry's policy, else the default policy */
guint
mw_res_policy(const MwResources *res, const MwDirEntry *entry)
{
	if (entry != NULL && entry->policy != NULL && entry->policy[0] != NULL)
		return policy_bits(entry->policy);
	return policy_bits(res->default_policy);
}

/* mw_res_partstat_label - "Accepted", "Declined" ... (untranslated msgid) */
const char *
mw_res_partstat_label(icalparameter_partstat partstat)
{
	switch (partstat) {
	case ICAL_PARTSTAT_ACCEPTED:
		return N_("Accepted");
	case ICAL_PARTSTAT_DECLINED:
		return N_("Declined");
	case ICAL_PARTSTAT_TENTATIVE:
		return N_("Tentatively Accepted");
	case ICAL_PARTSTAT_DELEGATED:
		return N_("Delegated");
	default:
		return N_("Needs Action");
	}
}

/* lock_cmp - address order */
static gint
lock_cmp(gconstpointer a, gconstpointer b)
{
	const MwDirEntry *x = *(const MwDirEntry *const *) a;
	const MwDirEntry *y = *(const MwDirEntry *const *) b;
	return strcmp(x->address, y->address);
}

/* mw_res_lock_set - locks of @entries' calendars, taken in address order (no deadlock) */
GPtrArray *
mw_res_lock_set(MwResCtx *ctx, GPtrArray *entries, GError **error)
{
	g_autoptr(GPtrArray) sorted = g_ptr_array_copy(entries, NULL, NULL);
	g_ptr_array_sort(sorted, lock_cmp);
	g_autoptr(GPtrArray) locks =
		g_ptr_array_new_with_free_func((GDestroyNotify) mw_calstore_unlock);
	const char *previous = NULL;
	for (guint i = 0; i < sorted->len; i++) {
		const MwDirEntry *entry = g_ptr_array_index(sorted, i);
		if (previous != NULL && strcmp(previous, entry->address) == 0)
			continue;
		previous = entry->address;
		MwCalLock *lock = mw_calstore_lock(ctx->res->store, entry->address,
						   MW_RES_LOCK_TIMEOUT_MS, error);
		if (lock == NULL)
			return NULL;
		g_ptr_array_add(locks, lock);
	}
	return g_steal_pointer(&locks);
}

/* mw_res_lock_set - locks of @entries' calendars, taken in address order (no deadlock) */
MwCalLock *
mw_res_lock_for(GPtrArray *locks, const char *calendar)
{
	for (guint i = 0; i < locks->len; i++) {
		MwCalLock *lock = g_ptr_array_index(locks, i);
		if (g_ascii_strcasecmp(mw_calstore_lock_get_calendar(lock), calendar) == 0)
			return lock;
	}
	return NULL;
}

/* mw_res_is_free - no other object of @lock's calendar conflicts with @vcal's events */
gboolean
mw_res_is_free(MwResCtx *ctx, MwCalLock *lock, icalcomponent *vcal, gboolean *free_out,
	       GError **error)
{
	/* the invitation is checked as the OPAQUE booking it would become (Wallace let
	 * TRANSPARENT requests bypass the check and then stored them OPAQUE) */
	g_autoptr(MwItipEvent) inv = mw_itip_event_new(vcal, &ctx->t, TRUE);
	*free_out = TRUE;
	if (inv == NULL)
		return TRUE;
	GPtrArray *busy = mw_calstore_busy(lock, &ctx->t, error);
	if (busy == NULL)
		return FALSE;
	for (guint i = 0; i < busy->len; i++) {
		if (mw_itip_conflict(inv, g_ptr_array_index(busy, i), &ctx->t, NULL)) {
			*free_out = FALSE;
			break;
		}
	}
	return TRUE;
}

/* mw_res_booking_new - the stored form of (part of) an invitation */
icalcomponent *
mw_res_booking_new(MwItip *itip, GPtrArray *comps)
{
	icalcomponent *vcal = icalcomponent_new(ICAL_VCALENDAR_COMPONENT);
	icalcomponent_add_property(vcal, icalproperty_new_version("2.0"));
	icalcomponent_add_property(
		vcal, icalproperty_new_prodid("-//mailwarden//resources " MW_VERSION "//EN"));
	for (icalcomponent *tz =
		     icalcomponent_get_first_component(itip->vcal, ICAL_VTIMEZONE_COMPONENT);
	     tz != NULL;
	     tz = icalcomponent_get_next_component(itip->vcal, ICAL_VTIMEZONE_COMPONENT))
		icalcomponent_add_component(vcal, icalcomponent_new_clone(tz));
	for (guint i = 0; i < comps->len; i++)
		icalcomponent_add_component(vcal,
					    icalcomponent_new_clone(g_ptr_array_index(comps, i)));
	return vcal;
}

/* set_x - replace the X- property @name of @comp (NULL: remove it) */
static void
set_x(icalcomponent *comp, const char *name, const char *value)
{
	for (icalproperty *prop = icalcomponent_get_first_property(comp, ICAL_X_PROPERTY);
	     prop != NULL;) {
		icalproperty *next = icalcomponent_get_next_property(comp, ICAL_X_PROPERTY);
		if (g_ascii_strcasecmp(icalproperty_get_x_name(prop), name) == 0) {
			icalcomponent_remove_property(comp, prop);
			icalproperty_free(prop);
		}
		prop = next;
	}
	if (value != NULL) {
		icalproperty *prop = icalproperty_new_x(value);
		icalproperty_set_x_name(prop, name);
		icalcomponent_add_property(comp, prop);
	}
}

/* mw_res_set_status - resource attendee's PARTSTAT, TRANSP:OPAQUE, collection mark */
void
mw_res_mark(icalcomponent *comp, const MwDirEntry *entry, icalparameter_partstat partstat,
	    const char *via)
{
	icalproperty *att =
		mw_itip_find_attendee(comp, entry->address, (const char *const *) entry->aliases);
	if (att == NULL) {
		/* added with the PARTSTAT, without RSVP */
		mw_itip_set_partstat(comp, entry->address, entry->name, partstat);
	} else {
		icalproperty_remove_parameter_by_kind(att, ICAL_PARTSTAT_PARAMETER);
		icalproperty_add_parameter(att, icalparameter_new_partstat(partstat));
		icalproperty_remove_parameter_by_kind(att, ICAL_RSVP_PARAMETER);
	}
	icalproperty *transp = icalcomponent_get_first_property(comp, ICAL_TRANSP_PROPERTY);
	if (transp != NULL)
		icalproperty_set_transp(transp, ICAL_TRANSP_OPAQUE);
	else
		icalcomponent_add_property(comp, icalproperty_new_transp(ICAL_TRANSP_OPAQUE));
	set_x(comp, "X-MAILWARDEN-VIA", via);
}

/* mw_res_get_via - the collection a booking was made through, or NULL */
const char *
mw_res_get_via(icalcomponent *booking)
{
	icalcomponent *comp = mw_itip_get_master(booking);
	if (comp == NULL)
		comp = mw_itip_first_component(booking);
	if (comp == NULL)
		return NULL;
	for (icalproperty *prop = icalcomponent_get_first_property(comp, ICAL_X_PROPERTY);
	     prop != NULL; prop = icalcomponent_get_next_property(comp, ICAL_X_PROPERTY)) {
		if (g_ascii_strcasecmp(icalproperty_get_x_name(prop), "X-MAILWARDEN-VIA") == 0)
			return icalproperty_get_x(prop);
	}
	return NULL;
}
