/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-option - the declarative option loader
 * SYNOPSIS
 *	test-option (check suite; CK_FORK=no for gdb and valgrind)
 * DESCRIPTION
 *	Drives mw_options_load() against a fake table with one row of every
 *	type: defaults, good and bad values for each type, bounds, suffixes,
 *	trimming and escapes, MAP keys, unknown and extra keys, several
 *	problems at once; and mw_options_set_override().
 * SEE ALSO
 *	src/mw-option.c
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "mw-error.h"
#include "mw-option.h"

typedef struct {
	char *string;
	char *path;
	gboolean flag;
	gint64 count;
	gint64 offset;
	guint64 size;
	guint64 big;
	gint64 duration;
	gint64 wait;
	double ratio;
	char **list;
	char **empty_list;
	int mode;
	char *text;
	GHashTable *text_map;
	char *unset;
} FakeConfig;

static const char *const fake_modes[] = {"discard", "reject", "quarantine", NULL};

static const MwOption fake_options[] = {
	{.key = "string",
	 .type = MW_OPT_STRING,
	 .default_value = "hello",
	 .offset = offsetof(FakeConfig, string)},
	{.key = "path",
	 .type = MW_OPT_PATH,
	 .default_value = "/var/tmp",
	 .offset = offsetof(FakeConfig, path)},
	{.key = "flag",
	 .type = MW_OPT_BOOL,
	 .default_value = "yes",
	 .offset = offsetof(FakeConfig, flag)},
	{.key = "count",
	 .type = MW_OPT_INT,
	 .default_value = "5",
	 .offset = offsetof(FakeConfig, count),
	 .min = 1,
	 .max = 100},
	{.key = "offset",
	 .type = MW_OPT_INT,
	 .default_value = NULL,
	 .offset = offsetof(FakeConfig, offset)},
	{.key = "size",
	 .type = MW_OPT_SIZE,
	 .default_value = "10k",
	 .offset = offsetof(FakeConfig, size),
	 .min = 1024,
	 .max = G_GINT64_CONSTANT(1073741824)},
	{.key = "big",
	 .type = MW_OPT_SIZE,
	 .default_value = NULL,
	 .offset = offsetof(FakeConfig, big)},
	{.key = "duration",
	 .type = MW_OPT_DURATION,
	 .default_value = "2m",
	 .offset = offsetof(FakeConfig, duration)},
	{.key = "wait",
	 .type = MW_OPT_DURATION,
	 .default_value = "1m",
	 .offset = offsetof(FakeConfig, wait),
	 .min = 1,
	 .max = 3600},
	{.key = "ratio",
	 .type = MW_OPT_DOUBLE,
	 .default_value = "0.5",
	 .offset = offsetof(FakeConfig, ratio),
	 .min = 0,
	 .max = 1},
	{.key = "list",
	 .type = MW_OPT_LIST,
	 .default_value = "a, b",
	 .offset = offsetof(FakeConfig, list)},
	{.key = "empty_list",
	 .type = MW_OPT_LIST,
	 .default_value = NULL,
	 .offset = offsetof(FakeConfig, empty_list)},
	{.key = "mode",
	 .type = MW_OPT_ENUM,
	 .default_value = "reject",
	 .offset = offsetof(FakeConfig, mode),
	 .choices = fake_modes},
	{.key = "text",
	 .type = MW_OPT_STRING,
	 .default_value = NULL,
	 .offset = offsetof(FakeConfig, text)},
	{.key = "text.",
	 .type = MW_OPT_MAP,
	 .default_value = NULL,
	 .offset = offsetof(FakeConfig, text_map)},
	{.key = "unset",
	 .type = MW_OPT_STRING,
	 .default_value = NULL,
	 .offset = offsetof(FakeConfig, unset)},
	MW_OPTION_END,
};

/* fake_clear - mw_options_clear() plus the zeroing a reuse needs */
static void
fake_clear(FakeConfig *fake)
{
	mw_options_clear(fake_options, fake);
	memset(fake, 0, sizeof(*fake));
}

