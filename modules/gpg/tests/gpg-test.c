/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	gpg-test - test keys and PGP/MIME assertions for the gpg module's suites
 * SYNOPSIS
 *	gpgt_init, gpgt_cleanup, gpgt_gpg, gpgt_enc_keyid, gpgt_import_public,
 *	gpgt_decrypt, gpgt_enc_to, gpgt_parse_message, gpgt_parse_entity,
 *	gpgt_content, gpgt_body_offset, gpgt_header_block,
 *	gpgt_assert_same_tree, gpgt_open_pgp_mime, gpgt_is_pgp_mime,
 *	gpgt_assert_decrypts_to
 * DESCRIPTION
 *	The keys are made once per suite by gpg itself (no passphrase, fast
 *	curve keys; past dates through --faked-system-time), so the tests see
 *	exactly what an administrator's keyring would hold. Every gpg run is
 *	bounded by timeout(1). The gpg-agents that gpg starts for the secret
 *	home (and for the keyring home, on import) are stopped with gpgconf
 *	--kill all at cleanup, which also runs at exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "gpg-test.h"

GpgtHomes *gpgt = NULL;

/* die - a setup failure outside any test: say why and stop the suite */
static G_GNUC_NORETURN G_GNUC_PRINTF(1, 2) void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	g_autofree char *msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	fprintf(stderr, "gpg-test setup: %s\n", msg);
	gpgt_cleanup();
	exit(EXIT_FAILURE);
}

/* drain - read what @fd has into @buf; FALSE at end of file */
static gboolean
drain(int fd, GByteArray *buf)
{
	guint8 chunk[65536];
	ssize_t n = read(fd, chunk, sizeof chunk);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return TRUE;
	if (n <= 0)
		return FALSE;
	g_byte_array_append(buf, chunk, (guint) n);
	return TRUE;
}

/*
 * run_argv - run @argv (bounded by timeout(1)) with @input; returns the exit status.
 * Plain fork/exec and poll(): GSubprocess needs GLib's worker thread, which a test
 * forked by check after the setup used it does not have.
 */
