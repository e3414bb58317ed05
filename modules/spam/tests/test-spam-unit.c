/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-spam-unit - the spam module without network: rules, lists, headers, process()
 * DESCRIPTION
 *	Drives the module through the core's pipeline on in-memory messages
 *	(mw_config_load_data + mw_txn_new + mw_pipeline_run) and asserts the
 *	verdicts, the notes and the bytes of each delivery: a clean message
 *	stays byte-identical, the levels add headers / tag / act, foreign
 *	X-Spam headers go, allow/block lists and skip_outbound, a second pass
 *	over the output changes nothing. Also the rules parser (errors name
 *	file and line), the backends' reply parsers and config validation.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>

#include "mw-error.h"
#include "mw-pipeline.h"
#include "mw-spam-dnsbl.h"
#include "mw-spam-headers.h"
#include "mw-spam-lists.h"
#include "mw-spam-rspamd.h"
#include "mw-spam-rules.h"
#include "mw-spam-spamd.h"
#include "mw-spam-text.h"
#include "mw-txn.h"

static char *tmp_dir;
static char *rules_path;

/* the rules of the process() tests: each adds a known amount */
static const char test_rules[] = "# test rules\n"
				 "header SUBJ_CHEAP 2.5 Subject =~ /\\bcheap\\b/i\n"
				 "header SUBJ_WATCHES 4.0 Subject =~ /watches/i\n"
				 "header NO_DATE 0.1 Date !~ /./\n"
				 "body BODY_MILLION 7.0 /one million dollars/i\n"
				 "uri URI_BADHOST 3.0 /bad\\.example/\n"
				 "raw RAW_MARK 20.0 /X-Raw-Mark: kill/\n";

static void
setup(void)
{
	tmp_dir = g_dir_make_tmp("mw-spam-unit-XXXXXX", NULL);
	ck_assert_ptr_nonnull(tmp_dir);
	rules_path = g_build_filename(tmp_dir, "test.rules", NULL);
	ck_assert(g_file_set_contents(rules_path, test_rules, -1, NULL));
}

static void
teardown(void)
{
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", tmp_dir);
	ck_assert_int_eq(system(cmd), 0);
	g_clear_pointer(&tmp_dir, g_free);
	g_clear_pointer(&rules_path, g_free);
}

/* load - a config with modules = spam and these [spam] lines (NULL on error, in *@error_out) */
static MwConfig *
load(const char *spam_lines, char **error_out)
{
	g_autofree char *text =
		g_strdup_printf("[mailwarden]\nhostname = mw.test\nstate_dir = %s\n"
				"modules = spam\nlocal_domains = example.org\n"
				"[spam]\nrules = %s\nspf = false\nbayes = false\n%s",
				tmp_dir, rules_path, spam_lines ? spam_lines : "");
	g_autoptr(GError) error = NULL;
	MwConfig *config = mw_config_load_data(text, NULL, &error);
	if (error_out != NULL)
		*error_out = error != NULL ? g_strdup(error->message) : NULL;
	return config;
}

/* message - CRLF message with @subject, extra header lines and a body */
static char *
message(const char *subject, const char *headers, const char *body)
{
	return g_strdup_printf("From: Alice <alice@sender.example>\r\nTo: bob@example.org\r\n"
			       "Date: Mon, 1 Jan 2024 10:00:00 +0000\r\nSubject: %s\r\n%s"
			       "Message-ID: <1@sender.example>\r\n\r\n%s\r\n",
			       subject, headers ? headers : "", body ? body : "Hello Bob.");
}

/* run - the pipeline on @text for @rcpts from @sender (client address optional) */
static MwTxn *
run(MwConfig *config, const char *text, const char *sender, const char *const *rcpts,
    const char *client_addr)
{
	MwEnvelope *env = mw_envelope_new_simple(sender, rcpts);
	if (client_addr != NULL) {
		env->xforward = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
		g_hash_table_insert(env->xforward, g_strdup("ADDR"), g_strdup(client_addr));
	}
	g_autoptr(MwMessage) msg = mw_message_new_from_bytes((const guint8 *) text, strlen(text));
	MwTxn *txn = mw_txn_new(config, env, msg);
	mw_pipeline_run(txn);
	return txn;
}

