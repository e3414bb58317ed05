/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-spam-learn - the "learn" command: train the Bayes store
 * SYNOPSIS
 *	mailwarden -c FILE learn --spam|--ham PATH...
 *	mw_spam_learn_command
 * DESCRIPTION
 *	Each PATH is a message file, or a folder whose regular files are each
 *	one message (a Maildir's cur/ and new/, an MH folder, a folder of
 *	.eml files), read recursively; dot files are skipped. A message is
 *	identified by its Message-ID (or, without one, a SHA-256 of its
 *	bytes): learning it again with the same label changes nothing,
 *	learning it with the other label moves it over. All messages of one
 *	run are learnt in one transaction (committed every 500 messages, so a
 *	long run does not hold the write lock for long); the daemon's workers
 *	keep reading meanwhile (WAL).
 *	When run as root and the config names a user=, the store's files are
 *	handed to that user, so the workers (which run as it) can still open it.
 *	Exit status: 0 ok, 1 usage, 2 a file or the store failed.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mw-error.h"
#include "mw-spam-bayes.h"
#include "mw-spam-text.h"
#include "mw-spam.h"

#define COMMIT_EVERY 500

typedef struct {
	MwSpamBayes *bayes;
	gsize max_size;
	gboolean spam;
	guint learnt;
	guint known;
	guint relabeled;
	guint failed;
	guint pending; /* learnt since the last commit */
} Learn;

/* message_id - the Message-ID, else a digest of the bytes */
static char *
message_id(GMimeMessage *mime, const char *data, gsize len)
{
	const char *id = mime != NULL ? g_mime_message_get_message_id(mime) : NULL;
	if (id != NULL && *id != '\0')
		return g_strdup_printf("mid:%s", id);
	g_autofree char *sum =
		g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *) data, len);
	return g_strdup_printf("sha256:%s", sum);
}

/* learn_file - learn one message file */
static gboolean
learn_file(Learn *learn, const char *path, GError **error)
{
	g_autofree char *data = NULL;
	gsize len = 0;
	if (!g_file_get_contents(path, &data, &len, error))
		return FALSE;
	/* a message saved from an mbox starts with a "From " line, which is no header */
	const char *start = data;
	if (len > 5 && g_str_has_prefix(data, "From ")) {
		const char *nl = memchr(data, '\n', len);
		start = nl != NULL ? nl + 1 : data + len;
	}
	gsize size = len - (gsize) (start - data);
	g_autoptr(MwMessage) msg = mw_message_new_from_bytes((const guint8 *) start, size);
	g_autoptr(GMimeMessage) mime = size > 0 ? mw_message_parse_mime(msg, NULL) : NULL;
	if (mime == NULL ||
	    g_mime_header_list_get_count(g_mime_object_get_header_list(GMIME_OBJECT(mime))) == 0) {
		g_set_error(error, MW_ERROR, MW_ERROR_IO, "%s: not a message", path);
		return FALSE;
	}
	g_autoptr(MwSpamText) text = mw_spam_text_new(mime, learn->max_size);
	const char *from = NULL;
	InternetAddressList *list = g_mime_message_get_from(mime);
	if (list != NULL && internet_address_list_length(list) > 0) {
		InternetAddress *ia = internet_address_list_get_address(list, 0);
		if (INTERNET_ADDRESS_IS_MAILBOX(ia))
			from = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
	}
	g_autoptr(GHashTable) tokens = mw_spam_bayes_tokens(text, from);
	g_autofree char *id = message_id(mime, start, size);
	MwSpamLearnResult result;
	if (!mw_spam_bayes_learn(learn->bayes, tokens, id, learn->spam, &result, error))
		return FALSE;
	switch (result) {
	case MW_SPAM_LEARN_KNOWN:
		learn->known++;
		break;
	case MW_SPAM_LEARN_RELABELED:
		learn->relabeled++;
		learn->pending++;
		break;
	default:
		learn->learnt++;
		learn->pending++;
		break;
	}
	if (learn->pending >= COMMIT_EVERY) {
		learn->pending = 0;
		if (!mw_spam_bayes_commit(learn->bayes, error) ||
		    !mw_spam_bayes_begin(learn->bayes, error))
			return FALSE;
	}
	return TRUE;
}

