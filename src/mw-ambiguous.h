/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "mw-message.h"

G_BEGIN_DECLS

typedef enum {
	MW_AMBIGUOUS_PASS = 0,
	MW_AMBIGUOUS_TAG,
	MW_AMBIGUOUS_QUARANTINE,
	MW_AMBIGUOUS_REJECT,
} MwAmbiguousAction;

extern const char *const mw_ambiguous_action_names[];

/**
 * mw_mime_find_ambiguity:
 * @reason_out: (out) (transfer full): what makes it ambiguous
 *
 * Looks at the raw header blocks of the message and of every MIME part it
 * can find (by the boundaries the headers declare) for what lets two
 * parsers read one message in two ways (CVE-2024-28054 and relatives):
 * duplicate Content-Type or Content-Transfer-Encoding headers in one block,
 * or a Content-Type with more than one boundary parameter. A line scan, not
 * a MIME parse: it works on the bytes GMime would otherwise normalise.
 *
 * Returns: TRUE if the message is ambiguous
 */
gboolean mw_mime_find_ambiguity(MwMessage *msg, char **reason_out);

G_END_DECLS
