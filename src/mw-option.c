/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-option - declarative option tables
 * SYNOPSIS
 *	mw_options_load(), mw_options_clear(), mw_options_set_override()
 * DESCRIPTION
 *	One generic loader turns the keys of one GKeyFile section into the
 *	typed fields of a struct, following a table of MwOption rows (key,
 *	type, default as written in the file, offsetof() the field, bounds,
 *	enum choices). Every field ends up set: to the value in the file when
 *	it parses, else to the row's default, so the struct is always safe to
 *	use and to release with mw_options_clear() even when loading failed.
 *
 *	Problems are collected, never stopped at: each one is appended to the
 *	caller's array as "[group] key: problem", and a key of the section
 *	that no row (and no extra key) names is "[group] unknown key 'foo'",
 *	because a typo must not silently disable a filter.
 *
 *	Values are read raw and trimmed; then the GKeyFile escapes \s, \n, \t,
 *	\r and \\ are decoded (any other backslash is kept as it is, so
 *	patterns with backslashes need no doubling). Nothing here keeps state;
 *	the functions are safe to call from any thread on distinct data.
 * SEE ALSO
 *	mw-option.h, mw-config.c (the [mailwarden] table), docs/configuration.md
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "mw-error.h"
#include "mw-option.h"

/* field - the address of a row's field inside @target */
#define field(target, opt) ((gpointer) ((guint8 *) (target) + (opt)->offset))

/* unescape - decode the GKeyFile escapes of a raw value (unknown escapes stay as they are) */
static char *
unescape(const char *raw)
{
	GString *out = g_string_sized_new(strlen(raw));

	for (const char *p = raw; *p != '\0'; p++) {
		if (*p != '\\' || p[1] == '\0') {
			g_string_append_c(out, *p);
			continue;
		}
		switch (p[1]) {
		case 's':
			g_string_append_c(out, ' ');
			break;
		case 'n':
			g_string_append_c(out, '\n');
			break;
		case 't':
			g_string_append_c(out, '\t');
			break;
		case 'r':
			g_string_append_c(out, '\r');
			break;
		case '\\':
			g_string_append_c(out, '\\');
			break;
		default:
			g_string_append_c(out, '\\');
			g_string_append_c(out, p[1]);
			break;
		}
		p++;
	}
	return g_string_free(out, FALSE);
}

/* read_value - the trimmed, unescaped value of @key in @group, or NULL if absent */
static char *
read_value(GKeyFile *keyfile, const char *group, const char *key)
{
	g_autofree char *raw = NULL;

	if (keyfile == NULL)
		return NULL;
	raw = g_key_file_get_value(keyfile, group, key, NULL);
	if (raw == NULL)
		return NULL;
	return unescape(g_strstrip(raw));
}

/* parse_bool - the spellings of a boolean, case-insensitive */
static gboolean
parse_bool(const char *text, gboolean *out, char **problem)
{
	static const char *const yes[] = {"true", "yes", "on", "1", NULL};
	static const char *const no[] = {"false", "no", "off", "0", NULL};

	for (guint i = 0; yes[i] != NULL; i++) {
		if (g_ascii_strcasecmp(text, yes[i]) == 0) {
			*out = TRUE;
			return TRUE;
		}
		if (g_ascii_strcasecmp(text, no[i]) == 0) {
			*out = FALSE;
			return TRUE;
		}
	}
	*problem = g_strdup_printf("'%s' is not a boolean (true/false, yes/no, on/off, 1/0)", text);
	return FALSE;
}

/* check_bounds - a row's [min, max] applies only when min < max */
static gboolean
check_bounds(const MwOption *opt, gint64 value, const char *text, char **problem)
{
	if (opt->min >= opt->max)
		return TRUE;
	if (value >= opt->min && value <= opt->max)
		return TRUE;
	*problem = g_strdup_printf("'%s' is out of range %" G_GINT64_FORMAT "..%" G_GINT64_FORMAT,
				   text, opt->min, opt->max);
	return FALSE;
}

/* parse_int - a decimal integer, optionally signed */
static gboolean
parse_int(const MwOption *opt, const char *text, gint64 *out, char **problem)
{
	gint64 value = 0;

	if (!g_ascii_string_to_signed(text, 10, G_MININT64, G_MAXINT64, &value, NULL)) {
		*problem = g_strdup_printf("'%s' is not an integer", text);
		return FALSE;
	}
	if (!check_bounds(opt, value, text, problem))
		return FALSE;
	*out = value;
	return TRUE;
}

/* parse_scaled - digits then an optional one-letter unit from @units (case-insensitive),
 * multiplied by the matching factor; no sign, no overflow */
