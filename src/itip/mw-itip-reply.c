/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-itip-reply - iTip REPLY objects and the mails that carry them
 * SYNOPSIS
 *	mw_itip_reply_calendar(), mw_itip_delegate(), mw_itip_set_partstat(),
 *	mw_itip_add_timezones(), mw_itip_message_new(), mw_itip_partstat_name()
 * DESCRIPTION
 *	A REPLY follows RFC 5546 §3.2.3: METHOD:REPLY, ORGANIZER, UID,
 *	SEQUENCE and RECURRENCE-ID as in the request, DTSTAMP now in UTC,
 *	only the replying attendee (a delegator's reply also names the
 *	delegate, §3.2.2.3), no VALARM, and a VTIMEZONE for every TZID used
 *	(RFC 5545 §3.6.5): Wallace omitted those and wrote DELEGATED-TO/FROM
 *	bare, which clients reject; libical quotes "mailto:" values.
 *
 *	The mail (RFC 6047) is multipart/alternative with a text/plain
 *	explanation and text/calendar; method=...; charset=UTF-8, without a
 *	Content-Disposition (Outlook ignores attached iTip), with
 *	Auto-Submitted (RFC 3834) and In-Reply-To the invitation. Parts are
 *	7bit when they are ASCII, else quoted-printable, so no hop needs
 *	8BITMIME.
 */
#include <string.h>

#include "mw-itip.h"

/* mw_itip_partstat_name - "ACCEPTED" ... */
const char *
mw_itip_partstat_name(icalparameter_partstat partstat)
{
	switch (partstat) {
	case ICAL_PARTSTAT_ACCEPTED:
		return "ACCEPTED";
	case ICAL_PARTSTAT_DECLINED:
		return "DECLINED";
	case ICAL_PARTSTAT_TENTATIVE:
		return "TENTATIVE";
	case ICAL_PARTSTAT_DELEGATED:
		return "DELEGATED";
	case ICAL_PARTSTAT_COMPLETED:
		return "COMPLETED";
	case ICAL_PARTSTAT_INPROCESS:
		return "IN-PROCESS";
	default:
		return "NEEDS-ACTION";
	}
}

/* set_param - replace parameter @kind of @prop by @param (NULL: just remove) */
static void
set_param(icalproperty *prop, icalparameter_kind kind, icalparameter *param)
{
	icalproperty_remove_parameter_by_kind(prop, kind);
	if (param != NULL)
		icalproperty_add_parameter(prop, param);
}

/* mw_itip_set_partstat - the PARTSTAT of @address's ATTENDEE (added when missing); RSVP dropped */
icalproperty *
mw_itip_set_partstat(icalcomponent *comp, const char *address, const char *name,
		     icalparameter_partstat partstat)
{
	icalproperty *prop = mw_itip_find_attendee(comp, address, NULL);
	if (prop == NULL) {
		g_autofree char *mailto = mw_itip_mailto(address);
		prop = icalproperty_new_attendee(mailto);
		if (name != NULL)
			icalproperty_add_parameter(prop, icalparameter_new_cn(name));
		icalcomponent_add_property(comp, prop);
	}
	set_param(prop, ICAL_PARTSTAT_PARAMETER, icalparameter_new_partstat(partstat));
	set_param(prop, ICAL_RSVP_PARAMETER, NULL);
	return prop;
}

/* mw_itip_delegate - in @comp: @from becomes DELEGATED (DELEGATED-TO @to,
 * NON-PARTICIPANT, RSVP=FALSE); @to is added if missing (CN @to_name, ROLE and
 * CUTYPE of @from) with DELEGATED-FROM @from */
