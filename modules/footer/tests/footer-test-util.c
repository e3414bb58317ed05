/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	footer-test-util - shared helpers of the footer unit suites
 * SYNOPSIS
 *	ft_setup, ft_teardown, ft_write, ft_configure, ft_configure_error,
 *	ft_message, ft_crlf, ft_process, ft_result_clear, ft_parse, ft_find,
 *	ft_text, ft_param, ft_encoding, ft_split, ft_assert_untouched,
 *	ft_assert_headers_plus_marker, ft_count, ft_has_bare_lf, ft_bytes_text
 * DESCRIPTION
 *	See footer-test-util.h. The checks of untouched bytes split messages at
 *	their boundary lines with plain byte searches, independent of the
 *	module's own use of GMime offsets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>

#include "footer-test-util.h"
#include "mw-dispatch.h"
#include "mw-pipeline.h"

FtEnv ft;

/* the suite's directory: each test's directory is inside, so that the unchecked teardown
 * (which runs in the parent, also after a test failed in its forked child) removes all */
static char *suite_dir;

#define MARKER_LINE "X-Mailwarden-Footer: yes\r\n"

void
ft_suite_setup(void)
{
	suite_dir = g_dir_make_tmp("mw-footer-XXXXXX", NULL);
	ck_assert_ptr_nonnull(suite_dir);
}

void
ft_suite_teardown(void)
{
	if (suite_dir == NULL)
		return;
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", suite_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", suite_dir);
	g_clear_pointer(&suite_dir, g_free);
}

void
ft_setup(void)
{
	g_autofree char *template = g_build_filename(suite_dir, "test-XXXXXX", NULL);
	ft.dir = g_mkdtemp(g_steal_pointer(&template));
	ck_assert_ptr_nonnull(ft.dir);
	g_autofree char *state = g_build_filename(ft.dir, "state", NULL);
	ck_assert_int_eq(g_mkdir(state, 0700), 0);
	g_free(ft_write("latin.txt", FT_LATIN "\n"));
	g_free(ft_write("euro.txt", FT_EURO "\n"));
	g_free(ft_write("ja.txt", FT_JA "\n"));
	g_free(ft_write("footer.html", FT_HTML "\n"));
	ft.config = NULL;
}

void
ft_teardown(void)
{
	g_clear_pointer(&ft.config, mw_config_free);
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", ft.dir);
	ck_assert_int_eq(system(cmd), 0);
	g_clear_pointer(&ft.dir, g_free);
}

char *
ft_write(const char *name, const char *text)
{
	char *path = g_build_filename(ft.dir, name, NULL);
	ck_assert(g_file_set_contents(path, text, -1, NULL));
	return path;
}

/* config_text - the configuration ft_configure() loads */
static char *
config_text(const char *modules, const char *footer_keys)
{
	static const char defaults[] = "text = @DIR@/latin.txt\n"
				       "text.example.net = @DIR@/euro.txt\n"
				       "text.Example.JP = @DIR@/ja.txt\n";
	g_autofree char *keys = g_strconcat(defaults, footer_keys != NULL ? footer_keys : "", NULL);
	g_auto(GStrv) parts = g_strsplit(keys, "@DIR@", -1);
	g_autofree char *section = g_strjoinv(ft.dir, parts);

	return g_strdup_printf("[mailwarden]\nhostname = mw.test\n"
			       "local_domains = example.org, example.net, example.jp\n"
			       "modules = %s\nstate_dir = %s/state\n[footer]\n%s",
			       modules != NULL ? modules : "footer", ft.dir, section);
}

void
ft_configure(const char *modules, const char *footer_keys)
{
	g_autofree char *text = config_text(modules, footer_keys);
	g_autoptr(GError) error = NULL;

	g_clear_pointer(&ft.config, mw_config_free);
	ft.config = mw_config_load_data(text, NULL, &error);
	ck_assert_msg(ft.config != NULL, "configuration refused: %s\n%s",
		      error != NULL ? error->message : "?", text);
}

char *
ft_configure_error(const char *footer_keys)
{
	g_autoptr(GError) error = NULL;

	/* only the keys given: no defaults */
	g_auto(GStrv) parts = g_strsplit(footer_keys, "@DIR@", -1);
	g_autofree char *section = g_strjoinv(ft.dir, parts);
	g_autofree char *text =
		g_strdup_printf("[mailwarden]\nhostname = mw.test\nlocal_domains = example.org\n"
				"modules = footer\nstate_dir = %s/state\n[footer]\n%s",
				ft.dir, section);
	MwConfig *config = mw_config_load_data(text, NULL, &error);
	ck_assert_msg(config == NULL, "configuration accepted:\n%s", text);
	return g_strdup(error->message);
}

