/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-spam-backends - engine = spamd and engine = rspamd against the real daemons
 * DESCRIPTION
 *	main() starts SpamAssassin's spamd (--local: no network tests) on a
 *	free loopback port and a unix socket, and rspamd (Debian's config with
 *	overrides in a temp LOCAL_CONFDIR: one normal worker on a free loopback
 *	port, controller/proxy/fuzzy off, DNS pointed at a closed loopback
 *	port so no network check leaves the machine) in the foreground, and
 *	stops both by pid at the end (they also die with this process).
 *	Tests: scores and rule names from both, the envelope reaching rspamd
 *	(its log line shows queue id, client address and recipients),
 *	on_error when the backend is down or does not answer in time, the
 *	--check-config probe, and the learn/--check-config commands of the
 *	real binary.
 */
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mw-spam-rspamd.h"
#include "mw-spam-spamd.h"
#include "mw-test-util.h"
#include "spam-corpus.h"
#include "spam-test-util.h"

static char *work_dir; /* the daemons' files */
static guint16 spamd_port;
static guint16 rspamd_port;
static char *spamd_socket;
static char *rspamd_log;
static char *tmp_dir;
static const char *const bob[] = {"bob@example.org", NULL};

static void
setup(void)
{
	tmp_dir = g_dir_make_tmp("mw-spam-be-XXXXXX", NULL);
}

static void
teardown(void)
{
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", tmp_dir);
	ck_assert_int_eq(system(cmd), 0);
	g_clear_pointer(&tmp_dir, g_free);
}

static const char ham[] =
	"From: Alice <alice@example.net>\r\nTo: bob@example.org\r\n"
	"Subject: Minutes of the meeting\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n"
	"Message-ID: <m1@example.net>\r\n\r\nHi Bob, the minutes are attached.\r\n";

static char *
gtube_message(void)
{
	return g_strdup_printf(
		"From: a@example.net\r\nTo: bob@example.org\r\nSubject: gtube\r\n"
		"Message-ID: <g1@example.net>\r\n\r\n%s\r\n",
		"XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X");
}

START_TEST(test_spamd)
{
	g_autofree char *lines =
		g_strdup_printf("engine = spamd\nspamd = 127.0.0.1:%u\n", spamd_port);
	g_autoptr(MwConfig) config = stu_load(tmp_dir, lines, NULL);
	ck_assert_ptr_nonnull(config);
	g_autofree char *gtube = gtube_message();
	g_autoptr(MwTxn) spam = stu_run(config, gtube, "a@example.net", bob, "192.0.2.66", "x");
	const char *note = stu_note(spam);
	ck_assert_msg(note != NULL && g_str_has_suffix(note, "/quarantine") &&
			      g_ascii_strtod(note, NULL) >= 1000,
		      "note %s", note);
	MwTxnRcpt *rcpt = g_ptr_array_index(spam->rcpts, 0);
	ck_assert_int_eq(rcpt->verdict, MW_VERDICT_QUARANTINE);

	/* below discard_level: headers with spamd's rule names */
	g_autofree char *tagged_lines = g_strdup_printf(
		"engine = spamd\nspamd = 127.0.0.1:%u\ndiscard_level = 5000\n", spamd_port);
	g_autoptr(MwConfig) tag_config = stu_load(tmp_dir, tagged_lines, NULL);
	g_autoptr(MwTxn) tagged = stu_run(tag_config, gtube, "a@example.net", bob, NULL, NULL);
	g_autofree char *out = stu_delivered(tagged, 1);
	g_autofree char *status = stu_header(out, "X-Spam-Status");
	ck_assert_msg(status != NULL && g_str_has_prefix(status, "Yes, score=10") &&
			      strstr(status, "GTUBE") != NULL,
		      "X-Spam-Status: %s", status);

	g_autoptr(MwTxn) clean = stu_run(config, ham, "alice@example.net", bob, NULL, NULL);
	note = stu_note(clean);
	ck_assert_msg(note != NULL && g_ascii_strtod(note, NULL) < 6.0, "ham note %s", note);
}
END_TEST

START_TEST(test_spamd_unix_socket)
{
	g_autofree char *lines = g_strdup_printf("engine = spamd\nspamd = unix:%s\n", spamd_socket);
	g_autoptr(MwConfig) config = stu_load(tmp_dir, lines, NULL);
	g_autofree char *gtube = gtube_message();
	g_autoptr(MwTxn) txn = stu_run(config, gtube, "a@example.net", bob, NULL, NULL);
	const char *note = stu_note(txn);
	ck_assert_msg(note != NULL && g_ascii_strtod(note, NULL) >= 1000, "note %s", note);
}
END_TEST