void
mw_itip_delegate(icalcomponent *comp, const char *from, const char *to, const char *to_name)
{
	g_autofree char *from_mailto = mw_itip_mailto(from);
	g_autofree char *to_mailto = mw_itip_mailto(to);
	icalproperty *delegator = mw_itip_set_partstat(comp, from, NULL, ICAL_PARTSTAT_DELEGATED);
	set_param(delegator, ICAL_DELEGATEDTO_PARAMETER, icalparameter_new_delegatedto(to_mailto));
	set_param(delegator, ICAL_RSVP_PARAMETER, icalparameter_new_rsvp(ICAL_RSVP_FALSE));

	icalproperty *delegate = mw_itip_find_attendee(comp, to, NULL);
	if (delegate == NULL) {
		delegate = icalproperty_new_attendee(to_mailto);
		if (to_name != NULL)
			icalproperty_add_parameter(delegate, icalparameter_new_cn(to_name));
		icalcomponent_add_property(comp, delegate);
		delegate = mw_itip_find_attendee(comp, to, NULL);
		/* the delegate takes the delegator's role and kind (room, resource) */
		icalparameter *role =
			icalproperty_get_first_parameter(delegator, ICAL_ROLE_PARAMETER);
		if (role != NULL)
			icalproperty_add_parameter(delegate, icalparameter_new_clone(role));
		icalparameter *cutype =
			icalproperty_get_first_parameter(delegator, ICAL_CUTYPE_PARAMETER);
		if (cutype != NULL)
			icalproperty_add_parameter(delegate, icalparameter_new_clone(cutype));
		icalproperty_add_parameter(delegate,
					   icalparameter_new_partstat(ICAL_PARTSTAT_NEEDSACTION));
	}
	set_param(delegate, ICAL_DELEGATEDFROM_PARAMETER,
		  icalparameter_new_delegatedfrom(from_mailto));
	set_param(delegator, ICAL_ROLE_PARAMETER, icalparameter_new_role(ICAL_ROLE_NONPARTICIPANT));
}

/* collect_tzids - the TZID parameters used by @comp and its subcomponents */
static void
collect_tzids(icalcomponent *comp, GHashTable *tzids)
{
	for (icalproperty *prop = icalcomponent_get_first_property(comp, ICAL_ANY_PROPERTY);
	     prop != NULL; prop = icalcomponent_get_next_property(comp, ICAL_ANY_PROPERTY)) {
		icalparameter *param = icalproperty_get_first_parameter(prop, ICAL_TZID_PARAMETER);
		if (param != NULL && icalparameter_get_tzid(param) != NULL)
			g_hash_table_add(tzids, g_strdup(icalparameter_get_tzid(param)));
	}
	for (icalcomponent *sub = icalcomponent_get_first_component(comp, ICAL_ANY_COMPONENT);
	     sub != NULL; sub = icalcomponent_get_next_component(comp, ICAL_ANY_COMPONENT)) {
		if (icalcomponent_isa(sub) != ICAL_VTIMEZONE_COMPONENT)
			collect_tzids(sub, tzids);
	}
}

/* find_vtimezone - the VTIMEZONE of @vcal with TZID @tzid */
static icalcomponent *
find_vtimezone(icalcomponent *vcal, const char *tzid)
{
	if (vcal == NULL)
		return NULL;
	for (icalcomponent *tz = icalcomponent_get_first_component(vcal, ICAL_VTIMEZONE_COMPONENT);
	     tz != NULL; tz = icalcomponent_get_next_component(vcal, ICAL_VTIMEZONE_COMPONENT)) {
		icalproperty *prop = icalcomponent_get_first_property(tz, ICAL_TZID_PROPERTY);
		if (prop != NULL && g_strcmp0(icalproperty_get_tzid(prop), tzid) == 0)
			return tz;
	}
	return NULL;
}

/* mw_itip_add_timezones - add to @out a VTIMEZONE for every TZID used in its components,
 * from @source or the system zones */
void
mw_itip_add_timezones(icalcomponent *out, icalcomponent *source)
{
	g_autoptr(GHashTable) tzids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GPtrArray) zones = g_ptr_array_new();
	collect_tzids(out, tzids);
	GHashTableIter iter;
	gpointer key;
	g_hash_table_iter_init(&iter, tzids);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		const char *tzid = key;
		if (find_vtimezone(out, tzid) != NULL)
			continue;
		icalcomponent *tz = find_vtimezone(source, tzid);
		icalcomponent *copy = NULL;
		if (tz != NULL) {
			copy = icalcomponent_new_clone(tz);
		} else {
			icaltimezone *zone = mw_itip_zone_lookup(tzid);
			icalcomponent *zc = zone != NULL ? icaltimezone_get_component(zone) : NULL;
			if (zc == NULL)
				continue;
			/* the system zone under the TZID the object uses */
			copy = icalcomponent_new_clone(zc);
			icalproperty *p =
				icalcomponent_get_first_property(copy, ICAL_TZID_PROPERTY);
			if (p != NULL)
				icalproperty_set_tzid(p, tzid);
		}
		g_ptr_array_add(zones, copy);
	}
	if (zones->len == 0)
		return;
	/* VTIMEZONEs come before the objects that use them, as clients write them */
	g_autoptr(GPtrArray) objects = g_ptr_array_new();
	for (icalcomponent *c = icalcomponent_get_first_component(out, ICAL_ANY_COMPONENT);
	     c != NULL; c = icalcomponent_get_next_component(out, ICAL_ANY_COMPONENT)) {
		if (icalcomponent_isa(c) != ICAL_VTIMEZONE_COMPONENT)
			g_ptr_array_add(objects, c);
	}
	for (guint i = 0; i < objects->len; i++)
		icalcomponent_remove_component(out, g_ptr_array_index(objects, i));
	for (guint i = 0; i < zones->len; i++)
		icalcomponent_add_component(out, g_ptr_array_index(zones, i));
	for (guint i = 0; i < objects->len; i++)
		icalcomponent_add_component(out, g_ptr_array_index(objects, i));
}

