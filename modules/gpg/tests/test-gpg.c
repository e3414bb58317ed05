/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-gpg - the gpg module on messages, with a real gpg and real keys
 * SYNOPSIS
 *	mod-gpg-unit
 * DESCRIPTION
 *	Drives the pipeline (modules = gpg, sometimes after test_modify) on
 *	txns built in memory, against the keys of gpg-test.c, and checks each
 *	delivery: recipients with a usable key get a copy of their own that
 *	is RFC 3156 PGP/MIME encrypted to their key alone and decrypts (with
 *	gpg) to the original entity, byte for byte and as the same MIME tree;
 *	everybody else shares the untouched original. Also: key choice
 *	(expired, revoked, sign-only, disabled, revoked user id, expired
 *	subkey, case, newest key), recipients = local | all, the opt-in list
 *	and its reload, keys imported while running, mail that is encrypted
 *	already (and our own output), signed mail whose signature still
 *	verifies, a 10 MB message, a broken keyring under on_error = pass
 *	and tempfail, and the configuration checks.
 *
 *	Every test needs gpg (tag "gpg"); the keys are made once in main().
 */
#include <check.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "gpg-test.h"
#include "mw-error.h"
#include "mw-gpg.h"
#include "mw-pipeline.h"
#include "mw-txn.h"

static char *tmp_dir;

static void
setup(void)
{
	tmp_dir = g_dir_make_tmp("mw-gpg-unit-XXXXXX", NULL);
	ck_assert_ptr_nonnull(tmp_dir);
}

static void
teardown(void)
{
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", tmp_dir);
	ck_assert_int_eq(system(cmd), 0);
	g_clear_pointer(&tmp_dir, g_free);
}

/* --- helpers -------------------------------------------------------------- */

/* load - a config with @modules, local_domains = example.org and a [gpg] section of @gpg_keys
 * (default: keyring = the test keyring); NULL with the error text in @problem_out */
static MwConfig *
load(const char *modules, const char *gpg_keys, char **problem_out)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *default_keys = g_strdup_printf("keyring = %s\n", gpgt->keyring);
	g_autofree char *text =
		g_strdup_printf("[mailwarden]\n"
				"hostname = mw.test\n"
				"modules = %s\n"
				"local_domains = example.org, example.net\n"
				"state_dir = %s\n"
				"[gpg]\n%s\n",
				modules, tmp_dir, gpg_keys != NULL ? gpg_keys : default_keys);
	MwConfig *config = mw_config_load_data(text, NULL, &error);
	if (problem_out != NULL)
		*problem_out = config == NULL ? g_strdup(error->message) : NULL;
	return config;
}

/* config_ok - load() that must succeed, with the master's start() and a worker's init() run */
static MwConfig *
config_ok(const char *modules, const char *gpg_keys)
{
	g_autofree char *problem = NULL;
	g_autoptr(GError) error = NULL;
	MwConfig *config = load(modules, gpg_keys, &problem);
	ck_assert_msg(config != NULL, "config: %s", problem);
	ck_assert_msg(mw_pipeline_start(config, &error), "start: %s",
		      error != NULL ? error->message : "");
	ck_assert_msg(mw_pipeline_worker_init(config, &error), "worker_init: %s",
		      error != NULL ? error->message : "");
	return config;
}

/* message_from - an MwMessage of @bytes, spooled like the daemon's past the threshold */
static MwMessage *
message_from(GBytes *bytes)
{
	MwMessage *msg = mw_message_new(tmp_dir, MW_MESSAGE_MEMORY_THRESHOLD);
	gsize len = 0;
	const guint8 *data = g_bytes_get_data(bytes, &len);
	ck_assert(mw_message_append(msg, data, len, NULL));
	ck_assert(mw_message_seal(msg, NULL));
	return msg;
}

/* run - the pipeline on @bytes for the NULL-terminated @rcpts; every delivery finished */
static MwTxn *
run(MwConfig *config, const char *const *rcpts, GBytes *bytes)
{
	MwEnvelope *env = mw_envelope_new_simple("sender@example.net", rcpts);
	g_autoptr(MwMessage) msg = message_from(bytes);
	MwTxn *txn = mw_txn_new(config, env, msg);
	mw_pipeline_run(txn);
	for (guint i = 0; i < txn->deliveries->len; i++) {
		g_autoptr(GError) error = NULL;
		MwDelivery *delivery = g_ptr_array_index(txn->deliveries, i);
		ck_assert_msg(mw_delivery_finish(delivery, tmp_dir, &error), "finish: %s",
			      error != NULL ? error->message : "");
	}
	return txn;
}

/* message_bytes - all bytes of @msg */
static GBytes *
message_bytes(MwMessage *msg)
{
	gsize len = (gsize) mw_message_get_size(msg);
	guint8 *data = g_malloc(len + 1);
	ck_assert_int_eq(mw_message_read(msg, 0, data, len, NULL), (gssize) len);
	return g_bytes_new_take(data, len);
}

/* rcpt_of - the txn recipient @address (asserts it exists) */
static MwTxnRcpt *
rcpt_of(MwTxn *txn, const char *address)
{
	for (guint i = 0; i < txn->rcpts->len; i++) {
		MwTxnRcpt *rcpt = g_ptr_array_index(txn->rcpts, i);
		if (strcmp(rcpt->rcpt->address, address) == 0)
			return rcpt;
	}
	ck_abort_msg("no recipient %s", address);
}

/* bytes_for - what @address gets (asserts it is still to be delivered) */
static GBytes *
bytes_for(MwTxn *txn, const char *address)
{
	MwTxnRcpt *rcpt = rcpt_of(txn, address);
	ck_assert_msg(rcpt->verdict == MW_VERDICT_CONTINUE, "%s has verdict %s", address,
		      mw_verdict_names[rcpt->verdict]);
	return message_bytes(rcpt->delivery->message);
}

/* active_in - active recipients in @address's delivery */
static guint
active_in(MwTxn *txn, const char *address)
{
	return mw_txn_delivery_n_active(txn, rcpt_of(txn, address)->delivery);
}

/* note - the gpg note of the summary line, or "" */
static const char *
note(MwTxn *txn)
{
	for (guint i = 0; i < txn->notes->len; i++) {
		const char *text = g_ptr_array_index(txn->notes, i);
		if (g_str_has_prefix(text, "gpg="))
			return text + 4;
	}
	return "";
}

/* assert_untouched - @address gets the original bytes, unmodified */
#define assert_untouched(txn, address, original)                                                   \
	do {                                                                                       \
		g_autoptr(GBytes) got_ = bytes_for((txn), (address));                              \
		ck_assert_msg(!rcpt_of((txn), (address))->delivery->modified,                      \
			      "%s's delivery is marked modified", (address));                      \
		ck_assert_msg(g_bytes_equal(got_, (original)), "%s did not get the original",      \
			      (address));                                                          \
	} while (0)

/* private_keyring - a copy of the test keyring in the test's directory (changes stay there) */
static char *
private_keyring(void)
{
	char *keyring = g_build_filename(tmp_dir, "keyring", NULL);
	g_autofree char *cmd = g_strdup_printf("cp -a '%s' '%s'", gpgt->keyring, keyring);
	ck_assert_int_eq(system(cmd), 0);
	return keyring;
}

static GBytes *
bytes_of(const char *text)
{
	return g_bytes_new(text, strlen(text));
}

