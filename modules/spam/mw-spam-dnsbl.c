/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-spam-dnsbl - DNS blocklist lookups of the client address
 * SYNOPSIS
 *	mw_spam_dnsbl_parse, mw_spam_dnsbl_free, mw_spam_dnsbl_query_name,
 *	mw_spam_resolver_init, mw_spam_dnsbl_lookup
 * DESCRIPTION
 *	For client 192.0.2.7 and zone bl.example the query is an A lookup of
 *	7.2.0.192.bl.example; an answer in 127.0.0.0/8 means listed (RFC 5782).
 *	The lookup uses a private resolver state per worker (res_ninit reads
 *	/etc/resolv.conf) whose timeout and attempts come from dns_timeout, so
 *	an unreachable DNS costs a bounded time. A lookup that fails counts as
 *	not listed: a blocklist being down must not hold mail.
 *	Test names are RCVD_IN_ and the zone in capitals, dots and dashes as _.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <string.h>

#include "mw-error.h"
#include "mw-spam-dnsbl.h"

void
mw_spam_dnsbl_free(MwSpamDnsbl *entry)
{
	g_free(entry->zone);
	g_free(entry->test);
	g_free(entry);
}

/* test_name - RCVD_IN_ZEN_SPAMHAUS_ORG for zen.spamhaus.org */
static char *
test_name(const char *zone)
{
	GString *name = g_string_new("RCVD_IN_");
	for (const char *p = zone; *p != '\0'; p++)
		g_string_append_c(name, g_ascii_isalnum(*p) ? g_ascii_toupper(*p) : '_');
	return g_string_free(name, FALSE);
}

GPtrArray *
mw_spam_dnsbl_parse(char *const *list, GError **error)
{
	g_autoptr(GPtrArray) entries =
		g_ptr_array_new_with_free_func((GDestroyNotify) mw_spam_dnsbl_free);
	for (guint i = 0; list != NULL && list[i] != NULL; i++) {
		const char *colon = strrchr(list[i], ':');
		g_autofree char *zone =
			g_strstrip(colon != NULL ? g_strndup(list[i], (gsize) (colon - list[i]))
						 : g_strdup(list[i]));
		double score = MW_SPAM_DNSBL_DEFAULT_SCORE;
		if (colon != NULL) {
			char *end = NULL;
			const char *text = colon + 1;
			while (g_ascii_isspace(*text))
				text++;
			score = g_ascii_strtod(text, &end);
			if (end == text || *end != '\0' || score < -1000 || score > 1000) {
				g_set_error(
					error, MW_ERROR, MW_ERROR_CONFIG,
					"dnsbl: '%s': the score is not a number in [-1000, 1000]",
					list[i]);
				return NULL;
			}
		}
		if (*zone == '\0' || strchr(zone, '.') == NULL || zone[0] == '.' ||
		    strspn(zone,
			   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") !=
			    strlen(zone)) {
			g_set_error(error, MW_ERROR, MW_ERROR_CONFIG,
				    "dnsbl: '%s' is not zone[:score]", list[i]);
			return NULL;
		}
		MwSpamDnsbl *entry = g_new0(MwSpamDnsbl, 1);
		entry->test = test_name(zone);
		entry->zone = g_steal_pointer(&zone);
		entry->score = score;
		g_ptr_array_add(entries, entry);
	}
	return g_steal_pointer(&entries);
}

char *
mw_spam_dnsbl_query_name(const char *client_addr, const char *zone)
{
	const char *addr = client_addr;
	if (g_ascii_strncasecmp(addr, "IPv6:", 5) == 0)
		addr += 5;
	struct in_addr a4;
	struct in6_addr a6;
	if (inet_pton(AF_INET, addr, &a4) == 1) {
		const guint8 *b = (const guint8 *) &a4;
		return g_strdup_printf("%u.%u.%u.%u.%s", b[3], b[2], b[1], b[0], zone);
	}
	if (inet_pton(AF_INET6, addr, &a6) == 1) {
		GString *name = g_string_new(NULL);
		for (int i = 15; i >= 0; i--)
			g_string_append_printf(name, "%x.%x.", a6.s6_addr[i] & 0xf,
					       a6.s6_addr[i] >> 4);
		g_string_append(name, zone);
		return g_string_free(name, FALSE);
	}
	return NULL;
}

gboolean
mw_spam_resolver_init(struct __res_state *state, guint timeout, GError **error)
{
	memset(state, 0, sizeof *state);
	if (res_ninit(state) != 0) {
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "cannot initialize the resolver");
		return FALSE;
	}
	state->retrans = (int) MAX(timeout, 1);
	state->retry = 1;
	return TRUE;
}

gboolean
mw_spam_dnsbl_lookup(struct __res_state *state, const char *qname, char **answer_out)
{
	guint8 answer[NS_PACKETSZ * 2];
	if (answer_out != NULL)
		*answer_out = NULL;
	int len = res_nquery(state, qname, ns_c_in, ns_t_a, answer, sizeof answer);
	if (len < 0)
		return FALSE;
	ns_msg msg;
	if (ns_initparse(answer, len, &msg) < 0)
		return FALSE;
	int count = ns_msg_count(msg, ns_s_an);
	for (int i = 0; i < count; i++) {
		ns_rr rr;
		if (ns_parserr(&msg, ns_s_an, i, &rr) < 0)
			return FALSE;
		if (ns_rr_type(rr) != ns_t_a || ns_rr_rdlen(rr) != 4)
			continue;
		const guint8 *ip = ns_rr_rdata(rr);
		if (ip[0] != 127 || (ip[1] == 255 && ip[2] == 255))
			continue;
		if (answer_out != NULL)
			*answer_out = g_strdup_printf("%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
		return TRUE;
	}
	return FALSE;
}
