/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-guard - answer 451 when a worker dies in the middle of a message
 * SYNOPSIS
 *	mw_guard_install, mw_guard_begin, mw_guard_end
 * DESCRIPTION
 *	Only async-signal-safe calls in the handlers: write(2), signal(2),
 *	raise(3), _exit(2). The crash handler restores the default action and
 *	re-raises, so the master sees the real signal (and a core dump can be
 *	written); the watchdog exits with status 3.
 */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "mw-guard.h"

/* the client waiting for the message's reply; -1 when none */
static volatile sig_atomic_t guard_fd = -1;

static const char crash_reply[] = "451 4.3.0 Internal error while processing the message, "
				  "try again later\r\n";
static const char timeout_reply[] = "451 4.4.7 Message processing took too long, "
				    "try again later\r\n";

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

void
mw_guard_install(void)
{
	const int crash_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
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
}

void
mw_guard_begin(int fd, guint seconds)
{
	guard_fd = fd;
	alarm(seconds);
}

void
mw_guard_end(void)
{
	alarm(0);
	guard_fd = -1;
}
