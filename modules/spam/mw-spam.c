/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-spam - the spam module: engines, levels, headers, lists
 * SYNOPSIS
 *	mw_spam_module
 * DESCRIPTION
 *	Scores each message once with the configured engine (builtin: rules
 *	file + GTUBE + SPF + DNSBL + Bayes; spamd; rspamd), then acts on the
 *	recipients that are still active and not allow-listed:
 *	  score >= discard_level   action (discard | reject | quarantine)
 *	  score >= spam_level      X-Spam-Flag: YES, subject tag
 *	  score >= tag_level       X-Spam-* headers with X-Spam-Flag: NO
 *	Allow-listed recipients (allow_to, or every recipient when the sender
 *	is in allow_from) keep the message as it came: when a delivery mixes
 *	them with scored recipients, the scored ones are split into a variant
 *	of their own. A message nothing is done to stays byte-identical.
 *
 *	State: the rules, DNSBL zones and trusted networks are built by
 *	configure() in the master and shared read-only; the SPF server, the
 *	resolver state and the Bayes connection are per worker (worker_init),
 *	or opened on first use by the offline commands, which run no
 *	worker_init.
 *
 *	Failure: process() fails (on_error applies) only when spamd/rspamd
 *	cannot be reached or answer nonsense, or the Bayes store is broken;
 *	DNS trouble is a temperror SPF result or "not listed", not a failure.
 * SEE ALSO
 *	README.md (config keys, rules format), mw-spam-*.c
 */
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "mw-error.h"
#include "mw-spam-bayes.h"
#include "mw-spam-dnsbl.h"
#include "mw-spam-headers.h"
#include "mw-spam-lists.h"
#include "mw-spam-rspamd.h"
#include "mw-spam-rules.h"
#include "mw-spam-spamd.h"
#include "mw-spam-spf.h"
#include "mw-spam-text.h"
#include "mw-spam.h"

#define BAYES_FILE "spam-bayes.sqlite"

static const char *const engine_names[] = {"builtin", "spamd", "rspamd", NULL};
static const char *const action_names[] = {"discard", "reject", "quarantine", NULL};

#define OFF(field) G_STRUCT_OFFSET(MwSpamConfig, field)

