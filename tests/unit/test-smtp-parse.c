/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-smtp-parse - unit tests for mw-smtp-parse
 *
 * SYNOPSIS
 *	test-smtp-parse
 *
 * DESCRIPTION
 *	Table-driven check suites for the verb, MAIL/RCPT path and parameter,
 *	XFORWARD, xtext and address helpers, plus a random-input robustness run.
 */

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "mw-error.h"
#include "mw-smtp-parse.h"

/* ---- verbs ---- */

static const struct {
	const char *line;
	MwSmtpVerb verb;
	const char *args;
} verb_cases[] = {
	{"HELO mx.example.org", MW_SMTP_VERB_HELO, "mx.example.org"},
	{"ehlo mx.example.org", MW_SMTP_VERB_EHLO, "mx.example.org"},
	{"LhLo x", MW_SMTP_VERB_LHLO, "x"},
	{"MAIL FROM:<a@b.example>", MW_SMTP_VERB_MAIL, "FROM:<a@b.example>"},
	{"mail   FROM:<>", MW_SMTP_VERB_MAIL, "FROM:<>"},
	{"RCPT TO:<a@b.example>", MW_SMTP_VERB_RCPT, "TO:<a@b.example>"},
	{"DATA", MW_SMTP_VERB_DATA, ""},
	{"data ", MW_SMTP_VERB_DATA, ""},
	{"RSET", MW_SMTP_VERB_RSET, ""},
	{"NOOP hello", MW_SMTP_VERB_NOOP, "hello"},
	{"QUIT", MW_SMTP_VERB_QUIT, ""},
	{"xforward NAME=x", MW_SMTP_VERB_XFORWARD, "NAME=x"},
	{"VRFY user", MW_SMTP_VERB_VRFY, "user"},
	{"HELP", MW_SMTP_VERB_HELP, ""},
	{"BDAT 100 LAST", MW_SMTP_VERB_BDAT, "100 LAST"},
	{"StartTLS", MW_SMTP_VERB_STARTTLS, ""},
	{"AUTH PLAIN", MW_SMTP_VERB_AUTH, "PLAIN"},
	{"MAILFROM:<a@b.example>", MW_SMTP_VERB_UNKNOWN, ""},
	{"MAIL:", MW_SMTP_VERB_UNKNOWN, ""},
	{"DATAX", MW_SMTP_VERB_UNKNOWN, ""},
	{"DAT", MW_SMTP_VERB_UNKNOWN, ""},
	{"FOO bar", MW_SMTP_VERB_UNKNOWN, "bar"},
	{"", MW_SMTP_VERB_UNKNOWN, ""},
	{" MAIL FROM:<>", MW_SMTP_VERB_UNKNOWN, "MAIL FROM:<>"},
	{"MAIL\tFROM:<>", MW_SMTP_VERB_UNKNOWN, ""},
	{"\xff\x01\x7f", MW_SMTP_VERB_UNKNOWN, ""},
	{"QUIT\r", MW_SMTP_VERB_UNKNOWN, ""},
};

START_TEST(test_verb)
{
	const char *args = NULL;
	MwSmtpVerb verb = mw_smtp_parse_verb(verb_cases[_i].line, &args);

	ck_assert_msg(verb == verb_cases[_i].verb, "line \"%s\": verb %d, expected %d",
		      verb_cases[_i].line, verb, verb_cases[_i].verb);
	ck_assert_ptr_nonnull(args);
	ck_assert_str_eq(args, verb_cases[_i].args);
	/* args_out is optional */
	ck_assert_int_eq(mw_smtp_parse_verb(verb_cases[_i].line, NULL), verb_cases[_i].verb);
}
END_TEST

/* ---- MAIL / RCPT paths ---- */

typedef struct {
	const char *args;
	const char *address; /* NULL: must fail with @error */
	const char *error;
} PathCase;