START_TEST(test_backend_down)
{
	guint16 closed = stu_free_port();
	g_autofree char *lines = g_strdup_printf("engine = spamd\nspamd = 127.0.0.1:%u\n", closed);
	g_autoptr(MwConfig) config = stu_load(tmp_dir, lines, NULL);
	g_autoptr(MwTxn) txn = stu_run(config, ham, "a@example.net", bob, NULL, NULL);
	MwTxnRcpt *rcpt = g_ptr_array_index(txn->rcpts, 0);
	ck_assert_int_eq(rcpt->verdict, MW_VERDICT_TEMPFAIL);
	ck_assert(g_str_has_prefix(rcpt->reason, "4."));

	g_autofree char *pass_lines = g_strdup_printf(
		"engine = rspamd\nrspamd = http://127.0.0.1:%u\non_error = pass\n", closed);
	g_autoptr(MwConfig) pass = stu_load(tmp_dir, pass_lines, NULL);
	g_autoptr(MwTxn) passed = stu_run(pass, ham, "a@example.net", bob, NULL, NULL);
	ck_assert_str_eq(stu_note(passed), "error(pass)");
	rcpt = g_ptr_array_index(passed->rcpts, 0);
	ck_assert_int_eq(rcpt->verdict, MW_VERDICT_CONTINUE);
	g_autofree char *out = stu_delivered(passed, 1);
	ck_assert_str_eq(out, ham);

	/* --check-config's probe says the same */
	MwModule *module = mw_config_get_module(config, "spam");
	g_autoptr(GError) error = NULL;
	ck_assert(!module->klass->check(module, &error));
	ck_assert_msg(strstr(error->message, "spamd at 127.0.0.1:") != NULL, "%s", error->message);
	g_autofree char *up_lines =
		g_strdup_printf("engine = spamd\nspamd = 127.0.0.1:%u\n", spamd_port);
	g_autoptr(MwConfig) up = stu_load(tmp_dir, up_lines, NULL);
	MwModule *up_module = mw_config_get_module(up, "spam");
	ck_assert(up_module->klass->check(up_module, NULL));
}
END_TEST

START_TEST(test_backend_timeout)
{
	/* a server that accepts and never answers */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = 0};
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof sin;
	ck_assert_int_eq(bind(fd, (struct sockaddr *) &sin, sizeof sin), 0);
	ck_assert_int_eq(listen(fd, 8), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *) &sin, &len), 0);
	g_autofree char *lines = g_strdup_printf("engine = rspamd\nrspamd = http://127.0.0.1:%u\n"
						 "timeout = 1\n",
						 ntohs(sin.sin_port));
	g_autoptr(MwConfig) config = stu_load(tmp_dir, lines, NULL);
	gint64 t0 = g_get_monotonic_time();
	g_autoptr(MwTxn) txn = stu_run(config, ham, "a@example.net", bob, NULL, NULL);
	gint64 elapsed = g_get_monotonic_time() - t0;
	close(fd);
	MwTxnRcpt *rcpt = g_ptr_array_index(txn->rcpts, 0);
	ck_assert_int_eq(rcpt->verdict, MW_VERDICT_TEMPFAIL);
	ck_assert_msg(elapsed < 3 * G_USEC_PER_SEC, "took %" G_GINT64_FORMAT " us", elapsed);
}
END_TEST

START_TEST(test_rspamd)
{
	g_autofree char *lines =
		g_strdup_printf("engine = rspamd\nrspamd = http://127.0.0.1:%u\n", rspamd_port);
	g_autoptr(MwConfig) config = stu_load(tmp_dir, lines, NULL);
	ck_assert_ptr_nonnull(config);
	g_autofree char *gtube = gtube_message();
	g_autoptr(MwTxn) spam =
		stu_run(config, gtube, "a@example.net", bob, "192.0.2.66", "mx.example.net");
	const char *note = stu_note(spam);
	ck_assert_msg(note != NULL && g_str_has_suffix(note, "/quarantine"), "note %s", note);

	g_autofree char *tag_lines = g_strdup_printf(
		"engine = rspamd\nrspamd = http://127.0.0.1:%u\ndiscard_level = 100\n",
		rspamd_port);
	g_autoptr(MwConfig) tag_config = stu_load(tmp_dir, tag_lines, NULL);
	g_autoptr(MwTxn) tagged =
		stu_run(tag_config, gtube, "a@example.net", bob, "192.0.2.66", "mx.example.net");
	g_autofree char *out = stu_delivered(tagged, 1);
	g_autofree char *status = stu_header(out, "X-Spam-Status");
	ck_assert_msg(status != NULL && g_str_has_prefix(status, "Yes, score=15.0") &&
			      strstr(status, "GTUBE") != NULL,
		      "X-Spam-Status: %s", status);

	/* an ordinary message: rspamd's own checks (no DNS here: its lookups fail, which some of
	 * its rules count) give a few points on its scale, far from GTUBE's 15 */
	g_autoptr(MwTxn) clean =
		stu_run(config, ham, "alice@example.net", bob, "192.0.2.7", "mx.example.net");
	note = stu_note(clean);
	ck_assert_msg(note != NULL && g_ascii_strtod(note, NULL) < 15.0 &&
			      !g_str_has_suffix(note, "/quarantine"),
		      "ham note %s", note);

	/* the envelope went along: rspamd's task log line names it (queue id from XFORWARD) */
	gboolean seen = FALSE;
	for (int i = 0; i < 50 && !seen; i++) {
		g_autofree char *log = NULL;
		g_file_get_contents(rspamd_log, &log, NULL, NULL);
		seen = log != NULL && strstr(log, "qid: <4TESTQID>") != NULL &&
		       strstr(log, "ip: 192.0.2.66") != NULL &&
		       strstr(log, "rcpts: <bob@example.org>") != NULL;
		if (!seen)
			g_usleep(100000);
	}
	ck_assert_msg(seen, "no rspamd task line with the envelope in %s", rspamd_log);

	MwModule *module = mw_config_get_module(config, "spam");
	g_autoptr(GError) error = NULL;
	ck_assert_msg(module->klass->check(module, &error), "%s", error ? error->message : "");
}
END_TEST