static const MwOption spam_options[] = {
	{"engine", MW_OPT_ENUM, "builtin", OFF(engine), engine_names, 0, 0,
	 "builtin (rules, GTUBE, SPF, DNSBL, Bayes) | spamd | rspamd"},
	{"rules", MW_OPT_PATH, "spam.rules", OFF(rules), NULL, 0, 0,
	 "rules file of the builtin engine; relative to the config file's folder; empty: none"},
	{"spf", MW_OPT_BOOL, "true", OFF(spf), NULL, 0, 0,
	 "check SPF of the envelope sender and add Received-SPF (builtin)"},
	{"spf_pass_score", MW_OPT_DOUBLE, "-0.5", OFF(spf_pass_score), NULL, -1000, 1000,
	 "score of SPF pass"},
	{"spf_fail_score", MW_OPT_DOUBLE, "3.0", OFF(spf_fail_score), NULL, -1000, 1000,
	 "score of SPF fail"},
	{"spf_softfail_score", MW_OPT_DOUBLE, "1.0", OFF(spf_softfail_score), NULL, -1000, 1000,
	 "score of SPF softfail"},
	{"dnsbl", MW_OPT_LIST, "", OFF(dnsbl), NULL, 0, 0,
	 "DNS blocklists of the client address: zone[:score], ... (score 3.0 when omitted)"},
	{"dns_timeout", MW_OPT_DURATION, "5", OFF(dns_timeout), NULL, 1, 60,
	 "seconds per DNS blocklist query (one retry)"},
	{"bayes", MW_OPT_BOOL, "true", OFF(bayes), NULL, 0, 0,
	 "use the Bayes classifier (builtin)"},
	{"bayes_store", MW_OPT_PATH, "", OFF(bayes_store), NULL, 0, 0,
	 "SQLite file of the Bayes tokens; empty: state_dir/spam-bayes.sqlite"},
	{"bayes_min_spam", MW_OPT_INT, "200", OFF(bayes_min_spam), NULL, 1, G_MAXINT32,
	 "spam messages to learn before Bayes counts"},
	{"bayes_min_ham", MW_OPT_INT, "200", OFF(bayes_min_ham), NULL, 1, G_MAXINT32,
	 "ham messages to learn before Bayes counts"},
	{"bayes_spam_score", MW_OPT_DOUBLE, "3.5", OFF(bayes_spam_score), NULL, -1000, 1000,
	 "score at spam probability 1 (linear from 0 at 0.5)"},
	{"bayes_ham_score", MW_OPT_DOUBLE, "-2.0", OFF(bayes_ham_score), NULL, -1000, 1000,
	 "score at spam probability 0 (linear from 0 at 0.5)"},
	{"spamd", MW_OPT_STRING, "127.0.0.1:783", OFF(spamd), NULL, 0, 0,
	 "spamd address: host:port or unix:/path (engine = spamd)"},
	{"rspamd", MW_OPT_STRING, "http://127.0.0.1:11333", OFF(rspamd), NULL, 0, 0,
	 "rspamd normal worker: http://host:port or unix:/path (engine = rspamd)"},
	{"timeout", MW_OPT_DURATION, "30", OFF(timeout), NULL, 1, 3600,
	 "seconds for connecting to spamd/rspamd and for each read and write"},
	{"max_size", MW_OPT_SIZE, "512k", OFF(max_size), NULL, 1024, G_MAXINT32,
	 "larger messages are not scored"},
	{"tag_level", MW_OPT_DOUBLE, "2.0", OFF(tag_level), NULL, -10000, 10000,
	 "X-Spam-* headers from this score on"},
	{"spam_level", MW_OPT_DOUBLE, "6.0", OFF(spam_level), NULL, -10000, 10000,
	 "spam from this score on: X-Spam-Flag: YES and the subject tag"},
	{"discard_level", MW_OPT_DOUBLE, "15.0", OFF(discard_level), NULL, -10000, 10000,
	 "action from this score on"},
	{"action", MW_OPT_ENUM, "quarantine", OFF(action), action_names, 0, 0,
	 "discard | reject | quarantine, for discard_level and block_from"},
	{"subject_tag", MW_OPT_STRING, "***SPAM***", OFF(subject_tag), NULL, 0, 0,
	 "prefixed (once) to the subject of spam; empty: none"},
	{"allow_from", MW_OPT_LIST, "", OFF(allow_from), NULL, 0, 0,
	 "envelope senders (addresses or domains) whose mail is not scored"},
	{"allow_to", MW_OPT_LIST, "", OFF(allow_to), NULL, 0, 0,
	 "recipients (addresses or domains) whose mail is not scored"},
	{"block_from", MW_OPT_LIST, "", OFF(block_from), NULL, 0, 0,
	 "senders (envelope or From header) whose mail gets action"},
	{"skip_outbound", MW_OPT_BOOL, "false", OFF(skip_outbound), NULL, 0, 0,
	 "do not score mail from local_domains senders sent by trusted clients"},
	{"trusted_networks", MW_OPT_LIST, "127.0.0.0/8, ::1", OFF(trusted_networks), NULL, 0, 0,
	 "client addresses (XFORWARD ADDR) that are ours; \"local\": no client address"},
	MW_OPTION_END,
};

/* spam_free - free the private state */
static void
spam_free(MwSpam *spam)
{
	mw_spam_rules_free(spam->rules);
	g_clear_pointer(&spam->dnsbl, g_ptr_array_unref);
	g_clear_pointer(&spam->trusted, g_array_unref);
	mw_spam_spf_free(spam->spf);
	mw_spam_bayes_close(spam->bayes);
	if (spam->resolver_ready)
		res_nclose(&spam->resolver);
	g_free(spam->bayes_path);
	g_free(spam->user);
	g_free(spam);
}

