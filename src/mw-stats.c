/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-stats - shared counters and the Prometheus text page
 * SYNOPSIS
 *	mw_stats_init, mw_stats_record, mw_stats_module_time,
 *	mw_stats_connection, mw_stats_downstream_failure,
 *	mw_stats_worker_restart, mw_stats_set_workers, mw_stats_format
 * DESCRIPTION
 *	One anonymous shared mapping, created by the master before it forks,
 *	holds every counter. Workers add with atomic builtins; the master
 *	reads them to answer the metrics page. Without mw_stats_init (scan,
 *	tests) the counters live in a process-private static block, so the
 *	recording calls are always safe.
 */
#include <string.h>
#include <sys/mman.h>

#include "mw-module.h"
#include "mw-stats.h"

#define MAX_MODULES 64
#define N_BUCKETS   10
#define N_ACTIONS   8

/* upper bounds of the time histogram buckets, seconds */
static const double bucket_le[N_BUCKETS] = {0.001, 0.0025, 0.005, 0.01, 0.025,
					    0.05,  0.1,    0.25,  1,    5};
static const char *const actions[N_ACTIONS] = {
	"delivered", "delivered+bounced", "discarded", "quarantined",
	"consumed",  "rejected",          "deferred",  "other"};

typedef struct {
	guint64 count;
	guint64 sum_us;
	guint64 buckets[N_BUCKETS];
} Histogram;

typedef struct {
	guint64 connections;
	guint64 messages[N_ACTIONS];
	guint64 downstream_failures;
	guint64 worker_restarts;
	guint64 workers;
	Histogram message_time;
	guint64 module_verdicts[MAX_MODULES][MW_VERDICT_TEMPFAIL + 1];
	guint64 module_errors[MAX_MODULES];
	Histogram module_time[MAX_MODULES];
} Stats;

/* the shared block; a private fallback until mw_stats_init maps one */
static Stats private_stats;
static Stats *stats = &private_stats;

gboolean
mw_stats_init(void)
{
	void *p = mmap(NULL, sizeof(Stats), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
		       0);
	if (p == MAP_FAILED)
		return FALSE;
	memset(p, 0, sizeof(Stats));
	stats = p;
	return TRUE;
}