static int
run_argv(GPtrArray *argv, GBytes *input, GBytes **out, char **err)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) full = g_ptr_array_new();
	g_ptr_array_add(full, "timeout");
	g_ptr_array_add(full, "-k");
	g_ptr_array_add(full, "5");
	g_ptr_array_add(full, "120");
	for (guint i = 0; i < argv->len; i++)
		g_ptr_array_add(full, g_ptr_array_index(argv, i));
	g_ptr_array_add(full, NULL);

	GPid pid;
	int in_fd, out_fd, err_fd;
	if (!g_spawn_async_with_pipes(NULL, (char **) full->pdata, NULL,
				      G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
				      &pid, &in_fd, &out_fd, &err_fd, &error)) {
		if (err != NULL)
			*err = g_strdup(error->message);
		return -1;
	}
	gsize in_len = 0, in_pos = 0;
	const guint8 *in_data = input != NULL ? g_bytes_get_data(input, &in_len) : NULL;
	g_autoptr(GByteArray) out_buf = g_byte_array_new();
	g_autoptr(GByteArray) err_buf = g_byte_array_new();
	fcntl(in_fd, F_SETFL, fcntl(in_fd, F_GETFL) | O_NONBLOCK);
	if (in_len == 0) {
		close(in_fd);
		in_fd = -1;
	}
	while (out_fd >= 0 || err_fd >= 0) {
		struct pollfd fds[3] = {
			{in_fd, POLLOUT, 0}, {out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
		if (poll(fds, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (in_fd >= 0 && fds[0].revents != 0) {
			ssize_t n = write(in_fd, in_data + in_pos, in_len - in_pos);
			if (n > 0)
				in_pos += (gsize) n;
			if ((n < 0 && errno != EAGAIN && errno != EINTR) || in_pos == in_len) {
				close(in_fd);
				in_fd = -1;
			}
		}
		if (out_fd >= 0 && fds[1].revents != 0 && !drain(out_fd, out_buf)) {
			close(out_fd);
			out_fd = -1;
		}
		if (err_fd >= 0 && fds[2].revents != 0 && !drain(err_fd, err_buf)) {
			close(err_fd);
			err_fd = -1;
		}
	}
	if (in_fd >= 0)
		close(in_fd);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	g_spawn_close_pid(pid);
	if (out != NULL)
		*out = g_bytes_new(out_buf->data, out_buf->len);
	if (err != NULL)
		*err = g_strndup((const char *) err_buf->data, err_buf->len);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int
gpgt_gpg(const char *home, GBytes *input, GBytes **out, char **err, ...)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	va_list ap;

	g_ptr_array_add(argv, "gpg");
	g_ptr_array_add(argv, "--homedir");
	g_ptr_array_add(argv, (gpointer) home);
	g_ptr_array_add(argv, "--batch");
	g_ptr_array_add(argv, "--no-tty");
	/* only the secret home needs an agent; none is left behind in the others */
	if (gpgt == NULL || g_strcmp0(home, gpgt->secret) != 0)
		g_ptr_array_add(argv, "--no-autostart");
	va_start(ap, err);
	/* clang-tidy false positive: when it checks several files in one run, the analyzer
	 * stops recognising va_start() after the first (LLVM #40656, bugs.llvm.org 41311) */
	// NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized)
	for (const char *arg = va_arg(ap, const char *); arg != NULL;
	     arg = va_arg(ap, const char *))
		g_ptr_array_add(argv, (gpointer) arg);
	va_end(ap);
	return run_argv(argv, input, out, err);
}

/* must - a gpg run of the setup that has to succeed */
#define must(...)                                                                                  \
	do {                                                                                       \
		g_autofree char *must_err = NULL;                                                  \
		if (gpgt_gpg(__VA_ARGS__, (char *) NULL) != 0)                                     \
			die("gpg failed (line %d): %s", __LINE__, must_err);                       \
	} while (0)

/* gen_key - a key in the secret home; @faked: a gpg --faked-system-time value or NULL */
static void
gen_key(const char *uid, const char *algo, const char *usage, const char *expire, const char *faked)
{
	g_autofree char *err = NULL;
	int rc;
	if (faked != NULL)
		rc = gpgt_gpg(gpgt->secret, NULL, NULL, &err, "--passphrase", "", "--yes",
			      "--faked-system-time", faked, "--quick-gen-key", uid, algo, usage,
			      expire, (char *) NULL);
	else
		rc = gpgt_gpg(gpgt->secret, NULL, NULL, &err, "--passphrase", "", "--yes",
			      "--quick-gen-key", uid, algo, usage, expire, (char *) NULL);
	if (rc != 0)
		die("generating %s: %s", uid, err);
}

/* colon_listing - gpg --with-colons --list-keys <@address> in @home */
static char *
colon_listing(const char *home, const char *address)
{
	g_autoptr(GBytes) out = NULL;
	g_autofree char *err = NULL;
	g_autofree char *pattern = g_strdup_printf("<%s>", address);
	if (gpgt_gpg(home, NULL, &out, &err, "--with-colons", "--list-keys", pattern,
		     (char *) NULL) != 0)
		return NULL;
	gsize len = 0;
	const char *data = g_bytes_get_data(out, &len);
	return g_strndup(data, len);
}

/* fingerprint - the primary fingerprint of @address's first key in the secret home */
static char *
fingerprint(const char *address)
{
	g_autofree char *listing = colon_listing(gpgt->secret, address);
	if (listing == NULL)
		die("no key for %s", address);
	g_auto(GStrv) lines = g_strsplit(listing, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		if (g_str_has_prefix(lines[i], "fpr:")) {
			g_auto(GStrv) f = g_strsplit(lines[i], ":", -1);
			if (g_strv_length(f) > 9)
				return g_strdup(f[9]);
		}
	}
	die("no fingerprint for %s", address);
}

char *
gpgt_enc_keyid(const char *address)
{
	g_autofree char *listing = colon_listing(gpgt->secret, address);
	char *best = NULL;
	long best_created = -1;
	if (listing == NULL)
		return NULL;
	g_auto(GStrv) lines = g_strsplit(listing, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		if (!g_str_has_prefix(lines[i], "pub:") && !g_str_has_prefix(lines[i], "sub:"))
			continue;
		g_auto(GStrv) f = g_strsplit(lines[i], ":", -1);
		if (g_strv_length(f) < 12 || strchr(f[11], 'e') == NULL || f[1][0] == 'e' ||
		    f[1][0] == 'r')
			continue;
		long created = strtol(f[5], NULL, 10);
		if (created > best_created) {
			g_free(best);
			best = g_strdup(f[4]);
			best_created = created;
		}
	}
	return best;
}

void
gpgt_import_public(const char *address, const char *home)
{
	g_autoptr(GBytes) exported = NULL;
	g_autofree char *err = NULL;
	g_autofree char *pattern = g_strdup_printf("<%s>", address);
	int rc = gpgt_gpg(gpgt->secret, NULL, &exported, &err, "--export", pattern, (char *) NULL);
	if (rc != 0 || g_bytes_get_size(exported) == 0)
		ck_abort_msg("cannot export %s: %s", address, err);
	g_clear_pointer(&err, g_free);
	if (gpgt_gpg(home, exported, NULL, &err, "--import", (char *) NULL) != 0)
		ck_abort_msg("cannot import %s: %s", address, err);
}

/* import_revocation - import @address's revocation certificate (made with the key) into @home */
static gboolean
import_revocation(const char *address, const char *home, GError **error)
{
	g_autofree char *fpr = fingerprint(address);
	g_autofree char *rev_path =
		g_strdup_printf("%s/openpgp-revocs.d/%s.rev", gpgt->secret, fpr);
	g_autofree char *rev = NULL;
	g_autofree char *err = NULL;
	if (!g_file_get_contents(rev_path, &rev, NULL, error))
		return FALSE;
	/* gpg writes the certificate with a ':' before its armor line, against accidents */
	char *armor = strstr(rev, ":-----BEGIN");
	if (armor == NULL) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
			    "unexpected revocation certificate in %s", rev_path);
		return FALSE;
	}
	g_autoptr(GBytes) rev_bytes = g_bytes_new(armor + 1, strlen(armor + 1));
	if (gpgt_gpg(home, rev_bytes, NULL, &err, "--import", (char *) NULL) != 0) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "importing %s: %s", rev_path,
			    err);
		return FALSE;
	}
	return TRUE;
}