/* delivered - the bytes of delivery number @n (1-based), after the pipeline */
static char *
delivered(MwTxn *txn, guint n)
{
	ck_assert_uint_ge(txn->deliveries->len, n);
	MwDelivery *delivery = g_ptr_array_index(txn->deliveries, n - 1);
	ck_assert(mw_delivery_finish(delivery, NULL, NULL));
	gsize len = (gsize) mw_message_get_size(delivery->message);
	char *out = g_malloc(len + 1);
	ck_assert_int_eq(mw_message_read(delivery->message, 0, (guint8 *) out, len, NULL),
			 (gssize) len);
	out[len] = '\0';
	return out;
}

/* note - the spam= note, or NULL */
static const char *
note(MwTxn *txn)
{
	for (guint i = 0; i < txn->notes->len; i++) {
		const char *n = g_ptr_array_index(txn->notes, i);
		if (g_str_has_prefix(n, "spam="))
			return n + 5;
	}
	return NULL;
}

/* header - the first value of @name in @text's header block (unfolded), or NULL */
static char *
header(const char *text, const char *name)
{
	g_autoptr(MwMessage) msg = mw_message_new_from_bytes((const guint8 *) text, strlen(text));
	g_autoptr(GMimeMessage) mime = mw_message_parse_mime(msg, NULL);
	ck_assert_ptr_nonnull(mime);
	const char *value = g_mime_object_get_header(GMIME_OBJECT(mime), name);
	return value != NULL ? g_strdup(value) : NULL;
}

/* count - occurrences of @needle in @hay */
static guint
count(const char *hay, const char *needle)
{
	guint n = 0;
	for (const char *p = strstr(hay, needle); p != NULL; p = strstr(p + 1, needle))
		n++;
	return n;
}

static const char *const bob[] = {"bob@example.org", NULL};

START_TEST(test_clean_untouched)
{
	g_autoptr(MwConfig) config = load(NULL, NULL);
	ck_assert_ptr_nonnull(config);
	g_autofree char *text = message("Lunch tomorrow", NULL, NULL);
	g_autoptr(MwTxn) txn = run(config, text, "alice@sender.example", bob, NULL);
	ck_assert_str_eq(note(txn), "0.0/clean");
	MwDelivery *delivery = g_ptr_array_index(txn->deliveries, 0);
	ck_assert(!delivery->modified);
	g_autofree char *out = delivered(txn, 1);
	ck_assert_str_eq(out, text);
}
END_TEST

START_TEST(test_tagged_not_spam)
{
	g_autoptr(MwConfig) config = load(NULL, NULL);
	g_autofree char *text = message("cheap lunch", NULL, NULL);
	g_autoptr(MwTxn) txn = run(config, text, "alice@sender.example", bob, NULL);
	ck_assert_str_eq(note(txn), "2.5/tagged");
	g_autofree char *out = delivered(txn, 1);
	g_autofree char *flag = header(out, "X-Spam-Flag");
	g_autofree char *score = header(out, "X-Spam-Score");
	g_autofree char *level = header(out, "X-Spam-Level");
	g_autofree char *status = header(out, "X-Spam-Status");
	g_autofree char *subject = header(out, "Subject");
	ck_assert_str_eq(flag, "NO");
	ck_assert_str_eq(score, "2.5");
	ck_assert_str_eq(level, "**");
	ck_assert_str_eq(status, "No, score=2.5 required=6.0 tests=SUBJ_CHEAP");
	ck_assert_str_eq(subject, "cheap lunch");
	/* the body is untouched */
	ck_assert_ptr_nonnull(strstr(out, "\r\n\r\nHello Bob.\r\n"));
}
END_TEST

