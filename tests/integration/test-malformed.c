/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-malformed - broken mail never crashes, hangs or loses a byte
 * SYNOPSIS
 *	integration/test-malformed
 * DESCRIPTION
 *	A corpus of broken messages generated at run time: missing, empty and
 *	duplicated boundaries, 100 nesting levels, a 10 MB single header line,
 *	NUL bytes, invalid base64 and quoted-printable, unknown charsets, 8-bit
 *	headers, truncated messages (no final boundary, header only, only
 *	"\r\n"), a 1 MB line, duplicate Content-Type headers, broken HTML and
 *	multipart/signed, bare LF, text with no header block.
 *
 *	- test_modules: each message goes through the daemon with every real
 *	  module (virus on libclamav with an EICAR database, spam with the
 *	  builtin engine, no SPF, no Bayes; resources and invitations with a
 *	  room and a user; gpg with a key for the split recipient; footer with
 *	  apply_to = all; every on_error = tempfail) plus test_split and
 *	  test_modify, to a split recipient and a plain one, once as it is and
 *	  once with X-Test-Modify: yes. Every message is answered 250 within a
 *	  bounded time (never a dropped connection, a hang, or a 4xx that would
 *	  defer it until Postfix gives up), the master stays alive and a clean
 *	  message afterwards is delivered.
 *	- test_fidelity: with no modules (ambiguous_mime = pass) every message
 *	  arrives at the sink byte-identical.
 *	- test_scan: "mailwarden-test -c CONF scan --out DIR FILE" with the
 *	  modules config exits 0 for every message.
 */

#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>

#include "mw-test-util.h"

#define MODULE_KEYS_FMT                                                                            \
	"modules = virus, spam, resources, invitations, test_split, test_modify, gpg, footer\n"    \
	"local_domains = example.org\n"                                                            \
	"max_message_size = 52428800\n"                                                            \
	"timeout = 60\n"                                                                           \
	"directory = %s\n"                                                                         \
	"calendars = dir:%s/calendars\n"
#define MODULE_SECTIONS_FMT                                                                        \
	"[virus]\n"                                                                                \
	"engine = libclamav\n"                                                                     \
	"database = %s\n"                                                                          \
	"on_error = tempfail\n"                                                                    \
	"\n"                                                                                       \
	"[resources]\n"                                                                            \
	"on_error = tempfail\n"                                                                    \
	"\n"                                                                                       \
	"[invitations]\n"                                                                          \
	"on_error = tempfail\n"                                                                    \
	"\n"                                                                                       \
	"[gpg]\n"                                                                                  \
	"keyring = %s\n"                                                                           \
	"on_error = tempfail\n"                                                                    \
	"\n"                                                                                       \
	"[spam]\n"                                                                                 \
	"engine = builtin\n"                                                                       \
	"rules =\n"                                                                                \
	"spf = false\n"                                                                            \
	"bayes = false\n"                                                                          \
	"on_error = tempfail\n"                                                                    \
	"\n"                                                                                       \
	"[footer]\n"                                                                               \
	"text = %s\n"                                                                              \
	"apply_to = all\n"                                                                         \
	"signed = attach\n"

typedef struct {
	const char *name;
	GBytes *(*make)(void);
} Broken;

static const char *const rcpts[] = {"split@example.org", "rcpt@example.net", NULL};

/* head - common top headers */
static void
head(GString *s, const char *name)
{
	g_string_append_printf(s,
			       "From: Malformed <sender@example.org>\r\n"
			       "To: rcpt@example.net\r\n"
			       "Subject: malformed %s\r\n"
			       "Message-ID: <%s@malformed.example.org>\r\n"
			       "Date: Mon, 01 Jan 2024 12:00:00 +0000\r\n"
			       "MIME-Version: 1.0\r\n",
			       name, name);
}

static GBytes *
take(GString *s)
{
	return g_string_free_to_bytes(s);
}

