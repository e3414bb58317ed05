/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-resources-memo - which versions of an invitation were answered
 * SYNOPSIS
 *	mw_res_memo_seen(), mw_res_memo_record()
 * DESCRIPTION
 *	Idempotence (ARCHITECTURE §5.5): the same invitation processed twice
 *	must not be answered twice. A declined invitation leaves no booking to
 *	compare with, so each resource remembers, per UID and RECURRENCE-ID,
 *	the SEQUENCE and DTSTAMP it answered and the queue id of the message
 *	that carried it, in STATE_DIR/resources/answered/<calendar>/<uid>.
 *	A second message with that state gets no answer; the very same queued
 *	message again (Postfix retrying after we deferred it, so its answers
 *	never left) is answered again. Written under the calendar's lock,
 *	atomically (g_file_set_contents); removed by expiry.
 */
#include <errno.h>
#include <string.h>

#include <glib/gstdio.h>

#include "mw-resources.h"

/* memo_path - the file of @entry and @comp's UID */
static char *
memo_path(MwResCtx *ctx, const MwDirEntry *entry, icalcomponent *comp)
{
	g_autofree char *cal = mw_calstore_name(entry->address);
	g_autofree char *uid = mw_calstore_name(icalcomponent_get_uid(comp));
	return g_build_filename(ctx->res->memo_dir, cal, uid, NULL);
}

/* queue_ident - Postfix's queue id (XFORWARD IDENT), "-" without it: only Postfix's id
 * identifies a retry of the same queued message (our own ids may repeat across workers) */
static const char *
queue_ident(MwResCtx *ctx)
{
	const char *ident = mw_envelope_get_xforward(ctx->txn->envelope, "IDENT");
	return ident != NULL && *ident != '\0' && strchr(ident, ' ') == NULL ? ident : "-";
}

/* rid_of - RECURRENCE-ID in seconds, 0 for the master */
static gint64
rid_of(MwResCtx *ctx, icalcomponent *comp)
{
	icalproperty *rid = icalcomponent_get_first_property(comp, ICAL_RECURRENCEID_PROPERTY);
	return rid != NULL ? mw_itip_instant(NULL, rid, &ctx->t) : 0;
}

/* mw_res_memo_seen - whether @entry already answered this state of (uid, rid);
 * @same_txn_out: the answer was made by a message with this queue id */
gboolean
mw_res_memo_seen(MwResCtx *ctx, const MwDirEntry *entry, icalcomponent *comp,
		 gboolean *same_txn_out)
{
	g_autofree char *path = memo_path(ctx, entry, comp);
	g_autofree char *text = NULL;
	*same_txn_out = FALSE;
	if (!g_file_get_contents(path, &text, NULL, NULL))
		return FALSE;
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	gint64 rid = rid_of(ctx, comp);
	for (guint i = 0; lines[i] != NULL; i++) {
		g_auto(GStrv) f = g_strsplit(lines[i], " ", 4);
		if (g_strv_length(f) < 4)
			continue;
		if (g_ascii_strtoll(f[0], NULL, 10) != rid)
			continue;
		if (g_ascii_strtoll(f[1], NULL, 10) != mw_itip_sequence(comp) ||
		    g_ascii_strtoll(f[2], NULL, 10) != mw_itip_dtstamp(comp))
			return FALSE;
		*same_txn_out = strcmp(f[3], "-") != 0 && strcmp(f[3], queue_ident(ctx)) == 0;
		return TRUE;
	}
	return FALSE;
}

/* mw_res_memo_seen - whether @entry already answered this state of (uid, rid);
 * @same_txn_out: the answer was made by a message with this queue id */
void
mw_res_memo_record(MwResCtx *ctx, const MwDirEntry *entry, icalcomponent *comp)
{
	g_autofree char *path = memo_path(ctx, entry, comp);
	g_autofree char *dir = g_path_get_dirname(path);
	g_autofree char *old = NULL;
	g_autoptr(GString) text = g_string_new(NULL);
	gint64 rid = rid_of(ctx, comp);
	if (g_file_get_contents(path, &old, NULL, NULL)) {
		g_auto(GStrv) lines = g_strsplit(old, "\n", -1);
		for (guint i = 0; lines[i] != NULL; i++) {
			if (lines[i][0] == '\0' || g_ascii_strtoll(lines[i], NULL, 10) == rid)
				continue;
			g_string_append_printf(text, "%s\n", lines[i]);
		}
	}
	g_string_append_printf(text, "%" G_GINT64_FORMAT " %d %" G_GINT64_FORMAT " %s\n", rid,
			       mw_itip_sequence(comp), mw_itip_dtstamp(comp), queue_ident(ctx));
	g_autoptr(GError) error = NULL;
	if (g_mkdir_with_parents(dir, 0750) != 0 ||
	    !g_file_set_contents(path, text->str, (gssize) text->len, &error))
		/* losing the memo costs at most a second answer, never a booking */
		mw_txn_log(ctx->txn, G_LOG_LEVEL_WARNING, "resources: cannot write %s: %s", path,
			   error != NULL ? error->message : g_strerror(errno));
}