void
gpgt_import_revocation(const char *address, const char *home)
{
	g_autoptr(GError) error = NULL;
	ck_assert_msg(import_revocation(address, home, &error), "%s", error->message);
}

void
gpgt_gen_key(const char *uid, const char *expire)
{
	gen_key(uid, "future-default", "default", expire, NULL);
}

gint64
gpgt_expiry(const char *address)
{
	g_autofree char *listing = colon_listing(gpgt->secret, address);
	ck_assert_ptr_nonnull(listing);
	g_auto(GStrv) lines = g_strsplit(listing, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		if (!g_str_has_prefix(lines[i], "pub:"))
			continue;
		g_auto(GStrv) f = g_strsplit(lines[i], ":", -1);
		if (g_strv_length(f) > 6)
			return g_ascii_strtoll(f[6], NULL, 10);
	}
	return 0;
}

void
gpgt_init(void)
{
	g_autoptr(GError) error = NULL;
	static const char *const plain[] = {
		"Alice <alice@example.org>",
		"Bob <bob@example.org>",
		"Grace <Grace@Example.ORG>",
		"Remote <remote@elsewhere.test>",
		"Dave <dave@example.org>",
		"Frank <frank@example.org>",
		"Ivan <ivan@example.org>",
		"Newbie <newbie@example.org>",
		"Judy <judy@example.org>",
		/* split: "\x9fe" would be one escape */
		("Stra\xc3\x9f"
		 "e <stra\xc3\x9f"
		 "e@example.org>"),
	};

	gpgt = g_new0(GpgtHomes, 1);
	gpgt->owner = getpid();
	gpgt->root = g_dir_make_tmp("mw-gpgt-XXXXXX", &error);
	if (gpgt->root == NULL)
		die("%s", error->message);
	gpgt->secret = g_build_filename(gpgt->root, "secret", NULL);
	gpgt->keyring = g_build_filename(gpgt->root, "keyring", NULL);
	if (g_mkdir(gpgt->secret, 0700) < 0 || g_mkdir(gpgt->keyring, 0700) < 0)
		die("cannot create the GnuPG homes in %s", gpgt->root);
	atexit(gpgt_cleanup);

	/* judy's older key first: the newer one must win */
	gen_key("Judy <judy@example.org>", "future-default", "default", "never", "20220101T000000");
	for (guint i = 0; i < G_N_ELEMENTS(plain); i++)
		gen_key(plain[i], "future-default", "default", "never", NULL);
	gen_key("Carol <carol@example.org>", "future-default", "default", "2021-01-01",
		"20200101T000000");
	gen_key("Erin <erin@example.org>", "ed25519", "sign", "never", NULL);
	gen_key("Henry <henry@example.org>", "ed25519", "sign", "never", "20200101T000000");
	g_autofree char *henry = fingerprint("henry@example.org");
	must(gpgt->secret, NULL, NULL, &must_err, "--passphrase", "", "--faked-system-time",
	     "20200101T000000", "--quick-add-key", henry, "cv25519", "encr", "2021-01-01");
	must(gpgt->secret, NULL, NULL, &must_err, "--passphrase", "", "--quick-add-uid",
	     "frank@example.org", "Frank old <frank-old@example.org>");
	must(gpgt->secret, NULL, NULL, &must_err, "--passphrase", "", "--quick-revoke-uid",
	     "frank@example.org", "Frank old <frank-old@example.org>");

	/* the keyring: every public key but newbie's, dave's revoked, ivan's disabled */
	g_autoptr(GBytes) exported = NULL;
	g_autofree char *err = NULL;
	if (gpgt_gpg(gpgt->secret, NULL, &exported, &err, "--export", (char *) NULL) != 0)
		die("export: %s", err);
	must(gpgt->keyring, exported, NULL, &must_err, "--import");
	g_autofree char *newbie = fingerprint("newbie@example.org");
	must(gpgt->keyring, NULL, NULL, &must_err, "--yes", "--delete-keys", newbie);
	if (!import_revocation("dave@example.org", gpgt->keyring, &error))
		die("%s", error->message);
	must(gpgt->keyring, NULL, NULL, &must_err, "--edit-key", "ivan@example.org", "disable",
	     "quit");
}

