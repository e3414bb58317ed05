/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-integration - the resources module through SMTP, daemon and sink
 * SYNOPSIS
 *	mod-resources-integration
 * DESCRIPTION
 *	mailwarden-test runs with modules = resources, a directory file and a
 *	calendar folder in the test's private directory; replies and
 *	notifications are read back from the sink. Covered: a booking with
 *	its REPLY while the other recipient's copy passes byte-identical;
 *	eight overlapping invitations for one room sent at once on eight
 *	connections (one booking, one ACCEPTED, seven DECLINED); CANCEL
 *	freeing the slot; a collection's two replies in order and the owner's
 *	German notification; the ACT_MANUAL round trip through the owner's
 *	REPLY to the plus address; <> and spoofed organizers; a directory
 *	change picked up on SIGHUP; a Postfix retry after a deferral (the
 *	reply goes out exactly once).
 *
 *	"Nothing more was sent" is proven with a sentinel message that must
 *	get the next sink number.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "mw-test-util.h"
#include "res-test.h"

#define ALICE "alice@example.org"

/* start - the daemon with the resources module and the test directory */
static void
start(guint workers, const char *directory_text)
{
	g_autofree char *directory = mwt_write_file(
		"directory.conf", directory_text != NULL ? directory_text : res_test_directory, -1);
	g_autofree char *calendars = g_build_filename(mwt->dir, "calendars", NULL);
	g_autofree char *keys = g_strdup_printf("modules = resources\ndirectory = %s\n"
						"calendars = dir:%s\nlocal_domains = example.org\n",
						directory, calendars);
	/* the test dates are fixed: expiry would remove them as soon as the clock passes them */
	mwt_start(workers, keys, "[resources]\ntimezone = Europe/Berlin\nexpire_days = 0\n");
}

/* env - a ResEnv view of the test's directory (for res_bookings) */
static ResEnv
env_of_test(void)
{
	ResEnv env = {0};
	env.dir = mwt->dir;
	env.calendars = g_build_filename(mwt->dir, "calendars", NULL);
	return env;
}

/* bookings - objects in @address's calendar */
static guint
bookings(const char *address)
{
	ResEnv env = env_of_test();
	guint n = res_bookings(&env, address);
	g_free(env.calendars);
	return n;
}

/* send_itip - one message on a fresh connection; returns the final reply code */
static int
send_itip(const char *from, const char *rcpts, const char *text)
{
	g_autoptr(MwtSmtp) s = mwt_smtp_open(mwt->port, "EHLO organizer.example");
	g_auto(GStrv) list = g_strsplit(rcpts, ",", -1);
	return mwt_smtp_message(s, from, NULL, (const char *const *) list, text, strlen(text));
}

/* sink_itip - method, replying attendee and PARTSTAT of sink message @n */
static void
assert_sink_reply(guint n, const char *to, const char *attendee, const char *partstat)
{
	g_autoptr(GBytes) bytes = mwt_sink_message(n);
	g_autoptr(GMimeMessage) m =
		res_parse(g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes));
	g_autofree char *method = NULL, *who = NULL, *ps = NULL;
	ck_assert_msg(res_reply_info(m, &method, &who, &ps), "sink message %u is no iTip", n);
	ck_assert_str_eq(method, "REPLY");
	ck_assert_str_eq(who, attendee);
	ck_assert_str_eq(ps, partstat);
	g_autofree char *env = mwt_sink_envelope(n);
	g_autoptr(GPtrArray) rcpts = mwt_env_rcpts(env);
	ck_assert_uint_eq(rcpts->len, 1);
	ck_assert_str_eq(g_ptr_array_index(rcpts, 0), to);
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

START_TEST(test_book_and_reply)
{
	start(2, NULL);
	g_autofree char *m = res_itip("REQUEST", "i1", 0, "20260701T080000Z", "20260715T100000Z",
				      "20260715T110000Z", ALICE,
				      "room101@example.org,bob@example.org", NULL, NULL);
	ck_assert_int_eq(send_itip(ALICE, "room101@example.org,bob@example.org", m), 250);
	mwt_sink_wait(2);
	mwt_sink_quiesce();
	ck_assert_uint_eq(mwt_sink_count(), 2);
	/* bob's copy first, untouched; then the reply */
	g_autofree char *env1 = mwt_sink_envelope(1);
	g_autoptr(GPtrArray) r1 = mwt_env_rcpts(env1);
	ck_assert_uint_eq(r1->len, 1);
	ck_assert_str_eq(g_ptr_array_index(r1, 0), "bob@example.org");
	g_autoptr(GBytes) orig = g_bytes_new(m, strlen(m));
	g_autoptr(GBytes) got = mwt_sink_message(1);
	mwt_assert_bytes_equal(orig, got);
	assert_sink_reply(2, ALICE, "room101@example.org", "ACCEPTED");
	g_autofree char *env2 = mwt_sink_envelope(2);
	ck_assert_msg(g_str_has_prefix(env2, "room101@example.org") ||
			      strstr(env2, "<room101@example.org>") != NULL,
		      "reply envelope:\n%s", env2);
	ck_assert_uint_eq(bookings("room101@example.org"), 1);
	g_autofree char *line = mwt_log_wait(5000, "resources=room101@example.org=accepted", NULL);
	ck_assert_msg(line != NULL, "no summary note");
}
END_TEST

