/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-calstore-dir - the calendar store backend "dir:PATH"
 * SYNOPSIS
 *	mw_calstore_dir_new(), mw_calstore_name()
 * DESCRIPTION
 *	PATH/<calendar>/<name>.ics holds one object; names are derived from the
 *	UID (safe characters kept, others %XX, long ones hashed) since a UID
 *	may hold any character, "/" included. Writes go to a temporary file
 *	in the same folder, are synced and renamed over the old one, so a
 *	reader sees the old or the new object, never half of one.
 *
 *	PATH/<calendar>/.lock is locked with flock(2) for check-and-book; it
 *	also holds a change counter bumped by every write under the lock, so
 *	each worker's cache notices the changes of the others. The lock
 *	waits in short steps up to a bound: a stuck worker delays bookings
 *	(the message is deferred), it never hangs them.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "mw-calstore.h"
#include "mw-error.h"

typedef struct {
	char *root;
} DirStore;

typedef struct {
	int fd;
	char *folder;
} DirLock;

/* the longest name kept readable; longer ones are hashed */
#define NAME_MAX_READABLE 180

/* mw_calstore_name - a file-system-safe name for any string (UIDs, addresses) */
char *
mw_calstore_name(const char *text)
{
	GString *out = g_string_new(NULL);
	for (const guchar *p = (const guchar *) text; *p != '\0'; p++) {
		if (g_ascii_isalnum(*p) || *p == '@' || *p == '-' || *p == '_' || *p == '+' ||
		    (*p == '.' && p != (const guchar *) text))
			g_string_append_c(out, (char) *p);
		else
			g_string_append_printf(out, "%%%02X", *p);
	}
	if (out->len == 0)
		g_string_append(out, "%00");
	if (out->len > NAME_MAX_READABLE) {
		g_autofree char *hash = g_compute_checksum_for_string(G_CHECKSUM_SHA256, text, -1);
		g_string_free(out, TRUE);
		return g_strconcat("h-", hash, NULL);
	}
	return g_string_free(out, FALSE);
}

/* folder_of - PATH/<calendar> */
static char *
folder_of(DirStore *store, const char *calendar)
{
	g_autofree char *safe = mw_calstore_name(calendar);
	return g_build_filename(store->root, safe, NULL);
}

static gpointer
dir_lock(gpointer data, const char *calendar, guint timeout_ms, GError **error)
{
	DirStore *store = data;
	g_autofree char *folder = folder_of(store, calendar);
	if (g_mkdir_with_parents(folder, 0750) != 0) {
		int e = errno;
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "cannot create %s: %s", folder,
			    g_strerror(e));
		return NULL;
	}
	/* the journal exists from the start: creating it later would change the folder's
	 * mtime after a write and make every other worker list the folder once */
	g_autofree char *journal = g_build_filename(folder, ".journal", NULL);
	if (!g_file_test(journal, G_FILE_TEST_EXISTS)) {
		int jfd = open(journal, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
		if (jfd >= 0)
			close(jfd);
	}
	g_autofree char *path = g_build_filename(folder, ".lock", NULL);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		int e = errno;
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "cannot open %s: %s", path,
			    g_strerror(e));
		return NULL;
	}
	gint64 deadline = g_get_monotonic_time() + (gint64) timeout_ms * 1000;
	while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		if ((e != EWOULDBLOCK && e != EINTR) || g_get_monotonic_time() > deadline) {
			close(fd);
			g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "cannot lock %s: %s", path,
				    e == EWOULDBLOCK ? "still locked by another process"
						     : g_strerror(e));
			return NULL;
		}
		g_usleep(2000);
	}
	DirLock *lock = g_new0(DirLock, 1);
	lock->fd = fd;
	lock->folder = g_steal_pointer(&folder);
	return lock;
}

static void
dir_unlock(gpointer data, gpointer handle)
{
	DirLock *lock = handle;
	if (lock == NULL)
		return;
	flock(lock->fd, LOCK_UN);
	close(lock->fd);
	g_free(lock->folder);
	g_free(lock);
}

/* read_counter - the change counter in the lock file (0 when empty or garbled) */
static guint64
read_counter(DirLock *lock)
{
	char buf[32] = {0};
	ssize_t n = pread(lock->fd, buf, sizeof buf - 1, 0);
	if (n <= 0)
		return 0;
	return g_ascii_strtoull(buf, NULL, 10);
}

