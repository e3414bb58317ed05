/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-unit - the resources module through the pipeline, without sockets
 * SYNOPSIS
 *	mod-resources-unit
 * DESCRIPTION
 *	Each test loads a config with modules = resources, runs the pipeline
 *	on transactions built here and checks the verdicts, the emitted
 *	messages (parsed back) and the calendar store: booking and declining,
 *	updates by SEQUENCE/DTSTAMP, moves, cancels of objects and instances,
 *	instance requests, collections and delegation (also of a moved
 *	booking), every policy, the owner's confirmation round trip,
 *	organizer verification, <> and auto-replies, idempotence, aliases,
 *	German texts, expiry, and the small helpers.
 */
#include <stdlib.h>
#include <string.h>

#include "mw-pipeline.h"
#include "mw-resources.h"
#include "res-test.h"

static ResEnv env;
static MwConfig *config;

/* load - the config with @resources_keys in [resources] */
static void
load(const char *resources_keys)
{
	g_autofree char *keys = res_env_config_keys(&env);
	g_autofree char *text =
		g_strdup_printf("[mailwarden]\nhostname = mw.test\nstate_dir = %s\n"
				"modules = resources\n%s\n[resources]\n"
				"timezone = Europe/Berlin\n%s\n",
				env.state, keys, resources_keys != NULL ? resources_keys : "");
	g_autoptr(GError) error = NULL;
	g_clear_pointer(&config, mw_config_free);
	config = mw_config_load_data(text, NULL, &error);
	ck_assert_msg(config != NULL, "%s", error != NULL ? error->message : "");
	ck_assert_msg(mw_pipeline_start(config, &error), "%s", error ? error->message : "");
	ck_assert_msg(mw_pipeline_worker_init(config, &error), "%s", error ? error->message : "");
}

static void
setup(void)
{
	res_env_setup(&env, NULL);
	/* the test dates are fixed: expiry would remove them once the clock passes them */
	load("expire_days = 0");
}

static void
teardown(void)
{
	g_clear_pointer(&config, mw_config_free);
	res_env_teardown(&env);
}

/* run_ident - one message through the pipeline; @ident (nullable): XFORWARD IDENT */
static MwTxn *
run_ident(const char *sender, const char *rcpts, const char *text, const char *ident)
{
	g_auto(GStrv) list = g_strsplit(rcpts, ",", -1);
	MwEnvelope *envelope = mw_envelope_new_simple(sender, (const char *const *) list);
	if (ident != NULL) {
		envelope->xforward = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
		g_hash_table_insert(envelope->xforward, g_strdup("IDENT"), g_strdup(ident));
	}
	g_autoptr(MwMessage) message =
		mw_message_new_from_bytes((const guint8 *) text, strlen(text));
	MwTxn *txn = mw_txn_new(config, envelope, message);
	mw_pipeline_run(txn);
	return txn;
}

/* run - one message through the pipeline, without XFORWARD */
static MwTxn *
run(const char *sender, const char *rcpts, const char *text)
{
	return run_ident(sender, rcpts, text, NULL);
}

/* verdict - of recipient @i */
static MwVerdict
verdict(MwTxn *txn, guint i)
{
	return ((MwTxnRcpt *) g_ptr_array_index(txn->rcpts, i))->verdict;
}

/* emitted - message @i emitted by the txn */
static GMimeMessage *
emitted(MwTxn *txn, guint i)
{
	ck_assert_uint_gt(txn->emitted->len, i);
	MwEmitted *e = g_ptr_array_index(txn->emitted, i);
	return mw_message_parse_mime(e->message, NULL);
}

/* emitted_rcpt - the envelope recipient of emitted message @i */
static const char *
emitted_rcpt(MwTxn *txn, guint i)
{
	MwEmitted *e = g_ptr_array_index(txn->emitted, i);
	return ((MwRecipient *) g_ptr_array_index(e->envelope->rcpts, 0))->address;
}

/* assert_reply - emitted message @i is an iTip REPLY by @attendee with @partstat */
static void
assert_reply(MwTxn *txn, guint i, const char *attendee, const char *partstat)
{
	g_autoptr(GMimeMessage) m = emitted(txn, i);
	g_autofree char *method = NULL, *who = NULL, *ps = NULL;
	ck_assert_msg(res_reply_info(m, &method, &who, &ps), "emitted %u is no iTip", i);
	ck_assert_str_eq(method, "REPLY");
	ck_assert_str_eq(who, attendee);
	ck_assert_str_eq(ps, partstat);
	ck_assert_str_eq(g_mime_object_get_header(GMIME_OBJECT(m), "Auto-Submitted"),
			 "auto-replied");
}

/* partstat_in - PARTSTAT of @address in the stored booking's master */
static char *
partstat_in(const char *calendar, const char *uid, const char *address)
{
	g_autoptr(icalcomponent) b = res_booking(&env, calendar, uid);
	if (b == NULL)
		return NULL;
	icalcomponent *comp = mw_itip_get_master(b);
	icalproperty *att = mw_itip_find_attendee(comp, address, NULL);
	ck_assert_ptr_nonnull(att);
	icalparameter *ps = icalproperty_get_first_parameter(att, ICAL_PARTSTAT_PARAMETER);
	return g_strdup(mw_itip_partstat_name(icalparameter_get_partstat(ps)));
}

#define ALICE "alice@example.org"

/* replace - @text with the first @old replaced by @new */
static char *
replace(const char *text, const char *old, const char *new)
{
	const char *at = strstr(text, old);
	ck_assert_ptr_nonnull(at);
	return g_strdup_printf("%.*s%s%s", (int) (at - text), text, new, at + strlen(old));
}

