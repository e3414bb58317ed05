/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-fidelity - what goes in comes out (ARCHITECTURE §5.2, §4, §5.6)
 * SYNOPSIS
 *	integration/test-fidelity
 * DESCRIPTION
 *	A set of awkward messages (dots at line starts, 8-bit and NUL bytes, a
 *	1 MB line, lines over 998 bytes, bare LF and CR, no body, broken MIME,
 *	the committed .eml files) must reach the sink byte-identical, once
 *	without modules and once with every test module in the pipeline (none
 *	triggered: parsing must not change the bytes). The envelope keeps its
 *	parameters (SIZE recomputed, BODY, SMTPUTF8, RET, ENVID, NOTIFY, ORCPT),
 *	XFORWARD attributes are passed on for their transaction only, and each
 *	message gets one summary log line with the queue id.
 */

#include <stdio.h>
#include <string.h>

#include "mw-test-util.h"

#define ALL_MODULES                                                                                \
	"modules = test_split, test_consume, test_verdict, test_error, test_modify, test_emit, "   \
	"test_crash"

typedef struct {
	const char *name;
	GBytes *(*make)(void);
} Tricky;

/* bytes_from - a GBytes copy of a GString */
static GBytes *
bytes_from(GString *s)
{
	return g_bytes_new(s->str, s->len);
}

/* head - common headers for generated messages */
static void
head(GString *s, const char *subject)
{
	g_string_append_printf(s,
			       "From: Fidelity <sender@example.org>\r\n"
			       "To: rcpt@example.net\r\n"
			       "Subject: %s\r\n"
			       "Message-ID: <%s@fidelity.example.org>\r\n"
			       "Date: Mon, 01 Jan 2024 12:00:00 +0000\r\n",
			       subject, subject);
}

static GBytes *
make_dots(void)
{
	g_autoptr(GString) s = g_string_new(NULL);

	head(s, "dots");
	g_string_append(s, "\r\n"
			   ".\r\n"
			   "..\r\n"
			   "...\r\n"
			   ".leading dot\r\n"
			   ". space after dot\r\n"
			   "middle . dot\r\n"
			   "\r\n"
			   ".\r\n"
			   "..\r\n"
			   "x\r\n"
			   ".\r\n");
	return bytes_from(s);
}

static GBytes *
make_eight_bit(void)
{
	g_autoptr(GString) s = g_string_new(NULL);

	head(s, "eight-bit");
	g_string_append(s, "X-Latin1: caf\xe9 cr\xe8me\r\n"
			   "X-UTF8: Gr\xc3\xbc\xc3\x9f"
			   "e aus K\xc3\xb6ln \xe2\x82\xac\r\n"
			   "Content-Type: text/plain; charset=utf-8\r\n"
			   "Content-Transfer-Encoding: 8bit\r\n"
			   "\r\n");
	for (guint row = 0; row < 4; row++) {
		for (guint c = 0x80 + row * 32; c < 0x80 + (row + 1) * 32; c++)
			g_string_append_c(s, (char) c);
		g_string_append(s, "\r\n");
	}
	g_string_append(s, "\xff\xfe\xfd invalid UTF-8 \xc3\x28 \xa0\xa1\r\n");
	return bytes_from(s);
}

static GBytes *
make_nul(void)
{
	g_autoptr(GString) s = g_string_new(NULL);

	head(s, "nul-bytes");
	g_string_append(s, "\r\n");
	g_string_append_len(s, "a\0b\r\n", 5);
	g_string_append_len(s, "\0\0\0\r\n", 5);
	g_string_append_len(s, ".\0dot-nul\r\n", 11);
	g_string_append_len(s, "end\0\r\n", 6);
	return bytes_from(s);
}

static GBytes *
make_megabyte_line(void)
{
	g_autoptr(GString) s = g_string_new(NULL);

	head(s, "one-megabyte-line");
	g_string_append(s, "\r\n");
	for (guint i = 0; i < 1024 * 1024; i++)
		g_string_append_c(s, (char) ('a' + i % 26));
	g_string_append(s, "\r\nshort line after\r\n");
	return bytes_from(s);
}

