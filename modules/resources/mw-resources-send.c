/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-resources-send - replies to organizers, messages to owners
 * SYNOPSIS
 *	mw_res_reply(), mw_res_reply_with_comment(), mw_res_notify_owner(),
 *	mw_res_confirmation_request(), mw_res_token_encode(),
 *	mw_res_token_decode(), mw_res_split_address()
 * DESCRIPTION
 *	Everything goes out through mw_txn_emit() with required=TRUE: the
 *	booking and its answers leave together or the message is deferred.
 *	Replies come from the resource (envelope and From) to the organizer,
 *	with Wallace's subjects and texts, translated into the recipient's
 *	language from the directory; the organizer's reply names the owner
 *	and the owner's phone for questions. Owner notifications are plain
 *	UTF-8 text naming the resource, the organizer, the summary and the
 *	times in the configured zone. The owner's confirmation request is a
 *	clone of the invitation (new UID, ORGANIZER resource+<token>@domain,
 *	the owner as only attendee, X-Kolab-InvitationType:CONFIRMATION).
 */
#include <string.h>

#include "mw-resources.h"

/* T - a translated msgid */
#define T(lang, msgid) mw_res_gettext(ctx->res->i18n, (lang), (msgid))

/* mw_res_token - the plus-address token of a UID (Wallace: base64, '+' as '-') */
char *
mw_res_token_encode(const char *uid)
{
	char *token = g_base64_encode((const guchar *) uid, strlen(uid));
	for (char *p = token; *p != '\0'; p++) {
		if (*p == '+')
			*p = '-';
	}
	return token;
}

/* mw_res_token - the plus-address token of a UID (Wallace: base64, '+' as '-') */
char *
mw_res_token_decode(const char *token)
{
	g_autofree char *copy = g_strdup(token);
	for (char *p = copy; *p != '\0'; p++) {
		if (*p == '-')
			*p = '+';
	}
	gsize len = 0;
	g_autofree guchar *raw = g_base64_decode(copy, &len);
	if (raw == NULL || len == 0 || !g_utf8_validate((const char *) raw, (gssize) len, NULL) ||
	    memchr(raw, '\0', len) != NULL)
		return NULL;
	return g_strndup((const char *) raw, len);
}

/* mw_res_split_address - "room+TOKEN@x" -> "room@x" and "TOKEN" (nullable) */
char *
mw_res_split_address(const char *address, char **token_out)
{
	if (token_out != NULL)
		*token_out = NULL;
	g_autofree char *bare = g_strdup(address);
	if (g_ascii_strncasecmp(bare, "mailto:", 7) == 0)
		memmove(bare, bare + 7, strlen(bare + 7) + 1);
	char *at = strrchr(bare, '@');
	char *plus = at != NULL ? memchr(bare, '+', (gsize) (at - bare)) : NULL;
	if (plus != NULL && plus + 1 < at) {
		gboolean valid = TRUE;
		for (const char *p = plus + 1; p < at; p++) {
			if (!g_ascii_isalnum(*p) && *p != '=' && *p != '/' && *p != '-')
				valid = FALSE;
		}
		if (valid) {
			if (token_out != NULL)
				*token_out = g_strndup(plus + 1, (gsize) (at - plus - 1));
			memmove(plus, at, strlen(at) + 1);
		}
	}
	return mw_itip_address(bare);
}

/* cn_of - the CN parameter of @prop or NULL */
static const char *
cn_of(icalproperty *prop)
{
	icalparameter *cn =
		prop != NULL ? icalproperty_get_first_parameter(prop, ICAL_CN_PARAMETER) : NULL;
	return cn != NULL ? icalparameter_get_cn(cn) : NULL;
}

/* domain_of - the part after '@' */
static const char *
domain_of(const char *address)
{
	const char *at = strrchr(address, '@');
	return at != NULL ? at + 1 : "localhost";
}

/* mw_res_language_of - the language of @address in the directory, else @fallback */
const char *
mw_res_language_of(MwResCtx *ctx, const char *address, const char *fallback)
{
	const MwDirEntry *entry = mw_directory_lookup(ctx->res->directory, address);
	if (entry != NULL && entry->language != NULL)
		return entry->language;
	return fallback;
}

