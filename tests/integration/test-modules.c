/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-modules - what the pipeline does with the modules' results
 * SYNOPSIS
 *	integration/test-modules
 * DESCRIPTION
 *	Through the test modules of mailwarden-test: split (own variant per
 *	recipient), consume (not delivered, 250), emit (a new message in the
 *	same step; its failure tempfails the original), verdicts for the
 *	whole message and per recipient in SMTP mode (rejected recipients
 *	among delivered ones get a bounce, a tempfailed one defers everything
 *	without a copy going out), on_error = tempfail | pass | reject, and a
 *	modification (header added, SIZE recomputed, body untouched).
 *
 *	"Nothing delivered" is proven with a sentinel: a clean message sent
 *	afterwards on the same connection must be sink message number 1.
 */

#include <stdio.h>
#include <string.h>

#include "mw-test-util.h"

static const char *const one_rcpt[] = {"rcpt@example.net", NULL};

/* send_sentinel - a clean message; asserts it is the sink's message @n */
static void
send_sentinel(MwtSmtp *s, guint n)
{
	g_autoptr(GBytes) sentinel = mwt_message("sentinel", NULL);
	g_autoptr(GBytes) got = NULL;

	ck_assert_int_eq(
		mwt_smtp_message(s, "sentinel@example.org", NULL, one_rcpt, MWT_BYTES(sentinel)),
		250);
	mwt_sink_wait(n);
	mwt_sink_quiesce();
	ck_assert_msg(mwt_sink_count() == n, "the sink has %u messages, expected %u; events:\n%s",
		      mwt_sink_count(), n, mwt_sink_events());
	got = mwt_sink_message(n);
	mwt_assert_bytes_equal(sentinel, got);
}

/* find_delivery - the first sink message whose envelope lists @rcpt, or 0 */
static guint
find_delivery(const char *rcpt)
{
	for (guint n = 1; n <= mwt_sink_count(); n++) {
		g_autofree char *env = mwt_sink_envelope(n);
		g_autoptr(GPtrArray) rcpts = mwt_env_rcpts(env);
		for (guint i = 0; i < rcpts->len; i++)
			if (strcmp(g_ptr_array_index(rcpts, i), rcpt) == 0)
				return n;
	}
	return 0;
}

/* body_equal - whether @a and @b have the same body (after the header block) */
static gboolean
body_equal(GBytes *a, GBytes *b)
{
	gsize alen, blen;
	const char *ad = g_bytes_get_data(a, &alen);
	const char *bd = g_bytes_get_data(b, &blen);
	gsize ao = mwt_body_offset(a), bo = mwt_body_offset(b);

	return alen - ao == blen - bo && memcmp(ad + ao, bd + bo, alen - ao) == 0;
}

START_TEST(test_split)
{
	static const char *const rcpts[] = {"a@example.net", "split1@example.net", "b@example.net",
					    NULL};
	g_autoptr(MwtSmtp) s = NULL;
	g_autoptr(GBytes) msg = mwt_message("split me", NULL);
	g_autoptr(GBytes) orig = NULL;
	g_autoptr(GBytes) variant = NULL;
	g_autofree char *orig_env = NULL;
	g_autofree char *variant_env = NULL;
	g_autofree char *header = NULL;
	g_autofree char *orig_header = NULL;
	g_autoptr(GPtrArray) orig_rcpts = NULL;
	g_autoptr(GPtrArray) variant_rcpts = NULL;
	guint n_orig, n_variant;

	mwt_start(2, "modules = test_split", NULL);
	s = mwt_smtp_open(mwt->port, "EHLO client.example");
	ck_assert_int_eq(mwt_smtp_message(s, "sender@example.org", NULL, rcpts, MWT_BYTES(msg)),
			 250);
	mwt_sink_wait(2);
	mwt_sink_quiesce();
	ck_assert_uint_eq(mwt_sink_count(), 2);
	n_orig = find_delivery("a@example.net");
	n_variant = find_delivery("split1@example.net");
	ck_assert_msg(n_orig != 0 && n_variant != 0 && n_orig != n_variant,
		      "deliveries: a@ in %u, split1@ in %u", n_orig, n_variant);
	orig_env = mwt_sink_envelope(n_orig);
	variant_env = mwt_sink_envelope(n_variant);
	orig_rcpts = mwt_env_rcpts(orig_env);
	variant_rcpts = mwt_env_rcpts(variant_env);
	ck_assert_msg(orig_rcpts->len == 2 &&
			      strcmp(g_ptr_array_index(orig_rcpts, 1), "b@example.net") == 0,
		      "original delivery:\n%s", orig_env);
	ck_assert_msg(variant_rcpts->len == 1, "variant delivery:\n%s", variant_env);
	ck_assert_msg(strstr(variant_env, "MAIL FROM:<sender@example.org>") != NULL,
		      "variant envelope:\n%s", variant_env);

	orig = mwt_sink_message(n_orig);
	mwt_assert_bytes_equal(msg, orig);
	variant = mwt_sink_message(n_variant);
	header = mwt_header(variant, "X-Test-Variant");
	ck_assert_msg(g_strcmp0(header, "split") == 0, "variant header X-Test-Variant: %s", header);
	orig_header = mwt_header(orig, "X-Test-Variant");
	ck_assert_msg(orig_header == NULL, "the original got the variant's header");
	ck_assert_msg(body_equal(msg, variant), "the variant's body changed");
}
END_TEST

