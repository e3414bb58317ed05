/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-gpg-mime - turn one delivery into an RFC 3156 PGP/MIME message
 * SYNOPSIS
 *	mw_gpg_encrypt_delivery
 * DESCRIPTION
 *	Works on the bytes, not on a re-serialized tree, so that what the
 *	recipient decrypts is the original entity byte for byte (a signature
 *	inside stays valid, an odd encoding is not "repaired"):
 *
 *	  inner entity (encrypted) = the protected header fields (From, To,
 *	    Cc, Subject, Date, raw) + every Content-* field (raw, in order;
 *	    Content-Type gets protected-headers="v1", or is added as the
 *	    default text/plain with it) + the blank line + the original body,
 *	    untouched;
 *	  outer message = every other header field (trace fields, Message-ID,
 *	    References, From, To, ... in their order, line ends made CRLF) +
 *	    MIME-Version + Content-Type: multipart/encrypted;
 *	    protocol="application/pgp-encrypted" + a preamble, the
 *	    application/pgp-encrypted "Version: 1" part and the
 *	    application/octet-stream part with the ASCII-armored ciphertext.
 *
 *	Header lines that are not header fields (GMime skips them) go into
 *	the inner entity after the real fields, so nothing is lost.
 *
 *	Memory stays bounded: gpg reads the inner entity through GPGME read
 *	callbacks straight from the message (memory or spool file) and writes
 *	the ciphertext through a callback into an unlinked temporary file that
 *	already holds the outer header; GMime then parses that file lazily and
 *	the delivery's new tree reads its content from it. The armor's line
 *	ends are made CRLF on the way, like the rest of the file: GMime
 *	assumes one line-end convention per message.
 *
 *	With a lock path, the gpg run holds an flock() on it: gpg rewrites the
 *	keyring's random_seed under an fcntl lock and a gpg that finds it taken
 *	sleeps with a growing back-off (0.25 s, 1.25 s, 2.25 s ...), so workers
 *	encrypting at once can starve each other past the message timeout.
 *	flock() waiters wake as soon as the holder is done.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "mw-error.h"
#include "mw-gpg.h"

/* a header block larger than this is not mail (Postfix's header_size_limit is 100 KiB) */

#define PREAMBLE "This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)"

typedef enum {
	FIELD_OUTER = 0, /* stays on the outer message only */
	FIELD_PROTECTED, /* on both: outer for routing and threading, inner as protected header */
	FIELD_CONTENT,   /* Content-*: inner only */
	FIELD_JUNK,      /* not a header field: inner only */
	FIELD_MIME_VERSION,
} FieldKind;

typedef struct {
	gsize start; /* offset of the first byte in the header block */
	gsize end;   /* offset after the last byte (after its line end) */
	FieldKind kind;
} Field;

/* the header block of the message being encrypted */
typedef struct {
	GByteArray *bytes;  /* at least the header block and the blank line */
	gsize header_len;   /* bytes of header fields, before the blank line */
	gsize body_offset;  /* where the body starts in the message */
	GArray *fields;     /* Field */
	gboolean has_blank; /* FALSE: the message ends inside its header */
} Head;

