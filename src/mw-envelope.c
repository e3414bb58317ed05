/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-envelope - the SMTP envelope of a message: sender, recipients,
 *	ESMTP parameters and XFORWARD attributes
 *
 * SYNOPSIS
 *	MwRecipient *mw_recipient_new(const char *address, GPtrArray *params);
 *	MwRecipient *mw_recipient_copy(const MwRecipient *rcpt);
 *	void mw_recipient_free(MwRecipient *rcpt);
 *	MwEnvelope *mw_envelope_new(const char *sender);
 *	MwEnvelope *mw_envelope_new_simple(const char *sender, const char *const *rcpts);
 *	MwEnvelope *mw_envelope_copy(const MwEnvelope *env);
 *	void mw_envelope_free(MwEnvelope *env);
 *	void mw_envelope_add_rcpt(MwEnvelope *env, MwRecipient *rcpt);
 *	const char *mw_envelope_get_xforward(const MwEnvelope *env, const char *name);
 *	GPtrArray *mw_param_array_new(void);
 *	GPtrArray *mw_param_array_copy(const GPtrArray *params);
 *	const char *mw_param_array_get(const GPtrArray *params, const char *keyword,
 *				       gboolean *present_out);
 *	char *mw_envelope_to_text(const MwEnvelope *env, gboolean with_params);
 *	MwEnvelope *mw_envelope_from_text(const char *text, GError **error);
 *
 * DESCRIPTION
 *	Plain data with deep copies; an envelope owns its recipients, their
 *	parameter arrays and the XFORWARD table (NULL until somebody sets one).
 *
 *	The text form (quarantine, scan --out) is one line per entry, LF
 *	terminated: the sender first ("" for <>), then every recipient, bare
 *	(no angle brackets). With parameters, each line continues after a space
 *	with the ESMTP parameters as received ("bob@example.org NOTIFY=NEVER"),
 *	and "XFORWARD NAME=value" lines (xtext-encoded values) follow the
 *	recipients. A quoted local part may contain spaces; the address ends at
 *	the first space outside quotes. mw_envelope_from_text() reads both
 *	forms and also accepts CRLF line ends.
 */

#include <string.h>

#include "mw-envelope.h"
#include "mw-error.h"

/* XFORWARD attributes in the order Postfix documents them; others follow sorted */
static const char *const xforward_order[] = {
	"NAME", "ADDR", "PORT", "PROTO", "HELO", "IDENT", "SOURCE",
};

/* param_free - free one MwSmtpParam */
static void
param_free(gpointer data)
{
	MwSmtpParam *param = data;

	if (param == NULL)
		return;
	g_free(param->keyword);
	g_free(param->value);
	g_free(param);
}

/* param_new - a parameter; the keyword is upper-cased */
static MwSmtpParam *
param_new(const char *keyword, gssize keyword_len, const char *value)
{
	MwSmtpParam *param = g_new0(MwSmtpParam, 1);

	param->keyword = g_ascii_strup(keyword, keyword_len);
	param->value = g_strdup(value);
	return param;
}

GPtrArray *
mw_param_array_new(void)
{
	return g_ptr_array_new_with_free_func(param_free);
}

/**
 * mw_param_array_copy:
 * @params: (nullable)
 *
 * Returns: (transfer full): a deep copy; an empty array for NULL
 */
GPtrArray *
mw_param_array_copy(const GPtrArray *params)
{
	GPtrArray *copy = mw_param_array_new();

	for (guint i = 0; params != NULL && i < params->len; i++) {
		const MwSmtpParam *param = g_ptr_array_index((GPtrArray *) params, i);

		g_ptr_array_add(copy, param_new(param->keyword, -1, param->value));
	}
	return copy;
}

/**
 * mw_param_array_get:
 * @params: (nullable)
 * @present_out: (out) (optional): whether the keyword is there at all
 *
 * Returns: (transfer none) (nullable): the value of @keyword (case-insensitive);
 * NULL when absent or when it has no value (SMTPUTF8)
 */
