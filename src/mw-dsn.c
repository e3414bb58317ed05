/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-dsn - bounce messages for recipients refused after the queue
 * SYNOPSIS
 *	mw_dsn_build
 * DESCRIPTION
 *	With SMTP between Postfix and mailwarden there is one reply for all
 *	recipients of a message. When a module rejects some recipients and
 *	others are delivered, the answer must be 250 (or the delivered ones
 *	would be sent twice) and the refused ones are told to the sender with
 *	a DSN of our own, as amavisd-new does. LMTP needs none of this: each
 *	recipient gets its own reply and Postfix bounces.
 */
#include <string.h>

#include "mw-dsn.h"

/* wants_failure_notice - RFC 3461 NOTIFY: absent means FAILURE,DELAY */
static gboolean
wants_failure_notice(const MwRecipient *rcpt)
{
	const char *notify = mw_param_array_get(rcpt->params, "NOTIFY", NULL);
	if (notify == NULL)
		return TRUE;
	g_autofree char *upper = g_ascii_strup(notify, -1);
	return strstr(upper, "FAILURE") != NULL;
}

/* status_of - "5.7.1" from "5.7.1 text" or "554 5.7.1 text" */
static char *
status_of(const char *text)
{
	const char *p = text;
	if (g_ascii_isdigit(p[0]) && g_ascii_isdigit(p[1]) && g_ascii_isdigit(p[2]) && p[3] == ' ')
		p += 4;
	if (g_ascii_isdigit(p[0]) && p[1] == '.') {
		const char *end = strchr(p, ' ');
		return end != NULL ? g_strndup(p, (gsize) (end - p)) : g_strdup(p);
	}
	return g_strdup("5.0.0");
}

/* original_headers - the header block of the original message */
static char *
original_headers(MwMessage *message)
{
	g_autofree char *head = mw_message_dup_head(message, 64 * 1024);
	char *end = strstr(head, "\r\n\r\n");
	if (end != NULL)
		end[2] = '\0';
	else if ((end = strstr(head, "\n\n")) != NULL)
		end[1] = '\0';
	return g_steal_pointer(&head);
}

/* text_part - a text/plain or other text part with UTF-8 content */
static GMimePart *
text_part(const char *type, const char *subtype, const char *content)
{
	GMimePart *part = g_mime_part_new_with_type(type, subtype);
	if (g_str_equal(type, "text") && g_str_equal(subtype, "plain"))
		g_mime_object_set_content_type_parameter(GMIME_OBJECT(part), "charset", "utf-8");
	g_autoptr(GMimeStream) stream = g_mime_stream_mem_new();
	g_mime_stream_write_string(stream, content);
	g_autoptr(GMimeDataWrapper) wrapper =
		g_mime_data_wrapper_new_with_stream(stream, GMIME_CONTENT_ENCODING_DEFAULT);
	g_mime_part_set_content(part, wrapper);
	g_mime_part_set_content_encoding(
		part, g_mime_part_get_best_content_encoding(part, GMIME_ENCODING_CONSTRAINT_7BIT));
	return part;
}

GMimeMessage *
mw_dsn_build(MwTxn *txn, GPtrArray *failed, GPtrArray *texts)
{
	const char *sender = txn->envelope->sender;
	if (sender == NULL || *sender == '\0')
		return NULL;
	const char *hostname = txn->config->hostname;
	g_autoptr(GString) human = g_string_new(NULL);
	g_autoptr(GString) status = g_string_new(NULL);
	g_autoptr(GDateTime) now = g_date_time_new_now_local();
	g_autofree char *date = g_mime_utils_header_format_date(now);
	g_string_append_printf(human,
			       "This is the mail system at host %s.\n\n"
			       "Your message could not be delivered to one or more recipients.\n"
			       "It was refused by the content filter.\n\n",
			       hostname);
	g_string_append_printf(status, "Reporting-MTA: dns; %s\nX-Postfix-Queue-ID: %s\n", hostname,
			       txn->queue_id);
	g_string_append_printf(status, "Arrival-Date: %s\n", date);
	guint n = 0;
	for (guint i = 0; i < failed->len; i++) {
		MwTxnRcpt *rcpt = g_ptr_array_index(failed, i);
		if (!wants_failure_notice(rcpt->rcpt))
			continue;
		const char *text = texts != NULL ? g_ptr_array_index(texts, i) : NULL;
		g_autofree char *diag =
			text != NULL ? g_strdup(text)
				     : g_strdup_printf("554 %s", rcpt->reason != NULL
									 ? rcpt->reason
									 : "5.7.1 Rejected");
		g_strdelimit(diag, "\r\n", ' ');
		g_autofree char *code = status_of(diag);
		g_string_append_printf(human, "<%s>: %s\n", rcpt->rcpt->address, diag);
		g_string_append_printf(status, "\nFinal-Recipient: rfc822; %s\n",
				       rcpt->rcpt->address);
		const char *orcpt = mw_param_array_get(rcpt->rcpt->params, "ORCPT", NULL);
		if (orcpt != NULL)
			g_string_append_printf(status, "Original-Recipient: %s\n", orcpt);
		g_string_append_printf(status, "Action: failed\nStatus: %s\n", code);
		g_string_append_printf(status, "Diagnostic-Code: smtp; %s\n", diag);
		n++;
	}
	if (n == 0)
		return NULL;

	GMimeMessage *dsn = g_mime_message_new(TRUE);
	GMimeObject *object = GMIME_OBJECT(dsn);
	g_autofree char *from = g_strdup_printf("MAILER-DAEMON@%s", hostname);
	g_mime_message_add_mailbox(dsn, GMIME_ADDRESS_TYPE_FROM, "Mail Delivery System", from);
	g_mime_message_add_mailbox(dsn, GMIME_ADDRESS_TYPE_TO, NULL, sender);
	g_mime_message_set_subject(dsn, "Undelivered Mail Returned to Sender", "utf-8");
	g_mime_message_set_date(dsn, now);
	g_autofree char *msgid = g_strdup_printf("%s.%s@%s", txn->queue_id, txn->id, hostname);
	g_mime_message_set_message_id(dsn, msgid);
	g_mime_object_set_header(object, "Auto-Submitted", "auto-replied", NULL);

	g_autoptr(GMimeMultipart) report = g_mime_multipart_new_with_subtype("report");
	g_mime_object_set_content_type_parameter(GMIME_OBJECT(report), "report-type",
						 "delivery-status");
	g_autoptr(GMimePart) p1 = text_part("text", "plain", human->str);
	g_autoptr(GMimePart) p2 = text_part("message", "delivery-status", status->str);
	g_autofree char *headers = original_headers(txn->message);
	g_autoptr(GMimePart) p3 = text_part("text", "rfc822-headers", headers);
	g_mime_multipart_add(report, GMIME_OBJECT(p1));
	g_mime_multipart_add(report, GMIME_OBJECT(p2));
	g_mime_multipart_add(report, GMIME_OBJECT(p3));
	g_mime_message_set_mime_part(dsn, GMIME_OBJECT(report));
	return dsn;
}
