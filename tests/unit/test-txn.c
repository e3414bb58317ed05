/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-txn - recipients, variants, verdicts and outcomes of one message
 * DESCRIPTION
 *	The txn and dispatch rules without a network: verdict precedence,
 *	copy-on-write variants (an edit for one group never shows in another,
 *	an unedited variant keeps the original bytes), emitted messages, the
 *	SMTP and LMTP reply mapping (dispatch with no reinjector), the DSN for
 *	recipients rejected while others pass, and the quarantine store.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>

#include "mw-dispatch.h"
#include "mw-dsn.h"
#include "mw-quarantine.h"
#include "mw-txn.h"

static const char sample[] = "From: a@example.org\r\n"
			     "To: b@example.org\r\n"
			     "Subject: test\r\n"
			     "\r\n"
			     "body line\r\n"
			     ".leading dot\r\n";

static MwConfig *config;
static char *state_dir;

static void
setup(void)
{
	state_dir = g_dir_make_tmp("mw-txn-XXXXXX", NULL);
	const char *overrides[] = {NULL, NULL};
	g_autofree char *o = g_strdup_printf("state_dir=%s", state_dir);
	overrides[0] = o;
	config = mw_config_load_data("[mailwarden]\nhostname = mw.test\n", overrides, NULL);
	ck_assert_ptr_nonnull(config);
}

static void
teardown(void)
{
	mw_config_free(config);
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", state_dir);
	ck_assert_int_eq(system(cmd), 0);
	g_free(state_dir);
}

/* new_txn - a txn for @rcpts (NULL-terminated) from sender @from */
static MwTxn *
new_txn(const char *from, const char *const *rcpts)
{
	MwEnvelope *env = mw_envelope_new_simple(from, rcpts);
	g_autoptr(MwMessage) msg =
		mw_message_new_from_bytes((const guint8 *) sample, strlen(sample));
	return mw_txn_new(config, env, msg);
}

/* message_text - the bytes of @msg as a string */
static char *
message_text(MwMessage *msg)
{
	gsize len = (gsize) mw_message_get_size(msg);
	char *text = g_malloc(len + 1);
	ck_assert_int_eq(mw_message_read(msg, 0, (guint8 *) text, len, NULL), (gssize) len);
	text[len] = '\0';
	return text;
}

START_TEST(test_first_verdict_wins)
{
	const char *rcpts[] = {"x@example.org", "y@example.org", NULL};
	g_autoptr(MwTxn) txn = new_txn("a@example.org", rcpts);
	ck_assert_uint_eq(mw_txn_n_active(txn), 2);
	MwTxnRcpt *x = g_ptr_array_index(txn->rcpts, 0);
	mw_txn_verdict(txn, x, MW_VERDICT_DISCARD, "m1", "2.0.0 dropped");
	ck_assert_uint_eq(mw_txn_n_active(txn), 1);
	mw_txn_verdict(txn, NULL, MW_VERDICT_REJECT, "m2", "5.7.1 no");
	ck_assert_int_eq(x->verdict, MW_VERDICT_DISCARD);
	ck_assert_str_eq(x->by, "m1");
	MwTxnRcpt *y = g_ptr_array_index(txn->rcpts, 1);
	ck_assert_int_eq(y->verdict, MW_VERDICT_REJECT);
	ck_assert_str_eq(y->reason, "5.7.1 no");
	ck_assert_uint_eq(mw_txn_n_active(txn), 0);
}
END_TEST

START_TEST(test_split_copy_on_write)
{
	const char *rcpts[] = {"x@example.org", "y@example.org", "z@example.org", NULL};
	g_autoptr(MwTxn) txn = new_txn("a@example.org", rcpts);
	g_autoptr(GPtrArray) pick = g_ptr_array_new();
	g_ptr_array_add(pick, g_ptr_array_index(txn->rcpts, 1));
	MwDelivery *own = mw_txn_split(txn, pick);
	ck_assert_uint_eq(txn->deliveries->len, 2);
	MwDelivery *first = g_ptr_array_index(txn->deliveries, 0);
	ck_assert_ptr_eq(own->message, first->message); /* shared until edited */
	GMimeMessage *edit = mw_delivery_edit_mime(own, NULL);
	ck_assert_ptr_nonnull(edit);
	g_mime_object_append_header(GMIME_OBJECT(edit), "X-Own", "yes", NULL);
	/* the other variant's view is untouched */
	GMimeMessage *view = mw_delivery_get_mime(first, NULL);
	ck_assert_ptr_null(g_mime_object_get_header(GMIME_OBJECT(view), "X-Own"));
	ck_assert(own->modified);
	ck_assert(!first->modified);
	ck_assert_uint_eq(mw_txn_delivery_n_active(txn, own), 1);
	ck_assert_uint_eq(mw_txn_delivery_n_active(txn, first), 2);

	MwOutcome outcome;
	mw_dispatch(txn, NULL, FALSE, &outcome);
	g_autofree char *orig = message_text(first->message);
	ck_assert_str_eq(orig, sample); /* unchanged variant: original bytes */
	g_autofree char *changed = message_text(own->message);
	ck_assert_ptr_nonnull(strstr(changed, "X-Own: yes\r\n"));
	ck_assert_ptr_nonnull(strstr(changed, "\r\n.leading dot\r\n"));
	ck_assert_int_eq(outcome.reply.code, 250);
	mw_outcome_clear(&outcome);
}
END_TEST

