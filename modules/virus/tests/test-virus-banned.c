/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-virus-banned - banned attachment names and types, zip directories
 * DESCRIPTION
 *	Unit tests without a scanner: the extension rules (case, double
 *	extensions, trailing dots and spaces, bidirectional-override tricks,
 *	directories, multi-part extensions), type patterns, the zip reader
 *	(central directory, zip64, prepended data, local-header fallback,
 *	names that differ between the directory and the local header,
 *	encrypted members, every truncation of an archive) and the walk over
 *	a parsed message (attachments with RFC 2231/2047 names, zip members,
 *	nested archives and messages, renamed executables, uuencoded files,
 *	body text that is never typed, the recursion bound).
 */
#include <check.h>
#include <string.h>

#include "mw-message.h"
#include "mw-virus.h"
#include "virus-test-lib.h"

/* zip record signatures: bytes, not strings (written into binary buffers) */
static const guint8 sig_local[] = {'P', 'K', 0x03, 0x04};
static const guint8 sig_end[] = {'P', 'K', 0x05, 0x06};
static const guint8 sig_zip64_end[] = {'P', 'K', 0x06, 0x06};
static const guint8 sig_zip64_locator[] = {'P', 'K', 0x06, 0x07};

static const char *const test_extensions[] = {"exe", ".SCR", "*.bat", "js", "tar.gz", NULL};
static const char *const test_types[] = {"application/x-dosexec",
					 "application/vnd.microsoft.portable-executable",
					 "application/x-msdownload", NULL};

/* new_banned - the checker used by most tests */
static MwVirusBanned *
new_banned(gboolean block_encrypted, guint max_depth)
{
	g_autoptr(GError) error = NULL;
	MwVirusBanned *banned = mw_virus_banned_new(test_extensions, test_types, block_encrypted,
						    max_depth, 1000, 10 * 1024 * 1024, &error);
	ck_assert_msg(banned != NULL, "%s", error != NULL ? error->message : "?");
	return banned;
}

typedef struct {
	const char *name;
	const char *expect; /* substring of the description, NULL: not banned */
} NameCase;

static const NameCase name_cases[] = {
	{"invoice.exe", "(extension .exe)"},
	{"invoice.pdf.exe", "(double extension .pdf.exe)"},
	{"INVOICE.PDF.EXE", "(double extension .pdf.exe)"},
	{"Invoice.Pdf.Exe", "(double extension .pdf.exe)"},
	{"evil.exe.", "(extension .exe)"},
	{"evil.exe  ", "(extension .exe)"},
	{"evil.exe . .", "(extension .exe)"},
	{"evil.pdf .exe", "(double extension .pdf.exe)"},
	{"invoice\xe2\x80\xae"
	 "fdp.exe",
	 "(extension .exe)"},                           /* RTLO: shows as "invoiceexe.pdf" */
	{"report\xe2\x80\x8b.scr", "(extension .scr)"}, /* zero-width space */
	{"dir/sub/run.SCR", "(extension .scr)"},
	{"C:\\Users\\x\\run.bat", "(extension .bat)"},
	{".exe", "(extension .exe)"},
	{"backup.tar.gz", "(extension .tar.gz)"},
	{"script.js", "(extension .js)"},
	{"report.pdf", NULL},
	{"exe", NULL},
	{"archive.gz", NULL},
	{"notes.exe.txt", NULL},
	{"file.ex_e", NULL},
	{"my.exe.files/readme", NULL},
	{"json", NULL},
	{"x.jsx", NULL},
	{"", NULL},
};

START_TEST(test_name_rules)
{
	const NameCase *nc = &name_cases[_i];
	g_autoptr(MwVirusBanned) banned = new_banned(FALSE, 5);
	g_autofree char *hit = mw_virus_banned_match_name(banned, nc->name);

	if (nc->expect == NULL)
		ck_assert_msg(hit == NULL, "'%s' banned: %s", nc->name, hit);
	else
		ck_assert_msg(hit != NULL && strstr(hit, nc->expect) != NULL,
			      "'%s': expected '%s', got '%s'", nc->name, nc->expect,
			      hit != NULL ? hit : "(not banned)");
}
END_TEST