static GBytes *
make_long_lines(void)
{
	static const guint lengths[] = {997, 998, 999, 1000, 4095, 4096, 4097, 65536};
	g_autoptr(GString) s = g_string_new(NULL);

	head(s, "long-lines");
	/* an over-long header too */
	g_string_append(s, "X-Long: ");
	for (guint i = 0; i < 3000; i++)
		g_string_append_c(s, (char) ('0' + i % 10));
	g_string_append(s, "\r\n\r\n");
	for (guint i = 0; i < G_N_ELEMENTS(lengths); i++) {
		if (i % 2 == 1)
			g_string_append_c(s, '.'); /* dots at the start of long lines too */
		for (guint j = 0; j < lengths[i]; j++)
			g_string_append_c(s, (char) ('A' + (i + j) % 26));
		g_string_append(s, "\r\n");
	}
	return bytes_from(s);
}

static GBytes *
make_bare_lf_cr(void)
{
	g_autoptr(GString) s = g_string_new(NULL);

	head(s, "bare-lf-cr");
	g_string_append(s, "\r\n"
			   "bare\nLF inside a line\r\n"
			   "bare\rCR inside a line\r\n"
			   "double CR\r\r\n"
			   "LF LF\n\nthen CRLF\r\n"
			   "trailing spaces   \r\n"
			   "\ttab first\r\n"
			   "CR LF CR\r\n\r"
			   "x\r\n");
	return bytes_from(s);
}

static GBytes *
make_headers_only(void)
{
	g_autoptr(GString) s = g_string_new(NULL);

	head(s, "headers-only");
	return bytes_from(s);
}

static GBytes *
make_no_headers(void)
{
	static const char text[] = "\r\nno header at all, only a body\r\n";

	return g_bytes_new_static(text, sizeof(text) - 1);
}

static GBytes *
make_broken_mime(void)
{
	g_autoptr(GString) s = g_string_new(NULL);

	head(s, "broken-mime");
	g_string_append(s, "MIME-Version: 1.0\r\n"
			   "Content-Type: multipart/mixed;\r\n"
			   "\tboundary=\"missing-end\"\r\n"
			   "this header line has no colon\r\n"
			   "X-Folded: first\r\n"
			   "   second\r\n"
			   "\tthird\r\n"
			   "X-Empty:\r\n"
			   "x-lowercase: Value  \r\n"
			   "\r\n"
			   "preamble\r\n"
			   "--missing-end\r\n"
			   "Content-Type: text/plain; charset=\"unterminated\r\n"
			   "Content-Transfer-Encoding: base64\r\n"
			   "\r\n"
			   "!!!not base64 at all===\r\n"
			   "--missing-end\r\n"
			   "Content-Type: message/rfc822\r\n"
			   "\r\n"
			   "Subject: truncated inner message\r\n"
			   "--wrong-boundary--\r\n"
			   "--missing-end\r\n"
			   "Content-Type: application/octet-stream\r\n"
			   "Content-Transfer-Encoding: quoted-printable\r\n"
			   "\r\n"
			   "=ZZ bad qp =\r\n"
			   "=\r\n");
	return bytes_from(s);
}

static GBytes *
make_multipart_file(void)
{
	return mwt_data_file("messages/multipart-mixed.eml");
}

static GBytes *
make_alternative_file(void)
{
	return mwt_data_file("messages/alternative-8bit.eml");
}

static const Tricky tricky[] = {
	{"dots", make_dots},
	{"eight-bit", make_eight_bit},
	{"nul", make_nul},
	{"megabyte-line", make_megabyte_line},
	{"long-lines", make_long_lines},
	{"bare-lf-cr", make_bare_lf_cr},
	{"headers-only", make_headers_only},
	{"no-headers", make_no_headers},
	{"broken-mime", make_broken_mime},
	{"multipart-mixed.eml", make_multipart_file},
	{"alternative-8bit.eml", make_alternative_file},
};