static const PathCase mail_cases[] = {
	{"FROM:<user@example.org>", "user@example.org", NULL},
	{"from:<user@example.org>", "user@example.org", NULL},
	{"FROM: <user@example.org>", "user@example.org", NULL},
	{"FROM:   <user@example.org>   ", "user@example.org", NULL},
	{"FROM:<>", "", NULL},
	{"FROM: <>", "", NULL},
	{"FROM:<User.Name+tag@Example.ORG>", "User.Name+tag@Example.ORG", NULL},
	{"FROM:<!#$%&'*+-/=?^_`{|}~@example.org>", "!#$%&'*+-/=?^_`{|}~@example.org", NULL},
	{"FROM:<a..b.@docomo.ne.jp>", "a..b.@docomo.ne.jp", NULL},
	{"FROM:<\"john doe\"@example.org>", "\"john doe\"@example.org", NULL},
	{"FROM:<\"a\\\"b\\\\c\"@example.org>", "\"a\\\"b\\\\c\"@example.org", NULL},
	{"FROM:<\"a>b@c\"@example.org>", "\"a>b@c\"@example.org", NULL},
	{"FROM:<\"\"@example.org>", "\"\"@example.org", NULL},
	{"FROM:<@a.example,@b.example:user@c.example>", "user@c.example", NULL},
	{"FROM:<@a.example:user@c.example>", "user@c.example", NULL},
	{"FROM:<user@[192.0.2.1]>", "user@[192.0.2.1]", NULL},
	{"FROM:<user@[IPv6:2001:db8::1]>", "user@[IPv6:2001:db8::1]", NULL},
	{"FROM:<user@[ipv6:::ffff:192.0.2.1]>", "user@[ipv6:::ffff:192.0.2.1]", NULL},
	{"FROM:<user@localhost>", "user@localhost", NULL},
	{"FROM:<user@123.example>", "user@123.example", NULL},
	{"FROM:<user@a-b.example>", "user@a-b.example", NULL},
	{"FROM:<j\xc3\xb6rg@b\xc3\xbc"
	 "cher.example>",
	 "j\xc3\xb6rg@b\xc3\xbc"
	 "cher.example",
	 NULL},
	{"FROM:<\"j\xc3\xb6rg x\"@example.org>", "\"j\xc3\xb6rg x\"@example.org", NULL},
	{"FROM:<\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe5\x85\xac\xe5\x8f\xb8>",
	 "\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe5\x85\xac\xe5\x8f\xb8", NULL},
	/* syntax errors */
	{"", NULL, "501 5.5.2 Syntax: MAIL FROM:<address>"},
	{"FROM:", NULL, "501 5.5.2 Syntax: MAIL FROM:<address>"},
	{"FROM:   ", NULL, "501 5.5.2 Syntax: MAIL FROM:<address>"},
	{"TO:<a@b.example>", NULL, "501 5.5.2 Syntax: MAIL FROM:<address>"},
	{"FROM <a@b.example>", NULL, "501 5.5.2 Syntax: MAIL FROM:<address>"},
	{"FRO:<a@b.example>", NULL, "501 5.5.2 Syntax: MAIL FROM:<address>"},
	/* bad addresses */
	{"FROM:user@example.org", NULL, "501 5.1.7 Bad sender address syntax"},
	{"FROM:<user@example.org", NULL, "501 5.1.7 Bad sender address syntax"},
	{"FROM:user@example.org>", NULL, "501 5.1.7 Bad sender address syntax"},
	{"FROM:<user@example.org>>", NULL, "501 5.1.7 Bad sender address syntax"},
	{"FROM:<user@example.org>x", NULL, "501 5.1.7 Bad sender address syntax"},
	{"FROM:<user@example.org>SIZE=1", NULL, "501 5.1.7 Bad sender address syntax"},
	{"FROM:<<user@example.org>>", NULL, "501 5.1.7 Bad sender address syntax"},
	{"FROM:<user>", NULL, "501 5.1.7 Bad sender address syntax"},
	{"FROM:<postmaster>", NULL, "501 5.1.7 Bad sender address syntax"},
	{"FROM:<user@>", NULL, "501 5.1.7 Bad sender address syntax"},
	{"FROM:<@example.org>", NULL, "501 5.1.7 Bad sender address syntax"},
	{"FROM:<user name@example.org>", NULL, "501 5.1.7 Bad sender address syntax"},
	{"FROM:<user@exa mple.org>", NULL, "501 5.1.7 Bad sender address syntax"},
	{"FROM:<user@example..org>", NULL, "501 5.1.7 Bad sender address syntax"},
	{"FROM:<user@.example.org>", NULL, "501 5.1.7 Bad sender address syntax"},
	{"FROM:<user@example.org.>", NULL, "501 5.1.7 Bad sender address syntax"},
	{"FROM:<user@-example.org>", NULL, "501 5.1.7 Bad sender address syntax"},
	{"FROM:<user@example-.org>", NULL, "501 5.1.7 Bad sender address syntax"},
	{"FROM:<user@exa_mple.org>", NULL, "501 5.1.7 Bad sender address syntax"},
	{"FROM:<user@a@b.example>", NULL, "501 5.1.7 Bad sender address syntax"},
	{"FROM:<user@[192.0.2.256]>", NULL, "501 5.1.7 Bad sender address syntax"},
	{"FROM:<user@[192.0.2]>", NULL, "501 5.1.7 Bad sender address syntax"},
	{"FROM:<user@[IPv6:2001:db8::g]>", NULL, "501 5.1.7 Bad sender address syntax"},
	{"FROM:<user@[2001:db8::1]>", NULL, "501 5.1.7 Bad sender address syntax"},
	{"FROM:<user@[x-tag:foo]>", NULL, "501 5.1.7 Bad sender address syntax"},
	{"FROM:<user@[192.0.2.1>", NULL, "501 5.1.7 Bad sender address syntax"},
	{"FROM:<user@[192.0.2.1]x>", NULL, "501 5.1.7 Bad sender address syntax"},
	{"FROM:<\"unterminated@example.org>", NULL, "501 5.1.7 Bad sender address syntax"},
	{"FROM:<\"a\"b@example.org>", NULL, "501 5.1.7 Bad sender address syntax"},
	{"FROM:<\"a\\", NULL, "501 5.1.7 Bad sender address syntax"},
	{"FROM:<\"a\\\x01\"@example.org>", NULL, "501 5.1.7 Bad sender address syntax"},
	{"FROM:<\"a\x01\"@example.org>", NULL, "501 5.1.7 Bad sender address syntax"},
	{"FROM:<\"a\x7f\"@example.org>", NULL, "501 5.1.7 Bad sender address syntax"},
	{"FROM:<us\x01\x65r@example.org>", NULL, "501 5.1.7 Bad sender address syntax"},
	{"FROM:<user@exam\x1bple.org>", NULL, "501 5.1.7 Bad sender address syntax"},
	{"FROM:<user\t@example.org>", NULL, "501 5.1.7 Bad sender address syntax"},
	{"FROM:<user@example.org\r>", NULL, "501 5.1.7 Bad sender address syntax"},
	{"FROM:<user(comment)@example.org>", NULL, "501 5.1.7 Bad sender address syntax"},
	{"FROM:<j\xc3rg@example.org>", NULL, "501 5.1.7 Bad sender address syntax"},
	{"FROM:<user@b\xff.example>", NULL, "501 5.1.7 Bad sender address syntax"},
	{"FROM:<\"\xc0\xaf\"@example.org>", NULL, "501 5.1.7 Bad sender address syntax"},
	{"FROM:<@a.example>", NULL, "501 5.1.7 Bad sender address syntax"},
	{"FROM:<@a.example:>", NULL, "501 5.1.7 Bad sender address syntax"},
	{"FROM:<@a.example,b.example:user@c.example>", NULL, "501 5.1.7 Bad sender address syntax"},
	{"FROM:<@a.example;user@c.example>", NULL, "501 5.1.7 Bad sender address syntax"},
	{"FROM:<@:user@c.example>", NULL, "501 5.1.7 Bad sender address syntax"},
	{"FROM:<", NULL, "501 5.1.7 Bad sender address syntax"},
	{"FROM:<>>", NULL, "501 5.1.7 Bad sender address syntax"},
	{"FROM:<> <>", NULL, "501 5.5.4 Bad parameter syntax"},
};

