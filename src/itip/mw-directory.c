/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-directory - users, resources, collections and their owners
 * SYNOPSIS
 *	mw_directory_new(), mw_directory_open(), mw_directory_load_data(),
 *	mw_directory_free(), mw_directory_lookup(),
 *	mw_directory_entry_has_address(), mw_dir_policy_valid()
 * DESCRIPTION
 *	The INI backend reads sections [user:ADDR], [resource:ADDR] and
 *	[collection:ADDR] with the keys name, aliases, owner, members (only
 *	collections), policy, language and phone. Every address and alias is
 *	indexed in lower case, so lookups ignore case (Wallace compared
 *	exactly and failed on aliases). After loading, a resource without
 *	owner or policy takes them from the first collection listing it.
 *	The whole file is checked at load time; a directory that loaded is
 *	read-only, so workers forked after the load share it.
 */
#include <string.h>

#include "mw-directory.h"
#include "mw-error.h"
#include "mw-itip.h"

struct _MwDirectory {
	const MwDirectoryBackend *backend;
	gpointer data;
};

static const char *const policy_values[] = {"ACT_ACCEPT",           "ACT_REJECT",
					    "ACT_MANUAL",           "ACT_ACCEPT_AND_NOTIFY",
					    "ACT_STORE_AND_NOTIFY", NULL};

/* mw_dir_policy_valid - one of ACT_ACCEPT, ACT_REJECT, ACT_MANUAL, ACT_ACCEPT_AND_NOTIFY,
 * ACT_STORE_AND_NOTIFY */
gboolean
mw_dir_policy_valid(const char *value)
{
	for (guint i = 0; policy_values[i] != NULL; i++) {
		if (g_ascii_strcasecmp(value, policy_values[i]) == 0)
			return TRUE;
	}
	return FALSE;
}

/* mw_directory_new - a directory over @backend (takes @data) */
MwDirectory *
mw_directory_new(const MwDirectoryBackend *backend, gpointer data)
{
	MwDirectory *dir = g_new0(MwDirectory, 1);
	dir->backend = backend;
	dir->data = data;
	return dir;
}

/* mw_directory_load_data - the same from a string (tests) */
void
mw_directory_free(MwDirectory *dir)
{
	if (dir == NULL)
		return;
	if (dir->backend->free != NULL)
		dir->backend->free(dir->data);
	g_free(dir);
}

/* mw_directory_lookup - the entry of @address ("Room@X", "mailto:room@x"), or NULL */
const MwDirEntry *
mw_directory_lookup(MwDirectory *dir, const char *address)
{
	g_autofree char *bare = mw_itip_address(address);
	if (dir == NULL || bare == NULL)
		return NULL;
	return dir->backend->lookup(dir->data, bare);
}

/* mw_directory_entry_has_address - @address is @entry's address or an alias */
gboolean
mw_directory_entry_has_address(const MwDirEntry *entry, const char *address)
{
	if (mw_itip_address_equal(entry->address, address))
		return TRUE;
	for (guint i = 0; entry->aliases != NULL && entry->aliases[i] != NULL; i++) {
		if (mw_itip_address_equal(entry->aliases[i], address))
			return TRUE;
	}
	return FALSE;
}

/* --- the INI backend ------------------------------------------------------ */

typedef struct {
	GPtrArray *entries;     /* MwDirEntry *, owned */
	GHashTable *by_address; /* lower-case address or alias -> MwDirEntry * */
} IniDirectory;

static void
entry_free(MwDirEntry *entry)
{
	g_free(entry->address);
	g_free(entry->name);
	g_strfreev(entry->aliases);
	g_free(entry->owner);
	g_strfreev(entry->members);
	g_strfreev(entry->policy);
	g_free(entry->language);
	g_free(entry->phone);
	g_free(entry->collection);
	g_free(entry);
}

static void
ini_free(gpointer data)
{
	IniDirectory *ini = data;
	g_hash_table_unref(ini->by_address);
	g_ptr_array_unref(ini->entries);
	g_free(ini);
}

static const MwDirEntry *
ini_lookup(gpointer data, const char *address)
{
	IniDirectory *ini = data;
	return g_hash_table_lookup(ini->by_address, address);
}

static const MwDirectoryBackend ini_backend = {
	.name = "file",
	.lookup = ini_lookup,
	.free = ini_free,
};

