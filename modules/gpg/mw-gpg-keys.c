/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-gpg-keys - GPGME contexts and the choice of a recipient's key
 * SYNOPSIS
 *	mw_gpg_library_init, mw_gpg_context_new, mw_gpg_keyring_check,
 *	mw_gpg_keyring_has_option, mw_gpg_address_fold, mw_gpg_find_keys, mw_gpg_count_keys
 * DESCRIPTION
 *	One GPGME context per process (a worker, or the scan command), bound
 *	to the configured GnuPG home. GPGME runs gpg for every operation and
 *	gpg reads the keyring each time, so a key imported, revoked or
 *	expired while the daemon runs counts from the next message on.
 *
 *	A key is chosen for an address when one of its user ids that is
 *	neither revoked nor invalid carries exactly that address (compared
 *	case-insensitively) and the key is not expired, revoked, disabled or
 *	invalid and has a subkey that can encrypt and is itself usable. Among
 *	several such keys the one with the newest encryption subkey wins.
 *	Owner trust is not consulted: the keyring is the administrator's list
 *	of keys to use (encryption runs with always-trust).
 *
 *	Every failure of the engine or the keyring is an MW_ERROR_BACKEND
 *	error; "no key" is not an error.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mw-error.h"
#include "mw-gpg.h"

/* set_gpgme_error - an MW_ERROR_BACKEND error from a GPGME error code */
static void
set_gpgme_error(GError **error, gpgme_error_t err, const char *what)
{
	g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "%s: %s", what, gpgme_strerror(err));
}

/**
 * mw_gpg_library_init:
 *
 * Initializes GPGME (gpgme_check_version() must run before any context is
 * made; calling it again is harmless) and checks that the OpenPGP engine,
 * gpg, can be run. Returns: FALSE with MW_ERROR_BACKEND when it cannot.
 */
gboolean
mw_gpg_library_init(GError **error)
{
	if (gpgme_check_version(NULL) == NULL) {
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "GPGME cannot be initialized");
		return FALSE;
	}
	gpgme_error_t err = gpgme_engine_check_version(GPGME_PROTOCOL_OpenPGP);
	if (err != 0) {
		set_gpgme_error(error, err, "the OpenPGP engine (gpg) is not usable");
		return FALSE;
	}
	return TRUE;
}

/**
 * mw_gpg_context_new:
 * @keyring: the GnuPG home directory
 *
 * Returns: (transfer full): a context for public-key operations on @keyring,
 * with ASCII armor and without network access (no key server, no WKD), or
 * NULL with MW_ERROR_BACKEND.
 */
gpgme_ctx_t
mw_gpg_context_new(const char *keyring, GError **error)
{
	if (!mw_gpg_library_init(error))
		return NULL;
	gpgme_ctx_t ctx = NULL;
	gpgme_error_t err = gpgme_new(&ctx);
	if (err != 0) {
		set_gpgme_error(error, err, "cannot create a GPGME context");
		return NULL;
	}
	err = gpgme_set_protocol(ctx, GPGME_PROTOCOL_OpenPGP);
	if (err == 0)
		err = gpgme_ctx_set_engine_info(ctx, GPGME_PROTOCOL_OpenPGP, NULL, keyring);
	if (err == 0)
		err = gpgme_set_keylist_mode(ctx, GPGME_KEYLIST_MODE_LOCAL);
	if (err != 0) {
		set_gpgme_error(error, err, "cannot set up the GPGME context");
		gpgme_release(ctx);
		return NULL;
	}
	/* every status line goes to a status callback (set around key listings) */
	err = gpgme_set_ctx_flag(ctx, "full-status", "1");
	if (err != 0) {
		set_gpgme_error(error, err, "cannot set up the GPGME context");
		gpgme_release(ctx);
		return NULL;
	}
	gpgme_set_armor(ctx, 1);
	gpgme_set_offline(ctx, 1);
	return ctx;
}

/**
 * mw_gpg_keyring_check:
 * @keyring: the GnuPG home directory
 *
 * gpg treats a missing home or keyring as an empty one, which would send
 * everybody's mail unencrypted without a word; this makes it an error.
 * Returns: TRUE when @keyring is a directory holding pubring.kbx or
 * pubring.gpg, else FALSE with MW_ERROR_BACKEND.
 */
gboolean
mw_gpg_keyring_check(const char *keyring, GError **error)
{
	struct stat st;
	if (stat(keyring, &st) < 0) {
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "keyring %s: %s", keyring,
			    g_strerror(errno));
		return FALSE;
	}
	if (!S_ISDIR(st.st_mode)) {
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "keyring %s: not a directory",
			    keyring);
		return FALSE;
	}
	static const char *const names[] = {"pubring.kbx", "pubring.gpg"};
	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		g_autofree char *path = g_build_filename(keyring, names[i], NULL);
		if (access(path, R_OK) == 0)
			return TRUE;
	}
	g_set_error(error, MW_ERROR, MW_ERROR_BACKEND,
		    "keyring %s: no readable pubring.kbx or pubring.gpg in it", keyring);
	return FALSE;
}