static GBytes *
make_missing_boundary(void)
{
	GString *s = g_string_new(NULL);

	head(s, "missing-boundary");
	g_string_append(s, "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
			   "no boundary line follows, ever\r\n"
			   "Content-Type: text/plain\r\n\r\ntext\r\n");
	return take(s);
}

static GBytes *
make_no_boundary_param(void)
{
	GString *s = g_string_new(NULL);

	head(s, "no-boundary-param");
	g_string_append(s, "Content-Type: multipart/alternative\r\n\r\n"
			   "--\r\nContent-Type: text/plain\r\n\r\nplain\r\n----\r\n");
	return take(s);
}

static GBytes *
make_empty_boundary(void)
{
	GString *s = g_string_new(NULL);

	head(s, "empty-boundary");
	g_string_append(s, "Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n"
			   "--\r\nContent-Type: text/plain\r\n\r\npart\r\n----\r\n");
	return take(s);
}

static GBytes *
make_duplicated_boundaries(void)
{
	GString *s = g_string_new(NULL);

	head(s, "duplicated-boundaries");
	g_string_append(s, "Content-Type: multipart/mixed; boundary=\"dup\"; boundary=\"other\"\r\n"
			   "\r\npreamble\r\n"
			   "--dup\r\n--dup\r\n--dup\r\n"
			   "Content-Type: text/plain\r\n\r\none\r\n"
			   "--other\r\nContent-Type: text/html\r\n\r\n<p>two</p>\r\n"
			   "--dup--\r\n--dup--\r\n--other--\r\nepilogue\r\n--dup\r\n\r\nafter\r\n");
	return take(s);
}

static GBytes *
make_nesting_100(void)
{
	GString *s = g_string_new(NULL);

	head(s, "nesting-100");
	g_string_append(s, "Content-Type: multipart/mixed; boundary=\"n0\"\r\n\r\n");
	for (guint i = 0; i < 100; i++)
		g_string_append_printf(
			s,
			"--n%u\r\nContent-Type: multipart/mixed; boundary=\"n%u\"\r\n"
			"\r\n",
			i, i + 1);
	g_string_append(s, "--n100\r\nContent-Type: text/plain\r\n\r\ndeepest\r\n");
	for (guint i = 101; i-- > 0;)
		g_string_append_printf(s, "--n%u--\r\n", i);
	return take(s);
}

static GBytes *
make_header_10mb(void)
{
	GString *s = g_string_sized_new(10 * 1024 * 1024 + 1024);

	head(s, "header-10mb");
	g_string_append(s, "X-Huge: ");
	for (guint i = 0; i < 10 * 1024 * 1024 / 64; i++)
		g_string_append(s,
				"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/");
	g_string_append(s, "\r\nContent-Type: text/plain\r\n\r\nbody after a huge header\r\n");
	return take(s);
}

static GBytes *
make_nul_bytes(void)
{
	GString *s = g_string_new(NULL);
	static const char part[] = "X-Nul: a\0b\r\nContent-Type: text/plain\r\n\r\n"
				   "nul \0 in \0\0 body\r\n\0\r\n";

	head(s, "nul-bytes");
	g_string_append_len(s, part, sizeof(part) - 1);
	return take(s);
}

static GBytes *
make_bad_base64(void)
{
	GString *s = g_string_new(NULL);

	head(s, "bad-base64");
	g_string_append(s, "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
			   "--b\r\nContent-Type: text/plain; charset=utf-8\r\n"
			   "Content-Transfer-Encoding: base64\r\n\r\n"
			   "!!!@@@===abc\r\nSGVsbG8=V29ybGQ\r\n====\r\nA\r\n"
			   "--b\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n"
			   "\r\nPGh0bWw+PGJvZHk+\xff\xfe*&^\r\n"
			   "--b\r\nContent-Type: application/octet-stream; name=\"x.bin\"\r\n"
			   "Content-Transfer-Encoding: base64\r\n\r\n=\r\n--b--\r\n");
	return take(s);
}

