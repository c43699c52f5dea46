#!/bin/sh
# check_exports.sh LIB HEADER — libodet exports exactly the functions odet.h declares ODET_API:
# every dynamic symbol libodet defines starts with odet_, every ODET_API function of the
# header is among them, and no function of the header lacks ODET_API. Prints the count; exit 1 on any difference.
set -eu
LIB=$1
HDR=$2
T=${TMPDIR:-/tmp}/odet_exports.$$
trap 'rm -f "$T".*' EXIT
nm -D --defined-only "$LIB" | awk '{print $NF}' | sed 's/@.*//' | sort -u >"$T.lib"
# declarations: "ODET_API <type> [*]odet_name(" on one line
sed -n 's/^ODET_API[^(]*[ *]\(odet_[A-Za-z0-9_]*\)(.*/\1/p' "$HDR" | sort -u >"$T.hdr"
fail=0
# a declaration without ODET_API would be hidden: callers outside libodet could not link it
bare=$(grep -nE '^(const |unsigned |struct )?[A-Za-z_][A-Za-z0-9_]*[ *]+odet_[A-Za-z0-9_]*\(' "$HDR" | grep -v typedef || true)
if [ -n "$bare" ]; then
	echo "declared without ODET_API in $HDR:"; echo "$bare"; fail=1
fi
others=$(grep -v '^odet_' "$T.lib" || true)
if [ -n "$others" ]; then
	echo "exported but not odet_*:"; echo "$others" | head -20; fail=1
fi
extra=$(comm -23 "$T.lib" "$T.hdr")
if [ -n "$extra" ]; then
	echo "exported but not declared ODET_API in $HDR:"; echo "$extra"; fail=1
fi
missing=$(comm -13 "$T.lib" "$T.hdr")
if [ -n "$missing" ]; then
	echo "declared ODET_API but not exported:"; echo "$missing"; fail=1
fi
echo "$(wc -l <"$T.lib") symbols exported, $(wc -l <"$T.hdr") declared"
exit $fail
