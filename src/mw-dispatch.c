/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-dispatch - from verdicts to replies: quarantine, reinjection, summary
 * SYNOPSIS
 *	mw_dispatch, mw_dispatch_log_summary, mw_outcome_clear
 * DESCRIPTION
 *	The only place that decides what Postfix is told. The rule is that of
 *	FILTER_README: 250 only once everything that must go out was accepted
 *	downstream. All outgoing transactions (one per variant with active
 *	recipients, one per emitted message) are prepared first, body included
 *	but without the final dot; if any of them fails, every prepared
 *	connection is dropped without its dot and the message is answered 4xx
 *	(or 5xx for a permanent refusal). Only then are the dots sent, in
 *	order. The window left for a duplicate is the time between two dots.
 *
 *	SMTP mode has one reply for every recipient: any tempfail defers the
 *	whole message (nothing is sent), and recipients a module rejected
 *	while others are accepted get a DSN of our own. LMTP mode gives each
 *	recipient its own reply.
 */
#include <string.h>

#include "mw-dispatch.h"
#include "mw-dsn.h"
#include "mw-error.h"
#include "mw-log.h"
#include "mw-quarantine.h"
#include "mw-stats.h"

typedef struct {
	MwOutgoing out;
	MwEnvelope *envelope;
	GPtrArray *rcpts; /* MwTxnRcpt * of this delivery; NULL for emitted mail */
	MwDelivery *delivery;
	gboolean required;
	gboolean prepared;
	gboolean committed;
	GError *error;
} Job;

static void
job_free(Job *job)
{
	mw_outgoing_clear(&job->out);
	mw_envelope_free(job->envelope);
	if (job->rcpts != NULL)
		g_ptr_array_unref(job->rcpts);
	g_clear_error(&job->error);
	g_free(job);
}

void
mw_outcome_clear(MwOutcome *outcome)
{
	for (guint i = 0; i < outcome->n_rcpts; i++)
		g_free(outcome->rcpts[i].text);
	g_free(outcome->rcpts);
	g_free(outcome->reply.text);
	if (outcome->queued_as != NULL)
		g_ptr_array_unref(outcome->queued_as);
	g_free(outcome->downstream);
	memset(outcome, 0, sizeof *outcome);
}

/* set_outcome - replace one recipient's outcome */
static void
set_outcome(MwRcptOutcome *o, int code, const char *action, const char *text)
{
	g_free(o->text);
	o->code = code;
	o->action = action;
	o->text = g_strdup(text);
}

/* last_line - the last line of a (multi-line) reply, without its code */
static const char *
last_line(const char *reply)
{
	if (reply == NULL)
		return "";
	const char *nl = strrchr(reply, '\n');
	const char *line = nl != NULL ? nl + 1 : reply;
	return line;
}

/* error_reply - the 4xx/5xx reply for a downstream failure */
static void
error_reply(const GError *error, int *code_out, char **text_out)
{
	gboolean permanent = g_error_matches(error, MW_ERROR, MW_ERROR_PERMANENT);
	*code_out = permanent ? 554 : 451;
	*text_out = g_strdup_printf("%s %s", permanent ? "5.3.0" : "4.3.0", error->message);
	g_strdelimit(*text_out, "\r\n", ' ');
}

/* verdict_outcome - the reply for a recipient a module gave a final verdict */
static void
verdict_outcome(const MwTxnRcpt *rcpt, gboolean lmtp, MwRcptOutcome *o)
{
	const char *reason = rcpt->reason;
	switch (rcpt->verdict) {
	case MW_VERDICT_REJECT:
		set_outcome(o, lmtp ? 550 : 554, "rejected",
			    reason != NULL ? reason : "5.7.1 Message rejected");
		break;
	case MW_VERDICT_TEMPFAIL:
		set_outcome(o, 451, "deferred", reason != NULL ? reason : "4.3.0 Try again later");
		break;
	case MW_VERDICT_DISCARD:
		set_outcome(o, 250, "discarded", "2.0.0 Ok: discarded");
		break;
	case MW_VERDICT_CONSUMED:
		set_outcome(o, 250, "consumed", "2.0.0 Ok: processed");
		break;
	case MW_VERDICT_QUARANTINE:
		set_outcome(o, 250, "quarantined", "2.0.0 Ok: quarantined");
		break;
	case MW_VERDICT_CONTINUE:
	default:
		break;
	}
}