/* folder_mtime - the folder's change time in ns */
static gboolean
folder_mtime(DirLock *lock, guint64 *out, GError **error)
{
	struct stat st;
	if (stat(lock->folder, &st) != 0) {
		int e = errno;
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "%s: %s", lock->folder,
			    g_strerror(e));
		return FALSE;
	}
	*out = (guint64) st.st_mtim.tv_sec * 1000000000u + (guint64) st.st_mtim.tv_nsec;
	return TRUE;
}

static gboolean
dir_state(gpointer data, gpointer handle, MwCalState *out, GError **error)
{
	DirLock *lock = handle;
	out->counter = read_counter(lock);
	/* the folder's mtime too: an administrator may delete or restore files by hand */
	return folder_mtime(lock, &out->mtime, error);
}

/* the journal is started afresh after this many writes */
#define JOURNAL_MAX 4096

static gboolean
dir_bump(gpointer data, gpointer handle, const char *name, GError **error)
{
	DirLock *lock = handle;
	guint64 counter = read_counter(lock) + 1;
	guint64 mtime = 0;
	if (!folder_mtime(lock, &mtime, error))
		return FALSE;
	/* PATH/<calendar>/.journal: "COUNTER MTIME NAME" per write, so the other workers
	 * read only what changed; "base COUNTER" after a restart of the journal */
	g_autofree char *journal = g_build_filename(lock->folder, ".journal", NULL);
	g_autofree char *line = NULL;
	gboolean ok;
	if (counter % JOURNAL_MAX == 0) {
		line = g_strdup_printf("base %" G_GUINT64_FORMAT "\n", counter);
		ok = g_file_set_contents(journal, line, -1, error);
	} else {
		line = g_strdup_printf("%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %s\n", counter,
				       mtime, name);
		int fd = open(journal, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
		gsize len = strlen(line);
		ok = fd >= 0 && write(fd, line, len) == (ssize_t) len;
		int e = errno;
		if (fd >= 0)
			close(fd);
		if (!ok)
			g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "cannot write %s: %s",
				    journal, g_strerror(e));
	}
	if (!ok)
		return FALSE;
	char buf[32];
	int len = g_snprintf(buf, sizeof buf, "%020" G_GUINT64_FORMAT "\n", counter);
	if (pwrite(lock->fd, buf, (size_t) len, 0) != len) {
		int e = errno;
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND,
			    "cannot write the lock file in %s: %s", lock->folder, g_strerror(e));
		return FALSE;
	}
	return TRUE;
}

static gboolean
dir_changes(gpointer data, gpointer handle, const MwCalState *since, const MwCalState *now,
	    GPtrArray *names_out)
{
	DirLock *lock = handle;
	if (now->counter < since->counter)
		return FALSE;
	if (now->counter == since->counter)
		return now->mtime == since->mtime;
	g_autofree char *journal = g_build_filename(lock->folder, ".journal", NULL);
	g_autofree char *text = NULL;
	if (!g_file_get_contents(journal, &text, NULL, NULL))
		return FALSE;
	guint64 expect = since->counter + 1, last_mtime = 0;
	char *saveptr = NULL;
	for (char *line = strtok_r(text, "\n", &saveptr); line != NULL;
	     line = strtok_r(NULL, "\n", &saveptr)) {
		if (g_str_has_prefix(line, "base ")) {
			/* history before the base is gone */
			if (g_ascii_strtoull(line + 5, NULL, 10) > since->counter)
				return FALSE;
			continue;
		}
		char *end = NULL;
		guint64 counter = g_ascii_strtoull(line, &end, 10);
		if (counter <= since->counter || counter > now->counter)
			continue;
		if (counter != expect || end == NULL || *end != ' ')
			return FALSE;
		char *name = NULL;
		last_mtime = g_ascii_strtoull(end + 1, &name, 10);
		if (name == NULL || *name != ' ')
			return FALSE;
		g_ptr_array_add(names_out, g_strdup(name + 1));
		expect++;
	}
	/* every write accounted for, and nothing changed by hand since the last one */
	return expect == now->counter + 1 && last_mtime == now->mtime;
}

