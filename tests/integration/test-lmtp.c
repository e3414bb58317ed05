/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-lmtp - protocol = lmtp: one reply per accepted recipient
 * SYNOPSIS
 *	integration/test-lmtp
 * DESCRIPTION
 *	LHLO, then after the final dot one reply per accepted recipient in
 *	RCPT order (RFC 2033): all 250 for a clean message; per-recipient
 *	reject/tempfail verdicts (test_verdict) and per-recipient downstream
 *	refusals give those recipients their own 5xx/4xx while the others get
 *	250 and exactly one copy; recipients refused at RCPT get no reply.
 */

#include <stdio.h>
#include <string.h>

#include "mw-test-util.h"

#define LMTP "protocol = lmtp\n"

/* read_replies - after the dot: @n replies, their codes into @codes */
static void
read_replies(MwtSmtp *s, guint n, int *codes, char **texts)
{
	for (guint i = 0; i < n; i++) {
		codes[i] = mwt_smtp_read(s);
		texts[i] = g_strdup(s->text);
	}
}

/* lmtp_send - MAIL, each RCPT (expect 2xx), DATA, message */
static void
lmtp_send(MwtSmtp *s, const char *const *rcpts, GBytes *msg)
{
	mwt_smtp_ok(s, "MAIL FROM:<sender@example.org>");
	for (guint i = 0; rcpts[i] != NULL; i++)
		mwt_smtp_ok(s, "RCPT TO:<%s>", rcpts[i]);
	mwt_smtp_cmd_expect(s, 354, "DATA");
	ck_assert(mwt_smtp_data(s, MWT_BYTES(msg)));
}

/* delivered_counts - how many sink messages list each of @rcpts (quiesced first) */
static GHashTable *
delivered_counts(void)
{
	GHashTable *counts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	mwt_sink_quiesce();
	for (guint n = 1; n <= mwt_sink_count(); n++) {
		g_autofree char *env = mwt_sink_envelope(n);
		g_autoptr(GPtrArray) rcpts = mwt_env_rcpts(env);
		for (guint i = 0; i < rcpts->len; i++) {
			const char *r = g_ptr_array_index(rcpts, i);
			guint c = GPOINTER_TO_UINT(g_hash_table_lookup(counts, r));
			g_hash_table_insert(counts, g_strdup(r), GUINT_TO_POINTER(c + 1));
		}
	}
	return counts;
}

/* copies - entries of delivered_counts() */
static guint
copies(GHashTable *counts, const char *rcpt)
{
	return GPOINTER_TO_UINT(g_hash_table_lookup(counts, rcpt));
}

START_TEST(test_lhlo_and_all_ok)
{
	static const char *const rcpts[] = {"a@example.net", "b@example.net", "c@example.net",
					    NULL};
	g_autoptr(MwtSmtp) s = NULL;
	g_autoptr(GBytes) msg = mwt_message("lmtp all ok", NULL);
	g_autoptr(GHashTable) counts = NULL;
	int codes[3];
	char *texts[3];

	mwt_start(2, LMTP, NULL);
	s = mwt_smtp_connect(mwt->port);
	mwt_smtp_expect(s, 220);
	mwt_smtp_cmd_expect(s, 250, "LHLO client.example");
	ck_assert_msg(mwt_smtp_has_line(s, "PIPELINING") &&
			      mwt_smtp_has_line(s, "ENHANCEDSTATUSCODES"),
		      "LHLO:\n%s", s->text);
	lmtp_send(s, rcpts, msg);
	read_replies(s, 3, codes, texts);
	for (guint i = 0; i < 3; i++) {
		ck_assert_msg(codes[i] == 250, "recipient %u: %d \"%s\"", i, codes[i], texts[i]);
		g_free(texts[i]);
	}
	/* no fourth reply: the next reply is the one for FOO */
	mwt_smtp_cmd_expect(s, 502, "FOO");
	counts = delivered_counts();
	for (guint i = 0; i < 3; i++)
		ck_assert_msg(copies(counts, rcpts[i]) == 1, "%s got %u copies", rcpts[i],
			      copies(counts, rcpts[i]));
}
END_TEST

