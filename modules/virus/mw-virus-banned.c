/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-virus-banned - attachments banned by name or by detected type
 * SYNOPSIS
 *	mw_virus_banned_new, mw_virus_banned_free, mw_virus_banned_enabled,
 *	mw_virus_banned_load_magic, mw_virus_banned_check,
 *	mw_virus_banned_match_name, mw_virus_banned_match_type,
 *	mw_virus_banned_normalize_extension
 * DESCRIPTION
 *	amavis's "banned files": walks the MIME tree GMime parsed (multiparts,
 *	message/rfc822 parts at any depth up to max_recursion) and looks at
 *	every file it finds:
 *	- its names (Content-Disposition filename and Content-Type name, both
 *	  RFC 2047/2231-decoded by GMime, both checked when they differ; the
 *	  names of uuencoded files in text parts; the names of the members of
 *	  zip archives, nested zips included) against banned_extensions, case-
 *	  insensitively, on the last extension or the last several for entries
 *	  like "tar.gz", after removing what hides the real extension from a
 *	  reader (bidirectional and zero-width characters, trailing dots and
 *	  spaces that Windows drops, directories);
 *	- its declared type and its type as libmagic detects it from the
 *	  decoded bytes against banned_types, so an executable renamed to
 *	  .txt is still caught. Body text (a text part without a file name, not an
 *	  attachment) is not typed: nobody runs a message body.
 *
 *	This is done here rather than through libclamav's file-inspection
 *	callback because it must work the same with clamd, which reports no
 *	names; because GMime decodes the names the way mail readers show
 *	them; and because that libclamav interface is documented as unstable.
 *
 *	Only the first HEAD_BYTES of a file are decoded for the type check;
 *	a zip archive is decoded whole, up to max_file_size (a larger one is
 *	not looked into: the scanner's own limit is the same).
 *
 *	The libmagic cookie is opened once (in the master before the fork,
 *	or on first use) and used by one process at a time.
 * SEE ALSO
 *	mw-virus-zip.c, magic(3)
 */
#include <errno.h>
#include <string.h>

#include <magic.h>

#include "mw-error.h"
#include "mw-virus.h"

/* bytes decoded for the type check (libmagic looks at far less for executables); archive
 * members get less, since an archive may hold thousands of them */
#define HEAD_BYTES        (64 * 1024)
#define MEMBER_HEAD_BYTES (16 * 1024)
/* enough to tell an archive inside an archive */
#define MAGIC_BYTES 8

struct _MwVirusBanned {
	GPtrArray *extensions; /* normalized: lower case, no leading dot, "tar.gz" allowed */
	GPtrArray *types;      /* lower-case MIME types, glob patterns allowed */
	guint max_depth;
	guint max_files;
	guint64 max_file_size;
	gboolean block_encrypted;
	magic_t magic;
};

/* Walk - the state of one check */
typedef struct {
	MwVirusBanned *banned;
	guint files;
	char *found;      /* the first banned thing, described */
	const char *kind; /* "banned" or "encrypted" */
} Walk;

/**
 * mw_virus_banned_normalize_extension:
 * @extension: a banned_extensions entry: "exe", ".EXE", "*.exe", "tar.gz"
 *
 * Returns: (transfer full) (nullable): the lower-case form without leading
 * "*" or ".", or NULL when nothing usable is left or it contains a path
 * separator or a space
 */
char *
mw_virus_banned_normalize_extension(const char *extension)
{
	const char *p = extension;

	while (*p == '*' || *p == '.' || g_ascii_isspace(*p))
		p++;
	g_autofree char *text = g_utf8_strdown(p, -1);
	g_strchomp(text);
	if (*text == '\0' || strpbrk(text, "/\\ \t*?") != NULL || g_str_has_suffix(text, "."))
		return NULL;
	return g_steal_pointer(&text);
}

/**
 * mw_virus_banned_new:
 * @extensions: (nullable): banned_extensions as configured
 * @types: (nullable): banned_types as configured (MIME types, globs allowed)
 * @block_encrypted: report encrypted zip members (encrypted = block)
 * @max_depth: how deep to follow nested messages and archives
 * @max_files: stop after this many files in one message
 * @max_file_size: the largest archive looked into
 *
 * Returns: (transfer full) (nullable): the checker, NULL with MW_ERROR_CONFIG
 * naming the first entry that is not valid
 */
MwVirusBanned *
mw_virus_banned_new(const char *const *extensions, const char *const *types,
		    gboolean block_encrypted, guint max_depth, guint max_files,
		    guint64 max_file_size, GError **error)
{
	g_autoptr(MwVirusBanned) banned = g_new0(MwVirusBanned, 1);

	banned->extensions = g_ptr_array_new_with_free_func(g_free);
	banned->types = g_ptr_array_new_with_free_func(g_free);
	banned->max_depth = max_depth;
	banned->max_files = max_files;
	banned->max_file_size = max_file_size;
	banned->block_encrypted = block_encrypted;
	for (guint i = 0; extensions != NULL && extensions[i] != NULL; i++) {
		char *ext = mw_virus_banned_normalize_extension(extensions[i]);
		if (ext == NULL) {
			g_set_error(error, MW_ERROR, MW_ERROR_CONFIG,
				    "banned_extensions: '%s' is not an extension", extensions[i]);
			return NULL;
		}
		g_ptr_array_add(banned->extensions, ext);
	}
	for (guint i = 0; types != NULL && types[i] != NULL; i++) {
		const char *slash = strchr(types[i], '/');
		if (slash == NULL || slash == types[i] || slash[1] == '\0' ||
		    strpbrk(types[i], " \t;") != NULL) {
			g_set_error(
				error, MW_ERROR, MW_ERROR_CONFIG,
				"banned_types: '%s' is not a MIME type (type/subtype, * allowed)",
				types[i]);
			return NULL;
		}
		g_ptr_array_add(banned->types, g_ascii_strdown(types[i], -1));
	}
	return g_steal_pointer(&banned);
}

void
mw_virus_banned_free(MwVirusBanned *banned)
{
	if (banned == NULL)
		return;
	g_ptr_array_unref(banned->extensions);
	g_ptr_array_unref(banned->types);
	if (banned->magic != NULL)
		magic_close(banned->magic);
	g_free(banned);
}

/* mw_virus_banned_enabled - anything to check at all (else the MIME tree is never parsed) */
gboolean
mw_virus_banned_enabled(const MwVirusBanned *banned)
{
	return banned != NULL &&
	       (banned->extensions->len > 0 || banned->types->len > 0 || banned->block_encrypted);
}

/**
 * mw_virus_banned_load_magic:
 *
 * Opens libmagic with the system database (once; later calls do nothing).
 * Without banned_types nothing is opened.
 *
 * Returns: FALSE with MW_ERROR_CONFIG when the magic database cannot be loaded
 */
gboolean
mw_virus_banned_load_magic(MwVirusBanned *banned, GError **error)
{
	if (banned->magic != NULL || banned->types->len == 0)
		return TRUE;
	/* only the MIME type; skip the checks that cost time and never name an executable */
	int flags = MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_NO_CHECK_TAR |
		    MAGIC_NO_CHECK_ELF | MAGIC_NO_CHECK_CSV | MAGIC_NO_CHECK_TOKENS |
		    MAGIC_NO_CHECK_JSON | MAGIC_NO_CHECK_ENCODING;
	magic_t magic = magic_open(flags);
	if (magic == NULL) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "libmagic: cannot open: %s",
			    g_strerror(errno));
		return FALSE;
	}
	if (magic_load(magic, NULL) != 0) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG,
			    "libmagic: cannot load the magic database: %s",
			    magic_error(magic) != NULL ? magic_error(magic) : "unknown error");
		magic_close(magic);
		return FALSE;
	}
	banned->magic = magic;
	return TRUE;
}

