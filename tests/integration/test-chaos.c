/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	test-chaos - concurrent clients, a misbehaving downstream, killed workers
 * SYNOPSIS
 *	integration/test-chaos
 * DESCRIPTION
 *	20 client processes send a mix for CHAOS_MS through the real modules
 *	(virus with libclamav, spam, resources, gpg, footer) and the test
 *	modules: clean mail, a virus (EICAR: discarded), spam (GTUBE:
 *	quarantined), an iTip invitation to a room (booked or declined: the
 *	organizer gets the REPLY), mail to a recipient with a PGP key (gets
 *	PGP/MIME, the other recipient plain text), X-Test-Verdict discard /
 *	quarantine / reject, X-Test-Emit, a split recipient, one 50 MB
 *	message and garbage commands, one connection per attempt, each attempt
 *	announced with XFORWARD IDENT=<id>a<attempt> (an invitation keeps its
 *	first IDENT, as Postfix keeps the queue id of a deferred message). Meanwhile the
 *	test flips the sink's mode at random among ok, tempfail-dot,
 *	reject-dot, close-in-data and stall-dot:STALL (longer than the
 *	daemon's timeout) and SIGKILLs random workers. A client retries a
 *	message after a 4xx or a lost connection until it gets a final answer;
 *	after CHAOS_MS the sink stays "ok" and nobody is killed, so every retry
 *	must end in acceptance.
 *
 *	Every message has its own id (cId): the envelope sender is s-ID, the
 *	recipients r-ID (split-ID for the split variant, emit-ID for the
 *	emitted message), so the sink's envelopes tell what arrived for whom.
 *	Afterwards:
 *	- every message that got 250 is in the sink for each recipient (or a
 *	  DSN to its sender explains a missing one), or was discarded /
 *	  quarantined by a verdict logged on the summary line of that attempt;
 *	  the organizer of every invitation answered 250 got the room's REPLY;
 *	  the key holder got only PGP/MIME, once per message answered 250
 *	- discarded, quarantined and rejected messages are never in the sink
 *	- no message ends in 4xx, a dropped connection or a hang
 *	- nothing is in the sink more often than one plus the number of 4xx /
 *	  lost-connection attempts for it; nothing unknown is in the sink
 *	- the workers' file descriptors and RSS stay within a bound (one worker
 *	  is never killed, so it is compared with itself), the master
 *	  survives and all workers serve afterwards
 *	test_partial_dot_reject narrows what the chaos found: a split message
 *	while the sink flips between ok and reject-dot every few ms; a 5xx is
 *	only right when nothing of the message was delivered.
 */

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mw-test-util.h"

#define WORKERS      6
#define TIMEOUT      3
#define STALL        5
#define CLIENTS      20
#define CHAOS_MS     20000
#define MAX_ATTEMPTS 60
#define BIG_SIZE     (50 * 1024 * 1024)
#define FD_SLACK     4
#if defined(__SANITIZE_ADDRESS__)
#define MWT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MWT_ASAN 1
#endif
#endif
#ifdef MWT_ASAN
/* AddressSanitizer keeps freed memory in its quarantine (256 MB by default) */
#define RSS_SLACK_KB (300 * 1024)
#else
#define RSS_SLACK_KB (16 * 1024)
#endif
#define KILL_EVERY_MS 1500
#define FLIP_EVERY_MS 600

typedef enum {
	K_CLEAN,
	K_DISCARD,
	K_QUARANTINE,
	K_REJECT,
	K_EMIT,
	K_SPLIT,
	K_VIRUS,
	K_SPAM,
	K_ITIP,
	K_PGP,
	K_GARBAGE,
	K_BIG,
	N_KINDS
} Kind;

static const char *const kind_names[] = {"clean", "discard", "quarantine", "reject",
					 "emit",  "split",   "virus",      "spam",
					 "itip",  "pgp",     "garbage",    "big"};

/* the recipient whose public key is in the keyring, and the resource (no id in either) */
#define PGP_RCPT  "pgp@example.org"
#define ROOM_RCPT "room@example.org"

static const char *const modes[] = {"ok", "tempfail-dot", "reject-dot", "close-in-data",
				    ("stall-dot:" G_STRINGIFY(STALL))};

/* --- clients -------------------------------------------------------------- */

