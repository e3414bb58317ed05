/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	fuzz-itip - arbitrary bytes as a message through the iTip services
 * DESCRIPTION
 *	The input is parsed as a message; every iTip object mw_itip_read_message()
 *	finds in it (VEVENT and VTODO) is turned into busy time, checked for
 *	conflicts against a small fixed calendar (one-off, all-day, an infinite
 *	weekly series with an exception), against itself and against the other
 *	objects of the message, and answered with a REPLY calendar and message.
 *	Inputs above 64 KiB are skipped: recurrence expansion is bounded by the
 *	library (MW_ITIP_MAX_OCCURRENCES), the size cap keeps a run fast.
 */
#include <stdint.h>
#include <string.h>

#include "mw-itip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ITIP_MAX_INPUT (64 * 1024)
#define MAX_OBJECTS    8

static const char *const fixed_text[] = {
	"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//fuzz//EN\r\nMETHOD:REQUEST\r\n"
	"BEGIN:VEVENT\r\nUID:fixed-once\r\nDTSTAMP:20260601T000000Z\r\n"
	"DTSTART:20260720T080000Z\r\nDTEND:20260720T090000Z\r\nSUMMARY:once\r\n"
	"ORGANIZER:mailto:alice@example.org\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
	"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//fuzz//EN\r\nMETHOD:REQUEST\r\n"
	"BEGIN:VEVENT\r\nUID:fixed-allday\r\nDTSTAMP:20260601T000000Z\r\n"
	"DTSTART;VALUE=DATE:20260801\r\nDTEND;VALUE=DATE:20260803\r\nSUMMARY:all day\r\n"
	"END:VEVENT\r\nEND:VCALENDAR\r\n",
	"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//fuzz//EN\r\nMETHOD:REQUEST\r\n"
	"BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:STANDARD\r\n"
	"DTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\n"
	"TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\n"
	"DTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n"
	"TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n"
	"BEGIN:VEVENT\r\nUID:fixed-weekly\r\nDTSTAMP:20260601T000000Z\r\n"
	"DTSTART;TZID=Europe/Berlin:20260106T100000\r\n"
	"DTEND;TZID=Europe/Berlin:20260106T110000\r\nRRULE:FREQ=WEEKLY;BYDAY=TU,TH\r\n"
	"EXDATE;TZID=Europe/Berlin:20260714T100000\r\nSUMMARY:weekly\r\nEND:VEVENT\r\n"
	"BEGIN:VEVENT\r\nUID:fixed-weekly\r\nDTSTAMP:20260601T000000Z\r\n"
	"RECURRENCE-ID;TZID=Europe/Berlin:20260716T100000\r\n"
	"DTSTART;TZID=Europe/Berlin:20260716T150000\r\n"
	"DTEND;TZID=Europe/Berlin:20260716T160000\r\nSUMMARY:moved\r\nEND:VEVENT\r\n"
	"END:VCALENDAR\r\n",
};

static MwItipTime itip_time;
static GPtrArray *fixed; /* MwItipEvent */
static icalcomponent *fixed_cals[G_N_ELEMENTS(fixed_text)];

static void
setup(void)
{
	g_mime_init();
	mw_itip_time_init(&itip_time, mw_itip_zone_lookup("Europe/Berlin"));
	/* a fixed "now" keeps runs reproducible */
	itip_time.now = 1782864000; /* 2026-07-01T00:00:00Z */
	itip_time.horizon = itip_time.now + (gint64) MW_ITIP_HORIZON_DAYS * 86400;
	fixed = g_ptr_array_new();
	for (guint i = 0; i < G_N_ELEMENTS(fixed_text); i++) {
		fixed_cals[i] = icalparser_parse_string(fixed_text[i]);
		MwItipEvent *ev = fixed_cals[i] != NULL
					  ? mw_itip_event_new(fixed_cals[i], &itip_time, FALSE)
					  : NULL;
		if (ev == NULL)
			__builtin_trap();
		g_ptr_array_add(fixed, ev);
	}
}