START_TEST(test_spam_tagged_once)
{
	g_autoptr(MwConfig) config = load(NULL, NULL);
	g_autofree char *text = message("cheap watches", "X-Spam-Flag: NO\r\nX-Spam: No\r\n", NULL);
	g_autoptr(MwTxn) txn = run(config, text, "alice@sender.example", bob, NULL);
	ck_assert_str_eq(note(txn), "6.5/spam");
	g_autofree char *out = delivered(txn, 1);
	g_autofree char *flag = header(out, "X-Spam-Flag");
	g_autofree char *status = header(out, "X-Spam-Status");
	g_autofree char *level = header(out, "X-Spam-Level");
	g_autofree char *subject = header(out, "Subject");
	ck_assert_str_eq(flag, "YES");
	ck_assert_str_eq(status, "Yes, score=6.5 required=6.0 tests=SUBJ_CHEAP,SUBJ_WATCHES");
	ck_assert_str_eq(level, "******");
	ck_assert_str_eq(subject, "***SPAM*** cheap watches");
	/* the sender's own X-Spam headers are gone, ours appear once */
	ck_assert_uint_eq(count(out, "X-Spam-Flag:"), 1);
	ck_assert_ptr_null(strstr(out, "X-Spam: No"));
	ck_assert_ptr_null(strstr(out, "X-Spam-Flag: NO"));

	/* the output through the module again (a retry, a loop): nothing doubles */
	g_autoptr(MwTxn) again = run(config, out, "alice@sender.example", bob, NULL);
	g_autofree char *out2 = delivered(again, 1);
	g_autofree char *subject2 = header(out2, "Subject");
	ck_assert_str_eq(subject2, "***SPAM*** cheap watches");
	ck_assert_uint_eq(count(out2, "X-Spam-Flag:"), 1);
	ck_assert_uint_eq(count(out2, "X-Spam-Status:"), 1);
	ck_assert_uint_eq(count(out2, "***SPAM***"), 1);
}
END_TEST

START_TEST(test_foreign_headers_removed_below_tag)
{
	g_autoptr(MwConfig) config = load(NULL, NULL);
	g_autofree char *text = message("hello", "X-Spam-Flag: NO\r\nX-Spam-Score: -50\r\n", NULL);
	g_autoptr(MwTxn) txn = run(config, text, "alice@sender.example", bob, NULL);
	ck_assert_str_eq(note(txn), "0.0/clean");
	g_autofree char *out = delivered(txn, 1);
	ck_assert_ptr_null(strstr(out, "X-Spam"));
	ck_assert_ptr_nonnull(strstr(out, "Subject: hello\r\n"));
}
END_TEST

START_TEST(test_body_uri_decoded)
{
	g_autoptr(MwConfig) config = load(NULL, NULL);
	/* base64 text part with the phrase; an HTML part whose link is to bad.example */
	const char *body_headers = "MIME-Version: 1.0\r\n"
				   "Content-Type: multipart/alternative; boundary=\"b\"\r\n";
	const char *body = "--b\r\nContent-Type: text/plain; charset=utf-8\r\n"
			   "Content-Transfer-Encoding: base64\r\n\r\n"
			   "WW91IHdvbiBPTkUgbWlsbGlvbiBkb2xsYXJzIQ==\r\n"
			   "--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
			   "<p>Click <a href=\"http://bad.example/claim\">here</a></p>\r\n"
			   "--b--";
	g_autofree char *text = message("hi", body_headers, body);
	g_autoptr(MwTxn) txn = run(config, text, "alice@sender.example", bob, NULL);
	ck_assert_str_eq(note(txn), "10.0/spam");
	g_autofree char *out = delivered(txn, 1);
	g_autofree char *status = header(out, "X-Spam-Status");
	ck_assert_str_eq(status, "Yes, score=10.0 required=6.0 tests=BODY_MILLION,URI_BADHOST");
}
END_TEST

START_TEST(test_gtube_quarantine)
{
	g_autoptr(MwConfig) config = load(NULL, NULL);
	g_autofree char *text = message("test", NULL, MW_SPAM_GTUBE);
	g_autoptr(MwTxn) txn = run(config, text, "alice@sender.example", bob, NULL);
	ck_assert_str_eq(note(txn), "1000.0/quarantine");
	MwTxnRcpt *rcpt = g_ptr_array_index(txn->rcpts, 0);
	ck_assert_int_eq(rcpt->verdict, MW_VERDICT_QUARANTINE);
	ck_assert_str_eq(rcpt->by, "spam");
}
END_TEST

