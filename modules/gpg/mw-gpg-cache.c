/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-gpg-cache - this worker's key choices, valid while the keyring is unchanged
 * SYNOPSIS
 *	mw_gpg_cache_new, mw_gpg_cache_lookup, mw_gpg_cache_free
 * DESCRIPTION
 *	Looking keys up costs a gpg run (about 3 ms of CPU time and 10 ms of
 *	latency), and would otherwise be paid by every message with a local
 *	recipient, keyed or not. So each worker remembers, per address, the
 *	key chosen or that there was none, and checks on every message that
 *	the answer still holds:
 *	  - the files gpg answers from (pubring.kbx, pubring.gpg, trustdb.gpg
 *	    with the disabled flags, gpg.conf) are stat()ed: any change of
 *	    identity, size or modification time (an import, a revocation, a
 *	    deletion, gpg --edit-key disable) drops everything;
 *	  - time: everything is dropped when a cached key or subkey reaches its
 *	    expiry date, and after MAX_AGE seconds at most (keys that become
 *	    valid by the clock alone).
 *	Addresses not in the cache are looked up with one gpg run, as before.
 *	So the keyring is consulted for every message, and a key change is
 *	seen by the next message, without a restart. Nothing is cached from a
 *	failed lookup; the stat()s happen before the lookup, so a change
 *	during it is seen by the next message.
 *
 *	Single-threaded, one per process (module->priv after fork).
 */
#include <string.h>
#include <sys/stat.h>

#include "mw-gpg.h"

/* longest time an answer is trusted without a keyring change (seconds) */
#define MAX_AGE 300
/* past this many addresses the cache starts over (memory stays bounded) */
#define MAX_ENTRIES 10000

static const char *const watched[] = {"pubring.kbx", "pubring.gpg", "trustdb.gpg", "gpg.conf"};

/* what stat() said of one watched file */
typedef struct {
	gboolean exists;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
} FileState;

struct _MwGpgCache {
	char *keyring;
	FileState files[G_N_ELEMENTS(watched)];
	gint64 valid_until;  /* real time, seconds; 0: empty */
	GHashTable *entries; /* folded address -> gpgme_key_t, or NULL for "no key" */
};

/* key_unref - a table's destroy notify: values may be NULL ("no key") */
static void
key_unref(gpointer key)
{
	if (key != NULL)
		gpgme_key_unref(key);
}

/**
 * mw_gpg_cache_new:
 * @keyring: the GnuPG home the answers come from
 * Returns: (transfer full): an empty cache
 */
MwGpgCache *
mw_gpg_cache_new(const char *keyring)
{
	MwGpgCache *cache = g_new0(MwGpgCache, 1);
	cache->keyring = g_strdup(keyring);
	cache->entries = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, key_unref);
	return cache;
}

/* mw_gpg_cache_free - NULL is fine */
void
mw_gpg_cache_free(MwGpgCache *cache)
{
	if (cache == NULL)
		return;
	g_hash_table_unref(cache->entries);
	g_free(cache->keyring);
	g_free(cache);
}

/* snapshot - stat() the watched files */
static void
snapshot(const char *keyring, FileState *files)
{
	for (guint i = 0; i < G_N_ELEMENTS(watched); i++) {
		g_autofree char *path = g_build_filename(keyring, watched[i], NULL);
		struct stat st;
		FileState state = {FALSE, 0, 0, 0, {0, 0}};
		if (stat(path, &st) == 0) {
			state.exists = TRUE;
			state.dev = st.st_dev;
			state.ino = st.st_ino;
			state.size = st.st_size;
			state.mtime = st.st_mtim;
		}
		files[i] = state;
	}
}

/* same_files - nothing changed between two snapshots */
static gboolean
same_files(const FileState *a, const FileState *b)
{
	for (guint i = 0; i < G_N_ELEMENTS(watched); i++) {
		if (a[i].exists != b[i].exists || a[i].dev != b[i].dev || a[i].ino != b[i].ino ||
		    a[i].size != b[i].size || a[i].mtime.tv_sec != b[i].mtime.tv_sec ||
		    a[i].mtime.tv_nsec != b[i].mtime.tv_nsec)
			return FALSE;
	}
	return TRUE;
}

/* key_expiry - the next expiry date after @now of @key or one of its subkeys, 0 when none */
static gint64
key_expiry(gpgme_key_t key, gint64 now)
{
	gint64 earliest = 0;
	for (gpgme_subkey_t sub = key->subkeys; sub != NULL; sub = sub->next) {
		if (sub->expires > now && (earliest == 0 || sub->expires < earliest))
			earliest = sub->expires;
	}
	return earliest;
}

/* mw_gpg_cache_size - addresses cached (tests) */
guint
mw_gpg_cache_size(const MwGpgCache *cache)
{
	return g_hash_table_size(cache->entries);
}

/**
 * mw_gpg_cache_lookup:
 * @cache: this worker's cache
 * @ctx: the context to run gpg with for addresses not cached
 * @addresses: NULL-terminated folded addresses
 *
 * Returns: (transfer full): folded address -> gpgme_key_t (a reference each)
 * for the addresses with a usable key, like mw_gpg_find_keys(); NULL with
 * MW_ERROR_BACKEND when gpg fails (nothing is cached then)
 */
GHashTable *
mw_gpg_cache_lookup(MwGpgCache *cache, gpgme_ctx_t ctx, const char *const *addresses,
		    GError **error)
{
	FileState now_files[G_N_ELEMENTS(watched)];
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;

	snapshot(cache->keyring, now_files);
	if (!same_files(cache->files, now_files) || now >= cache->valid_until ||
	    g_hash_table_size(cache->entries) > MAX_ENTRIES) {
		g_hash_table_remove_all(cache->entries);
		memcpy(cache->files, now_files, sizeof now_files);
		cache->valid_until = now + MAX_AGE;
	}

	g_autoptr(GPtrArray) missing = g_ptr_array_new();
	for (guint i = 0; addresses[i] != NULL; i++) {
		if (!g_hash_table_contains(cache->entries, addresses[i]))
			g_ptr_array_add(missing, (gpointer) addresses[i]);
	}
	if (missing->len > 0) {
		g_ptr_array_add(missing, NULL);
		g_autoptr(GHashTable) found =
			mw_gpg_find_keys(ctx, (const char *const *) missing->pdata, error);
		if (found == NULL)
			return NULL;
		for (guint i = 0; i + 1 < missing->len; i++) {
			const char *address = g_ptr_array_index(missing, i);
			gpgme_key_t key = g_hash_table_lookup(found, address);
			if (key != NULL) {
				gint64 expiry = key_expiry(key, now);
				if (expiry > 0 && expiry < cache->valid_until)
					cache->valid_until = expiry;
				gpgme_key_ref(key);
			}
			g_hash_table_replace(cache->entries, g_strdup(address), key);
		}
	}

	GHashTable *result = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, key_unref);
	for (guint i = 0; addresses[i] != NULL; i++) {
		gpgme_key_t key = g_hash_table_lookup(cache->entries, addresses[i]);
		if (key != NULL && !g_hash_table_contains(result, addresses[i])) {
			gpgme_key_ref(key);
			g_hash_table_insert(result, g_strdup(addresses[i]), key);
		}
	}
	return result;
}
