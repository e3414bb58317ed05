/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * spam_corpus_message - message number @n of a generated labeled set: a
 * "spam" or "ham" message (CRLF) from a deterministic random source seeded
 * with @n and the label. See spam-corpus.c for how it is made.
 */
char *spam_corpus_message(gboolean spam, guint n);

/* spam_corpus_write - write messages [@first, @first + @count) as DIR/NNNN.eml */
void spam_corpus_write(const char *dir, gboolean spam, guint first, guint count);

G_END_DECLS