/* load_text - load @text as a key file into @fake, problems into @problems */
static gboolean
load_text(const char *text, const char *const *extra_keys, FakeConfig *fake, GPtrArray *problems)
{
	g_autoptr(GKeyFile) keyfile = g_key_file_new();
	g_autoptr(GError) error = NULL;

	ck_assert_msg(g_key_file_load_from_data(keyfile, text, (gsize) -1, G_KEY_FILE_NONE, &error),
		      "%s", error != NULL ? error->message : "");
	return mw_options_load(fake_options, keyfile, "fake", extra_keys, fake, problems);
}

/* joined - the problems as one string, for messages */
static char *
joined(GPtrArray *problems)
{
	GString *out = g_string_new(NULL);

	for (guint i = 0; i < problems->len; i++)
		g_string_append_printf(out, "%s%s", i > 0 ? " | " : "",
				       (char *) problems->pdata[i]);
	return g_string_free(out, FALSE);
}

/* assert_defaults - every field holds its default */
static void
assert_defaults(const FakeConfig *fake)
{
	ck_assert_str_eq(fake->string, "hello");
	ck_assert_str_eq(fake->path, "/var/tmp");
	ck_assert(fake->flag);
	ck_assert_int_eq(fake->count, 5);
	ck_assert_int_eq(fake->offset, 0);
	ck_assert_uint_eq(fake->size, 10240);
	ck_assert_uint_eq(fake->big, 0);
	ck_assert_int_eq(fake->duration, 120);
	ck_assert_int_eq(fake->wait, 60);
	ck_assert_double_eq(fake->ratio, 0.5);
	ck_assert_ptr_nonnull(fake->list);
	ck_assert_uint_eq(g_strv_length(fake->list), 2);
	ck_assert_str_eq(fake->list[0], "a");
	ck_assert_str_eq(fake->list[1], "b");
	ck_assert_ptr_nonnull(fake->empty_list);
	ck_assert_ptr_null(fake->empty_list[0]);
	ck_assert_int_eq(fake->mode, 1);
	ck_assert_ptr_null(fake->text);
	ck_assert_ptr_nonnull(fake->text_map);
	ck_assert_uint_eq(g_hash_table_size(fake->text_map), 0);
	ck_assert_ptr_null(fake->unset);
}

START_TEST(test_defaults_no_keyfile)
{
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
	FakeConfig fake = {0};

	ck_assert(mw_options_load(fake_options, NULL, "fake", NULL, &fake, problems));
	ck_assert_uint_eq(problems->len, 0);
	assert_defaults(&fake);
	fake_clear(&fake);
}
END_TEST

START_TEST(test_defaults_no_group)
{
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
	FakeConfig fake = {0};

	ck_assert(load_text("[other]\nstring = x\nbogus = 1\n", NULL, &fake, problems));
	ck_assert_uint_eq(problems->len, 0);
	assert_defaults(&fake);
	fake_clear(&fake);

	ck_assert(load_text("[fake]\n", NULL, &fake, problems));
	ck_assert_uint_eq(problems->len, 0);
	assert_defaults(&fake);
	fake_clear(&fake);
}
END_TEST

/* one value of one key: NULL problem means it parses; ival/dval/sval by the row's type
 * (sval of a LIST is the items joined with '|') */
typedef struct {
	const char *key;
	const char *value;
	const char *problem;
	gint64 ival;
	double dval;
	const char *sval;
} ValueCase;

