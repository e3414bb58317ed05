/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "mw-smtp-parse.h"

G_BEGIN_DECLS

/**
 * MwRecipient:
 * @address: the mailbox as received (see MwSmtpPath.address)
 * @params: (element-type MwSmtpParam): RCPT parameters as received (NOTIFY, ORCPT)
 */
typedef struct {
	char *address;
	GPtrArray *params;
} MwRecipient;

/**
 * MwEnvelope:
 * @sender: "" for the null sender <>
 * @mail_params: (element-type MwSmtpParam): MAIL parameters as received;
 *   SIZE is recomputed when the envelope is sent on
 * @rcpts: (element-type MwRecipient): in RCPT order
 * @xforward: (nullable): attribute name (upper case) -> decoded value
 */
typedef struct {
	char *sender;
	GPtrArray *mail_params;
	GPtrArray *rcpts;
	GHashTable *xforward;
} MwEnvelope;

MwRecipient *mw_recipient_new(const char *address,
			      GPtrArray *params /* (transfer full) (nullable) */);
MwRecipient *mw_recipient_copy(const MwRecipient *rcpt);
void mw_recipient_free(MwRecipient *rcpt);

MwEnvelope *mw_envelope_new(const char *sender);
/* mw_envelope_new_simple - an envelope for a generated message: no parameters, no XFORWARD */
MwEnvelope *mw_envelope_new_simple(const char *sender, const char *const *rcpts);
MwEnvelope *mw_envelope_copy(const MwEnvelope *env);
void mw_envelope_free(MwEnvelope *env);
void mw_envelope_add_rcpt(MwEnvelope *env, MwRecipient *rcpt /* (transfer full) */);

/* mw_envelope_get_xforward - an XFORWARD attribute or NULL (also for [UNAVAILABLE]) */
const char *mw_envelope_get_xforward(const MwEnvelope *env, const char *name);

/* mw_param_array_new - a GPtrArray owning MwSmtpParam elements */
GPtrArray *mw_param_array_new(void);
GPtrArray *mw_param_array_copy(const GPtrArray *params);
const char *mw_param_array_get(const GPtrArray *params, const char *keyword, gboolean *present_out);

/*
 * Serialized form (quarantine, scan --out): line 1 the sender, then one line
 * per recipient. mw_envelope_to_text(env, TRUE) writes "MAIL FROM:<s> params" style
 * lines so parameters survive; the plain form is what scan --out documents.
 */
char *mw_envelope_to_text(const MwEnvelope *env, gboolean with_params);
MwEnvelope *mw_envelope_from_text(const char *text, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(MwRecipient, mw_recipient_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MwEnvelope, mw_envelope_free)

G_END_DECLS
