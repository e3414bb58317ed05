/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-cli - the offline commands: scan, release, and modules' own (learn)
 * SYNOPSIS
 *	mw_cli_command
 * DESCRIPTION
 *	scan runs the same pipeline and dispatch code as the daemon on one
 *	message, without sending anything and without storing a quarantine
 *	copy, and prints the verdict per recipient and per module. With --out
 *	it writes every message that would go out as DIR/N.eml with DIR/N.env
 *	(first line the sender, then one recipient per line).
 *	release reinjects a quarantined message to its original recipients
 *	with its original envelope parameters and removes it on success.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "mw-cli.h"
#include "mw-dispatch.h"
#include "mw-error.h"
#include "mw-net.h"
#include "mw-pipeline.h"
#include "mw-quarantine.h"
#include "mw-reinject.h"
#include "mw-txn.h"

/* read_stdin - the whole of standard input as a message */
static MwMessage *
read_stdin(const char *spool_dir, GError **error)
{
	g_autoptr(MwMessage) msg = mw_message_new(spool_dir, MW_MESSAGE_MEMORY_THRESHOLD);
	guint8 buf[65536];
	ssize_t n;
	while ((n = read(STDIN_FILENO, buf, sizeof buf)) > 0) {
		if (!mw_message_append(msg, buf, (gsize) n, error))
			return NULL;
	}
	if (n < 0) {
		g_set_error(error, MW_ERROR, MW_ERROR_IO, "cannot read standard input");
		return NULL;
	}
	mw_message_seal(msg, NULL);
	return g_steal_pointer(&msg);
}

/* write_out - DIR/N.eml and DIR/N.env */
static gboolean
write_out(const char *dir, guint n, const MwEnvelope *env, MwMessage *msg, GError **error)
{
	g_autofree char *name = g_strdup_printf("%u.eml", n);
	g_autofree char *path = g_build_filename(dir, name, NULL);
	FILE *f = fopen(path, "wb");
	if (f == NULL) {
		g_set_error(error, MW_ERROR, MW_ERROR_IO, "cannot write %s", path);
		return FALSE;
	}
	gboolean ok = mw_message_write_to_fd(msg, fileno(f), error);
	fclose(f);
	if (!ok)
		return FALSE;
	g_autofree char *env_name = g_strdup_printf("%u.env", n);
	g_autofree char *env_path = g_build_filename(dir, env_name, NULL);
	g_autofree char *text = mw_envelope_to_text(env, FALSE);
	return g_file_set_contents(env_path, text, -1, error);
}

