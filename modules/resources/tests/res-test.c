/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	res-test - helpers of the resources module's test suites
 * SYNOPSIS
 *	res_itip(), res_env_setup(), res_env_teardown(), res_env_config_keys(),
 *	res_bookings(), res_booking(), res_parse(), res_reply_info(),
 *	res_text_body()
 */
#include <stdlib.h>
#include <string.h>

#include "mw-calstore.h"
#include "res-test.h"

const char *const res_test_directory = "[user:boss@example.org]\n"
				       "name = Bernd Boss\n"
				       "phone = +49 30 5550100\n"
				       "language = de\n"
				       "[user:alice@example.org]\n"
				       "name = Alice\n"
				       "[user:hans@example.org]\n"
				       "name = Hans\n"
				       "language = de\n"
				       "[resource:room101@example.org]\n"
				       "name = Room 101\n"
				       "aliases = r101@example.org\n"
				       "owner = facility@example.org\n"
				       "[resource:room102@example.org]\n"
				       "name = Room 102\n"
				       "[resource:car1@example.org]\n"
				       "name = Car 1\n"
				       "[resource:car2@example.org]\n"
				       "name = Car 2\n"
				       "[collection:cars@example.org]\n"
				       "name = Car Pool\n"
				       "aliases = resource-collection-car@example.org\n"
				       "members = car1@example.org, car2@example.org\n"
				       "owner = boss@example.org\n"
				       "policy = ACT_ACCEPT_AND_NOTIFY\n"
				       "[resource:beamer@example.org]\n"
				       "name = Beamer\n"
				       "owner = boss@example.org\n"
				       "policy = ACT_MANUAL\n"
				       "[resource:hall@example.org]\n"
				       "name = Hall\n"
				       "owner = boss@example.org\n"
				       "policy = ACT_STORE_AND_NOTIFY\n"
				       "[resource:projector3@example.org]\n"
				       "name = Projector 3\n"
				       "[resource:closed@example.org]\n"
				       "name = Closed Room\n"
				       "policy = ACT_REJECT\n";

char *
res_itip(const char *method, const char *uid, int sequence, const char *dtstamp, const char *start,
	 const char *end, const char *from, const char *attendees, const char *vevent_extra,
	 const char *calendar_extra)
{
	g_autoptr(GString) att = g_string_new(NULL);
	g_auto(GStrv) list = g_strsplit(attendees, ",", -1);
	for (guint i = 0; list[i] != NULL; i++) {
		g_autofree char *a = g_strstrip(g_strdup(list[i]));
		if (*a == '\0')
			continue;
		g_string_append_printf(
			att,
			"ATTENDEE;CUTYPE=RESOURCE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-"
			"ACTION;RSVP=TRUE:mailto:%s\r\n",
			a);
	}
	const char *sep_s =
		strchr(start, ':') != NULL && g_str_has_prefix(start, "TZID") ? ";" : ":";
	const char *sep_e = strchr(end, ':') != NULL && g_str_has_prefix(end, "TZID") ? ";" : ":";
	g_autofree char *ics = g_strdup_printf(
		"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//mailwarden tests//EN\r\n"
		"METHOD:%s\r\nBEGIN:VEVENT\r\nUID:%s\r\nSEQUENCE:%d\r\nDTSTAMP:%s\r\n"
		"DTSTART%s%s\r\nDTEND%s%s\r\nSUMMARY:Meeting %s\r\n"
		"ORGANIZER;CN=Organizer:mailto:%s\r\n%s%sEND:VEVENT\r\n%sEND:VCALENDAR\r\n",
		method, uid, sequence, dtstamp, sep_s, start, sep_e, end, uid, from, att->str,
		vevent_extra != NULL ? vevent_extra : "",
		calendar_extra != NULL ? calendar_extra : "");
	return g_strdup_printf("From: Organizer <%s>\r\nTo: %s\r\nSubject: Invitation %s\r\n"
			       "Message-ID: <%s.%s.%d@example.org>\r\nMIME-Version: 1.0\r\n"
			       "Content-Type: multipart/alternative; boundary=\"b\"\r\n\r\n"
			       "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
			       "You are invited.\r\n"
			       "--b\r\nContent-Type: text/calendar; charset=utf-8; method=%s\r\n"
			       "Content-Transfer-Encoding: 8bit\r\n\r\n%s--b--\r\n",
			       from, attendees, uid, uid, method, sequence, method, ics);
}

