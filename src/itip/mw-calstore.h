/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "mw-itip.h"

G_BEGIN_DECLS

/*
 * MwCalStore - the calendars of resources: one object per UID (a VCALENDAR
 * with the master and its overridden instances), per calendar (an address).
 *
 * Check-and-book must be one step for all workers: every read that a
 * decision depends on and every write happen while holding the calendar's
 * lock (mw_calstore_lock). The embedded backend is a folder of .ics files
 * (`calendars = dir:PATH`); a CalDAV backend implements MwCalStoreBackend.
 */

typedef struct _MwCalStore MwCalStore;
typedef struct _MwCalLock MwCalLock;

/* MwCalState - where a calendar stands: a change counter and the folder's change time */
typedef struct {
	guint64 counter;
	guint64 mtime;
} MwCalState;

/* MwCalObjectInfo - one object as a backend lists it; @stamp changes with the object */
typedef struct {
	char *name;
	guint64 stamp;
} MwCalObjectInfo;

/**
 * MwCalStoreBackend:
 * @lock: exclusive lock of @calendar (created if missing), bounded wait;
 *   returns a backend handle
 * @unlock: release it
 * @state: under the lock: where the calendar stands; it changes with every
 *   write (by any process) and with changes made by hand
 * @bump: after a write of object @name: advance the state, note the name
 * @changes: the names written between @since and @now, in order; FALSE when
 *   the backend cannot tell (changes by hand, old history): then the whole
 *   calendar is listed again
 * @object_name: the name of the object holding @uid
 * @load: an object by name; NULL without error when it does not exist
 * @put: atomically replace (or create) the object of @uid
 * @remove: delete the object of @uid (no error when missing)
 * @list: (element-type MwCalObjectInfo): every object of @calendar
 * @calendars: every calendar name
 */
typedef struct {
	const char *name;
	gpointer (*lock)(gpointer data, const char *calendar, guint timeout_ms, GError **error);
	void (*unlock)(gpointer data, gpointer handle);
	gboolean (*state)(gpointer data, gpointer handle, MwCalState *out, GError **error);
	gboolean (*bump)(gpointer data, gpointer handle, const char *name, GError **error);
	gboolean (*changes)(gpointer data, gpointer handle, const MwCalState *since,
			    const MwCalState *now, GPtrArray *names_out);
	char *(*object_name)(gpointer data, const char *uid);
	icalcomponent *(*load)(gpointer data, const char *calendar, const char *name,
			       guint64 *stamp_out, GError **error);
	gboolean (*put)(gpointer data, const char *calendar, const char *name, const char *text,
			GError **error);
	gboolean (*remove)(gpointer data, const char *calendar, const char *name, GError **error);
	GPtrArray *(*list)(gpointer data, const char *calendar, GError **error);
	char **(*calendars)(gpointer data, GError **error);
	void (*free)(gpointer data);
} MwCalStoreBackend;

/**
 * mw_calstore_open:
 * @spec: "dir:PATH" (the folder is created when missing)
 * Returns: (transfer full): the store; MW_ERROR_CONFIG for a bad spec,
 *   MW_ERROR_BACKEND when the folder cannot be used
 */
MwCalStore *mw_calstore_open(const char *spec, GError **error);
/* mw_calstore_check - --check-config's probe of @spec; creates nothing */
gboolean mw_calstore_check(const char *spec, GError **error);
MwCalStore *mw_calstore_new(const MwCalStoreBackend *backend, gpointer data);
void mw_calstore_free(MwCalStore *store);

/* mw_calstore_lock - lock @calendar for check-and-book (waits up to @timeout_ms) */
MwCalLock *mw_calstore_lock(MwCalStore *store, const char *calendar, guint timeout_ms,
			    GError **error);
void mw_calstore_unlock(MwCalLock *lock);
/* mw_calstore_lock_get_calendar - the (lower-case) calendar name @lock holds */
const char *mw_calstore_lock_get_calendar(const MwCalLock *lock);

/* mw_calstore_get - (transfer full) (nullable) the object of @uid; NULL without error when none */
icalcomponent *mw_calstore_get(MwCalLock *lock, const char *uid, GError **error);
/* mw_calstore_put - store @vcal as the object of @uid (atomic replace) */
gboolean mw_calstore_put(MwCalLock *lock, const char *uid, icalcomponent *vcal, GError **error);
/* mw_calstore_remove - delete the object of @uid */
gboolean mw_calstore_remove(MwCalLock *lock, const char *uid, GError **error);

/**
 * mw_calstore_busy:
 * The busy time of every object of the locked calendar, parsed once and
 * cached per process; only objects changed since are read again.
 * Returns: (transfer none) (element-type MwItipEvent): valid until the next
 *   call on this store
 */
GPtrArray *mw_calstore_busy(MwCalLock *lock, const MwItipTime *t, GError **error);

/* mw_calstore_calendars - (transfer full) every calendar name */
char **mw_calstore_calendars(MwCalStore *store, GError **error);

/* mw_calstore_name - a file-system-safe name for any string (UIDs, addresses) */
char *mw_calstore_name(const char *text);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(MwCalStore, mw_calstore_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MwCalLock, mw_calstore_unlock)

G_END_DECLS
