/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-virus - the virus module: ClamAV, banned attachments, verdicts
 * SYNOPSIS
 *	mw_virus_module
 * DESCRIPTION
 *	Section [virus]. Each message is scanned whole, as received, by
 *	libclamav in-process (engine = libclamav, the default: the engine is
 *	built by start() in the master before the workers fork, so they share
 *	it) or by clamd over INSTREAM (engine = clamd). Then, unless a virus
 *	was found, its attachments are checked against banned_extensions and
 *	banned_types (and encrypted zips when encrypted = block), which needs
 *	the MIME tree: a message is parsed only when one of those is set.
 *
 *	An infected or banned message gets the configured action for every
 *	active recipient: discard (the default: after the queue a reject
 *	becomes a bounce to a sender a virus has usually forged), reject (554
 *	5.7.1 naming the virus) or quarantine (the core keeps the copy).
 *	notify_admin and notify_recipient emit notices through the core.
 *	Clean mail is left byte-identical unless add_header asks for
 *	X-Virus-Scanned, which is prepended to the bytes (no re-serialization)
 *	once per hop (not again when the same header is already there, e.g. on
 *	a second pass).
 *
 *	When the scanner cannot give a verdict (clamd down or too slow, a
 *	libclamav error or timeout) process() fails with MW_ERROR_BACKEND and
 *	the core applies on_error (tempfail by default, or pass), logging which
 *	and why; a banned attachment found meanwhile still blocks the message.
 *
 *	State: the typed config (option table), and in module->priv the engine,
 *	the banned-attachment checker (with its libmagic cookie) and the
 *	header value. Nothing is written after start() except by lazy
 *	initialisation in processes where start() did not run (the offline
 *	"scan" command), so workers keep the master's pages shared.
 * SEE ALSO
 *	modules/virus/README.md, mw-virus-clamav.c, mw-virus-clamd.c,
 *	mw-virus-banned.c, mw-virus-notify.c
 */
#include <stddef.h>
#include <string.h>

#include "mw-error.h"
#include "mw-virus.h"

#define NAME "virus"

/* Priv - module->priv */
typedef struct {
	MwVirusClamav *clamav; /* engine = libclamav: built by start(), or on first use */
	MwVirusBanned *banned;
	char *header_value; /* "mailwarden VERSION at HOSTNAME" */
} Priv;

static const char *const engine_names[] = {"libclamav", "clamd", NULL};
static const char *const action_names[] = {"discard", "reject", "quarantine", NULL};
static const char *const encrypted_names[] = {"block", "pass", NULL};
static const char *const oversized_names[] = {"pass", "block", NULL};

#define OFF(field) offsetof(MwVirusConfig, field)