GBytes *
ft_crlf(const char *text)
{
	GString *out = g_string_new(NULL);

	for (const char *p = text; *p != '\0'; p++) {
		if (*p == '\n' && (p == text || p[-1] != '\r'))
			g_string_append_c(out, '\r');
		g_string_append_c(out, *p);
	}
	gsize len = out->len;
	return g_bytes_new_take(g_string_free(out, FALSE), len);
}

GBytes *
ft_message(const char *name)
{
	g_autofree char *path = g_build_filename(MW_TEST_SRCDIR, "data", name, NULL);
	g_autofree char *data = NULL;

	ck_assert_msg(g_file_get_contents(path, &data, NULL, NULL), "cannot read %s", path);
	return ft_crlf(data);
}

FtResult
ft_process(GBytes *msg, const char *from)
{
	g_autoptr(MwMessage) bytes =
		mw_message_new_from_bytes(g_bytes_get_data(msg, NULL), g_bytes_get_size(msg));

	return ft_process_message(bytes, from);
}

FtResult
ft_process_message(MwMessage *bytes, const char *from)
{
	const char *rcpts[] = {"rcpt@example.com", NULL};
	MwEnvelope *env = mw_envelope_new_simple(from, rcpts);
	g_autoptr(MwTxn) txn = mw_txn_new(ft.config, env, bytes);
	FtResult result = {0};
	MwOutcome outcome;

	mw_pipeline_run(txn);
	mw_dispatch(txn, NULL, FALSE, &outcome);
	ck_assert_int_eq(outcome.reply.code, 250);
	mw_outcome_clear(&outcome);
	MwDelivery *delivery = g_ptr_array_index(txn->deliveries, 0);
	gsize len = (gsize) mw_message_get_size(delivery->message);
	guint8 *data = g_malloc(len + 1);
	ck_assert_int_eq(mw_message_read(delivery->message, 0, data, len, NULL), (gssize) len);
	result.out = g_bytes_new_take(data, len);
	result.modified = delivery->modified;
	result.spooled = mw_message_is_spooled(delivery->message);
	for (guint i = 0; i < txn->notes->len; i++) {
		const char *note = g_ptr_array_index(txn->notes, i);
		if (g_str_has_prefix(note, "footer="))
			result.note = g_strdup(note + strlen("footer="));
	}
	return result;
}

void
ft_result_clear(FtResult *result)
{
	g_clear_pointer(&result->out, g_bytes_unref);
	g_clear_pointer(&result->note, g_free);
}

GMimeMessage *
ft_parse(GBytes *bytes)
{
	g_autoptr(GMimeStream) stream = g_mime_stream_mem_new_with_buffer(
		g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes));
	g_autoptr(GMimeParser) parser = g_mime_parser_new_with_stream(stream);
	GMimeMessage *mime = g_mime_parser_construct_message(parser, NULL);

	ck_assert_ptr_nonnull(mime);
	return mime;
}

typedef struct {
	const char *type;
	int nth;
	GMimeObject *found;
} FindState;

static void
find_cb(GMimeObject *parent, GMimeObject *part, gpointer data)
{
	FindState *state = data;
	g_autofree char *type =
		g_mime_content_type_get_mime_type(g_mime_object_get_content_type(part));

	if (state->found == NULL && g_ascii_strcasecmp(type, state->type) == 0 && state->nth-- == 0)
		state->found = part;
}

GMimeObject *
ft_find(GMimeMessage *mime, const char *mime_type, int nth)
{
	FindState state = {mime_type, nth, NULL};

	g_mime_message_foreach(mime, find_cb, &state);
	return state.found;
}

char *
ft_text(GMimeObject *part)
{
	ck_assert_msg(GMIME_IS_TEXT_PART(part), "not a text part");
	char *text = g_mime_text_part_get_text(GMIME_TEXT_PART(part));
	ck_assert_ptr_nonnull(text);
	return text;
}

const char *
ft_param(GMimeObject *part, const char *name)
{
	return g_mime_content_type_get_parameter(g_mime_object_get_content_type(part), name);
}

const char *
ft_encoding(GMimeObject *part)
{
	GMimeContentEncoding encoding = g_mime_part_get_content_encoding(GMIME_PART(part));

	return encoding == GMIME_CONTENT_ENCODING_DEFAULT
		       ? "default"
		       : g_mime_content_encoding_to_string(encoding);
}

