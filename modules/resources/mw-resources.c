/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-resources - the resources module: rooms and equipment answer iTip
 * SYNOPSIS
 *	mw_resources_module
 * DESCRIPTION
 *	A recipient that the directory knows as a resource or a collection
 *	of resources, of an iTip REQUEST, CANCEL or REPLY that lists it, is
 *	handled here and its copy consumed (MW_VERDICT_CONSUMED); every other
 *	recipient of the same message gets it untouched. Mail to no resource
 *	is not even parsed.
 *
 *	configure() checks the section, start() loads the directory in the
 *	master before the workers fork (and again on SIGHUP with the new
 *	configuration, so directory changes take effect without dropping
 *	connections); each worker opens the calendar store in worker_init(),
 *	as the user it runs as. Bookings, replies and
 *	notifications are in the other mw-resources-*.c files. A broken
 *	store or lock timeout fails process() with MW_ERROR_BACKEND, and the
 *	section's on_error (default tempfail) applies: Postfix retries, and
 *	the retry books nothing twice.
 * SEE ALSO
 *	README.md, src/itip/
 */
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "mw-resources.h"

static const MwOption resources_options[] = {
	{.key = "timezone",
	 .type = MW_OPT_STRING,
	 .default_value = "UTC",
	 .offset = offsetof(MwResourcesConfig, timezone),
	 .help = "time zone of all-day and floating events and of the times in notifications"},
	{.key = "verify_organizer",
	 .type = MW_OPT_BOOL,
	 .default_value = "true",
	 .offset = offsetof(MwResourcesConfig, verify_organizer),
	 .help = "book only invitations whose ORGANIZER is the envelope sender"},
	{.key = "expire_days",
	 .type = MW_OPT_INT,
	 .default_value = "100",
	 .offset = offsetof(MwResourcesConfig, expire_days),
	 .min = 0,
	 .max = 100000,
	 .help = "remove bookings that ended this many days ago (0: never)"},
	{.key = "default_policy",
	 .type = MW_OPT_STRING,
	 .default_value = "ACT_ACCEPT",
	 .offset = offsetof(MwResourcesConfig, default_policy),
	 .help = "policy of resources and collections without their own: ACT_ACCEPT, "
		 "ACT_REJECT, ACT_MANUAL, ACT_ACCEPT_AND_NOTIFY, ACT_STORE_AND_NOTIFY"},
	MW_OPTION_END,
};

static void
resources_finalize(MwModule *module)
{
	MwResources *res = module->priv;
	if (res == NULL)
		return;
	g_free(res->zone_name);
	g_strfreev(res->default_policy);
	g_clear_pointer(&res->directory, mw_directory_free);
	g_clear_pointer(&res->store, mw_calstore_free);
	g_clear_pointer(&res->i18n, mw_res_i18n_free);
	g_free(res->memo_dir);
	g_free(res);
	module->priv = NULL;
}

static gboolean
resources_configure(MwModule *module, GError **error)
{
	MwResourcesConfig *cfg = module->config;
	g_autoptr(GString) problems = g_string_new(NULL);
	MwResources *res = g_new0(MwResources, 1);
	module->priv = res;

	res->zone_name =
		g_strdup(cfg->timezone != NULL && *cfg->timezone != '\0' ? cfg->timezone : "UTC");
	res->zone = mw_itip_zone_lookup(res->zone_name);
	if (res->zone == NULL)
		g_string_append_printf(problems, "timezone: unknown time zone '%s'; ",
				       res->zone_name);
	g_auto(GStrv) values =
		g_strsplit(cfg->default_policy != NULL ? cfg->default_policy : "", ",", -1);
	g_autoptr(GPtrArray) policy = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; values[i] != NULL; i++) {
		g_autofree char *value = g_strstrip(g_strdup(values[i]));
		if (*value == '\0')
			continue;
		if (!mw_dir_policy_valid(value))
			g_string_append_printf(problems, "default_policy: unknown value '%s'; ",
					       value);
		else
			g_ptr_array_add(policy, g_ascii_strup(value, -1));
	}
	g_ptr_array_add(policy, NULL);
	res->default_policy = (char **) g_ptr_array_free(g_steal_pointer(&policy), FALSE);
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
	res->memo_dir = g_build_filename(module->core->state_dir, "resources", "answered", NULL);
	return TRUE;
}

static gboolean
resources_start(MwModule *module, GError **error)
{
	MwResources *res = module->priv;
	g_clear_pointer(&res->directory, mw_directory_free);
	g_clear_pointer(&res->store, mw_calstore_free);
	g_clear_pointer(&res->i18n, mw_res_i18n_free);
	res->directory = mw_directory_open(module->core->directory, error);
	if (res->directory == NULL)
		return FALSE;
	res->i18n = mw_res_i18n_load(error);
	return res->i18n != NULL;
}

/* worker_init - the store is opened by the workers: they run as the configured user, and a
 * calendar folder the master created as root would not be theirs */
static gboolean
resources_worker_init(MwModule *module, GError **error)
{
	MwResources *res = module->priv;
	g_clear_pointer(&res->store, mw_calstore_free);
	res->store = mw_calstore_open(module->core->calendars, error);
	return res->store != NULL;
}

static void
resources_worker_exit(MwModule *module)
{
	MwResources *res = module->priv;
	if (res != NULL)
		g_clear_pointer(&res->store, mw_calstore_free);
}

static gboolean
resources_check(MwModule *module, GError **error)
{
	g_autoptr(MwDirectory) dir = mw_directory_open(module->core->directory, error);
	if (dir == NULL)
		return FALSE;
	return mw_calstore_check(module->core->calendars, error);
}

