/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-bench-resources - time per booking decision on a big resource calendar
 * SYNOPSIS
 *	mw-bench-resources DIR [EVENTS [SERIES [DECISIONS]]]
 * DESCRIPTION
 *	Fills DIR (a dir: calendar store) with one resource calendar of
 *	EVENTS objects (default 10000) of which SERIES (default 500) are
 *	recurring (daily, weekly and monthly; COUNT, UNTIL and infinite; with
 *	EXDATEs and moved instances), spread over two years of office hours
 *	in Europe/Berlin. Then it times booking decisions exactly as the
 *	module makes them: lock the calendar, get the busy time (cached per
 *	worker), check the invitation against every object, unlock. Figures:
 *	the first decision of a worker (every object parsed), a decision with
 *	a warm cache (single events and weekly series as invitations), and a
 *	decision right after another worker wrote a booking (the folder is
 *	listed again, one object parsed). Prints "key value" lines.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mw-calstore.h"

#define CALENDAR "room@example.org"

/* event_text - one stored object */
static char *
event_text(guint i, gboolean series, GRand *rand)
{
	/* office hours on a random day of two years from 2026-01-05 */
	guint day = g_rand_int_range(rand, 0, 730);
	guint hour = g_rand_int_range(rand, 8, 18);
	guint minutes = 30 * g_rand_int_range(rand, 1, 5);
	g_autoptr(GDateTime) base = g_date_time_new_utc(2026, 1, 5, 0, 0, 0);
	g_autoptr(GDateTime) day_dt = g_date_time_add_days(base, (gint) day);
	g_autoptr(GDateTime) start = g_date_time_add_hours(day_dt, hour);
	g_autoptr(GDateTime) end = g_date_time_add_minutes(start, (gint) minutes);
	g_autofree char *s = g_date_time_format(start, "%Y%m%dT%H%M%S");
	g_autofree char *e = g_date_time_format(end, "%Y%m%dT%H%M%S");
	g_autoptr(GString) extra = g_string_new(NULL);
	g_autoptr(GString) overrides = g_string_new(NULL);
	if (series) {
		static const char *const rules[] = {
			"FREQ=WEEKLY;COUNT=52",
			"FREQ=WEEKLY",
			"FREQ=DAILY;COUNT=20",
			"FREQ=MONTHLY;UNTIL=20281231T000000Z",
			"FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH",
		};
		g_string_append_printf(extra, "RRULE:%s\r\n", rules[i % G_N_ELEMENTS(rules)]);
		g_autoptr(GDateTime) ex = g_date_time_add_weeks(start, 3);
		g_autofree char *exs = g_date_time_format(ex, "%Y%m%dT%H%M%S");
		g_string_append_printf(extra, "EXDATE;TZID=Europe/Berlin:%s\r\n", exs);
		if (i % 3 == 0) {
			g_autoptr(GDateTime) rid = g_date_time_add_weeks(start, 1);
			g_autoptr(GDateTime) moved = g_date_time_add_hours(rid, 2);
			g_autoptr(GDateTime) moved_end =
				g_date_time_add_minutes(moved, (gint) minutes);
			g_autofree char *r = g_date_time_format(rid, "%Y%m%dT%H%M%S");
			g_autofree char *ms = g_date_time_format(moved, "%Y%m%dT%H%M%S");
			g_autofree char *me = g_date_time_format(moved_end, "%Y%m%dT%H%M%S");
			g_string_append_printf(
				overrides,
				"BEGIN:VEVENT\r\nUID:bench-%u\r\nRECURRENCE-ID;TZID=Europe/"
				"Berlin:%s\r\n"
				"DTSTAMP:20260101T000000Z\r\nDTSTART;TZID=Europe/Berlin:%s\r\n"
				"DTEND;TZID=Europe/Berlin:%s\r\nSUMMARY:moved\r\nEND:VEVENT\r\n",
				i, r, ms, me);
		}
	}
	return g_strdup_printf(
		"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\n"
		"BEGIN:VEVENT\r\nUID:bench-%u\r\nDTSTAMP:20260101T000000Z\r\nSEQUENCE:0\r\n"
		"DTSTART;TZID=Europe/Berlin:%s\r\nDTEND;TZID=Europe/Berlin:%s\r\n"
		"SUMMARY:Booking %u\r\nORGANIZER;CN=Org:mailto:org%u@example.org\r\n"
		"ATTENDEE;CUTYPE=ROOM;PARTSTAT=ACCEPTED:mailto:" CALENDAR "\r\n"
		"TRANSP:OPAQUE\r\n%sEND:VEVENT\r\n%sEND:VCALENDAR\r\n",
		i, s, e, i, i, extra->str, overrides->str);
}

/* invitation - a VCALENDAR to decide on: a single hour, or a weekly series of 10 */
static icalcomponent *
invitation(guint n, gboolean series, GRand *rand)
{
	guint day = g_rand_int_range(rand, 0, 730);
	guint hour = g_rand_int_range(rand, 7, 19);
	g_autoptr(GDateTime) base = g_date_time_new_utc(2026, 1, 5, 0, 0, 0);
	g_autoptr(GDateTime) d = g_date_time_add_days(base, (gint) day);
	g_autoptr(GDateTime) start = g_date_time_add_hours(d, hour);
	g_autoptr(GDateTime) end = g_date_time_add_hours(start, 1);
	g_autofree char *s = g_date_time_format(start, "%Y%m%dT%H%M%S");
	g_autofree char *e = g_date_time_format(end, "%Y%m%dT%H%M%S");
	g_autofree char *text = g_strdup_printf(
		"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nMETHOD:REQUEST\r\n"
		"BEGIN:VEVENT\r\nUID:inv-%u\r\nDTSTAMP:20260101T000000Z\r\n"
		"DTSTART;TZID=Europe/Berlin:%s\r\nDTEND;TZID=Europe/Berlin:%s\r\n%s"
		"END:VEVENT\r\nEND:VCALENDAR\r\n",
		n, s, e, series ? "RRULE:FREQ=WEEKLY;COUNT=10\r\n" : "");
	return icalparser_parse_string(text);
}

