/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "mw-spam.h"

G_BEGIN_DECLS

/* the RFC 7208 results, in the spelling of Received-SPF */
typedef enum {
	MW_SPAM_SPF_NONE = 0,
	MW_SPAM_SPF_NEUTRAL,
	MW_SPAM_SPF_PASS,
	MW_SPAM_SPF_FAIL,
	MW_SPAM_SPF_SOFTFAIL,
	MW_SPAM_SPF_TEMPERROR,
	MW_SPAM_SPF_PERMERROR,
} MwSpamSpfResult;

/* mw_spam_spf_result_name - "pass", "fail", ... */
const char *mw_spam_spf_result_name(MwSpamSpfResult result);
/* mw_spam_spf_test_name - "SPF_PASS", "SPF_FAIL", ... */
const char *mw_spam_spf_test_name(MwSpamSpfResult result);

/* mw_spam_spf_new - a libspf2 server over the system resolver, with a cache; @receiver
 * names this host in Received-SPF */
MwSpamSpf *mw_spam_spf_new(const char *receiver, GError **error);
void mw_spam_spf_free(MwSpamSpf *spf);

/**
 * mw_spam_spf_check:
 * @client_addr: the client's IPv4 or IPv6 address (XFORWARD ADDR form)
 * @helo: (nullable): its HELO name
 * @sender: the envelope sender ("" for <>: the HELO identity is checked,
 *   as postmaster@HELO, RFC 7208 §2.4)
 * @received_spf_out: (out) (transfer full): the Received-SPF header value
 *
 * Returns: FALSE when nothing could be checked (no usable address, or a
 * null sender without HELO); DNS trouble is a result (temperror), not a failure.
 */
gboolean mw_spam_spf_check(MwSpamSpf *spf, const char *client_addr, const char *helo,
			   const char *sender, MwSpamSpfResult *result_out,
			   char **received_spf_out);

G_END_DECLS