const char *
mw_param_array_get(const GPtrArray *params, const char *keyword, gboolean *present_out)
{
	if (present_out != NULL)
		*present_out = FALSE;
	g_return_val_if_fail(keyword != NULL, NULL);

	for (guint i = 0; params != NULL && i < params->len; i++) {
		const MwSmtpParam *param = g_ptr_array_index((GPtrArray *) params, i);

		if (g_ascii_strcasecmp(param->keyword, keyword) == 0) {
			if (present_out != NULL)
				*present_out = TRUE;
			return param->value;
		}
	}
	return NULL;
}

/**
 * mw_recipient_new:
 * @params: (transfer full) (nullable): RCPT parameters; NULL for none
 */
MwRecipient *
mw_recipient_new(const char *address, GPtrArray *params)
{
	MwRecipient *rcpt;

	g_return_val_if_fail(address != NULL, NULL);

	rcpt = g_new0(MwRecipient, 1);
	rcpt->address = g_strdup(address);
	rcpt->params = params != NULL ? params : mw_param_array_new();
	return rcpt;
}

MwRecipient *
mw_recipient_copy(const MwRecipient *rcpt)
{
	g_return_val_if_fail(rcpt != NULL, NULL);
	return mw_recipient_new(rcpt->address, mw_param_array_copy(rcpt->params));
}

void
mw_recipient_free(MwRecipient *rcpt)
{
	if (rcpt == NULL)
		return;
	g_free(rcpt->address);
	if (rcpt->params != NULL)
		g_ptr_array_unref(rcpt->params);
	g_free(rcpt);
}

/**
 * mw_envelope_new:
 * @sender: "" for the null sender
 *
 * Returns: (transfer full): an envelope without parameters, recipients or
 * XFORWARD attributes (xforward is NULL)
 */
MwEnvelope *
mw_envelope_new(const char *sender)
{
	MwEnvelope *env;

	g_return_val_if_fail(sender != NULL, NULL);

	env = g_new0(MwEnvelope, 1);
	env->sender = g_strdup(sender);
	env->mail_params = mw_param_array_new();
	env->rcpts = g_ptr_array_new_with_free_func((GDestroyNotify) mw_recipient_free);
	return env;
}

MwEnvelope *
mw_envelope_new_simple(const char *sender, const char *const *rcpts)
{
	MwEnvelope *env = mw_envelope_new(sender);

	for (guint i = 0; rcpts != NULL && rcpts[i] != NULL; i++)
		mw_envelope_add_rcpt(env, mw_recipient_new(rcpts[i], NULL));
	return env;
}

