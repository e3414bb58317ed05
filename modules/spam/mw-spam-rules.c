/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-spam-rules - the builtin engine's rules file: parse, compile, match
 * SYNOPSIS
 *	mw_spam_rules_load, mw_spam_rules_parse, mw_spam_rules_free,
 *	mw_spam_rules_count, mw_spam_rules_need_text, mw_spam_rules_need_mime,
 *	mw_spam_rules_eval, mw_spam_gtube
 * DESCRIPTION
 *	One rule a line (README.md has the format):
 *	  header NAME SCORE Header[|Header...] =~ /REGEX/FLAGS   (or !~)
 *	  body   NAME SCORE /REGEX/FLAGS
 *	  uri    NAME SCORE /REGEX/FLAGS
 *	  raw    NAME SCORE /REGEX/FLAGS
 *	The regex runs from the first '/' to the last '/' of the line, so it
 *	needs no escaping of '/'. Rules are compiled once, in the master
 *	(configure), with GRegex (PCRE2, JIT through G_REGEX_OPTIMIZE) and
 *	shared read-only by the workers. Every error names the file and line.
 *	Header values are the decoded, unfolded values GMime gives; raw rules
 *	match bytes (G_REGEX_RAW), the others UTF-8 text.
 */
#include <string.h>

#include "mw-error.h"
#include "mw-spam-rules.h"

typedef enum {
	RULE_HEADER,
	RULE_BODY,
	RULE_URI,
	RULE_RAW,
} RuleKind;

typedef struct {
	RuleKind kind;
	char *name;
	double score;
	char **headers; /* RULE_HEADER: names; "ALL" is the whole header block */
	gboolean negate;
	GRegex *regex;
} Rule;

struct _MwSpamRules {
	GPtrArray *rules; /* Rule */
	gboolean need_text;
	gboolean need_mime;
};

static void
rule_free(Rule *rule)
{
	g_free(rule->name);
	g_strfreev(rule->headers);
	if (rule->regex != NULL)
		g_regex_unref(rule->regex);
	g_free(rule);
}

/* next_field - the next space-separated field of *@p, advancing it; NULL at the end */
static char *
next_field(const char **p)
{
	const char *s = *p;
	while (g_ascii_isspace(*s))
		s++;
	if (*s == '\0')
		return NULL;
	const char *e = s;
	while (*e != '\0' && !g_ascii_isspace(*e))
		e++;
	*p = e;
	return g_strndup(s, (gsize) (e - s));
}

/* valid_name - [A-Za-z0-9_], 1 to 64 characters */
static gboolean
valid_name(const char *name)
{
	gsize n = strlen(name);
	if (n == 0 || n > 64)
		return FALSE;
	for (const char *p = name; *p != '\0'; p++) {
		if (!g_ascii_isalnum(*p) && *p != '_')
			return FALSE;
	}
	return TRUE;
}

/* compile - "/REGEX/FLAGS" into a GRegex */
static GRegex *
compile(const char *spec, gboolean raw, GError **error)
{
	while (g_ascii_isspace(*spec))
		spec++;
	const char *last = strrchr(spec, '/');
	if (*spec != '/' || last == spec) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "expected /REGEX/FLAGS, got '%s'",
			    spec);
		return NULL;
	}
	GRegexCompileFlags flags = G_REGEX_OPTIMIZE | (raw ? G_REGEX_RAW : 0);
	for (const char *f = last + 1; *f != '\0'; f++) {
		switch (*f) {
		case 'i':
			flags |= G_REGEX_CASELESS;
			break;
		case 'm':
			flags |= G_REGEX_MULTILINE;
			break;
		case 's':
			flags |= G_REGEX_DOTALL;
			break;
		case 'x':
			flags |= G_REGEX_EXTENDED;
			break;
		case ' ':
		case '\t':
		case '\r':
			break;
		default:
			g_set_error(error, MW_ERROR, MW_ERROR_CONFIG,
				    "unknown regex flag '%c' (use i, m, s, x)", *f);
			return NULL;
		}
	}
	g_autofree char *pattern = g_strndup(spec + 1, (gsize) (last - spec - 1));
	if (*pattern == '\0') {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "empty regex");
		return NULL;
	}
	return g_regex_new(pattern, flags, 0, error);
}

