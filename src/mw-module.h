/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "mw-option.h"

G_BEGIN_DECLS

#define MW_MODULE_ABI 1

typedef struct _MwModule MwModule;
typedef struct _MwTxn MwTxn;
typedef struct _MwConfig MwConfig;

/* what the pipeline does when a module's process() fails (its backend is down) */
typedef enum {
	MW_ON_ERROR_TEMPFAIL = 0, /* 4xx: Postfix keeps the mail and retries */
	MW_ON_ERROR_PASS,         /* log and go on as if the module had said nothing */
	MW_ON_ERROR_REJECT,       /* 5xx */
} MwOnError;

/**
 * MwModuleClass:
 * @name: config section, log domain suffix, tag in the summary line
 * @abi: MW_MODULE_ABI
 * @options: the section's keys (every module section also accepts
 *   "on_error = tempfail | pass | reject", handled by the core)
 * @config_size: size of the struct @options fill (module->config)
 * @on_error_default: default of the on_error key
 * @configure: (nullable): checks across keys, derived settings; runs in the
 *   master at load time and for --check-config. May set module->priv.
 * @start: (nullable): heavy shared state loaded once before workers fork
 *   (a signature database); SIGHUP loads a new generation
 * @check: (nullable): --check-config probes of backends (PING clamd)
 * @worker_init: (nullable): per-worker state after fork (connections, contexts)
 * @process: the per-message hook (see below)
 * @worker_exit: (nullable): undo worker_init
 * @finalize: (nullable): free module->priv
 * @command: (nullable): offline commands of the module's own ("learn" for
 *   spam): called for a command the core does not know with argv[0] the
 *   command; returns FALSE if it is not the module's, else sets *exit_code
 *
 * process() sees the recipients still active (no final verdict yet), reads the
 * message through the txn, records verdicts with mw_txn_verdict(), edits
 * through mw_delivery_edit_mime(), emits with mw_txn_emit(), and notes its
 * result with mw_txn_note(). It returns FALSE with @error only when it could
 * not do its job (backend down); the pipeline then applies on_error and logs
 * why. A module never talks to the network to deliver mail itself.
 */
typedef struct {
	const char *name;
	guint abi;
	const MwOption *options;
	gsize config_size;
	MwOnError on_error_default;
	gboolean (*configure)(MwModule *module, GError **error);
	gboolean (*start)(MwModule *module, GError **error);
	gboolean (*check)(MwModule *module, GError **error);
	gboolean (*worker_init)(MwModule *module, GError **error);
	gboolean (*process)(MwModule *module, MwTxn *txn, GError **error);
	void (*worker_exit)(MwModule *module);
	void (*finalize)(MwModule *module);
	gboolean (*command)(MwModule *module, int argc, char **argv, int *exit_code);
} MwModuleClass;

/**
 * MwModule:
 * @klass: the class
 * @index: position in the pipeline (the txn's module-data slot)
 * @config: (type gpointer): the filled option struct, klass->config_size bytes
 * @priv: the module's own state
 * @on_error: from the section's on_error key
 * @core: the whole configuration ([mailwarden] settings), borrowed
 */
struct _MwModule {
	const MwModuleClass *klass;
	guint index;
	gpointer config;
	gpointer priv;
	MwOnError on_error;
	const MwConfig *core;
};

/* mw_registry_get - the modules this binary was built with, NULL-terminated
 * (src/mw-registry.c for the daemon; the test binaries add test modules) */
const MwModuleClass *const *mw_registry_get(void);
const MwModuleClass *mw_registry_lookup(const char *name);

extern const char *const mw_on_error_names[];

G_END_DECLS
