#!/usr/bin/env bash
# clang-format, clang-tidy and cppcheck over the project's C code.
# Needs a configured build directory for clang-tidy (default: build).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
files=$(git ls-files '*.c' '*.h')
status=0

echo "== clang-format"
for f in $files; do
	clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || { echo "not formatted: $f"; status=1; }
done

echo "== clang-tidy"
[ -f "$build/compile_commands.json" ] || cmake -S . -B "$build" >/dev/null
# shellcheck disable=SC2046
clang-tidy -p "$build" --quiet $(git ls-files 'src/*.c' 'modules/*.c') >"$build/clang-tidy.log" 2>&1 ||
	{ grep -E "(error|warning):" "$build/clang-tidy.log"; status=1; }

echo "== cppcheck"
# GLib's declaration macros are empty for cppcheck's purposes
# shellcheck disable=SC2046
cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability --inline-suppr \
	--suppress=missingIncludeSystem -D__GNUC__ \
	-D'G_DEFINE_AUTOPTR_CLEANUP_FUNC(a,b)=' -D'G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(a,b)=' \
	-D'G_GNUC_PRINTF(a,b)=' -D'G_GNUC_FORMAT(a)=' -D'G_GNUC_NORETURN=' \
	-D'G_DECLARE_FINAL_TYPE(a,b,c,d,e)=' -D'G_DEFINE_TYPE(a,b,c)=' \
	-DG_BEGIN_DECLS= -DG_END_DECLS= \
	-Isrc -Isrc/smtp -Itests/lib $(git ls-files 'src/*.c' 'modules/*.c' 'tests/*.c') || status=1

exit $status