START_TEST(test_cli_learn_and_check)
{
	g_autofree char *section =
		g_strdup_printf("[spam]\nengine = spamd\nspamd = 127.0.0.1:%u\n", spamd_port);
	mwt_write_config(1, "modules = spam", section);
	g_autofree char *dir = g_build_filename(mwt->dir, "corpus", NULL);
	spam_corpus_write(dir, TRUE, 0, 20);
	g_autofree char *out = NULL, *err = NULL;
	int rc = mwt_run(NULL, &out, &err, MW_TEST_BINARY, "-c", mwt->conf, "learn", "--spam", dir,
			 NULL);
	ck_assert_msg(rc == 0, "learn: %d\n%s\n%s", rc, out, err);
	ck_assert_msg(strstr(out, "learnt 20 spam message(s)") != NULL, "%s", out);
	g_autofree char *store = g_build_filename(mwt->state_dir, "spam-bayes.sqlite", NULL);
	ck_assert(g_file_test(store, G_FILE_TEST_EXISTS));
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	rc = mwt_run(NULL, &out, &err, MW_TEST_BINARY, "-c", mwt->conf, "learn", dir, NULL);
	ck_assert_msg(rc == 1 && strstr(err, "--spam|--ham") != NULL, "usage: %d %s", rc, err);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	rc = mwt_run(NULL, &out, &err, MW_TEST_BINARY, "-c", mwt->conf, "--check-config", NULL);
	ck_assert_msg(rc == 0, "check-config with spamd up: %d\n%s", rc, err);

	g_autofree char *dead =
		g_strdup_printf("[spam]\nengine = spamd\nspamd = 127.0.0.1:%u\n", stu_free_port());
	mwt_write_config(1, "modules = spam", dead);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);
	rc = mwt_run(NULL, &out, &err, MW_TEST_BINARY, "-c", mwt->conf, "--check-config", NULL);
	ck_assert_msg(rc == 1 && strstr(err, "[spam] spamd at 127.0.0.1:") != NULL,
		      "check-config with spamd down: %d\n%s", rc, err);
}
END_TEST

/* start_rspamd - Debian's rspamd config with our overrides; returns the pid */
static pid_t
start_rspamd(void)
{
	g_autofree char *local = g_build_filename(work_dir, "rspamd", NULL);
	const char *sub[] = {"override.d", "local.d", "db", "run", "log"};
	for (guint i = 0; i < G_N_ELEMENTS(sub); i++) {
		g_autofree char *p = g_build_filename(local, sub[i], NULL);
		g_mkdir_with_parents(p, 0755);
	}
	struct {
		const char *name;
		char *text;
	} files[] = {
		{"worker-normal.inc",
		 g_strdup_printf(
			 "bind_socket = \"127.0.0.1:%u\";\ncount = 1;\ntask_timeout = 8s;\n",
			 rspamd_port)},
		{"worker-controller.inc", g_strdup("enabled = false;\n")},
		{"worker-proxy.inc", g_strdup("enabled = false;\n")},
		{"worker-fuzzy.inc", g_strdup("enabled = false;\n")},
		/* network checks off: every DNS query goes to a closed loopback port */
		{"options.inc", g_strdup_printf("dns { nameserver = [\"127.0.0.1:%u\"]; timeout = "
						"0.2s; retransmits = 1; }\n",
						stu_free_port())},
		{"logging.inc", g_strdup("type = \"console\";\nlevel = \"info\";\n")},
	};
	for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
		g_autofree char *p = g_build_filename(local, "override.d", files[i].name, NULL);
		g_file_set_contents(p, files[i].text, -1, NULL);
		g_free(files[i].text);
	}
	g_autofree char *v1 = g_strdup_printf("--var=LOCAL_CONFDIR=%s", local);
	g_autofree char *v2 = g_strdup_printf("--var=DBDIR=%s/db", local);
	g_autofree char *v3 = g_strdup_printf("--var=RUNDIR=%s/run", local);
	g_autofree char *v4 = g_strdup_printf("--var=LOGDIR=%s/log", local);
	const char *argv[] = {
		"rspamd", "-f", "-i", "-u", "root", "-g", "root", "-c", "/etc/rspamd/rspamd.conf",
		v1,       v2,   v3,   v4,   NULL};
	return stu_spawn(argv, rspamd_log);
}