/**
 * mw_gpg_keyring_has_option:
 * @keyring: the GnuPG home directory
 * @option: an option name as gpg.conf writes it ("no-random-seed-file")
 *
 * Returns: whether @keyring/gpg.conf has a line setting @option (with or
 * without an argument); FALSE when there is no such file
 */
gboolean
mw_gpg_keyring_has_option(const char *keyring, const char *option)
{
	g_autofree char *path = g_build_filename(keyring, "gpg.conf", NULL);
	g_autofree char *text = NULL;
	if (!g_file_get_contents(path, &text, NULL, NULL))
		return FALSE;
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	gsize len = strlen(option);
	for (guint i = 0; lines[i] != NULL; i++) {
		const char *line = g_strstrip(lines[i]);
		if (strncmp(line, option, len) == 0 &&
		    (line[len] == '\0' || line[len] == ' ' || line[len] == '\t'))
			return TRUE;
	}
	return FALSE;
}

/**
 * mw_gpg_address_fold:
 * @address: a mail address (UTF-8 for SMTPUTF8 addresses)
 *
 * Lower case, not g_utf8_casefold(): the result is also the pattern gpg
 * searches for, and gpg compares ASCII letters without case but other
 * characters exactly, so a fold that rewrites them ("ß" to "ss") would find
 * nothing.
 *
 * Returns: (transfer full): @address in lower case (ASCII only when it is not
 * valid UTF-8), so that equal addresses compare equal with strcmp()
 */
char *
mw_gpg_address_fold(const char *address)
{
	if (g_utf8_validate(address, -1, NULL))
		return g_utf8_strdown(address, -1);
	return g_ascii_strdown(address, -1);
}

/* the ERROR status lines of one key listing: GPGME keeps only "ERROR keydb_search", but gpg
 * reports an unreadable keyring as, e.g., "ERROR keylist.getkey 14" and exits 2, while GPGME
 * just ends the listing: without this a corrupt keyring would look like one without keys */
typedef struct {
	gpgme_error_t error;
	char *where;
	gboolean not_found; /* gpg said "no such key": proof that it ran */
} ListingErrors;

/* on_status - a status line of gpg (the context has full-status set); "no such key" is not an
 * error, anything else ERROR reports is */
static gpgme_error_t
on_status(void *opaque, const char *keyword, const char *args)
{
	ListingErrors *errors = opaque;
	if (g_strcmp0(keyword, "ERROR") != 0 || args == NULL || errors->error != 0)
		return 0;
	g_auto(GStrv) fields = g_strsplit(args, " ", 3);
	if (fields[0] == NULL || fields[1] == NULL)
		return 0;
	gpgme_error_t err = (gpgme_error_t) g_ascii_strtoull(fields[1], NULL, 10);
	gpg_err_code_t code = gpg_err_code(err);
	if (code == GPG_ERR_NO_PUBKEY || code == GPG_ERR_NOT_FOUND || code == GPG_ERR_EOF) {
		errors->not_found = TRUE;
		return 0;
	}
	if (code == GPG_ERR_NO_ERROR)
		return 0;
	errors->error = err;
	errors->where = g_strdup(fields[0]);
	return 0;
}

/*
 * listing_end - the verdict on a listing of @n_keys keys that ended with @err (GPG_ERR_EOF when
 * complete). GPGME reports a gpg that cannot be run at all as an empty listing, so an empty
 * answer counts only when gpg said that it found nothing (it always does when no pattern
 * matches; listing everything, @any_pattern FALSE, may find nothing without a word).
 */
static gboolean
listing_end(gpgme_ctx_t ctx, gpgme_error_t err, ListingErrors *errors, guint n_keys,
	    gboolean any_pattern, GError **error)
{
	gpgme_set_status_cb(ctx, NULL, NULL);
	g_autofree char *where = g_steal_pointer(&errors->where);
	if (gpg_err_code(err) != GPG_ERR_EOF) {
		gpgme_op_keylist_end(ctx);
		set_gpgme_error(error, err, "cannot list keys");
		return FALSE;
	}
	if (errors->error != 0) {
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "cannot list keys: gpg: %s: %s",
			    where, gpgme_strerror(errors->error));
		return FALSE;
	}
	gpgme_keylist_result_t result = gpgme_op_keylist_result(ctx);
	if (result != NULL && result->truncated) {
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "cannot list keys: list truncated");
		return FALSE;
	}
	if (any_pattern && n_keys == 0 && !errors->not_found) {
		gpgme_engine_info_t info = gpgme_ctx_get_engine_info(ctx);
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND,
			    "cannot list keys: no answer from gpg (%s)",
			    info != NULL && info->file_name != NULL ? info->file_name : "?");
		return FALSE;
	}
	return TRUE;
}

/* encrypt_subkey_created - creation time of the newest subkey of @key that can encrypt now,
 * 0 when there is none (or the key as a whole is unusable) */
