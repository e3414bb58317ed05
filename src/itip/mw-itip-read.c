/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-itip-read - find the iTip objects of a message
 * SYNOPSIS
 *	mw_itip_read_message(), mw_itip_read_text(), mw_itip_free(),
 *	mw_itip_get_master(), mw_itip_get_instance(), mw_itip_first_component(),
 *	mw_itip_find_attendee(), mw_itip_organizer(), mw_itip_sequence(),
 *	mw_itip_dtstamp(), mw_itip_compare()
 * DESCRIPTION
 *	Walks every MIME part, including those of attached messages
 *	(message/rfc822), and reads text/calendar, text/x-vcalendar and
 *	application/ics parts that carry a method parameter (RFC 6047 §2.4;
 *	a part without one is not an iTip message). The part is transfer-
 *	decoded by GMime (quoted-printable, base64) and converted to UTF-8
 *	from its charset. Only REQUEST, REPLY and CANCEL are read; the method
 *	is the METHOD property (the parameter when the property is missing).
 *	Each UID is taken once, from the first part that has it: Google sends
 *	the same invitation as text/calendar and as application/ics. A
 *	component without DTSTART or UID is dropped. Parse errors are not
 *	fatal: whatever libical could read is used, nothing when it read
 *	nothing.
 */
#include <string.h>

#include "mw-itip.h"

/* mw_itip_free - free @itip and its VCALENDAR (NULL is fine) */
void
mw_itip_free(MwItip *itip)
{
	if (itip == NULL)
		return;
	g_free(itip->method);
	g_free(itip->uid);
	if (itip->vcal != NULL)
		icalcomponent_free(itip->vcal);
	g_free(itip);
}

/* wanted_method - the methods an auto-responder processes (Wallace §2.1) */
static gboolean
wanted_method(const char *method)
{
	return method != NULL && (g_ascii_strcasecmp(method, "REQUEST") == 0 ||
				  g_ascii_strcasecmp(method, "REPLY") == 0 ||
				  g_ascii_strcasecmp(method, "CANCEL") == 0);
}

/* wanted_kind - VEVENT, and VTODO when asked */
static gboolean
wanted_kind(icalcomponent *comp, guint flags)
{
	icalcomponent_kind kind = icalcomponent_isa(comp);
	return kind == ICAL_VEVENT_COMPONENT ||
	       (kind == ICAL_VTODO_COMPONENT && (flags & MW_ITIP_READ_VTODO) != 0);
}

