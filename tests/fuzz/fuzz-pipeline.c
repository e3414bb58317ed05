/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	fuzz-pipeline - arbitrary bytes as a message through every module
 * DESCRIPTION
 *	The real modules that need no outside service run in the documented
 *	order: virus (libclamav with a tiny hash and body signature database
 *	for EICAR), spam (builtin engine, no SPF, no DNSBL, no Bayes),
 *	resources and invitations (a directory file with one resource, one
 *	collection and one user; calendars in a folder), footer and gpg (an
 *	empty keyring: nobody has a key, the lookup still runs). A module whose
 *	start() fails here (no libclamav engine, no gpg) is left out, with a
 *	line on stderr at the first call. The recipients are the resource, the
 *	collection, the user and a plain remote address. Message in, pipeline,
 *	dispatch in scan mode, emitted messages read back; an unmodified
 *	variant must keep the input's size.
 *	Everything lives in a temporary directory made at the first call; the
 *	state_dir (quarantine, answered versions, calendars) is emptied before
 *	every input and the calendars get one weekly booking of the resources
 *	and the user (invitations meet stored busy time), so that runs stay
 *	reproducible and nothing grows.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>
#include <sanitizer/lsan_interface.h>

#include "mw-calstore.h"
#include "mw-dispatch.h"
#include "mw-pipeline.h"
#include "mw-txn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PIPELINE_MAX_INPUT (1 << 20)

static const char eicar[] = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

static const char directory_text[] = "[user:alice@example.org]\n"
				     "name = Alice\n"
				     "language = de\n"
				     "[resource:room101@example.org]\n"
				     "name = Room 101\n"
				     "aliases = r101@example.org\n"
				     "owner = alice@example.org\n"
				     "[resource:car1@example.org]\n"
				     "name = Car 1\n"
				     "[collection:cars@example.org]\n"
				     "name = Car Pool\n"
				     "members = car1@example.org\n"
				     "policy = ACT_ACCEPT_AND_NOTIFY\n";

static char *tmp_dir;
static char *calendars;
static char *state_dir;
static MwConfig *config;
static MwCalStore *store;
static icalcomponent *booking;