/* is_hidden_char - a format character that changes how a name reads, not what it is:
 * bidirectional overrides and isolates (the "RTLO" trick), zero-width characters, BOM */
static gboolean
is_hidden_char(gunichar c)
{
	return (c >= 0x200b && c <= 0x200f) || (c >= 0x202a && c <= 0x202e) ||
	       (c >= 0x2066 && c <= 0x2069) || c == 0xfeff || c == 0x00ad || c < 0x20;
}

/* clean_name - the name as the receiving system will treat it: lower case, hidden
 * characters removed, no directory, no trailing dots or spaces */
static char *
clean_name(const char *name)
{
	g_autofree char *valid = g_utf8_make_valid(name, -1);
	g_autofree char *lower = g_utf8_strdown(valid, -1);
	GString *out = g_string_sized_new(strlen(lower));

	for (const char *p = lower; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		if (c == '/' || c == '\\')
			g_string_truncate(out, 0);
		else if (!is_hidden_char(c))
			g_string_append_unichar(out, c);
	}
	while (out->len > 0 && (out->str[out->len - 1] == '.' || out->str[out->len - 1] == ' ' ||
				g_ascii_isspace(out->str[out->len - 1])))
		g_string_truncate(out, out->len - 1);
	return g_string_free(out, FALSE);
}