/* chaos_message - the message of @id */
static GBytes *
chaos_message(const char *id, Kind kind, GRand *rand)
{
	GString *s = g_string_new(NULL);
	guint lines;

	g_string_append_printf(s,
			       "From: Chaos <s-%s@example.org>\r\n"
			       "To: r-%s@example.net\r\n"
			       "Subject: chaos %s %s\r\n"
			       "Message-ID: <%s@chaos.example.org>\r\n"
			       "X-Chaos-Id: %s\r\n"
			       "Date: Mon, 01 Jan 2024 12:00:00 +0000\r\n"
			       "MIME-Version: 1.0\r\n"
			       "Content-Type: %s\r\n",
			       id, id, id, kind_names[kind], id, id,
			       kind == K_ITIP ? "text/calendar; charset=utf-8; method=REQUEST"
					      : "text/plain; charset=us-ascii");
	if (kind == K_DISCARD)
		g_string_append(s, "X-Test-Verdict: discard\r\n");
	else if (kind == K_QUARANTINE)
		g_string_append(s, "X-Test-Verdict: quarantine\r\n");
	else if (kind == K_REJECT)
		g_string_append(s, "X-Test-Verdict: reject\r\n");
	else if (kind == K_EMIT)
		g_string_append_printf(s, "X-Test-Emit: emit-%s@example.net\r\n", id);
	g_string_append(s, "\r\n");
	if (kind == K_BIG) {
		while (s->len < BIG_SIZE)
			g_string_append_printf(s, "%s big line %08zu of a 50 MB message ......\r\n",
					       id, s->len);
	} else if (kind == K_ITIP) {
		/* one of 40 one-hour slots: the room books some, declines others */
		guint slot = (guint) g_rand_int_range(rand, 0, 40);
		g_string_append_printf(s,
				       "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//chaos//EN\r\n"
				       "METHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:chaos-%s\r\n"
				       "SEQUENCE:0\r\nDTSTAMP:20240101T120000Z\r\n"
				       "DTSTART:202607%02uT%02u0000Z\r\nDURATION:PT1H\r\n"
				       "SUMMARY:chaos %s\r\nORGANIZER:mailto:o-%s@example.net\r\n"
				       "ATTENDEE;RSVP=TRUE;PARTSTAT=NEEDS-ACTION:mailto:" ROOM_RCPT
				       "\r\nATTENDEE;RSVP=TRUE;PARTSTAT=NEEDS-ACTION:"
				       "mailto:r-%s@example.net\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
				       id, 1 + slot / 8, 9 + slot % 8, id, id, id);
	} else {
		if (kind == K_VIRUS)
			g_string_append(s, MWT_EICAR "\r\n");
		else if (kind == K_SPAM)
			g_string_append(s, MWT_GTUBE "\r\n");
		lines = (guint) g_rand_int_range(rand, 1, 300);
		for (guint i = 0; i < lines; i++)
			g_string_append_printf(s, "%sline %u of %s\r\n", i % 7 == 0 ? "." : "", i,
					       id);
	}
	return g_string_free_to_bytes(s);
}

/* attempt - one connection, one transaction; the final code (<0: lost/hang), its text in @text */
static int
attempt(const char *id, guint n, Kind kind, GBytes *msg, char **text)
{
	g_autofree char *from = g_strdup_printf("s-%s@example.org", id);
	g_autofree char *r = g_strdup_printf("r-%s@example.net", id);
	g_autofree char *split = g_strdup_printf("split-%s@example.org", id);
	const char *one[] = {r, NULL};
	const char *two[] = {split, r, NULL};
	const char *room[] = {ROOM_RCPT, r, NULL};
	const char *pgp[] = {PGP_RCPT, r, NULL};
	const char *const *rcpts = kind == K_SPLIT  ? two
				   : kind == K_ITIP ? room
				   : kind == K_PGP  ? pgp
						    : one;
	MwtSmtp *s = mwt_smtp_try_connect(mwt->port);
	int code;

	if (s == NULL) {
		*text = g_strdup("(connect failed)");
		return -1;
	}
	s->timeout_ms = mwt_scale(30000);
	code = mwt_smtp_read(s);
	if (code != 220)
		goto out;
	code = mwt_smtp_cmd(s, "EHLO chaos.example");
	if (code != 250)
		goto out;
	/* Postfix retries a queue file with its queue id: the resources module answers a
	 * retry of the same queue id again (its first answer never went out); the other
	 * kinds get one per attempt, so that each attempt's summary line can be found */
	code = mwt_smtp_cmd(s, "XFORWARD IDENT=%sa%u", id, kind == K_ITIP ? 1 : n);
	if (code != 250)
		goto out;
	code = mwt_smtp_try_message(s, from, rcpts, MWT_BYTES(msg));
out:
	*text = g_strdup(s->text);
	g_strdelimit(*text, "\r\n", ' ');
	if (code > 0)
		mwt_smtp_cmd(s, "QUIT");
	mwt_smtp_close(s);
	return code;
}

/* garbage - junk commands; 0 when the daemon answered or closed, -2 on a hang */
static int
garbage(GRand *rand)
{
	static const char *const junk[] = {"RCPT TO:<nobody@example.net>",
					   "DATA",
					   "BDAT 10 LAST",
					   "STARTTLS",
					   "AUTH PLAIN AGFhAGI=",
					   "MAIL FROM:<broken",
					   "MAIL FROM:<a@example.org> SIZE=x",
					   "XFORWARD FOO=bar",
					   "VRFY root",
					   "HELO",
					   "EHLO",
					   "\x01\x02\xff\xfe",
					   "",
					   "MAIL FROM:<a@example.org> BODY=9BIT"};
	MwtSmtp *s = mwt_smtp_try_connect(mwt->port);
	g_autoptr(GString) out = g_string_new(NULL);
	int code;

	if (s == NULL)
		return 0;
	s->timeout_ms = mwt_scale(20000);
	if (mwt_smtp_read(s) != 220)
		goto out;
	for (guint i = 0; i < 8; i++)
		g_string_append_printf(out, "%s\r\n",
				       junk[g_rand_int_range(rand, 0, G_N_ELEMENTS(junk))]);
	for (guint i = 0; i < 5000; i++)
		g_string_append_c(out, 'L');
	g_string_append(out, "\r\n");
	for (guint i = 0; i < 512; i++) {
		char c = (char) g_rand_int_range(rand, 0, 256);
		g_string_append_c(out, c == '\n' ? 'n' : c);
	}
	g_string_append(out, "\r\nNOOP\r\nQUIT\r\n");
	mwt_smtp_send_raw(s, out->str, out->len);
	/* replies until 221 or the close; a silent open connection is a hang */
	for (guint i = 0; i < 100; i++) {
		code = mwt_smtp_read(s);
		if (code == 221 || code == -1) {
			mwt_smtp_close(s);
			return 0;
		}
		if (code == -2) {
			mwt_smtp_close(s);
			return -2;
		}
	}
out:
	mwt_smtp_close(s);
	return 0;
}

