/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	virus-test-lib - test files, messages, signature database and clamd
 * SYNOPSIS
 *	vt_payload, vt_make_db, vt_add_payload_signature, vt_pe, vt_zip,
 *	vt_msg_plain, vt_msg_attachment, vt_msg_nested, vt_clamd_start,
 *	vt_clamd_stop
 * DESCRIPTION
 *	See virus-test-lib.h. Everything is generated: no binary test files
 *	are kept in the repository, and the signatures are computed from the
 *	same generators the tests use.
 */
#include "virus-test-lib.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <zlib.h>

const char vt_eicar[] = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

GBytes *
vt_payload(guint n)
{
	gsize len = 3000 + n;
	guint8 *data = g_malloc(len);
	guint32 x = 2463534242u + n * 7919u;

	for (gsize i = 0; i < len; i++) {
		/* xorshift32 */
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		data[i] = (guint8) x;
	}
	return g_bytes_new_take(data, len);
}

/* hdb_line - "md5:size:name" for @data */
static char *
hdb_line(GBytes *data, const char *name)
{
	gsize len;
	const guint8 *p = g_bytes_get_data(data, &len);
	g_autofree char *md5 = g_compute_checksum_for_data(G_CHECKSUM_MD5, p, len);

	return g_strdup_printf("%s:%" G_GSIZE_FORMAT ":%s\n", md5, len, name);
}

char *
vt_make_db(const char *dir)
{
	char *db = g_build_filename(dir, "db", NULL);
	g_autoptr(GBytes) eicar = g_bytes_new_static(vt_eicar, strlen(vt_eicar));
	g_autoptr(GBytes) p1 = vt_payload(1);
	g_autoptr(GBytes) p2 = vt_payload(2);
	g_autofree char *l0 = hdb_line(eicar, "Eicar-Test-Signature");
	g_autofree char *l1 = hdb_line(p1, "Mailwarden.Test.Payload1");
	g_autofree char *l2 = hdb_line(p2, "Mailwarden.Test.Payload2");
	g_autofree char *hdb = g_strconcat(l0, l1, l2, NULL);
	g_autofree char *hex = NULL;
	GString *h = g_string_new(NULL);

	for (const char *c = vt_eicar; *c != '\0'; c++)
		g_string_append_printf(h, "%02x", (guchar) *c);
	hex = g_string_free(h, FALSE);
	g_autofree char *ndb = g_strdup_printf("Eicar-Test-Signature.Body:0:*:%s\n", hex);
	g_autofree char *hdb_path = g_build_filename(db, "test.hdb", NULL);
	g_autofree char *ndb_path = g_build_filename(db, "test.ndb", NULL);

	ck_assert_int_eq(g_mkdir_with_parents(db, 0755), 0);
	ck_assert(g_file_set_contents(hdb_path, hdb, -1, NULL));
	ck_assert(g_file_set_contents(ndb_path, ndb, -1, NULL));
	return db;
}

void
vt_add_payload_signature(const char *db, guint n)
{
	g_autoptr(GBytes) p = vt_payload(n);
	g_autofree char *name = g_strdup_printf("Mailwarden.Test.Payload%u", n);
	g_autofree char *line = hdb_line(p, name);
	g_autofree char *file = g_strdup_printf("extra%u.hdb", n);
	g_autofree char *path = g_build_filename(db, file, NULL);

	ck_assert(g_file_set_contents(path, line, -1, NULL));
}

GBytes *
vt_pe(void)
{
	guint8 *d = g_malloc0(1024);

	/* DOS header pointing at a PE header with one section, i386, executable image */
	d[0] = 'M';
	d[1] = 'Z';
	d[0x3c] = 0x40;
	d[0x40] = 'P'; /* "PE\0\0" */
	d[0x41] = 'E';
	d[0x44] = 0x4c; /* machine 0x14c */
	d[0x45] = 0x01;
	d[0x46] = 1;    /* sections */
	d[0x54] = 0xe0; /* optional header size */
	d[0x56] = 0x02; /* characteristics: executable image */
	d[0x57] = 0x01;
	d[0x58] = 0x0b; /* PE32 magic 0x10b */
	d[0x59] = 0x01;
	d[0x5c + 0x40] = 2; /* subsystem: GUI */
	return g_bytes_new_take(d, 1024);
}

