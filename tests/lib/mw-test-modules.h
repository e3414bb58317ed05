/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "mw-module.h"

extern const MwModuleClass mw_test_split_module;
extern const MwModuleClass mw_test_consume_module;
extern const MwModuleClass mw_test_emit_module;
extern const MwModuleClass mw_test_verdict_module;
extern const MwModuleClass mw_test_error_module;
extern const MwModuleClass mw_test_crash_module;
extern const MwModuleClass mw_test_modify_module;
