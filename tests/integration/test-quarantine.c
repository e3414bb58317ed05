/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-quarantine - quarantine verdicts and "mailwarden release ID"
 * SYNOPSIS
 *	integration/test-quarantine
 * DESCRIPTION
 *	A message with X-Test-Verdict: quarantine (test_verdict) is answered
 *	250, not delivered, and stored under state_dir/quarantine/ with its
 *	envelope; a log line names the quarantine id. "mailwarden -c CONF
 *	release ID" reinjects it byte-identical to its original sender and
 *	recipients. Releasing an unknown id fails and sends nothing.
 */

#include <stdio.h>
#include <string.h>

#include "mw-test-util.h"

/* file_contains - whether the file at @path contains @needle */
static gboolean
file_contains(const char *path, const char *needle)
{
	g_autofree char *data = NULL;
	gsize len = 0;

	if (!g_file_get_contents(path, &data, &len, NULL))
		return FALSE;
	return g_strstr_len(data, (gssize) len, needle) != NULL;
}

/* strip_ext - @name without its extension (a leading dot is kept) */
static char *
strip_ext(const char *name)
{
	const char *dot = strchr(name, '.');

	return dot != NULL && dot != name ? g_strndup(name, (gsize) (dot - name)) : g_strdup(name);
}

/*
 * quarantine_id - the id of the quarantined message: the first name under
 * quarantine/ that the log mentions, file names (without extension) before
 * the directories above them, deepest first
 */
static char *
quarantine_id(const char *qdir, const char *log)
{
	g_autoptr(GPtrArray) files = mwt_find_files(qdir);
	g_autoptr(GPtrArray) candidates = g_ptr_array_new_with_free_func(g_free);

	for (guint i = 0; i < files->len; i++) {
		const char *path = g_ptr_array_index(files, i);
		g_autofree char *base = g_path_get_basename(path);
		g_ptr_array_add(candidates, strip_ext(base));
	}
	for (guint i = 0; i < files->len; i++) {
		g_autofree char *dir = g_path_get_dirname(g_ptr_array_index(files, i));
		while (strlen(dir) > strlen(qdir)) {
			g_autofree char *base = g_path_get_basename(dir);
			char *up = g_path_get_dirname(dir);
			g_ptr_array_add(candidates, strip_ext(base));
			g_free(dir);
			dir = up;
		}
	}
	for (guint i = 0; i < candidates->len; i++) {
		const char *c = g_ptr_array_index(candidates, i);
		if (strlen(c) >= 6 && strstr(log, c) != NULL)
			return g_strdup(c);
	}
	return NULL;
}

START_TEST(test_quarantine_and_release)
{
	static const char *const rcpts[] = {"a@example.net", "b@example.net", NULL};
	g_autoptr(MwtSmtp) s = NULL;
	g_autoptr(GBytes) msg = mwt_message("quarantine me", "X-Test-Verdict: quarantine");
	g_autoptr(GBytes) sentinel = mwt_message("sentinel", NULL);
	g_autoptr(GBytes) released = NULL;
	g_autoptr(GPtrArray) files = NULL;
	g_autoptr(GPtrArray) released_rcpts = NULL;
	g_autofree char *qdir = NULL;
	g_autofree char *msgid = NULL;
	g_autofree char *log = NULL;
	g_autofree char *logged = NULL;
	g_autofree char *id = NULL;
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	g_autofree char *env = NULL;
	gboolean stored = FALSE;
	int rc;

	mwt_start(2, "modules = test_verdict", NULL);
	s = mwt_smtp_open(mwt->port, "EHLO client.example");
	mwt_smtp_ok(s, "XFORWARD IDENT=QUAR001");
	ck_assert_int_eq(mwt_smtp_message(s, "sender@example.org", NULL, rcpts, MWT_BYTES(msg)),
			 250);
	/* not delivered: the sentinel after it is message 1 */
	ck_assert_int_eq(mwt_smtp_message(s, "sentinel@example.org", NULL,
					  (const char *const[]){"s@example.net", NULL},
					  MWT_BYTES(sentinel)),
			 250);
	mwt_sink_wait(1);
	mwt_sink_quiesce();
	ck_assert_uint_eq(mwt_sink_count(), 1);

	/* stored, with a log line that names it */
	qdir = g_build_filename(mwt->state_dir, "quarantine", NULL);
	files = mwt_find_files(qdir);
	msgid = mwt_header(msg, "Message-ID");
	for (guint i = 0; i < files->len; i++)
		if (file_contains(g_ptr_array_index(files, i), msgid))
			stored = TRUE;
	ck_assert_msg(stored, "no file under %s holds the message %s", qdir, msgid);
	logged = mwt_log_wait(10000, "QUAR001", "quarantin", NULL);
	ck_assert_msg(logged != NULL, "no log line for the quarantined message; log:\n%s",
		      mwt_log_text());
	log = mwt_log_text();
	id = quarantine_id(qdir, log);
	ck_assert_msg(id != NULL, "no quarantine id under %s is named in the log:\n%s", qdir, log);

	/* release it */
	rc = mwt_run(NULL, &out, &err, MW_TEST_BINARY, "-c", mwt->conf, "release", id, NULL);
	ck_assert_msg(rc == 0, "release %s: exit %d\nstdout:\n%s\nstderr:\n%s", id, rc, out, err);
	mwt_sink_wait(2);
	released = mwt_sink_message(2);
	mwt_assert_bytes_equal(msg, released);
	env = mwt_sink_envelope(2);
	ck_assert_msg(strstr(env, "MAIL FROM:<sender@example.org>") != NULL,
		      "released with the envelope:\n%s", env);
	released_rcpts = mwt_env_rcpts(env);
	ck_assert_msg(released_rcpts->len == 2 &&
			      strcmp(g_ptr_array_index(released_rcpts, 0), "a@example.net") == 0 &&
			      strcmp(g_ptr_array_index(released_rcpts, 1), "b@example.net") == 0,
		      "released with the envelope:\n%s", env);
}
END_TEST

