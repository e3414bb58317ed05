/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-invitations-send - the REPLYs and notifications the module sends
 * SYNOPSIS
 *	mw_inv_send_reply(), mw_inv_notify(), mw_inv_when(), mw_inv_summary()
 * DESCRIPTION
 *	A REPLY goes from the user (with the user's directory name) to the
 *	organizer, Auto-Submitted: auto-replied, subject "<SUMMARY>" has been
 *	accepted (Wallace's texts). Notifications are plain text mails to the
 *	user from <>. Both are emitted with required = TRUE: the invitation is
 *	not consumed unless they go out.
 */
#include <string.h>

#include "mw-invitations.h"

const char *
mw_inv_summary(icalcomponent *comp)
{
	const char *summary = icalcomponent_get_summary(comp);
	return summary != NULL ? summary : "";
}

char *
mw_inv_when(MwInvCtx *ctx, icalcomponent *vcal, icalcomponent *comp)
{
	gint64 start = 0, end = 0;
	if (!mw_itip_component_span(vcal, comp, &ctx->t, &start, &end))
		return g_strdup("?");
	icalproperty *dtstart = icalcomponent_get_first_property(comp, ICAL_DTSTART_PROPERTY);
	gboolean all_day = icalproperty_get_dtstart(dtstart).is_date;
	return mw_itip_format_span(start, end, all_day, ctx->inv->zone, ctx->inv->zone_name);
}

/* domain_of - the part after '@' */
static const char *
domain_of(const char *address)
{
	const char *at = strrchr(address, '@');
	return at != NULL ? at + 1 : "localhost";
}

/* status_label - Wallace's "has been <label>" words */
static const char *
status_label(icalparameter_partstat partstat)
{
	switch (partstat) {
	case ICAL_PARTSTAT_ACCEPTED:
		return "accepted";
	case ICAL_PARTSTAT_TENTATIVE:
		return "tentatively accepted";
	case ICAL_PARTSTAT_DECLINED:
		return "declined";
	case ICAL_PARTSTAT_DELEGATED:
		return "delegated";
	case ICAL_PARTSTAT_INPROCESS:
		return "started";
	case ICAL_PARTSTAT_COMPLETED:
		return "completed";
	default:
		return "answered";
	}
}

gboolean
mw_inv_send_reply(MwInvCtx *ctx, icalcomponent *vcal, icalcomponent *comp, const MwInvUser *user,
		  icalparameter_partstat partstat, GError **error)
{
	g_autofree char *organizer = mw_itip_organizer(comp);
	if (organizer == NULL) {
		mw_txn_log(ctx->txn, G_LOG_LEVEL_INFO, "invitations: %s has no ORGANIZER to answer",
			   icalcomponent_get_uid(comp));
		return TRUE;
	}
	/* answer under the address the organizer invited (it may be an alias) */
	icalproperty *att = mw_inv_my_attendee(comp, user);
	g_autofree char *as = att != NULL ? mw_itip_address(icalproperty_get_attendee(att)) : NULL;
	const char *from = as != NULL ? as : user->address;
	MwItipReplySpec spec = {
		.vcal = vcal,
		.event = comp,
		.attendee = from,
		.partstat = partstat,
	};
	g_autoptr(icalcomponent) reply = mw_itip_reply_calendar(&spec);
	/* the user's name on the answer (RFC 5546: the CN of the replying attendee) */
	icalcomponent *rcomp = mw_itip_first_component(reply);
	icalproperty *ratt = rcomp != NULL ? mw_itip_find_attendee(rcomp, from, NULL) : NULL;
	if (ratt != NULL && icalproperty_get_first_parameter(ratt, ICAL_CN_PARAMETER) == NULL)
		icalproperty_add_parameter(ratt, icalparameter_new_cn(user->name));
	gboolean task = icalcomponent_isa(comp) == ICAL_VTODO_COMPONENT;
	const char *summary = mw_inv_summary(comp);
	g_autofree char *subject =
		g_strdup_printf("\"%s\" has been %s", summary, status_label(partstat));
	g_autofree char *text = g_strdup_printf(
		"%s has %s your %s for %s.\n\n*** This is an automated message. Please do not "
		"reply. ***\n",
		user->name, status_label(partstat), task ? "assignment" : "invitation", summary);
	icalproperty *org = icalcomponent_get_first_property(comp, ICAL_ORGANIZER_PROPERTY);
	icalparameter *cn = icalproperty_get_first_parameter(org, ICAL_CN_PARAMETER);
	MwItipMessageSpec mspec = {
		.from_name = user->name,
		.from = from,
		.to_name = cn != NULL ? icalparameter_get_cn(cn) : NULL,
		.to = organizer,
		.subject = subject,
		.text = text,
		.calendar = reply,
		.in_reply_to = ctx->message_id,
		.auto_submitted = "auto-replied",
		.domain = domain_of(from),
	};
	GMimeMessage *message = mw_itip_message_new(&mspec);
	const char *rcpts[] = {organizer, NULL};
	if (!mw_txn_emit(ctx->txn, MW_INVITATIONS, from, rcpts, message, TRUE, error))
		return FALSE;
	mw_txn_log(ctx->txn, G_LOG_LEVEL_INFO, "invitations: %s answered %s to %s (%s)", from,
		   mw_itip_partstat_name(partstat), organizer, icalcomponent_get_uid(comp));
	return TRUE;
}

gboolean
mw_inv_notify(MwInvCtx *ctx, const MwInvUser *user, icalcomponent *comp, const char *subject,
	      const char *text, GError **error)
{
	icalproperty *org = icalcomponent_get_first_property(comp, ICAL_ORGANIZER_PROPERTY);
	icalparameter *cn =
		org != NULL ? icalproperty_get_first_parameter(org, ICAL_CN_PARAMETER) : NULL;
	g_autofree char *organizer = mw_itip_organizer(comp);
	g_autofree char *body = g_strdup_printf(
		"%s\n*** This is an automated message. Please do not reply. ***\n", text);
	MwItipMessageSpec spec = {
		.from_name = cn != NULL ? icalparameter_get_cn(cn) : NULL,
		.from = organizer != NULL ? organizer : user->address,
		.to_name = user->name,
		.to = user->address,
		.subject = subject,
		.text = body,
		.auto_submitted = "auto-generated",
		.domain = domain_of(user->address),
	};
	GMimeMessage *message = mw_itip_message_new(&spec);
	const char *rcpts[] = {user->address, NULL};
	if (!mw_txn_emit(ctx->txn, MW_INVITATIONS, "", rcpts, message, TRUE, error))
		return FALSE;
	mw_txn_log(ctx->txn, G_LOG_LEVEL_INFO, "invitations: notified %s: %s", user->address,
		   subject);
	return TRUE;
}
