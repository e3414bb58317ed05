/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	fuzz-smtp-parse - command lines, paths, parameters, XFORWARD, xtext
 * DESCRIPTION
 *	Each input line goes through every parser; results are checked for
 *	the invariants callers rely on (an accepted path is valid UTF-8, an
 *	xtext round trip is the identity).
 */
#include <stdint.h>
#include <string.h>

#include "mw-smtp-parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > MW_SMTP_MAX_COMMAND_LINE * 4)
		return 0;
	g_autofree char *text = g_strndup((const char *) data, size);
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		const char *args = NULL;
		(void) mw_smtp_parse_verb(lines[i], &args);
		g_autoptr(MwSmtpPath) mail = mw_smtp_parse_mail(lines[i], NULL);
		if (mail != NULL && !g_utf8_validate(mail->address, -1, NULL))
			__builtin_trap();
		g_autoptr(MwSmtpPath) rcpt = mw_smtp_parse_rcpt(lines[i], NULL);
		if (rcpt != NULL) {
			g_autofree char *local = NULL;
			g_autofree char *domain = NULL;
			(void) mw_address_split(rcpt->address, &local, &domain);
			g_free(mw_address_normalize(rcpt->address));
			(void) mw_smtp_path_get_param(rcpt, "NOTIFY", NULL);
		}
		g_autoptr(GHashTable) attrs =
			g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
		(void) mw_smtp_parse_xforward(lines[i], attrs, NULL);
		g_free(mw_xtext_decode(lines[i], NULL));
		g_autofree char *encoded = mw_xtext_encode(lines[i]);
		g_autofree char *back = mw_xtext_decode(encoded, NULL);
		if (back != NULL && strcmp(back, lines[i]) != 0)
			__builtin_trap();
	}
	return 0;
}
