/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * Declarative option tables (nginx ngx_command_t / Postfix CONFIG_*_TABLE):
 * each row binds a config key to a typed field of a struct by offset, with a
 * default written as it would be in the file. One generic loader fills the
 * struct, checks types and bounds, and reports every problem, naming the
 * section and key; a key in the file that no row names is an error.
 */
typedef enum {
	MW_OPT_STRING,   /* char * (g_free) ; "" allowed */
	MW_OPT_PATH,     /* char * ; like STRING, documented as a path */
	MW_OPT_BOOL,     /* gboolean ; true/false/yes/no/on/off/1/0 */
	MW_OPT_INT,      /* gint64 ; bounds [min, max] when min < max */
	MW_OPT_SIZE,     /* guint64 bytes ; suffixes k, m, g (1024-based) accepted */
	MW_OPT_DURATION, /* gint64 seconds ; suffixes s, m, h, d accepted */
	MW_OPT_DOUBLE,   /* double ; bounds when min < max */
	MW_OPT_LIST, /* char ** (g_strfreev) ; comma-separated, items trimmed, empty items dropped */
	MW_OPT_ENUM, /* int ; index into choices, matched case-insensitively */
	MW_OPT_MAP,  /* GHashTable * string -> string ; key is a prefix ending in '.', e.g.
			    "text." matches "text.example.org"; the table maps the rest of the key
			    (lower-cased) to the value */
} MwOptionType;

typedef struct {
	const char *key;
	MwOptionType type;
	const char *default_value; /* NULL: unset (NULL string / empty list / 0) */
	gsize offset;
	const char *const *choices; /* MW_OPT_ENUM, NULL-terminated */
	gint64 min;
	gint64 max;
	const char *help; /* one line, for docs and --help-config */
} MwOption;

#define MW_OPTION_END                                                                              \
	{                                                                                          \
		NULL, 0, NULL, 0, NULL, 0, 0, NULL                                                 \
	}

/**
 * mw_options_load:
 * @table: rows ending with MW_OPTION_END
 * @keyfile: (nullable): the file; NULL applies only the defaults
 * @group: the section name
 * @extra_keys: (nullable): more keys that are valid in this section but are
 *   read by someone else (NULL-terminated)
 * @target: struct the offsets point into (zeroed by the caller)
 * @problems: one line appended per problem ("[virus] action: 'foo' is not one of discard, reject, quarantine")
 *
 * Fills every field: the value in the file, else the default. Returns FALSE if
 * anything was appended to @problems.
 */
gboolean mw_options_load(const MwOption *table, GKeyFile *keyfile, const char *group,
			 const char *const *extra_keys, gpointer target, GPtrArray *problems);

/* mw_options_clear - free what mw_options_load allocated in @target */
void mw_options_clear(const MwOption *table, gpointer target);

/* mw_options_set_override - change one key of @keyfile from a "section.key=value" or "key=value"
 * (section defaults to @default_group) command-line override */
gboolean mw_options_set_override(GKeyFile *keyfile, const char *default_group,
				 const char *assignment, GError **error);

G_END_DECLS