static GBytes *
make_bad_qp(void)
{
	GString *s = g_string_new(NULL);

	head(s, "bad-qp");
	g_string_append(s, "Content-Type: text/plain; charset=iso-8859-1\r\n"
			   "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
			   "=ZZ=G1 =\r\n=4\r\nsoft break at the end =\r\n=\r\n==\r\n=E9=\r\n=");
	return take(s);
}

static GBytes *
make_unknown_charset(void)
{
	GString *s = g_string_new(NULL);

	head(s, "unknown-charset");
	g_string_append(s, "X-Words: =?x-bogus-9999?B?w6TDtsO8?= =?utf-7?Q?+AOQ-?= =?\?=\r\n"
			   "Content-Type: multipart/alternative; boundary=\"cs\"\r\n\r\n"
			   "--cs\r\nContent-Type: text/plain; charset=\"x-unknown-9999\"\r\n"
			   "Content-Transfer-Encoding: 8bit\r\n\r\n\xe4\xf6\xfc \xc3\xa4\r\n"
			   "--cs\r\nContent-Type: text/html; charset=utf-7\r\n\r\n"
			   "<html><body>+AOQ-</body></html>\r\n--cs--\r\n");
	return take(s);
}

static GBytes *
make_eightbit_headers(void)
{
	GString *s = g_string_new(NULL);

	g_string_append(s, "From: J\xc3\xbcrgen \xe4\xf6 <sender@example.org>\r\n"
			   "To: r\xe9\x63ipient <rcpt@example.net>\r\n"
			   "Subject: 8-bit \xff\xfe\xc3\x28 header\r\n"
			   "Message-ID: <eightbit@malformed.example.org>\r\n"
			   "X-\xc3\xa4: name with 8 bits\r\n"
			   "MIME-Version: 1.0\r\n"
			   "Content-Type: text/plain; charset=\xc3\xa4\r\n\r\n"
			   "body\r\n");
	return take(s);
}

static GBytes *
make_truncated_multipart(void)
{
	GString *s = g_string_new(NULL);

	head(s, "truncated-multipart");
	g_string_append(s, "Content-Type: multipart/mixed; boundary=\"t\"\r\n\r\n"
			   "--t\r\nContent-Type: text/plain\r\n\r\nfirst\r\n"
			   "--t\r\nContent-Type: application/pdf\r\n"
			   "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\nJVBE");
	return take(s);
}

static GBytes *
make_header_only(void)
{
	GString *s = g_string_new(NULL);

	head(s, "header-only");
	g_string_append(s, "Content-Type: multipart/mixed; boundary=\"h\"");
	return take(s);
}

static GBytes *
make_crlf_only(void)
{
	return g_bytes_new_static("\r\n", 2);
}

/* no header block at all: the first line is text */
static GBytes *
make_no_header_block(void)
{
	static const char text[] = "this is not a message at all\r\n\r\n\r\n";

	return g_bytes_new_static(text, sizeof text - 1);
}

static GBytes *
make_line_1mb(void)
{
	GString *s = g_string_sized_new(1024 * 1024 + 1024);

	head(s, "line-1mb");
	g_string_append(s, "Content-Type: text/plain\r\n\r\n");
	for (guint i = 0; i < 1024 * 1024 / 32; i++)
		g_string_append(s, "0123456789abcdef0123456789ABCDEF");
	g_string_append(s, "\r\nlast line\r\n");
	return take(s);
}

static GBytes *
make_duplicate_content_type(void)
{
	GString *s = g_string_new(NULL);

	head(s, "duplicate-content-type");
	g_string_append(s, "Content-Type: text/plain\r\n"
			   "Content-Type: multipart/mixed; boundary=\"x\"\r\n"
			   "Content-Transfer-Encoding: base64\r\n"
			   "Content-Transfer-Encoding: 7bit\r\n\r\n"
			   "--x\r\nContent-Type: text/plain\r\n\r\nhidden\r\n--x--\r\n");
	return take(s);
}

