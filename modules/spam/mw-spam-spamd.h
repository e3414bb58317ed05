/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "mw-spam.h"

G_BEGIN_DECLS

/* mw_spam_spamd_check - SYMBOLS over SPAMC/1.5: spamd's score and rule names into @result */
gboolean mw_spam_spamd_check(const char *target, guint timeout, MwMessage *message,
			     MwSpamResult *result, GError **error);
/* mw_spam_spamd_ping - PING, expecting PONG (--check-config) */
gboolean mw_spam_spamd_ping(const char *target, guint timeout, GError **error);
/* mw_spam_spamd_parse - parse a SYMBOLS reply (exposed for the tests) */
gboolean mw_spam_spamd_parse(const char *reply, MwSpamResult *result, GError **error);

G_END_DECLS
