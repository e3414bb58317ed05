/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-registry-test - the modules of the test binaries
 * SYNOPSIS
 *	mw_registry_get
 * DESCRIPTION
 *	The daemon's modules plus the test-only modules of mw-test-modules.c,
 *	which prove each capability of the module interface end to end.
 */
#include "mw-module.h"
#include "mw-test-modules.h"

static const MwModuleClass *const modules[] = {
	&mw_test_split_module,  &mw_test_consume_module,
	&mw_test_emit_module,   &mw_test_verdict_module,
	&mw_test_error_module,  &mw_test_crash_module,
	&mw_test_modify_module, NULL,
};

const MwModuleClass *const *
mw_registry_get(void)
{
	return modules;
}
