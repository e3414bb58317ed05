/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "mw-config.h"

G_BEGIN_DECLS

typedef struct {
	const char *config_path;
	const char *const *overrides;
	const char *pid_file;
	gboolean daemonize;
	gboolean verbose;
} MwMasterOptions;

/**
 * mw_master_run:
 * @config: (transfer full): the loaded configuration
 *
 * Opens the listeners, runs the modules' start hooks, drops privileges,
 * forks `workers` processes and supervises them until SIGTERM/SIGINT:
 * a dead worker is replaced (with a delay if workers keep dying at once),
 * SIGHUP loads the configuration again and replaces the workers by a new
 * generation (the old ones finish their connection first), SIGTERM lets
 * every worker finish its current message and exits.
 *
 * Returns: the process exit code
 */
int mw_master_run(MwConfig *config, const MwMasterOptions *options);

G_END_DECLS