START_TEST(test_accept_and_decline)
{
	g_autofree char *m1 = res_itip(
		"REQUEST", "u1", 0, "20260701T080000Z", "20260715T100000Z", "20260715T120000Z",
		ALICE, "room101@example.org, bob@example.org", "TRANSP:TRANSPARENT\r\n", NULL);
	g_autoptr(MwTxn) t1 = run(ALICE, "room101@example.org,bob@example.org", m1);
	ck_assert_int_eq(verdict(t1, 0), MW_VERDICT_CONSUMED);
	ck_assert_int_eq(verdict(t1, 1), MW_VERDICT_CONTINUE);
	ck_assert_uint_eq(t1->emitted->len, 1);
	assert_reply(t1, 0, "room101@example.org", "ACCEPTED");
	ck_assert_str_eq(emitted_rcpt(t1, 0), ALICE);
	g_autoptr(GMimeMessage) r = emitted(t1, 0);
	ck_assert_str_eq(g_mime_message_get_subject(r),
			 "Reservation Request for Meeting u1 was Accepted");
	ck_assert_str_eq(g_mime_object_get_header(GMIME_OBJECT(r), "In-Reply-To"),
			 "<u1.REQUEST.0@example.org>");
	g_autofree char *body = res_text_body(r);
	/* the owner has no user entry: just the address */
	ck_assert_msg(strstr(body, "facility@example.org") != NULL, "%s", body);
	ck_assert_uint_eq(res_bookings(&env, "room101@example.org"), 1);
	g_autofree char *ps = partstat_in("room101@example.org", "u1", "room101@example.org");
	ck_assert_str_eq(ps, "ACCEPTED");
	/* stored OPAQUE although the invitation was TRANSPARENT */
	g_autoptr(icalcomponent) b = res_booking(&env, "room101@example.org", "u1");
	ck_assert_int_eq(icalproperty_get_transp(icalcomponent_get_first_property(
				 mw_itip_get_master(b), ICAL_TRANSP_PROPERTY)),
			 ICAL_TRANSP_OPAQUE);

	/* overlapping: declined, nothing stored */
	g_autofree char *m2 =
		res_itip("REQUEST", "u2", 0, "20260701T080000Z", "20260715T113000Z",
			 "20260715T123000Z", ALICE, "room101@example.org", NULL, NULL);
	g_autoptr(MwTxn) t2 = run(ALICE, "room101@example.org", m2);
	ck_assert_int_eq(verdict(t2, 0), MW_VERDICT_CONSUMED);
	ck_assert_uint_eq(t2->emitted->len, 1);
	assert_reply(t2, 0, "room101@example.org", "DECLINED");
	ck_assert_uint_eq(res_bookings(&env, "room101@example.org"), 1);

	/* touching: free */
	g_autofree char *m3 =
		res_itip("REQUEST", "u3", 0, "20260701T080000Z", "20260715T120000Z",
			 "20260715T130000Z", ALICE, "room101@example.org", NULL, NULL);
	g_autoptr(MwTxn) t3 = run(ALICE, "room101@example.org", m3);
	assert_reply(t3, 0, "room101@example.org", "ACCEPTED");
	ck_assert_uint_eq(res_bookings(&env, "room101@example.org"), 2);
}
END_TEST

START_TEST(test_updates_and_idempotence)
{
	g_autofree char *m0 =
		res_itip("REQUEST", "u1", 1, "20260701T080000Z", "20260715T100000Z",
			 "20260715T110000Z", ALICE, "room101@example.org", NULL, NULL);
	g_autoptr(MwTxn) t0 = run_ident(ALICE, "room101@example.org", m0, "4XQF1");
	assert_reply(t0, 0, "room101@example.org", "ACCEPTED");
	/* another message with the same invitation: one booking, no second reply */
	g_autoptr(MwTxn) again = run_ident(ALICE, "room101@example.org", m0, "4XQF2");
	ck_assert_int_eq(verdict(again, 0), MW_VERDICT_CONSUMED);
	ck_assert_uint_eq(again->emitted->len, 0);
	g_autoptr(MwTxn) plain = run(ALICE, "room101@example.org", m0);
	ck_assert_uint_eq(plain->emitted->len, 0);
	ck_assert_uint_eq(res_bookings(&env, "room101@example.org"), 1);
	/* Postfix retrying the first queue file (its reply never left): answered again */
	g_autoptr(MwTxn) retry = run_ident(ALICE, "room101@example.org", m0, "4XQF1");
	ck_assert_uint_eq(retry->emitted->len, 1);
	assert_reply(retry, 0, "room101@example.org", "ACCEPTED");
	ck_assert_uint_eq(res_bookings(&env, "room101@example.org"), 1);
	/* "-" is no queue id */
	g_autoptr(MwTxn) dash = run_ident(ALICE, "room101@example.org", m0, "-");
	ck_assert_uint_eq(dash->emitted->len, 0);

	/* an older version (SEQUENCE 0): ignored, no reply */
	g_autofree char *old =
		res_itip("REQUEST", "u1", 0, "20260702T080000Z", "20260716T100000Z",
			 "20260716T110000Z", ALICE, "room101@example.org", NULL, NULL);
	g_autoptr(MwTxn) t1 = run(ALICE, "room101@example.org", old);
	ck_assert_uint_eq(t1->emitted->len, 0);
	/* same SEQUENCE, newer DTSTAMP: an update, moved to the 17th */
	g_autofree char *upd =
		res_itip("REQUEST", "u1", 1, "20260703T080000Z", "20260717T100000Z",
			 "20260717T110000Z", ALICE, "room101@example.org", NULL, NULL);
	g_autoptr(MwTxn) t2 = run(ALICE, "room101@example.org", upd);
	assert_reply(t2, 0, "room101@example.org", "ACCEPTED");
	g_autoptr(icalcomponent) b = res_booking(&env, "room101@example.org", "u1");
	ck_assert_int_eq(icaltime_as_timet(icalcomponent_get_dtstart(mw_itip_get_master(b))),
			 icaltime_as_timet(icaltime_from_string("20260717T100000Z")));
	/* an update overlapping its own old slot is no conflict */
	g_autofree char *self =
		res_itip("REQUEST", "u1", 2, "20260703T090000Z", "20260717T103000Z",
			 "20260717T113000Z", ALICE, "room101@example.org", NULL, NULL);
	g_autoptr(MwTxn) t3 = run(ALICE, "room101@example.org", self);
	assert_reply(t3, 0, "room101@example.org", "ACCEPTED");

	/* moving into a conflict: declined, the old booking stays */
	g_autofree char *other =
		res_itip("REQUEST", "u9", 0, "20260701T080000Z", "20260720T100000Z",
			 "20260720T110000Z", ALICE, "room101@example.org", NULL, NULL);
	g_autoptr(MwTxn) t4 = run(ALICE, "room101@example.org", other);
	assert_reply(t4, 0, "room101@example.org", "ACCEPTED");
	g_autofree char *move =
		res_itip("REQUEST", "u1", 3, "20260704T080000Z", "20260720T103000Z",
			 "20260720T113000Z", ALICE, "room101@example.org", NULL, NULL);
	g_autoptr(MwTxn) t5 = run(ALICE, "room101@example.org", move);
	assert_reply(t5, 0, "room101@example.org", "DECLINED");
	g_autoptr(icalcomponent) kept = res_booking(&env, "room101@example.org", "u1");
	ck_assert_int_eq(mw_itip_sequence(mw_itip_get_master(kept)), 2);
}
END_TEST