static const PathCase rcpt_cases[] = {
	{"TO:<user@example.org>", "user@example.org", NULL},
	{"to: <user@example.org>", "user@example.org", NULL},
	{"TO:<postmaster>", "postmaster", NULL},
	{"TO:<PostMaster>", "PostMaster", NULL},
	{"TO:<postmaster@example.org>", "postmaster@example.org", NULL},
	{"TO:<\"john doe\"@example.org>", "\"john doe\"@example.org", NULL},
	{"TO:<@relay.example:user@example.org>", "user@example.org", NULL},
	{"TO:<j\xc3\xb6rg@example.org>", "j\xc3\xb6rg@example.org", NULL},
	{"TO:<user@[192.0.2.1]>", "user@[192.0.2.1]", NULL},
	{"", NULL, "501 5.5.2 Syntax: RCPT TO:<address>"},
	{"TO:", NULL, "501 5.5.2 Syntax: RCPT TO:<address>"},
	{"FROM:<user@example.org>", NULL, "501 5.5.2 Syntax: RCPT TO:<address>"},
	{"TO <user@example.org>", NULL, "501 5.5.2 Syntax: RCPT TO:<address>"},
	{"TO:<>", NULL, "501 5.1.3 Bad recipient address syntax"},
	{"TO:user@example.org", NULL, "501 5.1.3 Bad recipient address syntax"},
	{"TO:<user>", NULL, "501 5.1.3 Bad recipient address syntax"},
	{"TO:<postmaster2>", NULL, "501 5.1.3 Bad recipient address syntax"},
	{"TO:<postmaste>", NULL, "501 5.1.3 Bad recipient address syntax"},
	{"TO:<\"postmaster\">", NULL, "501 5.1.3 Bad recipient address syntax"},
	{"TO:<postmaster>x", NULL, "501 5.1.3 Bad recipient address syntax"},
	{"TO:<user@example.org> trailing", NULL, "555 5.5.4 Unsupported parameter TRAILING"},
	{"TO:<us\x02r@example.org>", NULL, "501 5.1.3 Bad recipient address syntax"},
	{"TO:<j\xc3rg@example.org>", NULL, "501 5.1.3 Bad recipient address syntax"},
	{"TO:<user@example.org", NULL, "501 5.1.3 Bad recipient address syntax"},
};

static void
check_path_case(const PathCase *c, gboolean is_mail)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(MwSmtpPath) path =
		is_mail ? mw_smtp_parse_mail(c->args, &error) : mw_smtp_parse_rcpt(c->args, &error);

	if (c->address != NULL) {
		ck_assert_msg(path != NULL, "\"%s\" failed: %s", c->args,
			      error != NULL ? error->message : "?");
		ck_assert_ptr_null(error);
		ck_assert_str_eq(path->address, c->address);
		ck_assert_ptr_nonnull(path->params);
		return;
	}
	ck_assert_msg(path == NULL, "\"%s\" accepted as \"%s\"", c->args,
		      path != NULL ? path->address : "");
	ck_assert_ptr_nonnull(error);
	ck_assert(g_error_matches(error, MW_ERROR, MW_ERROR_PROTOCOL));
	ck_assert_str_eq(error->message, c->error);
}

START_TEST(test_mail_path)
{
	check_path_case(&mail_cases[_i], TRUE);
}
END_TEST

START_TEST(test_rcpt_path)
{
	check_path_case(&rcpt_cases[_i], FALSE);
}
END_TEST

START_TEST(test_path_no_gerror)
{
	/* a NULL GError** must be fine on both outcomes */
	MwSmtpPath *path = mw_smtp_parse_mail("FROM:<bad", NULL);

	ck_assert_ptr_null(path);
	path = mw_smtp_parse_rcpt("TO:<a@b.example> NOTIFY=BOGUS", NULL);
	ck_assert_ptr_null(path);
	path = mw_smtp_parse_rcpt("TO:<a@b.example>", NULL);
	ck_assert_ptr_nonnull(path);
	mw_smtp_path_free(path);
	mw_smtp_path_free(NULL);
}
END_TEST

/* ---- parameters ---- */

typedef struct {
	const char *args;
	const char *keyword; /* NULL: must fail with @error */
	const char *value;   /* expected value of @keyword; NULL: present without value */
	const char *error;
} ParamCase;

