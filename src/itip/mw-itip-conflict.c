/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-itip-conflict - busy time of events and conflict detection
 * SYNOPSIS
 *	mw_itip_event_new(), mw_itip_event_free(), mw_itip_event_get_uid(),
 *	mw_itip_event_bounds(), mw_itip_event_spans(), mw_itip_spans_overlap(),
 *	mw_itip_conflict()
 * DESCRIPTION
 *	An MwItipEvent is the busy time of one UID: a single event is a list
 *	of spans computed once; a series keeps a private copy of its
 *	VCALENDAR (the zones of its VTIMEZONEs live in it) and is expanded on
 *	demand, only over the window asked for, so a calendar with hundreds
 *	of infinite series costs a few iterator steps per check.
 *
 *	Rules (fixing what Wallace got wrong, reference §2.2): intervals are
 *	half-open, so 10:00-12:00 and 12:00-13:00 do not conflict, while two
 *	events starting at the same instant always do (even zero-length
 *	ones); an event never conflicts with a copy of its own UID;
 *	TRANSPARENT or CANCELLED events and cancelled instances block
 *	nothing; dates and floating times are local to the configured zone;
 *	RRULE, RDATE, EXDATE and overridden (moved or cancelled) instances are
 *	all honoured, and series are compared occurrence by occurrence (no
 *	"same pattern never collides" shortcut). Infinite rules end at the
 *	horizon; no series yields more than MW_ITIP_MAX_OCCURRENCES.
 */
#include <string.h>

#include "mw-itip.h"

typedef struct {
	gint64 rid;
	MwSpan span;
	gboolean blocking;
} Override;

struct _MwItipEvent {
	char *uid;
	gboolean recurring;
	GArray *spans; /* single events: blocking spans, sorted */
	/* series */
	icalcomponent *vcal;
	icalcomponent *master;
	gboolean master_blocking;
	gboolean infinite;
	icaltimezone *zone;
	struct icaltimetype dtstart;
	gint64 dtstart_instant;
	gint64 duration;   /* date-time series: seconds */
	int duration_days; /* date series: whole days */
	GHashTable *exdates;
	GArray *overrides;
	GHashTable *override_rids;
	gint64 first;
	gint64 last;
	/* series: every blocking occurrence up to all_until, sorted, computed on first use
	 * (a worker is single-threaded: the cache needs no lock) */
	GArray *all_spans;
	gint64 all_until;
	gint64 all_longest;
};

/* span_cmp - by start, then end */
static gint
span_cmp(gconstpointer a, gconstpointer b)
{
	const MwSpan *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return 0;
}

/* mw_itip_spans_overlap - half-open intervals; equal starts always overlap */
gboolean
mw_itip_spans_overlap(const MwSpan *a, const MwSpan *b)
{
	return a->start == b->start || (a->start < b->end && b->start < a->end);
}

/* meets - @span intersects [@from, @to) (a zero-length span at @from counts) */
static gboolean
meets(const MwSpan *span, gint64 from, gint64 to)
{
	return span->start < to && (span->end > from || span->start >= from);
}

/* is_cancelled - STATUS:CANCELLED */
static gboolean
is_cancelled(icalcomponent *comp)
{
	icalproperty *prop = icalcomponent_get_first_property(comp, ICAL_STATUS_PROPERTY);
	return prop != NULL && icalproperty_get_status(prop) == ICAL_STATUS_CANCELLED;
}

/* transp_of - TRUE transparent, FALSE opaque, -1 when not given */
static int
transp_of(icalcomponent *comp)
{
	icalproperty *prop = icalcomponent_get_first_property(comp, ICAL_TRANSP_PROPERTY);
	if (prop == NULL)
		return -1;
	icalproperty_transp transp = icalproperty_get_transp(prop);
	return transp == ICAL_TRANSP_TRANSPARENT || transp == ICAL_TRANSP_TRANSPARENTNOCONFLICT;
}

/* comp_blocking - whether @comp blocks time; @inherit: the master's transparency */
static gboolean
comp_blocking(icalcomponent *comp, int inherit, gboolean force_opaque)
{
	if (is_cancelled(comp))
		return FALSE;
	if (force_opaque)
		return TRUE;
	int transp = transp_of(comp);
	if (transp < 0)
		transp = inherit > 0;
	return !transp;
}

