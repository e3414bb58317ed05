/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-virus-clamd - the module with engine = clamd against a real clamd
 * DESCRIPTION
 *	Each test starts its own clamd (Debian's clamav-daemon binary) with
 *	LocalSocket in the test's directory and DatabaseDirectory the
 *	signature database built there, and stops it by PID in the teardown;
 *	a guardian process kills it if the test process dies first. Covers
 *	--check-config's PING, the same detections as the libclamav engine
 *	(EICAR body, base64 attachment, zip, nested messages), the reject
 *	text, clamd down under each on_error, a banned attachment while clamd
 *	is down, encrypted zips (seen by the module itself: clamd's own
 *	AlertEncrypted is off), max_scan_size and clamd's StreamMaxLength.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "mw-error.h"
#include "mw-pipeline.h"
#include "mw-virus.h"
#include "virus-test-lib.h"

static char *dir;
static char *db;
static VtClamd *clamd;

static void
setup(void)
{
	dir = g_dir_make_tmp("mw-virus-clamd-XXXXXX", NULL);
	ck_assert_ptr_nonnull(dir);
	db = vt_make_db(dir);
	clamd = vt_clamd_start(dir, db, NULL);
}

static void
teardown(void)
{
	g_clear_pointer(&clamd, vt_clamd_stop);
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	g_clear_pointer(&dir, g_free);
	g_clear_pointer(&db, g_free);
}

/* load - modules = virus, engine = clamd on the test's clamd, plus @keys */
static MwConfig *
load(const char *socket, const char *keys)
{
	g_autofree char *text = g_strdup_printf("[mailwarden]\n"
						"hostname = mw.test\n"
						"modules = virus\n"
						"local_domains = example.org\n"
						"state_dir = %s\n"
						"[virus]\n"
						"engine = clamd\n"
						"clamd_socket = %s\n"
						"timeout = 10\n"
						"%s",
						dir, socket, keys != NULL ? keys : "");
	g_autoptr(GError) error = NULL;
	MwConfig *config = mw_config_load_data(text, NULL, &error);

	ck_assert_msg(config != NULL, "config: %s", error != NULL ? error->message : "?");
	ck_assert_msg(mw_pipeline_start(config, &error), "start: %s", error ? error->message : "?");
	return config;
}

static const char *const one_rcpt[] = {"b@example.org", NULL};

static MwTxn *
run(MwConfig *config, GBytes *msg)
{
	MwEnvelope *env = mw_envelope_new_simple("a@example.net", one_rcpt);
	g_autoptr(MwMessage) m =
		mw_message_new_from_bytes(g_bytes_get_data(msg, NULL), g_bytes_get_size(msg));
	MwTxn *txn = mw_txn_new(config, env, m);
	mw_pipeline_run(txn);
	return txn;
}

static MwTxnRcpt *
rcpt0(MwTxn *txn)
{
	return g_ptr_array_index(txn->rcpts, 0);
}

static const char *
note(MwTxn *txn)
{
	for (guint i = 0; i < txn->notes->len; i++) {
		const char *n = g_ptr_array_index(txn->notes, i);
		if (g_str_has_prefix(n, "virus="))
			return n + 6;
	}
	return NULL;
}

START_TEST(test_check_pings)
{
	g_autoptr(MwConfig) config = load(clamd->socket, NULL);
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);

	ck_assert(mw_pipeline_check(config, problems));
	g_clear_pointer(&clamd, vt_clamd_stop);
	ck_assert(!mw_pipeline_check(config, problems));
	ck_assert_uint_eq(problems->len, 1);
	const char *problem = g_ptr_array_index(problems, 0);
	ck_assert_msg(g_str_has_prefix(problem, "[virus] clamd unreachable: unix:"), "%s", problem);
}
END_TEST

START_TEST(test_detects)
{
	const VtDetectCase *dc = &vt_detect_cases[_i];
	g_autoptr(MwConfig) config = load(clamd->socket, NULL);
	g_autoptr(GBytes) msg = dc->build();
	g_autoptr(MwTxn) txn = run(config, msg);

	ck_assert_msg(rcpt0(txn)->verdict == MW_VERDICT_DISCARD, "%s: %s (%s) note %s", dc->what,
		      mw_verdict_names[rcpt0(txn)->verdict], rcpt0(txn)->reason, note(txn));
	ck_assert_msg(strstr(rcpt0(txn)->reason, dc->virus) != NULL, "%s: %s", dc->what,
		      rcpt0(txn)->reason);
}
END_TEST