static const ValueCase value_cases[] = {
	/* STRING and PATH: trimmed, GKeyFile escapes decoded, other backslashes kept */
	{"string", "plain", NULL, 0, 0, "plain"},
	{"string", "  spaced value  ", NULL, 0, 0, "spaced value"},
	{"string", "", NULL, 0, 0, ""},
	{"string", "a\\sb\\nc\\td\\\\e", NULL, 0, 0, "a b\nc\td\\e"},
	{"string", "\\sleading", NULL, 0, 0, " leading"},
	{"string", "^x\\.y\\d$", NULL, 0, 0, "^x\\.y\\d$"},
	{"string", "trailing\\", NULL, 0, 0, "trailing\\"},
	{"string", "caf\xc3\xa9", NULL, 0, 0, "caf\xc3\xa9"},
	{"path", "/etc/mailwarden/x.conf", NULL, 0, 0, "/etc/mailwarden/x.conf"},
	{"path", "", NULL, 0, 0, ""},
	/* BOOL */
	{"flag", "true", NULL, TRUE, 0, NULL},
	{"flag", "false", NULL, FALSE, 0, NULL},
	{"flag", "yes", NULL, TRUE, 0, NULL},
	{"flag", "no", NULL, FALSE, 0, NULL},
	{"flag", "on", NULL, TRUE, 0, NULL},
	{"flag", "off", NULL, FALSE, 0, NULL},
	{"flag", "1", NULL, TRUE, 0, NULL},
	{"flag", "0", NULL, FALSE, 0, NULL},
	{"flag", "TRUE", NULL, TRUE, 0, NULL},
	{"flag", "No", NULL, FALSE, 0, NULL},
	{"flag", "maybe", "[fake] flag: 'maybe' is not a boolean (true/false, yes/no, on/off, 1/0)",
	 TRUE, 0, NULL},
	{"flag", "", "[fake] flag: '' is not a boolean (true/false, yes/no, on/off, 1/0)", TRUE, 0,
	 NULL},
	{"flag", "2", "[fake] flag: '2' is not a boolean (true/false, yes/no, on/off, 1/0)", TRUE,
	 0, NULL},
	/* INT with bounds 1..100 */
	{"count", "42", NULL, 42, 0, NULL},
	{"count", "1", NULL, 1, 0, NULL},
	{"count", "100", NULL, 100, 0, NULL},
	{"count", "  7  ", NULL, 7, 0, NULL},
	{"count", "0", "[fake] count: '0' is out of range 1..100", 5, 0, NULL},
	{"count", "101", "[fake] count: '101' is out of range 1..100", 5, 0, NULL},
	{"count", "-3", "[fake] count: '-3' is out of range 1..100", 5, 0, NULL},
	{"count", "12abc", "[fake] count: '12abc' is not an integer", 5, 0, NULL},
	{"count", "1.5", "[fake] count: '1.5' is not an integer", 5, 0, NULL},
	{"count", "0x10", "[fake] count: '0x10' is not an integer", 5, 0, NULL},
	{"count", "", "[fake] count: '' is not an integer", 5, 0, NULL},
	/* INT without bounds */
	{"offset", "-7", NULL, -7, 0, NULL},
	{"offset", "9223372036854775807", NULL, G_MAXINT64, 0, NULL},
	{"offset", "9223372036854775808", "[fake] offset: '9223372036854775808' is not an integer",
	 0, 0, NULL},
	/* SIZE with bounds 1k..1g */
	{"size", "2048", NULL, 2048, 0, NULL},
	{"size", "4k", NULL, 4096, 0, NULL},
	{"size", "4K", NULL, 4096, 0, NULL},
	{"size", "3m", NULL, 3145728, 0, NULL},
	{"size", "1G", NULL, 1073741824, 0, NULL},
	{"size", "1024", NULL, 1024, 0, NULL},
	{"size", "1023", "[fake] size: '1023' is out of range 1024..1073741824 bytes", 10240, 0,
	 NULL},
	{"size", "2g", "[fake] size: '2g' is out of range 1024..1073741824 bytes", 10240, 0, NULL},
	{"size", "-1", "[fake] size: '-1' is not a size (bytes, or a number with k, m or g)", 10240,
	 0, NULL},
	{"size", "1kb", "[fake] size: '1kb' is not a size (bytes, or a number with k, m or g)",
	 10240, 0, NULL},
	{"size", "k", "[fake] size: 'k' is not a size (bytes, or a number with k, m or g)", 10240,
	 0, NULL},
	{"size", "1 k", "[fake] size: '1 k' is not a size (bytes, or a number with k, m or g)",
	 10240, 0, NULL},
	{"size", "1t", "[fake] size: '1t' is not a size (bytes, or a number with k, m or g)", 10240,
	 0, NULL},
	/* SIZE without bounds: overflow */
	{"big", "18446744073709551615", NULL, -1 /* G_MAXUINT64 */, 0, NULL},
	{"big", "18446744073709551616",
	 "[fake] big: '18446744073709551616' is not a size (bytes, or a number with k, m or g)", 0,
	 0, NULL},
	{"big", "17179869184g",
	 "[fake] big: '17179869184g' is not a size (bytes, or a number with k, m or g)", 0, 0,
	 NULL},
	/* DURATION */
	{"duration", "30", NULL, 30, 0, NULL},
	{"duration", "30s", NULL, 30, 0, NULL},
	{"duration", "5m", NULL, 300, 0, NULL},
	{"duration", "2h", NULL, 7200, 0, NULL},
	{"duration", "1d", NULL, 86400, 0, NULL},
	{"duration", "1D", NULL, 86400, 0, NULL},
	{"duration", "0", NULL, 0, 0, NULL},
	{"duration", "1w",
	 "[fake] duration: '1w' is not a duration (seconds, or a number with s, m, h or d)", 120, 0,
	 NULL},
	{"duration", "-5",
	 "[fake] duration: '-5' is not a duration (seconds, or a number with s, m, h or d)", 120, 0,
	 NULL},
	{"duration", "1.5h",
	 "[fake] duration: '1.5h' is not a duration (seconds, or a number with s, m, h or d)", 120,
	 0, NULL},
	{"duration", "99999999999999999999",
	 "[fake] duration: '99999999999999999999' is not a duration (seconds, or a number with s, "
	 "m, h or d)",
	 120, 0, NULL},
	/* DURATION with bounds 1..3600 */
	{"wait", "1h", NULL, 3600, 0, NULL},
	{"wait", "0", "[fake] wait: '0' is out of range 1..3600", 60, 0, NULL},
	{"wait", "2h", "[fake] wait: '2h' is out of range 1..3600", 60, 0, NULL},
	/* DOUBLE with bounds 0..1 */
	{"ratio", "0.25", NULL, 0, 0.25, NULL},
	{"ratio", "1", NULL, 0, 1.0, NULL},
	{"ratio", "0", NULL, 0, 0.0, NULL},
	{"ratio", "1.5", "[fake] ratio: '1.5' is out of range 0..1", 0, 0.5, NULL},
	{"ratio", "-0.1", "[fake] ratio: '-0.1' is out of range 0..1", 0, 0.5, NULL},
	{"ratio", "abc", "[fake] ratio: 'abc' is not a number", 0, 0.5, NULL},
	{"ratio", "0.5x", "[fake] ratio: '0.5x' is not a number", 0, 0.5, NULL},
	{"ratio", "nan", "[fake] ratio: 'nan' is not a number", 0, 0.5, NULL},
	{"ratio", "", "[fake] ratio: '' is not a number", 0, 0.5, NULL},
	/* LIST */
	{"list", "x", NULL, 0, 0, "x"},
	{"list", "x, y ,, z ,", NULL, 0, 0, "x|y|z"},
	{"list", "", NULL, 0, 0, ""},
	{"list", " , ,", NULL, 0, 0, ""},
	{"empty_list", "one,two", NULL, 0, 0, "one|two"},
	/* ENUM */
	{"mode", "discard", NULL, 0, 0, NULL},
	{"mode", "QUARANTINE", NULL, 2, 0, NULL},
	{"mode", "Reject", NULL, 1, 0, NULL},
	{"mode", "drop", "[fake] mode: 'drop' is not one of discard, reject, quarantine", 1, 0,
	 NULL},
	{"mode", "", "[fake] mode: '' is not one of discard, reject, quarantine", 1, 0, NULL},
};

