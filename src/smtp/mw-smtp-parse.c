/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-smtp-parse - parse SMTP command lines (verbs, MAIL/RCPT paths, XFORWARD)
 *
 * SYNOPSIS
 *	MwSmtpVerb mw_smtp_parse_verb(const char *line, const char **args_out);
 *	MwSmtpPath *mw_smtp_parse_mail(const char *args, GError **error);
 *	MwSmtpPath *mw_smtp_parse_rcpt(const char *args, GError **error);
 *	void mw_smtp_path_free(MwSmtpPath *path);
 *	const char *mw_smtp_path_get_param(const MwSmtpPath *path, const char *keyword,
 *					   gboolean *present_out);
 *	gboolean mw_smtp_parse_xforward(const char *args, GHashTable *attrs, GError **error);
 *	char *mw_xtext_decode(const char *text, GError **error);
 *	char *mw_xtext_encode(const char *text);
 *	gboolean mw_address_split(const char *address, char **local_out, char **domain_out);
 *	char *mw_address_normalize(const char *address);
 *
 * DESCRIPTION
 *	Everything here reads hostile input: the scanners only advance over bytes
 *	they have checked, so the terminating NUL always stops them, and nothing
 *	is read past it. Errors are MW_ERROR_PROTOCOL and their message is the
 *	SMTP reply to send ("501 5.1.7 Bad sender address syntax").
 *
 *	Paths follow RFC 5321 §4.1.2 with the RFC 6531 UTF-8 extension. Unquoted
 *	local parts are atext and dots in any order (real senders use "a..b" and
 *	"a.@"); domains are LDH labels (UTF-8 bytes allowed) or an IPv4 or
 *	"IPv6:" address literal; general address literals are refused.
 *
 *	mw_smtp_parse_xforward() stores g_strdup()ed keys and values, so @attrs
 *	must be g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free).
 *	It changes @attrs only when the whole command is valid.
 */

#include "mw-smtp-parse.h"

#include <arpa/inet.h>
#include <string.h>

#include "mw-error.h"

/* at most this many bytes of a peer-supplied keyword are echoed in a reply */
#define MW_ECHO_MAX 64

/* the longest XFORWARD attribute value (decoded) */
#define MW_XFORWARD_VALUE_MAX 255

static const struct {
	const char *name;
	MwSmtpVerb verb;
} mw_smtp_verbs[] = {
	{"HELO", MW_SMTP_VERB_HELO}, {"EHLO", MW_SMTP_VERB_EHLO},
	{"LHLO", MW_SMTP_VERB_LHLO}, {"MAIL", MW_SMTP_VERB_MAIL},
	{"RCPT", MW_SMTP_VERB_RCPT}, {"DATA", MW_SMTP_VERB_DATA},
	{"RSET", MW_SMTP_VERB_RSET}, {"NOOP", MW_SMTP_VERB_NOOP},
	{"QUIT", MW_SMTP_VERB_QUIT}, {"XFORWARD", MW_SMTP_VERB_XFORWARD},
	{"VRFY", MW_SMTP_VERB_VRFY}, {"HELP", MW_SMTP_VERB_HELP},
	{"BDAT", MW_SMTP_VERB_BDAT}, {"STARTTLS", MW_SMTP_VERB_STARTTLS},
	{"AUTH", MW_SMTP_VERB_AUTH},
};

MwSmtpVerb
mw_smtp_parse_verb(const char *line, const char **args_out)
{
	MwSmtpVerb verb = MW_SMTP_VERB_UNKNOWN;
	gsize len;
	const char *p;

	g_return_val_if_fail(line != NULL, MW_SMTP_VERB_UNKNOWN);

	len = strcspn(line, " ");
	for (gsize i = 0; i < G_N_ELEMENTS(mw_smtp_verbs); i++) {
		if (strlen(mw_smtp_verbs[i].name) == len &&
		    g_ascii_strncasecmp(line, mw_smtp_verbs[i].name, len) == 0) {
			verb = mw_smtp_verbs[i].verb;
			break;
		}
	}
	p = line + len;
	while (*p == ' ')
		p++;
	if (args_out != NULL)
		*args_out = p;
	return verb;
}

static void
mw_smtp_param_free(gpointer data)
{
	MwSmtpParam *param = data;

	g_free(param->keyword);
	g_free(param->value);
	g_free(param);
}

