/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-resources-i18n - reply and notification texts in the reader's language
 * SYNOPSIS
 *	mw_res_i18n_load(), mw_res_i18n_free(), mw_res_gettext()
 * DESCRIPTION
 *	The texts are English msgids marked with N_() (xgettext
 *	--keyword=N_), translated in po/<lang>.po and compiled by msgfmt into
 *	LOCALEDIR/<lang>/LC_MESSAGES/mailwarden-resources.mo. Each message
 *	goes to one person in that person's language (the directory's
 *	language key), so the catalogs are read here directly: gettext(3)
 *	follows the process locale, and switching it per message would be
 *	global state in a daemon serving many languages at once. The format
 *	is GNU MO (both byte orders). LOCALEDIR is the installed one, or
 *	$MW_LOCALEDIR (the build tree, for tests). A missing catalog means
 *	English.
 */
#include <string.h>

#include "mw-resources.h"

#define MW_RES_DOMAIN "mailwarden-resources"

struct _MwResCatalogs {
	GHashTable *languages; /* "de" -> GHashTable msgid -> msgstr */
};

/* word - a 32-bit value of the MO file at @offset */
static gboolean
word(const guint8 *data, gsize len, gsize offset, gboolean swap, guint32 *out)
{
	if (offset + 4 > len)
		return FALSE;
	guint32 v;
	memcpy(&v, data + offset, 4);
	*out = swap ? GUINT32_SWAP_LE_BE(v) : v;
	return TRUE;
}

/* load_mo - a GNU MO file as msgid -> msgstr */
static GHashTable *
load_mo(const char *path, GError **error)
{
	g_autofree char *contents = NULL;
	gsize len = 0;
	if (!g_file_get_contents(path, &contents, &len, error))
		return NULL;
	const guint8 *data = (const guint8 *) contents;
	guint32 magic = 0, n = 0, orig = 0, trans = 0;
	gboolean swap = FALSE;
	if (!word(data, len, 0, FALSE, &magic) ||
	    (magic != 0x950412de && GUINT32_SWAP_LE_BE(magic) != 0x950412de)) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "%s is no MO catalog", path);
		return NULL;
	}
	swap = magic != 0x950412de;
	if (!word(data, len, 8, swap, &n) || !word(data, len, 12, swap, &orig) ||
	    !word(data, len, 16, swap, &trans)) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "%s is truncated", path);
		return NULL;
	}
	GHashTable *table = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	for (guint32 i = 0; i < n; i++) {
		guint32 olen, ooff, tlen, toff;
		if (!word(data, len, orig + 8 * (gsize) i, swap, &olen) ||
		    !word(data, len, orig + 8 * (gsize) i + 4, swap, &ooff) ||
		    !word(data, len, trans + 8 * (gsize) i, swap, &tlen) ||
		    !word(data, len, trans + 8 * (gsize) i + 4, swap, &toff) ||
		    (gsize) ooff + olen > len || (gsize) toff + tlen > len) {
			g_hash_table_unref(table);
			g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "%s is damaged", path);
			return NULL;
		}
		/* the header entry (empty msgid) and untranslated ones are skipped */
		if (olen == 0 || tlen == 0)
			continue;
		g_hash_table_insert(table, g_strndup((const char *) data + ooff, olen),
				    g_strndup((const char *) data + toff, tlen));
	}
	return table;
}

/* --- translations (mw-resources-i18n.c) --- */
MwResCatalogs *
mw_res_i18n_load(GError **error)
{
	const char *dir = g_getenv("MW_LOCALEDIR");
	if (dir == NULL || *dir == '\0')
		dir = MW_RESOURCES_LOCALEDIR;
	MwResCatalogs *cats = g_new0(MwResCatalogs, 1);
	cats->languages = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
						(GDestroyNotify) g_hash_table_unref);
	GDir *d = g_dir_open(dir, 0, NULL);
	if (d == NULL)
		return cats;
	const char *name;
	while ((name = g_dir_read_name(d)) != NULL) {
		g_autofree char *path =
			g_build_filename(dir, name, "LC_MESSAGES", MW_RES_DOMAIN ".mo", NULL);
		if (!g_file_test(path, G_FILE_TEST_IS_REGULAR))
			continue;
		GHashTable *table = load_mo(path, error);
		if (table == NULL) {
			g_dir_close(d);
			mw_res_i18n_free(cats);
			return NULL;
		}
		g_hash_table_insert(cats->languages, g_strdup(name), table);
	}
	g_dir_close(d);
	return cats;
}

/* --- translations (mw-resources-i18n.c) --- */
void
mw_res_i18n_free(MwResCatalogs *cats)
{
	if (cats == NULL)
		return;
	g_hash_table_unref(cats->languages);
	g_free(cats);
}

/* mw_res_gettext - @msgid in @language ("de", "de_DE", NULL: English) */
const char *
mw_res_gettext(const MwResCatalogs *cats, const char *language, const char *msgid)
{
	if (cats == NULL || language == NULL || *language == '\0')
		return msgid;
	/* "de_DE.UTF-8@euro" -> "de_DE", then "de" */
	char lang[32];
	g_strlcpy(lang, language, sizeof lang);
	lang[strcspn(lang, ".@")] = '\0';
	for (int pass = 0; pass < 2; pass++) {
		GHashTable *table = g_hash_table_lookup(cats->languages, lang);
		if (table != NULL) {
			const char *text = g_hash_table_lookup(table, msgid);
			if (text != NULL)
				return text;
		}
		lang[strcspn(lang, "_-")] = '\0';
	}
	return msgid;
}
