/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* longest command line we accept, CRLF included (RFC 5321 says 512; ESMTP
 * parameters and XFORWARD make real lines longer, so allow more) */
#define MW_SMTP_MAX_COMMAND_LINE 4096

typedef enum {
	MW_SMTP_VERB_UNKNOWN = 0,
	MW_SMTP_VERB_HELO,
	MW_SMTP_VERB_EHLO,
	MW_SMTP_VERB_LHLO,
	MW_SMTP_VERB_MAIL,
	MW_SMTP_VERB_RCPT,
	MW_SMTP_VERB_DATA,
	MW_SMTP_VERB_RSET,
	MW_SMTP_VERB_NOOP,
	MW_SMTP_VERB_QUIT,
	MW_SMTP_VERB_XFORWARD,
	MW_SMTP_VERB_VRFY,
	MW_SMTP_VERB_HELP,
	MW_SMTP_VERB_BDAT,
	MW_SMTP_VERB_STARTTLS,
	MW_SMTP_VERB_AUTH,
} MwSmtpVerb;

/* one ESMTP parameter as received: keyword upper-cased, value verbatim (NULL if none) */
typedef struct {
	char *keyword;
	char *value;
} MwSmtpParam;

/**
 * MwSmtpPath:
 * @address: the mailbox with any source route removed, quoting kept as sent
 *   (`"john doe"@example.org`); "" for the null path `<>`
 * @params: (element-type MwSmtpParam): ESMTP parameters in the order received
 */
typedef struct {
	char *address;
	GPtrArray *params;
} MwSmtpPath;

void mw_smtp_path_free(MwSmtpPath *path);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MwSmtpPath, mw_smtp_path_free)

/**
 * mw_smtp_parse_verb:
 * @line: a command line without its CRLF (NUL-terminated; may contain no NUL)
 * @args_out: (out) (transfer none): set to the text after the verb with leading
 *   spaces skipped ("" if none)
 *
 * Case-insensitive. Returns MW_SMTP_VERB_UNKNOWN for anything unknown,
 * including a verb glued to its argument ("MAILFROM:").
 */
MwSmtpVerb mw_smtp_parse_verb(const char *line, const char **args_out);

/**
 * mw_smtp_parse_mail / mw_smtp_parse_rcpt:
 * @args: what follows the verb: "FROM:<a@b> SIZE=10 BODY=8BITMIME"
 *
 * Accepts "FROM:<addr>" and "FROM: <addr>" (Postfix tolerance), the null path
 * (MAIL only), source routes (stripped), quoted local parts, UTF-8 addresses
 * (must be valid UTF-8), and RCPT TO:<postmaster>. Validates the parameters we
 * implement and rejects others:
 *   MAIL: SIZE=digits, BODY=7BIT|8BITMIME, SMTPUTF8 (no value), RET=FULL|HDRS,
 *         ENVID=xtext (kept encoded); each at most once
 *   RCPT: NOTIFY=NEVER|comma list of SUCCESS,FAILURE,DELAY; ORCPT=type;xtext
 * Errors are MW_ERROR_PROTOCOL with a message that starts with the SMTP reply
 * code and enhanced status to use, e.g. "501 5.1.7 Bad sender address syntax"
 * or "555 5.5.4 Unsupported parameter FOO".
 */
MwSmtpPath *mw_smtp_parse_mail(const char *args, GError **error);
MwSmtpPath *mw_smtp_parse_rcpt(const char *args, GError **error);

/* mw_smtp_path_get_param - value of parameter KEYWORD (case-insensitive), or NULL;
 * *present_out tells a value-less parameter (SMTPUTF8) from an absent one */
const char *mw_smtp_path_get_param(const MwSmtpPath *path, const char *keyword,
				   gboolean *present_out);

/**
 * mw_smtp_parse_xforward:
 * @args: "NAME=mail.example.org ADDR=192.0.2.1 IDENT=4Xb2Kq1ZzFz9rxM"
 * @attrs: (inout): table name (upper case) -> decoded value (xtext decoded;
 *   "[UNAVAILABLE]" kept as is). Entries are added or replaced.
 *
 * Known names: NAME ADDR PORT PROTO HELO IDENT SOURCE; others are an error
 * (501 5.5.4). Values longer than 255 bytes are an error.
 */
gboolean mw_smtp_parse_xforward(const char *args, GHashTable *attrs, GError **error);

/* xtext (RFC 3461 §4): "+XX" hex escapes; decode fails on bad escapes */
char *mw_xtext_decode(const char *text, GError **error);
char *mw_xtext_encode(const char *text);

/**
 * mw_address_split:
 * @address: a mailbox as in MwSmtpPath.address
 * @local_out: (out) (transfer full) (optional): local part with the quotes removed
 * @domain_out: (out) (transfer full) (optional): the domain, lower-cased; "" if none
 *
 * Returns FALSE for "" (null path).
 */
gboolean mw_address_split(const char *address, char **local_out, char **domain_out);

/* mw_address_normalize - lower-cased copy for comparisons and lookups */
char *mw_address_normalize(const char *address);

G_END_DECLS