static void
add(guint64 *counter, guint64 n)
{
	__atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

static void
observe(Histogram *h, gint64 us)
{
	add(&h->count, 1);
	add(&h->sum_us, (guint64) MAX(us, 0));
	for (guint i = 0; i < N_BUCKETS; i++) {
		if ((double) us / G_USEC_PER_SEC <= bucket_le[i]) {
			add(&h->buckets[i], 1);
			break;
		}
	}
}

/* module_slot - the registry position of @name, or -1 */
static int
module_slot(const char *name)
{
	const MwModuleClass *const *all = mw_registry_get();
	for (int i = 0; i < MAX_MODULES && all[i] != NULL; i++) {
		if (g_str_equal(all[i]->name, name))
			return i;
	}
	return -1;
}

void
mw_stats_record(const MwTxn *txn, const MwOutcome *outcome, gint64 elapsed_us)
{
	int a = N_ACTIONS - 1;
	for (int i = 0; i < N_ACTIONS; i++) {
		if (g_strcmp0(outcome->reply.action, actions[i]) == 0)
			a = i;
	}
	add(&stats->messages[a], 1);
	observe(&stats->message_time, elapsed_us);
	for (guint i = 0; i < txn->rcpts->len; i++) {
		const MwTxnRcpt *rcpt = g_ptr_array_index(txn->rcpts, i);
		int slot = rcpt->by != NULL ? module_slot(rcpt->by) : -1;
		if (slot >= 0 && rcpt->verdict <= MW_VERDICT_TEMPFAIL)
			add(&stats->module_verdicts[slot][rcpt->verdict], 1);
	}
}

void
mw_stats_module_time(const char *module, gint64 elapsed_us, gboolean failed)
{
	int slot = module_slot(module);
	if (slot < 0)
		return;
	observe(&stats->module_time[slot], elapsed_us);
	if (failed)
		add(&stats->module_errors[slot], 1);
}

void
mw_stats_connection(void)
{
	add(&stats->connections, 1);
}

void
mw_stats_downstream_failure(void)
{
	add(&stats->downstream_failures, 1);
}

void
mw_stats_worker_restart(void)
{
	add(&stats->worker_restarts, 1);
}

void
mw_stats_set_workers(guint n)
{
	__atomic_store_n(&stats->workers, n, __ATOMIC_RELAXED);
}

static guint64
get(const guint64 *counter)
{
	return __atomic_load_n(counter, __ATOMIC_RELAXED);
}

/* format_histogram - one Prometheus histogram with @labels ("" or "module=\"x\"") */
static void
format_histogram(GString *out, const char *name, const char *labels, const Histogram *h)
{
	guint64 cumulative = 0;
	const char *sep = *labels != '\0' ? "," : "";
	for (guint i = 0; i < N_BUCKETS; i++) {
		cumulative += get(&h->buckets[i]);
		g_string_append_printf(out, "%s_bucket{%s%sle=\"%g\"} %" G_GUINT64_FORMAT "\n",
				       name, labels, sep, bucket_le[i], cumulative);
	}
	g_string_append_printf(out, "%s_bucket{%s%sle=\"+Inf\"} %" G_GUINT64_FORMAT "\n", name,
			       labels, sep, get(&h->count));
	g_string_append_printf(out, "%s_sum{%s} %.6f\n", name, labels,
			       (double) get(&h->sum_us) / G_USEC_PER_SEC);
	g_string_append_printf(out, "%s_count{%s} %" G_GUINT64_FORMAT "\n", name, labels,
			       get(&h->count));
}

char *
mw_stats_format(void)
{
	GString *out = g_string_new(NULL);
	g_string_append(out, "# HELP mailwarden_up The daemon answers.\n"
			     "# TYPE mailwarden_up gauge\nmailwarden_up 1\n");
	g_string_append_printf(
		out,
		"# HELP mailwarden_workers Worker processes running.\n"
		"# TYPE mailwarden_workers gauge\nmailwarden_workers %" G_GUINT64_FORMAT "\n",
		get(&stats->workers));
	g_string_append_printf(out,
			       "# HELP mailwarden_connections_total SMTP connections accepted.\n"
			       "# TYPE mailwarden_connections_total counter\n"
			       "mailwarden_connections_total %" G_GUINT64_FORMAT "\n",
			       get(&stats->connections));
	g_string_append(out, "# HELP mailwarden_messages_total Messages by final action.\n"
			     "# TYPE mailwarden_messages_total counter\n");
	for (int i = 0; i < N_ACTIONS; i++)
		g_string_append_printf(
			out, "mailwarden_messages_total{action=\"%s\"} %" G_GUINT64_FORMAT "\n",
			actions[i], get(&stats->messages[i]));
	g_string_append(out,
			"# HELP mailwarden_message_duration_seconds Time from the end of DATA "
			"to the reply.\n# TYPE mailwarden_message_duration_seconds histogram\n");
	format_histogram(out, "mailwarden_message_duration_seconds", "", &stats->message_time);
	g_string_append_printf(out,
			       "# HELP mailwarden_downstream_failures_total Reinjection failures.\n"
			       "# TYPE mailwarden_downstream_failures_total counter\n"
			       "mailwarden_downstream_failures_total %" G_GUINT64_FORMAT "\n",
			       get(&stats->downstream_failures));
	g_string_append_printf(out,
			       "# HELP mailwarden_worker_restarts_total Workers that died and were "
			       "replaced.\n# TYPE mailwarden_worker_restarts_total counter\n"
			       "mailwarden_worker_restarts_total %" G_GUINT64_FORMAT "\n",
			       get(&stats->worker_restarts));
	const MwModuleClass *const *all = mw_registry_get();
	g_string_append(out, "# HELP mailwarden_module_verdicts_total Recipients given a verdict, "
			     "by module.\n# TYPE mailwarden_module_verdicts_total counter\n");
	for (int m = 0; m < MAX_MODULES && all[m] != NULL; m++) {
		for (int v = MW_VERDICT_CONSUMED; v <= MW_VERDICT_TEMPFAIL; v++)
			g_string_append_printf(
				out,
				"mailwarden_module_verdicts_total{module=\"%s\",verdict=\"%s\"} "
				"%" G_GUINT64_FORMAT "\n",
				all[m]->name, mw_verdict_names[v],
				get(&stats->module_verdicts[m][v]));
	}
	g_string_append(out, "# HELP mailwarden_module_errors_total Times a module could not do "
			     "its job.\n# TYPE mailwarden_module_errors_total counter\n");
	for (int m = 0; m < MAX_MODULES && all[m] != NULL; m++)
		g_string_append_printf(out,
				       "mailwarden_module_errors_total{module=\"%s\"} "
				       "%" G_GUINT64_FORMAT "\n",
				       all[m]->name, get(&stats->module_errors[m]));
	g_string_append(out, "# HELP mailwarden_module_duration_seconds Time per module and "
			     "message.\n# TYPE mailwarden_module_duration_seconds histogram\n");
	for (int m = 0; m < MAX_MODULES && all[m] != NULL; m++) {
		g_autofree char *labels = g_strdup_printf("module=\"%s\"", all[m]->name);
		format_histogram(out, "mailwarden_module_duration_seconds", labels,
				 &stats->module_time[m]);
	}
	return g_string_free(out, FALSE);
}
