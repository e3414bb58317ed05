/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-message - the bytes of one message, in memory or spooled to disk
 * SYNOPSIS
 *	mw_message_new, mw_message_append, mw_message_seal,
 *	mw_message_new_from_bytes, mw_message_new_from_file, mw_message_new_from_mime,
 *	mw_message_ref, mw_message_unref, mw_message_get_size, mw_message_is_spooled,
 *	mw_message_read, mw_message_dup_head, mw_message_write_to_fd,
 *	mw_message_new_stream, mw_message_get_mime, mw_message_parse_mime
 * DESCRIPTION
 *	A message is filled once and then read-only. Up to memory_threshold
 *	bytes stay in a GByteArray; past it everything moves to an unlinked
 *	temporary file (O_TMPFILE, else mkstemp + unlink) in the spool folder,
 *	so a 50 MB message costs a file descriptor, not 50 MB of memory, and
 *	nothing is left on disk if the process dies. The GMime tree is parsed
 *	lazily on first request and cached; GMime reads part contents from the
 *	stream on demand, so a spooled message is not pulled into memory either.
 *	Not thread-safe; one owner process at a time.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "mw-error.h"
#include "mw-message.h"
#include "mw-message-stream.h"

struct _MwMessage {
	gint refcount;
	char *spool_dir;
	gsize threshold;
	GByteArray *mem; /* NULL once spooled */
	int fd;          /* -1 while in memory */
	guint64 size;
	gboolean sealed;
	GMimeMessage *mime;
	GMimeStream *mime_stream;
};

/* spool_open - an anonymous file in @dir */
static int
spool_open(const char *dir, GError **error)
{
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	g_autofree char *tmpl = g_build_filename(dir, "mw-spool-XXXXXX", NULL);
	fd = g_mkstemp_full(tmpl, O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0) {
		g_set_error(error, MW_ERROR, MW_ERROR_TEMPORARY,
			    "cannot create spool file in %s: %s", dir, g_strerror(errno));
		return -1;
	}
	(void) g_unlink(tmpl);
	return fd;
}

/* write_all - write everything, retrying short writes */
static gboolean
write_all(int fd, const guint8 *data, gsize len, GError **error)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			g_set_error(error, MW_ERROR, MW_ERROR_TEMPORARY, "spool write failed: %s",
				    g_strerror(errno));
			return FALSE;
		}
		data += n;
		len -= (gsize) n;
	}
	return TRUE;
}

MwMessage *
mw_message_new(const char *spool_dir, gsize memory_threshold)
{
	MwMessage *msg = g_new0(MwMessage, 1);
	msg->refcount = 1;
	msg->spool_dir = g_strdup(spool_dir != NULL ? spool_dir : g_get_tmp_dir());
	msg->threshold = memory_threshold;
	msg->mem = g_byte_array_sized_new(MIN(memory_threshold, 16384) + 1);
	msg->fd = -1;
	return msg;
}

gboolean
mw_message_append(MwMessage *msg, const guint8 *data, gsize len, GError **error)
{
	g_return_val_if_fail(!msg->sealed, FALSE);
	if (len == 0)
		return TRUE;
	if (msg->fd < 0 && msg->mem->len + len > msg->threshold) {
		/* move to disk: memory per connection stays bounded */
		int fd = spool_open(msg->spool_dir, error);
		if (fd < 0)
			return FALSE;
		if (!write_all(fd, msg->mem->data, msg->mem->len, error)) {
			close(fd);
			return FALSE;
		}
		msg->fd = fd;
		g_clear_pointer(&msg->mem, g_byte_array_unref);
	}
	if (msg->fd >= 0) {
		if (!write_all(msg->fd, data, len, error))
			return FALSE;
	} else {
		g_byte_array_append(msg->mem, data, (guint) len);
	}
	msg->size += len;
	return TRUE;
}

