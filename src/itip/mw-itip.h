/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * mw-itip - shared iTip services (RFC 5546 / RFC 6047) of the resources and
 * invitations modules: reading iTip objects out of messages, time and time
 * zone handling, conflict detection, and building REPLY messages.
 */

#include <libical/ical.h>

#include "mw-gmime-compat.h"

G_BEGIN_DECLS

G_DEFINE_AUTOPTR_CLEANUP_FUNC(icalcomponent, icalcomponent_free)

/* --- addresses ----------------------------------------------------------- */

/* mw_itip_address - a cal-address or mailbox as a bare lower-case address
 * ("MAILTO:Room@Example.org" -> "room@example.org"); NULL for NULL or empty */
char *mw_itip_address(const char *value);
/* mw_itip_address_equal - case-insensitive comparison, mailto: ignored */
gboolean mw_itip_address_equal(const char *a, const char *b);
/* mw_itip_mailto - "mailto:" + the bare address */
char *mw_itip_mailto(const char *address);

/* --- time ---------------------------------------------------------------- */

/**
 * MwItipTime:
 * @zone: (nullable): the zone of all-day and floating times; NULL means UTC
 * @now: seconds since the epoch ("now" for horizons and expiry)
 * @horizon: infinite rules are expanded up to this instant
 */
typedef struct {
	icaltimezone *zone;
	gint64 now;
	gint64 horizon;
} MwItipTime;

/* infinite recurrence rules are expanded this far past now (and past DTSTART) */
#define MW_ITIP_HORIZON_DAYS 1830
/* no series is expanded into more occurrences than this */
#define MW_ITIP_MAX_OCCURRENCES 20000

/* mw_itip_time_init - @zone (nullable), now = the current time, the default horizon */
void mw_itip_time_init(MwItipTime *t, icaltimezone *zone);

/* mw_itip_zone_lookup - a system (Olson) zone by name, also by Windows name
 * ("W. Europe Standard Time") or with a "/vendor/" prefix; NULL if unknown */
icaltimezone *mw_itip_zone_lookup(const char *name);
/* mw_itip_windows_zone - the Olson name of a Windows zone name, or NULL */
const char *mw_itip_windows_zone(const char *name);
/* mw_itip_resolve_zone - the zone a TZID parameter names: Windows names map to
 * Olson, else the VTIMEZONE of @vcal, else the system zone of that name */
icaltimezone *mw_itip_resolve_zone(icalcomponent *vcal, const char *tzid);

/* mw_itip_instant - a DTSTART-like property's value as seconds since the epoch:
 * UTC as is, TZID through @vcal, floating and dates in @t->zone */
gint64 mw_itip_instant(icalcomponent *vcal, icalproperty *prop, const MwItipTime *t);
/* mw_itip_time_instant - the same for a bare time in @zone (NULL: @t->zone) */
gint64 mw_itip_time_instant(struct icaltimetype tt, icaltimezone *zone, const MwItipTime *t);
/* mw_itip_component_span - DTSTART and DTEND (or DURATION, or the default
 * length: a day for dates, zero for date-times) of @comp; FALSE without DTSTART */
gboolean mw_itip_component_span(icalcomponent *vcal, icalcomponent *comp, const MwItipTime *t,
				gint64 *start_out, gint64 *end_out);
/* mw_itip_format_span - "2026-03-01 10:00 (Europe/Berlin) - 11:00 (Europe/Berlin)" in @zone
 * (NULL: UTC) named @zone_name; an all-day event of one day is just "2026-03-01" */
char *mw_itip_format_span(gint64 start, gint64 end, gboolean all_day, icaltimezone *zone,
			  const char *zone_name);

/* --- reading ------------------------------------------------------------- */

/**
 * MwItip:
 * @method: REQUEST, REPLY, CANCEL ... (the METHOD property, upper case)
 * @uid: the UID
 * @vcal: (transfer full): a VCALENDAR holding METHOD, the VTIMEZONEs of the
 *   source and every component of this UID (the master and its instances)
 */