/* row - the table row of @key */
static const MwOption *
row(const char *key)
{
	for (const MwOption *opt = fake_options; opt->key != NULL; opt++) {
		if (strcmp(opt->key, key) == 0)
			return opt;
	}
	ck_abort_msg("no row %s", key);
	return NULL;
}

START_TEST(test_values)
{
	const ValueCase *tc = &value_cases[_i];
	const MwOption *opt = row(tc->key);
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *text = g_strdup_printf("[fake]\n%s = %s\n", tc->key, tc->value);
	g_autofree char *got = NULL;
	FakeConfig fake = {0};
	gpointer ptr = (guint8 *) &fake + opt->offset;
	gboolean ok;

	ok = load_text(text, NULL, &fake, problems);
	got = joined(problems);
	if (tc->problem == NULL) {
		ck_assert_msg(ok, "%s = '%s': unexpected problems: %s", tc->key, tc->value, got);
	} else {
		ck_assert_msg(!ok, "%s = '%s': accepted", tc->key, tc->value);
		ck_assert_str_eq(got, tc->problem);
	}

	switch (opt->type) {
	case MW_OPT_STRING:
	case MW_OPT_PATH:
		ck_assert_str_eq(*(char **) ptr, tc->sval);
		break;
	case MW_OPT_LIST: {
		g_autofree char *items = g_strjoinv("|", *(char ***) ptr);

		ck_assert_str_eq(items, tc->sval);
		break;
	}
	case MW_OPT_BOOL:
		ck_assert_int_eq(*(gboolean *) ptr, tc->ival);
		break;
	case MW_OPT_INT:
	case MW_OPT_DURATION:
		ck_assert_int_eq(*(gint64 *) ptr, tc->ival);
		break;
	case MW_OPT_SIZE:
		ck_assert_uint_eq(*(guint64 *) ptr, (guint64) tc->ival);
		break;
	case MW_OPT_DOUBLE:
		ck_assert_double_eq_tol(*(double *) ptr, tc->dval, 1e-9);
		break;
	case MW_OPT_ENUM:
		ck_assert_int_eq(*(int *) ptr, tc->ival);
		break;
	case MW_OPT_MAP:
		ck_abort_msg("no MAP cases here");
		break;
	}
	fake_clear(&fake);
}
END_TEST