/* config_dir_path - @path, relative ones taken from the config file's folder */
static char *
config_dir_path(const MwModule *module, const char *path)
{
	if (g_path_is_absolute(path) || module->core == NULL || module->core->path == NULL)
		return g_strdup(path);
	g_autofree char *dir = g_path_get_dirname(module->core->path);
	return g_build_filename(dir, path, NULL);
}

/* check_list - every entry of an address list is usable */
static gboolean
check_list(const char *key, char *const *list, GError **error)
{
	for (guint i = 0; list != NULL && list[i] != NULL; i++) {
		const char *why = mw_spam_list_check(list[i]);
		if (*why != '\0') {
			g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "%s: '%s' %s", key, list[i],
				    why);
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean
spam_configure(MwModule *module, GError **error)
{
	const MwSpamConfig *cfg = module->config;
	MwSpam *spam = g_new0(MwSpam, 1);
	module->priv = spam;
	spam->dnsbl = g_ptr_array_new_with_free_func((GDestroyNotify) mw_spam_dnsbl_free);
	spam->trusted = g_array_new(FALSE, FALSE, sizeof(MwCidr));

	if (!(cfg->tag_level <= cfg->spam_level && cfg->spam_level <= cfg->discard_level)) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG,
			    "levels: need tag_level <= spam_level <= discard_level (%.1f, %.1f, "
			    "%.1f)",
			    cfg->tag_level, cfg->spam_level, cfg->discard_level);
		return FALSE;
	}
	if (strpbrk(cfg->subject_tag, "\r\n") != NULL) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "subject_tag: no line breaks");
		return FALSE;
	}
	if (!check_list("allow_from", cfg->allow_from, error) ||
	    !check_list("allow_to", cfg->allow_to, error) ||
	    !check_list("block_from", cfg->block_from, error))
		return FALSE;
	if (!mw_spam_trusted_parse(cfg->trusted_networks, spam->trusted, &spam->trust_local, error))
		return FALSE;
	g_autoptr(GPtrArray) zones = mw_spam_dnsbl_parse(cfg->dnsbl, error);
	if (zones == NULL)
		return FALSE;
	g_ptr_array_extend_and_steal(spam->dnsbl, g_steal_pointer(&zones));

	switch (cfg->engine) {
	case MW_SPAM_ENGINE_BUILTIN:
		if (*cfg->rules != '\0') {
			g_autofree char *path = config_dir_path(module, cfg->rules);
			spam->rules = mw_spam_rules_load(path, error);
			if (spam->rules == NULL)
				return FALSE;
		}
		break;
	case MW_SPAM_ENGINE_SPAMD:
		if (!g_str_has_prefix(cfg->spamd, "unix:/") && strrchr(cfg->spamd, ':') == NULL) {
			g_set_error(error, MW_ERROR, MW_ERROR_CONFIG,
				    "spamd: '%s' is not host:port or unix:/path", cfg->spamd);
			return FALSE;
		}
		break;
	case MW_SPAM_ENGINE_RSPAMD: {
		g_autofree char *target = NULL, *path = NULL;
		if (!mw_spam_rspamd_parse_url(cfg->rspamd, &target, &path, error))
			return FALSE;
		break;
	}
	default:
		g_assert_not_reached();
	}
	if (*cfg->bayes_store != '\0')
		spam->bayes_path = config_dir_path(module, cfg->bayes_store);
	else
		spam->bayes_path = g_build_filename(module->core != NULL && module->core->state_dir
							    ? module->core->state_dir
							    : ".",
						    BAYES_FILE, NULL);
	if (module->core != NULL && module->core->user != NULL)
		spam->user = g_strdup(module->core->user);
	return TRUE;
}

static void
spam_finalize(MwModule *module)
{
	if (module->priv != NULL)
		spam_free(module->priv);
	module->priv = NULL;
}

MwSpamBayes *
mw_spam_open_bayes(MwSpam *spam, gboolean create, GError **error)
{
	if (spam->bayes == NULL)
		spam->bayes = mw_spam_bayes_open(spam->bayes_path, create, error);
	return spam->bayes;
}

