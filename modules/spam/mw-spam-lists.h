/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* mw_spam_list_check - "" if @entry is a valid allow/block list entry, else why (static text) */
const char *mw_spam_list_check(const char *entry);

/*
 * mw_spam_list_match - whether @address matches an entry of @list: a full
 * address (case-insensitive) or a domain, which matches itself and its
 * subdomains ("example.org" and "@example.org" match a@example.org and
 * b@mail.example.org). The null sender "" never matches.
 */
gboolean mw_spam_list_match(char *const *list, const char *address);

/* mw_spam_trusted_parse - trusted_networks into @cidrs (MwCidr) and the "local" keyword */
gboolean mw_spam_trusted_parse(char *const *list, GArray *cidrs, gboolean *local_out,
			       GError **error);

/*
 * mw_spam_client_trusted - @client_addr (XFORWARD ADDR, nullable) is in
 * @cidrs, or absent while "local" is trusted
 */
gboolean mw_spam_client_trusted(const GArray *cidrs, gboolean trust_local, const char *client_addr);

G_END_DECLS
