/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-reply - REPLY objects and messages, parsed back and checked
 * SYNOPSIS
 *	itip-reply
 * DESCRIPTION
 *	RFC 5546 §3.2.3 (METHOD, ORGANIZER, UID, DTSTAMP in UTC, SEQUENCE,
 *	RECURRENCE-ID, only the replying attendee, no VALARM), §3.2.2.3
 *	(delegation: the delegate too, DELEGATED-TO/FROM as quoted mailto:
 *	cal-addresses), RFC 5545 (a VTIMEZONE for every TZID) and RFC 6047
 *	(multipart/alternative, text/calendar; method=REPLY; charset=UTF-8).
 */
#include <string.h>

#include "itip-test.h"

/* outlook_request - the Outlook sample's iTip */
static MwItip *
outlook_request(void)
{
	g_autoptr(GMimeMessage) message = itip_test_message("outlook-request.eml");
	g_autoptr(GPtrArray) itips = mw_itip_read_message(message, 0);
	ck_assert_uint_eq(itips->len, 1);
	return g_ptr_array_steal_index(itips, 0);
}

/* reparse - the text of @vcal parsed again, as a receiving client would */
static icalcomponent *
reparse(icalcomponent *vcal)
{
	g_autofree char *text = icalcomponent_as_ical_string_r(vcal);
	return itip_test_calendar(text);
}

START_TEST(test_accept_reply)
{
	g_autoptr(MwItip) req = outlook_request();
	icalcomponent *event = mw_itip_get_master(req->vcal);
	icalcomponent_set_sequence(event, 4);
	MwItipReplySpec spec = {.vcal = req->vcal,
				.event = event,
				.attendee = "room101@example.org",
				.partstat = ICAL_PARTSTAT_ACCEPTED};
	g_autoptr(icalcomponent) built = mw_itip_reply_calendar(&spec);
	g_autoptr(icalcomponent) reply = reparse(built);
	icalproperty *method = icalcomponent_get_first_property(reply, ICAL_METHOD_PROPERTY);
	ck_assert_int_eq(icalproperty_get_method(method), ICAL_METHOD_REPLY);
	ck_assert_int_eq(icalcomponent_count_components(reply, ICAL_VEVENT_COMPONENT), 1);
	icalcomponent *comp = mw_itip_first_component(reply);
	ck_assert_str_eq(icalcomponent_get_uid(comp), req->uid);
	g_autofree char *organizer = mw_itip_organizer(comp);
	ck_assert_str_eq(organizer, "alice@example.org");
	ck_assert_int_eq(mw_itip_sequence(comp), 4);
	ck_assert_int_eq(icalcomponent_count_properties(comp, ICAL_ATTENDEE_PROPERTY), 1);
	icalproperty *att = icalcomponent_get_first_property(comp, ICAL_ATTENDEE_PROPERTY);
	ck_assert(mw_itip_address_equal(icalproperty_get_attendee(att), "room101@example.org"));
	icalparameter *ps = icalproperty_get_first_parameter(att, ICAL_PARTSTAT_PARAMETER);
	ck_assert_int_eq(icalparameter_get_partstat(ps), ICAL_PARTSTAT_ACCEPTED);
	/* DTSTAMP now, in UTC */
	icalproperty *stamp = icalcomponent_get_first_property(comp, ICAL_DTSTAMP_PROPERTY);
	ck_assert(icaltime_is_utc(icalproperty_get_dtstamp(stamp)));
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;
	ck_assert(ABS(mw_itip_dtstamp(comp) - now) < 60);
	ck_assert_int_eq(icalcomponent_count_components(comp, ICAL_VALARM_COMPONENT), 0);
	/* a VTIMEZONE for the TZID used */
	icalcomponent *tz = icalcomponent_get_first_component(reply, ICAL_VTIMEZONE_COMPONENT);
	ck_assert_ptr_nonnull(tz);
	ck_assert_str_eq(
		icalproperty_get_tzid(icalcomponent_get_first_property(tz, ICAL_TZID_PROPERTY)),
		"W. Europe Standard Time");
	ck_assert_int_eq(icalcomponent_count_components(reply, ICAL_VTIMEZONE_COMPONENT), 1);
}
END_TEST

