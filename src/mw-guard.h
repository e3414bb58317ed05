/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * The per-message guard of a worker process: while a message is processed,
 * a crash (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT) or the watchdog (the
 * message took longer than allowed) answers the waiting client 451 with one
 * write(2) from the signal handler and ends the process. The downstream
 * connections die with it before any final dot, so nothing half-done is
 * delivered; the master starts a new worker. Other connections, served by
 * other processes, never notice.
 */

/* mw_guard_install - signal handlers, once per worker */
void mw_guard_install(void);

/* mw_guard_begin - arm for the client on @fd; the watchdog fires after @seconds (0 = none) */
void mw_guard_begin(int fd, guint seconds);

/* mw_guard_end - disarm */
void mw_guard_end(void);

G_END_DECLS