START_TEST(test_consume)
{
	static const char *const mixed[] = {"consume1@example.net", "a@example.net", NULL};
	static const char *const only[] = {"consume1@example.net", "consume2@example.net", NULL};
	g_autoptr(MwtSmtp) s = NULL;
	g_autoptr(GBytes) msg = mwt_message("consume some", NULL);
	g_autoptr(GBytes) only_msg = mwt_message("consume all", NULL);
	g_autoptr(GBytes) got = NULL;
	g_autofree char *env = NULL;
	g_autoptr(GPtrArray) rcpts = NULL;

	mwt_start(2, "modules = test_consume", NULL);
	s = mwt_smtp_open(mwt->port, "EHLO client.example");
	ck_assert_int_eq(mwt_smtp_message(s, "sender@example.org", NULL, mixed, MWT_BYTES(msg)),
			 250);
	mwt_sink_wait(1);
	env = mwt_sink_envelope(1);
	rcpts = mwt_env_rcpts(env);
	ck_assert_msg(rcpts->len == 1 && strcmp(g_ptr_array_index(rcpts, 0), "a@example.net") == 0,
		      "consumed recipient delivered:\n%s", env);
	got = mwt_sink_message(1);
	mwt_assert_bytes_equal(msg, got);

	/* everybody consumed: 250 and nothing goes out */
	ck_assert_int_eq(mwt_smtp_message(s, "sender@example.org", NULL, only, MWT_BYTES(only_msg)),
			 250);
	send_sentinel(s, 2);
}
END_TEST

START_TEST(test_emit)
{
	g_autoptr(MwtSmtp) s = NULL;
	g_autoptr(GBytes) msg = mwt_message("emit a notice", "X-Test-Emit: notify@example.org");
	g_autoptr(GBytes) orig = NULL;
	g_autoptr(GBytes) notice = NULL;
	g_autofree char *env = NULL;
	g_autofree char *auto_submitted = NULL;
	g_autofree char *subject = NULL;
	guint n_orig, n_notice;

	mwt_start(2, "modules = test_emit", NULL);
	s = mwt_smtp_open(mwt->port, "EHLO client.example");
	ck_assert_int_eq(mwt_smtp_message(s, "sender@example.org", NULL, one_rcpt, MWT_BYTES(msg)),
			 250);
	mwt_sink_wait(2);
	mwt_sink_quiesce();
	ck_assert_uint_eq(mwt_sink_count(), 2);
	n_orig = find_delivery("rcpt@example.net");
	n_notice = find_delivery("notify@example.org");
	ck_assert_msg(n_orig != 0 && n_notice != 0 && n_orig != n_notice, "original %u, notice %u",
		      n_orig, n_notice);
	orig = mwt_sink_message(n_orig);
	mwt_assert_bytes_equal(msg, orig);
	env = mwt_sink_envelope(n_notice);
	ck_assert_msg(strstr(env, "MAIL FROM:<>") != NULL, "emitted envelope:\n%s", env);
	notice = mwt_sink_message(n_notice);
	auto_submitted = mwt_header(notice, "Auto-Submitted");
	subject = mwt_header(notice, "Subject");
	ck_assert_msg(g_strcmp0(auto_submitted, "auto-replied") == 0, "Auto-Submitted: %s",
		      auto_submitted);
	ck_assert_msg(g_strcmp0(subject, "Test emit") == 0, "Subject: %s", subject);
}
END_TEST