static void
head_clear(Head *head)
{
	g_clear_pointer(&head->bytes, g_byte_array_unref);
	g_clear_pointer(&head->fields, g_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Head, head_clear)

/* name_kind - classify a header field by its name (@name_len bytes) */
static FieldKind
name_kind(const char *name, gsize name_len)
{
	static const char *const protected_names[] = {"From", "To", "Cc", "Subject", "Date"};
	for (guint i = 0; i < G_N_ELEMENTS(protected_names); i++) {
		if (name_len == strlen(protected_names[i]) &&
		    g_ascii_strncasecmp(name, protected_names[i], name_len) == 0)
			return FIELD_PROTECTED;
	}
	if (name_len > 8 && g_ascii_strncasecmp(name, "Content-", 8) == 0)
		return FIELD_CONTENT;
	if (name_len == 12 && g_ascii_strncasecmp(name, "MIME-Version", 12) == 0)
		return FIELD_MIME_VERSION;
	return FIELD_OUTER;
}

/* line_kind - the kind of the field a line starts, FIELD_JUNK when it starts none:
 * a field name is printable ASCII without ':', then optional blanks, then ':' */
static FieldKind
line_kind(const char *line, gsize len)
{
	gsize i = 0;
	while (i < len && line[i] > 32 && line[i] < 127 && line[i] != ':')
		i++;
	gsize name_len = i;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (name_len == 0 || i >= len || line[i] != ':')
		return FIELD_JUNK;
	return name_kind(line, name_len);
}

/* parse_fields - split head->bytes[0, header_len) into fields */
static void
parse_fields(Head *head)
{
	const char *data = (const char *) head->bytes->data;
	gsize pos = 0;

	head->fields = g_array_new(FALSE, FALSE, sizeof(Field));
	while (pos < head->header_len) {
		const char *nl = memchr(data + pos, '\n', head->header_len - pos);
		gsize end = nl != NULL ? (gsize) (nl - data) + 1 : head->header_len;
		gboolean continuation = data[pos] == ' ' || data[pos] == '\t';
		if (continuation && head->fields->len > 0) {
			Field *last = &g_array_index(head->fields, Field, head->fields->len - 1);
			if (last->kind != FIELD_JUNK) {
				last->end = end;
				pos = end;
				continue;
			}
		}
		Field field = {pos, end,
			       continuation ? FIELD_JUNK : line_kind(data + pos, end - pos)};
		g_array_append_val(head->fields, field);
		pos = end;
	}
}

/*
 * find_blank_line - offset of the blank line ending the header block in
 * @data[0, len), or -1 while none is there yet; *@blank_len_out is its length
 * ("\n" or "\r\n"). Called again as @data grows, it goes on where it stopped:
 * *@line is the start of the line being read, *@scan where the search for its
 * end continues (both 0 at first), so a header of any size is read once.
 */
static gssize
find_blank_line(const guint8 *data, gsize len, gsize *line, gsize *scan, gsize *blank_len_out)
{
	while (*line < len) {
		gsize pos = *line;
		if (*scan == pos) {
			if (data[pos] == '\n') {
				*blank_len_out = 1;
				return (gssize) pos;
			}
			if (data[pos] == '\r') {
				if (pos + 1 >= len)
					return -1; /* is it "\r\n"? the next read tells */
				if (data[pos + 1] == '\n') {
					*blank_len_out = 2;
					return (gssize) pos;
				}
			}
		}
		const guint8 *nl = memchr(data + *scan, '\n', len - *scan);
		if (nl == NULL) {
			*scan = len;
			return -1;
		}
		*line = *scan = (gsize) (nl - data) + 1;
	}
	return -1;
}

/* read_head - read the header block of @msg into @head */
static gboolean
read_head(MwMessage *msg, Head *head, GError **error)
{
	guint64 size = mw_message_get_size(msg);
	guint8 chunk[16384];

	head->bytes = g_byte_array_new();
	gsize line = 0, scan = 0;
	for (;;) {
		gsize blank_len = 0;
		gssize blank = find_blank_line(head->bytes->data, head->bytes->len, &line, &scan,
					       &blank_len);
		if (blank >= 0) {
			head->header_len = (gsize) blank;
			head->body_offset = (gsize) blank + blank_len;
			head->has_blank = TRUE;
			break;
		}
		if (head->bytes->len >= size) {
			/* no body: the whole message is header */
			head->header_len = head->bytes->len;
			head->body_offset = head->bytes->len;
			break;
		}
		gssize n = mw_message_read(msg, head->bytes->len, chunk, sizeof chunk, error);
		if (n < 0)
			return FALSE;
		if (n == 0) {
			size = head->bytes->len;
			continue;
		}
		g_byte_array_append(head->bytes, chunk, (guint) n);
	}
	parse_fields(head);
	return TRUE;
}

/* append_field_raw - the field as it is, with a line end added when the message ended in it */
static void
append_field_raw(GByteArray *out, const Head *head, const Field *field)
{
	g_byte_array_append(out, head->bytes->data + field->start,
			    (guint) (field->end - field->start));
	if (head->bytes->data[field->end - 1] != '\n')
		g_byte_array_append(out, (const guint8 *) "\r\n", 2);
}

/* append_field_crlf - the field with every line end made CRLF */
static void
append_field_crlf(GByteArray *out, const Head *head, const Field *field)
{
	const guint8 *p = head->bytes->data + field->start;
	const guint8 *end = head->bytes->data + field->end;
	while (p < end) {
		const guint8 *nl = memchr(p, '\n', (gsize) (end - p));
		const guint8 *line_end = nl != NULL ? nl : end;
		const guint8 *text_end = line_end;
		if (text_end > p && text_end[-1] == '\r')
			text_end--;
		g_byte_array_append(out, p, (guint) (text_end - p));
		g_byte_array_append(out, (const guint8 *) "\r\n", 2);
		p = nl != NULL ? nl + 1 : end;
	}
}

/* is_content_type - whether @field is the Content-Type field */
static gboolean
is_content_type(const Head *head, const Field *field)
{
	const char *p = (const char *) head->bytes->data + field->start;
	gsize len = field->end - field->start;
	if (len < 13 || g_ascii_strncasecmp(p, "Content-Type", 12) != 0)
		return FALSE;
	for (gsize i = 12; i < len && p[i] != ':'; i++)
		if (p[i] != ' ' && p[i] != '\t')
			return FALSE;
	return TRUE;
}

/*
 * append_content_type_protected - the Content-Type field with the parameter
 * protected-headers="v1" (draft-autocrypt-lamps-protected-headers): it tells
 * the mail reader that the fields in front of it are the real ones
 */
static void
append_content_type_protected(GByteArray *out, const Head *head, const Field *field)
{
	const guint8 *p = head->bytes->data + field->start;
	gsize len = field->end - field->start;
	gsize eol = 0;
	if (len > 0 && p[len - 1] == '\n')
		eol = len > 1 && p[len - 2] == '\r' ? 2 : 1;
	g_byte_array_append(out, p, (guint) (len - eol));
	static const char param[] = "; protected-headers=\"v1\"";
	g_byte_array_append(out, (const guint8 *) param, sizeof param - 1);
	if (eol > 0)
		g_byte_array_append(out, p + len - eol, (guint) eol);
	else
		g_byte_array_append(out, (const guint8 *) "\r\n", 2);
}

/*
 * build_inner_prefix - protected fields, Content-* fields (Content-Type marked
 * protected-headers="v1", or added as the default text/plain so marked), junk
 * lines, then the blank line
 */
static GByteArray *
build_inner_prefix(const Head *head)
{
	static const FieldKind order[] = {FIELD_PROTECTED, FIELD_CONTENT, FIELD_JUNK};
	GByteArray *out = g_byte_array_new();
	gboolean marked = FALSE;

	for (guint k = 0; k < G_N_ELEMENTS(order); k++) {
		for (guint i = 0; i < head->fields->len; i++) {
			const Field *field = &g_array_index(head->fields, Field, i);
			if (field->kind != order[k])
				continue;
			if (!marked && field->kind == FIELD_CONTENT &&
			    is_content_type(head, field)) {
				append_content_type_protected(out, head, field);
				marked = TRUE;
			} else {
				append_field_raw(out, head, field);
			}
		}
		if (order[k] == FIELD_CONTENT && !marked) {
			/* with the message's own line end: the inner entity keeps them */
			static const char def[] = "Content-Type: text/plain; charset=us-ascii; "
						  "protected-headers=\"v1\"";
			gboolean lf =
				head->has_blank && head->bytes->data[head->header_len] == '\n';
			g_byte_array_append(out, (const guint8 *) def, sizeof def - 1);
			g_byte_array_append(out, (const guint8 *) (lf ? "\n" : "\r\n"), lf ? 1 : 2);
			marked = TRUE;
		}
	}
	if (head->has_blank)
		g_byte_array_append(out, head->bytes->data + head->header_len,
				    (guint) (head->body_offset - head->header_len));
	else
		g_byte_array_append(out, (const guint8 *) "\r\n", 2);
	return out;
}

/* build_outer_head - the outer header and the parts up to where the armor goes */
static GByteArray *
build_outer_head(const Head *head, const char *boundary)
{
	GByteArray *out = g_byte_array_new();
	gboolean has_mime_version = FALSE;

	for (guint i = 0; i < head->fields->len; i++) {
		const Field *field = &g_array_index(head->fields, Field, i);
		if (field->kind == FIELD_OUTER || field->kind == FIELD_PROTECTED ||
		    field->kind == FIELD_MIME_VERSION)
			append_field_crlf(out, head, field);
		has_mime_version |= field->kind == FIELD_MIME_VERSION;
	}
	g_autofree char *text = g_strdup_printf(
		"%s"
		"Content-Type: multipart/encrypted;\r\n"
		"\tprotocol=\"application/pgp-encrypted\";\r\n"
		"\tboundary=\"%s\"\r\n"
		"\r\n" PREAMBLE "\r\n"
		"--%s\r\n"
		"Content-Type: application/pgp-encrypted\r\n"
		"Content-Description: PGP/MIME version identification\r\n"
		"\r\n"
		"Version: 1\r\n"
		"\r\n"
		"--%s\r\n"
		"Content-Type: application/octet-stream; name=\"encrypted.asc\"\r\n"
		"Content-Description: OpenPGP encrypted message\r\n"
		"Content-Disposition: inline; filename=\"encrypted.asc\"\r\n"
		"\r\n",
		has_mime_version ? "" : "MIME-Version: 1.0\r\n", boundary, boundary, boundary);
	g_byte_array_append(out, (const guint8 *) text, (guint) strlen(text));
	return out;
}

/* --- GPGME data callbacks --------------------------------------------- */

/* the inner entity as gpg reads it: the prefix, then the body from the message */
typedef struct {
	const GByteArray *prefix;
	gsize prefix_pos;
	MwMessage *msg;
	guint64 offset;
} PlainSource;

static ssize_t
plain_read(void *handle, void *buffer, size_t size)
{
	PlainSource *source = handle;
	if (source->prefix_pos < source->prefix->len) {
		gsize n = MIN(size, source->prefix->len - source->prefix_pos);
		memcpy(buffer, source->prefix->data + source->prefix_pos, n);
		source->prefix_pos += n;
		return (ssize_t) n;
	}
	gssize n = mw_message_read(source->msg, source->offset, buffer, size, NULL);
	if (n < 0) {
		errno = EIO;
		return -1;
	}
	source->offset += (guint64) n;
	return n;
}

/* the ciphertext as gpg writes it: into the file, LF made CRLF */
typedef struct {
	int fd;
	gboolean last_cr;
	guint64 written; /* bytes gpg wrote */
	char start[28];  /* its first bytes, to check that they are armor */
} CipherSink;

/* write_all - write everything, retrying short writes; errno set on failure */
static gboolean
write_all(int fd, const void *data, gsize len)
{
	const guint8 *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return FALSE;
		p += n;
		len -= (gsize) n;
	}
	return TRUE;
}

