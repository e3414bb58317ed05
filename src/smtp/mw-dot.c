/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-dot - SMTP DATA dot-stuffing and unstuffing
 *
 * SYNOPSIS
 *	void mw_dot_reader_init(MwDotReader *reader);
 *	gsize mw_dot_reader_feed(MwDotReader *reader, const guint8 *in, gsize in_len,
 *				 guint8 *out, gsize *out_len);
 *	void mw_dot_writer_init(MwDotWriter *writer);
 *	gsize mw_dot_writer_feed(MwDotWriter *writer, const guint8 *in, gsize in_len,
 *				 guint8 *out);
 *	gsize mw_dot_writer_finish(MwDotWriter *writer, guint8 *out);
 *
 * DESCRIPTION
 *	The reader is a byte-at-a-time state machine without a line buffer, so
 *	input may be cut anywhere and lines may be of any length. The only bytes
 *	it holds back are the CR of a line that so far reads "." CR after a CRLF;
 *	the dot itself is never written (it is either the terminator or a
 *	stuffing dot), so the output of a call is at most @in_len + 1 bytes.
 *
 *	The writer doubles a dot that starts a line (after LF or at the start),
 *	and remembers the last two data bytes to choose the terminator.
 */

#include "mw-dot.h"

#include <string.h>

enum {
	MW_DOT_CRLF_START = 0, /* line start after CRLF, or the start of the data */
	MW_DOT_LF_START,       /* line start after a bare LF */
	MW_DOT_MID,            /* inside a line, the last byte was not CR */
	MW_DOT_MID_CR,         /* inside a line, the last byte was CR */
	MW_DOT_DOT,            /* CRLF "." seen; the dot is dropped */
	MW_DOT_DOT_CR,         /* CRLF "." CR seen; the CR is held back */
};

void
mw_dot_reader_init(MwDotReader *reader)
{
	g_return_if_fail(reader != NULL);
	reader->state = MW_DOT_CRLF_START;
	reader->done = FALSE;
}

/* the state after byte @c was written inside a line (@state is MID or MID_CR) */
static guint
mw_dot_next_state(guint state, guint8 c)
{
	if (c == '\r')
		return MW_DOT_MID_CR;
	if (c == '\n')
		return state == MW_DOT_MID_CR ? MW_DOT_CRLF_START : MW_DOT_LF_START;
	return MW_DOT_MID;
}

gsize
mw_dot_reader_feed(MwDotReader *reader, const guint8 *in, gsize in_len, guint8 *out, gsize *out_len)
{
	guint state;
	gsize i = 0;
	gsize o = 0;

	g_return_val_if_fail(reader != NULL, 0);
	g_return_val_if_fail(in != NULL || in_len == 0, 0);
	g_return_val_if_fail(out_len != NULL, 0);

	state = reader->state;
	while (i < in_len && !reader->done) {
		guint8 c = in[i++];

		switch (state) {
		case MW_DOT_CRLF_START:
			if (c == '.') {
				state = MW_DOT_DOT;
				break;
			}
			out[o++] = c;
			state = mw_dot_next_state(MW_DOT_MID, c);
			break;
		case MW_DOT_LF_START:
			/* a stuffing dot; "LF . CRLF" is not the end */
			if (c == '.') {
				state = MW_DOT_MID;
				break;
			}
			out[o++] = c;
			state = mw_dot_next_state(MW_DOT_MID, c);
			break;
		case MW_DOT_DOT:
			if (c == '\r') {
				state = MW_DOT_DOT_CR;
				break;
			}
			out[o++] = c;
			state = mw_dot_next_state(MW_DOT_MID, c);
			break;
		case MW_DOT_DOT_CR:
			if (c == '\n') {
				reader->done = TRUE;
				break;
			}
			out[o++] = '\r';
			out[o++] = c;
			state = mw_dot_next_state(MW_DOT_MID_CR, c);
			break;
		default:
			if (c != '\r' && c != '\n') {
				/* copy the rest of the line in one go */
				gsize n = 0;

				while (i + n < in_len && in[i + n] != '\r' && in[i + n] != '\n')
					n++;
				out[o++] = c;
				memcpy(out + o, in + i, n);
				o += n;
				i += n;
				state = MW_DOT_MID;
				break;
			}
			out[o++] = c;
			state = mw_dot_next_state(state, c);
			break;
		}
	}
	reader->state = state;
	*out_len = o;
	return i;
}

void
mw_dot_writer_init(MwDotWriter *writer)
{
	g_return_if_fail(writer != NULL);
	writer->at_line_start = TRUE;
	writer->last[0] = 0;
	writer->last[1] = 0;
	writer->total = 0;
}

gsize
mw_dot_writer_feed(MwDotWriter *writer, const guint8 *in, gsize in_len, guint8 *out)
{
	gsize i = 0;
	gsize o = 0;

	g_return_val_if_fail(writer != NULL, 0);
	g_return_val_if_fail(in != NULL || in_len == 0, 0);

	while (i < in_len) {
		const guint8 *lf;
		gsize n;

		if (writer->at_line_start && in[i] == '.')
			out[o++] = '.';
		lf = memchr(in + i, '\n', in_len - i);
		n = lf != NULL ? (gsize) (lf - (in + i)) + 1 : in_len - i;
		memcpy(out + o, in + i, n);
		o += n;
		i += n;
		writer->at_line_start = lf != NULL;
	}
	if (in_len >= 2) {
		writer->last[0] = in[in_len - 2];
		writer->last[1] = in[in_len - 1];
	} else if (in_len == 1) {
		writer->last[0] = writer->last[1];
		writer->last[1] = in[0];
	}
	writer->total += in_len;
	return o;
}

gsize
mw_dot_writer_finish(MwDotWriter *writer, guint8 *out)
{
	gsize o = 0;

	g_return_val_if_fail(writer != NULL, 0);

	/* empty data is just the terminator; otherwise the data must end with CRLF */
	if (writer->total > 0 && !(writer->last[0] == '\r' && writer->last[1] == '\n')) {
		out[o++] = '\r';
		out[o++] = '\n';
	}
	out[o++] = '.';
	out[o++] = '\r';
	out[o++] = '\n';
	return o;
}