START_TEST(test_eight_at_once)
{
	enum { N = 8 };
	MwtSmtp *s[N];
	char *msgs[N];
	start(N, NULL);
	for (guint i = 0; i < N; i++) {
		g_autofree char *uid = g_strdup_printf("race-%u", i);
		/* all overlap 10:30-11:00 */
		g_autofree char *st = g_strdup_printf("20260715T10%02u00Z", i * 3);
		g_autofree char *en = g_strdup_printf("20260715T11%02u00Z", i * 3);
		msgs[i] = res_itip("REQUEST", uid, 0, "20260701T080000Z", st, en, ALICE,
				   "room102@example.org", NULL, NULL);
		s[i] = mwt_smtp_open(mwt->port, "EHLO organizer.example");
		mwt_smtp_ok(s[i], "MAIL FROM:<%s>", ALICE);
		mwt_smtp_ok(s[i], "RCPT TO:<room102@example.org>");
		mwt_smtp_cmd_expect(s[i], 354, "DATA");
	}
	/* the bodies go out back to back, so the eight decisions run at the same time */
	for (guint i = 0; i < N; i++)
		ck_assert(mwt_smtp_data(s[i], msgs[i], strlen(msgs[i])));
	for (guint i = 0; i < N; i++) {
		mwt_smtp_expect(s[i], 250);
		mwt_smtp_close(s[i]);
		g_free(msgs[i]);
	}
	mwt_sink_wait(N);
	mwt_sink_quiesce();
	ck_assert_uint_eq(mwt_sink_count(), N);
	guint accepted = 0, declined = 0;
	for (guint n = 1; n <= N; n++) {
		g_autoptr(GBytes) bytes = mwt_sink_message(n);
		g_autoptr(GMimeMessage) m =
			res_parse(g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes));
		g_autofree char *method = NULL, *who = NULL, *ps = NULL;
		ck_assert(res_reply_info(m, &method, &who, &ps));
		if (strcmp(ps, "ACCEPTED") == 0)
			accepted++;
		else if (strcmp(ps, "DECLINED") == 0)
			declined++;
	}
	ck_assert_uint_eq(accepted, 1);
	ck_assert_uint_eq(declined, N - 1);
	ck_assert_uint_eq(bookings("room102@example.org"), 1);
}
END_TEST

START_TEST(test_cancel_frees)
{
	start(2, NULL);
	g_autofree char *m1 =
		res_itip("REQUEST", "k1", 0, "20260701T080000Z", "20260715T100000Z",
			 "20260715T110000Z", ALICE, "room102@example.org", NULL, NULL);
	ck_assert_int_eq(send_itip(ALICE, "room102@example.org", m1), 250);
	mwt_sink_wait(1);
	assert_sink_reply(1, ALICE, "room102@example.org", "ACCEPTED");
	g_autofree char *c1 = res_itip("CANCEL", "k1", 1, "20260702T080000Z", "20260715T100000Z",
				       "20260715T110000Z", ALICE, "room102@example.org",
				       "STATUS:CANCELLED\r\n", NULL);
	ck_assert_int_eq(send_itip(ALICE, "room102@example.org", c1), 250);
	/* no reply to a CANCEL */
	sentinel(2);
	ck_assert_uint_eq(bookings("room102@example.org"), 0);
	g_autofree char *m2 =
		res_itip("REQUEST", "k2", 0, "20260701T080000Z", "20260715T100000Z",
			 "20260715T110000Z", ALICE, "room102@example.org", NULL, NULL);
	ck_assert_int_eq(send_itip(ALICE, "room102@example.org", m2), 250);
	mwt_sink_wait(3);
	assert_sink_reply(3, ALICE, "room102@example.org", "ACCEPTED");
}
END_TEST

