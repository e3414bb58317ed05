/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "mw-error.h"
#include "mw-gmime-compat.h"
#include "mw-message.h"

G_BEGIN_DECLS

#define MW_TYPE_MESSAGE_STREAM (mw_message_stream_get_type())
G_DECLARE_FINAL_TYPE(MwMessageStream, mw_message_stream, MW, MESSAGE_STREAM, GMimeStream)

/* mw_message_stream_new - (transfer full) a write-only stream filling a new message */
GMimeStream *mw_message_stream_new(const char *spool_dir);
/* mw_message_stream_finish - (transfer full) the sealed message, or NULL with the write error */
MwMessage *mw_message_stream_finish(GMimeStream *stream, GError **error);

G_END_DECLS
