/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-module - the module registry, looked up by name
 * SYNOPSIS
 *	mw_registry_lookup(), mw_on_error_names[]
 * DESCRIPTION
 *	The registry itself (mw_registry_get()) is defined once per binary:
 *	src/mw-registry.c lists the real modules for the daemon, the test
 *	binaries list test modules. This file only searches it, and names the
 *	on_error values as they are spelled in the config (indexed by MwOnError).
 * SEE ALSO
 *	mw-module.h, mw-config.c
 */
#include "mw-module.h"

const char *const mw_on_error_names[] = {"tempfail", "pass", "reject", NULL};

/**
 * mw_registry_lookup:
 * @name: (nullable): a module name, as in modules= and section names (exact, case-sensitive)
 *
 * Returns: (transfer none) (nullable): the class, or NULL if this binary has no such module
 */
const MwModuleClass *
mw_registry_lookup(const char *name)
{
	const MwModuleClass *const *registry = mw_registry_get();

	if (name == NULL || registry == NULL)
		return NULL;
	for (guint i = 0; registry[i] != NULL; i++) {
		if (g_strcmp0(registry[i]->name, name) == 0)
			return registry[i];
	}
	return NULL;
}