/* put16, put32 - little-endian appends */
static void
put16(GByteArray *out, guint v)
{
	guint8 b[2] = {(guint8) v, (guint8) (v >> 8)};
	g_byte_array_append(out, b, 2);
}

static void
put32(GByteArray *out, guint32 v)
{
	guint8 b[4] = {(guint8) v, (guint8) (v >> 8), (guint8) (v >> 16), (guint8) (v >> 24)};
	g_byte_array_append(out, b, 4);
}

/* deflate_raw - raw deflate of @data */
static GBytes *
deflate_raw(GBytes *data)
{
	gsize len;
	const guint8 *p = g_bytes_get_data(data, &len);
	z_stream zs;
	memset(&zs, 0, sizeof zs);
	ck_assert_int_eq(deflateInit2(&zs, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
	gsize cap = deflateBound(&zs, (uLong) len);
	guint8 *out = g_malloc(cap);
	zs.next_in = (Bytef *) p;
	zs.avail_in = (uInt) len;
	zs.next_out = out;
	zs.avail_out = (uInt) cap;
	ck_assert_int_eq(deflate(&zs, Z_FINISH), Z_STREAM_END);
	gsize n = cap - zs.avail_out;
	deflateEnd(&zs);
	return g_bytes_new_take(out, n);
}

GBytes *
vt_zip(const VtZipEntry *entries, guint n)
{
	GByteArray *out = g_byte_array_new();
	GByteArray *cd = g_byte_array_new();

	for (guint i = 0; i < n; i++) {
		const VtZipEntry *e = &entries[i];
		gsize len;
		const guint8 *raw = g_bytes_get_data(e->data, &len);
		guint32 crc = (guint32) crc32(0, raw, (uInt) len);
		g_autoptr(GBytes) stored = e->deflate ? deflate_raw(e->data) : g_bytes_ref(e->data);
		gsize slen;
		const guint8 *sdata = g_bytes_get_data(stored, &slen);
		guint flags = (e->encrypted ? 1u : 0u) | 0x800u; /* UTF-8 names */
		guint method = e->deflate ? 8 : 0;
		guint32 csize = (guint32) slen + (e->encrypted ? 12 : 0);
		guint32 offset = out->len;
		gsize name_len = strlen(e->name);

		put32(out, 0x04034b50);
		put16(out, 20);
		put16(out, flags);
		put16(out, method);
		put16(out, 0);
		put16(out, 0x21);
		put32(out, crc);
		put32(out, csize);
		put32(out, (guint32) len);
		put16(out, (guint) name_len);
		put16(out, 0);
		g_byte_array_append(out, (const guint8 *) e->name, (guint) name_len);
		if (e->encrypted) {
			static const guint8 header[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
			g_byte_array_append(out, header, 12);
		}
		g_byte_array_append(out, sdata, (guint) slen);

		put32(cd, 0x02014b50);
		put16(cd, 0x031e);
		put16(cd, 20);
		put16(cd, flags);
		put16(cd, method);
		put16(cd, 0);
		put16(cd, 0x21);
		put32(cd, crc);
		put32(cd, csize);
		put32(cd, (guint32) len);
		put16(cd, (guint) name_len);
		put16(cd, 0);
		put16(cd, 0);
		put16(cd, 0);
		put16(cd, 0);
		put32(cd, 0);
		put32(cd, offset);
		g_byte_array_append(cd, (const guint8 *) e->name, (guint) name_len);
	}
	guint32 cd_offset = out->len;
	g_byte_array_append(out, cd->data, cd->len);
	put32(out, 0x06054b50);
	put16(out, 0);
	put16(out, 0);
	put16(out, n);
	put16(out, n);
	put32(out, cd->len);
	put32(out, cd_offset);
	put16(out, 0);
	g_byte_array_unref(cd);
	return g_byte_array_free_to_bytes(out);
}

/* crlf - @text with every LF turned into CRLF */
static GString *
crlf(const char *text)
{
	GString *out = g_string_new(NULL);

	for (const char *p = text; *p != '\0'; p++) {
		if (*p == '\n' && (p == text || p[-1] != '\r'))
			g_string_append_c(out, '\r');
		g_string_append_c(out, *p);
	}
	return out;
}

GBytes *
vt_msg_plain(const char *subject, const char *body)
{
	g_autofree char *text = g_strdup_printf("From: <a@example.org>\n"
						"To: <b@example.org>\n"
						"Subject: %s\n"
						"Message-ID: <plain.%u@example.org>\n"
						"\n"
						"%s\n",
						subject, g_random_int(), body);
	GString *out = crlf(text);
	return g_string_free_to_bytes(out);
}

/* base64_lines - @data base64-encoded in 76-character lines */
static char *
base64_lines(GBytes *data)
{
	gsize len;
	const guint8 *p = g_bytes_get_data(data, &len);
	g_autofree char *b64 = g_base64_encode(p, len);
	GString *out = g_string_new(NULL);
	gsize n = strlen(b64);

	for (gsize i = 0; i < n; i += 76) {
		g_string_append_len(out, b64 + i, (gssize) MIN((gsize) 76, n - i));
		g_string_append_c(out, '\n');
	}
	return g_string_free(out, FALSE);
}

GBytes *
vt_msg_attachment(const char *filename, const char *content_type, GBytes *data)
{
	g_autofree char *b64 = base64_lines(data);
	g_autofree char *text =
		g_strdup_printf("From: <a@example.org>\n"
				"To: <b@example.org>\n"
				"Subject: attachment %s\n"
				"Message-ID: <att.%u@example.org>\n"
				"MIME-Version: 1.0\n"
				"Content-Type: multipart/mixed; boundary=\"=-outer-boundary\"\n"
				"\n"
				"--=-outer-boundary\n"
				"Content-Type: text/plain; charset=us-ascii\n"
				"\n"
				"Please see the attachment.\n"
				"--=-outer-boundary\n"
				"Content-Type: %s; name=\"%s\"\n"
				"Content-Disposition: attachment; filename=\"%s\"\n"
				"Content-Transfer-Encoding: base64\n"
				"\n"
				"%s"
				"--=-outer-boundary--\n",
				filename, g_random_int(), content_type, filename, filename, b64);
	GString *out = crlf(text);
	return g_string_free_to_bytes(out);
}

GBytes *
vt_msg_nested(GBytes *inner)
{
	g_autofree char *inner_text = vt_bytes_str(inner);
	g_autofree char *text =
		g_strdup_printf("From: <a@example.org>\n"
				"To: <b@example.org>\n"
				"Subject: forwarded\n"
				"Message-ID: <fwd.%u@example.org>\n"
				"MIME-Version: 1.0\n"
				"Content-Type: multipart/mixed; boundary=\"=-fwd-boundary\"\n"
				"\n"
				"--=-fwd-boundary\n"
				"Content-Type: text/plain; charset=us-ascii\n"
				"\n"
				"Forwarded message below.\n"
				"--=-fwd-boundary\n"
				"Content-Type: message/rfc822\n"
				"Content-Disposition: attachment; filename=\"forwarded.eml\"\n"
				"\n"
				"%s\n"
				"--=-fwd-boundary--\n",
				g_random_int(), inner_text);
	GString *out = crlf(text);
	return g_string_free_to_bytes(out);
}

char *
vt_bytes_str(GBytes *b)
{
	gsize len;
	const char *p = g_bytes_get_data(b, &len);

	return g_strndup(p, len);
}

/* --- the messages every engine must see through -------------------------------- */

GBytes *
vt_msg_eicar_body(void)
{
	return vt_msg_plain("eicar", vt_eicar);
}

GBytes *
vt_msg_eicar_attachment(void)
{
	g_autoptr(GBytes) e = g_bytes_new_static(vt_eicar, strlen(vt_eicar));
	return vt_msg_attachment("eicar.com", "application/octet-stream", e);
}

GBytes *
vt_msg_payload_attachment(void)
{
	g_autoptr(GBytes) p = vt_payload(1);
	return vt_msg_attachment("data.bin", "application/octet-stream", p);
}

GBytes *
vt_msg_payload_zip(void)
{
	g_autoptr(GBytes) text = g_bytes_new_static("hello\n", 6);
	g_autoptr(GBytes) p = vt_payload(1);
	VtZipEntry entries[] = {{"notes.txt", text, TRUE, FALSE}, {"data.bin", p, TRUE, FALSE}};
	g_autoptr(GBytes) zip = vt_zip(entries, 2);
	return vt_msg_attachment("archive.zip", "application/zip", zip);
}

GBytes *
vt_msg_payload_nested(void)
{
	g_autoptr(GBytes) p = vt_payload(2);
	g_autoptr(GBytes) inner = vt_msg_attachment("data.bin", "application/octet-stream", p);
	return vt_msg_nested(inner);
}

GBytes *
vt_msg_payload_zip_in_nested(void)
{
	g_autoptr(GBytes) inner = vt_msg_payload_zip();
	g_autoptr(GBytes) once = vt_msg_nested(inner);
	return vt_msg_nested(once);
}

const VtDetectCase vt_detect_cases[] = {
	{"EICAR in the body", vt_msg_eicar_body, "Eicar-Test-Signature"},
	{"EICAR as a base64 attachment", vt_msg_eicar_attachment, "Eicar-Test-Signature"},
	{"a hash-only payload as a base64 attachment", vt_msg_payload_attachment,
	 "Mailwarden.Test.Payload1"},
	{"a payload in a deflated zip", vt_msg_payload_zip, "Mailwarden.Test.Payload1"},
	{"a payload in a forwarded message", vt_msg_payload_nested, "Mailwarden.Test.Payload2"},
	{"a zip in a message in a message", vt_msg_payload_zip_in_nested,
	 "Mailwarden.Test.Payload1"},
};

const guint vt_n_detect_cases = G_N_ELEMENTS(vt_detect_cases);

/* --- clamd --------------------------------------------------------------------- */

/* ping - one PING over the unix socket; TRUE on PONG */
static gboolean
ping(const char *path)
{
	struct sockaddr_un sun;
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	g_strlcpy(sun.sun_path, path, sizeof sun.sun_path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return FALSE;
	struct timeval tv = {2, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	gboolean ok = FALSE;
	char buf[16] = {0};
	if (connect(fd, (struct sockaddr *) &sun, sizeof sun) == 0 && write(fd, "zPING", 6) == 6 &&
	    read(fd, buf, sizeof buf - 1) >= 4)
		ok = strncmp(buf, "PONG", 4) == 0;
	close(fd);
	return ok;
}

/* guardian - wait for the test process: a byte on @fd means clamd was stopped and reaped
 * (its PID may be reused: do nothing); EOF means the test process died: kill @pid */
static G_GNUC_NORETURN void
guardian(int fd, pid_t pid)
{
	char c;
	ssize_t n;

	/* a new session: signals meant for the test's process group do not stop us */
	setsid();
	for (int other = 3; other < 1024; other++) {
		if (other != fd)
			close(other);
	}
	do
		n = read(fd, &c, 1);
	while (n < 0 && errno == EINTR);
	if (n == 1)
		_exit(0);
	if (kill(pid, SIGTERM) == 0) {
		for (int i = 0; i < 50 && kill(pid, 0) == 0; i++)
			g_usleep(100000);
		kill(pid, SIGKILL);
	}
	_exit(0);
}

VtClamd *
vt_clamd_start(const char *dir, const char *db, const char *extra_conf)
{
	VtClamd *clamd = g_new0(VtClamd, 1);
	clamd->dir = g_strdup(dir);
	clamd->path = g_build_filename(dir, "clamd.sock", NULL);
	clamd->socket = g_strconcat("unix:", clamd->path, NULL);
	clamd->log = g_build_filename(dir, "clamd.log", NULL);
	g_autofree char *conf_path = g_build_filename(dir, "clamd.conf", NULL);
	g_autofree char *tmp = g_build_filename(dir, "clamd-tmp", NULL);
	/* clamd keeps the first value of a repeated option: the test's lines go first */
	g_autofree char *conf = g_strdup_printf("%s"
						"LocalSocket %s\n"
						"DatabaseDirectory %s\n"
						"TemporaryDirectory %s\n"
						"LogFile %s\n"
						"LogVerbose yes\n"
						"Foreground yes\n"
						"MaxThreads 4\n"
						"StreamMaxLength 10M\n"
						"SelfCheck 3600\n",
						extra_conf != NULL ? extra_conf : "", clamd->path,
						db, tmp, clamd->log);
	ck_assert_int_eq(g_mkdir_with_parents(tmp, 0700), 0);
	ck_assert(g_file_set_contents(conf_path, conf, -1, NULL));
	g_autofree char *arg = g_strconcat("--config-file=", conf_path, NULL);

	clamd->pid = fork();
	ck_assert_int_ge(clamd->pid, 0);
	if (clamd->pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		execlp("clamd", "clamd", "--foreground", arg, (char *) NULL);
		_exit(127);
	}
	int fds[2];
	ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
	clamd->guardian = fork();
	ck_assert_int_ge(clamd->guardian, 0);
	if (clamd->guardian == 0) {
		close(fds[1]);
		guardian(fds[0], clamd->pid);
	}
	close(fds[0]);
	clamd->guardian_fd = fds[1];

	for (int i = 0; i < 300; i++) {
		if (ping(clamd->path))
			return clamd;
		int status;
		if (waitpid(clamd->pid, &status, WNOHANG) == clamd->pid) {
			g_autofree char *log = NULL;
			g_file_get_contents(clamd->log, &log, NULL, NULL);
			ck_abort_msg("clamd exited (status %d) before answering; log:\n%s", status,
				     log != NULL ? log : "(none)");
		}
		g_usleep(50000);
	}
	ck_abort_msg("clamd did not answer PING within 15 s");
	return NULL;
}

void
vt_clamd_stop(VtClamd *clamd)
{
	if (clamd == NULL)
		return;
	if (clamd->pid > 0 && kill(clamd->pid, SIGTERM) == 0) {
		int status;
		gboolean gone = FALSE;
		for (int i = 0; i < 100 && !gone; i++) {
			gone = waitpid(clamd->pid, &status, WNOHANG) == clamd->pid;
			if (!gone)
				g_usleep(50000);
		}
		if (!gone) {
			kill(clamd->pid, SIGKILL);
			waitpid(clamd->pid, &status, 0);
		}
	}
	/* tell the guardian clamd is gone, so that it kills nothing */
	if (write(clamd->guardian_fd, "x", 1) != 1)
		g_warning("cannot signal the clamd guardian: %s", g_strerror(errno));
	close(clamd->guardian_fd);
	if (clamd->guardian > 0)
		waitpid(clamd->guardian, NULL, 0);
	g_free(clamd->dir);
	g_free(clamd->socket);
	g_free(clamd->path);
	g_free(clamd->log);
	g_free(clamd);
}