START_TEST(test_emit_failure_tempfails)
{
	g_autoptr(MwtSmtp) s = NULL;
	g_autoptr(GBytes) msg = mwt_message("emit refused", "X-Test-Emit: notify@example.org");
	int code;

	mwt_start(2, "modules = test_emit", NULL);
	mwt_sink_mode("reject-rcpt:notify@example.org");
	s = mwt_smtp_open(mwt->port, "EHLO client.example");
	code = mwt_smtp_message(s, "sender@example.org", NULL, one_rcpt, MWT_BYTES(msg));
	ck_assert_msg(code / 100 == 4, "required emit refused: got %d \"%s\"", code, s->text);
	mwt_sink_quiesce();
	ck_assert_msg(mwt_sink_count() == 0, "delivered although the emit failed; events:\n%s",
		      mwt_sink_events());

	/* Postfix retries once the downstream takes the notice: both go out */
	mwt_sink_mode("ok");
	ck_assert_int_eq(mwt_smtp_message(s, "sender@example.org", NULL, one_rcpt, MWT_BYTES(msg)),
			 250);
	mwt_sink_wait(2);
}
END_TEST

START_TEST(test_verdicts)
{
	static const struct {
		const char *verdict;
		int code;           /* exact or class */
		const char *action; /* in the summary line (the final action) */
	} cases[] = {{"reject", 5, "reject"},
		     {"tempfail", 4, "defer"},
		     {"discard", 250, "discard"},
		     {"quarantine", 250, "quarantin"}};
	g_autoptr(MwtSmtp) s = NULL;

	mwt_start(2, "modules = test_verdict", NULL);
	s = mwt_smtp_open(mwt->port, "EHLO client.example");
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *header = g_strdup_printf("X-Test-Verdict: %s", cases[i].verdict);
		g_autofree char *ident = g_strdup_printf("VERDICT%u", i);
		g_autofree char *line = NULL;
		g_autoptr(GBytes) msg = mwt_message(cases[i].verdict, header);
		int code;
		gboolean match;

		mwt_smtp_ok(s, "XFORWARD IDENT=%s", ident);
		code = mwt_smtp_message(s, "sender@example.org", NULL, one_rcpt, MWT_BYTES(msg));
		match = cases[i].code < 10 ? code / 100 == cases[i].code : code == cases[i].code;
		ck_assert_msg(match, "verdict %s: got %d \"%s\"", cases[i].verdict, code, s->text);
		if (code / 100 == 5)
			ck_assert_msg(g_str_has_prefix(s->text, "5.7.1"), "reject text \"%s\"",
				      s->text);
		/* the summary line names the queue id, the sender, the recipient and the action */
		line = mwt_log_wait(10000, ident, "sender@example.org", "rcpt@example.net",
				    cases[i].action, NULL);
		ck_assert_msg(line != NULL, "no summary line with %s and \"%s\"; log:\n%s", ident,
			      cases[i].action, mwt_log_text());
	}
	/* none of them was delivered */
	send_sentinel(s, 1);
}
END_TEST