START_TEST(test_clean_and_reject)
{
	g_autoptr(MwConfig) config = load(clamd->socket, "action = reject\n");
	g_autoptr(GBytes) clean = vt_msg_plain("hello", "just text");
	g_autoptr(GBytes) bad = vt_msg_payload_attachment();
	g_autoptr(MwTxn) t1 = run(config, clean);
	g_autoptr(MwTxn) t2 = run(config, bad);

	ck_assert_int_eq(rcpt0(t1)->verdict, MW_VERDICT_CONTINUE);
	ck_assert_str_eq(note(t1), "clean");
	ck_assert(!((MwDelivery *) g_ptr_array_index(t1->deliveries, 0))->modified);
	ck_assert_int_eq(rcpt0(t2)->verdict, MW_VERDICT_REJECT);
	ck_assert_msg(
		g_str_has_prefix(rcpt0(t2)->reason, "5.7.1 Virus found: Mailwarden.Test.Payload1"),
		"%s", rcpt0(t2)->reason);
}
END_TEST

typedef struct {
	const char *keys;
	MwVerdict verdict;
	const char *note;
} DownCase;

static const DownCase down_cases[] = {
	{"", MW_VERDICT_TEMPFAIL, "error(tempfail)"},
	{"on_error = tempfail\n", MW_VERDICT_TEMPFAIL, "error(tempfail)"},
	{"on_error = pass\n", MW_VERDICT_CONTINUE, "error(pass)"},
};

START_TEST(test_clamd_down)
{
	const DownCase *dc = &down_cases[_i];
	g_autoptr(MwConfig) config = load(clamd->socket, dc->keys);
	g_autoptr(GBytes) msg = vt_msg_payload_attachment();

	g_clear_pointer(&clamd, vt_clamd_stop);
	g_autoptr(MwTxn) txn = run(config, msg);
	ck_assert_msg(rcpt0(txn)->verdict == dc->verdict, "%s: %s", dc->keys,
		      mw_verdict_names[rcpt0(txn)->verdict]);
	ck_assert_str_eq(note(txn), dc->note);
	if (dc->verdict == MW_VERDICT_TEMPFAIL)
		ck_assert_msg(g_str_has_prefix(rcpt0(txn)->reason, "4.3.0 "), "%s",
			      rcpt0(txn)->reason);

	/* what the core logs comes from this error */
	MwModule *module = mw_config_get_module(config, "virus");
	MwEnvelope *env = mw_envelope_new_simple("a@example.net", one_rcpt);
	g_autoptr(MwMessage) m =
		mw_message_new_from_bytes(g_bytes_get_data(msg, NULL), g_bytes_get_size(msg));
	g_autoptr(MwTxn) t = mw_txn_new(config, env, m);
	g_autoptr(GError) error = NULL;
	ck_assert(!module->klass->process(module, t, &error));
	ck_assert(g_error_matches(error, MW_ERROR, MW_ERROR_BACKEND));
	ck_assert_msg(g_str_has_prefix(error->message, "clamd unreachable: unix:") &&
			      strstr(error->message, "clamd.sock") != NULL,
		      "%s", error->message);
}
END_TEST

START_TEST(test_banned_while_down)
{
	g_autoptr(MwConfig) config = load(clamd->socket, NULL);
	g_autoptr(GBytes) data = g_bytes_new_static("%PDF-1.4\n", 9);
	g_autoptr(GBytes) msg = vt_msg_attachment("invoice.pdf.exe", "application/pdf", data);

	g_clear_pointer(&clamd, vt_clamd_stop);
	g_autoptr(MwTxn) txn = run(config, msg);
	ck_assert_int_eq(rcpt0(txn)->verdict, MW_VERDICT_DISCARD);
	ck_assert_msg(strstr(rcpt0(txn)->reason, "double extension .pdf.exe") != NULL, "%s",
		      rcpt0(txn)->reason);
}
END_TEST

