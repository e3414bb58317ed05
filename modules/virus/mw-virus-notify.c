/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-virus-notify - notices about a blocked message
 * SYNOPSIS
 *	mw_virus_notify_admin, mw_virus_notify_recipients, mw_virus_sanitize
 * DESCRIPTION
 *	amavis's virus_admin and warnvirusrecip: short text messages emitted
 *	through the core (mw_txn_emit), so they go out in the same
 *	all-or-nothing reinjection as the rest of the transaction and never by
 *	a network connection of the module's own. They come from the null
 *	sender <> (no bounce may answer a notice; a virus's sender address is
 *	usually forged anyway) and carry Auto-Submitted: auto-generated.
 *	Nothing of the infected message is attached.
 *
 *	The quarantine ID is chosen by the core when it stores the message,
 *	after the pipeline has run, so a notice cannot carry it: it carries the
 *	queue ID instead, which the core writes into the quarantine entry and
 *	its log line ("QUEUEID: quarantined as ID"), and says where to look.
 *
 *	Text that comes from the message (file names, subject, addresses) is
 *	reduced to printable ASCII and bounded before it goes into a header,
 *	a reply or a log line.
 * SEE ALSO
 *	mw-virus.c, mw-txn.h (mw_txn_emit)
 */
#include <string.h>

#include "mw-error.h"
#include "mw-virus.h"

/**
 * mw_virus_sanitize:
 * @text: (nullable): anything, possibly hostile
 * @max: the longest result, in bytes (longer text ends in "...")
 *
 * Returns: (transfer full): @text with every byte that is not printable ASCII
 * replaced by '?', at most @max bytes; "" for NULL
 */
char *
mw_virus_sanitize(const char *text, gsize max)
{
	GString *out = g_string_new(NULL);

	for (const char *p = text != NULL ? text : ""; *p != '\0'; p++) {
		if (out->len >= max) {
			g_string_truncate(out, max > 3 ? max - 3 : 0);
			g_string_append(out, "...");
			break;
		}
		guchar c = (guchar) *p;
		if (c >= 0x80) {
			/* one '?' per UTF-8 character, not per byte */
			if ((c & 0xc0) != 0x80)
				g_string_append_c(out, '?');
			continue;
		}
		g_string_append_c(out, g_ascii_isprint(c) ? (char) c : '?');
	}
	return g_string_free(out, FALSE);
}

/* original_header - a header of the original message, sanitized, or "-" */
static char *
original_header(MwTxn *txn, const char *name)
{
	GMimeMessage *mime = mw_message_get_mime(txn->message, NULL);
	const char *value =
		mime != NULL ? g_mime_object_get_header(GMIME_OBJECT(mime), name) : NULL;

	if (value == NULL)
		return g_strdup("-");
	g_autofree char *decoded = g_mime_utils_header_decode_text(NULL, value);
	return mw_virus_sanitize(decoded, 200);
}

/* affected_rcpts - "<a>, <b>" for the recipients in @rcpts */
static char *
affected_rcpts(const GPtrArray *rcpts)
{
	GString *out = g_string_new(NULL);

	for (guint i = 0; i < rcpts->len; i++) {
		const MwTxnRcpt *rcpt = g_ptr_array_index(rcpts, i);
		g_autofree char *addr = mw_virus_sanitize(rcpt->rcpt->address, 320);
		g_string_append_printf(out, "%s<%s>", i > 0 ? ", " : "", addr);
	}
	return g_string_free(out, FALSE);
}

/* action_text - what happened to the message, for people */
static const char *
action_text(const MwVirusConfig *cfg)
{
	switch (cfg->action) {
	case MW_VIRUS_ACTION_REJECT:
		return "rejected (the sending system returns it to the sender)";
	case MW_VIRUS_ACTION_QUARANTINE:
		return "quarantined (not delivered; an administrator can release it)";
	default:
		return "discarded (not delivered)";
	}
}