static ssize_t
cipher_write(void *handle, const void *buffer, size_t size)
{
	CipherSink *sink = handle;
	const guint8 *in = buffer;
	guint8 out[8192];
	gsize n = 0;

	for (gsize i = 0; i < size && sink->written + i < sizeof sink->start - 1; i++)
		sink->start[sink->written + i] = (char) in[i];
	sink->written += size;

	for (gsize i = 0; i < size; i++) {
		if (n + 2 > sizeof out) {
			if (!write_all(sink->fd, out, n))
				return -1;
			n = 0;
		}
		if (in[i] == '\n' && !sink->last_cr)
			out[n++] = '\r';
		out[n++] = in[i];
		sink->last_cr = in[i] == '\r';
	}
	if (!write_all(sink->fd, out, n))
		return -1;
	return (ssize_t) size;
}

/* --- the temporary file ----------------------------------------------- */

/* tmpfile_open - an unlinked file in @dir (or the system's temp dir) */
static int
tmpfile_open(const char *dir, GError **error)
{
	if (dir == NULL || !g_file_test(dir, G_FILE_TEST_IS_DIR))
		dir = g_get_tmp_dir();
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	g_autofree char *tmpl = g_build_filename(dir, "mw-gpg-XXXXXX", NULL);
	fd = g_mkstemp_full(tmpl, O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0) {
		g_set_error(error, MW_ERROR, MW_ERROR_TEMPORARY,
			    "cannot create a temporary file in %s: %s", dir, g_strerror(errno));
		return -1;
	}
	(void) g_unlink(tmpl);
	return fd;
}

