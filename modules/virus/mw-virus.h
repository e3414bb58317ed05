/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * The virus module's internal interfaces: its typed configuration, its
 * instance state, and the pieces it is built from (one file each):
 *
 *	mw-virus.c		the module class: options, lifecycle, process()
 *	mw-virus-clamav.c	the in-process libclamav engine
 *	mw-virus-clamd.c	the clamd client (INSTREAM, PING)
 *	mw-virus-banned.c	banned attachments: names and detected types
 *	mw-virus-zip.c		the names (and first bytes) of zip members
 *	mw-virus-notify.c	notices to the admin and the recipients
 */

#include <glib.h>

#include "mw-message.h"
#include "mw-module.h"
#include "mw-txn.h"

G_BEGIN_DECLS

typedef enum {
	MW_VIRUS_ENGINE_LIBCLAMAV = 0,
	MW_VIRUS_ENGINE_CLAMD,
} MwVirusEngine;

typedef enum {
	MW_VIRUS_ACTION_DISCARD = 0,
	MW_VIRUS_ACTION_REJECT,
	MW_VIRUS_ACTION_QUARANTINE,
} MwVirusAction;

/* encrypted = block | pass (index order of the choices) */
typedef enum {
	MW_VIRUS_ENCRYPTED_BLOCK = 0,
	MW_VIRUS_ENCRYPTED_PASS,
} MwVirusEncrypted;

/* oversized = pass | block */
typedef enum {
	MW_VIRUS_OVERSIZED_PASS = 0,
	MW_VIRUS_OVERSIZED_BLOCK,
} MwVirusOversized;

/* MwVirusConfig - the [virus] section, filled by the option table */
typedef struct {
	int engine;
	char *database;
	char *tmpdir;
	char *clamd_socket;
	gint64 timeout;
	guint64 max_scan_size;
	guint64 max_file_size;
	gint64 max_files;
	gint64 max_recursion;
	int encrypted;
	int oversized;
	int action;
	char **banned_extensions;
	char **banned_types;
	gboolean add_header;
	char *notify_admin;
	gboolean notify_recipient;
} MwVirusConfig;

/* the virus name used when a message is blocked for exceeding the scan limits */
#define MW_VIRUS_NAME_OVERSIZED "Heuristics.Limits.Exceeded.MaxScanSize"

/* --- libclamav (mw-virus-clamav.c) ------------------------------------------ */

typedef struct _MwVirusClamav MwVirusClamav;

MwVirusClamav *mw_virus_clamav_new(const MwVirusConfig *cfg, GError **error);
void mw_virus_clamav_free(MwVirusClamav *engine);
guint mw_virus_clamav_get_signatures(const MwVirusClamav *engine);
gboolean mw_virus_clamav_scan(MwVirusClamav *engine, MwMessage *message, char **virus_out,
			      GError **error);
gboolean mw_virus_clamav_check_database(const char *database, guint *count_out, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(MwVirusClamav, mw_virus_clamav_free)

/* --- clamd (mw-virus-clamd.c) ----------------------------------------------- */

/* MwVirusClamdResult - what one INSTREAM scan found */
typedef struct {
	char *virus;        /* (nullable): the signature name when infected */
	gboolean limit;     /* clamd refused the stream as too large (StreamMaxLength) */
	gboolean truncated; /* we sent only the first max_bytes of the message */
} MwVirusClamdResult;

gboolean mw_virus_clamd_target_valid(const char *target, GError **error);
gboolean mw_virus_clamd_ping(const char *target, guint timeout_ms, GError **error);
gboolean mw_virus_clamd_scan(const char *target, MwMessage *message, guint64 max_bytes,
			     gsize chunk_size, guint timeout_ms, MwVirusClamdResult *result,
			     GError **error);
void mw_virus_clamd_result_clear(MwVirusClamdResult *result);

/* the chunk size for INSTREAM (clamd's own default StreamMaxLength is far larger) */
#define MW_VIRUS_CLAMD_CHUNK (64 * 1024)

/* --- banned attachments (mw-virus-banned.c) --------------------------------- */

typedef struct _MwVirusBanned MwVirusBanned;

MwVirusBanned *mw_virus_banned_new(const char *const *extensions, const char *const *types,
				   gboolean block_encrypted, guint max_depth, guint max_files,
				   guint64 max_file_size, GError **error);
void mw_virus_banned_free(MwVirusBanned *banned);
gboolean mw_virus_banned_enabled(const MwVirusBanned *banned);
gboolean mw_virus_banned_load_magic(MwVirusBanned *banned, GError **error);
char *mw_virus_banned_check(MwVirusBanned *banned, GMimeMessage *mime, const char **kind_out,
			    GError **error);
char *mw_virus_banned_match_name(const MwVirusBanned *banned, const char *name);
char *mw_virus_banned_match_type(const MwVirusBanned *banned, const char *mime_type);
char *mw_virus_banned_normalize_extension(const char *extension);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(MwVirusBanned, mw_virus_banned_free)

/* --- zip directories (mw-virus-zip.c) --------------------------------------- */

/* MwVirusZipEntry - one member of a zip archive */
typedef struct {
	char *name; /* as stored (CP437 or UTF-8 bytes, made valid UTF-8) */
	gboolean encrypted;
	guint16 method; /* 0 stored, 8 deflated, others unsupported */
	guint64 offset; /* of the local header */
	guint64 compressed_size;
	guint64 size;
} MwVirusZipEntry;

gboolean mw_virus_zip_is_zip(const guint8 *data, gsize len);
GPtrArray *mw_virus_zip_list(const guint8 *data, gsize len, guint max_entries);
GBytes *mw_virus_zip_extract(const guint8 *data, gsize len, const MwVirusZipEntry *entry,
			     gsize max_out);

/* --- notifications (mw-virus-notify.c) -------------------------------------- */

/* MwVirusFinding - why a message is blocked, for the verdict and the notices */
typedef struct {
	const char *kind; /* "virus", "banned" or "encrypted" */
	const char *what; /* the virus name or "NAME (extension .exe)" */
} MwVirusFinding;

gboolean mw_virus_notify_admin(MwTxn *txn, const MwModule *module, const MwVirusFinding *finding,
			       GError **error);
gboolean mw_virus_notify_recipients(MwTxn *txn, const MwModule *module,
				    const MwVirusFinding *finding, const GPtrArray *rcpts,
				    GError **error);
char *mw_virus_sanitize(const char *text, gsize max);

G_END_DECLS