START_TEST(test_cancel_and_instances)
{
	const char *series_extra = "RRULE:FREQ=DAILY;COUNT=5\r\n";
	g_autofree char *m1 =
		res_itip("REQUEST", "s1", 0, "20260701T080000Z",
			 "TZID=Europe/Berlin:20260713T100000", "TZID=Europe/Berlin:20260713T110000",
			 ALICE, "room102@example.org", series_extra, NULL);
	g_autoptr(MwTxn) t1 = run(ALICE, "room102@example.org", m1);
	assert_reply(t1, 0, "room102@example.org", "ACCEPTED");
	/* the 15th is taken ... */
	g_autofree char *m2 =
		res_itip("REQUEST", "x1", 0, "20260701T080000Z", "20260715T080000Z",
			 "20260715T083000Z", ALICE, "room102@example.org", NULL, NULL);
	g_autoptr(MwTxn) t2 = run(ALICE, "room102@example.org", m2);
	assert_reply(t2, 0, "room102@example.org", "DECLINED");
	/* ... until that instance is cancelled */
	g_autofree char *cancel = res_itip(
		"CANCEL", "s1", 1, "20260702T080000Z", "TZID=Europe/Berlin:20260715T100000",
		"TZID=Europe/Berlin:20260715T110000", ALICE, "room102@example.org",
		"RECURRENCE-ID;TZID=Europe/Berlin:20260715T100000\r\n", NULL);
	g_autoptr(MwTxn) t3 = run(ALICE, "room102@example.org", cancel);
	ck_assert_int_eq(verdict(t3, 0), MW_VERDICT_CONSUMED);
	ck_assert_uint_eq(t3->emitted->len, 0);
	g_autofree char *m3 =
		res_itip("REQUEST", "x2", 0, "20260701T080000Z", "20260715T080000Z",
			 "20260715T083000Z", ALICE, "room102@example.org", NULL, NULL);
	g_autoptr(MwTxn) t4 = run(ALICE, "room102@example.org", m3);
	assert_reply(t4, 0, "room102@example.org", "ACCEPTED");
	/* an instance request (moved 14th) is stored with its master */
	g_autofree char *inst = res_itip(
		"REQUEST", "s1", 1, "20260703T080000Z", "TZID=Europe/Berlin:20260714T150000",
		"TZID=Europe/Berlin:20260714T160000", ALICE, "room102@example.org",
		"RECURRENCE-ID;TZID=Europe/Berlin:20260714T100000\r\n", NULL);
	g_autoptr(MwTxn) t5 = run(ALICE, "room102@example.org", inst);
	assert_reply(t5, 0, "room102@example.org", "ACCEPTED");
	g_autoptr(icalcomponent) b = res_booking(&env, "room102@example.org", "s1");
	ck_assert_int_eq(icalcomponent_count_components(b, ICAL_VEVENT_COMPONENT), 2);
	ck_assert_uint_eq(res_bookings(&env, "room102@example.org"), 2);
	/* the old slot of the 14th is free now, the new one is not */
	g_autofree char *m4 =
		res_itip("REQUEST", "x3", 0, "20260701T080000Z", "20260714T080000Z",
			 "20260714T090000Z", ALICE, "room102@example.org", NULL, NULL);
	g_autoptr(MwTxn) t6 = run(ALICE, "room102@example.org", m4);
	assert_reply(t6, 0, "room102@example.org", "ACCEPTED");
	g_autofree char *m5 =
		res_itip("REQUEST", "x4", 0, "20260701T080000Z", "20260714T130000Z",
			 "20260714T140000Z", ALICE, "room102@example.org", NULL, NULL);
	g_autoptr(MwTxn) t7 = run(ALICE, "room102@example.org", m5);
	assert_reply(t7, 0, "room102@example.org", "DECLINED");
	/* cancelling the whole object frees the series */
	g_autofree char *all =
		res_itip("CANCEL", "s1", 2, "20260704T080000Z",
			 "TZID=Europe/Berlin:20260713T100000", "TZID=Europe/Berlin:20260713T110000",
			 ALICE, "room102@example.org", "STATUS:CANCELLED\r\n", NULL);
	mw_txn_free(run(ALICE, "room102@example.org", all));
	ck_assert_uint_eq(res_bookings(&env, "room102@example.org"), 2);
	g_autoptr(icalcomponent) gone = res_booking(&env, "room102@example.org", "s1");
	ck_assert_ptr_null(gone);
	/* an outdated cancel changes nothing */
	g_autofree char *stale =
		res_itip("CANCEL", "x3", 0, "20260601T080000Z", "20260714T080000Z",
			 "20260714T090000Z", ALICE, "room102@example.org", NULL, NULL);
	mw_txn_free(run(ALICE, "room102@example.org", stale));
	ck_assert_uint_eq(res_bookings(&env, "room102@example.org"), 2);
	g_autoptr(icalcomponent) kept = res_booking(&env, "room102@example.org", "x3");
	ck_assert_ptr_nonnull(kept);
}
END_TEST