/**
 * mw_itip_reply_calendar:
 * A METHOD:REPLY VCALENDAR (RFC 5546 §3.2.3): the component with ORGANIZER,
 * UID, SEQUENCE and RECURRENCE-ID as in the request, DTSTAMP now (UTC), the
 * replying attendee only (plus the delegate when delegating, DELEGATED-TO/FROM
 * as quoted mailto: addresses), no VALARM, a VTIMEZONE for every TZID used.
 * Returns: (transfer full)
 */
icalcomponent *
mw_itip_reply_calendar(const MwItipReplySpec *spec)
{
	icalcomponent *vcal = icalcomponent_new(ICAL_VCALENDAR_COMPONENT);
	icalcomponent_add_property(
		vcal, icalproperty_new_prodid("-//mailwarden//mailwarden " MW_VERSION "//EN"));
	icalcomponent_add_property(vcal, icalproperty_new_version("2.0"));
	icalcomponent_add_property(vcal, icalproperty_new_calscale("GREGORIAN"));
	icalcomponent_add_property(vcal, icalproperty_new_method(ICAL_METHOD_REPLY));

	icalcomponent *comp = icalcomponent_new_clone(spec->event);
	/* no alarms in a REPLY (RFC 5546 §3.2.3) */
	for (icalcomponent *alarm = icalcomponent_get_first_component(comp, ICAL_VALARM_COMPONENT);
	     alarm != NULL;
	     alarm = icalcomponent_get_first_component(comp, ICAL_VALARM_COMPONENT)) {
		icalcomponent_remove_component(comp, alarm);
		icalcomponent_free(alarm);
	}
	/* the replying attendee, and the delegate when delegating; nobody else */
	mw_itip_set_partstat(comp, spec->attendee, NULL, spec->partstat);
	if (spec->partstat == ICAL_PARTSTAT_DELEGATED && spec->delegate != NULL)
		mw_itip_delegate(comp, spec->attendee, spec->delegate, spec->delegate_name);
	icalproperty *mine = mw_itip_find_attendee(comp, spec->attendee, NULL);
	icalproperty *delegate = spec->partstat == ICAL_PARTSTAT_DELEGATED && spec->delegate != NULL
					 ? mw_itip_find_attendee(comp, spec->delegate, NULL)
					 : NULL;
	for (icalproperty *prop = icalcomponent_get_first_property(comp, ICAL_ATTENDEE_PROPERTY);
	     prop != NULL;) {
		icalproperty *next = icalcomponent_get_next_property(comp, ICAL_ATTENDEE_PROPERTY);
		if (prop != mine && prop != delegate) {
			icalcomponent_remove_property(comp, prop);
			icalproperty_free(prop);
		}
		prop = next;
	}
	if (mine != NULL)
		set_param(mine, ICAL_RSVP_PARAMETER, icalparameter_new_rsvp(ICAL_RSVP_FALSE));

	icalproperty *stamp = icalcomponent_get_first_property(comp, ICAL_DTSTAMP_PROPERTY);
	struct icaltimetype now = icaltime_current_time_with_zone(icaltimezone_get_utc_timezone());
	if (stamp != NULL)
		icalproperty_set_dtstamp(stamp, now);
	else
		icalcomponent_add_property(comp, icalproperty_new_dtstamp(now));
	/* our own bookkeeping never leaves */
	for (icalproperty *prop = icalcomponent_get_first_property(comp, ICAL_X_PROPERTY);
	     prop != NULL;) {
		icalproperty *next = icalcomponent_get_next_property(comp, ICAL_X_PROPERTY);
		if (g_ascii_strncasecmp(icalproperty_get_x_name(prop), "X-MAILWARDEN-", 13) == 0) {
			icalcomponent_remove_property(comp, prop);
			icalproperty_free(prop);
		}
		prop = next;
	}
	while (icalcomponent_get_first_property(comp, ICAL_COMMENT_PROPERTY) != NULL) {
		icalproperty *c = icalcomponent_get_first_property(comp, ICAL_COMMENT_PROPERTY);
		icalcomponent_remove_property(comp, c);
		icalproperty_free(c);
	}
	if (spec->comment != NULL && *spec->comment != '\0')
		icalcomponent_add_property(comp, icalproperty_new_comment(spec->comment));
	icalcomponent_add_component(vcal, comp);
	mw_itip_add_timezones(vcal, spec->vcal);
	return vcal;
}