/* quarantine - store one copy for the recipients with a quarantine verdict */
static gboolean
quarantine(MwTxn *txn, MwOutcome *outcome, GError **error)
{
	g_autoptr(MwEnvelope) env = mw_envelope_new(txn->envelope->sender);
	g_ptr_array_unref(env->mail_params);
	env->mail_params = mw_param_array_copy(txn->envelope->mail_params);
	const char *reason = NULL;
	for (guint i = 0; i < txn->rcpts->len; i++) {
		MwTxnRcpt *rcpt = g_ptr_array_index(txn->rcpts, i);
		if (rcpt->verdict != MW_VERDICT_QUARANTINE)
			continue;
		mw_envelope_add_rcpt(env, mw_recipient_copy(rcpt->rcpt));
		if (reason == NULL)
			reason = rcpt->reason;
	}
	if (env->rcpts->len == 0)
		return TRUE;
	if (txn->envelope->xforward != NULL)
		env->xforward = g_hash_table_ref(txn->envelope->xforward);
	g_autofree char *id = mw_quarantine_store(txn->config->state_dir, env, txn->message,
						  txn->queue_id, reason, error);
	if (id == NULL)
		return FALSE;
	mw_txn_log(txn, G_LOG_LEVEL_MESSAGE, "quarantined as %s (%s)", id,
		   reason != NULL ? reason : "no reason given");
	g_free(txn->quarantine_id);
	txn->quarantine_id = g_strdup(id);
	for (guint i = 0; i < txn->rcpts->len; i++) {
		MwTxnRcpt *rcpt = g_ptr_array_index(txn->rcpts, i);
		if (rcpt->verdict == MW_VERDICT_QUARANTINE) {
			g_autofree char *text = g_strdup_printf("2.0.0 Ok: quarantined as %s", id);
			set_outcome(&outcome->rcpts[i], 250, "quarantined", text);
		}
	}
	return TRUE;
}

/* job_for_delivery - an outgoing transaction for the active recipients of @delivery */
static Job *
job_for_delivery(MwTxn *txn, MwDelivery *delivery)
{
	Job *job = g_new0(Job, 1);
	job->delivery = delivery;
	job->required = TRUE;
	job->rcpts = g_ptr_array_new();
	job->envelope = mw_envelope_new(txn->envelope->sender);
	g_ptr_array_unref(job->envelope->mail_params);
	job->envelope->mail_params = mw_param_array_copy(txn->envelope->mail_params);
	if (txn->envelope->xforward != NULL)
		job->envelope->xforward = g_hash_table_ref(txn->envelope->xforward);
	for (guint i = 0; i < txn->rcpts->len; i++) {
		MwTxnRcpt *rcpt = g_ptr_array_index(txn->rcpts, i);
		if (rcpt->delivery != delivery || rcpt->verdict != MW_VERDICT_CONTINUE)
			continue;
		g_ptr_array_add(job->rcpts, rcpt);
		mw_envelope_add_rcpt(job->envelope, mw_recipient_copy(rcpt->rcpt));
	}
	mw_outgoing_init(&job->out, job->envelope, delivery->message);
	return job;
}

static Job *
job_for_emitted(MwEmitted *emitted)
{
	Job *job = g_new0(Job, 1);
	job->required = emitted->required;
	job->envelope = mw_envelope_copy(emitted->envelope);
	mw_outgoing_init(&job->out, job->envelope, emitted->message);
	return job;
}

