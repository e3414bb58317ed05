/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-resources-request - METHOD:REQUEST for a resource or a collection
 * SYNOPSIS
 *	mw_res_request()
 * DESCRIPTION
 *	An invitation is decided in units: the whole object when it has a
 *	master (its instances go with it), else each instance (RECURRENCE-ID)
 *	on its own, stored next to its master in the same object.
 *
 *	Ordering (RFC 5546 §2.1.5): a unit older than the booking (lower
 *	SEQUENCE, or equal SEQUENCE and older DTSTAMP) is ignored; the state
 *	already answered is not answered again (a Postfix retry of the very
 *	same queued message, whose first reply never went out, is). A newer
 *	one replaces the booking when the slot is free; moving a booking into
 *	a conflict declines the move and keeps the old booking, except for a
 *	booking made through a collection, which moves to another free
 *	member (the old member replies DELEGATED to it and its booking goes).
 *
 *	A collection books its first free member in members order and
 *	answers twice, DELEGATED from the collection first, then the member's
 *	own answer; updates go to the member that holds the booking.
 *	Policies: ACT_REJECT declines; ACT_MANUAL (with an owner) books
 *	TENTATIVE and asks the owner; ACT_STORE_AND_NOTIFY (with an owner)
 *	stores NEEDS-ACTION without a reply; *_AND_NOTIFY tells the owner.
 */
#include <string.h>

#include "mw-resources.h"

/* a decision unit */
typedef struct {
	MwItip *itip;
	icalcomponent *key; /* master, or the instance */
	GPtrArray *comps;   /* the request's components of the unit */
	gboolean instance;
	gint64 rid;
	icalcomponent *vcal; /* the unit alone, with the zones, for the conflict check */
} Unit;

static void
unit_clear(Unit *unit)
{
	g_clear_pointer(&unit->comps, g_ptr_array_unref);
	if (unit->vcal != NULL)
		icalcomponent_free(unit->vcal);
	unit->vcal = NULL;
}

/* note - "address=what" for the summary line */
static void
note(MwResCtx *ctx, const MwDirEntry *entry, const char *what)
{
	if (ctx->note->len > 0)
		g_string_append_c(ctx->note, ' ');
	g_string_append_printf(ctx->note, "%s=%s", entry->address, what);
}

/* organizer_ok - ORGANIZER (or its SENT-BY) is the envelope sender (RFC 6047 §3) */
static gboolean
organizer_ok(MwResCtx *ctx, icalcomponent *comp)
{
	MwResourcesConfig *cfg = ctx->module->config;
	if (!cfg->verify_organizer)
		return TRUE;
	icalproperty *prop = icalcomponent_get_first_property(comp, ICAL_ORGANIZER_PROPERTY);
	if (prop == NULL)
		return FALSE;
	if (mw_itip_address_equal(icalproperty_get_organizer(prop), ctx->sender))
		return TRUE;
	icalparameter *sent_by = icalproperty_get_first_parameter(prop, ICAL_SENTBY_PARAMETER);
	return sent_by != NULL &&
	       mw_itip_address_equal(icalparameter_get_sentby(sent_by), ctx->sender);
}

/* stored_key - the stored component a unit is compared with */
static icalcomponent *
stored_key(MwResCtx *ctx, icalcomponent *stored, const Unit *unit)
{
	if (stored == NULL)
		return NULL;
	if (unit->instance)
		return mw_itip_get_instance(stored, unit->rid, &ctx->t);
	icalcomponent *master = mw_itip_get_master(stored);
	return master != NULL ? master : mw_itip_first_component(stored);
}

/* unit_comp_in - the unit's key component inside @booking */
static icalcomponent *
unit_comp_in(MwResCtx *ctx, icalcomponent *booking, const Unit *unit)
{
	if (unit->instance)
		return mw_itip_get_instance(booking, unit->rid, &ctx->t);
	return mw_itip_get_master(booking);
}