START_TEST(test_collection_delegation)
{
	g_autofree char *m1 = res_itip("REQUEST", "c1", 0, "20260701T080000Z", "20260715T100000Z",
				       "20260715T110000Z", ALICE, "cars@example.org", NULL, NULL);
	g_autoptr(MwTxn) t1 = run(ALICE, "cars@example.org", m1);
	ck_assert_int_eq(verdict(t1, 0), MW_VERDICT_CONSUMED);
	/* collection DELEGATED first, then the member, then the owner's notification */
	ck_assert_uint_eq(t1->emitted->len, 3);
	assert_reply(t1, 0, "cars@example.org", "DELEGATED");
	assert_reply(t1, 1, "car1@example.org", "ACCEPTED");
	ck_assert_str_eq(emitted_rcpt(t1, 2), "boss@example.org");
	g_autoptr(GMimeMessage) note = emitted(t1, 2);
	/* the owner reads German */
	ck_assert_str_eq(g_mime_message_get_subject(note), "Buchung für Car 1: Angenommen");
	g_autofree char *nbody = res_text_body(note);
	ck_assert_msg(strstr(nbody, "2026-07-15 12:00 (Europe/Berlin) - 13:00 (Europe/Berlin)") !=
			      NULL,
		      "%s", nbody);
	ck_assert_msg(strstr(nbody, "Meeting c1") != NULL, "%s", nbody);
	/* the delegation reply names the delegate with quoted DELEGATED-TO */
	g_autoptr(GMimeMessage) d = emitted(t1, 0);
	g_autoptr(GPtrArray) itips = mw_itip_read_message(d, 0);
	icalcomponent *comp =
		mw_itip_first_component(((MwItip *) g_ptr_array_index(itips, 0))->vcal);
	ck_assert_int_eq(icalcomponent_count_properties(comp, ICAL_ATTENDEE_PROPERTY), 2);
	ck_assert_uint_eq(res_bookings(&env, "car1@example.org"), 1);

	/* the next overlapping one goes to car2, the third is declined by the collection */
	g_autofree char *m2 = res_itip("REQUEST", "c2", 0, "20260701T080000Z", "20260715T103000Z",
				       "20260715T113000Z", ALICE, "cars@example.org", NULL, NULL);
	g_autoptr(MwTxn) t2 = run(ALICE, "cars@example.org", m2);
	assert_reply(t2, 1, "car2@example.org", "ACCEPTED");
	g_autofree char *m3 = res_itip("REQUEST", "c3", 0, "20260701T080000Z", "20260715T101500Z",
				       "20260715T104500Z", ALICE, "cars@example.org", NULL, NULL);
	g_autoptr(MwTxn) t3 = run(ALICE, "cars@example.org", m3);
	assert_reply(t3, 0, "cars@example.org", "DECLINED");

	/* an update of c1 goes to car1, which holds it */
	g_autofree char *u1 = res_itip("REQUEST", "c1", 1, "20260702T080000Z", "20260716T100000Z",
				       "20260716T110000Z", ALICE, "cars@example.org", NULL, NULL);
	g_autoptr(MwTxn) t4 = run(ALICE, "cars@example.org", u1);
	assert_reply(t4, 1, "car1@example.org", "ACCEPTED");
	ck_assert_uint_eq(res_bookings(&env, "car1@example.org"), 1);
	ck_assert_uint_eq(res_bookings(&env, "car2@example.org"), 1);

	/* car1 gets a direct booking on the 17th; moving c1 there moves it to car2 */
	g_autofree char *direct =
		res_itip("REQUEST", "d1", 0, "20260701T080000Z", "20260717T100000Z",
			 "20260717T110000Z", ALICE, "car1@example.org", NULL, NULL);
	g_autoptr(MwTxn) t5 = run(ALICE, "car1@example.org", direct);
	assert_reply(t5, 0, "car1@example.org", "ACCEPTED");
	g_autofree char *mv = res_itip("REQUEST", "c1", 2, "20260703T080000Z", "20260717T100000Z",
				       "20260717T110000Z", ALICE, "car1@example.org", NULL, NULL);
	g_autoptr(MwTxn) t6 = run(ALICE, "car1@example.org", mv);
	assert_reply(t6, 0, "car1@example.org", "DELEGATED");
	assert_reply(t6, 1, "car2@example.org", "ACCEPTED");
	g_autoptr(icalcomponent) gone = res_booking(&env, "car1@example.org", "c1");
	ck_assert_ptr_null(gone);
	g_autoptr(icalcomponent) moved = res_booking(&env, "car2@example.org", "c1");
	ck_assert_ptr_nonnull(moved);

	/* a cancel through the collection reaches the member holding it */
	g_autofree char *cn = res_itip("CANCEL", "c1", 3, "20260704T080000Z", "20260717T100000Z",
				       "20260717T110000Z", ALICE, "cars@example.org", NULL, NULL);
	g_autoptr(MwTxn) t7 = run(ALICE, "cars@example.org", cn);
	g_autoptr(icalcomponent) cancelled = res_booking(&env, "car2@example.org", "c1");
	ck_assert_ptr_null(cancelled);
	/* the owner is told (ACT_ACCEPT_AND_NOTIFY) */
	ck_assert_uint_eq(t7->emitted->len, 1);
	ck_assert_str_eq(emitted_rcpt(t7, 0), "boss@example.org");
}
END_TEST

