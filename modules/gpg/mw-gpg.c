/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-gpg - inbound PGP/MIME encryption for recipients whose key is known
 * SYNOPSIS
 *	mw_gpg_module
 * DESCRIPTION
 *	For each active envelope recipient that is eligible (local, or
 *	everybody with recipients = all; on the opt-in list when only= is
 *	set) the module looks for a usable key in the keyring (one gpg run
 *	for all of them; answers are remembered per worker while the
 *	keyring's files are unchanged, so key changes need no restart and
 *	mail for recipients without keys costs no gpg run).
 *	Each recipient with a key gets a delivery of their own (mw_txn_split)
 *	whose message is replaced by its RFC 3156 form encrypted to that key
 *	alone; everybody else keeps the original delivery, untouched. Mail
 *	that is encrypted already is left as it is, which also makes a second
 *	pass over our own output a no-op.
 *
 *	Nothing is ever rejected: the module either encrypts a copy or lets
 *	it through. When the keyring or gpg fails, process() returns an
 *	MW_ERROR_BACKEND error naming the recipients and the reason, and the
 *	core applies on_error (default pass: the mail reached this host in
 *	plaintext and sits in Postfix's queue in plaintext, so delivering it
 *	unencrypted reveals nothing new, while tempfail would hold up the
 *	mail of every recipient, keyed or not, until the keyring is fixed;
 *	sites that prefer delay to plaintext set on_error = tempfail).
 *
 *	Encryptions run one at a time across workers (an flock() in
 *	state_dir) unless the keyring's gpg.conf has no-random-seed-file; see
 *	encryption_lock().
 *
 *	State: module->priv holds the resolved keyring path, the opt-in
 *	list, the key cache and this process's GPGME context (made in
 *	worker_init, or on first use where no worker_init ran, as in the scan
 *	command). The master never makes a context, so nothing GPGME-related
 *	crosses fork().
 * SEE ALSO
 *	mw-gpg.h, README.md
 */
#include <stddef.h>
#include <string.h>

#include "mw-error.h"
#include "mw-gpg.h"

static const char *const recipients_choices[] = {"local", "all", NULL};

static const MwOption gpg_options[] = {
	{"keyring", MW_OPT_PATH, "", offsetof(MwGpgConfig, keyring), NULL, 0, 0,
	 "GnuPG home directory with the recipients' public keys (empty: STATE_DIR/gnupg)"},
	{"recipients", MW_OPT_ENUM, "local", offsetof(MwGpgConfig, recipients), recipients_choices,
	 0, 0,
	 "whose mail is encrypted: local (domain in local_domains) or all envelope recipients"},
	{"only", MW_OPT_PATH, "", offsetof(MwGpgConfig, only), NULL, 0, 0,
	 "file listing the addresses that opted in, one per line (empty: everybody with a key)"},
	MW_OPTION_END,
};

/* gpg_free - module->priv */
static void
gpg_free(MwGpg *gpg)
{
	if (gpg == NULL)
		return;
	if (gpg->ctx != NULL)
		gpgme_release(gpg->ctx);
	mw_gpg_only_free(gpg->only);
	mw_gpg_cache_free(gpg->cache);
	g_free(gpg->keyring);
	g_free(gpg);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(MwGpg, gpg_free)

static gboolean
gpg_configure(MwModule *module, GError **error)
{
	const MwGpgConfig *config = module->config;
	g_autoptr(MwGpg) gpg = g_new0(MwGpg, 1);

	if (config->keyring != NULL && config->keyring[0] != '\0')
		gpg->keyring = g_strdup(config->keyring);
	else
		gpg->keyring = g_build_filename(module->core->state_dir, "gnupg", NULL);
	gpg->cache = mw_gpg_cache_new(gpg->keyring);
	if (module->on_error == MW_ON_ERROR_REJECT) {
		/* a broken keyring is no reason to bounce mail: deliver it or retry it */
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG,
			    "on_error: 'reject' is not supported here (pass | tempfail)");
		return FALSE;
	}
	if (config->recipients == MW_GPG_RECIPIENTS_LOCAL &&
	    (module->core->local_domains == NULL || module->core->local_domains[0] == NULL)) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG,
			    "recipients: 'local' but [mailwarden] local_domains is empty, so no "
			    "mail would ever be encrypted");
		return FALSE;
	}
	if (config->only != NULL && config->only[0] != '\0') {
		g_autoptr(GError) local = NULL;
		gpg->only = mw_gpg_only_new(config->only, &local);
		if (gpg->only == NULL) {
			g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "only: %s", local->message);
			return FALSE;
		}
	}
	module->priv = g_steal_pointer(&gpg);
	return TRUE;
}

/* gpg_start - GPGME's global initialization, in the master before the workers fork; the keyring
 * and gpg are only warned about: they are backends, checked again for every message */
