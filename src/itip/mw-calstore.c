/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-calstore - calendars of resources, locking and the busy-time cache
 * SYNOPSIS
 *	mw_calstore_new(), mw_calstore_free(), mw_calstore_lock(),
 *	mw_calstore_unlock(), mw_calstore_get(), mw_calstore_put(),
 *	mw_calstore_remove(), mw_calstore_busy(), mw_calstore_calendars()
 * DESCRIPTION
 *	The backend-independent half of the store. Reads and writes of a
 *	calendar go through an MwCalLock, so every decision and the write
 *	that follows it are one step for all processes.
 *
 *	mw_calstore_busy() keeps, per calendar and per process, the parsed
 *	busy time of every object. When the calendar's state is the one
 *	cached nothing is read; when other processes wrote since, the
 *	backend's change journal names the objects to read again; only when
 *	it cannot tell (changes by hand, a restarted journal) is the whole
 *	calendar listed, and then only objects whose stamp changed are
 *	parsed. Writes of this process update the cache in place.
 *	A checked-in object that cannot be parsed is logged and skipped (it
 *	blocks nothing rather than blocking the whole calendar).
 */
#include <string.h>

#include "mw-calstore.h"
#include "mw-error.h"

typedef struct {
	guint64 stamp;
	MwItipEvent *event; /* NULL: not parseable or blocks nothing at all */
} CacheEntry;

typedef struct {
	MwCalState state;
	gboolean valid;
	icaltimezone *zone;
	GHashTable *entries; /* object name -> CacheEntry */
	GPtrArray *events;   /* MwItipEvent * borrowed from entries; rebuilt when dirty */
	gboolean dirty;
} CalCache;

struct _MwCalStore {
	const MwCalStoreBackend *backend;
	gpointer data;
	GHashTable *caches; /* calendar -> CalCache */
};

struct _MwCalLock {
	MwCalStore *store;
	char *calendar;
	gpointer handle;
};

static void
cache_entry_free(CacheEntry *entry)
{
	mw_itip_event_free(entry->event);
	g_free(entry);
}

static void
cache_free(CalCache *cache)
{
	g_hash_table_unref(cache->entries);
	g_clear_pointer(&cache->events, g_ptr_array_unref);
	g_free(cache);
}

/* mw_calstore_new - (transfer full) a store on @backend, which owns @data */
MwCalStore *
mw_calstore_new(const MwCalStoreBackend *backend, gpointer data)
{
	MwCalStore *store = g_new0(MwCalStore, 1);
	store->backend = backend;
	store->data = data;
	store->caches =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify) cache_free);
	return store;
}

/* mw_calstore_free - closes @store (NULL is allowed) */
void
mw_calstore_free(MwCalStore *store)
{
	if (store == NULL)
		return;
	g_hash_table_unref(store->caches);
	if (store->backend->free != NULL)
		store->backend->free(store->data);
	g_free(store);
}

/* mw_calstore_lock - lock @calendar for check-and-book (waits up to @timeout_ms) */
MwCalLock *
mw_calstore_lock(MwCalStore *store, const char *calendar, guint timeout_ms, GError **error)
{
	g_autofree char *name = g_ascii_strdown(calendar, -1);
	gpointer handle = store->backend->lock(store->data, name, timeout_ms, error);
	if (handle == NULL)
		return NULL;
	MwCalLock *lock = g_new0(MwCalLock, 1);
	lock->store = store;
	lock->calendar = g_steal_pointer(&name);
	lock->handle = handle;
	return lock;
}

/* mw_calstore_unlock - releases @lock (NULL is allowed) */
void
mw_calstore_unlock(MwCalLock *lock)
{
	if (lock == NULL)
		return;
	lock->store->backend->unlock(lock->store->data, lock->handle);
	g_free(lock->calendar);
	g_free(lock);
}

/* mw_calstore_lock_get_calendar - the (lower-case) calendar name @lock holds */
const char *
mw_calstore_lock_get_calendar(const MwCalLock *lock)
{
	return lock->calendar;
}

