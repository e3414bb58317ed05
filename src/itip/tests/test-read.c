/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-read - iTip extraction from messages of real clients
 * SYNOPSIS
 *	itip-read
 * DESCRIPTION
 *	Samples in tests/data (made by make-samples.py after mails of Outlook/
 *	Exchange, Google Calendar, Thunderbird, Apple Calendar and Roundcube):
 *	base64, quoted-printable and 7bit parts, Windows zone names, Google's
 *	duplicate part, attached messages, parts without a method parameter.
 */
#include <string.h>

#include "itip-test.h"

/* read_one - the iTips of a sample */
static GPtrArray *
read_sample(const char *name)
{
	g_autoptr(GMimeMessage) message = itip_test_message(name);
	return mw_itip_read_message(message, 0);
}

START_TEST(test_outlook)
{
	g_autoptr(GPtrArray) itips = read_sample("outlook-request.eml");
	MwItipTime t;
	itip_test_time(&t, NULL);
	ck_assert_uint_eq(itips->len, 1);
	MwItip *itip = g_ptr_array_index(itips, 0);
	ck_assert_str_eq(itip->method, "REQUEST");
	ck_assert(g_str_has_prefix(itip->uid, "040000008200E00074C5B7101A82E008"));
	icalcomponent *master = mw_itip_get_master(itip->vcal);
	ck_assert_ptr_nonnull(master);
	g_autofree char *organizer = mw_itip_organizer(master);
	ck_assert_str_eq(organizer, "alice@example.org");
	/* the attendee is written in mixed case: matching ignores case */
	ck_assert_ptr_nonnull(mw_itip_find_attendee(master, "room101@example.org", NULL));
	/* W. Europe Standard Time is Europe/Berlin: 10:00 CEST is 08:00 UTC */
	gint64 start, end;
	ck_assert(mw_itip_component_span(itip->vcal, master, &t, &start, &end));
	ck_assert_int_eq(start, itip_test_utc("20260715T080000Z"));
	ck_assert_int_eq(end, itip_test_utc("20260715T093000Z"));
}
END_TEST

START_TEST(test_google_duplicate)
{
	/* the same invitation as text/calendar and as application/ics: one object */
	g_autoptr(GPtrArray) itips = read_sample("google-request.eml");
	ck_assert_uint_eq(itips->len, 1);
	MwItip *itip = g_ptr_array_index(itips, 0);
	ck_assert_str_eq(itip->uid, "7kukuqrfedlm2f9t0vsdnb9ks0@google.com");
	ck_assert_int_eq(icalcomponent_count_components(itip->vcal, ICAL_VEVENT_COMPONENT), 1);
	ck_assert_ptr_nonnull(
		mw_itip_find_attendee(mw_itip_get_master(itip->vcal), "ROOM101@example.org", NULL));
}
END_TEST

START_TEST(test_thunderbird_qp_series)
{
	g_autoptr(GPtrArray) itips = read_sample("thunderbird-request.eml");
	MwItipTime t;
	itip_test_time(&t, NULL);
	ck_assert_uint_eq(itips->len, 1);
	MwItip *itip = g_ptr_array_index(itips, 0);
	icalcomponent *master = mw_itip_get_master(itip->vcal);
	/* quoted-printable decoded, UTF-8 intact */
	ck_assert_str_eq(icalcomponent_get_summary(master), "Wöchentliche Besprechung über Räume");
	ck_assert_int_eq(mw_itip_sequence(master), 2);
	g_autoptr(MwItipEvent) ev = mw_itip_event_new(itip->vcal, &t, FALSE);
	ck_assert_ptr_nonnull(ev);
	g_autoptr(GArray) spans = g_array_new(FALSE, FALSE, sizeof(MwSpan));
	mw_itip_event_spans(ev, itip_test_utc("20260720T000000Z"),
			    itip_test_utc("20260818T000000Z"), &t, spans);
	/* Mondays 20 Jul, 27 Jul, (3 Aug excluded), 10 Aug, 17 Aug, 09:00 CEST = 07:00 UTC */
	ck_assert_uint_eq(spans->len, 4);
	ck_assert_int_eq(g_array_index(spans, MwSpan, 0).start, itip_test_utc("20260720T070000Z"));
	ck_assert_int_eq(g_array_index(spans, MwSpan, 2).start, itip_test_utc("20260810T070000Z"));
}
END_TEST