gboolean
mw_message_seal(MwMessage *msg, GError **error)
{
	msg->sealed = TRUE;
	return TRUE;
}

MwMessage *
mw_message_new_from_bytes(const guint8 *data, gsize len)
{
	MwMessage *msg = mw_message_new(NULL, G_MAXSIZE);
	g_byte_array_append(msg->mem, data, (guint) len);
	msg->size = len;
	msg->sealed = TRUE;
	return msg;
}

MwMessage *
mw_message_new_from_file(const char *path, const char *spool_dir, GError **error)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		g_set_error(error, MW_ERROR, MW_ERROR_IO, "cannot open %s: %s", path,
			    g_strerror(errno));
		return NULL;
	}
	g_autoptr(MwMessage) msg = mw_message_new(spool_dir, MW_MESSAGE_MEMORY_THRESHOLD);
	g_autofree guint8 *buf = g_malloc(65536);
	for (;;) {
		ssize_t n = read(fd, buf, 65536);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			g_set_error(error, MW_ERROR, MW_ERROR_IO, "cannot read %s: %s", path,
				    g_strerror(errno));
			close(fd);
			return NULL;
		}
		if (n == 0)
			break;
		if (!mw_message_append(msg, buf, (gsize) n, error)) {
			close(fd);
			return NULL;
		}
	}
	close(fd);
	if (!mw_message_seal(msg, error))
		return NULL;
	return g_steal_pointer(&msg);
}

MwMessage *
mw_message_new_from_mime(GMimeObject *mime, const char *spool_dir, GError **error)
{
	/* written straight into the new message (mw-message-stream): memory up to the
	 * threshold, then the spool; the format options force CRLF, valid SMTP DATA */
	g_autoptr(GMimeFormatOptions) options = g_mime_format_options_new();
	g_mime_format_options_set_newline_format(options, GMIME_NEWLINE_FORMAT_DOS);
	g_autoptr(GMimeStream) out = mw_message_stream_new(spool_dir);
	/* GMime 3.2 writes multipart preambles and epilogues with their original
	 * (possibly bare LF) line ends even in DOS format: a unix2dos filter makes
	 * every line end CRLF, as SMTP DATA must be */
	g_autoptr(GMimeStream) filtered = g_mime_stream_filter_new(out);
	g_autoptr(GMimeFilter) crlf = g_mime_filter_unix2dos_new(FALSE);
	g_mime_stream_filter_add(GMIME_STREAM_FILTER(filtered), crlf);
	gboolean written = g_mime_object_write_to_stream(mime, options, filtered) >= 0 &&
			   g_mime_stream_flush(filtered) >= 0;
	g_autoptr(GError) why = NULL;
	g_autoptr(MwMessage) msg = mw_message_stream_finish(out, &why);
	if (msg == NULL || !written) {
		g_set_error(error, MW_ERROR, MW_ERROR_IO, "cannot serialize message%s%s",
			    why != NULL ? ": " : "", why != NULL ? why->message : "");
		return NULL;
	}
	return g_steal_pointer(&msg);
}

MwMessage *
mw_message_ref(MwMessage *msg)
{
	g_return_val_if_fail(msg != NULL, NULL);
	msg->refcount++;
	return msg;
}

void
mw_message_unref(MwMessage *msg)
{
	if (msg == NULL || --msg->refcount > 0)
		return;
	g_clear_object(&msg->mime);
	g_clear_object(&msg->mime_stream);
	if (msg->mem != NULL)
		g_byte_array_unref(msg->mem);
	if (msg->fd >= 0)
		close(msg->fd);
	g_free(msg->spool_dir);
	g_free(msg);
}

guint64
mw_message_get_size(MwMessage *msg)
{
	return msg->size;
}

gboolean
mw_message_is_spooled(MwMessage *msg)
{
	return msg->fd >= 0;
}

