/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "mw-gmime-compat.h"

#include "mw-config.h"
#include "mw-envelope.h"
#include "mw-message.h"
#include "mw-module.h"

G_BEGIN_DECLS

/*
 * MwTxn - one message on its way through the pipeline.
 *
 * Recipients start ACTIVE in one delivery holding the original message. A
 * module may give recipients a final verdict (they leave the active set; the
 * first final verdict in pipeline order wins), move some of them into a
 * delivery of their own (mw_txn_split) whose message it then edits, and emit
 * new messages. After the pipeline each delivery with active recipients and
 * each emitted message is reinjected, all in one two-phase step.
 */

typedef enum {
	MW_VERDICT_CONTINUE = 0, /* nothing final: stays active */
	MW_VERDICT_CONSUMED,     /* a module handled it (a booked resource): not delivered, 250 */
	MW_VERDICT_DISCARD,      /* dropped by a configured verdict, logged: 250 */
	MW_VERDICT_QUARANTINE,   /* kept in the quarantine store, not delivered: 250 */
	MW_VERDICT_REJECT,       /* 5xx */
	MW_VERDICT_TEMPFAIL,     /* 4xx */
} MwVerdict;

extern const char *const mw_verdict_names[];

typedef struct _MwDelivery MwDelivery;

/**
 * MwTxnRcpt:
 * @rcpt: (transfer none): the envelope recipient (address and parameters)
 * @index: position in RCPT order
 * @verdict: CONTINUE while active
 * @reason: (nullable): for a final verdict, "5.7.1 Virus found: Eicar" style text
 *   (enhanced status code first); becomes the SMTP reply text
 * @by: (nullable): name of the module that decided
 * @delivery: (transfer none): the delivery (variant) it belongs to
 */
typedef struct {
	MwRecipient *rcpt;
	guint index;
	MwVerdict verdict;
	char *reason;
	const char *by;
	MwDelivery *delivery;
} MwTxnRcpt;

/**
 * MwDelivery:
 * @id: 1, 2, ... in creation order
 * @message: (transfer full): the bytes to send when nobody edited the tree
 * @mime: (nullable): a private tree being edited; serialized after the pipeline
 * @modified: some module changed this variant
 */
struct _MwDelivery {
	guint id;
	MwMessage *message;
	GMimeMessage *mime;
	gboolean modified;
};

/* an emitted message (iTip reply, notification) */
typedef struct {
	MwEnvelope *envelope;
	MwMessage *message;
	gboolean required; /* failing to send it fails the whole txn (4xx) */
	const char *by;
} MwEmitted;

/**
 * MwTxn:
 * @queue_id: Postfix's queue id (XFORWARD IDENT) or our own id when absent
 * @id: our transaction id (unique per process lifetime, hex)
 * @config: (transfer none)
 * @envelope: (transfer full)
 * @message: (transfer full): the original bytes
 * @rcpts: (element-type MwTxnRcpt)
 * @deliveries: (element-type MwDelivery)
 * @emitted: (element-type MwEmitted)
 * @notes: "module=note" strings for the summary line
 * @client_addr: XFORWARD ADDR (nullable), @client_name, @helo likewise
 */
struct _MwTxn {
	char *queue_id;
	char *id;
	const MwConfig *config;
	MwEnvelope *envelope;
	MwMessage *message;
	GPtrArray *rcpts;
	GPtrArray *deliveries;
	GPtrArray *emitted;
	GPtrArray *notes;
	const char *client_addr;
	const char *client_name;
	const char *helo;
	gint64 start_time;
	gpointer *module_data;
	GDestroyNotify *module_data_destroy;
	guint n_module_data;
	char *quarantine_id;
};

/* mw_txn_new - takes @envelope and a reference to @message */
MwTxn *mw_txn_new(const MwConfig *config, MwEnvelope *envelope, MwMessage *message);
void mw_txn_free(MwTxn *txn);

/* mw_txn_n_active - recipients without a final verdict */
guint mw_txn_n_active(const MwTxn *txn);

/**
 * mw_txn_verdict:
 * @rcpt: (nullable): one recipient, or NULL for every active one
 * @verdict: a final verdict (not CONTINUE)
 * @fmt: reason, starting with the enhanced status code for REJECT/TEMPFAIL
 *   ("5.7.1 Virus found: %s"); printf-style
 *
 * A recipient that already has a final verdict keeps it.
 */