/* decide - one booking decision; returns the seconds it took and whether it was free */
static double
decide(MwCalStore *store, icalcomponent *inv, const MwItipTime *t, gboolean *free_out)
{
	gint64 t0 = g_get_monotonic_time();
	g_autoptr(GError) error = NULL;
	g_autoptr(MwCalLock) lock = mw_calstore_lock(store, CALENDAR, 10000, &error);
	if (lock == NULL) {
		fprintf(stderr, "lock: %s\n", error->message);
		exit(2);
	}
	GPtrArray *busy = mw_calstore_busy(lock, t, &error);
	if (busy == NULL) {
		fprintf(stderr, "busy: %s\n", error->message);
		exit(2);
	}
	g_autoptr(MwItipEvent) ev = mw_itip_event_new(inv, t, TRUE);
	gboolean is_free = TRUE;
	for (guint i = 0; i < busy->len && is_free; i++)
		is_free = !mw_itip_conflict(ev, g_ptr_array_index(busy, i), t, NULL);
	*free_out = is_free;
	return (double) (g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *) a, y = *(const double *) b;
	return x < y ? -1 : x > y;
}

/* report - median and 95th percentile in ms */
static void
report(const char *key, double *v, guint n)
{
	qsort(v, n, sizeof(double), cmp_double);
	printf("%s_median_ms %.3f\n", key, v[n / 2] * 1000);
	printf("%s_p95_ms %.3f\n", key, v[(n * 95) / 100] * 1000);
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR [EVENTS [SERIES [DECISIONS]]]\n", argv[0]);
		return 1;
	}
	guint events = argc > 2 ? (guint) atoi(argv[2]) : 10000;
	guint series = argc > 3 ? (guint) atoi(argv[3]) : 500;
	guint decisions = argc > 4 ? (guint) atoi(argv[4]) : 200;
	g_autofree char *spec = g_strconcat("dir:", argv[1], NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(MwCalStore) store = mw_calstore_open(spec, &error);
	if (store == NULL) {
		fprintf(stderr, "%s\n", error->message);
		return 1;
	}
	g_autoptr(GRand) rand = g_rand_new_with_seed(20260715);

	/* fill the calendar directly (the store's fsync per object would only time the disk) */
	g_autofree char *folder_name = mw_calstore_name(CALENDAR);
	g_autofree char *folder = g_build_filename(argv[1], folder_name, NULL);
	g_mkdir_with_parents(folder, 0750);
	gint64 f0 = g_get_monotonic_time();
	for (guint i = 0; i < events; i++) {
		g_autofree char *text = event_text(i, i < series, rand);
		g_autofree char *uid = g_strdup_printf("bench-%u", i);
		g_autofree char *name = mw_calstore_name(uid);
		g_autofree char *file = g_strconcat(folder, "/", name, ".ics", NULL);
		if (!g_file_set_contents(file, text, -1, &error)) {
			fprintf(stderr, "%s\n", error->message);
			return 1;
		}
	}
	printf("events %u\nseries %u\n", events, series);
	printf("fill_s %.2f\n", (double) (g_get_monotonic_time() - f0) / G_USEC_PER_SEC);

	MwItipTime t;
	mw_itip_time_init(&t, mw_itip_zone_lookup("Europe/Berlin"));
	gboolean is_free;
	g_autoptr(icalcomponent) first = invitation(0, FALSE, rand);
	printf("first_decision_ms %.1f\n", decide(store, first, &t, &is_free) * 1000);

	g_autofree double *single = g_new(double, decisions);
	g_autofree double *weekly = g_new(double, decisions);
	guint n_free = 0;
	for (guint i = 0; i < decisions; i++) {
		g_autoptr(icalcomponent) inv = invitation(i + 1, FALSE, rand);
		single[i] = decide(store, inv, &t, &is_free);
		n_free += is_free;
	}
	for (guint i = 0; i < decisions; i++) {
		g_autoptr(icalcomponent) inv = invitation(1000 + i, TRUE, rand);
		weekly[i] = decide(store, inv, &t, &is_free);
	}
	report("decision_single", single, decisions);
	report("decision_weekly10", weekly, decisions);
	printf("single_free_share %.2f\n", (double) n_free / decisions);

	/* another worker books: this one lists the folder again and parses one object */
	guint rounds = MIN(decisions, 20u);
	g_autofree double *after = g_new(double, rounds);
	for (guint i = 0; i < rounds; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			g_autoptr(MwCalStore) other = mw_calstore_open(spec, NULL);
			g_autoptr(MwCalLock) lock = mw_calstore_lock(other, CALENDAR, 10000, NULL);
			g_autofree char *text = event_text(events + i, FALSE, rand);
			g_autoptr(icalcomponent) vcal = icalparser_parse_string(text);
			g_autofree char *uid = g_strdup_printf("bench-%u", events + i);
			_exit(mw_calstore_put(lock, uid, vcal, NULL) ? 0 : 1);
		}
		int status;
		waitpid(pid, &status, 0);
		g_autoptr(icalcomponent) inv = invitation(5000 + i, FALSE, rand);
		after[i] = decide(store, inv, &t, &is_free);
	}
	report("decision_after_other_write", after, rounds);
	return 0;
}