START_TEST(test_split_after_prepend_is_modified)
{
	/* a header prepended to the bytes (no tree) before the split: both
	 * variants send the changed bytes and both say so */
	const char *rcpts[] = {"x@example.org", "y@example.org", NULL};
	g_autoptr(MwTxn) txn = new_txn("a@example.org", rcpts);
	MwDelivery *first = g_ptr_array_index(txn->deliveries, 0);
	ck_assert(mw_delivery_prepend_header(first, "X-Tag", "1", state_dir, NULL));
	g_autoptr(GPtrArray) pick = g_ptr_array_new();
	g_ptr_array_add(pick, g_ptr_array_index(txn->rcpts, 1));
	MwDelivery *own = mw_txn_split(txn, pick);
	ck_assert(own->modified);
	ck_assert_uint_eq(mw_message_get_size(own->message),
			  strlen(sample) + strlen("X-Tag: 1\r\n"));
}
END_TEST

START_TEST(test_emit_marks_auto_submitted)
{
	const char *rcpts[] = {"x@example.org", NULL};
	g_autoptr(MwTxn) txn = new_txn("a@example.org", rcpts);
	GMimeMessage *note = g_mime_message_new(TRUE);
	g_mime_message_set_subject(note, "note", NULL);
	const char *to[] = {"admin@example.org", NULL};
	ck_assert(mw_txn_emit(txn, "test", "", to, note, TRUE, NULL));
	ck_assert_uint_eq(txn->emitted->len, 1);
	MwEmitted *emitted = g_ptr_array_index(txn->emitted, 0);
	g_autofree char *text = message_text(emitted->message);
	ck_assert_ptr_nonnull(strstr(text, "Auto-Submitted: auto-generated\r\n"));
	ck_assert_str_eq(emitted->envelope->sender, "");
	ck_assert_str_eq(((MwRecipient *) g_ptr_array_index(emitted->envelope->rcpts, 0))->address,
			 "admin@example.org");
}
END_TEST

/* a table of verdict mixes and the SMTP / LMTP replies they must give */
typedef struct {
	MwVerdict verdicts[3];
	int smtp_code;
	int lmtp_codes[3];
	gboolean dsn;
} MixCase;

static const MixCase mixes[] = {
	{{MW_VERDICT_CONTINUE, MW_VERDICT_CONTINUE, MW_VERDICT_CONTINUE},
	 250,
	 {250, 250, 250},
	 FALSE},
	{{MW_VERDICT_TEMPFAIL, MW_VERDICT_CONTINUE, MW_VERDICT_CONTINUE},
	 451,
	 {451, 250, 250},
	 FALSE},
	{{MW_VERDICT_REJECT, MW_VERDICT_REJECT, MW_VERDICT_REJECT}, 554, {550, 550, 550}, FALSE},
	{{MW_VERDICT_REJECT, MW_VERDICT_CONTINUE, MW_VERDICT_DISCARD}, 250, {550, 250, 250}, TRUE},
	{{MW_VERDICT_DISCARD, MW_VERDICT_CONSUMED, MW_VERDICT_QUARANTINE},
	 250,
	 {250, 250, 250},
	 FALSE},
	{{MW_VERDICT_REJECT, MW_VERDICT_TEMPFAIL, MW_VERDICT_CONTINUE},
	 451,
	 {550, 451, 250},
	 FALSE},
};

START_TEST(test_reply_mapping)
{
	const MixCase *c = &mixes[_i];
	for (int lmtp = 0; lmtp <= 1; lmtp++) {
		const char *rcpts[] = {"x@example.org", "y@example.org", "z@example.org", NULL};
		g_autoptr(MwTxn) txn = new_txn("a@example.org", rcpts);
		for (guint r = 0; r < 3; r++) {
			if (c->verdicts[r] != MW_VERDICT_CONTINUE)
				mw_txn_verdict(txn, g_ptr_array_index(txn->rcpts, r),
					       c->verdicts[r], "t", "%s",
					       c->verdicts[r] == MW_VERDICT_TEMPFAIL ? "4.7.1 later"
										     : "5.7.1 no");
		}
		MwOutcome outcome;
		mw_dispatch(txn, NULL, lmtp, &outcome);
		if (lmtp) {
			for (guint r = 0; r < 3; r++)
				ck_assert_int_eq(outcome.rcpts[r].code, c->lmtp_codes[r]);
			ck_assert_uint_eq(txn->emitted->len, 0); /* LMTP: Postfix bounces */
		} else {
			ck_assert_int_eq(outcome.reply.code, c->smtp_code);
			ck_assert_uint_eq(txn->emitted->len, c->dsn ? 1 : 0);
		}
		mw_outcome_clear(&outcome);
	}
}
END_TEST