static const MwOption virus_options[] = {
	{"engine", MW_OPT_ENUM, "libclamav", OFF(engine), engine_names, 0, 0,
	 "libclamav (in-process, loaded once before the workers fork) or clamd"},
	{"database", MW_OPT_PATH, "/var/lib/clamav", OFF(database), NULL, 0, 0,
	 "signature directory for engine = libclamav (clamd uses its own DatabaseDirectory)"},
	{"tmpdir", MW_OPT_PATH, "", OFF(tmpdir), NULL, 0, 0,
	 "directory for libclamav's temporary files (decoded parts, unpacked archives); empty: "
	 "$TMPDIR or /tmp; a tmpfs makes scanning several times cheaper"},
	{"clamd_socket", MW_OPT_STRING, "unix:/run/clamav/clamd.ctl", OFF(clamd_socket), NULL, 0, 0,
	 "clamd address for engine = clamd: unix:/path or host:port"},
	{"timeout", MW_OPT_DURATION, "60", OFF(timeout), NULL, 1, 3600,
	 "seconds one scan may take (libclamav scan time; clamd connect, send and verdict)"},
	{"max_scan_size", MW_OPT_SIZE, "400m", OFF(max_scan_size), NULL, 1024, G_MAXINT64,
	 "most bytes scanned per message (decoded and unpacked data count); clamd gets at most "
	 "this much"},
	{"max_file_size", MW_OPT_SIZE, "100m", OFF(max_file_size), NULL, 1024, G_MAXINT64,
	 "largest single file (attachment, archive member) scanned or looked into"},
	{"max_files", MW_OPT_INT, "10000", OFF(max_files), NULL, 1, 1000000,
	 "most files (parts, archive members) examined per message"},
	{"max_recursion", MW_OPT_INT, "17", OFF(max_recursion), NULL, 1, 100,
	 "deepest nesting of messages and archives examined"},
	{"encrypted", MW_OPT_ENUM, "block", OFF(encrypted), encrypted_names, 0, 0,
	 "encrypted archives and documents, which cannot be scanned: block or pass"},
	{"oversized", MW_OPT_ENUM, "pass", OFF(oversized), oversized_names, 0, 0,
	 "mail the scanner could not read whole because of the limits above: pass or block"},
	{"action", MW_OPT_ENUM, "discard", OFF(action), action_names, 0, 0,
	 "for infected or banned mail: discard, reject (554 5.7.1) or quarantine"},
	{"banned_extensions", MW_OPT_LIST,
	 "bat, cmd, com, cpl, exe, hta, jar, js, jse, lnk, msi, pif, ps1, scr, vbe, vbs, wsf, wsh",
	 OFF(banned_extensions), NULL, 0, 0,
	 "file name extensions blocked in attachments and zip archives (case-insensitive; "
	 "\"tar.gz\" style allowed; empty: none)"},
	{"banned_types", MW_OPT_LIST,
	 "application/x-dosexec, application/vnd.microsoft.portable-executable, "
	 "application/x-msdownload, application/x-ms-shortcut",
	 OFF(banned_types), NULL, 0, 0,
	 "MIME types blocked by detected content (libmagic) or declared type; * allowed; empty: "
	 "none"},
	{"add_header", MW_OPT_BOOL, "false", OFF(add_header), NULL, 0, 0,
	 "add X-Virus-Scanned: mailwarden VERSION at HOSTNAME to clean mail"},
	{"notify_admin", MW_OPT_STRING, "", OFF(notify_admin), NULL, 0, 0,
	 "address that gets a notice for each blocked message; empty: none"},
	{"notify_recipient", MW_OPT_BOOL, "false", OFF(notify_recipient), NULL, 0, 0,
	 "local recipients of a blocked message get a short notice instead"},
	MW_OPTION_END,
};

/* priv_free - the engine, the checker and the header value */
static void
priv_free(Priv *priv)
{
	if (priv == NULL)
		return;
	mw_virus_clamav_free(priv->clamav);
	mw_virus_banned_free(priv->banned);
	g_free(priv->header_value);
	g_free(priv);
}

/* address_valid - a plain mailbox for notify_admin: local@domain, no spaces or brackets */
static gboolean
address_valid(const char *address)
{
	const char *at = strrchr(address, '@');

	return at != NULL && at != address && at[1] != '\0' &&
	       strpbrk(address, " \t\r\n<>,;\"") == NULL;
}

/* virus_configure - rules across keys, the banned-attachment checker, the header value */
static gboolean
virus_configure(MwModule *module, GError **error)
{
	MwVirusConfig *cfg = module->config;

	if (cfg->engine == MW_VIRUS_ENGINE_CLAMD &&
	    !mw_virus_clamd_target_valid(cfg->clamd_socket, error))
		return FALSE;
	if (cfg->engine == MW_VIRUS_ENGINE_LIBCLAMAV &&
	    (cfg->database == NULL || *cfg->database == '\0')) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG,
			    "database: empty, but engine = libclamav needs a signature directory");
		return FALSE;
	}
	if (cfg->tmpdir != NULL && *cfg->tmpdir != '\0' && !g_path_is_absolute(cfg->tmpdir)) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG,
			    "tmpdir: '%s' is not an absolute path", cfg->tmpdir);
		return FALSE;
	}
	if (cfg->notify_admin != NULL && *cfg->notify_admin != '\0' &&
	    !address_valid(cfg->notify_admin)) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG,
			    "notify_admin: '%s' is not a mail address (local@domain)",
			    cfg->notify_admin);
		return FALSE;
	}
	if (cfg->max_file_size > cfg->max_scan_size) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG,
			    "max_file_size (%" G_GUINT64_FORMAT
			    ") is larger than max_scan_size (%" G_GUINT64_FORMAT ")",
			    cfg->max_file_size, cfg->max_scan_size);
		return FALSE;
	}
	MwVirusBanned *banned = mw_virus_banned_new(
		(const char *const *) cfg->banned_extensions,
		(const char *const *) cfg->banned_types, cfg->encrypted == MW_VIRUS_ENCRYPTED_BLOCK,
		(guint) cfg->max_recursion, (guint) cfg->max_files, cfg->max_file_size, error);
	if (banned == NULL)
		return FALSE;
	Priv *priv = g_new0(Priv, 1);
	priv->banned = banned;
	priv->header_value =
		g_strdup_printf("mailwarden %s at %s", MW_VERSION, module->core->hostname);
	module->priv = priv;
	return TRUE;
}