/**
 * mw_virus_banned_match_name:
 * @name: a file name as found in the message or an archive
 *
 * Returns: (transfer full) (nullable): "NAME (extension .exe)" or "NAME
 * (double extension .pdf.exe)" when the name ends in a banned extension,
 * else NULL
 */
char *
mw_virus_banned_match_name(const MwVirusBanned *banned, const char *name)
{
	if (name == NULL || banned->extensions->len == 0)
		return NULL;
	g_autofree char *clean = clean_name(name);
	g_auto(GStrv) parts = g_strsplit(clean, ".", -1);
	guint n = g_strv_length(parts);
	if (n < 2)
		return NULL;
	for (guint i = 0; i < n; i++)
		g_strstrip(parts[i]);
	for (guint e = 0; e < banned->extensions->len; e++) {
		const char *ext = g_ptr_array_index(banned->extensions, e);
		guint k = 1;
		for (const char *p = ext; *p != '\0'; p++)
			k += *p == '.';
		if (k > n - 1)
			continue;
		g_autofree char *tail = g_strjoinv(".", parts + (n - k));
		if (strcmp(tail, ext) != 0)
			continue;
		/* a decoy extension before the real one: invoice.pdf.exe */
		if (n - 1 > k && *parts[0] != '\0') {
			g_autofree char *shown = g_strjoinv(".", parts + (n - k - 1));
			return g_strdup_printf("%s (double extension .%s)", name, shown);
		}
		return g_strdup_printf("%s (extension .%s)", name, ext);
	}
	return NULL;
}

/**
 * mw_virus_banned_match_type:
 * @mime_type: a MIME type ("application/x-dosexec"), any case
 *
 * Returns: (transfer full) (nullable): the banned_types entry it matches, or NULL
 */
char *
mw_virus_banned_match_type(const MwVirusBanned *banned, const char *mime_type)
{
	if (mime_type == NULL)
		return NULL;
	g_autofree char *lower = g_ascii_strdown(mime_type, -1);
	for (guint i = 0; i < banned->types->len; i++) {
		const char *pattern = g_ptr_array_index(banned->types, i);
		if (g_pattern_match_simple(pattern, lower))
			return g_strdup(pattern);
	}
	return NULL;
}

/* found - record the first finding */
static void
found(Walk *walk, const char *kind, char *what)
{
	if (walk->found == NULL) {
		walk->found = what;
		walk->kind = kind;
	} else {
		g_free(what);
	}
}

/* check_name - @name against banned_extensions; @where prefixes an archive path */
static void
check_name(Walk *walk, const char *where, const char *name)
{
	if (walk->found != NULL || name == NULL || *name == '\0')
		return;
	g_autofree char *full =
		where != NULL ? g_strconcat(where, "/", name, NULL) : g_strdup(name);
	char *hit = mw_virus_banned_match_name(walk->banned, full);
	if (hit != NULL)
		found(walk, "banned", hit);
}

/* check_bytes_type - what libmagic says about @data against banned_types */
static void
check_bytes_type(Walk *walk, const char *where, const char *name, const guint8 *data, gsize len)
{
	MwVirusBanned *banned = walk->banned;

	if (walk->found != NULL || banned->types->len == 0 || len == 0)
		return;
	if (banned->magic == NULL && !mw_virus_banned_load_magic(banned, NULL))
		return;
	const char *type = magic_buffer(banned->magic, data, len);
	g_autofree char *hit = mw_virus_banned_match_type(banned, type);
	if (hit == NULL)
		return;
	g_autofree char *full = where != NULL && name != NULL
					? g_strconcat(where, "/", name, NULL)
					: g_strdup(name != NULL ? name : where);
	found(walk, "banned",
	      g_strdup_printf("%s (type %s)", full != NULL ? full : "unnamed part", type));
}

/* looks_like_zip - worth listing as an archive */
static gboolean
looks_like_zip(const guint8 *data, gsize len)
{
	return mw_virus_zip_is_zip(data, len);
}