static gboolean
gpg_start(MwModule *module, GError **error)
{
	MwGpg *gpg = module->priv;
	g_autoptr(GError) local = NULL;

	if (!mw_gpg_library_init(&local) || !mw_gpg_keyring_check(gpg->keyring, &local)) {
		g_warning("%s; mail for recipients with keys will follow on_error = %s",
			  local->message, mw_on_error_names[module->on_error]);
		return TRUE;
	}
	/* see encryption_lock() */
	if (!mw_gpg_keyring_has_option(gpg->keyring, "no-random-seed-file"))
		g_message("%s/gpg.conf has no 'no-random-seed-file' line: workers will encrypt "
			  "one at a time (see the gpg module's README)",
			  gpg->keyring);
	return TRUE;
}

/* gpg_check - --check-config: gpg runs and can list the keyring */
static gboolean
gpg_check(MwModule *module, GError **error)
{
	MwGpg *gpg = module->priv;
	guint count = 0;

	if (!mw_gpg_keyring_check(gpg->keyring, error))
		return FALSE;
	gpgme_ctx_t ctx = mw_gpg_context_new(gpg->keyring, error);
	if (ctx == NULL)
		return FALSE;
	gboolean ok = mw_gpg_count_keys(ctx, &count, error);
	gpgme_release(ctx);
	if (ok)
		g_info("keyring %s holds %u public key(s)", gpg->keyring, count);
	return ok;
}

/* gpg_worker_init - this worker's context; a failure is left to process(), which reports it per
 * message under on_error, instead of keeping the worker (and all other mail) from starting */
static gboolean
gpg_worker_init(MwModule *module, GError **error)
{
	MwGpg *gpg = module->priv;
	g_autoptr(GError) local = NULL;

	if (gpg->ctx == NULL)
		gpg->ctx = mw_gpg_context_new(gpg->keyring, &local);
	if (gpg->ctx == NULL)
		g_warning("%s", local->message);
	return TRUE;
}

static void
gpg_worker_exit(MwModule *module)
{
	MwGpg *gpg = module->priv;
	if (gpg != NULL && gpg->ctx != NULL) {
		gpgme_release(gpg->ctx);
		gpg->ctx = NULL;
	}
}

static void
gpg_finalize(MwModule *module)
{
	g_clear_pointer(&module->priv, gpg_free);
}

/* eligible - the recipient is active, and local (or recipients = all), and opted in (when
 * only = is set) */
static gboolean
eligible(MwModule *module, MwTxn *txn, const MwTxnRcpt *rcpt, const char *folded)
{
	const MwGpgConfig *config = module->config;
	MwGpg *gpg = module->priv;

	if (rcpt->verdict != MW_VERDICT_CONTINUE || rcpt->rcpt->address[0] == '\0')
		return FALSE;
	if (config->recipients == MW_GPG_RECIPIENTS_LOCAL &&
	    !mw_config_is_local_address(txn->config, rcpt->rcpt->address))
		return FALSE;
	return gpg->only == NULL || mw_gpg_only_contains(gpg->only, folded);
}

/* rcpt_list - "<a>, <b>" for error messages */
static char *
rcpt_list(GPtrArray *rcpts)
{
	g_autoptr(GString) text = g_string_new(NULL);
	for (guint i = 0; i < rcpts->len; i++) {
		const MwTxnRcpt *rcpt = g_ptr_array_index(rcpts, i);
		g_string_append_printf(text, "%s<%s>", i > 0 ? ", " : "", rcpt->rcpt->address);
	}
	return g_string_free(g_steal_pointer(&text), FALSE);
}

/*
 * encryption_lock - the lock file that serializes encryptions across workers, or NULL. gpg
 * rewrites the keyring's random_seed after each encryption under an fcntl lock, and a gpg
 * that finds it taken sleeps with a growing back-off: with several workers encrypting at once,
 * one can wait past the message timeout (seen in bench/run-gpg.sh). One gpg at a time through
 * an flock() avoids that; a keyring whose gpg.conf says no-random-seed-file needs no lock and
 * encrypts in parallel.
 */
static char *
encryption_lock(const MwGpg *gpg, const MwTxn *txn)
{
	if (mw_gpg_keyring_has_option(gpg->keyring, "no-random-seed-file"))
		return NULL;
	const char *dir = txn->config != NULL ? txn->config->state_dir : NULL;
	return g_build_filename(dir != NULL ? dir : g_get_tmp_dir(), "gpg-encrypt.lock", NULL);
}

/* encrypt_for - give @rcpt a delivery of its own (unless it is alone in its delivery already)
 * and encrypt it to @key */
