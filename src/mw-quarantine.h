/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "mw-envelope.h"
#include "mw-message.h"

G_BEGIN_DECLS

/*
 * The quarantine: state_dir/quarantine/ID.eml (the message as received),
 * ID.env (the envelope with parameters, mw_envelope_to_text form) and ID.info
 * (queue id, reason, time). Written to temporary names, fsync'ed and renamed,
 * so an ID that exists is complete. The ID is derived from the queue id, the
 * envelope and the bytes: a retried message lands on the same ID instead of a
 * second copy.
 */

/* mw_quarantine_store - returns the new ID (transfer full) */
char *mw_quarantine_store(const char *state_dir, const MwEnvelope *envelope, MwMessage *message,
			  const char *queue_id, const char *reason, GError **error);

/* mw_quarantine_load - the envelope and message of ID */
gboolean mw_quarantine_load(const char *state_dir, const char *id, MwEnvelope **envelope_out,
			    MwMessage **message_out, GError **error);

/* mw_quarantine_remove - delete ID's files (after a release) */
gboolean mw_quarantine_remove(const char *state_dir, const char *id, GError **error);

/* mw_quarantine_id_valid - only [0-9a-zA-Z-], so an ID never names another path */
gboolean mw_quarantine_id_valid(const char *id);

G_END_DECLS
