/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-calstore - the dir: calendar store: objects, names, lock, cache
 * SYNOPSIS
 *	itip-calstore
 */
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "itip-test.h"
#include "mw-calstore.h"
#include "mw-error.h"

static char *root;
static char *spec;

static void
setup(void)
{
	root = g_dir_make_tmp("mw-calstore-XXXXXX", NULL);
	spec = g_strconcat("dir:", root, NULL);
}

static void
teardown(void)
{
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", root);
	ck_assert_int_eq(system(cmd), 0);
	g_free(root);
	g_free(spec);
}

/* booking - a VCALENDAR with one event */
static icalcomponent *
booking(const char *uid, const char *start, const char *end)
{
	g_autofree char *text = g_strdup_printf(
		"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nBEGIN:VEVENT\r\nUID:%s\r\n"
		"DTSTART:%s\r\nDTEND:%s\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
		uid, start, end);
	return itip_test_calendar(text);
}

START_TEST(test_put_get_remove)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(MwCalStore) store = mw_calstore_open(spec, &error);
	ck_assert_msg(store != NULL, "%s", error ? error->message : "");
	g_autoptr(MwCalLock) lock = mw_calstore_lock(store, "Room101@Example.org", 1000, &error);
	ck_assert_ptr_nonnull(lock);
	/* a UID with slashes, dots and non-ASCII */
	const char *uid = "../evil/uid with spaces/äö@x";
	g_autoptr(icalcomponent) vcal = booking(uid, "20260715T100000Z", "20260715T110000Z");
	ck_assert(mw_calstore_get(lock, uid, &error) == NULL && error == NULL);
	ck_assert(mw_calstore_put(lock, uid, vcal, &error));
	g_autoptr(icalcomponent) back = mw_calstore_get(lock, uid, &error);
	ck_assert_ptr_nonnull(back);
	ck_assert_str_eq(icalcomponent_get_uid(mw_itip_first_component(back)), uid);
	/* the file is inside the calendar's folder */
	g_autofree char *folder = g_build_filename(root, "room101@example.org", NULL);
	GDir *dir = g_dir_open(folder, 0, NULL);
	ck_assert_ptr_nonnull(dir);
	const char *name;
	guint n = 0;
	while ((name = g_dir_read_name(dir)) != NULL) {
		if (g_str_has_suffix(name, ".ics")) {
			n++;
			ck_assert(strchr(name, '/') == NULL && name[0] != '.');
		}
	}
	g_dir_close(dir);
	ck_assert_uint_eq(n, 1);
	ck_assert(mw_calstore_remove(lock, uid, &error));
	ck_assert(mw_calstore_get(lock, uid, &error) == NULL && error == NULL);
	g_auto(GStrv) cals = mw_calstore_calendars(store, &error);
	ck_assert(g_strv_contains((const char *const *) cals, "room101@example.org"));
}
END_TEST

