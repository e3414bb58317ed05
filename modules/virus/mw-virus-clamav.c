/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-virus-clamav - the in-process ClamAV engine (libclamav)
 * SYNOPSIS
 *	mw_virus_clamav_new, mw_virus_clamav_free, mw_virus_clamav_scan,
 *	mw_virus_clamav_get_signatures, mw_virus_clamav_check_database
 * DESCRIPTION
 *	One engine per configuration generation: loaded and compiled in the
 *	master by the module's start() before the workers fork, so its memory
 *	(hundreds of MiB with the official databases) is shared copy-on-write
 *	by every worker instead of being built once per worker. A SIGHUP builds
 *	the next generation's engine beside the running one; the old one is
 *	freed with its configuration.
 *
 *	A scan reads the message as received through an fmap whose read
 *	callback is mw_message_read(), so a message in memory is not copied to
 *	a file and a spooled one is read on demand. libclamav's own mail
 *	parser does the rest: MIME structure, base64/quoted-printable/uuencode,
 *	nested message/rfc822 parts, archives (CL_SCAN_PARSE_*), within the
 *	configured limits; the scan time is bounded by the module's timeout.
 *	That parser writes what it decodes to temporary files (tmpdir): on a
 *	tmpfs a scan costs a fraction of what it costs on a disk file system.
 *
 *	The virus name is taken from the virus-found callback: libclamav 1.4
 *	leaves the scan's virname NULL for heuristic alerts (limits exceeded,
 *	encrypted archives) unless such a callback is registered.
 *
 *	cl_init() and the log callback are process-wide in libclamav; they are
 *	set up once (GOnce) on the first engine.
 * SEE ALSO
 *	clamav.h, mw-virus.c
 */
#include <errno.h>
#include <string.h>

#include <clamav.h>

#include "mw-error.h"
#include "mw-virus.h"

struct _MwVirusClamav {
	struct cl_engine *engine;
	struct cl_scan_options options;
	guint signatures;
	guint timeout_s;
};

/* clamav_log - libclamav's messages into our log (they end with a newline) */
static void
clamav_log(enum cl_msg severity, const char *fullmsg, const char *msg, void *context)
{
	g_autofree char *text = g_strchomp(g_strdup(msg != NULL ? msg : ""));

	switch (severity) {
	case CL_MSG_ERROR:
		g_warning("libclamav: %s", text);
		break;
	case CL_MSG_WARN:
		g_info("libclamav: %s", text);
		break;
	default:
		g_debug("libclamav: %s", text);
		break;
	}
}

/* virus_found - the first signature name of a scan into its context (a char **) */
static void
virus_found(int fd, const char *virname, void *context)
{
	char **name = context;

	if (name != NULL && *name == NULL && virname != NULL)
		*name = g_strdup(virname);
}

/* clamav_init_once - cl_init() and the log callback, once per process */
static gpointer
clamav_init_once(gpointer data)
{
	cl_set_clcb_msg(clamav_log);
	return GINT_TO_POINTER((int) cl_init(CL_INIT_DEFAULT) + 1);
}

/* clamav_init - FALSE with an error when libclamav cannot start at all */
static gboolean
clamav_init(GError **error)
{
	static GOnce once = G_ONCE_INIT;
	cl_error_t rc = (cl_error_t) (GPOINTER_TO_INT(g_once(&once, clamav_init_once, NULL)) - 1);

	if (rc != CL_SUCCESS) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "libclamav: cl_init: %s",
			    cl_strerror(rc));
		return FALSE;
	}
	return TRUE;
}

/* set_num - one engine limit; FALSE with an error naming it */
static gboolean
set_num(struct cl_engine *engine, enum cl_engine_field field, const char *what, long long value,
	GError **error)
{
	cl_error_t rc = cl_engine_set_num(engine, field, value);

	if (rc != CL_SUCCESS) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG,
			    "libclamav: cannot set %s to %lld: %s", what, value, cl_strerror(rc));
		return FALSE;
	}
	return TRUE;
}