static const char simple_text[] =
	"Return-Path: <sender@example.net>\r\n"
	"Received: from mx.example.net (mx.example.net [192.0.2.1])\r\n"
	"\tby mx.example.org (Postfix) with ESMTPS id 4Xb2Kq1ZzFz9rxM\r\n"
	"\tfor <alice@example.org>; Mon, 1 Jan 2024 10:00:00 +0000 (UTC)\r\n"
	"From: Sender <sender@example.net>\r\n"
	"To: Alice <alice@example.org>\r\n"
	"Cc: bob@example.org\r\n"
	"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= and a long subject line that is folded\r\n"
	" onto a second line\r\n"
	"Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n"
	"Message-ID: <msg-1@example.net>\r\n"
	"References: <msg-0@example.net>\r\n"
	"In-Reply-To: <msg-0@example.net>\r\n"
	"X-Spam-Status: No, score=0.1\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: text/plain; charset=utf-8\r\n"
	"Content-Transfer-Encoding: 8bit\r\n"
	"Content-Language: de\r\n"
	"\r\n"
	"Hallo Alice, Gr\xc3\xbc\xc3\x9f"
	"e!\r\n"
	".a line with a dot\r\n"
	"From the start of a line\r\n"
	"-----BEGIN PGP SIGNATURE----- is not an encrypted message\r\n";

static const char multipart_text[] =
	"Received: from mx.example.net by mx.example.org; Mon, 1 Jan 2024 10:00:00 +0000\r\n"
	"From: sender@example.net\r\n"
	"To: bob@example.org\r\n"
	"Subject: report\r\n"
	"Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n"
	"Message-ID: <msg-2@example.net>\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
	"\r\n"
	"This is a multi-part message in MIME format.\r\n"
	"--outer\r\n"
	"Content-Type: multipart/alternative; boundary=\"alt\"\r\n"
	"\r\n"
	"--alt\r\n"
	"Content-Type: text/plain; charset=iso-8859-1\r\n"
	"Content-Transfer-Encoding: quoted-printable\r\n"
	"\r\n"
	"Sch=F6ne Gr=FC=DFe\r\n"
	"--alt\r\n"
	"Content-Type: text/html; charset=utf-8\r\n"
	"\r\n"
	"<p>Sch\xc3\xb6ne Gr\xc3\xbc\xc3\x9f"
	"e</p>\r\n"
	"--alt--\r\n"
	"--outer\r\n"
	"Content-Type: application/pdf; name=\"report.pdf\"\r\n"
	"Content-Disposition: attachment; filename=\"report.pdf\"\r\n"
	"Content-Transfer-Encoding: base64\r\n"
	"\r\n"
	"JVBERi0xLjQKJcOkw7zDtsOfCjIgMCBvYmoKPDwvTGVuZ3RoIDMgMCBSL0ZpbHRlci9GbGF0ZURl\r\n"
	"Y29kZT4+CnN0cmVhbQp4nDPQM1Qo5ypUMFAw0DMwslAwtTTVMzI2UwhJ4XIN4QIAZhEFQQplbmRz\r\n"
	"--outer\r\n"
	"Content-Type: message/rfc822\r\n"
	"Content-Disposition: attachment; filename=\"forwarded.eml\"\r\n"
	"\r\n"
	"From: someone@example.com\r\n"
	"Subject: the forwarded one\r\n"
	"Content-Type: text/plain\r\n"
	"\r\n"
	"forwarded body\r\n"
	"--outer--\r\n"
	"epilogue\r\n";

/* --- configuration --------------------------------------------------------- */

START_TEST(test_config_defaults)
{
	g_autofree char *problem = NULL;
	g_autoptr(MwConfig) config = load("gpg", "", &problem);
	ck_assert_msg(config != NULL, "%s", problem);
	MwModule *module = mw_config_get_module(config, "gpg");
	const MwGpgConfig *gpg_config = module->config;
	const MwGpg *gpg = module->priv;
	g_autofree char *expected = g_build_filename(tmp_dir, "gnupg", NULL);

	ck_assert_str_eq(gpg->keyring, expected);
	ck_assert_int_eq(gpg_config->recipients, MW_GPG_RECIPIENTS_LOCAL);
	ck_assert_ptr_null(gpg->only);
	ck_assert_int_eq(module->on_error, MW_ON_ERROR_PASS);
}
END_TEST

static const struct {
	const char *core_modules;
	const char *section;
	const char *expected;
} bad_configs[] = {
	{"gpg", "recipients = some", "recipients"},
	{"gpg", "only = /nonexistent/optin", "/nonexistent/optin"},
	{"gpg", "on_error = reject", "on_error"},
	{"gpg", "keyrings = /tmp", "keyrings"},
	{"gpg", "only = @JUNK@", "line 2"},
};

START_TEST(test_config_errors)
{
	g_autofree char *problem = NULL;
	g_autofree char *section = g_strdup(bad_configs[_i].section);
	if (strstr(section, "@JUNK@") != NULL) {
		g_autofree char *path = g_build_filename(tmp_dir, "optin", NULL);
		ck_assert(
			g_file_set_contents(path, "alice@example.org\nnot an address\n", -1, NULL));
		g_free(section);
		section = g_strdup_printf("only = %s", path);
	}
	g_autoptr(MwConfig) config = load(bad_configs[_i].core_modules, section, &problem);
	ck_assert_msg(config == NULL, "accepted: %s", section);
	ck_assert_msg(strstr(problem, "[gpg]") != NULL &&
			      strstr(problem, bad_configs[_i].expected) != NULL,
		      "problem for \"%s\" does not name %s: %s", section, bad_configs[_i].expected,
		      problem);
}
END_TEST

START_TEST(test_config_local_needs_domains)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *text = g_strdup_printf("[mailwarden]\nmodules = gpg\nstate_dir = %s\n"
						"[gpg]\nkeyring = %s\n",
						tmp_dir, gpgt->keyring);
	g_autoptr(MwConfig) config = mw_config_load_data(text, NULL, &error);
	ck_assert_ptr_null(config);
	ck_assert_msg(strstr(error->message, "local_domains") != NULL, "%s", error->message);

	g_autofree char *all = g_strdup_printf("[mailwarden]\nmodules = gpg\nstate_dir = %s\n"
					       "[gpg]\nkeyring = %s\nrecipients = all\n",
					       tmp_dir, gpgt->keyring);
	g_autoptr(MwConfig) ok = mw_config_load_data(all, NULL, NULL);
	ck_assert_ptr_nonnull(ok);
}
END_TEST

START_TEST(test_check_hook)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(MwConfig) good = config_ok("gpg", NULL);
	MwModule *module = mw_config_get_module(good, "gpg");
	ck_assert_msg(module->klass->check(module, &error), "%s", error->message);

	g_autofree char *missing_keys = g_strdup_printf("keyring = %s/none", tmp_dir);
	g_autoptr(MwConfig) missing = config_ok("gpg", missing_keys);
	module = mw_config_get_module(missing, "gpg");
	ck_assert(!module->klass->check(module, &error));
	ck_assert_msg(strstr(error->message, "/none") != NULL, "%s", error->message);
	g_clear_error(&error);

	/* a damaged keyring: gpg finds nothing in it, which must not pass for "no keys" */
	g_autofree char *broken = g_build_filename(tmp_dir, "broken", NULL);
	g_autofree char *pubring = g_build_filename(broken, "pubring.kbx", NULL);
	ck_assert_int_eq(g_mkdir(broken, 0700), 0);
	ck_assert(g_file_set_contents(pubring, "\x0f\x01garbage, not a keybox at all", -1, NULL));
	g_autofree char *broken_keys = g_strdup_printf("keyring = %s", broken);
	g_autoptr(MwConfig) damaged = config_ok("gpg", broken_keys);
	module = mw_config_get_module(damaged, "gpg");
	ck_assert(!module->klass->check(module, &error));
	ck_assert_msg(strstr(error->message, "cannot list keys") != NULL, "%s", error->message);
}
END_TEST