void
gpgt_cleanup(void)
{
	/* check's forked tests inherit the atexit() handler: only the maker cleans up */
	if (gpgt == NULL || gpgt->owner != getpid())
		return;
	const char *homes[] = {gpgt->secret, gpgt->keyring};
	for (guint i = 0; i < G_N_ELEMENTS(homes); i++) {
		g_autoptr(GPtrArray) argv = g_ptr_array_new();
		g_ptr_array_add(argv, "gpgconf");
		g_ptr_array_add(argv, "--homedir");
		g_ptr_array_add(argv, (gpointer) homes[i]);
		g_ptr_array_add(argv, "--kill");
		g_ptr_array_add(argv, "all");
		(void) run_argv(argv, NULL, NULL, NULL);
	}
	if (g_getenv("MW_TEST_KEEP") == NULL) {
		g_autoptr(GPtrArray) argv = g_ptr_array_new();
		g_ptr_array_add(argv, "rm");
		g_ptr_array_add(argv, "-rf");
		g_ptr_array_add(argv, gpgt->root);
		(void) run_argv(argv, NULL, NULL, NULL);
	}
	g_free(gpgt->root);
	g_free(gpgt->secret);
	g_free(gpgt->keyring);
	g_clear_pointer(&gpgt, g_free);
}

GBytes *
gpgt_decrypt(GBytes *ciphertext, char **status_out)
{
	g_autoptr(GBytes) out = NULL;
	g_autofree char *err = NULL;
	int rc = gpgt_gpg(gpgt->secret, ciphertext, &out, &err, "--status-fd", "2", "--decrypt",
			  (char *) NULL);
	if (status_out != NULL)
		*status_out = g_strdup(err);
	if (rc != 0)
		return NULL;
	return g_steal_pointer(&out);
}

char *
gpgt_enc_to(const char *status)
{
	g_autoptr(GString) ids = g_string_new(NULL);
	g_auto(GStrv) lines = g_strsplit(status, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		if (!g_str_has_prefix(lines[i], "[GNUPG:] ENC_TO "))
			continue;
		g_auto(GStrv) f = g_strsplit(lines[i] + strlen("[GNUPG:] ENC_TO "), " ", 2);
		g_string_append_printf(ids, "%s%s", ids->len > 0 ? " " : "", f[0]);
	}
	return g_string_free(g_steal_pointer(&ids), FALSE);
}

