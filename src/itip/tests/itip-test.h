/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <check.h>

#include "mw-itip.h"

/* itip_test_message - tests/data/@name parsed (asserts) */
GMimeMessage *itip_test_message(const char *name);
/* itip_test_calendar - a VCALENDAR from text (asserts) */
icalcomponent *itip_test_calendar(const char *text);
/* itip_test_time - UTC as the zone (or @zone), now = 2026-07-01 00:00 UTC */
void itip_test_time(MwItipTime *t, const char *zone);
/* itip_test_utc - seconds of "20260715T100000Z" */
gint64 itip_test_utc(const char *text);
/* itip_test_main - g_mime_init and run */
int itip_test_main(Suite *suite);