START_TEST(test_busy_cache_sees_other_processes)
{
	MwItipTime t;
	itip_test_time(&t, NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(MwCalStore) store = mw_calstore_open(spec, &error);
	{
		g_autoptr(MwCalLock) lock = mw_calstore_lock(store, "r@x", 1000, &error);
		g_autoptr(icalcomponent) a = booking("a", "20260715T100000Z", "20260715T110000Z");
		ck_assert(mw_calstore_put(lock, "a", a, &error));
		GPtrArray *busy = mw_calstore_busy(lock, &t, &error);
		ck_assert_uint_eq(busy->len, 1);
	}
	/* another process books "b" */
	pid_t pid = fork();
	if (pid == 0) {
		g_autoptr(MwCalStore) other = mw_calstore_open(spec, NULL);
		MwCalLock *lock = mw_calstore_lock(other, "r@x", 1000, NULL);
		icalcomponent *b = booking("b", "20260716T100000Z", "20260716T110000Z");
		_exit(mw_calstore_put(lock, "b", b, NULL) ? 0 : 1);
	}
	int status;
	waitpid(pid, &status, 0);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	g_autoptr(MwCalLock) lock = mw_calstore_lock(store, "r@x", 1000, &error);
	GPtrArray *busy = mw_calstore_busy(lock, &t, &error);
	ck_assert_uint_eq(busy->len, 2);
	ck_assert(mw_calstore_remove(lock, "a", &error));
	busy = mw_calstore_busy(lock, &t, &error);
	ck_assert_uint_eq(busy->len, 1);
	ck_assert_str_eq(mw_itip_event_get_uid(g_ptr_array_index(busy, 0)), "b");
}
END_TEST

START_TEST(test_busy_cache_sees_changes_by_hand)
{
	MwItipTime t;
	itip_test_time(&t, NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(MwCalStore) store = mw_calstore_open(spec, &error);
	{
		g_autoptr(MwCalLock) lock = mw_calstore_lock(store, "r@x", 1000, &error);
		g_autoptr(icalcomponent) a = booking("a", "20260715T100000Z", "20260715T110000Z");
		g_autoptr(icalcomponent) b = booking("b", "20260716T100000Z", "20260716T110000Z");
		ck_assert(mw_calstore_put(lock, "a", a, &error));
		ck_assert(mw_calstore_put(lock, "b", b, &error));
		ck_assert_uint_eq(mw_calstore_busy(lock, &t, &error)->len, 2);
	}
	/* an administrator removes a booking by hand: no journal entry, but the folder changed */
	g_usleep(20000);
	g_autofree char *file = g_build_filename(root, "r@x", "a.ics", NULL);
	ck_assert_int_eq(g_unlink(file), 0);
	g_autoptr(MwCalLock) lock = mw_calstore_lock(store, "r@x", 1000, &error);
	GPtrArray *busy = mw_calstore_busy(lock, &t, &error);
	ck_assert_uint_eq(busy->len, 1);
	ck_assert_str_eq(mw_itip_event_get_uid(g_ptr_array_index(busy, 0)), "b");
}
END_TEST

START_TEST(test_lock_excludes)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(MwCalStore) store = mw_calstore_open(spec, &error);
	g_autoptr(MwCalLock) lock = mw_calstore_lock(store, "r@x", 1000, &error);
	ck_assert_ptr_nonnull(lock);
	pid_t pid = fork();
	if (pid == 0) {
		g_autoptr(MwCalStore) other = mw_calstore_open(spec, NULL);
		GError *e = NULL;
		MwCalLock *l = mw_calstore_lock(other, "r@x", 200, &e);
		_exit(l == NULL && e != NULL ? 0 : 1);
	}
	int status;
	waitpid(pid, &status, 0);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "a second process got the lock");
}
END_TEST

START_TEST(test_bad_spec)
{
	g_autoptr(GError) error = NULL;
	ck_assert_ptr_null(mw_calstore_open("caldav:https://x", &error));
	g_clear_error(&error);
	ck_assert_ptr_null(mw_calstore_open("/plain/path", &error));
	g_autofree char *n = mw_calstore_name("a/b c");
	ck_assert_str_eq(n, "a%2Fb%20c");
	g_autofree char *dot = mw_calstore_name(".hidden");
	ck_assert_str_eq(dot, "%2Ehidden");
}
END_TEST

/* --check-config's probe: a writable folder, or the folder it would be made in; creates nothing */
START_TEST(test_check)
{
	g_autoptr(GError) error = NULL;
	ck_assert(mw_calstore_check(spec, &error));
	g_autofree char *later = g_strconcat(spec, "/not-yet", NULL);
	ck_assert(mw_calstore_check(later, &error));
	ck_assert(!g_file_test(later + 4, G_FILE_TEST_EXISTS));
	g_autofree char *deep = g_strconcat(spec, "/a/b", NULL);
	ck_assert(!mw_calstore_check(deep, &error));
	ck_assert(g_error_matches(error, MW_ERROR, MW_ERROR_BACKEND));
	g_clear_error(&error);
	g_autofree char *file = g_build_filename(root, "file", NULL);
	ck_assert(g_file_set_contents(file, "x", 1, NULL));
	g_autofree char *file_spec = g_strconcat("dir:", file, NULL);
	ck_assert(!mw_calstore_check(file_spec, &error));
	ck_assert(g_error_matches(error, MW_ERROR, MW_ERROR_BACKEND));
	g_clear_error(&error);
	ck_assert(!mw_calstore_check("caldav:https://x", &error));
	ck_assert(g_error_matches(error, MW_ERROR, MW_ERROR_CONFIG));
}
END_TEST

static Suite *
calstore_suite(void)
{
	Suite *suite = suite_create("itip-calstore");
	TCase *tc = tcase_create("calstore");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_put_get_remove);
	tcase_add_test(tc, test_busy_cache_sees_other_processes);
	tcase_add_test(tc, test_busy_cache_sees_changes_by_hand);
	tcase_add_test(tc, test_lock_excludes);
	tcase_add_test(tc, test_bad_spec);
	tcase_add_test(tc, test_check);
	suite_add_tcase(suite, tc);
	return suite;
}

int
main(void)
{
	return itip_test_main(calstore_suite());
}