static gboolean
parse_scaled(const char *text, const char *units, const guint64 *factors, guint64 *out)
{
	const char *p = text;
	guint64 value = 0;
	guint64 factor = 1;

	if (!g_ascii_isdigit(*p))
		return FALSE;
	for (; g_ascii_isdigit(*p); p++) {
		guint digit = (guint) (*p - '0');

		if (value > (G_MAXUINT64 - digit) / 10)
			return FALSE;
		value = value * 10 + digit;
	}
	if (*p != '\0') {
		const char *unit = strchr(units, g_ascii_tolower(*p));

		if (unit == NULL || p[1] != '\0')
			return FALSE;
		factor = factors[unit - units];
	}
	if (value > G_MAXUINT64 / factor)
		return FALSE;
	*out = value * factor;
	return TRUE;
}

/* parse_size - bytes, or a k/m/g suffix (1024-based) */
static gboolean
parse_size(const MwOption *opt, const char *text, guint64 *out, char **problem)
{
	static const guint64 factors[] = {1024, 1024 * 1024, 1024 * 1024 * 1024};
	guint64 value = 0;

	if (!parse_scaled(text, "kmg", factors, &value)) {
		*problem = g_strdup_printf("'%s' is not a size (bytes, or a number with k, m or g)",
					   text);
		return FALSE;
	}
	if (opt->min < opt->max &&
	    (value < (guint64) MAX(opt->min, 0) || value > (guint64) MAX(opt->max, 0))) {
		*problem = g_strdup_printf("'%s' is out of range %" G_GINT64_FORMAT
					   "..%" G_GINT64_FORMAT " bytes",
					   text, opt->min, opt->max);
		return FALSE;
	}
	*out = value;
	return TRUE;
}

/* parse_duration - seconds, or a s/m/h/d suffix */
static gboolean
parse_duration(const MwOption *opt, const char *text, gint64 *out, char **problem)
{
	static const guint64 factors[] = {1, 60, 3600, 86400};
	guint64 value = 0;

	if (!parse_scaled(text, "smhd", factors, &value) || value > (guint64) G_MAXINT64) {
		*problem = g_strdup_printf(
			"'%s' is not a duration (seconds, or a number with s, m, h or d)", text);
		return FALSE;
	}
	if (!check_bounds(opt, (gint64) value, text, problem))
		return FALSE;
	*out = (gint64) value;
	return TRUE;
}

/* parse_double - a finite decimal number ('.' as the separator whatever the locale) */
static gboolean
parse_double(const MwOption *opt, const char *text, double *out, char **problem)
{
	char *end = NULL;
	double value;

	errno = 0;
	value = g_ascii_strtod(text, &end);
	if (*text == '\0' || end == NULL || *end != '\0' || errno != 0 || !isfinite(value)) {
		*problem = g_strdup_printf("'%s' is not a number", text);
		return FALSE;
	}
	if (opt->min < opt->max && (value < (double) opt->min || value > (double) opt->max)) {
		*problem = g_strdup_printf("'%s' is out of range %" G_GINT64_FORMAT
					   "..%" G_GINT64_FORMAT,
					   text, opt->min, opt->max);
		return FALSE;
	}
	*out = value;
	return TRUE;
}

/* parse_enum - the index of @text among the row's choices, case-insensitive */
static gboolean
parse_enum(const MwOption *opt, const char *text, int *out, char **problem)
{
	g_autofree char *choices = NULL;

	for (int i = 0; opt->choices != NULL && opt->choices[i] != NULL; i++) {
		if (g_ascii_strcasecmp(text, opt->choices[i]) == 0) {
			*out = i;
			return TRUE;
		}
	}
	choices = opt->choices != NULL ? g_strjoinv(", ", (char **) opt->choices) : g_strdup("");
	*problem = g_strdup_printf("'%s' is not one of %s", text, choices);
	return FALSE;
}

/* split_list - comma-separated items, trimmed, empty ones dropped; never NULL */
static char **
split_list(const char *text)
{
	g_auto(GStrv) items = g_strsplit(text, ",", -1);
	g_autoptr(GStrvBuilder) builder = g_strv_builder_new();

	for (guint i = 0; items[i] != NULL; i++) {
		g_strstrip(items[i]);
		if (items[i][0] != '\0')
			g_strv_builder_add(builder, items[i]);
	}
	return g_strv_builder_end(builder);
}

/* is_map_key - a MAP row's prefix matches @key and leaves something after it */
static gboolean
is_map_key(const MwOption *opt, const char *key)
{
	gsize len = strlen(opt->key);

	return opt->type == MW_OPT_MAP && strncmp(key, opt->key, len) == 0 && key[len] != '\0';
}

