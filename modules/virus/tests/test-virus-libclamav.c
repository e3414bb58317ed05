/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-virus-libclamav - the module's process() with the in-process engine
 * DESCRIPTION
 *	Drives the configured pipeline on txns built from generated messages,
 *	with a real libclamav engine loaded by start() from a signature
 *	database built in the test's directory. Covers what the scanner must
 *	see through (EICAR in the body, base64 attachments, zip archives,
 *	nested message/rfc822 parts), each action, per-recipient precedence,
 *	X-Virus-Scanned (only on clean mail, never twice, absent by default so
 *	clean mail stays byte-identical), the admin and recipient notices,
 *	banned attachments, encrypted archives, the size limits, configuration
 *	errors and a failing engine under each on_error.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>

#include "mw-error.h"
#include "mw-pipeline.h"
#include "mw-virus.h"
#include "virus-test-lib.h"

static char *dir;
static char *db;

static void
setup(void)
{
	dir = g_dir_make_tmp("mw-virus-XXXXXX", NULL);
	ck_assert_ptr_nonnull(dir);
	db = vt_make_db(dir);
}

static void
teardown(void)
{
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
	g_clear_pointer(&dir, g_free);
	g_clear_pointer(&db, g_free);
}

/* config_text - a whole config with modules = virus and @keys in [virus] */
static char *
config_text(const char *keys)
{
	return g_strdup_printf("[mailwarden]\n"
			       "hostname = mw.test\n"
			       "modules = virus\n"
			       "local_domains = example.org\n"
			       "state_dir = %s\n"
			       "[virus]\n"
			       "database = %s\n"
			       "%s",
			       dir, db, keys != NULL ? keys : "");
}

/* load - the config, configured and started like the daemon's master does it */
static MwConfig *
load(const char *keys)
{
	g_autofree char *text = config_text(keys);
	g_autoptr(GError) error = NULL;
	MwConfig *config = mw_config_load_data(text, NULL, &error);

	ck_assert_msg(config != NULL, "config: %s", error != NULL ? error->message : "?");
	ck_assert_msg(mw_pipeline_start(config, &error), "start: %s", error ? error->message : "?");
	return config;
}

/* load_error - the configuration error @keys give */
static char *
load_error(const char *keys)
{
	g_autofree char *text = config_text(keys);
	g_autoptr(GError) error = NULL;
	MwConfig *config = mw_config_load_data(text, NULL, &error);

	ck_assert_msg(config == NULL, "config with '%s' accepted", keys);
	return g_strdup(error->message);
}

static const char *const one_rcpt[] = {"b@example.org", NULL};

/* run - the pipeline on @msg from a@example.net to @rcpts, with a queue id and client */
static MwTxn *
run(MwConfig *config, GBytes *msg, const char *const *rcpts)
{
	MwEnvelope *env = mw_envelope_new_simple("a@example.net", rcpts);
	env->xforward = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_hash_table_insert(env->xforward, g_strdup("IDENT"), g_strdup("4XtestQ1d"));
	g_hash_table_insert(env->xforward, g_strdup("ADDR"), g_strdup("192.0.2.7"));
	g_autoptr(MwMessage) m =
		mw_message_new_from_bytes(g_bytes_get_data(msg, NULL), g_bytes_get_size(msg));
	MwTxn *txn = mw_txn_new(config, env, m);
	mw_pipeline_run(txn);
	return txn;
}

static MwTxnRcpt *
rcpt_at(MwTxn *txn, guint i)
{
	return g_ptr_array_index(txn->rcpts, i);
}

/* note - the virus module's note, or NULL */
static const char *
note(MwTxn *txn)
{
	for (guint i = 0; i < txn->notes->len; i++) {
		const char *n = g_ptr_array_index(txn->notes, i);
		if (g_str_has_prefix(n, "virus="))
			return n + 6;
	}
	return NULL;
}

/* message_text - the bytes of @msg as a string */
static char *
message_text(MwMessage *msg)
{
	gsize len = (gsize) mw_message_get_size(msg);
	char *text = g_malloc(len + 1);
	ck_assert_int_eq(mw_message_read(msg, 0, (guint8 *) text, len, NULL), (gssize) len);
	text[len] = '\0';
	return text;
}

/* delivered_text - delivery 1 as it would be sent (edits serialized) */
static char *
delivered_text(MwTxn *txn)
{
	MwDelivery *delivery = g_ptr_array_index(txn->deliveries, 0);
	ck_assert(mw_delivery_finish(delivery, dir, NULL));
	return message_text(delivery->message);
}

