/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-spam-spf - SPF (RFC 7208) of the envelope sender with libspf2
 * SYNOPSIS
 *	mw_spam_spf_new, mw_spam_spf_free, mw_spam_spf_check,
 *	mw_spam_spf_result_name, mw_spam_spf_test_name
 * DESCRIPTION
 *	One SPF_server_t per worker (libspf2 keeps a DNS cache in it, which is
 *	not meant to be shared across processes), created after the fork. It
 *	resolves through the system resolver (/etc/resolv.conf, its timeout
 *	and attempts options). The client address and HELO come from Postfix's
 *	XFORWARD. libspf2 writes the Received-SPF value itself (RFC 7208 §9.1:
 *	result, comment, client-ip, envelope-from, helo, receiver, identity).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <arpa/nameser.h>
#include <string.h>

#include <spf2/spf.h>

#include "mw-error.h"
#include "mw-spam-spf.h"

struct _MwSpamSpf {
	SPF_server_t *server;
	char *receiver;
};

const char *
mw_spam_spf_result_name(MwSpamSpfResult result)
{
	static const char *const names[] = {"none",     "neutral",   "pass",     "fail",
					    "softfail", "temperror", "permerror"};
	return names[result];
}

const char *
mw_spam_spf_test_name(MwSpamSpfResult result)
{
	static const char *const names[] = {"SPF_NONE",     "SPF_NEUTRAL",  "SPF_PASS",
					    "SPF_FAIL",     "SPF_SOFTFAIL", "SPF_TEMPERROR",
					    "SPF_PERMERROR"};
	return names[result];
}

MwSpamSpf *
mw_spam_spf_new(const char *receiver, GError **error)
{
	SPF_server_t *server = SPF_server_new(SPF_DNS_CACHE, 0);
	if (server == NULL) {
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "cannot create the SPF server");
		return NULL;
	}
	if (receiver != NULL && *receiver != '\0')
		SPF_server_set_rec_dom(server, receiver);
	MwSpamSpf *spf = g_new0(MwSpamSpf, 1);
	spf->server = server;
	spf->receiver = receiver != NULL && *receiver != '\0' ? g_strdup(receiver) : NULL;
	return spf;
}

void
mw_spam_spf_free(MwSpamSpf *spf)
{
	if (spf == NULL)
		return;
	SPF_server_free(spf->server);
	g_free(spf->receiver);
	g_free(spf);
}

/* map_result - libspf2's result to ours */
static MwSpamSpfResult
map_result(SPF_result_t result)
{
	switch (result) {
	case SPF_RESULT_PASS:
		return MW_SPAM_SPF_PASS;
	case SPF_RESULT_FAIL:
		return MW_SPAM_SPF_FAIL;
	case SPF_RESULT_SOFTFAIL:
		return MW_SPAM_SPF_SOFTFAIL;
	case SPF_RESULT_NEUTRAL:
		return MW_SPAM_SPF_NEUTRAL;
	case SPF_RESULT_TEMPERROR:
		return MW_SPAM_SPF_TEMPERROR;
	case SPF_RESULT_PERMERROR:
		return MW_SPAM_SPF_PERMERROR;
	case SPF_RESULT_NONE:
	case SPF_RESULT_INVALID:
	default:
		return MW_SPAM_SPF_NONE;
	}
}

gboolean
mw_spam_spf_check(MwSpamSpf *spf, const char *client_addr, const char *helo, const char *sender,
		  MwSpamSpfResult *result_out, char **received_spf_out)
{
	*received_spf_out = NULL;
	if (client_addr == NULL)
		return FALSE;
	const char *addr = client_addr;
	if (g_ascii_strncasecmp(addr, "IPv6:", 5) == 0)
		addr += 5;
	g_autofree char *from = NULL;
	gboolean null_sender = sender == NULL || *sender == '\0' || strchr(sender, '@') == NULL;
	if (!null_sender)
		from = g_strdup(sender);
	else if (helo != NULL && *helo != '\0')
		from = g_strdup_printf("postmaster@%s", helo);
	else
		return FALSE;

	SPF_request_t *request = SPF_request_new(spf->server);
	struct in6_addr a6;
	struct in_addr a4;
	SPF_errcode_t rc;
	if (inet_pton(AF_INET, addr, &a4) == 1)
		rc = SPF_request_set_ipv4(request, a4);
	else if (inet_pton(AF_INET6, addr, &a6) == 1)
		rc = SPF_request_set_ipv6(request, a6);
	else
		rc = SPF_E_INVALID_IP4;
	if (rc == SPF_E_SUCCESS && helo != NULL && *helo != '\0')
		rc = SPF_request_set_helo_dom(request, helo);
	if (rc == SPF_E_SUCCESS && SPF_request_set_env_from(request, from) != 0)
		rc = SPF_E_INVALID_CHAR;
	if (rc != SPF_E_SUCCESS) {
		SPF_request_free(request);
		return FALSE;
	}
	SPF_response_t *response = NULL;
	SPF_request_query_mailfrom(request, &response);
	/* a response exists even for errors; it carries temperror/permerror */
	if (response == NULL) {
		SPF_request_free(request);
		return FALSE;
	}
	*result_out = map_result(SPF_response_result(response));
	/* libspf2 1.2.10 answers "none" when the record lookup timed out or failed
	 * (SPF_E_DNS_ERROR); RFC 7208 §2.6.6 calls that temperror, and it is no "none" */
	gboolean dns_error = SPF_response_errcode(response) == SPF_E_DNS_ERROR;
	for (int i = 0; i < SPF_response_messages(response) && !dns_error; i++)
		dns_error = SPF_error_code(SPF_response_message(response, i)) == SPF_E_DNS_ERROR;
	const char *value = SPF_response_get_received_spf_value(response);
	g_autofree char *temperror = NULL;
	if (*result_out == MW_SPAM_SPF_NONE && dns_error) {
		*result_out = MW_SPAM_SPF_TEMPERROR;
		temperror = g_strdup_printf("temperror (%s: DNS lookup of the SPF record of %s "
					    "failed) client-ip=%s; envelope-from=%s;%s%s%s",
					    spf->receiver != NULL ? spf->receiver : "localhost",
					    strchr(from, '@') + 1, addr, from,
					    helo != NULL ? " helo=" : "", helo != NULL ? helo : "",
					    helo != NULL ? ";" : "");
		value = temperror;
	}
	/* libspf2 writes result, comment, client-ip, envelope-from and helo; RFC 7208
	 * §9.1 also lists receiver and identity, which tell a later reader what was checked */
	GString *header =
		g_string_new(value != NULL ? value : mw_spam_spf_result_name(*result_out));
	while (header->len > 0 && g_ascii_isspace(header->str[header->len - 1]))
		g_string_truncate(header, header->len - 1);
	if (header->len > 0 && header->str[header->len - 1] != ';')
		g_string_append_c(header, ';');
	if (spf->receiver != NULL && strstr(header->str, "receiver=") == NULL)
		g_string_append_printf(header, " receiver=%s;", spf->receiver);
	if (strstr(header->str, "identity=") == NULL)
		g_string_append_printf(header, " identity=%s;", null_sender ? "helo" : "mailfrom");
	*received_spf_out = g_string_free(header, FALSE);
	SPF_response_free(response);
	SPF_request_free(request);
	return TRUE;
}