typedef struct {
	char *method;
	char *uid;
	icalcomponent *vcal;
} MwItip;

void mw_itip_free(MwItip *itip);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MwItip, mw_itip_free)

typedef enum {
	MW_ITIP_READ_VTODO = 1 << 0, /* also VTODO objects (invitations), not only VEVENT */
} MwItipReadFlags;

/**
 * mw_itip_read_message:
 * Every text/calendar, text/x-vcalendar or application/ics part with a method
 * parameter of REQUEST, REPLY or CANCEL, also inside attached messages,
 * transfer-decoded and converted to UTF-8. Each UID once (the first wins).
 * Returns: (transfer full) (element-type MwItip): possibly empty
 */
GPtrArray *mw_itip_read_message(GMimeMessage *message, guint flags);
/* mw_itip_read_text - the same for one iCalendar text; appends to @out, skipping UIDs in @seen */
void mw_itip_read_text(const char *text, guint flags, GHashTable *seen, GPtrArray *out);

/* mw_itip_is_auto_reply - Auto-Submitted says @message is automatic: never answer it */
gboolean mw_itip_is_auto_reply(GMimeMessage *message);

/* mw_itip_get_master - the component without RECURRENCE-ID, or NULL */
icalcomponent *mw_itip_get_master(icalcomponent *vcal);
/* mw_itip_get_instance - the component whose RECURRENCE-ID is @rid (seconds), or NULL */
icalcomponent *mw_itip_get_instance(icalcomponent *vcal, gint64 rid, const MwItipTime *t);
/* mw_itip_first_component - the first VEVENT/VTODO of @vcal */
icalcomponent *mw_itip_first_component(icalcomponent *vcal);
/* mw_itip_find_attendee - the ATTENDEE property of @comp for @address (any of @aliases too) */
icalproperty *mw_itip_find_attendee(icalcomponent *comp, const char *address,
				    const char *const *aliases);
/* mw_itip_organizer - the ORGANIZER address of @comp (bare, lower case) or NULL */
char *mw_itip_organizer(icalcomponent *comp);
/* mw_itip_sequence - SEQUENCE, 0 when absent */
int mw_itip_sequence(icalcomponent *comp);
/* mw_itip_dtstamp - DTSTAMP in seconds, 0 when absent */
gint64 mw_itip_dtstamp(icalcomponent *comp);
/* mw_itip_compare - order of two versions of one object (RFC 5546 §2.1.5):
 * <0 when @a is older than @b, 0 same, >0 newer */
int mw_itip_compare(icalcomponent *a, icalcomponent *b);

/* --- busy time and conflicts ---------------------------------------------- */

typedef struct {
	gint64 start;
	gint64 end;
} MwSpan;

/* MwItipEvent - the busy time of one UID (a master with its overridden instances) */
typedef struct _MwItipEvent MwItipEvent;

/**
 * mw_itip_event_new:
 * @vcal: a VCALENDAR with the components of one UID (copied where needed)
 * @force_opaque: ignore TRANSP:TRANSPARENT of @vcal (an invitation the
 *   resource will book as OPAQUE)
 * Returns: (transfer full) (nullable): NULL when no component has a DTSTART
 */
MwItipEvent *mw_itip_event_new(icalcomponent *vcal, const MwItipTime *t, gboolean force_opaque);
void mw_itip_event_free(MwItipEvent *ev);
const char *mw_itip_event_get_uid(const MwItipEvent *ev);
/* mw_itip_event_bounds - first start and last end (G_MAXINT64 for infinite series) */
void mw_itip_event_bounds(const MwItipEvent *ev, gint64 *first_out, gint64 *last_out);
/* mw_itip_event_spans - blocking occurrences meeting [@from, @to), sorted, appended to @out */
void mw_itip_event_spans(const MwItipEvent *ev, gint64 from, gint64 to, const MwItipTime *t,
			 GArray *out);