/* lock_take - an exclusive flock() on @path (created if need be); -1 when there is no lock
 * to take (NULL) or it cannot be opened: the encryption then just runs unserialized */
static int
lock_take(const char *path)
{
	if (path == NULL)
		return -1;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		g_debug("cannot open %s: %s", path, g_strerror(errno));
		return -1;
	}
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

/* lock_release - undo lock_take (closing the descriptor drops the lock) */
static void
lock_release(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* encrypt_into - append the armored ciphertext of prefix + body to @fd, one gpg at a time when
 * @lock_path is set */
static gboolean
encrypt_into(gpgme_ctx_t ctx, gpgme_key_t key, const GByteArray *prefix, MwMessage *msg,
	     guint64 body_offset, int fd, const char *lock_path, GError **error)
{
	static struct gpgme_data_cbs plain_cbs = {plain_read, NULL, NULL, NULL};
	static struct gpgme_data_cbs cipher_cbs = {NULL, cipher_write, NULL, NULL};
	PlainSource source = {prefix, 0, msg, body_offset};
	CipherSink sink = {fd, FALSE, 0, {0}};
	gpgme_data_t plain = NULL;
	gpgme_data_t cipher = NULL;
	gpgme_key_t keys[] = {key, NULL};

	gpgme_error_t err = gpgme_data_new_from_cbs(&plain, &plain_cbs, &source);
	if (err == 0)
		err = gpgme_data_new_from_cbs(&cipher, &cipher_cbs, &sink);
	if (err == 0) {
		int lock = lock_take(lock_path);
		err = gpgme_op_encrypt(ctx, keys,
				       GPGME_ENCRYPT_ALWAYS_TRUST | GPGME_ENCRYPT_NO_ENCRYPT_TO,
				       plain, cipher);
		lock_release(lock);
	}
	gpgme_data_release(plain);
	gpgme_data_release(cipher);
	gpgme_encrypt_result_t result = err == 0 ? gpgme_op_encrypt_result(ctx) : NULL;
	if (result != NULL && result->invalid_recipients != NULL) {
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "gpg refused key %s: %s",
			    result->invalid_recipients->fpr,
			    gpgme_strerror(result->invalid_recipients->reason));
		return FALSE;
	}
	if (err != 0) {
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "gpg failed: %s",
			    gpgme_strerror(err));
		return FALSE;
	}
	/* GPGME reports a gpg that could not run as success with no output */
	if (!g_str_has_prefix(sink.start, "-----BEGIN PGP MESSAGE-----")) {
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND,
			    "gpg wrote no armored ciphertext (%" G_GUINT64_FORMAT " bytes)",
			    sink.written);
		return FALSE;
	}
	return TRUE;
}

