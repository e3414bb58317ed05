/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "mw-txn.h"

G_BEGIN_DECLS

/**
 * mw_dsn_build:
 * @failed: (element-type MwTxnRcpt): recipients that will not get the message,
 *   each with a reason ("5.7.1 ..."), or a downstream reply in @texts
 * @texts: (element-type utf8) (nullable): per entry of @failed, the full reply
 *   text to report ("554 5.7.1 ..."); NULL uses the recipient's reason
 *
 * A delivery status notification (RFC 3464, multipart/report) to the envelope
 * sender for the recipients in @failed that asked for failure notices (NOTIFY
 * absent or containing FAILURE). Returns NULL when nobody is to be told: the
 * null sender, or every recipient said NOTIFY=NEVER. Only the original's
 * headers are returned (text/rfc822-headers), never its body: the body may be
 * the virus that was refused.
 */
GMimeMessage *mw_dsn_build(MwTxn *txn, GPtrArray *failed, GPtrArray *texts);

G_END_DECLS