/* count - occurrences of @needle in @haystack */
static guint
count(const char *haystack, const char *needle)
{
	guint n = 0;
	for (const char *p = strstr(haystack, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	return n;
}

START_TEST(test_clean_untouched)
{
	g_autoptr(MwConfig) config = load(NULL);
	g_autoptr(GBytes) msg = vt_msg_plain("hello", "nothing to see here");
	g_autoptr(MwTxn) txn = run(config, msg, one_rcpt);
	MwDelivery *delivery = g_ptr_array_index(txn->deliveries, 0);

	ck_assert_int_eq(rcpt_at(txn, 0)->verdict, MW_VERDICT_CONTINUE);
	ck_assert_str_eq(note(txn), "clean");
	ck_assert(!delivery->modified);
	ck_assert_ptr_eq(delivery->message, txn->message);
	ck_assert_uint_eq(txn->emitted->len, 0);
}
END_TEST

START_TEST(test_detects)
{
	const VtDetectCase *dc = &vt_detect_cases[_i];
	g_autoptr(MwConfig) config = load(NULL);
	g_autoptr(GBytes) msg = dc->build();
	g_autoptr(MwTxn) txn = run(config, msg, one_rcpt);
	MwTxnRcpt *rcpt = rcpt_at(txn, 0);

	ck_assert_msg(rcpt->verdict == MW_VERDICT_DISCARD, "%s: verdict %s (%s), note %s", dc->what,
		      mw_verdict_names[rcpt->verdict], rcpt->reason, note(txn));
	ck_assert_str_eq(rcpt->by, "virus");
	ck_assert_msg(strstr(rcpt->reason, "Virus found: ") != NULL &&
			      strstr(rcpt->reason, dc->virus) != NULL,
		      "%s: reason %s", dc->what, rcpt->reason);
	ck_assert_msg(g_str_has_prefix(note(txn), "infected:") &&
			      g_str_has_suffix(note(txn), "/discard"),
		      "note %s", note(txn));
}
END_TEST

typedef struct {
	const char *keys;
	MwVerdict verdict;
	const char *reason;
} ActionCase;

static const ActionCase action_cases[] = {
	{"action = discard\n", MW_VERDICT_DISCARD, "Virus found: Mailwarden.Test.Payload1"},
	{"action = reject\n", MW_VERDICT_REJECT, "5.7.1 Virus found: Mailwarden.Test.Payload1"},
	{"action = quarantine\n", MW_VERDICT_QUARANTINE, "Virus found: Mailwarden.Test.Payload1"},
};

START_TEST(test_actions)
{
	const ActionCase *ac = &action_cases[_i];
	g_autoptr(MwConfig) config = load(ac->keys);
	g_autoptr(GBytes) msg = vt_msg_payload_attachment();
	const char *rcpts[] = {"b@example.org", "c@example.org", NULL};
	g_autoptr(MwTxn) txn = run(config, msg, rcpts);

	for (guint i = 0; i < 2; i++) {
		MwTxnRcpt *rcpt = rcpt_at(txn, i);
		ck_assert_msg(rcpt->verdict == ac->verdict, "%s: %s", ac->keys,
			      mw_verdict_names[rcpt->verdict]);
		ck_assert_msg(g_str_has_prefix(rcpt->reason, ac->reason), "%s: reason '%s'",
			      ac->keys, rcpt->reason);
	}
	ck_assert_uint_eq(txn->emitted->len, 0);
}
END_TEST

START_TEST(test_only_active_recipients)
{
	g_autoptr(MwConfig) config = load("action = reject\n");
	g_autoptr(GBytes) msg = vt_msg_payload_attachment();
	const char *rcpts[] = {"b@example.org", "c@example.org", NULL};
	MwEnvelope *env = mw_envelope_new_simple("a@example.net", rcpts);
	g_autoptr(MwMessage) m =
		mw_message_new_from_bytes(g_bytes_get_data(msg, NULL), g_bytes_get_size(msg));
	g_autoptr(MwTxn) txn = mw_txn_new(config, env, m);

	/* an earlier module already decided for b@ */
	mw_txn_verdict(txn, rcpt_at(txn, 0), MW_VERDICT_DISCARD, "earlier", "2.0.0 earlier");
	mw_pipeline_run(txn);
	ck_assert_int_eq(rcpt_at(txn, 0)->verdict, MW_VERDICT_DISCARD);
	ck_assert_str_eq(rcpt_at(txn, 0)->by, "earlier");
	ck_assert_int_eq(rcpt_at(txn, 1)->verdict, MW_VERDICT_REJECT);
}
END_TEST

START_TEST(test_add_header_once)
{
	g_autoptr(MwConfig) config = load("add_header = true\n");
	g_autoptr(GBytes) msg = vt_msg_plain("hello", "clean body");
	g_autoptr(MwTxn) txn = run(config, msg, one_rcpt);
	g_autofree char *expected =
		g_strdup_printf("X-Virus-Scanned: mailwarden %s at mw.test\r\n", MW_VERSION);
	g_autofree char *first = delivered_text(txn);
	g_autofree char *orig = vt_bytes_str(msg);

	ck_assert_str_eq(note(txn), "clean");
	ck_assert_msg(g_str_has_prefix(first, expected), "first pass:\n%s", first);
	ck_assert_uint_eq(count(first, "X-Virus-Scanned"), 1);
	/* nothing else changed */
	ck_assert_str_eq(first + strlen(expected), orig);

	/* a second pass (the mail came round again) adds nothing and leaves the bytes alone */
	g_autoptr(GBytes) again_msg = g_bytes_new(first, strlen(first));
	g_autoptr(MwTxn) again = run(config, again_msg, one_rcpt);
	MwDelivery *delivery = g_ptr_array_index(again->deliveries, 0);
	ck_assert(!delivery->modified);
	ck_assert_ptr_eq(delivery->message, again->message);

	/* infected mail is not marked */
	g_autoptr(GBytes) bad = vt_msg_payload_attachment();
	g_autoptr(MwTxn) infected = run(config, bad, one_rcpt);
	MwDelivery *d2 = g_ptr_array_index(infected->deliveries, 0);
	ck_assert(!d2->modified);
	ck_assert_int_eq(rcpt_at(infected, 0)->verdict, MW_VERDICT_DISCARD);
}
END_TEST

START_TEST(test_add_header_other_hop)
{
	/* another host's header is not ours: this hop still adds its own */
	g_autoptr(MwConfig) config = load("add_header = true\n");
	g_autofree char *text =
		g_strdup_printf("X-Virus-Scanned: mailwarden %s at other.test\r\n"
				"From: <a@example.org>\r\nSubject: x\r\n\r\nbody\r\n",
				MW_VERSION);
	g_autoptr(GBytes) msg = g_bytes_new(text, strlen(text));
	g_autoptr(MwTxn) txn = run(config, msg, one_rcpt);
	g_autofree char *out = delivered_text(txn);

	ck_assert_uint_eq(count(out, "X-Virus-Scanned"), 2);
	ck_assert_ptr_nonnull(strstr(out, "at mw.test"));
}
END_TEST

START_TEST(test_add_header_folded)
{
	/* our header, folded by some hop in between, is still ours */
	g_autoptr(MwConfig) config = load("add_header = true\n");
	g_autofree char *text = g_strdup_printf("From: <a@example.org>\r\n"
						"x-virus-scanned: mailwarden %s\r\n"
						"\tat mw.test\r\n"
						"Subject: x\r\n\r\nbody\r\n",
						MW_VERSION);
	g_autoptr(GBytes) msg = g_bytes_new(text, strlen(text));
	g_autoptr(MwTxn) txn = run(config, msg, one_rcpt);
	MwDelivery *delivery = g_ptr_array_index(txn->deliveries, 0);

	ck_assert(!delivery->modified);
}
END_TEST

START_TEST(test_add_header_edited_tree)
{
	/* a module before virus edited the message: the header goes into that tree, once */
	g_autofree char *base = config_text("add_header = true\n");
	g_autofree char *text = NULL;
	g_autoptr(GError) error = NULL;
	GString *conf = g_string_new(base);
	g_string_replace(conf, "modules = virus", "modules = test_modify, virus", 1);
	text = g_string_free(conf, FALSE);
	g_autoptr(MwConfig) config = mw_config_load_data(text, NULL, &error);
	ck_assert_msg(config != NULL, "%s", error != NULL ? error->message : "?");
	ck_assert(mw_pipeline_start(config, &error));

	g_autofree char *plain = g_strdup("From: <a@example.org>\r\nX-Test-Modify: yes\r\n"
					  "Subject: x\r\n\r\nbody\r\n");
	g_autoptr(GBytes) msg = g_bytes_new(plain, strlen(plain));
	g_autoptr(MwTxn) txn = run(config, msg, one_rcpt);
	g_autofree char *out = delivered_text(txn);
	ck_assert_uint_eq(count(out, "X-Virus-Scanned: mailwarden"), 1);
	ck_assert_uint_eq(count(out, "X-Test-Modified: yes"), 1);

	/* the same through the pipeline again: test_modify edits, virus finds its header */
	g_autoptr(GBytes) again_msg = g_bytes_new(out, strlen(out));
	g_autoptr(MwTxn) again = run(config, again_msg, one_rcpt);
	g_autofree char *out2 = delivered_text(again);
	ck_assert_uint_eq(count(out2, "X-Virus-Scanned: mailwarden"), 1);
}
END_TEST

/* emitted_text - emitted message @i as text */
static char *
emitted_text(MwTxn *txn, guint i)
{
	MwEmitted *emitted = g_ptr_array_index(txn->emitted, i);
	return message_text(emitted->message);
}

START_TEST(test_notify_admin)
{
	g_autoptr(MwConfig) config = load("notify_admin = virus-admin@example.org\n");
	g_autoptr(GBytes) msg = vt_msg_payload_attachment();
	const char *rcpts[] = {"b@example.org", "c@example.org", NULL};
	g_autoptr(MwTxn) txn = run(config, msg, rcpts);

	ck_assert_uint_eq(txn->emitted->len, 1);
	MwEmitted *emitted = g_ptr_array_index(txn->emitted, 0);
	ck_assert_str_eq(emitted->envelope->sender, "");
	ck_assert_uint_eq(emitted->envelope->rcpts->len, 1);
	ck_assert_str_eq(((MwRecipient *) g_ptr_array_index(emitted->envelope->rcpts, 0))->address,
			 "virus-admin@example.org");
	ck_assert(!emitted->required);
	g_autofree char *text = emitted_text(txn, 0);
	ck_assert_msg(strstr(text, "Mailwarden.Test.Payload1") != NULL &&
			      strstr(text, "<a@example.net>") != NULL &&
			      strstr(text, "<b@example.org>, <c@example.org>") != NULL &&
			      strstr(text, "4XtestQ1d") != NULL &&
			      strstr(text, "192.0.2.7") != NULL &&
			      strstr(text, "attachment data.bin") != NULL &&
			      strstr(text, "discarded") != NULL &&
			      strstr(text, "Auto-Submitted: auto-generated") != NULL,
		      "notice:\n%s", text);
	ck_assert_int_eq(rcpt_at(txn, 0)->verdict, MW_VERDICT_DISCARD);
}
END_TEST

START_TEST(test_notify_admin_quarantine)
{
	g_autoptr(MwConfig) config =
		load("notify_admin = virus-admin@example.org\naction = quarantine\n");
	g_autoptr(GBytes) msg = vt_msg_payload_attachment();
	g_autoptr(MwTxn) txn = run(config, msg, one_rcpt);
	g_autofree char *text = emitted_text(txn, 0);

	ck_assert_msg(strstr(text, "quarantined") != NULL &&
			      strstr(text, "4XtestQ1d: quarantined as ID") != NULL &&
			      strstr(text, "release") != NULL,
		      "notice:\n%s", text);
	ck_assert_int_eq(rcpt_at(txn, 0)->verdict, MW_VERDICT_QUARANTINE);
}
END_TEST

START_TEST(test_notify_recipients)
{
	g_autoptr(MwConfig) config = load("notify_recipient = true\n");
	g_autoptr(GBytes) msg = vt_msg_payload_attachment();
	const char *rcpts[] = {"b@example.org", "x@elsewhere.test", "c@example.org", NULL};
	g_autoptr(MwTxn) txn = run(config, msg, rcpts);

	/* local recipients only, one notice each, from <>; the message itself goes nowhere */
	ck_assert_uint_eq(txn->emitted->len, 2);
	const char *expect[] = {"b@example.org", "c@example.org"};
	for (guint i = 0; i < 2; i++) {
		MwEmitted *emitted = g_ptr_array_index(txn->emitted, i);
		ck_assert_str_eq(emitted->envelope->sender, "");
		ck_assert_uint_eq(emitted->envelope->rcpts->len, 1);
		ck_assert_str_eq(
			((MwRecipient *) g_ptr_array_index(emitted->envelope->rcpts, 0))->address,
			expect[i]);
		ck_assert(emitted->required);
		g_autofree char *text = emitted_text(txn, i);
		ck_assert_msg(strstr(text, "not delivered") != NULL &&
				      strstr(text, "Mailwarden.Test.Payload1") != NULL &&
				      strstr(text, "<a@example.net>") != NULL &&
				      strstr(text, "4XtestQ1d") != NULL,
			      "notice:\n%s", text);
		ck_assert_ptr_null(strstr(text, "x@elsewhere.test"));
	}
	for (guint i = 0; i < 3; i++)
		ck_assert_int_eq(rcpt_at(txn, i)->verdict, MW_VERDICT_DISCARD);
}
END_TEST

typedef struct {
	const char *what;
	GBytes *(*build)(void);
	const char *reason;
	const char *note;
} BannedCase;

static GBytes *
double_extension(void)
{
	g_autoptr(GBytes) data = g_bytes_new_static("%PDF-1.4\n", 9);
	return vt_msg_attachment("invoice.pdf.exe", "application/pdf", data);
}

static GBytes *
name_in_zip(void)
{
	g_autoptr(GBytes) text = g_bytes_new_static("@echo off\r\n", 11);
	VtZipEntry entries[] = {{"docs/readme.txt", text, TRUE, FALSE},
				{"docs/setup.BAT", text, TRUE, FALSE}};
	g_autoptr(GBytes) zip = vt_zip(entries, 2);
	return vt_msg_attachment("docs.zip", "application/zip", zip);
}

static GBytes *
renamed_executable(void)
{
	g_autoptr(GBytes) pe = vt_pe();
	return vt_msg_attachment("readme.txt", "text/plain", pe);
}

static GBytes *
banned_extension(void)
{
	g_autoptr(GBytes) data = g_bytes_new_static("Set x = 1\r\n", 11);
	return vt_msg_attachment("Update.VBS", "application/octet-stream", data);
}

static const BannedCase banned_cases[] = {
	{"banned extension", banned_extension, "Banned attachment: Update.VBS (extension .vbs)",
	 "banned:Update.VBS/discard"},
	{"double extension", double_extension,
	 "Banned attachment: invoice.pdf.exe (double extension .pdf.exe)",
	 "banned:invoice.pdf.exe/discard"},
	{"name inside a zip", name_in_zip,
	 "Banned attachment: docs.zip/docs/setup.BAT (extension .bat)",
	 "banned:docs.zip/docs/setup.BAT/discard"},
	{"renamed executable", renamed_executable,
	 "Banned attachment: readme.txt (type application/", "banned:readme.txt/discard"},
};

START_TEST(test_banned)
{
	const BannedCase *bc = &banned_cases[_i];
	g_autoptr(MwConfig) config = load(NULL);
	g_autoptr(GBytes) msg = bc->build();
	g_autoptr(MwTxn) txn = run(config, msg, one_rcpt);
	MwTxnRcpt *rcpt = rcpt_at(txn, 0);

	ck_assert_msg(rcpt->verdict == MW_VERDICT_DISCARD, "%s: %s", bc->what,
		      mw_verdict_names[rcpt->verdict]);
	ck_assert_msg(g_str_has_prefix(rcpt->reason, bc->reason), "%s: reason '%s'", bc->what,
		      rcpt->reason);
	ck_assert_msg(g_strcmp0(note(txn), bc->note) == 0, "%s: note '%s'", bc->what, note(txn));

	/* the same with banned checks off passes */
	g_autoptr(MwConfig) off = load("banned_extensions =\nbanned_types =\n");
	g_autoptr(MwTxn) txn2 = run(off, msg, one_rcpt);
	ck_assert_msg(rcpt_at(txn2, 0)->verdict == MW_VERDICT_CONTINUE, "%s with checks off: %s",
		      bc->what, rcpt_at(txn2, 0)->reason);
}
END_TEST

START_TEST(test_banned_reject_text)
{
	g_autoptr(MwConfig) config = load("action = reject\n");
	g_autoptr(GBytes) msg = double_extension();
	g_autoptr(MwTxn) txn = run(config, msg, one_rcpt);

	ck_assert_int_eq(rcpt_at(txn, 0)->verdict, MW_VERDICT_REJECT);
	ck_assert_str_eq(rcpt_at(txn, 0)->reason,
			 "5.7.1 Banned attachment: invoice.pdf.exe (double extension .pdf.exe)");
}
END_TEST

START_TEST(test_hostile_names_sanitized)
{
	/* a file name with control characters and non-ASCII must not reach the SMTP reply raw */
	static const char text[] =
		"From: <a@example.org>\r\nTo: <b@example.org>\r\nSubject: x\r\n"
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
		"--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
		"--b\r\nContent-Type: application/octet-stream\r\n"
		"Content-Disposition: attachment; "
		"filename*=UTF-8''r%C3%A9sum%C3%A9%0D%0A250%20ok.exe\r\n"
		"Content-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n--b--\r\n";
	g_autoptr(MwConfig) config = load("action = reject\n");
	g_autoptr(GBytes) msg = g_bytes_new_static(text, sizeof text - 1);
	g_autoptr(MwTxn) txn = run(config, msg, one_rcpt);
	const char *reason = rcpt_at(txn, 0)->reason;

	ck_assert_int_eq(rcpt_at(txn, 0)->verdict, MW_VERDICT_REJECT);
	for (const char *p = reason; *p != '\0'; p++)
		ck_assert_msg(g_ascii_isprint(*p), "unprintable byte 0x%02x in '%s'", (guchar) *p,
			      reason);
	ck_assert_msg(strstr(reason, "r?sum???250 ok.exe") != NULL, "reason '%s'", reason);
}
END_TEST

START_TEST(test_encrypted_archives)
{
	g_autoptr(GBytes) data = vt_payload(3);
	VtZipEntry entries[] = {{"contract.doc", data, TRUE, TRUE}};
	g_autoptr(GBytes) zip = vt_zip(entries, 1);
	g_autoptr(GBytes) msg = vt_msg_attachment("contract.zip", "application/zip", zip);

	g_autoptr(MwConfig) block = load(NULL); /* encrypted = block is the default */
	g_autoptr(MwTxn) t1 = run(block, msg, one_rcpt);
	ck_assert_msg(rcpt_at(t1, 0)->verdict == MW_VERDICT_DISCARD, "block: %s",
		      mw_verdict_names[rcpt_at(t1, 0)->verdict]);
	ck_assert_msg(strstr(rcpt_at(t1, 0)->reason, "Encrypted") != NULL, "reason %s",
		      rcpt_at(t1, 0)->reason);

	g_autoptr(MwConfig) pass = load("encrypted = pass\n");
	g_autoptr(MwTxn) t2 = run(pass, msg, one_rcpt);
	ck_assert_msg(rcpt_at(t2, 0)->verdict == MW_VERDICT_CONTINUE, "pass: %s",
		      rcpt_at(t2, 0)->reason);
}
END_TEST

START_TEST(test_limits)
{
	/* a payload larger than max_file_size is not scanned: with oversized = pass it passes
	 * (the limit really applies), with oversized = block the message is blocked */
	g_autoptr(GBytes) msg = vt_msg_payload_attachment();
	g_autoptr(MwConfig) pass = load("max_file_size = 1k\nmax_scan_size = 2m\n");
	g_autoptr(MwTxn) t1 = run(pass, msg, one_rcpt);
	ck_assert_msg(rcpt_at(t1, 0)->verdict == MW_VERDICT_CONTINUE, "pass: %s",
		      rcpt_at(t1, 0)->reason);

	g_autoptr(MwConfig) block =
		load("max_file_size = 1k\nmax_scan_size = 2m\noversized = block\n");
	g_autoptr(MwTxn) t2 = run(block, msg, one_rcpt);
	ck_assert_msg(rcpt_at(t2, 0)->verdict == MW_VERDICT_DISCARD, "block: %s",
		      mw_verdict_names[rcpt_at(t2, 0)->verdict]);
	ck_assert_msg(strstr(rcpt_at(t2, 0)->reason, "Heuristics.Limits.Exceeded") != NULL,
		      "reason %s", rcpt_at(t2, 0)->reason);

	/* max_recursion: a payload two messages deep is not reached with a limit of 1 */
	g_autoptr(GBytes) deep = vt_msg_payload_zip_in_nested();
	g_autoptr(MwConfig) shallow = load("max_recursion = 1\n");
	g_autoptr(MwTxn) t3 = run(shallow, deep, one_rcpt);
	ck_assert_msg(rcpt_at(t3, 0)->verdict == MW_VERDICT_CONTINUE, "shallow: %s",
		      rcpt_at(t3, 0)->reason);
}
END_TEST

typedef struct {
	const char *keys;
	const char *error;
} ErrorCase;

static const ErrorCase error_cases[] = {
	{"engine = clamav\n", "[virus] engine: 'clamav' is not one of"},
	{"engine = clamd\nclamd_socket = localhost\n", "expected unix:/path or host:port"},
	{"engine = clamd\nclamd_socket = unix:relative.sock\n", "needs an absolute path"},
	{"action = bounce\n", "[virus] action: 'bounce'"},
	{"encrypted = maybe\n", "[virus] encrypted: 'maybe'"},
	{"notify_admin = not an address\n", "notify_admin: 'not an address' is not a mail address"},
	{"banned_types = exe\n", "banned_types: 'exe' is not a MIME type"},
	{"banned_extensions = exe, a/b\n", "banned_extensions: 'a/b'"},
	{"max_file_size = 10m\nmax_scan_size = 5m\n", "max_file_size"},
	{"max_recursion = 0\n", "[virus] max_recursion"},
	{"timeout = 0\n", "[virus] timeout"},
	{"on_error = maybe\n", "[virus] on_error: 'maybe'"},
	{"scan_mail = yes\n", "scan_mail"},
};

START_TEST(test_config_errors)
{
	const ErrorCase *ec = &error_cases[_i];
	g_autofree char *message = load_error(ec->keys);

	ck_assert_msg(strstr(message, ec->error) != NULL, "'%s': expected '%s' in:\n%s", ec->keys,
		      ec->error, message);
}
END_TEST

START_TEST(test_start_and_check)
{
	g_autofree char *empty = g_build_filename(dir, "empty", NULL);
	g_autofree char *keys = g_strdup_printf("database = %s\n", empty);
	g_autofree char *text = config_text(keys);
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);

	ck_assert_int_eq(g_mkdir(empty, 0755), 0);
	g_autoptr(MwConfig) config = mw_config_load_data(text, NULL, &error);
	ck_assert_ptr_nonnull(config);
	/* --check-config says what is wrong, start() refuses */
	ck_assert(!mw_pipeline_check(config, problems));
	ck_assert_msg(strstr(g_ptr_array_index(problems, 0), "no signatures") != NULL ||
			      strstr(g_ptr_array_index(problems, 0), "database") != NULL,
		      "%s", (char *) g_ptr_array_index(problems, 0));
	ck_assert(!mw_pipeline_start(config, &error));
	ck_assert_msg(strstr(error->message, "[virus] database") != NULL, "%s", error->message);

	g_autoptr(MwConfig) good = load(NULL);
	g_autoptr(GPtrArray) none = g_ptr_array_new_with_free_func(g_free);
	ck_assert(mw_pipeline_check(good, none));
	ck_assert_uint_eq(none->len, 0);
}
END_TEST

extern const MwModuleClass mw_virus_module;

START_TEST(test_section_conf)
{
	/* section.conf (merged into conf/mailwarden.conf) has every key, at its default */
	g_autofree char *path = g_build_filename(MW_TEST_SRCDIR, "..", "section.conf", NULL);
	g_autoptr(GKeyFile) file = g_key_file_new();
	g_autoptr(GError) error = NULL;

	ck_assert_msg(g_key_file_load_from_file(file, path, G_KEY_FILE_KEEP_COMMENTS, &error), "%s",
		      error != NULL ? error->message : "?");
	gsize n_keys = 0;
	g_strfreev(g_key_file_get_keys(file, "virus", &n_keys, NULL)); /* only their number */
	guint n_options = 0;
	for (const MwOption *opt = mw_virus_module.options; opt->key != NULL; opt++, n_options++) {
		g_autofree char *value = g_key_file_get_value(file, "virus", opt->key, NULL);
		ck_assert_msg(value != NULL, "section.conf lacks %s", opt->key);
		ck_assert_msg(
			g_strcmp0(value, opt->default_value != NULL ? opt->default_value : "") == 0,
			"section.conf: %s = '%s', the default is '%s'", opt->key, value,
			opt->default_value);
		g_autofree char *comment = g_key_file_get_comment(file, "virus", opt->key, NULL);
		ck_assert_msg(comment != NULL && *comment != '\0', "no comment above %s", opt->key);
	}
	g_autofree char *on_error = g_key_file_get_value(file, "virus", "on_error", NULL);
	ck_assert_str_eq(on_error, "tempfail");
	ck_assert_uint_eq(n_keys, n_options + 1);

	/* and it loads as it is, once the database exists */
	g_autofree char *text = NULL;
	ck_assert(g_file_get_contents(path, &text, NULL, NULL));
	g_autofree char *whole =
		g_strdup_printf("[mailwarden]\nstate_dir = %s\nmodules = virus\n%s", dir, text);
	g_autofree char *override = g_strdup_printf("virus.database=%s", db);
	const char *overrides[] = {override, NULL};
	g_autoptr(MwConfig) config = mw_config_load_data(whole, overrides, &error);
	ck_assert_msg(config != NULL, "%s", error != NULL ? error->message : "?");
}
END_TEST

typedef struct {
	const char *keys;
	MwVerdict verdict;
	const char *note;
} EngineDownCase;

static const EngineDownCase engine_down_cases[] = {
	{"", MW_VERDICT_TEMPFAIL, "error(tempfail)"},
	{"on_error = tempfail\n", MW_VERDICT_TEMPFAIL, "error(tempfail)"},
	{"on_error = pass\n", MW_VERDICT_CONTINUE, "error(pass)"},
};

START_TEST(test_engine_failure)
{
	const EngineDownCase *ec = &engine_down_cases[_i];
	/* configured but not started (like the offline scan command), and then the
	 * database disappears: the engine cannot be built when the message comes */
	g_autofree char *text = config_text(ec->keys);
	g_autoptr(MwConfig) config = mw_config_load_data(text, NULL, NULL);
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", db);
	ck_assert_ptr_nonnull(config);
	ck_assert_int_eq(system(cmd), 0);
	g_autoptr(GBytes) msg = vt_msg_plain("x", "clean");
	g_autoptr(MwTxn) txn = run(config, msg, one_rcpt);

	ck_assert_msg(rcpt_at(txn, 0)->verdict == ec->verdict, "%s: %s", ec->keys,
		      mw_verdict_names[rcpt_at(txn, 0)->verdict]);
	ck_assert_str_eq(note(txn), ec->note);
	if (ec->verdict == MW_VERDICT_TEMPFAIL)
		ck_assert(g_str_has_prefix(rcpt_at(txn, 0)->reason, "4."));

	/* the error itself names the cause */
	MwModule *module = mw_config_get_module(config, "virus");
	g_autoptr(GError) error = NULL;
	MwEnvelope *env = mw_envelope_new_simple("a@example.net", one_rcpt);
	g_autoptr(MwMessage) m =
		mw_message_new_from_bytes(g_bytes_get_data(msg, NULL), g_bytes_get_size(msg));
	g_autoptr(MwTxn) t = mw_txn_new(config, env, m);
	ck_assert(!module->klass->process(module, t, &error));
	ck_assert(g_error_matches(error, MW_ERROR, MW_ERROR_BACKEND));
	ck_assert_msg(strstr(error->message, "libclamav engine not available") != NULL, "%s",
		      error->message);

	/* a banned attachment is blocked even without a scanner */
	g_autoptr(GBytes) banned = double_extension();
	g_autoptr(MwTxn) t2 = run(config, banned, one_rcpt);
	ck_assert_int_eq(rcpt_at(t2, 0)->verdict, MW_VERDICT_DISCARD);
}
END_TEST

static Suite *
libclamav_suite(void)
{
	Suite *suite = suite_create("virus-libclamav");
	TCase *scan = tcase_create("scan");
	TCase *verdicts = tcase_create("verdicts");
	TCase *banned = tcase_create("banned");
	TCase *config = tcase_create("config");
	TCase *tcs[] = {scan, verdicts, banned, config};

	for (guint i = 0; i < G_N_ELEMENTS(tcs); i++) {
		tcase_add_checked_fixture(tcs[i], setup, teardown);
		tcase_set_timeout(tcs[i], 60);
		suite_add_tcase(suite, tcs[i]);
	}
	tcase_add_test(scan, test_clean_untouched);
	tcase_add_loop_test(scan, test_detects, 0, vt_n_detect_cases);
	tcase_add_test(scan, test_encrypted_archives);
	tcase_add_test(scan, test_limits);
	tcase_add_loop_test(verdicts, test_actions, 0, G_N_ELEMENTS(action_cases));
	tcase_add_test(verdicts, test_only_active_recipients);
	tcase_add_test(verdicts, test_add_header_once);
	tcase_add_test(verdicts, test_add_header_other_hop);
	tcase_add_test(verdicts, test_add_header_folded);
	tcase_add_test(verdicts, test_add_header_edited_tree);
	tcase_add_test(verdicts, test_notify_admin);
	tcase_add_test(verdicts, test_notify_admin_quarantine);
	tcase_add_test(verdicts, test_notify_recipients);
	tcase_add_loop_test(banned, test_banned, 0, G_N_ELEMENTS(banned_cases));
	tcase_add_test(banned, test_banned_reject_text);
	tcase_add_test(banned, test_hostile_names_sanitized);
	tcase_add_loop_test(config, test_config_errors, 0, G_N_ELEMENTS(error_cases));
	tcase_add_test(config, test_start_and_check);
	tcase_add_test(config, test_section_conf);
	tcase_add_loop_test(config, test_engine_failure, 0, G_N_ELEMENTS(engine_down_cases));
	return suite;
}

int
main(void)
{
	g_mime_init();
	SRunner *runner = srunner_create(libclamav_suite());
	srunner_run_all(runner, CK_ENV);
	int failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	g_mime_shutdown();
	return failed == 0 ? 0 : 1;
}