START_TEST(test_delegated_reply)
{
	g_autoptr(MwItip) req = outlook_request();
	icalcomponent *event = mw_itip_get_master(req->vcal);
	MwItipReplySpec spec = {.vcal = req->vcal,
				.event = event,
				.attendee = "room101@example.org",
				.partstat = ICAL_PARTSTAT_DELEGATED,
				.delegate = "room102@example.org",
				.delegate_name = "Room 102"};
	g_autoptr(icalcomponent) built = mw_itip_reply_calendar(&spec);
	g_autofree char *text = icalcomponent_as_ical_string_r(built);
	/* quoted cal-addresses, not Wallace's bare addresses */
	g_autofree char *unfolded = NULL;
	{
		GString *s = g_string_new(NULL);
		for (const char *p = text; *p; p++) {
			if (p[0] == '\r' && p[1] == '\n' && p[2] == ' ') {
				p += 2;
				continue;
			}
			g_string_append_c(s, *p);
		}
		unfolded = g_string_free(s, FALSE);
	}
	ck_assert_msg(strstr(unfolded, "DELEGATED-TO=\"mailto:room102@example.org\"") != NULL, "%s",
		      unfolded);
	ck_assert_msg(strstr(unfolded, "DELEGATED-FROM=\"mailto:room101@example.org\"") != NULL,
		      "%s", unfolded);
	g_autoptr(icalcomponent) reply = reparse(built);
	icalcomponent *comp = mw_itip_first_component(reply);
	ck_assert_int_eq(icalcomponent_count_properties(comp, ICAL_ATTENDEE_PROPERTY), 2);
	icalproperty *delegator = mw_itip_find_attendee(comp, "room101@example.org", NULL);
	ck_assert_int_eq(icalparameter_get_partstat(icalproperty_get_first_parameter(
				 delegator, ICAL_PARTSTAT_PARAMETER)),
			 ICAL_PARTSTAT_DELEGATED);
	ck_assert_int_eq(icalparameter_get_role(
				 icalproperty_get_first_parameter(delegator, ICAL_ROLE_PARAMETER)),
			 ICAL_ROLE_NONPARTICIPANT);
	ck_assert_int_eq(icalparameter_get_rsvp(
				 icalproperty_get_first_parameter(delegator, ICAL_RSVP_PARAMETER)),
			 ICAL_RSVP_FALSE);
	icalproperty *delegate = mw_itip_find_attendee(comp, "room102@example.org", NULL);
	ck_assert_ptr_nonnull(delegate);
	ck_assert_str_eq(
		icalparameter_get_cn(icalproperty_get_first_parameter(delegate, ICAL_CN_PARAMETER)),
		"Room 102");
	ck_assert_int_eq(icalparameter_get_cutype(
				 icalproperty_get_first_parameter(delegate, ICAL_CUTYPE_PARAMETER)),
			 ICAL_CUTYPE_RESOURCE);
}
END_TEST

START_TEST(test_instance_reply_and_system_zone)
{
	g_autoptr(icalcomponent) vcal = itip_test_calendar(
		"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nMETHOD:REQUEST\r\n"
		"BEGIN:VEVENT\r\nUID:inst-1\r\nSEQUENCE:0\r\nDTSTAMP:20260701T000000Z\r\n"
		"ORGANIZER:mailto:o@example.org\r\n"
		"RECURRENCE-ID;TZID=Europe/Berlin:20260720T090000\r\n"
		"DTSTART;TZID=Europe/Berlin:20260720T100000\r\nDTEND;TZID=Europe/"
		"Berlin:20260720T110000\r\n"
		"ATTENDEE;RSVP=TRUE:mailto:room@example.org\r\nATTENDEE:mailto:p@example.org\r\n"
		"END:VEVENT\r\nEND:VCALENDAR\r\n");
	icalcomponent *event = mw_itip_first_component(vcal);
	MwItipReplySpec spec = {.vcal = vcal,
				.event = event,
				.attendee = "room@example.org",
				.partstat = ICAL_PARTSTAT_DECLINED,
				.comment = "busy"};
	g_autoptr(icalcomponent) built = mw_itip_reply_calendar(&spec);
	g_autoptr(icalcomponent) reply = reparse(built);
	icalcomponent *comp = mw_itip_first_component(reply);
	ck_assert_ptr_nonnull(icalcomponent_get_first_property(comp, ICAL_RECURRENCEID_PROPERTY));
	ck_assert_int_eq(icalcomponent_count_properties(comp, ICAL_ATTENDEE_PROPERTY), 1);
	ck_assert_str_eq(icalcomponent_get_comment(comp), "busy");
	/* no VTIMEZONE in the request: the system's Europe/Berlin under the same TZID */
	icalcomponent *tz = icalcomponent_get_first_component(reply, ICAL_VTIMEZONE_COMPONENT);
	ck_assert_ptr_nonnull(tz);
	ck_assert_str_eq(
		icalproperty_get_tzid(icalcomponent_get_first_property(tz, ICAL_TZID_PROPERTY)),
		"Europe/Berlin");
	/* and it resolves: 10:00 CEST = 08:00 UTC */
	MwItipTime t;
	itip_test_time(&t, NULL);
	gint64 start, end;
	ck_assert(mw_itip_component_span(reply, comp, &t, &start, &end));
	ck_assert_int_eq(start, itip_test_utc("20260720T080000Z"));
}
END_TEST

