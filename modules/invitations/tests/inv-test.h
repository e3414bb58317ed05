/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <check.h>

#include "mw-itip.h"

/*
 * inv_itip - an iTip mail as a calendar client sends it
 * @method: REQUEST, REPLY, CANCEL
 * @kind: "VEVENT" or "VTODO"
 * @organizer: the From and ORGANIZER address
 * @body: the component's lines after UID, SEQUENCE, DTSTAMP and ORGANIZER
 *   (DTSTART, ATTENDEE ... each ending with \r\n)
 */
char *inv_itip(const char *method, const char *kind, const char *uid, int sequence,
	       const char *dtstamp, const char *organizer, const char *body);
/* inv_att - an ATTENDEE line: PARTSTAT=NEEDS-ACTION;RSVP=TRUE */
char *inv_att(const char *address);

/* inv_stored - the object of @uid in @address's calendar of the store in @calendars, or NULL */
icalcomponent *inv_stored(const char *calendars, const char *address, const char *uid);
/* inv_put - store @ics as the object of @uid in @address's calendar */
void inv_put(const char *calendars, const char *address, const char *uid, const char *ics);
/* inv_partstat - the PARTSTAT name of @address in @comp, NULL if not an attendee */
const char *inv_partstat(icalcomponent *comp, const char *address);

/* inv_parse - a message from bytes */
GMimeMessage *inv_parse(GBytes *bytes);
/* inv_reply_info - METHOD, first ATTENDEE and its PARTSTAT of an iTip mail; FALSE if none */
gboolean inv_reply_info(GMimeMessage *message, char **method_out, char **attendee_out,
			char **partstat_out);
/* inv_text_body - the first text/plain part, decoded */
char *inv_text_body(GMimeMessage *message);
