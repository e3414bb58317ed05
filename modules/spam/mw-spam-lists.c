/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-spam-lists - allow/block lists of addresses and domains, trusted clients
 * SYNOPSIS
 *	mw_spam_list_check, mw_spam_list_match, mw_spam_trusted_parse,
 *	mw_spam_client_trusted
 * DESCRIPTION
 *	allow_from, allow_to and block_from hold full addresses or domains; a
 *	domain matches its subdomains, so "example.org" covers
 *	news.example.org. trusted_networks holds CIDRs matched against the
 *	original client's address from XFORWARD ADDR (not the address of the
 *	Postfix that connects to us: that is what allowed_clients is about).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "mw-config.h"
#include "mw-error.h"
#include "mw-spam-lists.h"

const char *
mw_spam_list_check(const char *entry)
{
	const char *at = strrchr(entry, '@');
	const char *domain = at != NULL ? at + 1 : entry;
	if (*domain == '\0')
		return "has no domain";
	if (strchr(domain, '.') == NULL && g_ascii_strcasecmp(domain, "localhost") != 0)
		return "is not a domain (no dot)";
	for (const char *p = entry; *p != '\0'; p++) {
		if (g_ascii_isspace(*p) || *p == '<' || *p == '>')
			return "contains spaces or angle brackets";
	}
	return "";
}

/* domain_matches - @domain is @want or a subdomain of it (both compared case-insensitively) */
static gboolean
domain_matches(const char *domain, const char *want)
{
	gsize dlen = strlen(domain), wlen = strlen(want);
	if (dlen == wlen)
		return g_ascii_strcasecmp(domain, want) == 0;
	return dlen > wlen && domain[dlen - wlen - 1] == '.' &&
	       g_ascii_strcasecmp(domain + dlen - wlen, want) == 0;
}

gboolean
mw_spam_list_match(char *const *list, const char *address)
{
	if (list == NULL || address == NULL || *address == '\0')
		return FALSE;
	const char *at = strrchr(address, '@');
	const char *domain = at != NULL ? at + 1 : address;
	for (guint i = 0; list[i] != NULL; i++) {
		const char *entry = list[i];
		if (entry[0] == '@')
			entry++;
		else if (strchr(entry, '@') != NULL) {
			if (g_ascii_strcasecmp(entry, address) == 0)
				return TRUE;
			continue;
		}
		if (domain_matches(domain, entry))
			return TRUE;
	}
	return FALSE;
}

gboolean
mw_spam_trusted_parse(char *const *list, GArray *cidrs, gboolean *local_out, GError **error)
{
	*local_out = FALSE;
	for (guint i = 0; list != NULL && list[i] != NULL; i++) {
		if (g_ascii_strcasecmp(list[i], "local") == 0) {
			*local_out = TRUE;
			continue;
		}
		MwCidr cidr;
		g_autoptr(GError) local_error = NULL;
		if (!mw_cidr_parse(list[i], &cidr, &local_error)) {
			g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "trusted_networks: '%s': %s",
				    list[i], local_error->message);
			return FALSE;
		}
		g_array_append_val(cidrs, cidr);
	}
	return TRUE;
}

gboolean
mw_spam_client_trusted(const GArray *cidrs, gboolean trust_local, const char *client_addr)
{
	if (client_addr == NULL || *client_addr == '\0')
		return trust_local;
	struct sockaddr_storage ss;
	socklen_t len;
	memset(&ss, 0, sizeof ss);
	/* XFORWARD writes IPv6 addresses as "IPv6:2001:db8::1" */
	const char *addr = client_addr;
	if (g_ascii_strncasecmp(addr, "IPv6:", 5) == 0)
		addr += 5;
	struct sockaddr_in *sin = (struct sockaddr_in *) &ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) &ss;
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		len = sizeof *sin;
	} else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		len = sizeof *sin6;
	} else {
		return FALSE;
	}
	for (guint i = 0; i < cidrs->len; i++) {
		if (mw_cidr_match(&g_array_index(cidrs, MwCidr, i), (struct sockaddr *) &ss, len))
			return TRUE;
	}
	return FALSE;
}