/* emit - hand a message to the core */
static gboolean
emit(MwResCtx *ctx, const char *sender, const char *rcpt, GMimeMessage *message, GError **error)
{
	const char *rcpts[] = {rcpt, NULL};
	return mw_txn_emit(ctx->txn, MW_RESOURCES, sender, rcpts, message, TRUE, error);
}

/* times_of - "2026-07-15 10:00 (Europe/Berlin) - 11:30 (Europe/Berlin)" */
static char *
times_of(MwResCtx *ctx, icalcomponent *vcal, icalcomponent *comp)
{
	gint64 start = 0, end = 0;
	if (!mw_itip_component_span(vcal, comp, &ctx->t, &start, &end))
		return g_strdup("?");
	icalproperty *dtstart = icalcomponent_get_first_property(comp, ICAL_DTSTART_PROPERTY);
	gboolean all_day = icalproperty_get_dtstart(dtstart).is_date;
	return mw_itip_format_span(start, end, all_day, ctx->res->zone, ctx->res->zone_name);
}

/* summary_of - SUMMARY or "" */
static const char *
summary_of(icalcomponent *comp)
{
	const char *summary = icalcomponent_get_summary(comp);
	return summary != NULL ? summary : "";
}

/* owner_contact - "The Boss <boss@example.org> +49 30 1234" */
static char *
owner_contact(MwResCtx *ctx, const MwDirEntry *resource)
{
	if (resource == NULL || resource->owner == NULL)
		return NULL;
	const MwDirEntry *owner = mw_directory_lookup(ctx->res->directory, resource->owner);
	const char *name = owner != NULL && owner->name != NULL ? owner->name : resource->owner;
	const char *phone = owner != NULL ? owner->phone : NULL;
	if (phone != NULL)
		return g_strdup_printf("%s <%s> %s", name, resource->owner, phone);
	return g_strdup_printf("%s <%s>", name, resource->owner);
}

/* reply_full - a REPLY from @from to the organizer of @comp */
static gboolean
reply_full(MwResCtx *ctx, icalcomponent *vcal, icalcomponent *comp, const MwDirEntry *from,
	   icalparameter_partstat partstat, const MwDirEntry *delegate, const MwDirEntry *booked,
	   const char *comment, GError **error)
{
	icalproperty *org = icalcomponent_get_first_property(comp, ICAL_ORGANIZER_PROPERTY);
	g_autofree char *organizer = mw_itip_organizer(comp);
	if (organizer == NULL) {
		mw_txn_log(ctx->txn, G_LOG_LEVEL_INFO, "resources: %s has no ORGANIZER to answer",
			   icalcomponent_get_uid(comp));
		return TRUE;
	}
	/* answer under the address the organizer invited (it may be an alias) */
	icalproperty *att =
		mw_itip_find_attendee(comp, from->address, (const char *const *) from->aliases);
	g_autofree char *as = att != NULL ? mw_itip_address(icalproperty_get_attendee(att))
					  : g_strdup(from->address);
	MwItipReplySpec spec = {
		.vcal = vcal,
		.event = comp,
		.attendee = as,
		.partstat = partstat,
		.delegate = delegate != NULL ? delegate->address : NULL,
		.delegate_name = delegate != NULL ? delegate->name : NULL,
		.comment = comment,
	};
	g_autoptr(icalcomponent) reply = mw_itip_reply_calendar(&spec);

	const char *lang = mw_res_language_of(ctx, organizer, NULL);
	const char *label = T(lang, mw_res_partstat_label(partstat));
	g_autofree char *subject = g_strdup_printf(T(lang, N_("Reservation Request for %s was %s")),
						   summary_of(comp), label);
	g_autoptr(GString) text = g_string_new(
		T(lang, N_("*** This is an automated response, please do not reply! ***")));
	g_string_append(text, "\n\n");
	if (partstat == ICAL_PARTSTAT_DELEGATED && delegate != NULL) {
		g_string_append_printf(text,
				       T(lang, N_("Your reservation was delegated to \"%s\" which "
						  "is available for the requested time.")),
				       delegate->name);
	} else {
		g_string_append_printf(
			text, T(lang, N_("We hereby inform you that your reservation was %s.")),
			label);
	}
	g_string_append(text, "\n");
	if (comment != NULL)
		g_string_append_printf(text, "\n%s\n", comment);
	g_autofree char *contact = owner_contact(ctx, booked != NULL ? booked : from);
	if (contact != NULL) {
		g_string_append(text, "\n");
		g_string_append_printf(
			text,
			T(lang,
			  N_("If you have questions about this reservation, please contact %s")),
			contact);
		g_string_append(text, "\n");
	}
	MwItipMessageSpec ms = {
		.from_name = from->name,
		.from = from->address,
		.to_name = cn_of(org),
		.to = organizer,
		.subject = subject,
		.text = text->str,
		.calendar = reply,
		.in_reply_to = ctx->message_id,
		.auto_submitted = "auto-replied",
		.domain = domain_of(from->address),
	};
	GMimeMessage *message = mw_itip_message_new(&ms);
	return emit(ctx, from->address, organizer, message, error);
}

