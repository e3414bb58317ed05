/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "mw-reinject.h"
#include "mw-txn.h"

G_BEGIN_DECLS

/*
 * The outcome of one message after the pipeline: per recipient (LMTP) and as
 * one reply (SMTP), plus what the summary line says about it.
 */
typedef struct {
	int code;           /* SMTP reply code */
	char *text;         /* "2.0.0 Ok ..." : enhanced status + text, no code */
	const char *action; /* delivered, discarded, quarantined, consumed, rejected, deferred */
} MwRcptOutcome;

typedef struct {
	MwRcptOutcome *rcpts; /* txn->rcpts->len entries, in RCPT order */
	guint n_rcpts;
	MwRcptOutcome reply;  /* the single SMTP reply */
	GPtrArray *queued_as; /* downstream queue ids */
	char *downstream;     /* the last downstream reply, for the log */
	guint n_emitted;
} MwOutcome;

void mw_outcome_clear(MwOutcome *outcome);

/**
 * mw_dispatch:
 * @reinjector: (nullable): NULL in scan mode (nothing is sent)
 * @per_rcpt: LMTP semantics: a failure for one recipient's delivery does not
 *   fail the others
 *
 * After the pipeline: stores quarantined copies, builds a bounce for
 * recipients a module rejected while others are delivered (SMTP only),
 * serializes edited variants and sends every delivery and emitted message in
 * one two-phase step (all prepared, then all committed; a failure before the
 * commits drops every prepared connection without its final dot).
 */
void mw_dispatch(MwTxn *txn, MwReinjector *reinjector, gboolean per_rcpt, MwOutcome *outcome);

/* mw_dispatch_log_summary - the one line per message (ARCHITECTURE §5.6) */
void mw_dispatch_log_summary(const MwTxn *txn, const MwOutcome *outcome);

G_END_DECLS
