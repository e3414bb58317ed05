/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * NAME
 *	mw-error - the MW_ERROR GError domain
 *
 * SYNOPSIS
 *	GQuark mw_error_quark(void);
 *
 * DESCRIPTION
 *	Defines the quark of the error domain used by every mailwarden
 *	component; the codes are in mw-error.h (MwErrorCode).
 */

#include "mw-error.h"

/* clang-format off */
G_DEFINE_QUARK(mw-error-quark, mw_error)
/* clang-format on */