START_TEST(test_map)
{
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
	FakeConfig fake = {0};

	ck_assert(load_text("[fake]\n"
			    "text = generic\n"
			    "text.example.org = for example.org\n"
			    "text.Example.NET =   mixed case\\n  \n"
			    "textual = nope\n"
			    "text. = empty rest\n",
			    NULL, &fake, problems) == FALSE);
	/* "textual" is not under the prefix "text.", and "text." alone has no rest */
	ck_assert_uint_eq(problems->len, 2);
	ck_assert_str_eq(problems->pdata[0], "[fake] unknown key 'textual'");
	ck_assert_str_eq(problems->pdata[1], "[fake] unknown key 'text.'");
	ck_assert_str_eq(fake.text, "generic");
	ck_assert_uint_eq(g_hash_table_size(fake.text_map), 2);
	ck_assert_str_eq(g_hash_table_lookup(fake.text_map, "example.org"), "for example.org");
	ck_assert_str_eq(g_hash_table_lookup(fake.text_map, "example.net"), "mixed case\n");
	ck_assert_ptr_null(g_hash_table_lookup(fake.text_map, "Example.NET"));
	fake_clear(&fake);
}
END_TEST

START_TEST(test_unknown_and_extra_keys)
{
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
	static const char *const extra[] = {"on_error", "also", NULL};
	FakeConfig fake = {0};

	ck_assert(!load_text("[fake]\nfoo = 1\n", NULL, &fake, problems));
	ck_assert_uint_eq(problems->len, 1);
	ck_assert_str_eq(problems->pdata[0], "[fake] unknown key 'foo'");
	assert_defaults(&fake);
	fake_clear(&fake);
	g_ptr_array_set_size(problems, 0);

	/* extra keys are someone else's: accepted, not read */
	ck_assert(load_text("[fake]\non_error = pass\nalso = x\ncount = 9\n", extra, &fake,
			    problems));
	ck_assert_uint_eq(problems->len, 0);
	ck_assert_int_eq(fake.count, 9);
	fake_clear(&fake);

	/* a key given twice: the last value wins, an unknown one is reported once */
	ck_assert(!load_text("[fake]\ncount = 9\ncount = 10\nfoo = 1\nfoo = 2\n", NULL, &fake,
			     problems));
	ck_assert_uint_eq(problems->len, 1);
	ck_assert_str_eq(problems->pdata[0], "[fake] unknown key 'foo'");
	ck_assert_int_eq(fake.count, 10);
	fake_clear(&fake);
	g_ptr_array_set_size(problems, 0);

	/* keys are case-sensitive */
	ck_assert(!load_text("[fake]\nCount = 9\n", extra, &fake, problems));
	ck_assert_str_eq(problems->pdata[0], "[fake] unknown key 'Count'");
	ck_assert_int_eq(fake.count, 5);
	fake_clear(&fake);
}
END_TEST

