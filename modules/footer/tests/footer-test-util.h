/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * footer-test-util - what the footer's unit suites share: a private
 * directory with the footer files, a configuration with the footer module,
 * and process() run on a txn through the real pipeline and dispatch (no
 * reinjector: the dispatch only serializes), returning the bytes that would
 * be sent.
 */
#include <check.h>

#include "mw-txn.h"

G_BEGIN_DECLS

/* the footers the suites configure (UTF-8) */
#define FT_LATIN "Grüße von Example <legal@example.org> & Co."
#define FT_EURO  "Preis: 5 € – Example"
#define FT_JA    "株式会社例 機密情報です"
#define FT_HTML  "<p class=\"footer\">Example <b>HTML</b> footer</p>"

typedef struct {
	char *dir;
	MwConfig *config;
} FtEnv;

extern FtEnv ft;

/* ft_suite_setup / ft_suite_teardown - the suite's directory (unchecked fixture) */
void ft_suite_setup(void);
void ft_suite_teardown(void);
/* ft_setup / ft_teardown - the test's directory inside it (checked fixture) */
void ft_setup(void);
void ft_teardown(void);

/* ft_write - a file in ft.dir; returns its path (owned by the caller) */
char *ft_write(const char *name, const char *text);

/*
 * ft_configure - load a configuration: local_domains = example.org,
 * example.net, example.jp; modules = @modules (NULL: footer); the [footer]
 * section gets "text = FT_LATIN file", text.example.net (FT_EURO) and
 * text.example.jp (FT_JA) unless @footer_keys sets its own, then the lines
 * of @footer_keys
 */
void ft_configure(const char *modules, const char *footer_keys);
/* ft_configure_error - the error message of loading that configuration (asserts it fails) */
char *ft_configure_error(const char *footer_keys);

/* ft_message - tests/data/@name with LF turned into CRLF */
GBytes *ft_message(const char *name);
/* ft_crlf - @text with LF turned into CRLF */
GBytes *ft_crlf(const char *text);

/* the result of one message through the pipeline */
typedef struct {
	GBytes *out; /* what delivery 1 would send */
	char *note;  /* the footer's summary note ("added"), NULL if none */
	gboolean modified;
	gboolean spooled; /* the result lives in a spool file */
} FtResult;

/* ft_process - @msg from @from to rcpt@example.com through the pipeline and dispatch */
FtResult ft_process(GBytes *msg, const char *from);
/* ft_process_message - the same for a message already in an MwMessage (spooled ones) */
FtResult ft_process_message(MwMessage *bytes, const char *from);
void ft_result_clear(FtResult *result);

/* ft_parse - parse bytes with GMime (asserts) */
GMimeMessage *ft_parse(GBytes *bytes);
/* ft_find - the @nth (0-based) part of type @mime_type ("text/plain") in the tree, or NULL */
GMimeObject *ft_find(GMimeMessage *mime, const char *mime_type, int nth);
/* ft_text - the decoded text of a part, converted to UTF-8 from its charset */
char *ft_text(GMimeObject *part);
/* ft_param - a content type parameter of @part, or NULL */
const char *ft_param(GMimeObject *part, const char *name);
/* ft_encoding - the part's transfer encoding name ("quoted-printable"), "default" if none */
const char *ft_encoding(GMimeObject *part);

/* ft_split - the segments of @bytes between the delimiter lines "--@boundary" */
GPtrArray *ft_split(GBytes *bytes, const char *boundary);
/*
 * ft_assert_untouched - @orig and @out, split at @boundary, have the same
 * number of segments and every segment not in @changed (a -1-terminated
 * list of indexes) is byte-identical; segment 0 (headers and preamble) must
 * equal the original's with the marker field added
 */
void ft_assert_untouched(GBytes *orig, GBytes *out, const char *boundary, const int *changed);
/* ft_headers_plus_marker - the header block of @out is the one of @orig plus the marker */
void ft_assert_headers_plus_marker(GBytes *orig, GBytes *out);
/* ft_count - occurrences of @needle in @bytes */
guint ft_count(GBytes *bytes, const char *needle);
/* ft_has_bare_lf - a LF not preceded by CR */
gboolean ft_has_bare_lf(GBytes *bytes);
/* ft_bytes_text - @bytes as a NUL-terminated string */
char *ft_bytes_text(GBytes *bytes);

G_END_DECLS