START_TEST(test_message)
{
	g_autoptr(MwItip) req = outlook_request();
	MwItipReplySpec spec = {.vcal = req->vcal,
				.event = mw_itip_get_master(req->vcal),
				.attendee = "room101@example.org",
				.partstat = ICAL_PARTSTAT_ACCEPTED};
	g_autoptr(icalcomponent) reply = mw_itip_reply_calendar(&spec);
	MwItipMessageSpec ms = {
		.from_name = "Room 101",
		.from = "room101@example.org",
		.to = "alice@example.org",
		.subject = "Reservation Request for Quarterly planning was Accepted",
		.text = "Your reservation was accepted. Grüße",
		.calendar = reply,
		.in_reply_to = "AM0PR01MB1234ABCD@AM0PR01MB1234.eurprd01.prod.exchangelabs.com",
		.auto_submitted = "auto-replied",
		.domain = "example.org"};
	g_autoptr(GMimeMessage) message = mw_itip_message_new(&ms);
	/* serialize and parse again */
	g_autofree char *text = g_mime_object_to_string(GMIME_OBJECT(message), NULL);
	g_autoptr(GMimeStream) stream = g_mime_stream_mem_new_with_buffer(text, strlen(text));
	g_autoptr(GMimeParser) parser = g_mime_parser_new_with_stream(stream);
	g_autoptr(GMimeMessage) back = g_mime_parser_construct_message(parser, NULL);
	ck_assert_ptr_nonnull(back);
	ck_assert_str_eq(g_mime_object_get_header(GMIME_OBJECT(back), "Auto-Submitted"),
			 "auto-replied");
	ck_assert_str_eq(g_mime_object_get_header(GMIME_OBJECT(back), "In-Reply-To"),
			 "<AM0PR01MB1234ABCD@AM0PR01MB1234.eurprd01.prod.exchangelabs.com>");
	GMimeObject *top = g_mime_message_get_mime_part(back);
	ck_assert(GMIME_IS_MULTIPART(top));
	ck_assert(g_mime_content_type_is_type(g_mime_object_get_content_type(top), "multipart",
					      "alternative"));
	GMimeObject *plain = g_mime_multipart_get_part(GMIME_MULTIPART(top), 0);
	GMimeObject *cal = g_mime_multipart_get_part(GMIME_MULTIPART(top), 1);
	ck_assert(g_mime_content_type_is_type(g_mime_object_get_content_type(plain), "text",
					      "plain"));
	ck_assert(g_mime_content_type_is_type(g_mime_object_get_content_type(cal), "text",
					      "calendar"));
	ck_assert_str_eq(g_mime_object_get_content_type_parameter(cal, "method"), "REPLY");
	ck_assert_str_eq(g_mime_object_get_content_type_parameter(cal, "charset"), "UTF-8");
	ck_assert_ptr_null(g_mime_object_get_header(cal, "Content-Disposition"));
	/* and the reader finds the REPLY in it */
	g_autoptr(GPtrArray) itips = mw_itip_read_message(back, 0);
	ck_assert_uint_eq(itips->len, 1);
	ck_assert_str_eq(((MwItip *) g_ptr_array_index(itips, 0))->method, "REPLY");
	InternetAddressList *from = g_mime_message_get_from(back);
	ck_assert_str_eq(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(
				 internet_address_list_get_address(from, 0))),
			 "room101@example.org");
}
END_TEST

static Suite *
reply_suite(void)
{
	Suite *suite = suite_create("itip-reply");
	TCase *tc = tcase_create("reply");
	tcase_add_test(tc, test_accept_reply);
	tcase_add_test(tc, test_delegated_reply);
	tcase_add_test(tc, test_instance_reply_and_system_zone);
	tcase_add_test(tc, test_message);
	suite_add_tcase(suite, tc);
	return suite;
}

int
main(void)
{
	return itip_test_main(reply_suite());
}
