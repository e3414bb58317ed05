/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-resources-expire - remove bookings that ended long ago
 * SYNOPSIS
 *	mw_res_expire_maybe(), mw_res_expire_run()
 * DESCRIPTION
 *	Bookings whose last occurrence ended more than expire_days ago are
 *	removed (0: never); infinite series stay. The core has no timer, so
 *	a worker runs the expiry before a message at most once an hour; a
 *	stamp file in STATE_DIR/resources makes that once an hour for all
 *	workers together. Each calendar is locked while it is swept, like any
 *	booking. Failures are logged and retried an hour later: expiry never
 *	fails a message.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#include "mw-resources.h"

#define EXPIRE_INTERVAL (60 * 60)

/* sweep_memos - forget answers older than the limit */
static void
sweep_memos(const char *dir, gint64 limit)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	if (d == NULL)
		return;
	const char *name;
	while ((name = g_dir_read_name(d)) != NULL) {
		g_autofree char *path = g_build_filename(dir, name, NULL);
		GStatBuf st;
		if (g_stat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode))
			sweep_memos(path, limit);
		else if ((gint64) st.st_mtime < limit)
			g_unlink(path);
	}
	g_dir_close(d);
}

/* mw_res_expire_run - remove now; returns the number removed */
guint
mw_res_expire_run(MwModule *module, gint64 now, GError **error)
{
	MwResources *res = module->priv;
	MwResourcesConfig *cfg = module->config;
	guint removed = 0;
	if (cfg->expire_days <= 0)
		return 0;
	gint64 limit = now - cfg->expire_days * 86400;
	MwItipTime t;
	mw_itip_time_init(&t, res->zone);
	t.now = now;
	g_auto(GStrv) calendars = mw_calstore_calendars(res->store, error);
	if (calendars == NULL)
		return 0;
	for (guint i = 0; calendars[i] != NULL; i++) {
		g_autoptr(MwCalLock) lock =
			mw_calstore_lock(res->store, calendars[i], MW_RES_LOCK_TIMEOUT_MS, error);
		if (lock == NULL)
			return removed;
		GPtrArray *busy = mw_calstore_busy(lock, &t, error);
		if (busy == NULL)
			return removed;
		g_autoptr(GPtrArray) old = g_ptr_array_new_with_free_func(g_free);
		for (guint j = 0; j < busy->len; j++) {
			MwItipEvent *ev = g_ptr_array_index(busy, j);
			gint64 first, last;
			mw_itip_event_bounds(ev, &first, &last);
			if (last != G_MAXINT64 && last != G_MININT64 && last < limit)
				g_ptr_array_add(old, g_strdup(mw_itip_event_get_uid(ev)));
		}
		for (guint j = 0; j < old->len; j++) {
			if (!mw_calstore_remove(lock, g_ptr_array_index(old, j), error))
				return removed;
			removed++;
		}
	}
	sweep_memos(res->memo_dir, limit);
	return removed;
}

/* mw_res_expire_maybe - once an hour across workers: remove bookings ended expire_days ago */
void
mw_res_expire_maybe(MwModule *module)
{
	MwResources *res = module->priv;
	MwResourcesConfig *cfg = module->config;
	gint64 now = g_get_real_time() / G_USEC_PER_SEC;
	if (cfg->expire_days <= 0 || now - res->last_expire < EXPIRE_INTERVAL)
		return;
	res->last_expire = now;
	g_autofree char *dir = g_build_filename(module->core->state_dir, "resources", NULL);
	g_autofree char *stamp = g_build_filename(dir, "expire.stamp", NULL);
	GStatBuf st;
	if (g_stat(stamp, &st) == 0 && now - (gint64) st.st_mtime < EXPIRE_INTERVAL)
		return;
	if (g_mkdir_with_parents(dir, 0750) != 0 || !g_file_set_contents(stamp, "", 0, NULL)) {
		g_warning("resources: cannot write %s: %s", stamp, g_strerror(errno));
		return;
	}
	g_autoptr(GError) error = NULL;
	guint removed = mw_res_expire_run(module, now, &error);
	if (error != NULL)
		g_warning("resources: expiry stopped: %s", error->message);
	if (removed > 0)
		g_message("resources: %u booking(s) older than %" G_GINT64_FORMAT " days removed",
			  removed, cfg->expire_days);
}