/* mw_calstore_get - (transfer full) (nullable) the object of @uid; NULL without error when none */
icalcomponent *
mw_calstore_get(MwCalLock *lock, const char *uid, GError **error)
{
	const MwCalStoreBackend *b = lock->store->backend;
	g_autofree char *name = b->object_name(lock->store->data, uid);
	return b->load(lock->store->data, lock->calendar, name, NULL, error);
}

/* state_equal - two calendar states */
static gboolean
state_equal(const MwCalState *a, const MwCalState *b)
{
	return a->counter == b->counter && a->mtime == b->mtime;
}

/* cache_set - the entry of object @name from @vcal (NULL: the object is gone) */
static void
cache_set(CalCache *cache, const char *name, icalcomponent *vcal, guint64 stamp)
{
	if (vcal == NULL) {
		g_hash_table_remove(cache->entries, name);
	} else {
		MwItipTime t;
		mw_itip_time_init(&t, cache->zone);
		CacheEntry *entry = g_new0(CacheEntry, 1);
		entry->stamp = stamp;
		entry->event = mw_itip_event_new(vcal, &t, FALSE);
		g_hash_table_replace(cache->entries, g_strdup(name), entry);
	}
	cache->dirty = TRUE;
}

/* cache_update - after a write of this process: keep the cache current without a rescan */
static void
cache_update(MwCalLock *lock, const MwCalState *before, const char *name, icalcomponent *vcal)
{
	MwCalStore *store = lock->store;
	CalCache *cache = g_hash_table_lookup(store->caches, lock->calendar);
	if (cache == NULL || !cache->valid)
		return;
	MwCalState after;
	if (!state_equal(&cache->state, before) ||
	    !store->backend->state(store->data, lock->handle, &after, NULL)) {
		cache->valid = FALSE;
		return;
	}
	/* the new file's stamp is not known here: 0 makes a full listing parse it again */
	cache_set(cache, name, vcal, 0);
	cache->state = after;
}

/* write_change - put (@vcal) or remove (NULL), advance the state, update the cache */
static gboolean
write_change(MwCalLock *lock, const char *uid, icalcomponent *vcal, GError **error)
{
	MwCalStore *store = lock->store;
	const MwCalStoreBackend *b = store->backend;
	g_autofree char *name = b->object_name(store->data, uid);
	MwCalState before;
	if (!b->state(store->data, lock->handle, &before, error))
		return FALSE;
	gboolean ok;
	if (vcal != NULL) {
		g_autofree char *text = icalcomponent_as_ical_string_r(vcal);
		ok = b->put(store->data, lock->calendar, name, text, error);
	} else {
		ok = b->remove(store->data, lock->calendar, name, error);
	}
	/* bump even after a failure: the file may have changed */
	gboolean bumped = b->bump(store->data, lock->handle, name, ok ? error : NULL);
	if (!ok || !bumped)
		return FALSE;
	cache_update(lock, &before, name, vcal);
	return TRUE;
}

/* mw_calstore_put - store @vcal as the object of @uid (atomic replace) */
gboolean
mw_calstore_put(MwCalLock *lock, const char *uid, icalcomponent *vcal, GError **error)
{
	return write_change(lock, uid, vcal, error);
}

/* mw_calstore_remove - delete the object of @uid */
gboolean
mw_calstore_remove(MwCalLock *lock, const char *uid, GError **error)
{
	return write_change(lock, uid, NULL, error);
}

