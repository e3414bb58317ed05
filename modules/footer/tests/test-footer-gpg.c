/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-footer-gpg - a real PGP/MIME signature still verifies after the footer
 * DESCRIPTION
 *	The suite makes an Ed25519 key and a detached signature with gpg --batch
 *	in a private GNUPGHOME (unchecked fixture, once), over a signed part that
 *	has what a careless re-serialization changes: a preamble, white space
 *	after a boundary, an epilogue, trailing white space in a line. The
 *	gpg-agent gpg starts for that is stopped right after, by its pid. Then:
 *	signed = attach wraps the message and the signed part taken from the
 *	result verifies with gpgv (and a one-byte change makes it fail, so the
 *	check can fail); signed = skip leaves the bytes alone; a second pass
 *	adds nothing.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "footer-test-util.h"

static char *gnupg_home;
static GBytes *signed_message;

/* the first body part of the multipart/signed: this is what the signature covers */
static const char signed_entity[] = "Content-Type: multipart/mixed; boundary=\"inner\"\r\n"
				    "\r\n"
				    "This is a multi-part message in MIME format.\r\n"
				    "--inner\r\n"
				    "Content-Type: text/plain; charset=utf-8\r\n"
				    "Content-Transfer-Encoding: quoted-printable\r\n"
				    "\r\n"
				    "Signed text with Gr=C3=BC=C3=9Fe.\r\n"
				    "\r\n"
				    "--inner  \r\n"
				    "Content-Type: text/plain; name=\"a.txt\"\r\n"
				    "Content-Disposition: attachment; filename=\"a.txt\"\r\n"
				    "\r\n"
				    "attached   \r\n"
				    "--inner--\r\n"
				    "epilogue of the signed part\r\n";