START_TEST(test_extension_normalization)
{
	struct {
		const char *in;
		const char *out;
	} cases[] = {{"exe", "exe"},       {".EXE", "exe"}, {"*.Scr", "scr"}, {"  bat ", "bat"},
		     {"tar.gz", "tar.gz"}, {"", NULL},      {".", NULL},      {"a/b", NULL},
		     {"e xe", NULL},       {"ex*", NULL},   {"exe.", NULL}};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *got = mw_virus_banned_normalize_extension(cases[i].in);
		ck_assert_msg(g_strcmp0(got, cases[i].out) == 0, "'%s' -> '%s', expected '%s'",
			      cases[i].in, got, cases[i].out);
	}
}
END_TEST

START_TEST(test_bad_config_entries)
{
	const char *bad_ext[] = {"exe", "a/b", NULL};
	const char *bad_type[] = {"application/x-dosexec", "exe", NULL};
	const char *good[] = {"exe", NULL};
	g_autoptr(GError) e1 = NULL;
	g_autoptr(GError) e2 = NULL;

	ck_assert_ptr_null(mw_virus_banned_new(bad_ext, NULL, FALSE, 5, 10, 1000, &e1));
	ck_assert_msg(e1 != NULL && strstr(e1->message, "'a/b'") != NULL, "%s",
		      e1 != NULL ? e1->message : "no error");
	ck_assert_ptr_null(mw_virus_banned_new(good, bad_type, FALSE, 5, 10, 1000, &e2));
	ck_assert_msg(e2 != NULL && strstr(e2->message, "banned_types: 'exe'") != NULL, "%s",
		      e2 != NULL ? e2->message : "no error");
}
END_TEST

START_TEST(test_type_patterns)
{
	const char *types[] = {"application/x-dosexec", "application/vnd.microsoft.*", NULL};
	g_autoptr(MwVirusBanned) banned =
		mw_virus_banned_new(NULL, types, FALSE, 5, 10, 1000, NULL);
	g_autofree char *a = mw_virus_banned_match_type(banned, "Application/X-DOSEXEC");
	g_autofree char *b =
		mw_virus_banned_match_type(banned, "application/vnd.microsoft.portable-executable");
	g_autofree char *c = mw_virus_banned_match_type(banned, "application/pdf");
	g_autofree char *d = mw_virus_banned_match_type(banned, NULL);

	ck_assert_str_eq(a, "application/x-dosexec");
	ck_assert_str_eq(b, "application/vnd.microsoft.*");
	ck_assert_ptr_null(c);
	ck_assert_ptr_null(d);
	ck_assert(mw_virus_banned_enabled(banned));
	g_autoptr(MwVirusBanned) none = mw_virus_banned_new(NULL, NULL, FALSE, 5, 10, 1000, NULL);
	ck_assert(!mw_virus_banned_enabled(none));
	g_autoptr(MwVirusBanned) encrypted_only =
		mw_virus_banned_new(NULL, NULL, TRUE, 5, 10, 1000, NULL);
	ck_assert(mw_virus_banned_enabled(encrypted_only));
}
END_TEST

/* --- zip ---------------------------------------------------------------------------- */

/* three_member_zip - a.txt (stored), dir/b.exe (deflated), c.bin (deflated) */
static GBytes *
three_member_zip(void)
{
	g_autoptr(GBytes) a = g_bytes_new_static("hello\n", 6);
	g_autoptr(GBytes) b = vt_pe();
	g_autoptr(GBytes) c = vt_payload(1);
	VtZipEntry entries[] = {{"a.txt", a, FALSE, FALSE},
				{"dir/b.exe", b, TRUE, FALSE},
				{"c.bin", c, TRUE, FALSE}};
	return vt_zip(entries, 3);
}