/* check_size_param - SIZE= in the reinjected MAIL is there and plausible for @len */
static void
check_size_param(const char *env, gsize len, const char *what)
{
	g_autofree char *mail = mwt_env_line(env, "MAIL ");
	g_autofree char *size = mail != NULL ? mwt_env_param(mail, "SIZE") : NULL;
	guint64 n;

	ck_assert_msg(size != NULL, "%s: no SIZE in \"%s\"", what, mail);
	n = g_ascii_strtoull(size, NULL, 10);
	/* the exact byte count; stuffing and CRLF accounting may add a little */
	ck_assert_msg(n >= len && n <= len + len / 50 + 1024,
		      "%s: SIZE=%s for a %" G_GSIZE_FORMAT "-byte message", what, size, len);
}

START_TEST(test_byte_identical)
{
	g_autoptr(MwtSmtp) s = NULL;
	static const char *const rcpts[] = {"rcpt@example.net", NULL};

	/* _i == 0: no modules; _i == 1: every test module, none triggered */
	mwt_start(2, _i == 0 ? NULL : ALL_MODULES, NULL);
	s = mwt_smtp_open(mwt->port, "EHLO client.example");
	s->timeout_ms = mwt_scale(60000);
	for (guint i = 0; i < G_N_ELEMENTS(tricky); i++) {
		g_autoptr(GBytes) msg = tricky[i].make();
		g_autoptr(GBytes) got = NULL;
		g_autofree char *params = g_strdup_printf("SIZE=%" G_GSIZE_FORMAT " BODY=8BITMIME",
							  g_bytes_get_size(msg));
		g_autofree char *env = NULL;
		int code;

		code = mwt_smtp_message(s, "sender@example.org", params, rcpts, MWT_BYTES(msg));
		ck_assert_msg(code == 250, "%s: final reply %d \"%s\"", tricky[i].name, code,
			      s->text);
		mwt_sink_wait(i + 1);
		got = mwt_sink_message(i + 1);
		if (!g_bytes_equal(msg, got))
			fprintf(stderr, "message \"%s\" was changed:\n", tricky[i].name);
		mwt_assert_bytes_equal(msg, got);
		env = mwt_sink_envelope(i + 1);
		check_size_param(env, g_bytes_get_size(msg), tricky[i].name);
	}
}
END_TEST

/* xforward_attrs - every NAME=VALUE of the XFORWARD lines of @env */
static GHashTable *
xforward_attrs(const char *env)
{
	GHashTable *attrs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_auto(GStrv) lines = g_strsplit(env, "\n", -1);

	for (guint i = 0; lines[i] != NULL; i++) {
		g_auto(GStrv) words = NULL;
		if (!g_str_has_prefix(lines[i], "XFORWARD "))
			continue;
		words = g_strsplit(lines[i] + strlen("XFORWARD "), " ", -1);
		for (guint j = 0; words[j] != NULL; j++) {
			const char *eq = strchr(words[j], '=');
			if (eq != NULL)
				g_hash_table_insert(attrs, g_ascii_strup(words[j], eq - words[j]),
						    g_strdup(eq + 1));
		}
	}
	return attrs;
}

