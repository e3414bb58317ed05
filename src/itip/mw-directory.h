/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * MwDirectory - users, resources and resource collections, looked up by
 * address (case-insensitive, aliases included). The INI file backend is the
 * embedded one; an LDAP backend fills the same entries through
 * MwDirectoryBackend.
 */

typedef enum {
	MW_DIR_USER,
	MW_DIR_RESOURCE,
	MW_DIR_COLLECTION,
} MwDirKind;

/**
 * MwDirEntry:
 * @kind: user, resource or collection
 * @address: the primary address, lower case
 * @name: the display name (the address when none is configured)
 * @aliases: (array zero-terminated=1): more addresses, lower case
 * @owner: (nullable): the owner's address; a resource without one inherits
 *   its collection's
 * @members: (array zero-terminated=1): a collection's members, in order
 * @policy: (array zero-terminated=1): the invitation policy values in order;
 *   a resource without any inherits its collection's
 * @language: (nullable): "de", "en" ...
 * @phone: (nullable): a telephone number
 * @collection: (nullable): for a resource, the first collection listing it
 */
typedef struct {
	MwDirKind kind;
	char *address;
	char *name;
	char **aliases;
	char *owner;
	char **members;
	char **policy;
	char *language;
	char *phone;
	char *collection;
} MwDirEntry;

/**
 * MwDirectoryBackend:
 * @lookup: the entry of an address (lower case, no mailto:), NULL if unknown;
 *   entries live as long as the directory
 * @free: release @data
 */
typedef struct {
	const char *name;
	const MwDirEntry *(*lookup)(gpointer data, const char *address);
	void (*free)(gpointer data);
} MwDirectoryBackend;

typedef struct _MwDirectory MwDirectory;

/* mw_directory_new - a directory over @backend (takes @data) */
MwDirectory *mw_directory_new(const MwDirectoryBackend *backend, gpointer data);
/**
 * mw_directory_open:
 * @spec: an INI file path (optionally "file:PATH")
 * Loads and checks the whole file: unknown sections or keys, bad policy
 * values, duplicate addresses and members that are no resource are errors
 * (MW_ERROR_CONFIG), one line per problem.
 */
MwDirectory *mw_directory_open(const char *spec, GError **error);
/* mw_directory_load_data - the same from a string (tests) */
MwDirectory *mw_directory_load_data(const char *data, GError **error);
void mw_directory_free(MwDirectory *dir);

/* mw_directory_lookup - the entry of @address ("Room@X", "mailto:room@x"), or NULL */
const MwDirEntry *mw_directory_lookup(MwDirectory *dir, const char *address);

/* mw_directory_entry_has_address - @address is @entry's address or an alias */
gboolean mw_directory_entry_has_address(const MwDirEntry *entry, const char *address);

/* mw_dir_policy_valid - one of ACT_ACCEPT, ACT_REJECT, ACT_MANUAL, ACT_ACCEPT_AND_NOTIFY,
 * ACT_STORE_AND_NOTIFY */
gboolean mw_dir_policy_valid(const char *value);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(MwDirectory, mw_directory_free)

G_END_DECLS