static GBytes *
make_broken_html(void)
{
	GString *s = g_string_new(NULL);

	head(s, "broken-html");
	g_string_append(s, "Content-Type: text/html; charset=utf-8\r\n\r\n"
			   "<html><body <p>unclosed <b attr=\"\r\n<</body</html\r\n<!--");
	return take(s);
}

static GBytes *
make_broken_signed(void)
{
	GString *s = g_string_new(NULL);

	head(s, "broken-signed");
	g_string_append(s, "Content-Type: multipart/signed; protocol=\"application/pgp-signature\";"
			   " micalg=pgp-sha256; boundary=\"sig\"\r\n\r\n"
			   "--sig\r\nContent-Type: text/plain\r\n\r\nsigned text\r\n--sig--\r\n");
	return take(s);
}

static GBytes *
make_broken_rfc822(void)
{
	GString *s = g_string_new(NULL);

	head(s, "broken-rfc822");
	g_string_append(s, "Content-Type: multipart/mixed; boundary=\"r\"\r\n\r\n"
			   "--r\r\nContent-Type: message/rfc822\r\n\r\n"
			   "Content-Type: multipart/mixed; boundary=\"r\"\r\n\r\n--r\r\n--r--\r\n"
			   "--r\r\nContent-Type: message/rfc822\r\n"
			   "Content-Transfer-Encoding: base64\r\n\r\n%%%\r\n");
	return take(s);
}

static GBytes *
make_garbage_headers(void)
{
	GString *s = g_string_new(NULL);

	g_string_append(s,
			" continuation before any header\r\n"
			"no colon in this line\r\n"
			": empty name\r\n"
			"From:\r\n"
			"Content-Type: ;;;;; boundary=\r\n"
			"Content-Type: text/\r\n"
			"Content-Disposition: attachment; filename*=utf-8''%ff%fe; filename*0=a\r\n"
			"\r\nbody\r\n");
	return take(s);
}

static GBytes *
make_bare_lf(void)
{
	GString *s = g_string_new(NULL);

	g_string_append(s, "From: lf@example.org\nTo: rcpt@example.net\nSubject: bare LF\n"
			   "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"lf\"\n\n"
			   "--lf\nContent-Type: text/plain\n\nbare\rCR and LF\n--lf--\n");
	return take(s);
}

static const Broken corpus[] = {
	{"missing-boundary", make_missing_boundary},
	{"no-boundary-param", make_no_boundary_param},
	{"empty-boundary", make_empty_boundary},
	{"duplicated-boundaries", make_duplicated_boundaries},
	{"nesting-100", make_nesting_100},
	{"header-10mb", make_header_10mb},
	{"nul-bytes", make_nul_bytes},
	{"bad-base64", make_bad_base64},
	{"bad-qp", make_bad_qp},
	{"unknown-charset", make_unknown_charset},
	{"eightbit-headers", make_eightbit_headers},
	{"truncated-multipart", make_truncated_multipart},
	{"header-only", make_header_only},
	{"crlf-only", make_crlf_only},
	{"no-header-block", make_no_header_block},
	{"line-1mb", make_line_1mb},
	{"duplicate-content-type", make_duplicate_content_type},
	{"broken-html", make_broken_html},
	{"broken-signed", make_broken_signed},
	{"broken-rfc822", make_broken_rfc822},
	{"garbage-headers", make_garbage_headers},
	{"bare-lf", make_bare_lf},
};

/* with_modify - @msg with "X-Test-Modify: yes" in front */
static GBytes *
with_modify(GBytes *msg)
{
	GString *s = g_string_new("X-Test-Modify: yes\r\n");

	g_string_append_len(s, g_bytes_get_data(msg, NULL), (gssize) g_bytes_get_size(msg));
	return take(s);
}