START_TEST(test_envelope_kept)
{
	static const char *const want[][2] = {
		{"NAME", "client.example"}, {"ADDR", "192.0.2.1"},      {"PORT", "54321"},
		{"PROTO", "ESMTP"},         {"HELO", "client.example"}, {"IDENT", "ABC123"},
		{"SOURCE", "REMOTE"},
	};
	g_autoptr(MwtSmtp) s = NULL;
	g_autoptr(GBytes) msg = mwt_message("envelope", NULL);
	g_autoptr(GBytes) got = NULL;
	g_autofree char *env = NULL;
	g_autofree char *mail = NULL;
	g_autofree char *body = NULL;
	g_autofree char *ret = NULL;
	g_autofree char *envid = NULL;
	g_autoptr(GPtrArray) rcpts = NULL;
	g_autoptr(GHashTable) attrs = NULL;
	g_auto(GStrv) lines = NULL;
	GPtrArray *rcpt_args = NULL;

	mwt_start(2, NULL, NULL);
	s = mwt_smtp_open(mwt->port, "EHLO client.example");
	/* Postfix splits XFORWARD over several commands */
	mwt_smtp_ok(s, "XFORWARD NAME=client.example ADDR=192.0.2.1 PORT=54321");
	mwt_smtp_ok(s, "XFORWARD PROTO=ESMTP HELO=client.example IDENT=ABC123 SOURCE=REMOTE");
	mwt_smtp_ok(s,
		    "MAIL FROM:<sender@example.org> SIZE=%" G_GSIZE_FORMAT
		    " BODY=8BITMIME RET=HDRS ENVID=QQ314159",
		    g_bytes_get_size(msg));
	mwt_smtp_ok(s, "RCPT TO:<a@example.net> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;a@example.net");
	mwt_smtp_ok(s, "RCPT TO:<b@example.net> NOTIFY=NEVER");
	mwt_smtp_ok(s, "RCPT TO:<c@example.net>");
	mwt_smtp_cmd_expect(s, 354, "DATA");
	mwt_smtp_data(s, MWT_BYTES(msg));
	mwt_smtp_expect(s, 250);
	mwt_sink_wait(1);
	got = mwt_sink_message(1);
	mwt_assert_bytes_equal(msg, got);

	env = mwt_sink_envelope(1);
	mail = mwt_env_line(env, "MAIL ");
	ck_assert_msg(g_str_has_prefix(mail, "FROM:<sender@example.org>"), "MAIL %s", mail);
	body = mwt_env_param(mail, "BODY");
	ret = mwt_env_param(mail, "RET");
	envid = mwt_env_param(mail, "ENVID");
	ck_assert_msg(g_strcmp0(body, "8BITMIME") == 0, "BODY lost: MAIL %s", mail);
	ck_assert_msg(g_strcmp0(ret, "HDRS") == 0, "RET lost: MAIL %s", mail);
	ck_assert_msg(g_strcmp0(envid, "QQ314159") == 0, "ENVID lost: MAIL %s", mail);
	check_size_param(env, g_bytes_get_size(msg), "envelope");

	rcpts = mwt_env_rcpts(env);
	ck_assert_uint_eq(rcpts->len, 3);
	ck_assert_str_eq(g_ptr_array_index(rcpts, 0), "a@example.net");
	ck_assert_str_eq(g_ptr_array_index(rcpts, 1), "b@example.net");
	ck_assert_str_eq(g_ptr_array_index(rcpts, 2), "c@example.net");
	rcpt_args = g_ptr_array_new_with_free_func(g_free);
	lines = g_strsplit(env, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++)
		if (g_str_has_prefix(lines[i], "RCPT "))
			g_ptr_array_add(rcpt_args, g_strdup(lines[i] + 5));
	{
		g_autofree char *n0 = mwt_env_param(rcpt_args->pdata[0], "NOTIFY");
		g_autofree char *o0 = mwt_env_param(rcpt_args->pdata[0], "ORCPT");
		g_autofree char *n1 = mwt_env_param(rcpt_args->pdata[1], "NOTIFY");
		g_autofree char *o1 = mwt_env_param(rcpt_args->pdata[1], "ORCPT");
		g_autofree char *n2 = mwt_env_param(rcpt_args->pdata[2], "NOTIFY");

		ck_assert_msg(g_strcmp0(n0, "SUCCESS,DELAY") == 0, "RCPT %s",
			      (char *) rcpt_args->pdata[0]);
		ck_assert_msg(g_ascii_strcasecmp(o0 != NULL ? o0 : "", "rfc822;a@example.net") == 0,
			      "RCPT %s", (char *) rcpt_args->pdata[0]);
		ck_assert_msg(g_strcmp0(n1, "NEVER") == 0 && o1 == NULL, "RCPT %s",
			      (char *) rcpt_args->pdata[1]);
		ck_assert_msg(n2 == NULL, "NOTIFY invented: RCPT %s", (char *) rcpt_args->pdata[2]);
	}
	g_ptr_array_unref(rcpt_args);

	attrs = xforward_attrs(env);
	for (guint i = 0; i < G_N_ELEMENTS(want); i++)
		ck_assert_msg(g_strcmp0(g_hash_table_lookup(attrs, want[i][0]), want[i][1]) == 0,
			      "XFORWARD %s: expected %s, envelope:\n%s", want[i][0], want[i][1],
			      env);
}
END_TEST