GPtrArray *
ft_split(GBytes *bytes, const char *boundary)
{
	gsize len = 0;
	const char *data = g_bytes_get_data(bytes, &len);
	g_autofree char *delimiter = g_strconcat("--", boundary, NULL);
	gsize dlen = strlen(delimiter);
	GPtrArray *segments = g_ptr_array_new_with_free_func((GDestroyNotify) g_bytes_unref);
	gsize start = 0;

	for (gsize i = 0; i + dlen <= len; i++) {
		if ((i == 0 || data[i - 1] == '\n') && memcmp(data + i, delimiter, dlen) == 0) {
			g_ptr_array_add(segments, g_bytes_new(data + start, i - start));
			start = i;
			i += dlen - 1;
		}
	}
	g_ptr_array_add(segments, g_bytes_new(data + start, len - start));
	return segments;
}

/* in_list - @i is in the -1-terminated @list */
static gboolean
in_list(const int *list, guint i)
{
	for (; list != NULL && *list >= 0; list++) {
		if ((guint) *list == i)
			return TRUE;
	}
	return FALSE;
}

/* without_marker - @bytes with the first marker line removed */
static GBytes *
without_marker(GBytes *bytes)
{
	gsize len = 0;
	const char *data = g_bytes_get_data(bytes, &len);
	const char *at = memmem(data, len, MARKER_LINE, strlen(MARKER_LINE));

	ck_assert_msg(at != NULL, "no marker line in the header block");
	GByteArray *out = g_byte_array_new();
	g_byte_array_append(out, (const guint8 *) data, (guint) (at - data));
	at += strlen(MARKER_LINE);
	g_byte_array_append(out, (const guint8 *) at, (guint) (data + len - at));
	return g_byte_array_free_to_bytes(out);
}

void
ft_assert_untouched(GBytes *orig, GBytes *out, const char *boundary, const int *changed)
{
	g_autoptr(GPtrArray) a = ft_split(orig, boundary);
	g_autoptr(GPtrArray) b = ft_split(out, boundary);

	ck_assert_msg(a->len == b->len, "--%s: %u segments before, %u after", boundary, a->len,
		      b->len);
	for (guint i = 0; i < a->len; i++) {
		GBytes *sa = g_ptr_array_index(a, i);
		g_autoptr(GBytes) sb = g_bytes_ref(g_ptr_array_index(b, i));
		if (in_list(changed, i)) {
			ck_assert_msg(!g_bytes_equal(sa, sb), "--%s: segment %u did not change",
				      boundary, i);
			continue;
		}
		if (i == 0 && memmem(g_bytes_get_data(sb, NULL), g_bytes_get_size(sb), MARKER_LINE,
				     strlen(MARKER_LINE)) != NULL) {
			GBytes *stripped = without_marker(sb);
			g_bytes_unref(sb);
			sb = stripped;
		}
		g_autofree char *ta = ft_bytes_text(sa);
		g_autofree char *tb = ft_bytes_text(sb);
		ck_assert_msg(g_bytes_equal(sa, sb),
			      "--%s: segment %u changed:\n--- before\n%s\n--- after\n%s", boundary,
			      i, ta, tb);
	}
}

void
ft_assert_headers_plus_marker(GBytes *orig, GBytes *out)
{
	gsize alen = 0, blen = 0;
	const char *a = g_bytes_get_data(orig, &alen);
	const char *b = g_bytes_get_data(out, &blen);
	const char *aend = memmem(a, alen, "\r\n\r\n", 4);
	const char *bend = memmem(b, blen, "\r\n\r\n", 4);

	ck_assert(aend != NULL && bend != NULL);
	g_autofree char *expect = g_strdup_printf("%.*s\r\n" MARKER_LINE, (int) (aend - a), a);
	g_autofree char *got = g_strndup(b, (gsize) (bend - b) + 2);
	ck_assert_str_eq(got, expect);
}

guint
ft_count(GBytes *bytes, const char *needle)
{
	gsize len = 0;
	const char *data = g_bytes_get_data(bytes, &len);
	gsize n = strlen(needle);
	guint count = 0;

	for (const char *p = data; p != NULL && p + n <= data + len;) {
		p = memmem(p, (gsize) (data + len - p), needle, n);
		if (p != NULL) {
			count++;
			p += n;
		}
	}
	return count;
}

gboolean
ft_has_bare_lf(GBytes *bytes)
{
	gsize len = 0;
	const char *data = g_bytes_get_data(bytes, &len);

	for (gsize i = 0; i < len; i++) {
		if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r'))
			return TRUE;
	}
	return FALSE;
}

char *
ft_bytes_text(GBytes *bytes)
{
	return g_strndup(g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes));
}