gssize
mw_message_read(MwMessage *msg, guint64 offset, guint8 *buf, gsize len, GError **error)
{
	if (offset >= msg->size)
		return 0;
	len = (gsize) MIN((guint64) len, msg->size - offset);
	if (msg->fd < 0) {
		memcpy(buf, msg->mem->data + offset, len);
		return (gssize) len;
	}
	for (;;) {
		ssize_t n = pread(msg->fd, buf, len, (off_t) offset);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			g_set_error(error, MW_ERROR, MW_ERROR_IO, "spool read failed: %s",
				    g_strerror(errno));
			return -1;
		}
		return n;
	}
}

char *
mw_message_dup_head(MwMessage *msg, gsize max)
{
	gsize len = (gsize) MIN((guint64) max, msg->size);
	char *out = g_malloc(len + 1);
	gssize n = mw_message_read(msg, 0, (guint8 *) out, len, NULL);
	out[n > 0 ? n : 0] = '\0';
	return out;
}

gboolean
mw_message_write_to_fd(MwMessage *msg, int fd, GError **error)
{
	if (msg->fd < 0)
		return write_all(fd, msg->mem->data, msg->mem->len, error);
	g_autofree guint8 *buf = g_malloc(65536);
	guint64 offset = 0;
	for (;;) {
		gssize n = mw_message_read(msg, offset, buf, 65536, error);
		if (n < 0)
			return FALSE;
		if (n == 0)
			return TRUE;
		if (!write_all(fd, buf, (gsize) n, error))
			return FALSE;
		offset += (guint64) n;
	}
}

GMimeStream *
mw_message_new_stream(MwMessage *msg)
{
	if (msg->fd < 0) {
		/* the stream borrows the array: it must not outlive the message */
		GMimeStream *stream = g_mime_stream_mem_new_with_byte_array(msg->mem);
		g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(stream), FALSE);
		return stream;
	}
	int fd = dup(msg->fd);
	if (fd < 0)
		return NULL;
	return g_mime_stream_fs_new_with_bounds(fd, 0, (gint64) msg->size);
}

/* parse_stream - a message from @stream, or NULL when GMime finds none */
static GMimeMessage *
parse_stream(GMimeStream *stream)
{
	g_autoptr(GMimeParser) parser = g_mime_parser_new_with_stream(stream);

	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	return g_mime_parser_construct_message(parser, NULL);
}

GMimeMessage *
mw_message_parse_mime(MwMessage *msg, GError **error)
{
	g_autoptr(GMimeStream) stream = mw_message_new_stream(msg);
	if (stream == NULL) {
		g_set_error(error, MW_ERROR, MW_ERROR_TEMPORARY, "cannot open spool: %s",
			    g_strerror(errno));
		return NULL;
	}
	GMimeMessage *mime = parse_stream(stream);
	if (mime != NULL)
		return mime;
	/*
	 * GMime finds no header block (the first line is no header, e.g. a
	 * message that is only text): read it the way a mail reader shows it,
	 * as a body without headers, so that every module still sees it (and
	 * a module that cannot judge a message does not defer it for ever).
	 */
	g_autoptr(GMimeStream) cat = g_mime_stream_cat_new();
	g_autoptr(GMimeStream) empty = g_mime_stream_mem_new_with_buffer("\r\n", 2);
	g_mime_stream_reset(stream);
	g_mime_stream_cat_add_source(GMIME_STREAM_CAT(cat), empty);
	g_mime_stream_cat_add_source(GMIME_STREAM_CAT(cat), stream);
	mime = parse_stream(cat);
	if (mime == NULL)
		g_set_error(error, MW_ERROR, MW_ERROR_PROTOCOL, "message cannot be parsed as MIME");
	return mime;
}

GMimeMessage *
mw_message_get_mime(MwMessage *msg, GError **error)
{
	if (msg->mime == NULL)
		msg->mime = mw_message_parse_mime(msg, error);
	return msg->mime;
}