static const ParamCase mail_param_cases[] = {
	{"FROM:<a@b.example> SIZE=12345", "SIZE", "12345", NULL},
	{"FROM:<a@b.example> size=0", "SIZE", "0", NULL},
	{"FROM:<a@b.example> SIZE=18446744073709551615", "SIZE", "18446744073709551615", NULL},
	{"FROM:<a@b.example> BODY=8BITMIME", "BODY", "8BITMIME", NULL},
	{"FROM:<a@b.example> body=7bit", "BODY", "7bit", NULL},
	{"FROM:<a@b.example> SMTPUTF8", "SMTPUTF8", NULL, NULL},
	{"FROM:<a@b.example> smtputf8", "SMTPUTF8", NULL, NULL},
	{"FROM:<a@b.example> RET=FULL", "RET", "FULL", NULL},
	{"FROM:<a@b.example> ret=hdrs", "RET", "hdrs", NULL},
	{"FROM:<a@b.example> ENVID=QQ314159", "ENVID", "QQ314159", NULL},
	{"FROM:<a@b.example> ENVID=a+2Bb+3Dc", "ENVID", "a+2Bb+3Dc", NULL},
	{"FROM:<> SIZE=1", "SIZE", "1", NULL},
	{"FROM: <> SIZE=1", "SIZE", "1", NULL},
	{"FROM:<a@b.example>    SIZE=1    BODY=7BIT   ", "BODY", "7BIT", NULL},
	{"FROM:<a@b.example> SIZE=1 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=x", "ENVID", "x", NULL},
	/* SIZE */
	{"FROM:<a@b.example> SIZE", NULL, NULL, "501 5.5.4 Bad SIZE value"},
	{"FROM:<a@b.example> SIZE=", NULL, NULL, "501 5.5.4 Bad SIZE value"},
	{"FROM:<a@b.example> SIZE=-1", NULL, NULL, "501 5.5.4 Bad SIZE value"},
	{"FROM:<a@b.example> SIZE=+1", NULL, NULL, "501 5.5.4 Bad SIZE value"},
	{"FROM:<a@b.example> SIZE=12k", NULL, NULL, "501 5.5.4 Bad SIZE value"},
	{"FROM:<a@b.example> SIZE=0x10", NULL, NULL, "501 5.5.4 Bad SIZE value"},
	/* too big for 64 bits is still a size: the limit check answers 552 */
	{"FROM:<a@b.example> SIZE=18446744073709551616", "SIZE", "18446744073709551616", NULL},
	{"FROM:<a@b.example> SIZE=99999999999999999999999", "SIZE", "99999999999999999999999",
	 NULL},
	/* BODY */
	{"FROM:<a@b.example> BODY", NULL, NULL, "501 5.5.4 Bad BODY value"},
	{"FROM:<a@b.example> BODY=", NULL, NULL, "501 5.5.4 Bad BODY value"},
	{"FROM:<a@b.example> BODY=BINARYMIME", NULL, NULL, "501 5.5.4 Bad BODY value"},
	{"FROM:<a@b.example> BODY=8BIT", NULL, NULL, "501 5.5.4 Bad BODY value"},
	/* SMTPUTF8 */
	{"FROM:<a@b.example> SMTPUTF8=", NULL, NULL, "501 5.5.4 SMTPUTF8 takes no value"},
	{"FROM:<a@b.example> SMTPUTF8=YES", NULL, NULL, "501 5.5.4 SMTPUTF8 takes no value"},
	/* RET */
	{"FROM:<a@b.example> RET", NULL, NULL, "501 5.5.4 Bad RET value"},
	{"FROM:<a@b.example> RET=NONE", NULL, NULL, "501 5.5.4 Bad RET value"},
	{"FROM:<a@b.example> RET=FULL,HDRS", NULL, NULL, "501 5.5.4 Bad RET value"},
	/* ENVID */
	{"FROM:<a@b.example> ENVID", NULL, NULL, "501 5.5.4 Bad ENVID value"},
	{"FROM:<a@b.example> ENVID=", NULL, NULL, "501 5.5.4 Bad ENVID value"},
	{"FROM:<a@b.example> ENVID=a+", NULL, NULL, "501 5.5.4 Bad ENVID value"},
	{"FROM:<a@b.example> ENVID=a+2", NULL, NULL, "501 5.5.4 Bad ENVID value"},
	{"FROM:<a@b.example> ENVID=a+GG", NULL, NULL, "501 5.5.4 Bad ENVID value"},
	{"FROM:<a@b.example> ENVID=a+00", NULL, NULL, "501 5.5.4 Bad ENVID value"},
	/* duplicates */
	{"FROM:<a@b.example> SIZE=1 SIZE=1", NULL, NULL, "501 5.5.4 Duplicate parameter SIZE"},
	{"FROM:<a@b.example> BODY=7BIT body=8bitmime", NULL, NULL,
	 "501 5.5.4 Duplicate parameter BODY"},
	{"FROM:<a@b.example> SMTPUTF8 SMTPUTF8", NULL, NULL,
	 "501 5.5.4 Duplicate parameter SMTPUTF8"},
	{"FROM:<a@b.example> RET=FULL RET=HDRS", NULL, NULL, "501 5.5.4 Duplicate parameter RET"},
	{"FROM:<a@b.example> ENVID=a ENVID=a", NULL, NULL, "501 5.5.4 Duplicate parameter ENVID"},
	/* unknown or misplaced */
	{"FROM:<a@b.example> FOO=bar", NULL, NULL, "555 5.5.4 Unsupported parameter FOO"},
	{"FROM:<a@b.example> x-foo", NULL, NULL, "555 5.5.4 Unsupported parameter X-FOO"},
	{"FROM:<a@b.example> AUTH=<>", NULL, NULL, "555 5.5.4 Unsupported parameter AUTH"},
	{"FROM:<a@b.example> NOTIFY=NEVER", NULL, NULL, "555 5.5.4 Unsupported parameter NOTIFY"},
	{"FROM:<a@b.example> ORCPT=rfc822;a@b", NULL, NULL,
	 "555 5.5.4 Unsupported parameter ORCPT"},
	/* syntax */
	{"FROM:<a@b.example> =1", NULL, NULL, "501 5.5.4 Bad parameter syntax"},
	{"FROM:<a@b.example> -SIZE=1", NULL, NULL, "501 5.5.4 Bad parameter syntax"},
	{"FROM:<a@b.example> SI_ZE=1", NULL, NULL, "501 5.5.4 Bad parameter syntax"},
	{"FROM:<a@b.example> SIZE=1\x01", NULL, NULL, "501 5.5.4 Bad parameter syntax"},
	{"FROM:<a@b.example> SIZE=1\t", NULL, NULL, "501 5.5.4 Bad parameter syntax"},
	{"FROM:<a@b.example> ENVID=\xff", NULL, NULL, "501 5.5.4 Bad parameter syntax"},
	{"FROM:<a@b.example> SIZE\x7f=1", NULL, NULL, "501 5.5.4 Bad parameter syntax"},
};

