/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-cli - the command line (ARCHITECTURE §2, §3)
 * SYNOPSIS
 *	integration/test-cli
 * DESCRIPTION
 *	--version and --help; --check-config exits 0 for a good config and 1
 *	with a message naming the culprit for an unknown key, section, module,
 *	module key or a bad value (the real binary does not know the test
 *	modules); the daemon itself refuses to start on a bad config; -o
 *	overrides a key; usage errors exit 1; "scan" runs the pipeline
 *	offline, prints a verdict per recipient and with --out writes each
 *	outgoing message as N.eml plus N.env (first line the sender, empty
 *	for the null sender of a bounce, then one recipient per line).
 */

#include <stdio.h>
#include <string.h>

#include "mw-test-util.h"

/* combined - stdout and stderr together, for "the message names X" checks */
static char *
combined(const char *out, const char *err)
{
	return g_strconcat(out, err, NULL);
}

START_TEST(test_version)
{
	static const char *const binaries[] = {MW_TEST_REAL_BINARY, MW_TEST_BINARY};

	for (guint i = 0; i < G_N_ELEMENTS(binaries); i++) {
		g_autofree char *out = NULL;
		g_autofree char *err = NULL;
		int rc = mwt_run(NULL, &out, &err, binaries[i], "--version", NULL);

		ck_assert_msg(rc == 0, "%s --version: exit %d\n%s", binaries[i], rc, err);
		ck_assert_msg(g_regex_match_simple("^mailwarden [0-9]+\\.[0-9]+", out, 0, 0),
			      "%s --version printed \"%s\"", binaries[i], out);
	}
}
END_TEST

START_TEST(test_help)
{
	static const char *const words[] = {"-c", "--check-config", "scan", "release"};
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	g_autofree char *all = NULL;
	int rc = mwt_run(NULL, &out, &err, MW_TEST_REAL_BINARY, "--help", NULL);

	ck_assert_msg(rc == 0, "--help: exit %d\n%s", rc, err);
	all = combined(out, err);
	for (guint i = 0; i < G_N_ELEMENTS(words); i++)
		ck_assert_msg(strstr(all, words[i]) != NULL, "--help does not mention %s:\n%s",
			      words[i], all);
}
END_TEST

START_TEST(test_check_config_good)
{
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	int rc;

	mwt_write_config(2, NULL, NULL);
	rc = mwt_run(NULL, &out, &err, MW_TEST_REAL_BINARY, "-c", mwt->conf, "--check-config",
		     NULL);
	ck_assert_msg(rc == 0, "good config: exit %d\n%s%s", rc, out, err);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);

	mwt_write_config(2,
			 "modules = test_split, test_consume, test_emit, test_verdict, "
			 "test_error, test_modify\n"
			 "protocol = lmtp\n"
			 "max_message_size = 1000000",
			 "[test_error]\non_error = pass\n");
	rc = mwt_run(NULL, &out, &err, MW_TEST_BINARY, "-c", mwt->conf, "--check-config", NULL);
	ck_assert_msg(rc == 0, "good config with test modules: exit %d\n%s%s", rc, out, err);
}
END_TEST

typedef struct {
	const char *what;
	const char *keys;
	const char *sections;
	const char *named; /* the message must contain this */
	gboolean real;     /* use the real binary (no test modules) */
} BadConfig;

static const BadConfig bad_configs[] = {
	{"unknown key", "frobnicate = 1", NULL, "frobnicate", FALSE},
	{"unknown section", NULL, "[nosuchsection]\nfoo = 1\n", "nosuchsection", FALSE},
	{"unknown module key", "modules = test_error", "[test_error]\nbogus_key = 1\n", "bogus_key",
	 FALSE},
	{"bad number", "workers = many", NULL, "workers", FALSE},
	{"bad protocol", "protocol = smtpx", NULL, "protocol", FALSE},
	{"bad on_error", "modules = test_error", "[test_error]\non_error = maybe\n", "on_error",
	 FALSE},
	{"unknown module", "modules = nosuchmodule", NULL, "nosuchmodule", FALSE},
	{"test module in the real daemon", "modules = test_split", NULL, "test_split", TRUE},
	{"bad listen address", "listen = not-an-address", NULL, "listen", FALSE},
};

