/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-postfix - mailwarden between two real Postfix smtpd processes
 * SYNOPSIS
 *	e2e/postfix (as root, with the Debian package postfix installed)
 *	MW_BINARY=PATH      the mailwarden to test (default: the build's)
 *	MW_E2E_DOCS=PATH    the docs/postfix.md to take the Postfix lines from
 *	MW_TEST_KEEP=1      keep the directory of passing tests too
 *	MW_E2E_REQUIRE=1    fail instead of skipping (exit 77) when not root
 *	                    or Postfix is missing
 *	MW_E2E_TRACE=1      timestamped progress on stderr
 *	CK_RUN_CASE=lmtp_defer, CK_INCLUDE_TAGS=lmtp (or =defer): a subset
 * DESCRIPTION
 *	Every test starts a private Postfix instance (config_directory,
 *	queue_directory, data_directory, log file and Maildirs under
 *	/tmp/mw-e2e-XXXXXX, loopback ports only) and the real mailwarden,
 *	wired the way docs/postfix.md tells a postmaster: the main.cf and
 *	master.cf lines are read from that document at run time (only the
 *	ports 10026 and 10027 are replaced by free ones), so the test proves
 *	the documented setup, not a copy of it.
 *
 *	   client 127.0.0.2 -> smtpd :S (content_filter) -> queue
 *	     -> mailwarden_feed (smtp or lmtp, XFORWARD) -> mailwarden :M
 *	     -> smtpd :R (content_filter=) -> queue -> virtual -> Maildir
 *
 *	Five scenarios, each with the smtp: and with the lmtp: filter
 *	transport (TCases VARIANT_SCENARIO): "intact" (headers and body arrive
 *	byte for byte), "xforward" (Postfix's queue id is in mailwarden's
 *	summary line; Postfix logs the original client of the reinjected
 *	message), "defer" (mailwarden stopped: deferred and kept in the
 *	queue; restarted and flushed: delivered exactly once), "smtputf8"
 *	(UTF-8 addresses and an 8-bit body, no 5.6.7) and "multi" (every
 *	recipient's Maildir gets the message once).
 *
 *	Process hygiene: teardown stops mailwarden (SIGTERM by pid, its
 *	process group after) and Postfix (postfix -c DIR stop, then SIGKILL to
 *	every process whose environment has MAIL_CONFIG=DIR if one lingers). A
 *	failed assertion _exit()s the test process without teardown: a
 *	guardian process forked by the setup notices (its pipe closes), does
 *	the same stopping, keeps the directory and prints both logs' tails.
 *	main() makes itself the child subreaper, so Postfix's detached master
 *	stays inside the test's process tree, where ctest's timeout kill finds
 *	it.
 */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#include <glib/gstdio.h>

#include "mw-test-util.h"

/* tests/e2e/CMakeLists.txt defines both; these only serve other compilers of this file */
#ifndef MW_E2E_BINARY
#define MW_E2E_BINARY "build/mailwarden"
#endif
#ifndef MW_E2E_DOCS
#define MW_E2E_DOCS "docs/postfix.md"
#endif

#define SKIP_CODE 77

/* names the test recognises in headers and logs */
#define PF_HOST  "pf.e2e.test"
#define MW_HOST  "mw.e2e.test"
#define HELO     "submitter.e2e.test"
#define SRC_ADDR "127.0.0.2"
#define SENDER   "sender@example.test"

/* bounds (ms, scaled by CK_TIMEOUT_MULTIPLIER); a passing test takes < 7 s */
#define WAIT_MS    15000
#define TCASE_SECS 60

/* the Maildir (relative to virtual_mailbox_base) of every address */
static const char *const mailboxes[][2] = {
	{"a@example.test", "example.test/a"},
	{"b@example.test", "example.test/b"},
	{"c@example.test", "example.test/c"},
	{SENDER, "example.test/sender"},
	{"müller@example.test", "example.test/mueller"},
	{"jürgen@bücher.test", "buecher.test/juergen"},
};

/* found once by main(), inherited by the test processes */
static char *bin_postfix, *bin_postqueue, *bin_mailwarden, *docs_path;

/* the current test's Postfix side (mwt holds mailwarden's side) */
typedef struct {
	const char *protocol; /* "smtp" or "lmtp": mailwarden's protocol and the filter transport */
	char *pf_conf;        /* config_directory */
	char *pf_queue;       /* queue_directory */
	char *pf_log;         /* maillog_file */
	char *mail;           /* virtual_mailbox_base */
	guint16 smtp_port;    /* the smtpd the test submits to */
} E2eEnv;

static E2eEnv *e2e;

/* --- small helpers -------------------------------------------------------- */

/* now_ms - monotonic milliseconds */
static gint64
now_ms(void)
{
	return g_get_monotonic_time() / 1000;
}

/* e2e_fail_at - fail the test with a message short enough for check */
static void G_GNUC_NORETURN G_GNUC_PRINTF(3, 4)
	e2e_fail_at(const char *file, int line, const char *fmt, ...)
{
	g_autoptr(GString) msg = g_string_new(NULL);
	va_list ap;

	va_start(ap, fmt);
	g_string_append_vprintf(msg, fmt, ap);
	va_end(ap);
	/* check refuses messages of several KiB (and exits 2): the logs' tails
	 * go to stderr from the guardian, the message stays short */
	if (msg->len > 1500) {
		g_string_truncate(msg, 1480);
		g_string_append(msg, " [...]");
	}
	_ck_assert_failed(file, line, "e2e", "%s", msg->str);
	abort();
}

/* E2E_ASSERT - like ck_assert_msg, with a bounded message */
#define E2E_ASSERT(cond, ...)                                                                      \
	do {                                                                                       \
		if (!(cond))                                                                       \
			e2e_fail_at(__FILE__, __LINE__, __VA_ARGS__);                              \
	} while (0)

/* trace - with MW_E2E_TRACE=1, a timestamped progress line on stderr */
static void
trace(const char *what)
{
	static gint64 t0 = 0;

	if (g_getenv("MW_E2E_TRACE") == NULL)
		return;
	if (t0 == 0)
		t0 = now_ms();
	fprintf(stderr, "e2e: %7.3f s %s\n", (double) (now_ms() - t0) / 1000.0, what);
}

/* tail_lines - the last @n lines of @text */
static const char *
tail_lines(const char *text, guint n)
{
	const char *p = text + strlen(text);
	guint seen = 0;

	while (p > text) {
		p--;
		if (*p == '\n' && p[1] != '\0' && ++seen == n)
			return p + 1;
	}
	return text;
}

/* process_alive - whether @pid exists and is not a zombie */
static gboolean
process_alive(pid_t pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/stat", (int) pid);
	g_autofree char *stat = NULL;
	const char *paren;

	if (pid <= 0 || kill(pid, 0) < 0)
		return FALSE;
	if (!g_file_get_contents(path, &stat, NULL, NULL))
		return FALSE;
	paren = strrchr(stat, ')');
	return paren == NULL || paren[1] == '\0' || paren[2] != 'Z';
}

/* rm_rf - remove a directory tree */
static void
rm_rf(const char *path)
{
	g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
	const char *name;

	while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *child = g_build_filename(path, name, NULL);
		if (g_file_test(child, G_FILE_TEST_IS_DIR) &&
		    !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
			rm_rf(child);
		else
			g_unlink(child);
	}
	g_rmdir(path);
}

/* replace_all - @text with every @from replaced by @to */
static char *
replace_all(const char *text, const char *from, const char *to)
{
	g_auto(GStrv) parts = g_strsplit(text, from, -1);

	return g_strjoinv(to, parts);
}

/* crlf_to_lf - @msg as Postfix stores it in a Maildir: LF line ends */
static GBytes *
crlf_to_lf(GBytes *msg)
{
	gsize len;
	const char *data = g_bytes_get_data(msg, &len);
	GByteArray *out = g_byte_array_sized_new((guint) len);

	for (gsize i = 0; i < len; i++) {
		if (data[i] == '\r' && i + 1 < len && data[i + 1] == '\n')
			continue;
		g_byte_array_append(out, (const guint8 *) data + i, 1);
	}
	return g_byte_array_free_to_bytes(out);
}

/* token_after - the word after @key in @line (up to a space, comma or quote), or NULL */
static char *
token_after(const char *line, const char *key)
{
	const char *p = line != NULL ? strstr(line, key) : NULL;
	gsize n;

	if (p == NULL)
		return NULL;
	p += strlen(key);
	n = strcspn(p, " ,\"");
	return n > 0 ? g_strndup(p, n) : NULL;
}

/*
 * run_bounded - run @argv (stdout and stderr to @out_path, appending) and
 * wait at most @timeout_ms; no assertions, so the guardian can use it.
 * Returns the exit status, or -1 (killed or timed out).
 */
static int
run_bounded(const char *const *argv, const char *out_path, guint timeout_ms)
{
	gint64 deadline = now_ms() + timeout_ms;
	int status = 0;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY);
		int out = open(out_path != NULL ? out_path : "/dev/null",
			       O_WRONLY | O_CREAT | O_APPEND, 0644);
		setpgid(0, 0);
		if (in < 0 || out < 0)
			_exit(126);
		dup2(in, 0);
		dup2(out, 1);
		dup2(out, 2);
		signal(SIGPIPE, SIG_DFL);
		execv(argv[0], (char *const *) argv);
		dprintf(2, "e2e: exec %s: %s\n", argv[0], g_strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	for (;;) {
		pid_t got = waitpid(pid, &status, WNOHANG);
		if (got == pid)
			break;
		if (got < 0 && errno != EINTR)
			return -1;
		if (now_ms() > deadline) {
			kill(-pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		g_usleep(10 * 1000);
	}
	if (!WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* --- stopping everything (teardown and guardian) ---------------------------- */

/*
 * stop_mailwarden - SIGTERM, up to 10 s, then SIGKILL; then the rest of its
 * process group (workers). Returns the wait status (-1 when @pid is not our
 * child, as in the guardian); *forced tells whether SIGKILL was needed.
 */
static int
stop_mailwarden(pid_t pid, gboolean *forced)
{
	gint64 deadline = now_ms() + 10000;
	int status = -1;

	*forced = FALSE;
	kill(pid, SIGTERM);
	for (;;) {
		pid_t got = waitpid(pid, &status, WNOHANG);
		if (got == pid)
			break;
		if (got < 0 && errno == ECHILD) {
			if (!process_alive(pid))
				break;
		} else if (got < 0 && errno != EINTR) {
			break;
		}
		if (now_ms() > deadline) {
			*forced = TRUE;
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			break;
		}
		g_usleep(10 * 1000);
	}
	kill(-pid, SIGKILL);
	return status;
}

/*
 * instance_pids - the live processes of the Postfix instance @conf: postfix
 * -c exports MAIL_CONFIG=@conf, and the master and all its children keep it
 */
static GArray *
instance_pids(const char *conf)
{
	g_autofree char *needle = g_strdup_printf("MAIL_CONFIG=%s", conf);
	g_autoptr(GDir) proc = g_dir_open("/proc", 0, NULL);
	GArray *pids = g_array_new(FALSE, FALSE, sizeof(pid_t));
	gsize needle_len = strlen(needle) + 1;
	const char *name;

	while (proc != NULL && (name = g_dir_read_name(proc)) != NULL) {
		g_autofree char *path = NULL;
		g_autofree char *env = NULL;
		gsize len = 0;
		pid_t pid;

		if (!g_ascii_isdigit(name[0]))
			continue;
		pid = (pid_t) atoi(name);
		path = g_strdup_printf("/proc/%s/environ", name);
		if (!g_file_get_contents(path, &env, &len, NULL) || !process_alive(pid))
			continue;
		/* NUL-separated "NAME=value" entries */
		for (gsize off = 0; off < len; off += strlen(env + off) + 1) {
			if (len - off >= needle_len && memcmp(env + off, needle, needle_len) == 0) {
				g_array_append_val(pids, pid);
				break;
			}
		}
	}
	return pids;
}

/*
 * stop_postfix - postfix -c @conf stop when the instance runs, wait (10 s)
 * until none of its processes is left, SIGKILL what lingers. Appends
 * problems to @why.
 */
static void
stop_postfix(const char *conf, const char *out_path, GString *why)
{
	const char *argv[] = {bin_postfix, "-c", conf, "stop", NULL};
	g_autoptr(GArray) pids = instance_pids(conf);
	gint64 deadline;
	int rc;

	if (pids->len == 0)
		return;
	rc = run_bounded(argv, out_path, 30000);
	if (rc != 0)
		g_string_append_printf(why, "postfix -c %s stop: exit %d; ", conf, rc);
	deadline = now_ms() + 10000;
	for (;;) {
		g_array_unref(pids);
		pids = instance_pids(conf);
		if (pids->len == 0)
			return;
		if (now_ms() > deadline)
			break;
		g_usleep(20 * 1000);
	}
	g_string_append_printf(why, "%u Postfix process(es) lingered after postfix stop: SIGKILL; ",
			       pids->len);
	for (guint i = 0; i < pids->len; i++)
		kill(g_array_index(pids, pid_t, i), SIGKILL);
}

/* --- the guardian ------------------------------------------------------------ */

static int guardian_fd = -1;

/* guardian_tell - one line to the guardian: "M pid" (mailwarden runs), "m pid" (stopped), "S" */
static void G_GNUC_PRINTF(1, 2) guardian_tell(const char *fmt, ...)
{
	g_autofree char *msg = NULL;
	va_list ap;

	if (guardian_fd < 0)
		return;
	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (write(guardian_fd, msg, strlen(msg)) < 0)
		fprintf(stderr, "e2e: cannot tell the guardian: %s\n", g_strerror(errno));
}

/* guardian_main - wait for the test process to end; stop everything unless it did */
static void G_GNUC_NORETURN
guardian_main(int fd)
{
	GArray *daemons = g_array_new(FALSE, FALSE, sizeof(pid_t));
	GString *pending = g_string_new(NULL);
	g_autoptr(GString) why = g_string_new(NULL);
	g_autofree char *out = g_build_filename(mwt->dir, "postfix-stop.out", NULL);
	g_autofree char *pf_text = NULL;
	g_autofree char *mw_text = NULL;
	gboolean stopped = FALSE;
	char buf[256];

	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		char *nl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		g_string_append_len(pending, buf, n);
		while ((nl = strchr(pending->str, '\n')) != NULL) {
			pid_t pid = (pid_t) atoi(pending->str + 1);

			*nl = '\0';
			if (pending->str[0] == 'M') {
				g_array_append_val(daemons, pid);
			} else if (pending->str[0] == 'm') {
				for (guint i = 0; i < daemons->len; i++)
					if (g_array_index(daemons, pid_t, i) == pid)
						g_array_remove_index(daemons, i--);
			} else if (pending->str[0] == 'S') {
				stopped = TRUE;
			}
			g_string_erase(pending, 0, nl - pending->str + 1);
		}
	}
	if (stopped)
		_exit(0);
	for (guint i = 0; i < daemons->len; i++) {
		gboolean forced;
		stop_mailwarden(g_array_index(daemons, pid_t, i), &forced);
	}
	stop_postfix(e2e->pf_conf, out, why);
	pf_text = mwt_read_text(e2e->pf_log);
	mw_text = mwt_read_text(mwt->log);
	fprintf(stderr,
		"e2e: the test ended without a clean teardown; stopped mailwarden and Postfix%s%s; "
		"kept %s\n"
		"e2e: tail of %s:\n%s\ne2e: tail of %s:\n%s\n",
		why->len > 0 ? ": " : "", why->str, mwt->dir, e2e->pf_log, tail_lines(pf_text, 40),
		mwt->log, tail_lines(mw_text, 20));
	_exit(0);
}

/* guardian_start - fork the guardian for the current test */
static void
guardian_start(void)
{
	int fds[2];
	pid_t pid;

	E2E_ASSERT(pipe2(fds, O_CLOEXEC) == 0, "pipe: %s", g_strerror(errno));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	E2E_ASSERT(pid >= 0, "fork: %s", g_strerror(errno));
	if (pid == 0) {
		/* a group of its own: check kills the test's group when the test ends */
		setpgid(0, 0);
		signal(SIGTERM, SIG_IGN);
		signal(SIGINT, SIG_IGN);
		close(fds[1]);
		guardian_main(fds[0]);
	}
	close(fds[0]);
	guardian_fd = fds[1];
}

/* --- logs ---------------------------------------------------------------------- */

/* pf_log_wait - a line of Postfix's log with every needle, waiting up to WAIT_MS (scaled) */
#define pf_log_wait(...) mwt_file_wait(e2e->pf_log, WAIT_MS, __VA_ARGS__)
/* pf_log_count - lines of Postfix's log that contain every needle */
#define pf_log_count(...) mwt_file_count(e2e->pf_log, __VA_ARGS__)

/*
 * mw_summary - mailwarden's summary line for the Postfix queue id @qid (it
 * starts with the id); fails the test when none comes within 10 s
 */
static char *
mw_summary(const char *qid)
{
	g_autofree char *needle = g_strdup_printf("%s: txn=", qid);
	char *line = mwt_log_wait(10000, needle, NULL);

	E2E_ASSERT(line != NULL,
		   "no summary line starting with Postfix's queue id %s in mailwarden's log", qid);
	return line;
}

/* --- Postfix --------------------------------------------------------------------- */

/* doc_block - the first ``` block after the line @heading of docs/postfix.md */
static char *
doc_block(const char *doc, const char *heading)
{
	g_autofree char *needle = g_strdup_printf("\n%s\n", heading);
	const char *at = strstr(doc, needle);
	const char *start, *end;

	E2E_ASSERT(at != NULL,
		   "%s has no heading \"%s\": the e2e test takes its Postfix configuration "
		   "from there (update tests/e2e/test-postfix.c with the document)",
		   docs_path, heading);
	start = strstr(at + strlen(needle), "```");
	E2E_ASSERT(start != NULL, "no ``` block after \"%s\" in %s", heading, docs_path);
	start = strchr(start, '\n');
	E2E_ASSERT(start != NULL, "unterminated ``` block after \"%s\"", heading);
	start++;
	end = strstr(start, "```");
	E2E_ASSERT(end != NULL, "unterminated ``` block after \"%s\"", heading);
	return g_strndup(start, (gsize) (end - start));
}

/* with_ports - @text with the documented ports replaced by the test's */
static char *
with_ports(const char *text)
{
	g_autofree char *mw_port = g_strdup_printf("%u", mwt->port);
	g_autofree char *re_port = g_strdup_printf("%u", mwt->sink_port);
	g_autofree char *step = replace_all(text, "10026", mw_port);

	return replace_all(step, "10027", re_port);
}

/*
 * documented_config - the main.cf and master.cf lines docs/postfix.md gives
 * for the current variant, ports replaced
 */
static void
documented_config(char **main_cf, char **master_cf)
{
	g_autofree char *doc = NULL;
	g_autofree char *smtp_master = NULL;
	g_autoptr(GError) error = NULL;
	const char *reinject;

	E2E_ASSERT(g_file_get_contents(docs_path, &doc, NULL, &error), "%s", error->message);
	smtp_master = doc_block(doc, "## master.cf, SMTP between Postfix and mailwarden");
	/* the 10027 smtpd; for LMTP "The 10027 smtpd is the same as above." */
	reinject = strstr(smtp_master, "\n127.0.0.1:10027");
	E2E_ASSERT(reinject != NULL,
		   "%s: no \"127.0.0.1:10027 inet ...\" service in the SMTP "
		   "master.cf block",
		   docs_path);
	if (strcmp(e2e->protocol, "smtp") == 0) {
		g_autofree char *main_block = doc_block(doc, "## main.cf");
		*main_cf = with_ports(main_block);
		*master_cf = with_ports(smtp_master);
	} else {
		g_autofree char *block =
			doc_block(doc, "## master.cf, LMTP between Postfix and mailwarden");
		const char *split = strstr(block, "\n# master.cf\n");
		g_autofree char *main_part = NULL;
		g_autofree char *master_part = NULL;

		E2E_ASSERT(split != NULL,
			   "%s: the LMTP block has no \"# master.cf\" line between "
			   "its main.cf and master.cf parts",
			   docs_path);
		main_part = g_strndup(block, (gsize) (split - block) + 1);
		master_part = g_strconcat(split + 1, reinject + 1, NULL);
		*main_cf = with_ports(main_part);
		*master_cf = with_ports(master_part);
	}
}

/* the standard services of master.cf.proto, none chrooted */
static const char master_services[] =
	"pickup    unix  n       -       n       60      1       pickup\n"
	"cleanup   unix  n       -       n       -       0       cleanup\n"
	"qmgr      unix  n       -       n       300     1       qmgr\n"
	"rewrite   unix  -       -       n       -       -       trivial-rewrite\n"
	"bounce    unix  -       -       n       -       0       bounce\n"
	"defer     unix  -       -       n       -       0       bounce\n"
	"trace     unix  -       -       n       -       0       bounce\n"
	"verify    unix  -       -       n       -       1       verify\n"
	"flush     unix  n       -       n       1000?   0       flush\n"
	"proxymap  unix  -       -       n       -       -       proxymap\n"
	"proxywrite unix -       -       n       -       1       proxymap\n"
	"smtp      unix  -       -       n       -       -       smtp\n"
	"relay     unix  -       -       n       -       -       smtp\n"
	"showq     unix  n       -       n       -       -       showq\n"
	"error     unix  -       -       n       -       -       error\n"
	"retry     unix  -       -       n       -       -       error\n"
	"discard   unix  -       -       n       -       -       discard\n"
	"local     unix  -       n       n       -       -       local\n"
	"virtual   unix  -       n       n       -       -       virtual\n"
	"lmtp      unix  -       -       n       -       -       lmtp\n"
	"anvil     unix  -       -       n       -       1       anvil\n"
	"scache    unix  -       -       n       -       1       scache\n"
	"postlog   unix-dgram n  -       n       -       1       postlogd\n";

/*
 * write_cold - write @text to @dir/@name, dated a minute back: Postfix
 * rereads a main.cf modified within the last second ("hot") every 300 ms
 * until it is older, which costs every postfix command about two seconds
 */
static void
write_cold(const char *dir, const char *name, const char *text)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);
	g_autoptr(GError) error = NULL;
	struct utimbuf past = {.actime = time(NULL) - 60, .modtime = time(NULL) - 60};

	E2E_ASSERT(g_file_set_contents(path, text, -1, &error), "%s", error->message);
	E2E_ASSERT(g_utime(path, &past) == 0, "utime %s: %s", path, g_strerror(errno));
}

/* write_postfix_config - main.cf, master.cf and the mailbox map */
static void
write_postfix_config(uid_t uid, gid_t gid)
{
	g_autoptr(GString) main_cf = g_string_new(NULL);
	g_autoptr(GString) master_cf = g_string_new(NULL);
	g_autoptr(GString) map = g_string_new(NULL);
	g_autofree char *doc_main = NULL;
	g_autofree char *doc_master = NULL;

	documented_config(&doc_main, &doc_master);
	g_string_append_printf(
		main_cf,
		"# written by tests/e2e/test-postfix.c: a private instance on loopback ports\n"
		"compatibility_level = 3.6\n"
		"queue_directory = %s\n"
		"data_directory = %s/data\n"
		"mail_owner = postfix\n"
		"setgid_group = postdrop\n"
		"inet_interfaces = loopback-only\n"
		"inet_protocols = ipv4\n"
		"myhostname = " PF_HOST "\n"
		"mydomain = e2e.test\n"
		"myorigin = $myhostname\n"
		"mydestination =\n"
		"alias_maps =\n"
		"alias_database =\n"
		"biff = no\n"
		"# no DNS: 127.0.0.2 has no name, and CI may have no resolver\n"
		"smtpd_peername_lookup = no\n"
		"# nothing leaves this instance\n"
		"relayhost =\n"
		"default_transport = error:the e2e instance delivers only to its Maildirs\n"
		"relay_transport = error:the e2e instance delivers only to its Maildirs\n"
		"virtual_mailbox_domains = example.test, bücher.test\n"
		"virtual_mailbox_base = %s\n"
		"virtual_mailbox_maps = texthash:%s/vmailbox\n"
		"virtual_uid_maps = static:%u\n"
		"virtual_gid_maps = static:%u\n"
		"smtputf8_enable = yes\n"
		"maillog_file = %s\n"
		"maillog_file_prefixes = %s\n"
		"# retry deferred mail fast\n"
		"queue_run_delay = 1s\n"
		"minimal_backoff_time = 1s\n"
		"maximal_backoff_time = 2s\n"
		"\n# --- %s (%s variant), ports replaced ---\n%s",
		e2e->pf_queue, mwt->dir, e2e->mail, e2e->pf_conf, (guint) uid, (guint) gid,
		e2e->pf_log, mwt->dir, docs_path, e2e->protocol, doc_main);
	write_cold(e2e->pf_conf, "main.cf", main_cf->str);

	g_string_append_printf(
		master_cf,
		"# written by tests/e2e/test-postfix.c\n"
		"# the smtpd the test submits to (main.cf's content_filter applies)\n"
		"127.0.0.1:%u inet n - n - - smtpd\n%s"
		"\n# --- %s (%s variant), ports replaced ---\n%s",
		e2e->smtp_port, master_services, docs_path, e2e->protocol, doc_master);
	write_cold(e2e->pf_conf, "master.cf", master_cf->str);

	for (guint i = 0; i < G_N_ELEMENTS(mailboxes); i++)
		g_string_append_printf(map, "%s %s/\n", mailboxes[i][0], mailboxes[i][1]);
	write_cold(e2e->pf_conf, "vmailbox", map->str);
}

/* postfix_cmd - postfix -c CONF @verb; returns the exit status, stdout+stderr into *out */
static int
postfix_cmd(const char *verb, char **out)
{
	g_autofree char *err = NULL;
	g_autofree char *std = NULL;
	int rc = mwt_run(NULL, &std, &err, bin_postfix, "-c", e2e->pf_conf, verb, NULL);

	*out = g_strconcat(std, err, NULL);
	return rc;
}

/* banner_ok - whether 127.0.0.1:@port greets with 220 and @name */
static gboolean
banner_ok(guint16 port, const char *name)
{
	g_autoptr(MwtSmtp) s = mwt_smtp_try_connect(port);
	gboolean ok;

	if (s == NULL)
		return FALSE;
	s->timeout_ms = mwt_scale(5000);
	ok = mwt_smtp_read(s) == 220 && strstr(s->text, name) != NULL;
	if (s->code > 0)
		mwt_smtp_cmd(s, "QUIT");
	return ok;
}

/* wait_banner - wait (10 s scaled) until @port greets with @name */
static gboolean
wait_banner(guint16 port, const char *name)
{
	gint64 deadline = now_ms() + mwt_scale(10000);

	while (!banner_ok(port, name)) {
		if (now_ms() > deadline)
			return FALSE;
		g_usleep(50 * 1000);
	}
	return TRUE;
}

/*
 * postfix_start - configure, check and start the instance; picks new ports
 * and tries again (3 times) when one was taken meanwhile
 */
static void
postfix_start(uid_t uid, gid_t gid)
{
	for (guint attempt = 1;; attempt++) {
		g_autofree char *out = NULL;
		g_autofree char *log = NULL;
		int rc;

		do
			e2e->smtp_port = mwt_free_port();
		while (e2e->smtp_port == mwt->port);
		do
			mwt->sink_port = mwt_free_port();
		while (mwt->sink_port == mwt->port || mwt->sink_port == e2e->smtp_port);
		write_postfix_config(uid, gid);
		rc = postfix_cmd("check", &out);
		E2E_ASSERT(rc == 0, "postfix -c %s check: exit %d: %s", e2e->pf_conf, rc, out);
		if (out[0] != '\0')
			fprintf(stderr, "e2e: postfix check says:\n%s", out);
		g_clear_pointer(&out, g_free);
		trace("postfix checked");
		rc = postfix_cmd("start", &out);
		if (rc == 0)
			break;
		log = mwt_read_text(e2e->pf_log);
		E2E_ASSERT(attempt < 3 && strstr(log, "Address already in use") != NULL,
			   "postfix -c %s start: exit %d: %s (see the log below)", e2e->pf_conf, rc,
			   out);
		fprintf(stderr, "e2e: a port was taken meanwhile; trying other ports\n");
	}
	E2E_ASSERT(wait_banner(e2e->smtp_port, PF_HOST),
		   "Postfix's smtpd on port %u does not answer", e2e->smtp_port);
	E2E_ASSERT(wait_banner(mwt->sink_port, PF_HOST),
		   "Postfix's reinjection smtpd on port %u does not answer", mwt->sink_port);
}

/* --- mailwarden ------------------------------------------------------------------ */

/* mw_start - start mailwarden -c mwt->conf (output to mwt->log) and wait for its 220 */
static void
mw_start(void)
{
	gint64 deadline = now_ms() + mwt_scale(10000);
	pid_t pid;

	E2E_ASSERT(mwt->daemon == 0, "mailwarden is already running");
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	E2E_ASSERT(pid >= 0, "fork: %s", g_strerror(errno));
	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY);
		int out = open(mwt->log, O_WRONLY | O_CREAT | O_APPEND, 0644);

		setpgid(0, 0);
		if (in < 0 || out < 0)
			_exit(126);
		dup2(in, 0);
		dup2(out, 1);
		dup2(out, 2);
		signal(SIGPIPE, SIG_DFL);
		execl(bin_mailwarden, bin_mailwarden, "-c", mwt->conf, (char *) NULL);
		dprintf(2, "e2e: exec %s: %s\n", bin_mailwarden, g_strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	mwt->daemon = pid;
	guardian_tell("M %d\n", (int) pid);
	for (;;) {
		int status;

		if (waitpid(pid, &status, WNOHANG) == pid) {
			guardian_tell("m %d\n", (int) pid);
			mwt->daemon = 0;
			e2e_fail_at(__FILE__, __LINE__,
				    "mailwarden exited (status 0x%x) before answering; log: %s",
				    (guint) status, tail_lines(mwt_log_text(), 5));
		}
		if (banner_ok(mwt->port, MW_HOST))
			return;
		E2E_ASSERT(now_ms() < deadline, "mailwarden did not answer on port %u within %u ms",
			   mwt->port, mwt_scale(10000));
		g_usleep(20 * 1000);
	}
}

/* mw_stop - stop mailwarden; a SIGTERM that does not end it with status 0 is a problem */
static void
mw_stop(GString *problem)
{
	gboolean forced;
	int status;

	if (mwt->daemon <= 0)
		return;
	status = stop_mailwarden(mwt->daemon, &forced);
	guardian_tell("m %d\n", (int) mwt->daemon);
	mwt->daemon = 0;
	if (!forced && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return;
	if (problem != NULL)
		g_string_append_printf(problem, "mailwarden did not exit 0 on SIGTERM (0x%x%s); ",
				       (guint) status, forced ? ", SIGKILL needed" : "");
	else
		e2e_fail_at(__FILE__, __LINE__,
			    "mailwarden did not exit 0 on SIGTERM (status 0x%x%s)", (guint) status,
			    forced ? ", SIGKILL needed" : "");
}

/* --- fixture --------------------------------------------------------------------- */

/* user_ids - uid and gid of @name */
static void
user_ids(const char *name, uid_t *uid, gid_t *gid)
{
	/* getpwnam() returns static storage: copy before the next call */
	struct passwd *pw = getpwnam(name);

	E2E_ASSERT(pw != NULL, "no user %s", name);
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
}

/* e2e_setup - directories, guardian, Postfix, mailwarden */
static void
e2e_setup(const char *protocol)
{
	g_autofree char *keys = NULL;
	g_autofree char *data = NULL;
	uid_t pf_uid, nobody_uid;
	gid_t pf_gid, nobody_gid;
	char *dir;

	trace("setup");
	signal(SIGPIPE, SIG_IGN);
	user_ids("postfix", &pf_uid, &pf_gid);
	user_ids("nobody", &nobody_uid, &nobody_gid);
	mwt = g_new0(MwtEnv, 1);
	e2e = g_new0(E2eEnv, 1);
	e2e->protocol = protocol;
	/* /tmp, not $TMPDIR: the postfix and nobody users must reach it */
	dir = g_strdup("/tmp/mw-e2e-XXXXXX");
	E2E_ASSERT(g_mkdtemp_full(dir, 0755) != NULL, "mkdtemp: %s", g_strerror(errno));
	mwt->dir = dir;
	mwt->sink_dir = g_build_filename(dir, "unused-sink", NULL);
	mwt->state_dir = g_build_filename(dir, "state", NULL);
	mwt->conf = g_build_filename(dir, "mailwarden.conf", NULL);
	mwt->log = g_build_filename(dir, "mailwarden.log", NULL);
	e2e->pf_conf = g_build_filename(dir, "postfix", NULL);
	e2e->pf_queue = g_build_filename(dir, "queue", NULL);
	e2e->pf_log = g_build_filename(dir, "postfix.log", NULL);
	e2e->mail = g_build_filename(dir, "mail", NULL);
	data = g_build_filename(dir, "data", NULL);
	g_mkdir_with_parents(mwt->state_dir, 0755);
	g_mkdir_with_parents(e2e->pf_conf, 0755);
	g_mkdir_with_parents(e2e->pf_queue, 0755);
	g_mkdir_with_parents(data, 0700);
	g_mkdir_with_parents(e2e->mail, 0755);
	E2E_ASSERT(chown(data, pf_uid, pf_gid) == 0 &&
			   chown(e2e->mail, nobody_uid, nobody_gid) == 0,
		   "chown: %s", g_strerror(errno));
	guardian_start();

	/* Postfix first (it picks the submission and reinjection ports), then
	 * mailwarden on the port Postfix's content_filter names */
	mwt->port = mwt_free_port();
	postfix_start(nobody_uid, nobody_gid);
	trace("postfix started");
	keys = g_strdup_printf("protocol = %s\nhostname = " MW_HOST "\ntimeout = 30\n", protocol);
	/* workers = 10: docs/postfix.md's maxproc and concurrency limit of the feed */
	mwt_write_config(10, keys, NULL);
	mw_start();
	trace("mailwarden started");
}

static void
setup_smtp(void)
{
	e2e_setup("smtp");
}

static void
setup_lmtp(void)
{
	e2e_setup("lmtp");
}

/* maildir_files - the files in DIR/mail/@box/new, sorted (none: empty array) */
static GPtrArray *
maildir_files(const char *box)
{
	g_autofree char *dir = g_build_filename(e2e->mail, box, "new", NULL);
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
	const char *name;

	while (d != NULL && (name = g_dir_read_name(d)) != NULL)
		g_ptr_array_add(files, g_build_filename(dir, name, NULL));
	g_ptr_array_sort(files, (GCompareFunc) g_strcmp0);
	return files;
}

/* e2e_teardown - stop everything, check the whole-run invariants, clean up */
static void
e2e_teardown(void)
{
	g_autoptr(GString) problem = g_string_new(NULL);
	g_autofree char *out = g_build_filename(mwt->dir, "postfix-stop.out", NULL);
	g_autofree char *pf_text = NULL;
	g_autofree char *mw_text = NULL;
	g_auto(GStrv) lines = NULL;
	g_autoptr(GPtrArray) bounces = NULL;
	g_autoptr(GArray) left = NULL;

	trace("teardown");
	mw_stop(problem);
	stop_postfix(e2e->pf_conf, out, problem);
	left = instance_pids(e2e->pf_conf);
	if (left->len > 0)
		g_string_append_printf(problem, "%u Postfix process(es) survived SIGKILL; ",
				       left->len);
	guardian_tell("S\n");
	close(guardian_fd);
	guardian_fd = -1;
	trace("stopped");

	/* Postfix never failed, bounced or panicked; no bounce reached the sender */
	pf_text = mwt_read_text(e2e->pf_log);
	lines = g_strsplit(pf_text, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		if (strstr(lines[i], " fatal: ") != NULL || strstr(lines[i], " panic: ") != NULL ||
		    strstr(lines[i], "status=bounced") != NULL)
			g_string_append_printf(problem, "Postfix logged: %s; ", lines[i]);
		else if (strstr(lines[i], " warning: ") != NULL)
			fprintf(stderr, "e2e: note: Postfix warned: %s\n", lines[i]);
	}
	bounces = maildir_files("example.test/sender");
	if (bounces->len > 0)
		g_string_append_printf(problem, "%u bounce(s) in the sender's Maildir; ",
				       bounces->len);
	mw_text = mwt_read_text(mwt->log);
	if (strstr(mw_text, "ERROR: AddressSanitizer") != NULL ||
	    strstr(mw_text, "runtime error:") != NULL)
		g_string_append(problem, "sanitizer report in mailwarden's log; ");
	if (strstr(mw_text, "LeakSanitizer") != NULL)
		fprintf(stderr, "e2e: note: LeakSanitizer report in %s\n", mwt->log);

	if (problem->len > 0) {
		fprintf(stderr, "e2e: tail of %s:\n%s\ne2e: tail of %s:\n%s\n", e2e->pf_log,
			tail_lines(pf_text, 40), mwt->log, tail_lines(mw_text, 20));
		e2e_fail_at(__FILE__, __LINE__, "%skept %s", problem->str, mwt->dir);
	}
	if (g_getenv("MW_TEST_KEEP") != NULL)
		fprintf(stderr, "e2e: kept %s\n", mwt->dir);
	else
		rm_rf(mwt->dir);
}

/* --- the submitting client --------------------------------------------------------- */

/* expect - read a reply (or send @cmd first) and assert its code class or exact code */
static void
expect(MwtSmtp *s, int code, const char *cmd)
{
	int got = cmd != NULL ? mwt_smtp_cmd(s, "%s", cmd) : mwt_smtp_read(s);
	gboolean ok = code < 10 ? got / 100 == code : got == code;

	E2E_ASSERT(ok, "Postfix's smtpd answered %s%s with %d %s (expected %d%s)",
		   cmd != NULL ? "" : "the connection", cmd != NULL ? cmd : "", got, s->text, code,
		   code < 10 ? "xx" : "");
}

/* open_from - connect from SRC_ADDR to 127.0.0.1:@port, expect 220, EHLO HELO */
static MwtSmtp *
open_from(guint16 port)
{
	struct sockaddr_in src = {.sin_family = AF_INET};
	struct sockaddr_in dst = {.sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int one = 1;
	MwtSmtp *s;
	int fd;

	inet_pton(AF_INET, SRC_ADDR, &src.sin_addr);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	E2E_ASSERT(fd >= 0, "socket: %s", g_strerror(errno));
	E2E_ASSERT(bind(fd, (struct sockaddr *) &src, sizeof(src)) == 0, "bind %s: %s", SRC_ADDR,
		   g_strerror(errno));
	E2E_ASSERT(connect(fd, (struct sockaddr *) &dst, sizeof(dst)) == 0,
		   "connect to 127.0.0.1:%u: %s", port, g_strerror(errno));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	/* built as mwt_smtp_try_connect() builds it, so that mwt_smtp_* work on it */
	s = g_new0(MwtSmtp, 1);
	s->fd = fd;
	s->in = g_byte_array_new();
	s->lines = g_ptr_array_new_with_free_func(g_free);
	s->text = g_strdup("");
	s->timeout_ms = mwt_scale(30000);
	expect(s, 220, NULL);
	expect(s, 250, "EHLO " HELO);
	return s;
}

/*
 * submit - one message from SENDER to @rcpts through the submission smtpd,
 * from 127.0.0.2 (MAIL parameters @params or NULL); returns Postfix's
 * queue id
 */
static char *
submit(const char *params, const char *const *rcpts, GBytes *msg)
{
	g_autoptr(MwtSmtp) s = open_from(e2e->smtp_port);
	g_autofree char *mail =
		g_strdup_printf("MAIL FROM:<" SENDER ">%s%s", params != NULL ? " " : "",
				params != NULL ? params : "");
	char *qid;

	expect(s, 250, mail);
	for (guint i = 0; rcpts[i] != NULL; i++) {
		g_autofree char *rcpt = g_strdup_printf("RCPT TO:<%s>", rcpts[i]);
		expect(s, 250, rcpt);
	}
	expect(s, 354, "DATA");
	E2E_ASSERT(mwt_smtp_data(s, MWT_BYTES(msg)), "sending the message failed");
	expect(s, 250, NULL);
	qid = token_after(s->text, "queued as ");
	E2E_ASSERT(qid != NULL, "no queue id in \"%s\"", s->text);
	mwt_smtp_cmd(s, "QUIT");
	return qid;
}

/* --- checks ------------------------------------------------------------------------ */

/* mailbox_of - the Maildir of @address */
static const char *
mailbox_of(const char *address)
{
	for (guint i = 0; i < G_N_ELEMENTS(mailboxes); i++)
		if (strcmp(mailboxes[i][0], address) == 0)
			return mailboxes[i][1];
	e2e_fail_at(__FILE__, __LINE__, "no Maildir for %s", address);
}

/*
 * wait_maildir - wait until @box/new has @n files and return them; fails at
 * once when Postfix logs a bounce, or a deferral unless @deferrals_expected
 */
static GPtrArray *
wait_maildir(const char *box, guint n, gboolean deferrals_expected)
{
	gint64 deadline = now_ms() + mwt_scale(WAIT_MS);
	for (;;) {
		GPtrArray *files = maildir_files(box);
		g_autofree char *bounce = NULL;
		g_autofree char *defer = NULL;

		if (files->len >= n)
			return files;
		g_ptr_array_unref(files);
		bounce = mwt_file_line(e2e->pf_log, "status=bounced", (char *) NULL);
		E2E_ASSERT(bounce == NULL, "Postfix bounced: %s", bounce);
		defer = deferrals_expected
				? NULL
				: mwt_file_line(e2e->pf_log, "status=deferred", (char *) NULL);
		E2E_ASSERT(defer == NULL, "Postfix deferred: %s", defer);
		E2E_ASSERT(now_ms() < deadline, "%s/new did not get %u message(s) within %u ms",
			   box, n, mwt_scale(WAIT_MS));
		g_usleep(50 * 1000);
	}
}

/* queue_json - `postqueue -c CONF -j`: one JSON object per line and queued message */
static char *
queue_json(void)
{
	g_autofree char *err = NULL;
	char *out = NULL;
	int rc = mwt_run(NULL, &out, &err, bin_postqueue, "-c", e2e->pf_conf, "-j", NULL);

	E2E_ASSERT(rc == 0, "postqueue -j: exit %d: %s", rc, err);
	return out;
}

/* queue_entry - the postqueue -j line of @qid, NULL when it is not queued */
static char *
queue_entry(const char *json, const char *qid)
{
	g_autofree char *needle = g_strdup_printf("\"queue_id\": \"%s\"", qid);
	g_auto(GStrv) lines = g_strsplit(json, "\n", -1);

	for (guint i = 0; lines[i] != NULL; i++)
		if (strstr(lines[i], needle) != NULL)
			return g_strdup(lines[i]);
	return NULL;
}

/* wait_queue_empty - wait until Postfix's queue is empty */
static void
wait_queue_empty(void)
{
	gint64 deadline = now_ms() + mwt_scale(WAIT_MS);

	for (;;) {
		g_autofree char *json = queue_json();

		if (g_strstrip(json)[0] == '\0')
			return;
		E2E_ASSERT(now_ms() < deadline, "Postfix's queue is not empty after %u ms: %s",
			   mwt_scale(WAIT_MS), json);
		g_usleep(100 * 1000);
	}
}

/*
 * assert_delivered - the Maildir file @path is @sent (CRLF) as Postfix stores
 * it: Postfix's trace fields (Return-Path, X-Original-To, Delivered-To,
 * Received) on top, then the original header block byte for byte, then the
 * original body byte for byte (LF line ends). Returns the Received fields,
 * topmost first.
 */
static GPtrArray *
assert_delivered(GBytes *sent, const char *path)
{
	static const char *const trace_fields[] = {"Return-Path", "X-Original-To", "Delivered-To",
						   "Received"};
	g_autoptr(GBytes) want = crlf_to_lf(sent);
	g_autoptr(GError) error = NULL;
	g_autofree char *got = NULL;
	GPtrArray *received = g_ptr_array_new_with_free_func(g_free);
	gsize got_len, want_len, pos = 0;
	const char *want_data = g_bytes_get_data(want, &want_len);
	const char *want_body, *got_body;
	g_autoptr(GBytes) want_head = NULL;
	g_autoptr(GBytes) got_head = NULL;
	g_autoptr(GBytes) want_body_b = NULL;
	g_autoptr(GBytes) got_body_b = NULL;

	E2E_ASSERT(g_file_get_contents(path, &got, &got_len, &error), "%s", error->message);
	want_body = g_strstr_len(want_data, (gssize) want_len, "\n\n");
	E2E_ASSERT(want_body != NULL, "the test message has no body");
	want_body += 2;
	got_body = g_strstr_len(got, (gssize) got_len, "\n\n");
	E2E_ASSERT(got_body != NULL, "%s has no header/body separator", path);
	got_body += 2;

	/* skip Postfix's trace fields (with their continuation lines) */
	for (;;) {
		const char *field = got + pos;
		const char *colon = strchr(field, ':');
		const char *end = field;
		gboolean is_trace = FALSE;

		if (colon == NULL || colon >= got_body)
			break;
		for (guint i = 0; i < G_N_ELEMENTS(trace_fields); i++)
			if ((gsize) (colon - field) == strlen(trace_fields[i]) &&
			    g_ascii_strncasecmp(field, trace_fields[i], strlen(trace_fields[i])) ==
				    0)
				is_trace = TRUE;
		if (!is_trace)
			break;
		do {
			end = strchr(end, '\n');
			E2E_ASSERT(end != NULL, "%s: truncated header", path);
			end++;
		} while (*end == ' ' || *end == '\t');
		if (g_ascii_strncasecmp(field, "Received:", 9) == 0)
			g_ptr_array_add(received, g_strndup(field, (gsize) (end - field)));
		pos = (gsize) (end - got);
	}
	want_head = g_bytes_new(want_data, (gsize) (want_body - want_data));
	got_head = g_bytes_new(got + pos, (gsize) (got_body - got) - pos);
	want_body_b = g_bytes_new(want_body, want_len - (gsize) (want_body - want_data));
	got_body_b = g_bytes_new(got_body, got_len - (gsize) (got_body - got));
	/* the original header block, exactly, right below the trace fields */
	mwt_assert_bytes_equal(want_head, got_head);
	/* the body, exactly */
	mwt_assert_bytes_equal(want_body_b, got_body_b);
	return received;
}

/*
 * assert_one_copy - every address of @rcpts gets exactly one message in its
 * Maildir, equal to @msg (waits for them); returns the Received fields of
 * the first
 */
static GPtrArray *
assert_one_copy(const char *const *rcpts, GBytes *msg)
{
	GPtrArray *first = NULL;

	for (guint i = 0; rcpts[i] != NULL; i++) {
		g_autoptr(GPtrArray) files = wait_maildir(mailbox_of(rcpts[i]), 1, FALSE);
		GPtrArray *received;

		E2E_ASSERT(files->len == 1, "%u messages for %s", files->len, rcpts[i]);
		received = assert_delivered(msg, g_ptr_array_index(files, 0));
		if (first == NULL)
			first = received;
		else
			g_ptr_array_unref(received);
	}
	return first;
}

/* message - a CRLF message with what a careless filter could change */
static GBytes *
message(const char *subject, const char *to)
{
	static guint serial = 0;
	g_autoptr(GString) m = g_string_new(NULL);
	g_autofree char *long_line = g_strnfill(900, 'x');

	serial++;
	g_string_append_printf(m,
			       "From: Sender <" SENDER ">\r\n"
			       "To: %s\r\n"
			       "Subject: %s\r\n"
			       " (a folded continuation line)\r\n"
			       "Message-ID: <e2e.%d.%u.%" G_GINT64_FORMAT "@example.test>\r\n"
			       "Date: Mon, 01 Jan 2024 12:00:00 +0000\r\n"
			       "MIME-Version: 1.0\r\n"
			       "Content-Type: text/plain; charset=us-ascii\r\n"
			       "X-E2E-Spacing:\tafter a tab,   trailing blanks   \r\n"
			       "X-E2E-Empty:\r\n"
			       "\r\n"
			       "First line of \"%s\".\r\n"
			       ".leading dot\r\n"
			       "..two leading dots\r\n"
			       ".\r\n"
			       "From the start of a line (a Maildir has no mbox From_ escaping)\r\n"
			       "trailing blanks   \r\n"
			       "\tindented with a tab\r\n"
			       "\r\n"
			       "%s\r\n"
			       "last line\r\n",
			       to, subject, (int) getpid(), serial, g_get_real_time(), subject,
			       long_line);
	return g_string_free_to_bytes(g_steal_pointer(&m));
}

/* relay_needle - "relay=127.0.0.1[127.0.0.1]:M," (Postfix's delivery to mailwarden) */
static char *
relay_needle(void)
{
	return g_strdup_printf("relay=127.0.0.1[127.0.0.1]:%u,", mwt->port);
}

/* --- scenarios ------------------------------------------------------------------------ */

/*
 * (1) submitted to Postfix, the message passes mailwarden and arrives in the
 * Maildir with its headers and body intact
 */
START_TEST(test_arrives_intact)
{
	static const char *const rcpts[] = {"a@example.test", NULL};
	g_autoptr(GBytes) msg = message("arrives intact", "A <a@example.test>");
	g_autofree char *qid = submit(NULL, rcpts, msg);
	g_autoptr(GPtrArray) received = assert_one_copy(rcpts, msg);
	g_autofree char *summary = mw_summary(qid);
	g_autofree char *qid2 = token_after(summary, "queued_as=");
	g_autofree char *outer_id = g_strdup_printf("id %s", qid2);
	g_autofree char *inner_id = g_strdup_printf("id %s", qid);
	const char *outer, *inner;

	/* two Received fields, the reinjection smtpd's (its client greeted with
	 * mailwarden's EHLO) above the submission smtpd's; mailwarden adds none */
	E2E_ASSERT(received->len == 2, "%u Received fields, expected 2", received->len);
	outer = g_ptr_array_index(received, 0);
	inner = g_ptr_array_index(received, 1);
	E2E_ASSERT(qid2 != NULL, "no queued_as= in mailwarden's summary: %s", summary);
	E2E_ASSERT(mwt_contains_all(outer, "from " MW_HOST " (", "[127.0.0.1])", outer_id, NULL),
		   "outer Received: %s", outer);
	E2E_ASSERT(mwt_contains_all(inner, "from " HELO " (", "[" SRC_ADDR "])", inner_id, NULL),
		   "inner Received: %s", inner);
	E2E_ASSERT(strstr(summary, "action=delivered") != NULL, "%s", summary);
	wait_queue_empty();
}
END_TEST

/*
 * (2) Postfix's queue id is in mailwarden's summary line, and Postfix logs
 * the original client (XFORWARD) for the message mailwarden reinjected
 */
START_TEST(test_queue_id_and_client)
{
	static const char *const rcpts[] = {"a@example.test", NULL};
	g_autoptr(GBytes) msg = message("queue id and client", "A <a@example.test>");
	g_autofree char *qid = submit(NULL, rcpts, msg);
	g_autoptr(GPtrArray) received = assert_one_copy(rcpts, msg);
	g_autofree char *summary = mw_summary(qid);
	g_autofree char *start = g_strdup_printf("]: %s: txn=", qid);
	g_autofree char *qid2 = token_after(summary, "queued_as=");
	g_autofree char *client_of = g_strdup_printf("%s: client=", qid2);
	g_autofree char *orig_id = g_strdup_printf("orig_queue_id=%s,", qid);
	g_autofree char *relay = relay_needle();
	g_autofree char *hop1 = g_strdup_printf("%s: to=<a@example.test>, ", qid);
	g_autofree char *hop2 = g_strdup_printf("%s: to=<a@example.test>, relay=virtual", qid2);
	g_autofree char *program = g_strdup_printf("postfix/%s[", e2e->protocol);
	g_autofree char *client_line = NULL;
	g_autofree char *mw_client = NULL;
	g_autofree char *orig_client = NULL;
	g_autofree char *real_client = NULL;
	g_autofree char *sent1 = NULL;
	g_autofree char *sent2 = NULL;

	/* mailwarden: "mailwarden[PID]: QUEUEID: txn=... client=unknown[127.0.0.2] ..." */
	E2E_ASSERT(strstr(summary, start) != NULL || g_str_has_prefix(summary, start + 3),
		   "the summary line does not start with the queue id %s: %s", qid, summary);
	mw_client = token_after(summary, " client=");
	E2E_ASSERT(mw_client != NULL && g_str_has_suffix(mw_client, "[" SRC_ADDR "]"),
		   "mailwarden did not get the original client by XFORWARD: %s", summary);
	E2E_ASSERT(mwt_contains_all(summary, "rcpt=<a@example.test>:delivered", "action=delivered",
				    "reply=\"250 ", NULL),
		   "%s", summary);
	E2E_ASSERT(qid2 != NULL, "no queued_as= in %s", summary);

	/* Postfix: the reinjection smtpd logs mailwarden as client= and, from
	 * XFORWARD, the original queue id and client */
	client_line = pf_log_wait("postfix/smtpd[", client_of, (char *) NULL);
	E2E_ASSERT(client_line != NULL, "no \"%s\" line in Postfix's log", client_of);
	E2E_ASSERT(strstr(client_line, orig_id) != NULL,
		   "Postfix did not get the queue id by XFORWARD: %s", client_line);
	orig_client = token_after(client_line, "orig_client=");
	real_client = token_after(client_line, "client=");
	E2E_ASSERT(orig_client != NULL && g_str_has_suffix(orig_client, "[" SRC_ADDR "]"),
		   "Postfix did not log the original client " SRC_ADDR ": %s", client_line);
	E2E_ASSERT(real_client != NULL && g_str_has_suffix(real_client, "[127.0.0.1]"), "%s",
		   client_line);

	/* the first hop went through this variant's filter transport and Postfix
	 * logged mailwarden's reply; the second hop reached the Maildir */
	sent1 = pf_log_wait(program, hop1, relay, "status=sent", (char *) NULL);
	E2E_ASSERT(sent1 != NULL, "no \"%s...%s...%s status=sent\" line", program, hop1, relay);
	E2E_ASSERT(strstr(sent1, qid2) != NULL, "mailwarden's reply does not name %s: %s", qid2,
		   sent1);
	sent2 = pf_log_wait(hop2, "status=sent", (char *) NULL);
	E2E_ASSERT(sent2 != NULL, "no \"%s ... status=sent\" line", hop2);
	E2E_ASSERT(received->len == 2, "%u Received fields", received->len);
	wait_queue_empty();
}
END_TEST

/* wait_deferred - wait until postqueue -j shows @qid with a deferral reason; returns the entry */
static char *
wait_deferred(const char *qid)
{
	gint64 deadline = now_ms() + mwt_scale(WAIT_MS);

	for (;;) {
		g_autofree char *json = queue_json();
		char *entry = queue_entry(json, qid);

		/* a delay reason is the deferral; qmgr may not have moved the file
		 * from incoming/active to deferred yet on a loaded machine */
		if (entry != NULL && strstr(entry, "\"delay_reason\": ") != NULL)
			return entry;
		g_free(entry);
		E2E_ASSERT(now_ms() < deadline, "%s is not in the deferred queue with a reason: %s",
			   qid, json);
		g_usleep(100 * 1000);
	}
}

/*
 * (3) with mailwarden stopped Postfix defers the message and keeps it; once
 * mailwarden runs again and the queue is flushed it is delivered exactly once
 */
START_TEST(test_deferred_then_delivered_once)
{
	static const char *const warm[] = {"b@example.test", NULL};
	static const char *const rcpts[] = {"a@example.test", NULL};
	g_autoptr(GBytes) first = message("before the stop", "B <b@example.test>");
	g_autoptr(GBytes) msg = message("deferred, then delivered once", "A <a@example.test>");
	g_autofree char *refused =
		g_strdup_printf("127.0.0.1[127.0.0.1]:%u: Connection refused", mwt->port);
	g_autofree char *relay = relay_needle();
	g_autofree char *qid_first = NULL;
	g_autofree char *qid = NULL;
	g_autofree char *to = NULL;
	g_autofree char *entry = NULL;
	g_autofree char *deferred = NULL;
	g_autofree char *summary = NULL;
	g_autofree char *out = NULL;
	g_autofree char *err = NULL;
	g_autofree char *json = NULL;
	g_autofree char *still = NULL;
	g_autoptr(GPtrArray) r1 = NULL;
	g_autoptr(GPtrArray) r2 = NULL;
	g_autoptr(GPtrArray) files = NULL;
	gint64 deadline;
	int rc;

	/* mailwarden works (Postfix has talked to it), then it is gone */
	qid_first = submit(NULL, warm, first);
	r1 = assert_one_copy(warm, first);
	wait_queue_empty();
	mw_stop(NULL);

	qid = submit(NULL, rcpts, msg);
	to = g_strdup_printf("%s: to=<a@example.test>, ", qid);
	entry = wait_deferred(qid);
	E2E_ASSERT(strstr(entry, refused) != NULL, "unexpected deferral reason: %s", entry);
	deferred = pf_log_wait(to, "status=deferred", "dsn=4.", (char *) NULL);
	E2E_ASSERT(deferred != NULL, "no \"%s status=deferred dsn=4.x.x\" line", to);
	/* it stays: Postfix retries (every 1-2 s here) and defers again */
	deadline = now_ms() + mwt_scale(WAIT_MS);
	while (pf_log_count(to, "status=deferred", (char *) NULL) < 2) {
		E2E_ASSERT(now_ms() < deadline, "Postfix did not retry %s", qid);
		g_usleep(100 * 1000);
	}
	json = queue_json();
	still = queue_entry(json, qid);
	E2E_ASSERT(still != NULL, "%s left the queue while mailwarden was down", qid);
	g_clear_pointer(&files, g_ptr_array_unref);
	files = maildir_files("example.test/a");
	E2E_ASSERT(files->len == 0, "delivered while mailwarden was down");
	E2E_ASSERT(mwt_log_count(qid, NULL) == 0, "mailwarden saw %s while stopped", qid);

	/* mailwarden is back; flush the queue */
	mw_start();
	rc = mwt_run(NULL, &out, &err, bin_postqueue, "-c", e2e->pf_conf, "-f", NULL);
	E2E_ASSERT(rc == 0, "postqueue -f: exit %d: %s%s", rc, out, err);
	g_clear_pointer(&files, g_ptr_array_unref);
	files = wait_maildir("example.test/a", 1, TRUE);
	wait_queue_empty();
	/* exactly once: now, and after longer than a retry cycle (the queue is
	 * empty, so nothing should come any more) */
	g_usleep(mwt_scale(3000) * 1000);
	g_clear_pointer(&files, g_ptr_array_unref);
	files = maildir_files("example.test/a");
	E2E_ASSERT(files->len == 1, "%u copies delivered, expected 1", files->len);
	r2 = assert_delivered(msg, g_ptr_array_index(files, 0));
	summary = mw_summary(qid);
	E2E_ASSERT(strstr(summary, "action=delivered") != NULL, "%s", summary);
	E2E_ASSERT(mwt_log_count(qid, ": txn=", NULL) == 1, "%u summary lines for %s",
		   mwt_log_count(qid, ": txn=", NULL), qid);
	E2E_ASSERT(pf_log_count(to, relay, "status=sent", (char *) NULL) == 1,
		   "%u deliveries of %s to mailwarden",
		   pf_log_count(to, relay, "status=sent", (char *) NULL), qid);
	E2E_ASSERT(pf_log_count(qid, ": removed", (char *) NULL) == 1, "%s removed %u times", qid,
		   pf_log_count(qid, ": removed", (char *) NULL));
	E2E_ASSERT(qid_first != NULL && r1->len == 2 && r2->len == 2, "Received fields: %u, %u",
		   r1->len, r2->len);
}
END_TEST

/*
 * (4) SMTPUTF8 addresses (in the local part and in the domain) and an 8-bit
 * body pass both hops without a 5.6.7 bounce
 */
START_TEST(test_smtputf8)
{
	static const char *const rcpts[] = {"müller@example.test", "jürgen@bücher.test", NULL};
	g_autoptr(GString) m = g_string_new(NULL);
	g_autoptr(GBytes) msg = NULL;
	g_autofree char *qid = NULL;
	g_autofree char *summary = NULL;
	g_autofree char *qid2 = NULL;
	g_autoptr(GPtrArray) received = NULL;
	g_autofree char *text = NULL;

	g_string_append_printf(m,
			       "From: Jörg Sender <" SENDER ">\r\n"
			       "To: Müller <müller@example.test>, Jürgen <jürgen@bücher.test>\r\n"
			       "Subject: Grüße aus Köln – SMTPUTF8\r\n"
			       "Message-ID: <e2e.utf8.%d.%" G_GINT64_FORMAT "@example.test>\r\n"
			       "Date: Mon, 01 Jan 2024 12:00:00 +0000\r\n"
			       "MIME-Version: 1.0\r\n"
			       "Content-Type: text/plain; charset=utf-8\r\n"
			       "Content-Transfer-Encoding: 8bit\r\n"
			       "\r\n"
			       "Größe: 10 € – naïve café, 日本語, \xf0\x9f\x93\xa7\r\n"
			       "a Latin-1 byte that is not UTF-8: caf\xe9\r\n"
			       ".Punkt am Zeilenanfang\r\n",
			       (int) getpid(), g_get_real_time());
	msg = g_string_free_to_bytes(g_steal_pointer(&m));
	qid = submit("SMTPUTF8 BODY=8BITMIME", rcpts, msg);
	received = assert_one_copy(rcpts, msg);
	wait_queue_empty();
	summary = mw_summary(qid);
	E2E_ASSERT(mwt_contains_all(summary, "rcpt=<müller@example.test>:delivered",
				    "rcpt=<jürgen@bücher.test>:delivered", "action=delivered",
				    NULL),
		   "%s", summary);
	qid2 = token_after(summary, "queued_as=");
	E2E_ASSERT(qid2 != NULL, "no queued_as= in %s", summary);
	for (guint i = 0; rcpts[i] != NULL; i++) {
		g_autofree char *to = g_strdup_printf("%s: to=<%s>, relay=virtual", qid2, rcpts[i]);
		g_autofree char *line = pf_log_wait(to, "status=sent", (char *) NULL);

		E2E_ASSERT(line != NULL, "no \"%s ... status=sent\" line", to);
	}
	/* both smtpd got the message with SMTPUTF8 (Postfix records it as
	 * "with UTF8SMTP"): Postfix to mailwarden, and mailwarden's reinjection */
	for (guint i = 0; i < received->len; i++)
		E2E_ASSERT(strstr(g_ptr_array_index(received, i), " with UTF8SMTP") != NULL,
			   "not received with SMTPUTF8: %s",
			   (char *) g_ptr_array_index(received, i));
	text = mwt_read_text(e2e->pf_log);
	E2E_ASSERT(strstr(text, "5.6.7") == NULL, "Postfix logged a 5.6.7: %s",
		   strstr(text, "5.6.7"));
	E2E_ASSERT(received->len == 2, "%u Received fields", received->len);
}
END_TEST

/* (5) a message for several recipients reaches every Maildir, once */
START_TEST(test_multi_recipient)
{
	static const char *const rcpts[] = {"a@example.test", "b@example.test", "c@example.test",
					    NULL};
	g_autoptr(GBytes) msg =
		message("three recipients", "A <a@example.test>, "
					    "B <b@example.test>,\r\n C <c@example.test>");
	g_autofree char *qid = submit(NULL, rcpts, msg);
	g_autoptr(GPtrArray) received = assert_one_copy(rcpts, msg);
	g_autofree char *summary = mw_summary(qid);
	g_autofree char *relay = relay_needle();

	wait_queue_empty();
	for (guint i = 0; rcpts[i] != NULL; i++) {
		g_autofree char *r = g_strdup_printf("rcpt=<%s>:delivered", rcpts[i]);
		g_autofree char *hop1 = g_strdup_printf("%s: to=<%s>, ", qid, rcpts[i]);
		g_autoptr(GPtrArray) files = maildir_files(mailbox_of(rcpts[i]));
		guint sent = pf_log_count(hop1, relay, "status=sent", (char *) NULL);

		E2E_ASSERT(strstr(summary, r) != NULL, "%s not delivered: %s", rcpts[i], summary);
		E2E_ASSERT(sent == 1, "%u deliveries to mailwarden for %s", sent, rcpts[i]);
		E2E_ASSERT(files->len == 1, "%u messages for %s", files->len, rcpts[i]);
	}
	E2E_ASSERT(mwt_contains_all(summary, "nrcpt=3", "action=delivered", NULL), "%s", summary);
	E2E_ASSERT(mwt_log_count(qid, ": txn=", NULL) == 1, "%u summary lines for %s",
		   mwt_log_count(qid, ": txn=", NULL), qid);
	E2E_ASSERT(received->len == 2, "%u Received fields", received->len);
}
END_TEST

/* --- main ------------------------------------------------------------------------------ */

/* find_tool - @name in PATH or /usr/sbin, NULL when missing */
static char *
find_tool(const char *name)
{
	char *path = g_find_program_in_path(name);
	g_autofree char *sbin = g_build_filename("/usr/sbin", name, NULL);

	if (path != NULL)
		return path;
	if (g_file_test(sbin, G_FILE_TEST_IS_EXECUTABLE))
		return g_steal_pointer(&sbin);
	return NULL;
}

/* skip - print why on stdout; 77 (ctest: Skipped), or 1 with MW_E2E_REQUIRE=1 */
static int
skip(const char *why)
{
	gboolean required = g_strcmp0(g_getenv("MW_E2E_REQUIRE"), "1") == 0;

	printf("%s e2e/postfix: %s\n", required ? "FAIL (MW_E2E_REQUIRE=1)" : "SKIP", why);
	return required ? EXIT_FAILURE : SKIP_CODE;
}

int
main(void)
{
	Suite *suite = suite_create("e2e-postfix");
	const char *variants[] = {"smtp", "lmtp"};
	void (*setups[])(void) = {setup_smtp, setup_lmtp};
	const char *env_binary = g_getenv("MW_BINARY");
	const char *env_docs = g_getenv("MW_E2E_DOCS");
	GPtrArray *names;
	int rc;
	const struct {
		const char *name;
		const TTest *test;
	} scenarios[] = {
		{"intact", test_arrives_intact},
		{"xforward", test_queue_id_and_client},
		{"defer", test_deferred_then_delivered_once},
		{"smtputf8", test_smtputf8},
		{"multi", test_multi_recipient},
	};

	if (geteuid() != 0)
		return skip("not running as root (Postfix's master must be started as root)");
	bin_postfix = find_tool("postfix");
	bin_postqueue = find_tool("postqueue");
	if (bin_postfix == NULL || bin_postqueue == NULL)
		return skip("Postfix is not installed (postfix, postqueue: Debian package postfix, "
			    "see tests/e2e/packages.txt)");
	if (getpwnam("postfix") == NULL || getgrnam("postdrop") == NULL)
		return skip("no postfix user or postdrop group (install the postfix package)");
	bin_mailwarden =
		g_strdup(env_binary != NULL && env_binary[0] != '\0' ? env_binary : MW_E2E_BINARY);
	if (!g_file_test(bin_mailwarden, G_FILE_TEST_IS_EXECUTABLE)) {
		printf("FAIL e2e/postfix: no mailwarden binary %s (build it, or set MW_BINARY)\n",
		       bin_mailwarden);
		return EXIT_FAILURE;
	}
	docs_path = g_strdup(env_docs != NULL && env_docs[0] != '\0' ? env_docs : MW_E2E_DOCS);
	printf("e2e/postfix: %s with Postfix (%s), configured as %s says\n", bin_mailwarden,
	       bin_postfix, docs_path);
	fflush(stdout);
	/* Postfix's master detaches from its parent: as the subreaper we become
	 * its parent, so it stays in our process tree (ctest's timeout kill
	 * walks that tree) instead of moving to init */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0)
		fprintf(stderr, "e2e: note: PR_SET_CHILD_SUBREAPER: %s\n", g_strerror(errno));

	names = g_ptr_array_new_with_free_func(g_free);
	/* one TCase per variant and scenario: CK_RUN_CASE=lmtp_defer runs one,
	 * CK_INCLUDE_TAGS=lmtp (or =defer) one variant (or one scenario) */
	for (guint i = 0; i < G_N_ELEMENTS(variants); i++) {
		for (guint j = 0; j < G_N_ELEMENTS(scenarios); j++) {
			/* check keeps the name pointer: it lives in names until the end */
			char *name = g_strdup_printf("%s_%s", variants[i], scenarios[j].name);
			g_autofree char *tags =
				g_strdup_printf("%s %s", variants[i], scenarios[j].name);
			TCase *tc = tcase_create(name);

			g_ptr_array_add(names, name);
			tcase_set_tags(tc, tags);
			tcase_add_checked_fixture(tc, setups[i], e2e_teardown);
			tcase_set_timeout(tc, TCASE_SECS);
			tcase_add_test(tc, scenarios[j].test);
			suite_add_tcase(suite, tc);
		}
	}
	rc = mwt_main(suite);
	g_ptr_array_unref(names);
	return rc;
}