START_TEST(test_policies)
{
	/* ACT_REJECT */
	g_autofree char *m1 = res_itip("REQUEST", "p1", 0, "20260701T080000Z", "20260715T100000Z",
				       "20260715T110000Z", ALICE, "closed@example.org", NULL, NULL);
	g_autoptr(MwTxn) t1 = run(ALICE, "closed@example.org", m1);
	assert_reply(t1, 0, "closed@example.org", "DECLINED");
	ck_assert_uint_eq(res_bookings(&env, "closed@example.org"), 0);

	/* ACT_STORE_AND_NOTIFY: stored NEEDS-ACTION, owner notified, no reply */
	g_autofree char *m2 = res_itip("REQUEST", "p2", 0, "20260701T080000Z", "20260715T100000Z",
				       "20260715T110000Z", ALICE, "hall@example.org", NULL, NULL);
	g_autoptr(MwTxn) t2 = run(ALICE, "hall@example.org", m2);
	ck_assert_uint_eq(t2->emitted->len, 1);
	ck_assert_str_eq(emitted_rcpt(t2, 0), "boss@example.org");
	g_autoptr(GMimeMessage) n2 = emitted(t2, 0);
	ck_assert_str_eq(g_mime_message_get_subject(n2), "Neue Buchungsanfrage für Hall");
	g_autofree char *ps = partstat_in("hall@example.org", "p2", "hall@example.org");
	ck_assert_str_eq(ps, "NEEDS-ACTION");
}
END_TEST

START_TEST(test_manual_confirmation)
{
	g_autofree char *m1 = res_itip("REQUEST", "mc1", 2, "20260701T080000Z", "20260715T100000Z",
				       "20260715T110000Z", ALICE, "beamer@example.org", NULL, NULL);
	g_autoptr(MwTxn) t1 = run(ALICE, "beamer@example.org", m1);
	ck_assert_uint_eq(t1->emitted->len, 2);
	assert_reply(t1, 0, "beamer@example.org", "TENTATIVE");
	ck_assert_str_eq(emitted_rcpt(t1, 1), "boss@example.org");
	g_autoptr(GMimeMessage) req = emitted(t1, 1);
	ck_assert_str_eq(g_mime_message_get_subject(req),
			 "Buchungsanfrage für Beamer erfordert Bestätigung");
	g_autoptr(GPtrArray) itips = mw_itip_read_message(req, 0);
	ck_assert_uint_eq(itips->len, 1);
	MwItip *conf = g_ptr_array_index(itips, 0);
	ck_assert_str_eq(conf->method, "REQUEST");
	ck_assert_str_ne(conf->uid, "mc1");
	icalcomponent *cc = mw_itip_first_component(conf->vcal);
	g_autofree char *token = mw_res_token_encode("mc1");
	g_autofree char *plus = g_strdup_printf("beamer+%s@example.org", token);
	icalproperty *org = icalcomponent_get_first_property(cc, ICAL_ORGANIZER_PROPERTY);
	ck_assert_str_eq(icalproperty_get_organizer(org) + 7, plus);
	ck_assert_int_eq(icalcomponent_count_properties(cc, ICAL_ATTENDEE_PROPERTY), 1);
	ck_assert_int_eq(mw_itip_sequence(cc), 2);
	gboolean found = FALSE;
	for (icalproperty *x = icalcomponent_get_first_property(cc, ICAL_X_PROPERTY); x != NULL;
	     x = icalcomponent_get_next_property(cc, ICAL_X_PROPERTY))
		if (g_ascii_strcasecmp(icalproperty_get_x_name(x), "X-Kolab-InvitationType") == 0 &&
		    strcmp(icalproperty_get_x(x), "CONFIRMATION") == 0)
			found = TRUE;
	ck_assert(found);
	g_autofree char *ps = partstat_in("beamer@example.org", "mc1", "beamer@example.org");
	ck_assert_str_eq(ps, "TENTATIVE");

	/* the owner's answer: from somebody else, ignored */
	g_autofree char *fake =
		res_itip("REPLY", conf->uid, 2, "20260701T090000Z", "20260715T100000Z",
			 "20260715T110000Z", plus, "boss@example.org", NULL, NULL);
	g_autoptr(MwTxn) t2 = run("mallory@example.org", plus, fake);
	ck_assert_int_eq(verdict(t2, 0), MW_VERDICT_CONSUMED);
	ck_assert_uint_eq(t2->emitted->len, 0);
	/* stale (another SEQUENCE): ignored */
	g_autofree char *stale =
		res_itip("REPLY", conf->uid, 1, "20260701T090000Z", "20260715T100000Z",
			 "20260715T110000Z", plus, "boss@example.org", NULL, NULL);
	g_autoptr(MwTxn) t3 = run("boss@example.org", plus, stale);
	ck_assert_uint_eq(t3->emitted->len, 0);
	g_autofree char *still = partstat_in("beamer@example.org", "mc1", "beamer@example.org");
	ck_assert_str_eq(still, "TENTATIVE");
	/* the owner accepts: confirmed, the organizer hears ACCEPTED */
	g_autofree char *asked =
		res_itip("REPLY", conf->uid, 2, "20260701T090000Z", "20260715T100000Z",
			 "20260715T110000Z", plus, "boss@example.org", NULL, NULL);
	g_autofree char *accepted = replace(asked, "PARTSTAT=NEEDS-ACTION", "PARTSTAT=ACCEPTED");
	g_autoptr(MwTxn) t4 = run("boss@example.org", plus, accepted);
	ck_assert_uint_eq(t4->emitted->len, 1);
	assert_reply(t4, 0, "beamer@example.org", "ACCEPTED");
	ck_assert_str_eq(emitted_rcpt(t4, 0), ALICE);
	g_autofree char *done = partstat_in("beamer@example.org", "mc1", "beamer@example.org");
	ck_assert_str_eq(done, "ACCEPTED");
}
END_TEST

