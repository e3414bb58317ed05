/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MW_ERROR (mw_error_quark())

/**
 * MwErrorCode:
 * @MW_ERROR_CONFIG: bad configuration (startup, --check-config)
 * @MW_ERROR_PROTOCOL: the peer broke the protocol (syntax, sequence)
 * @MW_ERROR_IO: a read, write or file operation failed
 * @MW_ERROR_TEMPORARY: try again later (downstream 4xx, timeout, out of resources)
 * @MW_ERROR_PERMANENT: will never work (downstream 5xx)
 * @MW_ERROR_BACKEND: a module's backend (clamd, spamd, keyring, store) failed
 * @MW_ERROR_POLICY: refused by policy
 */
typedef enum {
	MW_ERROR_CONFIG,
	MW_ERROR_PROTOCOL,
	MW_ERROR_IO,
	MW_ERROR_TEMPORARY,
	MW_ERROR_PERMANENT,
	MW_ERROR_BACKEND,
	MW_ERROR_POLICY,
} MwErrorCode;

GQuark mw_error_quark(void);

G_END_DECLS