START_TEST(test_per_rcpt_reject_smtp)
{
	static const char *const rcpts[] = {"ok@example.net", "reject1@example.net", NULL};
	g_autoptr(MwtSmtp) s = NULL;
	g_autoptr(GBytes) msg = mwt_message("one recipient rejected", NULL);
	g_autoptr(GBytes) orig = NULL;
	g_autoptr(GBytes) bounce = NULL;
	g_autofree char *orig_env = NULL;
	g_autofree char *bounce_env = NULL;
	g_autoptr(GPtrArray) orig_rcpts = NULL;
	guint n_orig, n_bounce;
	int code;

	mwt_start(2, "modules = test_verdict", NULL);
	s = mwt_smtp_open(mwt->port, "EHLO client.example");
	code = mwt_smtp_message(s, "sender@example.org", NULL, rcpts, MWT_BYTES(msg));
	/* one SMTP reply for both: deliver to ok@, bounce reject1@ ourselves */
	ck_assert_msg(code == 250, "mixed reject: got %d \"%s\"", code, s->text);
	mwt_sink_wait(2);
	mwt_sink_quiesce();
	ck_assert_uint_eq(mwt_sink_count(), 2);
	n_orig = find_delivery("ok@example.net");
	n_bounce = find_delivery("sender@example.org");
	ck_assert_msg(n_orig != 0 && n_bounce != 0 && n_orig != n_bounce,
		      "delivery to ok@ %u, bounce to the sender %u", n_orig, n_bounce);
	orig_env = mwt_sink_envelope(n_orig);
	orig_rcpts = mwt_env_rcpts(orig_env);
	ck_assert_msg(orig_rcpts->len == 1, "rejected recipient delivered:\n%s", orig_env);
	orig = mwt_sink_message(n_orig);
	mwt_assert_bytes_equal(msg, orig);
	bounce_env = mwt_sink_envelope(n_bounce);
	ck_assert_msg(strstr(bounce_env, "MAIL FROM:<>") != NULL, "bounce envelope:\n%s",
		      bounce_env);
	bounce = mwt_sink_message(n_bounce);
	ck_assert_msg(g_strstr_len(g_bytes_get_data(bounce, NULL),
				   (gssize) g_bytes_get_size(bounce),
				   "reject1@example.net") != NULL,
		      "the bounce does not name the rejected recipient");
}
END_TEST

START_TEST(test_per_rcpt_tempfail_smtp)
{
	static const char *const mixed[] = {"ok@example.net", "tempfail1@example.net", NULL};
	static const char *const rejects[] = {"reject1@example.net", "reject2@example.net", NULL};
	g_autoptr(MwtSmtp) s = NULL;
	g_autoptr(GBytes) msg = mwt_message("one recipient deferred", NULL);
	g_autoptr(GBytes) msg2 = mwt_message("all rejected", NULL);
	int code;

	mwt_start(2, "modules = test_verdict", NULL);
	s = mwt_smtp_open(mwt->port, "EHLO client.example");
	/*
	 * A 4xx makes Postfix retry the whole message, so ok@ must not get a copy
	 * now (it would get a second one on the retry).
	 */
	code = mwt_smtp_message(s, "sender@example.org", NULL, mixed, MWT_BYTES(msg));
	ck_assert_msg(code / 100 == 4, "mixed tempfail: got %d \"%s\"", code, s->text);
	/* everybody rejected: 5xx (Postfix bounces), no copy, no bounce of our own */
	code = mwt_smtp_message(s, "sender@example.org", NULL, rejects, MWT_BYTES(msg2));
	ck_assert_msg(code / 100 == 5, "all rejected: got %d \"%s\"", code, s->text);
	send_sentinel(s, 1);
}
END_TEST

typedef struct {
	const char *section; /* NULL: no [test_error] section (the default) */
	int code;            /* exact or class */
	gboolean delivered;
} OnErrorCase;

static const OnErrorCase on_error_cases[] = {
	{NULL, 451, FALSE},
	{"[test_error]\non_error = tempfail\n", 451, FALSE},
	{"[test_error]\non_error = pass\n", 250, TRUE},
	{"[test_error]\non_error = reject\n", 554, FALSE},
};

START_TEST(test_on_error)
{
	const OnErrorCase *oc = &on_error_cases[_i];
	g_autoptr(MwtSmtp) s = NULL;
	g_autoptr(GBytes) msg = mwt_message("backend down", "X-Test-Error: yes");
	int code;

	mwt_start(2, "modules = test_error", oc->section);
	s = mwt_smtp_open(mwt->port, "EHLO client.example");
	code = mwt_smtp_message(s, "sender@example.org", NULL, one_rcpt, MWT_BYTES(msg));
	ck_assert_msg(code == oc->code, "on_error %s: expected %d, got %d \"%s\"",
		      oc->section != NULL ? oc->section : "(default)", oc->code, code, s->text);
	if (oc->delivered) {
		g_autoptr(GBytes) got = NULL;

		mwt_sink_wait(1);
		got = mwt_sink_message(1);
		mwt_assert_bytes_equal(msg, got);
	} else {
		send_sentinel(s, 1);
	}
}
END_TEST