/* client_run - client @i until @chaos_end (monotonic µs); every event to @path */
static int
client_run(guint i, gint64 chaos_end, gint64 retry_end, const char *path)
{
	FILE *log = fopen(path, "w");
	g_autoptr(GRand) rand = g_rand_new_with_seed(i * 7919 + (guint) getpid());

	if (log == NULL)
		return 2;
	for (guint j = 0; g_get_monotonic_time() < chaos_end; j++) {
		g_autofree char *id = g_strdup_printf("c%um%u", i, j);
		Kind kind = (i == 0 && j == 0) ? K_BIG : (Kind) g_rand_int_range(rand, 0, K_BIG);
		g_autoptr(GBytes) msg = NULL;
		int code = -1;
		guint n;

		fprintf(log, "M %s %s\n", id, kind_names[kind]);
		fflush(log);
		if (kind == K_GARBAGE) {
			fprintf(log, "G %s %d\n", id, garbage(rand));
			fflush(log);
			continue;
		}
		msg = chaos_message(id, kind, rand);
		for (n = 1; n <= MAX_ATTEMPTS; n++) {
			g_autofree char *text = NULL;

			code = attempt(id, n, kind, msg, &text);
			fprintf(log, "A %s %u %d %s\n", id, n, code, text);
			fflush(log);
			if (code >= 200 && code / 100 != 4)
				break;
			if (g_get_monotonic_time() > retry_end)
				break;
			g_usleep((gulong) g_rand_int_range(rand, 100, 400) * 1000);
		}
	}
	fclose(log);
	return 0;
}

/* --- workers -------------------------------------------------------------- */

/* workers_of - pids whose parent is @master (from /proc/PID/stat) */
static GArray *
workers_of(pid_t master)
{
	GArray *pids = g_array_new(FALSE, FALSE, sizeof(pid_t));
	DIR *proc = opendir("/proc");
	struct dirent *e;

	while (proc != NULL && (e = readdir(proc)) != NULL) {
		g_autofree char *path = NULL;
		g_autofree char *stat = NULL;
		const char *rp;
		int ppid = 0;

		if (!g_ascii_isdigit(e->d_name[0]))
			continue;
		path = g_strdup_printf("/proc/%s/stat", e->d_name);
		if (!g_file_get_contents(path, &stat, NULL, NULL))
			continue;
		rp = strrchr(stat, ')');
		if (rp == NULL || sscanf(rp + 1, " %*c %d", &ppid) != 1)
			continue;
		if (ppid == master) {
			pid_t pid = (pid_t) atoi(e->d_name);
			g_array_append_val(pids, pid);
		}
	}
	if (proc != NULL)
		closedir(proc);
	return pids;
}

/* fd_count - open descriptors of @pid, -1 if gone */
static int
fd_count(pid_t pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/fd", (int) pid);
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* rss_kb - VmRSS of @pid in kB, -1 if gone */
static long
rss_kb(pid_t pid)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/status", (int) pid);
	g_autofree char *text = NULL;
	const char *p;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return -1;
	p = strstr(text, "VmRSS:");
	return p != NULL ? atol(p + 6) : -1;
}

typedef struct {
	pid_t pid;
	int fds;
	long rss;
} Usage;

/* measure - the usage of every worker */
static GArray *
measure(void)
{
	g_autoptr(GArray) pids = workers_of(mwt->daemon);
	GArray *out = g_array_new(FALSE, FALSE, sizeof(Usage));

	for (guint i = 0; i < pids->len; i++) {
		Usage u = {.pid = g_array_index(pids, pid_t, i)};
		u.fds = fd_count(u.pid);
		u.rss = rss_kb(u.pid);
		if (u.fds >= 0 && u.rss >= 0)
			g_array_append_val(out, u);
	}
	return out;
}

/* all_workers_serve - WORKERS sessions at once, each delivering (touches every worker) */
static void
all_workers_serve(const char *tag)
{
	MwtSmtp *sessions[WORKERS];

	mwt_sink_mode("ok");
	for (guint i = 0; i < WORKERS; i++) {
		sessions[i] = mwt_smtp_connect(mwt->port);
		sessions[i]->timeout_ms = mwt_scale(20000);
		mwt_smtp_expect(sessions[i], 220);
	}
	for (guint i = 0; i < WORKERS; i++) {
		g_autofree char *r = g_strdup_printf("r-%s%u@example.net", tag, i);
		g_autofree char *split = g_strdup_printf("split-%s%u@example.org", tag, i);
		g_autofree char *emit =
			g_strdup_printf("X-Test-Emit: emit-%s%u@example.net", tag, i);
		const char *rcpts[] = {split, r, NULL};
		g_autoptr(GBytes) msg = mwt_message("warm", emit);

		mwt_smtp_cmd_expect(sessions[i], 250, "EHLO warm.example");
		ck_assert_int_eq(mwt_smtp_message(sessions[i], "warm@example.org", NULL, rcpts,
						  MWT_BYTES(msg)),
				 250);
	}
	for (guint i = 0; i < WORKERS; i++) {
		mwt_smtp_cmd(sessions[i], "QUIT");
		mwt_smtp_close(sessions[i]);
	}
}

