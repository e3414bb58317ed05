/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	inv-test - helpers of the invitations tests
 * SYNOPSIS
 *	inv_itip(), inv_att(), inv_stored(), inv_put(), inv_partstat(),
 *	inv_parse(), inv_reply_info(), inv_text_body()
 * DESCRIPTION
 *	Builds iTip mails, reads and writes calendar objects through the
 *	shared store, and picks replies and notifications apart.
 */
#include <string.h>

#include "inv-test.h"
#include "mw-calstore.h"

char *
inv_att(const char *address)
{
	return g_strdup_printf("ATTENDEE;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:"
			       "mailto:%s\r\n",
			       address);
}

char *
inv_itip(const char *method, const char *kind, const char *uid, int sequence, const char *dtstamp,
	 const char *organizer, const char *body)
{
	g_autofree char *ics = g_strdup_printf(
		"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//mailwarden tests//EN\r\n"
		"METHOD:%s\r\nBEGIN:%s\r\nUID:%s\r\nSEQUENCE:%d\r\nDTSTAMP:%s\r\n"
		"ORGANIZER;CN=Olga Organizer:mailto:%s\r\n%sEND:%s\r\nEND:VCALENDAR\r\n",
		method, kind, uid, sequence, dtstamp, organizer, body, kind);
	return g_strdup_printf("From: Olga <%s>\r\nTo: someone@example.org\r\n"
			       "Subject: %s %s\r\nMessage-ID: <%s.%s.%d.%s@example.net>\r\n"
			       "MIME-Version: 1.0\r\n"
			       "Content-Type: multipart/alternative; boundary=\"b\"\r\n\r\n"
			       "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
			       "Calendar mail.\r\n"
			       "--b\r\nContent-Type: text/calendar; charset=utf-8; method=%s\r\n"
			       "Content-Transfer-Encoding: 8bit\r\n\r\n%s--b--\r\n",
			       organizer, method, uid, uid, method, sequence, dtstamp, method, ics);
}

icalcomponent *
inv_stored(const char *calendars, const char *address, const char *uid)
{
	g_autofree char *spec = g_strconcat("dir:", calendars, NULL);
	g_autoptr(MwCalStore) store = mw_calstore_open(spec, NULL);
	ck_assert_ptr_nonnull(store);
	g_autoptr(MwCalLock) lock = mw_calstore_lock(store, address, 5000, NULL);
	ck_assert_ptr_nonnull(lock);
	return mw_calstore_get(lock, uid, NULL);
}

void
inv_put(const char *calendars, const char *address, const char *uid, const char *ics)
{
	g_autofree char *spec = g_strconcat("dir:", calendars, NULL);
	g_autoptr(MwCalStore) store = mw_calstore_open(spec, NULL);
	ck_assert_ptr_nonnull(store);
	g_autoptr(MwCalLock) lock = mw_calstore_lock(store, address, 5000, NULL);
	ck_assert_ptr_nonnull(lock);
	g_autoptr(icalcomponent) vcal = icalparser_parse_string(ics);
	ck_assert_ptr_nonnull(vcal);
	ck_assert(mw_calstore_put(lock, uid, vcal, NULL));
}

const char *
inv_partstat(icalcomponent *comp, const char *address)
{
	icalproperty *att = mw_itip_find_attendee(comp, address, NULL);
	if (att == NULL)
		return NULL;
	icalparameter *ps = icalproperty_get_first_parameter(att, ICAL_PARTSTAT_PARAMETER);
	return ps != NULL ? mw_itip_partstat_name(icalparameter_get_partstat(ps)) : "NEEDS-ACTION";
}

GMimeMessage *
inv_parse(GBytes *bytes)
{
	gsize len = 0;
	const void *data = g_bytes_get_data(bytes, &len);
	g_autoptr(GMimeStream) stream = g_mime_stream_mem_new_with_buffer(data, len);
	g_autoptr(GMimeParser) parser = g_mime_parser_new_with_stream(stream);
	GMimeMessage *message = g_mime_parser_construct_message(parser, NULL);
	ck_assert_ptr_nonnull(message);
	return message;
}

gboolean
inv_reply_info(GMimeMessage *message, char **method_out, char **attendee_out, char **partstat_out)
{
	g_autoptr(GPtrArray) itips = mw_itip_read_message(message, MW_ITIP_READ_VTODO);
	if (itips->len == 0)
		return FALSE;
	MwItip *itip = g_ptr_array_index(itips, 0);
	icalcomponent *comp = mw_itip_first_component(itip->vcal);
	*method_out = g_strdup(itip->method);
	icalproperty *att = icalcomponent_get_first_property(comp, ICAL_ATTENDEE_PROPERTY);
	*attendee_out = att != NULL ? mw_itip_address(icalproperty_get_attendee(att)) : NULL;
	*partstat_out = att != NULL ? g_strdup(inv_partstat(comp, *attendee_out)) : NULL;
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
	GMimeContentType *ct = g_mime_object_get_content_type(object);
	return GMIME_IS_PART(object) && g_mime_content_type_is_type(ct, "text", "plain") ? object
											 : NULL;
}

char *
inv_text_body(GMimeMessage *message)
{
	GMimeObject *part = find_text(g_mime_message_get_mime_part(message));
	ck_assert_ptr_nonnull(part);
	GMimeDataWrapper *content = g_mime_part_get_content(GMIME_PART(part));
	g_autoptr(GMimeStream) mem = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(content, mem);
	GByteArray *bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	return g_strndup((const char *) bytes->data, bytes->len);
}
