/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <resolv.h>

#include "mw-spam.h"

G_BEGIN_DECLS

#define MW_SPAM_DNSBL_DEFAULT_SCORE 3.0

/* mw_spam_dnsbl_parse - "zone[:score], ..." into MwSpamDnsbl entries */
GPtrArray *mw_spam_dnsbl_parse(char *const *list, GError **error);
void mw_spam_dnsbl_free(MwSpamDnsbl *entry);

/* mw_spam_dnsbl_query_name - "4.3.2.1.zone" (IPv6: 32 reversed nibbles); NULL if not an address */
char *mw_spam_dnsbl_query_name(const char *client_addr, const char *zone);

/* mw_spam_resolver_init - res_ninit with @timeout seconds per try and one retry */
gboolean mw_spam_resolver_init(struct __res_state *state, guint timeout, GError **error);

/**
 * mw_spam_dnsbl_lookup:
 * @answer_out: (out) (transfer full) (optional): the first 127.0.0.0/8 answer
 *
 * Returns: TRUE if @qname has an A record in 127.0.0.0/8 (except
 * 127.255.255.0/24, which blocklists use to refuse a query); NXDOMAIN,
 * timeouts and other errors are "not listed".
 */
gboolean mw_spam_dnsbl_lookup(struct __res_state *state, const char *qname, char **answer_out);

G_END_DECLS