/* is_recurring - RRULE or RDATE */
static gboolean
is_recurring(icalcomponent *comp)
{
	return icalcomponent_get_first_property(comp, ICAL_RRULE_PROPERTY) != NULL ||
	       icalcomponent_get_first_property(comp, ICAL_RDATE_PROPERTY) != NULL;
}

/* occurrence_span - the span of an occurrence starting at local time @tt */
static MwSpan
occurrence_span(const MwItipEvent *ev, struct icaltimetype tt, const MwItipTime *t)
{
	MwSpan span;
	span.start = mw_itip_time_instant(tt, ev->zone, t);
	if (ev->dtstart.is_date) {
		struct icaltimetype et = tt;
		et.is_date = 1;
		icaltime_adjust(&et, ev->duration_days, 0, 0, 0);
		span.end = mw_itip_time_instant(et, NULL, t);
	} else {
		span.end = span.start + ev->duration;
	}
	return span;
}

/* skipped - an occurrence replaced by an override or removed by EXDATE */
static gboolean
skipped(const MwItipEvent *ev, gint64 instant)
{
	return g_hash_table_contains(ev->exdates, &instant) ||
	       g_hash_table_contains(ev->override_rids, &instant);
}

/* expand_rules - occurrences of the RRULEs and DTSTART meeting [from, to) */
static void
expand_rules(const MwItipEvent *ev, gint64 from, gint64 to, const MwItipTime *t, GArray *out)
{
	gboolean any_rule = FALSE;
	gint64 stop = to;
	if (ev->infinite && stop > t->horizon)
		stop = MAX(t->horizon, ev->dtstart_instant + (gint64) MW_ITIP_HORIZON_DAYS * 86400);

	for (icalproperty *prop = icalcomponent_get_first_property(ev->master, ICAL_RRULE_PROPERTY);
	     prop != NULL;
	     prop = icalcomponent_get_next_property(ev->master, ICAL_RRULE_PROPERTY)) {
		struct icalrecurrencetype rule = icalproperty_get_rrule(prop);
		any_rule = TRUE;
		icalrecur_iterator *it = icalrecur_iterator_new(rule, ev->dtstart);
		if (it == NULL)
			continue;
		/* jump near the window: the step back covers the longest occurrence and DST */
		gint64 back = ev->dtstart.is_date ? (gint64) (ev->duration_days + 2) * 86400
						  : ev->duration + 2 * 86400;
		if (rule.count == 0 && from - back > ev->dtstart_instant) {
			icaltimezone *zone = ev->zone != NULL ? ev->zone : t->zone;
			if (zone == NULL)
				zone = icaltimezone_get_utc_timezone();
			struct icaltimetype jump =
				icaltime_from_timet_with_zone((time_t) (from - back), 0, zone);
			jump.zone = NULL;
			if (ev->dtstart.is_date) {
				jump.is_date = 1;
				jump.hour = jump.minute = jump.second = 0;
			}
			icalrecur_iterator_set_start(it, jump);
		}
		guint n = 0;
		for (struct icaltimetype tt = icalrecur_iterator_next(it);
		     !icaltime_is_null_time(tt) && n < MW_ITIP_MAX_OCCURRENCES;
		     tt = icalrecur_iterator_next(it), n++) {
			MwSpan span = occurrence_span(ev, tt, t);
			if (span.start >= stop)
				break;
			if (skipped(ev, span.start) || !meets(&span, from, to))
				continue;
			g_array_append_val(out, span);
		}
		icalrecur_iterator_free(it);
	}
	if (!any_rule) {
		/* RDATE only: DTSTART is the first occurrence */
		MwSpan span = occurrence_span(ev, ev->dtstart, t);
		if (!skipped(ev, span.start) && meets(&span, from, to))
			g_array_append_val(out, span);
	}
	for (icalproperty *prop = icalcomponent_get_first_property(ev->master, ICAL_RDATE_PROPERTY);
	     prop != NULL;
	     prop = icalcomponent_get_next_property(ev->master, ICAL_RDATE_PROPERTY)) {
		struct icaldatetimeperiodtype rdate = icalproperty_get_rdate(prop);
		MwSpan span;
		if (!icaltime_is_null_time(rdate.time)) {
			icaltimezone *zone = ev->zone;
			icalparameter *param =
				icalproperty_get_first_parameter(prop, ICAL_TZID_PARAMETER);
			if (param != NULL)
				zone = mw_itip_resolve_zone(ev->vcal,
							    icalparameter_get_tzid(param));
			struct icaltimetype local = rdate.time;
			if (icaltime_is_utc(local)) {
				span.start = mw_itip_time_instant(local, NULL, t);
				span.end = span.start + ev->duration;
			} else {
				MwItipEvent shifted = *ev;
				shifted.zone = zone;
				span = occurrence_span(&shifted, local, t);
			}
		} else {
			span.start = mw_itip_time_instant(rdate.period.start, ev->zone, t);
			if (!icaltime_is_null_time(rdate.period.end))
				span.end = mw_itip_time_instant(rdate.period.end, ev->zone, t);
			else
				span.end =
					span.start + icaldurationtype_as_int(rdate.period.duration);
		}
		if (!skipped(ev, span.start) && meets(&span, from, to))
			g_array_append_val(out, span);
	}
}

