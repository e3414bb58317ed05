/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-pipeline - run the configured modules on a message
 * SYNOPSIS
 *	mw_pipeline_run, mw_pipeline_start, mw_pipeline_check,
 *	mw_pipeline_worker_init, mw_pipeline_worker_exit
 * DESCRIPTION
 *	The order is the modules= key. A module runs only while some recipient
 *	is still active. When a module cannot do its job (process() returns
 *	FALSE), the module's on_error policy applies to every active recipient;
 *	modules never choose fail-open or fail-closed themselves. The time each
 *	module takes is noted for the summary line when it is notable.
 */
#include "mw-ambiguous.h"
#include "mw-error.h"
#include "mw-pipeline.h"
#include "mw-stats.h"

/* apply_on_error - the configured fate of a message whose module failed */
static void
apply_on_error(MwTxn *txn, MwModule *module, const GError *error)
{
	const char *name = module->klass->name;
	const char *reason = error != NULL ? error->message : "unknown error";
	switch (module->on_error) {
	case MW_ON_ERROR_PASS:
		mw_txn_log(txn, G_LOG_LEVEL_WARNING, "module %s failed, on_error=pass: %s", name,
			   reason);
		mw_txn_note(txn, name, "error(pass)");
		break;
	case MW_ON_ERROR_REJECT:
		mw_txn_log(txn, G_LOG_LEVEL_WARNING, "module %s failed, on_error=reject: %s", name,
			   reason);
		mw_txn_note(txn, name, "error(reject)");
		mw_txn_verdict(txn, NULL, MW_VERDICT_REJECT, name,
			       "5.3.0 Message refused: %s check failed", name);
		break;
	case MW_ON_ERROR_TEMPFAIL:
	default:
		mw_txn_log(txn, G_LOG_LEVEL_WARNING, "module %s failed, on_error=tempfail: %s",
			   name, reason);
		mw_txn_note(txn, name, "error(tempfail)");
		mw_txn_verdict(txn, NULL, MW_VERDICT_TEMPFAIL, name,
			       "4.3.0 Temporary failure in %s check, try again later", name);
		break;
	}
}

/* check_ambiguous_mime - the core's own check, before any module reads the
 * message: a module and the recipient's mail client must see the same MIME */
static void
check_ambiguous_mime(MwTxn *txn)
{
	MwAmbiguousAction action = (MwAmbiguousAction) txn->config->ambiguous_mime;
	g_autofree char *reason = NULL;
	if (action == MW_AMBIGUOUS_PASS || !mw_mime_find_ambiguity(txn->message, &reason))
		return;
	mw_txn_log(txn, G_LOG_LEVEL_MESSAGE, "ambiguous MIME: %s (ambiguous_mime=%s)", reason,
		   mw_ambiguous_action_names[action]);
	mw_txn_note(txn, "mime", "ambiguous");
	switch (action) {
	case MW_AMBIGUOUS_REJECT:
		mw_txn_verdict(txn, NULL, MW_VERDICT_REJECT, "mime",
			       "5.6.0 Message refused: ambiguous MIME structure (%s)", reason);
		break;
	case MW_AMBIGUOUS_QUARANTINE:
		mw_txn_verdict(txn, NULL, MW_VERDICT_QUARANTINE, "mime",
			       "2.6.0 ambiguous MIME structure (%s)", reason);
		break;
	case MW_AMBIGUOUS_TAG:
	default:
		for (guint i = 0; i < txn->deliveries->len; i++) {
			MwDelivery *delivery = g_ptr_array_index(txn->deliveries, i);
			g_autoptr(GError) error = NULL;
			if (!mw_delivery_prepend_header(delivery, "X-Mailwarden-MIME", reason,
							txn->config->state_dir, &error)) {
				mw_txn_log(txn, G_LOG_LEVEL_WARNING, "cannot tag: %s",
					   error->message);
				mw_txn_verdict(txn, NULL, MW_VERDICT_TEMPFAIL, "mime",
					       "4.3.0 Cannot store the message, try again later");
			}
		}
		break;
	}
}

void
mw_pipeline_run(MwTxn *txn)
{
	check_ambiguous_mime(txn);
	const GPtrArray *pipeline = txn->config->pipeline;
	for (guint i = 0; pipeline != NULL && i < pipeline->len; i++) {
		if (mw_txn_n_active(txn) == 0)
			break;
		MwModule *module = g_ptr_array_index(pipeline, i);
		g_autoptr(GError) error = NULL;
		gint64 start = g_get_monotonic_time();
		gboolean ok = module->klass->process(module, txn, &error);
		if (!ok)
			apply_on_error(txn, module, error);
		gint64 elapsed = g_get_monotonic_time() - start;
		mw_stats_module_time(module->klass->name, elapsed, !ok);
		if (elapsed > G_USEC_PER_SEC)
			mw_txn_log(txn, G_LOG_LEVEL_INFO, "module %s took %.2fs",
				   module->klass->name, (double) elapsed / G_USEC_PER_SEC);
	}
}

gboolean
mw_pipeline_start(const MwConfig *config, GError **error)
{
	for (guint i = 0; i < config->pipeline->len; i++) {
		MwModule *module = g_ptr_array_index(config->pipeline, i);
		if (module->klass->start == NULL)
			continue;
		if (!module->klass->start(module, error)) {
			g_prefix_error(error, "[%s] ", module->klass->name);
			return FALSE;
		}
	}
	return TRUE;
}

gboolean
mw_pipeline_check(const MwConfig *config, GPtrArray *problems)
{
	gboolean ok = TRUE;
	for (guint i = 0; i < config->pipeline->len; i++) {
		MwModule *module = g_ptr_array_index(config->pipeline, i);
		if (module->klass->check == NULL)
			continue;
		g_autoptr(GError) error = NULL;
		if (!module->klass->check(module, &error)) {
			g_ptr_array_add(problems, g_strdup_printf("[%s] %s", module->klass->name,
								  error != NULL ? error->message
										: "check failed"));
			ok = FALSE;
		}
	}
	return ok;
}

gboolean
mw_pipeline_worker_init(const MwConfig *config, GError **error)
{
	for (guint i = 0; i < config->pipeline->len; i++) {
		MwModule *module = g_ptr_array_index(config->pipeline, i);
		if (module->klass->worker_init == NULL)
			continue;
		if (!module->klass->worker_init(module, error)) {
			g_prefix_error(error, "[%s] ", module->klass->name);
			return FALSE;
		}
	}
	return TRUE;
}

void
mw_pipeline_worker_exit(const MwConfig *config)
{
	for (guint i = 0; i < config->pipeline->len; i++) {
		MwModule *module = g_ptr_array_index(config->pipeline, i);
		if (module->klass->worker_exit != NULL)
			module->klass->worker_exit(module);
	}
}