/* build_booking - the new stored object for @unit at @entry */
static icalcomponent *
build_booking(MwResCtx *ctx, const Unit *unit, icalcomponent *stored)
{
	if (!unit->instance || stored == NULL)
		return mw_res_booking_new(unit->itip, unit->comps);
	/* an instance joins its master's object, replacing an older copy of itself */
	icalcomponent *booking = icalcomponent_new_clone(stored);
	icalcomponent *old = mw_itip_get_instance(booking, unit->rid, &ctx->t);
	if (old != NULL) {
		icalcomponent_remove_component(booking, old);
		icalcomponent_free(old);
	}
	icalcomponent_add_component(booking, icalcomponent_new_clone(unit->key));
	mw_itip_add_timezones(booking, unit->itip->vcal);
	return booking;
}

/* mark_unit - the resource's answer on every component of the unit in @booking */
static void
mark_unit(MwResCtx *ctx, icalcomponent *booking, const Unit *unit, const MwDirEntry *entry,
	  icalparameter_partstat partstat, const MwDirEntry *delegator, const char *via)
{
	g_autoptr(GPtrArray) comps = g_ptr_array_new();
	for (icalcomponent *c = icalcomponent_get_first_component(booking, ICAL_VEVENT_COMPONENT);
	     c != NULL; c = icalcomponent_get_next_component(booking, ICAL_VEVENT_COMPONENT))
		g_ptr_array_add(comps, c);
	for (guint i = 0; i < comps->len; i++) {
		icalcomponent *c = g_ptr_array_index(comps, i);
		if (unit->instance && c != unit_comp_in(ctx, booking, unit))
			continue;
		if (delegator != NULL)
			mw_itip_delegate(c, delegator->address, entry->address, entry->name);
		mw_res_mark(c, entry, partstat, via);
	}
}

/* send_answers - replies (delegator's first) and owner messages after a booking */
static gboolean
send_answers(MwResCtx *ctx, icalcomponent *booking, icalcomponent *comp, const MwDirEntry *entry,
	     icalparameter_partstat partstat, const MwDirEntry *delegator, guint policy,
	     gboolean replies_only, GError **error)
{
	if (partstat != ICAL_PARTSTAT_NEEDSACTION && !ctx->no_reply) {
		if (delegator != NULL &&
		    !mw_res_reply(ctx, booking, comp, delegator, ICAL_PARTSTAT_DELEGATED, entry,
				  entry, error))
			return FALSE;
		if (!mw_res_reply(ctx, booking, comp, entry, partstat, NULL, entry, error))
			return FALSE;
	}
	if (replies_only || entry->owner == NULL)
		return TRUE;
	if (partstat == ICAL_PARTSTAT_TENTATIVE)
		return mw_res_confirmation_request(ctx, entry, booking, comp, error);
	if (partstat == ICAL_PARTSTAT_NEEDSACTION)
		return mw_res_notify_owner(ctx, entry, booking, comp, NULL, error);
	if ((policy & MW_POL_NOTIFY) != 0)
		return mw_res_notify_owner(ctx, entry, booking, comp,
					   mw_res_partstat_label(partstat), error);
	return TRUE;
}