static const ParamCase rcpt_param_cases[] = {
	{"TO:<a@b.example> NOTIFY=NEVER", "NOTIFY", "NEVER", NULL},
	{"TO:<a@b.example> notify=never", "NOTIFY", "never", NULL},
	{"TO:<a@b.example> NOTIFY=SUCCESS", "NOTIFY", "SUCCESS", NULL},
	{"TO:<a@b.example> NOTIFY=FAILURE,DELAY", "NOTIFY", "FAILURE,DELAY", NULL},
	{"TO:<a@b.example> NOTIFY=delay,Success,FAILURE", "NOTIFY", "delay,Success,FAILURE", NULL},
	{"TO:<a@b.example> ORCPT=rfc822;user@example.org", "ORCPT", "rfc822;user@example.org",
	 NULL},
	{"TO:<a@b.example> ORCPT=rfc822;user+2Btag@example.org", "ORCPT",
	 "rfc822;user+2Btag@example.org", NULL},
	{"TO:<a@b.example> ORCPT=utf-8;j\\x{00F6}rg@example.org", "ORCPT",
	 "utf-8;j\\x{00F6}rg@example.org", NULL},
	{"TO:<a@b.example> NOTIFY=SUCCESS ORCPT=rfc822;a@b.example", "NOTIFY", "SUCCESS", NULL},
	{"TO:<postmaster> NOTIFY=NEVER", "NOTIFY", "NEVER", NULL},
	/* NOTIFY */
	{"TO:<a@b.example> NOTIFY", NULL, NULL, "501 5.5.4 Bad NOTIFY value"},
	{"TO:<a@b.example> NOTIFY=", NULL, NULL, "501 5.5.4 Bad NOTIFY value"},
	{"TO:<a@b.example> NOTIFY=NEVER,SUCCESS", NULL, NULL, "501 5.5.4 Bad NOTIFY value"},
	{"TO:<a@b.example> NOTIFY=DELAY,NEVER", NULL, NULL, "501 5.5.4 Bad NOTIFY value"},
	{"TO:<a@b.example> NOTIFY=SUCCESS,", NULL, NULL, "501 5.5.4 Bad NOTIFY value"},
	{"TO:<a@b.example> NOTIFY=,SUCCESS", NULL, NULL, "501 5.5.4 Bad NOTIFY value"},
	{"TO:<a@b.example> NOTIFY=SUCCESS,,DELAY", NULL, NULL, "501 5.5.4 Bad NOTIFY value"},
	{"TO:<a@b.example> NOTIFY=ALWAYS", NULL, NULL, "501 5.5.4 Bad NOTIFY value"},
	/* ORCPT */
	{"TO:<a@b.example> ORCPT", NULL, NULL, "501 5.5.4 Bad ORCPT value"},
	{"TO:<a@b.example> ORCPT=", NULL, NULL, "501 5.5.4 Bad ORCPT value"},
	{"TO:<a@b.example> ORCPT=user@example.org", NULL, NULL, "501 5.5.4 Bad ORCPT value"},
	{"TO:<a@b.example> ORCPT=;user@example.org", NULL, NULL, "501 5.5.4 Bad ORCPT value"},
	{"TO:<a@b.example> ORCPT=rfc822;", NULL, NULL, "501 5.5.4 Bad ORCPT value"},
	{"TO:<a@b.example> ORCPT=rfc_822;a@b", NULL, NULL, "501 5.5.4 Bad ORCPT value"},
	{"TO:<a@b.example> ORCPT=-x;a@b", NULL, NULL, "501 5.5.4 Bad ORCPT value"},
	{"TO:<a@b.example> ORCPT=rfc822;a+4@b", NULL, NULL, "501 5.5.4 Bad ORCPT value"},
	{"TO:<a@b.example> ORCPT=rfc822;a+ZZ@b", NULL, NULL, "501 5.5.4 Bad ORCPT value"},
	/* duplicates, unknown, misplaced */
	{"TO:<a@b.example> NOTIFY=NEVER NOTIFY=NEVER", NULL, NULL,
	 "501 5.5.4 Duplicate parameter NOTIFY"},
	{"TO:<a@b.example> ORCPT=rfc822;a@b orcpt=rfc822;a@b", NULL, NULL,
	 "501 5.5.4 Duplicate parameter ORCPT"},
	{"TO:<a@b.example> SIZE=1", NULL, NULL, "555 5.5.4 Unsupported parameter SIZE"},
	{"TO:<a@b.example> BODY=8BITMIME", NULL, NULL, "555 5.5.4 Unsupported parameter BODY"},
	{"TO:<a@b.example> SMTPUTF8", NULL, NULL, "555 5.5.4 Unsupported parameter SMTPUTF8"},
	{"TO:<a@b.example> RRVS=2014-04-03T23:01:00Z", NULL, NULL,
	 "555 5.5.4 Unsupported parameter RRVS"},
	{"TO:<a@b.example> NOTIFY=NEVER\x01", NULL, NULL, "501 5.5.4 Bad parameter syntax"},
};

static void
check_param_case(const ParamCase *c, gboolean is_mail)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(MwSmtpPath) path =
		is_mail ? mw_smtp_parse_mail(c->args, &error) : mw_smtp_parse_rcpt(c->args, &error);
	gboolean present = FALSE;
	const char *value;

	if (c->keyword == NULL) {
		ck_assert_msg(path == NULL, "\"%s\" accepted", c->args);
		ck_assert_ptr_nonnull(error);
		ck_assert(g_error_matches(error, MW_ERROR, MW_ERROR_PROTOCOL));
		ck_assert_str_eq(error->message, c->error);
		return;
	}
	ck_assert_msg(path != NULL, "\"%s\" failed: %s", c->args,
		      error != NULL ? error->message : "?");
	value = mw_smtp_path_get_param(path, c->keyword, &present);
	ck_assert_msg(present, "\"%s\": %s missing", c->args, c->keyword);
	if (c->value == NULL)
		ck_assert_ptr_null(value);
	else
		ck_assert_str_eq(value, c->value);
	/* lookups are case-insensitive, stored keywords upper case */
	{
		g_autofree char *lower = g_ascii_strdown(c->keyword, -1);

		ck_assert_ptr_eq(mw_smtp_path_get_param(path, lower, NULL), value);
	}
	for (guint i = 0; i < path->params->len; i++) {
		const MwSmtpParam *param = g_ptr_array_index(path->params, i);
		g_autofree char *upper = g_ascii_strup(param->keyword, -1);

		ck_assert_str_eq(param->keyword, upper);
	}
}

START_TEST(test_mail_param)
{
	check_param_case(&mail_param_cases[_i], TRUE);
}
END_TEST

START_TEST(test_rcpt_param)
{
	check_param_case(&rcpt_param_cases[_i], FALSE);
}
END_TEST

START_TEST(test_param_order_and_presence)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(MwSmtpPath) path = mw_smtp_parse_mail(
		"FROM:<a@b.example> body=8bitmime SIZE=42 SMTPUTF8 ENVID=id+2B1", &error);
	const MwSmtpParam *param;
	gboolean present = TRUE;

	ck_assert_ptr_nonnull(path);
	ck_assert_uint_eq(path->params->len, 4);
	param = g_ptr_array_index(path->params, 0);
	ck_assert_str_eq(param->keyword, "BODY");
	ck_assert_str_eq(param->value, "8bitmime");
	param = g_ptr_array_index(path->params, 1);
	ck_assert_str_eq(param->keyword, "SIZE");
	ck_assert_str_eq(param->value, "42");
	param = g_ptr_array_index(path->params, 2);
	ck_assert_str_eq(param->keyword, "SMTPUTF8");
	ck_assert_ptr_null(param->value);
	param = g_ptr_array_index(path->params, 3);
	ck_assert_str_eq(param->keyword, "ENVID");
	ck_assert_str_eq(param->value, "id+2B1");

	ck_assert_ptr_null(mw_smtp_path_get_param(path, "SmtpUtf8", &present));
	ck_assert(present);
	ck_assert_ptr_null(mw_smtp_path_get_param(path, "RET", &present));
	ck_assert(!present);
	ck_assert_str_eq(mw_smtp_path_get_param(path, "size", NULL), "42");
}
END_TEST