GMimeMessage *
gpgt_parse_message(GBytes *bytes)
{
	g_autoptr(GMimeStream) stream = g_mime_stream_mem_new_with_buffer(
		g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes));
	g_autoptr(GMimeParser) parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	GMimeMessage *message = g_mime_parser_construct_message(parser, NULL);
	ck_assert_msg(message != NULL, "GMime cannot parse the message");
	return message;
}

GMimeObject *
gpgt_parse_entity(GBytes *bytes)
{
	g_autoptr(GMimeStream) stream = g_mime_stream_mem_new_with_buffer(
		g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes));
	g_autoptr(GMimeParser) parser = g_mime_parser_new_with_stream(stream);
	GMimeObject *object = g_mime_parser_construct_part(parser, NULL);
	ck_assert_msg(object != NULL, "GMime cannot parse the entity");
	return object;
}

GBytes *
gpgt_content(GMimeObject *part)
{
	ck_assert_msg(GMIME_IS_PART(part), "not a leaf part");
	GMimeDataWrapper *content = g_mime_part_get_content(GMIME_PART(part));
	g_autoptr(GMimeStream) mem = g_mime_stream_mem_new();
	if (content != NULL)
		ck_assert_int_ge(g_mime_data_wrapper_write_to_stream(content, mem), 0);
	GByteArray *array = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	return g_bytes_new(array->data, array->len);
}

gsize
gpgt_body_offset(GBytes *msg)
{
	gsize len = 0;
	const char *data = g_bytes_get_data(msg, &len);
	const char *crlf = g_strstr_len(data, (gssize) len, "\r\n\r\n");
	const char *lf = g_strstr_len(data, (gssize) len, "\n\n");
	if (crlf != NULL && (lf == NULL || crlf < lf))
		return (gsize) (crlf - data) + 4;
	if (lf != NULL)
		return (gsize) (lf - data) + 2;
	return len;
}

char *
gpgt_header_block(GBytes *msg)
{
	gsize offset = gpgt_body_offset(msg);
	const char *data = g_bytes_get_data(msg, NULL);
	char *text = g_strndup(data, offset);
	g_strchomp(text);
	return text;
}

/* header_fields - the fields of a CRLF header block, each with its continuation lines */
static GPtrArray *
header_fields(const char *block)
{
	GPtrArray *fields = g_ptr_array_new_with_free_func(g_free);
	g_auto(GStrv) lines = g_strsplit(block, "\r\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		if ((lines[i][0] == ' ' || lines[i][0] == '\t') && fields->len > 0) {
			char **last = (char **) &g_ptr_array_index(fields, fields->len - 1);
			char *joined = g_strconcat(*last, "\r\n", lines[i], NULL);
			g_free(*last);
			*last = joined;
		} else if (lines[i][0] != '\0') {
			g_ptr_array_add(fields, g_strdup(lines[i]));
		}
	}
	return fields;
}

/* field_is - the field's name is @name (case-insensitive) */
static gboolean
field_is(const char *field, const char *name)
{
	gsize n = strlen(name);
	return g_ascii_strncasecmp(field, name, n) == 0 && field[n] == ':';
}

static gboolean
field_protected(const char *field)
{
	return field_is(field, "From") || field_is(field, "To") || field_is(field, "Cc") ||
	       field_is(field, "Subject") || field_is(field, "Date");
}

static gboolean
field_content(const char *field)
{
	return g_ascii_strncasecmp(field, "Content-", 8) == 0;
}