START_TEST(test_actions)
{
	static const char *const actions[] = {"reject", "discard", "quarantine"};
	static const MwVerdict verdicts[] = {MW_VERDICT_REJECT, MW_VERDICT_DISCARD,
					     MW_VERDICT_QUARANTINE};
	for (guint i = 0; i < G_N_ELEMENTS(actions); i++) {
		g_autofree char *lines =
			g_strdup_printf("action = %s\ndiscard_level = 10\n", actions[i]);
		g_autoptr(MwConfig) config = load(lines, NULL);
		g_autofree char *text = message("x", "X-Raw-Mark: kill\r\n", NULL);
		g_autoptr(MwTxn) txn = run(config, text, "alice@sender.example", bob, NULL);
		MwTxnRcpt *rcpt = g_ptr_array_index(txn->rcpts, 0);
		ck_assert_int_eq(rcpt->verdict, verdicts[i]);
		if (verdicts[i] == MW_VERDICT_REJECT)
			ck_assert(g_str_has_prefix(rcpt->reason, "5.7.1 "));
	}
}
END_TEST

START_TEST(test_allow_to_splits)
{
	static const char *const rcpts[] = {"bob@example.org", "postmaster@example.org",
					    "carol@example.org", NULL};
	g_autoptr(MwConfig) config = load("allow_to = postmaster@example.org\n", NULL);
	g_autofree char *text = message("cheap watches", NULL, NULL);
	g_autoptr(MwTxn) txn = run(config, text, "alice@sender.example", rcpts, NULL);
	ck_assert_uint_eq(txn->deliveries->len, 2);
	MwTxnRcpt *b = g_ptr_array_index(txn->rcpts, 0);
	MwTxnRcpt *p = g_ptr_array_index(txn->rcpts, 1);
	MwTxnRcpt *c = g_ptr_array_index(txn->rcpts, 2);
	ck_assert_ptr_eq(b->delivery, c->delivery);
	ck_assert_ptr_ne(b->delivery, p->delivery);
	/* postmaster keeps the original bytes */
	ck_assert(!p->delivery->modified);
	g_autofree char *orig = delivered(txn, p->delivery->id);
	ck_assert_str_eq(orig, text);
	g_autofree char *tagged = delivered(txn, b->delivery->id);
	g_autofree char *subject = header(tagged, "Subject");
	ck_assert_str_eq(subject, "***SPAM*** cheap watches");
}
END_TEST

START_TEST(test_allow_block_lists)
{
	g_autoptr(MwConfig) config =
		load("allow_from = friend.example\nblock_from = sender.example, "
		     "spammer@friend.example\naction = reject\n",
		     NULL);
	g_autofree char *text = message("cheap watches", NULL, NULL);
	/* a subdomain of an allowed domain: allowed even though also blocked (allow wins) */
	g_autoptr(MwTxn) allowed = run(config, text, "spammer@friend.example", bob, NULL);
	ck_assert_str_eq(note(allowed), "allowed");
	ck_assert(!((MwDelivery *) g_ptr_array_index(allowed->deliveries, 0))->modified);
	g_autoptr(MwTxn) sub = run(config, text, "a@news.friend.example", bob, NULL);
	ck_assert_str_eq(note(sub), "allowed");
	/* blocked: the action, no scoring */
	g_autoptr(MwTxn) blocked = run(config, text, "x@mail.sender.example", bob, NULL);
	ck_assert_str_eq(note(blocked), "blocked(reject)");
	ck_assert_int_eq(((MwTxnRcpt *) g_ptr_array_index(blocked->rcpts, 0))->verdict,
			 MW_VERDICT_REJECT);
	/* the From header counts for blocking too */
	g_autoptr(MwTxn) by_header = run(config, text, "bounce@other.example", bob, NULL);
	ck_assert_str_eq(note(by_header), "blocked(reject)");
	/* not a suffix match across a label: notsender.example is not sender.example */
	g_autofree char *text2 = g_strdup("From: x@notsender.example\r\nSubject: hi\r\n\r\nhi\r\n");
	g_autoptr(MwTxn) other = run(config, text2, "x@notsender.example", bob, NULL);
	ck_assert_str_eq(note(other), "0.1/clean");
}
END_TEST