/* fail_job_rcpts - give the recipients of a failed delivery its error */
static void
fail_job_rcpts(MwTxn *txn, Job *job, const GError *error, MwOutcome *outcome)
{
	int code;
	g_autofree char *text = NULL;
	error_reply(error, &code, &text);
	for (guint i = 0; job->rcpts != NULL && i < job->rcpts->len; i++) {
		MwTxnRcpt *rcpt = g_ptr_array_index(job->rcpts, i);
		set_outcome(&outcome->rcpts[rcpt->index], code,
			    code >= 500 ? "rejected" : "deferred", text);
	}
}

/* job_fatal - the error that fails the whole message because of @job: a
 * generated message that cannot go out defers the original (4xx), it never
 * makes Postfix bounce the original to its sender */
static GError *
job_fatal(const Job *job)
{
	if (job->rcpts != NULL)
		return g_error_copy(job->error);
	return g_error_new(MW_ERROR, MW_ERROR_TEMPORARY, "cannot send a generated message: %s",
			   job->error->message);
}

/* abort_all - drop every prepared, uncommitted transaction without its dot */
static void
abort_all(MwReinjector *reinjector, GPtrArray *jobs)
{
	for (guint i = 0; i < jobs->len; i++) {
		Job *job = g_ptr_array_index(jobs, i);
		if (job->prepared && !job->committed) {
			mw_reinject_abort(reinjector, &job->out);
			job->prepared = FALSE;
		}
	}
}

/* add_dsn_job - a bounce for @failed, prepared like everything else */
static Job *
dsn_job(MwTxn *txn, GPtrArray *failed, GPtrArray *texts)
{
	GMimeMessage *dsn = mw_dsn_build(txn, failed, texts);
	if (dsn == NULL)
		return NULL;
	const char *rcpts[] = {txn->envelope->sender, NULL};
	g_autoptr(GError) error = NULL;
	guint before = txn->emitted->len;
	if (!mw_txn_emit(txn, "dsn", "", rcpts, dsn, TRUE, &error)) {
		mw_txn_log(txn, G_LOG_LEVEL_WARNING, "cannot build bounce: %s", error->message);
		return NULL;
	}
	MwEmitted *emitted = g_ptr_array_index(txn->emitted, before);
	return job_for_emitted(emitted);
}

/* sending - prepare and commit @jobs; fills outcomes; returns FALSE if the
 * whole message must fail (SMTP) */