/* ensure_worker_state - what worker_init opens, for callers that ran no worker_init (scan) */
static gboolean
ensure_worker_state(MwModule *module, GError **error)
{
	const MwSpamConfig *cfg = module->config;
	MwSpam *spam = module->priv;
	if (cfg->engine != MW_SPAM_ENGINE_BUILTIN)
		return TRUE;
	if (cfg->spf && spam->spf == NULL) {
		const char *receiver = module->core != NULL ? module->core->hostname : NULL;
		spam->spf = mw_spam_spf_new(receiver, error);
		if (spam->spf == NULL)
			return FALSE;
	}
	if (spam->dnsbl->len > 0 && !spam->resolver_ready) {
		if (!mw_spam_resolver_init(&spam->resolver, (guint) cfg->dns_timeout, error))
			return FALSE;
		spam->resolver_ready = TRUE;
	}
	/* the Bayes store is created here when missing: by the worker, so it is owned by
	 * the user the daemon runs as */
	if (cfg->bayes && mw_spam_open_bayes(spam, TRUE, error) == NULL)
		return FALSE;
	return TRUE;
}

static gboolean
spam_worker_init(MwModule *module, GError **error)
{
	return ensure_worker_state(module, error);
}

static void
spam_worker_exit(MwModule *module)
{
	MwSpam *spam = module->priv;
	g_clear_pointer(&spam->spf, mw_spam_spf_free);
	g_clear_pointer(&spam->bayes, mw_spam_bayes_close);
	if (spam->resolver_ready)
		res_nclose(&spam->resolver);
	spam->resolver_ready = FALSE;
}

static gboolean
spam_check(MwModule *module, GError **error)
{
	const MwSpamConfig *cfg = module->config;
	MwSpam *spam = module->priv;
	switch (cfg->engine) {
	case MW_SPAM_ENGINE_SPAMD:
		return mw_spam_spamd_ping(cfg->spamd, (guint) cfg->timeout, error);
	case MW_SPAM_ENGINE_RSPAMD:
		return mw_spam_rspamd_ping(cfg->rspamd, (guint) cfg->timeout, error);
	default:
		break;
	}
	/* a store that exists must be readable; a missing one is created on first use */
	if (cfg->bayes && g_file_test(spam->bayes_path, G_FILE_TEST_EXISTS)) {
		g_autoptr(MwSpamBayes) bayes = mw_spam_bayes_open(spam->bayes_path, FALSE, error);
		gint64 nspam, nham;
		if (bayes == NULL || !mw_spam_bayes_counts(bayes, &nspam, &nham, error))
			return FALSE;
	}
	return TRUE;
}

/* read_raw - the first @max bytes of @msg (NUL-terminated; *@len_out without the NUL) */
static char *
read_raw(MwMessage *msg, gsize max, gsize *len_out)
{
	gsize want = (gsize) MIN((guint64) max, mw_message_get_size(msg));
	char *raw = g_malloc(want + 1);
	gsize have = 0;
	while (have < want) {
		gssize n = mw_message_read(msg, have, (guint8 *) raw + have, want - have, NULL);
		if (n <= 0)
			break;
		have += (gsize) n;
	}
	raw[have] = '\0';
	*len_out = have;
	return raw;
}

/* from_header_addr - the address of the first From: mailbox, or NULL */
static char *
from_header_addr(GMimeMessage *mime)
{
	InternetAddressList *from = mime != NULL ? g_mime_message_get_from(mime) : NULL;
	if (from == NULL)
		return NULL;
	for (int i = 0; i < internet_address_list_length(from); i++) {
		InternetAddress *ia = internet_address_list_get_address(from, i);
		if (INTERNET_ADDRESS_IS_MAILBOX(ia))
			return g_strdup(
				internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)));
	}
	return NULL;
}