START_TEST(test_encrypted_zip)
{
	g_autoptr(GBytes) data = vt_payload(3);
	VtZipEntry entries[] = {{"contract.doc", data, TRUE, TRUE}};
	g_autoptr(GBytes) zip = vt_zip(entries, 1);
	g_autoptr(GBytes) msg = vt_msg_attachment("contract.zip", "application/zip", zip);
	g_autoptr(MwConfig) block = load(clamd->socket, NULL);
	g_autoptr(MwConfig) pass = load(clamd->socket, "encrypted = pass\n");
	g_autoptr(MwTxn) t1 = run(block, msg);
	g_autoptr(MwTxn) t2 = run(pass, msg);

	ck_assert_int_eq(rcpt0(t1)->verdict, MW_VERDICT_DISCARD);
	ck_assert_msg(g_str_has_prefix(rcpt0(t1)->reason, "Encrypted attachment cannot be scanned: "
							  "contract.zip/contract.doc"),
		      "%s", rcpt0(t1)->reason);
	ck_assert_str_eq(note(t1), "encrypted:contract.zip/contract.doc/discard");
	ck_assert_int_eq(rcpt0(t2)->verdict, MW_VERDICT_CONTINUE);
}
END_TEST

START_TEST(test_max_scan_size)
{
	/* 2 KiB of a 5 KiB message go to clamd: the payload is not seen */
	g_autoptr(GBytes) msg = vt_msg_payload_attachment();
	g_autoptr(MwConfig) pass = load(clamd->socket, "max_scan_size = 2k\nmax_file_size = 1k\n");
	g_autoptr(MwConfig) block = load(clamd->socket, "max_scan_size = 2k\nmax_file_size = 1k\n"
							"oversized = block\n");
	g_autoptr(MwTxn) t1 = run(pass, msg);
	g_autoptr(MwTxn) t2 = run(block, msg);

	ck_assert_int_eq(rcpt0(t1)->verdict, MW_VERDICT_CONTINUE);
	ck_assert_str_eq(note(t1), "clean(partial)");
	ck_assert_int_eq(rcpt0(t2)->verdict, MW_VERDICT_DISCARD);
	ck_assert_msg(strstr(rcpt0(t2)->reason, MW_VIRUS_NAME_OVERSIZED) != NULL, "%s",
		      rcpt0(t2)->reason);
}
END_TEST

START_TEST(test_stream_max_length)
{
	/* clamd's own limit: it answers "size limit exceeded" and hangs up */
	g_clear_pointer(&clamd, vt_clamd_stop);
	clamd = vt_clamd_start(dir, db, "StreamMaxLength 2048\n");
	g_autoptr(GBytes) msg = vt_msg_payload_attachment();
	g_autoptr(MwConfig) pass = load(clamd->socket, NULL);
	g_autoptr(MwConfig) block = load(clamd->socket, "oversized = block\n");
	g_autoptr(MwTxn) t1 = run(pass, msg);
	g_autoptr(MwTxn) t2 = run(block, msg);

	ck_assert_msg(rcpt0(t1)->verdict == MW_VERDICT_CONTINUE, "%s", rcpt0(t1)->reason);
	ck_assert_str_eq(note(t1), "clean(partial)");
	ck_assert_int_eq(rcpt0(t2)->verdict, MW_VERDICT_DISCARD);
}
END_TEST

static Suite *
clamd_suite(void)
{
	Suite *suite = suite_create("virus-clamd");
	TCase *tc = tcase_create("clamd");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_check_pings);
	tcase_add_loop_test(tc, test_detects, 0, vt_n_detect_cases);
	tcase_add_test(tc, test_clean_and_reject);
	tcase_add_loop_test(tc, test_clamd_down, 0, G_N_ELEMENTS(down_cases));
	tcase_add_test(tc, test_banned_while_down);
	tcase_add_test(tc, test_encrypted_zip);
	tcase_add_test(tc, test_max_scan_size);
	tcase_add_test(tc, test_stream_max_length);
	suite_add_tcase(suite, tc);
	return suite;
}

int
main(void)
{
	g_mime_init();
	SRunner *runner = srunner_create(clamd_suite());
	srunner_run_all(runner, CK_ENV);
	int failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	g_mime_shutdown();
	return failed == 0 ? 0 : 1;
}