static void
send_jobs(MwTxn *txn, MwReinjector *reinjector, GPtrArray *jobs, gboolean lmtp, MwOutcome *outcome,
	  GError **fatal)
{
	/* phase 1: everything but the dots */
	for (guint i = 0; i < jobs->len; i++) {
		Job *job = g_ptr_array_index(jobs, i);
		if (mw_reinject_prepare(reinjector, &job->out, &job->error)) {
			job->prepared = TRUE;
			continue;
		}
		mw_txn_log(txn, G_LOG_LEVEL_WARNING, "reinjection failed: %s", job->error->message);
		mw_stats_downstream_failure();
		if (!lmtp || job->rcpts == NULL) {
			/* one reply for all, or a required emitted message: all or nothing */
			if (job->required || job->rcpts != NULL) {
				abort_all(reinjector, jobs);
				*fatal = job_fatal(job);
				return;
			}
		}
	}
	/* recipients the downstream refused while others were accepted */
	g_autoptr(GPtrArray) refused = g_ptr_array_new();
	g_autoptr(GPtrArray) refused_texts = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < jobs->len; i++) {
		Job *job = g_ptr_array_index(jobs, i);
		if (!job->prepared || job->rcpts == NULL)
			continue;
		for (guint r = 0; r < job->rcpts->len; r++) {
			int code = g_array_index(job->out.rcpt_codes, int, r);
			if (code < 500)
				continue;
			MwTxnRcpt *rcpt = g_ptr_array_index(job->rcpts, r);
			const char *text = g_ptr_array_index(job->out.rcpt_replies, r);
			set_outcome(&outcome->rcpts[rcpt->index], code, "rejected",
				    text != NULL && strlen(text) > 4 ? text + 4 : "5.1.1 Refused");
			g_ptr_array_add(refused, rcpt);
			g_ptr_array_add(refused_texts, g_strdup(text));
		}
	}
	if (!lmtp && refused->len > 0) {
		Job *bounce = dsn_job(txn, refused, refused_texts);
		if (bounce != NULL) {
			g_ptr_array_add(jobs, bounce);
			if (!mw_reinject_prepare(reinjector, &bounce->out, &bounce->error)) {
				abort_all(reinjector, jobs);
				*fatal = job_fatal(bounce);
				return;
			}
			bounce->prepared = TRUE;
		}
	}
	/* phase 2: the dots, in order */
	gboolean committed_any = FALSE;
	g_autoptr(GPtrArray) late = g_ptr_array_new();
	g_autoptr(GPtrArray) late_texts = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < jobs->len; i++) {
		Job *job = g_ptr_array_index(jobs, i);
		if (!job->prepared)
			continue;
		if (mw_reinject_commit(reinjector, &job->out, &job->error)) {
			job->committed = TRUE;
			committed_any = TRUE;
			if (job->out.queued_as != NULL)
				g_ptr_array_add(outcome->queued_as, g_strdup(job->out.queued_as));
			g_free(outcome->downstream);
			outcome->downstream = g_strdup(last_line(job->out.reply));
			continue;
		}
		job->prepared = FALSE;
		mw_stats_downstream_failure();
		mw_txn_log(txn, G_LOG_LEVEL_WARNING, "reinjection failed at the final dot: %s%s",
			   job->error->message,
			   committed_any
				   ? " (earlier copies were accepted: a retry may duplicate them)"
				   : "");
		if (job->rcpts == NULL && !job->required)
			continue; /* an optional generated message: logged, that is all */
		if (lmtp && job->rcpts != NULL)
			continue; /* its recipients get their own replies below */
		if (job->rcpts != NULL && committed_any &&
		    g_error_matches(job->error, MW_ERROR, MW_ERROR_PERMANENT)) {
			/* SMTP, some copies already accepted: the reply must be 250 for
			 * them, so the refused recipients get a bounce of our own */
			for (guint r = 0; r < job->rcpts->len; r++) {
				g_ptr_array_add(late, g_ptr_array_index(job->rcpts, r));
				g_ptr_array_add(late_texts, g_strdup(last_line(job->out.reply)));
			}
			continue;
		}
		abort_all(reinjector, jobs);
		*fatal = job_fatal(job);
		if (committed_any && !g_error_matches(*fatal, MW_ERROR, MW_ERROR_TEMPORARY)) {
			/* never 5xx once something was delivered: Postfix would bounce it */
			GError *temp =
				g_error_new(MW_ERROR, MW_ERROR_TEMPORARY, "%s", (*fatal)->message);
			g_error_free(*fatal);
			*fatal = temp;
		}
		break;
	}
	if (*fatal == NULL && late->len > 0) {
		Job *bounce = dsn_job(txn, late, late_texts);
		if (bounce != NULL) {
			g_ptr_array_add(jobs, bounce);
			if (!mw_reinject_prepare(reinjector, &bounce->out, &bounce->error) ||
			    !mw_reinject_commit(reinjector, &bounce->out, &bounce->error)) {
				mw_txn_log(txn, G_LOG_LEVEL_WARNING,
					   "cannot send the bounce for refused recipients: %s",
					   bounce->error->message);
				*fatal = g_error_new(MW_ERROR, MW_ERROR_TEMPORARY,
						     "cannot send a bounce: %s",
						     bounce->error->message);
			} else {
				bounce->committed = TRUE;
			}
		}
	}
	/* per-delivery results, also after a failure: the log says what went out */
	for (guint i = 0; i < jobs->len; i++) {
		Job *job = g_ptr_array_index(jobs, i);
		if (job->rcpts == NULL) {
			if (job->committed)
				outcome->n_emitted++;
			continue;
		}
		if (!job->committed) {
			if (job->error != NULL)
				fail_job_rcpts(txn, job, job->error, outcome);
			continue;
		}
		for (guint r = 0; r < job->rcpts->len; r++) {
			MwTxnRcpt *rcpt = g_ptr_array_index(job->rcpts, r);
			if (g_array_index(job->out.rcpt_codes, int, r) >= 300)
				continue;
			g_autofree char *text =
				g_strdup_printf("2.0.0 Ok: %s delivered#%u: %s", txn->queue_id,
						job->delivery->id, last_line(job->out.reply));
			g_strdelimit(text, "\r\n", ' ');
			set_outcome(&outcome->rcpts[rcpt->index], 250, "delivered", text);
		}
	}
}