START_TEST(test_param_long_keyword)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GString) args = g_string_new("FROM:<a@b.example> ");
	g_autoptr(MwSmtpPath) path = NULL;

	for (guint i = 0; i < 1000; i++)
		g_string_append_c(args, 'k');
	path = mw_smtp_parse_mail(args->str, &error);
	ck_assert_ptr_null(path);
	ck_assert(g_str_has_prefix(error->message, "555 5.5.4 Unsupported parameter KKKK"));
	/* the echo is bounded */
	ck_assert_uint_le(strlen(error->message), 100);
}
END_TEST

/* ---- XFORWARD ---- */

static GHashTable *
new_attrs(void)
{
	return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

START_TEST(test_xforward_valid)
{
	g_autoptr(GHashTable) attrs = new_attrs();
	g_autoptr(GError) error = NULL;

	ck_assert(mw_smtp_parse_xforward("NAME=mail.example.org ADDR=192.0.2.1 PORT=4711 "
					 "PROTO=ESMTP HELO=[UNAVAILABLE]",
					 attrs, &error));
	ck_assert_ptr_null(error);
	ck_assert_uint_eq(g_hash_table_size(attrs), 5);
	ck_assert_str_eq(g_hash_table_lookup(attrs, "NAME"), "mail.example.org");
	ck_assert_str_eq(g_hash_table_lookup(attrs, "ADDR"), "192.0.2.1");
	ck_assert_str_eq(g_hash_table_lookup(attrs, "PORT"), "4711");
	ck_assert_str_eq(g_hash_table_lookup(attrs, "PROTO"), "ESMTP");
	ck_assert_str_eq(g_hash_table_lookup(attrs, "HELO"), "[UNAVAILABLE]");

	/* a second command adds and replaces; names are case-insensitive */
	ck_assert(mw_smtp_parse_xforward("  ident=4Xb2Kq1ZzFz9rxM   source=REMOTE "
					 "helo=client+2Bx+3Dy+20z.example name=",
					 attrs, &error));
	ck_assert_uint_eq(g_hash_table_size(attrs), 7);
	ck_assert_str_eq(g_hash_table_lookup(attrs, "IDENT"), "4Xb2Kq1ZzFz9rxM");
	ck_assert_str_eq(g_hash_table_lookup(attrs, "SOURCE"), "REMOTE");
	ck_assert_str_eq(g_hash_table_lookup(attrs, "HELO"), "client+x=y z.example");
	ck_assert_str_eq(g_hash_table_lookup(attrs, "NAME"), "");
	ck_assert_str_eq(g_hash_table_lookup(attrs, "ADDR"), "192.0.2.1");

	/* IPv6 and repeated attributes: the last one wins */
	ck_assert(mw_smtp_parse_xforward("ADDR=IPv6:2001:db8::1 ADDR=IPv6:2001:db8::2", attrs,
					 &error));
	ck_assert_str_eq(g_hash_table_lookup(attrs, "ADDR"), "IPv6:2001:db8::2");
}
END_TEST

static const struct {
	const char *args;
	const char *error;
} xforward_bad_cases[] = {
	{"", "501 5.5.4 Syntax: XFORWARD attribute=value..."},
	{"   ", "501 5.5.4 Syntax: XFORWARD attribute=value..."},
	{"NAME", "501 5.5.4 Syntax: XFORWARD attribute=value..."},
	{"=x", "501 5.5.4 Syntax: XFORWARD attribute=value..."},
	{"NAME=x ADDR", "501 5.5.4 Syntax: XFORWARD attribute=value..."},
	{"FOO=bar", "501 5.5.4 Bad XFORWARD attribute name"},
	{"NAMEX=a", "501 5.5.4 Bad XFORWARD attribute name"},
	{"NAM=a", "501 5.5.4 Bad XFORWARD attribute name"},
	{"NAME=x \x01\x02=y", "501 5.5.4 Bad XFORWARD attribute name"},
	{"NAME=a+", "501 5.5.4 Bad XFORWARD NAME value"},
	{"NAME=a+4", "501 5.5.4 Bad XFORWARD NAME value"},
	{"NAME=a+XY", "501 5.5.4 Bad XFORWARD NAME value"},
	{"HELO=a+00b", "501 5.5.4 Bad XFORWARD HELO value"},
	{"HELO=a+0Ab", "501 5.5.4 Bad XFORWARD HELO value"},
	{"HELO=a+7Fb", "501 5.5.4 Bad XFORWARD HELO value"},
	{"HELO=a\x01", "501 5.5.4 Bad XFORWARD HELO value"},
	{"HELO=a\xff", "501 5.5.4 Bad XFORWARD HELO value"},
	{"HELO=+C3+28", "501 5.5.4 Bad XFORWARD HELO value"},
};

START_TEST(test_xforward_invalid)
{
	g_autoptr(GHashTable) attrs = new_attrs();
	g_autoptr(GError) error = NULL;

	g_hash_table_insert(attrs, g_strdup("NAME"), g_strdup("old"));
	ck_assert(!mw_smtp_parse_xforward(xforward_bad_cases[_i].args, attrs, &error));
	ck_assert_ptr_nonnull(error);
	ck_assert(g_error_matches(error, MW_ERROR, MW_ERROR_PROTOCOL));
	ck_assert_str_eq(error->message, xforward_bad_cases[_i].error);
	/* nothing applied on error */
	ck_assert_uint_eq(g_hash_table_size(attrs), 1);
	ck_assert_str_eq(g_hash_table_lookup(attrs, "NAME"), "old");
}
END_TEST

START_TEST(test_xforward_length)
{
	g_autoptr(GHashTable) attrs = new_attrs();
	g_autoptr(GError) error = NULL;
	g_autofree char *v255 = g_strnfill(255, 'a');
	g_autofree char *v256 = g_strnfill(256, 'a');
	g_autofree char *ok = g_strconcat("HELO=", v255, NULL);
	g_autofree char *bad = g_strconcat("NAME=x HELO=", v256, NULL);
	GString *encoded = g_string_new("IDENT=");

	ck_assert(mw_smtp_parse_xforward(ok, attrs, &error));
	ck_assert_str_eq(g_hash_table_lookup(attrs, "HELO"), v255);
	ck_assert(!mw_smtp_parse_xforward(bad, attrs, &error));
	ck_assert_str_eq(error->message, "501 5.5.4 XFORWARD HELO value too long");
	ck_assert_ptr_null(g_hash_table_lookup(attrs, "NAME"));
	g_clear_error(&error);

	/* the limit is on the decoded value: 255 escapes are 765 bytes on the wire */
	for (guint i = 0; i < 255; i++)
		g_string_append(encoded, "+2B");
	ck_assert(mw_smtp_parse_xforward(encoded->str, attrs, &error));
	ck_assert_uint_eq(strlen(g_hash_table_lookup(attrs, "IDENT")), 255);
	g_string_append(encoded, "+2B");
	ck_assert(!mw_smtp_parse_xforward(encoded->str, attrs, &error));
	ck_assert_str_eq(error->message, "501 5.5.4 XFORWARD IDENT value too long");
	g_string_free(encoded, TRUE);
}
END_TEST

/* ---- xtext ---- */

static const struct {
	const char *encoded;
	const char *decoded; /* NULL: invalid */
} xtext_cases[] = {
	{"", ""},
	{"plain", "plain"},
	{"a+2Bb", "a+b"},
	{"a+3Db", "a=b"},
	{"+20+09+41", " \tA"},
	{"+2b+3d", "+="},
	{"+C3+A9", "\xc3\xa9"},
	{"[UNAVAILABLE]", "[UNAVAILABLE]"},
	{"j\xc3\xb6rg", "j\xc3\xb6rg"},
	{"+", NULL},
	{"a+", NULL},
	{"a+2", NULL},
	{"a+2G", NULL},
	{"a+G2", NULL},
	{"+00", NULL},
	{"a b", NULL},
	{"a\tb", NULL},
	{"a\x7f", NULL},
	{"a\x01", NULL},
	{"\xff", NULL},
	{"\xc3", NULL},
};

START_TEST(test_xtext_decode)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *decoded = mw_xtext_decode(xtext_cases[_i].encoded, &error);

	if (xtext_cases[_i].decoded == NULL) {
		ck_assert_msg(decoded == NULL, "\"%s\" decoded", xtext_cases[_i].encoded);
		ck_assert(g_error_matches(error, MW_ERROR, MW_ERROR_PROTOCOL));
		ck_assert_str_eq(error->message, "501 5.5.4 Bad xtext encoding");
		return;
	}
	ck_assert_ptr_null(error);
	ck_assert_str_eq(decoded, xtext_cases[_i].decoded);
}
END_TEST

