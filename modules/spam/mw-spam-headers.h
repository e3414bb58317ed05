/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "mw-gmime-compat.h"
#include "mw-spam.h"

G_BEGIN_DECLS

/* what mw_spam_headers_apply writes */
typedef struct {
	gboolean add_status; /* X-Spam-Flag/Score/Level/Status (score >= tag_level) */
	gboolean spam;       /* X-Spam-Flag: YES and the subject tag (score >= spam_level) */
	double score;
	double required;          /* spam_level, for X-Spam-Status */
	const char *tests;        /* "A,B" or "none" */
	const char *received_spf; /* (nullable) */
	const char *subject_tag;  /* (nullable) "" or NULL: no tag */
} MwSpamHeaders;

/* mw_spam_headers_foreign - the message has X-Spam or X-Spam-* headers (to be replaced) */
gboolean mw_spam_headers_foreign(GMimeMessage *mime);
/* mw_spam_headers_needed - whether applying @h would change anything (else: leave the bytes alone) */
gboolean mw_spam_headers_needed(GMimeMessage *mime, const MwSpamHeaders *h);
/* mw_spam_headers_apply - remove X-Spam*, add ours and Received-SPF, tag the subject */
void mw_spam_headers_apply(GMimeMessage *mime, const MwSpamHeaders *h);

/* mw_spam_level_stars - one '*' per whole point, at most 64; "" below 1 */
char *mw_spam_level_stars(double score);
/* mw_spam_status_value - "Yes, score=7.3 required=6.0 tests=A,B" */
char *mw_spam_status_value(gboolean spam, double score, double required, const char *tests);
/* mw_spam_subject_tagged - "@tag @subject", or NULL when @subject already starts with @tag */
char *mw_spam_subject_tagged(const char *subject, const char *tag);

G_END_DECLS
