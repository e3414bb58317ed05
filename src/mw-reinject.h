/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "mw-envelope.h"
#include "mw-message.h"

G_BEGIN_DECLS

/*
 * MwReinjector - the SMTP client towards Postfix's reinjection smtpd.
 *
 * One per worker. It keeps a small pool of open downstream connections and
 * reuses them between messages (a reused connection that turns out to be
 * closed is replaced once, transparently).
 *
 * Sending is two-phase so that several outgoing transactions (the variants of
 * one message plus emitted replies) are accepted or refused together:
 * prepare() runs EHLO (new connections), XFORWARD, MAIL, RCPT, DATA and the
 * dot-stuffed body, but not the final dot; commit() sends the dot and reads
 * the reply; abort() drops the connection without the dot, so the downstream
 * never delivers a truncated or unwanted copy (FILTER_README).
 */
typedef struct _MwReinjector MwReinjector;

/**
 * MwOutgoing:
 * @envelope: (transfer none): who it goes to, with parameters and XFORWARD attrs
 * @message: (transfer none): the bytes (unstuffed)
 * @rcpt_codes: filled by prepare(): the downstream's RCPT reply code per
 *   envelope recipient (0 if not sent)
 * @rcpt_replies: (element-type utf8): the RCPT reply text per recipient
 * @reply_code: the final reply code (DATA or the dot), 0 if none yet
 * @reply: (nullable): the final reply text as received ("250 2.0.0 Ok: queued as X")
 * @queued_as: (nullable): the queue id parsed from a 250 reply, if any
 */
typedef struct {
	const MwEnvelope *envelope;
	MwMessage *message;
	GArray *rcpt_codes;
	GPtrArray *rcpt_replies;
	int reply_code;
	char *reply;
	char *queued_as;
	/*< private >*/
	gpointer conn;
} MwOutgoing;

/**
 * mw_reinjector_new:
 * @target: "host:port", "[v6]:port" or "unix:/path"
 * @helo_name: our EHLO name
 * @timeout: seconds for connect and for each read and write
 */
MwReinjector *mw_reinjector_new(const char *target, const char *helo_name, guint timeout);
void mw_reinjector_free(MwReinjector *reinjector);
/* mw_reinjector_close_idle - QUIT and close pooled idle connections */
void mw_reinjector_close_idle(MwReinjector *reinjector);

void mw_outgoing_init(MwOutgoing *out, const MwEnvelope *envelope, MwMessage *message);
void mw_outgoing_clear(MwOutgoing *out);

/**
 * mw_reinject_prepare:
 *
 * Returns TRUE when the downstream answered 354 and the whole body was sent
 * (at least one recipient was accepted). FALSE with MW_ERROR_TEMPORARY
 * (connection failure, timeout, any 4xx at MAIL/RCPT/DATA: everything is
 * retried later) or MW_ERROR_PERMANENT (5xx at MAIL or DATA, or every
 * recipient refused with 5xx); the message names the stage and carries the
 * downstream's reply. On FALSE the connection is already dropped. Recipients
 * refused with 5xx while others are accepted are reported in rcpt_codes and
 * the call still succeeds.
 *
 * Parameters are only sent as the downstream supports them: SIZE (recomputed)
 * and BODY with SIZE/8BITMIME; SMTPUTF8 with SMTPUTF8 (if it is needed and not
 * offered: MW_ERROR_PERMANENT "553 5.6.7"); RET, ENVID, NOTIFY, ORCPT with DSN;
 * XFORWARD attributes the downstream announced, sanitized and xtext-encoded.
 */
gboolean mw_reinject_prepare(MwReinjector *reinjector, MwOutgoing *out, GError **error);

/**
 * mw_reinject_commit:
 *
 * Sends the final dot and reads the reply. TRUE for 2xx (the connection goes
 * back to the pool); FALSE with MW_ERROR_TEMPORARY (4xx, timeout, connection
 * lost) or MW_ERROR_PERMANENT (5xx). reply_code/reply are set when a reply
 * was read.
 */
gboolean mw_reinject_commit(MwReinjector *reinjector, MwOutgoing *out, GError **error);

/* mw_reinject_abort - drop a prepared transaction's connection without the dot */
void mw_reinject_abort(MwReinjector *reinjector, MwOutgoing *out);

/* mw_reinject_one - prepare + commit one message (quarantine release, tools) */
gboolean mw_reinject_one(MwReinjector *reinjector, MwOutgoing *out, GError **error);

G_END_DECLS