/* add_bayes - the BAYES_00 .. BAYES_99 test for a spam probability */
static void
add_bayes(const MwSpamConfig *cfg, double prob, MwSpamResult *result)
{
	int bucket = (int) CLAMP(floor(prob * 100), 0, 99);
	char name[16];
	g_snprintf(name, sizeof name, "BAYES_%02d", bucket);
	double score = prob >= 0.5 ? (prob - 0.5) * 2 * cfg->bayes_spam_score
				   : (0.5 - prob) * 2 * cfg->bayes_ham_score;
	/* rounded as it is printed, so the tests' scores add up to the total shown */
	mw_spam_result_add(result, name, round(score * 1000) / 1000);
}

/* builtin_check - the builtin engine: rules, GTUBE, SPF, DNSBL, Bayes */
static gboolean
builtin_check(MwModule *module, MwTxn *txn, gboolean trusted, MwSpamResult *result, GError **error)
{
	const MwSpamConfig *cfg = module->config;
	MwSpam *spam = module->priv;
	gsize raw_len = 0;
	g_autofree char *raw = read_raw(txn->message, (gsize) cfg->max_size, &raw_len);
	if (mw_spam_gtube(raw, raw_len))
		mw_spam_result_add(result, "GTUBE", MW_SPAM_GTUBE_SCORE);

	gboolean want_bayes = FALSE;
	gint64 nspam = 0, nham = 0;
	if (cfg->bayes) {
		MwSpamBayes *bayes = mw_spam_open_bayes(spam, TRUE, error);
		if (bayes == NULL || !mw_spam_bayes_counts(bayes, &nspam, &nham, error))
			return FALSE;
		want_bayes = nspam >= cfg->bayes_min_spam && nham >= cfg->bayes_min_ham;
	}
	gboolean want_text = want_bayes || mw_spam_rules_need_text(spam->rules);
	GMimeMessage *mime = NULL;
	if (want_text || mw_spam_rules_need_mime(spam->rules))
		mime = mw_message_get_mime(txn->message, NULL);
	g_autoptr(MwSpamText) text =
		want_text ? mw_spam_text_new(mime, (gsize) cfg->max_size) : NULL;
	mw_spam_rules_eval(spam->rules, mime, text, raw, raw_len, result);

	if (cfg->spf && !trusted && txn->client_addr != NULL) {
		MwSpamSpfResult spf;
		char *received = NULL;
		if (mw_spam_spf_check(spam->spf, txn->client_addr, txn->helo, txn->envelope->sender,
				      &spf, &received)) {
			double score = spf == MW_SPAM_SPF_PASS       ? cfg->spf_pass_score
				       : spf == MW_SPAM_SPF_FAIL     ? cfg->spf_fail_score
				       : spf == MW_SPAM_SPF_SOFTFAIL ? cfg->spf_softfail_score
								     : 0.0;
			mw_spam_result_add(result, mw_spam_spf_test_name(spf), score);
			result->received_spf = received;
		}
	}
	for (guint i = 0; !trusted && txn->client_addr != NULL && i < spam->dnsbl->len; i++) {
		const MwSpamDnsbl *zone = g_ptr_array_index(spam->dnsbl, i);
		g_autofree char *qname = mw_spam_dnsbl_query_name(txn->client_addr, zone->zone);
		g_autofree char *answer = NULL;
		if (qname != NULL && mw_spam_dnsbl_lookup(&spam->resolver, qname, &answer)) {
			mw_spam_result_add(result, zone->test, zone->score);
			mw_txn_log(txn, G_LOG_LEVEL_INFO, "spam: %s is listed in %s (%s)",
				   txn->client_addr, zone->zone, answer);
		}
	}
	if (want_bayes) {
		g_autofree char *from = from_header_addr(mime);
		g_autoptr(GHashTable) tokens = mw_spam_bayes_tokens(text, from);
		double prob;
		if (!mw_spam_bayes_classify(spam->bayes, tokens, &prob, error))
			return FALSE;
		add_bayes(cfg, prob, result);
	}
	return TRUE;
}