START_TEST(test_per_rcpt_verdicts)
{
	static const char *const rcpts[] = {"ok1@example.net", "reject1@example.net",
					    "tempfail1@example.net", "ok2@example.net", NULL};
	static const int classes[] = {2, 5, 4, 2};
	g_autoptr(MwtSmtp) s = NULL;
	g_autoptr(GBytes) msg = mwt_message("lmtp per recipient", NULL);
	g_autoptr(GHashTable) counts = NULL;
	int codes[4];
	char *texts[4];

	mwt_start(2, LMTP "modules = test_verdict", NULL);
	s = mwt_smtp_open(mwt->port, "LHLO client.example");
	lmtp_send(s, rcpts, msg);
	read_replies(s, 4, codes, texts);
	for (guint i = 0; i < 4; i++) {
		ck_assert_msg(codes[i] / 100 == classes[i], "%s: expected %dxx, got %d \"%s\"",
			      rcpts[i], classes[i], codes[i], texts[i]);
		g_free(texts[i]);
	}
	counts = delivered_counts();
	ck_assert_uint_eq(copies(counts, "ok1@example.net"), 1);
	ck_assert_uint_eq(copies(counts, "ok2@example.net"), 1);
	ck_assert_uint_eq(copies(counts, "reject1@example.net"), 0);
	ck_assert_uint_eq(copies(counts, "tempfail1@example.net"), 0);
	mwt_smtp_cmd_expect(s, 250, "NOOP");
}
END_TEST

START_TEST(test_verdict_for_all)
{
	static const char *const rcpts[] = {"a@example.net", "b@example.net", NULL};
	static const struct {
		const char *verdict;
		int cls;
	} cases[] = {{"reject", 5}, {"tempfail", 4}};
	g_autoptr(MwtSmtp) s = NULL;

	mwt_start(2, LMTP "modules = test_verdict", NULL);
	s = mwt_smtp_open(mwt->port, "LHLO client.example");
	for (guint c = 0; c < G_N_ELEMENTS(cases); c++) {
		g_autofree char *header = g_strdup_printf("X-Test-Verdict: %s", cases[c].verdict);
		g_autoptr(GBytes) msg = mwt_message(cases[c].verdict, header);
		int codes[2];
		char *texts[2];

		lmtp_send(s, rcpts, msg);
		read_replies(s, 2, codes, texts);
		for (guint i = 0; i < 2; i++) {
			ck_assert_msg(codes[i] / 100 == cases[c].cls, "%s, %s: got %d \"%s\"",
				      cases[c].verdict, rcpts[i], codes[i], texts[i]);
			g_free(texts[i]);
		}
	}
	mwt_sink_quiesce();
	ck_assert_uint_eq(mwt_sink_count(), 0);
}
END_TEST

START_TEST(test_downstream_rcpt_reject)
{
	static const char *const rcpts[] = {"good1@example.net", "bad@example.net",
					    "good2@example.net", NULL};
	g_autoptr(MwtSmtp) s = NULL;
	g_autoptr(GBytes) msg = mwt_message("lmtp downstream refuses one", NULL);
	g_autoptr(GHashTable) counts = NULL;
	int codes[3];
	char *texts[3];

	mwt_start(2, LMTP, NULL);
	mwt_sink_mode("reject-rcpt:bad@example.net");
	s = mwt_smtp_open(mwt->port, "LHLO client.example");
	lmtp_send(s, rcpts, msg);
	read_replies(s, 3, codes, texts);
	ck_assert_msg(codes[0] == 250, "good1: %d \"%s\"", codes[0], texts[0]);
	ck_assert_msg(codes[1] / 100 == 5 && strstr(texts[1], "sink reject-rcpt") != NULL,
		      "bad: %d \"%s\"", codes[1], texts[1]);
	ck_assert_msg(codes[2] == 250, "good2: %d \"%s\"", codes[2], texts[2]);
	for (guint i = 0; i < 3; i++)
		g_free(texts[i]);
	counts = delivered_counts();
	ck_assert_uint_eq(copies(counts, "good1@example.net"), 1);
	ck_assert_uint_eq(copies(counts, "good2@example.net"), 1);
	ck_assert_uint_eq(copies(counts, "bad@example.net"), 0);
}
END_TEST

START_TEST(test_downstream_tempfail)
{
	static const char *const rcpts[] = {"a@example.net", "b@example.net", "c@example.net",
					    NULL};
	g_autoptr(MwtSmtp) s = NULL;
	g_autoptr(GBytes) msg = mwt_message("lmtp downstream tempfail", NULL);
	int codes[3];
	char *texts[3];

	mwt_start(2, LMTP, NULL);
	mwt_sink_mode("tempfail-dot");
	s = mwt_smtp_open(mwt->port, "LHLO client.example");
	lmtp_send(s, rcpts, msg);
	read_replies(s, 3, codes, texts);
	for (guint i = 0; i < 3; i++) {
		ck_assert_msg(codes[i] == 451 && strstr(texts[i], "sink tempfail-dot") != NULL,
			      "%s: %d \"%s\"", rcpts[i], codes[i], texts[i]);
		g_free(texts[i]);
	}
	mwt_sink_quiesce();
	ck_assert_uint_eq(mwt_sink_count(), 0);
}
END_TEST

