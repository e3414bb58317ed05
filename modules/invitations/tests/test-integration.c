/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-integration - the invitations module through SMTP, daemon and sink
 * SYNOPSIS
 *	mod-invitations-integration
 * DESCRIPTION
 *	mailwarden-test runs with modules = invitations, a directory file and
 *	a calendar folder in the test's private directory; replies and
 *	notifications are read back from the sink, stored copies from the
 *	calendar store. Covered: ACCEPT / REJECT with IF_NO_CONFLICT /
 *	IF_CONFLICT (replies with the user's name, the declined event stored);
 *	two local recipients with different policies in one message (each
 *	handled on its own, the MANUAL one's copy byte-identical);
 *	SAVE_TO_FOLDER and SAVE_AND_FORWARD; a same-SEQUENCE update applied
 *	silently with a notification, a re-scheduling answered again, a stale
 *	request not applied; spoofed organizers and <>; REPLY into the
 *	organizer's copy (series and instance, an older SEQUENCE ignored,
 *	another local attendee's copy updated); CANCEL with UPDATE, with
 *	CANCEL_DELETE (object and instance) and THISANDFUTURE; a VTODO with
 *	TASK_ policies.
 *
 *	"Nothing more was sent" is proven with a sentinel message that must
 *	get the next sink number.
 */
#include <string.h>

#include "inv-test.h"
#include "mw-test-util.h"

#define ORG   "olga@partner.test"
#define ALICE "alice@example.org"
#define BOB   "bob@example.org"
#define DAVE  "dave@example.org"

static const char *const directory =
	"[user:alice@example.org]\n"
	"name = Alice Adams\n"
	"aliases = a.adams@example.org\n"
	"policy = EVENT_ACCEPT_IF_NO_CONFLICT, "
	"EVENT_REJECT_IF_CONFLICT, TASK_ACCEPT:partner.test, "
	"ALL_UPDATE_AND_NOTIFY, ALL_CANCEL_DELETE_AND_NOTIFY:other.test, "
	"ALL_MANUAL\n"
	"[user:bob@example.org]\n"
	"name = Bob Brown\n"
	"[user:carl@example.org]\n"
	"name = Carl\n"
	"policy = ALL_SAVE_TO_FOLDER\n"
	"[user:dora@example.org]\n"
	"name = Dora\n"
	"policy = ALL_SAVE_AND_FORWARD\n"
	"[user:dave@example.org]\n"
	"name = Dave\n"
	"policy = EVENT_ACCEPT:example.org, ALL_CANCEL_DELETE, ALL_MANUAL\n"
	"[user:erin@example.org]\n"
	"name = Erin\n"
	"policy = EVENT_TENTATIVE_IF_NO_CONFLICT, ALL_SAVE_TO_FOLDER\n"
	"[user:olaf@example.org]\n"
	"name = Olaf Organizer\n"
	"policy = ALL_UPDATE_AND_NOTIFY\n"
	"[resource:room@example.org]\n"
	"name = Room\n";

static char *calendars;

static void
start(void)
{
	g_autofree char *dirfile = mwt_write_file("directory.conf", directory, -1);
	g_free(calendars);
	calendars = g_build_filename(mwt->dir, "calendars", NULL);
	g_autofree char *keys = g_strdup_printf("modules = invitations\ndirectory = %s\n"
						"calendars = dir:%s\nlocal_domains = example.org\n",
						dirfile, calendars);
	mwt_start(2, keys, "[invitations]\nautoupdate_other_attendees = true\n");
}

/* send - one message on a fresh connection; the final reply code */
static int
send_mail(const char *from, const char *rcpts, const char *text)
{
	g_autoptr(MwtSmtp) s = mwt_smtp_open(mwt->port, "EHLO client.example");
	g_auto(GStrv) list = g_strsplit(rcpts, ",", -1);
	return mwt_smtp_message(s, from, NULL, (const char *const *) list, text, strlen(text));
}

/* sentinel - a plain message that must become sink message @n */
static void
sentinel(guint n)
{
	g_autoptr(GBytes) msg = mwt_message("sentinel", NULL);
	static const char *const rcpt[] = {"someone@example.net", NULL};
	g_autoptr(MwtSmtp) s = mwt_smtp_open(mwt->port, "EHLO client.example");
	ck_assert_int_eq(mwt_smtp_message(s, "x@example.net", NULL, rcpt, MWT_BYTES(msg)), 250);
	mwt_sink_wait(n);
	mwt_sink_quiesce();
	ck_assert_msg(mwt_sink_count() == n, "the sink has %u messages, expected %u",
		      mwt_sink_count(), n);
	g_autoptr(GBytes) got = mwt_sink_message(n);
	mwt_assert_bytes_equal(msg, got);
}

/* find - the sink message in [from, to] whose only recipient is @rcpt (asserts) */
static guint
find(guint from, guint to, const char *rcpt)
{
	for (guint n = from; n <= to; n++) {
		g_autofree char *env = mwt_sink_envelope(n);
		g_autoptr(GPtrArray) r = mwt_env_rcpts(env);
		if (r->len == 1 && g_str_equal(g_ptr_array_index(r, 0), rcpt))
			return n;
	}
	ck_abort_msg("no sink message for %s in %u..%u", rcpt, from, to);
	return 0;
}

/* assert_reply - sink message @n is a REPLY of @attendee with @partstat; returns the message */
static GMimeMessage *
assert_reply(guint n, const char *attendee, const char *partstat)
{
	g_autoptr(GBytes) bytes = mwt_sink_message(n);
	GMimeMessage *m = inv_parse(bytes);
	g_autofree char *method = NULL, *who = NULL, *ps = NULL;
	ck_assert_msg(inv_reply_info(m, &method, &who, &ps), "sink message %u is no iTip", n);
	ck_assert_str_eq(method, "REPLY");
	ck_assert_str_eq(who, attendee);
	ck_assert_str_eq(ps, partstat);
	return m;
}

/* assert_original - sink message @n is @text byte for byte */
static void
assert_original(guint n, const char *text)
{
	g_autoptr(GBytes) orig = g_bytes_new(text, strlen(text));
	g_autoptr(GBytes) got = mwt_sink_message(n);
	mwt_assert_bytes_equal(orig, got);
}

/* request - a REQUEST from ORG for @attendees (comma-separated) at @start..@end */
static char *
request(const char *uid, int seq, const char *stamp, const char *start, const char *end,
	const char *attendees, const char *extra)
{
	g_autoptr(GString) body = g_string_new(NULL);
	g_string_append_printf(body, "DTSTART:%s\r\nDTEND:%s\r\nSUMMARY:Meeting %s\r\n%s", start,
			       end, uid, extra != NULL ? extra : "");
	g_auto(GStrv) list = g_strsplit(attendees, ",", -1);
	for (guint i = 0; list[i] != NULL; i++) {
		g_autofree char *a = inv_att(list[i]);
		g_string_append(body, a);
	}
	return inv_itip("REQUEST", "VEVENT", uid, seq, stamp, ORG, body->str);
}

START_TEST(test_accept_and_conflict)
{
	start();
	g_autofree char *m = request("i1", 0, "20260701T080000Z", "20260715T100000Z",
				     "20260715T110000Z", ALICE ",x@partner.test", NULL);
	ck_assert_int_eq(send_mail(ORG, ALICE, m), 250);
	mwt_sink_wait(1);
	g_autoptr(GMimeMessage) r1 = assert_reply(1, ALICE, "ACCEPTED");
	ck_assert_str_eq(g_mime_message_get_subject(r1), "\"Meeting i1\" has been accepted");
	InternetAddressList *from = g_mime_message_get_from(r1);
	ck_assert_str_eq(internet_address_get_name(internet_address_list_get_address(from, 0)),
			 "Alice Adams");
	g_autofree char *body = inv_text_body(r1);
	ck_assert_msg(strstr(body, "Alice Adams has accepted your invitation for Meeting i1.") !=
			      NULL,
		      "%s", body);
	g_autofree char *env = mwt_sink_envelope(1);
	g_autoptr(GPtrArray) rc = mwt_env_rcpts(env);
	ck_assert_str_eq(g_ptr_array_index(rc, 0), ORG);
	g_autoptr(icalcomponent) s1 = inv_stored(calendars, ALICE, "i1");
	ck_assert_ptr_nonnull(s1);
	ck_assert_str_eq(inv_partstat(mw_itip_first_component(s1), ALICE), "ACCEPTED");

	/* overlapping: REJECT_IF_CONFLICT declines, and the declined event is stored */
	g_autofree char *m2 = request("i2", 0, "20260701T080000Z", "20260715T103000Z",
				      "20260715T113000Z", ALICE, NULL);
	ck_assert_int_eq(send_mail(ORG, ALICE, m2), 250);
	mwt_sink_wait(2);
	g_object_unref(assert_reply(2, ALICE, "DECLINED"));
	g_autoptr(icalcomponent) s2 = inv_stored(calendars, ALICE, "i2");
	ck_assert_ptr_nonnull(s2);
	ck_assert_str_eq(inv_partstat(mw_itip_first_component(s2), ALICE), "DECLINED");

	/* the same request again (a retry): nothing twice */
	ck_assert_int_eq(send_mail(ORG, ALICE, m2), 250);
	sentinel(3);
	/* two answers; the retry is noted as a duplicate, nothing else */
	ck_assert_uint_eq(mwt_log_count("invitations=alice@example.org=", NULL), 3);
	ck_assert_uint_eq(mwt_log_count("invitations=alice@example.org=duplicate", NULL), 1);
}
END_TEST

START_TEST(test_two_recipients)
{
	start();
	/* alice (auto-accept) and bob (default ALL_MANUAL) in one message */
	g_autofree char *m = request("t2", 0, "20260701T080000Z", "20260716T100000Z",
				     "20260716T110000Z", ALICE "," BOB, NULL);
	ck_assert_int_eq(send_mail(ORG, ALICE "," BOB, m), 250);
	mwt_sink_wait(2);
	mwt_sink_quiesce();
	ck_assert_uint_eq(mwt_sink_count(), 2);
	guint bob = find(1, 2, BOB);
	assert_original(bob, m);
	guint reply = find(1, 2, ORG);
	g_object_unref(assert_reply(reply, ALICE, "ACCEPTED"));
	g_autoptr(icalcomponent) a = inv_stored(calendars, ALICE, "t2");
	ck_assert_ptr_nonnull(a);
	g_autoptr(icalcomponent) b = inv_stored(calendars, BOB, "t2");
	ck_assert_ptr_null(b);

	/* carl saves (consumed, stored NEEDS-ACTION), dora saves and forwards */
	g_autofree char *m2 =
		request("t3", 0, "20260701T080000Z", "20260717T100000Z", "20260717T110000Z",
			"carl@example.org,dora@example.org", NULL);
	ck_assert_int_eq(send_mail(ORG, "carl@example.org,dora@example.org", m2), 250);
	mwt_sink_wait(3);
	ck_assert_uint_eq(find(3, 3, "dora@example.org"), 3);
	assert_original(3, m2);
	g_autoptr(icalcomponent) c = inv_stored(calendars, "carl@example.org", "t3");
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(inv_partstat(mw_itip_first_component(c), "carl@example.org"),
			 "NEEDS-ACTION");
	g_autoptr(icalcomponent) d = inv_stored(calendars, "dora@example.org", "t3");
	ck_assert_ptr_nonnull(d);
	sentinel(4);
}
END_TEST

START_TEST(test_spoofed)
{
	start();
	g_autofree char *m = request("s1", 0, "20260701T080000Z", "20260718T100000Z",
				     "20260718T110000Z", ALICE, NULL);
	/* the envelope sender is not the ORGANIZER */
	ck_assert_int_eq(send_mail("mallory@evil.test", ALICE, m), 250);
	mwt_sink_wait(1);
	assert_original(1, m);
	/* <> never gets an answer */
	ck_assert_int_eq(send_mail("", ALICE, m), 250);
	mwt_sink_wait(2);
	assert_original(2, m);
	sentinel(3);
	g_autoptr(icalcomponent) a = inv_stored(calendars, ALICE, "s1");
	ck_assert_ptr_null(a);
	/* an auto-reply is not answered either */
	g_autofree char *auto_m = g_strconcat("Auto-Submitted: auto-replied\r\n", m, NULL);
	ck_assert_int_eq(send_mail(ORG, ALICE, auto_m), 250);
	mwt_sink_wait(4);
	assert_original(4, auto_m);
	sentinel(5);
}
END_TEST

START_TEST(test_update_and_reschedule)
{
	start();
	g_autofree char *m = request("u1", 0, "20260701T080000Z", "20260720T100000Z",
				     "20260720T110000Z", ALICE, "LOCATION:Room 1\r\n");
	ck_assert_int_eq(send_mail(ORG, ALICE, m), 250);
	mwt_sink_wait(1);
	g_object_unref(assert_reply(1, ALICE, "ACCEPTED"));
	/* the same SEQUENCE, newer DTSTAMP, another room: applied silently, alice notified */
	g_autofree char *m2 = request("u1", 0, "20260702T080000Z", "20260720T100000Z",
				      "20260720T110000Z", ALICE, "LOCATION:Room 2\r\n");
	ck_assert_int_eq(send_mail(ORG, ALICE, m2), 250);
	mwt_sink_wait(2);
	g_autoptr(GBytes) nb = mwt_sink_message(2);
	g_autoptr(GMimeMessage) n = inv_parse(nb);
	ck_assert_str_eq(g_mime_message_get_subject(n), "\"Meeting u1\" has been updated");
	g_autofree char *nbody = inv_text_body(n);
	ck_assert_msg(strstr(nbody, "- Location: Room 2") != NULL, "%s", nbody);
	ck_assert_uint_eq(find(2, 2, ALICE), 2);
	g_autoptr(icalcomponent) s = inv_stored(calendars, ALICE, "u1");
	icalcomponent *sc = mw_itip_first_component(s);
	ck_assert_str_eq(icalcomponent_get_location(sc), "Room 2");
	ck_assert_str_eq(inv_partstat(sc, ALICE), "ACCEPTED");
	/* re-scheduled (SEQUENCE 1): answered again */
	g_autofree char *m3 = request("u1", 1, "20260703T080000Z", "20260721T100000Z",
				      "20260721T110000Z", ALICE, "LOCATION:Room 2\r\n");
	ck_assert_int_eq(send_mail(ORG, ALICE, m3), 250);
	mwt_sink_wait(3);
	g_object_unref(assert_reply(3, ALICE, "ACCEPTED"));
	/* a stale one (SEQUENCE 0 again) is not applied: delivered to alice */
	ck_assert_int_eq(send_mail(ORG, ALICE, m2), 250);
	mwt_sink_wait(4);
	assert_original(4, m2);
	sentinel(5);
	g_autoptr(icalcomponent) s2 = inv_stored(calendars, ALICE, "u1");
	ck_assert_int_eq(mw_itip_sequence(mw_itip_first_component(s2)), 1);
}
END_TEST

/* organizer_copy - olaf's stored event with alice, bob@partner.test and dave */
static const char *const olaf_copy =
	"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:r1\r\n"
	"SEQUENCE:2\r\nDTSTAMP:20260701T080000Z\r\nDTSTART:20260722T100000Z\r\n"
	"DTEND:20260722T110000Z\r\nRRULE:FREQ=DAILY;COUNT=5\r\nSUMMARY:Weekly\r\n"
	"ORGANIZER;CN=Olaf:mailto:olaf@example.org\r\n"
	"ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:pat@partner.test\r\n"
	"ATTENDEE;PARTSTAT=ACCEPTED:mailto:dave@example.org\r\nEND:VEVENT\r\n"
	"END:VCALENDAR\r\n";

/* reply - a REPLY of @who to olaf */
static char *
reply(const char *who, const char *partstat, int seq, const char *extra)
{
	g_autofree char *body = g_strdup_printf(
		"DTSTART:20260722T100000Z\r\nDTEND:20260722T110000Z\r\nSUMMARY:Weekly\r\n%s"
		"COMMENT:See you\r\nATTENDEE;PARTSTAT=%s:mailto:%s\r\n",
		extra != NULL ? extra : "", partstat, who);
	g_autofree char *m = inv_itip("REPLY", "VEVENT", "r1", seq, "20260702T080000Z",
				      "olaf@example.org", body);
	/* inv_itip writes ORGANIZER as From: a reply comes from the attendee */
	g_autofree char *from = g_strdup_printf("From: Olga <%s>", "olaf@example.org");
	g_autofree char *to = g_strdup_printf("From: <%s>", who);
	g_auto(GStrv) parts = g_strsplit(m, from, 2);
	return g_strjoinv(to, parts);
}

START_TEST(test_reply)
{
	start();
	inv_put(calendars, "olaf@example.org", "r1", olaf_copy);
	inv_put(calendars, DAVE, "r1", olaf_copy);
	/* an older SEQUENCE: not applied, delivered */
	g_autofree char *old = reply("pat@partner.test", "ACCEPTED", 1, NULL);
	ck_assert_int_eq(send_mail("pat@partner.test", "olaf@example.org", old), 250);
	mwt_sink_wait(1);
	assert_original(1, old);
	/* a spoofed one: delivered untouched */
	g_autofree char *ok = reply("pat@partner.test", "ACCEPTED", 2, NULL);
	ck_assert_int_eq(send_mail("mallory@evil.test", "olaf@example.org", ok), 250);
	mwt_sink_wait(2);
	assert_original(2, ok);
	g_autoptr(icalcomponent) s0 = inv_stored(calendars, "olaf@example.org", "r1");
	ck_assert_str_eq(inv_partstat(mw_itip_first_component(s0), "pat@partner.test"),
			 "NEEDS-ACTION");
	/* the real one: consumed, written, olaf gets the summary, dave's copy follows */
	ck_assert_int_eq(send_mail("pat@partner.test", "olaf@example.org", ok), 250);
	mwt_sink_wait(3);
	g_autoptr(GBytes) nb = mwt_sink_message(3);
	g_autoptr(GMimeMessage) n = inv_parse(nb);
	ck_assert_str_eq(g_mime_message_get_subject(n), "\"Weekly\" has been updated");
	g_autofree char *text = inv_text_body(n);
	ck_assert_msg(mwt_contains_all(text, "pat@partner.test commented: See you",
				       "Accepted:", "dave@example.org", NULL),
		      "%s", text);
	g_autoptr(icalcomponent) s1 = inv_stored(calendars, "olaf@example.org", "r1");
	ck_assert_str_eq(inv_partstat(mw_itip_first_component(s1), "pat@partner.test"), "ACCEPTED");
	g_autoptr(icalcomponent) d1 = inv_stored(calendars, DAVE, "r1");
	ck_assert_str_eq(inv_partstat(mw_itip_first_component(d1), "pat@partner.test"), "ACCEPTED");
	/* one instance declined: an overridden instance, the series stays accepted */
	g_autofree char *inst =
		reply("pat@partner.test", "DECLINED", 2, "RECURRENCE-ID:20260724T100000Z\r\n");
	ck_assert_int_eq(send_mail("pat@partner.test", "olaf@example.org", inst), 250);
	mwt_sink_wait(4);
	g_autoptr(icalcomponent) s2 = inv_stored(calendars, "olaf@example.org", "r1");
	ck_assert_str_eq(inv_partstat(mw_itip_get_master(s2), "pat@partner.test"), "ACCEPTED");
	MwItipTime t;
	mw_itip_time_init(&t, NULL);
	icalcomponent *i2 = mw_itip_get_instance(s2, 1784887200, &t); /* 2026-07-24 10:00Z */
	ck_assert_ptr_nonnull(i2);
	ck_assert_str_eq(inv_partstat(i2, "pat@partner.test"), "DECLINED");
	sentinel(5);
}
END_TEST

/* cancel - a CANCEL from ORG for @attendee */
static char *
cancel(const char *uid, const char *attendee, const char *extra)
{
	g_autofree char *att = inv_att(attendee);
	g_autofree char *body =
		g_strdup_printf("DTSTART:20260801T100000Z\r\nDTEND:20260801T110000Z"
				"\r\nSUMMARY:Meeting %s\r\nSTATUS:CANCELLED\r\n%s%s",
				uid, extra != NULL ? extra : "", att);
	return inv_itip("CANCEL", "VEVENT", uid, 1, "20260705T080000Z", ORG, body);
}

START_TEST(test_cancel)
{
	start();
	g_autofree char *series = g_strdup_printf(
		"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\n"
		"UID:c1\r\nSEQUENCE:0\r\nDTSTAMP:20260701T080000Z\r\n"
		"DTSTART:20260801T100000Z\r\nDTEND:20260801T110000Z\r\n"
		"RRULE:FREQ=DAILY;COUNT=10\r\nSUMMARY:Meeting c1\r\n"
		"ORGANIZER:mailto:%s\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:%s\r\n"
		"ATTENDEE;PARTSTAT=ACCEPTED:mailto:%s\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
		ORG, ALICE, DAVE);
	inv_put(calendars, ALICE, "c1", series);
	inv_put(calendars, DAVE, "c1", series);
	/* alice (UPDATE): marked cancelled and transparent; dave (CANCEL_DELETE): deleted */
	g_autofree char *m = cancel("c1", ALICE "\r\nATTENDEE:mailto:" DAVE, NULL);
	ck_assert_int_eq(send_mail(ORG, ALICE "," DAVE, m), 250);
	mwt_sink_wait(1); /* alice's update notification */
	g_autoptr(GBytes) nb = mwt_sink_message(1);
	g_autoptr(GMimeMessage) n = inv_parse(nb);
	ck_assert_str_eq(g_mime_message_get_subject(n), "\"Meeting c1\" has been cancelled");
	sentinel(2);
	g_autoptr(icalcomponent) a = inv_stored(calendars, ALICE, "c1");
	ck_assert_ptr_nonnull(a);
	icalcomponent *ac = mw_itip_first_component(a);
	ck_assert_int_eq(icalcomponent_get_status(ac), ICAL_STATUS_CANCELLED);
	icalproperty *transp = icalcomponent_get_first_property(ac, ICAL_TRANSP_PROPERTY);
	ck_assert_ptr_nonnull(transp);
	ck_assert_int_eq(icalproperty_get_transp(transp), ICAL_TRANSP_TRANSPARENT);
	g_autoptr(icalcomponent) d = inv_stored(calendars, DAVE, "c1");
	ck_assert_ptr_null(d);

	/* one instance with CANCEL_DELETE: an EXDATE; THISANDFUTURE ends the series */
	inv_put(calendars, DAVE, "c1", series);
	g_autofree char *one = cancel("c1", DAVE, "RECURRENCE-ID:20260803T100000Z\r\n");
	ck_assert_int_eq(send_mail(ORG, DAVE, one), 250);
	g_autofree char *future =
		cancel("c1", DAVE, "RECURRENCE-ID;RANGE=THISANDFUTURE:20260806T100000Z\r\n");
	ck_assert_int_eq(send_mail(ORG, DAVE, future), 250);
	sentinel(3);
	g_autoptr(icalcomponent) d2 = inv_stored(calendars, DAVE, "c1");
	ck_assert_ptr_nonnull(d2);
	icalcomponent *master = mw_itip_get_master(d2);
	icalproperty *ex = icalcomponent_get_first_property(master, ICAL_EXDATE_PROPERTY);
	ck_assert_ptr_nonnull(ex);
	ck_assert_str_eq(icaltime_as_ical_string(icalproperty_get_exdate(ex)), "20260803T100000Z");
	struct icalrecurrencetype rule = icalproperty_get_rrule(
		icalcomponent_get_first_property(master, ICAL_RRULE_PROPERTY));
	ck_assert_int_eq(rule.count, 0);
	ck_assert_str_eq(icaltime_as_ical_string(rule.until), "20260806T095959Z");
	/* a CANCEL from somebody else than the organizer: delivered untouched, nothing changed */
	g_autofree char *spoofed = cancel("c1", DAVE, NULL);
	ck_assert_int_eq(send_mail("mallory@evil.test", DAVE, spoofed), 250);
	mwt_sink_wait(4);
	assert_original(4, spoofed);
	g_autoptr(icalcomponent) d3 = inv_stored(calendars, DAVE, "c1");
	ck_assert_ptr_nonnull(d3);
	sentinel(5);
}
END_TEST

START_TEST(test_task)
{
	start();
	g_autofree char *att = inv_att(ALICE);
	g_autofree char *body =
		g_strdup_printf("DUE:20260801T100000Z\r\nSUMMARY:Report\r\n%s", att);
	g_autofree char *m =
		inv_itip("REQUEST", "VTODO", "task1", 0, "20260701T080000Z", ORG, body);
	ck_assert_int_eq(send_mail(ORG, ALICE, m), 250);
	mwt_sink_wait(1);
	g_autoptr(GMimeMessage) r = assert_reply(1, ALICE, "ACCEPTED");
	g_autofree char *text = inv_text_body(r);
	ck_assert_msg(strstr(text, "your assignment for Report") != NULL, "%s", text);
	g_autoptr(icalcomponent) s = inv_stored(calendars, ALICE, "task1");
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(icalcomponent_isa(mw_itip_first_component(s)), ICAL_VTODO_COMPONENT);
	/* TASK_ACCEPT applies to partner.test only: from elsewhere the task goes to MANUAL */
	g_autofree char *m2 =
		inv_itip("REQUEST", "VTODO", "task2", 0, "20260701T080000Z", "x@other.net", body);
	ck_assert_int_eq(send_mail("x@other.net", ALICE, m2), 250);
	mwt_sink_wait(2);
	assert_original(2, m2);
	sentinel(3);
}
END_TEST

START_TEST(test_tentative_or_save)
{
	start();
	g_autofree char *m = request("e1", 0, "20260701T080000Z", "20260723T100000Z",
				     "20260723T110000Z", "erin@example.org", NULL);
	ck_assert_int_eq(send_mail(ORG, "erin@example.org", m), 250);
	mwt_sink_wait(1);
	g_autoptr(GMimeMessage) r = assert_reply(1, "erin@example.org", "TENTATIVE");
	ck_assert_str_eq(g_mime_message_get_subject(r),
			 "\"Meeting e1\" has been tentatively accepted");
	/* a conflicting one: SAVE_TO_FOLDER stores it unanswered */
	g_autofree char *m2 = request("e2", 0, "20260701T080000Z", "20260723T100000Z",
				      "20260723T103000Z", "erin@example.org", NULL);
	ck_assert_int_eq(send_mail(ORG, "erin@example.org", m2), 250);
	sentinel(2);
	g_autoptr(icalcomponent) e2 = inv_stored(calendars, "erin@example.org", "e2");
	ck_assert_ptr_nonnull(e2);
	ck_assert_str_eq(inv_partstat(mw_itip_first_component(e2), "erin@example.org"),
			 "NEEDS-ACTION");
}
END_TEST

START_TEST(test_delegation)
{
	start();
	inv_put(calendars, "olaf@example.org", "r1", olaf_copy);
	g_autofree char *m =
		reply("pat@partner.test", "DELEGATED", 2,
		      "ATTENDEE;PARTSTAT=NEEDS-ACTION;DELEGATED-FROM=\"mailto:pat@partner.test\""
		      ":mailto:quinn@partner.test\r\n");
	/* the delegator's own line gets DELEGATED-TO */
	g_autofree char *fixed = NULL;
	{
		g_auto(GStrv) parts = g_strsplit(m, "ATTENDEE;PARTSTAT=DELEGATED:", 2);
		fixed = g_strjoinv(
			"ATTENDEE;PARTSTAT=DELEGATED;DELEGATED-TO=\"mailto:quinn@partner.test\":",
			parts);
	}
	ck_assert_int_eq(send_mail("pat@partner.test", "olaf@example.org", fixed), 250);
	mwt_sink_wait(1); /* olaf's summary */
	g_autoptr(icalcomponent) s = inv_stored(calendars, "olaf@example.org", "r1");
	icalcomponent *c = mw_itip_first_component(s);
	ck_assert_str_eq(inv_partstat(c, "pat@partner.test"), "DELEGATED");
	ck_assert_str_eq(inv_partstat(c, "quinn@partner.test"), "NEEDS-ACTION");
	/* the delegate answers */
	g_autofree char *q = reply("quinn@partner.test", "ACCEPTED", 2, NULL);
	g_auto(GStrv) qp = g_strsplit(q, "ATTENDEE;PARTSTAT=ACCEPTED:", 2);
	g_autofree char *q2 = g_strjoinv(
		"ATTENDEE;PARTSTAT=ACCEPTED;DELEGATED-FROM=\"mailto:pat@partner.test\":", qp);
	ck_assert_int_eq(send_mail("quinn@partner.test", "olaf@example.org", q2), 250);
	mwt_sink_wait(2);
	g_autoptr(icalcomponent) s2 = inv_stored(calendars, "olaf@example.org", "r1");
	ck_assert_str_eq(inv_partstat(mw_itip_first_component(s2), "quinn@partner.test"),
			 "ACCEPTED");
	/* somebody never invited is not added */
	g_autofree char *x = reply("x@partner.test", "ACCEPTED", 2, NULL);
	ck_assert_int_eq(send_mail("x@partner.test", "olaf@example.org", x), 250);
	mwt_sink_wait(3);
	assert_original(3, x);
	sentinel(4);
}
END_TEST

START_TEST(test_consolidated_summary)
{
	start();
	g_autofree char *copy = g_strdup_printf(
		"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:r1\r\n"
		"SEQUENCE:2\r\nDTSTAMP:20260701T080000Z\r\nDTSTART:20260722T100000Z\r\n"
		"DTEND:20260722T110000Z\r\nSUMMARY:Weekly\r\n"
		"ORGANIZER:mailto:olaf@example.org\r\n"
		"ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:pat@partner.test\r\n"
		"ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:room@example.org\r\n"
		"ATTENDEE;PARTSTAT=NEEDS-ACTION:mailto:%s\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
		DAVE);
	inv_put(calendars, "olaf@example.org", "r1", copy);
	/* the room answers on its own and dave (EVENT_ACCEPT) too: no summary for the room's */
	g_autofree char *room = reply("room@example.org", "ACCEPTED", 2, NULL);
	ck_assert_int_eq(send_mail("room@example.org", "olaf@example.org", room), 250);
	sentinel(1);
	g_autoptr(icalcomponent) s = inv_stored(calendars, "olaf@example.org", "r1");
	ck_assert_str_eq(inv_partstat(mw_itip_first_component(s), "room@example.org"), "ACCEPTED");
	/* dave's is the last automatic answer: one summary with both */
	g_autofree char *dave = reply(DAVE, "ACCEPTED", 2, NULL);
	ck_assert_int_eq(send_mail(DAVE, "olaf@example.org", dave), 250);
	mwt_sink_wait(2);
	ck_assert_uint_eq(find(2, 2, "olaf@example.org"), 2);
	g_autoptr(GBytes) nb = mwt_sink_message(2);
	g_autoptr(GMimeMessage) n = inv_parse(nb);
	g_autofree char *text = inv_text_body(n);
	ck_assert_msg(mwt_contains_all(text, "Accepted:", "room@example.org", DAVE,
				       "Pending:", "pat@partner.test", NULL),
		      "%s", text);
	sentinel(3);
}
END_TEST

START_TEST(test_retry_answers_once)
{
	start();
	g_autofree char *m = request("q1", 0, "20260701T080000Z", "20260725T100000Z",
				     "20260725T110000Z", ALICE, NULL);
	const char *const rcpt[] = {ALICE, "a.adams@example.org", NULL};
	/* downstream refuses: the message is deferred, the reply never left */
	mwt_sink_mode("tempfail-dot");
	{
		g_autoptr(MwtSmtp) s = mwt_smtp_open(mwt->port, "EHLO postfix.example");
		mwt_smtp_ok(s, "XFORWARD IDENT=4XQueue1 ADDR=192.0.2.1");
		ck_assert_int_eq(mwt_smtp_try_message(s, ORG, rcpt, m, strlen(m)) / 100, 4);
	}
	mwt_sink_mode("ok");
	/* Postfix retries the same queue file: answered now, once for both addresses */
	{
		g_autoptr(MwtSmtp) s = mwt_smtp_open(mwt->port, "EHLO postfix.example");
		mwt_smtp_ok(s, "XFORWARD IDENT=4XQueue1 ADDR=192.0.2.1");
		ck_assert_int_eq(mwt_smtp_message(s, ORG, NULL, rcpt, m, strlen(m)), 250);
	}
	mwt_sink_wait(1);
	g_object_unref(assert_reply(1, ALICE, "ACCEPTED"));
	/* another copy of the same invitation: no second reply */
	{
		g_autoptr(MwtSmtp) s = mwt_smtp_open(mwt->port, "EHLO postfix.example");
		mwt_smtp_ok(s, "XFORWARD IDENT=4XQueue2 ADDR=192.0.2.1");
		ck_assert_int_eq(mwt_smtp_message(s, ORG, NULL, rcpt, m, strlen(m)), 250);
	}
	sentinel(2);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("invitations-integration");
	TCase *tc = mwt_tcase("invitations", 90);
	tcase_add_test(tc, test_accept_and_conflict);
	tcase_add_test(tc, test_two_recipients);
	tcase_add_test(tc, test_spoofed);
	tcase_add_test(tc, test_update_and_reschedule);
	tcase_add_test(tc, test_reply);
	tcase_add_test(tc, test_cancel);
	tcase_add_test(tc, test_task);
	tcase_add_test(tc, test_tentative_or_save);
	tcase_add_test(tc, test_delegation);
	tcase_add_test(tc, test_consolidated_summary);
	tcase_add_test(tc, test_retry_answers_once);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	g_mime_init();
	return mwt_main(suite());
}
