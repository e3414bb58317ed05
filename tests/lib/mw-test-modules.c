/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-test-modules - test-only modules that exercise the module interface
 * SYNOPSIS
 *	mw_test_split_module, mw_test_consume_module, mw_test_emit_module,
 *	mw_test_verdict_module, mw_test_error_module, mw_test_crash_module,
 *	mw_test_modify_module
 * DESCRIPTION
 *	Each is driven by the message (a header) or the recipients' local
 *	parts, so one config can carry them all:
 *	  test_split    recipients "split*" get their own variant with
 *	                X-Test-Variant: split
 *	  test_consume  recipients "consume*" are consumed
 *	  test_emit     X-Test-Emit: ADDR emits a required message to ADDR
 *	  test_verdict  X-Test-Verdict: reject|tempfail|discard|quarantine for
 *	                all; recipients "reject*"/"tempfail*" individually
 *	  test_error    X-Test-Error: yes fails like a dead backend
 *	  test_crash    X-Test-Crash: abort | hang | segv | spin (CPU) | eat (memory)
 *	  test_modify   X-Test-Modify: yes adds X-Test-Modified: yes
 *	They are linked into mailwarden-test and the unit tests, never into
 *	the daemon.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mw-error.h"
#include "mw-test-modules.h"
#include "mw-txn.h"

static const MwOption no_options[] = {MW_OPTION_END};

/* header_value - a header of the original message, NULL if absent or not MIME */
static const char *
header_value(MwTxn *txn, const char *name)
{
	GMimeMessage *mime = mw_message_get_mime(txn->message, NULL);
	if (mime == NULL)
		return NULL;
	return g_mime_object_get_header(GMIME_OBJECT(mime), name);
}

/* local_has_prefix - the recipient's local part starts with @prefix */
static gboolean
local_has_prefix(const MwTxnRcpt *rcpt, const char *prefix)
{
	return g_ascii_strncasecmp(rcpt->rcpt->address, prefix, strlen(prefix)) == 0;
}

static gboolean
split_process(MwModule *module, MwTxn *txn, GError **error)
{
	g_autoptr(GPtrArray) chosen = g_ptr_array_new();
	for (guint i = 0; i < txn->rcpts->len; i++) {
		MwTxnRcpt *rcpt = g_ptr_array_index(txn->rcpts, i);
		if (rcpt->verdict == MW_VERDICT_CONTINUE && local_has_prefix(rcpt, "split"))
			g_ptr_array_add(chosen, rcpt);
	}
	if (chosen->len == 0)
		return TRUE;
	MwDelivery *delivery = mw_txn_split(txn, chosen);
	GMimeMessage *mime = mw_delivery_edit_mime(delivery, error);
	if (mime == NULL)
		return FALSE;
	g_mime_object_append_header(GMIME_OBJECT(mime), "X-Test-Variant", "split", NULL);
	mw_txn_note(txn, "test_split", "%u", chosen->len);
	return TRUE;
}

static gboolean
consume_process(MwModule *module, MwTxn *txn, GError **error)
{
	for (guint i = 0; i < txn->rcpts->len; i++) {
		MwTxnRcpt *rcpt = g_ptr_array_index(txn->rcpts, i);
		if (local_has_prefix(rcpt, "consume"))
			mw_txn_verdict(txn, rcpt, MW_VERDICT_CONSUMED, "test_consume",
				       "2.0.0 consumed");
	}
	return TRUE;
}

static gboolean
emit_process(MwModule *module, MwTxn *txn, GError **error)
{
	const char *to = header_value(txn, "X-Test-Emit");
	if (to == NULL)
		return TRUE;
	g_autofree char *addr = g_strstrip(g_strdup(to));
	GMimeMessage *reply = g_mime_message_new(TRUE);
	g_mime_message_add_mailbox(reply, GMIME_ADDRESS_TYPE_FROM, "mailwarden test",
				   "mailwarden@mw.test");
	g_mime_message_add_mailbox(reply, GMIME_ADDRESS_TYPE_TO, NULL, addr);
	g_mime_message_set_subject(reply, "Test emit", NULL);
	g_mime_object_set_header(GMIME_OBJECT(reply), "Auto-Submitted", "auto-replied", NULL);
	GMimeTextPart *body = g_mime_text_part_new_with_subtype("plain");
	g_autofree char *text = g_strdup_printf("emitted for %s\n", txn->queue_id);
	g_mime_text_part_set_text(body, text);
	g_mime_message_set_mime_part(reply, GMIME_OBJECT(body));
	g_object_unref(body);
	const char *rcpts[] = {addr, NULL};
	if (!mw_txn_emit(txn, "test_emit", "", rcpts, reply, TRUE, error))
		return FALSE;
	mw_txn_note(txn, "test_emit", "1");
	return TRUE;
}

