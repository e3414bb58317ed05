/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-test-backends - data for the real modules in an integration test
 * SYNOPSIS
 *	mwt_make_clamav_db, mwt_make_keyring
 * DESCRIPTION
 *	The integration tests that run the real virus and gpg modules make
 *	what those need in the test's directory: a ClamAV database that knows
 *	the EICAR test string anywhere in a message, and a keyring with a
 *	freshly made public key for one address (the secret half stays in a
 *	directory of its own; every gpg-agent started is stopped again).
 */
#include <string.h>

#include <glib/gstdio.h>

#include "mw-test-util.h"

/* run - @argv (a program in PATH, NULL-terminated), asserting exit 0 */
static void
run(const char *const *argv)
{
	g_autofree char *prog = g_find_program_in_path(argv[0]);
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	const char *a[12] = {NULL};
	int rc;

	ck_assert_msg(prog != NULL, "%s is not installed (see modules/*/packages.txt)", argv[0]);
	for (guint i = 1; i < G_N_ELEMENTS(a) && argv[i] != NULL; i++)
		a[i] = argv[i];
	rc = mwt_run(NULL, &out, &err, prog, a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9],
		     a[10], a[11], NULL);
	ck_assert_msg(rc == 0, "%s %s: exit %d\n%s%s", argv[0], argv[1], rc, out, err);
}

char *
mwt_make_clamav_db(void)
{
	char *db = g_build_filename(mwt->dir, "clamav", NULL);
	g_autofree char *ndb = g_build_filename(db, "mwt.ndb", NULL);
	g_autoptr(GString) line = g_string_new("Mwt.Eicar:0:*:");

	ck_assert_int_eq(g_mkdir_with_parents(db, 0700), 0);
	for (const char *p = MWT_EICAR; *p != '\0'; p++)
		g_string_append_printf(line, "%02x", (guchar) *p);
	g_string_append_c(line, '\n');
	ck_assert(g_file_set_contents(ndb, line->str, -1, NULL));
	return db;
}

char *
mwt_make_keyring(const char *address)
{
	char *keyring = g_build_filename(mwt->dir, "keyring", NULL);
	g_autofree char *secret = g_build_filename(mwt->dir, "gnupg-secret", NULL);
	g_autofree char *asc = g_build_filename(mwt->dir, "public-key.asc", NULL);
	g_autofree char *uid = g_strdup_printf("Test <%s>", address);
	const char *gen[] = {"gpg",
			     "--homedir",
			     secret,
			     "--batch",
			     "--passphrase",
			     "",
			     "--quick-gen-key",
			     uid,
			     "future-default",
			     "default",
			     "never",
			     NULL};
	const char *export[] = {"gpg",      "--homedir", secret,     "--batch", "--yes", "--armor",
				"--output", asc,         "--export", address,   NULL};
	const char *import[] = {"gpg",      "--homedir", keyring, "--batch", "--no-autostart",
				"--import", asc,         NULL};
	const char *stop_secret[] = {"gpgconf", "--homedir", secret, "--kill", "all", NULL};
	const char *stop_keyring[] = {"gpgconf", "--homedir", keyring, "--kill", "all", NULL};

	ck_assert_int_eq(g_mkdir(secret, 0700), 0);
	ck_assert_int_eq(g_mkdir(keyring, 0700), 0);
	run(gen);
	run(export);
	run(import);
	run(stop_secret);
	run(stop_keyring);
	return keyring;
}
