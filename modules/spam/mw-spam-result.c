/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-spam-result - the score and named tests every engine produces
 * SYNOPSIS
 *	mw_spam_result_init, mw_spam_result_clear, mw_spam_result_add,
 *	mw_spam_result_has, mw_spam_result_names
 * DESCRIPTION
 *	The builtin engine adds its rules, SPF, DNSBL and Bayes tests one by
 *	one; spamd and rspamd fill the list from their reply and set the total
 *	they computed. The list is what X-Spam-Status names after tests=.
 */
#include <string.h>

#include "mw-spam.h"

static void
test_free(MwSpamTest *test)
{
	g_free(test->name);
	g_free(test);
}

void
mw_spam_result_init(MwSpamResult *result)
{
	memset(result, 0, sizeof *result);
	result->tests = g_ptr_array_new_with_free_func((GDestroyNotify) test_free);
}

void
mw_spam_result_clear(MwSpamResult *result)
{
	g_clear_pointer(&result->tests, g_ptr_array_unref);
	g_clear_pointer(&result->received_spf, g_free);
	result->score = 0;
}

void
mw_spam_result_add(MwSpamResult *result, const char *name, double score)
{
	MwSpamTest *test = g_new0(MwSpamTest, 1);
	test->name = g_strdup(name);
	test->score = score;
	g_ptr_array_add(result->tests, test);
	result->score += score;
}

gboolean
mw_spam_result_has(const MwSpamResult *result, const char *name)
{
	for (guint i = 0; i < result->tests->len; i++) {
		const MwSpamTest *test = g_ptr_array_index(result->tests, i);
		if (g_str_equal(test->name, name))
			return TRUE;
	}
	return FALSE;
}

/* compare_names - sort helper for g_ptr_array_sort over char * */
static gint
compare_names(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

char *
mw_spam_result_names(const MwSpamResult *result)
{
	if (result->tests->len == 0)
		return g_strdup("none");
	g_autoptr(GPtrArray) names = g_ptr_array_new();
	for (guint i = 0; i < result->tests->len; i++)
		g_ptr_array_add(names, ((MwSpamTest *) g_ptr_array_index(result->tests, i))->name);
	g_ptr_array_sort(names, compare_names);
	g_ptr_array_add(names, NULL);
	return g_strjoinv(",", (char **) names->pdata);
}