/* scored_rcpts - active recipients that are not allow-listed */
static GPtrArray *
scored_rcpts(const MwSpamConfig *cfg, MwTxn *txn, gboolean sender_allowed)
{
	GPtrArray *scored = g_ptr_array_new();
	for (guint i = 0; i < txn->rcpts->len; i++) {
		MwTxnRcpt *rcpt = g_ptr_array_index(txn->rcpts, i);
		if (rcpt->verdict != MW_VERDICT_CONTINUE || sender_allowed ||
		    mw_spam_list_match(cfg->allow_to, rcpt->rcpt->address))
			continue;
		g_ptr_array_add(scored, rcpt);
	}
	return scored;
}

/* apply_action - the configured action for the scored recipients */
static void
apply_action(const MwSpamConfig *cfg, MwTxn *txn, GPtrArray *scored, const char *why)
{
	for (guint i = 0; i < scored->len; i++) {
		MwTxnRcpt *rcpt = g_ptr_array_index(scored, i);
		switch (cfg->action) {
		case MW_SPAM_ACTION_REJECT:
			mw_txn_verdict(txn, rcpt, MW_VERDICT_REJECT, "spam",
				       "5.7.1 Rejected as spam%s", why);
			break;
		case MW_SPAM_ACTION_DISCARD:
			mw_txn_verdict(txn, rcpt, MW_VERDICT_DISCARD, "spam",
				       "2.0.0 Discarded as spam%s", why);
			break;
		case MW_SPAM_ACTION_QUARANTINE:
		default:
			mw_txn_verdict(txn, rcpt, MW_VERDICT_QUARANTINE, "spam",
				       "2.0.0 Quarantined as spam%s", why);
			break;
		}
	}
}

/* edit_deliveries - write @headers into the message of every scored recipient, splitting
 * deliveries they share with recipients that keep the original */
static gboolean
edit_deliveries(MwTxn *txn, GPtrArray *scored, const MwSpamHeaders *headers, GError **error)
{
	guint n_deliveries = txn->deliveries->len; /* a split appends: do not visit those */
	for (guint d = 0; d < n_deliveries; d++) {
		MwDelivery *delivery = g_ptr_array_index(txn->deliveries, d);
		g_autoptr(GPtrArray) mine = g_ptr_array_new();
		for (guint i = 0; i < scored->len; i++) {
			MwTxnRcpt *rcpt = g_ptr_array_index(scored, i);
			if (rcpt->delivery == delivery)
				g_ptr_array_add(mine, rcpt);
		}
		if (mine->len == 0)
			continue;
		GMimeMessage *current = mw_delivery_get_mime(delivery, error);
		if (current == NULL)
			return FALSE;
		if (!mw_spam_headers_needed(current, headers))
			continue;
		MwDelivery *target = delivery;
		if (mine->len < mw_txn_delivery_n_active(txn, delivery))
			target = mw_txn_split(txn, mine);
		GMimeMessage *mime = mw_delivery_edit_mime(target, error);
		if (mime == NULL)
			return FALSE;
		mw_spam_headers_apply(mime, headers);
	}
	return TRUE;
}

/* run_engine - the score of the message */
static gboolean
run_engine(MwModule *module, MwTxn *txn, gboolean trusted, MwSpamResult *result, GError **error)
{
	const MwSpamConfig *cfg = module->config;
	switch (cfg->engine) {
	case MW_SPAM_ENGINE_SPAMD:
		return mw_spam_spamd_check(cfg->spamd, (guint) cfg->timeout, txn->message, result,
					   error);
	case MW_SPAM_ENGINE_RSPAMD:
		return mw_spam_rspamd_check(cfg->rspamd, (guint) cfg->timeout, txn,
					    module->core != NULL ? module->core->hostname : NULL,
					    result, error);
	default:
		return builtin_check(module, txn, trusted, result, error);
	}
}