/* mw_res_reply - a REPLY from @from (entry) to the organizer of @comp */
gboolean
mw_res_reply(MwResCtx *ctx, icalcomponent *vcal, icalcomponent *comp, const MwDirEntry *from,
	     icalparameter_partstat partstat, const MwDirEntry *delegate, const MwDirEntry *booked,
	     GError **error)
{
	return reply_full(ctx, vcal, comp, from, partstat, delegate, booked, NULL, error);
}

/* mw_res_reply_with_comment - the same with a COMMENT (the owner's) and no delegation */
gboolean
mw_res_reply_with_comment(MwResCtx *ctx, icalcomponent *vcal, icalcomponent *comp,
			  const MwDirEntry *from, icalparameter_partstat partstat,
			  const char *comment, GError **error)
{
	return reply_full(ctx, vcal, comp, from, partstat, NULL, from, comment, error);
}

/* mw_res_notify_owner - a text notification for the owner of @entry (if any) */
gboolean
mw_res_notify_owner(MwResCtx *ctx, const MwDirEntry *entry, icalcomponent *vcal,
		    icalcomponent *comp, const char *status, GError **error)
{
	if (entry->owner == NULL)
		return TRUE;
	const char *lang = mw_res_language_of(ctx, entry->owner, entry->language);
	icalproperty *org = icalcomponent_get_first_property(comp, ICAL_ORGANIZER_PROPERTY);
	g_autofree char *organizer = mw_itip_organizer(comp);
	const char *org_name = cn_of(org) != NULL ? cn_of(org) : (organizer ? organizer : "?");
	g_autofree char *when = times_of(ctx, vcal, comp);
	g_autofree char *subject = NULL;
	g_autofree char *body = NULL;
	if (status == NULL) {
		subject = g_strdup_printf(T(lang, N_("New booking request for %s")), entry->name);
		body = g_strdup_printf(T(lang, N_("A new booking request for %s by %s <%s> is for "
						  "%s and needs your action.\n\nSubject: %s\n")),
				       entry->name, org_name, organizer ? organizer : "", when,
				       summary_of(comp));
	} else {
		const char *label = T(lang, status);
		subject = g_strdup_printf(T(lang, N_("Booking for %s has been %s")), entry->name,
					  label);
		body = g_strdup_printf(T(lang, N_("The booking for %s by %s <%s> has been %s for "
						  "%s.\n\nSubject: %s\n")),
				       entry->name, org_name, organizer ? organizer : "", label,
				       when, summary_of(comp));
	}
	const MwDirEntry *owner = mw_directory_lookup(ctx->res->directory, entry->owner);
	MwItipMessageSpec ms = {
		.from_name = entry->name,
		.from = entry->address,
		.to_name = owner != NULL ? owner->name : NULL,
		.to = entry->owner,
		.subject = subject,
		.text = body,
		.auto_submitted = "auto-generated",
		.domain = domain_of(entry->address),
	};
	GMimeMessage *message = mw_itip_message_new(&ms);
	return emit(ctx, entry->address, entry->owner, message, error);
}

