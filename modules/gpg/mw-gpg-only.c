/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-gpg-only - the opt-in list of the gpg module (only = FILE)
 * SYNOPSIS
 *	mw_gpg_only_new, mw_gpg_only_refresh, mw_gpg_only_contains,
 *	mw_gpg_only_size, mw_gpg_only_free
 * DESCRIPTION
 *	The file lists the addresses whose mail may be encrypted, one per
 *	line; blank lines and lines starting with '#' are ignored, angle
 *	brackets around an address are allowed, case does not matter. A line
 *	that is not an address is an error, so that a typo does not silently
 *	take somebody off the list.
 *
 *	Like the keyring, the list is followed while the daemon runs: each
 *	message stats the file and reads it again when its identity, size or
 *	modification time changed. Each process holds its own copy (the
 *	master reads it at configure time; workers refresh theirs). A file
 *	that disappears or becomes unreadable is an MW_ERROR_BACKEND error at
 *	message time (on_error applies) and MW_ERROR_CONFIG at load time.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "mw-error.h"
#include "mw-gpg.h"

struct _MwGpgOnly {
	char *path;
	GHashTable *addresses; /* folded address -> itself */
	struct stat st;        /* of the file as last read */
};

/* parse_list - the folded addresses of @text, or NULL with an error naming the line */
static GHashTable *
parse_list(const char *path, const char *text, GError **error)
{
	g_autoptr(GHashTable) set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);

	for (guint i = 0; lines[i] != NULL; i++) {
		char *line = g_strstrip(lines[i]);
		gsize len = strlen(line);
		if (len == 0 || line[0] == '#')
			continue;
		if (len >= 2 && line[0] == '<' && line[len - 1] == '>') {
			line[len - 1] = '\0';
			line++;
		}
		const char *at = strrchr(line, '@');
		if (at == NULL || at == line || at[1] == '\0' || strpbrk(line, " \t<>") != NULL) {
			g_set_error(error, MW_ERROR, MW_ERROR_CONFIG,
				    "%s line %u: '%s' is not an address", path, i + 1, line);
			return NULL;
		}
		char *folded = mw_gpg_address_fold(line);
		g_hash_table_add(set, folded);
	}
	return g_steal_pointer(&set);
}

/* only_read - (re)read the file into @only; @code is the error code to use */
static gboolean
only_read(MwGpgOnly *only, MwErrorCode code, GError **error)
{
	struct stat st;
	g_autofree char *text = NULL;
	gsize len = 0;
	g_autoptr(GError) local = NULL;

	if (stat(only->path, &st) < 0) {
		g_set_error(error, MW_ERROR, code, "opt-in list %s: %s", only->path,
			    g_strerror(errno));
		return FALSE;
	}
	if (!g_file_get_contents(only->path, &text, &len, &local)) {
		g_set_error(error, MW_ERROR, code, "opt-in list %s", local->message);
		return FALSE;
	}
	if (memchr(text, '\0', len) != NULL) {
		g_set_error(error, MW_ERROR, code, "opt-in list %s: not a text file", only->path);
		return FALSE;
	}
	GHashTable *set = parse_list(only->path, text, &local);
	if (set == NULL) {
		g_set_error(error, MW_ERROR, code, "opt-in list %s", local->message);
		return FALSE;
	}
	g_clear_pointer(&only->addresses, g_hash_table_unref);
	only->addresses = set;
	only->st = st;
	return TRUE;
}

/**
 * mw_gpg_only_new:
 * @path: the file
 *
 * Returns: (transfer full): the list, or NULL with MW_ERROR_CONFIG when the
 * file cannot be read or has a line that is not an address
 */
MwGpgOnly *
mw_gpg_only_new(const char *path, GError **error)
{
	g_autoptr(MwGpgOnly) only = g_new0(MwGpgOnly, 1);
	only->path = g_strdup(path);
	if (!only_read(only, MW_ERROR_CONFIG, error))
		return NULL;
	return g_steal_pointer(&only);
}

/**
 * mw_gpg_only_refresh:
 *
 * Reads the file again when it was replaced or changed since the last read.
 * Returns: FALSE with MW_ERROR_BACKEND when it cannot; the previous list is
 * then kept but must not be trusted by the caller.
 */
gboolean
mw_gpg_only_refresh(MwGpgOnly *only, GError **error)
{
	struct stat st;
	if (stat(only->path, &st) < 0) {
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "opt-in list %s: %s", only->path,
			    g_strerror(errno));
		return FALSE;
	}
	if (st.st_dev == only->st.st_dev && st.st_ino == only->st.st_ino &&
	    st.st_size == only->st.st_size && st.st_mtim.tv_sec == only->st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == only->st.st_mtim.tv_nsec)
		return TRUE;
	return only_read(only, MW_ERROR_BACKEND, error);
}

/* mw_gpg_only_contains - whether the folded address is on the list */
gboolean
mw_gpg_only_contains(const MwGpgOnly *only, const char *folded)
{
	return g_hash_table_contains(only->addresses, folded);
}

/* mw_gpg_only_size - number of addresses listed */
guint
mw_gpg_only_size(const MwGpgOnly *only)
{
	return g_hash_table_size(only->addresses);
}

/* mw_gpg_only_free - NULL is fine */
void
mw_gpg_only_free(MwGpgOnly *only)
{
	if (only == NULL)
		return;
	g_clear_pointer(&only->addresses, g_hash_table_unref);
	g_free(only->path);
	g_free(only);
}
