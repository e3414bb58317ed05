/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-itip-time - addresses, time zones and instants of iCalendar objects
 * SYNOPSIS
 *	mw_itip_address(), mw_itip_address_equal(), mw_itip_mailto(),
 *	mw_itip_time_init(), mw_itip_zone_lookup(), mw_itip_resolve_zone(),
 *	mw_itip_instant(), mw_itip_time_instant(), mw_itip_component_span(),
 *	mw_itip_format_span()
 * DESCRIPTION
 *	Every comparison of times is done on absolute instants (seconds since
 *	the epoch). A TZID is resolved in this order: a Windows zone name is
 *	mapped to its Olson zone (Outlook's VTIMEZONEs carry only the current
 *	rule); a VTIMEZONE sent with the object; the system zoneinfo of that
 *	name (libical reads /usr/share/zoneinfo). Dates (all-day) and floating
 *	times are local times of the configured zone, not UTC (Wallace's bug).
 *	System zones are cached by libical for the life of the process.
 */
#include <string.h>

#include "mw-itip.h"

/* mw_itip_address - a cal-address or mailbox as a bare lower-case address
 * ("MAILTO:Room@Example.org" -> "room@example.org"); NULL for NULL or empty */
char *
mw_itip_address(const char *value)
{
	if (value == NULL)
		return NULL;
	while (g_ascii_isspace(*value))
		value++;
	if (g_ascii_strncasecmp(value, "mailto:", 7) == 0)
		value += 7;
	char *address = g_ascii_strdown(value, -1);
	g_strstrip(address);
	/* a mailbox may come as <addr> */
	if (address[0] == '<') {
		gsize len = strlen(address);
		if (len > 1 && address[len - 1] == '>') {
			memmove(address, address + 1, len - 2);
			address[len - 2] = '\0';
		}
	}
	if (address[0] == '\0') {
		g_free(address);
		return NULL;
	}
	return address;
}

/* mw_itip_address_equal - case-insensitive comparison, mailto: ignored */
gboolean
mw_itip_address_equal(const char *a, const char *b)
{
	g_autofree char *x = mw_itip_address(a);
	g_autofree char *y = mw_itip_address(b);
	return x != NULL && y != NULL && strcmp(x, y) == 0;
}

/* mw_itip_mailto - "mailto:" + the bare address */
char *
mw_itip_mailto(const char *address)
{
	g_autofree char *bare = mw_itip_address(address);
	return g_strconcat("mailto:", bare != NULL ? bare : "", NULL);
}

/* mw_itip_time_init - @zone (nullable), now = the current time, the default horizon */
void
mw_itip_time_init(MwItipTime *t, icaltimezone *zone)
{
	t->zone = zone;
	t->now = g_get_real_time() / G_USEC_PER_SEC;
	t->horizon = t->now + (gint64) MW_ITIP_HORIZON_DAYS * 86400;
}

/**
 * mw_itip_zone_lookup:
 * @name: an Olson name, a Windows name, or a vendor-prefixed Olson name
 *   ("/freeassociation.sourceforge.net/Europe/Berlin", "/mozilla.org/20050126_1/Europe/Berlin")
 *
 * Returns: (transfer none) (nullable): a system zone owned by libical
 */
icaltimezone *
mw_itip_zone_lookup(const char *name)
{
	if (name == NULL || *name == '\0')
		return NULL;
	const char *olson = mw_itip_windows_zone(name);
	if (olson != NULL)
		name = olson;
	if (g_ascii_strcasecmp(name, "UTC") == 0 || g_ascii_strcasecmp(name, "GMT") == 0 ||
	    g_ascii_strcasecmp(name, "Etc/UTC") == 0 || g_ascii_strcasecmp(name, "Z") == 0)
		return icaltimezone_get_utc_timezone();
	/* libical would read any relative path under the zoneinfo folder */
	if (strstr(name, "..") != NULL)
		return NULL;
	if (name[0] != '/') {
		icaltimezone *zone = icaltimezone_get_builtin_timezone(name);
		if (zone != NULL)
			return zone;
	}
	/* a vendor prefix: try the trailing Area/City (or Area/Sub/City) */
	const char *p = name;
	while ((p = strchr(p, '/')) != NULL) {
		p++;
		if (g_ascii_isupper(*p) && strchr(p, '/') != NULL) {
			icaltimezone *zone = icaltimezone_get_builtin_timezone(p);
			if (zone != NULL)
				return zone;
		}
	}
	return NULL;
}

/* mw_itip_resolve_zone - the zone a TZID parameter names: Windows names map to
 * Olson, else the VTIMEZONE of @vcal, else the system zone of that name */
icaltimezone *
mw_itip_resolve_zone(icalcomponent *vcal, const char *tzid)
{
	if (tzid == NULL)
		return NULL;
	if (mw_itip_windows_zone(tzid) != NULL)
		return mw_itip_zone_lookup(tzid);
	if (vcal != NULL && icalcomponent_isa(vcal) == ICAL_VCALENDAR_COMPONENT) {
		icaltimezone *zone = icalcomponent_get_timezone(vcal, tzid);
		if (zone != NULL)
			return zone;
	}
	return mw_itip_zone_lookup(tzid);
}

/* mw_itip_time_instant - the same for a bare time in @zone (NULL: @t->zone) */
gint64
mw_itip_time_instant(struct icaltimetype tt, icaltimezone *zone, const MwItipTime *t)
{
	if (icaltime_is_null_time(tt))
		return 0;
	if (icaltime_is_utc(tt))
		return (gint64) icaltime_as_timet_with_zone(tt, icaltimezone_get_utc_timezone());
	if (tt.is_date || zone == NULL)
		zone = t->zone != NULL ? t->zone : icaltimezone_get_utc_timezone();
	if (tt.is_date) {
		tt.is_date = 0;
		tt.hour = tt.minute = tt.second = 0;
	}
	tt.zone = NULL;
	return (gint64) icaltime_as_timet_with_zone(tt, zone);
}

/* prop_zone - the zone of a property's TZID parameter, NULL when it has none or it is unknown */
static icaltimezone *
prop_zone(icalcomponent *vcal, icalproperty *prop)
{
	icalparameter *param = icalproperty_get_first_parameter(prop, ICAL_TZID_PARAMETER);
	if (param == NULL)
		return NULL;
	return mw_itip_resolve_zone(vcal, icalparameter_get_tzid(param));
}

/* mw_itip_instant - a DTSTART-like property's value as seconds since the epoch:
 * UTC as is, TZID through @vcal, floating and dates in @t->zone */
gint64
mw_itip_instant(icalcomponent *vcal, icalproperty *prop, const MwItipTime *t)
{
	icalvalue *value = icalproperty_get_value(prop);
	if (value == NULL)
		return 0;
	struct icaltimetype tt;
	if (icalvalue_isa(value) == ICAL_PERIOD_VALUE)
		tt = icalvalue_get_period(value).start;
	else
		tt = icalvalue_get_datetime(value);
	return mw_itip_time_instant(tt, prop_zone(vcal, prop), t);
}

/* mw_itip_component_span - DTSTART and DTEND (or DURATION, or the default
 * length: a day for dates, zero for date-times) of @comp; FALSE without DTSTART */
gboolean
mw_itip_component_span(icalcomponent *vcal, icalcomponent *comp, const MwItipTime *t,
		       gint64 *start_out, gint64 *end_out)
{
	icalproperty *dtstart = icalcomponent_get_first_property(comp, ICAL_DTSTART_PROPERTY);
	if (dtstart == NULL)
		return FALSE;
	struct icaltimetype st = icalproperty_get_dtstart(dtstart);
	if (icaltime_is_null_time(st))
		return FALSE;
	gint64 start = mw_itip_instant(vcal, dtstart, t);
	gint64 end = start;
	icalproperty *dtend = icalcomponent_get_first_property(comp, ICAL_DTEND_PROPERTY);
	if (dtend == NULL)
		dtend = icalcomponent_get_first_property(comp, ICAL_DUE_PROPERTY);
	icalproperty *duration = icalcomponent_get_first_property(comp, ICAL_DURATION_PROPERTY);
	if (dtend != NULL) {
		end = mw_itip_instant(vcal, dtend, t);
	} else if (duration != NULL) {
		struct icaldurationtype dur = icalproperty_get_duration(duration);
		if (st.is_date && dur.is_neg == 0 && dur.hours == 0 && dur.minutes == 0 &&
		    dur.seconds == 0) {
			/* whole days end at local midnight, whatever DST does in between */
			struct icaltimetype et = st;
			icaltime_adjust(&et, dur.days + 7 * dur.weeks, 0, 0, 0);
			end = mw_itip_time_instant(et, NULL, t);
		} else {
			end = start + icaldurationtype_as_int(dur);
		}
	} else if (st.is_date) {
		/* RFC 5545 §3.6.1: a DATE DTSTART without end lasts one day */
		struct icaltimetype et = st;
		icaltime_adjust(&et, 1, 0, 0, 0);
		end = mw_itip_time_instant(et, NULL, t);
	}
	if (end < start)
		end = start;
	*start_out = start;
	*end_out = end;
	return TRUE;
}

/* format_local - "YYYY-MM-DD" and "HH:MM" of @when in @zone */
static void
format_local(gint64 when, icaltimezone *zone, char *date, gsize date_len, char *clock,
	     gsize clock_len)
{
	struct icaltimetype tt = icaltime_from_timet_with_zone((time_t) when, 0, zone);
	g_snprintf(date, date_len, "%04d-%02d-%02d", tt.year, tt.month, tt.day);
	g_snprintf(clock, clock_len, "%02d:%02d", tt.hour, tt.minute);
}

/* mw_itip_format_span - "2026-03-01 10:00 (Europe/Berlin) - 11:00 (Europe/Berlin)" in @zone
 * (NULL: UTC) named @zone_name; an all-day event of one day is just "2026-03-01" */
char *
mw_itip_format_span(gint64 start, gint64 end, gboolean all_day, icaltimezone *zone,
		    const char *zone_name)
{
	char d1[16], c1[8], d2[16], c2[8];

	if (zone == NULL)
		zone = icaltimezone_get_utc_timezone();
	if (zone_name == NULL)
		zone_name = "UTC";
	format_local(start, zone, d1, sizeof d1, c1, sizeof c1);
	if (all_day) {
		/* the end of an all-day event is the exclusive next midnight */
		format_local(end > start ? end - 1 : end, zone, d2, sizeof d2, c2, sizeof c2);
		if (strcmp(d1, d2) == 0)
			return g_strdup(d1);
		return g_strdup_printf("%s - %s", d1, d2);
	}
	format_local(end, zone, d2, sizeof d2, c2, sizeof c2);
	if (strcmp(d1, d2) == 0)
		return g_strdup_printf("%s %s (%s) - %s (%s)", d1, c1, zone_name, c2, zone_name);
	return g_strdup_printf("%s %s (%s) - %s %s (%s)", d1, c1, zone_name, d2, c2, zone_name);
}