/* collect - the blocking occurrences of a series meeting [from, to), expanded now */
static void
collect(const MwItipEvent *ev, gint64 from, gint64 to, const MwItipTime *t, GArray *out)
{
	guint before = out->len;
	if (ev->master_blocking)
		expand_rules(ev, from, to, t, out);
	for (guint i = 0; i < ev->overrides->len; i++) {
		const Override *o = &g_array_index(ev->overrides, Override, i);
		if (o->blocking && meets(&o->span, from, to))
			g_array_append_val(out, o->span);
	}
	/* several rules may produce the same occurrence: sort and drop repeats */
	guint n = out->len - before;
	if (n > 1) {
		MwSpan *base = &g_array_index(out, MwSpan, before);
		qsort(base, n, sizeof(MwSpan), (int (*)(const void *, const void *)) span_cmp);
		guint w = 1;
		for (guint r = 1; r < n; r++) {
			if (span_cmp(&base[r], &base[w - 1]) != 0)
				base[w++] = base[r];
		}
		g_array_set_size(out, before + w);
	}
}

/* series_until - how far a series is expanded */
static gint64
series_until(const MwItipEvent *ev, const MwItipTime *t)
{
	if (!ev->infinite)
		return G_MAXINT64 / 2;
	return MAX(t->horizon, ev->dtstart_instant + (gint64) MW_ITIP_HORIZON_DAYS * 86400);
}

/* cached_spans - every blocking occurrence of series @ev, expanded once */
static GArray *
cached_spans(MwItipEvent *ev, const MwItipTime *t)
{
	gint64 until = series_until(ev, t);
	/* an infinite series is expanded again only when the horizon moved a day on */
	if (ev->all_spans != NULL && (!ev->infinite || ev->all_until + 86400 > until))
		return ev->all_spans;
	g_clear_pointer(&ev->all_spans, g_array_unref);
	ev->all_spans = g_array_new(FALSE, FALSE, sizeof(MwSpan));
	collect(ev, G_MININT64 / 2, until, t, ev->all_spans);
	g_array_sort(ev->all_spans, span_cmp);
	ev->all_until = until;
	ev->all_longest = 0;
	for (guint i = 0; i < ev->all_spans->len; i++) {
		MwSpan *s = &g_array_index(ev->all_spans, MwSpan, i);
		ev->all_longest = MAX(ev->all_longest, s->end - s->start);
	}
	return ev->all_spans;
}