/* names - the member names joined with "," */
static char *
names(GPtrArray *entries)
{
	GString *out = g_string_new(NULL);

	for (guint i = 0; i < entries->len; i++) {
		const MwVirusZipEntry *e = g_ptr_array_index(entries, i);
		g_string_append_printf(out, "%s%s", i > 0 ? "," : "", e->name);
	}
	return g_string_free(out, FALSE);
}

START_TEST(test_zip_list_and_extract)
{
	g_autoptr(GBytes) zip = three_member_zip();
	gsize len;
	const guint8 *data = g_bytes_get_data(zip, &len);
	g_autoptr(GPtrArray) entries = mw_virus_zip_list(data, len, 100);
	g_autofree char *got = names(entries);

	ck_assert(mw_virus_zip_is_zip(data, len));
	ck_assert_str_eq(got, "a.txt,dir/b.exe,c.bin");
	for (guint i = 0; i < entries->len; i++) {
		const MwVirusZipEntry *e = g_ptr_array_index(entries, i);
		g_autoptr(GBytes) out = mw_virus_zip_extract(data, len, e, 1 << 20);
		ck_assert_ptr_nonnull(out);
		ck_assert_uint_eq(g_bytes_get_size(out), e->size);
	}
	/* the deflated payload comes back exactly */
	g_autoptr(GBytes) c = vt_payload(1);
	g_autoptr(GBytes) out =
		mw_virus_zip_extract(data, len, g_ptr_array_index(entries, 2), 1 << 20);
	ck_assert(g_bytes_equal(c, out));
	/* and a bounded extraction stops at the bound */
	g_autoptr(GBytes) head =
		mw_virus_zip_extract(data, len, g_ptr_array_index(entries, 2), 100);
	ck_assert_uint_eq(g_bytes_get_size(head), 100);
	ck_assert(memcmp(g_bytes_get_data(head, NULL), g_bytes_get_data(c, NULL), 100) == 0);
	/* max_entries */
	g_autoptr(GPtrArray) two = mw_virus_zip_list(data, len, 2);
	ck_assert_uint_eq(two->len, 2);
}
END_TEST

START_TEST(test_zip_prepended_data)
{
	g_autoptr(GBytes) zip = three_member_zip();
	GByteArray *sfx = g_byte_array_new();
	guint8 stub[777];

	memset(stub, 'S', sizeof stub);
	stub[0] = 'M';
	stub[1] = 'Z';
	g_byte_array_append(sfx, stub, sizeof stub);
	g_byte_array_append(sfx, g_bytes_get_data(zip, NULL), (guint) g_bytes_get_size(zip));
	g_autoptr(GBytes) exe = g_byte_array_free_to_bytes(sfx);
	gsize len;
	const guint8 *data = g_bytes_get_data(exe, &len);
	g_autoptr(GPtrArray) entries = mw_virus_zip_list(data, len, 100);
	g_autofree char *got = names(entries);

	ck_assert_str_eq(got, "a.txt,dir/b.exe,c.bin");
	g_autoptr(GBytes) c = vt_payload(1);
	g_autoptr(GBytes) out =
		mw_virus_zip_extract(data, len, g_ptr_array_index(entries, 2), 1 << 20);
	ck_assert(g_bytes_equal(c, out));
}
END_TEST

/* find - offset of @needle in @data (asserts it is there) */
static gsize
find(const guint8 *data, gsize len, const void *needle, gsize n)
{
	const guint8 *hit = memmem(data, len, needle, n);
	ck_assert_ptr_nonnull(hit);
	return (gsize) (hit - data);
}

START_TEST(test_zip_without_directory)
{
	g_autoptr(GBytes) zip = three_member_zip();
	gsize len;
	const guint8 *data = g_bytes_get_data(zip, &len);
	/* cut the archive where its central directory starts */
	gsize cd = find(data, len, "PK\x01\x02", 4);
	g_autoptr(GPtrArray) entries = mw_virus_zip_list(data, cd, 100);
	g_autofree char *got = names(entries);

	ck_assert_str_eq(got, "a.txt,dir/b.exe,c.bin");
}
END_TEST