START_TEST(test_apple)
{
	g_autoptr(GPtrArray) itips = read_sample("apple-request.eml");
	MwItipTime t;
	itip_test_time(&t, NULL);
	ck_assert_uint_eq(itips->len, 1);
	MwItip *itip = g_ptr_array_index(itips, 0);
	icalcomponent *master = mw_itip_get_master(itip->vcal);
	ck_assert_ptr_nonnull(mw_itip_find_attendee(master, "projector3@example.org", NULL));
	gint64 start, end;
	ck_assert(mw_itip_component_span(itip->vcal, master, &t, &start, &end));
	/* 10:00 EDT */
	ck_assert_int_eq(start, itip_test_utc("20260717T140000Z"));
	ck_assert_int_eq(end - start, 3600);
}
END_TEST

START_TEST(test_roundcube_allday)
{
	g_autoptr(GPtrArray) itips = read_sample("roundcube-request.eml");
	MwItipTime t;
	itip_test_time(&t, "Europe/Berlin");
	ck_assert_uint_eq(itips->len, 1);
	MwItip *itip = g_ptr_array_index(itips, 0);
	icalcomponent *master = mw_itip_get_master(itip->vcal);
	gint64 start, end;
	ck_assert(mw_itip_component_span(itip->vcal, master, &t, &start, &end));
	/* all day in the configured zone: 20 Jul 00:00 CEST to 22 Jul 00:00 CEST */
	ck_assert_int_eq(start, itip_test_utc("20260719T220000Z"));
	ck_assert_int_eq(end, itip_test_utc("20260721T220000Z"));
}
END_TEST

START_TEST(test_forwarded)
{
	/* an attached message is searched; a calendar part without method= is not iTip */
	g_autoptr(GPtrArray) itips = read_sample("forwarded.eml");
	ck_assert_uint_eq(itips->len, 1);
	MwItip *itip = g_ptr_array_index(itips, 0);
	ck_assert_str_eq(itip->method, "REQUEST");
	ck_assert(g_str_has_prefix(itip->uid, "040000008200E0"));
}
END_TEST

START_TEST(test_cancel_instance)
{
	g_autoptr(GPtrArray) itips = read_sample("outlook-cancel-instance.eml");
	MwItipTime t;
	itip_test_time(&t, NULL);
	ck_assert_uint_eq(itips->len, 1);
	MwItip *itip = g_ptr_array_index(itips, 0);
	ck_assert_str_eq(itip->method, "CANCEL");
	ck_assert_ptr_null(mw_itip_get_master(itip->vcal));
	icalcomponent *instance =
		mw_itip_get_instance(itip->vcal, itip_test_utc("20260722T080000Z"), &t);
	ck_assert_ptr_nonnull(instance);
}
END_TEST

START_TEST(test_methods_and_dtstart)
{
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify) mw_itip_free);
	/* PUBLISH and COUNTER are never processed */
	mw_itip_read_text("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:PUBLISH\r\nBEGIN:VEVENT\r\n"
			  "UID:p1\r\nDTSTART:20260701T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
			  0, seen, out);
	mw_itip_read_text("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:COUNTER\r\nBEGIN:VEVENT\r\n"
			  "UID:c1\r\nDTSTART:20260701T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
			  0, seen, out);
	ck_assert_uint_eq(out->len, 0);
	/* no DTSTART: dropped; a VTODO only when asked */
	mw_itip_read_text("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\n"
			  "UID:n1\r\nSUMMARY:x\r\nEND:VEVENT\r\nBEGIN:VTODO\r\nUID:t1\r\n"
			  "END:VTODO\r\nEND:VCALENDAR\r\n",
			  0, seen, out);
	ck_assert_uint_eq(out->len, 0);
	mw_itip_read_text("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VTODO\r\n"
			  "UID:t1\r\nEND:VTODO\r\nEND:VCALENDAR\r\n",
			  MW_ITIP_READ_VTODO, seen, out);
	ck_assert_uint_eq(out->len, 1);
	/* garbage is no iTip, and no crash */
	mw_itip_read_text("BEGIN:VCALENDAR\r\nthis is not\r\n", 0, seen, out);
	mw_itip_read_text("", 0, seen, out);
	ck_assert_uint_eq(out->len, 1);
}
END_TEST

