/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-txn - one message, its recipients, variants and emitted messages
 * SYNOPSIS
 *	mw_txn_new, mw_txn_free, mw_txn_n_active, mw_txn_verdict, mw_txn_split,
 *	mw_delivery_get_mime, mw_delivery_edit_mime, mw_delivery_set_mime,
 *	mw_delivery_finish, mw_txn_delivery_n_active, mw_txn_emit, mw_txn_note,
 *	mw_txn_set_module_data, mw_txn_get_module_data, mw_txn_log
 * DESCRIPTION
 *	The txn owns the envelope, the original message and everything the
 *	modules derive from it. Deliveries share the original MwMessage by
 *	reference; a delivery gets a private GMime tree only when a module asks
 *	to edit it (a fresh parse of the same bytes), so one recipient's variant
 *	never leaks into another's. A delivery nobody edited is sent with the
 *	original bytes, which is what keeps unchanged mail byte-identical.
 *	Single-threaded: one worker owns a txn.
 */
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "mw-error.h"
#include "mw-log.h"
#include "mw-txn.h"

const char *const mw_verdict_names[] = {"continue", "consumed", "discard", "quarantine",
					"reject",   "tempfail", NULL};

/* delivery_new - a delivery sending @message */
static MwDelivery *
delivery_new(guint id, MwMessage *message)
{
	MwDelivery *delivery = g_new0(MwDelivery, 1);
	delivery->id = id;
	delivery->message = mw_message_ref(message);
	return delivery;
}

/* delivery_free - the tree goes first: it may read from the message's bytes */
static void
delivery_free(MwDelivery *delivery)
{
	g_clear_object(&delivery->mime);
	mw_message_unref(delivery->message);
	g_free(delivery);
}

static void
txn_rcpt_free(MwTxnRcpt *rcpt)
{
	g_free(rcpt->reason);
	g_free(rcpt);
}

static void
emitted_free(MwEmitted *emitted)
{
	mw_envelope_free(emitted->envelope);
	mw_message_unref(emitted->message);
	g_free(emitted);
}

MwTxn *
mw_txn_new(const MwConfig *config, MwEnvelope *envelope, MwMessage *message)
{
	static guint64 counter;
	MwTxn *txn = g_new0(MwTxn, 1);
	txn->config = config;
	txn->envelope = envelope;
	txn->message = mw_message_ref(message);
	txn->id = g_strdup_printf("%x%04" G_GINT64_MODIFIER "x", (guint) getpid(),
				  (gint64) (++counter & 0xffff));
	const char *ident = mw_envelope_get_xforward(envelope, "IDENT");
	txn->queue_id = g_strdup(ident != NULL ? ident : txn->id);
	txn->client_addr = mw_envelope_get_xforward(envelope, "ADDR");
	txn->client_name = mw_envelope_get_xforward(envelope, "NAME");
	txn->helo = mw_envelope_get_xforward(envelope, "HELO");
	txn->start_time = g_get_monotonic_time();
	txn->rcpts = g_ptr_array_new_with_free_func((GDestroyNotify) txn_rcpt_free);
	txn->deliveries = g_ptr_array_new_with_free_func((GDestroyNotify) delivery_free);
	txn->emitted = g_ptr_array_new_with_free_func((GDestroyNotify) emitted_free);
	txn->notes = g_ptr_array_new_with_free_func(g_free);

	MwDelivery *first = delivery_new(1, message);
	g_ptr_array_add(txn->deliveries, first);
	for (guint i = 0; i < envelope->rcpts->len; i++) {
		MwTxnRcpt *rcpt = g_new0(MwTxnRcpt, 1);
		rcpt->rcpt = g_ptr_array_index(envelope->rcpts, i);
		rcpt->index = i;
		rcpt->delivery = first;
		g_ptr_array_add(txn->rcpts, rcpt);
	}
	guint n_modules = config != NULL && config->pipeline != NULL ? config->pipeline->len : 0;
	txn->n_module_data = n_modules;
	txn->module_data = g_new0(gpointer, n_modules + 1);
	txn->module_data_destroy = g_new0(GDestroyNotify, n_modules + 1);
	return txn;
}

void
mw_txn_free(MwTxn *txn)
{
	if (txn == NULL)
		return;
	for (guint i = 0; i < txn->n_module_data; i++) {
		if (txn->module_data[i] != NULL && txn->module_data_destroy[i] != NULL)
			txn->module_data_destroy[i](txn->module_data[i]);
	}
	g_free(txn->module_data);
	g_free(txn->module_data_destroy);
	g_ptr_array_unref(txn->rcpts);
	g_ptr_array_unref(txn->deliveries);
	g_ptr_array_unref(txn->emitted);
	g_ptr_array_unref(txn->notes);
	mw_envelope_free(txn->envelope);
	mw_message_unref(txn->message);
	g_free(txn->queue_id);
	g_free(txn->id);
	g_free(txn->quarantine_id);
	g_free(txn);
}