START_TEST(test_check_config_bad)
{
	const BadConfig *bc = &bad_configs[_i];
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	g_autofree char *all = NULL;
	int rc;

	mwt_write_config(2, bc->keys, bc->sections);
	rc = mwt_run(NULL, &out, &err, bc->real ? MW_TEST_REAL_BINARY : MW_TEST_BINARY, "-c",
		     mwt->conf, "--check-config", NULL);
	all = combined(out, err);
	ck_assert_msg(rc == 1, "%s: --check-config exit %d, expected 1\n%s", bc->what, rc, all);
	ck_assert_msg(strstr(all, bc->named) != NULL, "%s: the message does not name \"%s\":\n%s",
		      bc->what, bc->named, all);
}
END_TEST

START_TEST(test_daemon_refuses_bad_config)
{
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	g_autofree char *all = NULL;
	int rc;

	mwt_write_config(2, "frobnicate = 1", NULL);
	/* must exit by itself, not serve with the typo ignored (mwt_run kills after 60 s) */
	rc = mwt_run(NULL, &out, &err, MW_TEST_BINARY, "-c", mwt->conf, NULL);
	all = combined(out, err);
	ck_assert_msg(rc == 1, "daemon with a bad config: exit %d\n%s", rc, all);
	ck_assert_msg(strstr(all, "frobnicate") != NULL, "not named:\n%s", all);
}
END_TEST

START_TEST(test_missing_config_and_usage)
{
	g_autofree char *missing = g_build_filename(mwt->dir, "no-such.conf", NULL);
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	int rc;

	rc = mwt_run(NULL, &out, &err, MW_TEST_BINARY, "-c", missing, "--check-config", NULL);
	ck_assert_msg(rc == 1, "missing config: exit %d\n%s%s", rc, out, err);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);

	mwt_write_config(2, NULL, NULL);
	rc = mwt_run(NULL, &out, &err, MW_TEST_BINARY, "-c", mwt->conf, "--frobnicate", NULL);
	ck_assert_msg(rc == 1, "unknown option: exit %d\n%s%s", rc, out, err);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);

	rc = mwt_run(NULL, &out, &err, MW_TEST_BINARY, "-c", mwt->conf, "release", NULL);
	ck_assert_msg(rc == 1, "release without an id: exit %d\n%s%s", rc, out, err);
	g_clear_pointer(&out, g_free);
	g_clear_pointer(&err, g_free);

	rc = mwt_run(NULL, &out, &err, MW_TEST_BINARY, "-c", mwt->conf, "frobnicate", NULL);
	ck_assert_msg(rc == 1, "unknown command: exit %d\n%s%s", rc, out, err);
}
END_TEST

START_TEST(test_override)
{
	static const char *const extra[] = {"-o", "hostname=override.test", NULL};
	g_autoptr(MwtSmtp) s = NULL;
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	g_autofree char *all = NULL;
	int rc;

	mwt_write_config(2, NULL, NULL);
	rc = mwt_run(NULL, &out, &err, MW_TEST_BINARY, "-c", mwt->conf, "-o", "frobnicate=1",
		     "--check-config", NULL);
	all = combined(out, err);
	ck_assert_msg(rc == 1 && strstr(all, "frobnicate") != NULL,
		      "-o with an unknown key: exit %d\n%s", rc, all);

	mwt_sink_start(NULL);
	mwt_daemon_start_argv(extra);
	s = mwt_smtp_connect(mwt->port);
	mwt_smtp_expect(s, 220);
	ck_assert_msg(g_str_has_prefix(s->text, "override.test "), "greeting \"%s\"", s->text);
}
END_TEST

