/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "mw-config.h"

G_BEGIN_DECLS

#define MW_DEFAULT_CONFIG "/etc/mailwarden/mailwarden.conf"

/* mw_cli_command - run "scan", "release" or "learn"; @argv[0] is the command; returns the exit code */
int mw_cli_command(const MwConfig *config, int argc, char **argv);

G_END_DECLS