/* read_calendar - the wanted objects of one VCALENDAR */
static void
read_calendar(icalcomponent *cal, const char *fallback_method, guint flags, GHashTable *seen,
	      GPtrArray *out)
{
	const char *method = NULL;
	icalproperty *mprop = icalcomponent_get_first_property(cal, ICAL_METHOD_PROPERTY);
	if (mprop != NULL)
		method = icalproperty_get_value_as_string(mprop);
	if (method == NULL || *method == '\0')
		method = fallback_method;
	if (!wanted_method(method))
		return;

	g_autoptr(GHashTable) here = g_hash_table_new(g_str_hash, g_str_equal);
	/* collected first: libical components have one internal iterator, which the
	 * VTIMEZONE copy below would move */
	g_autoptr(GPtrArray) comps = g_ptr_array_new();
	for (icalcomponent *comp = icalcomponent_get_first_component(cal, ICAL_ANY_COMPONENT);
	     comp != NULL; comp = icalcomponent_get_next_component(cal, ICAL_ANY_COMPONENT)) {
		if (wanted_kind(comp, flags))
			g_ptr_array_add(comps, comp);
	}
	for (guint c = 0; c < comps->len; c++) {
		icalcomponent *comp = g_ptr_array_index(comps, c);
		const char *uid = icalcomponent_get_uid(comp);
		if (uid == NULL || *uid == '\0')
			continue;
		if (icalcomponent_get_first_property(comp, ICAL_DTSTART_PROPERTY) == NULL &&
		    icalcomponent_isa(comp) == ICAL_VEVENT_COMPONENT)
			continue;
		MwItip *itip = g_hash_table_lookup(here, uid);
		if (itip == NULL) {
			if (g_hash_table_contains(seen, uid))
				continue;
			itip = g_new0(MwItip, 1);
			itip->uid = g_strdup(uid);
			itip->method = g_ascii_strup(method, -1);
			itip->vcal = icalcomponent_new(ICAL_VCALENDAR_COMPONENT);
			icalcomponent_add_property(itip->vcal, icalproperty_new_version("2.0"));
			icalproperty *prodid =
				icalcomponent_get_first_property(cal, ICAL_PRODID_PROPERTY);
			icalcomponent_add_property(
				itip->vcal, prodid != NULL
						    ? icalproperty_new_clone(prodid)
						    : icalproperty_new_prodid("-//unknown//"));
			icalcomponent_add_property(
				itip->vcal,
				icalproperty_new_method(icalenum_string_to_method(itip->method)));
			for (icalcomponent *tz = icalcomponent_get_first_component(
				     cal, ICAL_VTIMEZONE_COMPONENT);
			     tz != NULL;
			     tz = icalcomponent_get_next_component(cal, ICAL_VTIMEZONE_COMPONENT))
				icalcomponent_add_component(itip->vcal,
							    icalcomponent_new_clone(tz));
			g_hash_table_insert(here, itip->uid, itip);
			g_ptr_array_add(out, itip);
		}
		icalcomponent_add_component(itip->vcal, icalcomponent_new_clone(comp));
	}
	GHashTableIter iter;
	gpointer key;
	g_hash_table_iter_init(&iter, here);
	while (g_hash_table_iter_next(&iter, &key, NULL))
		g_hash_table_add(seen, g_strdup(key));
}

/* read_parsed - a parse result: one VCALENDAR or a root holding several */
static void
read_parsed(icalcomponent *root, const char *fallback_method, guint flags, GHashTable *seen,
	    GPtrArray *out)
{
	if (icalcomponent_isa(root) == ICAL_VCALENDAR_COMPONENT) {
		read_calendar(root, fallback_method, flags, seen, out);
		return;
	}
	for (icalcomponent *cal = icalcomponent_get_first_component(root, ICAL_VCALENDAR_COMPONENT);
	     cal != NULL; cal = icalcomponent_get_next_component(root, ICAL_VCALENDAR_COMPONENT))
		read_calendar(cal, fallback_method, flags, seen, out);
}

/* read_text_method - parse @text; objects of a method-less VCALENDAR get @fallback_method */
static void
read_text_method(const char *text, const char *fallback_method, guint flags, GHashTable *seen,
		 GPtrArray *out)
{
	icalerror_set_errors_are_fatal(0);
	icalcomponent *root = icalparser_parse_string(text);
	/* libical keeps a per-thread error state; nothing here depends on it */
	icalerror_clear_errno();
	if (root == NULL)
		return;
	read_parsed(root, fallback_method, flags, seen, out);
	icalcomponent_free(root);
}

/* mw_itip_read_text - the same for one iCalendar text; appends to @out, skipping UIDs in @seen */
void
mw_itip_read_text(const char *text, guint flags, GHashTable *seen, GPtrArray *out)
{
	read_text_method(text, NULL, flags, seen, out);
}

/* part_text - the decoded payload of @part as UTF-8 */
static char *
part_text(GMimePart *part)
{
	GMimeDataWrapper *content = g_mime_part_get_content(part);
	if (content == NULL)
		return NULL;
	g_autoptr(GMimeStream) mem = g_mime_stream_mem_new();
	if (g_mime_data_wrapper_write_to_stream(content, mem) < 0)
		return NULL;
	GByteArray *bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	const char *charset =
		g_mime_object_get_content_type_parameter(GMIME_OBJECT(part), "charset");
	gsize len = bytes->len;
	const char *data = (const char *) bytes->data;
	if (charset != NULL && g_ascii_strcasecmp(charset, "utf-8") != 0 &&
	    g_ascii_strcasecmp(charset, "us-ascii") != 0) {
		char *converted = g_convert(data, (gssize) len, "UTF-8", charset, NULL, NULL, NULL);
		if (converted != NULL)
			return converted;
	}
	if (!g_utf8_validate(data, (gssize) len, NULL)) {
		char *converted =
			g_convert(data, (gssize) len, "UTF-8", "WINDOWS-1252", NULL, NULL, NULL);
		if (converted != NULL)
			return converted;
	}
	return g_strndup(data, len);
}