START_TEST(test_zip_local_name_differs)
{
	g_autoptr(GBytes) a = g_bytes_new_static("MZ fake\n", 8);
	VtZipEntry entries[] = {{"photo.jpg", a, FALSE, FALSE}};
	g_autoptr(GBytes) zip = vt_zip(entries, 1);
	gsize len;
	guint8 *data = g_memdup2(g_bytes_get_data(zip, NULL), g_bytes_get_size(zip));
	len = g_bytes_get_size(zip);
	/* the local header says photo.exe, the directory photo.jpg */
	static const guint8 exe[] = {'e', 'x', 'e'};
	gsize local = find(data, len, "photo.jpg", 9);
	memcpy(data + local + 6, exe, sizeof exe);
	g_autoptr(GPtrArray) list = mw_virus_zip_list(data, len, 100);
	g_autofree char *got = names(list);

	ck_assert_str_eq(got, "photo.jpg,photo.exe");
	g_free(data);
}
END_TEST

/* to_zip64 - the same archive with zip64 end records (counts and offsets in 64 bits) */
static GBytes *
to_zip64(GBytes *zip)
{
	gsize len;
	const guint8 *data = g_bytes_get_data(zip, &len);
	gsize end = len - 22;
	guint16 count = (guint16) (data[end + 10] | (data[end + 11] << 8));
	guint32 cd_size = data[end + 12] | (data[end + 13] << 8) | (data[end + 14] << 16) |
			  ((guint32) data[end + 15] << 24);
	guint32 cd_off = data[end + 16] | (data[end + 17] << 8) | (data[end + 18] << 16) |
			 ((guint32) data[end + 19] << 24);
	GByteArray *out = g_byte_array_new();
	guint8 rec[56] = {0};
	guint8 loc[20] = {0};
	guint8 eocd[22];

	g_byte_array_append(out, data, (guint) end);
	guint64 rec_off = out->len;
	memcpy(rec, sig_zip64_end, sizeof sig_zip64_end);
	rec[4] = 44;
	rec[24] = (guint8) count;
	rec[32] = (guint8) count;
	for (int i = 0; i < 4; i++) {
		rec[40 + i] = (guint8) (cd_size >> (8 * i));
		rec[48 + i] = (guint8) (cd_off >> (8 * i));
	}
	g_byte_array_append(out, rec, sizeof rec);
	memcpy(loc, sig_zip64_locator, sizeof sig_zip64_locator);
	for (int i = 0; i < 8; i++)
		loc[8 + i] = (guint8) (rec_off >> (8 * i));
	loc[16] = 1;
	g_byte_array_append(out, loc, sizeof loc);
	memcpy(eocd, data + end, 22);
	memset(eocd + 8, 0xff, 12); /* counts, size and offset "in the zip64 record" */
	g_byte_array_append(out, eocd, sizeof eocd);
	return g_byte_array_free_to_bytes(out);
}

START_TEST(test_zip64_end_records)
{
	g_autoptr(GBytes) zip = three_member_zip();
	g_autoptr(GBytes) zip64 = to_zip64(zip);
	gsize len;
	const guint8 *data = g_bytes_get_data(zip64, &len);
	g_autoptr(GPtrArray) central = mw_virus_zip_list(data, len, 100);
	g_autofree char *got = names(central);

	ck_assert_str_eq(got, "a.txt,dir/b.exe,c.bin");
}
END_TEST

START_TEST(test_zip_encrypted_member)
{
	g_autoptr(GBytes) a = vt_payload(1);
	VtZipEntry entries[] = {{"secret.doc", a, TRUE, TRUE}};
	g_autoptr(GBytes) zip = vt_zip(entries, 1);
	gsize len;
	const guint8 *data = g_bytes_get_data(zip, &len);
	g_autoptr(GPtrArray) list = mw_virus_zip_list(data, len, 100);

	ck_assert_uint_eq(list->len, 1);
	const MwVirusZipEntry *e = g_ptr_array_index(list, 0);
	ck_assert(e->encrypted);
	ck_assert_str_eq(e->name, "secret.doc");
	ck_assert_ptr_null(mw_virus_zip_extract(data, len, e, 1000));
}
END_TEST