/* book_unit - book @unit at @entry (replacing @stored) and answer */
static gboolean
book_unit(MwResCtx *ctx, GPtrArray *locks, const Unit *unit, const MwDirEntry *entry,
	  icalcomponent *stored, const MwDirEntry *delegator, const char *via, GError **error)
{
	guint policy = mw_res_policy(ctx->res, entry);
	icalparameter_partstat partstat = ICAL_PARTSTAT_ACCEPTED;
	if (entry->owner != NULL && (policy & MW_POL_MANUAL) != 0)
		partstat = ICAL_PARTSTAT_TENTATIVE;
	else if (entry->owner != NULL && (policy & MW_POL_STORE) != 0)
		partstat = ICAL_PARTSTAT_NEEDSACTION;

	g_autoptr(icalcomponent) booking = build_booking(ctx, unit, stored);
	mark_unit(ctx, booking, unit, entry, partstat, delegator, via);
	MwCalLock *lock = mw_res_lock_for(locks, entry->address);
	if (!mw_calstore_put(lock, unit->itip->uid, booking, error))
		return FALSE;
	icalcomponent *comp = unit_comp_in(ctx, booking, unit);
	mw_res_memo_record(ctx, entry, comp);
	mw_txn_log(ctx->txn, G_LOG_LEVEL_INFO, "resources: %s booked %s (%s)%s%s", entry->address,
		   unit->itip->uid, mw_itip_partstat_name(partstat),
		   delegator != NULL ? " delegated from " : "",
		   delegator != NULL ? delegator->address : "");
	note(ctx, entry,
	     partstat == ICAL_PARTSTAT_TENTATIVE     ? "tentative"
	     : partstat == ICAL_PARTSTAT_NEEDSACTION ? "stored"
						     : "accepted");
	return send_answers(ctx, booking, comp, entry, partstat, delegator, policy, FALSE, error);
}

/* decline - answer DECLINED from @entry; nothing is stored */
static gboolean
decline(MwResCtx *ctx, const Unit *unit, const MwDirEntry *entry, const char *why, GError **error)
{
	g_autoptr(icalcomponent) copy = mw_res_booking_new(unit->itip, unit->comps);
	icalcomponent *comp = unit_comp_in(ctx, copy, unit);
	if (comp == NULL)
		comp = mw_itip_first_component(copy);
	mw_res_mark(comp, entry, ICAL_PARTSTAT_DECLINED, NULL);
	mw_res_memo_record(ctx, entry, unit->key);
	mw_txn_log(ctx->txn, G_LOG_LEVEL_INFO, "resources: %s declined %s (%s)", entry->address,
		   unit->itip->uid, why);
	note(ctx, entry, "declined");
	guint policy = mw_res_policy(ctx->res, entry);
	if (!ctx->no_reply &&
	    !mw_res_reply(ctx, copy, comp, entry, ICAL_PARTSTAT_DECLINED, NULL, entry, error))
		return FALSE;
	if (entry->owner != NULL && (policy & MW_POL_NOTIFY) != 0)
		return mw_res_notify_owner(ctx, entry, copy, comp,
					   mw_res_partstat_label(ICAL_PARTSTAT_DECLINED), error);
	return TRUE;
}

/* resend - the answers of a state already decided, for a retry of the same queued message */
static gboolean
resend(MwResCtx *ctx, const Unit *unit, const MwDirEntry *entry, icalcomponent *stored,
       GError **error)
{
	icalcomponent *comp = stored != NULL ? unit_comp_in(ctx, stored, unit) : NULL;
	/* what was answered: this version booked, or (nothing or an older one stored) declined */
	if (comp == NULL || mw_itip_compare(comp, unit->key) != 0)
		return decline(ctx, unit, entry, "retry", error);
	icalproperty *att =
		mw_itip_find_attendee(comp, entry->address, (const char *const *) entry->aliases);
	icalparameter *ps =
		att != NULL ? icalproperty_get_first_parameter(att, ICAL_PARTSTAT_PARAMETER) : NULL;
	icalparameter_partstat partstat =
		ps != NULL ? icalparameter_get_partstat(ps) : ICAL_PARTSTAT_ACCEPTED;
	const char *via = mw_res_get_via(stored);
	const MwDirEntry *delegator =
		via != NULL ? mw_directory_lookup(ctx->res->directory, via) : NULL;
	note(ctx, entry, "resent");
	return send_answers(ctx, stored, comp, entry, partstat, delegator,
			    mw_res_policy(ctx->res, entry), FALSE, error);
}