START_TEST(test_dsn_content_and_notify)
{
	const char *rcpts[] = {"x@example.org", "y@example.org", NULL};
	g_autoptr(MwTxn) txn = new_txn("sender@example.org", rcpts);
	MwTxnRcpt *x = g_ptr_array_index(txn->rcpts, 0);
	mw_txn_verdict(txn, x, MW_VERDICT_REJECT, "virus", "5.7.1 Virus found: Eicar");
	g_autoptr(GPtrArray) failed = g_ptr_array_new();
	g_ptr_array_add(failed, x);
	g_autoptr(GMimeMessage) dsn = mw_dsn_build(txn, failed, NULL);
	ck_assert_ptr_nonnull(dsn);
	g_autoptr(MwMessage) bytes = mw_message_new_from_mime(GMIME_OBJECT(dsn), NULL, NULL);
	g_autofree char *text = message_text(bytes);
	ck_assert_ptr_nonnull(strstr(text, "report-type=delivery-status"));
	ck_assert_ptr_nonnull(strstr(text, "Final-Recipient: rfc822; x@example.org"));
	ck_assert_ptr_nonnull(strstr(text, "Status: 5.7.1"));
	ck_assert_ptr_nonnull(strstr(text, "Subject: test")); /* original headers */
	ck_assert_ptr_null(strstr(text, "body line"));        /* never the body */

	/* NOTIFY=NEVER and the null sender get nothing */
	MwSmtpParam *never = g_new0(MwSmtpParam, 1);
	never->keyword = g_strdup("NOTIFY");
	never->value = g_strdup("NEVER");
	g_ptr_array_add(x->rcpt->params, never);
	ck_assert_ptr_null(mw_dsn_build(txn, failed, NULL));
	const char *one[] = {"x@example.org", NULL};
	g_autoptr(MwTxn) bounce = new_txn("", one);
	g_autoptr(GPtrArray) f2 = g_ptr_array_new();
	g_ptr_array_add(f2, g_ptr_array_index(bounce->rcpts, 0));
	ck_assert_ptr_null(mw_dsn_build(bounce, f2, NULL));
}
END_TEST

START_TEST(test_quarantine_store_load)
{
	const char *rcpts[] = {"x@example.org", NULL};
	g_autoptr(MwEnvelope) env = mw_envelope_new_simple("a@example.org", rcpts);
	g_autoptr(MwMessage) msg =
		mw_message_new_from_bytes((const guint8 *) sample, strlen(sample));
	g_autoptr(GError) error = NULL;
	g_autofree char *id = mw_quarantine_store(state_dir, env, msg, "QID1", "test", &error);
	ck_assert_ptr_nonnull(id);
	ck_assert(mw_quarantine_id_valid(id));
	/* a retry of the same message lands on the same id */
	g_autofree char *again = mw_quarantine_store(state_dir, env, msg, "QID1", "test", NULL);
	ck_assert_str_eq(id, again);
	g_autoptr(MwEnvelope) env2 = NULL;
	g_autoptr(MwMessage) msg2 = NULL;
	ck_assert(mw_quarantine_load(state_dir, id, &env2, &msg2, &error));
	ck_assert_str_eq(env2->sender, "a@example.org");
	ck_assert_uint_eq(env2->rcpts->len, 1);
	g_autofree char *text = message_text(msg2);
	ck_assert_str_eq(text, sample);
	ck_assert(mw_quarantine_remove(state_dir, id, NULL));
	ck_assert(!mw_quarantine_load(state_dir, id, &env2, &msg2, NULL));
	/* ids that could name another path are refused */
	ck_assert(!mw_quarantine_id_valid("../etc/passwd"));
	ck_assert(!mw_quarantine_id_valid(""));
	ck_assert(!mw_quarantine_load(state_dir, "../x", &env2, &msg2, NULL));
}
END_TEST

int
main(void)
{
	g_mime_init();
	Suite *s = suite_create("txn");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_first_verdict_wins);
	tcase_add_test(tc, test_split_copy_on_write);
	tcase_add_test(tc, test_split_after_prepend_is_modified);
	tcase_add_test(tc, test_emit_marks_auto_submitted);
	tcase_add_loop_test(tc, test_reply_mapping, 0, G_N_ELEMENTS(mixes));
	tcase_add_test(tc, test_dsn_content_and_notify);
	tcase_add_test(tc, test_quarantine_store_load);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	g_mime_shutdown();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
