/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * mw-invitations - internal interfaces of the invitations module (personal
 * invitation policies of users). Only mw_invitations_module is public.
 */

#include "mw-calstore.h"
#include "mw-error.h"
#include "mw-itip.h"
#include "mw-txn.h"

G_BEGIN_DECLS

#define MW_INVITATIONS "invitations"
/* how long a worker waits for a calendar lock before the message is deferred */
#define MW_INV_LOCK_TIMEOUT_MS 20000

/* the [invitations] section */
typedef struct {
	char *default_policy;
	gboolean autoupdate_other_attendees;
	gboolean verify_organizer;
	char *timezone;
} MwInvitationsConfig;

/* policy bits (Wallace's values, §4.1) */
enum {
	MW_INV_MANUAL = 1 << 0,
	MW_INV_ACCEPT = 1 << 1,
	MW_INV_DELEGATE = 1 << 2,
	MW_INV_REJECT = 1 << 3,
	MW_INV_UPDATE = 1 << 4,
	MW_INV_CANCEL_DELETE = 1 << 5,
	MW_INV_SAVE_TO_FOLDER = 1 << 6,
	MW_INV_IF_AVAILABLE = 1 << 7,
	MW_INV_IF_CONFLICT = 1 << 8,
	MW_INV_TENTATIVE = 1 << 9,
	MW_INV_NOTIFY = 1 << 10,
	MW_INV_FORWARD = 1 << 11,
	MW_INV_TYPE_EVENT = 1 << 12,
	MW_INV_TYPE_TASK = 1 << 13,
};
#define MW_INV_TYPE_ALL (MW_INV_TYPE_EVENT | MW_INV_TYPE_TASK)

/* --- policies (mw-invitations-policy.c) --- */
/* mw_inv_policy_bits - the bits of a policy name (no filter), 0 if unknown */
guint mw_inv_policy_bits(const char *name);
/* mw_inv_sender_matches - @filter ("", "*", an address or a domain) applies to @sender */
gboolean mw_inv_sender_matches(const char *filter, const char *sender);
/**
 * mw_inv_policy_match:
 * @values: "NAME" or "NAME:filter" strings in order
 * @sender: the sender the filters are compared with
 * @type: MW_INV_TYPE_EVENT or MW_INV_TYPE_TASK
 * Returns: (transfer full): the bits of every value that applies, in order;
 *   [MANUAL] when none does
 */
GArray *mw_inv_policy_match(const char *const *values, const char *sender, guint type);
/* mw_inv_policy_check - FALSE with a message for an unknown name in @values */
gboolean mw_inv_policy_check(const char *const *values, GError **error);

/* --- users (mw-invitations-users.c) --- */
/* MwInvUser - a user, or (@resource) a resource or collection, which answer on their own */
typedef struct {
	char *address;
	char *name;
	char **aliases;
	char **policy;
	gboolean resource;
} MwInvUser;

typedef struct _MwInvUsers MwInvUsers;
/* mw_inv_users_open - the [user:ADDR], [resource:ADDR] and [collection:ADDR] entries of the
 * directory file (other keys ignored) */
MwInvUsers *mw_inv_users_open(const char *spec, GError **error);
MwInvUsers *mw_inv_users_load_data(const char *data, GError **error);
void mw_inv_users_free(MwInvUsers *users);
/* mw_inv_users_lookup - by address or alias (case-insensitive, mailto: ignored) */
const MwInvUser *mw_inv_users_lookup(MwInvUsers *users, const char *address);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MwInvUsers, mw_inv_users_free)

/* the module instance (module->priv) */
typedef struct {
	icaltimezone *zone;
	char *zone_name;
	char **default_policy;
	char *resource_policy; /* [resources] default_policy: whether resources answer on their own */
	gboolean autoupdate;
	gboolean verify_organizer;
	MwInvUsers *users;
	MwCalStore *store;
} MwInvitations;

/* outcome of one recipient */
typedef enum {
	MW_INV_OUT_PASS = 0,  /* not for us: delivered untouched */
	MW_INV_OUT_FORWARD,   /* delivered (possibly after storing) */
	MW_INV_OUT_PROCESSED, /* consumed */
} MwInvOutcome;

/* the per-message context */
typedef struct {
	MwModule *module;
	MwInvitations *inv;
	MwTxn *txn;
	const char *sender;     /* envelope sender, "" for <> */
	const char *message_id; /* nullable */
	gboolean no_reply;      /* <> or an auto-reply */
	MwItipTime t;
	GString *note;
	int conflict; /* -1 unknown, else cached per recipient */
} MwInvCtx;

/* --- handlers --- */
gboolean mw_inv_request(MwInvCtx *ctx, MwItip *itip, const MwInvUser *user, MwInvOutcome *out,
			GError **error);
gboolean mw_inv_reply(MwInvCtx *ctx, MwItip *itip, const MwInvUser *user, MwInvOutcome *out,
		      GError **error);
gboolean mw_inv_cancel(MwInvCtx *ctx, MwItip *itip, const MwInvUser *user, MwInvOutcome *out,
		       GError **error);

/* --- objects (mw-invitations-store.c) --- */
/* mw_inv_type - MW_INV_TYPE_TASK for a VTODO object, else MW_INV_TYPE_EVENT */
guint mw_inv_type(MwItip *itip);
/* mw_inv_rid - RECURRENCE-ID of @comp in seconds, or 0 */
gint64 mw_inv_rid(icalcomponent *vcal, icalcomponent *comp, const MwItipTime *t);
/* mw_inv_target - the component of @stored that @comp (master or instance) refers to */
icalcomponent *mw_inv_target(icalcomponent *stored, icalcomponent *vcal, icalcomponent *comp,
			     const MwItipTime *t);
/* mw_inv_exception - @stored's exception for @comp's RECURRENCE-ID, made from the master */
icalcomponent *mw_inv_exception(icalcomponent *stored, icalcomponent *vcal, icalcomponent *comp,
				const MwItipTime *t);
/* mw_inv_storable - a copy of @vcal without METHOD (what a calendar holds) */
icalcomponent *mw_inv_storable(icalcomponent *vcal);
/* mw_inv_my_attendee - @user's ATTENDEE in @comp */
icalproperty *mw_inv_my_attendee(icalcomponent *comp, const MwInvUser *user);
/* mw_inv_partstat - the PARTSTAT of @prop (NEEDS-ACTION when absent) */
icalparameter_partstat mw_inv_partstat(icalproperty *prop);

/* --- messages (mw-invitations-send.c) --- */
/* mw_inv_send_reply - a REPLY with @partstat from @user to the organizer of @comp */
gboolean mw_inv_send_reply(MwInvCtx *ctx, icalcomponent *vcal, icalcomponent *comp,
			   const MwInvUser *user, icalparameter_partstat partstat, GError **error);
/* mw_inv_notify - a plain notification to @user */
gboolean mw_inv_notify(MwInvCtx *ctx, const MwInvUser *user, icalcomponent *comp,
		       const char *subject, const char *text, GError **error);
/* mw_inv_when - the time span of @comp as text */
char *mw_inv_when(MwInvCtx *ctx, icalcomponent *vcal, icalcomponent *comp);
/* mw_inv_summary - SUMMARY or "" */
const char *mw_inv_summary(icalcomponent *comp);

G_END_DECLS