/* --- the record ----------------------------------------------------------- */

typedef struct {
	char *id;
	Kind kind;
	guint attempts;
	guint temp;      /* attempts with 4xx, a lost connection or a hang */
	int final;       /* last attempt's code */
	guint got250_at; /* attempt that got 250, 0: none */
	int garbage;
	char *final_text;
} Msg;

static void
msg_free(gpointer p)
{
	Msg *m = p;

	g_free(m->id);
	g_free(m->final_text);
	g_free(m);
}

/* read_outcomes - every client's log into id -> Msg */
static GHashTable *
read_outcomes(void)
{
	GHashTable *msgs = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, msg_free);

	for (guint i = 0; i < CLIENTS; i++) {
		g_autofree char *path = g_strdup_printf("%s/client-%u.log", mwt->dir, i);
		g_autofree char *text = NULL;
		g_auto(GStrv) lines = NULL;

		ck_assert_msg(g_file_get_contents(path, &text, NULL, NULL), "no %s", path);
		lines = g_strsplit(text, "\n", -1);
		for (guint k = 0; lines[k] != NULL; k++) {
			g_auto(GStrv) w = g_strsplit(lines[k], " ", 5);
			Msg *m;

			if (g_strv_length(w) < 3)
				continue;
			if (strcmp(w[0], "M") == 0) {
				m = g_new0(Msg, 1);
				m->id = g_strdup(w[1]);
				for (guint x = 0; x < N_KINDS; x++)
					if (strcmp(w[2], kind_names[x]) == 0)
						m->kind = (Kind) x;
				m->final = 0;
				g_hash_table_insert(msgs, m->id, m);
				continue;
			}
			m = g_hash_table_lookup(msgs, w[1]);
			ck_assert_msg(m != NULL, "client log line for an unknown id: %s", lines[k]);
			if (strcmp(w[0], "G") == 0) {
				m->garbage = atoi(w[2]);
				m->final = 221;
			} else if (strcmp(w[0], "A") == 0 && w[3] != NULL) {
				int code = atoi(w[3]);
				m->attempts++;
				m->final = code;
				g_free(m->final_text);
				m->final_text = g_strdup(w[4] != NULL ? w[4] : "");
				if (code < 200 || code / 100 == 4)
					m->temp++;
				if (code == 250)
					m->got250_at = (guint) atoi(w[2]);
			}
		}
	}
	return msgs;
}

/* id_of_rcpt - "ID" of "prefix-ID@domain", NULL for other addresses */
static char *
id_of_rcpt(const char *addr)
{
	const char *dash = strchr(addr, '-');
	const char *at = strchr(addr, '@');

	if (dash == NULL || at == NULL || at < dash)
		return NULL;
	return g_strndup(dash + 1, (gsize) (at - dash - 1));
}

/* read_sink - recipient address -> number of sink messages for it */
static GHashTable *
read_sink(void)
{
	GHashTable *count = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	guint n = mwt_sink_count();

	for (guint k = 1; k <= n; k++) {
		g_autofree char *env = mwt_sink_envelope(k);
		g_autoptr(GPtrArray) rcpts = mwt_env_rcpts(env);

		for (guint r = 0; r < rcpts->len; r++) {
			const char *addr = g_ptr_array_index(rcpts, r);
			guint c = GPOINTER_TO_UINT(g_hash_table_lookup(count, addr));
			g_hash_table_insert(count, g_strdup(addr), GUINT_TO_POINTER(c + 1));
		}
	}
	return count;
}

/* verdict_action - the summary line's action of a kind whose 250 delivers nothing */
static const char *
verdict_action(Kind kind)
{
	switch (kind) {
	case K_DISCARD:
	case K_VIRUS: /* [virus] action = discard */
		return "action=discarded";
	case K_QUARANTINE:
	case K_SPAM: /* GTUBE is above discard_level: [spam] action = quarantine */
		return "action=quarantined";
	default:
		return NULL;
	}
}

/*
 * check_pgp - what PGP_RCPT got: only PGP/MIME, at least once per K_PGP message
 * answered 250 (unless a DSN explains a refused copy), at most that plus the
 * retries
 */
static void
check_pgp(GHashTable *msgs, GHashTable *sink, GString *problems, guint *n_problems)
{
	guint min = 0, max = 0, got = 0;
	guint n = mwt_sink_count();
	GHashTableIter it;
	gpointer value;

	g_hash_table_iter_init(&it, msgs);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		const Msg *m = value;
		g_autofree char *dsn = g_strdup_printf("s-%s@example.org", m->id);

		if (m->kind != K_PGP)
			continue;
		if (m->got250_at > 0 && !g_hash_table_contains(sink, dsn))
			min++;
		max += (m->got250_at > 0 ? 1 : 0) + m->temp;
	}
	for (guint k = 1; k <= n; k++) {
		g_autofree char *env = mwt_sink_envelope(k);
		g_autoptr(GPtrArray) rcpts = mwt_env_rcpts(env);

		if (rcpts->len == 0 || strcmp(g_ptr_array_index(rcpts, 0), PGP_RCPT) != 0)
			continue;
		got++;
		g_autoptr(GBytes) msg = mwt_sink_message(k);
		g_autofree char *type = mwt_header(msg, "Content-Type");
		if (rcpts->len != 1 || type == NULL ||
		    strstr(type, "multipart/encrypted") == NULL) {
			(*n_problems)++;
			g_string_append_printf(problems,
					       "sink message %u for <" PGP_RCPT
					       "> (%u recipients) is not PGP/MIME: %s\n",
					       k, rcpts->len, type != NULL ? type : "(no type)");
		}
	}
	fprintf(stderr, "chaos: <" PGP_RCPT "> got %u PGP/MIME messages (expected %u to %u)\n", got,
		min, max);
	if (got < min || got > max) {
		(*n_problems)++;
		g_string_append_printf(problems,
				       "<" PGP_RCPT "> got %u messages, expected %u to %u\n", got,
				       min, max);
	}
}