/* load_map - every key of @group under the row's prefix, lower-cased rest -> value */
static GHashTable *
load_map(const MwOption *opt, GKeyFile *keyfile, const char *group)
{
	GHashTable *map = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_auto(GStrv) keys = NULL;

	if (keyfile != NULL && g_key_file_has_group(keyfile, group))
		keys = g_key_file_get_keys(keyfile, group, NULL, NULL);
	for (guint i = 0; keys != NULL && keys[i] != NULL; i++) {
		if (!is_map_key(opt, keys[i]))
			continue;
		g_hash_table_replace(map, g_ascii_strdown(keys[i] + strlen(opt->key), -1),
				     read_value(keyfile, group, keys[i]));
	}
	return map;
}

/* store - parse @text for @opt and write the field; FALSE with @problem set if it does not parse */
static gboolean
store(const MwOption *opt, const char *text, gpointer target, char **problem)
{
	gpointer ptr = field(target, opt);

	switch (opt->type) {
	case MW_OPT_STRING:
	case MW_OPT_PATH:
		*(char **) ptr = text != NULL ? g_strdup(text) : NULL;
		return TRUE;
	case MW_OPT_LIST:
		*(char ***) ptr = split_list(text != NULL ? text : "");
		return TRUE;
	case MW_OPT_BOOL:
		*(gboolean *) ptr = FALSE;
		return text == NULL || parse_bool(text, (gboolean *) ptr, problem);
	case MW_OPT_INT:
		*(gint64 *) ptr = 0;
		return text == NULL || parse_int(opt, text, (gint64 *) ptr, problem);
	case MW_OPT_SIZE:
		*(guint64 *) ptr = 0;
		return text == NULL || parse_size(opt, text, (guint64 *) ptr, problem);
	case MW_OPT_DURATION:
		*(gint64 *) ptr = 0;
		return text == NULL || parse_duration(opt, text, (gint64 *) ptr, problem);
	case MW_OPT_DOUBLE:
		*(double *) ptr = 0.0;
		return text == NULL || parse_double(opt, text, (double *) ptr, problem);
	case MW_OPT_ENUM:
		*(int *) ptr = 0;
		return text == NULL || parse_enum(opt, text, (int *) ptr, problem);
	case MW_OPT_MAP:
		/* handled by load_map() */
		return TRUE;
	}
	*problem = g_strdup("unknown option type");
	return FALSE;
}

/* in_strv - @key is one of @keys (nullable) */
static gboolean
in_strv(const char *const *keys, const char *key)
{
	return keys != NULL && g_strv_contains(keys, key);
}

/* listed_before - @keys[@index] also appears earlier in @keys */
static gboolean
listed_before(char **keys, guint index)
{
	for (guint i = 0; i < index; i++) {
		if (strcmp(keys[i], keys[index]) == 0)
			return TRUE;
	}
	return FALSE;
}

/* is_known - some row (or an extra key) names @key */
static gboolean
is_known(const MwOption *table, const char *const *extra_keys, const char *key)
{
	for (const MwOption *opt = table; opt->key != NULL; opt++) {
		if (opt->type == MW_OPT_MAP ? is_map_key(opt, key) : strcmp(opt->key, key) == 0)
			return TRUE;
	}
	return in_strv(extra_keys, key);
}

/**
 * mw_options_load:
 * @table: rows ending with MW_OPTION_END
 * @keyfile: (nullable): the file; NULL (or a file without @group) applies the defaults
 * @group: the section name
 * @extra_keys: (nullable): keys also valid in @group, read by someone else
 * @target: the struct the offsets point into, zeroed by the caller
 * @problems: (element-type utf8): one "[group] key: problem" line appended per problem
 *
 * Fills every field of @target: the value in the file when it parses, else the
 * row's default (so @target is always complete and must be released with
 * mw_options_clear()). LIST fields are never NULL (an empty list is an empty
 * vector) and MAP fields are always a table; STRING fields are NULL only when
 * the key is absent and the default is NULL.
 *
 * Returns: FALSE if anything was appended to @problems
 */