START_TEST(test_manual_decline)
{
	g_autofree char *m1 = res_itip("REQUEST", "md1", 0, "20260701T080000Z", "20260715T100000Z",
				       "20260715T110000Z", ALICE, "beamer@example.org", NULL, NULL);
	g_autoptr(MwTxn) t1 = run(ALICE, "beamer@example.org", m1);
	g_autoptr(GMimeMessage) req = emitted(t1, 1);
	g_autoptr(GPtrArray) itips = mw_itip_read_message(req, 0);
	MwItip *conf = g_ptr_array_index(itips, 0);
	g_autofree char *token = mw_res_token_encode("md1");
	g_autofree char *plus = g_strdup_printf("beamer+%s@example.org", token);
	g_autofree char *asked = res_itip("REPLY", conf->uid, 0, "20260701T090000Z",
					  "20260715T100000Z", "20260715T110000Z", plus,
					  "boss@example.org", "COMMENT:Beamer is broken\r\n", NULL);
	g_autofree char *declined = replace(asked, "PARTSTAT=NEEDS-ACTION", "PARTSTAT=DECLINED");
	g_autoptr(MwTxn) t2 = run("boss@example.org", plus, declined);
	assert_reply(t2, 0, "beamer@example.org", "DECLINED");
	g_autoptr(GMimeMessage) r = emitted(t2, 0);
	g_autofree char *body = res_text_body(r);
	ck_assert_msg(strstr(body, "Beamer is broken") != NULL, "%s", body);
	ck_assert_uint_eq(res_bookings(&env, "beamer@example.org"), 0);
}
END_TEST

START_TEST(test_sender_checks)
{
	/* ORGANIZER is not the sender: not booked, not answered, consumed */
	g_autofree char *m1 =
		res_itip("REQUEST", "v1", 0, "20260701T080000Z", "20260715T100000Z",
			 "20260715T110000Z", ALICE, "room102@example.org", NULL, NULL);
	g_autoptr(MwTxn) t1 = run("mallory@example.org", "room102@example.org", m1);
	ck_assert_int_eq(verdict(t1, 0), MW_VERDICT_CONSUMED);
	ck_assert_uint_eq(t1->emitted->len, 0);
	ck_assert_uint_eq(res_bookings(&env, "room102@example.org"), 0);
	/* where the policy notifies, the owner learns about it */
	g_autofree char *m3 = res_itip("REQUEST", "v3", 0, "20260701T080000Z", "20260715T100000Z",
				       "20260715T110000Z", ALICE, "cars@example.org", NULL, NULL);
	g_autoptr(MwTxn) t4 = run("mallory@example.org", "cars@example.org", m3);
	ck_assert_int_eq(verdict(t4, 0), MW_VERDICT_CONSUMED);
	ck_assert_uint_eq(t4->emitted->len, 1);
	ck_assert_str_eq(emitted_rcpt(t4, 0), "boss@example.org");
	g_autoptr(GMimeMessage) n4 = emitted(t4, 0);
	ck_assert_str_eq(g_mime_message_get_subject(n4), "Buchung für Car Pool ist fehlgeschlagen");
	g_autofree char *b4 = res_text_body(n4);
	ck_assert_msg(strstr(b4, "<mallory@example.org>") != NULL, "%s", b4);
	ck_assert_uint_eq(res_bookings(&env, "car1@example.org"), 0);
	/* from <>: booked (verification off) but never answered */
	load("verify_organizer = false\nexpire_days = 0");
	g_autoptr(MwTxn) t2 = run("", "room102@example.org", m1);
	ck_assert_uint_eq(t2->emitted->len, 0);
	ck_assert_uint_eq(res_bookings(&env, "room102@example.org"), 1);
	/* an auto-reply is not answered either */
	load("expire_days = 0");
	g_autofree char *m2 =
		res_itip("REQUEST", "v2", 0, "20260701T080000Z", "20260716T100000Z",
			 "20260716T110000Z", ALICE, "room102@example.org", NULL, NULL);
	g_autofree char *auto_m2 = g_strconcat("Auto-Submitted: auto-replied\r\n", m2, NULL);
	g_autoptr(MwTxn) t3 = run(ALICE, "room102@example.org", auto_m2);
	ck_assert_uint_eq(t3->emitted->len, 0);
	ck_assert_uint_eq(res_bookings(&env, "room102@example.org"), 2);
}
END_TEST