/* out_file - DIR/out/@name contents */
static GBytes *
out_file(const char *name)
{
	g_autofree char *path = g_build_filename(mwt->dir, "out", name, NULL);
	char *data = NULL;
	gsize len = 0;

	ck_assert_msg(g_file_get_contents(path, &data, &len, NULL), "%s missing", path);
	return g_bytes_new_take(data, len);
}

/* env_lines - the lines of an --out N.env, angle brackets removed */
static GPtrArray *
env_lines(GBytes *env)
{
	g_autofree char *text = g_strndup(g_bytes_get_data(env, NULL), g_bytes_get_size(env));
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

	for (guint i = 0; lines[i] != NULL; i++) {
		char *l = g_strstrip(g_strdup(lines[i]));
		gsize n = strlen(l);
		if (n == 0 && (i > 0 || lines[i + 1] == NULL)) {
			/* an empty first line is the null sender; others are padding */
			g_free(l);
			continue;
		}
		if (l[0] == '<' && l[n - 1] == '>') {
			memmove(l, l + 1, n - 2);
			l[n - 2] = '\0';
		}
		g_ptr_array_add(out, l);
	}
	return out;
}

/* verdict_line - the first line of @out mentioning @rcpt, with @rcpt cut out */
static char *
verdict_line(const char *out, const char *rcpt)
{
	g_auto(GStrv) lines = g_strsplit(out, "\n", -1);

	for (guint i = 0; lines[i] != NULL; i++) {
		char *hit = strstr(lines[i], rcpt);
		if (hit != NULL) {
			GString *rest = g_string_new_len(lines[i], hit - lines[i]);
			g_string_append(rest, hit + strlen(rcpt));
			return g_string_free(rest, FALSE);
		}
	}
	return NULL;
}