START_TEST(test_smtputf8_and_null_sender)
{
	g_autoptr(MwtSmtp) s = NULL;
	g_autoptr(GBytes) msg = NULL;
	g_autoptr(GBytes) bounce = mwt_message("a bounce", "Auto-Submitted: auto-replied");
	g_autoptr(GBytes) got = NULL;
	g_autofree char *env1 = NULL;
	g_autofree char *env2 = NULL;
	g_autofree char *mail1 = NULL;
	g_autofree char *mail2 = NULL;
	g_autofree char *utf8 = NULL;
	g_autoptr(GPtrArray) rcpts = NULL;
	static const char text[] = "From: J\xc3\xb6rg <j\xc3\xb6rg@ex\xc3\xa4mple.org>\r\n"
				   "To: Zo\xc3\xab <zo\xc3\xab@ex\xc3\xa4mple.net>\r\n"
				   "Subject: Gr\xc3\xbc\xc3\x9f"
				   "e\r\n"
				   "Message-ID: <utf8@ex\xc3\xa4mple.org>\r\n"
				   "\r\n"
				   "K\xc3\xb6ln\r\n";

	msg = g_bytes_new_static(text, sizeof(text) - 1);
	mwt_start(2, NULL, NULL);
	s = mwt_smtp_open(mwt->port, "EHLO client.example");
	mwt_smtp_ok(s, "MAIL FROM:<j\xc3\xb6rg@ex\xc3\xa4mple.org> SMTPUTF8 BODY=8BITMIME");
	mwt_smtp_ok(s, "RCPT TO:<zo\xc3\xab@ex\xc3\xa4mple.net>");
	mwt_smtp_cmd_expect(s, 354, "DATA");
	mwt_smtp_data(s, MWT_BYTES(msg));
	mwt_smtp_expect(s, 250);
	ck_assert_int_eq(mwt_smtp_message(s, "", NULL,
					  (const char *const[]){"postmaster@example.net", NULL},
					  MWT_BYTES(bounce)),
			 250);
	mwt_sink_wait(2);
	got = mwt_sink_message(1);
	mwt_assert_bytes_equal(msg, got);
	env1 = mwt_sink_envelope(1);
	mail1 = mwt_env_line(env1, "MAIL ");
	ck_assert_msg(g_str_has_prefix(mail1, "FROM:<j\xc3\xb6rg@ex\xc3\xa4mple.org>"), "MAIL %s",
		      mail1);
	utf8 = mwt_env_param(mail1, "SMTPUTF8");
	ck_assert_msg(utf8 != NULL, "SMTPUTF8 lost: MAIL %s", mail1);
	rcpts = mwt_env_rcpts(env1);
	ck_assert_uint_eq(rcpts->len, 1);
	ck_assert_str_eq(g_ptr_array_index(rcpts, 0), "zo\xc3\xab@ex\xc3\xa4mple.net");
	env2 = mwt_sink_envelope(2);
	mail2 = mwt_env_line(env2, "MAIL ");
	ck_assert_msg(g_str_has_prefix(mail2, "FROM:<>"), "null sender became MAIL %s", mail2);
}
END_TEST

