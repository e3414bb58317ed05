/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-spam-rspamd - rspamd as the engine (HTTP /checkv2, JSON reply)
 * SYNOPSIS
 *	mw_spam_rspamd_parse_url, mw_spam_rspamd_check, mw_spam_rspamd_ping,
 *	mw_spam_rspamd_parse_reply
 * DESCRIPTION
 *	The request passes what rspamd cannot see in the message as headers
 *	(rspamd's protocol): From (envelope sender), one Rcpt per active
 *	recipient, IP and Helo and Hostname (from XFORWARD), Queue-Id and
 *	MTA-Name. It is HTTP/1.0 with Connection: close, so the reply ends
 *	with the stream; a chunked reply is decoded anyway. The JSON reply is
 *	read with json-glib: "score" and the names of "symbols" (with their
 *	scores). rspamd's action and required_score are ignored: our levels
 *	decide, on rspamd's scale (its default reject threshold is 15).
 */
#include <string.h>

#include <json-glib/json-glib.h>

#include "mw-error.h"
#include "mw-spam-net.h"
#include "mw-spam-rspamd.h"

#define MAX_REPLY (4 * 1024 * 1024)

gboolean
mw_spam_rspamd_parse_url(const char *url, char **target_out, char **path_out, GError **error)
{
	if (g_str_has_prefix(url, "unix:/")) {
		*target_out = g_strdup(url);
		*path_out = g_strdup("");
		return TRUE;
	}
	if (g_ascii_strncasecmp(url, "http://", 7) != 0) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG,
			    "rspamd: '%s' is not http://host:port or unix:/path", url);
		return FALSE;
	}
	const char *host = url + 7;
	const char *slash = strchr(host, '/');
	g_autofree char *hostport =
		slash != NULL ? g_strndup(host, (gsize) (slash - host)) : g_strdup(host);
	g_autofree char *path = g_strdup(slash != NULL ? slash : "");
	while (g_str_has_suffix(path, "/"))
		path[strlen(path) - 1] = '\0';
	if (*hostport == '\0' || strpbrk(path, "?# ") != NULL) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "rspamd: '%s' is not a usable URL",
			    url);
		return FALSE;
	}
	/* a port is there when the last ':' comes after any IPv6 bracket */
	const char *colon = strrchr(hostport, ':');
	const char *bracket = strrchr(hostport, ']');
	gboolean has_port = colon != NULL && (bracket == NULL || colon > bracket);
	*target_out = has_port ? g_steal_pointer(&hostport) : g_strdup_printf("%s:80", hostport);
	*path_out = g_steal_pointer(&path);
	return TRUE;
}

/* header_safe - @value without control characters (it goes into an HTTP header line) */
static char *
header_safe(const char *value)
{
	char *copy = g_strdup(value != NULL ? value : "");
	for (char *p = copy; *p != '\0'; p++) {
		if ((guchar) *p < 0x20 || *p == 0x7f)
			*p = ' ';
	}
	return copy;
}

/* dechunk - decode a chunked HTTP body in place; FALSE if malformed */
static gboolean
dechunk(GString *body)
{
	GString *out = g_string_new(NULL);
	const char *p = body->str, *end = body->str + body->len;
	for (;;) {
		char *stop = NULL;
		guint64 size = g_ascii_strtoull(p, &stop, 16);
		const char *nl = memchr(p, '\n', (gsize) (end - p));
		if (stop == p || nl == NULL || size > (guint64) (end - nl - 1)) {
			g_string_free(out, TRUE);
			return FALSE;
		}
		if (size == 0)
			break;
		g_string_append_len(out, nl + 1, (gssize) size);
		p = nl + 1 + size;
		if (p < end && *p == '\r')
			p++;
		if (p < end && *p == '\n')
			p++;
	}
	g_string_assign(body, out->str);
	g_string_free(out, TRUE);
	return TRUE;
}