/* is_calendar_type - the content types iTip arrives in */
static gboolean
is_calendar_type(GMimeContentType *ct)
{
	return g_mime_content_type_is_type(ct, "text", "calendar") ||
	       g_mime_content_type_is_type(ct, "text", "x-vcalendar") ||
	       g_mime_content_type_is_type(ct, "application", "ics");
}

/* walk - recurse through multiparts and attached messages */
static void
walk(GMimeObject *object, guint flags, GHashTable *seen, GPtrArray *out, guint depth)
{
	if (object == NULL || depth > 32)
		return;
	if (GMIME_IS_MULTIPART(object)) {
		GMimeMultipart *multipart = GMIME_MULTIPART(object);
		int n = g_mime_multipart_get_count(multipart);
		for (int i = 0; i < n; i++)
			walk(g_mime_multipart_get_part(multipart, i), flags, seen, out, depth + 1);
		return;
	}
	if (GMIME_IS_MESSAGE_PART(object)) {
		GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(object));
		if (inner != NULL)
			walk(g_mime_message_get_mime_part(inner), flags, seen, out, depth + 1);
		return;
	}
	if (!GMIME_IS_PART(object))
		return;
	GMimeContentType *ct = g_mime_object_get_content_type(object);
	if (ct == NULL || !is_calendar_type(ct))
		return;
	const char *method = g_mime_content_type_get_parameter(ct, "method");
	if (method == NULL)
		return;
	g_autofree char *trimmed = g_strstrip(g_strdup(method));
	if (!wanted_method(trimmed))
		return;
	g_autofree char *text = part_text(GMIME_PART(object));
	if (text == NULL)
		return;
	read_text_method(text, trimmed, flags, seen, out);
}

/**
 * mw_itip_read_message:
 * Every text/calendar, text/x-vcalendar or application/ics part with a method
 * parameter of REQUEST, REPLY or CANCEL, also inside attached messages,
 * transfer-decoded and converted to UTF-8. Each UID once (the first wins).
 * Returns: (transfer full) (element-type MwItip): possibly empty
 */
GPtrArray *
mw_itip_read_message(GMimeMessage *message, guint flags)
{
	GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify) mw_itip_free);
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	if (message != NULL)
		walk(g_mime_message_get_mime_part(message), flags, seen, out, 0);
	return out;
}

/* mw_itip_first_component - the first VEVENT/VTODO of @vcal */
icalcomponent *
mw_itip_first_component(icalcomponent *vcal)
{
	for (icalcomponent *comp = icalcomponent_get_first_component(vcal, ICAL_ANY_COMPONENT);
	     comp != NULL; comp = icalcomponent_get_next_component(vcal, ICAL_ANY_COMPONENT)) {
		icalcomponent_kind kind = icalcomponent_isa(comp);
		if (kind == ICAL_VEVENT_COMPONENT || kind == ICAL_VTODO_COMPONENT)
			return comp;
	}
	return NULL;
}

/* mw_itip_get_master - the component without RECURRENCE-ID, or NULL */
icalcomponent *
mw_itip_get_master(icalcomponent *vcal)
{
	for (icalcomponent *comp = icalcomponent_get_first_component(vcal, ICAL_ANY_COMPONENT);
	     comp != NULL; comp = icalcomponent_get_next_component(vcal, ICAL_ANY_COMPONENT)) {
		icalcomponent_kind kind = icalcomponent_isa(comp);
		if (kind != ICAL_VEVENT_COMPONENT && kind != ICAL_VTODO_COMPONENT)
			continue;
		if (icalcomponent_get_first_property(comp, ICAL_RECURRENCEID_PROPERTY) == NULL)
			return comp;
	}
	return NULL;
}