guint
mw_txn_n_active(const MwTxn *txn)
{
	guint n = 0;
	for (guint i = 0; i < txn->rcpts->len; i++) {
		const MwTxnRcpt *rcpt = g_ptr_array_index(txn->rcpts, i);
		if (rcpt->verdict == MW_VERDICT_CONTINUE)
			n++;
	}
	return n;
}

/* rcpt_set_verdict - first final verdict wins */
static void
rcpt_set_verdict(MwTxnRcpt *rcpt, MwVerdict verdict, const char *by, const char *reason)
{
	if (rcpt->verdict != MW_VERDICT_CONTINUE)
		return;
	rcpt->verdict = verdict;
	rcpt->by = by;
	rcpt->reason = g_strdup(reason);
}

void
mw_txn_verdict(MwTxn *txn, MwTxnRcpt *rcpt, MwVerdict verdict, const char *by, const char *fmt, ...)
{
	g_return_if_fail(verdict != MW_VERDICT_CONTINUE);
	g_autofree char *reason = NULL;
	if (fmt != NULL) {
		va_list args;
		va_start(args, fmt);
		reason = g_strdup_vprintf(fmt, args);
		va_end(args);
	}
	if (rcpt != NULL) {
		rcpt_set_verdict(rcpt, verdict, by, reason);
		return;
	}
	for (guint i = 0; i < txn->rcpts->len; i++)
		rcpt_set_verdict(g_ptr_array_index(txn->rcpts, i), verdict, by, reason);
}

MwDelivery *
mw_txn_split(MwTxn *txn, GPtrArray *rcpts)
{
	g_return_val_if_fail(rcpts != NULL && rcpts->len > 0, NULL);
	MwTxnRcpt *first = g_ptr_array_index(rcpts, 0);
	MwDelivery *from = first->delivery;
	MwDelivery *delivery = delivery_new(txn->deliveries->len + 1, from->message);
	/* the source's bytes may already differ from the original (a header a
	 * module prepended): the new variant carries that change too */
	delivery->modified = from->modified;
	if (from->mime != NULL) {
		/* the source was edited already: carry its edits over by value */
		g_autoptr(MwMessage) bytes =
			mw_message_new_from_mime(GMIME_OBJECT(from->mime),
						 txn->config ? txn->config->state_dir : NULL, NULL);
		if (bytes != NULL) {
			mw_message_unref(delivery->message);
			delivery->message = mw_message_ref(bytes);
			delivery->modified = TRUE;
		}
	}
	g_ptr_array_add(txn->deliveries, delivery);
	for (guint i = 0; i < rcpts->len; i++) {
		MwTxnRcpt *rcpt = g_ptr_array_index(rcpts, i);
		rcpt->delivery = delivery;
	}
	return delivery;
}

GMimeMessage *
mw_delivery_get_mime(MwDelivery *delivery, GError **error)
{
	if (delivery->mime != NULL)
		return delivery->mime;
	return mw_message_get_mime(delivery->message, error);
}

GMimeMessage *
mw_delivery_edit_mime(MwDelivery *delivery, GError **error)
{
	if (delivery->mime == NULL) {
		delivery->mime = mw_message_parse_mime(delivery->message, error);
		if (delivery->mime == NULL)
			return NULL;
	}
	delivery->modified = TRUE;
	return delivery->mime;
}

void
mw_delivery_set_mime(MwDelivery *delivery, GMimeMessage *mime)
{
	g_clear_object(&delivery->mime);
	delivery->mime = mime;
	delivery->modified = TRUE;
}

MwMessage *
mw_delivery_dup_bytes(MwDelivery *delivery, const char *spool_dir, GError **error)
{
	if (delivery->mime == NULL)
		return mw_message_ref(delivery->message);
	return mw_message_new_from_mime(GMIME_OBJECT(delivery->mime), spool_dir, error);
}

void
mw_delivery_set_message(MwDelivery *delivery, MwMessage *bytes)
{
	MwMessage *keep = mw_message_ref(bytes);
	g_clear_object(&delivery->mime);
	mw_message_unref(delivery->message);
	delivery->message = keep;
	delivery->modified = TRUE;
}