/* answer - a REPLY calendar and message for @comp of @itip */
static void
answer(MwItip *itip, icalcomponent *comp, guint8 selector)
{
	static const icalparameter_partstat partstats[] = {
		ICAL_PARTSTAT_ACCEPTED, ICAL_PARTSTAT_DECLINED, ICAL_PARTSTAT_TENTATIVE,
		ICAL_PARTSTAT_DELEGATED};
	icalparameter_partstat ps = partstats[selector % G_N_ELEMENTS(partstats)];
	icalproperty *att = icalcomponent_get_first_property(comp, ICAL_ATTENDEE_PROPERTY);
	g_autofree char *attendee =
		att != NULL ? mw_itip_address(icalproperty_get_attendee(att)) : NULL;
	g_autofree char *organizer = mw_itip_organizer(comp);
	MwItipReplySpec spec = {
		.vcal = itip->vcal,
		.event = comp,
		.attendee = attendee != NULL ? attendee : "room101@example.org",
		.partstat = ps,
		.delegate = ps == ICAL_PARTSTAT_DELEGATED ? "room102@example.org" : NULL,
		.delegate_name = ps == ICAL_PARTSTAT_DELEGATED ? "Room 102" : NULL,
		.comment = (selector & 4) ? "fuzz comment" : NULL,
	};
	g_autoptr(icalcomponent) reply = mw_itip_reply_calendar(&spec);
	if (reply == NULL)
		__builtin_trap();
	const char *summary = icalcomponent_get_summary(comp);
	g_autofree char *subject =
		g_strdup_printf("Reservation %s", summary != NULL ? summary : "(none)");
	MwItipMessageSpec ms = {
		.from_name = "Room 101",
		.from = "room101@example.org",
		.to = organizer != NULL ? organizer : "alice@example.org",
		.subject = subject,
		.text = "Your reservation was answered.",
		.calendar = reply,
		.in_reply_to = "fuzz@example.org",
		.auto_submitted = "auto-replied",
		.domain = "example.org",
	};
	g_autoptr(GMimeMessage) message = mw_itip_message_new(&ms);
	if (message == NULL)
		__builtin_trap();
	g_autofree char *text = g_mime_object_to_string(GMIME_OBJECT(message), NULL);
	/* the reply must read back as one REPLY object */
	g_autoptr(GMimeStream) stream = g_mime_stream_mem_new_with_buffer(text, strlen(text));
	g_autoptr(GMimeParser) parser = g_mime_parser_new_with_stream(stream);
	g_autoptr(GMimeMessage) back = g_mime_parser_construct_message(parser, NULL);
	if (back != NULL) {
		g_autoptr(GPtrArray) again = mw_itip_read_message(back, MW_ITIP_READ_VTODO);
		(void) again;
	}
}

static void
run_one(const uint8_t *data, size_t size)
{
	g_autoptr(GMimeStream) stream =
		g_mime_stream_mem_new_with_buffer((const char *) data, size);
	g_autoptr(GMimeParser) parser = g_mime_parser_new_with_stream(stream);
	g_autoptr(GMimeMessage) message = g_mime_parser_construct_message(parser, NULL);
	if (message == NULL)
		return;
	g_autoptr(GPtrArray) itips = mw_itip_read_message(message, MW_ITIP_READ_VTODO);
	g_autoptr(GPtrArray) events =
		g_ptr_array_new_with_free_func((GDestroyNotify) mw_itip_event_free);
	guint8 selector = size > 0 ? data[size - 1] : 0;
	for (guint i = 0; i < itips->len && i < MAX_OBJECTS; i++) {
		MwItip *itip = g_ptr_array_index(itips, i);
		if (itip->method == NULL || itip->uid == NULL || itip->vcal == NULL)
			__builtin_trap();
		icalcomponent *comp = mw_itip_first_component(itip->vcal);
		icalcomponent *master = mw_itip_get_master(itip->vcal);
		if (comp != NULL) {
			(void) mw_itip_sequence(comp);
			(void) mw_itip_dtstamp(comp);
			if (master != NULL)
				(void) mw_itip_compare(comp, master);
			gint64 start, end;
			if (mw_itip_component_span(itip->vcal, comp, &itip_time, &start, &end)) {
				g_autofree char *span = mw_itip_format_span(
					start, end, FALSE, itip_time.zone, "Europe/Berlin");
				(void) span;
				(void) mw_itip_get_instance(itip->vcal, start, &itip_time);
			}
			answer(itip, comp, selector++);
		}
		/* as an invitation a resource books (forced opaque) and as stored */
		MwItipEvent *ev = mw_itip_event_new(itip->vcal, &itip_time, TRUE);
		g_autoptr(MwItipEvent) stored = mw_itip_event_new(itip->vcal, &itip_time, FALSE);
		if (ev == NULL)
			continue;
		gint64 first, last;
		mw_itip_event_bounds(ev, &first, &last);
		g_autoptr(GArray) spans = g_array_new(FALSE, FALSE, sizeof(MwSpan));
		mw_itip_event_spans(ev, itip_time.now, itip_time.now + 90 * 86400, &itip_time,
				    spans);
		for (guint k = 1; k < spans->len; k++) {
			MwSpan *a = &g_array_index(spans, MwSpan, k - 1);
			MwSpan *b = &g_array_index(spans, MwSpan, k);
			if (a->start > b->start)
				__builtin_trap(); /* documented as sorted */
		}
		for (guint k = 0; k < fixed->len; k++) {
			MwSpan where;
			(void) mw_itip_conflict(ev, g_ptr_array_index(fixed, k), &itip_time,
						&where);
			(void) mw_itip_conflict(g_ptr_array_index(fixed, k), ev, &itip_time, NULL);
		}
		/* never a conflict with the same UID */
		if (stored != NULL && mw_itip_conflict(ev, stored, &itip_time, NULL))
			__builtin_trap();
		for (guint k = 0; k < events->len; k++)
			(void) mw_itip_conflict(ev, g_ptr_array_index(events, k), &itip_time, NULL);
		g_ptr_array_add(events, ev);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fixed == NULL)
		setup();
	if (size > ITIP_MAX_INPUT)
		return 0;
	run_one(data, size);
	/* libical keeps property strings in a ring of temporary buffers freed only
	 * when the ring wraps: empty it, or every input looks like a leak to
	 * libFuzzer (more mallocs than frees) and costs a full leak scan */
	icalmemory_free_ring();
	return 0;
}