START_TEST(test_collection)
{
	start(2, NULL);
	g_autofree char *m = res_itip("REQUEST", "col1", 0, "20260701T080000Z", "20260715T100000Z",
				      "20260715T110000Z", ALICE, "cars@example.org", NULL, NULL);
	ck_assert_int_eq(send_itip(ALICE, "cars@example.org", m), 250);
	mwt_sink_wait(3);
	mwt_sink_quiesce();
	ck_assert_uint_eq(mwt_sink_count(), 3);
	/* the collection's DELEGATED first, then the member's own answer */
	assert_sink_reply(1, ALICE, "cars@example.org", "DELEGATED");
	assert_sink_reply(2, ALICE, "car1@example.org", "ACCEPTED");
	g_autoptr(GBytes) bytes = mwt_sink_message(3);
	g_autoptr(GMimeMessage) note =
		res_parse(g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes));
	ck_assert_str_eq(g_mime_message_get_subject(note), "Buchung für Car 1: Angenommen");
	g_autofree char *env = mwt_sink_envelope(3);
	g_autoptr(GPtrArray) rcpts = mwt_env_rcpts(env);
	ck_assert_str_eq(g_ptr_array_index(rcpts, 0), "boss@example.org");
	ck_assert_uint_eq(bookings("car1@example.org"), 1);
}
END_TEST

START_TEST(test_manual_round_trip)
{
	start(2, NULL);
	g_autofree char *m = res_itip("REQUEST", "man1", 0, "20260701T080000Z", "20260715T100000Z",
				      "20260715T110000Z", ALICE, "beamer@example.org", NULL, NULL);
	ck_assert_int_eq(send_itip(ALICE, "beamer@example.org", m), 250);
	mwt_sink_wait(2);
	mwt_sink_quiesce();
	assert_sink_reply(1, ALICE, "beamer@example.org", "TENTATIVE");
	/* the owner's confirmation request: answer it as the owner's client would */
	g_autoptr(GBytes) bytes = mwt_sink_message(2);
	g_autoptr(GMimeMessage) req =
		res_parse(g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes));
	g_autoptr(GPtrArray) itips = mw_itip_read_message(req, 0);
	ck_assert_uint_eq(itips->len, 1);
	MwItip *conf = g_ptr_array_index(itips, 0);
	icalproperty *org = icalcomponent_get_first_property(mw_itip_first_component(conf->vcal),
							     ICAL_ORGANIZER_PROPERTY);
	const char *plus = icalproperty_get_organizer(org) + strlen("mailto:");
	ck_assert(g_str_has_prefix(plus, "beamer+"));
	g_autofree char *asked =
		res_itip("REPLY", conf->uid, 0, "20260701T090000Z", "20260715T100000Z",
			 "20260715T110000Z", plus, "boss@example.org", NULL, NULL);
	const char *at = strstr(asked, "PARTSTAT=NEEDS-ACTION");
	g_autofree char *yes = g_strdup_printf("%.*sPARTSTAT=ACCEPTED%s", (int) (at - asked), asked,
					       at + strlen("PARTSTAT=NEEDS-ACTION"));
	ck_assert_int_eq(send_itip("boss@example.org", plus, yes), 250);
	mwt_sink_wait(3);
	mwt_sink_quiesce();
	ck_assert_uint_eq(mwt_sink_count(), 3);
	assert_sink_reply(3, ALICE, "beamer@example.org", "ACCEPTED");
}
END_TEST

START_TEST(test_senders_not_answered)
{
	start(2, NULL);
	g_autofree char *m = res_itip("REQUEST", "s1", 0, "20260701T080000Z", "20260715T100000Z",
				      "20260715T110000Z", ALICE, "room102@example.org", NULL, NULL);
	/* from <>: the organizer does not match, and <> is never answered anyway */
	ck_assert_int_eq(send_itip("", "room102@example.org", m), 250);
	/* spoofed organizer */
	ck_assert_int_eq(send_itip("mallory@example.net", "room102@example.org", m), 250);
	sentinel(1);
	ck_assert_uint_eq(bookings("room102@example.org"), 0);
	ck_assert_uint_eq(mwt_log_count("not the sender", NULL), 2);
}
END_TEST