/**
 * mw_virus_clamav_new:
 * @cfg: database, limits, timeout, encrypted and oversized policies
 *
 * Loads every database in cfg->database (official .cvd/.cld and local .hdb,
 * .ndb, ... files) and compiles the engine. Slow (seconds to a minute with the
 * official databases) and large: call it where its memory can be shared.
 *
 * Returns: (transfer full) (nullable): the engine, or NULL with
 * MW_ERROR_CONFIG (no database, unreadable or broken signatures)
 */
MwVirusClamav *
mw_virus_clamav_new(const MwVirusConfig *cfg, GError **error)
{
	if (!clamav_init(error))
		return NULL;
	if (!g_file_test(cfg->database, G_FILE_TEST_IS_DIR) &&
	    !g_file_test(cfg->database, G_FILE_TEST_IS_REGULAR)) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "database %s: %s", cfg->database,
			    g_strerror(ENOENT));
		return NULL;
	}
	g_autoptr(MwVirusClamav) self = g_new0(MwVirusClamav, 1);
	self->engine = cl_engine_new();
	if (self->engine == NULL) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "libclamav: cannot create an engine");
		return NULL;
	}
	self->timeout_s = (guint) cfg->timeout;
	if (!set_num(self->engine, CL_ENGINE_MAX_SCANSIZE, "max_scan_size",
		     (long long) cfg->max_scan_size, error) ||
	    !set_num(self->engine, CL_ENGINE_MAX_FILESIZE, "max_file_size",
		     (long long) cfg->max_file_size, error) ||
	    !set_num(self->engine, CL_ENGINE_MAX_FILES, "max_files", cfg->max_files, error) ||
	    !set_num(self->engine, CL_ENGINE_MAX_RECURSION, "max_recursion", cfg->max_recursion,
		     error) ||
	    !set_num(self->engine, CL_ENGINE_MAX_SCANTIME, "timeout", cfg->timeout * 1000, error))
		return NULL;

	if (cfg->tmpdir != NULL && *cfg->tmpdir != '\0') {
		if (!g_file_test(cfg->tmpdir, G_FILE_TEST_IS_DIR)) {
			g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "tmpdir %s: not a directory",
				    cfg->tmpdir);
			return NULL;
		}
		cl_error_t trc = cl_engine_set_str(self->engine, CL_ENGINE_TMPDIR, cfg->tmpdir);
		if (trc != CL_SUCCESS) {
			g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "libclamav: tmpdir %s: %s",
				    cfg->tmpdir, cl_strerror(trc));
			return NULL;
		}
	}

	unsigned int signatures = 0;
	cl_error_t rc = cl_load(cfg->database, self->engine, &signatures, CL_DB_STDOPT);
	if (rc != CL_SUCCESS) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "database %s: %s", cfg->database,
			    cl_strerror(rc));
		return NULL;
	}
	if (signatures == 0) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "database %s: no signatures",
			    cfg->database);
		return NULL;
	}
	rc = cl_engine_compile(self->engine);
	if (rc != CL_SUCCESS) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "database %s: cannot compile: %s",
			    cfg->database, cl_strerror(rc));
		return NULL;
	}
	self->signatures = signatures;
	cl_engine_set_clcb_virus_found(self->engine, virus_found);

	/* what clamd scans by default, plus the heuristics the config asks for */
	memset(&self->options, 0, sizeof self->options);
	self->options.general = CL_SCAN_GENERAL_HEURISTICS;
	self->options.parse = ~0u;
	if (cfg->encrypted == MW_VIRUS_ENCRYPTED_BLOCK)
		self->options.heuristic |=
			CL_SCAN_HEURISTIC_ENCRYPTED_ARCHIVE | CL_SCAN_HEURISTIC_ENCRYPTED_DOC;
	if (cfg->oversized == MW_VIRUS_OVERSIZED_BLOCK)
		self->options.heuristic |= CL_SCAN_HEURISTIC_EXCEEDS_MAX;
	return g_steal_pointer(&self);
}