/* expected_rcpts - the sink recipients a delivered message of @kind produces */
static GPtrArray *
expected_rcpts(const Msg *m)
{
	GPtrArray *a = g_ptr_array_new_with_free_func(g_free);

	switch (m->kind) {
	case K_CLEAN:
	case K_BIG:
	case K_PGP: /* and PGP_RCPT, counted on its own */
		g_ptr_array_add(a, g_strdup_printf("r-%s@example.net", m->id));
		break;
	case K_ITIP: /* the room is consumed; its REPLY goes to the organizer */
		g_ptr_array_add(a, g_strdup_printf("r-%s@example.net", m->id));
		g_ptr_array_add(a, g_strdup_printf("o-%s@example.net", m->id));
		break;
	case K_SPLIT:
		g_ptr_array_add(a, g_strdup_printf("r-%s@example.net", m->id));
		g_ptr_array_add(a, g_strdup_printf("split-%s@example.org", m->id));
		break;
	case K_EMIT:
		g_ptr_array_add(a, g_strdup_printf("r-%s@example.net", m->id));
		g_ptr_array_add(a, g_strdup_printf("emit-%s@example.net", m->id));
		break;
	default:
		break;
	}
	return a;
}

/*
 * module_sections - the real modules' backends in the test's directory: a
 * ClamAV database that knows EICAR, a keyring with PGP_RCPT's public key
 * (made here), a directory with the room and a footer; returns the config's
 * module sections
 */
static char *
module_sections(void)
{
	g_autofree char *db = mwt_make_clamav_db();
	g_autofree char *keyring = mwt_make_keyring(PGP_RCPT);
	g_autofree char *footer = NULL;

	g_free(mwt_write_file("directory.conf", "[resource:" ROOM_RCPT "]\nname = Room\n", -1));
	footer = mwt_write_file("footer.txt", "-- \nchaos footer\n", -1);
	return g_strdup_printf("[virus]\n"
			       "engine = libclamav\n"
			       "database = %s\n"
			       /* the 50 MB message passes unscanned (oversized = pass), as a
				* postmaster limits libclamav's work on huge mail */
			       "max_scan_size = 10m\n"
			       "max_file_size = 10m\n"
			       "\n[spam]\nengine = builtin\nrules =\nspf = false\nbayes = false\n"
			       /* the organizer (o-ID) is not the sender (s-ID): a DSN to the
				* sender stays apart from the room's REPLY */
			       "\n[resources]\nverify_organizer = false\n"
			       "\n[gpg]\nkeyring = %s\n"
			       "\n[footer]\ntext = %s\napply_to = all\n",
			       db, keyring, footer);
}

/* module_keys - the [mailwarden] keys of the chaos config */
static char *
module_keys(void)
{
	return g_strdup_printf("modules = virus, spam, test_verdict, resources, test_emit, "
			       "test_split, gpg, footer\n"
			       "timeout = %d\n"
			       "max_message_size = 62914560\n"
			       "local_domains = example.org\n"
			       "directory = %s/directory.conf\n"
			       "calendars = dir:%s/calendars",
			       TIMEOUT, mwt->dir, mwt->dir);
}