START_TEST(test_xtext_encode)
{
	g_autofree char *a = mw_xtext_encode("a+b=c d");
	g_autofree char *b = mw_xtext_encode("");
	g_autofree char *c = mw_xtext_encode("!~\x7f\xc3\xa9\x01");
	g_autofree char *d = mw_xtext_encode("[UNAVAILABLE]");

	ck_assert_str_eq(a, "a+2Bb+3Dc+20d");
	ck_assert_str_eq(b, "");
	ck_assert_str_eq(c, "!~+7F+C3+A9+01");
	ck_assert_str_eq(d, "[UNAVAILABLE]");
}
END_TEST

START_TEST(test_xtext_round_trip)
{
	g_autoptr(GRand) rand = g_rand_new_with_seed(3461);
	char all[256];

	/* every byte but NUL */
	for (guint i = 1; i < 256; i++)
		all[i - 1] = (char) i;
	all[255] = '\0';
	{
		g_autofree char *encoded = mw_xtext_encode(all);
		g_autoptr(GError) error = NULL;
		g_autofree char *decoded = NULL;

		/* the output is pure printable ASCII without '=' */
		for (const char *p = encoded; *p != '\0'; p++)
			ck_assert(*p > ' ' && *p < 0x7f && *p != '=');
		decoded = mw_xtext_decode(encoded, &error);
		ck_assert_ptr_nonnull(decoded);
		ck_assert_str_eq(decoded, all);
	}
	for (guint n = 0; n < 2000; n++) {
		char buf[64];
		guint len = g_rand_int_range(rand, 0, sizeof(buf));
		g_autofree char *encoded = NULL;
		g_autofree char *decoded = NULL;

		for (guint i = 0; i < len; i++)
			buf[i] = (char) g_rand_int_range(rand, 1, 256);
		buf[len] = '\0';
		encoded = mw_xtext_encode(buf);
		decoded = mw_xtext_decode(encoded, NULL);
		ck_assert_ptr_nonnull(decoded);
		ck_assert_str_eq(decoded, buf);
	}
}
END_TEST

/* ---- address helpers ---- */

static const struct {
	const char *address;
	gboolean ok;
	const char *local;
	const char *domain;
} split_cases[] = {
	{"user@Example.ORG", TRUE, "user", "example.org"},
	{"User.Name@EXAMPLE.org", TRUE, "User.Name", "example.org"},
	{"\"john doe\"@Example.org", TRUE, "john doe", "example.org"},
	{"\"a\\\"b\\\\c@d\"@example.org", TRUE, "a\"b\\c@d", "example.org"},
	{"\"\"@example.org", TRUE, "", "example.org"},
	{"postmaster", TRUE, "postmaster", ""},
	{"PostMaster", TRUE, "PostMaster", ""},
	{"user@[IPv6:2001:DB8::1]", TRUE, "user", "[ipv6:2001:db8::1]"},
	{"J\xc3\x96rg@B\xc3\x9c"
	 "CHER.example",
	 TRUE, "J\xc3\x96rg",
	 "b\xc3\xbc"
	 "cher.example"},
	{"", FALSE, NULL, NULL},
	{"\"unterminated@example.org", FALSE, NULL, NULL},
	{"\"a\"b@example.org", FALSE, NULL, NULL},
};

START_TEST(test_address_split)
{
	g_autofree char *local = NULL;
	g_autofree char *domain = NULL;
	gboolean ok = mw_address_split(split_cases[_i].address, &local, &domain);

	ck_assert_int_eq(ok, split_cases[_i].ok);
	if (!ok) {
		ck_assert_ptr_null(local);
		ck_assert_ptr_null(domain);
		return;
	}
	ck_assert_str_eq(local, split_cases[_i].local);
	ck_assert_str_eq(domain, split_cases[_i].domain);
	/* both outputs are optional */
	ck_assert_int_eq(mw_address_split(split_cases[_i].address, NULL, NULL), TRUE);
}
END_TEST

