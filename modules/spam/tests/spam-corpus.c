/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	spam-corpus - a generated labeled set of spam-like and ham-like messages
 * SYNOPSIS
 *	spam_corpus_message, spam_corpus_write
 * DESCRIPTION
 *	Each message has 40 to 120 words: about half from a vocabulary both
 *	classes share (function words, office words), the rest from its own
 *	class's vocabulary, with 15% of those swapped for the other class's
 *	words so neither class is trivially separable, and varying senders,
 *	subjects and a link now and then. Every message is fully determined
 *	by its label and number (GRand seeded from them), so a run is
 *	repeatable. It stands in for real mail where none ships with Debian;
 *	the suite also measures on the public SpamAssassin corpus when
 *	MW_SPAM_CORPUS names it (README.md).
 */
#include <glib/gstdio.h>
#include <stdio.h>

#include "spam-corpus.h"

static const char *const common[] = {
	"the",  "and",         "you",   "your",   "for",   "this", "that",   "with",
	"have", "from",        "will",  "please", "today", "time", "just",   "about",
	"more", "information", "email", "here",   "we",    "our",  "all",    "new",
	"one",  "get",         "can",   "if",     "now",   "week", "thanks", "good",
	"team", "also",        "only",  "see",    "would", "like", "know",   "make",
};
static const char *const spammy[] = {
	"offer",     "cheap",        "pills",       "winner",      "casino",
	"bonus",     "guaranteed",   "discount",    "credit",      "loan",
	"viagra",    "luxury",       "replica",     "watches",     "prize",
	"claim",     "lottery",      "investment",  "profit",      "bitcoin",
	"unsecured", "mortgage",     "refinance",   "weight",      "diet",
	"miracle",   "exclusive",    "limited",     "urgent",      "congratulations",
	"selected",  "million",      "dollars",     "transfer",    "beneficiary",
	"pharmacy",  "prescription", "unsubscribe", "subscribers", "satisfaction",
	"risk",      "income",       "opportunity", "click",       "deal",
	"save",      "order",        "instantly",
};
static const char *const hammy[] = {
	"meeting",    "agenda",   "project",  "schedule", "review",   "patch",     "kernel",
	"release",    "build",    "commit",   "branch",   "merge",    "compiler",  "minutes",
	"report",     "budget",   "draft",    "document", "slides",   "lunch",     "tomorrow",
	"colleague",  "thesis",   "seminar",  "library",  "database", "server",    "backup",
	"invoice",    "contract", "holiday",  "family",   "weekend",  "dinner",    "birthday",
	"conference", "paper",    "deadline", "feedback", "question", "attached",  "regards",
	"debian",     "package",  "upstream", "bug",      "tracker",  "changelog", "workshop",
};
static const char *const spam_senders[] = {"promo", "deals", "winner", "noreply", "info"};
static const char *const ham_senders[] = {"alice", "bob", "carol", "dave", "erin"};
static const char *const spam_domains[] = {"offers.example", "cheap-deals.example", "lucky.example",
					   "bulkmail.example"};
static const char *const ham_domains[] = {"example.org", "lists.example.net", "university.example"};

/* pick - a random element */
#define PICK(rand, array) (array)[g_rand_int_range((rand), 0, G_N_ELEMENTS(array))]

/* word - a word of the message's class, sometimes of the other class */
static const char *
word(GRand *rand, gboolean spam)
{
	int r = g_rand_int_range(rand, 0, 100);
	if (r < 50)
		return PICK(rand, common);
	gboolean own = r < 50 + 43; /* 43 of 50: about 15% of the class words are swapped */
	return (spam == own) ? PICK(rand, spammy) : PICK(rand, hammy);
}

char *
spam_corpus_message(gboolean spam, guint n)
{
	GRand *rand = g_rand_new_with_seed(n * 2 + (spam ? 1 : 0));
	GString *msg = g_string_new(NULL);
	g_string_append_printf(msg, "From: %s%u@%s\r\n",
			       spam ? PICK(rand, spam_senders) : PICK(rand, ham_senders), n % 37,
			       spam ? PICK(rand, spam_domains) : PICK(rand, ham_domains));
	g_string_append(msg, "To: user@example.org\r\n");
	g_string_append_printf(msg, "Subject: %s %s %s\r\n", word(rand, spam), word(rand, spam),
			       word(rand, spam));
	g_string_append_printf(msg, "Message-ID: <%s-%u@corpus.example>\r\n", spam ? "s" : "h", n);
	g_string_append(msg, "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\n");
	int words = g_rand_int_range(rand, 40, 121);
	for (int i = 0; i < words; i++) {
		g_string_append(msg, word(rand, spam));
		g_string_append(msg, (i % 12 == 11) ? "\r\n" : " ");
	}
	if (g_rand_int_range(rand, 0, 3) == 0)
		g_string_append_printf(msg, "\r\nhttps://www.%s/%s\r\n",
				       spam ? PICK(rand, spam_domains) : PICK(rand, ham_domains),
				       word(rand, spam));
	g_string_append(msg, "\r\n");
	g_rand_free(rand);
	return g_string_free(msg, FALSE);
}

void
spam_corpus_write(const char *dir, gboolean spam, guint first, guint count)
{
	g_mkdir_with_parents(dir, 0755);
	for (guint n = first; n < first + count; n++) {
		g_autofree char *text = spam_corpus_message(spam, n);
		g_autofree char *name = g_strdup_printf("%04u.eml", n);
		g_autofree char *path = g_build_filename(dir, name, NULL);
		g_file_set_contents(path, text, -1, NULL);
	}
}
