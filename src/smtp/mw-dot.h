/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * SMTP DATA framing (RFC 5321 §4.5.2).
 *
 * Lines are split at LF (a bare LF ends a line too, as Postfix's smtpd reads
 * it). Unstuffing removes one leading dot from every line. The end of data is
 * only a line "." CRLF that follows a CRLF (or starts the data): "LF . CRLF"
 * or ". LF" never end the data, so a message cannot smuggle a second one.
 * The CRLF before the terminating dot belongs to the message.
 *
 * Stuffing doubles a leading dot on every line (split at LF) and ends with
 * ".CRLF", preceded by an extra CRLF when the data did not end with CRLF.
 * For data that only uses CRLF, unstuff(stuff(x)) == x byte for byte.
 */

typedef struct {
	guint state;
	gboolean done;
} MwDotReader;

void mw_dot_reader_init(MwDotReader *reader);

/**
 * mw_dot_reader_feed:
 * @in: received bytes
 * @out: buffer of at least @in_len + 2 bytes for the unstuffed data
 * @out_len: (out): bytes written to @out
 *
 * Returns the number of bytes of @in consumed. Once the terminator is seen,
 * reader->done is TRUE and the bytes after it are not consumed (they are the
 * next pipelined command). Bytes that may be part of the terminator are held
 * back in the state and written on a later call.
 */
gsize mw_dot_reader_feed(MwDotReader *reader, const guint8 *in, gsize in_len, guint8 *out,
			 gsize *out_len);

typedef struct {
	gboolean at_line_start;
	guint8 last[2];
	guint64 total;
} MwDotWriter;

void mw_dot_writer_init(MwDotWriter *writer);

/* mw_dot_writer_feed - stuff @in into @out (room for 2 * @in_len bytes); returns bytes written */
gsize mw_dot_writer_feed(MwDotWriter *writer, const guint8 *in, gsize in_len, guint8 *out);

/* mw_dot_writer_finish - the terminator into @out (room for 5 bytes); returns bytes written */
gsize mw_dot_writer_finish(MwDotWriter *writer, guint8 *out);

G_END_DECLS