START_TEST(test_untouched_cases)
{
	/* not iTip: untouched */
	const char *plain =
		"From: a@example.org\r\nTo: room101@example.org\r\nSubject: hi\r\n\r\nhello\r\n";
	g_autoptr(MwTxn) t1 = run(ALICE, "room101@example.org", plain);
	ck_assert_int_eq(verdict(t1, 0), MW_VERDICT_CONTINUE);
	ck_assert_uint_eq(t1->emitted->len, 0);
	ck_assert(!((MwDelivery *) g_ptr_array_index(t1->deliveries, 0))->modified);
	/* iTip that does not list the resource: passed on */
	g_autofree char *m = res_itip("REQUEST", "n1", 0, "20260701T080000Z", "20260715T100000Z",
				      "20260715T110000Z", ALICE, "bob@example.org", NULL, NULL);
	g_autoptr(MwTxn) t2 = run(ALICE, "room101@example.org", m);
	ck_assert_int_eq(verdict(t2, 0), MW_VERDICT_CONTINUE);
	ck_assert_uint_eq(t2->emitted->len, 0);
}
END_TEST

START_TEST(test_alias_and_german)
{
	/* invited under an alias in upper case, by a German-speaking organizer */
	g_autofree char *m =
		res_itip("REQUEST", "a1", 0, "20260701T080000Z", "20260715T100000Z",
			 "20260715T110000Z", "hans@example.org", "R101@Example.org", NULL, NULL);
	g_autoptr(MwTxn) t = run("Hans@Example.org", "r101@example.org", m);
	ck_assert_int_eq(verdict(t, 0), MW_VERDICT_CONSUMED);
	assert_reply(t, 0, "r101@example.org", "ACCEPTED");
	g_autoptr(GMimeMessage) r = emitted(t, 0);
	ck_assert_str_eq(g_mime_message_get_subject(r),
			 "Reservierungsanfrage für Meeting a1 wurde: Angenommen");
	ck_assert_uint_eq(res_bookings(&env, "room101@example.org"), 1);
}
END_TEST

START_TEST(test_expire)
{
	load("expire_days = 100");
	g_autofree char *old =
		res_itip("REQUEST", "e1", 0, "20200101T080000Z", "20200115T100000Z",
			 "20200115T110000Z", ALICE, "room102@example.org", NULL, NULL);
	g_autofree char *forever = res_itip("REQUEST", "e2", 0, "20200101T080000Z",
					    "20200116T100000Z", "20200116T110000Z", ALICE,
					    "room102@example.org", "RRULE:FREQ=WEEKLY\r\n", NULL);
	/* ended 10 days ago: kept (the limit is 100 days) */
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_autoptr(GDateTime) past = g_date_time_add_days(now, -10);
	/* 13:00, never the weekly 10:00 series' time whatever weekday it is */
	g_autofree char *s = g_date_time_format(past, "%Y%m%dT130000Z");
	g_autofree char *e = g_date_time_format(past, "%Y%m%dT140000Z");
	g_autofree char *recent = res_itip("REQUEST", "e3", 0, "20200101T080000Z", s, e, ALICE,
					   "room102@example.org", NULL, NULL);
	mw_txn_free(run(ALICE, "room102@example.org", old));
	mw_txn_free(run(ALICE, "room102@example.org", forever));
	mw_txn_free(run(ALICE, "room102@example.org", recent));
	ck_assert_uint_eq(res_bookings(&env, "room102@example.org"), 3);
	MwModule *module = mw_config_get_module(config, "resources");
	g_autoptr(GError) error = NULL;
	guint removed = mw_res_expire_run(module, g_get_real_time() / G_USEC_PER_SEC, &error);
	ck_assert_msg(error == NULL, "%s", error->message);
	ck_assert_uint_eq(removed, 1);
	g_autoptr(icalcomponent) gone = res_booking(&env, "room102@example.org", "e1");
	ck_assert_ptr_null(gone);
	ck_assert_uint_eq(res_bookings(&env, "room102@example.org"), 2);
}
END_TEST

/* sample - a client's invitation from src/itip/tests/data */
static char *
sample(const char *name)
{
	g_autofree char *path = g_build_filename(MW_TEST_SRCDIR, "..", "..", "src", "itip", "tests",
						 "data", name, NULL);
	char *text = NULL;
	ck_assert_msg(g_file_get_contents(path, &text, NULL, NULL), "%s", path);
	return text;
}

