/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "mw-gmime-compat.h"

G_BEGIN_DECLS

/*
 * MwMessage - the bytes of one message (after dot-unstuffing), refcounted.
 *
 * A message is written once (append ... seal) and then read-only. Up to a
 * threshold it lives in memory; past it, it moves to an unlinked temporary
 * file in the spool folder, so memory stays bounded for any size. The MIME
 * tree is parsed with GMime only when somebody asks for it, once.
 */
typedef struct _MwMessage MwMessage;

#define MW_MESSAGE_MEMORY_THRESHOLD (256 * 1024)

/* mw_message_new - an empty writable message; @spool_dir (nullable) defaults to g_get_tmp_dir() */
MwMessage *mw_message_new(const char *spool_dir, gsize memory_threshold);
gboolean mw_message_append(MwMessage *msg, const guint8 *data, gsize len, GError **error);
/* mw_message_seal - no more writes; must be called before reading */
gboolean mw_message_seal(MwMessage *msg, GError **error);

MwMessage *mw_message_new_from_bytes(const guint8 *data, gsize len);
MwMessage *mw_message_new_from_file(const char *path, const char *spool_dir, GError **error);
/* mw_message_new_from_mime - serialize @mime with CRLF line ends */
MwMessage *mw_message_new_from_mime(GMimeObject *mime, const char *spool_dir, GError **error);

MwMessage *mw_message_ref(MwMessage *msg);
void mw_message_unref(MwMessage *msg);

guint64 mw_message_get_size(MwMessage *msg);
/* mw_message_is_spooled - TRUE when the bytes are in a file rather than in memory */
gboolean mw_message_is_spooled(MwMessage *msg);

/* mw_message_read - up to @len bytes at @offset into @buf; returns bytes read, 0 at the end, -1 on error */
gssize mw_message_read(MwMessage *msg, guint64 offset, guint8 *buf, gsize len, GError **error);
/* mw_message_dup_head - the first @max bytes (or all) as a NUL-terminated string, for header peeks */
char *mw_message_dup_head(MwMessage *msg, gsize max);
/* mw_message_write_to_fd - copy all bytes to @fd */
gboolean mw_message_write_to_fd(MwMessage *msg, int fd, GError **error);

/* mw_message_new_stream - (transfer full) a GMime stream over the bytes */
GMimeStream *mw_message_new_stream(MwMessage *msg);

/**
 * mw_message_get_mime:
 *
 * Returns: (transfer none): the parsed message, parsed on first call and
 * cached; NULL with @error if GMime cannot make a message of it at all.
 * Callers must not modify it (see mw_delivery_edit_mime()).
 */
GMimeMessage *mw_message_get_mime(MwMessage *msg, GError **error);
/* mw_message_parse_mime - (transfer full) a fresh, private parse of the bytes */
GMimeMessage *mw_message_parse_mime(MwMessage *msg, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(MwMessage, mw_message_unref)

G_END_DECLS
