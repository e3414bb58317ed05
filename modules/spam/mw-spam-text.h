/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "mw-gmime-compat.h"

G_BEGIN_DECLS

/**
 * MwSpamText:
 * @subject: the decoded Subject ("" when absent), valid UTF-8
 * @body: the decoded text of the text/plain and text/html parts (HTML
 *   reduced to its text), valid UTF-8, at most the limit given
 * @uris: (element-type utf8): the URIs found in the text and in HTML links
 *
 * What body and uri rules and the Bayes tokenizer read.
 */
typedef struct {
	char *subject;
	GString *body;
	GPtrArray *uris;
} MwSpamText;

/* mw_spam_text_new - collect the text of @mime (nullable: an empty text), up to @max bytes */
MwSpamText *mw_spam_text_new(GMimeMessage *mime, gsize max);
void mw_spam_text_free(MwSpamText *text);

/* mw_spam_html_to_text - append the text of @html to @out, links to @uris (nullable) */
void mw_spam_html_to_text(const char *html, gsize len, GString *out, GPtrArray *uris);
/* mw_spam_find_uris - add the http(s)/www URIs of plain @text to @uris */
void mw_spam_find_uris(const char *text, GPtrArray *uris);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(MwSpamText, mw_spam_text_free)

G_END_DECLS
