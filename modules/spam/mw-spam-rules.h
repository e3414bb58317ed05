/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "mw-spam-text.h"
#include "mw-spam.h"

G_BEGIN_DECLS

/* mw_spam_rules_load - read and compile a rules file (format: README.md) */
MwSpamRules *mw_spam_rules_load(const char *path, GError **error);
/* mw_spam_rules_parse - the same from text; @origin names it in errors */
MwSpamRules *mw_spam_rules_parse(const char *text, const char *origin, GError **error);
void mw_spam_rules_free(MwSpamRules *rules);

guint mw_spam_rules_count(const MwSpamRules *rules);
/* mw_spam_rules_need_text - some body or uri rule needs the decoded text */
gboolean mw_spam_rules_need_text(const MwSpamRules *rules);
/* mw_spam_rules_need_mime - some header rule needs the parsed headers */
gboolean mw_spam_rules_need_mime(const MwSpamRules *rules);

/**
 * mw_spam_rules_eval:
 * @mime: (nullable): the parsed message, for header rules
 * @text: (nullable): the decoded text, for body and uri rules
 * @raw: the first bytes of the message, for raw rules (may hold NULs)
 *
 * Adds every rule that fires to @result, each at most once.
 */
void mw_spam_rules_eval(const MwSpamRules *rules, GMimeMessage *mime, const MwSpamText *text,
			const char *raw, gsize raw_len, MwSpamResult *result);

/* mw_spam_gtube - the GTUBE test string is in @raw */
gboolean mw_spam_gtube(const char *raw, gsize raw_len);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(MwSpamRules, mw_spam_rules_free)

G_END_DECLS
