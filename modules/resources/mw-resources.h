/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * mw-resources - internal interfaces of the resources module (booking rooms
 * and equipment from iTip invitations). Only mw_resources_module is public.
 */

#include "mw-calstore.h"
#include "mw-directory.h"
#include "mw-error.h"
#include "mw-itip.h"
#include "mw-txn.h"

G_BEGIN_DECLS

#define MW_RESOURCES "resources"
/* how long a worker waits for a calendar lock before the message is deferred */
#define MW_RES_LOCK_TIMEOUT_MS 20000

/* the [resources] section */
typedef struct {
	char *timezone;
	gboolean verify_organizer;
	gint64 expire_days;
	char *default_policy;
} MwResourcesConfig;

/* policy bits (Wallace's kolabInvitationPolicy values) */
enum {
	MW_POL_MANUAL = 1 << 0,
	MW_POL_ACCEPT = 1 << 1,
	MW_POL_REJECT = 1 << 3,
	MW_POL_STORE = 1 << 4,
	MW_POL_NOTIFY = 1 << 8,
};

typedef struct _MwResCatalogs MwResCatalogs;

/* the module instance (module->priv) */
typedef struct {
	icaltimezone *zone;
	char *zone_name;
	char **default_policy;
	MwDirectory *directory;
	MwCalStore *store;
	MwResCatalogs *i18n;
	char *memo_dir;
	gint64 last_expire;
} MwResources;

/* the per-message context */
typedef struct {
	MwModule *module;
	MwResources *res;
	MwTxn *txn;
	const char *sender;     /* envelope sender, "" for <> */
	const char *message_id; /* of the invitation, nullable */
	gboolean no_reply;      /* <> or an auto-reply: never answer */
	MwItipTime t;
	GString *note;
} MwResCtx;

/* --- policy (mw-resources-policy.c) --- */
/* mw_res_policy - the bits of @entry's policy, else the default policy */
guint mw_res_policy(const MwResources *res, const MwDirEntry *entry);
/* mw_res_partstat_label - "Accepted", "Declined" ... (untranslated msgid) */
const char *mw_res_partstat_label(icalparameter_partstat partstat);

/* --- requests, cancels, confirmations --- */
gboolean mw_res_request(MwResCtx *ctx, MwItip *itip, const MwDirEntry *entry, GError **error);
gboolean mw_res_cancel(MwResCtx *ctx, MwItip *itip, const MwDirEntry *entry, GError **error);
gboolean mw_res_confirmation_reply(MwResCtx *ctx, MwItip *itip, const MwDirEntry *entry,
				   const char *token, GError **error);

/* --- bookings (mw-resources-book.c) --- */
/* mw_res_lock_set - locks of @entries' calendars, taken in address order (no deadlock) */
GPtrArray *mw_res_lock_set(MwResCtx *ctx, GPtrArray *entries, GError **error);
MwCalLock *mw_res_lock_for(GPtrArray *locks, const char *calendar);
/* mw_res_is_free - no other object of @lock's calendar conflicts with @vcal's events */
gboolean mw_res_is_free(MwResCtx *ctx, MwCalLock *lock, icalcomponent *vcal, gboolean *free_out,
			GError **error);
/* mw_res_booking_new - the stored form of (part of) an invitation */
icalcomponent *mw_res_booking_new(MwItip *itip, GPtrArray *comps);
/* mw_res_set_status - resource attendee's PARTSTAT, TRANSP:OPAQUE, collection mark */
void mw_res_mark(icalcomponent *comp, const MwDirEntry *entry, icalparameter_partstat partstat,
		 const char *via);
/* mw_res_get_via - the collection a booking was made through, or NULL */
const char *mw_res_get_via(icalcomponent *booking);

/* --- outgoing mail (mw-resources-send.c) --- */
/* mw_res_reply - a REPLY from @from (entry) to the organizer of @comp */
gboolean mw_res_reply(MwResCtx *ctx, icalcomponent *vcal, icalcomponent *comp,
		      const MwDirEntry *from, icalparameter_partstat partstat,
		      const MwDirEntry *delegate, const MwDirEntry *booked, GError **error);
/* mw_res_reply_with_comment - the same with a COMMENT (the owner's) and no delegation */
gboolean mw_res_reply_with_comment(MwResCtx *ctx, icalcomponent *vcal, icalcomponent *comp,
				   const MwDirEntry *from, icalparameter_partstat partstat,
				   const char *comment, GError **error);
/* mw_res_notify_owner - a text notification for the owner of @entry (if any) */
gboolean mw_res_notify_owner(MwResCtx *ctx, const MwDirEntry *entry, icalcomponent *vcal,
			     icalcomponent *comp, const char *status, GError **error);
/* mw_res_notify_failure - tell the owner (policy NOTIFY) that an invitation could not be
 * processed automatically (its ORGANIZER is not the sender) */
gboolean mw_res_notify_failure(MwResCtx *ctx, const MwDirEntry *entry, icalcomponent *vcal,
			       icalcomponent *comp, GError **error);
/* mw_res_confirmation_request - ACT_MANUAL: ask the owner to confirm the booking */
gboolean mw_res_confirmation_request(MwResCtx *ctx, const MwDirEntry *entry, icalcomponent *vcal,
				     icalcomponent *comp, GError **error);
/* mw_res_token - the plus-address token of a UID (Wallace: base64, '+' as '-') */
char *mw_res_token_encode(const char *uid);
char *mw_res_token_decode(const char *token);
/* mw_res_split_address - "room+TOKEN@x" -> "room@x" and "TOKEN" (nullable) */
char *mw_res_split_address(const char *address, char **token_out);

/* --- answered states (mw-resources-memo.c) --- */
/* mw_res_memo_seen - whether @entry already answered this state of (uid, rid);
 * @same_txn_out: the answer was made by a message with this queue id */
gboolean mw_res_memo_seen(MwResCtx *ctx, const MwDirEntry *entry, icalcomponent *comp,
			  gboolean *same_txn_out);
void mw_res_memo_record(MwResCtx *ctx, const MwDirEntry *entry, icalcomponent *comp);

/* --- translations (mw-resources-i18n.c) --- */
MwResCatalogs *mw_res_i18n_load(GError **error);
void mw_res_i18n_free(MwResCatalogs *cats);
/* mw_res_gettext - @msgid in @language ("de", "de_DE", NULL: English) */
const char *mw_res_gettext(const MwResCatalogs *cats, const char *language, const char *msgid)
	G_GNUC_FORMAT(3);
/* mw_res_language_of - the language of @address in the directory, else @fallback */
const char *mw_res_language_of(MwResCtx *ctx, const char *address, const char *fallback);

/* --- expiry (mw-resources-expire.c) --- */
/* mw_res_expire_maybe - once an hour across workers: remove bookings ended expire_days ago */
void mw_res_expire_maybe(MwModule *module);
/* mw_res_expire_run - remove now; returns the number removed */
guint mw_res_expire_run(MwModule *module, gint64 now, GError **error);

/* N_ - mark a msgid for xgettext; translated by mw_res_gettext() */
#define N_(text) (text)

G_END_DECLS