gboolean
mw_options_load(const MwOption *table, GKeyFile *keyfile, const char *group,
		const char *const *extra_keys, gpointer target, GPtrArray *problems)
{
	guint before;
	g_auto(GStrv) keys = NULL;

	g_return_val_if_fail(table != NULL, FALSE);
	g_return_val_if_fail(group != NULL, FALSE);
	g_return_val_if_fail(problems != NULL, FALSE);

	before = problems->len;

	for (const MwOption *opt = table; opt->key != NULL; opt++) {
		g_autofree char *value = NULL;
		g_autofree char *problem = NULL;
		g_autofree char *fallback = NULL;

		if (opt->type == MW_OPT_MAP) {
			*(GHashTable **) field(target, opt) = load_map(opt, keyfile, group);
			continue;
		}
		value = read_value(keyfile, group, opt->key);
		if (value != NULL && store(opt, value, target, &problem))
			continue;
		if (problem != NULL) {
			g_ptr_array_add(problems,
					g_strdup_printf("[%s] %s: %s", group, opt->key, problem));
			g_clear_pointer(&problem, g_free);
		}
		/* absent or bad: the default */
		if (opt->default_value != NULL)
			fallback = unescape(opt->default_value);
		if (!store(opt, fallback, target, &problem)) {
			g_ptr_array_add(problems,
					g_strdup_printf("[%s] %s: bad built-in default: %s", group,
							opt->key, problem));
		}
	}

	if (keyfile != NULL && g_key_file_has_group(keyfile, group))
		keys = g_key_file_get_keys(keyfile, group, NULL, NULL);
	for (guint i = 0; keys != NULL && keys[i] != NULL; i++) {
		/* a key written twice is listed twice (the last value wins): report it once */
		if (!is_known(table, extra_keys, keys[i]) && !listed_before(keys, i)) {
			g_ptr_array_add(problems,
					g_strdup_printf("[%s] unknown key '%s'", group, keys[i]));
		}
	}
	return problems->len == before;
}

/**
 * mw_options_clear:
 * @table: the table @target was loaded with
 * @target: the struct
 *
 * Frees the strings, lists and maps of @target and sets those fields to NULL;
 * scalar fields are left as they are. Safe on a zeroed struct and twice.
 */
void
mw_options_clear(const MwOption *table, gpointer target)
{
	if (table == NULL || target == NULL)
		return;
	for (const MwOption *opt = table; opt->key != NULL; opt++) {
		gpointer ptr = field(target, opt);

		switch (opt->type) {
		case MW_OPT_STRING:
		case MW_OPT_PATH:
			g_clear_pointer((char **) ptr, g_free);
			break;
		case MW_OPT_LIST:
			g_clear_pointer((char ***) ptr, g_strfreev);
			break;
		case MW_OPT_MAP:
			g_clear_pointer((GHashTable **) ptr, g_hash_table_unref);
			break;
		case MW_OPT_BOOL:
		case MW_OPT_INT:
		case MW_OPT_SIZE:
		case MW_OPT_DURATION:
		case MW_OPT_DOUBLE:
		case MW_OPT_ENUM:
			break;
		}
	}
}

/**
 * mw_options_set_override:
 * @keyfile: the file to change
 * @default_group: the section of a "key=value" without a section
 * @assignment: "section.key=value" or "key=value" (the section ends at the
 *   first '.', so a MAP key such as footer's text.example.org needs its section:
 *   "footer.text.example.org=...")
 * @error: MW_ERROR_CONFIG when @assignment has no '=' or an empty section or key
 *
 * Sets the raw value (escapes as in the file), replacing what the file said.
 */
gboolean
mw_options_set_override(GKeyFile *keyfile, const char *default_group, const char *assignment,
			GError **error)
{
	const char *eq;
	char *dot;
	g_autofree char *name = NULL;
	g_autofree char *value = NULL;
	g_autofree char *group = NULL;
	const char *key;

	g_return_val_if_fail(keyfile != NULL, FALSE);
	g_return_val_if_fail(assignment != NULL, FALSE);

	eq = strchr(assignment, '=');
	if (eq == NULL) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG,
			    "override '%s': expected [section.]key=value", assignment);
		return FALSE;
	}
	name = g_strstrip(g_strndup(assignment, (gsize) (eq - assignment)));
	value = g_strstrip(g_strdup(eq + 1));
	dot = strchr(name, '.');
	if (dot != NULL) {
		group = g_strstrip(g_strndup(name, (gsize) (dot - name)));
		key = g_strstrip(dot + 1);
	} else {
		group = g_strdup(default_group);
		key = name;
	}
	if (group == NULL || group[0] == '\0' || key[0] == '\0' || strpbrk(key, "[]=\n") != NULL ||
	    strpbrk(group, "[]\n") != NULL) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG,
			    "override '%s': expected [section.]key=value", assignment);
		return FALSE;
	}
	if (strchr(value, '\n') != NULL || strchr(value, '\r') != NULL) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG,
			    "override '%s': a value is one line (write \\n for a line break)",
			    assignment);
		return FALSE;
	}
	g_key_file_set_value(keyfile, group, key, value);
	return TRUE;
}