START_TEST(test_release_unknown)
{
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	int rc;

	mwt_start(2, "modules = test_verdict", NULL);
	rc = mwt_run(NULL, &out, &err, MW_TEST_BINARY, "-c", mwt->conf, "release", "NOSUCHID42",
		     NULL);
	ck_assert_msg(rc == 1 || rc == 2, "release of an unknown id: exit %d\n%s%s", rc, out, err);
	ck_assert_msg(strstr(err, "NOSUCHID42") != NULL || strstr(out, "NOSUCHID42") != NULL,
		      "the error does not name the id:\n%s%s", out, err);
	mwt_sink_quiesce();
	ck_assert_uint_eq(mwt_sink_count(), 0);
}
END_TEST

START_TEST(test_quarantine_lmtp_per_rcpt)
{
	static const char *const rcpts[] = {"a@example.net", "b@example.net", NULL};
	g_autoptr(MwtSmtp) s = NULL;
	g_autoptr(GBytes) msg = mwt_message("quarantine lmtp", "X-Test-Verdict: quarantine");
	g_autofree char *qdir = NULL;
	g_autoptr(GPtrArray) files = NULL;

	mwt_start(2, "protocol = lmtp\nmodules = test_verdict", NULL);
	s = mwt_smtp_open(mwt->port, "LHLO client.example");
	mwt_smtp_ok(s, "MAIL FROM:<sender@example.org>");
	mwt_smtp_ok(s, "RCPT TO:<%s>", rcpts[0]);
	mwt_smtp_ok(s, "RCPT TO:<%s>", rcpts[1]);
	mwt_smtp_cmd_expect(s, 354, "DATA");
	mwt_smtp_data(s, MWT_BYTES(msg));
	mwt_smtp_expect(s, 250);
	mwt_smtp_expect(s, 250);
	mwt_sink_quiesce();
	ck_assert_uint_eq(mwt_sink_count(), 0);
	qdir = g_build_filename(mwt->state_dir, "quarantine", NULL);
	files = mwt_find_files(qdir);
	ck_assert_msg(files->len > 0, "nothing stored under %s", qdir);
}
END_TEST

static Suite *
quarantine_suite(void)
{
	Suite *suite = suite_create("quarantine");
	TCase *tc = mwt_tcase("quarantine", 60);

	tcase_add_test(tc, test_quarantine_and_release);
	tcase_add_test(tc, test_release_unknown);
	tcase_add_test(tc, test_quarantine_lmtp_per_rcpt);
	suite_add_tcase(suite, tc);
	return suite;
}

int
main(void)
{
	return mwt_main(quarantine_suite());
}