/* walk_zip - the members of an archive: names, types, archives inside */
static void
walk_zip(Walk *walk, const char *where, const guint8 *data, gsize len, guint depth)
{
	MwVirusBanned *banned = walk->banned;

	if (depth > banned->max_depth || walk->files >= banned->max_files)
		return;
	g_autoptr(GPtrArray) entries =
		mw_virus_zip_list(data, len, banned->max_files - walk->files);
	for (guint i = 0; i < entries->len && walk->found == NULL; i++) {
		const MwVirusZipEntry *entry = g_ptr_array_index(entries, i);

		if (++walk->files > banned->max_files)
			return;
		if (g_str_has_suffix(entry->name, "/"))
			continue; /* a directory */
		check_name(walk, where, entry->name);
		if (walk->found == NULL && entry->encrypted && banned->block_encrypted)
			found(walk, "encrypted",
			      g_strdup_printf("%s/%s (encrypted)", where, entry->name));
		if (walk->found != NULL)
			return;
		gsize want = banned->types->len > 0 ? MEMBER_HEAD_BYTES : MAGIC_BYTES;
		g_autoptr(GBytes) head = mw_virus_zip_extract(data, len, entry, want);
		if (head == NULL)
			continue;
		gsize head_len;
		const guint8 *head_data = g_bytes_get_data(head, &head_len);
		check_bytes_type(walk, where, entry->name, head_data, head_len);
		if (walk->found == NULL && looks_like_zip(head_data, head_len) &&
		    depth < banned->max_depth) {
			g_autoptr(GBytes) whole = mw_virus_zip_extract(
				data, len, entry, (gsize) banned->max_file_size);
			gsize whole_len;
			const guint8 *whole_data = g_bytes_get_data(whole, &whole_len);
			g_autofree char *inner = g_strconcat(where, "/", entry->name, NULL);
			walk_zip(walk, inner, whole_data, whole_len, depth + 1);
		}
	}
}

/* read_decoded - the decoded content of @part, at most @max bytes */
static GByteArray *
read_decoded(GMimePart *part, gsize max)
{
	GMimeDataWrapper *content = g_mime_part_get_content(part);
	if (content == NULL)
		return NULL;
	GMimeStream *raw = g_mime_data_wrapper_get_stream(content);
	if (raw == NULL)
		return NULL;
	GMimeContentEncoding encoding = g_mime_data_wrapper_get_encoding(content);
	g_mime_stream_reset(raw);
	g_autoptr(GMimeStream) stream = g_mime_stream_filter_new(raw);
	if (encoding == GMIME_CONTENT_ENCODING_BASE64 ||
	    encoding == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
	    encoding == GMIME_CONTENT_ENCODING_UUENCODE) {
		g_autoptr(GMimeFilter) filter = g_mime_filter_basic_new(encoding, FALSE);
		g_mime_stream_filter_add(GMIME_STREAM_FILTER(stream), filter);
	}
	GByteArray *out = g_byte_array_new();
	char buf[16384];
	while (out->len < max) {
		gssize n = g_mime_stream_read(stream, buf, MIN(sizeof buf, max - out->len));
		if (n <= 0)
			break;
		g_byte_array_append(out, (const guint8 *) buf, (guint) n);
	}
	/* the tree is shared with other modules: leave its stream where GMime expects it */
	g_mime_stream_reset(raw);
	return out;
}

/* check_uuencoded - "begin 644 name" lines in a text part name a file too */
static void
check_uuencoded(Walk *walk, const guint8 *data, gsize len)
{
	const char *p = (const char *) data;
	const char *end = p + len;

	while (p < end && walk->found == NULL) {
		const char *eol = memchr(p, '\n', (gsize) (end - p));
		const char *line_end = eol != NULL ? eol : end;
		gsize line_len = (gsize) (line_end - p);
		if (line_len > 10 && strncmp(p, "begin ", 6) == 0 && g_ascii_isdigit(p[6])) {
			const char *name = p + 6;
			while (name < line_end && g_ascii_isdigit(*name))
				name++;
			if (name < line_end && *name == ' ') {
				g_autofree char *text =
					g_strndup(name + 1, (gsize) (line_end - name - 1));
				g_strchomp(text);
				check_name(walk, NULL, text);
			}
		}
		p = eol != NULL ? eol + 1 : end;
	}
}