START_TEST(test_skip_outbound)
{
	g_autoptr(MwConfig) config = load("skip_outbound = true\n", NULL);
	g_autofree char *text = message("cheap watches", NULL, NULL);
	g_autoptr(MwTxn) out = run(config, text, "me@example.org", bob, "127.0.0.1");
	ck_assert_str_eq(note(out), "skipped(outbound)");
	/* a local sender from an untrusted client is scored: a forged local sender */
	g_autoptr(MwTxn) forged = run(config, text, "me@example.org", bob, "192.0.2.9");
	ck_assert_str_eq(note(forged), "6.5/spam");
	/* no client address: not trusted unless "local" is listed */
	g_autoptr(MwTxn) none = run(config, text, "me@example.org", bob, NULL);
	ck_assert_str_eq(note(none), "6.5/spam");
	g_autoptr(MwConfig) local = load("skip_outbound = true\ntrusted_networks = local\n", NULL);
	g_autoptr(MwTxn) pickup = run(local, text, "me@example.org", bob, NULL);
	ck_assert_str_eq(note(pickup), "skipped(outbound)");
}
END_TEST

START_TEST(test_max_size)
{
	g_autoptr(MwConfig) config = load("max_size = 1k\n", NULL);
	GString *body = g_string_new(NULL);
	for (int i = 0; i < 100; i++)
		g_string_append(body, "one million dollars\r\n");
	g_autofree char *text = message("cheap watches", NULL, body->str);
	g_string_free(body, TRUE);
	g_autoptr(MwTxn) txn = run(config, text, "alice@sender.example", bob, NULL);
	ck_assert_str_eq(note(txn), "skipped(size)");
}
END_TEST

START_TEST(test_rules_errors)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(MwSpamRules) bad = mw_spam_rules_parse(
		"body OK 1 /fine/\nfoo X 1 /a/\nbody Y notanumber /a/\nbody Z 1 /(/\n"
		"header H 1 Subject ~ /a/\nbody OK 2 /dup/\nbody F 1 /a/q\n",
		"t.rules", &error);
	ck_assert_ptr_null(bad);
	ck_assert_ptr_nonnull(error);
	const char *m = error->message;
	ck_assert_msg(strstr(m, "t.rules:2: unknown rule type 'foo'") != NULL, "%s", m);
	ck_assert_msg(strstr(m, "t.rules:3: rule Y: score 'notanumber'") != NULL, "%s", m);
	ck_assert_msg(strstr(m, "t.rules:4: rule Z:") != NULL, "%s", m);
	ck_assert_msg(strstr(m, "t.rules:5: rule H: expected Header") != NULL, "%s", m);
	ck_assert_msg(strstr(m, "(and more)") != NULL, "%s", m);

	g_autoptr(GError) e2 = NULL;
	g_autoptr(MwSpamRules) flag = mw_spam_rules_parse("body F 1 /a/q\n", "t", &e2);
	ck_assert_ptr_null(flag);
	ck_assert_msg(strstr(e2->message, "unknown regex flag 'q'") != NULL, "%s", e2->message);

	g_autoptr(GError) e3 = NULL;
	g_autoptr(MwSpamRules) ok = mw_spam_rules_parse(
		"# c\n\nheader A 1 From|Reply-To =~ /x\\/y/i\nraw B -1 /\\x00/\n", "t", &e3);
	ck_assert_ptr_nonnull(ok);
	ck_assert_uint_eq(mw_spam_rules_count(ok), 2);
}
END_TEST