static long
encrypt_subkey_created(gpgme_key_t key)
{
	long newest = 0;
	if (key->revoked || key->expired || key->disabled || key->invalid || !key->can_encrypt)
		return 0;
	for (gpgme_subkey_t sub = key->subkeys; sub != NULL; sub = sub->next) {
		if (!sub->can_encrypt || sub->revoked || sub->expired || sub->disabled ||
		    sub->invalid)
			continue;
		/* a subkey created "now" by a skewed clock still counts */
		newest = MAX(newest, MAX(sub->timestamp, 1));
	}
	return newest;
}

/* uid_address - the addr-spec of a user id, NULL when it has none */
static const char *
uid_address(gpgme_user_id_t uid)
{
	if (uid->address != NULL && uid->address[0] != '\0')
		return uid->address;
	if (uid->email != NULL && uid->email[0] != '\0')
		return uid->email;
	return NULL;
}

/* consider_key - make @key the choice for every wanted address one of its live user ids carries,
 * unless a key with a newer encryption subkey was chosen already */
static void
consider_key(gpgme_key_t key, GHashTable *wanted, GHashTable *chosen, GHashTable *chosen_time)
{
	long created = encrypt_subkey_created(key);
	if (created == 0)
		return;
	for (gpgme_user_id_t uid = key->uids; uid != NULL; uid = uid->next) {
		const char *address = uid_address(uid);
		if (uid->revoked || uid->invalid || address == NULL)
			continue;
		g_autofree char *folded = mw_gpg_address_fold(address);
		if (!g_hash_table_contains(wanted, folded))
			continue;
		long previous = GPOINTER_TO_SIZE(g_hash_table_lookup(chosen_time, folded));
		if (previous >= created)
			continue;
		gpgme_key_ref(key);
		g_hash_table_insert(chosen, g_strdup(folded), key);
		g_hash_table_insert(chosen_time, g_strdup(folded), GSIZE_TO_POINTER(created));
	}
}

/**
 * mw_gpg_find_keys:
 * @ctx: a context from mw_gpg_context_new()
 * @addresses: NULL-terminated addresses, folded with mw_gpg_address_fold()
 *
 * Lists the keys of all @addresses with one gpg run (gpg's "<address>"
 * patterns match the mail address of a user id exactly, ignoring case) and
 * picks a usable key for each, as the file's DESCRIPTION says.
 *
 * Returns: (transfer full): folded address -> gpgme_key_t; NULL with
 * MW_ERROR_BACKEND when gpg cannot list the keyring.
 */
GHashTable *
mw_gpg_find_keys(gpgme_ctx_t ctx, const char *const *addresses, GError **error)
{
	g_autoptr(GHashTable) chosen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
							     (GDestroyNotify) gpgme_key_unref);
	g_autoptr(GHashTable) chosen_time =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GHashTable) wanted = g_hash_table_new(g_str_hash, g_str_equal);
	g_autoptr(GPtrArray) patterns = g_ptr_array_new_with_free_func(g_free);

	for (guint i = 0; addresses[i] != NULL; i++) {
		if (!g_hash_table_add(wanted, (gpointer) addresses[i]))
			continue;
		g_ptr_array_add(patterns, g_strdup_printf("<%s>", addresses[i]));
	}
	if (patterns->len == 0)
		return g_steal_pointer(&chosen);
	g_ptr_array_add(patterns, NULL);

	ListingErrors errors = {0, NULL, FALSE};
	guint n_keys = 0;
	gpgme_set_status_cb(ctx, on_status, &errors);
	gpgme_error_t err = gpgme_op_keylist_ext_start(ctx, (const char **) patterns->pdata, 0, 0);
	while (err == 0) {
		gpgme_key_t key = NULL;
		err = gpgme_op_keylist_next(ctx, &key);
		if (err != 0)
			break;
		n_keys++;
		consider_key(key, wanted, chosen, chosen_time);
		gpgme_key_unref(key);
	}
	if (!listing_end(ctx, err, &errors, n_keys, TRUE, error))
		return NULL;
	return g_steal_pointer(&chosen);
}

/**
 * mw_gpg_count_keys:
 * @count_out: (out): number of public keys
 *
 * Looks up an address nobody has (gpg reports a damaged keyring only when it
 * searches for something), then lists the whole keyring to count the keys.
 */
gboolean
mw_gpg_count_keys(gpgme_ctx_t ctx, guint *count_out, GError **error)
{
	static const char *const probe[] = {"probe@mailwarden.invalid", NULL};
	guint count = 0;
	g_autoptr(GHashTable) none = mw_gpg_find_keys(ctx, probe, error);
	if (none == NULL)
		return FALSE;
	ListingErrors errors = {0, NULL, FALSE};
	gpgme_set_status_cb(ctx, on_status, &errors);
	gpgme_error_t err = gpgme_op_keylist_start(ctx, NULL, 0);
	while (err == 0) {
		gpgme_key_t key = NULL;
		err = gpgme_op_keylist_next(ctx, &key);
		if (err != 0)
			break;
		count++;
		gpgme_key_unref(key);
	}
	if (!listing_end(ctx, err, &errors, count, FALSE, error))
		return FALSE;
	*count_out = count;
	return TRUE;
}