START_TEST(test_only_list)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *path = g_build_filename(tmp_dir, "optin", NULL);
	ck_assert(g_file_set_contents(path,
				      "# opted in\n\n  Alice@Example.ORG  \n<bob@example.org>\n"
				      "# carol@example.org\n",
				      -1, NULL));
	g_autoptr(MwGpgOnly) only = mw_gpg_only_new(path, &error);
	ck_assert_msg(only != NULL, "%s", error != NULL ? error->message : "");
	ck_assert_uint_eq(mw_gpg_only_size(only), 2);
	ck_assert(mw_gpg_only_contains(only, "alice@example.org"));
	ck_assert(mw_gpg_only_contains(only, "bob@example.org"));
	ck_assert(!mw_gpg_only_contains(only, "carol@example.org"));

	/* unchanged: nothing read; changed: read again */
	ck_assert(mw_gpg_only_refresh(only, &error));
	ck_assert(g_file_set_contents(path, "carol@example.org\n", -1, NULL));
	ck_assert(mw_gpg_only_refresh(only, &error));
	ck_assert(mw_gpg_only_contains(only, "carol@example.org"));
	ck_assert(!mw_gpg_only_contains(only, "alice@example.org"));

	/* gone: an error, not an empty list */
	ck_assert_int_eq(g_unlink(path), 0);
	ck_assert(!mw_gpg_only_refresh(only, &error));
	ck_assert_int_eq(error->code, MW_ERROR_BACKEND);
}
END_TEST

START_TEST(test_keyring_option)
{
	g_autofree char *conf = g_build_filename(tmp_dir, "gpg.conf", NULL);
	ck_assert(!mw_gpg_keyring_has_option(tmp_dir, "no-random-seed-file"));
	ck_assert(g_file_set_contents(conf, "# no-random-seed-file\nno-random-seed-files\n", -1,
				      NULL));
	ck_assert(!mw_gpg_keyring_has_option(tmp_dir, "no-random-seed-file"));
	ck_assert(g_file_set_contents(conf, "keyserver hkps://x\n  no-random-seed-file  \n", -1,
				      NULL));
	ck_assert(mw_gpg_keyring_has_option(tmp_dir, "no-random-seed-file"));
	ck_assert(mw_gpg_keyring_has_option(tmp_dir, "keyserver"));
}
END_TEST

/* --- encryption ------------------------------------------------------------ */

START_TEST(test_single_recipient)
{
	static const char *const rcpts[] = {"alice@example.org", NULL};
	g_autoptr(MwConfig) config = config_ok("gpg", NULL);
	g_autoptr(GBytes) original = bytes_of(simple_text);
	g_autoptr(MwTxn) txn = run(config, rcpts, original);
	g_autoptr(GBytes) got = bytes_for(txn, "alice@example.org");

	ck_assert_str_eq(note(txn), "encrypted:1");
	/* alone in the delivery: encrypted in place, no second delivery */
	ck_assert_uint_eq(txn->deliveries->len, 1);
	gpgt_assert_decrypts_to(got, "alice@example.org", original);

	/* the outer message, as GMime sees it */
	g_autoptr(GMimeMessage) outer = gpgt_parse_message(got);
	ck_assert_str_eq(g_mime_message_get_message_id(outer), "msg-1@example.net");
	ck_assert_ptr_nonnull(g_mime_object_get_header(GMIME_OBJECT(outer), "Received"));
	ck_assert_ptr_nonnull(g_mime_object_get_header(GMIME_OBJECT(outer), "Return-Path"));
	ck_assert_ptr_nonnull(g_mime_object_get_header(GMIME_OBJECT(outer), "References"));
	ck_assert_ptr_nonnull(g_mime_object_get_header(GMIME_OBJECT(outer), "In-Reply-To"));
	ck_assert_str_eq(g_mime_object_get_header(GMIME_OBJECT(outer), "X-Spam-Status"),
			 "No, score=0.1");
}
END_TEST

START_TEST(test_multipart_tree)
{
	static const char *const rcpts[] = {"bob@example.org", NULL};
	g_autoptr(MwConfig) config = config_ok("gpg", NULL);
	g_autoptr(GBytes) original = bytes_of(multipart_text);
	g_autoptr(MwTxn) txn = run(config, rcpts, original);
	g_autoptr(GBytes) got = bytes_for(txn, "bob@example.org");

	gpgt_assert_decrypts_to(got, "bob@example.org", original);
}
END_TEST

START_TEST(test_mixed_recipients)
{
	static const char *const rcpts[] = {
		"alice@example.org", "nokey@example.org", "carol@example.org",
		"dave@example.org",  "erin@example.org",  "frank-old@example.org",
		"henry@example.org", "ivan@example.org",  "remote@elsewhere.test",
		"bob@example.org",   "frank@example.org", NULL};
	static const char *const keyed[] = {"alice@example.org", "bob@example.org",
					    "frank@example.org"};
	static const char *const plain[] = {"nokey@example.org",     "carol@example.org",
					    "dave@example.org",      "erin@example.org",
					    "frank-old@example.org", "henry@example.org",
					    "ivan@example.org",      "remote@elsewhere.test"};
	g_autoptr(MwConfig) config = config_ok("gpg", NULL);
	g_autoptr(GBytes) original = bytes_of(simple_text);
	g_autoptr(MwTxn) txn = run(config, rcpts, original);

	ck_assert_str_eq(note(txn), "encrypted:3");
	/* one split per keyed recipient; the rest share the first delivery */
	ck_assert_uint_eq(txn->deliveries->len, 4);
	for (guint i = 0; i < G_N_ELEMENTS(keyed); i++) {
		g_autoptr(GBytes) got = bytes_for(txn, keyed[i]);
		ck_assert_uint_eq(active_in(txn, keyed[i]), 1);
		gpgt_assert_decrypts_to(got, keyed[i], original);
	}
	for (guint i = 0; i < G_N_ELEMENTS(plain); i++) {
		assert_untouched(txn, plain[i], original);
		ck_assert_uint_eq(rcpt_of(txn, plain[i])->delivery->id, 1);
	}
	ck_assert_ptr_eq(rcpt_of(txn, "nokey@example.org")->delivery->message, txn->message);
}
END_TEST