START_TEST(test_shipped_rules)
{
	/* the starter set compiles and scores a typical spam above spam_level and a ham at 0 */
	g_autofree char *path = g_build_filename(MW_TEST_SRCDIR, "..", "spam.rules", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(MwSpamRules) rules = mw_spam_rules_load(path, &error);
	ck_assert_msg(rules != NULL, "%s", error ? error->message : "");
	ck_assert_uint_ge(mw_spam_rules_count(rules), 20);
	g_autofree char *spam_path =
		g_build_filename(MW_TEST_SRCDIR, "data", "spam-sample.eml", NULL);
	g_autofree char *ham_path =
		g_build_filename(MW_TEST_SRCDIR, "data", "ham-sample.eml", NULL);
	const char *paths[] = {spam_path, ham_path};
	double scores[2];
	for (guint i = 0; i < 2; i++) {
		g_autoptr(MwMessage) msg = mw_message_new_from_file(paths[i], NULL, &error);
		ck_assert_msg(msg != NULL, "%s", error ? error->message : "");
		g_autoptr(GMimeMessage) mime = mw_message_parse_mime(msg, NULL);
		g_autoptr(MwSpamText) text = mw_spam_text_new(mime, 1 << 20);
		g_autofree char *raw = mw_message_dup_head(msg, 1 << 20);
		MwSpamResult result;
		mw_spam_result_init(&result);
		mw_spam_rules_eval(rules, mime, text, raw, strlen(raw), &result);
		scores[i] = result.score;
		g_autofree char *names = mw_spam_result_names(&result);
		g_print("%s: %.1f %s\n", paths[i], result.score, names);
		mw_spam_result_clear(&result);
	}
	ck_assert_msg(scores[0] >= 6.0, "spam sample scored %.1f", scores[0]);
	ck_assert_msg(scores[1] < 2.0, "ham sample scored %.1f", scores[1]);
}
END_TEST

START_TEST(test_lists)
{
	char *list[] = {"example.org", "@corp.example", "Boss@Big.Example", NULL};
	ck_assert(mw_spam_list_match(list, "a@example.org"));
	ck_assert(mw_spam_list_match(list, "a@mail.EXAMPLE.org"));
	ck_assert(!mw_spam_list_match(list, "a@badexample.org"));
	ck_assert(mw_spam_list_match(list, "x@sub.corp.example"));
	ck_assert(mw_spam_list_match(list, "boss@big.example"));
	ck_assert(!mw_spam_list_match(list, "other@big.example"));
	ck_assert(!mw_spam_list_match(list, ""));
	ck_assert(!mw_spam_list_match(NULL, "a@example.org"));
	ck_assert_str_eq(mw_spam_list_check("example"), "is not a domain (no dot)");
	ck_assert_str_eq(mw_spam_list_check("a@example.org"), "");
}
END_TEST

START_TEST(test_header_helpers)
{
	g_autofree char *s0 = mw_spam_level_stars(-3);
	g_autofree char *s7 = mw_spam_level_stars(7.9);
	g_autofree char *s100 = mw_spam_level_stars(100);
	ck_assert_str_eq(s0, "");
	ck_assert_str_eq(s7, "*******");
	ck_assert_uint_eq(strlen(s100), 64);
	g_autofree char *status = mw_spam_status_value(TRUE, 7.3, 6, "GTUBE,SPF_FAIL");
	ck_assert_str_eq(status, "Yes, score=7.3 required=6.0 tests=GTUBE,SPF_FAIL");
	g_autofree char *tagged = mw_spam_subject_tagged("Hello", "[SPAM]");
	ck_assert_str_eq(tagged, "[SPAM] Hello");
	ck_assert_ptr_null(mw_spam_subject_tagged(" [SPAM] Hello", "[SPAM]"));
	g_autofree char *empty = mw_spam_subject_tagged(NULL, "[SPAM]");
	ck_assert_str_eq(empty, "[SPAM]");
}
END_TEST

START_TEST(test_html_text)
{
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(GPtrArray) uris = g_ptr_array_new_with_free_func(g_free);
	const char *html = "<html><style>p{color:red}</style><script>var x='<b>';</script>"
			   "<p>Fr&#101;e &amp; easy</p><a href='https://x.example/a?b=1'>go</a>"
			   "<!-- hidden text --><img src=\"http://img.example/p.gif\"></html>";
	mw_spam_html_to_text(html, strlen(html), out, uris);
	ck_assert_msg(strstr(out->str, "Free & easy") != NULL, "%s", out->str);
	ck_assert_ptr_null(strstr(out->str, "color"));
	ck_assert_ptr_null(strstr(out->str, "var x"));
	ck_assert_ptr_null(strstr(out->str, "hidden"));
	ck_assert_uint_eq(uris->len, 2);
	ck_assert_str_eq(g_ptr_array_index(uris, 0), "https://x.example/a?b=1");
	g_autoptr(GPtrArray) plain = g_ptr_array_new_with_free_func(g_free);
	mw_spam_find_uris("see http://a.example/x. and www.b.example, ok", plain);
	ck_assert_uint_eq(plain->len, 2);
	ck_assert_str_eq(g_ptr_array_index(plain, 0), "http://a.example/x");
	ck_assert_str_eq(g_ptr_array_index(plain, 1), "www.b.example");
}
END_TEST

START_TEST(test_backend_replies)
{
	MwSpamResult r;
	mw_spam_result_init(&r);
	g_autoptr(GError) error = NULL;
	ck_assert(mw_spam_spamd_parse("SPAMD/1.1 0 EX_OK\r\nContent-length: 20\r\n"
				      "Spam: True ; 1002.5 / 5.0\r\n\r\nGTUBE,MISSING_DATE\r\n",
				      &r, &error));
	ck_assert(r.score > 1002.4 && r.score < 1002.6);
	ck_assert(mw_spam_result_has(&r, "GTUBE") && mw_spam_result_has(&r, "MISSING_DATE"));
	mw_spam_result_clear(&r);

	mw_spam_result_init(&r);
	ck_assert(!mw_spam_spamd_parse("SPAMD/1.0 76 Bad header line\r\n\r\n", &r, &error));
	ck_assert_int_eq(error->code, MW_ERROR_BACKEND);
	g_clear_error(&error);
	mw_spam_result_clear(&r);

	/* spamd that hangs up without a word: an error, not a NULL one */
	const char *empty[] = {"", "\r\n\r\nGTUBE\r\n"};
	for (gsize i = 0; i < G_N_ELEMENTS(empty); i++) {
		mw_spam_result_init(&r);
		ck_assert(!mw_spam_spamd_parse(empty[i], &r, &error));
		ck_assert_ptr_nonnull(error);
		ck_assert_int_eq(error->code, MW_ERROR_BACKEND);
		g_clear_error(&error);
		mw_spam_result_clear(&r);
	}

	const char *json =
		"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		"Transfer-Encoding: chunked\r\n\r\n"
		"2b\r\n{\"is_skipped\":false,\"score\":7.25,\"symbols\":\r\n"
		"45\r\n{\"R_A\":{\"name\":\"R_A\",\"score\":5.0},\"R_B\":{\"score\":2.25}},"
		"\"action\":\"x\"}\r\n0\r\n\r\n";
	mw_spam_result_init(&r);
	ck_assert_msg(mw_spam_rspamd_parse_reply(json, strlen(json), &r, &error), "%s",
		      error ? error->message : "");
	ck_assert(r.score > 7.24 && r.score < 7.26);
	ck_assert_uint_eq(r.tests->len, 2);
	ck_assert(mw_spam_result_has(&r, "R_A") && mw_spam_result_has(&r, "R_B"));
	mw_spam_result_clear(&r);

	const char *bad = "HTTP/1.1 500 Internal\r\n\r\n{}";
	mw_spam_result_init(&r);
	ck_assert(!mw_spam_rspamd_parse_reply(bad, strlen(bad), &r, &error));
	ck_assert_msg(strstr(error->message, "500") != NULL, "%s", error->message);
	g_clear_error(&error);
	mw_spam_result_clear(&r);

	g_autofree char *target = NULL, *path = NULL;
	ck_assert(mw_spam_rspamd_parse_url("http://[::1]:11333/r/", &target, &path, NULL));
	ck_assert_str_eq(target, "[::1]:11333");
	ck_assert_str_eq(path, "/r");
	g_clear_pointer(&target, g_free);
	g_clear_pointer(&path, g_free);
	ck_assert(mw_spam_rspamd_parse_url("http://localhost", &target, &path, NULL));
	ck_assert_str_eq(target, "localhost:80");
	ck_assert(!mw_spam_rspamd_parse_url("https://x:1", &target, &path, NULL));
}
END_TEST

START_TEST(test_dnsbl_names)
{
	g_autofree char *v4 = mw_spam_dnsbl_query_name("192.0.2.7", "bl.example");
	ck_assert_str_eq(v4, "7.2.0.192.bl.example");
	g_autofree char *v6 = mw_spam_dnsbl_query_name("IPv6:2001:db8::1", "bl.example");
	ck_assert_str_eq(v6, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2."
			     "bl.example");
	ck_assert_ptr_null(mw_spam_dnsbl_query_name("not-an-ip", "bl.example"));
	char *list[] = {"bl.example:2.5", "other.example", NULL};
	g_autoptr(GPtrArray) zones = mw_spam_dnsbl_parse(list, NULL);
	ck_assert_uint_eq(zones->len, 2);
	MwSpamDnsbl *first = g_ptr_array_index(zones, 0);
	MwSpamDnsbl *second = g_ptr_array_index(zones, 1);
	ck_assert_str_eq(first->test, "RCVD_IN_BL_EXAMPLE");
	ck_assert(first->score == 2.5 && second->score == MW_SPAM_DNSBL_DEFAULT_SCORE);
}
END_TEST

START_TEST(test_config_errors)
{
	static const struct {
		const char *lines;
		const char *expect;
	} cases[] = {
		{"tag_level = 9\nspam_level = 6\n", "tag_level <= spam_level <= discard_level"},
		{"allow_from = nodot\n", "allow_from: 'nodot' is not a domain"},
		{"dnsbl = bl.example:lots\n", "dnsbl: 'bl.example:lots'"},
		{"trusted_networks = 10.0.0.0/99\n", "trusted_networks: '10.0.0.0/99'"},
		{"engine = rspamd\nrspamd = ftp://x\n", "rspamd: 'ftp://x'"},
		{"engine = spamd\nspamd = nothing\n", "spamd: 'nothing'"},
		{"engine = nope\n", "engine"},
		{"frobnicate = 1\n", "frobnicate"},
	};
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *error = NULL;
		g_autoptr(MwConfig) config = load(cases[i].lines, &error);
		ck_assert_msg(config == NULL, "case %u loaded", i);
		ck_assert_msg(error != NULL && strstr(error, cases[i].expect) != NULL,
			      "case %u: '%s' lacks '%s'", i, error, cases[i].expect);
	}
	/* a rules file that does not exist is an error, not silently no rules */
	g_autofree char *text = g_strdup_printf("[mailwarden]\nstate_dir = %s\nmodules = spam\n"
						"[spam]\nrules = %s/missing.rules\n",
						tmp_dir, tmp_dir);
	g_autoptr(GError) error = NULL;
	g_autoptr(MwConfig) missing = mw_config_load_data(text, NULL, &error);
	ck_assert_ptr_null(missing);
	ck_assert_msg(strstr(error->message, "missing.rules") != NULL, "%s", error->message);
}
END_TEST