/* lists_entry - whether a component of @itip names @entry (attendee, or organizer for REPLY) */
static gboolean
lists_entry(MwItip *itip, const MwDirEntry *entry, gboolean organizer_too)
{
	for (icalcomponent *comp =
		     icalcomponent_get_first_component(itip->vcal, ICAL_ANY_COMPONENT);
	     comp != NULL;
	     comp = icalcomponent_get_next_component(itip->vcal, ICAL_ANY_COMPONENT)) {
		icalcomponent_kind kind = icalcomponent_isa(comp);
		if (kind != ICAL_VEVENT_COMPONENT)
			continue;
		if (mw_itip_find_attendee(comp, entry->address,
					  (const char *const *) entry->aliases) != NULL)
			return TRUE;
		if (organizer_too) {
			g_autofree char *organizer = mw_itip_organizer(comp);
			g_autofree char *bare =
				organizer != NULL ? mw_res_split_address(organizer, NULL) : NULL;
			if (bare != NULL && mw_directory_entry_has_address(entry, bare))
				return TRUE;
		}
	}
	return FALSE;
}

/* handle_rcpt - the iTips for one resource recipient; FALSE only on a backend failure */
static gboolean
handle_rcpt(MwResCtx *ctx, MwTxnRcpt *rcpt, GPtrArray *itips, GError **error)
{
	g_autofree char *token = NULL;
	g_autofree char *bare = mw_res_split_address(rcpt->rcpt->address, &token);
	const MwDirEntry *entry = mw_directory_lookup(ctx->res->directory, bare);
	gboolean handled = FALSE;
	for (guint i = 0; i < itips->len; i++) {
		MwItip *itip = g_ptr_array_index(itips, i);
		gboolean is_reply = g_str_equal(itip->method, "REPLY");
		if (!lists_entry(itip, entry, is_reply))
			continue;
		handled = TRUE;
		gboolean ok = TRUE;
		if (is_reply) {
			if (token != NULL && entry->kind == MW_DIR_RESOURCE)
				ok = mw_res_confirmation_reply(ctx, itip, entry, token, error);
			else
				mw_txn_log(ctx->txn, G_LOG_LEVEL_INFO,
					   "resources: REPLY for %s (%s) needs no action",
					   entry->address, itip->uid);
		} else if (g_str_equal(itip->method, "REQUEST")) {
			ok = mw_res_request(ctx, itip, entry, error);
		} else if (g_str_equal(itip->method, "CANCEL")) {
			ok = mw_res_cancel(ctx, itip, entry, error);
		}
		if (!ok)
			return FALSE;
	}
	if (handled) {
		mw_txn_verdict(ctx->txn, rcpt, MW_VERDICT_CONSUMED, MW_RESOURCES,
			       "2.0.0 Handled by the resource scheduler");
	} else {
		mw_txn_log(ctx->txn, G_LOG_LEVEL_INFO,
			   "resources: %s is not listed in the iTip message, passed on",
			   entry->address);
	}
	return TRUE;
}

static gboolean
resources_process(MwModule *module, MwTxn *txn, GError **error)
{
	MwResources *res = module->priv;
	g_autoptr(GPtrArray) targets = g_ptr_array_new();

	mw_res_expire_maybe(module);
	/* only recipients that are resources make us look at the message at all */
	for (guint i = 0; i < txn->rcpts->len; i++) {
		MwTxnRcpt *rcpt = g_ptr_array_index(txn->rcpts, i);
		if (rcpt->verdict != MW_VERDICT_CONTINUE)
			continue;
		g_autofree char *bare = mw_res_split_address(rcpt->rcpt->address, NULL);
		const MwDirEntry *entry = mw_directory_lookup(res->directory, bare);
		if (entry != NULL && entry->kind != MW_DIR_USER)
			g_ptr_array_add(targets, rcpt);
	}
	if (targets->len == 0)
		return TRUE;

	MwTxnRcpt *first = g_ptr_array_index(targets, 0);
	GMimeMessage *mime = mw_delivery_get_mime(first->delivery, NULL);
	if (mime == NULL)
		return TRUE;
	g_autoptr(GPtrArray) itips = mw_itip_read_message(mime, 0);
	if (itips->len == 0)
		return TRUE;

	MwResCtx ctx = {
		.module = module,
		.res = res,
		.txn = txn,
		.sender = txn->envelope->sender != NULL ? txn->envelope->sender : "",
		.message_id = g_mime_message_get_message_id(mime),
	};
	ctx.no_reply = *ctx.sender == '\0' || mw_itip_is_auto_reply(mime);
	mw_itip_time_init(&ctx.t, res->zone);
	g_autoptr(GString) note = g_string_new(NULL);
	ctx.note = note;
	for (guint i = 0; i < targets->len; i++) {
		if (!handle_rcpt(&ctx, g_ptr_array_index(targets, i), itips, error))
			return FALSE;
	}
	if (note->len > 0)
		mw_txn_note(txn, MW_RESOURCES, "%s", note->str);
	return TRUE;
}

const MwModuleClass mw_resources_module = {
	.name = MW_RESOURCES,
	.abi = MW_MODULE_ABI,
	.options = resources_options,
	.config_size = sizeof(MwResourcesConfig),
	.on_error_default = MW_ON_ERROR_TEMPFAIL,
	.configure = resources_configure,
	.start = resources_start,
	.check = resources_check,
	.worker_init = resources_worker_init,
	.process = resources_process,
	.worker_exit = resources_worker_exit,
	.finalize = resources_finalize,
};