gboolean
mw_spam_rspamd_parse_reply(const char *reply, gsize len, MwSpamResult *result, GError **error)
{
	const char *sep = g_strstr_len(reply, (gssize) len, "\r\n\r\n");
	if (sep == NULL) {
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "rspamd: not an HTTP reply");
		return FALSE;
	}
	g_autofree char *head = g_strndup(reply, (gsize) (sep - reply));
	int code = 0;
	if (sscanf(head, "HTTP/%*s %d", &code) != 1 || code != 200) {
		const char *nl = strchr(head, '\r');
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "rspamd replied '%.*s'",
			    (int) (nl != NULL ? nl - head : (gssize) strlen(head)), head);
		return FALSE;
	}
	g_autoptr(GString) body = g_string_new_len(sep + 4, (gssize) (reply + len - sep - 4));
	g_autofree char *lower = g_ascii_strdown(head, -1);
	if (strstr(lower, "transfer-encoding: chunked") != NULL && !dechunk(body)) {
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "rspamd: malformed chunked reply");
		return FALSE;
	}
	g_autoptr(JsonParser) parser = json_parser_new();
	g_autoptr(GError) json_error = NULL;
	if (!json_parser_load_from_data(parser, body->str, (gssize) body->len, &json_error)) {
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "rspamd: bad JSON: %s",
			    json_error->message);
		return FALSE;
	}
	JsonNode *root = json_parser_get_root(parser);
	if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root)) {
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND,
			    "rspamd: the reply is not an object");
		return FALSE;
	}
	JsonObject *object = json_node_get_object(root);
	JsonNode *failure = json_object_get_member(object, "error");
	if (failure != NULL) {
		const char *text =
			JSON_NODE_HOLDS_VALUE(failure) &&
					json_node_get_value_type(failure) == G_TYPE_STRING
				? json_node_get_string(failure)
				: "error";
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "rspamd: %s", text);
		return FALSE;
	}
	JsonNode *score = json_object_get_member(object, "score");
	if (score == NULL || !JSON_NODE_HOLDS_VALUE(score) ||
	    (json_node_get_value_type(score) != G_TYPE_DOUBLE &&
	     json_node_get_value_type(score) != G_TYPE_INT64)) {
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "rspamd: reply without a score");
		return FALSE;
	}
	/* checked node by node: json-glib's typed getters complain on a type mismatch */
	JsonNode *symbols = json_object_get_member(object, "symbols");
	if (symbols != NULL && JSON_NODE_HOLDS_OBJECT(symbols)) {
		JsonObject *table = json_node_get_object(symbols);
		g_autoptr(GList) names = json_object_get_members(table);
		for (GList *l = names; l != NULL; l = l->next) {
			JsonNode *symbol = json_object_get_member(table, l->data);
			JsonNode *value = symbol != NULL && JSON_NODE_HOLDS_OBJECT(symbol)
						  ? json_object_get_member(
							    json_node_get_object(symbol), "score")
						  : NULL;
			double points = value != NULL && JSON_NODE_HOLDS_VALUE(value)
						? json_node_get_double(value)
						: 0.0;
			mw_spam_result_add(result, l->data, points);
		}
	}
	result->score = json_node_get_double(score);
	return TRUE;
}

gboolean
mw_spam_rspamd_check(const char *url, guint timeout, MwTxn *txn, const char *hostname,
		     MwSpamResult *result, GError **error)
{
	g_autofree char *target = NULL, *path = NULL;
	if (!mw_spam_rspamd_parse_url(url, &target, &path, error))
		return FALSE;
	GString *head = g_string_new(NULL);
	g_autofree char *from = header_safe(txn->envelope->sender);
	g_string_append_printf(head,
			       "POST %s/checkv2 HTTP/1.0\r\nConnection: close\r\n"
			       "Content-Length: %" G_GUINT64_FORMAT "\r\nFrom: %s\r\n",
			       path, mw_message_get_size(txn->message), from);
	for (guint i = 0; i < txn->rcpts->len; i++) {
		MwTxnRcpt *rcpt = g_ptr_array_index(txn->rcpts, i);
		if (rcpt->verdict != MW_VERDICT_CONTINUE)
			continue;
		g_autofree char *address = header_safe(rcpt->rcpt->address);
		g_string_append_printf(head, "Rcpt: %s\r\n", address);
	}
	const struct {
		const char *name;
		const char *value;
	} optional[] = {{"IP", txn->client_addr},
			{"Helo", txn->helo},
			{"Hostname", txn->client_name},
			{"Queue-Id", txn->queue_id},
			{"MTA-Name", hostname}};
	for (guint i = 0; i < G_N_ELEMENTS(optional); i++) {
		if (optional[i].value == NULL || *optional[i].value == '\0')
			continue;
		const char *value = optional[i].value;
		if (g_str_equal(optional[i].name, "IP") &&
		    g_ascii_strncasecmp(value, "IPv6:", 5) == 0)
			value += 5;
		g_autofree char *safe = header_safe(value);
		g_string_append_printf(head, "%s: %s\r\n", optional[i].name, safe);
	}
	g_string_append(head, "\r\n");
	g_autofree char *head_text = g_string_free(head, FALSE);
	g_autoptr(GByteArray) reply = mw_spam_exchange("rspamd", target, timeout, head_text,
						       txn->message, MAX_REPLY, error);
	if (reply == NULL)
		return FALSE;
	g_autoptr(GError) parse_error = NULL;
	if (!mw_spam_rspamd_parse_reply((const char *) reply->data, reply->len, result,
					&parse_error)) {
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "rspamd at %s: %s", target,
			    parse_error->message);
		return FALSE;
	}
	return TRUE;
}

gboolean
mw_spam_rspamd_ping(const char *url, guint timeout, GError **error)
{
	g_autofree char *target = NULL, *path = NULL;
	if (!mw_spam_rspamd_parse_url(url, &target, &path, error))
		return FALSE;
	g_autofree char *head =
		g_strdup_printf("GET %s/ping HTTP/1.0\r\nConnection: close\r\n\r\n", path);
	g_autoptr(GByteArray) reply =
		mw_spam_exchange("rspamd", target, timeout, head, NULL, 65536, error);
	if (reply == NULL)
		return FALSE;
	if (strstr((const char *) reply->data, "pong") == NULL) {
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "rspamd at %s did not answer pong",
			    target);
		return FALSE;
	}
	return TRUE;
}