/* notice_new - a text/plain notice from mailwarden on @hostname to @to */
static GMimeMessage *
notice_new(const char *hostname, const char *to, const char *subject, const char *body)
{
	GMimeMessage *notice = g_mime_message_new(TRUE);
	g_autofree char *from = g_strdup_printf("postmaster@%s", hostname);

	g_mime_message_add_mailbox(notice, GMIME_ADDRESS_TYPE_FROM, "mailwarden", from);
	g_mime_message_add_mailbox(notice, GMIME_ADDRESS_TYPE_TO, NULL, to);
	g_mime_message_set_subject(notice, subject, "utf-8");
	g_autoptr(GDateTime) now = g_date_time_new_now_local();
	g_mime_message_set_date(notice, now);
	/* GLib's random UUID rather than GMime's generator, which valgrind sees reading
	 * uninitialised memory */
	g_autofree char *uuid = g_uuid_string_random();
	g_autofree char *message_id = g_strdup_printf("%s.virus@%s", uuid, hostname);
	g_mime_message_set_message_id(notice, message_id);
	g_mime_object_set_header(GMIME_OBJECT(notice), "Auto-Submitted", "auto-generated", NULL);
	g_autoptr(GMimeTextPart) text = g_mime_text_part_new_with_subtype("plain");
	g_mime_text_part_set_text(text, body);
	g_mime_message_set_mime_part(notice, GMIME_OBJECT(text));
	return notice;
}

/* active_rcpts - the recipients still active (those the verdict is about) */
static GPtrArray *
active_rcpts(MwTxn *txn)
{
	GPtrArray *rcpts = g_ptr_array_new();

	for (guint i = 0; i < txn->rcpts->len; i++) {
		MwTxnRcpt *rcpt = g_ptr_array_index(txn->rcpts, i);
		if (rcpt->verdict == MW_VERDICT_CONTINUE)
			g_ptr_array_add(rcpts, rcpt);
	}
	return rcpts;
}

/**
 * mw_virus_notify_admin:
 * @module: the virus module (config: notify_admin, action)
 * @finding: why the message is blocked
 *
 * Emits one notice to notify_admin naming the virus or banned file, the
 * sender, the recipients, the queue ID, the client and what was done, and
 * where to find the quarantine ID. Call it before the verdict is set (it
 * lists the recipients still active). Not required: when it cannot be sent
 * the message is still handled.
 *
 * Returns: FALSE when the notice cannot be built (the error says why)
 */
gboolean
mw_virus_notify_admin(MwTxn *txn, const MwModule *module, const MwVirusFinding *finding,
		      GError **error)
{
	const MwVirusConfig *cfg = module->config;
	const char *hostname = module->core->hostname;
	g_autoptr(GPtrArray) rcpts = active_rcpts(txn);
	g_autofree char *what = mw_virus_sanitize(finding->what, 300);
	g_autofree char *sender = mw_virus_sanitize(txn->envelope->sender, 320);
	g_autofree char *rcpt_list = affected_rcpts(rcpts);
	g_autofree char *subject = original_header(txn, "Subject");
	g_autofree char *message_id = original_header(txn, "Message-ID");
	g_autofree char *client =
		mw_virus_sanitize(txn->client_addr != NULL ? txn->client_addr : "unknown", 100);
	g_autofree char *client_name =
		mw_virus_sanitize(txn->client_name != NULL ? txn->client_name : "unknown", 255);
	g_autofree char *queue_id = mw_virus_sanitize(txn->queue_id, 100);
	const char *kind = g_str_equal(finding->kind, "virus")       ? "virus"
			   : g_str_equal(finding->kind, "encrypted") ? "encrypted attachment"
								     : "banned attachment";
	GString *body = g_string_new(NULL);

	g_string_append_printf(body, "mailwarden on %s blocked a message.\n\n", hostname);
	g_string_append_printf(body, "Reason:      %s %s\n", kind, what);
	g_string_append_printf(body, "Action:      %s\n", action_text(cfg));
	g_string_append_printf(body, "Sender:      <%s> (may be forged)\n", sender);
	g_string_append_printf(body, "Recipients:  %s\n", rcpt_list);
	g_string_append_printf(body, "Queue ID:    %s\n", queue_id);
	g_string_append_printf(body, "Client:      [%s] %s\n", client, client_name);
	g_string_append_printf(body, "Subject:     %s\n", subject);
	g_string_append_printf(body, "Message-ID:  %s\n", message_id);
	if (cfg->action == MW_VIRUS_ACTION_QUARANTINE) {
		g_string_append_printf(
			body,
			"\nQuarantine:  the ID is given by the line \"%s: quarantined as ID\" of "
			"the\n"
			"             mailwarden log, and \"grep -l '%s' %s/quarantine/*.info\"\n"
			"             finds the entry. Release it with: mailwarden release ID\n",
			queue_id, queue_id, txn->config->state_dir);
	}
	g_autofree char *short_what = mw_virus_sanitize(finding->what, 120);
	g_autofree char *short_sender = mw_virus_sanitize(txn->envelope->sender, 120);
	g_autofree char *subject_line =
		g_strdup_printf("[mailwarden] %s %s from <%s>", kind, short_what, short_sender);
	g_autofree char *text = g_string_free(body, FALSE);
	const char *to[] = {cfg->notify_admin, NULL};
	GMimeMessage *notice = notice_new(hostname, cfg->notify_admin, subject_line, text);
	return mw_txn_emit(txn, module->klass->name, "", to, notice, FALSE, error);
}