START_TEST(test_modify)
{
	g_autoptr(MwtSmtp) s = NULL;
	g_autoptr(GBytes) msg = mwt_message("modify me", "X-Test-Modify: yes");
	g_autoptr(GBytes) got = NULL;
	g_autofree char *header = NULL;
	g_autofree char *env = NULL;
	g_autofree char *mail = NULL;
	g_autofree char *size = NULL;
	g_autofree char *params = g_strdup_printf("SIZE=%" G_GSIZE_FORMAT, g_bytes_get_size(msg));
	guint64 n;

	mwt_start(2, "modules = test_modify", NULL);
	s = mwt_smtp_open(mwt->port, "EHLO client.example");
	ck_assert_int_eq(
		mwt_smtp_message(s, "sender@example.org", params, one_rcpt, MWT_BYTES(msg)), 250);
	mwt_sink_wait(1);
	got = mwt_sink_message(1);
	header = mwt_header(got, "X-Test-Modified");
	ck_assert_msg(g_strcmp0(header, "yes") == 0, "X-Test-Modified: %s", header);
	ck_assert_msg(body_equal(msg, got), "the body changed with a header edit");
	env = mwt_sink_envelope(1);
	mail = mwt_env_line(env, "MAIL ");
	size = mwt_env_param(mail, "SIZE");
	ck_assert_msg(size != NULL, "SIZE dropped: MAIL %s", mail);
	n = g_ascii_strtoull(size, NULL, 10);
	ck_assert_msg(n >= g_bytes_get_size(got),
		      "SIZE=%s not recomputed for the modified %" G_GSIZE_FORMAT "-byte message",
		      size, g_bytes_get_size(got));

	/* without the header nothing changes */
	{
		g_autoptr(GBytes) plain = mwt_message("leave me", NULL);
		g_autoptr(GBytes) got2 = NULL;

		ck_assert_int_eq(
			mwt_smtp_message(s, "sender@example.org", NULL, one_rcpt, MWT_BYTES(plain)),
			250);
		mwt_sink_wait(2);
		got2 = mwt_sink_message(2);
		mwt_assert_bytes_equal(plain, got2);
	}
}
END_TEST

START_TEST(test_split_and_modify)
{
	static const char *const rcpts[] = {"a@example.net", "split1@example.net", NULL};
	g_autoptr(MwtSmtp) s = NULL;
	g_autoptr(GBytes) msg = mwt_message("split then modify", "X-Test-Modify: yes");

	/* pipeline order: split first, then modify edits every delivery */
	mwt_start(2, "modules = test_split, test_modify", NULL);
	s = mwt_smtp_open(mwt->port, "EHLO client.example");
	ck_assert_int_eq(mwt_smtp_message(s, "sender@example.org", NULL, rcpts, MWT_BYTES(msg)),
			 250);
	mwt_sink_wait(2);
	mwt_sink_quiesce();
	ck_assert_uint_eq(mwt_sink_count(), 2);
	for (guint n = 1; n <= 2; n++) {
		g_autoptr(GBytes) got = mwt_sink_message(n);
		g_autofree char *modified = mwt_header(got, "X-Test-Modified");
		ck_assert_msg(g_strcmp0(modified, "yes") == 0, "delivery %u not modified", n);
	}
}
END_TEST

static Suite *
modules_suite(void)
{
	Suite *suite = suite_create("modules");
	TCase *tc = mwt_tcase("modules", 60);

	tcase_add_test(tc, test_split);
	tcase_add_test(tc, test_consume);
	tcase_add_test(tc, test_emit);
	tcase_add_test(tc, test_emit_failure_tempfails);
	tcase_add_test(tc, test_verdicts);
	tcase_add_test(tc, test_per_rcpt_reject_smtp);
	tcase_add_test(tc, test_per_rcpt_tempfail_smtp);
	tcase_add_loop_test(tc, test_on_error, 0, G_N_ELEMENTS(on_error_cases));
	tcase_add_test(tc, test_modify);
	tcase_add_test(tc, test_split_and_modify);
	suite_add_tcase(suite, tc);
	return suite;
}

int
main(void)
{
	return mwt_main(modules_suite());
}