START_TEST(test_zip_hostile_input)
{
	g_autoptr(GBytes) zip = three_member_zip();
	gsize len;
	const guint8 *data = g_bytes_get_data(zip, &len);

	/* every prefix, and every single-byte corruption of the directory: no crash,
	 * no read outside the buffer (the sanitizer and valgrind runs check that) */
	for (gsize cut = 0; cut <= len; cut++) {
		guint8 *copy = g_memdup2(data, cut);
		g_autoptr(GPtrArray) list = mw_virus_zip_list(copy, cut, 100);
		for (guint i = 0; i < list->len; i++) {
			GBytes *out =
				mw_virus_zip_extract(copy, cut, g_ptr_array_index(list, i), 4096);
			if (out != NULL)
				g_bytes_unref(out);
		}
		g_free(copy);
	}
	gsize cd = find(data, len, "PK\x01\x02", 4);
	for (gsize pos = cd; pos < len; pos++) {
		guint8 *copy = g_memdup2(data, len);
		copy[pos] ^= 0xff;
		g_autoptr(GPtrArray) list = mw_virus_zip_list(copy, len, 100);
		for (guint i = 0; i < list->len; i++) {
			GBytes *out =
				mw_virus_zip_extract(copy, len, g_ptr_array_index(list, i), 4096);
			if (out != NULL)
				g_bytes_unref(out);
		}
		g_free(copy);
	}
	guint8 junk[4096];
	for (gsize i = 0; i < sizeof junk; i++)
		junk[i] = (guint8) (i * 31 + 7);
	memcpy(junk + 100, sig_end, sizeof sig_end);
	memcpy(junk + 2000, sig_local, sizeof sig_local);
	g_autoptr(GPtrArray) list = mw_virus_zip_list(junk, sizeof junk, 100);
	ck_assert_ptr_nonnull(list);
}
END_TEST

/* --- the walk over a parsed message -------------------------------------------------- */

/* check_msg - the description mw_virus_banned_check gives for @msg (NULL: not banned) */
static char *
check_msg(MwVirusBanned *banned, GBytes *msg, const char **kind_out)
{
	g_autoptr(MwMessage) m =
		mw_message_new_from_bytes(g_bytes_get_data(msg, NULL), g_bytes_get_size(msg));
	GMimeMessage *mime = mw_message_get_mime(m, NULL);
	ck_assert_ptr_nonnull(mime);
	return mw_virus_banned_check(banned, mime, kind_out, NULL);
}

/* assert_banned - @msg is banned and the description contains @expect */
static void
assert_banned(GBytes *msg, const char *expect)
{
	g_autoptr(MwVirusBanned) banned = new_banned(TRUE, 5);
	const char *kind = NULL;
	g_autofree char *hit = check_msg(banned, msg, &kind);

	ck_assert_msg(hit != NULL && strstr(hit, expect) != NULL, "expected '%s', got '%s'", expect,
		      hit != NULL ? hit : "(not banned)");
}

/* assert_clean - nothing banned in @msg */
static void
assert_clean(MwVirusBanned *banned, GBytes *msg)
{
	g_autofree char *hit = check_msg(banned, msg, NULL);
	ck_assert_msg(hit == NULL, "banned: %s", hit);
}

START_TEST(test_walk_attachment_names)
{
	g_autoptr(GBytes) pdf = g_bytes_new_static("%PDF-1.4\n%%EOF\n", 15);
	g_autoptr(GBytes) m1 = vt_msg_attachment("invoice.pdf.exe", "application/pdf", pdf);
	g_autoptr(GBytes) m2 = vt_msg_attachment("invoice.pdf", "application/pdf", pdf);
	g_autoptr(MwVirusBanned) banned = new_banned(TRUE, 5);

	assert_banned(m1, "invoice.pdf.exe (double extension .pdf.exe)");
	assert_clean(banned, m2);
}
END_TEST