/* start_with_modules - the config with spam, footer, test_split and test_modify */
static void
write_module_config(void)
{
	static const char footer[] = "-- \nmalformed footer, sent through mailwarden\n";
	static const char directory[] = "[user:split@example.org]\n"
					"policy = ALL_MANUAL\n"
					"[resource:room@example.org]\n"
					"name = Room\n";
	g_autofree char *footer_path = mwt_write_file("footer.txt", footer, -1);
	g_autofree char *directory_path = mwt_write_file("directory.conf", directory, -1);
	g_autofree char *db = mwt_make_clamav_db();
	g_autofree char *keyring = mwt_make_keyring("split@example.org");
	g_autofree char *keys = g_strdup_printf(MODULE_KEYS_FMT, directory_path, mwt->dir);
	g_autofree char *sections = g_strdup_printf(MODULE_SECTIONS_FMT, db, keyring, footer_path);

	mwt_write_config(2, keys, sections);
}

/*
 * send_one - one message on a fresh connection; returns the final reply code
 * (asserting every step answered within a bounded time)
 */
static int
send_one(const char *name, GBytes *msg, char **text)
{
	g_autoptr(MwtSmtp) s = mwt_smtp_connect(mwt->port);
	int code;

	s->timeout_ms = mwt_scale((mwt->timeout + 50) * 1000);
	mwt_smtp_expect(s, 220);
	mwt_smtp_cmd_expect(s, 250, "EHLO malformed.example");
	mwt_smtp_cmd_expect(s, 250, "XFORWARD IDENT=MAL%s", name);
	code = mwt_smtp_try_message(s, "sender@example.org", rcpts, MWT_BYTES(msg));
	*text = g_strdup(s->text);
	ck_assert_msg(code >= 200 && code < 600,
		      "%s: no reply (%d \"%s\": -1 connection dropped, -2 hang)", name, code,
		      s->text);
	if (code / 100 != 4) /* after a 4xx the daemon may close */
		ck_assert_msg(mwt_smtp_cmd(s, "QUIT") == 221, "%s: QUIT got %d \"%s\"", name,
			      s->code, s->text);
	return code;
}

START_TEST(test_modules)
{
	guint clean_sent = 0;

	write_module_config();
	mwt_sink_start(NULL);
	mwt_daemon_start();
	for (guint i = 0; i < G_N_ELEMENTS(corpus); i++) {
		for (guint variant = 0; variant < 2; variant++) {
			g_autoptr(GBytes) plain = corpus[i].make();
			g_autoptr(GBytes) msg = variant ? with_modify(plain) : g_bytes_ref(plain);
			g_autofree char *name =
				g_strdup_printf("%s%s", corpus[i].name, variant ? "-modify" : "");
			g_autofree char *text = NULL;
			g_autofree char *ident = g_strdup_printf("MAL%s:", name);
			guint before = mwt_sink_count();
			int code = send_one(name, msg, &text);

			fprintf(stderr, "malformed %s: %d %s\n", name, code, text);
			ck_assert_msg(code == 250, "%s: answered %d \"%s\"", name, code, text);
			ck_assert_msg(mwt_daemon_alive(), "%s: the master died", name);
			/* no loss: a 250 is two deliveries (split + plain) or a logged verdict */
			mwt_sink_quiesce();
			if (code == 250 && mwt_log_count(ident, "action=quarantined", NULL) == 0 &&
			    mwt_log_count(ident, "action=discarded", NULL) == 0)
				ck_assert_msg(mwt_sink_count() == before + 2,
					      "%s: 250 but the sink got %u messages, not 2", name,
					      mwt_sink_count() - before);
		}
	}
	/* the daemon still serves clean mail: a worker per slot */
	for (guint i = 0; i < 2; i++) {
		g_autoptr(GBytes) msg = mwt_message("clean after the corpus", NULL);
		g_autoptr(MwtSmtp) s = mwt_smtp_open(mwt->port, "EHLO clean.example");
		guint before;

		mwt_sink_quiesce();
		before = mwt_sink_count();
		ck_assert_int_eq(
			mwt_smtp_message(s, "sender@example.org", NULL, rcpts, MWT_BYTES(msg)),
			250);
		clean_sent++;
		/* a split recipient and a plain one: two deliveries */
		mwt_sink_wait(before + 2);
	}
	ck_assert_int_eq(clean_sent, 2);
	ck_assert(mwt_daemon_alive());
}
END_TEST

