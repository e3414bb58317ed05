/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-spam-bayes - naive-Bayes token store and classifier (SQLite)
 * SYNOPSIS
 *	mw_spam_bayes_open, mw_spam_bayes_close, mw_spam_bayes_tokens,
 *	mw_spam_bayes_counts, mw_spam_bayes_classify, mw_spam_bayes_learn,
 *	mw_spam_bayes_begin, mw_spam_bayes_commit
 * DESCRIPTION
 *	Tokens are the words of the Subject (prefixed "s:"), of the decoded
 *	text ("w:"), the hosts of its links ("u:") and the sender's domain
 *	("f:"), lower-cased, 3 to 24 characters, each counted once per
 *	message. The store keeps per token a 64-bit FNV-1a hash (SpamAssassin
 *	keeps a 40-bit SHA-1 prefix for the same reason: small, fixed-size
 *	keys) with its spam and ham message counts, the totals, and the ids of
 *	learnt messages (so learning a message twice counts once, and learning
 *	it with the other label moves it over).
 *
 *	Classification is Gary Robinson's: per token
 *	f = (s*x + n*p) / (s + n) with p = (spam/nspam) / (spam/nspam + ham/nham),
 *	s = 1, x = 0.5; the up to 150 tokens furthest from 0.5 (at least 0.1
 *	away) are combined with Fisher's chi-square method as SpamBayes does.
 *
 *	Concurrency: WAL journal (readers never block the writer nor each
 *	other) and a busy timeout; every worker has its own connection, opened
 *	after the fork (an SQLite handle must not cross a fork).
 */
#include <math.h>
#include <sqlite3.h>
#include <string.h>

#include "mw-error.h"
#include "mw-spam-bayes.h"

#define MAX_CLUES       150
#define MIN_STRENGTH    0.1
#define ROBINSON_S      1.0
#define ROBINSON_X      0.5
#define BUSY_TIMEOUT_MS 10000
#define TOKEN_MIN_CHARS 3
#define TOKEN_MAX_CHARS 24

struct _MwSpamBayes {
	sqlite3 *db;
	sqlite3_stmt *get_token;
	sqlite3_stmt *get_count;
};

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS tokens(id INTEGER PRIMARY KEY, spam INTEGER NOT NULL DEFAULT 0,"
	" ham INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE IF NOT EXISTS seen(id TEXT PRIMARY KEY, spam INTEGER NOT NULL);"
	"INSERT OR IGNORE INTO meta VALUES('nspam', 0);"
	"INSERT OR IGNORE INTO meta VALUES('nham', 0);"
	"INSERT OR IGNORE INTO meta VALUES('version', 1);";

/* db_error - set @error from the connection's last error */
static gboolean
db_error(MwSpamBayes *bayes, const char *what, GError **error)
{
	g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "bayes store: %s: %s", what,
		    bayes->db != NULL ? sqlite3_errmsg(bayes->db) : "no connection");
	return FALSE;
}

/* exec - run SQL without results */
static gboolean
exec(MwSpamBayes *bayes, const char *sql, GError **error)
{
	char *message = NULL;
	if (sqlite3_exec(bayes->db, sql, NULL, NULL, &message) != SQLITE_OK) {
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "bayes store: %s",
			    message != NULL ? message : "error");
		sqlite3_free(message);
		return FALSE;
	}
	return TRUE;
}

void
mw_spam_bayes_close(MwSpamBayes *bayes)
{
	if (bayes == NULL)
		return;
	sqlite3_finalize(bayes->get_token);
	sqlite3_finalize(bayes->get_count);
	sqlite3_close(bayes->db);
	g_free(bayes);
}