START_TEST(test_client_samples)
{
	/* Outlook: base64, Windows zone name; the reply carries the zone it uses */
	g_autofree char *outlook = sample("outlook-request.eml");
	g_autoptr(MwTxn) t1 = run(ALICE, "bob@example.org,Room101@Example.org", outlook);
	ck_assert_int_eq(verdict(t1, 1), MW_VERDICT_CONSUMED);
	ck_assert_int_eq(verdict(t1, 0), MW_VERDICT_CONTINUE);
	ck_assert_uint_eq(t1->emitted->len, 1);
	assert_reply(t1, 0, "room101@example.org", "ACCEPTED");
	g_autoptr(GMimeMessage) r1 = emitted(t1, 0);
	g_autoptr(GPtrArray) i1 = mw_itip_read_message(r1, 0);
	icalcomponent *reply = ((MwItip *) g_ptr_array_index(i1, 0))->vcal;
	icalcomponent *tz = icalcomponent_get_first_component(reply, ICAL_VTIMEZONE_COMPONENT);
	ck_assert_ptr_nonnull(tz);
	ck_assert_str_eq(
		icalproperty_get_tzid(icalcomponent_get_first_property(tz, ICAL_TZID_PROPERTY)),
		"W. Europe Standard Time");
	ck_assert_ptr_null(icalcomponent_get_first_component(mw_itip_first_component(reply),
							     ICAL_VALARM_COMPONENT));
	/* Google: the same invitation twice in one message, one booking, one reply */
	g_autofree char *google = sample("google-request.eml");
	g_autoptr(MwTxn) t2 = run("carol@gmail.example", "room101@example.org", google);
	ck_assert_uint_eq(t2->emitted->len, 1);
	assert_reply(t2, 0, "room101@example.org", "ACCEPTED");
	/* Thunderbird: quoted-printable, an infinite weekly series */
	g_autofree char *tb = sample("thunderbird-request.eml");
	g_autoptr(MwTxn) t3 = run("dieter@example.org", "room101@example.org", tb);
	assert_reply(t3, 0, "room101@example.org", "ACCEPTED");
	ck_assert_uint_eq(res_bookings(&env, "room101@example.org"), 3);
	/* a Monday three months on clashes with the series */
	g_autofree char *monday =
		res_itip("REQUEST", "tb-clash", 0, "20260701T080000Z", "20261019T073000Z",
			 "20261019T080000Z", ALICE, "room101@example.org", NULL, NULL);
	g_autoptr(MwTxn) t4 = run(ALICE, "room101@example.org", monday);
	assert_reply(t4, 0, "room101@example.org", "DECLINED");
	/* Apple Calendar */
	g_autofree char *apple = sample("apple-request.eml");
	g_autoptr(MwTxn) t5 = run("erin@example.org", "projector3@example.org", apple);
	assert_reply(t5, 0, "projector3@example.org", "ACCEPTED");
	/* Roundcube: all-day, to a collection under its Kolab-style alias */
	g_autofree char *rc = sample("roundcube-request.eml");
	g_autoptr(MwTxn) t6 = run("frank@example.org", "resource-collection-car@example.org", rc);
	ck_assert_uint_eq(t6->emitted->len, 3);
	assert_reply(t6, 0, "resource-collection-car@example.org", "DELEGATED");
	assert_reply(t6, 1, "car1@example.org", "ACCEPTED");
	g_autoptr(GMimeMessage) d = emitted(t6, 0);
	g_autofree char *body = res_text_body(d);
	ck_assert_msg(strstr(body, "delegated to \"Car 1\"") != NULL, "%s", body);
}
END_TEST

START_TEST(test_helpers)
{
	ck_assert_uint_eq(mw_res_policy(mw_config_get_module(config, "resources")->priv, NULL),
			  MW_POL_ACCEPT);
	const char *uids[] = {"mc1", "040000008200E00074C5B7101A82E008+/=", "ä"};
	for (gsize i = 0; i < G_N_ELEMENTS(uids); i++) {
		g_autofree char *t = mw_res_token_encode(uids[i]);
		ck_assert(strchr(t, '+') == NULL);
		g_autofree char *back = mw_res_token_decode(t);
		ck_assert_str_eq(back, uids[i]);
		g_autofree char *addr = g_strdup_printf("Room+%s@Example.org", t);
		g_autofree char *token = NULL;
		g_autofree char *bare = mw_res_split_address(addr, &token);
		ck_assert_str_eq(bare, "room@example.org");
		ck_assert_str_eq(token, t);
	}
	g_autofree char *tok = NULL;
	g_autofree char *plain = mw_res_split_address("a.b@x.org", &tok);
	ck_assert_str_eq(plain, "a.b@x.org");
	ck_assert_ptr_null(tok);
	/* bad config values */
	g_autofree char *keys = res_env_config_keys(&env);
	const char *bad[] = {"timezone = Mars/Olympus", "default_policy = ACT_MAYBE",
			     "expire_days = -1"};
	for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autofree char *text = g_strdup_printf("[mailwarden]\nstate_dir = %s\nmodules = "
							"resources\n%s\n[resources]\n%s\n",
							env.state, keys, bad[i]);
		g_autoptr(GError) error = NULL;
		g_autoptr(MwConfig) c = mw_config_load_data(text, NULL, &error);
		ck_assert_msg(c == NULL, "accepted %s", bad[i]);
	}
	/* a directory that cannot be read fails the start (and --check-config) */
	g_autofree char *text =
		g_strdup_printf("[mailwarden]\nstate_dir = %s\nmodules = resources\n"
				"directory = %s/nonexistent.conf\ncalendars = dir:%s\n",
				env.state, env.dir, env.calendars);
	g_autoptr(GError) error = NULL;
	g_autoptr(MwConfig) nodir = mw_config_load_data(text, NULL, &error);
	ck_assert_ptr_nonnull(nodir);
	ck_assert(!mw_pipeline_start(nodir, &error));
	ck_assert_msg(strstr(error->message, "nonexistent.conf") != NULL, "%s", error->message);
}
END_TEST

static Suite *
unit_suite(void)
{
	Suite *suite = suite_create("mod-resources-unit");
	TCase *tc = tcase_create("pipeline");
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_accept_and_decline);
	tcase_add_test(tc, test_updates_and_idempotence);
	tcase_add_test(tc, test_cancel_and_instances);
	tcase_add_test(tc, test_collection_delegation);
	tcase_add_test(tc, test_policies);
	tcase_add_test(tc, test_manual_confirmation);
	tcase_add_test(tc, test_manual_decline);
	tcase_add_test(tc, test_sender_checks);
	tcase_add_test(tc, test_untouched_cases);
	tcase_add_test(tc, test_alias_and_german);
	tcase_add_test(tc, test_expire);
	tcase_add_test(tc, test_client_samples);
	tcase_add_test(tc, test_helpers);
	suite_add_tcase(suite, tc);
	return suite;
}

int
main(void)
{
	g_setenv("MW_LOCALEDIR", MW_TEST_LOCALEDIR, TRUE);
	g_mime_init();
	SRunner *runner = srunner_create(unit_suite());
	srunner_run_all(runner, CK_ENV);
	int failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	g_mime_shutdown();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
