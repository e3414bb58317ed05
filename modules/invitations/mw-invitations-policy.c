/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-invitations-policy - invitation policy names, sender filters and
 *	evaluation order
 * SYNOPSIS
 *	mw_inv_policy_bits(), mw_inv_sender_matches(), mw_inv_policy_match(),
 *	mw_inv_policy_check()
 * DESCRIPTION
 *	Every name of Wallace's kolabInvitationPolicy (ALL_, EVENT_, TASK_ and
 *	the legacy ACT_ names) maps to action bits plus the object types it
 *	applies to. A value "NAME:filter" applies to senders whose address is
 *	the filter or whose domain is the filter or one of its subdomains;
 *	unlike Wallace this is no bare suffix match, so "example.org" does not
 *	match "badexample.org".
 */
#include <string.h>

#include "mw-invitations.h"

typedef struct {
	const char *name;
	guint bits;
} PolicyName;

/* the actions that exist as ALL_/EVENT_/TASK_ (and mostly ACT_) names */
static const PolicyName common_actions[] = {
	{"MANUAL", MW_INV_MANUAL},
	{"ACCEPT", MW_INV_ACCEPT},
	{"REJECT", MW_INV_REJECT},
	{"DELEGATE", MW_INV_DELEGATE},
	{"UPDATE", MW_INV_UPDATE},
	{"UPDATE_AND_NOTIFY", MW_INV_UPDATE | MW_INV_NOTIFY},
	{"SAVE_TO_FOLDER", MW_INV_SAVE_TO_FOLDER},
	{"SAVE_AND_FORWARD", MW_INV_SAVE_TO_FOLDER | MW_INV_FORWARD},
	{"CANCEL_DELETE", MW_INV_CANCEL_DELETE},
	{"CANCEL_DELETE_AND_NOTIFY", MW_INV_CANCEL_DELETE | MW_INV_NOTIFY},
	{NULL, 0},
};

/* event-only actions (EVENT_ and ACT_ names) */
static const PolicyName event_actions[] = {
	{"TENTATIVE", MW_INV_ACCEPT | MW_INV_TENTATIVE},
	{"ACCEPT_IF_NO_CONFLICT", MW_INV_ACCEPT | MW_INV_IF_AVAILABLE},
	{"TENTATIVE_IF_NO_CONFLICT", MW_INV_ACCEPT | MW_INV_TENTATIVE | MW_INV_IF_AVAILABLE},
	{"REJECT_IF_CONFLICT", MW_INV_REJECT | MW_INV_IF_CONFLICT},
	{"DELEGATE_IF_CONFLICT", MW_INV_DELEGATE | MW_INV_IF_CONFLICT},
	{NULL, 0},
};

/* lookup - @rest in @table, 0 if absent */
static guint
lookup(const PolicyName *table, const char *rest)
{
	for (guint i = 0; table[i].name != NULL; i++) {
		if (g_ascii_strcasecmp(table[i].name, rest) == 0)
			return table[i].bits;
	}
	return 0;
}

/**
 * mw_inv_policy_bits:
 * @name: a policy name without filter, any case
 * Returns: the action and type bits, 0 for an unknown name
 */
guint
mw_inv_policy_bits(const char *name)
{
	guint bits;
	if (g_ascii_strncasecmp(name, "ALL_", 4) == 0) {
		bits = lookup(common_actions, name + 4);
		return bits != 0 ? bits | MW_INV_TYPE_ALL : 0;
	}
	if (g_ascii_strncasecmp(name, "TASK_", 5) == 0) {
		bits = lookup(common_actions, name + 5);
		return bits != 0 ? bits | MW_INV_TYPE_TASK : 0;
	}
	if (g_ascii_strncasecmp(name, "EVENT_", 6) == 0) {
		bits = lookup(common_actions, name + 6);
		if (bits == 0)
			bits = lookup(event_actions, name + 6);
		return bits != 0 ? bits | MW_INV_TYPE_EVENT : 0;
	}
	if (g_ascii_strncasecmp(name, "ACT_", 4) == 0) {
		const char *rest = name + 4;
		/* legacy names: event+task, except the conflict, tentative and save ones */
		if (g_ascii_strcasecmp(rest, "SAVE_TO_CALENDAR") == 0)
			return MW_INV_SAVE_TO_FOLDER | MW_INV_TYPE_EVENT;
		if (g_ascii_strcasecmp(rest, "SAVE_AND_FORWARD") == 0)
			return MW_INV_SAVE_TO_FOLDER | MW_INV_FORWARD | MW_INV_TYPE_EVENT;
		bits = lookup(event_actions, rest);
		if (bits != 0)
			return bits | MW_INV_TYPE_EVENT;
		/* ALL_SAVE_TO_FOLDER has no ACT_ twin */
		if (g_ascii_strcasecmp(rest, "SAVE_TO_FOLDER") == 0)
			return 0;
		bits = lookup(common_actions, rest);
		return bits != 0 ? bits | MW_INV_TYPE_ALL : 0;
	}
	return 0;
}

/**
 * mw_inv_sender_matches:
 * @filter: "", "*", "user@domain" or "domain" (a leading "@" or "." is ignored)
 * @sender: (nullable): an address
 * Returns: whether the filter applies: an address must be equal, a domain must
 *   be the sender's domain or a parent domain of it (label boundary)
 */
gboolean
mw_inv_sender_matches(const char *filter, const char *sender)
{
	if (filter == NULL || *filter == '\0' || g_str_equal(filter, "*"))
		return TRUE;
	g_autofree char *bare = mw_itip_address(sender);
	if (bare == NULL)
		return FALSE;
	if (strchr(filter + 1, '@') != NULL)
		return mw_itip_address_equal(filter, bare);
	while (*filter == '@' || *filter == '.')
		filter++;
	if (*filter == '\0')
		return FALSE;
	const char *at = strrchr(bare, '@');
	const char *domain = at != NULL ? at + 1 : bare;
	gsize dlen = strlen(domain), flen = strlen(filter);
	if (dlen < flen || g_ascii_strcasecmp(domain + dlen - flen, filter) != 0)
		return FALSE;
	return dlen == flen || domain[dlen - flen - 1] == '.';
}

GArray *
mw_inv_policy_match(const char *const *values, const char *sender, guint type)
{
	GArray *out = g_array_new(FALSE, FALSE, sizeof(guint));
	for (guint i = 0; values != NULL && values[i] != NULL; i++) {
		g_autofree char *value = g_strstrip(g_strdup(values[i]));
		char *colon = strchr(value, ':');
		const char *filter = NULL;
		if (colon != NULL) {
			*colon = '\0';
			filter = g_strstrip(colon + 1);
		}
		guint bits = mw_inv_policy_bits(g_strstrip(value));
		if (bits == 0 || (bits & type) == 0 || !mw_inv_sender_matches(filter, sender))
			continue;
		g_array_append_val(out, bits);
	}
	if (out->len == 0) {
		guint manual = MW_INV_MANUAL | MW_INV_TYPE_ALL;
		g_array_append_val(out, manual);
	}
	return out;
}

gboolean
mw_inv_policy_check(const char *const *values, GError **error)
{
	for (guint i = 0; values != NULL && values[i] != NULL; i++) {
		g_autofree char *name = g_strstrip(g_strdup(values[i]));
		char *colon = strchr(name, ':');
		if (colon != NULL)
			*colon = '\0';
		if (mw_inv_policy_bits(g_strstrip(name)) == 0) {
			g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "unknown policy '%s'", name);
			return FALSE;
		}
	}
	return TRUE;
}