START_TEST(test_all_keyed)
{
	static const char *const rcpts[] = {"alice@example.org", "bob@example.org", NULL};
	g_autoptr(MwConfig) config = config_ok("gpg", NULL);
	g_autoptr(GBytes) original = bytes_of(simple_text);
	g_autoptr(MwTxn) txn = run(config, rcpts, original);
	g_autoptr(GBytes) for_alice = bytes_for(txn, "alice@example.org");
	g_autoptr(GBytes) for_bob = bytes_for(txn, "bob@example.org");

	ck_assert_str_eq(note(txn), "encrypted:2");
	ck_assert_ptr_ne(rcpt_of(txn, "alice@example.org")->delivery,
			 rcpt_of(txn, "bob@example.org")->delivery);
	gpgt_assert_decrypts_to(for_alice, "alice@example.org", original);
	gpgt_assert_decrypts_to(for_bob, "bob@example.org", original);
}
END_TEST

START_TEST(test_address_case_and_newest_key)
{
	static const char *const rcpts[] = {"ALICE@Example.ORG", "grace@example.org",
					    "judy@example.org",
					    /* split: "\x9fe" would be one escape */
					    ("Stra\xc3\x9f"
					     "e@example.org"),
					    NULL};
	g_autoptr(MwConfig) config = config_ok("gpg", NULL);
	g_autoptr(GBytes) original = bytes_of(simple_text);
	g_autoptr(MwTxn) txn = run(config, rcpts, original);
	g_autoptr(GBytes) for_alice = bytes_for(txn, "ALICE@Example.ORG");
	g_autoptr(GBytes) for_grace = bytes_for(txn, "grace@example.org");
	g_autoptr(GBytes) for_judy = bytes_for(txn, "judy@example.org");
	g_autoptr(GBytes) for_strasse = bytes_for(txn, "Stra\xc3\x9f"
						       "e@example.org");

	ck_assert_str_eq(note(txn), "encrypted:4");
	gpgt_assert_decrypts_to(for_alice, "alice@example.org", original);
	gpgt_assert_decrypts_to(for_grace, "Grace@Example.ORG", original);
	/* gpgt_enc_keyid() names the newer of judy's two keys */
	gpgt_assert_decrypts_to(for_judy, "judy@example.org", original);
	/* an SMTPUTF8 address: lower case, not a Unicode fold ("ss") that gpg would not find */
	gpgt_assert_decrypts_to(for_strasse,
				"stra\xc3\x9f"
				"e@example.org",
				original);
}
END_TEST

START_TEST(test_recipients_all)
{
	static const char *const rcpts[] = {"remote@elsewhere.test", "nokey@elsewhere.test", NULL};
	g_autofree char *keys = g_strdup_printf("keyring = %s\nrecipients = all", gpgt->keyring);
	g_autoptr(MwConfig) config = config_ok("gpg", keys);
	g_autoptr(GBytes) original = bytes_of(simple_text);
	g_autoptr(MwTxn) txn = run(config, rcpts, original);
	g_autoptr(GBytes) got = bytes_for(txn, "remote@elsewhere.test");

	ck_assert_str_eq(note(txn), "encrypted:1");
	gpgt_assert_decrypts_to(got, "remote@elsewhere.test", original);
	assert_untouched(txn, "nokey@elsewhere.test", original);
}
END_TEST

START_TEST(test_only_optin_followed)
{
	static const char *const rcpts[] = {"alice@example.org", "bob@example.org", NULL};
	g_autofree char *path = g_build_filename(tmp_dir, "optin", NULL);
	ck_assert(g_file_set_contents(path, "alice@example.org\n", -1, NULL));
	g_autofree char *keys = g_strdup_printf("keyring = %s\nonly = %s", gpgt->keyring, path);
	g_autoptr(MwConfig) config = config_ok("gpg", keys);
	g_autoptr(GBytes) original = bytes_of(simple_text);

	g_autoptr(MwTxn) first = run(config, rcpts, original);
	g_autoptr(GBytes) first_alice = bytes_for(first, "alice@example.org");
	ck_assert_str_eq(note(first), "encrypted:1");
	ck_assert(gpgt_is_pgp_mime(first_alice));
	assert_untouched(first, "bob@example.org", original);

	/* bob opts in while the worker runs */
	ck_assert(g_file_set_contents(path, "alice@example.org\nbob@example.org\n", -1, NULL));
	g_autoptr(MwTxn) second = run(config, rcpts, original);
	g_autoptr(GBytes) second_bob = bytes_for(second, "bob@example.org");
	ck_assert_str_eq(note(second), "encrypted:2");
	gpgt_assert_decrypts_to(second_bob, "bob@example.org", original);

	/* the list disappears: an error (on_error), never "nobody opted in" */
	ck_assert_int_eq(g_unlink(path), 0);
	g_autoptr(MwTxn) third = run(config, rcpts, original);
	ck_assert_str_eq(note(third), "error(pass)");
}
END_TEST

START_TEST(test_key_imported_while_running)
{
	static const char *const rcpts[] = {"newbie@example.org", NULL};
	/* a copy of the keyring: the import must not leak into other tests */
	g_autofree char *keyring = private_keyring();
	g_autofree char *keys = g_strdup_printf("keyring = %s", keyring);
	g_autoptr(MwConfig) config = config_ok("gpg", keys);
	g_autoptr(GBytes) original = bytes_of(simple_text);

	g_autoptr(MwTxn) before = run(config, rcpts, original);
	ck_assert_str_eq(note(before), "nokey");
	assert_untouched(before, "newbie@example.org", original);

	gpgt_import_public("newbie@example.org", keyring);

	g_autoptr(MwTxn) after = run(config, rcpts, original);
	g_autoptr(GBytes) got = bytes_for(after, "newbie@example.org");
	ck_assert_str_eq(note(after), "encrypted:1");
	gpgt_assert_decrypts_to(got, "newbie@example.org", original);
}
END_TEST

START_TEST(test_cache_saves_gpg_runs)
{
	static const char *const known[] = {"nokey@example.org", NULL};
	static const char *const unknown[] = {"nokey2@example.org", NULL};
	static const char *const keyed[] = {"alice@example.org", NULL};
	g_autoptr(MwConfig) config = config_ok("gpg", NULL);
	g_autoptr(GBytes) original = bytes_of(simple_text);
	MwGpg *gpg = mw_config_get_module(config, "gpg")->priv;

	g_autoptr(MwTxn) first = run(config, known, original);
	ck_assert_str_eq(note(first), "nokey");
	g_autoptr(MwTxn) first_keyed = run(config, keyed, original);
	ck_assert_str_eq(note(first_keyed), "encrypted:1");
	ck_assert_uint_eq(mw_gpg_cache_size(gpg->cache), 2);

	/* from now on gpg cannot run: the remembered answer needs no gpg run, a new address does */
	ck_assert_int_eq(gpgme_ctx_set_engine_info(gpg->ctx, GPGME_PROTOCOL_OpenPGP,
						   "/nonexistent/gpg", gpgt->keyring),
			 0);
	g_autoptr(MwTxn) second = run(config, known, original);
	ck_assert_str_eq(note(second), "nokey");
	g_autoptr(MwTxn) third = run(config, unknown, original);
	ck_assert_str_eq(note(third), "error(pass)");
	/* a gpg that cannot run must not produce an empty "encrypted" message either */
	g_autoptr(MwTxn) fourth = run(config, keyed, original);
	ck_assert_str_eq(note(fourth), "error(pass)");
	assert_untouched(fourth, "alice@example.org", original);
}
END_TEST