MwSpamBayes *
mw_spam_bayes_open(const char *path, gboolean create, GError **error)
{
	g_autoptr(MwSpamBayes) bayes = g_new0(MwSpamBayes, 1);
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
	if (sqlite3_open_v2(path, &bayes->db, flags, NULL) != SQLITE_OK) {
		db_error(bayes, path, error);
		return NULL;
	}
	sqlite3_busy_timeout(bayes->db, BUSY_TIMEOUT_MS);
	/* WAL is a property of the file: set once, kept */
	if (!exec(bayes, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", error))
		return NULL;
	if (create && !exec(bayes, schema, error))
		return NULL;
	if (sqlite3_prepare_v2(bayes->db, "SELECT spam, ham FROM tokens WHERE id = ?", -1,
			       &bayes->get_token, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(bayes->db, "SELECT value FROM meta WHERE key = ?", -1,
			       &bayes->get_count, NULL) != SQLITE_OK) {
		db_error(bayes, path, error);
		return NULL;
	}
	return g_steal_pointer(&bayes);
}

/* token_hash - 64-bit FNV-1a, stored as a signed SQLite integer */
static gint64
token_hash(const char *token)
{
	guint64 h = 14695981039346656037ULL;
	for (const guchar *p = (const guchar *) token; *p != '\0'; p++) {
		h ^= *p;
		h *= 1099511628211ULL;
	}
	return (gint64) h;
}

/* add_words - the words of @text, prefixed, into @set */
static void
add_words(GHashTable *set, const char *prefix, const char *text)
{
	const char *p = text;
	while (*p != '\0') {
		gunichar c = g_utf8_get_char(p);
		if (!g_unichar_isalnum(c) && c != '\'' && c != '$') {
			p = g_utf8_next_char(p);
			continue;
		}
		const char *start = p;
		glong chars = 0;
		gboolean digits_only = TRUE;
		while (*p != '\0') {
			c = g_utf8_get_char(p);
			if (!g_unichar_isalnum(c) && c != '\'' && c != '$')
				break;
			if (!g_unichar_isdigit(c))
				digits_only = FALSE;
			chars++;
			p = g_utf8_next_char(p);
		}
		if (chars < TOKEN_MIN_CHARS || chars > TOKEN_MAX_CHARS || digits_only)
			continue;
		g_autofree char *lower = g_utf8_strdown(start, p - start);
		g_hash_table_add(set, g_strconcat(prefix, lower, NULL));
	}
}

/* uri_host - the host part of @uri, lower-cased, or NULL */
static char *
uri_host(const char *uri)
{
	const char *p = strstr(uri, "://");
	p = p != NULL ? p + 3 : uri;
	const char *at = strpbrk(p, "@/?#");
	if (at != NULL && *at == '@')
		p = at + 1;
	gsize n = strcspn(p, ":/?#");
	return n > 0 ? g_ascii_strdown(p, (gssize) n) : NULL;
}

GHashTable *
mw_spam_bayes_tokens(const MwSpamText *text, const char *from_addr)
{
	GHashTable *set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	add_words(set, "s:", text->subject);
	/* the body starts with the subject line: skip it, the s: tokens have it */
	const char *body = text->body->str;
	const char *nl = strchr(body, '\n');
	add_words(set, "w:", nl != NULL ? nl + 1 : body);
	for (guint i = 0; i < text->uris->len; i++) {
		g_autofree char *host = uri_host(g_ptr_array_index(text->uris, i));
		if (host != NULL)
			g_hash_table_add(set, g_strconcat("u:", host, NULL));
	}
	if (from_addr != NULL) {
		const char *at = strrchr(from_addr, '@');
		if (at != NULL && at[1] != '\0')
			g_hash_table_add(set, g_strconcat("f:", at + 1, NULL));
	}
	return set;
}

/* get_meta - one counter of the meta table */
static gboolean
get_meta(MwSpamBayes *bayes, const char *key, gint64 *value_out, GError **error)
{
	sqlite3_reset(bayes->get_count);
	sqlite3_bind_text(bayes->get_count, 1, key, -1, SQLITE_STATIC);
	int rc = sqlite3_step(bayes->get_count);
	if (rc == SQLITE_ROW)
		*value_out = sqlite3_column_int64(bayes->get_count, 0);
	else if (rc == SQLITE_DONE)
		*value_out = 0;
	else
		return db_error(bayes, "read counts", error);
	sqlite3_reset(bayes->get_count);
	return TRUE;
}

gboolean
mw_spam_bayes_counts(MwSpamBayes *bayes, gint64 *nspam_out, gint64 *nham_out, GError **error)
{
	return get_meta(bayes, "nspam", nspam_out, error) &&
	       get_meta(bayes, "nham", nham_out, error);
}

/* chi2q - P(chi-square with @v degrees of freedom >= @x2), @v even (SpamBayes' chi2Q) */
static double
chi2q(double x2, int v)
{
	double m = x2 / 2.0;
	double sum = exp(-m), term = sum;
	for (int i = 1; i < v / 2; i++) {
		term *= m / i;
		sum += term;
	}
	return MIN(sum, 1.0);
}

/* compare_strength - sort clues by distance from 0.5, strongest first */
static gint
compare_strength(gconstpointer a, gconstpointer b)
{
	double fa = fabs(*(const double *) a - 0.5), fb = fabs(*(const double *) b - 0.5);
	return fa < fb ? 1 : fa > fb ? -1 : 0;
}

gboolean
mw_spam_bayes_classify(MwSpamBayes *bayes, GHashTable *tokens, double *prob_out, GError **error)
{
	*prob_out = 0.5;
	gint64 nspam, nham;
	/* one read transaction: a consistent snapshot, and faster */
	if (!exec(bayes, "BEGIN", error))
		return FALSE;
	if (!mw_spam_bayes_counts(bayes, &nspam, &nham, error)) {
		exec(bayes, "ROLLBACK", NULL);
		return FALSE;
	}
	if (nspam == 0 || nham == 0)
		return exec(bayes, "COMMIT", error);
	g_autoptr(GArray) clues = g_array_new(FALSE, FALSE, sizeof(double));
	GHashTableIter iter;
	gpointer key;
	g_hash_table_iter_init(&iter, tokens);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		sqlite3_reset(bayes->get_token);
		sqlite3_bind_int64(bayes->get_token, 1, token_hash(key));
		int rc = sqlite3_step(bayes->get_token);
		if (rc == SQLITE_DONE)
			continue;
		if (rc != SQLITE_ROW) {
			db_error(bayes, "read tokens", error);
			exec(bayes, "ROLLBACK", NULL);
			return FALSE;
		}
		double s = (double) sqlite3_column_int64(bayes->get_token, 0);
		double h = (double) sqlite3_column_int64(bayes->get_token, 1);
		if (s + h <= 0)
			continue;
		double ps = s / (double) nspam, ph = h / (double) nham;
		double p = ps / (ps + ph);
		double n = s + h;
		double f = (ROBINSON_S * ROBINSON_X + n * p) / (ROBINSON_S + n);
		if (fabs(f - 0.5) >= MIN_STRENGTH)
			g_array_append_val(clues, f);
	}
	sqlite3_reset(bayes->get_token);
	if (!exec(bayes, "COMMIT", error))
		return FALSE;
	if (clues->len == 0)
		return TRUE;
	g_array_sort(clues, compare_strength);
	guint n = MIN(clues->len, MAX_CLUES);
	double ln_spam = 0, ln_ham = 0;
	for (guint i = 0; i < n; i++) {
		double f = CLAMP(g_array_index(clues, double, i), 1e-6, 1 - 1e-6);
		ln_ham += log(f);
		ln_spam += log(1.0 - f);
	}
	double spamminess = 1.0 - chi2q(-2.0 * ln_spam, 2 * (int) n);
	double hamminess = 1.0 - chi2q(-2.0 * ln_ham, 2 * (int) n);
	*prob_out = CLAMP((spamminess - hamminess + 1.0) / 2.0, 0.0, 1.0);
	return TRUE;
}

gboolean
mw_spam_bayes_begin(MwSpamBayes *bayes, GError **error)
{
	/* IMMEDIATE: take the write lock now, not halfway through (no deadlock with readers) */
	return exec(bayes, "BEGIN IMMEDIATE", error);
}

gboolean
mw_spam_bayes_commit(MwSpamBayes *bayes, GError **error)
{
	return exec(bayes, "COMMIT", error);
}

/* update_tokens - add @delta to the spam or ham count of every token, and to the total */
static gboolean
update_tokens(MwSpamBayes *bayes, GHashTable *tokens, gboolean spam, int delta, GError **error)
{
	const char *sql = spam ? "INSERT INTO tokens(id, spam, ham) VALUES(?1, MAX(?2, 0), 0) "
				 "ON CONFLICT(id) DO UPDATE SET spam = MAX(spam + ?2, 0)"
			       : "INSERT INTO tokens(id, spam, ham) VALUES(?1, 0, MAX(?2, 0)) "
				 "ON CONFLICT(id) DO UPDATE SET ham = MAX(ham + ?2, 0)";
	sqlite3_stmt *stmt = NULL;
	if (sqlite3_prepare_v2(bayes->db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return db_error(bayes, "update tokens", error);
	GHashTableIter iter;
	gpointer key;
	g_hash_table_iter_init(&iter, tokens);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		sqlite3_reset(stmt);
		sqlite3_bind_int64(stmt, 1, token_hash(key));
		sqlite3_bind_int(stmt, 2, delta);
		if (sqlite3_step(stmt) != SQLITE_DONE) {
			sqlite3_finalize(stmt);
			return db_error(bayes, "update tokens", error);
		}
	}
	sqlite3_finalize(stmt);
	g_autofree char *meta =
		g_strdup_printf("UPDATE meta SET value = MAX(value + %d, 0) WHERE key = '%s'",
				delta, spam ? "nspam" : "nham");
	return exec(bayes, meta, error);
}

/* seen_label - 1 spam, 0 ham, -1 not seen, -2 error */
static int
seen_label(MwSpamBayes *bayes, const char *id, GError **error)
{
	sqlite3_stmt *stmt = NULL;
	if (sqlite3_prepare_v2(bayes->db, "SELECT spam FROM seen WHERE id = ?", -1, &stmt, NULL) !=
	    SQLITE_OK) {
		db_error(bayes, "read seen", error);
		return -2;
	}
	sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(stmt);
	int label = rc == SQLITE_ROW ? sqlite3_column_int(stmt, 0) : rc == SQLITE_DONE ? -1 : -2;
	sqlite3_finalize(stmt);
	if (label == -2)
		db_error(bayes, "read seen", error);
	return label;
}

gboolean
mw_spam_bayes_learn(MwSpamBayes *bayes, GHashTable *tokens, const char *id, gboolean spam,
		    MwSpamLearnResult *result_out, GError **error)
{
	int label = seen_label(bayes, id, error);
	if (label == -2)
		return FALSE;
	if (label == (spam ? 1 : 0)) {
		*result_out = MW_SPAM_LEARN_KNOWN;
		return TRUE;
	}
	*result_out = MW_SPAM_LEARN_NEW;
	if (label >= 0) {
		/* learnt with the other label: take it out of that side first */
		if (!update_tokens(bayes, tokens, label == 1, -1, error))
			return FALSE;
		*result_out = MW_SPAM_LEARN_RELABELED;
	}
	if (!update_tokens(bayes, tokens, spam, 1, error))
		return FALSE;
	sqlite3_stmt *stmt = NULL;
	if (sqlite3_prepare_v2(bayes->db, "INSERT OR REPLACE INTO seen(id, spam) VALUES(?, ?)", -1,
			       &stmt, NULL) != SQLITE_OK)
		return db_error(bayes, "write seen", error);
	sqlite3_bind_text(stmt, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int(stmt, 2, spam ? 1 : 0);
	int rc = sqlite3_step(stmt);
	sqlite3_finalize(stmt);
	if (rc != SQLITE_DONE)
		return db_error(bayes, "write seen", error);
	return TRUE;
}