/* single_reply - collapse per-recipient outcomes into the one SMTP reply */
static void
single_reply(MwTxn *txn, MwOutcome *outcome)
{
	const MwRcptOutcome *first_ok = NULL;
	const MwRcptOutcome *first_temp = NULL;
	const MwRcptOutcome *first_perm = NULL;
	gboolean delivered = FALSE;
	for (guint i = 0; i < outcome->n_rcpts; i++) {
		const MwRcptOutcome *o = &outcome->rcpts[i];
		if (o->code >= 400 && o->code < 500 && first_temp == NULL)
			first_temp = o;
		else if (o->code >= 500 && first_perm == NULL)
			first_perm = o;
		else if (o->code >= 200 && o->code < 300) {
			if (first_ok == NULL)
				first_ok = o;
			if (g_strcmp0(o->action, "delivered") == 0)
				delivered = TRUE;
		}
	}
	if (first_temp != NULL) {
		set_outcome(&outcome->reply, first_temp->code, "deferred", first_temp->text);
	} else if (first_ok == NULL && first_perm != NULL) {
		set_outcome(&outcome->reply, 554, "rejected", first_perm->text);
	} else if (delivered) {
		g_autofree char *text = g_strdup_printf(
			"2.0.0 Ok: %s passed mailwarden, downstream said: %s", txn->queue_id,
			outcome->downstream ? outcome->downstream : "");
		set_outcome(&outcome->reply, 250,
			    first_perm != NULL ? "delivered+bounced" : "delivered", text);
	} else if (first_ok != NULL) {
		set_outcome(&outcome->reply, 250, first_ok->action, first_ok->text);
	} else {
		set_outcome(&outcome->reply, 451, "deferred", "4.3.0 Internal error: no outcome");
	}
}