/**
 * mw_virus_notify_recipients:
 * @rcpts: (element-type MwTxnRcpt): who gets a notice instead of the message
 *
 * Emits one notice per recipient (each sees only their own address) saying a
 * message from the sender was not delivered and why. Required: a recipient
 * whose message is withheld must hear of it, so when the notice cannot go out
 * the message is retried later (4xx) rather than silently lost.
 *
 * Returns: FALSE when a notice cannot be built
 */
gboolean
mw_virus_notify_recipients(MwTxn *txn, const MwModule *module, const MwVirusFinding *finding,
			   const GPtrArray *rcpts, GError **error)
{
	const MwVirusConfig *cfg = module->config;
	const char *hostname = module->core->hostname;
	g_autofree char *what = mw_virus_sanitize(finding->what, 300);
	g_autofree char *sender = mw_virus_sanitize(txn->envelope->sender, 320);
	g_autofree char *subject = original_header(txn, "Subject");
	g_autofree char *queue_id = mw_virus_sanitize(txn->queue_id, 100);
	const char *why = g_str_equal(finding->kind, "virus")       ? "it contains a virus"
			  : g_str_equal(finding->kind, "encrypted") ? "it contains an encrypted "
								      "attachment that cannot be "
								      "checked"
								    : "it contains a blocked "
								      "attachment";

	for (guint i = 0; i < rcpts->len; i++) {
		const MwTxnRcpt *rcpt = g_ptr_array_index(rcpts, i);
		GString *body = g_string_new(NULL);

		g_string_append_printf(body,
				       "A message to you was not delivered because %s:\n"
				       "    %s\n\n",
				       why, what);
		g_string_append_printf(body, "From:      <%s> (the sender address may be forged)\n",
				       sender);
		g_string_append_printf(body, "Subject:   %s\n", subject);
		g_string_append_printf(body, "Queue ID:  %s\n\n", queue_id);
		if (cfg->action == MW_VIRUS_ACTION_QUARANTINE)
			g_string_append(body, "The message is kept in quarantine. If you expected "
					      "it, ask your administrator\nto release it, quoting "
					      "the queue ID above.\n");
		else
			g_string_append(body, "The message was not kept. If you expected it, ask "
					      "the sender to send it\nanother way.\n");
		g_autofree char *text = g_string_free(body, FALSE);
		const char *to[] = {rcpt->rcpt->address, NULL};
		GMimeMessage *notice =
			notice_new(hostname, rcpt->rcpt->address,
				   "Message not delivered: blocked by the virus filter", text);
		if (!mw_txn_emit(txn, module->klass->name, "", to, notice, TRUE, error))
			return FALSE;
	}
	return TRUE;
}
