/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * mw-gpg - internal interfaces of the gpg module (inbound PGP/MIME encryption).
 *
 *	mw-gpg.c        the module class: options, hooks, per-recipient decisions
 *	mw-gpg-keys.c   GPGME contexts, the keyring check, key choice per address
 *	mw-gpg-cache.c  per-worker key choices, dropped when the keyring changes
 *	mw-gpg-only.c   the opt-in list (only = FILE), reloaded when it changes
 *	mw-gpg-detect.c mail that is encrypted already (PGP/MIME, inline, S/MIME)
 *	mw-gpg-mime.c   the RFC 3156 message: inner entity, encryption, outer message
 */

#include <gpgme.h>

#include "mw-txn.h"

G_BEGIN_DECLS

typedef enum {
	MW_GPG_RECIPIENTS_LOCAL = 0, /* envelope recipients in local_domains */
	MW_GPG_RECIPIENTS_ALL,
} MwGpgRecipients;

/* the [gpg] section, filled by the option table */
typedef struct {
	char *keyring;
	int recipients; /* MwGpgRecipients */
	char *only;
} MwGpgConfig;

/* the opt-in list and what it was read from */
typedef struct _MwGpgOnly MwGpgOnly;

/* a worker's remembered key choices */
typedef struct _MwGpgCache MwGpgCache;

/* module->priv */
typedef struct {
	char *keyring;     /* the GnuPG home actually used (default resolved) */
	MwGpgOnly *only;   /* NULL: everybody with a key */
	MwGpgCache *cache; /* this process's key choices */
	gpgme_ctx_t ctx;   /* this process's context, created lazily or in worker_init */
} MwGpg;

/* --- mw-gpg-keys.c ---------------------------------------------------- */

/* mw_gpg_library_init - gpgme_check_version() and the OpenPGP engine check; safe to repeat */
gboolean mw_gpg_library_init(GError **error);
/* mw_gpg_context_new - an OpenPGP context on @keyring (armor on, offline) */
gpgme_ctx_t mw_gpg_context_new(const char *keyring, GError **error);
/* mw_gpg_keyring_check - @keyring is a directory with a public keyring in it */
gboolean mw_gpg_keyring_check(const char *keyring, GError **error);
/* mw_gpg_keyring_has_option - @keyring/gpg.conf sets @option */
gboolean mw_gpg_keyring_has_option(const char *keyring, const char *option);
/* mw_gpg_address_fold - the lower-case form of an address, for comparisons and patterns */
char *mw_gpg_address_fold(const char *address);
/*
 * mw_gpg_find_keys - the key to use for each of @addresses (folded), as a
 * table folded address -> gpgme_key_t (a reference each); addresses without a
 * usable key are absent. NULL with MW_ERROR_BACKEND when the engine or the
 * keyring fails.
 */
GHashTable *mw_gpg_find_keys(gpgme_ctx_t ctx, const char *const *addresses, GError **error);
/* mw_gpg_count_keys - how many public keys the keyring holds (--check-config) */
gboolean mw_gpg_count_keys(gpgme_ctx_t ctx, guint *count_out, GError **error);

/* --- mw-gpg-cache.c --------------------------------------------------- */

MwGpgCache *mw_gpg_cache_new(const char *keyring);
/*
 * mw_gpg_cache_lookup - mw_gpg_find_keys() for the addresses whose answer is
 * not cached, or no longer valid because the keyring's files changed or a
 * cached key expired; the same result
 */
GHashTable *mw_gpg_cache_lookup(MwGpgCache *cache, gpgme_ctx_t ctx, const char *const *addresses,
				GError **error);
guint mw_gpg_cache_size(const MwGpgCache *cache);
void mw_gpg_cache_free(MwGpgCache *cache);

/* --- mw-gpg-only.c ---------------------------------------------------- */

/* mw_gpg_only_new - read the opt-in list at @path */
MwGpgOnly *mw_gpg_only_new(const char *path, GError **error);
/* mw_gpg_only_refresh - read the file again if it changed since the last read */
gboolean mw_gpg_only_refresh(MwGpgOnly *only, GError **error);
/* mw_gpg_only_contains - @folded (an mw_gpg_address_fold() result) is listed */
gboolean mw_gpg_only_contains(const MwGpgOnly *only, const char *folded);
guint mw_gpg_only_size(const MwGpgOnly *only);
void mw_gpg_only_free(MwGpgOnly *only);

/* --- mw-gpg-detect.c -------------------------------------------------- */

/*
 * mw_gpg_detect_encrypted - why this delivery must not be encrypted again:
 * "pgp/mime", "inline-pgp" or "s/mime", or NULL for a message to encrypt.
 */
const char *mw_gpg_detect_encrypted(MwDelivery *delivery);

/* --- mw-gpg-mime.c ---------------------------------------------------- */

/*
 * mw_gpg_encrypt_delivery - replace @delivery's message by its RFC 3156
 * PGP/MIME form encrypted to @key alone; temporary files go to @spool_dir;
 * with @lock_path, gpg runs under an flock() of that file.
 */
gboolean mw_gpg_encrypt_delivery(gpgme_ctx_t ctx, MwDelivery *delivery, gpgme_key_t key,
				 const char *spool_dir, const char *lock_path, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(MwGpgOnly, mw_gpg_only_free)

G_END_DECLS
