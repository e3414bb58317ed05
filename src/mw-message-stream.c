/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-message-stream - a GMime stream that writes into a new message
 * SYNOPSIS
 *	mw_message_stream_new, mw_message_stream_finish
 * DESCRIPTION
 *	Serializing an edited GMime tree used to go into a memory stream that
 *	was then copied into the message: a 50 MB message with a footer cost
 *	100 MB of memory, and a worker_memory_limit could defer it for ever.
 *	This write-only stream hands every block straight to
 *	mw_message_append(), which keeps the first MW_MESSAGE_MEMORY_THRESHOLD
 *	bytes in memory and spools the rest: serialization costs a spool file,
 *	not the message's size in memory.
 */
#include "mw-message-stream.h"

struct _MwMessageStream {
	GMimeStream parent;
	MwMessage *msg;
	GError *error; /* the first append error; later writes fail at once */
};

G_DEFINE_TYPE(MwMessageStream, mw_message_stream, GMIME_TYPE_STREAM)

static ssize_t
stream_write(GMimeStream *stream, const char *buf, size_t len)
{
	MwMessageStream *self = MW_MESSAGE_STREAM(stream);

	if (self->error != NULL || self->msg == NULL)
		return -1;
	if (!mw_message_append(self->msg, (const guint8 *) buf, len, &self->error))
		return -1;
	stream->position += (gint64) len;
	return (ssize_t) len;
}

static int
stream_flush(GMimeStream *stream)
{
	return MW_MESSAGE_STREAM(stream)->error != NULL ? -1 : 0;
}

static int
stream_close(GMimeStream *stream)
{
	(void) stream;
	return 0;
}

static gint64
stream_tell(GMimeStream *stream)
{
	return stream->position;
}

/* reading, seeking and substreams: not a readable stream */
static ssize_t
stream_read(GMimeStream *stream, char *buf, size_t len)
{
	(void) stream, (void) buf, (void) len;
	return -1;
}

static gint64
stream_seek(GMimeStream *stream, gint64 offset, GMimeSeekWhence whence)
{
	(void) stream, (void) offset, (void) whence;
	return -1;
}

static int
stream_reset(GMimeStream *stream)
{
	(void) stream;
	return -1;
}

static gboolean
stream_eos(GMimeStream *stream)
{
	(void) stream;
	return TRUE;
}

static gint64
stream_length(GMimeStream *stream)
{
	return stream->position;
}

static GMimeStream *
stream_substream(GMimeStream *stream, gint64 start, gint64 end)
{
	(void) stream, (void) start, (void) end;
	return NULL;
}

static void
mw_message_stream_finalize(GObject *object)
{
	MwMessageStream *self = MW_MESSAGE_STREAM(object);

	g_clear_pointer(&self->msg, mw_message_unref);
	g_clear_error(&self->error);
	G_OBJECT_CLASS(mw_message_stream_parent_class)->finalize(object);
}

static void
mw_message_stream_class_init(MwMessageStreamClass *klass)
{
	GMimeStreamClass *stream_class = GMIME_STREAM_CLASS(klass);

	G_OBJECT_CLASS(klass)->finalize = mw_message_stream_finalize;
	stream_class->read = stream_read;
	stream_class->write = stream_write;
	stream_class->flush = stream_flush;
	stream_class->close = stream_close;
	stream_class->eos = stream_eos;
	stream_class->reset = stream_reset;
	stream_class->seek = stream_seek;
	stream_class->tell = stream_tell;
	stream_class->length = stream_length;
	stream_class->substream = stream_substream;
}

static void
mw_message_stream_init(MwMessageStream *self)
{
	(void) self;
}

/**
 * mw_message_stream_new:
 * @spool_dir: (nullable): where the message spools past its memory threshold
 * Returns: (transfer full): a stream whose writes make a new message
 */
GMimeStream *
mw_message_stream_new(const char *spool_dir)
{
	MwMessageStream *self = g_object_new(MW_TYPE_MESSAGE_STREAM, NULL);

	g_mime_stream_construct(GMIME_STREAM(self), 0, -1);
	self->msg = mw_message_new(spool_dir, MW_MESSAGE_MEMORY_THRESHOLD);
	return GMIME_STREAM(self);
}

/**
 * mw_message_stream_finish:
 * Seals and takes the message written so far; the stream takes no more.
 * Returns: (transfer full): the message, or NULL with the first write error
 */
MwMessage *
mw_message_stream_finish(GMimeStream *stream, GError **error)
{
	MwMessageStream *self = MW_MESSAGE_STREAM(stream);

	if (self->error != NULL) {
		g_propagate_error(error, g_steal_pointer(&self->error));
		self->error = g_error_new_literal(MW_ERROR, MW_ERROR_IO, "stream finished");
		return NULL;
	}
	g_autoptr(MwMessage) msg = g_steal_pointer(&self->msg);
	if (msg == NULL) {
		g_set_error_literal(error, MW_ERROR, MW_ERROR_IO, "stream finished");
		return NULL;
	}
	if (!mw_message_seal(msg, error))
		return NULL;
	return g_steal_pointer(&msg);
}