/* text_part - a text/@subtype part of @text, 7bit when ASCII, else quoted-printable */
static GMimePart *
text_part(const char *subtype, const char *text)
{
	GMimeTextPart *part = g_mime_text_part_new_with_subtype(subtype);
	g_mime_text_part_set_text(part, text);
	g_mime_text_part_set_charset(part, "UTF-8");
	gboolean ascii = TRUE;
	for (const char *p = text; *p != '\0'; p++) {
		if ((guchar) *p >= 0x80) {
			ascii = FALSE;
			break;
		}
	}
	g_mime_part_set_content_encoding(GMIME_PART(part),
					 ascii ? GMIME_CONTENT_ENCODING_7BIT
					       : GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
	return GMIME_PART(part);
}

/* ical_text - the iCalendar text (CRLF lines, folded at 75 octets by libical) */
static char *
ical_text(icalcomponent *calendar)
{
	return icalcomponent_as_ical_string_r(calendar);
}

/* mw_itip_message_new - Returns: (transfer full) */
GMimeMessage *
mw_itip_message_new(const MwItipMessageSpec *spec)
{
	GMimeMessage *message = g_mime_message_new(TRUE);
	g_mime_message_add_mailbox(message, GMIME_ADDRESS_TYPE_FROM, spec->from_name, spec->from);
	g_mime_message_add_mailbox(message, GMIME_ADDRESS_TYPE_TO, spec->to_name, spec->to);
	g_mime_message_set_subject(message, spec->subject, "UTF-8");
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_mime_message_set_date(message, now);
	g_autofree char *id =
		g_mime_utils_generate_message_id(spec->domain != NULL ? spec->domain : "localhost");
	g_mime_message_set_message_id(message, id);
	if (spec->in_reply_to != NULL && *spec->in_reply_to != '\0') {
		g_autofree char *trimmed = g_strstrip(g_strdup(spec->in_reply_to));
		g_autofree char *ref =
			trimmed[0] == '<' ? g_strdup(trimmed) : g_strdup_printf("<%s>", trimmed);
		g_mime_object_set_header(GMIME_OBJECT(message), "In-Reply-To", ref, NULL);
		g_mime_object_set_header(GMIME_OBJECT(message), "References", ref, NULL);
	}
	g_mime_object_set_header(
		GMIME_OBJECT(message), "Auto-Submitted",
		spec->auto_submitted != NULL ? spec->auto_submitted : "auto-replied", NULL);

	g_autoptr(GMimePart) text = text_part("plain", spec->text);
	if (spec->calendar == NULL) {
		g_mime_message_set_mime_part(message, GMIME_OBJECT(text));
		return message;
	}
	g_autoptr(GMimeMultipart) alt = g_mime_multipart_new_with_subtype("alternative");
	g_mime_multipart_add(alt, GMIME_OBJECT(text));
	g_autofree char *ics = ical_text(spec->calendar);
	g_autoptr(GMimePart) cal = text_part("calendar", ics);
	icalproperty *method =
		icalcomponent_get_first_property(spec->calendar, ICAL_METHOD_PROPERTY);
	if (method != NULL)
		g_mime_object_set_content_type_parameter(
			GMIME_OBJECT(cal), "method",
			icalenum_method_to_string(icalproperty_get_method(method)));
	g_mime_multipart_add(alt, GMIME_OBJECT(cal));
	g_mime_message_set_mime_part(message, GMIME_OBJECT(alt));
	return message;
}