/* mw_itip_get_instance - the component whose RECURRENCE-ID is @rid (seconds), or NULL */
icalcomponent *
mw_itip_get_instance(icalcomponent *vcal, gint64 rid, const MwItipTime *t)
{
	for (icalcomponent *comp = icalcomponent_get_first_component(vcal, ICAL_ANY_COMPONENT);
	     comp != NULL; comp = icalcomponent_get_next_component(vcal, ICAL_ANY_COMPONENT)) {
		icalproperty *prop =
			icalcomponent_get_first_property(comp, ICAL_RECURRENCEID_PROPERTY);
		if (prop != NULL && mw_itip_instant(vcal, prop, t) == rid)
			return comp;
	}
	return NULL;
}

/* mw_itip_find_attendee - the ATTENDEE property of @comp for @address (any of @aliases too) */
icalproperty *
mw_itip_find_attendee(icalcomponent *comp, const char *address, const char *const *aliases)
{
	for (icalproperty *prop = icalcomponent_get_first_property(comp, ICAL_ATTENDEE_PROPERTY);
	     prop != NULL; prop = icalcomponent_get_next_property(comp, ICAL_ATTENDEE_PROPERTY)) {
		const char *value = icalproperty_get_attendee(prop);
		if (mw_itip_address_equal(value, address))
			return prop;
		for (guint i = 0; aliases != NULL && aliases[i] != NULL; i++) {
			if (mw_itip_address_equal(value, aliases[i]))
				return prop;
		}
	}
	return NULL;
}

/* mw_itip_organizer - the ORGANIZER address of @comp (bare, lower case) or NULL */
char *
mw_itip_organizer(icalcomponent *comp)
{
	icalproperty *prop = icalcomponent_get_first_property(comp, ICAL_ORGANIZER_PROPERTY);
	if (prop == NULL)
		return NULL;
	return mw_itip_address(icalproperty_get_organizer(prop));
}

/* mw_itip_sequence - SEQUENCE, 0 when absent */
int
mw_itip_sequence(icalcomponent *comp)
{
	icalproperty *prop = icalcomponent_get_first_property(comp, ICAL_SEQUENCE_PROPERTY);
	return prop != NULL ? icalproperty_get_sequence(prop) : 0;
}

/* mw_itip_dtstamp - DTSTAMP in seconds, 0 when absent */
gint64
mw_itip_dtstamp(icalcomponent *comp)
{
	icalproperty *prop = icalcomponent_get_first_property(comp, ICAL_DTSTAMP_PROPERTY);
	if (prop == NULL)
		return 0;
	struct icaltimetype tt = icalproperty_get_dtstamp(prop);
	if (icaltime_is_null_time(tt))
		return 0;
	/* DTSTAMP is UTC by definition (RFC 5545 §3.8.7.2) */
	tt.zone = NULL;
	return (gint64) icaltime_as_timet_with_zone(tt, icaltimezone_get_utc_timezone());
}

/* mw_itip_compare - order of two versions of one object (RFC 5546 §2.1.5):
 * <0 when @a is older than @b, 0 same, >0 newer */
int
mw_itip_compare(icalcomponent *a, icalcomponent *b)
{
	int sa = mw_itip_sequence(a), sb = mw_itip_sequence(b);
	if (sa != sb)
		return sa < sb ? -1 : 1;
	gint64 da = mw_itip_dtstamp(a), db = mw_itip_dtstamp(b);
	if (da != db)
		return da < db ? -1 : 1;
	return 0;
}

/**
 * mw_itip_is_auto_reply:
 * An auto-reply or a bounce (Auto-Submitted other than "no", RFC 3834) must
 * never be answered: two auto-responders would answer each other for ever.
 */
gboolean
mw_itip_is_auto_reply(GMimeMessage *message)
{
	const char *value = g_mime_object_get_header(GMIME_OBJECT(message), "Auto-Submitted");
	if (value == NULL)
		return FALSE;
	g_autofree char *v = g_strstrip(g_ascii_strdown(value, -1));
	return !g_str_has_prefix(v, "no");
}