START_TEST(test_encryptions_serialized)
{
	static const char *const rcpts[] = {"alice@example.org", NULL};
	g_autoptr(MwConfig) config = config_ok("gpg", NULL);
	g_autoptr(GBytes) original = bytes_of(simple_text);
	g_autofree char *lock_path = g_build_filename(tmp_dir, "gpg-encrypt.lock", NULL);

	/* the test keyring has no gpg.conf: encryptions take the lock in state_dir */
	int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(flock(fd, LOCK_EX), 0);
	pid_t child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		/* the lock belongs to the open file, which the child shares until it closes it */
		close(fd);
		MwTxn *txn = run(config, rcpts, original);
		_exit(strcmp(note(txn), "encrypted:1") == 0 ? 0 : 1);
	}
	int status = 0;
	g_usleep(1500 * 1000);
	pid_t done = waitpid(child, &status, WNOHANG);
	close(fd); /* releases the lock */
	if (done == 0)
		ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert_msg(done == 0, "the encryption did not wait for the lock");
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* with no-random-seed-file in the keyring's gpg.conf there is no lock */
	g_autofree char *keyring = private_keyring();
	g_autofree char *conf = g_build_filename(keyring, "gpg.conf", NULL);
	ck_assert(g_file_set_contents(conf, "no-random-seed-file\n", -1, NULL));
	g_autofree char *keys = g_strdup_printf("keyring = %s", keyring);
	g_autoptr(MwConfig) tuned = config_ok("gpg", keys);
	ck_assert_int_eq(g_unlink(lock_path), 0);
	g_autoptr(MwTxn) txn = run(tuned, rcpts, original);
	ck_assert_str_eq(note(txn), "encrypted:1");
	ck_assert(!g_file_test(lock_path, G_FILE_TEST_EXISTS));
}
END_TEST

START_TEST(test_revocation_while_running)
{
	static const char *const rcpts[] = {"alice@example.org", NULL};
	g_autofree char *keyring = private_keyring();
	g_autofree char *keys = g_strdup_printf("keyring = %s", keyring);
	g_autoptr(MwConfig) config = config_ok("gpg", keys);
	g_autoptr(GBytes) original = bytes_of(simple_text);

	g_autoptr(MwTxn) before = run(config, rcpts, original);
	ck_assert_str_eq(note(before), "encrypted:1");
	gpgt_import_revocation("alice@example.org", keyring);
	g_autoptr(MwTxn) after = run(config, rcpts, original);
	ck_assert_str_eq(note(after), "nokey");
	assert_untouched(after, "alice@example.org", original);
}
END_TEST

START_TEST(test_disabled_while_running)
{
	static const char *const rcpts[] = {"bob@example.org", NULL};
	g_autofree char *keyring = private_keyring();
	g_autofree char *keys = g_strdup_printf("keyring = %s", keyring);
	g_autoptr(MwConfig) config = config_ok("gpg", keys);
	g_autoptr(GBytes) original = bytes_of(simple_text);
	g_autofree char *err = NULL;

	g_autoptr(MwTxn) before = run(config, rcpts, original);
	ck_assert_str_eq(note(before), "encrypted:1");
	ck_assert_msg(gpgt_gpg(keyring, NULL, NULL, &err, "--edit-key", "bob@example.org",
			       "disable", "quit", (char *) NULL) == 0,
		      "%s", err);
	g_autoptr(MwTxn) after = run(config, rcpts, original);
	ck_assert_str_eq(note(after), "nokey");
}
END_TEST

START_TEST(test_expiry_while_running)
{
	static const char *const rcpts[] = {"soon@example.org", NULL};
	g_autofree char *keyring = private_keyring();
	g_autofree char *keys = g_strdup_printf("keyring = %s", keyring);
	g_autoptr(MwConfig) config = config_ok("gpg", keys);
	g_autoptr(GBytes) original = bytes_of(simple_text);

	/* a key that expires in a few seconds; the keyring does not change when it does */
	gpgt_gen_key("Soon <soon@example.org>", "seconds=8");
	gpgt_import_public("soon@example.org", keyring);
	gint64 expiry = gpgt_expiry("soon@example.org");
	ck_assert_int_gt(expiry, 0);
	g_autoptr(MwTxn) before = run(config, rcpts, original);
	if (g_get_real_time() / G_USEC_PER_SEC < expiry - 1)
		ck_assert_str_eq(note(before), "encrypted:1");
	while (g_get_real_time() / G_USEC_PER_SEC <= expiry)
		g_usleep(200 * 1000);
	g_autoptr(MwTxn) after = run(config, rcpts, original);
	ck_assert_str_eq(note(after), "nokey");
	assert_untouched(after, "soon@example.org", original);
}
END_TEST

/* sign - an armored detached signature by alice over @data */
static char *
sign(const char *data)
{
	g_autoptr(GBytes) in = bytes_of(data);
	g_autoptr(GBytes) out = NULL;
	g_autofree char *err = NULL;
	ck_assert_msg(gpgt_gpg(gpgt->secret, in, &out, &err, "--local-user", "alice@example.org",
			       "--armor", "--detach-sign", (char *) NULL) == 0,
		      "signing: %s", err);
	g_autofree char *text = g_strndup(g_bytes_get_data(out, NULL), g_bytes_get_size(out));
	/* CRLF, like everything else in the message */
	g_auto(GStrv) lines = g_strsplit(g_strchomp(text), "\n", -1);
	return g_strjoinv("\r\n", lines);
}

/* verify - gpg --verify of @signature over @data in the secret home; the status text */
static gboolean
verify(const char *signature, const char *data, char **status_out)
{
	g_autofree char *sig_path = g_build_filename(tmp_dir, "sig.asc", NULL);
	g_autofree char *data_path = g_build_filename(tmp_dir, "signed.dat", NULL);
	ck_assert(g_file_set_contents(sig_path, signature, -1, NULL));
	ck_assert(g_file_set_contents(data_path, data, -1, NULL));
	int rc = gpgt_gpg(gpgt->secret, NULL, NULL, status_out, "--status-fd", "2", "--verify",
			  sig_path, data_path, (char *) NULL);
	return rc == 0 && strstr(*status_out, "[GNUPG:] GOODSIG") != NULL;
}

/* between - the text of @haystack between @start and @end (asserts both occur) */
static char *
between(const char *haystack, const char *start, const char *end)
{
	const char *a = strstr(haystack, start);
	ck_assert_msg(a != NULL, "no \"%s\" in:\n%s", start, haystack);
	a += strlen(start);
	const char *b = strstr(a, end);
	ck_assert_msg(b != NULL, "no \"%s\" after \"%s\"", end, start);
	return g_strndup(a, (gsize) (b - a));
}

