/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-conflict - conflict detection between events
 * SYNOPSIS
 *	itip-conflict
 * DESCRIPTION
 *	Touching intervals, equal starts, the same UID, transparent and
 *	cancelled events, time zone offsets, all-day events in the configured
 *	zone, floating times, series against singles and against series
 *	(where Wallace's "same pattern" shortcut missed clashes), moved and
 *	cancelled instances, EXDATE, RDATE and infinite rules.
 */
#include <string.h>

#include "itip-test.h"

/* event - an MwItipEvent from VEVENT lines (UID first), wrapped in a VCALENDAR */
static MwItipEvent *
event(const MwItipTime *t, gboolean force_opaque, const char *vevents)
{
	g_autofree char *text = g_strdup_printf("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
						"PRODID:-//test//EN\r\n%sEND:VCALENDAR\r\n",
						vevents);
	g_autoptr(icalcomponent) vcal = itip_test_calendar(text);
	MwItipEvent *ev = mw_itip_event_new(vcal, t, force_opaque);
	ck_assert_ptr_nonnull(ev);
	return ev;
}

/* single - one VEVENT with UID, DTSTART and DTEND lines given whole */
static MwItipEvent *
single(const MwItipTime *t, const char *uid, const char *dtstart, const char *dtend,
       const char *extra)
{
	g_autofree char *text =
		g_strdup_printf("BEGIN:VEVENT\r\nUID:%s\r\n%s\r\n%s\r\n%sEND:VEVENT\r\n", uid,
				dtstart, dtend, extra != NULL ? extra : "");
	return event(t, FALSE, text);
}

/* clash - whether @a (as invitation) and @b conflict, checked both ways */
static gboolean
clash(MwItipEvent *a, MwItipEvent *b, const MwItipTime *t)
{
	gboolean ab = mw_itip_conflict(a, b, t, NULL);
	gboolean ba = mw_itip_conflict(b, a, t, NULL);
	ck_assert_msg(ab == ba, "conflict is not symmetric");
	return ab;
}

START_TEST(test_touching_and_overlap)
{
	MwItipTime t;
	itip_test_time(&t, NULL);
	g_autoptr(MwItipEvent) a =
		single(&t, "a", "DTSTART:20260715T100000Z", "DTEND:20260715T120000Z", NULL);
	g_autoptr(MwItipEvent) b =
		single(&t, "b", "DTSTART:20260715T120000Z", "DTEND:20260715T130000Z", NULL);
	g_autoptr(MwItipEvent) c =
		single(&t, "c", "DTSTART:20260715T115900Z", "DTEND:20260715T130000Z", NULL);
	g_autoptr(MwItipEvent) d =
		single(&t, "d", "DTSTART:20260715T090000Z", "DTEND:20260715T100000Z", NULL);
	g_autoptr(MwItipEvent) inner =
		single(&t, "e", "DTSTART:20260715T103000Z", "DTEND:20260715T104500Z", NULL);
	ck_assert(!clash(a, b, &t));
	ck_assert(!clash(a, d, &t));
	ck_assert(clash(a, c, &t));
	ck_assert(clash(a, inner, &t));
}
END_TEST

START_TEST(test_equal_starts_zero_length)
{
	MwItipTime t;
	itip_test_time(&t, NULL);
	g_autoptr(MwItipEvent) a =
		single(&t, "a", "DTSTART:20260715T100000Z", "DTEND:20260715T100000Z", NULL);
	g_autoptr(MwItipEvent) b =
		single(&t, "b", "DTSTART:20260715T100000Z", "DTEND:20260715T110000Z", NULL);
	g_autoptr(MwItipEvent) c =
		single(&t, "c", "DTSTART:20260715T100000Z", "DTEND:20260715T100000Z", NULL);
	ck_assert(clash(a, b, &t));
	ck_assert(clash(a, c, &t));
}
END_TEST

START_TEST(test_same_uid)
{
	MwItipTime t;
	itip_test_time(&t, NULL);
	g_autoptr(MwItipEvent) a =
		single(&t, "same", "DTSTART:20260715T100000Z", "DTEND:20260715T120000Z", NULL);
	g_autoptr(MwItipEvent) b =
		single(&t, "same", "DTSTART:20260715T110000Z", "DTEND:20260715T130000Z", NULL);
	ck_assert(!clash(a, b, &t));
}
END_TEST

START_TEST(test_transparent_cancelled)
{
	MwItipTime t;
	itip_test_time(&t, NULL);
	g_autoptr(MwItipEvent) a =
		single(&t, "a", "DTSTART:20260715T100000Z", "DTEND:20260715T120000Z", NULL);
	g_autoptr(MwItipEvent) tr = single(&t, "t", "DTSTART:20260715T100000Z",
					   "DTEND:20260715T120000Z", "TRANSP:TRANSPARENT\r\n");
	g_autoptr(MwItipEvent) cn = single(&t, "c", "DTSTART:20260715T100000Z",
					   "DTEND:20260715T120000Z", "STATUS:CANCELLED\r\n");
	ck_assert(!clash(a, tr, &t));
	ck_assert(!clash(a, cn, &t));
	/* a transparent invitation that a resource books as OPAQUE is checked as opaque */
	g_autoptr(MwItipEvent) forced =
		event(&t, TRUE,
		      "BEGIN:VEVENT\r\nUID:f\r\nDTSTART:20260715T110000Z\r\n"
		      "DTEND:20260715T113000Z\r\nTRANSP:TRANSPARENT\r\nEND:VEVENT\r\n");
	ck_assert(mw_itip_conflict(forced, a, &t, NULL));
	/* ... but a cancelled one blocks nothing even then */
	g_autoptr(MwItipEvent) forced_cancel =
		event(&t, TRUE,
		      "BEGIN:VEVENT\r\nUID:g\r\nDTSTART:20260715T110000Z\r\n"
		      "DTEND:20260715T113000Z\r\nSTATUS:CANCELLED\r\nEND:VEVENT\r\n");
	ck_assert(!mw_itip_conflict(forced_cancel, a, &t, NULL));
}
END_TEST

START_TEST(test_utc_series_in_zoned_calendar)
{
	/* a weekly series written in UTC stays in UTC whatever the calendar's zone:
	 * 08:30Z weekly meets a one-off 08:00-09:00Z on its first day */
	MwItipTime t;
	itip_test_time(&t, "Europe/Berlin");
	g_autoptr(MwItipEvent) series =
		single(&t, "s", "DTSTART:20260720T083000Z", "DTEND:20260720T093000Z",
		       "RRULE:FREQ=WEEKLY;COUNT=3\r\n");
	g_autoptr(MwItipEvent) one =
		single(&t, "o", "DTSTART:20260720T080000Z", "DTEND:20260720T090000Z", NULL);
	g_autoptr(MwItipEvent) later =
		single(&t, "l", "DTSTART:20260727T093000Z", "DTEND:20260727T100000Z", NULL);
	ck_assert(clash(series, one, &t));
	/* the second occurrence is 08:30-09:30Z: touching at 09:30 is no conflict */
	ck_assert(!clash(series, later, &t));
}
END_TEST

START_TEST(test_time_zones)
{
	MwItipTime t;
	itip_test_time(&t, NULL);
	/* 10:00 in Berlin (CEST) is 08:00 UTC */
	g_autoptr(MwItipEvent) berlin =
		single(&t, "b", "DTSTART;TZID=Europe/Berlin:20260715T100000",
		       "DTEND;TZID=Europe/Berlin:20260715T110000", NULL);
	g_autoptr(MwItipEvent) utc =
		single(&t, "u", "DTSTART:20260715T083000Z", "DTEND:20260715T090000Z", NULL);
	g_autoptr(MwItipEvent) utc_after =
		single(&t, "v", "DTSTART:20260715T090000Z", "DTEND:20260715T100000Z", NULL);
	g_autoptr(MwItipEvent) ny = single(&t, "n", "DTSTART;TZID=America/New_York:20260715T100000",
					   "DTEND;TZID=America/New_York:20260715T110000", NULL);
	g_autoptr(MwItipEvent) windows =
		single(&t, "w", "DTSTART;TZID=W. Europe Standard Time:20260715T103000",
		       "DTEND;TZID=W. Europe Standard Time:20260715T113000", NULL);
	ck_assert(clash(berlin, utc, &t));
	ck_assert(!clash(berlin, utc_after, &t));
	ck_assert(!clash(berlin, ny, &t));
	ck_assert(clash(berlin, windows, &t));
}
END_TEST

START_TEST(test_all_day_in_zone)
{
	MwItipTime t;
	itip_test_time(&t, "Europe/Berlin");
	g_autoptr(MwItipEvent) day =
		single(&t, "d", "DTSTART;VALUE=DATE:20260720", "DTEND;VALUE=DATE:20260721", NULL);
	/* 23:30 UTC on the 19th is 01:30 on the 20th in Berlin */
	g_autoptr(MwItipEvent) early =
		single(&t, "e", "DTSTART:20260719T233000Z", "DTEND:20260720T000000Z", NULL);
	/* 22:30 UTC on the 20th is 00:30 on the 21st in Berlin */
	g_autoptr(MwItipEvent) late =
		single(&t, "l", "DTSTART:20260720T223000Z", "DTEND:20260720T230000Z", NULL);
	g_autoptr(MwItipEvent) before =
		single(&t, "b", "DTSTART:20260719T210000Z", "DTEND:20260719T220000Z", NULL);
	/* floating times are local to the zone too */
	g_autoptr(MwItipEvent) floating =
		single(&t, "f", "DTSTART:20260720T003000", "DTEND:20260720T010000", NULL);
	ck_assert(clash(day, early, &t));
	ck_assert(!clash(day, late, &t));
	ck_assert(!clash(day, before, &t));
	ck_assert(clash(day, floating, &t));
	/* a date without DTEND lasts one day */
	g_autoptr(MwItipEvent) noend =
		event(&t, FALSE,
		      "BEGIN:VEVENT\r\nUID:x\r\nDTSTART;VALUE=DATE:20260721\r\nEND:VEVENT\r\n");
	ck_assert(clash(noend, late, &t));
	ck_assert(!clash(noend, day, &t));
}
END_TEST

START_TEST(test_series_against_single)
{
	MwItipTime t;
	itip_test_time(&t, NULL);
	g_autoptr(MwItipEvent) weekly =
		event(&t, FALSE,
		      "BEGIN:VEVENT\r\nUID:w\r\nDTSTART;TZID=Europe/Berlin:20260720T090000\r\n"
		      "DTEND;TZID=Europe/"
		      "Berlin:20260720T100000\r\nRRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=20\r\n"
		      "EXDATE;TZID=Europe/Berlin:20260921T090000\r\nEND:VEVENT\r\n");
	/* a Monday two months on, across no DST change: 09:30 CEST */
	g_autoptr(MwItipEvent) monday =
		single(&t, "m", "DTSTART;TZID=Europe/Berlin:20260914T093000",
		       "DTEND;TZID=Europe/Berlin:20260914T110000", NULL);
	g_autoptr(MwItipEvent) tuesday =
		single(&t, "t", "DTSTART;TZID=Europe/Berlin:20260915T093000",
		       "DTEND;TZID=Europe/Berlin:20260915T110000", NULL);
	g_autoptr(MwItipEvent) exdate =
		single(&t, "x", "DTSTART;TZID=Europe/Berlin:20260921T093000",
		       "DTEND;TZID=Europe/Berlin:20260921T110000", NULL);
	/* after the DST change the series stays at 09:00 local time */
	g_autoptr(MwItipEvent) winter =
		single(&t, "y", "DTSTART:20261102T080000Z", "DTEND:20261102T083000Z", NULL);
	g_autoptr(MwItipEvent) winter_utc9 =
		single(&t, "z", "DTSTART:20261102T070000Z", "DTEND:20261102T080000Z", NULL);
	/* after COUNT=20 ends (last: 30 Nov) */
	g_autoptr(MwItipEvent) after = single(&t, "a", "DTSTART;TZID=Europe/Berlin:20261214T090000",
					      "DTEND;TZID=Europe/Berlin:20261214T100000", NULL);
	ck_assert(clash(weekly, monday, &t));
	ck_assert(!clash(weekly, tuesday, &t));
	ck_assert(!clash(weekly, exdate, &t));
	ck_assert(clash(weekly, winter, &t));
	ck_assert(!clash(weekly, winter_utc9, &t));
	ck_assert(!clash(weekly, after, &t));
}
END_TEST

START_TEST(test_series_against_series)
{
	MwItipTime t;
	itip_test_time(&t, NULL);
	g_autoptr(MwItipEvent) daily = event(
		&t, FALSE,
		"BEGIN:VEVENT\r\nUID:d\r\nDTSTART:20260701T100000Z\r\nDTEND:20260701T110000Z\r\n"
		"RRULE:FREQ=DAILY;COUNT=30\r\nEND:VEVENT\r\n");
	/* first occurrence (15 Jun) is before the daily one starts: Wallace stopped there */
	g_autoptr(MwItipEvent) monthly = event(
		&t, FALSE,
		"BEGIN:VEVENT\r\nUID:m\r\nDTSTART:20260615T103000Z\r\nDTEND:20260615T113000Z\r\n"
		"RRULE:FREQ=MONTHLY\r\nEND:VEVENT\r\n");
	g_autoptr(MwItipEvent) evening = event(
		&t, FALSE,
		"BEGIN:VEVENT\r\nUID:e\r\nDTSTART:20260601T180000Z\r\nDTEND:20260601T190000Z\r\n"
		"RRULE:FREQ=DAILY\r\nEND:VEVENT\r\n");
	ck_assert(clash(daily, monthly, &t));
	ck_assert(!clash(daily, evening, &t));
	MwSpan where;
	ck_assert(mw_itip_conflict(monthly, daily, &t, &where));
	ck_assert_int_eq(where.start, itip_test_utc("20260715T103000Z"));
}
END_TEST

START_TEST(test_moved_and_cancelled_instances)
{
	MwItipTime t;
	itip_test_time(&t, NULL);
	g_autoptr(MwItipEvent) series = event(
		&t, FALSE,
		"BEGIN:VEVENT\r\nUID:s\r\nDTSTART:20260701T100000Z\r\nDTEND:20260701T110000Z\r\n"
		"RRULE:FREQ=DAILY;COUNT=10\r\nEND:VEVENT\r\n"
		"BEGIN:VEVENT\r\nUID:s\r\nRECURRENCE-ID:20260703T100000Z\r\n"
		"DTSTART:20260703T150000Z\r\nDTEND:20260703T160000Z\r\nEND:VEVENT\r\n"
		"BEGIN:VEVENT\r\nUID:s\r\nRECURRENCE-ID:20260704T100000Z\r\n"
		"DTSTART:20260704T100000Z\r\nDTEND:20260704T110000Z\r\nSTATUS:CANCELLED\r\nEND:"
		"VEVENT\r\n");
	g_autoptr(MwItipEvent) old_slot =
		single(&t, "a", "DTSTART:20260703T100000Z", "DTEND:20260703T110000Z", NULL);
	g_autoptr(MwItipEvent) new_slot =
		single(&t, "b", "DTSTART:20260703T153000Z", "DTEND:20260703T163000Z", NULL);
	g_autoptr(MwItipEvent) cancelled =
		single(&t, "c", "DTSTART:20260704T100000Z", "DTEND:20260704T110000Z", NULL);
	g_autoptr(MwItipEvent) normal =
		single(&t, "d", "DTSTART:20260705T100000Z", "DTEND:20260705T110000Z", NULL);
	ck_assert(!clash(series, old_slot, &t));
	ck_assert(clash(series, new_slot, &t));
	ck_assert(!clash(series, cancelled, &t));
	ck_assert(clash(series, normal, &t));
}
END_TEST

START_TEST(test_infinite_and_rdate)
{
	MwItipTime t;
	itip_test_time(&t, NULL);
	g_autoptr(MwItipEvent) forever = event(
		&t, FALSE,
		"BEGIN:VEVENT\r\nUID:f\r\nDTSTART:20260706T100000Z\r\nDTEND:20260706T110000Z\r\n"
		"RRULE:FREQ=WEEKLY\r\nRDATE:20260709T100000Z\r\nEND:VEVENT\r\n");
	/* a Monday three years later */
	g_autoptr(MwItipEvent) later =
		single(&t, "l", "DTSTART:20290702T103000Z", "DTEND:20290702T113000Z", NULL);
	/* past the horizon (five years): not expanded */
	g_autoptr(MwItipEvent) beyond =
		single(&t, "b", "DTSTART:20360707T103000Z", "DTEND:20360707T113000Z", NULL);
	g_autoptr(MwItipEvent) rdate =
		single(&t, "r", "DTSTART:20260709T103000Z", "DTEND:20260709T113000Z", NULL);
	g_autoptr(MwItipEvent) thursday =
		single(&t, "s", "DTSTART:20260716T103000Z", "DTEND:20260716T113000Z", NULL);
	ck_assert(clash(forever, later, &t));
	ck_assert(!clash(forever, beyond, &t));
	ck_assert(clash(forever, rdate, &t));
	ck_assert(!clash(forever, thursday, &t));
	gint64 first, last;
	mw_itip_event_bounds(forever, &first, &last);
	ck_assert_int_eq(last, G_MAXINT64);
}
END_TEST

START_TEST(test_all_day_series)
{
	MwItipTime t;
	itip_test_time(&t, "Europe/Berlin");
	g_autoptr(MwItipEvent) days = event(&t, FALSE,
					    "BEGIN:VEVENT\r\nUID:ad\r\nDTSTART;VALUE=DATE:"
					    "20260701\r\nDTEND;VALUE=DATE:20260702\r\n"
					    "RRULE:FREQ=WEEKLY;COUNT=4\r\nEND:VEVENT\r\n");
	/* 8 Jul is the second occurrence: 7 Jul 22:00 UTC .. 8 Jul 22:00 UTC */
	g_autoptr(MwItipEvent) in =
		single(&t, "i", "DTSTART:20260707T230000Z", "DTEND:20260707T233000Z", NULL);
	g_autoptr(MwItipEvent) out =
		single(&t, "o", "DTSTART:20260708T220000Z", "DTEND:20260708T230000Z", NULL);
	ck_assert(clash(days, in, &t));
	ck_assert(!clash(days, out, &t));
}
END_TEST

static Suite *
conflict_suite(void)
{
	Suite *suite = suite_create("itip-conflict");
	TCase *tc = tcase_create("conflict");
	tcase_add_test(tc, test_touching_and_overlap);
	tcase_add_test(tc, test_equal_starts_zero_length);
	tcase_add_test(tc, test_same_uid);
	tcase_add_test(tc, test_transparent_cancelled);
	tcase_add_test(tc, test_time_zones);
	tcase_add_test(tc, test_utc_series_in_zoned_calendar);
	tcase_add_test(tc, test_all_day_in_zone);
	tcase_add_test(tc, test_series_against_single);
	tcase_add_test(tc, test_series_against_series);
	tcase_add_test(tc, test_moved_and_cancelled_instances);
	tcase_add_test(tc, test_infinite_and_rdate);
	tcase_add_test(tc, test_all_day_series);
	suite_add_tcase(suite, tc);
	return suite;
}

int
main(void)
{
	return itip_test_main(conflict_suite());
}