START_TEST(test_fidelity)
{
	static const char *const plain_rcpt[] = {"rcpt@example.net", NULL};

	mwt_start(2, "ambiguous_mime = pass\nmax_message_size = 52428800", NULL);
	for (guint i = 0; i < G_N_ELEMENTS(corpus); i++) {
		g_autoptr(GBytes) msg = corpus[i].make();
		g_autoptr(MwtSmtp) s = mwt_smtp_open(mwt->port, "EHLO fidelity.example");
		g_autoptr(GBytes) got = NULL;
		g_autoptr(GBytes) expected = NULL;
		gsize len = g_bytes_get_size(msg);
		const guint8 *p = g_bytes_get_data(msg, NULL);
		int code;

		s->timeout_ms = mwt_scale(60000);
		code = mwt_smtp_try_message(s, "sender@example.org", plain_rcpt, MWT_BYTES(msg));
		ck_assert_msg(code == 250, "%s: got %d \"%s\"", corpus[i].name, code, s->text);
		mwt_smtp_cmd(s, "QUIT");
		mwt_sink_wait(i + 1);
		got = mwt_sink_message(i + 1);
		/* on the wire a message always ends with CRLF: the client adds one */
		if (len >= 2 && p[len - 2] == '\r' && p[len - 1] == '\n') {
			expected = g_bytes_ref(msg);
		} else {
			GString *e = g_string_new_len((const char *) p, (gssize) len);
			g_string_append(e, "\r\n");
			expected = take(e);
		}
		if (!g_bytes_equal(expected, got))
			fprintf(stderr, "malformed %s: not byte-identical\n", corpus[i].name);
		mwt_assert_bytes_equal(expected, got);
	}
	mwt_sink_quiesce();
	ck_assert_int_eq(mwt_sink_count(), G_N_ELEMENTS(corpus));
}
END_TEST

START_TEST(test_scan)
{
	write_module_config();
	for (guint i = 0; i < G_N_ELEMENTS(corpus); i++) {
		g_autoptr(GBytes) msg = corpus[i].make();
		g_autofree char *file = g_strdup_printf("%s.eml", corpus[i].name);
		g_autofree char *in = mwt_write_file(file, g_bytes_get_data(msg, NULL),
						     (gssize) g_bytes_get_size(msg));
		g_autofree char *outdir = g_strdup_printf("%s/out-%s", mwt->dir, corpus[i].name);
		g_autofree char *out = NULL;
		g_autofree char *err = NULL;
		int rc;

		g_mkdir_with_parents(outdir, 0755);
		rc = mwt_run(NULL, &out, &err, MW_TEST_BINARY, "-c", mwt->conf, "scan", "--from",
			     "sender@example.org", "--to", "split@example.org", "--to",
			     "rcpt@example.net", "--out", outdir, in, NULL);
		ck_assert_msg(rc == 0, "scan %s: exit %d (-1: signal or timeout)\n%s\n%s",
			      corpus[i].name, rc, out, err);
		g_unlink(in);
	}
}
END_TEST

static Suite *
malformed_suite(void)
{
	Suite *suite = suite_create("malformed");
	TCase *tc = mwt_tcase("malformed", 110);

	tcase_add_test(tc, test_modules);
	tcase_add_test(tc, test_fidelity);
	tcase_add_test(tc, test_scan);
	suite_add_tcase(suite, tc);
	return suite;
}

int
main(void)
{
	return mwt_main(malformed_suite());
}