START_TEST(test_signed_stays_verifiable)
{
	static const char *const rcpts[] = {"bob@example.org", NULL};
	static const char part[] = "Content-Type: text/plain; charset=us-ascii\r\n"
				   "Content-Transfer-Encoding: 7bit\r\n"
				   "\r\n"
				   "This text is signed by Alice.  Trailing blanks stay.   \r\n"
				   "From here on, nothing may change.\r\n"
				   "-- \r\n"
				   "Alice\r\n";
	g_autofree char *signature = sign(part);
	g_autofree char *text = g_strdup_printf(
		"From: Alice <alice@example.org>\r\n"
		"To: bob@example.org\r\n"
		"Subject: signed\r\n"
		"Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n"
		"MIME-Version: 1.0\r\n"
		"Content-Type: multipart/signed; micalg=pgp-sha256;\r\n"
		" protocol=\"application/pgp-signature\"; boundary=\"sig-boundary\"\r\n"
		"\r\n"
		"--sig-boundary\r\n"
		"%s\r\n"
		"--sig-boundary\r\n"
		"Content-Type: application/pgp-signature; name=\"signature.asc\"\r\n"
		"\r\n"
		"%s\r\n"
		"--sig-boundary--\r\n",
		part, signature);
	g_autoptr(MwConfig) config = config_ok("gpg", NULL);
	g_autoptr(GBytes) original = bytes_of(text);
	g_autoptr(MwTxn) txn = run(config, rcpts, original);
	g_autoptr(GBytes) got = bytes_for(txn, "bob@example.org");

	ck_assert_str_eq(note(txn), "encrypted:1");
	gpgt_assert_decrypts_to(got, "bob@example.org", original);
	g_autoptr(GBytes) inner = gpgt_open_pgp_mime(got, "bob@example.org");
	g_autofree char *inner_text =
		g_strndup(g_bytes_get_data(inner, NULL), g_bytes_get_size(inner));
	g_autofree char *signed_part =
		between(inner_text, "--sig-boundary\r\n", "\r\n--sig-boundary\r\n");
	g_autofree char *sig_part =
		between(inner_text, "name=\"signature.asc\"\r\n\r\n", "\r\n--sig-boundary--");
	g_autofree char *status = NULL;
	ck_assert_msg(verify(sig_part, signed_part, &status),
		      "the signature does not verify after decryption:\n%s", status);
}
END_TEST

START_TEST(test_clearsigned_stays_verifiable)
{
	static const char *const rcpts[] = {"bob@example.org", NULL};
	g_autoptr(GBytes) body_in = bytes_of("A clear-signed note.\n- dashed line\n");
	g_autoptr(GBytes) clearsigned = NULL;
	g_autofree char *err = NULL;
	ck_assert_msg(gpgt_gpg(gpgt->secret, body_in, &clearsigned, &err, "--local-user",
			       "alice@example.org", "--clearsign", (char *) NULL) == 0,
		      "%s", err);
	g_autofree char *body =
		g_strndup(g_bytes_get_data(clearsigned, NULL), g_bytes_get_size(clearsigned));
	g_autofree char *text = g_strdup_printf("From: alice@example.org\r\n"
						"To: bob@example.org\r\n"
						"Subject: clearsigned\r\n"
						"\r\n"
						"%s",
						body);
	g_autoptr(MwConfig) config = config_ok("gpg", NULL);
	g_autoptr(GBytes) original = bytes_of(text);
	g_autoptr(MwTxn) txn = run(config, rcpts, original);
	g_autoptr(GBytes) got = bytes_for(txn, "bob@example.org");

	ck_assert_str_eq(note(txn), "encrypted:1");
	gpgt_assert_decrypts_to(got, "bob@example.org", original);
	g_autoptr(GBytes) inner = gpgt_open_pgp_mime(got, "bob@example.org");
	gsize offset = gpgt_body_offset(inner);
	g_autoptr(GBytes) inner_body =
		g_bytes_new_from_bytes(inner, offset, g_bytes_get_size(inner) - offset);
	g_autofree char *status = NULL;
	g_clear_pointer(&err, g_free);
	int rc = gpgt_gpg(gpgt->secret, inner_body, NULL, &status, "--status-fd", "2", "--verify",
			  (char *) NULL);
	ck_assert_msg(rc == 0 && strstr(status, "GOODSIG") != NULL, "%s", status);
}
END_TEST

START_TEST(test_large_message)
{
	static const char *const rcpts[] = {"alice@example.org", "nokey@example.org", NULL};
	const gsize raw_len = 7600 * 1024; /* base64: just over 10 MB */
	g_autofree guint8 *raw = g_malloc(raw_len);
	GRand *rand = g_rand_new_with_seed(7);
	for (gsize i = 0; i < raw_len; i++)
		raw[i] = (guint8) g_rand_int(rand);
	g_rand_free(rand);
	g_autofree char *b64 = g_base64_encode(raw, raw_len);
	g_autoptr(GString) text =
		g_string_new("From: sender@example.net\r\n"
			     "To: alice@example.org\r\n"
			     "Subject: big\r\n"
			     "MIME-Version: 1.0\r\n"
			     "Content-Type: multipart/mixed; boundary=\"b\"\r\n"
			     "\r\n"
			     "--b\r\n"
			     "Content-Type: text/plain\r\n"
			     "\r\n"
			     "see attachment\r\n"
			     "--b\r\n"
			     "Content-Type: application/octet-stream; name=\"big.bin\"\r\n"
			     "Content-Transfer-Encoding: base64\r\n"
			     "\r\n");
	for (gsize i = 0, len = strlen(b64); i < len; i += 76) {
		g_string_append_len(text, b64 + i, (gssize) MIN(76, len - i));
		g_string_append(text, "\r\n");
	}
	g_string_append(text, "--b--\r\n");
	ck_assert_uint_gt(text->len, 10 * 1000 * 1000);
	g_autoptr(GBytes) original = g_bytes_new(text->str, text->len);
	g_autoptr(MwConfig) config = config_ok("gpg", NULL);
	g_autoptr(MwTxn) txn = run(config, rcpts, original);
	g_autoptr(GBytes) got = bytes_for(txn, "alice@example.org");

	ck_assert_str_eq(note(txn), "encrypted:1");
	gpgt_assert_decrypts_to(got, "alice@example.org", original);
	assert_untouched(txn, "nokey@example.org", original);
}
END_TEST

START_TEST(test_after_an_edit)
{
	static const char *const rcpts[] = {"alice@example.org", "nokey@example.org", NULL};
	g_autoptr(MwConfig) config = config_ok("test_modify, gpg", NULL);
	g_autofree char *text = g_strconcat("X-Test-Modify: yes\r\n", simple_text, NULL);
	g_autoptr(GBytes) original = bytes_of(text);
	g_autoptr(MwTxn) txn = run(config, rcpts, original);
	g_autoptr(GBytes) for_alice = bytes_for(txn, "alice@example.org");
	g_autoptr(GBytes) for_nokey = bytes_for(txn, "nokey@example.org");

	/* both copies carry the earlier module's header; only alice's is encrypted */
	g_autoptr(GMimeMessage) outer = gpgt_parse_message(for_alice);
	ck_assert_str_eq(g_mime_object_get_header(GMIME_OBJECT(outer), "X-Test-Modified"), "yes");
	g_autoptr(GMimeMessage) plain = gpgt_parse_message(for_nokey);
	ck_assert_str_eq(g_mime_object_get_header(GMIME_OBJECT(plain), "X-Test-Modified"), "yes");
	ck_assert(!gpgt_is_pgp_mime(for_nokey));
	gpgt_assert_decrypts_to(for_alice, "alice@example.org", for_nokey);
}
END_TEST