/* remove_tree - @path and everything below it (no symlinks are followed) */
static void
remove_tree(const char *path, gboolean keep_top)
{
	GDir *dir = g_dir_open(path, 0, NULL);
	if (dir != NULL) {
		const char *name;
		while ((name = g_dir_read_name(dir)) != NULL) {
			g_autofree char *child = g_build_filename(path, name, NULL);
			if (g_file_test(child, G_FILE_TEST_IS_DIR) &&
			    !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
				remove_tree(child, FALSE);
			else
				g_remove(child);
		}
		g_dir_close(dir);
	}
	if (!keep_top)
		g_rmdir(path);
}

/* a weekly booking every resource and the user hold before each input, so that
 * invitations meet stored busy time (conflicts, delegation within the collection) */
static const char booking_text[] =
	"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//fuzz//EN\r\n"
	"BEGIN:VEVENT\r\nUID:stored-weekly\r\nDTSTAMP:20260601T000000Z\r\n"
	"DTSTART:20260106T083000Z\r\nDTEND:20260106T093000Z\r\n"
	"RRULE:FREQ=WEEKLY;BYDAY=MO,TU,TH\r\nSUMMARY:stored\r\n"
	"ORGANIZER:mailto:alice@example.org\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

static const char *const booked[] = {"room101@example.org", "car1@example.org",
				     "alice@example.org"};

/* reset_calendars - the calendars hold the fixed booking only */
static void
reset_calendars(void)
{
	g_mkdir_with_parents(calendars, 0700);
	for (guint i = 0; i < G_N_ELEMENTS(booked); i++) {
		g_autoptr(MwCalLock) lock = mw_calstore_lock(store, booked[i], 5000, NULL);
		if (lock == NULL || !mw_calstore_put(lock, "stored-weekly", booking, NULL))
			__builtin_trap();
	}
}

static void
cleanup(void)
{
	if (config != NULL)
		mw_pipeline_worker_exit(config);
	remove_tree(tmp_dir, FALSE);
}

static char *
write_file(const char *name, const char *text)
{
	char *path = g_build_filename(tmp_dir, name, NULL);
	if (!g_file_set_contents(path, text, -1, NULL))
		__builtin_trap();
	return path;
}

/* make_db - a signature database: EICAR by MD5 (hdb) and by body pattern (ndb) */
static char *
make_db(void)
{
	char *db = g_build_filename(tmp_dir, "clamav", NULL);
	g_mkdir_with_parents(db, 0755);
	g_autofree char *md5 = g_compute_checksum_for_string(G_CHECKSUM_MD5, eicar, -1);
	g_autofree char *hdb = g_strdup_printf("%s:%zu:Eicar-Test-Signature\n", md5, strlen(eicar));
	GString *hex = g_string_new(NULL);
	for (const char *c = eicar; *c != '\0'; c++)
		g_string_append_printf(hex, "%02x", (guchar) *c);
	g_autofree char *ndb = g_strdup_printf("Eicar-Test-Signature.Body:0:*:%s\n", hex->str);
	g_string_free(hex, TRUE);
	g_autofree char *hdb_path = g_build_filename(db, "fuzz.hdb", NULL);
	g_autofree char *ndb_path = g_build_filename(db, "fuzz.ndb", NULL);
	if (!g_file_set_contents(hdb_path, hdb, -1, NULL) ||
	    !g_file_set_contents(ndb_path, ndb, -1, NULL))
		__builtin_trap();
	return db;
}

/* try_load - the config with @modules, configured, started and worker-initialized */
static MwConfig *
try_load(const char *modules, const char *db, const char *keyring, const char *rules,
	 const char *directory, GError **error)
{
	g_autofree char *text = g_strdup_printf(
		"[mailwarden]\nhostname = fuzz.test\nlocal_domains = example.org\n"
		"state_dir = %s\nmodules = %s\ndirectory = %s\ncalendars = dir:%s\n"
		"[virus]\nengine = libclamav\ndatabase = %s\n"
		"[spam]\nengine = builtin\nrules = %s\nspf = false\ndnsbl =\nbayes = false\n"
		"[resources]\ntimezone = Europe/Berlin\n"
		"[invitations]\ndefault_policy = ACT_TENTATIVE_IF_NO_CONFLICT\ntimezone = UTC\n"
		"[footer]\ntext = %s/footer.txt\nhtml = %s/footer.html\napply_to = all\n"
		"[gpg]\nkeyring = %s\n",
		state_dir, modules, directory, calendars, db, rules, tmp_dir, tmp_dir, keyring);
	MwConfig *c = mw_config_load_data(text, NULL, error);
	if (c == NULL)
		return NULL;
	/* libclamav keeps its engine's pointers in mmap()ed pools, which LeakSanitizer
	 * does not scan: what cl_load() allocates would be reported as leaked */
	__lsan_disable();
	gboolean started = mw_pipeline_start(c, error);
	__lsan_enable();
	if (!started || !mw_pipeline_worker_init(c, error)) {
		mw_config_free(c);
		return NULL;
	}
	return c;
}

static void
setup(void)
{
	g_mime_init();
	tmp_dir = g_dir_make_tmp("mw-fuzz-pipeline-XXXXXX", NULL);
	if (tmp_dir == NULL)
		__builtin_trap();
	atexit(cleanup);
	state_dir = g_build_filename(tmp_dir, "state", NULL);
	calendars = g_build_filename(state_dir, "calendars", NULL);
	g_mkdir_with_parents(calendars, 0700);
	g_autofree char *directory = write_file("directory.conf", directory_text);
	g_free(write_file("footer.txt", "Example GmbH · Köln\nhttps://example.org/\n"));
	g_free(write_file("footer.html", "<p>Example GmbH &middot; K&ouml;ln</p>\n"));
	g_autofree char *keyring = g_build_filename(tmp_dir, "gnupg", NULL);
	g_mkdir_with_parents(keyring, 0700);
	/* an empty public keyring, so that key lookups run (gpg needs no agent to list keys) */
	const char *argv[] = {"gpg", "--batch", "--homedir", keyring, "--list-keys", NULL};
	g_spawn_sync(NULL, (char **) argv, NULL,
		     G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
		     NULL, NULL, NULL, NULL, NULL, NULL);
	g_autofree char *db = make_db();
	/* the rules shipped with the spam module, next to this source file's tree */
	g_autofree char *here = g_path_get_dirname(__FILE__);
	g_autofree char *rules =
		g_build_filename(here, "..", "..", "modules", "spam", "spam.rules", NULL);
	if (!g_path_is_absolute(rules) || !g_file_test(rules, G_FILE_TEST_IS_REGULAR)) {
		g_free(rules);
		rules = write_file("spam.rules", "header MISSING_DATE 1.0 Date !~ /./\n"
						 "header SUBJ_EXCLAIM 0.8 Subject =~ /!{3,}/\n");
	}

	static const char *const variants[] = {
		"virus, spam, resources, invitations, footer, gpg",
		"virus, spam, resources, invitations, footer",
		"spam, resources, invitations, footer, gpg",
		"spam, resources, invitations, footer",
	};
	for (guint i = 0; i < G_N_ELEMENTS(variants) && config == NULL; i++) {
		g_autoptr(GError) error = NULL;
		config = try_load(variants[i], db, keyring, rules, directory, &error);
		fprintf(stderr, "fuzz-pipeline: modules = %s: %s\n", variants[i],
			config != NULL  ? "ok"
			: error != NULL ? error->message
					: "failed");
	}
	if (config == NULL)
		__builtin_trap();
	g_autofree char *spec = g_strconcat("dir:", calendars, NULL);
	store = mw_calstore_open(spec, NULL);
	booking = icalparser_parse_string(booking_text);
	if (store == NULL || booking == NULL)
		__builtin_trap();
}

/* read_back - @msg's bytes parse as a message */
static void
read_back(MwMessage *msg)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GMimeMessage) mime = mw_message_parse_mime(msg, &error);
	(void) mime;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (tmp_dir == NULL)
		setup();
	if (size > PIPELINE_MAX_INPUT)
		return 0;
	/* the state of the last input (quarantine, answered versions, bookings) goes */
	remove_tree(state_dir, TRUE);
	reset_calendars();
	const char *rcpts[] = {"room101@example.org", "cars@example.org", "alice@example.org",
			       "plain@example.net", NULL};
	/* the first byte picks an inbound or an outbound sender */
	const char *sender =
		size > 0 && (data[0] & 1) ? "bob@example.org" : "organizer@example.com";
	MwEnvelope *env = mw_envelope_new_simple(sender, rcpts);
	g_autoptr(MwMessage) msg = mw_message_new_from_bytes(data, size);
	g_autoptr(MwTxn) txn = mw_txn_new(config, env, msg);
	mw_pipeline_run(txn);
	MwOutcome outcome;
	mw_dispatch(txn, NULL, FALSE, &outcome);
	for (guint i = 0; i < txn->deliveries->len; i++) {
		MwDelivery *d = g_ptr_array_index(txn->deliveries, i);
		if (!d->modified && mw_message_get_size(d->message) != size)
			__builtin_trap(); /* an unchanged variant keeps the input's bytes */
	}
	for (guint i = 0; i < txn->emitted->len; i++) {
		MwEmitted *e = g_ptr_array_index(txn->emitted, i);
		if (e->message == NULL || mw_message_get_size(e->message) == 0)
			__builtin_trap();
		read_back(e->message);
	}
	mw_outcome_clear(&outcome);
	/* libical's ring of temporary strings (see fuzz-itip.c) */
	icalmemory_free_ring();
	return 0;
}
