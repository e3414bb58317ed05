/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-unit - invitation policy names, sender filters, evaluation order
 * SYNOPSIS
 *	mod-invitations-unit
 * DESCRIPTION
 *	Every §4.1 name maps to its bits; the §4.2 examples of Wallace's unit
 *	tests give the same ordered lists; a domain filter matches the domain
 *	and its subdomains but not a longer name ending the same way; the
 *	users of a directory file with their policies and aliases.
 */
#include <check.h>
#include <string.h>

#include "mw-invitations.h"

/* match - the action bits (type bits masked off) of @policy for @sender */
static GArray *
match(const char *policy, const char *sender, guint type)
{
	g_auto(GStrv) values = g_strsplit(policy, ",", -1);
	return mw_inv_policy_match((const char *const *) values, sender, type);
}

/* assert_actions - @got holds exactly the NULL-terminated... expected action bit sets */
static void
assert_actions(GArray *got, guint n, const guint *expected)
{
	ck_assert_uint_eq(got->len, n);
	for (guint i = 0; i < n; i++)
		ck_assert_uint_eq(g_array_index(got, guint, i) & ~MW_INV_TYPE_ALL, expected[i]);
}

START_TEST(test_names)
{
	ck_assert_uint_eq(mw_inv_policy_bits("ALL_MANUAL"), MW_INV_MANUAL | MW_INV_TYPE_ALL);
	ck_assert_uint_eq(mw_inv_policy_bits("act_manual"), MW_INV_MANUAL | MW_INV_TYPE_ALL);
	ck_assert_uint_eq(mw_inv_policy_bits("ACT_ACCEPT"), MW_INV_ACCEPT | MW_INV_TYPE_ALL);
	ck_assert_uint_eq(mw_inv_policy_bits("ALL_UPDATE_AND_NOTIFY"),
			  MW_INV_UPDATE | MW_INV_NOTIFY | MW_INV_TYPE_ALL);
	ck_assert_uint_eq(mw_inv_policy_bits("ACT_CANCEL_DELETE_AND_NOTIFY"),
			  MW_INV_CANCEL_DELETE | MW_INV_NOTIFY | MW_INV_TYPE_ALL);
	ck_assert_uint_eq(mw_inv_policy_bits("ALL_SAVE_AND_FORWARD"),
			  MW_INV_SAVE_TO_FOLDER | MW_INV_FORWARD | MW_INV_TYPE_ALL);
	ck_assert_uint_eq(mw_inv_policy_bits("EVENT_TENTATIVE"),
			  MW_INV_ACCEPT | MW_INV_TENTATIVE | MW_INV_TYPE_EVENT);
	ck_assert_uint_eq(mw_inv_policy_bits("ACT_TENTATIVE"),
			  MW_INV_ACCEPT | MW_INV_TENTATIVE | MW_INV_TYPE_EVENT);
	ck_assert_uint_eq(mw_inv_policy_bits("EVENT_ACCEPT_IF_NO_CONFLICT"),
			  MW_INV_ACCEPT | MW_INV_IF_AVAILABLE | MW_INV_TYPE_EVENT);
	ck_assert_uint_eq(mw_inv_policy_bits("ACT_TENTATIVE_IF_NO_CONFLICT"),
			  MW_INV_ACCEPT | MW_INV_TENTATIVE | MW_INV_IF_AVAILABLE |
				  MW_INV_TYPE_EVENT);
	ck_assert_uint_eq(mw_inv_policy_bits("ACT_REJECT_IF_CONFLICT"),
			  MW_INV_REJECT | MW_INV_IF_CONFLICT | MW_INV_TYPE_EVENT);
	ck_assert_uint_eq(mw_inv_policy_bits("EVENT_DELEGATE_IF_CONFLICT"),
			  MW_INV_DELEGATE | MW_INV_IF_CONFLICT | MW_INV_TYPE_EVENT);
	ck_assert_uint_eq(mw_inv_policy_bits("ACT_SAVE_TO_CALENDAR"),
			  MW_INV_SAVE_TO_FOLDER | MW_INV_TYPE_EVENT);
	ck_assert_uint_eq(mw_inv_policy_bits("ACT_SAVE_AND_FORWARD"),
			  MW_INV_SAVE_TO_FOLDER | MW_INV_FORWARD | MW_INV_TYPE_EVENT);
	ck_assert_uint_eq(mw_inv_policy_bits("TASK_REJECT"), MW_INV_REJECT | MW_INV_TYPE_TASK);
	ck_assert_uint_eq(mw_inv_policy_bits("TASK_UPDATE_AND_NOTIFY"),
			  MW_INV_UPDATE | MW_INV_NOTIFY | MW_INV_TYPE_TASK);
	/* the tentative and conflict names exist for events only */
	ck_assert_uint_eq(mw_inv_policy_bits("TASK_TENTATIVE"), 0);
	ck_assert_uint_eq(mw_inv_policy_bits("ALL_ACCEPT_IF_NO_CONFLICT"), 0);
	ck_assert_uint_eq(mw_inv_policy_bits("ALL_BOGUS"), 0);
	ck_assert_uint_eq(mw_inv_policy_bits("ACCEPT"), 0);
	ck_assert_uint_eq(mw_inv_policy_bits(""), 0);
}
END_TEST