/* learn_path - a file, or every regular file below a folder (sorted, for repeatable runs) */
static gboolean
learn_path(Learn *learn, const char *path, GError **error)
{
	if (!g_file_test(path, G_FILE_TEST_IS_DIR)) {
		g_autoptr(GError) file_error = NULL;
		if (!learn_file(learn, path, &file_error)) {
			if (file_error->domain == MW_ERROR &&
			    file_error->code == MW_ERROR_BACKEND) {
				g_propagate_error(error, g_steal_pointer(&file_error));
				return FALSE;
			}
			fprintf(stderr, "mailwarden learn: %s\n", file_error->message);
			learn->failed++;
		}
		return TRUE;
	}
	g_autoptr(GDir) dir = g_dir_open(path, 0, error);
	if (dir == NULL)
		return FALSE;
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	const char *name;
	while ((name = g_dir_read_name(dir)) != NULL) {
		if (name[0] != '.')
			g_ptr_array_add(names, g_strdup(name));
	}
	g_ptr_array_sort(names, (GCompareFunc) g_ascii_strcasecmp);
	for (guint i = 0; i < names->len; i++) {
		g_autofree char *child = g_build_filename(path, g_ptr_array_index(names, i), NULL);
		if (!g_file_test(child, G_FILE_TEST_IS_DIR) &&
		    !g_file_test(child, G_FILE_TEST_IS_REGULAR))
			continue;
		if (!learn_path(learn, child, error))
			return FALSE;
	}
	return TRUE;
}

/* hand_over - give the store's files to @user (learn ran as root, the workers do not) */
static void
hand_over(const char *store, const char *user)
{
	if (getuid() != 0 || user == NULL || *user == '\0')
		return;
	struct passwd *pw = getpwnam(user);
	if (pw == NULL)
		return;
	const char *suffixes[] = {"", "-wal", "-shm"};
	for (guint i = 0; i < G_N_ELEMENTS(suffixes); i++) {
		g_autofree char *path = g_strconcat(store, suffixes[i], NULL);
		if (chown(path, pw->pw_uid, pw->pw_gid) < 0 && errno != ENOENT)
			fprintf(stderr, "mailwarden learn: cannot chown %s: %s\n", path,
				g_strerror(errno));
	}
}

gboolean
mw_spam_learn_command(MwModule *module, int argc, char **argv, int *exit_code)
{
	if (argc < 1 || !g_str_equal(argv[0], "learn"))
		return FALSE;
	const MwSpamConfig *cfg = module->config;
	MwSpam *spam = module->priv;
	gboolean as_spam = FALSE, as_ham = FALSE;
	GOptionEntry entries[] = {
		{"spam", 0, 0, G_OPTION_ARG_NONE, &as_spam, "the messages are spam", NULL},
		{"ham", 0, 0, G_OPTION_ARG_NONE, &as_ham, "the messages are not spam", NULL},
		{NULL}};
	g_autoptr(GOptionContext) context =
		g_option_context_new("PATH... - train the spam module's Bayes store");
	g_option_context_add_main_entries(context, entries, NULL);
	g_autoptr(GError) error = NULL;
	if (!g_option_context_parse(context, &argc, &argv, &error) || as_spam == as_ham ||
	    argc < 2) {
		fprintf(stderr, "usage: mailwarden -c FILE learn --spam|--ham PATH...%s%s\n",
			error != NULL ? ": " : "", error != NULL ? error->message : "");
		*exit_code = 1;
		return TRUE;
	}
	g_autoptr(MwSpamBayes) bayes = mw_spam_bayes_open(spam->bayes_path, TRUE, &error);
	if (bayes == NULL || !mw_spam_bayes_begin(bayes, &error)) {
		fprintf(stderr, "mailwarden learn: %s\n", error->message);
		*exit_code = 2;
		return TRUE;
	}
	Learn learn = {bayes, (gsize) cfg->max_size, as_spam, 0, 0, 0, 0, 0};
	gboolean ok = TRUE;
	for (int i = 1; i < argc && ok; i++)
		ok = learn_path(&learn, argv[i], &error);
	if (ok)
		ok = mw_spam_bayes_commit(bayes, &error);
	gint64 nspam = 0, nham = 0;
	if (ok)
		ok = mw_spam_bayes_counts(bayes, &nspam, &nham, &error);
	g_clear_pointer(&bayes, mw_spam_bayes_close);
	hand_over(spam->bayes_path, spam->user);
	if (!ok) {
		fprintf(stderr, "mailwarden learn: %s\n", error->message);
		*exit_code = 2;
		return TRUE;
	}
	printf("learnt %u %s message(s), %u already known, %u relabeled, %u unreadable; "
	       "the store has %" G_GINT64_FORMAT " spam and %" G_GINT64_FORMAT " ham (Bayes counts "
	       "from %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT ")\n",
	       learn.learnt, as_spam ? "spam" : "ham", learn.known, learn.relabeled, learn.failed,
	       nspam, nham, cfg->bayes_min_spam, cfg->bayes_min_ham);
	*exit_code = learn.failed > 0 ? 2 : 0;
	return TRUE;
}
