/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-directory - the INI directory: lookups, aliases, inheritance, errors
 * SYNOPSIS
 *	itip-directory
 */
#include <string.h>

#include "itip-test.h"
#include "mw-directory.h"

static const char *const sample = "[user:Boss@Example.org]\n"
				  "name = The Boss\n"
				  "phone = +49 30 1234\n"
				  "language = de\n"
				  "[resource:room101@example.org]\n"
				  "name = Room 101\n"
				  "aliases = r101@example.org, Raum101@Example.NET\n"
				  "[resource:room102@example.org]\n"
				  "name = Room 102\n"
				  "owner = other@example.org\n"
				  "policy = ACT_REJECT\n"
				  "[resource:car1@example.org]\n"
				  "[collection:rooms@example.org]\n"
				  "name = Rooms\n"
				  "members = room101@example.org, R102@example.org\n"
				  "owner = boss@example.org\n"
				  "policy = ACT_MANUAL, ACT_ACCEPT_AND_NOTIFY\n";

START_TEST(test_lookup_and_inheritance)
{
	g_autoptr(GError) error = NULL;
	/* R102 is nobody's address: an error naming the member */
	g_autoptr(MwDirectory) bad = mw_directory_load_data(sample, &error);
	ck_assert_ptr_null(bad);
	ck_assert_msg(strstr(error->message, "member r102@example.org is no resource") != NULL,
		      "%s", error->message);
	g_clear_error(&error);

	/* with R102 an alias of room102 (in another case) it loads */
	g_autoptr(GString) fixed = g_string_new(sample);
	char *at = strstr(fixed->str, "name = Room 102\n");
	g_string_insert(fixed, at - fixed->str, "aliases = r102@EXAMPLE.org\n");
	g_autoptr(MwDirectory) dir = mw_directory_load_data(fixed->str, &error);
	ck_assert_msg(dir != NULL, "%s", error ? error->message : "");

	const MwDirEntry *room = mw_directory_lookup(dir, "MAILTO:RAUM101@example.net");
	ck_assert_ptr_nonnull(room);
	ck_assert_int_eq(room->kind, MW_DIR_RESOURCE);
	ck_assert_str_eq(room->address, "room101@example.org");
	ck_assert_str_eq(room->name, "Room 101");
	/* inherited from the collection */
	ck_assert_str_eq(room->owner, "boss@example.org");
	ck_assert_str_eq(room->policy[0], "ACT_MANUAL");
	ck_assert_str_eq(room->policy[1], "ACT_ACCEPT_AND_NOTIFY");
	ck_assert_str_eq(room->collection, "rooms@example.org");
	ck_assert(mw_directory_entry_has_address(room, "R101@example.org"));

	/* its own owner and policy win */
	const MwDirEntry *r2 = mw_directory_lookup(dir, "r102@example.org");
	ck_assert_str_eq(r2->owner, "other@example.org");
	ck_assert_str_eq(r2->policy[0], "ACT_REJECT");
	ck_assert(r2->policy[1] == NULL);

	const MwDirEntry *coll = mw_directory_lookup(dir, "Rooms@Example.org");
	ck_assert_int_eq(coll->kind, MW_DIR_COLLECTION);
	ck_assert_str_eq(coll->members[1], "room102@example.org");

	const MwDirEntry *boss = mw_directory_lookup(dir, "boss@example.org");
	ck_assert_int_eq(boss->kind, MW_DIR_USER);
	ck_assert_str_eq(boss->phone, "+49 30 1234");
	ck_assert_str_eq(boss->language, "de");

	const MwDirEntry *car = mw_directory_lookup(dir, "car1@example.org");
	ck_assert_str_eq(car->name, "car1@example.org");
	ck_assert_ptr_null(car->owner);
	ck_assert_ptr_null(mw_directory_lookup(dir, "nobody@example.org"));
}
END_TEST

START_TEST(test_errors)
{
	static const char *const bad[] = {
		"[room:x@example.org]\n",
		"[resource:x@example.org]\nowner = a@b\ncolour = red\n",
		"[resource:x@example.org]\npolicy = ACT_SOMETIMES\n",
		"[resource:x@example.org]\n[user:y@example.org]\naliases = X@example.org\n",
		"[resource:not-an-address]\n",
		"[user:a@example.org]\nmembers = b@example.org\n",
	};
	for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(MwDirectory) dir = mw_directory_load_data(bad[i], &error);
		ck_assert_msg(dir == NULL, "accepted:\n%s", bad[i]);
		ck_assert_ptr_nonnull(error);
	}
	g_autoptr(GError) error = NULL;
	ck_assert_ptr_null(mw_directory_open("/nonexistent/directory.conf", &error));
}
END_TEST

START_TEST(test_user_policies_are_personal)
{
	/* a user's policy list is the invitations module's vocabulary: kept as written */
	g_autoptr(GError) error = NULL;
	g_autoptr(MwDirectory) dir = mw_directory_load_data(
		"[user:jane@example.org]\npolicy = EVENT_ACCEPT:example.org, ALL_UPDATE\n"
		"[resource:room@example.org]\npolicy = ACT_MANUAL\n",
		&error);
	ck_assert_msg(dir != NULL, "%s", error != NULL ? error->message : "");
	const MwDirEntry *jane = mw_directory_lookup(dir, "Jane@Example.org");
	ck_assert_ptr_nonnull(jane);
	ck_assert_str_eq(jane->policy[0], "EVENT_ACCEPT:example.org");
	ck_assert_str_eq(jane->policy[1], "ALL_UPDATE");
}
END_TEST

static Suite *
directory_suite(void)
{
	Suite *suite = suite_create("itip-directory");
	TCase *tc = tcase_create("directory");
	tcase_add_test(tc, test_lookup_and_inheritance);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_user_policies_are_personal);
	suite_add_tcase(suite, tc);
	return suite;
}

int
main(void)
{
	return itip_test_main(directory_suite());
}
