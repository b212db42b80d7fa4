#!/bin/sh
# Compiles the exec helper (nsexec.c, the project's only C; see its header for why).
# Usage: build-native.sh OUT   (the package build uses dist/exec/corral-nsexec)
set -eu
out=${1:?usage: build-native.sh OUT}
src="$(dirname "$0")/nsexec.c"
mkdir -p "$(dirname "$out")"
# Build next to the target and rename, so a running helper is never half-written.
${CC:-cc} -O2 -Wall -Wextra -Werror -o "$out.tmp.$$" "$src"
mv -f "$out.tmp.$$" "$out"
