/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * The per-message guard of a worker process: while a message is processed,
 * a crash (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT; also running out of the
 * worker's memory limit, which makes an allocation abort), the watchdog (the
 * message took longer than allowed) or the CPU limit answers the waiting
 * client 451 with one write(2) from the signal handler and ends the process. The downstream
 * connections die with it before any final dot, so nothing half-done is
 * delivered; the master starts a new worker. Other connections, served by
 * other processes, never notice.
 */

/* mw_guard_install - signal handlers, once per worker; @memory_limit bytes of
 * data segment (RLIMIT_DATA) for the worker, 0 for none */
void mw_guard_install(guint64 memory_limit);

/* mw_guard_begin - arm for the client on @fd: the watchdog fires after @seconds of
 * wall time, the CPU limit after @cpu_seconds of CPU time (0 = none for either) */
void mw_guard_begin(int fd, guint seconds, guint cpu_seconds);

/* mw_guard_end - disarm */
void mw_guard_end(void);

G_END_DECLS