START_TEST(test_walk_encoded_names)
{
	/* RFC 2231 (continuations, charset) and RFC 2047 in the name parameter */
	static const char rfc2231[] =
		"From: <a@example.org>\r\nTo: <b@example.org>\r\nSubject: x\r\n"
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
		"--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
		"--b\r\nContent-Type: application/octet-stream\r\n"
		"Content-Disposition: attachment;\r\n"
		" filename*0*=UTF-8''%E2%82%AC%20Rechnung;\r\n filename*1*=%2Epdf%2E%45%58%45\r\n"
		"Content-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n--b--\r\n";
	static const char rfc2047[] =
		"From: <a@example.org>\r\nTo: <b@example.org>\r\nSubject: x\r\n"
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
		"--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
		"--b\r\nContent-Type: application/octet-stream; "
		"name=\"=?UTF-8?B?c2V0dXAuc2Ny?=\"\r\n"
		"Content-Disposition: attachment; filename=\"setup.txt\"\r\n"
		"Content-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n--b--\r\n";
	g_autoptr(GBytes) m1 = g_bytes_new_static(rfc2231, sizeof rfc2231 - 1);
	g_autoptr(GBytes) m2 = g_bytes_new_static(rfc2047, sizeof rfc2047 - 1);

	assert_banned(m1, "Rechnung.pdf.EXE (double extension .pdf.exe)");
	/* the two names differ: both are checked */
	assert_banned(m2, "setup.scr (extension .scr)");
}
END_TEST

START_TEST(test_walk_zip_member)
{
	g_autoptr(GBytes) text = g_bytes_new_static("hello\n", 6);
	g_autoptr(GBytes) pe = vt_pe();
	VtZipEntry inner[] = {{"readme.txt", text, TRUE, FALSE},
			      {"docs/Run.SCR", text, TRUE, FALSE}};
	g_autoptr(GBytes) zip = vt_zip(inner, 2);
	g_autoptr(GBytes) msg = vt_msg_attachment("report.zip", "application/zip", zip);
	VtZipEntry clean_entries[] = {{"readme.txt", text, TRUE, FALSE}};
	g_autoptr(GBytes) clean_zip = vt_zip(clean_entries, 1);
	g_autoptr(GBytes) clean = vt_msg_attachment("report.zip", "application/zip", clean_zip);
	g_autoptr(MwVirusBanned) banned = new_banned(TRUE, 5);

	assert_banned(msg, "report.zip/docs/Run.SCR (extension .scr)");
	assert_clean(banned, clean);
	/* an executable renamed inside the archive is caught by its type */
	VtZipEntry renamed[] = {{"photo.jpg", pe, TRUE, FALSE}};
	g_autoptr(GBytes) zip2 = vt_zip(renamed, 1);
	g_autoptr(GBytes) msg2 = vt_msg_attachment("photos.zip", "application/zip", zip2);
	assert_banned(msg2, "photos.zip/photo.jpg (type application/");
}
END_TEST

START_TEST(test_walk_nested_zip)
{
	g_autoptr(GBytes) text = g_bytes_new_static("hello\n", 6);
	VtZipEntry level2[] = {{"evil.exe", text, TRUE, FALSE}};
	g_autoptr(GBytes) zip2 = vt_zip(level2, 1);
	VtZipEntry level1[] = {{"a.txt", text, FALSE, FALSE}, {"inner.zip", zip2, TRUE, FALSE}};
	g_autoptr(GBytes) zip1 = vt_zip(level1, 2);
	g_autoptr(GBytes) msg = vt_msg_attachment("outer.zip", "application/zip", zip1);

	assert_banned(msg, "outer.zip/inner.zip/evil.exe (extension .exe)");

	/* max_recursion bounds the descent: with depth 1 the inner archive is not opened */
	g_autoptr(MwVirusBanned) shallow = new_banned(TRUE, 1);
	assert_clean(shallow, msg);
}
END_TEST

