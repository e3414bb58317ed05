/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-invitations-store - small helpers on stored calendar objects
 * SYNOPSIS
 *	mw_inv_type(), mw_inv_rid(), mw_inv_target(), mw_inv_exception(),
 *	mw_inv_storable(), mw_inv_my_attendee(), mw_inv_partstat()
 * DESCRIPTION
 *	A user's copy of an invitation is one object per UID in the calendar
 *	store (the master and its overridden instances). These helpers find
 *	the component of a copy an iTip component refers to, and make an
 *	overridden instance out of the master when an instance is answered or
 *	cancelled that has none yet.
 */
#include "mw-invitations.h"

guint
mw_inv_type(MwItip *itip)
{
	icalcomponent *comp = mw_itip_first_component(itip->vcal);
	return comp != NULL && icalcomponent_isa(comp) == ICAL_VTODO_COMPONENT ? MW_INV_TYPE_TASK
									       : MW_INV_TYPE_EVENT;
}

gint64
mw_inv_rid(icalcomponent *vcal, icalcomponent *comp, const MwItipTime *t)
{
	icalproperty *prop = icalcomponent_get_first_property(comp, ICAL_RECURRENCEID_PROPERTY);
	return prop != NULL ? mw_itip_instant(vcal, prop, t) : 0;
}

/* mw_inv_target - the master of @stored for a master @comp, the instance for an instance (NULL
 * when @stored has no such instance) */
icalcomponent *
mw_inv_target(icalcomponent *stored, icalcomponent *vcal, icalcomponent *comp, const MwItipTime *t)
{
	gint64 rid = mw_inv_rid(vcal, comp, t);
	if (rid == 0)
		return mw_itip_get_master(stored);
	return mw_itip_get_instance(stored, rid, t);
}

/* mw_inv_exception - the overridden instance of @stored for @comp's RECURRENCE-ID; a clone of
 * the master (moved to the instance's time, without recurrence rules) when none is stored;
 * NULL when @stored has no master either */
icalcomponent *
mw_inv_exception(icalcomponent *stored, icalcomponent *vcal, icalcomponent *comp,
		 const MwItipTime *t)
{
	icalcomponent *found = mw_inv_target(stored, vcal, comp, t);
	if (found != NULL)
		return found;
	icalcomponent *master = mw_itip_get_master(stored);
	icalproperty *rid = icalcomponent_get_first_property(comp, ICAL_RECURRENCEID_PROPERTY);
	if (master == NULL || rid == NULL)
		return NULL;
	icalcomponent *inst = icalcomponent_new_clone(master);
	static const icalproperty_kind drop[] = {ICAL_RRULE_PROPERTY, ICAL_RDATE_PROPERTY,
						 ICAL_EXDATE_PROPERTY, ICAL_EXRULE_PROPERTY};
	for (guint i = 0; i < G_N_ELEMENTS(drop); i++) {
		icalproperty *p;
		while ((p = icalcomponent_get_first_property(inst, drop[i])) != NULL) {
			icalcomponent_remove_property(inst, p);
			icalproperty_free(p);
		}
	}
	struct icaltimetype start = icalcomponent_get_dtstart(master);
	struct icaltimetype end = icalcomponent_get_dtend(master);
	struct icaltimetype rt = icalproperty_get_recurrenceid(rid);
	if (!icaltime_is_null_time(start) && !icaltime_is_null_time(end)) {
		struct icaldurationtype len = icaltime_subtract(end, start);
		icalcomponent_set_dtstart(inst, rt);
		if (icalcomponent_get_first_property(inst, ICAL_DTEND_PROPERTY) != NULL)
			icalcomponent_set_dtend(inst, icaltime_add(rt, len));
	}
	icalcomponent_add_property(inst, icalproperty_new_clone(rid));
	icalcomponent_add_component(stored, inst);
	return inst;
}

/* mw_inv_storable - the calendar's form of an iTip object: no METHOD */
icalcomponent *
mw_inv_storable(icalcomponent *vcal)
{
	icalcomponent *out = icalcomponent_new_clone(vcal);
	icalproperty *method;
	while ((method = icalcomponent_get_first_property(out, ICAL_METHOD_PROPERTY)) != NULL) {
		icalcomponent_remove_property(out, method);
		icalproperty_free(method);
	}
	return out;
}

icalproperty *
mw_inv_my_attendee(icalcomponent *comp, const MwInvUser *user)
{
	return mw_itip_find_attendee(comp, user->address, (const char *const *) user->aliases);
}

icalparameter_partstat
mw_inv_partstat(icalproperty *prop)
{
	icalparameter *p = prop != NULL
				   ? icalproperty_get_first_parameter(prop, ICAL_PARTSTAT_PARAMETER)
				   : NULL;
	return p != NULL ? icalparameter_get_partstat(p) : ICAL_PARTSTAT_NEEDSACTION;
}
