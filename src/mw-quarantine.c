/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-quarantine - keep a message aside, and give it back
 * SYNOPSIS
 *	mw_quarantine_store, mw_quarantine_load, mw_quarantine_remove,
 *	mw_quarantine_id_valid
 * DESCRIPTION
 *	A quarantined message counts as accepted (250), so it must be on disk
 *	for good before the reply: each file is written under a temporary name,
 *	fsync'ed, renamed into place, and the folder is fsync'ed. The .eml is
 *	renamed last, so an ID whose .eml exists is complete.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "mw-error.h"
#include "mw-quarantine.h"

/* quarantine_dir - state_dir/quarantine, created on demand */
static char *
quarantine_dir(const char *state_dir, GError **error)
{
	g_autofree char *dir = g_build_filename(state_dir, "quarantine", NULL);
	if (g_mkdir_with_parents(dir, 0750) < 0) {
		g_set_error(error, MW_ERROR, MW_ERROR_TEMPORARY, "cannot create %s: %s", dir,
			    g_strerror(errno));
		return NULL;
	}
	return g_steal_pointer(&dir);
}

/* write_file_durably - temp file, content, fsync, rename */
static gboolean
write_file_durably(const char *path, MwMessage *message, const char *text, GError **error)
{
	g_autofree char *tmp = g_strconcat(path, ".tmp", NULL);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0) {
		g_set_error(error, MW_ERROR, MW_ERROR_TEMPORARY, "cannot create %s: %s", tmp,
			    g_strerror(errno));
		return FALSE;
	}
	gboolean ok;
	if (message != NULL) {
		ok = mw_message_write_to_fd(message, fd, error);
	} else {
		gsize len = text != NULL ? strlen(text) : 0;
		ok = len == 0 || write(fd, text, len) == (ssize_t) len;
		if (!ok)
			g_set_error(error, MW_ERROR, MW_ERROR_TEMPORARY, "cannot write %s: %s", tmp,
				    g_strerror(errno));
	}
	if (ok && fsync(fd) < 0) {
		g_set_error(error, MW_ERROR, MW_ERROR_TEMPORARY, "cannot fsync %s: %s", tmp,
			    g_strerror(errno));
		ok = FALSE;
	}
	close(fd);
	if (ok && g_rename(tmp, path) < 0) {
		g_set_error(error, MW_ERROR, MW_ERROR_TEMPORARY, "cannot rename %s: %s", tmp,
			    g_strerror(errno));
		ok = FALSE;
	}
	if (!ok)
		(void) g_unlink(tmp);
	return ok;
}

/* quarantine_id - stable for the same queue id, envelope and bytes */
static char *
quarantine_id(const char *queue_id, const char *envelope_text, MwMessage *message)
{
	g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
	g_checksum_update(sum, (const guchar *) queue_id, -1);
	g_checksum_update(sum, (const guchar *) "\n", 1);
	g_checksum_update(sum, (const guchar *) envelope_text, -1);
	guint8 buf[16384];
	guint64 offset = 0;
	gssize n;
	while ((n = mw_message_read(message, offset, buf, sizeof buf, NULL)) > 0) {
		g_checksum_update(sum, buf, (gsize) n);
		offset += (guint64) n;
	}
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_autofree char *day = g_date_time_format(now, "%Y%m%d");
	return g_strdup_printf("%s-%.16s", day, g_checksum_get_string(sum));
}

gboolean
mw_quarantine_id_valid(const char *id)
{
	if (id == NULL || *id == '\0' || strlen(id) > 64)
		return FALSE;
	for (const char *p = id; *p != '\0'; p++) {
		if (!g_ascii_isalnum(*p) && *p != '-')
			return FALSE;
	}
	return TRUE;
}

char *
mw_quarantine_store(const char *state_dir, const MwEnvelope *envelope, MwMessage *message,
		    const char *queue_id, const char *reason, GError **error)
{
	g_autofree char *dir = quarantine_dir(state_dir, error);
	if (dir == NULL)
		return NULL;
	g_autofree char *env_text = mw_envelope_to_text(envelope, TRUE);
	g_autofree char *id = quarantine_id(queue_id, env_text, message);
	g_autofree char *base = g_build_filename(dir, id, NULL);
	g_autofree char *env_path = g_strconcat(base, ".env", NULL);
	g_autofree char *info_path = g_strconcat(base, ".info", NULL);
	g_autofree char *eml_path = g_strconcat(base, ".eml", NULL);
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_autofree char *stamp = g_date_time_format_iso8601(now);
	g_autofree char *info = g_strdup_printf("queue_id=%s\nreason=%s\ntime=%s\n", queue_id,
						reason != NULL ? reason : "", stamp);
	if (!write_file_durably(env_path, NULL, env_text, error) ||
	    !write_file_durably(info_path, NULL, info, error) ||
	    !write_file_durably(eml_path, message, NULL, error))
		return NULL;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void) fsync(dfd);
		close(dfd);
	}
	return g_steal_pointer(&id);
}

gboolean
mw_quarantine_load(const char *state_dir, const char *id, MwEnvelope **envelope_out,
		   MwMessage **message_out, GError **error)
{
	if (!mw_quarantine_id_valid(id)) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "invalid quarantine id '%s'", id);
		return FALSE;
	}
	g_autofree char *base = g_build_filename(state_dir, "quarantine", id, NULL);
	g_autofree char *env_path = g_strconcat(base, ".env", NULL);
	g_autofree char *eml_path = g_strconcat(base, ".eml", NULL);
	g_autofree char *env_text = NULL;
	if (!g_file_test(eml_path, G_FILE_TEST_EXISTS)) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "no quarantined message %s", id);
		return FALSE;
	}
	if (!g_file_get_contents(env_path, &env_text, NULL, error))
		return FALSE;
	g_autoptr(MwEnvelope) envelope = mw_envelope_from_text(env_text, error);
	if (envelope == NULL)
		return FALSE;
	MwMessage *message = mw_message_new_from_file(eml_path, state_dir, error);
	if (message == NULL)
		return FALSE;
	*envelope_out = g_steal_pointer(&envelope);
	*message_out = message;
	return TRUE;
}

gboolean
mw_quarantine_remove(const char *state_dir, const char *id, GError **error)
{
	if (!mw_quarantine_id_valid(id)) {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG, "invalid quarantine id '%s'", id);
		return FALSE;
	}
	g_autofree char *base = g_build_filename(state_dir, "quarantine", id, NULL);
	const char *suffixes[] = {".eml", ".env", ".info"};
	for (guint i = 0; i < G_N_ELEMENTS(suffixes); i++) {
		g_autofree char *path = g_strconcat(base, suffixes[i], NULL);
		if (g_unlink(path) < 0 && errno != ENOENT) {
			g_set_error(error, MW_ERROR, MW_ERROR_IO, "cannot remove %s: %s", path,
				    g_strerror(errno));
			return FALSE;
		}
	}
	return TRUE;
}
