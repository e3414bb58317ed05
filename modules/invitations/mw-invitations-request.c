/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-invitations-request - a REQUEST for one user, by the user's policies
 * SYNOPSIS
 *	mw_inv_request()
 * DESCRIPTION
 *	Wallace's process_itip_request (§4.4), per recipient: the policies
 *	matching the ORGANIZER are tried in order under the lock of the user's
 *	calendar. A new invitation (or a re-scheduled one: higher SEQUENCE)
 *	is answered ACCEPTED / TENTATIVE / DECLINED when the policy's
 *	condition (no conflict in the user's calendar, or a conflict) holds,
 *	and stored (a declined one too); SAVE_TO_FOLDER stores it unanswered;
 *	UPDATE applies a same-SEQUENCE update silently keeping the user's
 *	answer. Older versions than the stored one are not applied. Unlike
 *	Wallace, a failed condition never answers with the PARTSTAT the
 *	organizer put into the invitation.
 */
#include <string.h>

#include "mw-invitations.h"

/* has_conflict - whether the invitation blocks time the user's calendar already blocks */
static gboolean
has_conflict(MwInvCtx *ctx, MwCalLock *lock, MwItip *itip, gboolean *out, GError **error)
{
	if (ctx->conflict >= 0) {
		*out = ctx->conflict != 0;
		return TRUE;
	}
	GPtrArray *busy = mw_calstore_busy(lock, &ctx->t, error);
	if (busy == NULL)
		return FALSE;
	g_autoptr(MwItipEvent) ev = mw_itip_event_new(itip->vcal, &ctx->t, FALSE);
	gboolean clash = FALSE;
	for (guint i = 0; ev != NULL && i < busy->len && !clash; i++)
		clash = mw_itip_conflict(ev, g_ptr_array_index(busy, i), &ctx->t, NULL);
	ctx->conflict = clash ? 1 : 0;
	*out = clash;
	return TRUE;
}

/* set_param - replace (or with @param NULL remove) a parameter of @prop */
static void
set_param(icalproperty *prop, icalparameter_kind kind, icalparameter *param)
{
	icalproperty_remove_parameter_by_kind(prop, kind);
	if (param != NULL)
		icalproperty_add_parameter(prop, param);
}

/* copy_prop - @kind of @from into @to (removed from @to when @from has none) */
static void
copy_prop(icalcomponent *to, icalcomponent *from, icalproperty_kind kind)
{
	icalproperty *p;
	while ((p = icalcomponent_get_first_property(to, kind)) != NULL) {
		icalcomponent_remove_property(to, p);
		icalproperty_free(p);
	}
	icalproperty *src = icalcomponent_get_first_property(from, kind);
	if (src != NULL)
		icalcomponent_add_property(to, icalproperty_new_clone(src));
}

/* prop_text - a property's value as text, NULL when absent */
static char *
prop_text(icalcomponent *comp, icalproperty_kind kind)
{
	icalproperty *p = icalcomponent_get_first_property(comp, kind);
	return p != NULL ? g_strdup(icalproperty_get_value_as_string(p)) : NULL;
}

/* update_text - the update notification body: the changed properties */
static char *
update_text(icalcomponent *old, icalcomponent *new_comp, const char *organizer, gboolean instance)
{
	static const struct {
		icalproperty_kind kind;
		const char *label;
	} props[] = {
		{ICAL_SUMMARY_PROPERTY, "Title"},     {ICAL_DTSTART_PROPERTY, "Start"},
		{ICAL_DTEND_PROPERTY, "End"},         {ICAL_DUE_PROPERTY, "Due"},
		{ICAL_LOCATION_PROPERTY, "Location"}, {ICAL_DESCRIPTION_PROPERTY, "Description"},
		{ICAL_RRULE_PROPERTY, "Repeat"},      {ICAL_STATUS_PROPERTY, "Status"},
	};
	GString *text = g_string_new(NULL);
	g_string_append_printf(text, "Changes submitted by %s have been automatically applied.\n\n",
			       organizer != NULL ? organizer : "the organizer");
	for (guint i = 0; i < G_N_ELEMENTS(props); i++) {
		g_autofree char *a = prop_text(old, props[i].kind);
		g_autofree char *b = prop_text(new_comp, props[i].kind);
		if (g_strcmp0(a, b) == 0)
			continue;
		g_string_append_printf(text, "- %s: %s\n", props[i].label,
				       b != NULL ? b : "(removed)");
	}
	if (instance)
		g_string_append(text,
				"\nNOTE: This update only refers to this single occurrence!\n");
	return g_string_free(text, FALSE);
}

#define QUEUE_PROP "X-MAILWARDEN-QUEUE-ID"

/* mark_queue - note in the stored copy which queue file applied it (see same_queue) */
static void
mark_queue(icalcomponent *comp, const char *queue_id)
{
	for (icalproperty *p = icalcomponent_get_first_property(comp, ICAL_X_PROPERTY);
	     p != NULL;) {
		icalproperty *next = icalcomponent_get_next_property(comp, ICAL_X_PROPERTY);
		if (g_strcmp0(icalproperty_get_x_name(p), QUEUE_PROP) == 0) {
			icalcomponent_remove_property(comp, p);
			icalproperty_free(p);
		}
		p = next;
	}
	if (queue_id == NULL)
		return;
	icalproperty *p = icalproperty_new_x(queue_id);
	icalproperty_set_x_name(p, QUEUE_PROP);
	icalcomponent_add_property(comp, p);
}

/* same_queue - @comp was stored while processing queue file @queue_id */
static gboolean
same_queue(icalcomponent *comp, const char *queue_id)
{
	for (icalproperty *p = icalcomponent_get_first_property(comp, ICAL_X_PROPERTY); p != NULL;
	     p = icalcomponent_get_next_property(comp, ICAL_X_PROPERTY)) {
		if (g_strcmp0(icalproperty_get_x_name(p), QUEUE_PROP) == 0)
			return queue_id != NULL && g_strcmp0(icalproperty_get_x(p), queue_id) == 0;
	}
	return FALSE;
}

/* build - the object to store: the invitation, or the stored copy with this instance merged */
static icalcomponent *
build(MwInvCtx *ctx, MwItip *itip, icalcomponent *comp, icalcomponent *stored,
      icalcomponent **mine_out)
{
	gint64 rid = mw_inv_rid(itip->vcal, comp, &ctx->t);
	if (rid != 0 && stored != NULL && mw_itip_get_master(stored) != NULL) {
		icalcomponent *out = icalcomponent_new_clone(stored);
		icalcomponent *old = mw_itip_get_instance(out, rid, &ctx->t);
		if (old != NULL) {
			icalcomponent_remove_component(out, old);
			icalcomponent_free(old);
		}
		*mine_out = icalcomponent_new_clone(comp);
		icalcomponent_add_component(out, *mine_out);
		mw_itip_add_timezones(out, itip->vcal);
		return out;
	}
	icalcomponent *out = mw_inv_storable(itip->vcal);
	*mine_out = mw_itip_get_master(out);
	if (*mine_out == NULL)
		*mine_out = mw_itip_first_component(out);
	return out;
}

/* add_note - "ADDRESS=WORD" on the summary line: what became of the invitation for @user */
static void
add_note(MwInvCtx *ctx, const MwInvUser *user, const char *word)
{
	g_string_append_printf(ctx->note, "%s%s=%s", ctx->note->len > 0 ? "," : "", user->address,
			       word);
}

/* outcome_word - for the summary note */
static const char *
outcome_word(icalparameter_partstat respond, gboolean update)
{
	if (update)
		return "updated";
	switch (respond) {
	case ICAL_PARTSTAT_ACCEPTED:
		return "accepted";
	case ICAL_PARTSTAT_TENTATIVE:
		return "tentative";
	case ICAL_PARTSTAT_DECLINED:
		return "declined";
	default:
		return "saved";
	}
}

gboolean
mw_inv_request(MwInvCtx *ctx, MwItip *itip, const MwInvUser *user, MwInvOutcome *out,
	       GError **error)
{
	*out = MW_INV_OUT_PASS;
	icalcomponent *comp = mw_itip_get_master(itip->vcal);
	if (comp == NULL)
		comp = mw_itip_first_component(itip->vcal);
	icalproperty *att = comp != NULL ? mw_inv_my_attendee(comp, user) : NULL;
	if (att == NULL) {
		/* a forwarded invitation (RFC 5546 §3.2.2.6): the user decides */
		mw_txn_log(ctx->txn, G_LOG_LEVEL_INFO,
			   "invitations: %s is no attendee of %s, delivered", user->address,
			   itip->uid);
		return TRUE;
	}
	guint type = mw_inv_type(itip);
	g_autofree char *organizer = mw_itip_organizer(comp);
	const char *const *values = (const char *const *) (user->policy != NULL && user->policy[0]
								   ? user->policy
								   : ctx->inv->default_policy);
	g_autoptr(GArray) policies = mw_inv_policy_match(values, organizer, type);
	if (g_array_index(policies, guint, 0) & MW_INV_MANUAL) {
		*out = MW_INV_OUT_FORWARD;
		return TRUE;
	}

	g_autoptr(MwCalLock) lock =
		mw_calstore_lock(ctx->inv->store, user->address, MW_INV_LOCK_TIMEOUT_MS, error);
	if (lock == NULL)
		return FALSE;
	GError *local = NULL;
	g_autoptr(icalcomponent) stored = mw_calstore_get(lock, itip->uid, &local);
	if (local != NULL) {
		g_propagate_error(error, local);
		return FALSE;
	}
	icalcomponent *existing =
		stored != NULL ? mw_inv_target(stored, itip->vcal, comp, &ctx->t) : NULL;
	if (stored != NULL && existing == NULL)
		existing = mw_itip_get_master(stored); /* a new instance of a stored series */

	if (existing != NULL) {
		int order = mw_itip_compare(comp, existing);
		icalproperty *stored_att = mw_inv_my_attendee(existing, user);
		if (order < 0) {
			mw_txn_log(ctx->txn, G_LOG_LEVEL_INFO,
				   "invitations: %s: request %s is older than the stored copy, "
				   "not applied",
				   user->address, itip->uid);
			add_note(ctx, user, "outdated");
			*out = MW_INV_OUT_FORWARD;
			return TRUE;
		}
		if (order == 0 &&
		    mw_inv_rid(itip->vcal, comp, &ctx->t) ==
			    mw_inv_rid(stored, existing, &ctx->t) &&
		    stored_att != NULL) {
			/* this very version was applied before: nothing to do twice; but when it
			 * was this queue file, that attempt was deferred and its answer never
			 * left (a delivered txn is never retried): send it now */
			icalparameter_partstat was = mw_inv_partstat(stored_att);
			if (same_queue(existing, ctx->txn->queue_id) && !ctx->no_reply &&
			    (was == ICAL_PARTSTAT_ACCEPTED || was == ICAL_PARTSTAT_TENTATIVE ||
			     was == ICAL_PARTSTAT_DECLINED) &&
			    !mw_inv_send_reply(ctx, itip->vcal, comp, user, was, error))
				return FALSE;
			mw_txn_log(ctx->txn, G_LOG_LEVEL_INFO,
				   "invitations: %s: %s already applied", user->address, itip->uid);
			add_note(ctx, user, "duplicate");
			*out = MW_INV_OUT_PROCESSED;
			for (guint i = 0; i < policies->len; i++) {
				if (g_array_index(policies, guint, i) & MW_INV_FORWARD)
					*out = MW_INV_OUT_FORWARD;
			}
			return TRUE;
		}
	}

	int seq = mw_itip_sequence(comp);
	int existing_seq = existing != NULL ? mw_itip_sequence(existing) : 0;
	icalparameter *role = icalproperty_get_first_parameter(att, ICAL_ROLE_PARAMETER);
	gboolean nonpart = role != NULL && icalparameter_get_role(role) == ICAL_ROLE_NONPARTICIPANT;
	icalparameter *rsvp_param = icalproperty_get_first_parameter(att, ICAL_RSVP_PARAMETER);
	gboolean rsvp = rsvp_param != NULL && icalparameter_get_rsvp(rsvp_param) == ICAL_RSVP_TRUE;
	icalparameter_partstat partstat = mw_inv_partstat(att);
	gboolean scheduling = existing != NULL ? seq > 0 && seq > existing_seq
					       : rsvp || partstat == ICAL_PARTSTAT_NEEDSACTION;

	for (guint i = 0; i < policies->len; i++) {
		guint bits = g_array_index(policies, guint, i);
		if (bits & MW_INV_MANUAL) {
			*out = MW_INV_OUT_FORWARD;
			return TRUE;
		}
		if (bits & MW_INV_DELEGATE)
			continue; /* delegation is not implemented (as in Wallace) */
		icalparameter_partstat respond = ICAL_PARTSTAT_NONE;
		gboolean update = FALSE, keep_answer = FALSE;
		if (scheduling) {
			gboolean cond = TRUE;
			if (type == MW_INV_TYPE_EVENT &&
			    (bits & (MW_INV_IF_AVAILABLE | MW_INV_IF_CONFLICT))) {
				gboolean clash = FALSE;
				if (!has_conflict(ctx, lock, itip, &clash, error))
					return FALSE;
				cond = (bits & MW_INV_IF_CONFLICT) ? clash : !clash;
			}
			if ((bits & MW_INV_ACCEPT) && cond)
				respond = (bits & MW_INV_TENTATIVE) ? ICAL_PARTSTAT_TENTATIVE
								    : ICAL_PARTSTAT_ACCEPTED;
			else if ((bits & MW_INV_REJECT) && cond)
				respond = ICAL_PARTSTAT_DECLINED;
			else if (bits & MW_INV_SAVE_TO_FOLDER)
				respond = ICAL_PARTSTAT_NEEDSACTION;
			else
				continue;
		} else if (existing != NULL) {
			/* an update that needs no new answer: same SEQUENCE only */
			if (!(bits & MW_INV_UPDATE) || seq != existing_seq)
				continue;
			update = TRUE;
			keep_answer = TRUE;
		} else {
			/* RSVP=FALSE with an answer set by the organizer: stored silently */
		}
		if (nonpart && existing == NULL) {
			*out = (bits & MW_INV_FORWARD) ? MW_INV_OUT_FORWARD : MW_INV_OUT_PROCESSED;
			return TRUE;
		}

		icalcomponent *mine = NULL;
		g_autoptr(icalcomponent) obj = build(ctx, itip, comp, stored, &mine);
		icalproperty *my_att = mw_inv_my_attendee(mine, user);
		if (keep_answer) {
			icalproperty *old_att = mw_inv_my_attendee(existing, user);
			if (old_att != NULL && my_att != NULL) {
				set_param(my_att, ICAL_PARTSTAT_PARAMETER,
					  icalparameter_new_partstat(mw_inv_partstat(old_att)));
				set_param(my_att, ICAL_RSVP_PARAMETER, NULL);
			}
			if (type == MW_INV_TYPE_TASK) {
				copy_prop(mine, existing, ICAL_STATUS_PROPERTY);
				copy_prop(mine, existing, ICAL_PERCENTCOMPLETE_PROPERTY);
			}
		} else if (respond != ICAL_PARTSTAT_NONE && my_att != NULL) {
			set_param(my_att, ICAL_PARTSTAT_PARAMETER,
				  icalparameter_new_partstat(respond));
			if (respond != ICAL_PARTSTAT_NEEDSACTION)
				set_param(my_att, ICAL_RSVP_PARAMETER, NULL);
			if (icalproperty_get_first_parameter(my_att, ICAL_CN_PARAMETER) == NULL)
				icalproperty_add_parameter(my_att,
							   icalparameter_new_cn(user->name));
		}
		gboolean answer =
			respond != ICAL_PARTSTAT_NONE && respond != ICAL_PARTSTAT_NEEDSACTION;
		if (answer && ctx->no_reply) {
			/* never answer <> or an auto-reply: the user decides */
			*out = MW_INV_OUT_FORWARD;
			return TRUE;
		}
		/* emit before storing: a failed store then fails the whole message (4xx) and the
		 * retry starts clean */
		if (answer && !mw_inv_send_reply(ctx, itip->vcal, comp, user, respond, error))
			return FALSE;
		if (update && (bits & MW_INV_NOTIFY)) {
			gboolean instance = mw_inv_rid(itip->vcal, comp, &ctx->t) != 0;
			g_autofree char *text = update_text(existing, comp, organizer, instance);
			g_autofree char *subject =
				g_strdup_printf("\"%s\" has been updated", mw_inv_summary(comp));
			if (!mw_inv_notify(ctx, user, comp, subject, text, error))
				return FALSE;
		}
		mark_queue(mine, ctx->txn->queue_id);
		if (!mw_calstore_put(lock, itip->uid, obj, error))
			return FALSE;
		add_note(ctx, user, outcome_word(respond, update));
		*out = (bits & MW_INV_FORWARD) ? MW_INV_OUT_FORWARD : MW_INV_OUT_PROCESSED;
		return TRUE;
	}
	/* no policy applied: the user decides */
	*out = MW_INV_OUT_FORWARD;
	return TRUE;
}
