/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	itip-test - helpers of the src/itip test suites
 * SYNOPSIS
 *	itip_test_message(), itip_test_calendar(), itip_test_time(),
 *	itip_test_utc(), itip_test_main()
 */
#include <fcntl.h>
#include <stdlib.h>

#include "itip-test.h"

GMimeMessage *
itip_test_message(const char *name)
{
	g_autofree char *path = g_build_filename(MW_TEST_SRCDIR, "tests", "data", name, NULL);
	g_autoptr(GError) error = NULL;
	GMimeStream *stream = g_mime_stream_fs_open(path, O_RDONLY, 0, &error);
	ck_assert_msg(stream != NULL, "%s: %s", path, error ? error->message : "?");
	g_autoptr(GMimeParser) parser = g_mime_parser_new_with_stream(stream);
	g_object_unref(stream);
	GMimeMessage *message = g_mime_parser_construct_message(parser, NULL);
	ck_assert_msg(message != NULL, "%s is no message", path);
	return message;
}

icalcomponent *
itip_test_calendar(const char *text)
{
	icalcomponent *vcal = icalparser_parse_string(text);
	ck_assert_msg(vcal != NULL && icalcomponent_isa(vcal) == ICAL_VCALENDAR_COMPONENT,
		      "not a calendar:\n%s", text);
	return vcal;
}

void
itip_test_time(MwItipTime *t, const char *zone)
{
	mw_itip_time_init(t, zone != NULL ? mw_itip_zone_lookup(zone) : NULL);
	t->now = itip_test_utc("20260701T000000Z");
	t->horizon = t->now + (gint64) MW_ITIP_HORIZON_DAYS * 86400;
}

gint64
itip_test_utc(const char *text)
{
	struct icaltimetype tt = icaltime_from_string(text);
	return (gint64) icaltime_as_timet_with_zone(tt, icaltimezone_get_utc_timezone());
}

int
itip_test_main(Suite *suite)
{
	g_mime_init();
	SRunner *runner = srunner_create(suite);
	srunner_run_all(runner, CK_ENV);
	int failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	g_mime_shutdown();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