/* parse_line - one rule line; NULL with @error when it is wrong */
static Rule *
parse_line(const char *line, GHashTable *names, GError **error)
{
	const char *p = line;
	g_autofree char *kind = next_field(&p);
	g_autofree char *name = next_field(&p);
	g_autofree char *score_text = next_field(&p);
	if (kind == NULL || name == NULL || score_text == NULL) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "expected TYPE NAME SCORE ...");
		return NULL;
	}
	Rule *rule = g_new0(Rule, 1);
	g_autoptr(GPtrArray) guard = g_ptr_array_new_with_free_func((GDestroyNotify) rule_free);
	g_ptr_array_add(guard, rule);
	if (g_str_equal(kind, "header"))
		rule->kind = RULE_HEADER;
	else if (g_str_equal(kind, "body"))
		rule->kind = RULE_BODY;
	else if (g_str_equal(kind, "uri"))
		rule->kind = RULE_URI;
	else if (g_str_equal(kind, "raw"))
		rule->kind = RULE_RAW;
	else {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG,
			    "unknown rule type '%s' (header, body, uri, raw)", kind);
		return NULL;
	}
	if (!valid_name(name)) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG,
			    "rule name '%s': use letters, digits and _ (at most 64)", name);
		return NULL;
	}
	if (g_hash_table_contains(names, name)) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "rule %s is defined twice", name);
		return NULL;
	}
	char *end = NULL;
	rule->score = g_ascii_strtod(score_text, &end);
	if (end == score_text || *end != '\0' || rule->score < -1000 || rule->score > 1000) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG,
			    "rule %s: score '%s' is not a number in [-1000, 1000]", name,
			    score_text);
		return NULL;
	}
	if (rule->kind == RULE_HEADER) {
		g_autofree char *headers = next_field(&p);
		g_autofree char *op = next_field(&p);
		if (headers == NULL || op == NULL ||
		    (!g_str_equal(op, "=~") && !g_str_equal(op, "!~"))) {
			g_set_error(error, MW_ERROR, MW_ERROR_CONFIG,
				    "rule %s: expected Header =~ /REGEX/ or Header !~ /REGEX/",
				    name);
			return NULL;
		}
		rule->headers = g_strsplit(headers, "|", -1);
		for (guint i = 0; rule->headers[i] != NULL; i++) {
			if (*rule->headers[i] == '\0') {
				g_set_error(error, MW_ERROR, MW_ERROR_CONFIG,
					    "rule %s: empty header name", name);
				return NULL;
			}
		}
		rule->negate = op[0] == '!';
	}
	g_autoptr(GError) regex_error = NULL;
	rule->regex = compile(p, rule->kind == RULE_RAW, &regex_error);
	if (rule->regex == NULL) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "rule %s: %s", name,
			    regex_error->message);
		return NULL;
	}
	rule->name = g_steal_pointer(&name);
	g_hash_table_add(names, rule->name);
	/* the guard lets go: the caller owns the rule from here */
	g_ptr_array_steal_index(guard, 0);
	return rule;
}

MwSpamRules *
mw_spam_rules_parse(const char *text, const char *origin, GError **error)
{
	g_autoptr(MwSpamRules) rules = g_new0(MwSpamRules, 1);
	rules->rules = g_ptr_array_new_with_free_func((GDestroyNotify) rule_free);
	g_autoptr(GHashTable) names = g_hash_table_new(g_str_hash, g_str_equal);
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	g_autoptr(GString) problems = g_string_new(NULL);
	guint n_problems = 0;
	for (guint i = 0; lines[i] != NULL; i++) {
		g_strstrip(lines[i]);
		if (lines[i][0] == '\0' || lines[i][0] == '#')
			continue;
		g_autoptr(GError) line_error = NULL;
		Rule *rule = parse_line(lines[i], names, &line_error);
		if (rule == NULL) {
			/* report several, not only the first: a config check should say it all */
			if (n_problems++ < 5)
				g_string_append_printf(problems, "%s%s:%u: %s",
						       problems->len > 0 ? "; " : "", origin, i + 1,
						       line_error->message);
			continue;
		}
		if (rule->kind == RULE_BODY || rule->kind == RULE_URI)
			rules->need_text = TRUE;
		if (rule->kind == RULE_HEADER)
			rules->need_mime = TRUE;
		g_ptr_array_add(rules->rules, rule);
	}
	if (n_problems > 0) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "rules: %s%s", problems->str,
			    n_problems > 5 ? " (and more)" : "");
		return NULL;
	}
	return g_steal_pointer(&rules);
}

MwSpamRules *
mw_spam_rules_load(const char *path, GError **error)
{
	g_autofree char *text = NULL;
	g_autoptr(GError) local_error = NULL;
	if (!g_file_get_contents(path, &text, NULL, &local_error)) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "rules: %s", local_error->message);
		return NULL;
	}
	if (!g_utf8_validate(text, -1, NULL)) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "rules: %s is not UTF-8", path);
		return NULL;
	}
	return mw_spam_rules_parse(text, path, error);
}

void
mw_spam_rules_free(MwSpamRules *rules)
{
	if (rules == NULL)
		return;
	g_clear_pointer(&rules->rules, g_ptr_array_unref);
	g_free(rules);
}

guint
mw_spam_rules_count(const MwSpamRules *rules)
{
	return rules != NULL ? rules->rules->len : 0;
}

gboolean
mw_spam_rules_need_text(const MwSpamRules *rules)
{
	return rules != NULL && rules->need_text;
}

