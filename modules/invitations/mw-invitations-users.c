/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-invitations-users - the users of the directory file with their
 *	invitation policies
 * SYNOPSIS
 *	mw_inv_users_open(), mw_inv_users_load_data(), mw_inv_users_lookup(),
 *	mw_inv_users_free()
 * DESCRIPTION
 *	Reads the [user:ADDR] sections (name, aliases, policy) of the same INI
 *	file as src/itip/mw-directory. The shared loader accepts only the five
 *	resource policy names (ACT_ACCEPT ...) and refuses the whole file for
 *	any other, so the personal policies of §4.1 (ALL_UPDATE, EVENT_...:
 *	filter) are read here; other sections and keys are left to the shared
 *	loader. Unknown policy names are ignored when matching. Resources and
 *	collections are kept too (flagged), for the organizer's consolidated
 *	participation summary: they answer on their own.
 */
#include <string.h>

#include "mw-invitations.h"

struct _MwInvUsers {
	GPtrArray *entries;  /* MwInvUser * */
	GHashTable *by_addr; /* address or alias -> MwInvUser * (borrowed) */
};

static void
user_free(gpointer data)
{
	MwInvUser *user = data;
	g_free(user->address);
	g_free(user->name);
	g_strfreev(user->aliases);
	g_strfreev(user->policy);
	g_free(user);
}

void
mw_inv_users_free(MwInvUsers *users)
{
	if (users == NULL)
		return;
	g_hash_table_unref(users->by_addr);
	g_ptr_array_unref(users->entries);
	g_free(users);
}

/* split_list - a comma-separated value as trimmed, non-empty items (lower case if @down) */
static char **
split_list(const char *text, gboolean down)
{
	g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
	g_auto(GStrv) parts = g_strsplit(text != NULL ? text : "", ",", -1);
	for (guint i = 0; parts[i] != NULL; i++) {
		char *item = g_strstrip(parts[i]);
		if (*item == '\0')
			continue;
		g_ptr_array_add(out, down ? mw_itip_address(item) : g_strdup(item));
	}
	g_ptr_array_add(out, NULL);
	return (char **) g_ptr_array_free(g_steal_pointer(&out), FALSE);
}

/* from_keyfile - the users of @kf */
static MwInvUsers *
from_keyfile(GKeyFile *kf, GError **error)
{
	g_autoptr(MwInvUsers) users = g_new0(MwInvUsers, 1);
	users->entries = g_ptr_array_new_with_free_func(user_free);
	users->by_addr = g_hash_table_new(g_str_hash, g_str_equal);
	g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
	for (guint i = 0; groups[i] != NULL; i++) {
		const char *colon = strchr(groups[i], ':');
		gboolean is_user = g_ascii_strncasecmp(groups[i], "user:", 5) == 0;
		if (!is_user && g_ascii_strncasecmp(groups[i], "resource:", 9) != 0 &&
		    g_ascii_strncasecmp(groups[i], "collection:", 11) != 0)
			continue;
		MwInvUser *user = g_new0(MwInvUser, 1);
		g_ptr_array_add(users->entries, user);
		user->resource = !is_user;
		user->address = mw_itip_address(colon + 1);
		if (user->address == NULL) {
			g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "[%s]: no address",
				    groups[i]);
			return NULL;
		}
		user->name = g_key_file_get_string(kf, groups[i], "name", NULL);
		if (user->name == NULL)
			user->name = g_strdup(user->address);
		g_autofree char *aliases = g_key_file_get_value(kf, groups[i], "aliases", NULL);
		user->aliases = split_list(aliases, TRUE);
		g_autofree char *policy = g_key_file_get_value(kf, groups[i], "policy", NULL);
		user->policy = split_list(policy, FALSE);
		g_hash_table_replace(users->by_addr, user->address, user);
		for (guint a = 0; user->aliases[a] != NULL; a++)
			g_hash_table_replace(users->by_addr, user->aliases[a], user);
	}
	return g_steal_pointer(&users);
}

/**
 * mw_inv_users_open:
 * @spec: the directory file ("PATH" or "file:PATH")
 * Returns: (transfer full): the users; MW_ERROR_CONFIG when unreadable
 */
MwInvUsers *
mw_inv_users_open(const char *spec, GError **error)
{
	const char *path = g_str_has_prefix(spec, "file:") ? spec + 5 : spec;
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GError) local = NULL;
	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &local)) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "directory %s: %s", path,
			    local->message);
		return NULL;
	}
	return from_keyfile(kf, error);
}

MwInvUsers *
mw_inv_users_load_data(const char *data, GError **error)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GError) local = NULL;
	if (!g_key_file_load_from_data(kf, data, (gsize) -1, G_KEY_FILE_NONE, &local)) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "directory: %s", local->message);
		return NULL;
	}
	return from_keyfile(kf, error);
}

const MwInvUser *
mw_inv_users_lookup(MwInvUsers *users, const char *address)
{
	g_autofree char *bare = mw_itip_address(address);
	return bare != NULL ? g_hash_table_lookup(users->by_addr, bare) : NULL;
}