START_TEST(test_many_problems)
{
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
	FakeConfig fake = {0};

	ck_assert(!load_text("[fake]\n"
			     "flag = perhaps\n"
			     "count = 1000\n"
			     "mode = drop\n"
			     "typo = 1\n"
			     "size = huge\n"
			     "string = fine\n",
			     NULL, &fake, problems));
	ck_assert_uint_eq(problems->len, 5);
	ck_assert_str_eq(
		problems->pdata[0],
		"[fake] flag: 'perhaps' is not a boolean (true/false, yes/no, on/off, 1/0)");
	ck_assert_str_eq(problems->pdata[1], "[fake] count: '1000' is out of range 1..100");
	ck_assert_str_eq(problems->pdata[2],
			 "[fake] size: 'huge' is not a size (bytes, or a number with k, m or g)");
	ck_assert_str_eq(problems->pdata[3],
			 "[fake] mode: 'drop' is not one of discard, reject, quarantine");
	ck_assert_str_eq(problems->pdata[4], "[fake] unknown key 'typo'");
	/* good keys are still read, bad ones keep the default */
	ck_assert_str_eq(fake.string, "fine");
	ck_assert_int_eq(fake.count, 5);
	ck_assert(fake.flag);
	fake_clear(&fake);
}
END_TEST

START_TEST(test_problems_appended)
{
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
	FakeConfig fake = {0};

	g_ptr_array_add(problems, g_strdup("earlier"));
	/* only what this call adds decides the result */
	ck_assert(load_text("[fake]\ncount = 3\n", NULL, &fake, problems));
	ck_assert_uint_eq(problems->len, 1);
	fake_clear(&fake);
	ck_assert(!load_text("[fake]\ncount = x\n", NULL, &fake, problems));
	ck_assert_uint_eq(problems->len, 2);
	ck_assert_str_eq(problems->pdata[0], "earlier");
	fake_clear(&fake);
}
END_TEST

START_TEST(test_clear)
{
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
	FakeConfig fake = {0};

	ck_assert(load_text("[fake]\ntext = t\ntext.a = 1\nunset = u\n", NULL, &fake, problems));
	mw_options_clear(fake_options, &fake);
	ck_assert_ptr_null(fake.string);
	ck_assert_ptr_null(fake.path);
	ck_assert_ptr_null(fake.list);
	ck_assert_ptr_null(fake.text);
	ck_assert_ptr_null(fake.text_map);
	ck_assert_ptr_null(fake.unset);
	/* twice, and on a zeroed struct */
	mw_options_clear(fake_options, &fake);
	mw_options_clear(fake_options, NULL);
}
END_TEST

START_TEST(test_empty_table)
{
	static const MwOption empty[] = {MW_OPTION_END};
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GKeyFile) keyfile = g_key_file_new();
	int dummy = 0;

	ck_assert(g_key_file_load_from_data(keyfile, "[none]\nx = 1\n", (gsize) -1, 0, NULL));
	ck_assert(!mw_options_load(empty, keyfile, "none", NULL, &dummy, problems));
	ck_assert_str_eq(problems->pdata[0], "[none] unknown key 'x'");
	mw_options_clear(empty, &dummy);
}
END_TEST

typedef struct {
	const char *assignment;
	const char *group; /* NULL: must fail */
	const char *key;
	const char *value;
} OverrideCase;

