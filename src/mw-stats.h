/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "mw-dispatch.h"

G_BEGIN_DECLS

/*
 * Counters for the metrics page, in memory the master maps before forking so
 * every worker adds to the same numbers (atomic adds, no locks). Modules are
 * counted by their position in the registry, which never changes while the
 * binary runs, so a reload keeps the counts.
 */

/* mw_stats_init - map the shared counters (master, before the first fork) */
gboolean mw_stats_init(void);

/* mw_stats_record - one processed message: final action, module verdicts and times */
void mw_stats_record(const MwTxn *txn, const MwOutcome *outcome, gint64 elapsed_us);

/* mw_stats_module_time - time one module took on one message */
void mw_stats_module_time(const char *module, gint64 elapsed_us, gboolean failed);

void mw_stats_connection(void);
void mw_stats_downstream_failure(void);
void mw_stats_worker_restart(void);
void mw_stats_set_workers(guint n);

/* mw_stats_format - the Prometheus text exposition (transfer full) */
char *mw_stats_format(void);

G_END_DECLS
