/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-registry - the modules built into the daemon
 * SYNOPSIS
 *	mw_registry_get
 * DESCRIPTION
 *	A static list, in the spirit of rspamd's generated modules.c: adding a
 *	module means adding its class here. The test binaries link their own
 *	registry (tests/lib/mw-registry-test.c) that adds test-only modules,
 *	so those never ship in the daemon.
 */
#include "mw-module.h"

static const MwModuleClass *const modules[] = {
	NULL,
};

const MwModuleClass *const *
mw_registry_get(void)
{
	return modules;
}
