/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * gpg-test - test keys and PGP/MIME checks shared by the gpg module's suites.
 *
 * gpgt_init() (from main(), before the suite runs, so every forked test
 * shares the keys) makes a temporary directory with two GnuPG homes:
 *   secret   all test keys with their secret parts (to decrypt, to sign)
 *   keyring  the public keys mailwarden uses: everything except newbie
 * and these keys (all addresses @example.org unless said otherwise):
 *   alice, bob, judy (two keys; the newer one must be chosen),
 *   Grace@Example.ORG (mixed case user id), straße@example.org (UTF-8),
 *   remote@elsewhere.test (not local)
 *   carol  expired key             dave   revoked key
 *   erin   sign-only key           frank  valid, but frank-old's user id is revoked
 *   henry  its encryption subkey expired     ivan   disabled in the keyring
 *   newbie not in the keyring (gpgt_import_public() adds it)
 * gpgt_cleanup() stops the gpg-agents of both homes and removes the directory;
 * it also runs at exit.
 */

#include <check.h>
#include <sys/types.h>
#include "mw-gmime-compat.h"

G_BEGIN_DECLS

typedef struct {
	char *root;
	char *secret;
	char *keyring;
	pid_t owner; /* the process that made them (and alone removes them) */
} GpgtHomes;

extern GpgtHomes *gpgt;

void gpgt_init(void);
void gpgt_cleanup(void);

/*
 * gpgt_gpg - run gpg --homedir @home --batch ARGS... (NULL-terminated) with
 * @input on stdin (nullable), bounded to 120 s; returns the exit status
 * (-1 when it did not end normally). @out and @err may be NULL.
 */
int gpgt_gpg(const char *home, GBytes *input, GBytes **out, char **err, ...) G_GNUC_NULL_TERMINATED;

/* gpgt_enc_keyid - the long key id of the newest encryption subkey of @address's newest key */
char *gpgt_enc_keyid(const char *address);
/* gpgt_import_public - copy the public key of @address from the secret home to @home */
void gpgt_import_public(const char *address, const char *home);

/* gpgt_import_revocation - import the revocation certificate of @address's key into @home */
void gpgt_import_revocation(const char *address, const char *home);
/* gpgt_gen_key - one more key in the secret home ("Name <address>", gpg's expire syntax) */
void gpgt_gen_key(const char *uid, const char *expire);
/* gpgt_expiry - the expiry date of @address's primary key (0: none) */
gint64 gpgt_expiry(const char *address);

/* gpgt_decrypt - decrypt with the secret home; NULL on failure; @status_out: the status lines */
GBytes *gpgt_decrypt(GBytes *ciphertext, char **status_out);
/* gpgt_enc_to - the ENC_TO key ids of a status text, space-separated */
char *gpgt_enc_to(const char *status);

/* gpgt_parse_message / gpgt_parse_entity - GMime parses of bytes (assert success) */
GMimeMessage *gpgt_parse_message(GBytes *bytes);
GMimeObject *gpgt_parse_entity(GBytes *bytes);
/* gpgt_content - the decoded content of a leaf part */
GBytes *gpgt_content(GMimeObject *part);
/* gpgt_body_offset - offset of the body (after the first empty line) */
gsize gpgt_body_offset(GBytes *msg);
/* gpgt_header_block - the header block of @msg (without the empty line) */
char *gpgt_header_block(GBytes *msg);

/*
 * gpgt_assert_same_tree - the two MIME trees have the same structure, types,
 * file names and decoded contents (message/rfc822 parts are compared inside)
 */
void gpgt_assert_same_tree(GMimeObject *expected, GMimeObject *got);

/*
 * gpgt_open_pgp_mime - assert that @msg is RFC 3156 PGP/MIME (multipart/encrypted,
 * protocol, a "Version: 1" application/pgp-encrypted part, an armored
 * application/octet-stream part), decrypt it, assert it was encrypted to
 * exactly the key of @address, and return the decrypted inner entity
 */
GBytes *gpgt_open_pgp_mime(GBytes *msg, const char *address);

/* gpgt_is_pgp_mime - whether the top-level type of @msg is multipart/encrypted */
gboolean gpgt_is_pgp_mime(GBytes *msg);

/*
 * gpgt_assert_decrypts_to - the inner entity of PGP/MIME @msg for @address
 * carries @original's body byte for byte, its Content-* fields, the
 * protected From/To/Cc/Subject/Date fields, and the same MIME tree
 */
void gpgt_assert_decrypts_to(GBytes *msg, const char *address, GBytes *original);

G_END_DECLS
