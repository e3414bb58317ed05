/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "mw-spam-text.h"
#include "mw-spam.h"

G_BEGIN_DECLS

typedef enum {
	MW_SPAM_LEARN_NEW = 0,  /* learnt */
	MW_SPAM_LEARN_KNOWN,    /* already learnt with this label: nothing changed */
	MW_SPAM_LEARN_RELABELED /* learnt before with the other label: moved over */
} MwSpamLearnResult;

/**
 * mw_spam_bayes_open:
 * @create: create the file and its tables when missing
 *
 * Opens the SQLite store (WAL mode, busy timeout: several workers read it
 * while `learn` writes).
 */
MwSpamBayes *mw_spam_bayes_open(const char *path, gboolean create, GError **error);
void mw_spam_bayes_close(MwSpamBayes *bayes);

/* mw_spam_bayes_tokens - the set of tokens of a message (a GHashTable used as a set) */
GHashTable *mw_spam_bayes_tokens(const MwSpamText *text, const char *from_addr);

/* mw_spam_bayes_counts - messages learnt as spam and as ham */
gboolean mw_spam_bayes_counts(MwSpamBayes *bayes, gint64 *nspam_out, gint64 *nham_out,
			      GError **error);

/**
 * mw_spam_bayes_classify:
 * @prob_out: (out): probability of spam in [0, 1] (Robinson-Fisher over the
 *   150 most telling tokens); 0.5 when nothing is known
 */
gboolean mw_spam_bayes_classify(MwSpamBayes *bayes, GHashTable *tokens, double *prob_out,
				GError **error);

/**
 * mw_spam_bayes_learn:
 * @id: identifies the message (its Message-ID or a digest of its bytes), so
 *   learning the same message twice counts it once
 */
gboolean mw_spam_bayes_learn(MwSpamBayes *bayes, GHashTable *tokens, const char *id, gboolean spam,
			     MwSpamLearnResult *result_out, GError **error);

/* mw_spam_bayes_begin/commit - group many learn calls in one transaction (speed) */
gboolean mw_spam_bayes_begin(MwSpamBayes *bayes, GError **error);
gboolean mw_spam_bayes_commit(MwSpamBayes *bayes, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(MwSpamBayes, mw_spam_bayes_close)

G_END_DECLS
