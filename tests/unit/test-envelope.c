/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-envelope - unit tests for mw-envelope
 *
 * SYNOPSIS
 *	test-envelope
 *
 * DESCRIPTION
 *	Construction, deep copies, parameter and XFORWARD lookups, and the text
 *	form in both flavours (plain, with parameters) including round trips of
 *	the null sender, quoted local parts with spaces and xtext values.
 */

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "mw-envelope.h"
#include "mw-error.h"

/* add_param - append KEY[=value] to @params */
static void
add_param(GPtrArray *params, const char *keyword, const char *value)
{
	MwSmtpParam *param = g_new0(MwSmtpParam, 1);

	param->keyword = g_strdup(keyword);
	param->value = g_strdup(value);
	g_ptr_array_add(params, param);
}

/* sample_envelope - sender with SIZE/BODY, two recipients, XFORWARD */
static MwEnvelope *
sample_envelope(void)
{
	MwEnvelope *env = mw_envelope_new("alice@example.org");
	GPtrArray *params = mw_param_array_new();

	add_param(env->mail_params, "SIZE", "100");
	add_param(env->mail_params, "BODY", "8BITMIME");
	add_param(params, "NOTIFY", "SUCCESS,FAILURE");
	add_param(params, "ORCPT", "rfc822;bob@example.org");
	mw_envelope_add_rcpt(env, mw_recipient_new("bob@example.org", params));
	mw_envelope_add_rcpt(env, mw_recipient_new("carol@example.net", NULL));
	env->xforward = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_hash_table_insert(env->xforward, g_strdup("ADDR"), g_strdup("192.0.2.7"));
	g_hash_table_insert(env->xforward, g_strdup("NAME"), g_strdup("[UNAVAILABLE]"));
	g_hash_table_insert(env->xforward, g_strdup("HELO"), g_strdup("bad helo+x=y"));
	g_hash_table_insert(env->xforward, g_strdup("IDENT"), g_strdup("4Xb2Kq1ZzFz9rxM"));
	return env;
}

START_TEST(test_new_simple)
{
	const char *const rcpts[] = {"a@example.org", "b@example.org", NULL};
	g_autoptr(MwEnvelope) env = mw_envelope_new_simple("", rcpts);
	const MwRecipient *rcpt;

	ck_assert_str_eq(env->sender, "");
	ck_assert_uint_eq(env->mail_params->len, 0);
	ck_assert_uint_eq(env->rcpts->len, 2);
	rcpt = g_ptr_array_index(env->rcpts, 1);
	ck_assert_str_eq(rcpt->address, "b@example.org");
	ck_assert_ptr_nonnull(rcpt->params);
	ck_assert_uint_eq(rcpt->params->len, 0);
	ck_assert_ptr_null(env->xforward);
	ck_assert_ptr_null(mw_envelope_get_xforward(env, "ADDR"));
}
END_TEST

START_TEST(test_copy_is_deep)
{
	g_autoptr(MwEnvelope) env = sample_envelope();
	g_autoptr(MwEnvelope) copy = mw_envelope_copy(env);
	g_autofree char *a = mw_envelope_to_text(env, TRUE);
	g_autofree char *b = NULL;
	MwRecipient *rcpt;

	/* changing the original leaves the copy alone */
	g_free(env->sender);
	env->sender = g_strdup("mallory@example.org");
	rcpt = g_ptr_array_index(env->rcpts, 0);
	g_ptr_array_set_size(rcpt->params, 0);
	g_hash_table_remove_all(env->xforward);
	g_ptr_array_set_size(env->mail_params, 0);

	b = mw_envelope_to_text(copy, TRUE);
	ck_assert_str_eq(a, b);
}
END_TEST

