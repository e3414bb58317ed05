/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "mw-txn.h"

G_BEGIN_DECLS

/**
 * mw_pipeline_run:
 *
 * Runs each module of txn->config->pipeline in order while recipients are
 * active. A module that fails gets its on_error policy applied to the active
 * recipients (tempfail, pass or reject) and the failure is logged with the
 * queue id, the module and the reason.
 */
void mw_pipeline_run(MwTxn *txn);

/* mw_pipeline_worker_init / exit - every module's per-worker hooks */
gboolean mw_pipeline_worker_init(const MwConfig *config, GError **error);
void mw_pipeline_worker_exit(const MwConfig *config);
/* mw_pipeline_start - every module's start hook (master, before fork) */
gboolean mw_pipeline_start(const MwConfig *config, GError **error);
/* mw_pipeline_check - every module's check hook (--check-config) */
gboolean mw_pipeline_check(const MwConfig *config, GPtrArray *problems);

G_END_DECLS