START_TEST(test_walk_renamed_executable)
{
	g_autoptr(GBytes) pe = vt_pe();
	g_autoptr(GBytes) msg = vt_msg_attachment("readme.txt", "text/plain", pe);
	g_autoptr(GBytes) pe_declared = g_bytes_new_static("just text\n", 10);
	g_autoptr(GBytes) msg2 =
		vt_msg_attachment("tool.dat", "application/x-msdownload", pe_declared);

	assert_banned(msg, "readme.txt (type application/");
	assert_banned(msg2, "tool.dat (declared type application/x-msdownload)");

	/* without banned_types the renamed executable passes */
	g_autoptr(MwVirusBanned) names_only =
		mw_virus_banned_new(test_extensions, NULL, FALSE, 5, 100, 1 << 20, NULL);
	assert_clean(names_only, msg);
}
END_TEST

START_TEST(test_walk_body_not_typed)
{
	/* a single-part text body whose bytes look like an executable: not a file */
	g_autoptr(GBytes) pe = vt_pe();
	g_autofree char *b64 = g_base64_encode(g_bytes_get_data(pe, NULL), g_bytes_get_size(pe));
	g_autofree char *text =
		g_strdup_printf("From: <a@example.org>\r\nTo: <b@example.org>\r\nSubject: body\r\n"
				"MIME-Version: 1.0\r\nContent-Type: text/plain\r\n"
				"Content-Transfer-Encoding: base64\r\n\r\n%s\r\n",
				b64);
	g_autoptr(GBytes) msg = g_bytes_new(text, strlen(text));
	g_autoptr(MwVirusBanned) banned = new_banned(TRUE, 5);

	assert_clean(banned, msg);
}
END_TEST

START_TEST(test_walk_nested_message)
{
	g_autoptr(GBytes) data = g_bytes_new_static("hello\n", 6);
	g_autoptr(GBytes) inner = vt_msg_attachment("setup.bat", "application/octet-stream", data);
	g_autoptr(GBytes) outer = vt_msg_nested(inner);
	g_autoptr(GBytes) twice = vt_msg_nested(outer);

	assert_banned(outer, "setup.bat (extension .bat)");
	assert_banned(twice, "setup.bat (extension .bat)");
	/* depth 1: the message inside the message inside the message is not reached */
	g_autoptr(MwVirusBanned) shallow = new_banned(TRUE, 1);
	assert_clean(shallow, twice);
}
END_TEST

START_TEST(test_walk_uuencoded)
{
	g_autoptr(GBytes) msg = vt_msg_plain("uu", "see below\n\nbegin 644 Tool.EXE\n"
						   "#2&5L;&\\*\n`\nend\n");
	g_autoptr(GBytes) fine = vt_msg_plain("uu", "begin 644 notes.txt\n#2&5L;&\\*\n`\nend\n");
	g_autoptr(MwVirusBanned) banned = new_banned(TRUE, 5);

	assert_banned(msg, "Tool.EXE (extension .exe)");
	assert_clean(banned, fine);
}
END_TEST

START_TEST(test_walk_encrypted_zip)
{
	g_autoptr(GBytes) data = vt_payload(3);
	VtZipEntry entries[] = {{"contract.doc", data, TRUE, TRUE}};
	g_autoptr(GBytes) zip = vt_zip(entries, 1);
	g_autoptr(GBytes) msg = vt_msg_attachment("contract.zip", "application/zip", zip);
	g_autoptr(MwVirusBanned) block = new_banned(TRUE, 5);
	g_autoptr(MwVirusBanned) pass = new_banned(FALSE, 5);
	const char *kind = NULL;
	g_autofree char *hit = check_msg(block, msg, &kind);

	ck_assert_msg(hit != NULL && strstr(hit, "contract.zip/contract.doc (encrypted)") != NULL,
		      "%s", hit != NULL ? hit : "(not found)");
	ck_assert_str_eq(kind, "encrypted");
	assert_clean(pass, msg);
	/* a banned name inside an encrypted archive is still visible */
	VtZipEntry exe[] = {{"payload.exe", data, TRUE, TRUE}};
	g_autoptr(GBytes) zip2 = vt_zip(exe, 1);
	g_autoptr(GBytes) msg2 = vt_msg_attachment("locked.zip", "application/zip", zip2);
	g_autofree char *hit2 = check_msg(pass, msg2, &kind);
	ck_assert_msg(hit2 != NULL && strstr(hit2, "locked.zip/payload.exe (extension .exe)"), "%s",
		      hit2 != NULL ? hit2 : "(not found)");
	ck_assert_str_eq(kind, "banned");
}
END_TEST