/* xforward_table_new - name -> value, both owned */
static GHashTable *
xforward_table_new(void)
{
	return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

MwEnvelope *
mw_envelope_copy(const MwEnvelope *env)
{
	MwEnvelope *copy;

	g_return_val_if_fail(env != NULL, NULL);

	copy = mw_envelope_new(env->sender);
	g_ptr_array_unref(copy->mail_params);
	copy->mail_params = mw_param_array_copy(env->mail_params);
	for (guint i = 0; env->rcpts != NULL && i < env->rcpts->len; i++)
		mw_envelope_add_rcpt(copy, mw_recipient_copy(g_ptr_array_index(env->rcpts, i)));
	if (env->xforward != NULL) {
		GHashTableIter iter;
		gpointer key;
		gpointer value;

		copy->xforward = xforward_table_new();
		g_hash_table_iter_init(&iter, env->xforward);
		while (g_hash_table_iter_next(&iter, &key, &value))
			g_hash_table_insert(copy->xforward, g_strdup(key), g_strdup(value));
	}
	return copy;
}

void
mw_envelope_free(MwEnvelope *env)
{
	if (env == NULL)
		return;
	g_free(env->sender);
	if (env->mail_params != NULL)
		g_ptr_array_unref(env->mail_params);
	if (env->rcpts != NULL)
		g_ptr_array_unref(env->rcpts);
	if (env->xforward != NULL)
		g_hash_table_unref(env->xforward);
	g_free(env);
}

void
mw_envelope_add_rcpt(MwEnvelope *env, MwRecipient *rcpt)
{
	g_return_if_fail(env != NULL);
	g_return_if_fail(rcpt != NULL);
	g_ptr_array_add(env->rcpts, rcpt);
}

/**
 * mw_envelope_get_xforward:
 * @name: attribute name, any case
 *
 * Returns: (transfer none) (nullable): the decoded value, NULL when absent or
 * "[UNAVAILABLE]"
 */
const char *
mw_envelope_get_xforward(const MwEnvelope *env, const char *name)
{
	g_autofree char *key = NULL;
	const char *value;

	g_return_val_if_fail(env != NULL, NULL);
	g_return_val_if_fail(name != NULL, NULL);

	if (env->xforward == NULL)
		return NULL;
	key = g_ascii_strup(name, -1);
	value = g_hash_table_lookup(env->xforward, key);
	if (value == NULL || g_ascii_strcasecmp(value, "[UNAVAILABLE]") == 0)
		return NULL;
	return value;
}

/* append_params - " KEY=value KEY2" */
static void
append_params(GString *out, const GPtrArray *params)
{
	for (guint i = 0; params != NULL && i < params->len; i++) {
		const MwSmtpParam *param = g_ptr_array_index((GPtrArray *) params, i);

		g_string_append_printf(out, " %s", param->keyword);
		if (param->value != NULL)
			g_string_append_printf(out, "=%s", param->value);
	}
}

/* append_xforward - one "XFORWARD NAME=xtext" line */
static void
append_xforward(GString *out, const char *name, const char *value)
{
	g_autofree char *encoded = mw_xtext_encode(value);

	g_string_append_printf(out, "XFORWARD %s=%s\n", name, encoded);
}

/* is_known_xforward - one of the attributes of xforward_order */
static gboolean
is_known_xforward(const char *name)
{
	for (gsize i = 0; i < G_N_ELEMENTS(xforward_order); i++) {
		if (strcmp(xforward_order[i], name) == 0)
			return TRUE;
	}
	return FALSE;
}

/**
 * mw_envelope_to_text:
 * @with_params: also write ESMTP parameters and XFORWARD lines
 *
 * Returns: (transfer full): the text form described at the top of this file
 */
char *
mw_envelope_to_text(const MwEnvelope *env, gboolean with_params)
{
	GString *out;

	g_return_val_if_fail(env != NULL, NULL);

	out = g_string_new(env->sender);
	if (with_params)
		append_params(out, env->mail_params);
	g_string_append_c(out, '\n');
	for (guint i = 0; env->rcpts != NULL && i < env->rcpts->len; i++) {
		const MwRecipient *rcpt = g_ptr_array_index(env->rcpts, i);

		g_string_append(out, rcpt->address);
		if (with_params)
			append_params(out, rcpt->params);
		g_string_append_c(out, '\n');
	}
	if (with_params && env->xforward != NULL) {
		g_autoptr(GList) others = NULL;

		for (gsize i = 0; i < G_N_ELEMENTS(xforward_order); i++) {
			const char *value = g_hash_table_lookup(env->xforward, xforward_order[i]);

			if (value != NULL)
				append_xforward(out, xforward_order[i], value);
		}
		others = g_hash_table_get_keys(env->xforward);
		others = g_list_sort(others, (GCompareFunc) strcmp);
		for (GList *l = others; l != NULL; l = l->next) {
			if (!is_known_xforward(l->data))
				append_xforward(out, l->data,
						g_hash_table_lookup(env->xforward, l->data));
		}
	}
	return g_string_free(out, FALSE);
}

/* address_end - the first space outside a quoted string (or the end) */
static const char *
address_end(const char *line)
{
	gboolean quoted = FALSE;
	const char *p = line;

	for (; *p != '\0'; p++) {
		if (quoted && *p == '\\' && p[1] != '\0')
			p++;
		else if (*p == '"')
			quoted = !quoted;
		else if (*p == ' ' && !quoted)
			break;
	}
	return p;
}

/* parse_params - "KEY=value KEY2" into @params */
static gboolean
parse_params(const char *text, GPtrArray *params, guint lineno, GError **error)
{
	g_auto(GStrv) tokens = g_strsplit(text, " ", -1);

	for (guint i = 0; tokens[i] != NULL; i++) {
		const char *token = tokens[i];
		const char *eq;

		if (token[0] == '\0')
			continue;
		eq = strchr(token, '=');
		if (eq == token) {
			g_set_error(error, MW_ERROR, MW_ERROR_PROTOCOL,
				    "envelope line %u: bad parameter \"%s\"", lineno, token);
			return FALSE;
		}
		if (eq != NULL)
			g_ptr_array_add(params, param_new(token, eq - token, eq + 1));
		else
			g_ptr_array_add(params, param_new(token, -1, NULL));
	}
	return TRUE;
}

/* parse_path_line - "address [params]" */
static gboolean
parse_path_line(const char *line, char **address_out, GPtrArray *params, guint lineno,
		GError **error)
{
	const char *end = address_end(line);

	*address_out = g_strndup(line, end - line);
	if (*end == ' ' && !parse_params(end + 1, params, lineno, error)) {
		g_clear_pointer(address_out, g_free);
		return FALSE;
	}
	return TRUE;
}

/* parse_xforward_line - "NAME=xtext" after "XFORWARD " */
static gboolean
parse_xforward_line(MwEnvelope *env, const char *args, guint lineno, GError **error)
{
	const char *eq = strchr(args, '=');
	g_autofree char *name = NULL;
	g_autofree char *value = NULL;

	if (eq == NULL || eq == args) {
		g_set_error(error, MW_ERROR, MW_ERROR_PROTOCOL,
			    "envelope line %u: expected XFORWARD NAME=value", lineno);
		return FALSE;
	}
	value = mw_xtext_decode(eq + 1, NULL);
	if (value == NULL) {
		g_set_error(error, MW_ERROR, MW_ERROR_PROTOCOL,
			    "envelope line %u: bad xtext in XFORWARD value", lineno);
		return FALSE;
	}
	name = g_ascii_strup(args, eq - args);
	if (env->xforward == NULL)
		env->xforward = xforward_table_new();
	g_hash_table_replace(env->xforward, g_steal_pointer(&name), g_steal_pointer(&value));
	return TRUE;
}

/**
 * mw_envelope_from_text:
 *
 * Parses what mw_envelope_to_text() wrote, with or without parameters.
 * Blank lines after the sender are ignored.
 *
 * Returns: (transfer full): the envelope, or NULL with MW_ERROR_PROTOCOL
 */
MwEnvelope *
mw_envelope_from_text(const char *text, GError **error)
{
	g_auto(GStrv) lines = NULL;
	g_autoptr(MwEnvelope) env = NULL;
	g_autofree char *sender = NULL;
	g_autoptr(GPtrArray) sender_params = mw_param_array_new();
	guint nlines;

	g_return_val_if_fail(text != NULL, NULL);

	if (text[0] == '\0') {
		g_set_error_literal(error, MW_ERROR, MW_ERROR_PROTOCOL, "envelope text is empty");
		return NULL;
	}
	lines = g_strsplit(text, "\n", -1);
	nlines = g_strv_length(lines);
	for (guint i = 0; i < nlines; i++) {
		gsize len = strlen(lines[i]);

		if (len > 0 && lines[i][len - 1] == '\r')
			lines[i][len - 1] = '\0';
	}
	if (!parse_path_line(lines[0], &sender, sender_params, 1, error))
		return NULL;
	env = mw_envelope_new(sender);
	g_ptr_array_unref(env->mail_params);
	env->mail_params = g_steal_pointer(&sender_params);

	for (guint i = 1; i < nlines; i++) {
		const char *line = lines[i];
		g_autofree char *address = NULL;
		g_autoptr(GPtrArray) params = NULL;

		if (line[0] == '\0')
			continue;
		/* an unquoted address cannot contain a space, so this is no recipient */
		if (g_str_has_prefix(line, "XFORWARD ")) {
			if (!parse_xforward_line(env, line + strlen("XFORWARD "), i + 1, error))
				return NULL;
			continue;
		}
		params = mw_param_array_new();
		if (!parse_path_line(line, &address, params, i + 1, error))
			return NULL;
		if (address[0] == '\0') {
			g_set_error(error, MW_ERROR, MW_ERROR_PROTOCOL,
				    "envelope line %u: empty recipient", i + 1);
			return NULL;
		}
		mw_envelope_add_rcpt(env, mw_recipient_new(address, g_steal_pointer(&params)));
	}
	return g_steal_pointer(&env);
}