/* verdict_from_name - the verdict a header or local part names */
static MwVerdict
verdict_from_name(const char *name)
{
	if (g_ascii_strncasecmp(name, "reject", 6) == 0)
		return MW_VERDICT_REJECT;
	if (g_ascii_strncasecmp(name, "tempfail", 8) == 0)
		return MW_VERDICT_TEMPFAIL;
	if (g_ascii_strncasecmp(name, "discard", 7) == 0)
		return MW_VERDICT_DISCARD;
	if (g_ascii_strncasecmp(name, "quarantine", 10) == 0)
		return MW_VERDICT_QUARANTINE;
	return MW_VERDICT_CONTINUE;
}

/* verdict_reason - a reason with the right class of enhanced status code */
static const char *
verdict_reason(MwVerdict verdict)
{
	switch (verdict) {
	case MW_VERDICT_REJECT:
		return "5.7.1 Rejected by test_verdict";
	case MW_VERDICT_TEMPFAIL:
		return "4.7.1 Deferred by test_verdict";
	default:
		return "2.0.0 test_verdict";
	}
}

static gboolean
verdict_process(MwModule *module, MwTxn *txn, GError **error)
{
	for (guint i = 0; i < txn->rcpts->len; i++) {
		MwTxnRcpt *rcpt = g_ptr_array_index(txn->rcpts, i);
		MwVerdict v = verdict_from_name(rcpt->rcpt->address);
		if (v == MW_VERDICT_REJECT || v == MW_VERDICT_TEMPFAIL)
			mw_txn_verdict(txn, rcpt, v, "test_verdict", "%s", verdict_reason(v));
	}
	const char *header = header_value(txn, "X-Test-Verdict");
	if (header != NULL) {
		g_autofree char *name = g_strstrip(g_strdup(header));
		MwVerdict v = verdict_from_name(name);
		if (v != MW_VERDICT_CONTINUE) {
			mw_txn_verdict(txn, NULL, v, "test_verdict", "%s", verdict_reason(v));
			mw_txn_note(txn, "test_verdict", "%s", mw_verdict_names[v]);
		}
	}
	return TRUE;
}

static gboolean
error_process(MwModule *module, MwTxn *txn, GError **error)
{
	if (header_value(txn, "X-Test-Error") == NULL)
		return TRUE;
	g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "test backend unreachable");
	return FALSE;
}

static gboolean
crash_process(MwModule *module, MwTxn *txn, GError **error)
{
	const char *how = header_value(txn, "X-Test-Crash");
	if (how == NULL)
		return TRUE;
	g_autofree char *what = g_strstrip(g_strdup(how));
	if (g_str_equal(what, "abort"))
		abort();
	if (g_str_equal(what, "segv"))
		raise(SIGSEGV);
	if (g_str_equal(what, "hang")) {
		for (;;)
			pause();
	}
	if (g_str_equal(what, "spin")) {
		/* burn CPU: the per-message CPU limit must end it */
		volatile guint64 n = 0;
		for (;;)
			n++;
	}
	if (g_str_equal(what, "eat")) {
		/* allocate and touch memory until the worker's memory limit stops it */
		GPtrArray *blocks = g_ptr_array_new();
		for (;;) {
			char *block = g_malloc(1 << 20);
			memset(block, 1, 1 << 20);
			g_ptr_array_add(blocks, block);
		}
	}
	return TRUE;
}

static gboolean
modify_process(MwModule *module, MwTxn *txn, GError **error)
{
	if (header_value(txn, "X-Test-Modify") == NULL)
		return TRUE;
	for (guint i = 0; i < txn->deliveries->len; i++) {
		MwDelivery *delivery = g_ptr_array_index(txn->deliveries, i);
		if (mw_txn_delivery_n_active(txn, delivery) == 0)
			continue;
		GMimeMessage *mime = mw_delivery_edit_mime(delivery, error);
		if (mime == NULL)
			return FALSE;
		g_mime_object_append_header(GMIME_OBJECT(mime), "X-Test-Modified", "yes", NULL);
	}
	mw_txn_note(txn, "test_modify", "yes");
	return TRUE;
}

#define TEST_MODULE(var, modname, fn)                                                              \
	const MwModuleClass var = {                                                                \
		.name = modname,                                                                   \
		.abi = MW_MODULE_ABI,                                                              \
		.options = no_options,                                                             \
		.config_size = 0,                                                                  \
		.on_error_default = MW_ON_ERROR_TEMPFAIL,                                          \
		.process = fn,                                                                     \
	}

TEST_MODULE(mw_test_split_module, "test_split", split_process);
TEST_MODULE(mw_test_consume_module, "test_consume", consume_process);
TEST_MODULE(mw_test_emit_module, "test_emit", emit_process);
TEST_MODULE(mw_test_verdict_module, "test_verdict", verdict_process);
TEST_MODULE(mw_test_error_module, "test_error", error_process);
TEST_MODULE(mw_test_crash_module, "test_crash", crash_process);
TEST_MODULE(mw_test_modify_module, "test_modify", modify_process);