void
mw_dispatch(MwTxn *txn, MwReinjector *reinjector, gboolean lmtp, MwOutcome *outcome)
{
	memset(outcome, 0, sizeof *outcome);
	outcome->n_rcpts = txn->rcpts->len;
	outcome->rcpts = g_new0(MwRcptOutcome, outcome->n_rcpts);
	outcome->queued_as = g_ptr_array_new_with_free_func(g_free);

	gboolean any_temp = FALSE;
	gboolean any_reject = FALSE;
	for (guint i = 0; i < txn->rcpts->len; i++) {
		MwTxnRcpt *rcpt = g_ptr_array_index(txn->rcpts, i);
		verdict_outcome(rcpt, lmtp, &outcome->rcpts[i]);
		any_temp |= rcpt->verdict == MW_VERDICT_TEMPFAIL;
		any_reject |= rcpt->verdict == MW_VERDICT_REJECT;
	}
	/* SMTP: one tempfail defers everything; nothing may go out now */
	if (any_temp && !lmtp) {
		single_reply(txn, outcome);
		return;
	}

	g_autoptr(GError) error = NULL;
	if (reinjector == NULL) {
		/* scan mode: nothing is stored; the verdict outcome already says quarantined */
	} else if (!quarantine(txn, outcome, &error)) {
		mw_txn_log(txn, G_LOG_LEVEL_WARNING, "quarantine failed: %s", error->message);
		for (guint i = 0; i < txn->rcpts->len; i++) {
			MwTxnRcpt *rcpt = g_ptr_array_index(txn->rcpts, i);
			if (rcpt->verdict == MW_VERDICT_QUARANTINE)
				set_outcome(&outcome->rcpts[i], 451, "deferred",
					    "4.3.0 Cannot store the message in quarantine");
		}
		if (!lmtp) {
			single_reply(txn, outcome);
			return;
		}
		g_clear_error(&error);
	}

	g_autoptr(GPtrArray) jobs = g_ptr_array_new_with_free_func((GDestroyNotify) job_free);
	for (guint i = 0; i < txn->deliveries->len; i++) {
		MwDelivery *delivery = g_ptr_array_index(txn->deliveries, i);
		if (mw_txn_delivery_n_active(txn, delivery) == 0)
			continue;
		if (!mw_delivery_finish(delivery, txn->config->state_dir, &error)) {
			mw_txn_log(txn, G_LOG_LEVEL_WARNING, "cannot serialize variant %u: %s",
				   delivery->id, error->message);
			g_autoptr(GError) temp =
				g_error_new(MW_ERROR, MW_ERROR_TEMPORARY,
					    "cannot serialize message: %s", error->message);
			g_clear_error(&error);
			Job *job = job_for_delivery(txn, delivery);
			fail_job_rcpts(txn, job, temp, outcome);
			job_free(job);
			if (!lmtp) {
				single_reply(txn, outcome);
				return;
			}
			continue;
		}
		g_ptr_array_add(jobs, job_for_delivery(txn, delivery));
	}

	/* SMTP: recipients a module rejected while others get it: tell the sender */
	if (any_reject && !lmtp) {
		g_autoptr(GPtrArray) rejected = g_ptr_array_new();
		gboolean others = FALSE;
		for (guint i = 0; i < txn->rcpts->len; i++) {
			MwTxnRcpt *rcpt = g_ptr_array_index(txn->rcpts, i);
			if (rcpt->verdict == MW_VERDICT_REJECT)
				g_ptr_array_add(rejected, rcpt);
			else
				others = TRUE;
		}
		if (others) {
			GMimeMessage *dsn = mw_dsn_build(txn, rejected, NULL);
			if (dsn != NULL) {
				const char *to[] = {txn->envelope->sender, NULL};
				if (!mw_txn_emit(txn, "dsn", "", to, dsn, TRUE, &error)) {
					mw_txn_log(txn, G_LOG_LEVEL_WARNING,
						   "cannot build bounce: %s", error->message);
					g_clear_error(&error);
				}
			}
		}
	}
	for (guint i = 0; i < txn->emitted->len; i++)
		g_ptr_array_add(jobs, job_for_emitted(g_ptr_array_index(txn->emitted, i)));

	if (jobs->len > 0) {
		if (reinjector == NULL) {
			/* scan mode: nothing is sent; report what would be */
			for (guint i = 0; i < jobs->len; i++) {
				Job *job = g_ptr_array_index(jobs, i);
				for (guint r = 0; job->rcpts != NULL && r < job->rcpts->len; r++) {
					MwTxnRcpt *rcpt = g_ptr_array_index(job->rcpts, r);
					g_autofree char *text = g_strdup_printf(
						"2.0.0 Ok: would deliver variant %u",
						job->delivery->id);
					set_outcome(&outcome->rcpts[rcpt->index], 250, "delivered",
						    text);
				}
			}
		} else {
			g_autoptr(GError) fatal = NULL;
			send_jobs(txn, reinjector, jobs, lmtp, outcome, &fatal);
			if (fatal != NULL) {
				int code;
				g_autofree char *text = NULL;
				error_reply(fatal, &code, &text);
				g_free(outcome->downstream);
				outcome->downstream = g_strdup(fatal->message);
				/* every recipient gets the failure; in SMTP mode a copy
				 * already accepted keeps "delivered" in the log (the
				 * retry may send it again) while the reply is the failure */
				for (guint i = 0; i < outcome->n_rcpts; i++) {
					MwTxnRcpt *rcpt = g_ptr_array_index(txn->rcpts, i);
					gboolean delivered = g_strcmp0(outcome->rcpts[i].action,
								       "delivered") == 0;
					if (!lmtp && delivered)
						continue;
					if (!lmtp || rcpt->verdict == MW_VERDICT_CONTINUE ||
					    outcome->rcpts[i].code == 0)
						set_outcome(&outcome->rcpts[i], code,
							    code >= 500 ? "rejected" : "deferred",
							    text);
				}
				if (!lmtp) {
					single_reply(txn, outcome);
					set_outcome(&outcome->reply, code,
						    code >= 500 ? "rejected" : "deferred", text);
					return;
				}
			}
		}
	}
	/* any recipient without an outcome is a bug: never answer 250 for it */
	for (guint i = 0; i < outcome->n_rcpts; i++) {
		if (outcome->rcpts[i].code == 0) {
			mw_txn_log(txn, G_LOG_LEVEL_CRITICAL, "recipient %u has no outcome", i);
			set_outcome(&outcome->rcpts[i], 451, "deferred", "4.3.0 Internal error");
		}
	}
	single_reply(txn, outcome);
}

