/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * virus-test-lib - what the virus module's suites share: a signature
 * database built at test time, test files (EICAR, payloads only our
 * database knows, a tiny PE executable, zip archives), messages carrying
 * them in the ways the scanner must see through, and a private clamd.
 *
 *	g_autofree char *db = vt_make_db(dir);	    DIR/db with test.hdb + test.ndb
 *	g_autoptr(GBytes) msg = vt_msg_attachment("report.zip", "application/zip", zip);
 *	VtClamd *clamd = vt_clamd_start(dir, db, NULL);   unix socket DIR/clamd.sock
 *	...
 *	vt_clamd_stop(clamd);
 *
 * Signatures: "Eicar-Test-Signature" (hash of the 68-byte EICAR file),
 * "Eicar-Test-Signature.Body" (the EICAR string anywhere, as the official
 * databases detect it in a message body) and "Mailwarden.Test.Payload<N>"
 * (hash only: found only when the scanner decoded the file exactly).
 * vt_add_payload_signature() adds one more payload later (reload tests).
 *
 * clamd runs as a child with a guardian: a process that waits on a pipe
 * only the test process holds and kills clamd (by PID) as soon as the test
 * process goes away, even when a failed assertion _exit()ed without
 * teardown.
 */

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

extern const char vt_eicar[]; /* the 68-byte EICAR test file, NUL-terminated */

/* vt_payload - deterministic pseudo-random bytes, different for each @n (3000 + n bytes) */
GBytes *vt_payload(guint n);
/* vt_make_db - DIR/db with signatures for EICAR and payloads 1 and 2; returns the path */
char *vt_make_db(const char *dir);
/* vt_add_payload_signature - one more .hdb file in @db for payload @n */
void vt_add_payload_signature(const char *db, guint n);

/* vt_pe - a minimal PE executable that libmagic recognises */
GBytes *vt_pe(void);

/* VtZipEntry - one member for vt_zip() */
typedef struct {
	const char *name;
	GBytes *data;
	gboolean deflate;
	gboolean encrypted; /* sets the encryption flag (and 12 header bytes): unreadable */
} VtZipEntry;
GBytes *vt_zip(const VtZipEntry *entries, guint n);

/* messages, CRLF line ends, From a@example.org To b@example.org */
GBytes *vt_msg_plain(const char *subject, const char *body);
/* vt_msg_attachment - multipart/mixed: a text part and @data base64-encoded as @filename */
GBytes *vt_msg_attachment(const char *filename, const char *content_type, GBytes *data);
/* vt_msg_nested - multipart/mixed: a text part and @inner as a message/rfc822 attachment */
GBytes *vt_msg_nested(GBytes *inner);
/* the cases every engine must detect: the message, and the virus name it carries */
typedef struct {
	const char *what;
	GBytes *(*build)(void);
	const char *virus;
} VtDetectCase;
extern const VtDetectCase vt_detect_cases[];
extern const guint vt_n_detect_cases;
GBytes *vt_msg_eicar_body(void);            /* the EICAR string as the whole body */
GBytes *vt_msg_eicar_attachment(void);      /* eicar.com, base64 */
GBytes *vt_msg_payload_attachment(void);    /* payload 1 as data.bin, base64 */
GBytes *vt_msg_payload_zip(void);           /* payload 1 deflated in archive.zip */
GBytes *vt_msg_payload_nested(void);        /* payload 2 attached to a forwarded message */
GBytes *vt_msg_payload_zip_in_nested(void); /* archive.zip in a message in a message */

/* vt_bytes_str - @b as a NUL-terminated string (for searching) */
char *vt_bytes_str(GBytes *b);

/* --- a private clamd --------------------------------------------------------- */

typedef struct {
	pid_t pid;
	pid_t guardian;
	int guardian_fd;
	char *dir;
	char *socket; /* "unix:/.../clamd.sock" for clamd_socket */
	char *path;   /* the socket's path */
	char *log;
} VtClamd;

/* vt_clamd_start - clamd --foreground on DIR/clamd.sock with @db; @extra_conf lines
 * (nullable) are appended to clamd.conf; waits until it answers PING (asserts) */
VtClamd *vt_clamd_start(const char *dir, const char *db, const char *extra_conf);
/* vt_clamd_stop - SIGTERM, wait, SIGKILL; frees @clamd */
void vt_clamd_stop(VtClamd *clamd);

G_END_DECLS