START_TEST(test_scan)
{
	g_autoptr(GBytes) msg = mwt_message("scan me", NULL);
	g_autofree char *in = mwt_write_file("in.eml", g_bytes_get_data(msg, NULL),
					     (gssize) g_bytes_get_size(msg));
	g_autofree char *outdir = g_build_filename(mwt->dir, "out", NULL);
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	g_autofree char *line_a = NULL;
	g_autofree char *line_reject = NULL;
	g_autofree char *line_split = NULL;
	guint n_eml = 0, seen_orig = 0, seen_variant = 0, seen_bounce = 0;
	int rc;

	g_mkdir_with_parents(outdir, 0755);
	mwt_write_config(2, "modules = test_split, test_verdict", NULL);
	rc = mwt_run(NULL, &out, &err, MW_TEST_BINARY, "-c", mwt->conf, "scan", "--from",
		     "sender@example.org", "--to", "a@example.net", "--to", "split1@example.net",
		     "--to", "reject1@example.net", "--out", outdir, in, NULL);
	ck_assert_msg(rc == 0, "scan: exit %d\nstdout:\n%s\nstderr:\n%s", rc, out, err);

	line_a = verdict_line(out, "a@example.net");
	line_split = verdict_line(out, "split1@example.net");
	line_reject = verdict_line(out, "reject1@example.net");
	ck_assert_msg(line_a != NULL && line_split != NULL && line_reject != NULL,
		      "scan does not report every recipient:\n%s", out);
	ck_assert_msg(strstr(line_reject, "reject") != NULL,
		      "no reject verdict for reject1@example.net:\n%s", out);
	ck_assert_msg(strstr(line_a, "reject") == NULL && strstr(line_a, "tempfail") == NULL,
		      "a@example.net reported as refused:\n%s", out);

	for (guint n = 1; n <= 10; n++) {
		g_autofree char *name = g_strdup_printf("%u.eml", n);
		g_autofree char *env_name = g_strdup_printf("%u.env", n);
		g_autofree char *path = g_build_filename(outdir, name, NULL);
		g_autoptr(GBytes) eml = NULL;
		g_autoptr(GBytes) env = NULL;
		g_autoptr(GPtrArray) lines = NULL;
		g_autofree char *variant = NULL;

		if (!g_file_test(path, G_FILE_TEST_EXISTS))
			break;
		n_eml++;
		eml = out_file(name);
		env = out_file(env_name);
		lines = env_lines(env);
		ck_assert_msg(lines->len == 2,
			      "%s: expected sender and one recipient, got %u lines", env_name,
			      lines->len);
		variant = mwt_header(eml, "X-Test-Variant");
		if (((const char *) g_ptr_array_index(lines, 0))[0] == '\0') {
			/* the bounce for reject1@ (as in SMTP mode) */
			ck_assert_str_eq(g_ptr_array_index(lines, 1), "sender@example.org");
			ck_assert_msg(g_strstr_len(g_bytes_get_data(eml, NULL),
						   (gssize) g_bytes_get_size(eml),
						   "reject1@example.net") != NULL,
				      "%s: a bounce that does not name reject1@example.net", name);
			seen_bounce++;
			continue;
		}
		ck_assert_str_eq(g_ptr_array_index(lines, 0), "sender@example.org");
		if (strcmp(g_ptr_array_index(lines, 1), "a@example.net") == 0) {
			mwt_assert_bytes_equal(msg, eml);
			seen_orig++;
		} else if (strcmp(g_ptr_array_index(lines, 1), "split1@example.net") == 0) {
			ck_assert_msg(g_strcmp0(variant, "split") == 0, "split variant: %s",
				      variant);
			seen_variant++;
		} else {
			ck_abort_msg("%s is for %s", env_name,
				     (char *) g_ptr_array_index(lines, 1));
		}
	}
	/* a bounce for the rejected recipient is optional offline, at most one */
	ck_assert_msg(n_eml == 2 + seen_bounce && seen_orig == 1 && seen_variant == 1 &&
			      seen_bounce <= 1,
		      "--out has %u messages (original %u, variant %u, bounce %u)", n_eml,
		      seen_orig, seen_variant, seen_bounce);
}
END_TEST

START_TEST(test_scan_stdin)
{
	g_autoptr(GBytes) msg = mwt_message("scan stdin", "X-Test-Verdict: reject");
	g_autofree char *in = mwt_write_file("stdin.eml", g_bytes_get_data(msg, NULL),
					     (gssize) g_bytes_get_size(msg));
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	g_autofree char *line = NULL;
	int rc;

	mwt_write_config(2, "modules = test_verdict", NULL);
	rc = mwt_run(in, &out, &err, MW_TEST_BINARY, "-c", mwt->conf, "scan", "--from",
		     "sender@example.org", "--to", "b@example.net", NULL);
	ck_assert_msg(rc == 0, "scan from stdin: exit %d\n%s%s", rc, out, err);
	line = verdict_line(out, "b@example.net");
	ck_assert_msg(line != NULL && strstr(line, "reject") != NULL,
		      "no reject verdict for b@example.net:\n%s", out);
}
END_TEST

static Suite *
cli_suite(void)
{
	Suite *suite = suite_create("cli");
	TCase *tc = mwt_tcase("cli", 60);

	tcase_add_test(tc, test_version);
	tcase_add_test(tc, test_help);
	tcase_add_test(tc, test_check_config_good);
	tcase_add_loop_test(tc, test_check_config_bad, 0, G_N_ELEMENTS(bad_configs));
	tcase_add_test(tc, test_daemon_refuses_bad_config);
	tcase_add_test(tc, test_missing_config_and_usage);
	tcase_add_test(tc, test_override);
	tcase_add_test(tc, test_scan);
	tcase_add_test(tc, test_scan_stdin);
	suite_add_tcase(suite, tc);
	return suite;
}

int
main(void)
{
	return mwt_main(cli_suite());
}