START_TEST(test_chaos)
{
	g_autofree pid_t *clients = g_new0(pid_t, CLIENTS);
	g_autoptr(GArray) before = NULL;
	g_autoptr(GArray) after = NULL;
	g_autoptr(GHashTable) msgs = NULL;
	g_autoptr(GHashTable) sink = NULL;
	g_autoptr(GRand) rand = g_rand_new_with_seed((guint32) g_get_real_time());
	g_autoptr(GString) problems = g_string_new(NULL);
	g_autofree char *log = NULL;
	g_autofree char *keys = NULL;
	g_autofree char *sections = NULL;
	gint64 chaos_end, retry_end, wait_end, next_kill, next_flip;
	guint kills = 0, flips = 0, n_problems = 0, failed_clients = 0;
	guint stats[N_KINDS] = {0}, n250 = 0, n5xx = 0, retried = 0;
	int master_fds_before, master_fds_after;
	long max_rss_before = 0, max_rss_after = 0;
	int max_fds_before = 0, max_fds_after = 0;
	GHashTableIter it;
	gpointer key, value;
	pid_t spared;
	gboolean spared_seen = FALSE;

	sections = module_sections();
	keys = module_keys();
	mwt_start(WORKERS, keys, sections);
	all_workers_serve("warm1x");
	mwt_sink_quiesce();
	before = measure();
	master_fds_before = fd_count(mwt->daemon);
	for (guint i = 0; i < before->len; i++) {
		Usage *u = &g_array_index(before, Usage, i);
		max_fds_before = MAX(max_fds_before, u->fds);
		max_rss_before = MAX(max_rss_before, u->rss);
	}
	ck_assert_msg(before->len == WORKERS, "found %u workers, expected %d", before->len,
		      WORKERS);
	spared = g_array_index(before, Usage, 0).pid;

	chaos_end = g_get_monotonic_time() + (gint64) CHAOS_MS * 1000;
	retry_end = chaos_end + (gint64) mwt_scale(25000) * 1000;
	wait_end = retry_end + (gint64) mwt_scale(40000) * 1000;
	for (guint i = 0; i < CLIENTS; i++) {
		g_autofree char *path = g_strdup_printf("%s/client-%u.log", mwt->dir, i);

		fflush(stdout);
		fflush(stderr);
		clients[i] = fork();
		ck_assert_msg(clients[i] >= 0, "fork: %s", g_strerror(errno));
		if (clients[i] == 0)
			_exit(client_run(i, chaos_end, retry_end, path));
	}

	/* the chaos: flip the sink's mode, kill workers */
	next_kill = g_get_monotonic_time() + KILL_EVERY_MS * 1000;
	next_flip = g_get_monotonic_time();
	while (g_get_monotonic_time() < chaos_end) {
		gint64 now = g_get_monotonic_time();

		if (now >= next_flip) {
			mwt_sink_mode(modes[g_rand_int_range(rand, 0, G_N_ELEMENTS(modes))]);
			flips++;
			next_flip = now + g_rand_int_range(rand, FLIP_EVERY_MS / 2,
							   FLIP_EVERY_MS * 3 / 2) *
						  1000;
		}
		if (now >= next_kill) {
			g_autoptr(GArray) w = workers_of(mwt->daemon);
			/* the first worker lives on: its fds and RSS are compared below */
			for (guint k = 0; k < w->len; k++)
				if (g_array_index(w, pid_t, k) == spared)
					g_array_remove_index_fast(w, k--);
			if (w->len > 0) {
				pid_t victim =
					g_array_index(w, pid_t, g_rand_int_range(rand, 0, w->len));
				if (kill(victim, SIGKILL) == 0)
					kills++;
			}
			next_kill = now + g_rand_int_range(rand, KILL_EVERY_MS / 2,
							   KILL_EVERY_MS * 3 / 2) *
						  1000;
		}
		ck_assert_msg(mwt_daemon_alive(), "the master died during the chaos");
		g_usleep(50 * 1000);
	}
	mwt_sink_mode("ok");

	for (guint i = 0; i < CLIENTS; i++) {
		int status = 0;
		pid_t got;

		while ((got = waitpid(clients[i], &status, WNOHANG)) == 0) {
			if (g_get_monotonic_time() > wait_end) {
				for (guint k = i; k < CLIENTS; k++)
					kill(clients[k], SIGKILL);
				ck_abort_msg("client %u did not finish in time", i);
			}
			g_usleep(20 * 1000);
		}
		if (got != clients[i] || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed_clients++;
	}
	ck_assert_msg(failed_clients == 0, "%u clients failed", failed_clients);
	ck_assert_msg(mwt_daemon_alive(), "the master died");
	mwt_sink_quiesce();

	/* the verdicts */
	msgs = read_outcomes();
	sink = read_sink();
	log = mwt_log_text();
	g_hash_table_iter_init(&it, msgs);
	while (g_hash_table_iter_next(&it, NULL, &value)) {
		Msg *m = value;
		g_autoptr(GPtrArray) want = expected_rcpts(m);
		g_autofree char *dsn = g_strdup_printf("s-%s@example.org", m->id);
		gboolean has_dsn = g_hash_table_contains(sink, dsn);

		stats[m->kind]++;
		if (m->temp > 0)
			retried++;
		if (m->kind == K_GARBAGE) {
			if (m->garbage != 0) {
				n_problems++;
				g_string_append_printf(
					problems,
					"%s: garbage commands: no reply, no close (hang)\n", m->id);
			}
			continue;
		}
		if (m->final == 250)
			n250++;
		else if (m->final / 100 == 5)
			n5xx++;
		if (m->final < 200 || m->final / 100 == 4) {
			n_problems++;
			g_string_append_printf(
				problems, "%s (%s): still %d after %u attempts (no final answer)\n",
				m->id, kind_names[m->kind], m->final, m->attempts);
		}
		/* a 5xx is a reject verdict or the sink's permanent refusal, nothing else */
		if (m->final / 100 == 5 && strstr(m->final_text, "reject-dot") == NULL &&
		    (m->kind != K_REJECT || strstr(m->final_text, "test_verdict") == NULL)) {
			n_problems++;
			g_string_append_printf(problems, "%s (%s): unexplained %d \"%s\"\n", m->id,
					       kind_names[m->kind], m->final, m->final_text);
		}
		if (m->kind == K_REJECT && m->got250_at > 0) {
			n_problems++;
			g_string_append_printf(problems,
					       "%s: reject verdict answered 250 (attempt %u)\n",
					       m->id, m->got250_at);
		}
		if (m->got250_at > 0 && verdict_action(m->kind) != NULL) {
			g_autofree char *qid = g_strdup_printf("%sa%u:", m->id, m->got250_at);
			const char *action = verdict_action(m->kind);
			if (mwt_log_count(qid, action, NULL) == 0) {
				n_problems++;
				g_string_append_printf(
					problems,
					"%s (%s): 250 at attempt %u without a logged "
					"%s line for %s\n",
					m->id, kind_names[m->kind], m->got250_at, action, qid);
			}
		}
		if (m->got250_at > 0) {
			for (guint r = 0; r < want->len; r++) {
				const char *addr = g_ptr_array_index(want, r);
				if (!g_hash_table_contains(sink, addr) && !has_dsn) {
					n_problems++;
					g_string_append_printf(
						problems,
						"%s (%s): 250 at attempt %u but nothing "
						"for <%s> in the sink (and no DSN) - "
						"lost; attempts %u\n",
						m->id, kind_names[m->kind], m->got250_at, addr,
						m->attempts);
				}
			}
		}
	}

	/* every sink message belongs to a message, and is there at most as often as explained */
	g_hash_table_iter_init(&it, sink);
	while (g_hash_table_iter_next(&it, &key, &value)) {
		const char *addr = key;
		guint count = GPOINTER_TO_UINT(value);
		g_autofree char *id = id_of_rcpt(addr);
		Msg *m = id != NULL ? g_hash_table_lookup(msgs, id) : NULL;
		guint allowed;

		if (strcmp(addr, PGP_RCPT) == 0) /* check_pgp */
			continue;
		if (g_str_has_prefix(addr, "r-warm") || g_str_has_prefix(addr, "split-warm") ||
		    g_str_has_prefix(addr, "emit-warm") || strcmp(addr, "warm@example.org") == 0)
			continue;
		if (m == NULL) {
			n_problems++;
			g_string_append_printf(problems,
					       "the sink has %u for <%s>: no such message\n", count,
					       addr);
			continue;
		}
		if (m->kind == K_REJECT || verdict_action(m->kind) != NULL) {
			n_problems++;
			g_string_append_printf(problems, "%s (%s) was delivered %u times to <%s>\n",
					       m->id, kind_names[m->kind], count, addr);
			continue;
		}
		allowed = (m->got250_at > 0 ? 1 : 0) + m->temp;
		if (count > allowed) {
			n_problems++;
			g_string_append_printf(problems,
					       "%s (%s): <%s> delivered %u times, but %s250 and "
					       "%u 4xx/lost attempts (final %d)\n",
					       m->id, kind_names[m->kind], addr, count,
					       m->got250_at > 0 ? "" : "no ", m->temp, m->final);
		}
	}

	check_pgp(msgs, sink, problems, &n_problems);

	/* the workers serve, and their descriptors and memory did not grow */
	ck_assert_msg(mwt_daemon_alive(), "the master died");
	all_workers_serve("warm2x");
	mwt_sink_quiesce();
	after = measure();
	master_fds_after = fd_count(mwt->daemon);
	for (guint i = 0; i < after->len; i++) {
		Usage *u = &g_array_index(after, Usage, i);
		max_fds_after = MAX(max_fds_after, u->fds);
		max_rss_after = MAX(max_rss_after, u->rss);
		for (guint k = 0; k < before->len; k++) {
			Usage *b = &g_array_index(before, Usage, k);
			if (b->pid != u->pid)
				continue;
			if (u->pid == spared)
				spared_seen = TRUE;
			fprintf(stderr,
				"chaos: surviving worker %d: fds %d -> %d, rss %ld -> %ld kB\n",
				(int) u->pid, b->fds, u->fds, b->rss, u->rss);
			if (u->fds > b->fds + FD_SLACK || u->rss > b->rss + RSS_SLACK_KB) {
				n_problems++;
				g_string_append_printf(
					problems,
					"worker %d grew: fds %d -> %d, rss %ld -> %ld kB\n",
					(int) u->pid, b->fds, u->fds, b->rss, u->rss);
			}
		}
	}
	fprintf(stderr,
		"chaos: %u messages (clean %u, discard %u, quarantine %u, reject %u, emit %u, "
		"split %u, virus %u, spam %u, itip %u, pgp %u, garbage %u, big %u), %u final 250, "
		"%u final 5xx, %u retried; %u mode "
		"flips, %u workers killed; sink has %u messages; workers max fds %d -> %d, max rss "
		"%ld -> %ld kB; master fds %d -> %d\n",
		g_hash_table_size(msgs), stats[K_CLEAN], stats[K_DISCARD], stats[K_QUARANTINE],
		stats[K_REJECT], stats[K_EMIT], stats[K_SPLIT], stats[K_VIRUS], stats[K_SPAM],
		stats[K_ITIP], stats[K_PGP], stats[K_GARBAGE], stats[K_BIG], n250, n5xx, retried,
		flips, kills, mwt_sink_count(), max_fds_before, max_fds_after, max_rss_before,
		max_rss_after, master_fds_before, master_fds_after);
	if (!spared_seen) {
		n_problems++;
		g_string_append_printf(problems, "the worker never killed (%d) is gone\n",
				       (int) spared);
	}
	if (after->len != WORKERS) {
		n_problems++;
		g_string_append_printf(problems, "%u workers after the chaos, expected %d\n",
				       after->len, WORKERS);
	}
	if (max_fds_after > max_fds_before + FD_SLACK ||
	    max_rss_after > max_rss_before + RSS_SLACK_KB) {
		n_problems++;
		g_string_append_printf(
			problems, "workers grew: max fds %d -> %d, max rss %ld -> %ld kB\n",
			max_fds_before, max_fds_after, max_rss_before, max_rss_after);
	}
	if (master_fds_after > master_fds_before + FD_SLACK) {
		n_problems++;
		g_string_append_printf(problems, "the master's fds grew: %d -> %d\n",
				       master_fds_before, master_fds_after);
	}
	ck_assert_msg(stats[K_BIG] == 1, "the 50 MB message was not sent");
	if (problems->len > 3000)
		g_string_truncate(problems, 3000); /* check's message limit */
	ck_assert_msg(n_problems == 0, "%u problems (the first ones):\n%s", n_problems,
		      problems->str);
	ck_assert(mwt_daemon_alive());
}
END_TEST

/*
 * test_partial_dot_reject - the case the chaos found, narrowed: a message split
 * into two deliveries while the sink flips between ok and reject-dot every
 * few milliseconds. When the first copy is accepted at its dot and the second
 * refused with a 5xx, the accepted recipient must not be answered 554 (Postfix
 * would bounce a delivered recipient): the answer must be 250 with a DSN for
 * the refused one, as for a refusal at RCPT (or a 4xx, whose retry explains
 * the duplicate). A 5xx is right only when nothing was delivered.
 */
static const Kind partial_kinds[] = {K_SPLIT, K_EMIT};

START_TEST(test_partial_dot_reject)
{
	Kind kind = partial_kinds[_i];
	const char *second = kind == K_SPLIT ? "split" : "emit";
	g_autoptr(GString) problems = g_string_new(NULL);
	g_autoptr(GHashTable) sink = NULL;
	g_autoptr(GArray) codes = g_array_new(FALSE, FALSE, sizeof(int));
	g_autofree char *keys =
		g_strdup_printf("modules = test_split, test_emit\ntimeout = %d", TIMEOUT);
	gint64 end = g_get_monotonic_time() + (gint64) 10000 * 1000;
	guint n_problems = 0, partial_250 = 0;
	pid_t flipper;
	int status;

	mwt_start(2, keys, NULL);
	fflush(stderr);
	flipper = fork();
	ck_assert_msg(flipper >= 0, "fork: %s", g_strerror(errno));
	if (flipper == 0) {
		g_autoptr(GRand) rand = g_rand_new();
		for (;;) {
			mwt_sink_mode("ok");
			g_usleep((gulong) g_rand_int_range(rand, 0, 15000));
			mwt_sink_mode("reject-dot");
			g_usleep((gulong) g_rand_int_range(rand, 0, 15000));
		}
	}
	for (guint i = 0; i < 400 && g_get_monotonic_time() < end; i++) {
		g_autofree char *id = g_strdup_printf("p%u", i);
		g_autoptr(GRand) rand = g_rand_new_with_seed(i);
		g_autoptr(GBytes) msg = chaos_message(id, kind, rand);
		g_autofree char *text = NULL;
		int code = attempt(id, 1, kind, msg, &text);

		g_array_append_val(codes, code);
	}
	kill(flipper, SIGKILL);
	waitpid(flipper, &status, 0);
	mwt_sink_mode("ok");
	mwt_sink_quiesce();
	sink = read_sink();
	for (guint i = 0; i < codes->len; i++) {
		int code = g_array_index(codes, int, i);
		g_autofree char *r = g_strdup_printf("r-p%u@example.net", i);
		g_autofree char *split = g_strdup_printf("%s-p%u@example.%s", second, i,
							 kind == K_SPLIT ? "org" : "net");
		g_autofree char *dsn = g_strdup_printf("s-p%u@example.org", i);
		guint n_r = GPOINTER_TO_UINT(g_hash_table_lookup(sink, r));
		guint n_split = GPOINTER_TO_UINT(g_hash_table_lookup(sink, split));
		gboolean has_dsn = g_hash_table_contains(sink, dsn);

		if (code / 100 == 5 && (n_r > 0 || n_split > 0)) {
			n_problems++;
			g_string_append_printf(
				problems,
				"p%u: answered %d, but delivered to <%s> %u, <%s> %u "
				"(XFORWARD IDENT=p%ua1)\n",
				i, code, r, n_r, split, n_split, i);
		}
		if (code == 250 && (n_r != 1 || n_split != 1)) {
			partial_250++;
			if (!has_dsn) {
				n_problems++;
				g_string_append_printf(
					problems,
					"p%u: 250, delivered to <%s> %u, <%s> %u, no DSN\n", i, r,
					n_r, split, n_split);
			}
		}
		/* a 4xx is allowed too: the retry's duplicate is explained by it */
		if (code < 200 || code / 100 == 3) {
			n_problems++;
			g_string_append_printf(problems, "p%u: answered %d\n", i, code);
		}
	}
	fprintf(stderr, "partial-dot (%s): %u messages, %u partial deliveries answered 250 + DSN\n",
		kind_names[kind], codes->len, partial_250);
	if (problems->len > 3000)
		g_string_truncate(problems, 3000); /* check's message limit */
	ck_assert_msg(n_problems == 0, "%s: %u problems (the first ones):\n%s", kind_names[kind],
		      n_problems, problems->str);
}
END_TEST

static Suite *
chaos_suite(void)
{
	Suite *suite = suite_create("chaos");
	TCase *tc = mwt_tcase("chaos", 110);

	tcase_add_test(tc, test_chaos);
	tcase_add_loop_test(tc, test_partial_dot_reject, 0, G_N_ELEMENTS(partial_kinds));
	suite_add_tcase(suite, tc);
	return suite;
}

int
main(void)
{
	return mwt_main(chaos_suite());
}
