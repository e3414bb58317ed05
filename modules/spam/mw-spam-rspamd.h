/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "mw-spam.h"

G_BEGIN_DECLS

/**
 * mw_spam_rspamd_parse_url:
 * @url: "http://host:port[/prefix]" (port 80 when absent) or "unix:/path"
 * @target_out: (out) (transfer full): "host:port" or "unix:/path" for mw_net_connect()
 * @path_out: (out) (transfer full): the path prefix ("" or "/prefix")
 */
gboolean mw_spam_rspamd_parse_url(const char *url, char **target_out, char **path_out,
				  GError **error);

/* mw_spam_rspamd_check - POST /checkv2 with the envelope as headers; score and symbols into @result */
gboolean mw_spam_rspamd_check(const char *url, guint timeout, MwTxn *txn, const char *hostname,
			      MwSpamResult *result, GError **error);
/* mw_spam_rspamd_ping - GET /ping, expecting "pong" (--check-config) */
gboolean mw_spam_rspamd_ping(const char *url, guint timeout, GError **error);
/* mw_spam_rspamd_parse_reply - an HTTP reply with a /checkv2 JSON body (exposed for the tests) */
gboolean mw_spam_rspamd_parse_reply(const char *reply, gsize len, MwSpamResult *result,
				    GError **error);

G_END_DECLS
