/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	fuzz-config - the configuration loader on arbitrary files
 * DESCRIPTION
 *	Loading either succeeds with a usable configuration or fails with a
 *	message; nothing in between, never a crash. Module sections of the
 *	test registry are included, so option tables are exercised too.
 */
#include <stdint.h>

#include "mw-config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	g_autofree char *text = g_strndup((const char *) data, size);
	g_autoptr(GError) error = NULL;
	g_autoptr(MwConfig) config = mw_config_load_data(text, NULL, &error);
	if (config == NULL && (error == NULL || error->message[0] == '\0'))
		__builtin_trap();
	if (config != NULL && (config->listen == NULL || config->hostname == NULL))
		__builtin_trap();
	return 0;
}