START_TEST(test_only_accepted_rcpts_answered)
{
	g_autoptr(MwtSmtp) s = NULL;
	g_autoptr(GBytes) msg = mwt_message("lmtp with a refused RCPT", NULL);
	int codes[2];
	char *texts[2];

	mwt_start(2, LMTP, NULL);
	s = mwt_smtp_open(mwt->port, "LHLO client.example");
	mwt_smtp_ok(s, "MAIL FROM:<sender@example.org>");
	mwt_smtp_ok(s, "RCPT TO:<a@example.net>");
	mwt_smtp_cmd_expect(s, 501, "RCPT TO:<broken@example.net");
	mwt_smtp_ok(s, "RCPT TO:<b@example.net>");
	mwt_smtp_cmd_expect(s, 354, "DATA");
	mwt_smtp_data(s, MWT_BYTES(msg));
	read_replies(s, 2, codes, texts);
	for (guint i = 0; i < 2; i++) {
		ck_assert_msg(codes[i] == 250, "recipient %u: %d \"%s\"", i, codes[i], texts[i]);
		g_free(texts[i]);
	}
	/* a third reply would show up here instead of 502 */
	mwt_smtp_cmd_expect(s, 502, "FOO");
	mwt_sink_wait(1);
}
END_TEST

START_TEST(test_data_without_rcpt)
{
	g_autoptr(MwtSmtp) s = NULL;

	/* RFC 2033 4.2: no successful RCPT -> DATA fails with 503 */
	mwt_start(2, LMTP, NULL);
	s = mwt_smtp_open(mwt->port, "LHLO client.example");
	mwt_smtp_ok(s, "MAIL FROM:<sender@example.org>");
	mwt_smtp_cmd_expect(s, 501, "RCPT TO:<broken@example.net");
	mwt_smtp_cmd_expect(s, 503, "DATA");
	mwt_smtp_cmd_expect(s, 250, "RSET");
}
END_TEST

START_TEST(test_split_and_emit_failure)
{
	static const char *const rcpts[] = {"a@example.net", "split1@example.net", NULL};
	g_autoptr(MwtSmtp) s = NULL;
	g_autoptr(GBytes) plain = mwt_message("lmtp split", NULL);
	g_autoptr(GBytes) emits = mwt_message("lmtp emit", "X-Test-Emit: notify@example.org");
	int codes[2];
	char *texts[2];

	mwt_start(2, LMTP "modules = test_split, test_emit", NULL);
	s = mwt_smtp_open(mwt->port, "LHLO client.example");
	lmtp_send(s, rcpts, plain);
	read_replies(s, 2, codes, texts);
	for (guint i = 0; i < 2; i++) {
		ck_assert_msg(codes[i] == 250, "split, %s: %d \"%s\"", rcpts[i], codes[i],
			      texts[i]);
		g_free(texts[i]);
	}
	mwt_sink_wait(2);
	mwt_sink_quiesce();
	ck_assert_uint_eq(mwt_sink_count(), 2);

	/* a required emitted message that cannot be sent fails every recipient */
	mwt_sink_mode("reject-rcpt:notify@example.org");
	lmtp_send(s, rcpts, emits);
	read_replies(s, 2, codes, texts);
	for (guint i = 0; i < 2; i++) {
		ck_assert_msg(codes[i] / 100 == 4, "emit failure, %s: %d \"%s\"", rcpts[i],
			      codes[i], texts[i]);
		g_free(texts[i]);
	}
	mwt_sink_quiesce();
	ck_assert_uint_eq(mwt_sink_count(), 2);
}
END_TEST

static Suite *
lmtp_suite(void)
{
	Suite *suite = suite_create("lmtp");
	TCase *tc = mwt_tcase("lmtp", 60);

	tcase_add_test(tc, test_lhlo_and_all_ok);
	tcase_add_test(tc, test_per_rcpt_verdicts);
	tcase_add_test(tc, test_verdict_for_all);
	tcase_add_test(tc, test_downstream_rcpt_reject);
	tcase_add_test(tc, test_downstream_tempfail);
	tcase_add_test(tc, test_only_accepted_rcpts_answered);
	tcase_add_test(tc, test_data_without_rcpt);
	tcase_add_test(tc, test_split_and_emit_failure);
	suite_add_tcase(suite, tc);
	return suite;
}

int
main(void)
{
	return mwt_main(lmtp_suite());
}