void
res_env_setup(ResEnv *env, const char *directory_text)
{
	env->dir = g_dir_make_tmp("mw-res-XXXXXX", NULL);
	ck_assert_ptr_nonnull(env->dir);
	env->directory = g_build_filename(env->dir, "directory.conf", NULL);
	env->calendars = g_build_filename(env->dir, "calendars", NULL);
	env->state = g_build_filename(env->dir, "state", NULL);
	g_mkdir_with_parents(env->state, 0700);
	ck_assert(g_file_set_contents(env->directory,
				      directory_text != NULL ? directory_text : res_test_directory,
				      -1, NULL));
}

void
res_env_teardown(ResEnv *env)
{
	if (env->dir == NULL)
		return;
	if (g_getenv("MW_TEST_KEEP") == NULL) {
		g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", env->dir);
		ck_assert_int_eq(system(cmd), 0);
	}
	g_clear_pointer(&env->dir, g_free);
	g_clear_pointer(&env->directory, g_free);
	g_clear_pointer(&env->calendars, g_free);
	g_clear_pointer(&env->state, g_free);
}

char *
res_env_config_keys(const ResEnv *env)
{
	return g_strdup_printf("directory = %s\ncalendars = dir:%s\nlocal_domains = example.org\n",
			       env->directory, env->calendars);
}

guint
res_bookings(const ResEnv *env, const char *address)
{
	g_autofree char *name = mw_calstore_name(address);
	g_autofree char *folder = g_build_filename(env->calendars, name, NULL);
	GDir *dir = g_dir_open(folder, 0, NULL);
	guint n = 0;
	if (dir == NULL)
		return 0;
	const char *f;
	while ((f = g_dir_read_name(dir)) != NULL) {
		if (f[0] != '.' && g_str_has_suffix(f, ".ics"))
			n++;
	}
	g_dir_close(dir);
	return n;
}

icalcomponent *
res_booking(const ResEnv *env, const char *address, const char *uid)
{
	g_autofree char *spec = g_strconcat("dir:", env->calendars, NULL);
	g_autoptr(MwCalStore) store = mw_calstore_open(spec, NULL);
	g_autoptr(MwCalLock) lock = mw_calstore_lock(store, address, 5000, NULL);
	ck_assert_ptr_nonnull(lock);
	return mw_calstore_get(lock, uid, NULL);
}

GMimeMessage *
res_parse(const void *data, gsize len)
{
	g_autoptr(GMimeStream) stream = g_mime_stream_mem_new_with_buffer(data, len);
	g_autoptr(GMimeParser) parser = g_mime_parser_new_with_stream(stream);
	GMimeMessage *message = g_mime_parser_construct_message(parser, NULL);
	ck_assert_ptr_nonnull(message);
	return message;
}

gboolean
res_reply_info(GMimeMessage *message, char **method_out, char **attendee_out, char **partstat_out)
{
	g_autoptr(GPtrArray) itips = mw_itip_read_message(message, 0);
	if (itips->len == 0)
		return FALSE;
	MwItip *itip = g_ptr_array_index(itips, 0);
	icalcomponent *comp = mw_itip_first_component(itip->vcal);
	*method_out = g_strdup(itip->method);
	*attendee_out = NULL;
	*partstat_out = NULL;
	/* the first attendee is the replier (a delegator's reply names the delegate after it) */
	icalproperty *att = icalcomponent_get_first_property(comp, ICAL_ATTENDEE_PROPERTY);
	if (att != NULL) {
		*attendee_out = mw_itip_address(icalproperty_get_attendee(att));
		icalparameter *ps = icalproperty_get_first_parameter(att, ICAL_PARTSTAT_PARAMETER);
		*partstat_out =
			g_strdup(ps != NULL ? mw_itip_partstat_name(icalparameter_get_partstat(ps))
					    : "NEEDS-ACTION");
	}
	return TRUE;
}

/* find_text - the first text/plain part */
static GMimeObject *
find_text(GMimeObject *object)
{
	if (GMIME_IS_MULTIPART(object)) {
		for (int i = 0; i < g_mime_multipart_get_count(GMIME_MULTIPART(object)); i++) {
			GMimeObject *found =
				find_text(g_mime_multipart_get_part(GMIME_MULTIPART(object), i));
			if (found != NULL)
				return found;
		}
		return NULL;
	}
	if (GMIME_IS_TEXT_PART(object) &&
	    g_mime_content_type_is_type(g_mime_object_get_content_type(object), "text", "plain"))
		return object;
	return NULL;
}

char *
res_text_body(GMimeMessage *message)
{
	GMimeObject *text = find_text(g_mime_message_get_mime_part(message));
	ck_assert_ptr_nonnull(text);
	return g_mime_text_part_get_text(GMIME_TEXT_PART(text));
}