/* mw_itip_event_spans - blocking occurrences meeting [@from, @to), sorted, appended to @out */
void
mw_itip_event_spans(const MwItipEvent *ev, gint64 from, gint64 to, const MwItipTime *t, GArray *out)
{
	if (!ev->recurring) {
		for (guint i = 0; i < ev->spans->len; i++) {
			const MwSpan *span = &g_array_index(ev->spans, MwSpan, i);
			if (meets(span, from, to))
				g_array_append_val(out, *span);
		}
		return;
	}
	/* the cache is internal state of a read-only object: no caller sees it change */
	MwItipEvent *mutable_ev = (MwItipEvent *) ev;
	GArray *all = cached_spans(mutable_ev, t);
	/* binary search: the first occurrence that can reach @from */
	gint64 lower = from - ev->all_longest;
	guint lo = 0, hi = all->len;
	while (lo < hi) {
		guint mid = lo + (hi - lo) / 2;
		if (g_array_index(all, MwSpan, mid).start < lower)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (guint i = lo; i < all->len; i++) {
		const MwSpan *span = &g_array_index(all, MwSpan, i);
		if (span->start >= to)
			break;
		if (meets(span, from, to))
			g_array_append_val(out, *span);
	}
}

/* rule_is_infinite - neither COUNT nor UNTIL */
static gboolean
rule_is_infinite(icalcomponent *master)
{
	for (icalproperty *prop = icalcomponent_get_first_property(master, ICAL_RRULE_PROPERTY);
	     prop != NULL; prop = icalcomponent_get_next_property(master, ICAL_RRULE_PROPERTY)) {
		struct icalrecurrencetype rule = icalproperty_get_rrule(prop);
		if (rule.count == 0 && icaltime_is_null_time(rule.until))
			return TRUE;
	}
	return FALSE;
}

/* add_instant - an element of a gint64 set */
static void
add_instant(GHashTable *set, gint64 instant)
{
	gint64 *key = g_new(gint64, 1);
	*key = instant;
	g_hash_table_add(set, key);
}

/* setup_series - the master's recurrence data; FALSE if the master has no DTSTART */
static gboolean
setup_series(MwItipEvent *ev, const MwItipTime *t, gboolean force_opaque)
{
	icalproperty *dtstart = icalcomponent_get_first_property(ev->master, ICAL_DTSTART_PROPERTY);
	if (dtstart == NULL)
		return FALSE;
	ev->dtstart = icalproperty_get_dtstart(dtstart);
	/* libical 3 tells UTC by the zone: ask before clearing it */
	gboolean utc = icaltime_is_utc(ev->dtstart);
	ev->dtstart.zone = NULL;
	icalparameter *tzid = icalproperty_get_first_parameter(dtstart, ICAL_TZID_PARAMETER);
	if (tzid != NULL && !utc)
		ev->zone = mw_itip_resolve_zone(ev->vcal, icalparameter_get_tzid(tzid));
	if (utc)
		ev->zone = icaltimezone_get_utc_timezone();
	gint64 start, end;
	if (!mw_itip_component_span(ev->vcal, ev->master, t, &start, &end))
		return FALSE;
	ev->dtstart_instant = start;
	ev->duration = end - start;
	if (ev->dtstart.is_date)
		ev->duration_days = (int) MAX(1, (ev->duration + 43200) / 86400);
	ev->master_blocking = comp_blocking(ev->master, -1, force_opaque);
	ev->infinite = rule_is_infinite(ev->master);
	for (icalproperty *prop =
		     icalcomponent_get_first_property(ev->master, ICAL_EXDATE_PROPERTY);
	     prop != NULL;
	     prop = icalcomponent_get_next_property(ev->master, ICAL_EXDATE_PROPERTY)) {
		struct icaltimetype ex = icalproperty_get_exdate(prop);
		icalparameter *p = icalproperty_get_first_parameter(prop, ICAL_TZID_PARAMETER);
		icaltimezone *zone =
			p != NULL ? mw_itip_resolve_zone(ev->vcal, icalparameter_get_tzid(p))
				  : ev->zone;
		if (ex.is_date && !ev->dtstart.is_date) {
			/* a DATE EXDATE of a timed series removes that day's occurrence */
			ex.is_date = 0;
			ex.hour = ev->dtstart.hour;
			ex.minute = ev->dtstart.minute;
			ex.second = ev->dtstart.second;
			zone = ev->zone;
		}
		add_instant(ev->exdates, mw_itip_time_instant(ex, zone, t));
	}
	return TRUE;
}

/**
 * mw_itip_event_new:
 * @vcal: a VCALENDAR with the components of one UID (copied where needed)
 * @force_opaque: ignore TRANSP:TRANSPARENT of @vcal (an invitation the
 *   resource will book as OPAQUE)
 * Returns: (transfer full) (nullable): NULL when no component has a DTSTART
 */
MwItipEvent *
mw_itip_event_new(icalcomponent *vcal, const MwItipTime *t, gboolean force_opaque)
{
	g_autoptr(MwItipEvent) ev = g_new0(MwItipEvent, 1);
	ev->spans = g_array_new(FALSE, FALSE, sizeof(MwSpan));
	ev->overrides = g_array_new(FALSE, FALSE, sizeof(Override));
	ev->exdates = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
	ev->override_rids = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);

	icalcomponent *master = mw_itip_get_master(vcal);
	icalcomponent *any = master != NULL ? master : mw_itip_first_component(vcal);
	if (any == NULL)
		return NULL;
	ev->uid = g_strdup(icalcomponent_get_uid(any));
	ev->recurring = master != NULL && is_recurring(master);
	icalcomponent *source = vcal;
	if (ev->recurring) {
		ev->vcal = icalcomponent_new_clone(vcal);
		ev->master = mw_itip_get_master(ev->vcal);
		source = ev->vcal;
		if (!setup_series(ev, t, force_opaque))
			return NULL;
	}
	int master_transp = master != NULL ? transp_of(master) : -1;
	gboolean have_any = ev->recurring;
	for (icalcomponent *comp = icalcomponent_get_first_component(source, ICAL_ANY_COMPONENT);
	     comp != NULL; comp = icalcomponent_get_next_component(source, ICAL_ANY_COMPONENT)) {
		icalcomponent_kind kind = icalcomponent_isa(comp);
		if (kind != ICAL_VEVENT_COMPONENT && kind != ICAL_VTODO_COMPONENT)
			continue;
		icalproperty *rid =
			icalcomponent_get_first_property(comp, ICAL_RECURRENCEID_PROPERTY);
		if (ev->recurring && rid == NULL)
			continue;
		MwSpan span;
		if (!mw_itip_component_span(source, comp, t, &span.start, &span.end))
			continue;
		have_any = TRUE;
		gboolean blocking = comp_blocking(comp, master_transp, force_opaque);
		if (ev->recurring) {
			Override o = {mw_itip_instant(source, rid, t), span, blocking};
			g_array_append_val(ev->overrides, o);
			add_instant(ev->override_rids, o.rid);
		} else {
			/* a single event, or instances whose master we do not have */
			if (rid != NULL && master != NULL)
				continue; /* an instance of a non-recurring master: meaningless */
			if (blocking)
				g_array_append_val(ev->spans, span);
		}
	}
	if (!have_any)
		return NULL;
	g_array_sort(ev->spans, span_cmp);

	/* bounds, for the quick "cannot meet" test and for expiry */
	ev->first = G_MAXINT64;
	ev->last = G_MININT64;
	if (!ev->recurring) {
		for (guint i = 0; i < ev->spans->len; i++) {
			MwSpan *s = &g_array_index(ev->spans, MwSpan, i);
			ev->first = MIN(ev->first, s->start);
			ev->last = MAX(ev->last, s->end);
		}
		if (ev->spans->len == 0) {
			/* blocks nothing; bounds from its own times for expiry */
			gint64 s, e;
			if (mw_itip_component_span(source, any, t, &s, &e)) {
				ev->first = s;
				ev->last = e;
			}
		}
	} else {
		ev->first = ev->dtstart_instant;
		if (ev->infinite) {
			ev->last = G_MAXINT64;
		} else {
			g_autoptr(GArray) all = g_array_new(FALSE, FALSE, sizeof(MwSpan));
			gboolean was = ev->master_blocking;
			/* bounds cover every occurrence, blocking or not */
			ev->master_blocking = TRUE;
			collect(ev, G_MININT64 / 2, G_MAXINT64 / 2, t, all);
			ev->master_blocking = was;
			for (guint i = 0; i < all->len; i++) {
				MwSpan *s = &g_array_index(all, MwSpan, i);
				ev->first = MIN(ev->first, s->start);
				ev->last = MAX(ev->last, s->end);
			}
			ev->last = MAX(ev->last, ev->dtstart_instant + ev->duration);
		}
		for (guint i = 0; i < ev->overrides->len; i++) {
			Override *o = &g_array_index(ev->overrides, Override, i);
			ev->first = MIN(ev->first, o->span.start);
			if (ev->last != G_MAXINT64)
				ev->last = MAX(ev->last, o->span.end);
		}
	}
	return g_steal_pointer(&ev);
}