/* virus_start - the engine and the magic database, in the master before the fork */
static gboolean
virus_start(MwModule *module, GError **error)
{
	MwVirusConfig *cfg = module->config;
	Priv *priv = module->priv;

	if (!mw_virus_banned_load_magic(priv->banned, error))
		return FALSE;
	if (cfg->engine != MW_VIRUS_ENGINE_LIBCLAMAV || priv->clamav != NULL)
		return TRUE;
	gint64 t0 = g_get_monotonic_time();
	priv->clamav = mw_virus_clamav_new(cfg, error);
	if (priv->clamav == NULL)
		return FALSE;
	g_message("virus: libclamav engine loaded %u signatures from %s in %.1fs",
		  mw_virus_clamav_get_signatures(priv->clamav), cfg->database,
		  (double) (g_get_monotonic_time() - t0) / G_USEC_PER_SEC);
	return TRUE;
}

/* virus_check - --check-config: the database is there (counted, not loaded), clamd answers */
static gboolean
virus_check(MwModule *module, GError **error)
{
	MwVirusConfig *cfg = module->config;
	Priv *priv = module->priv;

	if (!mw_virus_banned_load_magic(priv->banned, error))
		return FALSE;
	if (cfg->engine == MW_VIRUS_ENGINE_CLAMD)
		return mw_virus_clamd_ping(cfg->clamd_socket, (guint) cfg->timeout * 1000, error);
	return mw_virus_clamav_check_database(cfg->database, NULL, error);
}

/* virus_finalize - frees the engine: for the old generation after a reload, too */
static void
virus_finalize(MwModule *module)
{
	g_clear_pointer(&module->priv, priv_free);
}

/* scan - the engine's verdict: @virus_out set when infected; @partial_out when the message
 * was not scanned whole (clamd got only max_scan_size, or refused it as too long) */
static gboolean
scan(MwModule *module, MwTxn *txn, char **virus_out, gboolean *partial_out, GError **error)
{
	MwVirusConfig *cfg = module->config;
	Priv *priv = module->priv;

	*virus_out = NULL;
	*partial_out = FALSE;
	if (cfg->engine == MW_VIRUS_ENGINE_LIBCLAMAV) {
		if (priv->clamav == NULL) {
			/* start() did not run here (the offline scan command) */
			g_autoptr(GError) local = NULL;
			priv->clamav = mw_virus_clamav_new(cfg, &local);
			if (priv->clamav == NULL) {
				g_set_error(error, MW_ERROR, MW_ERROR_BACKEND,
					    "libclamav engine not available: %s", local->message);
				return FALSE;
			}
		}
		return mw_virus_clamav_scan(priv->clamav, txn->message, virus_out, error);
	}
	MwVirusClamdResult result;
	if (!mw_virus_clamd_scan(cfg->clamd_socket, txn->message, cfg->max_scan_size,
				 MW_VIRUS_CLAMD_CHUNK, (guint) cfg->timeout * 1000, &result, error))
		return FALSE;
	*virus_out = g_steal_pointer(&result.virus);
	*partial_out = result.truncated || result.limit;
	if (result.limit)
		mw_txn_log(txn, G_LOG_LEVEL_INFO,
			   "virus: clamd refused the message as too long (its StreamMaxLength)");
	mw_virus_clamd_result_clear(&result);
	return TRUE;
}

/* value_is - a header value, unfolded and trimmed, equals @value */
static gboolean
value_is(const char *raw, const char *value)
{
	g_autofree char *copy = g_strdup(raw);
	g_strdelimit(copy, "\r\n\t", ' ');
	g_strstrip(copy);
	/* folding leaves runs of blanks; ours has single spaces */
	GString *norm = g_string_new(NULL);
	for (const char *p = copy; *p != '\0'; p++) {
		if (*p == ' ' && norm->len > 0 && norm->str[norm->len - 1] == ' ')
			continue;
		g_string_append_c(norm, *p);
	}
	gboolean same = strcmp(norm->str, value) == 0;
	g_string_free(norm, TRUE);
	return same;
}