/* mw_itip_spans_overlap - half-open intervals; equal starts always overlap */
gboolean mw_itip_spans_overlap(const MwSpan *a, const MwSpan *b);

/**
 * mw_itip_conflict:
 * Whether @inv and @stored block a common instant. Never for the same UID;
 * never when either blocks nothing (TRANSPARENT, CANCELLED, cancelled
 * instances); all-day events block the whole day in @t->zone; series are
 * expanded with RRULE, RDATE, EXDATE and overridden instances, infinite ones
 * up to @t->horizon. @conflict_out (nullable) receives the first clash of @inv.
 */
gboolean mw_itip_conflict(MwItipEvent *inv, const MwItipEvent *stored, const MwItipTime *t,
			  MwSpan *conflict_out);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(MwItipEvent, mw_itip_event_free)

/* --- replies and generated messages --------------------------------------- */

/**
 * MwItipReplySpec:
 * @vcal: the request's VCALENDAR (VTIMEZONEs are taken from it)
 * @event: the component answered (the master or one instance)
 * @attendee: the replying attendee's address
 * @partstat: its answer
 * @delegate: (nullable): with ICAL_PARTSTAT_DELEGATED: the delegate's address
 * @delegate_name: (nullable): its CN
 * @comment: (nullable): a COMMENT for the organizer
 */
typedef struct {
	icalcomponent *vcal;
	icalcomponent *event;
	const char *attendee;
	icalparameter_partstat partstat;
	const char *delegate;
	const char *delegate_name;
	const char *comment;
} MwItipReplySpec;

/**
 * mw_itip_reply_calendar:
 * A METHOD:REPLY VCALENDAR (RFC 5546 §3.2.3): the component with ORGANIZER,
 * UID, SEQUENCE and RECURRENCE-ID as in the request, DTSTAMP now (UTC), the
 * replying attendee only (plus the delegate when delegating, DELEGATED-TO/FROM
 * as quoted mailto: addresses), no VALARM, a VTIMEZONE for every TZID used.
 * Returns: (transfer full)
 */
icalcomponent *mw_itip_reply_calendar(const MwItipReplySpec *spec);

/* mw_itip_delegate - in @comp: @from becomes DELEGATED (DELEGATED-TO @to,
 * NON-PARTICIPANT, RSVP=FALSE); @to is added if missing (CN @to_name, ROLE and
 * CUTYPE of @from) with DELEGATED-FROM @from */
void mw_itip_delegate(icalcomponent *comp, const char *from, const char *to, const char *to_name);
/* mw_itip_set_partstat - the PARTSTAT of @address's ATTENDEE (added when missing); RSVP dropped */
icalproperty *mw_itip_set_partstat(icalcomponent *comp, const char *address, const char *name,
				   icalparameter_partstat partstat);
/* mw_itip_add_timezones - add to @out a VTIMEZONE for every TZID used in its components,
 * from @source or the system zones */
void mw_itip_add_timezones(icalcomponent *out, icalcomponent *source);

/**
 * MwItipMessageSpec: a generated mail
 * @from_name: (nullable), @from: the From address
 * @to_name: (nullable), @to: the To address
 * @subject, @text: UTF-8
 * @calendar: (nullable): sent as multipart/alternative with a text/calendar
 *   part whose method parameter is its METHOD
 * @in_reply_to: (nullable): the Message-ID answered (with or without <>)
 * @auto_submitted: "auto-replied" or "auto-generated"
 * @domain: for the Message-ID
 */
typedef struct {
	const char *from_name;
	const char *from;
	const char *to_name;
	const char *to;
	const char *subject;
	const char *text;
	icalcomponent *calendar;
	const char *in_reply_to;
	const char *auto_submitted;
	const char *domain;
} MwItipMessageSpec;

/* mw_itip_message_new - Returns: (transfer full) */
GMimeMessage *mw_itip_message_new(const MwItipMessageSpec *spec);

/* mw_itip_partstat_name - "ACCEPTED" ... */
const char *mw_itip_partstat_name(icalparameter_partstat partstat);

G_END_DECLS