static char *
dir_object_name(gpointer data, const char *uid)
{
	g_autofree char *safe = mw_calstore_name(uid);
	return g_strconcat(safe, ".ics", NULL);
}

/* stamp_of - identity of a file version: a rename makes a new inode */
static guint64
stamp_of(const struct stat *st)
{
	return (guint64) st->st_ino * 0x100000001B3u ^ (guint64) st->st_mtim.tv_nsec ^
	       ((guint64) st->st_mtim.tv_sec << 20) ^ ((guint64) st->st_size << 40);
}

static icalcomponent *
dir_load(gpointer data, const char *calendar, const char *name, guint64 *stamp_out, GError **error)
{
	DirStore *store = data;
	g_autofree char *folder = folder_of(store, calendar);
	g_autofree char *path = g_build_filename(folder, name, NULL);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		if (e == ENOENT)
			return NULL;
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "cannot read %s: %s", path,
			    g_strerror(e));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) != 0 || st.st_size > 64 * 1024 * 1024) {
		close(fd);
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "cannot read %s", path);
		return NULL;
	}
	g_autofree char *text = g_malloc((gsize) st.st_size + 1);
	gsize got = 0;
	while (got < (gsize) st.st_size) {
		ssize_t n = read(fd, text + got, (gsize) st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (gsize) n;
	}
	close(fd);
	text[got] = '\0';
	if (stamp_out != NULL)
		*stamp_out = stamp_of(&st);
	icalcomponent *vcal = icalparser_parse_string(text);
	icalerror_clear_errno();
	if (vcal == NULL || icalcomponent_isa(vcal) != ICAL_VCALENDAR_COMPONENT) {
		if (vcal != NULL)
			icalcomponent_free(vcal);
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "%s is no iCalendar object", path);
		return NULL;
	}
	return vcal;
}

static gboolean
dir_put(gpointer data, const char *calendar, const char *name, const char *text, GError **error)
{
	DirStore *store = data;
	g_autofree char *folder = folder_of(store, calendar);
	g_autofree char *path = g_build_filename(folder, name, NULL);
	g_autofree char *tmp = g_build_filename(folder, ".tmp-XXXXXX", NULL);
	int fd = g_mkstemp_full(tmp, O_RDWR | O_CLOEXEC, 0640);
	if (fd < 0) {
		int e = errno;
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "cannot create a file in %s: %s",
			    folder, g_strerror(e));
		return FALSE;
	}
	gsize len = strlen(text), done = 0;
	while (done < len) {
		ssize_t n = write(fd, text + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (gsize) n;
	}
	int e = done == len ? 0 : errno;
	if (e == 0 && fdatasync(fd) != 0)
		e = errno;
	close(fd);
	if (e == 0 && rename(tmp, path) != 0)
		e = errno;
	if (e != 0) {
		g_unlink(tmp);
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "cannot write %s: %s", path,
			    g_strerror(e ? e : EIO));
		return FALSE;
	}
	return TRUE;
}

static gboolean
dir_remove(gpointer data, const char *calendar, const char *name, GError **error)
{
	DirStore *store = data;
	g_autofree char *folder = folder_of(store, calendar);
	g_autofree char *path = g_build_filename(folder, name, NULL);
	if (g_unlink(path) != 0 && errno != ENOENT) {
		int e = errno;
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "cannot remove %s: %s", path,
			    g_strerror(e));
		return FALSE;
	}
	return TRUE;
}

static void
info_free(MwCalObjectInfo *info)
{
	g_free(info->name);
	g_free(info);
}

static GPtrArray *
dir_list(gpointer data, const char *calendar, GError **error)
{
	DirStore *store = data;
	g_autofree char *folder = folder_of(store, calendar);
	GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify) info_free);
	DIR *d = opendir(folder);
	if (d == NULL) {
		int e = errno;
		if (e == ENOENT)
			return out;
		g_ptr_array_unref(out);
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "cannot read %s: %s", folder,
			    g_strerror(e));
		return NULL;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || !g_str_has_suffix(de->d_name, ".ics"))
			continue;
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, 0) != 0 || !S_ISREG(st.st_mode))
			continue;
		MwCalObjectInfo *info = g_new0(MwCalObjectInfo, 1);
		info->name = g_strdup(de->d_name);
		info->stamp = stamp_of(&st);
		g_ptr_array_add(out, info);
	}
	closedir(d);
	return out;
}