/* mw_res_notify_failure - tell the owner (policy NOTIFY) that an invitation could not be
 * processed automatically (its ORGANIZER is not the sender) */
gboolean
mw_res_notify_failure(MwResCtx *ctx, const MwDirEntry *entry, icalcomponent *vcal,
		      icalcomponent *comp, GError **error)
{
	if (entry->owner == NULL)
		return TRUE;
	const char *lang = mw_res_language_of(ctx, entry->owner, entry->language);
	icalproperty *org = icalcomponent_get_first_property(comp, ICAL_ORGANIZER_PROPERTY);
	g_autofree char *organizer = mw_itip_organizer(comp);
	const char *org_name = cn_of(org) != NULL ? cn_of(org) : (organizer ? organizer : "?");
	g_autofree char *when = times_of(ctx, vcal, comp);
	g_autofree char *subject =
		g_strdup_printf(T(lang, N_("Booking for %s has failed")), entry->name);
	g_autofree char *body = g_strdup_printf(
		T(lang,
		  N_("The booking request for %s by %s <%s> for %s could not be processed "
		     "automatically: it was sent by <%s>, not by its organizer. Please contact "
		     "the organizer.\n\nSubject: %s\n")),
		entry->name, org_name, organizer ? organizer : "", when, ctx->sender,
		summary_of(comp));
	const MwDirEntry *owner = mw_directory_lookup(ctx->res->directory, entry->owner);
	MwItipMessageSpec ms = {
		.from_name = entry->name,
		.from = entry->address,
		.to_name = owner != NULL ? owner->name : NULL,
		.to = entry->owner,
		.subject = subject,
		.text = body,
		.auto_submitted = "auto-generated",
		.domain = domain_of(entry->address),
	};
	GMimeMessage *message = mw_itip_message_new(&ms);
	return emit(ctx, entry->address, entry->owner, message, error);
}

/* participants - display names of the people (not resources) invited */
static char *
participants(icalcomponent *comp)
{
	g_autoptr(GString) out = g_string_new(NULL);
	for (icalproperty *att = icalcomponent_get_first_property(comp, ICAL_ATTENDEE_PROPERTY);
	     att != NULL; att = icalcomponent_get_next_property(comp, ICAL_ATTENDEE_PROPERTY)) {
		icalparameter *cutype =
			icalproperty_get_first_parameter(att, ICAL_CUTYPE_PARAMETER);
		if (cutype != NULL && (icalparameter_get_cutype(cutype) == ICAL_CUTYPE_RESOURCE ||
				       icalparameter_get_cutype(cutype) == ICAL_CUTYPE_ROOM))
			continue;
		g_autofree char *address = mw_itip_address(icalproperty_get_attendee(att));
		const char *name = cn_of(att) != NULL ? cn_of(att) : address;
		if (name == NULL)
			continue;
		if (out->len > 0)
			g_string_append(out, ", ");
		g_string_append(out, name);
	}
	return g_string_free(g_steal_pointer(&out), FALSE);
}