START_TEST(test_wallace_examples)
{
	const char *policy = "TASK_REJECT:*, EVENT_ACCEPT:example.org, EVENT_REJECT:gmail.com, "
			     "ALL_UPDATE:outlook:com, ALL_MANUAL:*";
	g_autoptr(GArray) a = match(policy, "john@fastmail.net", MW_INV_TYPE_EVENT);
	assert_actions(a, 1, (const guint[]){MW_INV_MANUAL});
	g_autoptr(GArray) b = match(policy, "mailto:Jane@Example.org", MW_INV_TYPE_EVENT);
	assert_actions(b, 2, (const guint[]){MW_INV_ACCEPT, MW_INV_MANUAL});
	g_autoptr(GArray) c = match(policy, "someone@gmail.com", MW_INV_TYPE_EVENT);
	assert_actions(c, 2, (const guint[]){MW_INV_REJECT, MW_INV_MANUAL});
	g_autoptr(GArray) d = match(policy, "someone@gmail.com", MW_INV_TYPE_TASK);
	assert_actions(d, 2, (const guint[]){MW_INV_REJECT, MW_INV_MANUAL});
	g_autoptr(GArray) e = match(policy, "x@example.org", MW_INV_TYPE_TASK);
	assert_actions(e, 2, (const guint[]){MW_INV_REJECT, MW_INV_MANUAL});

	const char *second = "ALL_SAVE_TO_FOLDER:maya.foo@example.org, ACT_REJECT:others";
	g_autoptr(GArray) f = match(second, "maya.foo@example.org", MW_INV_TYPE_EVENT);
	assert_actions(f, 1, (const guint[]){MW_INV_SAVE_TO_FOLDER});
	g_autoptr(GArray) g = match(second, "Maya.Foo@EXAMPLE.org", MW_INV_TYPE_TASK);
	assert_actions(g, 1, (const guint[]){MW_INV_SAVE_TO_FOLDER});
	g_autoptr(GArray) h = match(second, "max@example.org", MW_INV_TYPE_EVENT);
	assert_actions(h, 1, (const guint[]){MW_INV_MANUAL});
}
END_TEST

START_TEST(test_order_and_types)
{
	g_autoptr(GArray) a = match("EVENT_ACCEPT_IF_NO_CONFLICT, EVENT_REJECT_IF_CONFLICT, "
				    "TASK_ACCEPT, ALL_MANUAL",
				    "a@b.c", MW_INV_TYPE_EVENT);
	assert_actions(a, 3,
		       (const guint[]){MW_INV_ACCEPT | MW_INV_IF_AVAILABLE,
				       MW_INV_REJECT | MW_INV_IF_CONFLICT, MW_INV_MANUAL});
	g_autoptr(GArray) b = match("EVENT_ACCEPT, bogus, TASK_UPDATE", "a@b.c", MW_INV_TYPE_TASK);
	assert_actions(b, 1, (const guint[]){MW_INV_UPDATE});
	g_autoptr(GArray) c = match("", "a@b.c", MW_INV_TYPE_TASK);
	assert_actions(c, 1, (const guint[]){MW_INV_MANUAL});
	g_autoptr(GArray) d = mw_inv_policy_match(NULL, NULL, MW_INV_TYPE_EVENT);
	assert_actions(d, 1, (const guint[]){MW_INV_MANUAL});
}
END_TEST