void
mw_virus_clamav_free(MwVirusClamav *self)
{
	if (self == NULL)
		return;
	if (self->engine != NULL)
		cl_engine_free(self->engine);
	g_free(self);
}

/* mw_virus_clamav_get_signatures - how many signatures the engine loaded */
guint
mw_virus_clamav_get_signatures(const MwVirusClamav *self)
{
	return self->signatures;
}

/* message_pread - the fmap read callback: @count bytes of the message at @offset */
static off_t
message_pread(void *handle, void *buf, size_t count, off_t offset)
{
	MwMessage *message = handle;
	gsize done = 0;

	while (done < count) {
		gssize n = mw_message_read(message, (guint64) offset + done, (guint8 *) buf + done,
					   count - done, NULL);
		if (n < 0) {
			errno = EIO;
			return -1;
		}
		if (n == 0)
			break;
		done += (gsize) n;
	}
	return (off_t) done;
}

/**
 * mw_virus_clamav_scan:
 * @message: the message as received
 * @virus_out: (out) (transfer full): the signature name, NULL when clean
 *
 * Returns: FALSE with MW_ERROR_BACKEND when the scan failed (timeout, a
 * read or temporary-file error, out of memory); TRUE otherwise
 */
gboolean
mw_virus_clamav_scan(MwVirusClamav *self, MwMessage *message, char **virus_out, GError **error)
{
	*virus_out = NULL;
	guint64 size = mw_message_get_size(message);
	if (size == 0)
		return TRUE;
	cl_fmap_t *map = cl_fmap_open_handle(message, 0, (size_t) size, message_pread,
					     mw_message_is_spooled(message));
	if (map == NULL) {
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND,
			    "libclamav: cannot map the message (%" G_GUINT64_FORMAT " bytes)",
			    size);
		return FALSE;
	}
	const char *virus = NULL;
	g_autofree char *found = NULL;
	unsigned long scanned = 0;
	struct cl_scan_options options = self->options;
	cl_error_t rc = cl_scanmap_callback(map, "message", &virus, &scanned, self->engine,
					    &options, &found);
	cl_fmap_close(map);
	switch (rc) {
	case CL_CLEAN:
		return TRUE;
	case CL_VIRUS:
		if (found == NULL)
			found = g_strdup(virus != NULL ? virus : "unknown");
		*virus_out = g_steal_pointer(&found);
		return TRUE;
	case CL_ETIMEOUT:
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND,
			    "libclamav: scan timed out after %us", self->timeout_s);
		return FALSE;
	default:
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "libclamav: scan failed: %s",
			    cl_strerror(rc));
		return FALSE;
	}
}

/**
 * mw_virus_clamav_check_database:
 * @database: a directory of signature files (or one file)
 * @count_out: (out) (optional): how many signatures it holds
 *
 * Counts the signatures without building an engine (for --check-config,
 * which must stay quick even with the official databases).
 *
 * Returns: FALSE with MW_ERROR_CONFIG when there is nothing usable
 */
gboolean
mw_virus_clamav_check_database(const char *database, guint *count_out, GError **error)
{
	unsigned int count = 0;

	if (!clamav_init(error))
		return FALSE;
	if (!g_file_test(database, G_FILE_TEST_EXISTS)) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "database %s: %s", database,
			    g_strerror(ENOENT));
		return FALSE;
	}
	cl_error_t rc = cl_countsigs(database, CL_COUNTSIGS_ALL, &count);
	if (rc != CL_SUCCESS) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "database %s: %s", database,
			    cl_strerror(rc));
		return FALSE;
	}
	if (count == 0) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "database %s: no signatures",
			    database);
		return FALSE;
	}
	if (count_out != NULL)
		*count_out = count;
	return TRUE;
}
