/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-footer - the footer module: text and HTML footers on body text
 * SYNOPSIS
 *	mw_footer_module
 * DESCRIPTION
 *	Section [footer]: text, html, text.<domain>, html.<domain>, apply_to,
 *	position, signed (README.md). configure() reads every footer file, so a
 *	missing or broken file is a configuration error (--check-config, and a
 *	reload that keeps the running configuration); a SIGHUP reload reads
 *	them again, which is how an edited footer is picked up. The texts live
 *	in module->priv, read-only after configure(), shared by the workers.
 *
 *	process() chooses the footer by the envelope sender's domain, then gives
 *	every delivery with active recipients its footer (deliveries that share
 *	the same bytes are done once). It never gives a verdict: a message that
 *	cannot take a footer goes on unchanged, and the summary line says why
 *	(footer=added, attached, present, signed, encrypted, no-body, unchanged,
 *	skipped, none). It fails (on_error, default tempfail) only when the spool
 *	cannot be read or written.
 * SEE ALSO
 *	mw-footer-apply.c (one message), README.md
 */
#include <string.h>

#include "mw-error.h"
#include "mw-footer.h"

static const char *const apply_choices[] = {"outbound", "inbound", "all", NULL};
static const char *const position_choices[] = {"bottom", "top", NULL};
static const char *const signed_choices[] = {"skip", "attach", NULL};

static const MwOption footer_options[] = {
	{"text", MW_OPT_PATH, NULL, G_STRUCT_OFFSET(MwFooterConfig, text), NULL, 0, 0,
	 "plain text footer file (UTF-8)"},
	{"html", MW_OPT_PATH, NULL, G_STRUCT_OFFSET(MwFooterConfig, html), NULL, 0, 0,
	 "HTML footer file (UTF-8); derived from text when unset"},
	{"text.", MW_OPT_MAP, NULL, G_STRUCT_OFFSET(MwFooterConfig, text_domains), NULL, 0, 0,
	 "text.<domain> = FILE: plain footer for senders of that domain"},
	{"html.", MW_OPT_MAP, NULL, G_STRUCT_OFFSET(MwFooterConfig, html_domains), NULL, 0, 0,
	 "html.<domain> = FILE: HTML footer for senders of that domain"},
	{"apply_to", MW_OPT_ENUM, "outbound", G_STRUCT_OFFSET(MwFooterConfig, apply_to),
	 apply_choices, 0, 0, "outbound (sender in local_domains), inbound or all"},
	{"position", MW_OPT_ENUM, "bottom", G_STRUCT_OFFSET(MwFooterConfig, position),
	 position_choices, 0, 0, "bottom or top of the body text"},
	{"signed", MW_OPT_ENUM, "skip", G_STRUCT_OFFSET(MwFooterConfig, signed_mode),
	 signed_choices, 0, 0, "signed mail: skip, or attach (wrap, footer as its own part)"},
	MW_OPTION_END,
};

/* MwFooterPriv - module->priv: the loaded footers */
typedef struct {
	MwFooterText *fallback; /* text/html keys, or NULL */
	GHashTable *domains;    /* lower-case domain -> MwFooterText */
} MwFooterPriv;

static void
priv_free(MwFooterPriv *priv)
{
	if (priv == NULL)
		return;
	mw_footer_text_free(priv->fallback);
	g_hash_table_unref(priv->domains);
	g_free(priv);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(MwFooterPriv, priv_free)

/* set_or_null - a path key's value; empty (the shipped "text =") means unset */
static const char *
set_or_null(const char *value)
{
	return value != NULL && *value != '\0' ? value : NULL;
}

/* add_problem - collect a load error as one more problem line */
static void
add_problem(GString *problems, GError *error)
{
	if (problems->len > 0)
		g_string_append(problems, "\n[footer] ");
	g_string_append(problems, error->message);
}

static gboolean
footer_configure(MwModule *module, GError **error)
{
	const MwFooterConfig *config = module->config;
	g_autoptr(MwFooterPriv) priv = g_new0(MwFooterPriv, 1);
	g_autoptr(GString) problems = g_string_new(NULL);
	g_autofree char *base_dir = NULL;
	GHashTableIter iter;
	gpointer key;

	priv->domains = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					      (GDestroyNotify) mw_footer_text_free);
	/* relative footer paths are relative to the configuration file */
	if (module->core != NULL && module->core->path != NULL)
		base_dir = g_path_get_dirname(module->core->path);
	if (set_or_null(config->text) != NULL || set_or_null(config->html) != NULL) {
		g_autoptr(GError) local = NULL;
		priv->fallback =
			mw_footer_text_load(set_or_null(config->text), set_or_null(config->html),
					    base_dir, "default", &local);
		if (priv->fallback == NULL)
			add_problem(problems, local);
	}
	g_autoptr(GHashTable) domains = g_hash_table_new(g_str_hash, g_str_equal);
	g_hash_table_iter_init(&iter, config->text_domains);
	while (g_hash_table_iter_next(&iter, &key, NULL))
		g_hash_table_add(domains, key);
	g_hash_table_iter_init(&iter, config->html_domains);
	while (g_hash_table_iter_next(&iter, &key, NULL))
		g_hash_table_add(domains, key);
	g_hash_table_iter_init(&iter, domains);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		const char *domain = key;
		const char *text = set_or_null(g_hash_table_lookup(config->text_domains, domain));
		const char *html = set_or_null(g_hash_table_lookup(config->html_domains, domain));
		g_autoptr(GError) local = NULL;
		if (text == NULL && html == NULL)
			continue;
		MwFooterText *footer = mw_footer_text_load(text, html, base_dir, domain, &local);
		if (footer == NULL)
			add_problem(problems, local);
		else
			g_hash_table_replace(priv->domains, g_strdup(domain), footer);
	}
	if (problems->len == 0 && priv->fallback == NULL && g_hash_table_size(priv->domains) == 0)
		g_string_append(problems, "no footer configured: set text and/or html, or "
					  "text.<domain>/html.<domain>");
	if (problems->len > 0) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "%s", problems->str);
		return FALSE;
	}
	module->priv = g_steal_pointer(&priv);
	return TRUE;
}