/* same_tree - recursive comparison with a path for the failure message */
static void
same_tree(GMimeObject *a, GMimeObject *b, const char *path)
{
	g_autofree char *ta = g_mime_content_type_get_mime_type(g_mime_object_get_content_type(a));
	g_autofree char *tb = g_mime_content_type_get_mime_type(g_mime_object_get_content_type(b));
	ck_assert_msg(g_ascii_strcasecmp(ta, tb) == 0, "%s: type %s, expected %s", path, tb, ta);
	if (GMIME_IS_MULTIPART(a)) {
		ck_assert_msg(GMIME_IS_MULTIPART(b), "%s: not a multipart", path);
		int n = g_mime_multipart_get_count(GMIME_MULTIPART(a));
		ck_assert_msg(n == g_mime_multipart_get_count(GMIME_MULTIPART(b)),
			      "%s: %d parts, expected %d", path,
			      g_mime_multipart_get_count(GMIME_MULTIPART(b)), n);
		for (int i = 0; i < n; i++) {
			g_autofree char *sub = g_strdup_printf("%s.%d", path, i + 1);
			same_tree(g_mime_multipart_get_part(GMIME_MULTIPART(a), i),
				  g_mime_multipart_get_part(GMIME_MULTIPART(b), i), sub);
		}
	} else if (GMIME_IS_MESSAGE_PART(a)) {
		ck_assert_msg(GMIME_IS_MESSAGE_PART(b), "%s: not a message part", path);
		GMimeMessage *ma = g_mime_message_part_get_message(GMIME_MESSAGE_PART(a));
		GMimeMessage *mb = g_mime_message_part_get_message(GMIME_MESSAGE_PART(b));
		ck_assert_str_eq(g_mime_message_get_subject(ma), g_mime_message_get_subject(mb));
		g_autofree char *sub = g_strdup_printf("%s/message", path);
		same_tree(g_mime_message_get_mime_part(ma), g_mime_message_get_mime_part(mb), sub);
	} else {
		ck_assert_msg(GMIME_IS_PART(b), "%s: not a leaf part", path);
		ck_assert_msg(g_strcmp0(g_mime_part_get_filename(GMIME_PART(a)),
					g_mime_part_get_filename(GMIME_PART(b))) == 0,
			      "%s: file name %s, expected %s", path,
			      g_mime_part_get_filename(GMIME_PART(b)),
			      g_mime_part_get_filename(GMIME_PART(a)));
		g_autoptr(GBytes) ca = gpgt_content(a);
		g_autoptr(GBytes) cb = gpgt_content(b);
		ck_assert_msg(g_bytes_equal(ca, cb), "%s: content differs (%zu vs %zu bytes)", path,
			      g_bytes_get_size(ca), g_bytes_get_size(cb));
	}
}

void
gpgt_assert_same_tree(GMimeObject *expected, GMimeObject *got)
{
	same_tree(expected, got, "body");
}

gboolean
gpgt_is_pgp_mime(GBytes *msg)
{
	g_autoptr(GMimeMessage) message = gpgt_parse_message(msg);
	GMimeObject *top = g_mime_message_get_mime_part(message);
	return top != NULL && g_mime_content_type_is_type(g_mime_object_get_content_type(top),
							  "multipart", "encrypted");
}

GBytes *
gpgt_open_pgp_mime(GBytes *msg, const char *address)
{
	g_autoptr(GMimeMessage) message = gpgt_parse_message(msg);
	GMimeObject *top = g_mime_message_get_mime_part(message);
	GMimeContentType *type = g_mime_object_get_content_type(top);
	ck_assert_msg(g_mime_content_type_is_type(type, "multipart", "encrypted"),
		      "top-level type is not multipart/encrypted");
	const char *protocol = g_mime_content_type_get_parameter(type, "protocol");
	ck_assert_msg(protocol != NULL &&
			      g_ascii_strcasecmp(protocol, "application/pgp-encrypted") == 0,
		      "protocol=%s", protocol);
	ck_assert_int_eq(g_mime_multipart_get_count(GMIME_MULTIPART(top)), 2);

	GMimeObject *version = g_mime_multipart_get_part(GMIME_MULTIPART(top), 0);
	ck_assert(g_mime_content_type_is_type(g_mime_object_get_content_type(version),
					      "application", "pgp-encrypted"));
	g_autoptr(GBytes) version_bytes = gpgt_content(version);
	g_autofree char *version_text =
		g_strndup(g_bytes_get_data(version_bytes, NULL), g_bytes_get_size(version_bytes));
	ck_assert_str_eq(g_strstrip(version_text), "Version: 1");

	GMimeObject *payload = g_mime_multipart_get_part(GMIME_MULTIPART(top), 1);
	ck_assert(g_mime_content_type_is_type(g_mime_object_get_content_type(payload),
					      "application", "octet-stream"));
	g_autoptr(GBytes) armored = gpgt_content(payload);
	ck_assert_msg(g_bytes_get_size(armored) > 27 &&
			      memcmp(g_bytes_get_data(armored, NULL), "-----BEGIN PGP MESSAGE-----",
				     27) == 0,
		      "the second part is not an armored PGP message");

	g_autofree char *status = NULL;
	GBytes *plain = gpgt_decrypt(armored, &status);
	ck_assert_msg(plain != NULL, "gpg cannot decrypt it:\n%s", status);
	g_autofree char *enc_to = gpgt_enc_to(status);
	g_autofree char *expected = gpgt_enc_keyid(address);
	ck_assert_msg(expected != NULL, "no encryption key id for %s", address);
	ck_assert_msg(g_strcmp0(enc_to, expected) == 0,
		      "encrypted to [%s], expected exactly [%s] (%s)", enc_to, expected, address);
	return plain;
}

