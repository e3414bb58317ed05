/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	main - the mailwarden command line
 * SYNOPSIS
 *	mailwarden -c FILE [-o KEY=VALUE]... [-d] [-v] [--pid-file F] [--check-config]
 *	mailwarden -c FILE scan [--from A] [--to B]... [--client-ip IP] [--helo H] [--out DIR] [FILE]
 *	mailwarden -c FILE release ID
 *	mailwarden -c FILE status
 *	mailwarden -c FILE learn --spam|--ham PATH...
 * DESCRIPTION
 *	Exit codes: 0 ok, 1 configuration or usage error, 2 runtime failure.
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>

#include <gmime/gmime.h>

#include "mw-cli.h"
#include "mw-config.h"
#include "mw-log.h"
#include "mw-master.h"
#include "mw-pipeline.h"

static const char summary[] =
	"After-queue SMTP content filter for Postfix.\n\n"
	"Commands (after the options):\n"
	"  (none)                      run the daemon (foreground; -d to daemonize)\n"
	"  scan [OPTIONS] [FILE.eml]   run the pipeline on one message offline\n"
	"  release ID                  reinject a quarantined message\n"
	"  status                      is it healthy? (listeners, downstream, metrics)\n"
	"  learn --spam|--ham PATH...  train the spam module's Bayes store\n\n"
	"Exit status: 0 ok, 1 configuration or usage error, 2 runtime failure.";

int
main(int argc, char **argv)
{
	setlocale(LC_ALL, "");
	g_autofree char *config_path = NULL;
	g_auto(GStrv) overrides = NULL;
	g_autofree char *pid_file = NULL;
	gboolean check_config = FALSE;
	gboolean daemonize = FALSE;
	gboolean verbose = FALSE;
	gboolean version = FALSE;
	GOptionEntry entries[] = {
		{"config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
		 "configuration file (default " MW_DEFAULT_CONFIG ")", "FILE"},
		{"override", 'o', 0, G_OPTION_ARG_STRING_ARRAY, &overrides,
		 "override a setting: key=value or section.key=value", "KEY=VALUE"},
		{"check-config", 0, 0, G_OPTION_ARG_NONE, &check_config,
		 "load and validate everything, then exit", NULL},
		{"daemon", 'd', 0, G_OPTION_ARG_NONE, &daemonize, "run in the background", NULL},
		{"pid-file", 0, 0, G_OPTION_ARG_FILENAME, &pid_file, "write the master's pid here",
		 "FILE"},
		{"verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "log debug and info lines", NULL},
		{"version", 'V', 0, G_OPTION_ARG_NONE, &version, "print the version and exit",
		 NULL},
		{NULL}};
	g_autoptr(GOptionContext) context = g_option_context_new("[COMMAND [ARGS...]]");
	g_option_context_set_summary(context, summary);
	g_option_context_add_main_entries(context, entries, NULL);
	/* options after the command belong to the command */
	g_option_context_set_strict_posix(context, TRUE);
	g_autoptr(GError) error = NULL;
	if (!g_option_context_parse(context, &argc, &argv, &error)) {
		fprintf(stderr, "mailwarden: %s (try --help)\n", error->message);
		return 1;
	}
	if (version) {
		printf("mailwarden %s\n", MW_VERSION);
		return 0;
	}
	if (config_path == NULL)
		config_path = g_strdup(MW_DEFAULT_CONFIG);

	mw_log_init(FALSE, NULL, verbose);
	g_mime_init();
	MwConfig *config = mw_config_load(config_path, (const char *const *) overrides, &error);
	if (config == NULL) {
		fprintf(stderr, "mailwarden: %s: configuration error:\n%s\n", config_path,
			error->message);
		return 1;
	}
	mw_log_init(config->syslog, config->syslog_socket, verbose);

	int rc;
	if (argc > 1) {
		rc = mw_cli_command(config, argc - 1, argv + 1);
		mw_config_free(config);
	} else if (check_config) {
		g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
		mw_pipeline_check(config, problems);
		for (guint i = 0; i < problems->len; i++)
			fprintf(stderr, "mailwarden: %s\n",
				(char *) g_ptr_array_index(problems, i));
		if (problems->len == 0)
			printf("mailwarden: %s: configuration ok\n", config_path);
		rc = problems->len == 0 ? 0 : 1;
		mw_config_free(config);
	} else {
		MwMasterOptions options = {config_path, (const char *const *) overrides, pid_file,
					   daemonize, verbose};
		rc = mw_master_run(config, &options);
	}
	g_mime_shutdown();
	return rc;
}
