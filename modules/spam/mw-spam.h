/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * The spam module's internal types: its typed config ([spam] section), the
 * result every engine produces (a score and a list of named tests) and the
 * module's private state. Only files of modules/spam include this.
 */
#include <resolv.h>

#include "mw-module.h"
#include "mw-config.h"
#include "mw-txn.h"

G_BEGIN_DECLS

typedef enum {
	MW_SPAM_ENGINE_BUILTIN = 0,
	MW_SPAM_ENGINE_SPAMD,
	MW_SPAM_ENGINE_RSPAMD,
} MwSpamEngine;

typedef enum {
	MW_SPAM_ACTION_DISCARD = 0,
	MW_SPAM_ACTION_REJECT,
	MW_SPAM_ACTION_QUARANTINE,
} MwSpamAction;

/* the [spam] section, filled by the option table in mw-spam.c */
typedef struct {
	int engine;
	char *rules;
	gboolean spf;
	double spf_pass_score;
	double spf_fail_score;
	double spf_softfail_score;
	char **dnsbl;
	gint64 dns_timeout;
	gboolean bayes;
	char *bayes_store;
	gint64 bayes_min_spam;
	gint64 bayes_min_ham;
	double bayes_spam_score;
	double bayes_ham_score;
	char *spamd;
	char *rspamd;
	gint64 timeout;
	guint64 max_size;
	double tag_level;
	double spam_level;
	double discard_level;
	int action;
	char *subject_tag;
	char **allow_from;
	char **allow_to;
	char **block_from;
	gboolean skip_outbound;
	char **trusted_networks;
} MwSpamConfig;

/* one named test that fired, with the score it contributed */
typedef struct {
	char *name;
	double score;
} MwSpamTest;

/**
 * MwSpamResult:
 * @score: the sum of the tests' scores (or the backend's total)
 * @tests: (element-type MwSpamTest): in the order they fired
 * @received_spf: (nullable): value of a Received-SPF header to add
 */
typedef struct {
	double score;
	GPtrArray *tests;
	char *received_spf;
} MwSpamResult;

void mw_spam_result_init(MwSpamResult *result);
void mw_spam_result_clear(MwSpamResult *result);
/* mw_spam_result_add - record a test and add its score */
void mw_spam_result_add(MwSpamResult *result, const char *name, double score);
/* mw_spam_result_has - whether test @name fired */
gboolean mw_spam_result_has(const MwSpamResult *result, const char *name);
/* mw_spam_result_names - "A,B,C" sorted by name, "none" when empty (X-Spam-Status style) */
char *mw_spam_result_names(const MwSpamResult *result);

typedef struct _MwSpamRules MwSpamRules;
typedef struct _MwSpamBayes MwSpamBayes;
typedef struct _MwSpamSpf MwSpamSpf;

/* one dnsbl= entry */
typedef struct {
	char *zone;
	char *test;
	double score;
} MwSpamDnsbl;

/**
 * MwSpam:
 * The module's private state (module->priv). The first part is built by
 * configure() in the master and shared read-only by the workers; the second
 * part is per worker process, opened by worker_init() (or on first use, for
 * the offline scan command) and closed by worker_exit().
 */
typedef struct {
	MwSpamRules *rules;   /* (nullable) */
	GPtrArray *dnsbl;     /* MwSpamDnsbl */
	GArray *trusted;      /* MwCidr */
	gboolean trust_local; /* "local" in trusted_networks: no client address */
	char *bayes_path;
	char *user; /* the core's user=, to hand a store created by root over */

	/* per worker */
	MwSpamSpf *spf;
	MwSpamBayes *bayes;
	struct __res_state resolver;
	gboolean resolver_ready;
} MwSpam;

#define MW_SPAM_GTUBE       "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
#define MW_SPAM_GTUBE_SCORE 1000.0

extern const MwModuleClass mw_spam_module;

/* mw_spam_learn_command - the "learn" command (mw-spam-learn.c) */
gboolean mw_spam_learn_command(MwModule *module, int argc, char **argv, int *exit_code);

/* mw_spam_open_bayes - the worker's store, opened (created) on first use */
MwSpamBayes *mw_spam_open_bayes(MwSpam *spam, gboolean create, GError **error);

G_END_DECLS