/* free_at - whether @unit fits into @entry's calendar */
static gboolean
free_at(MwResCtx *ctx, GPtrArray *locks, const Unit *unit, const MwDirEntry *entry,
	gboolean *free_out, GError **error)
{
	MwCalLock *lock = mw_res_lock_for(locks, entry->address);
	return mw_res_is_free(ctx, lock, unit->vcal, free_out, error);
}

/* other_member - a free member of @coll other than @not, for a moved booking */
static const MwDirEntry *
other_member(MwResCtx *ctx, GPtrArray *locks, const Unit *unit, const MwDirEntry *coll,
	     const MwDirEntry * not, GError **error)
{
	for (guint i = 0; coll->members[i] != NULL; i++) {
		const MwDirEntry *m = mw_directory_lookup(ctx->res->directory, coll->members[i]);
		if (m == NULL || m == not || (mw_res_policy(ctx->res, m) & MW_POL_REJECT) != 0)
			continue;
		gboolean is_free = FALSE;
		if (!free_at(ctx, locks, unit, m, &is_free, error))
			return NULL;
		if (is_free)
			return m;
	}
	return NULL;
}

/* decide - @unit at resource @entry; @delegator: the collection the request came through */
static gboolean
decide(MwResCtx *ctx, GPtrArray *locks, const Unit *unit, const MwDirEntry *entry,
       const MwDirEntry *coll, const MwDirEntry *delegator, GError **error)
{
	MwCalLock *lock = mw_res_lock_for(locks, entry->address);
	g_autoptr(GError) local = NULL;
	g_autoptr(icalcomponent) stored = mw_calstore_get(lock, unit->itip->uid, &local);
	if (local != NULL) {
		g_propagate_error(error, g_steal_pointer(&local));
		return FALSE;
	}
	gboolean same_txn = FALSE;
	if (mw_res_memo_seen(ctx, entry, unit->key, &same_txn)) {
		if (same_txn)
			return resend(ctx, unit, entry, stored, error);
		mw_txn_log(ctx->txn, G_LOG_LEVEL_INFO,
			   "resources: %s already answered this version of %s", entry->address,
			   unit->itip->uid);
		note(ctx, entry, "duplicate");
		return TRUE;
	}
	icalcomponent *skey = stored_key(ctx, stored, unit);
	if (skey != NULL) {
		int order = mw_itip_compare(unit->key, skey);
		if (order < 0) {
			mw_txn_log(ctx->txn, G_LOG_LEVEL_INFO,
				   "resources: %s ignores an outdated version of %s (SEQUENCE %d)",
				   entry->address, unit->itip->uid, mw_itip_sequence(unit->key));
			note(ctx, entry, "outdated");
			return TRUE;
		}
		if (order == 0) {
			mw_res_memo_record(ctx, entry, unit->key);
			note(ctx, entry, "duplicate");
			return TRUE;
		}
	}
	guint policy = mw_res_policy(ctx->res, entry);
	if ((policy & MW_POL_REJECT) != 0)
		return decline(ctx, unit, entry, "policy ACT_REJECT", error);

	gboolean is_free = FALSE;
	if (!free_at(ctx, locks, unit, entry, &is_free, error))
		return FALSE;
	const char *via = stored != NULL ? mw_res_get_via(stored) : NULL;
	if (via == NULL && delegator != NULL)
		via = delegator->address;
	if (is_free)
		return book_unit(ctx, locks, unit, entry, stored, delegator, via, error);
	if (skey == NULL || unit->instance)
		return decline(ctx, unit, entry, "conflict", error);

	/* a booked object moved into a conflict */
	if (via != NULL && coll != NULL && mw_itip_address_equal(via, coll->address)) {
		const MwDirEntry *next = other_member(ctx, locks, unit, coll, entry, error);
		if (next == NULL && error != NULL && *error != NULL)
			return FALSE;
		if (next != NULL) {
			MwCalLock *old = mw_res_lock_for(locks, entry->address);
			if (!mw_calstore_remove(old, unit->itip->uid, error))
				return FALSE;
			mw_res_memo_record(ctx, entry, unit->key);
			mw_txn_log(ctx->txn, G_LOG_LEVEL_INFO, "resources: %s moves %s to %s of %s",
				   entry->address, unit->itip->uid, next->address, coll->address);
			return book_unit(ctx, locks, unit, next, NULL, entry, coll->address, error);
		}
	}
	/* decline the move, keep the old booking (Wallace deleted it) */
	return decline(ctx, unit, entry, "moved into a conflict, old booking kept", error);
}