/* rescan - bring @cache up to date with the backend's listing */
static gboolean
rescan(MwCalLock *lock, CalCache *cache, const MwItipTime *t, GError **error)
{
	MwCalStore *store = lock->store;
	const MwCalStoreBackend *b = store->backend;
	g_autoptr(GPtrArray) list = b->list(store->data, lock->calendar, error);
	if (list == NULL)
		return FALSE;
	g_autoptr(GHashTable) present = g_hash_table_new(g_str_hash, g_str_equal);
	for (guint i = 0; i < list->len; i++) {
		MwCalObjectInfo *info = g_ptr_array_index(list, i);
		g_hash_table_add(present, info->name);
		CacheEntry *entry = g_hash_table_lookup(cache->entries, info->name);
		if (entry != NULL && entry->stamp == info->stamp)
			continue;
		g_autoptr(GError) local = NULL;
		guint64 stamp = info->stamp;
		icalcomponent *vcal =
			b->load(store->data, lock->calendar, info->name, &stamp, &local);
		if (vcal == NULL && local != NULL) {
			g_warning("calendar %s: %s", lock->calendar, local->message);
			/* unreadable stays cached as blocking nothing until it changes */
		}
		CacheEntry *fresh = g_new0(CacheEntry, 1);
		fresh->stamp = stamp;
		if (vcal != NULL) {
			fresh->event = mw_itip_event_new(vcal, t, FALSE);
			icalcomponent_free(vcal);
		}
		g_hash_table_replace(cache->entries, g_strdup(info->name), fresh);
	}
	GHashTableIter iter;
	gpointer key;
	g_hash_table_iter_init(&iter, cache->entries);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		if (!g_hash_table_contains(present, key))
			g_hash_table_iter_remove(&iter);
	}
	cache->dirty = TRUE;
	return TRUE;
}

/* catch_up - apply the objects other processes wrote since the cached state */
static gboolean
catch_up(MwCalLock *lock, CalCache *cache, const MwCalState *now)
{
	MwCalStore *store = lock->store;
	const MwCalStoreBackend *b = store->backend;
	if (!cache->valid || b->changes == NULL)
		return FALSE;
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	if (!b->changes(store->data, lock->handle, &cache->state, now, names))
		return FALSE;
	g_autoptr(GHashTable) done = g_hash_table_new(g_str_hash, g_str_equal);
	for (guint i = names->len; i-- > 0;) {
		const char *name = g_ptr_array_index(names, i);
		if (!g_hash_table_add(done, (gpointer) name))
			continue;
		g_autoptr(GError) local = NULL;
		guint64 stamp = 0;
		icalcomponent *vcal = b->load(store->data, lock->calendar, name, &stamp, &local);
		if (local != NULL)
			return FALSE;
		cache_set(cache, name, vcal, stamp);
		if (vcal != NULL)
			icalcomponent_free(vcal);
	}
	return TRUE;
}

/**
 * mw_calstore_busy:
 * The busy time of every object of the locked calendar, parsed once and
 * cached per process; only objects changed since are read again.
 * Returns: (transfer none) (element-type MwItipEvent): valid until the next
 *   call on this store
 */
GPtrArray *
mw_calstore_busy(MwCalLock *lock, const MwItipTime *t, GError **error)
{
	MwCalStore *store = lock->store;
	CalCache *cache = g_hash_table_lookup(store->caches, lock->calendar);
	if (cache != NULL && cache->zone != t->zone) {
		g_hash_table_remove(store->caches, lock->calendar);
		cache = NULL;
	}
	if (cache == NULL) {
		cache = g_new0(CalCache, 1);
		cache->zone = t->zone;
		cache->entries = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
						       (GDestroyNotify) cache_entry_free);
		cache->dirty = TRUE;
		g_hash_table_insert(store->caches, g_strdup(lock->calendar), cache);
	}
	MwCalState now;
	if (!store->backend->state(store->data, lock->handle, &now, error))
		return NULL;
	if (!cache->valid || !state_equal(&cache->state, &now)) {
		if (!catch_up(lock, cache, &now) && !rescan(lock, cache, t, error))
			return NULL;
		cache->state = now;
		cache->valid = TRUE;
	}
	if (cache->dirty || cache->events == NULL) {
		g_clear_pointer(&cache->events, g_ptr_array_unref);
		cache->events = g_ptr_array_sized_new(g_hash_table_size(cache->entries));
		GHashTableIter iter;
		gpointer value;
		g_hash_table_iter_init(&iter, cache->entries);
		while (g_hash_table_iter_next(&iter, NULL, &value)) {
			CacheEntry *entry = value;
			if (entry->event != NULL)
				g_ptr_array_add(cache->events, entry->event);
		}
		cache->dirty = FALSE;
	}
	return cache->events;
}

/* mw_calstore_calendars - (transfer full) every calendar name */
char **
mw_calstore_calendars(MwCalStore *store, GError **error)
{
	return store->backend->calendars(store->data, error);
}