void mw_txn_verdict(MwTxn *txn, MwTxnRcpt *rcpt, MwVerdict verdict, const char *by, const char *fmt,
		    ...) G_GNUC_PRINTF(5, 6);

/**
 * mw_txn_split:
 * @rcpts: (element-type MwTxnRcpt): active recipients to move
 *
 * Moves @rcpts into a new delivery sharing the message of the first
 * recipient's delivery (copy-on-write: the bytes are shared until edited).
 * Returns: (transfer none): the new delivery
 */
MwDelivery *mw_txn_split(MwTxn *txn, GPtrArray *rcpts);

/**
 * mw_delivery_get_mime:
 * Returns: (transfer none): the delivery's tree, read-only: the edited one if
 * any, else the original's cached parse. NULL if the bytes are not MIME at all.
 */
GMimeMessage *mw_delivery_get_mime(MwDelivery *delivery, GError **error);

/**
 * mw_delivery_edit_mime:
 * Returns: (transfer none): a tree private to this delivery that the caller
 * may change; marks the delivery modified.
 */
GMimeMessage *mw_delivery_edit_mime(MwDelivery *delivery, GError **error);

/* mw_delivery_set_mime - replace the whole message (takes @mime) and mark modified */
void mw_delivery_set_mime(MwDelivery *delivery, GMimeMessage *mime);

/**
 * mw_delivery_dup_bytes:
 * @spool_dir: (nullable): where a large serialization is spooled
 *
 * Returns: (transfer full): the bytes the delivery would send now: its
 * message, or the serialization of the tree a module edited; NULL with @error
 */
MwMessage *mw_delivery_dup_bytes(MwDelivery *delivery, const char *spool_dir, GError **error);

/**
 * mw_delivery_set_message:
 * @bytes: (transfer none): the finished new message
 *
 * The delivery sends @bytes from now on; an edited tree is dropped first (it
 * may still read from the old bytes). For modules that build their output
 * bytes themselves and must not go through a GMime re-serialization (the
 * footer keeps untouched parts byte-exact this way). Marks it modified.
 */
void mw_delivery_set_message(MwDelivery *delivery, MwMessage *bytes);

/**
 * mw_delivery_prepend_header:
 *
 * Adds "Name: value" as the first header of the delivery's message. On an
 * unedited delivery the original bytes follow unchanged (no MIME parse, no
 * re-serialization); on an edited one the tree gets the header. @value must
 * be 7-bit and already folded if long. Marks the delivery modified.
 */
gboolean mw_delivery_prepend_header(MwDelivery *delivery, const char *name, const char *value,
				    const char *spool_dir, GError **error);

/* mw_delivery_finish - serialize an edited tree into delivery->message (after the pipeline) */
gboolean mw_delivery_finish(MwDelivery *delivery, const char *spool_dir, GError **error);

/* mw_delivery_n_active - active recipients in this delivery */
guint mw_txn_delivery_n_active(const MwTxn *txn, const MwDelivery *delivery);

/**
 * mw_txn_emit:
 * @sender: envelope sender ("" for <>)
 * @rcpts: NULL-terminated envelope recipients
 * @mime: (transfer full): the message; an Auto-Submitted header
 *   (auto-generated) is added when it has none (RFC 3834)
 * @required: the original must not be accepted unless this one goes out
 */
gboolean mw_txn_emit(MwTxn *txn, const char *by, const char *sender, const char *const *rcpts,
		     GMimeMessage *mime, gboolean required, GError **error);

/* mw_txn_note - add "module=text" to the summary line */
void mw_txn_note(MwTxn *txn, const char *module, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

/* per-module state for this txn, freed with it */
void mw_txn_set_module_data(MwTxn *txn, const MwModule *module, gpointer data,
			    GDestroyNotify destroy);
gpointer mw_txn_get_module_data(MwTxn *txn, const MwModule *module);

/* mw_txn_log - a log line carrying the queue id (and MAILWARDEN_QUEUE_ID field) */
void mw_txn_log(const MwTxn *txn, GLogLevelFlags level, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(MwTxn, mw_txn_free)

G_END_DECLS