/* decide_collection - @unit at collection @coll */
static gboolean
decide_collection(MwResCtx *ctx, GPtrArray *locks, const Unit *unit, const MwDirEntry *coll,
		  GError **error)
{
	/* an update goes to the member holding the booking */
	for (guint i = 0; coll->members[i] != NULL; i++) {
		const MwDirEntry *m = mw_directory_lookup(ctx->res->directory, coll->members[i]);
		if (m == NULL)
			continue;
		g_autoptr(GError) local = NULL;
		g_autoptr(icalcomponent) stored = mw_calstore_get(
			mw_res_lock_for(locks, m->address), unit->itip->uid, &local);
		if (local != NULL) {
			g_propagate_error(error, g_steal_pointer(&local));
			return FALSE;
		}
		if (stored != NULL)
			return decide(ctx, locks, unit, m, coll, coll, error);
	}
	gboolean same_txn = FALSE;
	if (mw_res_memo_seen(ctx, coll, unit->key, &same_txn) && !same_txn) {
		note(ctx, coll, "duplicate");
		return TRUE;
	}
	for (guint i = 0; coll->members[i] != NULL; i++) {
		const MwDirEntry *m = mw_directory_lookup(ctx->res->directory, coll->members[i]);
		if (m == NULL || (mw_res_policy(ctx->res, m) & MW_POL_REJECT) != 0)
			continue;
		gboolean is_free = FALSE;
		if (!free_at(ctx, locks, unit, m, &is_free, error))
			return FALSE;
		if (is_free) {
			mw_res_memo_record(ctx, coll, unit->key);
			return book_unit(ctx, locks, unit, m, NULL, coll, coll->address, error);
		}
	}
	return decline(ctx, unit, coll, "no member free", error);
}

/* units - the decision units of an invitation */
static GArray *
units_of(MwResCtx *ctx, MwItip *itip)
{
	GArray *units = g_array_new(FALSE, TRUE, sizeof(Unit));
	g_array_set_clear_func(units, (GDestroyNotify) unit_clear);
	g_autoptr(GPtrArray) all = g_ptr_array_new();
	for (icalcomponent *c =
		     icalcomponent_get_first_component(itip->vcal, ICAL_VEVENT_COMPONENT);
	     c != NULL; c = icalcomponent_get_next_component(itip->vcal, ICAL_VEVENT_COMPONENT))
		g_ptr_array_add(all, c);
	icalcomponent *master = mw_itip_get_master(itip->vcal);
	for (guint i = 0; i < all->len; i++) {
		icalcomponent *c = g_ptr_array_index(all, i);
		if (master != NULL && c != master)
			continue;
		Unit unit = {.itip = itip, .key = c, .comps = g_ptr_array_new()};
		if (master != NULL) {
			g_ptr_array_extend(unit.comps, all, NULL, NULL);
		} else {
			icalproperty *rid =
				icalcomponent_get_first_property(c, ICAL_RECURRENCEID_PROPERTY);
			unit.instance = TRUE;
			unit.rid = mw_itip_instant(itip->vcal, rid, &ctx->t);
			g_ptr_array_add(unit.comps, c);
		}
		unit.vcal = mw_res_booking_new(itip, unit.comps);
		g_array_append_val(units, unit);
	}
	return units;
}