START_TEST(test_no_mime_headers_and_lf)
{
	static const char *const rcpts[] = {"alice@example.org", NULL};
	/* not MIME at all, bare LF line ends: the inner entity keeps them, the outer is CRLF */
	static const char text[] = "From: sender@example.net\n"
				   "To: alice@example.org\n"
				   "Subject: plain old mail\n"
				   "X-Folded: one\n"
				   "  two\n"
				   "\n"
				   "Just text.\n";
	g_autoptr(MwConfig) config = config_ok("gpg", NULL);
	g_autoptr(GBytes) original = bytes_of(text);
	g_autoptr(MwTxn) txn = run(config, rcpts, original);
	g_autoptr(GBytes) got = bytes_for(txn, "alice@example.org");
	g_autoptr(GBytes) inner = gpgt_open_pgp_mime(got, "alice@example.org");
	g_autofree char *inner_text =
		g_strndup(g_bytes_get_data(inner, NULL), g_bytes_get_size(inner));
	g_autofree char *outer_head = gpgt_header_block(got);

	ck_assert_str_eq(inner_text, "From: sender@example.net\n"
				     "To: alice@example.org\n"
				     "Subject: plain old mail\n"
				     "Content-Type: text/plain; charset=us-ascii; "
				     "protected-headers=\"v1\"\n"
				     "\n"
				     "Just text.\n");
	ck_assert_msg(strstr(outer_head, "X-Folded: one\r\n  two\r\n") != NULL, "%s", outer_head);
	ck_assert_msg(strstr(outer_head, "MIME-Version: 1.0\r\n") != NULL, "%s", outer_head);
	g_autoptr(GMimeMessage) orig_message = gpgt_parse_message(original);
	g_autoptr(GMimeObject) inner_entity = gpgt_parse_entity(inner);
	gpgt_assert_same_tree(g_mime_message_get_mime_part(orig_message), inner_entity);
}
END_TEST

/* --- mail that is not encrypted again ---------------------------------------- */

static const struct {
	const char *name;
	const char *headers_and_body; /* after From/To/Subject */
	const char *why;              /* expected note reason; NULL: must be encrypted */
} encrypted_cases[] = {
	{"pgp/mime",
	 "MIME-Version: 1.0\r\n"
	 "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\";"
	 " boundary=\"e\"\r\n\r\n"
	 "--e\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n"
	 "--e\r\nContent-Type: application/octet-stream\r\n\r\n"
	 "-----BEGIN PGP MESSAGE-----\r\n\r\nhF4DAAAA\r\n-----END PGP MESSAGE-----\r\n--e--\r\n",
	 "pgp/mime"},
	{"encrypted inside a list footer",
	 "MIME-Version: 1.0\r\n"
	 "Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n"
	 "--m\r\nContent-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\";"
	 " boundary=\"e\"\r\n\r\n"
	 "--e\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n"
	 "--e\r\nContent-Type: application/octet-stream\r\n\r\n"
	 "-----BEGIN PGP MESSAGE-----\r\n\r\nhF4DAAAA\r\n-----END PGP MESSAGE-----\r\n--e--\r\n"
	 "--m\r\nContent-Type: text/plain\r\n\r\nlist footer\r\n--m--\r\n",
	 "pgp/mime"},
	{"inline pgp",
	 "\r\n-----BEGIN PGP MESSAGE-----\r\n\r\nhF4DAAAAAAAAAAASAQdA\r\n=abcd\r\n"
	 "-----END PGP MESSAGE-----\r\n",
	 "inline-pgp"},
	{"inline pgp in base64",
	 "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n"
	 "Content-Transfer-Encoding: base64\r\n\r\n"
	 "SGVsbG8KLS0tLS1CRUdJTiBQR1AgTUVTU0FHRS0tLS0tCgpoRjREQUFBQQotLS0tLUVORCBQR1Ag\r\n"
	 "TUVTU0FHRS0tLS0tCg==\r\n",
	 "inline-pgp"},
	{"s/mime enveloped",
	 "MIME-Version: 1.0\r\n"
	 "Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\n"
	 "Content-Transfer-Encoding: base64\r\n\r\nMIAGCSqGSIb3DQEHA6CAMIACAQAx\r\n",
	 "s/mime"},
	{"s/mime without smime-type",
	 "MIME-Version: 1.0\r\n"
	 "Content-Type: application/x-pkcs7-mime; name=smime.p7m\r\n"
	 "Content-Transfer-Encoding: base64\r\n\r\nMIAGCSqGSIb3DQEHA6CAMIACAQAx\r\n",
	 "s/mime"},
	{"forwarded encrypted mail",
	 "MIME-Version: 1.0\r\n"
	 "Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n"
	 "--m\r\nContent-Type: text/plain\r\n\r\nhere is what I got\r\n"
	 "--m\r\nContent-Type: message/rfc822\r\n\r\n"
	 "From: x@example.com\r\nSubject: secret\r\nMIME-Version: 1.0\r\n"
	 "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\";"
	 " boundary=\"e\"\r\n\r\n"
	 "--e\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n"
	 "--e\r\nContent-Type: application/octet-stream\r\n\r\n"
	 "-----BEGIN PGP MESSAGE-----\r\n\r\nhF4DAAAA\r\n-----END PGP MESSAGE-----\r\n--e--\r\n"
	 "--m--\r\n",
	 NULL},
	{"armor in a text attachment",
	 "MIME-Version: 1.0\r\n"
	 "Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n"
	 "--m\r\nContent-Type: text/plain\r\n\r\nthe key file is attached\r\n"
	 "--m\r\nContent-Type: text/plain; name=\"secret.asc\"\r\n"
	 "Content-Disposition: attachment; filename=\"secret.asc\"\r\n\r\n"
	 "-----BEGIN PGP MESSAGE-----\r\n\r\nhF4DAAAA\r\n-----END PGP MESSAGE-----\r\n--m--\r\n",
	 NULL},
	{"armor not at a line start",
	 "\r\nquoting: -----BEGIN PGP MESSAGE----- is how it starts\r\n", NULL},
	{"s/mime signed-data",
	 "MIME-Version: 1.0\r\n"
	 "Content-Type: application/pkcs7-mime; smime-type=signed-data; name=smime.p7m\r\n"
	 "Content-Transfer-Encoding: base64\r\n\r\nMIAGCSqGSIb3DQEHAqCAMIACAQEx\r\n",
	 NULL},
};

START_TEST(test_encrypted_already)
{
	static const char *const rcpts[] = {"alice@example.org", "nokey@example.org", NULL};
	g_autofree char *text =
		g_strdup_printf("From: sender@example.net\r\n"
				"To: alice@example.org\r\n"
				"Subject: %s\r\n%s",
				encrypted_cases[_i].name, encrypted_cases[_i].headers_and_body);
	g_autoptr(MwConfig) config = config_ok("gpg", NULL);
	g_autoptr(GBytes) original = bytes_of(text);
	g_autoptr(MwTxn) txn = run(config, rcpts, original);

	if (encrypted_cases[_i].why != NULL) {
		g_autofree char *expected = g_strdup_printf("already(%s)", encrypted_cases[_i].why);
		ck_assert_msg(strcmp(note(txn), expected) == 0, "%s: note %s, expected %s",
			      encrypted_cases[_i].name, note(txn), expected);
		ck_assert_uint_eq(txn->deliveries->len, 1);
		assert_untouched(txn, "alice@example.org", original);
	} else {
		g_autoptr(GBytes) got = bytes_for(txn, "alice@example.org");
		ck_assert_msg(strcmp(note(txn), "encrypted:1") == 0, "%s: note %s",
			      encrypted_cases[_i].name, note(txn));
		gpgt_assert_decrypts_to(got, "alice@example.org", original);
	}
	assert_untouched(txn, "nokey@example.org", original);
}
END_TEST

