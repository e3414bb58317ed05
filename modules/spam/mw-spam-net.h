/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "mw-message.h"

G_BEGIN_DECLS

/**
 * mw_spam_exchange:
 * @target: "host:port", "[v6]:port" or "unix:/path"
 * @timeout: seconds, for the connect and for every read and write
 * @head: the request head (protocol lines), sent first
 * @body: (nullable): the message, sent after @head as it is
 * @max_reply: longest reply accepted
 *
 * One request, one reply read up to the peer's end of stream (spamd closes
 * after its reply; the rspamd request asks for Connection: close).
 *
 * Returns: (transfer full): the reply bytes, NUL-terminated, or NULL with
 * MW_ERROR_BACKEND ("spamd at X: timeout", "connection refused", ...)
 */
GByteArray *mw_spam_exchange(const char *what, const char *target, guint timeout, const char *head,
			     MwMessage *body, gsize max_reply, GError **error);

G_END_DECLS
