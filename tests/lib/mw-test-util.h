/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * mw-test-util - the harness of the integration tests.
 *
 * Every test runs in check's fork mode with the fixture of mwt_tcase(): the
 * setup creates a private directory (mwt->dir) and picks two free loopback
 * ports, one for mailwarden and one for the sink (mw-test-sink, the stand-in
 * for Postfix's reinjection smtpd). The test then writes a config and starts
 * what it needs:
 *
 *	mwt_start(2, "modules = test_split", NULL);	config + sink + daemon
 *	g_autoptr(MwtSmtp) s = mwt_smtp_open(mwt->port, "EHLO client.test");
 *	mwt_smtp_ok(s, "MAIL FROM:<a@example.org>");
 *	...
 *	mwt_sink_wait(1);
 *
 * Teardown stops the daemon and the sink (SIGTERM, 5 s, SIGKILL, then the
 * process group), fails the test if mailwarden died on its own, did not exit
 * 0 on SIGTERM or its log has a sanitizer report (a LeakSanitizer report is
 * only noted on stderr), and removes the directory. A failing assertion in fork
 * mode _exit()s without teardown: a guardian process started by the setup
 * notices, kills the daemon's and the sink's process groups, keeps the
 * directory and prints its path and the tail of mailwarden.log. Set
 * MW_TEST_KEEP=1 to keep the directory of passing tests too.
 *
 * Every wait is bounded; the bounds scale with CK_TIMEOUT_MULTIPLIER (set it
 * for sanitizer or valgrind builds).
 */

#include <check.h>
#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

/* the current test's environment */
typedef struct {
	char *dir;       /* private directory of this test */
	char *sink_dir;  /* DIR/sink: N.eml, N.env, events.log, mode */
	char *state_dir; /* DIR/state: mailwarden's state_dir */
	char *conf;      /* DIR/mailwarden.conf */
	char *log;       /* DIR/mailwarden.log: the daemon's stdout and stderr */
	guint16 port;    /* mailwarden's listen port */
	guint16 sink_port;
	pid_t daemon;              /* 0 when not running */
	pid_t sink;                /* 0 when not running */
	guint timeout;             /* the config's "timeout" (seconds), as last written */
	gboolean crashes_expected; /* set by tests that crash workers on purpose: sanitizer
				      SEGV reports in the log are then not failures */
} MwtEnv;

extern MwtEnv *mwt;

/* --- suites -------------------------------------------------------------- */

/* mwt_tcase - a TCase with the mwt fixture and a per-test timeout (seconds) */
TCase *mwt_tcase(const char *name, double timeout);
/* mwt_main - run @suite (CK_ENV output), return the process exit status */
int mwt_main(Suite *suite);
/* mwt_scale - @ms multiplied by CK_TIMEOUT_MULTIPLIER */
guint mwt_scale(guint ms);

/* --- environment --------------------------------------------------------- */

/* mwt_free_port - a loopback TCP port nobody listens on right now */
guint16 mwt_free_port(void);

/*
 * mwt_write_config - write mwt->conf: a [mailwarden] section with listen,
 * reinject, state_dir, hostname = mw.test, timeout = 10, workers = @workers
 * and modules = (empty), then the "key = value" lines of @keys (which
 * replace those defaults), then @sections (whole further sections). Both
 * strings may be NULL.
 */
void mwt_write_config(guint workers, const char *keys, const char *sections);
/* mwt_write_file - write @text to DIR/@name, return the path (free it) */
char *mwt_write_file(const char *name, const void *text, gssize len);

/* mwt_sink_start - start mw-test-sink (@flags: NULL or e.g. "--no-xforward --no-dsn") */
void mwt_sink_start(const char *flags);
void mwt_sink_stop(void);

/*
 * mwt_daemon_start - start MW_TEST_BINARY -c mwt->conf (stdout and stderr to
 * mwt->log) and wait until the port answers (any reply line: a refusing
 * daemon answers 554). Fails the test with the log if it died.
 */
void mwt_daemon_start(void);
/* mwt_daemon_start_argv - the same with extra arguments (NULL-terminated) */
void mwt_daemon_start_argv(const char *const *extra);
/* mwt_daemon_stop - SIGTERM, wait 5 s, SIGKILL; the group is killed too */
void mwt_daemon_stop(void);
/* mwt_daemon_alive - whether the master is still running */
gboolean mwt_daemon_alive(void);

/* mwt_start - mwt_write_config(), mwt_sink_start(NULL), mwt_daemon_start() */
void mwt_start(guint workers, const char *keys, const char *sections);

/*
 * mwt_run - run a command to completion (killed after 60 s scaled); stdin
 * from @stdin_path (NULL: /dev/null); collects stdout and stderr. Returns
 * the exit status, or -1 when killed by a signal or the timeout.
 */
int mwt_run(const char *stdin_path, char **out, char **err, const char *argv0,
	    ...) G_GNUC_NULL_TERMINATED;

/* --- the sink ------------------------------------------------------------ */

/* mwt_sink_mode - write the sink's mode file ("ok", "tempfail-dot", ...) */
void mwt_sink_mode(const char *mode);
/* mwt_sink_count - how many messages the sink has accepted so far */
guint mwt_sink_count(void);
/* mwt_sink_wait - assert that the count reaches @n within 30 s (scaled) */
#define mwt_sink_wait(n) mwt_sink_wait_at((n), __FILE__, __LINE__)
void mwt_sink_wait_at(guint n, const char *file, int line);
/* mwt_sink_message - N.eml (asserts it exists) */
GBytes *mwt_sink_message(guint n);
/* mwt_sink_envelope - N.env text (asserts it exists) */
char *mwt_sink_envelope(guint n);
/* mwt_sink_events - events.log ("" when missing) */
char *mwt_sink_events(void);
/* mwt_sink_event_count - lines of events.log equal to @line */
guint mwt_sink_event_count(const char *line);
/*
 * mwt_sink_quiesce - wait until no sink connection is inside a transaction
 * (idle cached connections are fine); asserts within 30 s (scaled). After
 * a client got its final reply, this is when "nothing more will arrive".
 */
void mwt_sink_quiesce(void);
/* mwt_env_rcpts - the RCPT addresses of an N.env text, in order (no <>) */
GPtrArray *mwt_env_rcpts(const char *env);
/* mwt_env_line - the first line of @env starting with @prefix (without it), or NULL */
char *mwt_env_line(const char *env, const char *prefix);
/* mwt_env_param - value of ESMTP parameter @name ("SIZE") in @args, NULL if absent; "" for a flag */
char *mwt_env_param(const char *args, const char *name);

/* --- the daemon's log ---------------------------------------------------- */

/* mwt_log_text - the whole log so far */
char *mwt_log_text(void);
/*
 * mwt_log_wait - wait (up to @timeout_ms, scaled) for a log line containing
 * every one of the NULL-terminated needles; returns the line or NULL
 */
char *mwt_log_wait(guint timeout_ms, const char *needle, ...) G_GNUC_NULL_TERMINATED;
/* mwt_log_count - how many log lines contain every needle */
guint mwt_log_count(const char *needle, ...) G_GNUC_NULL_TERMINATED;

/* --- data for the real modules (mw-test-backends.c) ---------------------- */

#define MWT_EICAR "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
#define MWT_GTUBE "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"

/* mwt_make_clamav_db - (free it) DIR/clamav: a database that finds MWT_EICAR anywhere */
char *mwt_make_clamav_db(void);
/* mwt_make_keyring - (free it) DIR/keyring with a new public key for @address */
char *mwt_make_keyring(const char *address);

/* --- any text file (another program's log) ------------------------------- */

/* mwt_read_text - (transfer full) the contents of @path, "" when unreadable */
char *mwt_read_text(const char *path);
/* mwt_file_line - the first line of @path containing every needle, or NULL */
char *mwt_file_line(const char *path, const char *needle, ...) G_GNUC_NULL_TERMINATED;
/* mwt_file_wait - mwt_file_line, retried for up to @timeout_ms (scaled) */
char *mwt_file_wait(const char *path, guint timeout_ms, const char *needle,
		    ...) G_GNUC_NULL_TERMINATED;
/* mwt_file_count - how many lines of @path contain every needle */
guint mwt_file_count(const char *path, const char *needle, ...) G_GNUC_NULL_TERMINATED;

/* --- the SMTP/LMTP client ------------------------------------------------ */

typedef struct {
	int fd;
	GByteArray *in;   /* received, not yet consumed */
	int code;         /* last reply code; -1: connection closed, -2: timeout */
	char *text;       /* last reply, lines without their codes, joined with '\n' */
	GPtrArray *lines; /* last reply, one entry per line, without codes */
	guint timeout_ms; /* per read/write, default 30 s (scaled) */
	gboolean write_failed;
} MwtSmtp;

/* mwt_smtp_connect - connect to 127.0.0.1:@port (asserts); reads nothing */
MwtSmtp *mwt_smtp_connect(guint16 port);
/* mwt_smtp_try_connect - the same, NULL on failure */
MwtSmtp *mwt_smtp_try_connect(guint16 port);
/* mwt_smtp_open - connect, expect 220, send @hello ("EHLO x", "LHLO x"), expect 250 */
MwtSmtp *mwt_smtp_open(guint16 port, const char *hello);
void mwt_smtp_close(MwtSmtp *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MwtSmtp, mwt_smtp_close)

/* mwt_smtp_read - read one (multi-line) reply; returns its code (or -1/-2) */
int mwt_smtp_read(MwtSmtp *s);
/* mwt_smtp_send - send one command line, CRLF appended; FALSE on write error */
gboolean mwt_smtp_send(MwtSmtp *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* mwt_smtp_send_raw - send bytes as they are; FALSE on write error */
gboolean mwt_smtp_send_raw(MwtSmtp *s, const void *data, gsize len);
/* mwt_smtp_cmd - send a command line, read the reply, return its code */
int mwt_smtp_cmd(MwtSmtp *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/*
 * mwt_smtp_data - send @msg dot-stuffed plus the terminator (a CRLF is
 * inserted first when @msg does not end with one); reads nothing
 */
gboolean mwt_smtp_data(MwtSmtp *s, const void *msg, gsize len);
/* mwt_dot_stuff - @msg as it goes on the wire after DATA: stuffed, CRLF-ended, ".\r\n" */
GBytes *mwt_dot_stuff(const void *msg, gsize len);
/* mwt_smtp_closed - whether the peer closes the connection within @timeout_ms (scaled) */
gboolean mwt_smtp_closed(MwtSmtp *s, guint timeout_ms);
/* mwt_smtp_has_line - whether a line of the last reply equals @line or starts with "@line " */
gboolean mwt_smtp_has_line(MwtSmtp *s, const char *line);

/*
 * mwt_smtp_expect - read a reply and assert its code: a 3-digit @code must
 * match exactly, 2, 3, 4 or 5 match the class. The failure shows the text.
 */
#define mwt_smtp_expect(s, code) mwt_smtp_expect_at((s), (code), __FILE__, __LINE__)
void mwt_smtp_expect_at(MwtSmtp *s, int code, const char *file, int line);
/* mwt_smtp_ok - send a command and expect a 2xx reply */
#define mwt_smtp_ok(s, ...) mwt_smtp_cmd_expect_at((s), 2, __FILE__, __LINE__, __VA_ARGS__)
/* mwt_smtp_cmd_expect - send a command and expect @code (as mwt_smtp_expect) */
#define mwt_smtp_cmd_expect(s, code, ...)                                                          \
	mwt_smtp_cmd_expect_at((s), (code), __FILE__, __LINE__, __VA_ARGS__)
void mwt_smtp_cmd_expect_at(MwtSmtp *s, int code, const char *file, int line, const char *fmt, ...)
	G_GNUC_PRINTF(5, 6);

/*
 * mwt_smtp_message - one transaction: MAIL FROM:<@from> (plus @mail_params
 * unless NULL), RCPT TO:<r> for each of the NULL-terminated @rcpts, DATA,
 * the message. Asserts 250 for MAIL and each RCPT and 354 for DATA, then
 * returns the final reply's code (the text is in s->text). For LMTP, read
 * the further per-recipient replies with mwt_smtp_read().
 */
#define mwt_smtp_message(s, from, mail_params, ...)                                                \
	mwt_smtp_message_at((s), (from), (mail_params), __VA_ARGS__, __FILE__, __LINE__)
int mwt_smtp_message_at(MwtSmtp *s, const char *from, const char *mail_params,
			const char *const *rcpts, const void *msg, gsize len, const char *file,
			int line);
/*
 * mwt_smtp_try_message - the same without assertions: returns the first
 * reply that is not 250/354 (MAIL, RCPT, DATA) or the final reply's code; a
 * refused transaction is RSET (when the connection is still up)
 */
int mwt_smtp_try_message(MwtSmtp *s, const char *from, const char *const *rcpts, const void *msg,
			 gsize len);

/* --- messages ------------------------------------------------------------ */

/* mwt_message - a small CRLF message with these headers and a body line */
GBytes *mwt_message(const char *subject, const char *extra_headers);
/* MWT_BYTES - a GBytes as the (data, length) argument pair */
#define MWT_BYTES(b) g_bytes_get_data((b), NULL), g_bytes_get_size(b)
/* mwt_data_file - the contents of MW_TEST_DATA/@relpath (asserts) */
GBytes *mwt_data_file(const char *relpath);
/* mwt_assert_bytes_equal - assert equality, reporting the first differing offset */
#define mwt_assert_bytes_equal(expected, got)                                                      \
	mwt_assert_bytes_equal_at((expected), (got), __FILE__, __LINE__)
void mwt_assert_bytes_equal_at(GBytes *expected, GBytes *got, const char *file, int line);
/* mwt_header - the value of the first header @name in the header block of @msg, or NULL */
char *mwt_header(GBytes *msg, const char *name);
/* mwt_body_offset - offset of the body (after the first CRLFCRLF), or the length */
gsize mwt_body_offset(GBytes *msg);
/* mwt_contains_all - NULL-terminated @needles all occur in @haystack */
gboolean mwt_contains_all(const char *haystack, const char *needle, ...) G_GNUC_NULL_TERMINATED;

/* mwt_find_files - every regular file under @dir, recursively (full paths) */
GPtrArray *mwt_find_files(const char *dir);

G_END_DECLS