void
gpgt_assert_decrypts_to(GBytes *msg, const char *address, GBytes *original)
{
	g_autoptr(GBytes) inner = gpgt_open_pgp_mime(msg, address);

	/* the body, byte for byte */
	gsize inner_len = 0, orig_len = 0;
	const char *inner_data = g_bytes_get_data(inner, &inner_len);
	const char *orig_data = g_bytes_get_data(original, &orig_len);
	gsize inner_body = gpgt_body_offset(inner);
	gsize orig_body = gpgt_body_offset(original);
	ck_assert_msg(inner_len - inner_body == orig_len - orig_body &&
			      memcmp(inner_data + inner_body, orig_data + orig_body,
				     orig_len - orig_body) == 0,
		      "the decrypted body differs from the original (%zu vs %zu bytes)",
		      inner_len - inner_body, orig_len - orig_body);

	/* inner fields: exactly the original's Content-* and protected fields, raw */
	g_autofree char *orig_block = gpgt_header_block(original);
	g_autofree char *inner_block = gpgt_header_block(inner);
	g_autofree char *outer_block = gpgt_header_block(msg);
	g_autoptr(GPtrArray) orig_fields = header_fields(orig_block);
	g_autoptr(GPtrArray) inner_fields = header_fields(inner_block);
	g_autoptr(GPtrArray) outer_fields = header_fields(outer_block);
	guint expected_inner = 0;
	gboolean marked = FALSE;
	for (guint i = 0; i < orig_fields->len; i++) {
		const char *field = g_ptr_array_index(orig_fields, i);
		gboolean in_inner = FALSE, in_outer = FALSE;
		/* the first Content-Type says the fields before it are protected headers */
		g_autofree char *want =
			!marked && field_is(field, "Content-Type")
				? g_strconcat(field, "; protected-headers=\"v1\"", NULL)
				: g_strdup(field);
		marked |= field_is(field, "Content-Type");
		for (guint j = 0; j < inner_fields->len; j++)
			in_inner |= strcmp(want, g_ptr_array_index(inner_fields, j)) == 0;
		for (guint j = 0; j < outer_fields->len; j++)
			in_outer |= strcmp(field, g_ptr_array_index(outer_fields, j)) == 0;
		if (field_content(field) || field_protected(field)) {
			ck_assert_msg(in_inner, "inner entity lacks \"%s\":\n%s", want,
				      inner_block);
			expected_inner++;
		}
		if (field_content(field))
			ck_assert_msg(!in_outer, "outer message keeps \"%s\"", field);
		else
			ck_assert_msg(in_outer, "outer message lost \"%s\":\n%s", field,
				      outer_block);
	}
	if (!marked) {
		/* no Content-Type: the default one, marked, is added */
		static const char def[] =
			"Content-Type: text/plain; charset=us-ascii; protected-headers=\"v1\"";
		gboolean found = FALSE;
		for (guint j = 0; j < inner_fields->len; j++)
			found |= strcmp(def, g_ptr_array_index(inner_fields, j)) == 0;
		ck_assert_msg(found, "inner entity lacks \"%s\":\n%s", def, inner_block);
		expected_inner++;
	}
	ck_assert_msg(inner_fields->len == expected_inner,
		      "inner entity has %u fields, expected %u:\n%s", inner_fields->len,
		      expected_inner, inner_block);
	for (guint j = 0; j < outer_fields->len; j++) {
		const char *field = g_ptr_array_index(outer_fields, j);
		ck_assert_msg(!field_content(field) || field_is(field, "Content-Type"),
			      "outer message has \"%s\"", field);
	}

	/* and the same MIME tree */
	g_autoptr(GMimeMessage) orig_message = gpgt_parse_message(original);
	g_autoptr(GMimeObject) inner_entity = gpgt_parse_entity(inner);
	gpgt_assert_same_tree(g_mime_message_get_mime_part(orig_message), inner_entity);
}