/* tree_has_header - the edited tree @mime carries "X-Virus-Scanned: @value" */
static gboolean
tree_has_header(GMimeMessage *mime, const char *value)
{
	GMimeHeaderList *headers = g_mime_object_get_header_list(GMIME_OBJECT(mime));
	int n = g_mime_header_list_get_count(headers);

	for (int i = 0; i < n; i++) {
		GMimeHeader *header = g_mime_header_list_get_header_at(headers, i);
		if (g_ascii_strcasecmp(g_mime_header_get_name(header), "X-Virus-Scanned") == 0 &&
		    value_is(g_mime_header_get_raw_value(header), value))
			return TRUE;
	}
	return FALSE;
}

/* bytes_have_header - the header block of @message carries "X-Virus-Scanned: @value"
 * (read from the bytes: no MIME parse for a message nobody edited) */
static gboolean
bytes_have_header(MwMessage *message, const char *value)
{
	static const char name[] = "x-virus-scanned:";
	g_autofree char *head = mw_message_dup_head(message, 64 * 1024);
	const char *p = head;

	while (*p != '\0' && *p != '\r' && *p != '\n') {
		const char *end = p;
		/* one header: its line and the continuation lines after it */
		do {
			end = strchr(end, '\n');
			end = end != NULL ? end + 1 : p + strlen(p);
		} while (*end == ' ' || *end == '\t');
		if (g_ascii_strncasecmp(p, name, sizeof name - 1) == 0) {
			g_autofree char *raw = g_strndup(p + sizeof name - 1,
							 (gsize) (end - p) - (sizeof name - 1));
			if (value_is(raw, value))
				return TRUE;
		}
		p = end;
	}
	return FALSE;
}

/* add_header - X-Virus-Scanned first on every delivery that still goes out, unless this
 * hop's header is there already; the bytes after it stay as they were */
static gboolean
add_header(MwModule *module, MwTxn *txn, GError **error)
{
	Priv *priv = module->priv;

	for (guint i = 0; i < txn->deliveries->len; i++) {
		MwDelivery *delivery = g_ptr_array_index(txn->deliveries, i);
		if (mw_txn_delivery_n_active(txn, delivery) == 0)
			continue;
		gboolean present =
			delivery->mime != NULL
				? tree_has_header(delivery->mime, priv->header_value)
				: bytes_have_header(delivery->message, priv->header_value);
		if (present)
			continue;
		if (!mw_delivery_prepend_header(delivery, "X-Virus-Scanned", priv->header_value,
						txn->config->state_dir, error))
			return FALSE;
	}
	return TRUE;
}

/* note_token - @text as one token of the summary line: no blanks, bounded */
static char *
note_token(const char *text)
{
	g_autofree char *base = g_strdup(text);
	char *paren = strstr(base, " (");

	if (paren != NULL)
		*paren = '\0';
	char *token = mw_virus_sanitize(base, 80);
	for (char *p = token; *p != '\0'; p++) {
		if (*p == ' ')
			*p = '_';
	}
	return token;
}

/* local_active_rcpts - the active recipients in local_domains (all of them when none are set) */
static GPtrArray *
local_active_rcpts(MwTxn *txn)
{
	GPtrArray *rcpts = g_ptr_array_new();
	gboolean any_local = txn->config->local_domains != NULL && txn->config->local_domains[0];

	for (guint i = 0; i < txn->rcpts->len; i++) {
		MwTxnRcpt *rcpt = g_ptr_array_index(txn->rcpts, i);
		if (rcpt->verdict != MW_VERDICT_CONTINUE)
			continue;
		if (!any_local || mw_config_is_local_address(txn->config, rcpt->rcpt->address))
			g_ptr_array_add(rcpts, rcpt);
	}
	return rcpts;
}