static Suite *
spam_suite(void)
{
	Suite *s = suite_create("spam-unit");
	TCase *tc = tcase_create("process");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_clean_untouched);
	tcase_add_test(tc, test_tagged_not_spam);
	tcase_add_test(tc, test_spam_tagged_once);
	tcase_add_test(tc, test_foreign_headers_removed_below_tag);
	tcase_add_test(tc, test_body_uri_decoded);
	tcase_add_test(tc, test_gtube_quarantine);
	tcase_add_test(tc, test_actions);
	tcase_add_test(tc, test_allow_to_splits);
	tcase_add_test(tc, test_allow_block_lists);
	tcase_add_test(tc, test_skip_outbound);
	tcase_add_test(tc, test_max_size);
	tcase_add_test(tc, test_config_errors);
	suite_add_tcase(s, tc);
	TCase *parts = tcase_create("parts");
	tcase_add_test(parts, test_rules_errors);
	tcase_add_test(parts, test_shipped_rules);
	tcase_add_test(parts, test_lists);
	tcase_add_test(parts, test_header_helpers);
	tcase_add_test(parts, test_html_text);
	tcase_add_test(parts, test_backend_replies);
	tcase_add_test(parts, test_dnsbl_names);
	suite_add_tcase(s, parts);
	return s;
}

int
main(void)
{
	g_mime_init();
	SRunner *sr = srunner_create(spam_suite());
	srunner_run_all(sr, CK_ENV);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	g_mime_shutdown();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
