/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-invitations - personal invitation policies of users (Wallace's
 *	invitationpolicy module)
 * SYNOPSIS
 *	[invitations] default_policy, autoupdate_other_attendees, verify_organizer,
 *	timezone
 * DESCRIPTION
 *	A recipient that the directory knows as a user, receiving an iTip
 *	REQUEST, REPLY or CANCEL (events and tasks), is handled on its own by
 *	its own policy list (the user's `policy`, else default_policy):
 *	PROCESSED consumes only this recipient's copy, FORWARD or no applying
 *	policy delivers it; other recipients are not affected. Only the first
 *	iTip object of a message is looked at (as in Wallace). A REQUEST or
 *	CANCEL whose ORGANIZER is not the envelope sender, or a REPLY whose
 *	attendee is not, is delivered untouched. A calendar store failure or
 *	a lock timeout fails process() with MW_ERROR_BACKEND (on_error,
 *	default tempfail).
 * SEE ALSO
 *	README.md, src/itip/
 */
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "mw-invitations.h"

static const MwOption invitations_options[] = {
	{.key = "default_policy",
	 .type = MW_OPT_STRING,
	 .default_value = "ALL_MANUAL",
	 .offset = offsetof(MwInvitationsConfig, default_policy),
	 .help = "policies of users without their own (comma-separated, tried in order)"},
	{.key = "autoupdate_other_attendees",
	 .type = MW_OPT_BOOL,
	 .default_value = "false",
	 .offset = offsetof(MwInvitationsConfig, autoupdate_other_attendees),
	 .help = "after a REPLY, update the attendee list in other local attendees' copies"},
	{.key = "verify_organizer",
	 .type = MW_OPT_BOOL,
	 .default_value = "true",
	 .offset = offsetof(MwInvitationsConfig, verify_organizer),
	 .help = "process only iTip messages whose ORGANIZER (REPLY: attendee) is the sender"},
	{.key = "timezone",
	 .type = MW_OPT_STRING,
	 .default_value = "UTC",
	 .offset = offsetof(MwInvitationsConfig, timezone),
	 .help = "time zone of all-day and floating events and of times in notifications"},
	MW_OPTION_END,
};

static void
invitations_finalize(MwModule *module)
{
	MwInvitations *inv = module->priv;
	if (inv == NULL)
		return;
	g_free(inv->zone_name);
	g_strfreev(inv->default_policy);
	g_free(inv->resource_policy);
	g_clear_pointer(&inv->users, mw_inv_users_free);
	g_clear_pointer(&inv->store, mw_calstore_free);
	g_free(inv);
	module->priv = NULL;
}

static gboolean
invitations_configure(MwModule *module, GError **error)
{
	MwInvitationsConfig *cfg = module->config;
	g_autoptr(GString) problems = g_string_new(NULL);
	MwInvitations *inv = g_new0(MwInvitations, 1);
	module->priv = inv;
	inv->autoupdate = cfg->autoupdate_other_attendees;
	inv->verify_organizer = cfg->verify_organizer;
	inv->zone_name =
		g_strdup(cfg->timezone != NULL && *cfg->timezone != '\0' ? cfg->timezone : "UTC");
	inv->zone = mw_itip_zone_lookup(inv->zone_name);
	if (inv->zone == NULL)
		g_string_append_printf(problems, "timezone: unknown time zone '%s'; ",
				       inv->zone_name);
	g_auto(GStrv) values =
		g_strsplit(cfg->default_policy != NULL ? cfg->default_policy : "", ",", -1);
	g_autoptr(GPtrArray) policy = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; values[i] != NULL; i++) {
		g_autofree char *value = g_strstrip(g_strdup(values[i]));
		if (*value == '\0')
			continue;
		const char *one[] = {value, NULL};
		g_autoptr(GError) bad = NULL;
		if (!mw_inv_policy_check(one, &bad))
			g_string_append_printf(problems, "default_policy: %s; ", bad->message);
		else
			g_ptr_array_add(policy, g_steal_pointer(&value));
	}
	g_ptr_array_add(policy, NULL);
	inv->default_policy = (char **) g_ptr_array_free(g_steal_pointer(&policy), FALSE);
	/* resources answer by the resources module's default unless they have their own */
	inv->resource_policy = module->core->keyfile != NULL
				       ? g_key_file_get_string(module->core->keyfile, "resources",
							       "default_policy", NULL)
				       : NULL;
	if (inv->resource_policy == NULL)
		inv->resource_policy = g_strdup("ACT_ACCEPT");
	if (module->core->directory == NULL || *module->core->directory == '\0')
		g_string_append(problems, "the [mailwarden] directory key is required; ");
	if (module->core->calendars == NULL || *module->core->calendars == '\0')
		g_string_append(problems, "the [mailwarden] calendars key is required; ");
	else if (!g_str_has_prefix(module->core->calendars, "dir:"))
		g_string_append_printf(problems,
				       "calendars: '%s' is not a supported store (dir:PATH); ",
				       module->core->calendars);
	if (problems->len > 0) {
		g_string_truncate(problems, problems->len - 2);
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "%s", problems->str);
		return FALSE;
	}
	return TRUE;
}