START_TEST(test_xforward_per_transaction)
{
	g_autoptr(MwtSmtp) s = NULL;
	g_autoptr(GBytes) m1 = mwt_message("with xforward", NULL);
	g_autoptr(GBytes) m2 = mwt_message("without xforward", NULL);
	static const char *const rcpts[] = {"rcpt@example.net", NULL};
	g_autofree char *env1 = NULL;
	g_autofree char *env2 = NULL;

	mwt_start(2, NULL, NULL);
	s = mwt_smtp_open(mwt->port, "EHLO client.example");
	mwt_smtp_ok(s, "XFORWARD IDENT=FIRST111 ADDR=192.0.2.1 NAME=client.example");
	ck_assert_int_eq(mwt_smtp_message(s, "a@example.org", NULL, rcpts, MWT_BYTES(m1)), 250);
	/* no XFORWARD now: the attributes of the first message must not stick (Postfix resets them
	 * at the end of each transaction) */
	ck_assert_int_eq(mwt_smtp_message(s, "b@example.org", NULL, rcpts, MWT_BYTES(m2)), 250);
	mwt_sink_wait(2);
	env1 = mwt_sink_envelope(1);
	env2 = mwt_sink_envelope(2);
	ck_assert_msg(strstr(env1, "IDENT=FIRST111") != NULL, "XFORWARD lost:\n%s", env1);
	ck_assert_msg(strstr(env2, "FIRST111") == NULL && strstr(env2, "192.0.2.1") == NULL,
		      "XFORWARD of the previous transaction reused:\n%s", env2);
}
END_TEST

START_TEST(test_summary_log_line)
{
	g_autoptr(MwtSmtp) s = NULL;
	g_autoptr(GBytes) m1 = mwt_message("logged one", NULL);
	g_autoptr(GBytes) m2 = mwt_message("logged two", NULL);
	static const char *const rcpts[] = {"a@example.net", "b@example.net", NULL};
	g_autofree char *line1 = NULL;
	g_autofree char *line2 = NULL;

	mwt_start(2, NULL, NULL);
	s = mwt_smtp_open(mwt->port, "EHLO client.example");
	mwt_smtp_ok(s, "XFORWARD IDENT=ABC123 ADDR=192.0.2.1 NAME=client.example "
		       "HELO=client.example PROTO=ESMTP SOURCE=REMOTE");
	ck_assert_int_eq(mwt_smtp_message(s, "sender@example.org", NULL, rcpts, MWT_BYTES(m1)),
			 250);
	ck_assert_msg(strstr(s->text, "SINK1") != NULL,
		      "the 250 does not carry the downstream reply: \"%s\"", s->text);
	mwt_smtp_ok(s, "XFORWARD IDENT=DEF456 ADDR=192.0.2.2 NAME=other.example "
		       "HELO=other.example PROTO=ESMTP SOURCE=REMOTE");
	ck_assert_int_eq(mwt_smtp_message(s, "other@example.org", NULL, rcpts, MWT_BYTES(m2)), 250);

	line1 = mwt_log_wait(10000, "ABC123", "sender@example.org", "a@example.net",
			     "b@example.net", "SINK1", NULL);
	ck_assert_msg(line1 != NULL,
		      "no log line with queue id ABC123, sender, recipients and the downstream "
		      "reply (SINK1); log:\n%s",
		      mwt_log_text());
	line2 = mwt_log_wait(10000, "DEF456", "other@example.org", "a@example.net", "b@example.net",
			     "SINK2", NULL);
	ck_assert_msg(line2 != NULL, "no summary line for DEF456; log:\n%s", mwt_log_text());
	ck_assert_uint_eq(mwt_log_count("ABC123", "sender@example.org", "SINK1", NULL), 1);
	ck_assert_uint_eq(mwt_log_count("DEF456", "other@example.org", "SINK2", NULL), 1);
	ck_assert_msg(strstr(line1, "DEF456") == NULL, "one line for two messages: %s", line1);
}
END_TEST

static Suite *
fidelity_suite(void)
{
	Suite *suite = suite_create("fidelity");
	TCase *tc = mwt_tcase("fidelity", 120);

	tcase_add_loop_test(tc, test_byte_identical, 0, 2);
	tcase_add_test(tc, test_envelope_kept);
	tcase_add_test(tc, test_smtputf8_and_null_sender);
	tcase_add_test(tc, test_xforward_per_transaction);
	tcase_add_test(tc, test_summary_log_line);
	suite_add_tcase(suite, tc);
	return suite;
}

int
main(void)
{
	return mwt_main(fidelity_suite());
}
