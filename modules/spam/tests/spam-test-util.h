/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/*
 * Helpers of the spam module's suites that run the pipeline in-process:
 * a config with modules = spam, a txn run through the pipeline, the bytes
 * of a delivery, a header of them, the spam= note; and starting/stopping
 * helper daemons (dnsmasq, spamd, rspamd) by pid.
 */
#include <sys/types.h>

#include "mw-txn.h"

G_BEGIN_DECLS

/* stu_load - [mailwarden] (state_dir @dir, hostname mw.test, modules = spam) + [spam] @lines */
MwConfig *stu_load(const char *dir, const char *lines, char **error_out);
/* stu_run - the pipeline on @text for @rcpts from @sender; XFORWARD ADDR/HELO when not NULL */
MwTxn *stu_run(MwConfig *config, const char *text, const char *sender, const char *const *rcpts,
	       const char *client_addr, const char *helo);
/* stu_delivered - the bytes of delivery number @n (1-based) after the pipeline */
char *stu_delivered(MwTxn *txn, guint n);
/* stu_header - the first (decoded) value of header @name of @text, or NULL */
char *stu_header(const char *text, const char *name);
/* stu_note - the text of the spam= note, or NULL */
const char *stu_note(MwTxn *txn);

/* stu_spawn - start @argv (stdout and stderr to @log), killed with SIGKILL when the test
 * process dies (PR_SET_PDEATHSIG); returns the pid */
pid_t stu_spawn(const char *const *argv, const char *log);
/* stu_stop - SIGTERM, wait up to 5 s, SIGKILL, reap */
void stu_stop(pid_t pid);
/* stu_wait_tcp - until 127.0.0.1:@port accepts (or @pid died / @ms passed); TRUE if it does */
gboolean stu_wait_tcp(guint16 port, pid_t pid, guint ms);
/* stu_free_port - a free loopback TCP port */
guint16 stu_free_port(void);

G_END_DECLS