/* block - notices, then the configured verdict for every active recipient */
static gboolean
block(MwModule *module, MwTxn *txn, const MwVirusFinding *finding, GError **error)
{
	MwVirusConfig *cfg = module->config;
	g_autofree char *what = mw_virus_sanitize(finding->what, 200);
	g_autofree char *token = note_token(finding->what);
	g_autofree char *sender = mw_virus_sanitize(txn->envelope->sender, 320);
	const char *label = g_str_equal(finding->kind, "virus")       ? "Virus found"
			    : g_str_equal(finding->kind, "encrypted") ? "Encrypted attachment "
									"cannot be scanned"
								      : "Banned attachment";
	const char *note_kind = g_str_equal(finding->kind, "virus") ? "infected" : finding->kind;

	/* notices first: they list the recipients that are still active */
	if (cfg->notify_admin != NULL && *cfg->notify_admin != '\0') {
		g_autoptr(GError) local = NULL;
		if (!mw_virus_notify_admin(txn, module, finding, &local))
			mw_txn_log(txn, G_LOG_LEVEL_WARNING, "virus: cannot notify %s: %s",
				   cfg->notify_admin, local->message);
	}
	if (cfg->notify_recipient) {
		g_autoptr(GPtrArray) rcpts = local_active_rcpts(txn);
		if (rcpts->len > 0 &&
		    !mw_virus_notify_recipients(txn, module, finding, rcpts, error))
			return FALSE;
	}
	mw_txn_log(txn, G_LOG_LEVEL_MESSAGE, "virus: %s: %s from=<%s> action=%s", label, what,
		   sender, action_names[cfg->action]);
	switch (cfg->action) {
	case MW_VIRUS_ACTION_REJECT:
		mw_txn_verdict(txn, NULL, MW_VERDICT_REJECT, NAME, "5.7.1 %s: %s", label, what);
		break;
	case MW_VIRUS_ACTION_QUARANTINE:
		mw_txn_verdict(txn, NULL, MW_VERDICT_QUARANTINE, NAME, "%s: %s", label, what);
		break;
	default:
		mw_txn_verdict(txn, NULL, MW_VERDICT_DISCARD, NAME, "%s: %s", label, what);
		break;
	}
	mw_txn_note(txn, NAME, "%s:%s/%s", note_kind, token, action_names[cfg->action]);
	return TRUE;
}

/* virus_process - scan, then banned attachments, then the verdict or the clean note */
static gboolean
virus_process(MwModule *module, MwTxn *txn, GError **error)
{
	MwVirusConfig *cfg = module->config;
	Priv *priv = module->priv;
	g_autoptr(GError) scan_error = NULL;
	g_autofree char *virus = NULL;
	gboolean partial = FALSE;

	if (!scan(module, txn, &virus, &partial, &scan_error))
		g_clear_pointer(&virus, g_free);
	if (virus == NULL && partial && cfg->oversized == MW_VIRUS_OVERSIZED_BLOCK)
		virus = g_strdup(MW_VIRUS_NAME_OVERSIZED);
	if (virus != NULL) {
		MwVirusFinding finding = {"virus", virus};
		return block(module, txn, &finding, error);
	}

	/* banned attachments (and encrypted zips): only this needs the MIME tree */
	const char *kind = NULL;
	g_autofree char *banned = NULL;
	if (mw_virus_banned_enabled(priv->banned)) {
		GMimeMessage *mime = mw_message_get_mime(txn->message, NULL);
		if (mime != NULL)
			banned = mw_virus_banned_check(priv->banned, mime, &kind, NULL);
	}
	if (banned != NULL) {
		MwVirusFinding finding = {kind, banned};
		if (scan_error != NULL)
			mw_txn_log(txn, G_LOG_LEVEL_WARNING,
				   "virus: scanner failed (%s); blocking for the attachment anyway",
				   scan_error->message);
		return block(module, txn, &finding, error);
	}
	if (scan_error != NULL) {
		g_propagate_error(error, g_steal_pointer(&scan_error));
		return FALSE;
	}

	if (cfg->add_header && !add_header(module, txn, error))
		return FALSE;
	if (partial)
		mw_txn_log(txn, G_LOG_LEVEL_INFO,
			   "virus: only the first %" G_GUINT64_FORMAT " bytes were scanned "
			   "(oversized = pass)",
			   cfg->max_scan_size);
	mw_txn_note(txn, NAME, "%s", partial ? "clean(partial)" : "clean");
	return TRUE;
}

const MwModuleClass mw_virus_module = {
	.name = NAME,
	.abi = MW_MODULE_ABI,
	.options = virus_options,
	.config_size = sizeof(MwVirusConfig),
	.on_error_default = MW_ON_ERROR_TEMPFAIL,
	.configure = virus_configure,
	.start = virus_start,
	.check = virus_check,
	.process = virus_process,
	.finalize = virus_finalize,
};