static int
cmd_scan(const MwConfig *config, int argc, char **argv)
{
	g_autofree char *from = NULL;
	g_auto(GStrv) to = NULL;
	g_autofree char *client_ip = NULL;
	g_autofree char *helo = NULL;
	g_autofree char *out_dir = NULL;
	GOptionEntry entries[] = {
		{"from", 0, 0, G_OPTION_ARG_STRING, &from, "envelope sender (default <>)", "ADDR"},
		{"to", 0, 0, G_OPTION_ARG_STRING_ARRAY, &to, "envelope recipient (repeat)", "ADDR"},
		{"client-ip", 0, 0, G_OPTION_ARG_STRING, &client_ip, "client address", "IP"},
		{"helo", 0, 0, G_OPTION_ARG_STRING, &helo, "client HELO name", "NAME"},
		{"out", 0, 0, G_OPTION_ARG_FILENAME, &out_dir, "write outgoing messages here",
		 "DIR"},
		{NULL}};
	g_autoptr(GOptionContext) context = g_option_context_new("[FILE.eml] - scan one message");
	g_option_context_add_main_entries(context, entries, NULL);
	g_autoptr(GError) error = NULL;
	if (!g_option_context_parse(context, &argc, &argv, &error) || argc > 2) {
		fprintf(stderr, "mailwarden scan: %s\n",
			error != NULL ? error->message : "more than one file given");
		return 1;
	}
	if (to == NULL || to[0] == NULL) {
		fprintf(stderr, "mailwarden scan: give at least one --to recipient\n");
		return 1;
	}
	g_autoptr(MwMessage) msg = argc == 2 ? mw_message_new_from_file(argv[1], NULL, &error)
					     : read_stdin(NULL, &error);
	if (msg == NULL) {
		fprintf(stderr, "mailwarden scan: %s\n", error->message);
		return 2;
	}
	MwEnvelope *env = mw_envelope_new(from != NULL ? from : "");
	for (guint i = 0; to[i] != NULL; i++)
		mw_envelope_add_rcpt(env, mw_recipient_new(to[i], NULL));
	if (client_ip != NULL || helo != NULL) {
		env->xforward = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
		if (client_ip != NULL)
			g_hash_table_insert(env->xforward, g_strdup("ADDR"), g_strdup(client_ip));
		if (helo != NULL)
			g_hash_table_insert(env->xforward, g_strdup("HELO"), g_strdup(helo));
	}
	/* the same hooks a daemon worker runs around its messages */
	if (!mw_pipeline_start(config, &error) || !mw_pipeline_worker_init(config, &error)) {
		fprintf(stderr, "mailwarden scan: %s\n", error->message);
		return 2;
	}
	g_autoptr(MwTxn) txn = mw_txn_new(config, env, msg);
	mw_pipeline_run(txn);
	MwOutcome outcome;
	mw_dispatch(txn, NULL, config->protocol == MW_PROTOCOL_LMTP, &outcome);

	for (guint i = 0; i < txn->notes->len; i++)
		printf("module %s\n", (char *) g_ptr_array_index(txn->notes, i));
	for (guint i = 0; i < txn->rcpts->len; i++) {
		MwTxnRcpt *rcpt = g_ptr_array_index(txn->rcpts, i);
		printf("rcpt <%s>: %s", rcpt->rcpt->address, outcome.rcpts[i].action);
		if (rcpt->verdict == MW_VERDICT_CONTINUE)
			printf(" variant=%u%s", rcpt->delivery->id,
			       rcpt->delivery->modified ? " (modified)" : "");
		else
			printf(" by %s: %s", rcpt->by != NULL ? rcpt->by : "?",
			       rcpt->reason != NULL ? rcpt->reason : "");
		printf("\n");
	}
	printf("emitted %u message(s)\n", txn->emitted->len);
	printf("result %d %s\n", outcome.reply.code, outcome.reply.text);
	mw_outcome_clear(&outcome);

	if (out_dir != NULL) {
		if (g_mkdir_with_parents(out_dir, 0755) < 0) {
			fprintf(stderr, "mailwarden scan: cannot create %s\n", out_dir);
			return 2;
		}
		guint n = 0;
		for (guint d = 0; d < txn->deliveries->len; d++) {
			MwDelivery *delivery = g_ptr_array_index(txn->deliveries, d);
			g_autoptr(MwEnvelope) denv = mw_envelope_new(txn->envelope->sender);
			for (guint i = 0; i < txn->rcpts->len; i++) {
				MwTxnRcpt *rcpt = g_ptr_array_index(txn->rcpts, i);
				if (rcpt->delivery == delivery &&
				    rcpt->verdict == MW_VERDICT_CONTINUE)
					mw_envelope_add_rcpt(denv, mw_recipient_copy(rcpt->rcpt));
			}
			if (denv->rcpts->len == 0)
				continue;
			if (!write_out(out_dir, ++n, denv, delivery->message, &error)) {
				fprintf(stderr, "mailwarden scan: %s\n", error->message);
				return 2;
			}
		}
		for (guint e = 0; e < txn->emitted->len; e++) {
			MwEmitted *emitted = g_ptr_array_index(txn->emitted, e);
			if (!write_out(out_dir, ++n, emitted->envelope, emitted->message, &error)) {
				fprintf(stderr, "mailwarden scan: %s\n", error->message);
				return 2;
			}
		}
		printf("wrote %u message(s) to %s\n", n, out_dir);
	}
	mw_pipeline_worker_exit(config);
	return 0;
}

static int
cmd_release(const MwConfig *config, int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: mailwarden -c FILE release ID\n");
		return 1;
	}
	const char *id = argv[1];
	g_autoptr(GError) error = NULL;
	g_autoptr(MwEnvelope) env = NULL;
	g_autoptr(MwMessage) msg = NULL;
	if (!mw_quarantine_load(config->state_dir, id, &env, &msg, &error)) {
		fprintf(stderr, "mailwarden release: %s\n", error->message);
		return 1;
	}
	MwReinjector *reinjector =
		mw_reinjector_new(config->reinject, config->hostname, (guint) config->timeout);
	MwOutgoing out;
	mw_outgoing_init(&out, env, msg);
	gboolean ok = mw_reinject_one(reinjector, &out, &error);
	int rc = 0;
	if (!ok) {
		fprintf(stderr, "mailwarden release: %s: %s\n", id, error->message);
		rc = 2;
	} else {
		g_message("%s: released from quarantine to %u recipient(s): %s", id,
			  env->rcpts->len, out.reply != NULL ? out.reply : "");
		printf("released %s: %s\n", id, out.reply != NULL ? out.reply : "");
		if (!mw_quarantine_remove(config->state_dir, id, &error))
			fprintf(stderr, "mailwarden release: %s\n", error->message);
	}
	mw_outgoing_clear(&out);
	mw_reinjector_free(reinjector);
	return rc;
}