/* walk_part - one leaf of the MIME tree */
static void
walk_part(Walk *walk, GMimePart *part)
{
	MwVirusBanned *banned = walk->banned;
	GMimeObject *object = GMIME_OBJECT(part);
	GMimeContentType *ct = g_mime_object_get_content_type(object);
	const char *filename = g_mime_part_get_filename(part);
	const char *type_name = ct != NULL ? g_mime_content_type_get_parameter(ct, "name") : NULL;
	GMimeContentDisposition *disposition = g_mime_object_get_content_disposition(object);
	gboolean attachment =
		disposition != NULL && g_mime_content_disposition_is_attachment(disposition);
	gboolean text = ct != NULL && g_mime_content_type_is_type(ct, "text", "*");

	if (++walk->files > banned->max_files)
		return;
	check_name(walk, NULL, filename);
	if (type_name != NULL && g_strcmp0(type_name, filename) != 0)
		check_name(walk, NULL, type_name);
	const char *shown = filename != NULL ? filename : type_name;
	if (walk->found == NULL && banned->types->len > 0 && ct != NULL) {
		g_autofree char *declared = g_mime_content_type_get_mime_type(ct);
		g_autofree char *hit = mw_virus_banned_match_type(banned, declared);
		if (hit != NULL)
			found(walk, "banned",
			      g_strdup_printf("%s (declared type %s)",
					      shown != NULL ? shown : "unnamed part", declared));
	}
	if (walk->found != NULL)
		return;

	/* body text is not a file: no type check, but uuencoded files in it have names */
	gboolean body_text = text && shown == NULL && !attachment;
	gboolean want_type = banned->types->len > 0 && !body_text;
	gboolean want_uu = banned->extensions->len > 0 && text;
	gboolean want_zip = !text;
	if (!want_type && !want_uu && !want_zip)
		return;
	g_autoptr(GByteArray) head = read_decoded(part, HEAD_BYTES);
	if (head == NULL || head->len == 0)
		return;
	if (want_uu)
		check_uuencoded(walk, head->data, head->len);
	if (want_type)
		check_bytes_type(walk, NULL, shown != NULL ? shown : "unnamed part", head->data,
				 head->len);
	if (walk->found == NULL && want_zip && looks_like_zip(head->data, head->len)) {
		g_autoptr(GByteArray) whole = read_decoded(part, (gsize) banned->max_file_size);
		if (whole != NULL)
			walk_zip(walk, shown != NULL ? shown : "unnamed.zip", whole->data,
				 whole->len, 1);
	}
}

/* walk_object - any node of the tree; @depth counts nested messages */
static void
walk_object(Walk *walk, GMimeObject *object, guint depth)
{
	if (object == NULL || walk->found != NULL || depth > walk->banned->max_depth)
		return;
	if (GMIME_IS_MULTIPART(object)) {
		GMimeMultipart *multipart = GMIME_MULTIPART(object);
		int n = g_mime_multipart_get_count(multipart);
		for (int i = 0; i < n && walk->found == NULL; i++)
			walk_object(walk, g_mime_multipart_get_part(multipart, i), depth);
	} else if (GMIME_IS_MESSAGE_PART(object)) {
		GMimeContentDisposition *disposition =
			g_mime_object_get_content_disposition(object);
		const char *name =
			disposition != NULL
				? g_mime_content_disposition_get_parameter(disposition, "filename")
				: NULL;
		check_name(walk, NULL, name);
		GMimeMessage *inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(object));
		if (inner != NULL)
			walk_object(walk, g_mime_message_get_mime_part(inner), depth + 1);
	} else if (GMIME_IS_PART(object)) {
		walk_part(walk, GMIME_PART(object));
	}
}

/**
 * mw_virus_banned_check:
 * @mime: the parsed message (read only; its streams are left rewound)
 *
 * @kind_out: (out) (optional): "banned", or "encrypted" for an encrypted zip member
 *
 * Returns: (transfer full) (nullable): a description of the first banned file
 * ("invoice.pdf.exe (double extension .pdf.exe)", "docs.zip/run.scr
 * (extension .scr)", "readme.txt (type application/x-dosexec)",
 * "docs.zip/a.doc (encrypted)"), or NULL when nothing is banned. @error is
 * never set today (a file that cannot be decoded is skipped: the scanner
 * still sees its bytes).
 */
char *
mw_virus_banned_check(MwVirusBanned *banned, GMimeMessage *mime, const char **kind_out,
		      GError **error)
{
	Walk walk = {banned, 0, NULL, NULL};

	if (kind_out != NULL)
		*kind_out = NULL;
	if (!mw_virus_banned_enabled(banned) || mime == NULL)
		return NULL;
	walk_object(&walk, g_mime_message_get_mime_part(mime), 0);
	if (kind_out != NULL)
		*kind_out = walk.kind;
	return walk.found;
}