/* address_list - a comma-separated list of addresses, normalised */
static char **
address_list(GKeyFile *kf, const char *group, const char *key)
{
	g_autofree char *value = g_key_file_get_value(kf, group, key, NULL);
	g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
	if (value != NULL) {
		g_auto(GStrv) items = g_strsplit(value, ",", -1);
		for (guint i = 0; items[i] != NULL; i++) {
			char *address = mw_itip_address(items[i]);
			if (address != NULL)
				g_ptr_array_add(out, address);
		}
	}
	g_ptr_array_add(out, NULL);
	return (char **) g_ptr_array_free(g_steal_pointer(&out), FALSE);
}

/* string_value - a trimmed value, NULL when absent or empty */
static char *
string_value(GKeyFile *kf, const char *group, const char *key)
{
	char *value = g_key_file_get_value(kf, group, key, NULL);
	if (value == NULL)
		return NULL;
	g_strstrip(value);
	if (*value == '\0') {
		g_free(value);
		return NULL;
	}
	return value;
}

/* check_keys - unknown keys are errors: a typo must not silently drop an owner */
static void
check_keys(GKeyFile *kf, const char *group, MwDirKind kind, GString *problems)
{
	static const char *const common[] = {"name",     "aliases", "owner", "policy",
					     "language", "phone",   NULL};
	g_auto(GStrv) keys = g_key_file_get_keys(kf, group, NULL, NULL);
	for (guint i = 0; keys != NULL && keys[i] != NULL; i++) {
		if (g_strv_contains(common, keys[i]))
			continue;
		if (kind == MW_DIR_COLLECTION && strcmp(keys[i], "members") == 0)
			continue;
		g_string_append_printf(problems, "[%s] unknown key '%s'\n", group, keys[i]);
	}
}

/* index_address - register @address for @entry; duplicates are errors */
static void
index_address(IniDirectory *ini, const char *address, MwDirEntry *entry, GString *problems)
{
	MwDirEntry *other = g_hash_table_lookup(ini->by_address, address);
	if (other != NULL && other != entry) {
		g_string_append_printf(problems, "address %s is used by %s and %s\n", address,
				       other->address, entry->address);
		return;
	}
	g_hash_table_insert(ini->by_address, g_strdup(address), entry);
}