int
main(void)
{
	g_mime_init();
	work_dir = g_dir_make_tmp("mw-spam-backends-XXXXXX", NULL);
	spamd_port = stu_free_port();
	rspamd_port = stu_free_port();
	spamd_socket = g_build_filename(work_dir, "spamd.sock", NULL);
	rspamd_log = g_build_filename(work_dir, "rspamd.log", NULL);
	g_autofree char *spamd_log = g_build_filename(work_dir, "spamd.log", NULL);
	g_autofree char *listen_tcp = g_strdup_printf("--listen=127.0.0.1:%u", spamd_port);
	g_autofree char *listen_unix = g_strdup_printf("--listen=%s", spamd_socket);
	g_autofree char *pid_file = g_strdup_printf("--pidfile=%s/spamd.pid", work_dir);
	const char *spamd_argv[] = {"spamd",
				    "--local",
				    listen_tcp,
				    listen_unix,
				    pid_file,
				    "--nouser-config",
				    "--max-children=2",
				    "--min-children=1",
				    "--syslog=stderr",
				    "-u",
				    "nobody",
				    NULL};
	pid_t spamd = stu_spawn(spamd_argv, spamd_log);
	pid_t rspamd = start_rspamd();
	int failed = 1;
	/* a listening port is not enough: rspamd binds before its worker has loaded its rules */
	gboolean spamd_up = stu_wait_tcp(spamd_port, spamd, 60000);
	gboolean rspamd_up = stu_wait_tcp(rspamd_port, rspamd, 120000);
	g_autofree char *spamd_target = g_strdup_printf("127.0.0.1:%u", spamd_port);
	g_autofree char *rspamd_url = g_strdup_printf("http://127.0.0.1:%u", rspamd_port);
	for (int i = 0; spamd_up && i < 600 && !mw_spam_spamd_ping(spamd_target, 5, NULL); i++)
		g_usleep(200000);
	for (int i = 0; rspamd_up && i < 600 && !mw_spam_rspamd_ping(rspamd_url, 30, NULL); i++)
		g_usleep(200000);
	spamd_up = spamd_up && mw_spam_spamd_ping(spamd_target, 5, NULL);
	rspamd_up = rspamd_up && mw_spam_rspamd_ping(rspamd_url, 30, NULL);
	if (!spamd_up || !rspamd_up) {
		fprintf(stderr, "test-spam-backends: %s did not start; logs in %s\n",
			!spamd_up ? "spamd" : "rspamd", work_dir);
	} else {
		Suite *s = suite_create("spam-backends");
		TCase *tc = tcase_create("engines");
		tcase_add_checked_fixture(tc, setup, teardown);
		tcase_set_timeout(tc, 60);
		tcase_add_test(tc, test_spamd);
		tcase_add_test(tc, test_spamd_unix_socket);
		tcase_add_test(tc, test_backend_down);
		tcase_add_test(tc, test_backend_timeout);
		tcase_add_test(tc, test_rspamd);
		suite_add_tcase(s, tc);
		TCase *cli = mwt_tcase("cli", 60);
		tcase_add_test(cli, test_cli_learn_and_check);
		suite_add_tcase(s, cli);
		SRunner *sr = srunner_create(s);
		srunner_run_all(sr, CK_ENV);
		failed = srunner_ntests_failed(sr);
		srunner_free(sr);
	}
	stu_stop(spamd);
	stu_stop(rspamd);
	if (failed == 0 && spamd_up && rspamd_up) {
		g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", work_dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", work_dir);
	} else {
		fprintf(stderr, "test-spam-backends: files kept in %s\n", work_dir);
	}
	g_mime_shutdown();
	return failed == 0 && spamd_up && rspamd_up ? EXIT_SUCCESS : EXIT_FAILURE;
}
