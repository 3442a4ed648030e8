#!/bin/sh
# Checks that a shared library exports its public API only:
#   check_exports.sh LIB REQUIRED_SYMBOL...
# Fails when it exports an internal (anything in a diskcache "detail"
# namespace), a C symbol (e.g. SQLite's or hiredis's, or an unmarked helper),
# or lacks one of the REQUIRED_SYMBOLs (demangled prefixes of public API).
# Template instantiations of the standard library that name public types are
# exported by the toolchain (vague linkage) and are allowed.
set -eu
lib=$1
shift
symbols=$(nm -D --defined-only -C "$lib" | cut -c20-)
status=0
internal=$(printf '%s\n' "$symbols" | grep -E '^((typeinfo( name)?|vtable|VTT|guard variable) for )?diskcache::([a-z_]+::)*detail::' || true)
if [ -n "$internal" ]; then
  echo "$lib exports internals:"; printf '%s\n' "$internal" | head -20; status=1
fi
c_symbols=$(printf '%s\n' "$symbols" | grep -v '::' || true)
if [ -n "$c_symbols" ]; then
  echo "$lib exports C symbols:"; printf '%s\n' "$c_symbols" | head -20; status=1
fi
for wanted in "$@"; do
  if ! printf '%s\n' "$symbols" | grep -qF -- "$wanted"; then
    echo "$lib does not export $wanted"; status=1
  fi
done
[ $status -eq 0 ] && echo "$lib: $(printf '%s\n' "$symbols" | grep -c '^diskcache::') public symbols, no internals"
exit $status