/* load_keyfile - entries of @kf; problems appended */
static IniDirectory *
load_keyfile(GKeyFile *kf, GString *problems)
{
	IniDirectory *ini = g_new0(IniDirectory, 1);
	ini->entries = g_ptr_array_new_with_free_func((GDestroyNotify) entry_free);
	ini->by_address = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
	for (guint i = 0; groups[i] != NULL; i++) {
		const char *group = groups[i];
		const char *colon = strchr(group, ':');
		MwDirKind kind;
		if (colon == NULL) {
			g_string_append_printf(problems, "[%s] unknown section\n", group);
			continue;
		}
		g_autofree char *prefix = g_strndup(group, colon - group);
		if (g_ascii_strcasecmp(prefix, "user") == 0)
			kind = MW_DIR_USER;
		else if (g_ascii_strcasecmp(prefix, "resource") == 0)
			kind = MW_DIR_RESOURCE;
		else if (g_ascii_strcasecmp(prefix, "collection") == 0)
			kind = MW_DIR_COLLECTION;
		else {
			g_string_append_printf(problems, "[%s] unknown section\n", group);
			continue;
		}
		g_autofree char *address = mw_itip_address(colon + 1);
		if (address == NULL || strchr(address, '@') == NULL) {
			g_string_append_printf(problems, "[%s] is not an address\n", group);
			continue;
		}
		check_keys(kf, group, kind, problems);
		MwDirEntry *entry = g_new0(MwDirEntry, 1);
		entry->kind = kind;
		entry->address = g_steal_pointer(&address);
		entry->name = string_value(kf, group, "name");
		if (entry->name == NULL)
			entry->name = g_strdup(entry->address);
		entry->aliases = address_list(kf, group, "aliases");
		g_autofree char *owner = string_value(kf, group, "owner");
		entry->owner = mw_itip_address(owner);
		entry->members = address_list(kf, group, "members");
		entry->language = string_value(kf, group, "language");
		entry->phone = string_value(kf, group, "phone");
		g_autofree char *policy_text = g_key_file_get_value(kf, group, "policy", NULL);
		g_auto(GStrv) policy =
			policy_text != NULL ? g_strsplit(policy_text, ",", -1) : NULL;
		g_autoptr(GPtrArray) values = g_ptr_array_new_with_free_func(g_free);
		for (guint p = 0; policy != NULL && policy[p] != NULL; p++) {
			g_autofree char *value = g_strstrip(g_strdup(policy[p]));
			if (*value == '\0')
				continue;
			/* a user's policies are the invitations module's (ALL_*, EVENT_*,
			 * TASK_* with optional :filter): that module checks them */
			if (kind == MW_DIR_USER) {
				g_ptr_array_add(values, g_steal_pointer(&value));
				continue;
			}
			if (!mw_dir_policy_valid(value)) {
				g_string_append_printf(problems,
						       "[%s] policy: unknown value '%s'\n", group,
						       value);
				continue;
			}
			g_ptr_array_add(values, g_ascii_strup(value, -1));
		}
		g_ptr_array_add(values, NULL);
		entry->policy = (char **) g_ptr_array_free(g_steal_pointer(&values), FALSE);
		g_ptr_array_add(ini->entries, entry);
		index_address(ini, entry->address, entry, problems);
		for (guint a = 0; entry->aliases[a] != NULL; a++)
			index_address(ini, entry->aliases[a], entry, problems);
	}

	/* collections: members must be resources; they inherit owner and policy */
	for (guint i = 0; i < ini->entries->len; i++) {
		MwDirEntry *coll = g_ptr_array_index(ini->entries, i);
		if (coll->kind != MW_DIR_COLLECTION)
			continue;
		for (guint m = 0; coll->members[m] != NULL; m++) {
			MwDirEntry *member = g_hash_table_lookup(ini->by_address, coll->members[m]);
			if (member == NULL || member->kind != MW_DIR_RESOURCE) {
				g_string_append_printf(problems,
						       "[collection:%s] member %s is no resource\n",
						       coll->address, coll->members[m]);
				continue;
			}
			/* members are named by their primary address from here on */
			g_free(coll->members[m]);
			coll->members[m] = g_strdup(member->address);
			if (member->collection != NULL)
				continue;
			member->collection = g_strdup(coll->address);
			if (member->owner == NULL && coll->owner != NULL)
				member->owner = g_strdup(coll->owner);
			if ((member->policy == NULL || member->policy[0] == NULL) &&
			    coll->policy != NULL && coll->policy[0] != NULL) {
				g_strfreev(member->policy);
				member->policy = g_strdupv(coll->policy);
			}
		}
	}
	return ini;
}

/* finish - the directory, or NULL with the collected problems */
static MwDirectory *
finish(IniDirectory *ini, GString *problems, const char *what, GError **error)
{
	if (problems->len > 0) {
		if (problems->str[problems->len - 1] == '\n')
			g_string_truncate(problems, problems->len - 1);
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "directory %s: %s", what,
			    problems->str);
		ini_free(ini);
		return NULL;
	}
	return mw_directory_new(&ini_backend, ini);
}

/* mw_directory_load_data - the same from a string (tests) */
MwDirectory *
mw_directory_load_data(const char *data, GError **error)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GError) local = NULL;
	if (!g_key_file_load_from_data(kf, data, (gsize) -1, G_KEY_FILE_NONE, &local)) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "directory: %s", local->message);
		return NULL;
	}
	g_autoptr(GString) problems = g_string_new(NULL);
	IniDirectory *ini = load_keyfile(kf, problems);
	return finish(ini, problems, "(data)", error);
}

/**
 * mw_directory_open:
 * @spec: an INI file path (optionally "file:PATH")
 * Loads and checks the whole file: unknown sections or keys, bad policy
 * values, duplicate addresses and members that are no resource are errors
 * (MW_ERROR_CONFIG), one line per problem.
 */
MwDirectory *
mw_directory_open(const char *spec, GError **error)
{
	const char *path = spec;
	if (spec == NULL || *spec == '\0') {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "no directory configured");
		return NULL;
	}
	if (g_str_has_prefix(path, "file:"))
		path += 5;
	g_autoptr(GKeyFile) kf = g_key_file_new();
	g_autoptr(GError) local = NULL;
	if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &local)) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "directory %s: %s", path,
			    local->message);
		return NULL;
	}
	g_autoptr(GString) problems = g_string_new(NULL);
	IniDirectory *ini = load_keyfile(kf, problems);
	return finish(ini, problems, path, error);
}