static const OverrideCase override_cases[] = {
	{"workers=20", "mailwarden", "workers", "20"},
	{"  workers = 20  ", "mailwarden", "workers", "20"},
	{"fake.count=7", "fake", "count", "7"},
	{"fake.text.example.org=Hello\\nWorld", "fake", "text.example.org", "Hello\\nWorld"},
	{"modules=", "mailwarden", "modules", ""},
	{"listen=127.0.0.1:25, [::1]:25", "mailwarden", "listen", "127.0.0.1:25, [::1]:25"},
	{"key=a=b", "mailwarden", "key", "a=b"},
	{"nonsense", NULL, NULL, NULL},
	{"=value", NULL, NULL, NULL},
	{".key=value", NULL, NULL, NULL},
	{"fake.=value", NULL, NULL, NULL},
	{"fa[ke.key=value", NULL, NULL, NULL},
	{"key=line\nbreak", NULL, NULL, NULL},
};

START_TEST(test_override)
{
	const OverrideCase *tc = &override_cases[_i];
	g_autoptr(GKeyFile) keyfile = g_key_file_new();
	g_autoptr(GError) error = NULL;
	g_autofree char *value = NULL;

	ck_assert(g_key_file_load_from_data(
		keyfile, "[mailwarden]\nworkers = 5\n[fake]\ncount = 3\n", (gsize) -1, 0, NULL));
	if (tc->group == NULL) {
		ck_assert_msg(
			!mw_options_set_override(keyfile, "mailwarden", tc->assignment, &error),
			"accepted '%s'", tc->assignment);
		ck_assert(g_error_matches(error, MW_ERROR, MW_ERROR_CONFIG));
		ck_assert_ptr_nonnull(strstr(error->message, "override"));
		return;
	}
	ck_assert_msg(mw_options_set_override(keyfile, "mailwarden", tc->assignment, &error), "%s",
		      error != NULL ? error->message : "");
	value = g_key_file_get_value(keyfile, tc->group, tc->key, NULL);
	ck_assert_ptr_nonnull(value);
	ck_assert_str_eq(value, tc->value);
}
END_TEST

START_TEST(test_override_then_load)
{
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GKeyFile) keyfile = g_key_file_new();
	FakeConfig fake = {0};

	ck_assert(g_key_file_load_from_data(keyfile, "[fake]\ncount = 3\n", (gsize) -1, 0, NULL));
	ck_assert(mw_options_set_override(keyfile, "fake", "count=8", NULL));
	ck_assert(mw_options_set_override(keyfile, "other", "fake.text.Example.ORG=x\\sy", NULL));
	ck_assert(mw_options_load(fake_options, keyfile, "fake", NULL, &fake, problems));
	ck_assert_int_eq(fake.count, 8);
	ck_assert_str_eq(g_hash_table_lookup(fake.text_map, "example.org"), "x y");
	fake_clear(&fake);
}
END_TEST

static Suite *
option_suite(void)
{
	Suite *suite = suite_create("option");
	TCase *tc = tcase_create("load");

	tcase_add_test(tc, test_defaults_no_keyfile);
	tcase_add_test(tc, test_defaults_no_group);
	tcase_add_loop_test(tc, test_values, 0, G_N_ELEMENTS(value_cases));
	tcase_add_test(tc, test_map);
	tcase_add_test(tc, test_unknown_and_extra_keys);
	tcase_add_test(tc, test_many_problems);
	tcase_add_test(tc, test_problems_appended);
	tcase_add_test(tc, test_clear);
	tcase_add_test(tc, test_empty_table);
	suite_add_tcase(suite, tc);

	tc = tcase_create("override");
	tcase_add_loop_test(tc, test_override, 0, G_N_ELEMENTS(override_cases));
	tcase_add_test(tc, test_override_then_load);
	suite_add_tcase(suite, tc);
	return suite;
}

int
main(void)
{
	SRunner *runner = srunner_create(option_suite());
	int failed;

	srunner_run_all(runner, CK_NORMAL);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