static gboolean
encrypt_for(MwGpg *gpg, MwTxn *txn, MwTxnRcpt *rcpt, gpgme_key_t key, GError **error)
{
	MwDelivery *delivery = rcpt->delivery;
	g_autofree char *lock_path = encryption_lock(gpg, txn);

	if (mw_txn_delivery_n_active(txn, delivery) > 1) {
		g_autoptr(GPtrArray) alone = g_ptr_array_new();
		g_ptr_array_add(alone, rcpt);
		delivery = mw_txn_split(txn, alone);
	}
	return mw_gpg_encrypt_delivery(gpg->ctx, delivery, key,
				       txn->config != NULL ? txn->config->state_dir : NULL,
				       lock_path, error);
}

static gboolean
gpg_process(MwModule *module, MwTxn *txn, GError **error)
{
	MwGpg *gpg = module->priv;
	g_autoptr(GPtrArray) candidates = g_ptr_array_new();
	g_autoptr(GPtrArray) folded = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GError) local = NULL;

	if (gpg->only != NULL && !mw_gpg_only_refresh(gpg->only, &local)) {
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "%s", local->message);
		return FALSE;
	}
	for (guint i = 0; i < txn->rcpts->len; i++) {
		MwTxnRcpt *rcpt = g_ptr_array_index(txn->rcpts, i);
		g_autofree char *address = mw_gpg_address_fold(rcpt->rcpt->address);
		if (!eligible(module, txn, rcpt, address))
			continue;
		g_ptr_array_add(candidates, rcpt);
		g_ptr_array_add(folded, g_steal_pointer(&address));
	}
	if (candidates->len == 0) {
		mw_txn_note(txn, "gpg", "-");
		return TRUE;
	}

	/* the keyring is a backend: a missing one must not look like "nobody has a key" */
	if (!mw_gpg_keyring_check(gpg->keyring, &local) ||
	    (gpg->ctx == NULL && (gpg->ctx = mw_gpg_context_new(gpg->keyring, &local)) == NULL)) {
		g_autofree char *who = rcpt_list(candidates);
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "cannot look up keys for %s: %s",
			    who, local->message);
		return FALSE;
	}
	g_ptr_array_add(folded, NULL);
	g_autoptr(GHashTable) keys = mw_gpg_cache_lookup(
		gpg->cache, gpg->ctx, (const char *const *) folded->pdata, &local);
	if (keys == NULL) {
		g_autofree char *who = rcpt_list(candidates);
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND,
			    "cannot look up keys for %s in %s: %s", who, gpg->keyring,
			    local->message);
		return FALSE;
	}

	guint n_encrypted = 0, n_already = 0;
	const char *already = NULL;
	for (guint i = 0; i < candidates->len; i++) {
		MwTxnRcpt *rcpt = g_ptr_array_index(candidates, i);
		gpgme_key_t key = g_hash_table_lookup(keys, g_ptr_array_index(folded, i));
		if (key == NULL) {
			mw_txn_log(txn, G_LOG_LEVEL_DEBUG, "gpg: no usable key for <%s>",
				   rcpt->rcpt->address);
			continue;
		}
		const char *why = mw_gpg_detect_encrypted(rcpt->delivery);
		if (why != NULL) {
			mw_txn_log(txn, G_LOG_LEVEL_INFO,
				   "gpg: <%s> has a key, but the message is encrypted already (%s)",
				   rcpt->rcpt->address, why);
			already = why;
			n_already++;
			continue;
		}
		const char *fpr = key->subkeys != NULL ? key->subkeys->fpr : "?";
		if (!encrypt_for(gpg, txn, rcpt, key, &local)) {
			g_set_error(error, MW_ERROR, local->code,
				    "cannot encrypt for <%s> (key %s): %s", rcpt->rcpt->address,
				    fpr, local->message);
			return FALSE;
		}
		mw_txn_log(txn, G_LOG_LEVEL_INFO, "gpg: <%s> gets a copy encrypted to key %s",
			   rcpt->rcpt->address, fpr);
		n_encrypted++;
	}

	if (n_encrypted > 0 && n_already > 0)
		mw_txn_note(txn, "gpg", "encrypted:%u,already:%u", n_encrypted, n_already);
	else if (n_encrypted > 0)
		mw_txn_note(txn, "gpg", "encrypted:%u", n_encrypted);
	else if (n_already > 0)
		mw_txn_note(txn, "gpg", "already(%s)", already);
	else
		mw_txn_note(txn, "gpg", "nokey");
	return TRUE;
}

const MwModuleClass mw_gpg_module = {
	.name = "gpg",
	.abi = MW_MODULE_ABI,
	.options = gpg_options,
	.config_size = sizeof(MwGpgConfig),
	.on_error_default = MW_ON_ERROR_PASS,
	.configure = gpg_configure,
	.start = gpg_start,
	.check = gpg_check,
	.worker_init = gpg_worker_init,
	.process = gpg_process,
	.worker_exit = gpg_worker_exit,
	.finalize = gpg_finalize,
};