void
mw_dispatch_log_summary(const MwTxn *txn, const MwOutcome *outcome)
{
	g_autoptr(GString) line = g_string_new(NULL);
	g_string_append_printf(line, "%s: txn=%s from=<%s> size=%" G_GUINT64_FORMAT " nrcpt=%u",
			       txn->queue_id, txn->id, txn->envelope->sender,
			       mw_message_get_size(txn->message), txn->rcpts->len);
	if (txn->client_addr != NULL)
		g_string_append_printf(line, " client=%s[%s]",
				       txn->client_name != NULL ? txn->client_name : "unknown",
				       txn->client_addr);
	for (guint i = 0; i < txn->notes->len; i++)
		g_string_append_printf(line, " %s",
				       (const char *) g_ptr_array_index(txn->notes, i));
	for (guint i = 0; i < outcome->n_rcpts; i++) {
		const MwTxnRcpt *rcpt = g_ptr_array_index(txn->rcpts, i);
		const MwRcptOutcome *o = &outcome->rcpts[i];
		g_string_append_printf(line, " rcpt=<%s>:%s", rcpt->rcpt->address,
				       o->action != NULL ? o->action : "?");
		if (g_strcmp0(o->action, "delivered") == 0)
			g_string_append_printf(line, "#%u", rcpt->delivery->id);
		else if (rcpt->by != NULL)
			g_string_append_printf(line, "(%s)", rcpt->by);
	}
	if (txn->quarantine_id != NULL)
		g_string_append_printf(line, " quarantine=%s", txn->quarantine_id);
	g_string_append_printf(line, " action=%s reply=\"%d %s\"",
			       outcome->reply.action != NULL ? outcome->reply.action : "?",
			       outcome->reply.code, outcome->reply.text ? outcome->reply.text : "");
	if (outcome->queued_as != NULL && outcome->queued_as->len > 0) {
		g_string_append(line, " queued_as=");
		for (guint i = 0; i < outcome->queued_as->len; i++)
			g_string_append_printf(
				line, "%s%s", i ? "," : "",
				(const char *) g_ptr_array_index(outcome->queued_as, i));
	}
	if (outcome->downstream != NULL)
		g_string_append_printf(line, " downstream=\"%s\"", outcome->downstream);
	g_string_append_printf(line, " emitted=%u delay=%.3fs", outcome->n_emitted,
			       (double) (g_get_monotonic_time() - txn->start_time) /
				       G_USEC_PER_SEC);
	mw_log_queue(G_LOG_LEVEL_MESSAGE, txn->queue_id, "%s", line->str);
}