START_TEST(test_address_normalize)
{
	static const struct {
		const char *in;
		const char *out;
	} cases[] = {
		{"User@Example.ORG", "user@example.org"},
		{"\"John Doe\"@Example.org", "\"john doe\"@example.org"},
		{"J\xc3\x96RG@B\xc3\x9c"
		 "CHER.example",
		 "j\xc3\xb6rg@b\xc3\xbc"
		 "cher.example"},
		{"PostMaster", "postmaster"},
		{"", ""},
		/* not UTF-8: only ASCII is folded, the rest kept */
		{"AB\xff@X", "ab\xff@x"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *out = mw_address_normalize(cases[i].in);

		ck_assert_str_eq(out, cases[i].out);
	}
}
END_TEST

START_TEST(test_parsed_address_split)
{
	/* what the parser returns feeds mw_address_split */
	g_autoptr(MwSmtpPath) path =
		mw_smtp_parse_mail("FROM:<@r.example:\"x y\\\"z\"@Example.COM> SIZE=1", NULL);
	g_autofree char *local = NULL;
	g_autofree char *domain = NULL;

	ck_assert_ptr_nonnull(path);
	ck_assert_str_eq(path->address, "\"x y\\\"z\"@Example.COM");
	ck_assert(mw_address_split(path->address, &local, &domain));
	ck_assert_str_eq(local, "x y\"z");
	ck_assert_str_eq(domain, "example.com");
}
END_TEST

/* ---- hostile input ---- */

static void
parse_everything(const char *line)
{
	g_autoptr(GHashTable) attrs = new_attrs();
	const char *args = NULL;
	MwSmtpPath *path;
	char *s;

	(void) mw_smtp_parse_verb(line, &args);
	ck_assert_ptr_nonnull(args);
	ck_assert(args >= line && args <= line + strlen(line));
	path = mw_smtp_parse_mail(line, NULL);
	if (path != NULL) {
		ck_assert(g_utf8_validate(path->address, -1, NULL));
		mw_address_split(path->address, NULL, NULL);
	}
	mw_smtp_path_free(path);
	path = mw_smtp_parse_rcpt(line, NULL);
	mw_smtp_path_free(path);
	mw_smtp_parse_xforward(line, attrs, NULL);
	g_free(mw_xtext_decode(line, NULL));
	g_free(mw_xtext_encode(line));
	g_free(mw_address_normalize(line));
	if (mw_address_split(line, &s, NULL))
		g_free(s);
}

START_TEST(test_hostile_input)
{
	static const char alphabet[] = "<>@\"\\:,.[]=+ ;-aZ09\x01\x7f\xc3\xa9\xff"
				       "FROMTOSIZEIPv6NOTIFYORCPT";
	static const char *const prefixes[] = {"FROM:<", "TO:<", "FROM:<\"", "NAME=", ""};
	g_autoptr(GRand) rand = g_rand_new_with_seed(5321);
	char buf[MW_SMTP_MAX_COMMAND_LINE + 1];

	for (guint n = 0; n < 20000; n++) {
		const char *prefix = prefixes[n % G_N_ELEMENTS(prefixes)];
		gsize plen = strlen(prefix);
		guint len = n % 100 == 0 ? MW_SMTP_MAX_COMMAND_LINE
					 : (guint) g_rand_int_range(rand, 0, 80);

		memcpy(buf, prefix, plen);
		for (guint i = plen; i < len; i++)
			buf[i] = alphabet[g_rand_int_range(rand, 0, sizeof(alphabet) - 1)];
		buf[MAX(len, plen)] = '\0';
		parse_everything(buf);
	}
	/* long but valid */
	memset(buf, 'a', sizeof(buf));
	memcpy(buf, "FROM:<", 6);
	memcpy(buf + 2000, "@example.org>", 13);
	buf[2013] = '\0';
	{
		g_autoptr(MwSmtpPath) path = mw_smtp_parse_mail(buf, NULL);

		ck_assert_ptr_nonnull(path);
		ck_assert_uint_eq(strlen(path->address), 2000 - 6 + 12);
	}
}
END_TEST

static Suite *
smtp_parse_suite(void)
{
	Suite *s = suite_create("smtp-parse");
	TCase *tc;

	tc = tcase_create("verb");
	tcase_add_loop_test(tc, test_verb, 0, G_N_ELEMENTS(verb_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("path");
	tcase_add_loop_test(tc, test_mail_path, 0, G_N_ELEMENTS(mail_cases));
	tcase_add_loop_test(tc, test_rcpt_path, 0, G_N_ELEMENTS(rcpt_cases));
	tcase_add_test(tc, test_path_no_gerror);
	suite_add_tcase(s, tc);

	tc = tcase_create("param");
	tcase_add_loop_test(tc, test_mail_param, 0, G_N_ELEMENTS(mail_param_cases));
	tcase_add_loop_test(tc, test_rcpt_param, 0, G_N_ELEMENTS(rcpt_param_cases));
	tcase_add_test(tc, test_param_order_and_presence);
	tcase_add_test(tc, test_param_long_keyword);
	suite_add_tcase(s, tc);

	tc = tcase_create("xforward");
	tcase_add_test(tc, test_xforward_valid);
	tcase_add_loop_test(tc, test_xforward_invalid, 0, G_N_ELEMENTS(xforward_bad_cases));
	tcase_add_test(tc, test_xforward_length);
	suite_add_tcase(s, tc);

	tc = tcase_create("xtext");
	tcase_add_loop_test(tc, test_xtext_decode, 0, G_N_ELEMENTS(xtext_cases));
	tcase_add_test(tc, test_xtext_encode);
	tcase_add_test(tc, test_xtext_round_trip);
	suite_add_tcase(s, tc);

	tc = tcase_create("address");
	tcase_add_loop_test(tc, test_address_split, 0, G_N_ELEMENTS(split_cases));
	tcase_add_test(tc, test_address_normalize);
	tcase_add_test(tc, test_parsed_address_split);
	suite_add_tcase(s, tc);

	tc = tcase_create("hostile");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_hostile_input);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner *runner = srunner_create(smtp_parse_suite());
	int failures;

	srunner_run_all(runner, CK_NORMAL);
	failures = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failures ? EXIT_FAILURE : EXIT_SUCCESS;
}