void
mw_smtp_path_free(MwSmtpPath *path)
{
	if (path == NULL)
		return;
	g_free(path->address);
	if (path->params != NULL)
		g_ptr_array_unref(path->params);
	g_free(path);
}

const char *
mw_smtp_path_get_param(const MwSmtpPath *path, const char *keyword, gboolean *present_out)
{
	if (present_out != NULL)
		*present_out = FALSE;
	g_return_val_if_fail(path != NULL, NULL);
	g_return_val_if_fail(keyword != NULL, NULL);

	for (guint i = 0; path->params != NULL && i < path->params->len; i++) {
		const MwSmtpParam *param = g_ptr_array_index(path->params, i);

		if (g_ascii_strcasecmp(param->keyword, keyword) == 0) {
			if (present_out != NULL)
				*present_out = TRUE;
			return param->value;
		}
	}
	return NULL;
}

/* ---- addresses ---- */

static gboolean
mw_is_atext(guchar c)
{
	if (g_ascii_isalnum(c) || c >= 0x80)
		return TRUE;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static gboolean
mw_is_ldh(guchar c)
{
	return g_ascii_isalnum(c) || c == '-' || c >= 0x80;
}

/* Domain = sub-domain *("." sub-domain); advances *pp past it */
static gboolean
mw_parse_domain(const char **pp)
{
	const char *p = *pp;

	for (;;) {
		const char *label = p;

		while (mw_is_ldh((guchar) *p))
			p++;
		if (p == label || *label == '-' || p[-1] == '-')
			return FALSE;
		if (*p != '.')
			break;
		p++;
	}
	*pp = p;
	return TRUE;
}

/* "[192.0.2.1]" or "[IPv6:2001:db8::1]"; *pp points at the '[' */
static gboolean
mw_parse_address_literal(const char **pp)
{
	const char *start = *pp + 1;
	const char *end = start;
	g_autofree char *text = NULL;
	guint8 addr[16];
	int rc;

	while (*end != '\0' && *end != ']' && end - start <= 64)
		end++;
	if (*end != ']')
		return FALSE;
	text = g_strndup(start, end - start);
	if (g_ascii_strncasecmp(text, "IPv6:", 5) == 0)
		rc = inet_pton(AF_INET6, text + 5, addr);
	else
		rc = inet_pton(AF_INET, text, addr);
	if (rc != 1)
		return FALSE;
	*pp = end + 1;
	return TRUE;
}

/* Local-part = Dot-string / Quoted-string; advances *pp past it */
static gboolean
mw_parse_local_part(const char **pp, gboolean *quoted_out)
{
	const char *p = *pp;

	*quoted_out = *p == '"';
	if (*p == '"') {
		p++;
		while (*p != '"') {
			guchar c = (guchar) *p;

			if (c == '\\') {
				guchar next = (guchar) p[1];

				/* quoted-pairSMTP = "\" %d32-126 */
				if (next < 32 || next > 126)
					return FALSE;
				p += 2;
			} else if ((c >= 32 && c <= 126) || c >= 0x80) {
				p++;
			} else {
				/* control character, or the end of the line */
				return FALSE;
			}
		}
		p++;
	} else {
		const char *start = p;

		while (mw_is_atext((guchar) *p) || *p == '.')
			p++;
		if (p == start)
			return FALSE;
	}
	*pp = p;
	return TRUE;
}

/*
 * Path = "<" [ A-d-l ":" ] Mailbox ">", or "<>" for MAIL. *pp points at the
 * '<' and is advanced past the '>'. Returns the mailbox without the route.
 */
static char *
mw_parse_path(const char **pp, gboolean is_mail)
{
	const char *p = *pp;
	const char *mailbox;
	gboolean quoted = FALSE;

	if (*p != '<')
		return NULL;
	p++;
	if (*p == '>') {
		if (!is_mail)
			return NULL;
		*pp = p + 1;
		return g_strdup("");
	}

	/* source route: "@a.example,@b.example:" */
	if (*p == '@') {
		for (;;) {
			if (*p != '@')
				return NULL;
			p++;
			if (!mw_parse_domain(&p))
				return NULL;
			if (*p == ':') {
				p++;
				break;
			}
			if (*p != ',')
				return NULL;
			p++;
		}
	}

	mailbox = p;
	if (!mw_parse_local_part(&p, &quoted))
		return NULL;
	if (*p == '@') {
		p++;
		if (*p == '[') {
			if (!mw_parse_address_literal(&p))
				return NULL;
		} else if (!mw_parse_domain(&p)) {
			return NULL;
		}
	} else if (is_mail || quoted || p - mailbox != 10 ||
		   g_ascii_strncasecmp(mailbox, "postmaster", 10) != 0) {
		/* only RCPT TO:<postmaster> may go without a domain */
		return NULL;
	}
	if (*p != '>')
		return NULL;
	if (!g_utf8_validate(mailbox, p - mailbox, NULL))
		return NULL;
	*pp = p + 1;
	return g_strndup(mailbox, p - mailbox);
}

/* ---- ESMTP parameters ---- */

typedef gboolean (*MwParamCheck)(const char *value);

static gboolean
mw_check_size(const char *value)
{
	/* digits only; a number too large for 64 bits is still a valid (huge)
	 * size: the caller's limit check answers it with 552, not a syntax error */
	if (value == NULL || *value == '\0')
		return FALSE;
	for (const char *p = value; *p != '\0'; p++) {
		if (!g_ascii_isdigit(*p))
			return FALSE;
	}
	return TRUE;
}

static gboolean
mw_check_body(const char *value)
{
	return value != NULL && (g_ascii_strcasecmp(value, "7BIT") == 0 ||
				 g_ascii_strcasecmp(value, "8BITMIME") == 0);
}

static gboolean
mw_check_no_value(const char *value)
{
	return value == NULL;
}

static gboolean
mw_check_ret(const char *value)
{
	return value != NULL &&
	       (g_ascii_strcasecmp(value, "FULL") == 0 || g_ascii_strcasecmp(value, "HDRS") == 0);
}

static gboolean
mw_check_xtext(const char *value)
{
	g_autofree char *decoded = NULL;

	if (value == NULL || *value == '\0')
		return FALSE;
	decoded = mw_xtext_decode(value, NULL);
	return decoded != NULL;
}

static gboolean
mw_check_notify(const char *value)
{
	g_auto(GStrv) items = NULL;

	if (value == NULL || *value == '\0')
		return FALSE;
	items = g_strsplit(value, ",", -1);
	for (guint i = 0; items[i] != NULL; i++) {
		if (g_ascii_strcasecmp(items[i], "NEVER") == 0) {
			if (i > 0 || items[i + 1] != NULL)
				return FALSE;
		} else if (g_ascii_strcasecmp(items[i], "SUCCESS") != 0 &&
			   g_ascii_strcasecmp(items[i], "FAILURE") != 0 &&
			   g_ascii_strcasecmp(items[i], "DELAY") != 0) {
			return FALSE;
		}
	}
	return TRUE;
}

/* ORCPT=addr-type;xtext, e.g. "rfc822;user+40example.org" or "utf-8;..." */
static gboolean
mw_check_orcpt(const char *value)
{
	const char *semi;

	if (value == NULL)
		return FALSE;
	semi = strchr(value, ';');
	if (semi == NULL || semi == value || !g_ascii_isalnum(*value))
		return FALSE;
	for (const char *p = value; p < semi; p++) {
		if (!g_ascii_isalnum(*p) && *p != '-')
			return FALSE;
	}
	return mw_check_xtext(semi + 1);
}

typedef struct {
	const char *keyword;
	gboolean mail; /* MAIL parameter, else RCPT parameter */
	MwParamCheck check;
	const char *bad_value;
} MwParamSpec;

static const MwParamSpec mw_param_specs[] = {
	{"SIZE", TRUE, mw_check_size, "501 5.5.4 Bad SIZE value"},
	{"BODY", TRUE, mw_check_body, "501 5.5.4 Bad BODY value"},
	{"SMTPUTF8", TRUE, mw_check_no_value, "501 5.5.4 SMTPUTF8 takes no value"},
	{"RET", TRUE, mw_check_ret, "501 5.5.4 Bad RET value"},
	{"ENVID", TRUE, mw_check_xtext, "501 5.5.4 Bad ENVID value"},
	{"NOTIFY", FALSE, mw_check_notify, "501 5.5.4 Bad NOTIFY value"},
	{"ORCPT", FALSE, mw_check_orcpt, "501 5.5.4 Bad ORCPT value"},
};

static gboolean
mw_is_keyword(const char *text, gsize len)
{
	if (len == 0 || !g_ascii_isalnum(text[0]))
		return FALSE;
	for (gsize i = 1; i < len; i++) {
		if (!g_ascii_isalnum(text[i]) && text[i] != '-')
			return FALSE;
	}
	return TRUE;
}

/* esmtp-value: printable ASCII but SP, or UTF-8 (RFC 6531); we also allow '=' */
static gboolean
mw_is_param_value(const char *text, gsize len)
{
	for (gsize i = 0; i < len; i++) {
		guchar c = (guchar) text[i];

		if (c <= ' ' || c == 0x7f)
			return FALSE;
	}
	return g_utf8_validate(text, len, NULL);
}

/* "KEY=value KEY2 ..." after the path; one or more spaces separate parameters */
static gboolean
mw_parse_params(const char *p, gboolean is_mail, GPtrArray *params, GError **error)
{
	while (*p != '\0') {
		const char *token;
		const char *eq;
		const char *end;
		const MwParamSpec *spec = NULL;
		gsize kw_len;
		g_autofree char *keyword = NULL;
		g_autofree char *value = NULL;
		MwSmtpParam *param;

		if (*p == ' ') {
			p++;
			continue;
		}
		token = p;
		end = token + strcspn(token, " ");
		eq = memchr(token, '=', end - token);
		kw_len = (eq != NULL ? eq : end) - token;
		if (!mw_is_keyword(token, kw_len) ||
		    (eq != NULL && !mw_is_param_value(eq + 1, end - eq - 1))) {
			g_set_error_literal(error, MW_ERROR, MW_ERROR_PROTOCOL,
					    "501 5.5.4 Bad parameter syntax");
			return FALSE;
		}
		keyword = g_ascii_strup(token, kw_len);
		if (eq != NULL)
			value = g_strndup(eq + 1, end - eq - 1);

		for (gsize i = 0; i < G_N_ELEMENTS(mw_param_specs); i++) {
			if (mw_param_specs[i].mail == is_mail &&
			    strcmp(mw_param_specs[i].keyword, keyword) == 0) {
				spec = &mw_param_specs[i];
				break;
			}
		}
		if (spec == NULL) {
			g_set_error(error, MW_ERROR, MW_ERROR_PROTOCOL,
				    "555 5.5.4 Unsupported parameter %.*s",
				    (int) MIN(kw_len, MW_ECHO_MAX), keyword);
			return FALSE;
		}
		for (guint i = 0; i < params->len; i++) {
			const MwSmtpParam *other = g_ptr_array_index(params, i);

			if (strcmp(other->keyword, keyword) == 0) {
				g_set_error(error, MW_ERROR, MW_ERROR_PROTOCOL,
					    "501 5.5.4 Duplicate parameter %s", keyword);
				return FALSE;
			}
		}
		if (!spec->check(value)) {
			g_set_error_literal(error, MW_ERROR, MW_ERROR_PROTOCOL, spec->bad_value);
			return FALSE;
		}

		param = g_new0(MwSmtpParam, 1);
		param->keyword = g_steal_pointer(&keyword);
		param->value = g_steal_pointer(&value);
		g_ptr_array_add(params, param);
		p = end;
	}
	return TRUE;
}

static MwSmtpPath *
mw_smtp_parse_path_command(const char *args, gboolean is_mail, GError **error)
{
	const char *prefix = is_mail ? "FROM:" : "TO:";
	const char *bad_address = is_mail ? "501 5.1.7 Bad sender address syntax"
					  : "501 5.1.3 Bad recipient address syntax";
	gsize prefix_len = strlen(prefix);
	const char *p = args;
	g_autoptr(MwSmtpPath) path = NULL;

	g_return_val_if_fail(args != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	if (g_ascii_strncasecmp(p, prefix, prefix_len) != 0) {
		g_set_error_literal(error, MW_ERROR, MW_ERROR_PROTOCOL,
				    is_mail ? "501 5.5.2 Syntax: MAIL FROM:<address>"
					    : "501 5.5.2 Syntax: RCPT TO:<address>");
		return NULL;
	}
	p += prefix_len;
	while (*p == ' ')
		p++;
	if (*p == '\0') {
		g_set_error_literal(error, MW_ERROR, MW_ERROR_PROTOCOL,
				    is_mail ? "501 5.5.2 Syntax: MAIL FROM:<address>"
					    : "501 5.5.2 Syntax: RCPT TO:<address>");
		return NULL;
	}

	path = g_new0(MwSmtpPath, 1);
	path->params = g_ptr_array_new_with_free_func(mw_smtp_param_free);
	path->address = mw_parse_path(&p, is_mail);
	if (path->address == NULL || (*p != '\0' && *p != ' ')) {
		g_set_error_literal(error, MW_ERROR, MW_ERROR_PROTOCOL, bad_address);
		return NULL;
	}
	if (!mw_parse_params(p, is_mail, path->params, error))
		return NULL;
	return g_steal_pointer(&path);
}

MwSmtpPath *
mw_smtp_parse_mail(const char *args, GError **error)
{
	return mw_smtp_parse_path_command(args, TRUE, error);
}

MwSmtpPath *
mw_smtp_parse_rcpt(const char *args, GError **error)
{
	return mw_smtp_parse_path_command(args, FALSE, error);
}

/* ---- XFORWARD ---- */

static const char *const mw_xforward_names[] = {
	"NAME", "ADDR", "PORT", "PROTO", "HELO", "IDENT", "SOURCE",
};

static gboolean
mw_is_clean_value(const char *value)
{
	for (const char *p = value; *p != '\0'; p++) {
		if ((guchar) *p < ' ' || *p == 0x7f)
			return FALSE;
	}
	return g_utf8_validate(value, -1, NULL);
}

gboolean
mw_smtp_parse_xforward(const char *args, GHashTable *attrs, GError **error)
{
	/* name, value, name, value...: applied only when everything is valid */
	g_autoptr(GPtrArray) pending = g_ptr_array_new_with_free_func(g_free);
	const char *p = args;

	g_return_val_if_fail(args != NULL, FALSE);
	g_return_val_if_fail(attrs != NULL, FALSE);
	g_return_val_if_fail(error == NULL || *error == NULL, FALSE);

	while (*p == ' ')
		p++;
	if (*p == '\0') {
		g_set_error_literal(error, MW_ERROR, MW_ERROR_PROTOCOL,
				    "501 5.5.4 Syntax: XFORWARD attribute=value...");
		return FALSE;
	}
	while (*p != '\0') {
		const char *token;
		const char *eq;
		const char *end;
		const char *name = NULL;
		g_autofree char *raw = NULL;
		g_autofree char *value = NULL;

		if (*p == ' ') {
			p++;
			continue;
		}
		token = p;
		end = token + strcspn(token, " ");
		eq = memchr(token, '=', end - token);
		if (eq == NULL || eq == token) {
			g_set_error_literal(error, MW_ERROR, MW_ERROR_PROTOCOL,
					    "501 5.5.4 Syntax: XFORWARD attribute=value...");
			return FALSE;
		}
		for (gsize i = 0; i < G_N_ELEMENTS(mw_xforward_names); i++) {
			if (strlen(mw_xforward_names[i]) == (gsize) (eq - token) &&
			    g_ascii_strncasecmp(token, mw_xforward_names[i], eq - token) == 0) {
				name = mw_xforward_names[i];
				break;
			}
		}
		if (name == NULL) {
			g_set_error_literal(error, MW_ERROR, MW_ERROR_PROTOCOL,
					    "501 5.5.4 Bad XFORWARD attribute name");
			return FALSE;
		}
		raw = g_strndup(eq + 1, end - eq - 1);
		value = mw_xtext_decode(raw, NULL);
		if (value == NULL || !mw_is_clean_value(value)) {
			g_set_error(error, MW_ERROR, MW_ERROR_PROTOCOL,
				    "501 5.5.4 Bad XFORWARD %s value", name);
			return FALSE;
		}
		if (strlen(value) > MW_XFORWARD_VALUE_MAX) {
			g_set_error(error, MW_ERROR, MW_ERROR_PROTOCOL,
				    "501 5.5.4 XFORWARD %s value too long", name);
			return FALSE;
		}
		g_ptr_array_add(pending, g_strdup(name));
		g_ptr_array_add(pending, g_steal_pointer(&value));
		p = end;
	}
	for (guint i = 0; i + 1 < pending->len; i += 2) {
		g_hash_table_replace(attrs, g_steal_pointer(&pending->pdata[i]),
				     g_steal_pointer(&pending->pdata[i + 1]));
	}
	return TRUE;
}

/* ---- xtext ---- */

char *
mw_xtext_decode(const char *text, GError **error)
{
	g_autoptr(GString) out = NULL;

	g_return_val_if_fail(text != NULL, NULL);

	out = g_string_sized_new(strlen(text));
	for (const char *p = text; *p != '\0';) {
		guchar c = (guchar) *p;

		if (c == '+') {
			int hi = g_ascii_xdigit_value(p[1]);
			int lo = hi < 0 ? -1 : g_ascii_xdigit_value(p[2]);

			/* a NUL byte could not be returned in a string */
			if (lo < 0 || (hi == 0 && lo == 0)) {
				g_set_error_literal(error, MW_ERROR, MW_ERROR_PROTOCOL,
						    "501 5.5.4 Bad xtext encoding");
				return NULL;
			}
			g_string_append_c(out, (char) (hi * 16 + lo));
			p += 3;
		} else if (c > ' ' && c != 0x7f) {
			/* xchar, and UTF-8 as utf-8-addr-xtext (RFC 6533) has it */
			g_string_append_c(out, (char) c);
			p++;
		} else {
			g_set_error_literal(error, MW_ERROR, MW_ERROR_PROTOCOL,
					    "501 5.5.4 Bad xtext encoding");
			return NULL;
		}
	}
	if (!g_utf8_validate(text, -1, NULL)) {
		g_set_error_literal(error, MW_ERROR, MW_ERROR_PROTOCOL,
				    "501 5.5.4 Bad xtext encoding");
		return NULL;
	}
	return g_string_free(g_steal_pointer(&out), FALSE);
}

char *
mw_xtext_encode(const char *text)
{
	static const char hex[] = "0123456789ABCDEF";
	GString *out;

	g_return_val_if_fail(text != NULL, NULL);

	out = g_string_sized_new(strlen(text) + 16);
	for (const char *p = text; *p != '\0'; p++) {
		guchar c = (guchar) *p;

		if (c <= ' ' || c > '~' || c == '+' || c == '=') {
			g_string_append_c(out, '+');
			g_string_append_c(out, hex[c >> 4]);
			g_string_append_c(out, hex[c & 0xf]);
		} else {
			g_string_append_c(out, (char) c);
		}
	}
	return g_string_free(out, FALSE);
}

/* ---- address helpers ---- */

static char *
mw_strdown(const char *text, gssize len)
{
	if (g_utf8_validate(text, len, NULL))
		return g_utf8_strdown(text, len);
	return g_ascii_strdown(text, len);
}

gboolean
mw_address_split(const char *address, char **local_out, char **domain_out)
{
	g_autofree char *local = NULL;
	const char *at;

	if (local_out != NULL)
		*local_out = NULL;
	if (domain_out != NULL)
		*domain_out = NULL;
	if (address == NULL || *address == '\0')
		return FALSE;

	if (*address == '"') {
		GString *unquoted = g_string_new(NULL);
		const char *p = address + 1;

		while (*p != '\0' && *p != '"') {
			if (*p == '\\' && p[1] != '\0')
				p++;
			g_string_append_c(unquoted, *p);
			p++;
		}
		local = g_string_free(unquoted, FALSE);
		if (*p != '"' || (p[1] != '@' && p[1] != '\0'))
			return FALSE;
		at = p[1] == '@' ? p + 1 : NULL;
	} else {
		at = strrchr(address, '@');
		local = at != NULL ? g_strndup(address, at - address) : g_strdup(address);
	}

	if (domain_out != NULL)
		*domain_out = at != NULL ? mw_strdown(at + 1, -1) : g_strdup("");
	if (local_out != NULL)
		*local_out = g_steal_pointer(&local);
	return TRUE;
}

char *
mw_address_normalize(const char *address)
{
	g_return_val_if_fail(address != NULL, NULL);
	return mw_strdown(address, -1);
}