/* probe_smtp - connect, read the greeting, QUIT; TRUE when it greets with 220 */
static gboolean
probe_smtp(const char *target, guint timeout, char **text_out)
{
	g_autoptr(GError) error = NULL;
	int fd = mw_net_connect(target, timeout, &error);
	if (fd < 0) {
		*text_out = g_strdup(error->message);
		return FALSE;
	}
	MwConn *conn = mw_conn_new(fd, timeout);
	int code = 0;
	g_autofree char *text = NULL;
	gboolean ok = mw_conn_read_reply(conn, &code, &text, &error) && code == 220;
	if (code != 0) {
		mw_conn_queue_printf(conn, "QUIT\r\n");
		(void) mw_conn_flush(conn, NULL);
	}
	*text_out = g_strdup(text != NULL ? text : error != NULL ? error->message : "no reply");
	mw_conn_free(conn);
	return ok;
}

/* fetch_metrics - the metrics page body, or NULL */
static char *
fetch_metrics(const char *target, guint timeout)
{
	int fd = mw_net_connect(target, timeout, NULL);
	if (fd < 0)
		return NULL;
	MwConn *conn = mw_conn_new(fd, timeout);
	mw_conn_queue_printf(conn, "GET /metrics HTTP/1.0\r\n\r\n");
	g_autoptr(GString) page = g_string_new(NULL);
	if (mw_conn_flush(conn, NULL)) {
		while (mw_conn_fill(conn, NULL)) {
			g_string_append_len(page, (const char *) conn->rbuf + conn->rpos,
					    (gssize) mw_conn_pending(conn));
			mw_conn_consume(conn, mw_conn_pending(conn));
		}
	}
	mw_conn_free(conn);
	const char *body = strstr(page->str, "\r\n\r\n");
	return body != NULL ? g_strdup(body + 4) : NULL;
}

/* cmd_status - is it healthy? listeners greet, the downstream greets */
static int
cmd_status(const MwConfig *config)
{
	gboolean healthy = TRUE;
	for (guint i = 0; config->listen[i] != NULL; i++) {
		g_autofree char *text = NULL;
		gboolean ok = probe_smtp(config->listen[i], 5, &text);
		g_strdelimit(text, "\r\n", ' ');
		printf("listener   %-24s %s  %s\n", config->listen[i], ok ? "ok  " : "FAIL", text);
		healthy &= ok;
	}
	g_autofree char *down = NULL;
	gboolean down_ok = probe_smtp(config->reinject, 5, &down);
	g_strdelimit(down, "\r\n", ' ');
	printf("downstream %-24s %s  %s\n", config->reinject, down_ok ? "ok  " : "FAIL", down);
	healthy &= down_ok;

	g_autofree char *qdir = g_build_filename(config->state_dir, "quarantine", NULL);
	guint quarantined = 0;
	g_autoptr(GDir) dir = g_dir_open(qdir, 0, NULL);
	for (const char *name = dir != NULL ? g_dir_read_name(dir) : NULL; name != NULL;
	     name = g_dir_read_name(dir))
		quarantined += g_str_has_suffix(name, ".eml");
	printf("quarantine %-24s %u message(s)\n", qdir, quarantined);
	g_autofree char *modules = g_strjoinv(", ", config->modules);
	printf("modules    %s\n", *modules != '\0' ? modules : "(none)");

	if (config->metrics != NULL && *config->metrics != '\0') {
		g_autofree char *page = fetch_metrics(config->metrics, 5);
		if (page == NULL) {
			printf("metrics    %-24s FAIL  no answer\n", config->metrics);
			healthy = FALSE;
		} else {
			g_auto(GStrv) lines = g_strsplit(page, "\n", -1);
			for (guint i = 0; lines[i] != NULL; i++) {
				const char *l = lines[i];
				if (g_str_has_prefix(l, "mailwarden_workers ") ||
				    g_str_has_prefix(l, "mailwarden_messages_total{") ||
				    g_str_has_prefix(l, "mailwarden_downstream_failures_total ") ||
				    g_str_has_prefix(l, "mailwarden_worker_restarts_total "))
					printf("metrics    %s\n", l + strlen("mailwarden_"));
			}
		}
	}
	printf("%s\n", healthy ? "healthy" : "NOT HEALTHY");
	return healthy ? 0 : 2;
}

int
mw_cli_command(const MwConfig *config, int argc, char **argv)
{
	if (g_str_equal(argv[0], "scan"))
		return cmd_scan(config, argc, argv);
	if (g_str_equal(argv[0], "release"))
		return cmd_release(config, argc, argv);
	if (g_str_equal(argv[0], "status"))
		return cmd_status(config);
	/* a module's own command ("learn"), if a configured module knows it */
	for (guint i = 0; i < config->pipeline->len; i++) {
		MwModule *module = g_ptr_array_index(config->pipeline, i);
		int exit_code = 1;
		if (module->klass->command != NULL &&
		    module->klass->command(module, argc, argv, &exit_code))
			return exit_code;
	}
	fprintf(stderr, "mailwarden: unknown command '%s' (try --help)\n", argv[0]);
	return 1;
}