START_TEST(test_own_output_is_left_alone)
{
	static const char *const rcpts[] = {"alice@example.org", NULL};
	g_autoptr(MwConfig) config = config_ok("gpg", NULL);
	g_autoptr(GBytes) original = bytes_of(simple_text);
	g_autoptr(MwTxn) first = run(config, rcpts, original);
	g_autoptr(GBytes) encrypted = bytes_for(first, "alice@example.org");

	/* the first pass's output comes back (or Postfix retries with it): no change */
	g_autoptr(MwTxn) second = run(config, rcpts, encrypted);
	ck_assert_str_eq(note(second), "already(pgp/mime)");
	assert_untouched(second, "alice@example.org", encrypted);
}
END_TEST

START_TEST(test_nothing_to_do)
{
	static const char *const outside[] = {"remote@elsewhere.test", NULL};
	static const char *const nokey[] = {"nokey@example.org", "carol@example.org", NULL};
	g_autoptr(MwConfig) config = config_ok("gpg", NULL);
	g_autoptr(GBytes) original = bytes_of(simple_text);

	g_autoptr(MwTxn) first = run(config, outside, original);
	ck_assert_str_eq(note(first), "-");
	assert_untouched(first, "remote@elsewhere.test", original);

	g_autoptr(MwTxn) second = run(config, nokey, original);
	ck_assert_str_eq(note(second), "nokey");
	assert_untouched(second, "nokey@example.org", original);
	assert_untouched(second, "carol@example.org", original);
}
END_TEST

/* --- a broken keyring --------------------------------------------------------- */

START_TEST(test_missing_keyring_pass)
{
	static const char *const rcpts[] = {"alice@example.org", "nokey@example.org", NULL};
	g_autofree char *keys = g_strdup_printf("keyring = %s/gone", tmp_dir);
	g_autoptr(MwConfig) config = config_ok("gpg", keys);
	g_autoptr(GBytes) original = bytes_of(simple_text);
	g_autoptr(GError) error = NULL;

	/* the hook's own error names the recipients and the reason */
	MwModule *module = mw_config_get_module(config, "gpg");
	MwEnvelope *env = mw_envelope_new_simple("sender@example.net", rcpts);
	g_autoptr(MwMessage) msg = message_from(original);
	g_autoptr(MwTxn) direct = mw_txn_new(config, env, msg);
	ck_assert(!module->klass->process(module, direct, &error));
	ck_assert_int_eq(error->code, MW_ERROR_BACKEND);
	ck_assert_msg(strstr(error->message, "<alice@example.org>") != NULL &&
			      strstr(error->message, "<nokey@example.org>") != NULL &&
			      strstr(error->message, "/gone") != NULL,
		      "%s", error->message);

	/* on_error = pass (the default): everybody gets the plaintext */
	g_autoptr(MwTxn) txn = run(config, rcpts, original);
	ck_assert_str_eq(note(txn), "error(pass)");
	assert_untouched(txn, "alice@example.org", original);
	assert_untouched(txn, "nokey@example.org", original);
}
END_TEST

START_TEST(test_damaged_keyring_tempfail)
{
	static const char *const rcpts[] = {"alice@example.org", "nokey@example.org", NULL};
	g_autofree char *broken = g_build_filename(tmp_dir, "broken", NULL);
	g_autofree char *pubring = g_build_filename(broken, "pubring.kbx", NULL);
	ck_assert_int_eq(g_mkdir(broken, 0700), 0);
	ck_assert(g_file_set_contents(pubring, "\x0f\x01garbage, not a keybox at all", -1, NULL));
	g_autofree char *keys = g_strdup_printf("keyring = %s\non_error = tempfail", broken);
	g_autoptr(MwConfig) config = config_ok("gpg", keys);
	g_autoptr(GBytes) original = bytes_of(simple_text);
	g_autoptr(MwTxn) txn = run(config, rcpts, original);

	ck_assert_str_eq(note(txn), "error(tempfail)");
	ck_assert_int_eq(rcpt_of(txn, "alice@example.org")->verdict, MW_VERDICT_TEMPFAIL);
	ck_assert_int_eq(rcpt_of(txn, "nokey@example.org")->verdict, MW_VERDICT_TEMPFAIL);
}
END_TEST

static Suite *
gpg_suite(void)
{
	Suite *suite = suite_create("gpg");
	struct {
		const char *name;
		TCase *tc;
	} cases[] = {
		{"config", tcase_create("config")},   {"encrypt", tcase_create("encrypt")},
		{"skip", tcase_create("skip")},       {"errors", tcase_create("errors")},
		{"changes", tcase_create("changes")},
	};
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		tcase_add_checked_fixture(cases[i].tc, setup, teardown);
		tcase_set_timeout(cases[i].tc, 120);
		tcase_set_tags(cases[i].tc, "gpg");
		suite_add_tcase(suite, cases[i].tc);
	}
	tcase_add_test(cases[0].tc, test_config_defaults);
	tcase_add_loop_test(cases[0].tc, test_config_errors, 0, G_N_ELEMENTS(bad_configs));
	tcase_add_test(cases[0].tc, test_config_local_needs_domains);
	tcase_add_test(cases[0].tc, test_check_hook);
	tcase_add_test(cases[0].tc, test_only_list);
	tcase_add_test(cases[0].tc, test_keyring_option);

	tcase_add_test(cases[1].tc, test_single_recipient);
	tcase_add_test(cases[1].tc, test_multipart_tree);
	tcase_add_test(cases[1].tc, test_mixed_recipients);
	tcase_add_test(cases[1].tc, test_all_keyed);
	tcase_add_test(cases[1].tc, test_address_case_and_newest_key);
	tcase_add_test(cases[1].tc, test_recipients_all);
	tcase_add_test(cases[1].tc, test_only_optin_followed);
	tcase_add_test(cases[1].tc, test_key_imported_while_running);
	tcase_add_test(cases[1].tc, test_signed_stays_verifiable);
	tcase_add_test(cases[1].tc, test_clearsigned_stays_verifiable);
	tcase_add_test(cases[1].tc, test_large_message);
	tcase_add_test(cases[1].tc, test_after_an_edit);
	tcase_add_test(cases[1].tc, test_no_mime_headers_and_lf);

	tcase_add_loop_test(cases[2].tc, test_encrypted_already, 0, G_N_ELEMENTS(encrypted_cases));
	tcase_add_test(cases[2].tc, test_own_output_is_left_alone);
	tcase_add_test(cases[2].tc, test_nothing_to_do);

	tcase_add_test(cases[3].tc, test_missing_keyring_pass);
	tcase_add_test(cases[3].tc, test_damaged_keyring_tempfail);

	tcase_add_test(cases[4].tc, test_cache_saves_gpg_runs);
	tcase_add_test(cases[4].tc, test_encryptions_serialized);
	tcase_add_test(cases[4].tc, test_revocation_while_running);
	tcase_add_test(cases[4].tc, test_disabled_while_running);
	tcase_add_test(cases[4].tc, test_expiry_while_running);
	return suite;
}

int
main(void)
{
	g_mime_init();
	gpgt_init();
	SRunner *runner = srunner_create(gpg_suite());
	srunner_run_all(runner, CK_ENV);
	int failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	gpgt_cleanup();
	g_mime_shutdown();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