START_TEST(test_sighup_directory)
{
	start(2, NULL);
	g_autofree char *m = res_itip("REQUEST", "h1", 0, "20260701T080000Z", "20260715T100000Z",
				      "20260715T110000Z", ALICE, "newroom@example.org", NULL, NULL);
	/* a message in flight while the directory changes */
	g_autoptr(MwtSmtp) open = mwt_smtp_open(mwt->port, "EHLO early.example");
	mwt_smtp_ok(open, "MAIL FROM:<%s>", ALICE);
	mwt_smtp_ok(open, "RCPT TO:<newroom@example.org>");
	mwt_smtp_cmd_expect(open, 354, "DATA");
	g_autofree char *text = g_strconcat(
		res_test_directory, "[resource:newroom@example.org]\nname = New Room\n", NULL);
	g_free(mwt_write_file("directory.conf", text, -1));
	guint before = mwt_log_count("configuration reloaded", NULL);
	ck_assert_int_eq(kill(mwt->daemon, SIGHUP), 0);
	for (guint i = 0; i < 200 && mwt_log_count("configuration reloaded", NULL) <= before; i++)
		g_usleep(mwt_scale(50) * 1000);
	ck_assert_uint_gt(mwt_log_count("configuration reloaded", NULL), before);
	/* it is not dropped: the old generation finishes it (newroom unknown there: delivered) */
	ck_assert(mwt_smtp_data(open, m, strlen(m)));
	mwt_smtp_expect(open, 250);
	mwt_sink_wait(1);
	g_autofree char *env = mwt_sink_envelope(1);
	g_autoptr(GPtrArray) rcpts = mwt_env_rcpts(env);
	ck_assert_str_eq(g_ptr_array_index(rcpts, 0), "newroom@example.org");
	/* the next message sees the new directory */
	ck_assert_int_eq(send_itip(ALICE, "newroom@example.org", m), 250);
	mwt_sink_wait(2);
	assert_sink_reply(2, ALICE, "newroom@example.org", "ACCEPTED");
}
END_TEST

START_TEST(test_retry_answers_once)
{
	start(2, NULL);
	g_autofree char *m = res_itip("REQUEST", "r1", 0, "20260701T080000Z", "20260715T100000Z",
				      "20260715T110000Z", ALICE, "room101@example.org", NULL, NULL);
	const char *const rcpt[] = {"room101@example.org", NULL};
	/* downstream refuses: the message is deferred, the reply never left */
	mwt_sink_mode("tempfail-dot");
	{
		g_autoptr(MwtSmtp) s = mwt_smtp_open(mwt->port, "EHLO postfix.example");
		mwt_smtp_ok(s, "XFORWARD IDENT=4XQueue1 ADDR=192.0.2.1");
		ck_assert_int_eq(mwt_smtp_try_message(s, ALICE, rcpt, m, strlen(m)) / 100, 4);
	}
	mwt_sink_mode("ok");
	/* Postfix retries the same queue file: answered now, booked once */
	{
		g_autoptr(MwtSmtp) s = mwt_smtp_open(mwt->port, "EHLO postfix.example");
		mwt_smtp_ok(s, "XFORWARD IDENT=4XQueue1 ADDR=192.0.2.1");
		ck_assert_int_eq(mwt_smtp_message(s, ALICE, NULL, rcpt, m, strlen(m)), 250);
	}
	mwt_sink_wait(1);
	assert_sink_reply(1, ALICE, "room101@example.org", "ACCEPTED");
	/* another copy of the same invitation state: no second reply */
	{
		g_autoptr(MwtSmtp) s = mwt_smtp_open(mwt->port, "EHLO postfix.example");
		mwt_smtp_ok(s, "XFORWARD IDENT=4XQueue2 ADDR=192.0.2.1");
		ck_assert_int_eq(mwt_smtp_message(s, ALICE, NULL, rcpt, m, strlen(m)), 250);
	}
	sentinel(2);
	ck_assert_uint_eq(bookings("room101@example.org"), 1);
}
END_TEST

static Suite *
integration_suite(void)
{
	Suite *suite = suite_create("mod-resources-integration");
	TCase *tc = mwt_tcase("resources", 60);
	tcase_add_test(tc, test_book_and_reply);
	tcase_add_test(tc, test_eight_at_once);
	tcase_add_test(tc, test_cancel_frees);
	tcase_add_test(tc, test_collection);
	tcase_add_test(tc, test_manual_round_trip);
	tcase_add_test(tc, test_senders_not_answered);
	tcase_add_test(tc, test_sighup_directory);
	tcase_add_test(tc, test_retry_answers_once);
	suite_add_tcase(suite, tc);
	return suite;
}

int
main(void)
{
	g_setenv("MW_LOCALEDIR", MW_TEST_LOCALEDIR, TRUE);
	g_mime_init();
	return mwt_main(integration_suite());
}