START_TEST(test_param_get)
{
	g_autoptr(GPtrArray) params = mw_param_array_new();
	g_autoptr(GPtrArray) copy = NULL;
	gboolean present = TRUE;

	add_param(params, "SMTPUTF8", NULL);
	add_param(params, "RET", "HDRS");
	ck_assert_str_eq(mw_param_array_get(params, "ret", &present), "HDRS");
	ck_assert(present);
	ck_assert_ptr_null(mw_param_array_get(params, "SMTPUTF8", &present));
	ck_assert(present);
	ck_assert_ptr_null(mw_param_array_get(params, "ENVID", &present));
	ck_assert(!present);
	ck_assert_ptr_null(mw_param_array_get(NULL, "ENVID", &present));
	ck_assert(!present);

	copy = mw_param_array_copy(params);
	ck_assert_uint_eq(copy->len, 2);
	ck_assert_ptr_ne(g_ptr_array_index(copy, 1), g_ptr_array_index(params, 1));
	ck_assert_str_eq(mw_param_array_get(copy, "RET", NULL), "HDRS");
}
END_TEST

START_TEST(test_get_xforward)
{
	g_autoptr(MwEnvelope) env = sample_envelope();

	ck_assert_str_eq(mw_envelope_get_xforward(env, "ADDR"), "192.0.2.7");
	ck_assert_str_eq(mw_envelope_get_xforward(env, "ident"), "4Xb2Kq1ZzFz9rxM");
	/* [UNAVAILABLE] reads as absent */
	ck_assert_ptr_null(mw_envelope_get_xforward(env, "NAME"));
	ck_assert_ptr_null(mw_envelope_get_xforward(env, "PROTO"));
}
END_TEST

START_TEST(test_to_text_plain)
{
	g_autoptr(MwEnvelope) env = sample_envelope();
	g_autofree char *text = mw_envelope_to_text(env, FALSE);

	ck_assert_str_eq(text, "alice@example.org\nbob@example.org\ncarol@example.net\n");
}
END_TEST

START_TEST(test_to_text_params)
{
	g_autoptr(MwEnvelope) env = sample_envelope();
	g_autofree char *text = mw_envelope_to_text(env, TRUE);

	ck_assert_str_eq(text,
			 "alice@example.org SIZE=100 BODY=8BITMIME\n"
			 "bob@example.org NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@example.org\n"
			 "carol@example.net\n"
			 "XFORWARD NAME=[UNAVAILABLE]\n"
			 "XFORWARD ADDR=192.0.2.7\n"
			 "XFORWARD HELO=bad+20helo+2Bx+3Dy\n"
			 "XFORWARD IDENT=4Xb2Kq1ZzFz9rxM\n");
}
END_TEST

START_TEST(test_round_trip)
{
	g_autoptr(MwEnvelope) env = sample_envelope();
	g_autofree char *text = mw_envelope_to_text(env, TRUE);
	g_autoptr(GError) error = NULL;
	g_autoptr(MwEnvelope) back = mw_envelope_from_text(text, &error);
	g_autofree char *again = NULL;
	const MwRecipient *rcpt;

	ck_assert_ptr_null(error);
	ck_assert_ptr_nonnull(back);
	again = mw_envelope_to_text(back, TRUE);
	ck_assert_str_eq(text, again);
	ck_assert_str_eq(mw_envelope_get_xforward(back, "HELO"), "bad helo+x=y");
	ck_assert_str_eq(mw_param_array_get(back->mail_params, "SIZE", NULL), "100");
	rcpt = g_ptr_array_index(back->rcpts, 0);
	ck_assert_str_eq(mw_param_array_get(rcpt->params, "ORCPT", NULL), "rfc822;bob@example.org");
}
END_TEST