/* mw_res_confirmation_request - ACT_MANUAL: ask the owner to confirm the booking */
gboolean
mw_res_confirmation_request(MwResCtx *ctx, const MwDirEntry *entry, icalcomponent *vcal,
			    icalcomponent *comp, GError **error)
{
	const char *lang = mw_res_language_of(ctx, entry->owner, entry->language);
	const char *uid = icalcomponent_get_uid(comp);
	g_autofree char *token = mw_res_token_encode(uid);
	g_autofree char *local = g_strndup(entry->address, strcspn(entry->address, "@"));
	g_autofree char *plus =
		g_strdup_printf("%s+%s@%s", local, token, domain_of(entry->address));
	const MwDirEntry *owner = mw_directory_lookup(ctx->res->directory, entry->owner);

	icalcomponent *clone = icalcomponent_new_clone(comp);
	g_autofree char *new_uid = g_uuid_string_random();
	icalcomponent_set_uid(clone, new_uid);
	g_autoptr(GPtrArray) drop = g_ptr_array_new();
	for (icalproperty *p = icalcomponent_get_first_property(clone, ICAL_ANY_PROPERTY);
	     p != NULL; p = icalcomponent_get_next_property(clone, ICAL_ANY_PROPERTY)) {
		icalproperty_kind kind = icalproperty_isa(p);
		if (kind == ICAL_ATTENDEE_PROPERTY || kind == ICAL_ORGANIZER_PROPERTY ||
		    kind == ICAL_DTSTAMP_PROPERTY ||
		    (kind == ICAL_X_PROPERTY &&
		     g_ascii_strncasecmp(icalproperty_get_x_name(p), "X-MAILWARDEN-", 13) == 0))
			g_ptr_array_add(drop, p);
	}
	for (guint i = 0; i < drop->len; i++) {
		icalcomponent_remove_property(clone, g_ptr_array_index(drop, i));
		icalproperty_free(g_ptr_array_index(drop, i));
	}
	/* not mw_itip_mailto(): the token is base64 and must keep its case */
	g_autofree char *org_mailto = g_strconcat("mailto:", plus, NULL);
	icalproperty *org = icalproperty_new_organizer(org_mailto);
	icalproperty_add_parameter(org, icalparameter_new_cn(entry->name));
	icalcomponent_add_property(clone, org);
	g_autofree char *owner_mailto = mw_itip_mailto(entry->owner);
	icalproperty *att = icalproperty_new_attendee(owner_mailto);
	if (owner != NULL && owner->name != NULL)
		icalproperty_add_parameter(att, icalparameter_new_cn(owner->name));
	icalproperty_add_parameter(att, icalparameter_new_role(ICAL_ROLE_REQPARTICIPANT));
	icalproperty_add_parameter(att, icalparameter_new_partstat(ICAL_PARTSTAT_NEEDSACTION));
	icalproperty_add_parameter(att, icalparameter_new_rsvp(ICAL_RSVP_TRUE));
	icalcomponent_add_property(clone, att);
	icalcomponent_add_property(clone, icalproperty_new_dtstamp(icaltime_current_time_with_zone(
						  icaltimezone_get_utc_timezone())));
	icalproperty *kind = icalproperty_new_x("CONFIRMATION");
	icalproperty_set_x_name(kind, "X-Kolab-InvitationType");
	icalcomponent_add_property(clone, kind);

	g_autoptr(icalcomponent) request = icalcomponent_new(ICAL_VCALENDAR_COMPONENT);
	icalcomponent_add_property(
		request, icalproperty_new_prodid("-//mailwarden//resources " MW_VERSION "//EN"));
	icalcomponent_add_property(request, icalproperty_new_version("2.0"));
	icalcomponent_add_property(request, icalproperty_new_method(ICAL_METHOD_REQUEST));
	icalcomponent_add_component(request, clone);
	mw_itip_add_timezones(request, vcal);

	g_autofree char *organizer = mw_itip_organizer(comp);
	icalproperty *corg = icalcomponent_get_first_property(comp, ICAL_ORGANIZER_PROPERTY);
	g_autofree char *when = times_of(ctx, vcal, comp);
	g_autofree char *who = participants(comp);
	g_autofree char *subject = g_strdup_printf(
		T(lang, N_("Booking request for %s requires confirmation")), entry->name);
	g_autofree char *body = g_strdup_printf(
		T(lang, N_("A reservation request for %s requires your approval!\nPlease either "
			   "accept or decline this invitation without saving it to your "
			   "calendar.\n\nThe reservation request was sent from %s <%s>.\n\n"
			   "Subject: %s\nDate: %s\nParticipants: %s\n")),
		entry->name, cn_of(corg) != NULL ? cn_of(corg) : (organizer ? organizer : ""),
		organizer ? organizer : "", summary_of(comp), when, who);
	MwItipMessageSpec ms = {
		.from_name = entry->name,
		.from = plus,
		.to_name = owner != NULL ? owner->name : NULL,
		.to = entry->owner,
		.subject = subject,
		.text = body,
		.calendar = request,
		.auto_submitted = "auto-generated",
		.domain = domain_of(entry->address),
	};
	GMimeMessage *message = mw_itip_message_new(&ms);
	return emit(ctx, entry->address, entry->owner, message, error);
}
