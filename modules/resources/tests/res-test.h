/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <check.h>

#include "mw-itip.h"
#include "mw-txn.h"

/* the directory every resources test uses */
extern const char *const res_test_directory;

/*
 * res_itip - an iTip mail as an organizer's client sends it.
 * @method: REQUEST, CANCEL, REPLY
 * @from: the From/ORGANIZER address
 * @attendees: comma-separated addresses
 * @start, @end: "20260715T100000Z" or with a TZID prefix ("TZID=Europe/Berlin:2026...")
 * @vevent_extra: (nullable): more VEVENT lines ("RRULE:...\r\n")
 * @calendar_extra: (nullable): more components after the VEVENT (overrides)
 */
char *res_itip(const char *method, const char *uid, int sequence, const char *dtstamp,
	       const char *start, const char *end, const char *from, const char *attendees,
	       const char *vevent_extra, const char *calendar_extra);

/* res_env_setup / res_env_teardown - a temp dir with the directory file and calendars */
typedef struct {
	char *dir;
	char *directory;
	char *calendars; /* the PATH of dir:PATH */
	char *state;
} ResEnv;
void res_env_setup(ResEnv *env, const char *directory_text);
void res_env_teardown(ResEnv *env);
/* res_env_config_keys - [mailwarden] lines for directory, calendars, state_dir */
char *res_env_config_keys(const ResEnv *env);

/* res_bookings - how many .ics objects the calendar of @address holds */
guint res_bookings(const ResEnv *env, const char *address);
/* res_booking - the stored object of @uid at @address, or NULL */
icalcomponent *res_booking(const ResEnv *env, const char *address, const char *uid);

/* res_parse - a message from bytes */
GMimeMessage *res_parse(const void *data, gsize len);
/* res_reply_info - METHOD, replying ATTENDEE and its PARTSTAT of an iTip mail, FALSE if none */
gboolean res_reply_info(GMimeMessage *message, char **method_out, char **attendee_out,
			char **partstat_out);
/* res_text_body - the text/plain part (decoded) */
char *res_text_body(GMimeMessage *message);