/* is_cancelled - STATUS:CANCELLED */
static gboolean
is_cancelled(icalcomponent *comp)
{
	icalproperty *prop = icalcomponent_get_first_property(comp, ICAL_STATUS_PROPERTY);
	return prop != NULL && icalproperty_get_status(prop) == ICAL_STATUS_CANCELLED;
}

/* already_delegated - Wallace §3.4: the entry handed the invitation on and is not asked again */
static gboolean
already_delegated(icalcomponent *comp, const MwDirEntry *entry)
{
	icalproperty *att =
		mw_itip_find_attendee(comp, entry->address, (const char *const *) entry->aliases);
	if (att == NULL)
		return FALSE;
	icalparameter *rsvp = icalproperty_get_first_parameter(att, ICAL_RSVP_PARAMETER);
	if (rsvp != NULL && icalparameter_get_rsvp(rsvp) == ICAL_RSVP_TRUE)
		return FALSE;
	icalparameter *role = icalproperty_get_first_parameter(att, ICAL_ROLE_PARAMETER);
	return icalproperty_get_first_parameter(att, ICAL_DELEGATEDTO_PARAMETER) != NULL ||
	       (role != NULL && icalparameter_get_role(role) == ICAL_ROLE_NONPARTICIPANT);
}

/* --- requests, cancels, confirmations --- */
gboolean
mw_res_request(MwResCtx *ctx, MwItip *itip, const MwDirEntry *entry, GError **error)
{
	icalcomponent *master = mw_itip_get_master(itip->vcal);
	icalcomponent *any = master != NULL ? master : mw_itip_first_component(itip->vcal);
	if (!organizer_ok(ctx, any)) {
		g_autofree char *organizer = mw_itip_organizer(any);
		mw_txn_log(ctx->txn, G_LOG_LEVEL_WARNING,
			   "resources: %s: ORGANIZER %s of %s is not the sender <%s>; not booked",
			   entry->address, organizer != NULL ? organizer : "(none)", itip->uid,
			   ctx->sender);
		note(ctx, entry, "ignored(organizer)");
		/* the owner may want to know (Wallace's "failed" notification); never for
		 * <> or auto-replies, which must not trigger mail */
		if (!ctx->no_reply && (mw_res_policy(ctx->res, entry) & MW_POL_NOTIFY) != 0)
			return mw_res_notify_failure(ctx, entry, itip->vcal, any, error);
		return TRUE;
	}
	if (master != NULL && is_cancelled(master))
		return mw_res_cancel(ctx, itip, entry, error);
	if (already_delegated(any, entry)) {
		note(ctx, entry, "delegated");
		return TRUE;
	}

	/* the calendars this decision may touch, locked together */
	const MwDirEntry *coll =
		entry->kind == MW_DIR_COLLECTION
			? entry
			: (entry->collection != NULL
				   ? mw_directory_lookup(ctx->res->directory, entry->collection)
				   : NULL);
	g_autoptr(GPtrArray) members = g_ptr_array_new();
	g_ptr_array_add(members, (gpointer) entry);
	if (coll != NULL) {
		g_ptr_array_add(members, (gpointer) coll);
		for (guint i = 0; coll->members[i] != NULL; i++) {
			const MwDirEntry *m =
				mw_directory_lookup(ctx->res->directory, coll->members[i]);
			if (m != NULL)
				g_ptr_array_add(members, (gpointer) m);
		}
	}
	g_autoptr(GPtrArray) locks = mw_res_lock_set(ctx, members, error);
	if (locks == NULL)
		return FALSE;
	g_autoptr(GArray) units = units_of(ctx, itip);
	for (guint i = 0; i < units->len; i++) {
		const Unit *unit = &g_array_index(units, Unit, i);
		gboolean ok = entry->kind == MW_DIR_COLLECTION
				      ? decide_collection(ctx, locks, unit, entry, error)
				      : decide(ctx, locks, unit, entry, coll, NULL, error);
		if (!ok)
			return FALSE;
	}
	return TRUE;
}