gboolean
mw_delivery_prepend_header(MwDelivery *delivery, const char *name, const char *value,
			   const char *spool_dir, GError **error)
{
	if (delivery->mime != NULL) {
		g_mime_object_prepend_header(GMIME_OBJECT(delivery->mime), name, value, NULL);
		delivery->modified = TRUE;
		return TRUE;
	}
	g_autofree char *line = g_strdup_printf("%s: %s\r\n", name, value);
	g_autoptr(MwMessage) bytes = mw_message_new(spool_dir, MW_MESSAGE_MEMORY_THRESHOLD);
	if (!mw_message_append(bytes, (const guint8 *) line, strlen(line), error))
		return FALSE;
	guint8 buf[65536];
	guint64 offset = 0;
	gssize n;
	while ((n = mw_message_read(delivery->message, offset, buf, sizeof buf, error)) > 0) {
		if (!mw_message_append(bytes, buf, (gsize) n, error))
			return FALSE;
		offset += (guint64) n;
	}
	if (n < 0 || !mw_message_seal(bytes, error))
		return FALSE;
	mw_message_unref(delivery->message);
	delivery->message = g_steal_pointer(&bytes);
	delivery->modified = TRUE;
	return TRUE;
}

gboolean
mw_delivery_finish(MwDelivery *delivery, const char *spool_dir, GError **error)
{
	if (delivery->mime == NULL)
		return TRUE;
	MwMessage *bytes = mw_message_new_from_mime(GMIME_OBJECT(delivery->mime), spool_dir, error);
	if (bytes == NULL)
		return FALSE;
	/* the tree may read lazily from the old bytes: drop it before them */
	g_clear_object(&delivery->mime);
	mw_message_unref(delivery->message);
	delivery->message = bytes;
	return TRUE;
}

guint
mw_txn_delivery_n_active(const MwTxn *txn, const MwDelivery *delivery)
{
	guint n = 0;
	for (guint i = 0; i < txn->rcpts->len; i++) {
		const MwTxnRcpt *rcpt = g_ptr_array_index(txn->rcpts, i);
		if (rcpt->delivery == delivery && rcpt->verdict == MW_VERDICT_CONTINUE)
			n++;
	}
	return n;
}

gboolean
mw_txn_emit(MwTxn *txn, const char *by, const char *sender, const char *const *rcpts,
	    GMimeMessage *mime, gboolean required, GError **error)
{
	g_autoptr(GMimeMessage) owned = mime;
	g_return_val_if_fail(rcpts != NULL && rcpts[0] != NULL, FALSE);
	GMimeObject *object = GMIME_OBJECT(owned);
	/* RFC 3834: generated mail says so, which keeps auto-responders quiet */
	if (g_mime_object_get_header(object, "Auto-Submitted") == NULL)
		g_mime_object_set_header(object, "Auto-Submitted", "auto-generated", NULL);
	MwMessage *bytes = mw_message_new_from_mime(
		object, txn->config ? txn->config->state_dir : NULL, error);
	if (bytes == NULL)
		return FALSE;
	MwEmitted *emitted = g_new0(MwEmitted, 1);
	emitted->envelope = mw_envelope_new_simple(sender, rcpts);
	emitted->message = bytes;
	emitted->required = required;
	emitted->by = by;
	g_ptr_array_add(txn->emitted, emitted);
	return TRUE;
}

void
mw_txn_note(MwTxn *txn, const char *module, const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	g_autofree char *text = g_strdup_vprintf(fmt, args);
	va_end(args);
	g_ptr_array_add(txn->notes, g_strdup_printf("%s=%s", module, text));
}

void
mw_txn_set_module_data(MwTxn *txn, const MwModule *module, gpointer data, GDestroyNotify destroy)
{
	g_return_if_fail(module->index < txn->n_module_data);
	guint i = module->index;
	if (txn->module_data[i] != NULL && txn->module_data_destroy[i] != NULL)
		txn->module_data_destroy[i](txn->module_data[i]);
	txn->module_data[i] = data;
	txn->module_data_destroy[i] = destroy;
}

gpointer
mw_txn_get_module_data(MwTxn *txn, const MwModule *module)
{
	if (module->index >= txn->n_module_data)
		return NULL;
	return txn->module_data[module->index];
}

void
mw_txn_log(const MwTxn *txn, GLogLevelFlags level, const char *fmt, ...)
{
	va_list args;
	va_start(args, fmt);
	g_autofree char *text = g_strdup_vprintf(fmt, args);
	va_end(args);
	mw_log_queue(level, txn->queue_id, "%s: %s", txn->queue_id, text);
}