/* start - the users are read in the master (again on SIGHUP) */
static gboolean
invitations_start(MwModule *module, GError **error)
{
	MwInvitations *inv = module->priv;
	g_clear_pointer(&inv->users, mw_inv_users_free);
	inv->users = mw_inv_users_open(module->core->directory, error);
	return inv->users != NULL;
}

/* worker_init - the store is opened by the workers, which run as the configured user */
static gboolean
invitations_worker_init(MwModule *module, GError **error)
{
	MwInvitations *inv = module->priv;
	g_clear_pointer(&inv->store, mw_calstore_free);
	inv->store = mw_calstore_open(module->core->calendars, error);
	return inv->store != NULL;
}

static void
invitations_worker_exit(MwModule *module)
{
	MwInvitations *inv = module->priv;
	if (inv != NULL)
		g_clear_pointer(&inv->store, mw_calstore_free);
}

static gboolean
invitations_check(MwModule *module, GError **error)
{
	g_autoptr(MwInvUsers) users = mw_inv_users_open(module->core->directory, error);
	if (users == NULL)
		return FALSE;
	return mw_calstore_check(module->core->calendars, error);
}

/* organizer_is_sender - ORGANIZER (or its SENT-BY) of every component is @sender */
static gboolean
organizer_is_sender(MwItip *itip, const char *sender)
{
	gboolean any = FALSE;
	for (icalcomponent *comp =
		     icalcomponent_get_first_component(itip->vcal, ICAL_ANY_COMPONENT);
	     comp != NULL;
	     comp = icalcomponent_get_next_component(itip->vcal, ICAL_ANY_COMPONENT)) {
		icalcomponent_kind kind = icalcomponent_isa(comp);
		if (kind != ICAL_VEVENT_COMPONENT && kind != ICAL_VTODO_COMPONENT)
			continue;
		icalproperty *org = icalcomponent_get_first_property(comp, ICAL_ORGANIZER_PROPERTY);
		if (org == NULL)
			return FALSE;
		icalparameter *sent_by =
			icalproperty_get_first_parameter(org, ICAL_SENTBY_PARAMETER);
		if (!mw_itip_address_equal(icalproperty_get_organizer(org), sender) &&
		    (sent_by == NULL ||
		     !mw_itip_address_equal(icalparameter_get_sentby(sent_by), sender)))
			return FALSE;
		any = TRUE;
	}
	return any;
}