/* unname - the calendar name back from a folder name (%XX decoded) */
static char *
unname(const char *name)
{
	GString *out = g_string_new(NULL);
	for (const char *p = name; *p != '\0'; p++) {
		if (*p == '%' && g_ascii_isxdigit(p[1]) && g_ascii_isxdigit(p[2])) {
			g_string_append_c(out, (char) (g_ascii_xdigit_value(p[1]) * 16 +
						       g_ascii_xdigit_value(p[2])));
			p += 2;
		} else {
			g_string_append_c(out, *p);
		}
	}
	return g_string_free(out, FALSE);
}

static char **
dir_calendars(gpointer data, GError **error)
{
	DirStore *store = data;
	g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
	DIR *d = opendir(store->root);
	if (d == NULL) {
		int e = errno;
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "cannot read %s: %s", store->root,
			    g_strerror(e));
		return NULL;
	}
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		struct stat st;
		if (fstatat(dirfd(d), de->d_name, &st, 0) == 0 && S_ISDIR(st.st_mode))
			g_ptr_array_add(out, unname(de->d_name));
	}
	closedir(d);
	g_ptr_array_add(out, NULL);
	return (char **) g_ptr_array_free(g_steal_pointer(&out), FALSE);
}

static void
dir_free(gpointer data)
{
	DirStore *store = data;
	g_free(store->root);
	g_free(store);
}

static const MwCalStoreBackend dir_backend = {
	.name = "dir",
	.lock = dir_lock,
	.unlock = dir_unlock,
	.state = dir_state,
	.bump = dir_bump,
	.changes = dir_changes,
	.object_name = dir_object_name,
	.load = dir_load,
	.put = dir_put,
	.remove = dir_remove,
	.list = dir_list,
	.calendars = dir_calendars,
	.free = dir_free,
};

/* spec_root - the folder of a "dir:PATH" @spec, or NULL with MW_ERROR_CONFIG */
static const char *
spec_root(const char *spec, GError **error)
{
	if (spec == NULL || !g_str_has_prefix(spec, "dir:") || spec[4] == '\0') {
		g_set_error(error, MW_ERROR, MW_ERROR_CONFIG,
			    "calendars: '%s' is not a supported store (dir:PATH)",
			    spec != NULL ? spec : "");
		return NULL;
	}
	return spec + 4;
}

/**
 * mw_calstore_open:
 * @spec: "dir:PATH" (the folder is created when missing)
 * Returns: (transfer full): the store; MW_ERROR_CONFIG for a bad spec,
 *   MW_ERROR_BACKEND when the folder cannot be used
 */
MwCalStore *
mw_calstore_open(const char *spec, GError **error)
{
	const char *root = spec_root(spec, error);
	if (root == NULL)
		return NULL;
	if (g_mkdir_with_parents(root, 0750) != 0 || access(root, W_OK | X_OK) != 0) {
		int e = errno;
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND, "calendars %s: %s", root,
			    g_strerror(e));
		return NULL;
	}
	DirStore *store = g_new0(DirStore, 1);
	store->root = g_strdup(root);
	return mw_calstore_new(&dir_backend, store);
}

/**
 * mw_calstore_check:
 * @spec: as for mw_calstore_open()
 * The probe of `--check-config`: the store's folder (or, when it does not
 * exist yet, the folder it would be created in) is a writable folder.
 * Creates nothing: the check may run as root, the workers as another user.
 * Returns: FALSE with MW_ERROR_CONFIG or MW_ERROR_BACKEND, as mw_calstore_open()
 */
gboolean
mw_calstore_check(const char *spec, GError **error)
{
	const char *path = spec_root(spec, error);
	if (path == NULL)
		return FALSE;
	g_autofree char *parent = g_path_get_dirname(path);
	const char *probe = g_file_test(path, G_FILE_TEST_EXISTS) ? path : parent;
	if (!g_file_test(probe, G_FILE_TEST_IS_DIR) || access(probe, W_OK | X_OK) != 0) {
		g_set_error(error, MW_ERROR, MW_ERROR_BACKEND,
			    "calendars: %s is no writable folder", probe);
		return FALSE;
	}
	return TRUE;
}