/**
 * mw_itip_event_new:
 * @vcal: a VCALENDAR with the components of one UID (copied where needed)
 * @force_opaque: ignore TRANSP:TRANSPARENT of @vcal (an invitation the
 *   resource will book as OPAQUE)
 * Returns: (transfer full) (nullable): NULL when no component has a DTSTART
 */
void
mw_itip_event_free(MwItipEvent *ev)
{
	if (ev == NULL)
		return;
	g_free(ev->uid);
	g_clear_pointer(&ev->spans, g_array_unref);
	g_clear_pointer(&ev->overrides, g_array_unref);
	g_clear_pointer(&ev->exdates, g_hash_table_unref);
	g_clear_pointer(&ev->override_rids, g_hash_table_unref);
	g_clear_pointer(&ev->all_spans, g_array_unref);
	if (ev->vcal != NULL)
		icalcomponent_free(ev->vcal);
	g_free(ev);
}

/**
 * mw_itip_event_new:
 * @vcal: a VCALENDAR with the components of one UID (copied where needed)
 * @force_opaque: ignore TRANSP:TRANSPARENT of @vcal (an invitation the
 *   resource will book as OPAQUE)
 * Returns: (transfer full) (nullable): NULL when no component has a DTSTART
 */
const char *
mw_itip_event_get_uid(const MwItipEvent *ev)
{
	return ev->uid;
}