START_TEST(test_walk_leaves_tree_readable)
{
	/* other modules read the same cached tree afterwards: its streams must still work */
	g_autoptr(GBytes) pdf = vt_payload(4);
	g_autoptr(GBytes) msg = vt_msg_attachment("data.zip", "application/zip", pdf);
	g_autoptr(MwMessage) m =
		mw_message_new_from_bytes(g_bytes_get_data(msg, NULL), g_bytes_get_size(msg));
	GMimeMessage *mime = mw_message_get_mime(m, NULL);
	g_autoptr(MwVirusBanned) banned = new_banned(TRUE, 5);
	g_autofree char *hit = mw_virus_banned_check(banned, mime, NULL, NULL);
	ck_assert_ptr_null(hit);

	GMimeMultipart *mp = GMIME_MULTIPART(g_mime_message_get_mime_part(mime));
	GMimePart *part = GMIME_PART(g_mime_multipart_get_part(mp, 1));
	g_autoptr(GMimeStream) out = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(g_mime_part_get_content(part), out);
	GByteArray *bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out));
	ck_assert_uint_eq(bytes->len, g_bytes_get_size(pdf));
	ck_assert(memcmp(bytes->data, g_bytes_get_data(pdf, NULL), bytes->len) == 0);
}
END_TEST

static Suite *
banned_suite(void)
{
	Suite *suite = suite_create("virus-banned");
	TCase *names = tcase_create("names");
	TCase *zip = tcase_create("zip");
	TCase *walk = tcase_create("walk");

	tcase_add_loop_test(names, test_name_rules, 0, G_N_ELEMENTS(name_cases));
	tcase_add_test(names, test_extension_normalization);
	tcase_add_test(names, test_bad_config_entries);
	tcase_add_test(names, test_type_patterns);
	tcase_add_test(zip, test_zip_list_and_extract);
	tcase_add_test(zip, test_zip_prepended_data);
	tcase_add_test(zip, test_zip_without_directory);
	tcase_add_test(zip, test_zip_local_name_differs);
	tcase_add_test(zip, test_zip64_end_records);
	tcase_add_test(zip, test_zip_encrypted_member);
	tcase_add_test(zip, test_zip_hostile_input);
	tcase_set_timeout(zip, 60);
	tcase_add_test(walk, test_walk_attachment_names);
	tcase_add_test(walk, test_walk_encoded_names);
	tcase_add_test(walk, test_walk_zip_member);
	tcase_add_test(walk, test_walk_nested_zip);
	tcase_add_test(walk, test_walk_renamed_executable);
	tcase_add_test(walk, test_walk_body_not_typed);
	tcase_add_test(walk, test_walk_nested_message);
	tcase_add_test(walk, test_walk_uuencoded);
	tcase_add_test(walk, test_walk_encrypted_zip);
	tcase_add_test(walk, test_walk_leaves_tree_readable);
	suite_add_tcase(suite, names);
	suite_add_tcase(suite, zip);
	suite_add_tcase(suite, walk);
	return suite;
}

int
main(void)
{
	g_mime_init();
	SRunner *runner = srunner_create(banned_suite());
	srunner_run_all(runner, CK_ENV);
	int failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	g_mime_shutdown();
	return failed == 0 ? 0 : 1;
}