gboolean
mw_spam_rules_need_mime(const MwSpamRules *rules)
{
	return rules != NULL && rules->need_mime;
}

/* padded_dup - @len bytes of @text followed by zeroed slack: PCRE2's JIT reads the subject in
 * 16-byte vector loads and may look past its end (harmless, but valgrind reports it) */
static char *
padded_dup(const char *text, gsize len)
{
	char *copy = g_malloc0(len + 64);
	memcpy(copy, text, len);
	return copy;
}

/* regex_found - @regex matches somewhere in @text (@len bytes, from padded_dup) */
static gboolean
regex_found(const GRegex *regex, const char *text, gsize len)
{
	return g_regex_match_full(regex, text, (gssize) len, 0, 0, NULL, NULL);
}

/* header_block - "Name: value\n" for every header, decoded (for "ALL" rules) */
static char *
header_block(GMimeMessage *mime)
{
	GMimeHeaderList *list = g_mime_object_get_header_list(GMIME_OBJECT(mime));
	GString *out = g_string_new(NULL);
	int n = g_mime_header_list_get_count(list);
	for (int i = 0; i < n; i++) {
		GMimeHeader *header = g_mime_header_list_get_header_at(list, i);
		const char *value = g_mime_header_get_value(header);
		g_string_append_printf(out, "%s: %s\n", g_mime_header_get_name(header),
				       value != NULL ? value : "");
	}
	g_autofree char *valid = g_utf8_make_valid(out->str, (gssize) out->len);
	g_string_free(out, TRUE);
	return padded_dup(valid, strlen(valid));
}

/* header_matches - some instance of one of the rule's headers matches */
static gboolean
header_matches(const Rule *rule, GMimeMessage *mime, char **all_cache)
{
	GMimeHeaderList *list = g_mime_object_get_header_list(GMIME_OBJECT(mime));
	int n = g_mime_header_list_get_count(list);
	for (guint h = 0; rule->headers[h] != NULL; h++) {
		const char *want = rule->headers[h];
		if (g_ascii_strcasecmp(want, "ALL") == 0) {
			if (*all_cache == NULL)
				*all_cache = header_block(mime);
			if (regex_found(rule->regex, *all_cache, strlen(*all_cache)))
				return TRUE;
			continue;
		}
		for (int i = 0; i < n; i++) {
			GMimeHeader *header = g_mime_header_list_get_header_at(list, i);
			if (g_ascii_strcasecmp(g_mime_header_get_name(header), want) != 0)
				continue;
			const char *value = g_mime_header_get_value(header);
			g_autofree char *valid = g_utf8_make_valid(value != NULL ? value : "", -1);
			gsize len = strlen(valid);
			g_autofree char *padded = padded_dup(valid, len);
			if (regex_found(rule->regex, padded, len))
				return TRUE;
		}
	}
	return FALSE;
}

void
mw_spam_rules_eval(const MwSpamRules *rules, GMimeMessage *mime, const MwSpamText *text,
		   const char *raw, gsize raw_len, MwSpamResult *result)
{
	if (rules == NULL)
		return;
	g_autofree char *all_headers = NULL;
	g_autofree char *body = text != NULL ? padded_dup(text->body->str, text->body->len) : NULL;
	g_autofree char *raw_copy = raw != NULL ? padded_dup(raw, raw_len) : NULL;
	g_autoptr(GPtrArray) uris = g_ptr_array_new_with_free_func(g_free);
	for (guint u = 0; text != NULL && u < text->uris->len; u++) {
		const char *uri = g_ptr_array_index(text->uris, u);
		g_ptr_array_add(uris, padded_dup(uri, strlen(uri)));
	}
	for (guint i = 0; i < rules->rules->len; i++) {
		const Rule *rule = g_ptr_array_index(rules->rules, i);
		gboolean hit = FALSE;
		switch (rule->kind) {
		case RULE_HEADER:
			if (mime == NULL)
				continue;
			hit = header_matches(rule, mime, &all_headers) != rule->negate;
			break;
		case RULE_BODY:
			hit = body != NULL && regex_found(rule->regex, body, text->body->len);
			break;
		case RULE_URI:
			for (guint u = 0; u < uris->len && !hit; u++) {
				const char *uri = g_ptr_array_index(uris, u);
				hit = regex_found(rule->regex, uri, strlen(uri));
			}
			break;
		case RULE_RAW:
			hit = raw_copy != NULL && regex_found(rule->regex, raw_copy, raw_len);
			break;
		}
		if (hit)
			mw_spam_result_add(result, rule->name, rule->score);
	}
}

gboolean
mw_spam_gtube(const char *raw, gsize raw_len)
{
	return raw != NULL && memmem(raw, raw_len, MW_SPAM_GTUBE, sizeof MW_SPAM_GTUBE - 1) != NULL;
}