/* run - a command with a 60 s limit (coreutils timeout); returns its exit status */
static int
run(const char *const *argv, char **out, char **err)
{
	g_autoptr(GPtrArray) full = g_ptr_array_new();
	g_auto(GStrv) env = g_environ_setenv(g_get_environ(), "GNUPGHOME", gnupg_home, TRUE);
	int status = -1;
	g_autoptr(GError) error = NULL;

	g_ptr_array_add(full, (gpointer) "timeout");
	g_ptr_array_add(full, (gpointer) "-k");
	g_ptr_array_add(full, (gpointer) "5");
	g_ptr_array_add(full, (gpointer) "60");
	for (guint i = 0; argv[i] != NULL; i++)
		g_ptr_array_add(full, (gpointer) argv[i]);
	g_ptr_array_add(full, NULL);
	if (!g_spawn_sync(NULL, (char **) full->pdata, env, G_SPAWN_SEARCH_PATH, NULL, NULL, out,
			  err, &status, &error)) {
		fprintf(stderr, "cannot run %s: %s\n", argv[0], error->message);
		return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* path_in_home - a file in the GNUPGHOME */
static char *
path_in_home(const char *name)
{
	return g_build_filename(gnupg_home, name, NULL);
}

/* stop_agent - end the gpg-agent of our GNUPGHOME, by its pid */
static void
stop_agent(void)
{
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	const char *argv[] = {"gpg-connect-agent", "--no-autostart", "getinfo pid", "/bye", NULL};

	if (gnupg_home == NULL || run(argv, &out, &err) != 0 || out == NULL)
		return;
	const char *line = strstr(out, "D ");
	if (line == NULL)
		return;
	pid_t pid = (pid_t) g_ascii_strtoll(line + 2, NULL, 10);
	if (pid <= 1)
		return;
	kill(pid, SIGTERM);
	for (int i = 0; i < 100 && kill(pid, 0) == 0; i++)
		g_usleep(50 * 1000);
	if (kill(pid, 0) == 0)
		kill(pid, SIGKILL);
}

/* suite_setup - the key, the signature, the signed message (once, before the tests fork) */
static void
suite_setup(void)
{
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;

	ft_suite_setup();
	gnupg_home = g_dir_make_tmp("mw-footer-gpg-XXXXXX", NULL);
	ck_assert_ptr_nonnull(gnupg_home);
	g_chmod(gnupg_home, 0700);
	const char *gen[] = {
		"gpg",          "--batch", "--pinentry-mode", "loopback",
		"--passphrase", "",        "--quick-gen-key", "Footer Test <signer@example.org>",
		"ed25519",      "sign",    "never",           NULL};
	ck_assert_msg(run(gen, &out, &err) == 0, "gpg --quick-gen-key failed: %s", err);
	g_autofree char *data_path = path_in_home("entity");
	g_autofree char *sig_path = path_in_home("entity.asc");
	g_autofree char *pub_path = path_in_home("pub.gpg");
	ck_assert(g_file_set_contents(data_path, signed_entity, -1, NULL));
	const char *sign[] = {"gpg",          "--batch", "--pinentry-mode", "loopback",
			      "--passphrase", "",        "--armor",         "--detach-sign",
			      "-o",           sig_path,  data_path,         NULL};
	g_clear_pointer(&err, g_free);
	ck_assert_msg(run(sign, NULL, &err) == 0, "gpg --detach-sign failed: %s", err);
	const char *export[] = {"gpg", "--batch", "--export", "-o", pub_path, NULL};
	ck_assert(run(export, NULL, NULL) == 0);
	stop_agent();

	g_autofree char *signature = NULL;
	ck_assert(g_file_get_contents(sig_path, &signature, NULL, NULL));
	g_auto(GStrv) sig_lines = g_strsplit(g_strchomp(signature), "\n", -1);
	g_autofree char *sig_crlf = g_strjoinv("\r\n", sig_lines);
	g_autofree char *message = g_strconcat(
		"From: Signer <signer@example.org>\r\nTo: bob@example.net\r\n"
		"Subject: signed\r\nMIME-Version: 1.0\r\n"
		"Content-Type: multipart/signed; micalg=pgp-sha512;\r\n"
		" protocol=\"application/pgp-signature\"; boundary=\"sig\"\r\n\r\n"
		"This is an OpenPGP/MIME signed message (RFC 4880 and 3156)\r\n--sig\r\n",
		signed_entity,
		"\r\n--sig\r\nContent-Type: application/pgp-signature; name=\"signature.asc\"\r\n"
		"Content-Disposition: attachment; filename=\"signature.asc\"\r\n\r\n",
		sig_crlf, "\r\n\r\n--sig--\r\n", NULL);
	signed_message = g_bytes_new(message, strlen(message));
}

static void
suite_teardown(void)
{
	stop_agent();
	ft_suite_teardown();
	if (gnupg_home != NULL) {
		g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", gnupg_home);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", gnupg_home);
	}
	g_clear_pointer(&gnupg_home, g_free);
	g_clear_pointer(&signed_message, g_bytes_unref);
}

/* verify - gpgv on the signed part and the signature taken from @message's bytes;
 * @tamper changes one byte of the signed part first */
static gboolean
verify(GBytes *message, gboolean tamper)
{
	g_autofree char *text = ft_bytes_text(message);
	const char *open = strstr(text, "\r\n--sig\r\n");
	ck_assert_ptr_nonnull(open);
	const char *start = open + strlen("\r\n--sig\r\n");
	const char *end = strstr(start, "\r\n--sig\r\n");
	ck_assert_ptr_nonnull(end);
	const char *sig = strstr(end, "-----BEGIN PGP SIGNATURE-----");
	const char *sig_end = sig != NULL ? strstr(sig, "-----END PGP SIGNATURE-----") : NULL;
	ck_assert_ptr_nonnull(sig_end);

	g_autofree char *part = g_strndup(start, (gsize) (end - start));
	if (tamper)
		part[strlen(part) / 2] ^= 1;
	g_autofree char *signature =
		g_strndup(sig, (gsize) (sig_end - sig) + strlen("-----END PGP SIGNATURE-----"));
	g_autofree char *data_path = path_in_home("check");
	g_autofree char *sig_path = path_in_home("check.asc");
	g_autofree char *pub_path = path_in_home("pub.gpg");
	ck_assert(g_file_set_contents(data_path, part, -1, NULL));
	ck_assert(g_file_set_contents(sig_path, signature, -1, NULL));
	const char *argv[] = {"gpgv", "--keyring", pub_path, sig_path, data_path, NULL};
	g_autofree char *err = NULL;
	int status = run(argv, NULL, &err);
	if (status != 0 && !tamper)
		fprintf(stderr, "gpgv: %s\n", err);
	return status == 0;
}

START_TEST(test_signature_sane)
{
	/* the test data itself: verifies as made, fails when changed */
	ck_assert(verify(signed_message, FALSE));
	ck_assert(!verify(signed_message, TRUE));
}
END_TEST

START_TEST(test_attach_keeps_signature)
{
	ft_configure(NULL, "signed = attach\n");
	FtResult r = ft_process(signed_message, "signer@example.org");
	g_autoptr(GMimeMessage) mime = ft_parse(r.out);
	GMimeObject *root = g_mime_message_get_mime_part(mime);

	ck_assert_str_eq(r.note, "attached");
	ck_assert(GMIME_IS_MULTIPART(root) && !GMIME_IS_MULTIPART_SIGNED(root));
	ck_assert(GMIME_IS_MULTIPART_SIGNED(g_mime_multipart_get_part(GMIME_MULTIPART(root), 0)));
	g_autofree char *footer = ft_text(g_mime_multipart_get_part(GMIME_MULTIPART(root), 1));
	ck_assert_str_eq(footer, FT_LATIN "\r\n");
	ck_assert_msg(verify(r.out, FALSE), "the signature does not verify after the footer");
	ck_assert(!verify(r.out, TRUE));
	ft_result_clear(&r);

	ft_configure(NULL, "signed = attach\nposition = top\nhtml = @DIR@/footer.html\n");
	r = ft_process(signed_message, "signer@example.org");
	ck_assert_str_eq(r.note, "attached");
	ck_assert_msg(verify(r.out, FALSE), "the signature does not verify (top, HTML)");
	ft_result_clear(&r);
}
END_TEST

START_TEST(test_skip_leaves_bytes)
{
	ft_configure(NULL, NULL);
	FtResult r = ft_process(signed_message, "signer@example.org");

	ck_assert_str_eq(r.note, "signed");
	ck_assert(g_bytes_equal(r.out, signed_message));
	ck_assert(verify(r.out, FALSE));
	ft_result_clear(&r);
}
END_TEST

START_TEST(test_second_pass)
{
	ft_configure(NULL, "signed = attach\n");
	FtResult first = ft_process(signed_message, "signer@example.org");
	FtResult second = ft_process(first.out, "signer@example.org");

	ck_assert_str_eq(second.note, "present");
	ck_assert(g_bytes_equal(first.out, second.out));
	ck_assert(verify(second.out, FALSE));
	ft_result_clear(&first);
	ft_result_clear(&second);
}
END_TEST

int
main(void)
{
	g_mime_init();
	Suite *s = suite_create("footer-gpg");
	TCase *tc = tcase_create("gpg");
	tcase_add_unchecked_fixture(tc, suite_setup, suite_teardown);
	tcase_add_checked_fixture(tc, ft_setup, ft_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_signature_sane);
	tcase_add_test(tc, test_attach_keeps_signature);
	tcase_add_test(tc, test_skip_leaves_bytes);
	tcase_add_test(tc, test_second_pass);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	g_mime_shutdown();
	return failed == 0 ? 0 : 1;
}