START_TEST(test_master_and_instances_grouped)
{
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify) mw_itip_free);
	mw_itip_read_text("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\n"
			  "BEGIN:VEVENT\r\nUID:s1\r\nDTSTART:20260701T100000Z\r\n"
			  "RRULE:FREQ=DAILY;COUNT=5\r\nEND:VEVENT\r\n"
			  "BEGIN:VEVENT\r\nUID:s1\r\nRECURRENCE-ID:20260702T100000Z\r\n"
			  "DTSTART:20260702T150000Z\r\nEND:VEVENT\r\n"
			  "BEGIN:VEVENT\r\nUID:s2\r\nDTSTART:20260702T150000Z\r\nEND:VEVENT\r\n"
			  "END:VCALENDAR\r\n",
			  0, seen, out);
	ck_assert_uint_eq(out->len, 2);
	MwItip *first = g_ptr_array_index(out, 0);
	ck_assert_str_eq(first->uid, "s1");
	ck_assert_int_eq(icalcomponent_count_components(first->vcal, ICAL_VEVENT_COMPONENT), 2);
}
END_TEST

START_TEST(test_zones)
{
	ck_assert_str_eq(mw_itip_windows_zone("W. Europe Standard Time"), "Europe/Berlin");
	ck_assert_str_eq(mw_itip_windows_zone("eastern standard time"), "America/New_York");
	ck_assert_ptr_null(mw_itip_windows_zone("Europe/Berlin"));
	ck_assert_ptr_nonnull(mw_itip_zone_lookup("Europe/Berlin"));
	ck_assert_ptr_nonnull(mw_itip_zone_lookup("/mozilla.org/20050126_1/Europe/Berlin"));
	ck_assert_ptr_nonnull(mw_itip_zone_lookup("Tokyo Standard Time"));
	ck_assert_ptr_null(mw_itip_zone_lookup("Mars/Olympus_Mons"));
	ck_assert_ptr_null(mw_itip_zone_lookup("../../etc/passwd"));
	g_autofree char *a = mw_itip_address("MAILTO:Room101@Example.ORG");
	ck_assert_str_eq(a, "room101@example.org");
	ck_assert(mw_itip_address_equal("mailto:X@Y", "<x@y>"));
}
END_TEST

/* Auto-Submitted other than "no" (any case, spaces, parameters) marks an automatic message */
START_TEST(test_auto_reply)
{
	static const struct {
		const char *value;
		gboolean automatic;
	} cases[] = {
		{NULL, FALSE},
		{"no", FALSE},
		{" No ", FALSE},
		{"auto-replied", TRUE},
		{"Auto-Generated; owner-email=x@example.org", TRUE},
		{"", TRUE},
	};
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GMimeMessage) message = g_mime_message_new(TRUE);
		if (cases[i].value != NULL)
			g_mime_object_set_header(GMIME_OBJECT(message), "Auto-Submitted",
						 cases[i].value, NULL);
		ck_assert_msg(mw_itip_is_auto_reply(message) == cases[i].automatic, "case %u", i);
	}
}
END_TEST

static Suite *
read_suite(void)
{
	Suite *suite = suite_create("itip-read");
	TCase *tc = tcase_create("read");
	tcase_add_test(tc, test_outlook);
	tcase_add_test(tc, test_google_duplicate);
	tcase_add_test(tc, test_thunderbird_qp_series);
	tcase_add_test(tc, test_apple);
	tcase_add_test(tc, test_roundcube_allday);
	tcase_add_test(tc, test_forwarded);
	tcase_add_test(tc, test_cancel_instance);
	tcase_add_test(tc, test_methods_and_dtstart);
	tcase_add_test(tc, test_master_and_instances_grouped);
	tcase_add_test(tc, test_zones);
	tcase_add_test(tc, test_auto_reply);
	suite_add_tcase(suite, tc);
	return suite;
}

int
main(void)
{
	return itip_test_main(read_suite());
}
