/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	fuzz-footer - arbitrary bytes as a message through the footer module
 * DESCRIPTION
 *	Two configurations ([footer] with a text and an HTML file, apply_to =
 *	all; signed = skip and signed = attach, chosen by the first input byte)
 *	run the footer module and dispatch in scan mode. Checks: when the input
 *	has no bare LF, neither has the output (it must stay valid for SMTP);
 *	a second pass over the output changes nothing (the marker header keeps
 *	the module idempotent); an unmodified variant is the input byte for byte.
 *	ambiguous_mime = pass: the core's tag header is not the footer's to
 *	check (it is added again on every pass).
 *	The footer files live in a temporary directory made at the first call.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>

#include "mw-dispatch.h"
#include "mw-pipeline.h"
#include "mw-txn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FOOTER_MAX_INPUT (1 << 20)

static char *tmp_dir;
static MwConfig *config_skip;
static MwConfig *config_attach;

static void
remove_tmp(void)
{
	const char *names[] = {"footer.txt", "footer.html", NULL};
	for (guint i = 0; names[i] != NULL; i++) {
		g_autofree char *path = g_build_filename(tmp_dir, names[i], NULL);
		g_remove(path);
	}
	g_rmdir(tmp_dir);
}

static MwConfig *
load(const char *signed_mode)
{
	g_autofree char *text =
		g_strdup_printf("[mailwarden]\nhostname = fuzz.test\nlocal_domains = example.org\n"
				"modules = footer\nambiguous_mime = pass\nstate_dir = %s\n"
				"[footer]\ntext = %s/footer.txt\nhtml = %s/footer.html\n"
				"apply_to = all\nsigned = %s\n",
				tmp_dir, tmp_dir, tmp_dir, signed_mode);
	g_autoptr(GError) error = NULL;
	MwConfig *config = mw_config_load_data(text, NULL, &error);
	if (config == NULL)
		__builtin_trap();
	return config;
}

static void
setup(void)
{
	g_mime_init();
	tmp_dir = g_dir_make_tmp("mw-fuzz-footer-XXXXXX", NULL);
	if (tmp_dir == NULL)
		__builtin_trap();
	atexit(remove_tmp);
	g_autofree char *txt = g_build_filename(tmp_dir, "footer.txt", NULL);
	g_autofree char *html = g_build_filename(tmp_dir, "footer.html", NULL);
	if (!g_file_set_contents(txt,
				 "Example GmbH · Grüße aus Köln\nhttps://example.org/ — "
				 "Geschäftsführer: Erika Mustermann\n",
				 -1, NULL) ||
	    !g_file_set_contents(html,
				 "<p style=\"color:#666\">Example GmbH &middot; Gr&uuml;&szlig;e "
				 "aus K&ouml;ln<br><a href=\"https://example.org/\">example.org</a>"
				 "</p>\n",
				 -1, NULL))
		__builtin_trap();
	config_skip = load("skip");
	config_attach = load("attach");
}

/* has_bare_lf - some LF without a CR before it */
static gboolean
has_bare_lf(const guint8 *data, gsize size)
{
	for (gsize i = 0; i < size; i++) {
		if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r'))
			return TRUE;
	}
	return FALSE;
}

/* dump - triage: FUZZ_FOOTER_DUMP=prefix writes a failing input's passes (prefix.1, .2) */
static void
dump(const guint8 *first, gsize first_len, GBytes *second)
{
	const char *prefix = g_getenv("FUZZ_FOOTER_DUMP");
	if (prefix == NULL)
		return;
	g_autofree char *a = g_strconcat(prefix, ".1", NULL);
	g_file_set_contents(a, (const char *) first, (gssize) first_len, NULL);
	if (second != NULL) {
		g_autofree char *b = g_strconcat(prefix, ".2", NULL);
		g_file_set_contents(b, g_bytes_get_data(second, NULL),
				    (gssize) g_bytes_get_size(second), NULL);
	}
}

/* run - one pass: the first delivery's bytes (NULL when the message was not accepted) */
static GBytes *
run(const MwConfig *config, const guint8 *data, gsize size, gboolean *modified_out)
{
	const char *rcpts[] = {"rcpt@example.com", "other@example.org", NULL};
	MwEnvelope *env = mw_envelope_new_simple("sender@example.org", rcpts);
	g_autoptr(MwMessage) msg = mw_message_new_from_bytes(data, size);
	g_autoptr(MwTxn) txn = mw_txn_new(config, env, msg);
	MwOutcome outcome;
	GBytes *out = NULL;

	mw_pipeline_run(txn);
	mw_dispatch(txn, NULL, FALSE, &outcome);
	if (outcome.reply.code == 250 && txn->deliveries->len > 0) {
		MwDelivery *d = g_ptr_array_index(txn->deliveries, 0);
		gsize len = (gsize) mw_message_get_size(d->message);
		guint8 *buf = g_malloc(len + 1);
		if (mw_message_read(d->message, 0, buf, len, NULL) != (gssize) len)
			__builtin_trap();
		out = g_bytes_new_take(buf, len);
		*modified_out = d->modified;
		/* every variant: unmodified means the original bytes */
		for (guint i = 0; i < txn->deliveries->len; i++) {
			MwDelivery *v = g_ptr_array_index(txn->deliveries, i);
			if (!v->modified && mw_message_get_size(v->message) != size)
				__builtin_trap();
		}
	}
	mw_outcome_clear(&outcome);
	return out;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (tmp_dir == NULL)
		setup();
	if (size > FOOTER_MAX_INPUT)
		return 0;
	const MwConfig *config = size > 0 && (data[0] & 1) ? config_attach : config_skip;
	gboolean modified = FALSE;
	g_autoptr(GBytes) first = run(config, data, size, &modified);
	if (first == NULL)
		return 0;
	gsize len;
	const guint8 *out = g_bytes_get_data(first, &len);
	if (!modified && (len != size || memcmp(out, data, size) != 0))
		__builtin_trap(); /* unmodified must be byte-identical */
	if (!has_bare_lf(data, size) && has_bare_lf(out, len)) {
		dump(out, len, NULL);
		__builtin_trap(); /* the edit brought a bare LF into CRLF mail */
	}
	gboolean again_modified = FALSE;
	g_autoptr(GBytes) second = run(config, out, len, &again_modified);
	if (second == NULL)
		return 0;
	if (!g_bytes_equal(first, second)) {
		dump(out, len, second);
		__builtin_trap(); /* a second pass added something */
	}
	return 0;
}