/* source_bytes - the delivery's current bytes (its edits serialized, if any) */
static MwMessage *
source_bytes(MwDelivery *delivery, const char *spool_dir, GError **error)
{
	if (delivery->mime != NULL)
		return mw_message_new_from_mime(GMIME_OBJECT(delivery->mime), spool_dir, error);
	return mw_message_ref(delivery->message);
}

/**
 * mw_gpg_encrypt_delivery:
 * @ctx: a context from mw_gpg_context_new()
 * @delivery: the variant to encrypt; it must not be shared with recipients
 *   who are to get the plaintext (split first)
 * @key: the one recipient key
 * @spool_dir: (nullable): where the temporary file goes
 * @lock_path: (nullable): a file to flock() around the gpg run, so that
 *   workers encrypt one at a time (see mw-gpg.c); NULL: no lock
 *
 * Replaces the delivery's message with the PGP/MIME form described at the
 * top of this file (mw_delivery_set_mime()).
 *
 * Returns: FALSE with MW_ERROR_BACKEND when gpg fails, MW_ERROR_TEMPORARY or
 * MW_ERROR_IO for a local problem (temporary file, reading the spool), and
 * MW_ERROR_PROTOCOL when the message has no usable header block
 */
gboolean
mw_gpg_encrypt_delivery(gpgme_ctx_t ctx, MwDelivery *delivery, gpgme_key_t key,
			const char *spool_dir, const char *lock_path, GError **error)
{
	g_autoptr(MwMessage) bytes = source_bytes(delivery, spool_dir, error);
	if (bytes == NULL)
		return FALSE;
	g_auto(Head) head = {0};
	if (!read_head(bytes, &head, error))
		return FALSE;

	g_autofree char *uuid = g_uuid_string_random();
	/* '.' and '_' cannot occur in base64 or in armor lines, so neither can the boundary */
	g_autofree char *boundary = g_strdup_printf("mw-gpg_%s.%08x", uuid, g_random_int());
	g_autoptr(GByteArray) prefix = build_inner_prefix(&head);
	g_autoptr(GByteArray) outer = build_outer_head(&head, boundary);

	int fd = tmpfile_open(spool_dir, error);
	if (fd < 0)
		return FALSE;
	/* from here the stream owns the descriptor */
	g_autoptr(GMimeStream) stream = g_mime_stream_fs_new(fd);
	if (!write_all(fd, outer->data, outer->len)) {
		g_set_error(error, MW_ERROR, MW_ERROR_TEMPORARY, "temporary file: %s",
			    g_strerror(errno));
		return FALSE;
	}
	if (!encrypt_into(ctx, key, prefix, bytes, head.body_offset, fd, lock_path, error))
		return FALSE;
	g_autofree char *closing = g_strdup_printf("--%s--\r\n", boundary);
	if (!write_all(fd, closing, strlen(closing))) {
		g_set_error(error, MW_ERROR, MW_ERROR_TEMPORARY, "temporary file: %s",
			    g_strerror(errno));
		return FALSE;
	}
	if (lseek(fd, 0, SEEK_SET) != 0 || g_mime_stream_reset(stream) < 0) {
		g_set_error(error, MW_ERROR, MW_ERROR_TEMPORARY, "temporary file: %s",
			    g_strerror(errno));
		return FALSE;
	}
	g_autoptr(GMimeParser) parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	GMimeMessage *mime = g_mime_parser_construct_message(parser, NULL);
	if (mime == NULL) {
		g_set_error(error, MW_ERROR, MW_ERROR_IO, "cannot parse the encrypted message");
		return FALSE;
	}
	mw_delivery_set_mime(delivery, mime);
	return TRUE;
}