/* mw_itip_event_bounds - first start and last end (G_MAXINT64 for infinite series) */
void
mw_itip_event_bounds(const MwItipEvent *ev, gint64 *first_out, gint64 *last_out)
{
	*first_out = ev->first;
	*last_out = ev->last;
}

/* all_spans - every blocking occurrence of @ev (an invitation) up to the horizon */
static GArray *
all_spans(MwItipEvent *ev, const MwItipTime *t)
{
	return ev->recurring ? cached_spans(ev, t) : ev->spans;
}

/**
 * mw_itip_conflict:
 * Whether @inv and @stored block a common instant. Never for the same UID;
 * never when either blocks nothing (TRANSPARENT, CANCELLED, cancelled
 * instances); all-day events block the whole day in @t->zone; series are
 * expanded with RRULE, RDATE, EXDATE and overridden instances, infinite ones
 * up to @t->horizon. @conflict_out (nullable) receives the first clash of @inv.
 */
gboolean
mw_itip_conflict(MwItipEvent *inv, const MwItipEvent *stored, const MwItipTime *t,
		 MwSpan *conflict_out)
{
	if (inv->uid != NULL && stored->uid != NULL && strcmp(inv->uid, stored->uid) == 0)
		return FALSE;
	GArray *mine = all_spans(inv, t);
	if (mine->len == 0)
		return FALSE;
	gint64 lo = g_array_index(mine, MwSpan, 0).start;
	gint64 hi = lo;
	for (guint i = 0; i < mine->len; i++)
		hi = MAX(hi, g_array_index(mine, MwSpan, i).end);
	if (stored->first > hi || stored->last < lo)
		return FALSE;

	g_autoptr(GArray) theirs = g_array_new(FALSE, FALSE, sizeof(MwSpan));
	mw_itip_event_spans(stored, lo, hi + 1, t, theirs);
	if (theirs->len == 0)
		return FALSE;
	g_array_sort(theirs, span_cmp);
	gint64 longest = 0;
	for (guint j = 0; j < theirs->len; j++) {
		MwSpan *s = &g_array_index(theirs, MwSpan, j);
		longest = MAX(longest, s->end - s->start);
	}
	/* both sorted by start: for each of mine, only theirs starting within
	 * [start - longest, end] can meet it */
	guint j0 = 0;
	for (guint i = 0; i < mine->len; i++) {
		MwSpan *a = &g_array_index(mine, MwSpan, i);
		while (j0 < theirs->len &&
		       g_array_index(theirs, MwSpan, j0).start < a->start - longest)
			j0++;
		for (guint j = j0; j < theirs->len; j++) {
			MwSpan *b = &g_array_index(theirs, MwSpan, j);
			if (b->start > a->end || (b->start == a->end && b->start != a->start))
				break;
			if (mw_itip_spans_overlap(a, b)) {
				if (conflict_out != NULL)
					*conflict_out = *a;
				return TRUE;
			}
		}
	}
	return FALSE;
}
