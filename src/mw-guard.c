/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-guard - answer 451 when a worker dies in the middle of a message
 * SYNOPSIS
 *	mw_guard_install, mw_guard_begin, mw_guard_end
 * DESCRIPTION
 *	The CPU limit is a CLOCK_PROCESS_CPUTIME_ID timer re-armed for each
 *	message; the memory limit is RLIMIT_DATA of the worker process.
 *	Only async-signal-safe calls in the handlers: write(2), signal(2),
 *	raise(3), _exit(2). The crash handler restores the default action and
 *	re-raises, so the master sees the real signal (and a core dump can be
 *	written); the watchdog exits with status 3.
 */
#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <time.h>
#include <string.h>
#include <unistd.h>

#include "mw-guard.h"

/* the client waiting for the message's reply; -1 when none */
static volatile sig_atomic_t guard_fd = -1;

static const char crash_reply[] = "451 4.3.0 Internal error while processing the message, "
				  "try again later\r\n";
static const char timeout_reply[] = "451 4.4.7 Message processing took too long, "
				    "try again later\r\n";
static const char cpu_reply[] = "451 4.7.0 Message processing used too much CPU time, "
				"try again later\r\n";

/* the per-message CPU timer, created once per worker */
static timer_t cpu_timer;
static gboolean cpu_timer_ok;

static void
on_crash(int sig)
{
	int fd = guard_fd;
	if (fd >= 0) {
		ssize_t unused = write(fd, crash_reply, sizeof crash_reply - 1);
		(void) unused;
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
on_watchdog(int sig)
{
	int fd = guard_fd;
	if (fd >= 0) {
		ssize_t unused = write(fd, timeout_reply, sizeof timeout_reply - 1);
		(void) unused;
	}
	_exit(3);
}

static void
on_cpu_limit(int sig)
{
	int fd = guard_fd;
	if (fd >= 0) {
		ssize_t unused = write(fd, cpu_reply, sizeof cpu_reply - 1);
		(void) unused;
	}
	_exit(3);
}

void
mw_guard_install(guint64 memory_limit)
{
	/* SIGTRAP: g_error() and failed g_malloc() end in G_BREAKPOINT */
	const int crash_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP};
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESETHAND | SA_NODEFER;
	sa.sa_handler = on_crash;
	for (guint i = 0; i < G_N_ELEMENTS(crash_signals); i++)
		sigaction(crash_signals[i], &sa, NULL);
	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_watchdog;
	sigaction(SIGALRM, &sa, NULL);
	sa.sa_handler = on_cpu_limit;
	sigaction(SIGXCPU, &sa, NULL);
	struct sigevent ev;
	memset(&ev, 0, sizeof ev);
	ev.sigev_notify = SIGEV_SIGNAL;
	ev.sigev_signo = SIGXCPU;
	cpu_timer_ok = timer_create(CLOCK_PROCESS_CPUTIME_ID, &ev, &cpu_timer) == 0;
	if (memory_limit > 0) {
		/* an allocation past it fails, g_malloc aborts, on_crash answers 451 */
		struct rlimit rl = {(rlim_t) memory_limit, (rlim_t) memory_limit};
		if (setrlimit(RLIMIT_DATA, &rl) < 0)
			g_warning("cannot set worker_memory_limit: %s", g_strerror(errno));
	}
}

void
mw_guard_begin(int fd, guint seconds, guint cpu_seconds)
{
	guard_fd = fd;
	alarm(seconds);
	if (cpu_timer_ok && cpu_seconds > 0) {
		/* relative to the CPU time used so far */
		struct timespec used;
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &used);
		struct itimerspec spec = {{0, 0},
					  {used.tv_sec + (time_t) cpu_seconds, used.tv_nsec}};
		timer_settime(cpu_timer, TIMER_ABSTIME, &spec, NULL);
	}
}

void
mw_guard_end(void)
{
	alarm(0);
	if (cpu_timer_ok) {
		struct itimerspec off = {{0, 0}, {0, 0}};
		timer_settime(cpu_timer, 0, &off, NULL);
	}
	guard_fd = -1;
}