static gboolean
invitations_process(MwModule *module, MwTxn *txn, GError **error)
{
	MwInvitations *inv = module->priv;
	g_autoptr(GPtrArray) targets = g_ptr_array_new();
	g_autoptr(GPtrArray) users = g_ptr_array_new();

	/* only recipients that are local users make us look at the message at all */
	for (guint i = 0; i < txn->rcpts->len; i++) {
		MwTxnRcpt *rcpt = g_ptr_array_index(txn->rcpts, i);
		if (rcpt->verdict != MW_VERDICT_CONTINUE)
			continue;
		const MwInvUser *user = mw_inv_users_lookup(inv->users, rcpt->rcpt->address);
		if (user == NULL || user->resource ||
		    !mw_config_is_local_address(txn->config, rcpt->rcpt->address))
			continue;
		g_ptr_array_add(targets, rcpt);
		g_ptr_array_add(users, (gpointer) user);
	}
	if (targets->len == 0)
		return TRUE;

	MwTxnRcpt *first = g_ptr_array_index(targets, 0);
	GMimeMessage *mime = mw_delivery_get_mime(first->delivery, NULL);
	if (mime == NULL)
		return TRUE;
	g_autoptr(GPtrArray) itips = mw_itip_read_message(mime, MW_ITIP_READ_VTODO);
	if (itips->len == 0)
		return TRUE;
	MwItip *itip = g_ptr_array_index(itips, 0);

	MwInvCtx ctx = {
		.module = module,
		.inv = inv,
		.txn = txn,
		.sender = txn->envelope->sender != NULL ? txn->envelope->sender : "",
		.message_id = g_mime_message_get_message_id(mime),
	};
	ctx.no_reply = *ctx.sender == '\0' || mw_itip_is_auto_reply(mime);
	gboolean is_reply = g_str_equal(itip->method, "REPLY");
	if (!is_reply && inv->verify_organizer && !organizer_is_sender(itip, ctx.sender)) {
		mw_txn_log(txn, G_LOG_LEVEL_WARNING,
			   "invitations: %s %s: the ORGANIZER is not the sender <%s>, delivered "
			   "untouched",
			   itip->method, itip->uid, ctx.sender);
		mw_txn_note(txn, MW_INVITATIONS, "unverified");
		return TRUE;
	}
	mw_itip_time_init(&ctx.t, inv->zone);
	g_autoptr(GString) note = g_string_new(NULL);
	ctx.note = note;
	/* a user addressed twice (address and alias) is handled once */
	g_autoptr(GHashTable) done = g_hash_table_new(g_direct_hash, g_direct_equal);
	for (guint i = 0; i < targets->len; i++) {
		MwTxnRcpt *rcpt = g_ptr_array_index(targets, i);
		const MwInvUser *user = g_ptr_array_index(users, i);
		MwInvOutcome outcome = MW_INV_OUT_PASS;
		gboolean ok = TRUE;
		gpointer before = NULL;
		ctx.conflict = -1;
		if (g_hash_table_lookup_extended(done, user, NULL, &before))
			outcome = GPOINTER_TO_INT(before);
		else if (g_str_equal(itip->method, "REQUEST"))
			ok = mw_inv_request(&ctx, itip, user, &outcome, error);
		else if (is_reply)
			ok = mw_inv_reply(&ctx, itip, user, &outcome, error);
		else if (g_str_equal(itip->method, "CANCEL"))
			ok = mw_inv_cancel(&ctx, itip, user, &outcome, error);
		if (!ok)
			return FALSE;
		g_hash_table_insert(done, (gpointer) user, GINT_TO_POINTER(outcome));
		if (outcome == MW_INV_OUT_PROCESSED)
			mw_txn_verdict(txn, rcpt, MW_VERDICT_CONSUMED, MW_INVITATIONS,
				       "2.0.0 Processed by the invitation policy");
		else if (outcome == MW_INV_OUT_FORWARD)
			mw_txn_log(txn, G_LOG_LEVEL_INFO, "invitations: %s %s delivered to %s",
				   itip->method, itip->uid, user->address);
	}
	if (note->len > 0)
		mw_txn_note(txn, MW_INVITATIONS, "%s", note->str);
	return TRUE;
}

const MwModuleClass mw_invitations_module = {
	.name = MW_INVITATIONS,
	.abi = MW_MODULE_ABI,
	.options = invitations_options,
	.config_size = sizeof(MwInvitationsConfig),
	.on_error_default = MW_ON_ERROR_TEMPFAIL,
	.configure = invitations_configure,
	.start = invitations_start,
	.check = invitations_check,
	.worker_init = invitations_worker_init,
	.process = invitations_process,
	.worker_exit = invitations_worker_exit,
	.finalize = invitations_finalize,
};