static void
footer_finalize(MwModule *module)
{
	g_clear_pointer(&module->priv, priv_free);
}

/* sender_domain - the lower-case domain of @sender, NULL for <> or no '@' */
static char *
sender_domain(const char *sender)
{
	const char *at = sender != NULL ? strrchr(sender, '@') : NULL;

	return at != NULL && at[1] != '\0' ? g_ascii_strdown(at + 1, -1) : NULL;
}

/* applies - whether apply_to covers this sender */
static gboolean
applies(const MwModule *module, const char *sender)
{
	const MwFooterConfig *config = module->config;
	gboolean local = module->core != NULL && mw_config_is_local_address(module->core, sender);

	switch ((MwFooterApply) config->apply_to) {
	case MW_FOOTER_APPLY_OUTBOUND:
		return local;
	case MW_FOOTER_APPLY_INBOUND:
		return !local;
	case MW_FOOTER_APPLY_ALL:
		return TRUE;
	}
	return FALSE;
}

/* choose_footer - the sender domain's own footer, else the default one (may be NULL) */
static const MwFooterText *
choose_footer(const MwFooterPriv *priv, const char *sender)
{
	g_autofree char *domain = sender_domain(sender);
	const MwFooterText *footer =
		domain != NULL ? g_hash_table_lookup(priv->domains, domain) : NULL;

	return footer != NULL ? footer : priv->fallback;
}

/* note_outcome - add @outcome to the distinct outcomes seen for this message */
static void
note_outcome(GPtrArray *seen, MwFooterOutcome outcome)
{
	const char *name = mw_footer_outcome_names[outcome];

	if (!g_ptr_array_find_with_equal_func(seen, name, g_str_equal, NULL))
		g_ptr_array_add(seen, (gpointer) name);
}

/* cached_result - what an earlier delivery with the same bytes gave */
typedef struct {
	MwMessage *result; /* (nullable) */
	MwFooterOutcome outcome;
} CachedResult;

static void
cached_result_free(CachedResult *cached)
{
	g_clear_pointer(&cached->result, mw_message_unref);
	g_free(cached);
}

static gboolean
footer_process(MwModule *module, MwTxn *txn, GError **error)
{
	const MwFooterConfig *config = module->config;
	const MwFooterPriv *priv = module->priv;
	const char *sender = txn->envelope->sender;
	const char *spool_dir = txn->config != NULL ? txn->config->state_dir : NULL;

	if (mw_txn_n_active(txn) == 0)
		return TRUE;
	if (!applies(module, sender)) {
		mw_txn_note(txn, "footer", "skipped");
		return TRUE;
	}
	const MwFooterText *footer = choose_footer(priv, sender);
	if (footer == NULL) {
		mw_txn_note(txn, "footer", "none");
		return TRUE;
	}

	/* deliveries that send the same bytes get the same result, computed once */
	g_autoptr(GHashTable) done = g_hash_table_new_full(g_direct_hash, g_direct_equal,
							   (GDestroyNotify) mw_message_unref,
							   (GDestroyNotify) cached_result_free);
	g_autoptr(GPtrArray) seen = g_ptr_array_new();
	for (guint i = 0; i < txn->deliveries->len; i++) {
		MwDelivery *delivery = g_ptr_array_index(txn->deliveries, i);
		if (mw_txn_delivery_n_active(txn, delivery) == 0)
			continue;
		gpointer key = delivery->mime == NULL ? delivery->message : NULL;
		CachedResult *cached = key != NULL ? g_hash_table_lookup(done, key) : NULL;
		if (cached == NULL) {
			g_autoptr(MwMessage) bytes =
				mw_delivery_dup_bytes(delivery, spool_dir, error);
			if (bytes == NULL)
				return FALSE;
			g_autoptr(GError) local = NULL;
			cached = g_new0(CachedResult, 1);
			cached->result = mw_footer_apply(
				txn, bytes, footer, (MwFooterPosition) config->position,
				(MwFooterSigned) config->signed_mode, &cached->outcome, &local);
			if (local != NULL) {
				cached_result_free(cached);
				g_propagate_error(error, g_steal_pointer(&local));
				return FALSE;
			}
			/* the key holds a reference: a freed message's address must not
			 * match a later one */
			if (key != NULL)
				g_hash_table_insert(done, mw_message_ref(key), cached);
		}
		note_outcome(seen, cached->outcome);
		if (cached->result != NULL)
			mw_delivery_set_message(delivery, cached->result);
		if (key == NULL)
			cached_result_free(cached);
	}
	if (seen->len > 0) {
		g_ptr_array_add(seen, NULL);
		g_autofree char *joined = g_strjoinv(",", (char **) seen->pdata);
		mw_txn_note(txn, "footer", "%s", joined);
		if (footer != priv->fallback)
			mw_txn_log(txn, G_LOG_LEVEL_INFO, "footer: %s footer of %s", joined,
				   footer->origin);
	}
	return TRUE;
}

const MwModuleClass mw_footer_module = {
	.name = "footer",
	.abi = MW_MODULE_ABI,
	.options = footer_options,
	.config_size = sizeof(MwFooterConfig),
	.on_error_default = MW_ON_ERROR_TEMPFAIL,
	.configure = footer_configure,
	.process = footer_process,
	.finalize = footer_finalize,
};