START_TEST(test_sender_filter)
{
	ck_assert(mw_inv_sender_matches("", "a@example.org"));
	ck_assert(mw_inv_sender_matches("*", "a@example.org"));
	ck_assert(mw_inv_sender_matches(NULL, NULL));
	ck_assert(mw_inv_sender_matches("example.org", "a@example.org"));
	ck_assert(mw_inv_sender_matches("example.org", "a@Mail.EXAMPLE.org"));
	ck_assert(mw_inv_sender_matches("@example.org", "a@example.org"));
	ck_assert(mw_inv_sender_matches(".example.org", "a@sub.example.org"));
	ck_assert(!mw_inv_sender_matches("example.org", "a@badexample.org"));
	ck_assert(!mw_inv_sender_matches("example.org", "a@example.org.evil.net"));
	ck_assert(!mw_inv_sender_matches("example.org", "example.org@evil.net"));
	ck_assert(!mw_inv_sender_matches("example.org", NULL));
	ck_assert(!mw_inv_sender_matches("example.org", ""));
	ck_assert(mw_inv_sender_matches("maya@example.org", "MAILTO:Maya@example.org"));
	ck_assert(!mw_inv_sender_matches("maya@example.org", "xmaya@example.org"));
	ck_assert(!mw_inv_sender_matches("maya@example.org", "maya@sub.example.org"));
	ck_assert(!mw_inv_sender_matches("outlook:com", "a@outlook.com"));
}
END_TEST

START_TEST(test_check)
{
	const char *good[] = {"ALL_MANUAL", " EVENT_ACCEPT:example.org ", "act_reject", NULL};
	ck_assert(mw_inv_policy_check(good, NULL));
	const char *bad[] = {"ALL_MANUAL", "ALL_ACCEPT_SOMETIMES:x.org", NULL};
	g_autoptr(GError) error = NULL;
	ck_assert(!mw_inv_policy_check(bad, &error));
	ck_assert_ptr_nonnull(strstr(error->message, "ALL_ACCEPT_SOMETIMES"));
}
END_TEST

START_TEST(test_users)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(MwInvUsers) users = mw_inv_users_load_data(
		"[user:Maya@Example.org]\nname = Maya Foo\naliases = m.foo@example.org, "
		"MF@example.org\npolicy = EVENT_ACCEPT:example.org, ALL_MANUAL\n"
		"[resource:room@example.org]\npolicy = ACT_ACCEPT\n"
		"[user:bob@example.org]\n",
		&error);
	ck_assert_msg(users != NULL, "%s", error != NULL ? error->message : "");
	const MwInvUser *maya = mw_inv_users_lookup(users, "mailto:mf@EXAMPLE.org");
	ck_assert_ptr_nonnull(maya);
	ck_assert_str_eq(maya->address, "maya@example.org");
	ck_assert_str_eq(maya->name, "Maya Foo");
	ck_assert_uint_eq(g_strv_length(maya->policy), 2);
	ck_assert_str_eq(maya->policy[0], "EVENT_ACCEPT:example.org");
	ck_assert_ptr_eq(mw_inv_users_lookup(users, "m.foo@example.org"), maya);
	const MwInvUser *bob = mw_inv_users_lookup(users, "bob@example.org");
	ck_assert_ptr_nonnull(bob);
	ck_assert_str_eq(bob->name, "bob@example.org");
	ck_assert_uint_eq(g_strv_length(bob->policy), 0);
	const MwInvUser *room = mw_inv_users_lookup(users, "room@example.org");
	ck_assert_ptr_nonnull(room);
	ck_assert(room->resource);
	ck_assert(!maya->resource);
	ck_assert_ptr_null(mw_inv_users_lookup(users, NULL));
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("invitations-unit");
	TCase *tc = tcase_create("policy");
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_wallace_examples);
	tcase_add_test(tc, test_order_and_types);
	tcase_add_test(tc, test_sender_filter);
	tcase_add_test(tc, test_check);
	tcase_add_test(tc, test_users);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *runner = srunner_create(suite());
	srunner_run_all(runner, CK_ENV);
	int failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? 0 : 1;
}