static gboolean
spam_process(MwModule *module, MwTxn *txn, GError **error)
{
	const MwSpamConfig *cfg = module->config;
	MwSpam *spam = module->priv;
	const char *sender = txn->envelope->sender;

	if (mw_txn_n_active(txn) == 0)
		return TRUE;
	gboolean trusted =
		mw_spam_client_trusted(spam->trusted, spam->trust_local, txn->client_addr);
	if (cfg->skip_outbound && trusted && txn->config != NULL &&
	    mw_config_is_local_address(txn->config, sender)) {
		mw_txn_note(txn, "spam", "skipped(outbound)");
		return TRUE;
	}
	g_autoptr(GPtrArray) scored =
		scored_rcpts(cfg, txn, mw_spam_list_match(cfg->allow_from, sender));
	if (scored->len == 0) {
		mw_txn_note(txn, "spam", "allowed");
		return TRUE;
	}
	gboolean blocked = mw_spam_list_match(cfg->block_from, sender);
	if (!blocked && cfg->block_from != NULL && cfg->block_from[0] != NULL) {
		g_autofree char *from = from_header_addr(mw_message_get_mime(txn->message, NULL));
		blocked = mw_spam_list_match(cfg->block_from, from);
	}
	if (blocked) {
		apply_action(cfg, txn, scored, " (blocked sender)");
		mw_txn_note(txn, "spam", "blocked(%s)", action_names[cfg->action]);
		mw_txn_log(txn, G_LOG_LEVEL_MESSAGE, "spam: sender <%s> is blocked: %s", sender,
			   action_names[cfg->action]);
		return TRUE;
	}
	if (mw_message_get_size(txn->message) > cfg->max_size) {
		mw_txn_note(txn, "spam", "skipped(size)");
		return TRUE;
	}
	if (!ensure_worker_state(module, error))
		return FALSE;

	MwSpamResult result;
	mw_spam_result_init(&result);
	if (!run_engine(module, txn, trusted, &result, error)) {
		mw_spam_result_clear(&result);
		return FALSE;
	}
	g_autofree char *tests = mw_spam_result_names(&result);
	double score = round(result.score * 10) / 10; /* as printed: 7.25 must not be 7.3 < 7.3 */
	char score_text[G_ASCII_DTOSTR_BUF_SIZE];
	g_ascii_formatd(score_text, sizeof score_text, "%.1f", score);
	const char *outcome;
	gboolean ok = TRUE;
	if (score >= cfg->discard_level) {
		g_autofree char *why = g_strdup_printf(" (score %s)", score_text);
		apply_action(cfg, txn, scored, why);
		outcome = action_names[cfg->action];
	} else {
		MwSpamHeaders headers = {
			.add_status = score >= cfg->tag_level,
			.spam = score >= cfg->spam_level,
			.score = score,
			.required = cfg->spam_level,
			.tests = tests,
			.received_spf = result.received_spf,
			.subject_tag = cfg->subject_tag,
		};
		outcome = headers.spam ? "spam" : headers.add_status ? "tagged" : "clean";
		ok = edit_deliveries(txn, scored, &headers, error);
	}
	mw_txn_note(txn, "spam", "%s/%s", score_text, outcome);
	mw_txn_log(txn, score >= cfg->discard_level ? G_LOG_LEVEL_MESSAGE : G_LOG_LEVEL_INFO,
		   "spam: score=%s required=%.1f tests=%s result=%s", score_text, cfg->spam_level,
		   tests, outcome);
	mw_spam_result_clear(&result);
	return ok;
}

static gboolean
spam_command(MwModule *module, int argc, char **argv, int *exit_code)
{
	return mw_spam_learn_command(module, argc, argv, exit_code);
}

const MwModuleClass mw_spam_module = {
	.name = "spam",
	.abi = MW_MODULE_ABI,
	.options = spam_options,
	.config_size = sizeof(MwSpamConfig),
	.on_error_default = MW_ON_ERROR_TEMPFAIL,
	.configure = spam_configure,
	.check = spam_check,
	.worker_init = spam_worker_init,
	.process = spam_process,
	.worker_exit = spam_worker_exit,
	.finalize = spam_finalize,
	.command = spam_command,
};