START_TEST(test_null_sender_and_quotes)
{
	g_autoptr(MwEnvelope) env = mw_envelope_new("");
	g_autoptr(GPtrArray) params = mw_param_array_new();
	g_autofree char *text = NULL;
	g_autofree char *plain = NULL;
	g_autoptr(MwEnvelope) back = NULL;
	g_autoptr(MwEnvelope) back_plain = NULL;
	const MwRecipient *rcpt;

	add_param(env->mail_params, "SMTPUTF8", NULL);
	add_param(params, "NOTIFY", "NEVER");
	mw_envelope_add_rcpt(
		env, mw_recipient_new("\"john \\\" doe\"@example.org", g_steal_pointer(&params)));
	mw_envelope_add_rcpt(env, mw_recipient_new("postmaster", NULL));
	text = mw_envelope_to_text(env, TRUE);
	ck_assert_str_eq(text,
			 " SMTPUTF8\n\"john \\\" doe\"@example.org NOTIFY=NEVER\npostmaster\n");

	back = mw_envelope_from_text(text, NULL);
	ck_assert_ptr_nonnull(back);
	ck_assert_str_eq(back->sender, "");
	ck_assert_uint_eq(back->mail_params->len, 1);
	ck_assert_uint_eq(back->rcpts->len, 2);
	rcpt = g_ptr_array_index(back->rcpts, 0);
	ck_assert_str_eq(rcpt->address, "\"john \\\" doe\"@example.org");
	ck_assert_str_eq(mw_param_array_get(rcpt->params, "NOTIFY", NULL), "NEVER");

	/* the plain form: the quoted space stays in the address */
	plain = mw_envelope_to_text(env, FALSE);
	ck_assert_str_eq(plain, "\n\"john \\\" doe\"@example.org\npostmaster\n");
	back_plain = mw_envelope_from_text(plain, NULL);
	ck_assert_ptr_nonnull(back_plain);
	ck_assert_str_eq(back_plain->sender, "");
	rcpt = g_ptr_array_index(back_plain->rcpts, 0);
	ck_assert_str_eq(rcpt->address, "\"john \\\" doe\"@example.org");
	ck_assert_uint_eq(rcpt->params->len, 0);
	ck_assert_ptr_null(back_plain->xforward);
}
END_TEST

START_TEST(test_from_text_crlf)
{
	g_autoptr(MwEnvelope) env =
		mw_envelope_from_text("a@example.org\r\nb@example.org\r\n\r\nc@example.org", NULL);
	const MwRecipient *rcpt;

	ck_assert_ptr_nonnull(env);
	ck_assert_str_eq(env->sender, "a@example.org");
	ck_assert_uint_eq(env->rcpts->len, 2);
	rcpt = g_ptr_array_index(env->rcpts, 1);
	ck_assert_str_eq(rcpt->address, "c@example.org");
}
END_TEST

static const char *const bad_texts[] = {
	"",
	"a@example.org\nXFORWARD ADDR=1+Q\n",
	"a@example.org\nXFORWARD novalue\n",
	"a@example.org\n =x\n",
	"a@example.org SIZE=1 =bad\nb@example.org\n",
};

START_TEST(test_from_text_bad)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(MwEnvelope) env = mw_envelope_from_text(bad_texts[_i], &error);

	ck_assert_ptr_null(env);
	ck_assert(g_error_matches(error, MW_ERROR, MW_ERROR_PROTOCOL));
}
END_TEST

static Suite *
envelope_suite(void)
{
	Suite *s = suite_create("envelope");
	TCase *tc = tcase_create("objects");

	tcase_add_test(tc, test_new_simple);
	tcase_add_test(tc, test_copy_is_deep);
	tcase_add_test(tc, test_param_get);
	tcase_add_test(tc, test_get_xforward);
	suite_add_tcase(s, tc);

	tc = tcase_create("text");
	tcase_add_test(tc, test_to_text_plain);
	tcase_add_test(tc, test_to_text_params);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_null_sender_and_quotes);
	tcase_add_test(tc, test_from_text_crlf);
	tcase_add_loop_test(tc, test_from_text_bad, 0, G_N_ELEMENTS(bad_texts));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *runner = srunner_create(envelope_suite());
	int failures;

	srunner_run_all(runner, CK_NORMAL);
	failures = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failures == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
